//! `dynasim check --junit`: the runs and their findings as JUnit XML, which CI systems read.

use crate::observe::checks::Finding;

/// One scenario-and-seed run of `dynasim check`.
pub struct CheckRun {
    pub scenario: String,
    /// None for a scenario that could not be loaded (no seed of it ran).
    pub seed: Option<u64>,
    pub findings: Vec<Finding>,
    /// Why the run could not be made (bad input, a simulator bound): neither passed nor failed.
    pub error: Option<String>,
    /// Wall-clock seconds the run took: JUnit's `time`, the one figure in a JUnit file that
    /// differs between two runs of the same check (CI dashboards chart it; nothing else
    /// dynasim writes depends on the wall clock).
    pub seconds: f64,
    /// The command that replays the run, when it ran.
    pub replay: Option<String>,
}

impl CheckRun {
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.error.is_none()
    }

    fn seed_name(&self) -> String {
        self.seed.map_or_else(|| "(not loaded)".to_string(), |s| format!("seed {s}"))
    }
}

/// (passed, failed by a violation, could not run).
pub fn tally(runs: &[CheckRun]) -> (usize, usize, usize) {
    let errors = runs.iter().filter(|r| r.error.is_some()).count();
    let failed = runs.iter().filter(|r| r.error.is_none() && !r.findings.is_empty()).count();
    (runs.len() - failed - errors, failed, errors)
}

/// The `--json` form of `check` and `explore`: one object, field names stable (docs/commands.md).
pub fn json(command: &str, runs: &[CheckRun]) -> serde_json::Value {
    let (passed, failed, errors) = tally(runs);
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
            serde_json::json!({
                "scenario": r.scenario, "seed": r.seed, "passed": r.passed(), "findings": findings, "error": r.error,
            })
        })
        .collect();
    serde_json::json!({ "command": command, "passed": passed, "failed": failed, "errors": errors, "runs": runs })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit XML: a test suite per scenario file, a test case per seed.
pub fn junit(runs: &[CheckRun]) -> String {
    let (_, failures, errors) = tally(runs);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dynasim check\" tests=\"{}\" failures=\"{failures}\" \
         errors=\"{errors}\" time=\"{:.3}\">\n",
        runs.len(),
        runs.iter().map(|r| r.seconds).sum::<f64>()
    );
    let mut i = 0;
    while i < runs.len() {
        let name = &runs[i].scenario;
        let group: Vec<&CheckRun> = runs[i..].iter().take_while(|r| &r.scenario == name).collect();
        i += group.len();
        let failed = group.iter().filter(|r| r.error.is_none() && !r.findings.is_empty()).count();
        let errored = group.iter().filter(|r| r.error.is_some()).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"{errored}\" time=\"{:.3}\">\n",
            xml_escape(name),
            group.len(),
            group.iter().map(|r| r.seconds).sum::<f64>()
        ));
        for run in group {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">\n",
                xml_escape(name),
                run.seed_name(),
                run.seconds
            ));
            if let Some(replay) = &run.replay {
                x.push_str(&format!("      <system-out>replay: {}</system-out>\n", xml_escape(replay)));
            }
            if let Some(e) = &run.error {
                x.push_str(&format!("      <error message=\"{}\"/>\n", xml_escape(e)));
            }
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
