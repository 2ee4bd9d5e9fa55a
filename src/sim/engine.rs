//! The discrete-event engine: virtual time and an event queue.
//!
//! Owns simulated time ([`SimTime`], integer nanoseconds) and a queue of pending events ordered
//! by `(time, sequence number)`, so events scheduled for the same instant pop in the order they
//! were scheduled. The clock moves only when an event is popped and never goes backwards.
//! The engine is generic over the event type and knows nothing about Dynamo.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Saturating addition: a run never overflows into the past.
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_millis_f64(ms: f64) -> SimDuration {
        SimDuration(millis_to_nanos(ms))
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    pub fn as_nanos(self) -> u64 {
        self.0
    }
}

/// Converts milliseconds to whole nanoseconds, saturating; negative and NaN become zero.
/// Rounds half away from zero exactly as `f64::round` would, without its libm call (every
/// message's delay passes through here): below 2^53 the fraction `ns - trunc(ns)` is exact.
pub fn millis_to_nanos(ms: f64) -> u64 {
    let ns = ms * 1e6;
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= 9_007_199_254_740_992.0 {
        // From 2^53 up every double is a whole number.
        if ns >= u64::MAX as f64 {
            u64::MAX
        } else {
            ns as u64
        }
    } else {
        let whole = ns as u64;
        whole + (ns - whole as f64 >= 0.5) as u64
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}ms", self.as_millis_f64())
    }
}

/// Bits of a queue key given to the payload's slot; the sequence number takes the 40 above.
const SLOT_BITS: u32 = 24;
const MAX_SLOTS: usize = 1 << SLOT_BITS;
const MAX_SEQ: u64 = 1 << (64 - SLOT_BITS);

/// A reserved place in the event order: a time and the sequence number that breaks its ties.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket {
    time: SimTime,
    seq: u64,
}

/// Width of a calendar bucket in nanoseconds (2^16: 65.5 µs).
const BUCKET_BITS: u32 = 16;
/// Buckets in the calendar's year: with the width above, 67 ms ahead of the clock. Longer
/// years kept more events out of the overflow heap but spread the buckets' storage over more
/// memory than the cache holds (simulated cache misses rose with the year's length).
const BUCKETS: usize = 1024;
const HORIZON: u64 = (BUCKETS as u64) << BUCKET_BITS;
/// An emptied bucket keeps its storage up to this many keys.
const KEPT_BUCKET_CAPACITY: usize = 64;

fn key_time(key: u128) -> u64 {
    (key >> 64) as u64
}

/// The slab slot a queue key names (its low bits).
fn slot_of(key: u128) -> usize {
    (key as u64 & ((1 << SLOT_BITS) - 1)) as usize
}

/// A calendar queue (Brown, 1988) of queue keys: a key due within the coming 67 ms waits in
/// the bucket of its 65.5 µs slice of time, itself a small heap; later keys wait in an overflow
/// heap and move into the calendar as the clock comes within range. Finding the least key is a
/// scan of the occupancy bitmap from the clock's bucket, and heap operations happen among a
/// bucket's few keys instead of among every pending event.
///
/// Invariant: every key in a bucket is due in `[start, start + HORIZON)`, where `start` is the
/// first moment of the bucket of the last key popped (never after the clock), so a bucket's
/// place in the year names its slice unambiguously; every overflow key is due at
/// `start + HORIZON` or later unless `start` moved on since it arrived, which `least` mends
/// before it looks.
struct CalendarQueue {
    start: u64,
    buckets: Vec<BinaryHeap<Reverse<u128>>>,
    /// Bit b of word w is set when bucket `64 w + b` holds a key.
    occupied: Vec<u64>,
    in_buckets: usize,
    overflow: BinaryHeap<Reverse<u128>>,
    /// The least key and where it is, once found and until it is popped (pushes keep it
    /// current), so that a peek and the pop after it search once.
    least: Option<(u128, Option<usize>)>,
}

impl Default for CalendarQueue {
    fn default() -> Self {
        CalendarQueue {
            start: 0,
            buckets: (0..BUCKETS).map(|_| BinaryHeap::new()).collect(),
            occupied: vec![0; BUCKETS / 64],
            in_buckets: 0,
            overflow: BinaryHeap::new(),
            least: None,
        }
    }
}

impl CalendarQueue {
    fn len(&self) -> usize {
        self.in_buckets + self.overflow.len()
    }

    fn bucket_of(time: u64) -> usize {
        (time >> BUCKET_BITS) as usize % BUCKETS
    }

    /// Pushes a key; one due before the start (never from the engine) moves the start back.
    fn push(&mut self, key: u128) {
        let time = key_time(key);
        if time < self.start {
            self.rebase(time);
        }
        let place = if time - self.start < HORIZON {
            let b = Self::bucket_of(time);
            self.buckets[b].push(Reverse(key));
            self.occupied[b / 64] |= 1 << (b % 64);
            self.in_buckets += 1;
            Some(b)
        } else {
            self.overflow.push(Reverse(key));
            None
        };
        if let Some((least, _)) = self.least {
            if key < least {
                self.least = Some((key, place));
            }
        }
    }

    /// Moves the start back to `time`'s bucket, and keys now beyond the horizon to the
    /// overflow. The engine never schedules before the clock, so this only keeps the queue
    /// correct for any caller.
    #[cold]
    fn rebase(&mut self, time: u64) {
        self.least = None;
        self.start = time >> BUCKET_BITS << BUCKET_BITS;
        let keys: Vec<u128> = self.buckets.iter_mut().flat_map(|b| b.drain()).map(|r| r.0).collect();
        self.occupied.fill(0);
        self.in_buckets = 0;
        for key in keys {
            self.push(key);
        }
    }

    /// The first occupied bucket at or after the start's, going round the year once.
    fn first_occupied(&self) -> Option<usize> {
        let from = Self::bucket_of(self.start);
        let (w0, bit) = (from / 64, from % 64);
        let head = self.occupied[w0] & (u64::MAX << bit);
        if head != 0 {
            return Some(w0 * 64 + head.trailing_zeros() as usize);
        }
        let words = self.occupied.len();
        let mut w = w0;
        for _ in 0..words {
            w = if w + 1 == words { 0 } else { w + 1 };
            // Coming back round to the first word, the bits before the start are what remains.
            let word = self.occupied[w];
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
        }
        None
    }

    /// The least key and its bucket (`None` for the overflow), as remembered or found.
    #[inline]
    fn least(&mut self) -> Option<(u128, Option<usize>)> {
        if self.least.is_some() {
            return self.least;
        }
        self.find_least()
    }

    /// Searches for the least key, first moving overflow keys that have come within range
    /// into the calendar, and remembers it.
    #[inline(never)]
    fn find_least(&mut self) -> Option<(u128, Option<usize>)> {
        while let Some(&Reverse(key)) = self.overflow.peek() {
            if key_time(key) - self.start >= HORIZON {
                break;
            }
            self.overflow.pop();
            self.push(key);
        }
        self.least = match self.first_occupied() {
            Some(b) => self.buckets[b].peek().map(|r| (r.0, Some(b))),
            None => self.overflow.peek().map(|r| (r.0, None)),
        };
        self.least
    }

    #[cfg(test)]
    fn peek(&mut self) -> Option<u128> {
        self.least().map(|(k, _)| k)
    }

    #[cfg(test)]
    fn pop(&mut self) -> Option<u128> {
        self.pop_if(|_| true)
    }

    /// Takes the least key if `due` accepts it.
    fn pop_if(&mut self, due: impl FnOnce(u128) -> bool) -> Option<u128> {
        let (least, bucket) = self.least()?;
        if !due(least) {
            return None;
        }
        self.least = None;
        match bucket {
            Some(b) => {
                self.buckets[b].pop();
                self.in_buckets -= 1;
                if self.buckets[b].is_empty() {
                    self.occupied[b / 64] &= !(1 << (b % 64));
                    if self.buckets[b].capacity() > KEPT_BUCKET_CAPACITY {
                        // Every bucket fills in turn as the year goes round: kept, a burst's
                        // capacity would be kept by all of them.
                        self.buckets[b] = BinaryHeap::new();
                    }
                }
            }
            None => {
                self.overflow.pop();
            }
        }
        self.start = key_time(least) >> BUCKET_BITS << BUCKET_BITS;
        Some(least)
    }
}

/// The event queue and the clock.
///
/// The queue holds 16-byte keys, `time << 64 | seq << 24 | slot`, ordered exactly as
/// `(time, seq)`, in a calendar of small heaps; payloads wait in a slab. Moving small keys
/// instead of whole events keeps the queue in cache, which is what hundreds of thousands of
/// pending events need.
pub struct Engine<E> {
    now: SimTime,
    next_seq: u64,
    queue: CalendarQueue,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    popped: u64,
    /// Events popped in a row at the current instant.
    at_this_instant: u64,
    /// Why the run can go no further, once it cannot (the loop that drives the engine stops).
    limit: Option<Limit>,
    /// The bounds: [`MAX_SLOTS`] and [`STALL_EVENTS`] (smaller in tests).
    max_pending: usize,
    stall_events: u64,
}

/// A bound the run hit, which ends it: a scenario that asks for more than the engine can hold.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Limit {
    /// More events pending at once than a slot index can name.
    Pending,
    /// More events scheduled than a sequence number can count.
    Scheduled,
    /// This many events in a row without the clock moving: zero delays feeding each other.
    Stalled,
}

/// Events in a row at one instant beyond which time is taken to have stopped.
pub const STALL_EVENTS: u64 = 10_000_000;

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Pending => write!(f, "more than {MAX_SLOTS} events pending at once (the load outruns the cluster)"),
            Limit::Scheduled => write!(f, "more than {MAX_SEQ} events scheduled"),
            Limit::Stalled => write!(
                f,
                "{STALL_EVENTS} events in a row without simulated time moving (zero latencies and think times feeding each \
                 other)"
            ),
        }
    }
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    pub fn new() -> Self {
        Engine {
            now: SimTime::ZERO,
            next_seq: 0,
            queue: CalendarQueue::default(),
            slots: Vec::new(),
            free: Vec::new(),
            popped: 0,
            at_this_instant: 0,
            limit: None,
            max_pending: MAX_SLOTS,
            stall_events: STALL_EVENTS,
        }
    }

    /// Lowers the bounds (tests reach them without billions of events).
    #[cfg(test)]
    fn with_bounds(max_pending: usize, stall_events: u64) -> Self {
        Engine { max_pending, stall_events, ..Self::new() }
    }

    /// The bound this run hit, if any: the driver must stop popping events.
    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`; a time in the past is clamped to now, so causality holds.
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        let ticket = self.ticket_at(time);
        self.schedule_ticket(ticket, event);
    }

    /// Takes the place in the queue's order that an event scheduled now for `delay` later would
    /// have, without scheduling anything yet: [`Engine::schedule_ticket`] may use it later, and
    /// the event then pops exactly where it would have popped had it been scheduled now.
    pub fn ticket_after(&mut self, delay: SimDuration) -> Ticket {
        self.ticket_at(self.now.after(delay))
    }

    fn ticket_at(&mut self, time: SimTime) -> Ticket {
        let time = time.max(self.now);
        let seq = self.next_seq;
        if seq + 1 < MAX_SEQ {
            self.next_seq += 1;
        } else {
            self.limit = Some(Limit::Scheduled);
        }
        Ticket { time, seq }
    }

    /// Schedules `event` in the place `ticket` reserved (which must not have passed).
    pub fn schedule_ticket(&mut self, ticket: Ticket, event: E) {
        let Ticket { time, seq } = ticket;
        debug_assert!(time >= self.now, "a ticket is used before its time");
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(event);
                s
            }
            None if self.slots.len() >= self.max_pending => {
                // The event is dropped: the run ends at the next pop.
                self.limit = Some(Limit::Pending);
                return;
            }
            None => {
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        let key = ((time.0 as u128) << 64) | ((seq as u128) << SLOT_BITS) | slot as u128;
        self.queue.push(key);
    }

    pub fn schedule_after(&mut self, delay: SimDuration, event: E) {
        self.schedule_at(self.now.after(delay), event);
    }

    /// Pops the next event if it is due at or before `limit`, advancing the clock to it.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<E> {
        let key = self.queue.pop_if(|key| key_time(key) <= limit.0)?;
        let time = SimTime(key_time(key));
        debug_assert!(time >= self.now, "the clock never goes backwards");
        self.take_at(time, key)
    }

    /// Pops the event a schedule picks among those due by `limit`: the earliest, or one due
    /// within `window` after it that `reorderable` accepts (a message that arrives early), which
    /// then happens at the earliest's time; the others keep their places. `choose` gets the
    /// candidates, the earliest first, and returns an index among them.
    pub fn pop_chosen(
        &mut self,
        limit: SimTime,
        window: SimDuration,
        reorderable: impl Fn(&E) -> bool,
        choose: impl FnOnce(&[&E]) -> usize,
    ) -> Option<E> {
        let (t0, keys) = self.take_window(limit, window)?;
        let candidates: Vec<usize> =
            (0..keys.len()).filter(|&i| i == 0 || self.slots[slot_of(keys[i])].as_ref().is_some_and(&reorderable)).collect();
        let pick = if candidates.len() > 1 {
            let events: Vec<&E> = candidates.iter().filter_map(|&i| self.slots[slot_of(keys[i])].as_ref()).collect();
            candidates[choose(&events).min(candidates.len() - 1)]
        } else {
            0
        };
        let key = keys[pick];
        for (i, &other) in keys.iter().enumerate() {
            if i != pick {
                self.queue.push(other);
            }
        }
        self.take_at(SimTime(t0), key)
    }

    /// How many events [`Engine::pop_chosen`] would offer now (the earliest, and those within
    /// `window` after it that `reorderable` accepts), leaving the queue as it is.
    pub fn candidates(&mut self, limit: SimTime, window: SimDuration, reorderable: impl Fn(&E) -> bool) -> usize {
        let Some((_, keys)) = self.take_window(limit, window) else { return 0 };
        let count = 1 + keys[1..].iter().filter(|&&k| self.slots[slot_of(k)].as_ref().is_some_and(&reorderable)).count();
        for key in keys {
            self.queue.push(key);
        }
        count
    }

    /// Takes out of the queue the keys due by `limit` and within `window` of the earliest (the
    /// earliest first), with the earliest's time; the caller pushes back those it does not run.
    fn take_window(&mut self, limit: SimTime, window: SimDuration) -> Option<(u64, Vec<u128>)> {
        let (first, _) = self.queue.least()?;
        let t0 = key_time(first);
        if t0 > limit.0 {
            return None;
        }
        let horizon = t0.saturating_add(window.0).min(limit.0);
        let mut keys = Vec::new();
        while let Some(key) = self.queue.pop_if(|key| key_time(key) <= horizon) {
            keys.push(key);
        }
        Some((t0, keys))
    }

    /// Takes the event of `key` out of its slot, the clock moving to `time` (never earlier than
    /// now: no key is due before the clock).
    #[inline]
    fn take_at(&mut self, time: SimTime, key: u128) -> Option<E> {
        if time == self.now {
            self.at_this_instant += 1;
            if self.at_this_instant > self.stall_events {
                self.limit = Some(Limit::Stalled);
            }
        } else {
            self.at_this_instant = 0;
        }
        self.now = time;
        self.popped += 1;
        let slot = slot_of(key);
        self.free.push(slot as u32);
        self.slots[slot].take()
    }

    /// Work done at this instant without an event of its own (a client with no think time
    /// starting its next operation), counted toward the stall guard as an event would be.
    pub fn note_inline(&mut self) {
        self.at_this_instant += 1;
        if self.at_this_instant > self.stall_events {
            self.limit = Some(Limit::Stalled);
        }
    }

    /// The next event, left in the queue (to prefetch what it will touch).
    pub fn peek(&mut self) -> Option<&E> {
        let (key, _) = self.queue.least()?;
        self.slots[slot_of(key)].as_ref()
    }

    /// When the next event is due, if any.
    pub fn next_time(&mut self) -> Option<SimTime> {
        self.queue.least().map(|(key, _)| SimTime(key_time(key)))
    }

    /// Moves the clock forward to `time` with no event (the end of a run phase).
    pub fn advance_to(&mut self, time: SimTime) {
        if time > self.now {
            self.now = time;
        }
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Every pending event, in no meaningful order (for a census of what they hold; nothing
    /// that reaches output may depend on this order).
    pub fn pending_events(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().flatten()
    }

    /// Every pending event with its time, in no meaningful order (for a digest of the state;
    /// nothing that reaches output may depend on this order).
    pub fn pending_timed(&self) -> impl Iterator<Item = (SimTime, &E)> {
        let keys = self.queue.buckets.iter().flat_map(|b| b.iter()).chain(self.queue.overflow.iter());
        keys.filter_map(|&Reverse(key)| self.slots[slot_of(key)].as_ref().map(|e| (SimTime(key_time(key)), e)))
    }

    /// Events popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }
}

/// Timeouts kept beside the event queue, one event at a time.
///
/// Most timeouts are moot by the time they fall due (the request was answered), yet each would
/// cost a queue entry for its whole length and a pop at its end. A `TimeoutQueue` keeps
/// timeouts in order with their [`Ticket`]s and has only the earliest one in the event queue;
/// when that one falls due, the moot ones at the front are dropped, so they never become
/// events. The fewer wake-ups the more timeouts share a queue: timeouts of one length, however
/// many owners set them, arrive in order and belong in one. A timeout that does fire pops
/// exactly where it would have popped as an ordinary event, so the run is the same.
pub struct TimeoutQueue<T> {
    entries: std::collections::VecDeque<(Ticket, T)>,
    /// The ticket of the entry now in the event queue, if any.
    armed: Option<Ticket>,
}

impl<T> Default for TimeoutQueue<T> {
    fn default() -> Self {
        TimeoutQueue { entries: std::collections::VecDeque::new(), armed: None }
    }
}

impl<T: Copy> TimeoutQueue<T> {
    /// Adds a timeout; returns the ticket to schedule a wake-up at if it is now the earliest.
    #[must_use]
    pub fn push(&mut self, ticket: Ticket, timeout: T) -> Option<Ticket> {
        // Timeouts of one length arrive in order; anything else is placed by search.
        let at = self.entries.iter().rposition(|(t, _)| *t < ticket).map_or(0, |i| i + 1);
        self.entries.insert(at, (ticket, timeout));
        self.arm()
    }

    /// The wake-up with `ticket` popped: returns the timeout due now, or `None` if the wake-up was
    /// superseded by an earlier one.
    pub fn take_due(&mut self, ticket: Ticket) -> Option<T> {
        if self.armed != Some(ticket) {
            return None;
        }
        self.armed = None;
        match self.entries.front() {
            Some((t, _)) if *t == ticket => self.entries.pop_front().map(|(_, timeout)| timeout),
            _ => None,
        }
    }

    /// Drops moot timeouts from the front; returns the ticket to schedule the next wake-up at.
    #[must_use]
    pub fn settle(&mut self, mut moot: impl FnMut(&T) -> bool) -> Option<Ticket> {
        while let Some((ticket, _)) = self.entries.front().filter(|(_, t)| moot(t)) {
            if self.armed == Some(*ticket) {
                // Its wake-up, already in the event queue, will find itself superseded.
                self.armed = None;
            }
            self.entries.pop_front();
        }
        self.arm()
    }

    fn arm(&mut self) -> Option<Ticket> {
        let head = self.entries.front()?.0;
        if self.armed.is_some_and(|a| a <= head) {
            return None;
        }
        self.armed = Some(head);
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_event_goes_first_at_the_earliest_time_and_the_rest_keep_their_order() {
        let mut e: Engine<&str> = Engine::new();
        e.schedule_at(SimTime(10), "a");
        e.schedule_at(SimTime(10), "b");
        e.schedule_at(SimTime(12), "c");
        e.schedule_at(SimTime(20), "d");
        let reorderable = |x: &&str| *x != "b";
        let mut offered = Vec::new();
        let first = e.pop_chosen(SimTime(100), SimDuration(5), reorderable, |c| {
            offered = c.iter().map(|x| x.to_string()).collect();
            1
        });
        // "b" is due as early but may not be moved; "d" is past the window.
        assert_eq!(offered, ["a", "c"]);
        assert_eq!((first, e.now()), (Some("c"), SimTime(10)));
        let rest: Vec<(&str, SimTime)> = std::iter::from_fn(|| e.pop_until(SimTime(100)).map(|x| (x, e.now()))).collect();
        assert_eq!(rest, [("a", SimTime(10)), ("b", SimTime(10)), ("d", SimTime(20))]);
        // Choosing the default is the plain order.
        e.schedule_at(SimTime(30), "e");
        e.schedule_at(SimTime(30), "f");
        assert_eq!(e.pop_chosen(SimTime(100), SimDuration::ZERO, |_| true, |_| 0), Some("e"));
        assert_eq!(e.pop_chosen(SimTime(25), SimDuration::ZERO, |_| true, |_| 0), None, "nothing due by the limit");
    }

    #[test]
    fn a_run_that_outgrows_the_queue_or_stops_time_is_stopped_not_aborted() {
        let mut full = Engine::with_bounds(4, u64::MAX);
        for i in 0..5u32 {
            full.schedule_after(SimDuration(10), i);
        }
        assert_eq!(full.limit(), Some(Limit::Pending), "the fifth pending event is over the bound");
        assert_eq!(full.pending(), 4);
        let mut stuck = Engine::with_bounds(MAX_SLOTS, 100);
        stuck.schedule_after(SimDuration::ZERO, 0u32);
        let mut popped = 0;
        while let Some(e) = stuck.pop_until(SimTime(1000)) {
            popped += 1;
            if stuck.limit().is_some() {
                break;
            }
            stuck.schedule_after(SimDuration::ZERO, e);
        }
        assert_eq!((stuck.limit(), popped), (Some(Limit::Stalled), 101), "zero delays feeding each other");
        // Work done inline at one instant counts toward the same guard.
        let mut inline = Engine::<u32>::with_bounds(MAX_SLOTS, 100);
        let mut done = 0;
        while inline.limit().is_none() {
            inline.note_inline();
            done += 1;
        }
        assert_eq!((inline.limit(), done), (Some(Limit::Stalled), 101), "inline work that never lets time move");
        let mut moving = Engine::with_bounds(MAX_SLOTS, 100);
        moving.schedule_after(SimDuration(1), 0u32);
        for _ in 0..1000 {
            let e = moving.pop_until(SimTime(u64::MAX)).expect("an event");
            moving.schedule_after(SimDuration(1), e);
        }
        assert_eq!(moving.limit(), None, "time that moves is never a stall");
    }

    /// Random pushes and pops, with delays from nothing to several calendar years and keys due
    /// at the very time of the last pop but ordered before it (as a reserved ticket can be):
    /// the calendar always yields the least key, as a sorted model does, through overflow,
    /// wrap-around, emptying and regrowth.
    #[test]
    fn calendar_queue_pops_keys_in_order() {
        let mut rng = crate::sim::rng::Seeds::new(3).stream(crate::sim::rng::Stream::Workload, 0);
        let mut queue = CalendarQueue::default();
        let mut model = std::collections::BTreeSet::new();
        let mut now = 0u64;
        for round in 0..100_000u64 {
            let pushes = if (round / 5_000) % 2 == 0 { 3 } else { 1 };
            if crate::sim::rng::index(&mut rng, 4) < pushes {
                let scale = [1u64 << 10, 1 << 18, 1 << 24, HORIZON, 3 * HORIZON][crate::sim::rng::index(&mut rng, 5)];
                let mut time = now + crate::sim::rng::index(&mut rng, scale as usize) as u64;
                let mut seq = round + 1_000_000;
                match crate::sim::rng::index(&mut rng, 200) {
                    0..10 => (time, seq) = (now, crate::sim::rng::index(&mut rng, 1_000_000) as u64),
                    // Before the clock: the engine never does this, the queue copes anyway.
                    10 => time = now.saturating_sub(crate::sim::rng::index(&mut rng, 1 << 20) as u64),
                    _ => {}
                }
                let key = ((time as u128) << 64) | ((seq as u128) << SLOT_BITS);
                if model.insert(key) {
                    queue.push(key);
                }
                // A peek between pushes: the pushes after it must keep the remembered least.
                if crate::sim::rng::index(&mut rng, 3) == 0 {
                    assert_eq!(queue.peek(), model.first().copied());
                }
            } else {
                assert_eq!(queue.peek(), model.first().copied());
                let got = queue.pop();
                assert_eq!(got, model.pop_first());
                now = got.map_or(now, key_time).max(now);
            }
            assert_eq!(queue.len(), model.len());
        }
        while let Some(k) = model.pop_first() {
            assert_eq!(queue.pop(), Some(k));
        }
        assert_eq!(queue.pop(), None);
        // A burst into one bucket leaves no large storage behind once drained.
        let base = (now as u128 + 1) << 64;
        for i in 0..10_000u128 {
            queue.push(base | i << SLOT_BITS);
        }
        while queue.pop().is_some() {}
        assert!(queue.buckets.iter().all(|b| b.capacity() <= KEPT_BUCKET_CAPACITY));
    }

    #[test]
    fn millis_to_nanos_rounds_exactly_as_f64_round() {
        let reference = |ms: f64| {
            let ns = (ms * 1e6).round();
            if ns.is_nan() || ns <= 0.0 {
                0
            } else if ns >= u64::MAX as f64 {
                u64::MAX
            } else {
                ns as u64
            }
        };
        let mut rng = crate::sim::rng::Seeds::new(5).stream(crate::sim::rng::Stream::Network, 0);
        let edges = [
            0.0,
            -0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.5e-6,
            0.4999999999999999e-6,
            1.5e-6,
            2.5e-6,
            4_503_599_627.370_496,
            4_503_599_627.370_497,
            9_007_199_254.740_993,
            1.8e13,
            1.9e13,
            1e300,
            86_400_000.0,
        ];
        let draws = (0..200_000).map(|i| {
            let u = crate::sim::rng::unit(&mut rng);
            match i % 4 {
                0 => u * 10.0,
                1 => -u.ln() * 1.3 + 0.2,
                2 => (u * 20_000_000.0).floor() / 1e6 + 0.5e-6, // exact halves
                _ => u * 1e10,
            }
        });
        for ms in edges.into_iter().chain(draws) {
            assert_eq!(millis_to_nanos(ms), reference(ms), "{ms}");
        }
    }

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut e = Engine::new();
        e.schedule_at(SimTime(30), "c");
        e.schedule_at(SimTime(10), "a1");
        e.schedule_at(SimTime(10), "a2");
        e.schedule_at(SimTime(20), "b");
        let mut out = vec![];
        while let Some(ev) = e.pop_until(SimTime(100)) {
            out.push((e.now().0, ev));
        }
        assert_eq!(out, vec![(10, "a1"), (10, "a2"), (20, "b"), (30, "c")]);
        assert_eq!(e.events_processed(), 4);
    }

    #[test]
    fn pop_until_respects_the_limit_and_past_events_clamp_to_now() {
        let mut e = Engine::new();
        e.schedule_at(SimTime(50), 1);
        assert_eq!(e.pop_until(SimTime(49)), None);
        assert_eq!(e.now(), SimTime(0));
        assert_eq!(e.pop_until(SimTime(50)), Some(1));
        e.schedule_at(SimTime(10), 2);
        assert_eq!(e.pop_until(SimTime(50)), Some(2));
        assert_eq!(e.now(), SimTime(50));
    }

    #[test]
    fn millis_conversion_saturates() {
        assert_eq!(millis_to_nanos(1.5), 1_500_000);
        assert_eq!(millis_to_nanos(-3.0), 0);
        assert_eq!(millis_to_nanos(f64::NAN), 0);
        assert_eq!(millis_to_nanos(1e300), u64::MAX);
    }

    /// Runs a random mix of ordinary events and timeouts (some made moot before they fall due)
    /// through plain scheduling and through a [`TimeoutQueue`]: the live timeouts and the other
    /// events must fire in the same order at the same times, with fewer events popped.
    #[test]
    fn timeout_queue_fires_live_timeouts_exactly_where_plain_events_would() {
        use crate::sim::rng::{chance, index, Seeds, Stream};
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Ev {
            Work(u32),
            Timeout(u32),
            Wake(Ticket),
        }
        let run = |queued: bool| {
            let mut rng = Seeds::new(3).stream(Stream::Workload, 0);
            let mut e: Engine<Ev> = Engine::new();
            let mut q: TimeoutQueue<u32> = TimeoutQueue::default();
            let mut moot = vec![false; 0];
            let mut fired = Vec::new();
            for i in 0..20 {
                e.schedule_at(SimTime(index(&mut rng, 50) as u64), Ev::Work(i));
            }
            while let Some(ev) = e.pop_until(SimTime(1_000_000)) {
                let timeout = match ev {
                    Ev::Work(i) => {
                        fired.push((e.now(), ev));
                        if i < 3000 {
                            // New work, often at the very time a timeout falls due.
                            let gap = [0, 10, 100][index(&mut rng, 3)];
                            e.schedule_after(SimDuration(gap + index(&mut rng, 3) as u64), Ev::Work(i + 20));
                            let id = moot.len() as u32;
                            moot.push(false);
                            if queued {
                                let ticket = e.ticket_after(SimDuration(100));
                                if let Some(w) = q.push(ticket, id) {
                                    e.schedule_ticket(w, Ev::Wake(w));
                                }
                            } else {
                                e.schedule_after(SimDuration(100), Ev::Timeout(id));
                            }
                            if chance(&mut rng, 0.9) {
                                // Most work answers a recent request.
                                let victim = moot.len() - 1 - index(&mut rng, moot.len().min(8));
                                moot[victim] = true;
                            }
                        }
                        None
                    }
                    Ev::Timeout(id) => Some(id),
                    Ev::Wake(w) => q.take_due(w),
                };
                if let Some(id) = timeout.filter(|id| !moot[*id as usize]) {
                    fired.push((e.now(), Ev::Timeout(id)));
                }
                if queued {
                    if let Some(w) = q.settle(|id| moot[*id as usize]) {
                        e.schedule_ticket(w, Ev::Wake(w));
                    }
                }
            }
            (fired, e.events_processed())
        };
        let (plain, plain_events) = run(false);
        let (queued, queued_events) = run(true);
        let timeouts = plain.iter().filter(|(_, ev)| matches!(ev, Ev::Timeout(_))).count();
        assert!(timeouts > 100 && plain.len() > 3000, "{timeouts} live timeouts of {}", plain.len());
        assert_eq!(plain, queued);
        assert!(queued_events < plain_events * 3 / 4, "{queued_events} events vs {plain_events}");
    }
}
