//! The world: one scenario's nodes, clients, network and observers, driven by the engine.
//!
//! Data flows one way: the world pops an event, hands it to the node or client it concerns,
//! and applies the effects that come back (sends through the network model, timers) in the
//! order they were pushed; observers (metrics, history oracle) only listen.
//!
//! A message's life: a handler pushes Send -> `send` asks the network for its fate -> a Deliver
//! event at the arrival time -> on arrival a crashed receiver or a partition drops it -> a
//! request waits in the receiver's FIFO queue while the node is busy, then takes its service
//! time; what the handler sends departs when the service ends (and its disk writes, if any).

mod capacity;
pub mod client;
mod disk;
pub mod key_lock;
use crate::cluster::keyspace::KeyTable;
use crate::cluster::network::{client_datacenter, MessageKind, Network, Route};
use crate::cluster::ring::{RangeMap, Ring, RingMember};
use crate::node::membership::{MemberRecord, MemberStatus, Membership};
use crate::node::message::Failure;
use crate::node::message::{Payload, ReplyBody};
use crate::node::replica::Unflushed;
use crate::node::{Coordination, Node, NodeEffect, NodeEnv, NodeTimer};
use crate::observe::convergence::{self, DivergenceSampler, Snapshot};
use crate::observe::history::History;
use crate::observe::latency::LatencyFrame;
use crate::observe::metrics::{AppliedFault, LoadWindows, Metrics};
use crate::observe::ops::{ClientHistory, Op, OpFunction, OpLog, OpType, OpValue};
use crate::observe::trace::{TraceEvent, Tracer};
use crate::observe::{LostWrite, LostWrites, RunResult};
use crate::scenario::workload::{Arrivals, ValueModel};
use crate::scenario::{Fault, Scenario, ScheduledFault};
use crate::sim::engine::{Engine, Limit, SimDuration, SimTime, Ticket, TimeoutQueue};
use crate::sim::ids::{ClientId, Endpoint, KeyId, NodeId, WriteId};
use crate::sim::rng::{unit_open0, Seeds, SimRng, Stream};
use crate::world::client::{Client, ClientEffect, ClientEnv, ClientTimer, KeyChooser, Observation, Role};
use crate::world::key_lock::KeyLocks;
use capacity::Resources;
use disk::Disks;
use std::collections::BTreeMap;
use std::rc::Rc;

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

/// What the engine schedules. A message travels inside its event: the engine keeps events in
/// a slab apart from its queue of small keys, so their size costs the queue nothing.
#[derive(Debug)]
enum Event {
    Deliver(Envelope),
    /// A request that waited for its node to be free starts its service now.
    Process(Envelope),
    NodeTimer {
        node: NodeId,
        timer: NodeTimer,
    },
    ClientTimer {
        client: ClientId,
        timer: ClientTimer,
    },
    /// The earliest of every node's request timers of one kind falls due (see [`TimeoutQueue`]).
    NodeTimeout {
        kind: u8,
        ticket: Ticket,
    },
    /// The earliest of every client's operation timeouts falls due.
    ClientTimeout {
        ticket: Ticket,
    },
    /// The next open-loop arrival.
    Arrival,
    /// Client traffic stops; the quiescent tail begins.
    EndWorkload,
    /// The scenario's i-th scheduled fault.
    Fault(usize),
    /// Time to sample divergence.
    Sample,
}

#[derive(Debug)]
struct Envelope {
    /// The message's id (a duplicate keeps its original's), for tracing.
    id: u64,
    from: Endpoint,
    to: Endpoint,
    payload: Payload,
    /// Set when the message is queued at a busy node: the service time it will take.
    service: SimDuration,
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
struct MessageTag {
    id: u64,
    from: Endpoint,
    to: Endpoint,
    kind: MessageKind,
    key: Option<KeyId>,
}

pub struct World<'s> {
    scenario: &'s Scenario,
    engine: Engine<Event>,
    /// The operator's view of the ring (joins and leaves as declared): clients route by it and
    /// convergence is judged against it.
    ring: Rc<Ring>,
    /// Every ring the operator's view has had, with when it took effect (the last is `ring`):
    /// what clients that refresh their copy periodically route by.
    ring_history: Vec<(SimTime, Rc<Ring>)>,
    /// Each node's ring, from its own gossiped view, and that ring's range map.
    node_rings: Vec<Rc<Ring>>,
    node_ranges: Vec<Rc<RangeMap>>,
    /// Rings built so far, by view fingerprint: nodes that agree share one.
    ring_cache: Vec<(u64, Rc<Ring>, Rc<RangeMap>)>,
    /// Membership changes and when every running node first agreed on the ring after each.
    agreement: Vec<(SimTime, Option<SimTime>)>,
    /// Per membership change (as `agreement`), the range transfers sent after it.
    change_transfers: Vec<crate::observe::ChangeTransfers>,
    /// Nodes that left the ring and stopped after handing everything off.
    decommissioned: Vec<(NodeId, SimTime)>,
    keys: KeyTable,
    chooser: KeyChooser,
    network: Network,
    nodes: Vec<Node>,
    node_up: Vec<bool>,
    /// Each node's CPU cores and network interface.
    resources: Resources,
    /// Per node: the Merkle hashes already charged to its CPU.
    hashes_charged: Vec<u64>,
    service_rng: Vec<SimRng>,
    disks: Disks,
    /// What crashes put back to the disk's version under buffered storage, by key: the
    /// lost-write judgement calls a lost write unflushed if one of these reflected it before
    /// and not after (it may have been acknowledged only after the crash).
    unflushed_lost: BTreeMap<KeyId, Vec<Unflushed>>,
    /// Acknowledged writes the oracle's prunes found lost during the run.
    lost_writes: LostWrites,
    /// Writes between the oracle's prunes; zero: never (carts and `explain` keep every write).
    prune_writes: usize,
    clients: Vec<Client>,
    /// Workload sessions (open-loop arrivals go to them in turn).
    workload_clients: usize,
    arrival_rng: SimRng,
    next_arrival_client: usize,
    workload_active: bool,
    next_write: u64,
    key_locks: KeyLocks,
    metrics: Metrics,
    history: History,
    node_effects: Vec<NodeEffect>,
    client_effects: Vec<ClientEffect>,
    peak_pending: usize,
    samples: Vec<(SimTime, Snapshot)>,
    divergence: DivergenceSampler,
    /// Every node's request timers, one queue per kind, and every client's operation timeouts.
    /// Each kind has one length, so its timers arrive in order; one queue for all owners keeps
    /// a moot timer from becoming an event however few requests each owner has in flight (with
    /// one queue per owner, a node that coordinates a request now and then armed each timer).
    node_timeouts: [TimeoutQueue<(NodeId, NodeTimer)>; 3],
    client_timeouts: TimeoutQueue<(ClientId, ClientTimer)>,
    /// Timeouts that were moot before they fell due, and so never became events.
    timeouts_retired: u64,
    /// Sample divergence with a full scan of every key, not only the changed ones (for testing
    /// that both agree).
    full_divergence_scans: bool,
    /// Where and why the run ended early: a bound of the engine (see [`Limit`]).
    stopped: Option<(SimTime, Limit)>,
    seed: u64,
    next_message: u64,
    tracer: Option<Tracer>,
    /// The client history, when asked for (see `observe::ops`).
    op_log: Option<OpLog>,
    explain_key: Option<KeyId>,
    /// The run's fault schedule: the scenario's, plus what the nemesis drew for this seed.
    faults: Vec<ScheduledFault>,
}

/// The ring (and range map) of a membership view, built once per distinct view.
fn ring_for(
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

/// Bytes of one event, a message's included.
pub const EVENT_BYTES: usize = std::mem::size_of::<Event>();

/// Bytes one pending event costs: its 16-byte queue key plus its slab slot.
pub fn pending_event_bytes() -> usize {
    16 + std::mem::size_of::<Option<Event>>()
}

impl<'s> World<'s> {
    pub fn new(scenario: &'s Scenario, seed: u64) -> World<'s> {
        let seeds = Seeds::new(seed);
        let node_dcs: Vec<u16> = scenario.nodes.iter().map(|n| n.datacenter).collect();
        let mut network = Network::new(
            scenario.network.clone(),
            seeds.stream(Stream::Network, 0),
            node_dcs,
            scenario.client_datacenters.clone(),
        );
        if scenario.clients_with_nodes {
            network.place_clients_with_nodes();
        }
        for &(node, factor) in &scenario.slow_nodes {
            network.set_slow_factor(node, factor);
        }
        let initial = Rc::new(Membership::with_members(scenario.initial_members.iter().copied()));
        let mut nodes: Vec<Node> = (0..scenario.nodes.len())
            .map(|i| {
                let id = NodeId(i as u32);
                let mut node = Node::new(id, seeds.stream(Stream::Node, i as u64));
                node.set_clock_skew(scenario.nodes[i].clock_skew_ns);
                if scenario.initial_members.contains(&id) {
                    node.set_view(initial.clone());
                }
                node
            })
            .collect();
        if scenario.divergence_interval > SimDuration::ZERO {
            DivergenceSampler::watch(&mut nodes);
        }
        let service_rng = (0..scenario.nodes.len()).map(|i| seeds.stream(Stream::Service, i as u64)).collect();
        let workload_clients = scenario.workload.arrivals.clients();
        let closed_loop = matches!(scenario.workload.arrivals, Arrivals::Closed { .. });
        let mut clients: Vec<Client> = (0..workload_clients)
            .map(|i| {
                let id = ClientId(i as u32);
                let home = client_datacenter(&scenario.client_datacenters, id);
                Client::new(id, Role::Workload { closed_loop }, home, seeds.stream(Stream::Client, i as u64))
            })
            .collect();
        if let Some(p) = &scenario.probe {
            for j in 0..p.clients {
                let id = ClientId((workload_clients + j) as u32);
                let home = client_datacenter(&scenario.client_datacenters, id);
                clients.push(Client::new(id, Role::Probe, home, seeds.stream(Stream::Probe, j as u64)));
            }
        }
        let probe_delays = scenario.probe.as_ref().map_or(0, |p| p.delays.len());
        let mut faults = scenario.faults.clone();
        if let Some(nemesis) = &scenario.nemesis {
            faults.extend(crate::scenario::nemesis::generate(
                nemesis,
                &scenario.initial_members,
                &mut seeds.stream(Stream::Faults, 0),
            ));
            faults.sort_by_key(|f| f.at);
        }
        let mut ring_cache = Vec::new();
        let (ring, ranges) = ring_for(scenario, seed, &mut ring_cache, &initial);
        let slots = scenario.nodes.len();
        World {
            scenario,
            engine: Engine::new(),
            node_rings: vec![ring.clone(); slots],
            node_ranges: vec![ranges; slots],
            ring_history: vec![(SimTime::ZERO, ring.clone())],
            ring,
            ring_cache,
            agreement: Vec::new(),
            change_transfers: Vec::new(),
            decommissioned: Vec::new(),
            seed,
            next_message: 0,
            tracer: None,
            op_log: None,
            explain_key: None,
            faults,
            keys: KeyTable::with_workload_keys(scenario.workload.key_count),
            chooser: KeyChooser::new(&scenario.workload.popularity, scenario.workload.key_count),
            network,
            resources: Resources::new(
                &scenario.capacity,
                if scenario.service_time.is_zero() { scenario.capacity.cores as usize } else { 1 },
                scenario.nodes.iter().map(|n| n.capacity_factor).collect(),
            ),
            hashes_charged: vec![0; nodes.len()],
            node_up: (0..slots).map(|i| scenario.initial_members.contains(&NodeId(i as u32))).collect(),
            nodes,
            service_rng,
            disks: Disks::new(&scenario.disk_times, scenario.capacity.scan_bytes_per_s, &seeds, slots),
            unflushed_lost: BTreeMap::new(),
            lost_writes: LostWrites::default(),
            prune_writes: if matches!(scenario.workload.value_model, ValueModel::Cart { .. }) {
                0
            } else {
                scenario.history_prune_writes
            },
            clients,
            workload_clients,
            arrival_rng: seeds.stream(Stream::Workload, 0),
            next_arrival_client: 0,
            workload_active: true,
            next_write: 0,
            key_locks: KeyLocks::default(),
            metrics: Metrics {
                load_windows: LoadWindows::new(scenario.load_window.as_nanos(), scenario.nodes.len()),
                latency_frame: LatencyFrame {
                    exact_samples: scenario.exact_latency_samples,
                    window_ns: crate::report::window_ns(
                        scenario.duration.as_nanos().saturating_add(scenario.quiescent_tail.as_nanos()),
                    ),
                    traffic_end_ns: scenario.duration.as_nanos(),
                },
                ..Metrics::new()
            },
            history: History::new(
                probe_delays,
                scenario.probe.as_ref().map_or(1, |p| p.versions),
                scenario.workload.session_keys_per_client,
            ),
            node_effects: Vec::new(),
            client_effects: Vec::new(),
            peak_pending: 0,
            samples: Vec::new(),
            divergence: DivergenceSampler::default(),
            node_timeouts: Default::default(),
            client_timeouts: TimeoutQueue::default(),
            timeouts_retired: 0,
            full_divergence_scans: false,
            stopped: None,
        }
    }

    /// Runs the workload for the scenario's duration, then the quiescent tail.
    pub fn run(self) -> RunResult {
        self.run_traced().0
    }

    /// [`World::run`], handing back the tracer (if one was set), flushed.
    pub fn run_traced(mut self) -> (RunResult, Option<Tracer>) {
        let end_workload = SimTime::ZERO.after(self.scenario.duration);
        let end = end_workload.after(self.scenario.quiescent_tail);
        self.engine.schedule_at(end_workload, Event::EndWorkload);
        for i in 0..self.nodes.len() {
            if self.node_up[i] {
                self.start_node(NodeId(i as u32));
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            self.engine.schedule_at(SimTime::ZERO.after(f.at), Event::Fault(i));
        }
        for i in 0..self.clients.len() {
            let closed = matches!(self.clients[i].role(), Role::Workload { closed_loop: true } | Role::Probe);
            if closed {
                let ring = client_ring(self.scenario, &self.ring_history, i, self.clients.len(), SimTime::ZERO);
                let env =
                    client_env(self.scenario, ring, &mut self.keys, &self.chooser, &mut self.next_write, &mut self.key_locks);
                let delay = self.clients[i].initial_delay(&env);
                self.engine.schedule_after(delay, Event::ClientTimer { client: ClientId(i as u32), timer: ClientTimer::Wake });
            }
        }
        if self.scenario.divergence_interval > SimDuration::ZERO {
            self.engine.schedule_after(self.scenario.divergence_interval, Event::Sample);
        }
        if let Arrivals::Open { .. } = self.scenario.workload.arrivals {
            let gap = self.next_arrival_gap();
            self.engine.schedule_after(gap, Event::Arrival);
        }
        while let Some(event) = self.engine.pop_until(end) {
            self.peak_pending = self.peak_pending.max(self.engine.pending());
            self.prefetch_next();
            self.dispatch(event);
            if self.history.prune_due(self.prune_writes) {
                self.prune_history();
            }
            if let Some(limit) = self.engine.limit() {
                self.stopped = Some((self.engine.now(), limit));
                break;
            }
        }
        self.engine.advance_to(end);
        let tracer = self.tracer.take();
        (self.finish(), tracer)
    }

    fn next_arrival_gap(&mut self) -> SimDuration {
        match self.scenario.workload.arrivals {
            Arrivals::Open { rate_per_s, profile: None, .. } => {
                SimDuration::from_millis_f64(-unit_open0(&mut self.arrival_rng).ln() * 1000.0 / rate_per_s)
            }
            Arrivals::Open { rate_per_s, profile: Some(ref profile), .. } => {
                // A rate that varies: candidates at the peak rate, each kept with the chance
                // the rate at its time bears to the peak (Lewis and Shedler's thinning).
                let peak = rate_per_s * profile.max_factor();
                let now = self.engine.now().as_nanos();
                let mut at = now;
                loop {
                    let gap = SimDuration::from_millis_f64(-unit_open0(&mut self.arrival_rng).ln() * 1000.0 / peak);
                    at = at.saturating_add(gap.as_nanos().max(1));
                    if unit_open0(&mut self.arrival_rng) * profile.max_factor() <= profile.factor(at) {
                        return SimDuration(at - now);
                    }
                }
            }
            Arrivals::Closed { .. } => SimDuration::ZERO,
        }
    }

    /// Starts loading the table slot the next event's message will look up (a node's store, a
    /// client's session), so that the memory access overlaps this event's work: in long runs the
    /// heap is far larger than the cache and those lookups were the largest single cost.
    fn prefetch_next(&mut self) {
        let Some(Event::Deliver(env) | Event::Process(env)) = self.engine.peek() else { return };
        let Some(key) = env.payload.key() else { return };
        match env.to {
            Endpoint::Node(n) => self.nodes[n.index()].prefetch(key),
            Endpoint::Client(c) => self.clients[c.index()].prefetch(key),
        }
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Deliver(env) => self.deliver(env),
            Event::Process(env) => {
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
            Event::NodeTimer { node, .. } if !self.node_up[node.index()] => {}
            Event::NodeTimer { node, timer } => {
                if self.tracer.is_some() {
                    self.trace_other("timer", Some(node.to_string()), format!("{timer:?}"));
                }
                self.drive_node(node, SimDuration::ZERO, |n, now, env, out| n.on_timer(now, env, timer, out));
            }
            Event::ClientTimer { client, timer } => {
                if matches!(timer, ClientTimer::Wake | ClientTimer::Granted { .. }) && !self.workload_active {
                    return;
                }
                if self.tracer.is_some() {
                    self.trace_other("timer", Some(client.to_string()), format!("{timer:?}"));
                }
                let mut out = std::mem::take(&mut self.client_effects);
                let ring = client_ring(self.scenario, &self.ring_history, client.index(), self.clients.len(), self.engine.now());
                let mut env =
                    client_env(self.scenario, ring, &mut self.keys, &self.chooser, &mut self.next_write, &mut self.key_locks);
                self.clients[client.index()].on_timer(self.engine.now(), &mut env, timer, &mut out);
                self.apply_client_effects(client, &mut out);
                self.client_effects = out;
            }
            Event::Arrival => {
                if !self.workload_active || self.workload_clients == 0 {
                    return;
                }
                let client = self.next_arrival_client;
                self.next_arrival_client = (self.next_arrival_client + 1) % self.workload_clients;
                let mut out = std::mem::take(&mut self.client_effects);
                let ring = client_ring(self.scenario, &self.ring_history, client, self.clients.len(), self.engine.now());
                let mut env =
                    client_env(self.scenario, ring, &mut self.keys, &self.chooser, &mut self.next_write, &mut self.key_locks);
                self.clients[client].start_operation(self.engine.now(), &mut env, &mut out);
                self.apply_client_effects(ClientId(client as u32), &mut out);
                self.client_effects = out;
                let gap = self.next_arrival_gap();
                self.engine.schedule_after(gap, Event::Arrival);
            }
            Event::NodeTimeout { kind, ticket } => {
                let queue = &mut self.node_timeouts[kind as usize];
                if let Some((node, timer)) = queue.take_due(ticket) {
                    if self.nodes[node.index()].awaits(&timer) {
                        self.dispatch(Event::NodeTimer { node, timer });
                    } else {
                        self.timeouts_retired += 1;
                    }
                }
                let (nodes, retired) = (&self.nodes, &mut self.timeouts_retired);
                let next = self.node_timeouts[kind as usize].settle(|(node, timer)| {
                    let moot = !nodes[node.index()].awaits(timer);
                    *retired += moot as u64;
                    moot
                });
                if let Some(wake) = next {
                    self.engine.schedule_ticket(wake, Event::NodeTimeout { kind, ticket: wake });
                }
            }
            Event::ClientTimeout { ticket } => {
                if let Some((client, timer)) = self.client_timeouts.take_due(ticket) {
                    match timer {
                        ClientTimer::Timeout(op) if !self.clients[client.index()].awaits(op) => self.timeouts_retired += 1,
                        _ => self.dispatch(Event::ClientTimer { client, timer }),
                    }
                }
                let (clients, retired) = (&self.clients, &mut self.timeouts_retired);
                let next = self.client_timeouts.settle(|(client, timer)| {
                    let moot = matches!(timer, ClientTimer::Timeout(op) if !clients[client.index()].awaits(*op));
                    *retired += moot as u64;
                    moot
                });
                if let Some(wake) = next {
                    self.engine.schedule_ticket(wake, Event::ClientTimeout { ticket: wake });
                }
            }
            Event::EndWorkload => self.workload_active = false,
            Event::Fault(i) => self.apply_fault(i),
            Event::Sample => {
                let snap = if self.full_divergence_scans {
                    self.snapshot()
                } else {
                    let replicas = self.divergence.sample(&self.ring, &self.keys, &mut self.nodes, &self.scenario.protocol);
                    self.with_membership(replicas)
                };
                self.samples.push((self.engine.now(), snap));
                self.engine.schedule_after(self.scenario.divergence_interval, Event::Sample);
            }
        }
    }

    /// The operator adds `node` through `contact`: the contact records the join in its view and
    /// the new node starts with that view; gossip spreads it from there.
    fn join(&mut self, node: NodeId, contact: Option<NodeId>) -> bool {
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
    fn leave(&mut self, node: NodeId, contact: Option<NodeId>) -> bool {
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

    fn start_node(&mut self, node: NodeId) {
        self.drive_node(node, SimDuration::ZERO, |n, _, env, out| n.start(env, out));
    }

    /// Runs one node handler with the node's own ring and applies what it pushed; sends depart
    /// `service` after now.
    fn drive_node(
        &mut self,
        node: NodeId,
        service: SimDuration,
        handler: impl FnOnce(&mut Node, SimTime, &NodeEnv, &mut Vec<NodeEffect>),
    ) {
        let i = node.index();
        let env = NodeEnv {
            ring: &self.node_rings[i],
            ranges: &self.node_ranges[i],
            keys: &self.keys,
            protocol: &self.scenario.protocol,
        };
        let mut out = std::mem::take(&mut self.node_effects);
        let now_ns = self.engine.now().as_nanos();
        if now_ns >= self.metrics.load_windows.open_until_ns {
            self.metrics.load_windows.open_to(now_ns, self.nodes.iter().map(|n| n.stats.requests_served));
        }
        handler(&mut self.nodes[i], self.engine.now(), &env, &mut out);
        self.apply_node_effects(node, service, &mut out);
        self.node_effects = out;
    }

    fn apply_fault(&mut self, i: usize) {
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

    fn deliver(&mut self, mut env: Envelope) {
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

    fn handle_at_node(&mut self, node: NodeId, from: Endpoint, payload: Payload, service: SimDuration) {
        self.drive_node(node, service, |n, now, env, out| n.on_message(now, env, from, payload, out));
    }

    /// Applies a node's effects in push order; sends depart when its service time ends.
    fn apply_node_effects(&mut self, node: NodeId, service: SimDuration, out: &mut Vec<NodeEffect>) {
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
    fn crash_node(&mut self, node: NodeId) -> usize {
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

    /// Gives a node the ring of its current view; if that changed its ring, the node hands off
    /// the keys it no longer replicates.
    fn install_view(&mut self, node: NodeId) {
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

    fn apply_client_effects(&mut self, client: ClientId, out: &mut Vec<ClientEffect>) {
        let now = self.engine.now();
        for effect in out.drain(..) {
            match effect {
                ClientEffect::Send { to, payload } => self.send(now, Endpoint::Client(client), Endpoint::Node(to), payload),
                ClientEffect::Timer { after, timer: timer @ ClientTimer::Timeout(_) } => {
                    let ticket = self.engine.ticket_after(after);
                    if let Some(wake) = self.client_timeouts.push(ticket, (client, timer)) {
                        self.engine.schedule_ticket(wake, Event::ClientTimeout { ticket: wake });
                    }
                }
                ClientEffect::Timer { after, timer } => self.engine.schedule_after(after, Event::ClientTimer { client, timer }),
                ClientEffect::Observe(o) => self.observe(now, o),
                ClientEffect::Grant { to, key, read } => self.engine.schedule_after(
                    SimDuration::ZERO,
                    Event::ClientTimer { client: to, timer: ClientTimer::Granted { key, read } },
                ),
            }
        }
    }

    /// Feeds the history oracle and metrics; probe traffic is kept out of the workload figures.
    fn observe(&mut self, now: SimTime, o: Observation) {
        if self.op_log.is_some() {
            self.log_operation(now, &o);
        }
        match o {
            Observation::ReadStarted { client, op, key } => self.history.read_started(client, op, key),
            Observation::ReadEnded { client, op, started, result, probe, level, .. } => match (result, probe) {
                (Ok((writes, ..)), Some((write, delay_index))) => {
                    self.metrics.probe_reads += 1;
                    self.history.probe_read(client, op, write, delay_index, writes.as_slice());
                }
                (Ok((writes, versions, _)), None) => {
                    self.metrics.succeeded(true, level, now.since(started).as_nanos(), now.as_nanos());
                    self.metrics.versions_per_read[versions.min(4)] += 1;
                    let stale = self.history.read_succeeded(client, op, writes.as_slice());
                    if let Some(level) = level {
                        let stats = &mut self.metrics.levels[level.index()];
                        stats.reads_judged += 1;
                        stats.stale_reads += stale as u64;
                    }
                }
                (Err(failure), probe) => {
                    self.history.read_failed(client, op);
                    if probe.is_none() {
                        self.metrics.failed(true, level, failure, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
            },
            Observation::WriteStarted { write, client, key, parents, removed } => {
                self.history.write_started(client, key, write, parents);
                if let Some(item) = removed {
                    self.history.cart_item_removed(key, item, write);
                }
            }
            Observation::Retried => self.metrics.client_retries += 1,
            Observation::WriteEnded { write, client, key, started, result, probe, level } => match result {
                Ok(()) => {
                    self.history.write_acked(write, key, now);
                    if probe {
                        self.metrics.probe_writes += 1;
                    } else {
                        self.history.session_write_acked(client, key, write);
                        self.metrics.succeeded(false, level, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
                Err(failure) => {
                    if probe {
                        self.metrics.probe_write_failures += 1;
                    } else {
                        self.metrics.failed(false, level, failure, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
            },
        }
    }

    /// Records an invocation or a completion in the client history (see `observe::ops`).
    fn log_operation(&mut self, now: SimTime, o: &Observation) {
        let Some(log) = self.op_log.as_mut() else { return };
        let cart = matches!(self.scenario.workload.value_model, ValueModel::Cart { .. });
        // A write's id in the log: apart from read operation ids.
        let write_op = |w: WriteId| w.0 | 1 << 63;
        let write_f = if cart { OpFunction::Add } else { OpFunction::Write };
        match o {
            Observation::ReadStarted { client, op, key } => log.invoke(
                *client,
                *op,
                Op { time: now, kind: OpType::Invoke, f: OpFunction::Read, key: *key, value: OpValue::Nil },
            ),
            Observation::ReadEnded { client, op, key, result, .. } => {
                let (kind, value) = match result {
                    Ok((writes, _, read)) => {
                        let mut values: Vec<u64> = if cart {
                            read.siblings.iter().flat_map(|s| s.cart.items()).collect()
                        } else {
                            writes.as_slice().iter().map(|w| w.0).collect()
                        };
                        values.sort_unstable();
                        values.dedup();
                        let value = match (cart, values.as_slice()) {
                            (false, []) => OpValue::Nil,
                            (false, [one]) => OpValue::One(*one),
                            _ => OpValue::Set(values),
                        };
                        (OpType::Ok, value)
                    }
                    // A read that failed changed nothing.
                    Err(_) => (OpType::Fail, OpValue::Nil),
                };
                log.complete(*client, *op, Op { time: now, kind, f: OpFunction::Read, key: *key, value });
            }
            Observation::WriteStarted { write, client, key, .. } => {
                let op = Op { time: now, kind: OpType::Invoke, f: write_f, key: *key, value: OpValue::One(write.0) };
                log.invoke(*client, write_op(*write), op)
            }
            Observation::WriteEnded { write, client, key, result, .. } => {
                let kind = match result {
                    Ok(()) => OpType::Ok,
                    // Refused before it was sent: it did not happen.
                    Err(Failure::Unavailable) => OpType::Fail,
                    // It may have reached some replicas.
                    Err(_) => OpType::Info,
                };
                log.complete(
                    *client,
                    write_op(*write),
                    Op { time: now, kind, f: write_f, key: *key, value: OpValue::One(write.0) },
                );
            }
            Observation::Retried => {}
        }
    }

    /// Records a message event if tracing is on; inlined, and `tag` is called only then, so an
    /// untraced run pays one test and computes nothing.
    #[inline(always)]
    fn trace_message(&mut self, verb: &'static str, tag: impl FnOnce() -> MessageTag, outcome: Option<&str>) {
        if self.tracer.is_some() {
            self.record_message(verb, tag(), outcome);
        }
    }

    /// The traced half of [`World::trace_message`].
    #[cold]
    fn record_message(&mut self, verb: &'static str, tag: MessageTag, outcome: Option<&str>) {
        let MessageTag { id, from, to, kind, key } = tag;
        if let Some(t) = self.tracer.as_mut() {
            let node = match (verb, from, to) {
                ("send", Endpoint::Node(n), _) | (_, _, Endpoint::Node(n)) => Some(n.to_string()),
                _ => None,
            };
            t.record(TraceEvent {
                at: self.engine.now(),
                node,
                verb,
                kind: Some(kind.name()),
                key: key.map(|k| self.keys.name(k)),
                message: Some(id),
                from: Some(from.to_string()),
                to: Some(to.to_string()),
                outcome: outcome.map(String::from),
            });
        }
    }

    fn trace_other(&mut self, verb: &'static str, node: Option<String>, outcome: String) {
        if let Some(t) = self.tracer.as_mut() {
            t.record(TraceEvent {
                at: self.engine.now(),
                node,
                verb,
                kind: None,
                key: None,
                message: None,
                from: None,
                to: None,
                outcome: Some(outcome),
            });
        }
    }

    /// Asks the run to describe, at its end, what every node holds of `name`; false if the
    /// workload has no such key.
    pub fn explain(&mut self, name: &str) -> bool {
        self.explain_key = (0..self.keys.len()).map(|k| KeyId(k as u32)).find(|k| self.keys.name(*k) == name);
        // Explaining a key lists every write acknowledged to it: the oracle keeps them all.
        self.prune_writes = 0;
        self.explain_key.is_some()
    }

    fn describe_holdings(&self, key: KeyId) -> Vec<String> {
        let top = self.ring.top_n(self.keys.position(key), self.scenario.protocol.n);
        let writes = |v: &crate::node::versioning::VersionSet| {
            v.siblings.iter().map(|s| format!("w{}", s.write.0)).collect::<Vec<_>>().join(", ")
        };
        let mut out = Vec::new();
        for node in &self.nodes {
            let role = if top.contains(&node.id) { "replica" } else { "not a replica" };
            let state = if self.node_up[node.id.index()] { "" } else { ", down" };
            if let Some(v) = node.versions(key) {
                out.push(format!("{} ({role}{state}) holds [{}]", node.id, writes(v)));
            } else if top.contains(&node.id) {
                out.push(format!("{} ({role}{state}) holds nothing", node.id));
            }
            for (_, intended) in node.pending_hints().filter(|(k, _)| *k == key) {
                out.push(format!("{} keeps a hint for {intended}", node.id));
            }
        }
        out
    }

    /// Makes every divergence sample scan every key, as a reference for the incremental sampler.
    pub fn scan_every_key_each_sample(&mut self) {
        self.full_divergence_scans = true;
    }

    /// Records every client operation for [`RunResult::client_history`].
    pub fn record_client_history(&mut self) {
        let open = match self.scenario.workload.arrivals {
            crate::scenario::workload::Arrivals::Open { .. } => self.workload_clients,
            _ => 0,
        };
        self.op_log = Some(OpLog::new(self.clients.len(), open));
    }

    pub fn set_tracer(&mut self, tracer: Tracer) {
        self.tracer = Some(tracer);
    }

    fn send(&mut self, depart: SimTime, from: Endpoint, to: Endpoint, payload: Payload) {
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
        let depart = match from {
            Endpoint::Node(n) if bytes > 0 => self.resources.send(n.index(), depart, bytes, stream, self.network.slow_factor(n)),
            _ => depart,
        };
        let arrive = |world: &mut Self, at: SimTime| match to {
            Endpoint::Node(n) if bytes > 0 => world.resources.receive(n.index(), at, bytes, stream, world.network.slow_factor(n)),
            _ => at,
        };
        match self.network.route(depart, from, to, kind) {
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

    /// The cart judgements at the end of a run: acknowledged adds lost, and removed items that
    /// came back. Each cart write adds an item named by its write id. An acknowledged add is lost
    /// if no held cart contains it and no write removed it, whatever the clocks say. A removal
    /// by an acknowledged write is undone (the item resurfaced) if the carts held at the end,
    /// merged, contain the item again.
    /// Returns (acknowledged adds, adds lost, items resurfaced).
    fn judge_carts(&self) -> (u64, u64, u64) {
        if !matches!(self.scenario.workload.value_model, ValueModel::Cart { .. }) {
            return (0, 0, 0);
        }
        let items = convergence::held_cart_items(&self.nodes);
        let tombstones = convergence::held_cart_tombstones(&self.nodes);
        let (mut acked_adds, mut lost_adds, mut resurfaced) = (0u64, 0u64, 0u64);
        for key in self.history.written_keys() {
            acked_adds += self.history.acked_writes(key).len() as u64;
            let held = items.get(&key).map_or(&[][..], Vec::as_slice);
            let dead = tombstones.get(&key).map_or(&[][..], Vec::as_slice);
            let removals = self.history.cart_removals(key);
            // Sorted once: a hot cart's thousands of adds each ask whether it was removed.
            let mut removed_items: Vec<u64> = removals.iter().map(|&(item, _)| item).collect();
            removed_items.sort_unstable();
            let removed = |item: u64| removed_items.binary_search(&item).is_ok();
            lost_adds +=
                self.history.acked_writes(key).iter().filter(|(w, _)| held.binary_search(&w.0).is_err() && !removed(w.0)).count()
                    as u64;
            let mut back: Vec<u64> = removals
                .iter()
                .filter(|&&(item, w)| {
                    self.history.is_acked(w) && held.binary_search(&item).is_ok() && dead.binary_search(&item).is_err()
                })
                .map(|&(item, _)| item)
                .collect();
            back.sort_unstable();
            back.dedup();
            resurfaced += back.len() as u64;
        }
        (acked_adds, lost_adds, resurfaced)
    }

    /// Replica and membership agreement right now.
    fn snapshot(&self) -> Snapshot {
        self.with_membership(convergence::snapshot(&self.ring, &self.keys, &self.nodes, &self.scenario.protocol))
    }

    /// Adds to a replica snapshot every running node whose ring is not the operator's.
    fn with_membership(&self, mut snap: Snapshot) -> Snapshot {
        let truth = self.ring.fingerprint();
        for i in (0..self.nodes.len()).filter(|&i| self.node_up[i]) {
            if self.node_rings[i].fingerprint() != truth {
                snap.disagreement(NodeId(i as u32), self.node_rings[i].members().len(), self.ring.members().len());
            }
        }
        snap
    }

    /// Forgets the writes nothing held reflects any more (see [`History::prune`]): the census
    /// is every write id the nodes, clients, pending events and crash records hold.
    fn prune_history(&mut self) {
        let mut held = Vec::new();
        for node in &self.nodes {
            node.held_writes(&mut held);
        }
        let mut probe_heads = Vec::new();
        for client in &self.clients {
            let from = held.len();
            client.held_writes(&mut held);
            if client.role() == Role::Probe {
                probe_heads.extend_from_slice(&held[from..]);
            }
        }
        for event in self.engine.pending_events() {
            match event {
                Event::Deliver(envelope) | Event::Process(envelope) => envelope.payload.held_writes(&mut held),
                Event::ClientTimer { timer: ClientTimer::ProbeRead { write, .. }, .. } => {
                    held.push(*write);
                    probe_heads.push(*write);
                }
                Event::NodeTimer { .. }
                | Event::ClientTimer { .. }
                | Event::NodeTimeout { .. }
                | Event::ClientTimeout { .. }
                | Event::Arrival
                | Event::EndWorkload
                | Event::Fault(_)
                | Event::Sample => {}
            }
        }
        for crash in self.unflushed_lost.values().flatten() {
            held.extend_from_slice(&crash.in_memory);
            held.extend_from_slice(&crash.on_disk);
        }
        // Sorted, so the walk (and so nothing else) depends on the slab's order.
        held.sort_unstable();
        held.dedup();
        // Crash records are held, so nothing a crash took from a buffer is among these losses.
        let losses = self.history.prune(&held, &probe_heads);
        for loss in losses.named {
            let key: Rc<str> = self.keys.name(loss.key).into();
            let lost = LostWrite { key_id: loss.key, key, write: loss.write, acked_at: loss.acked_at, unflushed: false };
            self.lost_writes.push(lost, false);
        }
        for (_, count) in losses.unnamed {
            self.lost_writes.push_unnamed(count, false);
        }
    }

    fn finish(mut self) -> RunResult {
        let convergence = self.snapshot();
        let explained = self.explain_key.map_or(Vec::new(), |k| self.describe_holdings(k));
        let held = convergence::held_writes(&self.nodes);
        let mut lost_writes = std::mem::take(&mut self.lost_writes);
        for key in self.history.written_keys() {
            let held_now = held.get(&key).map_or(&[][..], Vec::as_slice);
            // Each lost write, with the write it is judged by: itself, or the write it was folded
            // into (reflected exactly when that one is, by anything; see History::prune).
            let mut lost: Vec<(WriteId, SimTime, WriteId)> =
                self.history.lost_writes(key, held_now).into_iter().map(|(w, at)| (w, at, w)).collect();
            let mut unnamed = Vec::new();
            for hidden in self.history.hidden_losses(key, held_now) {
                lost.extend(hidden.named.iter().map(|&(w, at)| (w, at, hidden.head)));
                unnamed.push((hidden.head, hidden.unnamed));
            }
            let crashes = self.unflushed_lost.get(&key).map_or(&[][..], Vec::as_slice);
            let history = &mut self.history;
            let mut unflushed =
                |w: WriteId| crashes.iter().any(|c| history.reflects(&c.in_memory, w) && !history.reflects(&c.on_disk, w));
            // Named once per key that lost a write, and shared by its lost writes.
            let mut name: Option<Rc<str>> = None;
            for (write, acked_at, judged_by) in lost {
                let key_name = name.get_or_insert_with(|| self.keys.name(key).into()).clone();
                let lost = LostWrite { key_id: key, key: key_name, write, acked_at, unflushed: unflushed(judged_by) };
                lost_writes.push(lost, self.explain_key == Some(key));
            }
            for (head, count) in unnamed {
                lost_writes.push_unnamed(count, unflushed(head));
            }
        }
        let (acked_adds, lost_adds, resurfaced_items) = self.judge_carts();
        let last_fault = self.faults.last().map(|f| SimTime::ZERO.after(f.at));
        let converged_after_last_fault = last_fault.and_then(|t| {
            let sampled = self.samples.iter().find(|(at, s)| *at >= t && s.converged()).map(|(at, _)| *at);
            sampled.or(convergence.converged().then_some(self.engine.now()))
        });
        let n = self.scenario.protocol.n;
        let mut keys_owned = vec![0u64; self.nodes.len()];
        let mut list = Vec::with_capacity(n);
        for k in 0..self.scenario.workload.key_count {
            let key = KeyId(k as u32);
            self.ring.cached_list(key, || self.keys.position(key), n, n, &mut list);
            for node in &list {
                keys_owned[node.index()] += 1;
            }
        }
        let keys = &self.keys;
        let client_history = self.op_log.take().map(|log| ClientHistory {
            events: log.events,
            key_names: (0..keys.len()).map(|k| keys.name(KeyId(k as u32)).into()).collect(),
        });
        let ring = &self.ring;
        let down_at_end = ring.members().iter().map(|m| m.node).filter(|n| !self.node_up[n.index()]).collect();
        RunResult {
            client_history,
            down_at_end,
            busy: self.resources.busy.clone(),
            metrics: self.metrics,
            history: self.history,
            node_stats: self.nodes.iter().map(|n| n.stats.clone()).collect(),
            keys_owned,
            partitions_owned: self.ring.ranges_per_node(self.nodes.len()),
            ring_members: self.ring.members().iter().map(|m| m.node.index()).collect(),
            events_processed: self.engine.events_processed(),
            timeouts_retired: self.timeouts_retired,
            simulated_end: self.engine.now(),
            peak_pending_events: self.peak_pending,
            network_fingerprint: self.network.first_delays().to_vec(),
            convergence,
            samples: self.samples,
            converged_after_last_fault,
            last_fault,
            lost_writes,
            acked_adds,
            lost_adds,
            resurfaced_items,
            agreement: self.agreement,
            change_transfers: self.change_transfers,
            decommissioned: self.decommissioned,
            faults: self.faults,
            explained,
            ring_metadata_entries: self.ring.metadata_entries(),
            ring_ranges: self.ring.range_count(),
            client_sessions: self.clients.iter().map(Client::session_count).sum(),
            stopped: self.stopped,
        }
    }
}

/// The ring a client routes by. A partition-aware client library (preference-list-head or
/// client-driven coordination) fetches the membership every `client_ring_refresh`, each client
/// at its own phase, and between fetches routes by the ring in force at its last one (Dynamo
/// §4.5: clients pull membership periodically; the paper's every 10 s). A load balancer, and a
/// client of any node (proxy), route by the current ring.
fn client_ring<'a>(
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

fn client_env<'a>(
    scenario: &'a Scenario,
    ring: &'a Ring,
    keys: &'a mut KeyTable,
    chooser: &'a KeyChooser,
    next_write: &'a mut u64,
    locks: &'a mut KeyLocks,
) -> ClientEnv<'a> {
    ClientEnv {
        locks,
        ring,
        keys,
        protocol: &scenario.protocol,
        workload: &scenario.workload,
        chooser,
        probe: scenario.probe.as_ref(),
        next_write,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nodes_share_one_membership_view_until_one_changes_it() {
        let s = crate::scenario::load("t.json", r#"{"duration_ms": 10, "cluster": {"nodes": 500}}"#, &[]).expect("valid");
        let world = super::World::new(&s, 1);
        let first = world.nodes[0].view();
        assert_eq!(first.len(), 500);
        // One copy for the cluster, not one per node: memory linear in the cluster's size.
        assert!(world.nodes.iter().all(|n| std::ptr::eq(n.view(), first)));
    }

    /// A blind client's puts carry no context, so it keeps no per-key session (a long blind run
    /// would otherwise hold one per client and key touched); clients with sessions keep them.
    #[test]
    fn blind_clients_keep_no_sessions() {
        let text = include_str!("../../scenarios/quorum-model.json");
        let sessions = |semantics: &str| {
            let sets = ["duration_ms=200".to_string(), format!("workload.client_semantics={semantics}")];
            let s = crate::scenario::load("quorum-model.json", text, &sets).expect("valid");
            let r = super::World::new(&s, 1).run();
            assert!(r.metrics.puts.latencies.len() > 1000, "{semantics}: the run did work");
            r.client_sessions
        };
        assert_eq!(sessions("blind"), 0);
        assert!(sessions("session") > 1000);
    }

    /// Request timers wait in one queue per kind for the whole cluster: where each node
    /// coordinates a request only now and then (a large cluster behind a proxy), a timer its
    /// answer made moot still becomes no event. With a queue per node, each such timer was one
    /// (about two events per operation here).
    #[test]
    fn moot_timeouts_become_no_events_in_a_large_cluster() {
        let text = include_str!("../../scenarios/quorum-model.json");
        let sets = ["duration_ms=300", "cluster.nodes=2000", "protocol.coordination=proxy", "protocol.probe_interval_ms=1000"];
        let s = crate::scenario::load("quorum-model.json", text, &sets.map(String::from)).expect("valid");
        let r = super::World::new(&s, 1).run();
        let delivered: u64 = r.metrics.messages.iter().map(|m| m.delivered).sum();
        let operations = (r.metrics.gets.latencies.len() + r.metrics.puts.latencies.len()) as u64;
        assert!(operations > 1000, "the run did work: {operations}");
        // Each operation starts at an event (its client's wake; the 100 clients' last ones are
        // cut off by the run's end); the rest are messages, and a few timer wake-ups.
        let other = r.events_processed - delivered - operations;
        assert!(other < 100 + operations / 100, "{other} events beyond messages and operations, for {operations} operations");
    }
}
