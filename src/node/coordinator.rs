//! The coordinator: one state machine per get and per put (Dynamo §4.5, §6.4; Riak's get_fsm
//! and put_fsm).
//!
//! A put's coordinator mints the new version locally (its own dot), stores it, replicates its
//! whole version set to the other replicas and answers after W acknowledgements, itself counted.
//! A get asks the replicas, answers after R replies with every causally maximal version and one
//! context covering them, keeps listening for late replies for a short window, then writes the
//! reconciled set to replicas that returned stale or no data (read repair, §5). Under proxy
//! coordination a node outside the preference list coordinates: it asks the first replica to
//! mint (so that every dot is minted by a node holding the key, which keeps version sets exact)
//! and counts the acknowledgements itself.
//!
//! Sloppy quorum (§4.6): requests go to the first N nodes of the extended preference list that
//! this node does not suspect; a replica that does not answer within the reply timeout is
//! suspected and the request moves on to the next fall-back, with a hint naming the node it
//! stands in for.

use crate::node::consistency::Need;
use crate::node::failure_detector::FailureDetector;
use crate::node::message::{ClientOp, Failure, Payload, PutBody, ReplyBody, Target};
use crate::node::read_path::CassandraRead;
use crate::node::riak_quorums::ReadVerdict;
use crate::node::tombstones::TombstoneRemoval;
use crate::node::versioning::{CausalContext, Resolution, VersionSet};
use crate::node::*;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, Endpoint, KeyId, NodeId, RequestId};
use crate::sim::rng::index;
use std::rc::Rc;
use tinyvec::TinyVec;

/// A request's short lists, inline up to a size and on the heap past it: with N = 3 they hold
/// three to five nodes (fall-backs are N + 2), and as `Vec`s they were a third of all
/// allocations. tinyvec's, which ran 0.8-1.5% fewer instructions per run than the hand-written
/// list it replaced (callgrind, BENCHMARKS.md).
pub(super) type NodeList = TinyVec<[NodeId; 6]>;

pub(super) type Targets = TinyVec<[Target; 4]>;

pub(super) type Replies = TinyVec<[(NodeId, Option<Rc<VersionSet>>); 4]>;

pub(super) struct GetState {
    client: ClientId,
    op: u64,
    key: KeyId,
    asked: NodeList,
    /// Fall-backs not yet asked, in preference order.
    spare: NodeList,
    replies: Replies,
    need: Need,
    answered: bool,
    /// The key's top N, kept only under PR or PW (see [`crate::node::riak_quorums`]).
    primaries: NodeList,
    /// Cassandra's read path, only where digest reads or speculative retry are on (boxed: a
    /// request is moved in and out of the open-request map, and most have none).
    cassandra: Option<Box<CassandraRead>>,
}

pub(super) struct PutState {
    client: ClientId,
    op: u64,
    key: KeyId,
    asked: Targets,
    acked: NodeList,
    spare: NodeList,
    /// What to write to a fall-back: known once the version is minted.
    versions: Option<Rc<VersionSet>>,
    minted: Option<Rc<CausalContext>>,
    need: Need,
    answered: bool,
    /// The key's top N, kept only under PR or PW.
    primaries: NodeList,
}

impl GetState {
    /// The replicas that answered, with data or a digest.
    fn repliers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let digests = self.cassandra.as_deref().map_or(&[][..], |c| &c.digests[..]);
        self.replies.iter().map(|(n, _)| *n).chain(digests.iter().map(|(n, _)| *n))
    }

    fn answers(&self) -> usize {
        self.replies.len() + self.cassandra.as_ref().map_or(0, |c| c.digests.len())
    }
}

pub(super) enum Coordinating {
    Get(GetState),
    Put(PutState),
}

/// The requests this node coordinates; volatile, so a crash forgets them (their clients time
/// out).
#[derive(Default)]
pub(super) struct Coordinator {
    open: FastMap<RequestId, Coordinating>,
    next_request: u64,
    /// A buffer for extended preference lists, kept to save an allocation per request.
    candidate_buffer: Vec<NodeId>,
    /// Replica read latencies, for speculative retry's threshold.
    pub(super) read_latencies: crate::node::read_path::ReadLatencies,
}

impl Coordinator {
    /// Every write the open requests hold (replies read, versions minted).
    pub(super) fn held_writes(&self, out: &mut Vec<crate::sim::ids::WriteId>) {
        let mut set = |v: &VersionSet| out.extend(v.siblings.iter().map(|s| s.write));
        for request in self.open.values() {
            match request {
                Coordinating::Get(g) => g.replies.iter().filter_map(|(_, v)| v.as_deref()).for_each(&mut set),
                Coordinating::Put(p) => p.versions.iter().for_each(|v| set(v)),
            }
        }
    }

    /// A request id no node ever used: this node's id above its own count.
    fn new_request(&mut self, me: NodeId) -> RequestId {
        self.next_request += 1;
        RequestId(((me.0 as u64) << 40) | self.next_request)
    }

    pub(super) fn contains(&self, req: RequestId) -> bool {
        self.open.contains_key(&req)
    }

    pub(super) fn clear(&mut self) {
        self.open.clear();
    }
}

/// Answers a request that cannot be served as asked with unavailable, at once: a consistency
/// level the replicas cannot meet (Cassandra's), or too few primaries for PR or PW (Riak's).
fn refuse(client: ClientId, op: u64, key: KeyId, out: &mut Vec<NodeEffect>) {
    out.push(NodeEffect::Send {
        to: Endpoint::Client(client),
        payload: Payload::Reply { op, key, body: ReplyBody::Failed(Failure::Unavailable) },
    });
}

/// Takes the next fall-back not under suspicion.
fn take_healthy(spare: &mut NodeList, detector: &FailureDetector) -> Option<NodeId> {
    while !spare.is_empty() {
        let next = spare.remove(0);
        if !detector.suspects(next) {
            return Some(next);
        }
    }
    None
}

/// The one version set every reply carries, if they all carry the same: what reconciling them
/// gives, since reconciliation is idempotent.
pub(super) fn agreed_replies(replies: &[(NodeId, Option<Rc<VersionSet>>)]) -> Option<&Rc<VersionSet>> {
    let (_, Some(first)) = replies.first()? else { return None };
    let same = |v: &Option<Rc<VersionSet>>| v.as_ref().is_some_and(|v| Rc::ptr_eq(v, first) || **v == **first);
    replies[1..].iter().all(|(_, v)| same(v)).then_some(first)
}

/// Reconciles every reply's version set into one (syntactic reconciliation, Dynamo §4.4).
pub(super) fn reconcile_replies(
    resolution: Resolution,
    now: SimTime,
    replies: &[(NodeId, Option<Rc<VersionSet>>)],
) -> VersionSet {
    let mut sets = replies.iter().filter_map(|(_, v)| v.as_ref());
    let mut merged = match sets.next() {
        Some(first) => (**first).clone(),
        None => return VersionSet::default(),
    };
    for s in sets {
        merged.reconcile_with(resolution, s, now);
    }
    merged
}

impl Node {
    /// The extended preference list: top N first, then fall-backs (in a buffer the caller
    /// hands back to the coordinator's `candidate_buffer`).
    pub(super) fn candidates(&mut self, env: &NodeEnv, key: KeyId) -> Vec<NodeId> {
        let mut list = std::mem::take(&mut self.requests.candidate_buffer);
        env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.candidate_count(), &mut list);
        list
    }

    /// The first N nodes of `list` this node does not suspect (all of the top N under strict
    /// quorums); a fall-back carries a hint for the suspected top-N node it replaces. Returns the
    /// targets and the fall-backs left over.
    pub(super) fn select(&self, env: &NodeEnv, list: &[NodeId]) -> (Targets, NodeList) {
        let n = env.protocol.n.min(list.len());
        if !env.protocol.sloppy_quorum || self.detector.is_empty() {
            // Strict quorums ask the top N whatever; with nobody suspected (the usual case) a
            // sloppy quorum asks them too and keeps the rest, in order, as fall-backs.
            let spare = if env.protocol.sloppy_quorum { list[n..].into() } else { NodeList::new() };
            return (list[..n].iter().map(|&node| Target { node, hint: None, write_through: false }).collect(), spare);
        }
        let mut replaced = list[..n].iter().copied().filter(|p| self.suspects(*p));
        let mut targets = Targets::new();
        let mut spare = NodeList::new();
        for (i, &node) in list.iter().enumerate() {
            if self.suspects(node) {
                continue;
            }
            if targets.len() < n {
                // Without hinted handoff a fall-back keeps the write as its own, with no way back.
                let hint = if i >= n && env.protocol.hinted_handoff { replaced.next() } else { None };
                targets.push(Target { node, hint, write_through: false });
            } else {
                spare.push(node);
            }
        }
        (targets, spare)
    }

    /// Which targets to ask: all, or just enough of them at random to meet `need`, with `first`
    /// first when it is one of them (this node: a local read or write costs no message; or a
    /// proxy's lead replica, which mints).
    pub(super) fn fan_out(&mut self, env: &NodeEnv, targets: Targets, need: &Need, first: NodeId, get: bool) -> Targets {
        if env.protocol.fanout == Fanout::All || (env.protocol.fanout == Fanout::ReadQuorum && !get) {
            return targets;
        }
        let dc_of = |n: NodeId| env.ring.datacenter_of(n);
        let mut pool: Targets = targets.iter().copied().filter(|t| t.node != first && need.counts_in(dc_of(t.node))).collect();
        let mut chosen: Targets = targets.iter().copied().filter(|t| t.node == first).collect();
        let mut missing = need.missing(chosen.iter().map(|t| t.node), usize::MAX, dc_of);
        while missing > 0 && !pool.is_empty() {
            let i = index(&mut self.rng, pool.len());
            let t = pool.swap_remove(i);
            // A node whose datacenter already has its quorum (EACH_QUORUM) is not asked.
            let left = need.missing(chosen.iter().map(|t| t.node).chain([t.node]), usize::MAX, dc_of);
            if left < missing {
                chosen.push(t);
                missing = left;
            }
        }
        chosen
    }

    /// What a request waits for: its consistency level's count, or R (`get`) or W.
    fn need(&self, env: &NodeEnv, op: &ClientOp, list: &[NodeId], get: bool) -> Option<Need> {
        match op.level {
            None => Some(Need::Any(if get { env.protocol.r } else { env.protocol.w })),
            Some(level) => {
                let top = &list[..env.protocol.n.min(list.len())];
                Need::for_level(level, top, env.ring.datacenter_of(self.id), |n| env.ring.datacenter_of(n))
            }
        }
    }

    /// The key's top N when PR or PW needs it to tell primaries from fall-backs; else empty.
    fn primaries(env: &NodeEnv, list: &[NodeId]) -> NodeList {
        if env.protocol.riak.counts_primaries() {
            list[..env.protocol.n.min(list.len())].into()
        } else {
            NodeList::new()
        }
    }

    pub(super) fn on_client_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        op: ClientOp,
        put: Option<PutBody>,
        out: &mut Vec<NodeEffect>,
    ) {
        let list = self.candidates(env, op.key);
        self.route_client_request(now, env, op, put, &list, out);
        self.requests.candidate_buffer = list;
    }

    /// Coordinates a client request, or forwards it when this node is not among the top N.
    pub(super) fn route_client_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        mut op: ClientOp,
        put: Option<PutBody>,
        list: &[NodeId],
        out: &mut Vec<NodeEffect>,
    ) {
        let n = env.protocol.n.min(list.len());
        let in_list = list[..n].contains(&self.id);
        let any_node = matches!(env.protocol.coordination, Coordination::Proxy | Coordination::Direct);
        // Dynamo §6.4: a put goes to the replica that answered the previous read fastest, which
        // the request names, while that node is still among the top N and not suspected.
        let fastest_reader = (put.is_some() && !op.forwarded)
            .then(|| op.fastest_reader.get())
            .flatten()
            .filter(|&c| c != self.id && list[..n].contains(&c) && !self.suspects(c));
        let coordinates = fastest_reader.is_none() && (in_list || any_node || op.forwarded || list.is_empty());
        if !coordinates {
            // Dynamo §4.5: a node outside the top N forwards to the first of them it believes up.
            let to = fastest_reader.or_else(|| list[..n].iter().copied().find(|p| !self.suspects(*p))).unwrap_or(list[0]);
            self.stats.forwarded += 1;
            op.forwarded = true;
            let payload = match put {
                Some(body) => Payload::ClientPut(op, body),
                None => Payload::ClientGet(op),
            };
            out.push(NodeEffect::Send { to: Endpoint::Node(to), payload });
            return;
        }
        self.stats.requests_served += 1;
        match put {
            None => self.coordinate_get(now, env, op, list, out),
            Some(body) => self.coordinate_put(now, env, op, body, list, in_list, out),
        }
    }

    pub(super) fn coordinate_get(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        op: ClientOp,
        list: &[NodeId],
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.gets_coordinated += 1;
        let Some(need) = self.need(env, &op, list, true) else {
            return refuse(op.client, op.op, op.key, out);
        };
        let req = self.requests.new_request(self.id);
        let (targets, spare) = self.select(env, list);
        let primaries = Self::primaries(env, list);
        if !env.protocol.riak.enough_primaries(targets.iter().map(|t| t.node), &primaries, true) {
            self.stats.refused_for_primaries += 1;
            return refuse(op.client, op.op, op.key, out);
        }
        if env.protocol.unavailable_when_suspected && !self.enough_unsuspected(env, &need, &targets) {
            self.stats.refused_unavailable += 1;
            return refuse(op.client, op.op, op.key, out);
        }
        let p = env.protocol;
        let unasked_pool = if p.speculative_retry.is_some() { targets.clone() } else { Targets::new() };
        let asked = self.fan_out(env, targets, &need, self.id, true);
        let cassandra = (p.digest_reads || p.speculative_retry.is_some()).then(|| {
            let unasked = unasked_pool.iter().map(|t| t.node).filter(|n| !asked.iter().any(|t| t.node == *n)).collect();
            Box::new(CassandraRead { digests: TinyVec::new(), unasked, sent_at: now })
        });
        let mut state = GetState {
            client: op.client,
            op: op.op,
            key: op.key,
            asked: asked.iter().map(|t| t.node).collect(),
            spare,
            replies: Replies::new(),
            need,
            answered: false,
            primaries,
            cassandra,
        };
        for (i, t) in asked.iter().enumerate() {
            // A local read costs no message. Under write-to-fastest-reader it is asked like any
            // replica, so that it counts as fastest only if its service really finished first;
            // with local legs over the network, so that every leg is one; with disk reads, so
            // that it waits on the disk.
            let local =
                !env.protocol.write_to_fastest_reader && !env.protocol.local_legs_over_network && !env.protocol.reads_from_disk;
            if t.node == self.id && local {
                state.replies.push((t.node, self.local_read(now, env, op.key)));
            } else {
                // Digest reads: the first replica asked returns data, the others digests.
                let digest = env.protocol.digest_reads && i > 0;
                out.push(NodeEffect::Send {
                    to: Endpoint::Node(t.node),
                    payload: Payload::GetRequest { req, key: op.key, digest },
                });
            }
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        out.push(NodeEffect::Timer { after: env.protocol.reply_timeout, timer: NodeTimer::ReplicaTimeout(req) });
        if let Some(after) = env.protocol.speculative_retry.and_then(|r| self.requests.read_latencies.threshold(r)) {
            if state.cassandra.as_ref().is_some_and(|c| !c.unasked.is_empty()) {
                out.push(NodeEffect::Timer { after, timer: NodeTimer::SpeculativeRead(req) });
            }
        }
        self.requests.open.insert(req, Coordinating::Get(state));
        self.advance_get(now, env, req, out);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_get_reply(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        req: RequestId,
        replica: NodeId,
        versions: Option<Rc<VersionSet>>,
        digest: Option<u64>,
        out: &mut Vec<NodeEffect>,
    ) {
        let Some(Coordinating::Get(state)) = self.requests.open.get_mut(&req) else {
            return;
        };
        if state.repliers().any(|n| n == replica) {
            return; // a duplicated message
        }
        if state.answered {
            self.stats.late_replies += 1;
        }
        if let (Some(retry), Some(c)) = (env.protocol.speculative_retry, &state.cassandra) {
            self.requests.read_latencies.record(retry, now.since(c.sent_at));
        }
        match (digest, &mut state.cassandra) {
            (Some(d), Some(c)) => c.digests.push((replica, d)),
            _ => state.replies.push((replica, versions)),
        }
        self.advance_get(now, env, req, out);
    }

    /// Answers the client once R replies are in, and closes the request (with read repair) once
    /// every replica asked has answered or the late-reply window has passed.
    pub(super) fn advance_get(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.requests.open.get_mut(&req) else {
            return;
        };
        let dc_of = |n: NodeId| env.ring.datacenter_of(n);
        if !state.answered
            && state.cassandra.as_ref().is_some_and(|c| !c.digests.is_empty())
            && Self::digests_disagree(state, req, out)
        {
            self.stats.digest_mismatches += 1;
            return;
        }
        let verdict = if state.answered {
            ReadVerdict::Wait
        } else if env.protocol.riak.judges_reads() {
            let (p, all_in) = (env.protocol, state.replies.len() >= state.asked.len());
            let (need, cap) = (state.need, state.asked.len());
            let met = |repliers: &mut dyn Iterator<Item = NodeId>| need.met(repliers, cap, dc_of);
            p.riak.judge_read(&state.replies, &state.primaries, p.n, p.r, all_in, met)
        } else if !state.replies.is_empty() && state.need.met(state.repliers(), state.asked.len(), dc_of) {
            ReadVerdict::Answer
        } else {
            ReadVerdict::Wait
        };
        if verdict == ReadVerdict::Unavailable {
            self.stats.refused_for_primaries += 1;
            state.answered = true;
            refuse(state.client, state.op, state.key, out);
        } else if verdict != ReadVerdict::Wait {
            state.answered = true;
            // Reconciling equal sets gives that set (reconciliation is idempotent), so replicas
            // that agree, the usual case, cost no merge.
            let (context, read) = match agreed_replies(&state.replies) {
                _ if verdict == ReadVerdict::NotFound => (CausalContext::default(), Rc::new(VersionSet::default())),
                Some(set) => (set.client_context(now), set.clone()),
                None => {
                    let merged = reconcile_replies(env.protocol.conflict.resolution(), now, &state.replies);
                    (merged.client_context(now), Rc::new(merged))
                }
            };
            let context = Rc::new(context);
            let fastest = state.replies.first().map(|(n, _)| *n);
            out.push(NodeEffect::Send {
                to: Endpoint::Client(state.client),
                payload: Payload::Reply { op: state.op, key: state.key, body: ReplyBody::Get { read, context, fastest } },
            });
            if state.answers() < state.asked.len() && env.protocol.read_repair_window > SimDuration::ZERO {
                out.push(NodeEffect::Timer { after: env.protocol.read_repair_window, timer: NodeTimer::CloseRequest(req) });
                return;
            }
        }
        if state.answered && (state.answers() >= state.asked.len() || env.protocol.read_repair_window == SimDuration::ZERO) {
            self.close_get(now, env, req, out);
        }
    }

    /// Digest reads: compares every digest in with the first data reply's; each replica whose
    /// digest differs is asked again for its data (Cassandra's digest mismatch). Returns whether
    /// any differed (the answer then waits for their data).
    fn digests_disagree(state: &mut GetState, req: RequestId, out: &mut Vec<NodeEffect>) -> bool {
        let (Some((_, data)), Some(c)) = (state.replies.first(), state.cassandra.as_mut()) else { return false };
        let expected = data.as_deref().map_or(0, |v| crate::node::merkle::digest(state.key, v));
        let mut disagreed = false;
        let key = state.key;
        c.digests.retain(|&(node, d)| {
            let differs = d != expected;
            if differs {
                disagreed = true;
                out.push(NodeEffect::Send { to: Endpoint::Node(node), payload: Payload::GetRequest { req, key, digest: false } });
            }
            !differs
        });
        disagreed
    }

    /// Speculative retry: the replicas asked have not all answered by the threshold, so one
    /// more of the key's top N is asked for its data.
    pub(super) fn speculate(&mut self, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.requests.open.get_mut(&req) else { return };
        let Some(c) = state.cassandra.as_mut().filter(|c| !state.answered && !c.unasked.is_empty()) else { return };
        let next = c.unasked.remove(0);
        state.asked.push(next);
        self.stats.speculative_reads += 1;
        out.push(NodeEffect::Send {
            to: Endpoint::Node(next),
            payload: Payload::GetRequest { req, key: state.key, digest: false },
        });
    }

    /// Whether the replicas this node's failure detector does not suspect could meet `need`.
    fn enough_unsuspected(&self, env: &NodeEnv, need: &Need, targets: &Targets) -> bool {
        let alive = targets.iter().map(|t| t.node).filter(|&n| n == self.id || !self.suspects(n));
        need.met(alive, usize::MAX, |n| env.ring.datacenter_of(n))
    }

    /// Ends a get; with read repair on, writes the reconciled versions to every top-N replica
    /// that answered with less (Dynamo §5).
    pub(super) fn close_get(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.requests.open.remove(&req) else {
            return;
        };
        if matches!(env.protocol.tombstones, TombstoneRemoval::Reap { .. }) {
            let mut top = std::mem::take(&mut self.scratch);
            env.ring.cached_list(state.key, || env.keys.position(state.key), env.protocol.n, env.protocol.n, &mut top);
            let answered: NodeList = state.replies.iter().map(|(n, _)| *n).collect();
            if Self::reapable(env, agreed_replies(&state.replies).map(|v| &**v), &answered, &top) {
                self.reap(env, state.key, &top, out);
            }
            self.scratch = top;
        }
        if !env.protocol.read_repair || state.replies.len() < 2 {
            return;
        }
        // Replicas that all answered with the same set leave nothing to repair, so the usual
        // case costs no merge.
        if agreed_replies(&state.replies).is_some() {
            return;
        }
        let merged = Rc::new(reconcile_replies(env.protocol.conflict.resolution(), now, &state.replies));
        let mut top = std::mem::take(&mut self.scratch);
        env.ring.cached_list(state.key, || env.keys.position(state.key), env.protocol.n, env.protocol.n, &mut top);
        for (replica, versions) in &state.replies {
            let stale = match versions {
                None => !merged.is_empty(),
                Some(v) => !v.same_versions(&merged),
            };
            if !stale || !top.contains(replica) {
                continue;
            }
            self.stats.read_repairs_sent += 1;
            if *replica == self.id {
                self.store_reconciled(now, env, state.key, None, &merged);
            } else {
                let payload = Payload::ReadRepair { key: state.key, versions: merged.clone() };
                out.push(NodeEffect::Send { to: Endpoint::Node(*replica), payload });
            }
        }
        self.scratch = top;
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn coordinate_put(
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
        let Some(need) = self.need(env, &op, list, false) else {
            return refuse(op.client, op.op, op.key, out);
        };
        let req = self.requests.new_request(self.id);
        let (targets, spare) = self.select(env, list);
        let primaries = Self::primaries(env, list);
        if !env.protocol.riak.enough_primaries(targets.iter().map(|t| t.node), &primaries, false) {
            self.stats.refused_for_primaries += 1;
            return refuse(op.client, op.op, op.key, out);
        }
        if env.protocol.unavailable_when_suspected && !self.enough_unsuspected(env, &need, &targets) {
            self.stats.refused_unavailable += 1;
            return refuse(op.client, op.op, op.key, out);
        }
        let mut state = PutState {
            client: op.client,
            op: op.op,
            key: op.key,
            asked: Targets::new(),
            acked: NodeList::new(),
            spare,
            versions: None,
            minted: None,
            need,
            answered: false,
            primaries,
        };
        // The coordinator mints the version itself when it is a replica, or, under direct
        // coordination, when it is not; it mints without storing (and sends its own copy like
        // any other) when it is not a replica or its local legs go over the network.
        let local_legs = env.protocol.local_legs_over_network;
        let mints_here = in_list || env.protocol.coordination == Coordination::Direct;
        if mints_here {
            let mut chosen = self.fan_out(env, targets, &need, self.id, false);
            let local_write_through = self.mark_write_through(env, &mut chosen);
            let stores_locally = in_list && !local_legs;
            let (versions, minted) = if stores_locally {
                state.acked.push(self.id);
                self.mint(now, env, op.key, &body, None, local_write_through)
            } else {
                self.mint_detached(now, env, op.key, &body)
            };
            state.minted = Some(minted);
            for t in chosen.iter().filter(|t| !(stores_locally && t.node == self.id)) {
                let (key, coordinator, hint, write_through) = (op.key, self.id, t.hint, t.write_through);
                let payload = Payload::PutRequest { req, key, versions: versions.clone(), coordinator, hint, write_through };
                out.push(NodeEffect::Send { to: Endpoint::Node(t.node), payload });
            }
            state.asked = chosen;
            state.versions = Some(versions);
        } else if let Some(&lead) = targets.first() {
            // Proxy coordination from outside the list: the first healthy replica mints.
            let mut chosen: Vec<Target> = self.fan_out(env, targets, &need, lead.node, false).to_vec();
            self.mark_write_through(env, &mut chosen);
            let lead = chosen.remove(0);
            state.asked.push(lead);
            state.asked.extend(chosen.iter().copied());
            let (hint, write_through) = (lead.hint, lead.write_through);
            let payload = Payload::MintRequest { req, key: op.key, body, hint, write_through, others: chosen };
            out.push(NodeEffect::Send { to: Endpoint::Node(lead.node), payload });
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        out.push(NodeEffect::Timer { after: env.protocol.reply_timeout, timer: NodeTimer::ReplicaTimeout(req) });
        self.requests.open.insert(req, Coordinating::Put(state));
        self.advance_put(env, req, out);
    }

    /// Under the buffered storage model, asks `durable_writes` of a put's targets to write
    /// through to disk, in preference order and other nodes before this one: its own write
    /// comes before the sends (Dynamo §4.5), so a durable write here would delay them all, and
    /// the point of the model is that the one durable write is off the acknowledgement's path
    /// (§6.1). Returns whether this node's own write is to be durable too.
    fn mark_write_through(&self, env: &NodeEnv, targets: &mut [Target]) -> bool {
        let mut left = env.protocol.storage.durable_writes().max(env.protocol.riak.dw);
        for t in targets.iter_mut().filter(|t| t.node != self.id) {
            if left == 0 {
                break;
            }
            t.write_through = true;
            left -= 1;
        }
        let local = left > 0;
        for t in targets.iter_mut().filter(|t| t.node == self.id) {
            t.write_through = local;
        }
        local
    }

    pub(super) fn on_put_ack(
        &mut self,
        env: &NodeEnv,
        req: RequestId,
        replica: NodeId,
        minted: Option<(Rc<CausalContext>, Rc<VersionSet>)>,
        out: &mut Vec<NodeEffect>,
    ) {
        let Some(Coordinating::Put(state)) = self.requests.open.get_mut(&req) else {
            return;
        };
        if state.acked.contains(&replica) {
            return; // a duplicated message
        }
        state.acked.push(replica);
        if let Some((context, versions)) = minted {
            state.minted = Some(context);
            state.versions = Some(versions);
        }
        self.advance_put(env, req, out);
    }

    /// Answers the client after W acknowledgements; the request stays open until every target
    /// has acknowledged (or the reply timeout has replaced the silent ones), so that a write
    /// still reaches N nodes when a replica is down.
    pub(super) fn advance_put(&mut self, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Put(state)) = self.requests.open.get_mut(&req) else {
            return;
        };
        let dc_of = |n: NodeId| env.ring.datacenter_of(n);
        let storage = env.protocol.storage;
        let durable = |n: NodeId| state.asked.iter().any(|t| t.node == n && storage.writes_through(t.write_through));
        let riak = &env.protocol.riak;
        let riak_met = !riak.judges_puts() || riak.put_met(&state.acked, &state.primaries, durable);
        let w_met = state.need.met(state.acked.iter().copied(), usize::MAX, dc_of);
        let all_acked = || state.asked.iter().all(|t| state.acked.contains(&t.node));
        if !state.answered && w_met && !riak_met && all_acked() {
            // W acknowledged, but every target has and PW or DW is not met: no later one can.
            self.stats.refused_for_primaries += 1;
            refuse(state.client, state.op, state.key, out);
            self.requests.open.remove(&req);
            return;
        }
        if !state.answered && riak_met && w_met {
            if let Some(context) = &state.minted {
                state.answered = true;
                out.push(NodeEffect::Send {
                    to: Endpoint::Client(state.client),
                    payload: Payload::Reply { op: state.op, key: state.key, body: ReplyBody::Put { context: context.clone() } },
                });
            }
        }
        if state.answered && state.asked.iter().all(|t| state.acked.contains(&t.node)) {
            // Riak's delete: every primary holds the tombstone, so they may reap it.
            let reap = matches!(env.protocol.tombstones, TombstoneRemoval::Reap { .. })
                && state.versions.as_ref().is_some_and(|v| v.is_deleted())
                && state.asked.len() == env.protocol.n
                && state.asked.iter().all(|t| t.hint.is_none());
            let (key, primaries): (KeyId, NodeList) = (state.key, state.asked.iter().map(|t| t.node).collect());
            self.requests.open.remove(&req);
            if reap {
                self.reap(env, key, &primaries, out);
            }
        }
    }

    /// Replicas silent past the reply timeout are suspected; under sloppy quorum the request
    /// moves on to the next fall-backs, enough to reach the quorum if they all answer.
    pub(super) fn on_replica_timeout(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let silent: Vec<NodeId> = match self.requests.open.get(&req) {
            Some(Coordinating::Get(s)) => s.asked.iter().copied().filter(|n| !s.repliers().any(|r| r == *n)).collect(),
            Some(Coordinating::Put(s)) => s.asked.iter().map(|t| t.node).filter(|n| !s.acked.contains(n)).collect(),
            None => return,
        };
        for &p in &silent {
            self.suspect(p, now, env, out);
        }
        if !env.protocol.sloppy_quorum && env.protocol.hinted_handoff {
            // Strict quorums (Cassandra): the coordinator itself keeps a hint for each silent
            // replica, which the hint scan delivers once it answers again.
            if let Some(Coordinating::Put(s)) = self.requests.open.get(&req) {
                if let Some(versions) = s.versions.clone() {
                    let key = s.key;
                    let me = self.id;
                    for &p in silent.iter().filter(|&&p| p != me) {
                        // Cassandra's max_hint_window: a node down longer gets no more hints, and
                        // only repair brings it what it missed.
                        let expired = env.protocol.hint_window.is_some_and(|w| self.detector.suspected_longer_than(p, w, now));
                        if expired {
                            self.stats.hints_not_stored_window += 1;
                        } else {
                            self.store_reconciled(now, env, key, Some(p), &versions);
                        }
                    }
                }
            }
        }
        if !env.protocol.sloppy_quorum || silent.is_empty() {
            return;
        }
        let detector = &self.detector;
        let mut sends = Vec::new();
        match self.requests.open.get_mut(&req) {
            Some(Coordinating::Get(s)) if !s.answered => {
                let missing = s.need.missing(s.repliers(), usize::MAX, |n| env.ring.datacenter_of(n));
                while sends.len() < missing {
                    let Some(next) = take_healthy(&mut s.spare, detector) else { break };
                    s.asked.push(next);
                    sends.push((next, Payload::GetRequest { req, key: s.key, digest: false }));
                }
            }
            Some(Coordinating::Put(s)) => {
                // Every silent target's copy goes to a fall-back, answered or not: the sloppy
                // quorum aims at N copies, and the hint brings the copy home later.
                let Some(versions) = s.versions.clone() else { return };
                let unacked: Vec<Target> = s.asked.iter().copied().filter(|t| !s.acked.contains(&t.node)).collect();
                for failed in unacked {
                    let Some(next) = take_healthy(&mut s.spare, detector) else { break };
                    // The fall-back stands in for the node the failed target was meant to be.
                    let hint = failed.hint.or(Some(failed.node)).filter(|_| env.protocol.hinted_handoff);
                    s.asked.retain(|t| t.node != failed.node);
                    let write_through = failed.write_through;
                    s.asked.push(Target { node: next, hint, write_through });
                    let (key, coordinator, versions) = (s.key, self.id, versions.clone());
                    sends.push((next, Payload::PutRequest { req, key, versions, coordinator, hint, write_through }));
                }
            }
            _ => return,
        }
        let retry = !sends.is_empty();
        for (to, payload) in sends {
            self.stats.fallback_requests += 1;
            out.push(NodeEffect::Send { to: Endpoint::Node(to), payload });
        }
        if retry {
            out.push(NodeEffect::Timer { after: env.protocol.reply_timeout, timer: NodeTimer::ReplicaTimeout(req) });
        } else if let Some(Coordinating::Put(s)) = self.requests.open.get(&req) {
            // No fall-back left to try: an answered write is done.
            if s.answered {
                self.requests.open.remove(&req);
            }
        }
    }

    /// The client's deadline at the coordinator: a request not yet answered fails; an answered
    /// get closes (read repair with the replies so far).
    pub(super) fn on_request_timeout(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(state) = self.requests.open.get(&req) else {
            return; // answered and closed already: a stale timer
        };
        let (client, op, key, answered, get) = match state {
            Coordinating::Get(s) => (s.client, s.op, s.key, s.answered, true),
            Coordinating::Put(s) => (s.client, s.op, s.key, s.answered, false),
        };
        if answered && get {
            self.close_get(now, env, req, out);
        } else if answered {
            self.requests.open.remove(&req);
        } else {
            self.stats.coordinator_timeouts += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Client(client),
                payload: Payload::Reply { op, key, body: ReplyBody::Failed(Failure::CoordinatorTimeout) },
            });
            self.requests.open.remove(&req);
        }
    }
}
