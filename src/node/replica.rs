//! The replica: a node's durable store of version sets per key (Riak's vnode). It answers
//! replica reads, mints versions for the puts it coordinates (its own dot, or a timestamp under
//! last-write-wins) and merges what peers send into what it holds.

use crate::cluster::message::{Payload, PutBody, Target};
use crate::node::merkle::digest;
use crate::node::versioning::{CausalContext, Dot, Sibling, VersionSet};
use crate::node::*;
use crate::sim::engine::SimTime;
use crate::sim::ids::{Endpoint, KeyId, NodeId, RequestId};
use std::rc::Rc;

impl Node {
    /// This node's own replica of a key (hints excluded).
    pub fn versions(&self, key: KeyId) -> Option<&Rc<VersionSet>> {
        self.store.get(&key)
    }

    /// From now on, remembers which keys' replicas change (see [`Node::drain_changed_keys`]).
    pub fn record_changed_keys(&mut self) {
        self.changed_keys.get_or_insert_with(Vec::new);
    }

    /// Moves the keys whose replica changed since the last call into `into` (with repeats).
    pub fn drain_changed_keys(&mut self, into: &mut Vec<KeyId>) {
        if let Some(changed) = &mut self.changed_keys {
            into.append(changed);
        }
    }

    pub(super) fn note_changed(&mut self, key: KeyId) {
        if let Some(changed) = &mut self.changed_keys {
            changed.push(key);
        }
    }

    /// See [`KeyMap::prefetch`].
    pub fn prefetch(&self, key: KeyId) {
        self.store.prefetch(key);
    }

    /// Every version set this node holds for a key: its own and any hints.
    pub fn all_versions(&self, key: KeyId) -> impl Iterator<Item = &Rc<VersionSet>> {
        let hints = (!self.hints.is_empty()).then(|| self.hints.range((key, NodeId(0))..=(key, NodeId(u32::MAX))));
        self.store.get(&key).into_iter().chain(hints.into_iter().flatten().map(|(_, v)| v))
    }

    /// Visits every version set this node holds, its own and hints (in no particular order).
    pub fn for_each_version_set(&self, mut f: impl FnMut(KeyId, &VersionSet)) {
        for (key, set) in self.store.iter() {
            f(*key, set);
        }
        for ((key, _), set) in &self.hints {
            f(*key, set);
        }
    }

    pub fn set_clock_skew(&mut self, skew_ns: i64) {
        self.clock_skew_ns = skew_ns;
    }

    /// What this node's clock reads: simulated time plus its skew.
    pub(super) fn local_clock(&self, now: SimTime) -> SimTime {
        SimTime(now.as_nanos().saturating_add_signed(self.clock_skew_ns))
    }

    /// This node's versions of a key, including hints it keeps for others (a fall-back in the
    /// first N healthy nodes answers reads with what it holds).
    pub(super) fn local_read(&self, now: SimTime, env: &NodeEnv, key: KeyId) -> Option<Rc<VersionSet>> {
        let mut sets = self.all_versions(key);
        let first = sets.next()?.clone();
        let mut merged: Option<VersionSet> = None;
        for s in sets {
            merged.get_or_insert_with(|| (*first).clone()).reconcile_with(env.protocol.conflict.resolution(), s, now);
        }
        Some(merged.map_or(first, Rc::new))
    }

    /// Mints a new version of `key` from a client's put and stores it (as a hint when this node
    /// stands in for `hint`); returns the updated version set (to replicate) and the context the
    /// client has after its write.
    pub(super) fn mint(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        body: &PutBody,
        hint: Option<NodeId>,
    ) -> (Rc<VersionSet>, Rc<CausalContext>) {
        let intended = hint.filter(|h| *h != self.id);
        let mut slot = match intended {
            Some(intended) => {
                if !self.hints.contains_key(&(key, intended)) {
                    self.stats.hints_stored += 1;
                }
                self.hints.remove(&(key, intended)).unwrap_or_default()
            }
            None => self.store.remove(&key).unwrap_or_default(),
        };
        let old_digest = digest(key, &slot);
        let minted = self.minted.entry(key).or_insert(0);
        let floor = self.disk_epoch << 40;
        let counter = (*minted).max(floor).max(slot.max_counter(self.id)).max(body.context.clock.get(self.id)) + 1;
        *minted = counter;
        let dot = Dot { node: self.id, counter };
        let sibling = Sibling { dot, written_at: self.local_clock(now), write: body.write, cart: body.cart.clone() };
        let versions = Rc::make_mut(&mut slot);
        if versions.apply_write_with(env.protocol.conflict.resolution(), &body.context, sibling, now) {
            self.stats.concurrent_writes += 1;
        }
        self.stats.clock_entries_truncated += versions.truncate(env.protocol.clock_truncation_threshold) as u64;
        let mut after = (*body.context).clone();
        after.add_dot(dot, now);
        match intended {
            Some(intended) => {
                self.hints.insert((key, intended), slot.clone());
            }
            None => {
                let new_digest = digest(key, &slot);
                self.store.insert(key, slot.clone());
                self.note_changed(key);
                self.track(env, key, old_digest, new_digest);
                self.note_if_stray(env, key);
            }
        }
        (slot, Rc::new(after))
    }

    /// Reconciles incoming versions into the store, or into the hint store when they are held
    /// for another node; returns whether anything changed.
    pub(super) fn store_reconciled(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        hint: Option<NodeId>,
        incoming: &Rc<VersionSet>,
    ) -> bool {
        let intended = hint.filter(|h| *h != self.id);
        let current = match intended {
            Some(i) => self.hints.get(&(key, i)),
            None => self.store.get(&key),
        };
        let updated = match current {
            Some(slot) if Rc::ptr_eq(slot, incoming) || **slot == **incoming => return false,
            Some(slot) if !(slot.is_empty() && slot.superseded.is_empty()) => {
                let mut merged = (**slot).clone();
                if !merged.reconcile_with(env.protocol.conflict.resolution(), incoming, now) {
                    return false;
                }
                self.stats.clock_entries_truncated += merged.truncate(env.protocol.clock_truncation_threshold) as u64;
                // Usually the incoming set supersedes what was here, and the merge is that set:
                // sharing it saves the copy and lets the next read's replies agree at a glance.
                if merged == **incoming {
                    incoming.clone()
                } else {
                    Rc::new(merged)
                }
            }
            _ => incoming.clone(),
        };
        match intended {
            Some(i) => {
                if self.hints.insert((key, i), updated).is_none() {
                    self.stats.hints_stored += 1;
                }
            }
            None => {
                let old = self.store.get(&key).map_or(0, |v| digest(key, v));
                let new = digest(key, &updated);
                self.store.insert(key, updated);
                self.note_changed(key);
                self.track(env, key, old, new);
                self.note_if_stray(env, key);
            }
        }
        true
    }

    pub(super) fn on_get_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        req: RequestId,
        key: KeyId,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let versions = self.local_read(now, env, key);
        out.push(NodeEffect::Send { to: from, payload: Payload::GetReply { req, key, versions } });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_put_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        req: RequestId,
        key: KeyId,
        versions: &Rc<VersionSet>,
        coordinator: NodeId,
        hint: Option<NodeId>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, hint, versions);
        out.push(NodeEffect::Send { to: Endpoint::Node(coordinator), payload: Payload::PutAck { req, key, minted: None } });
    }

    /// Proxy coordination: this replica mints the version, replicates it to `others` and
    /// answers the coordinator with what it minted.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_mint_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        coordinator: NodeId,
        req: RequestId,
        key: KeyId,
        body: &PutBody,
        hint: Option<NodeId>,
        others: Vec<Target>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let (versions, minted) = self.mint(now, env, key, body, hint);
        for t in others {
            let payload = Payload::PutRequest { req, key, versions: versions.clone(), coordinator, hint: t.hint };
            out.push(NodeEffect::Send { to: Endpoint::Node(t.node), payload });
        }
        out.push(NodeEffect::Send {
            to: Endpoint::Node(coordinator),
            payload: Payload::PutAck { req, key, minted: Some((minted, versions)) },
        });
    }

    pub(super) fn on_read_repair(&mut self, now: SimTime, env: &NodeEnv, key: KeyId, versions: &Rc<VersionSet>) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, None, versions);
    }
}
