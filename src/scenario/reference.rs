//! The scenario format described from the parser's own types (stage one, `schema.rs`): a JSON
//! Schema for editors (`dynasim schema`), and the Markdown reference that
//! docs/scenario-reference.md holds (`dynasim schema --markdown`; a test keeps the two in step).
//! Defaults are not in either: they are stage two's (`validate.rs`), and docs/scenarios.md
//! shows them.

use super::schema::RawScenario;
use serde_json::Value;

/// The JSON Schema (draft 2020-12) of a scenario file.
pub fn json_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(RawScenario)).unwrap_or_default();
    schema["title"] = Value::from("dynasim scenario");
    schema
}

/// Every field a scenario file can hold, one table row each: its path, what it accepts and
/// what it means.
pub fn reference_markdown() -> String {
    let schema = json_schema();
    let mut rows = Vec::new();
    fields(&schema, "", &schema["$defs"], &mut Vec::new(), &mut rows);
    let mut out = String::from(
        "# Scenario reference\n\n\
         Every field of a scenario file, generated from the parser's own definitions by\n\
         `dynasim schema --markdown` (a test fails if this file differs from its output).\n\
         Defaults and worked examples are in [scenarios.md](scenarios.md). A path's `[]` is an\n\
         element of a list; `(kind = x)` a field of the variant whose `kind` is `x`.\n\n\
         | field | accepts | meaning |\n| --- | --- | --- |\n",
    );
    for (path, accepts, required, meaning) in rows {
        let required = if required { " (required)" } else { "" };
        let cell = |text: &str| text.replace('\n', " ").replace('|', "\\|");
        out.push_str(&format!("| `{path}`{required} | {} | {} |\n", cell(&accepts), cell(&meaning)));
    }
    out
}

/// A `$ref` followed to its definition.
fn resolve<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => &defs[name],
        None => node,
    }
}

/// The schema an optional field holds when it is not null.
fn non_null<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
    let node = resolve(node, defs);
    match node.get("anyOf").and_then(Value::as_array) {
        Some(options) => {
            let mut rest = options.iter().filter(|o| o.get("type") != Some(&Value::from("null")));
            match (rest.next(), rest.next()) {
                (Some(only), None) => resolve(only, defs),
                _ => node,
            }
        }
        None => node,
    }
}

/// Appends the rows of `node`'s fields under `prefix`. `open` holds the definitions being
/// described further up, so that a recursive one (a mixture's latency is a latency) stops.
fn fields<'a>(node: &'a Value, prefix: &str, defs: &'a Value, open: &mut Vec<&'a str>, rows: &mut Vec<Row>) {
    let reference = |n: &'a Value| n.get("$ref").and_then(Value::as_str);
    let named = reference(node)
        .or_else(|| resolve(node, defs).get("anyOf").and_then(Value::as_array).and_then(|o| o.iter().find_map(reference)));
    if let Some(name) = named {
        if open.contains(&name) {
            return;
        }
        open.push(name);
        fields_of(non_null(node, defs), prefix, defs, open, rows);
        open.pop();
    } else {
        fields_of(non_null(node, defs), prefix, defs, open, rows);
    }
}

type Row = (String, String, bool, String);

fn fields_of<'a>(node: &'a Value, prefix: &str, defs: &'a Value, open: &mut Vec<&'a str>, rows: &mut Vec<Row>) {
    if let Some(variants) = node.get("oneOf").and_then(Value::as_array) {
        for variant in variants {
            if let Some(kind) = variant["properties"]["kind"]["const"].as_str() {
                fields(variant, &format!("{prefix} (kind = {kind})"), defs, open, rows);
            }
        }
        return;
    }
    if node["type"] == "array" {
        return fields(&node["items"], &format!("{prefix}[]"), defs, open, rows);
    }
    let Some(props) = node.get("properties").and_then(Value::as_object) else { return };
    let required: Vec<&str> = node["required"].as_array().map_or(vec![], |r| r.iter().filter_map(Value::as_str).collect());
    for (name, sub) in props {
        if name == "kind" && sub.get("const").is_some() {
            continue;
        }
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let meaning = description(sub).or_else(|| description(non_null(sub, defs))).unwrap_or_default();
        rows.push((path.clone(), accepts(sub, defs), required.contains(&name.as_str()), meaning));
        fields(sub, &path, defs, open, rows);
    }
}

fn description(node: &Value) -> Option<String> {
    node.get("description").and_then(Value::as_str).map(str::to_string)
}

/// What a field accepts, in words.
fn accepts(node: &Value, defs: &Value) -> String {
    let resolved = resolve(node, defs);
    let nullable = resolved.get("anyOf").and_then(Value::as_array).is_some_and(|o| o.iter().any(|x| x["type"] == "null"))
        || resolved["type"].as_array().is_some_and(|t| t.iter().any(|x| x == "null"));
    let inner = non_null(node, defs);
    let what = if let Some(values) = inner.get("enum").and_then(Value::as_array) {
        let names: Vec<String> =
            values.iter().filter(|v| !v.is_null()).map(|v| format!("`{}`", v.as_str().unwrap_or_default())).collect();
        format!("one of {}", names.join(", "))
    } else if let Some(variants) = inner.get("oneOf").and_then(Value::as_array) {
        let kinds: Vec<String> =
            variants.iter().filter_map(|v| v["properties"]["kind"]["const"].as_str()).map(|k| format!("`{k}`")).collect();
        if kinds.is_empty() {
            let consts: Vec<String> = variants.iter().map(|v| accepts(v, defs)).collect();
            consts.join(" or ")
        } else {
            format!("object by `kind`: {}", kinds.join(", "))
        }
    } else if let Some(options) = inner.get("anyOf").and_then(Value::as_array) {
        options.iter().map(|o| accepts(o, defs)).collect::<Vec<_>>().join(" or ")
    } else if let Some(c) = inner.get("const") {
        format!("`{c}`")
    } else {
        let types: Vec<&str> = match &inner["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
            _ => vec![],
        };
        match types.first().copied() {
            Some("array") => format!("list of {}", accepts(&inner["items"], defs)),
            Some("object") if inner.get("properties").is_none() => match inner.get("additionalProperties") {
                Some(v) if v.is_object() => format!("object of name to {}", accepts(v, defs)),
                _ => "object".to_string(),
            },
            Some("integer") if inner.get("minimum").is_some() => "integer ≥ 0".to_string(),
            Some(t) => t.to_string(),
            None => "any JSON value".to_string(),
        }
    };
    if nullable {
        format!("{what} or null")
    } else {
        what
    }
}
