//! The `calibrate` command: which parameter values make an observed history
//! likely? Approximate Bayesian computation by sequential Monte Carlo
//! (ABC-SMC, the population Monte Carlo sampler of Beaumont, Cornuet, Marin
//! & Robert 2009, with the quantile-based adaptive tolerance schedule of
//! Drovandi & Pettitt 2011; docs/calibration.md has the details).
//!
//! The targets file (TOML) maps outcome names to observed values in
//! `[targets]` (a number, or a label of a categorical outcome; `{ value = V,
//! scale = S }` gives the target's distance scale) and may give a prior per
//! calibrated parameter in `[priors]` (`"uniform"`, the default, over the
//! `--vary` range; `"log-uniform"`; `{ normal = { mean = M, sd = S } }`,
//! truncated to the range). Every problem is reported at its
//! `file:line:col`, with the nearest valid name.
//!
//! Distance: `sqrt(Σ_i d_i²)` over targets, `d_i = |x_i − y_i| / s_i` for a
//! number (`s_i` the given scale, else the median absolute deviation of the
//! target over generation 0, the prior predictive, else 1) and
//! `d_i = [x_i ≠ y_i] / s_i` for a label (`s_i` the given scale, else 1).
//!
//! Generation 0 draws `N` particles from the prior and accepts them all.
//! Generation `g ≥ 1` takes as tolerance `ε_g` the `quantile` of the
//! previous generation's distances (the largest smaller distance when that
//! quantile does not go down, at least `min_tolerance`), then proposes:
//! an ancestor drawn by weight, moved by a Gaussian kernel with twice the
//! weighted variance of each parameter (Beaumont et al. 2009), redrawn until
//! it lies within the prior's support; one replication at the proposal; kept
//! when its distance is at most `ε_g`, until `N` are kept. A kept particle's
//! weight is `π(θ) / Σ_j w_j K(θ | θ_j)`, normalised to sum 1. The sampler
//! stops after `generations`, when the tolerance reaches `min_tolerance`, or
//! when a generation would need more than `max_attempts` proposals (then
//! the last complete generation is the posterior, and the report says so).
//!
//! Determinism: attempt `a` of generation `g` draws its proposal from
//! [`proposal_stream`] `(seed, g, a)` and runs its replication under
//! [`attempt_key`] `(seed, g, a)`; attempts are run in batches of `N` in
//! parallel and the first `N` accepted in attempt order are kept, so neither
//! the thread count nor the batch order reaches a number.

use super::{csv_field, fmt_num, render_table};
use crate::diag::{self, Diagnostic};
use crate::engine::{Column, ColumnKind, Engine, RunOptions};
use crate::error::{Error, RepError, Result};
use crate::output::manifest::{
    param_map, AnalysisRecord, OutputDir, ScenarioInfo, Totals, RNG_DESCRIPTION,
};
use crate::output::push_f64;
use crate::rng::{replication_key, Stream};
use crate::runner::in_blocks;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The share of proposals of generation `g >= 1` drawn from the prior
/// rather than from the kernel around the previous particles (defensive
/// importance sampling, Hesterberg 1995): the proposal density is at least
/// `DEFENSIVE` times the prior's, so no weight exceeds `1 / DEFENSIVE`
/// (prior over proposal) and a proposal in a region the previous generation
/// left empty cannot swamp the others.
pub const DEFENSIVE: f64 = 0.05;

/// Particles per generation unless told otherwise.
pub const DEFAULT_PARTICLES: usize = 1000;
/// Generations (after generation 0, the prior) unless told otherwise.
pub const DEFAULT_GENERATIONS: usize = 8;
/// The quantile of the previous distances that sets the next tolerance.
pub const DEFAULT_QUANTILE: f64 = 0.5;
/// Proposals per particle a generation may make before the sampler stops.
pub const DEFAULT_MAX_ATTEMPTS_PER_PARTICLE: u64 = 200;
/// The most particles.
pub const MAX_PARTICLES: usize = 100_000;

/// An observed value: a number, or a label of a categorical outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A numeric outcome's value.
    Number(f64),
    /// A categorical outcome's label, with its index among the labels.
    Label(String, usize),
}

/// One target: an outcome column and its observed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The outcome (column) name.
    pub name: String,
    /// Its column index in a replication's row.
    pub column: usize,
    /// The observed value.
    pub observed: Observed,
    /// The distance scale the file gives, if any.
    pub scale: Option<f64>,
}

/// A prior over one calibrated parameter's range `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// Uniform over the range.
    Uniform,
    /// Uniform in the logarithm (needs `lo > 0`).
    LogUniform,
    /// Normal, truncated to the range.
    Normal {
        /// Mean (within the range).
        mean: f64,
        /// Standard deviation (positive).
        sd: f64,
    },
}

impl Prior {
    /// The prior as written in `posterior_summary.csv`.
    pub fn text(&self) -> String {
        match self {
            Prior::Uniform => "uniform".into(),
            Prior::LogUniform => "log-uniform".into(),
            Prior::Normal { mean, sd } => format!("normal({mean}, {sd})"),
        }
    }

    /// The density at `x` within `[lo, hi]`, up to a constant factor (0
    /// outside).
    pub fn density(&self, x: f64, lo: f64, hi: f64) -> f64 {
        if !(lo..=hi).contains(&x) {
            return 0.0;
        }
        match *self {
            Prior::Uniform => 1.0,
            Prior::LogUniform => 1.0 / x,
            Prior::Normal { mean, sd } => libm::exp(-0.5 * ((x - mean) / sd).powi(2)),
        }
    }

    /// The density at `x` within `[lo, hi]`, normalised to integrate to 1
    /// over the range (0 outside; NaN for an empty range `hi <= lo`).
    pub fn normalised_density(&self, x: f64, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return f64::NAN;
        }
        if !(lo..=hi).contains(&x) {
            return 0.0;
        }
        match *self {
            Prior::Uniform => 1.0 / (hi - lo),
            Prior::LogUniform => 1.0 / (x * (libm::log(hi) - libm::log(lo))),
            Prior::Normal { mean, sd } => {
                let cdf = |z: f64| 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
                let mass = cdf((hi - mean) / sd) - cdf((lo - mean) / sd);
                libm::exp(-0.5 * ((x - mean) / sd).powi(2))
                    / (sd * (2.0 * std::f64::consts::PI).sqrt())
                    / mass
            }
        }
    }

    /// One draw within `[lo, hi]`.
    pub fn sample(&self, s: &mut Stream, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        match *self {
            Prior::Uniform => (lo + s.uniform() * (hi - lo)).min(hi),
            Prior::LogUniform => {
                let (a, b) = (libm::log(lo), libm::log(hi));
                libm::exp(a + s.uniform() * (b - a)).clamp(lo, hi)
            }
            Prior::Normal { mean, sd } => {
                // Rejection: from the normal when the range is wider than
                // sd (acceptance at least P(0 < Z < 1) since the mean is in
                // range), else from the uniform (acceptance at least e^-1/2).
                for _ in 0..100_000 {
                    if hi - lo >= sd {
                        let x = mean + sd * s.normal();
                        if (lo..=hi).contains(&x) {
                            return x;
                        }
                    } else {
                        let x = (lo + s.uniform() * (hi - lo)).min(hi);
                        if s.uniform() < libm::exp(-0.5 * ((x - mean) / sd).powi(2)) {
                            return x;
                        }
                    }
                }
                mean
            }
        }
    }
}

/// A calibrated parameter: its index, range and prior.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// Parameter index in the scenario.
    pub param: usize,
    /// Its name.
    pub name: String,
    /// Lower end of the range.
    pub lo: f64,
    /// Upper end of the range.
    pub hi: f64,
    /// Its prior.
    pub prior: Prior,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    targets: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    #[serde(default)]
    priors: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

/// Reads a targets file's text (`path` names it in errors) against the
/// scenario's output `columns` and the calibrated parameters `vary` (whose
/// priors it fills in). Every problem is reported at once, located.
pub fn parse_targets(
    path: &str,
    text: &str,
    columns: &[Column],
    vary: &mut [Calibrated],
) -> Result<Vec<Target>> {
    let fail = |d: Vec<Diagnostic>| {
        Error::invalid(
            "targets",
            diag::render(path, text, &d).trim_end().to_string(),
        )
    };
    let raw: RawTargets = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        fail(vec![Diagnostic::new(span, e.message().trim().to_string())])
    })?;
    let mut diags = Vec::new();
    let mut targets = Vec::new();
    let Some(table) = raw.targets else {
        return Err(fail(vec![Diagnostic::new(
            0..0,
            "the targets file has no [targets] table",
        )
        .with_help("give observed values, e.g. [targets] closure_days = 13")]));
    };
    if table.get_ref().is_empty() {
        diags.push(Diagnostic::new(table.span(), "[targets] is empty"));
    }
    for (name, value) in table.get_ref() {
        let Some(column) = columns.iter().position(|c| c.name == *name.get_ref()) else {
            diags.push(
                Diagnostic::new(name.span(), format!("unknown outcome `{}`", name.get_ref()))
                    .with_suggestion(name.get_ref(), columns.iter().map(|c| c.name.as_str())),
            );
            continue;
        };
        let (observed, scale) = match value.get_ref() {
            toml::Value::Table(t) => {
                if let Some(k) = t.keys().find(|k| *k != "value" && *k != "scale") {
                    diags.push(
                        Diagnostic::new(value.span(), format!("unknown key `{k}` in a target"))
                            .with_help("a target is a value or { value = V, scale = S }"),
                    );
                    continue;
                }
                let Some(v) = t.get("value") else {
                    diags.push(Diagnostic::new(
                        value.span(),
                        format!("target `{}` has no `value`", name.get_ref()),
                    ));
                    continue;
                };
                let scale = match t.get("scale").map(number) {
                    None => None,
                    Some(Some(s)) if s.is_finite() && s > 0.0 => Some(s),
                    Some(_) => {
                        diags.push(Diagnostic::new(
                            value.span(),
                            format!(
                                "target `{}`: `scale` must be a positive number",
                                name.get_ref()
                            ),
                        ));
                        continue;
                    }
                };
                (v.clone(), scale)
            }
            v => (v.clone(), None),
        };
        let observed = match (&columns[column].kind, &observed) {
            (ColumnKind::Numeric, v) => match number(v) {
                Some(x) if x.is_finite() => Observed::Number(x),
                _ => {
                    diags.push(Diagnostic::new(
                        value.span(),
                        format!(
                            "outcome `{}` is numeric; give a finite number",
                            name.get_ref()
                        ),
                    ));
                    continue;
                }
            },
            (ColumnKind::Categorical(labels), toml::Value::String(l)) => {
                match labels.iter().position(|x| x == l) {
                    Some(i) => Observed::Label(l.clone(), i),
                    None => {
                        diags.push(
                            Diagnostic::new(
                                value.span(),
                                format!(
                                    "`{l}` is not a category of `{}` (its categories: {})",
                                    name.get_ref(),
                                    labels.join(", ")
                                ),
                            )
                            .with_suggestion(l, labels.iter().map(String::as_str)),
                        );
                        continue;
                    }
                }
            }
            (ColumnKind::Categorical(labels), _) => {
                diags.push(Diagnostic::new(
                    value.span(),
                    format!(
                        "outcome `{}` is categorical; give one of its labels as a string: {}",
                        name.get_ref(),
                        labels.join(", ")
                    ),
                ));
                continue;
            }
        };
        targets.push(Target {
            name: name.get_ref().clone(),
            column,
            observed,
            scale,
        });
    }
    for (name, value) in &raw.priors {
        let Some(c) = vary.iter_mut().find(|c| c.name == *name.get_ref()) else {
            diags.push(
                Diagnostic::new(
                    name.span(),
                    format!(
                        "a prior for `{}`, which is not calibrated (not given with --vary)",
                        name.get_ref()
                    ),
                )
                .with_suggestion(
                    name.get_ref(),
                    vary.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                ),
            );
            continue;
        };
        match prior(value.get_ref(), c.lo, c.hi) {
            Ok(p) => c.prior = p,
            Err(m) => diags.push(Diagnostic::new(
                value.span(),
                format!("prior of `{}`: {m}", name.get_ref()),
            )),
        }
    }
    if diags.is_empty() {
        Ok(targets)
    } else {
        Err(fail(diags))
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn prior(v: &toml::Value, lo: f64, hi: f64) -> std::result::Result<Prior, String> {
    const FORMS: &str = "give \"uniform\", \"log-uniform\" or { normal = { mean = M, sd = S } }";
    match v {
        toml::Value::String(s) if s == "uniform" => Ok(Prior::Uniform),
        toml::Value::String(s) if s == "log-uniform" => {
            if lo > 0.0 {
                Ok(Prior::LogUniform)
            } else {
                Err(format!(
                    "a log-uniform prior needs a range above 0; the range is [{lo}, {hi}]"
                ))
            }
        }
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("normal") => {
            let toml::Value::Table(n) = &t["normal"] else {
                return Err(FORMS.into());
            };
            let (Some(mean), Some(sd)) =
                (n.get("mean").and_then(number), n.get("sd").and_then(number))
            else {
                return Err("a normal prior needs a numeric `mean` and `sd`".into());
            };
            if let Some(k) = n.keys().find(|k| *k != "mean" && *k != "sd") {
                return Err(format!("unknown key `{k}` in a normal prior"));
            }
            if !(sd.is_finite() && sd > 0.0) {
                return Err(format!("sd = {sd} must be a positive number"));
            }
            if !(mean.is_finite() && (lo..=hi).contains(&mean)) {
                return Err(format!(
                    "mean = {mean} lies outside the range [{lo}, {hi}] the prior is truncated to"
                ));
            }
            Ok(Prior::Normal { mean, sd })
        }
        toml::Value::String(s) => Err(format!("unknown prior `{s}`; {FORMS}")),
        _ => Err(FORMS.into()),
    }
}

/// The sampler's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Particles per generation.
    pub particles: usize,
    /// Generations after generation 0 (the prior).
    pub generations: usize,
    /// The quantile of the previous distances that sets the next tolerance.
    pub quantile: f64,
    /// The sampler stops once the tolerance reaches this.
    pub min_tolerance: f64,
    /// Proposals per particle a generation may make.
    pub max_attempts_per_particle: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            particles: DEFAULT_PARTICLES,
            generations: DEFAULT_GENERATIONS,
            quantile: DEFAULT_QUANTILE,
            min_tolerance: 0.0,
            max_attempts_per_particle: DEFAULT_MAX_ATTEMPTS_PER_PARTICLE,
        }
    }
}

impl Settings {
    fn check(&self) -> Result<()> {
        if !(2..=MAX_PARTICLES).contains(&self.particles) {
            return Err(Error::invalid(
                "particles",
                format!("--particles must be between 2 and {MAX_PARTICLES}"),
            ));
        }
        if !(self.quantile > 0.0 && self.quantile < 1.0) {
            return Err(Error::invalid(
                "quantile",
                "--quantile must lie strictly between 0 and 1",
            ));
        }
        if !(self.min_tolerance >= 0.0 && self.min_tolerance.is_finite()) {
            return Err(Error::invalid(
                "min-tolerance",
                "--min-tolerance must be a finite number at least 0",
            ));
        }
        if self.max_attempts_per_particle == 0 {
            return Err(Error::invalid(
                "max-attempts",
                "--max-attempts must be at least 1",
            ));
        }
        Ok(())
    }
}

/// One generation of the sampler.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// 0 for the prior.
    pub index: usize,
    /// Its tolerance (`inf` for generation 0).
    pub tolerance: f64,
    /// Proposals made until the last particle was accepted.
    pub attempts: u64,
    /// Particles: values of the calibrated parameters, in `vary` order.
    pub particles: Vec<Vec<f64>>,
    /// Normalised weights.
    pub weights: Vec<f64>,
    /// Each particle's distance.
    pub distances: Vec<f64>,
}

impl Generation {
    /// Effective sample size, `1 / Σ w²`.
    pub fn ess(&self) -> f64 {
        1.0 / self.weights.iter().map(|w| w * w).sum::<f64>()
    }
}

/// What the progress callback is told after each batch of proposals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The generation running.
    pub generation: usize,
    /// Its tolerance.
    pub tolerance: f64,
    /// Particles accepted so far.
    pub accepted: usize,
    /// Particles wanted.
    pub particles: usize,
    /// Proposals made so far.
    pub attempts: u64,
}

/// The posterior and how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// Every generation, the last one the posterior.
    pub generations: Vec<Generation>,
    /// The distance scale of each target.
    pub scales: Vec<f64>,
    /// Why the sampler stopped.
    pub stopped: String,
    /// Replications run.
    pub replications: u64,
    /// Events that happened in them.
    pub events: u64,
}

impl Posterior {
    /// The last generation.
    pub fn last(&self) -> &Generation {
        self.generations.last().expect("generation 0 always runs")
    }
}

const PROPOSAL_TAG: u64 = 0xCA11_B000_0000_0000;
const SIM_TAG: u64 = 0xCA11_B100_0000_0000;
const PREDICT_TAG: u64 = 0xCA11_B200_0000_0000;

/// The stream attempt `attempt` of generation `generation` draws its
/// proposal from: `Stream::new(replication_key(seed, attempt,
/// Some(0xCA11_B000_0000_0000 | generation)), 0)`.
pub fn proposal_stream(seed: u64, generation: usize, attempt: u64) -> Stream {
    Stream::new(
        &replication_key(seed, attempt, Some(PROPOSAL_TAG | generation as u64)),
        0,
    )
}

/// The replication key of attempt `attempt` of generation `generation`:
/// `replication_key(seed, attempt, Some(0xCA11_B100_0000_0000 | generation))`.
pub fn attempt_key(seed: u64, generation: usize, attempt: u64) -> [u8; 32] {
    replication_key(seed, attempt, Some(SIM_TAG | generation as u64))
}

/// Runs one replication per (point, key) in parallel, in blocks folded in
/// order, and returns the rows and the events they had. A failing
/// replication is reported as replication 0 of "point" `i`, its index.
fn simulate(
    scenario: &Scenario,
    cols: &[Column],
    jobs: Vec<(Vec<f64>, [u8; 32])>,
    threads: usize,
) -> Result<(Vec<Vec<f64>>, u64)> {
    let n_cols = cols.len();
    let n_events = cols.iter().position(|c| c.name == "n_events");
    let mut rows = Vec::with_capacity(jobs.len());
    let mut events = 0u64;
    in_blocks(
        jobs.len() as u64,
        threads,
        |range| {
            let mut engine = Engine::new(scenario);
            let mut values = vec![0.0; (range.end - range.start) as usize * n_cols];
            for (i, j) in range.enumerate() {
                let (point, key) = &jobs[j as usize];
                engine
                    .run(
                        point,
                        key,
                        RunOptions::default(),
                        &mut values[i * n_cols..(i + 1) * n_cols],
                        None,
                    )
                    .map_err(|e| RepError::at_point(j, 0, e))?;
            }
            Ok::<_, RepError>(values)
        },
        |values| {
            for row in values.chunks_exact(n_cols.max(1)) {
                events += n_events.map_or(0, |c| row[c] as u64);
                rows.push(row.to_vec());
            }
        },
    )?;
    Ok((rows, events))
}

/// The distance of a row to the targets.
fn distance(row: &[f64], targets: &[Target], scales: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (t, s) in targets.iter().zip(scales) {
        let x = row[t.column];
        let d = match &t.observed {
            Observed::Number(y) => (x - y).abs() / s,
            Observed::Label(_, i) => f64::from(u8::from(x as usize != *i)) / s,
        };
        if !d.is_finite() {
            return f64::INFINITY;
        }
        sum += d * d;
    }
    sum.sqrt()
}

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The `q`-quantile of `v` (type 7, linear interpolation), sorted in place.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let h = q * (v.len() - 1) as f64;
    let (i, f) = (h.floor() as usize, h - h.floor());
    if i + 1 < v.len() {
        v[i] + f * (v[i + 1] - v[i])
    } else {
        v[i]
    }
}

/// The weighted `q`-quantile: the smallest value whose cumulative weight
/// (in sorted order) reaches `q`.
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    for &i in &idx {
        acc += weights[i];
        if acc >= q * total * (1.0 - 1e-12) {
            return values[i];
        }
    }
    values[*idx.last().expect("at least one value")]
}

/// An index drawn from `weights` (which sum to 1) with a uniform `u`.
fn pick(cumulative: &[f64], u: f64) -> usize {
    let total = *cumulative.last().expect("at least one particle");
    cumulative
        .partition_point(|&c| c <= u * total)
        .min(cumulative.len() - 1)
}

/// Runs the sampler: `base` the full parameter vector (the values of the
/// parameters not calibrated), `vary` the calibrated parameters with their
/// priors, `targets` the observed values. `progress` is called after each
/// batch of proposals.
#[allow(clippy::too_many_arguments)]
pub fn abc_smc(
    scenario: &Scenario,
    base: &[f64],
    vary: &[Calibrated],
    targets: &[Target],
    settings: &Settings,
    seed: u64,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Posterior> {
    settings.check()?;
    let cols = crate::engine::columns(scenario);
    let n = settings.particles;
    let k = vary.len();
    let point = |theta: &[f64]| {
        let mut p = base.to_vec();
        for (c, &x) in vary.iter().zip(theta) {
            p[c.param] = x;
        }
        p
    };
    let mut replications = 0u64;
    let mut events = 0u64;
    // Generation 0: the prior.
    let particles: Vec<Vec<f64>> = (0..n as u64)
        .map(|a| {
            let mut s = proposal_stream(seed, 0, a);
            vary.iter()
                .map(|c| c.prior.sample(&mut s, c.lo, c.hi))
                .collect()
        })
        .collect();
    let jobs = particles
        .iter()
        .enumerate()
        .map(|(a, th)| (point(th), attempt_key(seed, 0, a as u64)))
        .collect();
    let (rows, ev) = simulate(scenario, &cols, jobs, threads)?;
    replications += n as u64;
    events += ev;
    let scales: Vec<f64> = targets
        .iter()
        .map(|t| {
            t.scale.unwrap_or_else(|| match t.observed {
                Observed::Label(..) => 1.0,
                Observed::Number(_) => {
                    let mut v: Vec<f64> = rows
                        .iter()
                        .map(|r| r[t.column])
                        .filter(|x| x.is_finite())
                        .collect();
                    let m = median(&mut v);
                    let mut dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
                    let mad = median(&mut dev);
                    if mad > 0.0 && mad.is_finite() {
                        mad
                    } else {
                        1.0
                    }
                }
            })
        })
        .collect();
    let distances = rows.iter().map(|r| distance(r, targets, &scales)).collect();
    progress(Progress {
        generation: 0,
        tolerance: f64::INFINITY,
        accepted: n,
        particles: n,
        attempts: n as u64,
    });
    let mut generations = vec![Generation {
        index: 0,
        tolerance: f64::INFINITY,
        attempts: n as u64,
        particles,
        weights: vec![1.0 / n as f64; n],
        distances,
    }];
    let mut stopped = format!("ran {} generation(s)", settings.generations);
    for g in 1..=settings.generations {
        let prev = generations.last().expect("generation 0");
        let prev_tol = prev.tolerance;
        if prev_tol <= settings.min_tolerance {
            stopped = format!(
                "stopped after generation {}: the tolerance reached --min-tolerance {}",
                g - 1,
                settings.min_tolerance
            );
            break;
        }
        let mut d = prev.distances.clone();
        let mut tol = quantile(&mut d, settings.quantile);
        if tol >= prev_tol {
            // The quantile did not go down (ties in discrete distances):
            // the largest distance below the previous tolerance.
            match d.iter().rev().find(|&&x| x < prev_tol) {
                Some(&x) => tol = x,
                None => {
                    stopped = format!(
                        "stopped after generation {}: every distance equals the tolerance {}",
                        g - 1,
                        fmt_num(prev_tol)
                    );
                    break;
                }
            }
        }
        tol = tol.max(settings.min_tolerance);
        if !tol.is_finite() {
            return Err(Error::invalid(
                "targets",
                "half the prior's simulations or more give an outcome that is not a number (NaN) for a target; check the targets",
            ));
        }
        // Kernel: Gaussian, variance twice the weighted variance.
        let sd: Vec<f64> = (0..k)
            .map(|j| {
                let m: f64 = prev
                    .particles
                    .iter()
                    .zip(&prev.weights)
                    .map(|(p, w)| w * p[j])
                    .sum();
                let v: f64 = prev
                    .particles
                    .iter()
                    .zip(&prev.weights)
                    .map(|(p, w)| w * (p[j] - m).powi(2))
                    .sum();
                (2.0 * v).sqrt()
            })
            .collect();
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for w in &prev.weights {
            acc += w;
            cumulative.push(acc);
        }
        // The defensive share needs both parts of the mixture to have a
        // density: a kernel of sd 0 (every particle equal in a parameter) or
        // an empty range has none, and then proposals come from the kernel
        // alone.
        let defensive = if sd.iter().all(|&s| s > 0.0) && vary.iter().all(|c| c.hi > c.lo) {
            DEFENSIVE
        } else {
            0.0
        };
        // The kernel's normalising constant (over the parameters it moves).
        let kernel_norm: f64 = sd
            .iter()
            .filter(|&&s| s > 0.0)
            .map(|s| s * (2.0 * std::f64::consts::PI).sqrt())
            .product();
        let max_attempts = settings.max_attempts_per_particle.saturating_mul(n as u64);
        let mut kept: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n);
        let mut attempts = 0u64;
        let mut last_accepted = 0u64;
        while kept.len() < n && attempts < max_attempts {
            let batch = (n as u64).min(max_attempts - attempts);
            let proposals: Vec<Vec<f64>> = (attempts..attempts + batch)
                .map(|a| {
                    let mut s = proposal_stream(seed, g, a);
                    propose(&mut s, prev, &cumulative, &sd, vary, defensive)
                })
                .collect();
            let jobs = proposals
                .iter()
                .enumerate()
                .map(|(i, th)| (point(th), attempt_key(seed, g, attempts + i as u64)))
                .collect();
            let (rows, ev) = simulate(scenario, &cols, jobs, threads)?;
            replications += batch;
            events += ev;
            for (i, (th, row)) in proposals.into_iter().zip(rows).enumerate() {
                let dist = distance(&row, targets, &scales);
                if dist <= tol && kept.len() < n {
                    kept.push((th, dist));
                    last_accepted = attempts + i as u64 + 1;
                }
            }
            attempts += batch;
            progress(Progress {
                generation: g,
                tolerance: tol,
                accepted: kept.len(),
                particles: n,
                attempts,
            });
        }
        if kept.len() < n {
            stopped = format!(
                "stopped in generation {g} (tolerance {}): {} of {n} particles accepted in {max_attempts} proposals (--max-attempts {} per particle); the posterior is generation {}",
                fmt_num(tol),
                kept.len(),
                settings.max_attempts_per_particle,
                g - 1
            );
            break;
        }
        // Weights: prior / proposal, the proposal being the mixture
        // `d·π(θ) + (1 − d)·Σ_j w_j K(θ | θ_j)` (both parts normalised)
        // restricted to the support (a draw outside is redrawn whole, the
        // defensive coin included, so the density of what is kept is that
        // mixture over one constant, which normalising the weights removes).
        let mut weights: Vec<f64> = kept
            .iter()
            .map(|(th, _)| {
                let prior: f64 = vary
                    .iter()
                    .zip(th)
                    .map(|(c, &x)| {
                        if defensive > 0.0 {
                            c.prior.normalised_density(x, c.lo, c.hi)
                        } else {
                            c.prior.density(x, c.lo, c.hi)
                        }
                    })
                    .product();
                let mix: f64 = prev
                    .particles
                    .iter()
                    .zip(&prev.weights)
                    .map(|(p, w)| {
                        let mut e = 0.0;
                        for j in 0..k {
                            if sd[j] > 0.0 {
                                e += ((th[j] - p[j]) / sd[j]).powi(2);
                            } else if th[j] != p[j] {
                                return 0.0;
                            }
                        }
                        w * libm::exp(-0.5 * e)
                    })
                    .sum();
                if defensive > 0.0 {
                    prior / (defensive * prior + (1.0 - defensive) * mix / kernel_norm)
                } else {
                    prior / mix
                }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= total;
        }
        let (particles, distances) = kept.into_iter().unzip();
        generations.push(Generation {
            index: g,
            tolerance: tol,
            attempts: last_accepted,
            particles,
            weights,
            distances,
        });
    }
    if stopped.starts_with("ran") {
        let last = generations.last().expect("generation 0");
        if last.tolerance <= settings.min_tolerance {
            stopped = format!(
                "stopped after generation {}: the tolerance reached --min-tolerance {}",
                last.index, settings.min_tolerance
            );
        }
    }
    Ok(Posterior {
        generations,
        scales,
        stopped,
        replications,
        events,
    })
}

/// One proposal: with probability `defensive` a draw from the prior, else
/// an ancestor by weight moved by the kernel; the whole draw (the choice
/// between the two included) repeated until it lies within every
/// parameter's range.
fn propose(
    s: &mut Stream,
    prev: &Generation,
    cumulative: &[f64],
    sd: &[f64],
    vary: &[Calibrated],
    defensive: f64,
) -> Vec<f64> {
    loop {
        if s.uniform() < defensive {
            return vary.iter().map(|c| c.prior.sample(s, c.lo, c.hi)).collect();
        }
        let anc = &prev.particles[pick(cumulative, s.uniform())];
        let th: Vec<f64> = anc
            .iter()
            .zip(sd)
            .map(|(&x, &sd)| x + sd * s.normal())
            .collect();
        if vary
            .iter()
            .zip(&th)
            .all(|(c, &x)| c.prior.density(x, c.lo, c.hi) > 0.0)
        {
            return th;
        }
    }
}

/// A calibrated parameter's posterior summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSummary {
    /// The parameter's name.
    pub name: String,
    /// Its prior.
    pub prior: Prior,
    /// The range.
    pub lo: f64,
    /// The range.
    pub hi: f64,
    /// The scenario's value (or `--set`'s).
    pub default: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted standard deviation.
    pub sd: f64,
    /// Weighted 5%, 50% and 95% quantiles.
    pub q: [f64; 3],
}

/// The summary of each calibrated parameter of generation `g`.
pub fn summarise(vary: &[Calibrated], base: &[f64], g: &Generation) -> Vec<ParamSummary> {
    vary.iter()
        .enumerate()
        .map(|(j, c)| {
            let x: Vec<f64> = g.particles.iter().map(|p| p[j]).collect();
            let mean: f64 = x.iter().zip(&g.weights).map(|(x, w)| w * x).sum();
            let var: f64 = x
                .iter()
                .zip(&g.weights)
                .map(|(x, w)| w * (x - mean).powi(2))
                .sum();
            ParamSummary {
                name: c.name.clone(),
                prior: c.prior,
                lo: c.lo,
                hi: c.hi,
                default: base[c.param],
                mean,
                sd: var.sqrt(),
                q: [0.05, 0.5, 0.95].map(|q| weighted_quantile(&x, &g.weights, q)),
            }
        })
        .collect()
}

/// The posterior predictive check of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The target.
    pub target: Target,
    /// Its distance scale.
    pub scale: f64,
    /// Predictive mean (the share of the observed label, for a label).
    pub mean: f64,
    /// Predictive 5%, 50% and 95% quantiles (numeric targets).
    pub q: [f64; 3],
    /// Mid-percentile of the observed value, `100·(P(X < y) + P(X = y)/2)`
    /// (numeric targets; `NaN` for labels).
    pub percentile: f64,
}

/// Posterior predictive draws: draw `j` of `draws` takes particle
/// `pick(weights, u)` with `u` from `Stream::new(replication_key(seed, j,
/// Some(0xCA11_B200_0000_0000)), 0)` and runs it under
/// `replication_key(seed, j, Some(0xCA11_B200_0000_0001))`; each target's
/// observed value is placed in the distribution of those replications.
#[allow(clippy::too_many_arguments)]
pub fn predictive_check(
    scenario: &Scenario,
    base: &[f64],
    vary: &[Calibrated],
    targets: &[Target],
    scales: &[f64],
    g: &Generation,
    draws: usize,
    seed: u64,
    threads: usize,
) -> Result<(Vec<Check>, u64)> {
    let cols = crate::engine::columns(scenario);
    let mut cumulative = Vec::with_capacity(g.weights.len());
    let mut acc = 0.0;
    for w in &g.weights {
        acc += w;
        cumulative.push(acc);
    }
    let jobs = (0..draws as u64)
        .map(|j| {
            let mut s = Stream::new(&replication_key(seed, j, Some(PREDICT_TAG)), 0);
            let th = &g.particles[pick(&cumulative, s.uniform())];
            let mut p = base.to_vec();
            for (c, &x) in vary.iter().zip(th) {
                p[c.param] = x;
            }
            (p, replication_key(seed, j, Some(PREDICT_TAG | 1)))
        })
        .collect();
    let (rows, events) = simulate(scenario, &cols, jobs, threads)?;
    let checks = targets
        .iter()
        .zip(scales)
        .map(|(t, &scale)| {
            let mut x: Vec<f64> = rows.iter().map(|r| r[t.column]).collect();
            match t.observed {
                Observed::Label(_, i) => Check {
                    target: t.clone(),
                    scale,
                    mean: x.iter().filter(|&&v| v as usize == i).count() as f64 / x.len() as f64,
                    q: [f64::NAN; 3],
                    percentile: f64::NAN,
                },
                Observed::Number(y) => {
                    x.retain(|v| v.is_finite());
                    let below = x.iter().filter(|&&v| v < y).count() as f64;
                    let equal = x.iter().filter(|&&v| v == y).count() as f64;
                    let m = x.len() as f64;
                    Check {
                        target: t.clone(),
                        scale,
                        mean: x.iter().sum::<f64>() / m,
                        q: [0.05, 0.5, 0.95].map(|q| quantile(&mut x, q)),
                        percentile: 100.0 * (below + 0.5 * equal) / m,
                    }
                }
            }
        })
        .collect();
    Ok((checks, events))
}

/// A validated `calibrate` request.
#[derive(Debug, Clone)]
pub struct CalibrateConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// The targets file.
    pub targets_path: PathBuf,
    /// `--set` overrides of the parameters not calibrated.
    pub overrides: Vec<(String, f64)>,
    /// The calibrated parameters, `NAME` or `NAME=lo:hi` as for `sensitivity`.
    pub vary: Vec<String>,
    /// The sampler's settings.
    pub settings: Settings,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// What `calibrate` produced.
#[derive(Debug, Clone)]
pub struct CalibrateReport {
    /// Master seed.
    pub seed: u64,
    /// The calibrated parameters.
    pub vary: Vec<Calibrated>,
    /// The sampler's run.
    pub posterior: Posterior,
    /// The posterior summary.
    pub summary: Vec<ParamSummary>,
    /// The posterior predictive check.
    pub checks: Vec<Check>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// Reads the targets file and resolves `--vary` (uniform priors, then the
/// file's); also returns the SHA-256 of the bytes read, for the manifest,
/// so that the hash recorded is that of the text parsed.
pub fn load_targets(
    scenario: &Scenario,
    targets_path: &Path,
    vary: &[String],
    overrides: &[(String, f64)],
) -> Result<(Vec<Calibrated>, Vec<Target>, String)> {
    let mut calibrated: Vec<Calibrated> =
        super::sensitivity::resolve_vary(scenario, vary, overrides, "calibrate")?
            .into_iter()
            .map(|(param, lo, hi)| Calibrated {
                param,
                name: scenario.params[param].name.clone(),
                lo,
                hi,
                prior: Prior::Uniform,
            })
            .collect();
    let text = std::fs::read_to_string(targets_path).map_err(|e| Error::io(targets_path, e))?;
    let sha256 = crate::digest::sha256_hex(text.as_bytes());
    let cols = crate::engine::columns(scenario);
    let targets = parse_targets(
        &targets_path.display().to_string(),
        &text,
        &cols,
        &mut calibrated,
    )?;
    Ok((calibrated, targets, sha256))
}

/// Header of `posterior_summary.csv`.
pub const SUMMARY_HEADER: &str = "param,prior,lo,hi,default,mean,sd,q05,q50,q95,ess\n";
/// Header of `tolerances.csv`.
pub const TOLERANCES_HEADER: &str = "generation,tolerance,attempts,accepted,acceptance,ess\n";
/// Header of `predictive.csv`.
pub const PREDICTIVE_HEADER: &str =
    "target,kind,observed,scale,mean,q05,q50,q95,percentile,share_observed\n";

fn push_num(s: &mut String, x: f64) {
    s.push(',');
    if !x.is_nan() {
        push_f64(s, x);
    }
}

/// Renders `posterior.csv`: one column per calibrated parameter, then `weight`.
pub fn posterior_csv(vary: &[Calibrated], g: &Generation) -> String {
    let mut s = vary
        .iter()
        .map(|c| csv_field(&c.name))
        .collect::<Vec<_>>()
        .join(",");
    s.push_str(",weight\n");
    for (p, w) in g.particles.iter().zip(&g.weights) {
        for (j, x) in p.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            push_f64(&mut s, *x);
        }
        push_num(&mut s, *w);
        s.push('\n');
    }
    s
}

fn summary_csv(summary: &[ParamSummary], ess: f64) -> String {
    let mut s = String::from(SUMMARY_HEADER);
    for p in summary {
        s.push_str(&csv_field(&p.name));
        s.push(',');
        s.push_str(&csv_field(&p.prior.text()));
        for x in [
            p.lo, p.hi, p.default, p.mean, p.sd, p.q[0], p.q[1], p.q[2], ess,
        ] {
            push_num(&mut s, x);
        }
        s.push('\n');
    }
    s
}

fn tolerances_csv(post: &Posterior, n: usize) -> String {
    let mut s = String::from(TOLERANCES_HEADER);
    for g in &post.generations {
        let _ = write!(s, "{}", g.index);
        push_num(&mut s, g.tolerance);
        let _ = write!(s, ",{},{n}", g.attempts);
        push_num(&mut s, n as f64 / g.attempts as f64);
        push_num(&mut s, g.ess());
        s.push('\n');
    }
    s
}

fn predictive_csv(checks: &[Check]) -> String {
    let mut s = String::from(PREDICTIVE_HEADER);
    for c in checks {
        s.push_str(&csv_field(&c.target.name));
        match &c.target.observed {
            Observed::Number(y) => {
                s.push_str(",numeric,");
                push_f64(&mut s, *y);
                push_num(&mut s, c.scale);
                for x in [c.mean, c.q[0], c.q[1], c.q[2], c.percentile] {
                    push_num(&mut s, x);
                }
                s.push_str(",\n");
            }
            Observed::Label(l, _) => {
                let _ = write!(s, ",label,{}", csv_field(l));
                push_num(&mut s, c.scale);
                s.push_str(",,,,,");
                push_num(&mut s, c.mean);
                s.push('\n');
            }
        }
    }
    s
}

/// Runs a `calibrate` request and writes `posterior.csv`,
/// `posterior_summary.csv`, `tolerances.csv`, `predictive.csv` and
/// `manifest.json` to `--out`.
pub fn calibrate(
    config: &CalibrateConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<CalibrateReport> {
    config.settings.check()?;
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    let base = super::checked_params(&scenario, &config.overrides, "--set")?;
    let (vary, targets, targets_sha256) = load_targets(
        &scenario,
        &config.targets_path,
        &config.vary,
        &config.overrides,
    )?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let out_dir = config.out.as_deref().map(OutputDir::create).transpose()?;
    let posterior = abc_smc(
        &scenario,
        &base,
        &vary,
        &targets,
        &config.settings,
        seed,
        config.threads,
        progress,
    )?;
    let last = posterior.last();
    let summary = summarise(&vary, &base, last);
    let draws = config.settings.particles;
    let (checks, pred_events) = predictive_check(
        &scenario,
        &base,
        &vary,
        &targets,
        &posterior.scales,
        last,
        draws,
        seed,
        config.threads,
    )?;
    let mut written = Vec::new();
    if let Some(mut out) = out_dir {
        out.write("posterior.csv", posterior_csv(&vary, last).as_bytes())?;
        out.write(
            "posterior_summary.csv",
            summary_csv(&summary, last.ess()).as_bytes(),
        )?;
        out.write(
            "tolerances.csv",
            tolerances_csv(&posterior, config.settings.particles).as_bytes(),
        )?;
        out.write("predictive.csv", predictive_csv(&checks).as_bytes())?;
        written = out.finish(AnalysisRecord {
            kind: "calibrate",
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.scenario_path.display().to_string(),
                name: scenario.name.clone(),
                sha256,
            },
            seed,
            reps: 1,
            rng: format!(
                "{RNG_DESCRIPTION}; attempt a of generation g draws its proposal from replication_key(seed, a, Some(0xCA11B00000000000 | g)) stream 0 and runs under replication_key(seed, a, Some(0xCA11B10000000000 | g)); predictive draw j picks its particle from replication_key(seed, j, Some(0xCA11B20000000000)) stream 0 and runs under replication_key(seed, j, Some(0xCA11B20000000001))"
            ),
            params: param_map(&scenario, &base),
            design: serde_json::json!({
                "method": "abc-smc (Beaumont et al. 2009; quantile tolerances, Drovandi & Pettitt 2011)",
                "targets_file": config.targets_path.display().to_string(),
                "targets_sha256": targets_sha256,
                "particles": config.settings.particles,
                "generations": config.settings.generations,
                "quantile": config.settings.quantile,
                "min_tolerance": config.settings.min_tolerance,
                "max_attempts_per_particle": config.settings.max_attempts_per_particle,
                "vary": vary.iter().map(|c| serde_json::json!({
                    "param": c.name, "lo": c.lo, "hi": c.hi, "prior": c.prior.text(),
                })).collect::<Vec<_>>(),
                "stopped": posterior.stopped,
            }),
            totals: Totals {
                replications: posterior.replications + draws as u64,
                events: posterior.events + pred_events,
            },
        })?;
    }
    Ok(CalibrateReport {
        seed,
        vary,
        posterior,
        summary,
        checks,
        written,
    })
}

/// What `calibrate` prints: the tolerance schedule, the posterior summary,
/// the predictive check and the files written.
pub fn render_report(r: &CalibrateReport) -> String {
    let last = r.posterior.last();
    let mut out = format!(
        "abc-smc calibration: {} particles, {} generation(s) after the prior, seed {}; {}\n\n",
        last.particles.len(),
        r.posterior.generations.len() - 1,
        r.seed,
        r.posterior.stopped
    );
    let rows: Vec<Vec<String>> = r
        .posterior
        .generations
        .iter()
        .map(|g| {
            vec![
                g.index.to_string(),
                fmt_num(g.tolerance),
                g.attempts.to_string(),
                fmt_num(g.particles.len() as f64 / g.attempts as f64),
                fmt_num(g.ess()),
            ]
        })
        .collect();
    out.push_str(&render_table(
        &["generation", "tolerance", "proposals", "acceptance", "ESS"],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .summary
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.prior.text(),
                fmt_num(p.default),
                fmt_num(p.mean),
                fmt_num(p.sd),
                fmt_num(p.q[0]),
                fmt_num(p.q[1]),
                fmt_num(p.q[2]),
            ]
        })
        .collect();
    out.push_str(&render_table(
        &["param", "prior", "set", "mean", "sd", "5%", "50%", "95%"],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .checks
        .iter()
        .map(|c| match &c.target.observed {
            Observed::Number(y) => vec![
                c.target.name.clone(),
                fmt_num(*y),
                fmt_num(c.mean),
                format!("[{}, {}]", fmt_num(c.q[0]), fmt_num(c.q[2])),
                format!("percentile {:.0}", c.percentile),
            ],
            Observed::Label(l, _) => vec![
                c.target.name.clone(),
                l.clone(),
                "-".into(),
                "-".into(),
                format!("{:.1}% of draws", 100.0 * c.mean),
            ],
        })
        .collect();
    out.push_str(&render_table(
        &[
            "target",
            "observed",
            "predictive mean",
            "90% interval",
            "observed is",
        ],
        &rows,
    ));
    crate::output::text::push_written(&mut out, &r.written);
    out
}
