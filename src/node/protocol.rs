//! The protocol's settings, as a scenario fixes them: N, R, W, how a request finds its
//! coordinator, how many replicas it asks, conflict resolution and every repair mechanism's
//! switch and period.

use crate::node::storage::StorageModel;
use crate::node::versioning::Resolution;
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;

/// How a request finds its coordinator (Dynamo §4.5 and §6.4, plus Cassandra's proxy).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Coordination {
    /// The client library sends to the first node of the key's preference list.
    PreferenceListHead,
    /// A load balancer picks any node; a node outside the top N forwards to the list's head.
    LoadBalancer,
    /// The client library picks one of the top N at random and sends to it directly.
    ClientDriven,
    /// Any node the client reaches coordinates, replica or not; a put it does not replicate is
    /// minted by the first replica, which replicates it (Riak's put forwarding).
    Proxy,
    /// Any node the client reaches coordinates, replica or not, and sends the request to the
    /// replicas itself: a put's version is minted by the coordinator and sent to every replica
    /// directly (Cassandra's StorageProxy).
    Direct,
}

/// Which replicas a coordinator asks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// All N replicas (Dynamo).
    All,
    /// Only R (gets) or W (puts) of them, chosen at random.
    Quorum,
    /// Gets ask R of them (Cassandra's `blockFor`, the coordinator first if it is one), puts
    /// all N; the other replicas are read only by speculative retry.
    ReadQuorum,
}

/// When a coordinator sends one more replica read because those it asked are slow
/// (Cassandra's `speculative_retry`).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum SpeculativeRetry {
    /// After this percentile of the replica read latencies this coordinator has seen lately
    /// (`99PERCENTILE`, Cassandra's default).
    Percentile(f64),
    /// After a fixed time (`50ms`).
    After(SimDuration),
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
    /// A coordinator that is a replica reads and writes its own copy through a message to itself,
    /// over the network model and its service queue like any replica (PBS's model: every leg is
    /// a network leg), instead of locally at no cost.
    pub local_legs_over_network: bool,
    pub request_timeout: SimDuration,
    pub read_repair_window: SimDuration,
    /// When vector clocks lose entries (Dynamo's threshold, Riak's size and age rules).
    pub clock_pruning: crate::node::clock_pruning::ClockPruning,
    /// Route around suspected replicas to fall-backs (off: strict quorums over the top N).
    pub sloppy_quorum: bool,
    /// Keep writes meant for a suspected replica as hints and hand them off later.
    pub hinted_handoff: bool,
    pub hint_scan_interval: SimDuration,
    /// Under strict quorums, the coordinator stores no hint for a replica it has suspected for
    /// longer than this (Cassandra's `max_hint_window`); none: no limit.
    pub hint_window: Option<SimDuration>,
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
    /// Whether writes reach the disk at once or wait in a buffer (Dynamo §6.1).
    pub storage: StorageModel,
    /// Whether reading an object takes a disk read (`storage.read_time`): a coordinator then
    /// asks its own replica by a message, so that its read waits on the disk like the others.
    pub reads_from_disk: bool,
    /// Background work waits while the foreground tail is over a target (Dynamo §6.5).
    pub admission: Option<crate::node::admission::AdmissionConfig>,
    /// Riak's PR, PW, DW, `notfound_ok` and `basic_quorum`.
    pub riak: crate::node::riak_quorums::RiakQuorums,
    /// How deletes' tombstones are removed (Cassandra's grace period, Riak's `delete_mode`).
    pub tombstones: crate::node::tombstones::TombstoneRemoval,
    /// Cassandra's read path: one replica returns data and the others digests; a mismatch
    /// costs a second round of full reads.
    pub digest_reads: bool,
    pub speculative_retry: Option<SpeculativeRetry>,
    /// A coordinator answers Unavailable at once when its failure detector deems too few of
    /// the key's replicas alive for the request (Cassandra's `UnavailableException`), instead
    /// of asking them and timing out.
    pub unavailable_when_suspected: bool,
    /// A deliberate bug, for testing the schedule search only: no scenario file can set it
    /// (tests set it on a loaded scenario).
    pub injected_bug: Option<InjectedBug>,
}

/// Deliberate bugs a test can build into the protocol to check that a search finds them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InjectedBug {
    /// A coordinator that mints two versions of one key at the same instant, the later-issued
    /// write first, skips storing the earlier-issued one yet acknowledges it: a bug of message
    /// order at a single instant, which the seeded runs (ties go in send order) never show.
    SameInstantReorderDropsWrite,
}

/// How conflicting versions are resolved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Dynamo's per-version vector clocks: replicas keep concurrent versions as siblings and the
    /// client merges them (Dynamo, Voldemort).
    VectorClocks,
    /// Dotted version vectors: siblings as above, ordered exactly (Riak 2).
    DottedVersionVectors,
    /// Replicas keep the version with the latest coordinator timestamp (Cassandra).
    LastWriteWins,
}

impl ConflictPolicy {
    pub fn resolution(self) -> Resolution {
        match self {
            ConflictPolicy::LastWriteWins => Resolution::LastWriteWins,
            ConflictPolicy::VectorClocks => Resolution::VectorClocks,
            ConflictPolicy::DottedVersionVectors => Resolution::DottedVersionVectors,
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
