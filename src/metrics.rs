//! Metrics: what the world observes while the simulation runs, kept as raw counts and samples
//! so the report can compute exact figures.

use crate::network::MessageKind;

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
}

/// Latency samples and outcomes for one operation kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpStats {
    /// Successful operations' latencies in nanoseconds (failed ones are counted apart).
    pub latency_ns: Vec<u64>,
    /// When each of them completed (same order), for latency over time.
    pub completed_at_ns: Vec<u64>,
    pub coordinator_timeouts: u64,
    pub client_timeouts: u64,
}

impl OpStats {
    pub fn failures(&self) -> u64 {
        self.coordinator_timeouts + self.client_timeouts
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub gets: OpStats,
    pub puts: OpStats,
    /// Successful gets by number of versions returned: 0 (key absent), 1, 2, 3, 4+.
    pub versions_per_read: [u64; 5],
    pub messages: Vec<MessageCounts>,
    pub probe_writes: u64,
    pub probe_write_failures: u64,
    pub probe_reads: u64,
    /// Messages that waited for a busy node.
    pub queued_messages: u64,
    /// Every scheduled fault as applied: when, what, and whether it changed anything (a crash
    /// of a node already down does not).
    pub faults: Vec<AppliedFault>,
    /// Messages each partition (by id) dropped.
    pub drops_by_partition: std::collections::BTreeMap<u32, u64>,
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
}

/// Exact nearest-rank percentile of sorted samples: the smallest value with at least `p` of the
/// samples at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), 500);
        assert_eq!(percentile(&v, 0.999), 999);
        assert_eq!(percentile(&v, 1.0), 1000);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.999), 7);
    }
}
