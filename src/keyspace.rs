//! Interned keys: each key name is hashed onto the ring once and then named by a [`KeyId`].

use crate::ids::KeyId;
use crate::ring::key_position;

#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    names: Vec<String>,
    positions: Vec<u128>,
}

impl KeyTable {
    /// The workload's keys `k0 .. k{count-1}`.
    pub fn with_workload_keys(count: usize) -> KeyTable {
        let mut t = KeyTable::default();
        for i in 0..count {
            t.intern(format!("k{i}"));
        }
        t
    }

    /// Adds a key (names are not checked for repeats: callers make fresh names).
    pub fn intern(&mut self, name: String) -> KeyId {
        let id = KeyId(self.names.len() as u32);
        self.positions.push(key_position(&name));
        self.names.push(name);
        id
    }

    pub fn position(&self, key: KeyId) -> u128 {
        self.positions[key.index()]
    }

    pub fn name(&self, key: KeyId) -> &str {
        &self.names[key.index()]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}
