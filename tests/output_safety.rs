//! What dynasim writes can only replace what dynasim wrote: a user's files survive every
//! command, or the command is refused before it writes anything.

use crate::common;
use std::path::Path;
use std::process::{Command, Output};

fn dynasim_in(dir: impl AsRef<Path>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynasim")).args(args).current_dir(dir).output().expect("run dynasim")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh folder of the test's own, with a copy of the quickstart scenario in it.
fn workdir(name: &str) -> common::Scratch {
    let d = common::Scratch::folder("safety", name);
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.json");
    std::fs::copy(quickstart, d.join("q.json")).expect("copy");
    d
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_out_into_a_users_folder_is_refused_and_the_files_survive() {
    let d = workdir("user-folder");
    std::fs::create_dir(d.join("mydata")).expect("mkdir");
    write(&d.join("mydata/thesis.tex"), "chapter one");
    let o = dynasim_in(&d, &["run", "q.json", "--set", "duration_ms=50", "-q", "--out", "mydata"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("mydata: exists and dynasim did not write it"), "{}", stderr(&o));
    assert_eq!(read(&d.join("mydata/thesis.tex")), "chapter one");
    // An empty folder, or one of dynasim's own, is written.
    std::fs::create_dir(d.join("empty")).expect("mkdir");
    for out in ["empty", "empty", "fresh"] {
        let o = dynasim_in(&d, &["run", "q.json", "--set", "duration_ms=50", "-q", "--out", out]);
        assert_eq!(o.status.code(), Some(0), "{out}: {}", stderr(&o));
        assert!(d.join(out).join(".dynasim.json").exists());
    }
}

#[test]
fn a_scenario_name_becomes_one_folder_under_reports() {
    let d = workdir("names");
    std::fs::create_dir(d.join("reports")).expect("mkdir");
    write(&d.join("reports/keep.txt"), "tracked");
    for (name, folder) in [("", "unnamed"), ("../escape", "-escape"), ("/abs/path", "-abs-path"), ("a/b", "a-b")] {
        write(&d.join("s.json"), &format!(r#"{{"name": {}, "duration_ms": 20}}"#, serde_json::json!(name)));
        let o = dynasim_in(&d, &["run", "s.json", "-q"]);
        assert_eq!(o.status.code(), Some(0), "{name:?}: {}", stderr(&o));
        assert!(d.join("reports").join(folder).join("report.json").exists(), "{name:?} -> reports/{folder}");
    }
    assert_eq!(read(&d.join("reports/keep.txt")), "tracked");
    assert!(!d.join("escape").exists() && !d.path().parent().expect("parent").join("escape").exists());
}

#[test]
fn plot_removes_only_the_charts_it_drew_and_never_overwrites_a_users_file() {
    let d = workdir("plot");
    let o = dynasim_in(&d, &["run", "q.json", "--set", "duration_ms=200", "-q", "--out", "r"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A folder dynasim did not make, holding a report and the user's own pictures.
    std::fs::create_dir(d.join("mine")).expect("mkdir");
    std::fs::copy(d.join("r/report.json"), d.join("mine/report.json")).expect("copy");
    write(&d.join("mine/figure.png"), "my figure");
    write(&d.join("mine/diagram.svg"), "my diagram");
    let o = dynasim_in(&d, &["plot", "mine"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(d.join("mine/latency-cdf.png").exists());
    let o = dynasim_in(&d, &["plot", "mine"]);
    assert_eq!(o.status.code(), Some(0), "a second plot replaces its own charts: {}", stderr(&o));
    assert_eq!(read(&d.join("mine/figure.png")), "my figure");
    assert_eq!(read(&d.join("mine/diagram.svg")), "my diagram");
    // A user's file with a chart's name stops the plot before anything is drawn.
    std::fs::create_dir(d.join("clash")).expect("mkdir");
    std::fs::copy(d.join("r/report.json"), d.join("clash/report.json")).expect("copy");
    write(&d.join("clash/latency-cdf.png"), "my own cdf");
    let o = dynasim_in(&d, &["plot", "clash"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("latency-cdf.png, which dynasim did not draw"), "{}", stderr(&o));
    assert_eq!(read(&d.join("clash/latency-cdf.png")), "my own cdf");
    assert!(!d.join("clash/index.html").exists(), "nothing drawn");
}

fn sweep(d: impl AsRef<Path>, scenario: &str, out: &str, extra: &[&str]) -> Output {
    let args = [&["sweep", scenario, "--set", "duration_ms=100", "--set", "protocol.r=1,2", "--seeds", "1", "--out", out], extra];
    dynasim_in(d, &args.concat())
}

#[test]
fn merge_refuses_its_own_inputs_as_output_and_shards_of_other_content() {
    let d = workdir("merge");
    for i in 0..2 {
        let o = sweep(&d, "q.json", &format!("s{i}"), &["--shard", &format!("{i}/2")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let before = read(&d.join("s0/results.json"));
    let o = dynasim_in(&d, &["merge", "s0", "s1", "--out", "s0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is the shard folder s0"), "{}", stderr(&o));
    assert_eq!(read(&d.join("s0/results.json")), before, "the shard is intact");
    // Another scenario under the same name, axes and seeds: its content differs.
    let other = read(&d.join("q.json")).replacen("\"description\": \"", "\"description\": \"Changed. ", 1);
    write(&d.join("other.json"), &other);
    let o = sweep(&d, "other.json", "t1", &["--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = dynasim_in(&d, &["merge", "s0", "t1", "--out", "merged"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("scenario_digest differs"), "{}", stderr(&o));
    assert!(!d.join("merged").exists());
    let o = dynasim_in(&d, &["merge", "s0", "s1", "--out", "merged"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // More shards than configurations: refused before anything runs.
    let o = sweep(&d, "q.json", "many", &["--shard", "0/100000000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("100000000 shards for 2 configurations"), "{}", stderr(&o));
}
