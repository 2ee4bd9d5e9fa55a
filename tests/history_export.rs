//! `--history`: every client operation as Jepsen's checkers read it.

use crate::common::*;
use dynasim::observe::ops::HistoryFormat;
use std::collections::BTreeMap;

/// One EDN line's fields, by a parser of just the shape dynasim writes.
fn fields(line: &str) -> BTreeMap<String, String> {
    let body = line.strip_prefix('{').and_then(|l| l.strip_suffix('}')).expect("a map");
    let (head, value) = body.split_once(", :value ").expect("a value last");
    let mut out: BTreeMap<String, String> =
        head.split(", ").map(|kv| kv.split_once(' ').map(|(k, v)| (k.to_string(), v.to_string())).expect("key value")).collect();
    out.insert(":value".into(), value.to_string());
    out
}

#[test]
fn every_invocation_completes_on_its_process_and_every_acknowledged_add_is_in_the_history() {
    let s = shipped("jepsen-set-add", &["protocol.conflict_resolution=dotted_version_vectors", "duration_ms=3000"]);
    let (result, _) = dynasim::simulate_with(&s, 1, None, true).expect("the run finishes");
    let report = dynasim::report::build(&s, 1, &result);
    let mut edn = Vec::new();
    result.client_history.as_ref().expect("recorded").write(HistoryFormat::Edn, &mut edn).expect("in memory");
    let text = String::from_utf8(edn).expect("utf-8");
    let mut open: BTreeMap<String, (String, String)> = BTreeMap::new();
    let (mut acked_adds, mut last_time) = (0, 0u64);
    for (i, line) in text.lines().enumerate() {
        let m = fields(line);
        assert_eq!(m[":index"], i.to_string());
        let time: u64 = m[":time"].parse().expect("nanoseconds");
        assert!(time >= last_time, "in time order: {line}");
        last_time = time;
        let (process, f, kind) = (m[":process"].clone(), m[":f"].clone(), m[":type"].as_str());
        if kind == ":invoke" {
            let before = open.insert(process.clone(), (f, m[":value"].clone()));
            assert!(before.is_none(), "process {process} invoked twice without completing: {line}");
        } else {
            let (invoked_f, invoked_value) =
                open.remove(&process).unwrap_or_else(|| panic!("completion without invocation: {line}"));
            assert_eq!(invoked_f, f, "{line}");
            assert!([":ok", ":fail", ":info"].contains(&kind), "{line}");
            if f == ":add" {
                assert_eq!(invoked_value, m[":value"], "an add completes with the element it added");
                acked_adds += (kind == ":ok") as u64;
            }
            if f == ":read" && kind == ":ok" {
                assert!(m[":value"].starts_with("[\"k0\" #{"), "a cart read is a set: {line}");
            }
        }
    }
    assert!(acked_adds > 1000);
    assert_eq!(acked_adds, u(&report["convergence"]["acknowledged_add_count"]));
    assert_eq!(u(&report["convergence"]["lost_add_count"]), 0);
    // The same history as JSON lines, line for line.
    let mut jsonl = Vec::new();
    result.client_history.as_ref().expect("recorded").write(HistoryFormat::JsonLines, &mut jsonl).expect("in memory");
    let lines: Vec<serde_json::Value> =
        String::from_utf8(jsonl).expect("utf-8").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.len(), text.lines().count());
    assert_eq!(lines.iter().filter(|l| l["f"] == "add" && l["type"] == "ok").count() as u64, acked_adds);
}

#[test]
fn the_same_seed_writes_the_same_history_byte_for_byte() {
    let s = shipped("read-your-writes", &["duration_ms=500"]);
    let bytes = || {
        let (result, _) = dynasim::simulate_with(&s, 7, None, true).expect("the run finishes");
        let mut out = Vec::new();
        result.client_history.as_ref().expect("recorded").write(HistoryFormat::Edn, &mut out).expect("in memory");
        out
    };
    let first = bytes();
    assert!(first.len() > 1000);
    assert_eq!(first, bytes());
}

#[test]
fn a_run_without_history_records_none_and_the_report_is_the_same() {
    let s = shipped("quickstart", &["duration_ms=500"]);
    let plain = dynasim::simulate(&s, 3).expect("the run finishes");
    let (recorded, _) = dynasim::simulate_with(&s, 3, None, true).expect("the run finishes");
    assert!(plain.client_history.is_none());
    assert!(!recorded.client_history.as_ref().expect("recorded").events.is_empty());
    assert_eq!(dynasim::report::build(&s, 3, &plain), dynasim::report::build(&s, 3, &recorded));
}
