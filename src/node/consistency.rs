//! Consistency levels (Cassandra's, chosen per request): how many of a key's replicas, and in
//! which datacenters, must answer before the coordinator answers the client.
//!
//! A request without a level waits for R (gets) or W (puts) replies, the scenario's shorthand.
//! With a level, the count is taken against the key's top N (the replication factor), and the
//! LOCAL_* and EACH_QUORUM levels count replies by the answering node's datacenter: LOCAL_* in
//! the coordinator's, EACH_QUORUM in every datacenter that holds one of the key's replicas. A
//! level the key's replicas cannot meet at all (THREE with two replicas left in the ring,
//! LOCAL_QUORUM at a coordinator whose datacenter holds none of them) fails at once, as
//! Cassandra's `UnavailableException` does. Under sloppy quorum a fall-back's reply counts for
//! its own datacenter.

use crate::sim::ids::NodeId;

/// At most this many datacenters (the scenario schema's limit).
pub const MAX_DATACENTERS: usize = 16;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConsistencyLevel {
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalOne,
    LocalQuorum,
    EachQuorum,
}

impl ConsistencyLevel {
    pub const EVERY: [ConsistencyLevel; 8] = [
        ConsistencyLevel::One,
        ConsistencyLevel::Two,
        ConsistencyLevel::Three,
        ConsistencyLevel::Quorum,
        ConsistencyLevel::All,
        ConsistencyLevel::LocalOne,
        ConsistencyLevel::LocalQuorum,
        ConsistencyLevel::EachQuorum,
    ];

    /// The name Cassandra's CQL uses, which the scenario file uses too.
    pub fn name(self) -> &'static str {
        match self {
            ConsistencyLevel::One => "ONE",
            ConsistencyLevel::Two => "TWO",
            ConsistencyLevel::Three => "THREE",
            ConsistencyLevel::Quorum => "QUORUM",
            ConsistencyLevel::All => "ALL",
            ConsistencyLevel::LocalOne => "LOCAL_ONE",
            ConsistencyLevel::LocalQuorum => "LOCAL_QUORUM",
            ConsistencyLevel::EachQuorum => "EACH_QUORUM",
        }
    }

    pub fn from_name(name: &str) -> Option<ConsistencyLevel> {
        Self::EVERY.into_iter().find(|l| l.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The fixed number of replicas ONE, TWO and THREE ask for (which must not exceed N).
    pub fn fixed_count(self) -> Option<usize> {
        match self {
            ConsistencyLevel::One => Some(1),
            ConsistencyLevel::Two => Some(2),
            ConsistencyLevel::Three => Some(3),
            _ => None,
        }
    }
}

/// What a request waits for before it answers the client.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// Any `count` replies (R or W; ONE, TWO, THREE, QUORUM, ALL).
    Any(usize),
    /// `count` replies from nodes in datacenter `dc` (LOCAL_ONE, LOCAL_QUORUM).
    Local { dc: u16, count: usize },
    /// `counts[dc]` replies from each datacenter (EACH_QUORUM: a quorum of each datacenter's
    /// replicas, zero where it holds none).
    Each([u8; MAX_DATACENTERS]),
}

fn quorum(replicas: usize) -> usize {
    replicas / 2 + 1
}

impl Need {
    /// What `level` needs of a key whose top N is `top`, at a coordinator in datacenter `here`;
    /// `None` when the replicas cannot meet it (Cassandra's unavailable).
    pub fn for_level(level: ConsistencyLevel, top: &[NodeId], here: u16, dc_of: impl Fn(NodeId) -> u16) -> Option<Need> {
        let n = top.len();
        let local = || top.iter().filter(|&&p| dc_of(p) == here).count();
        let need = match level {
            ConsistencyLevel::One | ConsistencyLevel::Two | ConsistencyLevel::Three => {
                Need::Any(level.fixed_count().unwrap_or(1))
            }
            ConsistencyLevel::Quorum => Need::Any(quorum(n)),
            ConsistencyLevel::All => Need::Any(n),
            ConsistencyLevel::LocalOne => Need::Local { dc: here, count: 1 },
            ConsistencyLevel::LocalQuorum => Need::Local { dc: here, count: quorum(local()) },
            ConsistencyLevel::EachQuorum => {
                let mut per_dc = [0u8; MAX_DATACENTERS];
                for &p in top {
                    per_dc[dc_of(p) as usize % MAX_DATACENTERS] += 1;
                }
                Need::Each(per_dc.map(|r| if r == 0 { 0 } else { quorum(r as usize) as u8 }))
            }
        };
        let possible = match need {
            Need::Any(count) => count <= n && n > 0,
            Need::Local { count, .. } => count <= local(),
            Need::Each(_) => n > 0,
        };
        possible.then_some(need)
    }

    /// Whether the replies of `repliers` meet it; `Any` is capped at `cap` (a get waits for
    /// no more replies than it could ask for).
    pub fn met(&self, repliers: impl Iterator<Item = NodeId>, cap: usize, dc_of: impl Fn(NodeId) -> u16) -> bool {
        self.missing(repliers, cap, dc_of) == 0
    }

    /// How many more replies it waits for (for EACH_QUORUM, summed over datacenters).
    pub fn missing(&self, repliers: impl Iterator<Item = NodeId>, cap: usize, dc_of: impl Fn(NodeId) -> u16) -> usize {
        match *self {
            Need::Any(count) => count.min(cap).saturating_sub(repliers.count()),
            Need::Local { dc, count } => count.saturating_sub(repliers.filter(|&p| dc_of(p) == dc).count()),
            Need::Each(mut counts) => {
                for p in repliers {
                    let c = &mut counts[dc_of(p) as usize % MAX_DATACENTERS];
                    *c = c.saturating_sub(1);
                }
                counts.iter().map(|&c| c as usize).sum()
            }
        }
    }

    /// Whether a reply from a node in datacenter `dc` counts towards it.
    pub fn counts_in(&self, dc: u16) -> bool {
        match *self {
            Need::Any(_) => true,
            Need::Local { dc: local, .. } => dc == local,
            Need::Each(counts) => counts[dc as usize % MAX_DATACENTERS] > 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six replicas: n0, n2, n4 in datacenter 0 and n1, n3, n5 in datacenter 1.
    fn dc_of(n: NodeId) -> u16 {
        (n.0 % 2) as u16
    }

    #[test]
    fn each_level_counts_what_cassandra_counts() {
        let top: Vec<NodeId> = (0..6).map(NodeId).collect();
        let need = |level| Need::for_level(level, &top, 0, dc_of);
        assert_eq!(need(ConsistencyLevel::One), Some(Need::Any(1)));
        assert_eq!(need(ConsistencyLevel::Three), Some(Need::Any(3)));
        assert_eq!(need(ConsistencyLevel::Quorum), Some(Need::Any(4)));
        assert_eq!(need(ConsistencyLevel::All), Some(Need::Any(6)));
        assert_eq!(need(ConsistencyLevel::LocalOne), Some(Need::Local { dc: 0, count: 1 }));
        assert_eq!(need(ConsistencyLevel::LocalQuorum), Some(Need::Local { dc: 0, count: 2 }));
        let each = need(ConsistencyLevel::EachQuorum).unwrap_or(Need::Any(0));
        assert_eq!(each.missing([].into_iter(), usize::MAX, dc_of), 4, "two of three in each");
        let ids = |v: &[u32]| v.iter().map(|&i| NodeId(i)).collect::<Vec<_>>().into_iter();
        assert!(!each.met(ids(&[0, 2, 4, 1]), usize::MAX, dc_of), "three here and one there is no quorum there");
        assert_eq!(each.missing(ids(&[0, 2, 4, 1]), usize::MAX, dc_of), 1);
        assert!(each.met(ids(&[0, 2, 1, 3]), usize::MAX, dc_of));
        let local = Need::Local { dc: 0, count: 2 };
        assert!(!local.met(ids(&[1, 3, 5, 0]), usize::MAX, dc_of), "remote replies do not count");
        assert!(local.met(ids(&[1, 0, 4]), usize::MAX, dc_of));
        assert!(Need::Any(3).met(ids(&[1, 2]), 2, dc_of), "a get waits for no more than it asked");
    }

    #[test]
    fn a_level_the_replicas_cannot_meet_is_unavailable() {
        let top = [NodeId(1), NodeId(3)]; // both in datacenter 1
        assert_eq!(Need::for_level(ConsistencyLevel::Three, &top, 1, dc_of), None);
        assert_eq!(Need::for_level(ConsistencyLevel::LocalQuorum, &top, 0, dc_of), None);
        assert_eq!(Need::for_level(ConsistencyLevel::LocalOne, &top, 0, dc_of), None);
        assert_eq!(Need::for_level(ConsistencyLevel::LocalQuorum, &top, 1, dc_of), Some(Need::Local { dc: 1, count: 2 }));
        assert_eq!(Need::for_level(ConsistencyLevel::All, &[], 0, dc_of), None);
    }

    #[test]
    fn names_round_trip() {
        for level in ConsistencyLevel::EVERY {
            assert_eq!(ConsistencyLevel::from_name(level.name()), Some(level));
            assert_eq!(ConsistencyLevel::EVERY[level.index()], level);
        }
        assert_eq!(ConsistencyLevel::from_name("quorum"), None);
    }
}
