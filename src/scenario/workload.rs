//! The workload section's validated form: which keys, how often each is chosen, what a write
//! writes, how operations arrive, and the staleness probe. The world's clients run it.

use crate::node::cart::CartMerge;
use crate::node::consistency::ConsistencyLevel;
use crate::sim::distribution::Distribution;
use crate::sim::engine::SimDuration;
use crate::sim::rng::{unit, SimRng};

#[derive(Clone, Debug, PartialEq)]
pub enum KeyPopularity {
    Uniform,
    Zipf {
        exponent: f64,
    },
    /// `access_fraction` of operations go to the first `key_fraction` of the keys.
    HotSet {
        key_fraction: f64,
        access_fraction: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueModel {
    /// With `read_before_write`, each write first reads the key and writes with that read's
    /// context (the paper's get-then-put); without it, a write uses whatever context the client
    /// last saw for the key (none if it never read it, which makes a blind, concurrent write).
    Register {
        read_before_write: bool,
    },
    Cart {
        remove_probability: f64,
        merge: CartMerge,
    },
}

/// What a client remembers between operations, and whether it reads before it writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientSemantics {
    /// A session per key: every read and write's context is merged into what the client has
    /// seen, and its next write carries all of it (and, for carts, every item it has seen).
    Session,
    /// Jepsen's plain client: read, apply the change to what the read returned, write back with
    /// that read's context; nothing is remembered from one operation to the next.
    ReadModifyWrite,
    /// Writes without reading and without a context: a register's fresh value, a cart holding
    /// only the new item.
    Blind,
}

/// The consistency levels a workload's gets (or puts) draw from, with their probabilities, in
/// the levels' own order (so the order in the file does not change a run). Empty: every request
/// uses the scenario's R or W.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LevelMix {
    /// (level, cumulative probability), the last at 1.
    levels: Vec<(ConsistencyLevel, f64)>,
}

impl LevelMix {
    /// From (level, probability) pairs in the levels' order, the probabilities summing to 1.
    pub fn new(weights: &[(ConsistencyLevel, f64)]) -> LevelMix {
        let mut acc = 0.0;
        let mut levels: Vec<(ConsistencyLevel, f64)> = weights
            .iter()
            .map(|&(l, p)| {
                acc += p;
                (l, acc)
            })
            .collect();
        if let Some(last) = levels.last_mut() {
            last.1 = 1.0;
        }
        LevelMix { levels }
    }

    /// The level of the next request: no draw at all when the mix has fewer than two levels.
    pub fn draw(&self, rng: &mut SimRng) -> Option<ConsistencyLevel> {
        match self.levels.as_slice() {
            [] => None,
            [(only, _)] => Some(*only),
            many => {
                let u = unit(rng);
                many.iter().find(|(_, c)| u < *c).or(many.last()).map(|(l, _)| *l)
            }
        }
    }

    /// True when every request uses the scenario's R or W.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn levels(&self) -> impl Iterator<Item = ConsistencyLevel> + '_ {
        self.levels.iter().map(|(l, _)| *l)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// `clients` sessions, each issuing its next operation a think time after the last ended.
    Closed { clients: usize, think_time: Distribution },
    /// Poisson arrivals at `rate_per_s` (times the profile's factor at each moment, if any),
    /// spread over `clients` sessions in turn.
    Open { rate_per_s: f64, clients: usize, profile: Option<RateProfile> },
}

/// How an open workload's rate varies over simulated time, as a factor of its `rate_per_s`.
#[derive(Clone, Debug, PartialEq)]
pub enum RateProfile {
    /// 1 + amplitude × cos(2π (t − peak) / period): a day's load, peaking at `peak`, whose mean
    /// over a whole period is `rate_per_s`.
    Diurnal { period_ns: u64, amplitude: f64, peak_ns: u64 },
    /// Piecewise constant: each step's factor holds from its start until the next step's (the
    /// first from time zero).
    Steps(Vec<(u64, f64)>),
}

impl RateProfile {
    /// The factor at time `t_ns`.
    pub fn factor(&self, t_ns: u64) -> f64 {
        match self {
            RateProfile::Diurnal { period_ns, amplitude, peak_ns } => {
                let phase = (t_ns as f64 - *peak_ns as f64) / *period_ns as f64;
                1.0 + amplitude * (std::f64::consts::TAU * phase).cos()
            }
            RateProfile::Steps(steps) => steps.iter().rev().find(|(from, _)| *from <= t_ns).map_or(steps[0].1, |s| s.1),
        }
    }

    /// The largest factor at any time.
    pub fn max_factor(&self) -> f64 {
        match self {
            RateProfile::Diurnal { amplitude, .. } => 1.0 + amplitude,
            RateProfile::Steps(steps) => steps.iter().map(|s| s.1).fold(0.0, f64::max),
        }
    }

    /// The mean factor over `[0, end_ns)`.
    pub fn mean_factor(&self, end_ns: u64) -> f64 {
        const SAMPLES: u64 = 10_000;
        (0..SAMPLES).map(|i| self.factor(end_ns / SAMPLES * i + end_ns / SAMPLES / 2)).sum::<f64>() / SAMPLES as f64
    }
}

impl Arrivals {
    /// Without `workload.arrivals`: ten closed-loop clients, each thinking 10 ms on average.
    pub const DEFAULT_CLOSED: Arrivals =
        Arrivals::Closed { clients: 10, think_time: Distribution::Exponential { mean_ms: 10.0, offset_ms: 0.0 } };

    /// The workload's client sessions (probe clients come on top).
    pub fn clients(&self) -> usize {
        match self {
            Arrivals::Closed { clients, .. } | Arrivals::Open { clients, .. } => *clients,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    pub key_count: usize,
    pub popularity: KeyPopularity,
    pub read_fraction: f64,
    /// Operations that delete their key (writing a tombstone), as a fraction of all operations.
    pub delete_fraction: f64,
    pub value_model: ValueModel,
    /// Each written object's size (a cart's items add to it).
    pub value_bytes: ValueBytes,
    pub client_semantics: ClientSemantics,
    /// Operations on a key never overlap: each takes the key's client-side lock (Jepsen's
    /// second Riak test); see [`crate::world::key_lock`].
    pub key_lock: bool,
    /// Consistency levels for the workload's gets and puts (probes use R and W).
    pub get_levels: LevelMix,
    pub put_levels: LevelMix,
    /// Clients send requests to coordinators in their own datacenter, like Cassandra's
    /// datacenter-aware drivers.
    pub local_coordinators: bool,
    pub arrivals: Arrivals,
    pub client_timeout: SimDuration,
    /// After a request times out, the client avoids that coordinator for this long.
    pub avoid_after_timeout: SimDuration,
    /// How many times a client resends an operation whose coordinator timed out, each time to
    /// the next node it does not avoid (Dynamo's client failover); 0 fails it at once.
    pub client_retries: u8,
    /// Keys a client library keeps a session (context, what it has seen) for; beyond them it
    /// forgets the least recently used, and so does the oracle's judgement of its sessions.
    pub session_keys_per_client: usize,
    /// How often a partition-aware client library (preference-list-head or client-driven
    /// coordination) fetches the membership; between fetches it routes by the ring it last saw.
    /// Zero: it always knows the current ring.
    pub client_ring_refresh: SimDuration,
}

/// A written object's size in bytes: the paper's objects are "usually less than 1 MB",
/// typically kilobytes; YCSB's default record is 1 KB (ten fields of 100 bytes).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum ValueBytes {
    Constant(u32),
    /// Lognormal, cut at [`ValueBytes::MAX`].
    LogNormal {
        median: f64,
        sigma: f64,
    },
}

impl ValueBytes {
    pub const DEFAULT: ValueBytes = ValueBytes::Constant(1024);
    pub const MAX: u32 = 1 << 20;

    pub fn draw(&self, rng: &mut impl crate::sim::rng::Draw) -> u32 {
        match *self {
            ValueBytes::Constant(b) => b,
            ValueBytes::LogNormal { median, sigma } => {
                let d = crate::sim::distribution::Distribution::LogNormal { median_ms: median, sigma };
                // The distribution draws in milliseconds; here its unit is the byte.
                d.sample_ms(rng).round().clamp(0.0, ValueBytes::MAX as f64) as u32
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    pub clients: usize,
    /// Delays between a write's acknowledgement and the read, cycled in order.
    pub delays: Vec<SimDuration>,
    /// Pause between one probe's end and the next probe's write.
    pub gap: Distribution,
    /// Writes each probe makes to its key, one after another, before its read (PBS's
    /// k-staleness: is the read within k versions of the last?).
    pub versions: usize,
}
