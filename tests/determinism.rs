//! Determinism is the product: same scenario and seed give byte-identical reports; different
//! seeds give different runs; the network's randomness does not depend on the workload.

use crate::common::*;
use dynasim::report;

#[test]
fn same_seed_gives_byte_identical_reports() {
    for name in ["quickstart", "staleness-probe", "slow-node-proxy"] {
        let s = shipped(name, &["duration_ms=2000"]);
        let a = report::to_bytes(&dynasim::run_report(&s, 7).expect("the run finishes"));
        let b = report::to_bytes(&dynasim::run_report(&s, 7).expect("the run finishes"));
        assert!(a == b, "{name}: two runs with seed 7 differ");
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let s = shipped("quickstart", &["duration_ms=2000"]);
    let a = dynasim::run_report(&s, 1).expect("the run finishes");
    let b = dynasim::run_report(&s, 2).expect("the run finishes");
    assert_ne!(a["engine"], b["engine"]);
    assert_ne!(a["operations"], b["operations"]);
}

#[test]
fn changing_only_the_workload_leaves_network_draws_unchanged() {
    let base = shipped("quickstart", &["duration_ms=1000"]);
    let other = shipped(
        "quickstart",
        &["duration_ms=1000", "workload.read_fraction=0.2", "workload.keys=50", "workload.arrivals.clients=7"],
    );
    let a = dynasim::simulate(&base, 3).expect("the run finishes");
    let b = dynasim::simulate(&other, 3).expect("the run finishes");
    assert_eq!(a.network_fingerprint.len(), dynasim::cluster::network::DELAY_FINGERPRINT_LEN);
    assert_eq!(a.network_fingerprint, b.network_fingerprint, "network latency draws moved with the workload");
    // The workloads really differ, so the equality above is not vacuous.
    assert_ne!(a.metrics.gets.latencies.len(), b.metrics.gets.latencies.len());
    // And a different seed does move the network draws.
    let c = dynasim::simulate(&base, 4).expect("the run finishes");
    assert_ne!(a.network_fingerprint, c.network_fingerprint);
}
