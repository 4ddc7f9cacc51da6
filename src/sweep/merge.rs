//! Joining the shards of a sweep: check that they come from the same sweep and
//! cover it exactly once, that their files are those their manifests vouch
//! for, concatenate their rows in order and rebuild the summary from them —
//! byte-identical to the unsharded sweep. With time series, the detail rows
//! are concatenated too and the time-series summary is joined from the
//! shards' rows of whole points and saved states of cut points.

use super::{parse_row, shard_range, timeseries, Accumulator, TimeseriesOptions};
use crate::engine::columns;
use crate::error::{Error, Result};
use crate::output::atomic::partial_path;
use crate::output::manifest::{identity_difference, Manifest, Totals};
use crate::output::tables::{runs_header, summary_header, Keys};
use crate::output::{write_atomic, AtomicFile};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// `dir/manifest.json` of a shard, its errors said of `merge`.
fn read_manifest(dir: &Path) -> Result<Manifest> {
    crate::output::manifest::read_manifest(dir).map_err(|e| match e {
        Error::Refused(m) => Error::Refused(format!("merge: {m}")),
        e => e,
    })
}

/// Opens `path` for reading if it is a regular file (a FIFO or a device
/// would make merge wait or read forever); returns it with its length.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64)> {
    let not_regular = || Error::Refused(format!("merge: {} is not a regular file", path.display()));
    // Looked at before opening: opening a FIFO waits for a writer.
    if !std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .is_file()
    {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    Ok((file, meta.len()))
}

/// Checks that `dir/name` is a regular file whose SHA-256 `manifest`
/// records (reading no more than the file's length when it was opened).
fn verify_output(dir: &Path, manifest: &Manifest, name: &str) -> Result<()> {
    let path = dir.join(name);
    let (file, len) = open_regular(&path)?;
    let mut hash = Sha256::new();
    std::io::copy(&mut std::io::Read::take(file, len), &mut hash)
        .map_err(|e| Error::io(&path, e))?;
    let digest = crate::output::atomic::hex(&hash.finalize());
    if manifest.outputs.get(name) != Some(&digest) {
        return Err(Error::Refused(format!(
            "merge: {} does not match the SHA-256 in its manifest (edited or truncated?)",
            path.display()
        )));
    }
    Ok(())
}

/// Merges shard directories into `out`: `runs.csv`, `summary.csv`,
/// `points.csv`, with `--timeseries` `timeseries.csv` and
/// `timeseries_summary.csv`, and `manifest.json`. Returns the files written.
///
/// The scenario is `scenario` if given, else the file the shards' manifests
/// record, found as [`check`](crate::output::manifest::resolve_scenario) finds it
/// (as given, else relative to the first directory in `dirs` or its parents);
/// either way its SHA-256 must be the one the shards were run with.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    scenario: Option<&Path>,
    command: Vec<String>,
) -> Result<Vec<PathBuf>> {
    if dirs.is_empty() {
        return Err(Error::Refused(
            "merge needs at least one shard directory".into(),
        ));
    }
    let mut shards = Vec::new();
    for d in dirs {
        let m = read_manifest(d)?;
        if m.kind != "sweep" {
            return Err(Error::Refused(format!(
                "merge: {} holds a {}, not a sweep shard",
                d.display(),
                m.kind
            )));
        }
        let Some(shard) = m.design.as_ref().map(|d| d["shard"].clone()) else {
            return Err(Error::Refused(format!(
                "merge: {} has no design",
                d.display()
            )));
        };
        if m.design.as_ref().is_some_and(|d| d["no_runs"] == true) {
            return Err(Error::Refused(format!(
                "merge: {} was run with --no-runs",
                d.display()
            )));
        }
        let (start, end) = match (shard["start"].as_u64(), shard["end"].as_u64()) {
            (Some(s), Some(e)) => (s, e),
            _ => {
                let n = m
                    .design
                    .as_ref()
                    .and_then(|d| d["n_points"].as_u64())
                    .unwrap_or(0);
                (0, n * m.reps)
            }
        };
        shards.push((start, end, d.clone(), m));
    }
    let first = shards[0].3.clone();
    for (_, _, d, m) in &shards[1..] {
        timeseries::check_presence((&shards[0].2, &first), (d, m))?;
        if let Some(diff) = identity_difference(&first, m) {
            return Err(Error::Refused(format!(
                "merge: {} and {} come from different sweeps: {diff}",
                shards[0].2.display(),
                d.display()
            )));
        }
    }
    shards.sort_by_key(|s| (s.0, s.1));
    let design = first.design.clone().unwrap_or_default();
    let n_points = design["n_points"].as_u64().unwrap_or(0);
    let Some(total) = n_points.checked_mul(first.reps) else {
        return Err(Error::Refused(
            "merge: the manifest's points × reps overflows".into(),
        ));
    };
    let mut at = 0;
    for (start, end, d, _) in &shards {
        if *start > at {
            return Err(Error::Refused(format!(
                "merge: replications {at}..{start} are missing (no shard covers them)"
            )));
        }
        if *start < at {
            return Err(Error::Refused(format!(
                "merge: {} overlaps the shard before it (from {start}, expected {at})",
                d.display()
            )));
        }
        at = *end;
    }
    if at != total {
        return Err(Error::Refused(format!(
            "merge: replications {at}..{total} are missing (no shard covers them)"
        )));
    }
    let _ = shard_range;

    // The scenario is needed for the column kinds; it must be the same file.
    let scenario_path = match scenario {
        Some(path) => path.to_path_buf(),
        None => crate::output::manifest::resolve_scenario(&first, &dirs[0])?,
    };
    let (scenario, sha) = crate::scenario::load_hashed(&scenario_path)?;
    if sha != first.scenario.sha256 {
        return Err(Error::Refused(format!(
            "merge: {} changed since the shards were run (sha256 differs)",
            scenario_path.display()
        )));
    }
    let cols = columns(&scenario);
    let params: Vec<String> = serde_json::from_value(design["params"].clone()).unwrap_or_default();
    let points: Vec<Vec<f64>> =
        serde_json::from_value(design["points"].clone()).unwrap_or_default();
    if points.len() as u64 != n_points || points.iter().any(|p| p.len() != params.len()) {
        return Err(Error::Refused(format!(
            "merge: {}: the design's points do not match its n_points and parameters",
            shards[0].2.join("manifest.json").display()
        )));
    }
    let keys = Keys {
        point: true,
        params,
    };
    // Every shard's files must be the ones its manifest vouches for, and its
    // points those of the design (merge writes them from the design).
    let points_bytes = super::points_csv(&keys.params, &points);
    for (_, _, d, m) in &shards {
        verify_output(d, m, "runs.csv")?;
        verify_output(d, m, "points.csv")?;
        if std::fs::read(d.join("points.csv")).map_err(|e| Error::io(d.join("points.csv"), e))?
            != points_bytes.as_bytes()
        {
            return Err(Error::Refused(format!(
                "merge: {} does not list the points of its manifest's design",
                d.join("points.csv").display()
            )));
        }
        if m.timeseries.is_some() {
            verify_output(d, m, timeseries::DETAIL_FILE)?;
            verify_output(d, m, timeseries::SUMMARY_FILE)?;
            if m.outputs.contains_key(timeseries::STATE_FILE) {
                verify_output(d, m, timeseries::STATE_FILE)?;
            }
        }
    }
    let _claim = crate::output::manifest::claim_out_dir(out, " or delete it")?;
    // Every file is written as `<name>.partial` and renamed when whole; a
    // merge that fails (a malformed row, a full disk) removes its partial
    // files, so nothing half-written stays behind.
    let written = (|| -> Result<Vec<PathBuf>> {
        let runs_path = out.join("runs.csv");
        let mut runs = AtomicFile::create(&runs_path).map_err(|e| Error::io(&runs_path, e))?;
        let header = runs_header(&keys, &cols);
        runs.write_all(header.as_bytes())
            .map_err(|e| Error::io(&runs_path, e))?;
        let summary_path = out.join("summary.csv");
        let mut summary =
            AtomicFile::create(&summary_path).map_err(|e| Error::io(&summary_path, e))?;
        summary
            .write_all(summary_header(&keys).as_bytes())
            .map_err(|e| Error::io(&summary_path, e))?;
        let mut acc = Accumulator::new(&cols, keys.clone(), &points, 0, Some(summary));
        let mut values = Vec::new();
        let mut expected = 0u64;
        for (_, _, d, _) in &shards {
            let path = d.join("runs.csv");
            let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            let mut reader = std::io::BufReader::new(file);
            let mut line = String::new();
            let mut first_line = true;
            loop {
                line.clear();
                if reader
                    .read_line(&mut line)
                    .map_err(|e| Error::io(&path, e))?
                    == 0
                {
                    break;
                }
                if first_line {
                    first_line = false;
                    if line != header {
                        return Err(Error::Refused(format!(
                            "merge: {} has a different header",
                            path.display()
                        )));
                    }
                    continue;
                }
                let Some((p, r)) =
                    parse_row(line.trim_end_matches('\n'), &keys, &cols, &mut values)
                else {
                    return Err(Error::Refused(format!(
                        "merge: {}: malformed row `{}`",
                        path.display(),
                        line.trim_end()
                    )));
                };
                let index = p.checked_mul(first.reps).and_then(|x| x.checked_add(r));
                if r >= first.reps || p >= n_points || index != Some(expected) {
                    return Err(Error::Refused(format!(
                        "merge: {}: row for point {p}, rep {r} is out of order",
                        path.display()
                    )));
                }
                expected += 1;
                acc.add(p, &values)
                    .map_err(|e| Error::io(&summary_path, e))?;
                runs.write_all(line.as_bytes())
                    .map_err(|e| Error::io(&runs_path, e))?;
            }
        }
        if expected != total {
            return Err(Error::Refused(format!(
                "merge: the shards hold {expected} rows, the sweep has {total}"
            )));
        }
        let finished = acc.finish().map_err(|e| Error::io(&summary_path, e))?;
        let (summary, events) = (finished.file, finished.events);
        let timeseries_files = match first.timeseries {
            Some(info) => {
                let job = timeseries::MergeJob {
                    scenario: &scenario,
                    options: TimeseriesOptions {
                        dt: info.dt,
                        reps: info.reps,
                    },
                    reps: first.reps,
                    n_points,
                };
                let parts: Vec<timeseries::Shard<'_>> = shards
                    .iter()
                    .map(|(start, end, dir, manifest)| timeseries::Shard {
                        start: *start,
                        end: *end,
                        dir,
                        manifest,
                    })
                    .collect();
                timeseries::merge(&job, &parts, out)?
            }
            None => Vec::new(),
        };
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "runs.csv".to_string(),
            runs.commit().map_err(|e| Error::io(&runs_path, e))?,
        );
        if let Some(f) = summary {
            outputs.insert(
                "summary.csv".to_string(),
                f.commit().map_err(|e| Error::io(&summary_path, e))?,
            );
        }
        let points_path = out.join("points.csv");
        outputs.insert(
            "points.csv".into(),
            write_atomic(&points_path, points_bytes.as_bytes())
                .map_err(|e| Error::io(&points_path, e))?,
        );
        let mut written = vec![runs_path, summary_path, points_path];
        for (name, f) in timeseries_files {
            let path = out.join(name);
            outputs.insert(
                name.to_string(),
                f.commit().map_err(|e| Error::io(&path, e))?,
            );
            written.push(path);
        }
        let mut manifest = first;
        if let Some(d) = manifest.design.as_mut() {
            d["shard"] = serde_json::Value::Null;
        }
        manifest.created = crate::output::manifest::utc_now();
        manifest.command = command;
        manifest.outputs = outputs;
        manifest.totals = Totals {
            replications: total,
            events,
        };
        let json =
            serde_json::to_string_pretty(&manifest).expect("a manifest always serializes") + "\n";
        super::commit_manifest(out, json.as_bytes(), false)?;
        written.push(out.join("manifest.json"));
        Ok(written)
    })();
    if written.is_err() {
        for name in MERGED_FILES {
            let _ = std::fs::remove_file(partial_path(&out.join(name)));
        }
        let manifest_tmp = partial_path(&partial_path(&out.join("manifest.json")));
        let _ = std::fs::remove_file(manifest_tmp);
    }
    written
}

/// Every file a merge may write.
const MERGED_FILES: [&str; 6] = [
    "runs.csv",
    "summary.csv",
    "points.csv",
    timeseries::DETAIL_FILE,
    timeseries::SUMMARY_FILE,
    "manifest.json",
];
