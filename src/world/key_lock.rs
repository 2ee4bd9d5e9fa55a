//! The client-side lock per key of Jepsen's second Riak test: a client takes a key's lock
//! before an operation on it (for a read-modify-write, before its read) and gives it back when
//! the operation ends, acknowledged, failed or timed out, so operations on a key never overlap.
//! The lock lives with the clients (Jepsen's are threads of one process), so taking it costs no
//! message and no time; waiters are served first come, first served.

use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, KeyId};
use std::collections::VecDeque;

/// An operation waiting for (or, at the front, holding) a key's lock: the client and what the
/// operation does.
pub type LockTurn = (ClientId, crate::world::client::Operation);

#[derive(Default)]
pub struct KeyLocks {
    /// Per locked key, the holder first, then the waiters in arrival order. Only looked up by
    /// key, never iterated, so the map's order cannot reach a run's output.
    queues: FastMap<KeyId, VecDeque<LockTurn>>,
}

impl KeyLocks {
    /// Queues `turn` for `key`'s lock; true when it holds the lock at once.
    pub fn acquire(&mut self, key: KeyId, turn: LockTurn) -> bool {
        let queue = self.queues.entry(key).or_default();
        queue.push_back(turn);
        queue.len() == 1
    }

    /// The holder is done with `key`: the next waiter, who holds the lock now.
    pub fn release(&mut self, key: KeyId) -> Option<LockTurn> {
        let queue = self.queues.get_mut(&key)?;
        queue.pop_front();
        let next = queue.front().copied();
        if next.is_none() {
            self.queues.remove(&key);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::client::Operation;

    #[test]
    fn turns_come_in_arrival_order_and_an_idle_key_is_free() {
        let mut locks = KeyLocks::default();
        let (k, other) = (KeyId(7), KeyId(8));
        assert!(locks.acquire(k, (ClientId(1), Operation::Write)));
        assert!(!locks.acquire(k, (ClientId(2), Operation::Read)));
        assert!(!locks.acquire(k, (ClientId(3), Operation::Write)));
        assert!(locks.acquire(other, (ClientId(2), Operation::Write)), "another key's lock is separate");
        assert_eq!(locks.release(k), Some((ClientId(2), Operation::Read)));
        assert_eq!(locks.release(k), Some((ClientId(3), Operation::Write)));
        assert_eq!(locks.release(k), None);
        assert!(locks.acquire(k, (ClientId(4), Operation::Write)), "free again once every turn is over");
    }
}
