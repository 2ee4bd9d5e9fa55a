//! Versioning: vector clocks, dots, and the per-replica set of sibling versions of a key.
//!
//! A [`VectorClock`] holds `(node, counter, last-update time)` entries (Dynamo §4.4) and is
//! truncated past a threshold by dropping the entry updated longest ago. `compare` gives the
//! partial order: before / after / equal / concurrent.
//!
//! A replica's state for one key is a [`VersionSet`]: the sibling versions it holds, each named
//! by the *dot* `(coordinator, counter)` that minted it. Two ways to order them
//! ([`Resolution`]):
//!
//! - **Per-version vector clocks** (Dynamo §4.4, Voldemort): each sibling carries its own clock,
//!   the client's context with the coordinator's entry raised to a fresh counter and stamped with
//!   the coordinator's local time, truncated past a threshold by dropping the entry updated
//!   longest ago. A version is dropped when another's clock dominates (or equals) its own. The
//!   anomalies are Dynamo's: two writes coordinated by one node from the same stale context get
//!   clocks where the later dominates the earlier, silently losing an acknowledged write, and
//!   truncation can make a descendant look concurrent (a false sibling) or a concurrent version
//!   look dominated (a lost update).
//! - **Dotted version vectors** (Preguiça et al., Riak 2): siblings carry only their dot, and the
//!   set keeps one causal context (a vector clock and a few stray dots) of every version that has
//!   been superseded. Two writes from one context stay siblings whoever coordinates them, and
//!   truncation can only make reconciliation keep versions it could have dropped (false
//!   siblings), never drop one it should keep.
//!
//! Under both, syntactic reconciliation drops versions a newer write has seen and keeps causally
//! concurrent ones as siblings.
//!
//! Pure data and functions: no clock of its own, no randomness.

use crate::node::cart::Cart;
use crate::sim::engine::SimTime;
use crate::sim::ids::{NodeId, WriteId};
use std::cmp::Ordering;

/// The causal relation between two clocks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Causality {
    Before,
    After,
    Equal,
    Concurrent,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClockEntry {
    pub node: NodeId,
    pub counter: u64,
    pub updated_at: SimTime,
}

/// A vector clock: entries sorted by node, counters positive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VectorClock {
    /// A boxed slice, not a `Vec`: clocks are kept by the million (replicas' version sets,
    /// clients' session contexts) and rarely gain an entry, so a spare-capacity word and the
    /// usual doubling would be storage for nothing.
    entries: Box<[ClockEntry]>,
}

/// Changes a boxed slice as a `Vec`, then boxes it again with exactly its length: clocks and
/// dot lists are kept by the million and seldom change size, so they carry no spare capacity.
fn edit_boxed<T, R>(slice: &mut Box<[T]>, change: impl FnOnce(&mut Vec<T>) -> R) -> R {
    let mut items = std::mem::take(slice).into_vec();
    let result = change(&mut items);
    *slice = items.into_boxed_slice();
    result
}

/// The name of one version: the node that coordinated the write and its counter for the key.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dot {
    pub node: NodeId,
    pub counter: u64,
}

impl VectorClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn entries(&self) -> &[ClockEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, node: NodeId) -> u64 {
        match self.entries.binary_search_by_key(&node, |e| e.node) {
            Ok(i) => self.entries[i].counter,
            Err(_) => 0,
        }
    }

    /// Raises `node`'s counter to at least `counter`, stamping the entry if it moved.
    pub fn advance(&mut self, node: NodeId, counter: u64, at: SimTime) {
        match self.entries.binary_search_by_key(&node, |e| e.node) {
            Ok(i) => {
                let e = &mut self.entries[i];
                if counter > e.counter {
                    e.counter = counter;
                    e.updated_at = at;
                }
            }
            Err(i) => {
                if counter > 0 {
                    edit_boxed(&mut self.entries, |entries| {
                        entries.reserve_exact(1);
                        entries.insert(i, ClockEntry { node, counter, updated_at: at });
                    });
                }
            }
        }
    }

    /// Increments `node`'s entry (the coordinator's step in Dynamo §4.4).
    pub fn increment(&mut self, node: NodeId, at: SimTime) {
        let next = self.get(node) + 1;
        self.advance(node, next, at);
    }

    pub fn covers(&self, dot: Dot) -> bool {
        self.get(dot.node) >= dot.counter
    }

    /// Pointwise maximum; an entry keeps the update time of whichever side had the larger counter
    /// (the later time on a tie).
    pub fn merge(&mut self, other: &VectorClock) {
        if other.entries.is_empty() {
            return;
        }
        if self.entries.is_empty() {
            self.entries = other.entries.clone();
            return;
        }
        if other.entries.iter().all(|e| match self.entries.binary_search_by_key(&e.node, |m| m.node) {
            Ok(k) => {
                let m = &self.entries[k];
                m.counter > e.counter || (m.counter == e.counter && m.updated_at >= e.updated_at)
            }
            Err(_) => false,
        }) {
            // Nothing to take from `other` (the usual case when a context is merged into a
            // replica's): no new storage.
            return;
        }
        let distinct = self.entries.len() + other.entries.iter().filter(|e| self.get(e.node) == 0).count();
        let mut merged = Vec::with_capacity(distinct);
        let (mut i, mut j) = (0, 0);
        while i < self.entries.len() || j < other.entries.len() {
            let a = self.entries.get(i);
            let b = other.entries.get(j);
            match (a, b) {
                (Some(x), Some(y)) if x.node == y.node => {
                    merged.push(match x.counter.cmp(&y.counter) {
                        Ordering::Greater => *x,
                        Ordering::Less => *y,
                        Ordering::Equal => ClockEntry { updated_at: x.updated_at.max(y.updated_at), ..*x },
                    });
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.node < y.node => {
                    merged.push(*x);
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    merged.push(*y);
                    j += 1;
                }
                (Some(x), None) => {
                    merged.push(*x);
                    i += 1;
                }
                (None, Some(y)) => {
                    merged.push(*y);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        self.entries = merged.into_boxed_slice();
    }

    pub fn compare(&self, other: &VectorClock) -> Causality {
        let (mut less, mut greater) = (false, false);
        let (mut i, mut j) = (0, 0);
        loop {
            let a = self.entries.get(i);
            let b = other.entries.get(j);
            match (a, b) {
                (None, None) => break,
                (Some(x), Some(y)) if x.node == y.node => {
                    less |= x.counter < y.counter;
                    greater |= x.counter > y.counter;
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.node < y.node => {
                    greater = true;
                    i += 1;
                }
                (Some(_), None) => {
                    greater = true;
                    i += 1;
                }
                (_, Some(_)) => {
                    less = true;
                    j += 1;
                }
            }
            if less && greater {
                return Causality::Concurrent;
            }
        }
        match (less, greater) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::Before,
            (false, true) => Causality::After,
            (true, true) => Causality::Concurrent,
        }
    }

    /// Dynamo's truncation: while there are more than `threshold` entries, drop the one updated
    /// longest ago (ties: the lowest node id). Returns how many entries were dropped.
    pub fn truncate(&mut self, threshold: usize) -> usize {
        self.prune(&crate::node::clock_pruning::ClockPruning::by_size(threshold), SimTime::ZERO)
    }

    /// The entry updated longest ago (ties: the lowest node id).
    pub fn oldest(&self) -> Option<ClockEntry> {
        self.entries.iter().min_by_key(|e| (e.updated_at, e.node)).copied()
    }

    /// Drops `node`'s entry.
    pub fn remove(&mut self, node: NodeId) {
        if let Ok(i) = self.entries.binary_search_by_key(&node, |e| e.node) {
            edit_boxed(&mut self.entries, |entries| {
                entries.remove(i);
            });
        }
    }
}

/// A causal context: everything covered by a vector clock plus stray dots past it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CausalContext {
    pub clock: VectorClock,
    /// Dots not contiguous with the clock, sorted; folded into the clock as gaps fill.
    /// Boxed, like clock entries, and almost always empty (no allocation then).
    pub dots: Box<[Dot]>,
}

impl CausalContext {
    pub fn covers(&self, dot: Dot) -> bool {
        self.clock.covers(dot) || self.dots.binary_search(&dot).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.clock.is_empty() && self.dots.is_empty()
    }

    /// True if everything `other` covers, this covers too.
    pub fn includes(&self, other: &CausalContext) -> bool {
        other.clock.entries().iter().all(|e| self.clock.get(e.node) >= e.counter) && other.dots.iter().all(|d| self.covers(*d))
    }

    pub fn add_dot(&mut self, dot: Dot, at: SimTime) {
        if self.covers(dot) {
            return;
        }
        // The usual case, the next counter of a context without stray dots: what inserting the
        // dot and compacting would do, without allocating a list of dots that ends up empty.
        if self.dots.is_empty() && dot.counter == self.clock.get(dot.node) + 1 {
            self.clock.advance(dot.node, dot.counter, at);
            return;
        }
        if let Err(i) = self.dots.binary_search(&dot) {
            edit_boxed(&mut self.dots, |dots| dots.insert(i, dot));
        }
        self.compact(at);
    }

    pub fn merge(&mut self, other: &CausalContext, at: SimTime) {
        self.clock.merge(&other.clock);
        if !other.dots.is_empty() {
            edit_boxed(&mut self.dots, |dots| {
                for d in &other.dots {
                    if let Err(i) = dots.binary_search(d) {
                        dots.insert(i, *d);
                    }
                }
            });
        }
        self.compact(at);
    }

    /// Folds dots contiguous with the clock into it and drops dots the clock covers.
    fn compact(&mut self, at: SimTime) {
        if self.dots.is_empty() {
            return;
        }
        let clock = &mut self.clock;
        edit_boxed(&mut self.dots, |dots| {
            dots.retain(|d| {
                let c = clock.get(d.node);
                if d.counter <= c {
                    false
                } else if d.counter == c + 1 {
                    clock.advance(d.node, d.counter, at);
                    false
                } else {
                    true
                }
            })
        });
        // Dots are sorted by (node, counter), so one pass folds each node's contiguous run, but a
        // run that became contiguous only through a fold earlier in the pass is caught here.
        if self.dots.iter().any(|d| d.counter == self.clock.get(d.node) + 1) {
            self.compact(at);
        }
    }

    pub fn size(&self) -> usize {
        self.clock.len() + self.dots.len()
    }
}

/// One version of a key's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sibling {
    pub dot: Dot,
    /// The version's own vector clock under per-version clocks; empty under dotted version
    /// vectors and last-write-wins (the dot and the set's context say it all).
    pub clock: VectorClock,
    /// The coordinator's local time when it minted the version (last-write-wins uses it).
    pub written_at: SimTime,
    pub write: WriteId,
    /// The cart, for the shopping-cart value model; empty for registers, which carry only
    /// their write id (a cart write always holds at least its own item). Not an `Option`: that
    /// would take a word more in every message.
    pub cart: Cart,
    /// The object's size, carried in every message that carries the version.
    pub value_bytes: u32,
    /// A delete's marker (Cassandra's tombstone, Riak's `X-Riak-Deleted`): a version like any
    /// other for ordering, repair and hand-off, whose value is "no value".
    pub tombstone: bool,
}

impl Sibling {
    pub fn size_bytes(&self) -> usize {
        40 + 24 * self.clock.len() + self.cart.size_bytes() + self.value_bytes as usize
    }
}

/// How a replica resolves versions it cannot order causally.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Dynamo's per-version vector clocks: concurrent versions are kept as siblings for the
    /// client to merge, ordered by each version's own (truncated) clock.
    VectorClocks,
    /// Dotted version vectors (Riak 2): siblings ordered exactly by dots and one causal context.
    DottedVersionVectors,
    /// Keep only the version with the latest node timestamp (ties: the larger dot), as Cassandra
    /// does. A write that loses is dropped even though it was acknowledged, and clock skew
    /// decides who loses.
    LastWriteWins,
}

impl Sibling {
    /// Last-write-wins order: timestamp, then dot.
    fn lww_key(&self) -> (SimTime, Dot) {
        (self.written_at, self.dot)
    }
}

/// One replica's state for one key: sibling versions plus what has been superseded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionSet {
    /// Covers exactly the versions that some write superseded; never a current sibling's dot.
    pub superseded: CausalContext,
    /// Current versions, sorted by dot.
    pub siblings: Vec<Sibling>,
}

impl VersionSet {
    pub fn is_empty(&self) -> bool {
        self.siblings.is_empty()
    }

    /// Whether every current version is a delete's tombstone (and there is at least one): what
    /// a purge or a reap may remove.
    pub fn is_deleted(&self) -> bool {
        !self.siblings.is_empty() && self.siblings.iter().all(|s| s.tombstone)
    }

    /// The context a client gets back from a read: everything this set has seen. Under
    /// per-version clocks, the merge of the siblings' clocks (Dynamo's context).
    pub fn client_context(&self, at: SimTime) -> CausalContext {
        if self.siblings.iter().any(|s| !s.clock.is_empty()) {
            let mut clock = VectorClock::new();
            for s in &self.siblings {
                clock.merge(&s.clock);
            }
            return CausalContext { clock, dots: Box::default() };
        }
        let mut ctx = self.superseded.clone();
        for s in &self.siblings {
            ctx.add_dot(s.dot, at);
        }
        ctx
    }

    /// The highest counter `node` has used for this key, as far as this set knows.
    pub fn max_counter(&self, node: NodeId) -> u64 {
        let from_siblings =
            self.siblings.iter().map(|s| if s.dot.node == node { s.dot.counter } else { s.clock.get(node) }).max();
        let from_dots = self.superseded.dots.iter().filter(|d| d.node == node).map(|d| d.counter).max();
        self.superseded.clock.get(node).max(from_siblings.unwrap_or(0)).max(from_dots.unwrap_or(0))
    }

    /// A coordinator's write (Dynamo §4.4): the new version supersedes what the client's context
    /// covers; versions the client had not seen stay as siblings. Returns true when some sibling
    /// survived, i.e. the write was concurrent with a version it did not see.
    pub fn apply_write(&mut self, context: &CausalContext, new: Sibling, at: SimTime) -> bool {
        debug_assert!(!context.covers(new.dot), "a fresh dot is never already covered");
        self.siblings.retain(|s| !context.covers(s.dot));
        let concurrent = !self.siblings.is_empty();
        self.superseded.merge(context, at);
        let i = self.siblings.partition_point(|s| s.dot < new.dot);
        self.siblings.insert(i, new);
        concurrent
    }

    /// Syntactic reconciliation of two replicas' states: a version survives unless the other
    /// side superseded it. Idempotent, commutative and associative. Returns true if `self`
    /// changed.
    pub fn reconcile(&mut self, other: &VersionSet, at: SimTime) -> bool {
        if self == other {
            return false;
        }
        let before_len = self.siblings.len();
        let before_dots: Vec<Dot> = self.siblings.iter().map(|s| s.dot).collect();
        self.siblings.retain(|s| other.siblings.iter().any(|o| o.dot == s.dot) || !other.superseded.covers(s.dot));
        for o in &other.siblings {
            if !self.superseded.covers(o.dot) && !self.siblings.iter().any(|s| s.dot == o.dot) {
                let i = self.siblings.partition_point(|s| s.dot < o.dot);
                self.siblings.insert(i, o.clone());
            }
        }
        let old_superseded = self.superseded.clone();
        self.superseded.merge(&other.superseded, at);
        self.siblings.len() != before_len
            || self.siblings.iter().map(|s| s.dot).ne(before_dots)
            || self.superseded != old_superseded
    }

    /// A coordinator's write under per-version clocks: `new` carries its clock, and every
    /// version whose clock it dominates or equals is dropped, seen by the client or not.
    /// Returns true when some sibling survived.
    pub fn apply_clocked_write(&mut self, new: Sibling) -> bool {
        self.siblings.retain(|s| !matches!(s.clock.compare(&new.clock), Causality::Before | Causality::Equal));
        let concurrent = !self.siblings.is_empty();
        let i = self.siblings.partition_point(|s| s.dot < new.dot);
        self.siblings.insert(i, new);
        concurrent
    }

    /// Reconciliation under per-version clocks: the union of both sides' versions less every
    /// version another's clock dominates; of versions with equal clocks, the larger dot stays.
    /// The result is the maximal versions of the union under a strict order, so the merge is
    /// idempotent, commutative and associative. Returns true if `self` changed.
    pub fn reconcile_clocked(&mut self, other: &VersionSet) -> bool {
        if self.siblings == other.siblings {
            return false;
        }
        let before: Vec<Dot> = self.siblings.iter().map(|s| s.dot).collect();
        for o in &other.siblings {
            if let Err(i) = self.siblings.binary_search_by(|s| s.dot.cmp(&o.dot)) {
                self.siblings.insert(i, o.clone());
            }
        }
        let all = std::mem::take(&mut self.siblings);
        let beaten = |s: &Sibling| {
            all.iter().any(|o| match o.clock.compare(&s.clock) {
                Causality::After => true,
                Causality::Equal => o.dot > s.dot,
                _ => false,
            })
        };
        let kept: Vec<Sibling> = all.iter().filter(|s| !beaten(s)).cloned().collect();
        self.siblings = kept;
        self.siblings.iter().map(|s| s.dot).ne(before)
    }

    /// [`VersionSet::apply_write`] under a resolution policy: last-write-wins keeps one version.
    pub fn apply_write_with(&mut self, resolution: Resolution, context: &CausalContext, new: Sibling, at: SimTime) -> bool {
        match resolution {
            Resolution::VectorClocks => self.apply_clocked_write(new),
            Resolution::DottedVersionVectors => self.apply_write(context, new, at),
            Resolution::LastWriteWins => {
                let concurrent = self.siblings.iter().any(|s| !context.covers(s.dot));
                self.siblings.push(new);
                self.keep_latest();
                concurrent
            }
        }
    }

    /// [`VersionSet::reconcile`] under a resolution policy.
    pub fn reconcile_with(&mut self, resolution: Resolution, other: &VersionSet, at: SimTime) -> bool {
        match resolution {
            Resolution::VectorClocks => self.reconcile_clocked(other),
            Resolution::DottedVersionVectors => self.reconcile(other, at),
            Resolution::LastWriteWins => {
                let before: Vec<Dot> = self.siblings.iter().map(|s| s.dot).collect();
                self.siblings.extend(other.siblings.iter().cloned());
                self.keep_latest();
                self.siblings.iter().map(|s| s.dot).ne(before)
            }
        }
    }

    fn keep_latest(&mut self) {
        if let Some(latest) = self.siblings.iter().max_by_key(|s| s.lww_key()).cloned() {
            self.siblings.clear();
            self.siblings.push(latest);
        }
    }

    /// Prunes the superseded clock (see [`crate::node::clock_pruning`]); returns entries
    /// dropped.
    pub fn prune(&mut self, rule: &crate::node::clock_pruning::ClockPruning, now: SimTime) -> usize {
        self.superseded.clock.prune(rule, now)
    }

    /// Same current versions (what replicas must agree on to have converged).
    pub fn same_versions(&self, other: &VersionSet) -> bool {
        self.siblings.len() == other.siblings.len() && self.siblings.iter().zip(&other.siblings).all(|(a, b)| a.dot == b.dot)
    }

    pub fn size_bytes(&self) -> usize {
        24 * self.superseded.size() + self.siblings.iter().map(|s| s.size_bytes()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(pairs: &[(u32, u64)]) -> VectorClock {
        let mut c = VectorClock::new();
        for &(n, k) in pairs {
            c.advance(NodeId(n), k, SimTime(n as u64));
        }
        c
    }

    fn dot(n: u32, c: u64) -> Dot {
        Dot { node: NodeId(n), counter: c }
    }

    fn sib(n: u32, c: u64, w: u64) -> Sibling {
        Sibling {
            dot: dot(n, c),
            clock: VectorClock::new(),
            written_at: SimTime(w),
            write: WriteId(w),
            cart: Default::default(),
            value_bytes: 0,
            tombstone: false,
        }
    }

    #[test]
    fn clock_merge_is_the_pointwise_maximum() {
        use crate::sim::rng::{index, Seeds, Stream};
        let mut rng = Seeds::new(13).stream(Stream::Workload, 0);
        let random_clock = |rng: &mut crate::sim::rng::SimRng| {
            let mut c = VectorClock::new();
            for _ in 0..index(rng, 5) {
                c.advance(NodeId(index(rng, 6) as u32), 1 + index(rng, 4) as u64, SimTime(index(rng, 3) as u64));
            }
            c
        };
        for _ in 0..5_000 {
            let (mut a, b) = (random_clock(&mut rng), random_clock(&mut rng));
            let mut expected = std::collections::BTreeMap::new();
            for e in a.entries().iter().chain(b.entries()) {
                let slot = expected.entry(e.node).or_insert(*e);
                if (e.counter, e.updated_at) > (slot.counter, slot.updated_at) {
                    *slot = *e;
                }
            }
            a.merge(&b);
            assert_eq!(a.entries(), expected.values().copied().collect::<Vec<_>>().as_slice());
        }
    }

    #[test]
    fn adding_a_dot_equals_inserting_it_and_compacting() {
        use crate::sim::rng::{index, Seeds, Stream};
        let mut rng = Seeds::new(9).stream(Stream::Workload, 0);
        for _ in 0..2_000 {
            let (mut fast, mut reference) = (CausalContext::default(), CausalContext::default());
            for step in 0..12u64 {
                // Small counters on few nodes, so dots are often next, often stray, often covered.
                let d = dot(index(&mut rng, 3) as u32, 1 + index(&mut rng, 6) as u64);
                let at = SimTime(step);
                fast.add_dot(d, at);
                if !reference.covers(d) {
                    let mut dots = reference.dots.to_vec();
                    if let Err(i) = dots.binary_search(&d) {
                        dots.insert(i, d);
                    }
                    reference.dots = dots.into();
                    reference.compact(at);
                }
                assert_eq!(fast, reference, "after adding {d:?}");
            }
        }
    }

    #[test]
    fn compare_is_a_partial_order() {
        let a = vc(&[(1, 1)]);
        let b = vc(&[(1, 2)]);
        let c = vc(&[(1, 1), (2, 1)]);
        let d = vc(&[(1, 2), (2, 1)]);
        assert_eq!(a.compare(&a), Causality::Equal);
        assert_eq!(a.compare(&b), Causality::Before);
        assert_eq!(b.compare(&a), Causality::After);
        assert_eq!(b.compare(&c), Causality::Concurrent);
        assert_eq!(c.compare(&b), Causality::Concurrent);
        assert_eq!(a.compare(&d), Causality::Before);
        assert_eq!(c.compare(&d), Causality::Before);
        assert_eq!(VectorClock::new().compare(&a), Causality::Before);
        // Transitivity on a chain.
        let chain = [vc(&[(1, 1)]), vc(&[(1, 1), (3, 2)]), vc(&[(1, 4), (3, 2)]), vc(&[(1, 4), (2, 1), (3, 2)])];
        for i in 0..chain.len() {
            for j in i + 1..chain.len() {
                assert_eq!(chain[i].compare(&chain[j]), Causality::Before, "{i} {j}");
            }
        }
    }

    #[test]
    fn merge_is_the_least_upper_bound() {
        let mut m = vc(&[(1, 2), (3, 1)]);
        m.merge(&vc(&[(1, 1), (2, 5)]));
        assert_eq!(m, vc(&[(1, 2), (2, 5), (3, 1)]));
        assert_eq!(vc(&[(1, 2), (3, 1)]).compare(&m), Causality::Before);
        assert_eq!(vc(&[(1, 1), (2, 5)]).compare(&m), Causality::Before);
    }

    #[test]
    fn truncation_drops_the_entry_updated_longest_ago() {
        let mut c = VectorClock::new();
        c.advance(NodeId(5), 1, SimTime(30));
        c.advance(NodeId(1), 1, SimTime(10));
        c.advance(NodeId(9), 1, SimTime(20));
        assert_eq!(c.truncate(3), 0);
        assert_eq!(c.truncate(2), 1);
        assert_eq!(c.get(NodeId(1)), 0, "the oldest entry goes");
        assert_eq!(c.get(NodeId(9)), 1);
        c.increment(NodeId(9), SimTime(40));
        assert_eq!(c.truncate(1), 1);
        assert_eq!(c.entries().len(), 1);
        assert_eq!(c.get(NodeId(9)), 2, "the freshest entry stays");
    }

    #[test]
    fn context_folds_contiguous_dots() {
        let mut ctx = CausalContext::default();
        ctx.add_dot(dot(1, 2), SimTime(0));
        assert!(!ctx.covers(dot(1, 1)));
        assert!(ctx.covers(dot(1, 2)));
        ctx.add_dot(dot(1, 1), SimTime(0));
        assert_eq!(ctx.clock.get(NodeId(1)), 2);
        assert!(ctx.dots.is_empty());
    }

    #[test]
    fn includes_compares_what_contexts_cover() {
        let mut a = CausalContext::default();
        a.add_dot(dot(1, 1), SimTime(0));
        a.add_dot(dot(2, 3), SimTime(0));
        let mut b = CausalContext::default();
        b.add_dot(dot(1, 1), SimTime(0));
        assert!(a.includes(&b));
        assert!(!b.includes(&a));
        b.add_dot(dot(2, 2), SimTime(0));
        assert!(!a.includes(&b), "a has 2:3 but not 2:2");
        assert!(a.includes(&CausalContext::default()));
    }

    #[test]
    fn write_from_a_stale_context_keeps_the_unseen_version_as_sibling() {
        // Two clients read the same state and write through the same coordinator: with plain
        // per-version clocks the second would dominate the first; here both survive.
        let mut replica = VersionSet::default();
        let empty = CausalContext::default();
        assert!(!replica.apply_write(&empty, sib(1, 1, 1), SimTime(1)));
        let seen = replica.client_context(SimTime(1));
        assert!(!replica.apply_write(&seen, sib(1, 2, 2), SimTime(2)));
        assert!(replica.apply_write(&seen, sib(1, 3, 3), SimTime(3)), "concurrent write detected");
        let writes: Vec<u64> = replica.siblings.iter().map(|s| s.write.0).collect();
        assert_eq!(writes, vec![2, 3]);
        // A client that saw both resolves them.
        let both = replica.client_context(SimTime(4));
        assert!(!replica.apply_write(&both, sib(2, 1, 4), SimTime(4)));
        assert_eq!(replica.siblings.len(), 1);
    }

    #[test]
    fn reconcile_keeps_concurrent_and_drops_superseded() {
        let mut a = VersionSet::default();
        a.apply_write(&CausalContext::default(), sib(1, 1, 1), SimTime(1));
        let mut b = a.clone();
        let ctx = a.client_context(SimTime(1));
        a.apply_write(&ctx, sib(1, 2, 2), SimTime(2));
        b.apply_write(&ctx, sib(2, 1, 3), SimTime(3));
        let mut ab = a.clone();
        assert!(ab.reconcile(&b, SimTime(4)));
        let mut ba = b.clone();
        ba.reconcile(&a, SimTime(4));
        assert!(ab.same_versions(&ba));
        assert_eq!(ab.siblings.iter().map(|s| s.write.0).collect::<Vec<_>>(), vec![2, 3]);
        // The superseded first version never comes back from an old replica.
        let mut old = VersionSet::default();
        old.apply_write(&CausalContext::default(), sib(1, 1, 1), SimTime(1));
        assert!(!ab.clone().reconcile(&old, SimTime(5)), "a superseded version changes nothing");
        let mut again = ab.clone();
        again.reconcile(&old, SimTime(5));
        assert!(again.same_versions(&ab));
        // Idempotent.
        let mut twice = ab.clone();
        assert!(!twice.reconcile(&ab, SimTime(6)));
    }

    #[test]
    fn reconcile_is_associative_on_three_divergent_replicas() {
        let base = {
            let mut v = VersionSet::default();
            v.apply_write(&CausalContext::default(), sib(1, 1, 1), SimTime(1));
            v
        };
        let ctx = base.client_context(SimTime(1));
        let mut x = base.clone();
        x.apply_write(&ctx, sib(1, 2, 2), SimTime(2));
        let mut y = base.clone();
        y.apply_write(&ctx, sib(2, 1, 3), SimTime(3));
        let mut z = x.clone();
        let zctx = z.client_context(SimTime(4));
        z.apply_write(&zctx, sib(3, 1, 4), SimTime(4));
        let mut left = x.clone();
        left.reconcile(&y, SimTime(5));
        left.reconcile(&z, SimTime(5));
        let mut yz = y.clone();
        yz.reconcile(&z, SimTime(5));
        let mut right = x.clone();
        right.reconcile(&yz, SimTime(5));
        assert!(left.same_versions(&right));
        assert_eq!(left.siblings.iter().map(|s| s.write.0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn truncation_only_adds_false_siblings() {
        let mut a = VersionSet::default();
        a.apply_write(&CausalContext::default(), sib(1, 1, 1), SimTime(1));
        let old = a.clone();
        let ctx = a.client_context(SimTime(2));
        a.apply_write(&ctx, sib(2, 1, 2), SimTime(2));
        assert_eq!(a.prune(&crate::node::clock_pruning::ClockPruning::by_size(0), SimTime(2)), 1);
        a.reconcile(&old, SimTime(3));
        assert_eq!(a.siblings.len(), 2, "the superseded version resurfaces as a false sibling");
    }

    #[test]
    fn last_write_wins_keeps_the_latest_timestamp_whatever_the_causality() {
        let mut a = VersionSet::default();
        let ctx = CausalContext::default();
        a.apply_write_with(Resolution::LastWriteWins, &ctx, sib(1, 1, 10), SimTime(10));
        // A later write that saw nothing still wins; an earlier-stamped one is dropped.
        assert!(a.apply_write_with(Resolution::LastWriteWins, &ctx, sib(2, 1, 20), SimTime(20)));
        a.apply_write_with(Resolution::LastWriteWins, &ctx, sib(3, 1, 5), SimTime(30));
        assert_eq!(a.siblings.iter().map(|s| s.write.0).collect::<Vec<_>>(), vec![20]);
        let mut b = VersionSet::default();
        b.apply_write_with(Resolution::LastWriteWins, &ctx, sib(4, 1, 15), SimTime(15));
        let mut ab = a.clone();
        ab.reconcile_with(Resolution::LastWriteWins, &b, SimTime(40));
        let mut ba = b.clone();
        ba.reconcile_with(Resolution::LastWriteWins, &a, SimTime(40));
        assert!(ab.same_versions(&ba));
        assert_eq!(ab.siblings[0].write.0, 20);
    }

    /// A version minted under per-version clocks: the context's clock with `node`'s entry raised
    /// to `counter` at `at`, truncated at `threshold`.
    fn clocked(node: u32, counter: u64, context: &VectorClock, at: u64, threshold: usize, write: u64) -> Sibling {
        let mut clock = context.clone();
        clock.advance(NodeId(node), counter, SimTime(at));
        clock.truncate(threshold);
        Sibling {
            dot: dot(node, counter),
            clock,
            written_at: SimTime(at),
            write: WriteId(write),
            cart: Default::default(),
            value_bytes: 0,
            tombstone: false,
        }
    }

    fn writes(set: &VersionSet) -> Vec<u64> {
        set.siblings.iter().map(|s| s.write.0).collect()
    }

    #[test]
    fn one_coordinator_minting_twice_from_a_stale_context_drops_an_acknowledged_write() {
        // Two clients read version 1 ({A:1}); both write through node A. A's counter rises
        // with each write, so the second clock {A:3} dominates the first {A:2}.
        let v1 = clocked(0, 1, &VectorClock::new(), 1, 10, 1);
        let mut replica = VersionSet::default();
        replica.apply_clocked_write(v1.clone());
        let context = v1.clock.clone();
        replica.apply_clocked_write(clocked(0, 2, &context, 2, 10, 2));
        replica.apply_clocked_write(clocked(0, 3, &context, 3, 10, 3));
        assert_eq!(writes(&replica), vec![3], "per-version clocks lose write 2");
        // Dotted version vectors keep both: the second write's context does not cover dot (A,2).
        let mut dvv = VersionSet::default();
        dvv.apply_write(&CausalContext::default(), sib(0, 1, 1), SimTime(1));
        let seen = dvv.client_context(SimTime(1));
        dvv.apply_write(&seen, sib(0, 2, 2), SimTime(2));
        dvv.apply_write(&seen, sib(0, 3, 3), SimTime(3));
        assert_eq!(writes(&dvv), vec![2, 3], "dotted version vectors keep both as siblings");
    }

    #[test]
    fn truncating_per_version_clocks_makes_false_siblings() {
        // Write 2 descends from write 1 ({A:1}) through node B; truncated to one entry, its
        // clock {B:1} no longer shows it and the two look concurrent.
        let v1 = clocked(0, 1, &VectorClock::new(), 1, 1, 1);
        for (threshold, expected) in [(10, vec![2]), (1, vec![1, 2])] {
            let v2 = clocked(1, 1, &v1.clock, 2, threshold, 2);
            let mut a = VersionSet { siblings: vec![v1.clone()], ..VersionSet::default() };
            let b = VersionSet { siblings: vec![v2], ..VersionSet::default() };
            a.reconcile_clocked(&b);
            assert_eq!(writes(&a), expected, "threshold {threshold}");
        }
    }

    #[test]
    fn truncating_per_version_clocks_loses_an_update() {
        // Write 3 ({A:2, B:1}) and write 4 ({A:3}, from a client that saw only write 1) are
        // concurrent. Truncated to one entry, write 3 keeps only {A:2}, which write 4 dominates.
        let v1 = clocked(0, 1, &VectorClock::new(), 1, 10, 1);
        for (threshold, expected) in [(10, vec![3, 4]), (1, vec![4])] {
            let v2 = clocked(1, 1, &v1.clock, 2, threshold, 2);
            let mut seen = v1.clock.clone();
            seen.merge(&v2.clock);
            let v3 = clocked(0, 2, &seen, 3, threshold, 3);
            let v4 = clocked(0, 3, &v1.clock, 4, threshold, 4);
            let mut replica = VersionSet { siblings: vec![v3], ..VersionSet::default() };
            replica.reconcile_clocked(&VersionSet { siblings: vec![v4], ..VersionSet::default() });
            let mut got = writes(&replica);
            got.sort_unstable();
            assert_eq!(got, expected, "threshold {threshold}");
        }
    }

    #[test]
    fn clocked_reconciliation_is_commutative_associative_and_idempotent() {
        use crate::sim::rng::{index, Seeds, Stream};
        let mut rng = Seeds::new(7).stream(Stream::Workload, 0);
        for _ in 0..2_000 {
            let mut sets = Vec::new();
            for s in 0..3u64 {
                let mut set = VersionSet::default();
                for k in 0..1 + index(&mut rng, 3) as u64 {
                    let mut clock = VectorClock::new();
                    for _ in 0..index(&mut rng, 3) {
                        clock.advance(NodeId(index(&mut rng, 3) as u32), 1 + index(&mut rng, 3) as u64, SimTime(1));
                    }
                    let node = index(&mut rng, 3) as u32;
                    let sibling = clocked(node, 10 * s + k + 1, &clock, 1, 10, 10 * s + k + 1);
                    set.reconcile_clocked(&VersionSet { siblings: vec![sibling], ..VersionSet::default() });
                }
                sets.push(set);
            }
            let merge = |a: &VersionSet, b: &VersionSet| {
                let mut m = a.clone();
                m.reconcile_clocked(b);
                m
            };
            let (a, b, c) = (&sets[0], &sets[1], &sets[2]);
            assert_eq!(merge(a, b), merge(b, a));
            assert_eq!(merge(&merge(a, b), c), merge(a, &merge(b, c)));
            assert_eq!(merge(a, a), *a);
        }
    }
}
