//! Session guarantees judged by the oracle: none violated under strict quorums, some under
//! R = W = 1.

mod common;
use common::*;

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
    // A blind client's writes carry no context, so its session's order is not kept.
    let blind = sessions(&["duration_ms=2000", "workload.client_semantics=blind"], 1..=5);
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
