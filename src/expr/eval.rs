//! The compiled form of an expression ([`Node`]) and its point evaluator.
//!
//! Code is postfix ("reverse Polish") over a value stack: leaves push a value,
//! operators pop their operands and push the result. `if`, `and` and `or`
//! short-circuit with forward jumps whose targets are relative (a count of
//! nodes to skip), so any complete sub-expression is position independent and
//! can be evaluated on its own (the checker uses that to fold constants).
//!
//! The stack is a fixed-size array: the checker refuses code that could need
//! more than [`STACK_CAP`] slots, so evaluation allocates nothing.

use super::{ActorRef, Env};

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
pub(crate) fn min(a: f64, b: f64) -> f64 {
    if b < a || a.is_nan() {
        b
    } else {
        a
    }
}

/// `max`, with the same conventions as [`min`].
pub(crate) fn max(a: f64, b: f64) -> f64 {
    if b > a || a.is_nan() {
        b
    } else {
        a
    }
}

/// Code at most this long runs on a small stack: a node pushes at most one
/// value, so its stack depth is at most its length.
pub(crate) const SMALL: usize = 16;

/// Evaluates compiled code. Booleans are 1.0 / 0.0; any non-zero value counts
/// as true.
#[inline]
pub(crate) fn eval<E: Env>(code: &[Node], env: &E) -> f64 {
    // Most expressions are short; zeroing a full-size stack on every call
    // cost more than evaluating them (profiled on west2025).
    if code.len() <= SMALL {
        eval_on::<E, SMALL>(code, env)
    } else {
        eval_on::<E, STACK_CAP>(code, env)
    }
}

/// [`eval`] with a stack of `N` slots; the caller guarantees that the code
/// needs no more (the checker bounds every expression by [`STACK_CAP`]).
fn eval_on<E: Env, const N: usize>(code: &[Node], env: &E) -> f64 {
    let mut stack = [0.0f64; N];
    // Number of values on the stack; the checker guarantees it stays within
    // `1..=STACK_CAP` wherever an operator pops.
    let mut sp = 0usize;
    let mut pc = 0usize;

    macro_rules! push {
        ($v:expr) => {{
            let v = $v;
            stack[sp] = v;
            sp += 1;
        }};
    }
    macro_rules! unary {
        (|$a:ident| $e:expr) => {{
            let $a = stack[sp - 1];
            stack[sp - 1] = $e;
        }};
    }
    macro_rules! binary {
        (|$a:ident, $b:ident| $e:expr) => {{
            sp -= 1;
            let $b = stack[sp];
            let $a = stack[sp - 1];
            stack[sp - 1] = $e;
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
                let (x, lo, hi) = (stack[sp - 3], stack[sp - 2], stack[sp - 1]);
                sp -= 2;
                stack[sp - 1] = min(max(x, lo), hi);
            }
            Node::JumpIfFalse(n) => {
                sp -= 1;
                if stack[sp] == 0.0 {
                    pc += n as usize;
                }
            }
            Node::Jump(n) => pc += n as usize,
            Node::AndSkip(n) => {
                if stack[sp - 1] == 0.0 {
                    pc += n as usize;
                } else {
                    sp -= 1;
                }
            }
            Node::OrSkip(n) => {
                if stack[sp - 1] != 0.0 {
                    pc += n as usize;
                } else {
                    sp -= 1;
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
