//! Pruning the history oracle, so that a long run's oracle is the size of what the world holds
//! rather than of everything it ever wrote.
//!
//! A prune takes a census of every write id the world still holds (replicas, hints, buffers,
//! messages, coordinators, clients, crash records). Nothing can reflect a write none of them
//! reflects, ever again: new versions and new writes' pasts come only from what is held. So:
//!
//! - such a write is forgotten; if it was acknowledged, it is lost for good (counted now, as the
//!   end would have), and a frontier that held it makes every later read of its key stale;
//! - a surviving write that no judgement names (not held, not a frontier, not a recent
//!   acknowledgement, not a session's or an in-flight read's requirement), that descends from at
//!   most one write and that exactly one surviving write descends from, is folded into that
//!   child: the child takes its parent, and its acknowledgement is kept as a count on the child.
//!   Nothing can become its child later (that would need it held), so it is reflected exactly
//!   when the child is, and lost exactly when the child is. A session client's writes form such
//!   chains, each descending from the last, and fold into their newest.
//!
//! Every judgement stays exact: the census is checked (a pruned write seen again is counted in
//! `census_misses`), and the tests compare shipped scenarios pruned every few hundred writes
//! with unpruned runs, byte for byte.

use super::{History, KeptWrite, Writes, VERSIONS_TRACKED};
use crate::observe::LostWrites;
use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{KeyId, WriteId};

/// Acknowledged writes folded into a later write: lost exactly when it is. Counted, with the
/// earliest named (as many as a lost-write list shows).
#[derive(Clone, Debug, Default)]
pub(super) struct Hidden {
    pub(super) key: KeyId,
    pub(super) count: u64,
    /// The earliest [`LostWrites::KEPT`], by (acknowledgement time, write), in that order.
    pub(super) earliest: Vec<(SimTime, WriteId)>,
}

impl Hidden {
    fn add(&mut self, at: SimTime, write: WriteId) {
        self.count += 1;
        let entry = (at, write);
        if self.earliest.len() < LostWrites::KEPT || self.earliest.last().is_some_and(|&last| entry < last) {
            let i = self.earliest.partition_point(|&e| e < entry);
            self.earliest.insert(i, entry);
            self.earliest.truncate(LostWrites::KEPT);
        }
    }

    fn absorb(&mut self, other: Hidden) {
        let count = self.count + other.count;
        for (at, write) in other.earliest {
            self.add(at, write);
        }
        self.count = count;
    }
}

/// An acknowledged write found lost for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrunedLoss {
    pub key: KeyId,
    pub write: WriteId,
    pub acked_at: SimTime,
}

/// What a prune found lost: named writes, and per key how many more (folded writes beyond the
/// earliest few).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrunedLosses {
    pub named: Vec<PrunedLoss>,
    pub unnamed: Vec<(KeyId, u64)>,
}

/// A folded write's losses, judged at the end with the write it was folded into.
pub struct HiddenLosses {
    /// The write they were folded into: they are lost if it is.
    pub head: WriteId,
    pub named: Vec<(WriteId, SimTime)>,
    pub unnamed: u64,
}

impl History {
    /// Prunes what nothing in `held` reflects and folds chains (see the module's summary).
    /// `probe_heads`: held writes of staleness probes, whose last versions a probe read walks
    /// back through.
    pub fn prune(&mut self, held: &[WriteId], probe_heads: &[WriteId]) -> PrunedLosses {
        self.check_held(held);
        let stamp = self.next_stamp();
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.extend_from_slice(held);
        while let Some(w) = stack.pop() {
            if let Some(false) = self.visit(w, stamp) {
                stack.extend_from_slice(self.parents(w));
            }
        }
        self.stack = stack;
        let targets = self.targets(held, probe_heads);
        let next = self.next_id();

        // Survivors, oldest first.
        let mut survivors: Vec<(WriteId, KeptWrite)> = Vec::new();
        let mut forgotten = 0u64;
        for (w, k) in std::mem::take(&mut self.kept) {
            if k.mark == stamp {
                survivors.push((w, k));
            } else {
                forgotten += 1;
            }
        }
        survivors.sort_unstable_by_key(|(w, _)| *w);
        for (i, parents) in std::mem::take(&mut self.parents).into_iter().enumerate() {
            if self.visit_mark[i] == stamp {
                let acked = self.acked[i / 64] & (1 << (i % 64)) != 0;
                survivors.push((WriteId(self.base + i as u64), KeptWrite { parents, mark: 0, acked }));
            } else {
                forgotten += 1;
            }
        }
        self.base = next;
        self.acked.clear();
        self.visit_mark.clear();

        let folded = self.fold_chains(&mut survivors, &targets);
        let folded_count = folded.len() as u64;
        self.kept = survivors.into_iter().filter(|(w, _)| !folded.contains_key(w)).collect();
        self.prune.prunes += 1;
        self.prune.writes_pruned += forgotten;
        self.prune.writes_folded += folded_count;
        self.prune.writes_kept = self.kept.len() as u64;

        let kept = &self.kept;
        let gone = |w: WriteId| w.0 < next && !kept.contains_key(&w) && !folded.contains_key(&w);
        let mut losses = PrunedLosses::default();
        let mut keys: Vec<KeyId> = self.acked_by_key.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let Some(acked) = self.acked_by_key.get_mut(&key) else { continue };
            let alive = |w: WriteId| w.0 >= next || kept.contains_key(&w);
            if acked.iter().all(|&(w, _)| alive(w)) {
                continue;
            }
            let lost = acked.iter().filter(|&&(w, _)| gone(w));
            losses.named.extend(lost.map(|&(write, acked_at)| PrunedLoss { key, write, acked_at }));
            for &(w, at) in acked.iter().filter(|(w, _)| folded.contains_key(w)) {
                let hidden = self.hidden.entry(Self::head(&folded, w)).or_default();
                hidden.key = key;
                hidden.add(at, w);
            }
            acked.retain(|&(w, _)| alive(w));
            if acked.is_empty() {
                self.acked_by_key.remove(&key);
            }
        }
        let mut dead_heads: Vec<WriteId> = self.hidden.keys().copied().filter(|&h| gone(h)).collect();
        dead_heads.sort_unstable();
        for head in dead_heads {
            let Some(h) = self.hidden.remove(&head) else { continue };
            losses.unnamed.push((h.key, h.count - h.earliest.len() as u64));
            losses.named.extend(h.earliest.iter().map(|&(acked_at, write)| PrunedLoss { key: h.key, write, acked_at }));
        }
        for (frontier, lost) in self.frontier.iter_mut().zip(self.frontier_lost.iter_mut()) {
            if frontier.as_slice().iter().any(|&w| gone(w)) {
                *lost = true;
                *frontier = frontier.as_slice().iter().copied().filter(|&w| !gone(w)).collect();
            }
        }
        self.sessions.forget_writes(gone);
        losses
    }

    /// Every write a judgement may name later, sorted: held ones (and a probe's versions before
    /// its held one), frontiers, recent acknowledgements, sessions' and in-flight reads'
    /// requirements.
    fn targets(&self, held: &[WriteId], probe_heads: &[WriteId]) -> Vec<WriteId> {
        let mut targets = held.to_vec();
        for &head in probe_heads {
            let mut version = Some(head);
            for _ in 0..VERSIONS_TRACKED {
                let Some(w) = version else { break };
                targets.push(w);
                version = self.parents(w).first().copied();
            }
        }
        for f in &self.frontier {
            targets.extend_from_slice(f.as_slice());
        }
        for r in &self.recent_acks {
            targets.extend_from_slice(r.as_slice());
        }
        for read in self.reads_in_flight.values() {
            targets.extend_from_slice(read.frontier.as_slice());
            targets.extend_from_slice(read.newest.as_slice());
            read.session.targets(&mut targets);
        }
        self.sessions.targets(&mut targets);
        targets.sort_unstable();
        targets.dedup();
        targets
    }

    /// Folds, newest first, every survivor no target names that has at most one parent and
    /// exactly one surviving child into that child; returns each folded write with the write it
    /// was folded into. Their acknowledgements move to [`History::hidden`] afterwards.
    fn fold_chains(&mut self, survivors: &mut [(WriteId, KeptWrite)], targets: &[WriteId]) -> FastMap<WriteId, WriteId> {
        let index = |s: &[(WriteId, KeptWrite)], w: WriteId| s.binary_search_by_key(&w, |(x, _)| *x).ok();
        let n = survivors.len();
        let mut children = vec![0u32; n];
        let mut only_child = vec![WriteId(0); n];
        for (child, kept) in survivors.iter() {
            for &p in kept.parents.as_slice() {
                if let Some(j) = index(survivors, p) {
                    children[j] += 1;
                    only_child[j] = *child;
                }
            }
        }
        let mut folded = FastMap::default();
        for i in (0..n).rev() {
            let w = survivors[i].0;
            if children[i] != 1 || survivors[i].1.parents.as_slice().len() > 1 || targets.binary_search(&w).is_ok() {
                continue;
            }
            let Some(c) = index(survivors, only_child[i]) else { continue };
            let parent = survivors[i].1.parents.as_slice().first().copied();
            let mut child_parents: Vec<WriteId> = survivors[c].1.parents.as_slice().iter().copied().filter(|&x| x != w).collect();
            if let Some(p) = parent {
                let pi = index(survivors, p);
                if child_parents.contains(&p) {
                    // The parent loses a child: w and the child were both its children.
                    if let Some(pi) = pi {
                        children[pi] -= 1;
                    }
                } else {
                    child_parents.push(p);
                }
                // If the parent has one child left, it is this child, which descends from it.
                if let Some(pi) = pi.filter(|&pi| children[pi] == 1) {
                    only_child[pi] = survivors[c].0;
                }
            }
            survivors[c].1.parents = Writes::from_slice(&child_parents);
            if let Some(hidden) = self.hidden.remove(&w) {
                let into = self.hidden.entry(survivors[c].0).or_default();
                into.key = hidden.key;
                into.absorb(hidden);
            }
            folded.insert(w, survivors[c].0);
        }
        folded
    }

    /// The write `w` was folded into in the end (folds chain newest first, so into a write
    /// folded later in the same prune, itself folded into another).
    fn head(folded: &FastMap<WriteId, WriteId>, mut w: WriteId) -> WriteId {
        while let Some(&into) = folded.get(&w) {
            w = into;
        }
        w
    }

    /// The acknowledged writes of `key` folded into a write none of the `held` versions
    /// reflects: lost with it (at the end, `held` being everything any replica holds).
    pub fn hidden_losses(&mut self, key: KeyId, held: &[WriteId]) -> Vec<HiddenLosses> {
        let mut heads: Vec<WriteId> = self.hidden.iter().filter(|(_, h)| h.key == key).map(|(&w, _)| w).collect();
        heads.sort_unstable();
        let mut out = Vec::new();
        for head in heads {
            if self.reflects(held, head) {
                continue;
            }
            if let Some(h) = self.hidden.get(&head) {
                out.push(HiddenLosses {
                    head,
                    named: h.earliest.iter().map(|&(at, w)| (w, at)).collect(),
                    unnamed: h.count - h.earliest.len() as u64,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ids::ClientId;

    /// A client's chain w1 <- w2 <- w3, then a blind w4 the replicas keep instead: the chain
    /// folds into w3 while w3 is held, and is lost, named, when nothing holds w3 any more.
    #[test]
    fn a_chain_folds_into_its_newest_write_and_is_lost_with_it() {
        let mut h = History::new(0, 1, usize::MAX);
        let (c, k) = (ClientId(0), KeyId(5));
        for w in 1..=3u64 {
            let parents = if w == 1 { Writes::default() } else { Writes::One(WriteId(w - 1)) };
            h.write_started(c, k, WriteId(w), parents);
            h.write_acked(WriteId(w), k, SimTime(w * 10));
        }
        // w1 and w2 are still among the key's recent acknowledgements, which a stale read counts
        // back through: as if VERSIONS_TRACKED later writes had pushed them out.
        h.recent_acks[k.index()] = Default::default();
        let losses = h.prune(&[WriteId(3)], &[]);
        assert!(losses.named.is_empty() && losses.unnamed.is_empty());
        assert_eq!(h.prune.writes_folded, 2, "w1 and w2 fold into w3");
        assert_eq!(h.kept.len(), 1);
        assert!(h.acked_writes(k).iter().all(|&(w, _)| w == WriteId(3)));
        h.write_started(ClientId(1), k, WriteId(4), Writes::default());
        h.write_acked(WriteId(4), k, SimTime(50));
        let losses = h.prune(&[WriteId(4)], &[]);
        let named: Vec<u64> = losses.named.iter().map(|l| l.write.0).collect();
        assert_eq!(named, [3, 1, 2], "w3 lost as itself, w1 and w2 with it");
        assert!(h.frontier_lost[k.index()], "w3 was in the frontier: later reads of k are stale");
        h.read_started(ClientId(2), 1, k);
        assert!(h.read_succeeded(ClientId(2), 1, &[WriteId(4)]));
        assert_eq!(h.prune.census_misses, 0);
    }

    #[test]
    fn a_pruned_write_seen_again_is_a_census_miss() {
        let mut h = History::new(0, 1, usize::MAX);
        h.write_started(ClientId(0), KeyId(0), WriteId(1), Writes::default());
        h.write_started(ClientId(0), KeyId(0), WriteId(2), Writes::default());
        h.prune(&[WriteId(2)], &[]);
        h.read_started(ClientId(1), 1, KeyId(0));
        h.read_succeeded(ClientId(1), 1, &[WriteId(1)]);
        assert_eq!(h.prune.census_misses, 1);
    }
}
