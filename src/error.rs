//! The errors a user can meet: bad input (scenario, arguments) and real I/O failures.
//! Simulated faults are never errors. Every error maps to exit code 2.

use crate::scenario::ScenarioError;
use crate::sim::engine::{Limit, SimTime};
use std::fmt;
use std::path::Path;

#[derive(Debug)]
pub enum Error {
    Scenario(ScenarioError),
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    Usage(String),
    /// A run hit a bound of the simulator (see [`crate::sim::engine::Limit`]) and ended early.
    Limit {
        scenario: String,
        seed: u64,
        at: SimTime,
        limit: Limit,
    },
}

impl Error {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Error {
        Error::Io { action, path: path.display().to_string(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Scenario(e) => e.fmt(f),
            Error::Io { action, path, source } => write!(f, "{path}: cannot {action}: {source}"),
            Error::Usage(m) => f.write_str(m),
            Error::Limit { scenario, seed, at, limit } => write!(
                f,
                "scenario {scenario}, seed {seed}: the run stopped at {at}: {limit}; expected a scenario within the \
                 simulator's bounds (see docs/scenarios.md, Limits)"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Self {
        Error::Scenario(e)
    }
}
