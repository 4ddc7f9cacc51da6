//! Running replications and writing their results: `run` (one parameter
//! point) and `sweep` (many) share one code path on top of the parallel
//! [`crate::runner::harness`]; [`merge`] joins the shards of a sweep.
//!
//! # Files
//!
//! Every output file is written as `<name>.partial` and renamed when complete,
//! `manifest.json` last: a directory with `manifest.json` holds a finished
//! result; one with `manifest.json.partial` holds an interrupted sweep that
//! `--resume` completes. Summaries are computed from the rows in (point, rep)
//! order, so a resumed or merged sweep summarises exactly the same numbers in
//! the same order as an uninterrupted one: the files are byte-identical. The
//! time-series summary cannot be rebuilt from rows (only the first K
//! replications of a point are written); its state is order-independent
//! instead, and shards save the state of the points they cut (the private
//! `timeseries` module).

pub mod check;
pub mod merge;
pub mod report;
pub mod reread;
mod timeseries;

use crate::engine::{columns, Column, ColumnKind, Engine, RunOptions, TraceEvent};
use crate::error::RepError;
use crate::error::{Error, Result};
use crate::output::atomic::partial_path;
use crate::output::manifest::{Manifest, ScenarioInfo, TimeseriesInfo, Totals, RNG_DESCRIPTION};
use crate::output::tables::{
    push_run_row, runs_header, summary_header, summary_prefix, Keys, PointSummary,
};
use crate::output::{fmt_f64, push_f64, write_atomic, AtomicFile};
use crate::runner::design::{self, DesignKind, Vary};
use crate::runner::harness::{execute, Plan};
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use timeseries::TimeseriesSink;

/// A validated `run` request (the CLI builds it from its arguments).
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set NAME=VALUE` overrides.
    pub overrides: Vec<(String, f64)>,
    /// Replications (at least 1).
    pub reps: u64,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Output directory; nothing is written without it.
    pub out: Option<PathBuf>,
    /// Replications to trace into `events.csv`.
    pub trace: u64,
    /// `--timeseries DT`: write `timeseries.csv` and `timeseries_summary.csv`.
    pub timeseries: Option<TimeseriesOptions>,
    /// `--posterior DIR`: draw each replication's parameters from the
    /// weighted particles of `DIR/posterior.csv` (`flashpoint calibrate`)
    /// ([`crate::runner::mixture`]).
    pub posterior: Option<PathBuf>,
    /// `--tie-audit`: also run the tie-order audit
    /// ([`crate::analysis::ties`]); with `out`, `tie_audit.csv` is written
    /// before `manifest.json`, which lists it.
    pub tie_audit: bool,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// `--timeseries DT [--timeseries-reps K]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeseriesOptions {
    /// Grid spacing in the scenario's time unit (positive, finite).
    pub dt: f64,
    /// Replications per point written in full to `timeseries.csv` (the first
    /// K; the summary uses all of them).
    pub reps: u64,
}

/// Default of `--timeseries-reps`.
pub const DEFAULT_TIMESERIES_REPS: u64 = 10;

/// A validated `sweep` request.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set NAME=VALUE`: values of the parameters that are not varied.
    pub overrides: Vec<(String, f64)>,
    /// `--vary NAME=SPEC`, as written (none with a `file:` design).
    pub vary: Vec<String>,
    /// `grid`, `lhs:N`, `random:N` or `file:PATH` (a CSV file of points,
    /// [`design::points_from_csv`]).
    pub design: String,
    /// The points of a `file:` design as a manifest recorded them, used
    /// instead of reading the file (`check` re-runs a file design from its
    /// manifest, whether or not the file is still there).
    pub recorded_design: Option<RecordedDesign>,
    /// Replications per point (at least 1).
    pub reps: u64,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Output directory; without it nothing is written (and `shard`,
    /// `no_runs`, `resume` and `timeseries`, which are about files, are
    /// refused).
    pub out: Option<PathBuf>,
    /// `--shard I/N`: run the I-th of N contiguous slices.
    pub shard: Option<(u64, u64)>,
    /// Mix the point index into every replication's key.
    pub independent_streams: bool,
    /// Do not write `runs.csv`.
    pub no_runs: bool,
    /// Complete the interrupted sweep in `out`.
    pub resume: bool,
    /// `--timeseries DT`: write `timeseries.csv` and `timeseries_summary.csv`.
    pub timeseries: Option<TimeseriesOptions>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// A `file:` design as its manifest records it: the file's path and hash
/// and the points read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDesign {
    /// The file, as given after `file:`.
    pub file: DesignFile,
    /// The varied parameters, in the file's column order.
    pub params: Vec<String>,
    /// One vector of their values per point.
    pub points: Vec<Vec<f64>>,
}

/// The CSV file of a `file:` design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesignFile {
    /// Its path, as given after `file:`.
    pub path: String,
    /// The SHA-256 of its bytes when the sweep read it.
    pub sha256: String,
}

impl RecordedDesign {
    /// The design recorded in a manifest's `design` object, if it is a
    /// `file` design with well-formed fields.
    pub fn from_manifest(design: &serde_json::Value) -> Option<RecordedDesign> {
        if design["kind"] != "file" {
            return None;
        }
        Some(RecordedDesign {
            file: DesignFile {
                path: design["file"]["path"].as_str()?.to_string(),
                sha256: design["file"]["sha256"].as_str()?.to_string(),
            },
            params: serde_json::from_value(design["params"].clone()).ok()?,
            points: serde_json::from_value(design["points"].clone()).ok()?,
        })
    }
}

/// Reads the design file at `path` (`file:PATH`) against the scenario: its
/// varied parameters, points and hash ([`design::points_from_csv`]).
pub fn read_design_file(
    path: &str,
    scenario: &Scenario,
) -> Result<(Vec<Vary>, Vec<Vec<f64>>, DesignFile)> {
    use crate::output::read::{read_csv_hashed, ReadError};
    let invalid = |m: String| Error::invalid("design", m);
    let (csv, sha256) = match read_csv_hashed(Path::new(path)) {
        Ok(read) => read,
        Err(ReadError::Io { source, .. }) => {
            return Err(invalid(format!("--design file:{path}: {source}")));
        }
        Err(ReadError::Malformed { line, message, .. }) => {
            return Err(invalid(format!("{path}:{line}: {message}")));
        }
    };
    let records: Vec<(u64, Vec<String>)> = csv.lines.into_iter().zip(csv.records).collect();
    let (vary, points) =
        design::points_from_csv(path, &csv.header, &records, scenario, None).map_err(invalid)?;
    Ok((
        vary,
        points,
        DesignFile {
            path: path.to_string(),
            sha256,
        },
    ))
}

/// The varied parameters and points of a recorded file design, checked
/// against the scenario as the file was (`what` names the record in
/// messages; row `i` is reported as line `i + 2`, as in the file).
fn recorded_points(
    recorded: &RecordedDesign,
    what: &str,
    scenario: &Scenario,
) -> Result<(Vec<Vary>, Vec<Vec<f64>>)> {
    let records: Vec<(u64, Vec<String>)> = (recorded.points.iter().enumerate())
        .map(|(i, p)| (i as u64 + 2, p.iter().map(|x| fmt_f64(*x)).collect()))
        .collect();
    design::points_from_csv(what, &recorded.params, &records, scenario, None)
        .map_err(|e| Error::invalid("design", e))
}

/// What a run or sweep produced, for printing.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario_name: String,
    /// The output columns.
    pub columns: Vec<Column>,
    /// The summary of the last point (the only one, for `run`).
    pub summary: PointSummary,
    /// Points in the design.
    pub points: u64,
    /// Replications simulated by this invocation (a resumed sweep with time
    /// series counts those it simulated again).
    pub reps: u64,
    /// Events over those replications.
    pub events: u64,
    /// Wall-clock seconds spent simulating and writing.
    pub seconds: f64,
    /// The master seed used.
    pub seed: u64,
    /// The tie-order audit, with `--tie-audit`.
    pub tie_audit: Option<crate::analysis::ties::TieReport>,
    /// Files written, if any.
    pub written: Vec<PathBuf>,
    /// Metrics the printed table leaves out: the `count_<e>` columns of
    /// hidden events (the files keep them).
    pub hidden_metrics: Vec<String>,
    /// The varied parameters' names (sweeps).
    pub varied: Vec<String>,
    /// Each point's values of the varied parameters.
    pub point_values: Vec<Vec<f64>>,
    /// The printed report's statistics ([`report`]).
    pub report: report::ReportData,
}

/// Everything that decides the numbers of a run or sweep.
pub(crate) struct Job<'a> {
    pub scenario: &'a Scenario,
    pub scenario_path: String,
    pub sha256: String,
    pub sweep: bool,
    /// Parameter values before variation (defaults with `--set`).
    pub base: Vec<f64>,
    pub vary: Vec<Vary>,
    pub design: Option<DesignKind>,
    /// The file of a `file:` design (then `design` is `None`).
    pub design_file: Option<DesignFile>,
    /// Varied values, one vector per point.
    pub points: Vec<Vec<f64>>,
    pub reps: u64,
    pub seed: u64,
    pub independent_streams: bool,
    pub shard: Option<(u64, u64)>,
    pub no_runs: bool,
    pub trace: u64,
    pub timeseries: Option<TimeseriesOptions>,
    /// Run the tie-order audit too (`run --tie-audit`).
    pub tie_audit: bool,
    /// `run --posterior`: the particles each replication draws from.
    pub posterior: Option<Posterior>,
    pub command: Vec<String>,
}

/// The posterior of `run --posterior DIR`, read from `DIR/posterior.csv`.
#[derive(Debug, Clone)]
pub(crate) struct Posterior {
    /// `DIR/posterior.csv`, as given.
    pub path: String,
    /// The SHA-256 of its bytes.
    pub sha256: String,
    /// The calibrated parameters, in the file's column order.
    pub vary: Vec<Vary>,
    /// Each particle's values of those parameters.
    pub values: Vec<Vec<f64>>,
    /// The particles as full parameter vectors, with their weights.
    pub mixture: crate::runner::mixture::Mixture,
}

/// Reads `DIR/posterior.csv` (a `weight` column and one column per
/// calibrated parameter, named as in `[params]`) against the scenario:
/// the parameter columns are checked as a `--design file:` CSV's are
/// ([`design::points_from_csv`]), each weight must be a finite number of at
/// least 0, and not all 0. `base` fills the other parameters.
fn read_posterior(dir: &Path, scenario: &Scenario, base: &[f64]) -> Result<Posterior> {
    use crate::output::read::{read_csv_hashed, ReadError};
    let path = dir.join("posterior.csv");
    let name = path.display().to_string();
    let invalid = |m: String| Error::invalid("posterior", m);
    let (csv, sha256) = match read_csv_hashed(&path) {
        Ok(read) => read,
        Err(ReadError::Io { source, .. }) => {
            return Err(invalid(format!(
                "--posterior {}: cannot read {name} ({source}); give the --out DIR of `flashpoint calibrate`",
                dir.display()
            )));
        }
        Err(ReadError::Malformed { line, message, .. }) => {
            return Err(invalid(format!("{name}:{line}: {message}")));
        }
    };
    let Some(w) = csv.column("weight") else {
        return Err(invalid(format!(
            "{name}: no `weight` column; a posterior has one column per calibrated parameter and `weight`"
        )));
    };
    let mut weights = Vec::with_capacity(csv.records.len());
    for (line, row) in csv.lines.iter().zip(&csv.records) {
        let text = row[w].trim();
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => weights.push(x),
            _ => {
                return Err(invalid(format!(
                    "{name}:{line}:{}: weight = `{text}` is not a finite number of at least 0",
                    w + 1
                )));
            }
        }
    }
    if csv.header.len() == 1 {
        return Err(invalid(format!(
            "{name}:1:1: no parameter column besides `weight`"
        )));
    }
    let records: Vec<(u64, Vec<String>)> = csv.lines.into_iter().zip(csv.records).collect();
    let (vary, values) = design::points_from_csv(&name, &csv.header, &records, scenario, Some(w))
        .map_err(invalid)?;
    let points = values
        .iter()
        .map(|v| {
            let mut p = base.to_vec();
            for (var, x) in vary.iter().zip(v) {
                p[var.param] = *x;
            }
            p
        })
        .collect();
    let mixture = crate::runner::mixture::Mixture::new(points, &weights)
        .map_err(|e| invalid(format!("{name}: {e}")))?;
    Ok(Posterior {
        path: name,
        sha256,
        vary,
        values,
        mixture,
    })
}

impl Job<'_> {
    fn total(&self) -> u64 {
        self.points.len() as u64 * self.reps
    }

    fn range(&self) -> std::ops::Range<u64> {
        shard_range(self.total(), self.shard)
    }

    fn keys(&self) -> Keys {
        Keys {
            point: self.sweep,
            params: self.vary.iter().map(|v| v.name.clone()).collect(),
        }
    }

    /// The keys of `runs.csv`: those of the summary, and for `run
    /// --posterior` each replication's drawn values of the posterior's
    /// parameters.
    fn runs_keys(&self) -> Keys {
        let mut keys = self.keys();
        if let Some(p) = &self.posterior {
            keys.params = p.vary.iter().map(|v| v.name.clone()).collect();
        }
        keys
    }

    /// Full parameter vectors, one per point.
    fn full_points(&self) -> Vec<Vec<f64>> {
        self.points
            .iter()
            .map(|values| {
                let mut p = self.base.clone();
                for (v, x) in self.vary.iter().zip(values) {
                    p[v.param] = *x;
                }
                p
            })
            .collect()
    }

    /// The manifest, without outputs and totals.
    fn manifest(&self) -> Manifest {
        let shard = self.shard.map(|(i, n)| serde_json::json!({ "index": i, "count": n, "start": self.range().start, "end": self.range().end }));
        let design = if let Some(file) = &self.design_file {
            Some(serde_json::json!({
                "kind": "file",
                "file": { "path": file.path, "sha256": file.sha256 },
                "vary": Vec::<String>::new(),
                "params": self.vary.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
                "n_points": self.points.len(),
                "points": self.points,
                "shard": shard,
                "no_runs": self.no_runs,
            }))
        } else {
            self.design.map(|d| {
                serde_json::json!({
                    "kind": d.text(),
                    "vary": self.vary.iter().map(|v| v.text.clone()).collect::<Vec<_>>(),
                    "params": self.vary.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
                    "n_points": self.points.len(),
                    "points": self.points,
                    "shard": shard,
                    "no_runs": self.no_runs,
                })
            })
        };
        Manifest {
            flashpoint_version: env!("CARGO_PKG_VERSION").to_string(),
            language_version: crate::scenario::LANGUAGE_VERSION,
            kind: if self.sweep { "sweep" } else { "run" }.into(),
            created: crate::output::manifest::utc_now(),
            command: self.command.clone(),
            scenario: ScenarioInfo {
                path: self.scenario_path.clone(),
                name: self.scenario.name.clone(),
                sha256: self.sha256.clone(),
            },
            seed: self.seed,
            reps: self.reps,
            rng: RNG_DESCRIPTION.into(),
            independent_streams: self.independent_streams,
            params: self
                .scenario
                .params
                .iter()
                .zip(&self.base)
                .map(|(p, v)| (p.name.clone(), *v))
                .collect(),
            design,
            trace_reps: self.trace,
            timeseries: self.timeseries.map(|o| TimeseriesInfo {
                dt: o.dt,
                reps: o.reps.min(self.reps),
            }),
            tie_audit: self.tie_audit,
            posterior: self.posterior.as_ref().map(|p| {
                serde_json::json!({
                    "path": p.path,
                    "sha256": p.sha256,
                    "params": p.vary.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
                    "n_particles": p.values.len(),
                    "draw": "replication r runs at the particle i with the first cumulative weight above u * total, u the first uniform of stream 7 << 32 under replication_key(seed, r, None)",
                })
            }),
            totals: Totals::default(),
            outputs: BTreeMap::new(),
        }
    }
}

/// The flattened slice `[total·i/n, total·(i+1)/n)` of shard `i` of `n`.
pub fn shard_range(total: u64, shard: Option<(u64, u64)>) -> std::ops::Range<u64> {
    match shard {
        None => 0..total,
        Some((i, n)) => {
            let at = |k: u64| ((u128::from(total) * u128::from(k)) / u128::from(n)) as u64;
            at(i)..at(i + 1)
        }
    }
}

/// Parses `I/N` with `0 <= I < N`.
pub fn parse_shard(s: &str) -> std::result::Result<(u64, u64), String> {
    let bad = || format!("--shard `{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Runs `config.reps` replications of one parameter point, in parallel, and
/// writes `runs.csv`, `summary.csv`, `events.csv` (with `trace`) and
/// `manifest.json` to `config.out` if given.
pub fn run(config: &RunConfig, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<RunReport> {
    if config.reps == 0 {
        return Err(Error::invalid("reps", "--reps must be at least 1"));
    }
    if config.tie_audit && config.reps < 2 {
        return Err(Error::invalid(
            "tie_audit",
            "--tie-audit needs --reps of at least 2",
        ));
    }
    if config.timeseries.is_some() && config.out.is_none() {
        return Err(Error::invalid(
            "timeseries",
            "--timeseries needs --out DIR to write timeseries.csv",
        ));
    }
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    check_timeseries(config.timeseries, &scenario)?;
    let base = scenario.param_values(&config.overrides)?;
    let posterior = match &config.posterior {
        Some(dir) => {
            if config.tie_audit {
                return Err(Error::invalid(
                    "tie_audit",
                    "--tie-audit cannot be used with --posterior (the audit runs one parameter point)",
                ));
            }
            let p = read_posterior(dir, &scenario, &base)?;
            design::refuse_set_and_varied(
                &p.vary,
                &config.overrides,
                &format!("a column of {}", p.path),
            )
            .map_err(|e| Error::invalid("set", e))?;
            Some(p)
        }
        None => None,
    };
    let job = Job {
        scenario: &scenario,
        scenario_path: config.scenario_path.display().to_string(),
        sha256,
        sweep: false,
        base,
        vary: Vec::new(),
        design: None,
        design_file: None,
        points: vec![Vec::new()],
        reps: config.reps,
        seed: config.seed.unwrap_or(scenario.seed),
        independent_streams: false,
        shard: None,
        no_runs: false,
        trace: config.trace.min(config.reps),
        timeseries: config.timeseries,
        tie_audit: config.tie_audit,
        posterior,
        command: config.command.clone(),
    };
    execute_job(&job, config.threads, config.out.as_deref(), false, progress)
}

/// Runs a sweep: every point of the design, `reps` replications each.
pub fn sweep(
    config: &SweepConfig,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<RunReport> {
    if config.reps == 0 {
        return Err(Error::invalid("reps", "--reps must be at least 1"));
    }
    let file = design::design_file(&config.design);
    match (file, config.vary.is_empty()) {
        (None, true) => {
            return Err(Error::invalid(
                "vary",
                "a sweep needs at least one --vary NAME=SPEC (or --design file:PATH)",
            ));
        }
        (Some(path), false) => {
            return Err(Error::invalid(
                "vary",
                format!("--vary cannot be used with --design file:{path}: the file's columns are the varied parameters"),
            ));
        }
        _ => {}
    }
    if config.out.is_none() {
        let needs_out = [
            (
                config.shard.is_some(),
                "shard",
                "--shard needs --out DIR (merge joins the shards' directories)",
            ),
            (
                config.no_runs,
                "no_runs",
                "--no-runs needs --out DIR (it leaves runs.csv out of DIR)",
            ),
            (
                config.resume,
                "resume",
                "--resume needs the DIR of the interrupted sweep",
            ),
            (
                config.timeseries.is_some(),
                "timeseries",
                "--timeseries needs --out DIR to write timeseries.csv",
            ),
        ];
        if let Some((_, option, message)) = needs_out.into_iter().find(|(given, _, _)| *given) {
            return Err(Error::invalid(option, message));
        }
    }
    if config.no_runs && config.shard.is_some() {
        return Err(Error::invalid(
            "no_runs",
            "--no-runs cannot be used with --shard: merge rebuilds the summary from runs.csv",
        ));
    }
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    check_timeseries(config.timeseries, &scenario)?;
    let base = scenario.param_values(&config.overrides)?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let (kind, vary, points, design_file) = match file {
        None => {
            let kind =
                DesignKind::parse(&config.design).map_err(|e| Error::invalid("design", e))?;
            let vary = design::parse_varies(&config.vary, &scenario)
                .map_err(|e| Error::invalid("vary", e))?;
            let points =
                design::points(kind, &vary, seed).map_err(|e| Error::invalid("design", e))?;
            (Some(kind), vary, points, None)
        }
        Some(path) => {
            let (vary, points, file) = file_design(config, path, &scenario)?;
            (None, vary, points, Some(file))
        }
    };
    let varied_by = match file {
        Some(path) => format!("a column of {path}"),
        None => "--vary".to_string(),
    };
    design::refuse_set_and_varied(&vary, &config.overrides, &varied_by)
        .map_err(|e| Error::invalid("set", e))?;
    if (points.len() as u64).checked_mul(config.reps).is_none() {
        return Err(Error::invalid("sweep", "points × reps is too large"));
    }
    let job = Job {
        scenario: &scenario,
        scenario_path: config.scenario_path.display().to_string(),
        sha256,
        sweep: true,
        base,
        vary,
        design: kind,
        design_file,
        points,
        reps: config.reps,
        seed,
        independent_streams: config.independent_streams,
        shard: config.shard,
        no_runs: config.no_runs,
        trace: 0,
        timeseries: config.timeseries,
        tie_audit: false,
        posterior: None,
        command: config.command.clone(),
    };
    execute_job(
        &job,
        config.threads,
        config.out.as_deref(),
        config.resume,
        progress,
    )
}

/// The design of `--design file:PATH`: the recorded design `check` passes,
/// or the file; a `--resume` whose file is gone takes the points the
/// interrupted sweep recorded in its `manifest.json.partial` (a resume never
/// needs the file; one whose file now lists other points is refused by
/// [`resume_state`]).
fn file_design(
    config: &SweepConfig,
    path: &str,
    scenario: &Scenario,
) -> Result<(Vec<Vary>, Vec<Vec<f64>>, DesignFile)> {
    if let Some(recorded) = &config.recorded_design {
        let (vary, points) = recorded_points(recorded, "manifest.json (design.points)", scenario)?;
        return Ok((vary, points, recorded.file.clone()));
    }
    if let (true, Some(dir), false) = (config.resume, &config.out, Path::new(path).exists()) {
        let partial = partial_path(&dir.join("manifest.json"));
        let recorded = std::fs::read(&partial)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .and_then(|m| m.design.as_ref().and_then(RecordedDesign::from_manifest));
        if let Some(recorded) = recorded {
            let what = format!("{} (design.points)", partial.display());
            let (vary, points) = recorded_points(&recorded, &what, scenario)?;
            return Ok((vary, points, recorded.file));
        }
    }
    read_design_file(path, scenario)
}

/// Most time-series values (grid points × series) one replication may record:
/// they travel with the replication's row through the harness, so this bounds
/// the memory of the blocks in flight (about 160 KB a replication).
pub const MAX_TIMESERIES_VALUES: usize = 20_000;

fn check_timeseries(options: Option<TimeseriesOptions>, scenario: &Scenario) -> Result<()> {
    let Some(o) = options else { return Ok(()) };
    if !(o.dt > 0.0 && o.dt.is_finite()) {
        return Err(Error::invalid("timeseries", format!(
            "--timeseries {}: the grid spacing must be a positive number (in the scenario's time unit)",
            o.dt
        )));
    }
    if crate::engine::grid::series(scenario).is_empty() {
        return Err(Error::invalid(
            "timeseries",
            "--timeseries: the scenario has no tension and no numeric state variable to record",
        ));
    }
    let cells = crate::engine::grid::n_points(o.dt, scenario.horizon)
        .saturating_mul(crate::engine::grid::series(scenario).len());
    if cells > MAX_TIMESERIES_VALUES {
        return Err(Error::invalid("timeseries", format!(
            "--timeseries {}: more than {} values per replication (grid points up to the horizon {} times series); choose a larger spacing",
            o.dt,
            MAX_TIMESERIES_VALUES,
            scenario.horizon
        )));
    }
    Ok(())
}

/// Accumulates rows in (point, rep) order into per-point summaries, written to
/// `summary.csv` as each point completes.
pub(crate) struct Accumulator<'a> {
    cols: &'a [Column],
    keys: Keys,
    points: &'a [Vec<f64>],
    point: u64,
    summary: PointSummary,
    text: String,
    out: Option<AtomicFile>,
    events: u64,
    n_events_col: usize,
    /// The printed report's statistics, for `run` and `sweep` (not `merge`).
    report: Option<report::ReportAccumulator>,
}

impl<'a> Accumulator<'a> {
    pub(crate) fn new(
        cols: &'a [Column],
        keys: Keys,
        points: &'a [Vec<f64>],
        first_point: u64,
        out: Option<AtomicFile>,
    ) -> Self {
        let n_events_col = cols
            .iter()
            .position(|c| c.name == "n_events")
            .expect("n_events is always a column");
        Accumulator {
            cols,
            keys,
            points,
            point: first_point,
            summary: PointSummary::new(cols),
            text: String::new(),
            out,
            events: 0,
            n_events_col,
            report: None,
        }
    }

    /// Also gathers the printed report's statistics.
    pub(crate) fn with_report(mut self, report: report::ReportAccumulator) -> Self {
        self.report = Some(report);
        self
    }

    pub(crate) fn add(&mut self, point: u64, row: &[f64]) -> std::io::Result<()> {
        if point != self.point {
            self.flush_point()?;
            self.summary = PointSummary::new(self.cols);
            if let Some(r) = &mut self.report {
                r.reset();
            }
            self.point = point;
        }
        self.events += row[self.n_events_col] as u64;
        self.summary.add(row);
        if let Some(r) = &mut self.report {
            r.add(row);
        }
        Ok(())
    }

    /// Writes the current point's summary rows.
    fn flush_point(&mut self) -> std::io::Result<()> {
        if let (Some(r), true) = (&mut self.report, self.summary.n() > 0) {
            r.finish_point(self.point, &self.summary, self.cols);
        }
        if let (Some(out), true) = (&mut self.out, self.summary.n() > 0) {
            self.text.clear();
            let prefix = summary_prefix(&self.keys, self.point, &self.points[self.point as usize]);
            self.summary.push_rows(&mut self.text, &prefix, self.cols);
            out.write_all(self.text.as_bytes())?;
        }
        Ok(())
    }

    /// Removes the partial summary file: the result cannot complete.
    pub(crate) fn discard(self) {
        if let Some(f) = self.out {
            f.discard();
        }
    }

    /// Writes the last point's rows; returns the summary file (if any), the
    /// last point's summary and the event total.
    pub(crate) fn finish(mut self) -> std::io::Result<Finish> {
        self.flush_point()?;
        Ok(Finish {
            file: self.out,
            summary: self.summary,
            events: self.events,
            report: self.report.map(report::ReportAccumulator::finish),
        })
    }
}

/// What [`Accumulator::finish`] returns.
pub(crate) struct Finish {
    /// The summary file, if one is written.
    pub file: Option<AtomicFile>,
    /// The last point's summary.
    pub summary: PointSummary,
    /// Events over the rows added.
    pub events: u64,
    /// The printed report's statistics, if gathered.
    pub report: Option<report::ReportData>,
}

/// Parses one `runs.csv` row back into (point, rep, values): numbers in their
/// round-trip form, categories as label indices.
pub(crate) fn parse_row(
    line: &str,
    keys: &Keys,
    cols: &[Column],
    out: &mut Vec<f64>,
) -> Option<(u64, u64)> {
    let mut fields = line.split(',');
    let point = if keys.point {
        fields.next()?.parse().ok()?
    } else {
        0
    };
    let rep = fields.next()?.parse().ok()?;
    for _ in &keys.params {
        fields.next()?;
    }
    out.clear();
    for c in cols {
        let f = fields.next()?;
        out.push(match &c.kind {
            ColumnKind::Numeric => match f {
                "NaN" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => f.parse().ok()?,
            },
            ColumnKind::Categorical(labels) => labels.iter().position(|l| l == f)? as f64,
        });
    }
    fields.next().is_none().then_some((point, rep))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Checks that `--resume` can continue the sweep in `dir`, before any file is
/// touched: `dir` exists, holds no finished result, and its
/// `manifest.json.partial` (if any) records this very sweep, shard included,
/// with a `runs.csv` of the same header. Returns false when the sweep had not
/// yet recorded itself (killed in its first moments): it starts afresh.
fn resume_state(job: &Job<'_>, dir: &Path, cols: &[Column]) -> Result<bool> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Refused(format!(
                "--resume: {} does not exist; start the sweep with --out {}",
                dir.display(),
                dir.display()
            )));
        }
        Err(e) => return Err(Error::io(dir, e)),
        Ok(m) if !m.is_dir() => {
            return Err(Error::Refused(format!(
                "--resume: {} is not a directory",
                dir.display()
            )));
        }
        Ok(_) => {}
    }
    if dir.join("manifest.json").exists() {
        return Err(Error::Refused(format!(
            "--resume: {} holds a finished result; nothing to resume",
            dir.display()
        )));
    }
    let partial = partial_path(&dir.join("manifest.json"));
    let text = match std::fs::read(&partial) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&partial, e)),
    };
    // Never cut short by flashpoint itself (it is replaced whole); one that
    // is was damaged from outside, and the sweep cannot be identified.
    let old: Manifest = serde_json::from_slice(&text).map_err(|e| {
        Error::Refused(format!(
            "--resume: {} is not a flashpoint manifest ({e}), so the interrupted sweep cannot be identified; delete {} and run the sweep again with --out",
            partial.display(),
            dir.display()
        ))
    })?;
    let new = job.manifest();
    let shard = |m: &Manifest| {
        m.design
            .as_ref()
            .map_or(serde_json::Value::Null, |d| d["shard"].clone())
    };
    let diff = crate::output::manifest::identity_difference(&old, &new).or_else(|| {
        let (a, b) = (shard(&old), shard(&new));
        (a != b).then(|| format!("design.shard differs ({a} vs {b})"))
    });
    if let Some(diff) = diff {
        if let (Some(file), true) = (
            &job.design_file,
            ["design.points", "design.n_points", "design.params"]
                .iter()
                .any(|f| diff.starts_with(f)),
        ) {
            return Err(Error::Refused(format!(
                "--resume: {} holds a sweep of other points than {} now gives ({diff}): the file changed since the sweep started; restore it, or move it away to resume with the points the sweep recorded",
                dir.display(),
                file.path
            )));
        }
        return Err(Error::Refused(format!(
            "--resume: {} holds a different sweep: {diff}",
            dir.display()
        )));
    }
    if !job.no_runs {
        let header = runs_header(&job.keys(), cols);
        for path in [partial_path(&dir.join("runs.csv")), dir.join("runs.csv")] {
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            let mut first = String::new();
            let _ = std::io::BufReader::new(file).read_line(&mut first);
            if first.ends_with('\n') && first != header {
                return Err(Error::Refused(format!(
                    "--resume: {} has a different header",
                    path.display()
                )));
            }
            break;
        }
    }
    Ok(true)
}

/// Every file a sweep writes before its manifest.
const SWEEP_FILES: [&str; 6] = [
    "runs.csv",
    "summary.csv",
    "points.csv",
    timeseries::DETAIL_FILE,
    timeseries::SUMMARY_FILE,
    timeseries::STATE_FILE,
];

/// Files of an interrupted sweep that were already renamed into place (the
/// kill came between two renames, or at the manifest) are whole: they go
/// back under their partial names, where `--resume` reads what is done and
/// from where the sweep commits them again.
fn restore_renamed(dir: &Path) -> Result<()> {
    for name in SWEEP_FILES {
        let path = dir.join(name);
        let partial = partial_path(&path);
        if path.is_file() && !partial.exists() {
            crate::output::atomic::rename(&path, &partial).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Writes `manifest.json`, the last file of a result. It is written as
/// `manifest.json.partial.partial`; a sweep's is renamed over its
/// `manifest.json.partial` (which recorded the interrupted sweep and now
/// records the finished one, so `--resume` still reads the same sweep there)
/// and then to `manifest.json`; a run's is renamed to `manifest.json` at
/// once. A kill at any moment leaves either a finished result or one that
/// `--resume` (a sweep) or a fresh command (a run) can complete.
pub(crate) fn commit_manifest(dir: &Path, json: &[u8], sweep: bool) -> Result<()> {
    let path = dir.join("manifest.json");
    let partial = partial_path(&path);
    let mut f = AtomicFile::create(&partial).map_err(io(&path))?;
    f.write_all(json).map_err(io(&path))?;
    if sweep {
        f.commit().map_err(io(&path))?;
        crate::output::atomic::rename(&partial, &path).map_err(io(&path))?;
    } else {
        f.commit_as(&path).map_err(io(&path))?;
    }
    Ok(())
}

/// Where an interrupted sweep stopped: the bytes of complete rows in
/// `runs.csv.partial` and how many they are. [`resume_state`] has checked
/// that the directory holds this sweep.
fn resume_point(
    job: &Job<'_>,
    dir: &Path,
    cols: &[Column],
    acc: &mut Accumulator<'_>,
) -> Result<(u64, u64)> {
    if job.no_runs {
        return Ok((0, 0));
    }
    let runs = partial_path(&dir.join("runs.csv"));
    let file = match crate::output::atomic::open_regular(&runs, false) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(Error::io(dir.join("runs.csv"), e)),
    };
    let mut reader = std::io::BufReader::new(file);
    let header = runs_header(&job.keys(), cols);
    let mut line = String::new();
    let mut len = 0u64;
    let mut rows = 0u64;
    let mut values = Vec::new();
    let range = job.range();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(io(&runs))?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        if len == 0 {
            if line != header {
                return Err(Error::Refused(format!(
                    "--resume: {} has a different header",
                    runs.display()
                )));
            }
        } else {
            let expected = range.start + rows;
            match parse_row(line.trim_end_matches('\n'), &job.keys(), cols, &mut values) {
                Some((p, r))
                    if r < job.reps
                        && expected < range.end
                        && (p as usize) < job.points.len()
                        && p.checked_mul(job.reps).and_then(|x| x.checked_add(r))
                            == Some(expected) =>
                {
                    acc.add(p, &values).map_err(io(dir))?;
                    rows += 1;
                }
                _ => break,
            }
        }
        len += n as u64;
    }
    Ok((len, rows))
}

/// Removes the partial files of a run or sweep that cannot complete, so that
/// nothing that looks like a result stays behind.
fn discard_partials(
    runs: Option<(AtomicFile, PathBuf)>,
    summary: Option<AtomicFile>,
    timeseries: Option<TimeseriesSink>,
    out: Option<&Path>,
) {
    if let Some((f, _)) = runs {
        f.discard();
    }
    if let Some(f) = summary {
        f.discard();
    }
    if let Some(ts) = timeseries {
        ts.discard();
    }
    if let Some(dir) = out {
        let _ = std::fs::remove_file(partial_path(&dir.join("manifest.json")));
    }
}

/// Claims `out` for the command's life (or, for `--resume`, locks it and
/// reads how far the interrupted sweep got) and, for a fresh sweep, writes
/// the record `--resume` reads. Every refusal comes before any file is
/// touched. Returns the claim, held until the manifest is written, and
/// whether the job resumes.
fn prepare_dir(
    job: &Job<'_>,
    out: Option<&Path>,
    resume: bool,
    cols: &[Column],
) -> Result<(Option<crate::output::manifest::OutDirLock>, bool)> {
    let mut _claim = None;
    let resume = match out {
        Some(dir) if resume => {
            if dir.is_dir() {
                _claim = Some(crate::output::manifest::lock_out_dir(dir)?);
            }
            resume_state(job, dir, cols)?
        }
        _ => false,
    };
    if let Some(dir) = out {
        if resume {
            restore_renamed(dir)?;
        } else {
            let hint = if job.sweep {
                ", or --resume an interrupted sweep"
            } else {
                " or delete it"
            };
            // A `--resume` that found nothing to continue sweeps afresh
            // under a claim of its own (a second lock would refuse itself).
            _claim = None;
            _claim = Some(crate::output::manifest::claim_out_dir(dir, hint)?);
            if job.sweep {
                // The record of the interrupted sweep, which `--resume` reads.
                let json = serde_json::to_string_pretty(&job.manifest())
                    .expect("a manifest always serializes")
                    + "\n";
                let partial = partial_path(&dir.join("manifest.json"));
                write_atomic(&partial, json.as_bytes()).map_err(io(&partial))?;
            }
        }
    }
    Ok((_claim, resume))
}

/// Opens `runs.csv` (unless `--no-runs`): afresh, or after the rows a
/// resumed sweep already holds, whose replications are added to `acc`.
/// Returns the first replication still to write and the file.
fn open_runs(
    job: &Job<'_>,
    out: Option<&Path>,
    resume: bool,
    cols: &[Column],
    keys: &Keys,
    acc: &mut Accumulator<'_>,
) -> Result<(u64, Option<(AtomicFile, PathBuf)>)> {
    let range = job.range();
    let mut start = range.start;
    let mut runs: Option<(AtomicFile, PathBuf)> = None;
    if let Some(dir) = out {
        let runs_path = dir.join("runs.csv");
        if resume {
            let (len, rows) = resume_point(job, dir, cols, acc)?;
            start += rows;
            if !job.no_runs {
                let f = if len > 0 {
                    AtomicFile::append(&runs_path, len)
                } else {
                    AtomicFile::create(&runs_path)
                };
                let mut f = f.map_err(io(&runs_path))?;
                if len == 0 {
                    f.write_all(runs_header(keys, cols).as_bytes())
                        .map_err(io(&runs_path))?;
                }
                runs = Some((f, runs_path));
            }
        } else if !job.no_runs {
            let mut f = AtomicFile::create(&runs_path).map_err(io(&runs_path))?;
            f.write_all(runs_header(keys, cols).as_bytes())
                .map_err(io(&runs_path))?;
            runs = Some((f, runs_path));
        }
    }

    Ok((start, runs))
}

/// The finished files of a job, still under their `.partial` names.
struct Finished<'a> {
    runs: Option<(AtomicFile, PathBuf)>,
    summary: Option<AtomicFile>,
    timeseries: Option<TimeseriesSink>,
    tie_audit: Option<&'a crate::analysis::ties::TieReport>,
    /// Events over the job's replications, for the manifest's totals.
    events: u64,
}

/// Commits every file of a finished job into `dir` (points.csv, events.csv
/// and tie_audit.csv are written here), then the manifest, last.
fn commit_outputs(
    job: &Job<'_>,
    plan: &Plan<'_>,
    dir: &Path,
    keys: &Keys,
    files: Finished<'_>,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let mut outputs = BTreeMap::new();
    if let Some((f, path)) = files.runs {
        outputs.insert("runs.csv".to_string(), f.commit().map_err(io(&path))?);
        written.push(path);
    }
    if let Some(f) = files.summary {
        let path = dir.join("summary.csv");
        outputs.insert("summary.csv".to_string(), f.commit().map_err(io(&path))?);
        written.push(path);
    }
    if job.sweep {
        let path = dir.join("points.csv");
        outputs.insert(
            "points.csv".into(),
            write_atomic(&path, points_csv(&keys.params, &job.points).as_bytes())
                .map_err(io(&path))?,
        );
        written.push(path);
    }
    if let Some(ts) = files.timeseries {
        ts.commit(dir, &mut outputs, written)?;
    }
    if job.trace > 0 {
        let path = dir.join("events.csv");
        let mut file = AtomicFile::create(&path).map_err(io(&path))?;
        if let Err(e) = write_trace_csv(job.scenario, plan, job.trace, &mut file, &path) {
            file.discard();
            return Err(e);
        }
        outputs.insert("events.csv".into(), file.commit().map_err(io(&path))?);
        written.push(path);
    }
    if let Some(audit) = files.tie_audit {
        let text = crate::analysis::ties::tie_csv(&audit.rows);
        let path = dir.join("tie_audit.csv");
        outputs.insert(
            "tie_audit.csv".into(),
            write_atomic(&path, text.as_bytes()).map_err(io(&path))?,
        );
        written.push(path);
    }
    let mut manifest = job.manifest();
    manifest.outputs = outputs;
    manifest.totals = Totals {
        replications: job.range().end - job.range().start,
        events: files.events,
    };
    let json =
        serde_json::to_string_pretty(&manifest).expect("a manifest always serializes") + "\n";
    commit_manifest(dir, json.as_bytes(), job.sweep)?;
    written.push(dir.join("manifest.json"));
    Ok(())
}

/// The one code path of `run` and `sweep`.
fn execute_job(
    job: &Job<'_>,
    threads: usize,
    out: Option<&Path>,
    resume: bool,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<RunReport> {
    let scenario = job.scenario;
    let cols = columns(scenario);
    let keys = job.keys();
    let runs_keys = job.runs_keys();
    let full_points = job.full_points();
    let range = job.range();
    let write_summary = out.is_some() && job.shard.is_none();
    // Errors name the file in the output directory.
    let out_file = |name: &str| out.map_or_else(|| PathBuf::from(name), |d| d.join(name));
    let (summary_path, timeseries_path) = (out_file("summary.csv"), out_file("timeseries.csv"));
    let mut written = Vec::new();

    // Held until the manifest is written: no other command writes here.
    let (_claim, resume) = prepare_dir(job, out, resume, &cols)?;
    let summary_file = match (out, write_summary) {
        (Some(dir), true) => {
            let path = dir.join("summary.csv");
            let mut f = AtomicFile::create(&path).map_err(io(&path))?;
            f.write_all(summary_header(&keys).as_bytes())
                .map_err(io(&path))?;
            Some(f)
        }
        _ => None,
    };
    let report_info = report::OutcomeInfo::new(scenario, &cols);
    let mut acc = Accumulator::new(
        &cols,
        keys.clone(),
        &job.points,
        range.start / job.reps,
        summary_file,
    )
    .with_report(report::ReportAccumulator::new(report_info.clone()));
    let (start, mut runs) = open_runs(job, out, resume, &cols, &runs_keys, &mut acc)?;

    // Replications before `start` are in runs.csv already; a resumed sweep
    // with time series may have to simulate some of them again, from
    // `simulate_from`, for the time-series files only.
    let mut simulate_from = start;
    let mut timeseries = match (job.timeseries, out) {
        (Some(options), Some(dir)) if resume => {
            let (sink, from) = TimeseriesSink::resume(job, dir, options, start)?;
            simulate_from = from;
            Some(sink)
        }
        (Some(options), Some(dir)) => Some(TimeseriesSink::create(job, dir, options)?),
        _ => None,
    };
    let plan = Plan {
        scenario,
        points: full_points,
        reps: job.reps,
        seed: job.seed,
        independent_streams: job.independent_streams,
        range: simulate_from..range.end,
        options: RunOptions::default(),
        grid: timeseries.as_ref().and(job.timeseries).map(|o| o.dt),
        mixture: job.posterior.as_ref().map(|p| &p.mixture),
    };
    let started = Instant::now();
    let mut text = String::new();
    let n_cols = cols.len();
    let total = range.end - range.start;
    let mut done = simulate_from - range.start;
    progress(done, total);
    let sunk = execute(&plan, threads, |block| {
        text.clear();
        for (i, row) in block.values.chunks_exact(n_cols).enumerate() {
            let index = block.first + i as u64;
            if index < start {
                continue;
            }
            let (point, rep) = (index / job.reps, index % job.reps);
            acc.add(point, row)
                .map_err(|e| Error::io(&summary_path, e))?;
            if runs.is_some() {
                let params = match &job.posterior {
                    Some(p) => &p.values[p.mixture.pick(job.seed, rep)],
                    None => &job.points[point as usize],
                };
                push_run_row(&mut text, &runs_keys, point, rep, params, &cols, row);
            }
        }
        if let Some((f, path)) = &mut runs {
            f.write_all(text.as_bytes()).map_err(io(path))?;
        }
        if let Some(ts) = &mut timeseries {
            let n_series = ts.n_series();
            let mut offset = 0;
            for (i, rows) in block.grid_rows.iter().enumerate() {
                let index = block.first + i as u64;
                let len = *rows as usize * n_series;
                ts.add(index, &block.grid[offset..offset + len])
                    .map_err(|e| Error::io(&timeseries_path, e))?;
                offset += len;
            }
        }
        done += (block.values.len() / n_cols) as u64;
        progress(done, total);
        Ok::<(), Error>(())
    });
    let sunk = match sunk {
        Ok(s) => s,
        Err(e) => {
            // A failed replication: the sweep cannot complete.
            acc.discard();
            discard_partials(runs, None, timeseries, out);
            return Err(e.into());
        }
    };
    sunk?;
    let Finish {
        file: summary_file,
        summary,
        events,
        report,
    } = acc.finish().map_err(|e| Error::io(&summary_path, e))?;
    let seconds = started.elapsed().as_secs_f64();
    // `run --tie-audit`: before any file is committed, so that a failed
    // audit leaves no result and `tie_audit.csv` precedes the manifest.
    let tie_audit = match job
        .tie_audit
        .then(|| crate::analysis::ties::tie_audit(scenario, &job.base, job.seed, job.reps, threads))
        .transpose()
    {
        Ok(audit) => audit,
        Err(e) => {
            discard_partials(runs, summary_file, timeseries, out);
            return Err(e);
        }
    };
    if let Some(dir) = out {
        let files = Finished {
            runs,
            summary: summary_file,
            timeseries,
            tie_audit: tie_audit.as_ref(),
            events,
        };
        commit_outputs(job, &plan, dir, &keys, files, &mut written)?;
    }
    Ok(RunReport {
        scenario_name: scenario.name.clone(),
        columns: cols,
        summary,
        points: job.points.len() as u64,
        reps: range.end - simulate_from,
        events,
        seconds,
        seed: job.seed,
        tie_audit,
        written,
        hidden_metrics: (scenario.events.iter())
            .filter(|e| e.hidden)
            .map(|e| format!("count_{}", e.id))
            .collect(),
        varied: job.vary.iter().map(|v| v.name.clone()).collect(),
        point_values: job.points.clone(),
        report: report.unwrap_or_else(|| report::ReportAccumulator::new(report_info).finish()),
    })
}

/// `points.csv`: `point` and the varied parameters' values.
pub(crate) fn points_csv(names: &[String], points: &[Vec<f64>]) -> String {
    let mut s = String::from("point");
    for name in names {
        s.push(',');
        s.push_str(name);
    }
    s.push('\n');
    for (i, p) in points.iter().enumerate() {
        s.push_str(&i.to_string());
        for x in p {
            s.push(',');
            push_f64(&mut s, *x);
        }
        s.push('\n');
    }
    s
}

/// Header of `events.csv`.
pub const EVENTS_HEADER: &str =
    "rep,seq,time,date,event,source,target,rule,cause_seq,tension_after\n";

/// Re-runs the first `n` replications of point 0 with tracing (replications
/// are pure functions of their key, so these are the same replications) and
/// writes `events.csv` to `file` (at `path`, for errors), one replication's
/// rows at a time: memory holds one replication's events, whatever `n`.
pub fn write_trace_csv(
    scenario: &Scenario,
    plan: &Plan<'_>,
    n: u64,
    file: &mut impl Write,
    path: &Path,
) -> Result<()> {
    let mut engine = Engine::new(scenario);
    let mut out = vec![0.0; columns(scenario).len()];
    let mut trace: Vec<TraceEvent> = Vec::new();
    let mut text = String::from(EVENTS_HEADER);
    let actor = |a: Option<u16>| a.map_or("", |a| scenario.actors[usize::from(a)].id.as_str());
    for rep in 0..n {
        trace.clear();
        engine
            .run(
                plan.params(0, rep),
                &plan.key(0, rep),
                plan.options,
                &mut out,
                Some(&mut trace),
            )
            .map_err(|error| RepError::at_point(0, rep, error))?;
        for ev in &trace {
            use std::fmt::Write as _;
            let _ = write!(text, "{rep},{},", ev.seq);
            push_f64(&mut text, ev.time);
            text.push(',');
            if let Some(start) = scenario.start_day {
                text.push_str(&crate::time::format_date(
                    start,
                    scenario.time_unit,
                    ev.time,
                ));
            }
            let rule = ev
                .rule
                .map_or("", |r| scenario.rules[r as usize].name.as_str());
            // A template instance's name, `NAME[POL,BLR]`, holds a comma.
            let rule = crate::output::text::csv_field(rule);
            let cause = ev.cause.map(|c| c.to_string()).unwrap_or_default();
            let tension = ev.tension_after.map(fmt_f64).unwrap_or_default();
            let _ = writeln!(
                text,
                ",{},{},{},{rule},{cause},{tension}",
                scenario.events[ev.event as usize].id,
                actor(ev.source),
                actor(ev.target)
            );
        }
        file.write_all(text.as_bytes()).map_err(io(path))?;
        text.clear();
    }
    Ok(())
}
