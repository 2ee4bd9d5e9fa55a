//! Session guarantees (Terry et al., PDIS 1994), judged by the history oracle per client and
//! key from what each read returned (the server's versions, before a client merges them):
//!
//! - *read your writes*: a read reflects every write its client made to the key and had
//!   acknowledged before the read was sent;
//! - *monotonic reads*: a read reflects every write the client's earlier reads of the key
//!   (ended before it was sent) returned;
//! - *monotonic writes*: a read that returns a write also reflects the writes its client had
//!   acknowledged to that key before issuing it;
//! - *writes follow reads*: a read that returns a write also reflects what its client's reads
//!   of the key had returned before issuing it.
//!
//! "Reflects" is the oracle's exact causality, as for staleness: a write, or a write that
//! descends from it. The last two are met for good by a write whose causal past (the context
//! its put carried) covers its session's earlier writes and reads, as a session client's does;
//! only the writes that miss some are remembered, with what they miss, and a read returning one
//! is checked against it. A blind client's write carries no context, so its session's writes
//! are ordered only if a read returns them together.

use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, KeyId, WriteId};
use crate::sim::keymap::KeyMap;
use crate::sim::recency::Recency;

use super::history::Writes;

/// Reads to which a guarantee applied (it required something) and reads that violated it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Guarantee {
    pub applicable: u64,
    pub violated: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub read_your_writes: Guarantee,
    pub monotonic_reads: Guarantee,
    pub monotonic_writes: Guarantee,
    pub writes_follow_reads: Guarantee,
    /// Sessions forgotten because their client had used more keys since (see
    /// [`Sessions::with_capacity`]).
    pub forgotten: u64,
}

/// One client's session with one key, as the oracle sees it.
#[derive(Clone, Debug, Default)]
struct Session {
    /// Its acknowledged writes no later one of them descends from.
    own: Writes,
    /// What its reads returned, less what a later read reflected.
    seen: Writes,
    /// Its last use, in its client's [`Recency`].
    used: u64,
}

/// What a read must reflect, fixed when it is sent.
#[derive(Clone, Debug, Default)]
pub struct ReadRequirement {
    own: Writes,
    seen: Writes,
}

impl ReadRequirement {
    /// The writes the read must reflect.
    pub fn targets(&self, out: &mut Vec<WriteId>) {
        out.extend_from_slice(self.own.as_slice());
        out.extend_from_slice(self.seen.as_slice());
    }
}

/// A write whose causal past misses some of its session's earlier writes or reads.
#[derive(Clone, Debug)]
struct Unordered {
    own: Writes,
    seen: Writes,
}

pub struct Sessions {
    /// Per client (by id), its sessions by key.
    sessions: Vec<KeyMap<Session>>,
    unordered: FastMap<WriteId, Unordered>,
    /// Per client, its keys' sessions from least to most recently used.
    recency: Vec<Recency>,
    /// Keys per client whose sessions are judged; the least recently used beyond it is forgotten,
    /// as the client library forgets its context (`workload.session_keys_per_client`).
    capacity: usize,
    pub stats: SessionStats,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_capacity(usize::MAX)
    }
}

impl Sessions {
    pub fn with_capacity(capacity: usize) -> Sessions {
        Sessions {
            sessions: Vec::new(),
            unordered: FastMap::default(),
            recency: Vec::new(),
            capacity,
            stats: SessionStats::default(),
        }
    }

    /// The client's session with the key, created if need be, as its most recently used; a
    /// session beyond the capacity is forgotten.
    fn touch(&mut self, client: ClientId, key: KeyId) -> &mut Session {
        let i = client.0 as usize;
        if self.recency.len() <= i {
            self.recency.resize_with(i + 1, Recency::default);
            self.sessions.resize_with(i + 1, KeyMap::default);
        }
        let sessions = &mut self.sessions[i];
        let new = sessions.get(&key).is_none();
        if new {
            // Room for the new session first: the least recently used go, never this key.
            let room = self.capacity.saturating_sub(1);
            while let Some(old) = self.recency[i].evict(room, |k| sessions.get(&k).map(|s| s.used)) {
                sessions.remove(&old);
                self.stats.forgotten += 1;
            }
        }
        let session = sessions.get_or_default(key);
        session.used = self.recency[i].touch(key, new);
        session
    }

    fn session(&self, client: ClientId, key: KeyId) -> Option<&Session> {
        self.sessions.get(client.0 as usize)?.get(&key)
    }
    /// A write is issued with `parents` as its causal past: remembers what of its session that
    /// leaves out.
    pub fn write_started(
        &mut self,
        client: ClientId,
        key: KeyId,
        write: WriteId,
        parents: &[WriteId],
        unreflected: &mut impl FnMut(&[WriteId], &[WriteId]) -> Writes,
    ) {
        let Some(session) = self.session(client, key) else { return };
        let (own, seen) = (unreflected(parents, session.own.as_slice()), unreflected(parents, session.seen.as_slice()));
        if !own.as_slice().is_empty() || !seen.as_slice().is_empty() {
            self.unordered.insert(write, Unordered { own, seen });
        }
    }

    /// A write was acknowledged to its client.
    pub fn write_acked(
        &mut self,
        client: ClientId,
        key: KeyId,
        write: WriteId,
        reflects: &mut impl FnMut(&[WriteId], WriteId) -> bool,
    ) {
        let session = self.touch(client, key);
        supersede(&mut session.own, &[write], reflects);
    }

    /// Every write a later read may be required to reflect, or may return with a requirement.
    pub fn targets(&self, out: &mut Vec<WriteId>) {
        for (_, s) in self.sessions.iter().flat_map(KeyMap::iter) {
            out.extend_from_slice(s.own.as_slice());
            out.extend_from_slice(s.seen.as_slice());
        }
        for (w, u) in &self.unordered {
            out.push(*w);
            out.extend_from_slice(u.own.as_slice());
            out.extend_from_slice(u.seen.as_slice());
        }
    }

    /// Forgets what it remembered of writes no read can return any more (pruned by the oracle).
    pub fn forget_writes(&mut self, gone: impl Fn(WriteId) -> bool) {
        self.unordered.retain(|&w, _| !gone(w));
    }

    pub fn read_started(&self, client: ClientId, key: KeyId) -> ReadRequirement {
        self.session(client, key)
            .map_or_else(ReadRequirement::default, |s| ReadRequirement { own: s.own.clone(), seen: s.seen.clone() })
    }

    /// Judges a successful read that returned `returned`, then remembers what it returned.
    pub fn read_succeeded(
        &mut self,
        client: ClientId,
        key: KeyId,
        required: ReadRequirement,
        returned: &[WriteId],
        reflects: &mut impl FnMut(&[WriteId], WriteId) -> bool,
    ) {
        let mut judge = |g: &mut Guarantee, ws: &Writes| {
            if !ws.as_slice().is_empty() {
                g.applicable += 1;
                g.violated += ws.as_slice().iter().any(|&w| !reflects(returned, w)) as u64;
            }
        };
        judge(&mut self.stats.read_your_writes, &required.own);
        judge(&mut self.stats.monotonic_reads, &required.seen);
        if !self.unordered.is_empty() {
            let (mut own, mut seen) = (Writes::default(), Writes::default());
            for w in returned {
                if let Some(u) = self.unordered.get(w) {
                    own.extend_new(u.own.as_slice());
                    seen.extend_new(u.seen.as_slice());
                }
            }
            judge(&mut self.stats.monotonic_writes, &own);
            judge(&mut self.stats.writes_follow_reads, &seen);
        }
        if !returned.is_empty() {
            let session = self.touch(client, key);
            supersede(&mut session.seen, returned, reflects);
        }
    }
}

/// `set` becomes `newer` if `newer` reflects all of it, else gains `newer`.
fn supersede(set: &mut Writes, newer: &[WriteId], reflects: &mut impl FnMut(&[WriteId], WriteId) -> bool) {
    if set.as_slice().iter().all(|&w| reflects(newer, w)) {
        *set = Writes::from_slice(newer);
    } else {
        set.extend_new(newer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes 1..: 2 descends from 1, 3 from nothing.
    fn reflects(from: &[WriteId], target: WriteId) -> bool {
        from.iter().any(|&w| w == target || (w == WriteId(2) && target == WriteId(1)))
    }

    fn unreflected(from: &[WriteId], targets: &[WriteId]) -> Writes {
        targets.iter().copied().filter(|&t| !reflects(from, t)).collect()
    }

    #[test]
    fn each_guarantee_is_judged_on_what_the_session_did_before() {
        let (c, k) = (ClientId(0), KeyId(0));
        let mut s = Sessions::default();
        let mut r = reflects;
        // The client writes 1 and has it acknowledged; a read missing it breaks read-your-writes.
        s.write_started(c, k, WriteId(1), &[], &mut unreflected);
        s.write_acked(c, k, WriteId(1), &mut r);
        let req = s.read_started(c, k);
        s.read_succeeded(c, k, req, &[], &mut r);
        assert_eq!(s.stats.read_your_writes, Guarantee { applicable: 1, violated: 1 });
        // It reads 2 (which reflects 1), then a read returning only 3 goes backwards.
        let req = s.read_started(c, k);
        s.read_succeeded(c, k, req, &[WriteId(2)], &mut r);
        assert_eq!(s.stats.read_your_writes, Guarantee { applicable: 2, violated: 1 });
        let req = s.read_started(c, k);
        s.read_succeeded(c, k, req, &[WriteId(3)], &mut r);
        assert_eq!(s.stats.monotonic_reads, Guarantee { applicable: 1, violated: 1 });
        assert_eq!(s.stats.read_your_writes, Guarantee { applicable: 3, violated: 2 });
        // A blind write 4 after the client wrote 1 and read 2 and 3: a read returning 4 alone
        // breaks monotonic writes and writes-follow-reads; one returning 4 with 2 and 3 does not.
        s.write_started(c, k, WriteId(4), &[], &mut unreflected);
        let other = ClientId(1);
        let req = s.read_started(other, k);
        s.read_succeeded(other, k, req, &[WriteId(4)], &mut r);
        let req = s.read_started(other, k);
        s.read_succeeded(other, k, req, &[WriteId(2), WriteId(3), WriteId(4)], &mut r);
        assert_eq!(s.stats.monotonic_writes, Guarantee { applicable: 2, violated: 1 });
        assert_eq!(s.stats.writes_follow_reads, Guarantee { applicable: 2, violated: 1 });
        // A write whose context covers its session orders everything: nothing is remembered.
        s.write_started(c, k, WriteId(5), &[WriteId(2), WriteId(3)], &mut unreflected);
        assert!(!s.unordered.contains_key(&WriteId(5)));
    }
}
