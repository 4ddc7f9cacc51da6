//! The result files behind the fan, share and mean charts: `summary.csv`,
//! `timeseries_summary.csv` and the manifest, read into [`MainData`].

use super::PlotConfig;
use crate::error::{Error, Result};
use crate::output::manifest::{read_manifest, resolve_scenario};
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

/// One `timeseries_summary.csv` row.
#[derive(Debug, Clone)]
pub(super) struct BandRow {
    pub(super) t: f64,
    pub(super) q: [f64; 5],
}

/// A result CSV file's header and rows of fields, read by
/// [`output::read::read_csv`](crate::output::read::read_csv): quotes
/// honoured, a malformed row an error naming the file and line.
pub(super) fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let csv = crate::output::read::read_csv(path)
        .map_err(|e| Error::invalid("plot", format!("plot: {e}")))?;
    Ok((csv.header, csv.records))
}

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

pub(super) fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// What `run`/`sweep --out` left in the directory: the panels of sections 1–3.
pub(super) struct MainData {
    pub(super) title: String,
    pub(super) scenario: Option<Scenario>,
    pub(super) point_label: String,
    pub(super) summary: Vec<SummaryRow>,
    pub(super) point_params: BTreeMap<u64, Vec<f64>>,
    pub(super) bands: BTreeMap<String, Vec<BandRow>>,
    pub(super) series_order: Vec<String>,
    pub(super) categorical: Vec<String>,
    pub(super) numeric_outcomes: Vec<String>,
    pub(super) x_param: Option<String>,
}

pub(super) fn load_main(config: &PlotConfig) -> Result<MainData> {
    let dir = &config.dir;
    let manifest = read_manifest(dir)?;
    // The scenario gives the scheduled events and which outcomes are numeric;
    // the plot is still drawn without it.
    let scenario: Option<Scenario> = resolve_scenario(&manifest, dir)
        .ok()
        .and_then(|p| crate::scenario::load_hashed(&p).ok())
        .map(|(s, _)| s);

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
    let param_names: Vec<String> =
        header[usize::from(manifest.kind == "sweep")..metric_col].to_vec();
    let mut point_params: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let summary: Vec<SummaryRow> = rows
        .iter()
        .map(|r| {
            let point = if manifest.kind == "sweep" {
                r[0].parse().unwrap_or(0)
            } else {
                0
            };
            let first = usize::from(manifest.kind == "sweep");
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

    // timeseries_summary.csv (optional)
    let ts_path = dir.join("timeseries_summary.csv");
    let mut bands: BTreeMap<String, Vec<BandRow>> = BTreeMap::new();
    let mut series_order: Vec<String> = Vec::new();
    if ts_path.exists() {
        let (h, rows) = read_csv(&ts_path)?;
        let c = |n: &str| column(&h, n, &ts_path);
        let (t_col, s_col, p05) = (c("t")?, c("series")?, c("p05")?);
        let point_col = h.iter().position(|x| x == "point");
        for r in &rows {
            if let Some(pc) = point_col {
                if r[pc].parse::<u64>().ok() != Some(config.point) {
                    continue;
                }
            }
            let name = &r[s_col];
            if !name.starts_with("tension_") {
                continue;
            }
            if !bands.contains_key(name) {
                series_order.push(name.clone());
            }
            bands.entry(name.clone()).or_default().push(BandRow {
                t: num(&r[t_col]),
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
    }

    // Categorical metrics, in file order; numeric outcomes the scenario declares.
    let mut categorical: Vec<String> = Vec::new();
    for r in &summary {
        if r.kind == "share" && !categorical.contains(&r.metric) {
            categorical.push(r.metric.clone());
        }
    }
    let numeric_outcomes: Vec<String> = match &scenario {
        Some(s) => s
            .outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Numeric(_)))
            .map(|o| o.name.clone())
            .collect(),
        None => Vec::new(),
    };
    let one_param = manifest.kind == "sweep" && param_names.len() == 1;
    let what = if manifest.kind == "sweep" {
        format!(
            "sweep of {} points, {} replications each, seed {}",
            point_params.len(),
            manifest.reps,
            manifest.seed
        )
    } else {
        format!("{} replications, seed {}", manifest.reps, manifest.seed)
    };
    let point_label = if manifest.kind == "sweep" {
        let values = point_params.get(&config.point).cloned().unwrap_or_default();
        let text: Vec<String> = param_names
            .iter()
            .zip(&values)
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        format!(", point {} ({})", config.point, text.join(", "))
    } else {
        String::new()
    };
    Ok(MainData {
        title: format!("{}: {what}", manifest.scenario.name),
        scenario,
        point_label,
        summary,
        point_params,
        bands,
        series_order,
        categorical,
        numeric_outcomes,
        x_param: one_param.then(|| param_names[0].clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in a fresh temporary directory of this test.
    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fp-plot-data-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("summary.csv");
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_quoted_field_keeps_its_comma() {
        let path = file(
            "quoted",
            "metric,category,mean\nterminal,\"war, total\",0.5\n",
        );
        let (header, rows) = read_csv(&path).expect("a well-formed file");
        assert_eq!(header, ["metric", "category", "mean"]);
        assert_eq!(rows, [["terminal", "war, total", "0.5"]]);
    }

    #[test]
    fn a_malformed_row_is_an_error_naming_file_and_line() {
        let path = file(
            "malformed",
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
