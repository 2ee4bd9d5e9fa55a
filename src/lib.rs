//! dynasim: a deterministic discrete-event simulator of a Dynamo-style key-value store.
//!
//! Data flows one way: scenario (parse + validate) -> world (nodes, network, clients) ->
//! engine loop -> observers (metrics, history oracle) -> report.

pub mod cluster;
pub mod commands;
pub mod error;
pub mod node;
pub mod observe;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod world;

use observe::RunResult;
use scenario::Scenario;
use world::World;

/// Runs one scenario under one seed.
pub fn simulate(scenario: &Scenario, seed: u64) -> RunResult {
    World::new(scenario, seed).run()
}

/// Runs one scenario under one seed with a trace; returns the result and the tracer.
pub fn simulate_traced(
    scenario: &Scenario,
    seed: u64,
    tracer: observe::trace::Tracer,
) -> (RunResult, Option<observe::trace::Tracer>) {
    let mut world = World::new(scenario, seed);
    world.set_tracer(tracer);
    world.run_traced()
}

/// Runs one scenario under one seed and returns its report (the bytes `report.json` holds).
pub fn run_report(scenario: &Scenario, seed: u64) -> serde_json::Value {
    report::build(scenario, seed, &simulate(scenario, seed))
}
