//! The storage engine under a replica (Dynamo §6.1): durable, or an in-memory object buffer that
//! a writer flushes to disk periodically.
//!
//! Under the buffered model a write lands in memory and is readable at once; the store keeps,
//! for every key written since the last flush, the version set the disk still holds. A flush
//! makes everything durable (the writer thread runs off the request path, so it costs no service
//! time); a crash puts every such key back to its disk version, and the versions only the buffer
//! held are gone. The coordinator of a put asks `durable_writes` of the N replicas to write
//! through to disk, so that a single crash cannot lose an acknowledged write; the others answer
//! from memory, which is what cut the paper's 99.9th percentile.
//!
//! What a durable write costs is the world's business (a `storage.write_time` draw added to the
//! node's service time): the node only counts them.
//!
//! Hints are written durably under both models (Dynamo keeps them in a separate local database),
//! as are the per-key dot counters and the removal of keys handed to new owners.

use crate::node::versioning::VersionSet;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::fastmap::FastMap;
use crate::sim::ids::KeyId;
use std::rc::Rc;

/// How a node stores what it is sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StorageModel {
    /// Every write reaches the disk before it is acknowledged; a crash loses nothing.
    Durable,
    /// Writes land in memory and are flushed every `flush_interval`; a put's coordinator asks
    /// `durable_writes` of its replicas to write through.
    Buffered { flush_interval: SimDuration, durable_writes: usize },
}

impl StorageModel {
    /// Whether a write the coordinator marked `requested` goes to disk at once.
    pub fn writes_through(self, requested: bool) -> bool {
        match self {
            StorageModel::Durable => true,
            StorageModel::Buffered { .. } => requested,
        }
    }

    /// How many of a put's replica writes are durable ones (all of them under `Durable`).
    pub fn durable_writes(self) -> usize {
        match self {
            StorageModel::Durable => usize::MAX,
            StorageModel::Buffered { durable_writes, .. } => durable_writes,
        }
    }
}

/// What the buffered model needs to know to say what a crash loses: the keys written since the
/// last flush, each with the version set on disk (`None`: the key is not on disk at all), and
/// the write-throughs whose disk write may not be done yet. Also the disk writes not yet
/// charged for (under either model).
#[derive(Default)]
pub(super) struct WriteBuffer {
    unflushed: FastMap<KeyId, Option<Rc<VersionSet>>>,
    /// Write-throughs since the last flush, in disk order: when the disk write is done (`None`
    /// until the world says), the key and the version set written.
    in_flight: Vec<(Option<SimTime>, KeyId, Rc<VersionSet>)>,
    uncharged_disk_writes: u32,
    uncharged_disk_reads: u32,
}

impl WriteBuffer {
    /// Every write the disk's copies (of keys written since the last flush) and the pending
    /// write-throughs hold.
    pub(super) fn held_writes(&self, out: &mut Vec<crate::sim::ids::WriteId>) {
        let writes = |v: &VersionSet| v.siblings.iter().map(|s| s.write).collect::<Vec<_>>();
        for v in self.unflushed.values().flatten() {
            out.extend(writes(v));
        }
        for (_, _, v) in &self.in_flight {
            out.extend(writes(v));
        }
    }

    /// Before `key` changes from `current` under `model`; returns whether the write goes to disk
    /// at once. Under the buffered model the disk's version is remembered the first time a key
    /// changes after a flush, write-throughs included: they are on disk only once the world's
    /// disk has done them (see [`WriteBuffer::wrote_through`]).
    pub(super) fn before_write(
        &mut self,
        model: StorageModel,
        key: KeyId,
        current: Option<&Rc<VersionSet>>,
        requested: bool,
    ) -> bool {
        let through = model.writes_through(requested);
        if through {
            self.uncharged_disk_writes += 1;
        }
        if model != StorageModel::Durable {
            self.unflushed.entry(key).or_insert_with(|| current.cloned());
        }
        through
    }

    /// After a write-through under the buffered model: the version set now on its way to disk.
    pub(super) fn wrote_through(&mut self, key: KeyId, versions: Rc<VersionSet>) {
        self.in_flight.push((None, key, versions));
    }

    /// A write that goes to disk outside the store (a hint): charged only.
    pub(super) fn charge_disk_write(&mut self) {
        self.uncharged_disk_writes += 1;
    }

    /// A read of `key`'s object: from the disk, unless the buffer holds it (Dynamo §6.1: each
    /// read first checks the buffer).
    /// Returns whether it reads the disk.
    pub(super) fn charge_disk_read(&mut self, key: KeyId) -> bool {
        let from_disk = !self.unflushed.contains_key(&key);
        self.uncharged_disk_reads += from_disk as u32;
        from_disk
    }

    /// The disk writes since the last call, for the world to queue on the node's disk.
    pub(super) fn take_disk_writes(&mut self) -> u32 {
        std::mem::take(&mut self.uncharged_disk_writes)
    }

    /// The disk reads since the last call.
    pub(super) fn take_disk_reads(&mut self) -> u32 {
        std::mem::take(&mut self.uncharged_disk_reads)
    }

    /// The world's answer: the write-throughs just queued are on disk at `done`.
    pub(super) fn disk_writes_done(&mut self, done: SimTime) {
        for entry in self.in_flight.iter_mut().rev().take_while(|e| e.0.is_none()) {
            entry.0 = Some(done);
        }
    }

    /// A key removed for good (handed to its new owners): nothing of it is left to restore.
    pub(super) fn forget(&mut self, key: KeyId) {
        if !self.unflushed.is_empty() {
            self.unflushed.remove(&key);
        }
    }

    /// The writer's flush: everything in memory is on disk, the write-throughs still queued
    /// included. Returns how many keys it wrote.
    pub(super) fn flush(&mut self) -> usize {
        let keys = self.unflushed.len();
        self.unflushed.clear();
        self.in_flight.clear();
        keys
    }

    /// A crash at `now`: the write-throughs done by then are on disk, the rest are lost with the
    /// buffer. Returns the keys to put back and the disk's version of each, in key order;
    /// `in_memory` says what memory holds of a key.
    pub(super) fn lose<'a>(
        &mut self,
        now: SimTime,
        in_memory: impl Fn(KeyId) -> Option<&'a Rc<VersionSet>>,
    ) -> Vec<(KeyId, Option<Rc<VersionSet>>)> {
        for (done, key, written) in self.in_flight.drain(..) {
            if done.is_none_or(|d| d > now) {
                break;
            }
            // Only a key still differing from the disk moves on: one flushed or handed off since
            // is not in `unflushed`, and its disk already holds at least this.
            if let Some(on_disk) = self.unflushed.get_mut(&key) {
                if in_memory(key).is_some_and(|m| Rc::ptr_eq(m, &written)) {
                    self.unflushed.remove(&key);
                } else {
                    *on_disk = Some(written);
                }
            }
        }
        let mut lost: Vec<_> = self.unflushed.drain().collect();
        lost.sort_unstable_by_key(|(key, _)| *key);
        self.uncharged_disk_writes = 0;
        self.uncharged_disk_reads = 0;
        lost
    }

    pub(super) fn clear(&mut self) {
        self.unflushed.clear();
        self.in_flight.clear();
        self.uncharged_disk_writes = 0;
        self.uncharged_disk_reads = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUFFERED: StorageModel = StorageModel::Buffered { flush_interval: SimDuration(1), durable_writes: 1 };

    fn set() -> Rc<VersionSet> {
        Rc::new(VersionSet::default())
    }

    #[test]
    fn a_buffer_remembers_the_disk_version_from_before_the_first_unflushed_write() {
        let mut buffer = WriteBuffer::default();
        let (on_disk, newer) = (set(), set());
        buffer.before_write(BUFFERED, KeyId(1), Some(&on_disk), false);
        buffer.before_write(BUFFERED, KeyId(1), Some(&newer), false);
        buffer.before_write(BUFFERED, KeyId(2), None, false);
        let lost = buffer.lose(SimTime(0), |_| None);
        assert_eq!(lost.len(), 2);
        assert!(lost[0].1.as_ref().is_some_and(|v| Rc::ptr_eq(v, &on_disk)), "the disk's version, not the later one");
        assert!(lost[1].1.is_none(), "a key first written since the flush is not on disk");
        assert!(buffer.lose(SimTime(0), |_| None).is_empty());
    }

    #[test]
    fn a_write_through_is_on_disk_once_the_disk_has_done_it() {
        let mut buffer = WriteBuffer::default();
        let written = set();
        let memory = written.clone();
        let key = KeyId(1);
        assert!(buffer.before_write(BUFFERED, key, None, true));
        buffer.wrote_through(key, written.clone());
        assert_eq!(buffer.take_disk_writes(), 1);
        buffer.disk_writes_done(SimTime(10));
        // A crash before the disk write is done loses it; one after does not.
        let mut early =
            WriteBuffer { unflushed: buffer.unflushed.clone(), in_flight: buffer.in_flight.clone(), ..Default::default() };
        assert_eq!(early.lose(SimTime(9), |_| Some(&memory)).len(), 1);
        assert!(buffer.lose(SimTime(10), |_| Some(&memory)).is_empty());
        // A later buffered write to the same key is lost, back to the written-through version.
        buffer.before_write(BUFFERED, key, Some(&written), true);
        buffer.wrote_through(key, written.clone());
        buffer.disk_writes_done(SimTime(20));
        let later = set();
        buffer.before_write(BUFFERED, key, Some(&written), false);
        let lost = buffer.lose(SimTime(30), |_| Some(&later));
        assert!(lost[0].1.as_ref().is_some_and(|v| Rc::ptr_eq(v, &written)));
    }

    #[test]
    fn a_flush_makes_everything_durable_and_only_disk_writes_are_charged() {
        let mut buffer = WriteBuffer::default();
        buffer.before_write(BUFFERED, KeyId(1), None, false);
        buffer.before_write(BUFFERED, KeyId(2), None, true);
        buffer.wrote_through(KeyId(2), set());
        buffer.charge_disk_write();
        assert_eq!(buffer.take_disk_writes(), 2);
        assert_eq!(buffer.take_disk_writes(), 0);
        assert_eq!(buffer.flush(), 2, "the write-through still queued is flushed too");
        assert!(buffer.lose(SimTime(0), |_| None).is_empty());
        assert!(buffer.before_write(StorageModel::Durable, KeyId(3), None, false), "the durable model always writes through");
        assert!(buffer.lose(SimTime(0), |_| None).is_empty(), "and never buffers");
    }
}
