//! Sweeps: a grid of configurations of one scenario, each run under several seeds.
//!
//! `--set path=v1,v2` axes multiply (cartesian product); `--set a:b=x1:y1,x2:y2` varies paths
//! together (paired), and `protocol.rw` is shorthand for `protocol.r:protocol.w`. Values split
//! on commas outside brackets, braces and quotes, so JSON values work. Every configuration runs
//! under seeds 1..=K; configurations share each seed, so their workload, network and fault draws
//! are the same (common random numbers) and differences come from the configuration. Results do
//! not depend on the number of jobs or shards: rows are keyed and sorted by configuration index
//! and seed, and everything else is computed from the rows.

use crate::commands::progress::Progress;
use crate::error::Error;
use crate::report::mean_ci95;
use crate::scenario;
use serde_json::{json, Map, Value};

/// One axis: the paths it sets, and the value tuples it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub paths: Vec<String>,
    pub values: Vec<Vec<String>>,
}

/// Splits on `sep` outside brackets, braces and quotes.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quoted) = (Vec::new(), String::new(), 0i32, false);
    for ch in s.chars() {
        match ch {
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth -= 1,
            c if c == sep && depth == 0 && !quoted => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur);
    out
}

pub fn parse_axis(arg: &str) -> Result<Axis, Error> {
    let (path, values) =
        arg.split_once('=').ok_or_else(|| Error::Usage(format!("--set {arg}: expected path=v1,v2,... or a:b=x1:y1,x2:y2")))?;
    let path = if path == "protocol.rw" { "protocol.r:protocol.w" } else { path };
    let paths: Vec<String> = path.split(':').map(String::from).collect();
    if paths.iter().any(|p| p.is_empty()) {
        return Err(Error::Usage(format!("--set {arg}: an empty path")));
    }
    let mut tuples = Vec::new();
    for v in split_top(values, ',') {
        let parts = if paths.len() == 1 { vec![v.clone()] } else { split_top(&v, ':') };
        if parts.len() != paths.len() {
            return Err(Error::Usage(format!("--set {arg}: value \"{v}\" has {} parts for {} paths", parts.len(), paths.len())));
        }
        tuples.push(parts);
    }
    Ok(Axis { paths, values: tuples })
}

/// The grid: each configuration is a list of `path=value` overrides, in axis order.
pub fn grid(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut configs: Vec<Vec<String>> = vec![Vec::new()];
    for axis in axes {
        let mut next = Vec::new();
        for base in &configs {
            for tuple in &axis.values {
                let mut c = base.clone();
                for (p, v) in axis.paths.iter().zip(tuple) {
                    c.push(format!("{p}={v}"));
                }
                next.push(c);
            }
        }
        configs = next;
    }
    configs
}

/// The metrics a sweep row records, from a run's report.
pub fn row_metrics(report: &Value) -> Map<String, Value> {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let ops = &report["operations"];
    let total = f(&ops["get"]["count"]) + f(&ops["put"]["count"]);
    let ok = f(&ops["get"]["success_count"]) + f(&ops["put"]["success_count"]);
    // The workload's cost: every message sent (background work included) except those about
    // the staleness probe's keys, per workload operation.
    let sent: f64 =
        report["messages"].as_object().map_or(0.0, |m| m.values().map(|k| f(&k["sent_count"]) - f(&k["probe_sent_count"])).sum());
    let mut m = Map::new();
    let mut put = |k: &str, v: f64| {
        m.insert(k.to_string(), json!(v));
    };
    put("mean_get_ms", f(&ops["get"]["latency_ms"]["mean"]));
    put("mean_put_ms", f(&ops["put"]["latency_ms"]["mean"]));
    put("p50_get_ms", f(&ops["get"]["latency_ms"]["p50"]));
    put("p99_get_ms", f(&ops["get"]["latency_ms"]["p99"]));
    put("p999_get_ms", f(&ops["get"]["latency_ms"]["p999"]));
    put("p50_put_ms", f(&ops["put"]["latency_ms"]["p50"]));
    put("p99_put_ms", f(&ops["put"]["latency_ms"]["p99"]));
    put("p999_put_ms", f(&ops["put"]["latency_ms"]["p999"]));
    // Of all operations, a failed one at the moment its client gave up.
    put("p999_get_all_ms", f(&ops["get"]["latency_all_ms"]["p999"]));
    put("p999_put_all_ms", f(&ops["put"]["latency_all_ms"]["p999"]));
    put("longest_stall_ms", f(&ops["get"]["longest_stall_ms"]).max(f(&ops["put"]["longest_stall_ms"])));
    put("min_window_availability", report["availability"]["min_window_fraction"].as_f64().unwrap_or(1.0));
    put("stale_read_fraction", f(&report["staleness"]["stale_read_fraction"]));
    // PBS's k-staleness at k = 2: reads at most one version behind.
    put("within_2_versions_fraction", report["staleness"]["k_staleness"][1]["within_fraction"].as_f64().unwrap_or(1.0));
    put("read_your_writes_violation_fraction", f(&report["sessions"]["read_your_writes"]["violation_fraction"]));
    put("monotonic_reads_violation_fraction", f(&report["sessions"]["monotonic_reads"]["violation_fraction"]));
    put("monotonic_writes_violation_fraction", f(&report["sessions"]["monotonic_writes"]["violation_fraction"]));
    put("writes_follow_reads_violation_fraction", f(&report["sessions"]["writes_follow_reads"]["violation_fraction"]));
    put("availability", if total == 0.0 { 1.0 } else { ok / total });
    put("reads_with_siblings_fraction", f(&report["conflicts"]["reads_with_siblings_fraction"]));
    put("lost_write_count", f(&report["convergence"]["lost_write_count"]));
    put("lost_add_fraction", f(&report["convergence"]["lost_add_fraction"]));
    put("one_version_read_fraction", f(&report["versions_per_read"]["1_fraction"]));
    put("out_of_balance_fraction", f(&report["load"]["out_of_balance_fraction_mean"]));
    put("divergent_key_fraction", f(&report["convergence"]["divergent_key_fraction"]));
    put("keys_owned_max_over_mean", f(&report["load"]["keys_owned_max_over_mean"]));
    put("requests_max_over_mean", f(&report["load"]["requests_max_over_mean"]));
    put("messages_per_operation", if total == 0.0 { 0.0 } else { sent / total });
    let imbalance = f(&report["load"]["requests_max_over_mean"]);
    // Dynamo §6.2's load-balancing efficiency: mean requests per node over the hottest node's.
    put("load_balancing_efficiency", if imbalance > 0.0 { 1.0 / imbalance } else { 0.0 });
    put("metadata_entries_per_node", f(&report["ring"]["metadata_entries_per_node"]));
    put("keys_moved", f(&report["membership"]["keys_transferred_count"]));
    // How long the slowest membership change took to hand its data over, and what it moved.
    let changes = report["membership"]["changes"].as_array().map(Vec::as_slice).unwrap_or_default();
    put("transfers_done_after_ms", changes.iter().map(|c| f(&c["transfers_done_after_ms"])).fold(0.0, f64::max));
    put("transfer_bytes", changes.iter().map(|c| f(&c["transfer_bytes_sent_count"])).sum());
    // The load the figures were measured at.
    put("cpu_mean_utilisation", f(&report["capacity"]["cpu"]["mean_utilisation"]));
    put("cpu_max_utilisation", f(&report["capacity"]["cpu"]["max_utilisation"]));
    put("operations", total);
    m
}

/// Runs the configurations with `index % shard.1 == shard.0` under `seeds`, on `jobs` threads.
/// Returns rows sorted by (configuration, seed); an invalid configuration gives one row saying
/// why it was skipped.
pub fn run(file: &str, text: &str, configs: &[Vec<String>], seeds: &[u64], jobs: usize, shard: (usize, usize)) -> Vec<Value> {
    let mut work = Vec::new();
    let mut rows = Vec::new();
    for (i, c) in configs.iter().enumerate().filter(|(i, _)| i % shard.1 == shard.0) {
        match scenario::load(file, text, c) {
            Err(e) => rows.push(
                json!({ "config": i, "settings": c, "seed": Value::Null, "skipped": format!("{}: {}", e.path, e.message) }),
            ),
            Ok(s) => {
                for &seed in seeds {
                    work.push((i, c.clone(), s.clone(), seed));
                }
            }
        }
    }
    let run_one = |(i, c, s, seed): &(usize, Vec<String>, scenario::Scenario, u64)| {
        let report = match crate::run_report(s, *seed) {
            Ok(r) => r,
            Err(e) => return json!({ "config": i, "settings": c, "seed": seed, "skipped": e.to_string() }),
        };
        let p = &s.protocol;
        let mut row = json!({ "config": i, "settings": c, "seed": seed, "quorums_overlap": p.r + p.w > p.n });
        if let Some(o) = row.as_object_mut() {
            o.extend(row_metrics(&report));
            if let Some(tv) = report["t_visibility"].as_array().filter(|t| !t.is_empty()) {
                let curve: Vec<Value> = tv.iter().map(|p| json!([p["t_ms"], p["reflected_fraction"]])).collect();
                o.insert("t_visibility".into(), Value::Array(curve));
            }
        }
        row
    };
    let progress = Progress::on_terminal("sweep", "runs", work.len());
    crate::sim::parallel::map_in_order(&work, jobs, run_one, |k, row| {
        rows.push(row);
        progress.update(k + 1, None);
    });
    progress.finish();
    sort_rows(&mut rows);
    rows
}

pub fn sort_rows(rows: &mut [Value]) {
    rows.sort_by_key(|r| (r["config"].as_u64().unwrap_or(0), r["seed"].as_u64().unwrap_or(0)));
}

/// Per configuration: the mean of each metric over seeds and a 95% interval (Student's t).
pub fn aggregate(rows: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let config = rows[i]["config"].clone();
        let group: Vec<&Value> = rows[i..].iter().take_while(|r| r["config"] == config).collect();
        i += group.len();
        let runs: Vec<&&Value> = group.iter().filter(|r| r.get("skipped").is_none()).collect();
        let mut agg = json!({ "config": config, "settings": group[0]["settings"], "seeds": runs.len() });
        if let Some(overlap) = runs.first().map(|r| &r["quorums_overlap"]).filter(|o| o.is_boolean()) {
            agg["quorums_overlap"] = overlap.clone();
        }
        if let Some(skip) = group[0].get("skipped") {
            agg["skipped"] = skip.clone();
            out.push(agg);
            continue;
        }
        for key in row_metrics(&Value::Null).keys() {
            let xs: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
            let (mean, half) = mean_ci95(&xs);
            // Cut to the range, which always holds the mean (a report's 0 for "no data" is below
            // a ratio's 1).
            let (floor, ceiling) = metric_range(key);
            let (low, high) = ((mean - half).max(floor.min(mean)), (mean + half).min(ceiling.max(mean)));
            agg[key] = json!({ "mean": mean, "ci95": half, "low": low, "high": high });
        }
        out.push(agg);
    }
    out
}

/// What a metric can be: fractions lie in [0, 1], a max/mean ratio is at least 1, everything
/// else (times, counts, rates) at least 0. The interval an aggregate states (`low`, `high`) is
/// the mean's 95% interval cut to this range: a stale fraction of 0.000030 ± 0.000055 is
/// [0, 0.000085], not a negative fraction.
pub fn metric_range(metric: &str) -> (f64, f64) {
    if metric.ends_with("_fraction")
        || metric.ends_with("availability")
        || metric.ends_with("_utilisation")
        || metric == "load_balancing_efficiency"
    {
        (0.0, 1.0)
    } else if metric.ends_with("_over_mean") {
        (1.0, f64::INFINITY)
    } else {
        (0.0, f64::INFINITY)
    }
}

/// results.csv: one line per row, with a column per swept setting (named by its path, holding
/// its value as given) so a spreadsheet or a data frame can group by it.
pub fn csv(rows: &[Value]) -> String {
    let metrics: Vec<String> = row_metrics(&Value::Null).keys().cloned().collect();
    let setting = |text: &str| text.split_once('=').map(|(p, v)| (p.to_string(), v.to_string()));
    let mut paths: Vec<String> = Vec::new();
    for r in rows {
        for (path, _) in r["settings"].as_array().into_iter().flatten().filter_map(|v| v.as_str().and_then(setting)) {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let field = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(t) => quote(t),
        other => other.to_string(),
    };
    let header: Vec<String> = paths.iter().map(|p| quote(p)).collect();
    let mut s =
        format!("config,{}seed,skipped,{}\n", header.iter().map(|h| format!("{h},")).collect::<String>(), metrics.join(","));
    for r in rows {
        let values: Vec<(String, String)> =
            r["settings"].as_array().into_iter().flatten().filter_map(|v| v.as_str().and_then(setting)).collect();
        s.push_str(&r["config"].to_string());
        for path in &paths {
            s.push(',');
            if let Some((_, v)) = values.iter().find(|(p, _)| p == path) {
                s.push_str(&quote(v));
            }
        }
        s.push_str(&format!(",{},{}", field(&r["seed"]), field(&r["skipped"])));
        for m in &metrics {
            s.push(',');
            s.push_str(&field(&r[m]));
        }
        s.push('\n');
    }
    s
}

/// configurations.csv: per configuration, each metric's mean and the ends of its 95% interval.
pub fn aggregate_csv(aggregates: &[Value]) -> String {
    let metrics: Vec<String> = row_metrics(&Value::Null).keys().cloned().collect();
    let mut s = String::from("config,settings,seeds,skipped");
    for m in &metrics {
        s.push_str(&format!(",{m}_mean,{m}_low,{m}_high"));
    }
    s.push('\n');
    for a in aggregates {
        let settings: Vec<&str> = a["settings"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
        s.push_str(&format!(
            "{},\"{}\",{},{}",
            a["config"],
            settings.join(" ").replace('"', "\"\""),
            a["seeds"],
            a["skipped"].as_str().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).unwrap_or_default()
        ));
        for m in &metrics {
            for end in ["mean", "low", "high"] {
                s.push(',');
                if let Some(x) = a[m][end].as_f64() {
                    s.push_str(&x.to_string());
                }
            }
        }
        s.push('\n');
    }
    s
}

/// A target: `metric<=value` or `metric>=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub metric: String,
    pub at_most: bool,
    pub value: f64,
    /// Added by dynasim, not given: the availability floor.
    pub default: bool,
}

/// The availability every recommendation must reach unless `--recommend` names its own: a
/// configuration that fails requests must never win on the latency of the ones it served.
pub const AVAILABILITY_FLOOR: f64 = 0.99;

pub fn parse_targets(text: &str) -> Result<Vec<Target>, Error> {
    let known: Vec<String> = row_metrics(&Value::Null).keys().cloned().collect();
    text.split(',')
        .map(|t| {
            let t = t.trim();
            let (metric, at_most, value) = if let Some((m, v)) = t.split_once("<=") {
                (m, true, v)
            } else if let Some((m, v)) = t.split_once(">=") {
                (m, false, v)
            } else {
                return Err(Error::Usage(format!("--recommend: \"{t}\" is not metric<=value or metric>=value")));
            };
            let metric = metric.trim().to_string();
            if !known.contains(&metric) {
                let mut m = format!("--recommend: unknown metric \"{metric}\"; expected one of {}", known.join(", "));
                if let Some(s) = scenario::suggest(&metric, known.iter().map(String::as_str)) {
                    m.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                return Err(Error::Usage(m));
            }
            let value = value.trim().parse().map_err(|_| Error::Usage(format!("--recommend: \"{value}\" is not a number")))?;
            Ok(Target { metric, at_most, value, default: false })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|mut targets| {
            if !targets.iter().any(|t| t.metric == "availability") {
                targets.push(Target { metric: "availability".into(), at_most: false, value: AVAILABILITY_FLOOR, default: true });
            }
            targets
        })
}

/// The configurations that meet every target, cheapest first (fewest messages per operation),
/// and for the others the targets they miss. A target is judged on the side of the 95% interval
/// that makes it harder to meet: 11.999 ± 0.681 does not meet "at most 12".
pub fn recommend(aggregates: &[Value], targets: &[Target]) -> (Vec<Value>, Vec<(Value, Vec<String>)>) {
    let mut ok = Vec::new();
    let mut missed = Vec::new();
    for a in aggregates.iter().filter(|a| a.get("skipped").is_none()) {
        let binds: Vec<String> = targets
            .iter()
            .filter_map(|t| {
                let mean = a[&t.metric]["mean"].as_f64().unwrap_or(f64::NAN);
                let half = a[&t.metric]["ci95"].as_f64().unwrap_or(0.0);
                let end = |k: &str| a[&t.metric][k].as_f64().unwrap_or(mean);
                let (v, meets) =
                    if t.at_most { (end("high"), end("high") <= t.value) } else { (end("low"), end("low") >= t.value) };
                let side = if t.at_most { "upper" } else { "lower" };
                (!meets).then(|| {
                    format!(
                        "{} = {mean:.6} ± {half:.6}, {side} end {v:.6} {} {}{}",
                        t.metric,
                        if t.at_most { ">" } else { "<" },
                        t.value,
                        if t.default { " (the default availability floor)" } else { "" }
                    )
                })
            })
            .collect();
        if binds.is_empty() {
            ok.push(a.clone());
        } else {
            missed.push((a.clone(), binds));
        }
    }
    let cost = |a: &Value| a["messages_per_operation"]["mean"].as_f64().unwrap_or(f64::MAX);
    ok.sort_by(|a, b| cost(a).total_cmp(&cost(b)));
    (ok, missed)
}

/// recommend.json: the targets, the configurations that meet them (cheapest first) and what
/// each other one misses, and the same in words.
pub fn recommend_json(targets: &[Target], ok: &[Value], missed: &[(Value, Vec<String>)], text: &str) -> Value {
    let brief = |a: &Value| {
        json!({ "config": a["config"], "settings": a["settings"], "messages_per_operation": a["messages_per_operation"]["mean"],
                "quorums_overlap": a["quorums_overlap"] })
    };
    json!({
        "targets": targets.iter().map(|t| json!({ "metric": t.metric, "at_most": t.at_most, "value": t.value, "default": t.default })).collect::<Vec<_>>(),
        "meets": ok.iter().map(brief).collect::<Vec<_>>(),
        "misses": missed.iter().map(|(a, why)| { let mut b = brief(a); b["missed"] = json!(why); b }).collect::<Vec<_>>(),
        "text": text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interval_lies_within_its_metric_s_range() {
        // Degenerate configurations: a fraction near 0 with a wide spread, availability near 1,
        // a max/mean ratio near 1, a single seed.
        let row = |config: u64, seed: u64, stale: f64, availability: f64, ratio: f64| {
            let mut r = json!({ "config": config, "settings": [], "seed": seed });
            for key in row_metrics(&Value::Null).keys() {
                r[key] = json!(0.0);
            }
            r["stale_read_fraction"] = json!(stale);
            r["availability"] = json!(availability);
            r["requests_max_over_mean"] = json!(ratio);
            r
        };
        let rows =
            vec![row(0, 1, 0.0, 1.0, 1.0), row(0, 2, 0.00009, 0.2, 1.6), row(0, 3, 0.0, 1.0, 1.0), row(1, 1, 0.5, 0.9, 1.2)];
        for a in aggregate(&rows) {
            for key in row_metrics(&Value::Null).keys() {
                let (floor, ceiling) = metric_range(key);
                let mean = a[key]["mean"].as_f64().expect("mean");
                let (low, high) = (a[key]["low"].as_f64().expect("low"), a[key]["high"].as_f64().expect("high"));
                let (floor, ceiling) = (floor.min(mean), ceiling.max(mean));
                assert!(
                    floor <= low && low <= mean && mean <= high && high <= ceiling,
                    "{key}: [{low}, {high}] outside [{floor}, {ceiling}]"
                );
            }
        }
        let a = &aggregate(&rows)[0];
        assert!(
            a["stale_read_fraction"]["mean"].as_f64().expect("mean") - a["stale_read_fraction"]["ci95"].as_f64().expect("ci")
                < 0.0
        );
        assert_eq!(a["stale_read_fraction"]["low"], 0.0, "cut at zero");
        assert_eq!(a["availability"]["high"], 1.0, "cut at one");
        assert_eq!(a["requests_max_over_mean"]["low"], 1.0, "a max/mean ratio is at least 1");
    }

    #[test]
    fn axes_multiply_and_pairs_move_together() {
        let a = parse_axis("protocol.rw=1:1,2:2").expect("paired");
        assert_eq!(a.paths, vec!["protocol.r", "protocol.w"]);
        let b = parse_axis(r#"workload.popularity={"kind":"zipf","exponent":1},{"kind":"uniform"}"#).expect("json values");
        assert_eq!(b.values.len(), 2);
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 4);
        assert_eq!(g[1], vec!["protocol.r=1", "protocol.w=1", r#"workload.popularity={"kind":"uniform"}"#]);
        assert!(parse_axis("protocol.r:protocol.w=1:1,2").is_err());
    }

    #[test]
    fn confidence_interval_of_known_samples() {
        let (m, h) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((h - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(mean_ci95(&[5.0]), (5.0, 0.0));
    }

    #[test]
    fn recommend_picks_the_cheapest_config_that_meets_targets_and_names_binding_ones() {
        let agg = |cfg: u64, p999: f64, stale: f64, cost: f64| {
            json!({ "config": cfg, "settings": [], "p999_get_ms": {"mean": p999}, "stale_read_fraction": {"mean": stale},
                    "messages_per_operation": {"mean": cost}, "availability": {"mean": 1.0} })
        };
        let mut table = vec![agg(0, 5.0, 0.05, 2.0), agg(1, 9.0, 0.0, 4.0), agg(2, 30.0, 0.0, 3.0), agg(3, 12.0, 0.0005, 3.5)];
        // The cheapest and fastest of all fails three requests in four: the default floor rules it out.
        let mut unavailable = agg(4, 1.0, 0.0, 1.0);
        unavailable["availability"] = json!({ "mean": 0.24, "low": 0.2 });
        table.push(unavailable);
        // Meets "at most 20" on its mean, not on the upper end of its interval.
        let mut noisy = agg(5, 19.0, 0.0, 1.5);
        noisy["p999_get_ms"] = json!({ "mean": 19.0, "ci95": 1.5, "low": 17.5, "high": 20.5 });
        table.push(noisy);
        let targets = parse_targets("p999_get_ms<=20, stale_read_fraction<=0.001").expect("targets");
        assert!(targets.iter().any(|t| t.metric == "availability" && t.default), "the availability floor is added");
        let (ok, missed) = recommend(&table, &targets);
        assert_eq!(ok.iter().map(|a| a["config"].as_u64().unwrap_or(99)).collect::<Vec<_>>(), vec![3, 1], "cheapest first");
        assert_eq!(missed.len(), 4);
        assert!(missed[0].1[0].starts_with("stale_read_fraction"), "{:?}", missed[0]);
        assert!(missed[1].1[0].starts_with("p999_get_ms"), "{:?}", missed[1]);
        assert!(missed[2].1[0].starts_with("availability") && missed[2].1[0].contains("default"), "{:?}", missed[2]);
        assert!(missed[3].1[0].contains("upper end 20.5"), "{:?}", missed[3]);
        // A floor of the user's own replaces the default.
        let own = parse_targets("availability>=0.2").expect("targets");
        assert_eq!(own.len(), 1);
        assert!(recommend(&table, &own).0.iter().any(|a| a["config"] == 4));
        assert!(parse_targets("p999_get<=1").is_err());
    }
}
