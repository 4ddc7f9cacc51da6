//! Hazards by thinning: each hazard's candidate process ([`HazardState`]),
//! its rate bound over a window or over its tensions' ranges, the next
//! candidate, and the acceptance test.

use super::view::{View, WindowView};
use super::{Engine, SimError, NONE16};
use crate::expr;

/// Hazard candidates and bound renewals allowed per unit of `event_budget`:
/// thinning rejects most candidates when a bound is loose, but not without limit.
pub(super) const HAZARD_WORK_PER_EVENT: u64 = 100;
/// A hazard is bounded over its tensions' whole ranges when that bound is at
/// most this many times the bound over the current window…
const RANGE_SLACK: f64 = 4.0;
/// … or expects at most this many candidates up to the horizon.
const RANGE_CANDIDATES: f64 = 4.0;

/// A hazard's candidate process: a Poisson process whose rate is the bound
/// `bound`, piecewise constant, obtained by a time change of a unit-rate
/// process. `residual` is what is left of the current unit-exponential gap
/// at time `since`: the next candidate is at `since + residual / bound`.
/// When the bound changes, the residual carries over, so a hazard consumes
/// random numbers only at its own candidates (two per candidate: the
/// acceptance uniform and the next gap), however many other events happen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct HazardState {
    /// Next time something happens to this hazard (`inf`: nothing before the horizon).
    pub(super) time: f64,
    /// Whether `time` is a candidate (else it is the end of the bound's window).
    pub(super) candidate: bool,
    /// Rate bound in force on `[since, window_end]`.
    pub(super) bound: f64,
    /// Remaining unit-exponential mass at `since`.
    pub(super) residual: f64,
    /// When `residual` was last brought up to date.
    pub(super) since: f64,
    /// End of the window over which `bound` holds.
    pub(super) window_end: f64,
    /// Whether `bound` holds for every value the tensions it reads can take
    /// (their declared ranges), so that tension changes leave it valid.
    pub(super) over_range: bool,
}

/// Up to this many hazards, the earliest is found by a scan (cheaper than
/// keeping [`HazardTree`] up to date); beyond, from the tree. Both find the
/// same hazard.
const SCAN_HAZARDS: usize = 8;

/// The hazards' next times in a tournament tree: each inner node holds the
/// earlier of its two children, the left one (lower index) on ties, so the
/// root is the hazard a scan in declaration order would find first with the
/// earliest time. A NaN time is never the earliest (as in such a scan).
#[derive(Debug, Clone)]
pub(super) struct HazardTree {
    /// Number of leaves: a power of two, at least the number of hazards.
    leaves: usize,
    /// `nodes[1]` is the root, `nodes[leaves + h]` hazard `h`'s leaf: (time, hazard).
    nodes: Vec<(f64, u32)>,
}

impl HazardTree {
    pub(super) fn new(n_hazards: usize) -> HazardTree {
        let leaves = n_hazards.next_power_of_two();
        HazardTree {
            leaves,
            nodes: vec![(f64::INFINITY, u32::MAX); 2 * leaves],
        }
    }

    /// Every hazard at infinity.
    pub(super) fn reset(&mut self) {
        self.nodes.fill((f64::INFINITY, u32::MAX));
    }

    /// Hazard `h`'s next time is `time`.
    #[inline]
    pub(super) fn set(&mut self, h: usize, time: f64) {
        let mut k = self.leaves + h;
        self.nodes[k] = (time, h as u32);
        while k > 1 {
            k /= 2;
            let (left, right) = (self.nodes[2 * k], self.nodes[2 * k + 1]);
            self.nodes[k] = if right.0 < left.0 || (left.0.is_nan() && !right.0.is_nan()) {
                right
            } else {
                left
            };
        }
    }

    /// The hazard with the earliest time and that time; `(0, inf)` when no
    /// time is below infinity.
    #[inline]
    pub(super) fn earliest(&self) -> (usize, f64) {
        match self.nodes.get(1) {
            Some(&(time, h)) if time < f64::INFINITY => (h as usize, time),
            _ => (0, f64::INFINITY),
        }
    }
}

impl Engine<'_> {
    /// The hazard with the earliest candidate (first declared on ties).
    /// `(0, inf)` when none has a time before infinity.
    #[inline]
    pub(super) fn next_hazard(&self) -> (usize, f64) {
        if self.hazards.len() > SCAN_HAZARDS {
            return self.hazard_tree.earliest();
        }
        let mut best = (0, f64::INFINITY);
        for (i, h) in self.hazards.iter().enumerate() {
            if h.time < best.1 {
                best = (i, h.time);
            }
        }
        best
    }

    /// Brings hazard `h` up to now under a new rate bound: the residual of its
    /// unit-exponential gap is reduced by what the old bound consumed since
    /// the last update, the bound is recomputed, and the next candidate
    /// follows from the residual. Draws no random number.
    ///
    /// A hazard whose bound expression (`max_rate`, else `rate`) reads no
    /// tension and not the time is bounded by its value (point evaluation),
    /// to the horizon. Otherwise one of two bounds is computed by the
    /// interval evaluator, with parameters, state, counts and event times at
    /// their current values:
    ///
    /// * the **window bound**, with each tension the rate reads between its
    ///   values at the two ends of a window (tension relaxes monotonically
    ///   between events) and the time within the window. The window ends at
    ///   the horizon, or earlier to keep the bound tight: after the shortest
    ///   half-life among the dyads the rate reads, and after an eighth of the
    ///   horizon if the rate reads the time. It holds until the window ends
    ///   or an event changes anything the rate reads (`rebound_on`).
    /// * the **range bound**, with each tension anywhere in its declared
    ///   range and the time anywhere up to the horizon. It holds until an
    ///   event changes something other than a tension the rate reads, so
    ///   the many events that move tensions cost nothing.
    ///
    /// The range bound is used when it wastes little: at most
    /// [`RANGE_SLACK`] times the window bound, or at most
    /// [`RANGE_CANDIDATES`] expected candidates to the horizon. Thinning is
    /// exact under either; the choice only trades rejected candidates
    /// against re-bounding work, and is a pure function of the state.
    pub(super) fn rebound_hazard(&mut self, h: usize, params: &[f64]) -> Result<(), SimError> {
        let s = self.s;
        let hz = &s.hazards[h];
        let now = self.now;
        let hs = self.hazards[h];
        let residual = (hs.residual - hs.bound * (now - hs.since)).max(0.0);
        // A declared `max_rate` is bounded like a rate: it may read the time
        // or relaxing tensions too.
        let bound_expr = hz.max_rate.as_ref().unwrap_or(&hz.rate);
        let reads = bound_expr.reads();
        let (over_range, bound, end) = if !reads.tension && !reads.time {
            // Nothing the rate reads moves before the next event that
            // changes it: its value is the tightest bound, to the horizon.
            let bound = self.t.fast.hazard_bound[h].eval(&View {
                e: self,
                params,
                source: NONE16,
                target: NONE16,
            });
            if !(bound >= 0.0 && bound.is_finite()) {
                let what = if hz.max_rate.is_some() {
                    "max_rate"
                } else {
                    "rate"
                };
                return Err(self.invalid(format!("hazard `{}`: {what} is {bound}", hz.name)));
            }
            (true, bound, s.horizon)
        } else {
            self.range_or_window_bound(h, bound_expr, params)?
        };
        self.hazards[h] = HazardState {
            time: f64::INFINITY,
            candidate: false,
            bound,
            residual,
            since: now,
            window_end: end,
            over_range,
        };
        self.schedule_hazard(h);
        Ok(())
    }

    /// The range bound or the window bound of hazard `h` (see
    /// [`Engine::rebound_hazard`]): `(over_range, bound, end of validity)`.
    pub(super) fn range_or_window_bound(
        &self,
        h: usize,
        bound_expr: &expr::Expr,
        params: &[f64],
    ) -> Result<(bool, f64, f64), SimError> {
        let s = self.s;
        let hz = &s.hazards[h];
        let now = self.now;
        let range_bound = bound_expr
            .eval_interval(&WindowView {
                e: self,
                params,
                end: s.horizon,
                over_range: true,
            })
            .hi;
        // Few candidates to the horizon: the range bound, whatever the
        // window bound (so it need not be computed).
        let few = range_bound >= 0.0 && range_bound * (s.horizon - now) <= RANGE_CANDIDATES;
        Ok(if few {
            (true, range_bound, s.horizon)
        } else {
            let mut window = s.horizon - now;
            for &d in &self.t.hazard_dyads[h] {
                window = window.min(self.dyads[d as usize].half_life);
            }
            if self.t.hazard_reads_time[h] {
                window = window.min(s.horizon / 8.0);
            }
            // A wider window only loosens the bound; a floor keeps a tiny
            // half-life from turning into billions of renewals.
            window = window.max(s.horizon * 1e-4).min(s.horizon - now);
            let end = (now + window).min(s.horizon);
            let bound = bound_expr
                .eval_interval(&WindowView {
                    e: self,
                    params,
                    end,
                    over_range: false,
                })
                .hi;
            if !(bound >= 0.0 && bound.is_finite()) {
                return Err(self.invalid(format!(
                    "hazard `{}`: cannot bound its rate over [{now}, {end}] (bound {bound}); give `max_rate`",
                    hz.name
                )));
            }
            if range_bound.is_finite() && range_bound <= RANGE_SLACK * bound {
                (true, range_bound, s.horizon)
            } else {
                (false, bound, end)
            }
        })
    }

    /// Sets hazard `h`'s next time from its residual and bound: a candidate
    /// within the window, else the window's end (nothing at the horizon).
    #[inline]
    pub(super) fn schedule_hazard(&mut self, h: usize) {
        let horizon = self.s.horizon;
        let hs = &mut self.hazards[h];
        let candidate = if hs.bound > 0.0 {
            hs.since + hs.residual / hs.bound
        } else {
            f64::INFINITY
        };
        (hs.time, hs.candidate) = if candidate <= hs.window_end {
            (candidate, true)
        } else if hs.window_end < horizon {
            (hs.window_end, false)
        } else {
            (f64::INFINITY, false)
        };
        let (time, over_range) = (hs.time, hs.over_range);
        let bit = 1u64 << (h % 64);
        if over_range {
            self.window_bound[h / 64] &= !bit;
        } else {
            self.window_bound[h / 64] |= bit;
        }
        if self.hazards.len() > SCAN_HAZARDS {
            self.hazard_tree.set(h, time);
        }
    }

    /// Thinning: accept the candidate with probability rate / bound.
    pub(super) fn hazard_accepts(
        &mut self,
        h: usize,
        bound: f64,
        params: &[f64],
    ) -> Result<bool, SimError> {
        let hz = &self.s.hazards[h];
        let rate = self.t.fast.hazard_rate[h].eval(&View {
            e: self,
            params,
            source: NONE16,
            target: NONE16,
        });
        if !(rate >= 0.0 && rate.is_finite()) {
            return Err(self.invalid(format!("hazard `{}`: rate is {rate}", hz.name)));
        }
        if rate > bound * (1.0 + 1e-12) {
            return Err(self.invalid(format!(
                "hazard `{}`: rate {rate} exceeds its bound {bound}; raise `max_rate`",
                hz.name
            )));
        }
        Ok(self.hazard_rng[h].uniform() * bound < rate)
    }
}

#[cfg(test)]
mod tests {
    use super::HazardTree;

    /// The tree finds what a scan in declaration order finds: the earliest
    /// time, the lowest index on ties, NaN never, `(0, inf)` for nothing.
    #[test]
    fn tree_finds_the_first_declared_earliest_hazard() {
        let mut tree = HazardTree::new(5);
        assert_eq!(tree.earliest(), (0, f64::INFINITY));
        for (h, t) in [(0, 3.0), (1, 2.0), (2, f64::NAN), (3, 2.0), (4, 5.0)] {
            tree.set(h, t);
        }
        assert_eq!(tree.earliest(), (1, 2.0));
        tree.set(1, 9.0);
        assert_eq!(tree.earliest(), (3, 2.0));
        tree.set(3, f64::INFINITY);
        assert_eq!(tree.earliest(), (0, 3.0));
        tree.reset();
        tree.set(2, f64::NAN);
        assert_eq!(tree.earliest(), (0, f64::INFINITY));
    }
}
