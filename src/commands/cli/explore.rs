//! `dynasim explore`: many seeds under randomised fault menus, swarm style.

use super::check::tally_exit;
use super::{load_scenario, parse_seeds, replay_command};
use crate::commands::junit::{self, CheckRun};
use crate::commands::progress::Progress;
use crate::error::Error;
use crate::observe::checks::{self, Finding};
use crate::report;
use clap::{Args, ValueHint};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// One explored seed: the overrides that replay it, and what broke.
type ExploredSeed = (Vec<String>, Vec<checks::Violation>);

#[derive(Args, Debug)]
pub(super) struct ExploreArgs {
    /// Scenario file with a "nemesis" menu.
    #[arg(value_hint = ValueHint::FilePath)]
    scenario: PathBuf,
    /// Seeds: N (seeds 1 to N) or A..B (inclusive).
    #[arg(value_hint = ValueHint::Other, long, default_value = "1..100")]
    seeds: String,
    /// Simulations run side by side [default: the number of cores].
    #[arg(value_hint = ValueHint::Other, long)]
    jobs: Option<usize>,
    /// Override a field (as for `run`).
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print one JSON object on stdout instead of the lines (see docs/commands.md).
    #[arg(long)]
    json: bool,
    /// Also write the results as JUnit XML to this file.
    #[arg(value_hint = ValueHint::FilePath, long)]
    junit: Option<PathBuf>,
}

pub(super) fn explore(args: ExploreArgs) -> Result<ExitCode, Error> {
    let seeds = parse_seeds(&args.seeds)?;
    let base = load_scenario(&args.scenario, &args.set)?;
    if base.nemesis.is_none() {
        return Err(Error::Usage(format!("{}: explore needs a \"nemesis\" menu in the scenario", args.scenario.display())));
    }
    let text = std::fs::read_to_string(&args.scenario).map_err(|e| Error::io("read the scenario", &args.scenario, e))?;
    let file = args.scenario.display().to_string();
    if let Some(path) = &args.junit {
        report::check_file_writable(path)?;
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let progress = Progress::on_terminal("explore", "seeds", seeds.len());
    let mut runs: Vec<(Result<ExploredSeed, Error>, f64)> = Vec::new();
    crate::sim::parallel::map_in_order(
        &seeds,
        jobs,
        |&seed| {
            // Wall-clock seconds, for JUnit's `time` only.
            let started = Instant::now();
            (crate::commands::explore::explore_seed(&file, &text, &args.set, seed), started.elapsed().as_secs_f64())
        },
        |i, judged| {
            runs.push(judged);
            progress.update(i + 1, None);
        },
    );
    progress.finish();
    let checked: Vec<CheckRun> = runs
        .into_iter()
        .enumerate()
        .map(|(i, (judged, seconds))| {
            let seed = seeds[i];
            let mut replay = None;
            let (findings, error) = match judged {
                Ok((sets, violations)) => (
                    violations
                        .into_iter()
                        .map(|violation| Finding {
                            scenario: file.clone(),
                            seed,
                            replay: replay.get_or_insert_with(|| replay_command(&args.scenario, seed, &sets)).clone(),
                            violation,
                        })
                        .collect(),
                    None,
                ),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            CheckRun { scenario: file.clone(), seed: Some(seed), findings, error, seconds, replay }
        })
        .collect();
    if let Some(path) = &args.junit {
        junit::write(path, &checked)?;
    }
    if args.json {
        println!("{}", junit::json("explore", &checked));
    } else {
        for run in checked.iter().filter(|r| !r.passed()) {
            match (&run.error, run.seed) {
                (Some(e), Some(seed)) => println!("ERROR {file} seed {seed}: {e}"),
                (_, seed) => {
                    println!("FAIL  {file} seed {}", seed.unwrap_or(0));
                    for f in &run.findings {
                        println!("  {}", f.to_string().replace('\n', "\n  "));
                    }
                }
            }
        }
    }
    Ok(tally_exit(&checked, args.json, "a simulator bound"))
}
