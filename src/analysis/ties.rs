//! The tie-order audit (`run --tie-audit`): does any result depend on the
//! order in which same-time, same-priority events are processed?
//! [`crate::sweep::run`] runs it after the replications and, with `--out`,
//! writes `tie_audit.csv` before `manifest.json`, which lists it.
//!
//! By default the engine breaks such ties by scheduling order, a modelling
//! choice the scenario may not intend. The audit re-runs every replication
//! with the same key and [`RunOptions::shuffle_ties`], which breaks ties in a
//! seeded random order instead (the tie stream is separate, so all other
//! random numbers are unchanged), and compares every metric between the two
//! orderings replication by replication.
//!
//! For each metric, with `d_r` = shuffled − default in replication `r`:
//! `z = mean(d) / se(d)`, and the two-sample Kolmogorov–Smirnov test of the
//! metric's values under the two orders ([`crate::stats::ks_two_sample`] on
//! bounded quantile states). A metric is **flagged** when `|z| > 4` (the
//! mean moved beyond Monte Carlo error: a false alarm has probability below
//! 1e-4 per metric under a normal approximation), when every replication
//! moved by the same non-zero amount (`se = 0`, `mean ≠ 0`), or when the KS
//! p-value is below [`KS_FLAG`] (the distribution moved, whatever the mean).
//! `n_changed` counts replications in which the metric differs at all: a
//! metric can change in individual replications without its distribution
//! moving (the order matters for which path a replication takes, not for
//! how often).

use super::{csv_field, fmt_num, in_blocks, metrics, render_table, Metric};
use crate::engine::{columns, Engine, RunOptions};
use crate::error::RepError;
use crate::error::Result;
use crate::output::push_f64;
use crate::rng::replication_key;
use crate::scenario::Scenario;
use crate::stats::{ks_two_sample, Moments, Quantiles};

/// `|z|` above which a metric is flagged.
pub const Z_FLAG: f64 = 4.0;

/// KS p-value below which a metric is flagged (its distribution moved).
pub const KS_FLAG: f64 = 1e-4;

/// The audit of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct TieRow {
    /// Which metric.
    pub metric: Metric,
    /// Replications with both values finite.
    pub n: u64,
    /// Mean with ties in scheduling order.
    pub mean_default: f64,
    /// Mean with ties in random order.
    pub mean_shuffled: f64,
    /// Mean paired difference, shuffled − default.
    pub diff: f64,
    /// Its standard error.
    pub se: f64,
    /// `diff / se` (0 when both are 0).
    pub z: f64,
    /// Replications in which the metric differs between the orderings.
    pub n_changed: u64,
    /// Two-sample Kolmogorov–Smirnov statistic between the metric's values
    /// under the two orderings (NaN without values).
    pub ks_d: f64,
    /// Its asymptotic p-value (conservative here: the samples are paired and
    /// positively correlated, and metrics may be discrete).
    pub ks_p: f64,
    /// Whether the mean (`|z| > Z_FLAG`) or the distribution
    /// (`ks_p < KS_FLAG`) changed beyond Monte Carlo error.
    pub flagged: bool,
}

/// The audit's result.
#[derive(Debug, Clone)]
pub struct TieReport {
    /// One row per metric, in column order.
    pub rows: Vec<TieRow>,
    /// Replications run (each twice).
    pub reps: u64,
    /// Replications in which any column differs.
    pub n_reps_changed: u64,
}

impl TieReport {
    /// The flagged rows.
    pub fn flagged(&self) -> impl Iterator<Item = &TieRow> {
        self.rows.iter().filter(|r| r.flagged)
    }
}

/// Header of `tie_audit.csv`.
pub const TIE_HEADER: &str =
    "metric,kind,category,n,mean_default,mean_shuffled,diff,se,z,n_changed,flagged,ks_d,ks_p\n";

#[derive(Clone, Default)]
struct Acc {
    d: Moments,
    default: Moments,
    shuffled: Moments,
    changed: u64,
    q_default: Quantiles,
    q_shuffled: Quantiles,
}

/// Runs replications `0..reps` with ties in scheduling order and in random
/// order, and compares every metric.
pub fn tie_audit(
    scenario: &Scenario,
    params: &[f64],
    seed: u64,
    reps: u64,
    threads: usize,
) -> Result<TieReport> {
    let cols = columns(scenario);
    let mets = metrics(&cols);
    let n_cols = cols.len();
    let mut total = vec![Acc::default(); mets.len()];
    let mut n_reps_changed = 0;
    in_blocks(
        reps,
        threads,
        |range| -> std::result::Result<(Vec<Acc>, u64), RepError> {
            let mut engine = Engine::new(scenario);
            let (mut r0, mut r1) = (vec![0.0; n_cols], vec![0.0; n_cols]);
            let mut acc = vec![Acc::default(); mets.len()];
            let mut reps_changed = 0;
            for rep in range {
                let key = replication_key(seed, rep, None);
                let err = |error| RepError::at_point(0, rep, error);
                engine
                    .run(params, &key, RunOptions::default(), &mut r0, None)
                    .map_err(err)?;
                let shuffled = RunOptions { shuffle_ties: true };
                engine
                    .run(params, &key, shuffled, &mut r1, None)
                    .map_err(err)?;
                reps_changed +=
                    u64::from(r0.iter().zip(&r1).any(|(a, b)| a.to_bits() != b.to_bits()));
                for (m, acc) in mets.iter().zip(&mut acc) {
                    let (a, b) = (m.value(&r0), m.value(&r1));
                    acc.changed += u64::from(a.to_bits() != b.to_bits());
                    if a.is_finite() && b.is_finite() {
                        acc.d.add(b - a);
                        acc.default.add(a);
                        acc.shuffled.add(b);
                        acc.q_default.add(a);
                        acc.q_shuffled.add(b);
                    }
                }
            }
            Ok((acc, reps_changed))
        },
        |(block, changed)| {
            n_reps_changed += changed;
            for (t, b) in total.iter_mut().zip(&block) {
                t.d.merge(&b.d);
                t.default.merge(&b.default);
                t.shuffled.merge(&b.shuffled);
                t.changed += b.changed;
                t.q_default.merge(&b.q_default);
                t.q_shuffled.merge(&b.q_shuffled);
            }
        },
    )?;
    let rows = mets
        .into_iter()
        .zip(total)
        .map(|(metric, acc)| {
            let diff = acc.d.mean();
            // One replication has no variance; treat it as unknown.
            let se = if acc.d.count() >= 2 {
                acc.d.se()
            } else {
                f64::NAN
            };
            let z = if diff == 0.0 {
                0.0
            } else if se > 0.0 {
                diff / se
            } else if se == 0.0 {
                diff.signum() * f64::INFINITY
            } else {
                f64::NAN
            };
            let ks = ks_two_sample(&acc.q_default, &acc.q_shuffled);
            let (ks_d, ks_p) = ks.map_or((f64::NAN, f64::NAN), |t| (t.d, t.p));
            TieRow {
                metric,
                n: acc.d.count(),
                mean_default: acc.default.mean(),
                mean_shuffled: acc.shuffled.mean(),
                diff,
                se,
                z,
                n_changed: acc.changed,
                flagged: z.abs() > Z_FLAG || ks_p < KS_FLAG,
                ks_d,
                ks_p,
            }
        })
        .collect();
    Ok(TieReport {
        rows,
        reps,
        n_reps_changed,
    })
}

/// Renders `tie_audit.csv`.
pub fn tie_csv(rows: &[TieRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(TIE_HEADER);
    for r in rows {
        let _ = write!(
            s,
            "{},{},{},{}",
            csv_field(&r.metric.name),
            r.metric.kind(),
            csv_field(r.metric.category.as_deref().unwrap_or("")),
            r.n
        );
        for v in [r.mean_default, r.mean_shuffled, r.diff, r.se, r.z] {
            s.push(',');
            if !v.is_nan() {
                push_f64(&mut s, v);
            }
        }
        let _ = write!(s, ",{},{}", r.n_changed, r.flagged);
        for v in [r.ks_d, r.ks_p] {
            s.push(',');
            if !v.is_nan() {
                push_f64(&mut s, v);
            }
        }
        s.push('\n');
    }
    s
}

/// Renders the audit: a verdict line, then the flagged metrics and those
/// that changed in some replication without a flag.
pub fn render(report: &TieReport) -> String {
    let flagged: Vec<&TieRow> = report.flagged().collect();
    let mut out = format!(
        "tie-order audit: {} of {} replications differ in some column when same-time, same-priority ties are shuffled; ",
        report.n_reps_changed, report.reps
    );
    if flagged.is_empty() {
        out.push_str(&format!(
            "no metric's mean or distribution moved beyond Monte Carlo error (|z| <= {Z_FLAG}, KS p >= {KS_FLAG})\n"
        ));
    } else {
        out.push_str(&format!(
            "{} metric(s) moved beyond Monte Carlo error (|z| > {Z_FLAG} or KS p < {KS_FLAG}): results depend on tie order; give the events distinct `priority` values\n",
            flagged.len()
        ));
    }
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .filter(|r| r.n_changed > 0)
        .map(|r| {
            vec![
                r.metric.display(),
                fmt_num(r.mean_default),
                fmt_num(r.mean_shuffled),
                fmt_num(r.diff),
                fmt_num(r.z),
                r.n_changed.to_string(),
                if r.flagged { "FLAG" } else { "" }.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&render_table(
            &[
                "metric",
                "default",
                "shuffled",
                "diff",
                "z",
                "changed reps",
                "",
            ],
            &rows,
        ));
    }
    out
}
