//! Groups and templates: `[[group]]` tables, and the instances of a rule,
//! hazard, tension or schedule entry with `each = { X = "frontline" }`.
//!
//! A template is not copied as text: the compiler compiles its raw table once
//! per instance with the instance's variables bound to actors (in
//! [`Scope::aliases`](crate::expr::Scope) for expressions, and in the
//! compiler's own actor lookups for `actor`, `from`, `to`, `source`,
//! `target`, `between` and `emit`), so every error keeps the span of the
//! template's text. Instances come in the order of the variables as declared,
//! the first varying slowest, each over its members in member order; with
//! `distinct = true` (the default) combinations that bind one actor to two
//! variables are skipped. An instance is named `NAME[POL]`, or
//! `NAME[POL,BLR]` with several variables.

use super::raw::{OneOrMany, RawEach, RawGroup};
use crate::diag::Diagnostic;
use std::ops::Range;
use toml::Spanned;

/// A checked group: its id and its members, as actor indices in file order.
pub(super) struct Group {
    /// The group id.
    pub id: String,
    /// The members, as indices into the actor list.
    pub members: Vec<u16>,
}

/// One instance of a template.
pub(super) struct Instance {
    /// `[POL]` or `[POL,BLR]`, appended to the template's name; empty for a
    /// table without `each`.
    pub suffix: String,
    /// Each variable and the actor it is bound to, in declaration order.
    pub bindings: Vec<(String, u16)>,
}

/// Checks the `[[group]]` tables (their ids' spelling is checked by the
/// caller): unique, not an actor id, with
/// known, distinct members, at least one.
pub(super) fn groups(
    raw: &[Spanned<RawGroup>],
    actors: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for g in raw {
        let g = g.get_ref();
        let id = g.id.get_ref();
        if actors.contains(id) {
            diags.push(Diagnostic::new(
                g.id.span(),
                format!("group id `{id}` is already an actor id; choose another"),
            ));
        } else if out.iter().any(|o| &o.id == id) {
            diags.push(Diagnostic::new(
                g.id.span(),
                format!("duplicate group id `{id}`"),
            ));
        }
        if g.members.get_ref().is_empty() {
            diags.push(Diagnostic::new(
                g.members.span(),
                format!("group `{id}` has no members"),
            ));
        }
        let mut members = Vec::new();
        for m in g.members.get_ref() {
            match actors.iter().position(|a| a == m.get_ref()) {
                Some(i) if members.contains(&(i as u16)) => diags.push(Diagnostic::new(
                    m.span(),
                    format!("`{}` is listed twice in group `{id}`", m.get_ref()),
                )),
                Some(i) => members.push(i as u16),
                None => diags.push(
                    Diagnostic::new(m.span(), format!("unknown actor `{}`", m.get_ref()))
                        .with_suggestion(m.get_ref(), actors.iter().map(String::as_str)),
                ),
            }
        }
        out.push(Group {
            id: id.clone(),
            members,
        });
    }
    out
}

/// What a template needs to know about the scenario's names.
pub(super) struct Names<'a> {
    /// Actor ids.
    pub actors: &'a [String],
    /// Checked groups.
    pub groups: &'a [Group],
    /// Other names a variable may not take, each with what it names
    /// (`parameter`, `event`, `state variable`).
    pub taken: &'a [(&'a str, &'a str)],
}

/// The instances of a table with optional `each` and `distinct`; `table` is
/// the span of the table's header in `source`: the text from it to the next
/// header is searched for uses of each variable outside `each` itself. A table without `each` has one instance with no bindings.
pub(super) fn instances(
    each: Option<&Spanned<RawEach>>,
    distinct: Option<&Spanned<bool>>,
    source: &str,
    table: Range<usize>,
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Instance> {
    let Some(each) = each else {
        if let Some(d) = distinct {
            diags.push(Diagnostic::new(
                d.span(),
                "`distinct` applies to the variables of `each`; this table has no `each`",
            ));
        }
        return vec![Instance {
            suffix: String::new(),
            bindings: Vec::new(),
        }];
    };
    let before = diags.len();
    let rest = source.get(table.end..).unwrap_or("");
    let body_end = (rest.match_indices('\n'))
        .find(|(i, _)| {
            rest[i + 1..]
                .trim_start_matches([' ', '\t'])
                .starts_with('[')
        })
        .map_or(source.len(), |(i, _)| table.end + i);
    let table = table.start..body_end;
    // Variables in the order the file declares them.
    let mut vars: Vec<(&Spanned<String>, &Spanned<OneOrMany>)> = each.get_ref().iter().collect();
    vars.sort_by_key(|(k, _)| k.span().start);
    if vars.is_empty() {
        diags.push(Diagnostic::new(
            each.span(),
            "`each` needs at least one variable, such as `each = { X = \"frontline\" }`",
        ));
    }
    let mut ranges: Vec<Vec<u16>> = Vec::new();
    for (var, value) in &vars {
        check_variable(var, each.span(), source, &table, names, diags);
        ranges.push(members(value, names, diags));
    }
    if diags.len() > before {
        return Vec::new();
    }
    let distinct = distinct.is_none_or(|d| *d.get_ref());
    let mut out = Vec::new();
    let mut pick = vec![0usize; vars.len()];
    'combos: loop {
        let chosen: Vec<u16> = (pick.iter().zip(&ranges)).map(|(&i, r)| r[i]).collect();
        let clash = (1..chosen.len()).any(|j| chosen[..j].contains(&chosen[j]));
        if !(distinct && clash) {
            let ids: Vec<&str> = chosen
                .iter()
                .map(|&a| names.actors[usize::from(a)].as_str())
                .collect();
            out.push(Instance {
                suffix: format!("[{}]", ids.join(",")),
                bindings: (vars.iter().zip(&chosen))
                    .map(|((v, _), &a)| (v.get_ref().clone(), a))
                    .collect(),
            });
        }
        // Next combination: the last variable varies fastest.
        for k in (0..pick.len()).rev() {
            pick[k] += 1;
            if pick[k] < ranges[k].len() {
                continue 'combos;
            }
            pick[k] = 0;
        }
        break;
    }
    if out.is_empty() {
        diags.push(Diagnostic::new(
            each.span(),
            "`each` gives no instance: with `distinct = true` every combination binds one actor to two variables",
        ).with_help("give the variables more members, or set `distinct = false`"));
    }
    out
}

/// A variable name must be an identifier that names nothing else, and the
/// table must use it somewhere outside `each`.
fn check_variable(
    var: &Spanned<String>,
    each: Range<usize>,
    source: &str,
    table: &Range<usize>,
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) {
    let name = var.get_ref().as_str();
    let taken = if names.actors.iter().any(|a| a == name) {
        Some("an actor id")
    } else if names.groups.iter().any(|g| g.id == name) {
        Some("a group id")
    } else if super::names::RESERVED.contains(&name) {
        Some("a reserved word")
    } else {
        (names.taken.iter().find(|(n, _)| *n == name)).map(|(_, what)| *what)
    };
    if !super::names::is_ident(name) {
        diags.push(Diagnostic::new(
            var.span(),
            format!("variable `{name}` is not an identifier (letters, digits and `_`, not starting with a digit)"),
        ));
    } else if let Some(what) = taken {
        diags.push(Diagnostic::new(
            var.span(),
            format!("variable `{name}` is already {what}; choose another name, such as `X`"),
        ));
    } else {
        let text = source.get(table.clone()).unwrap_or("");
        let used = identifiers(text).any(|(at, word)| {
            let at = table.start + at;
            word == name && !(each.start..each.end).contains(&at)
        });
        if !used {
            diags.push(Diagnostic::new(
                var.span(),
                format!("variable `{name}` is not used; every instance would be the same"),
            ).with_help(format!("use `{name}` where an actor id goes (`actor`, `source`, `target`, `{name}.var`, …) or remove it")));
        }
    }
}

/// The actors a variable ranges over: a group's members, or a list of actor ids.
fn members(value: &Spanned<OneOrMany>, names: &Names, diags: &mut Vec<Diagnostic>) -> Vec<u16> {
    match value.get_ref() {
        OneOrMany::One(group) => match names.groups.iter().find(|g| &g.id == group) {
            Some(g) => g.members.clone(),
            None => {
                let mut d = Diagnostic::new(value.span(), format!("unknown group `{group}`"))
                    .with_suggestion(group, names.groups.iter().map(|g| g.id.as_str()));
                if d.help.is_none() && names.actors.contains(group) {
                    d = d.with_help(format!(
                        "`{group}` is an actor; a variable takes a group id or a list of actor ids (`[\"{group}\"]`)"
                    ));
                }
                diags.push(d);
                Vec::new()
            }
        },
        OneOrMany::Many(ids) => {
            if ids.is_empty() {
                diags.push(Diagnostic::new(
                    value.span(),
                    "a variable's list of actors must not be empty",
                ));
            }
            let mut out = Vec::new();
            for id in ids {
                match names.actors.iter().position(|a| a == id) {
                    Some(i) if out.contains(&(i as u16)) => diags.push(Diagnostic::new(
                        value.span(),
                        format!("`{id}` is listed twice"),
                    )),
                    Some(i) => out.push(i as u16),
                    None => diags.push(
                        Diagnostic::new(value.span(), format!("unknown actor `{id}`"))
                            .with_suggestion(id, names.actors.iter().map(String::as_str)),
                    ),
                }
            }
            out
        }
    }
}

/// The identifier-like words of `text` (`[A-Za-z_][A-Za-z0-9_]*`, not
/// inside a longer word), with their byte offsets.
fn identifiers(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if word(bytes[i]) {
                let start = i;
                while i < bytes.len() && word(bytes[i]) {
                    i += 1;
                }
                if !bytes[start].is_ascii_digit() {
                    return Some((start, &text[start..i]));
                }
            } else {
                i += 1;
            }
        }
        None
    })
}
