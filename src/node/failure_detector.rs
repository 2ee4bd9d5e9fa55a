//! Local failure detection (Dynamo §4.8.3): a peer that does not answer in time is suspected,
//! suspected peers are pinged periodically, and any message from a peer clears the suspicion.

use crate::node::message::Payload;
use crate::node::*;
use crate::sim::ids::{Endpoint, NodeId};
use std::collections::BTreeSet;

/// Which peers this node suspects; volatile, so a crash forgets them.
#[derive(Default)]
pub(super) struct FailureDetector {
    suspected: BTreeSet<NodeId>,
}

impl FailureDetector {
    pub(super) fn suspects(&self, peer: NodeId) -> bool {
        self.suspected.contains(&peer)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.suspected.is_empty()
    }

    /// Starts suspecting `peer`; returns whether it was trusted until now.
    pub(super) fn suspect(&mut self, peer: NodeId) -> bool {
        self.suspected.insert(peer)
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
        for &peer in &self.suspected {
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::Ping });
        }
    }
}

impl Node {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.detector.suspects(peer)
    }

    pub(super) fn suspect(&mut self, peer: NodeId) {
        if peer != self.id && self.detector.suspect(peer) {
            self.stats.suspicions += 1;
        }
    }
}
