//! Each node's disk: a FIFO server of its own, apart from the node's request queue, whose
//! writes each take a `storage.write_time` draw (scaled by the node's slow factor).
//!
//! A handler's disk writes start when its service time ends, one after another and after any
//! write already queued; what the handler sends leaves when the last of them is done (a replica
//! acknowledges a durable write once it is on disk; a coordinator writes locally before it
//! replicates, Dynamo §4.5). The node keeps serving other requests meanwhile, as its other
//! threads would. A crash empties the queue.

use crate::sim::distribution::Distribution;
use crate::sim::engine::SimTime;
use crate::sim::rng::{Seeds, SimRng, Stream};

pub(super) struct Disks {
    write_time: Distribution,
    busy_until: Vec<SimTime>,
    rng: Vec<SimRng>,
}

impl Disks {
    pub(super) fn new(write_time: &Distribution, seeds: &Seeds, nodes: usize) -> Disks {
        Disks {
            write_time: write_time.clone(),
            busy_until: vec![SimTime::ZERO; nodes],
            rng: (0..nodes).map(|i| seeds.stream(Stream::Disk, i as u64)).collect(),
        }
    }

    /// Queues `writes` disk writes at node `i` issued at `issued`; returns when they are done.
    pub(super) fn write(&mut self, i: usize, writes: u32, issued: SimTime, slow_factor: f64) -> SimTime {
        if writes == 0 || self.write_time.is_zero() {
            return issued;
        }
        let mut done = issued.max(self.busy_until[i]);
        for _ in 0..writes {
            let drawn = self.write_time.sample(&mut self.rng[i]);
            done = done.after(crate::sim::engine::SimDuration((drawn.0 as f64 * slow_factor) as u64));
        }
        self.busy_until[i] = done;
        done
    }

    /// A crash: the writes still queued never happen.
    pub(super) fn crash(&mut self, i: usize, now: SimTime) {
        self.busy_until[i] = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_queue_behind_each_other_and_a_crash_empties_the_queue() {
        let mut disks = Disks::new(&Distribution::Constant { ms: 2.0 }, &Seeds::new(1), 2);
        let ms = |t: SimTime| t.as_millis_f64();
        assert_eq!(ms(disks.write(0, 2, SimTime::ZERO, 1.0)), 4.0);
        assert_eq!(ms(disks.write(0, 1, SimTime::ZERO, 1.0)), 6.0, "queued behind the first two");
        assert_eq!(ms(disks.write(1, 1, SimTime::ZERO, 3.0)), 6.0, "another node's disk, three times slower");
        assert_eq!(disks.write(0, 0, SimTime(7), 1.0), SimTime(7), "no writes, no wait");
        disks.crash(0, SimTime(1_000_000));
        assert_eq!(ms(disks.write(0, 1, SimTime(1_000_000), 1.0)), 3.0);
    }
}
