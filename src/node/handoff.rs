//! Handoff: hints kept for unreachable replicas (Dynamo §4.6) and range transfers after ring
//! changes (§4.9; Riak's handoff).
//!
//! A fall-back keeps a write meant for another node in a separate hint store, scans it
//! periodically, hands each hint to its intended node once that node answers again and deletes
//! it after the acknowledgement. After a ring change a node hands every key it no longer
//! replicates to the nodes that newly do and deletes it once every new owner has acknowledged;
//! a leaving node stops once it holds nothing.

use crate::cluster::ring::Ring;
use crate::node::membership::{MemberStatus, Membership};
use crate::node::message::Payload;
use crate::node::versioning::VersionSet;
use crate::node::*;
use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{Endpoint, KeyId, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// A handoff awaiting its turn (`sent_at` none) or its acknowledgement; resent if none comes
/// within a gossip interval of its sending.
struct PendingTransfer {
    target: NodeId,
    keys: Vec<KeyId>,
    sent_at: Option<SimTime>,
}

/// Transfers a node keeps on the wire at once, as a stream keeps a window (Riak hands off over
/// TCP, Cassandra streams files): the rest wait for an acknowledgement, so a large handoff
/// takes the time its bytes take at the stream rate instead of flooding the interface and
/// being resent before it left.
const TRANSFERS_IN_FLIGHT: usize = 4;

/// A transfer's size, about: four in flight at the default stream rate (25 MB/s) leave in 80 ms,
/// well within the patience before a resend (a gossip interval).
const TRANSFER_BYTES: usize = 1 << 19;

/// The hint store and the transfers in flight.
#[derive(Default)]
pub(super) struct Handoff {
    /// Versions kept for another node, by (key, intended node): scanned in this order.
    hints: BTreeMap<(KeyId, NodeId), Rc<VersionSet>>,
    /// Transfers awaiting acknowledgement: id -> keys; and per key how many are outstanding.
    transfers: BTreeMap<u64, PendingTransfer>,
    transferring: FastMap<KeyId, u32>,
    /// Transfers not yet sent, in order.
    waiting: std::collections::VecDeque<u64>,
    in_flight: usize,
    /// Keys stored since the last handoff that this node's own ring says it does not
    /// replicate (sent by peers with an older view); handed off on the next scan.
    strays: BTreeSet<KeyId>,
    next_transfer: u64,
}

impl Handoff {
    /// Every write the hints hold.
    pub(super) fn held_writes(&self, out: &mut Vec<crate::sim::ids::WriteId>) {
        out.extend(self.hints.values().flat_map(|v| v.siblings.iter().map(|s| s.write)));
    }

    pub(super) fn hint(&self, key: KeyId, intended: NodeId) -> Option<&Rc<VersionSet>> {
        self.hints.get(&(key, intended))
    }

    /// Every hint held for a key, whoever it is meant for.
    pub(super) fn hints_for(&self, key: KeyId) -> impl Iterator<Item = &Rc<VersionSet>> {
        let range = (!self.hints.is_empty()).then(|| self.hints.range((key, NodeId(0))..=(key, NodeId(u32::MAX))));
        range.into_iter().flatten().map(|(_, v)| v)
    }

    pub(super) fn hints(&self) -> impl Iterator<Item = ((KeyId, NodeId), &Rc<VersionSet>)> {
        self.hints.iter().map(|(k, v)| (*k, v))
    }

    pub(super) fn take_hint(&mut self, key: KeyId, intended: NodeId) -> Option<Rc<VersionSet>> {
        self.hints.remove(&(key, intended))
    }

    /// Keeps versions for `intended`; returns whether no hint for it was held yet.
    pub(super) fn put_hint(&mut self, key: KeyId, intended: NodeId, versions: Rc<VersionSet>) -> bool {
        self.hints.insert((key, intended), versions).is_none()
    }

    pub(super) fn clear_hints(&mut self) {
        self.hints.clear();
    }

    /// Nothing held for others and nothing awaiting acknowledgement.
    fn is_idle(&self) -> bool {
        self.hints.is_empty() && self.transfers.is_empty()
    }

    /// Records a transfer of `keys` to `target`; returns its id.
    fn begin_transfer(&mut self, target: NodeId, keys: Vec<KeyId>) -> u64 {
        self.next_transfer += 1;
        for k in &keys {
            *self.transferring.entry(*k).or_insert(0) += 1;
        }
        self.transfers.insert(self.next_transfer, PendingTransfer { target, keys, sent_at: None });
        self.waiting.push_back(self.next_transfer);
        self.next_transfer
    }

    /// A transfer was acknowledged: returns the keys it carried that no other transfer still
    /// carries (none if the transfer was already acknowledged).
    fn acknowledge(&mut self, id: u64) -> Option<Vec<KeyId>> {
        let PendingTransfer { mut keys, sent_at, .. } = self.transfers.remove(&id)?;
        if sent_at.is_some() {
            self.in_flight -= 1;
        } else {
            self.waiting.retain(|w| *w != id);
        }
        keys.retain(|key| {
            let Some(outstanding) = self.transferring.get_mut(key) else { return false };
            *outstanding -= 1;
            if *outstanding > 0 {
                return false;
            }
            self.transferring.remove(key);
            true
        });
        Some(keys)
    }

    /// Strays ready to hand off; a key still in transfer waits for the next scan, because the
    /// version sent may predate the one that made it a stray again, and the ack must not delete
    /// what was never sent.
    fn take_strays(&mut self) -> BTreeSet<KeyId> {
        let (ready, in_transfer) = std::mem::take(&mut self.strays).into_iter().partition(|k| !self.transferring.contains_key(k));
        self.strays = in_transfer;
        ready
    }
}

impl Node {
    /// Hints waiting for delivery, in scan order: (key, intended node).
    pub fn pending_hints(&self) -> impl Iterator<Item = (KeyId, NodeId)> + '_ {
        self.handoff.hints.keys().copied()
    }

    /// A leaving node that has handed everything off can stop.
    pub fn is_drained(&self) -> bool {
        // The cheap tests first: this runs after every handler.
        self.replica.is_empty()
            && self.handoff.is_idle()
            && self.view.get(self.id).is_some_and(|r| r.status == MemberStatus::Leaving)
    }

    /// A hint delivered by the fall-back that kept it: stored, and acknowledged with the very
    /// set delivered so the fall-back can tell whether its hint changed since.
    pub(super) fn on_hint(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        key: KeyId,
        versions: Rc<VersionSet>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, None, &versions);
        out.push(NodeEffect::Send { to: from, payload: Payload::HintAck { key, versions } });
    }

    pub(super) fn on_hint_ack(&mut self, intended: NodeId, key: KeyId, versions: &Rc<VersionSet>) {
        // Delete only what was delivered: a hint updated since stays for the next scan.
        if self.handoff.hint(key, intended).is_some_and(|h| Rc::ptr_eq(h, versions)) {
            self.handoff.take_hint(key, intended);
            self.stats.hints_delivered += 1;
        }
    }

    /// Sends every hint whose intended node is not suspected (after re-addressing those whose
    /// node has left).
    pub(super) fn scan_hints(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        self.readdress_hints_of_departed(now, env);
        for (&(key, intended), versions) in &self.handoff.hints {
            if !self.detector.suspects(intended) {
                out.push(NodeEffect::Send {
                    to: Endpoint::Node(intended),
                    payload: Payload::Hint { key, versions: versions.clone() },
                });
            }
        }
    }

    /// Hints for a node that has left the ring (in this node's view) can never be delivered to
    /// it: they go to the key's current replicas instead, as a new hint each (or into this
    /// node's own store when it is one of them), so a decommission strands no acknowledged write.
    pub(super) fn readdress_hints_of_departed(&mut self, now: SimTime, env: &NodeEnv) {
        let departed = |n: NodeId| self.view.get(n).is_some_and(|r| r.status == MemberStatus::Leaving);
        let stranded: Vec<(KeyId, NodeId)> = self.handoff.hints.keys().copied().filter(|&(_, n)| departed(n)).collect();
        for (key, intended) in stranded {
            let Some(versions) = self.handoff.take_hint(key, intended) else { continue };
            for owner in env.ring.top_n(env.keys.position(key), env.protocol.n) {
                self.store_reconciled(now, env, key, Some(owner), &versions);
            }
        }
    }

    pub(super) fn note_if_stray(&mut self, env: &NodeEnv, key: KeyId) {
        // Without hinted handoff nothing hands strays home, and only a range transfer in flight
        // asks about them (one changed since it was sent is kept): with none in flight, a stray
        // noted now would be cleared unread when the next transfer starts.
        if !env.protocol.hinted_handoff && self.handoff.transfers.is_empty() {
            return;
        }
        let mut top = std::mem::take(&mut self.scratch);
        env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.n, &mut top);
        if !top.contains(&self.id) {
            self.handoff.strays.insert(key);
        }
        self.scratch = top;
    }

    /// Hands off the strays: keys this node holds but does not replicate, to the nodes that do.
    /// Handing misplaced copies home is hinted handoff's job, so it runs only with it on;
    /// without it a fall-back keeps what it was given, as Dynamo's would.
    pub(super) fn hand_off_strays(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        if !env.protocol.hinted_handoff {
            self.handoff.strays.clear();
            return;
        }
        let strays = self.handoff.take_strays();
        let mut batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>> = BTreeMap::new();
        for key in strays {
            let top = env.ring.top_n(env.keys.position(key), env.protocol.n);
            if top.contains(&self.id) {
                continue;
            }
            if let Some(v) = self.replica.get(key) {
                for t in top {
                    batches.entry(t).or_default().push((key, v.clone()));
                }
            }
        }
        self.send_transfers(now, batches, out);
    }

    pub(super) fn send_transfers(
        &mut self,
        now: SimTime,
        batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>>,
        out: &mut Vec<NodeEffect>,
    ) {
        if batches.is_empty() {
            return;
        }
        if self.handoff.transfers.is_empty() {
            self.stats.handoff_started_at = Some(now);
            self.stats.handoff_done_at = None;
        }
        for (target, entries) in batches {
            // Batches of at most 64 keys and about a megabyte, so one takes a fraction of the
            // patience at the stream rate.
            let mut keys: Vec<KeyId> = Vec::new();
            let mut bytes = 0;
            for (i, (key, versions)) in entries.iter().enumerate() {
                keys.push(*key);
                bytes += versions.size_bytes();
                if keys.len() == 64 || bytes >= TRANSFER_BYTES || i + 1 == entries.len() {
                    self.stats.keys_transferred += keys.len() as u64;
                    self.handoff.begin_transfer(target, std::mem::take(&mut keys));
                    bytes = 0;
                }
            }
        }
        self.send_waiting_transfers(now, out);
    }

    /// Sends waiting transfers, with the keys' current versions, while the window has room.
    fn send_waiting_transfers(&mut self, now: SimTime, out: &mut Vec<NodeEffect>) {
        while self.handoff.in_flight < TRANSFERS_IN_FLIGHT {
            let Some(id) = self.handoff.waiting.pop_front() else { break };
            let Some(t) = self.handoff.transfers.get_mut(&id) else { continue };
            let entries: Vec<(KeyId, Rc<VersionSet>)> =
                t.keys.iter().filter_map(|k| self.replica.get(*k).map(|v| (*k, v.clone()))).collect();
            t.sent_at = Some(now);
            self.handoff.in_flight += 1;
            self.stats.transfer_messages += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Node(t.target),
                payload: Payload::Transfer { id, entries, view: self.view.clone() },
            });
        }
    }

    /// After this node's ring changed from `old` to `env.ring`: hands every key it no longer
    /// replicates to the nodes that newly do (Dynamo §4.9), and rebuilds its Merkle trees, whose
    /// ranges moved. A key is deleted once every new owner has acknowledged it.
    pub fn handoff(&mut self, now: SimTime, old: &Ring, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let n = env.protocol.n;
        let mut keys: Vec<KeyId> = self.replica.keys().copied().collect();
        keys.sort_unstable();
        let mut batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>> = BTreeMap::new();
        for &key in &keys {
            let position = env.keys.position(key);
            let new_top = env.ring.top_n(position, n);
            if new_top.contains(&self.id) {
                continue;
            }
            let old_top = old.top_n(position, n);
            let mut targets: Vec<NodeId> = new_top.iter().copied().filter(|t| !old_top.contains(t)).collect();
            if targets.is_empty() {
                targets = new_top;
            }
            for t in targets {
                if let Some(v) = self.replica.get(key) {
                    batches.entry(t).or_default().push((key, v.clone()));
                }
            }
        }
        self.handoff.strays.clear();
        if !batches.is_empty() && !env.ring.fixed_partitions() {
            // Dynamo §6.2, strategy 1: the keys of the ranges handed off are found by scanning
            // the whole local store (the same pass rebuilds the Merkle trees). Under fixed
            // partitions each partition is a file of its own that the transfer streams whole.
            // A node that hands nothing off reads nothing: the transfers it receives update its
            // trees as they arrive.
            self.replica.scanned(self.replica.size_bytes());
        }
        self.send_transfers(now, batches, out);
        self.rebuild_trees(env);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_transfer(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        id: u64,
        entries: &[(KeyId, Rc<VersionSet>)],
        view: &Rc<Membership>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.adopt_view(view, out);
        for (key, versions) in entries {
            self.store_reconciled(now, env, *key, None, versions);
        }
        out.push(NodeEffect::Send { to: from, payload: Payload::TransferAck { id, view: self.view.clone() } });
    }

    /// A transfer was acknowledged: a key handed to every new owner is deleted here, unless
    /// this node's view has just changed (`env.ring` is then the old ring, and the handoff
    /// that follows decides afresh what this node still owns).
    pub(super) fn on_transfer_ack(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        id: u64,
        view: &Rc<Membership>,
        out: &mut Vec<NodeEffect>,
    ) {
        let view_changed = self.adopt_view(view, out);
        let Some(delivered) = self.handoff.acknowledge(id) else { return };
        self.send_waiting_transfers(now, out);
        for key in delivered {
            // A stray changed since it was sent: kept until the next scan hands it off.
            if !view_changed
                && !self.handoff.strays.contains(&key)
                && !env.ring.top_n(env.keys.position(key), env.protocol.n).contains(&self.id)
            {
                let old = self.replica.remove(key);
                self.track(env, key, old, 0);
            }
        }
        if self.handoff.transfers.is_empty() {
            self.stats.handoff_done_at = Some(now);
        }
    }

    /// Resends handoffs unacknowledged for a gossip interval (the message or its ack was lost),
    /// with the keys' current versions, so a leaving node still drains on a lossy network.
    pub(super) fn resend_transfers(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let patience = env.protocol.gossip_interval;
        let overdue = |t: &PendingTransfer| t.sent_at.is_some_and(|at| now.since(at) >= patience);
        for (&id, t) in self.handoff.transfers.iter_mut().filter(|(_, t)| overdue(t)) {
            let entries: Vec<(KeyId, Rc<VersionSet>)> =
                t.keys.iter().filter_map(|k| self.replica.get(*k).map(|v| (*k, v.clone()))).collect();
            t.sent_at = Some(now);
            self.stats.transfer_messages += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Node(t.target),
                payload: Payload::Transfer { id, entries, view: self.view.clone() },
            });
        }
    }
}
