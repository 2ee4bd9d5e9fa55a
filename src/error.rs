//! The errors a user can meet: bad input (scenario, arguments) and real I/O failures.
//! Simulated faults are never errors. Every error maps to exit code 2.

use crate::scenario::ScenarioError;
use std::fmt;
use std::path::Path;

#[derive(Debug)]
pub enum Error {
    Scenario(ScenarioError),
    Io { action: &'static str, path: String, source: std::io::Error },
    Usage(String),
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
        }
    }
}

impl std::error::Error for Error {}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Self {
        Error::Scenario(e)
    }
}
