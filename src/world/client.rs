//! Clients and the workload: sessions that issue gets and puts, and the staleness probe.
//!
//! A client is an actor like a node: handlers take the time and an environment and push
//! effects (sends, timers, observations for the history oracle and metrics). Each client draws
//! only from its own random stream; open-loop arrival times come from the workload stream.
//!
//! Value models: a *register* writes a fresh value with the context of the client's last read
//! or write of the key (optionally reading it first); a *cart* reads, merges sibling carts (by
//! union of items, or as an observed-remove set: see [`crate::node::cart::CartMerge`]),
//! adds or removes an item, and writes back with the read's context. The *probe*
//! writes a fresh key, waits a delay t after the acknowledgement, reads it back, and records
//! whether the read reflected the write.

use crate::cluster::keyspace::KeyTable;
use crate::cluster::ring::Ring;
use crate::node::cart::Cart;
use crate::node::consistency::ConsistencyLevel;
use crate::node::message::{ClientOp, Failure, NodeHint, Payload, PutBody, ReplyBody};
use crate::node::versioning::CausalContext;
use crate::node::versioning::VersionSet;
use crate::node::{Coordination, Protocol};
use crate::observe::history::Writes;
use crate::scenario::workload::{Arrivals, ClientSemantics, KeyPopularity, ProbeConfig, ValueModel, WorkloadConfig};
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, KeyId, NodeId, WriteId};
use crate::sim::keymap::KeyMap;
use crate::sim::recency::Recency;
use crate::sim::rng::{chance, index, unit, SimRng};
use crate::world::key_lock::KeyLocks;
use std::rc::Rc;

/// Key choice, prepared once (the Zipf table is shared by all clients).
pub struct KeyChooser {
    popularity: KeyPopularity,
    key_count: usize,
    zipf_cdf: Vec<f64>,
    /// `zipf_guide[j]` is the number of CDF entries below `j / len`: a draw `u` then needs a
    /// binary search only between its bucket's neighbours, with exactly the plain search's result.
    zipf_guide: Vec<u32>,
}

impl KeyChooser {
    pub fn new(popularity: &KeyPopularity, key_count: usize) -> KeyChooser {
        let zipf_cdf = match popularity {
            KeyPopularity::Zipf { exponent } => {
                let mut acc = 0.0;
                let mut cdf: Vec<f64> = (1..=key_count)
                    .map(|r| {
                        acc += 1.0 / (r as f64).powf(*exponent);
                        acc
                    })
                    .collect();
                for x in cdf.iter_mut() {
                    *x /= acc;
                }
                cdf
            }
            _ => Vec::new(),
        };
        let buckets = zipf_cdf.len();
        let zipf_guide = (0..=buckets).map(|j| zipf_cdf.partition_point(|&c| c < j as f64 / buckets as f64) as u32).collect();
        KeyChooser { popularity: popularity.clone(), key_count, zipf_cdf, zipf_guide }
    }

    /// The first CDF entry not below `u`, found through the guide table.
    fn zipf_rank(&self, u: f64) -> usize {
        let buckets = self.zipf_cdf.len();
        // One bucket of slack each side absorbs rounding in `u * buckets`.
        let j = ((u * buckets as f64) as usize).min(buckets);
        let lo = self.zipf_guide[j.saturating_sub(1)] as usize;
        let hi = self.zipf_guide[(j + 2).min(buckets)] as usize;
        lo + self.zipf_cdf[lo..hi].partition_point(|&c| c < u)
    }

    pub fn choose(&self, rng: &mut SimRng) -> KeyId {
        let k = match &self.popularity {
            KeyPopularity::Uniform => index(rng, self.key_count),
            KeyPopularity::Zipf { .. } => {
                let u = unit(rng);
                self.zipf_rank(u).min(self.key_count - 1)
            }
            KeyPopularity::HotSet { key_fraction, access_fraction } => {
                let hot = ((self.key_count as f64 * key_fraction).ceil() as usize).clamp(1, self.key_count);
                if chance(rng, *access_fraction) || hot == self.key_count {
                    index(rng, hot)
                } else {
                    hot + index(rng, self.key_count - hot)
                }
            }
        };
        KeyId(k as u32)
    }
}

/// What a client may read besides its own state.
pub struct ClientEnv<'a> {
    pub ring: &'a Ring,
    pub keys: &'a mut KeyTable,
    pub protocol: &'a Protocol,
    pub workload: &'a WorkloadConfig,
    pub chooser: &'a KeyChooser,
    pub probe: Option<&'a ProbeConfig>,
    /// The next global write id (ids are issued in order, so ancestors have smaller ids).
    pub next_write: &'a mut u64,
    /// The keys' locks, when the workload serialises operations on a key.
    pub locks: &'a mut KeyLocks,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// Time for a closed-loop client's next operation or a probe's next write.
    Wake,
    Timeout(u64),
    /// A probe's read, a delay after its write was acknowledged.
    ProbeRead {
        write: WriteId,
        key: KeyId,
        delay_index: usize,
    },
    /// The key's lock passed to this client, for the operation it was waiting to start.
    Granted {
        key: KeyId,
        operation: Operation,
    },
}

/// What a workload operation does to its key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
    /// Writes a tombstone: under read-before-write after reading the key (Riak's fetch, then
    /// delete with the object's clock), otherwise with the session's context, or none if blind.
    Delete,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    Get,
    Put,
}

/// What the history oracle and metrics learn from a client.
#[derive(Debug)]
pub enum Observation {
    ReadStarted {
        client: ClientId,
        op: u64,
        key: KeyId,
    },
    /// A read's result: the writes it returned and how many versions the client was shown.
    ReadEnded {
        client: ClientId,
        op: u64,
        key: KeyId,
        started: SimTime,
        /// The writes the versions read carry, how many versions, and the versions (a cart's
        /// items are in them).
        result: Result<(Writes, usize, Rc<VersionSet>), Failure>,
        probe: Option<(WriteId, usize)>,
        level: Option<ConsistencyLevel>,
    },
    WriteStarted {
        write: WriteId,
        client: ClientId,
        key: KeyId,
        parents: Writes,
        /// The cart item this write removes, if any.
        removed: Option<u64>,
        /// A delete.
        tombstone: bool,
    },
    /// An operation whose coordinator timed out was sent again to another node.
    Retried,
    WriteEnded {
        write: WriteId,
        client: ClientId,
        key: KeyId,
        started: SimTime,
        result: Result<(), Failure>,
        probe: bool,
        level: Option<ConsistencyLevel>,
    },
}

#[derive(Debug)]
pub enum ClientEffect {
    Send {
        to: NodeId,
        payload: Payload,
    },
    Timer {
        after: SimDuration,
        timer: ClientTimer,
    },
    Observe(Observation),
    /// Pass a key's lock to the client whose turn it is.
    Grant {
        to: ClientId,
        key: KeyId,
        operation: Operation,
    },
}

/// What a client remembers about a key between operations (its session context).
///
/// The context is held here, not behind an `Rc` as replies carry it: a session's lookup is then
/// the slot and the clock's entries, one cache miss fewer, and a million sessions need no
/// allocation of their own (an empty context allocates nothing). A put sends a copy.
#[derive(Default)]
struct KeySession {
    context: CausalContext,
    seen: Writes,
    fastest: Option<NodeId>,
    /// Its last use, in the client's [`Recency`].
    used: u64,
}

enum Step {
    Read,
    /// The read half of a read-modify-write (cart update, or register with read-before-write),
    /// or of a delete with read-before-write.
    ReadForWrite {
        delete: bool,
    },
    Write {
        write: WriteId,
        cart: Option<Cart>,
    },
    ProbeWrite {
        write: WriteId,
    },
    ProbeRead {
        write: WriteId,
        delay_index: usize,
    },
}

struct Pending {
    key: KeyId,
    started: SimTime,
    step: Step,
    /// The node the request went to.
    to: NodeId,
    level: Option<ConsistencyLevel>,
    /// The request as sent, kept only when the workload retries, and the retries made so far.
    resend: Option<Payload>,
    retries: u8,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Workload { closed_loop: bool },
    Probe,
}

pub struct Client {
    pub id: ClientId,
    role: Role,
    /// The client's datacenter, if clients are placed in one.
    home: Option<u16>,
    rng: SimRng,
    sessions: KeyMap<KeySession>,
    /// Cart model: per key, the cart content that goes with the session's context (a write that
    /// supersedes what the context covers must carry every item those versions held). Apart
    /// from the sessions, which every scenario has by the million, so they stay a word smaller.
    /// The sessions' keys from least to most recently used (the library keeps
    /// `workload.session_keys_per_client`).
    recency: Recency,
    carts: KeyMap<Cart>,
    /// Coordinator candidates, reused from one operation to the next.
    pool: Vec<NodeId>,
    pending: FastMap<u64, Pending>,
    next_op: u64,
    probes_started: u64,
    /// Versions the current probe has written to its key.
    probe_versions: usize,
    /// Coordinators that recently let a request time out, and until when to avoid them.
    avoid: Vec<(NodeId, SimTime)>,
}

impl Client {
    pub fn new(id: ClientId, role: Role, home: Option<u16>, rng: SimRng) -> Client {
        Client {
            id,
            role,
            home,
            rng,
            sessions: KeyMap::default(),
            recency: Recency::default(),
            carts: KeyMap::default(),
            pool: Vec::new(),
            pending: FastMap::default(),
            next_op: 0,
            probes_started: 0,
            probe_versions: 0,
            avoid: Vec::new(),
        }
    }

    /// Every write the client holds: what its sessions have seen (the pasts of its next
    /// writes) and its operations in flight (the history oracle's census).
    pub fn held_writes(&self, out: &mut Vec<WriteId>) {
        for (_, session) in self.sessions.iter() {
            out.extend_from_slice(session.seen.as_slice());
        }
        for p in self.pending.values() {
            match p.step {
                Step::Write { write, .. } | Step::ProbeWrite { write } | Step::ProbeRead { write, .. } => out.push(write),
                Step::Read | Step::ReadForWrite { .. } => {}
            }
            if let Some(payload) = &p.resend {
                payload.held_writes(out);
            }
        }
    }

    /// Uses the session of `key` (created if need be) as the most recently used; the least
    /// recently used beyond the library's capacity is forgotten, with its cart.
    fn use_session(&mut self, key: KeyId, capacity: usize) {
        let new = self.sessions.get(&key).is_none();
        if new {
            // Room for the new session first: the least recently used go, never this key.
            loop {
                let sessions = &self.sessions;
                let Some(old) = self.recency.evict(capacity.saturating_sub(1), |k| sessions.get(&k).map(|s| s.used)) else {
                    break;
                };
                self.sessions.remove(&old);
                self.carts.remove(&old);
            }
        }
        self.sessions.get_or_default(key).used = self.recency.touch(key, new);
    }

    /// Forgets the session of `key`.
    fn forget(&mut self, key: KeyId) {
        if self.sessions.remove(&key).is_some() {
            self.recency.removed();
        }
    }

    /// Keys the client keeps a session for.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The first wake-up: spread over one think time so clients do not start in lockstep.
    pub fn initial_delay(&mut self, env: &ClientEnv) -> SimDuration {
        let spread = match (&self.role, &env.workload.arrivals) {
            (Role::Workload { .. }, Arrivals::Closed { think_time, .. }) => think_time.mean_ms().min(1000.0),
            (Role::Probe, _) => env.probe.map_or(1.0, |p| p.gap.mean_ms().min(1000.0)),
            _ => 0.0,
        };
        SimDuration::from_millis_f64(spread * unit(&mut self.rng))
    }

    pub fn on_timer(&mut self, now: SimTime, env: &mut ClientEnv, timer: ClientTimer, out: &mut Vec<ClientEffect>) {
        match timer {
            ClientTimer::Wake => match self.role {
                Role::Workload { .. } => self.start_operation(now, env, out),
                Role::Probe => self.start_probe(now, env, out),
            },
            ClientTimer::Timeout(op) => {
                if let Some(mut p) = self.pending.remove(&op) {
                    self.avoid.retain(|(n, _)| *n != p.to);
                    self.avoid.push((p.to, now.after(env.workload.avoid_after_timeout)));
                    match p.resend.clone().filter(|_| p.retries < env.workload.client_retries) {
                        Some(mut payload) => {
                            // Failover: the same operation (same write id, so the oracle's
                            // judgements stay exact) to the next node the client does not avoid,
                            // which coordinates it itself rather than forward to a fastest
                            // reader that may be the node that failed.
                            if let Payload::ClientPut(op, _) = &mut payload {
                                op.fastest_reader = NodeHint::default();
                            }
                            p.retries += 1;
                            p.to = self.coordinator_for(now, env, p.key, matches!(payload, Payload::ClientPut(..)));
                            out.push(ClientEffect::Observe(Observation::Retried));
                            out.push(ClientEffect::Send { to: p.to, payload });
                            out.push(ClientEffect::Timer { after: env.workload.client_timeout, timer: ClientTimer::Timeout(op) });
                            self.pending.insert(op, p);
                        }
                        None => self.finish(now, env, op, p, ReplyBody::Failed(Failure::ClientTimeout), out),
                    }
                }
            }
            ClientTimer::ProbeRead { write, key, delay_index } => {
                self.send_get(now, env, key, Step::ProbeRead { write, delay_index }, out);
            }
            ClientTimer::Granted { key, operation } => self.begin(now, env, key, operation, out),
        }
    }

    /// Whether a timeout would still do anything: false once its operation has finished.
    pub fn awaits(&self, op: u64) -> bool {
        self.pending.contains_key(&op)
    }

    /// Starts one workload operation (closed loop on wake, open loop on each arrival).
    pub fn start_operation(&mut self, now: SimTime, env: &mut ClientEnv, out: &mut Vec<ClientEffect>) {
        let key = env.chooser.choose(&mut self.rng);
        let w = env.workload;
        // A delete's draw only where the workload deletes, so other workloads draw as before.
        let operation = if chance(&mut self.rng, w.read_fraction) {
            Operation::Read
        } else if w.delete_fraction > 0.0 && chance(&mut self.rng, w.delete_fraction / (1.0 - w.read_fraction)) {
            Operation::Delete
        } else {
            Operation::Write
        };
        if w.key_lock && !env.locks.acquire(key, (self.id, operation)) {
            return; // its turn comes with a grant
        }
        self.begin(now, env, key, operation, out);
    }

    /// Sends an operation's first request.
    fn begin(&mut self, now: SimTime, env: &mut ClientEnv, key: KeyId, operation: Operation, out: &mut Vec<ClientEffect>) {
        let blind = env.workload.client_semantics == ClientSemantics::Blind;
        let delete = operation == Operation::Delete;
        match (&env.workload.value_model, operation) {
            (_, Operation::Read) => self.send_get(now, env, key, Step::Read, out),
            (ValueModel::Cart { .. }, _) if blind => {
                self.send_put(now, env, key, Some((Cart::default(), None)), false, false, out)
            }
            (ValueModel::Register { .. }, _) if blind => self.send_put(now, env, key, None, delete, false, out),
            (ValueModel::Register { read_before_write: false }, _) => self.send_put(now, env, key, None, delete, false, out),
            (ValueModel::Register { read_before_write: true } | ValueModel::Cart { .. }, _) => {
                self.send_get(now, env, key, Step::ReadForWrite { delete }, out)
            }
        }
    }

    fn start_probe(&mut self, now: SimTime, env: &mut ClientEnv, out: &mut Vec<ClientEffect>) {
        let key = env.keys.intern(&format!("probe-{}-{}", self.id.0, self.probes_started));
        self.probes_started += 1;
        self.send_put(now, env, key, None, false, true, out);
    }

    /// See [`KeyMap::prefetch`].
    pub fn prefetch(&self, key: KeyId) {
        self.sessions.prefetch(key);
    }

    /// Whether the client keeps anything of a key between operations. A blind client never
    /// reads its session (its puts carry no context and no parents), so it keeps none, unless
    /// it writes to the node that answered its last read fastest: millions of sessions it
    /// would never use were most of a long blind run's memory.
    fn remembers(&self, env: &ClientEnv) -> bool {
        env.workload.client_semantics != ClientSemantics::Blind || env.protocol.write_to_fastest_reader
    }

    fn new_op(&mut self) -> u64 {
        self.next_op += 1;
        self.next_op
    }

    /// Under write-to-fastest-reader, the replica that answered this client's last read of the
    /// key first, unless the client is avoiding it.
    fn fastest_reader(&mut self, now: SimTime, env: &ClientEnv, key: KeyId) -> Option<NodeId> {
        if !env.protocol.write_to_fastest_reader {
            return None;
        }
        self.avoid.retain(|(_, until)| *until > now);
        let avoid = &self.avoid;
        self.sessions.get(&key).and_then(|s| s.fastest).filter(|n| !avoid.iter().any(|(a, _)| a == n))
    }

    /// Chooses where to send a request. Like a partition-aware client library, it skips nodes
    /// that recently let one of its requests time out, unless it would have none left. A put
    /// under write-to-fastest-reader goes to that replica when the client knows the ring;
    /// otherwise the request names it (see [`ClientOp::fastest_reader`]).
    fn coordinator_for(&mut self, now: SimTime, env: &ClientEnv, key: KeyId, put: bool) -> NodeId {
        if put && knows_ring(env) {
            if let Some(fastest) = self.fastest_reader(now, env, key) {
                // Only while it is still among the key's top N in the client's ring: after a
                // membership change it may no longer be a replica.
                let mut pool = std::mem::take(&mut self.pool);
                env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.n, &mut pool);
                let replica = pool.contains(&fastest);
                self.pool = pool;
                if replica {
                    return fastest;
                }
            }
        }
        self.avoid.retain(|(_, until)| *until > now);
        let avoid = &self.avoid;
        let usable = |n: &NodeId| !avoid.iter().any(|(a, _)| a == n);
        let any_node =
            matches!(env.protocol.coordination, Coordination::LoadBalancer | Coordination::Proxy | Coordination::Direct);
        let local_dc = self.home.filter(|_| env.workload.local_coordinators);
        if any_node && self.avoid.is_empty() && local_dc.is_none() {
            // The usual case, in O(1) of the ring's size: the same draw as from the full pool.
            let members = env.ring.members();
            return members[index(&mut self.rng, members.len())].node;
        }
        let mut pool = std::mem::take(&mut self.pool);
        match env.protocol.coordination {
            Coordination::PreferenceListHead | Coordination::ClientDriven => {
                env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.n, &mut pool);
            }
            Coordination::LoadBalancer | Coordination::Proxy | Coordination::Direct => {
                pool.clear();
                pool.extend(env.ring.members().iter().map(|m| m.node));
            }
        }
        // A datacenter-aware client keeps to its own datacenter's nodes while it has any.
        if let Some(dc) = local_dc {
            if pool.iter().any(|&n| env.ring.datacenter_of(n) == dc) {
                pool.retain(|&n| env.ring.datacenter_of(n) == dc);
            }
        }
        if pool.iter().any(usable) {
            pool.retain(usable);
        }
        let chosen = match env.protocol.coordination {
            Coordination::PreferenceListHead => pool[0],
            _ => pool[index(&mut self.rng, pool.len())],
        };
        self.pool = pool;
        chosen
    }

    fn send_get(&mut self, now: SimTime, env: &mut ClientEnv, key: KeyId, step: Step, out: &mut Vec<ClientEffect>) {
        let op = self.new_op();
        let to = self.coordinator_for(now, env, key, false);
        let level = if matches!(step, Step::ProbeRead { .. }) { None } else { env.workload.get_levels.draw(&mut self.rng) };
        out.push(ClientEffect::Observe(Observation::ReadStarted { client: self.id, op, key }));
        let payload = Payload::ClientGet(ClientOp {
            client: self.id,
            op,
            key,
            forwarded: false,
            fastest_reader: NodeHint::default(),
            level,
        });
        let resend = (env.workload.client_retries > 0).then(|| payload.clone());
        out.push(ClientEffect::Send { to, payload });
        out.push(ClientEffect::Timer { after: env.workload.client_timeout, timer: ClientTimer::Timeout(op) });
        self.pending.insert(op, Pending { key, started: now, step, to, level, resend, retries: 0 });
    }

    /// Writes `key`: with `cart` for a cart update (the cart, and the item it removed if any),
    /// otherwise a fresh register value, or a tombstone for a delete.
    #[allow(clippy::too_many_arguments)]
    fn send_put(
        &mut self,
        now: SimTime,
        env: &mut ClientEnv,
        key: KeyId,
        cart: Option<(Cart, Option<u64>)>,
        tombstone: bool,
        probe: bool,
        out: &mut Vec<ClientEffect>,
    ) {
        let removed = cart.as_ref().and_then(|(_, removed)| *removed);
        let op = self.new_op();
        *env.next_write += 1;
        let write = WriteId(*env.next_write);
        let (context, parents) = if env.workload.client_semantics == ClientSemantics::Blind && !probe {
            (Rc::default(), Writes::default())
        } else {
            self.use_session(key, env.workload.session_keys_per_client);
            let session = self.sessions.get_or_default(key);
            (Rc::new(session.context.clone()), session.seen.clone())
        };
        let cart = cart.map(|(mut c, _)| {
            c.add(write.0);
            c
        });
        out.push(ClientEffect::Observe(Observation::WriteStarted { write, client: self.id, key, parents, removed, tombstone }));
        let to = self.coordinator_for(now, env, key, true);
        // A client that cannot address the fastest reader itself names it in the request for
        // the node it reaches to forward to.
        let coordinator = if knows_ring(env) { None } else { self.fastest_reader(now, env, key).filter(|&n| n != to) };
        let level = if probe { None } else { env.workload.put_levels.draw(&mut self.rng) };
        let body_cart = cart.clone();
        let value_bytes = if tombstone { 0 } else { env.workload.value_bytes.draw(&mut self.rng) };
        let body = PutBody { write, context, cart: cart.unwrap_or_default(), value_bytes, tombstone };
        let fastest_reader = NodeHint::new(coordinator);
        let payload = Payload::ClientPut(ClientOp { client: self.id, op, key, forwarded: false, fastest_reader, level }, body);
        let resend = (env.workload.client_retries > 0).then(|| payload.clone());
        out.push(ClientEffect::Send { to, payload });
        out.push(ClientEffect::Timer { after: env.workload.client_timeout, timer: ClientTimer::Timeout(op) });
        let step = if probe { Step::ProbeWrite { write } } else { Step::Write { write, cart: body_cart } };
        self.pending.insert(op, Pending { key, started: now, step, to, level, resend, retries: 0 });
    }

    pub fn on_reply(&mut self, now: SimTime, env: &mut ClientEnv, op: u64, body: ReplyBody, out: &mut Vec<ClientEffect>) {
        // A reply for an operation that already timed out (or a duplicate) is ignored.
        if let Some(p) = self.pending.remove(&op) {
            self.finish(now, env, op, p, body, out);
        }
    }

    fn finish(&mut self, now: SimTime, env: &mut ClientEnv, op: u64, p: Pending, body: ReplyBody, out: &mut Vec<ClientEffect>) {
        let failure = match &body {
            ReplyBody::Failed(f) => Some(*f),
            _ => None,
        };
        let key = p.key;
        let more = match p.step {
            Step::Read | Step::ReadForWrite { .. } | Step::ProbeRead { .. } => {
                self.finish_read(now, env, op, p, body, failure, out)
            }
            Step::Write { .. } | Step::ProbeWrite { .. } => self.finish_write(now, env, p, body, failure, out),
        };
        // A workload operation is over when its client moves on: the key's lock passes on.
        if more && env.workload.key_lock && matches!(self.role, Role::Workload { .. }) {
            if let Some((to, operation)) = env.locks.release(key) {
                out.push(ClientEffect::Grant { to, key, operation });
            }
        }
        if more {
            self.schedule_next(env, out);
        }
    }

    /// A read ended: the session learns what it returned (not from probe reads), and a
    /// read-for-write goes on to its write. Returns whether the client schedules its next
    /// operation.
    #[allow(clippy::too_many_arguments)]
    fn finish_read(
        &mut self,
        now: SimTime,
        env: &mut ClientEnv,
        op: u64,
        p: Pending,
        body: ReplyBody,
        failure: Option<Failure>,
        out: &mut Vec<ClientEffect>,
    ) -> bool {
        let key = p.key;
        let probe = match p.step {
            Step::ProbeRead { write, delay_index } => Some((write, delay_index)),
            _ => None,
        };
        let mut then_write = false;
        let delete = matches!(p.step, Step::ReadForWrite { delete: true });
        let mut merged_cart: Option<Cart> = None;
        let result = match body {
            ReplyBody::Get { read, context, fastest } => {
                let versions = read.siblings.len();
                let writes: Writes = read.siblings.iter().map(|s| s.write).collect();
                let is_cart = matches!(env.workload.value_model, ValueModel::Cart { .. });
                let mut read_cart = Cart::default();
                for s in read.siblings.iter().map(|s| &s.cart) {
                    read_cart.merge(s);
                }
                then_write = matches!(p.step, Step::ReadForWrite { .. });
                if probe.is_none() && self.remembers(env) {
                    // Session causality never goes backwards: a read older than what this
                    // client has already seen is merged in, not taken instead, and so is the
                    // cart that goes with it. A client without memory starts from nothing.
                    if env.workload.client_semantics != ClientSemantics::Session {
                        self.forget(key);
                        self.carts.remove(&key);
                    }
                    self.use_session(key, env.workload.session_keys_per_client);
                    let session = self.sessions.get_or_default(key);
                    if context.includes(&session.context) {
                        session.context = Rc::unwrap_or_clone(context);
                        session.seen = writes.clone();
                        if is_cart {
                            self.carts.insert(key, read_cart.clone());
                        }
                    } else {
                        session.context.merge(&context, now);
                        session.seen.extend_new(writes.as_slice());
                        if is_cart {
                            self.carts.get_or_default(key).merge(&read_cart);
                        }
                    }
                    session.fastest = fastest;
                    if then_write && is_cart {
                        merged_cart = self.carts.get(&key).cloned();
                    }
                }
                Ok((writes, versions, read))
            }
            _ => Err(failure.unwrap_or(Failure::ClientTimeout)),
        };
        let (started, level) = (p.started, p.level);
        out.push(ClientEffect::Observe(Observation::ReadEnded { client: self.id, op, key, started, result, probe, level }));
        if !then_write {
            return true;
        }
        let mut removed = None;
        if let (Some(cart), ValueModel::Cart { remove_probability, merge }) = (merged_cart.as_mut(), &env.workload.value_model) {
            if !cart.is_empty() && chance(&mut self.rng, *remove_probability) {
                if let Some(item) = cart.nth(index(&mut self.rng, cart.len())) {
                    cart.remove(item, *merge);
                    removed = Some(item);
                }
            }
        }
        self.send_put(now, env, key, merged_cart.map(|c| (c, removed)), delete, false, out);
        false
    }

    /// A write ended: the session takes the context it returned (not from probe writes), and
    /// an acknowledged probe write schedules its read. Returns whether the client schedules its
    /// next operation.
    fn finish_write(
        &mut self,
        now: SimTime,
        env: &mut ClientEnv,
        p: Pending,
        body: ReplyBody,
        failure: Option<Failure>,
        out: &mut Vec<ClientEffect>,
    ) -> bool {
        let key = p.key;
        let (write, written_cart, probe) = match p.step {
            Step::Write { write, cart, .. } => (write, cart, false),
            Step::ProbeWrite { write } => (write, None, true),
            _ => return true,
        };
        let result = match body {
            ReplyBody::Put { context } => {
                let next_version = probe && env.probe.is_some_and(|cfg| self.probe_versions + 1 < cfg.versions);
                if (!probe && self.remembers(env)) || next_version {
                    self.use_session(key, env.workload.session_keys_per_client);
                    let session = self.sessions.get_or_default(key);
                    session.context = Rc::unwrap_or_clone(context);
                    session.seen = Writes::One(write);
                    match written_cart {
                        Some(cart) => self.carts.insert(key, cart),
                        None => self.carts.remove(&key),
                    };
                }
                Ok(())
            }
            _ => Err(failure.unwrap_or(Failure::ClientTimeout)),
        };
        let ok = result.is_ok();
        let (started, level) = (p.started, p.level);
        out.push(ClientEffect::Observe(Observation::WriteEnded { write, client: self.id, key, started, result, probe, level }));
        if probe && !ok {
            self.probe_versions = 0;
            self.forget(key);
        }
        if let (true, true, Some(cfg)) = (probe, ok, env.probe) {
            self.probe_versions += 1;
            if self.probe_versions < cfg.versions {
                // The probe's next version of its key, written from the last one's context.
                self.send_put(now, env, key, None, false, true, out);
                return false;
            }
            self.probe_versions = 0;
            self.forget(key);
            let delay_index = (self.probes_started as usize - 1) % cfg.delays.len();
            let timer = ClientTimer::ProbeRead { write, key, delay_index };
            out.push(ClientEffect::Timer { after: cfg.delays[delay_index], timer });
            return false;
        }
        true
    }

    /// After an operation ends: a closed-loop client thinks, a probe pauses, an open-loop
    /// session does nothing (arrivals drive it).
    fn schedule_next(&mut self, env: &ClientEnv, out: &mut Vec<ClientEffect>) {
        let after = match (self.role, &env.workload.arrivals) {
            (Role::Workload { closed_loop: true }, Arrivals::Closed { think_time, .. }) => think_time.sample(&mut self.rng),
            (Role::Probe, _) => match env.probe {
                Some(cfg) => cfg.gap.sample(&mut self.rng),
                None => return,
            },
            _ => return,
        };
        out.push(ClientEffect::Timer { after, timer: ClientTimer::Wake });
    }
}

/// Whether the client holds the ring and addresses a key's replicas itself (a partition-aware
/// client library), rather than reaching whichever node a balancer picks.
fn knows_ring(env: &ClientEnv) -> bool {
    matches!(env.protocol.coordination, Coordination::PreferenceListHead | Coordination::ClientDriven)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Seeds, Stream};

    #[test]
    fn zipf_favours_low_ranks_and_hot_set_its_share() {
        let mut rng = Seeds::new(1).stream(Stream::Client, 0);
        let zipf = KeyChooser::new(&KeyPopularity::Zipf { exponent: 1.0 }, 1000);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[zipf.choose(&mut rng).index()] += 1;
        }
        assert!(counts[0] > 5 * counts[9], "rank 1 {} vs rank 10 {}", counts[0], counts[9]);
        let ratio = counts[0] as f64 / counts[1] as f64;
        assert!((ratio - 2.0).abs() < 0.2, "zipf(1): p1/p2 should be ~2, got {ratio}");
        let hot = KeyChooser::new(&KeyPopularity::HotSet { key_fraction: 0.01, access_fraction: 0.9 }, 1000);
        let in_hot = (0..100_000).filter(|_| hot.choose(&mut rng).index() < 10).count();
        assert!((in_hot as f64 / 100_000.0 - 0.9).abs() < 0.01);
        let uniform = KeyChooser::new(&KeyPopularity::Uniform, 10);
        assert!((0..1000).all(|_| uniform.choose(&mut rng).index() < 10));
    }

    #[test]
    fn zipf_guide_table_finds_exactly_what_a_full_binary_search_finds() {
        let mut rng = Seeds::new(7).stream(Stream::Client, 0);
        for (keys, exponent) in [(1, 1.0), (7, 0.5), (1000, 1.0), (100_000, 0.9), (3, 3.0)] {
            let zipf = KeyChooser::new(&KeyPopularity::Zipf { exponent }, keys);
            let edges = [0.0, 1.0 - f64::EPSILON, 0.5, 1.0 / keys as f64];
            let draws = (0..20_000).map(|_| unit(&mut rng));
            for u in edges.into_iter().chain(zipf.zipf_cdf.iter().take(50).copied()).chain(draws) {
                assert_eq!(zipf.zipf_rank(u), zipf.zipf_cdf.partition_point(|&c| c < u), "{keys} keys, u = {u}");
            }
        }
    }
}
