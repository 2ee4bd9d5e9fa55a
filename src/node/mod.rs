//! A storage node: a sans-IO state machine running Dynamo's request protocol.
//!
//! A node owns its durable store (a version set per key, its hint store, and its per-key write
//! counters) and its volatile state (requests it coordinates, which peers it suspects). Handlers
//! take the current time and an environment (ring, key table, protocol settings) and push
//! effects (sends, timers) into an out-buffer; a node never sees the event queue, the network or
//! another node's state, and it learns about failures only from silence (Dynamo §4.8).
//!
//! `Node` composes the components, one file each, as Riak KV splits them:
//! - `coordinator`: the get and put state machines, one per request, with sloppy quorum and
//!   read repair;
//! - `replica`: the store of version sets, minting, merging what peers send;
//! - `handoff`: the hint store and its scans, range transfers after ring changes;
//! - `storage`: durable or buffered writes under the store (Dynamo §6.1);
//! - `anti_entropy`: Merkle trees per range and the exchanges that compare them;
//! - `gossip` (with the view in `membership`) and `failure_detector`;
//! - `protocol`: the settings; `versioning`, `cart` and `merkle`: the data structures
//!   underneath.
//!
//! Each component's state is its own struct in its file (`Coordinator`, `ReplicaStore`,
//! `Handoff`, `AntiEntropy`, `FailureDetector`; the view belongs to gossip), private to that
//! file: other files reach it only through its methods. A handler that spans components (a put
//! that mints into the store, updates a Merkle tree and notes a stray) is an `impl Node` block
//! in the file of the component the message belongs to. `on_message` and `on_timer` only
//! dispatch to them.
//!
//! Timers are cancelled lazily: a timer whose request is gone, or whose incarnation is older
//! than the node's (it was set before a crash), is ignored when it fires.

pub mod admission;
pub mod anti_entropy;
pub mod cart;
pub mod clock_pruning;
pub mod consistency;
pub mod coordinator;
pub mod failure_detector;
pub mod gossip;
pub mod handoff;
pub mod membership;
pub mod merkle;
pub mod message;
pub mod protocol;
pub mod read_path;
pub mod replica;
pub mod riak_quorums;
pub mod storage;
pub mod tombstones;
pub mod versioning;

use crate::cluster::keyspace::KeyTable;
use crate::cluster::ring::{RangeMap, Ring};
use crate::node::membership::Membership;
use crate::node::message::Payload;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::ids::{Endpoint, KeyId, NodeId, RequestId, WriteId};
use crate::sim::rng::SimRng;
use anti_entropy::AntiEntropy;
use coordinator::Coordinator;
use failure_detector::FailureDetector;
use handoff::Handoff;
use message::Target;
pub use protocol::{ConflictPolicy, Coordination, Fanout, InjectedBug, Protocol};
use replica::ReplicaStore;
use std::rc::Rc;
use storage::StorageModel;

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
    /// Speculative retry's threshold for a get: one more replica is asked if it is unanswered.
    SpeculativeRead(RequestId),
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
    /// The buffered storage model's writer: the buffer goes to disk.
    Flush {
        incarnation: u32,
    },
    /// The background pass that prunes vector clocks.
    PruneClocks {
        incarnation: u32,
    },
    /// Compaction: tombstones past their grace period are purged.
    Purge {
        incarnation: u32,
    },
    /// The end of Riak's reap delay for a key (the tombstones it held then are remembered by
    /// the node, so that timers stay two words: every event carries one).
    Reap {
        key: crate::sim::ids::KeyId,
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
    /// Requests this node refused, or failed once every target had answered, for want of the
    /// primaries or durable writes PR, PW or DW ask (Riak's `pr_val_unsatisfied`).
    pub refused_for_primaries: u64,
    pub clock_entries_truncated: u64,
    /// Times this node began suspecting a peer.
    pub suspicions: u64,
    /// Requests sent to a fall-back in place of a suspected replica.
    pub fallback_requests: u64,
    pub hints_stored: u64,
    /// Hints a strict-quorum coordinator did not store: the replica was down past the window.
    pub hints_not_stored_window: u64,
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
    /// Writes that went to disk at once (every write under the durable storage model; hints
    /// and write-throughs under the buffered one), and writes that went to the buffer.
    pub disk_writes: u64,
    pub buffered_writes: u64,
    /// Objects a replica read from its disk (not from the buffer) to answer a read.
    pub disk_reads: u64,
    /// The buffered model's flushes, the keys they wrote, and the versions crashes discarded
    /// from the buffer before a flush.
    pub flushes: u64,
    pub keys_flushed: u64,
    pub versions_discarded: u64,
    /// Keys whose tombstones this node removed: purged after the grace period or reaped.
    pub tombstones_removed: u64,
    /// Digest reads whose digests disagreed with the data (each costs a round of full reads),
    /// and replica reads sent by speculative retry.
    pub digest_mismatches: u64,
    pub speculative_reads: u64,
    /// Requests refused at once because the failure detector deemed too few replicas alive.
    pub refused_unavailable: u64,
}

/// Disk work a handler did, for the world to queue on the node's disk (see `world::disk`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskWork {
    pub reads: u32,
    pub writes: u32,
    /// Bytes background work read from the store.
    pub scan_bytes: u64,
}

pub struct Node {
    pub id: NodeId,
    /// The components, each owning its state (see the module summary).
    requests: Coordinator,
    replica: ReplicaStore,
    handoff: Handoff,
    admission: admission::Admission,
    anti_entropy: AntiEntropy,
    tombstones: tombstones::Tombstones,
    detector: FailureDetector,
    /// This node's membership view (durable), kept by gossip.
    /// Shared with the gossip messages that carry it; copied only when it changes.
    view: Rc<Membership>,
    incarnation: u32,
    /// When this incarnation started: the phase of its periodic work.
    started_at: SimTime,
    rng: SimRng,
    /// A buffer for preference lists, kept to save an allocation per use.
    scratch: Vec<NodeId>,
    pub stats: NodeStats,
    /// The last version minted (key, time, write), for an injected bug only.
    last_mint: Option<(KeyId, SimTime, WriteId)>,
}

impl Node {
    pub fn new(id: NodeId, rng: SimRng) -> Node {
        Node {
            id,
            requests: Coordinator::default(),
            replica: ReplicaStore::default(),
            handoff: Handoff::default(),
            admission: admission::Admission::default(),
            anti_entropy: AntiEntropy::default(),
            tombstones: Default::default(),
            detector: FailureDetector::default(),
            view: Rc::default(),
            incarnation: 0,
            started_at: SimTime::ZERO,
            rng,
            scratch: Vec::new(),
            stats: NodeStats::default(),
            last_mint: None,
        }
    }

    /// Starts the periodic timers (at time zero and after every restart).
    pub fn start(&mut self, now: SimTime, env: &NodeEnv, out: &mut Vec<NodeEffect>) {
        let incarnation = self.incarnation;
        // The failure detector's probe ticks keep this phase but wait for a suspicion.
        self.started_at = now;
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
        if let StorageModel::Buffered { flush_interval, .. } = env.protocol.storage {
            // Each node's writer keeps its own phase, so that flushes are not cluster-wide.
            let first = SimDuration(flush_interval.as_nanos() / 2 + self.id.0 as u64 * 1_000);
            out.push(NodeEffect::Timer { after: first, timer: NodeTimer::Flush { incarnation } });
        }
        if let Some(interval) = env.protocol.clock_pruning.background {
            out.push(NodeEffect::Timer { after: interval, timer: NodeTimer::PruneClocks { incarnation } });
        }
        self.restart_purges(now, out);
    }

    /// Every write this node holds: its store and disk buffer, hints, and the requests it
    /// coordinates (the history oracle's census; see [`crate::observe::history::History::prune`]).
    pub fn held_writes(&self, out: &mut Vec<crate::sim::ids::WriteId>) {
        self.replica.held_writes(out);
        self.handoff.held_writes(out);
        self.requests.held_writes(out);
    }

    /// A permanent failure: the disk is gone and the node comes back empty, as a replacement.
    pub fn lose_disk(&mut self) {
        self.replica.lose_disk();
        self.handoff.clear_hints();
        self.anti_entropy.clear_trees();
    }

    /// A crash: volatile state (requests being coordinated, suspicions) is lost, and so is the
    /// buffered storage model's unflushed buffer; what is on disk (the store as of the last
    /// flush, the hint store, the minted counters) survives. Timers set before the crash are
    /// ignored. Returns what the crash put back to its disk version.
    pub fn crash(&mut self, now: SimTime, env: &NodeEnv) -> Vec<replica::Unflushed> {
        self.requests.clear();
        self.detector.forget_all();
        self.forget_reaps();
        self.incarnation += 1;
        self.lose_unflushed(now, env)
    }

    /// Whether a request's timer would still do anything: false once the request is closed,
    /// which is final (request ids are never reused).
    pub fn awaits(&self, timer: &NodeTimer) -> bool {
        match timer {
            NodeTimer::RequestTimeout(req)
            | NodeTimer::ReplicaTimeout(req)
            | NodeTimer::CloseRequest(req)
            | NodeTimer::SpeculativeRead(req) => self.requests.contains(*req),
            _ => true,
        }
    }

    /// A foreground request waited this long for a core (for admission control).
    pub fn note_foreground_wait(&mut self, config: &admission::AdmissionConfig, wait: SimDuration) {
        self.admission.record(config, wait);
    }

    /// Whether background work may have resource time now (always, without admission control).
    pub fn admits_background(&self, env: &NodeEnv) -> bool {
        env.protocol.admission.is_none_or(|c| self.admission.admits(&c))
    }

    /// Handles one message: each kind goes to the component that owns it.
    pub fn on_message(&mut self, now: SimTime, env: &NodeEnv, from: Endpoint, payload: Payload, out: &mut Vec<NodeEffect>) {
        if let Endpoint::Node(peer) = from {
            self.detector.heard_from(peer);
        }
        match payload {
            Payload::ClientGet(op) => self.on_client_request(now, env, op, None, out),
            Payload::ClientPut(op, body) => self.on_client_request(now, env, op, Some(body), out),
            Payload::GetRequest { req, key, digest } => self.on_get_request(now, env, from, req, key, digest, out),
            Payload::GetReply { req, versions, digest, .. } => {
                if let Endpoint::Node(replica) = from {
                    self.on_get_reply(now, env, req, replica, versions, digest, out);
                }
            }
            Payload::PutRequest { req, key, versions, coordinator, hint, write_through } => {
                self.on_put_request(now, env, req, key, &versions, coordinator, hint, write_through, out)
            }
            Payload::MintRequest { req, key, body, hint, write_through, others } => {
                if let Endpoint::Node(coordinator) = from {
                    let lead = Target { node: self.id, hint, write_through };
                    self.on_mint_request(now, env, coordinator, req, key, &body, lead, others, out);
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
            Payload::Reap { key } => self.on_reap(env, key, out),
            Payload::Ping => out.push(NodeEffect::Send { to: from, payload: Payload::Pong }),
            Payload::GossipDigest { digest } => self.on_gossip_digest(from, digest, out),
            Payload::Gossip { view, reply } => self.on_gossip(from, view, reply, out),
            Payload::Transfer { id, entries, view } => self.on_transfer(now, env, from, id, &entries, &view, out),
            Payload::TransferAck { id, view } => self.on_transfer_ack(now, env, id, &view, out),
            Payload::AeCompare { ring, range, hashes } => self.on_ae_compare(now, env, from, ring, range, &hashes, out),
            Payload::AeKeys { ring, range, leaves, entries, reply } => {
                self.on_ae_keys(now, env, from, ring, range, leaves, &entries, reply, out)
            }
            Payload::Pong | Payload::Reply { .. } => {}
        }
        self.arm_purge(now, out);
    }

    /// Handles one timer: request deadlines go to the coordinator, periodic ones to their
    /// component (each re-armed, unless it was set before a crash).
    pub fn on_timer(&mut self, now: SimTime, env: &NodeEnv, timer: NodeTimer, out: &mut Vec<NodeEffect>) {
        self.dispatch_timer(now, env, timer, out);
        // A read repair to itself may have stored a tombstone.
        self.arm_purge(now, out);
    }

    fn dispatch_timer(&mut self, now: SimTime, env: &NodeEnv, timer: NodeTimer, out: &mut Vec<NodeEffect>) {
        let p = env.protocol;
        let (after, timer) = match timer {
            NodeTimer::RequestTimeout(req) => return self.on_request_timeout(now, env, req, out),
            NodeTimer::ReplicaTimeout(req) => return self.on_replica_timeout(now, env, req, out),
            NodeTimer::CloseRequest(req) => return self.close_get(now, env, req, out),
            NodeTimer::SpeculativeRead(req) => return self.speculate(req, out),
            NodeTimer::Probe { incarnation }
            | NodeTimer::HintScan { incarnation }
            | NodeTimer::AntiEntropy { incarnation }
            | NodeTimer::Gossip { incarnation }
            | NodeTimer::Flush { incarnation }
            | NodeTimer::Purge { incarnation }
            | NodeTimer::PruneClocks { incarnation }
            | NodeTimer::Reap { incarnation, .. }
                if incarnation != self.incarnation =>
            {
                return; // from before a crash
            }
            NodeTimer::Probe { .. } => {
                if !self.detector.probe(out) {
                    return; // no one is suspected: the timer lapses until the next suspicion
                }
                (p.probe_interval, timer)
            }
            NodeTimer::HintScan { .. } => {
                self.scan_hints(now, env, out);
                (p.hint_scan_interval, timer)
            }
            NodeTimer::AntiEntropy { .. } => {
                // Refused by admission control, the exchange waits for the next turn.
                if self.admits_background(env) {
                    self.start_anti_entropy(now, env, out);
                }
                (p.anti_entropy_interval, timer)
            }
            NodeTimer::Gossip { .. } => {
                self.hand_off_strays(now, env, out);
                self.resend_transfers(now, env, out);
                self.gossip_round(env, out);
                (p.gossip_interval, timer)
            }
            NodeTimer::Purge { .. } => return self.purge_tombstones(now, env, out),
            NodeTimer::PruneClocks { .. } => {
                self.prune_clocks(now, env);
                let Some(interval) = p.clock_pruning.background else { return };
                (interval, timer)
            }
            NodeTimer::Reap { key, .. } => return self.final_reap(env, key),
            NodeTimer::Flush { .. } => {
                self.flush();
                let StorageModel::Buffered { flush_interval, .. } = p.storage else { return };
                (flush_interval, timer)
            }
        };
        out.push(NodeEffect::Timer { after, timer });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ring::{RingMember, Strategy};
    use crate::node::membership::MemberStatus;
    use crate::node::message::PutBody;
    use crate::node::storage::StorageModel;
    use crate::node::versioning::{CausalContext, VersionSet};
    use crate::sim::ids::{KeyId, WriteId};
    use crate::sim::rng::{Seeds, Stream};

    fn protocol() -> Protocol {
        Protocol {
            n: 3,
            r: 2,
            w: 2,
            coordination: Coordination::PreferenceListHead,
            fanout: Fanout::All,
            write_to_fastest_reader: false,
            local_legs_over_network: false,
            request_timeout: SimDuration(1_000_000),
            read_repair_window: SimDuration::ZERO,
            clock_pruning: clock_pruning::ClockPruning::by_size(10),
            sloppy_quorum: true,
            hinted_handoff: true,
            hint_scan_interval: SimDuration(1_000_000),
            hint_window: None,
            read_repair: true,
            reply_timeout: SimDuration(1_000_000),
            probe_interval: SimDuration(1_000_000),
            anti_entropy: true,
            anti_entropy_interval: SimDuration(1_000_000),
            merkle_leaves: 8,
            conflict: ConflictPolicy::DottedVersionVectors,
            gossip_interval: SimDuration(1_000_000),
            seeds: Vec::new(),
            storage: StorageModel::Durable,
            admission: None,
            reads_from_disk: false,
            riak: Default::default(),
            tombstones: Default::default(),
            digest_reads: false,
            speculative_retry: None,
            unavailable_when_suspected: false,
            injected_bug: None,
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

    /// Client `c0`'s request number `op`, about key `k0`, straight from the client.
    fn client_op(op: u64) -> crate::node::message::ClientOp {
        crate::node::message::ClientOp {
            client: crate::sim::ids::ClientId(0),
            op,
            key: KeyId(0),
            forwarded: false,
            fastest_reader: Default::default(),
            level: None,
        }
    }

    fn put(write: u64) -> PutBody {
        PutBody {
            write: WriteId(write),
            context: Rc::new(CausalContext::default()),
            cart: Default::default(),
            value_bytes: 0,
            tombstone: false,
        }
    }

    #[test]
    fn a_node_that_lost_its_disk_mints_fresh_dots() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let (before, _) = node.mint(SimTime(1), &env, KeyId(0), &put(1), None, false);
        node.lose_disk();
        let (after, _) = node.mint(SimTime(2), &env, KeyId(0), &put(2), None, false);
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

    /// A round opens with the view's digest: a peer that agrees says nothing, one that differs
    /// answers with its whole view, and the opener then sends back what the peer lacks.
    #[test]
    fn a_gossip_round_sends_a_digest_and_views_only_where_they_differ() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let view = Membership::with_members([NodeId(0), NodeId(1), NodeId(2)]);
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut b = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        a.set_view(view.clone());
        b.set_view(view.clone());
        let mut out = Vec::new();
        a.gossip_round(&env, &mut out);
        let [NodeEffect::Send { payload: opening @ Payload::GossipDigest { .. }, .. }] = &out[..] else {
            panic!("a round opens with a digest: {out:?}")
        };
        assert_eq!(opening.size_bytes(), 64 + 8, "a digest costs the same whatever the view's size");
        let opening = opening.clone();
        let mut answer = Vec::new();
        b.on_message(SimTime(1), &env, Endpoint::Node(NodeId(0)), opening.clone(), &mut answer);
        assert!(answer.is_empty(), "an agreeing peer says nothing: {answer:?}");
        // b learns of a fourth node: its answer is its view, which a merges and completes.
        b.record_membership_change(NodeId(3), MemberStatus::Normal);
        a.record_membership_change(NodeId(2), MemberStatus::Leaving);
        b.on_message(SimTime(2), &env, Endpoint::Node(NodeId(0)), opening, &mut answer);
        let [NodeEffect::Send { payload: reply @ Payload::Gossip { reply: true, .. }, .. }] = &answer[..] else {
            panic!("a differing peer answers with its view: {answer:?}")
        };
        let mut back = Vec::new();
        a.on_message(SimTime(3), &env, Endpoint::Node(NodeId(1)), reply.clone(), &mut back);
        let Some(NodeEffect::Send { payload: Payload::Gossip { view: merged, reply: false }, .. }) = back.last() else {
            panic!("the opener sends back what the peer lacked: {back:?}")
        };
        b.on_message(
            SimTime(4),
            &env,
            Endpoint::Node(NodeId(0)),
            Payload::Gossip { view: merged.clone(), reply: false },
            &mut out,
        );
        assert_eq!(a.view().digest(), b.view().digest());
        assert_eq!(*a.view(), *b.view());
    }

    /// Riak's `notfound_ok` and `basic_quorum` at the coordinator: node 0 lacks the key (its own
    /// read finds nothing) and the other two replicas answer as given; what does the client get,
    /// and when? `None`: no answer yet; `Some(found)`: the read answered, holding the key or not.
    #[test]
    fn notfound_ok_and_basic_quorum_decide_when_a_read_of_a_missing_key_ends() {
        use crate::node::message::ReplyBody;
        use crate::node::riak_quorums::RiakQuorums;
        use crate::sim::ids::ClientId;
        let read = |notfound_ok: bool, basic_quorum: bool, r: usize, replies: &[(u32, bool)]| -> Option<bool> {
            let mut fixture = Fixture::new(1);
            fixture.protocol.r = r;
            fixture.protocol.riak = RiakQuorums { notfound_ok, basic_quorum, ..RiakQuorums::default() };
            let env = fixture.env();
            let mut holder = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
            let (held, _) = holder.mint(SimTime(1), &env, KeyId(0), &put(1), None, false);
            let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
            let mut out = Vec::new();
            let op = client_op(1);
            node.on_message(SimTime(2), &env, Endpoint::Client(ClientId(0)), Payload::ClientGet(op), &mut out);
            let req = out.iter().find_map(|e| match e {
                NodeEffect::Send { payload: Payload::GetRequest { req, .. }, .. } => Some(*req),
                _ => None,
            });
            for &(n, found) in replies {
                let versions = found.then(|| held.clone());
                let reply = Payload::GetReply { req: req.expect("replicas asked"), key: KeyId(0), versions, digest: None };
                node.on_message(SimTime(3), &env, Endpoint::Node(NodeId(n)), reply, &mut out);
            }
            out.iter().find_map(|e| match e {
                NodeEffect::Send { payload: Payload::Reply { body: ReplyBody::Get { read, .. }, .. }, .. } => {
                    Some(!read.is_empty())
                }
                _ => None,
            })
        };
        // notfound_ok on (Riak's default): node 0's "not found" counts toward R = 2, so the
        // first other reply decides, whatever the third replica holds.
        assert_eq!(read(true, false, 2, &[(1, false)]), Some(false));
        assert_eq!(read(true, false, 2, &[(1, true)]), Some(true));
        // Off: only replies that found it count; two "not found" of three end it (N - R + 1).
        assert_eq!(read(false, false, 2, &[(1, false)]), Some(false));
        assert_eq!(read(false, false, 2, &[(1, true)]), None, "one found reply of the two R asks");
        assert_eq!(read(false, false, 2, &[(1, true), (2, true)]), Some(true));
        // R = 1: without basic_quorum every replica must say "not found" (N - R + 1 = 3); with
        // it, a majority (2) ends the read.
        assert_eq!(read(false, false, 1, &[(1, false)]), None);
        assert_eq!(read(false, true, 1, &[(1, false)]), Some(false));
        assert_eq!(read(false, false, 1, &[(1, false), (2, false)]), Some(false));
    }

    /// Detection is passive: no probe timer until a first suspicion, which arms one for the next
    /// tick of the node's phase; the first tick that finds no suspicion lets it lapse.
    #[test]
    fn the_probe_timer_runs_only_while_someone_is_suspected() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let probe = |out: &[NodeEffect]| {
            out.iter()
                .filter_map(|e| match e {
                    NodeEffect::Timer { after, timer: timer @ NodeTimer::Probe { .. } } => Some((*after, *timer)),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut out = Vec::new();
        node.start(SimTime(300_000), &env, &mut out);
        assert!(probe(&out).is_empty(), "a node that suspects no one arms no probe timer");
        out.clear();
        // Started at 0.3 ms with ticks every 1 ms: suspected at 2.5 ms, the tick is at 3.3 ms.
        node.suspect(NodeId(1), SimTime(2_500_000), &env, &mut out);
        node.suspect(NodeId(2), SimTime(2_600_000), &env, &mut out);
        let armed = probe(&out);
        assert_eq!(armed.len(), 1, "one timer for any number of suspicions: {out:?}");
        assert_eq!(armed[0].0, SimDuration(800_000));
        out.clear();
        node.on_timer(SimTime(3_300_000), &env, armed[0].1, &mut out);
        let pings = out.iter().filter(|e| matches!(e, NodeEffect::Send { payload: Payload::Ping, .. })).count();
        assert_eq!(pings, 2);
        assert_eq!(probe(&out).len(), 1, "re-armed while suspicions last");
        // Both answer; the next tick finds no one and the timer lapses.
        for peer in [NodeId(1), NodeId(2)] {
            node.on_message(SimTime(3_400_000), &env, Endpoint::Node(peer), Payload::Pong, &mut out);
        }
        out.clear();
        node.on_timer(SimTime(4_300_000), &env, armed[0].1, &mut out);
        assert!(out.is_empty(), "no pings and no timer once no one is suspected: {out:?}");
        // A later suspicion arms it again.
        node.suspect(NodeId(1), SimTime(9_000_000), &env, &mut out);
        assert_eq!(probe(&out), vec![(SimDuration(300_000), armed[0].1)]);
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
        let (versions, _) = node.mint(SimTime(1), &env, key, &put(1), Some(departed), false);
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
        let (first, context) = coordinator.mint(SimTime(1), &env, key, &put(1), None, false);
        replica.store_reconciled(SimTime(1), &env, key, None, &first);
        let newer = PutBody { write: WriteId(2), context, cart: Default::default(), value_bytes: 0, tombstone: false };
        let (second, _) = coordinator.mint(SimTime(2), &env, key, &newer, None, false);
        assert!(replica.store_reconciled(SimTime(3), &env, key, None, &second));
        let held = replica.versions(key).expect("stored");
        assert!(Rc::ptr_eq(held, &second), "the merge equals the incoming set: kept once, shared");
        // Writes concurrent on both sides merge into a set neither had: a new one is kept.
        let (theirs, _) = replica.mint(SimTime(4), &env, key, &put(3), None, false);
        let (ours, _) = coordinator.mint(SimTime(4), &env, key, &put(4), None, false);
        assert!(coordinator.store_reconciled(SimTime(5), &env, key, None, &theirs));
        let merged = coordinator.versions(key).expect("stored");
        assert!(!Rc::ptr_eq(merged, &theirs) && !Rc::ptr_eq(merged, &ours));
        let mut writes: Vec<u64> = merged.siblings.iter().map(|s| s.write.0).collect();
        writes.sort_unstable();
        assert_eq!(writes, vec![2, 3, 4]);
    }

    #[test]
    fn under_per_version_clocks_a_coordinator_stamps_its_own_clock_and_drops_what_it_dominates() {
        let mut fixture = Fixture::new(1);
        fixture.protocol.conflict = ConflictPolicy::VectorClocks;
        let env = fixture.env();
        let key = KeyId(0);
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        node.set_clock_skew(-500);
        let (_, first) = node.mint(SimTime(1_000), &env, key, &put(1), None, false);
        assert_eq!(first.clock.entries()[0].updated_at, SimTime(500), "the entry carries the node's own clock");
        // Two clients both hold `first` and write through this node: the second clock dominates.
        let stale =
            PutBody { write: WriteId(2), context: first.clone(), cart: Default::default(), value_bytes: 0, tombstone: false };
        node.mint(SimTime(2_000), &env, key, &stale, None, false);
        let again = PutBody { write: WriteId(3), context: first, cart: Default::default(), value_bytes: 0, tombstone: false };
        let (held, _) = node.mint(SimTime(3_000), &env, key, &again, None, false);
        let writes: Vec<u64> = held.siblings.iter().map(|s| s.write.0).collect();
        assert_eq!(writes, vec![3], "write 2 was acknowledged and is gone");
    }

    #[test]
    fn a_crash_under_buffered_storage_puts_unflushed_keys_back_to_their_disk_version() {
        let mut fixture = Fixture::new(20);
        fixture.protocol.storage = StorageModel::Buffered { flush_interval: SimDuration(1_000_000), durable_writes: 1 };
        let env = fixture.env();
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut b = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        for k in 0..20 {
            let (v, _) = a.mint(SimTime(1), &env, KeyId(k), &put(k as u64 + 1), None, false);
            b.store_reconciled(SimTime(1), &env, KeyId(k), None, &v);
        }
        a.flush();
        let on_disk = a.versions(KeyId(7)).cloned();
        // After the flush: a buffered write, and a write-through whose disk write is done at 5.
        a.mint(SimTime(2), &env, KeyId(7), &put(100), None, false);
        a.mint(SimTime(2), &env, KeyId(8), &put(101), None, true);
        assert_eq!(a.take_disk_work().writes, 1);
        a.disk_writes_done(SimTime(5));
        let lost = a.crash(SimTime(10), &env);
        assert_eq!(lost.len(), 1, "the write-through was on disk by the crash");
        assert_eq!(
            (lost[0].key, lost[0].in_memory.clone(), lost[0].on_disk.clone()),
            (KeyId(7), vec![WriteId(8), WriteId(100)], vec![WriteId(8)])
        );
        assert_eq!(a.versions(KeyId(7)), on_disk.as_ref(), "back to the disk's version");
        assert_eq!(a.stats.versions_discarded, 1);
        // The trees follow the store: key 7 agrees with a replica that never saw write 100.
        a.mint(SimTime(11), &env, KeyId(8), &put(101), None, false);
        b.store_reconciled(SimTime(11), &env, KeyId(8), None, a.versions(KeyId(8)).expect("held"));
        assert_eq!(a.anti_entropy.roots(), b.anti_entropy.roots());
    }

    #[test]
    fn merkle_trees_track_the_store() {
        let fixture = Fixture::new(50);
        let env = fixture.env();
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut b = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        for k in 0..50 {
            let (v, _) = a.mint(SimTime(1), &env, KeyId(k), &put(k as u64 + 1), None, false);
            b.store_reconciled(SimTime(1), &env, KeyId(k), None, &v);
        }
        let roots = |n: &Node| n.anti_entropy.roots();
        assert_eq!(roots(&a), roots(&b), "same keys, same versions: same trees");
        let (_, _) = a.mint(SimTime(2), &env, KeyId(7), &put(99), None, false);
        assert_ne!(roots(&a), roots(&b));
        assert!(a.stats.merkle_hashes > 50);
    }

    /// The convergence judgement must compare every replica of a key's top N: a key whose first
    /// two replicas agree while the third lags is divergent (a check of two of the N would pass).
    #[test]
    fn convergence_judges_every_replica_of_the_top_n() {
        let fixture = Fixture::new(1);
        let env = fixture.env();
        let key = KeyId(0);
        let top = fixture.ring.top_n(fixture.keys.position(key), 3);
        let mut nodes: Vec<Node> = (0..3).map(|i| Node::new(NodeId(i), Seeds::new(1).stream(Stream::Node, i as u64))).collect();
        let (versions, _) = nodes[top[0].index()].mint(SimTime(1), &env, key, &put(1), None, false);
        let judged =
            |nodes: &[Node]| crate::observe::convergence::snapshot(&fixture.ring, &fixture.keys, nodes, &fixture.protocol);
        assert_eq!(judged(&nodes).divergent_keys, 1, "one replica of three holds the write");
        assert!(nodes[top[1].index()].store_reconciled(SimTime(2), &env, key, None, &versions));
        let third_lags = judged(&nodes);
        assert_eq!(third_lags.divergent_keys, 1, "the first two replicas agree, the third lags: {:?}", third_lags.pending);
        let lagging = third_lags.pending[0].split(" differs on ").nth(1).and_then(|rest| rest.split(' ').next());
        assert_eq!(lagging, Some(top[2].to_string().as_str()), "{:?}", third_lags.pending);
        assert!(nodes[top[2].index()].store_reconciled(SimTime(3), &env, key, None, &versions));
        assert!(judged(&nodes).converged());
    }

    fn delete(write: u64, context: Rc<CausalContext>) -> PutBody {
        PutBody { tombstone: true, context, ..put(write) }
    }

    /// The purge timers a handler set, with their delays.
    fn purge_timers(out: &[NodeEffect]) -> Vec<SimDuration> {
        out.iter()
            .filter_map(|e| match e {
                NodeEffect::Timer { after, timer: NodeTimer::Purge { .. } } => Some(*after),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_tombstone_is_purged_once_its_grace_period_has_passed_by_the_replicas_own_clock() {
        let mut fixture = Fixture::new(2);
        fixture.protocol.tombstones = tombstones::TombstoneRemoval::GcGrace(SimDuration(1_000));
        let env = fixture.env();
        let (key, live_key) = (KeyId(0), KeyId(1));
        let mut coordinator = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut replica = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        // The coordinator's clock is 300 ns ahead: its tombstone expires at 1_400 by the
        // replica's clock, not 1_100.
        coordinator.set_clock_skew(300);
        let (value, context) = coordinator.mint(SimTime(50), &env, key, &put(1), None, false);
        let (tombstone, _) = coordinator.mint(SimTime(100), &env, key, &delete(2, context), None, false);
        assert!(tombstone.is_deleted() && !value.is_deleted());
        let (live, _) = coordinator.mint(SimTime(100), &env, live_key, &put(3), None, false);
        let mut out = Vec::new();
        for (k, v) in [(key, &tombstone), (live_key, &live)] {
            let payload = Payload::PutRequest {
                req: RequestId(1),
                key: k,
                versions: v.clone(),
                coordinator: NodeId(0),
                hint: None,
                write_through: false,
            };
            replica.on_message(SimTime(100), &env, Endpoint::Node(NodeId(0)), payload, &mut out);
        }
        assert_eq!(purge_timers(&out), vec![SimDuration(1_000)], "one timer, for the tombstone only");
        out.clear();
        replica.on_timer(SimTime(1_100), &env, NodeTimer::Purge { incarnation: 0 }, &mut out);
        assert!(replica.versions(key).is_some(), "not yet expired by the replica's clock");
        assert_eq!(purge_timers(&out), vec![SimDuration(300)]);
        out.clear();
        replica.on_timer(SimTime(1_400), &env, NodeTimer::Purge { incarnation: 0 }, &mut out);
        assert!(replica.versions(key).is_none(), "purged");
        assert!(replica.versions(live_key).is_some(), "a live value is never purged");
        assert_eq!(replica.stats.tombstones_removed, 1);
        assert!(purge_timers(&out).is_empty(), "nothing left to purge: the timer lapses");
        // The old value arriving now is taken as new: the zombie of a missed repair.
        assert!(replica.store_reconciled(SimTime(1_500), &env, key, None, &value));
        // Under a policy that keeps tombstones, nothing is queued at all.
        fixture.protocol.tombstones = tombstones::TombstoneRemoval::Keep;
        let env = fixture.env();
        let mut keeper = Node::new(NodeId(2), Seeds::new(1).stream(Stream::Node, 2));
        let payload = Payload::ReadRepair { key, versions: tombstone.clone() };
        keeper.on_message(SimTime(100), &env, Endpoint::Node(NodeId(0)), payload, &mut out);
        assert!(purge_timers(&out).is_empty());
    }

    #[test]
    fn a_key_written_again_within_the_grace_period_is_not_purged() {
        let mut fixture = Fixture::new(1);
        fixture.protocol.tombstones = tombstones::TombstoneRemoval::GcGrace(SimDuration(1_000));
        let env = fixture.env();
        let key = KeyId(0);
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let (_, context) = node.mint(SimTime(1), &env, key, &put(1), None, false);
        let (_, context) = node.mint(SimTime(2), &env, key, &delete(2, context), None, false);
        node.mint(SimTime(3), &env, key, &PutBody { context, ..put(3) }, None, false);
        let mut out = Vec::new();
        node.on_timer(SimTime(5_000), &env, NodeTimer::Purge { incarnation: 0 }, &mut out);
        let writes: Vec<u64> = node.versions(key).map_or(Vec::new(), |v| v.siblings.iter().map(|s| s.write.0).collect());
        assert_eq!(writes, vec![3]);
        assert_eq!(node.stats.tombstones_removed, 0);
    }

    #[test]
    fn riak_reaps_a_tombstone_at_once_or_after_its_delay_only_if_unchanged() {
        let key = KeyId(0);
        let reap = |delay: u64, change_meanwhile: bool| {
            let mut fixture = Fixture::new(1);
            fixture.protocol.tombstones = tombstones::TombstoneRemoval::Reap { delay: SimDuration(delay) };
            let env = fixture.env();
            let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
            let (_, context) = node.mint(SimTime(1), &env, key, &put(1), None, false);
            node.mint(SimTime(2), &env, key, &delete(2, context), None, false);
            let mut out = Vec::new();
            node.on_message(SimTime(3), &env, Endpoint::Node(NodeId(1)), Payload::Reap { key }, &mut out);
            if let Some(NodeEffect::Timer { after, timer }) = out.pop() {
                assert_eq!(after, SimDuration(delay));
                if change_meanwhile {
                    // A concurrent write lands during the delay: the tombstone is no longer alone.
                    node.mint(SimTime(4), &env, key, &put(3), None, false);
                }
                node.on_timer(SimTime(3 + delay), &env, timer, &mut out);
            }
            node.versions(key).map_or(0, |v| v.siblings.len())
        };
        assert_eq!(reap(0, false), 0, "immediate: gone at once");
        assert_eq!(reap(3_000, false), 0, "a delay: gone once it has passed");
        assert_eq!(reap(3_000, true), 2, "changed meanwhile: the tombstone and the new write stay");
        // Keep never reaps; nor does a reap find anything to do where a value is held.
        let mut fixture = Fixture::new(1);
        fixture.protocol.tombstones = tombstones::TombstoneRemoval::Keep;
        let env = fixture.env();
        let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let (_, context) = node.mint(SimTime(1), &env, key, &put(1), None, false);
        node.mint(SimTime(2), &env, key, &delete(2, context), None, false);
        node.on_message(SimTime(3), &env, Endpoint::Node(NodeId(1)), Payload::Reap { key }, &mut Vec::new());
        assert!(node.versions(key).is_some_and(|v| v.is_deleted()));
    }

    /// Cassandra's read path at a coordinator (node 0, a replica with nothing stored; node 1
    /// holds the key): what it sends for a client's get, and whether the client is answered.
    struct ReadPath {
        node: Node,
        held: Rc<VersionSet>,
        out: Vec<NodeEffect>,
    }

    impl ReadPath {
        fn get(env: &NodeEnv) -> ReadPath {
            use crate::sim::ids::ClientId;
            let mut holder = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
            let (held, _) = holder.mint(SimTime(1), env, KeyId(0), &put(1), None, false);
            let mut node = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
            let mut out = Vec::new();
            let op = client_op(1);
            node.on_message(SimTime(2), env, Endpoint::Client(ClientId(0)), Payload::ClientGet(op), &mut out);
            ReadPath { node, held, out }
        }

        /// The replica reads sent since the last call: (to, digest only).
        fn asked(&mut self) -> Vec<(RequestId, NodeId, bool)> {
            let asked = self
                .out
                .iter()
                .filter_map(|e| match e {
                    NodeEffect::Send { to: Endpoint::Node(n), payload: Payload::GetRequest { req, digest, .. } } => {
                        Some((*req, *n, *digest))
                    }
                    _ => None,
                })
                .collect();
            self.out.retain(|e| !matches!(e, NodeEffect::Send { payload: Payload::GetRequest { .. }, .. }));
            asked
        }

        fn reply(&mut self, env: &NodeEnv, req: RequestId, from: NodeId, versions: Option<Rc<VersionSet>>, digest: Option<u64>) {
            let reply = Payload::GetReply { req, key: KeyId(0), versions, digest };
            self.node.on_message(SimTime(3), env, Endpoint::Node(from), reply, &mut self.out);
        }

        /// The versions the client was answered with, if it was.
        fn answer(&self) -> Option<Vec<u64>> {
            use crate::node::message::ReplyBody;
            self.out.iter().find_map(|e| match e {
                NodeEffect::Send { payload: Payload::Reply { body: ReplyBody::Get { read, .. }, .. }, .. } => {
                    Some(read.siblings.iter().map(|s| s.write.0).collect())
                }
                _ => None,
            })
        }
    }

    #[test]
    fn a_digest_read_answers_when_digests_match_and_reads_data_again_when_one_differs() {
        let mut fixture = Fixture::new(1);
        fixture.protocol.fanout = Fanout::ReadQuorum;
        fixture.protocol.digest_reads = true;
        let env = fixture.env();
        // Node 0 reads its own copy (nothing) and asks one other replica for a digest only.
        let mut agreeing = ReadPath::get(&env);
        let [(req, other, true)] = agreeing.asked()[..] else { panic!("one digest read: {:?}", agreeing.out) };
        agreeing.reply(&env, req, other, None, Some(0));
        assert_eq!(agreeing.answer(), Some(vec![]), "the digest of nothing matches nothing: answered");
        let mut differing = ReadPath::get(&env);
        let [(req, other, true)] = differing.asked()[..] else { panic!("one digest read") };
        let held_digest = crate::node::merkle::digest(KeyId(0), &differing.held);
        differing.reply(&env, req, other, None, Some(held_digest));
        assert_eq!(differing.answer(), None, "a mismatch waits for data");
        assert_eq!(differing.asked(), vec![(req, other, false)], "the differing replica is read in full");
        assert_eq!(differing.node.stats.digest_mismatches, 1);
        let held = differing.held.clone();
        differing.reply(&env, req, other, Some(held), None);
        assert_eq!(differing.answer(), Some(vec![1]));
        let bytes = |digest: Option<u64>, versions: Option<Rc<VersionSet>>| {
            Payload::GetReply { req, key: KeyId(0), versions, digest }.size_bytes()
        };
        assert!(bytes(Some(1), None) < bytes(None, Some(differing.held.clone())), "a digest is smaller than the data");
    }

    #[test]
    fn speculative_retry_asks_one_more_replica_when_those_asked_are_slow() {
        let mut fixture = Fixture::new(1);
        fixture.protocol.fanout = Fanout::ReadQuorum;
        fixture.protocol.speculative_retry = Some(protocol::SpeculativeRetry::After(SimDuration(5)));
        let env = fixture.env();
        let mut slow = ReadPath::get(&env);
        let [(req, first, false)] = slow.asked()[..] else { panic!("one data read besides its own") };
        let timer = slow.out.iter().find_map(|e| match e {
            NodeEffect::Timer { after, timer: t @ NodeTimer::SpeculativeRead(_) } => Some((*after, *t)),
            _ => None,
        });
        let Some((SimDuration(5), timer)) = timer else { panic!("a speculative timer at the threshold: {:?}", slow.out) };
        slow.node.on_timer(SimTime(7), &env, timer, &mut slow.out);
        let third = slow.asked();
        assert!(matches!(third[..], [(r, n, false)] if r == req && n != first && n != NodeId(0)), "{third:?}");
        assert_eq!(slow.node.stats.speculative_reads, 1);
        // Answered before the threshold, the timer does nothing.
        let mut fast = ReadPath::get(&env);
        let [(req, first, false)] = fast.asked()[..] else { panic!("one data read") };
        fast.reply(&env, req, first, None, None);
        assert!(fast.answer().is_some());
        fast.node.on_timer(SimTime(7), &env, NodeTimer::SpeculativeRead(req), &mut fast.out);
        assert!(fast.asked().is_empty() && fast.node.stats.speculative_reads == 0);
    }

    #[test]
    fn a_coordinator_that_deems_too_few_replicas_alive_refuses_at_once() {
        use crate::node::message::{Failure, ReplyBody};
        let mut fixture = Fixture::new(1);
        fixture.protocol.sloppy_quorum = false;
        fixture.protocol.unavailable_when_suspected = true;
        let env = fixture.env();
        let refused = |suspected: &[u32]| {
            let mut path = ReadPath::get(&env);
            // Suspicions come from silence; here they are set directly before a second get.
            for &p in suspected {
                path.node.suspect(NodeId(p), SimTime(2), &env, &mut Vec::new());
            }
            path.out.clear();
            let op = client_op(2);
            path.node.on_message(SimTime(3), &env, Endpoint::Client(op.client), Payload::ClientGet(op), &mut path.out);
            let unavailable = path.out.iter().any(|e| {
                matches!(
                    e,
                    NodeEffect::Send { payload: Payload::Reply { body: ReplyBody::Failed(Failure::Unavailable), .. }, .. }
                )
            });
            (unavailable, path.asked().len(), path.node.stats.refused_unavailable)
        };
        assert_eq!(refused(&[1]), (false, 2, 0), "itself and one more meet R = 2");
        assert_eq!(refused(&[1, 2]), (true, 0, 1), "only itself: refused, nothing sent");
    }

    #[test]
    fn background_pruning_leaves_writes_alone_and_prunes_the_store_on_its_pass() {
        let mut fixture = Fixture::new(1);
        fixture.protocol.conflict = ConflictPolicy::VectorClocks;
        fixture.protocol.clock_pruning =
            clock_pruning::ClockPruning { background: Some(SimDuration(1_000)), ..clock_pruning::ClockPruning::by_size(1) };
        let env = fixture.env();
        let key = KeyId(0);
        let mut a = Node::new(NodeId(0), Seeds::new(1).stream(Stream::Node, 0));
        let mut b = Node::new(NodeId(1), Seeds::new(1).stream(Stream::Node, 1));
        let (_, context) = a.mint(SimTime(1), &env, key, &put(1), None, false);
        let (two_entries, _) = b.mint(SimTime(2), &env, key, &PutBody { context, ..put(2) }, None, false);
        assert_eq!(two_entries.siblings[0].clock.len(), 2, "not pruned as it was written");
        let mut out = Vec::new();
        b.start(SimTime(2), &env, &mut out);
        let pass = out.iter().find_map(|e| match e {
            NodeEffect::Timer { after, timer: t @ NodeTimer::PruneClocks { .. } } => Some((*after, *t)),
            _ => None,
        });
        let Some((SimDuration(1_000), timer)) = pass else { panic!("a pass every interval: {out:?}") };
        let before = merkle::digest(key, b.versions(key).expect("stored"));
        out.clear();
        b.on_timer(SimTime(1_002), &env, timer, &mut out);
        let pruned = b.versions(key).expect("stored");
        assert_eq!(pruned.siblings[0].clock.len(), 1, "the pass prunes it");
        assert_eq!(b.stats.clock_entries_truncated, 1);
        assert_eq!(merkle::digest(key, pruned), before, "same versions, same digest");
        assert!(matches!(out[..], [NodeEffect::Timer { timer: NodeTimer::PruneClocks { .. }, .. }]), "and is due again");
    }
}
