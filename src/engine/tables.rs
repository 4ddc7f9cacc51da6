//! Per-scenario tables the engine builds once from the [`Scenario`] and
//! only reads while running: where each dyad's thresholds sit in the
//! time-above accumulators, each outcome's case labels, each event type's
//! index among terminal events, the hazards each event type re-bounds and
//! what each hazard's rate reads. [`Static`] holds them all: an engine and
//! every snapshot cloned from it share one copy.

use super::fast::{self, Fast};
use crate::expr::{ActorRef, Input, Lvalue};
use crate::scenario::{OutcomeKind, Scenario};

/// The tables of one scenario, built once in `Engine::new` and never
/// written: the static part of an engine, shared (behind an `Arc`) by the
/// engine and its clones, so that a snapshot copies only the state.
#[derive(Debug)]
pub(super) struct Static {
    /// Per dyad, where its thresholds start in the time-above
    /// accumulators, then their total ([`threshold_offsets`]).
    pub(super) threshold_offsets: Vec<usize>,
    /// Per outcome: the label index of each case, then of `other`.
    pub(super) case_labels: Vec<Vec<f64>>,
    /// `terminal_index[event]`: its index among terminal event types.
    pub(super) terminal_index: Vec<usize>,
    /// The `when_becomes` rules, in declaration order (empty: none).
    pub(super) becomes_rules: Vec<u32>,
    /// `becomes_on[event]`: the `when_becomes` rules to re-evaluate after it.
    pub(super) becomes_on: Vec<Vec<u32>>,
    /// Per event type, the hazards whose rate (or `max_rate`) reads
    /// something that event may change, as bit sets: those it may change
    /// through something other than a tension the rate reads, and the
    /// others. Only these are re-bounded when it happens, in declaration
    /// order, and the others only if not bounded over their tensions' ranges.
    pub(super) rebound: Rebound,
    /// Per hazard: the dyads its rate reads (their half-lives cap its window).
    pub(super) hazard_dyads: Vec<Vec<u32>>,
    /// Per hazard: whether its rate reads the time (`t`, `since`).
    pub(super) hazard_reads_time: Vec<bool>,
    /// The expressions evaluated on the hot path, compiled to closures.
    pub(super) fast: Compiled,
}

/// The expressions the engine evaluates at every event, candidate and
/// replication end, compiled to closures ([`fast`]); each gives the bits of
/// the expression it was compiled from.
#[derive(Debug)]
pub(super) struct Compiled {
    /// Per rule: its `when`.
    pub(super) rule_when: Vec<Option<Fast>>,
    /// Per rule: its `prob`.
    pub(super) rule_prob: Vec<Option<Fast>>,
    /// Per hazard: its rate.
    pub(super) hazard_rate: Vec<Fast>,
    /// Per hazard: its bound expression (`max_rate`, else the rate).
    pub(super) hazard_bound: Vec<Fast>,
    /// `effect_offset[event]`: the index of the event's first effect in
    /// `effects`.
    pub(super) effect_offset: Vec<usize>,
    /// The value of every effect of every event, in order.
    pub(super) effects: Vec<Fast>,
    /// Per outcome: its value (numeric) or its cases' conditions
    /// (categorical), in order.
    pub(super) outcomes: Vec<Vec<Fast>>,
}

impl Compiled {
    fn new(scenario: &Scenario) -> Compiled {
        let n_vars = scenario.n_vars();
        let c = |e: &crate::expr::Expr| fast::compile(e, n_vars);
        let mut effect_offset = Vec::with_capacity(scenario.events.len());
        let mut effects = Vec::new();
        for event in &scenario.events {
            effect_offset.push(effects.len());
            effects.extend(event.effects.iter().map(|st| c(&st.value)));
        }
        Compiled {
            rule_when: (scenario.rules.iter())
                .map(|r| r.when.as_ref().map(c))
                .collect(),
            rule_prob: (scenario.rules.iter())
                .map(|r| r.prob.as_ref().map(c))
                .collect(),
            hazard_rate: scenario.hazards.iter().map(|h| c(&h.rate)).collect(),
            hazard_bound: (scenario.hazards.iter())
                .map(|h| c(h.max_rate.as_ref().unwrap_or(&h.rate)))
                .collect(),
            effect_offset,
            effects,
            outcomes: (scenario.outcomes.iter())
                .map(|o| match &o.kind {
                    OutcomeKind::Numeric(e) => vec![c(e)],
                    OutcomeKind::Categorical(cases) => cases.iter().map(|(_, w)| c(w)).collect(),
                })
                .collect(),
        }
    }

    /// The compiled value of effect `k` of event `event`.
    #[inline]
    pub(super) fn effect(&self, event: usize, k: usize) -> &Fast {
        &self.effects[self.effect_offset[event] + k]
    }
}

impl Static {
    pub(super) fn new(scenario: &Scenario) -> Static {
        Static {
            threshold_offsets: threshold_offsets(scenario),
            case_labels: case_labels(scenario),
            terminal_index: terminal_index(scenario),
            becomes_rules: (0..scenario.rules.len() as u32)
                .filter(|&r| scenario.rules[r as usize].becomes.is_some())
                .collect(),
            becomes_on: super::becomes::becomes_on(scenario),
            rebound: Rebound::new(scenario),
            hazard_dyads: hazard_dyads(scenario),
            hazard_reads_time: hazard_reads_time(scenario),
            fast: Compiled::new(scenario),
        }
    }
}

/// Per dyad, where its thresholds start in the time-above accumulators, then
/// their total.
pub(super) fn threshold_offsets(scenario: &Scenario) -> Vec<usize> {
    let mut threshold_offsets = Vec::with_capacity(scenario.dyads.len() + 1);
    let mut offset = 0;
    for d in &scenario.dyads {
        threshold_offsets.push(offset);
        offset += d.thresholds.len();
    }
    threshold_offsets.push(offset);
    threshold_offsets
}

/// Per hazard: the dyads its rate or `max_rate` reads, in first-read order.
pub(super) fn hazard_dyads(scenario: &Scenario) -> Vec<Vec<u32>> {
    scenario
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
        .collect()
}

/// Per hazard: whether its rate or `max_rate` reads the time.
pub(super) fn hazard_reads_time(scenario: &Scenario) -> Vec<bool> {
    scenario
        .hazards
        .iter()
        .map(|h| h.rate.reads().time || h.max_rate.as_ref().is_some_and(|m| m.reads().time))
        .collect()
}

/// Per outcome: the label index of each case, then of `other` (empty for a
/// numeric outcome).
pub(super) fn case_labels(scenario: &Scenario) -> Vec<Vec<f64>> {
    (0..scenario.outcomes.len())
        .map(|o| match &scenario.outcomes[o].kind {
            OutcomeKind::Numeric(_) => Vec::new(),
            OutcomeKind::Categorical(cases) => {
                let labels = scenario.outcome_labels(o);
                let index = |l: &str| labels.iter().position(|x| *x == l).unwrap_or(0) as f64;
                cases
                    .iter()
                    .map(|(l, _)| index(l))
                    .chain([index("other")])
                    .collect()
            }
        })
        .collect()
}

/// Per event type: its index among terminal event types (the count of
/// terminal types declared before it).
pub(super) fn terminal_index(scenario: &Scenario) -> Vec<usize> {
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
}

/// [`rebound_on`] as bit sets over hazards, per event type: those to
/// re-bound whatever their bound (`beyond`), and those to re-bound only when
/// not bounded over their tensions' ranges (`tension`).
#[derive(Debug, Clone)]
pub(super) struct Rebound {
    /// Words per event type.
    words: usize,
    beyond: Vec<u64>,
    tension: Vec<u64>,
    /// Per event type: whether it re-bounds any hazard.
    pub(super) any: Vec<bool>,
}

impl Rebound {
    pub(super) fn new(s: &Scenario) -> Rebound {
        let words = s.hazards.len().div_ceil(64);
        let lists = rebound_on(s);
        let mut beyond = vec![0u64; words * lists.len()];
        let mut tension = vec![0u64; words * lists.len()];
        for (e, list) in lists.iter().enumerate() {
            for &(h, beyond_tension) in list {
                let (w, bit) = (e * words + h as usize / 64, 1u64 << (h % 64));
                if beyond_tension {
                    beyond[w] |= bit;
                } else {
                    tension[w] |= bit;
                }
            }
        }
        Rebound {
            words,
            beyond,
            tension,
            any: lists.iter().map(|l| !l.is_empty()).collect(),
        }
    }

    /// Word `w` of event type `e`'s two sets: (beyond, tension).
    #[inline]
    pub(super) fn words(&self, e: usize, w: usize) -> (u64, u64) {
        let k = e * self.words + w;
        (self.beyond[k], self.tension[k])
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
