//! Every invariant check has a run where it fires and one where it holds.

use crate::common::*;
use dynasim::observe::checks::{self, Violation};
use dynasim::scenario::Scenario;

fn violations(s: &Scenario) -> Vec<Violation> {
    let r = dynasim::simulate(s, s.seed).expect("the run finishes");
    let rep = dynasim::report::build(s, s.seed, &r);
    checks::evaluate(s, &r, &rep)
}

fn invariants(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|x| x.invariant).collect()
}

#[test]
fn convergence_fires_without_hinted_handoff_and_holds_with_it() {
    let holds = violations(&shipped("node-crash-under-load", &[]));
    assert!(holds.is_empty(), "{holds:?}");
    let fires = violations(&shipped("node-crash-under-load", &["protocol.hinted_handoff=false"]));
    assert_eq!(invariants(&fires), vec!["convergence"]);
    let v = &fires[0];
    assert!(v.key.as_deref().is_some_and(|k| k.starts_with('k')), "names a key: {v:?}");
    assert!(v.message.contains("differs on n0"), "{}", v.message);
    assert_eq!(v.at_ms, 9000.0, "at the end of the run");
}

#[test]
fn convergence_bound_fires_when_stated_too_tight() {
    let fires = violations(&shipped("node-crash-under-load", &["checks.convergence_within_ms=1"]));
    assert_eq!(invariants(&fires), vec!["convergence"]);
    assert!(fires[0].message.contains("bound 1 ms"), "{}", fires[0].message);
    assert!(violations(&shipped("node-crash-under-load", &["checks.convergence_within_ms=3000"])).is_empty());
}

#[test]
fn regression_proxy_lead_standing_in_for_a_down_head_hands_its_version_home() {
    // A fall-back asked to mint for a suspected head kept the version as its own, so the head
    // never got it and replicas never converged.
    let s = shipped("node-crash-under-load", &["protocol.coordination=proxy"]);
    let v = violations(&s);
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn bounds_fire_when_exceeded_and_hold_within_limits() {
    let base = ["duration_ms=2000"];
    let tight = [
        "checks.max_get_p999_ms=0.5",
        "checks.max_put_p999_ms=0.5",
        "checks.max_stale_read_fraction=0",
        "checks.min_availability=1",
        "checks.max_multi_version_read_fraction=0",
    ];
    let fires = violations(&shipped("fast-but-stale-311", &[&base[..], &tight[..]].concat()));
    let mut names = invariants(&fires);
    names.sort();
    assert_eq!(
        names,
        vec!["max_get_p999_ms", "max_multi_version_read_fraction", "max_put_p999_ms", "max_stale_read_fraction"],
        "{fires:?}"
    );
    let loose = [
        "checks.max_get_p999_ms=100",
        "checks.max_put_p999_ms=100",
        "checks.max_stale_read_fraction=0.5",
        "checks.min_availability=0.9",
    ];
    assert!(violations(&shipped("fast-but-stale-311", &[&base[..], &loose[..]].concat())).is_empty());
    // Availability and siblings fire where they are actually broken.
    let lossy = violations(&shipped(
        "quickstart",
        &[
            "duration_ms=2000",
            "network.loss_probability=0.3",
            "workload.client_timeout_ms=50",
            "checks.min_availability=0.99",
            "checks.convergence=false",
        ],
    ));
    assert_eq!(invariants(&lossy), vec!["min_availability"]);
    let carts = violations(&shipped("shopping-cart", &["duration_ms=2000", "checks.max_multi_version_read_fraction=0.01"]));
    assert_eq!(invariants(&carts), vec!["max_multi_version_read_fraction"]);
}

#[test]
fn faults_fired_flags_faults_that_changed_nothing() {
    let holds = violations(&shipped("crash-and-partition", &[]));
    assert!(holds.is_empty(), "{holds:?}");
    let redundant = r#"faults=[{"kind": "crash", "at_ms": 100, "node": 1}, {"kind": "crash", "at_ms": 200, "node": 1}, {"kind": "restart", "at_ms": 300, "node": 1}]"#;
    let fires = violations(&shipped("quickstart", &[redundant]));
    assert_eq!(invariants(&fires), vec!["faults_fired"]);
    assert!(fires[0].message.contains("crash n1"), "{}", fires[0].message);
    // A partition that isolates nobody who talks: node 7 is cut off from an empty side.
    let idle = r#"faults=[{"kind": "partition", "at_ms": 9000, "name": "late", "groups": [[6], [7]], "one_way": true}]"#;
    let fires = violations(&shipped("quickstart", &["workload.keys=1", "cluster.nodes=8", idle]));
    assert!(fires.iter().any(|v| v.message == "partition late cut no traffic"), "{fires:?}");
}

#[test]
fn strict_quorum_fires_on_a_stale_read_where_quorums_overlap_and_nothing_fails() {
    let s = shipped("quickstart", &["duration_ms=1000", "protocol.conflict_resolution=dotted_version_vectors"]);
    assert!(checks::strict_quorum_without_faults(&s), "R + W > N, no fault, exact causality");
    let r = dynasim::simulate(&s, s.seed).expect("the run finishes");
    let mut rep = dynasim::report::build(&s, s.seed, &r);
    assert!(checks::evaluate(&s, &r, &rep).is_empty());
    rep["staleness"]["stale_read_count"] = 2.into();
    assert_eq!(invariants(&checks::evaluate(&s, &r, &rep)), vec!["strict_quorum"]);
    // Where a stale read is legitimate, the check does not apply.
    for weaker in
        ["protocol.r=1", "protocol.conflict_resolution=last_write_wins", "nemesis={\"rate_per_s\": 1, \"kinds\": [\"crash\"]}"]
    {
        let w = shipped("quickstart", &["protocol.conflict_resolution=dotted_version_vectors", weaker]);
        assert!(!checks::strict_quorum_without_faults(&w), "{weaker}");
    }
    // CI's many-seed check exercises it on shipped scenarios.
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let strict: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json").map(String::from))
        .filter(|name| checks::strict_quorum_without_faults(&shipped(name, &[])))
        .collect();
    assert!(strict.len() >= 2, "{strict:?}");
}

#[test]
fn stall_bounds_fire_when_clients_wait_out_a_dead_coordinator() {
    // With failover, node-crash-under-load completes work throughout the outage.
    let holds = violations(&shipped("node-crash-under-load", &[]));
    assert!(holds.is_empty(), "{holds:?}");
    // Without it every client ends up waiting 2 s on node 0: few operations fail, none completes.
    let waiting = shipped("node-crash-under-load", &["workload.client_timeout_ms=2000", "workload.client_retries=0"]);
    let r = dynasim::simulate(&waiting, waiting.seed).expect("the run finishes");
    let rep = dynasim::report::build(&waiting, waiting.seed, &r);
    let stall = f(&rep["operations"]["get"]["longest_stall_ms"]);
    assert!(stall > 1000.0, "the report names the stall: {stall}");
    assert!(
        f(&rep["operations"]["get"]["latency_all_ms"]["p999"]) >= 2000.0,
        "the failures' waits are in the tail of all operations"
    );
    let fired = invariants(&checks::evaluate(&waiting, &r, &rep));
    for invariant in ["max_stall_ms", "min_window_availability", "min_throughput_fraction"] {
        assert!(fired.contains(&invariant), "{invariant} not in {fired:?}");
    }
}
