//! Messages that cross the simulated network, between clients and nodes and between nodes.
//!
//! Version sets travel as `Rc` so that sending one to N replicas shares it instead of copying
//! it; a replica that changes its copy clones on write.

use crate::ids::{ClientId, KeyId, NodeId, RequestId, WriteId};
use crate::network::MessageKind;
use crate::versioning::{Cart, CausalContext, Sibling, VersionSet};
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
}

#[derive(Clone, Debug)]
pub struct PutBody {
    pub write: WriteId,
    pub context: Rc<CausalContext>,
    pub cart: Option<Rc<Cart>>,
}

/// Why a request failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The coordinator did not hear from enough replicas in time.
    CoordinatorTimeout,
    /// The client heard nothing in time (lost messages, crashed coordinator).
    ClientTimeout,
}

#[derive(Clone, Debug)]
pub enum ReplyBody {
    Get {
        siblings: Vec<Sibling>,
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

#[derive(Clone, Debug)]
pub enum Payload {
    ClientGet(ClientOp),
    ClientPut(ClientOp, PutBody),
    Reply {
        op: u64,
        key: KeyId,
        body: ReplyBody,
    },
    GetRequest {
        req: RequestId,
        key: KeyId,
    },
    GetReply {
        req: RequestId,
        key: KeyId,
        versions: Option<Rc<VersionSet>>,
    },
    /// Replicate a coordinator's whole updated version set; the replica acks to `coordinator`.
    PutRequest {
        req: RequestId,
        key: KeyId,
        versions: Rc<VersionSet>,
        coordinator: NodeId,
    },
    /// Proxy coordination: ask the lead replica to mint the version and replicate it to `others`.
    MintRequest {
        req: RequestId,
        key: KeyId,
        body: PutBody,
        others: Vec<NodeId>,
    },
    PutAck {
        req: RequestId,
        key: KeyId,
        minted: Option<Rc<CausalContext>>,
    },
}

impl Payload {
    /// The key a message concerns, for tracing.
    pub fn key(&self) -> Option<KeyId> {
        match self {
            Payload::ClientGet(op) | Payload::ClientPut(op, _) => Some(op.key),
            Payload::Reply { key, .. }
            | Payload::GetRequest { key, .. }
            | Payload::GetReply { key, .. }
            | Payload::PutRequest { key, .. }
            | Payload::MintRequest { key, .. }
            | Payload::PutAck { key, .. } => Some(*key),
        }
    }

    /// The network kind of this payload, given whether a node forwards it.
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
        }
    }

    /// Whether handling this message takes the node's service time (requests do; replies and
    /// acknowledgements are bookkeeping at the coordinator).
    pub fn needs_service(&self) -> bool {
        matches!(
            self,
            Payload::ClientGet(_)
                | Payload::ClientPut(..)
                | Payload::GetRequest { .. }
                | Payload::PutRequest { .. }
                | Payload::MintRequest { .. }
        )
    }
}
