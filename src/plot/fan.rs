//! The fan chart of one recorded series over time (a tension or a numeric
//! actor state variable): median, 50% and 90% bands, the scenario's
//! scheduled events marked by date with labels packed into rows above the
//! data so that none overlaps another, and — when replications end before
//! the horizon — a strip below with the number still running at each time,
//! since the bands summarise only those.

use super::data::BandRow;
use super::style::{
    color, finite_range, fit_caption, padded, plot_error, text_width, tick, KeyTicks, Legend, Mark,
    Panel, CAPTION_SIZE, FONT, LABEL_SIZE,
};
use crate::error::Result;
use crate::scenario::Scenario;
use crate::time::format_date;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Rows of scheduled-event labels above a fan chart, at most; labels that
/// fit in none are left out and counted in the legend's note.
pub(super) const LABEL_ROWS: usize = 6;
/// Font size of event labels.
const EVENT_SIZE: u32 = 11;
/// Height of one row of event labels.
const EVENT_ROW: i32 = 13;
/// Height of the strip of replications still running.
const N_STRIP: u32 = 100;
/// Pixels above the event labels: the caption.
const CAPTION_SPACE: i32 = 30;

/// A scheduled event's label placed above the data: its time, text, row
/// and left edge in pixels of the plot's drawing area.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlacedLabel {
    pub(super) text: String,
    pub(super) row: usize,
    pub(super) left: i32,
}

/// Packs labels (pixel x of their event, text) into rows: each label
/// starts at its event's x (or ends there when it would cross `right`) and
/// goes in the first row where it clears the previous label by 6 pixels.
/// Returns the placed labels and how many fit in no row.
pub(super) fn pack_labels(
    labels: &[(i32, String)],
    right: i32,
    rows: usize,
) -> (Vec<PlacedLabel>, usize) {
    let mut row_end = vec![i32::MIN; rows];
    let mut placed = Vec::new();
    let mut left_out = 0;
    for (x, text) in labels {
        let w = text_width(text, EVENT_SIZE);
        let left = if x + w > right { x - w } else { *x };
        match row_end.iter().position(|end| left >= end.saturating_add(6)) {
            Some(row) => {
                row_end[row] = left + w;
                placed.push(PlacedLabel {
                    text: text.clone(),
                    row,
                    left,
                });
            }
            None => left_out += 1,
        }
    }
    (placed, left_out)
}

/// The description of a series' values on the y axis.
fn y_description(name: &str) -> String {
    if name.starts_with("tension_") {
        "tension (scenario scale)".to_string()
    } else {
        format!("{name} (actor state)")
    }
}

pub(super) fn fan_chart(
    area: &Panel<'_>,
    name: &str,
    rows: &[BandRow],
    reps: u64,
    scenario: Option<&Scenario>,
    point_label: &str,
) -> Result<()> {
    let t_max = rows.iter().map(|r| r.t).fold(0.0, f64::max).max(1e-9);
    let (lo, hi) = finite_range(rows.iter().flat_map(|r| [r.q[0], r.q[4]])).unwrap_or((0.0, 1.0));
    let (lo, hi) = if hi > lo {
        padded(lo, hi, 0.06)
    } else {
        padded(lo, hi, 0.0)
    };
    let (n_min, n_max) = finite_range(rows.iter().map(|r| r.n)).unwrap_or((0.0, 0.0));
    let n_falls = n_min < n_max || n_max < reps as f64;
    // Scheduled events: marked at their (unjittered) time.
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

    let blue = color(0);
    let mut entries = vec![
        ("90% band (p05–p95)".to_string(), Mark::Box(blue.mix(0.15))),
        ("50% band (p25–p75)".to_string(), Mark::Box(blue.mix(0.35))),
        ("median".to_string(), Mark::Line(blue.to_rgba(), 2)),
    ];
    if !marks.is_empty() {
        entries.push((
            "scheduled event".to_string(),
            Mark::Dashed(RGBColor(90, 90, 90).to_rgba()),
        ));
    }
    if n_falls {
        entries.push(("n still running".to_string(), Mark::Line(BLACK.mix(0.7), 1)));
    }
    let mut legend = Legend::new(entries);
    let (body, column) = legend.split(area);
    let (main, strip) = if n_falls {
        let (_, h) = body.dim_in_pixel();
        let (main, strip) = body.split_vertically(h.saturating_sub(N_STRIP));
        (main, Some(strip))
    } else {
        (body.clone(), None)
    };

    // Event labels go in rows between the caption and the data: measure the
    // plot area first, then pack.
    let caption = if point_label.is_empty() {
        name.to_string()
    } else {
        format!("{name}, {point_label}")
    };
    let label_space = |rows: usize| 4 + EVENT_ROW * rows as i32;
    let build = |rows: usize| {
        ChartBuilder::on(&main)
            .margin(10)
            .margin_top(CAPTION_SPACE + label_space(rows))
            .x_label_area_size(if n_falls { 0 } else { 40 })
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..t_max, lo..hi)
            .map_err(plot_error)
    };
    let probe = build(LABEL_ROWS)?;
    let (x_px, _) = probe.plotting_area().get_pixel_range();
    let base = main.get_base_pixel();
    let to_px = |t: f64| {
        x_px.start - base.0 + ((t / t_max) * f64::from(x_px.end - x_px.start)).round() as i32
    };
    let texts: Vec<(i32, String)> = marks
        .iter()
        .map(|(t, id)| (to_px(*t), format!("{id} ({})", x_formatter(t))))
        .collect();
    let (placed, left_out) = pack_labels(&texts, x_px.end - base.0, LABEL_ROWS);
    let rows_used = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
    drop(probe);
    let mut chart = build(rows_used)?;
    // The caption, drawn here so that the event labels sit between it and
    // the data.
    let (main_w, _) = main.dim_in_pixel();
    main.draw(&Text::new(
        fit_caption(&caption, &main),
        (main_w as i32 / 2, 8),
        (FONT, CAPTION_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(plot_error)?;
    let (_, y_px) = chart.plotting_area().get_pixel_range();
    let mut mesh = chart.configure_mesh();
    mesh.label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .y_desc(y_description(name))
        .y_label_formatter(&|y: &f64| tick(*y))
        .light_line_style(WHITE.mix(0.0));
    if !n_falls {
        mesh.x_desc(x_desc.clone()).x_label_formatter(&x_formatter);
    }
    mesh.draw().map_err(plot_error)?;
    let band = |a: usize, b: usize| {
        let upper = rows.iter().map(|r| (r.t, r.q[b]));
        let lower = rows.iter().rev().map(|r| (r.t, r.q[a]));
        upper.chain(lower).collect::<Vec<_>>()
    };
    chart
        .draw_series(std::iter::once(Polygon::new(band(0, 4), blue.mix(0.15))))
        .map_err(plot_error)?;
    chart
        .draw_series(std::iter::once(Polygon::new(band(1, 3), blue.mix(0.35))))
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(
            rows.iter().map(|r| (r.t, r.q[2])),
            blue.stroke_width(2),
        ))
        .map_err(plot_error)?;
    let grey = RGBColor(90, 90, 90);
    for (t, _) in &marks {
        chart
            .draw_series(std::iter::once(plotters::element::DashedPathElement::new(
                vec![(*t, lo), (*t, hi)],
                4,
                4,
                grey.stroke_width(1),
            )))
            .map_err(plot_error)?;
    }
    let top = y_px.start - base.1;
    for label in &placed {
        let y = top - label_space(rows_used) + 2 + EVENT_ROW * label.row as i32;
        main.draw(&Text::new(
            label.text.clone(),
            (label.left, y),
            (FONT, EVENT_SIZE).into_font().color(&grey),
        ))
        .map_err(plot_error)?;
    }

    if let Some(strip) = &strip {
        let (n0, n1) = padded(n_min, n_max.max(reps as f64), 0.15);
        let mut keys = vec![n_min, reps as f64];
        keys.dedup();
        let mut n_chart = ChartBuilder::on(strip)
            .margin(10)
            .margin_top(4)
            .x_label_area_size(40)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..t_max, KeyTicks::new(n0, n1, keys))
            .map_err(plot_error)?;
        n_chart
            .configure_mesh()
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .x_desc(x_desc.clone())
            .x_label_formatter(&x_formatter)
            .y_label_formatter(&|n: &f64| format!("{n:.0}"))
            .y_desc("n")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_error)?;
        n_chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.t, r.n)),
                BLACK.mix(0.7).stroke_width(1),
            ))
            .map_err(plot_error)?;
    }
    let note = if n_falls {
        format!(
            "Bands summarise the replications still running: n falls from {} to {} (strip below).",
            reps, n_min
        )
    } else {
        format!("All {reps} replications run to the end: n = {reps} at every time.")
    };
    legend.note(note);
    if left_out > 0 {
        legend.note(format!(
            "{left_out} more scheduled event{} marked but not labelled.",
            if left_out == 1 { "" } else { "s" }
        ));
    }
    legend.draw(column.as_ref(), top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_would_overlap_go_to_the_next_row() {
        let labels = vec![
            (10, "a_long_event (09-10)".to_string()),
            (20, "another (09-11)".to_string()),
            (400, "late (10-20)".to_string()),
        ];
        let (placed, left_out) = pack_labels(&labels, 500, 4);
        assert_eq!(left_out, 0);
        assert_eq!(placed.iter().map(|p| p.row).collect::<Vec<_>>(), [0, 1, 0]);
        // A label that would cross the right edge ends at its event.
        let (placed, _) = pack_labels(&[(490, "edge (10-31)".to_string())], 500, 4);
        assert_eq!(placed[0].left, 490 - text_width("edge (10-31)", EVENT_SIZE));
        // With one row, the second label fits nowhere.
        let (placed, left_out) = pack_labels(&labels[..2], 500, 1);
        assert_eq!((placed.len(), left_out), (1, 1));
    }
}
