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
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sets: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(&path, &text, &sets).unwrap_or_else(|e| panic!("{e}"))
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
