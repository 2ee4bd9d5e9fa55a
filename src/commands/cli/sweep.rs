//! `dynasim sweep`: a grid of configurations under common seeds, written as tables.

use super::parse_seeds;
use crate::error::Error;
use crate::report;
use crate::scenario::{self};
use clap::{Args, ValueHint};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct SweepArgs {
    /// Scenario file to vary.
    #[arg(value_hint = ValueHint::FilePath)]
    scenario: PathBuf,
    /// An axis: path=v1,v2,... (axes multiply), or a:b=x1:y1,x2:y2 to vary paths together;
    /// protocol.rw=1:1,2:2 is short for protocol.r:protocol.w. A single value just sets a field.
    #[arg(value_hint = ValueHint::Other, long = "set", value_name = "PATH=VALUES")]
    set: Vec<String>,
    /// Seeds per configuration: N (seeds 1 to N) or A..B (inclusive).
    #[arg(value_hint = ValueHint::Other, long, default_value = "3")]
    seeds: String,
    /// Simulations run side by side [default: the number of cores].
    #[arg(value_hint = ValueHint::Other, long)]
    jobs: Option<usize>,
    /// Run only configurations whose index is i modulo n, as i/n (for job arrays).
    #[arg(value_hint = ValueHint::Other, long)]
    shard: Option<String>,
    /// Output folder [default: reports/sweep-<scenario name>].
    #[arg(value_hint = ValueHint::DirPath, long)]
    out: Option<PathBuf>,
    /// Targets, e.g. 'p999_get_ms<=20,stale_read_fraction<=0.001': list the cheapest
    /// configurations meeting all of them, and which target binds for the others. Each is judged
    /// on the end of its 95% interval that makes it harder to meet, and availability>=0.99 is
    /// added unless an availability target is given.
    #[arg(value_hint = ValueHint::Other, long)]
    recommend: Option<String>,
    /// Print one JSON object on stdout instead of the table: {"out", "configurations",
    /// "recommendation"} (configurations as in results.json, recommendation as recommend.json).
    #[arg(long)]
    json: bool,
}

pub(super) fn parse_shard(text: &str) -> Result<(usize, usize), Error> {
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
pub(super) fn sweep_results(
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
pub(super) fn sweep_digest(source: &serde_json::Value, axes: &[String], seeds: &serde_json::Value) -> String {
    let mut bytes = report::to_bytes(source);
    bytes.extend(report::to_bytes(&serde_json::json!({ "axes": axes, "seeds": seeds })));
    format!("md5:{:x}", md5::compute(bytes))
}

/// How results.json names a seed list: the count for 1..N, else "A..B".
pub(super) fn seeds_label(seeds: &[u64]) -> serde_json::Value {
    match (seeds.first(), seeds.last()) {
        (Some(1), Some(&b)) => serde_json::json!(b),
        (Some(a), Some(b)) => serde_json::json!(format!("{a}..{b}")),
        _ => serde_json::json!(0),
    }
}

pub(super) fn write_sweep(
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

pub(super) fn sweep_command(args: SweepArgs) -> Result<ExitCode, Error> {
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
