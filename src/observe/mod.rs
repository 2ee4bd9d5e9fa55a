//! Observers of a run, never seen by the nodes: metrics, the history oracle, convergence,
//! the trace, and the invariant checks built on them.

pub mod checks;
pub mod convergence;
pub mod history;
pub mod latency;
pub mod metrics;
pub mod ops;
pub mod sessions;
pub mod trace;

use crate::node::NodeStats;
use crate::scenario::ScheduledFault;
use crate::sim::engine::{Limit, SimTime};
use crate::sim::ids::{KeyId, NodeId, WriteId};
use convergence::Snapshot;
use history::History;
use metrics::Metrics;
use std::rc::Rc;

/// Range transfers sent after a membership change and before the next one (overlapping changes'
/// traffic counts for the later): how much, and per sending node when it sent its first and
/// heard its last acknowledgement.
#[derive(Clone, Debug, Default)]
pub struct ChangeTransfers {
    pub bytes: u64,
    pub keys: u64,
    pub senders: std::collections::BTreeMap<NodeId, SenderTransfers>,
}

/// One node's transfers after a membership change.
#[derive(Clone, Debug)]
pub struct SenderTransfers {
    /// When the sender began the handoff whose transfer it sent first (its scan included).
    pub first_sent: SimTime,
    pub last_ack: Option<SimTime>,
    /// When it first had no transfer left unacknowledged: the bulk of its handoff done (keys
    /// written by the old ring meanwhile are handed off afterwards, in later rounds).
    pub drained: Option<SimTime>,
}

impl ChangeTransfers {
    /// The longest any sender took from the start of its handoff to its last acknowledgement:
    /// how long finding and moving the data took, apart from how long the new ring took to
    /// reach each sender.
    pub fn longest_sender(&self) -> Option<crate::sim::engine::SimDuration> {
        self.senders.values().filter_map(|s| Some(s.last_ack?.since(s.first_sent))).max()
    }

    /// The longest any sender took to its first moment with nothing unacknowledged.
    pub fn longest_bulk(&self) -> Option<crate::sim::engine::SimDuration> {
        self.senders.values().filter_map(|s| Some(s.drained?.since(s.first_sent))).max()
    }

    /// When the last acknowledgement came.
    pub fn last_ack(&self) -> Option<SimTime> {
        self.senders.values().filter_map(|s| s.last_ack).max()
    }
}

/// Everything a finished run hands to the report.
pub struct RunResult {
    /// Set when the run hit a bound of the engine and ended early (its figures are partial).
    pub stopped: Option<(SimTime, Limit)>,
    /// The choices a controlled schedule made (see [`crate::sim::schedule`]).
    pub chooser: Option<crate::sim::schedule::Chooser>,
    pub metrics: Metrics,
    pub history: History,
    pub node_stats: Vec<NodeStats>,
    /// Workload keys for which each node is in the top N.
    pub keys_owned: Vec<u64>,
    /// Ring ranges (tokens or partitions) each node holds first at the end.
    pub partitions_owned: Vec<u64>,
    /// The ring's members at the end, by node index.
    pub ring_members: Vec<usize>,
    pub events_processed: u64,
    /// Timeouts found moot before they fell due, which never became events.
    pub timeouts_retired: u64,
    pub simulated_end: SimTime,
    /// Each node's CPU and network interface busy time and bytes.
    pub busy: Vec<metrics::Busy>,
    pub peak_pending_events: usize,
    /// The network's first latency samples (see [`crate::cluster::network::Network::first_delays`]).
    pub network_fingerprint: Vec<u64>,
    /// Replica agreement at the end of the run.
    pub convergence: Snapshot,
    /// Divergence over time: (time, snapshot).
    pub samples: Vec<(SimTime, Snapshot)>,
    /// When the replicas first agreed (no divergent key, no queued hint) after the last fault.
    pub converged_after_last_fault: Option<SimTime>,
    pub last_fault: Option<SimTime>,
    /// Acknowledged writes no replica reflects at the end.
    pub lost_writes: LostWrites,
    /// Shopping carts: acknowledged adds (one per acknowledged cart write), and those missing
    /// from every cart any node holds.
    pub acked_adds: u64,
    pub lost_adds: u64,
    /// Cart items removed by an acknowledged write that the carts held at the end hold again.
    pub resurfaced_items: u64,
    /// Deletes: acknowledged ones, and keys where one was undone at the end (a value it removed
    /// held again, its tombstone gone), the first few named.
    pub deletes: Deletes,
    /// Each membership change and when every running node first agreed on the new ring.
    pub agreement: Vec<(SimTime, Option<SimTime>)>,
    /// Per membership change, the range transfers that followed it.
    pub change_transfers: Vec<ChangeTransfers>,
    pub decommissioned: Vec<(NodeId, SimTime)>,
    /// Ring members that were down when the run ended.
    pub down_at_end: Vec<NodeId>,
    /// Every client operation, when the run was asked to record them.
    pub client_history: Option<ops::ClientHistory>,
    /// The fault schedule the run used (declared and drawn), in time order.
    pub faults: Vec<ScheduledFault>,
    /// For `explain`: what each node holds of the explained key at the end, in words.
    pub explained: Vec<String>,
    /// Membership metadata each node keeps (one entry per token or partition), and ranges.
    pub ring_metadata_entries: usize,
    pub ring_ranges: usize,
    /// Per-key sessions the clients hold at the end (memory, not a result: not reported).
    pub client_sessions: usize,
}

/// What became of the workload's deletes by the end of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deletes {
    pub acknowledged: u64,
    pub resurrected_keys: u64,
    /// The first [`Deletes::NAMED`] resurrected keys, in key order: (key, the write held again,
    /// the delete that had removed it).
    pub resurrections: Vec<(String, WriteId, WriteId)>,
    /// Replicas (a node's copy of a key, hints included) holding nothing but tombstones.
    pub tombstone_replicas: u64,
}

impl Deletes {
    pub const NAMED: usize = 20;
}

/// The acknowledged writes no version any node holds reflects at the end of a run: counted,
/// with the few that anything prints. A last-write-wins run loses most of its writes, and a
/// record of each (millions in a long run) was the largest thing its end allocated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LostWrites {
    pub count: usize,
    /// Those a crash took from an unflushed buffer.
    pub unflushed_count: usize,
    /// The first [`LostWrites::KEPT`], in key order, then acknowledgement order (time, then
    /// write id).
    pub first: Vec<LostWrite>,
    /// The first not taken from an unflushed buffer: a protocol's loss.
    pub first_protocol_loss: Option<LostWrite>,
    /// Every lost write of the key `explain` follows.
    pub explained: Vec<WriteId>,
}

impl LostWrites {
    pub const KEPT: usize = 20;

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Counts `count` more lost writes of no name (folded into a lost write; see
    /// [`crate::observe::history::prune`]).
    pub fn push_unnamed(&mut self, count: u64, unflushed: bool) {
        self.count += count as usize;
        if unflushed {
            self.unflushed_count += count as usize;
        }
    }

    /// Adds a lost write, found at the end or by a prune of the oracle during the run (so in
    /// any order).
    pub fn push(&mut self, lost: LostWrite, explained: bool) {
        self.count += 1;
        self.unflushed_count += lost.unflushed as usize;
        if explained {
            self.explained.push(lost.write);
        }
        if !lost.unflushed && self.first_protocol_loss.as_ref().is_none_or(|f| lost.order() < f.order()) {
            self.first_protocol_loss = Some(lost.clone());
        }
        if self.first.len() < Self::KEPT || self.first.last().is_some_and(|l| lost.order() < l.order()) {
            let at = self.first.partition_point(|l| l.order() < lost.order());
            self.first.insert(at, lost);
            self.first.truncate(Self::KEPT);
        }
    }
}

/// An acknowledged write that no version any node holds reflects at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct LostWrite {
    pub key_id: KeyId,
    /// Shared by every lost write of the key: a last-write-wins run can lose millions.
    pub key: Rc<str>,
    pub write: WriteId,
    pub acked_at: SimTime,
    /// A crash discarded it from a node's unflushed buffer (buffered storage): the durability
    /// risk that model takes, rather than a protocol's loss.
    pub unflushed: bool,
}

impl LostWrite {
    fn order(&self) -> (KeyId, SimTime, WriteId) {
        (self.key_id, self.acked_at, self.write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary counts every lost write, keeps the first twenty in order, finds the first
    /// loss no crash excuses, and lists the explained key's.
    #[test]
    fn lost_writes_are_counted_and_the_first_kept() {
        let mut lost = LostWrites::default();
        for i in 1..=50u64 {
            // Pushed in reverse: a prune finds losses before the end does.
            let i = 51 - i;
            let key_id = KeyId((i / 10) as u32);
            let key: Rc<str> = format!("k{}", key_id.0).into();
            lost.push(LostWrite { key_id, key, write: WriteId(i), acked_at: SimTime(i), unflushed: i < 5 }, i % 3 == 1);
        }
        assert_eq!((lost.count, lost.unflushed_count), (50, 4));
        assert_eq!(lost.first.iter().map(|l| l.write.0).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>());
        assert_eq!(lost.first_protocol_loss.map(|l| l.write.0), Some(5));
        assert_eq!(lost.explained.len(), 17);
        assert!(lost.explained.iter().all(|w| w.0 % 3 == 1));
    }
}
