//! Initial state values given as expressions (`state = { resolve =
//! "uniform(0, 1)" }`): compiled with draws allowed and only parameters to
//! read, their type inferred from the expression.

use super::{content_offset, shift, Compiler};
use crate::expr::{self, Context, Expr};
use toml::Spanned;

impl Compiler<'_> {
    /// Compiles the string `value` of a state variable: an expression of
    /// parameters, numbers and random draws. Reports problems and returns
    /// `None` on any.
    pub(super) fn initial_expr(&mut self, value: &Spanned<toml::Value>) -> Option<Expr> {
        let toml::Value::String(text) = value.get_ref() else {
            return None;
        };
        let span = value.span();
        let offset = content_offset(self.source, &span);
        let ctx = Context {
            event_actors: false,
            draws: true,
        };
        match expr::compile(text, &self.scope, ctx, None) {
            Ok(e) => {
                let r = e.reads();
                if r.time || r.tension || r.state || r.events || r.event_actors {
                    self.err(
                        span,
                        "an initial state value may use only numbers, parameters and random draws",
                    );
                    return None;
                }
                Some(e)
            }
            Err(errors) => {
                self.expr_errors(errors, |inner| shift(inner, offset, &span));
                None
            }
        }
    }
}
