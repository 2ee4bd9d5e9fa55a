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
//!
//! This file holds the event loop and the dispatch of each event; `delivery` a message's path,
//! `faults` the fault schedule, `membership` the operator's ring and each node's, `observation`
//! what the oracle, metrics and trace see, and `judgement` the end of the run.

mod capacity;
pub mod client;
mod delivery;
mod disk;
mod faults;
mod judgement;
pub mod key_lock;
mod membership;
mod observation;
mod schedule;
use crate::cluster::keyspace::KeyTable;
use crate::cluster::network::{client_datacenter, Network};
use crate::cluster::ring::{RangeMap, Ring};
use crate::node::membership::Membership;
use crate::node::replica::Unflushed;
use crate::node::{Node, NodeEffect, NodeEnv, NodeTimer};
use crate::observe::convergence::{DivergenceSampler, Snapshot};
use crate::observe::history::History;
use crate::observe::latency::LatencyFrame;
use crate::observe::metrics::{LoadWindows, Metrics};
use crate::observe::ops::OpLog;
use crate::observe::trace::Tracer;
use crate::observe::{LostWrites, RunResult};
use crate::scenario::workload::{Arrivals, ValueModel};
use crate::scenario::{Scenario, ScheduledFault};
use crate::sim::engine::{Engine, Limit, SimDuration, SimTime, Ticket, TimeoutQueue};
use crate::sim::ids::{ClientId, Endpoint, KeyId, NodeId};
use crate::sim::rng::{unit_open0, Seeds, SimRng, Stream};
use crate::sim::schedule::Chooser;
use crate::world::client::{Client, ClientEffect, ClientEnv, ClientTimer, KeyChooser, Role};
use crate::world::key_lock::KeyLocks;
use capacity::Resources;
use delivery::Envelope;
use disk::Disks;
use membership::{client_ring, ring_for};
use std::collections::BTreeMap;
use std::rc::Rc;

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
    /// Clients with no think time whose next operation starts once the current event is done.
    woken: std::collections::VecDeque<ClientId>,
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
    /// The schedule's chooser, when the run's open choices are controlled (see
    /// [`crate::sim::schedule`]); none in a plain seeded run.
    schedule: Option<Box<Chooser>>,
    seed: u64,
    next_message: u64,
    tracer: Option<Tracer>,
    /// The client history, when asked for (see `observe::ops`).
    op_log: Option<OpLog>,
    explain_key: Option<KeyId>,
    /// The run's fault schedule: the scenario's, plus what the nemesis drew for this seed.
    faults: Vec<ScheduledFault>,
}

/// Bytes of one event, a message's included.
pub const EVENT_BYTES: usize = std::mem::size_of::<Event>();

/// Bytes one pending event costs: its 16-byte queue key plus its slab slot.
pub fn pending_event_bytes() -> usize {
    16 + std::mem::size_of::<Option<Event>>()
}

/// The network, with clients placed and slow nodes slowed as the scenario says.
fn network_of(scenario: &Scenario, seeds: &Seeds) -> Network {
    let node_dcs: Vec<u16> = scenario.nodes.iter().map(|n| n.datacenter).collect();
    let mut network =
        Network::new(scenario.network.clone(), seeds.stream(Stream::Network, 0), node_dcs, scenario.client_datacenters.clone());
    if scenario.clients_with_nodes {
        network.place_clients_with_nodes();
    }
    for &(node, factor) in &scenario.slow_nodes {
        network.set_slow_factor(node, factor);
    }
    network
}

/// Every node slot; the initial members start with the initial view, the others join later.
fn nodes_of(scenario: &Scenario, seeds: &Seeds, initial: &Rc<Membership>) -> Vec<Node> {
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
    nodes
}

/// The workload's clients, then the probe's.
fn clients_of(scenario: &Scenario, seeds: &Seeds) -> Vec<Client> {
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
    clients
}

/// The scenario's faults and the nemesis's draws, in time order.
fn faults_of(scenario: &Scenario, seeds: &Seeds) -> Vec<ScheduledFault> {
    let mut faults = scenario.faults.clone();
    // A schedule that injects the menu's faults itself draws none at random.
    let scheduled = scenario.schedule.as_ref().is_some_and(|s| s.bounds.faults > 0);
    if let Some(nemesis) = scenario.nemesis.as_ref().filter(|_| !scheduled) {
        faults.extend(crate::scenario::nemesis::generate(
            nemesis,
            &scenario.initial_members,
            &mut seeds.stream(Stream::Faults, 0),
        ));
        faults.sort_by_key(|f| f.at);
    }
    faults
}

impl<'s> World<'s> {
    pub fn new(scenario: &'s Scenario, seed: u64) -> World<'s> {
        let seeds = Seeds::new(seed);
        let network = network_of(scenario, &seeds);
        let initial = Rc::new(Membership::with_members(scenario.initial_members.iter().copied()));
        let nodes = nodes_of(scenario, &seeds, &initial);
        let service_rng = (0..scenario.nodes.len()).map(|i| seeds.stream(Stream::Service, i as u64)).collect();
        let workload_clients = scenario.workload.arrivals.clients();
        let clients = clients_of(scenario, &seeds);
        let probe_delays = scenario.probe.as_ref().map_or(0, |p| p.delays.len());
        let faults = faults_of(scenario, &seeds);
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
            // A cart's judgement needs every add, and a delete's every value it removed.
            prune_writes: if matches!(scenario.workload.value_model, ValueModel::Cart { .. })
                || scenario.workload.delete_fraction > 0.0
            {
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
            woken: Default::default(),
            peak_pending: 0,
            samples: Vec::new(),
            divergence: DivergenceSampler::default(),
            node_timeouts: Default::default(),
            client_timeouts: TimeoutQueue::default(),
            timeouts_retired: 0,
            full_divergence_scans: false,
            stopped: None,
            schedule: scenario.schedule.as_ref().map(|s| Box::new(Chooser::replaying(s.bounds, s.choices.clone()))),
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
        loop {
            // The plain run's path stays the engine's own (a schedule's is not the hot loop).
            let next = if self.schedule.is_none() { self.engine.pop_until(end) } else { self.pop_scheduled(end) };
            let Some(event) = next else { break };
            self.peak_pending = self.peak_pending.max(self.engine.pending());
            self.prefetch_next();
            self.dispatch(event);
            while self.engine.limit().is_none() {
                let Some(client) = self.woken.pop_front() else { break };
                self.engine.note_inline();
                self.dispatch(Event::ClientTimer { client, timer: ClientTimer::Wake });
            }
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
            Event::Process(env) => self.process(env),
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

    fn start_node(&mut self, node: NodeId) {
        self.drive_node(node, SimDuration::ZERO, |n, now, env, out| n.start(now, env, out));
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
                // No think time: the next operation starts as soon as this event is done, with
                // no event of its own (closed-loop clients at full speed would make one per
                // operation).
                ClientEffect::Timer { after: SimDuration::ZERO, timer: ClientTimer::Wake } => self.woken.push_back(client),
                ClientEffect::Timer { after, timer } => self.engine.schedule_after(after, Event::ClientTimer { client, timer }),
                ClientEffect::Observe(o) => self.observe(now, o),
                ClientEffect::Grant { to, key, operation } => self.engine.schedule_after(
                    SimDuration::ZERO,
                    Event::ClientTimer { client: to, timer: ClientTimer::Granted { key, operation } },
                ),
            }
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

    /// Controls the run's open choices with `chooser` (a search's: PCT, or digests of the state
    /// at each choice point), in place of the scenario's own schedule.
    pub fn set_chooser(&mut self, chooser: Chooser) {
        self.schedule = Some(Box::new(chooser));
    }
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
        // With no think time each operation starts inline, at the event that ended the last
        // one: every event is a message but a few timer wake-ups (and the first wakes).
        let other = r.events_processed - delivered;
        assert!(other < 100 + operations / 100, "{other} events beyond messages and operations, for {operations} operations");
    }
}
