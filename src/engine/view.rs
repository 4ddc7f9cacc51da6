//! The evaluation environments expressions read the simulation state
//! through: [`View`] (values now, with the event's source and target) and
//! [`WindowView`] (intervals over a window, for bounding hazard rates).

use super::{Engine, NONE16};
use crate::expr::{self, ActorRef, Interval};

/// Reads the simulation state for expressions; `source`/`target` are the
/// actors of the event in context.
pub(super) struct View<'a, 's> {
    pub(super) e: &'a Engine<'s>,
    pub(super) params: &'a [f64],
    pub(super) source: u16,
    pub(super) target: u16,
}

impl View<'_, '_> {
    pub(super) fn actor(&self, a: ActorRef) -> u16 {
        match a {
            ActorRef::Fixed(i) => i,
            ActorRef::Source => self.source,
            ActorRef::Target => self.target,
        }
    }
}

impl expr::Env for View<'_, '_> {
    #[inline]
    fn param(&self, idx: u32) -> f64 {
        self.params[idx as usize]
    }
    #[inline]
    fn time(&self) -> f64 {
        self.e.now
    }
    #[inline]
    fn tension(&self, dyad: u32) -> f64 {
        self.e.tension_at(dyad as usize, self.e.now)
    }
    fn tension_between(&self, a: ActorRef, b: ActorRef) -> f64 {
        match self.e.dyad_of(self.actor(a), self.actor(b)) {
            Some(d) => self.e.tension_at(d, self.e.now),
            None => f64::NAN,
        }
    }
    #[inline]
    fn state(&self, actor: ActorRef, var: u32) -> f64 {
        let a = self.actor(actor);
        if a == NONE16 {
            return 0.0;
        }
        self.e.state[usize::from(a) * self.e.n_vars + var as usize]
    }
    #[inline]
    fn count(&self, event: u32) -> f64 {
        self.e.counts[event as usize]
    }
    #[inline]
    fn first(&self, event: u32) -> f64 {
        self.e.first[event as usize]
    }
    #[inline]
    fn last(&self, event: u32) -> f64 {
        self.e.last[event as usize]
    }
    fn hist_count(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].count
    }
    fn hist_first(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].first
    }
    fn hist_last(&self, slot: u32) -> f64 {
        self.e.histories[slot as usize].last
    }
    fn window_count(&self, slot: u32, window: f64) -> f64 {
        self.e.histories[slot as usize].window_count(self.e.now, window)
    }
}

/// Reads the simulation state as intervals over the window `[now, end]`:
/// tensions between their values at the two ends, or, `over_range`, anywhere
/// in their declared ranges.
pub(super) struct WindowView<'a, 's> {
    pub(super) e: &'a Engine<'s>,
    pub(super) params: &'a [f64],
    pub(super) end: f64,
    pub(super) over_range: bool,
}

impl expr::IntervalEnv for WindowView<'_, '_> {
    fn param(&self, idx: u32) -> Interval {
        Interval::point(self.params[idx as usize])
    }
    fn time(&self) -> Interval {
        Interval {
            lo: self.e.now,
            hi: self.end,
        }
    }
    fn tension(&self, dyad: u32) -> Interval {
        if self.over_range {
            // `set_tension` clamps to the range and the baseline lies in it.
            let d = &self.e.s.dyads[dyad as usize];
            return Interval { lo: d.lo, hi: d.hi };
        }
        // Relaxation is monotone between events: the window's values lie
        // between those at its two ends.
        let a = self.e.tension_at(dyad as usize, self.e.now);
        let b = self.e.tension_at(dyad as usize, self.end);
        Interval {
            lo: a.min(b),
            hi: a.max(b),
        }
    }
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
        Interval {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        }
    }
    fn state(&self, actor: ActorRef, var: u32) -> Interval {
        match actor {
            ActorRef::Fixed(a) => {
                Interval::point(self.e.state[usize::from(a) * self.e.n_vars + var as usize])
            }
            _ => Interval {
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            },
        }
    }
    fn count(&self, event: u32) -> Interval {
        Interval::point(self.e.counts[event as usize])
    }
    fn first(&self, event: u32) -> Interval {
        Interval::point(self.e.first[event as usize])
    }
    fn last(&self, event: u32) -> Interval {
        Interval::point(self.e.last[event as usize])
    }
    fn hist_count(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].count)
    }
    fn hist_first(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].first)
    }
    fn hist_last(&self, slot: u32) -> Interval {
        Interval::point(self.e.histories[slot as usize].last)
    }
    /// Until the next event of the slot (which re-bounds every hazard that
    /// reads it), a windowed count can only fall as events age out: it lies
    /// in `[0, its value now with the widest window]`.
    fn window_count(&self, slot: u32, window: Interval) -> Interval {
        let now = self.e.histories[slot as usize].window_count(self.e.now, window.hi);
        Interval { lo: 0.0, hi: now }
    }
}
