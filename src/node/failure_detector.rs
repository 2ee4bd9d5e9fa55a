//! Local failure detection (Dynamo §4.8.3): a peer that does not answer in time is suspected,
//! suspected peers are pinged periodically, and any message from a peer clears the suspicion.
//!
//! Detection is passive, as Dynamo's is: the probe timer is armed by a node's first suspicion
//! and lapses at the first tick that finds none, so a node that suspects no one costs no event.
//! Ticks keep the node's phase (every probe interval from its start), armed or not.

use crate::node::message::Payload;
use crate::node::*;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::{Endpoint, NodeId};
use std::collections::BTreeMap;

/// Which peers this node suspects, each since when; volatile, so a crash forgets them.
#[derive(Default)]
pub(super) struct FailureDetector {
    suspected: BTreeMap<NodeId, SimTime>,
    /// Whether a probe tick is pending.
    armed: bool,
}

impl FailureDetector {
    pub(super) fn suspects(&self, peer: NodeId) -> bool {
        self.suspected.contains_key(&peer)
    }

    /// Whether `peer` has been suspected for longer than `window` at `now`.
    pub(super) fn suspected_longer_than(&self, peer: NodeId, window: SimDuration, now: SimTime) -> bool {
        self.suspected.get(&peer).is_some_and(|since| now.since(*since) > window)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.suspected.is_empty()
    }

    /// Starts suspecting `peer`; returns whether it was trusted until now.
    pub(super) fn suspect(&mut self, peer: NodeId, now: SimTime) -> bool {
        if self.suspected.contains_key(&peer) {
            return false;
        }
        self.suspected.insert(peer, now);
        true
    }

    /// Any word from a peer shows it is alive.
    pub(super) fn heard_from(&mut self, peer: NodeId) {
        self.suspected.remove(&peer);
    }

    pub(super) fn forget_all(&mut self) {
        self.suspected.clear();
        self.armed = false;
    }

    /// A probe tick: pings every suspected peer (an answer, any message, clears the suspicion);
    /// returns whether the next tick is wanted, which it is while anyone is suspected.
    pub(super) fn probe(&mut self, out: &mut Vec<NodeEffect>) -> bool {
        for &peer in self.suspected.keys() {
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::Ping });
        }
        self.armed = !self.suspected.is_empty();
        self.armed
    }
}

impl Node {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.detector.suspects(peer)
    }

    /// Suspects `peer`; the first suspicion arms the probe timer for the next tick of this
    /// node's phase.
    pub(super) fn suspect(&mut self, peer: NodeId, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        if peer == self.id || !self.detector.suspect(peer, now) {
            return;
        }
        self.stats.suspicions += 1;
        if !self.detector.armed {
            self.detector.armed = true;
            let interval = env.protocol.probe_interval.as_nanos().max(1);
            let since_start = now.since(self.started_at).as_nanos();
            let after = SimDuration(interval - since_start % interval);
            out.push(NodeEffect::Timer { after, timer: NodeTimer::Probe { incarnation: self.incarnation } });
        }
    }
}
