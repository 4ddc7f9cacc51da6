//! The time-series side of a run or sweep: the sink that writes
//! `timeseries.csv`, `timeseries_summary.csv` and, for a shard,
//! `timeseries_state.bin` as blocks of replications arrive; where the files
//! of an interrupted sweep can be continued (`--resume`); and the merge of
//! the shards' time series.
//!
//! # Whole points and cut points
//!
//! A point is *whole* in a run when the run's slice of the (point, rep) space
//! holds all its replications. The summary rows of a whole point are final and
//! go to `timeseries_summary.csv` when the point is done. A shard's boundaries
//! may cut its first and last point; the summary state of a cut point (exact
//! sums and quantile states, a pure function of the multiset of its values)
//! goes to `timeseries_state.bin` instead, and `merge` joins the states of the
//! shards that share the point and writes its rows. An unsharded run has only
//! whole points and writes no state.
//!
//! # Resume
//!
//! The files are appended to as replications arrive and flushed at each
//! point. [`TimeseriesSink::resume`] reads each file on its own, as any
//! prefix of what was written, keeps what it certainly holds whole, cuts off
//! the rest, and returns the earliest replication some file lacks: the sweep
//! simulates again from there, feeding each file only what it lacks (and
//! `runs.csv` only from its own position). The summary state of the point in
//! progress is not saved, so a resumed sweep re-runs the replications
//! already done at the point where it stopped: after a kill, usually that
//! point's, at most those of the point before it too.

use super::{io, Job, TimeseriesOptions};
use crate::error::{Error, Result};
use crate::output::atomic::partial_path;
use crate::output::manifest::Manifest;
use crate::output::timeseries::{self as ts_table, StateReader, TimeseriesTables};
use crate::output::AtomicFile;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// `timeseries.csv`.
pub const DETAIL_FILE: &str = "timeseries.csv";
/// `timeseries_summary.csv`.
pub const SUMMARY_FILE: &str = "timeseries_summary.csv";
/// `timeseries_state.bin`: the summary state of the points a shard cuts.
pub const STATE_FILE: &str = "timeseries_state.bin";

/// The tables of a scenario's grid.
fn tables_for(scenario: &Scenario, point_column: bool, dt: f64) -> TimeseriesTables {
    TimeseriesTables::new(
        point_column,
        crate::engine::grid::series(scenario),
        dt,
        scenario.horizon,
        scenario.start_day,
        scenario.time_unit,
    )
}

/// Whether point `p` has all its `reps` replications in `range`.
fn is_whole(p: u64, reps: u64, range: &Range<u64>) -> bool {
    let start = p.saturating_mul(reps);
    start >= range.start && start.saturating_add(reps) <= range.end
}

/// The time-series files being written, and the current point's summary.
pub(super) struct TimeseriesSink {
    tables: TimeseriesTables,
    detail: AtomicFile,
    summary: AtomicFile,
    /// Shards only.
    state: Option<AtomicFile>,
    reps: u64,
    detail_reps: u64,
    range: Range<u64>,
    /// The point being summarised.
    point: u64,
    /// Whether a replication of `point` has been added.
    filled: bool,
    /// Replications before these are already in the detail file, or in the
    /// summary (rows or state): they are not written again.
    detail_from: u64,
    summary_from: u64,
    text: String,
}

impl TimeseriesSink {
    /// Creates the files of a fresh run.
    pub(super) fn create(job: &Job<'_>, dir: &Path, options: TimeseriesOptions) -> Result<Self> {
        let tables = tables_for(job.scenario, job.sweep, options.dt);
        let range = job.range();
        let state = match job.shard {
            Some(_) => Some(open_fresh(dir, STATE_FILE, &tables.state_header())?),
            None => None,
        };
        Ok(TimeseriesSink {
            detail: open_fresh(
                dir,
                DETAIL_FILE,
                ts_table::detail_header(job.sweep).as_bytes(),
            )?,
            summary: open_fresh(
                dir,
                SUMMARY_FILE,
                ts_table::summary_header(job.sweep).as_bytes(),
            )?,
            state,
            tables,
            reps: job.reps,
            detail_reps: options.reps,
            point: range.start / job.reps,
            filled: false,
            detail_from: range.start,
            summary_from: range.start,
            range,
            text: String::new(),
        })
    }

    /// Reopens the files of an interrupted sweep whose `runs.csv` holds the
    /// replications before `runs_done`. Returns the sink and the replication
    /// from which the sweep must simulate again (at most `runs_done`).
    ///
    /// Each file is read on its own, as any prefix of what the sink wrote
    /// (whatever a kill or a crash left): it is kept up to its last group of
    /// lines (a replication's detail rows, a point's summary rows) that is
    /// certainly whole, and the group after is written again. A group is
    /// certainly whole when another follows it, or when it ends with the
    /// last grid time's last series (a replication that reached the
    /// horizon; a point one of whose replications did). A shard's state file
    /// keeps its first point's record if it is whole.
    pub(super) fn resume(
        job: &Job<'_>,
        dir: &Path,
        options: TimeseriesOptions,
        runs_done: u64,
    ) -> Result<(Self, u64)> {
        let tables = tables_for(job.scenario, job.sweep, options.dt);
        let range = job.range();
        let reps = job.reps;
        let detail_header = ts_table::detail_header(job.sweep);
        let summary_header = ts_table::summary_header(job.sweep);
        let state_header_len = tables.state_header().len() as u64;
        let last_cell = tables.last_cell();
        let detail = scan_detail(
            &dir.join(DETAIL_FILE),
            &detail_header,
            job,
            options.reps,
            &last_cell,
        )?;
        let summary = scan_summary(&dir.join(SUMMARY_FILE), &summary_header, job, &last_cell)?;
        // A shard that cuts its first point at its start writes that point's
        // state when it goes on to the next point; any other state is
        // written at the end.
        let p0 = range.start / reps;
        let first_cut = range.start % reps != 0 && (p0 + 1).saturating_mul(reps) < range.end;
        let (state_len, first) = match job.shard {
            Some(_) => scan_state(&dir.join(STATE_FILE), &tables, p0)?,
            None => (0, false),
        };

        let (detail_len, detail_from) = match detail.last {
            _ if detail.len == 0 => (0, range.start),
            None => (detail.len, range.start),
            Some((index, _, true)) => (detail.len, index + 1),
            Some((index, offset, false)) => (offset, index),
        };
        let (summary_len, summary_from, state_len) = if first_cut && !first {
            // The first point's state is lost: rows after it cannot be kept.
            let header = summary_header.len() as u64;
            (
                summary.len.min(header),
                range.start,
                state_len.min(state_header_len),
            )
        } else {
            let (state_len, base) = if first_cut {
                (state_len, (p0 + 1) * reps)
            } else {
                (state_len.min(state_header_len), range.start)
            };
            match summary.last {
                None => (summary.len, base, state_len),
                Some((q, _, true)) => (summary.len, (q + 1) * reps, state_len),
                Some((q, offset, false)) => (offset, q * reps, state_len),
            }
        };

        let reopen = |name: &str, len: u64, header: &[u8]| -> Result<AtomicFile> {
            if len == 0 {
                open_fresh(dir, name, header)
            } else {
                let path = dir.join(name);
                AtomicFile::append(&path, len).map_err(io(&path))
            }
        };
        let state = match job.shard {
            Some(_) => Some(reopen(STATE_FILE, state_len, &tables.state_header())?),
            None => None,
        };
        let sink = TimeseriesSink {
            detail: reopen(DETAIL_FILE, detail_len, detail_header.as_bytes())?,
            summary: reopen(SUMMARY_FILE, summary_len, summary_header.as_bytes())?,
            state,
            tables,
            reps,
            detail_reps: options.reps,
            point: summary_from / reps,
            filled: false,
            detail_from,
            summary_from,
            range,
            text: String::new(),
        };
        let from = runs_done.min(detail_from).min(summary_from);
        Ok((sink, from))
    }

    /// The number of series per grid row.
    pub(super) fn n_series(&self) -> usize {
        self.tables.n_series()
    }

    /// Adds the grid rows of replication `index` (flattened), in order.
    ///
    /// The files are flushed at each point (the detail rows after the
    /// point's last detailed replication and before its summary, the summary
    /// once written), so that after a kill they end close to where the sweep
    /// stopped and [`TimeseriesSink::resume`] has little to simulate again.
    pub(super) fn add(&mut self, index: u64, values: &[f64]) -> std::io::Result<()> {
        let (point, rep) = (index / self.reps, index % self.reps);
        if index >= self.summary_from {
            if point != self.point {
                self.flush_point()?;
                self.point = point;
            }
            self.tables.add(values);
            self.filled = true;
        }
        if index >= self.detail_from && rep < self.detail_reps {
            self.text.clear();
            self.tables.push_detail(&mut self.text, point, rep, values);
            self.detail.write_all(self.text.as_bytes())?;
            if rep + 1 == self.detail_reps.min(self.reps) {
                self.detail.flush()?;
            }
        }
        Ok(())
    }

    /// Writes the current point's summary: rows if it is whole, its state if
    /// the range cuts it; flushes the detail rows before and the summary
    /// after.
    fn flush_point(&mut self) -> std::io::Result<()> {
        if !self.filled {
            return Ok(());
        }
        self.filled = false;
        self.detail.flush()?;
        if is_whole(self.point, self.reps, &self.range) {
            self.text.clear();
            self.tables.push_summary(&mut self.text, self.point);
            self.summary.write_all(self.text.as_bytes())?;
            return self.summary.flush();
        }
        let state = self.state.as_mut().ok_or_else(|| {
            std::io::Error::other("a point cut by the range, but no state file (not a shard)")
        })?;
        self.tables.write_state(state, self.point)?;
        state.flush()
    }

    /// Writes the last point's summary and renames the files into place.
    pub(super) fn commit(
        mut self,
        dir: &Path,
        outputs: &mut BTreeMap<String, String>,
        written: &mut Vec<PathBuf>,
    ) -> Result<()> {
        self.flush_point().map_err(io(dir))?;
        let files = [
            (DETAIL_FILE, Some(self.detail)),
            (SUMMARY_FILE, Some(self.summary)),
            (STATE_FILE, self.state),
        ];
        for (name, f) in files {
            if let Some(f) = f {
                let path = dir.join(name);
                outputs.insert(name.to_string(), f.commit().map_err(io(&path))?);
                written.push(path);
            }
        }
        Ok(())
    }

    /// Removes the partial files: the result cannot complete.
    pub(super) fn discard(self) {
        self.detail.discard();
        self.summary.discard();
        if let Some(f) = self.state {
            f.discard();
        }
    }
}

/// Creates `<name>.partial` in `dir` holding `header`.
fn open_fresh(dir: &Path, name: &str, header: &[u8]) -> Result<AtomicFile> {
    let path = dir.join(name);
    let mut f = AtomicFile::create(&path).map_err(io(&path))?;
    f.write_all(header).map_err(io(&path))?;
    Ok(f)
}

/// Calls `line` with the byte offset and text (without `\n`) of each complete
/// line after the header of a partial CSV file, until it returns `false`.
/// Returns whether the file has a complete header (if not, it is started
/// again); an error if the header differs. Streams: memory does not grow with
/// the file.
fn scan_lines(path: &Path, header: &str, mut line: impl FnMut(u64, &str) -> bool) -> Result<bool> {
    let partial = partial_path(path);
    let Ok(file) = std::fs::File::open(&partial) else {
        return Ok(false);
    };
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    let mut offset = 0u64;
    loop {
        bytes.clear();
        let n = reader.read_until(b'\n', &mut bytes).map_err(io(&partial))?;
        if n == 0 || bytes.last() != Some(&b'\n') {
            break;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            break;
        };
        if offset == 0 {
            if text != header {
                return Err(Error::Refused(format!(
                    "--resume: {} has a different header",
                    partial.display()
                )));
            }
        } else if !line(offset, text.trim_end_matches('\n')) {
            break;
        }
        offset += n as u64;
    }
    Ok(offset > 0)
}

/// `(point, rep)` of a `timeseries.csv` line of a sweep.
fn detail_key(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split(',');
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// The point of a `timeseries_summary.csv` line of a sweep.
fn summary_point(line: &str) -> Option<u64> {
    line.split(',').next()?.parse().ok()
}

/// What a partial CSV file of an interrupted sweep holds: the length of its
/// complete, valid lines (0 if its header is incomplete: start it again)
/// and its last group of lines (a replication, or a point): its key, the
/// offset of its first line, and whether it is certainly whole (it ends with
/// the last grid time's last series).
#[derive(Default)]
struct CsvScan {
    len: u64,
    last: Option<(u64, u64, bool)>,
}

/// Scans a partial CSV file whose lines come in groups keyed by `key`
/// (increasing from group to group), each line with `skip` key fields before
/// its grid time; stops at the first line whose key is `None` or out of
/// order.
fn scan_groups(
    path: &Path,
    header: &str,
    skip: usize,
    last_cell: &str,
    key: impl Fn(&str) -> Option<u64>,
) -> Result<CsvScan> {
    let mut scan = CsvScan::default();
    let whole_header = scan_lines(path, header, |offset, line| match key(line) {
        Some(k) if scan.last.is_none_or(|(l, _, _)| k >= l) => {
            let offset_of_group = match scan.last {
                Some((l, o, _)) if l == k => o,
                _ => offset,
            };
            let cell = line.splitn(skip + 1, ',').nth(skip).unwrap_or("");
            let whole = !last_cell.is_empty() && cell.starts_with(last_cell);
            scan.last = Some((k, offset_of_group, whole));
            scan.len = offset + line.len() as u64 + 1;
            true
        }
        _ => false,
    })?;
    if !whole_header {
        return Ok(CsvScan::default());
    }
    scan.len = scan.len.max(header.len() as u64);
    Ok(scan)
}

/// The detail file of an interrupted sweep, grouped by replication
/// (flattened index).
fn scan_detail(
    path: &Path,
    header: &str,
    job: &Job<'_>,
    detail_reps: u64,
    last_cell: &str,
) -> Result<CsvScan> {
    let range = job.range();
    scan_groups(path, header, 2, last_cell, |line| {
        let (p, r) = detail_key(line)?;
        if r >= detail_reps || r >= job.reps {
            return None;
        }
        let index = p.checked_mul(job.reps)?.checked_add(r)?;
        range.contains(&index).then_some(index)
    })
}

/// The summary file of an interrupted sweep, grouped by point (whole points
/// of the range only).
fn scan_summary(path: &Path, header: &str, job: &Job<'_>, last_cell: &str) -> Result<CsvScan> {
    let range = job.range();
    scan_groups(path, header, 1, last_cell, |line| {
        summary_point(line)
            .filter(|&p| (p as usize) < job.points.len() && is_whole(p, job.reps, &range))
    })
}

/// The length to keep of a shard's partial state file (0: header
/// incomplete, start it again; the header's; or the end of the first
/// record) and whether it holds the whole record of point `p0`.
fn scan_state(path: &Path, tables: &TimeseriesTables, p0: u64) -> Result<(u64, bool)> {
    let partial = partial_path(path);
    let Ok(file) = std::fs::File::open(&partial) else {
        return Ok((0, false));
    };
    let Ok(mut reader) = StateReader::new(BufReader::new(file), tables) else {
        return Ok((0, false));
    };
    let header = reader.offset();
    let first = match reader.next_point() {
        Ok(Some(p)) if p == p0 => reader.read_record(None).is_ok(),
        _ => false,
    };
    Ok(if first {
        (reader.offset(), true)
    } else {
        (header, false)
    })
}

/// A shard as `merge` sees it: its slice of the flattened (point, rep) space,
/// its directory and manifest.
pub(super) struct Shard<'a> {
    /// First replication (flattened).
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// Its directory.
    pub dir: &'a Path,
    /// Its manifest.
    pub manifest: &'a Manifest,
}

/// Refuses to merge shards some of which have time series and some not.
pub(super) fn check_presence(first: (&Path, &Manifest), other: (&Path, &Manifest)) -> Result<()> {
    let describe = |m: &Manifest| match m.timeseries {
        Some(t) => format!("was run with --timeseries {}", crate::output::fmt_f64(t.dt)),
        None => "was run without --timeseries".to_string(),
    };
    if first.1.timeseries.is_some() != other.1.timeseries.is_some() {
        return Err(Error::Refused(format!(
            "merge: {} {} but {} {}: run every shard with the same --timeseries",
            other.0.display(),
            describe(other.1),
            first.0.display(),
            describe(first.1)
        )));
    }
    Ok(())
}

/// What the merged sweep's time series need to know of it.
pub(super) struct MergeJob<'a> {
    /// The scenario (for the grid and the series).
    pub scenario: &'a Scenario,
    /// The time grid and K.
    pub options: TimeseriesOptions,
    /// Replications per point.
    pub reps: u64,
    /// Points of the design.
    pub n_points: u64,
}

/// `timeseries_summary.csv` of a merge being written: rows of whole points
/// copied, states of cut points merged and turned into rows when the next
/// point begins.
struct SummaryMerge {
    tables: TimeseriesTables,
    /// The cut point whose state is in `tables`.
    pending: Option<u64>,
    text: String,
    file: AtomicFile,
    path: PathBuf,
}

impl SummaryMerge {
    fn flush(&mut self) -> Result<()> {
        if let Some(p) = self.pending.take() {
            self.text.clear();
            self.tables.push_summary(&mut self.text, p);
            self.file
                .write_all(self.text.as_bytes())
                .map_err(io(&self.path))?;
        }
        Ok(())
    }

    /// Merges the next record of `reader`, which must be point `p`'s state.
    fn merge_state<R: std::io::Read>(
        &mut self,
        reader: &mut StateReader<R>,
        path: &Path,
        p: u64,
    ) -> Result<()> {
        let bad = |what: String| Error::Refused(format!("merge: {}: {what}", path.display()));
        match reader.next_point() {
            Ok(Some(q)) if q == p => {}
            Ok(_) => return Err(bad(format!("expected the state of point {p}"))),
            Err(e) => return Err(bad(e.to_string())),
        }
        if self.pending.is_some_and(|q| q != p) {
            self.flush()?;
        }
        reader
            .read_record(Some(&mut self.tables))
            .map_err(|e| bad(e.to_string()))?;
        self.pending = Some(p);
        Ok(())
    }

    /// Copies a row of a whole point.
    fn copy_row(&mut self, line: &str) -> Result<()> {
        self.flush()?;
        self.file.write_all(line.as_bytes()).map_err(io(&self.path))
    }
}

/// Reads the lines after the header of a shard's CSV file, checking the header.
fn for_each_row(path: &Path, header: &str, mut row: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io(path))? == 0 {
            return Ok(());
        }
        if first {
            first = false;
            if line != header {
                return Err(Error::Refused(format!(
                    "merge: {} has a different header",
                    path.display()
                )));
            }
            continue;
        }
        row(&line)?;
    }
}

/// Writes `timeseries.csv` and `timeseries_summary.csv` of the merged sweep
/// into `out` from the shards (in order, covering the sweep exactly once,
/// their files already checked against their manifests). Returns the files,
/// complete but not yet renamed into place, for the caller to commit with
/// the others once everything succeeded.
pub(super) fn merge(
    job: &MergeJob<'_>,
    shards: &[Shard<'_>],
    out: &Path,
) -> Result<Vec<(&'static str, AtomicFile)>> {
    let reps = job.reps;
    let out_of_order = |path: &Path, line: &str, what: &str| {
        Error::Refused(format!(
            "merge: {}: row `{}` {what}",
            path.display(),
            line.trim_end()
        ))
    };
    // timeseries.csv: the shards' rows, in order.
    let detail_header = ts_table::detail_header(true);
    let detail_path = out.join(DETAIL_FILE);
    let mut detail = open_fresh(out, DETAIL_FILE, detail_header.as_bytes())?;
    let mut next = 0u64;
    for shard in shards {
        let path = shard.dir.join(DETAIL_FILE);
        for_each_row(&path, &detail_header, |line| {
            let index = detail_key(line.trim_end_matches('\n')).and_then(|(p, r)| {
                (r < job.options.reps && r < reps && p < job.n_points)
                    .then(|| p * reps + r)
                    .filter(|i| *i >= next && (shard.start..shard.end).contains(i))
            });
            let Some(index) = index else {
                return Err(out_of_order(&path, line, "is out of order"));
            };
            next = index;
            detail.write_all(line.as_bytes()).map_err(io(&detail_path))
        })?;
    }

    // timeseries_summary.csv: the rows of whole points, and rows made from
    // the merged states of cut points.
    let summary_header = ts_table::summary_header(true);
    let mut merged = SummaryMerge {
        tables: tables_for(job.scenario, true, job.options.dt),
        pending: None,
        text: String::new(),
        file: open_fresh(out, SUMMARY_FILE, summary_header.as_bytes())?,
        path: out.join(SUMMARY_FILE),
    };
    for shard in shards {
        if shard.start == shard.end {
            continue;
        }
        let range = shard.start..shard.end;
        let p_first = shard.start / reps;
        let p_last = (shard.end - 1) / reps;
        let cut_first = !is_whole(p_first, reps, &range);
        let cut_last = p_last != p_first && !is_whole(p_last, reps, &range);
        let state_path = shard.dir.join(STATE_FILE);
        let mut states = None;
        if cut_first || cut_last {
            if !shard.manifest.outputs.contains_key(STATE_FILE) {
                return Err(Error::Refused(format!(
                    "merge: {} has no {STATE_FILE}, the time-series summary of the points its boundaries cut (made by an older flashpoint?): run the shard again",
                    shard.dir.display()
                )));
            }
            let file = std::fs::File::open(&state_path).map_err(io(&state_path))?;
            let reader = StateReader::new(BufReader::new(file), &merged.tables)
                .map_err(|e| Error::Refused(format!("merge: {}: {e}", state_path.display())))?;
            states = Some(reader);
        }
        if let (true, Some(reader)) = (cut_first, states.as_mut()) {
            merged.merge_state(reader, &state_path, p_first)?;
        }
        let path = shard.dir.join(SUMMARY_FILE);
        let mut last_point = p_first;
        for_each_row(&path, &summary_header, |line| {
            let point = summary_point(line)
                .filter(|&p| p >= last_point && p < job.n_points && is_whole(p, reps, &range));
            let Some(point) = point else {
                return Err(out_of_order(&path, line, "does not belong to the shard"));
            };
            last_point = point;
            merged.copy_row(line)
        })?;
        if let Some(reader) = states.as_mut() {
            if cut_last {
                merged.merge_state(reader, &state_path, p_last)?;
            }
            if !matches!(reader.next_point(), Ok(None)) {
                return Err(Error::Refused(format!(
                    "merge: {}: holds more than the states of the points the shard cuts",
                    state_path.display()
                )));
            }
        }
    }
    merged.flush()?;
    Ok(vec![(DETAIL_FILE, detail), (SUMMARY_FILE, merged.file)])
}
