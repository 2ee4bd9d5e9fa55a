//! Messages that cross the simulated network, between clients and nodes and between nodes.
//!
//! Version sets travel as `Rc` so that sending one to N replicas shares it instead of copying
//! it; a replica that changes its copy clones on write.

use crate::cluster::network::MessageKind;
use crate::node::cart::Cart;
use crate::node::consistency::ConsistencyLevel;
use crate::node::membership::Membership;
use crate::node::versioning::{CausalContext, VersionSet};
use crate::sim::ids::{ClientId, KeyId, NodeId, RequestId, WriteId};
use std::num::NonZeroU32;
use std::rc::Rc;

/// A client's operation as it travels to (and possibly between) nodes.
#[derive(Clone, Debug)]
pub struct ClientOp {
    pub client: ClientId,
    /// Unique per client; echoed in the reply.
    pub op: u64,
    pub key: KeyId,
    /// Set once a node has forwarded it, so it is never forwarded twice.
    pub forwarded: bool,
    /// Under write-to-fastest-reader, a put's replica that answered the client's previous read
    /// of the key fastest, carried in the request's context (Dynamo §6.4), for a node the
    /// client could not choose (a load balancer's pick) to forward the put to.
    pub fastest_reader: NodeHint,
    /// The request's consistency level; none: the scenario's R or W.
    pub level: Option<ConsistencyLevel>,
}

#[derive(Clone, Debug)]
pub struct PutBody {
    pub write: WriteId,
    pub context: Rc<CausalContext>,
    /// The written cart; empty for a register (see [`crate::node::versioning::Sibling::cart`]).
    pub cart: Cart,
    /// The object's size.
    pub value_bytes: u32,
    /// A delete: the version written is a tombstone.
    pub tombstone: bool,
}

/// A node a request names, in four bytes: an `Option<NodeId>` takes eight and grew every
/// pending event by eight bytes (`dynasim bench`'s bytes per pending event, 136 to 144).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeHint(Option<NonZeroU32>);

impl NodeHint {
    pub fn new(node: Option<NodeId>) -> NodeHint {
        NodeHint(node.and_then(|n| NonZeroU32::new(n.0.wrapping_add(1))))
    }

    pub fn get(self) -> Option<NodeId> {
        self.0.map(|n| NodeId(n.get() - 1))
    }
}

/// Why a request failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The coordinator did not hear from enough replicas in time.
    CoordinatorTimeout,
    /// The client heard nothing in time (lost messages, crashed coordinator).
    ClientTimeout,
    /// The key's replicas cannot meet the request's consistency level (Cassandra's
    /// `UnavailableException`): answered at once.
    Unavailable,
}

#[derive(Clone, Debug)]
pub enum ReplyBody {
    Get {
        /// The versions read (shared with the replica that holds them when all agreed).
        read: Rc<VersionSet>,
        context: Rc<CausalContext>,
        /// The replica that answered first: the paper's choice of coordinator for the next write.
        fastest: Option<NodeId>,
    },
    Put {
        /// The new version's context: what the client has now seen.
        context: Rc<CausalContext>,
    },
    Failed(Failure),
}

/// A replica write target: the node, for a fall-back outside the top N the top-N node it
/// stands in for (the hint of Dynamo §4.6), and whether the coordinator asked it for a durable
/// write (the buffered storage model's write-through).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub node: NodeId,
    pub hint: Option<NodeId>,
    pub write_through: bool,
}

#[derive(Clone, Debug)]
pub enum Payload {
    ClientGet(ClientOp),
    ClientPut(ClientOp, PutBody),
    Reply {
        op: u64,
        key: KeyId,
        body: ReplyBody,
    },
    /// A replica read; with `digest`, the replica answers with the digest of what it holds
    /// instead of the versions (Cassandra's digest reads).
    GetRequest {
        req: RequestId,
        key: KeyId,
        digest: bool,
    },
    /// A replica's answer: what it holds of the key, or for a digest read only its digest.
    GetReply {
        req: RequestId,
        key: KeyId,
        versions: Option<Rc<VersionSet>>,
        digest: Option<u64>,
    },
    /// Replicate a coordinator's whole updated version set; the replica acks to `coordinator`.
    PutRequest {
        req: RequestId,
        key: KeyId,
        versions: Rc<VersionSet>,
        coordinator: NodeId,
        hint: Option<NodeId>,
        write_through: bool,
    },
    /// Proxy coordination: ask the lead replica to mint the version and replicate it to `others`.
    MintRequest {
        req: RequestId,
        key: KeyId,
        body: PutBody,
        /// Set when the lead is itself a fall-back: the node it stands in for.
        hint: Option<NodeId>,
        write_through: bool,
        others: Vec<Target>,
    },
    PutAck {
        req: RequestId,
        key: KeyId,
        /// From a lead replica under proxy coordination: the client's new context and the
        /// version set it minted (so the proxy can write it to fall-backs).
        minted: Option<(Rc<CausalContext>, Rc<VersionSet>)>,
    },
    /// Read repair: the reconciled version set for a replica that returned stale or no data.
    ReadRepair {
        key: KeyId,
        versions: Rc<VersionSet>,
    },
    /// Hinted handoff: a fall-back hands the versions it kept for the intended node.
    Hint {
        key: KeyId,
        versions: Rc<VersionSet>,
    },
    HintAck {
        key: KeyId,
        versions: Rc<VersionSet>,
    },
    /// Riak's reap: every primary holds the key's tombstone, so each may remove it.
    Reap {
        key: KeyId,
    },
    Ping,
    Pong,
    /// A gossip round's opening: the digest of the sender's view. A receiver whose view has
    /// another digest answers with its view (`Gossip` with `reply`); an agreeing one says nothing.
    GossipDigest {
        digest: u64,
    },
    /// Gossip: the sender's membership view; with `reply`, the receiver answers with its own.
    Gossip {
        view: Rc<Membership>,
        reply: bool,
    },
    /// Keys handed to a new owner after a ring change, with the view that made the sender
    /// hand them over (ownership is a property of a view: the receiver adopts what it lacks).
    Transfer {
        id: u64,
        entries: Vec<(KeyId, Rc<VersionSet>)>,
        view: Rc<Membership>,
    },
    /// The receiver's view rides back, so a sender that handed off by a stale view learns it
    /// before deleting anything.
    TransferAck {
        id: u64,
        view: Rc<Membership>,
    },
    /// Anti-entropy: tree nodes (heap index, hash) for the receiver to compare with its own.
    /// `ring` names the sender's ring: ranges only mean the same thing on the same ring.
    AeCompare {
        ring: u64,
        range: u32,
        hashes: Vec<(u32, u64)>,
    },
    /// Anti-entropy: every key the sender holds under the differing leaves; with `reply`, the
    /// receiver answers with its own keys under those leaves.
    AeKeys {
        ring: u64,
        range: u32,
        leaves: Vec<u32>,
        entries: Vec<(KeyId, Rc<VersionSet>)>,
        reply: bool,
    },
}

impl Payload {
    /// Every write this message carries (the history oracle's census of what is still held).
    pub fn held_writes(&self, out: &mut Vec<WriteId>) {
        let mut set = |v: &VersionSet| out.extend(v.siblings.iter().map(|s| s.write));
        match self {
            Payload::ClientPut(_, body) | Payload::MintRequest { body, .. } => out.push(body.write),
            Payload::Reply { body: ReplyBody::Get { read, .. }, .. } => set(read),
            Payload::GetReply { versions, .. } => versions.iter().for_each(|v| set(v)),
            Payload::PutRequest { versions, .. }
            | Payload::ReadRepair { versions, .. }
            | Payload::Hint { versions, .. }
            | Payload::HintAck { versions, .. } => set(versions),
            Payload::PutAck { minted, .. } => minted.iter().for_each(|(_, v)| set(v)),
            Payload::Transfer { entries, .. } | Payload::AeKeys { entries, .. } => entries.iter().for_each(|(_, v)| set(v)),
            Payload::ClientGet(_)
            | Payload::Reply { body: ReplyBody::Put { .. } | ReplyBody::Failed(_), .. }
            | Payload::GetRequest { .. }
            | Payload::Reap { .. }
            | Payload::Ping
            | Payload::Pong
            | Payload::Gossip { .. }
            | Payload::GossipDigest { .. }
            | Payload::TransferAck { .. }
            | Payload::AeCompare { .. } => {}
        }
    }

    /// The key a message concerns, for tracing.
    pub fn key(&self) -> Option<KeyId> {
        match self {
            Payload::ClientGet(op) | Payload::ClientPut(op, _) => Some(op.key),
            Payload::Reply { key, .. }
            | Payload::GetRequest { key, .. }
            | Payload::GetReply { key, .. }
            | Payload::PutRequest { key, .. }
            | Payload::MintRequest { key, .. }
            | Payload::PutAck { key, .. }
            | Payload::ReadRepair { key, .. }
            | Payload::Hint { key, .. }
            | Payload::HintAck { key, .. }
            | Payload::Reap { key } => Some(*key),
            Payload::Ping
            | Payload::Pong
            | Payload::AeCompare { .. }
            | Payload::AeKeys { .. }
            | Payload::Gossip { .. }
            | Payload::GossipDigest { .. }
            | Payload::Transfer { .. }
            | Payload::TransferAck { .. } => None,
        }
    }

    /// Bytes on the wire: a header (ids, key, kind) and what the message carries: objects
    /// with their clocks and contexts, membership views, Merkle hashes.
    pub fn size_bytes(&self) -> usize {
        const HEADER: usize = 64;
        let versions = |v: &VersionSet| v.size_bytes();
        let context = |c: &CausalContext| 24 * c.size();
        let body = |b: &PutBody| context(&b.context) + b.cart.size_bytes() + b.value_bytes as usize;
        let view = |m: &Membership| 32 * m.len();
        HEADER
            + match self {
                Payload::ClientGet(_) | Payload::GetRequest { .. } | Payload::Reap { .. } | Payload::Ping | Payload::Pong => 0,
                Payload::ClientPut(_, b) => body(b),
                Payload::Reply { body: reply, .. } => match reply {
                    ReplyBody::Get { read, context: c, .. } => versions(read) + context(c),
                    ReplyBody::Put { context: c } => context(c),
                    ReplyBody::Failed(_) => 0,
                },
                Payload::GetReply { versions: v, digest, .. } => v.as_deref().map_or(0, versions) + 8 * digest.is_some() as usize,
                Payload::PutRequest { versions: v, .. }
                | Payload::ReadRepair { versions: v, .. }
                | Payload::Hint { versions: v, .. }
                | Payload::HintAck { versions: v, .. } => versions(v),
                Payload::MintRequest { body: b, others, .. } => body(b) + 8 * others.len(),
                Payload::PutAck { minted, .. } => minted.as_ref().map_or(0, |(c, v)| context(c) + versions(v)),
                Payload::Gossip { view: m, .. } | Payload::TransferAck { view: m, .. } => view(m),
                Payload::GossipDigest { .. } => 8,
                Payload::Transfer { entries, view: m, .. } => {
                    view(m) + entries.iter().map(|(_, v)| 8 + versions(v)).sum::<usize>()
                }
                Payload::AeCompare { hashes, .. } => 8 + 12 * hashes.len(),
                Payload::AeKeys { leaves, entries, .. } => {
                    8 + 4 * leaves.len() + entries.iter().map(|(_, v)| 4 + versions(v)).sum::<usize>()
                }
            }
    }

    /// Background work that admission control may hold back: hints, range transfers and
    /// anti-entropy exchanges.
    pub fn is_background(&self) -> bool {
        matches!(self, Payload::Hint { .. } | Payload::Transfer { .. } | Payload::AeCompare { .. } | Payload::AeKeys { .. })
    }

    /// Background streams, held to the stream rate: hint delivery and range transfers.
    pub fn is_stream(&self) -> bool {
        matches!(self, Payload::Hint { .. } | Payload::Transfer { .. })
    }

    /// The network kind of this payload.
    pub fn kind(&self) -> MessageKind {
        match self {
            Payload::ClientGet(op) | Payload::ClientPut(op, _) => {
                if op.forwarded {
                    MessageKind::Forward
                } else {
                    MessageKind::ClientRequest
                }
            }
            Payload::Reply { .. } => MessageKind::ClientReply,
            Payload::GetRequest { .. } => MessageKind::GetRequest,
            Payload::GetReply { .. } => MessageKind::GetReply,
            Payload::PutRequest { .. } | Payload::MintRequest { .. } => MessageKind::PutRequest,
            Payload::PutAck { .. } => MessageKind::PutAck,
            Payload::ReadRepair { .. } => MessageKind::ReadRepair,
            Payload::Hint { .. } => MessageKind::Hint,
            Payload::HintAck { .. } => MessageKind::HintAck,
            Payload::Reap { .. } => MessageKind::Reap,
            Payload::Ping => MessageKind::Ping,
            Payload::Pong => MessageKind::Pong,
            Payload::AeCompare { .. } | Payload::AeKeys { .. } => MessageKind::AntiEntropy,
            Payload::Gossip { .. } | Payload::GossipDigest { .. } => MessageKind::Gossip,
            Payload::Transfer { .. } => MessageKind::Transfer,
            Payload::TransferAck { .. } => MessageKind::TransferAck,
        }
    }

    /// Whether handling this message takes the node's service time (requests and writes do;
    /// replies, acknowledgements and pings are bookkeeping).
    pub fn needs_service(&self) -> bool {
        matches!(
            self,
            Payload::ClientGet(_)
                | Payload::ClientPut(..)
                | Payload::GetRequest { .. }
                | Payload::PutRequest { .. }
                | Payload::MintRequest { .. }
                | Payload::ReadRepair { .. }
                | Payload::Reap { .. }
                | Payload::Hint { .. }
                | Payload::AeKeys { .. }
                | Payload::Transfer { .. }
        )
    }
}
