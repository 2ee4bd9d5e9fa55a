//! An independent checker confirms the oracle: histories exported as JSON lines are fed to the
//! `consistency_model` crate's linearizability tester (examples/check_linearizable.rs).

#[path = "../examples/check_linearizable.rs"]
mod checker;
use crate::common::*;
use dynasim::observe::ops::HistoryFormat;

/// The exported history of one run, and its report.
fn history(sets: &[&str], seed: u64) -> (String, serde_json::Value) {
    let s = shipped("read-your-writes", sets);
    let (result, _) = dynasim::simulate_with(&s, seed, None, true).expect("the run finishes");
    let mut out = Vec::new();
    result.client_history.as_ref().expect("recorded").write(HistoryFormat::JsonLines, &mut out).expect("in memory");
    (String::from_utf8(out).expect("utf-8"), dynasim::report::build(&s, seed, &result))
}

#[test]
fn strict_quorums_give_linearizable_registers_and_stale_reads_do_not() {
    let locked = ["workload.key_lock=true", "duration_ms=1000"];
    for seed in 1..=5 {
        let (text, report) = history(&[&locked[..], &["protocol.r=2", "protocol.w=2"]].concat(), seed);
        let verdicts = checker::check(&text).expect("a register history");
        assert_eq!(u(&report["staleness"]["stale_read_count"]), 0);
        assert!(verdicts.values().all(|v| *v == Some(true)), "seed {seed}: {verdicts:?}");
    }
    let (text, report) = history(&locked, 1);
    let verdicts = checker::check(&text).expect("a register history");
    assert!(u(&report["staleness"]["stale_read_count"]) > 0);
    assert!(verdicts.values().any(|v| *v == Some(false)), "R = W = 1 reads stale values: {verdicts:?}");
}
