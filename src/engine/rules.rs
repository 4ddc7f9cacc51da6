//! Rules: a triggering event reaches a rule (filters, its draw, `once`,
//! cooldown, `when`, `prob`, `choose`, delay) and schedules a firing; a
//! firing re-checks and emits. Also the weighted pick among `choose`
//! alternatives that hazards use too.

use super::queue::{Action, Entry};
use super::view::View;
use super::{Engine, Origin, SimError, TraceEvent, NONE16};
use crate::scenario::Alternative;

impl Engine<'_> {
    /// The event `e` from `source` to `target` reaches the rules it
    /// triggers whose filters can accept it ([`crate::scenario::EventRules`]),
    /// in declaration order: the four lists are merged by rule index.
    /// [`Engine::trigger`] re-checks the filters, so the index only skips
    /// rules that would return at once, before their draw.
    pub(super) fn trigger_rules(
        &mut self,
        params: &[f64],
        e: usize,
        source: u16,
        target: u16,
        seq: u32,
    ) -> Result<(), SimError> {
        let index = &self.s.rules_by_event[e];
        if index.unfiltered() {
            for &r in &index.any {
                self.trigger(params, r, source, target, seq)?;
            }
            return Ok(());
        }
        let lists = [
            index.any.as_slice(),
            index.by_target.get(target),
            index.by_source.get(source),
        ];
        // `involving` accepts either role: a rule listed under both the
        // source and the target is one trigger, taken once.
        let either_source = index.by_either.get(source);
        let either_target = if target == source {
            &[]
        } else {
            index.by_either.get(target)
        };
        if either_source.is_empty() && either_target.is_empty() {
            // The common case: lists without `involving` rules, disjoint,
            // most often one or two of them non-empty.
            let mut non_empty = lists.into_iter().filter(|l| !l.is_empty());
            let (first, second, third) = (non_empty.next(), non_empty.next(), non_empty.next());
            match (first, second, third) {
                (None, _, _) => return Ok(()),
                (Some(only), None, _) => {
                    for &r in only {
                        self.trigger(params, r, source, target, seq)?;
                    }
                    return Ok(());
                }
                (Some(a), Some(b), None) => {
                    let (mut i, mut j) = (0, 0);
                    while i < a.len() || j < b.len() {
                        let r = if j == b.len() || (i < a.len() && a[i] < b[j]) {
                            i += 1;
                            a[i - 1]
                        } else {
                            j += 1;
                            b[j - 1]
                        };
                        self.trigger(params, r, source, target, seq)?;
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        let mut at = [0usize; 5];
        let head = |list: &[u32], i: usize| list.get(i).copied().unwrap_or(u32::MAX);
        loop {
            let heads = [
                head(lists[0], at[0]),
                head(lists[1], at[1]),
                head(lists[2], at[2]),
                head(either_source, at[3]),
                head(either_target, at[4]),
            ];
            let r = heads.iter().copied().min().unwrap_or(u32::MAX);
            if r == u32::MAX {
                return Ok(());
            }
            // A rule is in one list only (the two `involving` lists aside),
            // once per time its `on` names the event: advance past one copy.
            match heads.iter().position(|&h| h == r) {
                Some(k @ 0..=2) => at[k] += 1,
                _ => {
                    at[3] += usize::from(heads[3] == r);
                    at[4] += usize::from(heads[4] == r);
                }
            }
            self.trigger(params, r, source, target, seq)?;
        }
    }

    /// A rule sees its triggering event.
    pub(super) fn trigger(
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
        if let Some(w) = &self.t.fast.rule_when[ri] {
            if w.eval(&view) == 0.0 {
                return Ok(());
            }
        }
        if let Some(p) = &self.t.fast.rule_prob[ri] {
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
                    // The point's distribution, by copy (no clone of the
                    // `Result`).
                    Some(Ok(cached)) => *cached,
                    Some(Err(m)) => {
                        return Err(self.invalid(format!("rule `{}`: {m}", rule.name)));
                    }
                    None => d
                        .dist(&view)
                        .map_err(|m| self.invalid(format!("rule `{}`: {m}", rule.name)))?,
                };
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
    pub(super) fn fire(
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
            if let Some(w) = &self.t.fast.rule_when[ri] {
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
}

/// The alternative of a `choose` that the uniform draw `v` in `[0, 1)`
/// selects: alternative `i` when `v · W` falls in `[W_{i-1}, W_i)`, with
/// `W_i` the sum of the first `i + 1` weights (in file order) and `W` their
/// total, so each is chosen with probability weight / total. The error
/// names weights that are negative, NaN or infinite, or all zero.
pub(super) fn pick(
    alternatives: &[Alternative],
    view: &View<'_, '_>,
    v: f64,
) -> Result<usize, String> {
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
