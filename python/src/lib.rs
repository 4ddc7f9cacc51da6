//! `flashpoint._native`: the PyO3 layer of the Python package. It owns the
//! crossing between Python and the library — scenarios loaded or parsed,
//! parameter points checked, runs of [`Simulation`] with the GIL released
//! and Ctrl-C honoured, tables handed over as raw `f64` buffers, and the
//! library's errors turned into the package's exceptions
//! (`flashpoint._errors`). The Python-side wrapper (`flashpoint/__init__.py`)
//! builds the DataFrames and holds the documented API.

use flashpoint::analysis::compare::{compare_scenarios_while, Arm, CompareConfig, CompareRow};
use flashpoint::engine::{Column, ColumnKind};
use flashpoint::output::tables::PointSummary;
use flashpoint::runner::design::{
    design_file, parse_varies, points, refuse_set_and_varied, DesignKind,
};
use flashpoint::runner::{Simulation, Table};
use flashpoint::scenario::{self, LoadError, ParamError};
use flashpoint::sweep::{read_design_file, RunConfig, SweepConfig};
use flashpoint::Error;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often a run looks for Ctrl-C while no block has finished.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// One of the package's exception classes, by name, from `flashpoint._errors`.
fn exception<'py>(py: Python<'py>, name: &str, args: impl IntoPyObject<'py>) -> PyErr {
    let made = py
        .import("flashpoint._errors")
        .and_then(|m| m.getattr(name))
        .and_then(|class| class.call1((args,)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// A scenario that failed to load: `OSError` for an unreadable file,
/// `ScenarioError` (with every diagnostic, located) for a bad one.
fn load_error(py: Python<'_>, e: LoadError) -> PyErr {
    let message = e.to_string();
    match e {
        LoadError::Io { path, error } => match error.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, message, path)),
            None => PyOSError::new_err(message),
        },
        LoadError::Invalid {
            path,
            source,
            diagnostics,
        } => {
            let located: Vec<(usize, usize, String, Option<String>)> = diagnostics
                .iter()
                .map(|d| {
                    let (line, col) = flashpoint::diag::line_col(&source, d.span.start);
                    (line, col, d.message.clone(), d.help.clone())
                })
                .collect();
            exception(py, "_scenario_error", (message, path, located))
        }
    }
}

/// A parameter value the scenario does not accept: `ParameterError`.
fn param_error(py: Python<'_>, e: ParamError) -> PyErr {
    exception(py, "ParameterError", e.to_string())
}

/// The library's error as the package's exception.
fn error(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Load(e) => load_error(py, e),
        Error::Param(e) => param_error(py, e),
        Error::Invalid { message, .. } => PyValueError::new_err(message),
        Error::Refused(message) => PyRuntimeError::new_err(message),
        Error::Io { path, source } => match source.raw_os_error() {
            Some(errno) => {
                PyOSError::new_err((errno, source.to_string(), path.display().to_string()))
            }
            None => PyOSError::new_err(format!("{}: {source}", path.display())),
        },
        Error::Sim(e) => exception(py, "SimulationError", e.to_string()),
    }
}

/// The labels of a categorical column, `None` for a numeric one.
fn labels(c: &Column) -> Option<Vec<String>> {
    match &c.kind {
        ColumnKind::Numeric => None,
        ColumnKind::Categorical(labels) => Some(labels.clone()),
    }
}

/// A compiled scenario (the wrapper's `Scenario` holds one).
#[pyclass(module = "flashpoint._native", name = "NativeScenario", frozen)]
struct NativeScenario {
    sim: Simulation,
    /// The path as given, or the name given to `from_string`.
    path: String,
    /// SHA-256 (hex) of the file's bytes, or of the text.
    sha256: String,
}

#[pymethods]
impl NativeScenario {
    /// Reads and compiles a scenario file.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<NativeScenario> {
        let (s, sha256) = py
            .detach(|| scenario::load_hashed(&path))
            .map_err(|e| load_error(py, e))?;
        Ok(NativeScenario {
            sim: Simulation::new(Arc::new(s)),
            path: path.display().to_string(),
            sha256,
        })
    }

    /// Compiles scenario text; `name` stands for the path in diagnostics.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str, name: &str) -> PyResult<NativeScenario> {
        let s = scenario::parse(name, text).map_err(|e| load_error(py, e))?;
        Ok(NativeScenario {
            sim: Simulation::new(Arc::new(s)),
            path: name.to_string(),
            sha256: flashpoint::digest::sha256_hex(text.as_bytes()),
        })
    }

    /// The scenario's name.
    #[getter]
    fn name(&self) -> String {
        self.sim.scenario().name.clone()
    }

    /// Its description.
    #[getter]
    fn description(&self) -> String {
        self.sim.scenario().description.clone()
    }

    /// The path (or name) it was read from.
    #[getter]
    fn path(&self) -> String {
        self.path.clone()
    }

    /// SHA-256 of its text.
    #[getter]
    fn sha256(&self) -> String {
        self.sha256.clone()
    }

    /// Its default master seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.sim.scenario().seed
    }

    /// Its horizon.
    #[getter]
    fn horizon(&self) -> f64 {
        self.sim.scenario().horizon
    }

    /// Parameters as (name, value, min, max, doc), in declaration order.
    fn params(&self) -> Vec<(String, f64, f64, f64, String)> {
        self.sim
            .scenario()
            .params
            .iter()
            .map(|p| (p.name.clone(), p.value, p.min, p.max, p.doc.clone()))
            .collect()
    }

    /// Actors as (id, name).
    fn actors(&self) -> Vec<(String, String)> {
        self.sim
            .scenario()
            .actors
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect()
    }

    /// Event types as (id, label, cameo, terminal).
    fn events(&self) -> Vec<(String, String, Option<String>, bool)> {
        self.sim
            .scenario()
            .events
            .iter()
            .map(|e| (e.id.clone(), e.label.clone(), e.cameo.clone(), e.terminal))
            .collect()
    }

    /// The columns of a run as (name, labels or None), in order.
    fn columns(&self) -> Vec<(String, Option<Vec<String>>)> {
        self.sim
            .columns()
            .iter()
            .map(|c| (c.name.clone(), labels(c)))
            .collect()
    }

    /// The names of the scenario's declared outcomes, in order (the
    /// columns of a run begin with them).
    fn outcome_names(&self) -> Vec<String> {
        self.sim
            .scenario()
            .outcomes
            .iter()
            .map(|o| o.name.clone())
            .collect()
    }

    /// The full parameter vector of the defaults with `overrides`.
    fn point(&self, py: Python<'_>, overrides: Vec<(String, f64)>) -> PyResult<Vec<f64>> {
        self.sim.point(&overrides).map_err(|e| param_error(py, e))
    }

    /// The design of a sweep: the varied parameters' names and one vector
    /// of their values per point, from `NAME=SPEC` texts (as `--vary`) and
    /// `grid`, `lhs:N` or `random:N` (as `--design`), drawn with `seed`, or
    /// read from the CSV file of `file:PATH` (then `vary` must be empty).
    /// A parameter of `overrides` (`set`) that the design varies is refused,
    /// as the CLI refuses it.
    #[pyo3(signature = (vary, design, seed, overrides=Vec::new()))]
    fn design(
        &self,
        py: Python<'_>,
        vary: Vec<String>,
        design: &str,
        seed: u64,
        overrides: Vec<(String, f64)>,
    ) -> PyResult<(Vec<String>, Vec<Vec<f64>>)> {
        let scenario = self.sim.scenario();
        let (vary, points, varied_by) = match design_file(design) {
            Some(path) => {
                if !vary.is_empty() {
                    return Err(PyValueError::new_err(format!(
                        "--vary cannot be used with --design file:{path}: the file's columns are the varied parameters"
                    )));
                }
                let (vary, points, _) =
                    read_design_file(path, scenario).map_err(|e| error(py, e))?;
                (vary, points, format!("a column of {path}"))
            }
            None => {
                let kind = DesignKind::parse(design).map_err(PyValueError::new_err)?;
                let vary = parse_varies(&vary, scenario).map_err(PyValueError::new_err)?;
                let points = points(kind, &vary, seed).map_err(PyValueError::new_err)?;
                (vary, points, "--vary".to_string())
            }
        };
        refuse_set_and_varied(&vary, &overrides, &varied_by).map_err(PyValueError::new_err)?;
        Ok((vary.iter().map(|v| v.name.clone()).collect(), points))
    }

    /// Runs replications `0..reps` of each of `points` (full parameter
    /// vectors; point after point in the table) with master `seed` on
    /// `threads` threads, with the GIL released. `progress(done, total)` is
    /// called on this thread as blocks finish; Ctrl-C (or an exception
    /// from `progress`) stops the run and is raised.
    #[pyo3(signature = (points, reps, seed, threads, independent_streams=false, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        points: Vec<Vec<f64>>,
        reps: u64,
        seed: u64,
        threads: usize,
        independent_streams: bool,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<NativeTable> {
        let sim = &self.sim;
        let total = points.len() as u64 * reps;
        let table = interruptible(py, progress, total, &mut |progress| {
            sim.run_points_while(&points, reps, seed, independent_streams, threads, progress)
        })?;
        Ok(NativeTable { table })
    }
}

/// The library's progress callback: `(done, total)`, false to stop.
type Progress<'a> = dyn FnMut(u64, u64) -> bool + Send + 'a;

/// Runs `work` on a thread of its own with the GIL released, while this
/// thread waits for its progress: `work` gets a callback to call with
/// `(done, total)` as blocks finish, which returns false once the run must
/// stop. Here `progress(done, total)` is called for each report, and Ctrl-C
/// is looked for at least every [`SIGNAL_POLL`]; a signal (or an exception
/// from `progress`) tells `work` to stop and is raised once it has.
fn interruptible<T: Send>(
    py: Python<'_>,
    progress: Option<Bound<'_, PyAny>>,
    total: u64,
    work: &mut (dyn FnMut(&mut Progress) -> flashpoint::Result<Option<T>> + Send),
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let (tx, rx) = channel::<u64>();
    // Receivers are not `Sync`; the lock lets the GIL-free wait borrow it.
    let rx = Mutex::new(rx);
    let (result, raised) = std::thread::scope(|s| {
        let stop = &stop;
        let worker = s.spawn(move || {
            work(&mut |done, _| {
                let _ = tx.send(done);
                !stop.load(Ordering::Relaxed)
            })
        });
        let mut raised: Option<PyErr> = None;
        loop {
            let got = py.detach(|| {
                rx.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .recv_timeout(SIGNAL_POLL)
            });
            let checked = match got {
                Ok(done) => match &progress {
                    Some(f) if raised.is_none() => f.call1((done, total)).map(drop),
                    _ => Ok(()),
                },
                Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if raised.is_none() {
                if let Err(e) = checked.and_then(|()| py.check_signals()) {
                    stop.store(true, Ordering::Relaxed);
                    raised = Some(e);
                }
            }
        }
        let result = py.detach(|| worker.join());
        (result, raised)
    });
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if let Some(e) = raised {
        return Err(e);
    }
    match result {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(PyRuntimeError::new_err("the run was stopped")),
        Err(e) => Err(error(py, e)),
    }
}

/// A column handed to Python: name, labels (categorical) and raw values.
type RawColumn<'py> = (String, Option<Vec<String>>, Bound<'py, PyBytes>);

/// A summary row handed to Python: point, metric, kind, category, n and
/// (mean, sd, se, ci95_lo, ci95_hi, p05, p50, p95).
type SummaryTuple = (usize, String, &'static str, Option<String>, u64, Vec<f64>);

/// The replications of a run, in memory.
#[pyclass(module = "flashpoint._native", name = "NativeTable", frozen)]
struct NativeTable {
    table: Table,
}

#[pymethods]
impl NativeTable {
    /// Number of rows (replications).
    fn __len__(&self) -> usize {
        self.table.n_rows()
    }

    /// Each column as (name, labels or None, native-endian f64 bytes); a
    /// categorical column's values are its labels' indices.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Vec<RawColumn<'py>>> {
        let n = self.table.n_rows();
        self.table
            .columns()
            .iter()
            .map(|c| {
                let values = self
                    .table
                    .column(&c.name)
                    .expect("a table has its own columns")
                    .values();
                let bytes = PyBytes::new_with(py, n * 8, |buf| {
                    for (chunk, v) in buf.chunks_exact_mut(8).zip(values) {
                        chunk.copy_from_slice(&v.to_ne_bytes());
                    }
                    Ok(())
                })?;
                Ok((c.name.clone(), labels(c), bytes))
            })
            .collect()
    }

    /// The rows of `summary.csv` (the CLI's) of each group of `per_point`
    /// consecutive rows (all rows when 0), as tuples: point, metric, kind,
    /// category, n, and (mean, sd, se, ci95_lo, ci95_hi, p05, p50, p95).
    fn summary(&self, py: Python<'_>, per_point: usize) -> Vec<SummaryTuple> {
        let table = &self.table;
        let n = table.n_rows();
        let per_point = if per_point == 0 { n.max(1) } else { per_point };
        let rows = py.detach(|| {
            let mut rows = Vec::new();
            for (point, start) in (0..n.max(1)).step_by(per_point).enumerate() {
                let mut summary = PointSummary::new(table.columns());
                for r in start..(start + per_point).min(n) {
                    summary.add(&table.row(r));
                }
                rows.extend(
                    summary
                        .rows(table.columns())
                        .into_iter()
                        .map(|r| (point, r)),
                );
            }
            rows
        });
        rows.into_iter()
            .map(|(point, r)| {
                let kind = if r.category.is_some() {
                    "share"
                } else {
                    "numeric"
                };
                let [p05, p50, p95] = r.quantiles;
                let stats = vec![r.mean, r.sd, r.se, r.ci95.0, r.ci95.1, p05, p50, p95];
                (point, r.metric, kind, r.category, r.n, stats)
            })
            .collect()
    }
}

/// One row of `compare.csv`: metric, kind, category, n and the numbers
/// [`compare_stats`] names.
type CompareTuple = (String, &'static str, Option<String>, u64, Vec<f64>);

/// Policy B (scenario `b` at point `pb`) against A over `reps` paired
/// replications, as `flashpoint compare`; the GIL is released meanwhile,
/// `progress(done, reps)` is called as blocks finish, and Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (a, pa, b, pb, reps, seed, threads, progress=None))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    a: &NativeScenario,
    pa: Vec<f64>,
    b: &NativeScenario,
    pb: Vec<f64>,
    reps: u64,
    seed: u64,
    threads: usize,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Vec<CompareTuple>> {
    let (sa, sb) = (a.sim.scenario(), b.sim.scenario());
    let rows = interruptible(py, progress, reps, &mut |progress| {
        compare_scenarios_while(sa, &pa, sb, &pb, reps, seed, threads, progress)
    })?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let stats = r.stats().to_vec();
            let kind = r.metric.kind();
            (r.metric.name, kind, r.metric.category, r.n, stats)
        })
        .collect())
}

/// The names of the numbers in each row [`compare`] returns, in order.
#[pyfunction]
fn compare_stats() -> Vec<&'static str> {
    CompareRow::STATS.to_vec()
}

/// Writes a run's files to `out` exactly as `flashpoint run --out` does
/// (runs.csv, summary.csv, manifest.json), by running it again through the
/// library's writer: the same numbers.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn write_run(
    py: Python<'_>,
    path: std::path::PathBuf,
    overrides: Vec<(String, f64)>,
    reps: u64,
    seed: u64,
    threads: usize,
    out: std::path::PathBuf,
    command: Vec<String>,
) -> PyResult<()> {
    let config = RunConfig {
        scenario_path: path,
        overrides,
        reps,
        seed: Some(seed),
        threads,
        out: Some(out),
        trace: 0,
        timeseries: None,
        tie_audit: false,
        posterior: None,
        command,
    };
    py.detach(|| flashpoint::sweep::run(&config, &mut |_, _| {}))
        .map(drop)
        .map_err(|e| error(py, e))
}

/// Writes a comparison's files to `out` (compare.csv, manifest.json)
/// exactly as `flashpoint compare --out` does, by running it again through
/// the library's writer.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn write_compare(
    py: Python<'_>,
    a: (std::path::PathBuf, Vec<(String, f64)>),
    b: (std::path::PathBuf, Vec<(String, f64)>),
    reps: u64,
    seed: u64,
    threads: usize,
    out: std::path::PathBuf,
    command: Vec<String>,
) -> PyResult<()> {
    let arm = |(scenario_path, overrides)| Arm {
        scenario_path,
        overrides,
    };
    let config = CompareConfig {
        a: arm(a),
        b: arm(b),
        reps,
        seed: Some(seed),
        threads,
        out: Some(out),
        command,
    };
    py.detach(|| flashpoint::analysis::compare::compare(&config))
        .map(drop)
        .map_err(|e| error(py, e))
}

/// Writes a sweep's files to `out` exactly as `flashpoint sweep --out`
/// does, by running it again through the library's writer.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn write_sweep(
    py: Python<'_>,
    path: std::path::PathBuf,
    overrides: Vec<(String, f64)>,
    vary: Vec<String>,
    design: String,
    reps: u64,
    seed: u64,
    threads: usize,
    independent_streams: bool,
    out: std::path::PathBuf,
    command: Vec<String>,
) -> PyResult<()> {
    let config = SweepConfig {
        scenario_path: path,
        overrides,
        vary,
        design,
        recorded_design: None,
        reps,
        seed: Some(seed),
        threads,
        out: Some(out),
        shard: None,
        independent_streams,
        no_runs: false,
        resume: false,
        timeseries: None,
        command,
    };
    py.detach(|| flashpoint::sweep::sweep(&config, &mut |_, _| {}))
        .map(drop)
        .map_err(|e| error(py, e))
}

/// The number of threads a run uses when not told: one per core.
#[pyfunction]
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The library's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The scenario language version this build reads.
#[pyfunction]
fn language_version() -> u32 {
    scenario::LANGUAGE_VERSION
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeScenario>()?;
    m.add_class::<NativeTable>()?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(compare_stats, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add_function(wrap_pyfunction!(write_run, m)?)?;
    m.add_function(wrap_pyfunction!(write_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(write_compare, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(language_version, m)?)?;
    Ok(())
}
