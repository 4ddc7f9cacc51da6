//! The parallel harness: replications computed in parallel blocks, delivered
//! to a sink in (point, replication) order, with memory bounded by a fixed
//! number of blocks in flight.
//!
//! The (point, rep) space is flattened point-major: index = point · reps + rep.
//! Work proceeds in waves of blocks: while rayon computes wave k + 1, the sink
//! consumes wave k, in order. Nothing a thread does, or the order in which
//! threads finish, can reach a number: each replication's key depends only on
//! (seed, rep) — and the point, with independent streams.

use crate::engine::grid::Grid;
use crate::engine::{Engine, RunOptions, SimError};
use crate::rng::replication_key;
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::ops::Range;

/// Replications per block: the unit of parallel work.
pub const BLOCK: u64 = 256;

/// What to run.
pub struct Plan<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Full parameter vectors, one per point.
    pub points: Vec<Vec<f64>>,
    /// Replications per point.
    pub reps: u64,
    /// Master seed.
    pub seed: u64,
    /// Mix the point index into each replication's key.
    pub independent_streams: bool,
    /// The slice of the flattened (point, rep) space to run.
    pub range: Range<u64>,
    /// Engine options.
    pub options: RunOptions,
    /// Sample every replication on a time grid with this spacing
    /// ([`Engine::run_sampled`]); the rows come back in [`Block::grid`].
    pub grid: Option<f64>,
}

impl Plan<'_> {
    /// The key of replication `rep` at `point`.
    pub fn key(&self, point: u64, rep: u64) -> [u8; 32] {
        replication_key(self.seed, rep, self.independent_streams.then_some(point))
    }

    /// Total size of the flattened space.
    pub fn total(&self) -> u64 {
        self.points.len() as u64 * self.reps
    }
}

/// A block of finished replications, in order.
pub struct Block {
    /// Flattened index of the first row.
    pub first: u64,
    /// `n_rows × n_columns` values, row-major.
    pub values: Vec<f64>,
    /// With [`Plan::grid`]: each replication's grid rows (`n_series` values
    /// each), replication after replication.
    pub grid: Vec<f64>,
    /// With [`Plan::grid`]: the number of grid rows of each replication
    /// (fewer than the grid's points after a terminal event).
    pub grid_rows: Vec<u32>,
}

/// A replication failed.
#[derive(Debug, Clone, PartialEq)]
pub struct RepError {
    /// Which point.
    pub point: u64,
    /// Which replication.
    pub rep: u64,
    /// What went wrong.
    pub error: SimError,
}

impl std::fmt::Display for RepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "replication {} of point {}: {}",
            self.rep, self.point, self.error
        )
    }
}

impl std::error::Error for RepError {}

/// Runs `plan` on `threads` threads, handing blocks to `sink` in order. The
/// sink's error (an I/O failure, say) stops the run.
pub fn execute<E: Send>(
    plan: &Plan<'_>,
    threads: usize,
    mut sink: impl FnMut(&Block) -> Result<(), E> + Send,
) -> Result<Result<(), E>, RepError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .expect("building a thread pool only fails if the OS refuses threads");
    let n_cols = crate::engine::columns(plan.scenario).len();
    let wave_blocks = (threads.max(1) * 8) as u64;
    let blocks: Vec<Range<u64>> = {
        let mut v = Vec::new();
        let mut start = plan.range.start;
        while start < plan.range.end {
            // Block boundaries at multiples of BLOCK, so shards share them.
            let end = ((start / BLOCK + 1) * BLOCK).min(plan.range.end);
            v.push(start..end);
            start = end;
        }
        v
    };
    pool.install(|| {
        let compute = |wave: &[Range<u64>]| -> Result<Vec<Block>, RepError> {
            // Collected in order first, so the error reported is the first in
            // (point, rep) order, whichever thread met it first.
            let results: Vec<Result<Block, RepError>> = wave
                .par_iter()
                .map(|r| run_block(plan, r.clone(), n_cols))
                .collect();
            results.into_iter().collect()
        };
        let mut waves = blocks.chunks(wave_blocks as usize);
        let mut current = match waves.next() {
            Some(w) => compute(w)?,
            None => return Ok(Ok(())),
        };
        loop {
            let next_wave = waves.next();
            let (next, sunk) = rayon::join(
                || next_wave.map(compute),
                || current.iter().try_for_each(&mut sink),
            );
            if let Err(e) = sunk {
                return Ok(Err(e));
            }
            match next {
                Some(n) => current = n?,
                None => return Ok(Ok(())),
            }
        }
    })
}

fn run_block(plan: &Plan<'_>, range: Range<u64>, n_cols: usize) -> Result<Block, RepError> {
    let mut engine = Engine::new(plan.scenario);
    let mut values = vec![0.0; (range.end - range.start) as usize * n_cols];
    let mut sampler = plan.grid.map(|dt| Grid::new(plan.scenario, dt));
    let mut grid = Vec::new();
    let mut grid_rows = Vec::new();
    for (i, index) in range.clone().enumerate() {
        let (point, rep) = (index / plan.reps, index % plan.reps);
        let key = plan.key(point, rep);
        let out = &mut values[i * n_cols..(i + 1) * n_cols];
        let params = &plan.points[point as usize];
        match &mut sampler {
            None => engine.run(params, &key, plan.options, out, None),
            Some(sampler) => engine
                .run_sampled(params, &key, plan.options, out, None, sampler)
                .map(|()| {
                    grid.extend_from_slice(sampler.values());
                    grid_rows.push(sampler.rows() as u32);
                }),
        }
        .map_err(|error| RepError { point, rep, error })?;
    }
    Ok(Block {
        first: range.start,
        values,
        grid,
        grid_rows,
    })
}
