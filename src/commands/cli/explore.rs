//! `dynasim explore`: many seeds under randomised fault menus, swarm style; or, with
//! `--exhaustive` or `--pct`, the schedules of each seed (see
//! [`crate::commands::schedule_search`]).

use super::check::tally_exit;
use super::{load_scenario, parse_seeds, replay_command};
use crate::commands::junit::{self, CheckRun};
use crate::commands::progress::Progress;
use crate::commands::schedule_search::{exhaustive, pct, schedule_set, Search};
use crate::error::Error;
use crate::observe::checks::{self, Finding};
use crate::report;
use crate::sim::engine::SimDuration;
use crate::sim::schedule::Bounds;
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
    /// Seeds: N (seeds 1 to N) or A..B (inclusive) [default: 1..100; with --exhaustive or
    /// --pct, 1].
    #[arg(value_hint = ValueHint::Other, long)]
    seeds: Option<String>,
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
    /// Search every schedule of each seed within the bounds below, depth first.
    #[arg(long, conflicts_with = "pct")]
    exhaustive: bool,
    /// Search each seed's schedules with PCT for bugs of this depth (ordering constraints).
    #[arg(value_hint = ValueHint::Other, long, value_name = "DEPTH")]
    pct: Option<u32>,
    /// PCT runs per seed.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 1000, requires = "pct")]
    runs: u64,
    /// Messages due within this many ms after the earliest event may be delivered first.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 0.0)]
    window_ms: f64,
    /// Most reorderings in one schedule (exhaustive search).
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 2)]
    max_reorders: u32,
    /// Most messages one schedule drops.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 0)]
    max_drops: u32,
    /// Most messages one schedule delivers twice.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 0)]
    max_duplicates: u32,
    /// Most faults from the scenario's nemesis menu one schedule injects (the nemesis then
    /// draws none at random).
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 0)]
    max_faults: u32,
    /// Most choice points one run offers; later ones take the default.
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 1000)]
    max_depth: u32,
    /// Stop an exhaustive search after this many schedules (it then reports "not exhausted").
    #[arg(value_hint = ValueHint::Other, long, default_value_t = 100_000)]
    max_schedules: u64,
    /// Do not skip schedules that reach a state already explored.
    #[arg(long)]
    no_state_hashing: bool,
}

pub(super) fn explore(args: ExploreArgs) -> Result<ExitCode, Error> {
    if args.exhaustive || args.pct.is_some() {
        return search(args);
    }
    let seeds = parse_seeds(args.seeds.as_deref().unwrap_or("1..100"))?;
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
            let wall_started = Instant::now();
            (crate::commands::explore::explore_seed(&file, &text, &args.set, seed), wall_started.elapsed().as_secs_f64())
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

/// `--exhaustive` and `--pct`: each seed's schedules, within the bounds.
fn search(args: ExploreArgs) -> Result<ExitCode, Error> {
    let seeds = parse_seeds(args.seeds.as_deref().unwrap_or("1"))?;
    if !(args.window_ms.is_finite() && args.window_ms >= 0.0) {
        return Err(Error::Usage(format!("--window-ms {}: expected a time of 0 ms or more", args.window_ms)));
    }
    if args.pct == Some(0) {
        return Err(Error::Usage("--pct 0: expected a bug depth of 1 or more".into()));
    }
    let bounds = Bounds {
        window: SimDuration::from_millis_f64(args.window_ms),
        reorders: args.max_reorders,
        drops: args.max_drops,
        duplicates: args.max_duplicates,
        faults: args.max_faults,
        depth: args.max_depth,
    };
    // The bounds are the scenario's schedule section, so a replay runs under the same ones
    // (and a fault budget turns the nemesis's random draws off).
    let mut sets = args.set.clone();
    sets.push(schedule_set("", &bounds));
    let scenario = load_scenario(&args.scenario, &sets)?;
    if let Some(path) = &args.junit {
        report::check_file_writable(path)?;
    }
    let file = args.scenario.display().to_string();
    let mode = match args.pct {
        Some(depth) => format!("pct depth {depth}, {} runs", args.runs),
        None => "exhaustive".to_string(),
    };
    let mut checked = Vec::new();
    let mut searches = Vec::new();
    for &seed in &seeds {
        let found = match args.pct {
            Some(depth) => pct(&scenario, seed, bounds, depth, args.runs),
            None => exhaustive(&scenario, seed, bounds, !args.no_state_hashing, args.max_schedules),
        };
        let search = match found {
            Ok(search) => search,
            Err(e) => {
                let replay = Some(replay_command(&args.scenario, seed, &sets));
                checked.push(CheckRun {
                    scenario: file.clone(),
                    seed: Some(seed),
                    findings: Vec::new(),
                    error: Some(e.to_string()),
                    seconds: 0.0,
                    replay,
                });
                continue;
            }
        };
        let mut findings = Vec::new();
        let mut replay = None;
        if let Some((list, replay_bounds, violations)) = &search.found {
            let mut replay_sets = args.set.clone();
            replay_sets.push(schedule_set(list, replay_bounds));
            let command = replay_command(&args.scenario, seed, &replay_sets);
            replay = Some(command.clone());
            findings = violations
                .iter()
                .map(|v| Finding { scenario: file.clone(), seed, replay: command.clone(), violation: v.clone() })
                .collect();
        }
        searches.push(serde_json::json!({
            "seed": seed,
            "schedules": search.schedules,
            "distinct_states": search.distinct_states,
            "exhausted": search.exhausted,
            "most_choice_points": search.deepest,
            "schedules_per_second": search.per_second(),
            "pct_bound_per_run": search.pct_bound_per_run,
            "pct_bound": search.pct_bound(),
        }));
        if !args.json {
            println!("{}", search_line(&file, seed, &mode, &bounds, &search));
            for f in &findings {
                println!("  {}", f.to_string().replace('\n', "\n  "));
            }
        }
        checked.push(CheckRun {
            scenario: file.clone(),
            seed: Some(seed),
            findings,
            error: None,
            seconds: search.seconds,
            replay,
        });
    }
    if let Some(path) = &args.junit {
        junit::write(path, &checked)?;
    }
    if args.json {
        let mut out = junit::json("explore", &checked);
        out["searches"] = serde_json::Value::Array(searches);
        println!("{out}");
    } else {
        for run in checked.iter().filter(|r| r.error.is_some()) {
            println!("ERROR {file} seed {}: {}", run.seed.unwrap_or(0), run.error.as_deref().unwrap_or(""));
        }
    }
    Ok(tally_exit(&checked, args.json, "a simulator bound or a schedule that does not fit"))
}

/// One seed's search, in a line: what was searched, how much, and what came of it.
fn search_line(file: &str, seed: u64, mode: &str, b: &Bounds, s: &Search) -> String {
    let states = if s.distinct_states > 0 { format!(", {} distinct states", s.distinct_states) } else { String::new() };
    let verdict = match (&s.found, s.exhausted, s.pct_bound()) {
        (Some(_), _, _) => format!("VIOLATION after {} schedules", s.schedules),
        (None, true, _) => "exhausted, no violation".to_string(),
        (None, false, Some(p)) => format!(
            "no violation; a bug of this depth is found by one run with probability at least {:.2e}, by these runs {:.2e}",
            s.pct_bound_per_run.unwrap_or(0.0),
            p
        ),
        (None, false, None) => "NOT exhausted (stopped at --max-schedules), no violation so far".to_string(),
    };
    format!(
        "{mode} {file} seed {seed}: {} schedules{states}, up to {} choice points a run; {verdict} ({b}; {:.0} schedules/s)",
        s.schedules,
        s.deepest,
        s.per_second()
    )
}
