//! Shrinking a failing run: simpler scenarios that still fail the same way.
//!
//! Greedy to a fixpoint: try each reduction (drop a declared fault, the probe, a nemesis kind
//! or the nemesis; halve the nemesis rate, the duration, the quiet tail, the clients, the keys
//! or the arrival rate; take the default at one of a schedule's choices; remove one client or
//! the last node) and keep it if the run still
//! violates the same invariant, with the same signature (which mechanism failed: replicas
//! missing versions is not the same failure as hints still queued), on the same key when the
//! violation names one and that key still exists. The quiet tail is not cut below the time the
//! scenario's repairs need to act once (a hint scan, an anti-entropy round, a gossip round, a
//! request timeout), so a divergence is never traded for a tail too short to mend anything.
//! Reductions the scenario rules reject are skipped. The same seed is used throughout, so every
//! step replays exactly.

use crate::observe::checks::{self, Violation};
use crate::scenario::{self, Scenario};
use crate::sim::schedule::{format_choices, parse_choices, ChoiceKind};
use serde_json::Value;

/// What shrinking keeps failing.
#[derive(Clone, Debug)]
pub struct Target {
    pub invariant: &'static str,
    /// See [`checks::signature`].
    pub signature: &'static str,
    pub key: Option<String>,
}

/// Runs a candidate; its violation of the target, if it still fails that way.
pub fn fails(file: &str, tree: &Value, seed: u64, target: &Target) -> Option<(Scenario, Violation)> {
    let text = serde_json::to_string(tree).ok()?;
    let s = scenario::load(file, &text, &[]).ok()?;
    let r = crate::simulate(&s, seed).ok()?;
    let rep = crate::report::build(&s, seed, &r);
    // The same invariant with the same signature on the same key: a candidate that fails some
    // other way, or on another key (say once halving the key space removed the original one),
    // is not kept.
    let v = checks::evaluate(&s, &r, &rep).into_iter().find(|v| {
        v.invariant == target.invariant
            && checks::signature(v, &r) == target.signature
            && match &target.key {
                // The key may still fail without being the first one named.
                Some(want) => v.key.as_deref() == Some(want.as_str()) || v.message.contains(&format!("{want} ")),
                None => true,
            }
    })?;
    Some((s, v))
}

/// The quiet tail below which no repair could act even once: the longest of a hint scan, an
/// anti-entropy round, a gossip round and a request timeout, in milliseconds.
pub fn repair_floor_ms(s: &Scenario) -> f64 {
    let p = &s.protocol;
    let mut floor = p.gossip_interval.max(p.request_timeout);
    if p.hinted_handoff {
        floor = floor.max(p.hint_scan_interval);
    }
    if p.anti_entropy {
        floor = floor.max(p.anti_entropy_interval);
    }
    floor.as_millis_f64()
}

/// The number at `path`, if there is one.
fn number(tree: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(tree, |cur, p| cur.get(*p))?.as_f64()
}

/// Sets the number at `path` to `x` (floored if it was an integer); the value written, or
/// `None` if there is no number there.
fn set_number(tree: &mut Value, path: &[&str], x: f64) -> Option<f64> {
    let cur = path.iter().try_fold(&mut *tree, |cur, p| cur.get_mut(*p))?;
    if !cur.is_number() {
        return None;
    }
    let integer = cur.is_u64();
    *cur = if integer { Value::from(x.floor() as u64) } else { Value::from(x) };
    Some(if integer { x.floor() } else { x })
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

/// Every one-step reduction of `tree`, each with what it removed; the quiet tail is not cut
/// below `tail_floor_ms`.
fn candidates(tree: &Value, tail_floor_ms: f64) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(faults) = tree["faults"].as_array() {
        for (i, fault) in faults.iter().enumerate() {
            let mut t = tree.clone();
            if let Some(a) = t.get_mut("faults").and_then(|f| f.as_array_mut()) {
                a.remove(i);
            }
            out.push((format!("dropped fault {i}: {fault}"), t));
        }
    }
    for (section, what) in [("probe", "dropped the probe"), ("nemesis", "dropped the nemesis")] {
        if tree.get(section).is_some_and(|n| !n.is_null()) {
            let mut t = tree.clone();
            if let Some(o) = t.as_object_mut() {
                o.remove(section);
            }
            out.push((what.into(), t));
        }
    }
    if let Some(kinds) = tree["nemesis"]["kinds"].as_array().filter(|k| k.len() > 1) {
        for (i, kind) in kinds.iter().enumerate() {
            let mut t = tree.clone();
            if let Some(a) = t.get_mut("nemesis").and_then(|n| n.get_mut("kinds")).and_then(|k| k.as_array_mut()) {
                a.remove(i);
            }
            out.push((format!("dropped nemesis kind {kind}"), t));
        }
    }
    let tail_min = tail_floor_ms.min(number(tree, &["quiescent_tail_ms"]).unwrap_or(0.0)).max(1.0);
    for (what, path, min, unit) in [
        ("the nemesis rate", &["nemesis", "rate_per_s"][..], 0.01, " per s"),
        ("the duration", &["duration_ms"][..], 1.0, " ms"),
        ("the quiet tail", &["quiescent_tail_ms"][..], tail_min, " ms"),
        ("the clients", &["workload", "arrivals", "clients"][..], 1.0, ""),
        ("the keys", &["workload", "keys"][..], 1.0, ""),
        ("the arrival rate", &["workload", "arrivals", "rate_per_s"][..], 1.0, " per s"),
    ] {
        let Some(x) = number(tree, path) else { continue };
        let mut t = tree.clone();
        if let Some(half) = set_number(&mut t, path, x / 2.0).filter(|&half| half >= min) {
            fit_to_run(&mut t);
            out.push((format!("halved {what}: {x}{unit} to {half}{unit}"), t));
        }
    }
    // A shorter run with the faults at the same fractions of it, so a restart is not cut off.
    if let (Some(duration), Some(faults)) = (number(tree, &["duration_ms"]), tree["faults"].as_array().filter(|f| !f.is_empty()))
    {
        let mut t = tree.clone();
        let _ = set_number(&mut t, &["duration_ms"], duration / 2.0);
        let times: Vec<f64> = faults.iter().filter_map(|f| f["at_ms"].as_f64()).collect();
        if duration / 2.0 >= 1.0 && times.len() == faults.len() {
            for (i, at) in times.iter().enumerate() {
                t["faults"][i]["at_ms"] = Value::from(at / 2.0);
            }
            fit_to_run(&mut t);
            out.push((format!("halved the duration and every fault's time: {duration} ms to {} ms", duration / 2.0), t));
        }
    }
    // A schedule's choices, each departure from the default tried back at the default.
    if let Some(list) = tree["schedule"]["choices"].as_str().and_then(|t| parse_choices(t).ok()) {
        let kinds: Vec<ChoiceKind> = list.iter().map(|c| c.0).collect();
        for (i, &(kind, value)) in list.iter().enumerate().filter(|(_, c)| c.1 != 0) {
            let mut values: Vec<u32> = list.iter().map(|c| c.1).collect();
            values[i] = 0;
            let last = values.iter().rposition(|&v| v != 0).map_or(0, |j| j + 1);
            let mut t = tree.clone();
            t["schedule"]["choices"] = Value::from(format_choices(&values[..last], &kinds[..last]));
            out.push((format!("took the default at schedule choice {} (was {kind:?} {value})", i + 1), t));
        }
    }
    if let Some(clients) = number(tree, &["workload", "arrivals", "clients"]).filter(|&c| c > 1.0) {
        let mut t = tree.clone();
        if set_number(&mut t, &["workload", "arrivals", "clients"], clients - 1.0).is_some() {
            out.push((format!("removed a client: {clients} to {}", clients - 1.0), t));
        }
    }
    if let Some(n) = tree["cluster"]["nodes"].as_u64().filter(|&n| n > 1) {
        let mut t = tree.clone();
        t["cluster"]["nodes"] = Value::from(n - 1);
        out.push((format!("removed the last node: n{}", n - 1), t));
    }
    out
}

/// Shrinks to a fixpoint within `budget` runs; returns the smallest failing tree and what each
/// kept step removed.
pub fn shrink(file: &str, tree: Value, seed: u64, target: &Target, tail_floor_ms: f64, budget: usize) -> (Value, Vec<String>) {
    let mut best = tree;
    let mut steps = Vec::new();
    let mut runs = 0;
    'outer: loop {
        for (what, candidate) in candidates(&best, tail_floor_ms) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quiet_tail_is_not_halved_below_the_repair_floor() {
        let tree = serde_json::json!({ "duration_ms": 1000, "quiescent_tail_ms": 800, "workload": { "keys": 10 } });
        let cut = |floor: f64| candidates(&tree, floor).into_iter().any(|(what, _)| what.starts_with("halved the quiet tail"));
        assert!(cut(400.0), "800 ms halves to 400, the floor");
        assert!(!cut(500.0), "not below a 500 ms floor");
        let (what, halved) =
            candidates(&tree, 0.0).into_iter().find(|(w, _)| w.starts_with("halved the keys")).expect("keys halve");
        assert_eq!(what, "halved the keys: 10 to 5");
        assert_eq!(halved["workload"]["keys"], 5);
    }
}
