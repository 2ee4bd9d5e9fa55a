//! `dynasim check`: scenarios under seeds, judged by their invariants (or run twice for determinism).

use super::{expand, load_scenario, parse_seeds, replay_command};
use crate::commands::junit::{self, CheckRun};
use crate::commands::progress::Progress;
use crate::error::Error;
use crate::observe::checks::{self, Finding};
use crate::observe::trace::{TraceFilter, TraceSink, Tracer};
use crate::report;
use crate::scenario::Scenario;
use clap::{Args, ValueHint};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// One run of `check`: a scenario file, and the scenario with a seed, or why it did not load.
type CheckItem<'a> = (&'a PathBuf, Result<(&'a Scenario, u64), &'a Error>);

#[derive(Args, Debug)]
pub(super) struct CheckArgs {
    /// Scenario files, or folders whose *.json files are all checked.
    #[arg(value_hint = ValueHint::AnyPath, required = true)]
    paths: Vec<PathBuf>,
    /// Seeds: N (seeds 1 to N) or A..B (inclusive) [default: each scenario's own seed].
    #[arg(value_hint = ValueHint::Other, long)]
    seeds: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(value_hint = ValueHint::FilePath, long)]
    junit: Option<PathBuf>,
    /// Override a field in every scenario (as for `run`).
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Instead of the invariants, run each scenario twice per seed and compare the trace and
    /// the report; a difference names the first differing event.
    #[arg(long)]
    determinism: bool,
    /// Simulations run side by side [default: the cores]; the output does not depend on it.
    #[arg(value_hint = ValueHint::Other, long)]
    jobs: Option<usize>,
    /// Print one JSON object on stdout instead of the lines (see docs/commands.md).
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print only failures, errors and the closing tally (no line per passing run).
    #[arg(long, short)]
    quiet: bool,
}

/// Runs a scenario twice under one seed, hashing every traced event; any difference in the
/// events or the report is a violation naming the first differing event.
pub(super) fn determinism(scenario: &Scenario, seed: u64) -> Result<Vec<checks::Violation>, Error> {
    let hashed = || -> Result<_, Error> {
        let tracer = Tracer::new(TraceFilter::default(), TraceSink::Hashes(Vec::new()));
        let (result, tracer) = crate::simulate_traced(scenario, seed, tracer)?;
        let hashes = match tracer.map(|t| t.sink) {
            Some(TraceSink::Hashes(h)) => h,
            _ => Vec::new(),
        };
        Ok((report::to_bytes(&report::build(scenario, seed, &result)), hashes, result.simulated_end))
    };
    let (report_a, events_a, end) = hashed()?;
    let (report_b, events_b, _) = hashed()?;
    let first = crate::observe::trace::first_difference(&events_a, &events_b);
    let capture = |index: usize| {
        let tracer = Tracer::new(TraceFilter::default(), TraceSink::Capture { index, seen: 0, line: None });
        match crate::simulate_traced(scenario, seed, tracer).ok().and_then(|r| r.1).map(|t| t.sink) {
            Some(TraceSink::Capture { line, .. }) => line.unwrap_or_else(|| "(no such event)".into()),
            _ => String::new(),
        }
    };
    Ok(match first {
        Some(i) => vec![checks::Violation {
            invariant: "determinism",
            key: None,
            at_ms: end.as_millis_f64(),
            message: format!("event #{i} differs between two runs: first run {}, second run {}", capture(i), capture(i)),
        }],
        None if report_a != report_b => vec![checks::Violation {
            invariant: "determinism",
            key: None,
            at_ms: end.as_millis_f64(),
            message: format!("the traces ({} events) agree but the reports differ", events_a.len()),
        }],
        None => Vec::new(),
    })
}

pub(super) fn check(args: CheckArgs) -> Result<ExitCode, Error> {
    let seeds = args.seeds.as_deref().map(parse_seeds).transpose()?;
    let files = expand(&args.paths)?;
    if files.is_empty() {
        let named: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Usage(format!("check: no scenario (*.json) in {}; nothing was checked", named.join(", "))));
    }
    if let Some(path) = &args.junit {
        report::check_file_writable(path)?;
    }
    // Validate everything first: bad input is reported before any time is spent simulating,
    // and a broken file costs only its own runs, never the others'.
    let loaded: Vec<(PathBuf, Result<Scenario, Error>)> =
        files.iter().map(|f| (f.clone(), load_scenario(f, &args.set))).collect();
    let work: Vec<CheckItem> = loaded
        .iter()
        .flat_map(|(path, s)| -> Vec<CheckItem> {
            match s {
                Ok(s) => seeds.clone().unwrap_or_else(|| vec![s.seed]).into_iter().map(|seed| (path, Ok((s, seed)))).collect(),
                Err(e) => vec![(path, Err(e))],
            }
        })
        .collect();
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let judge = |(_, item): &CheckItem| -> Result<Vec<checks::Violation>, String> {
        let &(scenario, seed) = item.as_ref().map_err(|e| e.to_string())?;
        let judged = if args.determinism {
            determinism(scenario, seed)
        } else {
            crate::simulate(scenario, seed).map(|result| {
                let rep = report::build(scenario, seed, &result);
                checks::evaluate(scenario, &result, &rep)
            })
        };
        judged.map_err(|e| e.to_string())
    };
    // Wall-clock seconds, for JUnit's `time` only: nothing else a check prints depends on it.
    let evaluate = |item: &CheckItem| {
        let started = Instant::now();
        (judge(item), started.elapsed().as_secs_f64())
    };
    let mut runs = Vec::new();
    let mut failed_so_far = 0;
    let progress = Progress::on_terminal(if args.determinism { "check --determinism" } else { "check" }, "runs", work.len());
    crate::sim::parallel::map_in_order(&work, jobs, evaluate, |i, (judged, seconds)| {
        let (path, item) = &work[i];
        let seed = item.as_ref().ok().map(|&(_, seed)| seed);
        let scenario = path.display().to_string();
        let run = match judged {
            Err(e) => CheckRun { scenario, seed, findings: Vec::new(), error: Some(e), seconds, replay: None },
            Ok(violations) => {
                let seed_ = seed.unwrap_or(0);
                let findings = violations
                    .into_iter()
                    .map(|violation| Finding {
                        scenario: scenario.clone(),
                        seed: seed_,
                        replay: replay_command(path, seed_, &args.set),
                        violation,
                    })
                    .collect();
                CheckRun { scenario, seed, findings, error: None, seconds, replay: Some(replay_command(path, seed_, &args.set)) }
            }
        };
        progress.suspend(|| {
            if !args.json {
                let at = seed.map_or_else(String::new, |s| format!(" seed {s}"));
                match &run.error {
                    Some(e) => println!("ERROR {}{at}: {e}", run.scenario),
                    None if run.findings.is_empty() => {
                        if !args.quiet {
                            println!("ok    {}{at}", run.scenario)
                        }
                    }
                    None => {
                        println!("FAIL  {}{at}", run.scenario);
                        for f in &run.findings {
                            println!("  {}", f.to_string().replace('\n', "\n  "));
                        }
                    }
                }
            }
        });
        failed_so_far += usize::from(!run.passed());
        runs.push(run);
        progress.update(i + 1, Some(failed_so_far));
    });
    progress.finish();
    if let Some(path) = &args.junit {
        junit::write(path, &runs)?;
    }
    if args.json {
        println!("{}", junit::json("check", &runs));
    }
    Ok(tally_exit(&runs, args.json, "bad input or a simulator bound"))
}

/// The closing line of `check` and `explore` (unless `json`), and the exit code: the worst
/// outcome, a run that could not be made (2) over a violation (1). `why` says what can stop a run.
pub(super) fn tally_exit(runs: &[CheckRun], json: bool, why: &str) -> ExitCode {
    let (passed, failed, errors) = junit::tally(runs);
    if !json {
        if errors > 0 {
            println!("{errors} could not run ({why}: see ERROR above), counted as failed");
        }
        println!("{passed} passed, {} failed", failed + errors);
    }
    ExitCode::from(if errors > 0 {
        2
    } else if failed > 0 {
        1
    } else {
        0
    })
}
