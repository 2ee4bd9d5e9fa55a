//! Each node's CPU cores and network interface as FIFO servers, and the time each is busy.
//!
//! A server's departure time is computed when work arrives (the later of its arrival and the
//! moment a server is free, plus its service time), so queueing needs no event of its own: a
//! request that must wait gets one event, when its service starts, as it did with one core.
//! CPU work is served first come first served by the first free core (M/G/c). A message's
//! bytes take `size / bandwidth` on the sender's interface, queued behind what it sent before,
//! and again on the receiver's when it arrives (see [`Resources::receive`]). Background streams
//! (hints, range transfers) are paced at the stream rate on a queue of their own, as a
//! throttled stream leaves the rest of the interface to foreground messages. A crash empties
//! the node's queues.

use crate::observe::metrics::Busy;
use crate::scenario::capacity::Capacity;
use crate::sim::engine::{SimDuration, SimTime};

pub(super) struct Resources {
    cores: usize,
    /// Per node then per core: when it is next free.
    core_free: Vec<SimTime>,
    nic_out_free: Vec<SimTime>,
    /// When each node's background stream is next free (see the module's comment).
    stream_free: Vec<SimTime>,
    /// Per node, the latest departure its interface queue has served: a message handed over
    /// with an earlier one (a handler's sends leave when its disk writes are done, so they
    /// come out of time order) goes out beside the queue instead of behind later traffic.
    latest_depart: Vec<SimTime>,
    /// Nanoseconds per byte, each way and for background streams (0: unbounded).
    ns_per_byte: f64,
    stream_ns_per_byte: f64,
    /// Per node: its CPU time multiplier (a weaker machine).
    factor: Vec<f64>,
    pub busy: Vec<Busy>,
}

impl Resources {
    /// `cores`: one for the single-server service-time model, else the capacity's.
    pub(super) fn new(capacity: &Capacity, cores: usize, factors: Vec<f64>) -> Resources {
        let nodes = factors.len();
        let per_byte = |rate: f64| if rate.is_finite() { 1e9 / rate } else { 0.0 };
        Resources {
            cores: cores.max(1),
            core_free: vec![SimTime::ZERO; nodes * cores.max(1)],
            nic_out_free: vec![SimTime::ZERO; nodes],
            stream_free: vec![SimTime::ZERO; nodes],
            latest_depart: vec![SimTime::ZERO; nodes],
            ns_per_byte: per_byte(capacity.nic_bytes_per_s),
            stream_ns_per_byte: per_byte(capacity.stream_bytes_per_s),
            factor: factors,
            busy: vec![Busy::default(); nodes],
        }
    }

    /// Whether bytes take any time (otherwise sizes need not be computed).
    pub(super) fn bounded(&self) -> bool {
        self.ns_per_byte > 0.0
    }

    /// CPU work of `cost` (before the node's factor and `slow`) arriving at `at`: returns when
    /// its service starts and how long it takes.
    pub(super) fn cpu(&mut self, node: usize, at: SimTime, cost: u64, slow: f64) -> (SimTime, SimDuration) {
        let service = SimDuration((cost as f64 * self.factor[node] * slow) as u64);
        let cores = &mut self.core_free[node * self.cores..(node + 1) * self.cores];
        let (core, free) = cores.iter().enumerate().min_by_key(|(_, t)| **t).map_or((0, SimTime::ZERO), |(i, t)| (i, *t));
        let start = at.max(free);
        cores[core] = start.after(service);
        self.busy[node].cpu_ns += service.0;
        (start, service)
    }

    fn bytes_time(&self, node: usize, bytes: usize, stream: bool, slow: f64) -> SimDuration {
        let per_byte = if stream { self.stream_ns_per_byte } else { self.ns_per_byte };
        SimDuration((bytes as f64 * per_byte * self.factor[node] * slow) as u64)
    }

    /// A message of `bytes` leaving `node` at `at`: when its last byte is on the wire.
    pub(super) fn send(&mut self, node: usize, at: SimTime, bytes: usize, stream: bool, slow: f64) -> SimTime {
        self.busy[node].bytes_out += bytes as u64;
        let wire = self.bytes_time(node, bytes, false, slow);
        self.busy[node].nic_out_ns += wire.0;
        let (free, t) = if stream {
            let t = self.bytes_time(node, bytes, true, slow);
            (&mut self.stream_free[node], t)
        } else {
            (&mut self.nic_out_free[node], wire)
        };
        if t.0 == 0 {
            return at;
        }
        if at < self.latest_depart[node] {
            return at.after(t);
        }
        self.latest_depart[node] = at;
        let done = at.max(*free).after(t);
        *free = done;
        done
    }

    /// The same message arriving at `node` at `at`: when the node has all of it. Inbound bytes
    /// take their time but do not queue: reserving the interface in the order messages were
    /// sent would stop a later message from overtaking an earlier one on another path, which
    /// networks do (and staleness depends on). Inbound saturation is therefore not modelled; at
    /// the default rates it needs more than five full-rate streams into one node.
    pub(super) fn receive(&mut self, node: usize, at: SimTime, bytes: usize, stream: bool, slow: f64) -> SimTime {
        self.busy[node].bytes_in += bytes as u64;
        let t = self.bytes_time(node, bytes, stream, slow);
        self.busy[node].nic_in_ns += t.0;
        at.after(t)
    }

    /// A crash: the work still queued never happens.
    pub(super) fn crash(&mut self, node: usize, now: SimTime) {
        for t in &mut self.core_free[node * self.cores..(node + 1) * self.cores] {
            *t = now;
        }
        self.nic_out_free[node] = now;
        self.stream_free[node] = now;
        self.latest_depart[node] = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_queues_for_the_first_free_core_and_bytes_queue_on_each_interface() {
        let mut capacity = Capacity::DEFAULT;
        capacity.nic_bytes_per_s = 1e9; // a byte a nanosecond
        let mut r = Resources::new(&capacity, 2, vec![1.0, 2.0]);
        let t = |ns: u64| SimTime(ns);
        assert_eq!(r.cpu(0, t(0), 100, 1.0), (t(0), SimDuration(100)));
        assert_eq!(r.cpu(0, t(0), 100, 1.0), (t(0), SimDuration(100)), "the second core");
        assert_eq!(r.cpu(0, t(10), 100, 1.0), (t(100), SimDuration(100)), "both busy: it waits");
        assert_eq!(r.cpu(1, t(0), 100, 1.5), (t(0), SimDuration(300)), "a weaker machine, slowed down");
        assert_eq!(r.busy[0].cpu_ns, 300);
        assert_eq!(r.send(0, t(0), 1000, false, 1.0), t(1000));
        assert_eq!(r.send(0, t(500), 1000, false, 1.0), t(2000), "behind the first message's bytes");
        assert_eq!(r.send(0, t(5000), 1000, true, 1.0), t(5000 + 40_000), "a stream at 25 MB/s");
        assert_eq!(r.send(0, t(5000), 1000, false, 1.0), t(6000), "foreground bytes do not wait for the stream");
        assert_eq!(r.send(0, t(5000), 1000, true, 1.0), t(5000 + 80_000), "streams queue behind each other");
        assert_eq!(r.send(0, t(4000), 1000, false, 1.0), t(5000), "an earlier departure does not wait behind later ones");
        assert_eq!(r.receive(1, t(0), 1000, false, 1.0), t(2000), "the receiver's factor halves its bandwidth");
        assert_eq!(r.receive(1, t(0), 1000, false, 1.0), t(2000), "inbound bytes do not queue");
        r.crash(0, t(10_000));
        assert_eq!(r.cpu(0, t(10_000), 100, 1.0).0, t(10_000), "a crash empties the queues");
        assert_eq!(r.send(0, t(10_000), 10, false, 1.0), t(10_010));
    }

    #[test]
    fn infinite_capacity_costs_nothing() {
        let mut r = Resources::new(&Capacity::INFINITE, 1, vec![1.0]);
        assert_eq!(r.send(0, SimTime(7), 1 << 20, false, 1.0), SimTime(7));
        assert_eq!(r.receive(0, SimTime(7), 1 << 20, true, 1.0), SimTime(7));
        assert_eq!(r.cpu(0, SimTime(7), 0, 1.0), (SimTime(7), SimDuration(0)));
    }
}
