//! Gossip membership (Dynamo §4.8): each node's persisted, versioned view of who is in the ring.
//!
//! A view maps nodes to a status and a version the node's owner (or the operator acting on it)
//! bumps on every change; merging two views keeps, per node, the record with the higher version
//! (ties: the later status), so views converge whatever order gossip arrives in. The ring of a
//! view is built from its members in `Normal` status; a `Leaving` node has handed off and is out.

use crate::sim::ids::NodeId;
use std::hash::Hasher;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberStatus {
    Normal,
    Leaving,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub status: MemberStatus,
    pub version: u64,
}

/// Sorted by node: a gossip round picks its peer by index in O(1) (a 10,000-node view listed
/// for every round cost more than the rest of the protocol).
#[derive(Clone, Debug, Default)]
pub struct Membership {
    members: Vec<(NodeId, MemberRecord)>,
    /// A digest of every record, kept as records change: what a gossip round sends first, so
    /// that two agreeing views cost one small message (Cassandra's digests, Riak's ring clock).
    digest: u64,
}

/// One record's share of a view's digest: a 64-bit mix of its fields, summed over the view, so
/// that a change updates the digest in O(1) and views that differ collide with chance 2^-64.
fn record_digest(node: NodeId, record: MemberRecord) -> u64 {
    let mut z = (node.0 as u64) << 32 ^ record.version << 1 ^ (record.status == MemberStatus::Leaving) as u64;
    // SplitMix64's finaliser.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Views with different digests differ: the common case of a comparison costs O(1).
impl PartialEq for Membership {
    fn eq(&self, other: &Membership) -> bool {
        self.digest == other.digest && self.members == other.members
    }
}

impl Eq for Membership {}

impl Membership {
    pub fn with_members(nodes: impl IntoIterator<Item = NodeId>) -> Membership {
        let mut members: Vec<(NodeId, MemberRecord)> =
            nodes.into_iter().map(|n| (n, MemberRecord { status: MemberStatus::Normal, version: 1 })).collect();
        members.sort_by_key(|(n, _)| *n);
        members.dedup_by_key(|(n, _)| *n);
        let digest = members.iter().fold(0u64, |d, &(n, r)| d.wrapping_add(record_digest(n, r)));
        Membership { members, digest }
    }

    fn insert(&mut self, node: NodeId, record: MemberRecord) {
        match self.members.binary_search_by_key(&node, |(n, _)| *n) {
            Ok(i) => {
                self.digest = self.digest.wrapping_sub(record_digest(node, self.members[i].1));
                self.members[i].1 = record;
            }
            Err(i) => self.members.insert(i, (node, record)),
        }
        self.digest = self.digest.wrapping_add(record_digest(node, record));
    }

    /// What a gossip round sends before any record: equal for equal views.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The known nodes, in order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        self.members.iter().map(|(n, _)| *n)
    }

    /// The `i`-th known node, in order.
    pub fn nth(&self, i: usize) -> Option<NodeId> {
        self.members.get(i).map(|(n, _)| *n)
    }

    /// Where `node` is (`Ok`) or would be (`Err`) among the known nodes.
    pub fn position(&self, node: NodeId) -> Result<usize, usize> {
        self.members.binary_search_by_key(&node, |(n, _)| *n)
    }

    /// Records a change to `node` with a version above any this view has seen for it.
    pub fn set(&mut self, node: NodeId, status: MemberStatus) {
        let version = self.get(node).map_or(0, |r| r.version) + 1;
        self.insert(node, MemberRecord { status, version });
    }

    /// Records `record` for `node` as given (the operator writing one change to several views).
    pub fn put(&mut self, node: NodeId, record: MemberRecord) {
        self.insert(node, record);
    }

    pub fn get(&self, node: NodeId) -> Option<MemberRecord> {
        self.position(node).ok().map(|i| self.members[i].1)
    }

    /// Merges another view in; returns whether this view changed.
    pub fn merge(&mut self, other: &Membership) -> bool {
        let mut changed = false;
        for &(node, theirs) in &other.members {
            let newer = match self.get(node) {
                None => true,
                Some(mine) => (theirs.version, theirs.status) > (mine.version, mine.status),
            };
            if newer {
                self.insert(node, theirs);
                changed = true;
            }
        }
        changed
    }

    /// Nodes in the ring: members in normal status, in id order.
    pub fn ring_members(&self) -> Vec<NodeId> {
        self.members.iter().filter(|(_, r)| r.status == MemberStatus::Normal).map(|(n, _)| *n).collect()
    }

    /// Every node this view knows of, in id order (gossip peers).
    pub fn known(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Identifies the view's ring: equal for views with the same ring members.
    pub fn ring_fingerprint(&self) -> u64 {
        let mut h = crate::sim::fastmap::FxHasher::default();
        for n in self.ring_members() {
            h.write_u32(n.0);
        }
        h.write_usize(self.ring_members().len());
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_newer_record_and_converges_in_any_order() {
        let mut a = Membership::with_members([NodeId(0), NodeId(1)]);
        let mut b = a.clone();
        a.set(NodeId(2), MemberStatus::Normal);
        b.set(NodeId(1), MemberStatus::Leaving);
        let (mut ab, mut ba) = (a.clone(), b.clone());
        assert!(ab.merge(&b));
        assert!(ba.merge(&a));
        assert_eq!(ab, ba);
        assert_eq!(ab.ring_members(), vec![NodeId(0), NodeId(2)]);
        assert!(!ab.merge(&a), "merging again changes nothing");
        assert_ne!(a.ring_fingerprint(), ab.ring_fingerprint());
    }

    /// The digest a gossip round sends is kept as records change: equal for views built in any
    /// order, different once any record differs (a status, a version, a node).
    #[test]
    fn digest_follows_every_record() {
        let nodes = [NodeId(0), NodeId(1), NodeId(2)];
        let full = Membership::with_members(nodes);
        let mut grown = Membership::with_members([NodeId(2)]);
        grown.put(NodeId(0), MemberRecord { status: MemberStatus::Normal, version: 1 });
        grown.put(NodeId(1), MemberRecord { status: MemberStatus::Normal, version: 1 });
        assert_eq!(grown.digest(), full.digest());
        assert_eq!(grown, full);
        let mut leaving = full.clone();
        leaving.put(NodeId(1), MemberRecord { status: MemberStatus::Leaving, version: 1 });
        let mut bumped = full.clone();
        bumped.put(NodeId(1), MemberRecord { status: MemberStatus::Normal, version: 2 });
        let digests = [full.digest(), leaving.digest(), bumped.digest(), Membership::with_members(nodes[..2].to_vec()).digest()];
        for (i, a) in digests.iter().enumerate() {
            assert!(digests[i + 1..].iter().all(|b| a != b), "{digests:?}");
        }
        assert_ne!(full, leaving);
        // Changed back, the digest comes back.
        leaving.put(NodeId(1), MemberRecord { status: MemberStatus::Normal, version: 1 });
        assert_eq!(leaving.digest(), full.digest());
    }
}
