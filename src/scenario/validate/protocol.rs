//! `protocol`, `membership` and `storage`: quorums, conflict handling, repair, coordination and the disk.

use super::*;

/// `protocol` (N, R, W, coordination, repair switches and periods) and `membership`.
pub(super) fn protocol(
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
    let riak = riak_quorums(ctx, rp, n)?;
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
        clock_pruning: clock_pruning(ctx, rp)?,
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
        admission: rp.admission_control.as_ref().map(|a| admission_control(ctx, a)).transpose()?,
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
        injected_bug: None,
    })
}

/// Riak's PR, PW, DW, notfound_ok and basic_quorum.
fn riak_quorums(ctx: &Ctx, rp: &RawProtocol, n: usize) -> Result<RiakQuorums, ScenarioError> {
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
    Ok(riak)
}

/// Clock truncation (Dynamo's threshold) and Riak's pruning bounds.
fn clock_pruning(ctx: &Ctx, rp: &RawProtocol) -> Result<ClockPruning, ScenarioError> {
    let threshold = rp.clock_truncation_threshold.unwrap_or(10);
    if threshold == 0 {
        return Err(ctx.err("protocol.clock_truncation_threshold", "0 is out of range; expected at least 1 clock entry"));
    }
    Ok(ClockPruning {
        small: match rp.clock_prune_small.unwrap_or(threshold) {
            s if s <= threshold => s,
            s => {
                return Err(ctx.err(
                    "protocol.clock_prune_small",
                    format!("{s} is out of range; expected at most clock_truncation_threshold ({threshold}), Riak's big_vclock"),
                ))
            }
        },
        big: threshold,
        young: ms(ctx, "protocol.clock_prune_young_ms", rp.clock_prune_young_ms.unwrap_or(0.0), true)?,
        old: rp.clock_prune_old_ms.map(|o| ms(ctx, "protocol.clock_prune_old_ms", o, true)).transpose()?,
        background: rp.clock_prune_interval_ms.map(|i| period(ctx, "protocol.clock_prune_interval_ms", i, false)).transpose()?,
    })
}

/// `protocol.admission_control`: Dynamo's feedback controller for background work.
fn admission_control(ctx: &Ctx, a: &RawAdmission) -> Result<crate::node::admission::AdmissionConfig, ScenarioError> {
    let percentile = a.percentile.unwrap_or(0.99);
    if !(percentile > 0.0 && percentile <= 1.0) {
        return Err(ctx.err(
            "protocol.admission_control.percentile",
            format!("{percentile} is out of range; expected a fraction above 0, at most 1"),
        ));
    }
    let window = a.window.unwrap_or(200);
    if !(4..=100_000).contains(&window) {
        return Err(
            ctx.err("protocol.admission_control.window", format!("{window} is out of range; expected 4 to 100000 requests"))
        );
    }
    Ok(crate::node::admission::AdmissionConfig {
        percentile,
        target: ms(ctx, "protocol.admission_control.target_ms", a.target_ms, false)?,
        window,
        backoff: ms(ctx, "protocol.admission_control.backoff_ms", a.backoff_ms.unwrap_or(10.0), false)?,
    })
}

/// `protocol.speculative_retry`, as Cassandra spells it: "99percentile" (or "99p"), "50ms", or
/// "none".
pub(super) fn speculative_retry(ctx: &Ctx, raw: Option<&str>) -> Result<Option<SpeculativeRetry>, ScenarioError> {
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
pub(super) fn tombstone_removal(ctx: &Ctx, rp: &RawProtocol) -> Result<TombstoneRemoval, ScenarioError> {
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

/// `storage`: the storage model, and what one disk write and one disk read of an object take
/// (default nothing: the durable default adds no cost, and reads come from memory).
pub(super) fn storage(ctx: &Ctx, raw: Option<&RawStorage>, n: usize) -> Result<(StorageModel, DiskTimes), ScenarioError> {
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
