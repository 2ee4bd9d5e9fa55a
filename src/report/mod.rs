//! Reports: pure functions from a run's results to bytes, plus an atomic folder writer.
//!
//! `report.json` holds only simulated results, so the same scenario and seed give the same
//! bytes; wall-clock figures go to `timing.json`. Field names carry their units (`_ms`,
//! `_count`, `_fraction`); docs/reports.md documents each one. Latency percentiles are nearest rank
//! over every successful operation's latency, exact until a log outgrows its budget (see
//! [`crate::observe::latency`]); `latency_precision` says which are.

pub mod charts;
pub mod folder;
use crate::cluster::network::MessageKind;
use crate::node::storage::StorageModel;
use crate::observe::latency::Distribution;
use crate::observe::metrics::OpStats;
use crate::observe::RunResult;
use crate::scenario::workload::LevelMix;
use crate::scenario::Scenario;
pub use folder::{
    check_file_writable, check_folder_writable, persist, temporary_file_beside, write_file, write_folder, FolderKind,
};
use serde_json::{json, Map, Value};

fn ms(ns: u64) -> f64 {
    // Rounded to the nanosecond in milliseconds, so the JSON stays short and exact.
    (ns as f64 / 1e6 * 1e6).round() / 1e6
}

fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Mean and percentiles of latencies, and whether they are exact (see
/// [`crate::observe::latency`]).
fn latency_summary(d: &Distribution) -> Value {
    json!({
        "mean": ms(d.mean()),
        "p50": ms(d.quantile(0.50)),
        "p90": ms(d.quantile(0.90)),
        "p99": ms(d.quantile(0.99)),
        "p999": ms(d.quantile(0.999)),
        "max": ms(d.max()),
        "exact": d.is_exact(),
    })
}

/// `succeeded`: the successful operations' latencies (shared with [`latency_cdf`]). Latency is
/// reported twice: of the successful operations, and of all of them with a failed one counted
/// at the moment its client gave up (or was told it failed), so a configuration that fails most
/// requests quickly cannot show a healthy tail.
fn op_report(stats: &OpStats, succeeded: &Distribution, traffic_end_ns: u64) -> Value {
    let n = succeeded.len();
    let all = Distribution::merged(&stats.failures_log.distribution(), succeeded);
    let (stall, stall_from) = stats.latencies.longest_stall(traffic_end_ns);
    json!({
        "count": n + stats.failures(),
        "success_count": n,
        "failure_count": stats.failures(),
        "coordinator_timeout_count": stats.coordinator_timeouts,
        "client_timeout_count": stats.client_timeouts,
        "unavailable_count": stats.unavailable,
        "latency_ms": latency_summary(succeeded),
        "latency_all_ms": latency_summary(&all),
        "longest_stall_ms": ms(stall),
        "longest_stall_from_ms": ms(stall_from),
    })
}

fn distribution_report(counts: &[u64; 5]) -> Value {
    let total: u64 = counts[1..].iter().sum();
    json!({
        "absent_count": counts[0],
        "1_count": counts[1],
        "2_count": counts[2],
        "3_count": counts[3],
        "4_or_more_count": counts[4],
        "1_fraction": fraction(counts[1], total),
        "2_fraction": fraction(counts[2], total),
        "3_fraction": fraction(counts[3], total),
        "4_or_more_fraction": fraction(counts[4], total),
    })
}

fn max_over_mean(values: &[u64]) -> f64 {
    let max = values.iter().copied().max().unwrap_or(0);
    let sum: u64 = values.iter().sum();
    if sum == 0 {
        0.0
    } else {
        max as f64 * values.len() as f64 / sum as f64
    }
}

/// Which latency figures are exact: every one, until a log outgrows
/// `observe.exact_latency_samples`; then that log's percentiles come from an HdrHistogram
/// (counts, means, maxima, stalls and time in flight stay exact).
fn latency_precision(m: &crate::observe::metrics::Metrics) -> Value {
    use crate::observe::latency::{SIGNIFICANT_DIGITS, WINDOW_SIGNIFICANT_DIGITS};
    let mut summarised = Vec::new();
    for (name, stats) in [("get", &m.gets), ("put", &m.puts)] {
        if !stats.latencies.is_exact() {
            summarised.push(name.to_string());
        }
        if !stats.failures_log.is_exact() {
            summarised.push(format!("{name}_failures"));
        }
    }
    let levels =
        m.levels.iter().any(|l| [&l.gets, &l.puts].iter().any(|s| !s.latencies.is_exact() || !s.failures_log.is_exact()));
    json!({
        "exact": summarised.is_empty() && !levels,
        "exact_samples_per_log": m.latency_frame.exact_samples,
        "summarised_logs": summarised,
        "summarised_consistency_levels": levels,
        "percentile_relative_error": 10f64.powi(-(SIGNIFICANT_DIGITS as i32)),
        "window_percentile_relative_error": 10f64.powi(-(WINDOW_SIGNIFICANT_DIGITS as i32)),
    })
}

/// Latency at 100 evenly spaced quantiles (and the maximum), for CDF charts.
fn latency_cdf(d: &Distribution) -> Value {
    if d.is_empty() {
        return json!([]);
    }
    Value::Array((1..=100).map(|i| json!([i as f64 / 100.0, ms(d.quantile(i as f64 / 100.0))])).collect())
}

/// Latency percentiles, successes and failures per time bucket (about 60 buckets over the run).
/// Every bucket is listed, so a stretch in which nothing succeeded shows as one: its
/// percentiles are null. `in_flight_mean`: the time operations of this kind spent in flight
/// in the bucket (from their start to their success or failure), over its length; a stall
/// shows as operations in flight while none completes.
fn latency_over_time(stats: &OpStats, end_ns: u64) -> Value {
    let bucket = window_ns(end_ns);
    let buckets = (end_ns / bucket + 1) as usize;
    let succeeded = stats.latencies.windows(bucket, buckets);
    let failed = stats.failures_log.windows(bucket, buckets);
    let last = succeeded.iter().zip(&failed).rposition(|(s, f)| s.count > 0 || f.count > 0).map_or(0, |i| i + 1);
    let percentile_ms = |d: &Distribution, p: f64| if d.is_empty() { Value::Null } else { json!(ms(d.quantile(p))) };
    Value::Array(
        succeeded
            .iter()
            .zip(&failed)
            .take(last)
            .enumerate()
            .map(|(i, (s, f))| {
                let busy = s.busy_ns + f.busy_ns;
                let in_flight = (busy as f64 / bucket as f64 * 1000.0).round() / 1000.0;
                json!({ "t_ms": ((i as u64 * bucket + bucket / 2) as f64 / 1e6), "bucket_ms": bucket as f64 / 1e6,
                        "count": s.count, "failed": f.count, "in_flight_mean": in_flight,
                        "p50_ms": percentile_ms(&s.latencies, 0.5), "p99_ms": percentile_ms(&s.latencies, 0.99),
                        "p999_ms": percentile_ms(&s.latencies, 0.999) })
            })
            .collect(),
    )
}

/// Completed and failed operations (gets and puts together) per window of the workload's time,
/// with the windows of [`latency_over_time`]; only windows wholly inside the traffic count.
pub struct Window {
    pub start_ns: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// The windows, each `window_ns` long, that end by `traffic_end_ns`.
pub fn windows(m: &crate::observe::metrics::Metrics, window_ns: u64, traffic_end_ns: u64) -> Vec<Window> {
    let count = (traffic_end_ns / window_ns) as usize;
    let mut out: Vec<Window> = (0..count).map(|i| Window { start_ns: i as u64 * window_ns, succeeded: 0, failed: 0 }).collect();
    for stats in [&m.gets, &m.puts] {
        let succeeded = stats.latencies.counts_per_window(window_ns, count);
        let failed = stats.failures_log.counts_per_window(window_ns, count);
        for ((w, s), f) in out.iter_mut().zip(succeeded).zip(failed) {
            w.succeeded += s;
            w.failed += f;
        }
    }
    out
}

/// The window of [`latency_over_time`] for a run ending at `end_ns`.
pub fn window_ns(end_ns: u64) -> u64 {
    (end_ns / 60).max(1_000_000)
}

/// Availability and throughput per window: the least available window (of those in which any
/// operation ended) and the least busy one against the median, so a stall in which clients
/// only wait shows even when few operations fail.
fn availability(m: &crate::observe::metrics::Metrics, end_ns: u64, traffic_end_ns: u64) -> Value {
    let window = window_ns(end_ns);
    let ws = windows(m, window, traffic_end_ns);
    let ended = |w: &Window| w.succeeded + w.failed;
    let worst = ws
        .iter()
        .filter(|w| ended(w) > 0)
        .map(|w| (w.succeeded as f64 / ended(w) as f64, w.start_ns))
        .fold(None, |a: Option<(f64, u64)>, b| if a.is_some_and(|a| a.0 <= b.0) { a } else { Some(b) });
    let mut succeeded: Vec<u64> = ws.iter().map(|w| w.succeeded).collect();
    succeeded.sort_unstable();
    let median = succeeded.get(succeeded.len() / 2).copied().unwrap_or(0);
    let least = ws.iter().min_by_key(|w| w.succeeded);
    json!({
        "window_ms": ms(window),
        "windows_count": ws.len(),
        "min_window_fraction": worst.map_or(Value::Null, |w| json!(w.0)),
        "min_window_at_ms": worst.map_or(Value::Null, |w| json!(ms(w.1))),
        "median_window_succeeded_count": median,
        "min_window_succeeded_count": least.map_or(0, |w| w.succeeded),
        "min_window_succeeded_at_ms": least.map_or(Value::Null, |w| json!(ms(w.start_ns))),
    })
}

/// Builds `report.json`'s content.
pub fn build(scenario: &Scenario, seed: u64, r: &RunResult) -> Value {
    let m = &r.metrics;
    let h = &r.history.stats;
    let requests: Vec<u64> = r.node_stats.iter().map(|s| s.requests_served).collect();
    let concurrent_writes = sum_stats(r, |s| s.concurrent_writes);
    let reads_with_siblings: u64 = m.versions_per_read[2..].iter().sum();
    let (get_latencies, put_latencies) = (m.gets.latencies.distribution(), m.puts.latencies.distribution());
    let load_windows = load_windows(scenario, r);
    json!({
        "scenario": { "name": scenario.name, "description": scenario.description, "seed": seed },
        "workload_duration_ms": scenario.duration.as_millis_f64(),
        "simulated_duration_ms": r.simulated_end.as_millis_f64(),
        "operations": {
            "get": op_report(&m.gets, &get_latencies, scenario.duration.as_nanos()),
            "put": op_report(&m.puts, &put_latencies, scenario.duration.as_nanos()),
        },
        "latency_precision": latency_precision(m),
        "latency_cdf_ms": { "get": latency_cdf(&get_latencies), "put": latency_cdf(&put_latencies) },
        "latency_over_time": { "get": latency_over_time(&m.gets, r.simulated_end.as_nanos()), "put": latency_over_time(&m.puts, r.simulated_end.as_nanos()) },
        "availability": availability(m, r.simulated_end.as_nanos(), scenario.duration.as_nanos()),
        "versions_per_read": distribution_report(&m.versions_per_read),
        "true_versions_per_read": distribution_report(&h.true_versions_per_read),
        "conflicts": {
            "reads_with_siblings_count": reads_with_siblings,
            "reads_with_siblings_fraction": fraction(reads_with_siblings, m.gets.latencies.len() as u64),
            "concurrent_write_count": concurrent_writes,
            "false_sibling_count": h.false_siblings,
        },
        "staleness": {
            "reads_judged_count": h.reads_judged,
            "stale_read_count": h.stale_reads,
            "stale_read_fraction": fraction(h.stale_reads, h.reads_judged),
            "deleted_value_read_count": h.deleted_value_reads,
            "k_staleness": k_staleness(&h.versions_behind, h.reads_judged),
        },
        "sessions": sessions_section(&r.history.sessions.stats),
        "consistency_levels": levels_section(scenario, m),
        "t_visibility": t_visibility_section(scenario, r),
        "probe": { "write_count": m.probe_writes, "write_failure_count": m.probe_write_failures, "read_count": m.probe_reads },
        "messages": messages_section(m),
        "nodes": nodes_section(scenario, r),
        "ring": { "metadata_entries_per_node": r.ring_metadata_entries, "range_count": r.ring_ranges },
        "load": {
            "requests_max_over_mean": max_over_mean(&requests),
            "keys_owned_max_over_mean": max_over_mean(&r.keys_owned),
            "out_of_balance_fraction_mean": load_windows.iter().map(|w| w.out_of_balance).sum::<f64>() / load_windows.len().max(1) as f64,
        },
        "load_over_time": load_windows.iter().map(|w| json!({
            "t_ms": w.start_ms, "requests_count": w.requests, "out_of_balance_fraction": w.out_of_balance, "requests_max_over_mean": w.max_over_mean,
        })).collect::<Vec<_>>(),
        "convergence": convergence_section(r),
        "membership": membership_section(r),
        "divergence": r.samples.iter().map(|(t, s)| json!({ "t_ms": t.as_millis_f64(), "divergent_key_fraction": s.divergent_fraction(), "pending_hint_count": s.pending_hints })).collect::<Vec<_>>(),
        "faults": m.faults.iter().zip(&r.faults).map(|(f, s)| json!({ "at_ms": f.at_ms, "fault": f.description, "took_effect": f.took_effect, "drawn_by_nemesis": s.generated })).collect::<Vec<_>>(),
        "protocol_counters": protocol_counters_section(r),
        "storage": storage_section(scenario, r),
        "history_oracle": {
            "prune_count": r.history.prune.prunes,
            "writes_folded_count": r.history.prune.writes_folded,
            "writes_pruned_count": r.history.prune.writes_pruned,
            "writes_kept_count": r.history.prune.writes_kept,
            "census_miss_count": r.history.prune.census_misses,
        },
        "capacity": capacity_section(scenario, r),
        "engine": {
            "events_processed_count": r.events_processed,
            "peak_pending_events_count": r.peak_pending_events,
            "timeouts_retired_count": r.timeouts_retired,
        },
    })
}

/// PBS's k-staleness from the workload's reads: for k = 1 to `VERSIONS_TRACKED`, the fraction of
/// successful reads within k versions of the newest write acknowledged before they were sent
/// (k = 1: not stale).
fn k_staleness(behind: &[u64], reads: u64) -> Value {
    let mut within = 0;
    let rows: Vec<Value> = (1..behind.len())
        .map(|k| {
            within += behind[k - 1];
            json!({ "k": k, "within_fraction": fraction(within, reads) })
        })
        .collect();
    Value::Array(rows)
}

/// The four session guarantees (see `observe::sessions`): per guarantee, the reads it applied
/// to, those that violated it, and their fraction.
fn sessions_section(s: &crate::observe::sessions::SessionStats) -> Value {
    let one = |g: &crate::observe::sessions::Guarantee| json!({ "applicable_count": g.applicable, "violation_count": g.violated, "violation_fraction": fraction(g.violated, g.applicable) });
    json!({
        "read_your_writes": one(&s.read_your_writes),
        "monotonic_reads": one(&s.monotonic_reads),
        "monotonic_writes": one(&s.monotonic_writes),
        "writes_follow_reads": one(&s.writes_follow_reads),
        // Sessions past workload.session_keys_per_client, forgotten least recently used first.
        "forgotten_count": s.forgotten,
    })
}

/// Each resource's utilisation over the run (busy time over the simulated duration; CPU over
/// every core): the mean over nodes and the hottest node, so a run states the load its tail
/// was measured at.
fn capacity_section(scenario: &Scenario, r: &RunResult) -> Value {
    let model = if !scenario.service_time.is_zero() {
        "service_time"
    } else if scenario.capacity.is_infinite() {
        "infinite"
    } else {
        "capacity"
    };
    let cores = if scenario.service_time.is_zero() { scenario.capacity.cores.max(1) } else { 1 };
    let span = r.simulated_end.as_nanos().max(1) as f64;
    let resource = |busy: &dyn Fn(&crate::observe::metrics::Busy) -> u64, servers: f64| -> Value {
        // Work queued past the end of the run is not done by then: at most fully busy.
        let u: Vec<f64> = r.busy.iter().map(|b| (busy(b) as f64 / (span * servers)).min(1.0)).collect();
        let (hot, max) = u.iter().enumerate().fold((0, 0.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
        let round = |v: f64| (v * 1e6).round() / 1e6;
        json!({ "mean_utilisation": round(u.iter().sum::<f64>() / u.len().max(1) as f64), "max_utilisation": round(max), "max_node": format!("n{hot}") })
    };
    json!({
        "model": model,
        "cores": cores,
        "cpu": resource(&|b| b.cpu_ns, cores as f64),
        "nic_out": resource(&|b| b.nic_out_ns, 1.0),
        "nic_in": resource(&|b| b.nic_in_ns, 1.0),
        "bytes_sent_count": r.busy.iter().map(|b| b.bytes_out).sum::<u64>(),
        // Foreground reads and writes on the disk's FIFO; background scans on their own queue.
        "disk": resource(&|b| b.disk_ns, 1.0),
        "scan": resource(&|b| b.scan_ns, 1.0),
        "bytes_scanned_count": r.busy.iter().map(|b| b.bytes_scanned).sum::<u64>(),
    })
}

/// Per consistency level of the workload's mixes: its gets' and puts' outcomes and latencies,
/// and how many of its gets the history oracle found stale.
fn levels_section(scenario: &Scenario, m: &crate::observe::metrics::Metrics) -> Value {
    let section = |levels: &LevelMix, get: bool| -> Value {
        let mut out = Map::new();
        for level in levels.levels() {
            let s = &m.levels[level.index()];
            let stats = if get { &s.gets } else { &s.puts };
            let mut entry = op_report(stats, &stats.latencies.distribution(), scenario.duration.as_nanos());
            if get {
                entry["stale_read_count"] = json!(s.stale_reads);
                entry["stale_read_fraction"] = json!(fraction(s.stale_reads, s.reads_judged));
            }
            out.insert(level.name().to_string(), entry);
        }
        Value::Object(out)
    };
    json!({ "get": section(&scenario.workload.get_levels, true), "put": section(&scenario.workload.put_levels, false) })
}

struct LoadWindow {
    start_ms: f64,
    requests: u64,
    out_of_balance: f64,
    max_over_mean: f64,
}

/// Per window of `observe.load_window_ms` that starts within the workload's duration, over the
/// ring's members at the end: the share of them whose requests lie more than 15% from the
/// window's mean (Dynamo Figure 6's "out of balance"), and the hottest over the mean.
fn load_windows(scenario: &Scenario, r: &RunResult) -> Vec<LoadWindow> {
    let lw = &r.metrics.load_windows;
    let served: Vec<u64> = r.node_stats.iter().map(|s| s.requests_served).collect();
    let counts = lw.counts(&served);
    // A window no node handler ran in served nothing.
    let windows = scenario.duration.as_nanos().div_ceil(lw.window_ns) as usize;
    (0..windows)
        .map(|w| {
            let loads: Vec<u64> =
                r.ring_members.iter().map(|&i| counts.get(w).and_then(|c| c.get(i)).copied().unwrap_or(0)).collect();
            let total: u64 = loads.iter().sum();
            let mean = total as f64 / loads.len().max(1) as f64;
            let out = loads.iter().filter(|&&l| (l as f64 - mean).abs() > 0.15 * mean).count();
            LoadWindow {
                start_ms: (w as u64 * lw.window_ns) as f64 / 1e6,
                requests: total,
                out_of_balance: fraction(out as u64, loads.len() as u64),
                max_over_mean: max_over_mean(&loads),
            }
        })
        .collect()
}

/// A counter summed over every node.
fn sum_stats(r: &RunResult, counter: fn(&crate::node::NodeStats) -> u64) -> u64 {
    r.node_stats.iter().map(counter).sum()
}

fn messages_section(m: &crate::observe::metrics::Metrics) -> Value {
    let mut messages = Map::new();
    for kind in MessageKind::ALL {
        let c = &m.messages[kind.index()];
        messages.insert(
            kind.name().to_string(),
            json!({
                "sent_count": c.sent,
                "delivered_count": c.delivered,
                "lost_count": c.lost,
                "dropped_partition_count": c.dropped_partition,
                "dropped_down_count": c.dropped_down,
                "duplicated_count": c.duplicated,
                "probe_sent_count": c.probe_sent,
                "sent_bytes": c.bytes,
            }),
        );
    }
    Value::Object(messages)
}

fn nodes_section(scenario: &Scenario, r: &RunResult) -> Value {
    r.node_stats
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "node": format!("n{i}"),
                "datacenter": scenario.datacenters[scenario.nodes[i].datacenter as usize],
                "requests_served_count": s.requests_served,
                "keys_owned_count": r.keys_owned[i],
                "partitions_count": r.partitions_owned[i],
                "gets_coordinated_count": s.gets_coordinated,
                "puts_coordinated_count": s.puts_coordinated,
                "forwarded_count": s.forwarded,
            })
        })
        .collect()
}

fn t_visibility_section(scenario: &Scenario, r: &RunResult) -> Value {
    let Some(probe) = &scenario.probe else { return json!([]) };
    probe
        .delays
        .iter()
        .zip(&r.history.visibility)
        .map(|(d, v)| {
            let mut row = json!({ "t_ms": d.as_millis_f64(), "reads_count": v.reads, "reflected_count": v.reflected, "reflected_fraction": fraction(v.reflected, v.reads) });
            if probe.versions > 1 {
                // PBS's <k, t>-staleness: within k versions of the probe's last write, k = 1..versions.
                row["within_versions_fraction"] = v.within.iter().map(|&n| fraction(n, v.reads)).collect();
            }
            row
        })
        .collect()
}

fn convergence_section(r: &RunResult) -> Value {
    json!({
        "divergent_key_count": r.convergence.divergent_keys,
        "divergent_key_fraction": r.convergence.divergent_fraction(),
        "pending_hint_count": r.convergence.pending_hints,
        "pending": r.convergence.pending,
        "converged": r.convergence.converged(),
        "time_to_convergence_after_last_fault_ms": match (r.last_fault, r.converged_after_last_fault) {
            (Some(f), Some(c)) => json!(c.since(f).as_millis_f64()),
            _ => Value::Null,
        },
        // When the hints stored during the faults had all been delivered (at the resolution of
        // the divergence samples): how long a repair storm lasted.
        "hints_drained_after_last_fault_ms": r.last_fault.and_then(|f| {
            r.samples.iter().find(|(t, s)| *t >= f && s.pending_hints == 0).map(|(t, _)| t.since(f).as_millis_f64())
        }),
        "lost_write_count": r.lost_writes.count,
        "lost_unflushed_write_count": r.lost_writes.unflushed_count,
        "acknowledged_add_count": r.acked_adds,
        "lost_add_count": r.lost_adds,
        "lost_add_fraction": fraction(r.lost_adds, r.acked_adds),
        "resurfaced_item_count": r.resurfaced_items,
        "acknowledged_delete_count": r.deletes.acknowledged,
        "resurrected_key_count": r.deletes.resurrected_keys,
        "resurrections": r.deletes.resurrections.iter().map(|(key, back, delete)| json!({
            "key": key,
            "write": back.0,
            "deleted_by": delete.0,
        })).collect::<Vec<_>>(),
        "tombstone_replica_count": r.deletes.tombstone_replicas,
        "lost_writes": r.lost_writes.first.iter().map(|l| json!({
            "key": &*l.key,
            "write": l.write.0,
            "acked_at_ms": l.acked_at.as_millis_f64(),
            "unflushed": l.unflushed,
        })).collect::<Vec<_>>(),
    })
}

fn membership_section(r: &RunResult) -> Value {
    let sum = |counter| sum_stats(r, counter);
    json!({
        "gossip_round_count": sum(|s| s.gossip_rounds),
        "changes": r.agreement.iter().zip(&r.change_transfers).map(|((at, agreed), moved)| json!({
            "at_ms": at.as_millis_f64(),
            "agreed_after_ms": agreed.map(|t| t.since(*at).as_millis_f64()),
            "keys_sent_count": moved.keys,
            "transfer_bytes_sent_count": moved.bytes,
            "transfers_done_after_ms": moved.last_ack().map(|t| t.since(*at).as_millis_f64()),
            "transfer_duration_ms": moved.longest_sender().map(|d| d.as_millis_f64()),
            "bulk_transfer_ms": moved.longest_bulk().map(|d| d.as_millis_f64()),
        })).collect::<Vec<_>>(),
        "decommissioned": r.decommissioned.iter().map(|(n, at)| json!({ "node": n.to_string(), "at_ms": at.as_millis_f64() })).collect::<Vec<_>>(),
        "keys_transferred_count": sum(|s| s.keys_transferred),
        "transfer_message_count": sum(|s| s.transfer_messages),
        "longest_handoff_ms": r.node_stats.iter().filter_map(|s| Some(s.handoff_done_at?.since(s.handoff_started_at?).as_millis_f64())).fold(0.0, f64::max),
    })
}

fn protocol_counters_section(r: &RunResult) -> Value {
    let sum = |counter| sum_stats(r, counter);
    let m = &r.metrics;
    json!({
            "forwarded_count": sum(|s| s.forwarded),
            "late_reply_count": sum(|s| s.late_replies),
            "coordinator_timeout_count": sum(|s| s.coordinator_timeouts),
            "refused_for_primaries_count": sum(|s| s.refused_for_primaries),
            "tombstones_removed_count": sum(|s| s.tombstones_removed),
            "digest_mismatch_count": sum(|s| s.digest_mismatches),
            "speculative_read_count": sum(|s| s.speculative_reads),
            "refused_unavailable_count": sum(|s| s.refused_unavailable),
            "clock_entries_truncated_count": sum(|s| s.clock_entries_truncated),
            "suspicion_count": sum(|s| s.suspicions),
            "fallback_request_count": sum(|s| s.fallback_requests),
            "hints_stored_count": sum(|s| s.hints_stored),
            "hints_not_stored_window_count": sum(|s| s.hints_not_stored_window),
            "hints_delivered_count": sum(|s| s.hints_delivered),
            "read_repairs_sent_count": sum(|s| s.read_repairs_sent),
            "anti_entropy_exchange_count": sum(|s| s.ae_exchanges),
            "anti_entropy_message_count": sum(|s| s.ae_messages),
            "anti_entropy_skipped_ring_mismatch_count": sum(|s| s.ae_skipped_ring_mismatch),
            "anti_entropy_bytes": sum(|s| s.ae_bytes),
            "anti_entropy_keys_sent_count": sum(|s| s.ae_keys_sent),
            "anti_entropy_keys_repaired_count": sum(|s| s.ae_keys_repaired),
            "merkle_hash_count": sum(|s| s.merkle_hashes),
            "queued_message_count": m.queued_messages,
            "background_deferred_count": m.background_deferred,
            "client_retry_count": m.client_retries,
    })
}

fn storage_section(scenario: &Scenario, r: &RunResult) -> Value {
    let sum = |counter| sum_stats(r, counter);
    let kind = match scenario.protocol.storage {
        StorageModel::Durable => "durable",
        StorageModel::Buffered { .. } => "buffered",
    };
    json!({
        "kind": kind,
        "disk_write_count": sum(|s| s.disk_writes),
        "disk_read_count": sum(|s| s.disk_reads),
        "buffered_write_count": sum(|s| s.buffered_writes),
        "flush_count": sum(|s| s.flushes),
        "keys_flushed_count": sum(|s| s.keys_flushed),
        "versions_discarded_count": sum(|s| s.versions_discarded),
    })
}

/// Wall-clock figures, kept apart from the report so that stays byte-identical.
pub fn timing(report: &Value, wall: std::time::Duration) -> Value {
    let secs = wall.as_secs_f64().max(1e-9);
    let events = report["engine"]["events_processed_count"].as_u64().unwrap_or(0);
    let ops =
        report["operations"]["get"]["count"].as_u64().unwrap_or(0) + report["operations"]["put"]["count"].as_u64().unwrap_or(0);
    json!({
        "wall_seconds": secs,
        "events_per_second": events as f64 / secs,
        "simulated_operations_per_second": ops as f64 / secs,
        "build": build_kind(),
    })
}

/// Which build is running: "debug", "release", or "release+pgo" for the profile-guided build
/// of `scripts/build-pgo.sh` (wall-clock figures depend on it; results never do).
pub fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else if option_env!("DYNASIM_PGO").is_some() {
        "release+pgo"
    } else {
        "release"
    }
}

/// The readable summary printed on stdout, drawn from the report so the two never disagree.
pub fn summary(report: &Value) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "scenario {} (seed {}): {:.0} ms simulated, {} events\n\n",
        report["scenario"]["name"].as_str().unwrap_or("?"),
        u(&report["scenario"]["seed"]),
        f(&report["simulated_duration_ms"]),
        u(&report["engine"]["events_processed_count"])
    ));
    summary_latency(&mut s, report);
    summary_availability(&mut s, report);
    summary_capacity(&mut s, report);
    summary_consistency(&mut s, report);
    summary_visibility(&mut s, report);
    summary_messages_and_load(&mut s, report);
    s
}

/// A number of the report, 0 where it is absent (a section the run did not have).
fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// A count of the report, 0 where it is absent.
fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Latency of successes, then of every operation.
fn summary_latency(s: &mut String, report: &Value) {
    s.push_str("op     count    failed   mean_ms    p50_ms    p90_ms    p99_ms  p99.9_ms    max_ms\n");
    for (field, heading) in [("latency_ms", ""), ("latency_all_ms", "all  (failures at the moment the client gave up)\n")] {
        s.push_str(heading);
        for op in ["get", "put"] {
            let o = &report["operations"][op];
            let l = &o[field];
            s.push_str(&format!(
                "{op:<4} {:>7} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}\n",
                u(&o["count"]),
                u(&o["failure_count"]),
                f(&l["mean"]),
                f(&l["p50"]),
                f(&l["p90"]),
                f(&l["p99"]),
                f(&l["p999"]),
                f(&l["max"])
            ));
        }
    }
}

/// The longest stall and the worst window.
fn summary_availability(s: &mut String, report: &Value) {
    let a = &report["availability"];
    s.push_str(&format!(
        "longest stall: get {:.1} ms from {:.1} ms, put {:.1} ms from {:.1} ms (no success)\n",
        f(&report["operations"]["get"]["longest_stall_ms"]),
        f(&report["operations"]["get"]["longest_stall_from_ms"]),
        f(&report["operations"]["put"]["longest_stall_ms"]),
        f(&report["operations"]["put"]["longest_stall_from_ms"])
    ));
    s.push_str(&format!(
        "per {:.0} ms window: least available {:.4} at {:.0} ms; fewest successes {} at {:.0} ms (median {})\n",
        f(&a["window_ms"]),
        a["min_window_fraction"].as_f64().unwrap_or(1.0),
        f(&a["min_window_at_ms"]),
        u(&a["min_window_succeeded_count"]),
        f(&a["min_window_succeeded_at_ms"]),
        u(&a["median_window_succeeded_count"])
    ));
}

/// CPU, NIC, disk and background-scan utilisation, where the run modelled capacity.
fn summary_capacity(s: &mut String, report: &Value) {
    let c = &report["capacity"];
    if c["model"] != "infinite" {
        let pct = |r: &str, k: &str| 100.0 * f(&c[r][k]);
        s.push_str(&format!(
            "utilisation ({} model, {} cores): CPU mean {:.1}%, hottest {} {:.1}%; NIC out mean {:.1}%, hottest {} {:.1}%\n",
            c["model"].as_str().unwrap_or("?"),
            u(&c["cores"]),
            pct("cpu", "mean_utilisation"),
            c["cpu"]["max_node"].as_str().unwrap_or("?"),
            pct("cpu", "max_utilisation"),
            pct("nic_out", "mean_utilisation"),
            c["nic_out"]["max_node"].as_str().unwrap_or("?"),
            pct("nic_out", "max_utilisation"),
        ));
    } else if c.is_object() {
        s.push_str("utilisation: infinite capacity (no CPU time, no bandwidth limit)\n");
    }
    if f(&c["disk"]["max_utilisation"]) > 0.0 || f(&c["scan"]["max_utilisation"]) > 0.0 {
        let pct = |r: &str, k: &str| 100.0 * f(&c[r][k]);
        s.push_str(&format!(
            "disk: reads and writes mean {:.1}%, hottest {} {:.1}%; background scans {:.1} MB, hottest {} {:.1}%\n",
            pct("disk", "mean_utilisation"),
            c["disk"]["max_node"].as_str().unwrap_or("?"),
            pct("disk", "max_utilisation"),
            f(&c["bytes_scanned_count"]) / 1e6,
            c["scan"]["max_node"].as_str().unwrap_or("?"),
            pct("scan", "max_utilisation"),
        ));
    }
}

/// Versions, conflicts, convergence, deletes, staleness and session guarantees.
fn summary_consistency(s: &mut String, report: &Value) {
    let v = &report["versions_per_read"];
    s.push_str(&format!(
        "\nversions per read: 1: {:.4}  2: {:.4}  3: {:.4}  4+: {:.4}\n",
        f(&v["1_fraction"]),
        f(&v["2_fraction"]),
        f(&v["3_fraction"]),
        f(&v["4_or_more_fraction"])
    ));
    s.push_str(&format!(
        "conflicts: {} reads with siblings, {} concurrent writes\n",
        u(&report["conflicts"]["reads_with_siblings_count"]),
        u(&report["conflicts"]["concurrent_write_count"])
    ));
    let c = &report["convergence"];
    s.push_str(&format!(
        "convergence at end: {} divergent keys, {} hints queued, {} lost writes\n",
        u(&c["divergent_key_count"]),
        u(&c["pending_hint_count"]),
        u(&c["lost_write_count"])
    ));
    if u(&c["acknowledged_delete_count"]) > 0 {
        s.push_str(&format!(
            "deletes: {} acknowledged, {} keys resurrected at the end, {} reads returned a deleted value, {} tombstones \
             removed, {} replicas hold only tombstones at the end\n",
            u(&c["acknowledged_delete_count"]),
            u(&c["resurrected_key_count"]),
            u(&report["staleness"]["deleted_value_read_count"]),
            u(&report["protocol_counters"]["tombstones_removed_count"]),
            u(&c["tombstone_replica_count"])
        ));
    }
    s.push_str(&format!(
        "stale reads: {} of {} ({:.4})\n",
        u(&report["staleness"]["stale_read_count"]),
        u(&report["staleness"]["reads_judged_count"]),
        f(&report["staleness"]["stale_read_fraction"])
    ));
    let g = &report["sessions"];
    let v = |name: &str| (u(&g[name]["violation_count"]), u(&g[name]["applicable_count"]));
    let ((ryw, ryw_of), (mr, mr_of), (mw, mw_of), (wfr, wfr_of)) =
        (v("read_your_writes"), v("monotonic_reads"), v("monotonic_writes"), v("writes_follow_reads"));
    s.push_str(&format!(
        "session guarantees violated: read-your-writes {ryw} of {ryw_of}, monotonic reads {mr} of {mr_of}, monotonic writes {mw} of {mw_of}, writes-follow-reads {wfr} of {wfr_of}\n"
    ));
}

/// PBS t-visibility, where the scenario probed it.
fn summary_visibility(s: &mut String, report: &Value) {
    if let Some(rows) = report["t_visibility"].as_array().filter(|r| !r.is_empty()) {
        s.push_str("\nt-visibility   t_ms   reads  reflected\n");
        for row in rows {
            s.push_str(&format!(
                "             {:>6.1} {:>7} {:>10.4}\n",
                f(&row["t_ms"]),
                u(&row["reads_count"]),
                f(&row["reflected_fraction"])
            ));
        }
    }
}

/// Messages by kind, and how evenly requests and keys fell.
fn summary_messages_and_load(s: &mut String, report: &Value) {
    s.push_str("\nmessages            sent   delivered     lost\n");
    if let Some(map) = report["messages"].as_object() {
        for kind in MessageKind::ALL {
            let m = &map[kind.name()];
            if u(&m["sent_count"]) > 0 {
                s.push_str(&format!(
                    "{:<14} {:>9} {:>11} {:>8}\n",
                    kind.name(),
                    u(&m["sent_count"]),
                    u(&m["delivered_count"]),
                    u(&m["lost_count"])
                ));
            }
        }
    }
    s.push_str(&format!(
        "\nload: requests max/mean {:.3}, keys owned max/mean {:.3}\n",
        f(&report["load"]["requests_max_over_mean"]),
        f(&report["load"]["keys_owned_max_over_mean"])
    ));
}

/// Renders JSON with a trailing newline.
pub fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The `dynasim bench` table, with each target of issues 4 and 21 marked met or missed.
pub fn bench_table(results: &[Value]) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let queue_rate = results.iter().find(|r| r["benchmark"] == "queue").map(|r| f(&r["events_per_s"]));
    let mut s =
        String::from("benchmark       events   wall_s  setup_s     events/s        ops/s  peak_MiB  peak_pending  target\n");
    for r in results {
        let name = r["benchmark"].as_str().unwrap_or("?");
        let eps = f(&r["events_per_s"]);
        let target = match name {
            "queue" => String::new(),
            "queue-large" => format!(
                "{} 2M events/s with {} 100k pending (the queue alone)",
                mark(eps >= 2e6),
                mark(f(&r["peak_pending"]) > 1e5)
            ),
            "baseline" => {
                let ratio = queue_rate.map_or(0.0, |q| eps / q);
                format!("{} 5M events/s; {:.2} of the bare queue {} 0.5", mark(eps >= 5e6), ratio, mark(ratio >= 0.5))
            }
            "large" => format!(
                "{} 2M events/s with {} 100k pending; {} under 4 GiB",
                mark(eps >= 2e6),
                mark(f(&r["peak_pending"]) > 1e5),
                mark(f(&r["peak_rss_mib"]) < 4096.0)
            ),
            "hour" => format!(
                "{} an hour in under 6 s",
                mark(f(&r["wall_s"]) + f(&r["setup_s"]) < 6.0 && f(&r["simulated_s"]) >= 3600.0)
            ),
            // The bench reports wall time; the target is CPU time, equal on an otherwise idle core.
            "day" => format!(
                "{} a day in under 150 s; {} under 1 GiB",
                mark(f(&r["wall_s"]) + f(&r["setup_s"]) < 150.0 && f(&r["simulated_s"]) >= 86_400.0),
                mark(f(&r["peak_rss_mib"]) < 1024.0)
            ),
            "cart" => format!("{} 1M events/s", mark(eps >= 1e6)),
            "sweep" => format!("speedup {:.2} on 2 cores {} 1.8", f(&r["speedup"]), mark(f(&r["speedup"]) >= 1.8)),
            "scaling" => {
                let per_op: Vec<String> = r["sizes"]
                    .as_array()
                    .map_or(&[][..], |v| v)
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {:.1} ({:.1} events)",
                            s["nodes"],
                            f(&s["us_per_operation"]),
                            f(&s["events"]) / f(&s["operations"]).max(1.0)
                        )
                    })
                    .collect();
                let spread = f(&r["cost_spread"]);
                let (per_event, events) = (f(&r["event_cost_10000_over_1024"]), f(&r["events_per_operation_10000_over_1024"]));
                format!(
                    "µs/op by nodes {} (10,000: proxy; gossip on); spread {spread:.2} {} 1.5 (per event {:.2}); \
                     10,000 over 1,024: per event {per_event:.2} {} 2, events/op {events:.2} {} 2",
                    per_op.join(", "),
                    mark(spread <= 1.5),
                    f(&r["event_cost_spread"]),
                    mark(per_event <= 2.0),
                    mark(events <= 2.0)
                )
            }
            "model" => {
                let ratio = f(&r["ratio_to_reference"]);
                format!(
                    "{:.2} of the reference model's ops/s ({:.0}; {:.1} and {:.1} events/op) {} 0.4",
                    ratio,
                    f(&r["reference_operations_per_s"]),
                    f(&r["events_per_operation"]),
                    f(&r["reference_events_per_operation"]),
                    mark(ratio >= 0.4)
                )
            }
            _ => String::new(),
        };
        let wall = if name == "sweep" { f(&r["wall_s_1_job"]) } else { f(&r["wall_s"]) };
        s.push_str(&format!(
            "{name:<11} {:>10} {:>8.2} {:>8.2} {:>12.0} {:>12.0} {:>9.1} {:>13}  {target}\n",
            r["events"].as_u64().unwrap_or(0),
            wall,
            f(&r["setup_s"]),
            eps,
            f(&r["operations_per_s"]),
            f(&r["peak_rss_mib"]),
            r["peak_pending"].as_u64().unwrap_or(0)
        ));
    }
    s
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met:"
    } else {
        "MISSED:"
    }
}

pub(crate) fn settings_text(a: &Value) -> String {
    a["settings"].as_array().map(|v| v.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// Mean and half-width of a 95% confidence interval (zero with one sample).
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom, then the normal.
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
        2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    let t = T.get(n - 2).copied().unwrap_or(1.96);
    (mean, t * (var / n as f64).sqrt())
}

/// The sweep's per-configuration table: mean and 95% interval of the headline metrics.
pub fn sweep_table(results: &Value) -> String {
    let mut s = String::from(
        "config  p999_get_ms [95% interval]      stale_read_fraction [95% interval]    availability [95% interval]    settings\n",
    );
    for a in results["configurations"].as_array().map_or(&[][..], |v| v) {
        if let Some(why) = a["skipped"].as_str() {
            s.push_str(&format!("{:>6}  skipped: {why}   {}\n", a["config"].to_string(), settings_text(a)));
            continue;
        }
        s.push_str(&format!(
            "{:>6}  {:<30}  {:<36}  {:<29}  {}\n",
            a["config"].to_string(),
            interval(a, "p999_get_ms", 3),
            interval(a, "stale_read_fraction", 6),
            interval(a, "availability", 4),
            settings_text(a)
        ));
    }
    s
}

/// "mean [low, high]": the 95% interval cut to what the metric can be (a fraction's never
/// reaches below 0), as results.json gives it.
pub fn interval(a: &Value, metric: &str, decimals: usize) -> String {
    let m = &a[metric];
    let mean = m["mean"].as_f64().unwrap_or(f64::NAN);
    let end = |k: &str| m[k].as_f64().unwrap_or(mean);
    format!("{mean:.decimals$} [{:.decimals$}, {:.decimals$}]", end("low"), end("high"))
}

/// `--recommend`: passing configurations cheapest first, and what binds for the rest.
pub fn recommendation(ok: &[Value], missed: &[(Value, Vec<String>)]) -> String {
    let mut s = String::from(
        "\nmeets every target (cheapest first, by messages per operation: every message sent, the workload's, \
         repair and background traffic, but not a staleness probe's, over the workload's operations):\n",
    );
    if ok.is_empty() {
        s.push_str("  none\n");
    }
    // Two costs closer than their noise (the larger 95% half-width, or 1% with one seed) are a
    // tie: the order between them says nothing.
    let cost = |a: &Value| a["messages_per_operation"]["mean"].as_f64().unwrap_or(0.0);
    let noise = |a: &Value| a["messages_per_operation"]["ci95"].as_f64().filter(|h| *h > 0.0).unwrap_or(0.01 * cost(a));
    for (i, a) in ok.iter().enumerate() {
        let tie = i > 0 && (cost(a) - cost(&ok[i - 1])).abs() <= noise(a).max(noise(&ok[i - 1]));
        s.push_str(&format!(
            "  config {}: {:.2} messages/op{}  {}\n",
            a["config"],
            cost(a),
            if tie { " (a tie with the one above, within noise)" } else { "" },
            settings_text(a)
        ));
        // Read and write quorums that need not meet: no stale read in these seeds is luck.
        if a["quorums_overlap"] == false && a["stale_read_fraction"]["mean"].as_f64() == Some(0.0) {
            s.push_str("    note: R + W <= N: no stale read was seen in these seeds, but none is ruled out\n");
        }
    }
    s.push_str("misses a target:\n");
    for (a, binds) in missed {
        s.push_str(&format!("  config {}: {}  ({})\n", a["config"], binds.join("; "), settings_text(a)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_in_flight_is_split_over_the_buckets_an_operation_spans() {
        let mut stats = OpStats::default();
        // 1.5 ms to 3.5 ms with 1 ms buckets: half, whole, half.
        let frame = crate::observe::latency::LatencyFrame::default();
        stats.latencies.push(2_000_000, 3_500_000, &frame);
        // A failure from 0 to 0.25 ms.
        stats.failures_log.push(250_000, 250_000, &frame);
        let busy =
            |log: &crate::observe::latency::LatencyLog| log.windows(1_000_000, 5).iter().map(|w| w.busy_ns).collect::<Vec<_>>();
        assert_eq!(busy(&stats.latencies), [0, 500_000, 1_000_000, 500_000, 0]);
        assert_eq!(busy(&stats.failures_log), [250_000, 0, 0, 0, 0]);
        // A stall: the operation waits through bucket 2, where nothing completes.
        let report = latency_over_time(&stats, 4_000_000);
        assert_eq!(report[2]["count"], 0);
        assert_eq!(report[2]["in_flight_mean"], 1.0);
    }
}
