//! Time series on a regular grid: every tension and every numeric actor state
//! variable at t = 0, dt, 2·dt, … ≤ horizon, read from the exact state (tension
//! through [`super::tension::decay`]), never by stepping a clock.
//!
//! # What a grid value means
//!
//! The value at grid time `g` is the state after every event at a time `≤ g`
//! (right-continuous, like a step function sampled from the right). The
//! engine records, before it handles an event at time `t`, every grid point
//! `< t` it has not recorded yet, and at the end of the replication every
//! point `≤` the end time. A replication ended by a terminal event at time `T`
//! therefore has values only for grid points `≤ T`: its series stop there.
//!
//! Sampling is opt-in ([`super::Engine::run_sampled`]); [`super::Engine::run`]
//! pays one `None` check per event for it.

use crate::expr::Type;
use crate::scenario::Scenario;

/// The largest number of grid points per replication.
pub const MAX_GRID_POINTS: usize = 1_000_000;

/// The names of the sampled series, in the order of a grid row: the tension
/// of each dyad (`tension_<A>_<B>`, declaration order), then each numeric
/// state variable of each actor that declares it (`<actor>.<var>`, actors in
/// declaration order, variables in order of first declaration). Boolean
/// variables are not sampled.
pub fn series(s: &Scenario) -> Vec<String> {
    let mut names: Vec<String> = s
        .dyads
        .iter()
        .map(|d| format!("tension_{}", d.label))
        .collect();
    for (a, v) in state_slots(s) {
        names.push(format!("{}.{}", s.actors[a].id, s.scope.vars[v].name));
    }
    names
}

/// (actor, variable) of every sampled state variable, in series order.
fn state_slots(s: &Scenario) -> Vec<(usize, usize)> {
    let n_vars = s.scope.vars.len();
    let mut slots = Vec::new();
    for a in 0..s.actors.len() {
        for (v, decl) in s.scope.vars.iter().enumerate() {
            if decl.ty == Type::Num && s.scope.declared[a * n_vars + v] {
                slots.push((a, v));
            }
        }
    }
    slots
}

/// Number of grid points `k · dt ≤ horizon`, `k = 0, 1, …`.
pub fn n_points(dt: f64, horizon: f64) -> usize {
    if !(dt > 0.0 && dt.is_finite() && horizon >= 0.0) {
        return 0;
    }
    let mut n = (horizon / dt).floor().min(MAX_GRID_POINTS as f64) as usize + 1;
    while n > 0 && time(n - 1, dt) > horizon {
        n -= 1;
    }
    while n < MAX_GRID_POINTS && time(n, dt) <= horizon {
        n += 1;
    }
    n
}

/// Grid time `k · dt` (a product, never an accumulated sum).
#[inline]
pub fn time(k: usize, dt: f64) -> f64 {
    k as f64 * dt
}

/// A grid sampler and its buffer for one replication at a time.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub(super) dt: f64,
    pub(super) n_points: usize,
    /// Next grid index to record.
    pub(super) next: usize,
    pub(super) n_dyads: usize,
    /// `state` slot (`actor · n_vars + var`) of each sampled variable.
    pub(super) slots: Vec<usize>,
    values: Vec<f64>,
}

impl Grid {
    /// A sampler for `scenario` with spacing `dt` (positive, finite).
    pub fn new(s: &Scenario, dt: f64) -> Grid {
        let n_vars = s.scope.vars.len();
        Grid {
            dt,
            n_points: n_points(dt, s.horizon),
            next: 0,
            n_dyads: s.dyads.len(),
            slots: state_slots(s)
                .into_iter()
                .map(|(a, v)| a * n_vars + v)
                .collect(),
            values: Vec::new(),
        }
    }

    /// Values per grid row (the length of [`series`]).
    pub fn n_series(&self) -> usize {
        self.n_dyads + self.slots.len()
    }

    /// Grid points up to the horizon.
    pub fn n_points(&self) -> usize {
        self.n_points
    }

    /// The spacing.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Rows recorded in the last replication (grid points `0..rows()`).
    pub fn rows(&self) -> usize {
        self.next
    }

    /// The last replication's values: `rows() × n_series()`, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub(super) fn clear(&mut self) {
        self.next = 0;
        self.values.clear();
    }
}

impl super::Engine<'_> {
    /// [`super::Engine::run`], also sampling the state on `grid`'s time grid
    /// (see the module docs of `engine::grid` for what a grid value means). `grid` is
    /// cleared first; afterwards it holds this replication's rows.
    pub fn run_sampled(
        &mut self,
        params: &[f64],
        key: &[u8; 32],
        options: super::RunOptions,
        out: &mut [f64],
        trace: Option<&mut Vec<super::TraceEvent>>,
        grid: &mut Grid,
    ) -> Result<(), super::SimError> {
        grid.clear();
        self.grid = Some(std::mem::take(grid));
        let result = self.run(params, key, options, out, trace);
        *grid = self
            .grid
            .take()
            .expect("the sampler stays in place during a run");
        result
    }

    /// Records the grid points before `t` (and at `t` when `inclusive`) that
    /// are not recorded yet, from the current state.
    pub(super) fn sample_grid(&mut self, t: f64, inclusive: bool) {
        let Some(mut grid) = self.grid.take() else {
            return;
        };
        while grid.next < grid.n_points {
            let g = time(grid.next, grid.dt);
            if g > t || (g == t && !inclusive) {
                break;
            }
            for d in 0..grid.n_dyads {
                grid.values.push(self.tension_at(d, g));
            }
            for i in 0..grid.slots.len() {
                let slot = grid.slots[i];
                grid.values.push(self.state[slot]);
            }
            grid.next += 1;
        }
        self.grid = Some(grid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_end_at_the_horizon() {
        assert_eq!(n_points(1.0, 60.0), 61);
        assert_eq!(n_points(7.0, 60.0), 9);
        assert_eq!(n_points(0.1, 0.3), 3); // 3 · 0.1 = 0.30000000000000004 > 0.3
        assert_eq!(n_points(100.0, 60.0), 1);
        assert_eq!(n_points(0.0, 60.0), 0);
    }
}
