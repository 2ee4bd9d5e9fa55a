//! What observers see: operations fed to the history oracle and metrics, the client history,
//! the trace, and the oracle's pruning census.

use super::delivery::MessageTag;
use super::{Event, World};
use crate::node::message::Failure;
use crate::observe::ops::{Op, OpFunction, OpType, OpValue};
use crate::observe::trace::TraceEvent;
use crate::observe::LostWrite;
use crate::scenario::workload::ValueModel;
use crate::sim::engine::SimTime;
use crate::sim::ids::{Endpoint, WriteId};
use crate::world::client::{ClientTimer, Observation, Role};
use std::rc::Rc;

impl<'s> World<'s> {
    /// Feeds the history oracle and metrics; probe traffic is kept out of the workload figures.
    pub(super) fn observe(&mut self, now: SimTime, o: Observation) {
        if self.op_log.is_some() {
            self.log_operation(now, &o);
        }
        match o {
            Observation::ReadStarted { client, op, key } => self.history.read_started(client, op, key),
            Observation::ReadEnded { client, op, started, result, probe, level, .. } => match (result, probe) {
                (Ok((writes, ..)), Some((write, delay_index))) => {
                    self.metrics.probe_reads += 1;
                    self.history.probe_read(client, op, write, delay_index, writes.as_slice());
                }
                (Ok((writes, versions, _)), None) => {
                    self.metrics.succeeded(true, level, now.since(started).as_nanos(), now.as_nanos());
                    self.metrics.versions_per_read[versions.min(4)] += 1;
                    let stale = self.history.read_succeeded(client, op, writes.as_slice());
                    if let Some(level) = level {
                        let stats = &mut self.metrics.levels[level.index()];
                        stats.reads_judged += 1;
                        stats.stale_reads += stale as u64;
                    }
                }
                (Err(failure), probe) => {
                    self.history.read_failed(client, op);
                    if probe.is_none() {
                        self.metrics.failed(true, level, failure, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
            },
            Observation::WriteStarted { write, client, key, parents, removed, tombstone } => {
                self.history.write_started(client, key, write, parents);
                if tombstone {
                    self.history.tombstone_written(write);
                }
                if let Some(item) = removed {
                    self.history.cart_item_removed(key, item, write);
                }
            }
            Observation::Retried => self.metrics.client_retries += 1,
            Observation::WriteEnded { write, client, key, started, result, probe, level } => match result {
                Ok(()) => {
                    self.history.write_acked(write, key, now);
                    if probe {
                        self.metrics.probe_writes += 1;
                    } else {
                        self.history.session_write_acked(client, key, write);
                        self.metrics.succeeded(false, level, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
                Err(failure) => {
                    if probe {
                        self.metrics.probe_write_failures += 1;
                    } else {
                        self.metrics.failed(false, level, failure, now.since(started).as_nanos(), now.as_nanos());
                    }
                }
            },
        }
    }

    /// Records an invocation or a completion in the client history (see `observe::ops`).
    fn log_operation(&mut self, now: SimTime, o: &Observation) {
        let Some(log) = self.op_log.as_mut() else { return };
        let cart = matches!(self.scenario.workload.value_model, ValueModel::Cart { .. });
        // A write's id in the log: apart from read operation ids.
        let write_op = |w: WriteId| w.0 | 1 << 63;
        let write_f = if cart { OpFunction::Add } else { OpFunction::Write };
        match o {
            Observation::ReadStarted { client, op, key } => log.invoke(
                *client,
                *op,
                Op { time: now, kind: OpType::Invoke, f: OpFunction::Read, key: *key, value: OpValue::Nil },
            ),
            Observation::ReadEnded { client, op, key, result, .. } => {
                let (kind, value) = match result {
                    Ok((writes, _, read)) => {
                        let mut values: Vec<u64> = if cart {
                            read.siblings.iter().flat_map(|s| s.cart.items()).collect()
                        } else {
                            writes.as_slice().iter().map(|w| w.0).collect()
                        };
                        values.sort_unstable();
                        values.dedup();
                        let value = match (cart, values.as_slice()) {
                            (false, []) => OpValue::Nil,
                            (false, [one]) => OpValue::One(*one),
                            _ => OpValue::Set(values),
                        };
                        (OpType::Ok, value)
                    }
                    // A read that failed changed nothing.
                    Err(_) => (OpType::Fail, OpValue::Nil),
                };
                log.complete(*client, *op, Op { time: now, kind, f: OpFunction::Read, key: *key, value });
            }
            Observation::WriteStarted { write, client, key, .. } => {
                let op = Op { time: now, kind: OpType::Invoke, f: write_f, key: *key, value: OpValue::One(write.0) };
                log.invoke(*client, write_op(*write), op)
            }
            Observation::WriteEnded { write, client, key, result, .. } => {
                let kind = match result {
                    Ok(()) => OpType::Ok,
                    // Refused before it was sent: it did not happen.
                    Err(Failure::Unavailable) => OpType::Fail,
                    // It may have reached some replicas.
                    Err(_) => OpType::Info,
                };
                log.complete(
                    *client,
                    write_op(*write),
                    Op { time: now, kind, f: write_f, key: *key, value: OpValue::One(write.0) },
                );
            }
            Observation::Retried => {}
        }
    }

    /// Records a message event if tracing is on; inlined, and `tag` is called only then, so an
    /// untraced run pays one test and computes nothing.
    #[inline(always)]
    pub(super) fn trace_message(&mut self, verb: &'static str, tag: impl FnOnce() -> MessageTag, outcome: Option<&str>) {
        if self.tracer.is_some() {
            self.record_message(verb, tag(), outcome);
        }
    }

    /// The traced half of [`World::trace_message`].
    #[cold]
    fn record_message(&mut self, verb: &'static str, tag: MessageTag, outcome: Option<&str>) {
        let MessageTag { id, from, to, kind, key } = tag;
        if let Some(t) = self.tracer.as_mut() {
            let node = match (verb, from, to) {
                ("send", Endpoint::Node(n), _) | (_, _, Endpoint::Node(n)) => Some(n.to_string()),
                _ => None,
            };
            t.record(TraceEvent {
                at: self.engine.now(),
                node,
                verb,
                kind: Some(kind.name()),
                key: key.map(|k| self.keys.name(k)),
                message: Some(id),
                from: Some(from.to_string()),
                to: Some(to.to_string()),
                outcome: outcome.map(String::from),
            });
        }
    }

    pub(super) fn trace_other(&mut self, verb: &'static str, node: Option<String>, outcome: String) {
        if let Some(t) = self.tracer.as_mut() {
            t.record(TraceEvent {
                at: self.engine.now(),
                node,
                verb,
                kind: None,
                key: None,
                message: None,
                from: None,
                to: None,
                outcome: Some(outcome),
            });
        }
    }

    /// Forgets the writes nothing held reflects any more (see [`History::prune`]): the census
    /// is every write id the nodes, clients, pending events and crash records hold.
    pub(super) fn prune_history(&mut self) {
        let mut held = Vec::new();
        for node in &self.nodes {
            node.held_writes(&mut held);
        }
        let mut probe_heads = Vec::new();
        for client in &self.clients {
            let from = held.len();
            client.held_writes(&mut held);
            if client.role() == Role::Probe {
                probe_heads.extend_from_slice(&held[from..]);
            }
        }
        for event in self.engine.pending_events() {
            match event {
                Event::Deliver(envelope) | Event::Process(envelope) => envelope.payload.held_writes(&mut held),
                Event::ClientTimer { timer: ClientTimer::ProbeRead { write, .. }, .. } => {
                    held.push(*write);
                    probe_heads.push(*write);
                }
                Event::NodeTimer { .. }
                | Event::ClientTimer { .. }
                | Event::NodeTimeout { .. }
                | Event::ClientTimeout { .. }
                | Event::Arrival
                | Event::EndWorkload
                | Event::Fault(_)
                | Event::Sample => {}
            }
        }
        for crash in self.unflushed_lost.values().flatten() {
            held.extend_from_slice(&crash.in_memory);
            held.extend_from_slice(&crash.on_disk);
        }
        // Sorted, so the walk (and so nothing else) depends on the slab's order.
        held.sort_unstable();
        held.dedup();
        // Crash records are held, so nothing a crash took from a buffer is among these losses.
        let losses = self.history.prune(&held, &probe_heads);
        for loss in losses.named {
            let key: Rc<str> = self.keys.name(loss.key).into();
            let lost = LostWrite { key_id: loss.key, key, write: loss.write, acked_at: loss.acked_at, unflushed: false };
            self.lost_writes.push(lost, false);
        }
        for (_, count) in losses.unnamed {
            self.lost_writes.push_unnamed(count, false);
        }
    }
}
