//! From the TOML shape to a validated [`Scenario`]: names resolved, ranges
//! checked, expressions compiled. Every problem becomes a [`Diagnostic`]; all
//! that can be found in one pass are reported together.

use super::model::*;
use super::raw::*;
use super::template;
use crate::diag::Diagnostic;
use crate::expr::{self, ActorRef, Context, Expr, ParamEnv, Scope, Type, VarDecl};
use crate::time::{days_from_civil, is_valid_date, TimeUnit};
use std::ops::Range;
use toml::Spanned;

mod initial;
use super::names::{is_ident, RESERVED};
mod point_values;

/// Largest accepted event budget: bounds the memory one replication may use.
const MAX_EVENT_BUDGET: i64 = 100_000_000;
/// The most actors a scenario may declare: `tension(source, target)` is read
/// from an actors × actors table.
const MAX_ACTORS: usize = 4096;

/// The scenario and its warnings (sorted by position), or every error.
pub(super) fn compile(source: &str) -> Result<(Scenario, Vec<Diagnostic>), Vec<Diagnostic>> {
    use super::structure::Read;
    let (raw, shape_errors) = match super::structure::read(source) {
        Read::Whole(raw) => (raw, Vec::new()),
        Read::Partial(raw, errors) => (raw, errors),
        Read::Errors(errors) => return Err(errors),
    };
    let mut c = Compiler {
        source,
        diags: Vec::new(),
        scope: Scope::default(),
        histories: Default::default(),
        groups: Vec::new(),
        suffix: String::new(),
        taken: Vec::new(),
        impacts: Vec::new(),
        warnings: Vec::new(),
    };
    let scenario = c.scenario(raw);
    c.diags.extend(shape_errors);
    if c.diags.is_empty() {
        c.warnings.sort_by_key(|d| (d.span.start, d.span.end));
        Ok((scenario, c.warnings))
    } else {
        c.diags.sort_by_key(|d| (d.span.start, d.span.end));
        Err(c.diags)
    }
}

struct Compiler<'s> {
    source: &'s str,
    diags: Vec<Diagnostic>,
    scope: Scope,
    histories: super::history::Registry,
    /// The scenario's groups.
    groups: Vec<template::Group>,
    /// The name suffix of the template instance being compiled (`[POL]`),
    /// empty outside templates.
    suffix: String,
    /// Names a template variable may not take: (name, what it names).
    taken: Vec<(String, &'static str)>,
    /// Tension impacts whose dyad depends on who emits the event, checked
    /// against every emission once everything is compiled.
    impacts: Vec<PairImpact>,
    /// Warnings: the scenario loads, but something in it does nothing.
    warnings: Vec<Diagnostic>,
}

/// An effect on `tension(a, b)` of an event that reads its source or target
/// (or names two actors with no tension): where it is written and how to
/// name it in a warning.
struct PairImpact {
    event: u32,
    span: std::ops::Range<usize>,
    what: String,
    a: expr::ActorRef,
    b: expr::ActorRef,
}

/// One end of an emitted event, as far as the compiler knows it.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// This actor.
    Known(u16),
    /// No actor (the schedule entry, hazard or alternative names none).
    Missing,
    /// Decided at run time (a rule emitting to its trigger's source, say).
    Unknown,
}

impl Compiler<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(span, message));
    }

    fn err_unknown(&mut self, span: Range<usize>, what: &str, name: &str, known: &[String]) {
        let d = Diagnostic::new(span, format!("unknown {what} `{name}`"))
            .with_suggestion(name, known.iter().map(String::as_str));
        self.diags.push(d);
    }

    fn check_name(&mut self, name: &Spanned<String>, what: &str) {
        if !is_ident(name.get_ref()) {
            self.err(
                name.span(),
                format!("{what} `{}` is not an identifier (letters, digits and `_`, not starting with a digit)", name.get_ref()),
            );
        } else if RESERVED.contains(&name.get_ref().as_str()) {
            self.err(
                name.span(),
                format!(
                    "`{}` is a reserved word and cannot name a {what}",
                    name.get_ref()
                ),
            );
        }
    }

    fn scenario(&mut self, raw: RawFile) -> Scenario {
        let meta = raw.scenario.into_inner();
        let time_unit = match &meta.time_unit {
            None => TimeUnit::Days,
            Some(u) => TimeUnit::parse(u.get_ref()).unwrap_or_else(|| {
                let d = Diagnostic::new(u.span(), format!("unknown time unit `{}`", u.get_ref()))
                    .with_help(format!("use one of {}", TimeUnit::NAMES.join(", ")));
                self.diags.push(d);
                TimeUnit::Days
            }),
        };
        let start_day =
            meta.start
                .as_ref()
                .and_then(|s| match (s.get_ref().date, s.get_ref().time) {
                    (Some(d), _)
                        if is_valid_date(
                            i64::from(d.year),
                            u32::from(d.month),
                            u32::from(d.day),
                        ) =>
                    {
                        Some(days_from_civil(
                            i64::from(d.year),
                            u32::from(d.month),
                            u32::from(d.day),
                        ))
                    }
                    _ => {
                        self.err(
                            s.span(),
                            "`start` must be a calendar date such as 2025-09-01",
                        );
                        None
                    }
                });
        let mut timeconv = TimeConv {
            start_day,
            unit: time_unit,
        };
        let horizon = self.time(&meta.horizon, &timeconv).unwrap_or(1.0);
        if horizon.is_nan() || horizon <= 0.0 {
            self.err(meta.horizon.span(), "`horizon` must be after time 0");
        }
        timeconv.start_day = start_day;
        let seed = match &meta.seed {
            None => 0,
            Some(s) if *s.get_ref() >= 0 => *s.get_ref() as u64,
            Some(s) => {
                self.err(s.span(), "`seed` must be a non-negative integer");
                0
            }
        };
        let event_budget = match &meta.event_budget {
            None => 100_000,
            Some(b) if (1..=MAX_EVENT_BUDGET).contains(b.get_ref()) => *b.get_ref() as u64,
            Some(b) => {
                self.err(
                    b.span(),
                    format!("`event_budget` must be between 1 and {MAX_EVENT_BUDGET}"),
                );
                100_000
            }
        };
        let censor_default = meta
            .jitter_edges
            .as_ref()
            .and_then(|e| self.jitter_edges(e))
            .unwrap_or(false);
        let goldstein_scale = meta.goldstein_scale.as_ref().and_then(|g| {
            if g.get_ref().is_finite() {
                Some(*g.get_ref())
            } else {
                self.err(g.span(), "`goldstein_scale` must be a finite number");
                None
            }
        });
        self.check_name_text(&meta.name);

        let params = self.params(raw.params);
        let actors = self.actors(&raw.actor);
        let (initial_state, initial_exprs) = self.state(&raw.actor);
        for g in &raw.group {
            self.check_name(&g.get_ref().id, "group");
        }
        self.groups = template::groups(&raw.group, &self.scope.actors, &mut self.diags);
        self.taken = (self.scope.params.iter().map(|p| (p.clone(), "a parameter")))
            .chain(
                self.scope
                    .vars
                    .iter()
                    .map(|v| (v.name.clone(), "a state variable")),
            )
            .chain(
                raw.event
                    .iter()
                    .map(|e| (e.get_ref().id.get_ref().clone(), "an event id")),
            )
            .collect();
        let defaults: Vec<f64> = params.iter().map(|p| p.value).collect();
        let dyads = self.dyads(&raw.tension, &defaults);

        // Event ids first: every expression may count any event.
        let mut seen = std::collections::HashSet::new();
        for ev in &raw.event {
            let id = &ev.get_ref().id;
            self.check_name(id, "event");
            if id.get_ref() == super::model::HORIZON {
                self.err(id.span(), "`horizon` names the end of a replication in the `terminal` column; choose another event id");
            }
            if !seen.insert(id.get_ref().as_str()) {
                self.err(id.span(), format!("duplicate event id `{}`", id.get_ref()));
            }
            self.scope.events.push(id.get_ref().clone());
        }
        self.scope.reindex();
        let events: Vec<EventType> = raw
            .event
            .iter()
            .enumerate()
            .map(|(i, e)| self.event(i as u32, e.get_ref(), goldstein_scale))
            .collect();
        let mut schedule: Vec<ScheduleEntry> = Vec::new();
        for s in &raw.schedule {
            let entry = s.get_ref();
            let (each, distinct) = (entry.each.as_ref(), entry.distinct.as_ref());
            let label = entry.event.get_ref().clone();
            schedule.extend(self.each(&label, s.span(), each, distinct, |c| {
                c.schedule_entry(entry, &timeconv, horizon, censor_default)
            }));
        }
        let mut rules: Vec<Rule> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &raw.rule {
            let name = &r.get_ref().name;
            if !seen.insert(name.get_ref().as_str()) {
                self.err(
                    name.span(),
                    format!("duplicate rule name `{}`", name.get_ref()),
                );
            }
            let raw_rule = r.get_ref();
            let (each, distinct) = (raw_rule.each.as_ref(), raw_rule.distinct.as_ref());
            let label = raw_rule.name.get_ref().clone();
            rules.extend(self.each(&label, r.span(), each, distinct, |c| c.rule(raw_rule)));
        }
        let mut rules_on = vec![Vec::new(); self.scope.events.len()];
        for (i, r) in rules.iter().enumerate() {
            for &e in &r.on {
                rules_on[e as usize].push(i as u32);
            }
        }
        let mut hazards = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for h in &raw.hazard {
            let name = &h.get_ref().name;
            if !seen.insert(name.get_ref().as_str()) {
                self.err(
                    name.span(),
                    format!("duplicate hazard name `{}`", name.get_ref()),
                );
            }
            let raw_hazard = h.get_ref();
            let (each, distinct) = (raw_hazard.each.as_ref(), raw_hazard.distinct.as_ref());
            let label = raw_hazard.name.get_ref().clone();
            hazards.extend(self.each(&label, h.span(), each, distinct, |c| c.hazard(raw_hazard)));
        }
        self.warn_impacts(&events, &actors, &schedule, &rules, &hazards);
        let outcomes = self.outcomes(&raw.outcome, &dyads, &actors);
        let streams =
            super::streams::streams(&events, &schedule, &rules, &hazards).unwrap_or_else(|c| {
                let second = &c.names.1;
                let span = (raw.rule.iter().map(|r| &r.get_ref().name))
                    .chain(raw.hazard.iter().map(|h| &h.get_ref().name))
                    .find(|n| n.get_ref() == second)
                    .map_or(meta.name.span(), |n| n.span());
                self.err(
                    span,
                    format!(
                        "the {} names `{}` and `{}` hash to the same random stream; rename one",
                        c.kind, c.names.0, c.names.1
                    ),
                );
                Default::default()
            });

        let (histories, histories_on) =
            std::mem::take(&mut self.histories).finish(self.scope.events.len());
        let filters: Vec<super::dispatch::Filters<'_>> = rules
            .iter()
            .map(|r| super::dispatch::Filters {
                to: r.to.as_deref(),
                from: r.from.as_deref(),
                involving: r.involving.as_deref(),
            })
            .collect();
        let rules_by_event = super::dispatch::rules_by_event(&filters, &rules_on, actors.len());
        Scenario {
            name: meta.name.into_inner(),
            description: meta.description,
            time_unit,
            start_day,
            horizon,
            seed,
            event_budget,
            params,
            actors,
            scope: std::mem::take(&mut self.scope),
            initial_state,
            initial_exprs,
            dyads,
            events,
            schedule,
            rules,
            rules_by_event,
            rules_on,
            hazards,
            outcomes,
            streams,
            histories,
            histories_on,
            warnings: Vec::new(),
        }
    }

    /// Warns about each tension impact that falls on no dyad for some
    /// emission of its event: the pair the emission gives (source, target)
    /// has no declared tension, or the emission lacks one of them. Emissions
    /// whose actors are only known at run time are not checked; each
    /// (impact, pair) is reported once, naming its first emitter.
    fn warn_impacts(
        &mut self,
        events: &[EventType],
        actors: &[Actor],
        schedule: &[ScheduleEntry],
        rules: &[Rule],
        hazards: &[Hazard],
    ) {
        if self.impacts.is_empty() {
            return;
        }
        let fixed = |a: Option<u16>| a.map_or(End::Missing, End::Known);
        let of_ref = |a: Option<expr::ActorRef>| match a {
            None => End::Missing,
            Some(expr::ActorRef::Fixed(x)) => End::Known(x),
            Some(_) => End::Unknown,
        };
        // (event, source, target, who emits it)
        let mut emissions: Vec<(u32, End, End, String)> = Vec::new();
        for e in schedule {
            let at = match &e.at_expr {
                Some((_, text)) => format!("`{text}`"),
                None => e.at.to_string(),
            };
            let who = format!("the schedule entry{} at t = {at}", e.instance);
            emissions.push((e.event, fixed(e.source), fixed(e.target), who));
        }
        for r in rules {
            let who = format!("rule `{}`", r.name);
            if r.choose.is_empty() {
                let source = of_ref(Some(r.emit_source));
                if r.emit_targets.is_empty() {
                    emissions.push((r.emit_event, source, of_ref(r.emit_target), who.clone()));
                } else {
                    for &m in &r.emit_targets {
                        emissions.push((r.emit_event, source, End::Known(m), who.clone()));
                    }
                }
            }
            for a in &r.choose {
                emissions.push((a.event, of_ref(a.source), of_ref(a.target), who.clone()));
            }
        }
        for h in hazards {
            let who = format!("hazard `{}`", h.name);
            if h.choose.is_empty() {
                emissions.push((h.event, fixed(h.source), fixed(h.target), who.clone()));
            }
            for a in &h.choose {
                emissions.push((a.event, of_ref(a.source), of_ref(a.target), who.clone()));
            }
        }
        let n = actors.len();
        let mut seen = std::collections::HashSet::new();
        let impacts = std::mem::take(&mut self.impacts);
        for (k, imp) in impacts.iter().enumerate() {
            for (event, source, target, who) in &emissions {
                if *event != imp.event {
                    continue;
                }
                let end = |r: expr::ActorRef| match r {
                    expr::ActorRef::Fixed(x) => End::Known(x),
                    expr::ActorRef::Source => *source,
                    expr::ActorRef::Target => *target,
                };
                let (a, b) = (end(imp.a), end(imp.b));
                let event = &events[imp.event as usize].id;
                let message = match (a, b) {
                    (End::Unknown, _) | (_, End::Unknown) => continue,
                    (End::Known(a), End::Known(b)) => {
                        if self.scope.dyads[usize::from(a) * n + usize::from(b)].is_some()
                            || !seen.insert((k, a, b))
                        {
                            continue;
                        }
                        let (a, b) = (&actors[usize::from(a)].id, &actors[usize::from(b)].id);
                        format!(
                            "{} of `{event}` falls on no tension when {who} emits it from {a} to {b}: no tension between {a} and {b} is declared",
                            imp.what
                        )
                    }
                    _ => {
                        if !seen.insert((k, u16::MAX, u16::MAX)) {
                            continue;
                        }
                        let missing = if a == End::Missing && imp.a == expr::ActorRef::Source
                            || b == End::Missing && imp.b == expr::ActorRef::Source
                        {
                            "source"
                        } else {
                            "target"
                        };
                        format!(
                            "{} of `{event}` falls on no tension when {who} emits it with no {missing}",
                            imp.what
                        )
                    }
                };
                self.warnings.push(
                    Diagnostic::new(imp.span.clone(), message)
                        .with_help("declare the [[tension]], emit the event between actors that have one, or drop the impact"),
                );
            }
        }
    }

    fn check_name_text(&mut self, name: &Spanned<String>) {
        if name.get_ref().is_empty() {
            self.err(name.span(), "`name` must not be empty");
        }
    }

    /// A time: a number, or a date when the scenario has a `start`.
    fn time(&mut self, v: &Spanned<toml::Value>, conv: &TimeConv) -> Option<f64> {
        match v.get_ref() {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Some(*f),
            toml::Value::Float(_) => {
                self.err(v.span(), "a time must be a finite number");
                None
            }
            toml::Value::Datetime(dt) => {
                let Some(start) = conv.start_day else {
                    self.err(
                        v.span(),
                        "a date needs `start` in [scenario] to anchor time 0",
                    );
                    return None;
                };
                let Some(d) = dt.date else {
                    self.err(v.span(), "a time of day needs a date");
                    return None;
                };
                if !is_valid_date(i64::from(d.year), u32::from(d.month), u32::from(d.day)) {
                    self.err(v.span(), "not a calendar date");
                    return None;
                }
                let mut days =
                    (days_from_civil(i64::from(d.year), u32::from(d.month), u32::from(d.day))
                        - start) as f64;
                if let Some(t) = dt.time {
                    days += (f64::from(t.hour) * 3600.0
                        + f64::from(t.minute) * 60.0
                        + f64::from(t.second.unwrap_or(0)))
                        / 86_400.0;
                }
                Some(days / conv.unit.days())
            }
            _ => {
                self.err(v.span(), "expected a time: a number or a date");
                None
            }
        }
    }

    fn params(
        &mut self,
        raw: std::collections::BTreeMap<Spanned<String>, Spanned<RawParam>>,
    ) -> Vec<Param> {
        let mut params = Vec::new();
        for (name, p) in raw {
            self.check_name(&name, "parameter");
            let span = p.span();
            let (value, min, max, doc) = match p.into_inner() {
                RawParam::Value(v) => (v, f64::NEG_INFINITY, f64::INFINITY, String::new()),
                RawParam::Full(f) => (
                    f.value,
                    f.min.unwrap_or(f64::NEG_INFINITY),
                    f.max.unwrap_or(f64::INFINITY),
                    f.doc,
                ),
            };
            if value.is_nan() || min.is_nan() || max.is_nan() {
                self.err(
                    span.clone(),
                    format!("parameter `{}` has a NaN", name.get_ref()),
                );
            } else if !value.is_finite() {
                self.err(
                    span.clone(),
                    format!("parameter `{}` must have a finite value", name.get_ref()),
                );
            } else if min > max {
                self.err(
                    span.clone(),
                    format!(
                        "parameter `{}` has min {min} above max {max}",
                        name.get_ref()
                    ),
                );
            } else if value < min || value > max {
                self.err(
                    span.clone(),
                    format!(
                        "parameter `{}` = {value} is outside [{min}, {max}]",
                        name.get_ref()
                    ),
                );
            }
            let name = name.into_inner();
            self.scope.params.push(name.clone());
            params.push(Param {
                name,
                value,
                min,
                max,
                doc,
            });
        }
        params
    }

    fn actors(&mut self, raw: &[Spanned<RawActor>]) -> Vec<Actor> {
        let mut actors = Vec::new();
        if raw.len() > MAX_ACTORS {
            self.err(
                0..0,
                format!("too many actors ({}; at most {MAX_ACTORS})", raw.len()),
            );
            return actors;
        }
        let mut seen = std::collections::HashSet::new();
        for a in raw {
            let a = a.get_ref();
            self.check_name(&a.id, "actor");
            if !seen.insert(a.id.get_ref().as_str()) {
                self.err(
                    a.id.span(),
                    format!("duplicate actor id `{}`", a.id.get_ref()),
                );
            }
            self.scope.actors.push(a.id.get_ref().clone());
            actors.push(Actor {
                id: a.id.get_ref().clone(),
                name: a.name.clone().unwrap_or_else(|| a.id.get_ref().clone()),
            });
        }
        actors
    }

    /// Collects state variables (one type per name), the initial state
    /// matrix and the initial values given as expressions.
    fn state(&mut self, raw: &[Spanned<RawActor>]) -> (Vec<f64>, Vec<InitialValue>) {
        let mut exprs: Vec<(usize, &Spanned<String>, Expr)> = Vec::new();
        let mut first_var: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::new();
        for (ai, a) in raw.iter().enumerate() {
            for (name, value) in &a.get_ref().state {
                let ty = match value.get_ref() {
                    toml::Value::Boolean(_) => Type::Bool,
                    toml::Value::Integer(_) | toml::Value::Float(_) => Type::Num,
                    toml::Value::String(_) => {
                        let Some(e) = self.initial_expr(value) else {
                            continue;
                        };
                        let ty = e.ty();
                        exprs.push((ai, name, e));
                        ty
                    }
                    _ => {
                        self.err(
                            value.span(),
                            "a state variable must be a boolean, a number or an expression (a string) of parameters and random draws",
                        );
                        continue;
                    }
                };
                if !is_ident(name.get_ref()) {
                    self.err(
                        name.span(),
                        format!("state variable `{}` is not an identifier", name.get_ref()),
                    );
                }
                match first_var
                    .get(name.get_ref().as_str())
                    .map(|&i| &self.scope.vars[i])
                {
                    Some(v) if v.ty != ty => {
                        let msg = format!(
                            "state variable `{}` is a {} here but a {} for another actor",
                            name.get_ref(),
                            type_name(ty),
                            type_name(v.ty)
                        );
                        self.err(value.span(), msg);
                    }
                    Some(_) => {}
                    None => {
                        first_var.insert(name.get_ref().as_str(), self.scope.vars.len());
                        self.scope.vars.push(VarDecl {
                            name: name.get_ref().clone(),
                            ty,
                        });
                    }
                }
            }
        }
        self.scope.reindex();
        let n_vars = self.scope.vars.len();
        let mut state = vec![0.0; raw.len() * n_vars];
        self.scope.declared = vec![false; raw.len() * n_vars];
        for (ai, a) in raw.iter().enumerate() {
            for (name, value) in &a.get_ref().state {
                let Some(vi) = self.scope.var_index(name.get_ref()) else {
                    continue;
                };
                let x = match value.get_ref() {
                    toml::Value::Boolean(b) => f64::from(u8::from(*b)),
                    toml::Value::Integer(i) => *i as f64,
                    toml::Value::Float(f) => *f,
                    toml::Value::String(_) => 0.0,
                    _ => continue,
                };
                if !x.is_finite() {
                    self.err(value.span(), "a state variable must be finite");
                }
                state[ai * n_vars + vi] = x;
                self.scope.declared[ai * n_vars + vi] = true;
            }
        }
        let initial_exprs = (exprs.into_iter())
            .filter_map(|(ai, name, value)| {
                let vi = self.scope.var_index(name.get_ref())?;
                let id = &self.scope.actors.get(ai)?;
                Some(InitialValue {
                    actor: ai as u16,
                    slot: ai * n_vars + vi,
                    value,
                    stream: crate::rng::stream_id::named(crate::rng::stream_id::KIND_ACTOR, id),
                })
            })
            .collect();
        (state, initial_exprs)
    }

    fn actor_index(&mut self, name: &Spanned<String>) -> Option<u16> {
        let bound = self.scope.aliases.iter().find(|(v, _)| v == name.get_ref());
        if let Some((_, a)) = bound {
            return Some(*a);
        }
        match self.scope.actor_index(name.get_ref()) {
            Some(i) => Some(i as u16),
            None if self.groups.iter().any(|g| g.id == *name.get_ref()) => {
                let d = Diagnostic::new(
                    name.span(),
                    format!("`{}` is a group, not an actor", name.get_ref()),
                )
                .with_help(format!(
                    "bind a variable to it, `each = {{ X = \"{}\" }}`, and write `X` here",
                    name.get_ref()
                ));
                self.diags.push(d);
                None
            }
            None => {
                let known = self.scope.actors.clone();
                self.err_unknown(name.span(), "actor", name.get_ref(), &known);
                None
            }
        }
    }

    /// The members of the group `name` names, unless a template variable
    /// of that name is bound.
    fn group_members(&self, name: &Spanned<String>) -> Option<Vec<u16>> {
        if self.scope.aliases.iter().any(|(v, _)| v == name.get_ref()) {
            return None;
        }
        let group = self.groups.iter().find(|g| g.id == *name.get_ref())?;
        Some(group.members.clone())
    }

    /// Compiles a table once per instance of its `each` (once if it has
    /// none), with the instance's variables bound and its name suffix set.
    /// An error found in an instance names it (`in \`NAME[POL]\``); one that
    /// every instance repeats at the same place is reported once.
    fn each<T>(
        &mut self,
        label: &str,
        table: Range<usize>,
        each: Option<&Spanned<RawEach>>,
        distinct: Option<&Spanned<bool>>,
        mut compile: impl FnMut(&mut Self) -> Option<T>,
    ) -> Vec<T> {
        let taken: Vec<(&str, &str)> = (self.taken.iter()).map(|(n, w)| (n.as_str(), *w)).collect();
        let names = template::Names {
            actors: &self.scope.actors,
            groups: &self.groups,
            taken: &taken,
        };
        let mut diags = Vec::new();
        let instances = template::instances(each, distinct, self.source, table, &names, &mut diags);
        self.diags.append(&mut diags);
        let mut out = Vec::new();
        let mut seen: Vec<(Range<usize>, String)> = Vec::new();
        for instance in instances {
            let before = self.diags.len();
            self.suffix = instance.suffix;
            self.scope.aliases = instance.bindings;
            if let Some(x) = compile(self) {
                out.push(x);
            }
            self.scope.aliases.clear();
            let suffix = std::mem::take(&mut self.suffix);
            if suffix.is_empty() {
                continue;
            }
            let found = self.diags.split_off(before);
            for mut d in found {
                let key = (d.span.clone(), d.message.clone());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                d.message = format!("{} (in `{label}{suffix}`)", d.message);
                self.diags.push(d);
            }
        }
        out
    }

    /// An actor id, or `source`/`target` where the context allows.
    fn actor_ref(&mut self, name: &Spanned<String>, context: bool) -> Option<ActorRef> {
        match name.get_ref().as_str() {
            "source" if context => Some(ActorRef::Source),
            "target" if context => Some(ActorRef::Target),
            _ => self.actor_index(name).map(ActorRef::Fixed),
        }
    }

    /// The tensions; each one's initial value, baseline and half-life are
    /// checked now when they are constant, and at the parameters' default
    /// values when they depend on parameters (the scenario's own point must
    /// run).
    fn dyads(&mut self, raw: &[Spanned<RawTension>], defaults: &[f64]) -> Vec<Dyad> {
        let n = self.scope.actors.len();
        self.scope.dyads = vec![None; n * n];
        let mut dyads = Vec::new();
        let mut labels = std::collections::HashSet::new();
        for t in raw {
            let tension = t.get_ref();
            let (each, distinct) = (tension.each.as_ref(), tension.distinct.as_ref());
            self.each("tension", t.span(), each, distinct, |c| {
                c.dyad(t, &mut dyads, &mut labels, defaults);
                Some(())
            });
        }
        dyads
    }

    /// Compiles one `[[tension]]` (or one instance of it) into `dyads`.
    fn dyad(
        &mut self,
        t: &Spanned<RawTension>,
        dyads: &mut Vec<Dyad>,
        labels: &mut std::collections::HashSet<String>,
        defaults: &[f64],
    ) {
        let n = self.scope.actors.len();
        let span = t.span();
        let t = t.get_ref();
        if t.between.get_ref().len() != 2 {
            self.err(t.between.span(), "`between` must name exactly two actors");
            return;
        }
        let (Some(a), Some(b)) = (
            self.actor_index(&t.between.get_ref()[0]),
            self.actor_index(&t.between.get_ref()[1]),
        ) else {
            return;
        };
        if a == b {
            self.err(t.between.span(), "a dyad needs two different actors");
            return;
        }
        let (ai, bi) = (usize::from(a), usize::from(b));
        let clash = self.scope.dyads[ai * n + bi].is_some()
            || (!t.directed
                && self.scope.dyads[bi * n + ai].is_some_and(|d| !dyads_directed(dyads, d)));
        if clash {
            self.err(
                t.between.span(),
                format!(
                    "tension between `{}` and `{}` is declared twice",
                    self.scope.actors[ai], self.scope.actors[bi]
                ),
            );
            return;
        }
        let (lo, hi) = match &t.range {
            None => (0.0, f64::INFINITY),
            Some(r)
                if r.get_ref().len() == 2
                    && !r.get_ref()[0].is_nan()
                    && !r.get_ref()[1].is_nan()
                    && r.get_ref()[0] <= r.get_ref()[1] =>
            {
                (r.get_ref()[0], r.get_ref()[1])
            }
            Some(r) => {
                self.err(r.span(), "`range` must be [low, high] with low <= high");
                (f64::NEG_INFINITY, f64::INFINITY)
            }
        };
        let ctx = Context::default();
        let initial = self.dyad_value(&t.initial, ctx, "initial");
        let baseline = match &t.baseline {
            Some(b) => self.dyad_value(b, ctx, "baseline"),
            None => initial.clone(),
        };
        let half_life = match &t.half_life {
            Some(h) => self.dyad_value(h, ctx, "half_life"),
            None => expr::compile("inf", &self.scope, ctx, Some(Type::Num)).ok(),
        };
        let (Some(initial), Some(baseline), Some(half_life)) = (initial, baseline, half_life)
        else {
            return;
        };
        let (mut thresholds, mut threshold_exprs, mut threshold_labels) =
            (Vec::new(), Vec::new(), Vec::<String>::new());
        for th in &t.thresholds {
            let Some((value, expr, label)) = self.threshold(th) else {
                continue;
            };
            if threshold_labels.contains(&label) {
                self.err(th.span(), format!("threshold {label} is listed twice"));
                continue;
            }
            thresholds.push(value);
            threshold_exprs.push(expr);
            threshold_labels.push(label);
        }
        let idx = dyads.len() as u32;
        self.scope.dyads[ai * n + bi] = Some(idx);
        if !t.directed && self.scope.dyads[bi * n + ai].is_none() {
            self.scope.dyads[bi * n + ai] = Some(idx);
        }
        let label = format!("{}_{}", self.scope.actors[ai], self.scope.actors[bi]);
        if !labels.insert(label.clone()) {
            self.err(
                t.between.span(),
                format!("the metric names of this dyad (`tension_{label}_…`) collide with another dyad's; rename an actor"),
            );
        }
        let dyad = Dyad {
            a,
            b,
            directed: t.directed,
            initial,
            baseline,
            half_life,
            lo,
            hi,
            thresholds,
            threshold_exprs,
            threshold_labels,
            label,
        };
        let constant = [&dyad.initial, &dyad.baseline, &dyad.half_life]
            .iter()
            .all(|e| e.constant().is_some());
        if constant {
            if let Err(msg) = dyad.values(&ParamEnv::NONE) {
                self.err(span.clone(), msg);
            }
        } else if let Err(msg) = dyad.values(&ParamEnv(defaults)) {
            self.err(
                span.clone(),
                format!("{msg} (at the parameters' default values)"),
            );
        }
        dyads.push(dyad);
    }

    /// A dyad's initial value, baseline or half-life: a number or an
    /// expression of parameters only.
    fn dyad_value(&mut self, v: &ExprVal, ctx: Context, what: &str) -> Option<Expr> {
        let e = self.expr(v, ctx, Type::Num)?;
        let r = e.reads();
        if r.time || r.tension || r.state || r.events || r.event_actors {
            self.err(v.span(), format!("`{what}` may depend on parameters only"));
            return None;
        }
        Some(e)
    }

    /// Compiles an expression value (a string, or a literal number/boolean).
    fn expr(&mut self, v: &ExprVal, ctx: Context, ty: Type) -> Option<Expr> {
        let span = v.span();
        let (text, offset, literal) = match v.get_ref() {
            toml::Value::String(s) => (s.clone(), content_offset(self.source, &span), false),
            toml::Value::Integer(i) => (i.to_string(), span.start, true),
            toml::Value::Float(f) if f.is_nan() => {
                self.err(span, "NaN is not a valid value");
                return None;
            }
            toml::Value::Float(f) if f.is_infinite() => (
                (if *f > 0.0 { "inf" } else { "-inf" }).to_string(),
                span.start,
                true,
            ),
            toml::Value::Float(f) => (format!("{f:?}"), span.start, true),
            toml::Value::Boolean(b) => (b.to_string(), span.start, true),
            _ => {
                self.err(
                    span,
                    "expected an expression (a string), a number or a boolean",
                );
                return None;
            }
        };
        match expr::compile(&text, &self.scope, ctx, Some(ty)) {
            Ok(mut e) => {
                self.histories.bind(&mut e);
                Some(e)
            }
            Err(errors) => {
                // A literal's errors point at the whole value.
                self.expr_errors(errors, |inner| match literal {
                    true => span.clone(),
                    false => shift(inner, offset, &span),
                });
                None
            }
        }
    }

    /// Records an expression's errors, each span moved from the expression
    /// string into the file by `place`.
    pub(super) fn expr_errors(
        &mut self,
        errors: Vec<expr::ExprError>,
        place: impl Fn(&Range<usize>) -> Range<usize>,
    ) {
        for e in errors {
            let mut d = Diagnostic::new(place(&e.span), e.message);
            d.help = e.help;
            self.diags.push(d);
        }
    }

    fn statement(&mut self, s: &Spanned<String>, ctx: Context) -> Option<expr::Statement> {
        let span = s.span();
        let offset = content_offset(self.source, &span);
        match expr::compile_statement(s.get_ref(), &self.scope, ctx) {
            Ok(mut st) => {
                self.histories.bind(&mut st.value);
                Some(st)
            }
            Err(errors) => {
                self.expr_errors(errors, |inner| shift(inner, offset, &span));
                None
            }
        }
    }

    fn event(&mut self, index: u32, ev: &RawEvent, goldstein_scale: Option<f64>) -> EventType {
        let (priority, priority_expr) = match &ev.priority {
            None => (0, None),
            Some(p) => self.priority(p),
        };
        let ctx = Context {
            event_actors: true,
            draws: true,
        };
        let mut effects: Vec<expr::Statement> = Vec::new();
        for raw in ev.effects.iter().flatten() {
            let Some(st) = self.statement(raw, ctx) else {
                continue;
            };
            if let expr::Lvalue::Tension { a, b, dyad: None } = st.target {
                self.impacts.push(PairImpact {
                    event: index,
                    span: raw.span(),
                    what: format!("the effect `{}`", raw.get_ref()),
                    a,
                    b,
                });
            }
            effects.push(st);
        }
        let mut cameo = None;
        let mut default_impact = None;
        if let Some(code) = &ev.cameo {
            match crate::cameo::lookup(code.get_ref()) {
                Some(entry) => {
                    cameo = Some(entry.code.clone());
                    // The default impact applies only when `effects` is
                    // absent: an explicit list (empty included) is all the
                    // event does.
                    if let (Some(scale), None) = (goldstein_scale, &ev.effects) {
                        let delta = -entry.goldstein * scale;
                        let text = format!("tension(source, target) += {delta:?}");
                        if let Ok(st) = expr::compile_statement(&text, &self.scope, ctx) {
                            effects.push(st);
                            default_impact = Some(DefaultImpact {
                                delta,
                                goldstein: entry.goldstein,
                                scale,
                            });
                            self.impacts.push(PairImpact {
                                event: index,
                                span: code.span(),
                                what: "the default impact".to_string(),
                                a: expr::ActorRef::Source,
                                b: expr::ActorRef::Target,
                            });
                        }
                    }
                }
                None => {
                    let d = Diagnostic::new(
                        code.span(),
                        format!(
                            "unknown CAMEO code `{}` (not in the CAMEO/Goldstein table, data/cameo-goldstein.csv)",
                            code.get_ref()
                        ),
                    )
                    .with_suggestion(
                        code.get_ref(),
                        crate::cameo::table().iter().map(|e| e.code.as_str()),
                    );
                    self.diags.push(d);
                }
            }
        }
        EventType {
            id: ev.id.get_ref().clone(),
            label: ev.label.clone(),
            cameo,
            draws: effects.iter().any(|st| st.value.reads().draws),
            effects,
            default_impact,
            terminal: ev.terminal,
            hidden: ev.hidden,
            priority,
            priority_expr,
        }
    }

    fn event_index(&mut self, name: &Spanned<String>) -> Option<u32> {
        match self.scope.event_index(name.get_ref()) {
            Some(i) => Some(i as u32),
            None => {
                let known = self.scope.events.clone();
                self.err_unknown(name.span(), "event", name.get_ref(), &known);
                None
            }
        }
    }

    fn schedule_entry(
        &mut self,
        s: &RawSchedule,
        conv: &TimeConv,
        horizon: f64,
        censor_default: bool,
    ) -> Option<ScheduleEntry> {
        let event = self.event_index(&s.event);
        let (at, at_expr) = match s.at.get_ref() {
            toml::Value::String(text) => match self.schedule_at(&s.at) {
                Some(e) => (Some(0.0), Some((e, text.clone()))),
                None => (None, None),
            },
            _ => (self.time(&s.at, conv), None),
        };
        if let (Some(at), None) = (at, &at_expr) {
            if at < 0.0 || at > horizon {
                self.err(
                    s.at.span(),
                    format!("scheduled at {at}, outside [0, horizon = {horizon}]"),
                );
            }
        }
        let source = s.source.as_ref().map(|a| self.actor_index(a));
        let target = s.target.as_ref().map(|a| self.actor_index(a));
        let jitter = s
            .jitter
            .as_ref()
            .map(|j| self.delay(j, Context::default(), true));
        let censor = match &s.jitter_edges {
            None => censor_default,
            Some(e) => {
                if s.jitter.is_none() {
                    self.err(
                        e.span(),
                        "`jitter_edges` needs a `jitter` on the same schedule entry",
                    );
                }
                self.jitter_edges(e).unwrap_or(censor_default)
            }
        };
        Some(ScheduleEntry {
            instance: self.suffix.clone(),
            event: event?,
            at: at?,
            at_expr,
            source: source.flatten(),
            target: target.flatten(),
            jitter: jitter.flatten(),
            censor,
        })
    }

    /// `jitter_edges`: `"clamp"` (false) or `"censor"` (true).
    fn jitter_edges(&mut self, e: &Spanned<String>) -> Option<bool> {
        match e.get_ref().as_str() {
            "clamp" => Some(false),
            "censor" => Some(true),
            other => {
                let d = Diagnostic::new(
                    e.span(),
                    format!("unknown jitter_edges `{other}`; expected \"clamp\" or \"censor\""),
                )
                .with_suggestion(other, ["clamp", "censor"]);
                self.diags.push(d);
                None
            }
        }
    }

    /// Compiles a delay; `signed` allows negative values (jitter).
    fn delay(&mut self, d: &Spanned<RawDelay>, ctx: Context, signed: bool) -> Option<Delay> {
        let span = d.span();
        let num = |c: &mut Self, v: &ExprVal| c.expr(v, ctx, Type::Num);
        let (kind, p1, p2) = match d.get_ref() {
            RawDelay::Fixed(v) => (DelayKind::Fixed, num(self, v), None),
            RawDelay::Exponential {
                mean: Some(m),
                rate: None,
            } => (DelayKind::ExponentialMean, num(self, m), None),
            RawDelay::Exponential {
                mean: None,
                rate: Some(r),
            } => (DelayKind::ExponentialRate, num(self, r), None),
            RawDelay::Exponential { .. } => {
                self.err(span, "exponential takes exactly one of `mean` and `rate`");
                return None;
            }
            RawDelay::Uniform { min, max } => {
                (DelayKind::Uniform, num(self, min), Some(num(self, max)))
            }
            RawDelay::Lognormal {
                median: Some(m),
                mu: None,
                sigma,
            } => (
                DelayKind::LogNormalMedian,
                num(self, m),
                Some(num(self, sigma)),
            ),
            RawDelay::Lognormal {
                median: None,
                mu: Some(m),
                sigma,
            } => (DelayKind::LogNormalMu, num(self, m), Some(num(self, sigma))),
            RawDelay::Lognormal { .. } => {
                self.err(
                    span,
                    "lognormal takes exactly one of `median` and `mu`, and `sigma`",
                );
                return None;
            }
            RawDelay::Gamma {
                shape,
                scale: Some(s),
                mean: None,
            } => (DelayKind::GammaScale, num(self, shape), Some(num(self, s))),
            RawDelay::Gamma {
                shape,
                scale: None,
                mean: Some(m),
            } => (DelayKind::GammaMean, num(self, shape), Some(num(self, m))),
            RawDelay::Gamma { .. } => {
                self.err(
                    span,
                    "gamma takes `shape` and exactly one of `scale` and `mean`",
                );
                return None;
            }
            RawDelay::Weibull { shape, scale } => {
                (DelayKind::Weibull, num(self, shape), Some(num(self, scale)))
            }
        };
        let delay = Delay {
            kind,
            p1: p1?,
            p2: match p2 {
                Some(p) => Some(p?),
                None => None,
            },
        };
        // Constant parameters are checked now, so a bad file fails at load time.
        let constant = delay.p1.constant().is_some()
            && delay.p2.as_ref().is_none_or(|p| p.constant().is_some());
        if constant {
            let env = ParamEnv::NONE;
            let checked = if signed {
                signed_check(&delay, &env)
            } else {
                delay.dist(&env).map(|_| ())
            };
            if let Err(msg) = checked {
                self.err(span, msg);
                return None;
            }
        }
        Some(delay)
    }

    fn actor_set(&mut self, v: &Option<Spanned<OneOrMany>>) -> Option<Option<Vec<u16>>> {
        let Some(v) = v else { return Some(None) };
        let mut out = Vec::new();
        let mut ok = true;
        for name in v.get_ref().names() {
            let bound = self.scope.aliases.iter().any(|(b, _)| b == name);
            if let Some(g) = self.groups.iter().find(|g| g.id == name).filter(|_| !bound) {
                for &m in &g.members {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                continue;
            }
            let spanned = Spanned::new(v.span(), name.to_string());
            match self.actor_index(&spanned) {
                Some(i) => out.push(i),
                None => ok = false,
            }
        }
        ok.then_some(Some(out))
    }

    fn rule(&mut self, r: &RawRule) -> Option<Rule> {
        let first = self.diags.len();
        let rule = self.rule_fields(r);
        if r.when_becomes.is_some() {
            // Say why `source`/`target` are refused in this rule's expressions.
            for d in &mut self.diags[first..] {
                for actor in ["source", "target"] {
                    if d.message
                        == format!("`{actor}` is only available in rules and event effects")
                    {
                        d.message = format!(
                            "`{actor}` is not available in a `when_becomes` rule: it has no triggering event"
                        );
                    }
                }
            }
        }
        rule
    }

    fn rule_fields(&mut self, r: &RawRule) -> Option<Rule> {
        // A `when_becomes` rule has no triggering event, hence no
        // `source`/`target`.
        let ctx = Context {
            event_actors: r.when_becomes.is_none(),
            draws: false,
        };
        let actor = self.actor_index(&r.actor);
        let mut on = Vec::new();
        let becomes = match (&r.on, &r.when_becomes) {
            (Some(o), None) => {
                for name in o.get_ref().names() {
                    let spanned = Spanned::new(o.span(), name.to_string());
                    if let Some(e) = self.event_index(&spanned) {
                        on.push(e);
                    }
                }
                (on.len() == o.get_ref().names().len()).then_some(None)
            }
            (None, Some(w)) => self.becomes(r, w).map(Some),
            (Some(o), Some(_)) => {
                self.err(
                    o.span(),
                    "a rule has either `on` or `when_becomes`, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    r.name.span(),
                    "a rule needs `on = …` (the events that trigger it) or `when_becomes = \"…\"` (a condition)",
                );
                None
            }
        };
        let from = self.actor_set(&r.from);
        let to = self.actor_set(&r.to);
        let involving = self.actor_set(&r.involving);
        if let (Some(i), true) = (&r.involving, r.from.is_some() || r.to.is_some()) {
            self.err(
                i.span(),
                "`involving` matches the trigger's source or target and cannot be combined with `from`/`to`; use `from` and `to` for one direction",
            );
        }
        let when = r.when.as_ref().map(|w| self.expr(w, ctx, Type::Bool));
        let prob = r.prob.as_ref().map(|p| {
            let e = self.expr(p, ctx, Type::Num)?;
            if let Some(x) = e.constant() {
                if !(0.0..=1.0).contains(&x) {
                    self.err(
                        p.span(),
                        format!("a probability must be within [0, 1], got {x}"),
                    );
                    return None;
                }
            }
            Some(e)
        });
        let delay = r.delay.as_ref().map(|d| self.delay(d, ctx, false));
        let choose = match (&r.emit, &r.choose) {
            (Some(_), None) => Some(Vec::new()),
            (None, Some(c)) => {
                let default_source = actor.map(ActorRef::Fixed);
                self.alternatives(c, ctx, default_source, true)
            }
            (Some(e), Some(_)) => {
                self.err(e.span(), "a rule has either `emit` or `choose`, not both");
                None
            }
            (None, None) => {
                self.err(
                    r.name.span(),
                    "a rule needs `emit = { event = … }` or `choose = [ … ]`",
                );
                None
            }
        };
        let (emit_event, emit_source, emit_target) = match (&r.emit, &choose) {
            (Some(emit), _) => {
                let emit = emit.get_ref();
                let emit_event = self.event_index(&emit.event);
                let emit_source = match &emit.source {
                    None => actor.map(ActorRef::Fixed),
                    Some(s) => self.actor_ref(s, true),
                };
                let emit_target = match &emit.target {
                    None => Some(None),
                    Some(t) if self.group_members(t).is_some() => Some(None),
                    Some(t) => self.actor_ref(t, true).map(Some),
                };
                (emit_event, emit_source, emit_target)
            }
            (None, Some(alts)) => match alts.first() {
                Some(a) => (Some(a.event), a.source, Some(a.target)),
                None => (None, None, None),
            },
            (None, None) => (None, None, None),
        };
        let (cooldown, cooldown_expr) = match &r.cooldown {
            None => (0.0, None),
            Some(c) => self.cooldown(c),
        };
        // Without a priority of its own, an emitted event takes its type's
        // priority at the parameter point (engine::point).
        let (priority, priority_expr) = match &r.priority {
            None => (0, None),
            Some(p) => self.priority(p),
        };
        Some(Rule {
            name: format!("{}{}", r.name.get_ref(), self.suffix),
            actor: actor?,
            on,
            becomes: becomes?,
            from: from?,
            to: to?,
            involving: involving?,
            when: match when {
                Some(w) => Some(w?),
                None => None,
            },
            prob: match prob {
                Some(p) => Some(p?),
                None => None,
            },
            delay: match delay {
                Some(d) => Some(d?),
                None => None,
            },
            emit_event: emit_event?,
            emit_source: emit_source?,
            emit_target: emit_target?,
            emit_targets: (r.emit.as_ref())
                .and_then(|e| e.get_ref().target.as_ref())
                .and_then(|t| self.group_members(t))
                .unwrap_or_default(),
            choose: choose?,
            recheck: r.recheck.unwrap_or(true),
            once: r.once,
            cooldown,
            cooldown_expr,
            priority,
            priority_expr,
            priority_explicit: r.priority.is_some(),
        })
    }

    /// A `when_becomes` condition, checked: a boolean that reads nothing
    /// that changes between events, and a rule without trigger filters or
    /// `source`/`target` actors.
    fn becomes(&mut self, r: &RawRule, w: &ExprVal) -> Option<Becomes> {
        let mut ok = true;
        for (key, filter) in [
            ("from", &r.from),
            ("to", &r.to),
            ("involving", &r.involving),
        ] {
            if let Some(f) = filter {
                self.err(
                    f.span(),
                    format!(
                        "`{key}` filters a triggering event, and a `when_becomes` rule has none"
                    ),
                );
                ok = false;
            }
        }
        let emit = r
            .emit
            .iter()
            .flat_map(|e| [&e.get_ref().source, &e.get_ref().target]);
        let alternatives = (r.choose.iter().flat_map(|c| c.get_ref()))
            .flat_map(|c| [&c.get_ref().source, &c.get_ref().target]);
        for name in emit.chain(alternatives).flatten() {
            if matches!(name.get_ref().as_str(), "source" | "target") {
                self.err(
                    name.span(),
                    format!(
                        "a `when_becomes` rule has no triggering event, so `{}` names no actor; give an actor id",
                        name.get_ref()
                    ),
                );
                ok = false;
            }
        }
        let condition = self.expr(w, Context::default(), Type::Bool)?;
        let reads = condition.reads();
        if reads.time || reads.tension {
            self.err(
                w.span(),
                "`when_becomes` is checked when an event happens, so it may not read `t`, `since`, a windowed `count(e, W)` or a tension, which change between events; use state variables, `count`, `first` or `last`",
            );
            return None;
        }
        let text = match w.get_ref() {
            toml::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        ok.then_some(Becomes { condition, text })
    }

    /// The alternatives of a `choose` (a rule's when `rule` is true: their
    /// actors may be `source`/`target`, and each may have a delay).
    fn alternatives(
        &mut self,
        choose: &Spanned<Vec<Spanned<RawChoice>>>,
        ctx: Context,
        default_source: Option<ActorRef>,
        rule: bool,
    ) -> Option<Vec<Alternative>> {
        if choose.get_ref().is_empty() {
            self.err(choose.span(), "`choose` needs at least one alternative");
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for c in choose.get_ref() {
            let c = c.get_ref();
            let event = self.event_index(&c.event);
            let source = match &c.source {
                None => Some(default_source),
                Some(s) => self.actor_ref(s, rule).map(Some),
            };
            let target = match &c.target {
                None => Some(None),
                Some(t) => self.actor_ref(t, rule).map(Some),
            };
            let weight = self.expr(&c.weight, ctx, Type::Num);
            if let Some(w) = weight.as_ref().and_then(Expr::constant) {
                if !(w >= 0.0 && w.is_finite()) {
                    self.err(
                        c.weight.span(),
                        format!("a weight must be a non-negative finite number, got {w}"),
                    );
                }
            }
            let delay = match (&c.delay, rule) {
                (None, _) => Some(None),
                (Some(d), true) => self.delay(d, ctx, false).map(Some),
                (Some(d), false) => {
                    self.err(
                        d.span(),
                        "a hazard's alternatives have no `delay`: the event happens at the candidate's time",
                    );
                    None
                }
            };
            match (event, source, target, weight, delay) {
                (Some(event), Some(source), Some(target), Some(weight), Some(delay)) => {
                    out.push(Alternative {
                        event,
                        source,
                        target,
                        weight,
                        delay,
                    })
                }
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn hazard(&mut self, h: &RawHazard) -> Option<Hazard> {
        let ctx = Context::default();
        let choose = match (&h.event, &h.choose) {
            (Some(_), None) => Some(Vec::new()),
            (None, Some(c)) => self.alternatives(c, ctx, None, false),
            (Some(e), Some(_)) => {
                self.err(
                    e.span(),
                    "a hazard has either `event` or `choose`, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    h.name.span(),
                    "a hazard needs `event = \"…\"` or `choose = [ … ]`",
                );
                None
            }
        };
        let fixed = |a: &Option<ActorRef>| match a {
            Some(ActorRef::Fixed(i)) => Some(*i),
            _ => None,
        };
        let (event, source, target) = match (&h.event, &choose) {
            (Some(e), _) => (
                self.event_index(e),
                h.source.as_ref().map(|a| self.actor_index(a)),
                h.target.as_ref().map(|a| self.actor_index(a)),
            ),
            (None, Some(alts)) => match alts.first() {
                Some(a) => (
                    Some(a.event),
                    fixed(&a.source).map(Some),
                    fixed(&a.target).map(Some),
                ),
                None => (None, None, None),
            },
            (None, None) => (None, None, None),
        };
        if h.choose.is_some() {
            for (key, v) in [("source", &h.source), ("target", &h.target)] {
                if let Some(v) = v {
                    self.err(
                        v.span(),
                        format!("with `choose`, give `{key}` in each alternative"),
                    );
                }
            }
        }
        let rate = self.expr(&h.rate, ctx, Type::Num);
        if let Some(x) = rate.as_ref().and_then(Expr::constant) {
            if !(x >= 0.0 && x.is_finite()) {
                self.err(
                    h.rate.span(),
                    format!("a rate must be a non-negative finite number, got {x}"),
                );
            }
        }
        let max_rate = h.max_rate.as_ref().map(|m| self.expr(m, ctx, Type::Num));
        Some(Hazard {
            name: format!("{}{}", h.name.get_ref(), self.suffix),
            event: event?,
            source: match source {
                Some(s) => Some(s?),
                None => None,
            },
            target: match target {
                Some(t) => Some(t?),
                None => None,
            },
            rate: rate?,
            max_rate: match max_rate {
                Some(m) => Some(m?),
                None => None,
            },
            choose: choose?,
        })
    }

    fn outcomes(
        &mut self,
        raw: &[Spanned<RawOutcome>],
        dyads: &[Dyad],
        _actors: &[Actor],
    ) -> Vec<Outcome> {
        let ctx = Context::default();
        let builtin: std::collections::HashSet<String> = builtin_names(&self.scope.events, dyads)
            .into_iter()
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut outcomes = Vec::new();
        for o in raw {
            let span = o.span();
            let o = o.get_ref();
            self.check_name(&o.name, "outcome");
            let name = o.name.get_ref();
            if !seen.insert(name.as_str())
                || builtin.contains(name)
                || name == "rep"
                || name == "point"
            {
                self.err(o.name.span(), format!("outcome name `{name}` is already used (by another outcome or a built-in metric)"));
            }
            let kind = match (&o.value, &o.cases) {
                (Some(v), None) => self.expr(v, ctx, Type::Num).map(OutcomeKind::Numeric),
                (None, Some(cases)) if !cases.is_empty() => {
                    let mut compiled = Vec::new();
                    let mut ok = true;
                    for c in cases {
                        let c = c.get_ref();
                        if c.label.get_ref().is_empty()
                            || c.label.get_ref().contains([',', '"', '\n'])
                        {
                            self.err(c.label.span(), "a case label must be non-empty, without commas, quotes or newlines");
                        }
                        match self.expr(&c.when, ctx, Type::Bool) {
                            Some(e) => compiled.push((c.label.get_ref().clone(), e)),
                            None => ok = false,
                        }
                    }
                    ok.then_some(OutcomeKind::Categorical(compiled))
                }
                _ => {
                    self.err(span, "an outcome needs exactly one of `value` (numeric) and `cases` (categorical, non-empty)");
                    None
                }
            };
            if let Some(kind) = kind {
                outcomes.push(Outcome {
                    name: name.clone(),
                    kind,
                });
            }
        }
        outcomes
    }
}

fn dyads_directed(dyads: &[Dyad], idx: u32) -> bool {
    dyads.get(idx as usize).is_some_and(|d| d.directed)
}

/// Names of the built-in metric columns (outcomes may not reuse them).
pub(crate) fn builtin_names(events: &[String], dyads: &[Dyad]) -> Vec<String> {
    let mut names = vec![
        "end_time".to_string(),
        "n_events".to_string(),
        "terminal".to_string(),
    ];
    names.extend(events.iter().map(|e| format!("count_{e}")));
    for d in dyads {
        names.push(format!("tension_{}_final", d.label));
        names.push(format!("tension_{}_peak", d.label));
        for th in &d.threshold_labels {
            names.push(format!("tension_{}_above_{}", d.label, th));
        }
    }
    names
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Num => "number",
        Type::Bool => "boolean",
    }
}

struct TimeConv {
    start_day: Option<i64>,
    unit: TimeUnit,
}

/// Byte offset of the first character inside a TOML string literal.
fn content_offset(source: &str, span: &Range<usize>) -> usize {
    let text = source.get(span.clone()).unwrap_or("");
    if text.starts_with("\"\"\"") || text.starts_with("'''") {
        span.start + 3
    } else {
        span.start + 1
    }
}

/// Moves a span inside an expression string to file offsets, kept within the value.
fn shift(inner: &Range<usize>, offset: usize, outer: &Range<usize>) -> Range<usize> {
    let start = (offset + inner.start).clamp(outer.start, outer.end);
    let end = (offset + inner.end).clamp(start, outer.end);
    start..end
}

/// Jitter may be negative: check the distribution's parameters without the
/// non-negativity of delays.
fn signed_check(delay: &Delay, env: &ParamEnv) -> Result<(), String> {
    let a = delay.p1.eval(env);
    let b = delay.p2.as_ref().map_or(0.0, |e| e.eval(env));
    if !a.is_finite() || !b.is_finite() {
        return Err("jitter parameters must be finite".to_string());
    }
    match delay.kind {
        DelayKind::Uniform if a > b => Err(format!("uniform min {a} is above max {b}")),
        DelayKind::Uniform | DelayKind::Fixed => Ok(()),
        _ => delay.dist(env).map(|_| ()),
    }
}
