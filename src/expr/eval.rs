//! The compiled form of an expression ([`Node`]) and its point evaluator.
//!
//! Code is postfix ("reverse Polish") over a value stack: leaves push a value,
//! operators pop their operands and push the result. `if`, `and` and `or`
//! short-circuit with forward jumps whose targets are relative (a count of
//! nodes to skip), so any complete sub-expression is position independent and
//! can be evaluated on its own (the checker uses that to fold constants).
//!
//! The stack is a fixed-size array: the checker refuses code that could need
//! more than [`STACK_CAP`] slots, so evaluation allocates nothing. Its size is
//! a power of two and its indices are masked, so the interpreter has no bounds
//! checks (the checker's depth bound makes the mask a no-op).
//!
//! Most expressions a scenario evaluates are tiny (`POL.border_open`,
//! `NATO.alert < 2`, `not POL.border_open`, `4.0 * impact_scale`), so an
//! expression's [`Shape`] is decided when it is compiled: one leaf, a unary
//! operator on a leaf, or a binary operator on two leaves is computed directly,
//! without the interpreter, by the same IEEE operations in the same order;
//! anything else is interpreted. The code itself is unchanged, so the interval
//! evaluator and [`Expr::for_each_input`](super::Expr::for_each_input) read the
//! same nodes either way.

use super::{ActorRef, Env};
use crate::rng::Draw;

/// The most stack slots (and, for the interval evaluator, open branches) any
/// compiled expression may need.
pub(crate) const STACK_CAP: usize = 64;

/// One instruction of compiled code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Node {
    /// Push a constant.
    Const(f64),
    /// Push a parameter.
    Param(u32),
    /// Push the current time.
    Time,
    /// Push the tension of a dyad.
    Tension(u32),
    /// Push the tension between two actors (one of them `source` / `target`).
    TensionBetween(ActorRef, ActorRef),
    /// Push an actor state variable.
    State(ActorRef, u32),
    /// Push the number of events of a type.
    Count(u32),
    /// Push the time of the first event of a type.
    First(u32),
    /// Push the time of the last event of a type.
    Last(u32),
    /// Push the time since the last event of a type (`time - last`).
    Since(u32),
    /// Push the number of events of a history slot.
    HistCount(u32),
    /// Push the time of the first event of a history slot.
    HistFirst(u32),
    /// Push the time of the last event of a history slot.
    HistLast(u32),
    /// Push the time since the last event of a history slot.
    HistSince(u32),
    /// Replace the top of the stack, a window `W`, by the number of events
    /// of a history slot in `(time - W, time]`.
    WindowCount(u32),
    /// A random draw: replace the top of the stack (one-parameter draws) or
    /// pop `b`, pop `a` and push the draw (two-parameter ones), through
    /// [`Env::draw`]. Only code compiled with `Context::draws` has it.
    Draw(Draw),
    /// Unary operators and functions: replace the top of the stack.
    Neg,
    Not,
    Exp,
    Ln,
    Sqrt,
    Abs,
    Floor,
    Sin,
    Cos,
    /// Binary operators: pop `b`, pop `a`, push `a op b`.
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Min,
    Max,
    /// Pop `hi`, `lo`, `x`; push `min(max(x, lo), hi)`.
    Clamp,
    /// Pop the condition; if it is false, skip this many nodes (past the
    /// `then` branch and its closing `Jump`).
    JumpIfFalse(u32),
    /// Skip this many nodes (past the `else` branch).
    Jump(u32),
    /// `and`: if the top is false, keep it and skip this many nodes (the
    /// right operand); otherwise pop it.
    AndSkip(u32),
    /// `or`: if the top is true, keep it and skip this many nodes; otherwise pop it.
    OrSkip(u32),
}

impl Node {
    /// The history slot a node reads, to renumber it.
    pub(crate) fn history_slot_mut(&mut self) -> Option<&mut u32> {
        match self {
            Node::HistCount(h)
            | Node::HistFirst(h)
            | Node::HistLast(h)
            | Node::HistSince(h)
            | Node::WindowCount(h) => Some(h),
            _ => None,
        }
    }
}

#[inline]
pub(crate) fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// `libm::pow`, with its own shortcut for `x^2` (`x * x`, which is what
/// `libm::pow` returns for an exponent of exactly 2) taken before the call:
/// squares are the common case (`tension(A, B)^2`) and the call is not free.
#[inline]
pub(crate) fn pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else {
        libm::pow(a, b)
    }
}

/// `min` that ignores a NaN operand and always picks the same operand on ties
/// (so signed zeros come out the same on every platform).
#[inline]
pub(crate) fn min(a: f64, b: f64) -> f64 {
    if b < a || a.is_nan() {
        b
    } else {
        a
    }
}

/// `max`, with the same conventions as [`min`].
#[inline]
pub(crate) fn max(a: f64, b: f64) -> f64 {
    if b > a || a.is_nan() {
        b
    } else {
        a
    }
}

/// Code that needs at most this many stack slots runs on a small stack.
pub(crate) const SMALL: usize = 16;

/// Evaluates compiled code that needs at most `depth` stack slots (the
/// checker's bound). Booleans are 1.0 / 0.0; any non-zero value counts as
/// true.
#[inline]
pub(crate) fn eval<E: Env>(code: &[Node], depth: usize, env: &E) -> f64 {
    // Most expressions are shallow; zeroing a full-size stack on every call
    // cost more than evaluating them (profiled on west2025).
    if depth <= SMALL {
        eval_on::<E, SMALL>(code, env)
    } else {
        eval_on::<E, STACK_CAP>(code, env)
    }
}

/// An operand that [`Shape`] reads directly: a node that pushes a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Leaf {
    /// [`Node::Const`].
    Const(f64),
    /// [`Node::Param`].
    Param(u32),
    /// [`Node::Time`].
    Time,
    /// [`Node::Tension`].
    Tension(u32),
    /// [`Node::TensionBetween`].
    TensionBetween(ActorRef, ActorRef),
    /// [`Node::State`].
    State(ActorRef, u32),
    /// [`Node::Count`].
    Count(u32),
    /// [`Node::First`].
    First(u32),
    /// [`Node::Last`].
    Last(u32),
    /// [`Node::Since`].
    Since(u32),
}

impl Leaf {
    /// The leaf a node is, if it is one.
    fn of(node: Node) -> Option<Leaf> {
        Some(match node {
            Node::Const(v) => Leaf::Const(v),
            Node::Param(i) => Leaf::Param(i),
            Node::Time => Leaf::Time,
            Node::Tension(d) => Leaf::Tension(d),
            Node::TensionBetween(a, b) => Leaf::TensionBetween(a, b),
            Node::State(actor, var) => Leaf::State(actor, var),
            Node::Count(e) => Leaf::Count(e),
            Node::First(e) => Leaf::First(e),
            Node::Last(e) => Leaf::Last(e),
            Node::Since(e) => Leaf::Since(e),
            _ => return None,
        })
    }

    /// The value the interpreter pushes for this leaf.
    #[inline]
    fn read<E: Env>(self, env: &E) -> f64 {
        match self {
            Leaf::Const(v) => v,
            Leaf::Param(i) => env.param(i),
            Leaf::Time => env.time(),
            Leaf::Tension(d) => env.tension(d),
            Leaf::TensionBetween(a, b) => env.tension_between(a, b),
            Leaf::State(actor, var) => env.state(actor, var),
            Leaf::Count(e) => env.count(e),
            Leaf::First(e) => env.first(e),
            Leaf::Last(e) => env.last(e),
            Leaf::Since(e) => env.time() - env.last(e),
        }
    }
}

/// A unary operator that [`Shape`] applies directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op1 {
    /// [`Node::Neg`].
    Neg,
    /// [`Node::Not`].
    Not,
}

impl Op1 {
    /// The operator a node is, if it is one of these.
    fn of(node: Node) -> Option<Op1> {
        match node {
            Node::Neg => Some(Op1::Neg),
            Node::Not => Some(Op1::Not),
            _ => None,
        }
    }

    /// What the interpreter computes for this operator.
    #[inline]
    fn apply(self, a: f64) -> f64 {
        match self {
            Op1::Neg => -a,
            Op1::Not => truth(a == 0.0),
        }
    }
}

/// A binary operator that [`Shape`] applies directly (all but `clamp` and the
/// short-circuiting ones, which are not nodes of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op2 {
    /// [`Node::Add`].
    Add,
    /// [`Node::Sub`].
    Sub,
    /// [`Node::Mul`].
    Mul,
    /// [`Node::Div`].
    Div,
    /// [`Node::Pow`].
    Pow,
    /// [`Node::Eq`].
    Eq,
    /// [`Node::Ne`].
    Ne,
    /// [`Node::Lt`].
    Lt,
    /// [`Node::Le`].
    Le,
    /// [`Node::Gt`].
    Gt,
    /// [`Node::Ge`].
    Ge,
    /// [`Node::Min`].
    Min,
    /// [`Node::Max`].
    Max,
}

impl Op2 {
    /// The operator a node is, if it is one of these.
    fn of(node: Node) -> Option<Op2> {
        Some(match node {
            Node::Add => Op2::Add,
            Node::Sub => Op2::Sub,
            Node::Mul => Op2::Mul,
            Node::Div => Op2::Div,
            Node::Pow => Op2::Pow,
            Node::Eq => Op2::Eq,
            Node::Ne => Op2::Ne,
            Node::Lt => Op2::Lt,
            Node::Le => Op2::Le,
            Node::Gt => Op2::Gt,
            Node::Ge => Op2::Ge,
            Node::Min => Op2::Min,
            Node::Max => Op2::Max,
            _ => return None,
        })
    }

    /// What the interpreter computes for this operator.
    #[inline]
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Op2::Add => a + b,
            Op2::Sub => a - b,
            Op2::Mul => a * b,
            Op2::Div => a / b,
            Op2::Pow => pow(a, b),
            Op2::Eq => truth(a == b),
            Op2::Ne => truth(a != b),
            Op2::Lt => truth(a < b),
            Op2::Le => truth(a <= b),
            Op2::Gt => truth(a > b),
            Op2::Ge => truth(a >= b),
            Op2::Min => min(a, b),
            Op2::Max => max(a, b),
        }
    }
}

/// How a whole expression is evaluated, decided once when it is compiled:
/// the commonest shapes of code skip the interpreter (its loop, its stack and
/// its call) and compute the same IEEE operations in the same order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// The code is one leaf: `POL.border_open`, `close_prob`.
    Leaf(Leaf),
    /// A unary operator on a leaf: `not POL.border_open`.
    Unary(Op1, Leaf),
    /// A binary operator on two leaves: `NATO.alert < 2`, `4.0 * impact_scale`.
    Binary(Op2, Leaf, Leaf),
    /// Anything else: the interpreter, on a stack of at least this many slots
    /// (the checker's bound on the code's depth).
    Code(usize),
}

impl Shape {
    /// The shape of checked `code` that needs at most `depth` stack slots.
    pub(crate) fn of(code: &[Node], depth: usize) -> Shape {
        let shape = match *code {
            [a] => Leaf::of(a).map(Shape::Leaf),
            [a, op] => Leaf::of(a)
                .zip(Op1::of(op))
                .map(|(a, op)| Shape::Unary(op, a)),
            [a, b, op] => match (Leaf::of(a), Leaf::of(b), Op2::of(op)) {
                (Some(a), Some(b), Some(op)) => Some(Shape::Binary(op, a, b)),
                _ => None,
            },
            _ => None,
        };
        shape.unwrap_or(Shape::Code(depth))
    }

    /// Evaluates `code`, whose shape this is.
    #[inline]
    pub(crate) fn eval<E: Env>(&self, code: &[Node], env: &E) -> f64 {
        match *self {
            Shape::Leaf(a) => a.read(env),
            Shape::Unary(op, a) => op.apply(a.read(env)),
            Shape::Binary(op, a, b) => {
                let a = a.read(env);
                op.apply(a, b.read(env))
            }
            Shape::Code(depth) => eval(code, depth, env),
        }
    }
}

/// [`eval`] with a stack of `N` slots; the caller guarantees that the code
/// needs no more (the checker bounds every expression by [`STACK_CAP`]).
///
/// `N` is a power of two and every stack index is masked with `N - 1`: for
/// code that needs at most `N` slots the mask changes no index (the depth
/// before a push is below `N`, and an operator finds its operands on the
/// stack), and it lets the compiler drop the bounds checks.
fn eval_on<E: Env, const N: usize>(code: &[Node], env: &E) -> f64 {
    const { assert!(N.is_power_of_two()) };
    let mut stack = [0.0f64; N];
    // Number of values on the stack; the checker guarantees it stays within
    // `1..=N` wherever an operator pops.
    let mut sp = 0usize;
    let mut pc = 0usize;

    /// The slot `depth` values up from the bottom (masked, see above).
    macro_rules! at {
        ($depth:expr) => {
            stack[($depth) & (N - 1)]
        };
    }
    macro_rules! push {
        ($v:expr) => {{
            let v = $v;
            debug_assert!(sp < N, "the checker bounds the depth by N");
            at!(sp) = v;
            sp += 1;
        }};
    }
    macro_rules! unary {
        (|$a:ident| $e:expr) => {{
            let $a = at!(sp.wrapping_sub(1));
            at!(sp.wrapping_sub(1)) = $e;
        }};
    }
    macro_rules! binary {
        (|$a:ident, $b:ident| $e:expr) => {{
            sp = sp.wrapping_sub(1);
            let $b = at!(sp);
            let $a = at!(sp.wrapping_sub(1));
            at!(sp.wrapping_sub(1)) = $e;
        }};
    }

    while let Some(&node) = code.get(pc) {
        pc += 1;
        match node {
            Node::Const(v) => push!(v),
            Node::Param(i) => push!(env.param(i)),
            Node::Time => push!(env.time()),
            Node::Tension(d) => push!(env.tension(d)),
            Node::TensionBetween(a, b) => push!(env.tension_between(a, b)),
            Node::State(actor, var) => push!(env.state(actor, var)),
            Node::Count(e) => push!(env.count(e)),
            Node::First(e) => push!(env.first(e)),
            Node::Last(e) => push!(env.last(e)),
            Node::Since(e) => push!(env.time() - env.last(e)),
            Node::HistCount(h) => push!(env.hist_count(h)),
            Node::HistFirst(h) => push!(env.hist_first(h)),
            Node::HistLast(h) => push!(env.hist_last(h)),
            Node::HistSince(h) => push!(env.time() - env.hist_last(h)),
            Node::WindowCount(h) => unary!(|w| env.window_count(h, w)),
            Node::Draw(d) if d.params().len() == 1 => unary!(|a| env.draw(d, a, 0.0)),
            Node::Draw(d) => binary!(|a, b| env.draw(d, a, b)),
            Node::Neg => unary!(|a| -a),
            Node::Not => unary!(|a| truth(a == 0.0)),
            Node::Exp => unary!(|a| libm::exp(a)),
            Node::Ln => unary!(|a| libm::log(a)),
            Node::Sqrt => unary!(|a| libm::sqrt(a)),
            Node::Abs => unary!(|a| libm::fabs(a)),
            Node::Floor => unary!(|a| libm::floor(a)),
            Node::Sin => unary!(|a| libm::sin(a)),
            Node::Cos => unary!(|a| libm::cos(a)),
            Node::Add => binary!(|a, b| a + b),
            Node::Sub => binary!(|a, b| a - b),
            Node::Mul => binary!(|a, b| a * b),
            Node::Div => binary!(|a, b| a / b),
            Node::Pow => binary!(|a, b| pow(a, b)),
            Node::Eq => binary!(|a, b| truth(a == b)),
            Node::Ne => binary!(|a, b| truth(a != b)),
            Node::Lt => binary!(|a, b| truth(a < b)),
            Node::Le => binary!(|a, b| truth(a <= b)),
            Node::Gt => binary!(|a, b| truth(a > b)),
            Node::Ge => binary!(|a, b| truth(a >= b)),
            Node::Min => binary!(|a, b| min(a, b)),
            Node::Max => binary!(|a, b| max(a, b)),
            Node::Clamp => {
                let x = at!(sp.wrapping_sub(3));
                let lo = at!(sp.wrapping_sub(2));
                let hi = at!(sp.wrapping_sub(1));
                sp = sp.wrapping_sub(2);
                at!(sp.wrapping_sub(1)) = min(max(x, lo), hi);
            }
            Node::JumpIfFalse(n) => {
                sp = sp.wrapping_sub(1);
                if at!(sp) == 0.0 {
                    pc += n as usize;
                }
            }
            Node::Jump(n) => pc += n as usize,
            Node::AndSkip(n) => {
                if at!(sp.wrapping_sub(1)) == 0.0 {
                    pc += n as usize;
                } else {
                    sp = sp.wrapping_sub(1);
                }
            }
            Node::OrSkip(n) => {
                if at!(sp.wrapping_sub(1)) != 0.0 {
                    pc += n as usize;
                } else {
                    sp = sp.wrapping_sub(1);
                }
            }
        }
    }
    stack[0]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::expr::check::tests::{scope, RULE};
    use crate::expr::compile;

    /// `rate` 0.5, `threshold` 2, `alpha` -1; time 10; dyad tensions 0.3 and
    /// 0.7, 0.9 between any other pair; state: `border_open` true, `alert` 3,
    /// `troops` 100 for everyone (source and target included); events
    /// `incursion` (2 so far, at 1 and 5), `talks` (none), `war` (1, at 4).
    #[derive(Debug, Clone)]
    pub(crate) struct TestEnv {
        pub(crate) params: [f64; 3],
        pub(crate) time: f64,
    }

    impl Default for TestEnv {
        fn default() -> Self {
            TestEnv {
                params: [0.5, 2.0, -1.0],
                time: 10.0,
            }
        }
    }

    impl Env for TestEnv {
        fn param(&self, idx: u32) -> f64 {
            self.params[idx as usize]
        }
        fn time(&self) -> f64 {
            self.time
        }
        fn tension(&self, dyad: u32) -> f64 {
            [0.3, 0.7][dyad as usize]
        }
        fn tension_between(&self, _: ActorRef, _: ActorRef) -> f64 {
            0.9
        }
        fn state(&self, _: ActorRef, var: u32) -> f64 {
            [1.0, 3.0, 100.0][var as usize]
        }
        fn count(&self, event: u32) -> f64 {
            [2.0, 0.0, 1.0][event as usize]
        }
        fn first(&self, event: u32) -> f64 {
            [1.0, f64::INFINITY, 4.0][event as usize]
        }
        fn last(&self, event: u32) -> f64 {
            [5.0, f64::NEG_INFINITY, 4.0][event as usize]
        }
    }

    fn value(src: &str) -> f64 {
        match compile(src, &scope(), RULE, None) {
            Ok(expr) => expr.eval(&TestEnv::default()),
            Err(errors) => panic!("{src:?}: {errors:?}"),
        }
    }

    #[test]
    fn arithmetic() {
        assert_eq!(value("1 + 2 * 3"), 7.0);
        assert_eq!(value("(1 + 2) * 3"), 9.0);
        assert_eq!(value("10 - 4 - 3"), 3.0);
        assert_eq!(value("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(value("-2 ^ 2"), -4.0);
        assert_eq!(value("2 ^ -1"), 0.5);
        assert_eq!(value("rate * threshold - alpha"), 2.0);
        assert_eq!(value("1 / 0"), f64::INFINITY);
        assert!(value("0 / 0").is_nan());
        assert_eq!(value("inf"), f64::INFINITY);
        assert_eq!(value("t / 4"), 2.5);
    }

    #[test]
    fn functions() {
        assert_eq!(value("min(3, rate, threshold)"), 0.5);
        assert_eq!(value("max(3, rate, threshold, alpha)"), 3.0);
        assert_eq!(value("clamp(threshold, 0, 1)"), 1.0);
        assert_eq!(value("clamp(alpha, 0, 1)"), 0.0);
        assert_eq!(value("clamp(rate, 0, 1)"), 0.5);
        assert_eq!(value("exp(0)"), 1.0);
        assert_eq!(value("ln(exp(threshold))"), 2.0);
        assert_eq!(value("sqrt(16)"), 4.0);
        assert_eq!(value("abs(alpha)"), 1.0);
        assert_eq!(value("floor(-rate)"), -1.0);
        assert!(value("ln(alpha)").is_nan());
        assert_eq!(value("sin(0)"), 0.0);
        assert_eq!(value("cos(0)"), 1.0);
        assert!((value("sin(rate * 3.141592653589793)") - 1.0).abs() < 1e-15);
        assert!((value("cos(3.141592653589793)") + 1.0).abs() < 1e-15);
        assert!(value("sin(inf)").is_nan());
    }

    #[test]
    fn reads_from_the_environment() {
        assert_eq!(value("tension(POL, BLR) + tension(BLR, RUS)"), 1.0);
        assert_eq!(value("tension(source, POL)"), 0.9);
        assert_eq!(value("POL.alert + target.troops"), 103.0);
        assert_eq!(value("count(incursion) + count(talks)"), 2.0);
        assert_eq!(value("since(incursion)"), 5.0);
        assert_eq!(value("since(talks)"), f64::INFINITY);
        assert_eq!(value("first(talks)"), f64::INFINITY);
        assert_eq!(value("last(talks)"), f64::NEG_INFINITY);
        assert_eq!(value("first(incursion) + last(war)"), 5.0);
    }

    #[test]
    fn booleans_and_branches() {
        assert_eq!(value("1 < 2"), 1.0);
        assert_eq!(value("rate >= threshold"), 0.0);
        assert_eq!(value("POL.border_open == true"), 1.0);
        assert_eq!(value("POL.border_open != true"), 0.0);
        assert_eq!(value("not POL.border_open or rate < 1"), 1.0);
        assert_eq!(value("rate > 1 and 1 / 0 > 0"), 0.0);
        assert_eq!(value("rate < 1 and threshold == 2"), 1.0);
        assert_eq!(value("rate > 1 or threshold > 3"), 0.0);
        assert_eq!(value("rate < 1 or threshold > 3"), 1.0);
        assert_eq!(value("if rate < 1 then 10 else 20"), 10.0);
        assert_eq!(value("if rate > 1 then 10 else 20"), 20.0);
        assert_eq!(
            value("if rate > 1 then 1 else if alpha < 0 then 2 else 3"),
            2.0
        );
        assert_eq!(
            value("(if rate < 1 then 1 else 2) + (if rate > 1 then 10 else 20)"),
            21.0
        );
        assert_eq!(
            value("if (rate > 1 or POL.border_open) and not (count(war) == 0) then t else 0"),
            10.0
        );
    }

    #[test]
    fn long_chains_evaluate_in_a_small_stack() {
        let src = vec!["rate"; 200].join(" + ");
        assert_eq!(value(&src), 100.0);
        let src = format!("min({})", vec!["t"; 500].join(", "));
        assert_eq!(value(&src), 10.0);
        let src = vec!["rate < 1"; 100].join(" and ");
        assert_eq!(value(&src), 1.0);
    }

    fn shape(src: &str) -> Shape {
        compile(src, &scope(), RULE, None)
            .expect("valid expression")
            .shape
    }

    #[test]
    fn common_shapes_skip_the_interpreter() {
        let pol = ActorRef::Fixed(0);
        assert_eq!(shape("POL.border_open"), Shape::Leaf(Leaf::State(pol, 0)));
        assert_eq!(shape("rate"), Shape::Leaf(Leaf::Param(0)));
        assert_eq!(shape("2 * 3"), Shape::Leaf(Leaf::Const(6.0)));
        assert_eq!(shape("since(talks)"), Shape::Leaf(Leaf::Since(1)));
        assert_eq!(
            shape("not POL.border_open"),
            Shape::Unary(Op1::Not, Leaf::State(pol, 0))
        );
        assert_eq!(shape("-t"), Shape::Unary(Op1::Neg, Leaf::Time));
        assert_eq!(
            shape("POL.troops < threshold"),
            Shape::Binary(Op2::Lt, Leaf::State(pol, 2), Leaf::Param(1))
        );
        assert_eq!(
            shape("4 * rate"),
            Shape::Binary(Op2::Mul, Leaf::Const(4.0), Leaf::Param(0))
        );
        assert_eq!(
            shape("max(POL.troops, alpha)"),
            Shape::Binary(Op2::Max, Leaf::State(pol, 2), Leaf::Param(2))
        );
        assert_eq!(
            shape("rate * tension(POL, BLR)"),
            Shape::Binary(Op2::Mul, Leaf::Param(0), Leaf::Tension(0))
        );
        // Everything else runs in the interpreter, on a stack as deep as the
        // checker's bound.
        assert_eq!(shape("exp(rate)"), Shape::Code(1));
        assert_eq!(shape("clamp(rate, 0, 1)"), Shape::Code(3));
        assert_eq!(shape("rate * 2 + t"), Shape::Code(2));
        assert_eq!(shape("not (rate < 1)"), Shape::Code(2));
        assert_eq!(shape("POL.border_open and rate < 1"), Shape::Code(3));
        assert_eq!(shape("rate + (t + (alpha + threshold))"), Shape::Code(4));
    }

    #[test]
    fn fast_paths_compute_what_the_interpreter_does() {
        assert_eq!(value("POL.border_open"), 1.0);
        assert_eq!(value("not POL.border_open"), 0.0);
        assert_eq!(value("not false"), 1.0);
        assert_eq!(value("-rate"), -0.5);
        assert_eq!(value("-t").to_bits(), (-10.0f64).to_bits());
        assert_eq!(value("POL.alert < threshold"), 0.0);
        assert_eq!(value("POL.alert >= 3"), 1.0);
        assert_eq!(value("POL.alert <= alpha"), 0.0);
        assert_eq!(value("POL.alert > alpha"), 1.0);
        assert_eq!(value("POL.alert == 3"), 1.0);
        assert_eq!(value("POL.alert != 3"), 0.0);
        assert_eq!(value("t - POL.alert"), 7.0);
        assert_eq!(value("threshold / 4"), 0.5);
        assert_eq!(value("rate ^ 2"), 0.25);
        assert_eq!(value("threshold ^ alpha"), 0.5);
        assert_eq!(value("min(rate, alpha)"), -1.0);
        assert_eq!(value("max(rate, alpha)"), 0.5);
        assert_eq!(value("rate * tension(BLR, RUS)"), 0.35);
        assert_eq!(value("tension(source, POL) + rate"), 1.4);
        assert_eq!(value("count(incursion) + since(incursion)"), 7.0);
        assert_eq!(value("first(talks) - last(talks)"), f64::INFINITY);
        assert!(value("first(talks) + last(talks)").is_nan());
        // Signed zeros and NaN follow the interpreter's `min` / `max`.
        assert_eq!(value("min(0, -0)").to_bits(), 0.0f64.to_bits());
        assert_eq!(value("min(-0, 0)").to_bits(), (-0.0f64).to_bits());
        assert_eq!(value("min(rate, 0 / 0)"), 0.5);
        assert_eq!(value("max(0 / 0, alpha)"), -1.0);
    }

    /// Every input drawn at random (NaN, infinities and signed zeros included).
    #[derive(Debug, Clone)]
    struct AnyEnv([f64; 16]);

    impl Env for AnyEnv {
        fn param(&self, idx: u32) -> f64 {
            self.0[idx as usize]
        }
        fn time(&self) -> f64 {
            self.0[3]
        }
        fn tension(&self, dyad: u32) -> f64 {
            self.0[4 + dyad as usize]
        }
        fn tension_between(&self, _: ActorRef, _: ActorRef) -> f64 {
            self.0[6]
        }
        fn state(&self, _: ActorRef, var: u32) -> f64 {
            self.0[7 + var as usize]
        }
        fn count(&self, event: u32) -> f64 {
            self.0[10 + event as usize]
        }
        fn first(&self, event: u32) -> f64 {
            self.0[13 + event as usize % 2]
        }
        fn last(&self, event: u32) -> f64 {
            self.0[15 - event as usize % 2]
        }
    }

    /// Every leaf with every unary and binary operator the fast paths take,
    /// and a few shapes they do not, compiled once.
    fn fast_path_cases() -> &'static [crate::expr::Expr] {
        static CASES: std::sync::OnceLock<Vec<crate::expr::Expr>> = std::sync::OnceLock::new();
        CASES.get_or_init(|| {
            let numbers = [
                "rate",
                "alpha",
                "t",
                "-0",
                "2",
                "tension(POL, BLR)",
                "tension(source, POL)",
                "POL.alert",
                "count(war)",
                "first(talks)",
                "last(incursion)",
                "since(war)",
            ];
            let booleans = ["POL.border_open", "true", "rate < t"];
            let mut srcs: Vec<String> = Vec::new();
            for a in numbers {
                srcs.push(a.to_string());
                srcs.push(format!("-{a}"));
                for b in numbers {
                    for op in ["+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">="] {
                        srcs.push(format!("{a} {op} {b}"));
                    }
                    srcs.push(format!("min({a}, {b})"));
                    srcs.push(format!("max({a}, {b})"));
                }
            }
            for a in booleans {
                srcs.push(a.to_string());
                srcs.push(format!("not {a}"));
                for b in booleans {
                    srcs.push(format!("({a}) == ({b})"));
                    srcs.push(format!("({a}) != ({b})"));
                }
            }
            srcs.iter()
                .map(|src| compile(src, &scope(), RULE, None).expect("valid expression"))
                .collect()
        })
    }

    #[test]
    fn fast_path_cases_mostly_take_fast_paths() {
        let fast = fast_path_cases()
            .iter()
            .filter(|e| !matches!(e.shape, Shape::Code(_)))
            .count();
        assert!(fast * 10 > fast_path_cases().len() * 9, "{fast}");
    }

    proptest::proptest! {
        /// The fast paths give the interpreter's result bit for bit (NaN
        /// for NaN).
        #[test]
        fn fast_paths_match_the_interpreter(
            values in proptest::array::uniform16(proptest::num::f64::ANY),
        ) {
            let env = AnyEnv(values);
            for expr in fast_path_cases() {
                let fast = expr.eval(&env);
                let slow = eval(&expr.code, STACK_CAP, &env);
                // Rust leaves NaN payloads unspecified (LLVM may swap the
                // operands of `+`), so any NaN matches any NaN.
                let same = fast.to_bits() == slow.to_bits() || (fast.is_nan() && slow.is_nan());
                proptest::prop_assert!(same, "{:?}: {} vs {}", expr.code, fast, slow);
            }
        }
    }

    proptest::proptest! {
        /// The `x^2` shortcut is bit-for-bit what `libm::pow` returns.
        #[test]
        fn square_shortcut_matches_libm(x in proptest::num::f64::ANY) {
            let (a, b) = (pow(x, 2.0), libm::pow(x, 2.0));
            proptest::prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
    }

    proptest::proptest! {
        #[test]
        fn evaluation_never_panics(
            params in proptest::array::uniform3(proptest::num::f64::ANY),
            time in proptest::num::f64::ANY,
        ) {
            let env = TestEnv { params, time };
            for src in [
                "rate / threshold ^ alpha - ln(t) * sqrt(rate)",
                "clamp(rate, threshold, alpha) + min(t, rate) - max(alpha, t)",
                "if rate > threshold and not (alpha == t) then exp(rate) else floor(abs(t))",
                "if rate < t or alpha >= 1 then 1 else 0",
            ] {
                let expr = compile(src, &scope(), RULE, None).expect("valid expression");
                let _ = expr.eval(&env);
            }
        }
    }
}
