//! The fault schedule: each scheduled fault (crash, restart, partition, loss, slowness, skew,
//! the operator's joins, leaves and repairs) applied to the world when it falls due.

use super::World;
use crate::observe::metrics::AppliedFault;
use crate::scenario::Fault;
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;

impl<'s> World<'s> {
    pub(super) fn apply_fault(&mut self, i: usize) {
        let fault = self.faults[i].fault.clone();
        let fault = &fault;
        let mut keys_put_back = 0;
        let took_effect = match fault {
            Fault::Crash { node: n, lose_disk } => {
                let was_up = std::mem::replace(&mut self.node_up[n.index()], false);
                keys_put_back = self.crash_node(*n);
                if *lose_disk {
                    self.nodes[n.index()].lose_disk();
                }
                // Losing the disk takes effect on a node that is down already.
                was_up || *lose_disk
            }
            Fault::Restart(n) => {
                // Only a node the operator has in the ring comes back: one that never joined, or
                // has left, has no place in it (its join or a rejoin is the operator's command).
                let restartable = !self.node_up[n.index()] && self.ring.members().iter().any(|m| m.node == *n);
                if restartable {
                    self.node_up[n.index()] = true;
                    self.start_node(*n);
                }
                restartable
            }
            Fault::Partition { id, groups, one_way, .. } => {
                for (a, from) in groups.iter().enumerate() {
                    for (b, to) in groups.iter().enumerate() {
                        if a != b && (!one_way || a == 0) {
                            self.network.cut(*id, from, to);
                        }
                    }
                }
                true
            }
            Fault::Heal { id, .. } => self.network.heal(*id),
            Fault::Join { node, contact } => self.join(*node, *contact),
            Fault::Leave { node, contact } => self.leave(*node, *contact),
            Fault::LossBurst { id, probability } => {
                self.network.start_loss_burst(*id, *probability);
                true
            }
            Fault::LossBurstEnd { id } => self.network.end_loss_burst(*id),
            Fault::Slow { node, factor } => {
                let changed = self.network.slow_factor(*node) != *factor;
                self.network.set_slow_factor(*node, *factor);
                changed
            }
            Fault::ClockSkew { node, skew_ns } => {
                self.nodes[node.index()].set_clock_skew(*skew_ns);
                true
            }
            Fault::Repair { node } => self.repair(*node),
        };
        if self.tracer.is_some() {
            let verb = match fault {
                Fault::Crash { .. } => "crash",
                Fault::Restart(_) => "restart",
                Fault::Partition { .. } => "partition",
                Fault::Heal { .. } => "heal",
                _ => "fault",
            };
            let node = match fault {
                Fault::Crash { node, .. }
                | Fault::Restart(node)
                | Fault::Slow { node, .. }
                | Fault::ClockSkew { node, .. }
                | Fault::Leave { node, .. } => Some(node.to_string()),
                Fault::Join { node, .. } => Some(node.to_string()),
                _ => None,
            };
            let mut outcome = if took_effect { fault.describe() } else { format!("{} (no effect)", fault.describe()) };
            if keys_put_back > 0 {
                outcome.push_str(&format!("; its unflushed buffer is lost, {keys_put_back} keys back to their disk version"));
            }
            self.trace_other(verb, node, outcome);
        }
        self.metrics.faults.push(AppliedFault {
            at_ms: self.engine.now().as_millis_f64(),
            description: fault.describe(),
            took_effect,
        });
    }

    /// The operator's repair: every running node builds its Merkle trees afresh (as a repair's
    /// validation does, anti-entropy on or off), then the repaired node (or each) starts a full
    /// exchange of every range it replicates with each other running replica. Returns whether
    /// any exchange started.
    fn repair(&mut self, node: Option<NodeId>) -> bool {
        let up: Vec<NodeId> = (0..self.nodes.len()).filter(|&i| self.node_up[i]).map(|i| NodeId(i as u32)).collect();
        for &n in &up {
            self.drive_node(n, SimDuration::ZERO, |node, _, env, _| node.build_trees(env));
        }
        let mut started = false;
        for &n in up.iter().filter(|&&n| node.is_none_or(|r| r == n)) {
            self.drive_node(n, SimDuration::ZERO, |node, now, env, out| started |= node.repair(now, env, out));
        }
        started
    }

    /// A node stops: its volatile state, its request and disk queues and any unflushed buffer
    /// are lost (the writes only that buffer held are remembered for the lost-write judgement).
    /// Returns how many keys went back to their disk version.
    pub(super) fn crash_node(&mut self, node: NodeId) -> usize {
        let i = node.index();
        let mut put_back = Vec::new();
        self.drive_node(node, SimDuration::ZERO, |n, now, env, _| put_back = n.crash(now, env));
        let now = self.engine.now();
        let count = put_back.len();
        for lost in put_back {
            self.unflushed_lost.entry(lost.key).or_default().push(lost);
        }
        self.resources.crash(i, now);
        self.disks.crash(i, now);
        count
    }
}
