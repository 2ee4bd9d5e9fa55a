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

/// Where `value` breaks `schema`, for the keywords schemars emits (type, properties, required,
/// additionalProperties, enum, const, oneOf, anyOf, items, $ref, minimum); empty if nowhere.
/// A validator of this subset, rather than a general crate, keeps the test build small.
fn violations(value: &Value, schema: &Value, root: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    let fail = |out: &mut Vec<String>, why: String| out.push(format!("{at}: {why}"));
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        return violations(value, &root["$defs"][name], root, at);
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> =
            t.as_array().map_or_else(|| t.as_str().into_iter().collect(), |a| a.iter().filter_map(Value::as_str).collect());
        let is = |ty: &str| match ty {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(|ty| is(ty)) {
            fail(&mut out, format!("{value} is not {types:?}"));
            return out;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            fail(&mut out, format!("{value} is not one of {options:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            fail(&mut out, format!("{value} is not {c}"));
        }
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if x < min {
            fail(&mut out, format!("{x} is below {min}"));
        }
    }
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one_of.iter().filter(|s| violations(value, s, root, at).is_empty()).count();
        if matching != 1 {
            fail(&mut out, format!("matches {matching} of the oneOf alternatives, not exactly one"));
        }
    }
    if let Some(any_of) = schema.get("anyOf").and_then(Value::as_array) {
        if !any_of.iter().any(|s| violations(value, s, root, at).is_empty()) {
            fail(&mut out, "matches none of the anyOf alternatives".to_string());
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            out.extend(violations(v, items, root, &format!("{at}/{i}")));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                fail(&mut out, format!("lacks the required \"{required}\""));
            }
        }
        for (key, v) in object {
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(s), _) => out.extend(violations(v, s, root, &format!("{at}/{key}"))),
                (None, Some(Value::Bool(false))) => fail(&mut out, format!("\"{key}\" is not a field here")),
                (None, Some(s)) if s.is_object() => out.extend(violations(v, s, root, &format!("{at}/{key}"))),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn every_shipped_scenario_validates_against_the_schema_and_a_misspelt_field_does_not() {
    let schema = json_schema();
    let errors = |scenario: &Value| violations(scenario, &schema, &schema, "");
    let files = shipped_scenarios();
    assert!(files.len() > 50, "{} scenarios", files.len());
    for path in &files {
        let found = errors(&read_json(path));
        assert!(found.is_empty(), "{}: {found:?}", path.display());
    }
    let mut misspelt = read_json(Path::new("scenarios/quorum-model.json"));
    misspelt["protocol"]["read_repiar"] = Value::Bool(true);
    assert_eq!(errors(&misspelt), ["/protocol: \"read_repiar\" is not a field here"], "an unknown field fails as in the parser");
    let mut bad_kind = read_json(Path::new("scenarios/quorum-model.json"));
    bad_kind["network"]["latency"] = serde_json::json!({ "kind": "expoential", "mean_ms": 1 });
    assert!(!errors(&bad_kind).is_empty(), "an unknown distribution kind must fail");
    let mut no_duration = read_json(Path::new("scenarios/quorum-model.json"));
    no_duration.as_object_mut().map(|o| o.remove("duration_ms"));
    assert!(errors(&no_duration).iter().any(|e| e.contains("duration_ms")), "the required field is required");
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
