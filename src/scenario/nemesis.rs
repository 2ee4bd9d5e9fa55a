//! The nemesis: random faults drawn from a scenario's declared menu and rate.
//!
//! Faults arrive as a Poisson process between the nemesis's start and stop; each picks a kind
//! from the menu and its targets at random, and is undone after a drawn duration (or at stop,
//! whichever is first), so the system always gets a chance to heal. Everything is drawn from the
//! fault stream, so the same seed gives the same faults and changing the workload does not
//! change them.

use crate::scenario::{Fault, NemesisConfig, NemesisKind, ScheduledFault};
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;
use crate::sim::rng::{index, unit_open0, SimRng};

/// Partition and loss-burst ids drawn here start above any a scenario declares.
const FIRST_ID: u32 = 1_000_000;

pub fn generate(config: &NemesisConfig, nodes: &[NodeId], rng: &mut SimRng) -> Vec<ScheduledFault> {
    let mut out = Vec::new();
    if nodes.is_empty() {
        return out;
    }
    let mut t = config.start.as_nanos() as f64;
    let stop = config.stop.as_nanos();
    // Nodes a drawn crash, slowdown or skew holds until this time, so faults do not pile up on
    // one node and every undo matches its fault.
    let mut busy_until: Vec<u64> = vec![0; nodes.len()];
    let mut next_id = FIRST_ID;
    loop {
        t += -unit_open0(rng).ln() * 1e9 / config.rate_per_s;
        if t >= stop as f64 {
            break;
        }
        let at = t as u64;
        let kind = config.kinds[index(rng, config.kinds.len())];
        let end = at.saturating_add(config.fault_duration.sample(rng).as_nanos()).min(stop);
        let mut push = |at: u64, fault: Fault| out.push(ScheduledFault { at: SimDuration(at), fault, generated: true });
        match kind {
            NemesisKind::Partition => {
                // A random minority of 1 to half the nodes, cut from the rest.
                let mut shuffled = nodes.to_vec();
                for i in (1..shuffled.len()).rev() {
                    shuffled.swap(i, index(rng, i + 1));
                }
                let minority = 1 + index(rng, (nodes.len() / 2).max(1));
                let (a, b) = shuffled.split_at(minority.min(nodes.len() - 1).max(1));
                let (mut a, mut b) = (a.to_vec(), b.to_vec());
                a.sort();
                b.sort();
                next_id += 1;
                let name = format!("nemesis-{next_id}");
                push(at, Fault::Partition { id: next_id, name: name.clone(), groups: vec![a, b], one_way: false });
                push(end, Fault::Heal { id: next_id, name });
            }
            NemesisKind::LossBurst => {
                next_id += 1;
                push(at, Fault::LossBurst { id: next_id, probability: config.loss_probability });
                push(end, Fault::LossBurstEnd { id: next_id });
            }
            NemesisKind::Crash | NemesisKind::DiskLoss | NemesisKind::Slow | NemesisKind::ClockSkew => {
                let free: Vec<usize> = (0..nodes.len()).filter(|&i| busy_until[i] <= at).collect();
                if free.is_empty() {
                    continue;
                }
                let i = free[index(rng, free.len())];
                busy_until[i] = end;
                let node = nodes[i];
                match kind {
                    NemesisKind::Crash | NemesisKind::DiskLoss => {
                        push(at, Fault::Crash { node, lose_disk: kind == NemesisKind::DiskLoss });
                        push(end, Fault::Restart(node));
                    }
                    NemesisKind::Slow => {
                        push(at, Fault::Slow { node, factor: config.slow_factor });
                        push(end, Fault::Slow { node, factor: 1.0 });
                    }
                    _ => {
                        let sign = if index(rng, 2) == 0 { -1 } else { 1 };
                        push(at, Fault::ClockSkew { node, skew_ns: sign * config.clock_skew_ns });
                        push(end, Fault::ClockSkew { node, skew_ns: 0 });
                    }
                }
            }
        }
    }
    out.sort_by_key(|f| f.at);
    out
}

/// Swarm testing: for one seed, a random non-empty subset of the menu at a rate between a
/// quarter and twice the declared one, drawn from the fault stream's index-1 stream so that it
/// never disturbs the faults themselves. Returns the chosen kinds and rate.
pub fn swarm(config: &NemesisConfig, seed: u64) -> (Vec<NemesisKind>, f64) {
    let mut rng = crate::sim::rng::Seeds::new(seed).stream(crate::sim::rng::Stream::Faults, 1);
    let mut kinds: Vec<NemesisKind> = config.kinds.iter().copied().filter(|_| index(&mut rng, 2) == 0).collect();
    if kinds.is_empty() {
        kinds.push(config.kinds[index(&mut rng, config.kinds.len())]);
    }
    let scale = 0.25 * 8f64.powf(crate::sim::rng::unit(&mut rng));
    (kinds, config.rate_per_s * scale)
}

pub fn kind_name(kind: NemesisKind) -> &'static str {
    match kind {
        NemesisKind::Crash => "crash",
        NemesisKind::DiskLoss => "disk_loss",
        NemesisKind::Partition => "partition",
        NemesisKind::LossBurst => "loss_burst",
        NemesisKind::Slow => "slow",
        NemesisKind::ClockSkew => "clock_skew",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::distribution::Distribution;
    use crate::sim::rng::{Seeds, Stream};

    fn config() -> NemesisConfig {
        NemesisConfig {
            rate_per_s: 5.0,
            kinds: vec![
                NemesisKind::Crash,
                NemesisKind::Partition,
                NemesisKind::LossBurst,
                NemesisKind::Slow,
                NemesisKind::ClockSkew,
            ],
            start: SimDuration(0),
            stop: SimDuration(10_000_000_000),
            fault_duration: Distribution::Uniform { min_ms: 100.0, max_ms: 500.0 },
            loss_probability: 0.3,
            slow_factor: 10.0,
            clock_skew_ns: 50_000_000,
        }
    }

    #[test]
    fn swarm_picks_a_non_empty_subset_per_seed() {
        let c = config();
        let picks: Vec<(Vec<NemesisKind>, f64)> = (0..50).map(|s| swarm(&c, s)).collect();
        assert!(picks.iter().all(|(k, r)| !k.is_empty() && *r >= 0.25 * c.rate_per_s && *r <= 2.0 * c.rate_per_s));
        assert!(picks.iter().any(|(k, _)| k.len() < c.kinds.len()), "subsets, not always the whole menu");
        assert_eq!(swarm(&c, 7), swarm(&c, 7));
    }

    #[test]
    fn faults_come_at_the_rate_each_undone_by_stop_and_reproducibly() {
        let nodes: Vec<NodeId> = (0..6).map(NodeId).collect();
        let a = generate(&config(), &nodes, &mut Seeds::new(1).stream(Stream::Faults, 0));
        let b = generate(&config(), &nodes, &mut Seeds::new(1).stream(Stream::Faults, 0));
        assert_eq!(a, b);
        let starts = a
            .iter()
            .filter(|f| matches!(f.fault, Fault::Crash { .. } | Fault::Partition { .. } | Fault::LossBurst { .. }))
            .count();
        assert!(starts > 10, "{starts}");
        assert!(a.iter().all(|f| f.generated && f.at.as_nanos() <= 10_000_000_000));
        let crashes = a.iter().filter(|f| matches!(f.fault, Fault::Crash { .. })).count();
        let restarts = a.iter().filter(|f| matches!(f.fault, Fault::Restart(_))).count();
        assert_eq!(crashes, restarts);
        let c = generate(&config(), &nodes, &mut Seeds::new(2).stream(Stream::Faults, 0));
        assert_ne!(a, c);
    }

    #[test]
    fn disk_loss_crashes_lose_the_disk_and_plain_crashes_do_not() {
        let nodes: Vec<NodeId> = (0..6).map(NodeId).collect();
        let only = |kind| {
            generate(&NemesisConfig { kinds: vec![kind], ..config() }, &nodes, &mut Seeds::new(3).stream(Stream::Faults, 0))
        };
        let lossy = only(NemesisKind::DiskLoss);
        assert!(lossy.iter().filter(|f| matches!(f.fault, Fault::Crash { lose_disk: true, .. })).count() > 10);
        assert!(!lossy.iter().any(|f| matches!(f.fault, Fault::Crash { lose_disk: false, .. })));
        assert!(!only(NemesisKind::Crash).iter().any(|f| matches!(f.fault, Fault::Crash { lose_disk: true, .. })));
    }
}
