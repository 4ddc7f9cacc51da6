//! Values fixed by a parameter point: every expression on the hot path that
//! reads nothing but parameters (an effect's `5.0 * impact_scale`, a rule's
//! `prob = "close_prob"`, a delay's mean, a dyad's initial value) is
//! evaluated once per point instead of once per use.
//!
//! A cached value is the same expression evaluated on the same parameter
//! values, so it has the same bits as the evaluation it replaces.

use crate::expr::{Expr, ParamEnv};
use crate::rng::Dist;
use crate::scenario::Scenario;

/// The cached values of one parameter point.
#[derive(Debug, Clone, Default)]
pub(super) struct PointCache {
    /// The parameter values the cache was computed for (`None`: not yet).
    params: Option<Vec<f64>>,
    /// `effect_offset[event]`: index of the event's first effect in `effects`.
    effect_offset: Vec<usize>,
    /// Per effect of every event, in order: its value, if parameter-only.
    effects: Vec<Option<f64>>,
    /// Per rule: its cooldown (its literal, or its expression's value).
    pub(super) cooldown: Vec<f64>,
    /// Why a cooldown expression's value is not a valid cooldown, if one
    /// is not (the first such rule).
    pub(super) cooldown_error: Option<String>,
    /// Per history slot: its longest window at this point (`None`: no
    /// `count(e, W)` reads it).
    pub(super) window_keep: Vec<Option<f64>>,
    /// Why a window's value is not a non-negative number, if one is not
    /// (the first such).
    pub(super) window_error: Option<String>,
    /// Per event type: its priority at this point.
    pub(super) event_priority: Vec<i32>,
    /// Per rule: its own priority at this point, or (a rule that gives none)
    /// that of the event type it emits with `emit`.
    pub(super) rule_priority: Vec<i32>,
    /// Why a priority expression's value is not an integer, if one is not
    /// (the first such event or rule).
    pub(super) priority_error: Option<String>,
    /// Per dyad: its thresholds' values (literals, or their parameter's
    /// value).
    pub(super) thresholds: Vec<Vec<f64>>,
    /// Per dyad: its lowest threshold (`inf`: none).
    pub(super) threshold_min: Vec<f64>,
    /// Why a threshold from a parameter is not a finite number, if one is
    /// not (the first such).
    pub(super) threshold_error: Option<String>,
    /// Per schedule entry: its time before jitter (its literal, or its
    /// expression's value).
    pub(super) schedule_at: Vec<f64>,
    /// Why a schedule entry's `at` expression is not a time in
    /// [0, horizon], if one is not (the first such entry).
    pub(super) schedule_at_error: Option<String>,
    /// Per rule: its probability, if it has one and it is parameter-only.
    pub(super) prob: Vec<Option<f64>>,
    /// Per rule: its delay distribution (or the reason it is invalid), if
    /// every delay parameter is parameter-only.
    pub(super) delay: Vec<Option<Result<Dist, String>>>,
    /// Per dyad: (initial, baseline, half-life), or the reason they are
    /// invalid, if all three are parameter-only.
    pub(super) dyad: Vec<Option<Result<DyadValues, String>>>,
    /// Per hazard, its state right after the first bounding at `t = 0`,
    /// once a replication has computed it, kept only when that is a pure
    /// function of the parameters (no initial state value draws; see
    /// [`crate::engine::Engine::start`]); the residual in it is not used.
    pub(super) initial_bounds: Option<Vec<super::HazardState>>,
}

/// A dyad's (initial, baseline, half-life).
pub(super) type DyadValues = (f64, f64, f64);

fn fixed(e: &Expr, params: &[f64]) -> Option<f64> {
    e.param_only().then(|| e.eval(&ParamEnv(params)))
}

impl PointCache {
    /// Makes the cache hold `params`' values (recomputed only when they
    /// change).
    pub(super) fn prepare(&mut self, s: &Scenario, params: &[f64]) {
        // Bit for bit: a point at -0 is not the point at 0 (`1 / x`).
        let same = self.params.as_deref().is_some_and(|cached| {
            cached.len() == params.len()
                && cached
                    .iter()
                    .zip(params)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        if same {
            return;
        }
        self.initial_bounds = None;
        let env = ParamEnv(params);
        self.effect_offset.clear();
        self.effects.clear();
        for event in &s.events {
            self.effect_offset.push(self.effects.len());
            self.effects
                .extend(event.effects.iter().map(|st| fixed(&st.value, params)));
        }
        self.prob = s
            .rules
            .iter()
            .map(|r| r.prob.as_ref().and_then(|p| fixed(p, params)))
            .collect();
        self.cooldown = (s.rules.iter())
            .map(|r| match &r.cooldown_expr {
                Some(e) => e.eval(&env),
                None => r.cooldown,
            })
            .collect();
        self.cooldown_error = (s.rules.iter().zip(&self.cooldown))
            .find(|(r, c)| r.cooldown_expr.is_some() && !(c.is_finite() && **c >= 0.0))
            .map(|(r, c)| {
                format!(
                    "rule `{}`: `cooldown` is {c}; it must be a non-negative number",
                    r.name
                )
            });
        self.window_error = None;
        self.window_keep = (s.histories.iter())
            .map(|h| {
                let mut keep: Option<f64> = None;
                for w in &h.windows {
                    let w = w.eval(&env);
                    if w.is_nan() || w < 0.0 {
                        self.window_error.get_or_insert(format!(
                            "a window of `count({}, …)` is {w}; it must be a non-negative number",
                            s.events[h.key.event as usize].id
                        ));
                    }
                    keep = Some(keep.map_or(w, |k| k.max(w)));
                }
                keep
            })
            .collect();
        self.priority_error = None;
        let mut integer = |what: String, e: &Expr| {
            let v = e.eval(&env);
            if v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
                v as i32
            } else {
                self.priority_error
                    .get_or_insert(format!("{what}: `priority` is {v}; it must be an integer"));
                0
            }
        };
        let event_priority: Vec<i32> = (s.events.iter())
            .map(|ev| match &ev.priority_expr {
                Some(e) => integer(format!("event `{}`", ev.id), e),
                None => ev.priority,
            })
            .collect();
        let rule_priority: Vec<i32> = (s.rules.iter())
            .map(|r| match &r.priority_expr {
                Some(e) => integer(format!("rule `{}`", r.name), e),
                None if r.priority_explicit => r.priority,
                None => event_priority[r.emit_event as usize],
            })
            .collect();
        self.event_priority = event_priority;
        self.rule_priority = rule_priority;
        self.thresholds = (s.dyads.iter())
            .map(|d| {
                (d.thresholds.iter().zip(&d.threshold_exprs))
                    .map(|(&x, e)| e.as_ref().map_or(x, |e| e.eval(&env)))
                    .collect()
            })
            .collect();
        self.threshold_min = (self.thresholds.iter())
            .map(|ths| ths.iter().copied().fold(f64::INFINITY, f64::min))
            .collect();
        self.threshold_error = (s.dyads.iter().zip(&self.thresholds))
            .flat_map(|(d, values)| {
                (d.threshold_labels.iter().zip(values)).map(move |(l, v)| (d, l, *v))
            })
            .find(|(_, _, v)| !v.is_finite())
            .map(|(d, l, v)| {
                format!(
                    "tension {}: threshold `{l}` is {v}; it must be a finite number",
                    d.label
                )
            });
        self.schedule_at = (s.schedule.iter())
            .map(|entry| match &entry.at_expr {
                Some((e, _)) => e.eval(&env),
                None => entry.at,
            })
            .collect();
        self.schedule_at_error = (s.schedule.iter().enumerate())
            .zip(&self.schedule_at)
            .find(|(_, at)| !(**at >= 0.0 && **at <= s.horizon))
            .map(|((i, entry), at)| {
                let text = entry.at_expr.as_ref().map_or("", |(_, t)| t.as_str());
                format!(
                    "schedule entry {} (`{}{}`): `at = \"{text}\"` is {at}, outside [0, horizon = {}]",
                    i + 1,
                    s.events[entry.event as usize].id,
                    entry.instance,
                    s.horizon
                )
            });
        self.delay = s
            .rules
            .iter()
            .map(|r| {
                let d = r.delay.as_ref()?;
                let param_only = d.p1.param_only() && d.p2.as_ref().is_none_or(Expr::param_only);
                param_only.then(|| d.dist(&env))
            })
            .collect();
        self.dyad = s
            .dyads
            .iter()
            .map(|d| {
                let param_only = [&d.initial, &d.baseline, &d.half_life]
                    .iter()
                    .all(|e| e.param_only());
                param_only.then(|| d.values(&env))
            })
            .collect();
        self.params = Some(params.to_vec());
    }

    /// The value of effect `k` of event `event`, if parameter-only.
    #[inline]
    pub(super) fn effect(&self, event: usize, k: usize) -> Option<f64> {
        self.effects[self.effect_offset[event] + k]
    }
}
