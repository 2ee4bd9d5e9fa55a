//! Simulation kernel, knowing nothing of Dynamo: virtual time and the event queue, seeded
//! random streams, latency distributions, ids and small containers, and parallel runs.

pub mod distribution;
pub mod engine;
pub mod fastmap;
pub mod ids;
pub mod keymap;
pub mod parallel;
pub mod recency;
pub mod rng;
pub mod schedule;
