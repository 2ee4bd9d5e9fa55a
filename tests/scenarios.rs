//! Every shipped scenario is valid, runs, and shows the behaviour its description promises.

use crate::common::*;
use dynasim::cluster::ring::{key_position, Ring, RingMember};
use dynasim::sim::ids::NodeId;

#[test]
fn every_shipped_scenario_loads_and_runs_briefly() {
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    for file in names {
        let name = file.trim_end_matches(".json");
        // Shorten each run, except where faults are scheduled later than that.
        let full = shipped(name, &[]);
        let s = if full.faults.is_empty() { shipped(name, &["duration_ms=300"]) } else { full };
        assert!(!s.description.is_empty(), "{name} has no description");
        assert_eq!(s.name, name, "scenario name should match its file name");
        let rep = report(&s);
        assert!(u(&rep["operations"]["get"]["count"]) + u(&rep["operations"]["put"]["count"]) > 0, "{name} ran no operation");
    }
}

#[test]
fn equal_partitions_balance_load_better_than_random_tokens() {
    let imbalance = |name: &str| f(&report(&shipped(name, &["duration_ms=1000"]))["load"]["keys_owned_max_over_mean"]);
    let s1 = imbalance("partitioning-strategy-1-random-tokens");
    let s3 = imbalance("partitioning-strategy-3-equal-partitions");
    assert!(s3 < 1.1, "strategy 3 keys max/mean {s3}");
    assert!(s1 > s3 + 0.15, "strategy 1 {s1} vs strategy 3 {s3}");
}

#[test]
fn spreading_across_datacenters_puts_a_replica_in_each() {
    let s = shipped("two-datacenters", &["duration_ms=2000"]);
    let spread = report(&s);
    let nodes = spread["nodes"].as_array().expect("nodes");
    let per_dc = |dc: &str| nodes.iter().filter(|n| n["datacenter"] == dc).map(|n| u(&n["keys_owned_count"])).sum::<u64>();
    let keys = s.workload.key_count as u64;
    // N=3 over two datacenters: at most two replicas in either, so each holds 1 or 2 per key.
    assert!(per_dc("us-east") >= keys && per_dc("us-west") >= keys, "east {} west {}", per_dc("us-east"), per_dc("us-west"));
    // Cross-datacenter latency dominates: with R=2 most gets wait for a 20 ms hop.
    assert!(f(&spread["operations"]["get"]["latency_ms"]["p90"]) > 40.0);
    // On the ring itself: with spreading every key has replicas in both datacenters; without,
    // some keys keep all three in one.
    let ring_of = |spread: bool| {
        let members = s
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| RingMember { node: NodeId(i as u32), weight: n.weight, datacenter: n.datacenter })
            .collect();
        Ring::new(s.strategy.clone(), members, spread, s.seed)
    };
    let single_dc_keys = |ring: &Ring| {
        (0..s.workload.key_count)
            .filter(|k| {
                let top = ring.top_n(key_position(&format!("k{k}")), 3);
                top.iter().all(|n| s.nodes[n.index()].datacenter == s.nodes[top[0].index()].datacenter)
            })
            .count()
    };
    assert_eq!(single_dc_keys(&ring_of(true)), 0);
    assert!(single_dc_keys(&ring_of(false)) > 100);
}

#[test]
fn shopping_carts_merge_siblings_from_concurrent_updates() {
    let rep = report(&shipped("shopping-cart", &["duration_ms=5000"]));
    assert!(u(&rep["conflicts"]["concurrent_write_count"]) > 100);
    assert!(f(&rep["versions_per_read"]["2_fraction"]) > 0.01);
    // Clients resolve what they read, so most reads still see a single version.
    assert!(f(&rep["versions_per_read"]["1_fraction"]) > 0.5);
}

#[test]
fn service_time_makes_load_show_as_queueing() {
    let light = report(&shipped("baseline-322-zipf", &["duration_ms=2000", "workload.keys=1000"]));
    let heavy = report(&shipped(
        "baseline-322-zipf",
        &["duration_ms=2000", "workload.keys=1000", "cluster.service_time={\"kind\":\"exponential\",\"mean_ms\":1.0}"],
    ));
    // Closed-loop clients slow down with the cluster, so compare queueing per operation.
    let queued_per_op = |r: &serde_json::Value| {
        f(&r["protocol_counters"]["queued_message_count"])
            / (f(&r["operations"]["get"]["count"]) + f(&r["operations"]["put"]["count"]))
    };
    assert!(queued_per_op(&heavy) > 3.0 * queued_per_op(&light), "{} vs {}", queued_per_op(&heavy), queued_per_op(&light));
    assert!(f(&heavy["operations"]["get"]["latency_ms"]["p99"]) > f(&light["operations"]["get"]["latency_ms"]["p99"]) + 2.0);
}

#[test]
fn an_open_workload_follows_its_rate_profile() {
    // Counts per bucket of latency_over_time: the diurnal load is low at the ends, high at the peak.
    let r = report(&shipped(
        "diurnal-load",
        &[
            "workload.arrivals.rate_per_s=4000",
            "duration_ms=20000",
            r#"workload.arrivals.profile={"kind": "diurnal", "period_ms": 20000, "amplitude": 0.8, "peak_ms": 10000}"#,
        ],
    ));
    let counts: Vec<f64> = r["latency_over_time"]["get"].as_array().expect("buckets").iter().map(|b| f(&b["count"])).collect();
    let third = counts.len() / 3;
    let (ends, middle) =
        (counts[..third / 2].iter().sum::<f64>(), counts[counts.len() / 2 - third / 4..][..third / 2].iter().sum::<f64>());
    assert!(middle > 4.0 * ends, "peak {middle} against trough {ends}");
    // Over a whole period the mean is the rate: 4,000 a second for 20 s, 80% of them gets.
    let ops = f(&r["operations"]["get"]["count"]) + f(&r["operations"]["put"]["count"]);
    assert!((ops - 80_000.0).abs() < 2_000.0, "{ops} operations");
    // Steps: a tenfold rise after 5 s.
    let r = report(&shipped(
        "diurnal-load",
        &[
            "workload.arrivals.rate_per_s=1000",
            "duration_ms=10000",
            r#"workload.arrivals.profile={"kind": "steps", "steps": [{"from_ms": 0, "factor": 1}, {"from_ms": 5000, "factor": 10}]}"#,
        ],
    ));
    let ops = f(&r["operations"]["get"]["count"]) + f(&r["operations"]["put"]["count"]);
    assert!((ops - 55_000.0).abs() < 1_500.0, "{ops} operations");
    // Bad profiles are refused with the field named.
    let path = format!("{}/scenarios/diurnal-load.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("readable");
    let bad = |profile: &str| {
        dynasim::scenario::load(&path, &text, &[format!("workload.arrivals.profile={profile}")]).expect_err("refused").path
    };
    assert_eq!(bad(r#"{"kind": "diurnal", "period_ms": 1000, "amplitude": 1.5}"#), "workload.arrivals.profile.amplitude");
    assert_eq!(
        bad(r#"{"kind": "steps", "steps": [{"from_ms": 5, "factor": 1}, {"from_ms": 5, "factor": 2}]}"#),
        "workload.arrivals.profile.steps.1.from_ms"
    );
}
