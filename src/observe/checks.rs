//! Invariant checks, evaluated on a finished run (`dynasim check`).
//!
//! Each invariant is a function from the scenario and the run's results to violations:
//! - convergence: at the end, every key's top-N replicas hold identical version sets and no hint
//!   is queued; optionally within a bound after the later of the last fault and the end of client
//!   traffic. Not checked: agreement while traffic runs (replicas legitimately lag then).
//! - lost writes: no acknowledged write goes unreflected by every version any node holds, judged
//!   by the history oracle's exact causality. Under last-write-wins a scenario may declare them
//!   reported rather than failing.
//! - bounds: declared limits on p99.9 latency, stale-read fraction, availability, reads with
//!   siblings and keys whose acknowledged delete was undone (resurrected; none by default where
//!   lost writes fail); and on stalls: the longest stretch without a successful get or put, the least
//!   available window, and each window's successes after the first fault against the median
//!   window before it (a throughput floor: closed-loop clients waiting out timeouts fail few
//!   operations but complete none).
//! - oracle exact: no write the history oracle pruned turned up again (always checked: one that
//!   did means its census of held writes missed a holder, and its judgements may be wrong).
//! - faults fired: every declared fault took effect, and every partition dropped some message, so
//!   that no green run exercised nothing.
//! - strict quorum: where R + W > N and nothing fails (no fault, no nemesis, no slow node, every
//!   request at the scenario's R and W), every read meets every acknowledged write, so no read
//!   may be stale. Claimed only under dotted version vectors: last-write-wins may order a later
//!   write first, and Dynamo's per-version clocks may drop an acknowledged write by design.
//!
//! A violation carries the invariant, key, simulated time and a one-line replay command.

use crate::observe::RunResult;
use crate::scenario::{Fault, Scenario};
use serde_json::Value;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub invariant: &'static str,
    pub key: Option<String>,
    pub at_ms: f64,
    pub message: String,
}

/// A violation with what is needed to replay it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub scenario: String,
    pub seed: u64,
    pub replay: String,
    pub violation: Violation,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.violation;
        write!(f, "{}: {} seed {}", v.invariant, self.scenario, self.seed)?;
        if let Some(k) = &v.key {
            write!(f, ": key {k}")?;
        }
        write!(f, " at {:.3} ms: {}\n  replay: {}", v.at_ms, v.message, self.replay)
    }
}

/// Evaluates every invariant the scenario declares.
pub fn evaluate(s: &Scenario, r: &RunResult, report: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let end_ms = r.simulated_end.as_millis_f64();
    if s.checks.convergence {
        convergence(s, r, end_ms, &mut out);
    }
    lost_writes(s, r, &mut out);
    bounds(s, report, end_ms, &mut out);
    if let Some(fraction) = s.checks.min_throughput_fraction {
        throughput_floor(s, r, fraction, &mut out);
    }
    if strict_quorum_without_faults(s) {
        strict_quorum(report, end_ms, &mut out);
    }
    if s.checks.faults_fired {
        faults_fired(r, &mut out);
    }
    oracle_exact(r, end_ms, &mut out);
    out
}

/// Which mechanism a violation comes from, for telling one failure from another of the same
/// invariant: a run that ends with replicas missing versions is not the same failure as one that
/// ends with hints still queued because its tail was too short to deliver them.
pub fn signature(v: &Violation, r: &RunResult) -> &'static str {
    let c = &r.convergence;
    match v.invariant {
        "convergence" if c.converged() => "slow convergence",
        "convergence" if c.membership_disagreements > 0 => "ring disagreement",
        "convergence" if c.divergent_keys > 0 && !r.down_at_end.is_empty() => "a replica down at the end",
        "convergence" if c.divergent_keys > 0 => "replicas missing versions",
        "convergence" => "hints still queued",
        other => other,
    }
}

fn convergence(s: &Scenario, r: &RunResult, end_ms: f64, out: &mut Vec<Violation>) {
    let c = &r.convergence;
    if !c.converged() {
        let key = c.pending.first().and_then(|p| p.split(' ').next()).filter(|k| !k.chars().all(|ch| ch.is_ascii_digit()));
        out.push(Violation {
            invariant: "convergence",
            key: if c.divergent_keys > 0 { key.map(String::from) } else { None },
            at_ms: end_ms,
            message: format!(
                "{} keys differ, {} hints queued: {}{}",
                c.divergent_keys,
                c.pending_hints,
                c.pending.join("; "),
                repair_outlook(s, r)
            ),
        });
        return;
    }
    let Some(bound) = s.checks.convergence_within else { return };
    let reference = r.last_fault.map_or(s.duration, |f| f.since(crate::sim::engine::SimTime::ZERO)).max(s.duration);
    let reference = crate::sim::engine::SimTime::ZERO.after(reference);
    let converged_at =
        r.samples.iter().find(|(t, snap)| *t >= reference && snap.converged()).map_or(r.simulated_end, |(t, _)| *t);
    let took = converged_at.since(reference);
    if took > bound {
        out.push(Violation {
            invariant: "convergence",
            key: None,
            at_ms: converged_at.as_millis_f64(),
            message: format!(
                "replicas agreed {:.0} ms after traffic and faults ended; bound {:.0} ms",
                took.as_millis_f64(),
                bound.as_millis_f64()
            ),
        });
    }
}

/// Why divergent keys may still be divergent: what could still repair them and how fast.
fn repair_outlook(s: &Scenario, r: &RunResult) -> String {
    if r.convergence.divergent_keys == 0 {
        return String::new();
    }
    let p = &s.protocol;
    let last_fault = r.last_fault.map_or("no fault".to_string(), |t| format!("last fault at {:.0} ms", t.as_millis_f64()));
    if !p.anti_entropy {
        return format!(
            "; anti-entropy is off, so a replica that missed a write and has no hint queued for it is mended only by \
             read repair ({last_fault}, run ended at {:.0} ms)",
            r.simulated_end.as_millis_f64()
        );
    }
    let nodes = r.keys_owned.len().max(1);
    let per_node = (r.ring_ranges * p.n).div_ceil(nodes);
    let interval = p.anti_entropy_interval.as_millis_f64();
    let skipped: u64 = r.node_stats.iter().map(|n| n.ae_skipped_ring_mismatch).sum();
    format!(
        "; anti-entropy compares one range per node every {interval:.0} ms and each node replicates about {per_node} \
         of the {} ranges, so a range waits up to about {:.0} ms between comparisons ({last_fault}, run ended at \
         {:.0} ms; {skipped} anti-entropy messages dropped because the peers' rings differed)",
        r.ring_ranges,
        per_node as f64 * interval,
        r.simulated_end.as_millis_f64()
    )
}

fn oracle_exact(r: &RunResult, end_ms: f64, out: &mut Vec<Violation>) {
    let misses = r.history.prune.census_misses;
    if misses > 0 {
        out.push(Violation {
            invariant: "oracle_exact",
            key: None,
            at_ms: end_ms,
            message: format!(
                "{misses} writes the history oracle had pruned as held nowhere turned up again: a bug in dynasim's census \
                 of held writes (run with --set observe.history_prune_writes=0 for exact judgements)"
            ),
        });
    }
}

fn lost_writes(s: &Scenario, r: &RunResult, out: &mut Vec<Violation>) {
    if !s.checks.lost_writes_fail {
        return;
    }
    // A write a crash took from an unflushed buffer is the risk the buffered storage model
    // takes by design; it fails the check only when the scenario says `"lost_writes": "fail"`.
    let lost = &r.lost_writes;
    let (counted, first) = if s.checks.unflushed_losses_fail {
        (lost.count, lost.first.first())
    } else {
        (lost.count - lost.unflushed_count, lost.first_protocol_loss.as_ref())
    };
    let Some(first) = first else { return };
    let excused = lost.count - counted;
    out.push(Violation {
        invariant: "no_lost_writes",
        key: Some(first.key.to_string()),
        at_ms: first.acked_at.as_millis_f64(),
        message: format!(
            "{} acknowledged writes are reflected by no version any node holds{}; first: write w{} acknowledged at {:.3} ms",
            counted,
            if excused > 0 { format!(" (besides {excused} lost with an unflushed buffer)") } else { String::new() },
            first.write.0,
            first.acked_at.as_millis_f64()
        ),
    });
}

fn bounds(s: &Scenario, report: &Value, end_ms: f64, out: &mut Vec<Violation>) {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let c = &s.checks;
    let mut check = |name: &'static str, limit: Option<f64>, actual: f64, upper: bool| {
        if let Some(limit) = limit {
            let broken = if upper { actual > limit } else { actual < limit };
            if broken {
                let rel = if upper { "above the maximum" } else { "below the minimum" };
                out.push(Violation {
                    invariant: name,
                    key: None,
                    at_ms: end_ms,
                    message: format!("{actual:.6} is {rel} {limit}"),
                });
            }
        }
    };
    let ops = &report["operations"];
    check("max_get_p999_ms", c.max_get_p999_ms, f(&ops["get"]["latency_ms"]["p999"]), true);
    check("max_put_p999_ms", c.max_put_p999_ms, f(&ops["put"]["latency_ms"]["p999"]), true);
    check("max_stale_read_fraction", c.max_stale_read_fraction, f(&report["staleness"]["stale_read_fraction"]), true);
    for (name, limit, guarantee) in [
        ("max_read_your_writes_violation_fraction", c.max_read_your_writes_violation_fraction, "read_your_writes"),
        ("max_monotonic_reads_violation_fraction", c.max_monotonic_reads_violation_fraction, "monotonic_reads"),
        ("max_monotonic_writes_violation_fraction", c.max_monotonic_writes_violation_fraction, "monotonic_writes"),
        ("max_writes_follow_reads_violation_fraction", c.max_writes_follow_reads_violation_fraction, "writes_follow_reads"),
    ] {
        check(name, limit, f(&report["sessions"][guarantee]["violation_fraction"]), true);
    }
    let total = f(&ops["get"]["count"]) + f(&ops["put"]["count"]);
    let ok = f(&ops["get"]["success_count"]) + f(&ops["put"]["success_count"]);
    let availability = if total == 0.0 { 1.0 } else { ok / total };
    check("min_availability", c.min_availability, availability, false);
    check(
        "max_multi_version_read_fraction",
        c.max_multi_version_read_fraction,
        f(&report["conflicts"]["reads_with_siblings_fraction"]),
        true,
    );
    let stall = f(&ops["get"]["longest_stall_ms"]).max(f(&ops["put"]["longest_stall_ms"]));
    check("max_stall_ms", c.max_stall_ms, stall, true);
    let a = &report["availability"];
    check("min_window_availability", c.min_window_availability, a["min_window_fraction"].as_f64().unwrap_or(1.0), false);
    let resurrected = f(&report["convergence"]["resurrected_key_count"]);
    check("max_resurrected_keys", c.max_resurrected_keys.map(|m| m as f64), resurrected, true);
    check("min_resurrected_keys", c.min_resurrected_keys.map(|m| m as f64), resurrected, false);
}

/// The throughput floor: every window after the first fault that took effect must complete at
/// least `fraction` of the median window before it.
fn throughput_floor(s: &Scenario, r: &RunResult, fraction: f64, out: &mut Vec<Violation>) {
    let Some(first_fault_ns) =
        r.metrics.faults.iter().find(|f| f.took_effect).map(|f| crate::sim::engine::millis_to_nanos(f.at_ms))
    else {
        return;
    };
    let window = crate::report::window_ns(r.simulated_end.as_nanos());
    let windows = crate::report::windows(&r.metrics, window, s.duration.as_nanos());
    let mut before: Vec<u64> = windows.iter().filter(|w| w.start_ns + window <= first_fault_ns).map(|w| w.succeeded).collect();
    if before.is_empty() {
        return;
    }
    before.sort_unstable();
    let median = before[before.len() / 2];
    let floor = fraction * median as f64;
    let low: Vec<&crate::report::Window> =
        windows.iter().filter(|w| w.start_ns >= first_fault_ns && (w.succeeded as f64) < floor).collect();
    if let Some(first) = low.first() {
        out.push(Violation {
            invariant: "min_throughput_fraction",
            key: None,
            at_ms: first.start_ns as f64 / 1e6,
            message: format!(
                "{} of the {:.0} ms windows after the first fault (at {:.3} ms) completed fewer than {fraction} of the \
                 {median} operations of the median window before it; the first, from {:.3} ms, completed {}",
                low.len(),
                window as f64 / 1e6,
                first_fault_ns as f64 / 1e6,
                first.start_ns as f64 / 1e6,
                first.succeeded
            ),
        });
    }
}

/// Whether the scenario promises that no read is stale: R + W > N, versions ordered by exact
/// causality, and nothing that could make a coordinator settle for other replicas.
pub fn strict_quorum_without_faults(s: &Scenario) -> bool {
    let p = &s.protocol;
    p.r + p.w > p.n
        && p.conflict == crate::node::ConflictPolicy::DottedVersionVectors
        && s.faults.is_empty()
        && s.nemesis.is_none()
        && s.slow_nodes.is_empty()
        && s.workload.get_levels.is_empty()
        && s.workload.put_levels.is_empty()
}

fn strict_quorum(report: &Value, end_ms: f64, out: &mut Vec<Violation>) {
    let stale = report["staleness"]["stale_read_count"].as_u64().unwrap_or(0);
    if stale > 0 {
        out.push(Violation {
            invariant: "strict_quorum",
            key: None,
            at_ms: end_ms,
            message: format!(
                "{stale} stale reads with R + W > N and no fault: every read quorum meets every write quorum, so each \
                 read must reflect every write acknowledged before it was sent"
            ),
        });
    }
}

fn faults_fired(r: &RunResult, out: &mut Vec<Violation>) {
    for (applied, scheduled) in r.metrics.faults.iter().zip(&r.faults) {
        if !applied.took_effect && !scheduled.generated {
            out.push(Violation {
                invariant: "faults_fired",
                key: None,
                at_ms: applied.at_ms,
                message: format!(
                    "'{}' changed nothing (the node was already in that state, or nothing to heal)",
                    applied.description
                ),
            });
        }
    }
    for f in r.faults.iter().filter(|f| !f.generated) {
        if let Fault::Partition { id, name, .. } = &f.fault {
            if r.metrics.drops_by_partition.get(id).copied().unwrap_or(0) == 0 {
                out.push(Violation {
                    invariant: "faults_fired",
                    key: None,
                    at_ms: f.at.as_millis_f64(),
                    message: format!("partition {name} cut no traffic"),
                });
            }
        }
    }
}
