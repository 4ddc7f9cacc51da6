//! The chart of a `compare --out` result: per outcome, the difference
//! B − A with its 95% interval, paired under common random numbers (the
//! estimate `compare` reports), and below it the unpaired reference
//! (independent streams) for scale, with a line at zero. Categories of a
//! categorical outcome share one panel (in percentage points); each
//! numeric outcome has its own panel in its own units.

use super::style::{
    color, cut, finite_range, fit_caption, padded, plot_error, text_width, tick, KeyTicks, Legend,
    Mark, Panel, CAPTION_SIZE, FONT, LABEL_SIZE,
};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The widest the row labels get; longer ones are cut.
const MAX_LABEL_AREA: i32 = 150;

/// One row of a difference chart: a label and `[diff, lo, hi]` paired and
/// unpaired.
#[derive(Debug, Clone)]
pub(super) struct DiffRow {
    pub(super) label: String,
    pub(super) paired: [f64; 3],
    pub(super) unpaired: [f64; 3],
}

/// Draws the rows' differences; `share` draws them in percentage points.
pub(super) fn diff_chart(
    area: &Panel<'_>,
    caption: &str,
    rows: &[DiffRow],
    share: bool,
    settings: &[String; 2],
) -> Result<()> {
    let scale = if share { 100.0 } else { 1.0 };
    let n = rows.len().max(1);
    let paired = color(0);
    let unpaired = RGBColor(150, 150, 150);
    let mut legend = Legend::new(vec![
        (
            "paired (CRN), 95% CI".to_string(),
            Mark::Dot(paired.to_rgba()),
        ),
        (
            "unpaired reference".to_string(),
            Mark::Line(unpaired.to_rgba(), 1),
        ),
    ]);
    for s in settings {
        legend.note(s.clone());
    }
    let (plot, column) = legend.split(area);
    let per_char = text_width("x", LABEL_SIZE);
    let max_chars = ((MAX_LABEL_AREA - 12) / per_char) as usize;
    let labels: Vec<String> = rows.iter().map(|r| cut(&r.label, max_chars)).collect();
    let label_area = labels
        .iter()
        .map(|l| text_width(l, LABEL_SIZE) + 14)
        .max()
        .unwrap_or(40)
        .clamp(40, MAX_LABEL_AREA);
    let values = rows
        .iter()
        .flat_map(|r| r.paired.iter().chain(r.unpaired.iter()))
        .map(|v| v * scale)
        .chain([0.0]);
    let (x0, x1) = finite_range(values).unwrap_or((-1.0, 1.0));
    let (x0, x1) = padded(x0, x1, 0.1);
    let y_of = |k: usize| (n - 1 - k) as f64;
    let keys: Vec<f64> = (0..rows.len()).map(y_of).collect();
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            fit_caption(caption, &plot),
            (FONT, CAPTION_SIZE).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(label_area)
        .build_cartesian_2d(x0..x1, KeyTicks::new(-0.7, n as f64 - 0.3, keys))
        .map_err(plot_error)?;
    let label_of = |y: &f64| {
        let k = n as f64 - 1.0 - y.round();
        labels.get(k as usize).cloned().unwrap_or_default()
    };
    let unit = if share { " pp" } else { "" };
    chart
        .configure_mesh()
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .x_desc(if share {
            "B − A, percentage points of the share"
        } else {
            "B − A, in the outcome's units"
        })
        .x_label_formatter(&|x: &f64| format!("{}{unit}", tick(*x)))
        .y_label_formatter(&label_of)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.7), (0.0, n as f64 - 0.3)],
            BLACK.mix(0.6).stroke_width(1),
        )))
        .map_err(plot_error)?;
    for (k, row) in rows.iter().enumerate() {
        let y = y_of(k);
        let [d, lo, hi] = row.paired.map(|v| v * scale);
        let [_, ulo, uhi] = row.unpaired.map(|v| v * scale);
        if ulo.is_finite() && uhi.is_finite() {
            let yu = y - 0.22;
            chart
                .draw_series([
                    PathElement::new(vec![(ulo, yu), (uhi, yu)], unpaired.stroke_width(1)),
                    PathElement::new(
                        vec![(ulo, yu - 0.06), (ulo, yu + 0.06)],
                        unpaired.stroke_width(1),
                    ),
                    PathElement::new(
                        vec![(uhi, yu - 0.06), (uhi, yu + 0.06)],
                        unpaired.stroke_width(1),
                    ),
                ])
                .map_err(plot_error)?;
        }
        if lo.is_finite() && hi.is_finite() {
            chart
                .draw_series([
                    PathElement::new(vec![(lo, y), (hi, y)], paired.stroke_width(2)),
                    PathElement::new(vec![(lo, y - 0.1), (lo, y + 0.1)], paired.stroke_width(1)),
                    PathElement::new(vec![(hi, y - 0.1), (hi, y + 0.1)], paired.stroke_width(1)),
                ])
                .map_err(plot_error)?;
        }
        if d.is_finite() {
            chart
                .draw_series(std::iter::once(Circle::new((d, y), 4, paired.filled())))
                .map_err(plot_error)?;
            let sign = if d >= 0.0 { "+" } else { "" };
            let text = format!("{sign}{}{unit} [{}, {}]", fmt(d), fmt(lo), fmt(hi));
            // Above the dot, centred: the value and its interval.
            let style = (FONT, 11)
                .into_font()
                .color(&BLACK.mix(0.85))
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            let x_mid = d.clamp(x0 + (x1 - x0) * 0.25, x1 - (x1 - x0) * 0.25);
            chart
                .draw_series(std::iter::once(Text::new(text, (x_mid, y + 0.16), style)))
                .map_err(plot_error)?;
        }
    }
    let (_, y_px) = chart.plotting_area().get_pixel_range();
    legend.draw(column.as_ref(), y_px.start - plot.get_base_pixel().1)
}

/// A difference for a label: 3 significant digits.
fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = if x == 0.0 {
        2
    } else {
        (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{x:.digits$}")
}
