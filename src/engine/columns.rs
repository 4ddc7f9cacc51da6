//! The columns one replication produces: the scenario's outcomes, then the
//! built-in metrics, in a fixed documented order.

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name in `runs.csv`.
    pub name: String,
    /// Its kind.
    pub kind: ColumnKind,
}

/// The columns, in order: outcomes (declaration order); `end_time`, `n_events`,
/// `terminal`; `count_<event>` per event type; per dyad `tension_<A>_<B>_final`,
/// `_peak` and `_above_<x>` per threshold.
pub fn columns(s: &Scenario) -> Vec<Column> {
    let num = |name: String| Column {
        name,
        kind: ColumnKind::Numeric,
    };
    let mut cols = Vec::new();
    for (i, o) in s.outcomes.iter().enumerate() {
        cols.push(match &o.kind {
            OutcomeKind::Numeric(_) => num(o.name.clone()),
            OutcomeKind::Categorical(_) => Column {
                name: o.name.clone(),
                kind: ColumnKind::Categorical(
                    s.outcome_labels(i).into_iter().map(String::from).collect(),
                ),
            },
        });
    }
    cols.push(num("end_time".into()));
    cols.push(num("n_events".into()));
    cols.push(Column {
        name: "terminal".into(),
        kind: ColumnKind::Categorical(terminal_labels(s)),
    });
    cols.extend(s.events.iter().map(|e| num(format!("count_{}", e.id))));
    for d in &s.dyads {
        cols.push(num(format!("tension_{}_final", d.label)));
        cols.push(num(format!("tension_{}_peak", d.label)));
        for th in &d.threshold_labels {
            cols.push(num(format!("tension_{}_above_{}", d.label, th)));
        }
    }
    cols
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
