//! Local failure detection (Dynamo §4.8.3): a peer that does not answer in time is suspected,
//! suspected peers are pinged periodically, and any message from a peer clears the suspicion.

use crate::cluster::message::Payload;
use crate::node::*;
use crate::sim::ids::{Endpoint, NodeId};

impl Node {
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.suspected.contains(&peer)
    }

    pub(super) fn suspect(&mut self, peer: NodeId) {
        if peer != self.id && self.suspected.insert(peer) {
            self.stats.suspicions += 1;
        }
    }

    /// Any word from a peer shows it is alive.
    pub(super) fn heard_from(&mut self, peer: NodeId) {
        self.suspected.remove(&peer);
    }

    /// Pings every suspected peer; an answer (any message) clears the suspicion.
    pub(super) fn probe(&self, out: &mut Vec<NodeEffect>) {
        for &peer in &self.suspected {
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::Ping });
        }
    }
}
