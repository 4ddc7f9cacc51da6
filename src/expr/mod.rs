//! The expression language: parsing, name resolution and type checking, and
//! allocation-free evaluation (point and interval).
//!
//! `expr` knows nothing about TOML or files: it takes one expression string and
//! a [`Scope`] describing the names that exist, and reports problems as
//! [`ExprError`]s whose spans are byte ranges *within that string*. The
//! scenario loader shifts them to file offsets.
//!
//! # Grammar
//!
//! ```text
//! expr    := 'if' expr 'then' expr 'else' expr | or
//! or      := and ('or' and)*
//! and     := not ('and' not)*
//! not     := 'not' not | cmp
//! cmp     := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?      -- non-associative
//! sum     := prod (('+'|'-') prod)*
//! prod    := unary (('*'|'/') unary)*
//! unary   := '-' unary | pow
//! pow     := atom ('^' unary)?                             -- right-associative, binds tighter than unary minus on its left: -2^2 = -4
//! atom    := NUMBER | 'true' | 'false' | 'inf' | 't'
//!          | IDENT                                         -- a parameter
//!          | ACTOR '.' IDENT                               -- actor state; ACTOR may be `source` / `target` where the context allows
//!          | IDENT '(' args ')'                            -- function call
//! args    := (expr (',' expr)*)? (',' IDENT '=' expr)*     -- positional, then named
//!          | '(' expr ')'
//! statement := lvalue ('=' | '+=' | '-=') expr
//! lvalue  := ACTOR '.' IDENT | 'tension' '(' ACTOR ',' ACTOR ')'
//! ```
//!
//! Functions: `tension(A, B)`, `count(event)`, `since(event)` (time since the
//! last occurrence, `inf` if none), `first(event)` / `last(event)` (time of the
//! first / last occurrence, `inf` / `-inf` if none), `min(a, b, ...)`,
//! `max(a, b, ...)`, `clamp(x, lo, hi)`, `exp`, `ln`, `sqrt`, `abs`, `floor`,
//! `sin`, `cos` (radians). `count(event, W)` counts the events of the last `W`
//! time units, `(t - W, t]`, with `W` a number or an expression of parameters;
//! `count`, `since`, `first` and `last` take `from = ACTOR` and `to = ACTOR`
//! filters on the events' source and target. Those reads go through history
//! slots ([`HistoryKey`]) that the scenario binds once for all expressions
//! ([`Expr::bind_histories`]).
//! Numbers are `f64`; booleans are a separate type (no implicit conversion).
//! Transcendental functions use the `libm` crate, never the platform's.

mod check;
pub(crate) mod eval;
mod interval;
mod parse;
mod quantity;

pub use check::{compile, compile_statement};
pub use interval::Interval;
pub use parse::{parse, parse_statement, Ast, AstKind, BinaryOp, NamedArg, StatementAst, UnaryOp};
pub use quantity::Quantity;

use crate::rng::{Draw, Stream};
use std::cell::RefCell;
use std::ops::Range;

/// Byte range inside the expression string.
pub type Span = Range<usize>;

/// A problem in one expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    /// Where, as a byte range in the expression string.
    pub span: Span,
    /// What is wrong (lower case, no final full stop).
    pub message: String,
    /// The nearest valid name, or what to do.
    pub help: Option<String>,
}

/// The two types of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// An `f64`.
    Num,
    /// `true` or `false` (stored as 1.0 / 0.0 at run time, after type checking).
    Bool,
}

/// Which actor an actor reference designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorRef {
    /// A declared actor, by index.
    Fixed(u16),
    /// The source of the event in context (the triggering event of a rule,
    /// or the event whose effects are being applied).
    Source,
    /// The target of the event in context.
    Target,
}

/// A state variable name known to the scenario (shared by all actors that declare it).
#[derive(Debug, Clone, PartialEq)]
pub struct VarDecl {
    /// The variable name, e.g. `border_open`.
    pub name: String,
    /// Its type, the same for every actor that declares it.
    pub ty: Type,
}

/// Every name an expression may use, with indices the evaluator will see.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Parameter names; `Env::param(i)` is parameter `params[i]`.
    pub params: Vec<String>,
    /// Actor ids; `ActorRef::Fixed(i)` is `actors[i]`.
    pub actors: Vec<String>,
    /// State variable names; a variable index is a position in this list.
    pub vars: Vec<VarDecl>,
    /// `declared[actor * vars.len() + var]`: whether that actor declares that variable.
    pub declared: Vec<bool>,
    /// Event type ids; an event index is a position in this list.
    pub events: Vec<String>,
    /// `dyads[a * actors.len() + b]`: the dyad index whose tension `tension(a, b)` reads,
    /// if any (a symmetric dyad appears under both orders).
    pub dyads: Vec<Option<u32>>,
    /// Template variables bound to actors (`each = { X = "frontline" }`):
    /// while one instance is compiled, `X` names the actor `X` is bound to
    /// wherever an actor id may appear. Empty outside templates.
    pub aliases: Vec<(String, u16)>,
    /// Name → position maps over the lists above, built by [`Scope::reindex`]
    /// so that resolving a name is not a scan; a list that grew since falls
    /// back to a scan.
    pub index: ScopeIndex,
}

/// Name → first position in each list of a [`Scope`], as of its last
/// [`Scope::reindex`].
#[derive(Debug, Clone, Default)]
pub struct ScopeIndex {
    params: NameIndex,
    actors: NameIndex,
    vars: NameIndex,
    events: NameIndex,
}

#[derive(Debug, Clone, Default)]
struct NameIndex {
    /// The length of the list when it was indexed.
    len: usize,
    first: std::collections::HashMap<String, usize>,
}

impl NameIndex {
    fn build<'a>(names: impl Iterator<Item = &'a str>) -> NameIndex {
        let mut first = std::collections::HashMap::new();
        let mut len = 0;
        for (i, name) in names.enumerate() {
            first.entry(name.to_string()).or_insert(i);
            len = i + 1;
        }
        NameIndex { len, first }
    }

    fn find<'a>(
        &self,
        mut names: impl ExactSizeIterator<Item = &'a str>,
        name: &str,
    ) -> Option<usize> {
        if names.len() == self.len {
            self.first.get(name).copied()
        } else {
            names.position(|n| n == name)
        }
    }
}

impl Scope {
    /// Rebuilds the name index (in time linear in the names); call it after
    /// filling the lists.
    pub fn reindex(&mut self) {
        self.index = ScopeIndex {
            params: NameIndex::build(self.params.iter().map(String::as_str)),
            actors: NameIndex::build(self.actors.iter().map(String::as_str)),
            vars: NameIndex::build(self.vars.iter().map(|v| v.name.as_str())),
            events: NameIndex::build(self.events.iter().map(String::as_str)),
        };
    }

    /// Position of parameter `name`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.index
            .params
            .find(self.params.iter().map(String::as_str), name)
    }

    /// Position of actor `name`.
    pub fn actor_index(&self, name: &str) -> Option<usize> {
        self.index
            .actors
            .find(self.actors.iter().map(String::as_str), name)
    }

    /// Position of state variable `name`.
    pub fn var_index(&self, name: &str) -> Option<usize> {
        self.index
            .vars
            .find(self.vars.iter().map(|v| v.name.as_str()), name)
    }

    /// Position of event type `name`.
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.index
            .events
            .find(self.events.iter().map(String::as_str), name)
    }
}

/// Where an expression is compiled, which decides the names it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context {
    /// Whether `source` and `target` (the actors of the event in context) may be used.
    pub event_actors: bool,
    /// Whether random draws (`uniform(a, b)`, `poisson(mean)`, …) may be
    /// used: in event effects and initial state only. Code with draws must
    /// be evaluated by [`Expr::eval_with_rng`].
    pub draws: bool,
}

/// What a compiled expression reads; used for validation and hazard bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reads {
    /// Any parameter.
    pub params: bool,
    /// `t`, `since`.
    pub time: bool,
    /// Any tension.
    pub tension: bool,
    /// Any actor state variable.
    pub state: bool,
    /// Any event count or occurrence time.
    pub events: bool,
    /// `source` or `target`.
    pub event_actors: bool,
    /// A random draw (see [`Context::draws`]).
    pub draws: bool,
}

/// A compiled, type-checked expression: names resolved to indices, stored in a
/// flat array; evaluation allocates nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub(crate) code: Vec<eval::Node>,
    /// How [`Expr::eval`] evaluates `code` (see [`eval::Shape`]).
    pub(crate) shape: eval::Shape,
    pub(crate) ty: Type,
    pub(crate) reads: Reads,
    /// The histories the expression reads: slot `i` of its code's history
    /// nodes is `histories[i]` until [`Expr::bind_histories`] renumbers them.
    pub(crate) histories: Vec<HistoryRequest>,
}

/// Which events a history slot follows: those of type `event` whose source
/// is `from` and whose target is `to` (`None`: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HistoryKey {
    /// The event type.
    pub event: u32,
    /// Required source actor.
    pub from: Option<u16>,
    /// Required target actor.
    pub to: Option<u16>,
}

/// One read of a history by an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRequest {
    /// The events read.
    pub key: HistoryKey,
    /// For `count(e, W)`: the window `W`, an expression of parameters only.
    pub window: Option<Expr>,
}

impl Expr {
    /// The histories this expression reads, in the order of its slots
    /// (before [`Expr::bind_histories`]).
    pub fn history_requests(&self) -> &[HistoryRequest] {
        &self.histories
    }

    /// Renumbers the expression's history slots: `slot(i, request)` gives
    /// the scenario-wide slot of its `i`-th request. Call it once, after
    /// compiling; the requests are then dropped.
    pub fn bind_histories(&mut self, mut slot: impl FnMut(usize, &HistoryRequest) -> u32) {
        if self.histories.is_empty() {
            return;
        }
        let map: Vec<u32> = (self.histories.iter().enumerate())
            .map(|(i, r)| slot(i, r))
            .collect();
        for node in &mut self.code {
            if let Some(s) = node.history_slot_mut() {
                *s = map[*s as usize];
            }
        }
        self.histories.clear();
    }

    /// The event types the expression reads (`count`, `first`, `last`,
    /// `since`, filtered or windowed), in code order with repeats; a
    /// history slot is turned into its event type by `slot_event` (after
    /// [`Expr::bind_histories`], slots are the scenario's).
    pub fn events_read(&self, slot_event: impl Fn(u32) -> u32) -> Vec<u32> {
        use eval::Node;
        (self.code.iter())
            .filter_map(|node| match *node {
                Node::Count(e) | Node::First(e) | Node::Last(e) | Node::Since(e) => Some(e),
                Node::HistCount(h)
                | Node::HistFirst(h)
                | Node::HistLast(h)
                | Node::HistSince(h)
                | Node::WindowCount(h) => Some(slot_event(h)),
                _ => None,
            })
            .collect()
    }

    /// The expression's type.
    pub fn ty(&self) -> Type {
        self.ty
    }

    /// What the expression reads.
    pub fn reads(&self) -> Reads {
        self.reads
    }

    /// The value, if the expression reads nothing at all (only literals).
    pub fn constant(&self) -> Option<f64> {
        let r = self.reads;
        if r.params || r.time || r.tension || r.state || r.events || r.event_actors || r.draws {
            return None;
        }
        Some(self.eval(&ParamEnv::NONE))
    }

    /// Whether the expression reads nothing but parameters and literals, so
    /// that its value is fixed for a parameter point (see [`ParamEnv`]).
    pub fn param_only(&self) -> bool {
        let r = self.reads;
        !(r.time || r.tension || r.state || r.events || r.event_actors || r.draws)
    }

    /// Evaluates the expression (booleans come out as 1.0 / 0.0).
    #[inline]
    pub fn eval<E: Env>(&self, env: &E) -> f64 {
        self.shape.eval(&self.code, env)
    }

    /// Evaluates an expression that may draw random numbers
    /// ([`Reads::draws`]), each from `rng` in the order the code runs (left
    /// to right; an `if` draws only in the branch it takes). A draw whose
    /// parameters fail [`Draw::check`] consumes nothing and makes the result
    /// an `Err` with the message of the first such draw. Without draws this
    /// is [`Expr::eval`].
    pub fn eval_with_rng<E: Env>(&self, env: &E, rng: &mut Stream) -> Result<f64, String> {
        let drawing = Drawing {
            env,
            rng: RefCell::new(rng),
            bad: RefCell::new(None),
        };
        let v = self.shape.eval(&self.code, &drawing);
        match drawing.bad.into_inner() {
            Some(message) => Err(message),
            None => Ok(v),
        }
    }

    /// Evaluates the expression over intervals: the result contains the value of
    /// the expression for every combination of inputs within the intervals the
    /// environment gives. Booleans: `[0, 0]` false, `[1, 1]` true, `[0, 1]` either.
    pub fn eval_interval<E: IntervalEnv>(&self, env: &E) -> Interval {
        interval::eval(&self.code, env)
    }
}

/// One piece of simulation state an expression reads (parameters and time
/// aside); see [`Expr::for_each_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The tension of a dyad.
    Tension(u32),
    /// The tension between two actors at least one of which is `source`/`target`.
    TensionBetween,
    /// An actor state variable.
    State(ActorRef, u32),
    /// The count, first or last time of an event type.
    Event(u32),
    /// A history slot (filtered or windowed events; see [`HistoryKey`]).
    History(u32),
}

impl Expr {
    /// Calls `f` for every piece of simulation state the expression reads
    /// (with repetitions), so callers can work out what a change affects.
    pub fn for_each_input(&self, mut f: impl FnMut(Input)) {
        use eval::Node;
        for node in &self.code {
            match *node {
                Node::Tension(d) => f(Input::Tension(d)),
                Node::TensionBetween(..) => f(Input::TensionBetween),
                Node::State(a, v) => f(Input::State(a, v)),
                Node::Count(e) | Node::First(e) | Node::Last(e) | Node::Since(e) => {
                    f(Input::Event(e))
                }
                Node::HistCount(h)
                | Node::HistFirst(h)
                | Node::HistLast(h)
                | Node::HistSince(h)
                | Node::WindowCount(h) => f(Input::History(h)),
                _ => {}
            }
        }
    }
}

/// A compiled assignment: `lvalue op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What is assigned to.
    pub target: Lvalue,
    /// `=`, `+=` or `-=`.
    pub op: AssignOp,
    /// The right-hand side (of the lvalue's type).
    pub value: Expr,
}

/// The left-hand side of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lvalue {
    /// An actor state variable.
    State {
        /// Whose.
        actor: ActorRef,
        /// Variable index in [`Scope::vars`].
        var: u32,
        /// Its type.
        ty: Type,
    },
    /// The tension of a dyad.
    Tension {
        /// First actor.
        a: ActorRef,
        /// Second actor.
        b: ActorRef,
        /// The dyad, when both actors are fixed (resolved at compile time).
        dyad: Option<u32>,
    },
}

/// Assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=`
    Add,
    /// `-=`
    Sub,
}

/// What the evaluator reads from the simulation state.
pub trait Env {
    /// Parameter value by index.
    fn param(&self, idx: u32) -> f64;
    /// Current time.
    fn time(&self) -> f64;
    /// Tension of a dyad by index, decayed exactly to the current time.
    fn tension(&self, dyad: u32) -> f64;
    /// Tension between two actors, at least one of them `source`/`target`.
    fn tension_between(&self, a: ActorRef, b: ActorRef) -> f64;
    /// Actor state variable (booleans as 1.0 / 0.0).
    fn state(&self, actor: ActorRef, var: u32) -> f64;
    /// Number of events of a type so far.
    fn count(&self, event: u32) -> f64;
    /// Time of the first event of a type, `inf` if none.
    fn first(&self, event: u32) -> f64;
    /// Time of the last event of a type, `-inf` if none.
    fn last(&self, event: u32) -> f64;
    /// Number of events of history slot `slot` so far (see [`HistoryKey`]);
    /// NaN unless the environment keeps histories.
    fn hist_count(&self, _slot: u32) -> f64 {
        f64::NAN
    }
    /// Time of the first event of history slot `slot`, `inf` if none.
    fn hist_first(&self, _slot: u32) -> f64 {
        f64::NAN
    }
    /// Time of the last event of history slot `slot`, `-inf` if none.
    fn hist_last(&self, _slot: u32) -> f64 {
        f64::NAN
    }
    /// Number of events of history slot `slot` in `(t - window, t]`.
    fn window_count(&self, _slot: u32, _window: f64) -> f64 {
        f64::NAN
    }
    /// A random draw with parameters `a`, `b`; NaN unless the environment
    /// draws (only [`Expr::eval_with_rng`]'s does).
    fn draw(&self, _draw: Draw, _a: f64, _b: f64) -> f64 {
        f64::NAN
    }
}

/// The environment of [`Expr::eval_with_rng`]: `env`'s reads, and draws
/// from `rng`.
struct Drawing<'a, E> {
    env: &'a E,
    rng: RefCell<&'a mut Stream>,
    /// The first draw whose parameters were refused.
    bad: RefCell<Option<String>>,
}

impl<E: Env> Env for Drawing<'_, E> {
    fn param(&self, idx: u32) -> f64 {
        self.env.param(idx)
    }
    fn time(&self) -> f64 {
        self.env.time()
    }
    fn tension(&self, dyad: u32) -> f64 {
        self.env.tension(dyad)
    }
    fn tension_between(&self, a: ActorRef, b: ActorRef) -> f64 {
        self.env.tension_between(a, b)
    }
    fn state(&self, actor: ActorRef, var: u32) -> f64 {
        self.env.state(actor, var)
    }
    fn count(&self, event: u32) -> f64 {
        self.env.count(event)
    }
    fn first(&self, event: u32) -> f64 {
        self.env.first(event)
    }
    fn last(&self, event: u32) -> f64 {
        self.env.last(event)
    }
    fn hist_count(&self, slot: u32) -> f64 {
        self.env.hist_count(slot)
    }
    fn hist_first(&self, slot: u32) -> f64 {
        self.env.hist_first(slot)
    }
    fn hist_last(&self, slot: u32) -> f64 {
        self.env.hist_last(slot)
    }
    fn window_count(&self, slot: u32, window: f64) -> f64 {
        self.env.window_count(slot, window)
    }
    fn draw(&self, draw: Draw, a: f64, b: f64) -> f64 {
        if let Err(message) = draw.check(a, b) {
            self.bad.borrow_mut().get_or_insert(message);
            return f64::NAN;
        }
        draw.sample(&mut self.rng.borrow_mut(), a, b)
    }
}

/// What the interval evaluator reads: every input as an interval that contains
/// all the values it may take over a time window.
pub trait IntervalEnv {
    /// Parameter value by index.
    fn param(&self, idx: u32) -> Interval;
    /// The time window.
    fn time(&self) -> Interval;
    /// Tension of a dyad over the window.
    fn tension(&self, dyad: u32) -> Interval;
    /// Tension between two actors, at least one of them `source`/`target`.
    fn tension_between(&self, a: ActorRef, b: ActorRef) -> Interval;
    /// Actor state variable.
    fn state(&self, actor: ActorRef, var: u32) -> Interval;
    /// Number of events of a type.
    fn count(&self, event: u32) -> Interval;
    /// Time of the first event of a type.
    fn first(&self, event: u32) -> Interval;
    /// Time of the last event of a type.
    fn last(&self, event: u32) -> Interval;
    /// Number of events of history slot `slot`; anything unless the
    /// environment keeps histories.
    fn hist_count(&self, _slot: u32) -> Interval {
        Interval::new(0.0, f64::INFINITY)
    }
    /// Time of the first event of history slot `slot`.
    fn hist_first(&self, _slot: u32) -> Interval {
        Interval::new(f64::NEG_INFINITY, f64::INFINITY)
    }
    /// Time of the last event of history slot `slot`.
    fn hist_last(&self, _slot: u32) -> Interval {
        Interval::new(f64::NEG_INFINITY, f64::INFINITY)
    }
    /// Number of events of history slot `slot` in the last `window` time
    /// units, at any time of the environment's time window.
    fn window_count(&self, _slot: u32, _window: Interval) -> Interval {
        Interval::new(0.0, f64::INFINITY)
    }
}

/// An environment with parameter values only, for the expressions whose
/// [`Expr::param_only`] is true: everything else reads as NaN.
#[derive(Debug, Clone, Copy)]
pub struct ParamEnv<'a>(pub &'a [f64]);

impl ParamEnv<'static> {
    /// An environment with nothing in it, for constant expressions (those
    /// whose [`Reads`] are all false): every read gives NaN.
    pub const NONE: ParamEnv<'static> = ParamEnv(&[]);
}

impl Env for ParamEnv<'_> {
    fn param(&self, idx: u32) -> f64 {
        self.0.get(idx as usize).copied().unwrap_or(f64::NAN)
    }
    fn time(&self) -> f64 {
        f64::NAN
    }
    fn tension(&self, _: u32) -> f64 {
        f64::NAN
    }
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> f64 {
        f64::NAN
    }
    fn state(&self, _: ActorRef, _: u32) -> f64 {
        f64::NAN
    }
    fn count(&self, _: u32) -> f64 {
        f64::NAN
    }
    fn first(&self, _: u32) -> f64 {
        f64::NAN
    }
    fn last(&self, _: u32) -> f64 {
        f64::NAN
    }
}
