//! The time-series tables: `timeseries.csv` (long format, one row per
//! replication, grid time and series, for the first K replications of each
//! point) and `timeseries_summary.csv` (mean and quantile bands per point,
//! grid time and series, over all replications).
//!
//! Memory does not grow with the number of replications: the summary keeps a
//! [`Moments`] and a [`Quantiles`] (exact up to [`Quantiles::CAP`] values, a
//! bounded sketch beyond) per (grid time, series) of the current point, fed in
//! replication order, so the output is a pure function of the rows.

use super::format::push_f64;
use crate::engine::grid;
use crate::stats::{Moments, Quantiles};
use crate::time::{format_date, TimeUnit};
use std::fmt::Write as _;

/// The quantiles of `timeseries_summary.csv`, in column order.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Header of `timeseries.csv` (`point` only for sweeps).
pub fn detail_header(point: bool) -> String {
    format!(
        "{}rep,t,date,series,value\n",
        if point { "point," } else { "" }
    )
}

/// Header of `timeseries_summary.csv` (`point` only for sweeps).
pub fn summary_header(point: bool) -> String {
    format!(
        "{}t,date,series,n,mean,p05,p25,p50,p75,p95\n",
        if point { "point," } else { "" }
    )
}

/// Formats the rows of both tables for one grid.
#[derive(Debug, Clone)]
pub struct TimeseriesTables {
    point_column: bool,
    series: Vec<String>,
    /// `t` and `date` of each grid point, formatted once.
    times: Vec<String>,
    cells: Vec<(Moments, Quantiles)>,
    n_points: usize,
}

impl TimeseriesTables {
    /// Tables for `series` on the grid `k · dt ≤ horizon`; `start_day`
    /// anchors the `date` column (empty without it).
    pub fn new(
        point_column: bool,
        series: Vec<String>,
        dt: f64,
        horizon: f64,
        start_day: Option<i64>,
        unit: TimeUnit,
    ) -> Self {
        let n_points = grid::n_points(dt, horizon);
        let times = (0..n_points)
            .map(|k| {
                let t = grid::time(k, dt);
                let mut s = String::new();
                push_f64(&mut s, t);
                s.push(',');
                if let Some(day) = start_day {
                    s.push_str(&format_date(day, unit, t));
                }
                s
            })
            .collect();
        let cells = vec![(Moments::default(), Quantiles::default()); n_points * series.len()];
        TimeseriesTables {
            point_column,
            series,
            times,
            cells,
            n_points,
        }
    }

    /// Number of series per grid row.
    pub fn n_series(&self) -> usize {
        self.series.len()
    }

    /// Appends the `timeseries.csv` rows of one replication (`values`:
    /// its grid rows, row-major).
    pub fn push_detail(&self, out: &mut String, point: u64, rep: u64, values: &[f64]) {
        for (k, row) in values.chunks_exact(self.series.len()).enumerate() {
            for (name, v) in self.series.iter().zip(row) {
                if self.point_column {
                    let _ = write!(out, "{point},");
                }
                let _ = write!(out, "{rep},{},{name},", self.times[k]);
                push_f64(out, *v);
                out.push('\n');
            }
        }
    }

    /// Adds one replication's grid rows to the current point's summary.
    pub fn add(&mut self, values: &[f64]) {
        for (cell, v) in self.cells.iter_mut().zip(values) {
            if v.is_finite() {
                cell.0.add(*v);
                cell.1.add(*v);
            }
        }
    }

    /// Appends the current point's `timeseries_summary.csv` rows (grid
    /// points no replication reached are left out) and starts a new point.
    pub fn push_summary(&mut self, out: &mut String, point: u64) {
        let n_series = self.series.len();
        for k in 0..self.n_points {
            for (j, name) in self.series.iter().enumerate() {
                let (m, q) = &self.cells[k * n_series + j];
                if m.count() == 0 {
                    continue;
                }
                if self.point_column {
                    let _ = write!(out, "{point},");
                }
                let _ = write!(out, "{},{name},{},", self.times[k], m.count());
                push_f64(out, m.mean());
                for p in QUANTILES {
                    out.push(',');
                    push_f64(out, q.quantile(p));
                }
                out.push('\n');
            }
        }
        for cell in &mut self.cells {
            *cell = (Moments::default(), Quantiles::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_in_long_format() {
        let mut t = TimeseriesTables::new(
            true,
            vec!["a".into(), "b".into()],
            0.5,
            1.0,
            None,
            TimeUnit::Days,
        );
        let mut s = String::new();
        // Two grid rows of a replication that ended at t = 0.5.
        t.push_detail(&mut s, 3, 7, &[1.0, 2.0, 1.5, 2.5]);
        assert_eq!(
            s,
            "3,7,0,,a,1\n3,7,0,,b,2\n3,7,0.5,,a,1.5\n3,7,0.5,,b,2.5\n"
        );
        t.add(&[1.0, 2.0, 1.5, 2.5]);
        t.add(&[3.0, 2.0, 1.5, 2.5, 9.0, 9.0]);
        s.clear();
        t.push_summary(&mut s, 3);
        assert_eq!(
            s,
            "3,0,,a,2,2,1.1,1.5,2,2.5,2.9\n\
             3,0,,b,2,2,2,2,2,2,2\n\
             3,0.5,,a,2,1.5,1.5,1.5,1.5,1.5,1.5\n\
             3,0.5,,b,2,2.5,2.5,2.5,2.5,2.5,2.5\n\
             3,1,,a,1,9,9,9,9,9,9\n\
             3,1,,b,1,9,9,9,9,9,9\n"
        );
    }
}
