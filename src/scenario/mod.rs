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

pub mod capacity;
pub mod cost;
pub mod jsonpos;
pub mod nemesis;
pub mod presets;
mod reference;
mod schema;
pub use reference::{json_schema, reference_markdown};
mod validate;
pub mod workload;

use crate::cluster::network::NetworkConfig;
use crate::cluster::ring::Strategy;
use crate::node::Protocol;
use crate::sim::distribution::Distribution;
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;
use schema::RawScenario;
use serde_json::Value;
use std::fmt;
use validate::validate;
use workload::{ProbeConfig, WorkloadConfig};

/// The built-in default scenario (`dynasim` with no arguments).
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/quickstart.json");
pub const DEFAULT_SCENARIO_NAME: &str = "<built-in quickstart>";

// ---------------------------------------------------------------- stage two: typed scenario

#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    pub datacenter: u16,
    pub weight: f64,
    /// The node clock's error: its timestamps read simulated time plus this (may be negative).
    pub clock_skew_ns: i64,
    /// A weaker (above 1) or stronger machine: its CPU times are multiplied, its bandwidth
    /// divided, by this.
    pub capacity_factor: f64,
}

/// Each disk operation's time, drawn per operation.
#[derive(Clone, Debug)]
pub struct DiskTimes {
    pub write: Distribution,
    pub read: Distribution,
}

impl Default for DiskTimes {
    fn default() -> DiskTimes {
        DiskTimes { write: Distribution::ZERO, read: Distribution::ZERO }
    }
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
    /// When not zero, every request takes a draw of it on one core, whatever its kind (the
    /// WARS model's processing time), instead of `capacity`'s CPU costs.
    pub service_time: Distribution,
    pub capacity: capacity::Capacity,
    /// What one disk write and one disk read of an object take (see `world::disk`).
    pub disk_times: DiskTimes,
    pub slow_nodes: Vec<(NodeId, f64)>,
    pub strategy: Strategy,
    pub spread_across_datacenters: bool,
    pub protocol: Protocol,
    pub network: NetworkConfig,
    /// The clients' datacenters, in turn by client number (probe clients after the workload's).
    pub client_datacenters: Vec<u16>,
    /// Partitions split clients too: client i sits with node i mod the node count.
    pub clients_with_nodes: bool,
    pub workload: WorkloadConfig,
    pub probe: Option<ProbeConfig>,
    /// How often divergence is sampled (zero: never).
    pub divergence_interval: SimDuration,
    /// The window over which each node's requests are counted for `load_over_time`.
    pub load_window: SimDuration,
    /// Latency samples each log keeps exactly before it summarises them (see
    /// [`crate::observe::latency`]).
    pub exact_latency_samples: usize,
    /// Writes between the history oracle's prunes (zero: never; see
    /// [`crate::observe::history::History::prune`]).
    pub history_prune_writes: usize,
    pub checks: CheckConfig,
    /// Random faults drawn per run from the fault stream.
    pub nemesis: Option<NemesisConfig>,
    /// Scheduled faults, sorted by time (stable: same-time faults keep file order).
    pub faults: Vec<ScheduledFault>,
    /// A controlled schedule: its bounds and the choices to replay.
    pub schedule: Option<ScheduleConfig>,
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

/// The `schedule` section: the choices a run replays, and the bounds they were made under.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleConfig {
    pub bounds: crate::sim::schedule::Bounds,
    pub choices: Vec<(crate::sim::schedule::ChoiceKind, u32)>,
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
    /// The operator's repair: every range of `node` (of every node, if none) compared in full
    /// with each of its other replicas, trees built for the occasion.
    Repair {
        node: Option<NodeId>,
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
            Fault::Repair { node: Some(node) } => format!("repair of {node}'s ranges"),
            Fault::Repair { node: None } => "repair of every range".to_string(),
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
    /// ... even one a crash took from an unflushed buffer (only when the scenario says
    /// `"lost_writes": "fail"`: otherwise the buffered storage model's risk is reported).
    pub unflushed_losses_fail: bool,
    /// Every declared fault must take effect (and every partition cut some traffic).
    pub faults_fired: bool,
    pub max_get_p999_ms: Option<f64>,
    pub max_put_p999_ms: Option<f64>,
    pub max_stale_read_fraction: Option<f64>,
    /// Session guarantees: the most of the reads each applied to that may violate it.
    pub max_read_your_writes_violation_fraction: Option<f64>,
    pub max_monotonic_reads_violation_fraction: Option<f64>,
    pub max_monotonic_writes_violation_fraction: Option<f64>,
    pub max_writes_follow_reads_violation_fraction: Option<f64>,
    /// Minimum fraction of operations that succeed.
    pub min_availability: Option<f64>,
    /// Maximum fraction of successful gets that return more than one version.
    pub max_multi_version_read_fraction: Option<f64>,
    /// The longest stretch of the workload's time in which no get (or no put) succeeds.
    pub max_stall_ms: Option<f64>,
    /// Minimum fraction of operations that succeed in every window in which any ended.
    pub min_window_availability: Option<f64>,
    /// In every window after the first fault, successes at least this fraction of the median
    /// window before it.
    pub min_throughput_fraction: Option<f64>,
    /// Keys whose acknowledged delete is undone at the end: at most (by default none where
    /// lost writes fail the check), and at least (a scenario that shows the anomaly).
    pub max_resurrected_keys: Option<u64>,
    pub min_resurrected_keys: Option<u64>,
}

// ---------------------------------------------------------------- errors

/// A scenario error: where, which field, what is wrong and what would be accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub position: Option<(usize, usize)>,
    /// The `--set path=value` that put the offending value there, if one did: then the error
    /// points at it instead of at a line of the file.
    pub set: Option<String>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(set) = &self.set {
            write!(f, " (--set {set})")?;
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
        // serde names list elements "faults[0]"; the file's paths are "faults.0".
        let path = path.replace('[', ".").replace(']', "");
        let segs: Vec<String> = path.split('.').filter(|s| !s.is_empty()).map(String::from).collect();
        ScenarioError {
            set: None,
            file: self.file.to_string(),
            position: jsonpos::locate(self.text, &segs),
            path,
            message: message.into(),
        }
    }
}

/// The closest candidate to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
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
    // "invalid value: integer `-3`, expected u32": the range in words.
    if let Some((given, expected)) = msg.strip_prefix("invalid value: ").and_then(|r| r.rsplit_once(", expected ")) {
        let expected = match expected {
            "u8" => format!("a whole number from 0 to {}", u8::MAX),
            "u16" => format!("a whole number from 0 to {}", u16::MAX),
            "u32" => format!("a whole number from 0 to {}", u32::MAX),
            "u64" | "usize" => format!("a whole number from 0 to {}", u64::MAX),
            "i32" | "i64" => "a whole number".to_string(),
            e => e.to_string(),
        };
        return format!("{given} is out of range; expected {expected}");
    }
    if msg.starts_with("invalid length") && msg.contains("expected struct") {
        return "a list where an object is expected; expected {...} with named fields".to_string();
    }
    // "invalid type: integer `3`, expected struct RawProtocol": say what is expected in the
    // file's terms, not the Rust type's.
    if let Some((given, expected)) = msg.strip_prefix("invalid type: ").and_then(|r| r.rsplit_once(", expected ")) {
        let expected = match expected {
            e if e.starts_with("struct ") || e.starts_with("internally tagged enum") || e.starts_with("map") => {
                "an object {...}".to_string()
            }
            "variant identifier" => "a name (a string)".to_string(),
            "usize" | "u64" | "u32" | "u16" | "u8" => "a whole number >= 0".to_string(),
            "i64" | "i32" => "a whole number".to_string(),
            "f64" | "f32" => "a number".to_string(),
            "a boolean" => "true or false".to_string(),
            e if e.starts_with("a sequence") => "a list [...]".to_string(),
            e => e.to_string(),
        };
        return format!("{given} is not accepted here; expected {expected}");
    }
    msg.to_string()
}

/// Blames an error on the `--set` that put the value there, if one did: its position in the
/// file would point at a value the user did not write.
fn blame_override(e: ScenarioError, overrides: &[String]) -> ScenarioError {
    let path = e.path.replace('[', ".").replace(']', "");
    let set = overrides.iter().rev().find(|o| {
        let target = o.split_once('=').map_or(o.as_str(), |(p, _)| p);
        path == target || path.starts_with(&format!("{target}."))
    });
    match set {
        Some(o) => ScenarioError { position: None, set: Some(o.clone()), path, ..e },
        None => ScenarioError { path, ..e },
    }
}

// ---------------------------------------------------------------- loading

/// Parses, applies `--set` overrides, and validates a scenario text read from `file`.
pub fn load(file: &str, text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_tree(file, text, overrides).map_err(|e| blame_override(e, overrides))
}

fn load_tree(file: &str, text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let text = &jsonpos::blank_comments(text);
    let ctx = Ctx { file, text };
    let mut tree: Value = serde_json::from_str(text).map_err(|e| ScenarioError {
        set: None,
        file: file.to_string(),
        // serde_json counts columns from 0 at the very start of a line; editors count from 1.
        position: Some((e.line().max(1), e.column().max(1))),
        path: String::new(),
        message: format!("invalid JSON: {e}").replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })?;
    if !tree.is_object() {
        return Err(ScenarioError {
            set: None,
            file: file.to_string(),
            position: Some((1, 1)),
            path: String::new(),
            message: "a scenario is a JSON object; expected {\"duration_ms\": ..., ...} (see scenarios/quickstart.json)".into(),
        });
    }
    if let Some((segments, position)) = jsonpos::first_duplicate_key(text) {
        let key = segments.last().cloned().unwrap_or_default();
        return Err(ScenarioError {
            set: None,
            file: file.to_string(),
            position: Some(position),
            path: segments.join("."),
            message: format!("\"{key}\" appears twice in one object; expected each field once"),
        });
    }
    for o in overrides {
        apply_override(&mut tree, o).map_err(|m| ScenarioError {
            file: file.to_string(),
            position: None,
            set: Some(o.clone()),
            path: o.split_once('=').map_or(o.as_str(), |(p, _)| p).to_string(),
            message: m,
        })?;
    }
    check_format(&ctx, &tree)?;
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
        // A value the preset set is not in the file: its error points at the preset.
        let preset = name.to_string();
        return finish(&ctx, tree).map_err(|e| {
            if e.position.is_some() || e.set.is_some() {
                return e;
            }
            let at = ctx.err("preset", "");
            ScenarioError {
                position: at.position,
                message: format!("{} (the {preset} preset's value; set {} in the file to change it)", e.message, e.path),
                ..e
            }
        });
    }
    finish(&ctx, tree)
}

/// The scenario format this dynasim writes and reads: a file's `"format"`. A file without one
/// is format 1, from before formats were numbered.
pub const FORMAT: u64 = 2;

/// Refuses a file whose format is unknown, or which uses a spelling whose meaning changed since
/// its format, naming today's spelling: such a file would otherwise run, silently, as a
/// different scenario. Checked on the file and its overrides, before any preset (whose values
/// are today's).
fn check_format(ctx: &Ctx, tree: &Value) -> Result<(), ScenarioError> {
    let format = match tree.get("format") {
        None => 1,
        Some(v) => match v.as_u64().filter(|f| (1..=FORMAT).contains(f)) {
            Some(f) => f,
            None => {
                return Err(ctx.err(
                    "format",
                    format!("{v} is not a format this dynasim reads; expected 1 to {FORMAT} ({FORMAT} is today's)"),
                ))
            }
        },
    };
    if format == 1 && tree.pointer("/protocol/conflict_resolution").and_then(Value::as_str) == Some("vector_clocks") {
        return Err(ctx.err(
            "protocol.conflict_resolution",
            "\"vector_clocks\" meant dotted version vectors in files without a \"format\" (format 1); write \
             \"dotted_version_vectors\" for that, or add \"format\": 2 to the file for Dynamo's vector clock per version, \
             which loses some concurrent writes by design",
        ));
    }
    Ok(())
}

/// The typed stage: deserialize the tree (file, overrides and preset) and validate it.
fn finish(ctx: &Ctx, tree: Value) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = serde_path_to_error::deserialize(tree.clone()).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let inner = e.into_inner().to_string();
        // For an unknown or a missing field, name the field itself.
        let field = inner.strip_prefix("unknown field `").or_else(|| inner.strip_prefix("missing field `"));
        if let Some(name) = field.and_then(|r| r.split('`').next()) {
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
            // A field missing from the top level: the object that lacks it starts the file.
            if err.position.is_none() && path.is_empty() {
                let start = ctx.text.len() - ctx.text.trim_start().len();
                let before = &ctx.text[..start];
                err.position = Some((before.matches('\n').count() + 1, start - before.rfind('\n').map_or(0, |n| n + 1) + 1));
            }
            return ScenarioError { path: full, ..err };
        }
        // Inside an object tagged by "kind" (a fault, a distribution), serde reports a wrong type
        // at the object, not at its field: find the field whose value serde describes.
        let path = match member_described(&tree, &path, &inner) {
            Some(field) if path.is_empty() => field,
            Some(field) => format!("{path}.{field}"),
            None => path,
        };
        ctx.err(&path, explain_serde_message(&inner))
    })?;
    if let Some(path) = serde_json::to_value(&raw).ok().and_then(|typed| array_for_object(&tree, &typed, String::new())) {
        return Err(ctx.err(&path, "a list where an object is expected; expected {...} with named fields"));
    }
    validate(ctx, raw, tree)
}

/// For serde's "invalid type: string \"x\", expected ..." or "invalid value: integer `-3`, ..."
/// at `path`, the one member of the object there whose value is the one described.
fn member_described(tree: &Value, path: &str, message: &str) -> Option<String> {
    let given = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: "))?;
    let given = given.rsplit_once(", expected ")?.0;
    let mut at = tree;
    for seg in path.replace('[', ".").replace(']', "").split('.').filter(|s| !s.is_empty()) {
        at = match at {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    let describe = |v: &Value| match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{}`", n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => format!("integer `{n}`"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
        Value::Null => "null".into(),
    };
    let Value::Object(members) = at else { return None };
    let mut matching = members.iter().filter(|(_, v)| describe(v) == given || given.starts_with(&describe(v)));
    match (matching.next(), matching.next()) {
        (Some((k, _)), None) => Some(k.clone()),
        _ => None,
    }
}

/// The first place where the file has a list and the typed scenario an object: serde fills a
/// struct from a list by position, so `"cluster": [3]` would silently mean three nodes.
fn array_for_object(given: &Value, typed: &Value, path: String) -> Option<String> {
    let at = |seg: &str| if path.is_empty() { seg.to_string() } else { format!("{path}.{seg}") };
    match (given, typed) {
        (Value::Array(_), Value::Object(_)) => Some(path),
        (Value::Object(g), Value::Object(t)) => {
            g.iter().find_map(|(k, v)| t.get(k).and_then(|tv| array_for_object(v, tv, at(k))))
        }
        (Value::Array(g), Value::Array(t)) => {
            g.iter().zip(t).enumerate().find_map(|(i, (v, tv))| array_for_object(v, tv, at(&i.to_string())))
        }
        _ => None,
    }
}

/// Applies `a.b.c=value`: value is parsed as JSON, or taken as a string if it is not JSON.
pub fn apply_override(tree: &mut Value, assignment: &str) -> Result<(), String> {
    let (path, value) = assignment.split_once('=').ok_or_else(|| "expected path=value, e.g. protocol.r=2".to_string())?;
    if path.is_empty() {
        return Err("the path before '=' is empty".into());
    }
    let value: Value = match serde_json::from_str(value) {
        Ok(v) => {
            if let Some((segments, _)) = jsonpos::first_duplicate_key(value) {
                let key = segments.last().cloned().unwrap_or_default();
                return Err(format!("the value has \"{key}\" twice in one object; expected each field once"));
            }
            v
        }
        Err(_) => Value::String(value.to_string()),
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::ConflictPolicy;
    use crate::scenario::workload::KeyPopularity;

    fn load_str(text: &str) -> Result<Scenario, ScenarioError> {
        load("t.json", text, &[])
    }

    #[test]
    fn a_changed_spelling_in_an_unversioned_file_is_refused_with_the_new_one() {
        let old = "{\"duration_ms\": 10,\n \"protocol\": {\"conflict_resolution\": \"vector_clocks\"}}";
        let e = load_str(old).map(|_| ()).expect_err("refused");
        assert_eq!((e.path.as_str(), e.position), ("protocol.conflict_resolution", Some((2, 15))));
        assert!(e.message.contains("\"dotted_version_vectors\"") && e.message.contains("\"format\": 2"), "{}", e.message);
        let e = load("t.json", "{\"duration_ms\": 10}", &["protocol.conflict_resolution=vector_clocks".into()]).err();
        assert!(e.is_some(), "an override on a format-1 file is read in format 1 too");
        let current = old.replacen('{', "{\"format\": 2, ", 1);
        let s = load_str(&current).expect("format 2 means Dynamo's clocks");
        assert_eq!(s.protocol.conflict, ConflictPolicy::VectorClocks);
        let e = load_str("{\"format\": 3, \"duration_ms\": 10}").map(|_| ()).expect_err("unknown format");
        assert!(e.path == "format" && e.message.contains("expected 1 to 2"), "{}", e.message);
    }

    #[test]
    fn comments_are_allowed_and_errors_after_them_keep_their_line_and_column() {
        let text = "{ // a scenario\n  /* the length */ \"duration_ms\": 10,\n  \"protocol\": {\"n\": \"three\"} // N\n}";
        let e = load_str(text).map(|_| ()).expect_err("n is not a number");
        assert_eq!((e.path.as_str(), e.position), ("protocol.n", Some((3, 16))));
        assert!(load_str(&text.replace("\"three\"", "3")).is_ok());
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
        assert!(e.message.contains("out of range"), "{e}");
        let e = load_str(r#"{"duration_ms": 1e13}"#).unwrap_err();
        assert!(e.message.contains("to 1e12"), "beyond the clock's range: {e}");
        let e = load_str(r#"{"duration_ms": 100, "protocol": {"probe_interval_ms": 1e-9}}"#).unwrap_err();
        assert!(e.message.contains("below the shortest period, 1 ms"), "{e}");
        let e = load_str(r#"{"duration_ms": 100, "protocol": {"request_timeout_ms": 1e-9}}"#).unwrap_err();
        assert!(e.message.contains("below one nanosecond"), "{e}");
    }

    #[test]
    fn what_cannot_run_is_rejected_before_the_run() {
        let rejected = |text: &str, path: &str, words: &str| {
            let e = load_str(text).expect_err(text);
            assert_eq!(e.path, path, "{e}");
            assert!(e.message.contains(words), "{e}");
        };
        rejected(
            r#"{"duration_ms": 100, "cluster": {"nodes": 3, "initial_members": []}}"#,
            "cluster.initial_members",
            "at least one",
        );
        rejected(
            r#"{"duration_ms": 100, "cluster": {"nodes": 2}, "faults": [{"kind": "leave", "at_ms": 10, "node": 0},
                {"kind": "join", "at_ms": 20, "node": 0}, {"kind": "leave", "at_ms": 30, "node": 1},
                {"kind": "leave", "at_ms": 40, "node": 0}]}"#,
            "faults.3.node",
            "no node is left",
        );
        rejected(
            r#"{"duration_ms": 100, "workload": {"arrivals": {"kind": "open", "rate_per_s": 1e308, "clients": 10}}}"#,
            "workload.arrivals.rate_per_s",
            "at most 1e9",
        );
        rejected(r#"{"duration_ms": 1e9, "nemesis": {"rate_per_s": 100, "kinds": ["crash"]}}"#, "nemesis.rate_per_s", "faults");
        rejected(
            r#"{"duration_ms": 100, "network": {"latency": {"kind": "exponential", "mean_ms": 1e300}}}"#,
            "network.latency.mean_ms",
            "at most",
        );
        // A leave that a join makes good, and a nemesis within bounds, are fine.
        load_str(
            r#"{"duration_ms": 100, "cluster": {"nodes": 2}, "faults": [{"kind": "leave", "at_ms": 10, "node": 0},
                {"kind": "join", "at_ms": 20, "node": 0}, {"kind": "leave", "at_ms": 30, "node": 1}]}"#,
        )
        .expect("one member remains throughout");
        load_str(r#"{"duration_ms": 1e6, "nemesis": {"rate_per_s": 100, "kinds": ["crash"]}}"#).expect("1e5 faults");
    }

    #[test]
    fn repeated_keys_and_lists_for_objects_are_errors() {
        let e = load_str("{\"duration_ms\": 1000,\n \"duration_ms\": 50}").unwrap_err();
        assert_eq!((e.path.as_str(), e.position), ("duration_ms", Some((2, 2))));
        assert!(e.message.contains("appears twice"), "{e}");
        let e = load_str(r#"{"duration_ms": 100, "cluster": [3]}"#).unwrap_err();
        assert_eq!(e.path, "cluster");
        assert!(e.message.contains("a list where an object is expected"), "{e}");
        let e = load_str(r#"{"duration_ms": 100, "workload": {"arrivals": ["closed", 20, {"kind": "constant", "ms": 1}]}}"#)
            .unwrap_err();
        assert_eq!(e.path, "workload.arrivals");
        let e = load_str(r#"{"duration_ms": 100, "protocol": 3}"#).unwrap_err();
        assert!(!e.message.contains("Raw") && e.message.contains("expected an object"), "no Rust type names: {e}");
        let e = load_str("").unwrap_err();
        assert_eq!(e.position, Some((1, 1)), "columns count from 1");
    }

    #[test]
    fn every_latency_kind_takes_an_offset() {
        let s = load_str(
            r#"{"duration_ms": 100, "network": {"latency": {"kind": "pareto", "scale_ms": 1, "shape": 2, "offset_ms": 20}}}"#,
        )
        .expect("a shifted Pareto");
        let wan = &s.network.default.latency;
        assert_eq!(wan.mean_ms(), 22.0, "20 ms of propagation plus the Pareto's mean of 2 ms");
        let e = load_str(r#"{"duration_ms": 100, "cluster": {"service_time": {"kind": "uniform", "min_ms": 0, "max_ms": 1, "offset_ms": -1}}}"#)
            .unwrap_err();
        assert_eq!(e.path, "cluster.service_time.offset_ms");
    }

    #[test]
    fn client_retries_are_bounded() {
        let e = load_str(r#"{"duration_ms": 100, "workload": {"client_retries": 11}}"#).unwrap_err();
        assert_eq!(e.path, "workload.client_retries");
        assert!(e.message.contains("expected 0 to 10"), "{e}");
        assert_eq!(
            load_str(r#"{"duration_ms": 100, "workload": {"client_retries": 3}}"#).expect("valid").workload.client_retries,
            3
        );
    }

    #[test]
    fn racks_are_not_modelled_so_rack_fields_are_rejected() {
        let e = load_str(r#"{"cluster": {"nodes": 4, "racks_per_datacenter": 2}}"#).unwrap_err();
        assert_eq!(e.path, "cluster.racks_per_datacenter");
        assert!(e.message.contains("unknown field"), "{e}");
        let e = load_str(r#"{"cluster": {"nodes": 4, "node_overrides": [{"node": 0, "rack": 1}]}}"#).unwrap_err();
        assert_eq!(e.path, "cluster.node_overrides.0.rack");
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
        let e = load("t.json", r#"{"duration_ms": 10, "protocol": {"r": 2}}"#, &["protocol.r=9".into()]).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.position, e.set.as_deref()),
            ("protocol.r", None, Some("protocol.r=9")),
            "the --set is to blame"
        );
        let e = load("t.json", r#"{"duration_ms": 10}"#, &["protocol".into()]).unwrap_err();
        assert!(e.message.contains("path=value"));
    }
}
