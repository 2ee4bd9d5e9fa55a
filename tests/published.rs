//! Published results reproduced: each test runs a scenario of `scenarios/published/`
//! at a size that fits CI and compares dynasim's figure with the published one, or with the
//! exact model the publication states, within a stated tolerance.

use crate::common;
use crate::common::*;
use dynasim::cluster::network::MessageKind;
use dynasim::scenario::Scenario;
use dynasim::sim::distribution::Distribution;
use dynasim::sim::rng::{Seeds, SimRng, Stream};
use std::path::Path;
use std::process::Command;

fn published(name: &str, overrides: &[&str]) -> Scenario {
    shipped(&format!("published/{name}"), overrides)
}

/// The latency a scenario gives messages of `kind` (its rule for that kind alone, or the default).
fn leg(s: &Scenario, kind: MessageKind) -> Distribution {
    let rule = s.network.rules.iter().find(|r| r.kinds == [kind] && r.from_datacenter.is_none() && r.latency.is_some());
    rule.and_then(|r| r.latency.clone()).unwrap_or_else(|| s.network.default.latency.clone())
}

/// PBS's WARS model (Bailis et al., VLDB 2012, Section 4) by Monte Carlo, with N = 3 and
/// R = W = 1: the probability that a read sent `t` ms after the write's commit returns it.
fn wars_consistent(w: &Distribution, ars: &Distribution, ts: &[f64], trials: usize) -> Vec<f64> {
    let mut rng: SimRng = Seeds::new(20120827).stream(Stream::Probe, 0);
    let mut draw = |d: &Distribution| d.sample(&mut rng).as_millis_f64();
    let mut hits = vec![0usize; ts.len()];
    for _ in 0..trials {
        let writes: Vec<f64> = (0..3).map(|_| draw(w)).collect();
        let commit = writes.iter().map(|wi| wi + draw(ars)).fold(f64::INFINITY, f64::min);
        for (k, t) in ts.iter().enumerate() {
            // The first responder (fastest R + S) answers the read.
            let (mut best, mut first_r) = (f64::INFINITY, 0.0);
            let mut responder = 0;
            for (i, _) in writes.iter().enumerate() {
                let (r, s) = (draw(ars), draw(ars));
                if r + s < best {
                    (best, first_r, responder) = (r + s, r, i);
                }
            }
            hits[k] += (commit + t + first_r >= writes[responder]) as usize;
        }
    }
    hits.iter().map(|&h| h as f64 / trials as f64).collect()
}

/// Checks a scenario's t-visibility curve against the WARS model, point by point, within four
/// standard errors of the difference (the simulation's and the reference's sampling error).
fn assert_matches_wars(name: &str, overrides: &[&str], trials: usize) -> Vec<(f64, f64)> {
    let s = published(name, overrides);
    let rep = report(&s);
    let curve: Vec<(f64, f64, f64)> = rep["t_visibility"]
        .as_array()
        .expect("t_visibility")
        .iter()
        .map(|p| (f(&p["t_ms"]), f(&p["reflected_fraction"]), f(&p["reads_count"])))
        .collect();
    let ts: Vec<f64> = curve.iter().map(|c| c.0).collect();
    let model = wars_consistent(&leg(&s, MessageKind::PutRequest), &leg(&s, MessageKind::GetRequest), &ts, trials);
    for ((t, got, reads), want) in curve.iter().zip(&model) {
        let var = |p: f64, n: f64| p * (1.0 - p) / n;
        let tolerance = 4.0 * (var(*want, *reads) + var(*want, trials as f64)).sqrt() + 1e-4;
        assert!(
            (got - want).abs() <= tolerance,
            "{name} t={t}: dynasim {got:.4} over {reads} reads, WARS {want:.4} (±{tolerance:.4})"
        );
    }
    curve.iter().zip(model).map(|(c, m)| (c.1, m)).collect()
}

#[test]
fn pbs_exponential_t_visibility_matches_the_wars_model_and_the_papers_figures() {
    let slow = assert_matches_wars("pbs-exponential", &["duration_ms=2000"], 40_000);
    assert!((slow[0].0 - 0.41).abs() < 0.03, "the paper: about 41% at t=0, got {}", slow[0].0);
    let fast = assert_matches_wars("pbs-exponential-fast-writes", &["duration_ms=300"], 40_000);
    assert!((fast[0].0 - 0.94).abs() < 0.01, "the paper: 94% at t=0, got {}", fast[0].0);
}

#[test]
fn pbs_linkedin_disk_fit_matches_the_wars_model_and_the_papers_t_zero_figure() {
    let disk = assert_matches_wars("pbs-lnkd-disk", &["duration_ms=2000"], 40_000);
    assert!((disk[0].0 - 0.439).abs() < 0.03, "the paper: 43.9% at t=0, got {}", disk[0].0);
}

/// P(min of three Gamma(2, 1) sums > x): a read with R = 1 under exponential legs of mean 1 ms.
fn read_survival(x: f64) -> f64 {
    ((1.0 + x) * (-x).exp()).powi(3)
}

/// P(min of three (Exp(mean 10) + Exp(mean 1)) > x): a write with W = 1.
fn write_survival(x: f64) -> f64 {
    let (a, b) = (0.1f64, 1.0f64);
    ((b * (-a * x).exp() - a * (-b * x).exp()) / (b - a)).powi(3)
}

/// The x with survival(x) = 1 - p, by bisection.
fn quantile(survival: fn(f64) -> f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 200.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if survival(mid) > 1.0 - p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[test]
fn read_and_write_latency_percentiles_are_the_exact_order_statistics() {
    let workload = r#"workload.arrivals={"kind": "closed", "clients": 200, "think_time": {"kind": "constant", "ms": 0.001}}"#;
    let rep = report(&published("pbs-exponential", &["duration_ms=1000", workload, "workload.keys=100000", "probe.clients=1"]));
    for (op, survival) in [("get", read_survival as fn(f64) -> f64), ("put", write_survival)] {
        let lat = &rep["operations"][op]["latency_ms"];
        assert!(u(&rep["operations"][op]["success_count"]) > 20_000);
        for (field, p, tolerance) in [("p50", 0.5, 0.03), ("p90", 0.9, 0.04), ("p99", 0.99, 0.08)] {
            let (got, want) = (f(&lat[field]), quantile(survival, p));
            assert!((got / want - 1.0).abs() < tolerance, "{op} {field}: dynasim {got:.3} ms, exact {want:.3} ms");
        }
    }
}

#[test]
fn client_driven_coordination_beats_server_driven_by_a_hop_on_every_seed() {
    for seed in 1..=3 {
        let run = |coordination: &str| {
            let sets = ["duration_ms=1500".to_string(), format!("seed={seed}"), format!("protocol.coordination={coordination}")];
            let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
            report(&published("dynamo-coordination", &refs))
        };
        let (server, client) = (run("load_balancer"), run("client_driven"));
        for op in ["get", "put"] {
            let lat = |rep: &serde_json::Value, field: &str| f(&rep["operations"][op]["latency_ms"][field]);
            // A forward is one network leg (median 0.5 ms) for the 13 requests in 16 that reach a
            // node off the preference list.
            assert!(lat(&server, "mean") - lat(&client, "mean") > 0.3, "seed {seed} {op} mean");
            assert!(lat(&server, "p999") > lat(&client, "p999"), "seed {seed} {op} p99.9");
        }
    }
}

#[test]
fn under_the_chosen_cart_load_more_than_999_reads_in_1000_see_one_version() {
    let rep = report(&published("dynamo-divergent-versions", &["duration_ms=8000", "workload.popularity.exponent=0.6"]));
    let v = &rep["versions_per_read"];
    assert!(u(&v["1_count"]) > 1000, "{v}");
    assert!(f(&v["1_fraction"]) > 0.999, "{v}");
    let busy = report(&published("dynamo-divergent-versions", &["duration_ms=8000", "workload.popularity.exponent=0.9"]));
    assert!(f(&busy["versions_per_read"]["1_fraction"]) < 0.999, "more concurrency on hot carts, more siblings");
}

/// Partitions each node holds first, from a report.
fn partitions(rep: &serde_json::Value) -> Vec<u64> {
    rep["nodes"].as_array().expect("nodes").iter().map(|n| u(&n["partitions_count"])).collect()
}

#[test]
fn strategy_3_gives_every_node_q_over_s_partitions_before_and_after_a_join_and_a_leave() {
    // Q = 504 is divisible by 7, 8 and 9 nodes.
    let base = r#"{"duration_ms": 2000, "cluster": {"nodes": 9, "initial_members": [0, 1, 2, 3, 4, 5, 6, 7]},
        "ring": {"strategy": "equal_partitions", "partitions": 504}, "membership": {"gossip_interval_ms": 100}}"#;
    let run = |faults: &str| report(&scenario(base, &[faults]));
    assert_eq!(partitions(&run("faults=[]")), [vec![63; 8], vec![0]].concat());
    let joined = run(r#"faults=[{"kind": "join", "at_ms": 200, "node": 8, "contact": 0}]"#);
    assert_eq!(partitions(&joined), vec![56; 9]);
    let left = run(
        r#"faults=[{"kind": "join", "at_ms": 200, "node": 8, "contact": 0}, {"kind": "leave", "at_ms": 800, "node": 3, "contact": 0}]"#,
    );
    let mut expected = vec![63; 9];
    expected[3] = 0;
    assert_eq!(partitions(&left), expected);
}

#[test]
fn at_equal_metadata_strategy_3_balances_load_best_and_strategy_2_worst() {
    for (meta, seed) in [(120, 1), (480, 2), (480, 3)] {
        let efficiency = |ring: String| {
            let rep = report(&published("dynamo-partitioning", &[&ring, "duration_ms=1500", &format!("seed={seed}")]));
            assert_eq!(u(&rep["ring"]["metadata_entries_per_node"]), meta, "{ring}");
            1.0 / f(&rep["load"]["requests_max_over_mean"])
        };
        let t = meta / 30;
        let s1 = efficiency(format!(r#"ring={{"strategy": "random_tokens", "tokens_per_node": {t}}}"#));
        let s2 = efficiency(format!(
            r#"ring={{"strategy": "random_tokens_equal_partitions", "tokens_per_node": {}, "partitions": {}}}"#,
            t / 2,
            meta / 2
        ));
        let s3 = efficiency(format!(r#"ring={{"strategy": "equal_partitions", "partitions": {meta}}}"#));
        assert!(s3 > s1 + 0.05 && s1 > s2 + 0.02, "metadata {meta}, seed {seed}: strategy 1 {s1:.3}, 2 {s2:.3}, 3 {s3:.3}");
    }
}

#[test]
fn more_nodes_are_out_of_balance_at_low_load_than_at_high_load() {
    for seed in 1..=3 {
        let run = |rate: u32| {
            let sets = ["duration_ms=3000".to_string(), format!("seed={seed}"), format!("workload.arrivals.rate_per_s={rate}")];
            let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
            report(&published("dynamo-load-imbalance", &refs))
        };
        let (low, high) = (run(100), run(10_000));
        let out = |rep: &serde_json::Value| f(&rep["load"]["out_of_balance_fraction_mean"]);
        assert!(out(&low) > out(&high) + 0.2, "seed {seed}: low load {}, high load {}", out(&low), out(&high));
        // The windows count every request each node served, once.
        let windows: u64 = high["load_over_time"].as_array().expect("windows").iter().map(|w| u(&w["requests_count"])).sum();
        let served: u64 = high["nodes"].as_array().expect("nodes").iter().map(|n| u(&n["requests_served_count"])).sum();
        assert_eq!(high["load_over_time"].as_array().map(Vec::len), Some(3));
        assert!(windows <= served && windows as f64 > 0.99 * served as f64, "{windows} in windows, {served} served");
    }
}

/// Figure 4's shape: under heavy-tailed disks the read and write tails rise with the load, and
/// the write tail sits several times (at night about ten times) above the mean.
#[test]
fn the_tail_follows_the_load_and_sits_far_above_the_mean() {
    for seed in 1..=2 {
        let run = |rate: u32| {
            let arrivals = format!(r#"workload.arrivals={{"kind": "open", "rate_per_s": {rate}, "clients": 200}}"#);
            let sets = ["duration_ms=10000".to_string(), format!("seed={seed}"), arrivals];
            let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
            report(&published("dynamo-diurnal-latency", &refs))
        };
        let (night, peak) = (run(250), run(600));
        let lat = |rep: &serde_json::Value, op: &str, stat: &str| f(&rep["operations"][op]["latency_ms"][stat]);
        assert!(lat(&peak, "get", "p999") > 2.0 * lat(&night, "get", "p999"), "seed {seed}: reads' tail");
        assert!(lat(&peak, "put", "p999") > lat(&night, "put", "p999"), "seed {seed}: writes' tail");
        for (load, rep) in [("night", &night), ("peak", &peak)] {
            let ratio = lat(rep, "put", "p999") / lat(rep, "put", "mean");
            assert!(ratio > 5.0, "seed {seed}, {load}: writes' p99.9 only {ratio:.1} times the mean");
            assert!(lat(rep, "put", "mean") > 2.0 * lat(rep, "get", "mean"), "seed {seed}, {load}: writes go to disk");
        }
    }
}

/// compare.py regenerates the shipped README and charts from the shipped sweeps byte for byte
/// (so neither is stale), and every chart's text is distinct and inside its canvas.
#[test]
fn the_published_table_and_charts_regenerate_from_the_shipped_sweeps() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/published");
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 is not installed: compare.py cannot be run here; skipped");
        return;
    }
    let work = common::Scratch::new("published", "work");
    for entry in std::fs::read_dir(&shipped).expect("reports/published") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        if path.join("results.json").is_file() {
            std::fs::create_dir_all(work.join(&name)).expect("mkdir");
            std::fs::copy(path.join("results.json"), work.join(&name).join("results.json")).expect("copy");
        } else if name == "agreement.json" || name == "wars-model.json" {
            std::fs::copy(&path, work.join(&name)).expect("copy");
        }
    }
    let o = Command::new("python3").arg(shipped.join("compare.py")).arg(&work).output().expect("run compare.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(read(&work.join("README.md")), read(&shipped.join("README.md")), "reports/published/README.md is stale");
    let mut charts = 0;
    for entry in std::fs::read_dir(shipped.join("charts")).expect("charts/") {
        let path = entry.expect("entry").path();
        let svg = read(&path);
        assert_eq!(svg, read(&work.join("charts").join(path.file_name().expect("name"))), "{} is stale", path.display());
        let width: f64 =
            svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).and_then(|w| w.parse().ok()).expect("width");
        let texts = svg_texts(&svg);
        assert!(texts.len() > 5, "{}: {} texts", path.display(), texts.len());
        let mut seen = std::collections::BTreeSet::new();
        for SvgText { x, anchor, text, .. } in &texts {
            assert!(seen.insert(text.clone()), "{}: \"{text}\" drawn twice", path.display());
            // DejaVu Sans at 12 px averages under 7 px a character.
            let w = 7.0 * text.chars().count() as f64;
            let (from, to) = match anchor.as_str() {
                "end" => (x - w, *x),
                "middle" => (x - w / 2.0, x + w / 2.0),
                _ => (*x, x + w),
            };
            assert!(from >= 0.0 && to <= width, "{}: \"{text}\" runs outside the canvas", path.display());
        }
        charts += 1;
    }
    assert_eq!(charts, 11);
}
