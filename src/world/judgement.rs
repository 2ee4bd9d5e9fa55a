//! The end-of-run judgement: convergence, lost writes (by the oracle's history against what
//! the nodes hold), the carts' anomalies, and the figures a report is built from.

use super::World;
use crate::observe::convergence::{self, Snapshot};
use crate::observe::ops::ClientHistory;
use crate::observe::{Deletes, LostWrite, LostWrites, RunResult};
use crate::scenario::workload::ValueModel;
use crate::sim::engine::SimTime;
use crate::sim::ids::{KeyId, WriteId};
use crate::world::client::Client;
use std::collections::BTreeMap;
use std::rc::Rc;

impl<'s> World<'s> {
    pub(super) fn finish(mut self) -> RunResult {
        let convergence = self.snapshot();
        let explained = self.explain_key.map_or(Vec::new(), |k| self.describe_holdings(k));
        let held = convergence::held_writes(&self.nodes);
        let mut lost_writes = std::mem::take(&mut self.lost_writes);
        let mut deletes = Deletes::default();
        // Without deletes there is nothing to count, and the end of a long run walks every key.
        let deleting = self.scenario.workload.delete_fraction > 0.0;
        self.judge_written_keys(&held, &mut lost_writes, &mut deletes, deleting);
        let (acked_adds, lost_adds, resurfaced_items) = self.judge_carts();
        if deleting {
            for node in &self.nodes {
                node.for_each_version_set(|_, set| deletes.tombstone_replicas += set.is_deleted() as u64);
            }
        }
        // A schedule's injected faults come after the scenario's in the list, not in time order.
        self.faults.sort_by_key(|f| f.at);
        let last_fault = self.faults.last().map(|f| SimTime::ZERO.after(f.at));
        let converged_after_last_fault = last_fault.and_then(|t| {
            let sampled = self.samples.iter().find(|(at, s)| *at >= t && s.converged()).map(|(at, _)| *at);
            sampled.or(convergence.converged().then_some(self.engine.now()))
        });
        let keys_owned = self.keys_owned();
        let keys = &self.keys;
        let client_history = self.op_log.take().map(|log| ClientHistory {
            events: log.events,
            key_names: (0..keys.len()).map(|k| keys.name(KeyId(k as u32)).into()).collect(),
        });
        let ring = &self.ring;
        let down_at_end = ring.members().iter().map(|m| m.node).filter(|n| !self.node_up[n.index()]).collect();
        RunResult {
            client_history,
            down_at_end,
            busy: self.resources.busy.clone(),
            metrics: self.metrics,
            history: self.history,
            node_stats: self.nodes.iter().map(|n| n.stats.clone()).collect(),
            keys_owned,
            partitions_owned: self.ring.ranges_per_node(self.nodes.len()),
            ring_members: self.ring.members().iter().map(|m| m.node.index()).collect(),
            events_processed: self.engine.events_processed(),
            timeouts_retired: self.timeouts_retired,
            simulated_end: self.engine.now(),
            peak_pending_events: self.peak_pending,
            network_fingerprint: self.network.first_delays().to_vec(),
            convergence,
            samples: self.samples,
            converged_after_last_fault,
            last_fault,
            lost_writes,
            acked_adds,
            lost_adds,
            resurfaced_items,
            deletes,
            agreement: self.agreement,
            change_transfers: self.change_transfers,
            decommissioned: self.decommissioned,
            faults: self.faults,
            explained,
            ring_metadata_entries: self.ring.metadata_entries(),
            ring_ranges: self.ring.range_count(),
            client_sessions: self.clients.iter().map(Client::session_count).sum(),
            stopped: self.stopped,
            chooser: self.schedule.map(|c| *c),
        }
    }

    /// Every written key's lost writes (named, or counted where the history folded them) and,
    /// with deletes, its acknowledged deletes and resurrection.
    fn judge_written_keys(
        &mut self,
        held: &BTreeMap<KeyId, Vec<WriteId>>,
        lost_writes: &mut LostWrites,
        deletes: &mut Deletes,
        deleting: bool,
    ) {
        for key in self.history.written_keys() {
            let held_now = held.get(&key).map_or(&[][..], Vec::as_slice);
            if deleting {
                deletes.acknowledged += self.history.acked_deletes(key).len() as u64;
                if let Some((back, delete)) = self.history.resurrected(key, held_now) {
                    deletes.resurrected_keys += 1;
                    if deletes.resurrections.len() < Deletes::NAMED {
                        deletes.resurrections.push((self.keys.name(key).to_string(), back, delete));
                    }
                }
            }
            // Each lost write, with the write it is judged by: itself, or the write it was folded
            // into (reflected exactly when that one is, by anything; see History::prune).
            let mut lost: Vec<(WriteId, SimTime, WriteId)> =
                self.history.lost_writes(key, held_now).into_iter().map(|(w, at)| (w, at, w)).collect();
            let mut unnamed = Vec::new();
            for hidden in self.history.hidden_losses(key, held_now) {
                lost.extend(hidden.named.iter().map(|&(w, at)| (w, at, hidden.head)));
                unnamed.push((hidden.head, hidden.unnamed));
            }
            let crashes = self.unflushed_lost.get(&key).map_or(&[][..], Vec::as_slice);
            let history = &mut self.history;
            let mut unflushed =
                |w: WriteId| crashes.iter().any(|c| history.reflects(&c.in_memory, w) && !history.reflects(&c.on_disk, w));
            // Named once per key that lost a write, and shared by its lost writes.
            let mut name: Option<Rc<str>> = None;
            for (write, acked_at, judged_by) in lost {
                let key_name = name.get_or_insert_with(|| self.keys.name(key).into()).clone();
                let lost = LostWrite { key_id: key, key: key_name, write, acked_at, unflushed: unflushed(judged_by) };
                lost_writes.push(lost, self.explain_key == Some(key));
            }
            for (head, count) in unnamed {
                lost_writes.push_unnamed(count, unflushed(head));
            }
        }
    }

    /// How many workload keys each node holds a replica of at the end.
    fn keys_owned(&self) -> Vec<u64> {
        let n = self.scenario.protocol.n;
        let mut keys_owned = vec![0u64; self.nodes.len()];
        let mut list = Vec::with_capacity(n);
        for k in 0..self.scenario.workload.key_count {
            let key = KeyId(k as u32);
            self.ring.cached_list(key, || self.keys.position(key), n, n, &mut list);
            for node in &list {
                keys_owned[node.index()] += 1;
            }
        }
        keys_owned
    }

    /// The cart judgements at the end of a run: acknowledged adds lost, and removed items that
    /// came back. Each cart write adds an item named by its write id. An acknowledged add is lost
    /// if no held cart contains it and no write removed it, whatever the clocks say. A removal
    /// by an acknowledged write is undone (the item resurfaced) if the carts held at the end,
    /// merged, contain the item again.
    /// Returns (acknowledged adds, adds lost, items resurfaced).
    fn judge_carts(&self) -> (u64, u64, u64) {
        if !matches!(self.scenario.workload.value_model, ValueModel::Cart { .. }) {
            return (0, 0, 0);
        }
        let items = convergence::held_cart_items(&self.nodes);
        let tombstones = convergence::held_cart_tombstones(&self.nodes);
        let (mut acked_adds, mut lost_adds, mut resurfaced) = (0u64, 0u64, 0u64);
        for key in self.history.written_keys() {
            acked_adds += self.history.acked_writes(key).len() as u64;
            let held = items.get(&key).map_or(&[][..], Vec::as_slice);
            let dead = tombstones.get(&key).map_or(&[][..], Vec::as_slice);
            let removals = self.history.cart_removals(key);
            // Sorted once: a hot cart's thousands of adds each ask whether it was removed.
            let mut removed_items: Vec<u64> = removals.iter().map(|&(item, _)| item).collect();
            removed_items.sort_unstable();
            let removed = |item: u64| removed_items.binary_search(&item).is_ok();
            lost_adds +=
                self.history.acked_writes(key).iter().filter(|(w, _)| held.binary_search(&w.0).is_err() && !removed(w.0)).count()
                    as u64;
            let mut back: Vec<u64> = removals
                .iter()
                .filter(|&&(item, w)| {
                    self.history.is_acked(w) && held.binary_search(&item).is_ok() && dead.binary_search(&item).is_err()
                })
                .map(|&(item, _)| item)
                .collect();
            back.sort_unstable();
            back.dedup();
            resurfaced += back.len() as u64;
        }
        (acked_adds, lost_adds, resurfaced)
    }

    /// Replica and membership agreement right now.
    pub(super) fn snapshot(&self) -> Snapshot {
        self.with_membership(convergence::snapshot(&self.ring, &self.keys, &self.nodes, &self.scenario.protocol))
    }

    fn describe_holdings(&self, key: KeyId) -> Vec<String> {
        let top = self.ring.top_n(self.keys.position(key), self.scenario.protocol.n);
        let writes = |v: &crate::node::versioning::VersionSet| {
            v.siblings.iter().map(|s| format!("w{}", s.write.0)).collect::<Vec<_>>().join(", ")
        };
        let mut out = Vec::new();
        for node in &self.nodes {
            let role = if top.contains(&node.id) { "replica" } else { "not a replica" };
            let state = if self.node_up[node.id.index()] { "" } else { ", down" };
            if let Some(v) = node.versions(key) {
                out.push(format!("{} ({role}{state}) holds [{}]", node.id, writes(v)));
            } else if top.contains(&node.id) {
                out.push(format!("{} ({role}{state}) holds nothing", node.id));
            }
            for (_, intended) in node.pending_hints().filter(|(k, _)| *k == key) {
                out.push(format!("{} keeps a hint for {intended}", node.id));
            }
        }
        out
    }
}
