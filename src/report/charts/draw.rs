//! Drawing in pixels on any plotters backend: the frame every chart shares (title, axes, grid,
//! legend beside the plot, never over it) and each chart kind. Layout is computed from the
//! measured size of every label, so nothing is clipped and nothing overprints.

use super::axis::{significant, Axis, Scale};
use super::{Bars, Chart, Heatmap, LineChart, Scatter, SIZE};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const FONT_FAMILY: &str = "DejaVu Sans";

type Area<DB> = DrawingArea<DB, Shift>;
pub type DrawResult = Result<(), String>;

/// Tableau's ten colours: distinguishable, and readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const GRID: RGBColor = RGBColor(225, 225, 225);
/// A fault's colour by its kind (its label's wording, as report.json's `faults[].fault` gives
/// it): crashes red, partitions purple, loss bursts brown, slowdowns blue, clock skew teal,
/// membership changes green, anything else grey.
fn fault_colour(label: &str) -> RGBColor {
    let has = |w: &str| label.contains(w);
    if has("crash") || has("restart") || has("disk") {
        RGBColor(214, 39, 40)
    } else if has("partition") || has("heal") {
        RGBColor(148, 103, 189)
    } else if has("loss burst") {
        RGBColor(140, 86, 75)
    } else if has("slower") {
        RGBColor(31, 119, 180)
    } else if has("clock") {
        RGBColor(23, 150, 160)
    } else if has("join") || has("leave") || has("decommission") {
        RGBColor(44, 160, 44)
    } else {
        RGBColor(110, 110, 110)
    }
}

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(super) fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

fn at(h: HPos, v: VPos) -> Pos {
    Pos::new(h, v)
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn width<DB: DrawingBackend>(root: &Area<DB>, text: &str, size: u32) -> i32 {
    root.estimate_text_size(text, &font(size)).map_or(text.len() as i32 * size as i32 * 6 / 10, |(w, _)| w as i32)
}

/// Shortens `text` with an ellipsis until it fits `max` pixels.
fn fit<DB: DrawingBackend>(root: &Area<DB>, text: &str, size: u32, max: i32) -> String {
    if width(root, text, size) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() && width(root, &format!("{}…", chars.iter().collect::<String>()), size) > max {
        chars.pop();
    }
    format!("{}…", chars.into_iter().collect::<String>())
}

fn text<DB: DrawingBackend>(root: &Area<DB>, s: &str, (x, y): (i32, i32), size: u32, pos: Pos, colour: &RGBColor) -> DrawResult {
    root.draw(&Text::new(s.to_string(), (x, y), font(size).color(colour).pos(pos))).map_err(err)
}

/// A white canvas with the chart's title and, under it, its note.
fn heading<DB: DrawingBackend>(root: &Area<DB>, title: &str, note: Option<&str>) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let w = SIZE.0 as i32;
    text(root, &fit(root, title, 18, w - 30), (15, 10), 18, at(HPos::Left, VPos::Top), &BLACK)?;
    if let Some(note) = note {
        text(root, &fit(root, note, 12, w - 30), (15, 34), 12, at(HPos::Left, VPos::Top), &RGBColor(90, 90, 90))?;
    }
    Ok(())
}

/// The plot rectangle and the axes mapping values into it.
pub struct Frame {
    pub left: i32,
    pub right: i32,
    pub top: i32,
    pub bottom: i32,
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    pub fn px(&self, v: f64) -> i32 {
        self.left + (self.x.fraction(v) * (self.right - self.left) as f64).round() as i32
    }

    pub fn py(&self, v: f64) -> i32 {
        self.bottom - (self.y.fraction(v) * (self.bottom - self.top) as f64).round() as i32
    }

    fn inside_x(&self, v: f64) -> bool {
        (-1e-9..=1.0 + 1e-9).contains(&self.x.fraction(v))
    }
}

/// A legend entry beside the plot: a sample of the series' look and its name.
pub enum Swatch {
    Line(RGBColor),
    Dot(RGBColor),
    Block(RGBColor),
    /// A fault's number, in its kind's colour.
    Number(usize, RGBColor),
    /// A ring: a point that meets every `--recommend` target.
    Ring,
}

/// The legend's words for a ringed point.
pub const MEETS: &str = "meets every target (recommend.json)";

fn ring<DB: DrawingBackend>(root: &Area<DB>, (x, y): (i32, i32), r: i32) -> DrawResult {
    root.draw(&Circle::new((x, y), r, BLACK.stroke_width(2))).map_err(err)
}

const LEGEND_MAX: i32 = 250;

/// Title, note, the y axis's name above it, the x axis's name below, ticks and grid, the legend
/// to the right; returns the frame the data goes in.
#[allow(clippy::too_many_arguments)]
fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    note: Option<&str>,
    x_label: &str,
    y_label: &str,
    x: Axis,
    y: Axis,
    legend: &[(Swatch, String)],
) -> Result<Frame, String> {
    heading(root, title, note)?;
    let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
    let tick_w = y.ticks.iter().map(|t| width(root, &t.1, 13)).max().unwrap_or(0);
    let legend_w = legend.iter().map(|(_, l)| width(root, l, 12).min(LEGEND_MAX - 34) + 34).max().unwrap_or(0);
    let left = (tick_w + 22).max(50);
    let right = w - 20 - if legend_w > 0 { legend_w + 12 } else { 0 };
    let (top, bottom) = (if note.is_some() { 78 } else { 66 }, h - 58);
    let frame = Frame { left, right, top, bottom, x, y };
    text(
        root,
        &fit(root, y_label, 13, w - left),
        (left - tick_w.min(left - 12) - 8, top - 10),
        13,
        at(HPos::Left, VPos::Bottom),
        &BLACK,
    )?;
    for (v, label) in &frame.y.ticks {
        let py = frame.py(*v);
        root.draw(&PathElement::new(vec![(left, py), (right, py)], GRID)).map_err(err)?;
        text(root, label, (left - 8, py), 13, at(HPos::Right, VPos::Center), &BLACK)?;
    }
    let mut last_end = i32::MIN;
    for (v, label) in &frame.x.ticks {
        let px = frame.px(*v);
        root.draw(&PathElement::new(vec![(px, top), (px, bottom)], GRID)).map_err(err)?;
        // Labels that would touch the previous one are left out (the grid line stays).
        let half = width(root, label, 13) / 2;
        if px - half > last_end + 6 && px + half <= w - 2 {
            text(root, label, (px, bottom + 7), 13, at(HPos::Center, VPos::Top), &BLACK)?;
            last_end = px + half;
        }
    }
    text(root, &fit(root, x_label, 13, right - left), ((left + right) / 2, h - 10), 13, at(HPos::Center, VPos::Bottom), &BLACK)?;
    root.draw(&Rectangle::new([(left, top), (right, bottom)], BLACK.stroke_width(1))).map_err(err)?;
    draw_legend(root, right + 16, top, legend)?;
    Ok(frame)
}

fn draw_legend<DB: DrawingBackend>(root: &Area<DB>, x: i32, top: i32, legend: &[(Swatch, String)]) -> DrawResult {
    let room = ((SIZE.1 as i32 - 70 - top) / 18).max(1) as usize;
    let shown = if legend.len() > room { room - 1 } else { legend.len() };
    for (i, (swatch, label)) in legend.iter().take(shown).enumerate() {
        let y = top + 8 + 18 * i as i32;
        match swatch {
            Swatch::Line(c) => root.draw(&PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))).map_err(err)?,
            Swatch::Dot(c) => root.draw(&Circle::new((x + 11, y), 4, c.filled())).map_err(err)?,
            Swatch::Block(c) => root.draw(&Rectangle::new([(x + 3, y - 6), (x + 19, y + 6)], c.filled())).map_err(err)?,
            Swatch::Number(n, colour) => text(root, &n.to_string(), (x + 11, y), 12, at(HPos::Center, VPos::Center), colour)?,
            Swatch::Ring => ring(root, (x + 11, y), 7)?,
        }
        text(root, &fit(root, label, 12, LEGEND_MAX - 34), (x + 30, y), 12, at(HPos::Left, VPos::Center), &BLACK)?;
    }
    if shown < legend.len() {
        let y = top + 8 + 18 * shown as i32;
        text(root, &format!("and {} more", legend.len() - shown), (x + 30, y), 12, at(HPos::Left, VPos::Center), &BLACK)?;
    }
    Ok(())
}

/// The interval's lower end: every quantity charted is non-negative, so an interval never
/// reaches below zero.
pub fn lower(v: f64, ci: f64) -> f64 {
    if v >= 0.0 {
        (v - ci).max(0.0)
    } else {
        v - ci
    }
}

fn error_bar<DB: DrawingBackend>(root: &Area<DB>, f: &Frame, x: f64, y: f64, ci: f64, c: &RGBColor) -> DrawResult {
    if ci.is_nan() || ci <= 0.0 {
        return Ok(());
    }
    let (px, lo, hi) = (f.px(x), f.py(lower(y, ci).max(if f.y.log { f.y.lo } else { f64::MIN })), f.py(y + ci));
    let (lo, hi) = (lo.clamp(f.top, f.bottom), hi.clamp(f.top, f.bottom));
    root.draw(&PathElement::new(vec![(px, lo), (px, hi)], c.stroke_width(1))).map_err(err)?;
    for py in [lo, hi] {
        root.draw(&PathElement::new(vec![(px - 4, py), (px + 4, py)], c.stroke_width(1))).map_err(err)?;
    }
    Ok(())
}

pub fn draw_line<DB: DrawingBackend>(root: &Area<DB>, c: &LineChart) -> DrawResult {
    let xs = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .chain(c.spans.iter().flat_map(|s| [s.from, s.to.unwrap_or(s.from)]));
    let x = Axis::fit(xs, c.x_scale);
    // On an axis that may be log, an interval reaching zero does not keep it linear: its bar is
    // cut at the axis's foot.
    let auto = matches!(c.y_scale, Scale::Auto { .. });
    let ys =
        c.series.iter().flat_map(|s| s.points.iter().flat_map(|p| [lower(p.y, p.ci), p.y + p.ci])).filter(|v| !auto || *v > 0.0);
    let y = Axis::fit(ys.chain(c.hline.iter().map(|h| h.0)), c.y_scale);
    let mut legend: Vec<(Swatch, String)> =
        c.series.iter().enumerate().map(|(i, s)| (Swatch::Line(colour(i)), s.name.clone())).collect();
    if c.series.len() == 1 && c.series[0].name.is_empty() {
        legend.clear();
    }
    legend.extend(c.spans.iter().enumerate().map(|(i, s)| (Swatch::Number(i + 1, fault_colour(&s.label)), s.label.clone())));
    if !c.marks.is_empty() {
        legend.push((Swatch::Ring, MEETS.into()));
    }
    let f = frame(root, &c.title, c.note.as_deref(), &c.x_label, &c.y_label, x, y, &legend)?;
    // Faults: shaded while they last, a line where they are an instant, numbered at the top.
    let mut number_rows: Vec<i32> = Vec::new();
    for (i, span) in c.spans.iter().enumerate() {
        if !f.inside_x(span.from) {
            continue;
        }
        let x0 = f.px(span.from);
        let kind = fault_colour(&span.label);
        match span.to {
            Some(to) => {
                let x1 = f.px(to.min(f.x.hi)).max(x0 + 1);
                root.draw(&Rectangle::new([(x0, f.top), (x1, f.bottom)], kind.mix(0.08).filled())).map_err(err)?;
            }
            None => root.draw(&PathElement::new(vec![(x0, f.top), (x0, f.bottom)], kind.mix(0.5))).map_err(err)?,
        }
        // Numbers that would overlap go one row lower.
        let row = (0..).find(|r| number_rows.get(*r).is_none_or(|end| x0 > *end + 4)).unwrap_or(0);
        if row >= number_rows.len() {
            number_rows.push(i32::MIN);
        }
        let label = (i + 1).to_string();
        number_rows[row] = x0 + 3 + width(root, &label, 11);
        text(root, &label, (x0 + 3, f.top + 3 + 13 * row as i32), 11, at(HPos::Left, VPos::Top), &kind)?;
    }
    if let Some((v, label)) = &c.hline {
        let py = f.py(*v);
        for k in (f.left..f.right).step_by(10) {
            root.draw(&PathElement::new(vec![(k, py), ((k + 5).min(f.right), py)], BLACK.stroke_width(1))).map_err(err)?;
        }
        text(root, label, (f.right - 4, py - 3), 12, at(HPos::Right, VPos::Bottom), &BLACK)?;
    }
    for (i, s) in c.series.iter().enumerate() {
        let col = colour(i);
        // A gap (no value) ends the line; it is not bridged.
        for run in s.points.split(|p| !p.y.is_finite()) {
            let pts: Vec<(i32, i32)> = run.iter().map(|p| (f.px(p.x), f.py(p.y))).collect();
            if pts.len() > 1 {
                root.draw(&PathElement::new(pts.clone(), col.stroke_width(2))).map_err(err)?;
            }
            if s.markers || pts.len() == 1 {
                for p in &pts {
                    root.draw(&Circle::new(*p, 3, col.filled())).map_err(err)?;
                }
            }
        }
        for p in s.points.iter().filter(|p| p.y.is_finite()) {
            error_bar(root, &f, p.x, p.y, p.ci, &col)?;
        }
    }
    for &(x, y) in c.marks.iter().filter(|(x, y)| x.is_finite() && y.is_finite()) {
        ring(root, (f.px(x), f.py(y)), 7)?;
    }
    root.present().map_err(err)
}

/// Every point is a number in the legend and in its colour; the number sits beside its point
/// only where it is nearer its own point than any other and touches no other number, so no
/// label can be read as another point's.
pub fn draw_scatter<DB: DrawingBackend>(root: &Area<DB>, c: &Scatter) -> DrawResult {
    let (tx, ty) = c.targets;
    let x = Axis::fit(c.points.iter().flat_map(|p| [lower(p.x, p.x_ci), p.x + p.x_ci]).chain(tx), c.x_scale);
    let y = Axis::fit(c.points.iter().flat_map(|p| [lower(p.y, p.y_ci), p.y + p.y_ci]).chain(ty), c.y_scale);
    let mut legend: Vec<(Swatch, String)> =
        c.points.iter().enumerate().map(|(i, p)| (Swatch::Dot(colour(i)), format!("{}: {}", i + 1, p.label))).collect();
    if c.shade {
        legend.push((Swatch::Block(RGBColor(200, 235, 200)), "where every target is met".into()));
    }
    if c.points.iter().any(|p| p.marked) {
        legend.push((Swatch::Ring, MEETS.into()));
    }
    let f = frame(root, &c.title, c.note.as_deref(), &c.x_label, &c.y_label, x, y, &legend)?;
    let (bx, by) = (tx.map(|v| f.px(v).clamp(f.left, f.right)), ty.map(|v| f.py(v).clamp(f.top, f.bottom)));
    if c.shade {
        root.draw(&Rectangle::new(
            [(f.left + 1, by.unwrap_or(f.top)), (bx.unwrap_or(f.right), f.bottom - 1)],
            RGBColor(200, 235, 200).mix(0.6).filled(),
        ))
        .map_err(err)?;
    }
    let dashed = |from: (i32, i32), to: (i32, i32)| -> DrawResult {
        let steps = ((to.0 - from.0).abs().max((to.1 - from.1).abs()) / 10).max(1);
        for k in 0..steps {
            let at = |t: f64| (from.0 + ((to.0 - from.0) as f64 * t) as i32, from.1 + ((to.1 - from.1) as f64 * t) as i32);
            let (t0, t1) = (k as f64 / steps as f64, (k as f64 + 0.5) / steps as f64);
            root.draw(&PathElement::new(vec![at(t0), at(t1)], BLACK.stroke_width(1))).map_err(err)?;
        }
        Ok(())
    };
    if let Some(px) = bx {
        dashed((px, f.top), (px, f.bottom))?;
    }
    if let Some(py) = by {
        dashed((f.left, py), (f.right, py))?;
    }
    let centres: Vec<(i32, i32)> = c.points.iter().map(|p| (f.px(p.x), f.py(p.y))).collect();
    for (i, p) in c.points.iter().enumerate() {
        let col = colour(i);
        let (px, py) = centres[i];
        error_bar(root, &f, p.x, p.y, p.y_ci, &col)?;
        if p.x_ci > 0.0 {
            let (a, b) = (f.px(lower(p.x, p.x_ci)).clamp(f.left, f.right), f.px(p.x + p.x_ci).clamp(f.left, f.right));
            root.draw(&PathElement::new(vec![(a, py), (b, py)], col.stroke_width(1))).map_err(err)?;
        }
        root.draw(&Circle::new((px, py), 5, col.filled())).map_err(err)?;
        if p.marked {
            ring(root, (px, py), 9)?;
        }
    }
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    for (i, &(px, py)) in centres.iter().enumerate() {
        let label = (i + 1).to_string();
        let (w, h) = (width(root, &label, 12), 14);
        let candidates = [(px + 13, py - h / 2), (px - 13 - w, py - h / 2), (px - w / 2, py - 13 - h), (px - w / 2, py + 13)];
        let free = candidates.into_iter().find(|&(x0, y0)| {
            let centre = (x0 + w / 2, y0 + h / 2);
            let d2 = |(a, b): (i32, i32)| ((a - centre.0) as i64).pow(2) + ((b - centre.1) as i64).pow(2);
            let own = d2((px, py));
            let inside = x0 >= f.left && x0 + w <= f.right && y0 >= f.top && y0 + h <= f.bottom;
            inside
                && centres.iter().enumerate().all(|(j, &q)| j == i || d2(q) > own + 64)
                && !placed.iter().any(|&(a, b, c2, d)| x0 < c2 && x0 + w > a && y0 < d && y0 + h > b)
        });
        if let Some((x0, y0)) = free {
            placed.push((x0, y0, x0 + w, y0 + h));
            text(root, &label, (x0, y0), 12, at(HPos::Left, VPos::Top), &colour(i))?;
        }
    }
    root.present().map_err(err)
}

/// Relative luminance of an sRGB colour, for choosing legible text on it.
fn luminance(c: &RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

pub fn draw_heatmap<DB: DrawingBackend>(root: &Area<DB>, c: &Heatmap) -> DrawResult {
    heading(root, &c.title, c.note.as_deref())?;
    let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
    let values: Vec<f64> = c.values.iter().flatten().flatten().copied().filter(|v| v.is_finite()).collect();
    let scale = Axis::fit(values.iter().copied(), Scale::Linear);
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let row_w = c.rows.iter().map(|r| width(root, r, 13)).max().unwrap_or(0);
    let (left, right, top, bottom) = (row_w + 60, w - 130, if c.note.is_some() { 78 } else { 60 }, h - 70);
    let (nx, ny) = (c.columns.len().max(1) as i32, c.rows.len().max(1) as i32);
    let (cw, ch) = ((right - left) / nx, (bottom - top) / ny);
    let shade = |v: f64| ViridisRGB::get_color(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 });
    for (j, row) in c.values.iter().enumerate() {
        // Row 0 at the bottom, as on a y axis.
        let y1 = bottom - ch * j as i32;
        text(root, &c.rows[j], (left - 8, y1 - ch / 2), 13, at(HPos::Right, VPos::Center), &BLACK)?;
        for (i, cell) in row.iter().enumerate() {
            let x0 = left + cw * i as i32;
            let Some(v) = cell.filter(|v| v.is_finite()) else {
                text(root, "not run", (x0 + cw / 2, y1 - ch / 2), 12, at(HPos::Center, VPos::Center), &RGBColor(120, 120, 120))?;
                continue;
            };
            let col = shade(v);
            root.draw(&Rectangle::new([(x0, y1 - ch), (x0 + cw, y1)], col.filled())).map_err(err)?;
            let ink = if luminance(&col) > 0.35 { BLACK } else { WHITE };
            let marked = c.marked.get(j).and_then(|r| r.get(i)).copied().unwrap_or(false);
            let value = if marked { format!("{} ★", significant(v, 3)) } else { significant(v, 3) };
            text(root, &value, (x0 + cw / 2, y1 - ch / 2), 14, at(HPos::Center, VPos::Center), &ink)?;
        }
    }
    // Where R + W > N changes between neighbouring cells, a thick line: quorums meet on one
    // side of it and need not on the other.
    let overlaps = |j: usize, i: usize| c.overlap.get(j).and_then(|r| r.get(i)).copied();
    let edge = |a: (i32, i32), b: (i32, i32)| root.draw(&PathElement::new(vec![a, b], BLACK.stroke_width(3))).map_err(err);
    for j in 0..ny as usize {
        for i in 0..nx as usize {
            let (x0, y1) = (left + cw * i as i32, bottom - ch * j as i32);
            let here = overlaps(j, i);
            if i + 1 < nx as usize && here.is_some() && overlaps(j, i + 1).is_some() && here != overlaps(j, i + 1) {
                edge((x0 + cw, y1 - ch), (x0 + cw, y1))?;
            }
            if j + 1 < ny as usize && here.is_some() && overlaps(j + 1, i).is_some() && here != overlaps(j + 1, i) {
                edge((x0, y1 - ch), (x0 + cw, y1 - ch))?;
            }
        }
    }
    for (i, col) in c.columns.iter().enumerate() {
        text(root, col, (left + cw * i as i32 + cw / 2, bottom + 8), 13, at(HPos::Center, VPos::Top), &BLACK)?;
    }
    text(root, &c.x_label, ((left + right) / 2, h - 12), 13, at(HPos::Center, VPos::Bottom), &BLACK)?;
    text(root, &fit(root, &c.y_label, 13, right - 15), (15, top - 10), 13, at(HPos::Left, VPos::Bottom), &BLACK)?;
    // The colour scale: the data's range, with the value axis's ticks.
    let (sx, sw) = (right + 30, 18);
    let level = |k: i32| bottom - ((bottom - top) as f64 * k as f64 / 100.0).round() as i32;
    for k in 0..100 {
        let t = k as f64 / 100.0;
        root.draw(&Rectangle::new([(sx, level(k + 1)), (sx + sw, level(k))], ViridisRGB::get_color(t).filled())).map_err(err)?;
    }
    root.draw(&Rectangle::new([(sx, top), (sx + sw, bottom)], BLACK.stroke_width(1))).map_err(err)?;
    if hi > lo {
        for (v, label) in scale.ticks.iter().filter(|(v, _)| (lo..=hi).contains(v)) {
            let py = bottom - (((v - lo) / (hi - lo)) * (bottom - top) as f64) as i32;
            root.draw(&PathElement::new(vec![(sx + sw, py), (sx + sw + 4, py)], BLACK)).map_err(err)?;
            text(root, label, (sx + sw + 7, py), 12, at(HPos::Left, VPos::Center), &BLACK)?;
        }
    } else if let Some(v) = values.first() {
        text(
            root,
            &format!("all {}", significant(*v, 3)),
            (sx + sw + 7, (top + bottom) / 2),
            12,
            at(HPos::Left, VPos::Center),
            &BLACK,
        )?;
    }
    root.present().map_err(err)
}

/// Horizontal bars, one per category (labels to the left, however long), stacked segments or
/// one value with its interval.
pub fn draw_bars<DB: DrawingBackend>(root: &Area<DB>, c: &Bars) -> DrawResult {
    heading(root, &c.title, c.note.as_deref())?;
    let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
    let totals: Vec<f64> = (0..c.categories.len()).map(|k| c.segments.iter().map(|s| s.1[k]).sum::<f64>()).collect();
    let reach = totals.iter().zip(c.ci.iter().chain(std::iter::repeat(&0.0))).map(|(t, ci)| t + ci);
    let axis = Axis::fit(reach.chain([0.0]), Scale::FromZero);
    let label_w = c.categories.iter().map(|l| width(root, l, 12)).max().unwrap_or(0).min(w / 3);
    let legend: Vec<(Swatch, String)> = if c.segments.len() > 1 {
        c.segments.iter().enumerate().map(|(i, s)| (Swatch::Block(colour(i)), s.0.clone())).collect()
    } else {
        Vec::new()
    };
    let legend_w = legend.iter().map(|(_, l)| width(root, l, 12).min(LEGEND_MAX - 34) + 34).max().unwrap_or(0);
    let (left, right, top, bottom) = (label_w + 24, w - 30 - legend_w, if c.note.is_some() { 60 } else { 48 }, h - 58);
    let f = Frame { left, right, top, bottom, x: axis, y: Axis::fit([0.0, 1.0], Scale::Linear) };
    for (v, label) in &f.x.ticks {
        let px = f.px(*v);
        root.draw(&PathElement::new(vec![(px, top), (px, bottom)], GRID)).map_err(err)?;
        text(root, label, (px, bottom + 7), 13, at(HPos::Center, VPos::Top), &BLACK)?;
    }
    text(root, &c.value_label, ((left + right) / 2, h - 10), 13, at(HPos::Center, VPos::Bottom), &BLACK)?;
    let n = c.categories.len().max(1) as i32;
    let slot = (bottom - top) / n;
    let bar = (slot * 6 / 10).clamp(2, 40);
    for (k, category) in c.categories.iter().enumerate() {
        let yc = top + slot * k as i32 + slot / 2;
        text(root, &fit(root, category, 12, label_w), (left - 8, yc), 12, at(HPos::Right, VPos::Center), &BLACK)?;
        let mut start = 0.0;
        for (i, (_, values)) in c.segments.iter().enumerate() {
            let v = values[k];
            if v > 0.0 {
                let (x0, x1) = (f.px(start), f.px(start + v).max(f.px(start) + 1));
                root.draw(&Rectangle::new([(x0, yc - bar / 2), (x1, yc + bar / 2)], colour(i).filled())).map_err(err)?;
            }
            start += v;
        }
        if let Some(ci) = c.ci.get(k).filter(|ci| **ci > 0.0) {
            let (a, b) = (f.px(start - ci).max(left), f.px(start + ci).min(right));
            root.draw(&PathElement::new(vec![(a, yc), (b, yc)], BLACK.stroke_width(1))).map_err(err)?;
            for x in [a, b] {
                root.draw(&PathElement::new(vec![(x, yc - 5), (x, yc + 5)], BLACK.stroke_width(1))).map_err(err)?;
            }
        }
        if c.segments.len() == 1 {
            let label = significant(start, 3);
            let end = f.px(start + c.ci.get(k).copied().unwrap_or(0.0)) + 6;
            if end + width(root, &label, 11) < right {
                text(root, &label, (end, yc), 11, at(HPos::Left, VPos::Center), &BLACK)?;
            }
        }
    }
    root.draw(&PathElement::new(vec![(left, top), (left, bottom)], BLACK)).map_err(err)?;
    draw_legend(root, right + 16, top, &legend)?;
    root.present().map_err(err)
}

pub fn draw<DB: DrawingBackend>(root: Area<DB>, chart: &Chart) -> DrawResult {
    match chart {
        Chart::Line(c) => draw_line(&root, c),
        Chart::Scatter(c) => draw_scatter(&root, c),
        Chart::Heatmap(c) => draw_heatmap(&root, c),
        Chart::Bars(c) => draw_bars(&root, c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_coloured_by_kind() {
        // Wordings as report.json's faults[].fault gives them.
        let crash = fault_colour("crash n0");
        assert_eq!(crash, fault_colour("restart n0"), "a crash and its restart share a colour");
        let kinds = [
            "crash n0",
            "partition p [n0] | [n1]",
            "loss burst 3 (p = 0.5)",
            "n2 runs 50x slower",
            "clock of n1 set +5.000 ms off",
            "join n5",
        ];
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[i + 1..] {
                assert_ne!(fault_colour(a), fault_colour(b), "{a} and {b}");
            }
        }
    }
}
