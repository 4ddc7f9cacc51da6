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
    if a.lo >= 0.0 {
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

fn equal(a: Interval, b: Interval) -> Interval {
    let same_point = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
    known(same_point, a.hi < b.lo || b.hi < a.lo)
}

fn less(a: Interval, b: Interval) -> Interval {
    known(a.hi < b.lo, a.lo >= b.hi)
}

fn less_equal(a: Interval, b: Interval) -> Interval {
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
            Node::Neg => unary!(|a: Interval| Interval {
                lo: -a.hi,
                hi: -a.lo
            }),
            Node::Not => unary!(not),
            Node::Exp => unary!(exp),
            Node::Ln => unary!(ln),
            Node::Sqrt => unary!(sqrt),
            Node::Abs => unary!(abs),
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
