//! `dynasim explain`: what happened to one key in one run.

use super::load_scenario;
use crate::error::Error;
use crate::observe::checks::{self};
use crate::observe::trace::{TraceFilter, TraceSink, Tracer};
use crate::report;
use clap::{Args, ValueHint};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct ExplainArgs {
    /// Scenario file (JSON) of the failing run.
    #[arg(value_hint = ValueHint::FilePath)]
    scenario: PathBuf,
    /// The key, as a violation names it (e.g. k22).
    #[arg(value_hint = ValueHint::Other, long)]
    key: String,
    /// Seed of the failing run [default: the scenario's "seed"].
    #[arg(value_hint = ValueHint::Other, long)]
    seed: Option<u64>,
    /// Override a field, as the failing run did (as for `run`; repeatable).
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// At most this many events are printed.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 400)]
    events: usize,
}

pub(super) fn explain(args: ExplainArgs) -> Result<ExitCode, Error> {
    let scenario = load_scenario(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut world = crate::world::World::new(&scenario, seed);
    if !world.explain(&args.key) {
        return Err(Error::Usage(format!(
            "--key {}: no such key in {} (workload keys are k0 to k{})",
            args.key,
            args.scenario.display(),
            scenario.workload.key_count.saturating_sub(1)
        )));
    }
    let filter = TraceFilter { key: Some(args.key.clone()), ..Default::default() };
    world.set_tracer(Tracer::new(filter, TraceSink::Lines { lines: Vec::new(), limit: args.events, dropped: 0 }));
    let (mut result, tracer) = world.run_traced();
    let rep = report::build(&scenario, seed, &result);
    println!("key {} in {} under seed {seed}", args.key, args.scenario.display());
    let key =
        (0..scenario.workload.key_count).map(|k| crate::sim::ids::KeyId(k as u32)).find(|k| format!("k{}", k.0) == args.key);
    if let Some(key) = key {
        let lost_now: Vec<u64> = result.lost_writes.explained.iter().map(|w| w.0).collect();
        println!("\nacknowledged writes (oracle):");
        for (w, at) in result.history.acked_writes(key).to_vec() {
            let parents: Vec<String> = result.history.parents(w).iter().map(|p| format!("w{}", p.0)).collect();
            let status = if lost_now.contains(&w.0) { "  LOST: no version any node holds reflects it" } else { "" };
            println!("  w{} acknowledged at {:.3} ms, saw [{}]{status}", w.0, at.as_millis_f64(), parents.join(", "));
        }
    }
    println!("\nat the end ({:.3} ms):", result.simulated_end.as_millis_f64());
    for line in std::mem::take(&mut result.explained) {
        println!("  {line}");
    }
    for v in checks::evaluate(&scenario, &result, &rep) {
        println!("  violation: {}: {}", v.invariant, v.message);
    }
    if let Some(TraceSink::Lines { lines, dropped, .. }) = tracer.map(|t| t.sink) {
        println!(
            "\nevents touching {} ({} shown{}):",
            args.key,
            lines.len(),
            if dropped > 0 { format!(", {dropped} more not shown") } else { String::new() }
        );
        for l in lines {
            println!("  {l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
