//! Name resolution, type checking and code generation: an [`Ast`] and a
//! [`Scope`] in, a compiled [`Expr`] or [`Statement`] out.
//!
//! One recursive walk over the tree resolves every name to an index, checks
//! types, records what the expression [`Reads`] and emits postfix code
//! ([`Node`]s). It reports every problem it finds rather than stopping at the
//! first; a sub-expression that already has an error gets no type (`None`),
//! so one mistake does not cascade into several messages. Sub-expressions
//! made only of literals are folded into a constant.

use super::eval::{self, Node, STACK_CAP};
use super::parse::{parse, parse_statement, Ast, AstKind, BinaryOp, NamedArg, UnaryOp};
use super::{ActorRef, AssignOp, Context, Expr, ExprError, Lvalue, ParamEnv, Reads, Scope, Span};
use super::{HistoryKey, HistoryRequest};
use super::{Statement, Type};
use crate::diag::suggest;
use crate::rng::Draw;

/// Compiles an expression: parses it, resolves names in `scope`, checks types
/// (against `expected`, if given) and generates code.
///
/// Returns every problem found, with spans within `src`.
///
/// ```
/// use flashpoint::expr::{compile, Context, Scope, Type};
///
/// let scope = Scope { params: vec!["rate".to_string()], ..Scope::default() };
/// let expr = compile("2 ^ 10 / 4", &scope, Context::default(), Some(Type::Num))
///     .expect("a valid expression");
/// assert_eq!(expr.constant(), Some(256.0));
///
/// let errors = compile("rte > 1", &scope, Context::default(), None).unwrap_err();
/// assert_eq!(errors[0].message, "unknown parameter `rte`");
/// assert_eq!(errors[0].span, 0..3);
/// assert_eq!(errors[0].help.as_deref(), Some("did you mean `rate`?"));
/// ```
pub fn compile(
    src: &str,
    scope: &Scope,
    ctx: Context,
    expected: Option<Type>,
) -> Result<Expr, Vec<ExprError>> {
    let ast = parse(src)?;
    let mut checker = Checker::new(scope, ctx);
    let checked = checker.expr(&ast);
    checker.finish(&ast, checked, expected)
}

/// Compiles a statement `lvalue op expr`, where the lvalue is `ACTOR.var` or
/// `tension(A, B)`; `+=` and `-=` need a number.
///
/// Returns every problem found, with spans within `src`.
pub fn compile_statement(
    src: &str,
    scope: &Scope,
    ctx: Context,
) -> Result<Statement, Vec<ExprError>> {
    let statement = parse_statement(src)?;
    let mut checker = Checker::new(scope, ctx);
    let target = checker.lvalue(&statement.lhs);
    // `Reads` describes the value; resolving the target is not reading it.
    checker.reads = Reads::default();
    let target_ty = target.map(|t| match t {
        Lvalue::State { ty, .. } => ty,
        Lvalue::Tension { .. } => Type::Num,
    });
    if statement.op != AssignOp::Set && target_ty == Some(Type::Bool) {
        let op = if statement.op == AssignOp::Add {
            "+="
        } else {
            "-="
        };
        checker.errors.push(
            ExprError::new(
                statement.op_span.clone(),
                format!("cannot use `{op}` on a boolean"),
            )
            .with_help("use `=`"),
        );
    }
    let checked = checker.expr(&statement.rhs);
    let value = checker.finish(&statement.rhs, checked, target_ty)?;
    let target = target.expect("an lvalue without errors resolves (errors return above)");
    Ok(Statement {
        target,
        op: statement.op,
        value,
    })
}

/// The built-in functions, for suggestions.
const FUNCTIONS: &[&str] = &[
    "tension",
    "count",
    "since",
    "first",
    "last",
    "min",
    "max",
    "clamp",
    "exp",
    "ln",
    "sqrt",
    "abs",
    "floor",
    "sin",
    "cos",
    "uniform",
    "normal",
    "lognormal",
    "exponential",
    "poisson",
    "bernoulli",
];

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Num => "a number",
        Type::Bool => "a boolean",
    }
}

/// What the walk learned about one sub-expression.
#[derive(Debug, Clone, Copy)]
struct Checked {
    /// Its type; `None` if it has an error (already reported).
    ty: Option<Type>,
    /// Whether it reads nothing (only literals), so it can be folded.
    constant: bool,
    /// Stack slots its code needs (worst case over both evaluators).
    stack: usize,
    /// Branches the interval evaluator may hold open at once inside it.
    open: usize,
}

impl Checked {
    fn leaf(ty: Option<Type>, constant: bool) -> Checked {
        Checked {
            ty,
            constant,
            stack: 1,
            open: 0,
        }
    }
}

struct Checker<'a> {
    scope: &'a Scope,
    ctx: Context,
    code: Vec<Node>,
    reads: Reads,
    errors: Vec<ExprError>,
    /// The filtered and windowed event histories read, indexed by the slots
    /// in `code` until the scenario binds them ([`Expr::bind_histories`]).
    histories: Vec<HistoryRequest>,
}

impl<'a> Checker<'a> {
    fn new(scope: &'a Scope, ctx: Context) -> Checker<'a> {
        Checker {
            scope,
            ctx,
            code: Vec::new(),
            reads: Reads::default(),
            errors: Vec::new(),
            histories: Vec::new(),
        }
    }

    fn finish(
        mut self,
        ast: &Ast,
        checked: Checked,
        expected: Option<Type>,
    ) -> Result<Expr, Vec<ExprError>> {
        if let (Some(want), Some(found)) = (expected, checked.ty) {
            if want != found {
                self.errors.push(ExprError::new(
                    ast.span.clone(),
                    format!("expected {}, found {}", type_name(want), type_name(found)),
                ));
            }
        }
        if checked.stack > STACK_CAP || checked.open > STACK_CAP {
            self.errors.push(
                ExprError::new(ast.span.clone(), "expression nested too deeply")
                    .with_help("split the expression into simpler parts"),
            );
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let ty = checked
            .ty
            .expect("a sub-expression has no type only after an error was reported");
        Ok(Expr {
            shape: eval::Shape::of(&self.code, checked.stack),
            code: self.code,
            ty,
            reads: self.reads,
            histories: self.histories,
        })
    }

    /// Resolves the left-hand side of a statement.
    fn lvalue(&mut self, lhs: &Ast) -> Option<Lvalue> {
        match &lhs.kind {
            AstKind::Field {
                actor,
                actor_span,
                field,
                field_span,
            } => {
                let (actor, var, ty) = self.state_var(actor, actor_span, field, field_span)?;
                Some(Lvalue::State { actor, var, ty })
            }
            AstKind::Call { name, args, .. } if name == "tension" => {
                let (a, b, dyad) = self.tension_pair(args, &lhs.span)?;
                Some(Lvalue::Tension { a, b, dyad })
            }
            _ => {
                self.errors.push(
                    ExprError::new(lhs.span.clone(), "cannot assign to this").with_help(
                        "assign to an actor state variable (`ACTOR.var`) or to `tension(A, B)`",
                    ),
                );
                None
            }
        }
    }

    fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.errors.push(ExprError::new(span.clone(), message));
    }

    /// Reports an error unless `checked` has type `want` (or no type: its error
    /// is already reported).
    fn want(&mut self, checked: Checked, want: Type, span: &Span, help: impl FnOnce() -> String) {
        if let Some(found) = checked.ty {
            if found != want {
                let message = format!("expected {}, found {}", type_name(want), type_name(found));
                self.errors
                    .push(ExprError::new(span.clone(), message).with_help(help()));
            }
        }
    }

    /// Replaces the code emitted since `start` by its value, if it reads
    /// nothing and the code is known to be well formed.
    fn fold(&mut self, start: usize, checked: Checked) -> Checked {
        let foldable = checked.constant
            && checked.ty.is_some()
            && self.errors.is_empty()
            && checked.stack <= STACK_CAP
            && self.code.len() - start > 1;
        if foldable {
            let value = eval::eval(&self.code[start..], checked.stack, &ParamEnv::NONE);
            self.code.truncate(start);
            self.code.push(Node::Const(value));
            return Checked {
                stack: 1,
                open: 0,
                ..checked
            };
        }
        checked
    }

    /// Forward distance from the jump at `from` to the end of the code.
    fn skip_from(&self, from: usize) -> u32 {
        u32::try_from(self.code.len() - from - 1)
            .expect("code has fewer nodes than the source has bytes, which is capped")
    }

    fn patch(&mut self, at: usize) {
        let skip = self.skip_from(at);
        self.code[at] = match self.code[at] {
            Node::JumpIfFalse(_) => Node::JumpIfFalse(skip),
            Node::Jump(_) => Node::Jump(skip),
            Node::AndSkip(_) => Node::AndSkip(skip),
            Node::OrSkip(_) => Node::OrSkip(skip),
            other => other,
        };
    }

    fn expr(&mut self, ast: &Ast) -> Checked {
        let start = self.code.len();
        let checked = self.expr_unfolded(ast);
        self.fold(start, checked)
    }

    fn expr_unfolded(&mut self, ast: &Ast) -> Checked {
        match &ast.kind {
            AstKind::Num(v) => self.constant(*v, Type::Num),
            AstKind::Bool(b) => self.constant(eval::truth(*b), Type::Bool),
            AstKind::Inf => self.constant(f64::INFINITY, Type::Num),
            AstKind::Time => {
                self.reads.time = true;
                self.code.push(Node::Time);
                Checked::leaf(Some(Type::Num), false)
            }
            AstKind::Name(name) => self.param(name, &ast.span),
            AstKind::Field {
                actor,
                actor_span,
                field,
                field_span,
            } => {
                let resolved = self.state_var(actor, actor_span, field, field_span);
                let Some((actor, var, ty)) = resolved else {
                    return Checked::leaf(None, false);
                };
                self.reads.state = true;
                self.code.push(Node::State(actor, var));
                Checked::leaf(Some(ty), false)
            }
            AstKind::Call {
                name,
                name_span,
                args,
                named,
            } => {
                if !named.is_empty()
                    && !matches!(name.as_str(), "count" | "since" | "first" | "last")
                {
                    self.error(
                        &named[0].name_span,
                        format!("`{name}` takes no named arguments"),
                    );
                }
                self.call(name, name_span, args, named, &ast.span)
            }
            AstKind::Unary { op, operand } => {
                let inner = self.expr(operand);
                let (want, node, symbol) = match op {
                    UnaryOp::Neg => (Type::Num, Node::Neg, "unary `-`"),
                    UnaryOp::Not => (Type::Bool, Node::Not, "`not`"),
                };
                self.want(inner, want, &operand.span, || {
                    format!("{symbol} works on {}s", word(want))
                });
                self.code.push(node);
                Checked {
                    ty: Some(want),
                    ..inner
                }
            }
            AstKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs, &ast.span),
            AstKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                let c = self.expr(cond);
                self.want(c, Type::Bool, &cond.span, || {
                    "the condition of `if` must be a boolean".to_string()
                });
                let jump_if_false = self.code.len();
                self.code.push(Node::JumpIfFalse(0));
                let t = self.expr(then_branch);
                let jump = self.code.len();
                self.code.push(Node::Jump(0));
                self.patch(jump_if_false);
                let e = self.expr(else_branch);
                self.patch(jump);
                let ty = match (t.ty, e.ty) {
                    (Some(a), Some(b)) if a != b => {
                        self.errors.push(
                            ExprError::new(
                                else_branch.span.clone(),
                                format!(
                                    "the `else` branch is {} but the `then` branch is {}",
                                    type_name(b),
                                    type_name(a)
                                ),
                            )
                            .with_help("both branches of `if` must have the same type"),
                        );
                        Some(a)
                    }
                    (a, b) => a.or(b),
                };
                Checked {
                    ty,
                    constant: c.constant && t.constant && e.constant,
                    stack: c.stack.max(t.stack).max(1 + e.stack),
                    open: c.open.max(1 + t.open).max(1 + e.open),
                }
            }
        }
    }

    fn constant(&mut self, value: f64, ty: Type) -> Checked {
        self.code.push(Node::Const(value));
        Checked::leaf(Some(ty), true)
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Ast, rhs: &Ast, span: &Span) -> Checked {
        let symbol = op.symbol();
        let l = self.expr(lhs);
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let at = self.code.len();
            self.code.push(if op == BinaryOp::And {
                Node::AndSkip(0)
            } else {
                Node::OrSkip(0)
            });
            let r = self.expr(rhs);
            self.patch(at);
            for (side, ast) in [(l, lhs), (r, rhs)] {
                self.want(side, Type::Bool, &ast.span, || {
                    format!("`{symbol}` works on booleans")
                });
            }
            return Checked {
                ty: Some(Type::Bool),
                constant: l.constant && r.constant,
                stack: l.stack.max(1 + r.stack),
                open: l.open.max(1 + r.open),
            };
        }
        let r = self.expr(rhs);
        let (node, ty) = match op {
            BinaryOp::Add => (Node::Add, Type::Num),
            BinaryOp::Sub => (Node::Sub, Type::Num),
            BinaryOp::Mul => (Node::Mul, Type::Num),
            BinaryOp::Div => (Node::Div, Type::Num),
            BinaryOp::Pow => (Node::Pow, Type::Num),
            BinaryOp::Eq => (Node::Eq, Type::Bool),
            BinaryOp::Ne => (Node::Ne, Type::Bool),
            BinaryOp::Lt => (Node::Lt, Type::Bool),
            BinaryOp::Le => (Node::Le, Type::Bool),
            BinaryOp::Gt => (Node::Gt, Type::Bool),
            BinaryOp::Ge => (Node::Ge, Type::Bool),
            BinaryOp::And | BinaryOp::Or => unreachable!("handled above"),
        };
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            if let (Some(a), Some(b)) = (l.ty, r.ty) {
                if a != b {
                    self.error(
                        span,
                        format!("cannot compare {} with {}", type_name(a), type_name(b)),
                    );
                }
            }
        } else {
            for (side, ast) in [(l, lhs), (r, rhs)] {
                self.want(side, Type::Num, &ast.span, || {
                    format!("`{symbol}` works on numbers")
                });
            }
        }
        self.code.push(node);
        Checked {
            ty: Some(ty),
            constant: l.constant && r.constant,
            stack: l.stack.max(1 + r.stack),
            open: l.open.max(r.open),
        }
    }

    fn param(&mut self, name: &str, span: &Span) -> Checked {
        let scope = self.scope;
        if let Some(idx) = scope.param_index(name) {
            self.reads.params = true;
            self.code.push(Node::Param(index(idx)));
            return Checked::leaf(Some(Type::Num), false);
        }
        let mut error = ExprError::new(span.clone(), format!("unknown parameter `{name}`"));
        if let Some(best) = suggest(name, scope.params.iter().map(String::as_str)) {
            error = error.with_help(format!("did you mean `{best}`?"));
        } else if scope.actor_index(name).is_some() || name == "source" || name == "target" {
            error = error.with_help(format!("`{name}` is an actor; use `{name}.<variable>`"));
        } else if FUNCTIONS.contains(&name) {
            error = error.with_help(format!("`{name}` is a function; call it as `{name}(...)`"));
        } else if scope.event_index(name).is_some() {
            error = error.with_help(format!("`{name}` is an event; use `count({name})`"));
        }
        self.errors.push(error);
        self.code.push(Node::Const(f64::NAN));
        Checked::leaf(None, false)
    }

    fn actor(&mut self, name: &str, span: &Span) -> Option<ActorRef> {
        let special = match name {
            "source" => Some(ActorRef::Source),
            "target" => Some(ActorRef::Target),
            _ => None,
        };
        if let Some(actor) = special {
            if self.ctx.event_actors {
                self.reads.event_actors = true;
                return Some(actor);
            }
            self.error(
                span,
                format!("`{name}` is only available in rules and event effects"),
            );
            return None;
        }
        let scope = self.scope;
        if let Some((_, idx)) = scope.aliases.iter().find(|(alias, _)| alias == name) {
            return Some(ActorRef::Fixed(*idx));
        }
        match scope.actor_index(name) {
            Some(idx) => match u16::try_from(idx) {
                Ok(idx) => Some(ActorRef::Fixed(idx)),
                Err(_) => {
                    self.error(span, "too many actors");
                    None
                }
            },
            None => {
                let mut error = ExprError::new(span.clone(), format!("unknown actor `{name}`"));
                if let Some(best) = suggest(name, scope.actors.iter().map(String::as_str)) {
                    error = error.with_help(format!("did you mean `{best}`?"));
                }
                self.errors.push(error);
                None
            }
        }
    }

    fn declares(&self, actor: u16, var: usize) -> bool {
        let idx = usize::from(actor) * self.scope.vars.len() + var;
        self.scope.declared.get(idx).copied().unwrap_or(false)
    }

    fn state_var(
        &mut self,
        actor_name: &str,
        actor_span: &Span,
        field: &str,
        field_span: &Span,
    ) -> Option<(ActorRef, u32, Type)> {
        let actor = self.actor(actor_name, actor_span);
        let scope = self.scope;
        let var = scope.var_index(field);
        let Some(var) = var else {
            let candidates: Vec<&str> = scope
                .vars
                .iter()
                .enumerate()
                .filter(|(i, _)| match actor {
                    Some(ActorRef::Fixed(a)) => self.declares(a, *i),
                    _ => true,
                })
                .map(|(_, v)| v.name.as_str())
                .collect();
            let mut error = ExprError::new(
                field_span.clone(),
                format!("unknown state variable `{field}`"),
            );
            if let Some(best) = suggest(field, candidates) {
                error = error.with_help(format!("did you mean `{best}`?"));
            }
            self.errors.push(error);
            return None;
        };
        let actor = actor?;
        if let ActorRef::Fixed(a) = actor {
            if !self.declares(a, var) {
                self.error(
                    &(actor_span.start..field_span.end),
                    format!("actor `{actor_name}` has no state variable `{field}`"),
                );
                return None;
            }
        }
        Some((actor, index(var), scope.vars[var].ty))
    }

    /// Resolves `tension(A, B)`'s arguments: the two actors and, when both are
    /// fixed, the dyad.
    fn tension_pair(
        &mut self,
        args: &[Ast],
        span: &Span,
    ) -> Option<(ActorRef, ActorRef, Option<u32>)> {
        if args.len() != 2 {
            self.error(
                span,
                format!("`tension` takes 2 arguments, found {}", args.len()),
            );
            return None;
        }
        let mut actors = [None, None];
        for (slot, arg) in actors.iter_mut().zip(args) {
            *slot = match &arg.kind {
                AstKind::Name(name) => self.actor(name, &arg.span),
                _ => {
                    self.error(&arg.span, "expected an actor id");
                    None
                }
            };
        }
        let [Some(a), Some(b)] = actors else {
            return None;
        };
        let (ActorRef::Fixed(ai), ActorRef::Fixed(bi)) = (a, b) else {
            return Some((a, b, None));
        };
        let n = self.scope.actors.len();
        let dyad = self
            .scope
            .dyads
            .get(usize::from(ai) * n + usize::from(bi))
            .copied()
            .flatten();
        match dyad {
            Some(d) => Some((a, b, Some(d))),
            None => {
                let scope = self.scope;
                self.error(
                    span,
                    format!(
                        "no tension is declared between `{}` and `{}`",
                        scope.actors[usize::from(ai)],
                        scope.actors[usize::from(bi)]
                    ),
                );
                None
            }
        }
    }

    /// Resolves the event argument of `count`, `since`, `first` or `last`.
    fn event(&mut self, function: &str, args: &[Ast], span: &Span) -> Option<u32> {
        let [arg] = args else {
            let wants = if function == "count" {
                "an event and an optional window"
            } else {
                "1 argument"
            };
            self.error(
                span,
                format!("`{function}` takes {wants}, found {} arguments", args.len()),
            );
            return None;
        };
        let AstKind::Name(name) = &arg.kind else {
            self.error(&arg.span, "expected an event id");
            return None;
        };
        let scope = self.scope;
        if let Some(idx) = scope.event_index(name) {
            return Some(index(idx));
        }
        let mut error = ExprError::new(arg.span.clone(), format!("unknown event `{name}`"));
        if let Some(best) = suggest(name, scope.events.iter().map(String::as_str)) {
            error = error.with_help(format!("did you mean `{best}`?"));
        }
        self.errors.push(error);
        None
    }

    fn call(
        &mut self,
        name: &str,
        name_span: &Span,
        args: &[Ast],
        named: &[NamedArg],
        span: &Span,
    ) -> Checked {
        match name {
            "tension" => {
                let Some((a, b, dyad)) = self.tension_pair(args, span) else {
                    return Checked::leaf(None, false);
                };
                self.reads.tension = true;
                self.code.push(match dyad {
                    Some(d) => Node::Tension(d),
                    None => Node::TensionBetween(a, b),
                });
                Checked::leaf(Some(Type::Num), false)
            }
            "count" | "since" | "first" | "last" if args.len() == 2 || !named.is_empty() => {
                self.history(name, args, named, span)
            }
            "count" | "since" | "first" | "last" => {
                let Some(e) = self.event(name, args, span) else {
                    return Checked::leaf(None, false);
                };
                self.reads.events = true;
                self.code.push(match name {
                    "count" => Node::Count(e),
                    "first" => Node::First(e),
                    "last" => Node::Last(e),
                    _ => {
                        self.reads.time = true;
                        Node::Since(e)
                    }
                });
                Checked::leaf(Some(Type::Num), false)
            }
            "min" | "max" => {
                let node = if name == "min" { Node::Min } else { Node::Max };
                let mut result: Option<Checked> = None;
                for arg in args {
                    let c = self.numeric_arg(name, arg);
                    result = Some(match result {
                        None => c,
                        Some(acc) => {
                            self.code.push(node);
                            Checked {
                                ty: Some(Type::Num),
                                constant: acc.constant && c.constant,
                                stack: acc.stack.max(1 + c.stack),
                                open: acc.open.max(c.open),
                            }
                        }
                    });
                }
                match result {
                    Some(checked) if args.len() >= 2 => checked,
                    _ => {
                        let found = args.len();
                        self.error(
                            span,
                            format!("`{name}` takes at least 2 arguments, found {found}"),
                        );
                        Checked::leaf(None, false)
                    }
                }
            }
            "clamp" => {
                let checked: Vec<Checked> =
                    args.iter().map(|a| self.numeric_arg(name, a)).collect();
                let [x, lo, hi] = checked[..] else {
                    self.error(
                        span,
                        format!("`clamp` takes 3 arguments, found {}", args.len()),
                    );
                    return Checked::leaf(None, false);
                };
                self.code.push(Node::Clamp);
                Checked {
                    ty: Some(Type::Num),
                    constant: x.constant && lo.constant && hi.constant,
                    stack: x.stack.max(1 + lo.stack).max(2 + hi.stack),
                    open: x.open.max(lo.open).max(hi.open),
                }
            }
            "exp" | "ln" | "sqrt" | "abs" | "floor" | "sin" | "cos" => {
                let checked: Vec<Checked> =
                    args.iter().map(|a| self.numeric_arg(name, a)).collect();
                let [x] = checked[..] else {
                    self.error(
                        span,
                        format!("`{name}` takes 1 argument, found {}", args.len()),
                    );
                    return Checked::leaf(None, false);
                };
                self.code.push(match name {
                    "exp" => Node::Exp,
                    "ln" => Node::Ln,
                    "sqrt" => Node::Sqrt,
                    "abs" => Node::Abs,
                    "sin" => Node::Sin,
                    "cos" => Node::Cos,
                    _ => Node::Floor,
                });
                Checked {
                    ty: Some(Type::Num),
                    ..x
                }
            }
            _ if Draw::of_name(name).is_some() => {
                let draw = Draw::of_name(name).expect("matched above");
                self.draw(draw, args, named, span)
            }
            _ => {
                let mut error =
                    ExprError::new(name_span.clone(), format!("unknown function `{name}`"));
                let known = FUNCTIONS.join(", ");
                error = error.with_help(match suggest(name, FUNCTIONS.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`? the functions are {known}"),
                    None => format!("the functions are {known}"),
                });
                self.errors.push(error);
                // Still check the arguments for errors of their own, except bare
                // names: without the function we cannot tell what they name.
                for arg in args.iter().filter(|a| !matches!(a.kind, AstKind::Name(_))) {
                    self.expr(arg);
                }
                Checked::leaf(None, false)
            }
        }
    }

    /// `count(e, W)`, and `count`, `since`, `first` or `last` with `from =`
    /// / `to =` filters: a read of a history slot.
    fn history(
        &mut self,
        function: &str,
        args: &[Ast],
        named: &[NamedArg],
        span: &Span,
    ) -> Checked {
        let window_arg = match args {
            [_, w] if function == "count" => Some(w),
            [_, w] => {
                self.error(
                    &w.span,
                    format!("`{function}` takes one event and optional `from =` / `to =` filters; only `count` takes a time window"),
                );
                None
            }
            _ => None,
        };
        let event = self.event(function, &args[..args.len().min(1)], span);
        let (mut from, mut to) = (None, None);
        let mut ok = event.is_some();
        for n in named {
            let slot = match n.name.as_str() {
                "from" => &mut from,
                "to" => &mut to,
                other => {
                    let mut e = ExprError::new(
                        n.name_span.clone(),
                        format!("`{function}` has no argument `{other}`"),
                    );
                    e = e.with_help(match suggest(other, ["from", "to"]) {
                        Some(best) => format!(
                            "did you mean `{best}`? (`{function}` takes `from =` and `to =`)"
                        ),
                        None => format!("`{function}` takes `from = ACTOR` and `to = ACTOR`"),
                    });
                    self.errors.push(e);
                    ok = false;
                    continue;
                }
            };
            if slot.is_some() {
                self.error(&n.name_span, format!("`{}` is given twice", n.name));
                ok = false;
                continue;
            }
            let actor = match &n.value.kind {
                AstKind::Name(a) if a == "source" || a == "target" => {
                    self.errors.push(
                        ExprError::new(
                            n.value.span.clone(),
                            format!("`{}` must name an actor id", n.name),
                        )
                        .with_help(format!("`{a}` is not allowed in a filter; name the actor")),
                    );
                    None
                }
                AstKind::Name(a) => match self.actor(a, &n.value.span) {
                    Some(ActorRef::Fixed(i)) => Some(i),
                    _ => None,
                },
                _ => {
                    self.error(&n.value.span, format!("`{}` must name an actor id", n.name));
                    None
                }
            };
            match actor {
                Some(a) => *slot = Some(a),
                None => ok = false,
            }
        }
        let window = window_arg.and_then(|w| {
            let mut sub = Checker::new(self.scope, self.ctx);
            let checked = sub.expr(w);
            match sub.finish(w, checked, Some(Type::Num)) {
                Ok(expr) if expr.param_only() && expr.histories.is_empty() => Some(expr),
                Ok(_) => {
                    self.errors.push(
                        ExprError::new(
                            w.span.clone(),
                            "the window of `count` must be a number or an expression of parameters",
                        )
                        .with_help("`count(e, W)` counts the events of the last W time units"),
                    );
                    None
                }
                Err(errors) => {
                    self.errors.extend(errors);
                    None
                }
            }
        });
        if !ok || (window_arg.is_some() && window.is_none()) {
            return Checked::leaf(None, false);
        }
        let event = event.expect("checked above");
        let slot = index(self.histories.len());
        let windowed = window.is_some();
        self.histories.push(HistoryRequest {
            key: HistoryKey { event, from, to },
            window,
        });
        self.reads.events = true;
        if let Some(w) = window_arg {
            let c = self.expr(w);
            self.reads.time = true;
            self.code.push(Node::WindowCount(slot));
            return Checked {
                ty: Some(Type::Num),
                constant: false,
                stack: c.stack,
                open: c.open,
            };
        }
        debug_assert!(!windowed);
        self.code.push(match function {
            "count" => Node::HistCount(slot),
            "first" => Node::HistFirst(slot),
            "last" => Node::HistLast(slot),
            _ => {
                self.reads.time = true;
                Node::HistSince(slot)
            }
        });
        Checked::leaf(Some(Type::Num), false)
    }

    /// A random draw: `uniform(a, b)`, `poisson(mean)`, … Allowed only
    /// where the context allows draws; literal parameters are checked here.
    fn draw(&mut self, draw: Draw, args: &[Ast], named: &[NamedArg], span: &Span) -> Checked {
        let name = draw.name();
        let checked: Vec<Checked> = args.iter().map(|a| self.numeric_arg(name, a)).collect();
        let params = draw.params();
        let failed = |c: &Checked| c.ty.is_none();
        if !self.ctx.draws {
            self.error(
                span,
                format!("random draws are allowed only in event effects and initial state, not here (`{name}`)"),
            );
            return Checked::leaf(None, false);
        }
        if let Some(arg) = named.first() {
            self.error(&arg.name_span, format!("`{name}` takes no named arguments"));
            return Checked::leaf(None, false);
        }
        if checked.len() != params.len() {
            let plural = if params.len() == 1 { "" } else { "s" };
            self.error(
                span,
                format!(
                    "`{name}({})` takes {} argument{plural}, found {}",
                    params.join(", "),
                    params.len(),
                    args.len()
                ),
            );
            return Checked::leaf(None, false);
        }
        if checked.iter().any(failed) {
            return Checked::leaf(None, false);
        }
        if checked.iter().all(|c| c.constant) {
            // Each constant argument was folded into one `Const`.
            let n = self.code.len();
            let value = |i: usize| match self.code.get(n - params.len() + i) {
                Some(Node::Const(v)) => Some(*v),
                _ => None,
            };
            let a = value(0);
            let b = if params.len() == 2 {
                value(1)
            } else {
                Some(0.0)
            };
            if let (Some(a), Some(b)) = (a, b) {
                if let Err(message) = draw.check(a, b) {
                    self.error(span, message);
                    return Checked::leaf(None, false);
                }
            }
        }
        self.reads.draws = true;
        self.code.push(Node::Draw(draw));
        let stack = checked
            .iter()
            .enumerate()
            .map(|(i, c)| i + c.stack)
            .max()
            .unwrap_or(1);
        Checked {
            ty: Some(if draw.is_bool() {
                Type::Bool
            } else {
                Type::Num
            }),
            constant: false,
            stack,
            open: checked.iter().map(|c| c.open).max().unwrap_or(0),
        }
    }

    fn numeric_arg(&mut self, function: &str, arg: &Ast) -> Checked {
        let checked = self.expr(arg);
        self.want(checked, Type::Num, &arg.span, || {
            format!("`{function}` works on numbers")
        });
        checked
    }
}

fn word(ty: Type) -> &'static str {
    match ty {
        Type::Num => "number",
        Type::Bool => "boolean",
    }
}

/// An index into a scope list as stored in code.
fn index(idx: usize) -> u32 {
    u32::try_from(idx).expect("scope lists are far shorter than u32::MAX")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::expr::VarDecl;

    /// Parameters `rate`, `threshold`, `alpha`; actors `POL`, `BLR`, `RUS`;
    /// variables `border_open` (bool), `alert`, `troops`; events `incursion`,
    /// `talks`, `war`; dyads POL-BLR (0, symmetric) and BLR->RUS (1).
    pub(crate) fn scope() -> Scope {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let var = |name: &str, ty| VarDecl {
            name: name.to_string(),
            ty,
        };
        let mut dyads = vec![None; 9];
        dyads[1] = Some(0); // POL, BLR
        dyads[3] = Some(0); // BLR, POL
        dyads[5] = Some(1); // BLR, RUS
        let mut scope = Scope {
            params: names(&["rate", "threshold", "alpha"]),
            actors: names(&["POL", "BLR", "RUS"]),
            vars: vec![
                var("border_open", Type::Bool),
                var("alert", Type::Num),
                var("troops", Type::Num),
            ],
            #[rustfmt::skip]
            declared: vec![
                true, true, true,   // POL
                false, true, true,  // BLR
                false, true, false, // RUS
            ],
            events: names(&["incursion", "talks", "war"]),
            dyads,
            aliases: Vec::new(),
            index: Default::default(),
        };
        scope.reindex();
        scope
    }

    pub(crate) const RULE: Context = Context {
        event_actors: true,
        draws: false,
    };

    fn errors_in(src: &str, ctx: Context, expected: Option<Type>) -> String {
        match compile(src, &scope(), ctx, expected) {
            Ok(expr) => panic!("{src:?} compiled to {:?}", expr.code),
            Err(errors) => crate::expr::parse::tests::render(&errors),
        }
    }

    fn errors(src: &str) -> String {
        errors_in(src, Context::default(), None)
    }

    fn compiled(src: &str) -> Expr {
        match compile(src, &scope(), RULE, None) {
            Ok(expr) => expr,
            Err(errors) => panic!("{src:?}: {}", crate::expr::parse::tests::render(&errors)),
        }
    }

    #[test]
    fn unknown_names_get_suggestions() {
        assert_eq!(
            errors("rte * 2"),
            "0..3: unknown parameter `rte` [did you mean `rate`?]"
        );
        assert_eq!(errors("zzz"), "0..3: unknown parameter `zzz`");
        assert_eq!(
            errors("POL + 1"),
            "0..3: unknown parameter `POL` [`POL` is an actor; use `POL.<variable>`]"
        );
        assert_eq!(
            errors("war > 1"),
            "0..3: unknown parameter `war` [`war` is an event; use `count(war)`]"
        );
        assert_eq!(
            errors("POLL.alert"),
            "0..4: unknown actor `POLL` [did you mean `POL`?]"
        );
        assert_eq!(
            errors("POL.alrt"),
            "4..8: unknown state variable `alrt` [did you mean `alert`?]"
        );
        assert_eq!(
            errors("RUS.troops"),
            "0..10: actor `RUS` has no state variable `troops`"
        );
        assert_eq!(
            errors("count(incurson)"),
            "6..14: unknown event `incurson` [did you mean `incursion`?]"
        );
        assert_eq!(
            errors("sine(war)"),
            "0..4: unknown function `sine` [did you mean `since`? the functions are tension, count, since, first, last, min, max, clamp, exp, ln, sqrt, abs, floor, sin, cos, uniform, normal, lognormal, exponential, poisson, bernoulli]"
        );
        assert_eq!(
            errors("tension(POL, RUS)"),
            "0..17: no tension is declared between `POL` and `RUS`"
        );
        assert_eq!(
            errors("tension(RUS, BLR)"),
            "0..17: no tension is declared between `RUS` and `BLR`"
        );
        assert_eq!(
            errors("tension(POL, BLRR)"),
            "13..17: unknown actor `BLRR` [did you mean `BLR`?]"
        );
    }

    #[test]
    fn event_actors_only_where_allowed() {
        assert_eq!(
            errors("source.alert"),
            "0..6: `source` is only available in rules and event effects"
        );
        assert_eq!(
            errors("tension(target, POL)"),
            "8..14: `target` is only available in rules and event effects"
        );
        let e = compiled("source.alert + tension(target, POL)");
        assert_eq!(
            e.code,
            vec![
                Node::State(ActorRef::Source, 1),
                Node::TensionBetween(ActorRef::Target, ActorRef::Fixed(0)),
                Node::Add,
            ]
        );
        assert!(e.reads().event_actors && e.reads().state && e.reads().tension);
    }

    #[test]
    fn arity_errors() {
        assert_eq!(
            errors("min(1)"),
            "0..6: `min` takes at least 2 arguments, found 1"
        );
        assert_eq!(
            errors("clamp(1, 2)"),
            "0..11: `clamp` takes 3 arguments, found 2"
        );
        assert_eq!(errors("exp()"), "0..5: `exp` takes 1 argument, found 0");
        assert_eq!(
            errors("count(war, talks, 1)"),
            "0..20: `count` takes an event and an optional window, found 3 arguments"
        );
        assert_eq!(
            errors("since()"),
            "0..7: `since` takes 1 argument, found 0 arguments"
        );
        assert!(errors("count(war, talks)").starts_with("11..16: unknown parameter `talks`"));
        assert_eq!(
            errors("tension(POL)"),
            "0..12: `tension` takes 2 arguments, found 1"
        );
        assert_eq!(errors("count(1)"), "6..7: expected an event id");
        assert_eq!(errors("tension(POL, 1)"), "13..14: expected an actor id");
    }

    #[test]
    fn type_errors() {
        assert_eq!(
            errors("1 + true"),
            "4..8: expected a number, found a boolean [`+` works on numbers]"
        );
        assert_eq!(
            errors("rate and true"),
            "0..4: expected a boolean, found a number [`and` works on booleans]"
        );
        assert_eq!(
            errors("not rate"),
            "4..8: expected a boolean, found a number [`not` works on booleans]"
        );
        assert_eq!(
            errors("-POL.border_open"),
            "1..16: expected a number, found a boolean [unary `-` works on numbers]"
        );
        assert_eq!(
            errors("rate == true"),
            "0..12: cannot compare a number with a boolean"
        );
        assert_eq!(errors("true < false"), "0..4: expected a number, found a boolean [`<` works on numbers]\n7..12: expected a number, found a boolean [`<` works on numbers]");
        assert_eq!(
            errors("if rate then 1 else 2"),
            "3..7: expected a boolean, found a number [the condition of `if` must be a boolean]"
        );
        assert_eq!(
            errors("if true then 1 else false"),
            "20..25: the `else` branch is a boolean but the `then` branch is a number [both branches of `if` must have the same type]"
        );
        assert_eq!(
            errors("exp(true)"),
            "4..8: expected a number, found a boolean [`exp` works on numbers]"
        );
        assert_eq!(
            errors_in("rate > 1", Context::default(), Some(Type::Num)),
            "0..8: expected a number, found a boolean"
        );
        assert_eq!(
            errors_in("rate", Context::default(), Some(Type::Bool)),
            "0..4: expected a boolean, found a number"
        );
    }

    #[test]
    fn all_errors_in_one_pass() {
        assert_eq!(
            errors("rte + POL.alrt * count(wat) + (1 < true) + source.alert"),
            "0..3: unknown parameter `rte` [did you mean `rate`?]\n\
             10..14: unknown state variable `alrt` [did you mean `alert`?]\n\
             23..26: unknown event `wat` [did you mean `war`?]\n\
             35..39: expected a number, found a boolean [`<` works on numbers]\n\
             31..39: expected a number, found a boolean [`+` works on numbers]\n\
             43..49: `source` is only available in rules and event effects"
        );
        // An error does not cascade into type errors further up.
        assert_eq!(
            errors("(rte + 1) * 2 > 1 and true"),
            "1..4: unknown parameter `rte` [did you mean `rate`?]"
        );
    }

    #[test]
    fn reads_are_recorded() {
        let r = compiled("rate * t").reads();
        assert_eq!(
            r,
            Reads {
                params: true,
                time: true,
                ..Reads::default()
            }
        );
        let r = compiled("since(war) > 1").reads();
        assert_eq!(
            r,
            Reads {
                time: true,
                events: true,
                ..Reads::default()
            }
        );
        let r = compiled("tension(POL, BLR) + count(talks)").reads();
        assert_eq!(
            r,
            Reads {
                tension: true,
                events: true,
                ..Reads::default()
            }
        );
        let r = compiled("POL.border_open").reads();
        assert_eq!(
            r,
            Reads {
                state: true,
                ..Reads::default()
            }
        );
        assert_eq!(compiled("1 + 2").reads(), Reads::default());
    }

    #[test]
    fn names_resolve_to_indices() {
        assert_eq!(
            compiled("tension(BLR, POL) + BLR.troops + alpha + first(war) + last(talks)").code,
            vec![
                Node::Tension(0),
                Node::State(ActorRef::Fixed(1), 2),
                Node::Add,
                Node::Param(2),
                Node::Add,
                Node::First(2),
                Node::Add,
                Node::Last(1),
                Node::Add,
            ]
        );
        assert_eq!(compiled("POL.border_open").ty(), Type::Bool);
        assert_eq!(compiled("POL.alert").ty(), Type::Num);
    }

    #[test]
    fn literal_subtrees_are_folded() {
        assert_eq!(
            compiled("2 * 3 + rate").code,
            vec![Node::Const(6.0), Node::Param(0), Node::Add]
        );
        assert_eq!(
            compiled("rate * (1 + 2)").code,
            vec![Node::Param(0), Node::Const(3.0), Node::Mul]
        );
        assert_eq!(compiled("-2^2").code, vec![Node::Const(-4.0)]);
        assert_eq!(
            compiled("if 1 < 2 then 10 else 20").code,
            vec![Node::Const(10.0)]
        );
        assert_eq!(compiled("min(1, 5, -3)").constant(), Some(-3.0));
        assert_eq!(compiled("rate + 1").constant(), None);
        assert_eq!(compiled("true and not false").constant(), Some(1.0));
    }

    #[test]
    fn statements() {
        let scope = scope();
        let s = compile_statement("POL.alert += rate", &scope, Context::default()).expect("valid");
        assert_eq!(
            s.target,
            Lvalue::State {
                actor: ActorRef::Fixed(0),
                var: 1,
                ty: Type::Num
            }
        );
        assert_eq!(s.op, AssignOp::Add);
        assert_eq!(s.value.code, vec![Node::Param(0)]);
        let s = compile_statement("tension(BLR, RUS) = 0.5", &scope, Context::default())
            .expect("valid");
        assert_eq!(
            s.target,
            Lvalue::Tension {
                a: ActorRef::Fixed(1),
                b: ActorRef::Fixed(2),
                dyad: Some(1)
            }
        );
        let s = compile_statement("tension(source, target) -= 1", &scope, RULE).expect("valid");
        assert_eq!(
            s.target,
            Lvalue::Tension {
                a: ActorRef::Source,
                b: ActorRef::Target,
                dyad: None
            }
        );
        let s = compile_statement("target.border_open = not target.border_open", &scope, RULE)
            .expect("valid");
        assert_eq!(
            s.target,
            Lvalue::State {
                actor: ActorRef::Target,
                var: 0,
                ty: Type::Bool
            }
        );

        let err = |src: &str| match compile_statement(src, &scope, Context::default()) {
            Ok(s) => panic!("{src:?} compiled to {s:?}"),
            Err(e) => crate::expr::parse::tests::render(&e),
        };
        assert_eq!(err("POL.border_open += 1"), "16..18: cannot use `+=` on a boolean [use `=`]\n19..20: expected a boolean, found a number");
        assert_eq!(
            err("POL.alert = true"),
            "12..16: expected a number, found a boolean"
        );
        assert_eq!(err("rate = 1"), "0..4: cannot assign to this [assign to an actor state variable (`ACTOR.var`) or to `tension(A, B)`]");
        assert_eq!(err("exp(1) = 1"), "0..6: cannot assign to this [assign to an actor state variable (`ACTOR.var`) or to `tension(A, B)`]");
        assert_eq!(
            err("RUS.troops = 1"),
            "0..10: actor `RUS` has no state variable `troops`"
        );
        assert_eq!(
            err("tension(POL, RUS) = 1"),
            "0..17: no tension is declared between `POL` and `RUS`"
        );
        assert_eq!(err("source.alert = rte"), "0..6: `source` is only available in rules and event effects\n15..18: unknown parameter `rte` [did you mean `rate`?]");
    }

    #[test]
    fn deep_but_legal_nesting_compiles() {
        let src = format!("{}rate{}", "clamp(0, 1, ".repeat(40), ")".repeat(40));
        let errs = errors(&src);
        assert!(errs.contains("expression nested too deeply"), "{errs}");
        let src = format!("{}rate{}", "(1 + ".repeat(30), ")".repeat(30));
        assert_eq!(
            compiled(&src).eval(&crate::expr::eval::tests::TestEnv::default()),
            30.5
        );
    }
}
