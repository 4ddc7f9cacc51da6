//! The columns one replication produces: the scenario's outcomes, then the
//! built-in metrics, in a fixed documented order, each with the range of
//! values it can take (what summaries keep their intervals inside).

use crate::expr::{ActorRef, Interval, IntervalEnv, Type};
use crate::scenario::{OutcomeKind, Scenario, HORIZON};

/// Whether a column holds numbers or category labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// A number.
    Numeric,
    /// One of these labels; the replication stores the label's index.
    Categorical(Vec<String>),
}

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name in `runs.csv`.
    pub name: String,
    /// Its kind.
    pub kind: ColumnKind,
    /// The values a numeric column can take (a sound enclosure, possibly
    /// infinite; `[0, inf]` for a count); [`Interval::ENTIRE`] when nothing
    /// is known and for categorical columns. A summary never prints an
    /// interval outside it.
    pub range: Interval,
}

/// The columns, in order: outcomes (declaration order); `end_time`, `n_events`,
/// `terminal`; `count_<event>` per event type; per dyad `tension_<A>_<B>_final`,
/// `_peak` and `_above_<x>` per threshold.
///
/// Ranges: an outcome's is its expression's interval value over every state
/// a replication can end in (parameters within their bounds, time in
/// `[0, horizon]`, tensions in range, counts `>= 0`, boolean state 0 or 1); `end_time` and time above a
/// threshold lie in `[0, horizon]`, `n_events` and counts in `[0, inf]`,
/// final and peak tension in the dyad's declared range.
pub fn columns(s: &Scenario) -> Vec<Column> {
    let num = |name: String, range: Interval| Column {
        name,
        kind: ColumnKind::Numeric,
        range,
    };
    let counts = Interval::new(0.0, f64::INFINITY);
    let times = Interval::new(0.0, s.horizon);
    let outcome_box = OutcomeBox(s);
    let mut cols = Vec::new();
    for (i, o) in s.outcomes.iter().enumerate() {
        cols.push(match &o.kind {
            OutcomeKind::Numeric(e) => num(o.name.clone(), e.eval_interval(&outcome_box)),
            OutcomeKind::Categorical(_) => Column {
                name: o.name.clone(),
                kind: ColumnKind::Categorical(
                    s.outcome_labels(i).into_iter().map(String::from).collect(),
                ),
                range: Interval::ENTIRE,
            },
        });
    }
    cols.push(num("end_time".into(), times));
    cols.push(num("n_events".into(), counts));
    cols.push(Column {
        name: "terminal".into(),
        kind: ColumnKind::Categorical(terminal_labels(s)),
        range: Interval::ENTIRE,
    });
    cols.extend(
        s.events
            .iter()
            .map(|e| num(format!("count_{}", e.id), counts)),
    );
    for d in &s.dyads {
        let tension = Interval::new(d.lo, d.hi);
        cols.push(num(format!("tension_{}_final", d.label), tension));
        cols.push(num(format!("tension_{}_peak", d.label), tension));
        for th in &d.threshold_labels {
            cols.push(num(format!("tension_{}_above_{}", d.label, th), times));
        }
    }
    cols
}

/// Every state a replication can end in, as intervals: a parameter within
/// its declared bounds (any point's value is checked against them), the time
/// in `[0, horizon]`, a tension in its dyad's range (between
/// computed actors anything: NaN when they have no dyad), a boolean state variable in
/// `[0, 1]` and a numeric one anywhere, a count in `[0, inf]`, the first
/// time of an event in `[0, inf]` (`inf` when it never happened) and the
/// last in `[-inf, horizon]` (`-inf` likewise).
struct OutcomeBox<'a>(&'a Scenario);

impl IntervalEnv for OutcomeBox<'_> {
    fn param(&self, idx: u32) -> Interval {
        let p = &self.0.params[idx as usize];
        Interval::new(p.min, p.max)
    }
    fn time(&self) -> Interval {
        Interval::new(0.0, self.0.horizon)
    }
    fn tension(&self, dyad: u32) -> Interval {
        let d = &self.0.dyads[dyad as usize];
        Interval::new(d.lo, d.hi)
    }
    /// NaN when the two actors have no dyad, so anything.
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
        Interval::ENTIRE
    }
    fn state(&self, _: ActorRef, var: u32) -> Interval {
        match self.0.scope.vars[var as usize].ty {
            Type::Bool => Interval::EITHER,
            Type::Num => Interval::ENTIRE,
        }
    }
    fn count(&self, _: u32) -> Interval {
        Interval::new(0.0, f64::INFINITY)
    }
    fn first(&self, _: u32) -> Interval {
        Interval::new(0.0, f64::INFINITY)
    }
    fn last(&self, _: u32) -> Interval {
        Interval::new(f64::NEG_INFINITY, self.0.horizon)
    }
    fn hist_first(&self, _: u32) -> Interval {
        Interval::new(0.0, f64::INFINITY)
    }
    fn hist_last(&self, _: u32) -> Interval {
        Interval::new(f64::NEG_INFINITY, self.0.horizon)
    }
}

/// Labels of the `terminal` column: each terminal event type, then `horizon`.
pub fn terminal_labels(s: &Scenario) -> Vec<String> {
    let mut labels: Vec<String> = s
        .events
        .iter()
        .filter(|e| e.terminal)
        .map(|e| e.id.clone())
        .collect();
    labels.push(HORIZON.to_string());
    labels
}
