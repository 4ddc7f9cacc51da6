//! What kind of quantity a numeric expression computes, read from its
//! compiled code: a moment in time (`t`, `first(e)`), a length of time
//! (`since(e)`, `t - X.closed_at`), an event count, a 0/1 indicator, or a
//! plain number. Reports use it to print units ("day 24.1", "13.3 days") and
//! to tell a time that may not come before the horizon from one that always
//! does.
//!
//! The analysis runs the code on kinds instead of values. Names whose meaning
//! the code does not show (parameters, state variables) are `Unknown`, which
//! takes the kind of what it is added to; literals adapt the same way; any
//! other mix is a plain number. It is a heuristic for printing, never used by
//! the simulation.

use super::eval::Node;
use super::Expr;

/// The kind of quantity a numeric expression computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A moment on the scenario's time axis (`t`, `first(e)`, `last(e)`).
    Moment,
    /// A length of time (`since(e)`, a difference of moments).
    Duration,
    /// A number of events (`count(e)`).
    Count,
    /// 0 or 1 (a literal 0/1 in every branch, or a condition).
    Indicator,
    /// Anything else.
    Number,
}

/// The abstract value of one stack slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Moment,
    Duration,
    Count,
    /// A condition (0 or 1).
    Bool,
    /// A literal: whether it is 0 or 1.
    Literal {
        zero_one: bool,
    },
    /// A parameter or state variable: its unit is not written anywhere.
    Unknown,
    Number,
}

impl Expr {
    /// The kind of quantity the expression computes (see the module doc).
    pub fn quantity(&self) -> Quantity {
        match run(&self.code) {
            Kind::Moment => Quantity::Moment,
            Kind::Duration => Quantity::Duration,
            Kind::Count => Quantity::Count,
            Kind::Bool | Kind::Literal { zero_one: true } => Quantity::Indicator,
            Kind::Literal { zero_one: false } | Kind::Unknown | Kind::Number => Quantity::Number,
        }
    }
}

/// Two branches (of `if`, `min`, `max`, `clamp`) as one kind.
fn join(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        _ if a == b => a,
        (Literal { zero_one: x }, Literal { zero_one: y }) => Literal { zero_one: x && y },
        (Bool, Literal { zero_one: true }) | (Literal { zero_one: true }, Bool) => Bool,
        (Literal { .. }, k) | (k, Literal { .. }) if k != Bool => k,
        _ => Number,
    }
}

fn add(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        (Moment, Duration | Literal { .. } | Unknown)
        | (Duration | Literal { .. } | Unknown, Moment) => Moment,
        (Duration, Duration | Literal { .. } | Unknown) | (Literal { .. } | Unknown, Duration) => {
            Duration
        }
        (Count, Count | Literal { .. }) | (Literal { .. }, Count) => Count,
        (Literal { .. }, Literal { .. }) => Literal { zero_one: false },
        (Unknown, Unknown | Literal { .. }) | (Literal { .. }, Unknown) => Unknown,
        _ => Number,
    }
}

fn sub(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        // `t - X.closed_at`: a state variable subtracted from a moment is
        // taken to be a moment too.
        (Moment, Moment | Unknown) => Duration,
        (Moment, Duration | Literal { .. }) => Moment,
        (Duration, Duration | Literal { .. } | Unknown) | (Unknown, Duration) => Duration,
        (Count, Count | Literal { .. }) => Count,
        (Literal { .. }, Literal { .. }) => Literal { zero_one: false },
        (Unknown, Unknown | Literal { .. }) | (Literal { .. }, Unknown) => Unknown,
        _ => Number,
    }
}

/// `*` and `/` by a literal keep a duration or a count (`7 * since(e)`).
fn scale(a: Kind, b: Kind, divide: bool) -> Kind {
    use Kind::*;
    match (a, b) {
        (Duration | Count, Literal { .. }) => a,
        (Literal { .. }, Duration | Count) if !divide => b,
        (Literal { .. }, Literal { .. }) => Literal { zero_one: false },
        (Unknown, Unknown | Literal { .. }) | (Literal { .. }, Unknown) => Unknown,
        _ => Number,
    }
}

fn pop(stack: &mut Vec<Kind>) -> Kind {
    stack.pop().unwrap_or(Kind::Number)
}

/// The kind of the value `code` leaves on top of its stack.
fn run(code: &[Node]) -> Kind {
    let mut stack: Vec<Kind> = Vec::new();
    let mut pc = 0;
    while let Some(&node) = code.get(pc) {
        pc += 1;
        let kind = match node {
            Node::Const(v) => Kind::Literal {
                zero_one: v == 0.0 || v == 1.0,
            },
            Node::Param(_) | Node::State(..) => Kind::Unknown,
            Node::Tension(_) | Node::TensionBetween(..) => Kind::Number,
            Node::Time
            | Node::First(_)
            | Node::Last(_)
            | Node::HistFirst(_)
            | Node::HistLast(_) => Kind::Moment,
            Node::Since(_) | Node::HistSince(_) => Kind::Duration,
            Node::Count(_) | Node::HistCount(_) => Kind::Count,
            Node::WindowCount(_) => {
                pop(&mut stack);
                Kind::Count
            }
            Node::Draw(d) => {
                for _ in d.params() {
                    pop(&mut stack);
                }
                Kind::Number
            }
            Node::Neg | Node::Abs | Node::Floor => pop(&mut stack),
            Node::Exp | Node::Ln | Node::Sqrt | Node::Sin | Node::Cos => {
                pop(&mut stack);
                Kind::Number
            }
            Node::Not => {
                pop(&mut stack);
                Kind::Bool
            }
            Node::Add | Node::Sub | Node::Mul | Node::Div | Node::Pow | Node::Min | Node::Max => {
                let b = pop(&mut stack);
                let a = pop(&mut stack);
                match node {
                    Node::Add => add(a, b),
                    Node::Sub => sub(a, b),
                    Node::Mul => scale(a, b, false),
                    Node::Div => scale(a, b, true),
                    Node::Min | Node::Max => join(a, b),
                    _ => Kind::Number,
                }
            }
            Node::Eq | Node::Ne | Node::Lt | Node::Le | Node::Gt | Node::Ge => {
                pop(&mut stack);
                pop(&mut stack);
                Kind::Bool
            }
            Node::Clamp => {
                pop(&mut stack);
                pop(&mut stack);
                pop(&mut stack)
            }
            Node::JumpIfFalse(n) => {
                // cond, JumpIfFalse(n), then…, Jump(m), else…
                pop(&mut stack);
                let n = n as usize;
                let then_end = (pc + n).saturating_sub(1).min(code.len());
                let then_kind = run(&code[pc.min(then_end)..then_end]);
                let m = match code.get(then_end) {
                    Some(Node::Jump(m)) => *m as usize,
                    _ => return Kind::Number,
                };
                let else_start = (then_end + 1).min(code.len());
                let else_end = (else_start + m).min(code.len());
                let else_kind = run(&code[else_start..else_end]);
                pc = else_end;
                join(then_kind, else_kind)
            }
            Node::AndSkip(n) | Node::OrSkip(n) => {
                pop(&mut stack);
                pc = (pc + n as usize).min(code.len());
                Kind::Bool
            }
            Node::Jump(_) => return Kind::Number,
        };
        stack.push(kind);
    }
    stack.pop().unwrap_or(Kind::Number)
}
