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

/// Runs one scenario under one seed; an error if the run hit a bound of the simulator.
pub fn simulate(scenario: &Scenario, seed: u64) -> Result<RunResult, error::Error> {
    finished(scenario, seed, World::new(scenario, seed).run())
}

/// Runs one scenario under one seed with its open choices made by `chooser` (a schedule
/// search's); the result hands the chooser back with the choices it made.
pub fn simulate_scheduled(scenario: &Scenario, seed: u64, chooser: sim::schedule::Chooser) -> Result<RunResult, error::Error> {
    let mut world = World::new(scenario, seed);
    world.set_chooser(chooser);
    finished(scenario, seed, world.run())
}

/// Runs one scenario under one seed with a trace; returns the result and the tracer.
pub fn simulate_traced(
    scenario: &Scenario,
    seed: u64,
    tracer: observe::trace::Tracer,
) -> Result<(RunResult, Option<observe::trace::Tracer>), error::Error> {
    simulate_with(scenario, seed, Some(tracer), false)
}

/// Runs one scenario under one seed, with a trace if given, and recording every client
/// operation (`RunResult::client_history`) if asked.
pub fn simulate_with(
    scenario: &Scenario,
    seed: u64,
    tracer: Option<observe::trace::Tracer>,
    client_history: bool,
) -> Result<(RunResult, Option<observe::trace::Tracer>), error::Error> {
    let mut world = World::new(scenario, seed);
    if let Some(tracer) = tracer {
        world.set_tracer(tracer);
    }
    if client_history {
        world.record_client_history();
    }
    let (result, tracer) = world.run_traced();
    Ok((finished(scenario, seed, result)?, tracer))
}

/// Runs one scenario under one seed and returns its report (the bytes `report.json` holds).
pub fn run_report(scenario: &Scenario, seed: u64) -> Result<serde_json::Value, error::Error> {
    Ok(report::build(scenario, seed, &simulate(scenario, seed)?))
}

fn finished(scenario: &Scenario, seed: u64, result: RunResult) -> Result<RunResult, error::Error> {
    if let Some(mismatch) = result.chooser.as_ref().and_then(|c| c.misfit()) {
        return Err(error::Error::Usage(format!(
            "scenario {}, seed {seed}: schedule.choices does not fit this run: {mismatch}; expected a list explore printed for this scenario, seed and overrides",
            scenario.name
        )));
    }
    match result.stopped {
        None => Ok(result),
        Some((at, limit)) => Err(error::Error::Limit { scenario: scenario.name.clone(), seed, at, limit }),
    }
}
