//! Stage two: ranges and cross-field rules, one short function per section of the file
//! (cluster, ring, protocol, network, workload, probe, checks, nemesis, faults), building the
//! typed [`Scenario`] with units converted. Nothing downstream validates again.

use crate::cluster::network::{LinkRule, LinkSettings, MessageKind, NetworkConfig};
use crate::cluster::ring::Strategy;
use crate::node::cart::CartMerge;
use crate::node::clock_pruning::ClockPruning;
use crate::node::consistency::ConsistencyLevel;
use crate::node::protocol::SpeculativeRetry;
use crate::node::riak_quorums::RiakQuorums;
use crate::node::storage::StorageModel;
use crate::node::tombstones::TombstoneRemoval;
use crate::node::{ConflictPolicy, Coordination, Fanout, Protocol};
use crate::observe::history::VERSIONS_TRACKED;
use crate::scenario::schema::*;
use crate::scenario::workload::{
    Arrivals, ClientSemantics, KeyPopularity, LevelMix, ProbeConfig, RateProfile, ValueBytes, ValueModel, WorkloadConfig,
};
use crate::scenario::*;
use crate::sim::distribution::Distribution;
use crate::sim::engine::SimDuration;
use crate::sim::ids::NodeId;
use serde_json::Value;
use std::collections::BTreeMap;

/// The longest time a scenario may name: 10^12 ms, about 31 years. Simulated time is whole
/// nanoseconds in 64 bits (about 584 years), so sums of a few such times still fit.
pub const MAX_MS: f64 = 1e12;

/// A bound on a nemesis's expected faults in one run: far more than a run can usefully hold,
/// few enough that scheduling them cannot exhaust memory.
const MAX_NEMESIS_FAULTS: f64 = 1e6;

/// The shortest period of a timer that repeats for the whole run (gossip, probes, anti-entropy,
/// hint scans, flushes, observation windows): shorter ones cost millions of events per simulated
/// second and model no real system.
pub const MIN_PERIOD_MS: f64 = 1.0;

/// A repeating timer's period: at least [`MIN_PERIOD_MS`] (or zero, meaning never, where
/// `zero_is_off`).
fn period(ctx: &Ctx, path: &str, v: f64, zero_is_off: bool) -> Result<SimDuration, ScenarioError> {
    if zero_is_off && v == 0.0 {
        return Ok(SimDuration::ZERO);
    }
    if v.is_finite() && v < MIN_PERIOD_MS {
        let off = if zero_is_off { " (or 0, never)" } else { "" };
        return Err(ctx.err(
            path,
            format!("{v} is below the shortest period, {MIN_PERIOD_MS} ms; expected {MIN_PERIOD_MS} to {MAX_MS:e}{off}"),
        ));
    }
    ms(ctx, path, v, false)
}

/// `workload.session_keys_per_client`'s default: a client's working set of objects, whose
/// contexts it holds between a read and the write that follows (Dynamo hands the context to the
/// application; no client library keeps every key's forever). Three quarters of 4,096: a full
/// session table of that many slots.
pub const DEFAULT_SESSION_KEYS_PER_CLIENT: u64 = 3072;
const MAX_SESSION_KEYS_PER_CLIENT: u64 = 1 << 32;

/// The most latency samples a log may keep exactly: 32 GiB a log.
const MAX_EXACT_LATENCY_SAMPLES: u64 = 1 << 32;

fn exact_latency_samples(ctx: &Ctx, v: Option<u64>) -> Result<usize, ScenarioError> {
    let v = v.unwrap_or(crate::observe::latency::DEFAULT_EXACT_SAMPLES as u64);
    if v > MAX_EXACT_LATENCY_SAMPLES {
        return Err(ctx.err(
            "observe.exact_latency_samples",
            format!("{v} is out of range; expected 0 (summarise every sample) to {MAX_EXACT_LATENCY_SAMPLES}"),
        ));
    }
    Ok(v as usize)
}

/// `observe.history_prune_writes`' default: a prune's census (every version any node, message
/// or client holds) costs about as much as a few thousand operations, so once per 262,144
/// writes it is noise, and the writes between two prunes are at most about 10 MiB of oracle.
pub const DEFAULT_HISTORY_PRUNE_WRITES: u64 = 1 << 18;

fn history_prune_writes(ctx: &Ctx, v: Option<u64>) -> Result<usize, ScenarioError> {
    let v = v.unwrap_or(DEFAULT_HISTORY_PRUNE_WRITES);
    if v > MAX_EXACT_LATENCY_SAMPLES {
        return Err(ctx.err(
            "observe.history_prune_writes",
            format!("{v} is out of range; expected 0 (never prune) to {MAX_EXACT_LATENCY_SAMPLES}"),
        ));
    }
    Ok(v as usize)
}

fn ms(ctx: &Ctx, path: &str, v: f64, allow_zero: bool) -> Result<SimDuration, ScenarioError> {
    let accepted = if allow_zero { "a number of milliseconds from 0" } else { "a number of milliseconds from 0.000001" };
    if !v.is_finite() || !(0.0..=MAX_MS).contains(&v) || (!allow_zero && v == 0.0) {
        return Err(ctx.err(path, format!("{v} is out of range; expected {accepted} to {MAX_MS:e}")));
    }
    let d = SimDuration::from_millis_f64(v);
    // Time is kept in whole nanoseconds: a positive time below half of one would become zero,
    // which for an interval means a loop that never lets time pass.
    if v > 0.0 && d == SimDuration::ZERO {
        return Err(
            ctx.err(path, format!("{v} is below one nanosecond, the clock's resolution; expected {accepted} to {MAX_MS:e}"))
        );
    }
    Ok(d)
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
        if v.is_finite() && (0.0..=MAX_MS).contains(&v) {
            Ok(v)
        } else {
            Err(ctx.err(&format!("{path}.{field}"), format!("{v} is out of range; expected a number from 0 to {MAX_MS:e}")))
        }
    };
    let positive = |field: &str, v: f64| {
        if v.is_finite() && v > 0.0 && v <= MAX_MS {
            Ok(v)
        } else {
            Err(ctx.err(&format!("{path}.{field}"), format!("{v} is out of range; expected a number > 0, at most {MAX_MS:e}")))
        }
    };
    let body = match raw {
        RawDistribution::Constant { ms, .. } => Distribution::Constant { ms: nonneg("ms", *ms)? },
        RawDistribution::Uniform { min_ms, max_ms, .. } => {
            let (lo, hi) = (nonneg("min_ms", *min_ms)?, nonneg("max_ms", *max_ms)?);
            if hi < lo {
                return Err(ctx.err(&format!("{path}.max_ms"), format!("{hi} is below min_ms {lo}; expected max_ms >= min_ms")));
            }
            Distribution::Uniform { min_ms: lo, max_ms: hi }
        }
        // The exponential kept its own offset (reports from before the general one match).
        RawDistribution::Exponential { mean_ms, offset_ms } => {
            return Ok(Distribution::Exponential {
                mean_ms: positive("mean_ms", *mean_ms)?,
                offset_ms: nonneg("offset_ms", *offset_ms)?,
            });
        }
        RawDistribution::Lognormal { median_ms, sigma, .. } => {
            Distribution::LogNormal { median_ms: positive("median_ms", *median_ms)?, sigma: nonneg("sigma", *sigma)? }
        }
        RawDistribution::Pareto { scale_ms, shape, .. } => {
            Distribution::Pareto { scale_ms: positive("scale_ms", *scale_ms)?, shape: positive("shape", *shape)? }
        }
        RawDistribution::Mixture { components, .. } => {
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
            // Drawing picks a component by its share of the sum: an infinite sum would always
            // pick the last one.
            let total: f64 = out.iter().map(|(w, _)| w).sum();
            if !total.is_finite() {
                return Err(ctx.err(
                    &format!("{path}.components"),
                    format!(
                        "the weights sum to {total}; expected weights whose sum is a finite number (they are relative shares)"
                    ),
                ));
            }
            Distribution::Mixture { components: out }
        }
    };
    let offset_ms = match raw {
        RawDistribution::Constant { offset_ms, .. }
        | RawDistribution::Uniform { offset_ms, .. }
        | RawDistribution::Exponential { offset_ms, .. }
        | RawDistribution::Lognormal { offset_ms, .. }
        | RawDistribution::Pareto { offset_ms, .. }
        | RawDistribution::Mixture { offset_ms, .. } => nonneg("offset_ms", *offset_ms)?,
    };
    Ok(if offset_ms > 0.0 { Distribution::Shifted { offset_ms, body: Box::new(body) } } else { body })
}

fn positive_weight(ctx: &Ctx, path: &str, w: f64) -> Result<f64, ScenarioError> {
    if w.is_finite() && w > 0.0 {
        Ok(w)
    } else {
        Err(ctx.err(path, format!("{w} is out of range; expected a weight > 0")))
    }
}

pub(super) fn validate(ctx: &Ctx, raw: RawScenario, source: Value) -> Result<Scenario, ScenarioError> {
    let duration = ms(ctx, "duration_ms", raw.duration_ms, false)?;
    let quiescent_tail = ms(ctx, "quiescent_tail_ms", raw.quiescent_tail_ms.unwrap_or(0.0), true)?;
    let cluster = cluster(ctx, &raw.cluster)?;
    let strategy = ring(ctx, &raw.ring, cluster.node_count)?;
    let mut protocol = protocol(ctx, &raw.protocol, &raw.membership, &cluster)?;
    let (storage, disk_times) = storage(ctx, raw.storage.as_ref(), protocol.n)?;
    protocol.storage = storage;
    protocol.reads_from_disk = !disk_times.read.is_zero();
    let network = network(ctx, &raw.network, &cluster)?;
    let client_datacenters = match &raw.workload.client_datacenter {
        None => Vec::new(),
        Some(OneOrMany::One(d)) => vec![cluster.dc_index(ctx, "workload.client_datacenter", d)?],
        Some(OneOrMany::Many(ds)) if ds.is_empty() => {
            return Err(ctx.err("workload.client_datacenter", "empty; expected a datacenter name or a list of them"))
        }
        Some(OneOrMany::Many(ds)) => ds
            .iter()
            .enumerate()
            .map(|(i, d)| cluster.dc_index(ctx, &format!("workload.client_datacenter.{i}"), d))
            .collect::<Result<_, _>>()?,
    };
    let workload = workload(ctx, &raw.workload, !client_datacenters.is_empty(), protocol.n)?;
    let probe = probe(ctx, raw.probe.as_ref())?;
    let checks = checks(ctx, &raw.checks, quiescent_tail, &protocol)?;
    let nemesis = nemesis(ctx, raw.nemesis.as_ref(), duration, quiescent_tail)?;
    let end_ns = duration.as_nanos().saturating_add(quiescent_tail.as_nanos());
    let faults = faults(ctx, &raw.faults, cluster.node_count, &cluster.initial_members, end_ns)?;

    let scenario = Scenario {
        name: raw.name.unwrap_or_else(|| "unnamed".to_string()),
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        quiescent_tail,
        datacenters: cluster.datacenters,
        nodes: cluster.nodes,
        initial_members: cluster.initial_members,
        service_time: cluster.service_time,
        capacity: cluster.capacity,
        disk_times,
        slow_nodes: cluster.slow_nodes,
        strategy,
        spread_across_datacenters: raw.ring.spread_across_datacenters,
        protocol,
        network,
        client_datacenters,
        clients_with_nodes: raw.workload.clients_with_nodes,
        workload,
        probe,
        checks,
        nemesis,
        divergence_interval: period(
            ctx,
            "observe.divergence_interval_ms",
            raw.observe.divergence_interval_ms.unwrap_or(1000.0),
            true,
        )?,
        load_window: period(ctx, "observe.load_window_ms", raw.observe.load_window_ms.unwrap_or(1000.0), false)?,
        exact_latency_samples: exact_latency_samples(ctx, raw.observe.exact_latency_samples)?,
        history_prune_writes: history_prune_writes(ctx, raw.observe.history_prune_writes)?,
        faults,
        source,
    };
    super::cost::check(ctx, &scenario, super::cost::memory_limit())?;
    Ok(scenario)
}

/// The validated `cluster` section, and lookups of the nodes and datacenters it declares.
struct ClusterSection {
    node_count: u32,
    datacenters: Vec<String>,
    nodes: Vec<NodeSpec>,
    initial_members: Vec<NodeId>,
    service_time: Distribution,
    capacity: super::capacity::Capacity,
    slow_nodes: Vec<(NodeId, f64)>,
}

impl ClusterSection {
    fn node(&self, ctx: &Ctx, path: &str, n: u32) -> Result<NodeId, ScenarioError> {
        node_id(ctx, self.node_count, path, n)
    }

    fn dc_index(&self, ctx: &Ctx, path: &str, name: &str) -> Result<u16, ScenarioError> {
        datacenter_index(ctx, &self.datacenters, path, name)
    }
}

fn datacenter_index(ctx: &Ctx, datacenters: &[String], path: &str, name: &str) -> Result<u16, ScenarioError> {
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
}

/// `cluster`: nodes, datacenters, per-node overrides, initial members, service times.
fn cluster(ctx: &Ctx, c: &RawCluster) -> Result<ClusterSection, ScenarioError> {
    let node_count = c.nodes.unwrap_or(8);
    if node_count == 0 || node_count > 100_000 {
        return Err(ctx.err("cluster.nodes", format!("{node_count} is out of range; expected 1 to 100000")));
    }
    let datacenters = c.datacenters.clone().unwrap_or_else(|| vec!["dc1".to_string()]);
    if datacenters.is_empty() || datacenters.len() > 16 {
        return Err(ctx.err("cluster.datacenters", "expected a list of 1 to 16 datacenter names"));
    }
    let dc_index = |path: &str, name: &str| datacenter_index(ctx, &datacenters, path, name);
    let dcs = datacenters.len() as u32;
    let mut nodes: Vec<NodeSpec> = (0..node_count)
        .map(|i| NodeSpec { datacenter: (i % dcs) as u16, weight: 1.0, clock_skew_ns: 0, capacity_factor: 1.0 })
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
        if let Some(skew) = o.clock_skew_ms {
            spec.clock_skew_ns = skew_ns(ctx, &format!("{p}.clock_skew_ms"), skew)?;
        }
        if let Some(f) = o.capacity_factor {
            if !(f.is_finite() && (0.01..=1000.0).contains(&f)) {
                return Err(ctx.err(&format!("{p}.capacity_factor"), format!("{f} is out of range; expected 0.01 to 1000")));
            }
            spec.capacity_factor = f;
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
            if out.is_empty() {
                return Err(ctx.err("cluster.initial_members", "empty; expected at least one node to start the ring"));
            }
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
        if !(1.0..=MAX_SLOWDOWN).contains(&s.factor) {
            return Err(ctx.err(
                &format!("{p}.factor"),
                format!("{} is out of range; expected a slowdown factor from 1 to 1000", s.factor),
            ));
        }
        slow_nodes.push((id, s.factor));
    }

    let capacity = super::capacity::capacity(ctx, c.capacity.as_ref())?;
    Ok(ClusterSection { node_count, datacenters, nodes, initial_members, service_time, capacity, slow_nodes })
}

/// `ring`: the partitioning strategy, tokens per node and partitions.
fn ring(ctx: &Ctx, rr: &RawRing, node_count: u32) -> Result<Strategy, ScenarioError> {
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
    Ok(match rr.strategy {
        RawStrategy::RandomTokens => Strategy::RandomTokens { tokens_per_node: tokens },
        RawStrategy::RandomTokensEqualPartitions => Strategy::RandomTokensEqualPartitions { tokens_per_node: tokens, partitions },
        RawStrategy::EqualPartitions => Strategy::EqualPartitions { partitions },
    })
}

/// `protocol` (N, R, W, coordination, repair switches and periods) and `membership`.
fn protocol(
    ctx: &Ctx,
    rp: &RawProtocol,
    membership: &RawMembership,
    cluster: &ClusterSection,
) -> Result<Protocol, ScenarioError> {
    let node_count = cluster.node_count;
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
    let defaults = RiakQuorums::default();
    let riak = RiakQuorums {
        pr: rp.pr.unwrap_or(defaults.pr),
        pw: rp.pw.unwrap_or(defaults.pw),
        dw: rp.dw.unwrap_or(defaults.dw),
        notfound_ok: rp.notfound_ok.unwrap_or(defaults.notfound_ok),
        basic_quorum: rp.basic_quorum.unwrap_or(defaults.basic_quorum),
    };
    for (name, v) in [("pr", riak.pr), ("pw", riak.pw), ("dw", riak.dw)] {
        if v > n {
            return Err(ctx.err(&format!("protocol.{name}"), format!("{v} is out of range; expected 0 (none) to N ({n})")));
        }
    }
    if rp.digest_reads == Some(true) && riak.judges_reads() {
        return Err(ctx.err(
            "protocol.digest_reads",
            "a digest carries no data, so Riak's PR or notfound_ok off cannot judge it; set digest_reads false, or pr to 0 and notfound_ok true",
        ));
    }
    let threshold = rp.clock_truncation_threshold.unwrap_or(10);
    if threshold == 0 {
        return Err(ctx.err("protocol.clock_truncation_threshold", "0 is out of range; expected at least 1 clock entry"));
    }
    Ok(Protocol {
        n,
        r,
        w,
        coordination: match rp.coordination {
            RawCoordination::PreferenceListHead => Coordination::PreferenceListHead,
            RawCoordination::LoadBalancer => Coordination::LoadBalancer,
            RawCoordination::ClientDriven => Coordination::ClientDriven,
            RawCoordination::Proxy => Coordination::Proxy,
            RawCoordination::Direct => Coordination::Direct,
        },
        fanout: match rp.fanout {
            RawFanout::All => Fanout::All,
            RawFanout::Quorum => Fanout::Quorum,
            RawFanout::ReadQuorum => Fanout::ReadQuorum,
        },
        write_to_fastest_reader: rp.write_to_fastest_reader,
        local_legs_over_network: rp.local_legs_over_network,
        request_timeout: ms(ctx, "protocol.request_timeout_ms", rp.request_timeout_ms.unwrap_or(500.0), false)?,
        read_repair_window: ms(ctx, "protocol.read_repair_window_ms", rp.read_repair_window_ms.unwrap_or(50.0), true)?,
        clock_pruning: ClockPruning {
            small: match rp.clock_prune_small.unwrap_or(threshold) {
                s if s <= threshold => s,
                s => {
                    return Err(ctx.err(
                        "protocol.clock_prune_small",
                        format!(
                            "{s} is out of range; expected at most clock_truncation_threshold ({threshold}), Riak's big_vclock"
                        ),
                    ))
                }
            },
            big: threshold,
            young: ms(ctx, "protocol.clock_prune_young_ms", rp.clock_prune_young_ms.unwrap_or(0.0), true)?,
            old: rp.clock_prune_old_ms.map(|o| ms(ctx, "protocol.clock_prune_old_ms", o, true)).transpose()?,
            background: rp
                .clock_prune_interval_ms
                .map(|i| period(ctx, "protocol.clock_prune_interval_ms", i, false))
                .transpose()?,
        },
        sloppy_quorum: rp.sloppy_quorum.unwrap_or(true),
        hinted_handoff: rp.hinted_handoff.unwrap_or(true),
        hint_scan_interval: period(ctx, "protocol.hint_scan_interval_ms", rp.hint_scan_interval_ms.unwrap_or(500.0), false)?,
        hint_window: rp.hint_window_ms.map(|w| ms(ctx, "protocol.hint_window_ms", w, true)).transpose()?,
        read_repair: rp.read_repair.unwrap_or(true),
        reply_timeout: ms(ctx, "protocol.reply_timeout_ms", rp.reply_timeout_ms.unwrap_or(100.0), false)?,
        probe_interval: period(ctx, "protocol.probe_interval_ms", rp.probe_interval_ms.unwrap_or(200.0), false)?,
        anti_entropy: rp.anti_entropy.unwrap_or(true),
        anti_entropy_interval: period(
            ctx,
            "protocol.anti_entropy_interval_ms",
            rp.anti_entropy_interval_ms.unwrap_or(1000.0),
            false,
        )?,
        admission: match &rp.admission_control {
            None => None,
            Some(a) => {
                let percentile = a.percentile.unwrap_or(0.99);
                if !(percentile > 0.0 && percentile <= 1.0) {
                    return Err(ctx.err(
                        "protocol.admission_control.percentile",
                        format!("{percentile} is out of range; expected a fraction above 0, at most 1"),
                    ));
                }
                let window = a.window.unwrap_or(200);
                if !(4..=100_000).contains(&window) {
                    return Err(ctx.err(
                        "protocol.admission_control.window",
                        format!("{window} is out of range; expected 4 to 100000 requests"),
                    ));
                }
                Some(crate::node::admission::AdmissionConfig {
                    percentile,
                    target: ms(ctx, "protocol.admission_control.target_ms", a.target_ms, false)?,
                    window,
                    backoff: ms(ctx, "protocol.admission_control.backoff_ms", a.backoff_ms.unwrap_or(10.0), false)?,
                })
            }
        },
        merkle_leaves: match rp.merkle_leaves.unwrap_or(32) {
            l if l.is_power_of_two() && (2..=65536).contains(&l) => l,
            l => {
                return Err(
                    ctx.err("protocol.merkle_leaves", format!("{l} is not allowed; expected a power of two from 2 to 65536"))
                )
            }
        },
        gossip_interval: period(ctx, "membership.gossip_interval_ms", membership.gossip_interval_ms.unwrap_or(1000.0), false)?,
        seeds: match &membership.seeds {
            None => Vec::new(),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, n)| cluster.node(ctx, &format!("membership.seeds.{i}"), *n))
                .collect::<Result<Vec<_>, _>>()?,
        },
        conflict: match rp.conflict_resolution {
            RawConflict::VectorClocks => ConflictPolicy::VectorClocks,
            RawConflict::DottedVersionVectors => ConflictPolicy::DottedVersionVectors,
            RawConflict::LastWriteWins => ConflictPolicy::LastWriteWins,
        },
        // The durable default; `validate` sets the scenario's own from its `storage` section.
        storage: StorageModel::Durable,
        reads_from_disk: false,
        riak,
        tombstones: tombstone_removal(ctx, rp)?,
        digest_reads: rp.digest_reads.unwrap_or(false),
        speculative_retry: speculative_retry(ctx, rp.speculative_retry.as_deref())?,
        unavailable_when_suspected: rp.unavailable_when_suspected.unwrap_or(false),
    })
}

/// `protocol.speculative_retry`, as Cassandra spells it: "99percentile" (or "99p"), "50ms", or
/// "none".
fn speculative_retry(ctx: &Ctx, raw: Option<&str>) -> Result<Option<SpeculativeRetry>, ScenarioError> {
    const ACCEPTED: &str = "expected a percentile like \"99percentile\" (or \"99p\"), a time like \"50ms\", or \"none\"";
    let Some(text) = raw.map(str::to_ascii_lowercase) else { return Ok(None) };
    let bad = || ctx.err("protocol.speculative_retry", format!("{text:?} is not a speculative retry; {ACCEPTED}"));
    if text == "none" {
        return Ok(None);
    }
    if let Some(p) = text.strip_suffix("percentile").or_else(|| text.strip_suffix('p')) {
        let p: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p < 100.0) {
            return Err(
                ctx.err("protocol.speculative_retry", format!("{p} is out of range; expected a percentile above 0, below 100"))
            );
        }
        return Ok(Some(SpeculativeRetry::Percentile(p / 100.0)));
    }
    let ms_value: f64 = text.strip_suffix("ms").ok_or_else(bad)?.trim().parse().map_err(|_| bad())?;
    Ok(Some(SpeculativeRetry::After(ms(ctx, "protocol.speculative_retry", ms_value, false)?)))
}

/// `protocol.gc_grace_ms` (Cassandra) or `protocol.delete_mode` (Riak): how tombstones go.
fn tombstone_removal(ctx: &Ctx, rp: &RawProtocol) -> Result<TombstoneRemoval, ScenarioError> {
    const ACCEPTED: &str = "expected \"keep\", \"immediate\" or a delay in milliseconds (Riak's default is 3000)";
    let mode = match &rp.delete_mode {
        None => None,
        Some(serde_json::Value::String(s)) if s == "keep" => Some(TombstoneRemoval::Keep),
        Some(serde_json::Value::String(s)) if s == "immediate" => Some(TombstoneRemoval::Reap { delay: SimDuration::ZERO }),
        Some(serde_json::Value::Number(d)) => {
            let delay = ms(ctx, "protocol.delete_mode", d.as_f64().unwrap_or(f64::NAN), true)?;
            Some(TombstoneRemoval::Reap { delay })
        }
        Some(other) => return Err(ctx.err("protocol.delete_mode", format!("{other} is not a delete mode; {ACCEPTED}"))),
    };
    let grace = rp.gc_grace_ms.map(|g| ms(ctx, "protocol.gc_grace_ms", g, true)).transpose()?;
    match (mode, grace) {
        (Some(_), Some(_)) => Err(ctx.err(
            "protocol.delete_mode",
            "is Riak's way of removing tombstones and protocol.gc_grace_ms is Cassandra's; set one (the other to null)",
        )),
        (Some(mode), None) => Ok(mode),
        (None, Some(grace)) => Ok(TombstoneRemoval::GcGrace(grace)),
        (None, None) => Ok(TombstoneRemoval::Keep),
    }
}

/// The largest slowdown a slow node or the slow-node fault may have: a machine a thousand
/// times slower is as good as stopped, and larger factors would overflow its busy time.
const MAX_SLOWDOWN: f64 = 1000.0;

/// `storage`: the storage model, and what one disk write and one disk read of an object take
/// (default nothing: the durable default adds no cost, and reads come from memory).
fn storage(ctx: &Ctx, raw: Option<&RawStorage>, n: usize) -> Result<(StorageModel, DiskTimes), ScenarioError> {
    let time = |field: &str, raw: &Option<RawDistribution>| match raw {
        Some(d) => distribution(ctx, &format!("storage.{field}"), d),
        None => Ok(Distribution::ZERO),
    };
    let times = |w: &Option<RawDistribution>, r: &Option<RawDistribution>| -> Result<DiskTimes, ScenarioError> {
        Ok(DiskTimes { write: time("write_time", w)?, read: time("read_time", r)? })
    };
    match raw {
        None => Ok((StorageModel::Durable, DiskTimes::default())),
        Some(RawStorage::Durable { write_time, read_time }) => Ok((StorageModel::Durable, times(write_time, read_time)?)),
        Some(RawStorage::Buffered { flush_interval_ms, durable_writes, write_time, read_time }) => {
            let flush_interval = period(ctx, "storage.flush_interval_ms", flush_interval_ms.unwrap_or(1000.0), false)?;
            let durable_writes = durable_writes.unwrap_or(1);
            if durable_writes > n {
                return Err(ctx.err("storage.durable_writes", format!("{durable_writes} is out of range; expected 0 to N ({n})")));
            }
            Ok((StorageModel::Buffered { flush_interval, durable_writes }, times(write_time, read_time)?))
        }
    }
}

/// `network`: the default link and per-link or per-kind rules.
fn network(ctx: &Ctx, rn: &RawNetwork, cluster: &ClusterSection) -> Result<NetworkConfig, ScenarioError> {
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
            from_node: rule.from_node.map(|n| cluster.node(ctx, &format!("{p}.from_node"), n)).transpose()?,
            to_node: rule.to_node.map(|n| cluster.node(ctx, &format!("{p}.to_node"), n)).transpose()?,
            from_datacenter: rule
                .from_datacenter
                .as_deref()
                .map(|d| cluster.dc_index(ctx, &format!("{p}.from_datacenter"), d))
                .transpose()?,
            to_datacenter: rule
                .to_datacenter
                .as_deref()
                .map(|d| cluster.dc_index(ctx, &format!("{p}.to_datacenter"), d))
                .transpose()?,
            kinds,
            latency: rule.latency.as_ref().map(|d| distribution(ctx, &format!("{p}.latency"), d)).transpose()?,
            loss_probability: rule.loss_probability.map(|x| probability(ctx, &format!("{p}.loss_probability"), x)).transpose()?,
            duplicate_probability: rule
                .duplicate_probability
                .map(|x| probability(ctx, &format!("{p}.duplicate_probability"), x))
                .transpose()?,
        });
    }
    Ok(NetworkConfig { default, rules, fifo_per_link: rn.fifo_per_link })
}

/// `workload`: keys and their popularity, the value model, arrivals and client timeouts.
/// `workload.get_consistency` or `put_consistency`: level names with probabilities summing to 1.
fn level_mix(ctx: &Ctx, path: &str, raw: Option<&BTreeMap<String, f64>>, n: usize) -> Result<LevelMix, ScenarioError> {
    let Some(raw) = raw else { return Ok(LevelMix::default()) };
    let names = || ConsistencyLevel::EVERY.map(|l| l.name()).join(", ");
    if raw.is_empty() {
        return Err(ctx.err(
            path,
            format!("empty; expected levels with probabilities, e.g. {{\"QUORUM\": 0.9, \"ONE\": 0.1}}, from {}", names()),
        ));
    }
    let mut weights = Vec::new();
    for (name, &p) in raw {
        let field = format!("{path}.{name}");
        let Some(level) = ConsistencyLevel::from_name(name) else {
            return Err(ctx.err(&field, format!("unknown consistency level; expected one of {}", names())));
        };
        if !(p.is_finite() && p > 0.0 && p <= 1.0) {
            return Err(ctx.err(&field, format!("{p} is out of range; expected a probability in (0, 1]")));
        }
        if level.fixed_count().is_some_and(|c| c > n) {
            return Err(ctx.err(&field, format!("{name} asks for more replicas than protocol.n = {n}")));
        }
        weights.push((level, p));
    }
    let total: f64 = weights.iter().map(|(_, p)| p).sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(ctx.err(path, format!("the probabilities sum to {total}; expected 1")));
    }
    weights.sort_by_key(|(l, _)| *l);
    Ok(LevelMix::new(&weights))
}

fn workload(ctx: &Ctx, rw: &RawWorkload, clients_placed: bool, n: usize) -> Result<WorkloadConfig, ScenarioError> {
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
        RawValue::Cart { remove_probability, merge } => ValueModel::Cart {
            remove_probability: probability(ctx, "workload.value.remove_probability", remove_probability)?,
            merge: match merge {
                RawCartMerge::Union => CartMerge::Union,
                RawCartMerge::ObservedRemove => CartMerge::ObservedRemove,
            },
        },
    };
    let value_bytes = match &rw.value_bytes {
        None => ValueBytes::DEFAULT,
        Some(RawValueBytes::Constant { bytes }) => {
            if !(bytes.is_finite() && (0.0..=ValueBytes::MAX as f64).contains(bytes)) {
                return Err(ctx.err(
                    "workload.value_bytes.bytes",
                    format!("{bytes} is out of range; expected 0 to {} (1 MiB)", ValueBytes::MAX),
                ));
            }
            ValueBytes::Constant(bytes.round() as u32)
        }
        Some(RawValueBytes::Lognormal { median_bytes, sigma }) => {
            if !(median_bytes.is_finite() && *median_bytes >= 1.0 && *median_bytes <= ValueBytes::MAX as f64) {
                return Err(ctx.err(
                    "workload.value_bytes.median_bytes",
                    format!("{median_bytes} is out of range; expected 1 to {} (1 MiB)", ValueBytes::MAX),
                ));
            }
            if !(sigma.is_finite() && (0.0..=4.0).contains(sigma)) {
                return Err(ctx.err("workload.value_bytes.sigma", format!("{sigma} is out of range; expected 0 to 4")));
            }
            ValueBytes::LogNormal { median: *median_bytes, sigma: *sigma }
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
        Some(RawArrivals::Open { rate_per_s, clients, profile }) => {
            // One arrival per nanosecond is the clock's resolution.
            if !(rate_per_s.is_finite() && *rate_per_s > 0.0 && *rate_per_s <= 1e9) {
                return Err(ctx.err(
                    "workload.arrivals.rate_per_s",
                    format!("{rate_per_s} is out of range; expected a rate > 0 per second, at most 1e9"),
                ));
            }
            if *clients == 0 || *clients > 1_000_000 {
                return Err(ctx.err("workload.arrivals.clients", format!("{clients} is out of range; expected 1 to 1000000")));
            }
            let profile = profile.as_ref().map(|p| rate_profile(ctx, p)).transpose()?;
            if let Some(p) = &profile {
                if rate_per_s * p.max_factor() > 1e9 {
                    return Err(ctx.err(
                        "workload.arrivals.profile",
                        format!("peaks at {} per second; expected at most 1e9", rate_per_s * p.max_factor()),
                    ));
                }
            }
            Arrivals::Open { rate_per_s: *rate_per_s, clients: *clients, profile }
        }
    };
    let read_fraction = probability(ctx, "workload.read_fraction", rw.read_fraction.unwrap_or(0.5))?;
    let delete_fraction = probability(ctx, "workload.delete_fraction", rw.delete_fraction.unwrap_or(0.0))?;
    if read_fraction + delete_fraction > 1.0 + 1e-9 {
        return Err(ctx.err(
            "workload.delete_fraction",
            format!(
                "{delete_fraction} with a read_fraction of {read_fraction} is over 1; expected at most {}",
                1.0 - read_fraction
            ),
        ));
    }
    if delete_fraction > 0.0 && matches!(value_model, ValueModel::Cart { .. }) {
        return Err(ctx.err("workload.delete_fraction", "deletes need the register value model; a cart removes items instead"));
    }
    Ok(WorkloadConfig {
        key_count,
        popularity,
        read_fraction,
        delete_fraction,
        value_model,
        value_bytes,
        arrivals,
        client_timeout: ms(ctx, "workload.client_timeout_ms", rw.client_timeout_ms.unwrap_or(2000.0), false)?,
        avoid_after_timeout: ms(ctx, "workload.avoid_after_timeout_ms", rw.avoid_after_timeout_ms.unwrap_or(1000.0), true)?,
        client_semantics: match rw.client_semantics {
            RawClientSemantics::Session => ClientSemantics::Session,
            RawClientSemantics::ReadModifyWrite => ClientSemantics::ReadModifyWrite,
            RawClientSemantics::Blind => ClientSemantics::Blind,
        },
        key_lock: rw.key_lock,
        get_levels: level_mix(ctx, "workload.get_consistency", rw.get_consistency.as_ref(), n)?,
        put_levels: level_mix(ctx, "workload.put_consistency", rw.put_consistency.as_ref(), n)?,
        local_coordinators: match (rw.local_datacenter_coordinators, clients_placed) {
            (true, false) => {
                return Err(ctx.err(
                    "workload.local_datacenter_coordinators",
                    "needs workload.client_datacenter: the datacenter (or datacenters) whose nodes the clients send to",
                ))
            }
            (local, _) => local,
        },
        client_ring_refresh: ms(ctx, "workload.client_ring_refresh_ms", rw.client_ring_refresh_ms.unwrap_or(10_000.0), true)?,
        client_retries: match rw.client_retries.unwrap_or(0) {
            r @ 0..=10 => r as u8,
            r => return Err(ctx.err("workload.client_retries", format!("{r} is out of range; expected 0 to 10"))),
        },
        session_keys_per_client: match rw.session_keys_per_client.unwrap_or(DEFAULT_SESSION_KEYS_PER_CLIENT) {
            k @ 1..=MAX_SESSION_KEYS_PER_CLIENT => k as usize,
            k => {
                return Err(ctx.err(
                    "workload.session_keys_per_client",
                    format!("{k} is out of range; expected 1 to {MAX_SESSION_KEYS_PER_CLIENT}"),
                ))
            }
        },
    })
}

/// `probe`: write-then-read probes for t-visibility.
fn probe(ctx: &Ctx, raw: Option<&RawProbe>) -> Result<Option<ProbeConfig>, ScenarioError> {
    Ok(match raw {
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
            let versions = p.versions.unwrap_or(1);
            if !(1..=VERSIONS_TRACKED).contains(&versions) {
                return Err(ctx.err("probe.versions", format!("{versions} is out of range; expected 1 to {VERSIONS_TRACKED}")));
            }
            Some(ProbeConfig { clients, delays, gap, versions })
        }
    })
}

/// `workload.arrivals.profile`: a diurnal cycle or steps, as factors of the rate.
fn rate_profile(ctx: &Ctx, raw: &RawRateProfile) -> Result<RateProfile, ScenarioError> {
    let p = "workload.arrivals.profile";
    match raw {
        RawRateProfile::Diurnal { period_ms, amplitude, peak_ms } => {
            let period = ms(ctx, &format!("{p}.period_ms"), *period_ms, false)?;
            if !(0.0..=1.0).contains(amplitude) {
                return Err(ctx.err(&format!("{p}.amplitude"), format!("{amplitude} is out of range; expected 0 to 1")));
            }
            let peak = ms(ctx, &format!("{p}.peak_ms"), *peak_ms, true)?;
            Ok(RateProfile::Diurnal { period_ns: period.as_nanos(), amplitude: *amplitude, peak_ns: peak.as_nanos() })
        }
        RawRateProfile::Steps { steps } => {
            if steps.is_empty() {
                return Err(ctx.err(&format!("{p}.steps"), "empty; expected steps like [{\"from_ms\": 0, \"factor\": 1}]"));
            }
            let mut out: Vec<(u64, f64)> = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let from = ms(ctx, &format!("{p}.steps.{i}.from_ms"), step.from_ms, true)?.as_nanos();
                if out.last().is_some_and(|last| last.0 >= from) {
                    return Err(
                        ctx.err(&format!("{p}.steps.{i}.from_ms"), "not after the step before; expected steps in time order")
                    );
                }
                if !(step.factor.is_finite() && step.factor > 0.0 && step.factor <= 1e6) {
                    return Err(ctx.err(
                        &format!("{p}.steps.{i}.factor"),
                        format!("{} is out of range; expected a factor > 0, at most 1e6", step.factor),
                    ));
                }
                out.push((from, step.factor));
            }
            Ok(RateProfile::Steps(out))
        }
    }
}

/// `checks`: which invariants to evaluate and their bounds.
fn checks(ctx: &Ctx, rc: &RawChecks, quiescent_tail: SimDuration, protocol: &Protocol) -> Result<CheckConfig, ScenarioError> {
    let bound = |path: &str, v: Option<f64>| -> Result<Option<f64>, ScenarioError> {
        match v {
            Some(x) if !(x.is_finite() && x >= 0.0) => Err(ctx.err(path, format!("{x} is out of range; expected a number >= 0"))),
            other => Ok(other),
        }
    };
    let fraction = |field: &str, v: Option<f64>| v.map(|p| probability(ctx, &format!("checks.{field}"), p)).transpose();
    Ok(CheckConfig {
        convergence: rc.convergence.unwrap_or(quiescent_tail > SimDuration::ZERO),
        convergence_within: rc.convergence_within_ms.map(|v| ms(ctx, "checks.convergence_within_ms", v, true)).transpose()?,
        lost_writes_fail: match rc.lost_writes {
            Some(choice) => choice == RawLostWrites::Fail,
            // Last-write-wins and per-version vector clocks drop writes by design (Dynamo §4.4's
            // anomalies): count and report them unless told to fail.
            None => !matches!(protocol.conflict, ConflictPolicy::LastWriteWins | ConflictPolicy::VectorClocks),
        },
        unflushed_losses_fail: rc.lost_writes == Some(RawLostWrites::Fail),
        faults_fired: rc.faults_fired.unwrap_or(true),
        max_get_p999_ms: bound("checks.max_get_p999_ms", rc.max_get_p999_ms)?,
        max_put_p999_ms: bound("checks.max_put_p999_ms", rc.max_put_p999_ms)?,
        max_stale_read_fraction: fraction("max_stale_read_fraction", rc.max_stale_read_fraction)?,
        max_read_your_writes_violation_fraction: fraction(
            "max_read_your_writes_violation_fraction",
            rc.max_read_your_writes_violation_fraction,
        )?,
        max_monotonic_reads_violation_fraction: fraction(
            "max_monotonic_reads_violation_fraction",
            rc.max_monotonic_reads_violation_fraction,
        )?,
        max_monotonic_writes_violation_fraction: fraction(
            "max_monotonic_writes_violation_fraction",
            rc.max_monotonic_writes_violation_fraction,
        )?,
        max_writes_follow_reads_violation_fraction: fraction(
            "max_writes_follow_reads_violation_fraction",
            rc.max_writes_follow_reads_violation_fraction,
        )?,
        min_availability: fraction("min_availability", rc.min_availability)?,
        max_multi_version_read_fraction: fraction("max_multi_version_read_fraction", rc.max_multi_version_read_fraction)?,
        max_stall_ms: bound("checks.max_stall_ms", rc.max_stall_ms)?,
        min_window_availability: fraction("min_window_availability", rc.min_window_availability)?,
        min_throughput_fraction: fraction("min_throughput_fraction", rc.min_throughput_fraction)?,
        // A delete undone is an acknowledged write lost: failing by default where lost writes do,
        // unless the scenario is there to show it (it sets a minimum).
        max_resurrected_keys: rc.max_resurrected_keys.or(match rc.lost_writes {
            _ if rc.min_resurrected_keys.is_some() => None,
            Some(choice) => (choice == RawLostWrites::Fail).then_some(0),
            None => (!matches!(protocol.conflict, ConflictPolicy::LastWriteWins | ConflictPolicy::VectorClocks)).then_some(0),
        }),
        min_resurrected_keys: rc.min_resurrected_keys,
    })
}

/// `nemesis`: the menu random faults are drawn from.
fn nemesis(
    ctx: &Ctx,
    raw: Option<&RawNemesis>,
    duration: SimDuration,
    quiescent_tail: SimDuration,
) -> Result<Option<NemesisConfig>, ScenarioError> {
    Ok(match raw {
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
            let expected_faults = n.rate_per_s * (stop.as_millis_f64() - start.as_millis_f64()) / 1000.0;
            if expected_faults > MAX_NEMESIS_FAULTS {
                return Err(ctx.err(
                    "nemesis.rate_per_s",
                    format!(
                        "{} faults per second from {} to {} ms is about {expected_faults:.3e} faults; expected at most \
                         {MAX_NEMESIS_FAULTS:e} in a run (lower the rate or shorten start_ms..stop_ms)",
                        n.rate_per_s,
                        start.as_millis_f64(),
                        stop.as_millis_f64()
                    ),
                ));
            }
            let slow_factor = n.slow_factor.unwrap_or(10.0);
            if !(1.0..=MAX_SLOWDOWN).contains(&slow_factor) {
                return Err(
                    ctx.err("nemesis.slow_factor", format!("{slow_factor} is out of range; expected a factor from 1 to 1000"))
                );
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
        let at_ms = f.at_ms();
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
                let typed = partition_groups(ctx, &p, groups, &node_ref)?;
                Fault::Partition {
                    id: partition_name(ctx, &p, name, &mut names)?,
                    name: name.clone(),
                    groups: typed,
                    one_way: *one_way,
                }
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
                if !(1.0..=MAX_SLOWDOWN).contains(factor) {
                    return Err(ctx.err(
                        &format!("{p}.factor"),
                        format!("{factor} is out of range; expected a slowdown factor from 1 to 1000"),
                    ));
                }
                Fault::Slow { node: node_ref(&format!("{p}.node"), *node)?, factor: *factor }
            }
            RawFault::LossBurst { duration_ms, loss_probability, .. } => {
                let d = ms(ctx, &format!("{p}.duration_ms"), *duration_ms, false)?;
                let probability = probability(ctx, &format!("{p}.loss_probability"), *loss_probability)?;
                let id = 1 + out.len() as u32;
                out.push(ScheduledFault { at, fault: Fault::LossBurst { id, probability }, generated: false });
                let end = SimDuration(at.as_nanos().saturating_add(d.as_nanos()));
                out.push(ScheduledFault { at: end, fault: Fault::LossBurstEnd { id }, generated: false });
                continue;
            }
            RawFault::RollingRestart { nodes, down_ms, gap_ms, .. } => {
                let roll = RollingRestart { path: &p, nodes, down_ms: *down_ms, gap_ms: *gap_ms, at, end_ns };
                out.extend(rolling_restart(ctx, &roll, &node_ref, &joined_by, &never_joined)?);
                continue;
            }
            RawFault::ClockSkew { node, offset_ms, .. } => Fault::ClockSkew {
                node: node_ref(&format!("{p}.node"), *node)?,
                skew_ns: skew_ns(ctx, &format!("{p}.offset_ms"), *offset_ms)?,
            },
            RawFault::Repair { node, .. } => Fault::Repair { node: node.map(|n| node_ref(&format!("{p}.node"), n)).transpose()? },
            RawFault::Heal { name, .. } => Fault::Heal { id: healed_partition(ctx, &p, name, &names)?, name: name.clone() },
        };
        out.push(ScheduledFault { at, fault, generated: false });
    }
    out.sort_by_key(|f| f.at);
    ring_never_empties(ctx, raw, initial)?;
    Ok(out)
}

/// Joins and leaves in time order must leave at least one node in the ring: clients need a
/// node to send to, and a ring with no member has no preference list.
fn ring_never_empties(ctx: &Ctx, raw: &[RawFault], initial: &[NodeId]) -> Result<(), ScenarioError> {
    let mut changes: Vec<(f64, usize)> = raw
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, RawFault::Join { .. } | RawFault::Leave { .. }))
        .map(|(i, f)| (f.at_ms(), i))
        .collect();
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut members: Vec<u32> = initial.iter().map(|n| n.0).collect();
    for (at_ms, i) in changes {
        match &raw[i] {
            RawFault::Join { node, .. } if !members.contains(node) => members.push(*node),
            RawFault::Leave { node, .. } => {
                members.retain(|m| m != node);
                if members.is_empty() {
                    return Err(ctx.err(
                        &format!("faults.{i}.node"),
                        format!("node {node} leaves at {at_ms} ms and no node is left in the ring; expected at least one member to remain"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A partition's name, unique among the partitions so far (a heal lifts the partition it
/// names); returns the partition's id, its number counted from one.
fn partition_name(ctx: &Ctx, p: &str, name: &str, names: &mut Vec<String>) -> Result<u32, ScenarioError> {
    if let Some(first) = names.iter().position(|n| n == name) {
        return Err(ctx.err(
            &format!("{p}.name"),
            format!(
                "partition name \"{name}\" is already used by an earlier partition (partition #{}); expected a unique \
                 name, since a heal lifts the partition it names",
                first + 1
            ),
        ));
    }
    names.push(name.to_string());
    Ok(names.len() as u32)
}

/// The id of the earlier partition a heal names.
fn healed_partition(ctx: &Ctx, p: &str, name: &str, names: &[String]) -> Result<u32, ScenarioError> {
    match names.iter().position(|n| n == name) {
        Some(i) => Ok(i as u32 + 1),
        None => {
            let mut m = format!("no partition named \"{name}\" comes before this heal");
            if let Some(s) = suggest(name, names.iter().map(String::as_str)) {
                m.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            Err(ctx.err(&format!("{p}.name"), m))
        }
    }
}

/// A partition's groups (at least two): existing nodes, each in one group only.
fn partition_groups(
    ctx: &Ctx,
    p: &str,
    groups: &[Vec<u32>],
    node_ref: &dyn Fn(&str, u32) -> Result<NodeId, ScenarioError>,
) -> Result<Vec<Vec<NodeId>>, ScenarioError> {
    if groups.len() < 2 {
        return Err(ctx.err(&format!("{p}.groups"), "expected at least two groups of node ids, e.g. [[0, 1], [2, 3]]"));
    }
    let mut seen: Vec<u32> = Vec::new();
    let mut typed = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let mut nodes = Vec::new();
        for (j, n) in group.iter().enumerate() {
            let id = node_ref(&format!("{p}.groups.{g}.{j}"), *n)?;
            if seen.contains(n) {
                return Err(
                    ctx.err(&format!("{p}.groups.{g}.{j}"), format!("node {n} is in two groups; expected disjoint groups"))
                );
            }
            seen.push(*n);
            nodes.push(id);
        }
        typed.push(nodes);
    }
    Ok(typed)
}

/// A `rolling_restart` fault as the file gives it, at its validated start time.
struct RollingRestart<'a> {
    path: &'a str,
    nodes: &'a [u32],
    down_ms: f64,
    gap_ms: f64,
    at: SimDuration,
    end_ns: u64,
}

/// Expands a rolling restart into a crash and a restart per node, one after another.
fn rolling_restart(
    ctx: &Ctx,
    roll: &RollingRestart,
    node_ref: &dyn Fn(&str, u32) -> Result<NodeId, ScenarioError>,
    joined_by: &dyn Fn(u32, f64) -> bool,
    never_joined: &dyn Fn(String, u32, f64) -> ScenarioError,
) -> Result<Vec<ScheduledFault>, ScenarioError> {
    let (p, end_ns) = (roll.path, roll.end_ns);
    let down = ms(ctx, &format!("{p}.down_ms"), roll.down_ms, false)?;
    let gap = ms(ctx, &format!("{p}.gap_ms"), roll.gap_ms, true)?;
    if roll.nodes.is_empty() {
        return Err(ctx.err(&format!("{p}.nodes"), "empty; expected the node ids to restart in order"));
    }
    let mut out = Vec::new();
    let mut t = roll.at;
    for (j, n) in roll.nodes.iter().enumerate() {
        let node = node_ref(&format!("{p}.nodes.{j}"), *n)?;
        let back = t.as_nanos().saturating_add(down.as_nanos());
        if !joined_by(*n, back as f64 / 1e6) {
            return Err(never_joined(format!("{p}.nodes.{j}"), *n, back as f64 / 1e6));
        }
        if back > end_ns {
            return Err(ctx.err(
                &format!("{p}.nodes.{j}"),
                "this restart would end after the run; expected the whole roll to fit in duration_ms + quiescent_tail_ms",
            ));
        }
        out.push(ScheduledFault { at: t, fault: Fault::Crash { node, lose_disk: false }, generated: false });
        out.push(ScheduledFault { at: SimDuration(back), fault: Fault::Restart(node), generated: false });
        t = SimDuration(back.saturating_add(gap.as_nanos()));
    }
    Ok(out)
}
