//! Warnings about a scenario that loads but holds something that can have
//! no effect, located at the file's own line and column (`validate` prints
//! them):
//!
//! - a parameter that no expression reads (its name appears in no
//!   expression string of the file);
//! - an event type that nothing causes: no schedule entry, no hazard, and
//!   no rule that can fire emits it (a rule can fire when one of its
//!   triggers is caused, or it is a `when_becomes` rule; found by
//!   propagating from the schedule and the hazards until nothing changes);
//! - a rule whose triggers are all such events, so that it never fires;
//! - a categorical outcome that gives the same label to two cases (their
//!   shares are counted as one).

use super::model::Scenario;
use super::raw::RawFile;
use crate::diag::Diagnostic;
use std::collections::HashSet;

/// Keys whose string values are names or prose, never expressions.
const NOT_EXPRESSIONS: [&str; 17] = [
    "name",
    "label",
    "doc",
    "description",
    "id",
    "cameo",
    "time_unit",
    "actor",
    "on",
    "from",
    "to",
    "involving",
    "event",
    "source",
    "target",
    "between",
    "members",
];

/// The warnings for `source`, which compiled to `s`, in file order.
pub fn warnings(source: &str, s: &Scenario) -> Vec<Diagnostic> {
    let raw = match super::structure::read(source) {
        super::structure::Read::Whole(raw) => raw,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    unread_parameters(source, &raw, &mut out);
    uncaused(s, &raw, &mut out);
    duplicate_labels(&raw, &mut out);
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

/// Every identifier in an expression string of the file, except a state
/// variable's name after `.`.
fn expression_words(source: &str) -> HashSet<String> {
    fn walk(value: &toml::Value, key: &str, words: &mut HashSet<String>) {
        match value {
            toml::Value::String(text) if !NOT_EXPRESSIONS.contains(&key) => {
                let tokens = text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'));
                for token in tokens {
                    // `POL.border_open`: the actor, not the variable.
                    let word = token.split('.').next().unwrap_or_default();
                    if !word.is_empty() {
                        words.insert(word.to_string());
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, key, words)),
            toml::Value::Table(table) => table.iter().for_each(|(k, v)| walk(v, k, words)),
            _ => {}
        }
    }
    let mut words = HashSet::new();
    if let Ok(doc) = toml::from_str::<toml::Value>(source) {
        walk(&doc, "", &mut words);
    }
    words
}

fn unread_parameters(source: &str, raw: &RawFile, out: &mut Vec<Diagnostic>) {
    let words = expression_words(source);
    for name in raw.params.keys() {
        if !words.contains(name.get_ref()) {
            out.push(
                Diagnostic::new(
                    name.span(),
                    format!(
                        "parameter `{}` is never read: no expression uses it",
                        name.get_ref()
                    ),
                )
                .with_help("use it in a rule, hazard, effect, tension or outcome, or remove it"),
            );
        }
    }
}

/// Whether rule `name` of the file is compiled rule `compiled` (itself or
/// one of its template instances, `NAME[POL]`).
fn is_instance(compiled: &str, name: &str) -> bool {
    compiled == name
        || compiled
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('['))
}

fn uncaused(s: &Scenario, raw: &RawFile, out: &mut Vec<Diagnostic>) {
    let mut caused = vec![false; s.events.len()];
    for entry in &s.schedule {
        caused[entry.event as usize] = true;
    }
    for h in &s.hazards {
        caused[h.event as usize] = true;
        for a in &h.choose {
            caused[a.event as usize] = true;
        }
    }
    let can_fire = |caused: &[bool], r: &super::model::Rule| {
        r.becomes.is_some() || r.on.iter().any(|&e| caused[e as usize])
    };
    loop {
        let mut changed = false;
        for r in &s.rules {
            if !can_fire(&caused, r) {
                continue;
            }
            let emitted = std::iter::once(r.emit_event).chain(r.choose.iter().map(|a| a.event));
            for e in emitted {
                changed |= !caused[e as usize];
                caused[e as usize] = true;
            }
        }
        if !changed {
            break;
        }
    }
    for e in &raw.event {
        let id = e.get_ref().id.get_ref();
        let Some(i) = s.events.iter().position(|x| &x.id == id) else {
            continue;
        };
        if !caused[i] {
            out.push(
                Diagnostic::new(
                    e.get_ref().id.span(),
                    format!("event `{id}` never happens: no schedule entry, hazard or rule that can fire emits it"),
                )
                .with_help("schedule it, emit it from a rule or hazard, or remove it"),
            );
        }
    }
    for r in &raw.rule {
        let r = r.get_ref();
        let Some(on) = &r.on else { continue };
        let name = r.name.get_ref();
        let mut instances = s
            .rules
            .iter()
            .filter(|c| is_instance(&c.name, name))
            .peekable();
        if instances.peek().is_none() || instances.any(|c| can_fire(&caused, c)) {
            continue;
        }
        let triggers: Vec<String> = on
            .get_ref()
            .names()
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        out.push(Diagnostic::new(
            on.span(),
            format!(
                "rule `{name}` never fires: nothing causes {}",
                triggers.join(" or ")
            ),
        ));
    }
}

fn duplicate_labels(raw: &RawFile, out: &mut Vec<Diagnostic>) {
    for o in &raw.outcome {
        let o = o.get_ref();
        let Some(cases) = &o.cases else { continue };
        let mut seen = HashSet::new();
        for case in cases {
            let label = &case.get_ref().label;
            if !seen.insert(label.get_ref().as_str()) {
                out.push(Diagnostic::new(
                    label.span(),
                    format!(
                        "outcome `{}` gives the label `{}` to an earlier case too: their shares are counted as one",
                        o.name.get_ref(),
                        label.get_ref()
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"[scenario]
name = "w"
horizon = 10

[params]
used = 0.5
unused = 2.0
in_state = 1.0

[[actor]]
id = "A"
state = { level = "in_state", unused_name = 0 }

[[actor]]
id = "B"

[[event]]
id = "start"

[[event]]
id = "reply"

[[event]]
id = "orphan"

[[event]]
id = "echo"

[[schedule]]
event = "start"
at = 1
source = "A"
target = "B"

[[rule]]
name = "answers"
actor = "B"
on = "start"
prob = "used"
emit = { event = "reply", target = "A" }

[[rule]]
name = "dead"
actor = "A"
on = "orphan"
emit = { event = "echo", target = "B" }

[[outcome]]
name = "path"
cases = [
  { label = "replied", when = "count(reply) > 0 and A.unused_name == 0" },
  { label = "quiet", when = "count(echo) > 0" },
  { label = "replied", when = "true" },
]
"#;

    #[test]
    fn warnings_name_what_can_have_no_effect_at_its_line_and_column() {
        let s = crate::scenario::parse("w.toml", SOURCE).unwrap();
        let found = warnings(SOURCE, &s);
        let text = crate::diag::render_as("warning", "w.toml", SOURCE, &found);
        let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("w.toml:")).collect();
        assert_eq!(
            heads,
            [
                "w.toml:7:1: warning: parameter `unused` is never read: no expression uses it",
                "w.toml:24:6: warning: event `orphan` never happens: no schedule entry, hazard or rule that can fire emits it",
                "w.toml:27:6: warning: event `echo` never happens: no schedule entry, hazard or rule that can fire emits it",
                "w.toml:45:6: warning: rule `dead` never fires: nothing causes `orphan`",
                "w.toml:53:13: warning: outcome `path` gives the label `replied` to an earlier case too: their shares are counted as one",
            ],
            "{text}"
        );
        assert!(text.contains("     7 | unused = 2.0\n       | ^^^^^^\n       = help: use it in a rule, hazard, effect, tension or outcome, or remove it\n"), "{text}");
    }

    #[test]
    fn the_shipped_scenarios_have_no_warnings() {
        for name in ["west2025", "cuba1962", "taiwan2022", "belarus2021"] {
            let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let checked = crate::scenario::load_checked(std::path::Path::new(&path)).unwrap();
            assert_eq!(checked.warnings, "", "{name}");
        }
    }
}
