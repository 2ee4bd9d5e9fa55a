//! What keeps a long run's memory bounded changes no figure it should not: the history oracle's
//! prunes and folds leave every judgement exact, a latency log past its budget keeps its counts,
//! means, maxima, stalls and windows exact and its percentiles within the stated precision, and a
//! client library's bounded sessions forget only what they say.

use crate::common::*;
use serde_json::Value;

/// The report without the oracle's own bookkeeping.
fn judged(mut report: Value) -> Value {
    report.as_object_mut().map(|o| o.remove("history_oracle"));
    report
}

/// Scenarios that exercise every holder the census must see: crashes with buffered writes,
/// hinted handoff, partitions, joins, anti-entropy, probes (whose reads walk back through
/// their versions), session clients (whose writes fold into chains) and last-write-wins losses.
const HOLDERS: [(&str, &[&str]); 9] = [
    ("nemesis-dynamo", &[]),
    ("crash-and-partition", &[]),
    ("buffered-writes", &["duration_ms=3000"]),
    ("vector-clock-anomalies", &[]),
    ("rolling-restart", &["duration_ms=6000"]),
    ("staleness-probe", &["duration_ms=1500"]),
    ("read-your-writes", &["duration_ms=2000"]),
    ("join-under-load", &["duration_ms=3000"]),
    ("quorum-model", &["duration_ms=1000"]),
];

#[test]
fn pruning_the_oracle_every_few_hundred_writes_changes_no_judgement() {
    let (mut pruned, mut folded) = (0, 0);
    for (name, sets) in HOLDERS {
        let exact = shipped(name, &[sets, &["observe.history_prune_writes=0"]].concat());
        let often = shipped(name, &[sets, &["observe.history_prune_writes=200"]].concat());
        for seed in 1..=2 {
            let (a, b) = (dynasim::run_report(&exact, seed).expect("runs"), dynasim::run_report(&often, seed).expect("runs"));
            let oracle = &b["history_oracle"];
            assert_eq!(u(&oracle["census_miss_count"]), 0, "{name} seed {seed}: {oracle}");
            assert!(u(&oracle["prune_count"]) > 0, "{name} seed {seed}: {oracle}");
            pruned += u(&oracle["writes_pruned_count"]);
            folded += u(&oracle["writes_folded_count"]);
            assert_eq!(u(&a["history_oracle"]["prune_count"]), 0);
            assert!(judged(a) == judged(b), "{name} seed {seed}: a pruned oracle judged differently");
        }
    }
    assert!(pruned > 2_000 && folded > 2_000, "the runs pruned {pruned} and folded {folded} writes");
}

/// A blind last-write-wins workload's oracle holds about what the replicas hold, however long
/// it runs.
#[test]
fn a_long_blind_run_keeps_an_oracle_the_size_of_the_store() {
    let s = shipped("quorum-model", &["duration_ms=20000", "observe.history_prune_writes=50000"]);
    let r = report(&s);
    let oracle = &r["history_oracle"];
    let writes = u(&r["operations"]["put"]["count"]);
    assert!(writes > 250_000, "{writes} writes");
    // 100,000 keys, each replica holding one version, most replicas agreeing.
    assert!(u(&oracle["writes_kept_count"]) < 150_000, "{oracle}");
    assert!(u(&oracle["writes_pruned_count"]) > writes / 2, "{oracle}");
    assert!(u(&r["convergence"]["lost_write_count"]) > writes / 2, "last-write-wins overwrites are still counted lost");
}

#[test]
fn a_summarised_latency_log_keeps_its_exact_figures() {
    // Without client retries, so that both gets and puts fail and every log is summarised.
    let exact = report(&shipped("nemesis-dynamo", &["workload.client_retries=0"]));
    let summarised = report(&shipped("nemesis-dynamo", &["workload.client_retries=0", "observe.exact_latency_samples=0"]));
    assert_eq!(exact["latency_precision"]["exact"], true);
    assert_eq!(summarised["latency_precision"]["exact"], false);
    assert_eq!(
        summarised["latency_precision"]["summarised_logs"],
        serde_json::json!(["get", "get_failures", "put", "put_failures"])
    );
    for op in ["get", "put"] {
        let (e, s) = (&exact["operations"][op], &summarised["operations"][op]);
        for field in ["count", "success_count", "failure_count", "longest_stall_ms", "longest_stall_from_ms"] {
            assert_eq!(e[field], s[field], "{op} {field}");
        }
        for summary in ["latency_ms", "latency_all_ms"] {
            assert_eq!(s[summary]["exact"], false);
            for field in ["mean", "max"] {
                assert_eq!(e[summary][field], s[summary][field], "{op} {summary} {field}");
            }
            for p in ["p50", "p90", "p99", "p999"] {
                let (x, y) = (f(&e[summary][p]), f(&s[summary][p]));
                assert!(y >= x && y <= x * 1.001 + 1e-6, "{op} {summary} {p}: {y} against exact {x}");
            }
        }
        let (te, ts) =
            (exact["latency_over_time"][op].as_array().unwrap(), summarised["latency_over_time"][op].as_array().unwrap());
        assert_eq!(te.len(), ts.len());
        for (a, b) in te.iter().zip(ts) {
            for field in ["count", "failed", "in_flight_mean"] {
                assert_eq!(a[field], b[field], "{op} at {}: {field}", a["t_ms"]);
            }
            if let (Some(x), Some(y)) = (a["p999_ms"].as_f64(), b["p999_ms"].as_f64()) {
                assert!(y >= x && y <= x * 1.01 + 1e-6, "{op} at {}: p99.9 {y} against {x}", a["t_ms"]);
            }
        }
    }
    assert_eq!(exact["availability"], summarised["availability"]);
}

/// A client library that keeps a session for one key at a time forgets the rest, and the
/// oracle judges only the sessions it keeps.
#[test]
fn bounded_sessions_forget_the_least_recently_used_and_say_so() {
    let sets = ["duration_ms=2000", "workload.keys=50"];
    let remembering = report(&shipped("quickstart", &sets));
    let forgetful = report(&shipped("quickstart", &[&sets[..], &["workload.session_keys_per_client=1"]].concat()));
    assert_eq!(u(&remembering["sessions"]["forgotten_count"]), 0);
    assert!(u(&forgetful["sessions"]["forgotten_count"]) > 1000, "{}", forgetful["sessions"]);
    for g in ["read_your_writes", "monotonic_reads"] {
        let applicable = |r: &Value| u(&r["sessions"][g]["applicable_count"]);
        assert!(applicable(&forgetful) * 2 < applicable(&remembering), "{g}: a forgotten session requires nothing of a read");
    }
}
