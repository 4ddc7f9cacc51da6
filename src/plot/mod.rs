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
//!
//! Files: `data` (the result files of sections 1–3), `fan`, `shares`,
//! `means` and `sensitivity` (one chart kind each; `sensitivity` reads its
//! own file), `style` (sizes, font, palette, ticks, the sweep-point axis).

use crate::error::{Error, Result};
use crate::output::write_atomic;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

mod data;
mod fan;
mod means;
#[cfg(feature = "png")]
mod png;
mod sensitivity;
mod shares;
mod style;

use data::load_main;
use fan::fan_chart;
use means::means_chart;
use sensitivity::{read_sensitivity, sensitivity_chart};
use shares::shares_chart;
use style::{plot_error, FONT, PANEL_HEIGHT, TITLE_HEIGHT, WIDTH};

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
                    return Err(Error::invalid("plot", "plot: this flashpoint was built without the `png` feature; write .svg, or rebuild with default features"));
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
