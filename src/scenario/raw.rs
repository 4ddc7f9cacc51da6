//! The scenario file as TOML gives it: serde structs that keep byte spans.
//!
//! Nothing here is validated beyond its TOML shape; `compile` turns these into
//! the checked [`Scenario`](super::Scenario).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A value that may be an expression string, a number or a boolean.
pub type ExprVal = Spanned<toml::Value>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub scenario: Spanned<RawMeta>,
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, Spanned<RawParam>>,
    #[serde(default)]
    pub actor: Vec<Spanned<RawActor>>,
    #[serde(default)]
    pub group: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub tension: Vec<Spanned<RawTension>>,
    #[serde(default)]
    pub event: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    pub schedule: Vec<Spanned<RawSchedule>>,
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub hazard: Vec<Spanned<RawHazard>>,
    #[serde(default)]
    pub outcome: Vec<Spanned<RawOutcome>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub time_unit: Option<Spanned<String>>,
    pub start: Option<Spanned<toml::value::Datetime>>,
    pub horizon: Spanned<toml::Value>,
    pub seed: Option<Spanned<i64>>,
    pub event_budget: Option<Spanned<i64>>,
    pub goldstein_scale: Option<Spanned<f64>>,
    /// The default `jitter_edges` of every schedule entry.
    pub jitter_edges: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub enum RawParam {
    Value(f64),
    Full(RawParamFull),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParamFull {
    pub value: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[serde(default)]
    pub doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActor {
    pub id: Spanned<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub state: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTension {
    pub each: Option<Spanned<RawEach>>,
    pub distinct: Option<Spanned<bool>>,
    pub between: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub directed: bool,
    pub initial: ExprVal,
    pub baseline: Option<ExprVal>,
    pub half_life: Option<ExprVal>,
    pub range: Option<Spanned<Vec<f64>>>,
    #[serde(default)]
    pub thresholds: Vec<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub id: Spanned<String>,
    #[serde(default)]
    pub label: String,
    pub cameo: Option<Spanned<String>>,
    /// `None` when the key is absent (then a CAMEO event gets the default
    /// impact); `Some([])` is an explicit "no effect".
    pub effects: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub hidden: bool,
    pub priority: Option<ExprVal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub each: Option<Spanned<RawEach>>,
    pub distinct: Option<Spanned<bool>>,
    pub event: Spanned<String>,
    pub at: Spanned<toml::Value>,
    pub source: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub jitter: Option<Spanned<RawDelay>>,
    pub jitter_edges: Option<Spanned<String>>,
}

/// One or several names.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: Spanned<String>,
    pub each: Option<Spanned<RawEach>>,
    pub distinct: Option<Spanned<bool>>,
    pub actor: Spanned<String>,
    pub on: Option<Spanned<OneOrMany>>,
    pub when_becomes: Option<ExprVal>,
    pub from: Option<Spanned<OneOrMany>>,
    pub to: Option<Spanned<OneOrMany>>,
    pub involving: Option<Spanned<OneOrMany>>,
    pub when: Option<ExprVal>,
    pub prob: Option<ExprVal>,
    pub delay: Option<Spanned<RawDelay>>,
    pub emit: Option<Spanned<RawEmit>>,
    pub choose: Option<Spanned<Vec<Spanned<RawChoice>>>>,
    pub recheck: Option<bool>,
    #[serde(default)]
    pub once: bool,
    pub cooldown: Option<ExprVal>,
    pub priority: Option<ExprVal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmit {
    pub event: Spanned<String>,
    pub source: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
}

/// One alternative of a `choose`: an event like `emit`'s, its weight and,
/// for a rule, its own optional delay.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub event: Spanned<String>,
    pub source: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub weight: ExprVal,
    pub delay: Option<Spanned<RawDelay>>,
}

/// A delay (or jitter) distribution; each parameter is a number or an expression.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDelay {
    Fixed(ExprVal),
    Exponential {
        mean: Option<ExprVal>,
        rate: Option<ExprVal>,
    },
    Uniform {
        min: ExprVal,
        max: ExprVal,
    },
    Lognormal {
        median: Option<ExprVal>,
        mu: Option<ExprVal>,
        sigma: ExprVal,
    },
    Gamma {
        shape: ExprVal,
        scale: Option<ExprVal>,
        mean: Option<ExprVal>,
    },
    Weibull {
        shape: ExprVal,
        scale: ExprVal,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHazard {
    pub name: Spanned<String>,
    pub each: Option<Spanned<RawEach>>,
    pub distinct: Option<Spanned<bool>>,
    pub event: Option<Spanned<String>>,
    pub choose: Option<Spanned<Vec<Spanned<RawChoice>>>>,
    pub source: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub rate: ExprVal,
    pub max_rate: Option<ExprVal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcome {
    pub name: Spanned<String>,
    pub value: Option<ExprVal>,
    pub cases: Option<Vec<Spanned<RawCase>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub label: Spanned<String>,
    pub when: ExprVal,
}

/// `[[group]]`: a named list of actors, for templates and rule filters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: Spanned<String>,
    pub members: Spanned<Vec<Spanned<String>>>,
}

/// A template's `each`: each variable bound to a group id or a list of actor ids.
pub type RawEach = BTreeMap<Spanned<String>, Spanned<OneOrMany>>;
