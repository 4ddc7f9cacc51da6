//! Section 3 of `plot`: the mean of a numeric outcome against the one swept
//! parameter, with its 95% CI band.

use super::data::SummaryRow;
use super::style::{plot_error, x_of, x_range, Panel, FONT, PALETTE};
use crate::error::Result;
use plotters::prelude::*;
use std::collections::BTreeMap;

pub(super) fn means_chart(
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
