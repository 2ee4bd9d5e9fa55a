//! `dynasim explore`: one seed of a scenario under a random narrowing of its nemesis menu,
//! simulated, reported and judged by the invariant checks.

/// One seed of `dynasim explore`: the scenario (text of `file`, with `sets`) run under its
/// nemesis menu narrowed swarm-style for `seed` (see [`crate::scenario::nemesis::swarm`]) and judged.
/// Returns the overrides that replay it and the violations. A scenario without a menu runs
/// as it is, under `seed`.
pub fn explore_seed(
    file: &str,
    text: &str,
    sets: &[String],
    seed: u64,
) -> Result<(Vec<String>, Vec<crate::observe::checks::Violation>), crate::error::Error> {
    let base = crate::scenario::load(file, text, sets)?;
    let Some(menu) = &base.nemesis else {
        let result = crate::simulate(&base, seed)?;
        let report = crate::report::build(&base, seed, &result);
        return Ok((sets.to_vec(), crate::observe::checks::evaluate(&base, &result, &report)));
    };
    let (kinds, rate) = crate::scenario::nemesis::swarm(menu, seed);
    let names: Vec<String> = kinds.iter().map(|k| format!("\"{}\"", crate::scenario::nemesis::kind_name(*k))).collect();
    let mut sets = sets.to_vec();
    sets.push(format!("nemesis.kinds=[{}]", names.join(",")));
    sets.push(format!("nemesis.rate_per_s={rate}"));
    let s = crate::scenario::load(file, text, &sets)?;
    let result = crate::simulate(&s, seed)?;
    let report = crate::report::build(&s, seed, &result);
    Ok((sets, crate::observe::checks::evaluate(&s, &result, &report)))
}
