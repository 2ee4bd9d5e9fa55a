//! index.html and summary.md: the report a folder's charts make, readable offline (charts
//! inline, no external file) and in a pull request (summary.md links the PNGs).

use super::{run_charts, sweep_charts, write, Charts};
use crate::error::Error;
use crate::report::folder::Manifest;
use serde_json::Value;
use std::path::Path;

/// What the page says besides its charts.
pub struct Page {
    pub title: String,
    /// The run's or sweep's text summary.
    pub summary: String,
    /// `--recommend`'s result in words, when the sweep had targets.
    pub recommendation: Option<String>,
    /// A sweep's configurations: a header and one row per configuration.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The folder's data files, linked from the page.
const DATA_FILES: [(&str, &str); 8] = [
    ("results.csv", "one row per configuration and seed"),
    ("results.json", "the same, with each configuration's mean and 95% interval"),
    ("report.json", "every metric of the run"),
    ("recommend.json", "--recommend's targets and verdicts"),
    ("timing.json", "wall time and events per second"),
    ("scenario.json", "the scenario as given"),
    ("command.txt", "the command that made this folder"),
    ("summary.md", "this page in Markdown, for a pull request"),
];

/// Draws the charts into `dir` and writes index.html and summary.md beside them; returns the
/// stems drawn.
pub fn write_all(dir: &Path, page: &Page, charts: &Charts) -> Result<Vec<String>, Error> {
    replace_old_charts(dir, charts)?;
    let mut svgs = Vec::new();
    for (stem, chart) in &charts.drawn {
        svgs.push((stem.clone(), chart.title().to_string(), write(dir, stem, chart)?));
    }
    let scenario = std::fs::read_to_string(dir.join("scenario.json")).unwrap_or_default();
    let command = std::fs::read_to_string(dir.join("command.txt")).unwrap_or_default();
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:'DejaVu Sans',sans-serif;max-width:960px;margin:2em auto;padding:0 1em}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){{text-align:left}}figure{{margin:2em 0}}figcaption{{font-size:90%}}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&page.title)
    );
    if !command.is_empty() {
        html.push_str(&format!("<p>Made by:</p>\n<pre>{}</pre>\n", esc(command.trim())));
    }
    html.push_str(&format!("<h2>Summary</h2>\n<pre>{}</pre>\n", esc(&page.summary)));
    if let Some(text) = &page.recommendation {
        html.push_str(&format!("<h2>Recommendation</h2>\n<pre>{}</pre>\n", esc(text.trim_start())));
    }
    if let Some((header, rows)) = &page.table {
        html.push_str("<h2>Configurations</h2>\n<table>\n<tr>");
        for h in header {
            html.push_str(&format!("<th>{}</th>", esc(h)));
        }
        html.push_str("</tr>\n");
        for row in rows {
            html.push_str("<tr>");
            for cell in row {
                html.push_str(&format!("<td>{}</td>", esc(cell)));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
    }
    html.push_str("<h2>Charts</h2>\n");
    for (stem, title, svg) in &svgs {
        html.push_str(&format!(
            "<figure id=\"{s}\">\n{svg}\n<figcaption>{t} (<a href=\"{s}.png\">{s}.png</a>)</figcaption>\n</figure>\n",
            s = esc(stem),
            t = esc(title)
        ));
    }
    if !charts.skipped.is_empty() {
        html.push_str("<h3>Not drawn</h3>\n<ul>\n");
        for why in &charts.skipped {
            html.push_str(&format!("<li>{}</li>\n", esc(why)));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<h2>Data</h2>\n<ul>\n");
    for (file, what) in DATA_FILES.iter().filter(|(file, _)| dir.join(file).exists() || *file == "summary.md") {
        html.push_str(&format!("<li><a href=\"{file}\">{file}</a>: {what}</li>\n"));
    }
    html.push_str("</ul>\n");
    html.push_str(&format!("<h2>Scenario</h2>\n<pre>{}</pre>\n</body></html>\n", esc(&scenario)));
    crate::report::write_file(&dir.join("index.html"), html.as_bytes())?;

    let mut md = format!("## {}\n\n```\n{}```\n\n", page.title, page.summary);
    if let Some(text) = &page.recommendation {
        md.push_str(&format!("### Recommendation\n\n```\n{}```\n\n", text.trim_start()));
    }
    for (stem, title, _) in &svgs {
        md.push_str(&format!("![{title}]({stem}.png)\n"));
    }
    for why in &charts.skipped {
        md.push_str(&format!("\n- Not drawn: {why}"));
    }
    if !command.is_empty() {
        md.push_str(&format!("\n\nReplay: `{}`\n", command.trim()));
    }
    crate::report::write_file(&dir.join("summary.md"), md.as_bytes())?;
    Ok(svgs.into_iter().map(|(s, _, _)| s).collect())
}

/// A chart an earlier `plot` drew that the data no longer supports (now all zero, say) would
/// be left beside the new ones as if current: the charts the folder's manifest lists are
/// removed, and the ones about to be drawn recorded. Nothing else is touched: a file of the
/// user's that a new chart would overwrite stops the plot before anything is drawn.
fn replace_old_charts(dir: &Path, charts: &Charts) -> Result<(), Error> {
    let mut manifest = Manifest::read(dir)?.unwrap_or_else(Manifest::adopting);
    let mut new: Vec<String> = charts.drawn.iter().flat_map(|(stem, _)| [format!("{stem}.svg"), format!("{stem}.png")]).collect();
    new.extend(["index.html".to_string(), "summary.md".to_string()]);
    let theirs: Vec<String> = new.iter().filter(|n| dir.join(n).exists() && !manifest.charts().contains(n)).cloned().collect();
    if !theirs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: holds {}, which dynasim did not draw, and plot would overwrite them; expected them moved out first",
            dir.display(),
            crate::report::folder::name_some(&theirs)
        )));
    }
    for name in manifest.charts().to_vec() {
        let path = dir.join(&name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("remove the old chart", &path, e));
            }
            _ => {}
        }
    }
    manifest.set_charts(dir, new)
}

fn read(dir: &Path, name: &str) -> Result<Option<Value>, Error> {
    let p = dir.join(name);
    if !p.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Usage(format!("{}: not valid JSON: {e}", p.display())))
}

/// The configurations table of a sweep's page; with `--recommend`'s verdict, a last column
/// says which configurations it recommends.
fn configuration_table(results: &Value, recommend: Option<&Value>) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec![
        "config",
        "settings",
        "p99.9 get (ms) [95% interval]",
        "stale-read fraction",
        "availability",
        "messages / operation",
        "seeds",
    ];
    if recommend.is_some() {
        header.push("recommended");
    }
    let recommended = |a: &Value| {
        recommend.map(|r| {
            let meets = r["meets"].as_array().is_some_and(|m| m.iter().any(|c| c["config"] == a["config"]));
            if meets { "yes" } else { "no" }.to_string()
        })
    };
    let cell = |a: &Value, k: &str| {
        let m = a[k]["mean"].as_f64().unwrap_or(f64::NAN);
        let end = |e: &str| super::axis::significant(a[k][e].as_f64().unwrap_or(m), 3);
        format!("{} [{}, {}]", super::axis::significant(m, 4), end("low"), end("high"))
    };
    let rows = results["configurations"]
        .as_array()
        .map_or(&[][..], |v| v)
        .iter()
        .map(|a| {
            let settings = crate::report::settings_text(a);
            let mut row = match a["skipped"].as_str() {
                Some(why) => {
                    let mut r = vec![a["config"].to_string(), settings, format!("skipped: {why}")];
                    r.resize(7, String::new());
                    r
                }
                None => vec![
                    a["config"].to_string(),
                    settings,
                    cell(a, "p999_get_ms"),
                    cell(a, "stale_read_fraction"),
                    cell(a, "availability"),
                    cell(a, "messages_per_operation"),
                    a["seeds"].to_string(),
                ],
            };
            row.extend(recommended(a));
            row
        })
        .collect();
    (header.iter().map(|h| h.to_string()).collect(), rows)
}

/// `dynasim plot DIR`: every chart the folder's data supports (a run's report.json or a
/// sweep's results.json, with its recommend.json if there is one).
pub fn plot_folder(dir: &Path) -> Result<Vec<String>, Error> {
    if let Some(results) = read(dir, "results.json")? {
        let recommend = read(dir, "recommend.json")?;
        let page = Page {
            title: format!("Sweep of {}", results["scenario"].as_str().unwrap_or("?")),
            summary: crate::report::sweep_table(&results),
            recommendation: recommend.as_ref().and_then(|r| r["text"].as_str().map(String::from)),
            table: Some(configuration_table(&results, recommend.as_ref())),
        };
        return write_all(dir, &page, &sweep_charts(&results, recommend.as_ref()));
    }
    if let Some(report) = read(dir, "report.json")? {
        let page = Page {
            title: format!("Run of {} (seed {})", report["scenario"]["name"].as_str().unwrap_or("?"), report["scenario"]["seed"]),
            summary: crate::report::summary(&report),
            recommendation: None,
            table: None,
        };
        return write_all(dir, &page, &run_charts(&report));
    }
    Err(Error::Usage(format!("{}: holds neither report.json (a run) nor results.json (a sweep)", dir.display())))
}
