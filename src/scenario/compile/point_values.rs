//! Rule and event values fixed by the parameter point that a scenario may
//! give as a number or as an expression of parameters: a rule's `cooldown`,
//! a schedule entry's `at`.

use super::Compiler;
use crate::expr::{Context, Expr, Type};
use toml::Spanned;

impl Compiler<'_> {
    /// A rule's `cooldown`: a non-negative number (returned as is, the same
    /// bits as before expressions were allowed) or an expression of
    /// parameters (returned as an expression, checked when a replication
    /// starts).
    pub(super) fn cooldown(&mut self, c: &Spanned<toml::Value>) -> (f64, Option<Expr>) {
        const WANT: &str =
            "`cooldown` must be a non-negative number or an expression of parameters";
        match c.get_ref() {
            toml::Value::Integer(i) if *i >= 0 => (*i as f64, None),
            toml::Value::Float(f) if f.is_finite() && *f >= 0.0 => (*f, None),
            toml::Value::String(_) => {
                let Some(e) = self.expr(c, Context::default(), Type::Num) else {
                    return (0.0, None);
                };
                if !e.param_only() {
                    self.err(c.span(), WANT);
                    return (0.0, None);
                }
                (0.0, Some(e))
            }
            _ => {
                self.err(c.span(), WANT);
                (0.0, None)
            }
        }
    }

    /// A `priority` (of an event or a rule): an integer (returned as is) or
    /// an expression of parameters (returned as an expression; its value
    /// must be an integer, checked when a replication starts).
    pub(super) fn priority(&mut self, p: &Spanned<toml::Value>) -> (i32, Option<Expr>) {
        const WANT: &str = "`priority` must be an integer or an expression of parameters";
        match p.get_ref() {
            toml::Value::Integer(i) => match i32::try_from(*i) {
                Ok(i) => (i, None),
                Err(_) => {
                    self.err(p.span(), format!("`priority` {i} is out of range"));
                    (0, None)
                }
            },
            toml::Value::String(_) => {
                let Some(e) = self.expr(p, Context::default(), Type::Num) else {
                    return (0, None);
                };
                if !e.param_only() {
                    self.err(p.span(), WANT);
                    return (0, None);
                }
                (0, Some(e))
            }
            _ => {
                self.err(p.span(), WANT);
                (0, None)
            }
        }
    }

    /// A tension threshold: a finite number (its value, no expression, and
    /// the number as Rust prints it for the metric's name) or the name of a
    /// parameter (NaN, the parameter's expression, and its name).
    pub(super) fn threshold(
        &mut self,
        th: &Spanned<toml::Value>,
    ) -> Option<(f64, Option<Expr>, String)> {
        const WANT: &str = "a threshold must be a finite number or the name of a parameter (it names the `tension_A_B_above_X` column)";
        let literal = match th.get_ref() {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            toml::Value::String(name) => {
                if !self.scope.params.iter().any(|p| p == name) {
                    let e = self.expr(th, Context::default(), Type::Num);
                    if e.is_some() {
                        self.err(th.span(), WANT);
                    }
                    return None;
                }
                let e = self.expr(th, Context::default(), Type::Num)?;
                return Some((f64::NAN, Some(e), name.clone()));
            }
            _ => None,
        };
        match literal {
            Some(x) if x.is_finite() => Some((x, None, format!("{x}"))),
            _ => {
                self.err(th.span(), WANT);
                None
            }
        }
    }

    /// A schedule entry's `at` given as a string: an expression of
    /// parameters (its range is checked when a replication starts).
    pub(super) fn schedule_at(&mut self, at: &Spanned<toml::Value>) -> Option<Expr> {
        let e = self.expr(at, Context::default(), Type::Num)?;
        if !e.param_only() {
            self.err(
                at.span(),
                "`at` must be a number, a date or an expression of parameters",
            );
            return None;
        }
        Some(e)
    }
}
