//! Named random streams derived from one master seed.
//!
//! Every consumer of randomness asks [`Seeds`] for its own stream by purpose and index
//! (network, workload, faults, node i, client i). A stream's seed is derived by hashing
//! `(master seed, purpose, index)` rather than drawn from a master stream, so adding a draw in
//! one part of the simulation never reshuffles another part: this is what makes common random
//! numbers across sweep configurations possible. No other module constructs an RNG.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The purposes that own a random stream.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Network,
    Workload,
    Faults,
    Node,
    Client,
    Ring,
    Probe,
    /// Service times of node i (apart from node i's protocol choices).
    Service,
    /// Disk write times of node i.
    Disk,
    /// A schedule search's own draws (PCT's priorities), apart from the run's.
    Schedule,
}

impl Stream {
    fn tag(self) -> u64 {
        match self {
            Stream::Network => 0x6e65_7477_6f72_6b00,
            Stream::Workload => 0x776f_726b_6c6f_6164,
            Stream::Faults => 0x6661_756c_7473_0000,
            Stream::Node => 0x6e6f_6465_0000_0000,
            Stream::Client => 0x636c_6965_6e74_0000,
            Stream::Ring => 0x7269_6e67_0000_0000,
            Stream::Probe => 0x7072_6f62_6500_0000,
            Stream::Service => 0x7365_7276_6963_6500,
            Stream::Disk => 0x6469_736b_0000_0000,
            Stream::Schedule => 0x7363_6865_6475_6c65,
        }
    }
}

/// The master seed; hands out independent ChaCha streams.
#[derive(Copy, Clone, Debug)]
pub struct Seeds {
    master: u64,
}

/// The random stream type used everywhere in the simulation.
pub type SimRng = ChaCha8Rng;

/// SplitMix64's finalizer: a bijection on u64 that scatters its input.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Seeds {
    pub fn new(master: u64) -> Self {
        Seeds { master }
    }

    pub fn master(&self) -> u64 {
        self.master
    }

    /// The stream for `(purpose, index)`; the same triple always gives the same stream.
    pub fn stream(&self, purpose: Stream, index: u64) -> SimRng {
        let mut key = [0u8; 32];
        let mut state = splitmix64(self.master ^ splitmix64(purpose.tag()));
        state = splitmix64(state ^ splitmix64(index.wrapping_add(0x1234_5678)));
        for chunk in key.chunks_mut(8) {
            state = splitmix64(state);
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        ChaCha8Rng::from_seed(key)
    }
}

/// Anything that hands out uniform 64-bit words: the ChaCha streams, and the cheap per-message
/// generator the network seeds from one ChaCha draw.
pub trait Draw {
    fn next_word(&mut self) -> u64;
}

impl Draw for SimRng {
    fn next_word(&mut self) -> u64 {
        self.next_u64()
    }
}

/// SplitMix64: a tiny generator seeded from one draw of a stream, so that one decision (a
/// message's loss, duplication and delay) costs its stream exactly one draw whatever it needs.
pub struct SplitMix(pub u64);

impl Draw for SplitMix {
    fn next_word(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix64(self.0.wrapping_sub(0x9e37_79b9_7f4a_7c15))
    }
}

/// A uniform draw in [0, 1) with 53 bits of precision.
pub fn unit(rng: &mut impl Draw) -> f64 {
    (rng.next_word() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw in (0, 1], safe to take the logarithm of.
pub fn unit_open0(rng: &mut impl Draw) -> f64 {
    1.0 - unit(rng)
}

/// A uniform index in [0, n); n must be positive. Uses rejection so every index is equally likely.
pub fn index(rng: &mut impl Draw, n: usize) -> usize {
    debug_assert!(n > 0);
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_word();
        if x < zone {
            return (x % n) as usize;
        }
    }
}

/// True with probability `p`.
pub fn chance(rng: &mut impl Draw, p: f64) -> bool {
    p > 0.0 && unit(rng) < p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_purpose_same_stream_and_purposes_differ() {
        let s = Seeds::new(42);
        let a: Vec<u64> = (0..4).map(|_| 0).scan(s.stream(Stream::Network, 0), |r, _: u64| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..4).map(|_| 0).scan(s.stream(Stream::Network, 0), |r, _: u64| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(s.stream(Stream::Network, 0).next_u64(), s.stream(Stream::Workload, 0).next_u64());
        assert_ne!(s.stream(Stream::Node, 1).next_u64(), s.stream(Stream::Node, 2).next_u64());
        assert_ne!(Seeds::new(1).stream(Stream::Node, 1).next_u64(), Seeds::new(2).stream(Stream::Node, 1).next_u64());
    }

    #[test]
    fn index_and_unit_stay_in_range() {
        let mut r = Seeds::new(7).stream(Stream::Workload, 0);
        for _ in 0..10_000 {
            assert!(index(&mut r, 7) < 7);
            let u = unit(&mut r);
            assert!((0.0..1.0).contains(&u));
            assert!(unit_open0(&mut r) > 0.0);
        }
    }
}
