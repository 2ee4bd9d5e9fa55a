//! Scheduled faults: crash and restart, partition and heal.

use crate::common::*;

const BASE: &str = r#"{
  "name": "t", "duration_ms": 6000, "quiescent_tail_ms": 500,
  "cluster": { "nodes": 6 },
  "protocol": { "n": 3, "r": 1, "w": 3, "fanout": "quorum", "request_timeout_ms": 100 },
  "network": { "latency": { "kind": "exponential", "mean_ms": 1.0 } },
  "workload": { "keys": 30, "read_fraction": 0.5, "client_timeout_ms": 300,
    "arrivals": { "kind": "closed", "clients": 10, "think_time": { "kind": "exponential", "mean_ms": 2 } } }
}"#;

fn total(rep: &serde_json::Value, field: &str) -> u64 {
    rep["messages"].as_object().expect("messages").values().map(|m| u(&m[field])).sum()
}

#[test]
fn a_crashed_node_drops_traffic_and_keeps_its_store_across_restart() {
    let crash = r#"faults=[{"kind": "crash", "at_ms": 2000, "node": 0}, {"kind": "restart", "at_ms": 4000, "node": 0}]"#;
    let rep = report(&scenario(BASE, &[crash]));
    assert!(total(&rep, "dropped_down_count") > 50, "{}", rep["messages"]);
    // W=3 needs every replica: writes to the crashed node's keys fail while it is down.
    assert!(u(&rep["operations"]["put"]["failure_count"]) > 10);
    // Its clients' requests went to a dead coordinator and timed out at the client.
    assert!(u(&rep["operations"]["get"]["client_timeout_count"]) > 0);
    let faults = rep["faults"].as_array().expect("faults");
    assert_eq!(faults.len(), 2);
    assert!(faults.iter().all(|f| f["took_effect"] == true), "{faults:?}");
    // R=1 reads of keys it heads are served from its own store alone (quorum fan-out asks the
    // coordinator first): had the crash lost the store, reads after the restart would be stale.
    assert!(u(&rep["staleness"]["reads_judged_count"]) > 1000);
    assert_eq!(u(&rep["staleness"]["stale_read_count"]), 0);
}

#[test]
fn a_crash_of_a_node_already_down_is_reported_as_no_effect() {
    let twice = r#"faults=[{"kind": "crash", "at_ms": 100, "node": 1}, {"kind": "crash", "at_ms": 200, "node": 1}]"#;
    let rep = report(&scenario(BASE, &[twice]));
    let faults = rep["faults"].as_array().expect("faults");
    assert_eq!(faults[0]["took_effect"], true);
    assert_eq!(faults[1]["took_effect"], false);
}

#[test]
fn a_partition_cuts_traffic_until_healed() {
    let healthy = report(&scenario(BASE, &["protocol.w=2"]));
    assert_eq!(total(&healthy, "dropped_partition_count"), 0);
    let split = r#"faults=[{"kind": "partition", "at_ms": 1000, "name": "p", "groups": [[0, 1, 2], [3, 4, 5]]}, {"kind": "heal", "at_ms": 3000, "name": "p"}]"#;
    let rep = report(&scenario(BASE, &["protocol.w=2", split]));
    assert!(total(&rep, "dropped_partition_count") > 100);
    assert!(u(&rep["operations"]["put"]["failure_count"]) > 0, "quorums spanning the cut fail");
    // Without the heal the cut persists to the end, so more is dropped.
    let forever = r#"faults=[{"kind": "partition", "at_ms": 1000, "name": "p", "groups": [[0, 1, 2], [3, 4, 5]]}]"#;
    let rep_forever = report(&scenario(BASE, &["protocol.w=2", forever]));
    assert!(total(&rep_forever, "dropped_partition_count") > 2 * total(&rep, "dropped_partition_count"));
}

#[test]
fn a_one_way_partition_drops_only_one_direction() {
    // Node 0 cannot reach the others, but they reach it: its replies to their requests are lost,
    // while what it is sent still arrives.
    let one_way = r#"faults=[{"kind": "partition", "at_ms": 0, "name": "p", "groups": [[0], [1, 2, 3, 4, 5]], "one_way": true}]"#;
    let rep = report(&scenario(BASE, &["protocol.w=2", one_way]));
    let reply_drops =
        u(&rep["messages"]["get_reply"]["dropped_partition_count"]) + u(&rep["messages"]["put_ack"]["dropped_partition_count"]);
    assert!(reply_drops > 0);
    let n0 = &rep["nodes"][0];
    assert!(u(&n0["requests_served_count"]) > 100, "node 0 still receives requests: {n0}");
}

#[test]
fn the_nemesis_draws_its_faults_from_the_seed_and_the_system_heals() {
    let s = shipped("nemesis-dynamo", &[]);
    let a = dynasim::simulate(&s, 3).expect("the run finishes");
    let b = dynasim::simulate(&s, 3).expect("the run finishes");
    let c = dynasim::simulate(&s, 4).expect("the run finishes");
    assert!(a.faults.len() > 10 && a.faults.iter().all(|f| f.generated), "{}", a.faults.len());
    assert_eq!(a.faults, b.faults, "same seed, same faults");
    assert_ne!(a.faults, c.faults, "another seed, other faults");
    // Changing the workload leaves the fault stream alone.
    let other = shipped("nemesis-dynamo", &["workload.read_fraction=0.9", "workload.keys=50"]);
    assert_eq!(dynasim::simulate(&other, 3).expect("the run finishes").faults, a.faults);
    let rep = dynasim::report::build(&s, 3, &a);
    let kinds: Vec<&str> = rep["faults"].as_array().expect("faults").iter().filter_map(|f| f["fault"].as_str()).collect();
    for kind in ["crash", "partition", "loss burst", "slower", "clock of"] {
        assert!(kinds.iter().any(|k| k.contains(kind)), "no {kind} drawn: {kinds:?}");
    }
    assert!(dynasim::observe::checks::evaluate(&s, &a, &rep).is_empty());
}

#[test]
fn a_loss_burst_drops_messages_only_while_it_lasts() {
    let burst = r#"faults=[{"kind": "loss_burst", "at_ms": 2000, "duration_ms": 1000, "loss_probability": 0.5}]"#;
    let rep = report(&scenario(BASE, &["protocol.w=2", "quiescent_tail_ms=0", burst]));
    assert!(total(&rep, "lost_count") > 30, "closed-loop clients stall in timeouts during the burst");
    let none = report(&scenario(BASE, &["protocol.w=2", "quiescent_tail_ms=0"]));
    assert_eq!(total(&none, "lost_count"), 0);
    let faults = rep["faults"].as_array().expect("faults");
    assert_eq!(faults.len(), 2);
    assert!(faults.iter().all(|f| f["took_effect"] == true));
}

#[test]
fn a_slow_node_fault_raises_tail_latency_until_it_is_undone() {
    let slow = r#"faults=[{"kind": "slow", "at_ms": 0, "node": 0, "factor": 50}]"#;
    let restored = r#"faults=[{"kind": "slow", "at_ms": 0, "node": 0, "factor": 50}, {"kind": "slow", "at_ms": 100, "node": 0, "factor": 1}]"#;
    let sets = ["protocol.w=2", "protocol.r=2", "protocol.coordination=preference_list_head", "protocol.sloppy_quorum=false"];
    let p999 =
        |faults: &str| f(&report(&scenario(BASE, &[&sets[..], &[faults]].concat()))["operations"]["get"]["latency_ms"]["p999"]);
    assert!(p999(slow) > 3.0 * p999(restored), "slow {} restored {}", p999(slow), p999(restored));
}

#[test]
fn a_bridge_node_in_no_group_still_reaches_both_sides() {
    let bridged = r#"faults=[{"kind": "partition", "at_ms": 0, "name": "p", "groups": [[0, 1], [3, 4, 5]]}]"#;
    let rep = report(&scenario(BASE, &["protocol.w=2", bridged]));
    assert!(total(&rep, "dropped_partition_count") > 100);
    let s = scenario(BASE, &["protocol.w=2", bridged]);
    let r = dynasim::simulate(&s, s.seed).expect("the run finishes");
    // Node 2 is in no group: it keeps serving everyone, so nothing sent to or by it is cut.
    assert!(u(&rep["nodes"][2]["requests_served_count"]) > 500);
    assert!(r.metrics.drops_by_partition.values().sum::<u64>() > 0);
    let drops = partition_drops(r#"faults=[{"kind": "partition", "at_ms": 0, "name": "p", "groups": [[0, 1], [3, 4, 5]]}]"#);
    assert!(drops.len() > 20 && drops.iter().all(|&(a, b)| a != 2 && b != 2), "{drops:?}");
}

#[test]
fn losing_the_disk_of_a_node_already_down_takes_effect() {
    let faults = r#"faults=[{"kind": "crash", "at_ms": 500, "node": 1}, {"kind": "crash", "at_ms": 600, "node": 1, "lose_disk": true}, {"kind": "restart", "at_ms": 700, "node": 1}]"#;
    let rep = report(&scenario(BASE, &[faults, "duration_ms=1000"]));
    let took: Vec<&serde_json::Value> = rep["faults"].as_array().expect("faults").iter().map(|f| &f["took_effect"]).collect();
    assert_eq!(took, [true, true, true], "{}", rep["faults"]);
}

#[test]
fn partition_names_are_unique() {
    let twice = r#"faults=[{"kind": "partition", "at_ms": 100, "name": "p", "groups": [[0], [1]]}, {"kind": "partition", "at_ms": 200, "name": "p", "groups": [[2], [3]]}]"#;
    let e = dynasim::scenario::load("t.json", BASE, &[twice.to_string()]).expect_err("duplicate name");
    assert_eq!(e.path, "faults.1.name", "{e}");
    assert!(e.message.contains("already used"), "{e}");
}

#[test]
fn a_restart_needs_a_node_that_joined_and_one_that_left_stays_out() {
    let never = r#"faults=[{"kind": "restart", "at_ms": 100, "node": 5}]"#;
    let e = dynasim::scenario::load("t.json", BASE, &[never.to_string(), "cluster.initial_members=[0,1,2,3,4]".to_string()])
        .expect_err("never joined");
    assert_eq!(e.path, "faults.0.node", "{e}");
    let joined = r#"faults=[{"kind": "join", "at_ms": 100, "node": 5, "contact": 0}, {"kind": "crash", "at_ms": 300, "node": 5}, {"kind": "restart", "at_ms": 400, "node": 5}]"#;
    let rep = report(&scenario(BASE, &[joined, "cluster.initial_members=[0,1,2,3,4]", "duration_ms=1000"]));
    assert!(rep["faults"].as_array().expect("faults").iter().all(|f| f["took_effect"] == true), "{}", rep["faults"]);
    // A decommissioned node is out of the ring: restarting it does nothing.
    let left = r#"faults=[{"kind": "leave", "at_ms": 100, "node": 5}, {"kind": "restart", "at_ms": 900, "node": 5}]"#;
    let rep = report(&scenario(BASE, &[left, "duration_ms=1000"]));
    assert_eq!(rep["membership"]["decommissioned"][0]["node"], "n5", "{}", rep["membership"]);
    assert_eq!(rep["faults"][1]["took_effect"], false, "{}", rep["faults"]);
}

/// The (from, to) node pairs of every message a partition dropped, from a trace of the run.
fn partition_drops(faults: &str) -> Vec<(u32, u32)> {
    use dynasim::observe::trace::{TraceFilter, TraceSink, Tracer};
    let s = scenario(BASE, &["protocol.w=2", "duration_ms=2000", faults]);
    let filter = TraceFilter { kind: Some("drop".into()), ..Default::default() };
    let tracer = Tracer::new(filter, TraceSink::Lines { lines: Vec::new(), limit: usize::MAX, dropped: 0 });
    let (_, tracer) = dynasim::simulate_traced(&s, s.seed, tracer).expect("the run finishes");
    let Some(TraceSink::Lines { lines, .. }) = tracer.map(|t| t.sink) else { panic!("no trace") };
    let node = |v: &serde_json::Value| v.as_str().and_then(|n| n.strip_prefix('n')).and_then(|n| n.parse().ok());
    lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|e| e["outcome"] == "partition")
        .filter_map(|e| Some((node(&e["from"])?, node(&e["to"])?)))
        .collect()
}

#[test]
fn a_partition_cuts_both_directions_and_a_one_way_partition_only_its_own() {
    let side = |n: u32| n < 3;
    let two_way = partition_drops(r#"faults=[{"kind": "partition", "at_ms": 0, "name": "p", "groups": [[0, 1, 2], [3, 4, 5]]}]"#);
    assert!(two_way.iter().all(|&(a, b)| side(a) != side(b)), "only messages across the cut are dropped");
    assert!(two_way.iter().filter(|&&(a, _)| side(a)).count() > 20, "from the first group to the second");
    assert!(two_way.iter().filter(|&&(a, _)| !side(a)).count() > 20, "from the second group to the first");
    let one_way = partition_drops(
        r#"faults=[{"kind": "partition", "at_ms": 0, "name": "p", "groups": [[0], [1, 2, 3, 4, 5]], "one_way": true}]"#,
    );
    assert!(one_way.len() > 20, "{}", one_way.len());
    assert!(one_way.iter().all(|&(a, b)| a == 0 && b != 0), "only node 0's messages to the others: {one_way:?}");
}
