//! `dynasim shrink`: a failing run reduced while the same invariant fails.

use super::load_scenario;
use crate::error::Error;
use crate::observe::checks::{self};
use crate::report;
use clap::{Args, ValueHint};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct ShrinkArgs {
    /// Scenario file (JSON) of the failing run.
    #[arg(value_hint = ValueHint::FilePath)]
    scenario: PathBuf,
    /// Seed of the failing run [default: the scenario's "seed"].
    #[arg(value_hint = ValueHint::Other, long)]
    seed: Option<u64>,
    /// Override a field, as the failing run did (as for `run`; repeatable).
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Where to write the minimal scenario [default: <scenario name>-shrunk.json in the current folder].
    #[arg(value_hint = ValueHint::FilePath, long)]
    out: Option<PathBuf>,
    /// At most this many candidate runs.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 500)]
    budget: usize,
}

pub(super) fn shrink(args: ShrinkArgs) -> Result<ExitCode, Error> {
    let scenario = load_scenario(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let result = crate::simulate(&scenario, seed)?;
    let rep = report::build(&scenario, seed, &result);
    let Some(first) = checks::evaluate(&scenario, &result, &rep).into_iter().next() else {
        println!("{} seed {seed}: every invariant holds; nothing to shrink", args.scenario.display());
        return Ok(ExitCode::SUCCESS);
    };
    let target = crate::commands::shrink::Target {
        invariant: first.invariant,
        signature: checks::signature(&first, &result),
        key: first.key.clone(),
    };
    // Written to the current folder by default, never beside a shipped scenario; checked first.
    let out =
        args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}-shrunk.json", report::folder::folder_name(&scenario.name))));
    report::check_file_writable(&out)?;
    let file = args.scenario.display().to_string();
    let floor = crate::commands::shrink::repair_floor_ms(&scenario);
    let (tree, steps) = crate::commands::shrink::shrink(&file, scenario.source.clone(), seed, &target, floor, args.budget);
    report::write_file(&out, &report::to_bytes(&tree))?;
    let size = |t: &serde_json::Value| {
        format!(
            "{} ms + {} ms tail, {} nodes, {} clients, {} keys, {} faults{}",
            t["duration_ms"],
            t["quiescent_tail_ms"].as_f64().unwrap_or(0.0),
            t["cluster"]["nodes"].as_u64().unwrap_or(8),
            t["workload"]["arrivals"]["clients"].as_u64().unwrap_or(10),
            t["workload"]["keys"].as_u64().unwrap_or(1000),
            t["faults"].as_array().map_or(0, |a| a.len()),
            if t.get("nemesis").is_some_and(|n| !n.is_null()) { ", a nemesis" } else { "" }
        )
    };
    let failing = crate::commands::shrink::fails(&out.display().to_string(), &tree, seed, &target);
    let on = |key: &Option<String>| key.as_ref().map_or(String::new(), |k| format!(" on {k}"));
    println!("{}{} ({}): {}", target.invariant, on(&target.key), target.signature, first.message);
    println!("before: {}", size(&scenario.source));
    for step in &steps {
        println!("  {step}");
    }
    println!("after:  {}  ({} steps)", size(&tree), steps.len());
    match (failing, &target.key) {
        (Some((_, v)), _) => println!("still fails: {}{} ({}): {}", v.invariant, on(&v.key), target.signature, v.message),
        (None, Some(key)) => println!("could not keep the failure: {} on {key} no longer fails", target.invariant),
        (None, None) => println!("could not keep the failure: {} no longer fails", target.invariant),
    }
    println!("replay: dynasim run {} --seed {seed}", out.display());
    Ok(ExitCode::SUCCESS)
}
