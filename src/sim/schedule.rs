//! Schedule choices: the decisions a run makes that the network and the fault menu leave open,
//! made by a [`Chooser`] and recorded, so that a list of choices replays a run exactly.
//!
//! Three kinds of choice point, each offered only while its budget lasts:
//! - **order**: which of the events due within a window of the earliest goes first (the earliest
//!   itself, or a message delivery due within the window, delivered early);
//! - **drop**: whether a message crossing the network is lost;
//! - **duplicate**: whether a message crossing the network arrives twice;
//! - **fault**: whether, at an event boundary, a fault from the scenario's nemesis menu strikes.
//!
//! Option 0 is always what the plain seeded run does, so an empty list is the seeded run and a
//! list ends where only defaults follow. A list is written `o0x41,o2,d1,u1,f3`: a kind letter and
//! the option, `xN` repeating it N times.

use crate::sim::engine::SimDuration;
use crate::sim::rng::index;
use crate::sim::rng::SimRng;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChoiceKind {
    Order,
    Drop,
    Duplicate,
    Fault,
}

impl ChoiceKind {
    fn letter(self) -> char {
        match self {
            ChoiceKind::Order => 'o',
            ChoiceKind::Drop => 'd',
            ChoiceKind::Duplicate => 'u',
            ChoiceKind::Fault => 'f',
        }
    }

    fn from_letter(c: char) -> Option<ChoiceKind> {
        match c {
            'o' => Some(ChoiceKind::Order),
            'd' => Some(ChoiceKind::Drop),
            'u' => Some(ChoiceKind::Duplicate),
            'f' => Some(ChoiceKind::Fault),
            _ => None,
        }
    }
}

/// One choice a run made: of what kind, among how many options, which, and (when the search
/// asked for it) a digest of the world's state just before it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub kind: ChoiceKind,
    pub options: u32,
    pub chosen: u32,
    pub state: Option<u64>,
}

/// How much a schedule may depart from the seeded run: the bounds of a search, and what a
/// replayed list was recorded under (a list replays exactly only under the same bounds).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Messages due within this long after the earliest event may be delivered before it.
    pub window: SimDuration,
    /// Non-default order choices (reorderings) in one schedule.
    pub reorders: u32,
    /// Messages a schedule may drop.
    pub drops: u32,
    /// Messages a schedule may deliver twice.
    pub duplicates: u32,
    /// Faults from the nemesis menu a schedule may inject.
    pub faults: u32,
    /// Choice points offered in one run; later ones take the default.
    pub depth: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { window: SimDuration::ZERO, reorders: 2, drops: 0, duplicates: 0, faults: 0, depth: 1000 }
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "window {} ms, {} reorderings, {} drops, {} duplicates, {} faults, depth {}",
            self.window.as_millis_f64(),
            self.reorders,
            self.drops,
            self.duplicates,
            self.faults,
            self.depth
        )
    }
}

/// A list of choices, as `dynasim` prints and reads it.
pub fn format_choices(choices: &[u32], kinds: &[ChoiceKind]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < choices.len() {
        let (kind, value) = (kinds[i], choices[i]);
        let run = choices[i..].iter().zip(&kinds[i..]).take_while(|&(&v, &k)| v == value && k == kind).count();
        let token = format!("{}{value}", kind.letter());
        out.push(if run > 1 { format!("{token}x{run}") } else { token });
        i += run;
    }
    out.join(",")
}

/// Parses [`format_choices`]' text; the error says which token is wrong and what is accepted.
pub fn parse_choices(text: &str) -> Result<Vec<(ChoiceKind, u32)>, String> {
    let mut out = Vec::new();
    for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let bad = || {
            format!("{token:?} is not a choice; expected a kind letter (o, d, u or f), an option number and an optional xN repeat, as in o0x41,o2,d1,u1,f3")
        };
        let mut chars = token.chars();
        let kind = chars.next().and_then(ChoiceKind::from_letter).ok_or_else(bad)?;
        let rest = chars.as_str();
        let (value, repeat) = match rest.split_once('x') {
            Some((v, n)) => (v, n.parse::<u32>().map_err(|_| bad())?),
            None => (rest, 1),
        };
        let value = value.parse::<u32>().map_err(|_| bad())?;
        if repeat == 0 || repeat > 10_000_000 {
            return Err(bad());
        }
        out.extend(std::iter::repeat_n((kind, value), repeat as usize));
    }
    Ok(out)
}

/// PCT (Burckhardt et al., ASPLOS 2010): every actor (node or client) gets a random distinct
/// priority; the highest-priority actor with an event ready goes first; at d - 1 random steps
/// the actor that just ran drops below every initial priority. A bug that needs d ordering
/// constraints is found by one run with probability at least 1 / (n k^(d-1)), for n actors
/// and k steps.
#[derive(Clone, Debug)]
pub struct Pct {
    priorities: Vec<u64>,
    change_points: Vec<u64>,
    step: u64,
}

impl Pct {
    /// Priorities for `actors` actors and `depth - 1` change points among the first `steps`
    /// order choices, drawn from `rng`.
    pub fn new(actors: usize, depth: u32, steps: u64, rng: &mut SimRng) -> Pct {
        // Initial priorities are depth and above (distinct); change points lower an actor to
        // depth - 1 - i, below all of them.
        let mut priorities: Vec<u64> = (0..actors as u64).map(|i| depth as u64 + i).collect();
        for i in (1..priorities.len()).rev() {
            priorities.swap(i, index(rng, i + 1));
        }
        let change_points = (1..depth).map(|_| 1 + index(rng, steps.max(1) as usize) as u64).collect();
        Pct { priorities, change_points, step: 0 }
    }

    /// The option (an index into `actors`, the actor of each candidate) PCT runs next.
    fn pick(&mut self, actors: &[usize]) -> u32 {
        self.step += 1;
        let best = (0..actors.len()).max_by_key(|&i| (self.priority(actors[i]), std::cmp::Reverse(i))).unwrap_or(0);
        if let Some(i) = self.change_points.iter().position(|&s| s == self.step) {
            let a = actors[best];
            if a < self.priorities.len() {
                self.priorities[a] = (self.change_points.len() - 1 - i) as u64;
            }
        }
        best as u32
    }

    fn priority(&self, actor: usize) -> u64 {
        self.priorities.get(actor).copied().unwrap_or(0)
    }

    /// The probability bound of one run finding a bug of this depth, for `actors` actors and
    /// `steps` order choices: 1 / (n k^(d-1)).
    pub fn bound(actors: usize, depth: u32, steps: u64) -> f64 {
        1.0 / (actors.max(1) as f64 * (steps.max(1) as f64).powi(depth.saturating_sub(1) as i32))
    }
}

/// Makes a run's choices: from a list (then the defaults), or by PCT for the order choices;
/// records every choice it offered, and spends the budgets.
#[derive(Clone, Debug)]
pub struct Chooser {
    pub bounds: Bounds,
    forced: Vec<(ChoiceKind, u32)>,
    pct: Option<Pct>,
    /// Record a digest of the state at each choice point (for a search that prunes by state).
    pub hash_states: bool,
    pub made: Vec<Choice>,
    reorders: u32,
    drops: u32,
    duplicates: u32,
    faults: u32,
    /// The first forced choice that did not fit (another kind, or an option out of range).
    pub mismatch: Option<String>,
}

impl Chooser {
    pub fn replaying(bounds: Bounds, forced: Vec<(ChoiceKind, u32)>) -> Chooser {
        Chooser {
            bounds,
            forced,
            pct: None,
            hash_states: false,
            made: Vec::new(),
            reorders: 0,
            drops: 0,
            duplicates: 0,
            faults: 0,
            mismatch: None,
        }
    }

    pub fn pct(bounds: Bounds, pct: Pct) -> Chooser {
        Chooser { pct: Some(pct), ..Chooser::replaying(bounds, Vec::new()) }
    }

    /// Whether a choice of this kind can be offered now (its budget and the depth allow it).
    pub fn offers(&self, kind: ChoiceKind) -> bool {
        let left = match kind {
            ChoiceKind::Order => true,
            ChoiceKind::Drop => self.drops < self.bounds.drops,
            ChoiceKind::Duplicate => self.duplicates < self.bounds.duplicates,
            ChoiceKind::Fault => self.faults < self.bounds.faults,
        };
        left && (self.made.len() as u32) < self.bounds.depth
    }

    /// Makes a choice among `options` (option 0 the default); `actors` names each option's actor
    /// for PCT (order choices only), `state` the digest to record.
    pub fn choose(&mut self, kind: ChoiceKind, options: u32, actors: &[usize], state: Option<u64>) -> u32 {
        if options <= 1 || !self.offers(kind) {
            return 0;
        }
        // Reorderings past the bound: only the default remains, and the point is not offered.
        if kind == ChoiceKind::Order && self.reorders >= self.bounds.reorders && self.pct.is_none() {
            return 0;
        }
        let i = self.made.len();
        let chosen = match self.forced.get(i) {
            Some(&(k, v)) if k == kind && v < options => v,
            Some(&(k, v)) => {
                if self.mismatch.is_none() {
                    self.mismatch = Some(format!(
                        "choice {} is {}{v}, but the run offers a {} choice among {options} there",
                        i + 1,
                        k.letter(),
                        kind.letter()
                    ));
                }
                0
            }
            None => match (&mut self.pct, kind) {
                (Some(pct), ChoiceKind::Order) => pct.pick(actors),
                _ => 0,
            },
        };
        if chosen != 0 {
            match kind {
                ChoiceKind::Order => self.reorders += 1,
                ChoiceKind::Drop => self.drops += 1,
                ChoiceKind::Duplicate => self.duplicates += 1,
                ChoiceKind::Fault => self.faults += 1,
            }
        }
        self.made.push(Choice { kind, options, chosen, state });
        chosen
    }

    /// Why the forced list does not fit the run: a choice of another kind or out of range, or
    /// non-default choices left over where the run offered no more choice points.
    pub fn misfit(&self) -> Option<String> {
        if let Some(m) = &self.mismatch {
            return Some(m.clone());
        }
        let left = self.forced.iter().skip(self.made.len()).filter(|&&(_, v)| v != 0).count();
        (left > 0)
            .then(|| format!("the run offered {} choice points, and {left} choices after them were not taken", self.made.len()))
    }

    /// The non-default choices made so far, by kind: reorderings, drops, duplicates and faults.
    pub fn budgets_used(&self) -> (u32, u32, u32, u32) {
        (self.reorders, self.drops, self.duplicates, self.faults)
    }

    /// The list that replays this run, trailing defaults left out.
    pub fn list(&self) -> String {
        let last = self.made.iter().rposition(|c| c.chosen != 0).map_or(0, |i| i + 1);
        let made = &self.made[..last];
        format_choices(&made.iter().map(|c| c.chosen).collect::<Vec<_>>(), &made.iter().map(|c| c.kind).collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Seeds, Stream};

    #[test]
    fn a_list_prints_and_parses_back() {
        let kinds = [ChoiceKind::Order, ChoiceKind::Order, ChoiceKind::Order, ChoiceKind::Drop, ChoiceKind::Fault];
        let text = format_choices(&[0, 0, 2, 1, 3], &kinds);
        assert_eq!(text, "o0x2,o2,d1,f3");
        let parsed = parse_choices(&text).expect("parses");
        assert_eq!(parsed.iter().map(|c| c.1).collect::<Vec<_>>(), [0, 0, 2, 1, 3]);
        assert_eq!(parsed.iter().map(|c| c.0).collect::<Vec<_>>(), kinds);
        assert!(parse_choices("o0,q1").unwrap_err().contains("\"q1\""));
        assert!(parse_choices("o0x").is_err() && parse_choices("o").is_err());
    }

    #[test]
    fn a_replayed_list_is_followed_then_defaults_and_budgets_hold() {
        let bounds = Bounds { drops: 1, faults: 0, reorders: 1, ..Bounds::default() };
        let mut c = Chooser::replaying(bounds, parse_choices("o1,d1,d1,o1").expect("parses"));
        assert_eq!(c.choose(ChoiceKind::Order, 3, &[], None), 1);
        assert_eq!(c.choose(ChoiceKind::Drop, 2, &[], None), 1);
        // The drop budget is spent: no further drop point is offered, so the list no longer fits.
        assert!(!c.offers(ChoiceKind::Drop));
        assert_eq!(c.choose(ChoiceKind::Drop, 2, &[], None), 0);
        assert_eq!(c.choose(ChoiceKind::Fault, 4, &[], None), 0, "no fault budget");
        assert_eq!(c.list(), "o1,d1");
        let mut c = Chooser::replaying(bounds, parse_choices("d1").expect("parses"));
        assert_eq!(c.choose(ChoiceKind::Order, 2, &[], None), 0);
        assert!(c.mismatch.as_deref().is_some_and(|m| m.contains("choice 1 is d1")), "{:?}", c.mismatch);
    }

    #[test]
    fn pct_runs_the_highest_priority_actor_and_demotes_it_at_a_change_point() {
        let mut rng = Seeds::new(3).stream(Stream::Schedule, 0);
        let mut pct = Pct::new(3, 2, 1, &mut rng);
        // With one step, the change point is step 1: the actor that ran first drops to the bottom.
        let first = pct.pick(&[0, 1, 2]) as usize;
        let second = pct.pick(&[0, 1, 2]) as usize;
        assert_ne!(first, second, "the demoted actor no longer goes first");
        assert!((Pct::bound(3, 2, 10) - 1.0 / 30.0).abs() < 1e-12);
    }
}
