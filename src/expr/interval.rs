//! Interval evaluation of compiled code: sound enclosures of an expression's
//! value over a box of inputs.
//!
//! Used to bound a hazard rate over a time window for exact thinning, so
//! soundness matters more than tightness: every non-NaN value the point
//! evaluator can produce for inputs within the environment's intervals lies in
//! the result, and wherever an operation could produce NaN the result is
//! widened to [`Interval::ENTIRE`] (so no comparison on it is ever "certain").
//! No bound is ever NaN.
//!
//! So `ENTIRE` doubles as "may be NaN": a point NaN only ever comes from an
//! operation whose interval result is `ENTIRE`, and every operation that
//! passes a NaN operand on as NaN (`exp`, `abs`, `^`, arithmetic, ...) maps an
//! `ENTIRE` operand to `ENTIRE`, even where `[0, inf]` would do for a genuine
//! unbounded input (only lower bounds lose by it). Comparisons with an
//! `ENTIRE` operand are never certain (NaN compares false even with `inf`);
//! `min`, `max` and `clamp` swallow a NaN operand and need no such care.
//!
//! Soundness of the bounds rests on two facts: IEEE rounding is monotone, so
//! `+ - * /` evaluated at the corners with the point evaluator's own
//! operations enclose every rounded result in between; and the `libm`
//! functions are accurate to within an ulp, so their bounds are widened by a
//! couple of ulps.
//!
//! Booleans are `[0, 0]` (false), `[1, 1]` (true) or `[0, 1]` (either). An
//! uncertain `if` evaluates both branches and takes their hull; an uncertain
//! left operand of `and` / `or` evaluates the right one and combines them.

use super::eval::{self, Node, SMALL, STACK_CAP};
use super::IntervalEnv;

/// A closed interval `[lo, hi]` of `f64`s; the bounds may be infinite, never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

impl Interval {
    /// `[-inf, inf]`: nothing is known.
    pub const ENTIRE: Interval = Interval {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    /// The boolean `false`.
    pub const FALSE: Interval = Interval { lo: 0.0, hi: 0.0 };
    /// The boolean `true`.
    pub const TRUE: Interval = Interval { lo: 1.0, hi: 1.0 };
    /// A boolean that may be either.
    pub const EITHER: Interval = Interval { lo: 0.0, hi: 1.0 };

    /// `[lo, hi]`. A NaN bound becomes infinite (`lo` to `-inf`, `hi` to
    /// `inf`), and bounds given in the wrong order are swapped, so the result
    /// always contains both arguments that are not NaN.
    pub fn new(lo: f64, hi: f64) -> Interval {
        let lo = if lo.is_nan() { f64::NEG_INFINITY } else { lo };
        let hi = if hi.is_nan() { f64::INFINITY } else { hi };
        if lo <= hi {
            Interval { lo, hi }
        } else {
            Interval { lo: hi, hi: lo }
        }
    }

    /// `[v, v]`; [`Interval::ENTIRE`] if `v` is NaN.
    pub fn point(v: f64) -> Interval {
        if v.is_nan() {
            Interval::ENTIRE
        } else {
            Interval { lo: v, hi: v }
        }
    }

    /// Whether `v` lies in the interval (never true for NaN).
    pub fn contains(self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// The smallest interval containing both.
    pub fn hull(self, other: Interval) -> Interval {
        Interval {
            lo: eval::min(self.lo, other.lo),
            hi: eval::max(self.hi, other.hi),
        }
    }

    /// Whether every value in the interval counts as true (non-zero).
    pub fn is_certainly_true(self) -> bool {
        !self.contains(0.0)
    }

    /// Whether every value in the interval counts as false (zero).
    pub fn is_certainly_false(self) -> bool {
        self.lo == 0.0 && self.hi == 0.0
    }
}

/// `[lo, hi]`, or [`Interval::ENTIRE`] if either bound is NaN (the operation
/// could produce NaN for some inputs).
fn checked(lo: f64, hi: f64) -> Interval {
    if lo.is_nan() || hi.is_nan() {
        Interval::ENTIRE
    } else {
        Interval { lo, hi }
    }
}

/// The smallest and largest of four corner values, or `ENTIRE` if one is NaN.
fn corners(values: [f64; 4]) -> Interval {
    if values.iter().any(|v| v.is_nan()) {
        return Interval::ENTIRE;
    }
    let lo = values.iter().copied().fold(f64::INFINITY, eval::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, eval::max);
    Interval { lo, hi }
}

fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

/// `[lo, hi]` widened outwards by `ulps` steps, for results of `libm`
/// functions that are accurate to within an ulp but not correctly rounded.
fn widened(lo: f64, hi: f64, ulps: u32) -> Interval {
    let (mut lo, mut hi) = (lo, hi);
    for _ in 0..ulps {
        lo = next_down(lo);
        hi = next_up(hi);
    }
    checked(lo, hi)
}

fn add(a: Interval, b: Interval) -> Interval {
    checked(a.lo + b.lo, a.hi + b.hi)
}

fn sub(a: Interval, b: Interval) -> Interval {
    checked(a.lo - b.hi, a.hi - b.lo)
}

fn mul(a: Interval, b: Interval) -> Interval {
    corners([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])
}

fn div(a: Interval, b: Interval) -> Interval {
    if b.contains(0.0) {
        return Interval::ENTIRE;
    }
    corners([a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi])
}

/// Largest magnitude below which every `f64` is an exact integer.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

fn pow(x: Interval, y: Interval) -> Interval {
    if y.lo == 0.0 && y.hi == 0.0 {
        return Interval::TRUE; // pow(anything, 0) is 1, even pow(NaN, 0)
    }
    if x == Interval::ENTIRE || y == Interval::ENTIRE {
        return Interval::ENTIRE; // may be NaN
    }
    if y.lo == y.hi && y.lo == libm::floor(y.lo) && libm::fabs(y.lo) < EXACT_INT {
        return pow_int(x, y.lo);
    }
    if x.lo > 0.0 || (x.lo == 0.0 && y.lo >= 0.0) {
        // x^y = exp(y ln x) is monotone in each argument, so its extremes are
        // at the corners (also with infinite bounds, by libm's conventions).
        let x_lo = if x.lo == 0.0 { 0.0 } else { x.lo };
        let c = [
            libm::pow(x_lo, y.lo),
            libm::pow(x_lo, y.hi),
            libm::pow(x.hi, y.lo),
            libm::pow(x.hi, y.hi),
        ];
        let c = corners(c);
        let r = widened(c.lo, c.hi, 2);
        return Interval {
            lo: eval::max(r.lo, 0.0),
            hi: r.hi,
        };
    }
    // A negative base with a non-integer (or unknown) exponent may give NaN.
    Interval::ENTIRE
}

/// `x^n` for an integer `n` (exactly representable).
fn pow_int(x: Interval, n: f64) -> Interval {
    if n == 0.0 {
        return Interval::TRUE; // pow(anything, 0) is 1
    }
    let even = libm::floor(n / 2.0) * 2.0 == n;
    let p = |v: f64| eval::pow(v, n);
    if even {
        let (abs_lo, abs_hi) = (libm::fabs(x.lo), libm::fabs(x.hi));
        let mag_hi = eval::max(abs_lo, abs_hi);
        let mag_lo = if x.contains(0.0) {
            0.0
        } else {
            eval::min(abs_lo, abs_hi)
        };
        let r = if n > 0.0 {
            widened(p(mag_lo), p(mag_hi), 2)
        } else if mag_lo == 0.0 {
            widened(p(mag_hi), f64::INFINITY, 2)
        } else {
            widened(p(mag_hi), p(mag_lo), 2)
        };
        return Interval {
            lo: eval::max(r.lo, 0.0),
            hi: r.hi,
        };
    }
    if n > 0.0 {
        return widened(p(x.lo), p(x.hi), 2);
    }
    if x.contains(0.0) {
        return Interval::ENTIRE;
    }
    // Odd negative power: decreasing on each side of zero.
    widened(p(x.hi), p(x.lo), 2)
}

fn exp(a: Interval) -> Interval {
    if a == Interval::ENTIRE {
        return Interval::ENTIRE; // may be NaN
    }
    let r = widened(libm::exp(a.lo), libm::exp(a.hi), 2);
    Interval {
        lo: eval::max(r.lo, 0.0),
        hi: r.hi,
    }
}

fn ln(a: Interval) -> Interval {
    if a.lo < 0.0 {
        return Interval::ENTIRE;
    }
    widened(libm::log(a.lo), libm::log(a.hi), 2)
}

fn sqrt(a: Interval) -> Interval {
    if a.lo < 0.0 {
        return Interval::ENTIRE;
    }
    let r = widened(libm::sqrt(a.lo), libm::sqrt(a.hi), 1);
    Interval {
        lo: eval::max(r.lo, 0.0),
        hi: r.hi,
    }
}

fn abs(a: Interval) -> Interval {
    if a == Interval::ENTIRE {
        Interval::ENTIRE // may be NaN
    } else if a.lo >= 0.0 {
        a
    } else if a.hi <= 0.0 {
        Interval {
            lo: -a.hi,
            hi: -a.lo,
        }
    } else {
        Interval {
            lo: 0.0,
            hi: eval::max(-a.lo, a.hi),
        }
    }
}

fn sin(a: Interval) -> Interval {
    periodic(a, libm::sin, core::f64::consts::FRAC_PI_2)
}

fn cos(a: Interval) -> Interval {
    periodic(a, libm::cos, 0.0)
}

/// `f` (`sin` or `cos`, with maxima at `peak + 2kπ` and minima at
/// `peak + π + 2kπ`) over `a`. `[-1, 1]` unless the interval is narrow (width
/// below 6, bounds within ±1e6); then the values at the two ends, widened by
/// two ulps, extended to ±1 wherever an extremum may lie inside. "May" uses a
/// margin far larger than the rounding error of locating it, so an extremum
/// is never missed; between extrema the function is monotone. An infinite
/// bound gives [`Interval::ENTIRE`]: `sin(inf)` is NaN.
fn periodic(a: Interval, f: fn(f64) -> f64, peak: f64) -> Interval {
    const UNIT: Interval = Interval { lo: -1.0, hi: 1.0 };
    if !(a.lo.is_finite() && a.hi.is_finite()) {
        return Interval::ENTIRE;
    }
    if a.hi - a.lo >= 6.0 || libm::fabs(a.lo) > 1e6 || libm::fabs(a.hi) > 1e6 {
        return UNIT;
    }
    let (f_lo, f_hi) = (f(a.lo), f(a.hi));
    let mut r = widened(eval::min(f_lo, f_hi), eval::max(f_lo, f_hi), 2);
    if may_contain_period_point(a, peak) {
        r.hi = 1.0;
    }
    if may_contain_period_point(a, peak + core::f64::consts::PI) {
        r.lo = -1.0;
    }
    Interval {
        lo: eval::max(r.lo, -1.0),
        hi: eval::min(r.hi, 1.0),
    }
}

/// Whether some `c + 2kπ` may lie in `a` (bounds within ±1e6), with a margin of
/// 1e-6 periods on both sides.
fn may_contain_period_point(a: Interval, c: f64) -> bool {
    const MARGIN: f64 = 1e-6;
    let tau = core::f64::consts::TAU;
    let k = libm::ceil((a.lo - c) / tau - MARGIN);
    (c + k * tau - a.hi) / tau <= MARGIN
}

fn min(a: Interval, b: Interval) -> Interval {
    Interval {
        lo: eval::min(a.lo, b.lo),
        hi: eval::min(a.hi, b.hi),
    }
}

fn max(a: Interval, b: Interval) -> Interval {
    Interval {
        lo: eval::max(a.lo, b.lo),
        hi: eval::max(a.hi, b.hi),
    }
}

fn known(certainly_true: bool, certainly_false: bool) -> Interval {
    if certainly_true {
        Interval::TRUE
    } else if certainly_false {
        Interval::FALSE
    } else {
        Interval::EITHER
    }
}

/// Whether an operand may be NaN, which makes every comparison on it false
/// (`!=` true) whatever the other side: even `x <= inf` is uncertain then.
fn may_be_nan(a: Interval, b: Interval) -> bool {
    a == Interval::ENTIRE || b == Interval::ENTIRE
}

fn equal(a: Interval, b: Interval) -> Interval {
    if may_be_nan(a, b) {
        return Interval::EITHER;
    }
    let same_point = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
    known(same_point, a.hi < b.lo || b.hi < a.lo)
}

fn less(a: Interval, b: Interval) -> Interval {
    if may_be_nan(a, b) {
        return Interval::EITHER;
    }
    known(a.hi < b.lo, a.lo >= b.hi)
}

fn less_equal(a: Interval, b: Interval) -> Interval {
    if may_be_nan(a, b) {
        return Interval::EITHER;
    }
    known(a.hi <= b.lo, a.lo > b.hi)
}

fn not(a: Interval) -> Interval {
    known(a.is_certainly_false(), a.is_certainly_true())
}

/// A branch whose condition (or left operand) was uncertain, so both sides
/// are being evaluated.
#[derive(Debug, Clone, Copy)]
enum Open {
    /// Inside the `then` branch of an `if`; its `else` branch starts at this pc.
    Then { else_start: usize },
    /// Combine the top two values when the pc reaches `end`.
    Merge { end: usize, how: Merge },
}

#[derive(Debug, Clone, Copy)]
enum Merge {
    Hull,
    And,
    Or,
}

/// Evaluates compiled code over intervals (see the module documentation).
#[inline]
pub(crate) fn eval<E: IntervalEnv>(code: &[Node], env: &E) -> Interval {
    // As in the point evaluator: short code (the common case) runs on small
    // arrays, which are much cheaper to initialise. A node pushes at most one
    // value and opens at most one branch, so neither count exceeds the length.
    if code.len() <= SMALL {
        eval_on::<E, SMALL>(code, env)
    } else {
        eval_on::<E, STACK_CAP>(code, env)
    }
}

/// [`eval`] with `N` slots for values and for open branches; the caller
/// guarantees the code needs no more (the checker bounds every expression by
/// [`STACK_CAP`]).
fn eval_on<E: IntervalEnv, const N: usize>(code: &[Node], env: &E) -> Interval {
    let mut stack = [Interval::ENTIRE; N];
    let mut sp = 0usize;
    // Open branches; the checker bounds their nesting by `STACK_CAP` too.
    let mut open = [Open::Then { else_start: 0 }; N];
    let mut n_open = 0usize;
    let mut pc = 0usize;

    let input = |i: Interval| Interval::new(i.lo, i.hi);

    macro_rules! push {
        ($v:expr) => {{
            let v = $v;
            stack[sp] = v;
            sp += 1;
        }};
    }
    macro_rules! unary {
        ($f:expr) => {{
            stack[sp - 1] = $f(stack[sp - 1]);
        }};
    }
    macro_rules! binary {
        ($f:expr) => {{
            sp -= 1;
            stack[sp - 1] = $f(stack[sp - 1], stack[sp]);
        }};
    }

    loop {
        while n_open > 0 {
            let Open::Merge { end, how } = open[n_open - 1] else {
                break;
            };
            if end != pc {
                break;
            }
            n_open -= 1;
            sp -= 1;
            let (a, b) = (stack[sp - 1], stack[sp]);
            stack[sp - 1] = match how {
                Merge::Hull => a.hull(b),
                // `a` may be false (giving 0) or true (giving `b`).
                Merge::And => Interval::FALSE.hull(b),
                // `a` may be true (giving `a`'s non-zero value, 1 for a
                // boolean) or false (giving `b`).
                Merge::Or if a.lo >= 0.0 && a.hi <= 1.0 => Interval::TRUE.hull(b),
                Merge::Or => a.hull(b),
            };
        }
        let Some(&node) = code.get(pc) else { break };
        pc += 1;
        match node {
            Node::Const(v) => push!(Interval::point(v)),
            Node::Param(i) => push!(input(env.param(i))),
            Node::Time => push!(input(env.time())),
            Node::Tension(d) => push!(input(env.tension(d))),
            Node::TensionBetween(a, b) => push!(input(env.tension_between(a, b))),
            Node::State(actor, var) => push!(input(env.state(actor, var))),
            Node::Count(e) => push!(input(env.count(e))),
            Node::First(e) => push!(input(env.first(e))),
            Node::Last(e) => push!(input(env.last(e))),
            Node::Since(e) => push!(sub(input(env.time()), input(env.last(e)))),
            Node::HistCount(h) => push!(input(env.hist_count(h))),
            Node::HistFirst(h) => push!(input(env.hist_first(h))),
            Node::HistLast(h) => push!(input(env.hist_last(h))),
            Node::HistSince(h) => push!(sub(input(env.time()), input(env.hist_last(h)))),
            Node::WindowCount(h) => unary!(|w| input(env.window_count(h, w))),
            Node::Neg => unary!(|a: Interval| Interval {
                lo: -a.hi,
                hi: -a.lo
            }),
            Node::Not => unary!(not),
            Node::Draw(d) => {
                // Draws appear only in effects and initial state, which are
                // never bounded; anything is sound.
                sp -= d.params().len() - 1;
                stack[sp - 1] = if d.is_bool() {
                    Interval::new(0.0, 1.0)
                } else {
                    Interval::new(f64::NEG_INFINITY, f64::INFINITY)
                };
            }
            Node::Exp => unary!(exp),
            Node::Ln => unary!(ln),
            Node::Sqrt => unary!(sqrt),
            Node::Abs => unary!(abs),
            Node::Sin => unary!(sin),
            Node::Cos => unary!(cos),
            Node::Floor => {
                unary!(|a: Interval| Interval {
                    lo: libm::floor(a.lo),
                    hi: libm::floor(a.hi)
                })
            }
            Node::Add => binary!(add),
            Node::Sub => binary!(sub),
            Node::Mul => binary!(mul),
            Node::Div => binary!(div),
            Node::Pow => binary!(pow),
            Node::Eq => binary!(equal),
            Node::Ne => binary!(|a, b| not(equal(a, b))),
            Node::Lt => binary!(less),
            Node::Le => binary!(less_equal),
            Node::Gt => binary!(|a, b| less(b, a)),
            Node::Ge => binary!(|a, b| less_equal(b, a)),
            Node::Min => binary!(min),
            Node::Max => binary!(max),
            Node::Clamp => {
                let (x, lo, hi) = (stack[sp - 3], stack[sp - 2], stack[sp - 1]);
                sp -= 2;
                stack[sp - 1] = min(max(x, lo), hi);
            }
            Node::JumpIfFalse(n) => {
                sp -= 1;
                let cond = stack[sp];
                if cond.is_certainly_false() {
                    pc += n as usize;
                } else if !cond.is_certainly_true() {
                    open[n_open] = Open::Then {
                        else_start: pc + n as usize,
                    };
                    n_open += 1;
                }
            }
            Node::Jump(n) => match open[..n_open].last() {
                // End of the `then` branch of an uncertain `if`: go on into
                // the `else` branch and merge at the end.
                Some(&Open::Then { else_start }) if else_start == pc => {
                    open[n_open - 1] = Open::Merge {
                        end: pc + n as usize,
                        how: Merge::Hull,
                    };
                }
                _ => pc += n as usize,
            },
            Node::AndSkip(n) => {
                let a = stack[sp - 1];
                if a.is_certainly_false() {
                    pc += n as usize;
                } else if a.is_certainly_true() {
                    sp -= 1;
                } else {
                    open[n_open] = Open::Merge {
                        end: pc + n as usize,
                        how: Merge::And,
                    };
                    n_open += 1;
                }
            }
            Node::OrSkip(n) => {
                let a = stack[sp - 1];
                if a.is_certainly_true() {
                    pc += n as usize;
                } else if a.is_certainly_false() {
                    sp -= 1;
                } else {
                    open[n_open] = Open::Merge {
                        end: pc + n as usize,
                        how: Merge::Or,
                    };
                    n_open += 1;
                }
            }
        }
    }
    stack[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::check::tests::{scope, RULE};
    use crate::expr::{compile, ActorRef, Env};
    use proptest::prelude::*;

    /// Every input as an interval, and one point inside each, chosen by `u`.
    #[derive(Debug, Clone)]
    struct Box3 {
        params: [Interval; 3],
        time: Interval,
        tension: Interval,
        state: [Interval; 3],
        events: Interval,
        /// Where in each interval the point environment picks its value.
        u: [f64; 10],
    }

    /// A point of `iv`: an end when `u` is near 0 or 1, else inside.
    fn pick(iv: Interval, u: f64) -> f64 {
        let v = if u < 0.15 {
            iv.lo
        } else if u > 0.85 {
            iv.hi
        } else {
            let s = (u - 0.15) / 0.7;
            match (iv.lo.is_finite(), iv.hi.is_finite()) {
                (true, true) => iv.lo + (iv.hi - iv.lo) * s,
                (true, false) => iv.lo + s * 100.0,
                (false, true) => iv.hi - s * 100.0,
                (false, false) => (s - 0.5) * 100.0,
            }
        };
        v.clamp(iv.lo, iv.hi)
    }

    impl IntervalEnv for Box3 {
        fn param(&self, idx: u32) -> Interval {
            self.params[idx as usize]
        }
        fn time(&self) -> Interval {
            self.time
        }
        fn tension(&self, _: u32) -> Interval {
            self.tension
        }
        fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
            self.tension
        }
        fn state(&self, _: ActorRef, var: u32) -> Interval {
            self.state[var as usize]
        }
        fn count(&self, _: u32) -> Interval {
            self.events
        }
        fn first(&self, _: u32) -> Interval {
            self.events
        }
        fn last(&self, _: u32) -> Interval {
            self.events
        }
    }

    struct Point<'a>(&'a Box3);

    impl Env for Point<'_> {
        fn param(&self, idx: u32) -> f64 {
            pick(self.0.params[idx as usize], self.0.u[idx as usize])
        }
        fn time(&self) -> f64 {
            pick(self.0.time, self.0.u[3])
        }
        fn tension(&self, _: u32) -> f64 {
            pick(self.0.tension, self.0.u[4])
        }
        fn tension_between(&self, _: ActorRef, _: ActorRef) -> f64 {
            pick(self.0.tension, self.0.u[5])
        }
        fn state(&self, _: ActorRef, var: u32) -> f64 {
            let v = pick(self.0.state[var as usize], self.0.u[6 + var as usize]);
            if var == 0 {
                libm::round(v) // `border_open` is a boolean
            } else {
                v
            }
        }
        fn count(&self, _: u32) -> f64 {
            pick(self.0.events, self.0.u[9])
        }
        fn first(&self, _: u32) -> f64 {
            pick(self.0.events, self.0.u[9])
        }
        fn last(&self, _: u32) -> f64 {
            pick(self.0.events, self.0.u[9])
        }
    }

    fn bound() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -4.0..4.0f64,
            1 => Just(0.0),
            1 => Just(1.0),
            1 => Just(-1.0),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => -1e6..1e6f64,
        ]
    }

    fn interval() -> impl Strategy<Value = Interval> {
        prop_oneof![
            4 => (bound(), bound()).prop_map(|(a, b)| Interval::new(a, b)),
            1 => bound().prop_map(Interval::point),
        ]
    }

    fn boolean() -> impl Strategy<Value = Interval> {
        prop_oneof![
            Just(Interval::FALSE),
            Just(Interval::TRUE),
            Just(Interval::EITHER)
        ]
    }

    fn input_box() -> impl Strategy<Value = Box3> {
        (
            [interval(), interval(), interval()],
            interval(),
            interval(),
            (boolean(), interval(), interval()),
            interval(),
            proptest::array::uniform10(0.0..1.0f64),
        )
            .prop_map(|(params, time, tension, (b, s1, s2), events, u)| Box3 {
                params,
                time,
                tension,
                state: [b, s1, s2],
                events,
                u,
            })
    }

    /// Random well-typed numeric expressions over every kind of input.
    fn num_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            prop::sample::select(vec![
                "rate",
                "threshold",
                "alpha",
                "t",
                "tension(POL, BLR)",
                "tension(source, target)",
                "POL.alert",
                "target.troops",
                "count(war)",
                "since(war)",
                "first(talks)",
                "0",
                "1",
                "2",
                "3",
                "0.5",
                "inf",
            ])
            .prop_map(str::to_string),
            (-5.0..5.0f64).prop_map(|v| format!("({v})")),
        ];
        leaf.prop_recursive(5, 48, 3, |inner| {
            let cmp = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
            let boolean = prop_oneof![
                (inner.clone(), cmp.clone(), inner.clone())
                    .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                (
                    inner.clone(),
                    cmp.clone(),
                    inner.clone(),
                    inner.clone(),
                    cmp,
                    inner.clone(),
                )
                    .prop_map(|(a, op, b, c, op2, d)| format!(
                        "({a} {op} {b} and not ({c} {op2} {d}) or POL.border_open)"
                    )),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(
                    "(not POL.border_open or {a} < {b}) and ({b} >= {a} or POL.border_open)"
                )),
            ];
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(vec!["+", "-", "*", "/", "^"]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
                (
                    inner.clone(),
                    prop::sample::select(vec!["2", "3", "-1", "-2", "0", "0.5"])
                )
                    .prop_map(|(a, n)| format!("({a} ^ {n})")),
                inner.clone().prop_map(|a| format!("(-{a})")),
                (
                    prop::sample::select(vec!["exp", "ln", "sqrt", "abs", "floor", "sin", "cos"]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| format!("{f}({a})")),
                (
                    prop::sample::select(vec!["min", "max"]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(a, b, c)| format!("clamp({a}, {b}, {c})")),
                (boolean, inner.clone(), inner)
                    .prop_map(|(c, a, b)| format!("(if {c} then {a} else {b})")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn intervals_contain_every_point_value(src in num_expr(), boxes in prop::collection::vec(input_box(), 8)) {
            let expr = match compile(&src, &scope(), RULE, None) {
                Ok(expr) => expr,
                Err(errors) => return Err(TestCaseError::fail(format!("{src}: {errors:?}"))),
            };
            for b in &boxes {
                let iv = expr.eval_interval(b);
                prop_assert!(!iv.lo.is_nan() && !iv.hi.is_nan() && iv.lo <= iv.hi, "{src}: {iv:?}");
                let v = expr.eval(&Point(b));
                prop_assert!(
                    iv.contains(v) || (v.is_nan() && iv == Interval::ENTIRE),
                    "{src}\nvalue {v} not in {iv:?}\ninputs {b:?}"
                );
            }
        }
    }

    fn iv(lo: f64, hi: f64) -> Interval {
        Interval::new(lo, hi)
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn construction_never_keeps_nan() {
        assert_eq!(Interval::new(f64::NAN, 1.0), iv(-INF, 1.0));
        assert_eq!(Interval::new(0.0, f64::NAN), iv(0.0, INF));
        assert_eq!(Interval::new(2.0, 1.0), iv(1.0, 2.0));
        assert_eq!(Interval::point(f64::NAN), Interval::ENTIRE);
        assert!(!Interval::ENTIRE.contains(f64::NAN));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(add(iv(1.0, 2.0), iv(-1.0, 3.0)), iv(0.0, 5.0));
        assert_eq!(sub(iv(1.0, 2.0), iv(-1.0, 3.0)), iv(-2.0, 3.0));
        assert_eq!(mul(iv(-1.0, 2.0), iv(-3.0, 4.0)), iv(-6.0, 8.0));
        assert_eq!(div(iv(1.0, 2.0), iv(2.0, 4.0)), iv(0.25, 1.0));
        assert_eq!(div(iv(1.0, 2.0), iv(-1.0, 1.0)), Interval::ENTIRE);
        assert_eq!(div(iv(1.0, 2.0), iv(0.0, 1.0)), Interval::ENTIRE);
        assert_eq!(add(iv(INF, INF), iv(-INF, 0.0)), Interval::ENTIRE);
        assert_eq!(mul(iv(0.0, 0.0), iv(1.0, INF)), Interval::ENTIRE);
        assert_eq!(abs(iv(-3.0, 2.0)), iv(0.0, 3.0));
        assert_eq!(abs(iv(-3.0, -2.0)), iv(2.0, 3.0));
        assert_eq!(min(iv(0.0, 5.0), iv(1.0, 2.0)), iv(0.0, 2.0));
        assert_eq!(max(iv(0.0, 5.0), iv(1.0, 2.0)), iv(1.0, 5.0));
    }

    #[test]
    fn powers() {
        let p = pow(iv(-2.0, 3.0), Interval::point(2.0));
        assert!(p.lo == 0.0 && p.contains(9.0) && p.hi < 9.0 + 1e-9, "{p:?}");
        let p = pow(iv(-2.0, 3.0), Interval::point(3.0));
        assert!(
            p.contains(-8.0) && p.contains(27.0) && p.lo > -8.0 - 1e-9,
            "{p:?}"
        );
        let p = pow(iv(2.0, 4.0), Interval::point(-1.0));
        assert!(
            p.contains(0.25) && p.contains(0.5) && p.hi < 0.5 + 1e-9,
            "{p:?}"
        );
        assert_eq!(pow(iv(-1.0, 1.0), Interval::point(-1.0)), Interval::ENTIRE);
        let p = pow(iv(-1.0, 1.0), Interval::point(-2.0));
        assert!(p.hi == INF && p.contains(1.0) && p.lo >= 0.0, "{p:?}");
        assert_eq!(pow(iv(-1.0, 1.0), Interval::point(0.5)), Interval::ENTIRE);
        assert_eq!(pow(Interval::ENTIRE, Interval::point(0.0)), Interval::TRUE);
        assert_eq!(
            pow(Interval::ENTIRE, Interval::point(2.0)),
            Interval::ENTIRE
        );
        assert_eq!(pow(iv(2.0, 3.0), Interval::ENTIRE), Interval::ENTIRE);
        let p = pow(iv(1.0, 4.0), iv(0.5, 2.0));
        assert!(p.contains(1.0) && p.contains(16.0) && p.lo >= 0.0 && p.hi < 16.0 + 1e-9);
        let p = pow(iv(0.0, 4.0), iv(0.5, 2.0));
        assert!(p.contains(0.0) && p.contains(16.0), "{p:?}");
        assert_eq!(pow(iv(0.0, 4.0), iv(-0.5, 2.0)), Interval::ENTIRE);
    }

    #[test]
    fn functions_respect_their_domains() {
        assert_eq!(ln(iv(-1.0, 1.0)), Interval::ENTIRE);
        assert_eq!(sqrt(iv(-1.0, 1.0)), Interval::ENTIRE);
        let s = sqrt(iv(4.0, 9.0));
        assert!(s.contains(2.0) && s.contains(3.0) && s.lo > 1.999 && s.hi < 3.001);
        let e = exp(iv(-INF, 0.0));
        assert!(e.lo == 0.0 && e.contains(1.0));
        let l = ln(iv(0.0, 1.0));
        assert!(l.lo == -INF && l.contains(0.0));
    }

    #[test]
    fn three_valued_logic() {
        assert_eq!(less(iv(0.0, 1.0), iv(2.0, 3.0)), Interval::TRUE);
        assert_eq!(less(iv(2.0, 3.0), iv(0.0, 2.0)), Interval::FALSE);
        assert_eq!(less(iv(0.0, 2.0), iv(1.0, 3.0)), Interval::EITHER);
        assert_eq!(less_equal(iv(0.0, 2.0), iv(2.0, 3.0)), Interval::TRUE);
        assert_eq!(equal(iv(2.0, 2.0), iv(2.0, 2.0)), Interval::TRUE);
        assert_eq!(equal(iv(0.0, 1.0), iv(2.0, 3.0)), Interval::FALSE);
        assert_eq!(equal(iv(0.0, 2.0), iv(2.0, 3.0)), Interval::EITHER);
        assert_eq!(not(Interval::EITHER), Interval::EITHER);
        // `ENTIRE` may stand for NaN, for which every comparison is false.
        assert_eq!(less_equal(Interval::ENTIRE, iv(INF, INF)), Interval::EITHER);
        assert_eq!(
            less_equal(iv(-INF, -INF), Interval::ENTIRE),
            Interval::EITHER
        );
        assert_eq!(not(Interval::TRUE), Interval::FALSE);
    }

    /// `rate` in [0, 1], `threshold` in [5, 6], `alpha` given; time [0, 10];
    /// `POL.border_open` either.
    struct Fixed(Interval);

    impl IntervalEnv for Fixed {
        fn param(&self, idx: u32) -> Interval {
            [iv(0.0, 1.0), iv(5.0, 6.0), self.0][idx as usize]
        }
        fn time(&self) -> Interval {
            iv(0.0, 10.0)
        }
        fn tension(&self, _: u32) -> Interval {
            iv(0.0, 1.0)
        }
        fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
            iv(0.0, 1.0)
        }
        fn state(&self, _: ActorRef, _: u32) -> Interval {
            Interval::EITHER
        }
        fn count(&self, _: u32) -> Interval {
            iv(0.0, 3.0)
        }
        fn first(&self, _: u32) -> Interval {
            iv(0.0, INF)
        }
        fn last(&self, _: u32) -> Interval {
            iv(-INF, 10.0)
        }
    }

    fn over(src: &str, alpha: Interval) -> Interval {
        let expr = compile(src, &scope(), RULE, None).expect("valid expression");
        expr.eval_interval(&Fixed(alpha))
    }

    #[test]
    fn branches() {
        let a = iv(0.0, 0.0);
        assert_eq!(over("if rate < threshold then 1 else 2", a), iv(1.0, 1.0));
        assert_eq!(over("if rate > threshold then 1 else 2", a), iv(2.0, 2.0));
        assert_eq!(over("if rate > 0.5 then 1 else 2", a), iv(1.0, 2.0));
        assert_eq!(
            over("if POL.border_open then rate else threshold", a),
            iv(0.0, 6.0)
        );
        assert_eq!(
            over(
                "(if rate > 0.5 then 1 else 2) + (if rate < 2 then 10 else 20)",
                a
            ),
            iv(11.0, 12.0)
        );
        assert_eq!(
            over("if rate > 0.5 then (if t > 5 then 1 else 2) else 3", a),
            iv(1.0, 3.0)
        );
        assert_eq!(over("POL.border_open and rate > 2", a), Interval::FALSE);
        assert_eq!(over("POL.border_open and rate < 2", a), Interval::EITHER);
        assert_eq!(over("POL.border_open or rate < 2", a), Interval::TRUE);
        assert_eq!(over("rate < 2 and POL.border_open", a), Interval::EITHER);
        assert_eq!(over("rate > 2 or rate < 2", a), Interval::TRUE);
        assert_eq!(over("since(war)", a), iv(-10.0, INF));
        assert_eq!(over("rate * alpha", iv(-2.0, 3.0)), iv(-2.0, 3.0));
        assert_eq!(over("1 / alpha", iv(-2.0, 3.0)), Interval::ENTIRE);
    }

    /// The enclosure of `sin`/`cos` over an interval contains the point value
    /// at many inputs inside it, and is tight for a narrow monotone piece.
    #[test]
    fn sin_and_cos_enclosures_are_sound() {
        let boxes = [
            (0.1, 0.2),
            (1.5, 1.6),
            (-1.6, -1.5),
            (3.0, 3.3),
            (-3.2, 3.2),
            (-0.5, 0.5),
            (6.2, 6.4),
            (100.0, 101.0),
            (-999_999.0, -999_998.5),
            (1e7, 1e7 + 1.0),
        ];
        for (lo, hi) in boxes {
            let x = Interval { lo, hi };
            for (f, g) in [
                (sin as fn(Interval) -> Interval, libm::sin as fn(f64) -> f64),
                (cos, libm::cos),
            ] {
                let r = f(x);
                assert!(r.lo >= -1.0 && r.hi <= 1.0 && r.lo <= r.hi, "{r:?}");
                for i in 0..=1000 {
                    let v = lo + (hi - lo) * f64::from(i) / 1000.0;
                    assert!(r.contains(g(v)), "{v}: {} not in {r:?}", g(v));
                }
            }
        }
        let r = sin(Interval { lo: 0.1, hi: 0.2 });
        assert!(r.hi < 0.2 && r.lo > 0.09, "{r:?}");
        let r = cos(Interval { lo: -0.5, hi: 0.5 });
        assert_eq!(r.hi, 1.0);
        assert_eq!(
            sin(Interval {
                lo: 0.0,
                hi: f64::INFINITY
            }),
            Interval::ENTIRE
        );
    }
}
