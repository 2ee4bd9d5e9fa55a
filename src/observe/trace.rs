//! The trace: one JSON line per event, streamed as it happens.
//!
//! Fields come in a fixed order: simulated time first, then the node concerned, the verb (send,
//! deliver, drop, timer, crash, restart, partition, heal, reply, fault), and where they apply the
//! message kind, key, message id, from, to and outcome. Filters (key, node, kind or verb, time
//! window) are applied before anything is formatted, so a narrow trace of a long run costs
//! little. Lines go to a buffered file (bounded memory), or are hashed one by one for the
//! determinism self-check.

use crate::sim::engine::SimTime;
use std::hash::Hasher;
use std::io::Write;

/// Which events to keep.
#[derive(Clone, Debug, Default)]
pub struct TraceFilter {
    pub key: Option<String>,
    pub node: Option<String>,
    /// A message kind (get_request, ...) or a verb (drop, crash, ...).
    pub kind: Option<String>,
    pub from: Option<SimTime>,
    pub to: Option<SimTime>,
}

/// Every verb a trace line can carry (`--trace-kind` takes these or a message kind).
pub const VERBS: [&str; 10] = ["send", "deliver", "drop", "reply", "timer", "crash", "restart", "partition", "heal", "fault"];

pub enum TraceSink {
    File(std::io::BufWriter<std::fs::File>),
    /// A hash per event, for comparing two runs event by event.
    Hashes(Vec<u64>),
    /// Keep the lines in memory, up to a limit (counting the rest).
    Lines {
        lines: Vec<String>,
        limit: usize,
        dropped: usize,
    },
    /// Keep only the line of event number `index` (0-based, after filtering).
    Capture {
        index: usize,
        seen: usize,
        line: Option<String>,
    },
}

/// One traced event, before formatting.
pub struct TraceEvent<'a> {
    pub at: SimTime,
    pub node: Option<String>,
    pub verb: &'static str,
    pub kind: Option<&'static str>,
    pub key: Option<&'a str>,
    pub message: Option<u64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub outcome: Option<String>,
}

pub struct Tracer {
    pub filter: TraceFilter,
    pub sink: TraceSink,
    pub error: Option<std::io::Error>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Tracer {
    pub fn new(filter: TraceFilter, sink: TraceSink) -> Tracer {
        Tracer { filter, sink, error: None }
    }

    fn keeps(&self, e: &TraceEvent) -> bool {
        let f = &self.filter;
        f.from.is_none_or(|t| e.at >= t)
            && f.to.is_none_or(|t| e.at <= t)
            && f.key.as_deref().is_none_or(|k| e.key == Some(k))
            && f.kind.as_deref().is_none_or(|k| e.kind == Some(k) || e.verb == k)
            && f.node.as_deref().is_none_or(|n| [&e.node, &e.from, &e.to].iter().any(|x| x.as_deref() == Some(n)))
    }

    pub fn record(&mut self, e: TraceEvent) {
        if !self.keeps(&e) {
            return;
        }
        let mut line = format!("{{\"t_ns\":{}", e.at.as_nanos());
        if let Some(n) = &e.node {
            line.push_str(&format!(",\"node\":{}", quote(n)));
        }
        line.push_str(&format!(",\"verb\":\"{}\"", e.verb));
        if let Some(k) = e.kind {
            line.push_str(&format!(",\"kind\":\"{k}\""));
        }
        if let Some(k) = e.key {
            line.push_str(&format!(",\"key\":{}", quote(k)));
        }
        if let Some(m) = e.message {
            line.push_str(&format!(",\"msg\":{m}"));
        }
        if let Some(f) = &e.from {
            line.push_str(&format!(",\"from\":{}", quote(f)));
        }
        if let Some(t) = &e.to {
            line.push_str(&format!(",\"to\":{}", quote(t)));
        }
        if let Some(o) = &e.outcome {
            line.push_str(&format!(",\"outcome\":{}", quote(o)));
        }
        line.push('}');
        match &mut self.sink {
            TraceSink::File(w) => {
                if self.error.is_none() {
                    if let Err(err) = writeln!(w, "{line}") {
                        self.error = Some(err);
                    }
                }
            }
            TraceSink::Hashes(h) => {
                let mut hasher = crate::sim::fastmap::FxHasher::default();
                hasher.write(line.as_bytes());
                h.push(hasher.finish());
            }
            TraceSink::Lines { lines, limit, dropped } => {
                if lines.len() < *limit {
                    lines.push(line);
                } else {
                    *dropped += 1;
                }
            }
            TraceSink::Capture { index, seen, line: kept } => {
                if *seen == *index {
                    *kept = Some(line);
                }
                *seen += 1;
            }
        }
    }

    /// Flushes a file sink; returns the first write error, if any.
    pub fn finish(&mut self) -> Result<(), std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let TraceSink::File(w) = &mut self.sink {
            w.flush()?;
        }
        Ok(())
    }
}

/// The index of the first event where two runs' per-event hashes differ (a run that stops
/// early differs at its end), or None if they agree.
pub fn first_difference(a: &[u64], b: &[u64]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_finds_the_first_diverging_event() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(first_difference(&[1, 2, 3], &[1, 9, 3]), Some(1));
        assert_eq!(first_difference(&[1, 2], &[1, 2, 3]), Some(2));
        assert_eq!(first_difference(&[], &[]), None);
    }

    fn event(at: u64, key: &'static str, verb: &'static str) -> TraceEvent<'static> {
        TraceEvent {
            at: SimTime(at),
            node: Some("n1".into()),
            verb,
            kind: Some("get_request"),
            key: Some(key),
            message: Some(7),
            from: Some("n1".into()),
            to: Some("n2".into()),
            outcome: None,
        }
    }

    #[test]
    fn filters_keep_only_matching_events() {
        let filter =
            TraceFilter { key: Some("k1".into()), node: Some("n2".into()), from: Some(SimTime(10)), ..Default::default() };
        let mut t = Tracer::new(filter, TraceSink::Hashes(Vec::new()));
        t.record(event(5, "k1", "send"));
        t.record(event(20, "k2", "send"));
        t.record(event(20, "k1", "send"));
        let TraceSink::Hashes(h) = &t.sink else { unreachable!() };
        assert_eq!(h.len(), 1);
        let mut c = Tracer::new(
            TraceFilter { kind: Some("drop".into()), ..Default::default() },
            TraceSink::Capture { index: 0, seen: 0, line: None },
        );
        c.record(event(1, "k1", "send"));
        c.record(event(2, "k\"q", "drop"));
        let TraceSink::Capture { line, .. } = &c.sink else { unreachable!() };
        assert_eq!(
            line.as_deref(),
            Some(r#"{"t_ns":2,"node":"n1","verb":"drop","kind":"get_request","key":"k\"q","msg":7,"from":"n1","to":"n2"}"#)
        );
    }
}
