//! `shrink` keeps the bug: every weakened scenario shrinks to a failure of the same invariant
//! and signature.

use dynasim::commands::shrink::{fails, repair_floor_ms, shrink, Target};
use dynasim::observe::checks;

#[test]
fn every_weak_scenario_shrinks_to_a_failure_with_its_original_signature() {
    let dir = format!("{}/scenarios/weak", env!("CARGO_MANIFEST_DIR"));
    let mut shrunk = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/weak") {
        let path = entry.expect("entry").path();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let s = dynasim::scenario::load(&file, &text, &[]).expect("valid");
        let r = dynasim::simulate(&s, s.seed).expect("the run finishes");
        let report = dynasim::report::build(&s, s.seed, &r);
        let first = checks::evaluate(&s, &r, &report).into_iter().next().expect("a weak scenario fails");
        let target = Target { invariant: first.invariant, signature: checks::signature(&first, &r), key: first.key.clone() };
        let (tree, steps) = shrink(&file, s.source.clone(), s.seed, &target, repair_floor_ms(&s), 200);
        assert!(!steps.is_empty(), "{file}: nothing shrank");
        let (_, v) = fails(&file, &tree, s.seed, &target).unwrap_or_else(|| panic!("{file}: the shrunk scenario passes"));
        assert_eq!((v.invariant, v.key), (target.invariant, target.key), "{file}");
        shrunk += 1;
    }
    assert!(shrunk >= 1);
}
