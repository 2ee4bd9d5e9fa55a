//! Delivery: a message from a handler's send through the network model and the receiver's
//! interfaces to its arrival, the receiver's queue and the handler that takes it, and the
//! effects a node handler pushed, applied in push order.

use super::membership::client_ring;
use super::{client_env, Event, World};
use crate::cluster::network::{MessageKind, Route};
use crate::node::message::{Payload, ReplyBody};
use crate::node::{NodeEffect, NodeEnv};
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::{Endpoint, KeyId, NodeId};

/// The CPU time, in nanoseconds, a message's work costs its receiver under the capacity model.
fn cpu_cost(cpu: &crate::scenario::capacity::CpuCosts, payload: &Payload) -> u64 {
    match payload {
        Payload::ClientGet(_) => cpu.coordinate_get,
        Payload::ClientPut(..) => cpu.coordinate_put,
        Payload::GetRequest { .. } => cpu.replica_read,
        Payload::PutRequest { .. } | Payload::MintRequest { .. } | Payload::ReadRepair { .. } => cpu.replica_write,
        Payload::Hint { .. } => cpu.per_key_stored,
        Payload::Transfer { entries, .. } | Payload::AeKeys { entries, .. } => cpu.per_key_stored * entries.len() as u64,
        Payload::AeCompare { hashes, .. } => cpu.exchange_per_hash * hashes.len() as u64,
        _ => 0,
    }
}

#[derive(Debug)]
pub(super) struct Envelope {
    /// The message's id (a duplicate keeps its original's), for tracing.
    pub(super) id: u64,
    pub(super) from: Endpoint,
    pub(super) to: Endpoint,
    pub(super) payload: Payload,
    /// Set when the message is queued at a busy node: the service time it will take.
    pub(super) service: SimDuration,
}

impl Envelope {
    fn sent(id: u64, from: Endpoint, to: Endpoint, payload: Payload) -> Envelope {
        Envelope { id, from, to, payload, service: SimDuration::ZERO }
    }

    fn tag(&self, kind: MessageKind, key: Option<KeyId>) -> MessageTag {
        MessageTag { id: self.id, from: self.from, to: self.to, kind, key }
    }
}

/// What a trace line says of the message it is about.
#[derive(Copy, Clone)]
pub(super) struct MessageTag {
    pub(super) id: u64,
    pub(super) from: Endpoint,
    pub(super) to: Endpoint,
    pub(super) kind: MessageKind,
    pub(super) key: Option<KeyId>,
}

impl<'s> World<'s> {
    pub(super) fn send(&mut self, depart: SimTime, from: Endpoint, to: Endpoint, payload: Payload) {
        let kind = payload.kind();
        self.metrics.message(kind).sent += 1;
        if let (Payload::Transfer { entries, .. }, Some(change)) = (&payload, self.change_transfers.last_mut()) {
            change.bytes += payload.size_bytes() as u64;
            change.keys += entries.len() as u64;
            if let Endpoint::Node(n) = from {
                // From the moment its handoff began: a scan for the keys comes before the send.
                change.senders.entry(n).or_insert(crate::observe::SenderTransfers {
                    first_sent: self.engine.now(),
                    last_ack: None,
                    drained: None,
                });
            }
        }
        // Probe keys are interned after the workload's, so their ids come last.
        if payload.key().is_some_and(|k| k.index() >= self.scenario.workload.key_count) {
            self.metrics.message(kind).probe_sent += 1;
        }
        self.next_message += 1;
        let id = self.next_message;
        self.trace_message("send", || MessageTag { id, from, to, kind, key: payload.key() }, None);
        if from == to && !self.scenario.protocol.local_legs_over_network {
            // A node's request to itself crosses no network; it still waits for service.
            self.engine.schedule_at(depart, Event::Deliver(Envelope::sent(id, from, to, payload)));
            return;
        }
        // Bytes take time on the sender's and the receiver's network interfaces.
        let (bytes, stream) = if self.resources.bounded() { (payload.size_bytes(), payload.is_stream()) } else { (0, false) };
        self.metrics.message(kind).bytes += bytes as u64;
        let depart = match from {
            Endpoint::Node(n) if bytes > 0 => self.resources.send(n.index(), depart, bytes, stream, self.network.slow_factor(n)),
            _ => depart,
        };
        let arrive = |world: &mut Self, at: SimTime| match to {
            Endpoint::Node(n) if bytes > 0 => world.resources.receive(n.index(), at, bytes, stream, world.network.slow_factor(n)),
            _ => at,
        };
        let mut route = self.network.route(depart, from, to, kind);
        if self.schedule.is_some() {
            route = self.schedule_fate(route);
        }
        match route {
            Route::Lost => {
                self.metrics.message(kind).lost += 1;
                self.trace_message("drop", || MessageTag { id, from, to, kind, key: payload.key() }, Some("lost"));
            }
            Route::Deliver(at) => {
                let at = arrive(self, at);
                self.engine.schedule_at(at, Event::Deliver(Envelope::sent(id, from, to, payload)));
            }
            Route::Duplicate(first, second) => {
                self.metrics.message(kind).duplicated += 1;
                let (first, second) = (arrive(self, first), arrive(self, second));
                let copy = Envelope::sent(id, from, to, payload.clone());
                self.engine.schedule_at(first, Event::Deliver(Envelope::sent(id, from, to, payload)));
                self.engine.schedule_at(second, Event::Deliver(copy));
            }
        }
    }

    pub(super) fn deliver(&mut self, mut env: Envelope) {
        let now = self.engine.now();
        let (kind, key) = (env.payload.kind(), env.payload.key());
        match env.to {
            Endpoint::Node(n) => {
                if !self.node_up[n.index()] {
                    self.metrics.message(kind).dropped_down += 1;
                    self.trace_message("drop", || env.tag(kind, key), Some("down"));
                    return;
                }
                if self.dropped_by_partition(&env, kind, key) {
                    return;
                }
                if let (Payload::TransferAck { .. }, Some(change)) = (&env.payload, self.change_transfers.last_mut()) {
                    if let Some(sender) = change.senders.get_mut(&n) {
                        sender.last_ack = Some(now);
                    }
                }
                if let Some(backoff) = self.scenario.protocol.admission.map(|a| a.backoff) {
                    if env.payload.is_background() && !self.admits_background(n) {
                        // Admission control: background work waits for a later time slice.
                        self.metrics.background_deferred += 1;
                        self.engine.schedule_at(now.after(backoff), Event::Deliver(env));
                        return;
                    }
                }
                let mut service = SimDuration::ZERO;
                // The single-server model draws every request's time; the capacity model
                // charges each kind of work its CPU cost.
                let (queues, cost) = if self.scenario.service_time.is_zero() {
                    let cost = cpu_cost(&self.scenario.capacity.cpu, &env.payload);
                    (cost > 0, cost)
                } else if env.payload.needs_service() {
                    (true, self.scenario.service_time.sample(&mut self.service_rng[n.index()]).0)
                } else {
                    (false, 0)
                };
                if queues {
                    let (start, took) = self.resources.cpu(n.index(), now, cost, self.network.slow_factor(n));
                    service = took;
                    if let Some(config) = &self.scenario.protocol.admission {
                        if !env.payload.is_background() {
                            self.nodes[n.index()].note_foreground_wait(config, start.since(now));
                        }
                    }
                    if start > now {
                        env.service = service;
                        self.metrics.queued_messages += 1;
                        self.engine.schedule_at(start, Event::Process(env));
                        return;
                    }
                }
                self.metrics.message(kind).delivered += 1;
                self.trace_message("deliver", || env.tag(kind, key), None);
                let ack = matches!(env.payload, Payload::TransferAck { .. });
                self.handle_at_node(n, env.from, env.payload, service);
                if ack && self.nodes[n.index()].stats.handoff_done_at == Some(now) {
                    if let Some(sender) = self.change_transfers.last_mut().and_then(|c| c.senders.get_mut(&n)) {
                        sender.drained.get_or_insert(now);
                    }
                }
            }
            Endpoint::Client(c) => {
                if self.dropped_by_partition(&env, kind, key) {
                    return;
                }
                self.metrics.message(kind).delivered += 1;
                if let Payload::Reply { op, body, .. } = env.payload {
                    if self.tracer.is_some() {
                        let outcome = match &body {
                            ReplyBody::Get { read, .. } => format!("ok, {} versions", read.siblings.len()),
                            ReplyBody::Put { .. } => "ok".to_string(),
                            ReplyBody::Failed(f) => format!("failed: {f:?}"),
                        };
                        // Built from the fields: the payload's body has moved out of `env`.
                        let tag = || MessageTag { id: env.id, from: env.from, to: env.to, kind, key };
                        self.trace_message("reply", tag, Some(&outcome));
                    }
                    let mut out = std::mem::take(&mut self.client_effects);
                    let ring = client_ring(self.scenario, &self.ring_history, c.index(), self.clients.len(), now);
                    let mut cenv =
                        client_env(self.scenario, ring, &mut self.keys, &self.chooser, &mut self.next_write, &mut self.key_locks);
                    self.clients[c.index()].on_reply(now, &mut cenv, op, body, &mut out);
                    self.apply_client_effects(c, &mut out);
                    self.client_effects = out;
                }
            }
        }
    }

    /// A request that waited for its node to be free starts its service now, unless the node
    /// went down meanwhile.
    pub(super) fn process(&mut self, env: Envelope) {
        if let Endpoint::Node(n) = env.to {
            let (kind, key) = (env.payload.kind(), env.payload.key());
            if self.node_up[n.index()] {
                self.metrics.message(kind).delivered += 1;
                self.trace_message("deliver", || env.tag(kind, key), Some("after queueing"));
                self.handle_at_node(n, env.from, env.payload, env.service);
            } else {
                self.metrics.message(kind).dropped_down += 1;
                self.trace_message("drop", || env.tag(kind, key), Some("down while queued"));
            }
        }
    }

    /// Drops a message a partition cuts when it arrives (counted per partition, traced).
    fn dropped_by_partition(&mut self, env: &Envelope, kind: MessageKind, key: Option<KeyId>) -> bool {
        let Some(cut) = self.network.cut_by(env.from, env.to) else { return false };
        self.metrics.message(kind).dropped_partition += 1;
        *self.metrics.drops_by_partition.entry(cut).or_insert(0) += 1;
        self.trace_message("drop", || env.tag(kind, key), Some("partition"));
        true
    }

    fn admits_background(&self, n: NodeId) -> bool {
        let i = n.index();
        let env = NodeEnv {
            ring: &self.node_rings[i],
            ranges: &self.node_ranges[i],
            keys: &self.keys,
            protocol: &self.scenario.protocol,
        };
        self.nodes[i].admits_background(&env)
    }

    pub(super) fn handle_at_node(&mut self, node: NodeId, from: Endpoint, payload: Payload, service: SimDuration) {
        self.drive_node(node, service, |n, now, env, out| n.on_message(now, env, from, payload, out));
    }

    /// Applies a node's effects in push order; sends depart when its service time ends.
    pub(super) fn apply_node_effects(&mut self, node: NodeId, service: SimDuration, out: &mut Vec<NodeEffect>) {
        let i = node.index();
        let disk = self.nodes[i].take_disk_work();
        let slow = self.network.slow_factor(node);
        let mut served = self.engine.now().after(service);
        // Merkle hashing the handler did (tree updates, a rebuild) takes CPU time before what
        // it sends leaves.
        let hashes = self.nodes[i].stats.merkle_hashes;
        let fresh = hashes - self.hashes_charged[i];
        self.hashes_charged[i] = hashes;
        let per_hash = self.scenario.capacity.cpu.merkle_per_key;
        if fresh > 0 && per_hash > 0 && self.scenario.service_time.is_zero() {
            let (start, took) = self.resources.cpu(i, served, fresh * per_hash, slow);
            served = start.after(took);
        }
        let busy = &mut self.resources.busy[i];
        let mut depart = self.disks.access(i, disk.reads, disk.writes, served, slow, busy);
        if disk.writes > 0 {
            self.nodes[i].disk_writes_done(depart);
        }
        if disk.scan_bytes > 0 {
            depart = depart.max(self.disks.scan(i, disk.scan_bytes, served, slow, busy));
        }
        for effect in out.drain(..) {
            match effect {
                NodeEffect::Send { to, payload } => self.send(depart, Endpoint::Node(node), to, payload),
                NodeEffect::Timer { after, timer } => match timer.request_timer_kind() {
                    Some(kind) => {
                        let ticket = self.engine.ticket_after(after);
                        if let Some(wake) = self.node_timeouts[kind].push(ticket, (node, timer)) {
                            self.engine.schedule_ticket(wake, Event::NodeTimeout { kind: kind as u8, ticket: wake });
                        }
                    }
                    None => self.engine.schedule_after(after, Event::NodeTimer { node, timer }),
                },
                NodeEffect::ViewChanged => self.install_view(node),
            }
        }
        if self.nodes[node.index()].is_drained() && self.node_up[node.index()] {
            // A decommissioned node stops once everything it held has been handed off.
            self.node_up[node.index()] = false;
            self.crash_node(node);
            self.decommissioned.push((node, self.engine.now()));
        }
    }
}
