//! A hash map with a fixed, seedless hasher, for lookups on the hot path.
//!
//! std's default hasher is randomly seeded per process, so iterating its maps would make output
//! order vary between runs. These maps are only ever used for lookup by key; nothing iterates
//! them where the order could reach events or output (use BTreeMap or Vec for that).

use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's hasher): fast for small integer keys, deterministic.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FastMap<K, V> = std::collections::hash_map::HashMap<K, V, BuildHasherDefault<FxHasher>>;
