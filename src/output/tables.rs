//! The tidy CSV tables: `runs.csv` rows, `summary.csv` rows and the online
//! per-point summary they are computed from.
//!
//! Rows are built as text by hand (not through serde) because they are the
//! hot path of a sweep's output: one row per replication.

use super::format::push_f64;
use crate::engine::{Column, ColumnKind};
use crate::stats::{wilson, Moments, Quantiles, Z95};

/// The leading key columns of a table: `point` (sweeps only) and the varied
/// parameters, or just `rep` for a single-point run.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Whether the table has a `point` column.
    pub point: bool,
    /// Names of the parameter columns.
    pub params: Vec<String>,
}

/// Header of `runs.csv`.
pub fn runs_header(keys: &Keys, cols: &[Column]) -> String {
    let mut h = String::new();
    if keys.point {
        h.push_str("point,");
    }
    h.push_str("rep");
    for p in &keys.params {
        h.push(',');
        h.push_str(p);
    }
    for c in cols {
        h.push(',');
        h.push_str(&c.name);
    }
    h.push('\n');
    h
}

/// Appends one `runs.csv` row.
pub fn push_run_row(
    out: &mut String,
    keys: &Keys,
    point: u64,
    rep: u64,
    params: &[f64],
    cols: &[Column],
    row: &[f64],
) {
    use std::fmt::Write as _;
    if keys.point {
        let _ = write!(out, "{point},");
    }
    let _ = write!(out, "{rep}");
    for p in params {
        out.push(',');
        push_f64(out, *p);
    }
    for (c, v) in cols.iter().zip(row) {
        out.push(',');
        match &c.kind {
            ColumnKind::Numeric => push_f64(out, *v),
            ColumnKind::Categorical(labels) => out.push_str(&labels[*v as usize]),
        }
    }
    out.push('\n');
}

/// Online summary of one point: moments and quantiles of each numeric column,
/// label counts of each categorical one. Values are added in replication
/// order, so the result is a pure function of the rows.
///
/// Intervals: a numeric column that takes only the values 0 and 1 is a
/// proportion and gets the Wilson interval of its count of ones (as a share
/// does). It takes only 0 and 1 when every finite value was 0 or 1 and
/// either both were seen or its range ([`Column::range`]) lies in `[0, 1]`
/// (an indicator that was 0 in every replication still gets `[0, 3.84/(n+3.84)]`;
/// a count or a time that was always 0 is not known to be 0/1 and keeps
/// `[0, 0]`). Any other numeric column gets the normal interval
/// `mean ± Z95·se`, cut to its range (a count's never goes below 0);
/// cutting keeps the coverage, since the mean lies in the range.
#[derive(Debug, Clone)]
pub struct PointSummary {
    /// Per numeric column, in column order.
    numeric: Vec<NumericSummary>,
    /// Per categorical column, in column order: its place in a row and the
    /// count of each label.
    counts: Vec<(usize, Vec<u64>)>,
    n: u64,
}

/// The summary of one numeric column.
#[derive(Debug, Clone)]
struct NumericSummary {
    /// Its place in a row.
    at: usize,
    /// Moments of its finite values.
    moments: Moments,
    /// Quantiles of its finite values.
    quantiles: Quantiles,
    /// How many values were not finite.
    nonfinite: u64,
    /// How many values were 1.
    ones: u64,
    /// Whether every finite value was 0 or 1.
    zero_one: bool,
}

impl PointSummary {
    /// An empty summary for these columns.
    pub fn new(cols: &[Column]) -> PointSummary {
        let mut numeric = Vec::new();
        let mut counts = Vec::new();
        for (at, c) in cols.iter().enumerate() {
            match &c.kind {
                ColumnKind::Numeric => numeric.push(NumericSummary {
                    at,
                    moments: Moments::default(),
                    quantiles: Quantiles::default(),
                    nonfinite: 0,
                    ones: 0,
                    zero_one: true,
                }),
                ColumnKind::Categorical(labels) => counts.push((at, vec![0; labels.len()])),
            }
        }
        PointSummary {
            numeric,
            counts,
            n: 0,
        }
    }

    /// Adds one replication's row (a value per column, in the order of the
    /// columns given to [`PointSummary::new`]). Non-finite numeric values are
    /// counted but left out of moments and quantiles.
    pub fn add(&mut self, row: &[f64]) {
        self.n += 1;
        for c in &mut self.numeric {
            let v = row[c.at];
            if v.is_finite() {
                c.moments.add(v);
                c.quantiles.add(v);
                if v == 1.0 {
                    c.ones += 1;
                } else if v != 0.0 {
                    c.zero_one = false;
                }
            } else {
                c.nonfinite += 1;
            }
        }
        for (at, counts) in &mut self.counts {
            counts[row[*at] as usize] += 1;
        }
    }

    /// Number of replications added.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The summary rows, one per numeric column and one per label of each
    /// categorical column, in column order.
    pub fn rows(&self, cols: &[Column]) -> Vec<SummaryRow> {
        let (mut i, mut j) = (0, 0);
        let mut rows = Vec::new();
        for c in cols {
            match &c.kind {
                ColumnKind::Numeric => {
                    let NumericSummary {
                        moments: m,
                        quantiles: q,
                        ones,
                        zero_one,
                        ..
                    } = &self.numeric[i];
                    i += 1;
                    let n = m.count();
                    // 0/1 by the data (both seen) or by the range (an
                    // indicator that was always 0, say); a count that was
                    // always 0 is not known to be 0/1 and keeps [0, 0].
                    let proportion = *zero_one
                        && n > 0
                        && ((*ones > 0 && *ones < n) || (c.range.lo >= 0.0 && c.range.hi <= 1.0));
                    let (lo, hi) = if proportion {
                        wilson(*ones, n, Z95)
                    } else {
                        let (lo, hi) = m.ci95();
                        (cut_below(lo, c.range.lo), cut_above(hi, c.range.hi))
                    };
                    let quantiles = if n > 0 {
                        q.quantiles([0.05, 0.5, 0.95])
                    } else {
                        [f64::NAN; 3]
                    };
                    rows.push(SummaryRow {
                        metric: c.name.clone(),
                        category: None,
                        n,
                        mean: m.mean(),
                        sd: m.sd(),
                        se: m.se(),
                        ci95: (lo, hi),
                        quantiles,
                    });
                }
                ColumnKind::Categorical(labels) => {
                    let (_, counts) = &self.counts[j];
                    j += 1;
                    for (label, k) in labels.iter().zip(counts) {
                        let n = self.n;
                        let p = if n > 0 {
                            *k as f64 / n as f64
                        } else {
                            f64::NAN
                        };
                        let sd = (p * (1.0 - p)).sqrt();
                        rows.push(SummaryRow {
                            metric: c.name.clone(),
                            category: Some(label.clone()),
                            n,
                            mean: p,
                            sd,
                            se: sd / (n as f64).sqrt(),
                            ci95: wilson(*k, n, Z95),
                            quantiles: [f64::NAN; 3],
                        });
                    }
                }
            }
        }
        rows
    }

    /// Appends the summary rows ([`PointSummary::rows`]) as `summary.csv`
    /// text, each prefixed with `prefix` (the key columns).
    pub fn push_rows(&self, out: &mut String, prefix: &str, cols: &[Column]) {
        for row in self.rows(cols) {
            out.push_str(prefix);
            out.push_str(&row.metric);
            match &row.category {
                None => out.push_str(",numeric,,"),
                Some(label) => {
                    out.push_str(",share,");
                    out.push_str(label);
                    out.push(',');
                }
            }
            push_stats(
                out,
                row.n,
                &[row.mean, row.sd, row.se, row.ci95.0, row.ci95.1],
                &row.quantiles,
            );
        }
    }
}

/// One row of a point's summary: a numeric column's moments and quantiles,
/// or one label's share of a categorical column with its Wilson interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The column.
    pub metric: String,
    /// The label, for a share.
    pub category: Option<String>,
    /// Values summarised (finite ones, for a numeric column).
    pub n: u64,
    /// Mean, or the label's share.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Standard error of the mean.
    pub se: f64,
    /// 95% interval: Wilson for a share or a numeric column of 0s and 1s,
    /// else normal, cut to the column's range.
    pub ci95: (f64, f64),
    /// 5%, 50% and 95% quantiles (NaN for a share).
    pub quantiles: [f64; 3],
}

/// Header of `summary.csv` after the key columns.
pub const SUMMARY_COLUMNS: &str = "metric,kind,category,n,mean,sd,se,ci95_lo,ci95_hi,p05,p50,p95";

/// Header of `summary.csv`.
pub fn summary_header(keys: &Keys) -> String {
    let mut h = String::new();
    if keys.point {
        h.push_str("point,");
    }
    for p in &keys.params {
        h.push_str(p);
        h.push(',');
    }
    h.push_str(SUMMARY_COLUMNS);
    h.push('\n');
    h
}

/// The key-column prefix of a summary row.
pub fn summary_prefix(keys: &Keys, point: u64, params: &[f64]) -> String {
    let mut s = String::new();
    if keys.point {
        s.push_str(&point.to_string());
        s.push(',');
    }
    for p in params {
        push_f64(&mut s, *p);
        s.push(',');
    }
    s
}

/// `x`, or `floor` if `x` is below it; NaN stays NaN.
fn cut_below(x: f64, floor: f64) -> f64 {
    if x < floor {
        floor
    } else {
        x
    }
}

/// `x`, or `ceiling` if `x` is above it; NaN stays NaN.
fn cut_above(x: f64, ceiling: f64) -> f64 {
    if x > ceiling {
        ceiling
    } else {
        x
    }
}

fn push_stats(out: &mut String, n: u64, values: &[f64], quantiles: &[f64; 3]) {
    use std::fmt::Write as _;
    let _ = write!(out, "{n}");
    for v in values.iter().chain(quantiles) {
        out.push(',');
        if !v.is_nan() {
            push_f64(out, *v);
        }
    }
    out.push('\n');
}
