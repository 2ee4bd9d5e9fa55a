//! The history oracle: ground truth of every write and of what every read returned.
//!
//! It records each write's exact causal past (the writes its client had seen of the key when it
//! wrote) and acknowledgement time, and judges reads by that truth rather than by the protocol's
//! possibly truncated clocks. A read is *stale* if it does not reflect every write to its key
//! that was acknowledged to any client before the read was sent; it *reflects* a write if it
//! returned that write or a descendant of it. Write ids are issued in order, so an ancestor's
//! id is always smaller than its descendant's, which bounds every ancestry search.

use super::sessions::{ReadRequirement, Sessions};
use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, KeyId, WriteId};
use std::collections::BTreeMap;

mod prune;
pub use prune::{HiddenLosses, PrunedLoss, PrunedLosses};

/// A small set of write ids, kept inline when it holds one (the usual case: a write's parent, what
/// a session last read). Sessions and the history hold millions of them; this is 16 bytes and
/// allocates only for two or more, against a `Vec`'s 24 bytes and an allocation for any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Writes {
    One(WriteId),
    /// None, or two or more.
    Many(Box<[WriteId]>),
}

impl Default for Writes {
    fn default() -> Self {
        Writes::Many(Box::default())
    }
}

impl Writes {
    pub fn from_slice(writes: &[WriteId]) -> Writes {
        writes.iter().copied().collect()
    }

    pub fn as_slice(&self) -> &[WriteId] {
        match self {
            Writes::One(w) => std::slice::from_ref(w),
            Writes::Many(ws) => ws,
        }
    }

    /// Adds each of `more` not already present, keeping the order of first appearance.
    pub fn extend_new(&mut self, more: &[WriteId]) {
        if more.iter().all(|w| self.as_slice().contains(w)) {
            return;
        }
        let mut all = self.as_slice().to_vec();
        for &w in more {
            if !all.contains(&w) {
                all.push(w);
            }
        }
        *self = Writes::from_slice(&all);
    }
}

/// Collects without allocating for one write.
impl FromIterator<WriteId> for Writes {
    fn from_iter<I: IntoIterator<Item = WriteId>>(iter: I) -> Writes {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else { return Writes::default() };
        match iter.next() {
            None => Writes::One(first),
            Some(second) => Writes::Many([first, second].into_iter().chain(iter).collect()),
        }
    }
}

/// Outcome counters the report reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryStats {
    pub reads_judged: u64,
    pub stale_reads: u64,
    /// Successful reads by how many truly concurrent writes they returned: 1, 2, 3, 4+
    /// (index 0 counts reads of a key never written).
    pub true_versions_per_read: [u64; 5],
    /// Versions successful reads returned that are an ancestor of another version the same
    /// read returned: siblings the protocol's clocks could not order (truncation's false
    /// siblings), which a client merges needlessly.
    pub false_siblings: u64,
    pub writes_issued: u64,
    pub writes_acked: u64,
    /// Successful reads that returned a value an acknowledged delete had removed: the delete
    /// was acknowledged before the read was sent and is among the key's newest acknowledged
    /// writes, and the read returned a version the delete superseded (a stale replica's, or a
    /// deleted value come back).
    pub deleted_value_reads: u64,
    /// Successful reads by how many versions behind they were: `[k]` counts reads that missed
    /// the k newest writes acknowledged before they were sent (in acknowledgement order) but
    /// reflected the one before; a stale read that reflected the newest (it missed a concurrent
    /// write) counts as one behind; the last entry counts `VERSIONS_TRACKED` or more (and reads
    /// that reflected none of them). PBS's k-staleness: a read is within k versions if it was
    /// fewer than k behind, so within 1 is "not stale".
    pub versions_behind: [u64; VERSIONS_TRACKED + 1],
}

/// How many versions behind a read is counted exactly (see [`HistoryStats::versions_behind`]).
pub const VERSIONS_TRACKED: usize = 8;

/// A read in flight: what it must reflect, fixed when it was sent.
struct ReadInFlight {
    key: KeyId,
    frontier: Writes,
    /// Some write of the frontier was pruned: nothing held reflects it, so the read is stale.
    frontier_lost: bool,
    /// The newest writes acknowledged to the key, newest first.
    newest: RecentAcks,
    session: ReadRequirement,
}

/// The last [`VERSIONS_TRACKED`] writes acknowledged to a key, newest first.
#[derive(Clone, Copy, Debug, Default)]
struct RecentAcks {
    writes: [WriteId; VERSIONS_TRACKED],
    len: u8,
}

impl RecentAcks {
    fn push(&mut self, w: WriteId) {
        self.writes.copy_within(0..VERSIONS_TRACKED - 1, 1);
        self.writes[0] = w;
        self.len = (self.len + 1).min(VERSIONS_TRACKED as u8);
    }

    fn as_slice(&self) -> &[WriteId] {
        &self.writes[..self.len as usize]
    }
}

/// A probe result: reads issued `delays[i]` after a write's acknowledgement.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Visibility {
    pub reads: u64,
    pub reflected: u64,
    /// `within[k - 1]`: reads within k versions of the probe's last write (reflecting it or one
    /// of the k - 1 before it), for each of the probe's versions.
    pub within: Vec<u64>,
}

/// A write older than the dense table that a prune kept, because something held reflects it.
struct KeptWrite {
    parents: Writes,
    mark: u32,
    acked: bool,
}

/// What pruning did, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    pub prunes: u64,
    /// Writes folded into a later write (see [`prune`]).
    pub writes_folded: u64,
    /// Writes the oracle forgot: nothing held reflected them.
    pub writes_pruned: u64,
    /// Writes kept after the last prune.
    pub writes_kept: u64,
    /// A pruned write turned up again (in a read, a write's past or an acknowledgement): the
    /// census that pruned it missed a holder, and the judgements after it may be wrong.
    pub census_misses: u64,
}

pub struct History {
    /// The first write id of the dense tables; older writes are in `kept` or forgotten.
    base: u64,
    /// Each write's parents, indexed by write id - base.
    parents: Vec<Writes>,
    /// Whether each write was acknowledged, one bit per write id - base (the time is in
    /// `acked_by_key`). Apart from the parents so that a write costs the oracle 20 bytes and a
    /// bit, not 36: a long run's oracle holds millions.
    acked: Vec<u64>,
    visit_mark: Vec<u32>,
    /// Writes older than `base` that something held still reflects.
    kept: FastMap<WriteId, KeptWrite>,
    /// Acknowledged writes folded into a later write, by that write (see [`prune::Hidden`]).
    hidden: FastMap<WriteId, prune::Hidden>,
    /// Per key (indexed by key id), the acknowledged writes no other acknowledged write
    /// descends from. Usually one write, kept inline, so a read's snapshot of it is a copy of
    /// 16 bytes and the lookup one load, where a hash map of shared lists cost three misses.
    frontier: Vec<Writes>,
    /// Per key: a write of its frontier was pruned (see [`ReadInFlight::frontier_lost`]).
    frontier_lost: Vec<bool>,
    /// Per key: the newest acknowledged writes (see [`HistoryStats::versions_behind`]).
    recent_acks: Vec<RecentAcks>,
    reads_in_flight: FastMap<(ClientId, u64), ReadInFlight>,
    /// Acknowledged writes per key not yet found lost by a prune, in acknowledgement order
    /// (for the lost-write judgement at the end).
    acked_by_key: FastMap<KeyId, Vec<(WriteId, SimTime)>>,
    /// Cart items removed, per key: (item, the write that removed it).
    cart_removals: BTreeMap<KeyId, Vec<(u64, WriteId)>>,
    /// Deletes' writes (their versions are tombstones), in id order. Workloads that delete are
    /// never pruned, so every one of them stays judged.
    tombstones: Vec<WriteId>,
    visit_stamp: u32,
    stack: Vec<WriteId>,
    /// Reused by `antichain_size`.
    scratch: Vec<WriteId>,
    pub stats: HistoryStats,
    pub prune: PruneStats,
    pub visibility: Vec<Visibility>,
    pub sessions: Sessions,
}

impl History {
    /// `probe_versions`: how many successive writes each probe makes before its read.
    /// `session_keys`: keys per client whose sessions are judged (see [`Sessions`]).
    pub fn new(probe_delays: usize, probe_versions: usize, session_keys: usize) -> History {
        History {
            base: 1,
            parents: Vec::new(),
            acked: Vec::new(),
            visit_mark: Vec::new(),
            kept: FastMap::default(),
            hidden: FastMap::default(),
            frontier: Vec::new(),
            frontier_lost: Vec::new(),
            recent_acks: Vec::new(),
            reads_in_flight: FastMap::default(),
            acked_by_key: FastMap::default(),
            cart_removals: BTreeMap::new(),
            tombstones: Vec::new(),
            visit_stamp: 0,
            stack: Vec::new(),
            scratch: Vec::new(),
            stats: HistoryStats::default(),
            prune: PruneStats::default(),
            visibility: vec![Visibility { within: vec![0; probe_versions], ..Visibility::default() }; probe_delays],
            sessions: Sessions::with_capacity(session_keys),
        }
    }

    /// The id the next write will have.
    fn next_id(&self) -> u64 {
        self.base + self.parents.len() as u64
    }

    /// Whether a prune is due: `every` writes after the last (zero: never).
    pub fn prune_due(&self, every: usize) -> bool {
        every > 0 && self.parents.len() >= every
    }

    /// True if `write` was issued and then pruned.
    fn was_pruned(&self, write: WriteId) -> bool {
        write.0 >= 1 && write.0 < self.base && !self.kept.contains_key(&write)
    }

    /// Counts a pruned write among `held`: something the census missed held it.
    fn check_held(&mut self, held: &[WriteId]) {
        if held.iter().any(|&w| w.0 < self.base) {
            let missed = held.iter().filter(|&&w| self.was_pruned(w)).count();
            self.prune.census_misses += missed as u64;
        }
    }

    pub fn write_started(&mut self, client: ClientId, key: KeyId, write: WriteId, parents: Writes) {
        debug_assert_eq!(write.0, self.next_id(), "write ids are issued in order");
        debug_assert!(parents.as_slice().iter().all(|p| *p < write), "a write descends only from older writes");
        self.check_held(parents.as_slice());
        let mut sessions = std::mem::take(&mut self.sessions);
        sessions.write_started(client, key, write, parents.as_slice(), &mut |from, ws| self.unreflected(from, ws));
        self.sessions = sessions;
        self.parents.push(parents);
        if self.parents.len() > 64 * self.acked.len() {
            self.acked.push(0);
        }
        self.visit_mark.push(0);
        self.stats.writes_issued += 1;
    }

    /// The write just started is a delete: its version is a tombstone.
    pub fn tombstone_written(&mut self, write: WriteId) {
        debug_assert!(self.tombstones.last().is_none_or(|&last| last < write), "write ids are issued in order");
        self.tombstones.push(write);
    }

    pub fn is_tombstone(&self, write: WriteId) -> bool {
        !self.tombstones.is_empty() && self.tombstones.binary_search(&write).is_ok()
    }

    /// Whether `from` reflects `target` in value: causally, or, for a delete, by returning
    /// nothing at all (a key whose tombstones were purged or reaped reads as one never written,
    /// which is the value a delete leaves).
    fn reflects_value(&mut self, from: &[WriteId], target: WriteId) -> bool {
        (from.is_empty() && self.is_tombstone(target)) || self.reflects(from, target)
    }

    /// Whether `write` is a value (not a tombstone) that `delete` superseded.
    fn removed_by(&mut self, write: WriteId, delete: WriteId) -> bool {
        !self.is_tombstone(write) && write < delete && self.reflects(&[delete], write)
    }

    /// Whether some version in `returned` is a value the acknowledged delete `delete` removed.
    fn returns_deleted_value(&mut self, returned: &[WriteId], delete: WriteId) -> bool {
        returned.iter().any(|&w| self.removed_by(w, delete))
    }

    /// The acknowledged deletes of `key`, in acknowledgement order.
    pub fn acked_deletes(&self, key: KeyId) -> Vec<WriteId> {
        self.acked_writes(key).iter().map(|&(w, _)| w).filter(|&w| self.is_tombstone(w)).collect()
    }

    /// A cart write removes `item` from the cart it read.
    pub fn cart_item_removed(&mut self, key: KeyId, item: u64, write: WriteId) {
        self.cart_removals.entry(key).or_default().push((item, write));
    }

    /// The cart items removed from `key`, each with the write that removed it.
    pub fn cart_removals(&self, key: KeyId) -> &[(u64, WriteId)] {
        self.cart_removals.get(&key).map_or(&[], |v| v.as_slice())
    }

    pub fn is_acked(&self, write: WriteId) -> bool {
        match write.0.checked_sub(self.base) {
            Some(i) => {
                let i = i as usize;
                i < self.parents.len() && self.acked[i / 64] & (1 << (i % 64)) != 0
            }
            None => self.kept.get(&write).is_some_and(|k| k.acked),
        }
    }

    pub fn write_acked(&mut self, write: WriteId, key: KeyId, at: SimTime) {
        if self.is_acked(write) {
            return;
        }
        match write.0.checked_sub(self.base) {
            Some(i) if (i as usize) < self.parents.len() => self.acked[i as usize / 64] |= 1 << (i % 64),
            Some(_) => return,
            None => match self.kept.get_mut(&write) {
                Some(k) => k.acked = true,
                None => {
                    self.check_held(&[write]);
                    return;
                }
            },
        }
        self.stats.writes_acked += 1;
        self.acked_by_key.entry(key).or_default().push((write, at));
        if self.frontier.len() <= key.index() {
            self.frontier.resize(key.index() + 1, Writes::default());
            self.frontier_lost.resize(key.index() + 1, false);
            self.recent_acks.resize(key.index() + 1, RecentAcks::default());
        }
        self.recent_acks[key.index()].push(write);
        let frontier = std::mem::take(&mut self.frontier[key.index()]);
        let dominated = frontier.as_slice().iter().any(|&f| self.reflects(&[f], write));
        self.frontier[key.index()] = if dominated {
            frontier
        } else {
            // One walk down the new write's ancestry answers for every frontier write (a frontier
            // of thousands, after last-write-wins lost writes, made this quadratic).
            let floor = frontier.as_slice().iter().copied().min().unwrap_or(write);
            let stamp = self.mark_ancestors(&[write], floor);
            let kept = frontier.as_slice().iter().copied().filter(|&f| !self.marked(f, stamp));
            kept.chain([write]).collect()
        };
    }

    /// A workload write was acknowledged to its client (its session then expects to read it).
    pub fn session_write_acked(&mut self, client: ClientId, key: KeyId, write: WriteId) {
        let mut sessions = std::mem::take(&mut self.sessions);
        sessions.write_acked(client, key, write, &mut |from, w| self.reflects(from, w));
        self.sessions = sessions;
    }

    pub fn read_started(&mut self, client: ClientId, op: u64, key: KeyId) {
        let read = ReadInFlight {
            key,
            frontier: self.frontier_of(key),
            frontier_lost: self.frontier_lost.get(key.index()).copied().unwrap_or(false),
            newest: self.recent_acks.get(key.index()).copied().unwrap_or_default(),
            session: self.sessions.read_started(client, key),
        };
        self.reads_in_flight.insert((client, op), read);
    }

    /// Judges a successful read; returns whether it was stale.
    pub fn read_succeeded(&mut self, client: ClientId, op: u64, returned: &[WriteId]) -> bool {
        let Some(read) = self.reads_in_flight.remove(&(client, op)) else { return false };
        self.check_held(returned);
        let stale = read.frontier_lost
            || match read.frontier.as_slice() {
                [] => false,
                [one] if !self.tombstones.is_empty() => !self.reflects_value(returned, *one),
                many if !self.tombstones.is_empty() => many.iter().any(|&w| !self.reflects_value(returned, w)),
                [one] => !self.reflects(returned, *one),
                many => {
                    let stamp = self.mark_ancestors(returned, many.iter().copied().min().unwrap_or(WriteId(0)));
                    many.iter().any(|&w| !self.marked(w, stamp))
                }
            };
        self.stats.reads_judged += 1;
        self.stats.stale_reads += stale as u64;
        if stale && !self.tombstones.is_empty() {
            let deletes = read.frontier.as_slice().iter().copied().filter(|&w| self.is_tombstone(w)).collect::<Vec<_>>();
            self.stats.deleted_value_reads += deletes.iter().any(|&d| self.returns_deleted_value(returned, d)) as u64;
        }
        let behind = if stale { self.versions_behind(&read.newest, returned) } else { 0 };
        self.stats.versions_behind[behind] += 1;
        let mut sessions = std::mem::take(&mut self.sessions);
        sessions.read_succeeded(client, read.key, read.session, returned, &mut |from, w| self.reflects_value(from, w));
        self.sessions = sessions;
        let (distinct, concurrent) = self.antichain_size(returned);
        self.stats.true_versions_per_read[concurrent.min(4)] += 1;
        self.stats.false_siblings += (distinct - concurrent) as u64;
        stale
    }

    /// Of the newest writes acknowledged to the key when a stale read was sent, how many it
    /// missed before one it reflects (at least 1, at most [`VERSIONS_TRACKED`]).
    fn versions_behind(&mut self, newest: &RecentAcks, returned: &[WriteId]) -> usize {
        // A stale read that reflects the newest write missed a concurrent one: one behind.
        newest.as_slice().iter().position(|&w| self.reflects(returned, w)).unwrap_or(VERSIONS_TRACKED).max(1)
    }

    pub fn read_failed(&mut self, client: ClientId, op: u64) {
        self.reads_in_flight.remove(&(client, op));
    }

    /// Records a probe read, issued `delays[delay_index]` after `write` was acknowledged.
    pub fn probe_read(&mut self, client: ClientId, op: u64, write: WriteId, delay_index: usize, returned: &[WriteId]) {
        self.reads_in_flight.remove(&(client, op));
        self.check_held(returned);
        // The probe's versions form a chain, each written from the last one's context: walk
        // back from the last to the newest one the read reflects (0: the last write itself).
        let versions = self.visibility.first().map_or(1, |v| v.within.len());
        let mut behind = versions;
        let mut version = Some(write);
        for k in 0..versions {
            let Some(w) = version else { break };
            if self.reflects(returned, w) {
                behind = k;
                break;
            }
            version = self.parents(w).first().copied();
        }
        if let Some(v) = self.visibility.get_mut(delay_index) {
            v.reads += 1;
            v.reflected += (behind == 0) as u64;
            for within in v.within.iter_mut().skip(behind) {
                *within += 1;
            }
        }
    }

    /// The acknowledged writes to `key` that none of the `held` versions reflects: writes lost,
    /// if `held` is everything any replica holds. Checks the frontier first, since when every
    /// maximal acknowledged write survives, all their ancestors do too. Writes a prune found
    /// lost are not among them (the prune reported them).
    pub fn lost_writes(&mut self, key: KeyId, held: &[WriteId]) -> Vec<(WriteId, SimTime)> {
        self.check_held(held);
        let frontier = self.frontier_of(key);
        let lost_before = self.frontier_lost.get(key.index()).copied().unwrap_or(false);
        if !lost_before && frontier.as_slice().iter().all(|&w| self.reflects(held, w)) {
            return Vec::new();
        }
        let acked = self.acked_by_key.get(&key).cloned().unwrap_or_default();
        let deletes = self.acked_deletes(key);
        // A delete is never lost as a write: its tombstone may be purged, and a delete undone is
        // a resurrection (see `History::resurrected`). A value an acknowledged delete removed is
        // not lost either.
        acked
            .into_iter()
            .filter(|&(w, _)| !self.is_tombstone(w) && !self.reflects(held, w) && !deletes.iter().any(|&d| self.removed_by(w, d)))
            .collect()
    }

    /// An acknowledged delete of `key` undone at the end: the write `held` holds again that the
    /// delete had removed, and the delete, which nothing held reflects (its tombstone gone).
    pub fn resurrected(&mut self, key: KeyId, held: &[WriteId]) -> Option<(WriteId, WriteId)> {
        if self.tombstones.is_empty() {
            return None;
        }
        for delete in self.acked_deletes(key) {
            if self.reflects(held, delete) {
                continue;
            }
            if let Some(&back) = held.iter().find(|&&w| self.removed_by(w, delete)) {
                return Some((back, delete));
            }
        }
        None
    }

    fn frontier_of(&self, key: KeyId) -> Writes {
        self.frontier.get(key.index()).cloned().unwrap_or_default()
    }

    /// The writes `write` descends from directly (what its client had seen); none for a write
    /// a prune forgot.
    pub fn parents(&self, write: WriteId) -> &[WriteId] {
        match write.0.checked_sub(self.base) {
            Some(i) => self.parents.get(i as usize).map_or(&[], |w| w.as_slice()),
            None => self.kept.get(&write).map_or(&[], |k| k.parents.as_slice()),
        }
    }

    /// The acknowledged writes to `key` not found lost by a prune, in acknowledgement order.
    pub fn acked_writes(&self, key: KeyId) -> &[(WriteId, SimTime)] {
        self.acked_by_key.get(&key).map_or(&[], |v| v.as_slice())
    }

    /// Keys with at least one acknowledged write not yet found lost, in key order.
    pub fn written_keys(&self) -> Vec<KeyId> {
        let mut keys: Vec<KeyId> = self.acked_by_key.keys().copied().chain(self.hidden.values().map(|h| h.key)).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// How many distinct writes `writes` holds, and how many of them are not an ancestor of
    /// another one of them.
    fn antichain_size(&mut self, writes: &[WriteId]) -> (usize, usize) {
        if writes.len() < 2 {
            return (writes.len(), writes.len());
        }
        let mut unique = std::mem::take(&mut self.scratch);
        unique.clear();
        unique.extend_from_slice(writes);
        unique.sort_unstable();
        unique.dedup();
        let mut count = 0;
        for (i, &w) in unique.iter().enumerate() {
            // Only a younger write can descend from w.
            if !self.reflects(&unique[i + 1..], w) {
                count += 1;
            }
        }
        let distinct = unique.len();
        self.scratch = unique;
        (distinct, count)
    }

    /// Marks `write` visited with `stamp`: `Some(true)` if it already was, `None` if the
    /// oracle does not hold it (pruned, or not yet issued).
    fn visit(&mut self, write: WriteId, stamp: u32) -> Option<bool> {
        let mark = match write.0.checked_sub(self.base) {
            Some(i) => self.visit_mark.get_mut(i as usize)?,
            None => &mut self.kept.get_mut(&write)?.mark,
        };
        let seen = *mark == stamp;
        *mark = stamp;
        Some(seen)
    }

    /// Marks every write `from` descends from, themselves included, down to `floor` (older
    /// ones cannot matter); returns the mark, for [`History::marked`].
    fn mark_ancestors(&mut self, from: &[WriteId], floor: WriteId) -> u32 {
        let stamp = self.next_stamp();
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.extend(from.iter().copied().filter(|&w| w >= floor));
        while let Some(w) = stack.pop() {
            if let Some(false) = self.visit(w, stamp) {
                stack.extend(self.parents(w).iter().copied().filter(|&p| p >= floor));
            }
        }
        self.stack = stack;
        stamp
    }

    fn marked(&self, write: WriteId, stamp: u32) -> bool {
        match write.0.checked_sub(self.base) {
            Some(i) => self.visit_mark.get(i as usize) == Some(&stamp),
            None => self.kept.get(&write).is_some_and(|k| k.mark == stamp),
        }
    }

    fn next_stamp(&mut self) -> u32 {
        self.visit_stamp = self.visit_stamp.wrapping_add(1);
        if self.visit_stamp == 0 {
            self.visit_mark.iter_mut().for_each(|m| *m = 0);
            self.kept.values_mut().for_each(|k| k.mark = 0);
            self.visit_stamp = 1;
        }
        self.visit_stamp
    }

    /// The `targets` that `from` does not reflect, in their order: [`History::reflects`] for
    /// each, in one walk down to the oldest of them (a session's writes, checked against every
    /// write's parents, made one walk each, the cost of a hot key's long history each time).
    pub fn unreflected(&mut self, from: &[WriteId], targets: &[WriteId]) -> Writes {
        let Some(&floor) = targets.iter().min() else { return Writes::default() };
        if let [one] = targets {
            return if self.reflects(from, *one) { Writes::default() } else { Writes::One(*one) };
        }
        let mut sorted = targets.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut found = vec![false; sorted.len()];
        let mut left = sorted.len();
        let stamp = self.next_stamp();
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.extend(from.iter().copied().filter(|&w| w >= floor));
        while let Some(w) = stack.pop() {
            if let Ok(i) = sorted.binary_search(&w) {
                left -= !found[i] as usize;
                found[i] = true;
                if left == 0 {
                    break;
                }
            }
            if let Some(false) = self.visit(w, stamp) {
                stack.extend(self.parents(w).iter().copied().filter(|&p| p >= floor));
            }
        }
        self.stack = stack;
        targets.iter().copied().filter(|w| sorted.binary_search(w).is_ok_and(|i| !found[i])).collect()
    }

    /// True if `target` is one of `from` or an ancestor of one of them. [`History::mark_ancestors`]
    /// bounded by the target, stopping as soon as it is found.
    pub fn reflects(&mut self, from: &[WriteId], target: WriteId) -> bool {
        let stamp = self.next_stamp();
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.extend(from.iter().copied().filter(|&w| w >= target));
        let mut found = false;
        while let Some(w) = stack.pop() {
            if w == target {
                found = true;
                break;
            }
            if let Some(false) = self.visit(w, stamp) {
                // Ancestors older than the target cannot lead to it.
                stack.extend(self.parents(w).iter().copied().filter(|&p| p >= target));
            }
        }
        self.stack = stack;
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_keep_one_inline_and_extend_in_order_without_repeats() {
        assert_eq!(std::mem::size_of::<Writes>(), 16);
        let mut w = Writes::from_slice(&[WriteId(4)]);
        assert_eq!(w, Writes::One(WriteId(4)));
        w.extend_new(&[WriteId(4)]);
        assert_eq!(w.as_slice(), &[WriteId(4)]);
        w.extend_new(&[WriteId(9), WriteId(4), WriteId(2), WriteId(9)]);
        assert_eq!(w.as_slice(), &[WriteId(4), WriteId(9), WriteId(2)]);
        let mut none = Writes::default();
        assert!(none.as_slice().is_empty());
        none.extend_new(&[WriteId(1)]);
        assert_eq!(none, Writes::One(WriteId(1)));
        for n in 0..4 {
            let ids: Vec<WriteId> = (1..=n).map(WriteId).collect();
            let expected = if n == 1 { Writes::One(WriteId(1)) } else { Writes::Many(ids.clone().into()) };
            assert_eq!(ids.iter().copied().collect::<Writes>(), expected, "{n} writes");
            assert_eq!(Writes::from_slice(&ids), expected, "{n} writes");
        }
    }

    /// One walk for many targets answers as one walk each: over random histories, sets of
    /// starting writes and of targets (duplicates, writes outside the table and in `from`).
    #[test]
    fn unreflected_agrees_with_reflects_target_by_target() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..50 {
            let mut h = History::new(0, 1, usize::MAX);
            let writes = 2 + next(60);
            for w in 1..=writes {
                let parents: Vec<WriteId> = (0..next(3)).map(|_| WriteId(1 + next(w))).filter(|p| p.0 < w).collect();
                h.write_started(ClientId(0), KeyId(0), WriteId(w), Writes::from_slice(&parents));
            }
            for _ in 0..20 {
                let from: Vec<WriteId> = (0..1 + next(3)).map(|_| WriteId(1 + next(writes + 2))).collect();
                let targets: Vec<WriteId> = (0..next(6)).map(|_| WriteId(1 + next(writes + 2))).collect();
                let one_by_one: Vec<WriteId> = targets.iter().copied().filter(|&t| !h.reflects(&from, t)).collect();
                assert_eq!(h.unreflected(&from, &targets).as_slice(), one_by_one.as_slice(), "{from:?} {targets:?}");
            }
        }
    }

    /// A delete (w2, a tombstone over w1): reading nothing after it is fresh, reading w1 is a
    /// stale read of a deleted value; at the end a purged tombstone and the value it removed are
    /// not lost, and w1 held again with the tombstone gone is a resurrection.
    #[test]
    fn a_delete_leaves_nothing_to_read_and_its_value_coming_back_is_a_resurrection() {
        let mut h = History::new(0, 1, usize::MAX);
        let k = KeyId(0);
        h.write_started(ClientId(9), k, WriteId(1), Writes::from_slice(&[]));
        h.write_acked(WriteId(1), k, SimTime(10));
        h.write_started(ClientId(9), k, WriteId(2), Writes::from_slice(&[WriteId(1)]));
        h.tombstone_written(WriteId(2));
        h.write_acked(WriteId(2), k, SimTime(20));
        h.read_started(ClientId(9), 1, k);
        assert!(!h.read_succeeded(ClientId(9), 1, &[]), "nothing is what a delete leaves");
        h.read_started(ClientId(9), 2, k);
        assert!(!h.read_succeeded(ClientId(9), 2, &[WriteId(2)]), "the tombstone itself");
        h.read_started(ClientId(0), 3, k);
        assert!(h.read_succeeded(ClientId(0), 3, &[WriteId(1)]), "the deleted value");
        assert_eq!((h.stats.stale_reads, h.stats.deleted_value_reads), (1, 1));
        assert_eq!(h.sessions.stats.read_your_writes.violated, 0, "an empty read reflects one's own delete");
        for held in [&[][..], &[WriteId(2)]] {
            assert!(h.lost_writes(k, held).is_empty(), "{held:?}: purged or held, nothing is lost");
            assert_eq!(h.resurrected(k, held), None);
        }
        assert!(h.lost_writes(k, &[WriteId(1)]).is_empty(), "w1 is held; the delete is not a lost write");
        assert_eq!(h.resurrected(k, &[WriteId(1)]), Some((WriteId(1), WriteId(2))));
        // A write concurrent with the delete is not one it removed.
        h.write_started(ClientId(8), k, WriteId(3), Writes::from_slice(&[]));
        h.write_acked(WriteId(3), k, SimTime(30));
        assert_eq!(h.resurrected(k, &[WriteId(3)]), None);
        assert!(h.lost_writes(k, &[]).iter().map(|l| l.0).eq([WriteId(3)]), "w3 was deleted by nothing");
    }

    #[test]
    fn a_read_missing_an_acknowledged_write_is_stale() {
        let mut h = History::new(0, 1, usize::MAX);
        let k = KeyId(0);
        h.write_started(ClientId(9), k, WriteId(1), Writes::from_slice(&[]));
        h.write_acked(WriteId(1), k, SimTime(10));
        h.write_started(ClientId(9), k, WriteId(2), Writes::from_slice(&[WriteId(1)]));
        h.read_started(ClientId(0), 1, k);
        assert!(!h.read_succeeded(ClientId(0), 1, &[WriteId(1)]), "w2 was not acknowledged yet");
        h.write_acked(WriteId(2), k, SimTime(20));
        h.read_started(ClientId(0), 2, k);
        assert!(h.read_succeeded(ClientId(0), 2, &[WriteId(1)]));
        h.read_started(ClientId(0), 3, k);
        assert!(!h.read_succeeded(ClientId(0), 3, &[WriteId(2)]), "w2 descends from w1");
        assert_eq!(h.stats.stale_reads, 1);
    }

    #[test]
    fn a_stale_read_counts_the_versions_it_is_behind() {
        let mut h = History::new(0, 1, usize::MAX);
        let k = KeyId(0);
        for w in 1..=3 {
            let parents = if w == 1 { Writes::default() } else { Writes::One(WriteId(w - 1)) };
            h.write_started(ClientId(9), k, WriteId(w), parents);
            h.write_acked(WriteId(w), k, SimTime(w));
        }
        for (op, returned) in [(1, WriteId(3)), (2, WriteId(2)), (3, WriteId(1))] {
            h.read_started(ClientId(0), op, k);
            h.read_succeeded(ClientId(0), op, &[returned]);
        }
        h.read_started(ClientId(0), 4, k);
        h.read_succeeded(ClientId(0), 4, &[]);
        assert_eq!(h.stats.versions_behind[..4], [1, 1, 1, 0]);
        assert_eq!(h.stats.versions_behind[VERSIONS_TRACKED], 1, "reflects none of them");
    }

    #[test]
    fn a_write_is_lost_only_if_nothing_held_reflects_it() {
        let mut h = History::new(0, 1, usize::MAX);
        let k = KeyId(3);
        h.write_started(ClientId(9), k, WriteId(1), Writes::from_slice(&[]));
        h.write_acked(WriteId(1), k, SimTime(1));
        h.write_started(ClientId(9), k, WriteId(2), Writes::from_slice(&[WriteId(1)]));
        h.write_acked(WriteId(2), k, SimTime(2));
        h.write_started(ClientId(9), k, WriteId(3), Writes::from_slice(&[]));
        h.write_acked(WriteId(3), k, SimTime(3));
        assert!(h.lost_writes(k, &[WriteId(2), WriteId(3)]).is_empty());
        assert_eq!(h.lost_writes(k, &[WriteId(2)]), vec![(WriteId(3), SimTime(3))]);
        assert_eq!(h.lost_writes(k, &[WriteId(3)]).len(), 2, "w3 does not descend from w1 or w2");
        assert_eq!(h.written_keys(), vec![k]);
    }

    #[test]
    fn concurrent_writes_both_required_and_counted_as_true_siblings() {
        let mut h = History::new(0, 1, usize::MAX);
        let k = KeyId(0);
        h.write_started(ClientId(9), k, WriteId(1), Writes::from_slice(&[]));
        h.write_started(ClientId(9), k, WriteId(2), Writes::from_slice(&[]));
        h.write_acked(WriteId(1), k, SimTime(1));
        h.write_acked(WriteId(2), k, SimTime(2));
        h.read_started(ClientId(1), 1, k);
        assert!(h.read_succeeded(ClientId(1), 1, &[WriteId(2)]), "missing the concurrent w1");
        h.read_started(ClientId(1), 2, k);
        assert!(!h.read_succeeded(ClientId(1), 2, &[WriteId(1), WriteId(2)]));
        assert_eq!(h.stats.true_versions_per_read[1], 1);
        assert_eq!(h.stats.true_versions_per_read[2], 1);
        // A merge of both supersedes them; returning it with a stale sibling is one true version.
        h.write_started(ClientId(9), k, WriteId(3), Writes::from_slice(&[WriteId(1), WriteId(2)]));
        h.read_started(ClientId(1), 3, k);
        h.read_succeeded(ClientId(1), 3, &[WriteId(1), WriteId(3)]);
        assert_eq!(h.stats.true_versions_per_read[1], 2);
    }
}
