//! Nodes with finite capacity: CPU queues, bytes on the interfaces, background work that costs.

use crate::common::*;

fn p999_get(r: &serde_json::Value) -> f64 {
    f(&r["operations"]["get"]["latency_ms"]["p999"])
}

#[test]
fn the_node_owning_the_most_keys_queues_and_sets_the_tail() {
    // Seed 4 draws a one-token ring whose hottest node is near saturation (98%).
    let run = |tokens: &str| report(&shipped("partitioning-under-load", &["seed=4", tokens]));
    let (one, many) = (run("ring.tokens_per_node=1"), run("ring.tokens_per_node=64"));
    let hottest = |r: &serde_json::Value| f(&r["capacity"]["cpu"]["max_utilisation"]);
    assert!(hottest(&one) > 0.85 && hottest(&many) < 0.75, "{} {}", one["capacity"], many["capacity"]);
    assert!(p999_get(&one) > 1.3 * p999_get(&many), "{} against {}", p999_get(&one), p999_get(&many));
    // Without a CPU cost there is no queue, and tokens per node no longer show in the tail.
    let free =
        |tokens: &str| report(&shipped("partitioning-under-load", &["seed=4", tokens, r#"cluster.capacity={"infinite": true}"#]));
    let (a, b) = (free("ring.tokens_per_node=1"), free("ring.tokens_per_node=64"));
    assert!(p999_get(&a) < 1.1 * p999_get(&b), "{} against {}", p999_get(&a), p999_get(&b));
    assert_eq!(a["capacity"]["model"], "infinite");
}

#[test]
fn bytes_take_time_on_the_interfaces() {
    let put_p50 = |bytes: u32| {
        let r = report(&shipped(
            "quickstart",
            &["duration_ms=1000", &format!(r#"workload.value_bytes={{"kind": "constant", "bytes": {bytes}}}"#)],
        ));
        (f(&r["operations"]["put"]["latency_ms"]["p50"]), u(&r["capacity"]["bytes_sent_count"]))
    };
    let (small, small_bytes) = put_p50(1024);
    let (large, large_bytes) = put_p50(1 << 20);
    // A put carries the object from the client, to each replica and back in a read: a
    // megabyte at 125 MB/s is 8.4 ms a hop, on the sender's interface and the receiver's.
    assert!(large > small + 15.0, "1 KB: {small} ms, 1 MB: {large} ms");
    assert!(large_bytes > 100 * small_bytes, "{small_bytes} against {large_bytes}");
}

#[test]
fn merkle_hashing_costs_cpu_time() {
    let busy = |us: &str| {
        let r = report(&shipped("quickstart", &["duration_ms=1000", &format!("cluster.capacity.cpu_us.merkle_per_key={us}")]));
        f(&r["capacity"]["cpu"]["mean_utilisation"])
    };
    let (free, costly) = (busy("0"), busy("500"));
    assert!(costly > free + 0.01, "{free} against {costly}");
}

#[test]
fn a_join_takes_longer_as_its_data_grows() {
    let size = |bytes: u32| format!(r#"workload.value_bytes={{"kind": "constant", "bytes": {bytes}}}"#);
    let change = |sets: &[&str]| {
        let r = report(&shipped("join-data-volume", sets));
        let c = &r["membership"]["changes"][0];
        (u(&c["transfer_bytes_sent_count"]), f(&c["transfer_duration_ms"]))
    };
    let (small_bytes, small_ms) = change(&[&size(2048)]);
    let (large_bytes, large_ms) = change(&[&size(20480)]);
    // Ten times the data: each sender scans ten times the bytes and streams ten times as many.
    assert!(large_bytes > 9 * small_bytes, "{small_bytes} against {large_bytes} bytes");
    assert!(large_ms > 5.0 * small_ms, "{small_ms} ms against {large_ms} ms");
    // At infinite capacity the same handoff is a few round trips whatever its size.
    let (_, free_ms) = change(&[&size(20480), r#"cluster.capacity={"infinite": true}"#]);
    assert!(free_ms < large_ms / 5.0, "{free_ms} ms at infinite capacity");
}

#[test]
fn admission_control_trades_repair_time_for_the_foreground_tail() {
    let run = |sets: &[&str]| report(&shipped("repair-storm", sets));
    let storm = run(&[]);
    let admitted = run(&[r#"protocol.admission_control={"target_ms": 1}"#]);
    let drained = |r: &serde_json::Value| f(&r["convergence"]["hints_drained_after_last_fault_ms"]);
    assert!(p999_get(&admitted) * 2.0 < p999_get(&storm), "{} against {}", p999_get(&admitted), p999_get(&storm));
    assert!(drained(&admitted) > drained(&storm), "{} against {}", drained(&admitted), drained(&storm));
    assert!(u(&admitted["protocol_counters"]["background_deferred_count"]) > 0);
    assert_eq!(u(&storm["protocol_counters"]["background_deferred_count"]), 0);
    assert_eq!(admitted["convergence"]["converged"], true, "{}", admitted["convergence"]);
}

#[test]
fn replica_reads_wait_on_the_disk_unless_the_buffer_holds_the_key() {
    // Few keys, so that almost every get finds its key written (a missing key reads nothing).
    let run =
        |storage: &str| report(&shipped("quickstart", &["duration_ms=1000", "workload.keys=20", &format!("storage={storage}")]));
    let memory = run(r#"{"kind": "durable"}"#);
    let disk = run(r#"{"kind": "durable", "read_time": {"kind": "constant", "ms": 5}}"#);
    let buffered = run(r#"{"kind": "buffered", "flush_interval_ms": 500, "read_time": {"kind": "constant", "ms": 5}}"#);
    let p50 = |r: &serde_json::Value| f(&r["operations"]["get"]["latency_ms"]["p50"]);
    let reads = |r: &serde_json::Value| u(&r["storage"]["disk_read_count"]);
    // Every replica a get asks reads the object from its disk, the coordinator's own included.
    assert!(p50(&memory) < 5.0 && p50(&disk) >= 5.0, "{} against {} ms", p50(&memory), p50(&disk));
    assert!(f(&disk["capacity"]["disk"]["mean_utilisation"]) > 0.0, "{}", disk["capacity"]);
    assert_eq!(f(&memory["capacity"]["disk"]["mean_utilisation"]), 0.0);
    // A key written since the last flush is read from the buffer (Dynamo §6.1).
    assert!(reads(&buffered) * 2 < reads(&disk), "{} against {} disk reads", reads(&buffered), reads(&disk));
    assert!(p50(&buffered) < p50(&disk), "{} against {} ms", p50(&buffered), p50(&disk));
}

/// The published bootstrapping scenario at 32 KB objects under strategy 1 or 3.
fn bootstrap(ring: &str, extra: &[&str]) -> serde_json::Value {
    let path = format!("{}/scenarios/published/dynamo-bootstrapping.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut sets = vec![format!("ring={ring}"), r#"workload.value_bytes={"kind": "constant", "bytes": 32768}"#.to_string()];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let s = dynasim::scenario::load(&path, &text, &sets).unwrap_or_else(|e| panic!("{e}"));
    report(&s)
}

#[test]
fn strategy_one_scans_the_store_to_hand_off_and_strategy_three_streams_partitions() {
    let random = r#"{"strategy": "random_tokens", "tokens_per_node": 16}"#;
    let equal = r#"{"strategy": "equal_partitions", "partitions": 112}"#;
    let done = |r: &serde_json::Value| f(&r["membership"]["changes"][0]["transfers_done_after_ms"]);
    let scanned = |r: &serde_json::Value| u(&r["capacity"]["bytes_scanned_count"]);
    let (one, three) = (bootstrap(random, &[]), bootstrap(equal, &[]));
    // Each sender under random tokens reads its whole store (megabytes) before it streams.
    assert!(scanned(&one) > 10 * u(&one["membership"]["changes"][0]["transfer_bytes_sent_count"]) / 10);
    assert_eq!(scanned(&three), 0);
    assert!(done(&one) > 3.0 * done(&three), "{} against {} ms", done(&one), done(&three));
    // The scan is what makes the difference: at a fast scan rate strategy 1 is quick too.
    let fast = bootstrap(random, &["cluster.capacity.scan_mb_per_s=100000"]);
    assert!(done(&fast) < done(&one) / 2.0, "{} against {} ms", done(&fast), done(&one));
    // A joining node takes partitions from the others; the rest stay where they were.
    let moved = u(&three["membership"]["changes"][0]["keys_sent_count"]);
    assert!(moved < 2000 * 3 / 3, "a join under equal partitions moved {moved} of 6,000 replicas");
}

#[test]
fn a_repair_reads_every_replica_store_to_build_its_trees() {
    let r = report(&shipped("cassandra-hint-window", &[]));
    assert!(u(&r["capacity"]["bytes_scanned_count"]) > 0, "{}", r["capacity"]);
    assert!(f(&r["capacity"]["scan"]["max_utilisation"]) > 0.0);
}
