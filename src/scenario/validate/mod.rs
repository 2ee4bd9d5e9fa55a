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

mod checks;
mod cluster;
mod faults;
mod network;
mod protocol;
mod workload;

// The sections share this module's imports and value helpers (`use super::*`).
use checks::checks;
use cluster::{cluster, ring, ClusterSection};
use faults::{faults, nemesis, schedule};
use network::network;
use protocol::{protocol, storage};
use workload::{probe, workload};

/// The longest time a scenario may name: 10^12 ms, about 31 years. Simulated time is whole
/// nanoseconds in 64 bits (about 584 years), so sums of a few such times still fit.
pub const MAX_MS: f64 = 1e12;

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
    let schedule = schedule(ctx, raw.schedule.as_ref(), nemesis.as_ref())?;

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
        schedule,
        source,
    };
    super::cost::check(ctx, &scenario, super::cost::memory_limit())?;
    Ok(scenario)
}

/// The largest slowdown a slow node or the slow-node fault may have: a machine a thousand
/// times slower is as good as stopped, and larger factors would overflow its busy time.
const MAX_SLOWDOWN: f64 = 1000.0;
