//! Least-recently-used order over one owner's keys, for the per-client tables that a real
//! client library bounds (its sessions' contexts; the oracle's judgement of its sessions).
//!
//! The owner keeps each entry's latest stamp; the queue holds every use, oldest first, and an
//! entry is the least recently used when the front's stamp is still its own. Stale uses are
//! dropped as they reach the front, and the queue is compacted when they outnumber live ones,
//! so each use costs O(1), amortised.

use crate::sim::ids::KeyId;
use std::collections::VecDeque;

#[derive(Clone, Debug, Default)]
pub struct Recency {
    uses: VecDeque<(KeyId, u64)>,
    next: u64,
    /// Entries the owner holds.
    len: usize,
}

impl Recency {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records a use of `key`, `new` if the owner just created its entry; returns the stamp
    /// the entry must keep.
    pub fn touch(&mut self, key: KeyId, new: bool) -> u64 {
        self.len += new as usize;
        let stamp = self.next;
        self.next += 1;
        self.uses.push_back((key, stamp));
        stamp
    }

    /// The owner removed an entry on its own.
    pub fn removed(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// While the owner holds more than `capacity` entries, the least recently used one, which
    /// the owner must then remove; `stamp_of` gives an entry's stamp, `None` if it has none.
    pub fn evict(&mut self, capacity: usize, stamp_of: impl Fn(KeyId) -> Option<u64>) -> Option<KeyId> {
        if self.len <= capacity {
            // A quarter more uses than entries at most: 16 bytes a use, for every client.
            let most = self.len + self.len / 4 + 64;
            if self.uses.len() > most {
                self.uses.retain(|&(k, s)| stamp_of(k) == Some(s));
                self.uses.shrink_to(most);
            }
            return None;
        }
        while let Some((key, stamp)) = self.uses.pop_front() {
            if stamp_of(key) == Some(stamp) {
                self.len -= 1;
                return Some(key);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_least_recently_used_key_goes_first_and_the_queue_stays_bounded() {
        let mut r = Recency::default();
        let mut held: BTreeMap<KeyId, u64> = BTreeMap::new();
        let mut evicted = Vec::new();
        let use_key = |r: &mut Recency, held: &mut BTreeMap<KeyId, u64>, evicted: &mut Vec<u32>, k: u32| {
            let key = KeyId(k);
            let stamp = r.touch(key, !held.contains_key(&key));
            held.insert(key, stamp);
            while let Some(old) = r.evict(3, |k| held.get(&k).copied()) {
                held.remove(&old);
                evicted.push(old.0);
            }
        };
        for k in [1, 2, 3, 1, 4, 5, 1] {
            use_key(&mut r, &mut held, &mut evicted, k);
        }
        // 2 is the least recently used when 4 arrives, then 3 when 5 does; 1 stays in use.
        assert_eq!(evicted, [2, 3]);
        assert_eq!(held.keys().map(|k| k.0).collect::<Vec<_>>(), [1, 4, 5]);
        assert_eq!(r.len(), 3);
        for _ in 0..10_000 {
            use_key(&mut r, &mut held, &mut evicted, 1);
        }
        assert!(r.uses.len() <= 3 + 65, "{} uses queued", r.uses.len());
    }
}
