//! The random stream of every source, from its kind and name
//! ([`crate::rng::stream_id::named`]), so that a source's draws do not depend
//! on where it stands in the file.

use super::model::{EventType, Hazard, Rule, ScheduleEntry, Streams};
use crate::rng::stream_id::{named, KIND_HAZARD, KIND_RULE, KIND_SCHEDULE};
use std::collections::HashMap;

/// The stream name of each schedule entry: `EVENT@AT`, `AT` as Rust prints
/// the entry's time (shortest round-trip digits, `3` for 3.0), followed by
/// a template instance's suffix (`EVENT@AT[POL]`); when the time is an
/// expression of parameters, `AT` is its text in parentheses
/// (`EVENT@(start + 2)`), so the stream does not move between parameter
/// points; the second,
/// third, … entry with the same `EVENT@AT` gets `#2`, `#3`, … in file order.
pub(super) fn schedule_names(events: &[EventType], schedule: &[ScheduleEntry]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    schedule
        .iter()
        .map(|e| {
            let id = &events[e.event as usize].id;
            let base = match &e.at_expr {
                Some((_, text)) => format!("{id}@({text}){}", e.instance),
                None => format!("{id}@{}{}", e.at, e.instance),
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}#{n}")
            }
        })
        .collect()
}

/// A hash collision: two sources of one kind would share a stream.
pub(super) struct Collision {
    /// `rule`, `hazard` or `schedule entry`.
    pub kind: &'static str,
    /// The names of the two sources.
    pub names: (String, String),
}

/// The streams of a compiled scenario's sources, or the first collision.
pub(super) fn streams(
    events: &[EventType],
    schedule: &[ScheduleEntry],
    rules: &[Rule],
    hazards: &[Hazard],
) -> Result<Streams, Collision> {
    fn ids<'a>(
        kind: u64,
        what: &'static str,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<u64>, Collision> {
        let mut by_id: HashMap<u64, &str> = HashMap::new();
        names
            .map(|name| {
                let id = named(kind, name);
                match by_id.insert(id, name) {
                    Some(other) if other != name => Err(Collision {
                        kind: what,
                        names: (other.to_string(), name.to_string()),
                    }),
                    _ => Ok(id),
                }
            })
            .collect()
    }
    let schedule_names = schedule_names(events, schedule);
    Ok(Streams {
        schedule: ids(
            KIND_SCHEDULE,
            "schedule entry",
            schedule_names.iter().map(String::as_str),
        )?,
        rules: ids(KIND_RULE, "rule", rules.iter().map(|r| r.name.as_str()))?,
        hazards: ids(
            KIND_HAZARD,
            "hazard",
            hazards.iter().map(|h| h.name.as_str()),
        )?,
    })
}
