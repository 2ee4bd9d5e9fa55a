//! `dynasim check --junit`: the runs and their findings as JUnit XML, which CI systems read.

use crate::error::Error;
use crate::observe::checks::Finding;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;
use std::time::Duration;

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

/// Writes [`junit`]'s XML to `path` (under a temporary name, renamed into place).
pub fn write(path: &Path, runs: &[CheckRun]) -> Result<(), Error> {
    let xml = junit(runs).map_err(|e| Error::io("write the JUnit XML", path, std::io::Error::other(e)))?;
    crate::report::write_file(path, xml.as_bytes())
}

/// JUnit XML: a test suite per scenario file, a test case per seed. A run that violated several
/// invariants is one failure whose type lists them and whose text gives each.
pub fn junit(runs: &[CheckRun]) -> Result<String, quick_junit::SerializeError> {
    let seconds = |runs: &[&CheckRun]| Duration::from_secs_f64(runs.iter().map(|r| r.seconds).sum::<f64>().max(0.0));
    let mut report = Report::new("dynasim check");
    report.set_time(seconds(&runs.iter().collect::<Vec<_>>()));
    let mut i = 0;
    while i < runs.len() {
        let name = &runs[i].scenario;
        let group: Vec<&CheckRun> = runs[i..].iter().take_while(|r| &r.scenario == name).collect();
        i += group.len();
        let mut suite = TestSuite::new(name.as_str());
        suite.set_time(seconds(&group));
        for run in group {
            let mut case = TestCase::new(run.seed_name(), status(run));
            case.set_classname(name.as_str()).set_time(Duration::from_secs_f64(run.seconds.max(0.0)));
            if let Some(replay) = &run.replay {
                case.set_system_out(format!("replay: {replay}"));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string()
}

fn status(run: &CheckRun) -> TestCaseStatus {
    if let Some(e) = &run.error {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(e.as_str());
        return status;
    }
    let Some(first) = run.findings.first() else { return TestCaseStatus::success() };
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let invariants: Vec<&str> = run.findings.iter().map(|f| f.violation.invariant).collect();
    status
        .set_type(invariants.join(", "))
        .set_message(first.violation.message.as_str())
        .set_description(run.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n\n"));
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::checks::Violation;

    fn finding(invariant: &'static str, message: &str) -> Finding {
        Finding {
            scenario: "a&b.json".into(),
            seed: 7,
            replay: "dynasim run 'a&b.json' --seed 7".into(),
            violation: Violation { invariant, key: Some("k<1>".into()), at_ms: 1.5, message: message.into() },
        }
    }

    #[test]
    fn a_suite_per_file_a_case_per_seed_and_one_failure_naming_every_invariant() {
        let run = |seed, findings: Vec<Finding>, error: Option<&str>| CheckRun {
            scenario: "a&b.json".into(),
            seed: Some(seed),
            findings,
            error: error.map(str::to_string),
            seconds: 0.25,
            replay: Some(format!("dynasim run 'a&b.json' --seed {seed}")),
        };
        let runs = [
            run(7, vec![finding("convergence", "2 keys \"differ\""), finding("no_lost_writes", "w1 < w2")], None),
            run(8, vec![], None),
            run(9, vec![], Some("bad \u{1b}[1minput")),
        ];
        let xml = junit(&runs).expect("serializes");
        assert!(
            xml.contains(
                "<testsuites name=\"dynasim check\" tests=\"3\" skipped=\"0\" failures=\"1\" errors=\"1\" time=\"0.750\""
            ),
            "{xml}"
        );
        assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
        assert!(xml.contains("type=\"convergence, no_lost_writes\""), "{xml}");
        assert!(xml.contains("message=\"2 keys &quot;differ&quot;\""), "{xml}");
        assert!(xml.contains("w1 &lt; w2") && xml.contains("k&lt;1&gt;"), "both findings in the text: {xml}");
        assert!(xml.contains("<system-out>replay: dynasim run &apos;a&amp;b.json&apos; --seed 8</system-out>"), "{xml}");
        assert!(!xml.contains('\u{1b}'), "a terminal escape would make the file unreadable XML: {xml}");
    }
}
