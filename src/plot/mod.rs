//! `flashpoint plot DIR`: one picture (SVG, or PNG) of a result, every
//! chart a panel of its own ([`figure`]), two per row.
//!
//! 1. A fan chart of every recorded series over time — each tension and
//!    each numeric actor state variable (median, 50% and 90% bands from
//!    `timeseries_summary.csv`) — with the scenario's scheduled events
//!    marked by date, their labels packed into rows so that none overlaps
//!    another. The bands summarise the replications still running; when
//!    some end before the horizon, a strip below shows that number `n` at
//!    each time, and the legend says so. Needs `--timeseries`.
//! 2. The share of each category of each categorical outcome (the built-in
//!    `terminal` included), with 95% Wilson intervals (from `summary.csv`):
//!    at one point, a dot chart with the categories down the y axis; in a
//!    sweep, as the estimates of 3.
//! 3. For a sweep, the mean of each numeric outcome the scenario declares,
//!    with its 95% CI, drawn by the design: against the parameter of a
//!    one-parameter grid, joined by lines; for a two-parameter grid, along
//!    the parameter with more values with one line per value of the other
//!    (shares: one panel per category, small multiples); for `lhs`/`random`
//!    designs and larger grids, as unjoined dots against each parameter in
//!    turn (scatter plots), never lines through unrelated points.
//! 4. For `sensitivity.csv` (from `sensitivity --out`): per metric (the first
//!    six, or `--metric`), bars of Morris `mu_star` or Sobol `S1` and `ST` per
//!    parameter, sorted by `mu_star` or `S1`, with bootstrap 95% whiskers.
//! 5. For `compare.csv` (from `compare --out`): per outcome, the paired
//!    difference B − A with its 95% interval, the unpaired reference below
//!    it, a line at zero, and the two settings.
//!
//! Every legend sits in a column right of its plot area, outside the data;
//! ticks are placed where they get a label (`style::KeyTicks` for
//! category axes); long labels are cut to fit. Each panel is drawn as its
//! own SVG (plotters' SVG backend; text in the `sans-serif` family) and the
//! page nests them (`<svg class="panel KIND">`). `--out FILE.svg` (the
//! default, `DIR/plot.svg`) writes that SVG; `--out FILE.png` writes it
//! rasterised by the `png` submodule (resvg with an embedded font, no system
//! library), so the PNG shows exactly the SVG's panels at the SVG's width and
//! height. The extension picks the format, case-insensitively
//! ([`PlotOut::new`]); any other is a usage error. Either file is written
//! through [`write_atomic`].
//!
//! Files: `data` (the result files), `fan`, `shares`, `points`, `compare`
//! and `sensitivity` (one chart kind each; `sensitivity` reads its own
//! file), `style` (sizes, font, palette, ticks, text widths, the legend).

use crate::error::{Error, Result};
use crate::output::write_atomic;
use plotters::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod compare;
mod data;
mod fan;
#[cfg(feature = "png")]
mod png;
mod points;
mod sensitivity;
mod shares;
mod style;
#[cfg(test)]
mod test_dir;

use data::{load_compare, load_main, CompareData, Layout, MainData};
use points::{Series, YAxis};
use sensitivity::read_sensitivity;
use style::{color, plot_error, Panel, FONT, PANEL_HEIGHT, PANEL_WIDTH, TITLE_HEIGHT, WIDTH};

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
                    return Err(Error::invalid("plot", "plot: this flashpoint was built without the `png` feature; write .svg, or rebuild with it (cargo install --path . --features png)"));
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

/// One chart of a figure: a panel of `PANEL_WIDTH` × `PANEL_HEIGHT`
/// pixels, drawn as a standalone SVG document.
#[derive(Debug, Clone)]
pub struct Chart {
    /// What it shows: `fan`, `shares`, `estimates`, `sensitivity` or `compare`.
    pub kind: &'static str,
    /// The SVG document.
    pub svg: String,
}

/// Every chart of a result directory, with the figure's title.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The title: the scenario, the command's size and seed.
    pub title: String,
    /// The charts, in reading order.
    pub charts: Vec<Chart>,
}

impl Figure {
    /// The whole figure as one SVG document: the title, then the charts
    /// two per row, each a nested `<svg class="panel KIND">`.
    pub fn svg(&self) -> Result<String> {
        let rows = self.charts.len().div_ceil(2) as u32;
        let height = TITLE_HEIGHT + PANEL_HEIGHT * rows;
        let mut page = String::new();
        {
            let root = SVGBackend::with_string(&mut page, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            root.draw_text(&self.title, &(FONT, 24).into_font().color(&BLACK), (20, 18))
                .map_err(plot_error)?;
            root.present().map_err(plot_error)?;
        }
        let close = page.rfind("</svg>").unwrap_or(page.len());
        let mut body = String::new();
        for (k, chart) in self.charts.iter().enumerate() {
            let x = (k as u32 % 2) * PANEL_WIDTH;
            let y = TITLE_HEIGHT + (k as u32 / 2) * PANEL_HEIGHT;
            let nested = chart.svg.replacen(
                "<svg ",
                &format!("<svg x=\"{x}\" y=\"{y}\" class=\"panel {}\" ", chart.kind),
                1,
            );
            body.push_str(&nested);
        }
        page.insert_str(close, &body);
        Ok(page)
    }
}

/// One panel's SVG, drawn by `draw`.
fn panel(kind: &'static str, draw: impl FnOnce(&Panel<'_>) -> Result<()>) -> Result<Chart> {
    let mut svg = String::new();
    {
        let area =
            SVGBackend::with_string(&mut svg, (PANEL_WIDTH, PANEL_HEIGHT)).into_drawing_area();
        area.fill(&WHITE).map_err(plot_error)?;
        draw(&area)?;
        area.present().map_err(plot_error)?;
    }
    Ok(Chart { kind, svg })
}

/// The charts of the result in `dir`: a run's or a sweep's (`summary.csv`,
/// and fan charts with `timeseries_summary.csv`; `point` picks the sweep
/// point whose series are drawn), a `sensitivity --out` result's
/// (`sensitivity.csv`; `metric` picks one metric) or a `compare --out`
/// result's (`compare.csv`).
pub fn figure(dir: &Path, point: u64, metric: Option<&str>) -> Result<Figure> {
    let has_summary = dir.join("summary.csv").exists();
    let sens_path = dir.join("sensitivity.csv");
    let has_sens = sens_path.exists();
    let has_compare = dir.join("compare.csv").exists();
    if !has_summary && !has_sens && !has_compare {
        return Err(Error::invalid(
            "plot",
            format!(
                "plot: {} has none of summary.csv (written by `run --out` or `sweep --out`), \
                 sensitivity.csv (written by `sensitivity --out`) or compare.csv (written by `compare --out`)",
                dir.display()
            ),
        ));
    }
    if metric.is_some() && !has_sens {
        return Err(Error::invalid(
            "metric",
            format!(
                "plot: --metric selects sensitivity charts, but {} has no sensitivity.csv",
                dir.display()
            ),
        ));
    }
    let mut charts = Vec::new();
    let mut title = String::new();
    if has_summary {
        let config = PlotConfig {
            dir: dir.to_path_buf(),
            out: None,
            point,
            metric: None,
            force: false,
        };
        let m = load_main(&config)?;
        title.clone_from(&m.title);
        main_charts(&m, &mut charts)?;
    }
    if has_compare {
        let c = load_compare(dir)?;
        title.clone_from(&c.title);
        compare_charts(&c, &mut charts)?;
    }
    if has_sens {
        let sens = read_sensitivity(&sens_path, metric)?;
        if title.is_empty() {
            if let Some(s) = sens.first() {
                title = format!(
                    "global sensitivity ({}, n = {}, {} replications per point)",
                    s.method, s.n, s.reps
                );
            }
        }
        for chart in &sens {
            charts.push(panel("sensitivity", |area| {
                sensitivity::sensitivity_chart(area, chart)
            })?);
        }
    }
    if charts.is_empty() {
        return Err(Error::invalid(
            "plot",
            format!("plot: nothing to draw in {}", dir.display()),
        ));
    }
    Ok(Figure { title, charts })
}

/// The distinct finite values, sorted.
fn distinct(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let set: BTreeSet<u64> = values
        .into_iter()
        .filter(|v| v.is_finite())
        .map(|v| (v + 0.0).to_bits())
        .collect();
    let mut out: Vec<f64> = set.into_iter().map(f64::from_bits).collect();
    out.sort_by(f64::total_cmp);
    out
}

/// Series of a grid drawn as lines: most values along x, at most this
/// many values of the other parameter as separate lines.
const MAX_LINES: usize = 8;

/// How the estimates of a sweep are drawn.
enum EstimateLayout {
    /// Lines along parameter `x`; with `Some(g)`, one line per value of
    /// parameter `g` (a two-parameter grid).
    Lines { x: usize, group: Option<usize> },
    /// Unjoined dots against each parameter.
    Scatter,
}

fn estimate_layout(m: &MainData) -> Option<EstimateLayout> {
    let values = |k: usize| distinct(m.point_params.keys().map(|p| m.param(*p, k)));
    match &m.layout {
        Layout::Single => None,
        Layout::Grid(names) if names.len() == 1 => {
            Some(EstimateLayout::Lines { x: 0, group: None })
        }
        Layout::Grid(names) if names.len() == 2 => {
            let (a, b) = (values(0).len(), values(1).len());
            let (x, g) = if b > a { (1, 0) } else { (0, 1) };
            if values(g).len() <= MAX_LINES {
                Some(EstimateLayout::Lines { x, group: Some(g) })
            } else {
                Some(EstimateLayout::Scatter)
            }
        }
        _ => Some(EstimateLayout::Scatter),
    }
}

/// The fan, share and estimate charts of a run or sweep.
fn main_charts(m: &MainData, charts: &mut Vec<Chart>) -> Result<()> {
    for (name, rows) in &m.bands {
        charts.push(panel("fan", |area| {
            fan::fan_chart(
                area,
                name,
                rows,
                m.reps,
                m.scenario.as_ref(),
                &m.point_label,
            )
        })?);
    }
    fn rows_of<'a>(
        m: &'a MainData,
        metric: &'a str,
        category: Option<&'a str>,
    ) -> impl Iterator<Item = &'a data::SummaryRow> + 'a {
        m.summary
            .iter()
            .filter(move |r| r.metric == metric && category.is_none_or(|c| r.category == c))
    }
    let categories_of = |metric: &str| {
        let mut cats: Vec<String> = Vec::new();
        for r in rows_of(m, metric, None) {
            if !cats.contains(&r.category) {
                cats.push(r.category.clone());
            }
        }
        cats
    };
    let layout = estimate_layout(m);
    // Series of `metric` (a category, if given) along parameter x, one
    // per value of parameter g (or one series).
    let lines = |metric: &str, category: Option<&str>, x: usize, group: Option<usize>| {
        let mut series: Vec<Series> = Vec::new();
        let groups = match group {
            Some(g) => distinct(m.point_params.keys().map(|p| m.param(*p, g))),
            None => vec![f64::NAN],
        };
        for value in groups {
            let points = rows_of(m, metric, category)
                .filter(|r| group.is_none_or(|g| m.param(r.point, g).to_bits() == value.to_bits()))
                .map(|r| (m.param(r.point, x), r.mean, r.lo, r.hi))
                .collect();
            let label = group.map_or(String::new(), |g| {
                format!("{} = {}", m.param_names[g], style::tick(value))
            });
            series.push(Series { label, points });
        }
        series
    };
    for metric in &m.categorical {
        let cats = categories_of(metric);
        match &layout {
            None => {
                let shares: Vec<shares::CategoryShare> = rows_of(m, metric, None)
                    .map(|r| (r.category.clone(), r.mean, r.lo, r.hi))
                    .collect();
                let colors: Vec<RGBColor> = (0..shares.len()).map(color).collect();
                let caption = format!("{metric}: share of replications");
                charts.push(panel("shares", |area| {
                    shares::category_chart(area, &caption, &shares, &colors)
                })?);
            }
            Some(EstimateLayout::Lines { x, group: None }) => {
                let series: Vec<Series> = cats
                    .iter()
                    .map(|c| Series {
                        label: c.clone(),
                        points: lines(metric, Some(c), *x, None).remove(0).points,
                    })
                    .collect();
                let p = &m.param_names[*x];
                push_estimates(
                    charts,
                    &format!("{metric}: share by {p}"),
                    p,
                    YAxis::Share,
                    &series,
                    true,
                )?;
            }
            Some(EstimateLayout::Lines { x, group: Some(g) }) => {
                for c in &cats {
                    let series = lines(metric, Some(c), *x, Some(*g));
                    let p = &m.param_names[*x];
                    push_estimates(
                        charts,
                        &format!("{metric} = {c}: share by {p}"),
                        p,
                        YAxis::Share,
                        &series,
                        true,
                    )?;
                }
            }
            Some(EstimateLayout::Scatter) => {
                for (k, p) in m.param_names.iter().enumerate() {
                    let series: Vec<Series> = cats
                        .iter()
                        .map(|c| Series {
                            label: c.clone(),
                            points: lines(metric, Some(c), k, None).remove(0).points,
                        })
                        .collect();
                    push_estimates(
                        charts,
                        &format!("{metric}: share against {p}"),
                        p,
                        YAxis::Share,
                        &series,
                        false,
                    )?;
                }
            }
        }
    }
    for outcome in &m.numeric_outcomes {
        let y_desc = format!("mean {outcome} (95% CI)");
        match &layout {
            None => {}
            Some(EstimateLayout::Lines { x, group }) => {
                let series = lines(outcome, None, *x, *group);
                let p = &m.param_names[*x];
                push_estimates(
                    charts,
                    &format!("{outcome}: mean by {p}"),
                    p,
                    YAxis::Value(&y_desc),
                    &series,
                    true,
                )?;
            }
            Some(EstimateLayout::Scatter) => {
                for (k, p) in m.param_names.iter().enumerate() {
                    let series = lines(outcome, None, k, None);
                    push_estimates(
                        charts,
                        &format!("{outcome}: mean against {p}"),
                        p,
                        YAxis::Value(&y_desc),
                        &series,
                        false,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Adds an estimates chart against parameter `param`.
fn push_estimates(
    charts: &mut Vec<Chart>,
    caption: &str,
    param: &str,
    y: YAxis<'_>,
    series: &[Series],
    join: bool,
) -> Result<()> {
    let x_desc = format!("{param} (parameter value)");
    charts.push(panel("estimates", |area| {
        points::series_chart(area, caption, &x_desc, y, series, join)
    })?);
    Ok(())
}

/// The paired-difference charts of a `compare` result.
fn compare_charts(c: &CompareData, charts: &mut Vec<Chart>) -> Result<()> {
    for metric in &c.categorical {
        let rows: Vec<compare::DiffRow> = c
            .rows
            .iter()
            .filter(|r| &r.metric == metric)
            // A category neither policy ever reaches has no difference to show.
            .filter(|r| r.mean_a != 0.0 || r.mean_b != 0.0)
            .map(|r| compare::DiffRow {
                label: r.category.clone(),
                paired: r.paired,
                unpaired: r.unpaired,
            })
            .collect();
        let caption = format!("{metric}: change in share, B − A");
        charts.push(panel("compare", |area| {
            compare::diff_chart(area, &caption, &rows, true, &c.settings)
        })?);
    }
    for metric in &c.numeric {
        let rows: Vec<compare::DiffRow> = c
            .rows
            .iter()
            .filter(|r| &r.metric == metric)
            .map(|r| compare::DiffRow {
                label: r.metric.clone(),
                paired: r.paired,
                unpaired: r.unpaired,
            })
            .collect();
        let caption = format!("{metric}: B − A");
        charts.push(panel("compare", |area| {
            compare::diff_chart(area, &caption, &rows, false, &c.settings)
        })?);
    }
    Ok(())
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
    let svg = figure(dir, config.point, config.metric.as_deref())?.svg()?;
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
                Err("plot: this flashpoint was built without the `png` feature; write .svg, or rebuild with it (cargo install --path . --features png)".into())
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
