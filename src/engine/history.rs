//! The state of the scenario's history slots in one replication: for each
//! slot ([`crate::scenario::History`]), the count and first and last times
//! of the events it follows, and, for slots read with a window, the times of
//! those events within the longest window (older ones are dropped, so memory
//! is bounded by what the windows can hold).

use std::collections::VecDeque;

/// One slot's state.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub count: f64,
    pub first: f64,
    pub last: f64,
    /// Times of the events of the last `keep` time units, oldest first
    /// (only for slots read with a window).
    times: VecDeque<f64>,
    /// The longest window of the slot for this parameter point; `None`
    /// when no `count(e, W)` reads it.
    keep: Option<f64>,
}

impl Slot {
    /// A slot before any event.
    pub(super) fn new() -> Slot {
        Slot {
            count: 0.0,
            first: f64::INFINITY,
            last: f64::NEG_INFINITY,
            times: VecDeque::new(),
            keep: None,
        }
    }

    /// Empties the slot for a replication in which its longest window is
    /// `keep` (`None`: no `count(e, W)` reads it).
    pub(super) fn reset(&mut self, keep: Option<f64>) {
        self.count = 0.0;
        self.first = f64::INFINITY;
        self.last = f64::NEG_INFINITY;
        self.times.clear();
        self.keep = keep;
    }

    /// Records an event at `now`.
    pub(super) fn record(&mut self, now: f64) {
        self.count += 1.0;
        if self.first == f64::INFINITY {
            self.first = now;
        }
        self.last = now;
        if let Some(keep) = self.keep {
            self.times.push_back(now);
            while self.times.front().is_some_and(|&x| x <= now - keep) {
                self.times.pop_front();
            }
        }
    }

    /// The number of recorded events in `(now - window, now]`. Exact for
    /// every window up to the longest one (older events were dropped only
    /// when they left that one).
    pub(super) fn window_count(&self, now: f64, window: f64) -> f64 {
        let cut = now - window;
        (self.times.len() - self.times.partition_point(|&x| x <= cut)) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(keep: Option<f64>) -> Slot {
        Slot {
            keep,
            ..Slot::new()
        }
    }

    #[test]
    fn only_the_longest_window_is_kept() {
        let mut s = slot(Some(2.5));
        for i in 0..100_000 {
            s.record(f64::from(i));
        }
        // Times in (99_999 - 2.5, 99_999]: 99_997, 99_998, 99_999.
        assert_eq!(s.times.len(), 3);
        assert_eq!(s.count, 100_000.0);
        assert_eq!(s.first, 0.0);
        assert_eq!(s.last, 99_999.0);
        assert_eq!(s.window_count(99_999.0, 2.5), 3.0);
        assert_eq!(s.window_count(99_999.0, 2.0), 2.0);
        assert_eq!(s.window_count(100_001.0, 2.0), 0.0);
    }

    #[test]
    fn a_slot_without_windows_keeps_no_times() {
        let mut s = slot(None);
        for i in 0..1000 {
            s.record(f64::from(i));
        }
        assert!(s.times.is_empty());
        assert_eq!(s.count, 1000.0);
    }
}
