//! Regression checks: `flashpoint check DIR` re-runs the run or sweep that
//! `DIR/manifest.json` records, into a temporary directory, and compares the
//! fresh files with those in `DIR`, byte for byte.
//!
//! The re-run is rebuilt from the manifest alone: the scenario file (its
//! recorded path, looked up from the current directory and then from `DIR`
//! and its parents, or `--scenario`), every parameter value of `params` (so
//! `--set` overrides are reproduced), the seed, the replications, the design
//! (`vary` specs, kind, shard, `no_runs`), independent streams, traced
//! replications and the time-series grid.
//!
//! [`check`] returns a [`CheckReport`]: per file, identical or the first
//! differing rows side by side; for `summary.csv`, every metric whose mean
//! moved, by how much and by how many standard errors of the difference.
//! With `update`, the golden files are replaced by the fresh ones all at
//! once (`output::swap`): after a failure or a kill the golden
//! directory is old or new, never mixed.

use super::{run, sweep, RunConfig, SweepConfig, TimeseriesOptions, DEFAULT_TIMESERIES_REPS};
use crate::error::{Error, Result};
use crate::output::manifest::{read_manifest, resolve_scenario, Manifest};
use crate::output::sha256_hex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A validated `check` request.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// The directory holding the golden result and its `manifest.json`.
    pub dir: PathBuf,
    /// Use this scenario file instead of the one the manifest records.
    pub scenario: Option<PathBuf>,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
    /// Replace the golden files with the fresh ones.
    pub update: bool,
}

/// What `check` found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The golden directory.
    pub dir: PathBuf,
    /// `run` or `sweep`.
    pub kind: String,
    /// The scenario file that was re-run.
    pub scenario_path: PathBuf,
    /// Master seed and replications per point, from the manifest.
    pub seed: u64,
    /// Replications per point.
    pub reps: u64,
    /// (golden, fresh) SHA-256 of the scenario file, when it changed since
    /// the golden run.
    pub scenario_changed: Option<(String, String)>,
    /// Other notes: manifest fields the fresh run records differently,
    /// parameters the scenario no longer declares, golden files that do not
    /// match their recorded checksum.
    pub notes: Vec<String>,
    /// One entry per output file, in name order.
    pub files: Vec<FileCheck>,
    /// Files rewritten by `update`.
    pub updated: Vec<PathBuf>,
}

/// The comparison of one output file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    /// File name within the directory.
    pub name: String,
    /// What was found.
    pub outcome: FileOutcome,
}

/// Whether a golden file was reproduced.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// Byte for byte.
    Identical,
    /// The fresh run wrote it, the golden directory does not have it.
    MissingGolden,
    /// The golden directory has it (the manifest lists it), the fresh run did not write it.
    MissingFresh,
    /// The bytes differ.
    Differs(Difference),
}

/// How a file differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Lines in the golden file.
    pub golden_lines: usize,
    /// Lines in the fresh file.
    pub fresh_lines: usize,
    /// Line positions at which the two differ (extra lines included).
    pub differing_lines: usize,
    /// The first few differing lines.
    pub first: Vec<LineDiff>,
    /// `summary.csv` only: metrics whose means moved, largest |z| first.
    pub moved: Vec<MovedMetric>,
}

/// One differing line, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct LineDiff {
    /// Line number (1 = header).
    pub line: usize,
    /// The golden line (empty past the end of the file).
    pub golden: String,
    /// The fresh line (empty past the end of the file).
    pub fresh: String,
    /// (column, golden value, fresh value) of each differing field.
    pub fields: Vec<(String, String, String)>,
}

/// A summary metric whose mean (or share) moved.
#[derive(Debug, Clone, PartialEq)]
pub struct MovedMetric {
    /// Point and parameter values (sweeps), metric and category.
    pub key: String,
    /// Golden mean.
    pub golden: f64,
    /// Fresh mean.
    pub fresh: f64,
    /// Standard error of the difference, `sqrt(se_golden² + se_fresh²)`
    /// (independent estimates; under common random numbers the true one is
    /// smaller, so `z` is conservative).
    pub se: f64,
}

impl MovedMetric {
    /// `fresh − golden`.
    pub fn delta(&self) -> f64 {
        self.fresh - self.golden
    }

    /// The move in standard errors (`inf` when both are exact, e.g. a share of 0).
    pub fn z(&self) -> f64 {
        self.delta() / self.se
    }
}

/// Columns that identify a row, shown even when they agree.
const KEY_COLUMNS: [&str; 8] = [
    "point", "rep", "seq", "t", "series", "metric", "kind", "category",
];

/// Differing lines listed per file.
const FIRST_LINES: usize = 3;
/// Moved metrics listed per file.
const MOVED_SHOWN: usize = 15;

impl CheckReport {
    /// Whether every file was reproduced byte for byte.
    pub fn passed(&self) -> bool {
        self.files
            .iter()
            .all(|f| f.outcome == FileOutcome::Identical)
    }

    /// Names of the metrics (with point and category) whose means moved, over all files.
    pub fn moved_metrics(&self) -> Vec<&MovedMetric> {
        self.files
            .iter()
            .filter_map(|f| match &f.outcome {
                FileOutcome::Differs(d) => Some(d.moved.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The report as text for a terminal or a CI log.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let verdict = if self.passed() {
            "identical"
        } else {
            "DIFFERENT"
        };
        let _ = writeln!(
            out,
            "check {}: {} of {}, seed {}, {} replications per point: {verdict}",
            self.dir.display(),
            self.kind,
            self.scenario_path.display(),
            self.seed,
            self.reps
        );
        if let Some((golden, fresh)) = &self.scenario_changed {
            let _ = writeln!(
                out,
                "NOTE: the scenario file changed since the golden run (sha256 {} -> {}); compared anyway",
                &golden[..golden.len().min(12)],
                &fresh[..fresh.len().min(12)]
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out.push('\n');
        for f in &self.files {
            match &f.outcome {
                FileOutcome::Identical => {
                    let _ = writeln!(out, "  identical   {}", f.name);
                }
                FileOutcome::MissingGolden => {
                    let _ = writeln!(
                        out,
                        "  NEW         {}: written by the fresh run, absent from {}",
                        f.name,
                        self.dir.display()
                    );
                }
                FileOutcome::MissingFresh => {
                    let _ = writeln!(
                        out,
                        "  MISSING     {}: in the golden result, not written by the fresh run",
                        f.name
                    );
                }
                FileOutcome::Differs(d) => {
                    let _ = writeln!(
                        out,
                        "  DIFFERS     {}: {} of {} lines differ (golden {} lines, fresh {})",
                        f.name,
                        d.differing_lines,
                        d.golden_lines.max(d.fresh_lines),
                        d.golden_lines,
                        d.fresh_lines
                    );
                    render_lines(&mut out, &d.first);
                    render_moved(&mut out, &f.name, &d.moved);
                }
            }
        }
        for path in &self.updated {
            let _ = writeln!(out, "updated {}", path.display());
        }
        out
    }
}

impl CheckReport {
    /// The report as JUnit XML (the format GitHub Actions, GitLab CI and
    /// Jenkins display): one `<testsuite>` named after the directory, one
    /// `<testcase>` per compared file and one per moved metric of
    /// `summary.csv`, each failure carrying the text [`CheckReport::render`]
    /// prints for it. Deterministic: no timestamps, no host names.
    pub fn junit(&self) -> String {
        use std::fmt::Write as _;
        let suite = format!("flashpoint check {}", self.dir.display());
        let mut cases = String::new();
        let (mut tests, mut failures) = (0usize, 0usize);
        for f in &self.files {
            tests += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(&suite),
                xml_escape(&f.name)
            );
            match &f.outcome {
                FileOutcome::Identical => cases.push_str("/>\n"),
                outcome => {
                    failures += 1;
                    let (message, body) = match outcome {
                        FileOutcome::MissingGolden => (
                            format!(
                                "{} is written by the fresh run, absent from the golden result",
                                f.name
                            ),
                            String::new(),
                        ),
                        FileOutcome::MissingFresh => (
                            format!(
                                "{} is in the golden result, not written by the fresh run",
                                f.name
                            ),
                            String::new(),
                        ),
                        FileOutcome::Differs(d) => {
                            let mut body = String::new();
                            render_lines(&mut body, &d.first);
                            render_moved(&mut body, &f.name, &d.moved);
                            (
                                format!(
                                    "{}: {} of {} lines differ (golden {} lines, fresh {})",
                                    f.name,
                                    d.differing_lines,
                                    d.golden_lines.max(d.fresh_lines),
                                    d.golden_lines,
                                    d.fresh_lines
                                ),
                                body,
                            )
                        }
                        FileOutcome::Identical => unreachable!("handled above"),
                    };
                    let _ = writeln!(
                        cases,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        match outcome {
                            FileOutcome::MissingGolden => "new-file",
                            FileOutcome::MissingFresh => "missing-file",
                            _ => "differs",
                        },
                        xml_escape(&message),
                        xml_escape(&format!("{message}\n{body}"))
                    );
                }
            }
            if let FileOutcome::Differs(d) = &f.outcome {
                for m in &d.moved {
                    tests += 1;
                    failures += 1;
                    let message = format!(
                        "{} moved: golden {:.6}, fresh {:.6}, change {:+.6}, z = {:.2} (change / sqrt(se_golden² + se_fresh²))",
                        m.key,
                        m.golden,
                        m.fresh,
                        m.delta(),
                        m.z()
                    );
                    let _ = writeln!(
                        cases,
                        "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"moved-metric\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(&format!("{suite}.{}", f.name)),
                        xml_escape(&m.key),
                        xml_escape(&message),
                        xml_escape(&message)
                    );
                }
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"flashpoint check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
            xml_escape(&suite)
        );
        let _ = writeln!(out, "    <properties>");
        for (name, value) in [
            ("kind", self.kind.clone()),
            ("scenario", self.scenario_path.display().to_string()),
            ("seed", self.seed.to_string()),
            ("reps", self.reps.to_string()),
        ] {
            let _ = writeln!(
                out,
                "      <property name=\"{name}\" value=\"{}\"/>",
                xml_escape(&value)
            );
        }
        let _ = writeln!(out, "    </properties>");
        out.push_str(&cases);
        let _ = writeln!(
            out,
            "    <system-out>{}</system-out>",
            xml_escape(&self.render())
        );
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// Escapes text for an XML attribute or element; characters XML 1.0 cannot
/// hold (control characters other than tab, newline, carriage return)
/// become `?`.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn render_lines(out: &mut String, lines: &[LineDiff]) {
    use std::fmt::Write as _;
    for l in lines {
        let _ = writeln!(out, "      line {}:", l.line);
        if l.fields.is_empty() {
            let _ = writeln!(out, "        golden: {}", l.golden);
            let _ = writeln!(out, "        fresh:  {}", l.fresh);
            continue;
        }
        let w0 = l.fields.iter().map(|f| f.0.len()).max().unwrap_or(0).max(6);
        let w1 = l.fields.iter().map(|f| f.1.len()).max().unwrap_or(0).max(6);
        for (c, g, f) in
            std::iter::once(&("column".into(), "golden".into(), "fresh".into())).chain(&l.fields)
        {
            out.push_str("        ");
            crate::output::push_padded(out, c, w0, true);
            out.push_str("  ");
            crate::output::push_padded(out, g, w1, true);
            let _ = writeln!(out, "  {f}");
        }
    }
}

fn render_moved(out: &mut String, file: &str, moved: &[MovedMetric]) {
    use std::fmt::Write as _;
    if moved.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "      {} metrics of {file} moved (z = change / sqrt(se_golden² + se_fresh²)), largest |z| first:",
        moved.len()
    );
    let w = moved
        .iter()
        .take(MOVED_SHOWN)
        .map(|m| m.key.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    out.push_str("        ");
    crate::output::push_padded(out, "metric", w, true);
    let _ = writeln!(
        out,
        "  {:>12}  {:>12}  {:>12}  {:>8}",
        "golden", "fresh", "change", "z"
    );
    for m in moved.iter().take(MOVED_SHOWN) {
        out.push_str("        ");
        crate::output::push_padded(out, &m.key, w, true);
        let _ = writeln!(
            out,
            "  {:>12.6}  {:>12.6}  {:>+12.6}  {:>8.2}",
            m.golden,
            m.fresh,
            m.delta(),
            m.z()
        );
    }
    if moved.len() > MOVED_SHOWN {
        let _ = writeln!(out, "        … and {} more", moved.len() - MOVED_SHOWN);
    }
}

/// Removes a directory when dropped or when the process is interrupted
/// (SIGINT, SIGTERM, SIGHUP); one left by a killed process is removed by the
/// next `check` ([`crate::output::cleanup`]).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!("flashpoint-{tag}-");
        crate::output::cleanup::sweep_stale(&std::env::temp_dir(), &prefix);
        let path = std::env::temp_dir().join(format!(
            "flashpoint-{tag}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        crate::output::cleanup::remove_on_signal(&path);
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        crate::output::cleanup::forget(&self.0);
    }
}

/// Re-runs what `manifest` records into `out`.
fn rerun(
    manifest: &Manifest,
    scenario_path: &Path,
    threads: usize,
    out: &Path,
    notes: &mut Vec<String>,
) -> Result<()> {
    let (scenario, _) = crate::scenario::load_hashed(scenario_path)?;
    let mut overrides = Vec::new();
    for (name, value) in &manifest.params {
        if scenario.params.iter().any(|p| &p.name == name) {
            overrides.push((name.clone(), *value));
        } else {
            notes.push(format!(
                "parameter `{name}` = {value} of the golden run is not declared by the scenario any more; ignored"
            ));
        }
    }
    let timeseries = manifest.timeseries.map(|t| TimeseriesOptions {
        dt: t.dt,
        reps: if t.reps == 0 {
            DEFAULT_TIMESERIES_REPS
        } else {
            t.reps
        },
    });
    let bad = |what: &str| {
        Error::Refused(format!(
            "manifest.json: the sweep design has no valid `{what}`; cannot re-run it"
        ))
    };
    match manifest.kind.as_str() {
        "run" => {
            // A posterior's parameters are drawn, not set (and a run
            // refuses them set).
            let drawn: Vec<String> = manifest
                .posterior
                .as_ref()
                .and_then(|p| serde_json::from_value(p["params"].clone()).ok())
                .unwrap_or_default();
            let overrides = (overrides.into_iter())
                .filter(|(n, _)| !drawn.contains(n))
                .collect();
            let config = RunConfig {
                scenario_path: scenario_path.to_path_buf(),
                overrides,
                reps: manifest.reps,
                seed: Some(manifest.seed),
                threads,
                out: Some(out.to_path_buf()),
                trace: manifest.trace_reps,
                timeseries,
                tie_audit: manifest.tie_audit,
                posterior: manifest
                    .posterior
                    .as_ref()
                    .and_then(|p| p["path"].as_str())
                    .and_then(|p| Path::new(p).parent().map(Path::to_path_buf)),
                command: manifest.command.clone(),
            };
            run(&config, &mut |_, _| {})?;
        }
        "sweep" => {
            let design = manifest.design.as_ref().ok_or_else(|| bad("design"))?;
            let kind = design["kind"].as_str().ok_or_else(|| bad("kind"))?;
            let vary = design["vary"]
                .as_array()
                .ok_or_else(|| bad("vary"))?
                .iter()
                .map(|v| v.as_str().map(String::from).ok_or_else(|| bad("vary")))
                .collect::<Result<Vec<_>>>()?;
            let shard = match &design["shard"] {
                serde_json::Value::Null => None,
                s => Some((
                    s["index"].as_u64().ok_or_else(|| bad("shard.index"))?,
                    s["count"].as_u64().ok_or_else(|| bad("shard.count"))?,
                )),
            };
            // The manifest records every parameter's base value, the varied
            // ones included; the design sets those, and a sweep refuses a
            // parameter both set and varied.
            // (A `vary` that does not parse fails in `sweep` with its own error.)
            // A file design re-runs the points its manifest records (the
            // file need not be there any more).
            let recorded = crate::sweep::RecordedDesign::from_manifest(design);
            if kind == "file" && recorded.is_none() {
                return Err(bad("file"));
            }
            let varied: Vec<String> = match &recorded {
                Some(r) => r.params.clone(),
                None => crate::runner::design::parse_varies(&vary, &scenario)
                    .map(|v| v.into_iter().map(|v| v.name).collect())
                    .unwrap_or_default(),
            };
            let design_text = match &recorded {
                Some(r) => format!("file:{}", r.file.path),
                None => kind.to_string(),
            };
            let overrides = (overrides.into_iter())
                .filter(|(n, _)| !varied.contains(n))
                .collect();
            let config = SweepConfig {
                scenario_path: scenario_path.to_path_buf(),
                overrides,
                vary,
                design: design_text,
                recorded_design: recorded,
                reps: manifest.reps,
                seed: Some(manifest.seed),
                threads,
                out: Some(out.to_path_buf()),
                shard,
                independent_streams: manifest.independent_streams,
                no_runs: design["no_runs"].as_bool().unwrap_or(false),
                resume: false,
                timeseries,
                command: manifest.command.clone(),
            };
            sweep(&config, &mut |_, _| {})?;
        }
        other => return Err(not_checkable(other)),
    }
    Ok(())
}

/// The kinds of result `check` can re-run.
pub const CHECKABLE_KINDS: [&str; 2] = ["run", "sweep"];

/// Why a result of `kind` (`compare`, `paths`, `sensitivity`, …) cannot be
/// checked.
fn not_checkable(kind: &str) -> Error {
    Error::Refused(format!(
        "manifest.json records a `{kind}` result; check re-runs only `run` and `sweep` results \
         (to reproduce a `{kind}` result, run the command it records again: the same seed gives the same bytes, \
         and manifest.json lists the SHA-256 of each file)"
    ))
}

/// Re-runs the result in `config.dir` and compares; see the [module docs](self).
pub fn check(config: &CheckConfig) -> Result<CheckReport> {
    let dir = &config.dir;
    let golden = read_manifest(dir)?;
    if !CHECKABLE_KINDS.contains(&golden.kind.as_str()) {
        return Err(not_checkable(&golden.kind));
    }
    let scenario_path = match &config.scenario {
        Some(p) => p.clone(),
        None => resolve_scenario(&golden, dir)?,
    };
    // No other command writes the golden while it is being updated.
    let _claim = config
        .update
        .then(|| crate::output::manifest::lock_out_dir(dir))
        .transpose()?;
    let mut notes = Vec::new();
    let tmp = TempDir::new("check")?;
    rerun(&golden, &scenario_path, config.threads, &tmp.0, &mut notes)?;
    let fresh = read_manifest(&tmp.0)?;
    let scenario_changed = (golden.scenario.sha256 != fresh.scenario.sha256).then(|| {
        (
            golden.scenario.sha256.clone(),
            fresh.scenario.sha256.clone(),
        )
    });
    {
        let mut same_scenario = fresh.clone();
        same_scenario.scenario.sha256 = golden.scenario.sha256.clone();
        if let Some(diff) = crate::output::manifest::identity_difference(&golden, &same_scenario) {
            notes.push(format!(
                "the fresh manifest records the computation differently: {diff}"
            ));
        }
    }
    let names: std::collections::BTreeSet<&String> =
        golden.outputs.keys().chain(fresh.outputs.keys()).collect();
    let mut files = Vec::new();
    for name in names {
        let golden_bytes = std::fs::read(dir.join(name)).ok();
        if let (Some(bytes), Some(sum)) = (&golden_bytes, golden.outputs.get(name)) {
            if &sha256_hex(bytes) != sum {
                notes.push(format!(
                    "{name} does not match the checksum in the golden manifest.json (edited by hand?)"
                ));
            }
        }
        let outcome = match (golden_bytes, std::fs::read(tmp.0.join(name)).ok()) {
            (None, None) => {
                return Err(Error::Refused(format!(
                    "{}: listed in manifest.json but unreadable",
                    dir.join(name).display()
                )))
            }
            (None, Some(_)) => FileOutcome::MissingGolden,
            (Some(_), None) => FileOutcome::MissingFresh,
            (Some(g), Some(f)) if g == f => FileOutcome::Identical,
            (Some(g), Some(f)) => {
                let (g, f) = (String::from_utf8_lossy(&g), String::from_utf8_lossy(&f));
                let mut d = diff_lines(&g, &f);
                if name == "summary.csv" {
                    d.moved = moved_metrics(&g, &f);
                }
                FileOutcome::Differs(d)
            }
        };
        files.push(FileCheck {
            name: name.clone(),
            outcome,
        });
    }
    let mut updated = Vec::new();
    if config.update {
        // Staged whole, then swapped in: the golden is old or new, never mixed.
        let mut new: Vec<(String, PathBuf)> = fresh
            .outputs
            .keys()
            .map(|name| (name.clone(), tmp.0.join(name)))
            .collect();
        new.push(("manifest.json".into(), tmp.0.join("manifest.json")));
        let dropped: Vec<String> = golden
            .outputs
            .keys()
            .filter(|name| !fresh.outputs.contains_key(*name))
            .cloned()
            .collect();
        crate::output::swap::replace_files(dir, &new, &dropped)?;
        updated = new.iter().map(|(name, _)| dir.join(name)).collect();
    }
    Ok(CheckReport {
        dir: dir.clone(),
        kind: golden.kind.clone(),
        scenario_path,
        seed: golden.seed,
        reps: golden.reps,
        scenario_changed,
        notes,
        files,
        updated,
    })
}

/// Line-by-line comparison: counts and the first differing lines, field by field.
pub fn diff_lines(golden: &str, fresh: &str) -> Difference {
    let g: Vec<&str> = golden.lines().collect();
    let f: Vec<&str> = fresh.lines().collect();
    let header: Vec<&str> = g.first().map_or_else(Vec::new, |h| h.split(',').collect());
    let mut differing = 0;
    let mut first = Vec::new();
    for i in 0..g.len().max(f.len()) {
        let (a, b) = (g.get(i).copied(), f.get(i).copied());
        if a == b {
            continue;
        }
        differing += 1;
        if first.len() >= FIRST_LINES {
            continue;
        }
        let (a, b) = (a.unwrap_or(""), b.unwrap_or(""));
        let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        let fields = if i > 0 && fa.len() == header.len() && fb.len() == header.len() {
            header
                .iter()
                .zip(fa.iter().zip(&fb))
                // Key columns are shown for orientation.
                .filter(|(c, (x, y))| x != y || KEY_COLUMNS.contains(c))
                .map(|(c, (x, y))| (c.to_string(), x.to_string(), y.to_string()))
                .collect()
        } else {
            Vec::new()
        };
        first.push(LineDiff {
            line: i + 1,
            golden: a.to_string(),
            fresh: b.to_string(),
            fields,
        });
    }
    Difference {
        golden_lines: g.len(),
        fresh_lines: f.len(),
        differing_lines: differing,
        first,
        moved: Vec::new(),
    }
}

/// `summary.csv` rows by key (point, parameter values, metric, category):
/// (mean, se).
fn summary_means(text: &str) -> BTreeMap<String, (usize, f64, f64)> {
    // The csv crate, flexible: a row of the wrong length (a damaged file
    // being reported on) is left out of the comparison, not an error.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let Ok(header) = reader.headers().cloned() else {
        return BTreeMap::new();
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(metric), Some(category), Some(mean), Some(se)) =
        (col("metric"), col("category"), col("mean"), col("se"))
    else {
        return BTreeMap::new();
    };
    let num = |s: &str| match s {
        "" | "NaN" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or(f64::NAN),
    };
    let mut out = BTreeMap::new();
    let rows = reader.records().map_while(std::result::Result::ok);
    for (order, f) in rows.filter(|f| f.len() == header.len()).enumerate() {
        let mut key = String::new();
        if metric > 0 {
            key.push_str("point ");
            key.push_str(&f[0]);
            let params: Vec<String> = (1..metric)
                .map(|k| format!("{}={}", &header[k], &f[k]))
                .collect();
            if !params.is_empty() {
                key.push_str(&format!(" ({})", params.join(", ")));
            }
            key.push_str(": ");
        }
        key.push_str(&f[metric]);
        if !f[category].is_empty() {
            key.push_str(" = ");
            key.push_str(&f[category]);
        }
        out.insert(key, (order, num(&f[mean]), num(&f[se])));
    }
    out
}

/// The metrics whose means differ between two `summary.csv` texts.
fn moved_metrics(golden: &str, fresh: &str) -> Vec<MovedMetric> {
    let (g, f) = (summary_means(golden), summary_means(fresh));
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    let mut moved: Vec<(usize, MovedMetric)> = g
        .iter()
        .filter_map(|(key, (order, gm, gse))| {
            let (_, fm, fse) = f.get(key)?;
            (!same(*gm, *fm)).then(|| {
                (
                    *order,
                    MovedMetric {
                        key: key.clone(),
                        golden: *gm,
                        fresh: *fm,
                        se: (gse * gse + fse * fse).sqrt(),
                    },
                )
            })
        })
        .collect();
    let size = |m: &MovedMetric| {
        let z = m.z().abs();
        if z.is_nan() {
            0.0
        } else {
            z
        }
    };
    // Largest |z| first; file order among equals.
    moved.sort_by(|a, b| size(&b.1).total_cmp(&size(&a.1)).then(a.0.cmp(&b.0)));
    moved.into_iter().map(|(_, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_field_is_named_with_its_column() {
        let d = diff_lines("rep,x,y\n0,1,2\n1,3,4\n", "rep,x,y\n0,1,2\n1,3,5\n");
        assert_eq!(d.differing_lines, 1);
        assert_eq!(d.first[0].line, 3);
        assert_eq!(
            d.first[0].fields,
            vec![
                ("rep".into(), "1".into(), "1".into()),
                ("y".into(), "4".into(), "5".into())
            ]
        );
        let d = diff_lines("a\n1\n", "a\n1\n2\n");
        assert_eq!(
            (d.differing_lines, d.golden_lines, d.fresh_lines),
            (1, 2, 3)
        );
    }

    #[test]
    fn moved_means_are_measured_in_standard_errors() {
        let h = "point,p,metric,kind,category,n,mean,sd,se,ci95_lo,ci95_hi,p05,p50,p95\n";
        let g =
            format!("{h}0,0.5,x,numeric,,100,1,1,0.3,,,,,\n0,0.5,c,share,a,100,0.5,,0.05,,,,,\n");
        let f =
            format!("{h}0,0.5,x,numeric,,100,2,1,0.4,,,,,\n0,0.5,c,share,a,100,0.5,,0.05,,,,,\n");
        let moved = moved_metrics(&g, &f);
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].key, "point 0 (p=0.5): x");
        assert!((moved[0].z() - 2.0).abs() < 1e-12);
    }
}
