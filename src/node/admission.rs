//! Admission control of background work (Dynamo §6.5): background tasks (handling hints,
//! range transfers and anti-entropy exchanges, starting exchanges) get resource time only
//! while the node's recent foreground latency is within its target; otherwise they wait for a
//! later time slice.
//!
//! What is watched is one of the paper's monitored aspects, request queue wait times: how long
//! each of the last `window` foreground requests (client requests, replica reads and writes)
//! waited for a core. Background work is admitted while their `percentile` is at most `target`
//! (and always before the window has a quarter of its requests, so an idle node is never
//! starved of repair).

use crate::sim::engine::SimDuration;
use std::collections::VecDeque;

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct AdmissionConfig {
    pub percentile: f64,
    pub target: SimDuration,
    pub window: usize,
    /// How long refused background work waits before it asks again.
    pub backoff: SimDuration,
}

#[derive(Default)]
pub(super) struct Admission {
    recent: VecDeque<u64>,
}

impl Admission {
    pub(super) fn record(&mut self, config: &AdmissionConfig, latency: SimDuration) {
        if self.recent.len() == config.window {
            self.recent.pop_front();
        }
        self.recent.push_back(latency.0);
    }

    pub(super) fn admits(&self, config: &AdmissionConfig) -> bool {
        if self.recent.len() * 4 < config.window {
            return true;
        }
        let mut sorted: Vec<u64> = self.recent.iter().copied().collect();
        sorted.sort_unstable();
        crate::observe::latency::percentile(&sorted, config.percentile) <= config.target.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_work_waits_while_the_foreground_tail_is_over_its_target() {
        let config = AdmissionConfig { percentile: 0.9, target: SimDuration(10), window: 8, backoff: SimDuration(1) };
        let mut a = Admission::default();
        a.record(&config, SimDuration(100));
        assert!(a.admits(&config), "too few requests to judge");
        for _ in 0..7 {
            a.record(&config, SimDuration(5));
        }
        assert!(!a.admits(&config), "the 90th percentile of eight is the slowest: 100");
        a.record(&config, SimDuration(5));
        assert!(a.admits(&config), "the slow one left the window");
    }
}
