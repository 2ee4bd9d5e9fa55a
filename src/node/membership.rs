//! Gossip membership (Dynamo §4.8): each node's persisted, versioned view of who is in the ring.
//!
//! A view maps nodes to a status and a version the node's owner (or the operator acting on it)
//! bumps on every change; merging two views keeps, per node, the record with the higher version
//! (ties: the later status), so views converge whatever order gossip arrives in. The ring of a
//! view is built from its members in `Normal` status; a `Leaving` node has handed off and is out.

use crate::sim::ids::NodeId;
use std::collections::BTreeMap;
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

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    members: BTreeMap<NodeId, MemberRecord>,
}

impl Membership {
    pub fn with_members(nodes: impl IntoIterator<Item = NodeId>) -> Membership {
        Membership {
            members: nodes.into_iter().map(|n| (n, MemberRecord { status: MemberStatus::Normal, version: 1 })).collect(),
        }
    }

    /// Records a change to `node` with a version above any this view has seen for it.
    pub fn set(&mut self, node: NodeId, status: MemberStatus) {
        let version = self.members.get(&node).map_or(0, |r| r.version) + 1;
        self.members.insert(node, MemberRecord { status, version });
    }

    /// Records `record` for `node` as given (the operator writing one change to several views).
    pub fn put(&mut self, node: NodeId, record: MemberRecord) {
        self.members.insert(node, record);
    }

    pub fn get(&self, node: NodeId) -> Option<MemberRecord> {
        self.members.get(&node).copied()
    }

    /// Merges another view in; returns whether this view changed.
    pub fn merge(&mut self, other: &Membership) -> bool {
        let mut changed = false;
        for (&node, &theirs) in &other.members {
            let newer = match self.members.get(&node) {
                None => true,
                Some(mine) => (theirs.version, theirs.status) > (mine.version, mine.status),
            };
            if newer {
                self.members.insert(node, theirs);
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
        self.members.keys().copied()
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
