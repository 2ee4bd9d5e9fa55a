//! dynasim: a deterministic discrete-event simulator of a Dynamo-style key-value store.
//!
//! Data flows one way: scenario (parse + validate) -> world (nodes, network, clients) ->
//! engine loop -> observers (metrics, history oracle) -> report.

pub mod bench;
pub mod checks;
pub mod cli;
pub mod client;
pub mod convergence;
pub mod distribution;
pub mod engine;
pub mod error;
pub mod fastmap;
pub mod history;
pub mod ids;
pub mod inline_vec;
pub mod jsonpos;
pub mod keymap;
pub mod keyspace;
pub mod membership;
pub mod merkle;
pub mod message;
pub mod metrics;
pub mod nemesis;
pub mod network;
pub mod node;
pub mod parallel;
pub mod plots;
pub mod presets;
pub mod report;
pub mod ring;
pub mod rng;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod trace;
pub mod versioning;
pub mod world;

use scenario::Scenario;
use world::{RunResult, World};

/// Runs one scenario under one seed.
pub fn simulate(scenario: &Scenario, seed: u64) -> RunResult {
    World::new(scenario, seed).run()
}

/// Runs one scenario under one seed with a trace; returns the result and the tracer.
pub fn simulate_traced(scenario: &Scenario, seed: u64, tracer: trace::Tracer) -> (RunResult, Option<trace::Tracer>) {
    let mut world = World::new(scenario, seed);
    world.set_tracer(tracer);
    world.run_traced()
}

/// Runs one scenario under one seed and returns its report (the bytes `report.json` holds).
pub fn run_report(scenario: &Scenario, seed: u64) -> serde_json::Value {
    report::build(scenario, seed, &simulate(scenario, seed))
}
