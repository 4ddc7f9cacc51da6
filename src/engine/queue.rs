//! The event queue: a binary min-heap keyed by (time, priority, tie-break).
//!
//! # Ordering guarantee
//!
//! Entries come out in increasing time; at equal times, lower `priority` first;
//! at equal time and priority, in the order they were pushed (the tie-break is
//! an insertion counter), unless the caller supplies another tie-break (the tie
//! audit does). Times are never NaN (checked at push), compared with `total_cmp`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What a queued entry will do when its time comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A scheduled exogenous event (index into the schedule).
    Scheduled(u32),
    /// A rule's pending firing: the rule's index, and which of its `choose`
    /// alternatives it emits (0 for a rule with `emit`; `1 + i` for the
    /// `i`-th alternative).
    Fire(u32, u16),
}

/// A pending entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// When.
    pub time: f64,
    /// Same-time order, lower first.
    pub priority: i32,
    /// Final tie-break, lower first.
    pub tie: u64,
    /// What.
    pub action: Action,
    /// Source actor of the triggering event (`u16::MAX`: none).
    pub trig_source: u16,
    /// Target actor of the triggering event (`u16::MAX`: none).
    pub trig_target: u16,
    /// Sequence number of the triggering event (`u32::MAX`: none).
    pub cause: u32,
}

impl Entry {
    fn key_cmp(&self, other: &Self) -> Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.priority.cmp(&other.priority))
            .then(self.tie.cmp(&other.tie))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key_cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the smallest key.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key_cmp(self)
    }
}

/// A min-heap of entries; reused across replications without reallocating.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    heap: BinaryHeap<Entry>,
}

impl Queue {
    /// Empties the queue, keeping its memory.
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Adds an entry. The caller guarantees `time` is not NaN.
    pub fn push(&mut self, entry: Entry) {
        debug_assert!(!entry.time.is_nan());
        self.heap.push(entry);
    }

    /// Time of the next entry, `inf` if empty.
    pub fn next_time(&self) -> f64 {
        self.heap.peek().map_or(f64::INFINITY, |e| e.time)
    }

    /// Removes and returns the next entry.
    pub fn pop(&mut self) -> Option<Entry> {
        self.heap.pop()
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time: f64, priority: i32, tie: u64) -> Entry {
        Entry {
            time,
            priority,
            tie,
            action: Action::Fire(0, 0),
            trig_source: 0,
            trig_target: 0,
            cause: 0,
        }
    }

    #[test]
    fn pops_by_time_then_priority_then_tie() {
        let mut q = Queue::default();
        for (t, p, s) in [
            (2.0, 0, 0),
            (1.0, 5, 1),
            (1.0, -1, 2),
            (1.0, 5, 0),
            (0.5, 9, 9),
        ] {
            q.push(entry(t, p, s));
        }
        let order: Vec<(f64, i32, u64)> = std::iter::from_fn(|| q.pop())
            .map(|e| (e.time, e.priority, e.tie))
            .collect();
        assert_eq!(
            order,
            vec![
                (0.5, 9, 9),
                (1.0, -1, 2),
                (1.0, 5, 0),
                (1.0, 5, 1),
                (2.0, 0, 0)
            ]
        );
    }
}
