//! `dynasim bench`: fixed benchmarks with events/s, simulated operations/s and peak memory.
//!
//! Wall-clock time is measured here and only here; nothing it measures feeds back into a
//! simulation. Each benchmark runs in a child process of this binary, so its peak resident
//! memory is its own.

use crate::error::Error;
use crate::scenario::{self, Scenario};
use crate::sim::engine::{Engine, SimDuration, SimTime};
use crate::sim::rng::{Draw, Seeds, Stream};
use serde_json::{json, Value};
use std::time::Instant;

/// The world's event size in words, for the bare queue's events.
const EVENT_WORDS: usize = crate::world::EVENT_BYTES.div_ceil(8);

pub const NAMES: [&str; 10] = ["queue", "queue-large", "model", "scaling", "cart", "baseline", "large", "hour", "day", "sweep"];

/// The simplest useful quorum model, priced against `reference_model`'s minimal
/// implementation of the same exchange.
const QUORUM_MODEL: &str = include_str!("../../scenarios/quorum-model.json");

/// Dynamo's shopping cart: read, merge siblings, add or remove an item, write back; hot carts
/// grow to thousands of items over the run (a cart operation must not cost more as its
/// cart grows).
const CART: &str = include_str!("../../scenarios/shopping-cart.json");

/// 16 nodes, (3,2,2), 100 closed-loop clients, exponential latency: the baseline.
const BASELINE: &str = include_str!("../../scenarios/baseline-322-zipf.json");

/// 1,000 nodes with 256 vnodes each, 1,000,000 keys, 10,000 clients, every mechanism on.
const LARGE: &str = r#"{
  "name": "bench-large", "description": "large benchmark", "seed": 1,
  "duration_ms": 3000, "quiescent_tail_ms": 0,
  "cluster": { "nodes": 1000, "service_time": { "kind": "exponential", "mean_ms": 0.05 } },
  "ring": { "strategy": "random_tokens", "tokens_per_node": 256 },
  "protocol": { "n": 3, "r": 2, "w": 2, "coordination": "client_driven",
    "sloppy_quorum": true, "hinted_handoff": true, "read_repair": true, "anti_entropy": true },
  "membership": { "seeds": [0, 1, 2] },
  "network": { "latency": { "kind": "exponential", "mean_ms": 1.0, "offset_ms": 0.2 } },
  "workload": { "keys": 1000000, "popularity": { "kind": "zipf", "exponent": 0.9 }, "read_fraction": 0.8,
    "arrivals": { "kind": "closed", "clients": 10000, "think_time": { "kind": "exponential", "mean_ms": 100 } } },
  "observe": { "divergence_interval_ms": 0 }
}"#;

/// One simulated hour of 100 nodes at 1,000 operations a second.
const HOUR: &str = r#"{
  "name": "bench-hour", "description": "an hour of 100 nodes at 1000 ops/s", "seed": 1,
  "duration_ms": 3600000, "quiescent_tail_ms": 0,
  "cluster": { "nodes": 100 },
  "ring": { "strategy": "random_tokens", "tokens_per_node": 32 },
  "protocol": { "n": 3, "r": 2, "w": 2, "coordination": "client_driven" },
  "membership": { "seeds": [0] },
  "network": { "latency": { "kind": "exponential", "mean_ms": 1.0, "offset_ms": 0.2 } },
  "workload": { "keys": 100000, "popularity": { "kind": "zipf", "exponent": 0.9 }, "read_fraction": 0.8,
    "arrivals": { "kind": "open", "rate_per_s": 1000, "clients": 200 } },
  "observe": { "divergence_interval_ms": 60000 }
}"#;

/// The hour's cluster for a simulated day under a diurnal load averaging 1,000 operations a
/// second (1 ± 0.5, peaking at 14:00: Dynamo's Figure 4 setting), the capacity model's defaults.
const DAY: [&str; 6] = [
    "duration_ms=86400000",
    "workload.arrivals.profile.kind=diurnal",
    "workload.arrivals.profile.period_ms=86400000",
    "workload.arrivals.profile.amplitude=0.5",
    "workload.arrivals.profile.peak_ms=50400000",
    "observe.divergence_interval_ms=600000",
];

/// The day's overrides of [`HOUR`], the last `duration_ms` winning.
fn day(quick: bool) -> Vec<String> {
    let mut sets: Vec<String> = DAY.iter().map(|s| s.to_string()).collect();
    if quick {
        sets.push("duration_ms=60000".into());
    }
    sets
}

fn load(name: &str, text: &str, sets: &[String]) -> Result<Scenario, Error> {
    Ok(scenario::load(name, text, sets)?)
}

/// Peak resident memory of this process, in bytes (Linux; zero elsewhere).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kib| kib * 1024)
}

/// Runs a scenario; returns events, operations, peak pending events, the event loop's wall time
/// and the setup's (building the ring, key table and nodes), measured apart.
fn simulate(s: &Scenario) -> (u64, u64, usize, f64, f64) {
    let started = Instant::now();
    let world = crate::world::World::new(s, s.seed);
    let setup = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let r = world.run();
    let wall = started.elapsed().as_secs_f64();
    let ops = (r.metrics.gets.latencies.len() + r.metrics.puts.latencies.len()) as u64
        + r.metrics.gets.failures()
        + r.metrics.puts.failures();
    (r.events_processed, ops, r.peak_pending_events, wall, setup)
}

/// The bare queue: pop one, push one a random delay later, with `pending` events pending and
/// events of the world's size; no protocol.
fn queue(name: &str, pending: usize, rounds: u64) -> Value {
    let mut rng = Seeds::new(1).stream(Stream::Workload, 0);
    let mut engine: Engine<[u64; EVENT_WORDS]> = Engine::new();
    for i in 0..pending {
        engine.schedule_at(SimTime(rng.next_word() % 10_000_000), [i as u64; EVENT_WORDS]);
    }
    let started = Instant::now();
    let mut sink = 0u64;
    for _ in 0..rounds {
        if let Some(e) = engine.pop_until(SimTime(u64::MAX)) {
            sink = sink.wrapping_add(e[0]);
            engine.schedule_after(SimDuration(rng.next_word() % 10_000_000), e);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    json!({ "benchmark": name, "events": rounds, "wall_s": wall, "events_per_s": rounds as f64 / wall, "peak_pending": pending,
        "checksum": sink % 7 })
}

fn one(name: &str, text: &str, sets: &[String]) -> Result<Value, Error> {
    let s = load(name, text, sets)?;
    let (events, ops, pending, wall, setup) = simulate(&s);
    Ok(json!({
        "benchmark": name, "scenario": s.name, "events": events, "operations": ops, "wall_s": wall, "setup_s": setup,
        "events_per_s": events as f64 / wall, "operations_per_s": ops as f64 / wall, "peak_pending": pending,
        "simulated_s": (s.duration.as_millis_f64() + s.quiescent_tail.as_millis_f64()) / 1000.0,
    }))
}

/// dynasim on the quorum model between two runs of the minimal reference implementation of
/// the same model; the ratio of simulated operations per second is the row's figure.
fn model(quick: bool) -> Result<Value, Error> {
    use crate::commands::reference_model::{self, Model};
    let m = Model { duration_ms: if quick { 1_000.0 } else { Model::QUORUM.duration_ms }, ..Model::QUORUM };
    let reference = |m: &Model| {
        let started = Instant::now();
        let out = reference_model::run(m, 1);
        (out, started.elapsed().as_secs_f64())
    };
    let (before, before_s) = reference(&m);
    let mut v = one("model", QUORUM_MODEL, &[format!("duration_ms={}", m.duration_ms)])?;
    let (after, after_s) = reference(&m);
    let reference_ops_per_s = (before.operations + after.operations) as f64 / (before_s + after_s);
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let (ops_per_s, events, ops) = (f("operations_per_s"), f("events"), f("operations"));
    v["events_per_operation"] = json!(events / ops.max(1.0));
    v["reference_operations_per_s"] = json!(reference_ops_per_s);
    v["reference_operations"] = json!(before.operations);
    v["reference_events_per_operation"] = json!(before.events as f64 / before.operations.max(1) as f64);
    v["reference_checksum"] = json!(before.checksum % 7);
    v["ratio_to_reference"] = json!(ops_per_s / reference_ops_per_s);
    Ok(v)
}

/// The quorum model at 16, 128 and 1,024 nodes, and at 10,000 with proxy coordination (a
/// client cannot know a ring that large, so any node takes its request and forwards it), with
/// gossip every second and failure detection on: wall time per operation and per event at each
/// size.
fn scaling(quick: bool) -> Result<Value, Error> {
    let duration = if quick { 300 } else { 3_000 };
    let mut sizes = Vec::new();
    for (nodes, coordination) in [(16, "client_driven"), (128, "client_driven"), (1024, "client_driven"), (10_000, "proxy")] {
        let sets = vec![
            format!("duration_ms={duration}"),
            format!("cluster.nodes={nodes}"),
            format!("protocol.coordination={coordination}"),
            "membership.gossip_interval_ms=1000".to_string(),
        ];
        let v = one("scaling", QUORUM_MODEL, &sets)?;
        let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
        sizes.push(json!({ "nodes": nodes, "coordination": coordination, "operations": v["operations"], "events": v["events"],
            "wall_s": v["wall_s"], "us_per_operation": 1e6 * f("wall_s") / f("operations").max(1.0),
            "us_per_event": 1e6 * f("wall_s") / f("events").max(1.0) }));
    }
    let spread = |field: &str| {
        let (lo, hi) = sizes
            .iter()
            .map(|s| s[field].as_f64().unwrap_or(0.0))
            .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
        hi / lo
    };
    let events: u64 = sizes.iter().map(|s| s["events"].as_u64().unwrap_or(0)).sum();
    let wall: f64 = sizes.iter().map(|s| s["wall_s"].as_f64().unwrap_or(0.0)).sum();
    // The full protocol's cost per event, and events per operation, at 10,000 nodes against 1,024.
    let at = |nodes: u64, field: &str| sizes.iter().find(|s| s["nodes"] == nodes).and_then(|s| s[field].as_f64()).unwrap_or(0.0);
    let events_per_op = |nodes: u64| at(nodes, "events") / at(nodes, "operations").max(1.0);
    Ok(json!({ "benchmark": "scaling", "sizes": sizes, "events": events, "wall_s": wall, "events_per_s": events as f64 / wall,
        "cost_spread": spread("us_per_operation"), "event_cost_spread": spread("us_per_event"),
        "event_cost_10000_over_1024": at(10_000, "us_per_event") / at(1024, "us_per_event").max(1e-9),
        "events_per_operation_10000_over_1024": events_per_op(10_000) / events_per_op(1024).max(1e-9) }))
}

/// 36 configurations of the baseline: nine (R,W) pairs with N=3, two coordinator strategies,
/// two fan-outs; run on one thread, then on two.
fn sweep(quick: bool) -> Result<Value, Error> {
    let mut configs = Vec::new();
    for (r, w) in [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3)] {
        for c in ["preference_list_head", "client_driven"] {
            for f in ["all", "quorum"] {
                let sets = vec![
                    format!("protocol.r={r}"),
                    format!("protocol.w={w}"),
                    format!("protocol.coordination={c}"),
                    format!("protocol.fanout={f}"),
                    format!("duration_ms={}", if quick { 500 } else { 5000 }),
                    "workload.keys=10000".to_string(),
                ];
                configs.push(load("sweep", BASELINE, &sets)?);
            }
        }
    }
    let run = |jobs: usize| {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let started = Instant::now();
        let events: u64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..jobs)
                .map(|_| {
                    scope.spawn(|| {
                        let mut events = 0;
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(s) = configs.get(i) else { break };
                            events += simulate(s).0;
                        }
                        events
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        (events, started.elapsed().as_secs_f64())
    };
    let (events, one_job) = run(1);
    let (_, two_jobs) = run(2);
    Ok(json!({ "benchmark": "sweep", "configurations": configs.len(), "events": events, "wall_s_1_job": one_job,
        "wall_s_2_jobs": two_jobs, "speedup": one_job / two_jobs, "events_per_s": events as f64 / one_job }))
}

/// Runs one benchmark in this process and returns its figures (with peak memory).
pub fn run_one(name: &str, quick: bool) -> Result<Value, Error> {
    let short = |ms: u64| if quick { vec![format!("duration_ms={ms}")] } else { Vec::new() };
    let mut v = match name {
        // The pending counts the baseline and the large benchmark had while every request's
        // timeout was an event of its own (see BENCHMARKS.md).
        "queue" => queue("queue", 32_000, if quick { 1_000_000 } else { 20_000_000 }),
        "queue-large" => queue("queue-large", 320_000, if quick { 1_000_000 } else { 20_000_000 }),
        "model" => model(quick)?,
        "scaling" => scaling(quick)?,
        "cart" => one("cart", CART, &short(2000))?,
        "baseline" => one("baseline", BASELINE, &short(5000))?,
        "large" => one("large", LARGE, &short(500))?,
        "hour" => one("hour", HOUR, &short(60_000))?,
        "day" => one("day", HOUR, &day(quick))?,
        "sweep" => sweep(quick)?,
        other => return Err(Error::Usage(format!("unknown benchmark \"{other}\"; expected one of {}", NAMES.join(", ")))),
    };
    v["peak_rss_mib"] = json!(peak_rss_bytes() as f64 / (1024.0 * 1024.0));
    v["bytes_per_pending_event"] = json!(crate::world::pending_event_bytes());
    // A stored replica version: the sibling itself, plus its share of the version set.
    v["bytes_per_replica_version"] = json!(
        std::mem::size_of::<crate::node::versioning::Sibling>() + std::mem::size_of::<crate::node::versioning::VersionSet>()
    );
    v["build"] = json!(crate::report::build_kind());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded benchmark scenarios stay valid and simulate: a few simulated milliseconds
    /// of each do work and complete operations.
    #[test]
    fn the_protocol_benchmarks_load_and_run() {
        for (name, text) in
            [("model", QUORUM_MODEL), ("cart", CART), ("baseline", BASELINE), ("large", LARGE), ("hour", HOUR), ("day", HOUR)]
        {
            let mut sets = if name == "day" { day(false) } else { Vec::new() };
            sets.push("duration_ms=40".to_string());
            let v = one(name, text, &sets).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(v["events"].as_u64().unwrap_or(0) > 0, "{name}: {v}");
            assert!(v["operations"].as_u64().unwrap_or(0) > 0, "{name}: {v}");
            assert!(v["simulated_s"].as_f64().is_some_and(|s| s < 2.0), "{name}: the shortened run: {v}");
        }
    }

    #[test]
    fn the_scaling_row_runs_every_size() {
        let v = scaling(true).expect("the scaling row runs");
        let sizes = v["sizes"].as_array().expect("sizes");
        assert_eq!(sizes.iter().map(|s| s["nodes"].as_u64().unwrap_or(0)).collect::<Vec<_>>(), [16, 128, 1024, 10_000]);
        assert!(sizes.iter().all(|s| s["operations"].as_u64().unwrap_or(0) > 1000), "{v}");
        for spread in ["cost_spread", "event_cost_spread"] {
            assert!(v[spread].as_f64().is_some_and(|x| x >= 1.0 && x.is_finite()), "{spread}: {v}");
        }
    }

    /// The model row prices dynasim against a reference doing the same work: the same events
    /// per operation, and a ratio that is a real measurement.
    #[test]
    fn the_model_row_compares_like_with_like() {
        let v = model(true).expect("the model row runs");
        let (ours, theirs) =
            (v["events_per_operation"].as_f64().unwrap_or(0.0), v["reference_events_per_operation"].as_f64().unwrap_or(0.0));
        assert!((ours - theirs).abs() < 0.1 * theirs, "{ours} against {theirs} events per operation");
        // The same clients, latencies and quorums: the same operations per simulated second.
        let simulated = v["simulated_s"].as_f64().unwrap_or(0.0);
        let per_simulated_s = v["operations"].as_f64().unwrap_or(0.0) / simulated;
        assert!((25_000.0..36_000.0).contains(&per_simulated_s), "{per_simulated_s}");
        assert!(v["ratio_to_reference"].as_f64().is_some_and(|r| r > 0.0 && r.is_finite()), "{v}");
    }
}
