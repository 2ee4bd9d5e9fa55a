//! Mutated shipped scenarios: whatever the file says, dynasim ends with a report
//! or a clear error naming the file and the field, never a panic. Each mutant changes one to
//! three values of a shipped scenario to an edge (zero, negative, tiny, huge, another type) or
//! turns an object into a list, empties a list or drops a field. Mutants that validate and
//! fit a test's budget (a short run on a small cluster) are simulated too; `dynasim run`
//! bounds the rest (see docs/scenarios.md, Limits).

use dynasim::scenario;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};

const MUTANTS: usize = 1500;

struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn paths(v: &Value, here: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| paths(x, [here.clone(), vec![k.clone()]].concat(), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| paths(x, [here.clone(), vec![i.to_string()]].concat(), out)),
        _ => {}
    }
    out.push(here);
}

fn at<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match v {
        Value::Object(m) => m.get_mut(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn mutate(tree: &mut Value, draw: &mut Draw) {
    let numbers = [0.0, -1.0, 1.0, 2.0, 1e-9, 1e-12, 1e30, 1e308, 0.5, 1e5, 4096.0, 2f64.powi(31), 2f64.powi(63), -1e30, 3.7];
    for _ in 0..1 + draw.below(3) {
        let mut all = Vec::new();
        paths(tree, Vec::new(), &mut all);
        // The format number has tests of its own; a mutant of it is only ever refused.
        all.retain(|p| p.first().is_none_or(|f| f != "format"));
        let path = all[draw.below(all.len())].clone();
        let Some(v) = at(tree, &path) else { continue };
        let coin = draw.below(10);
        *v = match v {
            Value::Number(_) if coin < 8 => serde_json::json!(numbers[draw.below(numbers.len())]),
            Value::Number(_) => {
                [Value::Null, Value::from("x"), Value::Array(vec![]), serde_json::json!({})][draw.below(4)].clone()
            }
            Value::String(_) => ["", "bogus", "n999", "dc9"].map(Value::from)[draw.below(4)].clone(),
            Value::Array(a) if coin < 5 => Value::Array(Vec::new()),
            Value::Array(a) => Value::Array(a.iter().cycle().take(a.len() * 3).cloned().collect()),
            Value::Object(m) if coin < 4 && !m.is_empty() => {
                let mut m = m.clone();
                let key = m.keys().nth(draw.below(m.len())).cloned().unwrap_or_default();
                m.remove(&key);
                Value::Object(m)
            }
            Value::Object(m) if coin < 7 => Value::Array(m.values().cloned().collect()),
            Value::Object(_) => serde_json::json!({}),
            _ => serde_json::json!(numbers[draw.below(numbers.len())]),
        };
    }
}

/// Shrinks a shipped scenario's timeline to about 300 ms (every time at which something
/// happens, scaled alike), so that its mutants are quick to simulate.
fn shorten(tree: &mut Value) {
    let duration = tree["duration_ms"].as_f64().unwrap_or(300.0);
    scale(tree, (300.0 / duration).min(1.0));
}

fn scale(v: &mut Value, factor: f64) {
    const TIMES: [&str; 7] = ["at_ms", "duration_ms", "quiescent_tail_ms", "start_ms", "stop_ms", "down_ms", "gap_ms"];
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x.as_f64() {
                    Some(t) if TIMES.contains(&k.as_str()) => *x = serde_json::json!(t * factor),
                    _ => scale(x, factor),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scale(x, factor)),
        _ => {}
    }
}

/// Small enough to simulate inside a test: a short run of a small cluster.
fn fits(s: &scenario::Scenario) -> bool {
    let span = s.duration.as_millis_f64() + s.quiescent_tail.as_millis_f64();
    let ops = match &s.workload.arrivals {
        dynasim::scenario::workload::Arrivals::Open { rate_per_s, .. } => rate_per_s * span / 1000.0,
        dynasim::scenario::workload::Arrivals::Closed { clients, .. } => *clients as f64 * span,
    };
    span <= 1000.0 && s.nodes.len() <= 64 && ops <= 2e5 && s.workload.key_count <= 1_000_000
}

#[test]
fn no_mutated_scenario_panics_and_every_rejection_names_the_file_and_field() {
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut shipped: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            let mut tree: Value = serde_json::from_str(&text).expect("shipped scenarios are JSON");
            shorten(&mut tree);
            (p.display().to_string(), tree)
        })
        .collect();
    shipped.sort_by(|a, b| a.0.cmp(&b.0));
    let mut draw = Draw(20);
    let (mut rejected, mut simulated) = (0, 0);
    for i in 0..MUTANTS {
        let (file, base) = &shipped[draw.below(shipped.len())];
        let mut tree = base.clone();
        mutate(&mut tree, &mut draw);
        let text = serde_json::to_string_pretty(&tree).expect("serialise");
        let outcome = catch_unwind(AssertUnwindSafe(|| match scenario::load(file, &text, &[]) {
            Err(e) => {
                assert_eq!(e.file, *file);
                assert!(e.position.is_some(), "mutant {i}: an error without a line and column: {e}");
                assert!(!e.message.is_empty() && !e.message.contains("Raw"), "mutant {i}: {e}");
                (1, 0)
            }
            Ok(s) if fits(&s) => {
                if let Ok(r) = dynasim::simulate(&s, s.seed) {
                    dynasim::report::build(&s, s.seed, &r);
                    let estimate = scenario::cost::estimate(&s).events();
                    assert!(
                        within_estimate(&s, r.events_processed),
                        "mutant {i}: {} events, estimate {estimate}",
                        r.events_processed
                    );
                }
                (0, 1)
            }
            Ok(_) => (0, 0),
        }));
        match outcome {
            Ok((r, s)) => (rejected, simulated) = (rejected + r, simulated + s),
            Err(_) => panic!("mutant {i} of {file} panicked; its text:\n{text}"),
        }
    }
    eprintln!("{rejected} rejected, {simulated} simulated of {MUTANTS} mutants");
    // The mutations must reach both stages, or the test checks little.
    assert!(rejected > MUTANTS / 4 && simulated > MUTANTS / 10, "{rejected} rejected, {simulated} simulated of {MUTANTS}");
}

/// Whether a run's events stayed within a small multiple of the estimate it was admitted by.
fn within_estimate(s: &scenario::Scenario, events: u64) -> bool {
    events as f64 <= 4.0 * scenario::cost::estimate(s).events() + 1e4
}

/// Each kind of scenario that once was accepted and could not finish, could not fit, or meant
/// something else than it said: refused naming its field, or run within its estimate.
#[test]
fn costly_and_ambiguous_scenarios_are_refused_by_field_or_finish_within_their_estimate() {
    let refused: &[(&str, &str)] = &[
        (r#"{"duration_ms": 50, "duration\u005fms": 5}"#, "duration_ms"),
        (r#"{"duration_ms": 50, "protocol": {"r": 1, "\u0072": 2}}"#, "protocol.r"),
        (
            r#"{"duration_ms": 50, "network": {"latency": {"kind": "mixture", "components": [
                {"weight": 1e308, "latency": {"kind": "constant", "ms": 1}},
                {"weight": 1e308, "latency": {"kind": "constant", "ms": 100}}]}}}"#,
            "network.latency.components",
        ),
        (r#"{"duration_ms": 50, "membership": {"gossip_interval_ms": 1e-6}}"#, "membership.gossip_interval_ms"),
        (r#"{"duration_ms": 50, "protocol": {"probe_interval_ms": 1e-6}}"#, "protocol.probe_interval_ms"),
        (r#"{"duration_ms": 50, "protocol": {"anti_entropy_interval_ms": 0.01}}"#, "protocol.anti_entropy_interval_ms"),
        (r#"{"duration_ms": 50, "protocol": {"hint_scan_interval_ms": 0.5}}"#, "protocol.hint_scan_interval_ms"),
        (r#"{"duration_ms": 50, "observe": {"divergence_interval_ms": 1e-6}}"#, "observe.divergence_interval_ms"),
        (r#"{"duration_ms": 50, "observe": {"load_window_ms": 1e-6}}"#, "observe.load_window_ms"),
        (r#"{"duration_ms": 50, "storage": {"kind": "buffered", "flush_interval_ms": 1e-6}}"#, "storage.flush_interval_ms"),
        (r#"{"duration_ms": 1000, "quiescent_tail_ms": 1e12}"#, ""),
        (r#"{"duration_ms": 1e9}"#, "duration_ms"),
        (r#"{"duration_ms": 1e12}"#, "duration_ms"),
        (r#"{"duration_ms": 50, "faults": [{"kind": "crash", "at_ms": 1, "node": "x"}]}"#, "faults.0.node"),
        (r#"{"duration_ms": 50, "faults": [{"kind": "crash", "at_ms": 1}]}"#, "faults.0.node"),
    ];
    for (text, field) in refused {
        let e = scenario::load("t.json", text, &[]).expect_err(text);
        assert!(e.position.is_some(), "{text}: no line and column: {e}");
        assert!(field.is_empty() || e.path == *field, "{text}: {e}");
        for rust in ["usize", "u32", "u64", "f64", "struct", "Raw"] {
            assert!(!e.message.contains(rust), "{text}: names a Rust type: {e}");
        }
    }
    let mut accepted: Vec<String> = [r#""""#, r#""../x""#, r#""a/b""#, r#""/abs""#, r#"".""#]
        .iter()
        .map(|name| format!(r#"{{"name": {name}, "duration_ms": 20}}"#))
        .collect();
    for preset in dynasim::scenario::presets::NAMES {
        accepted.push(format!(r#"{{"preset": "{preset}", "duration_ms": 1, "cluster": {{"nodes": 10000}}}}"#));
    }
    // The nemesis at its bound: 10^6 faults expected.
    accepted.push(
        r#"{"duration_ms": 10000, "workload": {"arrivals": {"kind": "closed", "clients": 1, "think_time": {"kind": "constant", "ms": 100}}},
            "nemesis": {"rate_per_s": 100000, "kinds": ["crash", "partition", "loss_burst"], "fault_duration": {"kind": "constant", "ms": 10}}}"#
            .into(),
    );
    for text in &accepted {
        let s = match scenario::load("t.json", text, &[]) {
            Ok(s) => s,
            // The riak preset's 64 fixed partitions cannot hold 10,000 nodes: the error points
            // at the preset, whose value it is.
            Err(e) if e.path == "ring.partitions" && e.position.is_some() && e.message.contains("riak preset") => continue,
            Err(e) => panic!("{text}: {e}"),
        };
        let name = dynasim::report::folder::folder_name(&s.name);
        assert!(!name.is_empty() && !name.starts_with('.') && !name.contains('/'), "{name}");
        let r = dynasim::simulate(&s, s.seed).unwrap_or_else(|e| panic!("{text}: {e}"));
        let estimate = scenario::cost::estimate(&s).events();
        assert!(within_estimate(&s, r.events_processed), "{text}: {} events, estimate {estimate}", r.events_processed);
    }
}
