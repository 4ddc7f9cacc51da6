//! Expressions compiled to closures over [`View`]: the engine's hot
//! expressions (rule conditions and probabilities, hazard rates, effects,
//! outcomes) skip the postfix interpreter's loop, stack and dispatch.
//!
//! A compiled expression is a tree of closures, one per operator, built
//! once per scenario from the checked postfix code ([`Expr`]'s nodes): each
//! closure evaluates its operands left to right and applies the same IEEE
//! operation (the same functions: `libm`, the language's `min`, `max`,
//! `pow`) as the interpreter, so every value has the same bits. Constants
//! and parameters are read in place by the operator that uses them (no call
//! of their own), and a state variable of a named actor is read at its slot.
//! Code with random draws, and code whose layout the builder does not
//! recognise, keeps the interpreter ([`Expr::eval`]).

use super::view::View;
use crate::expr::eval::{max, min, pow, truth, Node};
use crate::expr::{ActorRef, Env, Expr};
use std::fmt;

/// A closure that evaluates one (sub-)expression in a [`View`].
type F = Box<dyn Fn(&View<'_, '_>) -> f64 + Send + Sync>;

/// An expression compiled to closures ([`compile`]).
pub(super) struct Fast(F);

impl fmt::Debug for Fast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fast(..)")
    }
}

impl Fast {
    /// The value of the expression in `view`: [`Expr::eval`]'s, bit for bit.
    #[inline]
    pub(super) fn eval(&self, view: &View<'_, '_>) -> f64 {
        (self.0)(view)
    }
}

/// An operand read in place: no closure call of its own.
#[derive(Clone, Copy)]
enum Cheap {
    Const(f64),
    Param(u32),
}

impl Cheap {
    #[inline(always)]
    fn read(self, v: &View<'_, '_>) -> f64 {
        match self {
            Cheap::Const(c) => c,
            Cheap::Param(i) => v.params[i as usize],
        }
    }
}

/// A built sub-expression.
enum Built {
    Cheap(Cheap),
    Fn(F),
}

impl Built {
    fn into_fn(self) -> F {
        match self {
            Built::Fn(f) => f,
            Built::Cheap(Cheap::Const(c)) => Box::new(move |_| c),
            Built::Cheap(Cheap::Param(i)) => Box::new(move |v| v.params[i as usize]),
        }
    }
}

/// Compiles `expr` for a scenario whose actors have `n_vars` state slots
/// each. Code that draws, or that the builder does not recognise, is
/// evaluated by the interpreter.
pub(super) fn compile(expr: &Expr, n_vars: usize) -> Fast {
    let built = if expr.reads().draws {
        None
    } else {
        build(&expr.code, n_vars)
    };
    match built {
        Some(b) => Fast(b.into_fn()),
        None => {
            let expr = expr.clone();
            Fast(Box::new(move |v| expr.eval(v)))
        }
    }
}

/// Builds complete postfix `code` (it leaves one value), or `None`.
fn build(code: &[Node], n_vars: usize) -> Option<Built> {
    let mut stack: Vec<Built> = Vec::new();
    let mut pc = 0;
    while pc < code.len() {
        let node = code[pc];
        pc += 1;
        let built = match node {
            Node::Const(c) => Built::Cheap(Cheap::Const(c)),
            Node::Param(i) => Built::Cheap(Cheap::Param(i)),
            Node::Time => Built::Fn(Box::new(|v| v.e.now)),
            Node::Tension(d) => {
                let d = d as usize;
                Built::Fn(Box::new(move |v| v.e.tension_at(d, v.e.now)))
            }
            Node::TensionBetween(a, b) => Built::Fn(Box::new(move |v| v.tension_between(a, b))),
            Node::State(ActorRef::Fixed(a), var) if a != super::NONE16 => {
                let slot = usize::from(a) * n_vars + var as usize;
                Built::Fn(Box::new(move |v| v.e.state[slot]))
            }
            Node::State(actor, var) => Built::Fn(Box::new(move |v| v.state(actor, var))),
            Node::Count(e) => Built::Fn(Box::new(move |v| v.e.counts[e as usize])),
            Node::First(e) => Built::Fn(Box::new(move |v| v.e.first[e as usize])),
            Node::Last(e) => Built::Fn(Box::new(move |v| v.e.last[e as usize])),
            Node::Since(e) => Built::Fn(Box::new(move |v| v.e.now - v.e.last[e as usize])),
            Node::HistCount(h) => Built::Fn(Box::new(move |v| v.hist_count(h))),
            Node::HistFirst(h) => Built::Fn(Box::new(move |v| v.hist_first(h))),
            Node::HistLast(h) => Built::Fn(Box::new(move |v| v.hist_last(h))),
            Node::HistSince(h) => Built::Fn(Box::new(move |v| v.e.now - v.hist_last(h))),
            Node::Draw(_) => return None,
            Node::WindowCount(h) => {
                let w = stack.pop()?.into_fn();
                Built::Fn(Box::new(move |v| v.window_count(h, w(v))))
            }
            Node::Neg => unary(stack.pop()?, |a| -a),
            Node::Not => unary(stack.pop()?, |a| truth(a == 0.0)),
            Node::Exp => unary(stack.pop()?, libm::exp),
            Node::Ln => unary(stack.pop()?, libm::log),
            Node::Sqrt => unary(stack.pop()?, libm::sqrt),
            Node::Abs => unary(stack.pop()?, libm::fabs),
            Node::Floor => unary(stack.pop()?, libm::floor),
            Node::Sin => unary(stack.pop()?, libm::sin),
            Node::Cos => unary(stack.pop()?, libm::cos),
            Node::Add
            | Node::Sub
            | Node::Mul
            | Node::Div
            | Node::Pow
            | Node::Eq
            | Node::Ne
            | Node::Lt
            | Node::Le
            | Node::Gt
            | Node::Ge
            | Node::Min
            | Node::Max => {
                let b = stack.pop()?;
                let a = stack.pop()?;
                binary(node, a, b)?
            }
            Node::Clamp => {
                let hi = stack.pop()?.into_fn();
                let lo = stack.pop()?.into_fn();
                let x = stack.pop()?.into_fn();
                Built::Fn(Box::new(move |v| {
                    let x = x(v);
                    let lo = lo(v);
                    let hi = hi(v);
                    min(max(x, lo), hi)
                }))
            }
            Node::AndSkip(n) | Node::OrSkip(n) => {
                let n = n as usize;
                let a = stack.pop()?.into_fn();
                let b = build(code.get(pc..pc + n)?, n_vars)?.into_fn();
                pc += n;
                // `and` keeps a false left operand, `or` a true one (the
                // interpreter leaves it on the stack).
                if matches!(node, Node::AndSkip(_)) {
                    Built::Fn(Box::new(move |v| {
                        let a = a(v);
                        if a == 0.0 {
                            a
                        } else {
                            b(v)
                        }
                    }))
                } else {
                    Built::Fn(Box::new(move |v| {
                        let a = a(v);
                        if a != 0.0 {
                            a
                        } else {
                            b(v)
                        }
                    }))
                }
            }
            Node::JumpIfFalse(n) => {
                // `cond JumpIfFalse(n) then… Jump(m) else…`: `n` counts the
                // `then` nodes and the `Jump`.
                let n = n as usize;
                let cond = stack.pop()?.into_fn();
                if n == 0 {
                    return None;
                }
                let then = build(code.get(pc..pc + n - 1)?, n_vars)?.into_fn();
                let Node::Jump(m) = *code.get(pc + n - 1)? else {
                    return None;
                };
                let m = m as usize;
                let other = build(code.get(pc + n..pc + n + m)?, n_vars)?.into_fn();
                pc += n + m;
                Built::Fn(Box::new(
                    move |v| {
                        if cond(v) == 0.0 {
                            other(v)
                        } else {
                            then(v)
                        }
                    },
                ))
            }
            Node::Jump(_) => return None,
        };
        stack.push(built);
    }
    let top = stack.pop()?;
    stack.is_empty().then_some(top)
}

/// A unary operator on a built operand.
/// Generic over the operator, so that each closure calls its own function
/// directly (a function pointer would cost an indirect call).
fn unary<O: Fn(f64) -> f64 + Send + Sync + 'static>(a: Built, op: O) -> Built {
    let a = a.into_fn();
    Built::Fn(Box::new(move |v| op(a(v))))
}

/// A binary operator on built operands, with the cheap operands read in place.
/// `None` if `op` is not a binary operator.
fn binary(op: Node, a: Built, b: Built) -> Option<Built> {
    macro_rules! ops {
        ($($node:ident => |$x:ident, $y:ident| $e:expr),* $(,)?) => {
            match op {
                $(Node::$node => match (a, b) {
                    (Built::Cheap(ca), Built::Cheap(cb)) => Built::Fn(Box::new(move |v| {
                        let $x = ca.read(v);
                        let $y = cb.read(v);
                        $e
                    })),
                    (Built::Cheap(ca), Built::Fn(fb)) => Built::Fn(Box::new(move |v| {
                        let $x = ca.read(v);
                        let $y = fb(v);
                        $e
                    })),
                    (Built::Fn(fa), Built::Cheap(cb)) => Built::Fn(Box::new(move |v| {
                        let $x = fa(v);
                        let $y = cb.read(v);
                        $e
                    })),
                    (Built::Fn(fa), Built::Fn(fb)) => Built::Fn(Box::new(move |v| {
                        let $x = fa(v);
                        let $y = fb(v);
                        $e
                    })),
                },)*
                _ => return None,
            }
        };
    }
    Some(ops! {
        Add => |x, y| x + y,
        Sub => |x, y| x - y,
        Mul => |x, y| x * y,
        Div => |x, y| x / y,
        Pow => |x, y| pow(x, y),
        Eq => |x, y| truth(x == y),
        Ne => |x, y| truth(x != y),
        Lt => |x, y| truth(x < y),
        Le => |x, y| truth(x <= y),
        Gt => |x, y| truth(x > y),
        Ge => |x, y| truth(x >= y),
        Min => |x, y| min(x, y),
        Max => |x, y| max(x, y),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Engine, RunOptions};
    use super::*;
    use crate::expr::Context;

    const SCENARIO: &str = r#"
[scenario]
name = "fast"
horizon = 10
[params]
p = { value = 0.5, min = -10.0, max = 10.0 }
q = { value = 2.0, min = -10.0, max = 10.0 }
[[actor]]
id = "A"
state = { x = 1.5, flag = true }
[[actor]]
id = "B"
state = { x = -2.0, flag = false }
[[tension]]
between = ["A", "B"]
initial = 0.4
baseline = 0.2
half_life = 3.0
[[event]]
id = "e1"
effects = ["A.x += 1"]
[[event]]
id = "e2"
[[schedule]]
event = "e1"
at = 1.0
source = "A"
target = "B"
"#;

    /// Leaves and operators of every kind the builder takes, and nestings
    /// of the short-circuiting ones.
    fn sources() -> Vec<String> {
        let numbers = [
            "p",
            "q",
            "t",
            "-0",
            "2",
            "tension(A, B)",
            "tension(source, target)",
            "A.x",
            "target.x",
            "count(e1)",
            "first(e2)",
            "last(e1)",
            "since(e1)",
        ];
        let booleans = ["A.flag", "source.flag", "true", "p < q", "B.x >= t"];
        let mut srcs: Vec<String> = Vec::new();
        for a in numbers {
            srcs.push(a.to_string());
            srcs.push(format!("-{a}"));
            for f in ["exp", "ln", "sqrt", "abs", "floor", "sin", "cos"] {
                srcs.push(format!("{f}({a} * p)"));
            }
            for b in numbers {
                for op in ["+", "-", "*", "/", "^"] {
                    srcs.push(format!("{a} {op} {b}"));
                    srcs.push(format!("({a} {op} {b}) * (q - {b})"));
                }
                for op in ["==", "!=", "<", "<=", ">", ">="] {
                    srcs.push(format!("{a} {op} {b}"));
                    srcs.push(format!("({a} {op} {b}) and ({b} {op} q)"));
                }
                srcs.push(format!("min({a}, {b}, p)"));
                srcs.push(format!("max({a}, {b})"));
                srcs.push(format!("clamp({a}, {b}, q)"));
                srcs.push(format!("if {a} < {b} then {a} + 1 else q * {b}"));
            }
        }
        for a in booleans {
            srcs.push(format!("not {a}"));
            for b in booleans {
                srcs.push(format!("{a} and {b}"));
                srcs.push(format!("{a} or not {b}"));
                srcs.push(format!("({a} or {b}) and not ({b} and {a})"));
                srcs.push(format!("if {a} or {b} then 0 else 1 / q"));
                srcs.push(format!("if {a} then (if {b} then p else q) else t"));
            }
        }
        srcs.push("p * (1 + A.x / 40) + q * tension(A, B)^2".to_string());
        srcs
    }

    /// The scenario, and every source of [`sources`] compiled in it.
    fn cases() -> &'static (crate::scenario::Scenario, Vec<Expr>) {
        static CASES: std::sync::OnceLock<(crate::scenario::Scenario, Vec<Expr>)> =
            std::sync::OnceLock::new();
        CASES.get_or_init(|| {
            let s = crate::scenario::parse("fast.toml", SCENARIO).expect("valid scenario");
            let ctx = Context {
                event_actors: true,
                draws: false,
            };
            let exprs = (sources().iter())
                .map(|src| crate::expr::compile(src, &s.scope, ctx, None).expect(src))
                .collect();
            (s, exprs)
        })
    }

    proptest::proptest! {
        /// Every compiled expression gives the interpreter's bits (NaN for
        /// NaN: Rust leaves NaN payloads unspecified), whatever the state.
        #[test]
        fn closures_match_the_interpreter(
            values in proptest::array::uniform12(proptest::num::f64::ANY),
            tension in 0.0..1.0f64,
        ) {
            let (s, exprs) = cases();
            let mut engine = Engine::new(s);
            let params = [values[0], values[1]];
            engine.start(&params, &[7; 32], RunOptions::default()).expect("starts");
            engine.now = values[2].abs();
            for (slot, v) in engine.state.iter_mut().zip(&values[3..7]) {
                *slot = *v;
            }
            engine.counts.copy_from_slice(&values[7..9]);
            engine.first.copy_from_slice(&values[9..11]);
            engine.last[0] = values[11];
            engine.dyads[0].value = tension;
            // Absent event actors and `source == target` too: `source.x`
            // reads 0 without an actor, `tension(source, target)` NaN
            // without a dyad.
            let none = super::super::NONE16;
            for (source, target) in [(0, 1), (1, 0), (none, 0), (0, none), (0, 0)] {
                let view = View { e: &engine, params: &params, source, target };
                for expr in exprs {
                    let fast = compile(expr, s.n_vars()).eval(&view);
                    let slow = expr.eval(&view);
                    let same = fast.to_bits() == slow.to_bits() || (fast.is_nan() && slow.is_nan());
                    proptest::prop_assert!(same, "{:?}: {} vs {}", expr.code, fast, slow);
                }
            }
        }
    }

    /// History reads (filtered and windowed counts; first, last and since of
    /// filtered events) take the closures and give the interpreter's bits
    /// after every event of replications that record them.
    #[test]
    fn history_reads_match_the_interpreter() {
        const HIST: &str = r#"
[scenario]
name = "hist"
horizon = 20
[params]
w = { value = 3.0, min = 0.0, max = 10.0 }
[[actor]]
id = "A"
[[actor]]
id = "B"
[[event]]
id = "e1"
[[event]]
id = "e2"
[[hazard]]
name = "ab"
event = "e1"
source = "A"
target = "B"
rate = "0.8"
[[hazard]]
name = "ba"
event = "e1"
source = "B"
target = "A"
rate = "0.5"
[[outcome]]
name = "filtered"
value = "count(e1, from = A) + 10 * count(e1, to = A)"
[[outcome]]
name = "windowed"
value = "count(e1, w) - count(e1, 2 * w, from = B)"
[[outcome]]
name = "times"
value = "first(e1, to = B) + last(e1, from = B) * since(e1, from = A, to = B)"
[[outcome]]
name = "never"
value = "since(e2, from = A) + first(e2) + count(e2, w, to = B)"
"#;
        let s = crate::scenario::parse("hist.toml", HIST).expect("valid scenario");
        let exprs: Vec<&Expr> = (s.outcomes.iter())
            .map(|o| match &o.kind {
                crate::scenario::OutcomeKind::Numeric(e) => e,
                crate::scenario::OutcomeKind::Categorical(_) => unreachable!("numeric outcomes"),
            })
            .collect();
        for expr in &exprs {
            assert!(build(&expr.code, s.n_vars()).is_some(), "{:?}", expr.code);
            assert!(
                expr.code.iter().any(|n| matches!(
                    n,
                    Node::HistCount(_)
                        | Node::HistFirst(_)
                        | Node::HistLast(_)
                        | Node::HistSince(_)
                        | Node::WindowCount(_)
                )),
                "{:?}",
                expr.code
            );
        }
        let compiled: Vec<Fast> = exprs.iter().map(|e| compile(e, s.n_vars())).collect();
        let params = [3.0];
        let mut engine = Engine::new(&s);
        let mut checked = 0;
        for rep in 0..20u64 {
            let key = crate::rng::replication_key(5, rep, None);
            engine
                .start(&params, &key, RunOptions::default())
                .expect("starts");
            loop {
                for source in [0, 1, super::super::NONE16] {
                    let view = View {
                        e: &engine,
                        params: &params,
                        source,
                        target: 1,
                    };
                    for (fast, expr) in compiled.iter().zip(&exprs) {
                        let (a, b) = (fast.eval(&view), expr.eval(&view));
                        assert!(
                            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                            "{a} vs {b}"
                        );
                        checked += 1;
                    }
                }
                let next = engine.now() + 0.5;
                let step = engine
                    .advance_until(&params, super::super::Until::Time(next), None)
                    .expect("advances");
                if step == super::super::Step::Ended {
                    break;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn every_case_takes_the_closures() {
        let (s, exprs) = cases();
        for expr in exprs {
            assert!(build(&expr.code, s.n_vars()).is_some(), "{:?}", expr.code);
        }
    }

    /// The deepest expressions the checker accepts (256 operators deep, or
    /// a `min` of thousands of arguments) nest closures as deep; they build,
    /// evaluate and drop on a test thread's stack.
    #[test]
    fn the_longest_chains_evaluate() {
        let (s, _) = cases();
        let ctx = Context {
            event_actors: true,
            draws: false,
        };
        let mut engine = Engine::new(s);
        engine
            .start(&[0.5, 2.0], &[7; 32], RunOptions::default())
            .expect("starts");
        let view = View {
            e: &engine,
            params: &[0.5, 2.0],
            source: 0,
            target: 1,
        };
        for src in [
            vec!["p"; 256].join("+"),
            format!("min({})", vec!["q"; 4990].join(",")),
            vec!["p<q"; 128].join(" or "),
        ] {
            assert!(src.len() <= 10_000);
            let expr = crate::expr::compile(&src, &s.scope, ctx, None).expect("valid");
            assert!(build(&expr.code, s.n_vars()).is_some());
            let fast = compile(&expr, s.n_vars()).eval(&view);
            assert_eq!(fast.to_bits(), expr.eval(&view).to_bits());
        }
    }

    #[test]
    fn draws_keep_the_interpreter() {
        let s = crate::scenario::parse("fast.toml", SCENARIO).expect("valid scenario");
        let ctx = Context {
            event_actors: true,
            draws: true,
        };
        let expr = crate::expr::compile("p + uniform(0, 1)", &s.scope, ctx, None).expect("valid");
        assert!(build(&expr.code, s.n_vars()).is_none());
        let expr = crate::expr::compile("p + 1", &s.scope, ctx, None).expect("valid");
        assert!(build(&expr.code, s.n_vars()).is_some());
    }
}
