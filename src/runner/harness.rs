//! The parallel harness: replications computed in parallel blocks, delivered
//! to a sink in (point, replication) order, with memory bounded by a fixed
//! number of blocks in flight.
//!
//! The (point, rep) space is flattened point-major: index = point · reps + rep.
//! Threads claim blocks in order, compute them, and hand them to the sink in
//! order, a bounded number ahead of it (see [`execute`]). Nothing a thread does, or the order in which
//! threads finish, can reach a number: each replication's key depends only on
//! (seed, rep) — and the point, with independent streams.

use super::mixture::Mixture;
use crate::engine::grid::Grid;
use crate::engine::{Engine, RunOptions};
use crate::error::RepError;
use crate::rng::replication_key;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

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
    /// `run --posterior`: replication `rep` runs at the particle
    /// [`Mixture::pick`] draws for it instead of at its point.
    pub mixture: Option<&'a Mixture>,
}

impl Plan<'_> {
    /// The key of replication `rep` at `point`.
    pub fn key(&self, point: u64, rep: u64) -> [u8; 32] {
        replication_key(self.seed, rep, self.independent_streams.then_some(point))
    }

    /// The parameter vector of replication `rep` at `point`.
    pub fn params(&self, point: u64, rep: u64) -> &[f64] {
        match self.mixture {
            Some(m) => m.params(self.seed, rep),
            None => &self.points[point as usize],
        }
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

/// Runs `plan` on `threads` threads, handing blocks to `sink` in order. The
/// sink's error (an I/O failure, say) stops the run; so does a failed
/// replication, reported as the first failure in (point, rep) order.
/// Memory is bounded whatever the number of replications (see [`in_order`]).
pub fn execute<E: Send>(
    plan: &Plan<'_>,
    threads: usize,
    mut sink: impl FnMut(&Block) -> Result<(), E> + Send,
) -> Result<Result<(), E>, RepError> {
    let n_cols = crate::engine::columns(plan.scenario).len();
    let blocks = Blocks::new(plan.range.clone());
    // One engine per thread, reused block after block: its tables (the
    // compiled expressions among them) are built once per thread, and
    // `Engine::start` resets every part of the state a replication reads.
    in_order_with(
        blocks.len(),
        threads,
        || Engine::new(plan.scenario),
        |engine, i| run_block(engine, plan, blocks.get(i), n_cols),
        |block| sink(&block),
    )
}

/// The blocks of a range, made one at a time when asked for (a list of them
/// would grow with the number of replications): boundaries at multiples of
/// [`BLOCK`], so that shards share them.
struct Blocks {
    range: Range<u64>,
    /// Index of the block that holds `range.start`, counted from 0.
    first: u64,
    len: usize,
}

impl Blocks {
    fn new(range: Range<u64>) -> Blocks {
        let first = range.start / BLOCK;
        let len = if range.is_empty() {
            0
        } else {
            // At most 2^64 / 256 blocks: they fit a 64-bit usize.
            usize::try_from((range.end - 1) / BLOCK - first + 1).unwrap_or(usize::MAX)
        };
        Blocks { range, first, len }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The `i`-th block (`i < len`).
    fn get(&self, i: usize) -> Range<u64> {
        let k = self.first + i as u64;
        let start = (k * BLOCK).max(self.range.start);
        let end = k
            .saturating_add(1)
            .saturating_mul(BLOCK)
            .min(self.range.end);
        start..end
    }
}

/// Results each thread may have in flight (being computed, or done and
/// waiting for their turn at the sink).
pub const IN_FLIGHT_PER_THREAD: usize = 16;

/// Computes `work(0)`, …, `work(n - 1)` on `threads` threads and hands the
/// results to `sink` in index order. The first error in index order stops
/// the run: `Err` for `work`'s, `Ok(Err)` for the sink's.
///
/// Every thread claims the next index, computes it, files the result, and
/// then, unless another thread is feeding the sink, feeds it every result
/// that is next in order. There is no barrier between batches: a thread
/// waits only when it is [`IN_FLIGHT_PER_THREAD`] × `threads` results ahead
/// of the sink, which also bounds memory whatever `n` is. Which thread
/// computes what, and in which order threads finish, changes nothing the
/// sink sees.
pub fn in_order<T: Send, F: Send, E: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<T, F> + Sync,
    sink: impl FnMut(T) -> Result<(), E> + Send,
) -> Result<Result<(), E>, F> {
    in_order_with(n, threads, || (), |(), i| work(i), sink)
}

/// [`in_order`] with state that each thread makes once, by `init`, and
/// hands to every `work` call it makes (reusable buffers, say): the state
/// must not change what `work` computes, only how fast.
pub fn in_order_with<W, T: Send, F: Send, E: Send>(
    n: usize,
    threads: usize,
    init: impl Fn() -> W + Sync,
    work: impl Fn(&mut W, usize) -> Result<T, F> + Sync,
    sink: impl FnMut(T) -> Result<(), E> + Send,
) -> Result<Result<(), E>, F> {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("building a thread pool only fails if the OS refuses threads");
    let order = InOrder {
        claimed: AtomicUsize::new(0),
        window: IN_FLIGHT_PER_THREAD * threads,
        filed: Mutex::new(Filed {
            ready: BTreeMap::new(),
            sunk: 0,
            end: None,
        }),
        progressed: Condvar::new(),
        sink: Mutex::new(sink),
    };
    pool.broadcast(|_| {
        let mut state = None;
        loop {
            let i = order.claimed.fetch_add(1, Ordering::Relaxed);
            if i >= n || !order.wait_for_room(i) {
                return;
            }
            let result = work(state.get_or_insert_with(&init), i);
            lock(&order.filed).ready.insert(i, result);
            order.feed_sink();
        }
    });
    let end = lock(&order.filed).end.take();
    match end {
        None => Ok(Ok(())),
        Some(End::Failed(e)) => Err(e),
        Some(End::SinkFailed(e)) => Ok(Err(e)),
    }
}

/// Why a run stopped early.
enum End<F, E> {
    Failed(F),
    SinkFailed(E),
}

/// Finished results waiting for their turn, and how far the sink got.
struct Filed<T, F, E> {
    ready: BTreeMap<usize, Result<T, F>>,
    /// Results taken by the sink (all of `0..sunk`, in order).
    sunk: usize,
    /// Set when the run stops early; threads then stop claiming work.
    end: Option<End<F, E>>,
}

/// The hand-over from the threads doing the work to the sink.
struct InOrder<S, T, F, E> {
    /// Indices claimed so far (the next one to claim).
    claimed: AtomicUsize,
    /// Results allowed ahead of the sink.
    window: usize,
    filed: Mutex<Filed<T, F, E>>,
    /// Signalled when the sink takes a result or the run stops.
    progressed: Condvar,
    sink: Mutex<S>,
}

/// Locks `m`; a poisoned lock means another thread panicked, and
/// `broadcast` re-raises that panic, so the data is not looked at again.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: FnMut(T) -> Result<(), E>, T, F, E> InOrder<S, T, F, E> {
    /// Waits until index `i` is within the window ahead of the sink; false
    /// if the run stopped.
    fn wait_for_room(&self, i: usize) -> bool {
        let mut filed = lock(&self.filed);
        while filed.end.is_none() && i >= filed.sunk + self.window {
            filed = self
                .progressed
                .wait(filed)
                .unwrap_or_else(PoisonError::into_inner);
        }
        filed.end.is_none()
    }

    /// Feeds the sink every result that is next in order, unless another
    /// thread is doing so. Whoever lets go of the sink looks again for a
    /// next result after letting go, so one filed while the sink was busy
    /// is never left waiting.
    fn feed_sink(&self) {
        loop {
            let Ok(mut sink) = self.sink.try_lock() else {
                return;
            };
            loop {
                let next = {
                    let mut filed = lock(&self.filed);
                    let sunk = filed.sunk;
                    match filed.end {
                        Some(_) => None,
                        None => filed.ready.remove(&sunk),
                    }
                };
                let Some(result) = next else { break };
                let end = match result.map(|t| (*sink)(t)) {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(End::SinkFailed(e)),
                    Err(f) => Some(End::Failed(f)),
                };
                let mut filed = lock(&self.filed);
                match end {
                    None => filed.sunk += 1,
                    Some(end) => filed.end = Some(end),
                }
                self.progressed.notify_all();
            }
            drop(sink);
            let filed = lock(&self.filed);
            if filed.end.is_some() || !filed.ready.contains_key(&filed.sunk) {
                return;
            }
        }
    }
}

fn run_block<'s>(
    engine: &mut Engine<'s>,
    plan: &Plan<'s>,
    range: Range<u64>,
    n_cols: usize,
) -> Result<Block, RepError> {
    let mut values = vec![0.0; (range.end - range.start) as usize * n_cols];
    let mut sampler = plan.grid.map(|dt| Grid::new(plan.scenario, dt));
    let mut grid = Vec::new();
    let mut grid_rows = Vec::new();
    for (i, index) in range.clone().enumerate() {
        let (point, rep) = (index / plan.reps, index % plan.reps);
        let key = plan.key(point, rep);
        let out = &mut values[i * n_cols..(i + 1) * n_cols];
        let params = plan.params(point, rep);
        match &mut sampler {
            None => engine.run(params, &key, plan.options, out, None),
            Some(sampler) => engine
                .run_sampled(params, &key, plan.options, out, None, sampler)
                .map(|()| {
                    grid.extend_from_slice(sampler.values());
                    grid_rows.push(sampler.rows() as u32);
                }),
        }
        .map_err(|error| RepError::at_point(point, rep, error))?;
    }
    Ok(Block {
        first: range.start,
        values,
        grid,
        grid_rows,
    })
}
