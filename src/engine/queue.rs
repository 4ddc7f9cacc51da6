//! The event queue, keyed by (time, priority, tie-break): a sorted vector
//! while small, a binary min-heap beyond.
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
    #[inline]
    fn key_cmp(&self, other: &Self) -> Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.priority.cmp(&other.priority))
            .then(self.tie.cmp(&other.tie))
    }

    /// The key as a tuple that compares as [`Entry::key_cmp`] does: the
    /// time's bits mapped to an integer in `total_cmp`'s order, then the
    /// priority, then the tie-break.
    #[inline]
    fn key(&self) -> (i64, i32, u64) {
        let bits = self.time.to_bits() as i64;
        (
            bits ^ (((bits >> 63) as u64) >> 1) as i64,
            self.priority,
            self.tie,
        )
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

/// The pending entries; reused across replications without reallocating.
///
/// Small queues (the common case: a few pending rule firings) are a vector
/// sorted by decreasing key, so the next entry is the last one (a pop is a
/// truncation, a push a binary search and a short move). Past [`SORTED_MAX`]
/// entries the queue turns into a binary heap until it is cleared. Keys are
/// distinct (the tie-break is an insertion counter), so both give the same
/// order.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// The entries by decreasing key, while not `heaped`.
    sorted: Vec<Entry>,
    /// The entries, once they outgrew `sorted`.
    heap: BinaryHeap<Entry>,
    heaped: bool,
}

/// The most entries kept sorted.
pub const SORTED_MAX: usize = 64;

impl Queue {
    /// Empties the queue, keeping its memory.
    pub fn clear(&mut self) {
        self.sorted.clear();
        self.heap.clear();
        self.heaped = false;
    }

    /// Adds an entry. The caller guarantees `time` is not NaN.
    #[inline]
    pub fn push(&mut self, entry: Entry) {
        debug_assert!(!entry.time.is_nan());
        if self.heaped {
            self.heap.push(entry);
            return;
        }
        if self.sorted.len() == SORTED_MAX {
            self.heap.extend(self.sorted.drain(..));
            self.heap.push(entry);
            self.heaped = true;
            return;
        }
        // The entries after the insertion point have smaller keys; an
        // equal key stays after the new entry, where a binary search for
        // the first key not greater would put it. A new entry most often
        // goes near the end (it is due before most pending ones), so the
        // search runs from the end, moving the entries it passes up one.
        let key = entry.key();
        let mut at = self.sorted.len();
        self.sorted.push(entry);
        while at > 0 && self.sorted[at - 1].key() <= key {
            self.sorted[at] = self.sorted[at - 1];
            at -= 1;
        }
        self.sorted[at] = entry;
    }

    /// Time of the next entry, `inf` if empty.
    #[inline]
    pub fn next_time(&self) -> f64 {
        let next = if self.heaped {
            self.heap.peek()
        } else {
            self.sorted.last()
        };
        next.map_or(f64::INFINITY, |e| e.time)
    }

    /// Removes and returns the next entry.
    #[inline]
    pub fn pop(&mut self) -> Option<Entry> {
        if self.heaped {
            self.heap.pop()
        } else {
            self.sorted.pop()
        }
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        if self.heaped {
            self.heap.len()
        } else {
            self.sorted.len()
        }
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Past `SORTED_MAX` entries (the heap) and back below it, the order is
    /// the key order, as with the sorted vector; `clear` starts over sorted.
    #[test]
    fn large_queues_keep_the_order() {
        let mut q = Queue::default();
        for round in 0..2 {
            let n = 3 * SORTED_MAX as u64 + round;
            let mut expected = Vec::new();
            for i in 0..n {
                // Times in a scrambled order, with repeats that the
                // priority and then the tie-break order.
                let t = ((i * 37) % 50) as f64;
                let p = (i % 3) as i32;
                q.push(entry(t, p, i));
                expected.push((t, p, i));
                assert_eq!(q.len(), i as usize + 1);
            }
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let mut got = Vec::new();
            // Pop half, push some more, pop the rest.
            for _ in 0..n / 2 {
                let e = q.pop().expect("pending");
                got.push((e.time, e.priority, e.tie));
            }
            q.push(entry(100.0, 0, n));
            expected.push((100.0, 0, n));
            assert_eq!(q.next_time(), expected[got.len()].0);
            while let Some(e) = q.pop() {
                got.push((e.time, e.priority, e.tie));
            }
            assert_eq!(got, expected);
            assert!(q.is_empty());
            assert_eq!(q.next_time(), f64::INFINITY);
            q.push(entry(1.0, 0, 0));
            q.clear();
            assert!(!q.heaped && q.is_empty());
        }
    }

    /// `key` orders as `key_cmp` does, signed zeros and infinities
    /// included; entries with equal keys (a caller-supplied tie-break can
    /// repeat) come out in the order they were pushed.
    #[test]
    fn tuple_key_matches_key_cmp_and_equal_keys_keep_push_order() {
        let times = [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            1.0,
            3.5,
            f64::INFINITY,
        ];
        let mut all = Vec::new();
        for &t in &times {
            for p in [-1, 0, 2] {
                for tie in [0, 7] {
                    all.push(entry(t, p, tie));
                }
            }
        }
        for a in &all {
            for b in &all {
                assert_eq!(a.key().cmp(&b.key()), a.key_cmp(b), "{a:?} {b:?}");
            }
        }
        let mut q = Queue::default();
        for (i, t) in [2.0, 1.0, 2.0, 1.0, 2.0].into_iter().enumerate() {
            let mut e = entry(t, 0, 5);
            e.cause = i as u32;
            q.push(e);
        }
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.cause).collect();
        assert_eq!(order, vec![1, 3, 0, 2, 4]);
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
