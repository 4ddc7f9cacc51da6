//! Why a replication could not finish: [`SimError`], and the engine's
//! constructors of its variants (a contract violation at the current time,
//! the event budget, the bound on pending events).

use super::{Engine, NONE32};
use std::fmt;

/// Rule firings that may be pending at once, besides the schedule's entries:
/// a rule that emits more events than it consumes (a branching cycle, a wide
/// delayed fan-out) grows the queue faster than the event budget can stop it,
/// so the queue has its own bound (at most about 40 MB per replication in
/// flight).
pub const MAX_PENDING: usize = 1 << 20;

/// Why a replication could not finish.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// More events than `event_budget`: most likely a zero-delay rule cycle.
    Budget {
        /// The budget.
        budget: u64,
        /// Time at which it was exceeded.
        time: f64,
        /// Rules that emitted the most recent events, in declaration order.
        rules: Vec<String>,
    },
    /// The queue of pending events outgrew its bound (the schedule's entries
    /// plus [`MAX_PENDING`]): most likely a branching rule cycle or a wide
    /// fan-out.
    Pending {
        /// The bound on pending events.
        limit: usize,
        /// Time at which it was exceeded.
        time: f64,
        /// Rules with the most pending firings, in declaration order.
        rules: Vec<String>,
    },
    /// A run-time value broke its contract.
    Invalid {
        /// Time.
        time: f64,
        /// What, naming the rule or hazard.
        message: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Budget { budget, time, rules } if rules.is_empty() => write!(
                f,
                "event budget of {budget} exceeded at t = {time}; no rule emitted the latest events (hazards and the schedule did): raise `event_budget` in [scenario] if the events are intended"
            ),
            SimError::Budget { budget, time, rules } => write!(
                f,
                "event budget of {budget} exceeded at t = {time}; the latest events come from the rules {}: a zero-delay cycle? raise `event_budget` in [scenario] if the events are intended",
                rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" -> ")
            ),
            SimError::Pending { limit, time, rules } => write!(
                f,
                "more than {limit} events pending at t = {time}; most of them come from the rules {}: a rule cycle that branches, or a fan-out too wide? make each event trigger fewer firings (`once`, `cooldown`, a `when` guard)",
                rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            ),
            SimError::Invalid { time, message } => write!(f, "at t = {time}: {message}"),
        }
    }
}

impl std::error::Error for SimError {}

impl Engine<'_> {
    pub(super) fn invalid(&self, message: String) -> SimError {
        SimError::Invalid {
            time: self.now,
            message,
        }
    }

    pub(super) fn pending_error(&self) -> SimError {
        // The rules with the most pending firings: the largest counts that
        // together make up at least nine tenths of them, at most eight.
        let mut by_count: Vec<(u32, usize)> = self
            .rule_pending
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(r, c)| (*c, r))
            .collect();
        by_count.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let total: u64 = by_count.iter().map(|(c, _)| u64::from(*c)).sum();
        let mut covered = 0u64;
        let mut chosen = Vec::new();
        for (c, r) in by_count.into_iter().take(8) {
            if covered * 10 >= total * 9 {
                break;
            }
            covered += u64::from(c);
            chosen.push(r);
        }
        chosen.sort_unstable();
        SimError::Pending {
            limit: self.pending_limit,
            time: self.now,
            rules: chosen
                .iter()
                .map(|r| self.s.rules[*r].name.clone())
                .collect(),
        }
    }

    pub(super) fn budget_error(&self) -> SimError {
        // The rules behind the latest 64 events, in declaration order.
        let mut recent: Vec<u32> = self
            .recent_rules
            .iter()
            .copied()
            .filter(|r| *r != NONE32)
            .collect();
        recent.sort_unstable();
        recent.dedup();
        let rules = recent
            .iter()
            .map(|r| self.s.rules[*r as usize].name.clone())
            .collect();
        SimError::Budget {
            budget: self.s.event_budget,
            time: self.now,
            rules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_spent_by_hazards_alone_names_no_empty_rule_list() {
        let e = SimError::Budget {
            budget: 10,
            time: 2.5,
            rules: Vec::new(),
        };
        assert_eq!(
            e.to_string(),
            "event budget of 10 exceeded at t = 2.5; no rule emitted the latest events (hazards and the schedule did): raise `event_budget` in [scenario] if the events are intended"
        );
        let e = SimError::Budget {
            budget: 10,
            time: 2.5,
            rules: vec!["a".into(), "b".into()],
        };
        assert!(e
            .to_string()
            .contains("the latest events come from the rules `a` -> `b`: a zero-delay cycle?"));
    }
}
