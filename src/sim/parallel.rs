//! Runs independent simulations on worker threads and hands their results back in input order,
//! so what a command prints does not depend on how many jobs ran it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Applies `work` to every item on `jobs` threads and calls `emit` with each result in item
/// order, as soon as it and every earlier one are done. Never more threads than items; and if
/// the system refuses a thread, the ones already running do the work (at least the caller's).
pub fn map_in_order<T: Sync, R: Send>(items: &[T], jobs: usize, work: impl Fn(&T) -> R + Sync, mut emit: impl FnMut(usize, R)) {
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel();
    std::thread::scope(|scope| {
        let worker = |send: mpsc::Sender<(usize, R)>| {
            let (next, work) = (&next, &work);
            move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if send.send((i, work(item))).is_err() {
                    break;
                }
            }
        };
        let mut spawned = 0;
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            if std::thread::Builder::new().spawn_scoped(scope, worker(send.clone())).is_err() {
                break;
            }
            spawned += 1;
        }
        if spawned == 0 {
            worker(send.clone())();
        }
        drop(send);
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, result) in receive {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                emit(due, result);
                due += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_whatever_the_jobs() {
        let items: Vec<u64> = (0..50).collect();
        for jobs in [1, 2, 7] {
            let mut seen = Vec::new();
            // Later items finish first: the reorder buffer must still emit in order.
            map_in_order(
                &items,
                jobs,
                |&x| (0..(50 - x) * 1000).fold(x, |a, b| a ^ b) ^ (0..(50 - x) * 1000).fold(0, |a, b| a ^ b),
                |i, r| seen.push((i, r)),
            );
            assert_eq!(seen, items.iter().map(|&x| (x as usize, x)).collect::<Vec<_>>(), "jobs {jobs}");
        }
    }
}
