//! The world's choice points (see [`crate::sim::schedule`]): at each event boundary a fault
//! from the nemesis menu may strike and a message due within the window may go first; a message
//! crossing the network may be dropped or duplicated. Also the digest of the world's state that a search
//! compares to skip schedules reaching a state it has explored.

use super::{Event, World};
use crate::cluster::network::Route;
use crate::scenario::{Fault, NemesisKind, ScheduledFault};
use crate::sim::engine::SimTime;
use crate::sim::ids::{Endpoint, NodeId};
use crate::sim::schedule::ChoiceKind;
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

/// A fault a schedule may inject: a kind of the nemesis menu on one node (a partition cuts
/// that node from the rest; a loss burst names no node).
#[derive(Copy, Clone, Debug)]
struct MenuFault {
    kind: NemesisKind,
    node: NodeId,
}

impl<'s> World<'s> {
    /// The next event, as the schedule chooses: first whether a fault strikes now, then which
    /// of the events due within the window goes first.
    #[inline(never)]
    pub(super) fn pop_scheduled(&mut self, end: SimTime) -> Option<Event> {
        let (hash_states, window) = match &self.schedule {
            Some(c) => (c.hash_states, c.bounds.window),
            None => return self.engine.pop_until(end),
        };
        // Nothing left to run by the end: no boundary to choose at.
        if self.engine.next_time().is_none_or(|t| t > end) {
            return None;
        }
        // The digest is dear: taken only where a choice point will be offered, and again for
        // the order choice once a fault may have struck.
        let offers_fault = self.schedule.as_ref().is_some_and(|c| c.offers(ChoiceKind::Fault)) && !self.fault_menu().is_empty();
        if offers_fault {
            let state = hash_states.then(|| self.state_digest());
            self.choose_fault(state);
        }
        let ties = hash_states && self.engine.candidates(end, window, |e| matches!(e, Event::Deliver(_))) > 1;
        let state = ties.then(|| self.state_digest());
        let nodes = self.nodes.len();
        let chooser = self.schedule.as_mut()?;
        self.engine.pop_chosen(
            end,
            window,
            |e| matches!(e, Event::Deliver(_)),
            |candidates| {
                let actors: Vec<usize> = candidates.iter().map(|e| actor(e, nodes)).collect();
                chooser.choose(ChoiceKind::Order, candidates.len() as u32, &actors, state) as usize
            },
        )
    }

    /// A fault choice point: none (the default) or one of the menu's faults that can strike now.
    fn choose_fault(&mut self, state: Option<u64>) {
        if !self.schedule.as_ref().is_some_and(|c| c.offers(ChoiceKind::Fault)) {
            return;
        }
        let menu = self.fault_menu();
        let Some(chooser) = self.schedule.as_mut() else { return };
        let pick = chooser.choose(ChoiceKind::Fault, 1 + menu.len() as u32, &[], state);
        if pick > 0 {
            self.inject(menu[pick as usize - 1]);
        }
    }

    /// The menu's faults that would take effect now: kinds in the nemesis's order, each on every
    /// node that is up (a loss burst once); none outside the nemesis's time, from its start
    /// until its stop, by which every fault is undone (as for its random draws).
    fn fault_menu(&self) -> Vec<MenuFault> {
        let Some(nemesis) = &self.scenario.nemesis else { return Vec::new() };
        let now = self.engine.now().as_nanos();
        if now < nemesis.start.as_nanos() || now >= nemesis.stop.as_nanos() {
            return Vec::new();
        }
        let up: Vec<NodeId> = (0..self.nodes.len()).filter(|&i| self.node_up[i]).map(|i| NodeId(i as u32)).collect();
        let mut menu = Vec::new();
        for &kind in &nemesis.kinds {
            match kind {
                NemesisKind::LossBurst => menu.push(MenuFault { kind, node: NodeId(0) }),
                _ => menu.extend(up.iter().map(|&node| MenuFault { kind, node })),
            }
        }
        menu
    }

    /// Applies a menu fault now and schedules its undo after the nemesis's mean fault duration.
    fn inject(&mut self, f: MenuFault) {
        let Some(nemesis) = &self.scenario.nemesis else { return };
        let now = self.engine.now();
        let lasts = crate::sim::engine::SimDuration::from_millis_f64(nemesis.fault_duration.mean_ms());
        let undo_at = now.after(lasts).min(SimTime::ZERO.after(nemesis.stop));
        let id = 1_000_000 + self.faults.len() as u32;
        let node = f.node;
        let (fault, undo) = match f.kind {
            NemesisKind::Crash | NemesisKind::DiskLoss => {
                (Fault::Crash { node, lose_disk: f.kind == NemesisKind::DiskLoss }, Fault::Restart(node))
            }
            NemesisKind::Partition => {
                let rest: Vec<NodeId> = (0..self.nodes.len() as u32).map(NodeId).filter(|&n| n != node).collect();
                let name = format!("schedule-{id}");
                (
                    Fault::Partition { id, name: name.clone(), groups: vec![vec![node], rest], one_way: false },
                    Fault::Heal { id, name },
                )
            }
            NemesisKind::LossBurst => {
                (Fault::LossBurst { id, probability: nemesis.loss_probability }, Fault::LossBurstEnd { id })
            }
            NemesisKind::Slow => (Fault::Slow { node, factor: nemesis.slow_factor }, Fault::Slow { node, factor: 1.0 }),
            NemesisKind::ClockSkew => {
                (Fault::ClockSkew { node, skew_ns: nemesis.clock_skew_ns }, Fault::ClockSkew { node, skew_ns: 0 })
            }
        };
        let since_start = |t: SimTime| crate::sim::engine::SimDuration(t.as_nanos());
        self.faults.push(ScheduledFault { at: since_start(now), fault, generated: true });
        self.faults.push(ScheduledFault { at: since_start(undo_at), fault: undo, generated: true });
        let strike = self.faults.len() - 2;
        self.apply_fault(strike);
        self.engine.schedule_at(undo_at, Event::Fault(strike + 1));
    }

    /// The choice points of a message crossing the network: whether the schedule loses it,
    /// and if not whether it delivers it twice (the copy at the same time, just after).
    #[cold]
    pub(super) fn schedule_fate(&mut self, route: Route) -> Route {
        let Some(c) = self.schedule.as_mut() else { return route };
        match route {
            Route::Deliver(_) | Route::Duplicate(..)
                if c.offers(ChoiceKind::Drop) && c.choose(ChoiceKind::Drop, 2, &[], None) == 1 =>
            {
                Route::Lost
            }
            Route::Deliver(at) if c.offers(ChoiceKind::Duplicate) && c.choose(ChoiceKind::Duplicate, 2, &[], None) == 1 => {
                Route::Duplicate(at, at)
            }
            route => route,
        }
    }

    /// A digest of the state a run's future depends on: the time, each node's liveness,
    /// stored versions, hints and the writes its requests hold, the messages and timers pending
    /// (times relative to now, message ids left out: they number sends, not state), the writes
    /// issued, and the schedule budgets left. Two schedules with equal digests are taken to
    /// continue alike. Coordinators' other bookkeeping (which replies a request has) is seen
    /// only through the messages and timers it leaves pending.
    fn state_digest(&self) -> u64 {
        let now = self.engine.now();
        let mut h = FxHasher::default();
        now.as_nanos().hash(&mut h);
        self.next_write.hash(&mut h);
        self.node_up.hash(&mut h);
        let mut writes = Vec::new();
        for node in &self.nodes {
            // Stores iterate in no fixed order: entries combine by a sum, which ignores order.
            let mut store = 0u64;
            node.for_each_version_set(|key, set| store = store.wrapping_add(digest(&(key.index(), format!("{set:?}")))));
            store.hash(&mut h);
            writes.clear();
            node.held_writes(&mut writes);
            writes.sort_unstable();
            writes.hash(&mut h);
        }
        let mut pending = 0u64;
        for (at, event) in self.engine.pending_timed() {
            pending = pending.wrapping_add(digest(&(at.as_nanos().saturating_sub(now.as_nanos()), event_digest(event))));
        }
        pending.hash(&mut h);
        if let Some(c) = &self.schedule {
            c.budgets_used().hash(&mut h);
        }
        h.finish()
    }
}

/// FxHash: a fixed function (the search's pruning, and so its output, must not change with the
/// standard library's hasher).
fn digest(value: &impl Hash) -> u64 {
    let mut h = FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

/// An event's digest without the numbers that count sends or tickets rather than describe state.
fn event_digest(event: &Event) -> u64 {
    match event {
        Event::Deliver(env) | Event::Process(env) => digest(&(
            matches!(event, Event::Deliver(_)),
            format!("{:?}>{:?}", env.from, env.to),
            format!("{:?}", env.payload),
            env.service.as_nanos(),
        )),
        Event::NodeTimer { node, timer } => digest(&(node.index(), format!("{timer:?}"))),
        Event::ClientTimer { client, timer } => digest(&(client.index(), format!("{timer:?}"))),
        Event::NodeTimeout { kind, .. } => digest(&("node timeout", kind)),
        Event::ClientTimeout { .. } => digest(&"client timeout"),
        Event::Arrival => digest(&"arrival"),
        Event::EndWorkload => digest(&"end of workload"),
        Event::Fault(i) => digest(&("fault", i)),
        Event::Sample => digest(&"sample"),
    }
}

/// The actor an event stands for, for PCT's priorities (nodes first, then clients): a
/// message's sender, whose steps PCT orders, or the node or client a timer fires on.
fn actor(event: &Event, nodes: usize) -> usize {
    let endpoint = |e: &Endpoint| match e {
        Endpoint::Node(n) => n.index(),
        Endpoint::Client(c) => nodes + c.index(),
    };
    match event {
        Event::Deliver(env) | Event::Process(env) => endpoint(&env.from),
        Event::NodeTimer { node, .. } => node.index(),
        Event::ClientTimer { client, .. } => nodes + client.index(),
        _ => usize::MAX,
    }
}
