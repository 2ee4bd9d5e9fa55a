//! Anti-entropy (Dynamo §4.7; Riak's index_hashtree and exchange_fsm): a Merkle tree per ring
//! range this node replicates, kept current on every store change; periodically one range is
//! compared with a random other replica of it, descending only into differing subtrees and
//! exchanging the keys under differing leaves.

use crate::cluster::message::Payload;
use crate::node::merkle::{digest, MerkleTree};
use crate::node::versioning::VersionSet;
use crate::node::*;
use crate::sim::engine::SimTime;
use crate::sim::ids::{Endpoint, KeyId, NodeId};
use crate::sim::rng::index;
use std::rc::Rc;

impl Node {
    /// When anti-entropy last compared `range` of this node's current ring here.
    pub fn range_compared_at(&self, range: u32) -> Option<SimTime> {
        self.ae_compared_at.get(&range).copied()
    }

    /// Keeps the key's Merkle tree current after its digest changed.
    pub(super) fn track(&mut self, env: &NodeEnv, key: KeyId, old: u64, new: u64) {
        if !env.protocol.anti_entropy || old == new {
            return;
        }
        let position = env.keys.position(key);
        let range = env.ring.range_of(position);
        let leaves = env.protocol.merkle_leaves;
        let tree = self.trees.entry(range).or_insert_with(|| MerkleTree::new(leaves));
        self.stats.merkle_hashes += tree.update(key, position, old, new);
    }

    pub(super) fn rebuild_trees(&mut self, env: &NodeEnv) {
        if !env.protocol.anti_entropy {
            return;
        }
        self.trees.clear();
        self.ae_compared_at.clear();
        self.ae_cursor = 0;
        let entries: Vec<(KeyId, u64)> = self.store.iter().map(|(k, v)| (*k, digest(*k, v))).collect();
        for (key, d) in entries {
            self.track(env, key, 0, d);
        }
    }

    /// Starts one anti-entropy exchange: the next range this node replicates, with a random
    /// other replica of it that it does not suspect.
    pub(super) fn start_anti_entropy(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let Some(mine) = env.ranges.of_node.get(self.id.index()).filter(|m| !m.is_empty()) else { return };
        let range = mine[self.ae_cursor % mine.len()];
        self.ae_cursor += 1;
        let peers: Vec<NodeId> =
            env.ranges.replicas[range as usize].iter().copied().filter(|&p| p != self.id && !self.suspects(p)).collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[index(&mut self.rng, peers.len())];
        self.stats.ae_exchanges += 1;
        self.ae_compared_at.insert(range, now);
        let root = self.tree(env, range).root();
        let ring = env.ring.fingerprint();
        self.send_ae(Endpoint::Node(peer), Payload::AeCompare { ring, range, hashes: vec![(0, root)] }, out);
    }

    pub(super) fn tree(&mut self, env: &NodeEnv, range: u32) -> &MerkleTree {
        let leaves = env.protocol.merkle_leaves;
        match self.trees.get(&range) {
            Some(t) => t,
            None => self.empty_tree.get_or_insert_with(|| MerkleTree::new(leaves)),
        }
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
        self.ae_compared_at.insert(range, now);
        let tree = self.tree(env, range);
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
        let Some(tree) = self.trees.get(&range) else { return Vec::new() };
        let mut entries = Vec::new();
        for &leaf in leaves {
            for key in tree.keys_in_leaf(leaf as usize) {
                if let Some(v) = self.store.get(key) {
                    entries.push((*key, v.clone()));
                }
            }
        }
        entries
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
