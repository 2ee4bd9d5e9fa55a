//! `dynasim bench`: the fixed benchmarks, each in a child process of its own.

use crate::error::Error;
use crate::report;
use clap::{Args, ValueHint};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct BenchArgs {
    /// Benchmarks to run: queue, queue-large, model, scaling, cart, baseline, large, hour, day, sweep [default: all].
    #[arg(value_hint = ValueHint::Other, long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Runs of each benchmark; the run with the median rate is reported (machines are noisy)
    /// [default: 3, or 1 with --quick].
    #[arg(value_hint = ValueHint::Other, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=99))]
    runs: Option<u32>,
    /// Shorter runs, for a smoke test (the figures are not comparable).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object per benchmark instead of the table.
    #[arg(long)]
    json: bool,
}

/// Names the one benchmark a child process runs. An environment variable rather than a hidden
/// flag, so that no internal option shows in help, man pages or completions.
const CHILD: &str = "DYNASIM_BENCH_CHILD";

pub(super) fn bench(args: BenchArgs) -> Result<ExitCode, Error> {
    if let Ok(name) = std::env::var(CHILD) {
        println!("{}", crate::commands::bench::run_one(&name, args.quick)?);
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
            cmd.arg("bench").env(CHILD, name);
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
