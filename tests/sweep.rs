//! Sweeps: independent of jobs and shards, invalid combinations skipped, common random numbers.

use crate::common;
use crate::common::*;
use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

fn dir(name: &str) -> common::Scratch {
    common::Scratch::new("sweep", name)
}

fn sweep(out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sweep",
        "scenarios/quickstart.json",
        "--set",
        "duration_ms=300",
        "--set",
        "protocol.rw=1:1,2:2,4:1",
        "--set",
        "protocol.coordination=preference_list_head,client_driven",
        "--seeds",
        "2",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let o = dynasim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn read(dir: &str, file: &str) -> String {
    std::fs::read_to_string(format!("{dir}/{file}")).unwrap_or_else(|e| panic!("{dir}/{file}: {e}"))
}

#[test]
fn results_do_not_depend_on_jobs() {
    let (a, b) = (dir("j1"), dir("j2"));
    sweep(&a, &["--jobs", "1"]);
    sweep(&b, &["--jobs", "2"]);
    assert_eq!(read(&a, "results.json"), read(&b, "results.json"));
    assert_eq!(read(&a, "results.csv"), read(&b, "results.csv"));
}

#[test]
fn merged_shards_equal_one_run_and_invalid_combinations_are_skipped() {
    let whole = dir("whole");
    let o = sweep(&whole, &[]);
    let (s0, s1, s2, merged) = (dir("s0"), dir("s1"), dir("s2"), dir("merged"));
    sweep(&s0, &["--shard", "0/3"]);
    sweep(&s1, &["--shard", "1/3"]);
    sweep(&s2, &["--shard", "2/3"]);
    let m = dynasim(&["merge", &s0, &s1, &s2, "--out", &merged]);
    assert_eq!(m.status.code(), Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    assert_eq!(read(&whole, "results.json"), read(&merged, "results.json"));
    assert_eq!(read(&whole, "results.csv"), read(&merged, "results.csv"));
    // R=4 > N=3: skipped with the reason, not crashed on.
    let results: serde_json::Value = serde_json::from_str(&read(&whole, "results.json")).expect("json");
    let configs = results["configurations"].as_array().expect("configurations");
    assert_eq!(configs.len(), 6);
    let skipped: Vec<&serde_json::Value> = configs.iter().filter(|c| c.get("skipped").is_some()).collect();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[0]["skipped"].as_str().unwrap_or_default().contains("protocol.r: 4 is out of range"), "{}", skipped[0]);
    let ran = &configs[0];
    assert_eq!(ran["seeds"], 2);
    assert!(ran["p999_get_ms"]["mean"].as_f64().unwrap_or(0.0) > 0.0 && ran["p999_get_ms"]["ci95"].is_number());
    assert_eq!(results["rows"].as_array().expect("rows").len(), 4 * 2 + 2, "two seeds for each valid configuration");
    assert!(String::from_utf8_lossy(&o.stdout).contains("skipped: protocol.r"));
    // Shards of different sweeps refuse to merge.
    let other = dir("other");
    dynasim(&["sweep", "scenarios/quickstart.json", "--set", "duration_ms=300", "--seeds", "1", "--out", &other]);
    assert_eq!(dynasim(&["merge", &s0, &other, "--out", &dir("bad")]).status.code(), Some(2));
    // A missing or repeated shard is an error, and nothing is written.
    let partial = dir("partial");
    let m = dynasim(&["merge", &s0, &s2, "--out", &partial]);
    assert_eq!(m.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&m.stderr).contains("2 of 3 shards given; missing 1/3"),
        "{}",
        String::from_utf8_lossy(&m.stderr)
    );
    assert!(!std::path::Path::new(&partial).exists());
    let m = dynasim(&["merge", &s0, &s1, &s1, &s2, "--out", &partial]);
    assert!(String::from_utf8_lossy(&m.stderr).contains("shard 1/3 given twice"), "{}", String::from_utf8_lossy(&m.stderr));
    assert_eq!(m.status.code(), Some(2));
}

#[test]
fn seeds_read_the_same_in_every_command() {
    // N is seeds 1 to N; A..B is inclusive.
    let small = |out: &str, seeds: &str| {
        let args = ["sweep", "scenarios/quickstart.json", "--set", "duration_ms=200", "--seeds", seeds, "--out", out];
        assert_eq!(dynasim(&args).status.code(), Some(0));
    };
    let (count, range) = (dir("seeds-n"), dir("seeds-range"));
    small(&count, "2");
    small(&range, "1..2");
    assert_eq!(read(&count, "results.json"), read(&range, "results.json"));
    let later = dir("seeds-later");
    small(&later, "3..4");
    let results: serde_json::Value = serde_json::from_str(&read(&later, "results.json")).expect("json");
    assert_eq!(results["seeds"], "3..4");
    let seeds: Vec<u64> = results["rows"].as_array().expect("rows").iter().filter_map(|r| r["seed"].as_u64()).collect();
    assert!(seeds.iter().all(|s| *s == 3 || *s == 4) && !seeds.is_empty());
    let o = dynasim(&["check", "scenarios/quickstart.json", "--set", "duration_ms=200", "--seeds", "3"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("seed 1\n") && out.contains("seed 3\n") && out.contains("3 passed"), "{out}");
}

#[test]
fn recommend_lists_what_meets_the_targets() {
    let out = dir("rec");
    let o = sweep(&out, &["--recommend", "stale_read_fraction<=0.5,availability>=0.9"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("meets every target (cheapest first"), "{text}");
    assert!(text.contains("config 0:"), "{text}");
    // The verdict is saved, and the page and summary.md carry it; the tradeoff chart shades
    // the region that meets the targets.
    let saved: serde_json::Value = serde_json::from_str(&read(&out, "recommend.json")).expect("recommend.json");
    assert_eq!(saved["targets"][0]["metric"], "stale_read_fraction");
    assert!(saved["meets"].as_array().is_some_and(|m| m.iter().any(|c| c["config"] == 0)), "{saved}");
    assert_eq!(dynasim(&["plot", &out]).status.code(), Some(0));
    assert!(read(&out, "index.html").contains("<h2>Recommendation</h2>"));
    assert!(read(&out, "index.html").contains("<th>recommended</th>"), "the table marks the recommended configurations");
    assert!(read(&out, "summary.md").contains("meets every target"));
    assert!(read(&out, "tradeoff.svg").contains("meets every target"));
    assert!(
        read(&out, "command.txt").contains("--recommend 'stale_read_fraction<=0.5,availability>=0.9'"),
        "the command replays it"
    );
    let bad = dynasim(&["sweep", "scenarios/quickstart.json", "--recommend", "p999<=1"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn configurations_share_workload_network_and_fault_draws_for_a_seed() {
    // Common random numbers: changing R and W moves no draw of the network or the nemesis.
    let a = shipped(
        "nemesis-dynamo",
        &["duration_ms=3000", "quiescent_tail_ms=1000", "nemesis.stop_ms=3000", "protocol.rw=1"]
            .iter()
            .filter(|s| !s.starts_with("protocol.rw"))
            .copied()
            .collect::<Vec<_>>(),
    );
    let b = shipped(
        "nemesis-dynamo",
        &["duration_ms=3000", "quiescent_tail_ms=1000", "nemesis.stop_ms=3000", "protocol.r=1", "protocol.w=3"],
    );
    let (ra, rb) = (dynasim::simulate(&a, 5).expect("the run finishes"), dynasim::simulate(&b, 5).expect("the run finishes"));
    assert_eq!(ra.faults, rb.faults);
    assert_eq!(ra.network_fingerprint, rb.network_fingerprint);
    assert_ne!(ra.metrics.puts.latencies, rb.metrics.puts.latencies, "the configurations do differ");
}

#[test]
fn sweep_json_and_the_csv_files_carry_each_setting_and_interval() {
    let out = dir("json");
    let args = [
        "sweep",
        "scenarios/quickstart.json",
        "--set",
        "duration_ms=300",
        "--set",
        "protocol.request_timeout_ms=1,500",
        "--seeds",
        "2",
        "--recommend",
        "p999_get_ms<=50",
        "--json",
        "--out",
        &out,
    ];
    let o = dynasim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["out"], &*out);
    assert_eq!(v["configurations"].as_array().map(Vec::len), Some(2));
    // A 1 ms request timeout fails most requests quickly: its successes' tail looks fine, but
    // the availability floor keeps it out of the recommendation.
    let meets: Vec<u64> =
        v["recommendation"]["meets"].as_array().expect("meets").iter().filter_map(|c| c["config"].as_u64()).collect();
    assert_eq!(meets, vec![1], "{}", v["recommendation"]);
    let fast = &v["configurations"][0];
    assert!(fast["availability"]["mean"].as_f64().expect("availability") < 0.5, "{fast}");
    assert!(fast["p999_get_all_ms"]["mean"].as_f64() >= fast["p999_get_ms"]["mean"].as_f64(), "{fast}");
    let csv = read(&out, "results.csv");
    let header = csv.lines().next().expect("header");
    assert!(header.starts_with("config,\"duration_ms\",\"protocol.request_timeout_ms\",seed,"), "{header}");
    assert!(csv.lines().nth(1).expect("a row").starts_with("0,\"300\",\"1\",1,"), "{csv}");
    let configurations = read(&out, "configurations.csv");
    assert!(configurations.lines().next().expect("header").contains(",availability_mean,availability_low,availability_high"));
    assert_eq!(configurations.lines().count(), 3);
}

#[test]
fn a_recommendation_without_overlapping_quorums_says_its_clean_reads_were_luck() {
    let config = |id: u64, overlap: bool, cost: f64| {
        serde_json::json!({ "config": id, "settings": [], "quorums_overlap": overlap,
            "stale_read_fraction": { "mean": 0.0, "ci95": 0.0 }, "messages_per_operation": { "mean": cost, "ci95": 0.01 } })
    };
    let text = dynasim::report::recommendation(&[config(0, true, 5.0), config(1, false, 5.005), config(2, false, 9.0)], &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("  config 1:") && l.contains("a tie with the one above")), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("  config 2:") && !l.contains("tie")), "{text}");
    assert_eq!(text.matches("R + W <= N: no stale read was seen").count(), 2, "{text}");
}

#[test]
fn a_configurations_cost_leaves_out_the_staleness_probes_messages() {
    let r = report(&shipped("staleness-probe", &["duration_ms=2000"]));
    let (mut sent, mut probe) = (0, 0);
    for kind in r["messages"].as_object().expect("messages").values() {
        sent += u(&kind["sent_count"]);
        probe += u(&kind["probe_sent_count"]);
    }
    let ops = u(&r["operations"]["get"]["count"]) + u(&r["operations"]["put"]["count"]);
    // The probe writes and reads about as often as the workload: most messages are its.
    assert!(probe * 2 > sent, "{probe} of {sent} messages are the probe's");
    let cost = f(&dynasim::commands::sweep::row_metrics(&r)["messages_per_operation"]);
    assert!((cost - (sent - probe) as f64 / ops as f64).abs() < 1e-9, "cost {cost}");
    // A quorum exchange with N = 3 sends six to eight messages.
    assert!((5.0..9.0).contains(&cost), "cost {cost}");
}
