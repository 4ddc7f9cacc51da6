//! What every chart of `plot` shares: the page's sizes and font, the
//! palette, tick labels, the x axis of sweep points, and the drawing error.

use crate::error::Error;
use plotters::prelude::*;
use std::collections::BTreeMap;

pub(super) const WIDTH: u32 = 1200;
pub(super) const PANEL_HEIGHT: u32 = 340;
pub(super) const TITLE_HEIGHT: u32 = 60;
pub(super) const FONT: &str = "sans-serif";

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

/// The x coordinate of each point: the varied parameter's value, or the point index.
pub(super) fn x_of(point: u64, params: &BTreeMap<u64, Vec<f64>>, one_param: bool) -> f64 {
    if one_param {
        params
            .get(&point)
            .and_then(|v| v.first())
            .copied()
            .unwrap_or(point as f64)
    } else {
        point as f64
    }
}

pub(super) fn x_range(params: &BTreeMap<u64, Vec<f64>>, one_param: bool) -> (f64, f64) {
    let xs: Vec<f64> = params.keys().map(|p| x_of(*p, params, one_param)).collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.06).max(0.5 * f64::from(u8::from(hi == lo)));
    (lo - pad, hi + pad)
}
