//! Each node's disk: a FIFO server of its own, apart from the node's CPU, whose reads and
//! writes each take a draw of `storage.read_time` or `storage.write_time` (scaled by the
//! node's slow factor), and a scan queue at the capacity's `scan_mb_per_s` for background reads
//! of the store (tree builds, the scan that finds a handoff's keys).
//!
//! A handler's disk reads, then its writes, start when its CPU work ends, one after another and
//! after anything already queued; what the handler sends leaves when the last of them is done
//! (a replica answers a read once it has the object, and acknowledges a durable write once it
//! is on disk; a coordinator writes locally before it replicates, Dynamo §4.5). The node keeps
//! serving other requests meanwhile, as its other threads would. Background scans queue behind
//! each other at their throttled rate and do not delay foreground reads and writes, as a
//! throttled compaction leaves the rest of the disk to them. A crash empties the queues.

use crate::observe::metrics::Busy;
use crate::scenario::DiskTimes;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::rng::{Seeds, SimRng, Stream};

pub(super) struct Disks {
    times: DiskTimes,
    busy_until: Vec<SimTime>,
    scan_free: Vec<SimTime>,
    /// Nanoseconds per byte a scan reads (0: unbounded).
    scan_ns_per_byte: f64,
    rng: Vec<SimRng>,
}

impl Disks {
    pub(super) fn new(times: &DiskTimes, scan_bytes_per_s: f64, seeds: &Seeds, nodes: usize) -> Disks {
        Disks {
            times: times.clone(),
            busy_until: vec![SimTime::ZERO; nodes],
            scan_free: vec![SimTime::ZERO; nodes],
            scan_ns_per_byte: if scan_bytes_per_s.is_finite() { 1e9 / scan_bytes_per_s } else { 0.0 },
            rng: (0..nodes).map(|i| seeds.stream(Stream::Disk, i as u64)).collect(),
        }
    }

    /// Queues `reads` then `writes` at node `i`, issued at `issued`; returns when they are done.
    pub(super) fn access(&mut self, i: usize, reads: u32, writes: u32, issued: SimTime, slow: f64, busy: &mut Busy) -> SimTime {
        let mut done = issued.max(self.busy_until[i]);
        let mut queued = false;
        for (count, time) in [(reads, &self.times.read), (writes, &self.times.write)] {
            if count == 0 || time.is_zero() {
                continue;
            }
            queued = true;
            for _ in 0..count {
                let took = SimDuration((time.sample(&mut self.rng[i]).0 as f64 * slow) as u64);
                busy.disk_ns += took.0;
                done = done.after(took);
            }
        }
        if !queued {
            return issued;
        }
        self.busy_until[i] = done;
        done
    }

    /// A background read of `bytes` of node `i`'s store, issued at `issued`: when it is done.
    pub(super) fn scan(&mut self, i: usize, bytes: u64, issued: SimTime, slow: f64, busy: &mut Busy) -> SimTime {
        busy.bytes_scanned += bytes;
        let took = SimDuration((bytes as f64 * self.scan_ns_per_byte * slow) as u64);
        if took.0 == 0 {
            return issued;
        }
        busy.scan_ns += took.0;
        let done = issued.max(self.scan_free[i]).after(took);
        self.scan_free[i] = done;
        done
    }

    /// A crash: the work still queued never happens.
    pub(super) fn crash(&mut self, i: usize, now: SimTime) {
        self.busy_until[i] = now;
        self.scan_free[i] = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::distribution::Distribution;

    fn disks(write_ms: f64, read_ms: f64, scan_bytes_per_s: f64) -> Disks {
        let times = DiskTimes { write: Distribution::Constant { ms: write_ms }, read: Distribution::Constant { ms: read_ms } };
        Disks::new(&times, scan_bytes_per_s, &Seeds::new(1), 2)
    }

    #[test]
    fn reads_and_writes_queue_behind_each_other_and_a_crash_empties_the_queue() {
        let mut d = disks(2.0, 0.5, f64::INFINITY);
        let mut busy = Busy::default();
        let ms = |t: SimTime| t.as_millis_f64();
        assert_eq!(ms(d.access(0, 0, 2, SimTime::ZERO, 1.0, &mut busy)), 4.0);
        assert_eq!(ms(d.access(0, 0, 1, SimTime::ZERO, 1.0, &mut busy)), 6.0, "queued behind the first two");
        assert_eq!(ms(d.access(0, 1, 0, SimTime::ZERO, 1.0, &mut busy)), 6.5, "a read waits behind the writes");
        assert_eq!(ms(d.access(1, 1, 1, SimTime::ZERO, 3.0, &mut busy)), 7.5, "another node's disk, three times slower");
        assert_eq!(d.access(0, 0, 0, SimTime(7), 1.0, &mut busy), SimTime(7), "no access, no wait");
        assert_eq!(busy.disk_ns, 14_000_000);
        d.crash(0, SimTime(1_000_000));
        assert_eq!(ms(d.access(0, 0, 1, SimTime(1_000_000), 1.0, &mut busy)), 3.0);
    }

    #[test]
    fn scans_take_their_bytes_at_the_scan_rate_apart_from_foreground_access() {
        let mut d = disks(1.0, 1.0, 1e6); // a byte a microsecond
        let mut busy = Busy::default();
        assert_eq!(d.scan(0, 1000, SimTime::ZERO, 1.0, &mut busy), SimTime(1_000_000));
        assert_eq!(d.scan(0, 1000, SimTime::ZERO, 2.0, &mut busy), SimTime(3_000_000), "queued, on a slowed node");
        assert_eq!(d.access(0, 1, 0, SimTime::ZERO, 1.0, &mut busy), SimTime(1_000_000), "a read does not wait for scans");
        assert_eq!((busy.bytes_scanned, busy.scan_ns), (2000, 3_000_000));
        let mut unbounded = disks(0.0, 0.0, f64::INFINITY);
        assert_eq!(unbounded.scan(0, 1 << 30, SimTime(5), 1.0, &mut busy), SimTime(5));
    }
}
