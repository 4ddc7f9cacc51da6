//! The shares of a categorical outcome's categories at one parameter
//! point, with 95% Wilson intervals: a horizontal dot chart, categories
//! down the y axis (so that long labels never overlap), the share along x.

use super::style::{
    cut, fit_caption, plot_error, text_width, KeyTicks, Panel, CAPTION_SIZE, FONT, LABEL_SIZE,
};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The widest the category labels get; longer ones are cut.
const MAX_LABEL_AREA: i32 = 170;

/// A category's share and its interval: `(label, share, lo, hi)`.
pub(super) type CategoryShare = (String, f64, f64, f64);

/// Draws the shares of `categories` (in order, top to bottom).
pub(super) fn category_chart(
    area: &Panel<'_>,
    caption: &str,
    categories: &[CategoryShare],
    colors: &[RGBColor],
) -> Result<()> {
    let n = categories.len().max(1);
    let per_char = text_width("x", LABEL_SIZE);
    let max_chars = ((MAX_LABEL_AREA - 12) / per_char) as usize;
    let labels: Vec<String> = categories.iter().map(|c| cut(&c.0, max_chars)).collect();
    let label_area = labels
        .iter()
        .map(|l| text_width(l, LABEL_SIZE) + 14)
        .max()
        .unwrap_or(40)
        .clamp(40, MAX_LABEL_AREA);
    let y_of = |k: usize| (n - 1 - k) as f64;
    let keys: Vec<f64> = (0..categories.len()).map(y_of).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(fit_caption(caption, area), (FONT, CAPTION_SIZE).into_font())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(42)
        .y_label_area_size(label_area)
        .build_cartesian_2d(
            KeyTicks::new(0.0, 1.0, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
            KeyTicks::new(-0.6, n as f64 - 0.4, keys),
        )
        .map_err(plot_error)?;
    let label_of = |y: &f64| {
        let k = n as f64 - 1.0 - y.round();
        labels.get(k as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .x_desc("share of replications (95% Wilson interval)")
        .x_label_formatter(&|x: &f64| format!("{:.0}%", x * 100.0))
        .y_label_formatter(&label_of)
        .y_label_style((FONT, LABEL_SIZE))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    for (k, (_, share, lo, hi)) in categories.iter().enumerate() {
        let c = colors[k % colors.len()];
        let y = y_of(k);
        if lo.is_finite() && hi.is_finite() {
            chart
                .draw_series([
                    PathElement::new(vec![(*lo, y), (*hi, y)], c.stroke_width(2)),
                    PathElement::new(vec![(*lo, y - 0.15), (*lo, y + 0.15)], c.stroke_width(1)),
                    PathElement::new(vec![(*hi, y - 0.15), (*hi, y + 0.15)], c.stroke_width(1)),
                ])
                .map_err(plot_error)?;
        }
        if share.is_finite() {
            chart
                .draw_series(std::iter::once(Circle::new((*share, y), 4, c.filled())))
                .map_err(plot_error)?;
            // The value above its dot, left of it near the right edge.
            let h = if *share > 0.8 {
                HPos::Right
            } else {
                HPos::Left
            };
            let style = (FONT, 11)
                .into_font()
                .color(&BLACK.mix(0.8))
                .pos(Pos::new(h, VPos::Top));
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.1}%", share * 100.0),
                    (*share, y + 0.42),
                    style,
                )))
                .map_err(plot_error)?;
        }
    }
    Ok(())
}
