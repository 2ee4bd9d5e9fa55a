//! The built binary: exit codes, messages, and the files a run writes.

use crate::common;
use std::process::Command;

fn dynasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run dynasim")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tempdir(name: &str) -> common::Scratch {
    common::Scratch::new("cli", name)
}

#[test]
fn no_arguments_runs_the_built_in_scenario() {
    let o = dynasim(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("scenario quickstart"), "{out}");
    assert!(out.contains("p99.9_ms"));
}

#[test]
fn run_writes_the_report_folder_and_exits_zero() {
    let dir = tempdir("run");
    let o = dynasim(&["run", "scenarios/quickstart.json", "--out", &dir, "--set", "duration_ms=500", "--seed", "9"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["report.json", "summary.txt", "timing.json", "scenario.json", "command.txt"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap_or_default()).expect("report is JSON");
    assert_eq!(report["scenario"]["seed"], 9);
    let scenario: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("scenario.json")).unwrap_or_default()).expect("scenario is JSON");
    assert_eq!(scenario["duration_ms"], 500, "the effective scenario includes overrides");
    assert!(!std::fs::read_dir(&dir)
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".partial")))
        .unwrap_or(true));
    assert!(stderr(&o).contains("events/s"));
}

#[test]
fn a_missing_file_is_an_io_error_with_exit_two() {
    let o = dynasim(&["run", "scenarios/does-not-exist.json"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.starts_with("dynasim: error: scenarios/does-not-exist.json: cannot read the scenario"), "{e}");
}

#[test]
fn an_invalid_scenario_names_file_line_column_field_and_fix() {
    let dir = tempdir("bad");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        "{\n  \"duration_ms\": 100,\n  \"network\": {\"latency\": {\"kind\": \"expoential\", \"mean_ms\": 1}}\n}\n",
    )
    .expect("write");
    let o = dynasim(&["run", path.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.json:3:27: network.latency.kind: unknown value \"expoential\""), "{e}");
    assert!(e.contains("did you mean \"exponential\"?"), "{e}");
}

#[test]
fn a_bad_override_is_reported_with_its_path() {
    let o = dynasim(&["run", "scenarios/quickstart.json", "--set", "protocol.w=7"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("quickstart.json (--set protocol.w=7): protocol.w: 7 is out of range; expected 1 to N (3)"), "{e}");
}

#[test]
fn an_unwritable_report_folder_is_an_io_error() {
    let dir = tempdir("file");
    std::fs::write(&dir, "not a folder").expect("write");
    let o = dynasim(&["run", "scenarios/quickstart.json", "--set", "duration_ms=100", "--out", &dir]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot write a report folder: a file of that name exists"), "{}", stderr(&o));
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn unknown_options_exit_two_and_help_exits_zero() {
    assert_eq!(dynasim(&["run", "--bogus"]).status.code(), Some(2));
    let help = dynasim(&["run", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for opt in ["--seed", "--out", "--set", "--quiet"] {
        assert!(text.contains(opt), "help lacks {opt}");
    }
    // The bench's help names every benchmark it has.
    let bench = String::from_utf8_lossy(&dynasim(&["bench", "--help"]).stdout).replace(char::is_whitespace, " ");
    for name in dynasim::commands::bench::NAMES {
        assert!(
            bench.contains(&format!(" {name},")) || bench.contains(&format!(" {name} [")),
            "bench --help lacks {name}: {bench}"
        );
    }
}

#[test]
fn check_rejects_the_deliberately_weak_scenarios() {
    let o = dynasim(&["check", "scenarios/weak/"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("no_lost_writes: scenarios/weak/w1-crash-after-ack.json seed 1"), "{out}");
}

#[test]
fn check_passes_on_every_shipped_scenario() {
    let o = dynasim(&["check", "scenarios/"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.lines().last().is_some_and(|l| l.ends_with(" passed, 0 failed")), "{out}");
}

#[test]
fn check_exits_one_on_a_violation_with_a_replay_line_and_junit() {
    let dir = tempdir("junit");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let junit = dir.join("results.xml");
    let o = dynasim(&[
        "check",
        "scenarios/node-crash-under-load.json",
        "--seeds",
        "1..2",
        "--set",
        "protocol.hinted_handoff=false",
        "--junit",
        junit.to_str().unwrap_or_default(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("convergence: scenarios/node-crash-under-load.json seed 2: key k"), "{out}");
    assert!(
        out.contains("replay: dynasim run scenarios/node-crash-under-load.json --seed 2 --set 'protocol.hinted_handoff=false'"),
        "{out}"
    );
    assert!(out.lines().last() == Some("0 passed, 2 failed"), "{out}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("<testsuites name=\"dynasim check\" tests=\"2\" skipped=\"0\" failures=\"2\" errors=\"0\" time=\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), 2);
    assert_eq!(xml.matches(" type=\"convergence\"").count(), 2, "{xml}");
    // Each case has its wall-clock time and the command that replays it.
    assert_eq!(xml.matches("<testcase ").count(), 2);
    assert_eq!(xml.matches("\" time=\"").count(), 2 + 1 + 1, "every case, its suite and the whole: {xml}");
    let replay = "<system-out>replay: dynasim run scenarios/node-crash-under-load.json --seed 1 --set \
                  &apos;protocol.hinted_handoff=false&apos;";
    assert!(xml.contains(replay), "{xml}");
}

#[test]
fn check_rejects_bad_seeds_and_bad_scenarios_with_exit_two() {
    let o = dynasim(&["check", "scenarios/quickstart.json", "--seeds", "5..1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--seeds 5..1: expected N (seeds 1 to N) or A..B"), "{}", stderr(&o));
    let o = dynasim(&["check", "scenarios/quickstart.json", "--set", "protocol.n=0"]);
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ERROR scenarios/quickstart.json") && out.contains("protocol.n"), "{out}");
}

#[test]
fn check_over_a_folder_reports_a_broken_file_and_checks_the_others() {
    let dir = tempdir("check-folder");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let good = std::fs::read_to_string(format!("{}/scenarios/quickstart.json", env!("CARGO_MANIFEST_DIR"))).expect("read");
    std::fs::write(dir.join("a-broken.json"), "{\"duration_ms\": 100, \"protocol\": {\"n\": \"three\"}}").expect("write");
    std::fs::write(dir.join("b-good.json"), &good).expect("write");
    std::fs::write(dir.join("c-good.json"), &good).expect("write");
    let path = &dir;
    let o = dynasim(&["check", path, "--seeds", "1..2", "--set", "duration_ms=200"]);
    assert_eq!(o.status.code(), Some(2), "bad input is the worst outcome");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("a-broken.json") && out.contains("protocol.n"), "{out}");
    assert_eq!(out.matches("ok    ").count(), 4, "both good files ran under both seeds: {out}");
    assert_eq!(out.lines().last(), Some("4 passed, 1 failed"), "{out}");
    let json = dynasim(&["check", path, "--seeds", "1..2", "--set", "duration_ms=200", "--json"]);
    assert_eq!(json.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64(), v["errors"].as_u64()), (Some(4), Some(0), Some(1)), "{v}");
}

#[test]
fn bench_runs_and_reports_its_figures() {
    let o = dynasim(&["bench", "--quick", "--only", "queue", "--only", "sweep", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert!(v["events"].as_u64().unwrap_or(0) > 0, "{v}");
        assert!(v["peak_rss_mib"].as_f64().is_some());
        assert_eq!(v["bytes_per_pending_event"], 136);
    }
    assert_eq!(lines[1]["configurations"], 36);
    let bad = dynasim(&["bench", "--only", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[cfg(target_os = "linux")]
#[test]
fn a_reader_that_stops_early_ends_the_command_by_sigpipe_not_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynasim"))
        .args(["check", "scenarios/quickstart.json", "--seeds", "1..40", "--jobs", "1", "--set", "duration_ms=200"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dynasim");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a first line");
    assert!(first.starts_with("ok"), "{first}");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(13), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_check_of_nothing_and_a_sweep_of_nothing_valid_are_errors() {
    let empty = common::Scratch::folder("cli", "empty");
    let out = dynasim(&["check", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scenario (*.json)"));
    let dir = empty.join("sweep");
    let out = dynasim(&[
        "sweep",
        "scenarios/quickstart.json",
        "--set",
        "protocl.r=1,2",
        "--seeds",
        "1",
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("every configuration was invalid"));
    assert!(!dir.exists(), "nothing written");
}

#[test]
fn trace_filters_that_match_nothing_and_unwritable_outputs_fail_before_the_run() {
    let dir = tempdir("filters");
    let trace = dir.join("t.jsonl");
    let trace = trace.to_str().unwrap_or_default();
    for filter in [
        &["--trace-kind", "bogus"][..],
        &["--trace-node", "n999"],
        &["--trace-key", "k5000"],
        &["--trace-from-ms", "NaN"],
        &["--trace-from-ms", "50", "--trace-to-ms", "10"],
    ] {
        let mut args = vec!["run", "scenarios/quickstart.json", "--set", "duration_ms=100", "--trace", trace];
        args.extend_from_slice(filter);
        let o = dynasim(&args);
        assert_eq!(o.status.code(), Some(2), "{filter:?}");
        assert!(stderr(&o).contains("matches nothing in this scenario"), "{filter:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("s wall"), "{filter:?}: nothing is simulated");
    }
    let out = dir.join("out");
    let out = out.to_str().unwrap_or_default();
    let o = dynasim(&[
        "run",
        "scenarios/quickstart.json",
        "--out",
        out,
        "--trace",
        trace,
        "--trace-kind",
        "get_request",
        "--trace-node",
        "n1",
    ]);
    assert_eq!(o.status.code(), Some(0), "a kind and a node that exist: {}", stderr(&o));
    // An output folder that cannot be written is reported before simulating anything.
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").expect("write");
    let o = dynasim(&["run", "scenarios/quickstart.json", "--out", file.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("s wall"), "no simulation before the error: {}", stderr(&o));
    let o = dynasim(&["sweep", "scenarios/quickstart.json", "--seeds", "1", "--out", file.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn concurrent_runs_into_one_folder_leave_one_whole_run() {
    let dir = tempdir("race");
    let out = dir.join("out");
    let out = out.to_str().unwrap_or_default().to_string();
    for trial in 0..6 {
        let runs: Vec<std::process::Child> = [1, 2]
            .iter()
            .map(|seed| {
                Command::new(env!("CARGO_BIN_EXE_dynasim"))
                    .args(["run", "scenarios/quickstart.json", "--set", "duration_ms=50", "--seed", &seed.to_string(), "-q"])
                    .args(["--out", &out])
                    .current_dir(env!("CARGO_MANIFEST_DIR"))
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut r in runs {
            assert!(r.wait().expect("wait").success(), "trial {trial}");
        }
        let read = |name: &str| std::fs::read_to_string(format!("{out}/{name}")).expect("a whole folder");
        let report: serde_json::Value = serde_json::from_str(&read("report.json")).expect("report.json is whole");
        let seed = report["scenario"]["seed"].as_u64().expect("seed");
        assert!(read("command.txt").contains(&format!("--seed {seed}")), "trial {trial}: files of two runs mixed");
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()).filter(|e| e.file_name() != "out").collect();
        assert!(leftovers.is_empty(), "trial {trial}: temporaries left: {leftovers:?}");
    }
    // A folder is replaced as a whole: a chart an earlier run drew does not survive a run without
    // charts; but a file dynasim did not write stops the run, and survives it.
    let run = |extra: &[&str]| {
        dynasim(&[&["run", "scenarios/quickstart.json", "--set", "duration_ms=50", "-q", "--out", &out], extra].concat())
    };
    assert!(run(&["--plots"]).status.success());
    assert!(std::path::Path::new(&format!("{out}/latency-cdf.png")).exists());
    assert!(run(&[]).status.success());
    assert!(!std::path::Path::new(&format!("{out}/latency-cdf.png")).exists(), "the old run's chart is gone");
    std::fs::write(format!("{out}/notes.txt"), "mine").expect("write");
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("notes.txt, which dynasim did not write"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(format!("{out}/notes.txt")).expect("kept"), "mine");
}

#[test]
fn version_names_the_commit_and_completions_and_the_man_page_are_generated() {
    let v = String::from_utf8_lossy(&dynasim(&["--version"]).stdout).into_owned();
    assert!(v.starts_with("dynasim 0.") && v.contains("(commit "), "{v}");
    let bash = dynasim(&["completions", "bash"]);
    assert!(bash.status.success() && String::from_utf8_lossy(&bash.stdout).contains("sweep"));
    let man = dynasim(&["manpage"]);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success() && page.contains(".TH dynasim 1") && page.contains("explore"), "{page}");
    assert_eq!(dynasim(&["completions", "bogus"]).status.code(), Some(2));
}

#[test]
fn man_pages_cover_every_command_and_every_help_has_an_example() {
    let dir = tempdir("man");
    let o = dynasim(&["manpage", "--out-dir", &dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    for command in ["run", "check", "sweep", "merge", "plot", "shrink", "explain", "explore", "bench", "schema"] {
        let page = std::fs::read_to_string(dir.join(format!("dynasim-{command}.1"))).expect("a page per command");
        assert!(page.contains(&format!(".TH dynasim-{command} 1")) && page.contains("Examples:"), "dynasim-{command}.1: {page}");
        let help = stdout(&dynasim(&[command, "--help"]));
        assert!(help.contains("Examples:\n  dynasim "), "{command} --help has no example: {help}");
    }
    assert!(stdout(&dynasim(&["sweep", "--help"])).contains("p999_get_all_ms"), "--recommend's metrics are listed");
}

/// What bash completes for `line` (the word under the cursor last), through the script
/// `dynasim completions bash` prints.
fn bash_complete(line: &str) -> Vec<String> {
    let script = stdout(&dynasim(&["completions", "bash"]));
    let words: Vec<&str> = line.split(' ').collect();
    let program = format!(
        "{script}\nCOMP_WORDS=({line}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
         _dynasim dynasim '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash").arg("-c").arg(program).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("bash");
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_scenario_paths_and_hides_nothing_internal() {
    assert!(bash_complete("dynasim run scenarios/node-cr").contains(&"scenarios/node-crash-under-load.json".to_string()));
    assert!(bash_complete("dynasim check --seeds 1..5 scenarios/quorum-m").contains(&"scenarios/quorum-model.json".to_string()));
    assert!(
        bash_complete("dynasim run --seed ").iter().all(|w| !w.contains('/') && !w.ends_with(".json")),
        "no files after --seed"
    );
    let bench = bash_complete("dynasim bench --");
    assert!(bench.contains(&"--quick".to_string()) && !bench.iter().any(|w| w.contains("child")), "{bench:?}");
}

#[test]
fn json_output_is_one_object_with_the_documented_fields() {
    let dir = tempdir("json");
    let out = dir.join("run");
    let o = dynasim(&[
        "run",
        "scenarios/quickstart.json",
        "--set",
        "duration_ms=100",
        "--json",
        "--out",
        out.to_str().unwrap_or_default(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("run --json prints one JSON object");
    assert_eq!((v["scenario"].as_str(), v["seed"].as_u64()), (Some("quickstart"), Some(1)));
    assert!(v["report"]["operations"]["get"]["count"].as_u64().is_some());
    let o = dynasim(&["check", "scenarios/quickstart.json", "--set", "duration_ms=100", "--seeds", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("check --json prints one JSON object");
    assert_eq!((v["command"].as_str(), v["passed"].as_u64(), v["failed"].as_u64()), (Some("check"), Some(2), Some(0)));
    assert_eq!(v["runs"][1]["seed"], 2);
    let junit = dir.join("explore.xml");
    let o = dynasim(&[
        "explore",
        "scenarios/nemesis-dynamo.json",
        "--seeds",
        "1",
        "--json",
        "--junit",
        junit.to_str().unwrap_or_default(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("explore --json prints one JSON object");
    assert_eq!(v["command"], "explore");
    assert_eq!(v["runs"].as_array().map(|r| r.len()), Some(1));
    assert!(std::fs::read_to_string(&junit).expect("explore writes JUnit").contains("<testsuites"));
}

#[test]
fn check_prints_the_same_bytes_whatever_the_jobs() {
    let args = |jobs: &'static str, json: bool| {
        let mut a = vec!["check", "scenarios/weak/", "scenarios/quickstart.json", "--seeds", "1..4", "--set", "duration_ms=400"];
        a.extend(["--jobs", jobs]);
        if json {
            a.push("--json");
        }
        dynasim(&a)
    };
    for json in [false, true] {
        let one = args("1", json);
        assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
        let text = String::from_utf8_lossy(&one.stdout);
        assert!(text.contains("no_lost_writes") && text.contains("quickstart"), "{text}");
        for jobs in ["2", "5"] {
            let other = args(jobs, json);
            assert_eq!(other.status.code(), Some(1));
            assert_eq!(String::from_utf8_lossy(&other.stdout), text, "--jobs {jobs} against --jobs 1");
        }
        // Not a terminal here, so no progress line.
        assert!(!stderr(&one).contains("runs"), "{}", stderr(&one));
    }
}

/// `script` gives the command a terminal; the progress line appears there and nowhere else.
#[cfg(target_os = "linux")]
#[test]
fn check_shows_progress_on_a_terminal_only() {
    let Ok(script) = which("script") else {
        eprintln!("util-linux `script` is not installed; the terminal half of this test is skipped");
        return;
    };
    let bin = env!("CARGO_BIN_EXE_dynasim");
    for (extra, label) in [("", "check"), (" --determinism", "check --determinism")] {
        let command = format!("{bin} check scenarios/quickstart.json --seeds 1..3 --jobs 2 --set duration_ms=200{extra}");
        let o = Command::new(&script)
            .args(["-qec", &command, "/dev/null"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run script");
        let shown = String::from_utf8_lossy(&o.stdout);
        if String::from_utf8_lossy(&o.stderr).contains("pseudo-terminal") {
            eprintln!("this machine cannot open a pseudo-terminal; the terminal half of this test is skipped");
            return;
        }
        assert_eq!(o.status.code(), Some(0), "{shown}");
        assert!(shown.contains(&format!("\x1b[2K{label}: 3/3 runs, 0 failed")), "{shown:?}");
        // Every result line starts on a cleared row, never after the progress text.
        assert_eq!(shown.matches("\r\x1b[2Kok    scenarios/quickstart.json").count(), 3, "{shown:?}");
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or(())
}

#[test]
fn a_run_that_would_not_fit_the_memory_limit_is_refused_naming_the_field() {
    // 5 x 10^7 keys under a 4 GB address-space limit: refused before any allocation.
    let o = Command::new("sh")
        .args([
            "-c",
            &format!(
                "ulimit -v 4000000; {} run scenarios/quickstart.json --set workload.keys=50000000 -q --out /dev/null/x",
                env!("CARGO_BIN_EXE_dynasim")
            ),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("workload.keys: the run would need about") && stderr(&o).contains("ulimit -v"), "{}", stderr(&o));
}

#[test]
fn jobs_beyond_the_work_or_the_system_never_panic() {
    let o =
        dynasim(&["explore", "scenarios/nemesis-dynamo.json", "--seeds", "1..2", "--jobs", "100000", "--set", "duration_ms=300"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).ends_with("2 passed, 0 failed\n"));
    let o = dynasim(&["check", "scenarios/quickstart.json", "--seeds", "1..2", "--jobs", "100000", "--set", "duration_ms=100"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_set_value_with_a_key_twice_is_refused() {
    let o =
        dynasim(&["run", "scenarios/quickstart.json", "--set", r#"protocol={"r":1,"\u0072":2}"#, "-q", "--out", "/dev/null/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the value has \"r\" twice in one object"), "{}", stderr(&o));
}

#[test]
fn quiet_runs_print_nothing_and_quiet_checks_only_what_failed_and_the_tally() {
    let dir = tempdir("quiet");
    let out = dir.join("out");
    let o = dynasim(&[
        "run",
        "scenarios/quickstart.json",
        "--set",
        "duration_ms=50",
        "-q",
        "--out",
        out.to_str().unwrap_or_default(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "run -q printed {:?} {:?}", stdout(&o), stderr(&o));
    assert!(out.join("timing.json").is_file(), "the timing is kept in the folder");
    let o = dynasim(&["check", "scenarios/quickstart.json", "--seeds", "2", "--set", "duration_ms=200", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "2 passed, 0 failed", "{}", stdout(&o));
    let o = dynasim(&["check", "scenarios/weak/w1-crash-after-ack.json", "--quiet"]);
    assert!(stdout(&o).contains("FAIL  ") && !stdout(&o).contains("ok    "), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn an_interrupted_traced_run_leaves_no_partial_file() {
    let dir = tempdir("interrupt");
    std::fs::create_dir_all(&dir).expect("scratch");
    let trace = dir.join("t.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynasim"))
        .args(["run", "scenarios/quorum-model.json", "--set", "duration_ms=3600000", "-q", "--trace"])
        .arg(&trace)
        .arg("--out")
        .arg(dir.join("out"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .expect("start dynasim");
    let partials = || -> Vec<String> {
        std::fs::read_dir(&dir).map_or(vec![], |d| {
            d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".partial")).collect()
        })
    };
    // Wait until the trace is being written under its temporary name, then interrupt.
    for _ in 0..600 {
        if !partials().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!partials().is_empty(), "the trace is streamed to a temporary name");
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("dynasim ends");
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(partials().is_empty(), "left behind: {:?}", partials());
    assert!(!trace.exists(), "an interrupted trace is not renamed into place as if complete");
}
