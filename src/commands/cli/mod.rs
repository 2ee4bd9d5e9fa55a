//! The command line. Help text comes from these doc comments.
//!
//! Exit codes: 0 success, 1 an invariant violation, 2 bad input or an I/O error.
//! Every failure prints the seed and a replay command.

mod bench;
mod check;
mod docs;
mod explain;
mod explore;
mod merge;
mod plot;
mod run;
mod shrink;
mod sweep;

use crate::error::Error;
use crate::report;
use crate::scenario::{self, Scenario, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME};
use bench::*;
use check::*;
use clap::{Parser, Subcommand};
use docs::*;
use explain::*;
use explore::*;
use merge::*;
use plot::*;
use run::*;
use shrink::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use sweep::*;

/// `sweep --help`'s examples and the metrics `--recommend` accepts.
fn sweep_help() -> String {
    let metrics: Vec<String> = crate::commands::sweep::row_metrics(&serde_json::Value::Null).keys().cloned().collect();
    format!(
        "Examples:\n  dynasim sweep scenarios/staleness-probe.json --set protocol.rw=1:1,1:2,2:1,2:2 --seeds 5 \\\n      \
         --recommend 'p999_get_ms<=20,stale_read_fraction<=0.001'\n  \
         dynasim sweep s.json --set ring.tokens_per_node=8,64 --set workload.keys=1000,100000 --jobs 2\n\n\
         Metrics --recommend accepts:\n  {}",
        metrics.join(", ")
    )
}

/// The version and the commit it was built from (build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DYNASIM_COMMIT"), ")");

/// Deterministic simulator of a Dynamo-style key-value store.
///
/// With no command, runs a built-in quickstart scenario and prints its summary.
#[derive(Parser, Debug)]
#[command(name = "dynasim", version = VERSION, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario and write its report.
    #[command(
        after_help = "Examples:\n  dynasim run scenarios/baseline-322-zipf.json                # report in reports/baseline-322-zipf/\n  dynasim run scenarios/fast-but-stale-311.json --seed 7 --set protocol.r=2 --out /tmp/r\n  dynasim run scenarios/node-crash-under-load.json --plots --trace trace.jsonl --trace-key k12"
    )]
    Run(RunArgs),
    /// Run scenarios under seeds and evaluate their invariants; exit 1 on any violation.
    #[command(
        after_help = "Examples:\n  dynasim check scenarios/                                    # every scenario, its own seed\n  dynasim check scenarios/nemesis-dynamo.json --seeds 1..200 -q --junit results.xml\n  dynasim check --determinism scenarios/quorum-model.json --seeds 1..3"
    )]
    Check(CheckArgs),
    /// Run the fixed benchmarks and print events/s, operations/s and peak memory.
    #[command(
        after_help = "Examples:\n  dynasim bench                      # every benchmark, median of 3 runs\n  dynasim bench --only model --only day --json"
    )]
    Bench(BenchArgs),
    /// Run a grid of configurations under several seeds and write a table (CSV and JSON).
    #[command(after_help = sweep_help())]
    Sweep(SweepArgs),
    /// Combine the outputs of sharded sweeps into what one unsharded sweep writes.
    #[command(
        after_help = "Examples:\n  dynasim sweep s.json --set protocol.n=3,5 --shard 0/2 --out shards/0\n  dynasim sweep s.json --set protocol.n=3,5 --shard 1/2 --out shards/1\n  dynasim merge shards/0 shards/1 --out reports/sweep-s"
    )]
    Merge(MergeArgs),
    /// Draw every chart a run's or sweep's folder supports, with index.html and summary.md.
    #[command(after_help = "Examples:\n  dynasim plot reports/baseline-322-zipf\n  dynasim plot reports/sweep-staleness-probe")]
    Plot(PlotArgs),
    /// Reduce a failing run (faults, duration, clients, keys, nodes) while the same invariant
    /// still fails; write the minimal scenario.
    #[command(
        after_help = "Examples:\n  dynasim shrink scenarios/nemesis-dynamo.json --seed 4 --set protocol.anti_entropy=false\n  dynasim shrink my.json --seed 12 --budget 100 --out /tmp/minimal.json"
    )]
    Shrink(ShrinkArgs),
    /// Explain what happened to one key in one run: its writes and their causal past, which
    /// were lost, what every node holds at the end, and every event that touched it.
    #[command(
        after_help = "Examples:\n  dynasim explain scenarios/nemesis-dynamo.json --seed 4 --set protocol.anti_entropy=false --key k83\n  (the key is the one a violation names; check and explore print the whole command)"
    )]
    Explain(ExplainArgs),
    /// Run many seeds with randomized fault schedules from the scenario's nemesis menu (each
    /// seed enables a random subset at a random rate) and list every seed that breaks an
    /// invariant, with its replay command; or search each seed's schedules: every one within
    /// bounds (--exhaustive) or PCT's (--pct), printing the choices that replay a violation.
    #[command(
        after_help = "Examples:\n  dynasim explore scenarios/nemesis-dynamo.json --seeds 1..500\n  dynasim explore scenarios/nemesis-dynamo.json --seeds 1..100 --set protocol.anti_entropy=false --json\n  dynasim explore scenarios/weak/w1-crash-after-ack-small.json --exhaustive --max-faults 1\n  dynasim explore scenarios/nemesis-dynamo.json --pct 3 --runs 100 --window-ms 1"
    )]
    Explore(ExploreArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  dynasim completions bash > ~/.local/share/bash-completion/completions/dynasim\n  dynasim completions zsh > ~/.zfunc/_dynasim"
    )]
    Completions(CompletionsArgs),
    /// Print the man page, or write one per command into a folder.
    #[command(
        after_help = "Examples:\n  dynasim manpage --out-dir ~/.local/share/man/man1 && man dynasim-run\n  dynasim manpage > dynasim.1 && man ./dynasim.1"
    )]
    Manpage(ManpageArgs),
    /// Print the scenario format as a JSON Schema (for editors), or as a Markdown reference.
    #[command(
        after_help = "Examples:\n  dynasim schema > dynasim-scenario.schema.json\n  dynasim schema --markdown > docs/scenario-reference.md"
    )]
    Schema(SchemaArgs),
}

/// Reads and validates a scenario file.
pub fn load_scenario(path: &Path, overrides: &[String]) -> Result<Scenario, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the scenario", path, e))?;
    Ok(scenario::load(&path.display().to_string(), &text, overrides)?)
}

pub fn run() -> Result<ExitCode, Error> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version itself; usage errors exit 2 like every bad input.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.command {
        None => {
            let scenario = scenario::load(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO, &[])?;
            let seed = scenario.seed;
            let report = crate::run_report(&scenario, seed)?;
            print!("{}", report::summary(&report));
            println!("\n(built-in quickstart; `dynasim run scenarios/<name>.json` runs a scenario file and writes its report)");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run(args)) => run_one(args),
        Some(Command::Check(args)) => check(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Sweep(args)) => sweep_command(args),
        Some(Command::Completions(args)) => completions(args),
        Some(Command::Manpage(args)) => manpage(args),
        Some(Command::Schema(args)) => schema(args),
        Some(Command::Merge(args)) => merge(args),
        Some(Command::Explore(args)) => explore(args),
        Some(Command::Explain(args)) => explain(args),
        Some(Command::Shrink(args)) => shrink(args),
        Some(Command::Plot(args)) => plot(args),
    }
}

/// Parses `--seeds`: `N` for seeds 1 to N, or `A..B` (inclusive), as every command takes it.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, Error> {
    let bad = || {
        Error::Usage(format!(
            "--seeds {text}: expected N (seeds 1 to N) or A..B (inclusive, A <= B), e.g. --seeds 20 or --seeds 1..20"
        ))
    };
    let (a, b): (u64, u64) = match text.split_once("..") {
        Some((a, b)) => (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?),
        None => (1, text.trim().parse().map_err(|_| bad())?),
    };
    if a > b || b - a >= 1_000_000 {
        return Err(bad());
    }
    Ok((a..=b).collect())
}

/// Files named directly, and the *.json files of named folders, in name order.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io("list the folder", p, e))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn replay_command(path: &Path, seed: u64, sets: &[String]) -> String {
    let mut c = format!("dynasim run {} --seed {seed}", path.display());
    for s in sets {
        c.push_str(&format!(" --set '{s}'"));
    }
    c
}
