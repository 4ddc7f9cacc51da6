//! Section 4 of `plot`: `sensitivity.csv` read into one chart per metric,
//! and the bars of Morris `mu_star` or Sobol `S1` and `ST` with whiskers.

use super::data::{column, num, read_csv};
use super::style::{
    cut, fit_caption, plot_error, text_width, tick, KeyTicks, Legend, Mark, Panel, CAPTION_SIZE,
    FONT, LABEL_SIZE, PALETTE,
};
use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// Sensitivity charts drawn when no `--metric` is given.
pub(super) const MAX_SENSITIVITY_CHARTS: usize = 6;

/// One parameter's bars in a sensitivity chart.
#[derive(Debug, Clone)]
pub(super) struct SensBar {
    pub(super) param: String,
    /// `[estimate, lo, hi]` of the main index (`mu_star` or `S1`) and of the
    /// second one (`ST`; Sobol only).
    pub(super) main: [f64; 3],
    pub(super) second: Option<[f64; 3]>,
}

/// The indices of one metric from `sensitivity.csv`.
#[derive(Debug, Clone)]
pub(super) struct SensChart {
    pub(super) method: String,
    pub(super) n: String,
    pub(super) reps: String,
    /// The metric, with its category (`terminal = war`).
    pub(super) label: String,
    pub(super) bars: Vec<SensBar>,
}

/// The charts of `sensitivity.csv`: every metric in file order (the first
/// [`MAX_SENSITIVITY_CHARTS`]), or those named `metric` (a metric name, or
/// `metric=category`).
pub(super) fn read_sensitivity(path: &Path, metric: Option<&str>) -> Result<Vec<SensChart>> {
    let (header, rows) = read_csv(path)?;
    let c = |n: &str| column(&header, n, path);
    let (method_col, metric_col, cat_col, param_col, index_col) = (
        c("method")?,
        c("metric")?,
        c("category")?,
        c("param")?,
        c("index")?,
    );
    let (est_col, lo_col, hi_col, n_col, reps_col) = (
        c("estimate")?,
        c("ci95_lo")?,
        c("ci95_hi")?,
        c("n")?,
        c("reps")?,
    );
    let mut charts: Vec<SensChart> = Vec::new();
    for r in &rows {
        let index = r[index_col].as_str();
        let slot = match index {
            "mu_star" | "S1" => 0,
            "ST" => 1,
            _ => continue,
        };
        let label = if r[cat_col].is_empty() {
            r[metric_col].clone()
        } else {
            format!("{}={}", r[metric_col], r[cat_col])
        };
        if let Some(want) = metric {
            if want != label && want != r[metric_col] {
                continue;
            }
        }
        let k = match charts.iter().position(|ch| ch.label == label) {
            Some(k) => k,
            None => {
                charts.push(SensChart {
                    method: r[method_col].clone(),
                    n: r[n_col].clone(),
                    reps: r[reps_col].clone(),
                    label,
                    bars: Vec::new(),
                });
                charts.len() - 1
            }
        };
        let chart = &mut charts[k];
        let b = match chart.bars.iter().position(|b| b.param == r[param_col]) {
            Some(b) => b,
            None => {
                chart.bars.push(SensBar {
                    param: r[param_col].clone(),
                    main: [f64::NAN; 3],
                    second: None,
                });
                chart.bars.len() - 1
            }
        };
        let v = [num(&r[est_col]), num(&r[lo_col]), num(&r[hi_col])];
        if slot == 0 {
            chart.bars[b].main = v;
        } else {
            chart.bars[b].second = Some(v);
        }
    }
    if let Some(want) = metric {
        if charts.is_empty() {
            return Err(Error::invalid(
                "plot",
                format!(
                    "plot: {} has no metric `{want}` (give a metric name, or metric=category)",
                    path.display()
                ),
            ));
        }
    } else {
        charts.truncate(MAX_SENSITIVITY_CHARTS);
    }
    for chart in &mut charts {
        // Largest main index first; empty (NaN) indices last.
        chart.bars.sort_by(|a, b| {
            let key = |x: &SensBar| {
                if x.main[0].is_nan() {
                    f64::NEG_INFINITY
                } else {
                    x.main[0]
                }
            };
            key(b).total_cmp(&key(a))
        });
    }
    Ok(charts)
}

/// A bar series: label, x offset, half width, colour, (x, [estimate, lo, hi]).
pub(super) type BarSeries<'a> = (&'a str, f64, f64, RGBColor, Vec<(f64, [f64; 3])>);

/// Bars of `mu_star` (Morris) or `S1` and `ST` side by side (Sobol) per
/// parameter, with their bootstrap 95% intervals as whiskers.
pub(super) fn sensitivity_chart(area: &Panel<'_>, chart: &SensChart) -> Result<()> {
    let sobol = chart.method == "sobol";
    let k = chart.bars.len().max(1);
    let values = chart
        .bars
        .iter()
        .flat_map(|b| b.main.iter().chain(b.second.iter().flatten()))
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // All indices (near) zero: an axis from 0 to 1 rather than ticks in
    // millionths.
    let hi = if hi - lo < 1e-9 { lo + 1.0 } else { hi };
    let pad = (hi - lo) * 0.08;
    let (y0, y1) = (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad);
    let (what, y_desc) = if sobol {
        ("Sobol S1 and ST", "index (share of output variance)")
    } else {
        ("Morris mu*", "mu* (mean |elementary effect|, output units)")
    };
    let entries = if sobol {
        vec![
            (
                "S1 (first order)".to_string(),
                Mark::Box(PALETTE[0].mix(0.75)),
            ),
            ("ST (total)".to_string(), Mark::Box(PALETTE[1].mix(0.75))),
            (
                "95% bootstrap CI".to_string(),
                Mark::Line(BLACK.to_rgba(), 1),
            ),
        ]
    } else {
        vec![
            ("mu*".to_string(), Mark::Box(PALETTE[0].mix(0.75))),
            (
                "95% bootstrap CI".to_string(),
                Mark::Line(BLACK.to_rgba(), 1),
            ),
        ]
    };
    let legend = Legend::new(entries);
    let (plot, column) = legend.split(area);
    // Parameter names cut to the width of their slot, so none overlaps.
    let (plot_w, _) = plot.dim_in_pixel();
    let slot = (i64::from(plot_w) - 90) / k as i64;
    let chars = (slot / i64::from(text_width("x", LABEL_SIZE))).max(3) as usize;
    let names: Vec<String> = chart.bars.iter().map(|b| cut(&b.param, chars)).collect();
    let name_formatter = move |x: &f64| {
        let i = x.round();
        names.get(i as usize).cloned().unwrap_or_default()
    };
    let keys: Vec<f64> = (0..chart.bars.len()).map(|i| i as f64).collect();
    let mut c = ChartBuilder::on(&plot)
        .caption(
            fit_caption(&format!("{}: {what} (95% CI)", chart.label), &plot),
            (FONT, CAPTION_SIZE).into_font(),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(KeyTicks::new(-0.6, k as f64 - 0.4, keys), y0..y1)
        .map_err(plot_error)?;
    c.configure_mesh()
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .x_desc("parameter (sorted by the main index)")
        .y_desc(y_desc)
        .x_label_formatter(&name_formatter)
        .y_label_formatter(&|y: &f64| tick(*y))
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    let series: Vec<BarSeries<'_>> = if sobol {
        vec![
            (
                "S1 (first order)",
                -0.2,
                0.18,
                PALETTE[0],
                chart
                    .bars
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (i as f64, b.main))
                    .collect(),
            ),
            (
                "ST (total)",
                0.2,
                0.18,
                PALETTE[1],
                chart
                    .bars
                    .iter()
                    .enumerate()
                    .filter_map(|(i, b)| b.second.map(|v| (i as f64, v)))
                    .collect(),
            ),
        ]
    } else {
        vec![(
            "mu*",
            0.0,
            0.3,
            PALETTE[0],
            chart
                .bars
                .iter()
                .enumerate()
                .map(|(i, b)| (i as f64, b.main))
                .collect(),
        )]
    };
    for (_, offset, half, color, pts) in series {
        let pts: Vec<(f64, [f64; 3])> = pts.into_iter().filter(|p| p.1[0].is_finite()).collect();
        c.draw_series(pts.iter().map(|(x, v)| {
            let x = x + offset;
            Rectangle::new(
                [(x - half, 0.0), (x + half, v[0])],
                color.mix(0.75).filled(),
            )
        }))
        .map_err(plot_error)?;
        let whisker = BLACK.stroke_width(1);
        for (x, v) in pts
            .iter()
            .filter(|p| p.1[1].is_finite() && p.1[2].is_finite())
        {
            let x = x + offset;
            let cap = half * 0.4;
            c.draw_series([
                PathElement::new(vec![(x, v[1]), (x, v[2])], whisker),
                PathElement::new(vec![(x - cap, v[1]), (x + cap, v[1])], whisker),
                PathElement::new(vec![(x - cap, v[2]), (x + cap, v[2])], whisker),
            ])
            .map_err(plot_error)?;
        }
    }
    let (_, y_px) = c.plotting_area().get_pixel_range();
    legend.draw(column.as_ref(), y_px.start - plot.get_base_pixel().1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_row_is_an_error_naming_file_and_line() {
        let dir = super::super::test_dir::TestDir::new("sens-malformed");
        let path = dir.file("sensitivity.csv", "");
        let header = "method,metric,kind,category,param,index,estimate,ci95_lo,ci95_hi,n,reps";
        let row = "morris,war,share,\"a, b\",x,mu_star,0.5,0.25,0.75,4,5";
        std::fs::write(&path, format!("{header}\n{row}\n{row},9\n")).expect("write");
        match read_sensitivity(&path, None) {
            Err(e) => assert_eq!(
                e.to_string(),
                format!(
                    "plot: {}: line 3: 12 fields where the header has 11",
                    path.display()
                )
            ),
            Ok(charts) => panic!("a malformed row was read: {charts:?}"),
        }
        std::fs::write(&path, format!("{header}\n{row}\n")).expect("write");
        let charts = read_sensitivity(&path, None).expect("well-formed");
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].label, "war=a, b");
        assert_eq!(charts[0].bars[0].main, [0.5, 0.25, 0.75]);
    }
}
