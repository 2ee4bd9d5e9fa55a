//! `dynasim explore --exhaustive` and `--pct`: searching a seed's schedules rather than its
//! seeds. A run is a function of its seed and its choices (see [`crate::sim::schedule`]), so
//! a search re-executes the scenario from the start under each list of choices (stateless
//! search, as CHESS and Shuttle do) and judges every run by the scenario's checks.
//!
//! Exhaustive search is depth-first over the choice points, within the bounds: at most so
//! many reorderings, drops, duplicates and faults, and so many choice points per run. With state hashing,
//! a choice point whose state (see `World::state_digest`) another path reached first is not
//! branched at, nor is anything after it: that state's continuations are explored from there.
//! PCT draws random actor priorities per run and states the probability bound it guarantees.

use crate::error::Error;
use crate::observe::checks::{self, Violation};
use crate::scenario::Scenario;
use crate::sim::rng::{Seeds, Stream};
use crate::sim::schedule::{Bounds, ChoiceKind, Chooser, Pct};
use std::collections::BTreeMap;
use std::time::Instant;

/// What a search did and found.
#[derive(Clone, Debug)]
pub struct Search {
    /// Runs made, each one schedule.
    pub schedules: u64,
    /// Distinct states met at choice points (with state hashing; 0 without).
    pub distinct_states: usize,
    /// Every schedule within the bounds was run (or pruned as reaching an explored state).
    pub exhausted: bool,
    /// The first violating schedule: its choice list (with the bounds it replays under) and
    /// what it violated.
    pub found: Option<(String, Bounds, Vec<Violation>)>,
    /// Most choice points one run offered.
    pub deepest: usize,
    /// Wall-clock seconds the search took (for its throughput only).
    pub seconds: f64,
    /// PCT only: the probability that one run finds a bug of the stated depth, at least.
    pub pct_bound_per_run: Option<f64>,
}

impl Search {
    pub fn per_second(&self) -> f64 {
        self.schedules as f64 / self.seconds.max(1e-9)
    }

    /// PCT only: the probability that all the runs together find such a bug, at least.
    pub fn pct_bound(&self) -> Option<f64> {
        self.pct_bound_per_run.map(|p| 1.0 - (1.0 - p).powf(self.schedules as f64))
    }
}

/// One run under `chooser`: the choices it made and what it violated.
fn judged(s: &Scenario, seed: u64, chooser: Chooser) -> Result<(Chooser, Vec<Violation>), Error> {
    let result = crate::simulate_scheduled(s, seed, chooser)?;
    let report = crate::report::build(s, seed, &result);
    let violations = checks::evaluate(s, &result, &report);
    let chooser = result.chooser.unwrap_or_else(|| Chooser::replaying(Bounds::default(), Vec::new()));
    Ok((chooser, violations))
}

/// Depth-first search of the schedules of `s` under `seed` within `bounds`, stopping at the
/// first violation or after `max_schedules` runs.
pub fn exhaustive(s: &Scenario, seed: u64, bounds: Bounds, hash_states: bool, max_schedules: u64) -> Result<Search, Error> {
    let wall_started = Instant::now();
    let mut search = Search {
        schedules: 0,
        distinct_states: 0,
        exhausted: false,
        found: None,
        deepest: 0,
        seconds: 0.0,
        pct_bound_per_run: None,
    };
    // Each state met, with the path (the choices before it) that met it first.
    let mut owners: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    let mut prefix: Vec<(ChoiceKind, u32)> = Vec::new();
    while search.schedules < max_schedules {
        let mut chooser = Chooser::replaying(bounds, prefix.clone());
        chooser.hash_states = hash_states;
        let (chooser, violations) = judged(s, seed, chooser)?;
        search.schedules += 1;
        let made = &chooser.made;
        search.deepest = search.deepest.max(made.len());
        if !violations.is_empty() {
            search.found = Some((chooser.list(), bounds, violations));
            break;
        }
        // Points at and after the first state another path reached first are not branched at.
        let path: Vec<u32> = made.iter().map(|c| c.chosen).collect();
        let mut frontier = made.len();
        for (i, c) in made.iter().enumerate() {
            let Some(state) = c.state else { continue };
            let key = state ^ (c.kind as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            match owners.get(&key) {
                Some(owner) if owner[..] != path[..i] => {
                    frontier = i;
                    break;
                }
                Some(_) => {}
                None => {
                    owners.insert(key, path[..i].to_vec());
                }
            }
        }
        // The deepest point before the frontier with an option not yet tried.
        let Some(i) = (0..frontier).rev().find(|&i| made[i].chosen + 1 < made[i].options) else {
            search.exhausted = true;
            break;
        };
        prefix = made[..i].iter().map(|c| (c.kind, c.chosen)).collect();
        prefix.push((made[i].kind, made[i].chosen + 1));
    }
    search.distinct_states = owners.len();
    search.seconds = wall_started.elapsed().as_secs_f64();
    Ok(search)
}

/// `runs` runs of PCT with bug depth `depth` on `s` under `seed`, stopping at the first
/// violation. The steps k and actors n of the bound come from a first run with default choices.
pub fn pct(s: &Scenario, seed: u64, bounds: Bounds, depth: u32, runs: u64) -> Result<Search, Error> {
    let wall_started = Instant::now();
    let (plain, violations) = judged(s, seed, Chooser::replaying(bounds, Vec::new()))?;
    let steps = plain.made.iter().filter(|c| c.kind == ChoiceKind::Order).count() as u64;
    let actors = s.nodes.len() + s.workload.arrivals.clients() + s.probe.as_ref().map_or(0, |p| p.clients);
    let mut search = Search {
        schedules: 1,
        distinct_states: 0,
        exhausted: false,
        found: None,
        deepest: plain.made.len(),
        seconds: 0.0,
        pct_bound_per_run: Some(Pct::bound(actors, depth, steps)),
    };
    if !violations.is_empty() {
        search.found = Some((plain.list(), bounds, violations));
    }
    let seeds = Seeds::new(seed);
    for run in 0..runs {
        if search.found.is_some() {
            break;
        }
        let priorities = Pct::new(actors, depth, steps, &mut seeds.stream(Stream::Schedule, run));
        let (chooser, violations) = judged(s, seed, Chooser::pct(bounds, priorities))?;
        search.schedules += 1;
        search.deepest = search.deepest.max(chooser.made.len());
        if !violations.is_empty() {
            // Replayed from the list, with room for every reordering PCT made.
            let replay = Bounds { reorders: bounds.reorders.max(chooser.budgets_used().0), ..bounds };
            search.found = Some((chooser.list(), replay, violations));
        }
    }
    search.seconds = wall_started.elapsed().as_secs_f64();
    Ok(search)
}

/// The `--set` value that gives a scenario these bounds and (unless empty) this choice list.
pub fn schedule_set(list: &str, b: &Bounds) -> String {
    let mut section = serde_json::json!({
        "window_ms": b.window.as_millis_f64(),
        "reorders": b.reorders,
        "drops": b.drops,
        "duplicates": b.duplicates,
        "faults": b.faults,
        "depth": b.depth,
    });
    if !list.is_empty() {
        section["choices"] = serde_json::Value::from(list);
    }
    format!("schedule={section}")
}
