//! The charts of a sweep's results.json: each configuration's mean over seeds with its 95%
//! interval, labelled by the settings that vary (the others are the same everywhere).

use super::run::{t_visibility, t_visibility_tail};
use super::{
    all_zero, capitalise, f, merge_identical, Bars, Chart, Charts, Heatmap, LineChart, Point, Scale, Scatter, ScatterPoint,
    Series,
};
use serde_json::Value;

type Setting = (String, String);

fn settings(config: &Value) -> Vec<Setting> {
    config["settings"].as_array().map_or(Vec::new(), |s| {
        s.iter()
            .filter_map(|x| x.as_str())
            .filter_map(|x| x.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

fn setting(config: &Value, path: &str) -> Option<String> {
    settings(config).into_iter().find(|(k, _)| k == path).map(|(_, v)| v)
}

/// The settings whose value is not the same in every configuration, in the sweep's order.
fn varying(configs: &[Value]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for c in configs {
        for (k, _) in settings(c) {
            if !paths.contains(&k) {
                paths.push(k);
            }
        }
    }
    paths.retain(|p| {
        let first = setting(&configs[0], p);
        configs.iter().any(|c| setting(c, p) != first)
    });
    paths
}

/// A setting's short name: its last path segment, or the whole path when another varying
/// setting ends the same way.
fn short(path: &str, all: &[String]) -> String {
    let last = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    if all.iter().filter(|p| last(p) == last(path)).count() > 1 {
        path.to_string()
    } else {
        last(path)
    }
}

/// "r=1 w=2": only the varying settings among `shown`.
fn label(config: &Value, shown: &[String], all: &[String]) -> String {
    let parts: Vec<String> =
        shown.iter().map(|p| format!("{}={}", short(p, all), setting(config, p).unwrap_or_else(|| "default".into()))).collect();
    if parts.is_empty() {
        format!("configuration {}", config["config"])
    } else {
        parts.join(" ")
    }
}

fn mean(config: &Value, metric: &str) -> f64 {
    f(&config[metric]["mean"])
}

fn ci(config: &Value, metric: &str) -> f64 {
    f(&config[metric]["ci95"])
}

/// `--recommend`'s bound on `metric`, when it set an upper one.
fn target(recommend: Option<&Value>, metric: &str) -> Option<f64> {
    recommend?["targets"].as_array()?.iter().find_map(|t| {
        (t["metric"].as_str() == Some(metric) && t["at_most"].as_bool() == Some(true)).then(|| t["value"].as_f64()).flatten()
    })
}

/// Every chart a sweep's results support; `recommend` is the folder's recommend.json, if any.
pub fn sweep_charts(results: &Value, recommend: Option<&Value>) -> Charts {
    let mut out = Charts::default();
    let configs: Vec<Value> = results["configurations"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().filter(|c| c.get("skipped").is_none()).cloned().collect());
    if configs.is_empty() {
        out.skipped.push("No chart: every configuration was skipped.".into());
        return out;
    }
    let all = varying(&configs);
    tradeoff(&mut out, &configs, &all, recommend);
    versions(&mut out, &configs, &all);
    rw_heatmaps(&mut out, &configs);
    load_balancing(&mut out, &configs);
    t_visibility_curves(&mut out, results, &configs, &all);
    categorical_bars(&mut out, &configs, &all);
    axis_charts(&mut out, &configs, &all, recommend);
    out
}

fn tradeoff(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
    let points: Vec<ScatterPoint> = configs
        .iter()
        .map(|a| ScatterPoint {
            x: mean(a, "stale_read_fraction"),
            x_ci: ci(a, "stale_read_fraction"),
            y: mean(a, "p999_get_ms"),
            y_ci: ci(a, "p999_get_ms"),
            label: label(a, all, all),
        })
        .collect();
    let targets = (target(recommend, "stale_read_fraction"), target(recommend, "p999_get_ms"));
    let no_stale = points.iter().all(|p| p.x == 0.0);
    out.drawn.push((
        "tradeoff".into(),
        Chart::Scatter(Scatter {
            title: "p99.9 read latency against the share of stale reads".into(),
            note: Some(if no_stale {
                "No configuration returned a stale read. Bars: 95% intervals over seeds.".into()
            } else {
                "Lower left is better. Bars: 95% intervals over seeds.".into()
            }),
            x_label: "stale-read fraction (reads missing an acknowledged write)".into(),
            y_label: "p99.9 get latency (ms)".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            points,
            target: (targets.0.is_some() || targets.1.is_some()).then_some(targets),
        }),
    ));
}

/// Reads by how many versions they returned, a stacked bar per configuration.
fn versions(out: &mut Charts, configs: &[Value], all: &[String]) {
    let more: Vec<f64> = configs.iter().map(|a| mean(a, "reads_with_siblings_fraction")).collect();
    // Results written before one_version_read_fraction existed: the rest of the reads.
    let one: Vec<f64> =
        configs.iter().zip(&more).map(|(a, m)| a["one_version_read_fraction"]["mean"].as_f64().unwrap_or(1.0 - m)).collect();
    if more.iter().all(|m| *m == 0.0) {
        out.skipped.push("Versions per read: every read returned at most one version.".into());
        return;
    }
    out.drawn.push((
        "versions-per-read".into(),
        Chart::Bars(Bars {
            title: "reads by the number of versions they returned".into(),
            note: Some("The rest of each bar's length to 1 is reads of keys never written.".into()),
            value_label: "fraction of successful reads".into(),
            categories: configs.iter().map(|a| label(a, all, all)).collect(),
            segments: vec![("one version".into(), one), ("two or more (siblings)".into(), more)],
            // The interval of the share with siblings, at the end of its segment.
            ci: configs.iter().map(|a| ci(a, "reads_with_siblings_fraction")).collect(),
        }),
    ));
}

fn numeric_order(v: &mut Vec<String>) {
    v.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    v.dedup();
}

/// Heatmaps over (R, W) when the sweep varies both.
fn rw_heatmaps(out: &mut Charts, configs: &[Value]) {
    let mut rs: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.r")).collect();
    let mut ws: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.w")).collect();
    numeric_order(&mut rs);
    numeric_order(&mut ws);
    if rs.len() < 2 || ws.len() < 2 {
        return;
    }
    let cell = |r: &String, w: &String, metric: &str| {
        let values: Vec<f64> = configs
            .iter()
            .filter(|a| setting(a, "protocol.r").as_ref() == Some(r) && setting(a, "protocol.w").as_ref() == Some(w))
            .map(|a| mean(a, metric))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    for (metric, title) in [("p999_get_ms", "p99.9 get latency (ms)"), ("stale_read_fraction", "stale-read fraction")] {
        let values: Vec<Vec<Option<f64>>> = ws.iter().map(|w| rs.iter().map(|r| cell(r, w, metric)).collect()).collect();
        if values.iter().flatten().flatten().all(|v| *v == 0.0) {
            out.skipped.push(format!("Heatmap of {title} over (R, W): zero in every cell."));
            continue;
        }
        out.drawn.push((
            format!("heatmap-{metric}"),
            Chart::Heatmap(Heatmap {
                title: format!("{title} over (R, W), mean over seeds"),
                x_label: "R (replies a get waits for)".into(),
                y_label: "W (acks a put waits for)".into(),
                columns: rs.clone(),
                rows: ws.clone(),
                values,
            }),
        ));
    }
}

/// Dynamo §6.2's figure: load-balancing efficiency against membership metadata per node, one
/// series per partitioning strategy.
fn load_balancing(out: &mut Charts, configs: &[Value]) {
    let mut strategies: Vec<String> = configs.iter().filter_map(|a| setting(a, "ring.strategy")).collect();
    strategies.sort();
    strategies.dedup();
    if strategies.is_empty() {
        return;
    }
    let series: Vec<Series> = strategies
        .iter()
        .map(|st| {
            let mut points: Vec<Point> = configs
                .iter()
                .filter(|a| setting(a, "ring.strategy").as_ref() == Some(st))
                .map(|a| Point {
                    x: mean(a, "metadata_entries_per_node"),
                    y: mean(a, "load_balancing_efficiency"),
                    ci: ci(a, "load_balancing_efficiency"),
                })
                .collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            Series { name: st.clone(), points, markers: true }
        })
        .collect();
    out.drawn.push((
        "load-balancing-efficiency".into(),
        Chart::Line(LineChart {
            title: "load-balancing efficiency against membership metadata".into(),
            note: Some("Efficiency: mean requests per node over the hottest node's. Bars: 95% intervals.".into()),
            x_label: "membership entries per node (tokens or partitions)".into(),
            y_label: "mean / hottest node's requests".into(),
            x_scale: Scale::Auto { decades: 0.6 },
            y_scale: Scale::Linear,
            series: merge_identical(series),
            spans: vec![],
            hline: None,
        }),
    ));
}

/// t-visibility, one curve per configuration: the mean over its seeds at each t.
fn t_visibility_curves(out: &mut Charts, results: &Value, configs: &[Value], all: &[String]) {
    let rows = results["rows"].as_array().cloned().unwrap_or_default();
    let pairs =
        |v: &Value| -> Vec<(f64, f64)> { v.as_array().map_or(Vec::new(), |a| a.iter().map(|p| (f(&p[0]), f(&p[1]))).collect()) };
    let curves: Vec<Series> = configs
        .iter()
        .filter_map(|a| {
            let mine: Vec<&Value> = rows.iter().filter(|r| r["config"] == a["config"] && r["t_visibility"].is_array()).collect();
            let first = pairs(&mine.first()?["t_visibility"]);
            let at =
                |i: usize| -> Vec<f64> { mine.iter().map(|r| pairs(&r["t_visibility"]).get(i).map_or(0.0, |p| p.1)).collect() };
            let points = first
                .iter()
                .enumerate()
                .map(|(i, (t, _))| {
                    let (y, ci) = crate::report::mean_ci95(&at(i));
                    Point { x: *t, y, ci }
                })
                .collect();
            Some(Series { name: label(a, all, all), points, markers: true })
        })
        .collect();
    if curves.is_empty() {
        return;
    }
    let curves = merge_identical(curves);
    out.drawn.push(("t-visibility".into(), t_visibility("t-visibility per configuration", curves.clone())));
    out.drawn.push(("t-visibility-tail".into(), t_visibility_tail("t-visibility per configuration", curves)));
}

/// When a setting that is not a number varies (a coordinator strategy, a conflict policy), the
/// tail latency and cost of each configuration as bars with their intervals.
fn categorical_bars(out: &mut Charts, configs: &[Value], all: &[String]) {
    let categorical = all.iter().any(|p| configs.iter().any(|c| setting(c, p).is_some_and(|v| v.parse::<f64>().is_err())));
    if !categorical {
        return;
    }
    for (metric, title, unit) in [
        ("p999_get_ms", "p99.9 get latency per configuration", "p99.9 get latency (ms), mean and 95% interval"),
        ("p999_put_ms", "p99.9 put latency per configuration", "p99.9 put latency (ms), mean and 95% interval"),
    ] {
        out.drawn.push((
            format!("{metric}-per-configuration"),
            Chart::Bars(Bars {
                title: title.into(),
                note: None,
                value_label: unit.into(),
                categories: configs.iter().map(|a| label(a, all, all)).collect(),
                segments: vec![(metric.into(), configs.iter().map(|a| mean(a, metric)).collect())],
                ci: configs.iter().map(|a| ci(a, metric)).collect(),
            }),
        ));
    }
}

/// Metrics against each numeric axis, one series per setting of the other varying settings
/// (e.g. load imbalance against tokens per node for each partitioning strategy).
fn axis_charts(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
    for axis in all.iter().filter(|p| configs.iter().all(|c| setting(c, p).is_some_and(|v| v.parse::<f64>().is_ok()))) {
        // When R and W both vary the heatmaps show them.
        let both = ["protocol.r", "protocol.w"].iter().all(|p| all.iter().any(|a| a == p));
        if both && (axis == "protocol.r" || axis == "protocol.w") {
            continue;
        }
        let others: Vec<String> = all.iter().filter(|p| *p != axis).cloned().collect();
        for (metric, y) in [
            ("keys_owned_max_over_mean", "keys owned, max / mean over nodes"),
            ("requests_max_over_mean", "requests served, max / mean over nodes"),
            ("p999_get_ms", "p99.9 get latency (ms)"),
            ("stale_read_fraction", "stale-read fraction"),
            ("reads_with_siblings_fraction", "reads returning 2+ versions"),
            ("lost_write_count", "acknowledged writes lost"),
            ("keys_moved", "keys moved by joins and leaves"),
        ] {
            let name = short(axis, all);
            let mut series: Vec<Series> = Vec::new();
            for a in configs {
                let key = label(a, &others, all);
                let x = setting(a, axis).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
                let p = Point { x, y: mean(a, metric), ci: ci(a, metric) };
                match series.iter_mut().find(|s| s.name == key) {
                    Some(s) => s.points.push(p),
                    None => series.push(Series { name: key, points: vec![p], markers: true }),
                }
            }
            if others.is_empty() {
                series[0].name.clear();
            }
            for s in series.iter_mut() {
                s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
            }
            if all_zero(&series) {
                out.skipped.push(format!("{} against {name}: zero in every configuration.", capitalise(y)));
                continue;
            }
            let hline = target(recommend, metric).map(|v| (v, format!("target ≤ {v}")));
            out.drawn.push((
                format!("{metric}-vs-{}", axis.replace('.', "-")),
                Chart::Line(LineChart {
                    title: format!("{y} against {name}"),
                    note: Some("Mean over seeds; bars: 95% intervals.".into()),
                    x_label: axis.clone(),
                    y_label: y.into(),
                    x_scale: Scale::Auto { decades: 0.6 },
                    y_scale: Scale::Linear,
                    series: merge_identical(series),
                    spans: vec![],
                    hline,
                }),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_show_only_what_varies_and_keep_decimal_values_whole() {
        let configs = vec![
            json!({ "config": 0, "settings": ["duration_ms=20000", "network.loss_probability=0.01", "protocol.r=1"] }),
            json!({ "config": 1, "settings": ["duration_ms=20000", "network.loss_probability=0.05", "protocol.r=1"] }),
        ];
        let all = varying(&configs);
        assert_eq!(all, ["network.loss_probability"]);
        // The old labels split on the last '.', printing "01" and "05".
        assert_eq!(label(&configs[0], &all, &all), "loss_probability=0.01");
        assert_eq!(label(&configs[1], &all, &all), "loss_probability=0.05");
    }

    #[test]
    fn settings_with_the_same_last_segment_keep_their_paths() {
        let all = vec!["faults.0.offset_ms".to_string(), "faults.1.offset_ms".to_string()];
        assert_eq!(short("faults.0.offset_ms", &all), "faults.0.offset_ms");
        assert_eq!(short("faults.0.offset_ms", &all[..1]), "offset_ms");
    }
}
