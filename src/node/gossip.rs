//! Gossip membership (Dynamo §4.8): this node's durable view of the ring, changed by the
//! operator's commands and merged from a random peer (or seed) every gossip interval.
//!
//! A round opens with the view's digest, as Cassandra's gossip opens with digests and Riak's
//! ring gossip compares the ring's clock: a peer that agrees says nothing, so a converged
//! cluster's rounds cost one small message whatever its size; a peer that differs answers with
//! its view, and the opener, having merged it, sends its own back if the two still differ.

use crate::node::membership::{MemberRecord, MemberStatus, Membership};
use crate::node::message::Payload;
use crate::node::*;
use crate::sim::ids::{Endpoint, NodeId};
use crate::sim::rng::index;
use std::rc::Rc;

impl Node {
    pub fn view(&self) -> &Membership {
        &self.view
    }

    /// Sets the view (at start, or when the operator joins or removes a node through this one).
    /// Nodes may share one view: it is copied only when one of them changes it, so a cluster's
    /// views take memory in proportion to its size, not its square.
    pub fn set_view(&mut self, view: impl Into<Rc<Membership>>) {
        self.view = view.into();
    }

    /// The operator's command to this node: mark `node` with `status` in this node's view.
    pub fn record_membership_change(&mut self, node: NodeId, status: MemberStatus) {
        Rc::make_mut(&mut self.view).set(node, status);
    }

    /// The operator's command to this node, with the record's version chosen by the operator.
    pub fn put_membership_record(&mut self, node: NodeId, record: MemberRecord) {
        Rc::make_mut(&mut self.view).put(node, record);
    }

    pub(super) fn on_gossip_digest(&mut self, from: Endpoint, digest: u64, out: &mut Vec<NodeEffect>) {
        if digest != self.view.digest() {
            out.push(NodeEffect::Send { to: from, payload: Payload::Gossip { view: self.view.clone(), reply: true } });
        }
    }

    pub(super) fn on_gossip(&mut self, from: Endpoint, view: Rc<Membership>, reply: bool, out: &mut Vec<NodeEffect>) {
        if Rc::ptr_eq(&view, &self.view) || *view == *self.view {
            // Agreement is the usual case once gossip has converged. Keeping the more
            // widely shared of two equal copies makes the nodes settle on one, so later
            // comparisons are pointer tests (share counts are simulation state, so the
            // choice is as deterministic as the rest).
            if Rc::strong_count(&view) >= Rc::strong_count(&self.view) {
                self.view = view;
            }
        } else {
            self.adopt_view(&view, out);
            if reply && *view != *self.view {
                let payload = Payload::Gossip { view: self.view.clone(), reply: false };
                out.push(NodeEffect::Send { to: from, payload });
            }
        }
    }

    /// One gossip round: this node's view's digest to a random peer it knows of, or a seed:
    /// uniform over the known nodes but itself and the seeds, in node order.
    pub(super) fn gossip_round(&mut self, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let view = &self.view;
        let me = view.position(self.id);
        let unknown_seed = env.protocol.seeds.iter().any(|&s| s != self.id && view.position(s).is_err());
        let peer = if unknown_seed {
            // Seeds the view does not know yet (a joining node's): list them in order.
            let mut peers: Vec<NodeId> = view.known().filter(|&p| p != self.id).collect();
            for &seed in env.protocol.seeds.iter().filter(|&&s| s != self.id) {
                if let Err(at) = peers.binary_search(&seed) {
                    peers.insert(at, seed);
                }
            }
            peers.get(index(&mut self.rng, peers.len())).copied()
        } else {
            // The usual case: the peers are the view's nodes less this one, picked by index.
            let len = view.len() - me.is_ok() as usize;
            (len > 0).then(|| {
                let i = index(&mut self.rng, len);
                let skip = matches!(me, Ok(at) if i >= at) as usize;
                view.nth(i + skip).unwrap_or(self.id)
            })
        };
        if let Some(peer) = peer {
            self.stats.gossip_rounds += 1;
            let digest = self.view.digest();
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::GossipDigest { digest } });
        }
    }

    /// Merges a peer's view into this node's; returns whether it changed (the world then
    /// rebuilds this node's ring and runs [`Node::handoff`]).
    pub(super) fn adopt_view(&mut self, view: &Rc<Membership>, out: &mut Vec<NodeEffect>) -> bool {
        // Equal views change nothing: no copy of the shared view is made for them.
        if Rc::ptr_eq(view, &self.view) || **view == *self.view || !Rc::make_mut(&mut self.view).merge(view) {
            return false;
        }
        out.push(NodeEffect::ViewChanged);
        true
    }
}
