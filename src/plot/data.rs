//! The result files behind the charts, read into [`MainData`] (a run or a
//! sweep: `summary.csv`, `timeseries_summary.csv`, the manifest) or
//! [`CompareData`] (`compare.csv`). Every file is read by the one CSV
//! reader, [`crate::output::read::read_csv`].

use super::PlotConfig;
use crate::error::{Error, Result};
use crate::output::manifest::{read_manifest, resolve_scenario, Manifest};
use crate::scenario::{OutcomeKind, Scenario};
use std::collections::BTreeMap;
use std::path::Path;

/// One `summary.csv` row.
#[derive(Debug, Clone)]
pub(super) struct SummaryRow {
    pub(super) point: u64,
    pub(super) metric: String,
    pub(super) kind: String,
    pub(super) category: String,
    pub(super) mean: f64,
    pub(super) lo: f64,
    pub(super) hi: f64,
}

/// One `timeseries_summary.csv` row: a grid time, the replications still
/// running then, and the 5/25/50/75/95% quantiles over them.
#[derive(Debug, Clone)]
pub(super) struct BandRow {
    pub(super) t: f64,
    pub(super) n: f64,
    pub(super) q: [f64; 5],
}

/// How the points of a result are laid out, which decides how a chart
/// shows them: a line joins points only along one parameter of a grid.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Layout {
    /// One parameter point (a run, or a sweep of one point).
    Single,
    /// A grid over these parameters (one or more).
    Grid(Vec<String>),
    /// Points with no order (`lhs:N`, `random:N`): drawn as scatter plots
    /// against each of these parameters.
    Scatter(Vec<String>),
}

/// A result CSV file's header and rows of fields, read by
/// [`output::read::read_csv`](crate::output::read::read_csv): quotes
/// honoured, a malformed row an error naming the file and line.
pub(super) fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let csv = crate::output::read::read_csv(path)
        .map_err(|e| Error::invalid("plot", format!("plot: {e}")))?;
    Ok((csv.header, csv.records))
}

/// The index of column `name` of a file, or an error naming the file.
pub(super) fn column(header: &[String], name: &str, path: &Path) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        Error::invalid(
            "plot",
            format!(
                "plot: {} has no `{name}` column: not a flashpoint file?",
                path.display()
            ),
        )
    })
}

/// A CSV number; an empty or unreadable field is NaN (undefined).
pub(super) fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// The scenario a manifest records, if it can still be found and loaded:
/// it gives the scheduled events, the time unit and which outcomes are
/// numeric; the charts are still drawn without it.
fn scenario_of(manifest: &Manifest, dir: &Path) -> Option<Scenario> {
    resolve_scenario(manifest, dir)
        .ok()
        .and_then(|p| crate::scenario::load_hashed(&p).ok())
        .map(|(s, _)| s)
}

/// What `run`/`sweep --out` left in the directory.
pub(super) struct MainData {
    pub(super) title: String,
    pub(super) scenario: Option<Scenario>,
    pub(super) point_label: String,
    pub(super) summary: Vec<SummaryRow>,
    pub(super) point_params: BTreeMap<u64, Vec<f64>>,
    pub(super) param_names: Vec<String>,
    /// Every recorded series (tensions, then numeric actor state), in file order.
    pub(super) bands: Vec<(String, Vec<BandRow>)>,
    /// Replications per point.
    pub(super) reps: u64,
    pub(super) categorical: Vec<String>,
    pub(super) numeric_outcomes: Vec<String>,
    pub(super) layout: Layout,
}

impl MainData {
    /// The value of parameter `k` at `point` (NaN if unknown).
    pub(super) fn param(&self, point: u64, k: usize) -> f64 {
        self.point_params
            .get(&point)
            .and_then(|v| v.get(k))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

pub(super) fn load_main(config: &PlotConfig) -> Result<MainData> {
    let dir = &config.dir;
    let manifest = read_manifest(dir)?;
    let scenario = scenario_of(&manifest, dir);
    let sweep = manifest.kind == "sweep";

    // summary.csv
    let summary_path = dir.join("summary.csv");
    let (header, rows) = read_csv(&summary_path)?;
    let metric_col = column(&header, "metric", &summary_path)?;
    let c = |n: &str| column(&header, n, &summary_path);
    let (kind_col, cat_col, mean_col, lo_col, hi_col) = (
        c("kind")?,
        c("category")?,
        c("mean")?,
        c("ci95_lo")?,
        c("ci95_hi")?,
    );
    let first = usize::from(sweep);
    let param_names: Vec<String> = header[first.min(metric_col)..metric_col].to_vec();
    let mut point_params: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let summary: Vec<SummaryRow> = rows
        .iter()
        .map(|r| {
            let point = if sweep { r[0].parse().unwrap_or(0) } else { 0 };
            point_params
                .entry(point)
                .or_insert_with(|| r[first..metric_col].iter().map(|s| num(s)).collect());
            SummaryRow {
                point,
                metric: r[metric_col].clone(),
                kind: r[kind_col].clone(),
                category: r[cat_col].clone(),
                mean: num(&r[mean_col]),
                lo: num(&r[lo_col]),
                hi: num(&r[hi_col]),
            }
        })
        .collect();

    // timeseries_summary.csv (optional): every series, tension and state.
    let ts_path = dir.join("timeseries_summary.csv");
    let mut bands: Vec<(String, Vec<BandRow>)> = Vec::new();
    if ts_path.exists() {
        let (h, rows) = read_csv(&ts_path)?;
        let c = |n: &str| column(&h, n, &ts_path);
        let (t_col, s_col, n_col, p05) = (c("t")?, c("series")?, c("n")?, c("p05")?);
        let point_col = h.iter().position(|x| x == "point");
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            if let Some(pc) = point_col {
                if r[pc].parse::<u64>().ok() != Some(config.point) {
                    continue;
                }
            }
            let name = &r[s_col];
            let k = *index.entry(name.clone()).or_insert_with(|| {
                bands.push((name.clone(), Vec::new()));
                bands.len() - 1
            });
            bands[k].1.push(BandRow {
                t: num(&r[t_col]),
                n: num(&r[n_col]),
                q: std::array::from_fn(|k| num(&r[p05 + k])),
            });
        }
        if point_col.is_some() && bands.is_empty() {
            return Err(Error::invalid(
                "point",
                format!(
                    "plot: {} has no rows for --point {}",
                    ts_path.display(),
                    config.point
                ),
            ));
        }
        // Tensions first, then actor state, each in file order.
        bands.sort_by_key(|(name, _)| !name.starts_with("tension_"));
    }

    // Categorical metrics, in file order; numeric outcomes the scenario declares.
    let mut categorical: Vec<String> = Vec::new();
    for r in &summary {
        if r.kind == "share" && !categorical.contains(&r.metric) {
            categorical.push(r.metric.clone());
        }
    }
    let numeric_outcomes = numeric_outcomes(scenario.as_ref());
    let design_kind = manifest
        .design
        .as_ref()
        .and_then(|d| d.get("kind"))
        .and_then(|k| k.as_str())
        .unwrap_or("grid");
    let layout = if !sweep || point_params.len() <= 1 || param_names.is_empty() {
        Layout::Single
    } else if design_kind == "grid" {
        Layout::Grid(param_names.clone())
    } else {
        Layout::Scatter(param_names.clone())
    };
    let what = if sweep {
        let design = match &layout {
            Layout::Scatter(_) => format!(" ({design_kind} design)"),
            _ => String::new(),
        };
        format!(
            "sweep of {} points{design}, {} replications each, seed {}",
            point_params.len(),
            manifest.reps,
            manifest.seed
        )
    } else {
        format!("{} replications, seed {}", manifest.reps, manifest.seed)
    };
    let point_label = if sweep {
        let values = point_params.get(&config.point).cloned().unwrap_or_default();
        let text: Vec<String> = param_names
            .iter()
            .zip(&values)
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        format!("point {} ({})", config.point, text.join(", "))
    } else {
        String::new()
    };
    Ok(MainData {
        title: format!("{}: {what}", manifest.scenario.name),
        scenario,
        point_label,
        summary,
        point_params,
        param_names,
        bands,
        reps: manifest.reps,
        categorical,
        numeric_outcomes,
        layout,
    })
}

/// The numeric outcomes a scenario declares, in order (none without it).
fn numeric_outcomes(scenario: Option<&Scenario>) -> Vec<String> {
    scenario.map_or_else(Vec::new, |s| {
        s.outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Numeric(_)))
            .map(|o| o.name.clone())
            .collect()
    })
}

/// One `compare.csv` row: B − A, paired, with the unpaired reference.
#[derive(Debug, Clone)]
pub(super) struct CompareRow {
    pub(super) metric: String,
    pub(super) kind: String,
    pub(super) category: String,
    pub(super) mean_a: f64,
    pub(super) mean_b: f64,
    /// `[diff, lo, hi]` of the paired difference (common random numbers).
    pub(super) paired: [f64; 3],
    /// `[diff, lo, hi]` of the unpaired difference (independent streams).
    pub(super) unpaired: [f64; 3],
}

/// What `compare --out` left in the directory.
pub(super) struct CompareData {
    pub(super) title: String,
    /// The two settings, `A: …` and `B: …`.
    pub(super) settings: [String; 2],
    pub(super) rows: Vec<CompareRow>,
    pub(super) categorical: Vec<String>,
    pub(super) numeric: Vec<String>,
}

/// `A`'s or `B`'s setting from a compare manifest's design: its overrides,
/// and the scenario's name when A and B run different files.
fn arm_setting(design: Option<&serde_json::Value>, arm: &str, both_named: bool) -> String {
    let arm_value = design.and_then(|d| d.get(arm));
    let overrides: Vec<String> = arm_value
        .and_then(|a| a.get("overrides"))
        .and_then(|o| o.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| match v.as_f64() {
                    Some(x) => format!("{k}={x}"),
                    None => format!("{k}={v}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let name = arm_value
        .and_then(|a| a.get("scenario"))
        .and_then(|s| s.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("");
    let body = if overrides.is_empty() {
        "as written".to_string()
    } else {
        overrides.join(", ")
    };
    if both_named {
        format!("{}: {name} {body}", arm.to_uppercase())
    } else {
        format!("{}: {body}", arm.to_uppercase())
    }
}

pub(super) fn load_compare(dir: &Path) -> Result<CompareData> {
    let manifest = read_manifest(dir)?;
    let scenario = scenario_of(&manifest, dir);
    let path = dir.join("compare.csv");
    let (header, records) = read_csv(&path)?;
    let c = |n: &str| column(&header, n, &path);
    let cols = [
        c("metric")?,
        c("kind")?,
        c("category")?,
        c("mean_a")?,
        c("mean_b")?,
        c("diff")?,
        c("ci95_lo")?,
        c("ci95_hi")?,
        c("diff_unpaired")?,
        c("ci95_lo_unpaired")?,
        c("ci95_hi_unpaired")?,
    ];
    let rows: Vec<CompareRow> = records
        .iter()
        .map(|r| CompareRow {
            metric: r[cols[0]].clone(),
            kind: r[cols[1]].clone(),
            category: r[cols[2]].clone(),
            mean_a: num(&r[cols[3]]),
            mean_b: num(&r[cols[4]]),
            paired: [num(&r[cols[5]]), num(&r[cols[6]]), num(&r[cols[7]])],
            unpaired: [num(&r[cols[8]]), num(&r[cols[9]]), num(&r[cols[10]])],
        })
        .collect();
    let mut categorical: Vec<String> = Vec::new();
    for r in &rows {
        if r.kind == "share" && !categorical.contains(&r.metric) {
            categorical.push(r.metric.clone());
        }
    }
    // The scenario's numeric outcomes; without the scenario, the numeric
    // metrics that are not built in.
    let mut numeric = numeric_outcomes(scenario.as_ref());
    if scenario.is_none() {
        let built_in = |m: &str| {
            m.starts_with("count_")
                || m.starts_with("tension_")
                || m == "end_time"
                || m == "n_events"
        };
        for r in &rows {
            if r.kind == "numeric" && !built_in(&r.metric) && !numeric.contains(&r.metric) {
                numeric.push(r.metric.clone());
            }
        }
    }
    numeric.retain(|m| rows.iter().any(|r| &r.metric == m));
    let design = manifest.design.as_ref();
    let name_of = |arm: &str| {
        design
            .and_then(|d| d.get(arm))
            .and_then(|a| a.get("scenario"))
            .and_then(|s| s.get("sha256"))
            .cloned()
    };
    let two_files = name_of("a") != name_of("b");
    Ok(CompareData {
        title: format!(
            "{}: compare B − A, {} paired replications, seed {}",
            manifest.scenario.name, manifest.reps, manifest.seed
        ),
        settings: [
            arm_setting(design, "a", two_files),
            arm_setting(design, "b", two_files),
        ],
        rows,
        categorical,
        numeric,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_dir::TestDir;
    use super::*;

    #[test]
    fn a_quoted_field_keeps_its_comma() {
        let dir = TestDir::new("data-quoted");
        let path = dir.file(
            "summary.csv",
            "metric,category,mean\nterminal,\"war, total\",0.5\n",
        );
        let (header, rows) = read_csv(&path).expect("a well-formed file");
        assert_eq!(header, ["metric", "category", "mean"]);
        assert_eq!(rows, [["terminal", "war, total", "0.5"]]);
    }

    #[test]
    fn a_malformed_row_is_an_error_naming_file_and_line() {
        let dir = TestDir::new("data-malformed");
        let path = dir.file(
            "summary.csv",
            "metric,category,mean\nterminal,war,0.5\nterminal,0.5\n",
        );
        match read_csv(&path) {
            Err(e) => assert_eq!(
                e.to_string(),
                format!(
                    "plot: {}: line 3: 2 fields where the header has 3",
                    path.display()
                )
            ),
            Ok(rows) => panic!("a malformed row was read as {rows:?}"),
        }
    }
}
