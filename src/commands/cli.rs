//! The command line. Help text comes from these doc comments.
//!
//! Exit codes: 0 success, 1 an invariant violation, 2 bad input or an I/O error.
//! Every failure prints the seed and a replay command.

use crate::commands::junit::{self, CheckRun};
use crate::commands::progress::Progress;
use crate::error::Error;
use crate::observe::checks::{self, Finding};
use crate::observe::trace::{TraceFilter, TraceSink, Tracer};
use crate::report;
use crate::scenario::{self, Scenario, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME};
use crate::sim::engine::SimTime;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

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
    Run(RunArgs),
    /// Run scenarios under seeds and evaluate their invariants; exit 1 on any violation.
    Check(CheckArgs),
    /// Run the fixed benchmarks and print events/s, operations/s and peak memory.
    Bench(BenchArgs),
    /// Run a grid of configurations under several seeds and write a table (CSV and JSON).
    Sweep(SweepArgs),
    /// Combine the outputs of sharded sweeps into what one unsharded sweep writes.
    Merge(MergeArgs),
    /// Draw every chart a run's or sweep's folder supports, with index.html and summary.md.
    Plot(PlotArgs),
    /// Reduce a failing run (faults, duration, clients, keys, nodes) while the same invariant
    /// still fails; write the minimal scenario.
    Shrink(ShrinkArgs),
    /// Explain what happened to one key in one run: its writes and their causal past, which
    /// were lost, what every node holds at the end, and every event that touched it.
    Explain(ExplainArgs),
    /// Run many seeds with randomized fault schedules from the scenario's nemesis menu (each
    /// seed enables a random subset at a random rate) and list every seed that breaks an
    /// invariant, with its replay command.
    Explore(ExploreArgs),
    /// Print a shell completion script: `dynasim completions bash > /etc/bash_completion.d/dynasim`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `dynasim manpage > dynasim.1; man ./dynasim.1`.
    Manpage,
}

#[derive(Args, Debug)]
struct ShrinkArgs {
    scenario: PathBuf,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Where to write the minimal scenario [default: <scenario name>-shrunk.json in the current folder].
    #[arg(long)]
    out: Option<PathBuf>,
    /// At most this many candidate runs.
    #[arg(long, default_value_t = 500)]
    budget: usize,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    scenario: PathBuf,
    /// The key, as a violation names it (e.g. k22).
    #[arg(long)]
    key: String,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// At most this many events are printed.
    #[arg(long, default_value_t = 400)]
    events: usize,
}

#[derive(Args, Debug)]
struct ExploreArgs {
    /// Scenario file with a "nemesis" menu.
    scenario: PathBuf,
    /// Seeds: N (seeds 1 to N) or A..B (inclusive).
    #[arg(long, default_value = "1..100")]
    seeds: String,
    /// Simulations run side by side [default: the number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Override a field (as for `run`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print one JSON object on stdout instead of the lines (see README, Commands).
    #[arg(long)]
    json: bool,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct PlotArgs {
    /// A folder written by `dynasim run` or `dynasim sweep`.
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Scenario file to vary.
    scenario: PathBuf,
    /// An axis: path=v1,v2,... (axes multiply), or a:b=x1:y1,x2:y2 to vary paths together;
    /// protocol.rw=1:1,2:2 is short for protocol.r:protocol.w. A single value just sets a field.
    #[arg(long = "set", value_name = "PATH=VALUES")]
    set: Vec<String>,
    /// Seeds per configuration: N (seeds 1 to N) or A..B (inclusive).
    #[arg(long, default_value = "3")]
    seeds: String,
    /// Simulations run side by side [default: the number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only configurations whose index is i modulo n, as i/n (for job arrays).
    #[arg(long)]
    shard: Option<String>,
    /// Output folder [default: reports/sweep-<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Targets, e.g. 'p999_get_ms<=20,stale_read_fraction<=0.001': list the cheapest
    /// configurations meeting all of them, and which target binds for the others. Each is judged
    /// on the end of its 95% interval that makes it harder to meet, and availability>=0.99 is
    /// added unless an availability target is given.
    #[arg(long)]
    recommend: Option<String>,
    /// Print one JSON object on stdout instead of the table: {"out", "configurations",
    /// "recommendation"} (configurations as in results.json, recommendation as recommend.json).
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Folders written by `dynasim sweep --shard i/n`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged results.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Benchmarks to run: queue, queue-large, model, scaling, cart, baseline, large, hour, day, sweep [default: all].
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Runs of each benchmark; the run with the median rate is reported (machines are noisy)
    /// [default: 3, or 1 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=99))]
    runs: Option<u32>,
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
    /// Seeds: N (seeds 1 to N) or A..B (inclusive) [default: each scenario's own seed].
    #[arg(long)]
    seeds: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Override a field in every scenario (as for `run`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Instead of the invariants, run each scenario twice per seed and compare the trace and
    /// the report; a difference names the first differing event.
    #[arg(long)]
    determinism: bool,
    /// Simulations run side by side [default: the cores]; the output does not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Print one JSON object on stdout instead of the lines (see README, Commands).
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print only failures, errors and the closing tally (no line per passing run).
    #[arg(long, short)]
    quiet: bool,
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
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Trace only events about this key (e.g. k42).
    #[arg(long, requires = "trace")]
    trace_key: Option<String>,
    /// Trace only events at, from or to this node or client (e.g. n3, c7).
    #[arg(long, requires = "trace")]
    trace_node: Option<String>,
    /// Trace only this message kind (get_request, ...) or verb (drop, crash, timer, ...).
    #[arg(long, requires = "trace")]
    trace_kind: Option<String>,
    /// Trace only from this simulated time on (ms).
    #[arg(long, requires = "trace")]
    trace_from_ms: Option<f64>,
    /// Trace only up to this simulated time (ms).
    #[arg(long, requires = "trace")]
    trace_to_ms: Option<f64>,
    /// Write every client operation (invocation, then ok, fail or info) to this file, as
    /// Jepsen's checkers read it (FILE.edn) or as JSON lines (FILE.jsonl); see README.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

/// A trace filter must be able to match something in this scenario: a filter naming no key,
/// node or kind that exists, or a time range that is empty, would write an empty trace.
fn check_trace_filter(args: &RunArgs, scenario: &Scenario) -> Result<(), Error> {
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
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "dynasim", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Manpage) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| Error::io("render the man page", Path::new("dynasim.1"), e))?;
            std::io::Write::write_all(&mut std::io::stdout(), &page)
                .map_err(|e| Error::io("write the man page", Path::new("stdout"), e))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Merge(args)) => merge(args),
        Some(Command::Explore(args)) => explore(args),
        Some(Command::Explain(args)) => explain(args),
        Some(Command::Shrink(args)) => shrink(args),
        Some(Command::Plot(args)) => {
            let charts = crate::report::charts::plot_folder(&args.dir)?;
            println!("{} charts, index.html and summary.md in {}", charts.len(), args.dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_shard(text: &str) -> Result<(usize, usize), Error> {
    let bad = || Error::Usage(format!("--shard {text}: expected i/n with 0 <= i < n, e.g. --shard 0/4"));
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// results.json: a pure function of the scenario, the axes, the seeds and the rows, so merged
/// shards write exactly what one sweep writes. `seeds` is the count N for seeds 1 to N, or
/// "A..B"; a shard also records which it is ("shard": "i/n"), so that `merge` can tell a
/// missing or repeated one. `digest` identifies the sweep by content (see [`sweep_digest`]).
fn sweep_results(
    scenario: &str,
    digest: &str,
    axes: &[String],
    seeds: &serde_json::Value,
    shard: Option<(usize, usize)>,
    rows: &[serde_json::Value],
) -> serde_json::Value {
    let mut results = serde_json::json!({
        "scenario": scenario,
        "scenario_digest": digest,
        "axes": axes,
        "seeds": seeds,
        "configurations": crate::commands::sweep::aggregate(rows),
        "rows": rows,
    });
    if let (Some((i, n)), Some(o)) = (shard, results.as_object_mut()) {
        o.insert("shard".into(), serde_json::json!(format!("{i}/{n}")));
    }
    results
}

/// What makes two sweeps the same sweep: the scenario's content (not its file name or its
/// "name"), the axes and the seeds. `merge` refuses shards whose digests differ.
fn sweep_digest(source: &serde_json::Value, axes: &[String], seeds: &serde_json::Value) -> String {
    let mut bytes = report::to_bytes(source);
    bytes.extend(report::to_bytes(&serde_json::json!({ "axes": axes, "seeds": seeds })));
    format!("md5:{:x}", md5::compute(bytes))
}

/// How results.json names a seed list: the count for 1..N, else "A..B".
fn seeds_label(seeds: &[u64]) -> serde_json::Value {
    match (seeds.first(), seeds.last()) {
        (Some(1), Some(&b)) => serde_json::json!(b),
        (Some(a), Some(b)) => serde_json::json!(format!("{a}..{b}")),
        _ => serde_json::json!(0),
    }
}

fn write_sweep(
    out: &Path,
    kind: report::FolderKind,
    results: &serde_json::Value,
    scenario_source: &[u8],
    command: &str,
    recommend: Option<&serde_json::Value>,
) -> Result<(), Error> {
    let rows = results["rows"].as_array().cloned().unwrap_or_default();
    let mut files = vec![
        ("scenario.json", scenario_source.to_vec()),
        ("command.txt", format!("{command}\n").into_bytes()),
        ("results.csv", crate::commands::sweep::csv(&rows).into_bytes()),
        (
            "configurations.csv",
            crate::commands::sweep::aggregate_csv(results["configurations"].as_array().map_or(&[][..], |v| v)).into_bytes(),
        ),
        ("results.json", report::to_bytes(results)),
    ];
    if let Some(r) = recommend {
        files.push(("recommend.json", report::to_bytes(r)));
    }
    report::write_folder(out, kind, &files)
}

fn sweep_command(args: SweepArgs) -> Result<ExitCode, Error> {
    let text = std::fs::read_to_string(&args.scenario).map_err(|e| Error::io("read the scenario", &args.scenario, e))?;
    let file = args.scenario.display().to_string();
    let base = scenario::load(&file, &text, &[])?;
    let axes = args.set.iter().map(|a| crate::commands::sweep::parse_axis(a)).collect::<Result<Vec<_>, _>>()?;
    let targets = args.recommend.as_deref().map(crate::commands::sweep::parse_targets).transpose()?;
    let sharded = args.shard.as_deref().map(parse_shard).transpose()?;
    let shard = sharded.unwrap_or((0, 1));
    let seeds = parse_seeds(&args.seeds)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("sweep-{}", report::folder::folder_name(&base.name))));
    report::check_folder_writable(&out)?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let configs = crate::commands::sweep::grid(&axes);
    if shard.1 > configs.len() {
        return Err(Error::Usage(format!(
            "--shard {}: {} shards for {} configurations would leave shards with nothing to run; expected n at most {}",
            args.shard.as_deref().unwrap_or(""),
            shard.1,
            configs.len(),
            configs.len()
        )));
    }
    let rows = crate::commands::sweep::run(&file, &text, &configs, &seeds, jobs, shard);
    if !rows.is_empty() && rows.iter().all(|r| r.get("skipped").is_some()) {
        let why: Vec<String> = rows.iter().filter_map(|r| r["skipped"].as_str()).map(String::from).collect();
        return Err(Error::Usage(format!(
            "sweep: every configuration was invalid, nothing ran (the first: {}); no results written",
            why.first().map_or("?", String::as_str)
        )));
    }
    let digest = sweep_digest(&base.source, &args.set, &seeds_label(&seeds));
    let results = sweep_results(&base.name, &digest, &args.set, &seeds_label(&seeds), sharded, &rows);
    let mut command = format!("dynasim sweep {file} --seeds {}", args.seeds);
    for s in &args.set {
        command.push_str(&format!(" --set '{s}'"));
    }
    if let Some(sh) = &args.shard {
        command.push_str(&format!(" --shard {sh}"));
    }
    if let Some(targets) = &args.recommend {
        command.push_str(&format!(" --recommend '{targets}'"));
    }
    // --recommend's verdict is saved beside the results, for the page and for scripts.
    let recommendation = targets.map(|targets| {
        let (ok, missed) =
            crate::commands::sweep::recommend(results["configurations"].as_array().map_or(&[][..], |v| v), &targets);
        let text = report::recommendation(&ok, &missed);
        let verdict = crate::commands::sweep::recommend_json(&targets, &ok, &missed, &text);
        (text, verdict)
    });
    write_sweep(
        &out,
        report::FolderKind::Sweep,
        &results,
        &report::to_bytes(&base.source),
        &command,
        recommendation.as_ref().map(|r| &r.1),
    )?;
    if args.json {
        let verdict = recommendation.as_ref().map_or(serde_json::Value::Null, |r| r.1.clone());
        let out = out.display().to_string();
        println!("{}", serde_json::json!({ "out": out, "configurations": results["configurations"], "recommendation": verdict }));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", report::sweep_table(&results));
    if let Some((text, _)) = &recommendation {
        print!("{text}");
    }
    println!("results: {}", out.join("results.csv").display());
    Ok(ExitCode::SUCCESS)
}

fn merge(args: MergeArgs) -> Result<ExitCode, Error> {
    // Writing the merge over one of its shards would replace the shard with the merge.
    if let Ok(out) = args.out.canonicalize() {
        if let Some(dir) = args.dirs.iter().find(|d| d.canonicalize().is_ok_and(|d| d == out)) {
            return Err(Error::Usage(format!(
                "--out {}: is the shard folder {}; expected a folder other than the inputs",
                args.out.display(),
                dir.display()
            )));
        }
    }
    report::check_folder_writable(&args.out)?;
    let mut rows = Vec::new();
    let mut first: Option<(serde_json::Value, Vec<u8>)> = None;
    let mut shards: Vec<(usize, usize, &Path)> = Vec::new();
    for dir in &args.dirs {
        let path = dir.join("results.json");
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Usage(format!("{}: not a sweep's results: {e}", path.display())))?;
        match &first {
            None => {
                if v["scenario_digest"].as_str().is_none() {
                    return Err(Error::Usage(format!(
                        "{}: has no scenario_digest (written by an older dynasim); expected shards from this version: \
                         rerun the sweep",
                        path.display()
                    )));
                }
                let src = dir.join("scenario.json");
                let source = std::fs::read(&src).map_err(|e| Error::io("read", &src, e))?;
                first = Some((v.clone(), source));
            }
            Some((f, _)) => {
                for key in ["scenario_digest", "scenario", "axes", "seeds"] {
                    if f[key] != v[key] {
                        return Err(Error::Usage(format!(
                            "{}: {key} differs from the first folder's (the scenario's content, axes and seeds must \
                             be the same); these are not shards of one sweep",
                            path.display()
                        )));
                    }
                }
            }
        }
        let shard = v["shard"].as_str().map(parse_shard).transpose()?.ok_or_else(|| {
            Error::Usage(format!(
                "{}: not a shard (no \"shard\": \"i/n\"); merge takes the folders of `sweep --shard i/n`",
                path.display()
            ))
        })?;
        shards.push((shard.0, shard.1, dir.as_path()));
        rows.extend(v["rows"].as_array().cloned().unwrap_or_default());
    }
    let Some((f, source)) = first else { return Err(Error::Usage("merge: no folders given".into())) };
    check_shards(&mut shards)?;
    crate::commands::sweep::sort_rows(&mut rows);
    rows.dedup();
    let axes: Vec<String> =
        f["axes"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    let results = sweep_results(
        f["scenario"].as_str().unwrap_or(""),
        f["scenario_digest"].as_str().unwrap_or(""),
        &axes,
        &f["seeds"],
        None,
        &rows,
    );
    let dirs: Vec<String> = args.dirs.iter().map(|d| d.display().to_string()).collect();
    write_sweep(
        &args.out,
        report::FolderKind::Merge,
        &results,
        &source,
        &format!("dynasim merge {} --out {}", dirs.join(" "), args.out.display()),
        None,
    )?;
    print!("{}", report::sweep_table(&results));
    Ok(ExitCode::SUCCESS)
}

fn bench(args: BenchArgs) -> Result<ExitCode, Error> {
    if let Some(name) = &args.child {
        println!("{}", crate::commands::bench::run_one(name, args.quick)?);
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> = if args.only.is_empty() {
        crate::commands::bench::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.only.clone()
    };
    let exe = std::env::current_exe().map_err(|e| Error::io("find this program", Path::new("dynasim"), e))?;
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 3 });
    let mut results = Vec::new();
    for name in &names {
        let mut figures = Vec::new();
        for _ in 0..runs {
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
            figures.push(v);
        }
        let rate = |v: &serde_json::Value| {
            let key = if v["benchmark"] == "sweep" { "speedup" } else { "events_per_s" };
            v[key].as_f64().unwrap_or(0.0)
        };
        figures.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
        let mut v = figures.swap_remove(figures.len() / 2);
        v["runs"] = serde_json::json!(runs);
        if args.json {
            println!("{v}");
        }
        results.push(v);
    }
    if !args.json {
        print!("{}", report::bench_table(&results));
        println!("(each row is the run with the median rate of {runs}; {} build)", report::build_kind());
    }
    Ok(ExitCode::SUCCESS)
}

/// A merge needs every shard of one sweep once: the same n everywhere, each i from 0 to n-1.
fn check_shards(shards: &mut [(usize, usize, &Path)]) -> Result<(), Error> {
    shards.sort_by_key(|s| s.0);
    let n = shards[0].1;
    if let Some(other) = shards.iter().find(|s| s.1 != n) {
        return Err(Error::Usage(format!(
            "{}: shard {}/{} is of a sweep cut into {} shards, the others into {n}",
            other.2.display(),
            other.0,
            other.1,
            other.1
        )));
    }
    if let Some(w) = shards.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::Usage(format!(
            "shard {}/{n} given twice ({} and {}); expected each shard once",
            w[0].0,
            w[0].2.display(),
            w[1].2.display()
        )));
    }
    // Shards are distinct and below n, so fewer than n of them means some are missing.
    if shards.len() < n {
        let missing: Vec<String> =
            (0..n).filter(|i| !shards.iter().any(|s| s.0 == *i)).take(5).map(|i| format!("{i}/{n}")).collect();
        let more = n - shards.len() - missing.len();
        return Err(Error::Usage(format!(
            "merge: {} of {n} shards given; missing {}{}; nothing was written",
            shards.len(),
            missing.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )));
    }
    Ok(())
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

fn shrink(args: ShrinkArgs) -> Result<ExitCode, Error> {
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

fn explain(args: ExplainArgs) -> Result<ExitCode, Error> {
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

/// One explored seed: the overrides that replay it, and what broke.
type ExploredSeed = (Vec<String>, Vec<checks::Violation>);

fn explore(args: ExploreArgs) -> Result<ExitCode, Error> {
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
    let mut runs: Vec<Result<ExploredSeed, Error>> = Vec::new();
    crate::sim::parallel::map_in_order(
        &seeds,
        jobs,
        |&seed| crate::commands::explore::explore_seed(&file, &text, &args.set, seed),
        |i, judged| {
            runs.push(judged);
            progress.update(i + 1, None);
        },
    );
    progress.finish();
    let checked: Vec<CheckRun> = runs
        .into_iter()
        .enumerate()
        .map(|(i, judged)| {
            let seed = seeds[i];
            let (findings, error) = match judged {
                Ok((sets, violations)) => (
                    violations
                        .into_iter()
                        .map(|violation| Finding {
                            scenario: file.clone(),
                            seed,
                            replay: replay_command(&args.scenario, seed, &sets),
                            violation,
                        })
                        .collect(),
                    None,
                ),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            CheckRun { scenario: file.clone(), seed: Some(seed), findings, error }
        })
        .collect();
    if let Some(path) = &args.junit {
        report::write_file(path, junit::junit(&checked).as_bytes())?;
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

/// Runs a scenario twice under one seed, hashing every traced event; any difference in the
/// events or the report is a violation naming the first differing event.
fn determinism(scenario: &Scenario, seed: u64) -> Result<Vec<checks::Violation>, Error> {
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

fn replay_command(path: &Path, seed: u64, sets: &[String]) -> String {
    let mut c = format!("dynasim run {} --seed {seed}", path.display());
    for s in sets {
        c.push_str(&format!(" --set '{s}'"));
    }
    c
}

/// One run of `check`: a scenario file, and the scenario with a seed, or why it did not load.
type CheckItem<'a> = (&'a PathBuf, Result<(&'a Scenario, u64), &'a Error>);

fn check(args: CheckArgs) -> Result<ExitCode, Error> {
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
    let evaluate = |(_, item): &CheckItem| -> Result<Vec<checks::Violation>, String> {
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
    let mut runs = Vec::new();
    let mut failed_so_far = 0;
    let progress = Progress::on_terminal(if args.determinism { "check --determinism" } else { "check" }, "runs", work.len());
    crate::sim::parallel::map_in_order(&work, jobs, evaluate, |i, judged| {
        let (path, item) = &work[i];
        let seed = item.as_ref().ok().map(|&(_, seed)| seed);
        let scenario = path.display().to_string();
        progress.clear();
        let run = match judged {
            Err(e) => CheckRun { scenario, seed, findings: Vec::new(), error: Some(e) },
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
                CheckRun { scenario, seed, findings, error: None }
            }
        };
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
        failed_so_far += usize::from(!run.passed());
        runs.push(run);
        progress.update(i + 1, Some(failed_so_far));
    });
    progress.finish();
    if let Some(path) = &args.junit {
        report::write_file(path, junit::junit(&runs).as_bytes())?;
    }
    if args.json {
        println!("{}", junit::json("check", &runs));
    }
    Ok(tally_exit(&runs, args.json, "bad input or a simulator bound"))
}

/// The closing line of `check` and `explore` (unless `json`), and the exit code: the worst
/// outcome, a run that could not be made (2) over a violation (1). `why` says what can stop a run.
fn tally_exit(runs: &[CheckRun], json: bool, why: &str) -> ExitCode {
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

/// Writes the client history to a temporary name beside `path`, then renames it into place.
fn write_history(
    path: &Path,
    format: crate::observe::ops::HistoryFormat,
    history: &crate::observe::ops::ClientHistory,
) -> Result<(), Error> {
    use std::io::Write;
    let tmp = report::temporary_beside(path);
    let written = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        history.write(format, &mut out)?;
        out.flush()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write the history", &tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("rename the history into place", path, e)
    })
}

fn run_one(args: RunArgs) -> Result<ExitCode, Error> {
    let scenario = load_scenario(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(report::folder::folder_name(&scenario.name)));
    // Everything that can fail without simulating fails first.
    check_trace_filter(&args, &scenario)?;
    report::check_folder_writable(&out)?;
    if let Some(path) = &args.trace {
        report::check_file_writable(path)?;
    }
    let history_format = match &args.history {
        None => None,
        Some(path) => {
            report::check_file_writable(path)?;
            Some(crate::observe::ops::HistoryFormat::for_path(path).ok_or_else(|| {
                Error::Usage(format!(
                    "--history {}: expected a file ending in .edn (EDN, as Jepsen writes histories) or .jsonl (JSON lines)",
                    path.display()
                ))
            })?)
        }
    };
    let wall_started = Instant::now();
    let result = match &args.trace {
        None => crate::simulate_with(&scenario, seed, None, args.history.is_some())?.0,
        Some(path) => {
            let filter = TraceFilter {
                key: args.trace_key.clone(),
                node: args.trace_node.clone(),
                kind: args.trace_kind.clone(),
                from: args.trace_from_ms.map(|ms| SimTime(crate::sim::engine::millis_to_nanos(ms))),
                to: args.trace_to_ms.map(|ms| SimTime(crate::sim::engine::millis_to_nanos(ms))),
            };
            // Streamed to a temporary name and renamed once complete.
            let tmp = report::temporary_beside(path);
            let file = std::fs::File::create(&tmp).map_err(|e| Error::io("create the trace file", &tmp, e))?;
            let tracer = Tracer::new(filter, TraceSink::File(std::io::BufWriter::new(file)));
            let traced = crate::simulate_with(&scenario, seed, Some(tracer), args.history.is_some());
            let (result, tracer) = traced.inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })?;
            if let Some(mut t) = tracer {
                if let Err(e) = t.finish() {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(Error::io("write the trace", &tmp, e));
                }
            }
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io("rename the trace into place", path, e)
            })?;
            result
        }
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
