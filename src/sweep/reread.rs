//! The printed report of a finished `run` or `sweep`, rebuilt from its
//! directory: `runs.csv` read back row by row (numbers in their round-trip
//! form, categories as label indices) through the same accumulators that
//! made the report when it ran, so every statistic is the one `run` or
//! `sweep` printed. `flashpoint report` shows it in HTML.

use super::report::{OutcomeInfo, ReportAccumulator};
use super::{parse_row, Accumulator, RunReport};
use crate::engine::columns;
use crate::error::{Error, Result};
use crate::output::manifest::{read_manifest, resolve_scenario, Manifest};
use crate::output::tables::{runs_header, Keys};
use crate::scenario::Scenario;
use std::io::BufRead;
use std::path::Path;

/// The scenario a `manifest.json` records, found as `check` finds it
/// ([`resolve_scenario`]) and loaded; refused when its bytes are no longer
/// those the result was made from (its SHA-256 differs).
pub fn recorded_scenario(manifest: &Manifest, dir: &Path) -> Result<(Scenario, String)> {
    let path = resolve_scenario(manifest, dir)?;
    let (scenario, sha) = crate::scenario::load_hashed(&path)?;
    if sha != manifest.scenario.sha256 {
        return Err(Error::Refused(format!(
            "{} changed since the result in {} was made (its SHA-256 differs from the manifest's)",
            path.display(),
            dir.display()
        )));
    }
    Ok((scenario, path.display().to_string()))
}

/// The report `run` or `sweep` printed for the result in `dir`, rebuilt
/// from `runs.csv` (its tables; the timing is not recorded, so `seconds`
/// is 0, and `written` is empty). Refused for another kind of result, a
/// sweep run with `--no-runs`, a changed scenario or a malformed row.
pub fn read_report(dir: &Path) -> Result<RunReport> {
    let manifest = read_manifest(dir)?;
    if manifest.kind != "run" && manifest.kind != "sweep" {
        return Err(Error::Refused(format!(
            "{} holds a `{}` result; the printed report is rebuilt for `run` and `sweep` results",
            dir.display(),
            manifest.kind
        )));
    }
    let (scenario, _) = recorded_scenario(&manifest, dir)?;
    let cols = columns(&scenario);
    let sweep = manifest.kind == "sweep";
    let design = manifest.design.clone().unwrap_or_default();
    let (keys, points) = if sweep {
        let params: Vec<String> =
            serde_json::from_value(design["params"].clone()).unwrap_or_default();
        let points: Vec<Vec<f64>> =
            serde_json::from_value(design["points"].clone()).unwrap_or_default();
        (
            Keys {
                point: true,
                params,
            },
            points,
        )
    } else {
        (
            Keys {
                point: false,
                params: Vec::new(),
            },
            vec![Vec::new()],
        )
    };
    let runs_path = dir.join("runs.csv");
    if !runs_path.exists() {
        return Err(Error::Refused(format!(
            "{} has no runs.csv (a sweep run with --no-runs): the per-replication rows the report is computed from are not there",
            dir.display()
        )));
    }
    let file = std::fs::File::open(&runs_path).map_err(|e| Error::io(&runs_path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let info = OutcomeInfo::new(&scenario, &cols);
    let mut acc = Accumulator::new(&cols, keys.clone(), &points, 0, None)
        .with_report(ReportAccumulator::new(info));
    // `run --posterior`: runs.csv also holds each replication's drawn
    // values of the posterior's parameters, after `rep`.
    let runs_keys = match manifest.posterior.as_ref().filter(|_| !sweep) {
        Some(p) => Keys {
            point: false,
            params: serde_json::from_value(p["params"].clone()).unwrap_or_default(),
        },
        None => keys.clone(),
    };
    let header = runs_header(&runs_keys, &cols);
    let mut line = String::new();
    let mut values = Vec::new();
    let mut rows = 0u64;
    let mut line_no = 0u64;
    loop {
        line.clear();
        if reader
            .read_line(&mut line)
            .map_err(|e| Error::io(&runs_path, e))?
            == 0
        {
            break;
        }
        line_no += 1;
        if line_no == 1 {
            if line != header {
                return Err(Error::Refused(format!(
                    "{}: the header is not that of {}'s columns",
                    runs_path.display(),
                    manifest.scenario.path
                )));
            }
            continue;
        }
        let parsed = parse_row(line.trim_end_matches('\n'), &runs_keys, &cols, &mut values);
        let Some((point, _)) = parsed.filter(|(p, _)| (*p as usize) < points.len()) else {
            return Err(Error::Refused(format!(
                "{}:{line_no}: malformed row",
                runs_path.display()
            )));
        };
        acc.add(point, &values)
            .map_err(|e| Error::io(&runs_path, e))?;
        rows += 1;
    }
    let finished = acc.finish().map_err(|e| Error::io(&runs_path, e))?;
    Ok(RunReport {
        scenario_name: scenario.name.clone(),
        summary: finished.summary,
        points: points.len() as u64,
        reps: rows,
        events: finished.events,
        seconds: 0.0,
        seed: manifest.seed,
        tie_audit: None,
        written: Vec::new(),
        hidden_metrics: (scenario.events.iter())
            .filter(|e| e.hidden)
            .map(|e| format!("count_{}", e.id))
            .collect(),
        varied: keys.params,
        point_values: points,
        report: finished.report.expect("the accumulator was given a report"),
        columns: cols,
    })
}
