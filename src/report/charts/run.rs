//! The charts of one run's report.json.

use super::{all_zero, capitalise, f, f_or_gap, Chart, Charts, LineChart, Point, Scale, Series, Span};
use serde_json::Value;

/// Faults as spans on a time axis in seconds: a fault and the event that undoes it (a crash and
/// its restart, a partition and its heal, a slow-down and the return to speed) make one span;
/// anything else is an instant.
pub fn fault_spans(report: &Value) -> Vec<Span> {
    let events: Vec<(f64, String)> = report["faults"].as_array().map_or(Vec::new(), |a| {
        a.iter().map(|x| (f(&x["at_ms"]) / 1000.0, x["fault"].as_str().unwrap_or("").to_string())).collect()
    });
    let ends = |start: &str, other: &str| -> bool {
        let word = |s: &str, i: usize| s.split(' ').nth(i).unwrap_or("").to_string();
        if start.starts_with("crash ") {
            other == format!("restart {}", word(start, 1))
        } else if start.starts_with("partition ") {
            other == format!("heal {}", word(start, 1))
        } else if start.starts_with("loss burst ") {
            other == format!("loss burst {} ends", word(start, 2))
        } else if start.ends_with("x slower") && !start.ends_with(" 1x slower") {
            other == format!("{} runs 1x slower", word(start, 0))
        } else if start.starts_with("clock of ") && !start.ends_with(" +0.000 ms off") {
            other == format!("clock of {} set +0.000 ms off", word(start, 2))
        } else {
            false
        }
    };
    let mut used = vec![false; events.len()];
    let mut spans = Vec::new();
    for i in 0..events.len() {
        if used[i] {
            continue;
        }
        let (from, label) = &events[i];
        let end = (i + 1..events.len()).find(|&j| !used[j] && ends(label, &events[j].1));
        if let Some(j) = end {
            used[j] = true;
        }
        spans.push(Span { from: *from, to: end.map(|j| events[j].0), label: label.clone() });
    }
    spans
}

fn buckets(report: &Value, op: &str) -> Vec<Value> {
    report["latency_over_time"][op].as_array().cloned().unwrap_or_default()
}

/// The buckets wholly inside the workload's time: after it, clients stop issuing, and a
/// throughput or availability chart would show a drop that is no failure.
fn traffic_buckets(report: &Value, op: &str) -> Vec<Value> {
    let end = report["workload_duration_ms"].as_f64().unwrap_or(f64::INFINITY);
    buckets(report, op).into_iter().filter(|b| f(&b["t_ms"]) + f(&b["bucket_ms"]) / 2.0 <= end + 1e-9).collect()
}

/// Every chart a run's report supports.
pub fn run_charts(report: &Value) -> Charts {
    let run = Run::of(report);
    let mut out = Charts::default();
    latency_cdf(&run, &mut out);
    traffic_over_time(&run, &mut out);
    samples_over_time(&run, &mut out);
    visibility(&run, &mut out);
    k_staleness(&run, &mut out);
    out
}

/// What every chart of one run shares: its report, name, time axis and fault spans.
struct Run<'a> {
    report: &'a Value,
    name: &'a str,
    /// Every chart over time spans the whole run, so a moment sits at the same place on each.
    time: Scale,
    spans: Vec<Span>,
}

impl<'a> Run<'a> {
    fn of(report: &'a Value) -> Run<'a> {
        Run {
            report,
            name: report["scenario"]["name"].as_str().unwrap_or("run"),
            time: Scale::Range { lo: 0.0, hi: f(&report["simulated_duration_ms"]) / 1000.0 },
            spans: fault_spans(report),
        }
    }

    /// A chart over simulated time, with the run's faults drawn as spans.
    fn over_time(&self, title: &str, note: Option<&str>, y_label: &str, y_scale: Scale, series: Vec<Series>) -> Chart {
        Chart::Line(LineChart {
            title: format!("{}: {title}", self.name),
            note: note.map(str::to_string),
            x_label: "simulated time (s)".into(),
            y_label: y_label.into(),
            x_scale: self.time,
            y_scale,
            series,
            spans: self.spans.clone(),
            hline: None,
            marks: vec![],
        })
    }
}

fn series(name: &str, points: Vec<Point>) -> Series {
    Series { name: name.into(), points, markers: false }
}

fn latency_cdf(run: &Run, out: &mut Charts) {
    let cdf: Vec<Series> = ["get", "put"]
        .iter()
        .map(|op| {
            let points = run.report["latency_cdf_ms"][op]
                .as_array()
                .map_or(Vec::new(), |a| a.iter().map(|p| Point::new(f(&p[1]), f(&p[0]))).collect());
            series(op, points)
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if cdf.is_empty() {
        return;
    }
    out.drawn.push((
        "latency-cdf".into(),
        Chart::Line(LineChart {
            title: format!("{}: latency distribution (successful operations)", run.name),
            note: None,
            x_label: "latency (ms)".into(),
            y_label: "fraction of operations at or below".into(),
            x_scale: Scale::Auto { decades: 2.0 },
            y_scale: Scale::Unit,
            series: cdf,
            spans: vec![],
            hline: None,
            marks: vec![],
        }),
    ));
}

/// Latency percentiles, throughput, operations in flight and (where anything failed or
/// stalled) availability, per window of the run.
fn traffic_over_time(run: &Run, out: &mut Charts) {
    let report = run.report;
    let over_time = |op: &str, field: &str| -> Vec<Point> {
        buckets(report, op).iter().map(|b| Point::new(f(&b["t_ms"]) / 1000.0, f_or_gap(&b[field]))).collect()
    };
    let mut latency = Vec::new();
    for (op, q) in [("get", "p50_ms"), ("get", "p99_ms"), ("get", "p999_ms"), ("put", "p999_ms")] {
        let points = over_time(op, q);
        if !points.is_empty() {
            latency.push(series(&format!("{op} {}", q.trim_end_matches("_ms")), points));
        }
    }
    if latency.is_empty() {
        return;
    }
    out.drawn.push((
        "latency-over-time".into(),
        run.over_time(
            "latency percentiles over time",
            Some("A gap is an interval in which no operation of that kind succeeded."),
            "latency (ms)",
            Scale::Linear,
            latency,
        ),
    ));
    let per_second = |op: &str, field: &str| -> Vec<Point> {
        traffic_buckets(report, op)
            .iter()
            .map(|b| Point::new(f(&b["t_ms"]) / 1000.0, f(&b[field]) / (f(&b["bucket_ms"]).max(1e-9) / 1000.0)))
            .collect()
    };
    let failed: Vec<Point> =
        per_second("get", "failed").iter().zip(per_second("put", "failed")).map(|(g, p)| Point::new(g.x, g.y + p.y)).collect();
    let failures = failed.iter().any(|p| p.y > 0.0);
    let mut throughput =
        vec![series("gets succeeded", per_second("get", "count")), series("puts succeeded", per_second("put", "count"))];
    if failures {
        throughput.push(series("operations failed", failed));
    }
    out.drawn.push((
        "throughput-over-time".into(),
        run.over_time(
            "operations per second over time",
            (!failures).then_some("No operation failed."),
            "operations per second",
            Scale::FromZero,
            throughput,
        ),
    ));
    let in_flight = |op: &str| -> Vec<Point> {
        buckets(report, op).iter().map(|b| Point::new(f(&b["t_ms"]) / 1000.0, f(&b["in_flight_mean"]))).collect()
    };
    out.drawn.push((
        "in-flight-over-time".into(),
        run.over_time(
            "operations in flight over time",
            Some("Mean over each window of the operations started and not yet ended."),
            "operations in flight",
            Scale::FromZero,
            vec![series("gets", in_flight("get")), series("puts", in_flight("put"))],
        ),
    ));
    // A window of the workload's time in which no operation of a kind ended is a stall (its
    // clients were all waiting), drawn at 0, not left out as if nothing had been asked.
    // (A kind the workload never issues is no stall.)
    let ended = |b: &Value| f(&b["count"]) + f(&b["failed"]);
    let issued = |op: &str| traffic_buckets(report, op).iter().any(|b| ended(b) > 0.0);
    let stalled = ["get", "put"].iter().any(|op| issued(op) && traffic_buckets(report, op).iter().any(|b| ended(b) == 0.0));
    if !(failures || stalled) {
        out.skipped.push("Availability over time: every operation succeeded.".into());
        return;
    }
    let availability = |op: &str| -> Vec<Point> {
        let idle = if issued(op) { 0.0 } else { f64::NAN };
        traffic_buckets(report, op)
            .iter()
            .map(|b| Point::new(f(&b["t_ms"]) / 1000.0, if ended(b) > 0.0 { f(&b["count"]) / ended(b) } else { idle }))
            .collect()
    };
    out.drawn.push((
        "availability-over-time".into(),
        run.over_time(
            "share of operations that succeeded, over time",
            Some("A window in which no operation of that kind ended (a stall) is drawn at 0."),
            "succeeded / (succeeded + failed)",
            Scale::Unit,
            vec![series("get", availability("get")), series("put", availability("put"))],
        ),
    ));
}

/// Divergent keys and pending hints, as sampled during the run.
fn samples_over_time(run: &Run, out: &mut Charts) {
    let divergence = run.report["divergence"].as_array().cloned().unwrap_or_default();
    if divergence.is_empty() {
        return;
    }
    let sampled =
        |field: &str| -> Vec<Point> { divergence.iter().map(|d| Point::new(f(&d["t_ms"]) / 1000.0, f(&d[field]))).collect() };
    for (stem, field, title, y_label, name) in [
        ("divergence", "divergent_key_fraction", "keys whose replicas differ, over time", "fraction of keys", "divergent keys"),
        ("pending-hints", "pending_hint_count", "hints waiting for delivery, over time", "hints queued", "hints"),
    ] {
        let drawn = vec![series(name, sampled(field))];
        if all_zero(&drawn) {
            out.skipped.push(format!("{}: zero at every sample.", capitalise(title)));
            continue;
        }
        out.drawn.push((stem.into(), run.over_time(title, None, y_label, Scale::FromZero, drawn)));
    }
}

/// PBS's t-visibility: with several versions per probe, one curve per k (<k, t>-staleness);
/// k = 1 is the plain t-visibility curve.
fn visibility(run: &Run, out: &mut Charts) {
    let rows = run.report["t_visibility"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return;
    }
    let versions = rows[0]["within_versions_fraction"].as_array().map_or(1, Vec::len);
    let curves: Vec<Series> = (0..versions)
        .map(|k| Series {
            name: if versions > 1 { format!("within {} version{}", k + 1, if k == 0 { "" } else { "s" }) } else { String::new() },
            points: rows
                .iter()
                .map(|p| {
                    let y = if versions > 1 { &p["within_versions_fraction"][k] } else { &p["reflected_fraction"] };
                    Point::new(f(&p["t_ms"]), f(y))
                })
                .collect(),
            markers: true,
        })
        .collect();
    out.drawn.push(("t-visibility".into(), t_visibility(run.name, curves.clone())));
    out.drawn.push(("t-visibility-tail".into(), t_visibility_tail(run.name, curves)));
}

fn k_staleness(run: &Run, out: &mut Charts) {
    let k_staleness: Vec<Point> = run.report["staleness"]["k_staleness"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().map(|p| Point::new(f(&p["k"]), 1.0 - f(&p["within_fraction"]))).collect());
    if !k_staleness.iter().any(|p| p.y > 0.0) {
        if !k_staleness.is_empty() {
            out.skipped.push("K-staleness: no get was stale.".into());
        }
        return;
    }
    out.drawn.push((
        "k-staleness".into(),
        Chart::Line(LineChart {
            title: format!("{}: gets more than k versions behind (PBS k-staleness)", run.name),
            note: Some(
                "Versions: writes acknowledged before the get was sent, newest first; k = 1 is the stale-read fraction.".into(),
            ),
            x_label: "k (versions)".into(),
            y_label: "fraction of gets more than k versions behind".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::FromZero,
            series: vec![Series { name: String::new(), points: k_staleness, markers: true }],
            spans: vec![],
            hline: None,
            marks: vec![],
        }),
    ));
}

pub fn t_visibility(name: &str, series: Vec<Series>) -> Chart {
    Chart::Line(LineChart {
        title: format!("{name}: probability a read reflects a write t ms after its ack"),
        note: None,
        x_label: "t (ms after the write was acknowledged)".into(),
        y_label: "fraction of reads reflecting the write".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
        spans: vec![],
        hline: None,
        marks: vec![],
    })
}

/// The same curves as 1 − P on a log axis, as the PBS paper draws the tail: 99.9% and 99.99%
/// are a decade apart instead of a pixel. Points where every read was consistent have no place
/// on it and are left out (the note says so).
pub fn t_visibility_tail(name: &str, series: Vec<Series>) -> Chart {
    let mut dropped = false;
    let series = series
        .into_iter()
        .map(|s| Series {
            points: s
                .points
                .iter()
                .filter_map(|p| {
                    let miss = 1.0 - p.y;
                    dropped |= miss <= 0.0;
                    (miss > 0.0).then_some(Point { x: p.x, y: miss, ci: 0.0 })
                })
                .collect(),
            ..s
        })
        .collect();
    Chart::Line(LineChart {
        title: format!("{name}: reads that miss a write t ms after its ack"),
        note: dropped.then(|| "Delays at which every read reflected the write (1 − P = 0) cannot be drawn on a log axis.".into()),
        x_label: "t (ms after the write was acknowledged)".into(),
        y_label: "1 − P(read reflects the write), log scale".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        series,
        spans: vec![],
        hline: None,
        marks: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_chart_over_time_spans_the_whole_run_and_in_flight_is_drawn() {
        let bucket = |t: f64| {
            json!({ "t_ms": t, "bucket_ms": 100.0, "count": 3, "failed": 0, "in_flight_mean": 2.5,
                                      "p50_ms": 1.0, "p99_ms": 2.0, "p999_ms": 3.0 })
        };
        let report = json!({
            "simulated_duration_ms": 9000.0, "workload_duration_ms": 300.0,
            "latency_over_time": { "get": [bucket(50.0), bucket(150.0), bucket(250.0)], "put": [] },
            "divergence": [{ "t_ms": 8000.0, "divergent_key_fraction": 0.5, "pending_hint_count": 0 }],
        });
        let charts = run_charts(&report);
        let names: Vec<&str> = charts.drawn.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["latency-over-time", "throughput-over-time", "in-flight-over-time", "divergence"]);
        for (name, chart) in &charts.drawn {
            let Chart::Line(c) = chart else { panic!("{name} is not a line chart") };
            assert_eq!(c.x_scale, Scale::Range { lo: 0.0, hi: 9.0 }, "{name}");
        }
    }

    #[test]
    fn a_fault_and_what_undoes_it_make_one_span() {
        let report = json!({ "faults": [
            { "at_ms": 1000.0, "fault": "crash n0" },
            { "at_ms": 1500.0, "fault": "partition split [n0] | [n1]" },
            { "at_ms": 2000.0, "fault": "restart n0" },
            { "at_ms": 2500.0, "fault": "heal split" },
            { "at_ms": 3000.0, "fault": "join n4 via n0" },
        ]});
        let spans = fault_spans(&report);
        assert_eq!(spans.len(), 3);
        assert_eq!((spans[0].from, spans[0].to, spans[0].label.as_str()), (1.0, Some(2.0), "crash n0"));
        assert_eq!(spans[1].to, Some(2.5));
        assert_eq!(spans[2].to, None, "a join is an instant");
    }
}
