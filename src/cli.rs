//! The command line. Help text comes from these doc comments.
//!
//! Exit codes: 0 success, 1 an invariant violation, 2 bad input or an I/O error.

use crate::error::Error;
use crate::report;
use crate::scenario::{self, Scenario, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Deterministic simulator of a Dynamo-style key-value store.
///
/// With no command, runs a built-in quickstart scenario and prints its summary.
#[derive(Parser, Debug)]
#[command(name = "dynasim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario and write its report.
    Run(RunArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario file (JSON); see scenarios/ for examples.
    scenario: PathBuf,
    /// Seed for every random stream (overrides the scenario's "seed").
    #[arg(long)]
    seed: Option<u64>,
    /// Folder for report.json, summary.txt, timing.json and scenario.json
    /// [default: reports/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a scenario field, e.g. --set protocol.r=1 (repeatable; the value is JSON, or a
    /// string if it does not parse as JSON).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print nothing on stdout.
    #[arg(long, short)]
    quiet: bool,
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
            let report = crate::run_report(&scenario, seed);
            print!("{}", report::summary(&report));
            println!("\n(built-in quickstart; `dynasim run scenarios/<name>.json` runs a scenario file and writes its report)");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run(args)) => run_one(args),
    }
}

fn run_one(args: RunArgs) -> Result<ExitCode, Error> {
    let scenario = load_scenario(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = args.out.unwrap_or_else(|| PathBuf::from("reports").join(&scenario.name));
    let started = Instant::now();
    let report = crate::run_report(&scenario, seed);
    let wall = started.elapsed();
    let timing = report::timing(&report, wall);
    let summary = report::summary(&report);
    let mut command = String::from("dynasim run");
    command.push_str(&format!(" {} --seed {seed}", args.scenario.display()));
    for s in &args.set {
        command.push_str(&format!(" --set '{s}'"));
    }
    report::write_folder(
        &out,
        &[
            ("scenario.json", report::to_bytes(&scenario.source)),
            ("summary.txt", summary.clone().into_bytes()),
            ("command.txt", format!("{command}\n").into_bytes()),
            ("timing.json", report::to_bytes(&timing)),
            ("report.json", report::to_bytes(&report)),
        ],
    )?;
    if !args.quiet {
        print!("{summary}");
        println!("\nreport: {}", out.join("report.json").display());
    }
    eprintln!(
        "dynasim: {:.3} s wall, {:.0} events/s, {:.0} simulated ops/s ({} build)",
        wall.as_secs_f64(),
        timing["events_per_second"].as_f64().unwrap_or(0.0),
        timing["simulated_operations_per_second"].as_f64().unwrap_or(0.0),
        timing["build"].as_str().unwrap_or("?")
    );
    Ok(ExitCode::SUCCESS)
}
