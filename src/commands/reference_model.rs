//! The yardstick of `dynasim bench`'s `model` row: a minimal simulator of the same quorum
//! exchange as `scenarios/quorum-model.json`, written the way a short research script would be
//! (a binary heap of events, one ChaCha stream, one version counter per replica and key). It
//! lives in the bench, not in the simulator: it has no faults, no oracle, no versions beyond a
//! counter, and nothing else dynasim models; its only use is to price dynasim's generality.
//!
//! Per operation it handles the events dynasim handles for that scenario: its request reaching
//! the coordinator (the key's first replica, which applies it locally), the request to each
//! other replica, each answer, and the reply to the client: six. As in dynasim, a client with
//! no think time issues its next operation at its reply, with no event of its own.

use crate::sim::rng::{splitmix64, unit_open0, Draw, Seeds, SimRng, Stream};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The model's parameters; [`Model::QUORUM`] is the scenario's.
pub struct Model {
    pub nodes: usize,
    pub tokens_per_node: usize,
    pub keys: usize,
    pub n: usize,
    /// Answers (the coordinator's own included) that complete a get, and a put.
    pub r: usize,
    pub w: usize,
    pub clients: usize,
    pub read_fraction: f64,
    pub mean_latency_ms: f64,
    pub duration_ms: f64,
}

impl Model {
    pub const QUORUM: Model = Model {
        nodes: 16,
        tokens_per_node: 8,
        keys: 100_000,
        n: 3,
        r: 2,
        w: 2,
        clients: 100,
        read_fraction: 0.5,
        mean_latency_ms: 1.0,
        duration_ms: 10_000.0,
    };
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The client starts its first operation.
    Issue { client: u32 },
    /// The request reaches the coordinator.
    Request { client: u32 },
    /// A replica receives the coordinator's request for operation `op` of `client`.
    Replica { client: u32, op: u32, key: u32, node: u16, put: bool },
    /// A replica's answer reaches the coordinator.
    Answer { client: u32, op: u32, version: u32 },
    /// The coordinator's reply reaches the client.
    Reply { client: u32 },
}

struct Operation {
    op: u32,
    key: u32,
    put: bool,
    answers: u8,
    replied: bool,
    version: u32,
}

pub struct Outcome {
    pub operations: u64,
    pub events: u64,
    /// A checksum of what the gets read, so the work cannot be optimised away.
    pub checksum: u64,
}

struct Sim {
    rng: SimRng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    mean_ns: f64,
}

impl Sim {
    fn at(&mut self, delay: u64, e: Event) {
        self.seq += 1;
        self.queue.push(Reverse((self.now + delay, self.seq, e)));
    }

    fn latency(&mut self) -> u64 {
        (-unit_open0(&mut self.rng).ln() * self.mean_ns) as u64
    }
}

pub fn run(m: &Model, seed: u64) -> Outcome {
    let mut sim = Sim {
        rng: Seeds::new(seed).stream(Stream::Workload, 0),
        now: 0,
        seq: 0,
        queue: BinaryHeap::new(),
        mean_ns: m.mean_latency_ms * 1e6,
    };
    let mut ring: Vec<(u64, u16)> =
        (0..m.nodes * m.tokens_per_node).map(|i| (sim.rng.next_word(), (i / m.tokens_per_node) as u16)).collect();
    ring.sort_unstable();
    let replicas = |key: u32| -> Vec<u16> {
        // A key's ring position: SplitMix64 of its number.
        let at = ring.partition_point(|t| t.0 < splitmix64(key as u64));
        let mut out = Vec::with_capacity(m.n);
        for k in 0..ring.len() {
            let node = ring[(at + k) % ring.len()].1;
            if !out.contains(&node) {
                out.push(node);
                if out.len() == m.n {
                    break;
                }
            }
        }
        out
    };
    let mut versions = vec![0u32; m.nodes * m.keys];
    let mut ops: Vec<Operation> =
        (0..m.clients).map(|_| Operation { op: 0, key: 0, put: false, answers: 0, replied: true, version: 0 }).collect();
    for client in 0..m.clients as u32 {
        sim.at(0, Event::Issue { client });
    }
    let end = (m.duration_ms * 1e6) as u64;
    let (mut operations, mut events, mut checksum) = (0u64, 0u64, 0u64);
    while let Some(Reverse((t, _, e))) = sim.queue.pop() {
        if t > end {
            break;
        }
        sim.now = t;
        events += 1;
        match e {
            Event::Issue { client } => issue(m, &mut ops[client as usize], &mut sim, client),
            Event::Request { client } => {
                let (key, put, op) = (ops[client as usize].key, ops[client as usize].put, ops[client as usize].op);
                let nodes = replicas(key);
                // The coordinator is the first replica: its own copy answers at once.
                let own = &mut versions[nodes[0] as usize * m.keys + key as usize];
                *own += u32::from(put);
                let version = *own;
                answer(&mut ops[client as usize], version, if put { m.w } else { m.r }, &mut sim, client);
                for &node in &nodes[1..] {
                    let d = sim.latency();
                    sim.at(d, Event::Replica { client, op, key, node, put });
                }
            }
            Event::Replica { client, op, key, node, put } => {
                // Applied even when the operation has completed: the last replica's copy.
                let slot = &mut versions[node as usize * m.keys + key as usize];
                *slot += u32::from(put);
                let version = *slot;
                let d = sim.latency();
                sim.at(d, Event::Answer { client, op, version });
            }
            Event::Answer { client, op, version } => {
                let o = &mut ops[client as usize];
                if o.op == op {
                    let need = if o.put { m.w } else { m.r };
                    answer(o, version, need, &mut sim, client);
                }
            }
            Event::Reply { client } => {
                operations += 1;
                checksum = checksum.wrapping_add(ops[client as usize].version as u64);
                issue(m, &mut ops[client as usize], &mut sim, client);
            }
        }
    }
    Outcome { operations, events, checksum }
}

/// Starts a client's next operation: its request leaves for the coordinator.
fn issue(m: &Model, o: &mut Operation, sim: &mut Sim, client: u32) {
    o.op += 1;
    o.key = (sim.rng.next_word() % m.keys as u64) as u32;
    o.put = unit_open0(&mut sim.rng) >= m.read_fraction;
    (o.answers, o.replied, o.version) = (0, false, 0);
    let d = sim.latency();
    sim.at(d, Event::Request { client });
}

/// Counts an answer; the `need`-th sends the reply to the client.
fn answer(o: &mut Operation, version: u32, need: usize, sim: &mut Sim, client: u32) {
    o.answers += 1;
    o.version = o.version.max(version);
    if !o.replied && o.answers as usize >= need {
        o.replied = true;
        let d = sim.latency();
        sim.at(d, Event::Reply { client });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_completes_operations_at_the_expected_pace_with_six_events_each() {
        let m = Model { duration_ms: 2_000.0, ..Model::QUORUM };
        let out = run(&m, 1);
        // 100 clients, each operation about 1 + 1.5 + 1 ms of latency (the second of two
        // exponential round trips): roughly 100 / 3.5 ms = 28,000 operations a second.
        let per_second = out.operations as f64 / 2.0;
        assert!((20_000.0..40_000.0).contains(&per_second), "{per_second}");
        let per_op = out.events as f64 / out.operations as f64;
        assert!((5.8..6.2).contains(&per_op), "{per_op} events per operation");
        assert_eq!(run(&m, 1).checksum, out.checksum, "deterministic");
    }
}
