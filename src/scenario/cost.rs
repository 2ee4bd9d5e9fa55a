//! What a run will cost, estimated from the scenario before it starts: the events it will
//! process and the memory it will hold. A scenario over either bound is refused with the
//! field that drives the cost, so nothing is accepted that cannot finish or fit.
//!
//! The estimate is an upper-end guess, not a promise: operations are counted as if every one
//! took only its think time and two network legs (the client's request and the answer), each
//! operation as [`EVENTS_PER_OPERATION`] events, every periodic timer as firing on every node for
//! the whole run, and memory as the ring, nodes, keys and clients plus what the latency logs, the
//! history oracle and the sessions keep at most (each bounded by a setting). Memory is judged against the least of the machine's memory,
//! the process's address-space limit (`ulimit -v`) and its cgroup's memory limit.

use super::{Ctx, Scenario, ScenarioError};
use crate::cluster::ring::Strategy;
use crate::node::storage::StorageModel;
use crate::scenario::workload::{Arrivals, ValueModel};

/// What a run holds before its first event, by what it scales with (measured on release
/// builds: 10,000 nodes x 256 tokens take 392 MB, 2 x 10^7 keys 1.6 GB, 10^6 clients 798 MB).
const BYTES_PER_TOKEN: f64 = 160.0;
const BYTES_PER_NODE: f64 = 4096.0;
const BYTES_PER_KEY: f64 = 96.0;
const BYTES_PER_CLIENT: f64 = 1024.0;
/// A latency sample kept exactly (see [`crate::observe::latency`]).
const BYTES_PER_LATENCY_SAMPLE: f64 = 8.0;
/// The history oracle's cost of a write it has not pruned or folded: its parents, marks, its
/// acknowledgement and a session's reference to it (measured about 40; rounded up).
const BYTES_PER_WRITE: f64 = 64.0;
/// A client's session with a key: the client library's context, the oracle's judgement of it
/// and their places in the recency queues (measured about 250 where clients carry contexts).
const BYTES_PER_SESSION: f64 = 320.0;
/// Events per operation: the client's send and wake, the coordinator's legs to N replicas and
/// back, its timer (the quorum model measures 7 for N = 3 with every option off).
const EVENTS_PER_OPERATION: f64 = 12.0;
/// Work units one divergence sample costs per key and replica (a comparison, not an event).
const SAMPLE_WORK_PER_REPLICA: f64 = 1.0;

/// The most events (and sampling work) a run may be expected to take: about an hour of one
/// core at this machine's 1.5 million events per second.
pub const MAX_EVENTS: f64 = 5e9;
/// Address-space headroom beyond the estimate: growing vectors double, so a process briefly
/// holds up to twice what it keeps.
const HEADROOM: f64 = 1.5;

/// One thing a run's cost grows with: the field that drives it, what it is, and its share.
struct Term {
    field: &'static str,
    what: &'static str,
    amount: f64,
}

/// The run's estimated events and bytes, by term.
pub struct Estimate {
    events: Vec<Term>,
    bytes: Vec<Term>,
}

impl Estimate {
    pub fn events(&self) -> f64 {
        self.events.iter().map(|t| t.amount).sum()
    }

    pub fn bytes(&self) -> f64 {
        self.bytes.iter().map(|t| t.amount).sum()
    }
}

fn largest(terms: &[Term]) -> &Term {
    terms.iter().fold(&terms[0], |a, b| if b.amount > a.amount { b } else { a })
}

/// Estimates the scenario's cost (see the module's doc for the model).
pub fn estimate(s: &Scenario) -> Estimate {
    let operations = operations(s);
    Estimate { events: event_terms(s, operations), bytes: byte_terms(s, operations) }
}

/// Events per second of a timer with this period (none for a period of zero, meaning off).
fn per_s(period: crate::sim::engine::SimDuration) -> f64 {
    let ms = period.as_millis_f64();
    if ms > 0.0 {
        1000.0 / ms
    } else {
        0.0
    }
}

/// The operations the run's clients and probes are expected to issue.
fn operations(s: &Scenario) -> f64 {
    let traffic_s = s.duration.as_millis_f64() / 1000.0;
    let legs_ms = 2.0 * s.network.default.latency.mean_ms();
    let operations = match &s.workload.arrivals {
        Arrivals::Open { rate_per_s, profile, .. } => {
            rate_per_s * traffic_s * profile.as_ref().map_or(1.0, |p| p.mean_factor(s.duration.as_nanos()))
        }
        Arrivals::Closed { clients, think_time } => {
            // One nanosecond at least: the clock's resolution.
            let per_op_ms = (think_time.mean_ms() + legs_ms).max(1e-6);
            *clients as f64 * traffic_s * 1000.0 / per_op_ms
        }
    };
    let probe_operations = s.probe.as_ref().map_or(0.0, |pr| {
        let delays = pr.delays.iter().map(|d| d.as_millis_f64()).sum::<f64>() / pr.delays.len().max(1) as f64;
        let per_probe_ms = (pr.gap.mean_ms() + delays + 2.0 * legs_ms).max(1e-6);
        2.0 * pr.clients as f64 * traffic_s * 1000.0 / per_probe_ms
    });
    operations + probe_operations
}

/// Where the events go: operations, the nodes' timers, sampling, load windows and faults.
fn event_terms(s: &Scenario, operations: f64) -> Vec<Term> {
    let run_s = (s.duration.as_millis_f64() + s.quiescent_tail.as_millis_f64()) / 1000.0;
    let nodes = s.nodes.len() as f64;
    let keys = s.workload.key_count as f64;
    let p = &s.protocol;
    let mut timers_per_node_s = per_s(p.gossip_interval) + per_s(p.probe_interval);
    if p.anti_entropy {
        timers_per_node_s += per_s(p.anti_entropy_interval);
    }
    if p.hinted_handoff {
        timers_per_node_s += per_s(p.hint_scan_interval);
    }
    if let StorageModel::Buffered { flush_interval, .. } = p.storage {
        timers_per_node_s += per_s(flush_interval);
    }
    let nemesis_faults =
        s.nemesis.as_ref().map_or(0.0, |n| n.rate_per_s * (n.stop.as_millis_f64() - n.start.as_millis_f64()).max(0.0) / 1000.0);
    vec![
        Term { field: "duration_ms", what: "the workload's operations", amount: operations * EVENTS_PER_OPERATION },
        Term {
            field: "membership.gossip_interval_ms",
            what: "the nodes' periodic timers (gossip, probes, anti-entropy, hint scans, flushes)",
            amount: timers_per_node_s * nodes * run_s,
        },
        Term {
            field: "observe.divergence_interval_ms",
            what: "divergence sampling (every key's replicas, each sample)",
            amount: per_s(s.divergence_interval) * run_s * keys * p.n as f64 * SAMPLE_WORK_PER_REPLICA,
        },
        Term { field: "observe.load_window_ms", what: "the per-node load windows", amount: per_s(s.load_window) * run_s * nodes },
        Term { field: "nemesis.rate_per_s", what: "the nemesis's faults", amount: nemesis_faults * nodes },
    ]
}

/// Where the memory goes: the ring, nodes, keys, clients, latency samples, history and sessions.
fn byte_terms(s: &Scenario, operations: f64) -> Vec<Term> {
    let nodes = s.nodes.len() as f64;
    let keys = s.workload.key_count as f64;
    let weights: f64 = s.nodes.iter().map(|n| n.weight).sum();
    let tokens = match s.strategy {
        Strategy::RandomTokens { tokens_per_node } => tokens_per_node as f64 * weights,
        Strategy::RandomTokensEqualPartitions { tokens_per_node, partitions } => {
            tokens_per_node as f64 * weights + partitions as f64
        }
        Strategy::EqualPartitions { partitions } => partitions as f64,
    };
    let clients = s.workload.arrivals.clients() + s.probe.as_ref().map_or(0, |p| p.clients);
    vec![
        Term {
            field: "ring.tokens_per_node",
            what: "the ring's tokens (cluster.nodes x ring.tokens_per_node, or ring.partitions)",
            amount: tokens * BYTES_PER_TOKEN,
        },
        Term { field: "cluster.nodes", what: "the nodes", amount: nodes * BYTES_PER_NODE },
        Term { field: "workload.keys", what: "the keys", amount: keys * BYTES_PER_KEY },
        Term {
            field: "workload.arrivals.clients",
            what: "the clients (workload and probe)",
            amount: clients as f64 * BYTES_PER_CLIENT,
        },
        Term {
            field: "observe.exact_latency_samples",
            what: "the latency samples kept exactly (a log of gets and one of puts)",
            amount: operations.min(2.0 * s.exact_latency_samples as f64) * BYTES_PER_LATENCY_SAMPLE,
        },
        Term {
            field: "observe.history_prune_writes",
            what: "the history oracle's writes (all of them when it never prunes: carts, or 0)",
            amount: {
                let writes = operations * (1.0 - s.workload.read_fraction);
                let prunes = s.history_prune_writes > 0 && !matches!(s.workload.value_model, ValueModel::Cart { .. });
                // Between prunes; what survives is about a version per replica and a session's few.
                if prunes {
                    (writes.min(s.history_prune_writes as f64) + writes.min(keys * s.protocol.n as f64)) * BYTES_PER_WRITE
                } else {
                    writes * BYTES_PER_WRITE
                }
            },
        },
        Term {
            field: "workload.session_keys_per_client",
            what: "the clients' sessions (each client's keys, at most workload.session_keys_per_client)",
            // A client has at most a session per key it used: no more than the run's operations.
            amount: (clients as f64 * keys.min(s.workload.session_keys_per_client as f64)).min(operations) * BYTES_PER_SESSION,
        },
    ]
}

/// Refuses a scenario whose estimate exceeds [`MAX_EVENTS`] or `memory` bytes (with headroom),
/// naming the field whose term is largest.
pub(super) fn check(ctx: &Ctx, s: &Scenario, memory: Option<u64>) -> Result<(), ScenarioError> {
    let e = estimate(s);
    let events = e.events();
    // Blame the term's field where the file sets it; else the time the cost accrues over.
    let time = if s.quiescent_tail > s.duration { "quiescent_tail_ms" } else { "duration_ms" };
    let blame = |field: &str, message: String| {
        let err = ctx.err(field, message.clone());
        if err.position.is_some() {
            err
        } else {
            ctx.err(time, message)
        }
    };
    // NaN (an infinite term less another) counts as too many.
    if events.is_nan() || events > MAX_EVENTS {
        let t = largest(&e.events);
        return Err(blame(
            t.field,
            format!(
                "the run would take about {events:.2e} events in {:.3e} simulated seconds, {:.2e} of them for {}; \
                 expected at most {MAX_EVENTS:.0e} (about an hour of CPU): a shorter run (duration_ms, \
                 quiescent_tail_ms), a larger {}, or fewer clients",
                (s.duration.as_millis_f64() + s.quiescent_tail.as_millis_f64()) / 1000.0,
                t.amount,
                t.what,
                t.field
            ),
        ));
    }
    let Some(memory) = memory else { return Ok(()) };
    let bytes = e.bytes() * HEADROOM;
    if bytes <= memory as f64 {
        return Ok(());
    }
    let gib = |b: f64| b / (1u64 << 30) as f64;
    let t = largest(&e.bytes);
    Err(blame(
        t.field,
        format!(
            "the run would need about {:.1} GiB, {:.1} GiB of it for {}, more than the {:.1} GiB this process may use \
             (the least of the machine's memory, ulimit -v and the cgroup's limit, less headroom for growth); \
             expected a smaller cluster, ring, key space, client count or a shorter run",
            gib(bytes),
            gib(t.amount * HEADROOM),
            t.what,
            gib(memory as f64)
        ),
    ))
}

/// The memory this process may use: the least of the machine's memory, the address-space
/// limit (`ulimit -v`) and the cgroup's memory limit (v2 or v1), where the system says
/// (Linux); elsewhere no bound applies.
pub fn memory_limit() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let kib =
            info.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse::<u64>().ok()?;
        Some(kib * 1024)
    });
    // "Max address space   unlimited   unlimited   bytes": the soft limit is the first number.
    let address_space = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits.lines().find(|l| l.starts_with("Max address space"))?.split_whitespace().nth(3)?.parse::<u64>().ok()
    });
    let cgroup = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|f| std::fs::read_to_string(f).ok()?.trim().parse::<u64>().ok());
    [machine, address_space, cgroup].into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Scenario, ScenarioError> {
        crate::scenario::load("t.json", text, &[])
    }

    #[test]
    fn a_scenario_too_large_for_the_memory_names_the_sizes_and_the_estimate() {
        let big = load(r#"{"duration_ms": 1, "cluster": {"nodes": 100}, "ring": {"tokens_per_node": 4096}}"#).expect("valid");
        let text = r#"{"duration_ms": 1, "ring": {"tokens_per_node": 4096}}"#;
        let ctx = Ctx { file: "t.json", text };
        // 100 nodes x 4096 tokens x 160 bytes = 66 MB, x 1.5 headroom: over a 64 MiB limit.
        let e = check(&ctx, &big, Some(64 << 20)).expect_err("over 64 MiB");
        assert_eq!(e.path, "ring.tokens_per_node");
        assert!(e.message.contains("0.1 GiB") && e.message.contains("ulimit -v"), "{e}");
        assert!(check(&ctx, &big, Some(1 << 30)).is_ok());
        assert!(check(&ctx, &big, None).is_ok(), "no memory bound where memory is unknown");
    }

    #[test]
    fn a_run_that_would_not_finish_is_refused_by_the_field_that_drives_it() {
        // Ten clients at 2 ms an operation for a simulated year.
        let e = load(r#"{"duration_ms": 3.15e10}"#).expect_err("a year of traffic");
        assert_eq!(e.path, "duration_ms");
        assert!(e.message.contains("events") && e.message.contains("at most 5e9"), "{e}");
        let e = load(r#"{"duration_ms": 1000, "quiescent_tail_ms": 1e12}"#).expect_err("31 years of timers");
        assert!(e.message.contains("quiescent_tail_ms") && e.message.contains("1.000e9 simulated seconds"), "{e}");
        let e = load(r#"{"duration_ms": 60000, "workload": {"keys": 1000000}, "observe": {"divergence_interval_ms": 1}}"#)
            .expect_err("a sample of every key each millisecond");
        assert_eq!(e.path, "observe.divergence_interval_ms");
        assert!(load(r#"{"duration_ms": 60000}"#).is_ok());
    }
}
