//! Helpers shared by the integration tests: build scenarios from JSON or shipped files.
#![allow(dead_code)]

use dynasim::scenario::{self, Scenario};
use serde_json::Value;

/// A scenario from inline JSON plus `--set`-style overrides.
pub fn scenario(json: &str, overrides: &[&str]) -> Scenario {
    let sets: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load("test.json", json, &sets).unwrap_or_else(|e| panic!("test scenario invalid: {e}"))
}

/// A shipped scenario file from scenarios/, with overrides.
pub fn shipped(name: &str, overrides: &[&str]) -> Scenario {
    try_shipped(name, overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// [`shipped`], or the error its overrides make.
pub fn try_shipped(name: &str, overrides: &[&str]) -> Result<Scenario, scenario::ScenarioError> {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sets: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(&path, &text, &sets)
}

/// A fresh path that does not exist yet, inside a temporary folder of its own. The folder and
/// whatever the test put there are removed when the value is dropped, also when the test panics,
/// so the tests leave the temporary folder as they found it. Dereferences to the path as a `str`,
/// as command lines take it.
pub struct Scratch {
    path: String,
    _parent: tempfile::TempDir,
}

impl Scratch {
    pub fn new(suite: &str, name: &str) -> Scratch {
        let parent = tempfile::Builder::new().prefix(&format!("dynasim-{suite}-")).tempdir().expect("a temporary folder");
        let path = parent.path().join(name).display().to_string();
        Scratch { path, _parent: parent }
    }

    /// A fresh folder, created, with `name` as its last component.
    pub fn folder(suite: &str, name: &str) -> Scratch {
        let scratch = Scratch::new(suite, name);
        std::fs::create_dir(&scratch.path).expect("create the scratch folder");
        scratch
    }

    pub fn join(&self, name: impl AsRef<std::path::Path>) -> std::path::PathBuf {
        self.path().join(name)
    }

    pub fn path(&self) -> &std::path::Path {
        std::path::Path::new(&self.path)
    }
}

impl std::ops::Deref for Scratch {
    type Target = str;
    fn deref(&self) -> &str {
        &self.path
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.path)
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::new(&self.path)
    }
}

impl std::fmt::Display for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

pub fn report(s: &Scenario) -> Value {
    dynasim::run_report(s, s.seed).expect("the run finishes")
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// One `<text>` of a chart's SVG: where it is anchored, how, at what plotters font size (the
/// SVG states size / 1.24; none when the text inherits it), and what it says.
pub struct SvgText {
    pub x: f64,
    pub y: f64,
    pub anchor: String,
    pub size: Option<u32>,
    pub text: String,
}

/// Every `<text>` of an SVG, as plotters and compare.py write them.
pub fn svg_texts(svg: &str) -> Vec<SvgText> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[start..].split('"').next().map(String::from)
    };
    svg.split("<text")
        .skip(1)
        .map(|chunk| {
            let (tag, rest) = chunk.split_once('>').expect("a text tag");
            let text = rest.split("</text>").next().unwrap_or_default().trim();
            let number = |n: &str| attr(tag, n).and_then(|v| v.parse::<f64>().ok());
            SvgText {
                x: number("x").expect("x"),
                y: number("y").expect("y"),
                anchor: attr(tag, "text-anchor").unwrap_or_else(|| "start".into()),
                size: number("font-size").map(|v| (v * 1.24).round() as u32),
                text: text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"),
            }
        })
        .collect()
}
