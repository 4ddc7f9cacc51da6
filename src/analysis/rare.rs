//! The `rare` command: the probability of a rare outcome (a terminal event,
//! or a condition at the end of a replication) by multilevel splitting, with
//! an honest interval. docs/rare-events.md has the method, its references
//! and how to read the output.
//!
//! **Adaptive multilevel splitting** (AMS; Cérou & Guyader 2007), in the
//! generalized form of Bréhier, Gazeau, Goudenège, Lelièvre & Rousset
//! (2016, "Unbiasedness of some generalized adaptive multilevel splitting
//! algorithms", Ann. Appl. Probab. 26(6)), which is unbiased for any
//! number of particles and with discrete scores (ties): `N` replications
//! (particles) are run to their end; a particle's level is the running
//! maximum of the score over its events (its value at time 0 included), or
//! `+inf` once it has reached the target. Each iteration takes the lowest
//! level `z`, kills *every* particle whose level is at most `z` (`K` of
//! them; all `N`: the batch estimate is 0), and replaces each by a copy of
//! a survivor drawn uniformly, taken at the first event after which the
//! survivor's score was above `z`, continued on fresh streams
//! ([`Engine::branch`]). It stops when every particle has reached the
//! target. The estimate is `Π_q (1 − K_q / N) × (hits / N)`.
//!
//! **Fixed-effort splitting** with given levels `L_1 < … < L_m`: stage 0
//! runs `N` particles from the start, each until its score is at least
//! `L_1` (a success) or its end; stage `j` starts `N` particles from the
//! states in which stage `j − 1`'s successes reached `L_j`, drawn uniformly
//! with replacement, each until `L_{j+1}` or its end; the last stage counts
//! hits of the target. A particle that reaches the target succeeds at every
//! level. The estimate is the product of the stages' success fractions.
//!
//! **Interval.** `K` independent batches (each a whole AMS or
//! fixed-effort run); the estimate is their mean, its standard error their
//! sample standard deviation over `√K`, and the 95% interval Student's `t`
//! with `K − 1` degrees of freedom, clipped to `[0, 1]`. Each batch
//! estimate is unbiased, so the mean is, and the interval does not lean on
//! the per-run variance formulas that are unreliable for small `N`.
//!
//! **Efficiency gain**: `(p (1 − p) / se²) / (events / m)`, the crude Monte
//! Carlo replications that would give the same standard error divided by
//! the events simulated in units of `m`, the mean events of a crude
//! replication, measured by a pilot run of crude replications (those of
//! `flashpoint run` with the same seed).
//!
//! **Determinism.** Particle `i` of batch `b` starts under
//! `replication_key(seed, i, Some(0x52415245_00000000 | b))`; at iteration
//! (or stage) `q` of batch `b`, the survivors copied are picked from stream 0
//! of `replication_key(seed, q, Some(0x52415245_00000000 | 1 << 32 | b))`, and
//! the `j`-th particle replaced continues under `branch_key(
//! replication_key(seed, q, Some(0x52415245_00000000 | 2 << 32 | b)), j)`.
//! Batches run in parallel, one per task, and are reduced in batch order,
//! so the thread count never reaches a number.

use super::{csv_field, fmt_num, render_table};
use crate::diag::{self, Diagnostic};
use crate::engine::{Engine, RunOptions, Step, Until};
use crate::error::{Error, RepError, RepSource, Result};
use crate::expr::{self, Context, Expr, Type};
use crate::output::manifest::{
    param_map, AnalysisRecord, OutputDir, ScenarioInfo, Totals, RNG_DESCRIPTION,
};
use crate::output::push_f64;
use crate::rng::{branch_key, replication_key, Stream};
use crate::scenario::Scenario;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Particles per batch unless told otherwise.
pub const DEFAULT_PARTICLES: usize = 100;
/// Independent batches unless told otherwise.
pub const DEFAULT_BATCHES: usize = 20;
/// The fewest batches: below, the sample standard error is itself too noisy.
pub const MIN_BATCHES: usize = 10;
/// The most batches.
pub const MAX_BATCHES: usize = 100_000;
/// The most particles per batch.
pub const MAX_PARTICLES: usize = 100_000;
/// Crude replications of the pilot run unless told otherwise.
pub const DEFAULT_PILOT: u64 = 1000;
/// The most crude replications of the pilot run.
pub const MAX_PILOT: u64 = 100_000_000;
/// The most states a particle keeps (one per new maximum of its score);
/// past it the batch fails, suggesting `--levels`.
pub const MAX_SNAPSHOTS: usize = 4096;
/// The most states the particles of one AMS batch keep at once (after the
/// states below the current level are dropped); past it the batch fails,
/// suggesting `--levels` or fewer particles. With [`MAX_SNAPSHOTS`], this
/// bounds a batch's memory.
pub const MAX_BATCH_SNAPSHOTS: usize = 1 << 18;
/// The most AMS iterations per batch.
pub const MAX_ITERATIONS: u64 = 10_000_000;
/// A level with fewer survivors than this share of the particles (or fewer
/// than [`FEW_SURVIVORS_MIN`]) is reported.
pub const FEW_SURVIVORS_SHARE: f64 = 0.05;
/// See [`FEW_SURVIVORS_SHARE`].
pub const FEW_SURVIVORS_MIN: usize = 5;

const TAG: u64 = 0x5241_5245_0000_0000;

/// The key of particle `particle` of batch `batch` at the start.
pub fn particle_key(seed: u64, batch: u64, particle: u64) -> [u8; 32] {
    replication_key(seed, particle, Some(TAG | batch))
}

/// The stream that picks the survivors copied at iteration (or stage)
/// `iteration` of batch `batch`.
pub fn pick_stream(seed: u64, batch: u64, iteration: u64) -> Stream {
    Stream::new(
        &replication_key(seed, iteration, Some(TAG | 1 << 32 | batch)),
        0,
    )
}

/// The key on which the `j`-th particle replaced at iteration (or stage)
/// `iteration` of batch `batch` continues.
pub fn resample_key(seed: u64, batch: u64, iteration: u64, j: u64) -> [u8; 32] {
    branch_key(
        &replication_key(seed, iteration, Some(TAG | 2 << 32 | batch)),
        j,
    )
}

/// What the estimate is the probability of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A terminal event ends the replication (`--event E`).
    Event(String),
    /// A condition holds at the end of the replication (`--when EXPR`).
    When(String),
}

impl TargetSpec {
    /// `event E` or `when EXPR`, as in `rare.csv`'s `target` column.
    pub fn text(&self) -> String {
        match self {
            TargetSpec::Event(e) => format!("event {e}"),
            TargetSpec::When(w) => format!("when {w}"),
        }
    }
}

/// A validated `rare` request.
#[derive(Debug, Clone)]
pub struct RareConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// The target.
    pub target: TargetSpec,
    /// The score (importance function), an expression of the state.
    pub score: String,
    /// Fixed levels (fixed-effort splitting); adaptive (AMS) when `None`.
    pub levels: Option<String>,
    /// Particles per batch.
    pub particles: usize,
    /// Independent batches.
    pub batches: usize,
    /// Crude replications of the pilot run.
    pub pilot: u64,
    /// `--set` overrides.
    pub overrides: Vec<(String, f64)>,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// The compiled target.
#[derive(Debug, Clone)]
enum Target {
    /// By its index among terminal event types.
    Event(usize),
    When(Expr),
}

impl Target {
    fn reached(&self, e: &Engine<'_>, params: &[f64]) -> bool {
        match self {
            Target::Event(k) => e.ended_by() == Some(*k),
            Target::When(w) => e.eval(params, w) != 0.0,
        }
    }
}

/// What the batches share.
struct Ctx<'a> {
    s: &'a Scenario,
    params: &'a [f64],
    score: &'a Expr,
    target: &'a Target,
    levels: Option<&'a [f64]>,
    particles: usize,
    seed: u64,
}

/// One level of one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelRow {
    /// The batch.
    pub batch: u64,
    /// The level (a score value).
    pub level: f64,
    /// Particles above it (AMS) or that reached it (fixed levels).
    pub survivors: usize,
    /// Particles at the stage.
    pub particles: usize,
}

/// One batch's result.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    /// The batch.
    pub batch: u64,
    /// Its estimate.
    pub estimate: f64,
    /// Events simulated.
    pub events: u64,
    /// Its levels in order, with their survivors.
    pub levels: Vec<LevelRow>,
    /// Particles at the target at the end.
    pub hits: usize,
    /// Hits whose score had not passed the batch's highest level before the
    /// target (the score does not lead the way there).
    pub hits_below: usize,
    /// The level at which every particle was killed, if that happened.
    pub extinct_at: Option<f64>,
}

/// The pilot run of crude replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pilot {
    /// Replications.
    pub reps: u64,
    /// Events they had.
    pub events: u64,
    /// Replications that reached the target.
    pub hits: u64,
}

/// What `rare` produced.
#[derive(Debug, Clone)]
pub struct RareReport {
    /// Master seed.
    pub seed: u64,
    /// The target.
    pub target: TargetSpec,
    /// The score expression.
    pub score: String,
    /// The score at time 0.
    pub initial_score: f64,
    /// `ams` or `fixed`.
    pub method: &'static str,
    /// The given levels (fixed-effort splitting).
    pub fixed_levels: Option<Vec<f64>>,
    /// Particles per batch.
    pub particles: usize,
    /// The batches, in order.
    pub batches: Vec<BatchResult>,
    /// The mean of the batch estimates.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// The 95% interval (Student's t, K − 1 degrees of freedom, in [0, 1]).
    pub ci95: (f64, f64),
    /// Events simulated by the batches.
    pub events: u64,
    /// The pilot run.
    pub pilot: Pilot,
    /// Mean events per crude replication (the pilot's).
    pub mean_events: f64,
    /// Crude replications for the same se over the cost in crude replications.
    pub efficiency_gain: f64,
    /// Warnings: what makes the number less trustworthy than it looks.
    pub warnings: Vec<String>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: a table
/// to 30, then the Cornish–Fisher expansion (error below 1e-4 there).
pub fn t975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
        2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
        2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let n = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * n)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
        }
    }
}

/// An expression given on the command line, compiled in the scenario's
/// scope; errors rendered with a caret under the span, as `--OPTION:1:COL`.
fn compile_arg(s: &Scenario, option: &'static str, src: &str, ty: Type) -> Result<Expr> {
    expr::compile(src, &s.scope, Context::default(), Some(ty)).map_err(|errors| {
        let diags: Vec<Diagnostic> = errors
            .into_iter()
            .map(|e| {
                let d = Diagnostic::new(e.span, e.message);
                match e.help {
                    Some(h) => d.with_help(h),
                    None => d,
                }
            })
            .collect();
        let text = diag::render(&format!("--{option}"), src, &diags);
        Error::invalid(option, text.trim_end().replacen(": error: ", ": ", 1))
    })
}

/// Resolves the target: a terminal event, by name, or a condition.
fn resolve_target(s: &Scenario, spec: &TargetSpec) -> Result<Target> {
    match spec {
        TargetSpec::Event(name) => {
            let terminal: Vec<&str> = (s.events.iter())
                .filter(|e| e.terminal)
                .map(|e| e.id.as_str())
                .collect();
            let list = |names: &[&str]| {
                if names.is_empty() {
                    "the scenario has no terminal event; give --when EXPR".to_string()
                } else {
                    format!(
                        "terminal events: {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            };
            let Some(event) = s.events.iter().find(|e| &e.id == name) else {
                let all = s.events.iter().map(|e| e.id.as_str());
                let near = diag::suggest(name, all)
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                return Err(Error::invalid(
                    "event",
                    format!("--event: unknown event `{name}`; {near}{}", list(&terminal)),
                ));
            };
            if !event.terminal {
                let near = diag::suggest(name, terminal.iter().copied())
                    .map(|n| format!(" (nearest: `{n}`)"))
                    .unwrap_or_default();
                return Err(Error::invalid(
                    "event",
                    format!(
                        "--event: `{name}` is not a terminal event, so reaching it does not end a replication; \
                         give a terminal event{near} or --when EXPR; {}",
                        list(&terminal)
                    ),
                ));
            }
            let index = s.events[..]
                .iter()
                .take_while(|e| &e.id != name)
                .filter(|e| e.terminal)
                .count();
            Ok(Target::Event(index))
        }
        TargetSpec::When(w) => Ok(Target::When(compile_arg(s, "when", w, Type::Bool)?)),
    }
}

/// The score: numeric, and reading something a replication changes.
fn resolve_score(s: &Scenario, src: &str) -> Result<Expr> {
    let score = compile_arg(s, "score", src, Type::Num)?;
    let r = score.reads();
    if !(r.time || r.tension || r.state || r.events) {
        let what = if r.params {
            "only parameters"
        } else {
            "nothing"
        };
        return Err(Error::invalid(
            "score",
            format!(
                "--score `{src}` reads {what}: it is the same in every state, so it cannot tell \
                 replications near the target from the others; give an expression of tensions, \
                 actor state, event counts or time, such as `tension(A, B)` or an escalation rung"
            ),
        ));
    }
    Ok(score)
}

/// Parses `--levels a,b,c`: finite numbers, strictly increasing.
pub fn parse_levels(text: &str) -> Result<Vec<f64>> {
    let mut levels = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let v: f64 = part.parse().map_err(|_| {
            Error::invalid(
                "levels",
                format!("--levels: `{part}` is not a number; give increasing numbers like 1,2,3"),
            )
        })?;
        if !v.is_finite() {
            return Err(Error::invalid(
                "levels",
                format!("--levels: `{part}` is not finite"),
            ));
        }
        if let Some(&last) = levels.last() {
            if v <= last {
                return Err(Error::invalid(
                    "levels",
                    format!("--levels must be strictly increasing: {v} comes after {last}"),
                ));
            }
        }
        levels.push(v);
    }
    Ok(levels)
}

/// A particle: its level, whether it reached the target, and the states at
/// which its score first went above each value it reached (one per new
/// maximum; the last, at `+inf`, the state at the target).
struct Particle<'s> {
    level: f64,
    finite_max: f64,
    hit: bool,
    snaps: Vec<(f64, Engine<'s>)>,
}

/// Runs `e` to its end, keeping a state at each new maximum of the score
/// above `max`. Returns the particle and the events simulated.
fn run_particle<'s>(
    c: &Ctx<'_>,
    mut e: Engine<'s>,
    mut max: f64,
    mut snaps: Vec<(f64, Engine<'s>)>,
) -> std::result::Result<(Particle<'s>, u64), crate::engine::SimError> {
    let from = e.n_events();
    let finite_max = loop {
        match e.advance_until(c.params, Until::Above(c.score, max), None)? {
            Step::Stopped => {
                max = score_now(c, &e)?;
                if snaps.len() >= MAX_SNAPSHOTS {
                    return Err(too_many_maxima(&e));
                }
                snaps.push((max, e.clone()));
            }
            Step::Ended => break max,
        }
    };
    let events = u64::from(e.n_events() - from);
    let hit = c.target.reached(&e, c.params);
    let level = if hit {
        snaps.push((f64::INFINITY, e));
        f64::INFINITY
    } else {
        finite_max
    };
    Ok((
        Particle {
            level,
            finite_max,
            hit,
            snaps,
        },
        events,
    ))
}

fn too_many_maxima(e: &Engine<'_>) -> crate::engine::SimError {
    crate::engine::SimError::Invalid {
        time: e.now(),
        message: format!(
            "the score set a new maximum more than {MAX_SNAPSHOTS} times in one replication; \
             give --levels (fixed levels keep one state per level) or a coarser score"
        ),
    }
}

fn score_now(c: &Ctx<'_>, e: &Engine<'_>) -> std::result::Result<f64, crate::engine::SimError> {
    let v = e.eval(c.params, c.score);
    if v.is_nan() {
        return Err(crate::engine::SimError::Invalid {
            time: e.now(),
            message: "the score is NaN".into(),
        });
    }
    Ok(v)
}

/// A uniform index below `n` (> 0).
fn below(rng: &mut Stream, n: usize) -> usize {
    ((rng.uniform() * n as f64) as usize).min(n - 1)
}

fn rep_error(batch: u64, particle: usize, error: crate::engine::SimError) -> RepError {
    RepError {
        source: RepSource::Batch(batch),
        rep: particle as u64,
        error,
    }
}

/// One AMS batch.
fn ams_batch(c: &Ctx<'_>, batch: u64) -> std::result::Result<BatchResult, RepError> {
    let n = c.particles;
    let mut events = 0u64;
    let mut particles = Vec::with_capacity(n);
    let mut engine = Engine::new(c.s);
    for i in 0..n {
        let key = particle_key(c.seed, batch, i as u64);
        engine
            .start(c.params, &key, RunOptions::default())
            .map_err(|e| rep_error(batch, i, e))?;
        let s0 = score_now(c, &engine).map_err(|e| rep_error(batch, i, e))?;
        let (p, ev) =
            run_particle(c, engine.clone(), s0, Vec::new()).map_err(|e| rep_error(batch, i, e))?;
        events += ev;
        particles.push(p);
    }
    let mut product = 1.0;
    let mut levels = Vec::new();
    let mut extinct_at = None;
    let mut iteration = 0u64;
    loop {
        let z = particles
            .iter()
            .map(|p| p.level)
            .fold(f64::INFINITY, f64::min);
        if z == f64::INFINITY {
            break;
        }
        let killed: Vec<usize> = (0..n).filter(|&i| particles[i].level <= z).collect();
        let survivors: Vec<usize> = (0..n).filter(|&i| particles[i].level > z).collect();
        levels.push(LevelRow {
            batch,
            level: z,
            survivors: survivors.len(),
            particles: n,
        });
        if survivors.is_empty() {
            extinct_at = Some(z);
            product = 0.0;
            break;
        }
        if iteration >= MAX_ITERATIONS {
            return Err(rep_error(
                batch,
                0,
                crate::engine::SimError::Invalid {
                    time: 0.0,
                    message: format!(
                        "more than {MAX_ITERATIONS} splitting iterations; give --levels"
                    ),
                },
            ));
        }
        product *= survivors.len() as f64 / n as f64;
        for &i in &survivors {
            particles[i].snaps.retain(|(v, _)| *v > z);
        }
        let mut pick = pick_stream(c.seed, batch, iteration);
        let mut replaced = Vec::with_capacity(killed.len());
        for (j, &i) in killed.iter().enumerate() {
            let from = &particles[survivors[below(&mut pick, survivors.len())]];
            // The first state above z: the survivors' states below are gone.
            let (v, state) = &from.snaps[0];
            let mut e = state.clone();
            let (p, ev) = if e.ended() {
                // A copy of a hit at the target: already there.
                (
                    Particle {
                        level: f64::INFINITY,
                        finite_max: from.finite_max,
                        hit: true,
                        snaps: vec![(f64::INFINITY, e)],
                    },
                    0,
                )
            } else {
                e.branch(&resample_key(c.seed, batch, iteration, j as u64));
                run_particle(c, e, *v, vec![(*v, state.clone())])
                    .map_err(|err| rep_error(batch, i, err))?
            };
            events += ev;
            replaced.push((i, p));
        }
        for (i, p) in replaced {
            particles[i] = p;
        }
        let kept: usize = particles.iter().map(|p| p.snaps.len()).sum();
        if kept > MAX_BATCH_SNAPSHOTS {
            return Err(rep_error(
                batch,
                0,
                crate::engine::SimError::Invalid {
                    time: 0.0,
                    message: format!(
                        "the particles keep {kept} states above level {z} (at most \
                         {MAX_BATCH_SNAPSHOTS}); give --levels, fewer --particles or a coarser score"
                    ),
                },
            ));
        }
        iteration += 1;
    }
    let hits = particles.iter().filter(|p| p.hit).count();
    let top = levels.last().map_or(f64::NEG_INFINITY, |l| l.level);
    let hits_below = particles
        .iter()
        .filter(|p| p.hit && p.finite_max <= top)
        .count();
    Ok(BatchResult {
        batch,
        estimate: product * hits as f64 / n as f64,
        events,
        levels,
        hits,
        hits_below,
        extinct_at,
    })
}

/// One fixed-effort batch over the given levels.
fn fixed_batch(
    c: &Ctx<'_>,
    batch: u64,
    given: &[f64],
) -> std::result::Result<BatchResult, RepError> {
    let n = c.particles;
    let mut events = 0u64;
    let mut engine = Engine::new(c.s);
    // The entrance states of the current stage (ended: at the target).
    let mut entrances: Vec<(Engine<'_>, f64)> = Vec::new();
    let mut product = 1.0;
    let mut levels = Vec::new();
    let mut extinct_at = None;
    let mut hits = 0;
    let mut hits_below = 0;
    for stage in 0..=given.len() {
        let next = given.get(stage).copied();
        let mut pick = pick_stream(c.seed, batch, stage as u64);
        let mut reached = Vec::new();
        hits = 0;
        hits_below = 0;
        for i in 0..n {
            let (mut e, mut max) = if stage == 0 {
                let key = particle_key(c.seed, batch, i as u64);
                engine
                    .start(c.params, &key, RunOptions::default())
                    .map_err(|err| rep_error(batch, i, err))?;
                let s0 = score_now(c, &engine).map_err(|err| rep_error(batch, i, err))?;
                (engine.clone(), s0)
            } else {
                let (state, max) = &entrances[below(&mut pick, entrances.len())];
                let mut e = state.clone();
                if !e.ended() {
                    e.branch(&resample_key(c.seed, batch, stage as u64, i as u64));
                }
                (e, *max)
            };
            let from = e.n_events();
            let step = match next {
                // Already at the level (a jump over several, or the start).
                Some(l) if max >= l && !e.ended() => Step::Stopped,
                Some(l) => (e.advance_until(c.params, Until::AtLeast(c.score, l), None))
                    .map_err(|err| rep_error(batch, i, err))?,
                None => (e.advance_until(c.params, Until::End, None))
                    .map_err(|err| rep_error(batch, i, err))?,
            };
            events += u64::from(e.n_events() - from);
            match step {
                Step::Stopped => {
                    max = max.max(score_now(c, &e).map_err(|err| rep_error(batch, i, err))?);
                    reached.push((e, max));
                }
                Step::Ended => {
                    if c.target.reached(&e, c.params) {
                        hits += 1;
                        if given.last().is_some_and(|&top| max < top) {
                            hits_below += 1;
                        }
                        reached.push((e, max));
                    }
                }
            }
        }
        let survivors = reached.len();
        if let Some(l) = next {
            levels.push(LevelRow {
                batch,
                level: l,
                survivors,
                particles: n,
            });
        }
        product *= survivors as f64 / n as f64;
        if survivors == 0 {
            extinct_at = next;
            break;
        }
        entrances = reached;
    }
    // The running maximum is only tracked at level crossings: a hit's score
    // before the target is known when it hit from below the last level.
    Ok(BatchResult {
        batch,
        estimate: product,
        events,
        levels,
        hits,
        hits_below,
        extinct_at,
    })
}

/// The pilot: crude replications, their events and hits.
fn pilot(c: &Ctx<'_>, reps: u64, threads: usize) -> Result<Pilot> {
    let mut total = Pilot {
        reps,
        events: 0,
        hits: 0,
    };
    super::in_blocks(
        reps,
        threads,
        |range| {
            let mut e = Engine::new(c.s);
            let (mut events, mut hits) = (0u64, 0u64);
            for r in range {
                let key = replication_key(c.seed, r, None);
                e.start(c.params, &key, RunOptions::default())
                    .and_then(|()| e.advance_until(c.params, Until::End, None))
                    .map_err(|err| RepError::at_point(0, r, err))?;
                events += u64::from(e.n_events());
                hits += u64::from(c.target.reached(&e, c.params));
            }
            Ok::<_, RepError>((events, hits))
        },
        |(events, hits)| {
            total.events += events;
            total.hits += hits;
        },
    )?;
    Ok(total)
}

fn check_settings(config: &RareConfig) -> Result<()> {
    if !(2..=MAX_PARTICLES).contains(&config.particles) {
        return Err(Error::invalid(
            "particles",
            format!("--particles must be between 2 and {MAX_PARTICLES}"),
        ));
    }
    if !(MIN_BATCHES..=MAX_BATCHES).contains(&config.batches) {
        return Err(Error::invalid(
            "batches",
            format!(
                "--batches must be between {MIN_BATCHES} and {MAX_BATCHES}: the standard error \
                 comes from the spread of independent batches"
            ),
        ));
    }
    if !(1..=MAX_PILOT).contains(&config.pilot) {
        return Err(Error::invalid(
            "pilot",
            format!("--pilot must be between 1 and {MAX_PILOT}"),
        ));
    }
    Ok(())
}

/// Header of `rare.csv`.
pub const RARE_HEADER: &str = "target,score,method,particles,batches,estimate,se,ci95_lo,ci95_hi,\
levels,events_simulated,pilot_replications,pilot_hits,mean_events_per_replication,efficiency_gain\n";
/// Header of `levels.csv`.
pub const LEVELS_HEADER: &str = "batch,stage,level,survivors,particles,conditional_probability\n";
/// Header of `batches.csv`.
pub const BATCHES_HEADER: &str = "batch,estimate,levels,hits,events_simulated\n";

fn push_num(s: &mut String, x: f64) {
    s.push(',');
    if !x.is_nan() {
        push_f64(s, x);
    }
}

/// Mean number of levels per batch.
fn mean_levels(r: &RareReport) -> f64 {
    let total: usize = r.batches.iter().map(|b| b.levels.len()).sum();
    total as f64 / r.batches.len() as f64
}

/// Renders `rare.csv`: one row, the target's.
pub fn rare_csv(r: &RareReport) -> String {
    let mut s = String::from(RARE_HEADER);
    s.push_str(&csv_field(&r.target.text()));
    s.push(',');
    s.push_str(&csv_field(&r.score));
    let _ = write!(s, ",{},{},{}", r.method, r.particles, r.batches.len());
    for x in [r.estimate, r.se, r.ci95.0, r.ci95.1, mean_levels(r)] {
        push_num(&mut s, x);
    }
    let _ = write!(s, ",{},{},{}", r.events, r.pilot.reps, r.pilot.hits);
    push_num(&mut s, r.mean_events);
    push_num(&mut s, r.efficiency_gain);
    s.push('\n');
    s
}

/// Renders `levels.csv`: every level of every batch, in order.
pub fn levels_csv(r: &RareReport) -> String {
    let mut s = String::from(LEVELS_HEADER);
    for b in &r.batches {
        for (k, l) in b.levels.iter().enumerate() {
            let _ = write!(s, "{},{k}", b.batch);
            push_num(&mut s, l.level);
            let _ = write!(s, ",{},{}", l.survivors, l.particles);
            push_num(&mut s, l.survivors as f64 / l.particles as f64);
            s.push('\n');
        }
    }
    s
}

/// Renders `batches.csv`: each batch's estimate.
pub fn batches_csv(r: &RareReport) -> String {
    let mut s = String::from(BATCHES_HEADER);
    for b in &r.batches {
        let _ = write!(s, "{}", b.batch);
        push_num(&mut s, b.estimate);
        let _ = writeln!(s, ",{},{},{}", b.levels.len(), b.hits, b.events);
    }
    s
}

/// The levels pooled over batches: per distinct level value (in order),
/// survivors and particles summed.
pub fn pooled_levels(r: &RareReport) -> Vec<(f64, usize, usize)> {
    let mut all: Vec<(f64, usize, usize)> = Vec::new();
    for b in &r.batches {
        for l in &b.levels {
            all.push((l.level, l.survivors, l.particles));
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut pooled: Vec<(f64, usize, usize)> = Vec::new();
    for (v, s, n) in all {
        match pooled.last_mut() {
            Some(last) if last.0 == v => {
                last.1 += s;
                last.2 += n;
            }
            _ => pooled.push((v, s, n)),
        }
    }
    pooled
}

fn warnings(r: &RareReport) -> Vec<String> {
    let mut w = Vec::new();
    let k = r.batches.len();
    let extinct: Vec<&BatchResult> = r
        .batches
        .iter()
        .filter(|b| b.extinct_at.is_some())
        .collect();
    if !extinct.is_empty() {
        let at = extinct[0].extinct_at.unwrap_or(f64::NAN);
        w.push(format!(
            "{} of {k} batches stopped with every particle at or below one level (first: batch {} at {}); \
             their estimate is 0: the score rarely rises past that level; more --particles, or a score that \
             rises on the way to the target",
            extinct.len(),
            extinct[0].batch,
            fmt_num(at)
        ));
    }
    let few_limit =
        FEW_SURVIVORS_MIN.max((FEW_SURVIVORS_SHARE * r.particles as f64).ceil() as usize);
    let mut few: Vec<&LevelRow> = (r.batches.iter())
        .flat_map(|b| &b.levels)
        .filter(|l| l.survivors > 0 && l.survivors < few_limit)
        .collect();
    if !few.is_empty() {
        few.sort_by_key(|l| l.survivors);
        let worst = few[0];
        w.push(format!(
            "{} level(s) kept fewer than {few_limit} survivors of {} particles (fewest: {} at level {} of batch {}); \
             the copies above them descend from few states, so the batches vary more than the \
             interval's t approximation assumes; raise --particles",
            few.len(),
            r.particles,
            worst.survivors,
            fmt_num(worst.level),
            worst.batch
        ));
    }
    let hits: usize = r.batches.iter().map(|b| b.hits).sum();
    let below: usize = r.batches.iter().map(|b| b.hits_below).sum();
    if below > 0 {
        w.push(format!(
            "{below} of {hits} particles at the target reached it without their score passing the last level; \
             the score does not lead the way to the target, so splitting gains little; choose a score \
             that is high just before the target"
        ));
    }
    let nonzero = r.batches.iter().filter(|b| b.estimate > 0.0).count();
    if nonzero > 0 && nonzero * 2 < k {
        w.push(format!(
            "only {nonzero} of {k} batch estimates are above 0: the interval rests on few batches; \
             raise --particles or --batches"
        ));
    }
    w
}

/// Runs a `rare` request; writes `rare.csv`, `levels.csv`, `batches.csv`
/// and `manifest.json` to `--out`.
pub fn rare(config: &RareConfig) -> Result<RareReport> {
    check_settings(config)?;
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    let params = super::checked_params(&scenario, &config.overrides, "--set")?;
    let target = resolve_target(&scenario, &config.target)?;
    let score = resolve_score(&scenario, &config.score)?;
    let levels = config.levels.as_deref().map(parse_levels).transpose()?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let out_dir = config.out.as_deref().map(OutputDir::create).transpose()?;
    let c = Ctx {
        s: &scenario,
        params: &params,
        score: &score,
        target: &target,
        levels: levels.as_deref(),
        particles: config.particles,
        seed,
    };
    // The score at time 0 (the same in every replication unless the initial
    // state draws).
    let initial_score = {
        let mut e = Engine::new(&scenario);
        e.start(&params, &particle_key(seed, 0, 0), RunOptions::default())
            .map_err(|err| rep_error(0, 0, err))?;
        e.eval(&params, &score)
    };
    let mut batches = Vec::with_capacity(config.batches);
    crate::runner::harness::in_order(
        config.batches,
        config.threads,
        |b| match c.levels {
            Some(given) => fixed_batch(&c, b as u64, given),
            None => ams_batch(&c, b as u64),
        },
        |r| {
            batches.push(r);
            Ok::<(), ()>(())
        },
    )?
    .expect("the sink never fails");
    let pilot = pilot(&c, config.pilot, config.threads)?;
    let k = batches.len() as f64;
    let estimate = batches.iter().map(|b| b.estimate).sum::<f64>() / k;
    let var = batches
        .iter()
        .map(|b| (b.estimate - estimate).powi(2))
        .sum::<f64>()
        / (k - 1.0);
    let se = (var / k).sqrt();
    let half = t975(batches.len() as u64 - 1) * se;
    let ci95 = ((estimate - half).max(0.0), (estimate + half).min(1.0));
    let events: u64 = batches.iter().map(|b| b.events).sum();
    let mean_events = pilot.events as f64 / pilot.reps as f64;
    let crude_reps = estimate * (1.0 - estimate) / (se * se);
    let efficiency_gain = crude_reps / (events as f64 / mean_events);
    let every_extinct_at_start = batches.iter().all(|b| {
        b.levels.len() == 1 && b.extinct_at.is_some() && b.levels[0].level == initial_score
    });
    if c.levels.is_none() && every_extinct_at_start {
        return Err(Error::invalid(
            "score",
            format!(
                "--score `{}` never rose above its value at time 0 ({}) in any of the {} particles of the {} batches \
                 ({} events), and none reached the target: the score does not move in the replications, or the \
                 target is out of reach; choose a score that rises on the way to the target",
                config.score,
                initial_score,
                config.particles,
                batches.len(),
                events
            ),
        ));
    }
    let mut report = RareReport {
        seed,
        target: config.target.clone(),
        score: config.score.clone(),
        initial_score,
        method: if levels.is_some() { "fixed" } else { "ams" },
        fixed_levels: levels.clone(),
        particles: config.particles,
        batches,
        estimate,
        se,
        ci95,
        events,
        pilot,
        mean_events,
        efficiency_gain,
        warnings: Vec::new(),
        written: Vec::new(),
    };
    report.warnings = warnings(&report);
    if let Some(given) = &levels {
        if given[0] <= initial_score {
            report.warnings.push(format!(
                "the first level {} is not above the score at time 0 ({}): that stage tells nothing",
                fmt_num(given[0]),
                fmt_num(initial_score)
            ));
        }
    }
    if let Some(mut out) = out_dir {
        out.write("rare.csv", rare_csv(&report).as_bytes())?;
        out.write("levels.csv", levels_csv(&report).as_bytes())?;
        out.write("batches.csv", batches_csv(&report).as_bytes())?;
        report.written = out.finish(AnalysisRecord {
            kind: "rare",
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.scenario_path.display().to_string(),
                name: scenario.name.clone(),
                sha256,
            },
            seed,
            reps: config.particles as u64,
            rng: format!(
                "{RNG_DESCRIPTION}; particle i of batch b starts under replication_key(seed, i, Some(0x5241524500000000 | b)); \
                 at iteration q of batch b the survivors copied are picked from stream 0 of \
                 replication_key(seed, q, Some(0x5241524500000000 | 1 << 32 | b)) and the j-th particle replaced continues under \
                 branch_key(replication_key(seed, q, Some(0x5241524500000000 | 2 << 32 | b)), j); the pilot's replication r runs \
                 under replication_key(seed, r, None)"
            ),
            params: param_map(&scenario, &params),
            design: serde_json::json!({
                "method": match &levels {
                    Some(_) => "fixed-effort multilevel splitting",
                    None => "adaptive multilevel splitting (generalized AMS, Brehier et al. 2016)",
                },
                "target": config.target.text(),
                "score": config.score,
                "levels": levels,
                "particles": config.particles,
                "batches": config.batches,
                "pilot": config.pilot,
            }),
            totals: Totals {
                replications: config.pilot,
                events: events + pilot.events,
            },
        })?;
    }
    Ok(report)
}

/// What `rare` prints: the estimate, its interval, the levels, the cost and
/// the efficiency gain, the warnings and the files written.
pub fn render_report(r: &RareReport) -> String {
    let k = r.batches.len();
    let method = match &r.fixed_levels {
        Some(l) => format!("fixed-effort splitting over {} level(s)", l.len()),
        None => "adaptive multilevel splitting".to_string(),
    };
    let mut out = format!(
        "P({}) by {method}: {k} batches of {} particles, seed {}; score `{}` (at time 0: {})\n\n",
        r.target.text(),
        r.particles,
        r.seed,
        r.score,
        fmt_num(r.initial_score)
    );
    let rel = r.se / r.estimate;
    out.push_str(&render_table(
        &["estimate", "se", "relative se", "95% interval (t, K-1 df)"],
        &[vec![
            fmt_num(r.estimate),
            fmt_num(r.se),
            if r.estimate > 0.0 {
                format!("{:.1}%", 100.0 * rel)
            } else {
                "-".into()
            },
            format!("[{}, {}]", fmt_num(r.ci95.0), fmt_num(r.ci95.1)),
        ]],
    ));
    out.push('\n');
    let pooled = pooled_levels(r);
    if pooled.len() <= 30 {
        let rows: Vec<Vec<String>> = pooled
            .iter()
            .map(|&(v, s, n)| vec![fmt_num(v), format!("{s}/{n}"), fmt_num(s as f64 / n as f64)])
            .collect();
        out.push_str("levels (pooled over batches; each batch's in levels.csv):\n");
        out.push_str(&render_table(
            &["level", "survivors", "conditional probability"],
            &rows,
        ));
    } else {
        let _ = writeln!(
            out,
            "levels: {} distinct values, {} per batch on average, from {} to {} (each batch's in levels.csv)",
            pooled.len(),
            fmt_num(mean_levels(r)),
            fmt_num(pooled[0].0),
            fmt_num(pooled[pooled.len() - 1].0)
        );
    }
    out.push('\n');
    let crude_share = r.pilot.hits as f64 / r.pilot.reps as f64;
    let _ = writeln!(
        out,
        "cost: {} events simulated = {} crude replications at {} events each (pilot: {} crude replications, {} at the target, share {})",
        r.events,
        fmt_num(r.events as f64 / r.mean_events),
        fmt_num(r.mean_events),
        r.pilot.reps,
        r.pilot.hits,
        fmt_num(crude_share)
    );
    let _ = writeln!(
        out,
        "efficiency gain: {} (crude replications for the same se, p(1-p)/se^2 = {}, over that cost)",
        fmt_num(r.efficiency_gain),
        fmt_num(r.estimate * (1.0 - r.estimate) / (r.se * r.se))
    );
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    crate::output::text::push_written(&mut out, &r.written);
    out
}
