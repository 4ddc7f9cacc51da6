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
mod error;
mod fast;
pub(crate) mod grid;
mod hazard;
mod history;
mod point;
pub mod queue;
mod rules;
mod tables;
pub(crate) mod tension;
mod view;

pub use crate::scenario::HORIZON;
pub use columns::{columns, terminal_labels, Column, ColumnKind};
pub use error::{SimError, MAX_PENDING};

use crate::expr::{self, ActorRef, AssignOp, Lvalue};
use crate::rng::{stream_id, Stream};
use crate::scenario::{OutcomeKind, Scenario};
use hazard::{HazardState, HAZARD_WORK_PER_EVENT};
use queue::{Action, Entry, Queue};
use rules::pick;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use view::View;

const NONE16: u16 = u16::MAX;
const NONE32: u32 = u32::MAX;

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

/// Reusable buffers for running replications of one scenario, and the state
/// of the replication in progress.
///
/// Three parts: the scenario's **static tables** (`tables::Static`, built
/// once in [`Engine::new`] and shared behind an `Arc` by every clone); the
/// **state** of the replication in progress (clock, queue with its pending
/// rule firings, tensions, actor state, counts and histories, each hazard's
/// candidate process, rule bookkeeping, the streams, the metrics so far);
/// and **scratch** that holds nothing between events (the stream slot of
/// drawing effects, the tension memo, which only caches values of the
/// state). A clone is a snapshot: continued with [`Engine::branch`] on
/// fresh streams, it is an independent copy of the replication from that
/// point ([`Engine::start`], [`Engine::advance_until`]).
#[derive(Clone)]
pub struct Engine<'s> {
    s: &'s Scenario,
    /// The scenario's tables, shared with every clone.
    t: Arc<tables::Static>,
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
    /// Per rule: its `when_becomes` condition's last value.
    becomes_was: Vec<bool>,
    hazards: Vec<HazardState>,
    /// Bit `h` set: hazard `h` is not bounded over its tensions' ranges
    /// (`!over_range`), kept by [`Engine::schedule_hazard`].
    window_bound: Vec<u64>,
    /// The hazards' next times, for the earliest in O(1).
    hazard_tree: hazard::HazardTree,
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
    /// Index among terminal event types of the event that ended the run.
    ended_by: Option<usize>,
    options: RunOptions,
    /// The time-series sampler of [`Engine::run_sampled`], if sampling.
    grid: Option<grid::Grid>,
    /// Whether the replication in progress has ended (horizon or terminal).
    ended: bool,
}

/// Why [`Engine::advance_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The replication ended: a terminal event, the horizon, or nothing left
    /// to happen.
    Ended,
    /// The condition of [`Until`] held; the replication can go on.
    Stopped,
}

/// Where [`Engine::advance_until`] stops a replication that has not ended.
#[derive(Debug, Clone, Copy)]
pub enum Until<'a> {
    /// Nowhere: run to the end.
    End,
    /// At a time: every event at or before it has happened.
    Time(f64),
    /// After the first event after which the expression (compiled in the
    /// scenario's scope, without event actors or draws) is above the level:
    /// the event at which a score crosses a level, for multilevel splitting.
    Above(&'a expr::Expr, f64),
    /// After the first event (not terminal) after which the expression is
    /// at least the level: a fixed level reached.
    AtLeast(&'a expr::Expr, f64),
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

impl<'s> Engine<'s> {
    /// Buffers for `scenario`.
    pub fn new(scenario: &'s Scenario) -> Self {
        let key = [0u8; 32];
        let t = Arc::new(tables::Static::new(scenario));
        let offset = t.threshold_offsets[scenario.dyads.len()];
        Engine {
            s: scenario,
            t,
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
            becomes_was: vec![false; scenario.rules.len()],
            hazards: Vec::with_capacity(scenario.hazards.len()),
            window_bound: vec![0; scenario.hazards.len().div_ceil(64)],
            hazard_tree: hazard::HazardTree::new(scenario.hazards.len()),
            hazard_work: 0,
            point: point::PointCache::default(),
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
            ended_by: None,
            options: RunOptions::default(),
            grid: None,
            ended: false,
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
        trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<(), SimError> {
        self.start(params, key, options)?;
        self.advance(params, f64::INFINITY, None, trace)?;
        self.finish(params, out);
        Ok(())
    }

    /// Starts a replication with parameter values `params` and key `key`:
    /// the state at time 0, before the first event. Go on with
    /// [`Engine::advance_until`]; [`Engine::run`] is `start`, `advance_until`
    /// with a condition that never holds, and the outputs.
    pub fn start(
        &mut self,
        params: &[f64],
        key: &[u8; 32],
        options: RunOptions,
    ) -> Result<(), SimError> {
        self.ended = false;
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
                let jittered = at + dist.sample(&mut rng);
                if draws {
                    self.schedule_rng[i] = Some(rng);
                }
                if entry.censor && !(0.0..=s.horizon).contains(&jittered) {
                    // `jitter_edges = "censor"`: outside the window, the
                    // event does not happen.
                    continue;
                }
                at = jittered.clamp(0.0, s.horizon);
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
                // The bounds at t = 0 read the parameters and the initial
                // state and tensions (no event has happened); they are the
                // same in every replication at this point unless an initial
                // state value draws (tensions' initial values read only
                // parameters and state).
                if !s.initial_exprs.iter().any(|e| e.value.reads().draws) {
                    self.point.initial_bounds = Some(self.hazards.clone());
                }
            }
        }
        Ok(())
    }

    /// Runs the replication started by [`Engine::start`] (or continued by
    /// [`Engine::branch`]) until it ends ([`Step::Ended`]: a terminal event,
    /// the horizon, nothing left to happen) or until `until` holds
    /// ([`Step::Stopped`]):
    ///
    /// * [`Until::End`] never holds;
    /// * [`Until::Time`]`(t)`: every event at or before `t` has happened and
    ///   the next is after `t`; the clock is then set to `t` (a `t` at or
    ///   beyond the horizon is [`Until::End`]; a `t` before now stops at once);
    /// * [`Until::Above`]`(expr, level)` ([`Until::AtLeast`]): after the
    ///   first event (not terminal) after which `expr` is above (at least)
    ///   `level`, evaluated as [`Engine::eval`] does. Only events are checked: a value that is
    ///   already above when this is called does not stop it before the next
    ///   event.
    ///
    /// Returns at once with [`Step::Ended`] if the replication has ended.
    pub fn advance_until(
        &mut self,
        params: &[f64],
        until: Until<'_>,
        trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<Step, SimError> {
        match until {
            Until::End => self.advance(params, f64::INFINITY, None, trace),
            Until::Time(t) => {
                if !self.ended && t < self.now {
                    return Ok(Step::Stopped);
                }
                self.advance(params, t, None, trace)
            }
            Until::Above(expr, level) => {
                self.advance(params, f64::INFINITY, Some((expr, level, false)), trace)
            }
            Until::AtLeast(expr, level) => {
                self.advance(params, f64::INFINITY, Some((expr, level, true)), trace)
            }
        }
    }

    /// The event loop: until the replication ends, the next event is after
    /// `pause` (below the horizon: the clock is set to `pause`), or after an
    /// event that is not terminal, `stop = (expr, level, at_least)` holds:
    /// `expr` above `level` (at least `level`). One function, not generic
    /// over the condition, so that `run` compiles to the loop it always was.
    fn advance(
        &mut self,
        params: &[f64],
        pause: f64,
        stop: Option<(&expr::Expr, f64, bool)>,
        mut trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<Step, SimError> {
        let stop_now = |e: &Engine<'s>| match stop {
            None => false,
            Some((expr, level, false)) => e.eval(params, expr) > level,
            Some((expr, level, true)) => e.eval(params, expr) >= level,
        };
        if self.ended {
            return Ok(Step::Ended);
        }
        let s = self.s;
        // `run` has `pause` infinite: the same one comparison per event as
        // without pauses.
        let limit = pause.min(s.horizon);
        let end = loop {
            let tq = self.queue.next_time();
            let (h, th) = self.next_hazard();
            let next = tq.min(th);
            if next > limit {
                if limit < s.horizon {
                    self.now = limit;
                    return Ok(Step::Stopped);
                }
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
                    if stop_now(self) {
                        return Ok(Step::Stopped);
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
            if stop_now(self) {
                return Ok(Step::Stopped);
            }
        };
        self.now = end;
        if self.grid.is_some() {
            self.sample_grid(end, true);
        }
        self.ended = true;
        Ok(Step::Ended)
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
        self.hazard_tree.reset();
        for h in 0..self.hazards.len() {
            self.window_bound[h / 64] |= 1 << (h % 64);
        }
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
    #[inline]
    fn close_segment(&mut self, d: usize, t: f64, end: f64) {
        let st = &self.dyads[d];
        let dt = t - st.since;
        // A segment that ends no later than it starts, or lies at or below
        // every threshold, adds 0 to each (`time_above`'s own answer; the
        // sums are never -0, so adding 0 changes no bit).
        let lowest = self.point.threshold_min[d];
        if dt <= 0.0 || (st.value <= lowest && end <= lowest) {
            return;
        }
        let thresholds = &self.point.thresholds[d];
        let base = self.t.threshold_offsets[d];
        let above = &mut self.above[base..base + thresholds.len()];
        for (a, th) in above.iter_mut().zip(thresholds) {
            *a += tension::time_above(st.value, st.baseline, st.half_life, *th, dt, end);
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
                None => self.t.fast.effect(e, k).eval(&view),
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
            self.ended_by = Some(self.t.terminal_index[e]);
            return Ok(true);
        }
        self.trigger_rules(params, e, source, target, seq)?;
        if !self.t.becomes_on[e].is_empty() {
            self.check_becomes(params, e, seq)?;
        }
        if self.t.rebound.any[e] {
            let words = self.window_bound.len();
            for w in 0..words {
                let (beyond, tension) = self.t.rebound.words(e, w);
                let mut bits = beyond | (tension & self.window_bound[w]);
                // Re-bounding hazard h changes bit h only, already taken.
                while bits != 0 {
                    let h = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.rebound_hazard(h, params)?;
                }
            }
        }
        Ok(false)
    }

    /// Continues the replication in progress on fresh streams keyed by
    /// `key` (see [`crate::rng::branch_key`]): every rule, hazard and
    /// schedule stream is re-keyed and each hazard's residual is redrawn
    /// from now, so that copies of one snapshot branched with different keys
    /// are independent from here on (the hazards' candidate processes are
    /// memoryless within their windows, so redrawing is exact).
    pub fn branch(&mut self, key: &[u8; 32]) {
        let s = self.s;
        self.base_rng = Stream::new(key, stream_id::tie_break());
        for (rng, &id) in self.rule_rng.iter_mut().zip(&s.streams.rules) {
            rng.rekey_from(&self.base_rng, id);
        }
        for (rng, &id) in self.hazard_rng.iter_mut().zip(&s.streams.hazards) {
            rng.rekey_from(&self.base_rng, id);
        }
        for (i, rng) in self.schedule_rng.iter_mut().enumerate() {
            if let Some(rng) = rng {
                rng.rekey_from(&self.base_rng, s.streams.schedule[i]);
            }
        }
        if self.options.shuffle_ties {
            self.tie_rng
                .rekey_from(&self.base_rng, stream_id::tie_break());
        }
        // Every hazard's residual, whatever its bound now: a residual left
        // from the parent's stream (a hazard at bound 0 keeps its residual
        // until it is re-bounded) would be shared by every branch.
        for h in 0..self.hazards.len() {
            let hs = &mut self.hazards[h];
            hs.residual = self.hazard_rng[h].exponential(1.0);
            hs.since = self.now;
            self.schedule_hazard(h);
        }
    }

    /// The value of `expr` (compiled in the scenario's scope, without event
    /// actors or draws) in the state now.
    pub fn eval(&self, params: &[f64], expr: &expr::Expr) -> f64 {
        expr.eval(&View {
            e: self,
            params,
            source: NONE16,
            target: NONE16,
        })
    }

    /// Whether the replication in progress has ended ([`Step::Ended`]).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The time now in the replication in progress.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// The number of events so far in the replication in progress.
    pub fn n_events(&self) -> u32 {
        self.n_events
    }

    /// The terminal event that ended the replication, as an index among the
    /// terminal event types (`None`: not ended by one).
    pub fn ended_by(&self) -> Option<usize> {
        self.ended_by
    }

    /// Writes the outcomes and metrics of a replication that has ended
    /// ([`Step::Ended`]), as [`Engine::run`] does.
    pub fn outputs(&mut self, params: &[f64], out: &mut [f64]) {
        self.finish(params, out);
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
            let compiled = &self.t.fast.outcomes[o];
            out[k] = match &outcome.kind {
                OutcomeKind::Numeric(_) => compiled[0].eval(&view),
                OutcomeKind::Categorical(cases) => {
                    let case = compiled
                        .iter()
                        .position(|w| w.eval(&view) != 0.0)
                        .unwrap_or(cases.len());
                    self.t.case_labels[o][case]
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
            let base = self.t.threshold_offsets[d];
            for j in 0..s.dyads[d].thresholds.len() {
                out[k] = self.above[base + j];
                k += 1;
            }
        }
    }
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
