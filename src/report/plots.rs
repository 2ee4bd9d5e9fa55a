//! Charts as PNG and SVG, drawn with plotters and an embedded font (no system library).
//!
//! Each chart kind is one function generic over the drawing backend, called once for SVG and
//! once for PNG; files are written under a temporary name and renamed. Bars and cells are drawn
//! as rectangles in a fixed order, so the SVG bytes are the same on every run.

use crate::error::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font ships with the binary, so failing to parse it is a build defect.
        let ok = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
        debug_assert!(ok, "embedded DejaVu Sans did not parse");
    });
}

const SIZE: (u32, u32) = (900, 560);

/// Lines through points, e.g. a latency CDF or a curve per configuration.
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Vertical marks with labels (faults on a time axis).
    pub marks: Vec<(f64, String)>,
}

/// Labelled points, e.g. p99.9 latency against stale-read probability per configuration.
pub struct Scatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<(f64, f64, String)>,
}

/// A grid of values, e.g. p99.9 latency over (R, W); empty cells are skipped configurations.
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub columns: Vec<String>,
    pub rows: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
}

pub enum Chart {
    Line(LineChart),
    Scatter(Scatter),
    Heatmap(Heatmap),
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

type DrawResult = Result<(), String>;

/// Every chart's frame: title, margins (the right one keeps the last tick label whole) and
/// room for axis labels.
fn frame<'a, 'b, DB: DrawingBackend>(root: &'a DrawingArea<DB, Shift>, title: &str) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 22)).margin(15).margin_right(30).x_label_area_size(45).y_label_area_size(70);
    b
}

fn draw_line<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &LineChart) -> DrawResult {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let xs = range(c.series.iter().flat_map(|s| s.1.iter().map(|p| p.0)).chain(c.marks.iter().map(|m| m.0)));
    let ys = range(c.series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let mut chart = frame(root, &c.title).build_cartesian_2d(xs.0..xs.1, ys.0..ys.1).map_err(e)?;
    chart.configure_mesh().x_desc(&c.x_label).y_desc(&c.y_label).label_style(("sans-serif", 14)).draw().map_err(e)?;
    for (i, (name, points)) in c.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
            .map_err(e)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    for (x, label) in &c.marks {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*x, ys.0), (*x, ys.1)], RED.mix(0.5)))).map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(label.clone(), (*x, ys.1), ("sans-serif", 12).into_font().color(&RED))))
            .map_err(e)?;
    }
    if c.series.len() > 1 || !c.series.iter().all(|s| s.0.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(e)?;
    }
    root.present().map_err(e)
}

fn draw_scatter<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Scatter) -> DrawResult {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let xs = range(c.points.iter().map(|p| p.0));
    let ys = range(c.points.iter().map(|p| p.1));
    let mut chart = frame(root, &c.title).build_cartesian_2d(xs.0..xs.1, ys.0..ys.1).map_err(e)?;
    chart.configure_mesh().x_desc(&c.x_label).y_desc(&c.y_label).label_style(("sans-serif", 14)).draw().map_err(e)?;
    for (i, (x, y, label)) in c.points.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart.draw_series(std::iter::once(Circle::new((*x, *y), 5, color.filled()))).map_err(e)?;
        chart.draw_series(std::iter::once(Text::new(label.clone(), (*x, *y), ("sans-serif", 12)))).map_err(e)?;
    }
    root.present().map_err(e)
}

fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Heatmap) -> DrawResult {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (lo, hi) = range(c.values.iter().flatten().flatten().copied());
    let (nx, ny) = (c.columns.len().max(1) as u32, c.rows.len().max(1) as u32);
    let mut chart =
        frame(root, &c.title).build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented()).map_err(e)?;
    let (cols, rows) = (c.columns.clone(), c.rows.clone());
    let name = |names: &[String], v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_label_formatter(&|v| name(&cols, v))
        .y_label_formatter(&|v| name(&rows, v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    for (j, row) in c.values.iter().enumerate() {
        for (i, cell) in row.iter().enumerate() {
            let Some(v) = cell else { continue };
            let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
            let color = ViridisRGB::get_color(t);
            let (i, j) = (i as u32, j as u32);
            let corners =
                [(SegmentValue::Exact(i), SegmentValue::Exact(j)), (SegmentValue::Exact(i + 1), SegmentValue::Exact(j + 1))];
            chart.draw_series(std::iter::once(Rectangle::new(corners, color.filled()))).map_err(e)?;
            let text = Text::new(
                format!("{v:.3}"),
                (SegmentValue::CenterOf(i), SegmentValue::CenterOf(j)),
                ("sans-serif", 14).into_font().color(&WHITE),
            );
            chart.draw_series(std::iter::once(text)).map_err(e)?;
        }
    }
    root.present().map_err(e)
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult {
    match chart {
        Chart::Line(c) => draw_line(&root, c),
        Chart::Scatter(c) => draw_scatter(&root, c),
        Chart::Heatmap(c) => draw_heatmap(&root, c),
    }
}

/// Writes `<stem>.svg` and `<stem>.png` into `dir`; returns the SVG text (for index.html).
pub fn write(dir: &Path, stem: &str, chart: &Chart) -> Result<String, Error> {
    register_font();
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), chart)
        .map_err(|m| Error::Usage(format!("chart {stem}: {m}")))?;
    crate::report::write_file(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    let tmp: PathBuf = dir.join(format!(".{stem}.partial.png"));
    draw(BitMapBackend::new(&tmp, SIZE).into_drawing_area(), chart).map_err(|m| Error::Usage(format!("chart {stem}: {m}")))?;
    let target = dir.join(format!("{stem}.png"));
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("rename into place", &target, e)
    })?;
    Ok(svg)
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn pairs(v: &serde_json::Value) -> Vec<(f64, f64)> {
    v.as_array().map_or(Vec::new(), |a| a.iter().map(|p| (f(&p[0]), f(&p[1]))).collect())
}

/// Every chart a run's report supports.
pub fn run_charts(report: &serde_json::Value) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    let name = report["scenario"]["name"].as_str().unwrap_or("run");
    let cdf: Vec<(String, Vec<(f64, f64)>)> = ["get", "put"]
        .iter()
        .map(|op| (op.to_string(), pairs(&report["latency_cdf_ms"][op]).into_iter().map(|(q, ms)| (ms, q)).collect::<Vec<_>>()))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if !cdf.is_empty() {
        out.push((
            "latency-cdf".into(),
            Chart::Line(LineChart {
                title: format!("{name}: latency CDF"),
                x_label: "latency (ms)".into(),
                y_label: "fraction of operations".into(),
                series: cdf,
                marks: vec![],
            }),
        ));
    }
    let marks: Vec<(f64, String)> = report["faults"].as_array().map_or(Vec::new(), |a| {
        a.iter().map(|x| (f(&x["at_ms"]) / 1000.0, x["fault"].as_str().unwrap_or("").to_string())).collect()
    });
    let mut over_time = Vec::new();
    for (op, q) in [("get", "p50_ms"), ("get", "p99_ms"), ("get", "p999_ms"), ("put", "p999_ms")] {
        let pts: Vec<(f64, f64)> = report["latency_over_time"][op]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().map(|b| (f(&b["t_ms"]) / 1000.0, f(&b[q]))).collect());
        if !pts.is_empty() {
            over_time.push((format!("{op} {}", q.trim_end_matches("_ms")), pts));
        }
    }
    if !over_time.is_empty() {
        out.push((
            "latency-over-time".into(),
            Chart::Line(LineChart {
                title: format!("{name}: latency percentiles over time"),
                x_label: "simulated time (s)".into(),
                y_label: "latency (ms)".into(),
                series: over_time,
                marks: marks.clone(),
            }),
        ));
    }
    let div = report["divergence"].as_array().cloned().unwrap_or_default();
    if !div.is_empty() {
        let frac: Vec<(f64, f64)> = div.iter().map(|d| (f(&d["t_ms"]) / 1000.0, f(&d["divergent_key_fraction"]))).collect();
        let hints: Vec<(f64, f64)> = div.iter().map(|d| (f(&d["t_ms"]) / 1000.0, f(&d["pending_hint_count"]))).collect();
        out.push((
            "divergence".into(),
            Chart::Line(LineChart {
                title: format!("{name}: divergent keys over time"),
                x_label: "simulated time (s)".into(),
                y_label: "fraction of keys whose replicas differ".into(),
                series: vec![("divergent key fraction".into(), frac)],
                marks: marks.clone(),
            }),
        ));
        out.push((
            "pending-hints".into(),
            Chart::Line(LineChart {
                title: format!("{name}: hints waiting for delivery"),
                x_label: "simulated time (s)".into(),
                y_label: "hints queued".into(),
                series: vec![("hints".into(), hints)],
                marks,
            }),
        ));
    }
    let tv: Vec<(f64, f64)> = report["t_visibility"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().map(|p| (f(&p["t_ms"]), f(&p["reflected_fraction"]))).collect());
    if !tv.is_empty() {
        out.push((
            "t-visibility".into(),
            Chart::Line(LineChart {
                title: format!("{name}: probability a read reflects a write t ms after its ack"),
                x_label: "t (ms after the write was acknowledged)".into(),
                y_label: "fraction of reads reflecting the write".into(),
                series: vec![("reads".into(), tv)],
                marks: vec![],
            }),
        ));
    }
    out
}

fn label(a: &serde_json::Value) -> String {
    let settings: Vec<String> = a["settings"].as_array().map_or(Vec::new(), |s| {
        s.iter().filter_map(|x| x.as_str()).map(|x| x.rsplit('.').next().unwrap_or(x).to_string()).collect()
    });
    settings.join(" ")
}

fn setting(a: &serde_json::Value, path: &str) -> Option<String> {
    a["settings"]
        .as_array()?
        .iter()
        .filter_map(|x| x.as_str())
        .find_map(|x| x.strip_prefix(&format!("{path}=")).map(String::from))
}

/// Every chart a sweep's results support.
pub fn sweep_charts(results: &serde_json::Value) -> Vec<(String, Chart)> {
    let configs: Vec<serde_json::Value> = results["configurations"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().filter(|c| c.get("skipped").is_none()).cloned().collect());
    if configs.is_empty() {
        return Vec::new();
    }
    let mut out = vec![tradeoff_chart(&configs), versions_chart(&configs)];
    out.extend(rw_heatmaps(&configs));
    out.extend(load_balancing_chart(&configs));
    out.extend(t_visibility_chart(results, &configs));
    out.extend(axis_charts(results, &configs));
    out
}

/// A configuration's mean of one metric over its seeds.
fn mean(config: &serde_json::Value, metric: &str) -> f64 {
    f(&config[metric]["mean"])
}

fn tradeoff_chart(configs: &[serde_json::Value]) -> (String, Chart) {
    (
        "tradeoff".into(),
        Chart::Scatter(Scatter {
            title: "p99.9 get latency against stale-read probability".into(),
            x_label: "stale-read fraction".into(),
            y_label: "p99.9 get latency (ms)".into(),
            points: configs.iter().map(|a| (mean(a, "stale_read_fraction"), mean(a, "p999_get_ms"), label(a))).collect(),
        }),
    )
}

/// Versions per read across configurations: the share of reads that returned 2+ versions.
fn versions_chart(configs: &[serde_json::Value]) -> (String, Chart) {
    (
        "versions-per-read".into(),
        Chart::Scatter(Scatter {
            title: "reads returning more than one version, per configuration".into(),
            x_label: "configuration".into(),
            y_label: "fraction of reads with 2+ versions".into(),
            points: configs
                .iter()
                .map(|a| (a["config"].as_f64().unwrap_or(0.0), mean(a, "reads_with_siblings_fraction"), label(a)))
                .collect(),
        }),
    )
}

/// Heatmaps over (R, W) when the sweep varies both.
fn rw_heatmaps(configs: &[serde_json::Value]) -> Vec<(String, Chart)> {
    let mut rs: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.r")).collect();
    let mut ws: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.w")).collect();
    for v in [&mut rs, &mut ws] {
        v.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
        v.dedup();
    }
    if rs.len() < 2 || ws.len() < 2 {
        return Vec::new();
    }
    let cell = |r: &String, w: &String, metric: &str| {
        let values: Vec<f64> = configs
            .iter()
            .filter(|a| setting(a, "protocol.r").as_ref() == Some(r) && setting(a, "protocol.w").as_ref() == Some(w))
            .map(|a| mean(a, metric))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    [("p999_get_ms", "p99.9 get latency (ms)"), ("stale_read_fraction", "stale-read fraction")]
        .into_iter()
        .map(|(metric, title)| {
            let values = ws.iter().map(|w| rs.iter().map(|r| cell(r, w, metric)).collect()).collect();
            let heatmap = Heatmap {
                title: format!("{title} over (R, W)"),
                x_label: "R".into(),
                y_label: "W".into(),
                columns: rs.clone(),
                rows: ws.clone(),
                values,
            };
            (format!("heatmap-{metric}"), Chart::Heatmap(heatmap))
        })
        .collect()
}

/// Dynamo §6.2's figure: load-balancing efficiency against membership metadata per node, one
/// series per partitioning strategy.
fn load_balancing_chart(configs: &[serde_json::Value]) -> Option<(String, Chart)> {
    let mut strategies: Vec<String> = configs.iter().filter_map(|a| setting(a, "ring.strategy")).collect();
    strategies.sort();
    strategies.dedup();
    if strategies.is_empty() {
        return None;
    }
    let series: Vec<(String, Vec<(f64, f64)>)> = strategies
        .iter()
        .map(|st| {
            let mut pts: Vec<(f64, f64)> = configs
                .iter()
                .filter(|a| setting(a, "ring.strategy").as_ref() == Some(st))
                .map(|a| (mean(a, "metadata_entries_per_node"), mean(a, "load_balancing_efficiency")))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (st.clone(), pts)
        })
        .collect();
    Some((
        "load-balancing-efficiency".into(),
        Chart::Line(LineChart {
            title: "load-balancing efficiency against membership metadata".into(),
            x_label: "membership entries per node (tokens or partitions)".into(),
            y_label: "mean requests per node / hottest node's".into(),
            series,
            marks: vec![],
        }),
    ))
}

/// t-visibility, one curve per configuration: the mean over its seeds at each t.
fn t_visibility_chart(results: &serde_json::Value, configs: &[serde_json::Value]) -> Option<(String, Chart)> {
    let rows = results["rows"].as_array().cloned().unwrap_or_default();
    let curves: Vec<(String, Vec<(f64, f64)>)> = configs
        .iter()
        .filter_map(|a| {
            let mine: Vec<&serde_json::Value> =
                rows.iter().filter(|r| r["config"] == a["config"] && r["t_visibility"].is_array()).collect();
            let first = pairs(&mine.first()?["t_visibility"]);
            let at = |i: usize| mine.iter().map(|r| pairs(&r["t_visibility"]).get(i).map_or(0.0, |p| p.1)).sum::<f64>();
            let avg: Vec<(f64, f64)> = first.iter().enumerate().map(|(i, (t, _))| (*t, at(i) / mine.len() as f64)).collect();
            Some((label(a), avg))
        })
        .collect();
    if curves.is_empty() {
        return None;
    }
    Some((
        "t-visibility".into(),
        Chart::Line(LineChart {
            title: "t-visibility per configuration".into(),
            x_label: "t (ms after the write was acknowledged)".into(),
            y_label: "fraction of reads reflecting the write".into(),
            series: curves,
            marks: vec![],
        }),
    ))
}

/// Metrics against each numeric axis, one series per setting of the others (e.g. load
/// imbalance against tokens per node for each partitioning strategy).
fn axis_charts(results: &serde_json::Value, configs: &[serde_json::Value]) -> Vec<(String, Chart)> {
    let axes: Vec<String> =
        results["axes"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect());
    let mut out = Vec::new();
    for axis in axes
        .iter()
        .filter_map(|a| a.split_once('='))
        .filter(|(p, v)| !p.contains(':') && v.contains(','))
        .map(|(p, _)| p.to_string())
    {
        let numeric = configs.iter().all(|a| setting(a, &axis).is_some_and(|v| v.parse::<f64>().is_ok()));
        if !numeric {
            continue;
        }
        for (metric, y) in [
            ("keys_owned_max_over_mean", "keys owned, max / mean"),
            ("requests_max_over_mean", "requests served, max / mean"),
            ("p999_get_ms", "p99.9 get latency (ms)"),
            ("reads_with_siblings_fraction", "reads returning 2+ versions"),
            ("lost_write_count", "acknowledged writes lost"),
            ("keys_moved", "keys moved by joins and leaves"),
        ] {
            out.push((
                format!("{metric}-vs-{}", axis.replace('.', "-")),
                Chart::Line(LineChart {
                    title: format!("{y} against {axis}"),
                    x_label: axis.clone(),
                    y_label: y.into(),
                    series: series_along(configs, &axis, metric),
                    marks: vec![],
                }),
            ));
        }
    }
    out
}

/// One metric against one axis: a series per combination of the other settings.
fn series_along(configs: &[serde_json::Value], axis: &str, metric: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for a in configs {
        let others: Vec<String> = a["settings"].as_array().map_or(Vec::new(), |s| {
            s.iter().filter_map(|x| x.as_str()).filter(|x| !x.starts_with(&format!("{axis}="))).map(String::from).collect()
        });
        let key = others.join(" ");
        let x = setting(a, axis).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        match series.iter_mut().find(|s| s.0 == key) {
            Some(s) => s.1.push((x, mean(a, metric))),
            None => series.push((key, vec![(x, mean(a, metric))])),
        }
    }
    for s in series.iter_mut() {
        s.1.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Draws `charts` into `dir` and writes a self-contained index.html (charts inline, the summary,
/// the scenario and the command) and a Markdown summary for pull requests.
pub fn write_all(dir: &Path, title: &str, summary: &str, charts: &[(String, Chart)]) -> Result<Vec<String>, Error> {
    let mut svgs = Vec::new();
    for (stem, chart) in charts {
        svgs.push((stem.clone(), write(dir, stem, chart)?));
    }
    let scenario = std::fs::read_to_string(dir.join("scenario.json")).unwrap_or_default();
    let command = std::fs::read_to_string(dir.join("command.txt")).unwrap_or_default();
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body>\n<h1>{t}</h1>\n<h2>Summary</h2>\n<pre>{s}</pre>\n",
        t = html_escape(title),
        s = html_escape(summary)
    );
    for (stem, svg) in &svgs {
        html.push_str(&format!("<h2>{}</h2>\n{}\n", html_escape(stem), svg));
    }
    html.push_str(&format!(
        "<h2>Command</h2>\n<pre>{}</pre>\n<h2>Scenario</h2>\n<pre>{}</pre>\n</body></html>\n",
        html_escape(&command),
        html_escape(&scenario)
    ));
    crate::report::write_file(&dir.join("index.html"), html.as_bytes())?;
    let mut md = format!("## {title}\n\n```\n{summary}```\n\n");
    for (stem, _) in &svgs {
        md.push_str(&format!("![{stem}]({stem}.png)\n"));
    }
    if !command.is_empty() {
        md.push_str(&format!("\nReplay: `{}`\n", command.trim()));
    }
    crate::report::write_file(&dir.join("summary.md"), md.as_bytes())?;
    Ok(svgs.into_iter().map(|(s, _)| s).collect())
}

/// `dynasim plot DIR`: every chart the folder's data supports (a run's report.json or a
/// sweep's results.json).
pub fn plot_folder(dir: &Path) -> Result<Vec<String>, Error> {
    let read = |name: &str| -> Result<Option<serde_json::Value>, Error> {
        let p = dir.join(name);
        if !p.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
        serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Usage(format!("{}: not valid JSON: {e}", p.display())))
    };
    if let Some(results) = read("results.json")? {
        let title = format!("sweep of {}", results["scenario"].as_str().unwrap_or("?"));
        return write_all(dir, &title, &crate::report::sweep_table(&results), &sweep_charts(&results));
    }
    if let Some(report) = read("report.json")? {
        let title =
            format!("run of {} (seed {})", report["scenario"]["name"].as_str().unwrap_or("?"), report["scenario"]["seed"]);
        return write_all(dir, &title, &crate::report::summary(&report), &run_charts(&report));
    }
    Err(Error::Usage(format!("{}: holds neither report.json (a run) nor results.json (a sweep)", dir.display())))
}
