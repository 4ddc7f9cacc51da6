//! Running replications and writing their results: the `run` command (one
//! point) on top of the parallel [`harness`].

pub mod harness;

use crate::engine::{columns, Column, ColumnKind, Engine, RunOptions, TraceEvent};
use crate::error::{Error, Result};
use crate::output::manifest::{Manifest, ScenarioInfo, Totals, RNG_DESCRIPTION};
use crate::output::tables::{
    push_run_row, runs_header, summary_header, summary_prefix, Keys, PointSummary,
};
use crate::output::{fmt_f64, push_f64, sha256_hex, write_atomic, AtomicFile};
use crate::scenario::Scenario;
use harness::{execute, Plan};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// What a run produced, for printing.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario_name: String,
    /// The output columns.
    pub columns: Vec<Column>,
    /// The summary of all replications.
    pub summary: PointSummary,
    /// Replications run.
    pub reps: u64,
    /// Events over all replications.
    pub events: u64,
    /// Wall-clock seconds spent simulating and writing.
    pub seconds: f64,
    /// The master seed used.
    pub seed: u64,
    /// Files written, if any.
    pub written: Vec<PathBuf>,
}

/// Reads a scenario file, returning it with the SHA-256 of its bytes.
pub fn load_scenario(path: &Path) -> Result<(Scenario, String)> {
    let bytes = std::fs::read(path).map_err(|error| crate::scenario::LoadError::Io {
        path: path.display().to_string(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Usage(format!(
            "{}: the scenario is not UTF-8 text",
            path.display()
        ))
    })?;
    let scenario = crate::scenario::parse(&path.display().to_string(), &text)?;
    Ok((scenario, sha256_hex(text.as_bytes())))
}

/// Runs `config.reps` replications of one parameter point, in parallel, and
/// writes `runs.csv`, `summary.csv`, `events.csv` (with `trace`) and
/// `manifest.json` to `config.out` if given.
pub fn run(config: &RunConfig) -> Result<RunReport> {
    if config.reps == 0 {
        return Err(Error::Usage("--reps must be at least 1".into()));
    }
    let (scenario, sha256) = load_scenario(&config.scenario_path)?;
    let params = scenario
        .param_values(&config.overrides)
        .map_err(Error::Usage)?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let cols = columns(&scenario);
    let keys = Keys {
        point: false,
        params: Vec::new(),
    };
    let n_events_col = cols
        .iter()
        .position(|c| c.name == "n_events")
        .expect("n_events is always a column");

    let mut runs = match &config.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let path = dir.join("runs.csv");
            let mut f = AtomicFile::create(&path).map_err(|e| Error::io(&path, e))?;
            f.write_all(runs_header(&keys, &cols).as_bytes())
                .map_err(|e| Error::io(&path, e))?;
            Some((f, path))
        }
        None => None,
    };
    let plan = Plan {
        scenario: &scenario,
        points: vec![params.clone()],
        reps: config.reps,
        seed,
        independent_streams: false,
        range: 0..config.reps,
        options: RunOptions::default(),
    };
    let started = Instant::now();
    let mut summary = PointSummary::new(&cols);
    let mut events = 0u64;
    let mut text = String::new();
    let n_cols = cols.len();
    let sunk = execute(&plan, config.threads, |block| {
        text.clear();
        for (i, row) in block.values.chunks_exact(n_cols).enumerate() {
            summary.add(&cols, row);
            events += row[n_events_col] as u64;
            if runs.is_some() {
                push_run_row(&mut text, &keys, 0, block.first + i as u64, &[], &cols, row);
            }
        }
        match &mut runs {
            Some((f, path)) => f
                .write_all(text.as_bytes())
                .map_err(|e| Error::io(path.clone(), e)),
            None => Ok(()),
        }
    });
    let sunk = match sunk {
        Ok(s) => s,
        Err(e) => {
            if let Some((f, _)) = runs {
                f.discard();
            }
            return Err(e.into());
        }
    };
    sunk?;
    let mut written = Vec::new();
    if let (Some(dir), Some((f, path))) = (&config.out, runs) {
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "runs.csv".to_string(),
            f.commit().map_err(|e| Error::io(&path, e))?,
        );
        written.push(path);
        let mut s = summary_header(&keys);
        summary.push_rows(&mut s, &summary_prefix(&keys, 0, &[]), &cols);
        let path = dir.join("summary.csv");
        outputs.insert(
            "summary.csv".into(),
            write_atomic(&path, s.as_bytes()).map_err(|e| Error::io(&path, e))?,
        );
        written.push(path);
        if config.trace > 0 {
            let text = trace_csv(&scenario, &plan, config.trace.min(config.reps))?;
            let path = dir.join("events.csv");
            outputs.insert(
                "events.csv".into(),
                write_atomic(&path, text.as_bytes()).map_err(|e| Error::io(&path, e))?,
            );
            written.push(path);
        }
        let manifest = Manifest {
            flashpoint_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: "run".into(),
            created: crate::output::manifest::utc_now(),
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.scenario_path.display().to_string(),
                name: scenario.name.clone(),
                sha256,
            },
            seed,
            reps: config.reps,
            rng: RNG_DESCRIPTION.into(),
            independent_streams: false,
            params: scenario
                .params
                .iter()
                .zip(&params)
                .map(|(p, v)| (p.name.clone(), *v))
                .collect(),
            design: None,
            trace_reps: config.trace.min(config.reps),
            totals: Totals {
                replications: config.reps,
                events,
            },
            outputs,
        };
        let json =
            serde_json::to_string_pretty(&manifest).expect("a manifest always serializes") + "\n";
        let path = dir.join("manifest.json");
        write_atomic(&path, json.as_bytes()).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(RunReport {
        scenario_name: scenario.name.clone(),
        columns: cols,
        summary,
        reps: config.reps,
        events,
        seconds: started.elapsed().as_secs_f64(),
        seed,
        written,
    })
}

/// Header of `events.csv`.
pub const EVENTS_HEADER: &str =
    "rep,seq,time,date,event,source,target,rule,cause_seq,tension_after\n";

/// Re-runs the first `n` replications of point 0 with tracing (replications
/// are pure functions of their key, so these are the same replications) and
/// renders `events.csv`.
pub fn trace_csv(scenario: &Scenario, plan: &Plan<'_>, n: u64) -> Result<String> {
    let mut engine = Engine::new(scenario);
    let mut out = vec![0.0; columns(scenario).len()];
    let mut trace: Vec<TraceEvent> = Vec::new();
    let mut text = String::from(EVENTS_HEADER);
    let actor = |a: Option<u16>| a.map_or("", |a| scenario.actors[usize::from(a)].id.as_str());
    for rep in 0..n {
        trace.clear();
        engine
            .run(
                &plan.points[0],
                &plan.key(0, rep),
                plan.options,
                &mut out,
                Some(&mut trace),
            )
            .map_err(|error| harness::RepError {
                point: 0,
                rep,
                error,
            })?;
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
    }
    Ok(text)
}

/// Renders the run's summary as a readable table: mean and 95% CI of each
/// numeric column, share and Wilson interval of each category.
pub fn render_table(report: &RunReport) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut csv = String::new();
    report.summary.push_rows(&mut csv, "", &report.columns);
    for line in csv.lines() {
        let f: Vec<&str> = line.split(',').collect();
        // metric,kind,category,n,mean,sd,se,lo,hi,...
        let num = |s: &str| {
            s.parse::<f64>()
                .map_or_else(|_| "-".to_string(), |x| format!("{x:.4}"))
        };
        let (name, estimate) = if f[1] == "share" {
            (
                format!("{} = {}", f[0], f[2]),
                format!("{:.1}%", f[4].parse::<f64>().unwrap_or(f64::NAN) * 100.0),
            )
        } else {
            (f[0].to_string(), num(f[4]))
        };
        let ci = if f[1] == "share" {
            let pct = |s: &str| {
                s.parse::<f64>()
                    .map_or_else(|_| "-".to_string(), |x| format!("{:.1}%", x * 100.0))
            };
            format!("[{}, {}]", pct(f[7]), pct(f[8]))
        } else {
            format!("[{}, {}]", num(f[7]), num(f[8]))
        };
        rows.push([name, estimate, ci, f[3].to_string()]);
    }
    let header = ["metric", "mean / share", "95% CI", "n"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: [&str; 4], out: &mut String| {
        out.push_str(&format!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {:>w3$}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        ));
    };
    line(header, &mut out);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3]], &mut out);
    }
    let _ = ColumnKind::Numeric;
    out
}
