//! Local failure detection (Dynamo §4.8.3): a peer that does not answer in time is suspected,
//! suspected peers are pinged periodically, and any message from a peer clears the suspicion.

use crate::node::message::Payload;
use crate::node::*;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::{Endpoint, NodeId};
use std::collections::BTreeMap;

/// Which peers this node suspects, each since when; volatile, so a crash forgets them.
#[derive(Default)]
pub(super) struct FailureDetector {
    suspected: BTreeMap<NodeId, SimTime>,
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
    }

    /// Pings every suspected peer; an answer (any message) clears the suspicion.
    pub(super) fn probe(&self, out: &mut Vec<NodeEffect>) {
        for &peer in self.suspected.keys() {
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::Ping });
        }
    }
}

impl Node {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.detector.suspects(peer)
    }

    pub(super) fn suspect(&mut self, peer: NodeId, now: SimTime) {
        if peer != self.id && self.detector.suspect(peer, now) {
            self.stats.suspicions += 1;
        }
    }
}
