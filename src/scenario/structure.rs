//! Reading a scenario's TOML into its raw shape ([`RawFile`]), with shape
//! errors in the scenario's own words and all of them in one pass.
//!
//! The whole file is deserialized at once; only when that fails is each
//! table and each `[[…]]` entry deserialized on its own, so that a mistake
//! in one rule does not hide a mistake in another. serde's messages
//! (`invalid type: string "x", expected f64`) are rewritten to name the key
//! and the form it takes (`` `cooldown` must be a number, not a string ``).

use super::raw::*;
use crate::diag::Diagnostic;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// What [`read`] found.
pub(super) enum Read {
    /// The whole file has its shape.
    Whole(RawFile),
    /// Some entries of `[[schedule]]`, `[[rule]]`, `[[hazard]]` or
    /// `[[outcome]]` do not: their errors, and the file
    /// without them, whose semantic errors are worth reporting too (no name
    /// that other entries refer to is missing).
    Partial(RawFile, Vec<Diagnostic>),
    /// Shape errors only: a syntax error, or one in a table that declares
    /// names (`[scenario]`, `[params]`, actors, groups, events).
    Errors(Vec<Diagnostic>),
}

/// Tables whose entries declare nothing other entries refer to (tensions
/// are read by expressions, so they are not among them): an entry that
/// fails can be left out and the rest still checked.
const LEAVES: [&str; 4] = ["schedule", "rule", "hazard", "outcome"];

/// The raw shape of `source`, or every shape error found.
pub(super) fn read(source: &str) -> Read {
    let first = match toml::from_str::<RawFile>(source) {
        Ok(raw) => return Read::Whole(raw),
        Err(e) => e,
    };
    let (doc, syntax) = DeTable::parse_recoverable(source);
    let mut diags: Vec<Diagnostic> = syntax.iter().map(|e| diagnostic(source, e)).collect();
    if diags.is_empty() {
        for (key, value) in doc.get_ref() {
            match key.get_ref().as_ref() {
                "scenario" => one::<RawMeta>(source, value, &mut diags),
                "params" => {
                    one::<BTreeMap<Spanned<String>, Spanned<RawParam>>>(source, value, &mut diags)
                }
                "group" => each::<RawGroup>(source, value, &mut diags),
                "actor" => each::<RawActor>(source, value, &mut diags),
                "tension" => each::<RawTension>(source, value, &mut diags),
                "event" => each::<RawEvent>(source, value, &mut diags),
                "schedule" => each::<RawSchedule>(source, value, &mut diags),
                "rule" => each::<RawRule>(source, value, &mut diags),
                "hazard" => each::<RawHazard>(source, value, &mut diags),
                "outcome" => each::<RawOutcome>(source, value, &mut diags),
                _ => {}
            }
        }
    }
    // The whole-file error may be one no entry has (an unknown table, a
    // missing `[scenario]`).
    let whole = diagnostic(source, &first);
    let whole_found = diags.iter().any(|d| d.span == whole.span);
    if !whole_found {
        diags.push(whole);
    }
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    diags.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    match (whole_found, syntax.is_empty()) {
        (true, true) => match without_failing_leaves(doc) {
            Some(raw) => Read::Partial(raw, diags),
            None => Read::Errors(diags),
        },
        _ => Read::Errors(diags),
    }
}

/// The file less the `LEAVES` entries that fail to deserialize, if nothing
/// else fails.
fn without_failing_leaves(doc: Spanned<DeTable<'_>>) -> Option<RawFile> {
    fn fits<T: DeserializeOwned>(v: &Spanned<DeValue<'_>>) -> bool {
        T::deserialize(ValueDeserializer::from(v.clone())).is_ok()
    }
    let span = doc.span();
    let mut table = doc.into_inner();
    for (key, value) in table.iter_mut() {
        let name: &str = key.get_ref().as_ref();
        if !LEAVES.contains(&name) {
            continue;
        }
        let keep = |v: &Spanned<DeValue<'_>>| match name {
            "schedule" => fits::<RawSchedule>(v),
            "rule" => fits::<RawRule>(v),
            "hazard" => fits::<RawHazard>(v),
            _ => fits::<RawOutcome>(v),
        };
        let vspan = value.span();
        if let DeValue::Array(entries) = value.get_mut() {
            let mut kept = toml::de::DeArray::new();
            for e in entries.iter().filter(|e| keep(e)) {
                kept.push(e.clone());
            }
            *value = Spanned::new(vspan, DeValue::Array(kept));
        }
    }
    let filtered = Spanned::new(span, table);
    RawFile::deserialize(toml::de::Deserializer::from(filtered)).ok()
}

/// Deserializes one value as a `T`, recording its error.
fn one<T: DeserializeOwned>(
    source: &str,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) {
    if let Err(e) = T::deserialize(ValueDeserializer::from(value.clone())) {
        diags.push(diagnostic(source, &e));
    }
}

/// Deserializes every entry of an array of tables as a `T`.
fn each<T: DeserializeOwned>(
    source: &str,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) {
    match value.get_ref() {
        DeValue::Array(entries) => {
            for entry in entries {
                one::<T>(source, entry, diags);
            }
        }
        _ => one::<Vec<T>>(source, value, diags),
    }
}

/// A TOML or serde error as a diagnostic in plain words.
fn diagnostic(source: &str, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim_end_matches('.').trim();
    let (message, help) = plain(source, &span, message);
    let mut d = Diagnostic::new(span, message);
    d.help = help;
    d
}

/// The key whose value (or an element of whose list) starts at `span`: the
/// key before the last `=` on the line up to it, if there is one.
fn key_before(source: &str, span: &Range<usize>) -> Option<String> {
    let before = source.get(..span.start)?;
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let head = line[..line.rfind('=')?].trim_end();
    let start = (head.char_indices().rev())
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = &head[start..];
    (!key.is_empty()).then(|| key.to_string())
}

/// What serde calls a type, in the scenario's words.
fn form(expected: &str) -> String {
    let e = expected.trim();
    let word = match e {
        "f64" | "f32" => "a number",
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" => "an integer",
        "a boolean" | "bool" => "`true` or `false`",
        "a string" => "a string",
        "a sequence" => "a list `[ … ]`",
        "a map" => "a table",
        "struct RawEmit" => "a table like `{ event = \"…\", target = \"…\" }`",
        "struct RawChoice" => "a table like `{ event = \"…\", weight = … }`",
        "struct RawCase" => "a table like `{ label = \"…\", when = \"…\" }`",
        "struct RawDelay" | "enum RawDelay" => "a delay like `{ exponential = { mean = 1 } }`",
        "a string or a list of strings" => "a string or a list of strings",
        "a string or array of strings" => "a string or a list of strings",
        _ => {
            if let Some(s) = e.strip_prefix("struct Raw") {
                return format!("a `{}` table", s.to_lowercase());
            }
            return e.to_string();
        }
    };
    word.to_string()
}

/// What serde calls a found value, in the scenario's words.
fn found(what: &str) -> String {
    let w = what.trim();
    if let Some(s) = w.strip_prefix("string ") {
        return format!("the string {s}");
    }
    if let Some(s) = w.strip_prefix("floating point ") {
        return format!("the number {}", s.trim_matches('`'));
    }
    if let Some(s) = w.strip_prefix("integer ") {
        return format!("the integer {}", s.trim_matches('`'));
    }
    if let Some(s) = w.strip_prefix("boolean ") {
        return format!("the boolean {}", s.trim_matches('`'));
    }
    match w {
        "sequence" => "a list".to_string(),
        "map" => "a table".to_string(),
        other => other.to_string(),
    }
}

/// serde's message rewritten: the key, the form it takes, what was found.
fn plain(source: &str, span: &Range<usize>, message: &str) -> (String, Option<String>) {
    let key = key_before(source, span);
    let subject = key
        .as_deref()
        .map_or("this value".to_string(), |k| format!("`{k}`"));
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((what, expected)) = rest.split_once(", expected ") {
            return (
                format!("{subject} must be {}, not {}", form(expected), found(what)),
                None,
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        if let Some((_, expected)) = rest.split_once(", expected ") {
            let expected = expected.split(" with ").next().unwrap_or(expected);
            return (
                format!("{subject} must be {}, not a list", form(expected)),
                None,
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((what, expected)) = rest.split_once(", expected ") {
            return (
                format!("{subject} must be {}, not {}", form(expected), found(what)),
                None,
            );
        }
    }
    if message.starts_with("data did not match any variant of untagged enum RawParam") {
        return (
            format!(
                "{subject} must be a number or a table like `{{ value = 0.5, min = 0, max = 1 }}`"
            ),
            None,
        );
    }
    if message.starts_with("data did not match any variant of untagged enum OneOrMany") {
        return (
            format!("{subject} must be a string or a list of strings"),
            None,
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, known) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let known: Vec<&str> = known
            .trim_start_matches("one of ")
            .split(", ")
            .map(|k| k.trim_matches('`'))
            .filter(|k| !k.is_empty())
            .collect();
        let bare = name.trim_matches('`');
        let list = known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match crate::diag::suggest(bare, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? the keys here are {list}"),
            None if known.is_empty() => "remove it".to_string(),
            None => format!("the keys here are {list}"),
        };
        return (format!("unknown key {name}"), Some(help));
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return (format!("missing key {rest}"), None);
    }
    let mut chars = message.chars();
    let lower = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    (lower, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_the_line() {
        let src = "cooldown = \"x\"\nemit = { event = 3 }\n";
        assert_eq!(key_before(src, &(11..14)).as_deref(), Some("cooldown"));
        assert_eq!(key_before(src, &(32..33)).as_deref(), Some("event"));
        assert_eq!(key_before(src, &(0..1)), None);
        assert_eq!(key_before("é = 1", &(4..5)), None);
        assert_eq!(key_before("aé = 1", &(5..6)), None);
        let src = "range = [0.0, \"inf\"]";
        assert_eq!(key_before(src, &(14..19)).as_deref(), Some("range"));
    }
}
