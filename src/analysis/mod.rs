//! Policy analysis on top of the engine: paired policy comparison under
//! common random numbers ([`compare`]), causal escalation paths from traces
//! ([`paths`]), the tie-order audit ([`ties`]), global sensitivity analysis
//! ([`sensitivity`]), calibration against observed outcomes by ABC-SMC
//! ([`calibrate`]), rare-event probabilities by multilevel splitting
//! ([`rare`]) and the CAMEO dyadic event stream ([`cameo_stream`]).
//!
//! Every analysis is a pure function of (scenarios, parameter values, master
//! seed, replication count): replications run in parallel in fixed blocks of
//! [`BLOCK`] replications and their partial results are folded in block
//! order, so the thread count never reaches a number. Files are written
//! through [`crate::output::write_atomic`], whole or not at all.
//!
//! This module holds what the analyses share: the ordered parallel block
//! runner, the "metrics" view of a row (each numeric column, and one 0/1
//! indicator per label of each categorical column), argument parsing helpers
//! and a plain-text table renderer.

pub mod calibrate;
pub mod cameo_stream;
pub mod compare;
pub mod paths;
pub mod rare;
pub mod sensitivity;
pub mod ties;

use crate::engine::{Column, ColumnKind};
use crate::error::{Error, Result};
use crate::scenario::Scenario;

pub use crate::runner::{in_blocks, BLOCK};

/// One number per replication derived from a row: a numeric column, or the
/// 0/1 indicator of one label of a categorical column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    /// Column name.
    pub name: String,
    /// The label, for an indicator (its mean is the label's share).
    pub category: Option<String>,
    /// Column index in the row.
    pub column: usize,
    /// Label index, for an indicator.
    pub label: Option<usize>,
}

impl Metric {
    /// `numeric` or `share`, as in `summary.csv`.
    pub fn kind(&self) -> &'static str {
        if self.label.is_some() {
            "share"
        } else {
            "numeric"
        }
    }

    /// `name` or `name=label`, for tables.
    pub fn display(&self) -> String {
        match &self.category {
            Some(c) => format!("{}={c}", self.name),
            None => self.name.clone(),
        }
    }

    /// The metric's value in a row.
    #[inline]
    pub fn value(&self, row: &[f64]) -> f64 {
        let v = row[self.column];
        match self.label {
            Some(l) => f64::from(u8::from(v as usize == l)),
            None => v,
        }
    }
}

/// The metrics of a column list, in column order (a categorical column gives
/// one indicator per label, in label order).
pub fn metrics(cols: &[Column]) -> Vec<Metric> {
    let mut out = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        match &c.kind {
            ColumnKind::Numeric => out.push(Metric {
                name: c.name.clone(),
                category: None,
                column: i,
                label: None,
            }),
            ColumnKind::Categorical(labels) => {
                for (l, label) in labels.iter().enumerate() {
                    out.push(Metric {
                        name: c.name.clone(),
                        category: Some(label.clone()),
                        column: i,
                        label: Some(l),
                    });
                }
            }
        }
    }
    out
}

/// The parameter values of `scenario` with `overrides`, as a usage error
/// (unknown name with the nearest one, value outside bounds) prefixed by
/// `what` (the option that gave them).
pub fn checked_params(
    scenario: &Scenario,
    overrides: &[(String, f64)],
    what: &str,
) -> Result<Vec<f64>> {
    scenario
        .param_values(overrides)
        .map_err(|e| Error::Param(e.within(what)))
}

/// Index of the column named `name`, or a usage error naming the nearest.
pub fn column_index(cols: &[Column], name: &str) -> Result<usize> {
    cols.iter().position(|c| c.name == name).ok_or_else(|| {
        let hint = crate::diag::suggest(name, cols.iter().map(|c| c.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Error::invalid("outcome", format!("unknown outcome `{name}`{hint}"))
    })
}

pub use crate::output::text::{csv_field, fmt_num, render_table, render_table_aligned};
