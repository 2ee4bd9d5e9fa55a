//! The client history: every client operation's invocation and completion, in the order they
//! happened, for checkers outside dynasim (Jepsen's Knossos and Elle, Porcupine, a script).
//!
//! Written as Jepsen writes histories: one map per line in EDN, `:type` `:invoke`, then `:ok`,
//! `:fail` (the operation certainly did not happen: a failed read, a write refused before it
//! was sent) or `:info` (it may have: a write that timed out), with `:f`, `:process`, `:time`
//! in nanoseconds, `:index`, and `:value`. Values follow jepsen.independent's convention for
//! many keys: `[key v]`. A register write's value is its write id (unique), a read's the write
//! ids of the versions it returned (one, or a set of siblings); a cart write is `:add` of its
//! item, and a cart read returns the set of items in the versions it returned. Like Jepsen's
//! processes, a process runs one operation at a time, and one whose operation ended in `:info`
//! is replaced by a new process (its number plus the client count). Open-loop clients may have
//! several operations in flight, so each of their operations gets a process of its own.

use crate::sim::engine::SimTime;
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, KeyId};
use std::io::Write;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OpType {
    Invoke,
    Ok,
    Fail,
    Info,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OpFunction {
    Read,
    Write,
    Add,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpValue {
    /// A read's invocation, or a read that found nothing.
    Nil,
    One(u64),
    /// Siblings, or a cart's items (sorted).
    Set(Vec<u64>),
}

/// An invocation or a completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub time: SimTime,
    pub kind: OpType,
    pub f: OpFunction,
    pub key: KeyId,
    pub value: OpValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpEvent {
    pub process: u64,
    pub op: Op,
}

/// Records the history while the run goes.
pub struct OpLog {
    pub events: Vec<OpEvent>,
    /// Each client's current process: its number, plus the client count for each process it
    /// has had before.
    process_of: Vec<u64>,
    clients: u64,
    /// Clients `0..open` are open-loop: a process per operation.
    open: usize,
    /// Per operation in flight (client, operation id): its process.
    in_flight: FastMap<(ClientId, u64), u64>,
}

impl OpLog {
    /// `clients` in all, of which the first `open` are open-loop.
    pub fn new(clients: usize, open: usize) -> OpLog {
        OpLog {
            events: Vec::new(),
            process_of: (0..clients as u64).collect(),
            clients: clients as u64,
            open,
            in_flight: FastMap::default(),
        }
    }

    /// Operation `id` (unique per client) of `client` is invoked.
    pub fn invoke(&mut self, client: ClientId, id: u64, op: Op) {
        let Some(slot) = self.process_of.get_mut(client.index()) else { return };
        let process = *slot;
        if client.index() < self.open {
            *slot += self.clients;
        }
        self.in_flight.insert((client, id), process);
        self.events.push(OpEvent { process, op });
    }

    /// Operation `id` of `client` ended.
    pub fn complete(&mut self, client: ClientId, id: u64, op: Op) {
        let Some(process) = self.in_flight.remove(&(client, id)) else { return };
        let info = op.kind == OpType::Info;
        self.events.push(OpEvent { process, op });
        if info {
            if let Some(p) = self.process_of.get_mut(client.index()).filter(|p| **p == process) {
                *p += self.clients;
            }
        }
    }
}

/// A finished run's history with its keys' names.
pub struct ClientHistory {
    pub events: Vec<OpEvent>,
    /// Names of the keys the events name, by key id.
    pub key_names: Vec<std::rc::Rc<str>>,
}

/// The formats [`ClientHistory::write`] writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    Edn,
    JsonLines,
}

impl HistoryFormat {
    /// By the file's extension: `.edn` or `.jsonl`.
    pub fn for_path(path: &std::path::Path) -> Option<HistoryFormat> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("edn") => Some(HistoryFormat::Edn),
            Some("jsonl") => Some(HistoryFormat::JsonLines),
            _ => None,
        }
    }
}

impl ClientHistory {
    pub fn write(&self, format: HistoryFormat, out: &mut impl Write) -> std::io::Result<()> {
        for (index, e) in self.events.iter().enumerate() {
            let key = self.key_names.get(e.op.key.index()).map_or("?", |k| k);
            match format {
                HistoryFormat::Edn => writeln!(out, "{}", edn(index, e, key))?,
                HistoryFormat::JsonLines => writeln!(out, "{}", json(index, e, key))?,
            }
        }
        Ok(())
    }
}

fn type_name(t: OpType) -> &'static str {
    match t {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}

fn function_name(f: OpFunction) -> &'static str {
    match f {
        OpFunction::Read => "read",
        OpFunction::Write => "write",
        OpFunction::Add => "add",
    }
}

fn edn(index: usize, e: &OpEvent, key: &str) -> String {
    let value = match &e.op.value {
        OpValue::Nil => "nil".to_string(),
        OpValue::One(v) => v.to_string(),
        OpValue::Set(vs) => format!("#{{{}}}", vs.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")),
    };
    format!(
        "{{:index {index}, :type :{}, :f :{}, :process {}, :time {}, :value [{} {value}]}}",
        type_name(e.op.kind),
        function_name(e.op.f),
        e.process,
        e.op.time.as_nanos(),
        serde_json::Value::from(key),
    )
}

fn json(index: usize, e: &OpEvent, key: &str) -> String {
    let value = match &e.op.value {
        OpValue::Nil => serde_json::Value::Null,
        OpValue::One(v) => serde_json::json!(v),
        OpValue::Set(vs) => serde_json::json!(vs),
    };
    serde_json::json!({
        "index": index,
        "type": type_name(e.op.kind),
        "f": function_name(e.op.f),
        "process": e.process,
        "time": e.op.time.as_nanos(),
        "key": key,
        "value": value,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_ends_in_info_is_replaced_and_lines_read_as_jepsen_writes_them() {
        let mut log = OpLog::new(2, 0);
        let (c0, k) = (ClientId(0), KeyId(0));
        let op = |t: u64, kind: OpType, f: OpFunction, value: OpValue| Op { time: SimTime(t), kind, f, key: k, value };
        log.invoke(c0, 1, op(5, OpType::Invoke, OpFunction::Write, OpValue::One(7)));
        log.complete(c0, 1, op(9, OpType::Info, OpFunction::Write, OpValue::One(7)));
        log.invoke(c0, 2, op(10, OpType::Invoke, OpFunction::Read, OpValue::Nil));
        log.complete(c0, 2, op(12, OpType::Ok, OpFunction::Read, OpValue::Set(vec![7, 8])));
        let processes: Vec<u64> = log.events.iter().map(|e| e.process).collect();
        assert_eq!(processes, [0, 0, 2, 2], "after :info the client is process 0 + 2 clients");
        let history = ClientHistory { events: log.events, key_names: vec!["k0".into()] };
        let mut edn = Vec::new();
        history.write(HistoryFormat::Edn, &mut edn).expect("in memory");
        let lines: Vec<&str> = std::str::from_utf8(&edn).expect("utf-8").lines().collect();
        assert_eq!(lines[0], r#"{:index 0, :type :invoke, :f :write, :process 0, :time 5, :value ["k0" 7]}"#);
        assert_eq!(lines[3], r##"{:index 3, :type :ok, :f :read, :process 2, :time 12, :value ["k0" #{7 8}]}"##);
        let mut json = Vec::new();
        history.write(HistoryFormat::JsonLines, &mut json).expect("in memory");
        let first: serde_json::Value = serde_json::from_slice(json.split(|b| *b == b'\n').next().expect("a line")).expect("json");
        assert_eq!(first["type"], "invoke");
        assert_eq!(first["value"], 7);
        assert_eq!(first["key"], "k0");
    }
}
