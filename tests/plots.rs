//! Charts: files exist, PNGs are PNGs, SVGs have the expected series, and drawing is repeatable.

use crate::common;
use crate::common::{svg_texts, SvgText};
use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

fn dir(name: &str) -> common::Scratch {
    common::Scratch::new("plots", name)
}

fn svg(dir: &str, stem: &str) -> String {
    let text = std::fs::read_to_string(format!("{dir}/{stem}.svg")).unwrap_or_else(|e| panic!("{stem}.svg: {e}"));
    assert!(text.starts_with("<svg ") && text.trim_end().ends_with("</svg>"), "{stem}.svg is not an SVG document");
    let png = std::fs::read(format!("{dir}/{stem}.png")).unwrap_or_else(|e| panic!("{stem}.png: {e}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png is not a PNG");
    text
}

/// The legend's entries: the texts drawn at size 12 right of a sample at the plot's right.
fn legend(svg: &str) -> Vec<String> {
    svg_texts(svg).into_iter().filter(|t| t.size == Some(12) && t.anchor == "start" && t.x > 600.0).map(|t| t.text).collect()
}

/// Line paths drawn 2 pixels wide: the series' segments and their legend samples.
fn thick_paths(svg: &str) -> usize {
    svg.matches("stroke-width=\"2\"").count()
}

#[test]
fn a_run_draws_its_charts_with_an_index_and_a_markdown_summary() {
    let out = dir("run");
    let o = dynasim(&["run", "scenarios/node-crash-under-load.json", "--out", &out, "--plots", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(legend(&svg(&out, "latency-cdf")), ["get", "put"]);
    assert_eq!(legend(&svg(&out, "latency-over-time"))[..4], ["get p50", "get p99", "get p999", "put p999"]);
    let divergence = svg(&out, "divergence");
    // One series, unnamed; the crash and its restart are one numbered span named in the legend.
    assert_eq!(legend(&divergence), ["divergent keys", "crash n0"]);
    assert!(divergence.contains("fill-opacity") || divergence.contains("opacity=\"0.08\""), "the fault is shaded");
    assert!(thick_paths(&svg(&out, "pending-hints")) >= 1);
    let charts =
        std::fs::read_dir(&out).expect("dir").flatten().filter(|e| e.path().extension().is_some_and(|x| x == "svg")).count();
    let index = std::fs::read_to_string(format!("{out}/index.html")).expect("index.html");
    assert_eq!(index.matches("<svg ").count(), charts, "charts are inline, so the page works offline");
    assert!(index.contains("<h2>Scenario</h2>") && index.contains("node-crash-under-load"));
    assert!(index.contains("<figcaption>node-crash-under-load: latency distribution"), "each chart has a title in words");
    assert!(index.contains("<a href=\"report.json\">report.json</a>"), "the data files are linked");
    let md = std::fs::read_to_string(format!("{out}/summary.md")).expect("summary.md");
    assert!(md.contains("(latency-cdf.png)"));
    // Drawing again gives the same bytes.
    let first = svg(&out, "divergence");
    assert_eq!(dynasim(&["plot", &out]).status.code(), Some(0));
    assert_eq!(svg(&out, "divergence"), first);
}

#[test]
fn a_probe_run_draws_its_t_visibility_curve() {
    let out = dir("probe");
    let o = dynasim(&["run", "scenarios/staleness-probe.json", "--set", "duration_ms=2000", "--out", &out, "--plots", "-q"]);
    assert_eq!(o.status.code(), Some(0));
    let tv = svg(&out, "t-visibility");
    assert!(legend(&tv).is_empty(), "one unnamed curve needs no legend");
    assert_eq!(thick_paths(&tv), 1);
    assert!(svg(&out, "t-visibility-tail").contains("log scale"));
    // Several versions per probe: one curve per k.
    let versions = dir("probe-versions");
    let o = dynasim(&[
        "run",
        "scenarios/staleness-probe.json",
        "--set",
        "duration_ms=2000",
        "--set",
        "probe.versions=3",
        "--out",
        &versions,
        "--plots",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(legend(&svg(&versions, "t-visibility")), ["within 1 version", "within 2 versions", "within 3 versions"]);
    // Stale gets draw the workload's k-staleness.
    let stale = dir("k-staleness");
    let o = dynasim(&["run", "scenarios/read-your-writes.json", "--set", "duration_ms=2000", "--out", &stale, "--plots", "-q"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(thick_paths(&svg(&stale, "k-staleness")), 1);
}

#[test]
fn a_sweep_draws_the_tradeoff_heatmaps_curves_and_axis_charts() {
    let out = dir("sweep");
    let o = dynasim(&[
        "sweep",
        "scenarios/staleness-probe.json",
        "--set",
        "duration_ms=1000",
        "--set",
        "protocol.r=1,2",
        "--set",
        "protocol.w=1,2",
        "--set",
        "ring.tokens_per_node=2,8",
        "--seeds",
        "1",
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(dynasim(&["plot", &out]).status.code(), Some(0));
    let tradeoff = svg(&out, "tradeoff");
    // A point per configuration, and its colour in the legend.
    assert_eq!(tradeoff.matches("<circle").count(), 2 * 8, "one point per configuration");
    let index = std::fs::read_to_string(format!("{out}/index.html")).expect("index.html");
    assert!(index.contains("Versions per read: every read returned at most one version."), "a chart left out says why");
    assert!(index.contains("<h2>Configurations</h2>"), "the page tabulates the configurations");
    // A heatmap per setting of the other varying setting, not their average.
    assert!(!std::path::Path::new(&format!("{out}/heatmap-p999_get_ms.svg")).exists());
    for tokens in [2, 8] {
        let heat = svg(&out, &format!("heatmap-p999_get_ms-tokens_per_node={tokens}"));
        // Background, a cell per (R, W), and the colour scale's 100 steps and frame.
        assert_eq!(heat.matches("<rect").count(), 1 + 4 + 100 + 1);
        // With N = 3 only (2, 2) has R + W > N: the boundary is its two inner edges.
        assert_eq!(heat.matches("stroke-width=\"3\"").count(), 2, "the R + W > N boundary");
    }
    // Identical curves are drawn once, named together ("a = b").
    let curves: usize = legend(&svg(&out, "t-visibility")).iter().map(|l| l.split(" = ").count()).sum();
    assert_eq!(curves, 8, "one curve per configuration");
    let latency = svg(&out, "p999_get_ms-vs-ring-tokens_per_node");
    assert_eq!(legend(&latency), ["r=1 w=1", "r=1 w=2", "r=2 w=1", "r=2 w=2"], "one series per (R, W), named by what varies");
    // The ring does not depend on (R, W): four identical series are drawn once and say so.
    assert_eq!(legend(&svg(&out, "keys_owned_max_over_mean-vs-ring-tokens_per_node")), ["all 4 (identical)"]);
}

#[test]
fn plot_on_a_folder_without_results_is_an_error() {
    let out = dir("empty");
    std::fs::create_dir_all(&out).expect("mkdir");
    let o = dynasim(&["plot", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds neither report.json"));
}

#[test]
fn a_strategy_sweep_draws_load_balancing_efficiency_against_metadata_and_keys_moved() {
    let out = dir("strategies");
    let o = dynasim(&[
        "sweep",
        "scenarios/join-under-load.json",
        "--set",
        "duration_ms=1000",
        "--set",
        "quiescent_tail_ms=500",
        "--set",
        "faults.0.at_ms=500",
        "--set",
        "ring.strategy=random_tokens,equal_partitions",
        "--set",
        "ring.tokens_per_node=4,16",
        "--seeds",
        "1",
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(dynasim(&["plot", &out]).status.code(), Some(0));
    assert_eq!(legend(&svg(&out, "load-balancing-efficiency")), ["equal_partitions", "random_tokens"], "one series per strategy");
    assert_eq!(legend(&svg(&out, "keys_moved-vs-ring-tokens_per_node")).len(), 2);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{out}/results.json")).expect("results")).expect("json");
    assert!(results["rows"][0]["keys_moved"].as_f64().unwrap_or(0.0) > 0.0, "the join moved keys");
}

/// Every label lies inside the canvas, and the tick labels of each axis (size 13, on one row
/// or one column) are all different.
fn assert_legible(path: &std::path::Path) {
    let svg = std::fs::read_to_string(path).expect("svg");
    let mut ticks = std::collections::BTreeSet::new();
    let all = svg_texts(&svg);
    assert!(!all.is_empty(), "{}: no text", path.display());
    for SvgText { x, y, anchor, size, text } in all {
        let size = size.expect("plotters states every text's size");
        let w = dynasim::report::charts::text_width(&text, size) as f64;
        let (from, to) = match anchor.as_str() {
            "end" => (x - w, x),
            "middle" => (x - w / 2.0, x + w / 2.0),
            _ => (x, x + w),
        };
        assert!(
            from >= 0.0 && to <= 900.0 && (0.0..=560.0).contains(&y),
            "{}: \"{text}\" at {x},{y} leaves the canvas",
            path.display()
        );
        let axis = match anchor.as_str() {
            "middle" => format!("row {y}"),
            "end" => format!("column {x}"),
            _ => String::new(),
        };
        if size == 13 && !axis.is_empty() {
            assert!(ticks.insert((axis, text.clone())), "{}: label \"{text}\" drawn twice on one axis", path.display());
        }
    }
}

fn config(id: usize, settings: &[&str], value: f64, ci: f64) -> serde_json::Value {
    let mut c = serde_json::json!({ "config": id, "settings": settings, "seeds": 1 });
    for metric in [
        "availability",
        "divergent_key_fraction",
        "keys_moved",
        "keys_owned_max_over_mean",
        "load_balancing_efficiency",
        "lost_write_count",
        "mean_get_ms",
        "mean_put_ms",
        "messages_per_operation",
        "metadata_entries_per_node",
        "one_version_read_fraction",
        "p50_get_ms",
        "p999_get_ms",
        "p999_put_ms",
        "p99_get_ms",
        "reads_with_siblings_fraction",
        "requests_max_over_mean",
        "stale_read_fraction",
    ] {
        c[metric] = serde_json::json!({ "mean": value, "ci95": ci });
    }
    c
}

fn plot_fixture(name: &str, file: &str, content: serde_json::Value) -> common::Scratch {
    let d = dir(name);
    std::fs::create_dir_all(&*d).expect("mkdir");
    std::fs::write(d.join(file), content.to_string()).expect("write fixture");
    let o = dynasim(&["plot", &d]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    d
}

fn charts_in(d: impl AsRef<std::path::Path>) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(d)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    v.sort();
    v
}

#[test]
fn degenerate_sweeps_draw_legible_charts_or_say_why_not() {
    // One configuration, one seed: no interval, one point.
    let one = plot_fixture(
        "one",
        "results.json",
        serde_json::json!({
        "scenario": "fixture", "axes": [], "rows": [], "seeds": [1],
        "configurations": [config(0, &["protocol.r=1"], 2.5, 0.0)] }),
    );
    // Every metric zero: the zero charts are skipped and the page says so.
    let zero = plot_fixture(
        "zero",
        "results.json",
        serde_json::json!({
        "scenario": "fixture", "axes": ["ring.tokens_per_node=8,64,256"], "rows": [], "seeds": [1, 2],
        "configurations": [config(0, &["ring.tokens_per_node=8"], 0.0, 0.0), config(1, &["ring.tokens_per_node=64"], 0.0, 0.0),
                           config(2, &["ring.tokens_per_node=256"], 0.0, 0.0)] }),
    );
    // A constant metric across configurations, tiny values, a decimal setting, and (R, W).
    let constant = plot_fixture(
        "constant",
        "results.json",
        serde_json::json!({
        "scenario": "fixture", "axes": [], "rows": [], "seeds": [1, 2, 3],
        "configurations": [
            config(0, &["network.loss_probability=0.01", "protocol.r=1", "protocol.w=1"], 3e-5, 1e-5),
            config(1, &["network.loss_probability=0.05", "protocol.r=1", "protocol.w=2"], 3e-5, 1e-5),
            config(2, &["network.loss_probability=0.01", "protocol.r=2", "protocol.w=1"], 1.0, 0.0),
            config(3, &["network.loss_probability=0.05", "protocol.r=2", "protocol.w=2"], 1.0, 0.0)] }),
    );
    // One configuration and no curve: no chart, and the page says why.
    assert!(charts_in(&one).is_empty(), "{:?}", charts_in(&one));
    let one_page = std::fs::read_to_string(one.join("index.html")).expect("index");
    assert!(one_page.contains("one configuration, nothing to compare"), "{one_page}");
    assert!(one_page.contains("Versions per read: one configuration"), "{one_page}");
    for d in [&zero, &constant] {
        let charts = charts_in(d);
        assert!(!charts.is_empty(), "{}", d);
        for c in &charts {
            assert_legible(c);
        }
    }
    let zero_page = std::fs::read_to_string(zero.join("index.html")).expect("index");
    assert!(zero_page.contains("Not drawn") && zero_page.contains("zero in every configuration"), "{zero_page}");
    assert!(!zero.join("lost_write_count-vs-ring-tokens_per_node.svg").exists(), "an all-zero chart is not drawn");
    // Labels name the varying settings whole: "loss_probability=0.01", never "01".
    let scatter = std::fs::read_to_string(constant.join("tradeoff.svg")).expect("tradeoff");
    assert!(scatter.contains("loss_probability=0.01 r=1 w=1"), "{scatter}");
    let heat = std::fs::read_to_string(constant.join("heatmap-p999_get_ms-loss_probability=0.01.svg")).expect("heatmap");
    assert!(heat.contains("\n3.00e-5\n"), "cells keep their significant digits: {heat}");
}

#[test]
fn a_run_with_faults_and_gaps_draws_legible_charts() {
    let out = dir("faulty");
    // Without client retries, so that an outage leaves an interval without a successful get.
    let o =
        dynasim(&["run", "scenarios/nemesis-dynamo.json", "--set", "workload.client_retries=0", "--out", &out, "--plots", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let charts = charts_in(std::path::Path::new(&out));
    for c in &charts {
        assert_legible(c);
    }
    for stem in ["latency-cdf", "latency-over-time", "throughput-over-time", "availability-over-time"] {
        assert!(charts.iter().any(|c| c.file_stem().is_some_and(|s| s == stem)), "{stem} missing from {charts:?}");
    }
    // Faults are numbered, each number once, and listed by name in the legend.
    let latency = std::fs::read_to_string(format!("{out}/latency-over-time.svg")).expect("svg");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{out}/report.json")).expect("report")).expect("json");
    assert!(legend(&latency).iter().any(|l| l == "crash n0"), "the legend names the faults");
    // An interval in which nothing succeeded is a gap in the line, not a bridge.
    let buckets = report["latency_over_time"]["get"].as_array().expect("buckets");
    assert!(
        buckets.iter().any(|b| b["count"] == 0 && b["p999_ms"].is_null()),
        "the run has an interval without a successful get"
    );
}

/// `dynasim sweep ARGS --out OUT` then `dynasim plot OUT`, both succeeding.
fn sweep_and_plot(out: &str, args: &[&str]) {
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out]);
    let o = dynasim(&all);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(dynasim(&["plot", out]).status.code(), Some(0));
}

#[test]
fn a_recommendation_is_marked_on_every_chart_of_its_sweep() {
    let out = dir("recommended");
    sweep_and_plot(
        &out,
        &[
            "scenarios/staleness-probe.json",
            "--set",
            "duration_ms=1000",
            "--set",
            "protocol.rw=1:1,1:2,2:1,2:2",
            "--seeds",
            "2",
            "--recommend",
            "p999_get_ms<=1000",
        ],
    );
    let charts = charts_in(std::path::Path::new(&out));
    assert!(charts.len() >= 4, "{charts:?}");
    for c in &charts {
        let text = std::fs::read_to_string(c).expect("svg");
        // A ring's legend entry or a star's note, each naming recommend.json.
        assert!(text.contains("meets every target (recommend.json)"), "{} does not mark the recommendation", c.display());
    }
    // Every configuration meets the lax target: each of the tradeoff's four points is ringed.
    let tradeoff = svg(&out, "tradeoff");
    assert!(tradeoff.matches("stroke-width=\"2\"").count() >= 4, "four rings");
    assert!(legend(&tradeoff).iter().any(|l| l == "where every target is met"), "every target met: the region is shaded");
}

#[test]
fn the_tradeoff_is_not_shaded_when_a_target_off_its_axes_is_missed() {
    let out = dir("unshaded");
    sweep_and_plot(
        &out,
        &[
            "scenarios/quickstart.json",
            "--set",
            "duration_ms=500",
            "--set",
            "protocol.request_timeout_ms=1,500",
            "--seeds",
            "1",
            "--recommend",
            "p999_get_ms<=1000",
        ],
    );
    let tradeoff = svg(&out, "tradeoff");
    // The 1 ms timeout fails the availability floor; the latency bound alone is not "every target".
    assert!(!legend(&tradeoff).iter().any(|l| l == "where every target is met"));
    assert!(tradeoff.contains("Not shaded"), "the note says why");
}
