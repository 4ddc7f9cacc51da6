//! The `sensitivity` command: global sensitivity of every metric to the
//! parameters given with `--vary NAME=lo:hi`.
//!
//! The model output at a parameter point is the mean of a metric over `R`
//! replications; every point uses the same replication keys (common random
//! numbers), so differences between points are not drowned in Monte Carlo
//! noise. Each varied parameter is mapped to the unit interval,
//! `u = (x − lo) / (hi − lo)`.
//!
//! **Morris** (`morris:N`): `N` one-at-a-time trajectories on a 4-level grid
//! `{0, 1/3, 2/3, 1}` with step `Δ = 2/3` (Morris 1991; the sign of each step
//! is random). Each trajectory gives one elementary effect per parameter,
//! `EE = (y(u + Δ·e_i) − y(u)) / Δ` in units of the output per unit of the
//! normalised range, so for a linear effect `EE` is the change across the
//! whole range and effects are comparable across parameters. Reported:
//! `mu_star` = mean |EE| (Campolongo et al. 2007, the importance ranking),
//! `mu` = mean EE (its sign), `sigma` = standard deviation of EE
//! (interactions and non-linearity). Cost: `N·(k + 1)` points.
//!
//! **Sobol** (`sobol:N`): two independent uniform `N × k` sample matrices
//! `A` and `B`, and for each parameter `i` the matrix `AB_i` (`A` with column
//! `i` from `B`). With `V` the variance of the outputs of `A` and `B`
//! together:
//! - first order (Saltelli et al. 2010): `S_i = mean(f(B)·(f(AB_i) − f(A))) / V`;
//! - total (Jansen 1999): `ST_i = mean((f(A) − f(AB_i))²) / (2V)`.
//!
//! Cost: `N·(k + 2)` points.
//!
//! Intervals: 95% percentile bootstrap ([`DEFAULT_BOOTSTRAP`] resamples by
//! default) over two sources of error at once. Each resample draws
//! trajectories (Morris) or rows of the sample matrices (Sobol) with
//! replacement — the error of the design — and, independently, the
//! replications: they are cut into `G = min(R, REP_GROUPS)` groups of
//! consecutive replications, and each resample draws `G` groups with
//! replacement and recomputes every point's mean from them — the Monte Carlo
//! noise of the `R`-replication means. The same groups are drawn at every
//! point, as the replications share their keys across points (common random
//! numbers): the noise of a difference between two points is resampled as it
//! arises, not as if the points were independent (which would overstate it
//! and bias `ST` up). With `R = 1` (or outputs that do not vary between
//! replications) only the design is resampled. A metric whose indices come
//! from 100 replications of a rare event thus gets the wide intervals its
//! noise implies instead of a tight interval about a noisy estimate.
//!
//! Noise share: per metric, the mean over points of the variance of a
//! point's mean (`s²/R`, from the replications) divided by the variance of
//! the means between points. Above [`NOISE_SHARE_LIMIT`] the Monte Carlo
//! noise is a sizeable part of what the indices apportion: every index of
//! the metric is flagged `noise` (raise `--reps`). A Sobol index whose whole
//! interval lies outside `[0, 1]` (possible for the estimators, never for
//! the indices) is flagged `above_1` or `below_0`: it is distorted beyond its
//! error, by noise or too few base samples. Flags are reported in the `flag`
//! column and printed under each table; nothing is clamped.
//!
//! Randomness for the design and the bootstrap comes from a dedicated key,
//! `replication_key(seed, u64::MAX, Some(u64::MAX))`, stream 0 (design),
//! stream 1 (one 64-bit seed per bootstrap resample of rows or trajectories,
//! expanded with SplitMix64; the same resamples serve every metric and
//! parameter) and stream 2 (likewise, the resamples of replication groups):
//! a key no replication of a `run`, `sweep` or `compare` uses. A metric that
//! is constant over the design gets `NaN` Sobol indices (no variance to
//! apportion) and zero Morris effects, without bootstrap.

use super::{checked_params, csv_field, fmt_num, metrics, render_table, Metric};
use crate::engine::{columns, RunOptions};
use crate::error::{Error, Result};
use crate::output::manifest::{
    param_map, AnalysisRecord, OutputDir, ScenarioInfo, Totals, RNG_DESCRIPTION,
};
use crate::output::push_f64;
use crate::rng::{replication_key, Stream};
use crate::runner::design::{self, Spec};
use crate::runner::harness::{execute, Plan};
use crate::scenario::Scenario;
use std::path::PathBuf;

/// Bootstrap resamples unless told otherwise.
pub const DEFAULT_BOOTSTRAP: usize = 1000;

/// Most groups of replications the bootstrap resamples (see the module doc).
pub const REP_GROUPS: u64 = 10;

/// The noise share above which a metric's indices are flagged `noise`: the
/// Monte Carlo variance of a point's mean is more than a tenth of the
/// variance of the means between points.
pub const NOISE_SHARE_LIMIT: f64 = 0.1;

/// The most (point, metric, group) cells the replication groups may take;
/// past it fewer groups are kept (down to one: the design alone).
const MAX_GROUP_CELLS: usize = 1 << 24;

/// Grid levels of the Morris design.
pub const MORRIS_LEVELS: usize = 4;

/// The design and estimators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Morris elementary effects with this many trajectories.
    Morris {
        /// Trajectories.
        trajectories: usize,
    },
    /// Sobol indices from base sample matrices with this many rows.
    Sobol {
        /// Rows of `A` and `B`.
        n: usize,
    },
}

impl Method {
    /// `morris` or `sobol`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Morris { .. } => "morris",
            Method::Sobol { .. } => "sobol",
        }
    }

    /// Model evaluations (parameter points) for `k` parameters.
    pub fn points(self, k: usize) -> usize {
        match self {
            Method::Morris { trajectories } => trajectories * (k + 1),
            Method::Sobol { n } => n * (k + 2),
        }
    }
}

/// Parses `morris:N` or `sobol:N` (N at least 2).
pub fn parse_method(s: &str) -> std::result::Result<Method, String> {
    let (name, n) = s
        .split_once(':')
        .ok_or_else(|| format!("expected morris:N or sobol:N, got `{s}`"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a whole number (in `{s}`)"))?;
    if n < 2 {
        return Err(format!("`{s}`: N must be at least 2"));
    }
    match name.trim() {
        "morris" => Ok(Method::Morris { trajectories: n }),
        "sobol" => Ok(Method::Sobol { n }),
        other => Err(format!(
            "unknown method `{other}`; expected morris:N or sobol:N"
        )),
    }
}

/// A validated `sensitivity` request.
#[derive(Debug, Clone)]
pub struct SensitivityConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set` overrides of the parameters that are not varied.
    pub overrides: Vec<(String, f64)>,
    /// The varied parameters, `NAME=lo:hi` or `NAME` (its declared bounds),
    /// as for `sweep --vary`.
    pub vary: Vec<String>,
    /// Design and estimators.
    pub method: Method,
    /// Replications per point.
    pub reps: u64,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Bootstrap resamples (at least 100).
    pub bootstrap: usize,
    /// Output directory for `sensitivity.csv` and `manifest.json`.
    pub out: Option<PathBuf>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// One index of one parameter for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Which metric.
    pub metric: Metric,
    /// Whether the metric is one of the scenario's outcomes (not a built-in).
    pub outcome: bool,
    /// The varied parameter.
    pub param: String,
    /// `mu_star`, `mu`, `sigma` (Morris) or `S1`, `ST` (Sobol).
    pub index: &'static str,
    /// The estimate.
    pub estimate: f64,
    /// Bootstrap 95% interval, lower end.
    pub lo: f64,
    /// Bootstrap 95% interval, upper end.
    pub hi: f64,
    /// The metric's noise share (the same for every row of the metric;
    /// `NaN` when its means do not vary between points).
    pub noise_share: f64,
    /// What is doubtful about the estimate: `noise`, `above_1`, `below_0`,
    /// joined by `;`; empty when nothing is.
    pub flag: String,
}

/// What `sensitivity` produced.
#[derive(Debug, Clone)]
pub struct SensitivityReport {
    /// The method.
    pub method: Method,
    /// Replications per point.
    pub reps: u64,
    /// Master seed.
    pub seed: u64,
    /// Parameter points evaluated.
    pub points: usize,
    /// Every index of every metric.
    pub rows: Vec<IndexRow>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// Header of `sensitivity.csv`.
pub const SENSITIVITY_HEADER: &str =
    "method,metric,kind,category,param,index,estimate,ci95_lo,ci95_hi,n,reps,noise_share,flag\n";

fn design_stream(seed: u64, id: u64) -> Stream {
    Stream::new(&replication_key(seed, u64::MAX, Some(u64::MAX)), id)
}

/// A uniform index in `0..n`.
fn index(s: &mut Stream, n: usize) -> usize {
    ((s.uniform() * n as f64) as usize).min(n - 1)
}

/// Bootstrap resamples of `0..n`, each regenerated on demand from a 64-bit
/// seed drawn from the bootstrap stream (SplitMix64 within a resample: cheap,
/// and the same resamples serve every metric and parameter).
struct Resamples {
    seeds: Vec<u64>,
    n: usize,
}

impl Resamples {
    fn new(seed: u64, stream: u64, count: usize, n: usize) -> Resamples {
        let mut s = design_stream(seed, stream);
        Resamples {
            seeds: (0..count).map(|_| s.next_u64()).collect(),
            n,
        }
    }

    /// Fills `idx` with resample `b`.
    fn fill(&self, b: usize, idx: &mut Vec<usize>) {
        let mut state = self.seeds[b];
        idx.clear();
        for _ in 0..self.n {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            idx.push(((u128::from(z) * self.n as u128) >> 64) as usize);
        }
    }
}

/// The design in the unit cube, and for Morris the step of each move:
/// `steps[t][s] = (parameter, Δ with its sign)` from point `s` to `s + 1` of
/// trajectory `t`.
struct Design {
    points: Vec<Vec<f64>>,
    steps: Vec<Vec<(usize, f64)>>,
}

fn morris_design(k: usize, trajectories: usize, s: &mut Stream) -> Design {
    let p = MORRIS_LEVELS as f64;
    let delta = p / (2.0 * (p - 1.0));
    // Levels from which a step of +Δ stays in [0, 1].
    let bases: Vec<f64> = (0..MORRIS_LEVELS)
        .map(|l| l as f64 / (p - 1.0))
        .filter(|x| x + delta <= 1.0 + 1e-12)
        .collect();
    let mut points = Vec::with_capacity(trajectories * (k + 1));
    let mut steps = Vec::with_capacity(trajectories);
    for _ in 0..trajectories {
        let mut start = vec![0.0; k];
        let mut other = vec![0.0; k];
        for j in 0..k {
            let base = bases[index(s, bases.len())];
            if s.uniform() < 0.5 {
                (start[j], other[j]) = (base, base + delta);
            } else {
                (start[j], other[j]) = (base + delta, base);
            }
        }
        let mut order: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            order.swap(i, index(s, i + 1));
        }
        let mut x = start.clone();
        points.push(x.clone());
        let mut t_steps = Vec::with_capacity(k);
        for &j in &order {
            x[j] = other[j];
            t_steps.push((j, other[j] - start[j]));
            points.push(x.clone());
        }
        steps.push(t_steps);
    }
    Design { points, steps }
}

/// Rows of `A` (`0..n`), `B` (`n..2n`), then `AB_i` (`(2 + i)·n..`).
fn sobol_design(k: usize, n: usize, s: &mut Stream) -> Design {
    let a: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..k).map(|_| s.uniform()).collect())
        .collect();
    let b: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..k).map(|_| s.uniform()).collect())
        .collect();
    let mut points = Vec::with_capacity(n * (k + 2));
    points.extend(a.iter().cloned());
    points.extend(b.iter().cloned());
    for i in 0..k {
        for j in 0..n {
            let mut x = a[j].clone();
            x[i] = b[j][i];
            points.push(x);
        }
    }
    Design {
        points,
        steps: Vec::new(),
    }
}

/// What the replications of every point give, per metric: the mean (over
/// replications `0..reps`, common keys at every point, non-finite values
/// left out), the variance of that mean, and the sum and count of each group
/// of replications.
struct Outputs {
    /// `means[point][metric]`.
    means: Vec<Vec<f64>>,
    /// `noise[point][metric]`: `s² / n` of the point's values (NaN for
    /// fewer than two).
    noise: Vec<Vec<f64>>,
    /// Groups of replications (1: no resampling of replications).
    groups: usize,
    /// `sums[(point · metrics + metric) · groups + g]`, and the counts.
    sums: Vec<f64>,
    counts: Vec<u32>,
    n_metrics: usize,
}

impl Outputs {
    /// Every point's mean of `metric` from the groups drawn `draws` times
    /// each (`draws[g]`), into `out`.
    fn resampled(&self, metric: usize, draws: &[u32], out: &mut Vec<f64>) {
        out.clear();
        let g = self.groups;
        for p in 0..self.means.len() {
            let at = (p * self.n_metrics + metric) * g;
            let (mut sum, mut n) = (0.0, 0.0);
            for (k, &c) in draws.iter().enumerate() {
                if c > 0 {
                    sum += f64::from(c) * self.sums[at + k];
                    n += f64::from(c) * f64::from(self.counts[at + k]);
                }
            }
            out.push(if n > 0.0 { sum / n } else { f64::NAN });
        }
    }
}

/// Groups of replications for `n_points` points and `n_metrics` metrics.
fn rep_groups(reps: u64, n_points: usize, n_metrics: usize) -> usize {
    let mut g = reps.min(REP_GROUPS) as usize;
    while g > 1 && n_points.saturating_mul(n_metrics).saturating_mul(g) > MAX_GROUP_CELLS {
        g -= 1;
    }
    g.max(1)
}

/// The outputs of every point ([`Outputs`]), and the number of events over
/// all replications.
fn evaluate(
    scenario: &Scenario,
    points: Vec<Vec<f64>>,
    reps: u64,
    seed: u64,
    threads: usize,
    mets: &[Metric],
) -> Result<(Outputs, u64)> {
    let n_points = points.len();
    let plan = Plan {
        scenario,
        points,
        reps,
        seed,
        independent_streams: false,
        range: 0..n_points as u64 * reps,
        options: RunOptions::default(),
        grid: None,
        mixture: None,
    };
    let cols = columns(scenario);
    let n_cols = cols.len();
    let n_events_col = cols.iter().position(|c| c.name == "n_events");
    let n_metrics = mets.len();
    let groups = rep_groups(reps, n_points, n_metrics);
    let mut sums = vec![vec![(0.0f64, 0u64); n_metrics]; n_points];
    let mut moments = vec![vec![crate::stats::Moments::new(); n_metrics]; n_points];
    let mut group_sums = vec![0.0f64; n_points * n_metrics * groups];
    let mut group_counts = vec![0u32; n_points * n_metrics * groups];
    let mut events = 0u64;
    let sunk = execute(&plan, threads, |block| {
        for (i, row) in block.values.chunks_exact(n_cols).enumerate() {
            let index = block.first + i as u64;
            let point = (index / reps) as usize;
            // Group of replication r: r · G / R, contiguous and as equal as can be.
            let group = (u128::from(index % reps) * groups as u128 / u128::from(reps)) as usize;
            events += n_events_col.map_or(0, |c| row[c] as u64);
            for (m, (metric, (acc, mo))) in mets
                .iter()
                .zip(sums[point].iter_mut().zip(&mut moments[point]))
                .enumerate()
            {
                let v = metric.value(row);
                if v.is_finite() {
                    acc.0 += v;
                    acc.1 += 1;
                    mo.add(v);
                    let at = (point * n_metrics + m) * groups + group;
                    group_sums[at] += v;
                    group_counts[at] += 1;
                }
            }
        }
        Ok::<(), std::convert::Infallible>(())
    })?;
    let Ok(()) = sunk;
    let means = sums
        .into_iter()
        .map(|p| {
            p.into_iter()
                .map(|(s, n)| if n > 0 { s / n as f64 } else { f64::NAN })
                .collect()
        })
        .collect();
    let noise = moments
        .into_iter()
        .map(|p| {
            p.into_iter()
                .map(|m| m.variance() / m.count() as f64)
                .collect()
        })
        .collect();
    Ok((
        Outputs {
            means,
            noise,
            groups,
            sums: group_sums,
            counts: group_counts,
            n_metrics,
        },
        events,
    ))
}

/// The noise share of metric `m`: the mean over points of the variance of a
/// point's mean, over the variance of the means between `over` points (NaN
/// when those do not vary or no point has two values).
fn noise_share(out: &Outputs, m: usize, over: std::ops::Range<usize>) -> f64 {
    let finite: Vec<f64> = over
        .map(|p| out.means[p][m])
        .filter(|v| v.is_finite())
        .collect();
    let noise: Vec<f64> = (out.noise.iter().map(|p| p[m]))
        .filter(|v| v.is_finite())
        .collect();
    if finite.len() < 2 || noise.is_empty() {
        return f64::NAN;
    }
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    if var > 0.0 {
        noise.iter().sum::<f64>() / noise.len() as f64 / var
    } else {
        f64::NAN
    }
}

/// The flags of one index: `noise` when the metric's noise share is above
/// [`NOISE_SHARE_LIMIT`]; for a Sobol index (`bounded`), `above_1` or
/// `below_0` when its whole interval lies outside `[0, 1]`.
fn flags(noise_share: f64, bounded: bool, (lo, hi): (f64, f64)) -> String {
    let mut f = Vec::new();
    if noise_share > NOISE_SHARE_LIMIT {
        f.push("noise");
    }
    if bounded && lo > 1.0 {
        f.push("above_1");
    }
    if bounded && hi < 0.0 {
        f.push("below_0");
    }
    f.join(";")
}

/// The 2.5% and 97.5% percentiles (linear interpolation) of the finite values.
fn percentile_interval(mut v: Vec<f64>) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (i, f) = (h.floor() as usize, h - h.floor());
        if i + 1 < v.len() {
            v[i] + f * (v[i + 1] - v[i])
        } else {
            v[i]
        }
    };
    (q(0.025), q(0.975))
}

/// `[mu_star, mu, sigma]` of elementary effects `ee` taken at `idx`.
fn morris_stats(ee: &[f64], idx: impl Iterator<Item = usize>) -> [f64; 3] {
    let (mut n, mut abs, mut m, mut m2) = (0.0, 0.0, 0.0, 0.0);
    for i in idx {
        let x = ee[i];
        n += 1.0;
        abs += x.abs();
        let d = x - m;
        m += d / n;
        m2 += d * (x - m);
    }
    let sigma = if n > 1.0 {
        (m2 / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    [abs / n, m, sigma]
}

/// `(S_i, ST_i)` from outputs of `A`, `B`, `AB_i` at rows `idx`.
fn sobol_stats(ya: &[f64], yb: &[f64], yab: &[f64], idx: &[usize]) -> (f64, f64) {
    let n = idx.len() as f64;
    let mean = idx.iter().map(|&j| ya[j] + yb[j]).sum::<f64>() / (2.0 * n);
    let var = idx
        .iter()
        .map(|&j| (ya[j] - mean).powi(2) + (yb[j] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * n - 1.0);
    let (mut first, mut total) = (0.0, 0.0);
    for &j in idx {
        first += yb[j] * (yab[j] - ya[j]);
        total += (ya[j] - yab[j]).powi(2);
    }
    if var > 0.0 {
        (first / n / var, total / (2.0 * n) / var)
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// Computes every index for every metric: the core of [`sensitivity`],
/// without files. `vary` gives (parameter index, lo, hi); `base` the values
/// of the parameters that are not varied.
#[allow(clippy::too_many_arguments)]
pub fn analyse(
    scenario: &Scenario,
    base: &[f64],
    vary: &[(usize, f64, f64)],
    method: Method,
    reps: u64,
    seed: u64,
    threads: usize,
    bootstrap: usize,
) -> Result<Vec<IndexRow>> {
    analyse_counting(scenario, base, vary, method, reps, seed, threads, bootstrap)
        .map(|(rows, _)| rows)
}

/// [`analyse`], and the number of events over all replications.
#[allow(clippy::too_many_arguments)]
fn analyse_counting(
    scenario: &Scenario,
    base: &[f64],
    vary: &[(usize, f64, f64)],
    method: Method,
    reps: u64,
    seed: u64,
    threads: usize,
    bootstrap: usize,
) -> Result<(Vec<IndexRow>, u64)> {
    let k = vary.len();
    let mut stream = design_stream(seed, 0);
    let design = match method {
        Method::Morris { trajectories } => morris_design(k, trajectories, &mut stream),
        Method::Sobol { n } => sobol_design(k, n, &mut stream),
    };
    let points: Vec<Vec<f64>> = design
        .points
        .iter()
        .map(|u| {
            let mut p = base.to_vec();
            for (&(i, lo, hi), &u) in vary.iter().zip(u) {
                p[i] = if u >= 1.0 { hi } else { lo + u * (hi - lo) };
            }
            p
        })
        .collect();
    let cols = columns(scenario);
    let mets = metrics(&cols);
    let n_points = points.len();
    let (out, events) = evaluate(scenario, points, reps, seed, threads, &mets)?;
    let y = &out.means;
    let n_outcome_cols = scenario.outcomes.len();
    let name = |i: usize| scenario.params[vary[i].0].name.clone();
    let resamples = Resamples::new(
        seed,
        1,
        bootstrap,
        match method {
            Method::Morris { trajectories } => trajectories,
            Method::Sobol { n } => n,
        },
    );
    let group_resamples = Resamples::new(seed, 2, bootstrap, out.groups);
    // draws[b][g]: how many times resample b draws replication group g.
    let draws: Vec<Vec<u32>> = (0..bootstrap)
        .map(|b| {
            let mut picked = Vec::new();
            group_resamples.fill(b, &mut picked);
            let mut c = vec![0u32; out.groups];
            picked.iter().for_each(|&g| c[g] += 1);
            c
        })
        .collect();
    let noisy = out.groups > 1;
    // The resampled means of every point for metric `m`, resample `b`
    // (the full means when the replications are not resampled).
    let mut ystar_buf = Vec::new();
    let mut ystar = |m: usize, b: usize| -> Vec<f64> {
        if noisy {
            out.resampled(m, &draws[b], &mut ystar_buf);
            ystar_buf.clone()
        } else {
            (0..n_points).map(|p| y[p][m]).collect()
        }
    };
    let mut idx = Vec::new();
    let mut rows = Vec::new();
    for (m, metric) in mets.iter().enumerate() {
        let outcome = metric.column < n_outcome_cols;
        let share = match method {
            Method::Morris { .. } => noise_share(&out, m, 0..n_points),
            Method::Sobol { n } => noise_share(&out, m, 0..2 * n),
        };
        let bounded = matches!(method, Method::Sobol { .. });
        let mut push = |param: String, index: &'static str, estimate: f64, (lo, hi): (f64, f64)| {
            rows.push(IndexRow {
                metric: metric.clone(),
                outcome,
                param,
                index,
                estimate,
                lo,
                hi,
                noise_share: share,
                flag: if estimate.is_nan() {
                    String::new()
                } else {
                    flags(share, bounded, (lo, hi))
                },
            })
        };
        match method {
            Method::Morris { trajectories } => {
                // ee[i][t]: the elementary effect of parameter i in trajectory t.
                let mut ee = vec![vec![0.0; trajectories]; k];
                for (t, steps) in design.steps.iter().enumerate() {
                    for (s, &(i, delta)) in steps.iter().enumerate() {
                        let p = t * (k + 1) + s;
                        ee[i][t] = (y[p + 1][m] - y[p][m]) / delta;
                    }
                }
                // With resampled replications, the elementary effects of
                // each resample: eestar[b][i][t].
                let eestar: Vec<Vec<Vec<f64>>> = if noisy {
                    (0..bootstrap)
                        .map(|b| {
                            let ys = ystar(m, b);
                            let mut e = vec![vec![0.0; trajectories]; k];
                            for (t, steps) in design.steps.iter().enumerate() {
                                for (s, &(i, delta)) in steps.iter().enumerate() {
                                    let p = t * (k + 1) + s;
                                    e[i][t] = (ys[p + 1] - ys[p]) / delta;
                                }
                            }
                            e
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                for (i, ee) in ee.iter().enumerate() {
                    let est = morris_stats(ee, 0..trajectories);
                    let flat = |e: &[f64]| e.iter().all(|x| *x == 0.0);
                    if flat(ee) && eestar.iter().all(|e| flat(&e[i])) {
                        // No effect at all: every resample gives zeros.
                        push(name(i), "mu_star", 0.0, (0.0, 0.0));
                        push(name(i), "mu", 0.0, (0.0, 0.0));
                        push(name(i), "sigma", 0.0, (0.0, 0.0));
                        continue;
                    }
                    let mut boot = [
                        Vec::with_capacity(bootstrap),
                        Vec::with_capacity(bootstrap),
                        Vec::with_capacity(bootstrap),
                    ];
                    for b in 0..bootstrap {
                        resamples.fill(b, &mut idx);
                        let e = eestar.get(b).map_or(ee.as_slice(), |e| &e[i]);
                        let stats = morris_stats(e, idx.iter().copied());
                        for (v, x) in boot.iter_mut().zip(stats) {
                            v.push(x);
                        }
                    }
                    let [b0, b1, b2] = boot;
                    push(name(i), "mu_star", est[0], percentile_interval(b0));
                    push(name(i), "mu", est[1], percentile_interval(b1));
                    push(name(i), "sigma", est[2], percentile_interval(b2));
                }
            }
            Method::Sobol { n } => {
                let col = |block: usize| -> Vec<f64> {
                    (block * n..(block + 1) * n).map(|p| y[p][m]).collect()
                };
                let (ya, yb) = (col(0), col(1));
                let all: Vec<usize> = (0..n).collect();
                // With resampled replications, every point's mean in each
                // resample: ystars[b][point].
                let ystars: Vec<Vec<f64>> = if noisy {
                    (0..bootstrap).map(|b| ystar(m, b)).collect()
                } else {
                    Vec::new()
                };
                for i in 0..k {
                    let yab = col(2 + i);
                    let (s1, st) = sobol_stats(&ya, &yb, &yab, &all);
                    if s1.is_nan() && st.is_nan() {
                        // A constant output: no variance to apportion.
                        push(name(i), "S1", s1, (f64::NAN, f64::NAN));
                        push(name(i), "ST", st, (f64::NAN, f64::NAN));
                        continue;
                    }
                    let (mut b1, mut bt) =
                        (Vec::with_capacity(bootstrap), Vec::with_capacity(bootstrap));
                    for b in 0..bootstrap {
                        resamples.fill(b, &mut idx);
                        let (a, b) = match ystars.get(b) {
                            Some(ys) => {
                                let part = |block: usize| &ys[block * n..(block + 1) * n];
                                sobol_stats(part(0), part(1), part(2 + i), &idx)
                            }
                            None => sobol_stats(&ya, &yb, &yab, &idx),
                        };
                        b1.push(a);
                        bt.push(b);
                    }
                    push(name(i), "S1", s1, percentile_interval(b1));
                    push(name(i), "ST", st, percentile_interval(bt));
                }
            }
        }
    }
    Ok((rows, events))
}

/// Resolves and checks `--vary` against the scenario as `sweep` does
/// ([`design::parse_varies`]: known names, with the nearest name otherwise;
/// ranges within the declared bounds; each parameter once), each a range
/// `lo:hi` or a bare name (its declared bounds), and none also `--set`.
/// `command` names the caller in the messages (`sensitivity`,
/// `calibrate`), so each says which command refuses what.
pub fn resolve_vary(
    scenario: &Scenario,
    vary: &[String],
    overrides: &[(String, f64)],
    command: &str,
) -> Result<Vec<(usize, f64, f64)>> {
    if vary.is_empty() {
        return Err(Error::invalid(
            "vary",
            format!("{command} needs at least one --vary NAME or NAME=lo:hi"),
        ));
    }
    let mut out = Vec::new();
    let vary = design::parse_varies(vary, scenario).map_err(|e| Error::invalid("vary", e))?;
    design::refuse_set_and_varied(&vary, overrides, "--vary")
        .map_err(|e| Error::invalid("set", e))?;
    for v in vary {
        let Spec::Range(lo, hi) = v.spec else {
            return Err(Error::invalid("vary", format!(
                "--vary {}: {command} varies a parameter over a range; give NAME=lo:hi or NAME, not `{}`",
                v.name, v.text
            )));
        };
        out.push((v.param, lo, hi));
    }
    Ok(out)
}

/// Renders `sensitivity.csv`.
pub fn sensitivity_csv(method: Method, reps: u64, rows: &[IndexRow]) -> String {
    use std::fmt::Write as _;
    let n = match method {
        Method::Morris { trajectories } => trajectories,
        Method::Sobol { n } => n,
    };
    let mut s = String::from(SENSITIVITY_HEADER);
    for r in rows {
        let _ = write!(
            s,
            "{},{},{},{},{},{}",
            method.name(),
            csv_field(&r.metric.name),
            r.metric.kind(),
            csv_field(r.metric.category.as_deref().unwrap_or("")),
            csv_field(&r.param),
            r.index
        );
        for v in [r.estimate, r.lo, r.hi] {
            s.push(',');
            if !v.is_nan() {
                push_f64(&mut s, v);
            }
        }
        let _ = write!(s, ",{n},{reps},");
        if !r.noise_share.is_nan() {
            push_f64(&mut s, r.noise_share);
        }
        let _ = writeln!(s, ",{}", r.flag);
    }
    s
}

/// The most parameter points a design may have (`N·(k + 1)` for Morris,
/// `N·(k + 2)` for Sobol): their values and per-metric means are held in memory.
pub const MAX_POINTS: u64 = 1_000_000;
/// The most bootstrap resamples.
pub const MAX_BOOTSTRAP: usize = 100_000;

/// Refuses a design of more than [`MAX_POINTS`] points, or with more
/// (point, replication) pairs than a 64-bit index counts, before anything
/// is allocated.
fn check_size(method: Method, k: usize, reps: u64) -> Result<()> {
    let (n, per, formula) = match method {
        Method::Morris { trajectories } => (trajectories, k as u128 + 1, "N × (k + 1)"),
        Method::Sobol { n } => (n, k as u128 + 2, "N × (k + 2)"),
    };
    let points = n as u128 * per;
    if points > u128::from(MAX_POINTS) {
        return Err(Error::invalid("method", format!(
            "--method {}:{n} needs {formula} = {points} parameter points for k = {k} varied parameters; at most {MAX_POINTS} are allowed: give a smaller N",
            method.name()
        )));
    }
    if points * u128::from(reps) > u128::from(u64::MAX) {
        return Err(Error::invalid("reps", format!(
            "--reps {reps} with {points} parameter points is more replications than flashpoint counts (at most {} in all); give fewer --reps",
            u64::MAX
        )));
    }
    Ok(())
}

/// Runs a `sensitivity` request and writes `sensitivity.csv` and `manifest.json`.
pub fn sensitivity(config: &SensitivityConfig) -> Result<SensitivityReport> {
    if config.reps == 0 {
        return Err(Error::invalid("reps", "--reps must be at least 1"));
    }
    if config.bootstrap < 100 {
        return Err(Error::invalid(
            "bootstrap",
            "--bootstrap must be at least 100",
        ));
    }
    if config.bootstrap > MAX_BOOTSTRAP {
        return Err(Error::invalid(
            "bootstrap",
            format!(
                "--bootstrap {}: at most {MAX_BOOTSTRAP} resamples",
                config.bootstrap
            ),
        ));
    }
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    let base = checked_params(&scenario, &config.overrides, "--set")?;
    let vary = resolve_vary(&scenario, &config.vary, &config.overrides, "sensitivity")?;
    check_size(config.method, vary.len(), config.reps)?;
    let seed = config.seed.unwrap_or(scenario.seed);
    // Refused before the work if it already holds a result.
    let out_dir = config.out.as_deref().map(OutputDir::create).transpose()?;
    let (rows, events) = analyse_counting(
        &scenario,
        &base,
        &vary,
        config.method,
        config.reps,
        seed,
        config.threads,
        config.bootstrap,
    )?;
    let mut written = Vec::new();
    let points = config.method.points(vary.len());
    if let Some(mut out) = out_dir {
        out.write(
            "sensitivity.csv",
            sensitivity_csv(config.method, config.reps, &rows).as_bytes(),
        )?;
        let n = match config.method {
            Method::Morris { trajectories } => trajectories,
            Method::Sobol { n } => n,
        };
        written = out.finish(AnalysisRecord {
            kind: "sensitivity",
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.scenario_path.display().to_string(),
                name: scenario.name.clone(),
                sha256,
            },
            seed,
            reps: config.reps,
            rng: format!(
                "{RNG_DESCRIPTION}; every parameter point runs replications 0..reps with replication_key(seed, r, None) (common random numbers); the design and the bootstrap draw from replication_key(seed, u64::MAX, Some(u64::MAX)), streams 0 and 1"
            ),
            params: param_map(&scenario, &base),
            design: serde_json::json!({
                "method": config.method.name(),
                "n": n,
                "vary": vary
                    .iter()
                    .map(|&(i, lo, hi)| serde_json::json!({
                        "param": scenario.params[i].name,
                        "lo": lo,
                        "hi": hi,
                    }))
                    .collect::<Vec<_>>(),
                "n_points": points,
                "bootstrap": config.bootstrap,
            }),
            totals: Totals {
                replications: points as u64 * config.reps,
                events,
            },
        })?;
    }
    Ok(SensitivityReport {
        method: config.method,
        reps: config.reps,
        seed,
        points,
        rows,
        written,
    })
}

/// What `sensitivity` prints: a headline, the table ([`render`]) and the
/// files written.
pub fn render_report(report: &SensitivityReport) -> String {
    let mut out = format!(
        "{} sensitivity: {} points x {} replications, seed {}\n\n",
        report.method.name(),
        report.points,
        report.reps,
        report.seed
    );
    out.push_str(&render(report));
    crate::output::text::push_written(&mut out, &report.written);
    out
}

/// The notes under a metric's table: its noise share when flagged, and
/// every index flagged outside `[0, 1]`.
fn push_notes(out: &mut String, report: &SensitivityReport, metric: &Metric) {
    let rows: Vec<&IndexRow> = report.rows.iter().filter(|r| r.metric == *metric).collect();
    if let Some(r) = rows
        .iter()
        .find(|r| r.flag.split(';').any(|f| f == "noise"))
    {
        out.push_str(&format!(
            "  note: the Monte Carlo noise of a point's mean ({} replications) is {:.1}% of the variance of the means between points (flag `noise`, above {}%): the intervals include it; raise --reps to narrow them\n",
            report.reps,
            100.0 * r.noise_share,
            100.0 * NOISE_SHARE_LIMIT
        ));
    }
    for r in &rows {
        for (flag, side) in [("above_1", "above 1"), ("below_0", "below 0")] {
            if r.flag.split(';').any(|f| f == flag) {
                out.push_str(&format!(
                    "  note: {} of {} is {} [{}, {}], {side} beyond its error (an index lies in [0, 1]): distorted by noise or too few base samples\n",
                    r.index,
                    r.param,
                    fmt_num(r.estimate),
                    fmt_num(r.lo),
                    fmt_num(r.hi)
                ));
            }
        }
    }
}

/// Renders the indices of the scenario's own outcomes, parameters ranked by
/// `mu_star` (Morris) or `ST` (Sobol) within each outcome.
pub fn render(report: &SensitivityReport) -> String {
    let (rank_by, header): (&str, [&str; 5]) = match report.method {
        Method::Morris { .. } => ("mu_star", ["param", "mu*", "95% CI", "mu", "sigma"]),
        Method::Sobol { .. } => ("ST", ["param", "ST", "95% CI", "S1", "S1 95% CI"]),
    };
    let mut out = String::new();
    let mut metrics_seen: Vec<&Metric> = Vec::new();
    for r in report.rows.iter().filter(|r| r.outcome) {
        if !metrics_seen.contains(&&r.metric) {
            metrics_seen.push(&r.metric);
        }
    }
    for metric in metrics_seen {
        let of = |param: &str, index: &str| {
            report
                .rows
                .iter()
                .find(|r| r.metric == *metric && r.param == param && r.index == index)
        };
        let mut params: Vec<(&str, f64)> = report
            .rows
            .iter()
            .filter(|r| r.metric == *metric && r.index == rank_by)
            .map(|r| (r.param.as_str(), r.estimate))
            .collect();
        params.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let rows: Vec<Vec<String>> = params
            .iter()
            .map(|(p, _)| {
                let main = of(p, rank_by).expect("ranked rows exist");
                let mut row = vec![
                    p.to_string(),
                    fmt_num(main.estimate),
                    format!("[{}, {}]", fmt_num(main.lo), fmt_num(main.hi)),
                ];
                match report.method {
                    Method::Morris { .. } => {
                        row.push(of(p, "mu").map_or("-".into(), |r| fmt_num(r.estimate)));
                        row.push(of(p, "sigma").map_or("-".into(), |r| fmt_num(r.estimate)));
                    }
                    Method::Sobol { .. } => {
                        let s1 = of(p, "S1");
                        row.push(s1.map_or("-".into(), |r| fmt_num(r.estimate)));
                        row.push(s1.map_or("-".into(), |r| {
                            format!("[{}, {}]", fmt_num(r.lo), fmt_num(r.hi))
                        }));
                    }
                }
                row
            })
            .collect();
        out.push_str(&format!("{}\n", metric.display()));
        out.push_str(&render_table(&header, &rows));
        push_notes(&mut out, report, metric);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_mark_noise_and_sobol_indices_outside_the_unit_interval_beyond_their_error() {
        assert_eq!(flags(0.05, true, (0.2, 0.9)), "");
        assert_eq!(flags(0.5, true, (0.2, 0.9)), "noise");
        // An estimate of 3.69 whose interval reaches into [0, 1] is within
        // its error; one whose whole interval is above 1 is not.
        assert_eq!(flags(0.0, true, (0.8, 5.0)), "");
        assert_eq!(flags(0.0, true, (1.2, 5.0)), "above_1");
        assert_eq!(flags(0.3, true, (-0.9, -0.1)), "noise;below_0");
        // Morris effects are not bounded.
        assert_eq!(flags(0.0, false, (2.0, 5.0)), "");
        assert_eq!(flags(f64::NAN, true, (0.0, 1.0)), "");
    }

    #[test]
    fn replication_groups_fit_the_cell_budget() {
        assert_eq!(rep_groups(1, 10, 10), 1);
        assert_eq!(rep_groups(7, 10, 10), 7);
        assert_eq!(rep_groups(1000, 10, 10), REP_GROUPS as usize);
        assert_eq!(rep_groups(1000, 1_000_000, 60), 1);
    }
}
