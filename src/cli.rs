//! The command line. Help text comes from these doc comments.
//!
//! Exit codes: 0 success, 1 an invariant violation, 2 bad input or an I/O error.
//! Every failure prints the seed and a replay command.

use crate::checks::{self, Finding};
use crate::error::Error;
use crate::report::{self, CheckRun};
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
    /// Run scenarios under seeds and evaluate their invariants; exit 1 on any violation.
    Check(CheckArgs),
    /// Run the fixed benchmarks and print events/s, operations/s and peak memory.
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Benchmarks to run: queue, baseline, large, hour, sweep [default: all].
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Shorter runs, for a smoke test (the figures are not comparable).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object per benchmark instead of the table.
    #[arg(long)]
    json: bool,
    /// Run one benchmark in this process (used by `bench` for each child process).
    #[arg(long, hide = true)]
    child: Option<String>,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Scenario files, or folders whose *.json files are all checked.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Seeds to run, as A..B (inclusive) or one number [default: each scenario's own seed].
    #[arg(long)]
    seeds: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Override a field in every scenario (as for `run`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
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
        Some(Command::Check(args)) => check(args),
        Some(Command::Bench(args)) => bench(args),
    }
}

fn bench(args: BenchArgs) -> Result<ExitCode, Error> {
    if let Some(name) = &args.child {
        println!("{}", crate::bench::run_one(name, args.quick)?);
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> =
        if args.only.is_empty() { crate::bench::NAMES.iter().map(|s| s.to_string()).collect() } else { args.only.clone() };
    let exe = std::env::current_exe().map_err(|e| Error::io("find this program", Path::new("dynasim"), e))?;
    let mut results = Vec::new();
    for name in &names {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["bench", "--child", name]);
        if args.quick {
            cmd.arg("--quick");
        }
        let out = cmd.output().map_err(|e| Error::io("run a benchmark", &exe, e))?;
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            return Ok(ExitCode::from(2));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| Error::Usage(format!("benchmark {name}: {e}")))?;
        if args.json {
            println!("{v}");
        }
        results.push(v);
    }
    if !args.json {
        print!("{}", report::bench_table(&results));
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `A..B` (inclusive) or `N`.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, Error> {
    let bad = || Error::Usage(format!("--seeds {text}: expected A..B (inclusive, A <= B) or a single seed, e.g. --seeds 1..20"));
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if a > b || b - a >= 1_000_000 {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![text.trim().parse().map_err(|_| bad())?]),
    }
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

fn check(args: CheckArgs) -> Result<ExitCode, Error> {
    let seeds = args.seeds.as_deref().map(parse_seeds).transpose()?;
    let files = expand(&args.paths)?;
    // Validate everything first: bad input is reported before any time is spent simulating.
    let scenarios: Vec<(PathBuf, Scenario)> =
        files.iter().map(|f| load_scenario(f, &args.set).map(|s| (f.clone(), s))).collect::<Result<_, _>>()?;
    let mut runs = Vec::new();
    for (path, scenario) in &scenarios {
        for &seed in seeds.as_deref().unwrap_or(&[scenario.seed]) {
            let result = crate::simulate(scenario, seed);
            let rep = report::build(scenario, seed, &result);
            let findings: Vec<Finding> = checks::evaluate(scenario, &result, &rep)
                .into_iter()
                .map(|violation| Finding {
                    scenario: path.display().to_string(),
                    seed,
                    replay: replay_command(path, seed, &args.set),
                    violation,
                })
                .collect();
            if findings.is_empty() {
                println!("ok    {} seed {seed}", path.display());
            } else {
                println!("FAIL  {} seed {seed}", path.display());
                for f in &findings {
                    println!("  {}", f.to_string().replace('\n', "\n  "));
                }
            }
            runs.push(CheckRun { scenario: path.display().to_string(), seed, findings });
        }
    }
    let failed = runs.iter().filter(|r| !r.findings.is_empty()).count();
    if let Some(path) = &args.junit {
        report::write_file(path, report::junit(&runs).as_bytes())?;
    }
    println!("{} passed, {failed} failed", runs.len() - failed);
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
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
