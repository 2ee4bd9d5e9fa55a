//! A storage node: a sans-IO state machine running Dynamo's request protocol.
//!
//! A node owns its durable store (a version set per key, and its per-key write counters) and
//! its volatile coordinator state. Handlers take the current time and an environment (ring, key
//! table, protocol settings) and push effects (sends, timers) into an out-buffer; a node never
//! sees the event queue, the network or another node's state.
//!
//! Coordination (Dynamo §4.5, §6.4): a put's coordinator mints the new version locally (its
//! own dot), stores it, replicates its whole version set to the other replicas and answers after
//! W acknowledgements, itself counted. A get asks the replicas, answers after R replies with
//! every causally maximal version and one context covering them, and keeps listening for late
//! replies for a short window. Under proxy coordination a node outside the preference list
//! coordinates: it asks the first replica to mint (so that every dot is minted by a node holding
//! the key, which keeps version sets exact) and counts the replicas' acknowledgements itself.
//! Timers are cancelled lazily: a timer whose request is gone is ignored when it fires.

use crate::engine::{SimDuration, SimTime};
use crate::fastmap::FastMap;
use crate::ids::{ClientId, Endpoint, KeyId, NodeId, RequestId};
use crate::keyspace::KeyTable;
use crate::message::{ClientOp, Failure, Payload, PutBody, ReplyBody};
use crate::ring::Ring;
use crate::rng::{index, SimRng};
use crate::versioning::{CausalContext, Dot, Sibling, VersionSet};
use std::rc::Rc;

/// How a request finds its coordinator (Dynamo §4.5 and §6.4, plus Cassandra's proxy).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Coordination {
    /// The client library sends to the first node of the key's preference list.
    PreferenceListHead,
    /// A load balancer picks any node; a node outside the top N forwards to the list's head.
    LoadBalancer,
    /// The client library picks one of the top N at random and sends to it directly.
    ClientDriven,
    /// Any node the client reaches coordinates, replica or not.
    Proxy,
}

/// Which replicas a coordinator asks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// All N replicas (Dynamo).
    All,
    /// Only R (gets) or W (puts) of them, chosen at random.
    Quorum,
}

/// Protocol settings shared by every node.
#[derive(Clone, Debug)]
pub struct Protocol {
    pub n: usize,
    pub r: usize,
    pub w: usize,
    pub coordination: Coordination,
    pub fanout: Fanout,
    pub write_to_fastest_reader: bool,
    pub request_timeout: SimDuration,
    pub read_repair_window: SimDuration,
    pub clock_truncation_threshold: usize,
}

/// What a node's handlers may read besides their own state.
pub struct NodeEnv<'a> {
    pub ring: &'a Ring,
    pub keys: &'a KeyTable,
    pub protocol: &'a Protocol,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeTimer {
    RequestTimeout(RequestId),
    /// End of the late-reply window after a get was answered.
    CloseRequest(RequestId),
}

#[derive(Debug)]
pub enum NodeEffect {
    Send { to: Endpoint, payload: Payload },
    Timer { after: SimDuration, timer: NodeTimer },
}

/// Counters a node keeps about itself, summed into the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeStats {
    /// Requests this node did work for: coordinations and replica reads and writes.
    pub requests_served: u64,
    pub gets_coordinated: u64,
    pub puts_coordinated: u64,
    pub forwarded: u64,
    /// Puts whose context did not cover every version the minting replica held.
    pub concurrent_writes: u64,
    /// Replies that arrived after the client had been answered (read repair's raw material).
    pub late_replies: u64,
    pub coordinator_timeouts: u64,
    pub clock_entries_truncated: u64,
}

struct GetState {
    client: ClientId,
    op: u64,
    key: KeyId,
    asked: usize,
    replies: Vec<(NodeId, Option<Rc<VersionSet>>)>,
    answered: bool,
}

struct PutState {
    client: ClientId,
    op: u64,
    key: KeyId,
    acks: usize,
    /// Known once the version is minted (at once locally, or from the lead replica's ack).
    minted: Option<Rc<CausalContext>>,
}

enum Coordinating {
    Get(GetState),
    Put(PutState),
}

pub struct Node {
    pub id: NodeId,
    store: FastMap<KeyId, Rc<VersionSet>>,
    /// Highest counter this node has minted per key; durable, so a dot is never reused.
    minted: FastMap<KeyId, u64>,
    coordinating: FastMap<RequestId, Coordinating>,
    next_request: u64,
    rng: SimRng,
    scratch: Vec<NodeId>,
    pub stats: NodeStats,
}

impl Node {
    pub fn new(id: NodeId, rng: SimRng) -> Node {
        Node {
            id,
            store: FastMap::default(),
            minted: FastMap::default(),
            coordinating: FastMap::default(),
            next_request: 0,
            rng,
            scratch: Vec::new(),
            stats: NodeStats::default(),
        }
    }

    /// This node's versions of a key.
    pub fn versions(&self, key: KeyId) -> Option<&Rc<VersionSet>> {
        self.store.get(&key)
    }

    pub fn stored_keys(&self) -> usize {
        self.store.len()
    }

    /// Requests this node is coordinating right now.
    pub fn in_flight(&self) -> usize {
        self.coordinating.len()
    }

    /// A crash: volatile state (requests being coordinated) is lost; the store and the minted
    /// counters are durable. Timers set before the crash find no request and are ignored.
    pub fn crash(&mut self) {
        self.coordinating.clear();
    }

    fn new_request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(((self.id.0 as u64) << 40) | self.next_request)
    }

    fn top_n(&mut self, env: &NodeEnv, key: KeyId) -> Vec<NodeId> {
        let mut list = std::mem::take(&mut self.scratch);
        env.ring.preference_list(env.keys.position(key), env.protocol.n, env.protocol.n, &mut list);
        let out = list.clone();
        self.scratch = list;
        out
    }

    /// Picks the replicas to ask: all of `list`, or `count` of them at random with this node
    /// first when it is one of them (a local read or write costs no message).
    fn targets(&mut self, env: &NodeEnv, list: &[NodeId], count: usize) -> Vec<NodeId> {
        match env.protocol.fanout {
            Fanout::All => list.to_vec(),
            Fanout::Quorum => {
                let mut pool: Vec<NodeId> = list.iter().copied().filter(|&n| n != self.id).collect();
                let mut chosen = Vec::with_capacity(count);
                if list.contains(&self.id) {
                    chosen.push(self.id);
                }
                while chosen.len() < count && !pool.is_empty() {
                    let i = index(&mut self.rng, pool.len());
                    chosen.push(pool.swap_remove(i));
                }
                chosen
            }
        }
    }

    pub fn on_message(&mut self, now: SimTime, env: &NodeEnv, from: Endpoint, payload: Payload, out: &mut Vec<NodeEffect>) {
        match payload {
            Payload::ClientGet(op) => self.on_client_request(now, env, op, None, out),
            Payload::ClientPut(op, body) => self.on_client_request(now, env, op, Some(body), out),
            Payload::GetRequest { req, key } => {
                self.stats.requests_served += 1;
                let versions = self.store.get(&key).cloned();
                out.push(NodeEffect::Send { to: from, payload: Payload::GetReply { req, key, versions } });
            }
            Payload::GetReply { req, versions, .. } => {
                if let Endpoint::Node(replica) = from {
                    self.on_get_reply(now, env, req, replica, versions, out);
                }
            }
            Payload::PutRequest { req, key, versions, coordinator } => {
                self.stats.requests_served += 1;
                self.store_reconciled(now, env, key, &versions);
                out.push(NodeEffect::Send {
                    to: Endpoint::Node(coordinator),
                    payload: Payload::PutAck { req, key, minted: None },
                });
            }
            Payload::MintRequest { req, key, body, others } => {
                self.stats.requests_served += 1;
                let (versions, minted) = self.mint(now, env, key, &body);
                let Endpoint::Node(coordinator) = from else { return };
                for other in others {
                    let payload = Payload::PutRequest { req, key, versions: versions.clone(), coordinator };
                    out.push(NodeEffect::Send { to: Endpoint::Node(other), payload });
                }
                out.push(NodeEffect::Send { to: from, payload: Payload::PutAck { req, key, minted: Some(minted) } });
            }
            Payload::PutAck { req, minted, .. } => self.on_put_ack(env, req, minted, out),
            Payload::Reply { .. } => {}
        }
    }

    fn on_client_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        mut op: ClientOp,
        put: Option<PutBody>,
        out: &mut Vec<NodeEffect>,
    ) {
        let list = self.top_n(env, op.key);
        let in_list = list.contains(&self.id);
        let coordinates = in_list || env.protocol.coordination == Coordination::Proxy || op.forwarded || list.is_empty();
        if !coordinates {
            // Dynamo §4.5: a node outside the top N forwards to the first of them.
            self.stats.forwarded += 1;
            op.forwarded = true;
            let payload = match put {
                Some(body) => Payload::ClientPut(op, body),
                None => Payload::ClientGet(op),
            };
            out.push(NodeEffect::Send { to: Endpoint::Node(list[0]), payload });
            return;
        }
        self.stats.requests_served += 1;
        match put {
            None => self.coordinate_get(now, env, op, &list, out),
            Some(body) => self.coordinate_put(now, env, op, body, &list, in_list, out),
        }
    }

    fn coordinate_get(&mut self, now: SimTime, env: &NodeEnv, op: ClientOp, list: &[NodeId], out: &mut Vec<NodeEffect>) {
        self.stats.gets_coordinated += 1;
        let req = self.new_request();
        let targets = self.targets(env, list, env.protocol.r);
        let mut state = GetState {
            client: op.client,
            op: op.op,
            key: op.key,
            asked: targets.len(),
            replies: Vec::with_capacity(targets.len()),
            answered: false,
        };
        for &t in &targets {
            if t == self.id {
                state.replies.push((t, self.store.get(&op.key).cloned()));
            } else {
                out.push(NodeEffect::Send { to: Endpoint::Node(t), payload: Payload::GetRequest { req, key: op.key } });
            }
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        self.coordinating.insert(req, Coordinating::Get(state));
        self.advance_get(now, env, req, out);
    }

    fn on_get_reply(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        req: RequestId,
        replica: NodeId,
        versions: Option<Rc<VersionSet>>,
        out: &mut Vec<NodeEffect>,
    ) {
        let Some(Coordinating::Get(state)) = self.coordinating.get_mut(&req) else {
            return;
        };
        if state.replies.iter().any(|(n, _)| *n == replica) {
            return; // a duplicated message
        }
        if state.answered {
            self.stats.late_replies += 1;
        }
        state.replies.push((replica, versions));
        self.advance_get(now, env, req, out);
    }

    /// Answers the client once R replies are in, and closes the request once every replica has
    /// answered or the late-reply window has passed.
    fn advance_get(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.coordinating.get_mut(&req) else {
            return;
        };
        if !state.answered && state.replies.len() >= env.protocol.r.min(state.asked) {
            state.answered = true;
            let merged = reconcile_replies(now, &state.replies);
            let context = Rc::new(merged.client_context(now));
            let fastest = state.replies.first().map(|(n, _)| *n);
            out.push(NodeEffect::Send {
                to: Endpoint::Client(state.client),
                payload: Payload::Reply {
                    op: state.op,
                    key: state.key,
                    body: ReplyBody::Get { siblings: merged.siblings, context, fastest },
                },
            });
            if state.replies.len() < state.asked && env.protocol.read_repair_window > SimDuration::ZERO {
                out.push(NodeEffect::Timer { after: env.protocol.read_repair_window, timer: NodeTimer::CloseRequest(req) });
                return;
            }
        }
        if state.answered && (state.replies.len() >= state.asked || env.protocol.read_repair_window == SimDuration::ZERO) {
            self.coordinating.remove(&req);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn coordinate_put(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        op: ClientOp,
        body: PutBody,
        list: &[NodeId],
        in_list: bool,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.puts_coordinated += 1;
        let req = self.new_request();
        let mut state = PutState { client: op.client, op: op.op, key: op.key, acks: 0, minted: None };
        if in_list {
            let targets = self.targets(env, list, env.protocol.w);
            let (versions, minted) = self.mint(now, env, op.key, &body);
            state.acks = 1;
            state.minted = Some(minted);
            for &t in targets.iter().filter(|&&t| t != self.id) {
                let payload = Payload::PutRequest { req, key: op.key, versions: versions.clone(), coordinator: self.id };
                out.push(NodeEffect::Send { to: Endpoint::Node(t), payload });
            }
        } else {
            // Proxy coordination from outside the list: the head of the list mints.
            let lead = list[0];
            let others: Vec<NodeId> = match env.protocol.fanout {
                Fanout::All => list[1..].to_vec(),
                Fanout::Quorum => {
                    let mut pool = list[1..].to_vec();
                    let mut chosen = Vec::new();
                    while chosen.len() + 1 < env.protocol.w && !pool.is_empty() {
                        let i = index(&mut self.rng, pool.len());
                        chosen.push(pool.swap_remove(i));
                    }
                    chosen
                }
            };
            out.push(NodeEffect::Send {
                to: Endpoint::Node(lead),
                payload: Payload::MintRequest { req, key: op.key, body, others },
            });
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        self.coordinating.insert(req, Coordinating::Put(state));
        self.advance_put(env, req, out);
    }

    fn on_put_ack(&mut self, env: &NodeEnv, req: RequestId, minted: Option<Rc<CausalContext>>, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Put(state)) = self.coordinating.get_mut(&req) else {
            return;
        };
        state.acks += 1;
        if minted.is_some() {
            state.minted = minted;
        }
        self.advance_put(env, req, out);
    }

    fn advance_put(&mut self, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Put(state)) = self.coordinating.get(&req) else {
            return;
        };
        if state.acks >= env.protocol.w {
            if let Some(context) = &state.minted {
                out.push(NodeEffect::Send {
                    to: Endpoint::Client(state.client),
                    payload: Payload::Reply { op: state.op, key: state.key, body: ReplyBody::Put { context: context.clone() } },
                });
                self.coordinating.remove(&req);
            }
        }
    }

    /// Mints a new version of `key` from a client's put and stores it; returns the updated
    /// version set (to replicate) and the context the client has after its write.
    fn mint(&mut self, now: SimTime, env: &NodeEnv, key: KeyId, body: &PutBody) -> (Rc<VersionSet>, Rc<CausalContext>) {
        let entry = self.store.entry(key).or_default();
        let minted = self.minted.entry(key).or_insert(0);
        let counter = (*minted).max(entry.max_counter(self.id)).max(body.context.clock.get(self.id)) + 1;
        *minted = counter;
        let dot = Dot { node: self.id, counter };
        let sibling = Sibling { dot, written_at: now, write: body.write, cart: body.cart.clone() };
        let versions = Rc::make_mut(entry);
        if versions.apply_write(&body.context, sibling, now) {
            self.stats.concurrent_writes += 1;
        }
        self.stats.clock_entries_truncated += versions.truncate(env.protocol.clock_truncation_threshold) as u64;
        let mut after = (*body.context).clone();
        after.add_dot(dot, now);
        (entry.clone(), Rc::new(after))
    }

    fn store_reconciled(&mut self, now: SimTime, env: &NodeEnv, key: KeyId, incoming: &Rc<VersionSet>) {
        match self.store.get_mut(&key) {
            None => {
                self.store.insert(key, incoming.clone());
            }
            Some(local) => {
                if Rc::ptr_eq(local, incoming) || **local == **incoming {
                    return;
                }
                let mut merged = (**local).clone();
                merged.reconcile(incoming, now);
                self.stats.clock_entries_truncated += merged.truncate(env.protocol.clock_truncation_threshold) as u64;
                *local = Rc::new(merged);
            }
        }
    }

    pub fn on_timer(&mut self, env: &NodeEnv, timer: NodeTimer, out: &mut Vec<NodeEffect>) {
        match timer {
            NodeTimer::RequestTimeout(req) => {
                let Some(state) = self.coordinating.get(&req) else {
                    return; // answered and closed already: a stale timer
                };
                let (client, op, key, answered) = match state {
                    Coordinating::Get(s) => (s.client, s.op, s.key, s.answered),
                    Coordinating::Put(s) => (s.client, s.op, s.key, false),
                };
                if !answered {
                    self.stats.coordinator_timeouts += 1;
                    out.push(NodeEffect::Send {
                        to: Endpoint::Client(client),
                        payload: Payload::Reply { op, key, body: ReplyBody::Failed(Failure::CoordinatorTimeout) },
                    });
                }
                self.coordinating.remove(&req);
            }
            NodeTimer::CloseRequest(req) => {
                let _ = env;
                self.coordinating.remove(&req);
            }
        }
    }
}

/// Reconciles every reply's version set into one (syntactic reconciliation, Dynamo §4.4).
fn reconcile_replies(now: SimTime, replies: &[(NodeId, Option<Rc<VersionSet>>)]) -> VersionSet {
    let mut sets = replies.iter().filter_map(|(_, v)| v.as_ref());
    let mut merged = match sets.next() {
        Some(first) => (**first).clone(),
        None => return VersionSet::default(),
    };
    for s in sets {
        merged.reconcile(s, now);
    }
    merged
}
