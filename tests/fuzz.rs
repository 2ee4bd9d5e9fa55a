//! Mutated shipped scenarios (issue 20): whatever the file says, dynasim ends with a report
//! or a clear error naming the file and the field, never a panic. Each mutant changes one to
//! three values of a shipped scenario to an edge (zero, negative, tiny, huge, another type) or
//! turns an object into a list, empties a list or drops a field. Mutants that validate and
//! fit a test's budget (a short run on a small cluster) are simulated too; `dynasim run`
//! bounds the rest (see README, Limits).

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
                assert!(e.position.is_some() || !e.path.is_empty(), "mutant {i}: an error without a place: {e}");
                assert!(!e.message.is_empty() && !e.message.contains("Raw"), "mutant {i}: {e}");
                (1, 0)
            }
            Ok(s) if fits(&s) => {
                if let Ok(r) = dynasim::simulate(&s, s.seed) {
                    dynasim::report::build(&s, s.seed, &r);
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
