//! The replica: a node's store of version sets per key (Riak's vnode). It answers replica
//! reads, mints versions for the puts it coordinates (its own dot, or a timestamp under
//! last-write-wins) and merges what peers send into what it holds. Whether a write reaches the
//! disk at once or waits in memory for the writer's flush is the storage model's (`storage`).

use crate::node::merkle::digest;
use crate::node::message::{Payload, PutBody, Target};
use crate::node::storage::{StorageModel, WriteBuffer};
use crate::node::versioning::{CausalContext, Dot, Resolution, Sibling, VectorClock, VersionSet};
use crate::node::*;
use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{Endpoint, KeyId, NodeId, RequestId, WriteId};

/// What a crash put back to its disk version: a key, the writes memory held of it (the current
/// versions' writes) and those the disk holds. The oracle tells which acknowledged writes only
/// memory reflected.
#[derive(Debug)]
pub struct Unflushed {
    pub key: KeyId,
    pub in_memory: Vec<WriteId>,
    pub on_disk: Vec<WriteId>,
}
use crate::sim::keymap::KeyMap;
use std::rc::Rc;

/// The store: a version set per key this node replicates (what memory holds; the buffer knows
/// what the disk holds), and the counters that keep its dots unique.
#[derive(Default)]
pub(super) struct ReplicaStore {
    store: KeyMap<Rc<VersionSet>>,
    buffer: WriteBuffer,
    /// Highest counter this node has minted per key; durable, so a dot is never reused.
    minted: FastMap<KeyId, u64>,
    /// Bumped when the disk is lost: a replacement mints dots that can never collide with the
    /// old node's.
    disk_epoch: u64,
    /// This node's clock error: its timestamps are simulated time plus this.
    clock_skew_ns: i64,
    /// Keys whose replica here changed since the observer last asked; kept only when divergence
    /// is sampled, so a sample need check only these and the keys divergent last time.
    changed_keys: Option<Vec<KeyId>>,
    /// Bytes background work has read from the store since the world last asked.
    unscanned_bytes: u64,
}

impl ReplicaStore {
    /// Every write the store and its buffer hold.
    pub(super) fn held_writes(&self, out: &mut Vec<WriteId>) {
        out.extend(self.store.iter().flat_map(|(_, v)| v.siblings.iter().map(|s| s.write)));
        self.buffer.held_writes(out);
    }

    pub(super) fn get(&self, key: KeyId) -> Option<&Rc<VersionSet>> {
        self.store.get(&key)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&KeyId, &Rc<VersionSet>)> {
        self.store.iter()
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &KeyId> {
        self.store.keys()
    }

    /// Background work read `bytes` of the store (a tree build, a handoff's scan).
    pub(super) fn scanned(&mut self, bytes: u64) {
        self.unscanned_bytes += bytes;
    }

    /// The bytes a scan of the whole store reads.
    pub(super) fn size_bytes(&self) -> u64 {
        self.store.iter().map(|(_, v)| v.size_bytes() as u64).sum()
    }

    /// Stores a key's new version set; returns the digest of the set it replaces.
    fn insert(&mut self, key: KeyId, versions: Rc<VersionSet>) -> u64 {
        self.note_changed(key);
        self.store.insert(key, versions).map_or(0, |old| digest(key, &old))
    }

    /// Replaces a key's set by one with the same versions (pruned clocks): no digest changes.
    pub(super) fn replace(&mut self, key: KeyId, versions: Rc<VersionSet>) {
        self.insert(key, versions);
    }

    /// Deletes a key handed to its new owners; returns the digest of the set it held.
    pub(super) fn remove(&mut self, key: KeyId) -> u64 {
        self.note_changed(key);
        self.buffer.forget(key);
        self.store.remove(&key).map_or(0, |old| digest(key, &old))
    }

    /// After a write to the store: a write-through under the buffered model is on its way to
    /// disk.
    fn wrote(&mut self, env: &NodeEnv, key: KeyId, versions: &Rc<VersionSet>, through: bool) {
        if through && env.protocol.storage != StorageModel::Durable {
            self.buffer.wrote_through(key, versions.clone());
        }
    }

    fn note_changed(&mut self, key: KeyId) {
        if let Some(changed) = &mut self.changed_keys {
            changed.push(key);
        }
    }

    /// The next counter for a dot this node mints for `key`: above every counter it has minted
    /// (on this disk or, after a replacement, any earlier one) and every one it has seen.
    fn next_counter(&mut self, me: NodeId, key: KeyId, held: &VersionSet, context: &CausalContext) -> u64 {
        let minted = self.minted.entry(key).or_insert(0);
        let floor = self.disk_epoch << 40;
        let counter = (*minted).max(floor).max(held.max_counter(me)).max(context.clock.get(me)) + 1;
        *minted = counter;
        counter
    }

    pub(super) fn lose_disk(&mut self) {
        if let Some(changed) = &mut self.changed_keys {
            changed.extend(self.store.keys());
        }
        self.store.clear();
        self.buffer.clear();
        self.minted.clear();
        self.disk_epoch += 1;
    }

    /// What this node's clock reads: simulated time plus its skew.
    pub(super) fn local_clock(&self, now: SimTime) -> SimTime {
        SimTime(now.as_nanos().saturating_add_signed(self.clock_skew_ns))
    }
}

impl Node {
    /// This node's own replica of a key (hints excluded).
    pub fn versions(&self, key: KeyId) -> Option<&Rc<VersionSet>> {
        self.replica.get(key)
    }

    /// From now on, remembers which keys' replicas change (see [`Node::drain_changed_keys`]).
    pub fn record_changed_keys(&mut self) {
        self.replica.changed_keys.get_or_insert_with(Vec::new);
    }

    /// Moves the keys whose replica changed since the last call into `into` (with repeats).
    pub fn drain_changed_keys(&mut self, into: &mut Vec<KeyId>) {
        if let Some(changed) = &mut self.replica.changed_keys {
            into.append(changed);
        }
    }

    /// See [`KeyMap::prefetch`].
    pub fn prefetch(&self, key: KeyId) {
        self.replica.store.prefetch(key);
    }

    /// Every version set this node holds for a key: its own and any hints.
    pub fn all_versions(&self, key: KeyId) -> impl Iterator<Item = &Rc<VersionSet>> {
        self.replica.get(key).into_iter().chain(self.handoff.hints_for(key))
    }

    /// Visits every version set this node holds, its own and hints (in no particular order).
    pub fn for_each_version_set(&self, mut f: impl FnMut(KeyId, &VersionSet)) {
        for (key, set) in self.replica.iter() {
            f(*key, set);
        }
        for ((key, _), set) in self.handoff.hints() {
            f(key, set);
        }
    }

    pub fn set_clock_skew(&mut self, skew_ns: i64) {
        self.replica.clock_skew_ns = skew_ns;
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
        write_through: bool,
    ) -> (Rc<VersionSet>, Rc<CausalContext>) {
        let intended = hint.filter(|h| *h != self.id);
        if env.protocol.injected_bug == Some(InjectedBug::SameInstantReorderDropsWrite) {
            let reordered = matches!(self.last_mint, Some((k, at, w)) if k == key && at == now && w > body.write);
            self.last_mint = Some((key, now, body.write));
            if reordered {
                let held = self.replica.store.get(&key).cloned().unwrap_or_default();
                return (held, body.context.clone());
            }
        }
        let through = match intended {
            Some(_) => self.note_hint_write(),
            None => self.note_store_write(env, key, write_through),
        };
        let mut slot = match intended {
            Some(intended) => self.handoff.take_hint(key, intended).unwrap_or_else(|| {
                self.stats.hints_stored += 1;
                Rc::default()
            }),
            None => self.replica.store.remove(&key).unwrap_or_default(),
        };
        let old_digest = digest(key, &slot);
        let after = self.apply_new_version(now, env, key, body, &mut slot);
        match intended {
            Some(intended) => {
                self.handoff.put_hint(key, intended, slot.clone());
            }
            None => {
                let new_digest = digest(key, &slot);
                self.replica.insert(key, slot.clone());
                self.replica.wrote(env, key, &slot, through);
                self.track(env, key, old_digest, new_digest);
                self.note_if_stray(env, key);
                self.note_if_tombstone(now, env, key, &slot);
            }
        }
        (slot, after)
    }

    /// Mints a new version of `key` from a client's put without storing it: what a coordinator
    /// outside the key's replicas sends to all of them under direct coordination (Cassandra's
    /// StorageProxy), or any coordinator whose own write goes over the network. The set holds
    /// the new version alone, superseding what the client's context covers; each replica merges
    /// it into what it holds.
    pub(super) fn mint_detached(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        body: &PutBody,
    ) -> (Rc<VersionSet>, Rc<CausalContext>) {
        let mut slot = Rc::default();
        let after = self.apply_new_version(now, env, key, body, &mut slot);
        (slot, after)
    }

    /// Applies a client's put to `slot` as a version with a fresh dot of this node's; returns
    /// the context the client has after its write.
    fn apply_new_version(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        body: &PutBody,
        slot: &mut Rc<VersionSet>,
    ) -> Rc<CausalContext> {
        let counter = self.replica.next_counter(self.id, key, slot, &body.context);
        let dot = Dot { node: self.id, counter };
        let local_now = self.replica.local_clock(now);
        let resolution = env.protocol.conflict.resolution();
        let pruning = env.protocol.clock_pruning;
        // Per-version clocks (Dynamo §4.4): the client's context with this node's entry raised
        // to the fresh counter, stamped by this node's own clock, truncated at the threshold.
        let mut clock = VectorClock::new();
        if resolution == Resolution::VectorClocks {
            clock = body.context.clock.clone();
            clock.advance(self.id, counter, local_now);
            if pruning.inline() {
                self.stats.clock_entries_truncated += clock.prune(&pruning, local_now) as u64;
            }
        }
        let after = match resolution {
            Resolution::VectorClocks => CausalContext { clock: clock.clone(), dots: Box::default() },
            _ => {
                let mut after = (*body.context).clone();
                after.add_dot(dot, now);
                after
            }
        };
        let sibling = Sibling {
            dot,
            clock,
            written_at: local_now,
            write: body.write,
            cart: body.cart.clone(),
            value_bytes: body.value_bytes,
            tombstone: body.tombstone,
        };
        let versions = Rc::make_mut(slot);
        if versions.apply_write_with(resolution, &body.context, sibling, now) {
            self.stats.concurrent_writes += 1;
        }
        if pruning.inline() {
            self.stats.clock_entries_truncated += versions.prune(&pruning, local_now) as u64;
        }
        Rc::new(after)
    }

    /// Reconciles incoming versions into the store, or into the hint store when they are held
    /// for another node; returns whether anything changed. A repair, hand-off or transfer:
    /// buffered under the buffered storage model.
    pub(super) fn store_reconciled(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        hint: Option<NodeId>,
        incoming: &Rc<VersionSet>,
    ) -> bool {
        self.store_reconciled_through(now, env, key, hint, incoming, false)
    }

    /// [`Node::store_reconciled`] for a put's replica write, which the coordinator may have
    /// asked to write through to disk.
    pub(super) fn store_reconciled_through(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        hint: Option<NodeId>,
        incoming: &Rc<VersionSet>,
        write_through: bool,
    ) -> bool {
        let intended = hint.filter(|h| *h != self.id);
        let current = match intended {
            Some(i) => self.handoff.hint(key, i),
            None => self.replica.get(key),
        };
        let updated = match current {
            Some(slot) if Rc::ptr_eq(slot, incoming) || **slot == **incoming => return false,
            Some(slot) if !(slot.is_empty() && slot.superseded.is_empty()) => {
                let mut merged = (**slot).clone();
                if !merged.reconcile_with(env.protocol.conflict.resolution(), incoming, now) {
                    return false;
                }
                let pruning = env.protocol.clock_pruning;
                if pruning.inline() {
                    let local_now = self.replica.local_clock(now);
                    self.stats.clock_entries_truncated += merged.prune(&pruning, local_now) as u64;
                }
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
                self.note_hint_write();
                if self.handoff.put_hint(key, i, updated) {
                    self.stats.hints_stored += 1;
                }
            }
            None => {
                let through = self.note_store_write(env, key, write_through);
                let new = digest(key, &updated);
                self.replica.wrote(env, key, &updated, through);
                self.note_if_tombstone(now, env, key, &updated);
                let old = self.replica.insert(key, updated);
                self.track(env, key, old, new);
                self.note_if_stray(env, key);
            }
        }
        true
    }

    /// Before a write to the store; returns whether it goes to disk at once (else to the
    /// buffer).
    fn note_store_write(&mut self, env: &NodeEnv, key: KeyId, requested: bool) -> bool {
        let model = env.protocol.storage;
        let through = self.replica.buffer.before_write(model, key, self.replica.store.get(&key), requested);
        if through {
            self.stats.disk_writes += 1;
        } else {
            self.stats.buffered_writes += 1;
        }
        through
    }

    /// Hints go to disk at once under every storage model (Dynamo's separate local database).
    fn note_hint_write(&mut self) -> bool {
        self.stats.disk_writes += 1;
        self.replica.buffer.charge_disk_write();
        true
    }

    /// The disk work this node did since the last call, for the world to queue on its disk.
    pub fn take_disk_work(&mut self) -> DiskWork {
        DiskWork {
            reads: self.replica.buffer.take_disk_reads(),
            writes: self.replica.buffer.take_disk_writes(),
            scan_bytes: std::mem::take(&mut self.replica.unscanned_bytes),
        }
    }

    /// The world's answer to [`Node::take_disk_work`]: those writes are on disk at `done`.
    pub fn disk_writes_done(&mut self, done: SimTime) {
        self.replica.buffer.disk_writes_done(done);
    }

    /// The writer's periodic flush: the buffer is on disk.
    pub(super) fn flush(&mut self) {
        self.stats.flushes += 1;
        self.stats.keys_flushed += self.replica.buffer.flush() as u64;
    }

    /// A crash at `now` loses the buffer: every key written since the last flush goes back to
    /// its disk version (the Merkle trees follow). Returns, per key, the writes memory held and
    /// the writes the disk holds, in key order.
    pub(super) fn lose_unflushed(&mut self, now: SimTime, env: &NodeEnv) -> Vec<Unflushed> {
        let mut lost = Vec::new();
        let store = &self.replica.store;
        let restore = self.replica.buffer.lose(now, |key| store.get(&key));
        let writes = |set: Option<&Rc<VersionSet>>| set.map_or(Vec::new(), |v| v.siblings.iter().map(|s| s.write).collect());
        for (key, on_disk) in restore {
            let entry = Unflushed { key, in_memory: writes(self.replica.get(key)), on_disk: writes(on_disk.as_ref()) };
            let discarded = entry.in_memory.iter().filter(|w| !entry.on_disk.contains(w)).count();
            self.stats.versions_discarded += discarded as u64;
            lost.push(entry);
            let (old, new) = match on_disk {
                Some(versions) => {
                    let new = digest(key, &versions);
                    (self.replica.insert(key, versions), new)
                }
                None => (self.replica.remove(key), 0),
            };
            self.track(env, key, old, new);
        }
        lost
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_get_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        req: RequestId,
        key: KeyId,
        digest_only: bool,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let versions = self.local_read(now, env, key);
        if versions.is_some() && self.replica.buffer.charge_disk_read(key) {
            self.stats.disk_reads += 1;
        }
        let payload = if digest_only {
            let digest = versions.as_deref().map_or(0, |v| digest(key, v));
            Payload::GetReply { req, key, versions: None, digest: Some(digest) }
        } else {
            Payload::GetReply { req, key, versions, digest: None }
        };
        out.push(NodeEffect::Send { to: from, payload });
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
        write_through: bool,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.store_reconciled_through(now, env, key, hint, versions, write_through);
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
        lead: Target,
        others: Vec<Target>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let (versions, minted) = self.mint(now, env, key, body, lead.hint, lead.write_through);
        for t in others {
            let (hint, write_through) = (t.hint, t.write_through);
            let payload = Payload::PutRequest { req, key, versions: versions.clone(), coordinator, hint, write_through };
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
