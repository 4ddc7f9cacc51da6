//! `manifest.json`: everything needed to say exactly how a result was made and
//! to make it again.

use super::write_atomic;
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The random number generator and key derivation, as recorded in manifests.
pub const RNG_DESCRIPTION: &str =
    "ChaCha8 (rand_chacha); key = flashpoint::rng::replication_key(seed, rep, point if independent streams); one stream per source of randomness";

/// The manifest of a result: a run, a sweep or an analysis (`compare`,
/// `paths`, `sensitivity`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Version of flashpoint that wrote it.
    pub flashpoint_version: String,
    /// Version of the scenario language the scenario was read as
    /// ([`crate::scenario::LANGUAGE_VERSION`]; 0 in manifests written before
    /// it was recorded).
    #[serde(default)]
    pub language_version: u32,
    /// `run`, `sweep`, `compare`, `paths` or `sensitivity`.
    pub kind: String,
    /// UTC time the output was completed (the only field that varies between identical runs).
    pub created: String,
    /// The command line.
    pub command: Vec<String>,
    /// The scenario file.
    pub scenario: ScenarioInfo,
    /// Master seed.
    pub seed: u64,
    /// Replications per point.
    pub reps: u64,
    /// How random numbers are made.
    pub rng: String,
    /// Whether the point index is mixed into the key.
    pub independent_streams: bool,
    /// Parameter values (after `--set`), before any sweep variation.
    pub params: BTreeMap<String, f64>,
    /// Sweep design, if a sweep; an analysis's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<serde_json::Value>,
    /// Number of traced replications (`events.csv`).
    #[serde(default)]
    pub trace_reps: u64,
    /// The time grid of `timeseries.csv` and `timeseries_summary.csv`, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeseries: Option<TimeseriesInfo>,
    /// `run --tie-audit`: the tie-order audit ran, and `tie_audit.csv` (with
    /// `--out`) is among the outputs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tie_audit: bool,
    /// `run --posterior DIR`: the posterior file (`path`, `sha256`), its
    /// parameters, the number of particles and the rule of the draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior: Option<serde_json::Value>,
    /// Replications run and events that happened (informational).
    pub totals: Totals,
    /// SHA-256 of each output file, by file name.
    pub outputs: BTreeMap<String, String>,
}

/// The scenario file a result was made from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioInfo {
    /// Path as given on the command line.
    pub path: String,
    /// The scenario's name.
    pub name: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// How the time series were recorded (`--timeseries DT --timeseries-reps K`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct TimeseriesInfo {
    /// Grid spacing, in the scenario's time unit.
    pub dt: f64,
    /// Replications per point written to `timeseries.csv` (the first ones).
    pub reps: u64,
}

/// Counts for the record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Totals {
    /// Replications run.
    pub replications: u64,
    /// Events that happened, over all replications.
    pub events: u64,
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (y, m, d) = crate::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// What an analysis (`compare`, `paths`, `sensitivity`) records in its
/// `manifest.json`, besides the SHA-256 of its outputs.
#[derive(Debug, Clone)]
pub struct AnalysisRecord {
    /// The command: `compare`, `paths` or `sensitivity`.
    pub kind: &'static str,
    /// The command line.
    pub command: Vec<String>,
    /// The scenario file (policy A's, for `compare`).
    pub scenario: ScenarioInfo,
    /// Master seed.
    pub seed: u64,
    /// Replications (per parameter point, for `sensitivity`).
    pub reps: u64,
    /// How random numbers are made.
    pub rng: String,
    /// Parameter values (after `--set`).
    pub params: BTreeMap<String, f64>,
    /// The analysis's own settings.
    pub design: serde_json::Value,
    /// Replications run and events that happened.
    pub totals: Totals,
}

/// The `--out` directory of an analysis: each file is written atomically and
/// its SHA-256 recorded; [`OutputDir::finish`] writes `manifest.json` last, so
/// a directory with `manifest.json` holds a whole result.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    outputs: BTreeMap<String, String>,
    written: Vec<PathBuf>,
    _lock: OutDirLock,
}

/// An `--out` directory claimed by this process for the command's life: an
/// exclusive `flock(2)` on the directory itself, so no marker file is left
/// behind and the kernel releases the claim when the process ends, however
/// it ends (a killed command leaves no stale lock). Dropping it releases it.
#[derive(Debug)]
#[must_use = "the claim lasts as long as the value"]
pub struct OutDirLock {
    _dir: std::fs::File,
}

/// Claims `dir` (which must exist) for this process: refused with "DIR is in
/// use by another flashpoint command" while another command holds it.
/// `run`, `sweep` (`--resume` included), `merge`, the analyses and `check
/// --update` all take it before they write.
pub fn lock_out_dir(dir: &Path) -> Result<OutDirLock> {
    lock(dir, "")
}

fn lock(dir: &Path, hint: &str) -> Result<OutDirLock> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(Error::Refused(format!(
                "{} is in use by another flashpoint command; wait for it to finish{hint}",
                dir.display()
            )));
        }
        return Err(Error::io(dir, e));
    }
    Ok(OutDirLock { _dir: file })
}

/// Creates `dir` (and its parents) if needed, claims it for this process
/// ([`lock_out_dir`]) and refuses it if it already holds a result: a
/// `manifest.json`, or the `manifest.json.partial` of an interrupted run.
/// The check is made under the claim, so two commands cannot both pass it.
/// `hint` ends the message (how to go on). Nothing is overwritten. Hold the
/// returned claim until the command has written its manifest.
pub fn claim_out_dir(dir: &Path, hint: &str) -> Result<OutDirLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let lock = lock(dir, " or choose another --out")?;
    let manifest = dir.join("manifest.json");
    if manifest.exists() || super::atomic::partial_path(&manifest).exists() {
        return Err(Error::Refused(format!(
            "{} already holds a result; choose another --out{hint}",
            dir.display()
        )));
    }
    Ok(lock)
}

/// The names of the files a result directory may hold besides those its
/// manifest lists (an interrupted run's files are not listed anywhere yet).
const RESULT_FILES: [&str; 8] = [
    "runs.csv",
    "summary.csv",
    "points.csv",
    "events.csv",
    "timeseries.csv",
    "timeseries_summary.csv",
    "timeseries_state.bin",
    "tie_audit.csv",
];

/// Checks that `path` may be written as a single output file (`run
/// --events-cameo FILE`, `plot --out FILE`): never a file of a result (the
/// manifest of the directory it is in, a file that manifest lists, a file a
/// run writes, or any `.partial`), whatever `force` says; and an existing
/// file only with `force`. Call it before the work.
pub fn claim_out_file(path: &Path, force: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = dir.join("manifest.json");
    let partial = super::atomic::partial_path(&manifest);
    let holds_result = manifest.exists() || partial.exists();
    let listed = || {
        [&manifest, &partial].iter().any(|m| {
            std::fs::read(m)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| v["outputs"].get(&name).is_some())
        })
    };
    let of_result = name.ends_with(".partial")
        || (holds_result
            && (name.starts_with("manifest.json")
                || RESULT_FILES.contains(&name.as_str())
                || listed()));
    if of_result {
        return Err(Error::Refused(format!(
            "{} is a file of the result in {}; choose another path",
            path.display(),
            dir.display()
        )));
    }
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::Refused(format!(
            "{} already exists; choose another path or pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

impl OutputDir {
    /// Claims `dir` for an analysis's files ([`claim_out_dir`]: created if
    /// needed, refused if it already holds a result). Call it before the
    /// work, so a refusal costs nothing.
    pub fn create(dir: &Path) -> Result<OutputDir> {
        let lock = claim_out_dir(dir, " or delete it")?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            outputs: BTreeMap::new(),
            written: Vec::new(),
            _lock: lock,
        })
    }

    /// Writes `name` atomically and records its SHA-256.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let sha = write_atomic(&path, bytes).map_err(|e| Error::io(&path, e))?;
        self.outputs.insert(name.to_string(), sha);
        self.written.push(path);
        Ok(())
    }

    /// Writes `manifest.json` (atomically, last) from `record` and the
    /// outputs written so far, and returns every file written.
    pub fn finish(self, record: AnalysisRecord) -> Result<Vec<PathBuf>> {
        let OutputDir {
            dir,
            outputs,
            mut written,
            _lock,
        } = self;
        let manifest = Manifest {
            flashpoint_version: env!("CARGO_PKG_VERSION").to_string(),
            language_version: crate::scenario::LANGUAGE_VERSION,
            kind: record.kind.into(),
            created: utc_now(),
            command: record.command,
            scenario: record.scenario,
            seed: record.seed,
            reps: record.reps,
            rng: record.rng,
            independent_streams: false,
            params: record.params,
            design: Some(record.design),
            trace_reps: 0,
            timeseries: None,
            tie_audit: false,
            posterior: None,
            totals: record.totals,
            outputs,
        };
        let path = dir.join("manifest.json");
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| {
            Error::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })? + "\n";
        write_atomic(&path, json.as_bytes()).map_err(|e| Error::io(&path, e))?;
        written.push(path);
        Ok(written)
    }
}

/// Each parameter's name and value, in declaration order.
pub fn param_map(scenario: &Scenario, values: &[f64]) -> BTreeMap<String, f64> {
    scenario
        .params
        .iter()
        .zip(values)
        .map(|(p, v)| (p.name.clone(), *v))
        .collect()
}

/// Reads and parses `dir/manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::Refused(format!(
            "{}: {e}: not a flashpoint result directory (made by `run --out` or `sweep --out`)",
            path.display()
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::Refused(format!(
            "{} is not a flashpoint manifest: {e}",
            path.display()
        ))
    })
}

/// The scenario file a manifest records: its path as given, else relative to
/// `dir` or one of its parents (a result committed next to its scenarios).
pub fn resolve_scenario(manifest: &Manifest, dir: &Path) -> Result<PathBuf> {
    let recorded = Path::new(&manifest.scenario.path);
    if recorded.is_file() {
        return Ok(recorded.to_path_buf());
    }
    if recorded.is_relative() {
        let absolute = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        for base in dir.ancestors().chain(absolute.ancestors()) {
            let candidate = base.join(recorded);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(Error::Refused(format!(
        "the scenario `{}` recorded in {} was not found (looked in the current directory and in {} and its parents); give --scenario FILE",
        manifest.scenario.path,
        dir.join("manifest.json").display(),
        dir.display()
    )))
}

/// The first field in which two manifests describe different computations
/// (ignoring when, how and where they ran, and the shard), if any.
pub fn identity_difference(a: &Manifest, b: &Manifest) -> Option<String> {
    let strip = |m: &Manifest| {
        let mut v = serde_json::to_value(m).expect("a manifest always serializes");
        for key in ["created", "command", "outputs", "totals"] {
            v[key] = serde_json::Value::Null;
        }
        v["scenario"]["path"] = serde_json::Value::Null;
        if v["design"].is_object() {
            v["design"]["shard"] = serde_json::Value::Null;
            // A file design is its points; where the file was, and its
            // bytes, are not the computation.
            v["design"]["file"] = serde_json::Value::Null;
        }
        v
    };
    let (va, vb) = (strip(a), strip(b));
    if va == vb {
        return None;
    }
    let (Some(ma), Some(mb)) = (va.as_object(), vb.as_object()) else {
        return Some("manifest".into());
    };
    // Every field of either (a field one of them lacks reads as null).
    let null = serde_json::Value::Null;
    let keys: std::collections::BTreeSet<&String> = ma.keys().chain(mb.keys()).collect();
    for key in keys {
        let (x, y) = (ma.get(key).unwrap_or(&null), mb.get(key).unwrap_or(&null));
        if x != y {
            if let (Some(ox), Some(oy)) = (x.as_object(), y.as_object()) {
                let fields: std::collections::BTreeSet<&String> =
                    ox.keys().chain(oy.keys()).collect();
                for k in fields {
                    let (xx, yy) = (ox.get(k).unwrap_or(&null), oy.get(k).unwrap_or(&null));
                    if xx != yy {
                        return Some(format!(
                            "{key}.{k} differs ({} vs {})",
                            short(xx),
                            short(yy)
                        ));
                    }
                }
            }
            return Some(format!("{key} differs ({} vs {})", short(x), short(y)));
        }
    }
    Some("manifest fields differ".into())
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}
