//! Observers of a run, never seen by the nodes: metrics, the history oracle, convergence,
//! the trace, and the invariant checks built on them.

pub mod checks;
pub mod convergence;
pub mod history;
pub mod metrics;
pub mod trace;
