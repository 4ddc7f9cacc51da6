//! Running many replications, in memory: the library's front door
//! ([`Simulation`], whose results are a [`Table`] of typed columns), and the
//! parallel machinery under it ([`harness`]; [`in_blocks`] for analyses that
//! fold their own per-block results). Nothing here touches a file: the
//! commands that write (`sweep`, `analysis`) are writers on top of it.
//!
//! ```
//! use flashpoint::runner::Simulation;
//! use std::sync::Arc;
//!
//! let text = r#"
//! [scenario]
//! name = "tiny"
//! horizon = 10
//! [[actor]]
//! id = "A"
//! [[event]]
//! id = "ping"
//! [[hazard]]
//! name = "pings"
//! event = "ping"
//! rate = 2.0
//! "#;
//! let scenario = flashpoint::scenario::parse("tiny.toml", text).unwrap();
//! let sim = Simulation::new(Arc::new(scenario));
//! let point = sim.point(&[]).unwrap();
//! let table = sim.run(&point, 1000, 42, 2, &mut |_, _| {}).unwrap();
//! let pings = table.column("count_ping").unwrap();
//! assert_eq!(pings.values().len(), 1000);
//! // A Poisson process of rate 2 over 10 time units: mean 20, sd sqrt(20).
//! let mean = pings.values().iter().sum::<f64>() / 1000.0;
//! assert!((mean - 20.0).abs() < 4.0 * (20.0f64 / 1000.0).sqrt());
//! assert_eq!(table.column("terminal").unwrap().label(0), Some("horizon"));
//! ```

pub mod design;
pub mod harness;
pub mod mixture;

use crate::engine::{columns, Column, ColumnKind, RunOptions};
use crate::error::{Error, ParamError, Result};
use crate::scenario::Scenario;
use harness::{execute, Plan};
use std::ops::Range;
use std::sync::Arc;

pub use harness::BLOCK;

/// A scenario ready to run: replications of a parameter point, in
/// parallel, deterministic in (seed, replication) whatever the threads.
#[derive(Debug, Clone)]
pub struct Simulation {
    scenario: Arc<Scenario>,
    columns: Vec<Column>,
}

impl Simulation {
    /// A simulation of `scenario`.
    pub fn new(scenario: Arc<Scenario>) -> Simulation {
        let columns = columns(&scenario);
        Simulation { scenario, columns }
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The columns every replication produces, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The full parameter vector of a point: the scenario's defaults with
    /// `overrides` (each name declared, each value within its bounds).
    pub fn point(&self, overrides: &[(String, f64)]) -> std::result::Result<Vec<f64>, ParamError> {
        self.scenario.param_values(overrides)
    }

    /// Runs replications `0..reps` of `point` (a full parameter vector,
    /// from [`Simulation::point`]) with master seed `seed` on `threads`
    /// threads, calling `progress(done, reps)` as blocks finish, and returns
    /// one row per replication.
    pub fn run(
        &self,
        point: &[f64],
        reps: u64,
        seed: u64,
        threads: usize,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Table> {
        let table = self.run_while(point, reps, seed, threads, &mut |done, reps| {
            progress(done, reps);
            true
        })?;
        Ok(table.expect("a run whose progress never stops it finishes"))
    }

    /// [`Simulation::run`] that can be stopped: `progress(done, reps)` is
    /// called as blocks finish, in order, and returning `false` stops the
    /// run (no further block is started; those in flight are dropped).
    /// `Ok(None)` says it was stopped. A program that embeds the library
    /// stops a long run this way on Ctrl-C, say.
    ///
    /// ```
    /// use flashpoint::runner::Simulation;
    /// use std::sync::Arc;
    ///
    /// let text = "[scenario]\nname = \"t\"\nhorizon = 1\n[[actor]]\nid = \"A\"\n";
    /// let sim = Simulation::new(Arc::new(flashpoint::scenario::parse("t.toml", text).unwrap()));
    /// let point = sim.point(&[]).unwrap();
    /// let mut calls = 0;
    /// let stopped = sim.run_while(&point, 100_000, 1, 2, &mut |_, _| {
    ///     calls += 1;
    ///     false
    /// });
    /// assert_eq!(stopped.unwrap(), None);
    /// assert_eq!(calls, 1);
    /// ```
    pub fn run_while(
        &self,
        point: &[f64],
        reps: u64,
        seed: u64,
        threads: usize,
        progress: &mut (dyn FnMut(u64, u64) -> bool + Send),
    ) -> Result<Option<Table>> {
        self.run_points_while(&[point.to_vec()], reps, seed, false, threads, progress)
    }

    /// Replications `0..reps` of each of `points` (full parameter vectors),
    /// as a sweep runs them: one table of `points.len() × reps` rows, point
    /// after point (row `p · reps + r` is replication `r` of point `p`),
    /// the point's index mixed into each replication's key with
    /// `independent_streams` (common random numbers across points without).
    /// `progress(done, total)` is called as blocks finish and stops the run
    /// by returning `false` (`Ok(None)`), as in [`Simulation::run_while`].
    pub fn run_points_while(
        &self,
        points: &[Vec<f64>],
        reps: u64,
        seed: u64,
        independent_streams: bool,
        threads: usize,
        progress: &mut (dyn FnMut(u64, u64) -> bool + Send),
    ) -> Result<Option<Table>> {
        if let Some(point) = points
            .iter()
            .find(|p| p.len() != self.scenario.params.len())
        {
            return Err(Error::invalid(
                "point",
                format!(
                    "a point gives {} values; `{}` declares {} parameter(s)",
                    point.len(),
                    self.scenario.name,
                    self.scenario.params.len()
                ),
            ));
        }
        let total = (points.len() as u64).checked_mul(reps);
        let rows = total
            .and_then(|t| usize::try_from(t).ok())
            .filter(|r| r.checked_mul(self.columns.len().max(1)).is_some())
            .ok_or_else(|| {
                Error::invalid(
                    "reps",
                    format!(
                        "{} points × {reps} replications do not fit in memory; stream them with `sweep`",
                        points.len()
                    ),
                )
            })?;
        let total = rows as u64;
        let plan = self.plan(points.to_vec(), reps, seed, independent_streams, 0..total);
        let mut values = Vec::with_capacity(rows * self.columns.len());
        let mut done = 0;
        let run = execute(&plan, threads, |block| {
            values.extend_from_slice(&block.values);
            done += (block.values.len() / self.columns.len().max(1)) as u64;
            if progress(done, total) {
                Ok(())
            } else {
                Err(Stopped)
            }
        })?;
        Ok(match run {
            Ok(()) => Some(Table::from_rows(self.columns.clone(), rows, &values)),
            Err(Stopped) => None,
        })
    }

    /// The plan of replications `range` of the flattened (point, rep) space
    /// of `points` × `reps`, for [`harness::execute`].
    pub fn plan(
        &self,
        points: Vec<Vec<f64>>,
        reps: u64,
        seed: u64,
        independent_streams: bool,
        range: Range<u64>,
    ) -> Plan<'_> {
        Plan {
            scenario: &self.scenario,
            points,
            reps,
            seed,
            independent_streams,
            range,
            options: RunOptions::default(),
            grid: None,
            mixture: None,
        }
    }
}

/// A run stopped by its progress callback ([`Simulation::run_while`]).
struct Stopped;

/// Replications' results in memory: one typed column per output of the
/// scenario, one row per replication (in replication order).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    columns: Vec<Column>,
    rows: usize,
    /// Column-major: column `c` is `values[c·rows..(c+1)·rows]`.
    values: Vec<f64>,
}

impl Table {
    /// A table from row-major values (`rows × columns.len()`).
    pub fn from_rows(columns: Vec<Column>, rows: usize, row_major: &[f64]) -> Table {
        let n = columns.len();
        assert_eq!(row_major.len(), rows * n, "rows × columns values");
        let mut values = vec![0.0; rows * n];
        for (r, row) in row_major.chunks_exact(n.max(1)).enumerate() {
            for (c, v) in row.iter().enumerate() {
                values[c * rows + r] = *v;
            }
        }
        Table {
            columns,
            rows,
            values,
        }
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of rows (replications).
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<TableColumn<'_>> {
        let c = self.columns.iter().position(|c| c.name == name)?;
        Some(TableColumn {
            column: &self.columns[c],
            values: &self.values[c * self.rows..(c + 1) * self.rows],
        })
    }

    /// Row `r` as one value per column (a categorical column's value is its
    /// label's index).
    pub fn row(&self, r: usize) -> Vec<f64> {
        (0..self.columns.len())
            .map(|c| self.values[c * self.rows + r])
            .collect()
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct TableColumn<'a> {
    column: &'a Column,
    values: &'a [f64],
}

impl<'a> TableColumn<'a> {
    /// The column's name.
    pub fn name(&self) -> &'a str {
        &self.column.name
    }

    /// Its kind: numeric, or categorical with its labels.
    pub fn kind(&self) -> &'a ColumnKind {
        &self.column.kind
    }

    /// One value per row; for a categorical column, the label's index.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// The label of row `r` of a categorical column (`None` for a numeric
    /// one, or past the last row).
    pub fn label(&self, r: usize) -> Option<&'a str> {
        match &self.column.kind {
            ColumnKind::Numeric => None,
            ColumnKind::Categorical(labels) => labels
                .get(*self.values.get(r)? as usize)
                .map(String::as_str),
        }
    }
}

/// Runs `work` on the blocks `[0, BLOCK)`, `[BLOCK, 2·BLOCK)`, … of `0..n` on
/// `threads` threads and hands each result to `fold` in block order, with
/// memory bounded by a fixed number of blocks in flight
/// ([`harness::in_order`]). The first error in block order is returned,
/// whichever thread met it first.
pub fn in_blocks<T, E>(
    n: u64,
    threads: usize,
    work: impl Fn(Range<u64>) -> std::result::Result<T, E> + Sync,
    mut fold: impl FnMut(T) + Send,
) -> std::result::Result<(), E>
where
    T: Send,
    E: Send,
{
    in_blocks_while(n, threads, work, |t| {
        fold(t);
        true
    })
    .map(drop)
}

/// [`in_blocks`], stopped early when `fold` returns false: `Ok(false)` then,
/// `Ok(true)` when every block was folded. No block is computed after the
/// one whose fold said stop has been handed over, beyond those already in
/// flight.
pub fn in_blocks_while<T, E>(
    n: u64,
    threads: usize,
    work: impl Fn(Range<u64>) -> std::result::Result<T, E> + Sync,
    mut fold: impl FnMut(T) -> bool + Send,
) -> std::result::Result<bool, E>
where
    T: Send,
    E: Send,
{
    /// The sink's way of saying "stop here".
    struct Stopped;
    let folded = harness::in_order(
        n.div_ceil(BLOCK) as usize,
        threads,
        |b| {
            let b = b as u64;
            work(b * BLOCK..((b + 1) * BLOCK).min(n))
        },
        |t| if fold(t) { Ok(()) } else { Err(Stopped) },
    )?;
    Ok(folded.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_fold_in_order_whatever_the_threads() {
        let run = |threads| {
            let mut seen = Vec::new();
            in_blocks::<_, ()>(3 * BLOCK + 5, threads, |r| Ok(r.start), |s| seen.push(s)).unwrap();
            seen
        };
        assert_eq!(run(1), vec![0, BLOCK, 2 * BLOCK, 3 * BLOCK]);
        assert_eq!(run(3), run(1));
    }

    #[test]
    fn a_fold_that_says_stop_ends_the_run_there() {
        for threads in [1, 2] {
            let mut seen = Vec::new();
            let finished = in_blocks_while::<_, ()>(
                10 * BLOCK,
                threads,
                |r| Ok(r.start),
                |s| {
                    seen.push(s);
                    seen.len() < 3
                },
            )
            .unwrap();
            assert!(!finished);
            assert_eq!(seen, vec![0, BLOCK, 2 * BLOCK]);
        }
        let all = in_blocks_while::<_, ()>(2 * BLOCK, 2, |r| Ok(r.start), |_| true);
        assert_eq!(all, Ok(true));
    }

    fn tiny() -> Simulation {
        let text = "[scenario]\nname = \"t\"\nhorizon = 10\n[[actor]]\nid = \"A\"\n\
                    [[event]]\nid = \"ping\"\n[[hazard]]\nname = \"p\"\nevent = \"ping\"\nrate = 2.0\n";
        Simulation::new(Arc::new(crate::scenario::parse("t.toml", text).unwrap()))
    }

    #[test]
    fn a_run_stops_when_its_progress_says_so_and_not_otherwise() {
        let sim = tiny();
        let point = sim.point(&[]).unwrap();
        let mut seen = Vec::new();
        let stopped = sim
            .run_while(&point, 10 * BLOCK, 3, 2, &mut |done, reps| {
                seen.push((done, reps));
                done < 2 * BLOCK
            })
            .unwrap();
        assert_eq!(stopped, None);
        assert_eq!(seen, vec![(BLOCK, 10 * BLOCK), (2 * BLOCK, 10 * BLOCK)]);
        let all = sim
            .run_while(&point, 3 * BLOCK + 1, 3, 2, &mut |_, _| true)
            .unwrap()
            .unwrap();
        assert_eq!(
            all,
            sim.run(&point, 3 * BLOCK + 1, 3, 1, &mut |_, _| {})
                .unwrap()
        );
    }

    #[test]
    fn points_run_point_after_point_as_single_runs_do() {
        let sim = tiny();
        let (p, q) = (sim.point(&[]).unwrap(), sim.point(&[]).unwrap());
        let both = sim
            .run_points_while(&[p.clone(), q], 300, 5, false, 2, &mut |_, _| true)
            .unwrap()
            .unwrap();
        let one = sim.run(&p, 300, 5, 1, &mut |_, _| {}).unwrap();
        assert_eq!(both.n_rows(), 600);
        let ends = both.column("n_events").unwrap().values();
        assert_eq!(&ends[..300], one.column("n_events").unwrap().values());
        // Common random numbers: the same replications at equal points.
        assert_eq!(&ends[300..], &ends[..300]);
        let independent = sim
            .run_points_while(&[p.clone(), p], 300, 5, true, 2, &mut |_, _| true)
            .unwrap()
            .unwrap();
        let ends = independent.column("n_events").unwrap().values();
        assert_ne!(&ends[300..], &ends[..300]);
    }

    #[test]
    fn a_point_of_the_wrong_length_is_refused_with_both_lengths() {
        let text = "[scenario]\nname = \"p\"\nhorizon = 1\n[params]\nx = { value = 1.0 }\n[[actor]]\nid = \"A\"\n";
        let sim = Simulation::new(Arc::new(crate::scenario::parse("p.toml", text).unwrap()));
        let e = sim.run(&[1.0, 2.0], 10, 1, 1, &mut |_, _| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a point gives 2 values; `p` declares 1 parameter(s)"
        );
        assert_eq!(
            sim.run(&[1.0], 3, 1, 1, &mut |_, _| {}).unwrap().n_rows(),
            3
        );
    }

    #[test]
    fn a_table_transposes_rows_into_columns() {
        let cols = vec![
            Column {
                name: "x".into(),
                kind: ColumnKind::Numeric,
                range: crate::expr::Interval::ENTIRE,
            },
            Column {
                name: "k".into(),
                kind: ColumnKind::Categorical(vec!["a".into(), "b".into()]),
                range: crate::expr::Interval::ENTIRE,
            },
        ];
        let t = Table::from_rows(cols, 3, &[1.0, 1.0, 2.0, 0.0, 3.0, 1.0]);
        assert_eq!(t.column("x").unwrap().values(), &[1.0, 2.0, 3.0]);
        let k = t.column("k").unwrap();
        assert_eq!(
            (k.label(0), k.label(1), k.label(2), k.label(3)),
            (Some("b"), Some("a"), Some("b"), None)
        );
        assert_eq!(t.row(1), vec![2.0, 0.0]);
        assert!(t.column("y").is_none());
    }
}
