//! Shrinking a failing run: simpler scenarios that still break the same invariant.
//!
//! Greedy to a fixpoint: try each reduction (drop a declared fault, drop a nemesis kind, halve
//! the nemesis rate, the duration, the quiet tail, the clients or the keys, remove the last
//! node) and keep it if the run still violates the same invariant (on the same key, when the
//! violation names one and that key still exists). Reductions the scenario rules reject are
//! skipped. The same seed is used throughout, so every step replays exactly.

use crate::observe::checks::{self, Violation};
use crate::scenario::{self, Scenario};
use serde_json::Value;

/// What shrinking keeps failing.
#[derive(Clone, Debug)]
pub struct Target {
    pub invariant: &'static str,
    pub key: Option<String>,
}

/// Runs a candidate; its violation of the target, if it still fails that way.
pub fn fails(file: &str, tree: &Value, seed: u64, target: &Target) -> Option<(Scenario, Violation)> {
    let text = serde_json::to_string(tree).ok()?;
    let s = scenario::load(file, &text, &[]).ok()?;
    let r = crate::simulate(&s, seed).ok()?;
    let rep = crate::report::build(&s, seed, &r);
    // The same invariant on the same key: a candidate that fails some other way, or on another
    // key (say once halving the key space removed the original one), is not kept.
    let v = checks::evaluate(&s, &r, &rep).into_iter().find(|v| {
        v.invariant == target.invariant
            && match &target.key {
                // The key may still fail without being the first one named.
                Some(want) => v.key.as_deref() == Some(want.as_str()) || v.message.contains(&format!("{want} ")),
                None => true,
            }
    })?;
    Some((s, v))
}

fn halve(tree: &mut Value, path: &[&str], min: f64) -> bool {
    let mut cur = &mut *tree;
    for p in path {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    match cur.as_f64() {
        Some(x) if x / 2.0 >= min => {
            *cur = if cur.is_u64() { Value::from((x / 2.0).floor() as u64) } else { Value::from(x / 2.0) };
            true
        }
        _ => false,
    }
}

/// After the run got shorter: the nemesis stops by its end, and faults past it are dropped.
/// (`get_mut`, not indexing: indexing a missing field would insert a null.)
fn fit_to_run(t: &mut Value) {
    let end = t["duration_ms"].as_f64().unwrap_or(0.0) + t["quiescent_tail_ms"].as_f64().unwrap_or(0.0);
    let duration = t["duration_ms"].as_f64().unwrap_or(0.0);
    if let Some(nemesis) = t.get_mut("nemesis").and_then(|n| n.as_object_mut()) {
        let stop = nemesis.get("stop_ms").and_then(|s| s.as_f64()).unwrap_or(f64::INFINITY);
        if stop > duration {
            nemesis.insert("stop_ms".into(), Value::from(duration));
        }
    }
    if let Some(faults) = t.get_mut("faults").and_then(|f| f.as_array_mut()) {
        faults.retain(|f| f["at_ms"].as_f64().is_some_and(|at| at <= end));
    }
}

/// Every one-step reduction of `tree`.
fn candidates(tree: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(faults) = tree["faults"].as_array() {
        for i in 0..faults.len() {
            let mut t = tree.clone();
            if let Some(a) = t.get_mut("faults").and_then(|f| f.as_array_mut()) {
                a.remove(i);
            }
            out.push((format!("drop fault {i}"), t));
        }
    }
    if let Some(kinds) = tree["nemesis"]["kinds"].as_array().filter(|k| k.len() > 1) {
        for (i, kind) in kinds.iter().enumerate() {
            let mut t = tree.clone();
            if let Some(a) = t.get_mut("nemesis").and_then(|n| n.get_mut("kinds")).and_then(|k| k.as_array_mut()) {
                a.remove(i);
            }
            out.push((format!("drop nemesis kind {kind}"), t));
        }
    }
    if tree.get("nemesis").is_some_and(|n| !n.is_null()) {
        let mut t = tree.clone();
        if let Some(o) = t.as_object_mut() {
            o.remove("nemesis");
        }
        out.push(("drop the nemesis".into(), t));
    }
    for (what, path, min) in [
        ("halve the nemesis rate", &["nemesis", "rate_per_s"][..], 0.01),
        ("halve the duration", &["duration_ms"][..], 1.0),
        ("halve the quiet tail", &["quiescent_tail_ms"][..], 1.0),
        ("halve the clients", &["workload", "arrivals", "clients"][..], 1.0),
        ("halve the keys", &["workload", "keys"][..], 1.0),
    ] {
        let mut t = tree.clone();
        if halve(&mut t, path, min) {
            fit_to_run(&mut t);
            out.push((what.into(), t));
        }
    }
    if let Some(n) = tree["cluster"]["nodes"].as_u64().filter(|&n| n > 1) {
        let mut t = tree.clone();
        t["cluster"]["nodes"] = Value::from(n - 1);
        out.push(("remove the last node".into(), t));
    }
    out
}

/// Shrinks to a fixpoint; returns the smallest failing tree and the steps taken.
pub fn shrink(file: &str, tree: Value, seed: u64, target: &Target, budget: usize) -> (Value, Vec<String>) {
    let mut best = tree;
    let mut steps = Vec::new();
    let mut runs = 0;
    'outer: loop {
        for (what, candidate) in candidates(&best) {
            if runs >= budget {
                break 'outer;
            }
            runs += 1;
            if fails(file, &candidate, seed, target).is_some() {
                best = candidate;
                steps.push(what);
                continue 'outer;
            }
        }
        break;
    }
    (best, steps)
}
