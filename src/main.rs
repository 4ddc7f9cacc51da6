//! The `flashpoint` command line: clap parsing into validated configs, calls
//! into the library, printing, and exit codes. Nothing else.

use clap::{Args, Parser, Subcommand};
use flashpoint::analysis::{calibrate, cameo_stream, compare, paths, rare, sensitivity};
use flashpoint::sweep::{self, RunConfig, SweepConfig};
use flashpoint::Error;
use std::io::IsTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "flashpoint",
    version,
    about = "Deterministic discrete-event simulation of international tension and crisis escalation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Monte Carlo replications of a scenario and print a summary table.
    Run(RunArgs),
    /// Run a parameter sweep: every point of a design, many replications each.
    Sweep(SweepArgs),
    /// Merge the shards of a sweep into one result, byte-identical to an unsharded run.
    Merge {
        /// Shard output directories (any order).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Where to write the merged result.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The scenario file the shards were run from (default: the path their
        /// manifests record, as given, else relative to the first shard directory
        /// given or its parents). Its SHA-256 must match theirs.
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
    },
    /// Check a scenario and list what it contains, or every error found.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Effect of a policy change B - A under common random numbers (paired), with the unpaired reference.
    Compare(CompareArgs),
    /// The most frequent causal chains of events leading to each outcome category.
    Paths(PathsArgs),
    /// Global sensitivity: Morris elementary effects or Sobol indices of every metric.
    Sensitivity(SensitivityArgs),
    /// Calibrate parameters against observed outcomes: ABC-SMC posterior, tolerance schedule, predictive check.
    Calibrate(CalibrateArgs),
    /// Probability of a rare outcome by multilevel splitting (adaptive, or over given levels): estimate, se, 95% interval,
    /// levels and their conditional probabilities, cost and efficiency gain over crude Monte Carlo.
    Rare(RareArgs),
    /// Re-run the run or sweep recorded in DIR/manifest.json and compare with DIR's files.
    /// Exit 0 when identical, 1 with a report when not, 2 on usage errors.
    Check(CheckArgs),
    /// Draw a result as SVG (or PNG): tension fan charts, outcome shares with Wilson intervals, means against a swept
    /// parameter, and, when DIR holds sensitivity.csv, a bar chart of Morris mu* or Sobol S1/ST per parameter for each metric.
    Plot {
        /// A result directory (made by `run --out`, `sweep --out` or `sensitivity --out`; fan charts need --timeseries).
        dir: PathBuf,
        /// The file to write: FILE.svg, or FILE.png for the same picture as PNG (default: DIR/plot.svg).
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        out: Option<PathBuf>,
        /// The sweep point whose time series are drawn.
        #[arg(long, default_value_t = 0)]
        point: u64,
        /// Draw only this metric's sensitivity chart (NAME or NAME=CATEGORY, e.g. terminal=war);
        /// without it, the first six metrics of sensitivity.csv are drawn.
        #[arg(long, value_name = "NAME")]
        metric: Option<String>,
        /// Replace the output file if it already exists (never a file of a result).
        #[arg(long)]
        force: bool,
    },
    /// Write one self-contained HTML page for a result directory (any kind): the scenario and its parameters,
    /// the report's tables, every chart, causal paths and a timeline (with --trace), and the manifest.
    Report {
        /// A result directory (the --out DIR of run, sweep, compare, paths, sensitivity, rare or calibrate).
        dir: PathBuf,
        /// The HTML file to write (default: DIR/report.html).
        #[arg(long, value_name = "FILE.html")]
        out: Option<PathBuf>,
        /// Replace the output file if it already exists (never a file of a result).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// A result directory (made by `run --out` or `sweep --out`) holding manifest.json.
    dir: PathBuf,
    /// Rewrite DIR's files from the fresh run (each atomically, manifest.json last).
    #[arg(long)]
    update: bool,
    /// Re-run this scenario file instead of the one the manifest records.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Also write the report as JUnit XML to FILE (one test case per
    /// compared file and per moved metric), for CI systems to display.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Replace the --junit FILE if it already exists (never a file of a result).
    #[arg(long, requires = "junit")]
    force: bool,
}

#[derive(Args)]
struct CompareArgs {
    /// The scenario file of both policies (unless --a-file/--b-file replace it).
    scenario: Option<PathBuf>,
    /// Policy A's parameter values: NAME=V[,NAME=V...] (checked against their bounds).
    #[arg(long, value_name = "NAME=V,...", default_value = "")]
    a: String,
    /// Policy B's parameter values: NAME=V[,NAME=V...].
    #[arg(long, value_name = "NAME=V,...", default_value = "")]
    b: String,
    /// Policy A's scenario file (default: SCENARIO).
    #[arg(long, value_name = "FILE")]
    a_file: Option<PathBuf>,
    /// Policy B's scenario file (default: SCENARIO); must have the same outputs as A's.
    #[arg(long, value_name = "FILE")]
    b_file: Option<PathBuf>,
    /// Replications per policy.
    #[arg(long, default_value_t = 1000)]
    reps: u64,
    /// Master seed (default: A's scenario `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Write compare.csv and manifest.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct PathsArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Set a parameter: --set NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Replications.
    #[arg(long, default_value_t = 1000)]
    reps: u64,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Group replications by this categorical outcome (default: the built-in `terminal`).
    #[arg(long, value_name = "NAME")]
    outcome: Option<String>,
    /// End each chain at the last event of one of these types (comma-separated or repeated).
    #[arg(long, value_name = "EVENT", value_delimiter = ',')]
    anchor: Vec<String>,
    /// End each chain at the event with the longest chain, not the event that decided the replication's category.
    #[arg(long, conflicts_with = "anchor")]
    longest: bool,
    /// Chains reported per category.
    #[arg(long, value_name = "K", default_value_t = 10)]
    top: usize,
    /// Write paths.csv and manifest.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct SensitivityArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// A parameter to vary over a range: --vary NAME=lo:hi, or NAME for its declared bounds (repeatable; within its bounds).
    #[arg(long, value_name = "NAME=lo:hi", required = true)]
    vary: Vec<String>,
    /// morris:N (N trajectories) or sobol:N (N base samples).
    #[arg(long, value_name = "morris:N|sobol:N", value_parser = sensitivity::parse_method)]
    method: sensitivity::Method,
    /// Fix a parameter that is not varied: --set NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Replications per parameter point (the model output is their mean; common random numbers across points).
    #[arg(long, default_value_t = 100)]
    reps: u64,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = sensitivity::DEFAULT_BOOTSTRAP)]
    bootstrap: usize,
    /// Write sensitivity.csv and manifest.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct CalibrateArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The targets file (TOML): [targets] observed outcome values, optional [priors].
    #[arg(long, value_name = "FILE")]
    targets: PathBuf,
    /// A parameter to calibrate: --vary NAME (its declared bounds) or NAME=lo:hi (repeatable).
    #[arg(long, value_name = "NAME[=lo:hi]", required = true)]
    vary: Vec<String>,
    /// Fix a parameter that is not calibrated: --set NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Particles per generation (also the posterior predictive draws).
    #[arg(long, default_value_t = calibrate::DEFAULT_PARTICLES)]
    particles: usize,
    /// Generations after generation 0 (the prior), at most.
    #[arg(long, default_value_t = calibrate::DEFAULT_GENERATIONS)]
    generations: usize,
    /// The quantile of the previous generation's distances that sets the next tolerance.
    #[arg(long, default_value_t = calibrate::DEFAULT_QUANTILE)]
    quantile: f64,
    /// Stop once the tolerance reaches this distance.
    #[arg(long, default_value_t = 0.0)]
    min_tolerance: f64,
    /// Proposals per particle a generation may make before the sampler stops (the last complete generation is then the posterior).
    #[arg(long, default_value_t = calibrate::DEFAULT_MAX_ATTEMPTS_PER_PARTICLE)]
    max_attempts: u64,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Write posterior.csv, posterior_summary.csv, tolerances.csv, predictive.csv and manifest.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["event", "when"])))]
struct RareArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The target: a terminal event ending the replication.
    #[arg(long, value_name = "EVENT")]
    event: Option<String>,
    /// The target: a condition that holds at the end of the replication.
    #[arg(long, value_name = "EXPR")]
    when: Option<String>,
    /// The score (importance function): an expression of the state that rises on the way to the target,
    /// e.g. `tension(POL, BLR)` or an escalation rung.
    #[arg(long, value_name = "EXPR")]
    score: String,
    /// Fixed levels of the score, increasing (fixed-effort splitting); adaptive levels (AMS) without it.
    #[arg(long, value_name = "a,b,c", allow_hyphen_values = true)]
    levels: Option<String>,
    /// Particles per batch.
    #[arg(long, default_value_t = rare::DEFAULT_PARTICLES)]
    particles: usize,
    /// Independent batches (at least 10): the standard error is their spread.
    #[arg(long, default_value_t = rare::DEFAULT_BATCHES)]
    batches: usize,
    /// Crude replications of the pilot run that measures the mean events per replication.
    #[arg(long, default_value_t = rare::DEFAULT_PILOT)]
    pilot: u64,
    /// Set a parameter: --set NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Write rare.csv, levels.csv, batches.csv and manifest.json here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct SweepArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Vary a parameter: NAME=a,b,c (values), NAME=lo:hi:steps (linear), NAME=log:lo:hi:steps,
    /// NAME=lo:hi or NAME (declared bounds; for lhs/random designs). Repeatable; not with --design file:PATH.
    #[arg(long, value_name = "NAME=SPEC")]
    vary: Vec<String>,
    /// Design: grid (full factorial; the last --vary changes fastest), lhs:N (Latin hypercube), random:N,
    /// or file:PATH (a CSV of points: a header of parameter names, one row per point; no --vary).
    #[arg(long, default_value = "grid")]
    design: String,
    /// Replications per point.
    #[arg(long, default_value_t = 1000)]
    reps: u64,
    /// Master seed (default: the scenario's `seed`). Also draws lhs/random designs.
    #[arg(long)]
    seed: Option<u64>,
    /// Set a parameter that is not varied: --set NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Write points.csv, runs.csv, summary.csv and manifest.json here (must not hold a result yet); without it the sweep prints its table and writes nothing.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Complete the interrupted sweep in DIR (same arguments as the first attempt).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Run only the I-th of N contiguous slices of the (point, rep) space (I from 0); join with `merge`.
    #[arg(long, value_name = "I/N", value_parser = sweep::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Give every point its own random streams (default: common random numbers across points).
    #[arg(long)]
    independent_streams: bool,
    /// Write only the summary, not one row per replication.
    #[arg(long)]
    no_runs: bool,
    #[command(flatten)]
    timeseries: TimeseriesArgs,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Number of replications.
    #[arg(long, default_value_t = 1000)]
    reps: u64,
    /// Master seed (default: the scenario's `seed`). Same seed, same results.
    #[arg(long)]
    seed: Option<u64>,
    /// Set a parameter: --set NAME=VALUE (repeatable; checked against its bounds).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Write runs.csv, summary.csv and manifest.json (and events.csv with --trace) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Also write events.csv with every event of the first N replications (needs --out).
    #[arg(long, value_name = "N", default_value_t = 0)]
    trace: u64,
    /// Also re-run every replication with same-time ties in random order and report outcomes that change beyond Monte Carlo error (tie_audit.csv with --out).
    #[arg(long)]
    tie_audit: bool,
    /// Draw each replication's parameters from a calibration's posterior: DIR/posterior.csv of
    /// `flashpoint calibrate --out DIR` (weighted particles; runs.csv gets a column per parameter).
    #[arg(long, value_name = "DIR")]
    posterior: Option<PathBuf>,
    /// Write the first N replications' events (--trace N, default 1) as a CAMEO dyadic event stream to FILE.
    #[arg(long, value_name = "FILE")]
    events_cameo: Option<PathBuf>,
    /// Replace the --events-cameo FILE if it already exists (never a file of a result).
    #[arg(long, requires = "events_cameo")]
    force: bool,
    #[command(flatten)]
    timeseries: TimeseriesArgs,
    /// Also print the built-in metrics (end time, event counts, tensions) below the outcomes.
    #[arg(long)]
    all: bool,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
}

/// `--timeseries DT [--timeseries-reps K]`, shared by `run` and `sweep`.
#[derive(Args)]
struct TimeseriesArgs {
    /// Record every tension and numeric actor state variable at t = 0, DT, 2·DT, … ≤ horizon (scenario time units): timeseries.csv and timeseries_summary.csv (needs --out; a shard also writes timeseries_state.bin, which merge reads).
    #[arg(long, value_name = "DT")]
    timeseries: Option<f64>,
    /// Replications per point written in full to timeseries.csv (the summary uses all).
    #[arg(long, value_name = "K", default_value_t = sweep::DEFAULT_TIMESERIES_REPS, requires = "timeseries")]
    timeseries_reps: u64,
}

impl TimeseriesArgs {
    fn options(&self) -> Option<sweep::TimeseriesOptions> {
        self.timeseries.map(|dt| sweep::TimeseriesOptions {
            dt,
            reps: self.timeseries_reps,
        })
    }
}

/// Progress on stderr: a bar on a terminal, a plain line every 10 s otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    unit: String,
    plain: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} replications  {per_sec}  ETA {eta}",
                )
                .expect("the progress template is valid"),
            );
            bar
        });
        Progress {
            bar,
            unit: "replications".into(),
            plain: !quiet && !terminal,
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    /// What is counted ("replications" unless told otherwise).
    fn with_unit(mut self, unit: String) -> Progress {
        if let Some(bar) = &self.bar {
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {unit}  ETA {{eta}}"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
        self.unit = unit;
        self
    }

    fn update(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        } else if self.plain
            && (self.last.elapsed() >= Duration::from_secs(10)
                || (done == total && self.started.elapsed() >= Duration::from_secs(10)))
        {
            self.last = Instant::now();
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let eta = (total - done) as f64 / rate.max(1e-9);
            eprintln!(
                "flashpoint: {done}/{total} {} ({:.0}%), {rate:.0}/s, ETA {eta:.0} s",
                self.unit,
                100.0 * done as f64 / total.max(1) as f64
            );
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn parse_set(s: &str) -> Result<(String, f64), flashpoint::scenario::ParamError> {
    flashpoint::scenario::parse_assignment(s)
}

/// `--threads` above this many per core is refused (but at least
/// [`MIN_THREAD_CAP`] are always allowed): past the cores, threads only add
/// scheduling work, and tens of thousands of them stall the machine.
const THREADS_PER_CORE: usize = 4;
/// The thread cap on a machine with few cores.
const MIN_THREAD_CAP: usize = 256;

fn threads(n: Option<usize>) -> Result<usize, Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores.saturating_mul(THREADS_PER_CORE).max(MIN_THREAD_CAP);
    match n {
        Some(0) => Err(Error::invalid("threads", "--threads must be at least 1")),
        Some(n) if n > cap => Err(Error::invalid("threads", format!(
            "--threads {n} is more than {cap}, the most allowed on this machine ({cores} cores; {THREADS_PER_CORE} per core, at least {MIN_THREAD_CAP}); results do not depend on the thread count, so give at most {cap}"
        ))),
        Some(n) => Ok(n),
        None => Ok(cores),
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let command: Vec<String> = std::env::args().collect();
    match cli.command {
        Command::Run(a) => {
            if a.trace > 0 && a.out.is_none() && a.events_cameo.is_none() {
                return Err(Error::invalid(
                    "trace",
                    "--trace needs --out DIR to write events.csv (or --events-cameo FILE)",
                ));
            }
            let n_threads = threads(a.threads)?;
            // Refused before the work (and again when written, after the
            // run's own files are in place: it may not replace one of them).
            if let Some(file) = &a.events_cameo {
                flashpoint::output::manifest::claim_out_file(file, a.force)?;
            }
            let cameo = a.events_cameo.map(|file| cameo_stream::CameoConfig {
                scenario_path: a.scenario.clone(),
                overrides: a.set.clone(),
                seed: a.seed,
                reps: if a.trace > 0 { a.trace.min(a.reps) } else { 1 },
                file,
                force: a.force,
            });
            let config = RunConfig {
                scenario_path: a.scenario,
                overrides: a.set,
                reps: a.reps,
                seed: a.seed,
                threads: n_threads,
                out: a.out.clone(),
                trace: if a.out.is_some() { a.trace } else { 0 },
                timeseries: a.timeseries.options(),
                tie_audit: a.tie_audit,
                posterior: a.posterior,
                command,
            };
            let mut progress = Progress::new(a.quiet);
            let report = sweep::run(&config, &mut |d, t| progress.update(d, t));
            progress.finish();
            let report = report?;
            let mut cameo_written = Vec::new();
            if let Some(c) = cameo {
                cameo_written.push(cameo_stream::write_cameo_stream(&c)?);
            }
            print(&report.render_run(&cameo_written, a.all))
        }
        Command::Compare(a) => {
            let arm = |file: Option<PathBuf>, values: &str, flag: &str| {
                let scenario_path = file.or_else(|| a.scenario.clone()).ok_or_else(|| {
                    Error::invalid(
                        "scenario",
                        format!(
                            "give a SCENARIO, or --{flag}-file for policy {}",
                            flag.to_uppercase()
                        ),
                    )
                })?;
                let overrides = flashpoint::scenario::parse_assignments(values)
                    .map_err(|e| e.within(format!("--{flag}")))?;
                Ok::<_, Error>(compare::Arm {
                    scenario_path,
                    overrides,
                })
            };
            let config = compare::CompareConfig {
                a: arm(a.a_file.clone(), &a.a, "a")?,
                b: arm(a.b_file.clone(), &a.b, "b")?,
                reps: a.reps,
                seed: a.seed,
                threads: threads(a.threads)?,
                out: a.out,
                command,
            };
            let report = compare::compare(&config)?;
            print(&compare::render_report(&report))
        }
        Command::Paths(a) => {
            let config = paths::PathsConfig {
                scenario_path: a.scenario,
                overrides: a.set,
                reps: a.reps,
                seed: a.seed,
                threads: threads(a.threads)?,
                outcome: a.outcome,
                anchors: a.anchor,
                longest: a.longest,
                top: a.top,
                out: a.out,
                command,
            };
            let report = paths::paths(&config)?;
            print(&paths::render_report(&report))
        }
        Command::Sensitivity(a) => {
            let config = sensitivity::SensitivityConfig {
                scenario_path: a.scenario,
                overrides: a.set,
                vary: a.vary,
                method: a.method,
                reps: a.reps,
                seed: a.seed,
                threads: threads(a.threads)?,
                bootstrap: a.bootstrap,
                out: a.out,
                command,
            };
            let report = sensitivity::sensitivity(&config)?;
            print(&sensitivity::render_report(&report))
        }
        Command::Rare(a) => {
            let target = match (a.event, a.when) {
                (Some(e), None) => rare::TargetSpec::Event(e),
                (None, Some(w)) => rare::TargetSpec::When(w),
                _ => unreachable!("clap requires exactly one of --event and --when"),
            };
            let config = rare::RareConfig {
                scenario_path: a.scenario,
                target,
                score: a.score,
                levels: a.levels,
                particles: a.particles,
                batches: a.batches,
                pilot: a.pilot,
                overrides: a.set,
                seed: a.seed,
                threads: threads(a.threads)?,
                out: a.out,
                command,
            };
            print(&rare::render_report(&rare::rare(&config)?))
        }
        Command::Calibrate(a) => {
            let config = calibrate::CalibrateConfig {
                scenario_path: a.scenario,
                targets_path: a.targets,
                overrides: a.set,
                vary: a.vary,
                settings: calibrate::Settings {
                    particles: a.particles,
                    generations: a.generations,
                    quantile: a.quantile,
                    min_tolerance: a.min_tolerance,
                    max_attempts_per_particle: a.max_attempts,
                },
                seed: a.seed,
                threads: threads(a.threads)?,
                out: a.out,
                command,
            };
            let mut bar: Option<(usize, Progress)> = None;
            let report = calibrate::calibrate(&config, &mut |p| {
                if bar.as_ref().is_none_or(|(g, _)| *g != p.generation) {
                    if let Some((_, old)) = bar.take() {
                        old.finish();
                    }
                    let progress = Progress::new(a.quiet).with_unit(format!(
                        "particles, generation {} (tolerance {})",
                        p.generation,
                        flashpoint::analysis::fmt_num(p.tolerance)
                    ));
                    bar = Some((p.generation, progress));
                }
                if let Some((_, progress)) = &mut bar {
                    progress.update(p.accepted as u64, p.particles as u64);
                }
            });
            if let Some((_, progress)) = bar {
                progress.finish();
            }
            print(&calibrate::render_report(&report?))
        }
        Command::Sweep(a) => {
            let (out, resume) = match (a.out, a.resume) {
                (_, Some(dir)) => (Some(dir), true),
                (out, None) => (out, false),
            };
            let config = SweepConfig {
                scenario_path: a.scenario,
                overrides: a.set,
                vary: a.vary,
                design: a.design,
                recorded_design: None,
                reps: a.reps,
                seed: a.seed,
                threads: threads(a.threads)?,
                out,
                shard: a.shard,
                independent_streams: a.independent_streams,
                no_runs: a.no_runs,
                resume,
                timeseries: a.timeseries.options(),
                command,
            };
            let mut progress = Progress::new(a.quiet);
            let report = sweep::sweep(&config, &mut |d, t| progress.update(d, t));
            progress.finish();
            print(&report?.render_sweep())
        }
        Command::Merge {
            shards,
            out,
            scenario,
        } => {
            let written =
                flashpoint::sweep::merge::merge(&shards, &out, scenario.as_deref(), command)?;
            let mut text = String::new();
            flashpoint::output::text::push_written(&mut text, &written);
            print(&text)
        }
        Command::Check(_) => unreachable!("`check` is handled in main"),
        Command::Plot {
            dir,
            out,
            point,
            metric,
            force,
        } => {
            let out = out.map(flashpoint::plot::PlotOut::new).transpose()?;
            let path = flashpoint::plot::plot(&flashpoint::plot::PlotConfig {
                dir,
                out,
                point,
                metric,
                force,
            })?;
            print(&format!("wrote {}\n", path.display()))
        }
        Command::Report { dir, out, force } => {
            let path =
                flashpoint::html::write_report(&flashpoint::html::HtmlConfig { dir, out, force })?;
            print(&format!("wrote {}\n", path.display()))
        }
        Command::Validate { scenario } => {
            let checked = flashpoint::scenario::load_checked(&scenario)?;
            let mut text = flashpoint::scenario::describe(&checked.scenario);
            if checked.n_warnings > 0 {
                text.push_str(&format!("\nwarnings ({}):\n", checked.n_warnings));
                text.push_str(&checked.warnings);
            }
            print(&text)
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

/// `check`: 0 identical (or updated), 1 different, 2 when it cannot check.
fn check_command(a: &CheckArgs) -> ExitCode {
    let report = threads(a.threads).and_then(|threads| {
        // Refused before the work, and again when written.
        if let Some(file) = &a.junit {
            flashpoint::output::manifest::claim_out_file(file, a.force)?;
        }
        let report = flashpoint::sweep::check::check(&flashpoint::sweep::check::CheckConfig {
            dir: a.dir.clone(),
            scenario: a.scenario.clone(),
            threads,
            update: a.update,
        })?;
        if let Some(file) = &a.junit {
            flashpoint::output::manifest::claim_out_file(file, a.force)?;
            flashpoint::output::atomic::write_atomic(file, report.junit().as_bytes())
                .map_err(|e| Error::io(file, e))?;
        }
        Ok(report)
    });
    match report {
        Ok(report) => {
            let passed = report.passed() || a.update;
            match print(&report.render()) {
                Ok(()) if passed => ExitCode::SUCCESS,
                Ok(()) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(e) => {
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

/// Prints an error on stderr: `error: …`, except for a scenario's located
/// diagnostics, which carry their own `file:line:col: error:` prefix.
fn report_error(e: &Error) {
    match e {
        Error::Load(flashpoint::scenario::LoadError::Invalid { .. })
        | Error::Invalid {
            option: "targets", ..
        } => eprintln!("{e}"),
        _ => eprintln!("error: {e}"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Check(a) = &cli.command {
        return check_command(a);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&e);
            if e.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
