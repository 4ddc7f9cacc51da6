//! `flashpoint plot DIR`: one picture (SVG, or PNG) with what a researcher
//! looks at first.
//!
//! 1. A fan chart of each tension over time (median, 50% and 90% bands from
//!    `timeseries_summary.csv`), with the scenario's scheduled events marked on
//!    the time axis by date. Needs a result made with `--timeseries`.
//! 2. The share of each category of each categorical outcome (the built-in
//!    `terminal` included) per sweep point, with 95% Wilson intervals (from
//!    `summary.csv`).
//! 3. For a sweep that varies one parameter: the mean of each numeric outcome
//!    the scenario declares against that parameter, with its 95% CI band.
//! 4. When the directory holds `sensitivity.csv` (from `sensitivity --out`):
//!    per metric (the first six, or `--metric`), bars of Morris `mu_star` or
//!    Sobol `S1` and `ST` per parameter, sorted by `mu_star` or `S1`, with
//!    bootstrap 95% whiskers. `summary.csv` is then optional.
//!
//! The chart is drawn once, as SVG (plotters' SVG backend; text in the
//! `sans-serif` family, which every browser renders). `--out FILE.svg` (the
//! default, `DIR/plot.svg`) writes that SVG; `--out FILE.png` writes it
//! rasterised by the `png` submodule (resvg with an embedded font, no system
//! library), so the PNG shows exactly the SVG's panels at the SVG's width and
//! height. The extension picks the format, case-insensitively
//! ([`PlotOut::new`]); any other is a usage error. Either file is written
//! through [`write_atomic`].

use crate::error::{Error, Result};
use crate::output::manifest::{read_manifest, resolve_scenario};
use crate::output::write_atomic;
use crate::scenario::{OutcomeKind, Scenario};
use crate::time::format_date;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[cfg(feature = "png")]
mod png;

/// A validated `plot` request.
#[derive(Debug, Clone)]
pub struct PlotConfig {
    /// A result directory.
    pub dir: PathBuf,
    /// The file to write, and its format (default `DIR/plot.svg`).
    pub out: Option<PlotOut>,
    /// The sweep point whose time series are drawn.
    pub point: u64,
    /// Only this metric's sensitivity chart (`metric` or `metric=category`).
    pub metric: Option<String>,
    /// Replace the output file if it exists (never a file of a result).
    pub force: bool,
}

/// The picture formats `plot` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// The chart as SVG text.
    Svg,
    /// The same SVG rasterised to a PNG of the same width and height.
    Png,
}

/// A checked output file: its path, and the format its extension names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotOut {
    path: PathBuf,
    format: PlotFormat,
}

impl PlotOut {
    /// `path`, written in the format its extension names (case-insensitive):
    /// `.svg` or `.png`; a name without an extension gets SVG. Any other
    /// extension is a usage error naming the accepted ones.
    pub fn new(path: PathBuf) -> Result<PlotOut> {
        let format = match path.extension() {
            None => PlotFormat::Svg,
            Some(ext) if ext.eq_ignore_ascii_case("svg") => PlotFormat::Svg,
            Some(ext) if ext.eq_ignore_ascii_case("png") => {
                if !cfg!(feature = "png") {
                    return Err(Error::invalid("plot", "plot: this flashpoint was built without the `png` feature; write .svg, or rebuild with default features",));
                }
                PlotFormat::Png
            }
            Some(ext) => {
                return Err(Error::invalid(
                    "out",
                    format!(
                        "plot: --out must end in .svg or .png (got .{})",
                        ext.to_string_lossy()
                    ),
                ))
            }
        };
        Ok(PlotOut { path, format })
    }

    /// The file to write.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format written.
    pub fn format(&self) -> PlotFormat {
        self.format
    }
}

const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 340;
const TITLE_HEIGHT: u32 = 60;
const FONT: &str = "sans-serif";
/// Rows of scheduled-event labels above a fan chart.
const LABEL_ROWS: usize = 6;

/// A tick label: at most 6 decimals, trailing zeros dropped.
fn tick(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// One `summary.csv` row.
#[derive(Debug, Clone)]
struct SummaryRow {
    point: u64,
    metric: String,
    kind: String,
    category: String,
    mean: f64,
    lo: f64,
    hi: f64,
}

/// One `timeseries_summary.csv` row.
#[derive(Debug, Clone)]
struct BandRow {
    t: f64,
    q: [f64; 5],
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("plot", format!("plot: drawing failed: {e}"))
}

/// A parsed CSV file: header and rows of fields.
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("plot", format!("plot: {}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
        .filter(|r| r.len() == header.len())
        .collect();
    Ok((header, rows))
}

fn column(header: &[String], name: &str, path: &Path) -> Result<usize> {
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

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// What `run`/`sweep --out` left in the directory: the panels of sections 1–3.
struct MainData {
    title: String,
    scenario: Option<Scenario>,
    point_label: String,
    summary: Vec<SummaryRow>,
    point_params: BTreeMap<u64, Vec<f64>>,
    bands: BTreeMap<String, Vec<BandRow>>,
    series_order: Vec<String>,
    categorical: Vec<String>,
    numeric_outcomes: Vec<String>,
    x_param: Option<String>,
}

fn load_main(config: &PlotConfig) -> Result<MainData> {
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

/// Draws the plots of the result in `config.dir` and writes them as SVG or
/// PNG (see [`PlotOut`]); returns the path written.
pub fn plot(config: &PlotConfig) -> Result<PathBuf> {
    let dir = &config.dir;
    let (out, format) = match &config.out {
        Some(out) => (out.path().to_path_buf(), out.format()),
        None => (dir.join("plot.svg"), PlotFormat::Svg),
    };
    crate::output::manifest::claim_out_file(&out, config.force)?;
    let has_summary = dir.join("summary.csv").exists();
    let sens_path = dir.join("sensitivity.csv");
    let has_sens = sens_path.exists();
    if !has_summary && !has_sens {
        return Err(Error::invalid(
            "plot",
            format!(
                "plot: {} has neither summary.csv (written by `run --out` or `sweep --out`) \
             nor sensitivity.csv (written by `sensitivity --out`)",
                dir.display()
            ),
        ));
    }
    if config.metric.is_some() && !has_sens {
        return Err(Error::invalid(
            "metric",
            format!(
                "plot: --metric selects sensitivity charts, but {} has no sensitivity.csv",
                dir.display()
            ),
        ));
    }
    let main = if has_summary {
        Some(load_main(config)?)
    } else {
        None
    };
    let sens = if has_sens {
        read_sensitivity(&sens_path, config.metric.as_deref())?
    } else {
        Vec::new()
    };

    // Layout: two panels per row.
    let (fan_rows, share_rows, mean_rows) = match &main {
        Some(m) => (
            m.series_order.len().div_ceil(2),
            m.categorical.len().div_ceil(2),
            if m.x_param.is_some() {
                m.numeric_outcomes.len().div_ceil(2)
            } else {
                0
            },
        ),
        None => (0, 0, 0),
    };
    let sens_rows = sens.len().div_ceil(2);
    let panel_rows = fan_rows + share_rows + mean_rows + sens_rows;
    if panel_rows == 0 {
        return Err(Error::invalid(
            "plot",
            format!("plot: nothing to draw in {}", dir.display()),
        ));
    }
    let height = TITLE_HEIGHT + PANEL_HEIGHT * panel_rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (title, body) = root.split_vertically(TITLE_HEIGHT);
        let title_text = match (&main, sens.first()) {
            (Some(m), _) => m.title.clone(),
            (None, Some(s)) => format!(
                "global sensitivity ({}, n = {}, {} replications per point)",
                s.method, s.n, s.reps
            ),
            (None, None) => String::new(),
        };
        title
            .draw_text(&title_text, &(FONT, 24).into_font().color(&BLACK), (20, 18))
            .map_err(plot_error)?;
        let panels = body.split_evenly((panel_rows, 2));
        if let Some(m) = &main {
            let mut next = 0;
            for name in &m.series_order {
                fan_chart(
                    &panels[next],
                    name,
                    &m.bands[name],
                    m.scenario.as_ref(),
                    &m.point_label,
                )?;
                next += 1;
            }
            next = fan_rows * 2;
            let x_param = m.x_param.as_deref();
            for metric in &m.categorical {
                shares_chart(&panels[next], metric, &m.summary, &m.point_params, x_param)?;
                next += 1;
            }
            next = (fan_rows + share_rows) * 2;
            if let Some(param) = x_param {
                for outcome in &m.numeric_outcomes {
                    means_chart(&panels[next], outcome, param, &m.summary, &m.point_params)?;
                    next += 1;
                }
            }
        }
        let first = (fan_rows + share_rows + mean_rows) * 2;
        for (k, chart) in sens.iter().enumerate() {
            sensitivity_chart(&panels[first + k], chart)?;
        }
        root.present().map_err(plot_error)?;
    }
    let bytes = match format {
        PlotFormat::Svg => svg.into_bytes(),
        #[cfg(feature = "png")]
        PlotFormat::Png => png::svg_to_png(&svg)?,
        #[cfg(not(feature = "png"))]
        PlotFormat::Png => unreachable!("PlotOut::new refuses .png without the `png` feature"),
    };
    write_atomic(&out, &bytes).map_err(|e| Error::io(&out, e))?;
    Ok(out)
}

/// Sensitivity charts drawn when no `--metric` is given.
const MAX_SENSITIVITY_CHARTS: usize = 6;

/// One parameter's bars in a sensitivity chart.
#[derive(Debug, Clone)]
struct SensBar {
    param: String,
    /// `[estimate, lo, hi]` of the main index (`mu_star` or `S1`) and of the
    /// second one (`ST`; Sobol only).
    main: [f64; 3],
    second: Option<[f64; 3]>,
}

/// The indices of one metric from `sensitivity.csv`.
#[derive(Debug, Clone)]
struct SensChart {
    method: String,
    n: String,
    reps: String,
    /// The metric, with its category (`terminal = war`).
    label: String,
    bars: Vec<SensBar>,
}

/// A CSV line split on commas outside double quotes (`csv_field` quoting).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            _ => field.push(ch),
        }
    }
    out.push(field);
    out
}

/// The charts of `sensitivity.csv`: every metric in file order (the first
/// [`MAX_SENSITIVITY_CHARTS`]), or those named `metric` (a metric name, or
/// `metric=category`).
fn read_sensitivity(path: &Path, metric: Option<&str>) -> Result<Vec<SensChart>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("plot", format!("plot: {}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = split_csv_line(lines.next().unwrap_or(""));
    let c = |n: &str| column(&header, n, path);
    let (method_col, metric_col, cat_col, param_col, index_col) = (
        c("method")?,
        c("metric")?,
        c("category")?,
        c("param")?,
        c("index")?,
    );
    let (est_col, lo_col, hi_col, n_col, reps_col) = (
        c("estimate")?,
        c("ci95_lo")?,
        c("ci95_hi")?,
        c("n")?,
        c("reps")?,
    );
    let mut charts: Vec<SensChart> = Vec::new();
    for line in lines {
        let r = split_csv_line(line);
        if r.len() != header.len() {
            continue;
        }
        let index = r[index_col].as_str();
        let slot = match index {
            "mu_star" | "S1" => 0,
            "ST" => 1,
            _ => continue,
        };
        let label = if r[cat_col].is_empty() {
            r[metric_col].clone()
        } else {
            format!("{}={}", r[metric_col], r[cat_col])
        };
        if let Some(want) = metric {
            if want != label && want != r[metric_col] {
                continue;
            }
        }
        let k = match charts.iter().position(|ch| ch.label == label) {
            Some(k) => k,
            None => {
                charts.push(SensChart {
                    method: r[method_col].clone(),
                    n: r[n_col].clone(),
                    reps: r[reps_col].clone(),
                    label,
                    bars: Vec::new(),
                });
                charts.len() - 1
            }
        };
        let chart = &mut charts[k];
        let b = match chart.bars.iter().position(|b| b.param == r[param_col]) {
            Some(b) => b,
            None => {
                chart.bars.push(SensBar {
                    param: r[param_col].clone(),
                    main: [f64::NAN; 3],
                    second: None,
                });
                chart.bars.len() - 1
            }
        };
        let v = [num(&r[est_col]), num(&r[lo_col]), num(&r[hi_col])];
        if slot == 0 {
            chart.bars[b].main = v;
        } else {
            chart.bars[b].second = Some(v);
        }
    }
    if let Some(want) = metric {
        if charts.is_empty() {
            return Err(Error::invalid(
                "plot",
                format!(
                    "plot: {} has no metric `{want}` (give a metric name, or metric=category)",
                    path.display()
                ),
            ));
        }
    } else {
        charts.truncate(MAX_SENSITIVITY_CHARTS);
    }
    for chart in &mut charts {
        // Largest main index first; empty (NaN) indices last.
        chart.bars.sort_by(|a, b| {
            let key = |x: &SensBar| {
                if x.main[0].is_nan() {
                    f64::NEG_INFINITY
                } else {
                    x.main[0]
                }
            };
            key(b).total_cmp(&key(a))
        });
    }
    Ok(charts)
}

/// A bar series: label, x offset, half width, colour, (x, [estimate, lo, hi]).
type BarSeries<'a> = (&'a str, f64, f64, RGBColor, Vec<(f64, [f64; 3])>);

/// Bars of `mu_star` (Morris) or `S1` and `ST` side by side (Sobol) per
/// parameter, with their bootstrap 95% intervals as whiskers.
fn sensitivity_chart(area: &Panel<'_>, chart: &SensChart) -> Result<()> {
    let sobol = chart.method == "sobol";
    let k = chart.bars.len().max(1);
    let values = chart
        .bars
        .iter()
        .flat_map(|b| b.main.iter().chain(b.second.iter().flatten()))
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.08).max(1e-6);
    let (y0, y1) = (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad);
    let names: Vec<String> = chart.bars.iter().map(|b| b.param.clone()).collect();
    let name_formatter = move |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let (what, y_desc) = if sobol {
        ("Sobol S1 and ST", "index (share of output variance)")
    } else {
        ("Morris mu*", "mu* (mean |elementary effect|, output units)")
    };
    let mut c = ChartBuilder::on(area)
        .caption(
            format!(
                "{} sensitivity of {}: {what} (95% CI)",
                chart.method, chart.label
            ),
            (FONT, 17).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.6..(k as f64 - 0.4), y0..y1)
        .map_err(plot_error)?;
    c.configure_mesh()
        .x_desc("parameter (sorted by the main index)")
        .y_desc(y_desc)
        .x_labels(k * 4 + 1)
        .x_label_formatter(&name_formatter)
        .y_label_formatter(&|y: &f64| tick(*y))
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let series: Vec<BarSeries<'_>> = if sobol {
        vec![
            (
                "S1 (first order)",
                -0.2,
                0.18,
                PALETTE[0],
                chart
                    .bars
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (i as f64, b.main))
                    .collect(),
            ),
            (
                "ST (total)",
                0.2,
                0.18,
                PALETTE[1],
                chart
                    .bars
                    .iter()
                    .enumerate()
                    .filter_map(|(i, b)| b.second.map(|v| (i as f64, v)))
                    .collect(),
            ),
        ]
    } else {
        vec![(
            "mu*",
            0.0,
            0.3,
            PALETTE[0],
            chart
                .bars
                .iter()
                .enumerate()
                .map(|(i, b)| (i as f64, b.main))
                .collect(),
        )]
    };
    for (label, offset, half, color, pts) in series {
        let pts: Vec<(f64, [f64; 3])> = pts.into_iter().filter(|p| p.1[0].is_finite()).collect();
        c.draw_series(pts.iter().map(|(x, v)| {
            let x = x + offset;
            Rectangle::new(
                [(x - half, 0.0), (x + half, v[0])],
                color.mix(0.75).filled(),
            )
        }))
        .map_err(plot_error)?
        .label(label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.mix(0.75).filled())
        });
        let whisker = BLACK.stroke_width(1);
        for (x, v) in pts
            .iter()
            .filter(|p| p.1[1].is_finite() && p.1[2].is_finite())
        {
            let x = x + offset;
            let cap = half * 0.4;
            c.draw_series([
                PathElement::new(vec![(x, v[1]), (x, v[2])], whisker),
                PathElement::new(vec![(x - cap, v[1]), (x + cap, v[1])], whisker),
                PathElement::new(vec![(x - cap, v[2]), (x + cap, v[2])], whisker),
            ])
            .map_err(plot_error)?;
        }
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

type Panel<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn fan_chart(
    area: &Panel<'_>,
    name: &str,
    rows: &[BandRow],
    scenario: Option<&Scenario>,
    point_label: &str,
) -> Result<()> {
    let t_max = rows.iter().map(|r| r.t).fold(0.0, f64::max).max(1e-9);
    let lo = rows.iter().map(|r| r.q[0]).fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.q[4])
        .fold(f64::NEG_INFINITY, f64::max);
    // Scheduled events: marked at their (unjittered) time, one label row each
    // (up to LABEL_ROWS rows, then reused) above the data.
    let mut marks: Vec<(f64, String)> = scenario.map_or_else(Vec::new, |s| {
        s.schedule
            .iter()
            // An entry whose time is an expression of parameters has no
            // one time to mark.
            .filter(|e| e.at_expr.is_none() && e.at <= t_max)
            .map(|e| (e.at, s.events[e.event as usize].id.clone()))
            .collect()
    });
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    marks.dedup();
    let label_rows = marks.len().min(LABEL_ROWS);
    let pad = ((hi - lo) * 0.08).max(0.01);
    let lo = lo - pad;
    let data_hi = hi + pad;
    // Each label row takes about 7% of the plot's height.
    let hi = lo + (data_hi - lo) / (1.0 - 0.07 * label_rows as f64);
    let start = scenario.and_then(|s| s.start_day);
    let unit = scenario.map(|s| s.time_unit);
    let x_formatter = |t: &f64| match (start, unit) {
        (Some(day), Some(u)) => format_date(day, u, *t).get(5..10).unwrap_or("").to_string(),
        _ => tick(*t),
    };
    let unit_name = unit.map_or("time units", |u| match u {
        crate::time::TimeUnit::Hours => "hours",
        crate::time::TimeUnit::Days => "days",
        crate::time::TimeUnit::Weeks => "weeks",
    });
    let x_desc = match (start, unit) {
        (Some(day), Some(u)) => format!(
            "date (MM-DD; t in {unit_name} from {})",
            format_date(day, u, 0.0).get(..10).unwrap_or("")
        ),
        _ => format!("t ({unit_name})"),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{name}{point_label}"), (FONT, 17).into_font())
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..t_max, lo..hi)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("tension (scenario scale)")
        // No ticks in the label rows above the data.
        .y_label_formatter(&|y: &f64| {
            if *y <= data_hi {
                tick(*y)
            } else {
                String::new()
            }
        })
        .x_label_formatter(&x_formatter)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let blue = PALETTE[0];
    let band = |a: usize, b: usize| {
        let upper = rows.iter().map(|r| (r.t, r.q[b]));
        let lower = rows.iter().rev().map(|r| (r.t, r.q[a]));
        upper.chain(lower).collect::<Vec<_>>()
    };
    chart
        .draw_series(std::iter::once(Polygon::new(band(0, 4), blue.mix(0.15))))
        .map_err(plot_error)?
        .label("90% band (p05–p95)")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], blue.mix(0.15).filled())
        });
    chart
        .draw_series(std::iter::once(Polygon::new(band(1, 3), blue.mix(0.35))))
        .map_err(plot_error)?
        .label("50% band (p25–p75)")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], blue.mix(0.35).filled())
        });
    chart
        .draw_series(LineSeries::new(
            rows.iter().map(|r| (r.t, r.q[2])),
            blue.stroke_width(2),
        ))
        .map_err(plot_error)?
        .label("median")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], blue.stroke_width(2)));
    {
        let grey = RGBColor(90, 90, 90);
        for (k, (t, label)) in marks.iter().enumerate() {
            chart
                .draw_series(std::iter::once(plotters::element::DashedPathElement::new(
                    vec![(*t, lo), (*t, hi)],
                    4,
                    4,
                    grey.stroke_width(1),
                )))
                .map_err(plot_error)?;
            // One row per event, so that labels of nearby events do not overlap.
            let y = hi - (hi - lo) * (0.015 + 0.07 * (k % LABEL_ROWS) as f64);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {label} ({})", x_formatter(t)),
                    (*t, y),
                    (FONT, 11).into_font().color(&grey),
                )))
                .map_err(plot_error)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// The x coordinate of each point: the varied parameter's value, or the point index.
fn x_of(point: u64, params: &BTreeMap<u64, Vec<f64>>, one_param: bool) -> f64 {
    if one_param {
        params
            .get(&point)
            .and_then(|v| v.first())
            .copied()
            .unwrap_or(point as f64)
    } else {
        point as f64
    }
}

fn x_range(params: &BTreeMap<u64, Vec<f64>>, one_param: bool) -> (f64, f64) {
    let xs: Vec<f64> = params.keys().map(|p| x_of(*p, params, one_param)).collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.06).max(0.5 * f64::from(u8::from(hi == lo)));
    (lo - pad, hi + pad)
}

fn shares_chart(
    area: &Panel<'_>,
    metric: &str,
    summary: &[SummaryRow],
    params: &BTreeMap<u64, Vec<f64>>,
    x_param: Option<&str>,
) -> Result<()> {
    let rows: Vec<&SummaryRow> = summary.iter().filter(|r| r.metric == metric).collect();
    let mut categories: Vec<&str> = Vec::new();
    for r in &rows {
        if !categories.contains(&r.category.as_str()) {
            categories.push(&r.category);
        }
    }
    let one_param = x_param.is_some();
    let single = params.len() == 1;
    // A single point: categories side by side on the x axis.
    let (x0, x1) = if single {
        (-0.6, categories.len() as f64 - 0.4)
    } else {
        x_range(params, one_param)
    };
    let x_desc = match (single, x_param) {
        (true, _) => "category".to_string(),
        (false, Some(p)) => format!("{p} (parameter value)"),
        (false, None) => "sweep point (see points.csv)".to_string(),
    };
    let cats = categories.clone();
    let cat_formatter = move |x: &f64| {
        let k = x.round();
        if single && (x - k).abs() < 1e-6 && k >= 0.0 {
            cats.get(k as usize)
                .map_or(String::new(), |c| c.to_string())
        } else if single {
            String::new()
        } else {
            tick(*x)
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{metric}: share of replications (95% Wilson interval)"),
            (FONT, 17).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(55)
        .build_cartesian_2d(x0..x1, 0.0..1.0)
        .map_err(plot_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc("share")
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .x_label_formatter(&cat_formatter)
        .light_line_style(WHITE.mix(0.0));
    if single {
        mesh.x_labels(categories.len() * 4 + 1);
    }
    mesh.draw().map_err(plot_error)?;
    for (k, cat) in categories.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut pts: Vec<(f64, f64, f64, f64)> = rows
            .iter()
            .filter(|r| r.category == *cat)
            .map(|r| {
                let x = if single {
                    k as f64
                } else {
                    x_of(r.point, params, one_param)
                };
                (x, r.mean, r.lo, r.hi)
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let bars = pts.iter().map(|(x, _, lo, hi)| {
            PathElement::new(vec![(*x, *lo), (*x, *hi)], color.stroke_width(2))
        });
        chart.draw_series(bars).map_err(plot_error)?;
        if !single {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(x, m, _, _)| (*x, *m)),
                    color.stroke_width(1),
                ))
                .map_err(plot_error)?;
        }
        chart
            .draw_series(
                pts.iter()
                    .map(|(x, m, _, _)| Circle::new((*x, *m), 4, color.filled())),
            )
            .map_err(plot_error)?
            .label(cat.to_string())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

fn means_chart(
    area: &Panel<'_>,
    outcome: &str,
    param: &str,
    summary: &[SummaryRow],
    params: &BTreeMap<u64, Vec<f64>>,
) -> Result<()> {
    let mut pts: Vec<(f64, f64, f64, f64)> = summary
        .iter()
        .filter(|r| r.metric == outcome && r.kind == "numeric")
        .map(|r| (x_of(r.point, params, true), r.mean, r.lo, r.hi))
        .filter(|p| p.1.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let lo = pts
        .iter()
        .map(|p| p.2)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = pts
        .iter()
        .map(|p| p.3)
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return Ok(());
    }
    let pad = ((hi - lo) * 0.1).max(1e-6);
    let (x0, x1) = x_range(params, true);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{outcome}: mean and 95% CI by {param}"),
            (FONT, 17).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(55)
        .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(format!("{param} (parameter value)"))
        .y_desc(format!("mean {outcome} (outcome units)"))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let color = PALETTE[0];
    let band: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (p.0, p.3))
        .chain(pts.iter().rev().map(|p| (p.0, p.2)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2))))
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|p| (p.0, p.1)),
            color.stroke_width(2),
        ))
        .map_err(plot_error)?;
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
        )
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        let format = |p: &str| PlotOut::new(PathBuf::from(p)).map(|o| o.format());
        assert_eq!(format("a/plot.svg").ok(), Some(PlotFormat::Svg));
        assert_eq!(format("plot.SVG").ok(), Some(PlotFormat::Svg));
        assert_eq!(format("plot").ok(), Some(PlotFormat::Svg));
        if cfg!(feature = "png") {
            assert_eq!(format("plot.png").ok(), Some(PlotFormat::Png));
            assert_eq!(format("plot.Png").ok(), Some(PlotFormat::Png));
        } else {
            assert_eq!(
                format("plot.png").map_err(|e| e.to_string()),
                Err("plot: this flashpoint was built without the `png` feature; write .svg, or rebuild with default features".into())
            );
        }
        match format("plot.svg.pdf") {
            Err(e) => assert_eq!(
                e.to_string(),
                "plot: --out must end in .svg or .png (got .pdf)"
            ),
            Ok(f) => panic!("plot.svg.pdf accepted as {f:?}"),
        }
    }
}
