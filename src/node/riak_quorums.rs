//! Riak's quorum options beside R and W: PR and PW (replies a request needs from primaries, the
//! key's top N, not from fall-backs), DW (acknowledgements from durable writes), `notfound_ok`
//! (whether a replica's "not found" counts toward R) and `basic_quorum` (with `notfound_ok`
//! off, whether a majority of "not found" answers ends a read early).
//!
//! As riak_kv's get and put state machines do:
//! - a request whose healthy targets hold fewer primaries than PR (PW) is refused at once
//!   (`pr_val_unsatisfied`; here, unavailable), and one whose every target has answered without
//!   PR primary replies fails then;
//! - with `notfound_ok` off a read counts only replies that found something toward R, and ends
//!   with "not found" once so many replicas said so that R found replies can no longer come
//!   (N - R + 1 of them), or, with `basic_quorum`, once a majority of N did;
//! - a put answers after W acknowledgements of which DW are durable and PW from primaries.
//!
//! Riak's defaults (PR = PW = 0, `notfound_ok` on, `basic_quorum` off) leave every request as R
//! and W alone decide it, and cost nothing: the top N is kept only when PR or PW is set.

use crate::node::coordinator::NodeList;
use crate::node::versioning::VersionSet;
use crate::sim::ids::NodeId;
use std::rc::Rc;

/// The options as a scenario sets them (`protocol.pr`, `pw`, `dw`, `notfound_ok`,
/// `basic_quorum`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RiakQuorums {
    pub pr: usize,
    pub pw: usize,
    pub dw: usize,
    pub notfound_ok: bool,
    pub basic_quorum: bool,
}

impl Default for RiakQuorums {
    /// Riak's defaults, under which R and W alone decide.
    fn default() -> RiakQuorums {
        RiakQuorums { pr: 0, pw: 0, dw: 0, notfound_ok: true, basic_quorum: false }
    }
}

/// What a read's replies so far decide.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReadVerdict {
    /// Not yet decided: wait for more replies.
    Wait,
    /// Answer with what the replies hold.
    Answer,
    /// Answer "not found" (an empty read) however much a minority of replies hold.
    NotFound,
    /// Fail: the primaries PR asks for can no longer answer.
    Unavailable,
}

impl RiakQuorums {
    /// Whether reads need more than R's count: PR, or `notfound_ok` off. Otherwise the
    /// coordinator counts replies as it does without these options (the hot path stays as it is).
    pub fn judges_reads(&self) -> bool {
        self.pr > 0 || !self.notfound_ok
    }

    /// Whether puts need more than W acknowledgements: PW or DW.
    pub fn judges_puts(&self) -> bool {
        self.pw > 0 || self.dw > 0
    }

    /// Whether the key's top N must be kept with a request (for PR or PW).
    pub fn counts_primaries(&self) -> bool {
        self.pr > 0 || self.pw > 0
    }

    /// Whether a request with these targets can meet PR (`get`) or PW at all.
    pub fn enough_primaries(&self, targets: impl Iterator<Item = NodeId>, primaries: &NodeList, get: bool) -> bool {
        let need = if get { self.pr } else { self.pw };
        need == 0 || targets.filter(|t| primaries.contains(t)).count() >= need
    }

    /// Judges a read: `met` says whether the replies counted toward R meet the request's need;
    /// `asked` is how many replicas it has asked, `all_in` whether every one of them answered.
    pub fn judge_read(
        &self,
        replies: &[(NodeId, Option<Rc<VersionSet>>)],
        primaries: &NodeList,
        n: usize,
        r: usize,
        all_in: bool,
        met: impl FnOnce(&mut dyn Iterator<Item = NodeId>) -> bool,
    ) -> ReadVerdict {
        let counts = |(_, v): &&(NodeId, Option<Rc<VersionSet>>)| self.notfound_ok || v.as_ref().is_some_and(|v| !v.is_empty());
        let mut counted = replies.iter().filter(counts).map(|(node, _)| *node);
        let quorum_met = met(&mut counted);
        let primary_replies = replies.iter().filter(counts).filter(|(node, _)| primaries.contains(node)).count();
        if quorum_met && primary_replies >= self.pr {
            return ReadVerdict::Answer;
        }
        if !self.notfound_ok {
            let not_found = replies.iter().filter(|reply| !counts(reply)).count();
            let threshold = if self.basic_quorum { n / 2 + 1 } else { (n + 1).saturating_sub(r) };
            if not_found >= threshold.max(1) {
                return ReadVerdict::NotFound;
            }
        }
        match (all_in, quorum_met) {
            (false, _) => ReadVerdict::Wait,
            // Every target answered: R was met but not PR, which no later reply can change.
            (true, true) => ReadVerdict::Unavailable,
            // R found replies cannot come: Riak answers "not found" if any replica said so.
            (true, false) if replies.len() > replies.iter().filter(counts).count() => ReadVerdict::NotFound,
            (true, false) => ReadVerdict::Wait,
        }
    }

    /// Whether a put's acknowledgements meet PW and DW besides W: `durable` says which
    /// acknowledging nodes wrote to disk.
    pub fn put_met(&self, acked: &[NodeId], primaries: &NodeList, durable: impl Fn(NodeId) -> bool) -> bool {
        acked.iter().filter(|n| primaries.contains(n)).count() >= self.pw
            && acked.iter().filter(|&&n| durable(n)).count() >= self.dw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::versioning::{Dot, Sibling, VectorClock, VersionSet};
    use crate::sim::engine::SimTime;
    use crate::sim::ids::WriteId;

    fn found() -> Option<Rc<VersionSet>> {
        let sibling = Sibling {
            dot: Dot { node: NodeId(0), counter: 1 },
            clock: VectorClock::new(),
            written_at: SimTime::ZERO,
            write: WriteId(1),
            cart: Default::default(),
            value_bytes: 0,
            tombstone: false,
        };
        Some(Rc::new(VersionSet { superseded: Default::default(), siblings: vec![sibling] }))
    }

    fn judge(q: RiakQuorums, replies: &[(u32, bool)], all_in: bool) -> ReadVerdict {
        let replies: Vec<(NodeId, Option<Rc<VersionSet>>)> =
            replies.iter().map(|&(n, f)| (NodeId(n), if f { found() } else { None })).collect();
        let primaries: NodeList = [NodeId(0), NodeId(1), NodeId(2)].into_iter().collect();
        // N = 3, R = 2.
        q.judge_read(&replies, &primaries, 3, 2, all_in, |it| it.count() >= 2)
    }

    #[test]
    fn notfound_ok_decides_what_counts_toward_r() {
        let default = RiakQuorums::default();
        // Two replicas that lack the key meet R = 2 with notfound_ok on: "not found", though
        // the third holds it.
        assert_eq!(judge(default, &[(0, false), (1, false)], false), ReadVerdict::Answer);
        let strict = RiakQuorums { notfound_ok: false, ..default };
        assert_eq!(judge(strict, &[(0, false)], false), ReadVerdict::Wait);
        assert_eq!(judge(strict, &[(0, true), (1, true)], false), ReadVerdict::Answer);
        // N - R + 1 = 2 not-founds: R found replies can no longer come.
        assert_eq!(judge(strict, &[(0, false), (1, true), (2, false)], true), ReadVerdict::NotFound);
        assert_eq!(judge(strict, &[(0, false), (2, false)], false), ReadVerdict::NotFound);
        // basic_quorum: a majority of N (2 of 3) ends it as well; with R = 2 the same count.
        let basic = RiakQuorums { basic_quorum: true, ..strict };
        assert_eq!(judge(basic, &[(0, false), (2, false)], false), ReadVerdict::NotFound);
    }

    #[test]
    fn pr_counts_only_primaries() {
        let pr = RiakQuorums { pr: 2, ..RiakQuorums::default() };
        // n7 is a fall-back: R = 2 is met, PR = 2 is not until a second primary answers.
        assert_eq!(judge(pr, &[(0, true), (7, true)], false), ReadVerdict::Wait);
        assert_eq!(judge(pr, &[(0, true), (7, true), (1, true)], true), ReadVerdict::Answer);
        assert_eq!(judge(pr, &[(0, true), (7, true), (8, true)], true), ReadVerdict::Unavailable);
        let primaries: NodeList = [NodeId(0), NodeId(1), NodeId(2)].into_iter().collect();
        assert!(!pr.enough_primaries([NodeId(0), NodeId(7), NodeId(8)].into_iter(), &primaries, true));
        assert!(pr.enough_primaries([NodeId(0), NodeId(1), NodeId(8)].into_iter(), &primaries, true));
        assert!(pr.enough_primaries([NodeId(7)].into_iter(), &primaries, false), "PW is not PR");
    }

    #[test]
    fn a_put_needs_pw_primaries_and_dw_durable_acknowledgements() {
        let primaries: NodeList = [NodeId(0), NodeId(1), NodeId(2)].into_iter().collect();
        let q = RiakQuorums { pw: 2, dw: 1, ..RiakQuorums::default() };
        let durable = |n: NodeId| n == NodeId(1);
        assert!(!q.put_met(&[NodeId(0), NodeId(7)], &primaries, durable), "one primary");
        assert!(!q.put_met(&[NodeId(0), NodeId(2)], &primaries, durable), "no durable write");
        assert!(q.put_met(&[NodeId(0), NodeId(1)], &primaries, durable));
        assert!(RiakQuorums::default().put_met(&[], &primaries, durable), "the defaults ask nothing beyond W");
    }
}
