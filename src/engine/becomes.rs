//! `when_becomes` rules: a rule triggered when its condition turns from
//! false to true.
//!
//! A condition reads only parameters, actor state and unwindowed event
//! histories (the scenario compiler refuses `t`, `since`, windows and
//! tensions), so its value can change only when an event happens, and only
//! when that event's type is one it counts or its effects write a state
//! variable it reads. [`becomes_on`] lists, per event type, the rules to
//! re-evaluate; after such an event each is evaluated and compared with its
//! previous value, so every crossing is seen at the moment it happens. A
//! scenario without `when_becomes` has empty lists and does no work.

use super::{Engine, SimError, View, NONE16};
use crate::expr::{ActorRef, Input, Lvalue};
use crate::scenario::Scenario;

/// `becomes_on[event]`: the `when_becomes` rules (by index, in declaration
/// order) whose condition reads something that event type may change.
pub(super) fn becomes_on(s: &Scenario) -> Vec<Vec<u32>> {
    let rules: Vec<u32> = (0..s.rules.len() as u32)
        .filter(|&r| s.rules[r as usize].becomes.is_some())
        .collect();
    if rules.is_empty() {
        return vec![Vec::new(); s.events.len()];
    }
    (s.events.iter().enumerate())
        .map(|(e, event)| {
            let writes: Vec<(Option<u16>, u32)> = (event.effects.iter())
                .filter_map(|st| match st.target {
                    Lvalue::State { actor, var, .. } => Some((
                        match actor {
                            ActorRef::Fixed(a) => Some(a),
                            _ => None,
                        },
                        var,
                    )),
                    Lvalue::Tension { .. } => None,
                })
                .collect();
            let affects = |input: Input| match input {
                Input::Event(x) => x as usize == e,
                Input::History(h) => s.histories[h as usize].key.event as usize == e,
                Input::State(ActorRef::Fixed(a), v) => {
                    (writes.iter()).any(|(wa, wv)| *wv == v && wa.is_none_or(|wa| wa == a))
                }
                Input::State(..) => true,
                Input::Tension(_) | Input::TensionBetween => false,
            };
            (rules.iter().copied())
                .filter(|&r| {
                    let mut hit = false;
                    if let Some(b) = &s.rules[r as usize].becomes {
                        b.condition.for_each_input(|i| hit |= affects(i));
                    }
                    hit
                })
                .collect()
        })
        .collect()
}

impl Engine<'_> {
    /// Records every `when_becomes` condition's value in the initial state.
    /// A condition already true at time 0 has not *become* true: it
    /// triggers its rule only after it turns false and then true again.
    pub(super) fn reset_becomes(&mut self, params: &[f64]) {
        for k in 0..self.t.becomes_rules.len() {
            let r = self.t.becomes_rules[k] as usize;
            let now = self.becomes_value(params, r);
            self.becomes_was[r] = now;
        }
    }

    /// After event type `e` (sequence number `seq`) has happened: triggers,
    /// in declaration order, every rule whose condition it turned true.
    pub(super) fn check_becomes(
        &mut self,
        params: &[f64],
        e: usize,
        seq: u32,
    ) -> Result<(), SimError> {
        for k in 0..self.t.becomes_on[e].len() {
            let r = self.t.becomes_on[e][k];
            let now = self.becomes_value(params, r as usize);
            let was = std::mem::replace(&mut self.becomes_was[r as usize], now);
            if now && !was {
                self.trigger(params, r, NONE16, NONE16, seq)?;
            }
        }
        Ok(())
    }

    fn becomes_value(&self, params: &[f64], r: usize) -> bool {
        let Some(b) = &self.s.rules[r].becomes else {
            return false;
        };
        let view = View {
            e: self,
            params,
            source: NONE16,
            target: NONE16,
        };
        b.condition.eval(&view) != 0.0
    }
}
