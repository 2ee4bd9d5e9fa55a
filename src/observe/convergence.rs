//! Convergence: do the replicas agree? Measured over the nodes' stores, never seen by them.
//!
//! A key has *converged* when every node of its current top N holds the same current versions
//! (a crashed node's durable store counts). Pending work is named in words, so that a failed
//! convergence check says what is outstanding: "k42 differs on n1,n4", "3 hints queued on n3".

use crate::cluster::keyspace::KeyTable;
use crate::cluster::ring::Ring;
use crate::node::versioning::VersionSet;
use crate::node::{Node, Protocol};
use crate::sim::ids::{KeyId, NodeId, WriteId};
use std::collections::BTreeMap;

/// How many pending items a snapshot spells out.
const DESCRIBED: usize = 10;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub keys_checked: u64,
    pub divergent_keys: u64,
    pub pending_hints: u64,
    /// Running nodes whose ring differs from the operator's.
    pub membership_disagreements: u64,
    /// The first few divergent keys and every node with queued hints, in words.
    pub pending: Vec<String>,
}

impl Snapshot {
    pub fn converged(&self) -> bool {
        self.divergent_keys == 0 && self.pending_hints == 0 && self.membership_disagreements == 0
    }

    /// Notes a running node whose ring is not the operator's.
    pub fn disagreement(&mut self, node: NodeId, sees: usize, truth: usize) {
        self.membership_disagreements += 1;
        self.pending.push(format!("{node} sees a ring of {sees} nodes, not {truth}"));
    }

    pub fn divergent_fraction(&self) -> f64 {
        if self.keys_checked == 0 {
            0.0
        } else {
            self.divergent_keys as f64 / self.keys_checked as f64
        }
    }
}

/// Checks every key in the table against the ring's current top N.
pub fn snapshot(ring: &Ring, keys: &KeyTable, nodes: &[Node], protocol: &Protocol) -> Snapshot {
    check(ring, keys, nodes, protocol, (0..keys.len()).map(|k| KeyId(k as u32)), &mut Vec::new())
}

/// Samples divergence over and over at the cost of the keys that changed in between.
///
/// A key that was converged at the last sample, on the same ring, with no replica changed
/// since, is still converged; so a sample checks only the keys some node changed and the keys
/// divergent last time, and reports exactly what a full [`snapshot`] would. A new ring (a join
/// or leave) changes every key's top N, so the sample after it checks every key any node ever
/// stored (a key no node ever stored is empty everywhere, hence converged).
#[derive(Default)]
pub struct DivergenceSampler {
    ring: Option<u64>,
    divergent: Vec<KeyId>,
    candidates: Vec<KeyId>,
    /// By key index: whether any node has ever stored the key.
    ever_stored: Vec<bool>,
}

impl DivergenceSampler {
    /// Asks every node to remember which keys change; call once before the run.
    pub fn watch(nodes: &mut [Node]) {
        for node in nodes {
            node.record_changed_keys();
        }
    }

    pub fn sample(&mut self, ring: &Ring, keys: &KeyTable, nodes: &mut [Node], protocol: &Protocol) -> Snapshot {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        for node in nodes.iter_mut() {
            node.drain_changed_keys(&mut candidates);
        }
        self.ever_stored.resize(keys.len(), false);
        for key in &candidates {
            self.ever_stored[key.index()] = true;
        }
        let mut divergent = std::mem::take(&mut self.divergent);
        let snap = if self.ring == Some(ring.fingerprint()) {
            candidates.append(&mut divergent);
            candidates.sort_unstable();
            candidates.dedup();
            check(ring, keys, nodes, protocol, candidates.iter().copied(), &mut divergent)
        } else {
            divergent.clear();
            let stored = self.ever_stored.iter().enumerate().filter(|(_, s)| **s).map(|(k, _)| KeyId(k as u32));
            check(ring, keys, nodes, protocol, stored, &mut divergent)
        };
        self.ring = Some(ring.fingerprint());
        self.divergent = divergent;
        self.candidates = candidates;
        snap
    }
}

/// Checks `candidates` (ascending) against the ring's current top N and pushes the divergent
/// ones onto `divergent`; every key outside `candidates` is known to have converged.
fn check(
    ring: &Ring,
    keys: &KeyTable,
    nodes: &[Node],
    protocol: &Protocol,
    candidates: impl Iterator<Item = KeyId>,
    divergent: &mut Vec<KeyId>,
) -> Snapshot {
    let n = protocol.n;
    let mut snap = Snapshot { keys_checked: keys.len() as u64, ..Snapshot::default() };
    let mut list = Vec::with_capacity(n);
    let empty = VersionSet::default();
    for key in candidates {
        ring.cached_list(key, || keys.position(key), n, n, &mut list);
        let set_of = |node: NodeId| nodes[node.index()].versions(key).map_or(&empty, |v| &**v);
        let first = set_of(list[0]);
        if list[1..].iter().all(|&other| set_of(other).same_versions(first)) {
            continue;
        }
        snap.divergent_keys += 1;
        divergent.push(key);
        if snap.pending.len() < DESCRIBED {
            let mut merged = VersionSet::default();
            for &node in &list {
                merged.reconcile(set_of(node), crate::sim::engine::SimTime::ZERO);
            }
            let behind: Vec<NodeId> = list.iter().copied().filter(|&node| !set_of(node).same_versions(&merged)).collect();
            let names: Vec<String> = behind.iter().map(|n| n.to_string()).collect();
            let mut line = format!("{} differs on {}", keys.name(key), names.join(","));
            if protocol.anti_entropy {
                // Where anti-entropy stands on the key's range: when each lagging replica last
                // compared it.
                let range = ring.range_of(keys.position(key));
                let compared: Vec<String> = behind
                    .iter()
                    .map(|&node| match nodes[node.index()].range_compared_at(range) {
                        Some(t) => format!("{node} at {:.3} ms", t.as_millis_f64()),
                        None => format!("{node} never"),
                    })
                    .collect();
                line += &format!(" (range {range} last compared by anti-entropy: {})", compared.join(", "));
            }
            snap.pending.push(line);
        }
    }
    for node in nodes {
        let queued = node.pending_hints().count() as u64;
        if queued > 0 {
            snap.pending_hints += queued;
            snap.pending.push(format!("{queued} hints queued on {}", node.id));
        }
    }
    snap
}

/// Collects, per key, what `extract` takes from every version set any node holds (its own
/// replica or a hint), sorted and without repeats. A map of the keys held rather than a list
/// per key: a million-key run holds a few per cent of them, and empty lists were 24 MB.
fn held<T: Ord>(nodes: &[Node], extract: impl Fn(&VersionSet, &mut Vec<T>)) -> BTreeMap<KeyId, Vec<T>> {
    let mut held: BTreeMap<KeyId, Vec<T>> = BTreeMap::new();
    for node in nodes {
        node.for_each_version_set(|key, set| extract(set, held.entry(key).or_default()));
    }
    for slot in held.values_mut() {
        slot.sort_unstable();
        slot.dedup();
    }
    held
}

/// Every write id any node holds, by key (keys nobody holds are absent): what survives.
pub fn held_writes(nodes: &[Node]) -> BTreeMap<KeyId, Vec<WriteId>> {
    held(nodes, |set, slot| slot.extend(set.siblings.iter().map(|s| s.write)))
}

/// Every cart item any node holds, by key.
pub fn held_cart_items(nodes: &[Node]) -> BTreeMap<KeyId, Vec<u64>> {
    held(nodes, |set, slot| {
        for cart in set.siblings.iter().map(|s| &s.cart) {
            slot.extend(cart.adds());
        }
    })
}

/// Every removal tombstone any node holds, by key (observed-remove carts only).
pub fn held_cart_tombstones(nodes: &[Node]) -> BTreeMap<KeyId, Vec<u64>> {
    held(nodes, |set, slot| {
        for cart in set.siblings.iter().map(|s| &s.cart) {
            slot.extend(cart.tombstones());
        }
    })
}
