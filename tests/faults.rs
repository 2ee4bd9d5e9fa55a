//! Scheduled faults: crash and restart, partition and heal.

mod common;
use common::*;

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
