//! Scenario descriptions state figures; `tests/description_claims.json` ties each to the words that state
//! it and the report figure it is. Every claim's words must still be in its scenario's
//! description, and a run under each of its seeds (1 and 2 unless it says) must give a figure
//! within its bounds, so a description cannot drift from what the scenario does.

use crate::common::*;
use serde_json::Value;

#[test]
fn every_figure_a_description_claims_is_what_its_scenario_gives() {
    let path = format!("{}/tests/description_claims.json", env!("CARGO_MANIFEST_DIR"));
    let claims: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("claims.json")).expect("valid JSON");
    let claims = claims["claims"].as_array().expect("a list of claims");
    assert!(!claims.is_empty());
    let mut failures = Vec::new();
    for claim in claims {
        let name = claim["scenario"].as_str().expect("scenario");
        let quote = claim["quote"].as_str().expect("quote");
        let sets: Vec<&str> = claim["set"].as_array().map_or(Vec::new(), |s| s.iter().filter_map(Value::as_str).collect());
        let seeds: Vec<u64> = claim["seeds"].as_array().map_or(vec![1, 2], |s| s.iter().filter_map(Value::as_u64).collect());
        let description = shipped(name, &[]).description;
        assert!(description.contains(quote), "{name}: the description no longer says {quote:?}");
        for seed in seeds {
            let seed_set = format!("seed={seed}");
            let rep = report(&shipped(name, &[&[seed_set.as_str()], sets.as_slice()].concat()));
            let at = |pointer: &Value| {
                let p = pointer.as_str().expect("a JSON pointer");
                rep.pointer(p).and_then(Value::as_f64).unwrap_or_else(|| panic!("{name}: no figure at {p}"))
            };
            let figure = match claim.get("per") {
                Some(per) => at(&claim["figure"]) / at(per),
                None => at(&claim["figure"]),
            };
            let (min, max) = (f(&claim["min"]), f(&claim["max"]));
            if !(min..=max).contains(&figure) {
                failures.push(format!("{name} seed {seed} {sets:?}: {quote:?} but {} is {figure}", claim["figure"]));
            }
        }
    }
    assert!(failures.is_empty(), "descriptions that no longer hold:\n{}", failures.join("\n"));
}
