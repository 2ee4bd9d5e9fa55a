//! The trace and the determinism self-check.

use crate::common;
use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

fn tmp(name: &str) -> common::Scratch {
    common::Scratch::new("trace", name)
}

fn trace(name: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let path = tmp(name);
    let out = tmp("out");
    let mut args =
        vec!["run", "scenarios/node-crash-under-load.json", "--set", "duration_ms=3000", "--out", &out, "-q", "--trace", &path];
    args.extend_from_slice(extra);
    let o = dynasim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let events = std::fs::read_to_string(&path)
        .expect("trace written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    events
}

#[test]
fn the_trace_is_byte_identical_between_runs_of_a_seed() {
    let (a, b) = (tmp("a"), tmp("b"));
    for p in [&a, &b] {
        let o = dynasim(&[
            "run",
            "scenarios/node-crash-under-load.json",
            "--set",
            "duration_ms=3000",
            "--out",
            &tmp("o"),
            "-q",
            "--trace",
            p,
        ]);
        assert_eq!(o.status.code(), Some(0));
    }
    let (x, y) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(x.len() > 100_000, "a full trace of a busy run is large");
    assert!(x == y, "two traces of one seed differ");
    assert!(!std::path::Path::new(&format!("{a}.partial")).exists());
}

#[test]
fn trace_lines_carry_time_verb_and_message_fields_and_filters_apply() {
    let all = trace("all", &[]);
    let verbs: std::collections::BTreeSet<&str> = all.iter().filter_map(|e| e["verb"].as_str()).collect();
    for v in ["send", "deliver", "drop", "timer", "crash", "reply"] {
        assert!(verbs.contains(v), "no {v} in {verbs:?}");
    }
    let first = all.iter().find(|e| e["verb"] == "send").expect("a send");
    assert!(first["t_ns"].is_u64() && first["msg"].is_u64() && first["from"].is_string() && first["to"].is_string());
    assert!(all.windows(2).all(|w| w[0]["t_ns"].as_u64() <= w[1]["t_ns"].as_u64()), "in time order");
    let one_key = trace("key", &["--trace-key", "k12"]);
    assert!(!one_key.is_empty() && one_key.iter().all(|e| e["key"] == "k12"));
    let one_node = trace("node", &["--trace-node", "n0", "--trace-kind", "drop"]);
    assert!(!one_node.is_empty());
    assert!(one_node.iter().all(|e| e["verb"] == "drop" && (e["to"] == "n0" || e["from"] == "n0" || e["node"] == "n0")));
    assert!(one_node.iter().any(|e| e["outcome"] == "down"), "messages to the crashed node are dropped");
    let window = trace("window", &["--trace-from-ms", "1000", "--trace-to-ms", "1001"]);
    let in_window = |e: &&serde_json::Value| (1_000_000_000..=1_001_000_000).contains(&e["t_ns"].as_u64().unwrap_or(0));
    assert!(!window.is_empty() && window.iter().all(|e| in_window(&e)));
    // Exactly the full trace's events of that millisecond, none lost at either edge.
    let expected: Vec<&serde_json::Value> = all.iter().filter(in_window).collect();
    assert_eq!(window.iter().collect::<Vec<_>>(), expected);
}

#[test]
fn the_determinism_self_check_passes_on_shipped_scenarios() {
    let o = dynasim(&[
        "check",
        "--determinism",
        "scenarios/quickstart.json",
        "scenarios/nemesis-dynamo.json",
        "--seeds",
        "1..2",
        "--set",
        "duration_ms=2000",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.ends_with("4 passed, 0 failed\n"), "{out}");
}

#[test]
fn an_unwritable_trace_is_an_io_error() {
    // A folder that cannot exist: its parent is a file.
    let file = tmp("not-a-folder");
    std::fs::write(&file, "x").expect("write");
    let trace = format!("{file}/t.jsonl");
    let o = dynasim(&["run", "scenarios/quickstart.json", "--set", "duration_ms=100", "--out", &tmp("o2"), "--trace", &trace]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("t.jsonl: cannot write") && !e.contains("s wall"), "checked before the run: {e}");
}

#[test]
fn explore_lists_failing_seeds_with_replay_commands_that_reproduce_them() {
    let healthy = dynasim(&[
        "explore",
        "scenarios/nemesis-dynamo.json",
        "--seeds",
        "1..6",
        "--set",
        "duration_ms=4000",
        "--set",
        "nemesis.stop_ms=4000",
    ]);
    assert_eq!(healthy.status.code(), Some(0), "{}", String::from_utf8_lossy(&healthy.stdout));
    let weak = dynasim(&[
        "explore",
        "scenarios/nemesis-dynamo.json",
        "--seeds",
        "1..12",
        "--set",
        "protocol.anti_entropy=false",
        "--set",
        "protocol.hinted_handoff=false",
    ]);
    assert_eq!(weak.status.code(), Some(1));
    let out = String::from_utf8_lossy(&weak.stdout);
    let replay = out.lines().find_map(|l| l.trim().strip_prefix("replay: dynasim run ")).expect("a replay line");
    // The replay's --set values are shell-quoted; undo that to run it directly.
    let mut args = vec!["check".to_string()];
    let mut parts = replay.split(" --set ");
    let head: Vec<&str> = parts.next().unwrap_or_default().split(' ').collect();
    args.push(head[0].to_string());
    args.push("--seeds".into());
    args.push(head[2].to_string());
    for p in parts {
        args.push("--set".into());
        args.push(p.trim_matches('\'').to_string());
    }
    let again = dynasim(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(again.status.code(), Some(1), "the replay reproduces the failure: {}", String::from_utf8_lossy(&again.stdout));
    let no_menu = dynasim(&["explore", "scenarios/quickstart.json", "--seeds", "1..2"]);
    assert_eq!(no_menu.status.code(), Some(2));
}

#[test]
fn explain_tells_a_keys_story_and_marks_lost_writes() {
    let o = dynasim(&["explain", "scenarios/carts-cassandra.json", "--key", "k0", "--set", "duration_ms=2000", "--events", "5"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for section in ["acknowledged writes (oracle):", "at the end (", "events touching k0 (5 shown"] {
        assert!(out.contains(section), "missing {section}: {out}");
    }
    assert!(out.contains("LOST: no version any node holds reflects it"), "last-write-wins loses some of k0's writes: {out}");
    assert!(out.contains("(replica) holds ["));
    let bad = dynasim(&["explain", "scenarios/quickstart.json", "--key", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn shrink_writes_a_smaller_scenario_that_still_fails_the_same_way() {
    let out = tmp("shrunk.json");
    let o = dynasim(&[
        "shrink",
        "scenarios/node-crash-under-load.json",
        "--set",
        "protocol.hinted_handoff=false",
        "--set",
        "protocol.anti_entropy=false",
        "--set",
        "workload.client_timeout_ms=2000",
        "--set",
        "workload.client_retries=0",
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("before: 6000 ms") && text.contains("after: "), "{text}");
    assert!(text.contains("still fails: convergence"), "{text}");
    // The same key as the original failure, not another one that shrinking stumbled on.
    let key_of = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)?.split(':').next().map(str::to_string));
    let (before, after) = (key_of("convergence on "), key_of("still fails: convergence on "));
    assert!(before.is_some() && before == after, "{text}");
    // The same mechanism too: dropping the restart would leave n0 down at the end, a different
    // and trivial failure, so that step is refused.
    assert_eq!(text.matches("(replicas missing versions)").count(), 2, "{text}");
    let shrunk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert!(shrunk["faults"].as_array().is_some_and(|f| f.iter().any(|f| f["kind"] == "restart")), "{shrunk}");
    let clients = shrunk["workload"]["arrivals"]["clients"].as_u64().unwrap_or(99);
    let smaller = shrunk["duration_ms"].as_f64().unwrap_or(1e9) < 6000.0
        || clients < 20
        || shrunk["workload"]["keys"].as_u64().unwrap_or(999) < 300;
    assert!(smaller, "nothing was reduced: {shrunk}");
    let replay = dynasim(&["check", &out]);
    assert_eq!(replay.status.code(), Some(1), "the shrunk scenario still fails");
    let healthy = dynasim(&["shrink", "scenarios/quickstart.json", "--set", "duration_ms=500", "--out", &tmp("none.json")]);
    assert!(String::from_utf8_lossy(&healthy.stdout).contains("nothing to shrink"));
}

#[test]
fn explore_lists_the_same_failures_whatever_the_number_of_jobs() {
    let run = |jobs: &str| {
        let o = dynasim(&[
            "explore",
            "scenarios/nemesis-dynamo.json",
            "--seeds",
            "1..8",
            "--jobs",
            jobs,
            "--set",
            "protocol.anti_entropy=false",
        ]);
        assert_eq!(o.status.code(), Some(1), "anti-entropy off fails some seed within 8");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let one = run("1");
    assert!(one.contains("FAIL "), "{one}");
    assert_eq!(one, run("2"));
}
