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

/// Whether `--recommend` found that this configuration meets every target.
fn meets(recommend: Option<&Value>, config: &Value) -> bool {
    recommend.and_then(|r| r["meets"].as_array()).is_some_and(|m| m.iter().any(|c| c["config"] == config["config"]))
}

/// A category's or a series' name, starred when it meets every target.
fn starred(name: String, marked: bool) -> String {
    if marked {
        format!("★ {name}")
    } else {
        name
    }
}

const STAR_NOTE: &str = "★: meets every target (recommend.json).";

/// A chart's note, with the star's meaning when some category is starred.
fn with_star(note: Option<String>, starred: bool) -> Option<String> {
    match (note, starred) {
        (Some(n), true) => Some(format!("{n} {STAR_NOTE}")),
        (None, true) => Some(STAR_NOTE.into()),
        (n, false) => n,
    }
}

/// A line chart on which no series has two points says nothing a table does not.
fn collapsed(series: &[Series]) -> bool {
    series.iter().all(|s| s.points.iter().filter(|p| p.y.is_finite()).count() < 2)
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
    versions(&mut out, &configs, &all, recommend);
    rw_heatmaps(&mut out, &configs, &all, recommend);
    load_balancing(&mut out, &configs, recommend);
    t_visibility_curves(&mut out, results, &configs, &all, recommend);
    categorical_bars(&mut out, &configs, &all, recommend);
    axis_charts(&mut out, &configs, &all, recommend);
    out
}

fn tradeoff(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
    if configs.len() < 2 {
        out.skipped.push("Tradeoff of p99.9 read latency against stale reads: one configuration, nothing to compare.".into());
        return;
    }
    let points: Vec<ScatterPoint> = configs
        .iter()
        .map(|a| ScatterPoint {
            x: mean(a, "stale_read_fraction"),
            x_ci: ci(a, "stale_read_fraction"),
            y: mean(a, "p999_get_ms"),
            y_ci: ci(a, "p999_get_ms"),
            label: label(a, all, all),
            marked: meets(recommend, a),
        })
        .collect();
    let targets = (target(recommend, "stale_read_fraction"), target(recommend, "p999_get_ms"));
    // The region under the two bounds is where every target is met only when every other
    // target (the availability floor among them) is met by every configuration drawn.
    let on_axes = ["stale_read_fraction", "p999_get_ms"];
    let others_met = recommend.and_then(|r| r["misses"].as_array()).is_none_or(|misses| {
        misses.iter().all(|m| {
            m["missed"].as_array().is_none_or(|why| {
                why.iter().all(|w| on_axes.iter().any(|metric| w.as_str().is_some_and(|w| w.starts_with(&format!("{metric} ")))))
            })
        })
    });
    let bounded = targets.0.is_some() || targets.1.is_some();
    let shade = bounded && others_met;
    let no_stale = points.iter().all(|p| p.x == 0.0);
    let mut note = if no_stale {
        "No configuration returned a stale read. Bars: 95% intervals over seeds.".to_string()
    } else {
        "Lower left is better. Bars: 95% intervals over seeds.".to_string()
    };
    if bounded && !shade {
        note.push_str(" Not shaded: a target on another metric is missed; rings mark what meets every target.");
    }
    out.drawn.push((
        "tradeoff".into(),
        Chart::Scatter(Scatter {
            title: "p99.9 read latency against the share of stale reads".into(),
            note: Some(note),
            x_label: "stale-read fraction (reads missing an acknowledged write)".into(),
            y_label: "p99.9 get latency (ms)".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            points,
            targets,
            shade,
        }),
    ));
}

/// Reads by how many versions they returned, a stacked bar per configuration.
fn versions(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
    let more: Vec<f64> = configs.iter().map(|a| mean(a, "reads_with_siblings_fraction")).collect();
    // Results written before one_version_read_fraction existed: the rest of the reads.
    let one: Vec<f64> =
        configs.iter().zip(&more).map(|(a, m)| a["one_version_read_fraction"]["mean"].as_f64().unwrap_or(1.0 - m)).collect();
    if more.iter().all(|m| *m == 0.0) {
        out.skipped.push("Versions per read: every read returned at most one version.".into());
        return;
    }
    if configs.len() < 2 {
        out.skipped.push("Versions per read: one configuration, nothing to compare (the table has its figures).".into());
        return;
    }
    let any = configs.iter().any(|a| meets(recommend, a));
    out.drawn.push((
        "versions-per-read".into(),
        Chart::Bars(Bars {
            title: "reads by the number of versions they returned".into(),
            note: with_star(Some("The rest of each bar's length to 1 is reads of keys never written.".into()), any),
            value_label: "fraction of successful reads".into(),
            categories: configs.iter().map(|a| starred(label(a, all, all), meets(recommend, a))).collect(),
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

/// Heatmaps over (R, W) when the sweep varies both: one per setting of the other varying
/// settings (averaging over them would hide what they do), the R + W > N boundary drawn.
fn rw_heatmaps(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
    let mut rs: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.r")).collect();
    let mut ws: Vec<String> = configs.iter().filter_map(|a| setting(a, "protocol.w")).collect();
    numeric_order(&mut rs);
    numeric_order(&mut ws);
    if rs.len() < 2 || ws.len() < 2 {
        return;
    }
    let others: Vec<String> = all.iter().filter(|p| *p != "protocol.r" && *p != "protocol.w").cloned().collect();
    let mut groups: Vec<(String, Vec<&Value>)> = Vec::new();
    for a in configs {
        let key = if others.is_empty() { String::new() } else { label(a, &others, all) };
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(a),
            None => groups.push((key, vec![a])),
        }
    }
    for (group, members) in &groups {
        let at = |r: &String, w: &String| -> Vec<&Value> {
            members
                .iter()
                .copied()
                .filter(|a| setting(a, "protocol.r").as_ref() == Some(r) && setting(a, "protocol.w").as_ref() == Some(w))
                .collect()
        };
        let grid = |cell: &dyn Fn(&[&Value]) -> Option<f64>| -> Vec<Vec<Option<f64>>> {
            ws.iter().map(|w| rs.iter().map(|r| cell(&at(r, w))).collect()).collect()
        };
        let overlap: Vec<Vec<bool>> =
            ws.iter().map(|w| rs.iter().map(|r| at(r, w).iter().any(|a| a["quorums_overlap"] == true)).collect()).collect();
        let marked: Vec<Vec<bool>> =
            ws.iter().map(|w| rs.iter().map(|r| at(r, w).iter().any(|a| meets(recommend, a))).collect()).collect();
        let any_marked = marked.iter().flatten().any(|m| *m);
        let suffix = if group.is_empty() { String::new() } else { format!("-{}", file_part(group)) };
        let context = if group.is_empty() { String::new() } else { format!(", {group}") };
        for (metric, title) in [("p999_get_ms", "p99.9 get latency (ms)"), ("stale_read_fraction", "stale-read fraction")] {
            let values = grid(&|cell: &[&Value]| {
                (!cell.is_empty()).then(|| cell.iter().map(|a| mean(a, metric)).sum::<f64>() / cell.len() as f64)
            });
            if values.iter().flatten().flatten().all(|v| *v == 0.0) {
                out.skipped.push(format!("Heatmap of {title} over (R, W){context}: zero in every cell."));
                continue;
            }
            let note = "Mean over seeds. The thick line parts R + W > N (read and write quorums meet) from R + W ≤ N.";
            out.drawn.push((
                format!("heatmap-{metric}{suffix}"),
                Chart::Heatmap(Heatmap {
                    title: format!("{title} over (R, W){context}"),
                    note: with_star(Some(note.into()), any_marked),
                    x_label: "R (replies a get waits for)".into(),
                    y_label: "W (acks a put waits for)".into(),
                    columns: rs.clone(),
                    rows: ws.clone(),
                    values,
                    overlap: overlap.clone(),
                    marked: marked.clone(),
                }),
            ));
        }
    }
}

/// A label as part of a file name: letters, digits, '.', '=' and '_' kept, the rest '-'.
fn file_part(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() || "._=".contains(c) { c } else { '-' }).collect()
}

/// Dynamo §6.2's figure: load-balancing efficiency against membership metadata per node, one
/// series per partitioning strategy.
fn load_balancing(out: &mut Charts, configs: &[Value], recommend: Option<&Value>) {
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
    if collapsed(&series) {
        out.skipped.push("Load-balancing efficiency against membership metadata: one point per strategy.".into());
        return;
    }
    let marks = configs
        .iter()
        .filter(|a| meets(recommend, a))
        .map(|a| (mean(a, "metadata_entries_per_node"), mean(a, "load_balancing_efficiency")))
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
            marks,
        }),
    ));
}

/// t-visibility, one curve per configuration: the mean over its seeds at each t.
fn t_visibility_curves(out: &mut Charts, results: &Value, configs: &[Value], all: &[String], recommend: Option<&Value>) {
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
            Some(Series { name: starred(label(a, all, all), meets(recommend, a)), points, markers: true })
        })
        .collect();
    if curves.is_empty() {
        return;
    }
    let any = configs.iter().any(|a| meets(recommend, a));
    let curves = merge_identical(curves);
    for (stem, mut chart) in [
        ("t-visibility", t_visibility("t-visibility per configuration", curves.clone())),
        ("t-visibility-tail", t_visibility_tail("t-visibility per configuration", curves)),
    ] {
        if let Chart::Line(c) = &mut chart {
            c.note = with_star(c.note.take(), any);
        }
        out.drawn.push((stem.into(), chart));
    }
}

/// When a setting that is not a number varies (a coordinator strategy, a conflict policy), the
/// tail latency and cost of each configuration as bars with their intervals.
fn categorical_bars(out: &mut Charts, configs: &[Value], all: &[String], recommend: Option<&Value>) {
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
                note: with_star(None, configs.iter().any(|a| meets(recommend, a))),
                value_label: unit.into(),
                categories: configs.iter().map(|a| starred(label(a, all, all), meets(recommend, a))).collect(),
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
            ("cpu_max_utilisation", "the hottest node's CPU utilisation"),
            ("stale_read_fraction", "stale-read fraction"),
            ("read_your_writes_violation_fraction", "gets missing their client's own write"),
            ("monotonic_reads_violation_fraction", "gets going back on their client's earlier gets"),
            ("reads_with_siblings_fraction", "reads returning 2+ versions"),
            ("lost_write_count", "acknowledged writes lost"),
            ("keys_moved", "keys moved by joins and leaves"),
            ("transfers_done_after_ms", "time for a join or leave to hand its data over (ms)"),
        ] {
            let name = short(axis, all);
            let mut series: Vec<Series> = Vec::new();
            let mut marks = Vec::new();
            for a in configs {
                // With no other varying setting, one line through every configuration.
                let key = if others.is_empty() { String::new() } else { label(a, &others, all) };
                let x = setting(a, axis).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
                let p = Point { x, y: mean(a, metric), ci: ci(a, metric) };
                if meets(recommend, a) {
                    marks.push((p.x, p.y));
                }
                match series.iter_mut().find(|s| s.name == key) {
                    Some(s) => s.points.push(p),
                    None => series.push(Series { name: key, points: vec![p], markers: true }),
                }
            }
            for s in series.iter_mut() {
                s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
            }
            if all_zero(&series) {
                out.skipped.push(format!("{} against {name}: zero in every configuration.", capitalise(y)));
                continue;
            }
            if collapsed(&series) {
                out.skipped.push(format!("{} against {name}: one point per line.", capitalise(y)));
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
                    // A tail that grows by orders of magnitude near saturation: log when it spans two.
                    y_scale: if metric == "p999_get_ms" { Scale::Auto { decades: 2.0 } } else { Scale::Linear },
                    series: merge_identical(series),
                    spans: vec![],
                    hline,
                    marks,
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
