//! Merkle trees over a node's keys in one ring range, for anti-entropy (Dynamo §4.7).
//!
//! A tree has a fixed number of leaves (a power of two); a key belongs to the leaf given by the
//! low bits of its ring position. A leaf's hash is the wrapping sum of its keys' digests, so a
//! write updates it in O(1) (subtract the old digest, add the new) and then rehashes the path to
//! the root; every hash computed is counted. Each leaf also lists its keys, so that an exchange
//! can send exactly the keys under differing leaves.

use crate::node::versioning::VersionSet;
use crate::sim::ids::KeyId;

/// Digest of one key's current versions; zero for a key with none (absent equals empty).
pub fn digest(key: KeyId, versions: &VersionSet) -> u64 {
    if versions.siblings.is_empty() {
        return 0;
    }
    let mut h = mix(0x243f_6a88_85a3_08d3 ^ key.0 as u64);
    for s in &versions.siblings {
        h = mix(h ^ ((s.dot.node.0 as u64) << 48 ^ s.dot.counter));
    }
    h
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[derive(Clone, Debug)]
pub struct MerkleTree {
    leaves: usize,
    /// Heap layout: node i has children 2i+1 and 2i+2; leaves are the last `leaves` entries.
    hashes: Box<[u64]>,
    /// Every key in the tree, grouped by leaf in leaf order and sorted within a leaf. One array
    /// rather than a list per leaf: ranges often hold a handful of keys, and a thousand-node ring
    /// has hundreds of thousands of trees, so per-leaf lists were a quarter of a large run's heap.
    keys: Vec<KeyId>,
    /// Where each leaf's keys start in `keys`; entry `leaves` is `keys.len()`.
    leaf_starts: Box<[u32]>,
}

impl MerkleTree {
    pub fn new(leaves: usize) -> MerkleTree {
        debug_assert!(leaves.is_power_of_two());
        let mut t = MerkleTree {
            leaves,
            hashes: vec![0; 2 * leaves - 1].into_boxed_slice(),
            keys: Vec::new(),
            leaf_starts: vec![0; leaves + 1].into_boxed_slice(),
        };
        // Internal nodes of an empty tree hash their empty children like any other, so that a
        // tree emptied by removals equals a new one.
        for i in (0..leaves - 1).rev() {
            t.hashes[i] = t.combine(i);
        }
        t
    }

    fn combine(&self, i: usize) -> u64 {
        let [l, r] = self.children(i);
        mix(self.hashes[l] ^ self.hashes[r].rotate_left(17))
    }

    pub fn leaf_of(&self, position: u128) -> usize {
        (position as usize) & (self.leaves - 1)
    }

    fn leaf_index(&self, leaf: usize) -> usize {
        self.leaves - 1 + leaf
    }

    pub fn is_leaf(&self, index: usize) -> bool {
        index >= self.leaves - 1
    }

    pub fn root(&self) -> u64 {
        self.hashes[0]
    }

    pub fn hash(&self, index: usize) -> u64 {
        self.hashes.get(index).copied().unwrap_or(0)
    }

    pub fn children(&self, index: usize) -> [usize; 2] {
        [2 * index + 1, 2 * index + 2]
    }

    /// The leaf number of a tree index that is a leaf.
    pub fn leaf_number(&self, index: usize) -> usize {
        index + 1 - self.leaves
    }

    pub fn keys_in_leaf(&self, leaf: usize) -> &[KeyId] {
        &self.keys[self.leaf_starts[leaf] as usize..self.leaf_starts[leaf + 1] as usize]
    }

    /// Records that `key`'s digest changed from `old` to `new`; returns hashes computed.
    pub fn update(&mut self, key: KeyId, position: u128, old: u64, new: u64) -> u64 {
        if old == new {
            return 0;
        }
        let leaf = self.leaf_of(position);
        // A key is listed exactly while its digest is not zero, so only a key that appears or
        // disappears changes the lists (a search there is a cache miss or two).
        if old == 0 || new == 0 {
            let start = self.leaf_starts[leaf] as usize;
            match self.keys_in_leaf(leaf).binary_search(&key) {
                Ok(i) if new == 0 => {
                    self.keys.remove(start + i);
                    self.leaf_starts[leaf + 1..].iter_mut().for_each(|s| *s -= 1);
                }
                Err(i) if new != 0 => {
                    self.keys.insert(start + i, key);
                    self.leaf_starts[leaf + 1..].iter_mut().for_each(|s| *s += 1);
                }
                _ => {}
            }
        }
        let mut i = self.leaf_index(leaf);
        self.hashes[i] = self.hashes[i].wrapping_sub(old).wrapping_add(new);
        let mut computed = 1;
        while i > 0 {
            i = (i - 1) / 2;
            self.hashes[i] = self.combine(i);
            computed += 1;
        }
        computed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::versioning::{CausalContext, Dot, Sibling};
    use crate::sim::engine::SimTime;
    use crate::sim::ids::{NodeId, WriteId};

    fn set(n: u32, c: u64) -> VersionSet {
        let mut v = VersionSet::default();
        v.apply_write(
            &CausalContext::default(),
            Sibling {
                dot: Dot { node: NodeId(n), counter: c },
                clock: Default::default(),
                written_at: SimTime(0),
                write: WriteId(c),
                cart: Default::default(),
                value_bytes: 0,
                tombstone: false,
            },
            SimTime(0),
        );
        v
    }

    #[test]
    fn equal_contents_give_equal_roots_whatever_the_order() {
        let (mut a, mut b) = (MerkleTree::new(8), MerkleTree::new(8));
        let items = [(KeyId(1), 11u128, set(1, 1)), (KeyId(2), 12, set(2, 1)), (KeyId(3), 19, set(1, 2))];
        for (k, p, v) in &items {
            a.update(*k, *p, 0, digest(*k, v));
        }
        for (k, p, v) in items.iter().rev() {
            b.update(*k, *p, 0, digest(*k, v));
        }
        assert_eq!(a.root(), b.root());
        assert_ne!(a.root(), 0);
        // One key's change shows at the root and only under its own leaf.
        let old = digest(KeyId(2), &items[1].2);
        b.update(KeyId(2), 12, old, digest(KeyId(2), &set(3, 7)));
        assert_ne!(a.root(), b.root());
        let differing: Vec<usize> = (0..8).filter(|&l| a.hash(7 + l) != b.hash(7 + l)).collect();
        assert_eq!(differing, vec![a.leaf_of(12)]);
        assert_eq!(a.keys_in_leaf(a.leaf_of(11)), &[KeyId(1), KeyId(3)]);
    }

    #[test]
    fn removing_a_key_restores_the_empty_root() {
        let mut t = MerkleTree::new(4);
        let d = digest(KeyId(5), &set(1, 1));
        let computed = t.update(KeyId(5), 2, 0, d);
        assert_eq!(computed, 3, "a leaf and two ancestors");
        t.update(KeyId(5), 2, d, 0);
        assert_eq!(t.root(), MerkleTree::new(4).root());
        assert!(t.keys_in_leaf(2).is_empty());
    }
    #[test]
    fn leaf_key_lists_match_a_model_through_inserts_and_removals() {
        use crate::sim::rng::{index, Seeds, Stream};
        let mut rng = Seeds::new(11).stream(Stream::Workload, 0);
        let mut tree = MerkleTree::new(8);
        let mut model: Vec<std::collections::BTreeSet<KeyId>> = vec![Default::default(); 8];
        let mut digests = std::collections::BTreeMap::new();
        for round in 0..20_000u64 {
            let key = KeyId(index(&mut rng, 200) as u32);
            let position = key.0 as u128 * 7919;
            let old = digests.get(&key).copied().unwrap_or(0);
            // Removals a third of the time, so lists empty and refill.
            let new = if index(&mut rng, 3) == 0 { 0 } else { round + 1 };
            tree.update(key, position, old, new);
            let leaf = tree.leaf_of(position);
            if new == 0 {
                digests.remove(&key);
                model[leaf].remove(&key);
            } else {
                digests.insert(key, new);
                model[leaf].insert(key);
            }
        }
        for (leaf, keys) in model.iter().enumerate() {
            assert_eq!(tree.keys_in_leaf(leaf), keys.iter().copied().collect::<Vec<_>>().as_slice(), "leaf {leaf}");
        }
        assert_eq!(tree.keys.len(), digests.len());
    }
}
