//! `checks`: the invariants a run is held to, and what each may tolerate.

use super::*;

/// `checks`: which invariants to evaluate and their bounds.
pub(super) fn checks(
    ctx: &Ctx,
    rc: &RawChecks,
    quiescent_tail: SimDuration,
    protocol: &Protocol,
) -> Result<CheckConfig, ScenarioError> {
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
