//! What every chart of `plot` shares: the panel's sizes and font, the
//! palette, tick labels, text widths, the legend column outside the data,
//! and the drawing error.

use crate::error::{Error, Result};
use plotters::prelude::*;

/// Width of the page: two panels side by side.
pub(super) const WIDTH: u32 = 1200;
/// Width of one panel.
pub(super) const PANEL_WIDTH: u32 = WIDTH / 2;
/// Height of one panel.
pub(super) const PANEL_HEIGHT: u32 = 380;
/// Height of the page's title band.
pub(super) const TITLE_HEIGHT: u32 = 60;
/// The font family of every text (`png` maps it to the embedded font).
pub(super) const FONT: &str = "sans-serif";
/// Size of axis descriptions and legend labels (plotters' units).
pub(super) const LABEL_SIZE: u32 = 12;
/// Size of panel captions.
pub(super) const CAPTION_SIZE: u32 = 17;

/// A tick label: at most 6 decimals, trailing zeros dropped.
pub(super) fn tick(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The error of a failed drawing operation.
pub(super) fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("plot", format!("plot: drawing failed: {e}"))
}

/// A panel of the page, drawn on by one chart.
pub(super) type Panel<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The colours of series, in order.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The colour of series `k`.
pub(super) fn color(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// The width in pixels that `text` takes at plotters font size `size`, a
/// conservative estimate (0.62 em per character; plotters writes an SVG
/// font size of `size / 1.24`, and DejaVu Sans, the PNG's font, averages
/// under 0.6 em). Layout decisions (label rows, cut labels) use it.
pub(super) fn text_width(text: &str, size: u32) -> i32 {
    let em = f64::from(size) / 1.24;
    (0.62 * em * text.chars().count() as f64).ceil() as i32
}

/// `text` cut to at most `chars` characters, ending in `…` when cut.
pub(super) fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let head: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

/// A caption cut to fit `area`'s width.
pub(super) fn fit_caption(text: &str, area: &Panel<'_>) -> String {
    let (w, _) = area.dim_in_pixel();
    let chars = (w as i32 - 24) / text_width("x", CAPTION_SIZE);
    cut(text, chars.max(8) as usize)
}

/// The widest a legend column gets; longer labels are cut.
const LEGEND_MAX_WIDTH: i32 = 170;
/// The narrowest a legend column gets (room for its notes).
const LEGEND_MIN_WIDTH: i32 = 130;
/// Font size of a legend's notes.
const NOTE_SIZE: u32 = 11;
/// Pixels of a legend entry before its label (the mark and a gap).
const LEGEND_MARK: i32 = 30;
/// Height of one legend row.
const LEGEND_ROW: i32 = 18;

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    /// A filled box (a band, a bar).
    Box(RGBAColor),
    /// A line of this width.
    Line(RGBAColor, u32),
    /// A dashed line.
    Dashed(RGBAColor),
    /// A filled dot (a point estimate).
    Dot(RGBAColor),
}

/// A chart's legend: drawn in a column at the right of its panel, outside
/// the plot area, so that it never covers data.
#[derive(Debug, Clone, Default)]
pub(super) struct Legend {
    entries: Vec<(String, Mark)>,
    notes: Vec<String>,
}

impl Legend {
    /// A legend of these entries, top to bottom.
    pub(super) fn new(entries: Vec<(String, Mark)>) -> Legend {
        Legend {
            entries,
            notes: Vec::new(),
        }
    }

    /// Adds a sentence printed under the entries, wrapped to the column.
    pub(super) fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// The notes, wrapped into lines that fit a column of `width` pixels.
    fn note_lines(&self, width: i32) -> Vec<String> {
        let per_line = ((width - 10) / text_width("x", NOTE_SIZE)).max(8) as usize;
        let mut lines = Vec::new();
        for note in &self.notes {
            let mut line = String::new();
            for word in note.split_whitespace() {
                if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&cut(word, per_line));
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    /// The characters of a label that fit the column.
    fn max_chars() -> usize {
        let per_char = f64::from(text_width("x", LABEL_SIZE));
        (f64::from(LEGEND_MAX_WIDTH - LEGEND_MARK - 6) / per_char) as usize
    }

    /// The column's width: the longest (cut) label's, at most
    /// `LEGEND_MAX_WIDTH`; 0 without entries.
    fn width(&self) -> i32 {
        self.entries
            .iter()
            .map(|(label, _)| {
                LEGEND_MARK + text_width(&cut(label, Self::max_chars()), LABEL_SIZE) + 10
            })
            .max()
            .map_or(0, |w| w.clamp(LEGEND_MIN_WIDTH, LEGEND_MAX_WIDTH))
    }

    /// Splits `area` into the chart's area and, at its right, the legend's
    /// column (nothing when the legend is empty).
    pub(super) fn split<'a>(&self, area: &Panel<'a>) -> (Panel<'a>, Option<Panel<'a>>) {
        let width = self.width();
        if width == 0 {
            return (area.clone(), None);
        }
        let (w, _) = area.dim_in_pixel();
        let (plot, legend) = area.split_horizontally(w.saturating_sub(width as u32));
        (plot, Some(legend))
    }

    /// Draws the entries top-down in the column made by [`Legend::split`],
    /// inside a light box, starting at `top` pixels (the plot area's top).
    pub(super) fn draw(&self, column: Option<&Panel<'_>>, top: i32) -> Result<()> {
        let Some(area) = column else {
            return Ok(());
        };
        let width = self.width();
        let bottom = top + LEGEND_ROW * self.entries.len() as i32 + 4;
        area.draw(&Rectangle::new(
            [(2, top - 4), (width - 6, bottom)],
            BLACK.mix(0.3),
        ))
        .map_err(plot_error)?;
        for (k, (label, mark)) in self.entries.iter().enumerate() {
            let y = top + 8 + LEGEND_ROW * k as i32;
            match *mark {
                Mark::Box(c) => area.draw(&Rectangle::new([(8, y - 5), (24, y + 5)], c.filled())),
                Mark::Line(c, w) => {
                    area.draw(&PathElement::new(vec![(8, y), (24, y)], c.stroke_width(w)))
                }
                Mark::Dashed(c) => area.draw(&plotters::element::DashedPathElement::new(
                    vec![(8, y), (24, y)],
                    3,
                    3,
                    c.stroke_width(1),
                )),
                Mark::Dot(c) => area.draw(&Circle::new((16, y), 4, c.filled())),
            }
            .map_err(plot_error)?;
            area.draw(&Text::new(
                cut(label, Self::max_chars()),
                (LEGEND_MARK, y - 6),
                (FONT, LABEL_SIZE).into_font().color(&BLACK),
            ))
            .map_err(plot_error)?;
        }
        for (k, line) in self.note_lines(width).into_iter().enumerate() {
            area.draw(&Text::new(
                line,
                (4, bottom + 8 + 13 * k as i32),
                (FONT, NOTE_SIZE).into_font().color(&BLACK.mix(0.75)),
            ))
            .map_err(plot_error)?;
        }
        Ok(())
    }
}

/// An f64 axis `lo..hi` whose ticks are exactly `keys`, each labelled by
/// the chart's formatter: for category axes and axes with few meaningful
/// values, where plotters' own ticks would fall between labels.
#[derive(Debug, Clone)]
pub(super) struct KeyTicks {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl KeyTicks {
    /// The axis `lo..hi` with ticks at `keys`.
    pub(super) fn new(lo: f64, hi: f64, keys: Vec<f64>) -> KeyTicks {
        KeyTicks { lo, hi, keys }
    }
}

impl plotters::coord::ranged1d::Ranged for KeyTicks {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let share = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A range `lo..hi` padded by `share` of its width on both sides (by 0.5
/// when it is a single value), so that points sit inside the axes.
pub(super) fn padded(lo: f64, hi: f64, share: f64) -> (f64, f64) {
    let pad = if hi > lo { (hi - lo) * share } else { 0.5 };
    (lo - pad, hi + pad)
}

/// The smallest and largest finite values.
pub(super) fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drop_trailing_zeros() {
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(-0.0000001), "0");
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("a_rather_long_label", 8), "a_rathe…");
    }
}
