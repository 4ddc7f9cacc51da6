//! The time-series tables: `timeseries.csv` (long format, one row per
//! replication, grid time and series, for the first K replications of each
//! point), `timeseries_summary.csv` (mean and quantile bands per point, grid
//! time and series, over all replications), and `timeseries_state.bin`, the
//! summary state of the points a shard's boundaries cut, which `merge`
//! completes.
//!
//! Memory does not grow with the number of replications: the summary keeps an
//! [`ExactSum`] and a [`Quantiles`] (exact up to [`Quantiles::CAP`] distinct
//! values, a bounded sketch beyond) per (grid time, series) of the current
//! point. Both states are pure functions of the multiset of values added, so
//! the summary of a point does not depend on the order of its replications
//! nor on how they were split between shards: merging the saved states of
//! the parts gives the state, and the rows, of the whole.
//!
//! # `timeseries_state.bin`
//!
//! Little-endian binary, written and read only here:
//!
//! * header: the 20 bytes `flashpoint-ts-state\n`, the format version
//!   (`u32`, 2), the number of grid times and of series (`u64` each);
//! * then one record per point: the point (`u64`) and every cell in (grid
//!   time, series) order, each cell an exact sum and a quantile state:
//!   * count (`u64`), flags (`u8`: 1 NaN seen, 2 `+∞`, 4 `-∞`, 8 the sum is
//!     negative), then the sum's two's-complement limbs (see
//!     [`ExactSum::to_parts`]) as the index of the lowest stored one (`u8`),
//!     how many are stored (`u8`) and those limbs (`u64` each); limbs below
//!     are zero, limbs above are the sign's fill;
//!   * NaN count (`u64`), then mode `0` (exact: number of distinct values
//!     (`u32`, at most [`Quantiles::CAP`]), then each value's bits (`u64`)
//!     and count (`u64`), in ascending order) or mode `1` (sketch: counts of
//!     `-∞`, zero and `+∞` (`u64` each), then for the negative and the
//!     positive buckets their number (`u32`) and each bucket's index
//!     (`u32`, at most [`Quantiles::MAX_BUCKET`], increasing) and count
//!     (`u64`)).
//!
//! Version 1 (exact values with `u32` multiplicities, signed logarithmic
//! bucket indices) is refused: its sketch buckets do not convert.

use super::format::push_f64;
use crate::engine::grid;
use crate::stats::{
    ExactSum, ExactSumParts, Quantiles, QuantilesParts, QuantilesValues, EXACT_SUM_LIMBS,
};
use crate::time::{format_date, TimeUnit};
use std::fmt::Write as _;
use std::io::{self, Read, Write};

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
    cells: Vec<(ExactSum, Quantiles)>,
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
        let cells = vec![(ExactSum::new(), Quantiles::new()); n_points * series.len()];
        TimeseriesTables {
            point_column,
            series,
            times,
            cells,
            n_points,
        }
    }

    /// `t,date,series,` of the last grid time's last series: the last cell
    /// of a replication that reached the horizon, and of a point one of
    /// whose replications did.
    pub fn last_cell(&self) -> String {
        match (self.times.last(), self.series.last()) {
            (Some(t), Some(name)) => format!("{t},{name},"),
            _ => String::new(),
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
                let (sum, q) = &self.cells[k * n_series + j];
                if sum.count() == 0 {
                    continue;
                }
                if self.point_column {
                    let _ = write!(out, "{point},");
                }
                let _ = write!(out, "{},{name},{},", self.times[k], sum.count());
                push_f64(out, sum.mean());
                for v in q.quantiles(QUANTILES) {
                    out.push(',');
                    push_f64(out, v);
                }
                out.push('\n');
            }
        }
        self.reset();
    }

    /// Starts a new point.
    fn reset(&mut self) {
        for cell in &mut self.cells {
            *cell = (ExactSum::new(), Quantiles::new());
        }
    }

    /// The header of `timeseries_state.bin`.
    pub fn state_header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(STATE_MAGIC.len() + 20);
        out.extend_from_slice(STATE_MAGIC);
        out.extend_from_slice(&STATE_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.n_points as u64).to_le_bytes());
        out.extend_from_slice(&(self.series.len() as u64).to_le_bytes());
        out
    }

    /// Writes the current point's summary state as one record of
    /// `timeseries_state.bin` and starts a new point.
    pub fn write_state(&mut self, out: &mut impl Write, point: u64) -> io::Result<()> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&point.to_le_bytes());
        for (sum, quantiles) in &self.cells {
            encode_sum(&mut bytes, sum);
            encode_quantiles(&mut bytes, quantiles);
            if bytes.len() >= 1 << 16 {
                out.write_all(&bytes)?;
                bytes.clear();
            }
        }
        out.write_all(&bytes)?;
        self.reset();
        Ok(())
    }
}

/// The first bytes of `timeseries_state.bin`.
pub const STATE_MAGIC: &[u8; 20] = b"flashpoint-ts-state\n";

/// The format version of `timeseries_state.bin`.
pub const STATE_VERSION: u32 = 2;

fn encode_sum(out: &mut Vec<u8>, sum: &ExactSum) {
    let parts = sum.to_parts();
    let negative = parts.limbs[EXACT_SUM_LIMBS - 1] >> 63 == 1;
    let fill = if negative { u64::MAX } else { 0 };
    let lo = parts
        .limbs
        .iter()
        .position(|&l| l != 0)
        .unwrap_or(EXACT_SUM_LIMBS);
    let end = parts
        .limbs
        .iter()
        .rposition(|&l| l != fill)
        .map_or(0, |h| h + 1)
        .max(lo);
    out.extend_from_slice(&parts.count.to_le_bytes());
    let flags = u8::from(parts.nan)
        | u8::from(parts.pos_inf) << 1
        | u8::from(parts.neg_inf) << 2
        | u8::from(negative) << 3;
    // EXACT_SUM_LIMBS < 256, so both fit a byte.
    out.extend_from_slice(&[flags, lo as u8, (end - lo) as u8]);
    for limb in &parts.limbs[lo..end] {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn encode_quantiles(out: &mut Vec<u8>, quantiles: &Quantiles) {
    let parts = quantiles.to_parts();
    out.extend_from_slice(&parts.nan_count.to_le_bytes());
    match &parts.values {
        QuantilesValues::Exact(values) => {
            out.push(0);
            // At most CAP distinct values, so their number fits u32.
            out.extend_from_slice(&(values.len() as u32).to_le_bytes());
            for (x, n) in values {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        QuantilesValues::Sketch {
            neg_inf,
            negative,
            zero,
            positive,
            pos_inf,
        } => {
            out.push(1);
            for c in [neg_inf, zero, pos_inf] {
                out.extend_from_slice(&c.to_le_bytes());
            }
            for buckets in [negative, positive] {
                // Bucket indices are distinct and at most MAX_BUCKET.
                out.extend_from_slice(&(buckets.len() as u32).to_le_bytes());
                for (index, c) in buckets {
                    out.extend_from_slice(&index.to_le_bytes());
                    out.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
    }
}

/// Reads the records of a `timeseries_state.bin`, checking its header against
/// the grid of the tables it will be merged into.
pub struct StateReader<R> {
    reader: R,
    n_cells: usize,
    offset: u64,
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl<R: Read> StateReader<R> {
    /// Reads the header; an error if it is not one of `tables`' grid.
    pub fn new(mut reader: R, tables: &TimeseriesTables) -> io::Result<Self> {
        let expected = tables.state_header();
        let mut header = vec![0; expected.len()];
        reader.read_exact(&mut header)?;
        if header[..STATE_MAGIC.len()] != STATE_MAGIC[..] {
            return Err(invalid("not a flashpoint time-series state".into()));
        }
        if header != expected {
            return Err(invalid(
                "the state's format version or grid differs from the sweep's".into(),
            ));
        }
        Ok(StateReader {
            reader,
            n_cells: tables.cells.len(),
            offset: expected.len() as u64,
        })
    }

    /// Bytes consumed so far: after [`StateReader::next_point`] returns
    /// `None` or a record is read, the length of the complete records.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0; N];
        self.reader.read_exact(&mut b)?;
        self.offset += N as u64;
        Ok(b)
    }

    fn u64(&mut self) -> io::Result<u64> {
        self.bytes::<8>().map(u64::from_le_bytes)
    }

    fn u32(&mut self) -> io::Result<u32> {
        self.bytes::<4>().map(u32::from_le_bytes)
    }

    /// The point of the next record, or `None` at the end of the file.
    pub fn next_point(&mut self) -> io::Result<Option<u64>> {
        let mut b = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            match self.reader.read(&mut b[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.offset += 8;
        Ok(Some(u64::from_le_bytes(b)))
    }

    /// Reads the cells of the record whose point [`StateReader::next_point`]
    /// returned and merges them into `tables`' current point (`None`: reads
    /// and checks them only).
    pub fn read_record(&mut self, mut tables: Option<&mut TimeseriesTables>) -> io::Result<()> {
        for k in 0..self.n_cells {
            let (sum, quantiles) = self.cell()?;
            if let Some(t) = tables.as_deref_mut() {
                let cell = &mut t.cells[k];
                cell.0.merge(&sum);
                cell.1.merge(&quantiles);
            }
        }
        Ok(())
    }

    fn cell(&mut self) -> io::Result<(ExactSum, Quantiles)> {
        let count = self.u64()?;
        let [flags, lo, len] = self.bytes::<3>()?;
        let (lo, len) = (usize::from(lo), usize::from(len));
        if flags > 15 || lo + len > EXACT_SUM_LIMBS {
            return Err(invalid(format!(
                "bad sum (flags {flags}, limbs {lo}+{len})"
            )));
        }
        let fill = if flags & 8 != 0 { u64::MAX } else { 0 };
        let mut limbs = [0u64; EXACT_SUM_LIMBS];
        for (k, limb) in limbs.iter_mut().enumerate() {
            if k >= lo + len {
                *limb = fill;
            } else if k >= lo {
                *limb = self.u64()?;
            }
        }
        let sum = ExactSum::from_parts(ExactSumParts {
            count,
            limbs,
            nan: flags & 1 != 0,
            pos_inf: flags & 2 != 0,
            neg_inf: flags & 4 != 0,
        });
        let nan_count = self.u64()?;
        let [mode] = self.bytes::<1>()?;
        let values = match mode {
            0 => {
                let distinct = self.u32()? as usize;
                if distinct > Quantiles::CAP {
                    return Err(invalid(format!(
                        "{distinct} distinct exact values, more than {}",
                        Quantiles::CAP
                    )));
                }
                let mut values = Vec::with_capacity(distinct);
                for _ in 0..distinct {
                    let x = f64::from_bits(self.u64()?);
                    values.push((x, self.u64()?));
                }
                QuantilesValues::Exact(values)
            }
            1 => {
                let (neg_inf, zero, pos_inf) = (self.u64()?, self.u64()?, self.u64()?);
                let mut sides = [Vec::new(), Vec::new()];
                for side in &mut sides {
                    let n = self.u32()?;
                    for _ in 0..n {
                        let index = self.u32()?;
                        let c = self.u64()?;
                        // Indices strictly increasing up to MAX_BUCKET: at
                        // most MAX_BUCKET + 1 buckets per side get stored.
                        if index > Quantiles::MAX_BUCKET
                            || side.last().is_some_and(|&(i, _)| i >= index)
                        {
                            return Err(invalid(format!(
                                "sketch bucket {index} out of order or out of range"
                            )));
                        }
                        side.push((index, c));
                    }
                }
                let [negative, positive] = sides;
                QuantilesValues::Sketch {
                    neg_inf,
                    negative,
                    zero,
                    positive,
                    pos_inf,
                }
            }
            m => return Err(invalid(format!("bad quantile mode {m}"))),
        };
        let quantiles = Quantiles::from_parts(QuantilesParts { nan_count, values })
            .map_err(|e| invalid(format!("bad quantile state: {e}")))?;
        Ok((sum, quantiles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> TimeseriesTables {
        TimeseriesTables::new(
            true,
            vec!["a".into(), "b".into()],
            0.5,
            1.0,
            None,
            TimeUnit::Days,
        )
    }

    /// Saving the states of two parts and merging them, in either order,
    /// gives the rows of the whole, to the byte; a cut file is refused.
    #[test]
    fn saved_states_merge_to_the_whole() {
        // 4400 distinct values of x: the whole is a sketch, a part may be
        // exact (a column of 0.25 is exact in all).
        let reps: Vec<Vec<f64>> = (0..5000)
            .map(|i| {
                let x = f64::from(i % 4400) * 0.1 - 3.0;
                let len = if i % 7 == 0 { 2 } else { 6 };
                [x, x * x, -x, 0.25, 1e-300 * x, x / 3.0][..len].to_vec()
            })
            .collect();
        let mut whole = tables();
        reps.iter().for_each(|r| whole.add(r));
        assert!(!whole.cells[0].1.is_exact() && whole.cells[3].1.is_exact());
        let mut expected = String::new();
        whole.push_summary(&mut expected, 4);
        for cut in [0, 1, 2000, 4095, 4096, 4097, 4999, 5000] {
            let mut file = tables().state_header();
            for part in [&reps[cut..], &reps[..cut]] {
                let mut t = tables();
                part.iter().for_each(|r| t.add(r));
                t.write_state(&mut file, 4).expect("writing to a Vec");
            }
            let mut merged = tables();
            let mut reader = StateReader::new(&file[..], &merged).expect("header");
            while let Some(point) = reader.next_point().expect("record") {
                assert_eq!(point, 4);
                reader.read_record(Some(&mut merged)).expect("record");
            }
            assert_eq!(reader.offset(), file.len() as u64);
            let mut got = String::new();
            merged.push_summary(&mut got, 4);
            assert_eq!(got, expected, "cut at {cut}");
            // A truncated record is an error, not a short record.
            let mut reader = StateReader::new(&file[..file.len() - 3], &merged).expect("header");
            reader.next_point().expect("point");
            reader.read_record(None).expect("the first record is whole");
            reader.next_point().expect("point");
            let e = reader.read_record(None).expect_err("cut");
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        }
        let other = TimeseriesTables::new(false, vec!["a".into()], 0.5, 1.0, None, TimeUnit::Days);
        assert!(StateReader::new(&tables().state_header()[..], &other).is_err());
    }

    /// Malformed quantile states are refused with a message, before any
    /// allocation their claimed sizes would need.
    #[test]
    fn malformed_quantile_states_are_refused() {
        let one_cell =
            || TimeseriesTables::new(false, vec!["a".into()], 1.0, 0.0, None, TimeUnit::Days);
        let refused = |quantiles: &[u8]| {
            let mut file = one_cell().state_header();
            file.extend_from_slice(&0u64.to_le_bytes()); // point
            file.extend_from_slice(&0u64.to_le_bytes()); // sum: count,
            file.extend_from_slice(&[0, 0, 0]); // flags, no limbs
            file.extend_from_slice(&0u64.to_le_bytes()); // NaN count
            file.extend_from_slice(quantiles);
            let mut reader = StateReader::new(&file[..], &one_cell()).expect("header");
            reader.next_point().expect("point");
            let e = reader.read_record(None).expect_err("malformed");
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            e.to_string()
        };
        let exact = |pairs: &[(f64, u64)], claimed: u32| {
            let mut b = vec![0];
            b.extend_from_slice(&claimed.to_le_bytes());
            for (x, n) in pairs {
                b.extend_from_slice(&x.to_bits().to_le_bytes());
                b.extend_from_slice(&n.to_le_bytes());
            }
            b
        };
        assert!(refused(&exact(&[], u32::MAX)).contains("more than 4096"));
        assert!(refused(&exact(&[(2.0, 1), (1.0, 1)], 2)).contains("strictly increasing"));
        assert!(refused(&exact(&[(1.0, 0)], 1)).contains("count 0"));
        let sketch = |index: u32| {
            let mut b = vec![1];
            b.extend_from_slice(&[0; 24]); // -inf, zero, +inf
            b.extend_from_slice(&1u32.to_le_bytes());
            b.extend_from_slice(&index.to_le_bytes());
            b.extend_from_slice(&5000u64.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b
        };
        assert!(refused(&sketch(Quantiles::MAX_BUCKET + 1)).contains("out of range"));
        assert!(refused(&[2]).contains("bad quantile mode 2"));
        // The well-formed sketch is accepted.
        let mut file = one_cell().state_header();
        file.extend_from_slice(&[0; 19]);
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&sketch(Quantiles::MAX_BUCKET));
        let mut reader = StateReader::new(&file[..], &one_cell()).expect("header");
        reader.next_point().expect("point");
        reader.read_record(None).expect("a valid sketch");
    }

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
