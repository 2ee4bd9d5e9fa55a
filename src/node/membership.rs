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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    members: Vec<(NodeId, MemberRecord)>,
}

impl Membership {
    pub fn with_members(nodes: impl IntoIterator<Item = NodeId>) -> Membership {
        let mut members: Vec<(NodeId, MemberRecord)> =
            nodes.into_iter().map(|n| (n, MemberRecord { status: MemberStatus::Normal, version: 1 })).collect();
        members.sort_by_key(|(n, _)| *n);
        members.dedup_by_key(|(n, _)| *n);
        Membership { members }
    }

    fn insert(&mut self, node: NodeId, record: MemberRecord) {
        match self.members.binary_search_by_key(&node, |(n, _)| *n) {
            Ok(i) => self.members[i].1 = record,
            Err(i) => self.members.insert(i, (node, record)),
        }
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
}
