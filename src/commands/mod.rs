//! The command line and what it runs beside a single simulation: sweeps, shrinking,
//! benchmarks, and the errors a user sees.

pub mod bench;
pub mod cli;
pub mod explore;
pub mod junit;
pub mod progress;
pub mod reference_model;
pub mod schedule_search;
pub mod shrink;
pub mod sweep;
