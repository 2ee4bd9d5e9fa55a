//! The integration tests: whole simulations, the command line and the published figures, one
//! module per subject, compiled into a single test binary.

mod common;

mod capacity;
mod checker_power;
mod checks;
mod cli;
mod descriptions;
mod determinism;
mod external_checker;
mod faults;
mod fuzz;
mod history_export;
mod long_runs;
mod membership;
mod output_safety;
mod plots;
mod properties;
mod protocol;
mod published;
mod repair;
mod scenarios;
mod schedule;
mod schema;
mod sessions;
mod shrink;
mod sweep;
mod systems;
mod trace;
