//! Stage one: a serde mirror of the scenario file. Every struct denies unknown fields, so a
//! misspelt field is an error rather than a silently ignored setting; defaults live in stage two.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawDistribution {
    Constant {
        ms: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Exponential {
        mean_ms: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Lognormal {
        median_ms: f64,
        sigma: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Pareto {
        scale_ms: f64,
        shape: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Mixture {
        components: Vec<RawComponent>,
        #[serde(default)]
        offset_ms: f64,
    },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    pub(super) weight: f64,
    pub(super) latency: RawDistribution,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    /// The scenario format the file is written in; today's is 2. A file without one is format 1
    /// and is refused where a spelling it uses has changed meaning since, with today's spelling.
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) format: Option<u64>,
    /// Applied before validation (see presets); kept so the report records it.
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) preset: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    /// Default: `""`.
    #[serde(default)]
    pub(super) description: Option<String>,
    /// Default: `1`.
    #[serde(default)]
    pub(super) seed: Option<u64>,
    /// Client traffic runs this long ... Default: `10000`.
    pub(super) duration_ms: f64,
    /// ... then the system runs this long with no new requests. Default: `0`.
    #[serde(default)]
    pub(super) quiescent_tail_ms: Option<f64>,
    #[serde(default)]
    pub(super) cluster: RawCluster,
    #[serde(default)]
    pub(super) ring: RawRing,
    #[serde(default)]
    pub(super) protocol: RawProtocol,
    #[serde(default)]
    pub(super) network: RawNetwork,
    #[serde(default)]
    pub(super) workload: RawWorkload,
    #[serde(default)]
    pub(super) probe: Option<RawProbe>,
    /// Applied at at_ms; same-time faults in file order.
    #[serde(default)]
    pub(super) faults: Vec<RawFault>,
    #[serde(default)]
    pub(super) observe: RawObserve,
    #[serde(default)]
    pub(super) checks: RawChecks,
    #[serde(default)]
    pub(super) membership: RawMembership,
    #[serde(default)]
    pub(super) nemesis: Option<RawNemesis>,
    /// A controlled schedule (what `explore --exhaustive` and `--pct` print to replay a run):
    /// the choices the run makes where the network and the nemesis menu leave it open.
    #[serde(default)]
    pub(super) schedule: Option<RawSchedule>,
    /// Or
    /// {"kind":"buffered","flush_interval_ms":1000,"durable_writes":1,"write_time":{...},"read_time":{...}}
    /// write_time, read_time: one disk write or object read, on the node's own FIFO disk.
    #[serde(default)]
    pub(super) storage: Option<RawStorage>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawStorage {
    Durable {
        #[serde(default)]
        write_time: Option<RawDistribution>,
        #[serde(default)]
        read_time: Option<RawDistribution>,
    },
    Buffered {
        #[serde(default)]
        flush_interval_ms: Option<f64>,
        #[serde(default)]
        durable_writes: Option<usize>,
        #[serde(default)]
        write_time: Option<RawDistribution>,
        #[serde(default)]
        read_time: Option<RawDistribution>,
    },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNemesis {
    pub(super) rate_per_s: f64,
    pub(super) kinds: Vec<RawNemesisKind>,
    #[serde(default)]
    pub(super) start_ms: Option<f64>,
    #[serde(default)]
    pub(super) stop_ms: Option<f64>,
    #[serde(default)]
    pub(super) fault_duration: Option<RawDistribution>,
    #[serde(default)]
    pub(super) loss_probability: Option<f64>,
    #[serde(default)]
    pub(super) slow_factor: Option<f64>,
    #[serde(default)]
    pub(super) clock_skew_ms: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    /// The choices, as explore prints them: "o0x41,o2,d1,u1,f3" (o: which event goes first,
    /// d: drop a message, u: deliver it twice, f: inject a fault from the nemesis menu; xN
    /// repeats). Default: none, every choice the default (the seeded run's).
    #[serde(default)]
    pub(super) choices: Option<String>,
    /// Messages due within this long after the earliest event may be delivered first.
    /// Default: `0` (only events due at the same instant).
    #[serde(default)]
    pub(super) window_ms: Option<f64>,
    /// Most reorderings (non-default order choices) a schedule makes. Default: `2`.
    #[serde(default)]
    pub(super) reorders: Option<u32>,
    /// Most messages a schedule drops. Default: `0`.
    #[serde(default)]
    pub(super) drops: Option<u32>,
    /// Most messages a schedule delivers twice. Default: `0`.
    #[serde(default)]
    pub(super) duplicates: Option<u32>,
    /// Most faults from the nemesis menu a schedule injects (then the nemesis draws none at
    /// random). Default: `0`.
    #[serde(default)]
    pub(super) faults: Option<u32>,
    /// Most choice points a run offers; later ones take the default. Default: `1000`.
    #[serde(default)]
    pub(super) depth: Option<u32>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawNemesisKind {
    Crash,
    DiskLoss,
    Partition,
    LossBurst,
    Slow,
    ClockSkew,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMembership {
    #[serde(default)]
    pub(super) seeds: Option<Vec<u32>>,
    /// Default: `1000`.
    #[serde(default)]
    pub(super) gossip_interval_ms: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChecks {
    #[serde(default)]
    pub(super) convergence: Option<bool>,
    #[serde(default)]
    pub(super) convergence_within_ms: Option<f64>,
    #[serde(default)]
    pub(super) lost_writes: Option<RawLostWrites>,
    #[serde(default)]
    pub(super) faults_fired: Option<bool>,
    #[serde(default)]
    pub(super) max_get_p999_ms: Option<f64>,
    #[serde(default)]
    pub(super) max_put_p999_ms: Option<f64>,
    #[serde(default)]
    pub(super) max_stale_read_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_read_your_writes_violation_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_monotonic_reads_violation_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_monotonic_writes_violation_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_writes_follow_reads_violation_fraction: Option<f64>,
    #[serde(default)]
    pub(super) min_availability: Option<f64>,
    #[serde(default)]
    pub(super) max_multi_version_read_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_stall_ms: Option<f64>,
    #[serde(default)]
    pub(super) min_window_availability: Option<f64>,
    #[serde(default)]
    pub(super) min_throughput_fraction: Option<f64>,
    #[serde(default)]
    pub(super) max_resurrected_keys: Option<u64>,
    #[serde(default)]
    pub(super) min_resurrected_keys: Option<u64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawLostWrites {
    Fail,
    Report,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObserve {
    /// Default: `1000`.
    #[serde(default)]
    pub(super) divergence_interval_ms: Option<f64>,
    /// Default: `1000`.
    #[serde(default)]
    pub(super) load_window_ms: Option<f64>,
    /// Per latency log; past it, percentiles to 3 significant digits. Default: `1048576`.
    #[serde(default)]
    pub(super) exact_latency_samples: Option<u64>,
    /// The oracle forgets what nothing holds every this many writes (0: never). Default: `262144`.
    #[serde(default)]
    pub(super) history_prune_writes: Option<u64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawFault {
    Crash {
        at_ms: f64,
        node: u32,
        #[serde(default)]
        lose_disk: bool,
    },
    Restart {
        at_ms: f64,
        node: u32,
    },
    Partition {
        at_ms: f64,
        name: String,
        groups: Vec<Vec<u32>>,
        #[serde(default)]
        one_way: bool,
    },
    Heal {
        at_ms: f64,
        name: String,
    },
    ClockSkew {
        at_ms: f64,
        node: u32,
        offset_ms: f64,
    },
    /// Raises message loss everywhere to at least `loss_probability` for `duration_ms`.
    LossBurst {
        at_ms: f64,
        duration_ms: f64,
        loss_probability: f64,
    },
    /// From now on `node` runs `factor` times slower (1 restores it).
    Slow {
        at_ms: f64,
        node: u32,
        factor: f64,
    },
    /// Starts `node` and adds it to the ring through `contact` (the node the operator's command
    /// reaches; without one, the new node knows only itself and the seeds).
    Join {
        at_ms: f64,
        node: u32,
        #[serde(default)]
        contact: Option<u32>,
    },
    /// Decommissions `node` through `contact` (the node the operator's command reaches, which
    /// records the change; by default the lowest-numbered node that is up and stays): `node`
    /// leaves the ring, hands its keys off, then stops.
    Leave {
        at_ms: f64,
        node: u32,
        #[serde(default)]
        contact: Option<u32>,
    },
    /// The operator's repair (`nodetool repair`): a full Merkle-tree exchange of `node`'s ranges
    /// with their other replicas, or of every node's when no node is named.
    Repair {
        at_ms: f64,
        #[serde(default)]
        node: Option<u32>,
    },
    /// Restarts `nodes` one after another: each is down for `down_ms`, the next goes down
    /// `gap_ms` after the previous came back.
    RollingRestart {
        at_ms: f64,
        nodes: Vec<u32>,
        down_ms: f64,
        #[serde(default)]
        gap_ms: f64,
    },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCluster {
    /// Default: `8`.
    #[serde(default)]
    pub(super) nodes: Option<u32>,
    #[serde(default)]
    pub(super) initial_members: Option<Vec<u32>>,
    /// Nodes are dealt round-robin over datacenters (racks are not modelled).
    #[serde(default)]
    pub(super) datacenters: Option<Vec<String>>,
    /// A machine half as fast.
    #[serde(default)]
    pub(super) node_overrides: Vec<RawNodeOverride>,
    /// Not zero: every request draws this on one core instead (the WARS model).
    #[serde(default)]
    pub(super) service_time: Option<RawDistribution>,
    /// Each node's machine (see Capacity below); {"infinite": true}: no cost at all.
    #[serde(default)]
    pub(super) capacity: Option<RawCapacity>,
    /// 1 to 1000; stretches CPU, disk, interface and outgoing latency.
    #[serde(default)]
    pub(super) slow_nodes: Vec<RawSlowNode>,
}

/// Admission control of background work (Dynamo §6.5).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmission {
    #[serde(default)]
    pub(super) percentile: Option<f64>,
    pub(super) target_ms: f64,
    #[serde(default)]
    pub(super) window: Option<usize>,
    #[serde(default)]
    pub(super) backoff_ms: Option<f64>,
}

/// Each node's machine: CPU cores and the CPU time of each kind of work, in microseconds, and
/// its network interface's bandwidth; `infinite` for a node with no cost at all.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCapacity {
    #[serde(default)]
    pub(super) infinite: bool,
    /// Default: `4`.
    #[serde(default)]
    pub(super) cores: Option<u32>,
    #[serde(default)]
    pub(super) cpu_us: RawCpuCosts,
    /// Each way. Default: `125`.
    #[serde(default)]
    pub(super) nic_mb_per_s: Option<f64>,
    /// Hint delivery and range transfers (Cassandra's stream_throughput_outbound). Default: `25`.
    #[serde(default)]
    pub(super) stream_mb_per_s: Option<f64>,
    /// Background reads of the store: tree builds, handoff scans (Cassandra's compaction
    /// throughput). Default: `16`.
    #[serde(default)]
    pub(super) scan_mb_per_s: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCpuCosts {
    #[serde(default)]
    pub(super) coordinate_get: Option<f64>,
    #[serde(default)]
    pub(super) coordinate_put: Option<f64>,
    #[serde(default)]
    pub(super) replica_read: Option<f64>,
    #[serde(default)]
    pub(super) replica_write: Option<f64>,
    #[serde(default)]
    pub(super) per_key_stored: Option<f64>,
    #[serde(default)]
    pub(super) merkle_per_key: Option<f64>,
    #[serde(default)]
    pub(super) exchange_per_hash: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNodeOverride {
    pub(super) node: u32,
    #[serde(default)]
    pub(super) weight: Option<f64>,
    #[serde(default)]
    pub(super) datacenter: Option<String>,
    #[serde(default)]
    pub(super) clock_skew_ms: Option<f64>,
    #[serde(default)]
    pub(super) capacity_factor: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlowNode {
    pub(super) node: u32,
    pub(super) factor: f64,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawStrategy {
    #[default]
    RandomTokens,
    RandomTokensEqualPartitions,
    EqualPartitions,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRing {
    /// Dynamo's partitioning strategy 1, 2 or 3. Default: `"random_tokens"`.
    #[serde(default)]
    pub(super) strategy: RawStrategy,
    /// T (times the node's weight). Default: `8`.
    #[serde(default)]
    pub(super) tokens_per_node: Option<u32>,
    /// Q for strategies 2 and 3 (default: next power of two >= S*T, at least 64). Default: `64`.
    #[serde(default)]
    pub(super) partitions: Option<u32>,
    /// Default: `false`.
    #[serde(default)]
    pub(super) spread_across_datacenters: bool,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawCoordination {
    #[default]
    PreferenceListHead,
    LoadBalancer,
    ClientDriven,
    Proxy,
    Direct,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawFanout {
    #[default]
    All,
    Quorum,
    ReadQuorum,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProtocol {
    /// Replicas of each key (N). Default: `3`.
    #[serde(default)]
    pub(super) n: Option<usize>,
    /// Replies a get waits for (R). Default: a majority of `n`.
    #[serde(default)]
    pub(super) r: Option<usize>,
    /// Acknowledgements a put waits for (W). Default: a majority of `n`.
    #[serde(default)]
    pub(super) w: Option<usize>,
    /// Who coordinates a request. Default: `"preference_list_head"`.
    #[serde(default)]
    pub(super) coordination: RawCoordination,
    /// Replicas a request asks: all N; `quorum`: only R (gets) or W (puts), at random;
    /// `read_quorum`: R for gets, all N for puts (Cassandra). Default: `"all"`.
    #[serde(default)]
    pub(super) fanout: RawFanout,
    /// A put goes to the replica that answered the previous read fastest (Dynamo §6.4).
    /// Default: `false`.
    #[serde(default)]
    pub(super) write_to_fastest_reader: bool,
    /// A replica coordinator reads and writes its own copy by message, over the network. Default:
    /// `false`.
    #[serde(default)]
    pub(super) local_legs_over_network: bool,
    /// Coordinator gives up and answers failure. Default: `500`.
    #[serde(default)]
    pub(super) request_timeout_ms: Option<f64>,
    /// Coordinator keeps listening for late replies. Default: `50`.
    #[serde(default)]
    pub(super) read_repair_window_ms: Option<f64>,
    /// Past this many entries a clock loses its oldest (Dynamo's; Riak's big_vclock). Default:
    /// `10`.
    #[serde(default)]
    pub(super) clock_truncation_threshold: Option<usize>,
    /// Riak's small_vclock: never prune a clock this short (default: the threshold). Default:
    /// `null`.
    #[serde(default)]
    pub(super) clock_prune_small: Option<usize>,
    /// Riak's young_vclock: never drop an entry updated more recently than this. Default: `0`.
    #[serde(default)]
    pub(super) clock_prune_young_ms: Option<f64>,
    /// Riak's old_vclock: past small, drop entries older than this even within the threshold.
    /// Default: `null`.
    #[serde(default)]
    pub(super) clock_prune_old_ms: Option<f64>,
    /// Prune in a background pass over the store this often (seed 001), not as writes update
    /// clocks. Default: `null`.
    #[serde(default)]
    pub(super) clock_prune_interval_ms: Option<f64>,
    /// First N nodes not suspected, fall-backs carry hints. Default: `true`.
    #[serde(default)]
    pub(super) sloppy_quorum: Option<bool>,
    /// Default: `true`.
    #[serde(default)]
    pub(super) hinted_handoff: Option<bool>,
    /// Default: `500`.
    #[serde(default)]
    pub(super) hint_scan_interval_ms: Option<f64>,
    /// Strict quorums: no hint for a replica suspected longer than this (Cassandra's
    /// max_hint_window). Default: `null`.
    #[serde(default)]
    pub(super) hint_window_ms: Option<f64>,
    /// Default: `true`.
    #[serde(default)]
    pub(super) read_repair: Option<bool>,
    /// A replica silent this long is suspected. Default: `100`.
    #[serde(default)]
    pub(super) reply_timeout_ms: Option<f64>,
    /// Suspected peers are pinged this often. Default: `200`.
    #[serde(default)]
    pub(super) probe_interval_ms: Option<f64>,
    /// Default: `true`.
    #[serde(default)]
    pub(super) anti_entropy: Option<bool>,
    /// Default: `1000`.
    #[serde(default)]
    pub(super) anti_entropy_interval_ms: Option<f64>,
    /// {"target_ms": 1, "percentile": 0.99, "window": 200, "backoff_ms": 10}: background work waits
    /// while the node's foreground requests wait longer than that for a core (Dynamo §6.5).
    /// Default: `null`.
    #[serde(default)]
    pub(super) admission_control: Option<RawAdmission>,
    /// Default: `32`.
    #[serde(default)]
    pub(super) merkle_leaves: Option<usize>,
    /// How versions are ordered: `vector_clocks` is Dynamo's clock per version. Default:
    /// `"dotted_version_vectors"`.
    #[serde(default)]
    pub(super) conflict_resolution: RawConflict,
    /// Riak's: replies a get (put) needs from primaries (the key's top N), not fall-backs; too few
    /// healthy primaries: refused at once (unavailable). Default: `0`.
    #[serde(default)]
    pub(super) pr: Option<usize>,
    /// Riak's: acknowledgements a put needs from primaries. Default: `0`.
    #[serde(default)]
    pub(super) pw: Option<usize>,
    /// Riak's: acknowledgements a put needs from durable writes (buffered storage asks that many
    /// replicas to write through). Default: `0`.
    #[serde(default)]
    pub(super) dw: Option<usize>,
    /// Riak's: a replica's "not found" counts toward R; off: only replies that found the key do,
    /// and N - R + 1 "not found" answers end the read with "not found". Default: `true`.
    #[serde(default)]
    pub(super) notfound_ok: Option<bool>,
    /// Riak's: with notfound_ok off, a majority of "not found" answers ends the read. Default:
    /// `false`.
    #[serde(default)]
    pub(super) basic_quorum: Option<bool>,
    /// Cassandra's gc_grace_seconds: each replica purges a delete's tombstone this long after the
    /// delete (by the delete's timestamp and the replica's clock); null: never. Default: `null`.
    #[serde(default)]
    pub(super) gc_grace_ms: Option<f64>,
    /// "keep", "immediate" or a delay in milliseconds, as Riak spells it.
    #[serde(default)]
    pub(super) delete_mode: Option<serde_json::Value>,
    /// Cassandra's: one replica asked returns data, the others a digest; a mismatch reads it in
    /// full. Default: `false`.
    #[serde(default)]
    pub(super) digest_reads: Option<bool>,
    /// "99percentile" or "50ms", as Cassandra spells it; null or "none": never.
    #[serde(default)]
    pub(super) speculative_retry: Option<String>,
    /// Cassandra's UnavailableException: refuse at once what the replicas the failure detector
    /// deems alive cannot serve, instead of asking and timing out. Default: `false`.
    #[serde(default)]
    pub(super) unavailable_when_suspected: Option<bool>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawConflict {
    VectorClocks,
    #[default]
    DottedVersionVectors,
    LastWriteWins,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    #[serde(default)]
    pub(super) latency: Option<RawDistribution>,
    /// Default: `0`.
    #[serde(default)]
    pub(super) loss_probability: Option<f64>,
    /// Default: `0`.
    #[serde(default)]
    pub(super) duplicate_probability: Option<f64>,
    /// True: no overtaking on a directed link. Default: `false`.
    #[serde(default)]
    pub(super) fifo_per_link: bool,
    /// Overrides; the most specific matching rule wins per field.
    #[serde(default)]
    pub(super) rules: Vec<RawRule>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    #[serde(default)]
    pub(super) from_node: Option<u32>,
    #[serde(default)]
    pub(super) to_node: Option<u32>,
    #[serde(default)]
    pub(super) from_datacenter: Option<String>,
    #[serde(default)]
    pub(super) to_datacenter: Option<String>,
    #[serde(default)]
    pub(super) kinds: Vec<String>,
    #[serde(default)]
    pub(super) latency: Option<RawDistribution>,
    #[serde(default)]
    pub(super) loss_probability: Option<f64>,
    #[serde(default)]
    pub(super) duplicate_probability: Option<f64>,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawPopularity {
    Uniform,
    Zipf { exponent: f64 },
    HotSet { key_fraction: f64, access_fraction: f64 },
}

/// A written object's size.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawValueBytes {
    Constant { bytes: f64 },
    Lognormal { median_bytes: f64, sigma: f64 },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawValue {
    Register {
        #[serde(default = "yes")]
        read_before_write: bool,
    },
    Cart {
        #[serde(default)]
        remove_probability: f64,
        #[serde(default)]
        merge: RawCartMerge,
    },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawCartMerge {
    #[default]
    Union,
    ObservedRemove,
}

pub(super) fn yes() -> bool {
    true
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawArrivals {
    Closed {
        clients: usize,
        think_time: RawDistribution,
    },
    Open {
        rate_per_s: f64,
        clients: usize,
        #[serde(default)]
        profile: Option<RawRateProfile>,
    },
}

/// How an open workload's rate varies, as a factor of its `rate_per_s`.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawRateProfile {
    Diurnal {
        period_ms: f64,
        amplitude: f64,
        #[serde(default)]
        peak_ms: f64,
    },
    Steps {
        steps: Vec<RawRateStep>,
    },
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateStep {
    pub(super) from_ms: f64,
    pub(super) factor: f64,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    /// Default: `1000`.
    #[serde(default)]
    pub(super) keys: Option<usize>,
    /// Which keys operations pick. Default: `{"kind": "uniform"}`.
    #[serde(default)]
    pub(super) popularity: Option<RawPopularity>,
    /// Default: `0.5`.
    #[serde(default)]
    pub(super) read_fraction: Option<f64>,
    /// Operations that delete their key (a tombstone version; registers only): after a read with
    /// read_before_write, else with the session's context; the rest are writes. Default: `0`.
    #[serde(default)]
    pub(super) delete_fraction: Option<f64>,
    /// What a key holds: a register or a shopping cart. Default: `{"kind": "register", "read_before_write": true}`.
    #[serde(default)]
    pub(super) value: Option<RawValue>,
    /// Each object's size, at most 1 MiB. Default: `{"kind": "constant", "bytes": 1024}`.
    #[serde(default)]
    pub(super) value_bytes: Option<RawValueBytes>,
    /// When operations start: closed-loop clients with a think time, or open-loop Poisson
    /// arrivals whose rate a profile (diurnal or steps) may vary. Default: 10 closed clients.
    #[serde(default)]
    pub(super) arrivals: Option<RawArrivals>,
    /// Default: `2000`.
    #[serde(default)]
    pub(super) client_timeout_ms: Option<f64>,
    #[serde(default)]
    pub(super) avoid_after_timeout_ms: Option<f64>,
    /// Resend a timed-out operation to the next node (Dynamo's failover), up to this many times.
    /// Default: `0`.
    #[serde(default)]
    pub(super) client_retries: Option<u32>,
    /// Keys a client library keeps a session (context) for; the least recently used beyond it is
    /// forgotten. Default: `3072`.
    #[serde(default)]
    pub(super) session_keys_per_client: Option<u64>,
    /// Partition-aware clients fetch the membership this often (0: always current). Default:
    /// `10000`.
    #[serde(default)]
    pub(super) client_ring_refresh_ms: Option<f64>,
    /// What a client remembers between operations: `read_modify_write` is Jepsen's plain client
    /// (no memory), `blind` writes with no read and no context. Default: `"session"`.
    #[serde(default)]
    pub(super) client_semantics: RawClientSemantics,
    #[serde(default)]
    pub(super) clients_with_nodes: bool,
    /// Clients' datacenter, for datacenter latency rules; a list spreads them, client i in entry i
    /// mod its length. Default: `null`.
    #[serde(default)]
    pub(super) client_datacenter: Option<OneOrMany>,
    /// Per-request consistency levels: {"LOCAL_QUORUM": 0.9, "ONE": 0.1}, probabilities summing to
    /// 1,. Default: `null`.
    #[serde(default)]
    pub(super) get_consistency: Option<std::collections::BTreeMap<String, f64>>,
    /// From ONE TWO THREE QUORUM ALL LOCAL_ONE LOCAL_QUORUM EACH_QUORUM; null: R and W for every
    /// request. Default: `null`.
    #[serde(default)]
    pub(super) put_consistency: Option<std::collections::BTreeMap<String, f64>>,
    /// Clients send only to nodes of their own datacenter (a datacenter-aware driver). Default:
    /// `false`.
    #[serde(default)]
    pub(super) local_datacenter_coordinators: bool,
    /// Operations on a key never overlap: a client-side lock per key, first come first served.
    /// Default: `false`.
    #[serde(default)]
    pub(super) key_lock: bool,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    /// Default: `10`.
    #[serde(default)]
    pub(super) clients: Option<usize>,
    pub(super) delays_ms: Vec<f64>,
    #[serde(default)]
    pub(super) gap: Option<RawDistribution>,
    /// Writes per probe key before its read (PBS's k-staleness), 1 to 8. Default: `1`.
    #[serde(default)]
    pub(super) versions: Option<usize>,
}

impl RawFault {
    /// When the fault is scheduled, as the file gives it.
    pub(super) fn at_ms(&self) -> f64 {
        match self {
            RawFault::Crash { at_ms, .. }
            | RawFault::Restart { at_ms, .. }
            | RawFault::Partition { at_ms, .. }
            | RawFault::Heal { at_ms, .. }
            | RawFault::ClockSkew { at_ms, .. }
            | RawFault::Join { at_ms, .. }
            | RawFault::LossBurst { at_ms, .. }
            | RawFault::Slow { at_ms, .. }
            | RawFault::Leave { at_ms, .. }
            | RawFault::Repair { at_ms, .. }
            | RawFault::RollingRestart { at_ms, .. } => *at_ms,
        }
    }
}

/// A datacenter name, or a list of them.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawClientSemantics {
    #[default]
    Session,
    ReadModifyWrite,
    Blind,
}
