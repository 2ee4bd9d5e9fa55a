//! Checks a register history written by `dynasim run --history FILE.jsonl` for linearizability,
//! key by key, with an independent checker (the `consistency_model` crate's
//! `LinearizabilityTester`, extracted from the stateright model checker):
//!
//! ```sh
//! dynasim run scenarios/read-your-writes.json --set workload.key_lock=true --history h.jsonl
//! cargo run --example check_linearizable -- h.jsonl
//! ```
//!
//! A read that returned siblings holds no register state, so its key is reported as not a
//! register history; a key whose history the tester cannot order is not linearizable. Exits 1
//! if any key is not linearizable.

use consistency_model::{ConsistencyTester, LinearizabilityTester, Register, RegisterOp, RegisterRet};
use std::collections::BTreeMap;

/// Per key: `Some(true)` linearizable, `Some(false)` not, `None` not a register history.
pub fn check(jsonl: &str) -> Result<BTreeMap<String, Option<bool>>, String> {
    type Tester = LinearizabilityTester<u64, Register<u64>>;
    let mut testers: BTreeMap<String, Option<Tester>> = BTreeMap::new();
    for (n, line) in jsonl.lines().enumerate() {
        let op: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let (key, process) = (op["key"].as_str().unwrap_or("?").to_string(), op["process"].as_u64().unwrap_or(0));
        let entry = testers.entry(key).or_insert_with(|| Some(Tester::new(Register::new(0))));
        let Some(tester) = entry.as_mut() else { continue };
        // A read of nothing returns the initial value, 0; write ids start at 1.
        let value = op["value"].as_u64().or(op["value"].is_null().then_some(0));
        let recorded = match (op["type"].as_str(), op["f"].as_str(), value) {
            (_, Some("read"), None) if op["type"] == "ok" => {
                *entry = None; // siblings
                continue;
            }
            (Some("invoke"), Some("write"), Some(v)) => tester.on_invoke(process, RegisterOp::Write(v)).map(|_| ()),
            (Some("invoke"), Some("read"), _) => tester.on_invoke(process, RegisterOp::Read).map(|_| ()),
            (Some("ok"), Some("write"), _) => tester.on_return(process, RegisterRet::WriteOk).map(|_| ()),
            (Some("ok"), Some("read"), Some(v)) => tester.on_return(process, RegisterRet::ReadOk(v)).map(|_| ()),
            // A failed operation did not happen; an indeterminate one stays in flight.
            (Some("fail"), ..) | (Some("info"), ..) => Ok(()),
            _ => Err(format!("not a register operation: {line}")),
        };
        recorded.map_err(|e| format!("line {}: {e}", n + 1))?;
    }
    Ok(testers.into_iter().map(|(k, t)| (k, t.map(|t| t.is_consistent()))).collect())
}

#[allow(dead_code)]
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check_linearizable HISTORY.jsonl");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let verdicts = check(&text).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let count = |v: Option<bool>| verdicts.values().filter(|x| **x == v).count();
    for (key, verdict) in &verdicts {
        if *verdict == Some(false) {
            println!("{key}: not linearizable");
        }
    }
    println!(
        "{} keys linearizable, {} not, {} not register histories (a read returned siblings)",
        count(Some(true)),
        count(Some(false)),
        count(None)
    );
    std::process::exit(if count(Some(false)) > 0 { 1 } else { 0 });
}
