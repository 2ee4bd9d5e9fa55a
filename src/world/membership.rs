//! Membership truth: the operator's ring (joins and leaves as declared), each node's ring from
//! its own gossiped view, the rings clients route by, and when the nodes came to agree.

use super::World;
use crate::cluster::ring::{RangeMap, Ring, RingMember};
use crate::node::membership::{MemberRecord, MemberStatus, Membership};
use crate::node::Coordination;
use crate::observe::convergence::Snapshot;
use crate::scenario::{Fault, Scenario};
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::NodeId;
use std::rc::Rc;

/// The ring (and range map) of a membership view, built once per distinct view.
pub(super) fn ring_for(
    scenario: &Scenario,
    seed: u64,
    cache: &mut Vec<(u64, Rc<Ring>, Rc<RangeMap>)>,
    view: &Membership,
) -> (Rc<Ring>, Rc<RangeMap>) {
    let fingerprint = view.ring_fingerprint();
    if let Some((_, ring, ranges)) = cache.iter().find(|(f, _, _)| *f == fingerprint) {
        return (ring.clone(), ranges.clone());
    }
    let member = |n: NodeId| {
        let spec = &scenario.nodes[n.index()];
        RingMember { node: n, weight: spec.weight, datacenter: spec.datacenter }
    };
    let members: Vec<RingMember> = view.ring_members().into_iter().map(member).collect();
    let initial: Vec<RingMember> = scenario.initial_members.iter().copied().map(member).collect();
    // The ring's tokens come from the seed so that different seeds sample different rings.
    let ring = Ring::from_start(scenario.strategy.clone(), initial, members, scenario.spread_across_datacenters, seed);
    let ring = Rc::new(ring);
    // Ranges serve the Merkle trees: continuous anti-entropy's, or an operator repair's.
    let repairs = scenario.faults.iter().any(|f| matches!(f.fault, Fault::Repair { .. }));
    let ranges = Rc::new(if scenario.protocol.anti_entropy || repairs {
        RangeMap::new(&ring, scenario.protocol.n, scenario.nodes.len())
    } else {
        RangeMap::default()
    });
    cache.push((fingerprint, ring.clone(), ranges.clone()));
    (ring, ranges)
}

/// The ring a client routes by. A partition-aware client library (preference-list-head or
/// client-driven coordination) fetches the membership every `client_ring_refresh`, each client
/// at its own phase, and between fetches routes by the ring in force at its last one (Dynamo
/// §4.5: clients pull membership periodically; the paper's every 10 s). A load balancer, and a
/// client of any node (proxy), route by the current ring.
pub(super) fn client_ring<'a>(
    scenario: &Scenario,
    history: &'a [(SimTime, Rc<Ring>)],
    client: usize,
    clients: usize,
    now: SimTime,
) -> &'a Ring {
    let current = &history[history.len() - 1].1;
    let refresh = scenario.workload.client_ring_refresh.as_nanos();
    let partition_aware = matches!(scenario.protocol.coordination, Coordination::PreferenceListHead | Coordination::ClientDriven);
    if refresh == 0 || !partition_aware || history.len() == 1 {
        return current;
    }
    let phase = refresh / clients.max(1) as u64 * client as u64;
    let now = now.as_nanos();
    let fetched = if now < phase { 0 } else { phase + (now - phase) / refresh * refresh };
    history.iter().rev().find(|(at, _)| at.as_nanos() <= fetched).map_or(current, |(_, ring)| ring)
}

impl<'s> World<'s> {
    /// The operator adds `node` through `contact`: the contact records the join in its view and
    /// the new node starts with that view; gossip spreads it from there.
    pub(super) fn join(&mut self, node: NodeId, contact: Option<NodeId>) -> bool {
        let already = self.ring.members().iter().any(|m| m.node == node);
        if already || self.node_up[node.index()] {
            return false;
        }
        let mut view = match contact.filter(|c| self.node_up[c.index()]) {
            Some(c) => {
                self.nodes[c.index()].record_membership_change(node, MemberStatus::Normal);
                self.nodes[c.index()].view().clone()
            }
            None => Membership::default(),
        };
        view.set(node, MemberStatus::Normal);
        self.nodes[node.index()].set_view(view);
        self.node_up[node.index()] = true;
        self.set_truth(node, MemberStatus::Normal);
        self.start_node(node);
        self.install_view(node);
        if let Some(c) = contact.filter(|c| self.node_up[c.index()]) {
            self.install_view(c);
        }
        true
    }

    /// The operator decommissions `node` through `contact`: the contact, a node that stays,
    /// records the change in its durable view (Dynamo §4.8.1: the node serving the command
    /// persists it) and gossip spreads it from there; `node` marks itself leaving, hands
    /// everything off and stops when done. Recording it on a node that stays is what keeps a
    /// departing node from taking the only copy of the change with it. Without a contact the
    /// command reaches the lowest-numbered node that is up and in the ring; with none, or with
    /// the named contact down or leaving, the command is refused.
    pub(super) fn leave(&mut self, node: NodeId, contact: Option<NodeId>) -> bool {
        let in_ring = |n: NodeId| self.ring.members().iter().any(|m| m.node == n);
        if !in_ring(node) || !self.node_up[node.index()] {
            return false;
        }
        let staying = |c: &NodeId| *c != node && self.node_up[c.index()] && in_ring(*c);
        let contact = match contact {
            Some(c) => Some(c).filter(staying),
            None => self.ring.members().iter().map(|m| m.node).filter(staying).min(),
        };
        let Some(contact) = contact else { return false };
        // One record, newer than either view's, so gossip cannot let an older one win.
        let version =
            [contact, node].iter().filter_map(|n| self.nodes[n.index()].view().get(node)).map(|r| r.version).max().unwrap_or(0)
                + 1;
        for n in [contact, node] {
            self.nodes[n.index()].put_membership_record(node, MemberRecord { status: MemberStatus::Leaving, version });
        }
        self.set_truth(node, MemberStatus::Leaving);
        self.install_view(node);
        self.install_view(contact);
        true
    }

    fn set_truth(&mut self, node: NodeId, status: MemberStatus) {
        let mut truth = Membership::with_members(self.ring.members().iter().map(|m| m.node));
        truth.set(node, status);
        self.ring = ring_for(self.scenario, self.seed, &mut self.ring_cache, &truth).0;
        self.ring_history.push((self.engine.now(), self.ring.clone()));
        self.agreement.push((self.engine.now(), None));
        self.change_transfers.push(Default::default());
    }

    /// Gives a node the ring of its current view; if that changed its ring, the node hands off
    /// the keys it no longer replicates.
    pub(super) fn install_view(&mut self, node: NodeId) {
        let (ring, ranges) = ring_for(self.scenario, self.seed, &mut self.ring_cache, self.nodes[node.index()].view());
        if Rc::ptr_eq(&ring, &self.node_rings[node.index()]) {
            return;
        }
        let old = std::mem::replace(&mut self.node_rings[node.index()], ring);
        self.node_ranges[node.index()] = ranges;
        self.drive_node(node, SimDuration::ZERO, |n, now, env, out| n.handoff(now, &old, env, out));
        self.note_agreement();
    }

    /// Records when every running node's ring first matches the operator's after a change.
    fn note_agreement(&mut self) {
        let Some((_, agreed @ None)) = self.agreement.last_mut() else { return };
        let truth = self.ring.fingerprint();
        let all = (0..self.nodes.len()).filter(|&i| self.node_up[i]).all(|i| self.node_rings[i].fingerprint() == truth);
        if all {
            *agreed = Some(self.engine.now());
        }
    }

    /// Adds to a replica snapshot every running node whose ring is not the operator's.
    pub(super) fn with_membership(&self, mut snap: Snapshot) -> Snapshot {
        let truth = self.ring.fingerprint();
        for i in (0..self.nodes.len()).filter(|&i| self.node_up[i]) {
            if self.node_rings[i].fingerprint() != truth {
                snap.disagreement(NodeId(i as u32), self.node_rings[i].members().len(), self.ring.members().len());
            }
        }
        snap
    }
}
