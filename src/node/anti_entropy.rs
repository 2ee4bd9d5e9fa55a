//! Anti-entropy (Dynamo §4.7; Riak's index_hashtree and exchange_fsm): a Merkle tree per ring
//! range this node replicates, kept current on every store change; periodically one range is
//! compared with a random other replica of it, descending only into differing subtrees and
//! exchanging the keys under differing leaves.

use crate::node::merkle::{digest, MerkleTree};
use crate::node::message::Payload;
use crate::node::versioning::VersionSet;
use crate::node::*;
use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{Endpoint, KeyId, NodeId};
use crate::sim::rng::index;
use std::rc::Rc;

/// The Merkle trees of this node's own keys, by ring range (hints are not in them), and where
/// the exchanges stand.
#[derive(Default)]
pub(super) struct AntiEntropy {
    trees: FastMap<u32, MerkleTree>,
    /// What an absent range's tree would be: compared without creating one.
    empty_tree: Option<MerkleTree>,
    /// Which of this node's ranges the next exchange compares.
    cursor: usize,
    /// When anti-entropy last compared each range of this node's ring (as starter or peer):
    /// what a convergence failure names when a range was not reached in time.
    compared_at: FastMap<u32, SimTime>,
}

impl AntiEntropy {
    /// Keeps the key's tree current after its digest changed from `old` to `new`; returns the
    /// hashes computed.
    fn track(&mut self, env: &NodeEnv, key: KeyId, old: u64, new: u64) -> u64 {
        if !env.protocol.anti_entropy {
            return 0;
        }
        self.update(env, key, old, new)
    }

    /// [`AntiEntropy::track`] whether anti-entropy runs or not (a repair builds its trees).
    fn update(&mut self, env: &NodeEnv, key: KeyId, old: u64, new: u64) -> u64 {
        if old == new {
            return 0;
        }
        let position = env.keys.position(key);
        let range = env.ring.range_of(position);
        let leaves = env.protocol.merkle_leaves;
        let tree = self.trees.entry(range).or_insert_with(|| MerkleTree::new(leaves));
        tree.update(key, position, old, new)
    }

    /// The disk is gone, and the trees with it.
    pub(super) fn clear_trees(&mut self) {
        self.trees.clear();
    }

    /// The next of this node's ranges to compare.
    fn next_range(&mut self, mine: &[u32]) -> u32 {
        let range = mine[self.cursor % mine.len()];
        self.cursor += 1;
        range
    }

    fn tree(&mut self, env: &NodeEnv, range: u32) -> &MerkleTree {
        let leaves = env.protocol.merkle_leaves;
        match self.trees.get(&range) {
            Some(t) => t,
            None => self.empty_tree.get_or_insert_with(|| MerkleTree::new(leaves)),
        }
    }

    /// The keys under some leaves of a range's tree.
    fn keys_under<'a>(&'a self, range: u32, leaves: &'a [u32]) -> impl Iterator<Item = &'a KeyId> + 'a {
        let tree = self.trees.get(&range);
        leaves.iter().flat_map(move |&leaf| tree.into_iter().flat_map(move |t| t.keys_in_leaf(leaf as usize)))
    }

    /// Each tree's root, by range: equal for replicas holding the same versions.
    #[cfg(test)]
    pub(super) fn roots(&self) -> Vec<(u32, u64)> {
        let mut roots: Vec<(u32, u64)> = self.trees.iter().map(|(k, t)| (*k, t.root())).collect();
        roots.sort();
        roots
    }
}

impl Node {
    /// When anti-entropy last compared `range` of this node's current ring here.
    pub fn range_compared_at(&self, range: u32) -> Option<SimTime> {
        self.anti_entropy.compared_at.get(&range).copied()
    }

    /// Keeps the key's Merkle tree current after its digest changed.
    pub(super) fn track(&mut self, env: &NodeEnv, key: KeyId, old: u64, new: u64) {
        self.stats.merkle_hashes += self.anti_entropy.track(env, key, old, new);
    }

    pub(super) fn rebuild_trees(&mut self, env: &NodeEnv) {
        if !env.protocol.anti_entropy {
            return;
        }
        self.anti_entropy = AntiEntropy::default();
        for (key, versions) in self.replica.iter() {
            self.stats.merkle_hashes += self.anti_entropy.track(env, *key, 0, digest(*key, versions));
        }
    }

    /// The operator's repair, first step on every node: the trees built afresh from the store,
    /// as a repair's validation builds them, whether continuous anti-entropy keeps them or not.
    pub fn build_trees(&mut self, env: &NodeEnv) {
        self.replica.scanned(self.replica.size_bytes());
        self.anti_entropy.trees.clear();
        for (key, versions) in self.replica.iter() {
            self.stats.merkle_hashes += self.anti_entropy.update(env, *key, 0, digest(*key, versions));
        }
    }

    /// The operator's repair, second step: every range this node replicates compared with each
    /// of its other replicas this node does not suspect. Returns whether any exchange started.
    pub fn repair(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) -> bool {
        let Some(mine) = env.ranges.of_node.get(self.id.index()) else { return false };
        let ring = env.ring.fingerprint();
        let mut started = false;
        for &range in mine {
            let root = self.anti_entropy.tree(env, range).root();
            let peers: Vec<NodeId> =
                env.ranges.replicas[range as usize].iter().copied().filter(|&p| p != self.id && !self.suspects(p)).collect();
            for peer in peers {
                self.stats.ae_exchanges += 1;
                self.anti_entropy.compared_at.insert(range, now);
                self.send_ae(Endpoint::Node(peer), Payload::AeCompare { ring, range, hashes: vec![(0, root)] }, out);
                started = true;
            }
        }
        started
    }

    /// Starts one anti-entropy exchange: the next range this node replicates, with a random
    /// other replica of it that it does not suspect.
    pub(super) fn start_anti_entropy(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let Some(mine) = env.ranges.of_node.get(self.id.index()).filter(|m| !m.is_empty()) else { return };
        let range = self.anti_entropy.next_range(mine);
        let peers: Vec<NodeId> =
            env.ranges.replicas[range as usize].iter().copied().filter(|&p| p != self.id && !self.suspects(p)).collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[index(&mut self.rng, peers.len())];
        self.stats.ae_exchanges += 1;
        self.anti_entropy.compared_at.insert(range, now);
        let root = self.anti_entropy.tree(env, range).root();
        let ring = env.ring.fingerprint();
        self.send_ae(Endpoint::Node(peer), Payload::AeCompare { ring, range, hashes: vec![(0, root)] }, out);
    }

    /// Compares the peer's hashes with this node's: descends below differing inner nodes and
    /// sends the keys under differing leaves.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_ae_compare(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        ring: u64,
        range: u32,
        hashes: &[(u32, u64)],
        out: &mut Vec<NodeEffect>,
    ) {
        if !self.same_ring(env, ring) {
            return;
        }
        self.anti_entropy.compared_at.insert(range, now);
        let tree = self.anti_entropy.tree(env, range);
        let mut leaves = Vec::new();
        let mut next = Vec::new();
        for &(i, h) in hashes {
            let i = i as usize;
            if tree.hash(i) == h {
                continue;
            }
            if tree.is_leaf(i) {
                leaves.push(tree.leaf_number(i) as u32);
            } else {
                for c in tree.children(i) {
                    next.push((c as u32, tree.hash(c)));
                }
            }
        }
        if !leaves.is_empty() {
            let entries = self.entries_under(range, &leaves);
            self.send_ae(from, Payload::AeKeys { ring: env.ring.fingerprint(), range, leaves, entries, reply: true }, out);
        }
        if !next.is_empty() {
            self.send_ae(from, Payload::AeCompare { ring: env.ring.fingerprint(), range, hashes: next }, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_ae_keys(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        ring: u64,
        range: u32,
        leaves: Vec<u32>,
        entries: &[(KeyId, Rc<VersionSet>)],
        reply: bool,
        out: &mut Vec<NodeEffect>,
    ) {
        if !self.same_ring(env, ring) {
            return;
        }
        self.stats.requests_served += 1;
        for (key, versions) in entries {
            if self.store_reconciled(now, env, *key, None, versions) {
                self.stats.ae_keys_repaired += 1;
            }
        }
        if reply {
            let entries = self.entries_under(range, &leaves);
            let ring = env.ring.fingerprint();
            self.send_ae(from, Payload::AeKeys { ring, range, leaves, entries, reply: false }, out);
        }
    }

    /// Ranges mean the same only on the same ring: a peer with another view is skipped until
    /// gossip brings the two views together.
    pub(super) fn same_ring(&mut self, env: &NodeEnv, ring: u64) -> bool {
        let same = ring == env.ring.fingerprint();
        self.stats.ae_skipped_ring_mismatch += (!same) as u64;
        same
    }

    pub(super) fn entries_under(&self, range: u32, leaves: &[u32]) -> Vec<(KeyId, Rc<VersionSet>)> {
        let keys = self.anti_entropy.keys_under(range, leaves);
        keys.filter_map(|key| self.replica.get(*key).map(|v| (*key, v.clone()))).collect()
    }

    pub(super) fn send_ae(&mut self, to: Endpoint, payload: Payload, out: &mut Vec<NodeEffect>) {
        self.stats.ae_messages += 1;
        self.stats.ae_bytes += payload.size_bytes() as u64;
        if let Payload::AeKeys { entries, .. } = &payload {
            self.stats.ae_keys_sent += entries.len() as u64;
        }
        out.push(NodeEffect::Send { to, payload });
    }
}
