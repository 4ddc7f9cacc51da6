//! Policy analysis on top of the engine: paired policy comparison under
//! common random numbers ([`compare`]), causal escalation paths from traces
//! ([`paths`]), the tie-order audit ([`ties`]), global sensitivity analysis
//! ([`sensitivity`]) and the CAMEO dyadic event stream ([`cameo_stream`]).
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

pub mod cameo_stream;
pub mod compare;
pub mod paths;
pub mod sensitivity;
pub mod ties;

use crate::engine::{Column, ColumnKind};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use std::ops::Range;

pub use crate::sweep::harness::BLOCK;

/// Runs `work` on the blocks `[0, BLOCK)`, `[BLOCK, 2·BLOCK)`, … of `0..n` on
/// `threads` threads and hands each result to `fold` in block order, with
/// memory bounded by a fixed number of blocks in flight
/// ([`crate::sweep::harness::in_order`]). The first error in block order is
/// returned, whichever thread met it first.
pub fn in_blocks<T, E>(
    n: u64,
    threads: usize,
    work: impl Fn(Range<u64>) -> std::result::Result<T, E> + Sync,
    mut fold: impl FnMut(T) + Send,
) -> std::result::Result<(), E>
where
    T: Send,
    E: Send,
{
    let folded = crate::sweep::harness::in_order(
        n.div_ceil(BLOCK) as usize,
        threads,
        |b| {
            let b = b as u64;
            work(b * BLOCK..((b + 1) * BLOCK).min(n))
        },
        |t| {
            fold(t);
            Ok::<(), std::convert::Infallible>(())
        },
    )?;
    match folded {
        Ok(()) => Ok(()),
        Err(never) => match never {},
    }
}

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

/// Parses `NAME=V[,NAME=V…]` (an empty string gives no assignments). Values
/// must be finite numbers; bounds are checked later against the scenario.
pub fn parse_assignments(s: &str) -> std::result::Result<Vec<(String, f64)>, String> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=VALUE, got `{part}`"))?;
        let name = name.trim();
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not a number (in `{part}`)", value.trim()))?;
        if !value.is_finite() {
            return Err(format!("`{part}`: the value must be finite"));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("parameter `{name}` is set twice"));
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
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
        .map_err(|e| Error::Usage(format!("{what}: {e}")))
}

/// Index of the column named `name`, or a usage error naming the nearest.
pub fn column_index(cols: &[Column], name: &str) -> Result<usize> {
    cols.iter().position(|c| c.name == name).ok_or_else(|| {
        let hint = crate::diag::suggest(name, cols.iter().map(|c| c.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Error::Usage(format!("unknown outcome `{name}`{hint}"))
    })
}

/// A CSV field: quoted (with doubled quotes) if it holds a comma, a quote or
/// a line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number for a readable table: 4 significant decimals, `-` for NaN.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// Renders rows under a header as aligned plain text: the first column left
/// aligned, the others right aligned.
pub fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let left: Vec<bool> = (0..header.len()).map(|i| i == 0).collect();
    render_table_aligned(header, rows, &left)
}

/// Renders rows under a header as aligned plain text; `left[i]` says whether
/// column `i` is left aligned (otherwise right aligned).
pub fn render_table_aligned(header: &[&str], rows: &[Vec<String>], left: &[bool]) -> String {
    let n = header.len();
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                l.push_str("  ");
            }
            if left.get(i).copied().unwrap_or(false) {
                l.push_str(cell);
                l.push_str(&" ".repeat(pad));
            } else {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_parse_and_reject_nonsense() {
        assert_eq!(
            parse_assignments("a=1, b = 2.5").unwrap(),
            vec![("a".to_string(), 1.0), ("b".to_string(), 2.5)]
        );
        assert_eq!(parse_assignments("").unwrap(), vec![]);
        assert!(parse_assignments("a").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_assignments("a=x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_assignments("a=inf").unwrap_err().contains("finite"));
        assert!(parse_assignments("a=1,a=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn blocks_fold_in_order_whatever_the_threads() {
        let run = |threads| {
            let mut seen = Vec::new();
            in_blocks::<_, ()>(3 * BLOCK + 5, threads, |r| Ok(r.start), |s| seen.push(s)).unwrap();
            seen
        };
        assert_eq!(run(1), vec![0, BLOCK, 2 * BLOCK, 3 * BLOCK]);
        assert_eq!(run(3), run(1));
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a -> b"), "a -> b");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
