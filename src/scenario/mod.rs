//! Scenario files: JSON in, a validated [`Scenario`] out, in two stages.
//!
//! Stage one is a raw serde mirror of the file with `deny_unknown_fields`, so a misspelt field is
//! an error rather than a silently ignored setting. Stage two checks ranges and cross-field
//! rules (R and W at most N, N at most the node count, known datacenters and nodes) and builds
//! the typed scenario with units converted. Nothing downstream validates again. Every error
//! names the file, the line and column, the field path and what would be accepted, with a
//! near-miss suggestion for misspelt names.
//!
//! `--set path=value` overrides are applied to the JSON tree between reading and stage one, so
//! they are validated exactly like the file.

pub mod jsonpos;
pub mod nemesis;
pub mod presets;
use crate::cluster::network::{LinkRule, LinkSettings, MessageKind, NetworkConfig};
use crate::cluster::ring::Strategy;
use crate::node::{ConflictPolicy, Coordination, Fanout, Protocol};
use crate::sim::distribution::Distribution;
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;
use crate::world::client::{Arrivals, KeyPopularity, ProbeConfig, ValueModel, WorkloadConfig};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// The built-in default scenario (`dynasim` with no arguments).
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/quickstart.json");
pub const DEFAULT_SCENARIO_NAME: &str = "<built-in quickstart>";

// ---------------------------------------------------------------- stage one: raw mirror

#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawDistribution {
    Constant {
        ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    Exponential {
        mean_ms: f64,
        #[serde(default)]
        offset_ms: f64,
    },
    Lognormal {
        median_ms: f64,
        sigma: f64,
    },
    Pareto {
        scale_ms: f64,
        shape: f64,
    },
    Mixture {
        components: Vec<RawComponent>,
    },
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    weight: f64,
    latency: RawDistribution,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    /// Applied before validation (see presets); kept so the report records it.
    #[serde(default)]
    #[allow(dead_code)]
    preset: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    duration_ms: f64,
    #[serde(default)]
    quiescent_tail_ms: Option<f64>,
    #[serde(default)]
    cluster: RawCluster,
    #[serde(default)]
    ring: RawRing,
    #[serde(default)]
    protocol: RawProtocol,
    #[serde(default)]
    network: RawNetwork,
    #[serde(default)]
    workload: RawWorkload,
    #[serde(default)]
    probe: Option<RawProbe>,
    #[serde(default)]
    faults: Vec<RawFault>,
    #[serde(default)]
    observe: RawObserve,
    #[serde(default)]
    checks: RawChecks,
    #[serde(default)]
    membership: RawMembership,
    #[serde(default)]
    nemesis: Option<RawNemesis>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawNemesis {
    rate_per_s: f64,
    kinds: Vec<RawNemesisKind>,
    #[serde(default)]
    start_ms: Option<f64>,
    #[serde(default)]
    stop_ms: Option<f64>,
    #[serde(default)]
    fault_duration: Option<RawDistribution>,
    #[serde(default)]
    loss_probability: Option<f64>,
    #[serde(default)]
    slow_factor: Option<f64>,
    #[serde(default)]
    clock_skew_ms: Option<f64>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RawNemesisKind {
    Crash,
    DiskLoss,
    Partition,
    LossBurst,
    Slow,
    ClockSkew,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawMembership {
    #[serde(default)]
    seeds: Option<Vec<u32>>,
    #[serde(default)]
    gossip_interval_ms: Option<f64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawChecks {
    #[serde(default)]
    convergence: Option<bool>,
    #[serde(default)]
    convergence_within_ms: Option<f64>,
    #[serde(default)]
    lost_writes: Option<RawLostWrites>,
    #[serde(default)]
    faults_fired: Option<bool>,
    #[serde(default)]
    max_get_p999_ms: Option<f64>,
    #[serde(default)]
    max_put_p999_ms: Option<f64>,
    #[serde(default)]
    max_stale_read_fraction: Option<f64>,
    #[serde(default)]
    min_availability: Option<f64>,
    #[serde(default)]
    max_multi_version_read_fraction: Option<f64>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RawLostWrites {
    Fail,
    Report,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawObserve {
    #[serde(default)]
    divergence_interval_ms: Option<f64>,
}

#[derive(Deserialize, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawFault {
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

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    #[serde(default)]
    nodes: Option<u32>,
    #[serde(default)]
    initial_members: Option<Vec<u32>>,
    #[serde(default)]
    datacenters: Option<Vec<String>>,
    #[serde(default)]
    racks_per_datacenter: Option<u32>,
    #[serde(default)]
    node_overrides: Vec<RawNodeOverride>,
    #[serde(default)]
    service_time: Option<RawDistribution>,
    #[serde(default)]
    slow_nodes: Vec<RawSlowNode>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawNodeOverride {
    node: u32,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    datacenter: Option<String>,
    #[serde(default)]
    rack: Option<u32>,
    #[serde(default)]
    clock_skew_ms: Option<f64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSlowNode {
    node: u32,
    factor: f64,
}

#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RawStrategy {
    #[default]
    RandomTokens,
    RandomTokensEqualPartitions,
    EqualPartitions,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawRing {
    #[serde(default)]
    strategy: RawStrategy,
    #[serde(default)]
    tokens_per_node: Option<u32>,
    #[serde(default)]
    partitions: Option<u32>,
    #[serde(default)]
    spread_across_datacenters: bool,
}

#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawCoordination {
    #[default]
    PreferenceListHead,
    LoadBalancer,
    ClientDriven,
    Proxy,
}

#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawFanout {
    #[default]
    All,
    Quorum,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    #[serde(default)]
    n: Option<usize>,
    #[serde(default)]
    r: Option<usize>,
    #[serde(default)]
    w: Option<usize>,
    #[serde(default)]
    coordination: RawCoordination,
    #[serde(default)]
    fanout: RawFanout,
    #[serde(default)]
    write_to_fastest_reader: bool,
    #[serde(default)]
    request_timeout_ms: Option<f64>,
    #[serde(default)]
    read_repair_window_ms: Option<f64>,
    #[serde(default)]
    clock_truncation_threshold: Option<usize>,
    #[serde(default)]
    sloppy_quorum: Option<bool>,
    #[serde(default)]
    hinted_handoff: Option<bool>,
    #[serde(default)]
    hint_scan_interval_ms: Option<f64>,
    #[serde(default)]
    read_repair: Option<bool>,
    #[serde(default)]
    reply_timeout_ms: Option<f64>,
    #[serde(default)]
    probe_interval_ms: Option<f64>,
    #[serde(default)]
    anti_entropy: Option<bool>,
    #[serde(default)]
    anti_entropy_interval_ms: Option<f64>,
    #[serde(default)]
    merkle_leaves: Option<usize>,
    #[serde(default)]
    conflict_resolution: RawConflict,
}

#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawConflict {
    #[default]
    VectorClocks,
    LastWriteWins,
    MergeCarts,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    #[serde(default)]
    latency: Option<RawDistribution>,
    #[serde(default)]
    loss_probability: Option<f64>,
    #[serde(default)]
    duplicate_probability: Option<f64>,
    #[serde(default)]
    fifo_per_link: bool,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    from_node: Option<u32>,
    #[serde(default)]
    to_node: Option<u32>,
    #[serde(default)]
    from_datacenter: Option<String>,
    #[serde(default)]
    to_datacenter: Option<String>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    latency: Option<RawDistribution>,
    #[serde(default)]
    loss_probability: Option<f64>,
    #[serde(default)]
    duplicate_probability: Option<f64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawPopularity {
    Uniform,
    Zipf { exponent: f64 },
    HotSet { key_fraction: f64, access_fraction: f64 },
}

#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawValue {
    Register {
        #[serde(default = "yes")]
        read_before_write: bool,
    },
    Cart {
        #[serde(default)]
        remove_probability: f64,
    },
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawArrivals {
    Closed { clients: usize, think_time: RawDistribution },
    Open { rate_per_s: f64, clients: usize },
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    #[serde(default)]
    keys: Option<usize>,
    #[serde(default)]
    popularity: Option<RawPopularity>,
    #[serde(default)]
    read_fraction: Option<f64>,
    #[serde(default)]
    value: Option<RawValue>,
    #[serde(default)]
    arrivals: Option<RawArrivals>,
    #[serde(default)]
    client_timeout_ms: Option<f64>,
    #[serde(default)]
    avoid_after_timeout_ms: Option<f64>,
    #[serde(default)]
    clients_with_nodes: bool,
    #[serde(default)]
    client_datacenter: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    #[serde(default)]
    clients: Option<usize>,
    delays_ms: Vec<f64>,
    #[serde(default)]
    gap: Option<RawDistribution>,
}

// ---------------------------------------------------------------- stage two: typed scenario

#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    pub datacenter: u16,
    pub rack: u32,
    pub weight: f64,
    /// The node clock's error: its timestamps read simulated time plus this (may be negative).
    pub clock_skew_ns: i64,
}

/// A validated scenario; every field is in simulation units.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub quiescent_tail: SimDuration,
    pub datacenters: Vec<String>,
    pub nodes: Vec<NodeSpec>,
    /// Nodes in the ring at the start; the others wait for a join.
    pub initial_members: Vec<NodeId>,
    pub service_time: Distribution,
    pub slow_nodes: Vec<(NodeId, f64)>,
    pub strategy: Strategy,
    pub spread_across_datacenters: bool,
    pub protocol: Protocol,
    pub network: NetworkConfig,
    pub client_datacenter: Option<u16>,
    /// Partitions split clients too: client i sits with node i mod the node count.
    pub clients_with_nodes: bool,
    pub workload: WorkloadConfig,
    pub probe: Option<ProbeConfig>,
    /// How often divergence is sampled (zero: never).
    pub divergence_interval: SimDuration,
    pub checks: CheckConfig,
    /// Random faults drawn per run from the fault stream.
    pub nemesis: Option<NemesisConfig>,
    /// Scheduled faults, sorted by time (stable: same-time faults keep file order).
    pub faults: Vec<ScheduledFault>,
    /// The effective JSON (file plus overrides), recorded in reports.
    pub source: Value,
}

/// The nemesis: faults of the listed kinds arrive as a Poisson process between `start` and
/// `stop`, each undone after a drawn duration (and all undone by `stop`).
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisConfig {
    pub rate_per_s: f64,
    pub kinds: Vec<NemesisKind>,
    pub start: SimDuration,
    pub stop: SimDuration,
    pub fault_duration: Distribution,
    pub loss_probability: f64,
    pub slow_factor: f64,
    pub clock_skew_ns: i64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NemesisKind {
    Crash,
    /// A crash that loses the disk; the node restarts empty, as its own replacement.
    DiskLoss,
    Partition,
    LossBurst,
    Slow,
    ClockSkew,
}

/// A fault at a moment of simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    pub at: SimDuration,
    pub fault: Fault,
    /// Drawn by the nemesis rather than declared (the faults-fired check covers declared ones).
    pub generated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// With `lose_disk`, a permanent failure: the node restarts empty, as a replacement.
    Crash {
        node: NodeId,
        lose_disk: bool,
    },
    Restart(NodeId),
    /// Cuts every link from a node of one group to a node of another (only from the first group
    /// to the others when `one_way`). Nodes in no group are untouched: they bridge the sides.
    Partition {
        id: u32,
        name: String,
        groups: Vec<Vec<NodeId>>,
        one_way: bool,
    },
    Heal {
        id: u32,
        name: String,
    },
    /// From now on the node's clock reads simulated time plus `skew_ns`.
    ClockSkew {
        node: NodeId,
        skew_ns: i64,
    },
    Join {
        node: NodeId,
        contact: Option<NodeId>,
    },
    Leave {
        node: NodeId,
        contact: Option<NodeId>,
    },
    /// Message loss everywhere is at least `probability` until the matching end.
    LossBurst {
        id: u32,
        probability: f64,
    },
    LossBurstEnd {
        id: u32,
    },
    Slow {
        node: NodeId,
        factor: f64,
    },
}

impl Fault {
    pub fn describe(&self) -> String {
        let list = |g: &[NodeId]| g.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        match self {
            Fault::Crash { node, lose_disk: false } => format!("crash {node}"),
            Fault::Crash { node, lose_disk: true } => format!("crash {node} losing its disk"),
            Fault::Restart(n) => format!("restart {n}"),
            Fault::Partition { name, groups, one_way, .. } => {
                let sides: Vec<String> = groups.iter().map(|g| format!("[{}]", list(g))).collect();
                format!("partition {name} {}", sides.join(if *one_way { " -> " } else { " | " }))
            }
            Fault::Heal { name, .. } => format!("heal {name}"),
            Fault::Join { node, contact: Some(c) } => format!("join {node} via {c}"),
            Fault::Join { node, contact: None } => format!("join {node} alone"),
            Fault::Leave { node, contact: Some(c) } => format!("leave {node} via {c}"),
            Fault::Leave { node, contact: None } => format!("leave {node}"),
            Fault::LossBurst { id, probability } => format!("loss burst {id} at {probability}"),
            Fault::LossBurstEnd { id } => format!("loss burst {id} ends"),
            Fault::Slow { node, factor } => format!("{node} runs {factor}x slower"),
            Fault::ClockSkew { node, skew_ns } => format!("clock of {node} set {:+.3} ms off", *skew_ns as f64 / 1e6),
        }
    }
}

/// The invariants a scenario declares for `dynasim check`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckConfig {
    /// Replicas must agree, and no hint stay queued, by the end of the run.
    pub convergence: bool,
    /// ... and within this long after the later of the last fault and the end of client traffic.
    pub convergence_within: Option<SimDuration>,
    /// Whether an acknowledged write that no replica reflects fails the check (else it is only
    /// reported).
    pub lost_writes_fail: bool,
    /// Every declared fault must take effect (and every partition cut some traffic).
    pub faults_fired: bool,
    pub max_get_p999_ms: Option<f64>,
    pub max_put_p999_ms: Option<f64>,
    pub max_stale_read_fraction: Option<f64>,
    /// Minimum fraction of operations that succeed.
    pub min_availability: Option<f64>,
    /// Maximum fraction of successful gets that return more than one version.
    pub max_multi_version_read_fraction: Option<f64>,
}

// ---------------------------------------------------------------- errors

/// A scenario error: where, which field, what is wrong and what would be accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub position: Option<(usize, usize)>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        let segs: Vec<String> = path.split('.').filter(|s| !s.is_empty()).map(String::from).collect();
        ScenarioError {
            file: self.file.to_string(),
            position: jsonpos::locate(self.text, &segs),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + (ca != *cb) as usize).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into our wording with a hint.
fn explain_serde_message(msg: &str) -> String {
    let ticks: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    let unknown = msg.starts_with("unknown field") || msg.starts_with("unknown variant");
    if unknown && !ticks.is_empty() {
        let what = if msg.starts_with("unknown field") { "unknown field" } else { "unknown value" };
        let candidates = &ticks[1..];
        let accepted =
            if candidates.is_empty() { "none (this object takes no fields)".to_string() } else { candidates.join(", ") };
        let mut out = format!("{what} \"{}\"; expected one of {accepted}", ticks[0]);
        if let Some(s) = suggest(ticks[0], candidates.iter().copied()) {
            out.push_str(&format!(" (did you mean \"{s}\"?)"));
        }
        return out;
    }
    if let Some(field) = msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        return format!("missing required field \"{field}\"");
    }
    msg.to_string()
}

// ---------------------------------------------------------------- loading

/// Parses, applies `--set` overrides, and validates a scenario text read from `file`.
pub fn load(file: &str, text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { file, text };
    let mut tree: Value = serde_json::from_str(text).map_err(|e| ScenarioError {
        file: file.to_string(),
        position: Some((e.line(), e.column())),
        path: String::new(),
        message: format!("invalid JSON: {e}").replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })?;
    for o in overrides {
        apply_override(&mut tree, o).map_err(|m| ScenarioError {
            file: file.to_string(),
            position: None,
            path: format!("--set {o}"),
            message: m,
        })?;
    }
    if let Some(p) = tree.get("preset").cloned() {
        let names = crate::scenario::presets::NAMES;
        let name = p.as_str().ok_or_else(|| ctx.err("preset", format!("expected a preset name: one of {}", names.join(", "))))?;
        let mut base = crate::scenario::presets::preset(name).ok_or_else(|| {
            let mut m = format!("unknown preset \"{name}\"; expected one of {}", names.join(", "));
            if let Some(s) = suggest(name, names) {
                m.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            ctx.err("preset", m)
        })?;
        crate::scenario::presets::overlay(&mut base, tree);
        tree = base;
    }
    let raw: RawScenario = serde_path_to_error::deserialize(tree.clone()).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let inner = e.into_inner().to_string();
        // For an unknown field, point at the field itself.
        if let Some(name) = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            let full = if path.is_empty() {
                name.to_string()
            } else if path == name || path.ends_with(&format!(".{name}")) {
                path.clone()
            } else {
                format!("{path}.{name}")
            };
            let mut err = ctx.err(&full, explain_serde_message(&inner));
            if err.position.is_none() {
                err = ctx.err(&path, explain_serde_message(&inner));
            }
            return ScenarioError { path: full, ..err };
        }
        ctx.err(&path, explain_serde_message(&inner))
    })?;
    validate(&ctx, raw, tree)
}

/// Applies `a.b.c=value`: value is parsed as JSON, or taken as a string if it is not JSON.
pub fn apply_override(tree: &mut Value, assignment: &str) -> Result<(), String> {
    let (path, value) = assignment.split_once('=').ok_or_else(|| "expected path=value, e.g. protocol.r=2".to_string())?;
    if path.is_empty() {
        return Err("the path before '=' is empty".into());
    }
    let value: Value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    let mut cur = tree;
    let segs: Vec<&str> = path.split('.').collect();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match cur {
            Value::Object(map) => {
                if last {
                    map.insert(seg.to_string(), value);
                    return Ok(());
                }
                map.entry(seg.to_string()).or_insert_with(|| Value::Object(Default::default()))
            }
            Value::Array(items) => {
                let idx: usize = seg.parse().map_err(|_| format!("\"{seg}\" indexes a list; expected a number"))?;
                let len = items.len();
                let slot = items.get_mut(idx).ok_or_else(|| format!("index {idx} is past the end of a list of {len}"))?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => return Err(format!("\"{}\" is not an object or list", segs[..i].join("."))),
        };
    }
    Ok(())
}

fn ms(ctx: &Ctx, path: &str, v: f64, allow_zero: bool) -> Result<SimDuration, ScenarioError> {
    if !v.is_finite() || v < 0.0 || (!allow_zero && v == 0.0) {
        let accepted = if allow_zero { "a number of milliseconds >= 0" } else { "a number of milliseconds > 0" };
        return Err(ctx.err(path, format!("{v} is out of range; expected {accepted}")));
    }
    Ok(SimDuration::from_millis_f64(v))
}

/// A node index from the file, checked against the cluster's size.
fn node_id(ctx: &Ctx, node_count: u32, path: &str, n: u32) -> Result<NodeId, ScenarioError> {
    if n < node_count {
        Ok(NodeId(n))
    } else {
        Err(ctx.err(path, format!("node {n} does not exist; expected 0 to {}", node_count - 1)))
    }
}

fn skew_ns(ctx: &Ctx, path: &str, ms: f64) -> Result<i64, ScenarioError> {
    if !ms.is_finite() || ms.abs() > 86_400_000.0 {
        return Err(ctx.err(path, format!("{ms} is out of range; expected milliseconds between -86400000 and 86400000")));
    }
    Ok((ms * 1e6).round() as i64)
}

fn probability(ctx: &Ctx, path: &str, p: f64) -> Result<f64, ScenarioError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(ctx.err(path, format!("{p} is not a probability; expected a number from 0 to 1")));
    }
    Ok(p)
}

fn distribution(ctx: &Ctx, path: &str, raw: &RawDistribution) -> Result<Distribution, ScenarioError> {
    let nonneg = |field: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(ctx.err(&format!("{path}.{field}"), format!("{v} is out of range; expected a number >= 0")))
        }
    };
    let positive = |field: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(ctx.err(&format!("{path}.{field}"), format!("{v} is out of range; expected a number > 0")))
        }
    };
    Ok(match raw {
        RawDistribution::Constant { ms } => Distribution::Constant { ms: nonneg("ms", *ms)? },
        RawDistribution::Uniform { min_ms, max_ms } => {
            let (lo, hi) = (nonneg("min_ms", *min_ms)?, nonneg("max_ms", *max_ms)?);
            if hi < lo {
                return Err(ctx.err(&format!("{path}.max_ms"), format!("{hi} is below min_ms {lo}; expected max_ms >= min_ms")));
            }
            Distribution::Uniform { min_ms: lo, max_ms: hi }
        }
        RawDistribution::Exponential { mean_ms, offset_ms } => {
            Distribution::Exponential { mean_ms: positive("mean_ms", *mean_ms)?, offset_ms: nonneg("offset_ms", *offset_ms)? }
        }
        RawDistribution::Lognormal { median_ms, sigma } => {
            Distribution::LogNormal { median_ms: positive("median_ms", *median_ms)?, sigma: nonneg("sigma", *sigma)? }
        }
        RawDistribution::Pareto { scale_ms, shape } => {
            Distribution::Pareto { scale_ms: positive("scale_ms", *scale_ms)?, shape: positive("shape", *shape)? }
        }
        RawDistribution::Mixture { components } => {
            if components.is_empty() {
                return Err(
                    ctx.err(&format!("{path}.components"), "empty; expected at least one {\"weight\": w, \"latency\": {...}}")
                );
            }
            let mut out = Vec::new();
            for (i, c) in components.iter().enumerate() {
                let cp = format!("{path}.components.{i}");
                out.push((
                    positive_weight(ctx, &format!("{cp}.weight"), c.weight)?,
                    distribution(ctx, &format!("{cp}.latency"), &c.latency)?,
                ));
            }
            Distribution::Mixture { components: out }
        }
    })
}

fn positive_weight(ctx: &Ctx, path: &str, w: f64) -> Result<f64, ScenarioError> {
    if w.is_finite() && w > 0.0 {
        Ok(w)
    } else {
        Err(ctx.err(path, format!("{w} is out of range; expected a weight > 0")))
    }
}

fn validate(ctx: &Ctx, raw: RawScenario, source: Value) -> Result<Scenario, ScenarioError> {
    let duration = ms(ctx, "duration_ms", raw.duration_ms, false)?;
    let quiescent_tail = ms(ctx, "quiescent_tail_ms", raw.quiescent_tail_ms.unwrap_or(0.0), true)?;

    // Cluster.
    let c = &raw.cluster;
    let node_count = c.nodes.unwrap_or(8);
    if node_count == 0 || node_count > 100_000 {
        return Err(ctx.err("cluster.nodes", format!("{node_count} is out of range; expected 1 to 100000")));
    }
    let datacenters = c.datacenters.clone().unwrap_or_else(|| vec!["dc1".to_string()]);
    if datacenters.is_empty() || datacenters.len() > 16 {
        return Err(ctx.err("cluster.datacenters", "expected a list of 1 to 16 datacenter names"));
    }
    let dc_index = |path: &str, name: &str| -> Result<u16, ScenarioError> {
        match datacenters.iter().position(|d| d == name) {
            Some(i) => Ok(i as u16),
            None => {
                let mut m = format!("unknown datacenter \"{name}\"; expected one of {}", datacenters.join(", "));
                if let Some(s) = suggest(name, datacenters.iter().map(String::as_str)) {
                    m.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                Err(ctx.err(path, m))
            }
        }
    };
    let racks = c.racks_per_datacenter.unwrap_or(1).max(1);
    let dcs = datacenters.len() as u32;
    let mut nodes: Vec<NodeSpec> = (0..node_count)
        .map(|i| NodeSpec { datacenter: (i % dcs) as u16, rack: (i / dcs) % racks, weight: 1.0, clock_skew_ns: 0 })
        .collect();
    let node_ref = |path: &str, n: u32| node_id(ctx, node_count, path, n);
    for (i, o) in c.node_overrides.iter().enumerate() {
        let p = format!("cluster.node_overrides.{i}");
        let id = node_ref(&format!("{p}.node"), o.node)?;
        let spec = &mut nodes[id.index()];
        if let Some(w) = o.weight {
            spec.weight = positive_weight(ctx, &format!("{p}.weight"), w)?;
        }
        if let Some(dc) = &o.datacenter {
            spec.datacenter = dc_index(&format!("{p}.datacenter"), dc)?;
        }
        if let Some(r) = o.rack {
            spec.rack = r;
        }
        if let Some(skew) = o.clock_skew_ms {
            spec.clock_skew_ns = skew_ns(ctx, &format!("{p}.clock_skew_ms"), skew)?;
        }
    }
    let initial_members = match &c.initial_members {
        None => (0..node_count).map(NodeId).collect(),
        Some(list) => {
            let mut out: Vec<NodeId> = Vec::new();
            for (i, n) in list.iter().enumerate() {
                let id = node_ref(&format!("cluster.initial_members.{i}"), *n)?;
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            out.sort();
            out
        }
    };
    let service_time = match &c.service_time {
        Some(d) => distribution(ctx, "cluster.service_time", d)?,
        None => Distribution::ZERO,
    };
    let mut slow_nodes = Vec::new();
    for (i, s) in c.slow_nodes.iter().enumerate() {
        let p = format!("cluster.slow_nodes.{i}");
        let id = node_ref(&format!("{p}.node"), s.node)?;
        if !(s.factor.is_finite() && s.factor >= 1.0) {
            return Err(ctx.err(&format!("{p}.factor"), format!("{} is out of range; expected a slowdown factor >= 1", s.factor)));
        }
        slow_nodes.push((id, s.factor));
    }

    // Ring.
    let rr = &raw.ring;
    let tokens = rr.tokens_per_node.unwrap_or(8);
    if tokens == 0 || tokens > 4096 {
        return Err(ctx.err("ring.tokens_per_node", format!("{tokens} is out of range; expected 1 to 4096")));
    }
    let partitions = rr.partitions.unwrap_or((node_count * tokens).next_power_of_two().max(64));
    if rr.strategy != RawStrategy::RandomTokens && (partitions < node_count || partitions > 1 << 22) {
        return Err(ctx.err(
            "ring.partitions",
            format!("{partitions} is out of range; expected from the node count ({node_count}) to 4194304"),
        ));
    }
    let strategy = match rr.strategy {
        RawStrategy::RandomTokens => Strategy::RandomTokens { tokens_per_node: tokens },
        RawStrategy::RandomTokensEqualPartitions => Strategy::RandomTokensEqualPartitions { tokens_per_node: tokens, partitions },
        RawStrategy::EqualPartitions => Strategy::EqualPartitions { partitions },
    };

    // Protocol.
    let rp = &raw.protocol;
    let n = rp.n.unwrap_or(3.min(node_count as usize));
    if n == 0 || n > node_count as usize {
        return Err(ctx.err("protocol.n", format!("{n} is out of range; expected 1 to the node count ({node_count})")));
    }
    let r = rp.r.unwrap_or(n.div_ceil(2).max(1));
    let w = rp.w.unwrap_or(n.div_ceil(2).max(1));
    for (name, v) in [("r", r), ("w", w)] {
        if v == 0 || v > n {
            return Err(ctx.err(&format!("protocol.{name}"), format!("{v} is out of range; expected 1 to N ({n})")));
        }
    }
    let threshold = rp.clock_truncation_threshold.unwrap_or(10);
    if threshold == 0 {
        return Err(ctx.err("protocol.clock_truncation_threshold", "0 is out of range; expected at least 1 clock entry"));
    }
    let protocol = Protocol {
        n,
        r,
        w,
        coordination: match rp.coordination {
            RawCoordination::PreferenceListHead => Coordination::PreferenceListHead,
            RawCoordination::LoadBalancer => Coordination::LoadBalancer,
            RawCoordination::ClientDriven => Coordination::ClientDriven,
            RawCoordination::Proxy => Coordination::Proxy,
        },
        fanout: match rp.fanout {
            RawFanout::All => Fanout::All,
            RawFanout::Quorum => Fanout::Quorum,
        },
        write_to_fastest_reader: rp.write_to_fastest_reader,
        request_timeout: ms(ctx, "protocol.request_timeout_ms", rp.request_timeout_ms.unwrap_or(500.0), false)?,
        read_repair_window: ms(ctx, "protocol.read_repair_window_ms", rp.read_repair_window_ms.unwrap_or(50.0), true)?,
        clock_truncation_threshold: threshold,
        sloppy_quorum: rp.sloppy_quorum.unwrap_or(true),
        hinted_handoff: rp.hinted_handoff.unwrap_or(true),
        hint_scan_interval: ms(ctx, "protocol.hint_scan_interval_ms", rp.hint_scan_interval_ms.unwrap_or(500.0), false)?,
        read_repair: rp.read_repair.unwrap_or(true),
        reply_timeout: ms(ctx, "protocol.reply_timeout_ms", rp.reply_timeout_ms.unwrap_or(100.0), false)?,
        probe_interval: ms(ctx, "protocol.probe_interval_ms", rp.probe_interval_ms.unwrap_or(200.0), false)?,
        anti_entropy: rp.anti_entropy.unwrap_or(true),
        anti_entropy_interval: ms(
            ctx,
            "protocol.anti_entropy_interval_ms",
            rp.anti_entropy_interval_ms.unwrap_or(1000.0),
            false,
        )?,
        merkle_leaves: match rp.merkle_leaves.unwrap_or(32) {
            l if l.is_power_of_two() && (2..=65536).contains(&l) => l,
            l => {
                return Err(
                    ctx.err("protocol.merkle_leaves", format!("{l} is not allowed; expected a power of two from 2 to 65536"))
                )
            }
        },
        gossip_interval: ms(ctx, "membership.gossip_interval_ms", raw.membership.gossip_interval_ms.unwrap_or(1000.0), false)?,
        seeds: match &raw.membership.seeds {
            None => Vec::new(),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, n)| node_ref(&format!("membership.seeds.{i}"), *n))
                .collect::<Result<Vec<_>, _>>()?,
        },
        conflict: match rp.conflict_resolution {
            RawConflict::VectorClocks => ConflictPolicy::VectorClocks,
            RawConflict::LastWriteWins => ConflictPolicy::LastWriteWins,
            RawConflict::MergeCarts => ConflictPolicy::MergeCarts,
        },
    };

    // Network.
    let rn = &raw.network;
    let default = LinkSettings {
        latency: match &rn.latency {
            Some(d) => distribution(ctx, "network.latency", d)?,
            None => Distribution::Exponential { mean_ms: 1.0, offset_ms: 0.2 },
        },
        loss_probability: probability(ctx, "network.loss_probability", rn.loss_probability.unwrap_or(0.0))?,
        duplicate_probability: probability(ctx, "network.duplicate_probability", rn.duplicate_probability.unwrap_or(0.0))?,
    };
    let mut rules = Vec::new();
    for (i, rule) in rn.rules.iter().enumerate() {
        let p = format!("network.rules.{i}");
        let mut kinds = Vec::new();
        for (j, k) in rule.kinds.iter().enumerate() {
            match MessageKind::from_name(k) {
                Some(kind) => kinds.push(kind),
                None => {
                    let names = MessageKind::ALL.map(|k| k.name());
                    let mut m = format!("unknown message kind \"{k}\"; expected one of {}", names.join(", "));
                    if let Some(s) = suggest(k, names) {
                        m.push_str(&format!(" (did you mean \"{s}\"?)"));
                    }
                    return Err(ctx.err(&format!("{p}.kinds.{j}"), m));
                }
            }
        }
        rules.push(LinkRule {
            from_node: rule.from_node.map(|n| node_ref(&format!("{p}.from_node"), n)).transpose()?,
            to_node: rule.to_node.map(|n| node_ref(&format!("{p}.to_node"), n)).transpose()?,
            from_datacenter: rule.from_datacenter.as_deref().map(|d| dc_index(&format!("{p}.from_datacenter"), d)).transpose()?,
            to_datacenter: rule.to_datacenter.as_deref().map(|d| dc_index(&format!("{p}.to_datacenter"), d)).transpose()?,
            kinds,
            latency: rule.latency.as_ref().map(|d| distribution(ctx, &format!("{p}.latency"), d)).transpose()?,
            loss_probability: rule.loss_probability.map(|x| probability(ctx, &format!("{p}.loss_probability"), x)).transpose()?,
            duplicate_probability: rule
                .duplicate_probability
                .map(|x| probability(ctx, &format!("{p}.duplicate_probability"), x))
                .transpose()?,
        });
    }
    let network = NetworkConfig { default, rules, fifo_per_link: rn.fifo_per_link };

    // Workload.
    let rw = &raw.workload;
    let key_count = rw.keys.unwrap_or(1000);
    if key_count == 0 || key_count > 50_000_000 {
        return Err(ctx.err("workload.keys", format!("{key_count} is out of range; expected 1 to 50000000")));
    }
    let popularity = match rw.popularity.clone().unwrap_or(RawPopularity::Uniform) {
        RawPopularity::Uniform => KeyPopularity::Uniform,
        RawPopularity::Zipf { exponent } => {
            if !(exponent.is_finite() && exponent > 0.0) {
                return Err(ctx.err("workload.popularity.exponent", format!("{exponent} is out of range; expected a number > 0")));
            }
            KeyPopularity::Zipf { exponent }
        }
        RawPopularity::HotSet { key_fraction, access_fraction } => {
            if !(key_fraction > 0.0 && key_fraction <= 1.0) {
                return Err(ctx.err(
                    "workload.popularity.key_fraction",
                    format!("{key_fraction} is out of range; expected a fraction in (0, 1]"),
                ));
            }
            KeyPopularity::HotSet {
                key_fraction,
                access_fraction: probability(ctx, "workload.popularity.access_fraction", access_fraction)?,
            }
        }
    };
    let value_model = match rw.value.clone().unwrap_or(RawValue::Register { read_before_write: true }) {
        RawValue::Register { read_before_write } => ValueModel::Register { read_before_write },
        RawValue::Cart { remove_probability } => {
            ValueModel::Cart { remove_probability: probability(ctx, "workload.value.remove_probability", remove_probability)? }
        }
    };
    let arrivals = match &rw.arrivals {
        None => Arrivals::Closed { clients: 10, think_time: Distribution::Exponential { mean_ms: 10.0, offset_ms: 0.0 } },
        Some(RawArrivals::Closed { clients, think_time }) => {
            if *clients > 1_000_000 {
                return Err(ctx.err("workload.arrivals.clients", format!("{clients} is out of range; expected 0 to 1000000")));
            }
            Arrivals::Closed { clients: *clients, think_time: distribution(ctx, "workload.arrivals.think_time", think_time)? }
        }
        Some(RawArrivals::Open { rate_per_s, clients }) => {
            if !(rate_per_s.is_finite() && *rate_per_s > 0.0) {
                return Err(ctx.err("workload.arrivals.rate_per_s", format!("{rate_per_s} is out of range; expected a rate > 0")));
            }
            if *clients == 0 || *clients > 1_000_000 {
                return Err(ctx.err("workload.arrivals.clients", format!("{clients} is out of range; expected 1 to 1000000")));
            }
            Arrivals::Open { rate_per_s: *rate_per_s, clients: *clients }
        }
    };
    let workload = WorkloadConfig {
        key_count,
        popularity,
        read_fraction: probability(ctx, "workload.read_fraction", rw.read_fraction.unwrap_or(0.5))?,
        value_model,
        arrivals,
        client_timeout: ms(ctx, "workload.client_timeout_ms", rw.client_timeout_ms.unwrap_or(2000.0), false)?,
        avoid_after_timeout: ms(ctx, "workload.avoid_after_timeout_ms", rw.avoid_after_timeout_ms.unwrap_or(1000.0), true)?,
    };
    let client_datacenter = rw.client_datacenter.as_deref().map(|d| dc_index("workload.client_datacenter", d)).transpose()?;

    let probe = match &raw.probe {
        None => None,
        Some(p) => {
            if p.delays_ms.is_empty() {
                return Err(ctx.err("probe.delays_ms", "empty; expected a list of delays in milliseconds, e.g. [0, 1, 5, 10]"));
            }
            let mut delays = Vec::new();
            for (i, d) in p.delays_ms.iter().enumerate() {
                delays.push(ms(ctx, &format!("probe.delays_ms.{i}"), *d, true)?);
            }
            let clients = p.clients.unwrap_or(1);
            if clients == 0 || clients > 10_000 {
                return Err(ctx.err("probe.clients", format!("{clients} is out of range; expected 1 to 10000")));
            }
            let gap = match &p.gap {
                Some(g) => distribution(ctx, "probe.gap", g)?,
                None => Distribution::Exponential { mean_ms: 10.0, offset_ms: 0.0 },
            };
            Some(ProbeConfig { clients, delays, gap })
        }
    };

    let rc = &raw.checks;
    let bound = |path: &str, v: Option<f64>| -> Result<Option<f64>, ScenarioError> {
        match v {
            Some(x) if !(x.is_finite() && x >= 0.0) => Err(ctx.err(path, format!("{x} is out of range; expected a number >= 0"))),
            other => Ok(other),
        }
    };
    let checks = CheckConfig {
        convergence: rc.convergence.unwrap_or(quiescent_tail > SimDuration::ZERO),
        convergence_within: rc.convergence_within_ms.map(|v| ms(ctx, "checks.convergence_within_ms", v, true)).transpose()?,
        lost_writes_fail: match rc.lost_writes {
            Some(choice) => choice == RawLostWrites::Fail,
            // Last-write-wins drops writes by design: count and report them unless told to fail.
            None => protocol.conflict != ConflictPolicy::LastWriteWins,
        },
        faults_fired: rc.faults_fired.unwrap_or(true),
        max_get_p999_ms: bound("checks.max_get_p999_ms", rc.max_get_p999_ms)?,
        max_put_p999_ms: bound("checks.max_put_p999_ms", rc.max_put_p999_ms)?,
        max_stale_read_fraction: rc
            .max_stale_read_fraction
            .map(|p| probability(ctx, "checks.max_stale_read_fraction", p))
            .transpose()?,
        min_availability: rc.min_availability.map(|p| probability(ctx, "checks.min_availability", p)).transpose()?,
        max_multi_version_read_fraction: rc
            .max_multi_version_read_fraction
            .map(|p| probability(ctx, "checks.max_multi_version_read_fraction", p))
            .transpose()?,
    };
    let nemesis = match &raw.nemesis {
        None => None,
        Some(n) => {
            if !(n.rate_per_s.is_finite() && n.rate_per_s > 0.0) {
                return Err(ctx.err("nemesis.rate_per_s", format!("{} is out of range; expected a rate > 0", n.rate_per_s)));
            }
            if n.kinds.is_empty() {
                return Err(
                    ctx.err("nemesis.kinds", "empty; expected some of crash, disk_loss, partition, loss_burst, slow, clock_skew")
                );
            }
            let start = ms(ctx, "nemesis.start_ms", n.start_ms.unwrap_or(0.0), true)?;
            let stop = ms(ctx, "nemesis.stop_ms", n.stop_ms.unwrap_or(duration.as_millis_f64()), true)?;
            if stop <= start || stop.as_nanos() > duration.as_nanos().saturating_add(quiescent_tail.as_nanos()) {
                return Err(ctx.err("nemesis.stop_ms", "expected start_ms < stop_ms <= duration_ms + quiescent_tail_ms"));
            }
            let slow_factor = n.slow_factor.unwrap_or(10.0);
            if !(slow_factor.is_finite() && slow_factor >= 1.0) {
                return Err(ctx.err("nemesis.slow_factor", format!("{slow_factor} is out of range; expected a factor >= 1")));
            }
            Some(NemesisConfig {
                rate_per_s: n.rate_per_s,
                kinds: n
                    .kinds
                    .iter()
                    .map(|k| match k {
                        RawNemesisKind::Crash => NemesisKind::Crash,
                        RawNemesisKind::DiskLoss => NemesisKind::DiskLoss,
                        RawNemesisKind::Partition => NemesisKind::Partition,
                        RawNemesisKind::LossBurst => NemesisKind::LossBurst,
                        RawNemesisKind::Slow => NemesisKind::Slow,
                        RawNemesisKind::ClockSkew => NemesisKind::ClockSkew,
                    })
                    .collect(),
                start,
                stop,
                fault_duration: match &n.fault_duration {
                    Some(d) => distribution(ctx, "nemesis.fault_duration", d)?,
                    None => Distribution::Uniform { min_ms: 200.0, max_ms: 2000.0 },
                },
                loss_probability: probability(ctx, "nemesis.loss_probability", n.loss_probability.unwrap_or(0.3))?,
                slow_factor,
                clock_skew_ns: skew_ns(ctx, "nemesis.clock_skew_ms", n.clock_skew_ms.unwrap_or(50.0))?,
            })
        }
    };
    let end_ns = duration.as_nanos().saturating_add(quiescent_tail.as_nanos());
    let faults = faults(ctx, &raw.faults, node_count, &initial_members, end_ns)?;

    Ok(Scenario {
        name: raw.name.unwrap_or_else(|| "unnamed".to_string()),
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        quiescent_tail,
        datacenters,
        nodes,
        initial_members,
        service_time,
        slow_nodes,
        strategy,
        spread_across_datacenters: rr.spread_across_datacenters,
        protocol,
        network,
        client_datacenter,
        clients_with_nodes: rw.clients_with_nodes,
        workload,
        probe,
        checks,
        nemesis,
        divergence_interval: ms(
            ctx,
            "observe.divergence_interval_ms",
            raw.observe.divergence_interval_ms.unwrap_or(1000.0),
            true,
        )?,
        faults,
        source,
    })
}

fn faults(
    ctx: &Ctx,
    raw: &[RawFault],
    node_count: u32,
    initial: &[NodeId],
    end_ns: u64,
) -> Result<Vec<ScheduledFault>, ScenarioError> {
    let node_ref = |path: &str, n: u32| node_id(ctx, node_count, path, n);
    // A restart brings back a node that was in the ring: one outside the initial members must
    // have joined before.
    let joined_by = |node: u32, at_ms: f64| {
        initial.contains(&NodeId(node))
            || raw.iter().any(|f| matches!(f, RawFault::Join { node: j, at_ms: t, .. } if *j == node && *t < at_ms))
    };
    let never_joined = |path: String, node: u32, at_ms: f64| {
        ctx.err(
            &path,
            format!(
                "node {node} is restarted at {at_ms} ms but is not in cluster.initial_members and no join of it comes \
                 earlier; expected a node that has joined (add a join fault before the restart)"
            ),
        )
    };
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let p = format!("faults.{i}");
        let at_ms = match f {
            RawFault::Crash { at_ms, .. }
            | RawFault::Restart { at_ms, .. }
            | RawFault::Partition { at_ms, .. }
            | RawFault::Heal { at_ms, .. }
            | RawFault::ClockSkew { at_ms, .. }
            | RawFault::Join { at_ms, .. }
            | RawFault::LossBurst { at_ms, .. }
            | RawFault::Slow { at_ms, .. }
            | RawFault::Leave { at_ms, .. }
            | RawFault::RollingRestart { at_ms, .. } => *at_ms,
        };
        let at = ms(ctx, &format!("{p}.at_ms"), at_ms, true)?;
        if at.as_nanos() > end_ns {
            return Err(ctx.err(
                &format!("{p}.at_ms"),
                format!("{at_ms} is after the run ends; expected at most duration_ms + quiescent_tail_ms"),
            ));
        }
        let fault = match f {
            RawFault::Crash { node, lose_disk, .. } => {
                Fault::Crash { node: node_ref(&format!("{p}.node"), *node)?, lose_disk: *lose_disk }
            }
            RawFault::Restart { node, .. } => {
                let id = node_ref(&format!("{p}.node"), *node)?;
                if !joined_by(*node, at_ms) {
                    return Err(never_joined(format!("{p}.node"), *node, at_ms));
                }
                Fault::Restart(id)
            }
            RawFault::Partition { name, groups, one_way, .. } => {
                if groups.len() < 2 {
                    return Err(
                        ctx.err(&format!("{p}.groups"), "expected at least two groups of node ids, e.g. [[0, 1], [2, 3]]")
                    );
                }
                let mut seen: Vec<u32> = Vec::new();
                let mut typed = Vec::new();
                for (g, group) in groups.iter().enumerate() {
                    let mut nodes = Vec::new();
                    for (j, n) in group.iter().enumerate() {
                        let id = node_ref(&format!("{p}.groups.{g}.{j}"), *n)?;
                        if seen.contains(n) {
                            return Err(ctx.err(
                                &format!("{p}.groups.{g}.{j}"),
                                format!("node {n} is in two groups; expected disjoint groups"),
                            ));
                        }
                        seen.push(*n);
                        nodes.push(id);
                    }
                    typed.push(nodes);
                }
                if let Some(first) = names.iter().position(|n| n == name) {
                    return Err(ctx.err(
                        &format!("{p}.name"),
                        format!(
                            "partition name \"{name}\" is already used by an earlier partition (partition #{}); expected a \
                             unique name, since a heal lifts the partition it names",
                            first + 1
                        ),
                    ));
                }
                names.push(name.clone());
                Fault::Partition { id: names.len() as u32, name: name.clone(), groups: typed, one_way: *one_way }
            }
            RawFault::Join { node, contact, .. } => Fault::Join {
                node: node_ref(&format!("{p}.node"), *node)?,
                contact: contact.map(|c| node_ref(&format!("{p}.contact"), c)).transpose()?,
            },
            RawFault::Leave { node, contact, .. } => {
                if contact == &Some(*node) {
                    return Err(ctx.err(
                        &format!("{p}.contact"),
                        format!("node {node} cannot record its own decommission; expected another node, or no contact"),
                    ));
                }
                Fault::Leave {
                    node: node_ref(&format!("{p}.node"), *node)?,
                    contact: contact.map(|c| node_ref(&format!("{p}.contact"), c)).transpose()?,
                }
            }
            RawFault::Slow { node, factor, .. } => {
                if !(factor.is_finite() && *factor >= 1.0) {
                    return Err(
                        ctx.err(&format!("{p}.factor"), format!("{factor} is out of range; expected a slowdown factor >= 1"))
                    );
                }
                Fault::Slow { node: node_ref(&format!("{p}.node"), *node)?, factor: *factor }
            }
            RawFault::LossBurst { duration_ms, loss_probability, .. } => {
                let d = ms(ctx, &format!("{p}.duration_ms"), *duration_ms, false)?;
                let probability = probability(ctx, &format!("{p}.loss_probability"), *loss_probability)?;
                let id = 1 + out.len() as u32;
                out.push(ScheduledFault { at, fault: Fault::LossBurst { id, probability }, generated: false });
                out.push(ScheduledFault {
                    at: SimDuration(at.as_nanos().saturating_add(d.as_nanos())),
                    fault: Fault::LossBurstEnd { id },
                    generated: false,
                });
                continue;
            }
            RawFault::RollingRestart { nodes, down_ms, gap_ms, .. } => {
                let down = ms(ctx, &format!("{p}.down_ms"), *down_ms, false)?;
                let gap = ms(ctx, &format!("{p}.gap_ms"), *gap_ms, true)?;
                if nodes.is_empty() {
                    return Err(ctx.err(&format!("{p}.nodes"), "empty; expected the node ids to restart in order"));
                }
                let mut t = at;
                for (j, n) in nodes.iter().enumerate() {
                    let node = node_ref(&format!("{p}.nodes.{j}"), *n)?;
                    let back = t.as_nanos().saturating_add(down.as_nanos());
                    if !joined_by(*n, back as f64 / 1e6) {
                        return Err(never_joined(format!("{p}.nodes.{j}"), *n, back as f64 / 1e6));
                    }
                    if back > end_ns {
                        return Err(ctx.err(&format!("{p}.nodes.{j}"), "this restart would end after the run; expected the whole roll to fit in duration_ms + quiescent_tail_ms"));
                    }
                    out.push(ScheduledFault { at: t, fault: Fault::Crash { node, lose_disk: false }, generated: false });
                    out.push(ScheduledFault { at: SimDuration(back), fault: Fault::Restart(node), generated: false });
                    t = SimDuration(back.saturating_add(gap.as_nanos()));
                }
                continue;
            }
            RawFault::ClockSkew { node, offset_ms, .. } => Fault::ClockSkew {
                node: node_ref(&format!("{p}.node"), *node)?,
                skew_ns: skew_ns(ctx, &format!("{p}.offset_ms"), *offset_ms)?,
            },
            RawFault::Heal { name, .. } => match names.iter().position(|n| n == name) {
                Some(i) => Fault::Heal { id: i as u32 + 1, name: name.clone() },
                None => {
                    let mut m = format!("no partition named \"{name}\" comes before this heal");
                    if let Some(s) = suggest(name, names.iter().map(String::as_str)) {
                        m.push_str(&format!(" (did you mean \"{s}\"?)"));
                    }
                    return Err(ctx.err(&format!("{p}.name"), m));
                }
            },
        };
        out.push(ScheduledFault { at, fault, generated: false });
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Scenario, ScenarioError> {
        load("t.json", text, &[])
    }

    #[test]
    fn the_default_scenario_is_valid() {
        let s = load(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO, &[]).expect("built-in scenario");
        assert!(s.duration > SimDuration::ZERO);
    }

    #[test]
    fn minimal_scenario_gets_defaults_and_bad_duration_is_rejected() {
        let s = load_str(r#"{"duration_ms": 100}"#).expect("minimal");
        assert_eq!((s.protocol.n, s.protocol.r, s.protocol.w), (3, 2, 2));
        assert_eq!(s.nodes.len(), 8);
        let e = load_str(r#"{"duration_ms": 0}"#).unwrap_err();
        assert_eq!(e.path, "duration_ms");
        assert_eq!(e.position, Some((1, 2)));
        assert!(e.message.contains("> 0"), "{e}");
    }

    #[test]
    fn unknown_field_names_position_path_and_suggestion() {
        let e = load_str("{\"duration_ms\": 10,\n \"protocol\": {\"n\": 3, \"rr\": 2}}").unwrap_err();
        assert_eq!(e.path, "protocol.rr");
        assert_eq!(e.position, Some((2, 23)));
        assert!(e.message.contains("unknown field \"rr\""), "{e}");
        assert!(e.message.contains("did you mean \"r\"?"), "{e}");
    }

    #[test]
    fn misspelt_distribution_kind_is_suggested() {
        let e = load_str(r#"{"duration_ms": 10, "network": {"latency": {"kind": "expoential", "mean_ms": 1}}}"#).unwrap_err();
        assert_eq!(e.path, "network.latency.kind");
        assert_eq!(e.position, Some((1, 45)));
        assert!(e.message.contains("expected one of constant, uniform, exponential"), "{e}");
        assert!(e.message.contains("did you mean \"exponential\"?"), "{e}");
    }

    #[test]
    fn quorum_larger_than_n_is_rejected_and_within_n_accepted() {
        assert!(load_str(r#"{"duration_ms": 10, "protocol": {"n": 3, "r": 3, "w": 1}}"#).is_ok());
        let e = load_str(r#"{"duration_ms": 10, "protocol": {"n": 3, "r": 4}}"#).unwrap_err();
        assert_eq!(e.path, "protocol.r");
        assert!(e.message.contains("expected 1 to N (3)"));
        let e = load_str(r#"{"duration_ms": 10, "cluster": {"nodes": 2}, "protocol": {"n": 3}}"#).unwrap_err();
        assert_eq!(e.path, "protocol.n");
    }

    #[test]
    fn probabilities_distributions_and_references_are_checked() {
        let e = load_str(r#"{"duration_ms": 10, "network": {"loss_probability": 1.5}}"#).unwrap_err();
        assert_eq!(e.path, "network.loss_probability");
        let e = load_str(r#"{"duration_ms": 10, "network": {"latency": {"kind": "uniform", "min_ms": 5, "max_ms": 1}}}"#)
            .unwrap_err();
        assert_eq!(e.path, "network.latency.max_ms");
        let e =
            load_str(r#"{"duration_ms": 10, "cluster": {"nodes": 4, "slow_nodes": [{"node": 9, "factor": 3}]}}"#).unwrap_err();
        assert_eq!(e.path, "cluster.slow_nodes.0.node");
        let e = load_str(r#"{"duration_ms": 10, "cluster": {"datacenters": ["east", "west"]}, "network": {"rules": [{"from_datacenter": "wset"}]}}"#).unwrap_err();
        assert!(e.message.contains("did you mean \"west\"?"), "{e}");
        let e = load_str(r#"{"duration_ms": 10, "network": {"rules": [{"kinds": ["get_requst"]}]}}"#).unwrap_err();
        assert_eq!(e.path, "network.rules.0.kinds.0");
        assert!(e.message.contains("did you mean \"get_request\"?"), "{e}");
        assert!(load_str(r#"{"duration_ms": 10, "network": {"rules": [{"kinds": ["get_request"], "loss_probability": 0.5}]}}"#)
            .is_ok());
    }

    #[test]
    fn faults_are_validated() {
        let ok = r#"{"duration_ms": 100, "faults": [
            {"kind": "partition", "at_ms": 10, "name": "a", "groups": [[0], [1, 2]], "one_way": true},
            {"kind": "crash", "at_ms": 5, "node": 1}, {"kind": "heal", "at_ms": 20, "name": "a"}]}"#;
        let s = load_str(ok).expect("valid faults");
        assert_eq!(s.faults.len(), 3);
        assert_eq!(s.faults[0].fault, Fault::Crash { node: NodeId(1), lose_disk: false }, "sorted by time");
        let e = load_str(r#"{"duration_ms": 100, "faults": [{"kind": "heal", "at_ms": 20, "name": "a"}]}"#).unwrap_err();
        assert_eq!(e.path, "faults.0.name");
        let e = load_str(r#"{"duration_ms": 100, "faults": [{"kind": "crash", "at_ms": 200, "node": 1}]}"#).unwrap_err();
        assert_eq!(e.path, "faults.0.at_ms");
        let e = load_str(
            r#"{"duration_ms": 100, "faults": [{"kind": "partition", "at_ms": 1, "name": "p", "groups": [[0, 1], [1]]}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "faults.0.groups.1.0");
        let e = load_str(r#"{"duration_ms": 100, "faults": [{"kind": "crash", "at_ms": 1, "node": 99}]}"#).unwrap_err();
        assert_eq!(e.path, "faults.0.node");
    }

    #[test]
    fn presets_fill_fields_the_file_leaves_out() {
        let s = load_str(r#"{"duration_ms": 10, "preset": "cassandra", "protocol": {"r": 1}}"#).expect("valid");
        assert_eq!(s.protocol.conflict, ConflictPolicy::LastWriteWins);
        assert_eq!(s.protocol.r, 1, "the file overrides the preset");
        assert!(!s.protocol.sloppy_quorum);
        assert!(!s.checks.lost_writes_fail, "last-write-wins reports lost writes by default");
        let e = load_str(r#"{"duration_ms": 10, "preset": "raik"}"#).unwrap_err();
        assert_eq!(e.path, "preset");
        assert!(e.message.contains("did you mean \"riak\"?"), "{e}");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = load_str("{\n  \"duration_ms\": 10,\n  }").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3));
        assert!(e.message.starts_with("invalid JSON"), "{e}");
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let s = load(
            "t.json",
            r#"{"duration_ms": 10}"#,
            &["protocol.r=1".into(), "workload.popularity={\"kind\":\"zipf\",\"exponent\":1.2}".into()],
        )
        .expect("ok");
        assert_eq!(s.protocol.r, 1);
        assert_eq!(s.workload.popularity, KeyPopularity::Zipf { exponent: 1.2 });
        let e = load("t.json", r#"{"duration_ms": 10}"#, &["protocol.r=9".into()]).unwrap_err();
        assert_eq!(e.path, "protocol.r");
        let e = load("t.json", r#"{"duration_ms": 10}"#, &["protocol".into()]).unwrap_err();
        assert!(e.message.contains("path=value"));
    }
}
