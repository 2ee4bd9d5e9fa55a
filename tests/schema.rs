//! The scenario format's descriptions are generated from the parser's own types and agree with
//! what the parser accepts: every shipped scenario validates against `dynasim schema`, a
//! misspelt field does not, docs/scenario-reference.md is `dynasim schema --markdown` exactly,
//! and every field the annotated example in docs/scenarios.md shows exists.

use dynasim::scenario::{json_schema, reference_markdown};
use serde_json::Value;
use std::path::Path;

fn shipped_scenarios() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/published", "scenarios/weak"] {
        for entry in std::fs::read_dir(dir).expect("scenario folder").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn every_shipped_scenario_validates_against_the_schema_and_a_misspelt_field_does_not() {
    let validator = jsonschema::validator_for(&json_schema()).expect("a valid JSON Schema");
    let files = shipped_scenarios();
    assert!(files.len() > 50, "{} scenarios", files.len());
    for path in &files {
        let scenario = read_json(path);
        let errors: Vec<String> = validator.iter_errors(&scenario).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    let mut misspelt = read_json(Path::new("scenarios/quorum-model.json"));
    misspelt["protocol"]["read_repiar"] = Value::Bool(true);
    assert!(!validator.is_valid(&misspelt), "an unknown field must fail the schema as it fails the parser");
    let mut bad_kind = read_json(Path::new("scenarios/quorum-model.json"));
    bad_kind["network"]["latency"] = serde_json::json!({ "kind": "expoential", "mean_ms": 1 });
    assert!(!validator.is_valid(&bad_kind), "an unknown distribution kind must fail");
}

#[test]
fn the_scenario_reference_is_the_generated_one() {
    let shipped = std::fs::read_to_string("docs/scenario-reference.md").expect("docs/scenario-reference.md");
    assert!(
        shipped == reference_markdown(),
        "docs/scenario-reference.md is stale: regenerate it with `dynasim schema --markdown > docs/scenario-reference.md`"
    );
}

#[test]
fn every_field_the_annotated_example_shows_exists() {
    let doc = std::fs::read_to_string("docs/scenarios.md").expect("docs/scenarios.md");
    let start = doc.find("```jsonc").expect("the annotated example");
    let block = &doc[start..][..doc[start..][8..].find("```").expect("its end") + 8];
    let reference = reference_markdown();
    let known: std::collections::BTreeSet<&str> = reference
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .flat_map(|path| path.rsplit(['.', ' ']).next())
        .map(|leaf| leaf.trim_end_matches("[]"))
        .collect();
    let mut unknown = Vec::new();
    for line in block.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for field in code.split('"').skip(1).step_by(2) {
            let is_key = code.contains(&format!("\"{field}\":"));
            let ignored = ["kind", "$schema"].contains(&field) || field.chars().any(|c| c.is_ascii_uppercase());
            if is_key && !ignored && !known.contains(field) {
                unknown.push(field.to_string());
            }
        }
    }
    assert!(unknown.is_empty(), "docs/scenarios.md shows fields the parser does not know: {unknown:?}");
}
