//! Charts as PNG and SVG, drawn with plotters and the embedded DejaVu Sans (no system
//! library), and the report page that holds them.
//!
//! Each chart kind is drawn once per backend from the same layout; files are written under a
//! temporary name and renamed. Everything is drawn in a fixed order, so the bytes are the same on
//! every run. The SVGs name DejaVu Sans and fall back to the viewer's sans-serif: embedding the
//! font would add 700 KB to each file, so the PNGs are the pixel-exact copies.

pub mod axis;
mod draw;
mod page;
mod run;
mod sweep;

pub use axis::Scale;
pub use page::{plot_folder, write_all, Page};
pub use run::run_charts;
pub use sweep::sweep_charts;

use crate::error::Error;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font ships with the binary, so failing to parse it is a build defect.
        let ok = plotters::style::register_font(draw::FONT_FAMILY, FontStyle::Normal, FONT).is_ok();
        debug_assert!(ok, "embedded DejaVu Sans did not parse");
    });
}

pub const SIZE: (u32, u32) = (900, 560);

/// The width in pixels of `text` in the charts' font at plotters size `size` (an SVG states
/// `size / 1.24` as its font-size), as the layout measures it.
pub fn text_width(text: &str, size: u32) -> u32 {
    register_font();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    area.estimate_text_size(text, &draw::font(size)).map_or(0, |(w, _)| w)
}

/// A value with the half-width of its 95% interval (0 when there is none); a NaN value is a gap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub ci: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y, ci: 0.0 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
    /// A dot at every point (sweeps: each point is a configuration).
    pub markers: bool,
}

/// A fault on a time axis: shaded from `from` to `to`, or a line at `from` when it is an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub from: f64,
    pub to: Option<f64>,
    pub label: String,
}

/// Lines through points, e.g. a latency CDF or a metric against a swept setting.
pub struct LineChart {
    pub title: String,
    pub note: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub series: Vec<Series>,
    pub spans: Vec<Span>,
    /// A dashed reference line, e.g. a target.
    pub hline: Option<(f64, String)>,
    /// Points ringed as meeting every `--recommend` target.
    pub marks: Vec<(f64, f64)>,
}

pub struct ScatterPoint {
    pub x: f64,
    pub x_ci: f64,
    pub y: f64,
    pub y_ci: f64,
    pub label: String,
    /// Meets every `--recommend` target: ringed.
    pub marked: bool,
}

/// Labelled points with intervals both ways, e.g. p99.9 latency against stale reads.
pub struct Scatter {
    pub title: String,
    pub note: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub points: Vec<ScatterPoint>,
    /// `--recommend`'s bounds on x and y, dashed.
    pub targets: (Option<f64>, Option<f64>),
    /// Shade the region under both bounds: only when it is where every target is met.
    pub shade: bool,
}

/// A grid of values, e.g. p99.9 latency over (R, W); an empty cell is a combination that did not run (not in the sweep, or skipped as invalid).
pub struct Heatmap {
    pub title: String,
    pub note: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub columns: Vec<String>,
    pub rows: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
    /// Per cell (rows by columns, as `values`): whether R + W > N, so a read and a write
    /// quorum meet; a thick line is drawn where this changes.
    pub overlap: Vec<Vec<bool>>,
    /// Per cell: meets every `--recommend` target (a ★ beside its value).
    pub marked: Vec<Vec<bool>>,
}

/// Horizontal bars per category: stacked segments, or one segment with its interval.
pub struct Bars {
    pub title: String,
    pub note: Option<String>,
    pub value_label: String,
    pub categories: Vec<String>,
    pub segments: Vec<(String, Vec<f64>)>,
    pub ci: Vec<f64>,
}

pub enum Chart {
    Line(LineChart),
    Scatter(Scatter),
    Heatmap(Heatmap),
    Bars(Bars),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(c) => &c.title,
            Chart::Scatter(c) => &c.title,
            Chart::Heatmap(c) => &c.title,
            Chart::Bars(c) => &c.title,
        }
    }
}

/// What a folder's data supports: charts to draw, and charts left out with the reason (every
/// value zero, nothing to compare), which the page lists.
#[derive(Default)]
pub struct Charts {
    pub drawn: Vec<(String, Chart)>,
    pub skipped: Vec<String>,
}

/// Writes `<stem>.svg` and `<stem>.png` into `dir`; returns the SVG text (for index.html).
pub fn write(dir: &Path, stem: &str, chart: &Chart) -> Result<String, Error> {
    register_font();
    let mut svg = String::new();
    draw::draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), chart)
        .map_err(|m| Error::Usage(format!("chart {stem}: {m}")))?;
    crate::report::write_file(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    let tmp: PathBuf = dir.join(format!(".{stem}.partial.png"));
    draw::draw(BitMapBackend::new(&tmp, SIZE).into_drawing_area(), chart)
        .map_err(|m| Error::Usage(format!("chart {stem}: {m}")))?;
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

/// A series' values, or NaN (a gap) where the report has null.
fn f_or_gap(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Series with the same points as an earlier one are merged into it, names joined, so no line
/// hides another.
fn merge_identical(series: Vec<Series>) -> Vec<Series> {
    let total = series.len();
    let mut out: Vec<Series> = Vec::new();
    for s in series {
        match out.iter_mut().find(|o| o.points == s.points) {
            Some(o) => o.name = format!("{} = {}", o.name, s.name),
            None => out.push(s),
        }
    }
    if total > 2 && out.len() == 1 {
        out[0].name = format!("all {total} (identical)");
    }
    out
}

fn all_zero(series: &[Series]) -> bool {
    series.iter().all(|s| s.points.iter().all(|p| p.y == 0.0 || p.y.is_nan()))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |first| first.to_uppercase().chain(c).collect())
}
