//! Section 2 of `plot`: the share of each category of a categorical outcome
//! per sweep point, with 95% Wilson intervals.

use super::data::SummaryRow;
use super::style::{plot_error, tick, x_of, x_range, Panel, FONT, PALETTE};
use crate::error::Result;
use plotters::prelude::*;
use std::collections::BTreeMap;

pub(super) fn shares_chart(
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
