//! The compiled scenario: every name resolved to an index, every expression
//! type-checked, every number validated. The engine reads only this.

use crate::expr::{ActorRef, Env, Expr, Scope, Statement};
use crate::rng::Dist;
use crate::time::TimeUnit;

/// Label of a replication that reached the horizon (no terminal event), in
/// the `terminal` column; no event may take it as its id.
pub const HORIZON: &str = "horizon";

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Unit of the time axis.
    pub time_unit: TimeUnit,
    /// Day number (since 1970-01-01) of time 0, if anchored to a date.
    pub start_day: Option<i64>,
    /// End of each replication.
    pub horizon: f64,
    /// Default master seed.
    pub seed: u64,
    /// Maximum number of events per replication.
    pub event_budget: u64,
    /// Parameters, in declaration order (alphabetical: TOML tables are unordered).
    pub params: Vec<Param>,
    /// Actors, in declaration order.
    pub actors: Vec<Actor>,
    /// Names for expressions (actors, variables, dyads, events, params).
    pub scope: Scope,
    /// Initial actor state, `initial_state[actor * n_vars + var]`.
    pub initial_state: Vec<f64>,
    /// Initial state values given as expressions, which replace their slot
    /// of `initial_state` when a replication starts (empty for a scenario
    /// of literal states).
    pub initial_exprs: Vec<InitialValue>,
    /// Tension dyads.
    pub dyads: Vec<Dyad>,
    /// Event types.
    pub events: Vec<EventType>,
    /// Exogenous scheduled events.
    pub schedule: Vec<ScheduleEntry>,
    /// Policy rules.
    pub rules: Vec<Rule>,
    /// `rules_on[event]`: the rules triggered by that event type, in declaration order.
    pub rules_on: Vec<Vec<u32>>,
    /// `rules_by_event[event]`: the same rules indexed by the trigger
    /// filter that can select them, so an event reaches only those whose
    /// filters can accept it.
    pub rules_by_event: Vec<super::dispatch::EventRules>,
    /// Hazards.
    pub hazards: Vec<Hazard>,
    /// Outcomes.
    pub outcomes: Vec<Outcome>,
    /// The random stream of each source, by name (see
    /// [`crate::rng::stream_id`]).
    pub streams: Streams,
    /// The history slots that expressions read (filtered and windowed
    /// `count`, `since`, `first`, `last`), by slot.
    pub histories: Vec<History>,
    /// `histories_on[event]`: the slots that follow that event type.
    pub histories_on: Vec<Vec<u32>>,
    /// Warnings found when the scenario loaded, each rendered as
    /// `file:line:col: warning: …` with its source line (an impact on a
    /// pair of actors with no tension, say); `validate` lists them.
    pub warnings: Vec<String>,
}

/// A history slot: the events it follows, and the windows `count` reads it
/// with (expressions of parameters; the longest decides what is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Which events.
    pub key: crate::expr::HistoryKey,
    /// The `W` of every `count(e, W)` that reads this slot.
    pub windows: Vec<crate::expr::Expr>,
}

/// The stream id of every source of randomness, index-aligned with
/// [`Scenario::schedule`], [`Scenario::rules`] and [`Scenario::hazards`]:
/// derived from each source's kind and name, not its position.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Streams {
    /// One per schedule entry (its jitter).
    pub schedule: Vec<u64>,
    /// One per rule.
    pub rules: Vec<u64>,
    /// One per hazard.
    pub hazards: Vec<u64>,
}

/// A named parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Default value.
    pub value: f64,
    /// Lower bound (`-inf` if none).
    pub min: f64,
    /// Upper bound (`inf` if none).
    pub max: f64,
    /// What it means.
    pub doc: String,
}

/// An actor.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    /// Identifier used in expressions and output.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A pair of actors with a tension level.
#[derive(Debug, Clone, PartialEq)]
pub struct Dyad {
    /// First actor.
    pub a: u16,
    /// Second actor.
    pub b: u16,
    /// Whether (a, b) and (b, a) are different dyads.
    pub directed: bool,
    /// Tension at time 0 (an expression of parameters).
    pub initial: Expr,
    /// Level tension relaxes toward (an expression of parameters).
    pub baseline: Expr,
    /// Half-life of the relaxation, `inf` for none (an expression of parameters).
    pub half_life: Expr,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Thresholds whose time-above is a built-in metric: the literal values
    /// (NaN where `threshold_exprs` has the value).
    pub thresholds: Vec<f64>,
    /// Per threshold: an expression of parameters giving its value at each
    /// point (`None`: the literal).
    pub threshold_exprs: Vec<Option<crate::expr::Expr>>,
    /// Per threshold: its name in `tension_A_B_above_X` (the literal as Rust
    /// prints it, or the parameter's name).
    pub threshold_labels: Vec<String>,
    /// `A_B`, used in metric names.
    pub label: String,
}

impl Dyad {
    /// (initial, baseline, half-life) for these parameter values, checked:
    /// initial and baseline within the range, half-life positive.
    pub fn values<E: Env>(&self, env: &E) -> Result<(f64, f64, f64), String> {
        let (initial, baseline, half_life) = (
            self.initial.eval(env),
            self.baseline.eval(env),
            self.half_life.eval(env),
        );
        let within = |x: f64| x.is_finite() && x >= self.lo && x <= self.hi;
        if !within(initial) || !within(baseline) {
            return Err(format!(
                "tension {}: initial {initial} and baseline {baseline} must be finite and within [{}, {}]",
                self.label, self.lo, self.hi
            ));
        }
        if half_life.is_nan() || half_life <= 0.0 {
            return Err(format!(
                "tension {}: half-life {half_life} must be positive",
                self.label
            ));
        }
        Ok((initial, baseline, half_life))
    }
}

/// An actor's initial state value given as an expression of parameters
/// and random draws, evaluated when each replication starts, from the
/// actor's own stream ([`crate::rng::stream_id::KIND_ACTOR`]).
#[derive(Debug, Clone)]
pub struct InitialValue {
    /// The actor's index.
    pub actor: u16,
    /// The slot in `initial_state` (`actor * n_vars + var`).
    pub slot: usize,
    /// The value.
    pub value: Expr,
    /// The actor's stream id.
    pub stream: u64,
}

/// A kind of event.
#[derive(Debug, Clone)]
pub struct EventType {
    /// Identifier.
    pub id: String,
    /// Description.
    pub label: String,
    /// CAMEO code, if given.
    pub cameo: Option<String>,
    /// Statements run when the event happens (the default impact, if any,
    /// last).
    pub effects: Vec<Statement>,
    /// The CAMEO default impact, when it applies: the event has a `cameo`
    /// code, the scenario a `goldstein_scale`, and the event no `effects`
    /// key. It is the last statement of `effects`.
    pub default_impact: Option<DefaultImpact>,
    /// Whether the event ends the replication.
    pub terminal: bool,
    /// A bookkeeping event (`hidden = true`): it happens and is counted, but
    /// `paths`, the CAMEO stream and the printed report leave it out.
    pub hidden: bool,
    /// Same-time tie-break (lower first), when given as an integer.
    pub priority: i32,
    /// The priority when given as an expression of parameters, evaluated
    /// once per parameter point (then `priority` is unused).
    pub priority_expr: Option<Expr>,
    /// Whether an effect draws random numbers (from the stream of the
    /// source that emitted the event).
    pub draws: bool,
}

/// The default impact of a CAMEO event: `tension(source, target) += delta`
/// with `delta = -goldstein × goldstein_scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultImpact {
    /// The change of tension.
    pub delta: f64,
    /// The Goldstein value of the event's CAMEO code.
    pub goldstein: f64,
    /// The scenario's `goldstein_scale`.
    pub scale: f64,
}

/// An exogenous event at a fixed time.
#[derive(Debug, Clone)]
pub struct ScheduleEntry {
    /// The instance's suffix (`[POL]`) when the entry comes from a template
    /// (`each`), else empty; part of its stream name.
    pub instance: String,
    /// Event type.
    pub event: u32,
    /// Time (unused when `at_expr` is given).
    pub at: f64,
    /// The time when given as an expression of parameters, with its text
    /// (the text names the entry's stream), evaluated once per parameter
    /// point.
    pub at_expr: Option<(Expr, String)>,
    /// Source actor.
    pub source: Option<u16>,
    /// Target actor.
    pub target: Option<u16>,
    /// Random offset added to `at`.
    pub jitter: Option<Delay>,
    /// What a jittered time outside `[0, horizon]` does: `false` (`clamp`,
    /// the default), it moves to the nearer edge; `true` (`censor`), the
    /// event does not happen.
    pub censor: bool,
}

/// A distribution whose parameters are expressions evaluated when it is drawn.
#[derive(Debug, Clone)]
pub struct Delay {
    /// Which family and parameterisation.
    pub kind: DelayKind,
    /// First parameter.
    pub p1: Expr,
    /// Second parameter (unused by one-parameter kinds).
    pub p2: Option<Expr>,
}

/// The family and parameterisation of a [`Delay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayKind {
    /// `fixed = x`.
    Fixed,
    /// `exponential = { mean }`.
    ExponentialMean,
    /// `exponential = { rate }`.
    ExponentialRate,
    /// `uniform = { min, max }`.
    Uniform,
    /// `lognormal = { median, sigma }`.
    LogNormalMedian,
    /// `lognormal = { mu, sigma }`.
    LogNormalMu,
    /// `gamma = { shape, scale }`.
    GammaScale,
    /// `gamma = { shape, mean }`.
    GammaMean,
    /// `weibull = { shape, scale }`.
    Weibull,
}

impl Delay {
    /// Evaluates the parameters and returns the distribution, or a message if a
    /// parameter is invalid (negative mean, NaN…).
    pub fn dist<E: Env>(&self, env: &E) -> Result<Dist, String> {
        let a = self.p1.eval(env);
        let b = self.p2.as_ref().map_or(f64::NAN, |e| e.eval(env));
        let dist = match self.kind {
            DelayKind::Fixed => Dist::Fixed(a),
            DelayKind::ExponentialMean => Dist::Exponential { mean: a },
            DelayKind::ExponentialRate => Dist::Exponential { mean: 1.0 / a },
            DelayKind::Uniform => Dist::Uniform { min: a, max: b },
            DelayKind::LogNormalMedian => Dist::LogNormal {
                mu: libm::log(a),
                sigma: b,
            },
            DelayKind::LogNormalMu => Dist::LogNormal { mu: a, sigma: b },
            DelayKind::GammaScale => Dist::Gamma { shape: a, scale: b },
            DelayKind::GammaMean => Dist::Gamma {
                shape: a,
                scale: b / a,
            },
            DelayKind::Weibull => Dist::Weibull { shape: a, scale: b },
        };
        dist.check()?;
        Ok(dist)
    }
}

/// A policy rule: when an event happens, maybe emit another after a delay.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Name, used in traces and errors.
    pub name: String,
    /// Whose policy.
    pub actor: u16,
    /// Triggering event types (empty for a `when_becomes` rule).
    pub on: Vec<u32>,
    /// `when_becomes`: the condition whose turning true triggers the rule
    /// (then `on` is empty and the trigger has no source or target).
    pub becomes: Option<Becomes>,
    /// Accepted trigger sources (`None`: any).
    pub from: Option<Vec<u16>>,
    /// Accepted trigger targets (`None`: any).
    pub to: Option<Vec<u16>>,
    /// `involving`: accepted actors in either role, the trigger's source or
    /// its target (`None`: any; never given together with `from`/`to`).
    pub involving: Option<Vec<u16>>,
    /// Condition, at trigger time and (with `recheck`) when the delay elapses.
    pub when: Option<Expr>,
    /// Probability of acting.
    pub prob: Option<Expr>,
    /// Delay before emitting (`None`: 0).
    pub delay: Option<Delay>,
    /// The event emitted (with `choose`: that of the first alternative).
    pub emit_event: u32,
    /// Its source.
    pub emit_source: ActorRef,
    /// Its target.
    pub emit_target: Option<ActorRef>,
    /// `emit.target` naming a group: the emission is one event to each of
    /// these actors, in order, instead of one to `emit_target` (empty
    /// otherwise).
    pub emit_targets: Vec<u16>,
    /// `choose`: the alternatives, exactly one of which is emitted (empty
    /// for a rule with `emit`).
    pub choose: Vec<Alternative>,
    /// Re-check `when` when the delay elapses.
    pub recheck: bool,
    /// Act at most once per replication.
    pub once: bool,
    /// Minimum time between two emissions (when given as a number).
    pub cooldown: f64,
    /// The cooldown when given as an expression of parameters, evaluated
    /// once per parameter point (then `cooldown` is unused).
    pub cooldown_expr: Option<Expr>,
    /// The rule's own priority when given as an integer (see
    /// `priority_explicit`).
    pub priority: i32,
    /// The rule's priority when given as an expression of parameters.
    pub priority_expr: Option<Expr>,
    /// Whether the rule gives its own priority; if not, each emitted event
    /// has its type's priority (at the parameter point).
    pub priority_explicit: bool,
}

/// A `when_becomes` condition: it reads only parameters, actor state and
/// unwindowed event histories, so it can change only when an event happens.
#[derive(Debug, Clone)]
pub struct Becomes {
    /// The boolean condition.
    pub condition: Expr,
    /// Its text, for `describe`.
    pub text: String,
}

/// One alternative of a `choose`.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The event emitted.
    pub event: u32,
    /// Its source (`None` for a hazard's alternative without one).
    pub source: Option<ActorRef>,
    /// Its target.
    pub target: Option<ActorRef>,
    /// Its weight: chosen with probability weight / sum of weights.
    pub weight: Expr,
    /// A rule alternative's own delay (`None`: the rule's).
    pub delay: Option<Delay>,
}

/// A spontaneous event with a state-dependent rate.
#[derive(Debug, Clone)]
pub struct Hazard {
    /// Name, used in errors.
    pub name: String,
    /// The event emitted.
    pub event: u32,
    /// Its source.
    pub source: Option<u16>,
    /// Its target.
    pub target: Option<u16>,
    /// Rate (events per time unit).
    pub rate: Expr,
    /// A declared upper bound on the rate, checked at run time.
    pub max_rate: Option<Expr>,
    /// `choose`: the alternatives, one of which each accepted candidate
    /// emits (empty for a hazard with `event`). With `choose`, `event`,
    /// `source` and `target` above are the first alternative's.
    pub choose: Vec<Alternative>,
}

/// A named result of a replication.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Column name.
    pub name: String,
    /// How it is computed.
    pub kind: OutcomeKind,
}

/// Numeric or categorical.
#[derive(Debug, Clone)]
pub enum OutcomeKind {
    /// A number.
    Numeric(Expr),
    /// The label of the first case whose condition holds (`other` if none).
    Categorical(Vec<(String, Expr)>),
}

impl Scenario {
    /// Number of actor state variables.
    pub fn n_vars(&self) -> usize {
        self.scope.vars.len()
    }

    /// Index of a parameter by name.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// The parameter values with `overrides` applied, each checked against its
    /// declared bounds; a parameter given twice is refused
    /// ([`crate::scenario::ParamError::Twice`]), never silently the last value.
    pub fn param_values(
        &self,
        overrides: &[(String, f64)],
    ) -> Result<Vec<f64>, crate::scenario::ParamError> {
        use crate::scenario::ParamError;
        let mut values: Vec<f64> = self.params.iter().map(|p| p.value).collect();
        for (name, value) in overrides {
            let Some(i) = self.param_index(name) else {
                return Err(ParamError::Unknown {
                    name: name.clone(),
                    nearest: crate::diag::suggest(
                        name,
                        self.params.iter().map(|p| p.name.as_str()),
                    )
                    .map(String::from),
                });
            };
            if overrides.iter().filter(|(n, _)| n == name).nth(1).is_some() {
                return Err(ParamError::Twice { name: name.clone() });
            }
            let p = &self.params[i];
            if !value.is_finite() || *value < p.min || *value > p.max {
                return Err(ParamError::OutOfBounds {
                    name: name.clone(),
                    value: *value,
                    min: p.min,
                    max: p.max,
                });
            }
            values[i] = *value;
        }
        Ok(values)
    }

    /// Labels of a categorical outcome, in declaration order, then `other`.
    pub fn outcome_labels(&self, outcome: usize) -> Vec<&str> {
        match &self.outcomes[outcome].kind {
            OutcomeKind::Numeric(_) => Vec::new(),
            OutcomeKind::Categorical(cases) => {
                let mut labels: Vec<&str> = Vec::new();
                for (l, _) in cases {
                    if !labels.contains(&l.as_str()) {
                        labels.push(l);
                    }
                }
                if !labels.contains(&"other") {
                    labels.push("other");
                }
                labels
            }
        }
    }

    /// For each label of [`Scenario::outcome_labels`], whether a
    /// replication can end with it: cases after one whose condition is the
    /// constant `true` are never reached (nor is `other`, the label of no
    /// case holding), and a case whose condition is the constant `false`
    /// never holds. Empty for a numeric outcome.
    pub fn possible_labels(&self, outcome: usize) -> Vec<bool> {
        let labels = self.outcome_labels(outcome);
        let OutcomeKind::Categorical(cases) = &self.outcomes[outcome].kind else {
            return Vec::new();
        };
        let mut possible = vec![false; labels.len()];
        let mut reached_end = true;
        for (label, when) in cases {
            let constant = when.constant();
            if constant != Some(0.0) {
                if let Some(i) = labels.iter().position(|l| l == label) {
                    possible[i] = true;
                }
            }
            if constant.is_some_and(|c| c != 0.0) {
                reached_end = false;
                break;
            }
        }
        if reached_end {
            if let Some(i) = labels.iter().position(|l| *l == "other") {
                possible[i] = true;
            }
        }
        possible
    }

    /// The event types that the conditions of the cases labelled `label`
    /// of a categorical outcome read (empty for `other`, a numeric outcome,
    /// or conditions that read no event).
    pub fn case_events(&self, outcome: usize, label: &str) -> Vec<u32> {
        let OutcomeKind::Categorical(cases) = &self.outcomes[outcome].kind else {
            return Vec::new();
        };
        let mut events: Vec<u32> = (cases.iter())
            .filter(|(l, _)| l == label)
            .flat_map(|(_, when)| {
                when.events_read(|slot| {
                    self.histories
                        .get(slot as usize)
                        .map_or(u32::MAX, |h| h.key.event)
                })
            })
            .filter(|&e| (e as usize) < self.events.len())
            .collect();
        events.sort_unstable();
        events.dedup();
        events
    }

    /// Whether an event type is bookkeeping: hidden, or one that changes
    /// nothing (no effect on state or tension), ends nothing (not
    /// terminal) and is no act in the world (no CAMEO code), so that it
    /// only triggers rules (a periodic review, a timer).
    pub fn is_bookkeeping(&self, event: u32) -> bool {
        let e = &self.events[event as usize];
        e.hidden || (e.effects.is_empty() && !e.terminal && e.cameo.is_none())
    }

    /// The kind of quantity a numeric outcome computes (a moment, a length
    /// of time, a count, 0/1, a number), read from its expression (see
    /// [`crate::expr::Quantity`]); `None` for a categorical outcome.
    pub fn outcome_quantity(&self, outcome: usize) -> Option<crate::expr::Quantity> {
        match &self.outcomes[outcome].kind {
            OutcomeKind::Numeric(e) => Some(e.quantity()),
            OutcomeKind::Categorical(_) => None,
        }
    }
}
