//! Metrics: what the world observes while the simulation runs, kept as raw counts and samples
//! so the report can compute exact figures.

use crate::cluster::network::MessageKind;
use crate::node::consistency::ConsistencyLevel;
use crate::node::message::Failure;
use crate::observe::latency::{LatencyFrame, LatencyLog};

/// Per message kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageCounts {
    pub sent: u64,
    /// Handled by the receiver.
    pub delivered: u64,
    /// Lost to the loss probability.
    pub lost: u64,
    /// Dropped because a partition cut the link when it arrived.
    pub dropped_partition: u64,
    /// Dropped because the receiver was down when it arrived (or crashed while it was queued).
    pub dropped_down: u64,
    pub duplicated: u64,
    /// Of `sent`, messages about a staleness probe's keys (kept out of the workload's cost).
    pub probe_sent: u64,
    /// The bytes of those that left their sender (counted under the capacity model only).
    pub bytes: u64,
}

/// Time a node's resources spent working, for utilisation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Busy {
    /// Summed over cores.
    pub cpu_ns: u64,
    pub nic_out_ns: u64,
    pub nic_in_ns: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// The disk's foreground reads and writes, and its background scans.
    pub disk_ns: u64,
    pub scan_ns: u64,
    pub bytes_scanned: u64,
}

/// Latency samples and outcomes for one operation kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpStats {
    /// Successful operations (failed ones are counted apart).
    pub latencies: LatencyLog,
    pub coordinator_timeouts: u64,
    pub client_timeouts: u64,
    /// Failed at once: the consistency level could not be met.
    pub unavailable: u64,
    /// Every failed operation's latency (from its client's send to the moment it gave up or was
    /// told) and when, in order: the tail of all operations and availability over time.
    pub failures_log: LatencyLog,
}

/// The workload's requests at one consistency level.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LevelStats {
    pub gets: OpStats,
    pub puts: OpStats,
    /// Successful gets the history oracle judged, and those it found stale.
    pub reads_judged: u64,
    pub stale_reads: u64,
}

impl OpStats {
    pub fn failures(&self) -> u64 {
        self.coordinator_timeouts + self.client_timeouts + self.unavailable
    }

    fn failed(&mut self, failure: Failure, latency_ns: u64, at_ns: u64, frame: &LatencyFrame) {
        self.failures_log.push(latency_ns, at_ns, frame);
        match failure {
            Failure::CoordinatorTimeout => self.coordinator_timeouts += 1,
            Failure::ClientTimeout => self.client_timeouts += 1,
            Failure::Unavailable => self.unavailable += 1,
        }
    }
}

/// Requests each node served, per fixed window of simulated time (Dynamo Figure 6's load
/// imbalance over time), kept as each node's running count when each window opened: requests
/// are only served inside node handlers, so one check per handler call is all it costs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadWindows {
    pub window_ns: u64,
    /// `starts[w][i]`: requests node i had served when window w opened.
    starts: Vec<Vec<u64>>,
    /// When the open window ends.
    pub open_until_ns: u64,
}

impl LoadWindows {
    pub fn new(window_ns: u64, nodes: usize) -> LoadWindows {
        LoadWindows { window_ns: window_ns.max(1), starts: vec![vec![0; nodes]], open_until_ns: window_ns.max(1) }
    }

    /// Opens every window up to the one holding `at_ns`, given each node's running count.
    pub fn open_to(&mut self, at_ns: u64, served: impl Iterator<Item = u64>) {
        let w = (at_ns / self.window_ns) as usize;
        let now: Vec<u64> = served.collect();
        self.starts.resize(w + 1, now);
        self.open_until_ns = (w as u64 + 1).saturating_mul(self.window_ns);
    }

    /// Requests per node in each window, given each node's final count.
    pub fn counts(&self, served_at_end: &[u64]) -> Vec<Vec<u64>> {
        let ends = self.starts.iter().skip(1).map(Vec::as_slice).chain([served_at_end]);
        self.starts.iter().zip(ends).map(|(start, end)| end.iter().zip(start).map(|(e, s)| e - s).collect()).collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub gets: OpStats,
    pub puts: OpStats,
    /// By consistency level (its index), the requests that named one.
    pub levels: [LevelStats; 8],
    /// Successful gets by number of versions returned: 0 (key absent), 1, 2, 3, 4+.
    pub versions_per_read: [u64; 5],
    pub messages: Vec<MessageCounts>,
    pub probe_writes: u64,
    pub probe_write_failures: u64,
    pub probe_reads: u64,
    /// Messages that waited for a busy node.
    pub queued_messages: u64,
    /// Background messages admission control held back for a later time slice.
    pub background_deferred: u64,
    /// Operations a client sent again after its coordinator timed out.
    pub client_retries: u64,
    /// Every scheduled fault as applied: when, what, and whether it changed anything (a crash
    /// of a node already down does not).
    pub faults: Vec<AppliedFault>,
    pub load_windows: LoadWindows,
    /// Messages each partition (by id) dropped.
    pub drops_by_partition: std::collections::BTreeMap<u32, u64>,
    /// The latency logs' exact budget and report windows.
    pub latency_frame: LatencyFrame,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppliedFault {
    pub at_ms: f64,
    pub description: String,
    pub took_effect: bool,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics { messages: vec![MessageCounts::default(); MessageKind::ALL.len()], ..Default::default() }
    }

    pub fn message(&mut self, kind: MessageKind) -> &mut MessageCounts {
        &mut self.messages[kind.index()]
    }

    /// The figures a workload get (or put) counts in: the workload's, and its level's if it
    /// named one.
    fn op_stats(&mut self, get: bool, level: Option<ConsistencyLevel>) -> (&mut OpStats, Option<&mut OpStats>) {
        let at_level = level.map(|l| &mut self.levels[l.index()]);
        if get {
            (&mut self.gets, at_level.map(|s| &mut s.gets))
        } else {
            (&mut self.puts, at_level.map(|s| &mut s.puts))
        }
    }

    /// A workload operation succeeded after `latency_ns`, at `at_ns`.
    pub fn succeeded(&mut self, get: bool, level: Option<ConsistencyLevel>, latency_ns: u64, at_ns: u64) {
        let frame = self.latency_frame;
        let (all, at_level) = self.op_stats(get, level);
        all.latencies.push(latency_ns, at_ns, &frame);
        if let Some(s) = at_level {
            s.latencies.push(latency_ns, at_ns, &frame);
        }
    }

    /// A workload operation failed after `latency_ns`, reported to its client at `at_ns`.
    pub fn failed(&mut self, get: bool, level: Option<ConsistencyLevel>, failure: Failure, latency_ns: u64, at_ns: u64) {
        let frame = self.latency_frame;
        let (all, at_level) = self.op_stats(get, level);
        all.failed(failure, latency_ns, at_ns, &frame);
        if let Some(s) = at_level {
            s.failed(failure, latency_ns, at_ns, &frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_windows_attribute_each_request_to_the_window_it_was_served_in() {
        let mut lw = LoadWindows::new(10, 2);
        // Node 0 serves 3 in window 0; nothing runs in window 1; node 1 serves 2 in window 2.
        lw.open_to(25, [3, 0].into_iter());
        assert_eq!(lw.open_until_ns, 30);
        assert_eq!(lw.counts(&[3, 2]), vec![vec![3, 0], vec![0, 0], vec![0, 2]]);
    }
}
