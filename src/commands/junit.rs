//! `dynasim check --junit`: the runs and their findings as JUnit XML, which CI systems read.

use crate::observe::checks::Finding;

/// One scenario-and-seed run of `dynasim check`.
pub struct CheckRun {
    pub scenario: String,
    pub seed: u64,
    pub findings: Vec<Finding>,
}

/// The `--json` form of `check` and `explore`: one object, field names stable (README, Commands).
pub fn json(command: &str, runs: &[CheckRun]) -> serde_json::Value {
    let failed = runs.iter().filter(|r| !r.findings.is_empty()).count();
    let runs: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            let findings: Vec<serde_json::Value> = r
                .findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "invariant": f.violation.invariant,
                        "key": f.violation.key,
                        "at_ms": f.violation.at_ms,
                        "message": f.violation.message,
                        "replay": f.replay,
                    })
                })
                .collect();
            serde_json::json!({ "scenario": r.scenario, "seed": r.seed, "passed": findings.is_empty(), "findings": findings })
        })
        .collect();
    serde_json::json!({ "command": command, "passed": runs.len() - failed, "failed": failed, "runs": runs })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit XML: a test suite per scenario file, a test case per seed.
pub fn junit(runs: &[CheckRun]) -> String {
    let failures = runs.iter().filter(|r| !r.findings.is_empty()).count();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dynasim check\" tests=\"{}\" failures=\"{failures}\">\n",
        runs.len()
    );
    let mut i = 0;
    while i < runs.len() {
        let name = &runs[i].scenario;
        let group: Vec<&CheckRun> = runs[i..].iter().take_while(|r| &r.scenario == name).collect();
        i += group.len();
        let failed = group.iter().filter(|r| !r.findings.is_empty()).count();
        x.push_str(&format!("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n", xml_escape(name), group.len()));
        for run in group {
            x.push_str(&format!("    <testcase classname=\"{}\" name=\"seed {}\"", xml_escape(name), run.seed));
            if run.findings.is_empty() {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            for f in &run.findings {
                x.push_str(&format!(
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                    f.violation.invariant,
                    xml_escape(&f.violation.message),
                    xml_escape(&f.to_string())
                ));
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
