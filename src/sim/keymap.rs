//! A hash map from interned keys to values, for the largest per-key tables (a node's store, a
//! client's sessions).
//!
//! Open addressing with linear probing: a key and its value sit together in one slot, so a
//! lookup in a table far larger than the cache usually costs one miss, where std's map (SwissTable)
//! reads a control byte and then the slot, two misses; those two were most of the time of a
//! node's local read and of a client's reply handling. Removal shifts later entries back, so no
//! tombstones build up. Iteration order is the slot order: deterministic, but not meaningful;
//! nothing iterates these maps where order could reach events or output (see `fastmap`).

use crate::sim::ids::KeyId;

pub struct KeyMap<V> {
    slots: Vec<Option<(KeyId, V)>>,
    len: usize,
    /// 64 minus log2 of the capacity: the home slot is the top bits of a multiplicative hash.
    shift: u32,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap { slots: Vec::new(), len: 0, shift: 64 }
    }
}

/// Smallest capacity once anything is stored.
const MIN_CAPACITY: usize = 8;

impl<V> KeyMap<V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Fibonacci hashing: interned ids are small dense integers, which this spreads evenly.
    fn home(&self, key: KeyId) -> usize {
        ((key.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The slot holding `key`, or the empty slot where it would go. The table must not be empty.
    fn find(&self, key: KeyId) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            match &self.slots[i] {
                None => return Err(i),
                Some((k, _)) if *k == key => return Ok(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    pub fn get(&self, key: &KeyId) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        match self.find(*key) {
            Ok(i) => self.slots[i].as_ref().map(|(_, v)| v),
            Err(_) => None,
        }
    }

    /// Asks the processor to start loading `key`'s home slot (a hint; no effect on contents).
    #[inline]
    pub fn prefetch(&self, key: KeyId) {
        if self.len == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let slot: *const Option<(KeyId, V)> = &self.slots[self.home(key)];
            // SAFETY: a prefetch never faults and reads nothing into the program; the address is
            // inside the live slot array anyway.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast::<i8>()) };
        }
    }

    /// Room for one more entry, keeping the load at most three quarters so probes stay short.
    fn reserve_one(&mut self) {
        if (self.len + 1) * 4 <= self.slots.len() * 3 {
            return;
        }
        let capacity = (self.slots.len() * 2).max(MIN_CAPACITY);
        let old = std::mem::replace(&mut self.slots, (0..capacity).map(|_| None).collect());
        self.shift = 64 - capacity.trailing_zeros();
        for (key, value) in old.into_iter().flatten() {
            if let Err(i) = self.find(key) {
                self.slots[i] = Some((key, value));
            }
        }
    }

    /// Stores `value` under `key`; returns the value it replaced.
    pub fn insert(&mut self, key: KeyId, value: V) -> Option<V> {
        self.reserve_one();
        match self.find(key) {
            Ok(i) => self.slots[i].replace((key, value)).map(|(_, v)| v),
            Err(i) => {
                self.slots[i] = Some((key, value));
                self.len += 1;
                None
            }
        }
    }

    /// The value under `key`, inserting `V::default()` first if there is none.
    pub fn get_or_default(&mut self, key: KeyId) -> &mut V
    where
        V: Default,
    {
        self.reserve_one();
        let (Ok(i) | Err(i)) = self.find(key);
        let len = &mut self.len;
        &mut self.slots[i]
            .get_or_insert_with(|| {
                *len += 1;
                (key, V::default())
            })
            .1
    }

    pub fn remove(&mut self, key: &KeyId) -> Option<V> {
        if self.len == 0 {
            return None;
        }
        let mut hole = self.find(*key).ok()?;
        let removed = self.slots[hole].take().map(|(_, v)| v);
        self.len -= 1;
        // Backward shift: move each later entry of the run into the hole unless its home lies
        // cyclically after the hole (then it is already as close to home as it can be).
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let home = match &self.slots[j] {
                None => break,
                Some((k, _)) => self.home(*k),
            };
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
        removed
    }

    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.len = 0;
    }

    /// Entries in slot order (deterministic, not sorted).
    pub fn iter(&self) -> impl Iterator<Item = (&KeyId, &V)> {
        self.slots.iter().flatten().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &KeyId> {
        self.iter().map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{index, Seeds, Stream};
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_an_ordered_map_through_inserts_and_removals() {
        let mut rng = Seeds::new(17).stream(Stream::Workload, 0);
        let mut map = KeyMap::default();
        let mut model = BTreeMap::new();
        for round in 0..200_000u64 {
            // Phases of growth and of shrinking, over a key range that forces long probe runs
            // and wrap-around at the table's end.
            let key = KeyId(index(&mut rng, 3_000) as u32);
            let removing = (round / 20_000) % 2 == 1;
            match index(&mut rng, 10) {
                0..=3 if removing => assert_eq!(map.remove(&key), model.remove(&key), "remove {key:?}"),
                0..=3 => assert_eq!(map.insert(key, round), model.insert(key, round), "insert {key:?}"),
                4 => {
                    *map.get_or_default(key) += 1;
                    *model.entry(key).or_default() += 1;
                }
                _ => assert_eq!(map.get(&key), model.get(&key), "get {key:?}"),
            }
            assert_eq!(map.len(), model.len());
        }
        let mut entries: Vec<(KeyId, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_unstable();
        assert_eq!(entries, model.into_iter().collect::<Vec<_>>());
        map.clear();
        assert!(map.is_empty() && map.get(&KeyId(1)).is_none() && map.iter().next().is_none());
    }

    #[test]
    fn an_empty_map_answers_without_storage() {
        let mut map: KeyMap<u8> = KeyMap::default();
        assert_eq!(map.get(&KeyId(0)), None);
        assert_eq!((map.remove(&KeyId(0)), map.len()), (None, 0));
        assert!(map.get(&KeyId(3)).is_none(), "nor any other key");
    }
}
