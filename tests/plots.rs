//! Charts: files exist, PNGs are PNGs, SVGs have the expected series, and drawing is repeatable.

use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

fn dir(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("dynasim-plots-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d.display().to_string()
}

fn svg(dir: &str, stem: &str) -> String {
    let text = std::fs::read_to_string(format!("{dir}/{stem}.svg")).unwrap_or_else(|e| panic!("{stem}.svg: {e}"));
    assert!(text.starts_with("<svg ") && text.trim_end().ends_with("</svg>"), "{stem}.svg is not an SVG document");
    let png = std::fs::read(format!("{dir}/{stem}.png")).unwrap_or_else(|e| panic!("{stem}.png: {e}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png is not a PNG");
    text
}

/// Each series is drawn as a 2-pixel line, and again as its legend sample.
fn series(svg: &str) -> usize {
    svg.matches("stroke-width=\"2\"").count() / 2
}

#[test]
fn a_run_draws_its_charts_with_an_index_and_a_markdown_summary() {
    let out = dir("run");
    let o = dynasim(&["run", "scenarios/node-crash-under-load.json", "--out", &out, "--plots", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(series(&svg(&out, "latency-cdf")), 2, "get and put");
    assert_eq!(series(&svg(&out, "latency-over-time")), 4);
    let divergence = svg(&out, "divergence");
    assert_eq!(series(&divergence), 1);
    assert!(divergence.contains("crash n0") && divergence.contains("restart n0"), "faults are marked");
    assert_eq!(series(&svg(&out, "pending-hints")), 1);
    let index = std::fs::read_to_string(format!("{out}/index.html")).expect("index.html");
    assert_eq!(index.matches("<svg ").count(), 4, "charts are inline, so the page works offline");
    assert!(index.contains("<h2>Scenario</h2>") && index.contains("node-crash-under-load"));
    let md = std::fs::read_to_string(format!("{out}/summary.md")).expect("summary.md");
    assert!(md.contains("![latency-cdf](latency-cdf.png)"));
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
    assert_eq!(series(&svg(&out, "t-visibility")), 1);
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
    assert_eq!(tradeoff.matches("<circle").count(), 8, "one point per configuration");
    assert_eq!(svg(&out, "versions-per-read").matches("<circle").count(), 8);
    let heat = svg(&out, "heatmap-p999_get_ms");
    assert_eq!(heat.matches("<rect").count(), 1 + 4, "background and one cell per (R, W)");
    svg(&out, "heatmap-stale_read_fraction");
    assert_eq!(series(&svg(&out, "t-visibility")), 8, "one curve per configuration");
    assert_eq!(series(&svg(&out, "keys_owned_max_over_mean-vs-ring-tokens_per_node")), 4, "one series per (R, W)");
    assert!(std::path::Path::new(&format!("{out}/index.html")).exists());
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
    assert_eq!(series(&svg(&out, "load-balancing-efficiency")), 2, "one series per strategy");
    assert_eq!(series(&svg(&out, "keys_moved-vs-ring-tokens_per_node")), 2);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{out}/results.json")).expect("results")).expect("json");
    assert!(results["rows"][0]["keys_moved"].as_f64().unwrap_or(0.0) > 0.0, "the join moved keys");
}
