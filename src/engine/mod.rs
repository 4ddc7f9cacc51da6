//! One replication: the event loop, the simulation state and its evaluation
//! environments. The engine does no I/O and never looks a name up in a map.
//!
//! A replication is a pure function of (scenario, parameter values, replication
//! key): [`Engine::run`] draws every random number from streams derived from
//! the key, one stream per source of randomness (see [`crate::rng`]).
//!
//! # Order of events
//!
//! Pending events are ordered by (time, priority, scheduling order); see
//! [`queue`]. A hazard candidate at the same time as a queued event comes after
//! it; among hazards, the one declared first comes first. When an event
//! happens, its effects are applied first (in order), then the rules it
//! triggers are evaluated in declaration order, then the hazards whose rate
//! reads something the event may have changed are re-bounded.

mod becomes;
mod columns;
pub mod grid;
mod history;
mod point;
pub mod queue;
pub mod tension;

pub use columns::{columns, terminal_labels, Column, ColumnKind, HORIZON};

use crate::expr::{self, ActorRef, AssignOp, Input, Interval, Lvalue};
use crate::rng::{stream_id, Stream};
use crate::scenario::{Alternative, OutcomeKind, Scenario};
use queue::{Action, Entry, Queue};
use std::cell::{Cell, RefCell};
use std::fmt;

const NONE16: u16 = u16::MAX;
const NONE32: u32 = u32::MAX;
/// Hazard candidates and bound renewals allowed per unit of `event_budget`:
/// thinning rejects most candidates when a bound is loose, but not without limit.
const HAZARD_WORK_PER_EVENT: u64 = 100;
/// A hazard is bounded over its tensions' whole ranges when that bound is at
/// most this many times the bound over the current window…
const RANGE_SLACK: f64 = 4.0;
/// … or expects at most this many candidates up to the horizon.
const RANGE_CANDIDATES: f64 = 4.0;
/// Rule firings that may be pending at once, besides the schedule's entries:
/// a rule that emits more events than it consumes (a branching cycle, a wide
/// delayed fan-out) grows the queue faster than the event budget can stop it,
/// so the queue has its own bound (at most about 40 MB per replication in
/// flight).
pub const MAX_PENDING: usize = 1 << 20;

/// Why a replication could not finish.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// More events than `event_budget`: most likely a zero-delay rule cycle.
    Budget {
        /// The budget.
        budget: u64,
        /// Time at which it was exceeded.
        time: f64,
        /// Rules that emitted the most recent events, in declaration order.
        rules: Vec<String>,
    },
    /// The queue of pending events outgrew its bound (the schedule's entries
    /// plus [`MAX_PENDING`]): most likely a branching rule cycle or a wide
    /// fan-out.
    Pending {
        /// The bound on pending events.
        limit: usize,
        /// Time at which it was exceeded.
        time: f64,
        /// Rules with the most pending firings, in declaration order.
        rules: Vec<String>,
    },
    /// A run-time value broke its contract.
    Invalid {
        /// Time.
        time: f64,
        /// What, naming the rule or hazard.
        message: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Budget { budget, time, rules } => write!(
                f,
                "event budget of {budget} exceeded at t = {time}; the latest events come from the rules {}: a zero-delay cycle? raise `event_budget` in [scenario] if the events are intended",
                rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" -> ")
            ),
            SimError::Pending { limit, time, rules } => write!(
                f,
                "more than {limit} events pending at t = {time}; most of them come from the rules {}: a rule cycle that branches, or a fan-out too wide? make each event trigger fewer firings (`once`, `cooldown`, a `when` guard)",
                rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            ),
            SimError::Invalid { time, message } => write!(f, "at t = {time}: {message}"),
        }
    }
}

impl std::error::Error for SimError {}

/// One event as it happened, for traces.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    /// Sequence number within the replication (0, 1, …).
    pub seq: u32,
    /// Time.
    pub time: f64,
    /// Event type index.
    pub event: u32,
    /// Source actor.
    pub source: Option<u16>,
    /// Target actor.
    pub target: Option<u16>,
    /// The rule that emitted it.
    pub rule: Option<u32>,
    /// Sequence number of the event that caused it.
    pub cause: Option<u32>,
    /// Tension of the (source, target) dyad after the event, if there is one.
    pub tension_after: Option<f64>,
}

/// Options that change how a replication runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Break same-time, same-priority ties in a seeded random order instead of
    /// scheduling order (the tie-order audit).
    pub shuffle_ties: bool,
}

#[derive(Debug, Clone, Copy)]
struct DyadState {
    value: f64,
    since: f64,
    peak: f64,
    baseline: f64,
    half_life: f64,
}

/// A hazard's candidate process: a Poisson process whose rate is the bound
/// `bound`, piecewise constant, obtained by a time change of a unit-rate
/// process. `residual` is what is left of the current unit-exponential gap
/// at time `since`: the next candidate is at `since + residual / bound`.
/// When the bound changes, the residual carries over, so a hazard consumes
/// random numbers only at its own candidates (two per candidate: the
/// acceptance uniform and the next gap), however many other events happen.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HazardState {
    /// Next time something happens to this hazard (`inf`: nothing before the horizon).
    time: f64,
    /// Whether `time` is a candidate (else it is the end of the bound's window).
    candidate: bool,
    /// Rate bound in force on `[since, window_end]`.
    bound: f64,
    /// Remaining unit-exponential mass at `since`.
    residual: f64,
    /// When `residual` was last brought up to date.
    since: f64,
    /// End of the window over which `bound` holds.
    window_end: f64,
    /// Whether `bound` holds for every value the tensions it reads can take
    /// (their declared ranges), so that tension changes leave it valid.
    over_range: bool,
}

/// Reusable buffers for running replications of one scenario.
pub struct Engine<'s> {
    s: &'s Scenario,
    n_vars: usize,
    now: f64,
    n_events: u32,
    tie_counter: u64,
    dyads: Vec<DyadState>,
    /// Per dyad: the last `(t, tension_at(d, t))` computed, so that repeated
    /// reads at the same time skip the `exp2`. Rewritten when the dyad is.
    tension_memo: Vec<Cell<(f64, f64)>>,
    above: Vec<f64>,
    state: Vec<f64>,
    counts: Vec<f64>,
    first: Vec<f64>,
    last: Vec<f64>,
    /// The history slots (filtered and windowed event reads).
    histories: Vec<history::Slot>,
    queue: Queue,
    /// The queue's bound: the schedule's entries plus [`MAX_PENDING`].
    pending_limit: usize,
    rule_last_emit: Vec<f64>,
    rule_pending: Vec<u32>,
    rule_emitted: Vec<bool>,
    /// The `when_becomes` rules, in declaration order (empty: none).
    becomes_rules: Vec<u32>,
    /// `becomes_on[event]`: the `when_becomes` rules to re-evaluate after it.
    becomes_on: Vec<Vec<u32>>,
    /// Per rule: its `when_becomes` condition's last value.
    becomes_was: Vec<bool>,
    hazards: Vec<HazardState>,
    /// `rebound_on[event]`: the hazards whose rate (or `max_rate`) reads
    /// something that event may change, in declaration order, each with
    /// whether the event may change something other than a tension the rate
    /// reads. Only these are re-bounded when it happens, and a hazard bounded
    /// over its tensions' ranges only for the latter.
    rebound_on: Vec<Vec<(u32, bool)>>,
    /// Per hazard: the dyads its rate reads (their half-lives cap its window).
    hazard_dyads: Vec<Vec<u32>>,
    /// Per hazard: whether its rate reads the time (`t`, `since`).
    hazard_reads_time: Vec<bool>,
    /// Values fixed by the parameter point.
    point: point::PointCache,
    /// Hazard candidates and window renewals so far in this replication.
    hazard_work: u64,
    rule_rng: Vec<Stream>,
    hazard_rng: Vec<Stream>,
    tie_rng: Stream,
    /// Per schedule entry whose event draws in its effects: its stream,
    /// after its jitter draws (`None` for the others).
    schedule_rng: Vec<Option<Stream>>,
    /// The stream an event's drawing effects use: the emitting source's
    /// stream, swapped in for the effects and back out after them.
    effect_rng: RefCell<Stream>,
    /// The tie-break stream of the current key, at word 0, never drawn
    /// from: what the other streams are re-keyed from.
    base_rng: Stream,
    recent_rules: [u32; 64],
    threshold_offsets: Vec<usize>,
    /// Per outcome: the label index of each case, then of `other`.
    case_labels: Vec<Vec<f64>>,
    /// Index among terminal event types of the event that ended the run.
    ended_by: Option<usize>,
    /// `terminal_index[event]`: its index among terminal event types.
    terminal_index: Vec<usize>,
    options: RunOptions,
    /// The time-series sampler of [`Engine::run_sampled`], if sampling.
    grid: Option<grid::Grid>,
}

/// The source that emitted an event: its drawing effects use its stream.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// A schedule entry, by index.
    Schedule(u32),
    /// A rule, by index.
    Rule(u32),
    /// A hazard, by index.
    Hazard(u32),
}

/// Reads the simulation state for expressions; `source`/`target` are the
/// actors of the event in context.
struct View<'a, 's> {
    e: &'a Engine<'s>,
    params: &'a [f64],
    source: u16,
    target: u16,
}

impl View<'_, '_> {
    fn actor(&self, a: ActorRef) -> u16 {
        match a {
            ActorRef::Fixed(i) => i,
            ActorRef::Source => self.source,
            ActorRef::Target => self.target,
        }
    }
}

impl expr::Env for View<'_, '_> {
    #[inline]
    fn param(&self, idx: u32) -> f64 {
        self.params[idx as usize]
    }
    #[inline]
    fn time(&self) -> f64 {
        self.e.now
    }
    #[inline]
    fn tension(&self, dyad: u32) -> f64 {
        self.e.tension_at(dyad as usize, self.e.now)
    }
    fn tension_between(&self, a: ActorRef, b: ActorRef) -> f64 {
        match self.e.dyad_of(self.actor(a), self.actor(b)) {
            Some(d) => self.e.tension_at(d, self.e.now),
            None => f64::NAN,
        }
    }
    #[inline]
    fn state(&self, actor: ActorRef, var: u32) -> f64 {
        let a = self.actor(actor);
        if a == NONE16 {
            return 0.0;
        }
        self.e.state[usize::from(a) * self.e.n_vars + var as usize]
    }
    #[inline]
    fn count(&self, event: u32) -> f64 {
        self.e.counts[event as usize]
    }
    #[inline]
    fn first(&self, event: u32) -> f64 {
        self.e.first[event as usize]
    }
    #[inline]
    fn last(&self, event: u32) -> f64 {
        self.e.last[event as usize]
    }
    fn hist_count(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].count
    }
    fn hist_first(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].first
    }
    fn hist_last(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].last
    }
    fn window_count(&self, slot: u32, window: f64) -> f64 {
        self.e.histories[slot as usize].window_count(self.e.now, window)
    }
}

/// Reads the simulation state as intervals over the window `[now, end]`:
/// tensions between their values at the two ends, or, `over_range`, anywhere
/// in their declared ranges.
struct WindowView<'a, 's> {
    e: &'a Engine<'s>,
    params: &'a [f64],
    end: f64,
    over_range: bool,
}

impl expr::IntervalEnv for WindowView<'_, '_> {
    fn param(&self, idx: u32) -> Interval {
        Interval::point(self.params[idx as usize])
    }
    fn time(&self) -> Interval {
        Interval {
            lo: self.e.now,
            hi: self.end,
        }
    }
    fn tension(&self, dyad: u32) -> Interval {
        if self.over_range {
            // `set_tension` clamps to the range and the baseline lies in it.
            let d = &self.e.s.dyads[dyad as usize];
            return Interval { lo: d.lo, hi: d.hi };
        }
        // Relaxation is monotone between events: the window's values lie
        // between those at its two ends.
        let a = self.e.tension_at(dyad as usize, self.e.now);
        let b = self.e.tension_at(dyad as usize, self.end);
        Interval {
            lo: a.min(b),
            hi: a.max(b),
        }
    }
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
        Interval {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        }
    }
    fn state(&self, actor: ActorRef, var: u32) -> Interval {
        match actor {
            ActorRef::Fixed(a) => {
                Interval::point(self.e.state[usize::from(a) * self.e.n_vars + var as usize])
            }
            _ => Interval {
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            },
        }
    }
    fn count(&self, event: u32) -> Interval {
        Interval::point(self.e.counts[event as usize])
    }
    fn first(&self, event: u32) -> Interval {
        Interval::point(self.e.first[event as usize])
    }
    fn last(&self, event: u32) -> Interval {
        Interval::point(self.e.last[event as usize])
    }
    fn hist_count(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].count)
    }
    fn hist_first(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].first)
    }
    fn hist_last(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].last)
    }
    /// Until the next event of the slot (which re-bounds every hazard that
    /// reads it), a windowed count can only fall as events age out: it lies
    /// in `[0, its value now with the widest window]`.
    fn window_count(&self, slot: u32, window: Interval) -> Interval {
        let now = self.e.histories[slot as usize].window_count(self.e.now, window.hi);
        Interval { lo: 0.0, hi: now }
    }
}

impl<'s> Engine<'s> {
    /// Buffers for `scenario`.
    pub fn new(scenario: &'s Scenario) -> Self {
        let key = [0u8; 32];
        let mut threshold_offsets = Vec::with_capacity(scenario.dyads.len() + 1);
        let mut offset = 0;
        for d in &scenario.dyads {
            threshold_offsets.push(offset);
            offset += d.thresholds.len();
        }
        threshold_offsets.push(offset);
        Engine {
            s: scenario,
            n_vars: scenario.n_vars(),
            now: 0.0,
            n_events: 0,
            tie_counter: 0,
            dyads: Vec::with_capacity(scenario.dyads.len()),
            tension_memo: vec![Cell::new((f64::NAN, 0.0)); scenario.dyads.len()],
            above: vec![0.0; offset],
            state: Vec::with_capacity(scenario.initial_state.len()),
            counts: vec![0.0; scenario.events.len()],
            first: vec![f64::INFINITY; scenario.events.len()],
            last: vec![f64::NEG_INFINITY; scenario.events.len()],
            histories: vec![history::Slot::new(); scenario.histories.len()],
            queue: Queue::default(),
            pending_limit: scenario.schedule.len().saturating_add(MAX_PENDING),
            rule_last_emit: vec![f64::NEG_INFINITY; scenario.rules.len()],
            rule_pending: vec![0; scenario.rules.len()],
            rule_emitted: vec![false; scenario.rules.len()],
            becomes_rules: (0..scenario.rules.len() as u32)
                .filter(|&r| scenario.rules[r as usize].becomes.is_some())
                .collect(),
            becomes_on: becomes::becomes_on(scenario),
            becomes_was: vec![false; scenario.rules.len()],
            hazards: Vec::with_capacity(scenario.hazards.len()),
            rebound_on: rebound_on(scenario),
            hazard_dyads: scenario
                .hazards
                .iter()
                .map(|h| {
                    let mut dyads = Vec::new();
                    for e in std::iter::once(&h.rate).chain(&h.max_rate) {
                        e.for_each_input(|i| {
                            if let Input::Tension(d) = i {
                                if !dyads.contains(&d) {
                                    dyads.push(d);
                                }
                            }
                        });
                    }
                    dyads
                })
                .collect(),
            hazard_work: 0,
            point: point::PointCache::default(),
            hazard_reads_time: scenario
                .hazards
                .iter()
                .map(|h| h.rate.reads().time || h.max_rate.as_ref().is_some_and(|m| m.reads().time))
                .collect(),
            rule_rng: (scenario.streams.rules.iter())
                .map(|&id| Stream::new(&key, id))
                .collect(),
            hazard_rng: (scenario.streams.hazards.iter())
                .map(|&id| Stream::new(&key, id))
                .collect(),
            tie_rng: Stream::new(&key, stream_id::tie_break()),
            schedule_rng: vec![None; scenario.schedule.len()],
            effect_rng: RefCell::new(Stream::new(&key, stream_id::tie_break())),
            base_rng: Stream::new(&key, stream_id::tie_break()),
            recent_rules: [NONE32; 64],
            threshold_offsets,
            case_labels: (0..scenario.outcomes.len())
                .map(|o| match &scenario.outcomes[o].kind {
                    OutcomeKind::Numeric(_) => Vec::new(),
                    OutcomeKind::Categorical(cases) => {
                        let labels = scenario.outcome_labels(o);
                        let index =
                            |l: &str| labels.iter().position(|x| *x == l).unwrap_or(0) as f64;
                        cases
                            .iter()
                            .map(|(l, _)| index(l))
                            .chain([index("other")])
                            .collect()
                    }
                })
                .collect(),
            ended_by: None,
            terminal_index: {
                let mut k = 0;
                scenario
                    .events
                    .iter()
                    .map(|e| {
                        let i = k;
                        k += usize::from(e.terminal);
                        i
                    })
                    .collect()
            },
            options: RunOptions::default(),
            grid: None,
        }
    }

    /// The number of values [`Engine::run`] writes: one per [`columns`] entry.
    pub fn n_columns(&self) -> usize {
        columns(self.s).len()
    }

    /// Runs one replication with parameter values `params` and key `key`,
    /// writing one value per column into `out` (categorical columns get the
    /// label's index). With `trace`, every event is appended to it.
    pub fn run(
        &mut self,
        params: &[f64],
        key: &[u8; 32],
        options: RunOptions,
        out: &mut [f64],
        mut trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<(), SimError> {
        self.point.prepare(self.s, params);
        self.reset(params, key, options)?;
        self.reset_becomes(params);
        let s = self.s;
        // Scheduled events, each jittered from its own stream.
        for (i, entry) in s.schedule.iter().enumerate() {
            let mut at = self.point.schedule_at[i];
            // An entry whose event draws in its effects keeps its stream,
            // after the jitter draws, for them.
            let draws = s.events[entry.event as usize].draws;
            if draws {
                self.schedule_rng[i] = Some(Stream::new(key, s.streams.schedule[i]));
            }
            if let Some(j) = &entry.jitter {
                let mut rng = (self.schedule_rng[i].take())
                    .unwrap_or_else(|| Stream::new(key, s.streams.schedule[i]));
                let view = View {
                    e: self,
                    params,
                    source: NONE16,
                    target: NONE16,
                };
                let dist = jitter_dist(j, &view).map_err(|m| {
                    self.invalid(format!(
                        "schedule entry {} (`{}`): {m}",
                        i + 1,
                        s.events[entry.event as usize].id
                    ))
                })?;
                at = (at + dist.sample(&mut rng)).clamp(0.0, s.horizon);
                if draws {
                    self.schedule_rng[i] = Some(rng);
                }
            }
            let tie = self.next_tie();
            self.queue.push(Entry {
                time: at,
                priority: self.point.event_priority[entry.event as usize],
                tie,
                action: Action::Scheduled(i as u32),
                trig_source: entry.source.unwrap_or(NONE16),
                trig_target: entry.target.unwrap_or(NONE16),
                cause: NONE32,
            });
        }
        for h in 0..self.hazards.len() {
            self.hazards[h].residual = self.hazard_rng[h].exponential(1.0);
        }
        match &self.point.initial_bounds {
            Some(states) => {
                for (hs, st) in self.hazards.iter_mut().zip(states) {
                    *hs = HazardState {
                        residual: hs.residual,
                        ..*st
                    };
                }
                for h in 0..self.hazards.len() {
                    self.schedule_hazard(h);
                }
            }
            None => {
                for h in 0..self.hazards.len() {
                    self.rebound_hazard(h, params)?;
                }
                self.point.initial_bounds = Some(self.hazards.clone());
            }
        }
        let end = loop {
            let tq = self.queue.next_time();
            let (h, th) = self.next_hazard();
            let next = tq.min(th);
            if next > s.horizon {
                break s.horizon;
            }
            if self.grid.is_some() {
                self.sample_grid(next, false);
            }
            if th < tq {
                // A hazard candidate (strictly before the next queued entry).
                self.now = th;
                let state = self.hazards[h];
                self.hazard_work += 1;
                if self.hazard_work > self.s.event_budget.saturating_mul(HAZARD_WORK_PER_EVENT) {
                    let hz = &s.hazards[h];
                    return Err(self.invalid(format!(
                        "hazard `{}`: more than {} candidates and bound renewals in one replication; \
                         its bound is far above its rate (a loose `max_rate`?) or a half-life is tiny",
                        hz.name,
                        self.s.event_budget.saturating_mul(HAZARD_WORK_PER_EVENT)
                    )));
                }
                if !state.candidate {
                    // The end of the bound's window: bound the next window.
                    self.rebound_hazard(h, params)?;
                    continue;
                }
                let accepted = self.hazard_accepts(h, state.bound, params)?;
                // The gap to the next candidate, under the same bound.
                let hs = &mut self.hazards[h];
                hs.residual = self.hazard_rng[h].exponential(1.0);
                hs.since = self.now;
                self.schedule_hazard(h);
                if accepted {
                    let hz = &s.hazards[h];
                    let (event, source, target) = if hz.choose.is_empty() {
                        (hz.event, hz.source, hz.target)
                    } else {
                        // One more draw from the hazard's stream picks the event.
                        let v = self.hazard_rng[h].uniform();
                        let view = View {
                            e: self,
                            params,
                            source: NONE16,
                            target: NONE16,
                        };
                        let i = pick(&hz.choose, &view, v)
                            .map_err(|m| self.invalid(format!("hazard `{}`: {m}", hz.name)))?;
                        // A hazard's alternatives name actor ids only.
                        let a = &hz.choose[i];
                        let actor = |r: Option<ActorRef>| r.map(|r| view.actor(r));
                        (a.event, actor(a.source), actor(a.target))
                    };
                    if self.happen(
                        params,
                        event,
                        source.unwrap_or(NONE16),
                        target.unwrap_or(NONE16),
                        NONE32,
                        NONE32,
                        Origin::Hazard(h as u32),
                        trace.as_deref_mut(),
                    )? {
                        break self.now;
                    }
                }
                continue;
            }
            let Some(entry) = self.queue.pop() else {
                break s.horizon;
            };
            self.now = entry.time;
            let terminal = match entry.action {
                Action::Scheduled(i) => {
                    let ev = s.schedule[i as usize].event;
                    self.happen(
                        params,
                        ev,
                        entry.trig_source,
                        entry.trig_target,
                        NONE32,
                        NONE32,
                        Origin::Schedule(i),
                        trace.as_deref_mut(),
                    )?
                }
                Action::Fire(r, alt) => self.fire(params, r, alt, &entry, trace.as_deref_mut())?,
            };
            if terminal {
                break self.now;
            }
        };
        self.now = end;
        if self.grid.is_some() {
            self.sample_grid(end, true);
        }
        self.finish(params, out);
        Ok(())
    }

    fn reset(
        &mut self,
        params: &[f64],
        key: &[u8; 32],
        options: RunOptions,
    ) -> Result<(), SimError> {
        let s = self.s;
        self.options = options;
        self.now = 0.0;
        self.n_events = 0;
        self.tie_counter = 0;
        self.dyads.clear();
        self.tension_memo
            .iter()
            .for_each(|m| m.set((f64::NAN, 0.0)));
        self.above.iter_mut().for_each(|a| *a = 0.0);
        self.state.clear();
        self.state.extend_from_slice(&s.initial_state);
        self.counts.iter_mut().for_each(|c| *c = 0.0);
        self.first.iter_mut().for_each(|c| *c = f64::INFINITY);
        self.last.iter_mut().for_each(|c| *c = f64::NEG_INFINITY);
        if let Some(message) = &self.point.window_error {
            return Err(SimError::Invalid {
                time: 0.0,
                message: message.clone(),
            });
        }
        for (slot, &keep) in self.histories.iter_mut().zip(&self.point.window_keep) {
            slot.reset(keep);
        }
        self.queue.clear();
        self.rule_last_emit
            .iter_mut()
            .for_each(|c| *c = f64::NEG_INFINITY);
        self.rule_pending.iter_mut().for_each(|c| *c = 0);
        self.rule_emitted.iter_mut().for_each(|c| *c = false);
        self.hazard_work = 0;
        self.hazards.clear();
        self.hazards.extend(s.hazards.iter().map(|_| HazardState {
            time: f64::INFINITY,
            candidate: false,
            bound: 0.0,
            residual: 0.0,
            since: 0.0,
            window_end: 0.0,
            over_range: false,
        }));
        // The ChaCha state is derived from the key once; every stream
        // starts from it with its own stream id.
        self.base_rng = Stream::new(key, stream_id::tie_break());
        for (rng, &id) in self.rule_rng.iter_mut().zip(&s.streams.rules) {
            rng.rekey_from(&self.base_rng, id);
        }
        for (rng, &id) in self.hazard_rng.iter_mut().zip(&s.streams.hazards) {
            rng.rekey_from(&self.base_rng, id);
        }
        if options.shuffle_ties {
            self.tie_rng
                .rekey_from(&self.base_rng, stream_id::tie_break());
        }
        if let Some(message) = &self.point.cooldown_error {
            return Err(self.invalid(message.clone()));
        }
        if let Some(message) = &self.point.priority_error {
            return Err(self.invalid(message.clone()));
        }
        if let Some(message) = &self.point.threshold_error {
            return Err(self.invalid(message.clone()));
        }
        if let Some(message) = &self.point.schedule_at_error {
            return Err(self.invalid(message.clone()));
        }
        for init in &s.initial_exprs {
            let rng = self.effect_rng.get_mut();
            rng.rekey_from(&self.base_rng, init.stream);
            let value = init
                .value
                .eval_with_rng(&crate::expr::ParamEnv(params), rng);
            let var = &s.scope.vars[init.slot % self.n_vars].name;
            let actor = &s.actors[usize::from(init.actor)].id;
            match value {
                Ok(v) if v.is_finite() => self.state[init.slot] = v,
                Ok(v) => {
                    return Err(self.invalid(format!(
                        "actor `{actor}`: the initial value of `{var}` is {v}; it must be finite"
                    )))
                }
                Err(m) => {
                    return Err(self.invalid(format!(
                        "actor `{actor}`: the initial value of `{var}`: {m}"
                    )))
                }
            }
        }
        self.recent_rules = [NONE32; 64];
        self.ended_by = None;
        for (i, d) in s.dyads.iter().enumerate() {
            let values = match &self.point.dyad[i] {
                Some(v) => v.clone(),
                None => d.values(&View {
                    e: self,
                    params,
                    source: NONE16,
                    target: NONE16,
                }),
            };
            let (initial, baseline, half_life) = values.map_err(|m| self.invalid(m))?;
            self.dyads.push(DyadState {
                value: initial,
                since: 0.0,
                peak: initial,
                baseline,
                half_life,
            });
        }
        Ok(())
    }

    /// Swaps the stream of `origin` with [`Engine::effect_rng`]: once before
    /// an event's drawing effects, once after them.
    fn swap_effect_rng(&mut self, origin: Origin) {
        let rng = self.effect_rng.get_mut();
        match origin {
            Origin::Rule(r) => std::mem::swap(rng, &mut self.rule_rng[r as usize]),
            Origin::Hazard(h) => std::mem::swap(rng, &mut self.hazard_rng[h as usize]),
            Origin::Schedule(i) => {
                if let Some(own) = &mut self.schedule_rng[i as usize] {
                    std::mem::swap(rng, own);
                }
            }
        }
    }

    fn next_tie(&mut self) -> u64 {
        self.tie_counter += 1;
        if self.options.shuffle_ties {
            self.tie_rng.next_u64()
        } else {
            self.tie_counter
        }
    }

    fn invalid(&self, message: String) -> SimError {
        SimError::Invalid {
            time: self.now,
            message,
        }
    }

    /// The tension of dyad `d` at time `t` (not before its last change).
    /// Memoised per dyad for the last `t` asked: the same formula on the same
    /// inputs, so the same bits.
    #[inline]
    fn tension_at(&self, d: usize, t: f64) -> f64 {
        let memo = &self.tension_memo[d];
        let (mt, mv) = memo.get();
        if mt == t {
            return mv;
        }
        let st = &self.dyads[d];
        let v = tension::decay(st.value, st.baseline, st.half_life, t - st.since);
        memo.set((t, v));
        v
    }

    fn dyad_of(&self, a: u16, b: u16) -> Option<usize> {
        if a == NONE16 || b == NONE16 {
            return None;
        }
        let n = self.s.actors.len();
        self.s.scope.dyads[usize::from(a) * n + usize::from(b)].map(|d| d as usize)
    }

    /// Sets a dyad's tension at the current time, accumulating the metrics of
    /// the segment that ends now.
    fn set_tension(&mut self, d: usize, value: f64) {
        let dy = &self.s.dyads[d];
        let before = self.tension_at(d, self.now);
        self.close_segment(d, self.now, before);
        let value = value.clamp(dy.lo, dy.hi);
        let st = &mut self.dyads[d];
        st.peak = st.peak.max(before).max(value);
        st.value = value;
        st.since = self.now;
        // `decay` at `dt = 0` is the value itself.
        self.tension_memo[d].set((self.now, value));
    }

    /// Adds the time above each threshold between the dyad's last change and
    /// `t`, where its tension is `end`.
    fn close_segment(&mut self, d: usize, t: f64, end: f64) {
        let st = self.dyads[d];
        let base = self.threshold_offsets[d];
        for (k, th) in self.point.thresholds[d].iter().enumerate() {
            self.above[base + k] +=
                tension::time_above(st.value, st.baseline, st.half_life, *th, t - st.since, end);
        }
    }

    /// An event happens now. Returns whether it is terminal.
    #[allow(clippy::too_many_arguments)]
    fn happen(
        &mut self,
        params: &[f64],
        ev: u32,
        source: u16,
        target: u16,
        rule: u32,
        cause: u32,
        origin: Origin,
        trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<bool, SimError> {
        let s = self.s;
        let seq = self.n_events;
        if u64::from(seq) >= s.event_budget {
            return Err(self.budget_error());
        }
        self.n_events += 1;
        self.recent_rules[seq as usize % 64] = rule;
        let e = ev as usize;
        self.counts[e] += 1.0;
        if self.first[e] == f64::INFINITY {
            self.first[e] = self.now;
        }
        self.last[e] = self.now;
        for &h in &s.histories_on[e] {
            let key = s.histories[h as usize].key;
            if key.from.is_none_or(|a| a == source) && key.to.is_none_or(|a| a == target) {
                self.histories[h as usize].record(self.now);
            }
        }
        let event = &s.events[e];
        let draws = event.draws;
        if draws {
            self.swap_effect_rng(origin);
        }
        for (k, st) in event.effects.iter().enumerate() {
            let view = View {
                e: self,
                params,
                source,
                target,
            };
            let value = match self.point.effect(e, k) {
                Some(v) => v,
                None if draws && st.value.reads().draws => {
                    let mut rng = self.effect_rng.borrow_mut();
                    (st.value.eval_with_rng(&view, &mut rng))
                        .map_err(|m| self.invalid(format!("event `{}`: {m}", event.id)))?
                }
                None => st.value.eval(&view),
            };
            match st.target {
                Lvalue::State { actor, var, .. } => {
                    let a = view.actor(actor);
                    let slot = usize::from(a) * self.n_vars + var as usize;
                    // No actor, or one that does not declare the variable
                    // (through `source`/`target`): nothing to write.
                    if a == NONE16 || !s.scope.declared[slot] {
                        continue;
                    }
                    let new = apply(st.op, self.state[slot], value);
                    if !new.is_finite() {
                        return Err(self.invalid(format!(
                            "event `{}` set a state variable to {new}",
                            event.id
                        )));
                    }
                    self.state[slot] = new;
                }
                Lvalue::Tension { a, b, dyad } => {
                    let d = match dyad {
                        Some(d) => Some(d as usize),
                        None => self.dyad_of(view.actor(a), view.actor(b)),
                    };
                    // An effect on a pair with no declared tension does nothing.
                    let Some(d) = d else { continue };
                    let new = apply(st.op, self.tension_at(d, self.now), value);
                    if new.is_nan() {
                        return Err(
                            self.invalid(format!("event `{}` set a tension to NaN", event.id))
                        );
                    }
                    self.set_tension(d, new);
                }
            }
        }
        if draws {
            self.swap_effect_rng(origin);
        }
        if let Some(trace) = trace {
            let tension_after = self
                .dyad_of(source, target)
                .map(|d| self.tension_at(d, self.now));
            trace.push(TraceEvent {
                seq,
                time: self.now,
                event: ev,
                source: (source != NONE16).then_some(source),
                target: (target != NONE16).then_some(target),
                rule: (rule != NONE32).then_some(rule),
                cause: (cause != NONE32).then_some(cause),
                tension_after,
            });
        }
        if event.terminal {
            self.ended_by = Some(self.terminal_index[e]);
            return Ok(true);
        }
        for &r in &s.rules_on[e] {
            self.trigger(params, r, source, target, seq)?;
        }
        if !self.becomes_on[e].is_empty() {
            self.check_becomes(params, e, seq)?;
        }
        for k in 0..self.rebound_on[e].len() {
            let (h, beyond_tension) = self.rebound_on[e][k];
            let h = h as usize;
            if beyond_tension || !self.hazards[h].over_range {
                self.rebound_hazard(h, params)?;
            }
        }
        Ok(false)
    }

    /// A rule sees its triggering event.
    fn trigger(
        &mut self,
        params: &[f64],
        r: u32,
        source: u16,
        target: u16,
        seq: u32,
    ) -> Result<(), SimError> {
        let rule = &self.s.rules[r as usize];
        let ri = r as usize;
        if let Some(from) = &rule.from {
            if !from.contains(&source) {
                return Ok(());
            }
        }
        if let Some(to) = &rule.to {
            if !to.contains(&target) {
                return Ok(());
            }
        }
        if let Some(involving) = &rule.involving {
            if !involving.contains(&source) && !involving.contains(&target) {
                return Ok(());
            }
        }
        // The draw comes first, whatever the condition says, so that the
        // rule's stream stays aligned across parameter values.
        let u = self.rule_rng[ri].uniform();
        if rule.once && (self.rule_emitted[ri] || self.rule_pending[ri] > 0) {
            return Ok(());
        }
        if self.now - self.rule_last_emit[ri] < self.point.cooldown[ri] {
            return Ok(());
        }
        let view = View {
            e: self,
            params,
            source,
            target,
        };
        if let Some(w) = &rule.when {
            if w.eval(&view) == 0.0 {
                return Ok(());
            }
        }
        if let Some(p) = &rule.prob {
            let p = match self.point.prob[ri] {
                Some(p) => p,
                None => p.eval(&view),
            };
            if !(0.0..=1.0).contains(&p) {
                return Err(self.invalid(format!(
                    "rule `{}`: probability {p} is outside [0, 1]; write `clamp(…, 0, 1)` around `prob` if values past the bounds mean never or always",
                    rule.name
                )));
            }
            if u >= p {
                return Ok(());
            }
        }
        // `choose`: one more draw from the rule's stream picks the
        // alternative, whose own delay (if any) replaces the rule's.
        let v = (!rule.choose.is_empty()).then(|| self.rule_rng[ri].uniform());
        let view = View {
            e: self,
            params,
            source,
            target,
        };
        let (alt, own_delay) = match v {
            None => (0, None),
            Some(v) => {
                let i = pick(&rule.choose, &view, v)
                    .map_err(|m| self.invalid(format!("rule `{}`: {m}", rule.name)))?;
                (i + 1, rule.choose[i].delay.as_ref())
            }
        };
        let delay = match (own_delay, &rule.delay) {
            (Some(d), _) => {
                let dist = d
                    .dist(&view)
                    .map_err(|m| self.invalid(format!("rule `{}`: {m}", rule.name)))?;
                dist.sample(&mut self.rule_rng[ri])
            }
            (None, None) => 0.0,
            (None, Some(d)) => {
                let dist = match &self.point.delay[ri] {
                    Some(cached) => cached.clone(),
                    None => d.dist(&view),
                }
                .map_err(|m| self.invalid(format!("rule `{}`: {m}", rule.name)))?;
                dist.sample(&mut self.rule_rng[ri])
            }
        };
        if !(delay >= 0.0 && delay.is_finite()) {
            return Err(self.invalid(format!("rule `{}` drew a delay of {delay}", rule.name)));
        }
        if self.queue.len() >= self.pending_limit {
            return Err(self.pending_error());
        }
        let priority = match alt {
            0 => self.point.rule_priority[ri],
            _ if rule.priority_explicit => self.point.rule_priority[ri],
            i => self.point.event_priority[rule.choose[i - 1].event as usize],
        };
        let tie = self.next_tie();
        self.queue.push(Entry {
            time: self.now + delay,
            priority,
            tie,
            action: Action::Fire(r, alt as u16),
            trig_source: source,
            trig_target: target,
            cause: seq,
        });
        self.rule_pending[ri] += 1;
        Ok(())
    }

    /// A rule's delay has elapsed: re-check, then emit. Returns whether the
    /// emitted event is terminal.
    fn fire(
        &mut self,
        params: &[f64],
        r: u32,
        alt: u16,
        entry: &Entry,
        trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<bool, SimError> {
        let ri = r as usize;
        let rule = &self.s.rules[ri];
        self.rule_pending[ri] -= 1;
        if rule.once && self.rule_emitted[ri] {
            return Ok(false);
        }
        if self.now - self.rule_last_emit[ri] < self.point.cooldown[ri] {
            return Ok(false);
        }
        let view = View {
            e: self,
            params,
            source: entry.trig_source,
            target: entry.trig_target,
        };
        if rule.recheck {
            if let Some(w) = &rule.when {
                if w.eval(&view) == 0.0 {
                    return Ok(false);
                }
            }
        }
        let (event, source, target) = match alt {
            0 => (rule.emit_event, Some(rule.emit_source), rule.emit_target),
            i => {
                let a = &rule.choose[usize::from(i) - 1];
                (a.event, a.source, a.target)
            }
        };
        let source = source.map_or(NONE16, |s| view.actor(s));
        let target = target.map_or(NONE16, |t| view.actor(t));
        self.rule_last_emit[ri] = self.now;
        self.rule_emitted[ri] = true;
        if alt == 0 && !rule.emit_targets.is_empty() {
            // `emit` to a group: one event per member, in member order,
            // each happening in full before the next; a terminal one ends it.
            let mut trace = trace;
            for &member in &self.s.rules[ri].emit_targets {
                let cause = entry.cause;
                if self.happen(
                    params,
                    event,
                    source,
                    member,
                    r,
                    cause,
                    Origin::Rule(r),
                    trace.as_deref_mut(),
                )? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        self.happen(
            params,
            event,
            source,
            target,
            r,
            entry.cause,
            Origin::Rule(r),
            trace,
        )
    }

    /// The hazard with the earliest candidate (first declared on ties).
    fn next_hazard(&self) -> (usize, f64) {
        let mut best = (0, f64::INFINITY);
        for (i, h) in self.hazards.iter().enumerate() {
            if h.time < best.1 {
                best = (i, h.time);
            }
        }
        best
    }

    /// Brings hazard `h` up to now under a new rate bound: the residual of its
    /// unit-exponential gap is reduced by what the old bound consumed since
    /// the last update, the bound is recomputed, and the next candidate
    /// follows from the residual. Draws no random number.
    ///
    /// A hazard whose bound expression (`max_rate`, else `rate`) reads no
    /// tension and not the time is bounded by its value (point evaluation),
    /// to the horizon. Otherwise one of two bounds is computed by the
    /// interval evaluator, with parameters, state, counts and event times at
    /// their current values:
    ///
    /// * the **window bound**, with each tension the rate reads between its
    ///   values at the two ends of a window (tension relaxes monotonically
    ///   between events) and the time within the window. The window ends at
    ///   the horizon, or earlier to keep the bound tight: after the shortest
    ///   half-life among the dyads the rate reads, and after an eighth of the
    ///   horizon if the rate reads the time. It holds until the window ends
    ///   or an event changes anything the rate reads (`rebound_on`).
    /// * the **range bound**, with each tension anywhere in its declared
    ///   range and the time anywhere up to the horizon. It holds until an
    ///   event changes something other than a tension the rate reads, so
    ///   the many events that move tensions cost nothing.
    ///
    /// The range bound is used when it wastes little: at most
    /// [`RANGE_SLACK`] times the window bound, or at most
    /// [`RANGE_CANDIDATES`] expected candidates to the horizon. Thinning is
    /// exact under either; the choice only trades rejected candidates
    /// against re-bounding work, and is a pure function of the state.
    fn rebound_hazard(&mut self, h: usize, params: &[f64]) -> Result<(), SimError> {
        let s = self.s;
        let hz = &s.hazards[h];
        let now = self.now;
        let hs = self.hazards[h];
        let residual = (hs.residual - hs.bound * (now - hs.since)).max(0.0);
        // A declared `max_rate` is bounded like a rate: it may read the time
        // or relaxing tensions too.
        let bound_expr = hz.max_rate.as_ref().unwrap_or(&hz.rate);
        let reads = bound_expr.reads();
        let (over_range, bound, end) = if !reads.tension && !reads.time {
            // Nothing the rate reads moves before the next event that
            // changes it: its value is the tightest bound, to the horizon.
            let bound = bound_expr.eval(&View {
                e: self,
                params,
                source: NONE16,
                target: NONE16,
            });
            if !(bound >= 0.0 && bound.is_finite()) {
                let what = if hz.max_rate.is_some() {
                    "max_rate"
                } else {
                    "rate"
                };
                return Err(self.invalid(format!("hazard `{}`: {what} is {bound}", hz.name)));
            }
            (true, bound, s.horizon)
        } else {
            self.range_or_window_bound(h, bound_expr, params)?
        };
        self.hazards[h] = HazardState {
            time: f64::INFINITY,
            candidate: false,
            bound,
            residual,
            since: now,
            window_end: end,
            over_range,
        };
        self.schedule_hazard(h);
        Ok(())
    }

    /// The range bound or the window bound of hazard `h` (see
    /// [`Engine::rebound_hazard`]): `(over_range, bound, end of validity)`.
    fn range_or_window_bound(
        &self,
        h: usize,
        bound_expr: &expr::Expr,
        params: &[f64],
    ) -> Result<(bool, f64, f64), SimError> {
        let s = self.s;
        let hz = &s.hazards[h];
        let now = self.now;
        let range_bound = bound_expr
            .eval_interval(&WindowView {
                e: self,
                params,
                end: s.horizon,
                over_range: true,
            })
            .hi;
        // Few candidates to the horizon: the range bound, whatever the
        // window bound (so it need not be computed).
        let few = range_bound >= 0.0 && range_bound * (s.horizon - now) <= RANGE_CANDIDATES;
        Ok(if few {
            (true, range_bound, s.horizon)
        } else {
            let mut window = s.horizon - now;
            for &d in &self.hazard_dyads[h] {
                window = window.min(self.dyads[d as usize].half_life);
            }
            if self.hazard_reads_time[h] {
                window = window.min(s.horizon / 8.0);
            }
            // A wider window only loosens the bound; a floor keeps a tiny
            // half-life from turning into billions of renewals.
            window = window.max(s.horizon * 1e-4).min(s.horizon - now);
            let end = (now + window).min(s.horizon);
            let bound = bound_expr
                .eval_interval(&WindowView {
                    e: self,
                    params,
                    end,
                    over_range: false,
                })
                .hi;
            if !(bound >= 0.0 && bound.is_finite()) {
                return Err(self.invalid(format!(
                    "hazard `{}`: cannot bound its rate over [{now}, {end}] (bound {bound}); give `max_rate`",
                    hz.name
                )));
            }
            if range_bound.is_finite() && range_bound <= RANGE_SLACK * bound {
                (true, range_bound, s.horizon)
            } else {
                (false, bound, end)
            }
        })
    }

    /// Sets hazard `h`'s next time from its residual and bound: a candidate
    /// within the window, else the window's end (nothing at the horizon).
    fn schedule_hazard(&mut self, h: usize) {
        let horizon = self.s.horizon;
        let hs = &mut self.hazards[h];
        let candidate = if hs.bound > 0.0 {
            hs.since + hs.residual / hs.bound
        } else {
            f64::INFINITY
        };
        (hs.time, hs.candidate) = if candidate <= hs.window_end {
            (candidate, true)
        } else if hs.window_end < horizon {
            (hs.window_end, false)
        } else {
            (f64::INFINITY, false)
        };
    }

    /// Thinning: accept the candidate with probability rate / bound.
    fn hazard_accepts(&mut self, h: usize, bound: f64, params: &[f64]) -> Result<bool, SimError> {
        let hz = &self.s.hazards[h];
        let rate = hz.rate.eval(&View {
            e: self,
            params,
            source: NONE16,
            target: NONE16,
        });
        if !(rate >= 0.0 && rate.is_finite()) {
            return Err(self.invalid(format!("hazard `{}`: rate is {rate}", hz.name)));
        }
        if rate > bound * (1.0 + 1e-12) {
            return Err(self.invalid(format!(
                "hazard `{}`: rate {rate} exceeds its bound {bound}; raise `max_rate`",
                hz.name
            )));
        }
        Ok(self.hazard_rng[h].uniform() * bound < rate)
    }

    fn pending_error(&self) -> SimError {
        // The rules with the most pending firings: the largest counts that
        // together make up at least nine tenths of them, at most eight.
        let mut by_count: Vec<(u32, usize)> = self
            .rule_pending
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(r, c)| (*c, r))
            .collect();
        by_count.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let total: u64 = by_count.iter().map(|(c, _)| u64::from(*c)).sum();
        let mut covered = 0u64;
        let mut chosen = Vec::new();
        for (c, r) in by_count.into_iter().take(8) {
            if covered * 10 >= total * 9 {
                break;
            }
            covered += u64::from(c);
            chosen.push(r);
        }
        chosen.sort_unstable();
        SimError::Pending {
            limit: self.pending_limit,
            time: self.now,
            rules: chosen
                .iter()
                .map(|r| self.s.rules[*r].name.clone())
                .collect(),
        }
    }

    fn budget_error(&self) -> SimError {
        // The rules behind the latest 64 events, in declaration order.
        let mut recent: Vec<u32> = self
            .recent_rules
            .iter()
            .copied()
            .filter(|r| *r != NONE32)
            .collect();
        recent.sort_unstable();
        recent.dedup();
        let rules = recent
            .iter()
            .map(|r| self.s.rules[*r as usize].name.clone())
            .collect();
        SimError::Budget {
            budget: self.s.event_budget,
            time: self.now,
            rules,
        }
    }

    /// Writes the outcomes and metrics at the end of a replication.
    fn finish(&mut self, params: &[f64], out: &mut [f64]) {
        let s = self.s;
        let mut k = 0;
        let view = View {
            e: self,
            params,
            source: NONE16,
            target: NONE16,
        };
        for (o, outcome) in s.outcomes.iter().enumerate() {
            out[k] = match &outcome.kind {
                OutcomeKind::Numeric(e) => e.eval(&view),
                OutcomeKind::Categorical(cases) => {
                    let case = cases
                        .iter()
                        .position(|(_, w)| w.eval(&view) != 0.0)
                        .unwrap_or(cases.len());
                    self.case_labels[o][case]
                }
            };
            k += 1;
        }
        out[k] = self.now;
        out[k + 1] = f64::from(self.n_events);
        k += 2;
        let n_terminal = s.events.iter().filter(|e| e.terminal).count();
        out[k] = self.ended_by.unwrap_or(n_terminal) as f64;
        k += 1;
        for c in &self.counts {
            out[k] = *c;
            k += 1;
        }
        for d in 0..s.dyads.len() {
            let final_value = self.tension_at(d, self.now);
            self.close_segment(d, self.now, final_value);
            out[k] = final_value;
            out[k + 1] = self.dyads[d].peak.max(final_value);
            k += 2;
            let base = self.threshold_offsets[d];
            for j in 0..s.dyads[d].thresholds.len() {
                out[k] = self.above[base + j];
                k += 1;
            }
        }
    }
}

/// The alternative of a `choose` that the uniform draw `v` in `[0, 1)`
/// selects: alternative `i` when `v · W` falls in `[W_{i-1}, W_i)`, with
/// `W_i` the sum of the first `i + 1` weights (in file order) and `W` their
/// total, so each is chosen with probability weight / total. The error
/// names weights that are negative, NaN or infinite, or all zero.
fn pick(alternatives: &[Alternative], view: &View<'_, '_>, v: f64) -> Result<usize, String> {
    let mut total = 0.0;
    for a in alternatives {
        let w = a.weight.eval(view);
        if !(w >= 0.0 && w.is_finite()) {
            return Err(format!(
                "a `choose` weight is {w}; each must be a non-negative finite number"
            ));
        }
        total += w;
    }
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!(
            "the `choose` weights sum to {total}; at least one must be positive"
        ));
    }
    let x = v * total;
    let mut cum = 0.0;
    let mut last_positive = 0;
    for (i, a) in alternatives.iter().enumerate() {
        let w = a.weight.eval(view);
        if w > 0.0 {
            last_positive = i;
        }
        cum += w;
        if x < cum {
            return Ok(i);
        }
    }
    // Rounding can leave `x` at the total: the last positive weight.
    Ok(last_positive)
}

fn apply(op: AssignOp, old: f64, value: f64) -> f64 {
    match op {
        AssignOp::Set => value,
        AssignOp::Add => old + value,
        AssignOp::Sub => old - value,
    }
}

/// A jitter's distribution. Jitter may be negative: a uniform or fixed jitter
/// skips the delay checks (which would refuse a negative value).
fn jitter_dist<E: expr::Env>(
    d: &crate::scenario::Delay,
    env: &E,
) -> Result<crate::rng::Dist, String> {
    use crate::scenario::DelayKind;
    if !matches!(d.kind, DelayKind::Fixed | DelayKind::Uniform) {
        return d.dist(env);
    }
    let a = d.p1.eval(env);
    let b = d.p2.as_ref().map_or(0.0, |e| e.eval(env));
    match d.kind {
        DelayKind::Fixed if a.is_finite() => Ok(crate::rng::Dist::Fixed(a)),
        DelayKind::Uniform if a.is_finite() && b.is_finite() && a <= b => {
            Ok(crate::rng::Dist::Uniform { min: a, max: b })
        }
        _ => Err(format!("invalid jitter parameters {a}, {b}")),
    }
}

/// For each event type, the hazards to re-bound when it happens: those whose
/// rate or `max_rate` reads the event's count or times, or anything its
/// effects may write (a `source`/`target` effect may write any actor's
/// variable or any dyad), each with whether the event may change an input
/// other than a declared tension (a count, a time, a state variable, or a
/// tension read through `tension_between`). Hazards reading
/// `source`/`target` themselves (which the compiler does not allow today)
/// would be re-bounded on every event.
fn rebound_on(s: &Scenario) -> Vec<Vec<(u32, bool)>> {
    s.events
        .iter()
        .enumerate()
        .map(|(e, event)| {
            let mut dyads: Vec<Option<u32>> = Vec::new();
            let mut slots: Vec<(Option<u16>, u32)> = Vec::new();
            for st in &event.effects {
                match st.target {
                    Lvalue::Tension { dyad, .. } => dyads.push(dyad),
                    Lvalue::State { actor, var, .. } => slots.push((
                        match actor {
                            ActorRef::Fixed(a) => Some(a),
                            _ => None,
                        },
                        var,
                    )),
                }
            }
            // (affected, affected through something other than a declared tension)
            let affects = |input: Input| match input {
                Input::Event(x) => (x as usize == e, x as usize == e),
                Input::Tension(d) => (dyads.iter().any(|w| w.is_none_or(|w| w == d)), false),
                Input::TensionBetween => (true, true),
                Input::State(ActorRef::Fixed(a), v) => {
                    let hit = slots
                        .iter()
                        .any(|(wa, wv)| *wv == v && wa.is_none_or(|wa| wa == a));
                    (hit, hit)
                }
                Input::State(_, _) => (true, true),
                Input::History(h) => {
                    let hit = s.histories[h as usize].key.event as usize == e;
                    (hit, hit)
                }
            };
            (0..s.hazards.len() as u32)
                .filter_map(|h| {
                    let hz = &s.hazards[h as usize];
                    let (mut hit, mut beyond) = (false, false);
                    let mut visit = |i: Input| {
                        let (a, b) = affects(i);
                        hit |= a;
                        beyond |= b;
                    };
                    hz.rate.for_each_input(&mut visit);
                    if let Some(m) = &hz.max_rate {
                        m.for_each_input(&mut visit);
                    }
                    hit.then_some((h, beyond))
                })
                .collect()
        })
        .collect()
}
