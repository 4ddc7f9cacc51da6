//! Per-scenario tables the engine builds once from the [`Scenario`] and
//! only reads while running: where each dyad's thresholds sit in the
//! time-above accumulators, each outcome's case labels, each event type's
//! index among terminal events, the hazards each event type re-bounds and
//! what each hazard's rate reads.

use crate::expr::{ActorRef, Input, Lvalue};
use crate::scenario::{OutcomeKind, Scenario};

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

/// For each event type, the hazards to re-bound when it happens: those whose
/// rate or `max_rate` reads the event's count or times, or anything its
/// effects may write (a `source`/`target` effect may write any actor's
/// variable or any dyad), each with whether the event may change an input
/// other than a declared tension (a count, a time, a state variable, or a
/// tension read through `tension_between`). Hazards reading
/// `source`/`target` themselves (which the compiler does not allow today)
/// would be re-bounded on every event.
pub(super) fn rebound_on(s: &Scenario) -> Vec<Vec<(u32, bool)>> {
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
