//! Cassandra's read path, beside Dynamo's: digest reads, speculative retry, and refusing a
//! request the failure detector already deems unavailable.
//!
//! - **Digest reads.** Of the replicas a get asks, one (the coordinator itself when it is a
//!   replica) returns data and the others only a digest of what they hold. When every digest
//!   matches the data, the coordinator answers from it; a mismatch costs a second round, a full
//!   read from each replica whose digest differed, before the answer and the read repair.
//! - **Speculative retry.** A get asks R replicas (`fanout: read_quorum`); when they have not
//!   all answered after the `speculative_retry` threshold (by default the 99th percentile of the
//!   replica reads this coordinator has timed lately), it asks one more replica of the key's
//!   top N.
//! - **Unavailable before sending.** With `unavailable_when_suspected`, a coordinator whose
//!   failure detector suspects so many of the key's replicas that the request's level cannot be
//!   met answers Unavailable at once, as Cassandra's `UnavailableException`, where Dynamo's
//!   coordinator would ask and time out.

use crate::node::protocol::SpeculativeRetry;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::NodeId;
use std::collections::VecDeque;
use tinyvec::TinyVec;

/// What a get keeps for Cassandra's read path.
pub(super) struct CassandraRead {
    /// The digests replicas answered with (N = 3 and R = 2 make one).
    pub(super) digests: TinyVec<[(NodeId, u64); 2]>,
    /// The key's top-N replicas not asked, in order: speculative retry's.
    pub(super) unasked: TinyVec<[NodeId; 2]>,
    pub(super) sent_at: SimTime,
}

/// How many recent replica reads the percentile is taken over, and how often it is taken.
const WINDOW: usize = 1024;
const RECOMPUTE_EVERY: u32 = 128;
/// Below this many samples there is no percentile yet, and no speculation.
const MIN_SAMPLES: usize = 100;

/// The replica read latencies a coordinator has seen lately, and the threshold they give.
#[derive(Default)]
pub(super) struct ReadLatencies {
    recent: VecDeque<u64>,
    since_recomputed: u32,
    threshold: Option<SimDuration>,
}

impl ReadLatencies {
    /// A replica answered a read `took` after it was asked.
    pub(super) fn record(&mut self, retry: SpeculativeRetry, took: SimDuration) {
        let SpeculativeRetry::Percentile(p) = retry else { return };
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(took.as_nanos());
        self.since_recomputed += 1;
        if self.recent.len() >= MIN_SAMPLES && (self.threshold.is_none() || self.since_recomputed >= RECOMPUTE_EVERY) {
            let mut sorted: Vec<u64> = self.recent.iter().copied().collect();
            sorted.sort_unstable();
            let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            self.threshold = Some(SimDuration(sorted[rank - 1]));
            self.since_recomputed = 0;
        }
    }

    /// How long a get waits for the replicas it asked before asking one more; none until the
    /// coordinator has timed enough reads for a percentile.
    pub(super) fn threshold(&self, retry: SpeculativeRetry) -> Option<SimDuration> {
        match retry {
            SpeculativeRetry::After(d) => Some(d),
            SpeculativeRetry::Percentile(_) => self.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_the_percentile_of_recent_reads_once_there_are_enough() {
        let retry = SpeculativeRetry::Percentile(0.99);
        let mut lat = ReadLatencies::default();
        for i in 1..MIN_SAMPLES as u64 {
            lat.record(retry, SimDuration(i));
        }
        assert_eq!(lat.threshold(retry), None, "too few reads timed");
        lat.record(retry, SimDuration(MIN_SAMPLES as u64));
        assert_eq!(lat.threshold(retry), Some(SimDuration(99)), "the 99th of 1..=100");
        // A slower spell moves it once the window has turned over.
        for _ in 0..WINDOW {
            lat.record(retry, SimDuration(1_000));
        }
        assert_eq!(lat.threshold(retry), Some(SimDuration(1_000)));
        let fixed = SpeculativeRetry::After(SimDuration(7));
        assert_eq!(ReadLatencies::default().threshold(fixed), Some(SimDuration(7)));
    }
}
