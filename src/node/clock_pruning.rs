//! Clock pruning: how a vector clock is kept from growing without bound.
//!
//! Dynamo (§4.4) drops the entry updated longest ago once a clock has more than a threshold of
//! entries ("say 10"), as it updates the clock. Riak prunes by size and by age
//! (`small_vclock`, `big_vclock`, `young_vclock`, `old_vclock`): a clock of at most `small`
//! entries is never pruned; beyond it, the oldest entry goes while it is at least `young` old
//! and either the clock is longer than `big` or the entry is older than `old`. Dynamo's rule is
//! Riak's with `small = big` = the threshold, `young` zero and no `old`. Seed 001 describes the
//! pruning as a background process: with `background`, writes leave clocks as they are and a
//! periodic pass over the store prunes them.
//!
//! An entry's age is the pruning node's clock less the time the entry's node last updated it
//! (each by its own, possibly skewed, clock).

use crate::node::versioning::VectorClock;
use crate::node::*;
use crate::sim::engine::{SimDuration, SimTime};
use std::rc::Rc;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClockPruning {
    pub small: usize,
    pub big: usize,
    pub young: SimDuration,
    pub old: Option<SimDuration>,
    /// Prune in a pass over the store this often, instead of as each write updates a clock.
    pub background: Option<SimDuration>,
}

impl ClockPruning {
    /// Dynamo's: past `threshold` entries, the oldest goes, as the clock is updated.
    pub fn by_size(threshold: usize) -> ClockPruning {
        ClockPruning { small: threshold, big: threshold, young: SimDuration::ZERO, old: None, background: None }
    }

    /// Whether the oldest entry of a clock of `len` entries, `age` old, goes.
    pub fn drops(&self, len: usize, age: SimDuration) -> bool {
        len > self.small && age >= self.young && (len > self.big || self.old.is_some_and(|old| age > old))
    }

    /// Whether writes prune as they update clocks (else the background pass does).
    pub fn inline(&self) -> bool {
        self.background.is_none()
    }
}

impl VectorClock {
    /// Prunes by `rule` at `now` (the pruning node's clock); returns how many entries went.
    pub fn prune(&mut self, rule: &ClockPruning, now: SimTime) -> usize {
        let mut dropped = 0;
        // The length first: most clocks are short, and finding the oldest entry is a scan.
        while self.len() > rule.small {
            let Some(oldest) = self.oldest() else { break };
            let age = now.since(oldest.updated_at.min(now));
            if !rule.drops(self.len(), age) {
                break;
            }
            self.remove(oldest.node);
            dropped += 1;
        }
        dropped
    }
}

impl Node {
    /// The background pass: every clock the store holds, pruned.
    pub(super) fn prune_clocks(&mut self, now: SimTime, env: &NodeEnv) {
        let rule = env.protocol.clock_pruning;
        let local_now = self.replica.local_clock(now);
        let needs =
            |c: &VectorClock| c.oldest().is_some_and(|o| rule.drops(c.len(), local_now.since(o.updated_at.min(local_now))));
        let keys: Vec<_> = self
            .replica
            .iter()
            .filter(|(_, v)| needs(&v.superseded.clock) || v.siblings.iter().any(|s| needs(&s.clock)))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some(current) = self.replica.get(key) else { continue };
            let mut set = (**current).clone();
            let mut dropped = set.superseded.clock.prune(&rule, local_now);
            for s in &mut set.siblings {
                dropped += s.clock.prune(&rule, local_now);
            }
            self.stats.clock_entries_truncated += dropped as u64;
            // Dots are unchanged, so the Merkle trees are too.
            self.replica.replace(key, Rc::new(set));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ids::NodeId;

    fn clock(ages_at_100: &[u64]) -> VectorClock {
        let mut c = VectorClock::new();
        for (i, &age) in ages_at_100.iter().enumerate() {
            c.advance(NodeId(i as u32), 1, SimTime(100 - age));
        }
        c
    }

    #[test]
    fn riak_prunes_only_past_small_and_young_then_past_big_or_old() {
        let riak = ClockPruning { small: 2, big: 4, young: SimDuration(10), old: Some(SimDuration(50)), background: None };
        let now = SimTime(100);
        // At most `small` entries: kept, however old.
        assert_eq!(clock(&[90, 80]).prune(&riak, now), 0);
        // Past small but the oldest is younger than `young`: kept.
        assert_eq!(clock(&[5, 4, 3, 2, 1]).prune(&riak, now), 0);
        // Past big: the oldest go down to big, each at least young.
        assert_eq!(clock(&[30, 20, 15, 12, 11, 1]).prune(&riak, now), 2);
        // Within big, only entries older than `old` go, and never below small.
        assert_eq!(clock(&[90, 70, 20]).prune(&riak, now), 1);
        assert_eq!(clock(&[90, 80, 70]).prune(&riak, now), 1);
        // Dynamo's rule is by size alone.
        assert_eq!(clock(&[1, 1, 1, 1]).prune(&ClockPruning::by_size(2), now), 2);
    }
}
