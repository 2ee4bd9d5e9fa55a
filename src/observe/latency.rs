//! Latency logs: every workload operation's latency and completion time, kept exactly while a
//! log holds at most its budget of samples (`observe.exact_latency_samples`), then summarised, so
//! a day's run holds a bounded amount however many operations it completes.
//!
//! A summarised log keeps its count, sum and maximum exactly, its percentiles in an HdrHistogram
//! of [`SIGNIFICANT_DIGITS`] (a percentile reads at most 0.1% above the exact one, never below),
//! and per report window the exact count, the exact time in flight, the longest stall, and
//! percentiles to [`WINDOW_SIGNIFICANT_DIGITS`] (1%). The report says which figures are exact.

use hdrhistogram::Histogram;

/// Significant decimal digits of a summarised log's percentiles.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Significant decimal digits of a summarised log's percentiles per report window.
pub const WINDOW_SIGNIFICANT_DIGITS: u8 = 2;
/// `observe.exact_latency_samples`' default: 8 MiB a log.
pub const DEFAULT_EXACT_SAMPLES: usize = 1 << 20;

/// What a log needs in order to summarise itself: its budget of exact samples and the report's
/// time windows (fixed by the run's length, known before it starts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyFrame {
    pub exact_samples: usize,
    pub window_ns: u64,
    /// The workload's end: a stall is measured up to it.
    pub traffic_end_ns: u64,
}

impl Default for LatencyFrame {
    fn default() -> Self {
        LatencyFrame { exact_samples: DEFAULT_EXACT_SAMPLES, window_ns: 1_000_000, traffic_end_ns: u64::MAX }
    }
}

/// One kind of operation's latencies and completion times, in completion order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyLog {
    exact: ExactLog,
    /// Set once the exact log outgrew its budget; the exact log is then empty.
    summary: Option<Box<Summary>>,
}

impl LatencyLog {
    /// Records an operation that took `latency_ns` and completed at `at_ns`.
    pub fn push(&mut self, latency_ns: u64, at_ns: u64, frame: &LatencyFrame) {
        if let Some(s) = &mut self.summary {
            s.add(latency_ns, at_ns);
            return;
        }
        if self.exact.len() >= frame.exact_samples {
            let mut s = Summary::new(frame);
            for (l, at) in self.exact.completions() {
                s.add(l, at);
            }
            s.add(latency_ns, at_ns);
            self.exact = ExactLog::default();
            self.summary = Some(Box::new(s));
            return;
        }
        self.exact.push(latency_ns, at_ns);
    }

    pub fn len(&self) -> usize {
        self.summary.as_ref().map_or(self.exact.len(), |s| s.overall.count as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sample is still held.
    pub fn is_exact(&self) -> bool {
        self.summary.is_none()
    }

    /// The latencies' distribution.
    pub fn distribution(&self) -> Distribution {
        match &self.summary {
            None => Distribution::Exact(self.exact.sorted()),
            Some(s) => Distribution::Approximate(s.overall.clone()),
        }
    }

    /// Per window of `window_ns` (the first `buckets` of them): operations completed, time in
    /// flight, and their latencies' distribution.
    pub fn windows(&self, window_ns: u64, buckets: usize) -> Vec<WindowStats> {
        let mut out: Vec<WindowStats> = (0..buckets).map(|_| WindowStats::default()).collect();
        match &self.summary {
            None => {
                let mut by: Vec<Vec<u64>> = vec![Vec::new(); buckets];
                for (latency, at) in self.exact.completions() {
                    if let Some(v) = by.get_mut((at / window_ns) as usize) {
                        v.push(latency);
                    }
                    add_busy(latency, at, window_ns, |i, ns| out.get_mut(i).map(|w| w.busy_ns += ns).is_some());
                }
                for (w, mut v) in out.iter_mut().zip(by) {
                    v.sort_unstable();
                    w.count = v.len() as u64;
                    w.latencies = Distribution::Exact(v);
                }
            }
            Some(s) => {
                debug_assert_eq!(s.window_ns, window_ns, "a summarised log keeps the report's windows");
                for (w, kept) in out.iter_mut().zip(&s.windows) {
                    w.count = kept.latencies.count;
                    w.busy_ns = kept.busy_ns;
                    w.latencies = Distribution::Approximate(kept.latencies.clone());
                }
            }
        }
        out
    }

    /// Operations completed per window of `window_ns`, the first `buckets` windows.
    pub fn counts_per_window(&self, window_ns: u64, buckets: usize) -> Vec<u64> {
        let mut out = vec![0u64; buckets];
        match &self.summary {
            None => {
                for (_, at) in self.exact.completions() {
                    if let Some(c) = out.get_mut((at / window_ns) as usize) {
                        *c += 1;
                    }
                }
            }
            Some(s) => {
                debug_assert_eq!(s.window_ns, window_ns, "a summarised log keeps the report's windows");
                for (c, kept) in out.iter_mut().zip(&s.windows) {
                    *c = kept.latencies.count;
                }
            }
        }
        out
    }

    /// The longest stretch from 0 to `traffic_end_ns` in which no operation completed: (its
    /// length, its start), in nanoseconds. Exact in both forms.
    pub fn longest_stall(&self, traffic_end_ns: u64) -> (u64, u64) {
        let mut stall = match &self.summary {
            None => {
                let mut stall = Stall::default();
                for (_, at) in self.exact.completions() {
                    stall.completed(at, traffic_end_ns);
                }
                stall
            }
            Some(s) => {
                debug_assert_eq!(s.traffic_end_ns, traffic_end_ns, "a summarised log keeps the workload's end");
                s.stall
            }
        };
        stall.completed(traffic_end_ns, traffic_end_ns);
        stall.longest
    }
}

/// The longest gap between completions, followed one completion at a time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stall {
    last: u64,
    longest: (u64, u64),
}

impl Stall {
    fn completed(&mut self, at: u64, traffic_end_ns: u64) {
        let at = at.min(traffic_end_ns);
        if at.saturating_sub(self.last) > self.longest.0 {
            self.longest = (at - self.last, self.last);
        }
        self.last = self.last.max(at);
    }
}

/// Splits an operation's time in flight, from `at - latency` to `at`, over windows of
/// `window_ns`: `add(window, ns)` until it returns false (past the last window).
fn add_busy(latency: u64, at: u64, window_ns: u64, mut add: impl FnMut(usize, u64) -> bool) {
    let mut t = at.saturating_sub(latency);
    while t < at {
        let i = (t / window_ns) as usize;
        let next = ((i as u64 + 1) * window_ns).min(at);
        if !add(i, next - t) {
            break;
        }
        t = next;
    }
}

/// One report window of a log.
#[derive(Clone, Debug, Default)]
pub struct WindowStats {
    pub count: u64,
    /// Time the window's operations (those in flight during it) spent in flight in it.
    pub busy_ns: u64,
    pub latencies: Distribution,
}

/// Latencies, exactly (sorted) or as a histogram.
#[derive(Clone, Debug)]
pub enum Distribution {
    Exact(Vec<u64>),
    Approximate(Approximate),
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution::Exact(Vec::new())
    }
}

/// A summarised distribution: its count, sum and maximum exact, its percentiles from the
/// histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct Approximate {
    pub histogram: Histogram<u64>,
    pub count: u64,
    pub sum: u128,
    pub max: u64,
}

impl Approximate {
    fn new(digits: u8) -> Approximate {
        // Auto-resizing from 1 ns: any latency can be recorded.
        let histogram = Histogram::new(digits).unwrap_or_else(|_| unreachable!("1 to 5 significant digits are valid"));
        Approximate { histogram, count: 0, sum: 0, max: 0 }
    }

    fn record(&mut self, latency: u64) {
        record(&mut self.histogram, latency);
        self.count += 1;
        self.sum += latency as u128;
        self.max = self.max.max(latency);
    }
}

impl Distribution {
    pub fn len(&self) -> u64 {
        match self {
            Distribution::Exact(v) => v.len() as u64,
            Distribution::Approximate(a) => a.count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Distribution::Exact(_))
    }

    /// The nearest-rank percentile `p`: exact, or the top of the histogram bucket holding it
    /// (never below the exact value, never above the maximum).
    pub fn quantile(&self, p: f64) -> u64 {
        match self {
            Distribution::Exact(v) => percentile(v, p),
            Distribution::Approximate(a) if a.count == 0 => 0,
            Distribution::Approximate(a) => a.histogram.value_at_quantile(p).min(a.max),
        }
    }

    /// The mean, truncated to the nanosecond (exact in both forms).
    pub fn mean(&self) -> u64 {
        let (sum, n) = match self {
            Distribution::Exact(v) => (v.iter().map(|&x| x as u128).sum::<u128>(), v.len() as u128),
            Distribution::Approximate(a) => (a.sum, a.count as u128),
        };
        sum.checked_div(n).map_or(0, |mean| mean as u64)
    }

    pub fn max(&self) -> u64 {
        match self {
            Distribution::Exact(v) => v.last().copied().unwrap_or(0),
            Distribution::Approximate(a) => a.max,
        }
    }

    /// Both distributions' samples together: exact if both are.
    pub fn merged(a: &Distribution, b: &Distribution) -> Distribution {
        match (a, b) {
            (Distribution::Exact(x), Distribution::Exact(y)) => {
                let mut all = Vec::with_capacity(x.len() + y.len());
                all.extend_from_slice(x);
                all.extend_from_slice(y);
                all.sort_unstable();
                Distribution::Exact(all)
            }
            (Distribution::Approximate(h), other) | (other, Distribution::Approximate(h)) => {
                let mut merged = h.clone();
                match other {
                    Distribution::Exact(v) => v.iter().for_each(|&l| merged.record(l)),
                    Distribution::Approximate(o) => {
                        // Same precision, auto-resizing: adding cannot fail.
                        let _ = merged.histogram.add(&o.histogram);
                        merged.count += o.count;
                        merged.sum += o.sum;
                        merged.max = merged.max.max(o.max);
                    }
                }
                Distribution::Approximate(merged)
            }
        }
    }
}

/// Records one latency, growing the histogram's range as needed (it fails only past 2^63 ns,
/// beyond any simulated time; such a value is then counted at the top of the range).
fn record(histogram: &mut Histogram<u64>, latency: u64) {
    if histogram.record(latency).is_err() {
        histogram.saturating_record(latency);
    }
}

/// Exact nearest-rank percentile of sorted samples: the smallest value with at least `p` of the
/// samples at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A log past its budget.
#[derive(Clone, Debug, PartialEq)]
struct Summary {
    window_ns: u64,
    traffic_end_ns: u64,
    overall: Approximate,
    windows: Vec<WindowSummary>,
    stall: Stall,
}

#[derive(Clone, Debug, PartialEq)]
struct WindowSummary {
    /// Its completions (their sum unused: a window reports percentiles only).
    latencies: Approximate,
    busy_ns: u64,
}

impl Summary {
    fn new(frame: &LatencyFrame) -> Summary {
        Summary {
            window_ns: frame.window_ns.max(1),
            traffic_end_ns: frame.traffic_end_ns,
            overall: Approximate::new(SIGNIFICANT_DIGITS),
            windows: Vec::new(),
            stall: Stall::default(),
        }
    }

    fn window(&mut self, i: usize) -> &mut WindowSummary {
        while self.windows.len() <= i {
            self.windows.push(WindowSummary { latencies: Approximate::new(WINDOW_SIGNIFICANT_DIGITS), busy_ns: 0 });
        }
        &mut self.windows[i]
    }

    fn add(&mut self, latency: u64, at: u64) {
        self.overall.record(latency);
        self.stall.completed(at, self.traffic_end_ns);
        self.window((at / self.window_ns) as usize).latencies.record(latency);
        add_busy(latency, at, self.window_ns, |i, ns| {
            self.window(i).busy_ns += ns;
            true
        });
    }
}

/// Every sample, in completion order, in 8 bytes instead of 16: a latency in nanoseconds and
/// the gap since the previous completion each fit 32 bits unless they exceed 4.29 s, and those
/// few are kept apart at full width.
#[derive(Clone, Debug, Default, PartialEq)]
struct ExactLog {
    latency_ns: Vec<u32>,
    gap_ns: Vec<u32>,
    /// Latencies of `WIDE` or more, in order.
    wide_latency_ns: Vec<u64>,
    /// Gaps of `WIDE` or more, in order.
    wide_gap_ns: Vec<u64>,
    last_completion_ns: u64,
}

/// Marks an entry whose value is in the wide list.
const WIDE: u32 = u32::MAX;

impl ExactLog {
    /// Completions come in time order as the simulation runs, so gaps are small; wrapping
    /// arithmetic keeps the log exact whatever the order.
    fn push(&mut self, latency_ns: u64, at_ns: u64) {
        let gap = at_ns.wrapping_sub(self.last_completion_ns);
        self.last_completion_ns = at_ns;
        self.latency_ns.push(narrow(latency_ns, &mut self.wide_latency_ns));
        self.gap_ns.push(narrow(gap, &mut self.wide_gap_ns));
    }

    fn len(&self) -> usize {
        self.latency_ns.len()
    }

    fn latencies(&self) -> impl Iterator<Item = u64> + '_ {
        widen(&self.latency_ns, &self.wide_latency_ns)
    }

    /// Every (latency, completion time), in completion order.
    fn completions(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut at = 0u64;
        self.latencies().zip(widen(&self.gap_ns, &self.wide_gap_ns)).map(move |(latency, gap)| {
            at = at.wrapping_add(gap);
            (latency, at)
        })
    }

    fn sorted(&self) -> Vec<u64> {
        let mut sorted: Vec<u64> = self.latencies().collect();
        sorted.sort_unstable();
        sorted
    }
}

fn narrow(value: u64, wide: &mut Vec<u64>) -> u32 {
    match u32::try_from(value) {
        Ok(v) if v != WIDE => v,
        _ => {
            wide.push(value);
            WIDE
        }
    }
}

fn widen<'a>(narrow: &'a [u32], wide: &'a [u64]) -> impl Iterator<Item = u64> + 'a {
    let mut wide = wide.iter();
    narrow.iter().map(move |&v| if v == WIDE { wide.next().copied().unwrap_or(u64::MAX) } else { v as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_log_gives_back_exactly_what_it_was_given() {
        let mut log = ExactLog::default();
        let entries = [
            (5, 10),
            (WIDE as u64, 10),
            (u64::from(u32::MAX) - 1, 20),
            (9_000_000_000, 9_000_000_020),
            (0, 9_000_000_020),
            (7, u64::MAX / 2),
            (8, 3), // out of order: still exact
        ];
        for (latency, at) in entries {
            log.push(latency, at);
        }
        assert_eq!(log.len(), entries.len());
        assert_eq!(log.completions().collect::<Vec<_>>(), entries);
        assert_eq!(log.sorted(), vec![0, 5, 7, 8, u64::from(u32::MAX) - 1, WIDE as u64, 9_000_000_000]);
        assert_eq!(log.wide_latency_ns.len() + log.wide_gap_ns.len(), 5, "only values of 2^32 - 1 or more go wide");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), 500);
        assert_eq!(percentile(&v, 0.999), 999);
        assert_eq!(percentile(&v, 1.0), 1000);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.999), 7);
    }

    /// The same samples into a log that stays exact and one that summarises after 1,000: counts,
    /// mean, maximum, stall, per-window counts and time in flight agree exactly; percentiles lie
    /// within the stated precision and never below the exact ones.
    #[test]
    fn a_summarised_log_keeps_its_exact_figures_and_bounds_its_percentiles() {
        let frame = LatencyFrame { exact_samples: 1_000, window_ns: 50_000_000, traffic_end_ns: 3_000_000_000 };
        let unbounded = LatencyFrame { exact_samples: usize::MAX, ..frame };
        let (mut exact, mut summarised) = (LatencyLog::default(), LatencyLog::default());
        let mut at = 0u64;
        let mut x = 88_172_645_463_325_252u64;
        for i in 0..20_000u64 {
            // xorshift: latencies from 0.1 to 30 ms, a stall from 1.2 s to 1.5 s.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let latency = 100_000 + x % 30_000_000;
            at += 100_000 + (x >> 40) % 50_000;
            if i == 8_000 {
                at += 300_000_000;
            }
            exact.push(latency, at, &unbounded);
            summarised.push(latency, at, &frame);
        }
        assert!(exact.is_exact() && !summarised.is_exact());
        assert_eq!(summarised.len(), exact.len());
        let (e, s) = (exact.distribution(), summarised.distribution());
        assert_eq!((s.len(), s.mean(), s.max()), (e.len(), e.mean(), e.max()));
        for p in [0.5, 0.9, 0.99, 0.999, 1.0] {
            let (ev, sv) = (e.quantile(p) as f64, s.quantile(p) as f64);
            assert!(sv >= ev && sv <= ev * 1.001, "p{p}: {sv} against exact {ev}");
        }
        assert_eq!(summarised.longest_stall(frame.traffic_end_ns), exact.longest_stall(frame.traffic_end_ns));
        assert!(exact.longest_stall(frame.traffic_end_ns).0 >= 300_000_000);
        let buckets = (frame.traffic_end_ns / frame.window_ns + 1) as usize;
        assert_eq!(summarised.counts_per_window(frame.window_ns, buckets), exact.counts_per_window(frame.window_ns, buckets));
        for (i, (s, e)) in
            summarised.windows(frame.window_ns, buckets).iter().zip(exact.windows(frame.window_ns, buckets)).enumerate()
        {
            assert_eq!((s.count, s.busy_ns), (e.count, e.busy_ns), "window {i}");
            let (sv, ev) = (s.latencies.quantile(0.99) as f64, e.latencies.quantile(0.99) as f64);
            assert!(sv >= ev && sv <= ev * 1.01, "window {i}: p99 {sv} against exact {ev}");
        }
        let merged = Distribution::merged(&s, &e);
        assert_eq!((merged.len(), merged.max(), merged.is_exact()), (2 * e.len(), e.max(), false));
    }
}
