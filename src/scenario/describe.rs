//! A readable listing of what a scenario contains, for `flashpoint validate`.

use super::model::{Alternative, OutcomeKind, Scenario};
use std::fmt::Write as _;

/// Lists the scenario's parameters, actors, dyads, events, schedule, rules,
/// hazards and outcomes.
pub fn describe(s: &Scenario) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scenario `{}`: horizon {} {}",
        s.name,
        s.horizon,
        s.time_unit.name()
    );
    if let Some(start) = s.start_day {
        let _ = writeln!(
            o,
            "time 0 is {}",
            &crate::time::format_date(start, s.time_unit, 0.0)[..10]
        );
    }
    let _ = writeln!(o, "\nparameters ({}):", s.params.len());
    let param_w = s
        .params
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let value_w = s
        .params
        .iter()
        .map(|p| p.value.to_string().len())
        .max()
        .unwrap_or(0);
    let bounds: Vec<String> = (s.params.iter())
        .map(|p| format!("in [{}, {}]", p.min, p.max))
        .collect();
    let bounds_w = bounds.iter().map(|b| b.chars().count()).max().unwrap_or(0);
    for (p, bounds) in s.params.iter().zip(&bounds) {
        let line = format!(
            "  {} = {}  {}  {}",
            pad(&p.name, param_w),
            pad(&p.value.to_string(), value_w),
            pad(bounds, bounds_w),
            p.doc
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let _ = writeln!(o, "\nactors ({}):", s.actors.len());
    let n_vars = s.n_vars();
    let id_w = s
        .actors
        .iter()
        .map(|a| a.id.chars().count())
        .max()
        .unwrap_or(0);
    let name_w = s
        .actors
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0);
    for (i, a) in s.actors.iter().enumerate() {
        let vars: Vec<String> = (0..n_vars)
            .filter(|v| s.scope.declared[i * n_vars + v])
            .map(|v| {
                let slot = i * n_vars + v;
                let value = match s.initial_exprs.iter().find(|e| e.slot == slot) {
                    Some(e) if e.value.reads().draws => "(random)".to_string(),
                    Some(_) => "(from parameters)".to_string(),
                    None if s.scope.vars[v].ty == crate::expr::Type::Bool => {
                        (s.initial_state[slot] != 0.0).to_string()
                    }
                    None => s.initial_state[slot].to_string(),
                };
                format!("{} = {value}", s.scope.vars[v].name)
            })
            .collect();
        let line = format!(
            "  {}  {}  {}",
            pad(&a.id, id_w),
            pad(&a.name, name_w),
            vars.join(", ")
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let _ = writeln!(o, "\ntensions ({}):", s.dyads.len());
    for d in &s.dyads {
        let arrow = if d.directed { "->" } else { "--" };
        let _ = writeln!(
            o,
            "  {} {arrow} {}: initial {}, baseline {}, half-life {}, range [{}, {}]",
            s.actors[usize::from(d.a)].id,
            s.actors[usize::from(d.b)].id,
            shown(&d.initial),
            shown(&d.baseline),
            shown(&d.half_life),
            d.lo,
            d.hi
        );
    }
    let _ = writeln!(o, "\nevents ({}):", s.events.len());
    let event_w = s
        .events
        .iter()
        .map(|e| e.id.chars().count())
        .max()
        .unwrap_or(0);
    for e in &s.events {
        let cameo = e
            .cameo
            .as_deref()
            .map(|c| format!(" [CAMEO {c}]"))
            .unwrap_or_default();
        // Codes have 2 to 4 digits: pad to the longest form, ` [CAMEO 0000]`.
        let cameo = pad(&cameo, 13);
        let terminal = if e.terminal { " (terminal)" } else { "" };
        let line = format!(
            "  {}{cameo}{terminal} {} effect(s)  {}",
            pad(&e.id, event_w),
            e.effects.len(),
            e.label
        );
        let _ = writeln!(o, "{}", line.trim_end());
        default_impact(&mut o, e);
    }
    let _ = writeln!(o, "\nschedule ({}):", s.schedule.len());
    for e in &s.schedule {
        if let Some((_, text)) = &e.at_expr {
            let _ = writeln!(
                o,
                "  t = `{text}` (from parameters): {}{}",
                s.events[e.event as usize].id,
                jitter_note(e)
            );
            continue;
        }
        let date = s
            .start_day
            .map(|d| format!(" ({})", crate::time::format_date(d, s.time_unit, e.at)))
            .unwrap_or_default();
        let jitter = jitter_note(e);
        let _ = writeln!(
            o,
            "  t = {}{date}: {}{jitter}",
            e.at, s.events[e.event as usize].id
        );
    }
    let _ = writeln!(o, "\nrules ({}):", s.rules.len());
    let rule_w = s
        .rules
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    for r in &s.rules {
        let on = match &r.becomes {
            Some(b) => format!("when_becomes `{}`", b.text),
            None => {
                let on: Vec<&str> =
                    r.on.iter()
                        .map(|e| s.events[*e as usize].id.as_str())
                        .collect();
                format!("on {}", on.join("|"))
            }
        };
        let _ = writeln!(
            o,
            "  {}  {} {} -> {}",
            pad(&r.name, rule_w),
            s.actors[usize::from(r.actor)].id,
            on,
            emitted(s, r.emit_event, &r.choose)
        );
    }
    let _ = writeln!(o, "\nhazards ({}):", s.hazards.len());
    let hazard_w = s
        .hazards
        .iter()
        .map(|h| h.name.chars().count())
        .max()
        .unwrap_or(0);
    for h in &s.hazards {
        let bound = if h.max_rate.is_some() {
            "declared max_rate"
        } else {
            "interval bound"
        };
        let _ = writeln!(
            o,
            "  {} -> {} ({bound})",
            pad(&h.name, hazard_w),
            emitted(s, h.event, &h.choose)
        );
    }
    let _ = writeln!(o, "\noutcomes ({}):", s.outcomes.len());
    for (i, out) in s.outcomes.iter().enumerate() {
        match &out.kind {
            OutcomeKind::Numeric(_) => {
                let _ = writeln!(o, "  {} (numeric)", out.name);
            }
            OutcomeKind::Categorical(_) => {
                let _ = writeln!(
                    o,
                    "  {} (categorical: {})",
                    out.name,
                    s.outcome_labels(i).join(", ")
                );
            }
        }
    }
    warnings(&mut o, s);
    o
}

/// The CAMEO default impact an event gets, on a line of its own below it.
fn default_impact(o: &mut String, e: &super::model::EventType) {
    if let (Some(d), Some(code)) = (&e.default_impact, &e.cameo) {
        let _ = writeln!(
            o,
            "    default impact: tension(source, target) += {} (CAMEO {code}, Goldstein {} × goldstein_scale {})",
            d.delta, d.goldstein, d.scale
        );
    }
}

/// The load warnings, each with its location, after the listing.
fn warnings(o: &mut String, s: &Scenario) {
    if s.warnings.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nwarnings ({}):", s.warnings.len());
    for w in &s.warnings {
        o.push_str(w);
    }
}

/// How a schedule entry is jittered, for its line.
fn jitter_note(e: &super::model::ScheduleEntry) -> &'static str {
    match (&e.jitter, e.censor) {
        (None, _) => "",
        (Some(_), false) => " with jitter",
        (Some(_), true) => " with jitter (censored at the edges)",
    }
}

/// A constant's value, or "(from parameters)".
fn shown(e: &crate::expr::Expr) -> String {
    e.constant()
        .map_or_else(|| "(from parameters)".to_string(), |x| x.to_string())
}

/// The event a rule or hazard emits, or its alternatives as `choose(a|b)`.
fn emitted(s: &Scenario, event: u32, choose: &[Alternative]) -> String {
    if choose.is_empty() {
        return s.events[event as usize].id.clone();
    }
    let names: Vec<&str> = (choose.iter())
        .map(|a| s.events[a.event as usize].id.as_str())
        .collect();
    format!("choose({})", names.join("|"))
}

/// `text` followed by spaces to `width` characters (no format width, which
/// is limited to `u16::MAX`: a name may be longer).
fn pad(text: &str, width: usize) -> String {
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(text.chars().count()),
    ));
    out
}
