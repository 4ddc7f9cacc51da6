//! Section 1 of `plot`: the fan chart of one tension over time (median,
//! 50% and 90% bands), with the scenario's scheduled events marked by date.

use super::data::BandRow;
use super::style::{plot_error, tick, Panel, FONT, PALETTE};
use crate::error::Result;
use crate::scenario::Scenario;
use crate::time::format_date;
use plotters::prelude::*;

/// Rows of scheduled-event labels above a fan chart.
pub(super) const LABEL_ROWS: usize = 6;

pub(super) fn fan_chart(
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
