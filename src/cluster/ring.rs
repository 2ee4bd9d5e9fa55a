//! Consistent hashing: key positions, tokens (virtual nodes) and preference lists.
//!
//! A key's position is the MD5 of its name read as a big-endian 128-bit integer (Dynamo §4.2).
//! Three partitioning strategies from Dynamo §6.2:
//! 1. `random_tokens`: T random tokens per node; a key belongs to the first token clockwise.
//! 2. `random_tokens_equal_partitions`: T random tokens per node, but the ring is cut into Q
//!    equal partitions and a key's preference list is walked from the end of its partition.
//! 3. `equal_partitions`: Q equal partitions, Q/S of them per node (one token at each partition's
//!    end), so membership metadata is one entry per partition.
//!
//! Token positions for node i come from the ring stream with index i, so adding a node never
//! moves another node's tokens. Pure data and functions: no clock, no I/O.

use crate::sim::ids::{KeyId, NodeId};
use crate::sim::rng::{index, Seeds, Stream};
use rand::Rng;

/// The position of a key name on the ring.
pub fn key_position(name: &str) -> u128 {
    u128::from_be_bytes(md5::compute(name.as_bytes()).0)
}

#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    RandomTokens { tokens_per_node: u32 },
    RandomTokensEqualPartitions { tokens_per_node: u32, partitions: u32 },
    EqualPartitions { partitions: u32 },
}

/// A physical node as the ring sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RingMember {
    pub node: NodeId,
    pub weight: f64,
    pub datacenter: u16,
}

#[derive(Clone, Debug)]
pub struct Ring {
    strategy: Strategy,
    /// (position, owner), sorted by position.
    tokens: Vec<(u128, NodeId)>,
    members: Vec<RingMember>,
    /// Datacenter of each node by node index (for spreading replicas).
    node_datacenter: Vec<u16>,
    datacenter_count: usize,
    spread_across_datacenters: bool,
    seed: u64,
    fingerprint: u64,
    /// `token_guide[b]` counts the tokens below the first position whose top bits are `b`, so
    /// finding a position's place needs a binary search only inside its bucket: a plain search
    /// over a 1,000-node ring's 256,000 tokens was a string of cache misses.
    token_guide: Vec<u32>,
    guide_shift: u32,
    /// Preference lists already walked (see [`Ring::cached_list`]); emptied when tokens change.
    cache: std::cell::RefCell<ListCache>,
}

/// Extended preference lists for one ring, walked once each: walking the ring for every request
/// was a tenth of the run time. A list depends only on the token the walk starts from, so lists
/// are kept per token and keys remember their token: a million keys share 256,000 lists, and a
/// small ring's lists stay in cache however many keys there are.
#[derive(Clone, Debug, Default)]
struct ListCache {
    n: usize,
    stride: usize,
    /// Per key: the index of the token its walk starts from, or `UNKNOWN`.
    first_token: Vec<u32>,
    /// Per token: `stride` slots of nodes.
    nodes: Vec<NodeId>,
    /// Per token: 0 if not walked yet, else the list's length plus one.
    lens: Vec<u8>,
}

const UNKNOWN: u32 = u32::MAX;

fn partition_size(q: u32) -> u128 {
    u128::MAX / q as u128 + 1
}

fn partition_end(position: u128, q: u32) -> u128 {
    let size = partition_size(q);
    let p = position / size;
    (p * size).saturating_add(size - 1)
}

fn token_count(tokens_per_node: u32, weight: f64) -> usize {
    ((tokens_per_node as f64 * weight).round() as usize).max(1)
}

impl Ring {
    /// Whether the key space is cut into fixed partitions (strategies 2 and 3): a node can then
    /// keep each partition in a file of its own and hand it off whole (Dynamo §6.2).
    pub fn fixed_partitions(&self) -> bool {
        !matches!(self.strategy, Strategy::RandomTokens { .. })
    }

    pub fn new(strategy: Strategy, members: Vec<RingMember>, spread_across_datacenters: bool, seed: u64) -> Ring {
        let mut ring = Ring {
            strategy,
            tokens: Vec::new(),
            members: Vec::new(),
            node_datacenter: Vec::new(),
            datacenter_count: 1,
            spread_across_datacenters,
            seed,
            fingerprint: 0,
            token_guide: Vec::new(),
            guide_shift: 127,
            cache: Default::default(),
        };
        // Random tokens are all drawn, then sorted once (sorting after each of S members was
        // quadratic); equal partitions are dealt once among all the starting members (dealing
        // them member by member, as joins do, cost S deals of Q partitions each).
        for m in members {
            ring.insert_member(m, false);
        }
        match ring.strategy {
            Strategy::EqualPartitions { partitions } => ring.assign_equal_partitions(partitions),
            _ => ring.tokens.sort_unstable(),
        }
        ring.tokens_changed();
        ring
    }

    /// The ring of `members` for a cluster that started as `initial`. Random tokens depend only
    /// on who is in the ring. Equal partitions are reached from the starting ring by removing,
    /// then adding, one member at a time in node order, each change moving only the partitions
    /// it must (Dynamo §6.2: a joining node steals partitions from the others); dealt afresh
    /// for each membership, a join would move almost every partition.
    pub fn from_start(
        strategy: Strategy,
        initial: Vec<RingMember>,
        members: Vec<RingMember>,
        spread_across_datacenters: bool,
        seed: u64,
    ) -> Ring {
        if !matches!(strategy, Strategy::EqualPartitions { .. }) {
            return Ring::new(strategy, members, spread_across_datacenters, seed);
        }
        let mut gone: Vec<NodeId> = initial.iter().map(|m| m.node).filter(|n| !members.iter().any(|m| m.node == *n)).collect();
        let mut added: Vec<RingMember> = members.into_iter().filter(|m| !initial.iter().any(|i| i.node == m.node)).collect();
        gone.sort();
        added.sort_by_key(|m| m.node);
        let mut ring = Ring::new(strategy, initial, spread_across_datacenters, seed);
        for node in gone {
            ring.remove_member(node);
        }
        for member in added {
            ring.add_member(member);
        }
        ring
    }

    /// Identifies the ring's token layout: rings with equal fingerprints route every key alike.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Recomputes what depends on the token layout: the fingerprint and the guide.
    fn tokens_changed(&mut self) {
        let bits = self.tokens.len().max(2).next_power_of_two().trailing_zeros().min(20);
        self.guide_shift = 128 - bits;
        let buckets = 1usize << bits;
        let mut guide = Vec::with_capacity(buckets + 1);
        let mut below = 0;
        for b in 0..buckets {
            let first = (b as u128) << self.guide_shift;
            while below < self.tokens.len() && self.tokens[below].0 < first {
                below += 1;
            }
            guide.push(below as u32);
        }
        guide.push(self.tokens.len() as u32);
        self.token_guide = guide;
        let mut h = crate::sim::fastmap::FxHasher::default();
        for &(p, n) in &self.tokens {
            std::hash::Hasher::write_u64(&mut h, (p >> 64) as u64 ^ p as u64);
            std::hash::Hasher::write_u32(&mut h, n.0);
        }
        self.fingerprint = std::hash::Hasher::finish(&h);
        self.cache = Default::default();
    }

    /// How many tokens lie below `position` (the index of the first at or after it).
    fn tokens_below(&self, position: u128) -> usize {
        let b = (position >> self.guide_shift) as usize;
        let (lo, hi) = (self.token_guide[b] as usize, self.token_guide[b + 1] as usize);
        lo + self.tokens[lo..hi].partition_point(|&(p, _)| p < position)
    }

    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    pub fn members(&self) -> &[RingMember] {
        &self.members
    }

    /// The datacenter of a node that is or was a member.
    pub fn datacenter_of(&self, node: NodeId) -> u16 {
        self.node_datacenter.get(node.index()).copied().unwrap_or(0)
    }

    pub fn tokens(&self) -> &[(u128, NodeId)] {
        &self.tokens
    }

    /// Adds a node, taking tokens by the ring's strategy. For equal partitions the new node
    /// takes partitions one at a time from whichever node holds the most (ties: lowest id),
    /// so ownership stays within one partition of even.
    pub fn add_member(&mut self, member: RingMember) {
        self.insert_member(member, true);
        self.tokens_changed();
    }

    fn insert_member(&mut self, member: RingMember, sort: bool) {
        let node = member.node;
        if self.node_datacenter.len() <= node.index() {
            self.node_datacenter.resize(node.index() + 1, 0);
        }
        self.node_datacenter[node.index()] = member.datacenter;
        self.members.push(member.clone());
        if !self.members[..self.members.len() - 1].iter().any(|m| m.datacenter == member.datacenter) {
            self.datacenter_count = if self.members.len() == 1 { 1 } else { self.datacenter_count + 1 };
        }
        match self.strategy.clone() {
            Strategy::RandomTokens { tokens_per_node } | Strategy::RandomTokensEqualPartitions { tokens_per_node, .. } => {
                let mut rng = Seeds::new(self.seed).stream(Stream::Ring, node.0 as u64);
                for _ in 0..token_count(tokens_per_node, member.weight) {
                    let pos = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
                    self.tokens.push((pos, node));
                }
                if sort {
                    self.tokens.sort_unstable();
                }
            }
            Strategy::EqualPartitions { partitions } => {
                if sort {
                    self.assign_equal_partitions(partitions)
                }
            }
        }
    }

    /// Removes a node; its ranges fall to the next tokens clockwise (or, for equal partitions,
    /// are dealt back to the remaining nodes).
    pub fn remove_member(&mut self, node: NodeId) {
        self.members.retain(|m| m.node != node);
        match self.strategy.clone() {
            Strategy::EqualPartitions { partitions } => self.assign_equal_partitions(partitions),
            _ => self.tokens.retain(|&(_, n)| n != node),
        }
        self.tokens_changed();
    }

    /// Deals Q partitions to members in proportion to weight, disturbing existing owners as
    /// little as possible: a partition moves only from an over-quota node to an under-quota one.
    fn assign_equal_partitions(&mut self, q: u32) {
        let size = partition_size(q);
        let total_weight: f64 = self.members.iter().map(|m| m.weight).sum();
        if self.members.is_empty() {
            self.tokens.clear();
            return;
        }
        // Quotas by largest remainder, ties to the lowest node id. Every lookup below is by node
        // index, so a deal costs O(Q + S log S).
        let slots = self.members.iter().map(|m| m.node.index() + 1).max().unwrap_or(0);
        let mut quota = vec![0usize; slots];
        let mut remainders: Vec<(f64, NodeId)> = Vec::new();
        let mut assigned = 0usize;
        for m in &self.members {
            let exact = q as f64 * m.weight / total_weight;
            quota[m.node.index()] = exact.floor() as usize;
            assigned += exact.floor() as usize;
            remainders.push((exact - exact.floor(), m.node));
        }
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, node) in remainders.iter().take(q as usize - assigned) {
            quota[node.index()] += 1;
        }
        let mut owner: Vec<Option<NodeId>> = vec![None; q as usize];
        if self.tokens.len() == q as usize {
            for (i, &(_, n)) in self.tokens.iter().enumerate() {
                owner[i] = Some(n);
            }
        }
        let mut held = vec![0usize; slots];
        // Visit partitions in a seeded random order, so that the partitions an over-quota node
        // keeps (and the free ones dealt out) are scattered round the ring: contiguous blocks
        // would pile every block's second and third replicas onto a few neighbours.
        let mut order: Vec<usize> = (0..q as usize).collect();
        let mut rng = Seeds::new(self.seed).stream(Stream::Ring, u64::MAX - self.members.len() as u64);
        for i in (1..order.len()).rev() {
            let j = index(&mut rng, i + 1);
            order.swap(i, j);
        }
        // Keep partitions whose owner is still a member and under quota; free the rest (a node
        // that left has quota 0).
        for &p in &order {
            if let Some(n) = owner[p] {
                match held.get_mut(n.index()) {
                    Some(h) if *h < quota[n.index()] => *h += 1,
                    _ => owner[p] = None,
                }
            }
        }
        // Deal the free partitions, in that same random order, to under-quota nodes by id.
        let free_list: Vec<usize> = order.iter().copied().filter(|&p| owner[p].is_none()).collect();
        let mut free = free_list.into_iter();
        let mut by_id: Vec<NodeId> = self.members.iter().map(|m| m.node).collect();
        by_id.sort();
        for n in by_id {
            while held[n.index()] < quota[n.index()] {
                match free.next() {
                    Some(p) => {
                        owner[p] = Some(n);
                        held[n.index()] += 1;
                    }
                    None => break,
                }
            }
        }
        self.tokens =
            owner.iter().enumerate().filter_map(|(p, o)| o.map(|n| ((p as u128 * size).saturating_add(size - 1), n))).collect();
    }

    /// Where a preference-list walk starts for a key position.
    fn walk_start(&self, position: u128) -> u128 {
        match self.strategy {
            Strategy::RandomTokens { .. } => position,
            Strategy::RandomTokensEqualPartitions { partitions, .. } | Strategy::EqualPartitions { partitions } => {
                partition_end(position, partitions)
            }
        }
    }

    /// Fills `out` with up to `len` distinct physical nodes for a key: the top `n` first, then
    /// fall-backs in ring order. With datacenter spreading, the top `n` hold at most
    /// ceil(n / datacenters) nodes of any one datacenter when the ring allows it.
    pub fn preference_list(&self, position: u128, n: usize, len: usize, out: &mut Vec<NodeId>) {
        out.clear();
        if self.tokens.is_empty() {
            return;
        }
        self.walk_from(self.first_token(position), n, len, out);
    }

    /// The index of the token a walk for `position` starts from.
    fn first_token(&self, position: u128) -> usize {
        self.tokens_below(self.walk_start(position)) % self.tokens.len()
    }

    /// [`Ring::preference_list`] from the token at index `first` of a non-empty ring.
    fn walk_from(&self, first: usize, n: usize, len: usize, out: &mut Vec<NodeId>) {
        out.clear();
        let len = len.min(self.members.len());
        let count = self.tokens.len();
        let spread = self.spread_across_datacenters && self.datacenter_count > 1;
        let cap = n.div_ceil(self.datacenter_count);
        let mut skipped: Vec<NodeId> = Vec::new();
        let mut per_dc = [0usize; 16];
        for i in 0..count {
            if out.len() >= len {
                break;
            }
            let node = self.tokens[(first + i) % count].1;
            if out.contains(&node) || skipped.contains(&node) {
                continue;
            }
            if spread && out.len() < n {
                let dc = self.node_datacenter[node.index()] as usize % per_dc.len();
                if per_dc[dc] >= cap {
                    skipped.push(node);
                    continue;
                }
                per_dc[dc] += 1;
            }
            out.push(node);
            if out.len() == n && !skipped.is_empty() {
                // The top n is settled; skipped nodes become the first fall-backs.
                for s in skipped.drain(..) {
                    if out.len() < len {
                        out.push(s);
                    }
                }
            }
        }
        for s in skipped {
            if out.len() < len {
                out.push(s);
            }
        }
    }

    /// [`Ring::preference_list`] for an interned key, cached: the list of up to `2n + 2` nodes is
    /// walked once per starting token and ring, and shorter requests take its prefix (the top n of a longer
    /// list is the top n, and its fall-backs come in the same order). `position` gives the key's
    /// ring position, asked only when its first token is not yet known: in a large key table that
    /// read is a cache miss, and the cached token answers without it.
    pub fn cached_list(&self, key: KeyId, position: impl FnOnce() -> u128, n: usize, len: usize, out: &mut Vec<NodeId>) {
        let stride = (2 * n + 2).min(self.members.len()).min(254);
        if len > stride && len < self.members.len() {
            return self.preference_list(position(), n, len, out);
        }
        if self.tokens.is_empty() {
            out.clear();
            return;
        }
        let mut cache = self.cache.borrow_mut();
        if cache.n != n || cache.stride != stride {
            *cache = ListCache {
                n,
                stride,
                first_token: Vec::new(),
                nodes: vec![NodeId(0); self.tokens.len() * stride],
                lens: vec![0; self.tokens.len()],
            };
        }
        let i = key.index();
        if cache.first_token.len() <= i {
            cache.first_token.resize(i + 1, UNKNOWN);
        }
        if cache.first_token[i] == UNKNOWN {
            cache.first_token[i] = self.first_token(position()) as u32;
        }
        let t = cache.first_token[i] as usize;
        if cache.lens[t] == 0 {
            self.walk_from(t, n, stride, out);
            cache.nodes[t * stride..t * stride + out.len()].copy_from_slice(out);
            cache.lens[t] = out.len() as u8 + 1;
        }
        let have = cache.lens[t] as usize - 1;
        out.clear();
        out.extend_from_slice(&cache.nodes[t * stride..t * stride + have.min(len)]);
    }

    /// The top `n` nodes for a key (convenience for reports and tests).
    pub fn top_n(&self, position: u128, n: usize) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(n);
        self.preference_list(position, n, n, &mut out);
        out
    }

    /// The ring's key ranges: one per token (strategy 1) or per partition (strategies 2 and 3).
    /// Every key in a range has the same preference list, which makes ranges the unit of
    /// anti-entropy.
    pub fn range_count(&self) -> usize {
        match self.strategy {
            Strategy::RandomTokens { .. } => self.tokens.len(),
            Strategy::RandomTokensEqualPartitions { partitions, .. } | Strategy::EqualPartitions { partitions } => {
                partitions as usize
            }
        }
    }

    /// The range a key position falls in.
    pub fn range_of(&self, position: u128) -> u32 {
        match self.strategy {
            Strategy::RandomTokens { .. } => {
                let i = self.tokens_below(position);
                if i == self.tokens.len() {
                    0
                } else {
                    i as u32
                }
            }
            Strategy::RandomTokensEqualPartitions { partitions, .. } | Strategy::EqualPartitions { partitions } => {
                (position / partition_size(partitions)) as u32
            }
        }
    }

    /// A position inside `range` from which its preference list is walked.
    pub fn range_position(&self, range: u32) -> u128 {
        match self.strategy {
            Strategy::RandomTokens { .. } => self.tokens.get(range as usize).map_or(0, |t| t.0),
            Strategy::RandomTokensEqualPartitions { partitions, .. } | Strategy::EqualPartitions { partitions } => {
                let size = partition_size(partitions);
                (range as u128 * size).saturating_add(size - 1)
            }
        }
    }

    /// Membership metadata a node keeps, as Dynamo §6.2 accounts it: every node's tokens
    /// (strategy 1), those plus the partition table (strategy 2), or the owner of each of the Q
    /// partitions (strategy 3).
    pub fn metadata_entries(&self) -> usize {
        match self.strategy {
            Strategy::RandomTokensEqualPartitions { partitions, .. } => self.tokens.len() + partitions as usize,
            Strategy::RandomTokens { .. } | Strategy::EqualPartitions { .. } => self.tokens.len(),
        }
    }

    /// How many of the ring's ranges (tokens under strategy 1, the Q partitions under 2 and 3)
    /// each node holds first, by node index.
    pub fn ranges_per_node(&self, node_slots: usize) -> Vec<u64> {
        let mut counts = vec![0u64; node_slots];
        let mut owner = Vec::with_capacity(1);
        for range in 0..self.range_count() {
            self.preference_list(self.range_position(range as u32), 1, 1, &mut owner);
            if let Some(c) = owner.first().and_then(|n| counts.get_mut(n.index())) {
                *c += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_guide_finds_what_a_full_binary_search_finds() {
        let mut rng = Seeds::new(5).stream(Stream::Workload, 0);
        for (nodes, tokens_per_node) in [(1, 1), (3, 2), (50, 8), (200, 256)] {
            let mut ring = Ring::new(Strategy::RandomTokens { tokens_per_node }, members(nodes, 1), false, 9);
            ring.remove_member(NodeId(0));
            ring.add_member(RingMember { node: NodeId(nodes), weight: 2.0, datacenter: 0 });
            let edges = ring.tokens.iter().flat_map(|&(p, _)| [p, p.wrapping_sub(1), p.wrapping_add(1)]).take(3000);
            let draws = (0..20_000).map(|_| ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128);
            for pos in edges.chain([0, u128::MAX]).chain(draws) {
                assert_eq!(ring.tokens_below(pos), ring.tokens.partition_point(|&(p, _)| p < pos), "{nodes} nodes, {pos}");
            }
        }
    }

    fn members(s: u32, dcs: u16) -> Vec<RingMember> {
        (0..s).map(|i| RingMember { node: NodeId(i), weight: 1.0, datacenter: (i % dcs as u32) as u16 }).collect()
    }

    #[test]
    fn a_ring_reached_from_the_start_moves_only_what_a_join_or_leave_must() {
        let q = 120;
        let strategy = Strategy::EqualPartitions { partitions: q };
        let start = Ring::new(strategy.clone(), members(6, 1), false, 3);
        let owners = |r: &Ring| r.tokens.iter().map(|t| t.1).collect::<Vec<_>>();
        let changed = |a: &Ring, b: &Ring| owners(a).iter().zip(owners(b)).filter(|(x, y)| **x != *y).count();
        // Node 6 joins: it takes its 17 partitions; node 0 leaves: its 20 are dealt out.
        let joined = Ring::from_start(strategy.clone(), members(6, 1), members(7, 1), false, 3);
        assert_eq!(changed(&start, &joined), 17);
        let left = Ring::from_start(strategy.clone(), members(6, 1), members(6, 1)[1..].to_vec(), false, 3);
        assert_eq!(changed(&start, &left), 20);
        // Dealt afresh for seven members, most partitions would change hands.
        assert!(changed(&start, &Ring::new(strategy, members(7, 1), false, 3)) > q as usize / 2);
        // Random tokens depend only on the members.
        let random = Strategy::RandomTokens { tokens_per_node: 8 };
        let (a, b) = (
            Ring::new(random.clone(), members(7, 1), false, 3),
            Ring::from_start(random, members(6, 1), members(7, 1), false, 3),
        );
        assert_eq!(a.tokens, b.tokens);
    }

    fn strategies() -> Vec<Strategy> {
        vec![
            Strategy::RandomTokens { tokens_per_node: 8 },
            Strategy::RandomTokensEqualPartitions { tokens_per_node: 8, partitions: 64 },
            Strategy::EqualPartitions { partitions: 64 },
        ]
    }

    #[test]
    fn preference_lists_hold_distinct_physical_nodes() {
        for strategy in strategies() {
            let ring = Ring::new(strategy.clone(), members(8, 1), false, 1);
            for k in 0..500 {
                let pos = key_position(&format!("k{k}"));
                let mut list = Vec::new();
                ring.preference_list(pos, 3, 6, &mut list);
                assert_eq!(list.len(), 6, "{strategy:?}");
                let mut sorted = list.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), 6, "duplicates in {list:?} under {strategy:?}");
            }
        }
    }

    #[test]
    fn adding_one_node_moves_about_one_over_s_plus_one_of_the_keys() {
        let s = 10;
        for strategy in [Strategy::RandomTokens { tokens_per_node: 128 }, Strategy::EqualPartitions { partitions: 1100 }] {
            let before = Ring::new(strategy.clone(), members(s, 1), false, 5);
            let mut after = before.clone();
            after.add_member(RingMember { node: NodeId(s), weight: 1.0, datacenter: 0 });
            let keys = 20_000;
            let moved = (0..keys)
                .filter(|k| {
                    let pos = key_position(&format!("key-{k}"));
                    before.top_n(pos, 1) != after.top_n(pos, 1)
                })
                .count();
            let fraction = moved as f64 / keys as f64;
            let expected = 1.0 / (s as f64 + 1.0);
            assert!((fraction - expected).abs() < 0.03, "{strategy:?}: moved {fraction}, expected ~{expected}");
        }
    }

    #[test]
    fn equal_partitions_give_each_node_q_over_s_tokens_weighted() {
        let mut m = members(4, 1);
        m[0].weight = 2.0;
        let ring = Ring::new(Strategy::EqualPartitions { partitions: 50 }, m, false, 3);
        let count = |n: u32| ring.tokens().iter().filter(|t| t.1 == NodeId(n)).count();
        assert_eq!(ring.metadata_entries(), 50);
        assert_eq!(count(0), 20);
        assert_eq!((1..4).map(count).sum::<usize>(), 30);
    }

    #[test]
    fn equal_partitions_spread_replicas_evenly() {
        // Regression: incremental dealing once left each node a contiguous block of partitions,
        // so the nodes after each block held most second and third replicas (2.9x the mean).
        let ring = Ring::new(Strategy::EqualPartitions { partitions: 128 }, members(16, 1), false, 1);
        let mut owned = [0u32; 16];
        for k in 0..20_000 {
            for n in ring.top_n(key_position(&format!("k{k}")), 3) {
                owned[n.index()] += 1;
            }
        }
        let max = *owned.iter().max().unwrap_or(&0) as f64;
        let mean = owned.iter().sum::<u32>() as f64 / 16.0;
        assert!(max / mean < 1.5, "replica load max/mean {}", max / mean);
    }

    #[test]
    fn strategy_two_keys_in_one_partition_share_a_preference_list() {
        let ring =
            Ring::new(Strategy::RandomTokensEqualPartitions { tokens_per_node: 4, partitions: 16 }, members(6, 1), false, 2);
        let size = partition_size(16);
        let a = ring.top_n(3 * size + 5, 3);
        let b = ring.top_n(4 * size - 1, 3);
        assert_eq!(a, b);
    }

    #[test]
    fn spreading_puts_replicas_in_every_datacenter() {
        let ring = Ring::new(Strategy::RandomTokens { tokens_per_node: 8 }, members(9, 3), true, 4);
        for k in 0..300 {
            let top = ring.top_n(key_position(&format!("k{k}")), 3);
            let mut dcs: Vec<u32> = top.iter().map(|n| n.0 % 3).collect();
            dcs.sort();
            assert_eq!(dcs, vec![0, 1, 2], "{top:?}");
        }
        let unspread = Ring::new(Strategy::RandomTokens { tokens_per_node: 8 }, members(9, 3), false, 4);
        let same_dc = (0..300).any(|k| {
            let top = unspread.top_n(key_position(&format!("k{k}")), 3);
            top[0].0 % 3 == top[1].0 % 3 || top[1].0 % 3 == top[2].0 % 3 || top[0].0 % 3 == top[2].0 % 3
        });
        assert!(same_dc, "without spreading some list should repeat a datacenter");
    }

    #[test]
    fn every_key_in_a_range_shares_the_ranges_preference_list() {
        for strategy in strategies() {
            let ring = Ring::new(strategy.clone(), members(7, 1), false, 6);
            assert!(ring.range_count() > 0);
            for k in 0..500 {
                let pos = key_position(&format!("k{k}"));
                let range = ring.range_of(pos);
                assert!((range as usize) < ring.range_count());
                assert_eq!(ring.top_n(pos, 3), ring.top_n(ring.range_position(range), 3), "{strategy:?} k{k}");
            }
        }
    }

    #[test]
    fn cached_lists_equal_walked_lists_and_top_n_is_their_prefix() {
        for spread in [false, true] {
            let ring = Ring::new(Strategy::RandomTokens { tokens_per_node: 8 }, members(9, 3), spread, 4);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for k in 0..300u32 {
                let pos = key_position(&format!("k{k}"));
                for len in [3, 8, 5] {
                    ring.cached_list(KeyId(k), || pos, 3, len, &mut a);
                    ring.preference_list(pos, 3, len, &mut b);
                    assert_eq!(a, b, "k{k} len {len} spread {spread}");
                }
            }
            // A ring changed after caching walks afresh.
            let mut changed = ring.clone();
            changed.remove_member(NodeId(4));
            for k in 0..300u32 {
                let pos = key_position(&format!("k{k}"));
                changed.cached_list(KeyId(k), || pos, 3, 5, &mut a);
                changed.preference_list(pos, 3, 5, &mut b);
                assert_eq!(a, b, "k{k} after a removal, spread {spread}");
            }
        }
        for strategy in [
            Strategy::EqualPartitions { partitions: 32 },
            Strategy::RandomTokensEqualPartitions { tokens_per_node: 4, partitions: 16 },
        ] {
            let ring = Ring::new(strategy, members(6, 1), false, 4);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for k in 0..300u32 {
                let pos = key_position(&format!("k{k}"));
                ring.cached_list(KeyId(k), || pos, 3, 3, &mut a);
                ring.preference_list(pos, 3, 3, &mut b);
                assert_eq!(a, b, "k{k} with {:?}", ring.strategy());
            }
        }
    }

    #[test]
    fn removing_a_node_hands_its_keys_to_others() {
        let ring = Ring::new(Strategy::RandomTokens { tokens_per_node: 16 }, members(5, 1), false, 8);
        let mut smaller = ring.clone();
        smaller.remove_member(NodeId(2));
        for k in 0..200 {
            let top = smaller.top_n(key_position(&format!("k{k}")), 3);
            assert!(!top.contains(&NodeId(2)));
            assert_eq!(top.len(), 3);
        }
    }
}

/// For anti-entropy: each range's top-N replicas, and the ranges each node replicates.
#[derive(Clone, Debug, Default)]
pub struct RangeMap {
    pub replicas: Vec<Vec<NodeId>>,
    pub of_node: Vec<Vec<u32>>,
}

impl RangeMap {
    pub fn new(ring: &Ring, n: usize, node_slots: usize) -> RangeMap {
        let mut map = RangeMap { replicas: Vec::with_capacity(ring.range_count()), of_node: vec![Vec::new(); node_slots] };
        let mut list = Vec::with_capacity(n);
        for r in 0..ring.range_count() as u32 {
            ring.preference_list(ring.range_position(r), n, n, &mut list);
            for node in &list {
                if let Some(v) = map.of_node.get_mut(node.index()) {
                    v.push(r);
                }
            }
            map.replicas.push(list.clone());
        }
        map
    }
}
