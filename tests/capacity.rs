//! Nodes with finite capacity: CPU queues, bytes on the interfaces, background work that costs.

mod common;
use common::*;

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
    let change = |keys: &str| {
        let r = report(&shipped("join-data-volume", &[keys]));
        let c = &r["membership"]["changes"][0];
        (f(&c["bulk_transfer_ms"]), u(&c["transfer_bytes_sent_count"]), f(&c["transfer_duration_ms"]))
    };
    let (small_ms, small_bytes, small_all) = change("workload.keys=2000");
    let (large_ms, large_bytes, large_all) = change("workload.keys=20000");
    // Ten times the keys, of which the workload wrote about two thirds before the join.
    assert!(large_bytes > 5 * small_bytes, "{small_bytes} against {large_bytes} bytes");
    assert!(large_ms > 5.0 * small_ms, "{small_ms} ms against {large_ms} ms");
    assert!(small_all >= small_ms && large_all >= large_ms);
    // At infinite capacity the same handoff is a few round trips whatever its size.
    let r = report(&shipped("join-data-volume", &["workload.keys=20000", r#"cluster.capacity={"infinite": true}"#]));
    assert!(f(&r["membership"]["changes"][0]["bulk_transfer_ms"]) < large_ms / 5.0, "{}", r["membership"]);
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
