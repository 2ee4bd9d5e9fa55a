//! `dynasim run`: one scenario, its report, and optionally its trace and history.

use super::load_scenario;
use crate::error::Error;
use crate::observe::trace::{TraceFilter, TraceSink, Tracer};
use crate::observe::RunResult;
use crate::report;
use crate::scenario::Scenario;
use crate::sim::engine::SimTime;
use clap::{Args, ValueHint};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
pub(super) struct RunArgs {
    /// Scenario file (JSON); see scenarios/ for examples.
    #[arg(value_hint = ValueHint::FilePath)]
    scenario: PathBuf,
    /// Seed for every random stream (overrides the scenario's "seed").
    #[arg(value_hint = ValueHint::Other, long)]
    seed: Option<u64>,
    /// Folder for report.json, summary.txt, timing.json and scenario.json
    /// [default: reports/<scenario name>].
    #[arg(value_hint = ValueHint::DirPath, long)]
    out: Option<PathBuf>,
    /// Override a scenario field, e.g. --set protocol.r=1 (repeatable; the value is JSON, or a
    /// string if it does not parse as JSON).
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print one JSON object on stdout instead of the summary: {"scenario", "seed", "out",
    /// "report"} (the report as in report.json).
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing: no summary, and no timing line on stderr (timing.json keeps it); errors
    /// are still reported.
    #[arg(long, short)]
    quiet: bool,
    /// Also draw the charts, index.html and summary.md into the report folder.
    #[arg(long)]
    plots: bool,
    /// Write one JSON line per event to this file (time, node, verb, kind, key, message, from,
    /// to, outcome).
    #[arg(value_hint = ValueHint::FilePath, long)]
    trace: Option<PathBuf>,
    /// Trace only events about this key (e.g. k42).
    #[arg(value_hint = ValueHint::Other, long, requires = "trace")]
    trace_key: Option<String>,
    /// Trace only events at, from or to this node or client (e.g. n3, c7).
    #[arg(value_hint = ValueHint::Other, long, requires = "trace")]
    trace_node: Option<String>,
    /// Trace only this message kind (get_request, ...) or verb (drop, crash, timer, ...).
    #[arg(value_hint = ValueHint::Other, long, requires = "trace")]
    trace_kind: Option<String>,
    /// Trace only from this simulated time on (ms).
    #[arg(value_hint = ValueHint::Other, long, requires = "trace")]
    trace_from_ms: Option<f64>,
    /// Trace only up to this simulated time (ms).
    #[arg(value_hint = ValueHint::Other, long, requires = "trace")]
    trace_to_ms: Option<f64>,
    /// Write every client operation (invocation, then ok, fail or info) to this file, as
    /// Jepsen's checkers read it (FILE.edn) or as JSON lines (FILE.jsonl); see docs/commands.md.
    #[arg(value_hint = ValueHint::FilePath, long, value_name = "FILE")]
    history: Option<PathBuf>,
}

/// A trace filter must be able to match something in this scenario: a filter naming no key,
/// node or kind that exists, or a time range that is empty, would write an empty trace.
pub(super) fn check_trace_filter(args: &RunArgs, scenario: &Scenario) -> Result<(), Error> {
    let bad = |flag: &str, value: &str, expected: String| {
        Err(Error::Usage(format!("--{flag} {value}: matches nothing in this scenario; expected {expected}")))
    };
    let numbered = |name: &str, prefix: &str, count: usize| {
        name.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).is_some_and(|n| n < count)
    };
    let keys = scenario.workload.key_count;
    let probes = scenario.probe.as_ref().map_or(0, |p| p.clients);
    let clients = scenario.workload.arrivals.clients() + probes;
    if let Some(k) = &args.trace_key {
        if !(numbered(k, "k", keys) || probes > 0 && k.starts_with("probe-")) {
            return bad(
                "trace-key",
                k,
                format!(
                    "a key from k0 to k{}{}",
                    keys.saturating_sub(1),
                    if probes > 0 { ", or probe-<client>-<n>" } else { "" }
                ),
            );
        }
    }
    if let Some(n) = &args.trace_node {
        if !numbered(n, "n", scenario.nodes.len()) && !numbered(n, "c", clients) {
            return bad(
                "trace-node",
                n,
                format!("a node from n0 to n{} or a client from c0 to c{}", scenario.nodes.len() - 1, clients.saturating_sub(1)),
            );
        }
    }
    if let Some(k) = &args.trace_kind {
        let kinds: Vec<&str> = crate::cluster::network::MessageKind::ALL.iter().map(|m| m.name()).collect();
        if !kinds.contains(&k.as_str()) && !crate::observe::trace::VERBS.contains(&k.as_str()) {
            return bad(
                "trace-kind",
                k,
                format!("a message kind ({}) or a verb ({})", kinds.join(", "), crate::observe::trace::VERBS.join(", ")),
            );
        }
    }
    let end = scenario.duration.as_millis_f64() + scenario.quiescent_tail.as_millis_f64();
    for (flag, t) in [("trace-from-ms", args.trace_from_ms), ("trace-to-ms", args.trace_to_ms)] {
        if let Some(t) = t.filter(|t| !(t.is_finite() && (0.0..=end).contains(t))) {
            return bad(flag, &t.to_string(), format!("a time from 0 to {end} ms, the run's end"));
        }
    }
    if let (Some(from), Some(to)) = (args.trace_from_ms, args.trace_to_ms) {
        if from > to {
            return bad("trace-from-ms", &from.to_string(), format!("a time at or before --trace-to-ms {to}"));
        }
    }
    Ok(())
}

/// Writes the client history to a temporary name beside `path`, then renames it into place.
pub(super) fn write_history(
    path: &Path,
    format: crate::observe::ops::HistoryFormat,
    history: &crate::observe::ops::ClientHistory,
) -> Result<(), Error> {
    use std::io::Write;
    let tmp = report::temporary_file_beside(path)?;
    let mut out = std::io::BufWriter::new(tmp.as_file());
    history.write(format, &mut out).and_then(|_| out.flush()).map_err(|e| Error::io("write the history", tmp.path(), e))?;
    drop(out);
    report::persist(tmp, path)
}

/// The format `--history PATH` asks for, by its extension; the file must be writable.
fn history_format(path: &Path) -> Result<crate::observe::ops::HistoryFormat, Error> {
    report::check_file_writable(path)?;
    crate::observe::ops::HistoryFormat::for_path(path).ok_or_else(|| {
        Error::Usage(format!(
            "--history {}: expected a file ending in .edn (EDN, as Jepsen writes histories) or .jsonl (JSON lines)",
            path.display()
        ))
    })
}

/// The run with its trace streamed to a temporary name beside `path`, renamed once complete.
fn simulate_traced(args: &RunArgs, scenario: &Scenario, seed: u64, path: &Path) -> Result<RunResult, Error> {
    let filter = TraceFilter {
        key: args.trace_key.clone(),
        node: args.trace_node.clone(),
        kind: args.trace_kind.clone(),
        from: args.trace_from_ms.map(|ms| SimTime(crate::sim::engine::millis_to_nanos(ms))),
        to: args.trace_to_ms.map(|ms| SimTime(crate::sim::engine::millis_to_nanos(ms))),
    };
    let tmp = report::temporary_file_beside(path)?;
    let file = tmp.as_file().try_clone().map_err(|e| Error::io("create the trace file", tmp.path(), e))?;
    let tracer = Tracer::new(filter, TraceSink::File(std::io::BufWriter::new(file)));
    // On an error the temporary file is removed as `tmp` drops.
    let (result, tracer) = crate::simulate_with(scenario, seed, Some(tracer), args.history.is_some())?;
    if let Some(mut t) = tracer {
        t.finish().map_err(|e| Error::io("write the trace", tmp.path(), e))?;
    }
    report::persist(tmp, path)?;
    Ok(result)
}

pub(super) fn run_one(args: RunArgs) -> Result<ExitCode, Error> {
    let scenario = load_scenario(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(report::folder::folder_name(&scenario.name)));
    // Everything that can fail without simulating fails first.
    check_trace_filter(&args, &scenario)?;
    report::check_folder_writable(&out)?;
    if let Some(path) = &args.trace {
        report::check_file_writable(path)?;
    }
    let history_format = args.history.as_deref().map(history_format).transpose()?;
    let wall_started = Instant::now();
    let result = match &args.trace {
        None => crate::simulate_with(&scenario, seed, None, args.history.is_some())?.0,
        Some(path) => simulate_traced(&args, &scenario, seed, path)?,
    };
    if let (Some(path), Some(format), Some(history)) = (&args.history, history_format, &result.client_history) {
        write_history(path, format, history)?;
    }
    let report = report::build(&scenario, seed, &result);
    let wall = wall_started.elapsed();
    let timing = report::timing(&report, wall);
    let summary = report::summary(&report);
    let mut command = String::from("dynasim run");
    command.push_str(&format!(" {} --seed {seed}", args.scenario.display()));
    for s in &args.set {
        command.push_str(&format!(" --set '{s}'"));
    }
    if let Some(path) = &args.history {
        command.push_str(&format!(" --history {}", path.display()));
    }
    report::write_folder(
        &out,
        report::FolderKind::Run,
        &[
            ("scenario.json", report::to_bytes(&scenario.source)),
            ("summary.txt", summary.clone().into_bytes()),
            ("command.txt", format!("{command}\n").into_bytes()),
            ("timing.json", report::to_bytes(&timing)),
            ("report.json", report::to_bytes(&report)),
        ],
    )?;
    if args.plots {
        crate::report::charts::plot_folder(&out)?;
    }
    if args.json {
        let out = out.display().to_string();
        println!("{}", serde_json::json!({ "scenario": scenario.name, "seed": seed, "out": out, "report": report }));
    } else if !args.quiet {
        print!("{summary}");
        println!("\nreport: {}", out.join("report.json").display());
    }
    if !args.quiet {
        eprintln!(
            "dynasim: {:.3} s wall, {:.0} events/s, {:.0} simulated ops/s ({} build)",
            wall.as_secs_f64(),
            timing["events_per_second"].as_f64().unwrap_or(0.0),
            timing["simulated_operations_per_second"].as_f64().unwrap_or(0.0),
            timing["build"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}
