//! The rule dispatch index, built once when the scenario loads: per event
//! type, the rules it triggers split by the trigger filter that can select
//! them (none, `to`, `from`, `involving`) and, for the filtered ones, keyed
//! by the actor the filter accepts. An event then reaches only the rules
//! whose filters can accept its source and target, in declaration order.

/// The trigger filters of one rule, as the index reads them: the actors its
/// `to`, `from` and `involving` accept (each `None` when not given).
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters<'a> {
    /// `to = …`.
    pub to: Option<&'a [u16]>,
    /// `from = …`.
    pub from: Option<&'a [u16]>,
    /// `involving = …`.
    pub involving: Option<&'a [u16]>,
}

/// Rule lists keyed by actor: [`ByActor::get`] gives the rules listed
/// under an actor, in declaration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ByActor {
    /// `offsets[a]..offsets[a + 1]` is actor `a`'s range of `rules`
    /// (empty when no rule is listed under any actor).
    offsets: Vec<u32>,
    rules: Vec<u32>,
}

impl ByActor {
    /// From `(actor, rule)` pairs in declaration order.
    fn new(n_actors: usize, entries: &[(u16, u32)]) -> ByActor {
        if entries.is_empty() {
            return ByActor::default();
        }
        let mut offsets = vec![0u32; n_actors + 1];
        for &(a, _) in entries {
            offsets[usize::from(a) + 1] += 1;
        }
        for a in 0..n_actors {
            offsets[a + 1] += offsets[a];
        }
        let mut next = offsets.clone();
        let mut rules = vec![0; entries.len()];
        for &(a, r) in entries {
            let slot = &mut next[usize::from(a)];
            rules[*slot as usize] = r;
            *slot += 1;
        }
        ByActor { offsets, rules }
    }

    /// The rules listed under `actor` (none for an actor out of range, such
    /// as the "no actor" marker `u16::MAX`).
    #[inline]
    pub fn get(&self, actor: u16) -> &[u32] {
        let a = usize::from(actor);
        match (self.offsets.get(a), self.offsets.get(a + 1)) {
            (Some(&lo), Some(&hi)) => &self.rules[lo as usize..hi as usize],
            _ => &[],
        }
    }
}

/// The rules one event type triggers, by the filter that can select them.
/// A rule is in exactly one of the four, once per time the event type is
/// among its triggers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventRules {
    /// Rules without a trigger filter.
    pub any: Vec<u32>,
    /// Rules with `to` (and perhaps `from`), under each actor `to` accepts.
    pub by_target: ByActor,
    /// Rules with `from` and no `to`, under each actor `from` accepts.
    pub by_source: ByActor,
    /// Rules with `involving`, under each actor it accepts.
    pub by_either: ByActor,
}

impl EventRules {
    /// Whether every rule this event type triggers is in [`EventRules::any`].
    pub fn unfiltered(&self) -> bool {
        self.by_target.rules.is_empty()
            && self.by_source.rules.is_empty()
            && self.by_either.rules.is_empty()
    }
}

/// `rules_by_event[event]`: the index of the rules each event type
/// triggers. Built from `rules_on` (so a rule listed twice is triggered
/// twice, as it is there).
pub fn rules_by_event(
    rules: &[Filters<'_>],
    rules_on: &[Vec<u32>],
    n_actors: usize,
) -> Vec<EventRules> {
    rules_on
        .iter()
        .map(|on| {
            let mut any = Vec::new();
            let (mut to, mut from, mut either) = (Vec::new(), Vec::new(), Vec::new());
            for &r in on {
                let rule = &rules[r as usize];
                let (list, actors) = match (rule.to, rule.from, rule.involving) {
                    (Some(a), _, _) => (&mut to, a),
                    (None, Some(a), _) => (&mut from, a),
                    (None, None, Some(a)) => (&mut either, a),
                    (None, None, None) => {
                        any.push(r);
                        continue;
                    }
                };
                let mut distinct = actors.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                list.extend(
                    (distinct.into_iter())
                        .filter(|&a| usize::from(a) < n_actors)
                        .map(|a| (a, r)),
                );
            }
            EventRules {
                any,
                by_target: ByActor::new(n_actors, &to),
                by_source: ByActor::new(n_actors, &from),
                by_either: ByActor::new(n_actors, &either),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_declaration_order_under_each_actor() {
        let by = ByActor::new(3, &[(2, 0), (0, 1), (2, 4), (0, 7)]);
        assert_eq!(by.get(0), &[1, 7]);
        assert_eq!(by.get(1), &[] as &[u32]);
        assert_eq!(by.get(2), &[0, 4]);
        assert_eq!(by.get(u16::MAX), &[] as &[u32]);
        assert_eq!(ByActor::new(3, &[]).get(0), &[] as &[u32]);
    }
}
