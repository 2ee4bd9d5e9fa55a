//! Schedule exploration: a choice list replays a run byte for byte; exhaustive search finds the
//! weak configuration at a small scope and exhausts the healthy one; a bug of message order at
//! one instant, which random seeds never show, is found by exhaustive search and by PCT.

use crate::common::*;
use dynasim::commands::schedule_search::{exhaustive, pct};
use dynasim::node::InjectedBug;
use dynasim::observe::checks;
use dynasim::scenario::Scenario;
use dynasim::sim::schedule::Bounds;
use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

/// Two clients without think time write one key, each write reaching the one coordinator (the
/// key's only replica) at the same instant as the other's, with the injected bug: the writes'
/// order at that instant decides whether one is lost.
fn same_instant_writes() -> Scenario {
    let mut s = scenario(
        r#"{
            "format": 2, "name": "same-instant-writes", "duration_ms": 50, "quiescent_tail_ms": 500,
            "cluster": { "nodes": 2 },
            "protocol": { "n": 1, "r": 1, "w": 1, "coordination": "preference_list_head" },
            "network": { "latency": { "kind": "constant", "ms": 1 } },
            "workload": {
                "keys": 1, "read_fraction": 0, "client_semantics": "blind",
                "value": { "kind": "register", "read_before_write": false },
                "arrivals": { "kind": "closed", "clients": 2, "think_time": { "kind": "constant", "ms": 0 } }
            }
        }"#,
        &[],
    );
    s.protocol.injected_bug = Some(InjectedBug::SameInstantReorderDropsWrite);
    s
}

fn violations(s: &Scenario, seed: u64) -> usize {
    let result = dynasim::simulate(s, seed).expect("runs");
    let report = dynasim::report::build(s, seed, &result);
    checks::evaluate(s, &result, &report).len()
}

#[test]
fn a_bug_random_seeds_miss_is_found_by_exhaustive_search_and_by_pct() {
    let s = same_instant_writes();
    // Ten thousand seeds: ties go in send order in every one, so the bug never shows.
    let failing = (1..=10_000).filter(|&seed| violations(&s, seed) > 0).count();
    assert_eq!(failing, 0, "random seeds found the bug");
    let found = exhaustive(&s, 1, Bounds::default(), true, 1_000).expect("searches");
    let (list, _, v) = found.found.as_ref().expect("exhaustive search finds it");
    assert!(v.iter().any(|v| v.invariant == "no_lost_writes"), "{v:?}");
    assert!(found.schedules <= 2, "{} schedules", found.schedules);
    let by_pct = pct(&s, 1, Bounds::default(), 1, 100).expect("searches");
    assert!(by_pct.found.is_some() && by_pct.schedules <= 10, "PCT finds it: {by_pct:?}");
    assert!(by_pct.pct_bound_per_run.is_some_and(|p| p >= 0.2), "{:?}", by_pct.pct_bound_per_run);
    // Without the bug the same space is exhausted clean.
    let mut healthy = s.clone();
    healthy.protocol.injected_bug = None;
    let clean = exhaustive(&healthy, 1, Bounds::default(), true, 10_000).expect("searches");
    assert!(clean.exhausted && clean.found.is_none(), "{clean:?}");
    assert!(list.starts_with('o'), "an order choice: {list}");
}

const SMALL_W1: &[&str] = &["--exhaustive", "--max-faults", "1"];

#[test]
fn exhaustive_search_finds_w1_at_a_small_scope_and_exhausts_the_healthy_configuration() {
    let o = dynasim(&[&["explore", "scenarios/weak/w1-crash-after-ack-small.json"], SMALL_W1].concat());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("VIOLATION after") && out.contains("no_lost_writes"), "{out}");
    let replay = out.lines().find_map(|l| l.trim().strip_prefix("replay: ")).expect("a replay line").to_string();
    // The healthy configuration of the same scenario: the dynamo preset, R + W > N, and a lost
    // write a failure (the preset only reports them, as its per-version clocks lose some).
    let healthy =
        ["--set", "preset=dynamo", "--set", "protocol.r=2", "--set", "protocol.w=2", "--set", "checks.lost_writes=fail"];
    let o = dynasim(&[&["explore", "scenarios/weak/w1-crash-after-ack-small.json"], SMALL_W1, &healthy].concat());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("exhausted, no violation") && out.contains("schedules/s"), "{out}");
    // The printed command replays the violation, byte for byte each time.
    let args = shell_words(&replay);
    let dir = Scratch::new("schedule", "replay");
    let run = |out: &str| {
        let mut a: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        a.extend(["--out", out, "-q"]);
        let o = dynasim(&a);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(std::path::Path::new(out).join("report.json")).expect("report")
    };
    let (a, b) = (run(&dir.join("a").display().to_string()), run(&dir.join("b").display().to_string()));
    assert_eq!(a, b);
    // dynasim run FILE --seed S --set ... as dynasim check FILE --seeds S --set ...
    let mut check: Vec<&str> = vec!["check", &args[2], "--seeds", &args[4]];
    check.extend(args[5..].iter().map(String::as_str));
    let o = dynasim(&check);
    assert_eq!(o.status.code(), Some(1), "the replay fails the same check: {}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn a_choice_list_that_does_not_fit_the_run_is_an_error() {
    // A drop where the run offers none (no drop budget): the list was made for another run.
    let o = dynasim(&["run", "scenarios/weak/w1-crash-after-ack-small.json", "--set", "schedule={\"choices\":\"d1\"}", "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("does not fit this run: the run offered 0 choice points, and 1 choices after them were not taken"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = dynasim(&["run", "scenarios/weak/w1-crash-after-ack-small.json", "--set", "schedule={\"choices\":\"q1\"}", "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("schedule.choices"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Splits a replay command as a shell would (single quotes only, as dynasim prints them).
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn a_drop_and_a_duplicate_choice_lose_and_copy_exactly_one_message() {
    let totals = |choices: &str| -> (u64, u64) {
        let set = format!("schedule={{\"drops\":1,\"duplicates\":1,\"choices\":\"{choices}\"}}");
        let s = shipped("weak/w1-crash-after-ack-small", &[&set]);
        let report = report(&s);
        let messages = report["messages"].as_object().expect("messages");
        let sum = |field: &str| messages.values().map(|m| u(&m[field])).sum::<u64>();
        (sum("lost_count"), sum("duplicated_count"))
    };
    assert_eq!(totals(""), (0, 0));
    // The first message: its drop point, then (not dropped) its duplicate point.
    assert_eq!(totals("d1"), (1, 0));
    assert_eq!(totals("d0,u1"), (0, 1));
}

#[test]
fn a_found_schedule_feeds_shrink_and_explain() {
    let dir = Scratch::new("schedule", "shrink");
    let out = dir.join("shrunk.json").display().to_string();
    let o = dynasim(&["shrink", "scenarios/weak/w1-crash-after-ack-small.json", "--out", &out]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("still fails: no_lost_writes"), "{text}");
    let shrunk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(shrunk["schedule"]["choices"], "f0x9,f3", "the fault the schedule injects is kept");
    let o = dynasim(&["explain", "scenarios/weak/w1-crash-after-ack-small.json", "--key", "k0"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("LOST") && text.contains("w1 acknowledged"), "{text}");
}

#[test]
fn a_search_reports_its_schedules_states_and_rate_as_json() {
    let o = dynasim(&["explore", "scenarios/weak/w1-crash-after-ack-small.json", "--exhaustive", "--max-faults", "1", "--json"]);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let search = &out["searches"][0];
    assert_eq!(
        (search["seed"].as_u64(), search["schedules"].as_u64(), search["exhausted"].as_bool()),
        (Some(1), Some(4), Some(false))
    );
    assert!(search["schedules_per_second"].as_f64().is_some_and(|r| r > 0.0) && search["pct_bound"].is_null(), "{search}");
    assert_eq!(out["failed"], 1);
}
