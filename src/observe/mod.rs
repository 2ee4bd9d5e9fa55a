//! Observers of a run, never seen by the nodes: metrics, the history oracle, convergence,
//! the trace, and the invariant checks built on them.

pub mod checks;
pub mod convergence;
pub mod history;
pub mod metrics;
pub mod trace;

use crate::node::NodeStats;
use crate::scenario::ScheduledFault;
use crate::sim::engine::{Limit, SimTime};
use crate::sim::ids::{NodeId, WriteId};
use convergence::Snapshot;
use history::History;
use metrics::Metrics;
use std::rc::Rc;

/// Everything a finished run hands to the report.
pub struct RunResult {
    /// Set when the run hit a bound of the engine and ended early (its figures are partial).
    pub stopped: Option<(SimTime, Limit)>,
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
    pub lost_writes: Vec<LostWrite>,
    /// Shopping carts: acknowledged adds (one per acknowledged cart write), and those missing
    /// from every cart any node holds.
    pub acked_adds: u64,
    pub lost_adds: u64,
    /// Cart items removed by an acknowledged write that the carts held at the end hold again.
    pub resurfaced_items: u64,
    /// Each membership change and when every running node first agreed on the new ring.
    pub agreement: Vec<(SimTime, Option<SimTime>)>,
    pub decommissioned: Vec<(NodeId, SimTime)>,
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

/// An acknowledged write that no version any node holds reflects at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct LostWrite {
    /// Shared by every lost write of the key: a last-write-wins run can lose millions.
    pub key: Rc<str>,
    pub write: WriteId,
    pub acked_at: SimTime,
    /// A crash discarded it from a node's unflushed buffer (buffered storage): the durability
    /// risk that model takes, rather than a protocol's loss.
    pub unflushed: bool,
}
