//! Deletes: what becomes of a delete's tombstone (a version whose value is "no value", see
//! [`crate::node::versioning::Sibling::tombstone`]).
//!
//! A tombstone replicates, repairs and hands off like any version, so that a replica that missed
//! the delete learns of it. Kept for ever it costs storage for every key ever deleted, so each
//! heir removes it in its own way, and each way can bring a deleted value back:
//! - Cassandra purges a tombstone at compaction once `gc_grace_seconds` have passed since the
//!   delete (by the coordinator's timestamp against the replica's own clock), on each replica
//!   alone. A replica that missed the delete and was not repaired within the grace period still
//!   holds the old value; read repair or the next `nodetool repair` copies it back to replicas
//!   that purged the tombstone ("zombies").
//! - Riak reaps a tombstone once all N primaries hold it: the coordinator of a delete whose
//!   every primary acknowledged it, or of a get whose every primary returned the same
//!   tombstone, tells them to remove it, at once (`delete_mode` immediate) or after a delay
//!   (3 s by default); each replica removes it only if it still holds that tombstone unchanged.
//!   A fall-back still holding an older version (down, or awaiting hand-off) can hand it back
//!   after the reap, and a key re-created meanwhile meets it again; `keep` never reaps.
//!
//! The purge queue is derived from the store (compaction looks at what is on disk), so it
//! survives a crash; a Riak reap delay is a timer, lost with the node's volatile state.

use crate::node::merkle::digest;
use crate::node::message::Payload;
use crate::node::versioning::VersionSet;
use crate::node::*;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::KeyId;
use std::collections::VecDeque;

/// How tombstones are removed.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum TombstoneRemoval {
    /// Never (Riak's `delete_mode` keep; the Dynamo paper says nothing of deletes).
    #[default]
    Keep,
    /// Each replica purges a tombstone this long after the delete (Cassandra's
    /// `gc_grace_seconds`).
    GcGrace(SimDuration),
    /// Riak: once every primary holds the tombstone, they reap it after `delay` (zero:
    /// `delete_mode` immediate).
    Reap { delay: SimDuration },
}

/// A node's work on tombstones: the purge queue under [`TombstoneRemoval::GcGrace`], and the
/// reaps waiting out their delay under [`TombstoneRemoval::Reap`].
#[derive(Default)]
pub(super) struct Tombstones {
    /// Keys that took a tombstone, each with when to look at it again, in about that order.
    due: VecDeque<(SimTime, KeyId)>,
    /// Whether a purge timer is set for the head of the queue.
    armed: bool,
    /// Riak: reaps waiting out the delay, oldest first, each with the digest of the key's
    /// tombstones when it was asked for (the timers, all of one delay, fire in this order;
    /// volatile, like them).
    reaping: VecDeque<(KeyId, u64)>,
}

impl Node {
    /// After the store took `versions` for `key`: a tombstone starts its grace period (the end
    /// of the message or timer handler sets the timer, see [`Node::arm_purge`]).
    pub(super) fn note_if_tombstone(&mut self, now: SimTime, env: &NodeEnv, key: KeyId, versions: &VersionSet) {
        let TombstoneRemoval::GcGrace(grace) = env.protocol.tombstones else { return };
        if versions.is_deleted() {
            self.tombstones.due.push_back((now.after(grace), key));
        }
    }

    /// Sets the purge timer for the head of the queue, unless one is set or nothing is queued.
    pub(super) fn arm_purge(&mut self, now: SimTime, out: &mut Vec<NodeEffect>) {
        if self.tombstones.armed {
            return;
        }
        if let Some(&(at, _)) = self.tombstones.due.front() {
            self.tombstones.armed = true;
            let incarnation = self.incarnation;
            out.push(NodeEffect::Timer { after: at.since(now.min(at)), timer: NodeTimer::Purge { incarnation } });
        }
    }

    /// After a restart: compaction goes on with what the disk holds.
    pub(super) fn restart_purges(&mut self, now: SimTime, out: &mut Vec<NodeEffect>) {
        self.tombstones.armed = false;
        self.arm_purge(now, out);
    }

    /// Compaction: every queued key whose grace period is over and that still holds nothing
    /// but tombstones loses them. A key that took a newer tombstone since waits for it.
    pub(super) fn purge_tombstones(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        self.tombstones.armed = false;
        let TombstoneRemoval::GcGrace(grace) = env.protocol.tombstones else { return };
        let local_now = self.replica.local_clock(now);
        while let Some(&(at, key)) = self.tombstones.due.front() {
            if at > now {
                break;
            }
            self.tombstones.due.pop_front();
            let Some(versions) = self.replica.get(key).filter(|v| v.is_deleted()) else { continue };
            let deleted_at = versions.siblings.iter().map(|s| s.written_at).max().unwrap_or(SimTime::ZERO);
            let expires = deleted_at.after(grace);
            if expires <= local_now {
                self.remove_tombstones(env, key);
            } else {
                // The delete was stamped by a clock ahead of this one: look again when this
                // node's clock reaches its expiry.
                self.tombstones.due.push_back((now.after(expires.since(local_now)), key));
            }
        }
        self.arm_purge(now, out);
    }

    fn remove_tombstones(&mut self, env: &NodeEnv, key: KeyId) {
        let old = self.replica.remove(key);
        self.track(env, key, old, 0);
        self.stats.tombstones_removed += 1;
    }

    /// Riak: a coordinator saw every primary of `key` hold the tombstone set `versions`; tells
    /// each of them (this node directly) to reap it.
    pub(super) fn reap(&mut self, env: &NodeEnv, key: KeyId, primaries: &[NodeId], out: &mut Vec<NodeEffect>) {
        for &node in primaries {
            if node == self.id {
                self.on_reap(env, key, out);
            } else {
                out.push(NodeEffect::Send { to: Endpoint::Node(node), payload: Payload::Reap { key } });
            }
        }
    }

    /// A replica told to reap `key`: it removes what it holds if that is nothing but
    /// tombstones, at once or, after `delete_mode`'s delay, if it has not changed meanwhile.
    pub(super) fn on_reap(&mut self, env: &NodeEnv, key: KeyId, out: &mut Vec<NodeEffect>) {
        let TombstoneRemoval::Reap { delay } = env.protocol.tombstones else { return };
        let Some(versions) = self.replica.get(key).filter(|v| v.is_deleted()) else { return };
        if delay == SimDuration::ZERO {
            self.remove_tombstones(env, key);
            return;
        }
        self.tombstones.reaping.push_back((key, digest(key, versions)));
        let incarnation = self.incarnation;
        out.push(NodeEffect::Timer { after: delay, timer: NodeTimer::Reap { key, incarnation } });
    }

    /// The end of a reap's delay: the key goes if it holds the same tombstones as then.
    pub(super) fn final_reap(&mut self, env: &NodeEnv, key: KeyId) {
        let reaping = &mut self.tombstones.reaping;
        let Some(i) = reaping.iter().position(|(k, _)| *k == key) else { return };
        let Some((_, expected)) = reaping.remove(i) else { return };
        if self.replica.get(key).is_some_and(|v| v.is_deleted() && digest(key, v) == expected) {
            self.remove_tombstones(env, key);
        }
    }

    /// A crash forgets the reaps waiting out their delay.
    pub(super) fn forget_reaps(&mut self) {
        self.tombstones.reaping.clear();
    }

    /// Riak's get-path check: every one of the key's N primaries answered, all with the same
    /// set of tombstones.
    pub(super) fn reapable(env: &NodeEnv, agreed: Option<&VersionSet>, answered: &[NodeId], top: &[NodeId]) -> bool {
        matches!(env.protocol.tombstones, TombstoneRemoval::Reap { .. })
            && agreed.is_some_and(|v| v.is_deleted())
            && top.len() == env.protocol.n
            && top.iter().all(|n| answered.contains(n))
    }
}
