//! Each node's machine: CPU cores with the CPU time of each kind of work, and a network
//! interface with a bandwidth each way (see `world::capacity` for how work queues on them).
//!
//! The default machine is a 4-vCPU node of the size Instaclustr benchmarked Cassandra 2.1 on
//! (AWS m3.xlarge, 2015: three nodes, replication factor 3, QUORUM, cassandra-stress): 40,330
//! reads/s read-only and 27,243 inserts/s insert-only. Each node then handles 40,330 read
//! messages a second (a third of the coordinations and two thirds of two replica reads per
//! read) on 4 cores, about 100 µs of one core each, and 36,324 write messages (a third of the
//! coordinations and every replica write), about 110 µs each. The network interface is that
//! machine's 1 Gbit/s (125 MB/s each way); background streams (hints, range transfers) are held
//! to Cassandra's default `stream_throughput_outbound` of 200 Mbit/s (25 MB/s), and background
//! reads of the store (Merkle tree builds, the scan that finds a handoff's keys) to its default
//! `compaction_throughput_mb_per_sec` of 16 MB/s, the throttle its tree builds (validation
//! compactions) run under. Hashing a key
//! for a Merkle tree costs 2 µs (a 1 KB value at about 500 MB/s) and comparing a hash 1 µs:
//! assumptions, not measurements.

use super::schema::RawCapacity;
use super::Ctx;
use super::ScenarioError;

/// CPU time, in nanoseconds, of each kind of work a node does.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CpuCosts {
    pub coordinate_get: u64,
    pub coordinate_put: u64,
    pub replica_read: u64,
    pub replica_write: u64,
    /// Storing one key a hint, a range transfer or an anti-entropy exchange brings.
    pub per_key_stored: u64,
    /// Hashing one key into a Merkle tree.
    pub merkle_per_key: u64,
    /// Comparing one tree hash an anti-entropy exchange sends.
    pub exchange_per_hash: u64,
}

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Capacity {
    /// Parallel CPU servers per node; 0: infinite capacity (no CPU time, no bandwidth bound).
    pub cores: u32,
    pub cpu: CpuCosts,
    /// Each way; infinite when unbounded.
    pub nic_bytes_per_s: f64,
    /// What one node's background streams (hint delivery, range transfers) may use of it.
    pub stream_bytes_per_s: f64,
    /// How fast background work reads the node's store: tree builds, handoff scans.
    pub scan_bytes_per_s: f64,
}

impl Capacity {
    pub const INFINITE: Capacity = Capacity {
        cores: 0,
        cpu: CpuCosts {
            coordinate_get: 0,
            coordinate_put: 0,
            replica_read: 0,
            replica_write: 0,
            per_key_stored: 0,
            merkle_per_key: 0,
            exchange_per_hash: 0,
        },
        nic_bytes_per_s: f64::INFINITY,
        stream_bytes_per_s: f64::INFINITY,
        scan_bytes_per_s: f64::INFINITY,
    };

    /// The documented machine (see the module's comment).
    pub const DEFAULT: Capacity = Capacity {
        cores: 4,
        cpu: CpuCosts {
            coordinate_get: 100_000,
            coordinate_put: 110_000,
            replica_read: 100_000,
            replica_write: 110_000,
            per_key_stored: 110_000,
            merkle_per_key: 2_000,
            exchange_per_hash: 1_000,
        },
        nic_bytes_per_s: 125e6,
        stream_bytes_per_s: 25e6,
        scan_bytes_per_s: 16e6,
    };

    pub fn is_infinite(&self) -> bool {
        self.cores == 0
    }
}

const MAX_US: f64 = 1e9;

pub(super) fn capacity(ctx: &Ctx, raw: Option<&RawCapacity>) -> Result<Capacity, ScenarioError> {
    let Some(raw) = raw else { return Ok(Capacity::DEFAULT) };
    if raw.infinite {
        let set = raw.cores.is_some()
            || raw.nic_mb_per_s.is_some()
            || raw.stream_mb_per_s.is_some()
            || raw.scan_mb_per_s.is_some()
            || serde_json::to_value(&raw.cpu_us).is_ok_and(|v| v.as_object().is_some_and(|o| o.values().any(|x| !x.is_null())));
        if set {
            return Err(ctx.err("cluster.capacity.infinite", "true with other capacity fields; expected one or the other"));
        }
        return Ok(Capacity::INFINITE);
    }
    let d = Capacity::DEFAULT;
    let cores = raw.cores.unwrap_or(d.cores);
    if !(1..=1024).contains(&cores) {
        return Err(ctx.err("cluster.capacity.cores", format!("{cores} is out of range; expected 1 to 1024")));
    }
    let us = |field: &str, v: Option<f64>, default: u64| -> Result<u64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if v.is_finite() && (0.0..=MAX_US).contains(&v) => Ok((v * 1000.0).round() as u64),
            Some(v) => Err(ctx.err(
                &format!("cluster.capacity.cpu_us.{field}"),
                format!("{v} is out of range; expected microseconds from 0 to {MAX_US:e}"),
            )),
        }
    };
    let c = &raw.cpu_us;
    let cpu = CpuCosts {
        coordinate_get: us("coordinate_get", c.coordinate_get, d.cpu.coordinate_get)?,
        coordinate_put: us("coordinate_put", c.coordinate_put, d.cpu.coordinate_put)?,
        replica_read: us("replica_read", c.replica_read, d.cpu.replica_read)?,
        replica_write: us("replica_write", c.replica_write, d.cpu.replica_write)?,
        per_key_stored: us("per_key_stored", c.per_key_stored, d.cpu.per_key_stored)?,
        merkle_per_key: us("merkle_per_key", c.merkle_per_key, d.cpu.merkle_per_key)?,
        exchange_per_hash: us("exchange_per_hash", c.exchange_per_hash, d.cpu.exchange_per_hash)?,
    };
    let rate = |field: &str, v: Option<f64>, default: f64| -> Result<f64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v * 1e6),
            Some(v) => Err(ctx.err(
                &format!("cluster.capacity.{field}"),
                format!("{v} is out of range; expected megabytes per second > 0, at most 1e6"),
            )),
        }
    };
    let nic = rate("nic_mb_per_s", raw.nic_mb_per_s, d.nic_bytes_per_s)?;
    let stream = rate("stream_mb_per_s", raw.stream_mb_per_s, d.stream_bytes_per_s)?.min(nic);
    let scan = rate("scan_mb_per_s", raw.scan_mb_per_s, d.scan_bytes_per_s)?;
    Ok(Capacity { cores, cpu, nic_bytes_per_s: nic, stream_bytes_per_s: stream, scan_bytes_per_s: scan })
}
