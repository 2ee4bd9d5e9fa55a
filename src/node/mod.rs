//! A storage node: a sans-IO state machine running Dynamo's request protocol.
//!
//! A node owns its durable store (a version set per key, its hint store, and its per-key write
//! counters) and its volatile state (requests it coordinates, which peers it suspects). Handlers
//! take the current time and an environment (ring, key table, protocol settings) and push
//! effects (sends, timers) into an out-buffer; a node never sees the event queue, the network or
//! another node's state, and it learns about failures only from silence (Dynamo §4.8).
//!
//! Coordination (Dynamo §4.5, §6.4): a put's coordinator mints the new version locally (its own
//! dot), stores it, replicates its whole version set to the other replicas and answers after W
//! acknowledgements, itself counted. A get asks the replicas, answers after R replies with every
//! causally maximal version and one context covering them, keeps listening for late replies for
//! a short window, then writes the reconciled set to replicas that returned stale or no data
//! (read repair, §5). Under proxy coordination a node outside the preference list coordinates:
//! it asks the first replica to mint (so that every dot is minted by a node holding the key,
//! which keeps version sets exact) and counts the acknowledgements itself.
//!
//! Sloppy quorum and hinted handoff (§4.6): requests go to the first N nodes of the extended
//! preference list that this node does not suspect. A replica that does not answer within the
//! reply timeout is suspected, and the request moves on to the next fall-back; a write sent to a
//! fall-back carries a hint naming the top-N node it stands in for, and the fall-back keeps it in
//! a separate hint store that it scans periodically, handing each hint to its intended node once
//! it answers again and deleting it after the acknowledgement. Suspected peers are pinged
//! periodically; any message from a peer clears the suspicion.
//!
//! Timers are cancelled lazily: a timer whose request is gone, or whose incarnation is older
//! than the node's (it was set before a crash), is ignored when it fires.

pub mod membership;
pub mod merkle;
pub mod versioning;
use crate::cluster::keyspace::KeyTable;
use crate::cluster::message::{ClientOp, Failure, Payload, PutBody, ReplyBody, Target};
use crate::cluster::ring::{RangeMap, Ring};
use crate::node::membership::{MemberRecord, MemberStatus, Membership};
use crate::node::merkle::{digest, MerkleTree};
use crate::node::versioning::{CausalContext, Dot, Resolution, Sibling, VersionSet};
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, Endpoint, KeyId, NodeId, RequestId};
use crate::sim::inline_vec::InlineVec;
use crate::sim::keymap::KeyMap;
use crate::sim::rng::{index, SimRng};
use std::collections::{BTreeMap, BTreeSet};
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
    /// Route around suspected replicas to fall-backs (off: strict quorums over the top N).
    pub sloppy_quorum: bool,
    /// Keep writes meant for a suspected replica as hints and hand them off later.
    pub hinted_handoff: bool,
    pub hint_scan_interval: SimDuration,
    pub read_repair: bool,
    /// A peer that has not answered a request within this time is suspected.
    pub reply_timeout: SimDuration,
    /// How often suspected peers are pinged.
    pub probe_interval: SimDuration,
    /// Merkle-tree anti-entropy between replicas of each range (Dynamo §4.7).
    pub anti_entropy: bool,
    /// How often each node starts one exchange (for one of its ranges, in turn).
    pub anti_entropy_interval: SimDuration,
    /// Leaves per Merkle tree (a power of two).
    pub merkle_leaves: usize,
    pub conflict: ConflictPolicy,
    /// How often each node gossips its membership view with a random peer.
    pub gossip_interval: SimDuration,
    /// Nodes every node knows of and gossips with too, so that views never split for good.
    pub seeds: Vec<NodeId>,
}

/// How conflicting versions are resolved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Replicas keep concurrent versions as siblings; the client merges them (Dynamo, Riak,
    /// Voldemort).
    VectorClocks,
    /// Replicas keep the version with the latest coordinator timestamp (Cassandra).
    LastWriteWins,
    /// Replicas keep siblings, and the coordinator answers a read with one cart: the union of
    /// the siblings' carts (a convergent, CRDT-like merge; the client never sees siblings).
    MergeCarts,
}

impl ConflictPolicy {
    pub fn resolution(self) -> Resolution {
        match self {
            ConflictPolicy::LastWriteWins => Resolution::LastWriteWins,
            ConflictPolicy::VectorClocks | ConflictPolicy::MergeCarts => Resolution::Siblings,
        }
    }
}

impl Protocol {
    /// How many nodes of the extended preference list a coordinator considers.
    pub fn candidate_count(&self) -> usize {
        if self.sloppy_quorum {
            2 * self.n + 2
        } else {
            self.n
        }
    }
}

/// What a node's handlers may read besides their own state.
pub struct NodeEnv<'a> {
    pub ring: &'a Ring,
    pub ranges: &'a RangeMap,
    pub keys: &'a KeyTable,
    pub protocol: &'a Protocol,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeTimer {
    RequestTimeout(RequestId),
    /// Replicas silent this long are suspected and replaced by fall-backs.
    ReplicaTimeout(RequestId),
    /// End of the late-reply window after a get was answered: time for read repair.
    CloseRequest(RequestId),
    Probe {
        incarnation: u32,
    },
    HintScan {
        incarnation: u32,
    },
    AntiEntropy {
        incarnation: u32,
    },
    Gossip {
        incarnation: u32,
    },
}

impl NodeTimer {
    /// Timers of one request, each kind always of the same length: the world keeps them in a
    /// [`crate::sim::engine::TimeoutQueue`] per kind, given by this index.
    pub fn request_timer_kind(&self) -> Option<usize> {
        match self {
            NodeTimer::RequestTimeout(_) => Some(0),
            NodeTimer::ReplicaTimeout(_) => Some(1),
            NodeTimer::CloseRequest(_) => Some(2),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum NodeEffect {
    Send {
        to: Endpoint,
        payload: Payload,
    },
    Timer {
        after: SimDuration,
        timer: NodeTimer,
    },
    /// The membership view changed: the world builds its ring and calls [`Node::handoff`].
    ViewChanged,
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
    /// Times this node began suspecting a peer.
    pub suspicions: u64,
    /// Requests sent to a fall-back in place of a suspected replica.
    pub fallback_requests: u64,
    pub hints_stored: u64,
    pub hints_delivered: u64,
    pub read_repairs_sent: u64,
    /// Anti-entropy exchanges this node started.
    pub ae_exchanges: u64,
    /// Anti-entropy messages this node received from a peer on another ring, and dropped.
    pub ae_skipped_ring_mismatch: u64,
    /// Anti-entropy messages this node sent, their approximate bytes, and keys they carried.
    pub ae_messages: u64,
    pub ae_bytes: u64,
    pub ae_keys_sent: u64,
    /// Keys whose versions changed because of anti-entropy.
    pub ae_keys_repaired: u64,
    /// Merkle hashes computed to keep the trees current (and to rebuild them on ring changes).
    pub merkle_hashes: u64,
    pub gossip_rounds: u64,
    /// Keys handed to new owners after ring changes, and the messages that carried them.
    pub keys_transferred: u64,
    pub transfer_messages: u64,
    /// When this node's latest handoff started and when its last transfer was acknowledged.
    pub handoff_started_at: Option<SimTime>,
    pub handoff_done_at: Option<SimTime>,
}

/// A request's short lists, inline: with N = 3 they hold three to five nodes (fall-backs are
/// N + 2), and as `Vec`s they were a third of all allocations.
type NodeList = InlineVec<NodeId, 6>;
type Targets = InlineVec<Target, 4>;
type Replies = InlineVec<(NodeId, Option<Rc<VersionSet>>), 4>;

struct GetState {
    client: ClientId,
    op: u64,
    key: KeyId,
    asked: NodeList,
    /// Fall-backs not yet asked, in preference order.
    spare: NodeList,
    replies: Replies,
    answered: bool,
}

struct PutState {
    client: ClientId,
    op: u64,
    key: KeyId,
    asked: Targets,
    acked: NodeList,
    spare: NodeList,
    /// What to write to a fall-back: known once the version is minted.
    versions: Option<Rc<VersionSet>>,
    minted: Option<Rc<CausalContext>>,
    answered: bool,
}

enum Coordinating {
    Get(GetState),
    Put(PutState),
}

/// A handoff awaiting its acknowledgement; resent if none comes within a gossip interval.
struct PendingTransfer {
    target: NodeId,
    keys: Vec<KeyId>,
    sent_at: SimTime,
}

pub struct Node {
    pub id: NodeId,
    store: KeyMap<Rc<VersionSet>>,
    /// Versions kept for another node, by (key, intended node): scanned in this order.
    hints: BTreeMap<(KeyId, NodeId), Rc<VersionSet>>,
    /// Highest counter this node has minted per key; durable, so a dot is never reused.
    minted: FastMap<KeyId, u64>,
    coordinating: FastMap<RequestId, Coordinating>,
    suspected: BTreeSet<NodeId>,
    /// Merkle trees of this node's own keys, by ring range (hints are not in them).
    trees: FastMap<u32, MerkleTree>,
    empty_tree: Option<MerkleTree>,
    ae_cursor: usize,
    /// When anti-entropy last compared each range of this node's ring (as starter or peer):
    /// what a convergence failure names when a range was not reached in time.
    ae_compared_at: FastMap<u32, SimTime>,
    /// Bumped when the disk is lost: a replacement mints dots that can never collide with the
    /// old node's.
    disk_epoch: u64,
    /// This node's membership view (durable).
    /// Shared with the gossip messages that carry it; copied only when it changes.
    view: Rc<Membership>,
    /// Transfers awaiting acknowledgement: id -> keys; and per key how many are outstanding.
    transfers: BTreeMap<u64, PendingTransfer>,
    transferring: FastMap<KeyId, u32>,
    /// Keys stored since the last handoff that this node's own ring says it does not
    /// replicate (sent by peers with an older view); handed off on the next scan.
    strays: BTreeSet<KeyId>,
    next_transfer: u64,
    next_request: u64,
    incarnation: u32,
    /// This node's clock error: its timestamps are simulated time plus this.
    clock_skew_ns: i64,
    rng: SimRng,
    scratch: Vec<NodeId>,
    candidate_buffer: Vec<NodeId>,
    /// Keys whose replica here changed since the observer last asked; kept only when divergence
    /// is sampled, so a sample need check only these and the keys divergent last time.
    changed_keys: Option<Vec<KeyId>>,
    pub stats: NodeStats,
}

impl Node {
    pub fn new(id: NodeId, rng: SimRng) -> Node {
        Node {
            id,
            store: KeyMap::default(),
            hints: BTreeMap::new(),
            minted: FastMap::default(),
            coordinating: FastMap::default(),
            suspected: BTreeSet::new(),
            trees: FastMap::default(),
            empty_tree: None,
            ae_cursor: 0,
            ae_compared_at: FastMap::default(),
            disk_epoch: 0,
            view: Rc::default(),
            transfers: BTreeMap::new(),
            transferring: FastMap::default(),
            strays: BTreeSet::new(),
            next_transfer: 0,
            next_request: 0,
            incarnation: 0,
            clock_skew_ns: 0,
            rng,
            scratch: Vec::new(),
            candidate_buffer: Vec::new(),
            changed_keys: None,
            stats: NodeStats::default(),
        }
    }

    /// This node's own replica of a key (hints excluded).
    pub fn versions(&self, key: KeyId) -> Option<&Rc<VersionSet>> {
        self.store.get(&key)
    }

    /// From now on, remembers which keys' replicas change (see [`Node::drain_changed_keys`]).
    pub fn record_changed_keys(&mut self) {
        self.changed_keys.get_or_insert_with(Vec::new);
    }

    /// Moves the keys whose replica changed since the last call into `into` (with repeats).
    pub fn drain_changed_keys(&mut self, into: &mut Vec<KeyId>) {
        if let Some(changed) = &mut self.changed_keys {
            into.append(changed);
        }
    }

    fn note_changed(&mut self, key: KeyId) {
        if let Some(changed) = &mut self.changed_keys {
            changed.push(key);
        }
    }

    /// See [`KeyMap::prefetch`].
    pub fn prefetch(&self, key: KeyId) {
        self.store.prefetch(key);
    }

    /// Every version set this node holds for a key: its own and any hints.
    pub fn all_versions(&self, key: KeyId) -> impl Iterator<Item = &Rc<VersionSet>> {
        let hints = (!self.hints.is_empty()).then(|| self.hints.range((key, NodeId(0))..=(key, NodeId(u32::MAX))));
        self.store.get(&key).into_iter().chain(hints.into_iter().flatten().map(|(_, v)| v))
    }

    /// Visits every version set this node holds, its own and hints (in no particular order).
    pub fn for_each_version_set(&self, mut f: impl FnMut(KeyId, &VersionSet)) {
        for (key, set) in self.store.iter() {
            f(*key, set);
        }
        for ((key, _), set) in &self.hints {
            f(*key, set);
        }
    }

    /// Hints waiting for delivery, in scan order: (key, intended node).
    pub fn pending_hints(&self) -> impl Iterator<Item = (KeyId, NodeId)> + '_ {
        self.hints.keys().copied()
    }

    /// When anti-entropy last compared `range` of this node's current ring here.
    pub fn range_compared_at(&self, range: u32) -> Option<SimTime> {
        self.ae_compared_at.get(&range).copied()
    }

    pub fn suspects(&self, peer: NodeId) -> bool {
        self.suspected.contains(&peer)
    }

    /// Starts the periodic timers (at time zero and after every restart).
    pub fn start(&mut self, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let incarnation = self.incarnation;
        out.push(NodeEffect::Timer { after: env.protocol.probe_interval, timer: NodeTimer::Probe { incarnation } });
        if env.protocol.hinted_handoff {
            out.push(NodeEffect::Timer { after: env.protocol.hint_scan_interval, timer: NodeTimer::HintScan { incarnation } });
        }
        let first_gossip = SimDuration(env.protocol.gossip_interval.as_nanos() / 2 + self.id.0 as u64 * 1_000);
        out.push(NodeEffect::Timer { after: first_gossip, timer: NodeTimer::Gossip { incarnation } });
        if env.protocol.anti_entropy {
            // Stagger the first exchange so nodes do not all start in the same instant.
            let first = SimDuration(env.protocol.anti_entropy_interval.as_nanos() / 2 + self.id.0 as u64 * 1_000);
            out.push(NodeEffect::Timer { after: first, timer: NodeTimer::AntiEntropy { incarnation } });
        }
    }

    pub fn view(&self) -> &Membership {
        &self.view
    }

    /// Sets the view (at start, or when the operator joins or removes a node through this one).
    pub fn set_view(&mut self, view: Membership) {
        self.view = Rc::new(view);
    }

    /// The operator's command to this node: mark `node` with `status` in this node's view.
    pub fn record_membership_change(&mut self, node: NodeId, status: MemberStatus) {
        Rc::make_mut(&mut self.view).set(node, status);
    }

    /// The operator's command to this node, with the record's version chosen by the operator.
    pub fn put_membership_record(&mut self, node: NodeId, record: MemberRecord) {
        Rc::make_mut(&mut self.view).put(node, record);
    }

    /// A leaving node that has handed everything off can stop.
    pub fn is_drained(&self) -> bool {
        // The cheap tests first: this runs after every handler.
        self.store.is_empty()
            && self.hints.is_empty()
            && self.transfers.is_empty()
            && self.view.get(self.id).is_some_and(|r| r.status == MemberStatus::Leaving)
    }

    pub fn set_clock_skew(&mut self, skew_ns: i64) {
        self.clock_skew_ns = skew_ns;
    }

    /// What this node's clock reads: simulated time plus its skew.
    fn local_clock(&self, now: SimTime) -> SimTime {
        SimTime(now.as_nanos().saturating_add_signed(self.clock_skew_ns))
    }

    /// A permanent failure: the disk is gone and the node comes back empty, as a replacement.
    pub fn lose_disk(&mut self) {
        if let Some(changed) = &mut self.changed_keys {
            changed.extend(self.store.keys());
        }
        self.store.clear();
        self.hints.clear();
        self.minted.clear();
        self.trees.clear();
        self.disk_epoch += 1;
    }

    /// A crash: volatile state (requests being coordinated, suspicions) is lost; the store, the
    /// hint store and the minted counters are durable. Timers set before the crash are ignored.
    pub fn crash(&mut self) {
        self.coordinating.clear();
        self.suspected.clear();
        self.incarnation += 1;
    }

    /// Whether a request's timer would still do anything: false once the request is closed,
    /// which is final (request ids are never reused).
    pub fn awaits(&self, timer: &NodeTimer) -> bool {
        match timer {
            NodeTimer::RequestTimeout(req) | NodeTimer::ReplicaTimeout(req) | NodeTimer::CloseRequest(req) => {
                self.coordinating.contains_key(req)
            }
            _ => true,
        }
    }

    fn new_request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(((self.id.0 as u64) << 40) | self.next_request)
    }

    /// The extended preference list: top N first, then fall-backs (in a buffer the caller
    /// hands back to `candidate_buffer`).
    fn candidates(&mut self, env: &NodeEnv, key: KeyId) -> Vec<NodeId> {
        let mut list = std::mem::take(&mut self.candidate_buffer);
        env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.candidate_count(), &mut list);
        list
    }

    fn suspect(&mut self, peer: NodeId) {
        if peer != self.id && self.suspected.insert(peer) {
            self.stats.suspicions += 1;
        }
    }

    /// The first N nodes of `list` this node does not suspect (all of the top N under strict
    /// quorums); a fall-back carries a hint for the suspected top-N node it replaces. Returns the
    /// targets and the fall-backs left over.
    fn select(&self, env: &NodeEnv, list: &[NodeId]) -> (Targets, NodeList) {
        let n = env.protocol.n.min(list.len());
        if !env.protocol.sloppy_quorum || self.suspected.is_empty() {
            // Strict quorums ask the top N whatever; with nobody suspected (the usual case) a
            // sloppy quorum asks them too and keeps the rest, in order, as fall-backs.
            let spare = if env.protocol.sloppy_quorum { list[n..].into() } else { NodeList::new() };
            return (list[..n].iter().map(|&node| Target { node, hint: None }).collect(), spare);
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
                targets.push(Target { node, hint });
            } else {
                spare.push(node);
            }
        }
        (targets, spare)
    }

    /// Which targets to ask: all, or `count` of them at random with this node first when it is
    /// one of them (a local read or write costs no message).
    fn fan_out(&mut self, env: &NodeEnv, targets: Targets, count: usize) -> Targets {
        match env.protocol.fanout {
            Fanout::All => targets,
            Fanout::Quorum => {
                let mut pool: Targets = targets.iter().copied().filter(|t| t.node != self.id).collect();
                let mut chosen: Targets = targets.iter().copied().filter(|t| t.node == self.id).collect();
                while chosen.len() < count && !pool.is_empty() {
                    let i = index(&mut self.rng, pool.len());
                    chosen.push(pool.swap_remove(i));
                }
                chosen
            }
        }
    }

    /// Handles one message: each kind goes to the component that owns it.
    pub fn on_message(&mut self, now: SimTime, env: &NodeEnv, from: Endpoint, payload: Payload, out: &mut Vec<NodeEffect>) {
        if let Endpoint::Node(peer) = from {
            self.heard_from(peer);
        }
        match payload {
            Payload::ClientGet(op) => self.on_client_request(now, env, op, None, out),
            Payload::ClientPut(op, body) => self.on_client_request(now, env, op, Some(body), out),
            Payload::GetRequest { req, key } => self.on_get_request(now, env, from, req, key, out),
            Payload::GetReply { req, versions, .. } => {
                if let Endpoint::Node(replica) = from {
                    self.on_get_reply(now, env, req, replica, versions, out);
                }
            }
            Payload::PutRequest { req, key, versions, coordinator, hint } => {
                self.on_put_request(now, env, req, key, &versions, coordinator, hint, out)
            }
            Payload::MintRequest { req, key, body, hint, others } => {
                if let Endpoint::Node(coordinator) = from {
                    self.on_mint_request(now, env, coordinator, req, key, &body, hint, others, out);
                }
            }
            Payload::PutAck { req, minted, .. } => {
                if let Endpoint::Node(replica) = from {
                    self.on_put_ack(env, req, replica, minted, out);
                }
            }
            Payload::ReadRepair { key, versions } => self.on_read_repair(now, env, key, &versions),
            Payload::Hint { key, versions } => self.on_hint(now, env, from, key, versions, out),
            Payload::HintAck { key, versions } => {
                if let Endpoint::Node(intended) = from {
                    self.on_hint_ack(intended, key, &versions);
                }
            }
            Payload::Ping => out.push(NodeEffect::Send { to: from, payload: Payload::Pong }),
            Payload::Gossip { view, reply } => self.on_gossip(from, view, reply, out),
            Payload::Transfer { id, entries, view } => self.on_transfer(now, env, from, id, &entries, &view, out),
            Payload::TransferAck { id, view } => self.on_transfer_ack(now, env, id, &view, out),
            Payload::AeCompare { ring, range, hashes } => self.on_ae_compare(now, env, from, ring, range, &hashes, out),
            Payload::AeKeys { ring, range, leaves, entries, reply } => {
                self.on_ae_keys(now, env, from, ring, range, leaves, &entries, reply, out)
            }
            Payload::Pong | Payload::Reply { .. } => {}
        }
    }

    fn on_get_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        req: RequestId,
        key: KeyId,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let versions = self.local_read(now, env, key);
        out.push(NodeEffect::Send { to: from, payload: Payload::GetReply { req, key, versions } });
    }

    #[allow(clippy::too_many_arguments)]
    fn on_put_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        req: RequestId,
        key: KeyId,
        versions: &Rc<VersionSet>,
        coordinator: NodeId,
        hint: Option<NodeId>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, hint, versions);
        out.push(NodeEffect::Send { to: Endpoint::Node(coordinator), payload: Payload::PutAck { req, key, minted: None } });
    }

    /// Proxy coordination: this replica mints the version, replicates it to `others` and
    /// answers the coordinator with what it minted.
    #[allow(clippy::too_many_arguments)]
    fn on_mint_request(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        coordinator: NodeId,
        req: RequestId,
        key: KeyId,
        body: &PutBody,
        hint: Option<NodeId>,
        others: Vec<Target>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        let (versions, minted) = self.mint(now, env, key, body, hint);
        for t in others {
            let payload = Payload::PutRequest { req, key, versions: versions.clone(), coordinator, hint: t.hint };
            out.push(NodeEffect::Send { to: Endpoint::Node(t.node), payload });
        }
        out.push(NodeEffect::Send {
            to: Endpoint::Node(coordinator),
            payload: Payload::PutAck { req, key, minted: Some((minted, versions)) },
        });
    }

    fn on_read_repair(&mut self, now: SimTime, env: &NodeEnv, key: KeyId, versions: &Rc<VersionSet>) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, None, versions);
    }

    /// A hint delivered by the fall-back that kept it: stored, and acknowledged with the very
    /// set delivered so the fall-back can tell whether its hint changed since.
    fn on_hint(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        key: KeyId,
        versions: Rc<VersionSet>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.store_reconciled(now, env, key, None, &versions);
        out.push(NodeEffect::Send { to: from, payload: Payload::HintAck { key, versions } });
    }

    fn on_hint_ack(&mut self, intended: NodeId, key: KeyId, versions: &Rc<VersionSet>) {
        // Delete only what was delivered: a hint updated since stays for the next scan.
        if self.hints.get(&(key, intended)).is_some_and(|h| Rc::ptr_eq(h, versions)) {
            self.hints.remove(&(key, intended));
            self.stats.hints_delivered += 1;
        }
    }

    /// Sends every hint whose intended node is not suspected (after re-addressing those whose
    /// node has left).
    fn scan_hints(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        self.readdress_hints_of_departed(now, env);
        for (&(key, intended), versions) in &self.hints {
            if !self.suspected.contains(&intended) {
                out.push(NodeEffect::Send {
                    to: Endpoint::Node(intended),
                    payload: Payload::Hint { key, versions: versions.clone() },
                });
            }
        }
    }

    fn on_gossip(&mut self, from: Endpoint, view: Rc<Membership>, reply: bool, out: &mut Vec<NodeEffect>) {
        if Rc::ptr_eq(&view, &self.view) || *view == *self.view {
            // Agreement is the usual case once gossip has converged. Keeping the more
            // widely shared of two equal copies makes the nodes settle on one, so later
            // comparisons are pointer tests (share counts are simulation state, so the
            // choice is as deterministic as the rest).
            if Rc::strong_count(&view) >= Rc::strong_count(&self.view) {
                self.view = view;
            }
        } else {
            if Rc::make_mut(&mut self.view).merge(&view) {
                out.push(NodeEffect::ViewChanged);
            }
            if reply && *view != *self.view {
                let payload = Payload::Gossip { view: self.view.clone(), reply: false };
                out.push(NodeEffect::Send { to: from, payload });
            }
        }
    }

    /// One gossip round: this node's view to a random peer it knows of, or a seed.
    fn gossip_round(&mut self, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        // Known nodes come sorted; seeds join them in order.
        let mut peers: Vec<NodeId> = self.view.known().filter(|&p| p != self.id).collect();
        for &seed in env.protocol.seeds.iter().filter(|&&s| s != self.id) {
            if let Err(at) = peers.binary_search(&seed) {
                peers.insert(at, seed);
            }
        }
        if !peers.is_empty() {
            let peer = peers[index(&mut self.rng, peers.len())];
            self.stats.gossip_rounds += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Node(peer),
                payload: Payload::Gossip { view: self.view.clone(), reply: true },
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_transfer(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        id: u64,
        entries: &[(KeyId, Rc<VersionSet>)],
        view: &Rc<Membership>,
        out: &mut Vec<NodeEffect>,
    ) {
        self.stats.requests_served += 1;
        self.adopt_view(view, out);
        for (key, versions) in entries {
            self.store_reconciled(now, env, *key, None, versions);
        }
        out.push(NodeEffect::Send { to: from, payload: Payload::TransferAck { id, view: self.view.clone() } });
    }

    #[allow(clippy::too_many_arguments)]
    fn on_ae_keys(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        ring: u64,
        range: u32,
        leaves: Vec<u32>,
        entries: &[(KeyId, Rc<VersionSet>)],
        reply: bool,
        out: &mut Vec<NodeEffect>,
    ) {
        if !self.same_ring(env, ring) {
            return;
        }
        self.stats.requests_served += 1;
        for (key, versions) in entries {
            if self.store_reconciled(now, env, *key, None, versions) {
                self.stats.ae_keys_repaired += 1;
            }
        }
        if reply {
            let entries = self.entries_under(range, &leaves);
            let ring = env.ring.fingerprint();
            self.send_ae(from, Payload::AeKeys { ring, range, leaves, entries, reply: false }, out);
        }
    }

    /// Ranges mean the same only on the same ring: a peer with another view is skipped until
    /// gossip brings the two views together.
    fn same_ring(&mut self, env: &NodeEnv, ring: u64) -> bool {
        let same = ring == env.ring.fingerprint();
        self.stats.ae_skipped_ring_mismatch += (!same) as u64;
        same
    }

    /// Any word from a peer shows it is alive.
    fn heard_from(&mut self, peer: NodeId) {
        self.suspected.remove(&peer);
    }

    /// Pings every suspected peer; an answer (any message) clears the suspicion.
    fn probe(&self, out: &mut Vec<NodeEffect>) {
        for &peer in &self.suspected {
            out.push(NodeEffect::Send { to: Endpoint::Node(peer), payload: Payload::Ping });
        }
    }

    /// The client's deadline at the coordinator: a request not yet answered fails; an answered
    /// get closes (read repair with the replies so far).
    fn on_request_timeout(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(state) = self.coordinating.get(&req) else {
            return; // answered and closed already: a stale timer
        };
        let (client, op, key, answered, get) = match state {
            Coordinating::Get(s) => (s.client, s.op, s.key, s.answered, true),
            Coordinating::Put(s) => (s.client, s.op, s.key, s.answered, false),
        };
        if answered && get {
            self.close_get(now, env, req, out);
        } else if answered {
            self.coordinating.remove(&req);
        } else {
            self.stats.coordinator_timeouts += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Client(client),
                payload: Payload::Reply { op, key, body: ReplyBody::Failed(Failure::CoordinatorTimeout) },
            });
            self.coordinating.remove(&req);
        }
    }

    /// This node's versions of a key, including hints it keeps for others (a fall-back in the
    /// first N healthy nodes answers reads with what it holds).
    fn local_read(&self, now: SimTime, env: &NodeEnv, key: KeyId) -> Option<Rc<VersionSet>> {
        let mut sets = self.all_versions(key);
        let first = sets.next()?.clone();
        let mut merged: Option<VersionSet> = None;
        for s in sets {
            merged.get_or_insert_with(|| (*first).clone()).reconcile_with(env.protocol.conflict.resolution(), s, now);
        }
        Some(merged.map_or(first, Rc::new))
    }

    fn on_client_request(&mut self, now: SimTime, env: &NodeEnv, op: ClientOp, put: Option<PutBody>, out: &mut Vec<NodeEffect>) {
        let list = self.candidates(env, op.key);
        self.route_client_request(now, env, op, put, &list, out);
        self.candidate_buffer = list;
    }

    /// Coordinates a client request, or forwards it when this node is not among the top N.
    fn route_client_request(
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
        let coordinates = in_list || env.protocol.coordination == Coordination::Proxy || op.forwarded || list.is_empty();
        if !coordinates {
            // Dynamo §4.5: a node outside the top N forwards to the first of them it believes up.
            let to = list[..n].iter().copied().find(|p| !self.suspects(*p)).unwrap_or(list[0]);
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

    fn coordinate_get(&mut self, now: SimTime, env: &NodeEnv, op: ClientOp, list: &[NodeId], out: &mut Vec<NodeEffect>) {
        self.stats.gets_coordinated += 1;
        let req = self.new_request();
        let (targets, spare) = self.select(env, list);
        let asked = self.fan_out(env, targets, env.protocol.r);
        let mut state = GetState {
            client: op.client,
            op: op.op,
            key: op.key,
            asked: asked.iter().map(|t| t.node).collect(),
            spare,
            replies: Replies::new(),
            answered: false,
        };
        for t in &asked {
            if t.node == self.id {
                state.replies.push((t.node, self.local_read(now, env, op.key)));
            } else {
                out.push(NodeEffect::Send { to: Endpoint::Node(t.node), payload: Payload::GetRequest { req, key: op.key } });
            }
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        out.push(NodeEffect::Timer { after: env.protocol.reply_timeout, timer: NodeTimer::ReplicaTimeout(req) });
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

    /// Answers the client once R replies are in, and closes the request (with read repair) once
    /// every replica asked has answered or the late-reply window has passed.
    fn advance_get(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.coordinating.get_mut(&req) else {
            return;
        };
        if !state.answered && state.replies.len() >= env.protocol.r.min(state.asked.len()) {
            state.answered = true;
            // Reconciling equal sets gives that set (reconciliation is idempotent), so replicas
            // that agree, the usual case, cost no merge.
            let (context, read) = match agreed_replies(&state.replies) {
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
                payload: Payload::Reply {
                    op: state.op,
                    key: state.key,
                    body: ReplyBody::Get {
                        versions: versions_seen(env.protocol.conflict, &read.siblings),
                        read,
                        context,
                        fastest,
                    },
                },
            });
            if state.replies.len() < state.asked.len() && env.protocol.read_repair_window > SimDuration::ZERO {
                out.push(NodeEffect::Timer { after: env.protocol.read_repair_window, timer: NodeTimer::CloseRequest(req) });
                return;
            }
        }
        if state.answered && (state.replies.len() >= state.asked.len() || env.protocol.read_repair_window == SimDuration::ZERO) {
            self.close_get(now, env, req, out);
        }
    }

    /// Ends a get; with read repair on, writes the reconciled versions to every top-N replica
    /// that answered with less (Dynamo §5).
    fn close_get(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Get(state)) = self.coordinating.remove(&req) else {
            return;
        };
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
        let (targets, spare) = self.select(env, list);
        let mut state = PutState {
            client: op.client,
            op: op.op,
            key: op.key,
            asked: Targets::new(),
            acked: NodeList::new(),
            spare,
            versions: None,
            minted: None,
            answered: false,
        };
        if in_list {
            let chosen = self.fan_out(env, targets, env.protocol.w);
            let (versions, minted) = self.mint(now, env, op.key, &body, None);
            state.acked.push(self.id);
            state.minted = Some(minted);
            for t in chosen.iter().filter(|t| t.node != self.id) {
                let payload =
                    Payload::PutRequest { req, key: op.key, versions: versions.clone(), coordinator: self.id, hint: t.hint };
                out.push(NodeEffect::Send { to: Endpoint::Node(t.node), payload });
            }
            state.asked = chosen;
            state.versions = Some(versions);
        } else if let Some((&lead, rest)) = targets.split_first() {
            // Proxy coordination from outside the list: the first healthy replica mints.
            let others: Vec<Target> = match env.protocol.fanout {
                Fanout::All => rest.to_vec(),
                Fanout::Quorum => {
                    let mut pool = rest.to_vec();
                    let mut chosen = Vec::new();
                    while chosen.len() + 1 < env.protocol.w && !pool.is_empty() {
                        let i = index(&mut self.rng, pool.len());
                        chosen.push(pool.swap_remove(i));
                    }
                    chosen
                }
            };
            state.asked.push(lead);
            state.asked.extend(others.iter().copied());
            let payload = Payload::MintRequest { req, key: op.key, body, hint: lead.hint, others };
            out.push(NodeEffect::Send { to: Endpoint::Node(lead.node), payload });
        }
        out.push(NodeEffect::Timer { after: env.protocol.request_timeout, timer: NodeTimer::RequestTimeout(req) });
        out.push(NodeEffect::Timer { after: env.protocol.reply_timeout, timer: NodeTimer::ReplicaTimeout(req) });
        self.coordinating.insert(req, Coordinating::Put(state));
        self.advance_put(env, req, out);
    }

    fn on_put_ack(
        &mut self,
        env: &NodeEnv,
        req: RequestId,
        replica: NodeId,
        minted: Option<(Rc<CausalContext>, Rc<VersionSet>)>,
        out: &mut Vec<NodeEffect>,
    ) {
        let Some(Coordinating::Put(state)) = self.coordinating.get_mut(&req) else {
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
    fn advance_put(&mut self, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let Some(Coordinating::Put(state)) = self.coordinating.get_mut(&req) else {
            return;
        };
        if !state.answered && state.acked.len() >= env.protocol.w {
            if let Some(context) = &state.minted {
                state.answered = true;
                out.push(NodeEffect::Send {
                    to: Endpoint::Client(state.client),
                    payload: Payload::Reply { op: state.op, key: state.key, body: ReplyBody::Put { context: context.clone() } },
                });
            }
        }
        if state.answered && state.asked.iter().all(|t| state.acked.contains(&t.node)) {
            self.coordinating.remove(&req);
        }
    }

    /// Replicas silent past the reply timeout are suspected; under sloppy quorum the request
    /// moves on to the next fall-backs, enough to reach the quorum if they all answer.
    fn on_replica_timeout(&mut self, now: SimTime, env: &NodeEnv, req: RequestId, out: &mut Vec<NodeEffect>) {
        let silent: Vec<NodeId> = match self.coordinating.get(&req) {
            Some(Coordinating::Get(s)) => s.asked.iter().copied().filter(|n| !s.replies.iter().any(|(r, _)| r == n)).collect(),
            Some(Coordinating::Put(s)) => s.asked.iter().map(|t| t.node).filter(|n| !s.acked.contains(n)).collect(),
            None => return,
        };
        for &p in &silent {
            self.suspect(p);
        }
        if !env.protocol.sloppy_quorum && env.protocol.hinted_handoff {
            // Strict quorums (Cassandra): the coordinator itself keeps a hint for each silent
            // replica, which the hint scan delivers once it answers again.
            if let Some(Coordinating::Put(s)) = self.coordinating.get(&req) {
                if let Some(versions) = s.versions.clone() {
                    let key = s.key;
                    let me = self.id;
                    for &p in silent.iter().filter(|&&p| p != me) {
                        self.store_reconciled(now, env, key, Some(p), &versions);
                    }
                }
            }
        }
        if !env.protocol.sloppy_quorum || silent.is_empty() {
            return;
        }
        let suspected = &self.suspected;
        let mut sends = Vec::new();
        match self.coordinating.get_mut(&req) {
            Some(Coordinating::Get(s)) if !s.answered => {
                let missing = env.protocol.r.saturating_sub(s.replies.len());
                while sends.len() < missing {
                    let Some(next) = take_healthy(&mut s.spare, suspected) else { break };
                    s.asked.push(next);
                    sends.push((next, Payload::GetRequest { req, key: s.key }));
                }
            }
            Some(Coordinating::Put(s)) => {
                // Every silent target's copy goes to a fall-back, answered or not: the sloppy
                // quorum aims at N copies, and the hint brings the copy home later.
                let Some(versions) = s.versions.clone() else { return };
                let unacked: Vec<Target> = s.asked.iter().copied().filter(|t| !s.acked.contains(&t.node)).collect();
                for failed in unacked {
                    let Some(next) = take_healthy(&mut s.spare, suspected) else { break };
                    // The fall-back stands in for the node the failed target was meant to be.
                    let hint = failed.hint.or(Some(failed.node)).filter(|_| env.protocol.hinted_handoff);
                    s.asked.retain(|t| t.node != failed.node);
                    s.asked.push(Target { node: next, hint });
                    let coordinator = self.id;
                    sends.push((next, Payload::PutRequest { req, key: s.key, versions: versions.clone(), coordinator, hint }));
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
        } else if let Some(Coordinating::Put(s)) = self.coordinating.get(&req) {
            // No fall-back left to try: an answered write is done.
            if s.answered {
                self.coordinating.remove(&req);
            }
        }
    }

    /// Mints a new version of `key` from a client's put and stores it (as a hint when this node
    /// stands in for `hint`); returns the updated version set (to replicate) and the context the
    /// client has after its write.
    fn mint(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        body: &PutBody,
        hint: Option<NodeId>,
    ) -> (Rc<VersionSet>, Rc<CausalContext>) {
        let intended = hint.filter(|h| *h != self.id);
        let mut slot = match intended {
            Some(intended) => {
                if !self.hints.contains_key(&(key, intended)) {
                    self.stats.hints_stored += 1;
                }
                self.hints.remove(&(key, intended)).unwrap_or_default()
            }
            None => self.store.remove(&key).unwrap_or_default(),
        };
        let old_digest = digest(key, &slot);
        let minted = self.minted.entry(key).or_insert(0);
        let floor = self.disk_epoch << 40;
        let counter = (*minted).max(floor).max(slot.max_counter(self.id)).max(body.context.clock.get(self.id)) + 1;
        *minted = counter;
        let dot = Dot { node: self.id, counter };
        let sibling = Sibling { dot, written_at: self.local_clock(now), write: body.write, cart: body.cart.clone() };
        let versions = Rc::make_mut(&mut slot);
        if versions.apply_write_with(env.protocol.conflict.resolution(), &body.context, sibling, now) {
            self.stats.concurrent_writes += 1;
        }
        self.stats.clock_entries_truncated += versions.truncate(env.protocol.clock_truncation_threshold) as u64;
        let mut after = (*body.context).clone();
        after.add_dot(dot, now);
        match intended {
            Some(intended) => {
                self.hints.insert((key, intended), slot.clone());
            }
            None => {
                let new_digest = digest(key, &slot);
                self.store.insert(key, slot.clone());
                self.note_changed(key);
                self.track(env, key, old_digest, new_digest);
                self.note_if_stray(env, key);
            }
        }
        (slot, Rc::new(after))
    }

    /// Keeps the key's Merkle tree current after its digest changed.
    fn track(&mut self, env: &NodeEnv, key: KeyId, old: u64, new: u64) {
        if !env.protocol.anti_entropy || old == new {
            return;
        }
        let position = env.keys.position(key);
        let range = env.ring.range_of(position);
        let leaves = env.protocol.merkle_leaves;
        let tree = self.trees.entry(range).or_insert_with(|| MerkleTree::new(leaves));
        self.stats.merkle_hashes += tree.update(key, position, old, new);
    }

    /// Reconciles incoming versions into the store, or into the hint store when they are held
    /// for another node; returns whether anything changed.
    fn store_reconciled(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        key: KeyId,
        hint: Option<NodeId>,
        incoming: &Rc<VersionSet>,
    ) -> bool {
        let intended = hint.filter(|h| *h != self.id);
        let current = match intended {
            Some(i) => self.hints.get(&(key, i)),
            None => self.store.get(&key),
        };
        let updated = match current {
            Some(slot) if Rc::ptr_eq(slot, incoming) || **slot == **incoming => return false,
            Some(slot) if !(slot.is_empty() && slot.superseded.is_empty()) => {
                let mut merged = (**slot).clone();
                if !merged.reconcile_with(env.protocol.conflict.resolution(), incoming, now) {
                    return false;
                }
                self.stats.clock_entries_truncated += merged.truncate(env.protocol.clock_truncation_threshold) as u64;
                // Usually the incoming set supersedes what was here, and the merge is that set:
                // sharing it saves the copy and lets the next read's replies agree at a glance.
                if merged == **incoming {
                    incoming.clone()
                } else {
                    Rc::new(merged)
                }
            }
            _ => incoming.clone(),
        };
        match intended {
            Some(i) => {
                if self.hints.insert((key, i), updated).is_none() {
                    self.stats.hints_stored += 1;
                }
            }
            None => {
                let old = self.store.get(&key).map_or(0, |v| digest(key, v));
                let new = digest(key, &updated);
                self.store.insert(key, updated);
                self.note_changed(key);
                self.track(env, key, old, new);
                self.note_if_stray(env, key);
            }
        }
        true
    }

    /// Hints for a node that has left the ring (in this node's view) can never be delivered to
    /// it: they go to the key's current replicas instead, as a new hint each (or into this
    /// node's own store when it is one of them), so a decommission strands no acknowledged write.
    fn readdress_hints_of_departed(&mut self, now: SimTime, env: &NodeEnv) {
        let departed = |n: NodeId| self.view.get(n).is_some_and(|r| r.status == MemberStatus::Leaving);
        let stranded: Vec<(KeyId, NodeId)> = self.hints.keys().copied().filter(|&(_, n)| departed(n)).collect();
        for (key, intended) in stranded {
            let Some(versions) = self.hints.remove(&(key, intended)) else { continue };
            for owner in env.ring.top_n(env.keys.position(key), env.protocol.n) {
                self.store_reconciled(now, env, key, Some(owner), &versions);
            }
        }
    }

    fn note_if_stray(&mut self, env: &NodeEnv, key: KeyId) {
        let mut top = std::mem::take(&mut self.scratch);
        env.ring.cached_list(key, || env.keys.position(key), env.protocol.n, env.protocol.n, &mut top);
        if !top.contains(&self.id) {
            self.strays.insert(key);
        }
        self.scratch = top;
    }

    /// Hands off the strays: keys this node holds but does not replicate, to the nodes that do.
    /// Handing misplaced copies home is hinted handoff's job, so it runs only with it on;
    /// without it a fall-back keeps what it was given, as Dynamo's would.
    fn hand_off_strays(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        if !env.protocol.hinted_handoff {
            self.strays.clear();
            return;
        }
        // A key still in transfer waits for the next scan: the version sent may predate the
        // one that made it a stray again, and the ack must not delete what was never sent.
        let (strays, in_transfer): (BTreeSet<KeyId>, BTreeSet<KeyId>) =
            std::mem::take(&mut self.strays).into_iter().partition(|k| !self.transferring.contains_key(k));
        self.strays = in_transfer;
        let mut batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>> = BTreeMap::new();
        for key in strays {
            let top = env.ring.top_n(env.keys.position(key), env.protocol.n);
            if top.contains(&self.id) {
                continue;
            }
            if let Some(v) = self.store.get(&key) {
                for t in top {
                    batches.entry(t).or_default().push((key, v.clone()));
                }
            }
        }
        self.send_transfers(now, batches, out);
    }

    fn send_transfers(
        &mut self,
        now: SimTime,
        batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>>,
        out: &mut Vec<NodeEffect>,
    ) {
        if batches.is_empty() {
            return;
        }
        if self.transfers.is_empty() {
            self.stats.handoff_started_at = Some(now);
            self.stats.handoff_done_at = None;
        }
        for (target, entries) in batches {
            for chunk in entries.chunks(64) {
                self.next_transfer += 1;
                let id = self.next_transfer;
                let keys: Vec<KeyId> = chunk.iter().map(|(k, _)| *k).collect();
                for k in &keys {
                    *self.transferring.entry(*k).or_insert(0) += 1;
                }
                self.stats.keys_transferred += keys.len() as u64;
                self.stats.transfer_messages += 1;
                self.transfers.insert(id, PendingTransfer { target, keys, sent_at: now });
                out.push(NodeEffect::Send {
                    to: Endpoint::Node(target),
                    payload: Payload::Transfer { id, entries: chunk.to_vec(), view: self.view.clone() },
                });
            }
        }
    }

    /// After this node's ring changed from `old` to `env.ring`: hands every key it no longer
    /// replicates to the nodes that newly do (Dynamo §4.9), and rebuilds its Merkle trees, whose
    /// ranges moved. A key is deleted once every new owner has acknowledged it.
    pub fn handoff(&mut self, now: SimTime, old: &Ring, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let n = env.protocol.n;
        let mut keys: Vec<KeyId> = self.store.keys().copied().collect();
        keys.sort_unstable();
        let mut batches: BTreeMap<NodeId, Vec<(KeyId, Rc<VersionSet>)>> = BTreeMap::new();
        for &key in &keys {
            let position = env.keys.position(key);
            let new_top = env.ring.top_n(position, n);
            if new_top.contains(&self.id) {
                continue;
            }
            let old_top = old.top_n(position, n);
            let mut targets: Vec<NodeId> = new_top.iter().copied().filter(|t| !old_top.contains(t)).collect();
            if targets.is_empty() {
                targets = new_top;
            }
            for t in targets {
                if let Some(v) = self.store.get(&key) {
                    batches.entry(t).or_default().push((key, v.clone()));
                }
            }
        }
        self.strays.clear();
        self.send_transfers(now, batches, out);
        self.rebuild_trees(env);
    }

    /// Merges a peer's view into this node's; returns whether it changed (the world then
    /// rebuilds this node's ring and runs [`Node::handoff`]).
    fn adopt_view(&mut self, view: &Rc<Membership>, out: &mut Vec<NodeEffect>) -> bool {
        if Rc::ptr_eq(view, &self.view) || !Rc::make_mut(&mut self.view).merge(view) {
            return false;
        }
        out.push(NodeEffect::ViewChanged);
        true
    }

    /// A transfer was acknowledged: a key handed to every new owner is deleted here, unless
    /// this node's view has just changed (`env.ring` is then the old ring, and the handoff
    /// that follows decides afresh what this node still owns).
    fn on_transfer_ack(&mut self, now: SimTime, env: &NodeEnv, id: u64, view: &Rc<Membership>, out: &mut Vec<NodeEffect>) {
        let view_changed = self.adopt_view(view, out);
        let Some(PendingTransfer { keys, .. }) = self.transfers.remove(&id) else { return };
        for key in keys {
            let outstanding = self.transferring.get_mut(&key).map(|c| {
                *c -= 1;
                *c
            });
            if outstanding == Some(0) {
                self.transferring.remove(&key);
                // A stray changed since it was sent: kept until the next scan hands it off.
                if !view_changed
                    && !self.strays.contains(&key)
                    && !env.ring.top_n(env.keys.position(key), env.protocol.n).contains(&self.id)
                {
                    let old = self.store.remove(&key).map_or(0, |v| digest(key, &v));
                    self.note_changed(key);
                    self.track(env, key, old, 0);
                }
            }
        }
        if self.transfers.is_empty() {
            self.stats.handoff_done_at = Some(now);
        }
    }

    /// Resends handoffs unacknowledged for a gossip interval (the message or its ack was lost),
    /// with the keys' current versions, so a leaving node still drains on a lossy network.
    fn resend_transfers(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let patience = env.protocol.gossip_interval;
        for (&id, t) in self.transfers.iter_mut().filter(|(_, t)| now.since(t.sent_at) >= patience) {
            let entries: Vec<(KeyId, Rc<VersionSet>)> =
                t.keys.iter().filter_map(|k| self.store.get(k).map(|v| (*k, v.clone()))).collect();
            t.sent_at = now;
            self.stats.transfer_messages += 1;
            out.push(NodeEffect::Send {
                to: Endpoint::Node(t.target),
                payload: Payload::Transfer { id, entries, view: self.view.clone() },
            });
        }
    }

    fn rebuild_trees(&mut self, env: &NodeEnv) {
        if !env.protocol.anti_entropy {
            return;
        }
        self.trees.clear();
        self.ae_compared_at.clear();
        self.ae_cursor = 0;
        let entries: Vec<(KeyId, u64)> = self.store.iter().map(|(k, v)| (*k, digest(*k, v))).collect();
        for (key, d) in entries {
            self.track(env, key, 0, d);
        }
    }

    /// Starts one anti-entropy exchange: the next range this node replicates, with a random
    /// other replica of it that it does not suspect.
    fn start_anti_entropy(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let Some(mine) = env.ranges.of_node.get(self.id.index()).filter(|m| !m.is_empty()) else { return };
        let range = mine[self.ae_cursor % mine.len()];
        self.ae_cursor += 1;
        let peers: Vec<NodeId> =
            env.ranges.replicas[range as usize].iter().copied().filter(|&p| p != self.id && !self.suspects(p)).collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[index(&mut self.rng, peers.len())];
        self.stats.ae_exchanges += 1;
        self.ae_compared_at.insert(range, now);
        let root = self.tree(env, range).root();
        let ring = env.ring.fingerprint();
        self.send_ae(Endpoint::Node(peer), Payload::AeCompare { ring, range, hashes: vec![(0, root)] }, out);
    }

    fn tree(&mut self, env: &NodeEnv, range: u32) -> &MerkleTree {
        let leaves = env.protocol.merkle_leaves;
        match self.trees.get(&range) {
            Some(t) => t,
            None => self.empty_tree.get_or_insert_with(|| MerkleTree::new(leaves)),
        }
    }

    /// Compares the peer's hashes with this node's: descends below differing inner nodes and
    /// sends the keys under differing leaves.
    #[allow(clippy::too_many_arguments)]
    fn on_ae_compare(
        &mut self,
        now: SimTime,
        env: &NodeEnv,
        from: Endpoint,
        ring: u64,
        range: u32,
        hashes: &[(u32, u64)],
        out: &mut Vec<NodeEffect>,
    ) {
        if !self.same_ring(env, ring) {
            return;
        }
        self.ae_compared_at.insert(range, now);
        let tree = self.tree(env, range);
        let mut leaves = Vec::new();
        let mut next = Vec::new();
        for &(i, h) in hashes {
            let i = i as usize;
            if tree.hash(i) == h {
                continue;
            }
            if tree.is_leaf(i) {
                leaves.push(tree.leaf_number(i) as u32);
            } else {
                for c in tree.children(i) {
                    next.push((c as u32, tree.hash(c)));
                }
            }
        }
        if !leaves.is_empty() {
            let entries = self.entries_under(range, &leaves);
            self.send_ae(from, Payload::AeKeys { ring: env.ring.fingerprint(), range, leaves, entries, reply: true }, out);
        }
        if !next.is_empty() {
            self.send_ae(from, Payload::AeCompare { ring: env.ring.fingerprint(), range, hashes: next }, out);
        }
    }

    fn entries_under(&self, range: u32, leaves: &[u32]) -> Vec<(KeyId, Rc<VersionSet>)> {
        let Some(tree) = self.trees.get(&range) else { return Vec::new() };
        let mut entries = Vec::new();
        for &leaf in leaves {
            for key in tree.keys_in_leaf(leaf as usize) {
                if let Some(v) = self.store.get(key) {
                    entries.push((*key, v.clone()));
                }
            }
        }
        entries
    }

    fn send_ae(&mut self, to: Endpoint, payload: Payload, out: &mut Vec<NodeEffect>) {
        self.stats.ae_messages += 1;
        self.stats.ae_bytes += payload.size_bytes() as u64;
        if let Payload::AeKeys { entries, .. } = &payload {
            self.stats.ae_keys_sent += entries.len() as u64;
        }
        out.push(NodeEffect::Send { to, payload });
    }

    /// Handles one timer: request deadlines go to the coordinator, periodic ones to their
    /// component (each re-armed, unless it was set before a crash).
    pub fn on_timer(&mut self, now: SimTime, env: &NodeEnv, timer: NodeTimer, out: &mut Vec<NodeEffect>) {
        let p = env.protocol;
        let (after, timer) = match timer {
            NodeTimer::RequestTimeout(req) => return self.on_request_timeout(now, env, req, out),
            NodeTimer::ReplicaTimeout(req) => return self.on_replica_timeout(now, env, req, out),
            NodeTimer::CloseRequest(req) => return self.close_get(now, env, req, out),
            NodeTimer::Probe { incarnation }
            | NodeTimer::HintScan { incarnation }
            | NodeTimer::AntiEntropy { incarnation }
            | NodeTimer::Gossip { incarnation }
                if incarnation != self.incarnation =>
            {
                return; // from before a crash
            }
            NodeTimer::Probe { .. } => {
                self.probe(out);
                (p.probe_interval, timer)
            }
            NodeTimer::HintScan { .. } => {
                self.scan_hints(now, env, out);
                (p.hint_scan_interval, timer)
            }
            NodeTimer::AntiEntropy { .. } => {
                self.start_anti_entropy(now, env, out);
                (p.anti_entropy_interval, timer)
            }
            NodeTimer::Gossip { .. } => {
                self.hand_off_strays(now, env, out);
                self.resend_transfers(now, env, out);
                self.gossip_round(env, out);
                (p.gossip_interval, timer)
            }
        };
        out.push(NodeEffect::Timer { after, timer });
    }
}

/// How many versions the client is shown: one under the convergent cart merge (the coordinator
/// hands back the union), otherwise every sibling.
fn versions_seen(policy: ConflictPolicy, siblings: &[Sibling]) -> usize {
    match policy {
        ConflictPolicy::MergeCarts => siblings.len().min(1),
        _ => siblings.len(),
    }
}

/// Takes the next fall-back not under suspicion.
fn take_healthy(spare: &mut NodeList, suspected: &BTreeSet<NodeId>) -> Option<NodeId> {
    while !spare.is_empty() {
        let next = spare.remove(0);
        if !suspected.contains(&next) {
            return Some(next);
        }
    }
    None
}

/// The one version set every reply carries, if they all carry the same: what reconciling them
/// gives, since reconciliation is idempotent.
fn agreed_replies(replies: &[(NodeId, Option<Rc<VersionSet>>)]) -> Option<&Rc<VersionSet>> {
    let (_, Some(first)) = replies.first()? else { return None };
    let same = |v: &Option<Rc<VersionSet>>| v.as_ref().is_some_and(|v| Rc::ptr_eq(v, first) || **v == **first);
    replies[1..].iter().all(|(_, v)| same(v)).then_some(first)
}

/// Reconciles every reply's version set into one (syntactic reconciliation, Dynamo §4.4).
fn reconcile_replies(resolution: Resolution, now: SimTime, replies: &[(NodeId, Option<Rc<VersionSet>>)]) -> VersionSet {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ring::{RingMember, Strategy};
    use crate::sim::ids::WriteId;
    use crate::sim::rng::{Seeds, Stream};

    fn protocol() -> Protocol {
        Protocol {
            n: 3,
            r: 2,
            w: 2,
            coordination: Coordination::PreferenceListHead,
            fanout: Fanout::All,
            write_to_fastest_reader: false,
            request_timeout: SimDuration(1_000_000),
            read_repair_window: SimDuration::ZERO,
            clock_truncation_threshold: 10,
            sloppy_quorum: true,
            hinted_handoff: true,
            hint_scan_interval: SimDuration(1_000_000),
            read_repair: true,
            reply_timeout: SimDuration(1_000_000),
            probe_interval: SimDuration(1_000_000),
            anti_entropy: true,
            anti_entropy_interval: SimDuration(1_000_000),
            merkle_leaves: 8,
            conflict: ConflictPolicy::VectorClocks,
            gossip_interval: SimDuration(1_000_000),
            seeds: Vec::new(),
        }
    }

    /// Three nodes on a small ring, with `keys` workload keys and the protocol above.
    struct Fixture {
        ring: Ring,
        ranges: RangeMap,
        keys: KeyTable,
        protocol: Protocol,
    }

    impl Fixture {
        fn new(keys: usize) -> Fixture {
            let members = (0..3).map(|i| RingMember { node: NodeId(i), weight: 1.0, datacenter: 0 }).collect();
            let ring = Ring::new(Strategy::RandomTokens { tokens_per_node: 4 }, members, false, 1);
            let ranges = RangeMap::new(&ring, 3, 3);
            Fixture { ring, ranges, keys: KeyTable::with_workload_keys(keys), protocol: protocol() }
        }

        fn env(&self) -> NodeEnv<'_> {
            NodeEnv { ring: &self.ring, ranges: &self.ranges, keys: &self.keys, protocol: &self.protocol }
        }
    }

    fn put(write: u64) -> PutBody {
        PutBody { write: WriteId(write), context: Rc::new(CausalContext::default()), cart: None }
    }

    #[test]
    fn a_node_that_lost_its_disk_mints_fresh_dots() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let (before, _) = node.mint(SimTime(1), &env, KeyId(0), &put(1), None);
        node.lose_disk();
        let (after, _) = node.mint(SimTime(2), &env, KeyId(0), &put(2), None);
        assert_ne!(before.siblings[0].dot, after.siblings[0].dot, "a reused dot would merge two writes into one");
        // A surviving replica of the old write and the replacement's new write stay siblings.
        let mut merged = (*before).clone();
        merged.reconcile(&after, SimTime(3));
        let writes: Vec<u64> = merged.siblings.iter().map(|s| s.write.0).collect();
        assert_eq!(writes, vec![1, 2]);
    }

    #[test]
    fn gossip_between_equal_views_settles_on_one_shared_copy_and_merges_unequal_ones() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let view = Membership::with_members([NodeId(0), NodeId(1), NodeId(2)]);
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        a.set_view(view.clone());
        let mut out = Vec::new();
        // An equal copy that is more widely shared (here: held twice) replaces the node's own.
        let shared = Rc::new(view.clone());
        let also_held = shared.clone();
        a.on_message(SimTime(1), &env, Endpoint::Node(NodeId(1)), Payload::Gossip { view: shared, reply: true }, &mut out);
        assert!(Rc::ptr_eq(&a.view, &also_held), "equal views end up shared");
        assert!(out.is_empty(), "agreeing views need no answer and change nothing");
        // A newer view is merged, and the sender, which lacks this node's knowledge, is answered.
        let mut newer = Membership::with_members([NodeId(0), NodeId(1)]);
        newer.set(NodeId(3), MemberStatus::Normal);
        a.on_message(
            SimTime(2),
            &env,
            Endpoint::Node(NodeId(1)),
            Payload::Gossip { view: Rc::new(newer), reply: true },
            &mut out,
        );
        assert!(a.view.get(NodeId(3)).is_some() && a.view.get(NodeId(2)).is_some());
        assert!(!Rc::ptr_eq(&a.view, &also_held), "the shared copy is never changed in place");
        assert_eq!(*also_held, view);
        assert!(matches!(out[0], NodeEffect::ViewChanged));
        assert!(matches!(&out[1], NodeEffect::Send { payload: Payload::Gossip { reply: false, .. }, .. }));
    }

    #[test]
    fn hints_for_a_node_that_left_go_to_the_keys_current_owners() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let key = KeyId(0);
        let departed = NodeId(7);
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut view = Membership::with_members([NodeId(0), NodeId(1), NodeId(2), departed]);
        view.set(departed, MemberStatus::Leaving);
        node.set_view(view);
        let (versions, _) = node.mint(SimTime(1), &env, key, &put(1), Some(departed));
        assert!(node.versions(key).is_none(), "minted for the departed node: held as a hint");
        let mut out = Vec::new();
        node.on_timer(SimTime(2), &env, NodeTimer::HintScan { incarnation: 0 }, &mut out);
        // The ring's three nodes own every key: this node keeps it, the other two get hints.
        assert!(node.versions(key).is_some_and(|v| **v == *versions));
        assert_eq!(node.pending_hints().collect::<Vec<_>>(), vec![(key, NodeId(1)), (key, NodeId(2))]);
        let sent: Vec<Endpoint> = out
            .iter()
            .filter_map(|e| match e {
                NodeEffect::Send { to, payload: Payload::Hint { .. } } => Some(*to),
                _ => None,
            })
            .collect();
        assert_eq!(sent, vec![Endpoint::Node(NodeId(1)), Endpoint::Node(NodeId(2))]);
    }

    #[test]
    fn a_replica_shares_an_incoming_set_that_supersedes_its_own() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let key = KeyId(0);
        let mut coordinator = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut replica = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        let (first, context) = coordinator.mint(SimTime(1), &env, key, &put(1), None);
        replica.store_reconciled(SimTime(1), &env, key, None, &first);
        let newer = PutBody { write: WriteId(2), context, cart: None };
        let (second, _) = coordinator.mint(SimTime(2), &env, key, &newer, None);
        assert!(replica.store_reconciled(SimTime(3), &env, key, None, &second));
        let held = replica.versions(key).expect("stored");
        assert!(Rc::ptr_eq(held, &second), "the merge equals the incoming set: kept once, shared");
        // Writes concurrent on both sides merge into a set neither had: a new one is kept.
        let (theirs, _) = replica.mint(SimTime(4), &env, key, &put(3), None);
        let (ours, _) = coordinator.mint(SimTime(4), &env, key, &put(4), None);
        assert!(coordinator.store_reconciled(SimTime(5), &env, key, None, &theirs));
        let merged = coordinator.versions(key).expect("stored");
        assert!(!Rc::ptr_eq(merged, &theirs) && !Rc::ptr_eq(merged, &ours));
        let mut writes: Vec<u64> = merged.siblings.iter().map(|s| s.write.0).collect();
        writes.sort_unstable();
        assert_eq!(writes, vec![2, 3, 4]);
    }

    #[test]
    fn merkle_trees_track_the_store() {
        let fixture = Fixture::new(50);
        let env = fixture.env();
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut b = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        for k in 0..50 {
            let (v, _) = a.mint(SimTime(1), &env, KeyId(k), &put(k as u64 + 1), None);
            b.store_reconciled(SimTime(1), &env, KeyId(k), None, &v);
        }
        let roots = |n: &Node| {
            let mut r: Vec<(u32, u64)> = n.trees.iter().map(|(k, t)| (*k, t.root())).collect();
            r.sort();
            r
        };
        assert_eq!(roots(&a), roots(&b), "same keys, same versions: same trees");
        let (_, _) = a.mint(SimTime(2), &env, KeyId(7), &put(99), None);
        assert_ne!(roots(&a), roots(&b));
        assert!(a.stats.merkle_hashes > 50);
    }
}
