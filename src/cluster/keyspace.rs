//! Interned keys: each key name is hashed onto the ring once and then named by a [`KeyId`].

use crate::cluster::ring::key_position;
use crate::sim::ids::KeyId;
use std::fmt::Write;

#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    /// Every name, end to end: a million short names as separate strings cost 40 bytes each
    /// and an allocation, against about seven bytes here.
    names: String,
    /// Where each key's name ends in `names`.
    name_ends: Vec<u32>,
    positions: Vec<u128>,
}

impl KeyTable {
    /// The workload's keys `k0 .. k{count-1}`.
    pub fn with_workload_keys(count: usize) -> KeyTable {
        let mut t = KeyTable::default();
        let mut name = String::new();
        for i in 0..count {
            name.clear();
            write!(name, "k{i}").expect("writing to a String cannot fail");
            t.intern(&name);
        }
        t
    }

    /// Adds a key (names are not checked for repeats: callers make fresh names).
    pub fn intern(&mut self, name: &str) -> KeyId {
        let id = KeyId(self.name_ends.len() as u32);
        self.positions.push(key_position(name));
        self.names.push_str(name);
        self.name_ends.push(self.names.len() as u32);
        id
    }

    pub fn position(&self, key: KeyId) -> u128 {
        self.positions[key.index()]
    }

    pub fn name(&self, key: KeyId) -> &str {
        let start = match key.index() {
            0 => 0,
            i => self.name_ends[i - 1] as usize,
        };
        &self.names[start..self.name_ends[key.index()] as usize]
    }

    pub fn len(&self) -> usize {
        self.name_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.name_ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_positions_come_back_by_id() {
        let mut t = KeyTable::with_workload_keys(12);
        let probe = t.intern("probe-3-0");
        assert_eq!((t.len(), probe), (13, KeyId(12)));
        assert_eq!([t.name(KeyId(0)), t.name(KeyId(11)), t.name(probe)], ["k0", "k11", "probe-3-0"]);
        assert_eq!(t.position(KeyId(11)), key_position("k11"));
        assert_eq!(t.position(probe), key_position("probe-3-0"));
    }
}
