//! Estimates (a mean or a share, with its 95% interval) against a swept
//! parameter: one series per category or per value of a second grid
//! parameter. Points are joined by lines only when they lie along one
//! parameter of a grid (`join`); the points of `lhs`/`random` designs and
//! of grids over more parameters are drawn as unjoined dots with whiskers,
//! since neighbours in such a list are unrelated.

use super::style::{
    color, finite_range, fit_caption, padded, plot_error, tick, Legend, Mark, Panel, CAPTION_SIZE,
    FONT, LABEL_SIZE,
};
use crate::error::Result;
use plotters::prelude::*;

/// One series: its legend label (empty: no legend) and its points
/// `(x, estimate, lo, hi)`.
#[derive(Debug, Clone)]
pub(super) struct Series {
    pub(super) label: String,
    pub(super) points: Vec<(f64, f64, f64, f64)>,
}

/// What the y axis shows.
#[derive(Debug, Clone, Copy)]
pub(super) enum YAxis<'a> {
    /// A share, from 0 to 100%.
    Share,
    /// A value with this description.
    Value(&'a str),
}

/// Draws `series` against x, with whiskers for the intervals, lines
/// joining each series' points (sorted by x) only when `join`.
pub(super) fn series_chart(
    area: &Panel<'_>,
    caption: &str,
    x_desc: &str,
    y: YAxis<'_>,
    series: &[Series],
    join: bool,
) -> Result<()> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = finite_range(all().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let (x0, x1) = padded(x0, x1, 0.06);
    let (y0, y1) = match y {
        YAxis::Share => (0.0, 1.0),
        YAxis::Value(_) => {
            let (lo, hi) = finite_range(all().flat_map(|p| [p.1, p.2, p.3])).unwrap_or((0.0, 1.0));
            padded(lo, hi, 0.08)
        }
    };
    let entries: Vec<(String, Mark)> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.label.is_empty())
        .map(|(k, s)| (s.label.clone(), Mark::Dot(color(k).to_rgba())))
        .collect();
    let mut legend = Legend::new(entries);
    if !join {
        legend.note("Each dot is one design point; points are not joined.".to_string());
    }
    let (plot, column) = legend.split(area);
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            fit_caption(caption, &plot),
            (FONT, CAPTION_SIZE).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_error)?;
    let y_desc = match y {
        YAxis::Share => "share (95% Wilson interval)".to_string(),
        YAxis::Value(d) => d.to_string(),
    };
    chart
        .configure_mesh()
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x: &f64| tick(*x))
        .y_label_formatter(&|v: &f64| match y {
            YAxis::Share => format!("{:.0}%", v * 100.0),
            YAxis::Value(_) => tick(*v),
        })
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let cap = (x1 - x0) * 0.006;
    for (k, s) in series.iter().enumerate() {
        let c = color(k);
        let mut pts: Vec<(f64, f64, f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let whiskers = pts
            .iter()
            .filter(|p| p.2.is_finite() && p.3.is_finite())
            .flat_map(|&(x, _, lo, hi)| {
                [
                    PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(1)),
                    PathElement::new(vec![(x - cap, lo), (x + cap, lo)], c.stroke_width(1)),
                    PathElement::new(vec![(x - cap, hi), (x + cap, hi)], c.stroke_width(1)),
                ]
            });
        chart.draw_series(whiskers).map_err(plot_error)?;
        if join && pts.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(1),
                ))
                .map_err(plot_error)?;
        }
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, c.filled())))
            .map_err(plot_error)?;
    }
    let (_, y_px) = chart.plotting_area().get_pixel_range();
    legend.draw(column.as_ref(), y_px.start - plot.get_base_pixel().1)
}
