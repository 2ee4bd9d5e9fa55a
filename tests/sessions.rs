//! Session guarantees judged by the oracle: none violated under strict quorums, some under
//! R = W = 1.

use crate::common::*;

const GUARANTEES: [&str; 4] = ["read_your_writes", "monotonic_reads", "monotonic_writes", "writes_follow_reads"];

/// Per guarantee, violations and reads it applied to, summed over `seeds`.
fn sessions(sets: &[&str], seeds: std::ops::RangeInclusive<u64>) -> Vec<(u64, u64)> {
    let s = shipped("read-your-writes", sets);
    let mut total = vec![(0, 0); GUARANTEES.len()];
    for seed in seeds {
        let r = dynasim::run_report(&s, seed).expect("the run finishes");
        for (t, g) in total.iter_mut().zip(GUARANTEES) {
            t.0 += u(&r["sessions"][g]["violation_count"]);
            t.1 += u(&r["sessions"][g]["applicable_count"]);
        }
    }
    total
}

#[test]
fn strict_quorums_keep_every_session_guarantee() {
    // With a lock per key no read overlaps a write, so nothing a read returns can be undone.
    let strict = sessions(&["protocol.r=2", "protocol.w=2", "workload.key_lock=true", "duration_ms=2000"], 1..=20);
    for (g, (violated, applicable)) in GUARANTEES.iter().zip(&strict) {
        assert_eq!(*violated, 0, "{g}: {violated} of {applicable}");
    }
    assert!(strict[0].1 > 1000 && strict[1].1 > 1000, "{strict:?}");
}

#[test]
fn r_equals_w_equals_one_breaks_them() {
    let weak = sessions(&["duration_ms=2000"], 1..=5);
    assert!(weak[0].0 > 0, "read your writes: {weak:?}");
    assert!(weak[1].0 > 0, "monotonic reads: {weak:?}");
    // A blind client's writes carry no context, so its session's order is not kept; it shows
    // about once in two seeds of this length, so twenty are judged.
    let blind = sessions(&["duration_ms=2000", "workload.client_semantics=blind"], 1..=20);
    assert!(blind[2].0 > 0 && blind[2].1 > 0, "monotonic writes: {blind:?}");
    let session = sessions(&["duration_ms=2000"], 1..=2);
    assert_eq!((session[2].1, session[3].1), (0, 0), "a session client's put carries its whole session");
}

#[test]
fn a_check_bound_fails_the_run_that_violates_it() {
    let check = |bound: &str| {
        let s = shipped("read-your-writes", &[&format!("checks.max_read_your_writes_violation_fraction={bound}")]);
        let r = dynasim::simulate(&s, 2).expect("the run finishes");
        let report = dynasim::report::build(&s, 2, &r);
        assert!(u(&report["sessions"]["read_your_writes"]["violation_count"]) > 0);
        dynasim::observe::checks::evaluate(&s, &r, &report).iter().map(|v| v.invariant).collect::<Vec<_>>()
    };
    assert!(check("0").contains(&"max_read_your_writes_violation_fraction"));
    assert!(!check("0.5").contains(&"max_read_your_writes_violation_fraction"));
}

/// PBS's closed form for non-expanding quorums: a read of R replicas misses each of the last k
/// writes, each on W replicas chosen independently, with probability (C(N-W, R) / C(N, R))^k.
#[test]
fn k_staleness_agrees_with_pbs_closed_form_for_static_quorums() {
    let choose = |n: u64, k: u64| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    for (r, w) in [(1, 1), (1, 2), (2, 1)] {
        // Writes reach only the W replicas the coordinator picks, reads ask R, nothing repairs.
        let s = scenario(
            r#"{
              "name": "pbs-k-staleness", "seed": 1, "duration_ms": 20000,
              "cluster": { "nodes": 3, "capacity": { "infinite": true } },
              "ring": { "strategy": "random_tokens", "tokens_per_node": 8 },
              "protocol": { "n": 3, "fanout": "quorum", "coordination": "load_balancer", "sloppy_quorum": false,
                            "hinted_handoff": false, "read_repair": false, "anti_entropy": false,
                            "conflict_resolution": "dotted_version_vectors" },
              "network": { "latency": { "kind": "exponential", "mean_ms": 1.0 } },
              "workload": { "keys": 10, "arrivals": { "kind": "closed", "clients": 1, "think_time": { "kind": "constant", "ms": 100 } } },
              "probe": { "clients": 20, "versions": 4, "delays_ms": [0, 50], "gap": { "kind": "constant", "ms": 1 } }
            }"#,
            &[&format!("protocol.r={r}"), &format!("protocol.w={w}")],
        );
        let report = report(&s);
        let miss = choose(3 - w, r) / choose(3, r);
        for row in report["t_visibility"].as_array().expect("rows") {
            let reads = f(&row["reads_count"]);
            assert!(reads > 2000.0, "{row}");
            for (k, within) in row["within_versions_fraction"].as_array().expect("fractions").iter().enumerate() {
                let expected = 1.0 - miss.powi(k as i32 + 1);
                let sigma = (expected * (1.0 - expected) / reads).sqrt();
                let within = f(within);
                assert!((within - expected).abs() < 4.0 * sigma + 1e-9, "R={r} W={w} k={}: {within} against {expected}", k + 1);
            }
        }
    }
}
