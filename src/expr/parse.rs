//! Lexing and parsing: one expression string in, an [`Ast`] with byte spans out.
//!
//! The parser is a Pratt parser in the style of matklad's minipratt: the
//! precedence of every operator is in one binding-power table
//! ([`infix_binding_power`] and the two prefix constants) and one loop
//! ([`Parser::expr_bp`]) parses. Bad input never panics, hangs or recurses
//! without bound: input length, parser recursion and tree height are capped,
//! and spans always fall on character boundaries.

use std::fmt;

use super::{AssignOp, ExprError, Span};

/// Longest accepted expression, in bytes.
pub(crate) const MAX_LEN: usize = 10_000;
/// Deepest accepted nesting of parentheses, prefix operators, right operands
/// and call arguments.
pub(crate) const MAX_NESTING: u32 = 64;
/// Tallest accepted syntax tree (long left-associative chains such as
/// `1 + 1 + ... + 1` are flat for the parser but tall as trees).
pub(crate) const MAX_HEIGHT: u16 = 256;

/// A parsed expression node and the byte range it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    /// What the node is.
    pub kind: AstKind,
    /// Byte range in the expression string.
    pub span: Span,
    /// 1 for a leaf; 1 + the tallest child otherwise.
    height: u16,
}

/// A named argument of a call: `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedArg {
    /// The argument's name.
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// Its value.
    pub value: Ast,
}

/// The kinds of [`Ast`] nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum AstKind {
    /// A number literal.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `inf`.
    Inf,
    /// `t`, the current time.
    Time,
    /// A bare name: a parameter, or an actor when it is an argument of `tension`.
    Name(String),
    /// `ACTOR.var`.
    Field {
        /// The actor id (or `source` / `target`).
        actor: String,
        /// Where the actor id is.
        actor_span: Span,
        /// The state variable name.
        field: String,
        /// Where the variable name is.
        field_span: Span,
    },
    /// `name(arg, ...)`.
    Call {
        /// The function name.
        name: String,
        /// Where the function name is.
        name_span: Span,
        /// The positional arguments, in order.
        args: Vec<Ast>,
        /// The named arguments (`from = POL`), in order, after the positional ones.
        named: Vec<NamedArg>,
    },
    /// A prefix operator applied to an operand.
    Unary {
        /// Which operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Ast>,
    },
    /// An infix operator applied to two operands.
    Binary {
        /// Which operator.
        op: BinaryOp,
        /// Where the operator is.
        op_span: Span,
        /// Left operand.
        lhs: Box<Ast>,
        /// Right operand.
        rhs: Box<Ast>,
    },
    /// `if cond then then_branch else else_branch`.
    If {
        /// The condition.
        cond: Box<Ast>,
        /// The value when the condition holds.
        then_branch: Box<Ast>,
        /// The value otherwise.
        else_branch: Box<Ast>,
    },
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinaryOp {
    /// The operator as written in the source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// Whether this is one of the six comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

/// A parsed statement: `lhs op rhs`. The left-hand side is any atom here; the
/// checker decides whether it can be assigned to.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementAst {
    /// What is assigned to.
    pub lhs: Ast,
    /// `=`, `+=` or `-=`.
    pub op: AssignOp,
    /// Where the operator is.
    pub op_span: Span,
    /// The value.
    pub rhs: Ast,
}

impl Ast {
    fn new(kind: AstKind, span: Span) -> Ast {
        let tallest_child = match &kind {
            AstKind::Num(_)
            | AstKind::Bool(_)
            | AstKind::Inf
            | AstKind::Time
            | AstKind::Name(_)
            | AstKind::Field { .. } => 0,
            AstKind::Call { args, named, .. } => (args.iter())
                .chain(named.iter().map(|n| &n.value))
                .map(|a| a.height)
                .max()
                .unwrap_or(0),
            AstKind::Unary { operand, .. } => operand.height,
            AstKind::Binary { lhs, rhs, .. } => lhs.height.max(rhs.height),
            AstKind::If {
                cond,
                then_branch,
                else_branch,
            } => cond.height.max(then_branch.height).max(else_branch.height),
        };
        Ast {
            kind,
            span,
            height: tallest_child.saturating_add(1),
        }
    }
}

impl fmt::Display for Ast {
    /// S-expression form: `1 + 2 * x` prints as `(+ 1 (* 2 x))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            AstKind::Num(v) => write!(f, "{v}"),
            AstKind::Bool(b) => write!(f, "{b}"),
            AstKind::Inf => f.write_str("inf"),
            AstKind::Time => f.write_str("t"),
            AstKind::Name(name) => f.write_str(name),
            AstKind::Field { actor, field, .. } => write!(f, "(. {actor} {field})"),
            AstKind::Call {
                name, args, named, ..
            } => {
                write!(f, "(call {name}")?;
                for arg in args {
                    write!(f, " {arg}")?;
                }
                for n in named {
                    write!(f, " (= {} {})", n.name, n.value)?;
                }
                f.write_str(")")
            }
            AstKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => write!(f, "(neg {operand})"),
            AstKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => write!(f, "(not {operand})"),
            AstKind::Binary { op, lhs, rhs, .. } => write!(f, "({} {lhs} {rhs})", op.symbol()),
            AstKind::If {
                cond,
                then_branch,
                else_branch,
            } => {
                write!(f, "(if {cond} {then_branch} {else_branch})")
            }
        }
    }
}

impl fmt::Display for StatementAst {
    /// S-expression form: `POL.alert += 1` prints as `(+= (. POL alert) 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
        };
        write!(f, "({op} {} {})", self.lhs, self.rhs)
    }
}

impl ExprError {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> ExprError {
        ExprError {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> ExprError {
        self.help = Some(help.into());
        self
    }
}

/// Parses an expression.
///
/// On failure, returns every lexical error, or else the syntax errors found
/// (the parser stops at the first error it cannot step over).
pub fn parse(src: &str) -> Result<Ast, Vec<ExprError>> {
    let mut parser = Parser::new(src)?;
    let result = parser.expr_bp(0).and_then(|ast| {
        parser.expect_end()?;
        Ok(ast)
    });
    parser.finish(result)
}

/// Parses a statement: `lvalue ('=' | '+=' | '-=') expr`.
///
/// The left-hand side is parsed as one atom (`POL.x`, `tension(A, B)`, ...);
/// whether it may be assigned to is decided by the checker.
pub fn parse_statement(src: &str) -> Result<StatementAst, Vec<ExprError>> {
    let mut parser = Parser::new(src)?;
    let result = parser.statement();
    parser.finish(result)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Num(f64),
    Ident,
    If,
    Then,
    Else,
    And,
    Or,
    Not,
    True,
    False,
    Inf,
    Time,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
    Dot,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Assign,
    PlusAssign,
    MinusAssign,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    span: Span,
}

fn keyword(word: &str) -> Tok {
    match word {
        "if" => Tok::If,
        "then" => Tok::Then,
        "else" => Tok::Else,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "true" => Tok::True,
        "false" => Tok::False,
        "inf" => Tok::Inf,
        "t" => Tok::Time,
        _ => Tok::Ident,
    }
}

/// Splits `src` into tokens (ending with [`Tok::Eof`]) and lexical errors.
fn lex(src: &str) -> (Vec<Token>, Vec<ExprError>) {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        if !b.is_ascii() {
            // Step over one whole character so that every span stays on a
            // character boundary.
            let Some(ch) = src[i..].chars().next() else {
                break;
            };
            i += ch.len_utf8();
            if !ch.is_whitespace() {
                errors.push(ExprError::new(
                    start..i,
                    format!("unexpected character `{ch}`"),
                ));
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b.is_ascii_digit() {
            i = lex_number(src, start, &mut tokens, &mut errors);
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                kind: keyword(&src[start..i]),
                span: start..i,
            });
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let two = match (b, next) {
            (b'=', Some(b'=')) => Some(Tok::EqEq),
            (b'!', Some(b'=')) => Some(Tok::NotEq),
            (b'<', Some(b'=')) => Some(Tok::Le),
            (b'>', Some(b'=')) => Some(Tok::Ge),
            (b'+', Some(b'=')) => Some(Tok::PlusAssign),
            (b'-', Some(b'=')) => Some(Tok::MinusAssign),
            _ => None,
        };
        if let Some(kind) = two {
            i += 2;
            tokens.push(Token {
                kind,
                span: start..i,
            });
            continue;
        }
        let one = match b {
            b'+' => Some(Tok::Plus),
            b'-' => Some(Tok::Minus),
            b'*' => Some(Tok::Star),
            b'/' => Some(Tok::Slash),
            b'^' => Some(Tok::Caret),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            b'.' => Some(Tok::Dot),
            b'<' => Some(Tok::Lt),
            b'>' => Some(Tok::Gt),
            b'=' => Some(Tok::Assign),
            _ => None,
        };
        if let Some(kind) = one {
            i += 1;
            tokens.push(Token {
                kind,
                span: start..i,
            });
            continue;
        }
        // An ASCII character that is not part of the language.
        let (len, help) = match (b, next) {
            (b'&', Some(b'&')) => (2, Some("use `and`")),
            (b'|', Some(b'|')) => (2, Some("use `or`")),
            (b'&', _) => (1, Some("use `and`")),
            (b'|', _) => (1, Some("use `or`")),
            (b'!', _) => (1, Some("use `not`")),
            _ => (1, None),
        };
        i += len;
        let error = ExprError::new(
            start..i,
            format!("unexpected character `{}`", &src[start..i]),
        );
        errors.push(match help {
            Some(help) => error.with_help(help),
            None => error,
        });
    }
    tokens.push(Token {
        kind: Tok::Eof,
        span: src.len()..src.len(),
    });
    (tokens, errors)
}

/// Lexes the number starting at `start` (an ASCII digit); returns where it ends.
fn lex_number(
    src: &str,
    start: usize,
    tokens: &mut Vec<Token>,
    errors: &mut Vec<ExprError>,
) -> usize {
    let bytes = src.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    if bytes.get(i) == Some(&b'.') {
        if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1);
        } else {
            errors.push(ExprError::new(
                start..i + 1,
                "expected a digit after the decimal point",
            ));
            return i + 1;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits(j);
        } else {
            errors.push(ExprError::new(start..j, "expected a digit in the exponent"));
            return j;
        }
    }
    match src[start..i].parse::<f64>() {
        Ok(v) if v.is_finite() => tokens.push(Token {
            kind: Tok::Num(v),
            span: start..i,
        }),
        _ => errors.push(
            ExprError::new(start..i, "number is too large")
                .with_help("use `inf` for an infinite value"),
        ),
    }
    i
}

/// Binding powers of the infix operators: `(left, right)`. Left-associative
/// operators have `left < right`; `^` is right-associative.
fn infix_binding_power(op: BinaryOp) -> (u8, u8) {
    match op {
        BinaryOp::Or => (1, 2),
        BinaryOp::And => (3, 4),
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            (7, 8)
        }
        BinaryOp::Add | BinaryOp::Sub => (9, 10),
        BinaryOp::Mul | BinaryOp::Div => (11, 12),
        BinaryOp::Pow => (16, 15),
    }
}

/// Right binding power of prefix `not`: its operand may contain comparisons.
const NOT_BP: u8 = 5;
/// Right binding power of prefix `-`: tighter than `*`, looser than `^`
/// (so `-2^2` is `-(2^2)`).
const NEG_BP: u8 = 13;
/// Binding power that admits only an atom (used for a statement's left side).
const ATOM_BP: u8 = 100;

fn binary_op(kind: Tok) -> Option<BinaryOp> {
    Some(match kind {
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::Caret => BinaryOp::Pow,
        Tok::EqEq => BinaryOp::Eq,
        Tok::NotEq => BinaryOp::Ne,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::And => BinaryOp::And,
        Tok::Or => BinaryOp::Or,
        _ => return None,
    })
}

type PResult<T> = Result<T, ExprError>;

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current recursion depth of `expr_bp`.
    nesting: u32,
    /// Errors the parser stepped over (it still returns a tree).
    errors: Vec<ExprError>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Parser<'a>, Vec<ExprError>> {
        if src.len() > MAX_LEN {
            return Err(vec![ExprError::new(
                0..src.len(),
                format!("expression is too long ({} bytes)", src.len()),
            )
            .with_help(format!(
                "an expression may be at most {MAX_LEN} bytes long"
            ))]);
        }
        if src.trim().is_empty() {
            return Err(vec![ExprError::new(0..src.len(), "empty expression")]);
        }
        let (tokens, errors) = lex(src);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Parser {
            src,
            tokens,
            pos: 0,
            nesting: 0,
            errors: Vec::new(),
        })
    }

    fn finish<T>(mut self, result: PResult<T>) -> Result<T, Vec<ExprError>> {
        match result {
            Ok(value) if self.errors.is_empty() => Ok(value),
            Ok(_) => Err(self.errors),
            Err(error) => {
                self.errors.push(error);
                Err(self.errors)
            }
        }
    }

    fn peek(&self) -> &Token {
        // The token list always ends with `Eof`, and `bump` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    /// `` `x` `` for a token, or `end of input`.
    fn describe(&self, token: &Token) -> String {
        match token.kind {
            Tok::Eof => "end of input".to_string(),
            _ => format!("`{}`", &self.src[token.span.clone()]),
        }
    }

    fn node(&self, kind: AstKind, span: Span) -> PResult<Ast> {
        let ast = Ast::new(kind, span);
        if ast.height > MAX_HEIGHT {
            return Err(
                ExprError::new(ast.span, "expression nested too deeply").with_help(format!(
                    "an expression may be at most {MAX_HEIGHT} operators deep; split it up"
                )),
            );
        }
        Ok(ast)
    }

    fn expect_end(&mut self) -> PResult<()> {
        let token = self.peek().clone();
        match token.kind {
            Tok::Eof => Ok(()),
            Tok::RParen => Err(ExprError::new(token.span, "unmatched `)`")),
            Tok::Assign => Err(ExprError::new(token.span, "unexpected `=`")
                .with_help("use `==` to compare; assignments are only allowed in effects")),
            _ => Err(ExprError::new(
                token.span.clone(),
                format!(
                    "expected an operator or the end, found {}",
                    self.describe(&token)
                ),
            )),
        }
    }

    fn statement(&mut self) -> PResult<StatementAst> {
        let lhs = self.expr_bp(ATOM_BP)?;
        let token = self.bump();
        let op = match token.kind {
            Tok::Assign => AssignOp::Set,
            Tok::PlusAssign => AssignOp::Add,
            Tok::MinusAssign => AssignOp::Sub,
            _ => {
                return Err(ExprError::new(
                    token.span.clone(),
                    format!(
                        "expected `=`, `+=` or `-=`, found {}",
                        self.describe(&token)
                    ),
                ))
            }
        };
        let rhs = self.expr_bp(0)?;
        self.expect_end()?;
        Ok(StatementAst {
            lhs,
            op,
            op_span: token.span,
            rhs,
        })
    }

    /// Parses an expression whose operators all bind at least as tightly as `min_bp`.
    fn expr_bp(&mut self, min_bp: u8) -> PResult<Ast> {
        self.nesting += 1;
        let result = if self.nesting > MAX_NESTING {
            Err(
                ExprError::new(self.peek().span.clone(), "expression nested too deeply").with_help(
                    format!("an expression may nest at most {MAX_NESTING} levels deep"),
                ),
            )
        } else {
            self.expr_bp_inner(min_bp)
        };
        self.nesting -= 1;
        result
    }

    fn expr_bp_inner(&mut self, min_bp: u8) -> PResult<Ast> {
        let mut lhs = self.prefix(min_bp)?;
        let mut after_comparison = false;
        loop {
            let token = self.peek().clone();
            let Some(op) = binary_op(token.kind) else {
                break;
            };
            let (l_bp, r_bp) = infix_binding_power(op);
            if l_bp < min_bp {
                break;
            }
            self.bump();
            if op.is_comparison() && after_comparison {
                self.errors.push(
                    ExprError::new(token.span.clone(), "comparisons do not chain; use `and`")
                        .with_help("write `a < b and b < c` instead of `a < b < c`"),
                );
            }
            after_comparison = op.is_comparison();
            let rhs = self.expr_bp(r_bp)?;
            let span = lhs.span.start..rhs.span.end;
            lhs = self.node(
                AstKind::Binary {
                    op,
                    op_span: token.span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            )?;
        }
        Ok(lhs)
    }

    /// Parses an atom or a prefix construct (`-`, `not`, `if`, parentheses).
    fn prefix(&mut self, min_bp: u8) -> PResult<Ast> {
        let token = self.bump();
        let start = token.span.start;
        match token.kind {
            Tok::Num(v) => Ok(Ast::new(AstKind::Num(v), token.span)),
            Tok::True => Ok(Ast::new(AstKind::Bool(true), token.span)),
            Tok::False => Ok(Ast::new(AstKind::Bool(false), token.span)),
            Tok::Inf => Ok(Ast::new(AstKind::Inf, token.span)),
            Tok::Time => Ok(Ast::new(AstKind::Time, token.span)),
            Tok::Ident => self.name(token),
            Tok::LParen => {
                let inner = self.expr_bp(0)?;
                let close = self.peek().clone();
                match close.kind {
                    Tok::RParen => {
                        self.bump();
                        Ok(inner)
                    }
                    Tok::Eof => Err(ExprError::new(token.span, "unclosed `(`")
                        .with_help("add a `)` to close it")),
                    _ => Err(ExprError::new(
                        close.span.clone(),
                        format!("expected `)`, found {}", self.describe(&close)),
                    )),
                }
            }
            Tok::Minus => {
                let operand = self.expr_bp(NEG_BP)?;
                let span = start..operand.span.end;
                self.node(
                    AstKind::Unary {
                        op: UnaryOp::Neg,
                        operand: Box::new(operand),
                    },
                    span,
                )
            }
            Tok::Not => {
                if min_bp > NOT_BP {
                    self.errors.push(
                        ExprError::new(token.span.clone(), "`not` must be parenthesized here")
                            .with_help("write `(not ...)`"),
                    );
                }
                let operand = self.expr_bp(NOT_BP)?;
                let span = start..operand.span.end;
                self.node(
                    AstKind::Unary {
                        op: UnaryOp::Not,
                        operand: Box::new(operand),
                    },
                    span,
                )
            }
            Tok::If => {
                if min_bp > 0 {
                    self.errors.push(
                        ExprError::new(token.span.clone(), "`if` must be parenthesized here")
                            .with_help("write `(if ... then ... else ...)`"),
                    );
                }
                let cond = self.expr_bp(0)?;
                self.expect(Tok::Then, "`then`")?;
                let then_branch = self.expr_bp(0)?;
                self.expect(Tok::Else, "`else`")?;
                let else_branch = self.expr_bp(0)?;
                let span = start..else_branch.span.end;
                self.node(
                    AstKind::If {
                        cond: Box::new(cond),
                        then_branch: Box::new(then_branch),
                        else_branch: Box::new(else_branch),
                    },
                    span,
                )
            }
            Tok::Eof => Err(ExprError::new(
                token.span,
                "expected an expression, found end of input",
            )),
            _ => {
                let error = ExprError::new(
                    token.span.clone(),
                    format!("expected an expression, found {}", self.describe(&token)),
                );
                Err(match token.kind {
                    Tok::Assign => error.with_help("use `==` to compare"),
                    _ => error,
                })
            }
        }
    }

    fn expect(&mut self, kind: Tok, what: &str) -> PResult<Token> {
        let token = self.peek().clone();
        if token.kind == kind {
            self.bump();
            return Ok(token);
        }
        Err(ExprError::new(
            token.span.clone(),
            format!("expected {what}, found {}", self.describe(&token)),
        ))
    }

    /// A name: a parameter, `ACTOR.var` or a call `name(args)`.
    fn name(&mut self, token: Token) -> PResult<Ast> {
        let name = self.src[token.span.clone()].to_string();
        match self.peek().kind {
            Tok::Dot => {
                self.bump();
                let field = self.peek().clone();
                if field.kind != Tok::Ident {
                    return Err(ExprError::new(
                        field.span.clone(),
                        format!(
                            "expected a state variable name after `.`, found {}",
                            self.describe(&field)
                        ),
                    ));
                }
                self.bump();
                let kind = AstKind::Field {
                    actor: name,
                    actor_span: token.span.clone(),
                    field: self.src[field.span.clone()].to_string(),
                    field_span: field.span.clone(),
                };
                Ok(Ast::new(kind, token.span.start..field.span.end))
            }
            Tok::LParen => {
                let open = self.bump();
                let mut args = Vec::new();
                let mut named: Vec<NamedArg> = Vec::new();
                if self.peek().kind != Tok::RParen {
                    loop {
                        let is_named = self.peek().kind == Tok::Ident
                            && self.tokens.get(self.pos + 1).map(|t| &t.kind) == Some(&Tok::Assign);
                        if is_named {
                            let name_tok = self.bump();
                            self.bump();
                            named.push(NamedArg {
                                name: self.src[name_tok.span.clone()].to_string(),
                                name_span: name_tok.span,
                                value: self.expr_bp(0)?,
                            });
                        } else {
                            let arg = self.expr_bp(0)?;
                            if let Some(n) = named.last() {
                                self.errors.push(
                                    ExprError::new(
                                        arg.span.clone(),
                                        "a positional argument after a named one",
                                    )
                                    .with_help(format!("put it before `{} = …`", n.name)),
                                );
                            }
                            args.push(arg);
                        }
                        let next = self.peek().clone();
                        match next.kind {
                            Tok::Comma => {
                                self.bump();
                            }
                            Tok::RParen => break,
                            Tok::Eof => {
                                return Err(ExprError::new(open.span, "unclosed `(`")
                                    .with_help("add a `)` to close the argument list"))
                            }
                            _ => {
                                return Err(ExprError::new(
                                    next.span.clone(),
                                    format!("expected `,` or `)`, found {}", self.describe(&next)),
                                ))
                            }
                        }
                    }
                }
                let close = self.bump();
                let span = token.span.start..close.span.end;
                self.node(
                    AstKind::Call {
                        name,
                        name_span: token.span,
                        args,
                        named,
                    },
                    span,
                )
            }
            _ => Ok(Ast::new(AstKind::Name(name), token.span)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn sexp(src: &str) -> String {
        match parse(src) {
            Ok(ast) => ast.to_string(),
            Err(errors) => panic!("{src:?} did not parse: {errors:?}"),
        }
    }

    /// The errors as `start..end: message [help]` lines.
    fn errors(src: &str) -> String {
        match parse(src) {
            Ok(ast) => panic!("{src:?} parsed as {ast}"),
            Err(errors) => render(&errors),
        }
    }

    pub(crate) fn render(errors: &[ExprError]) -> String {
        errors
            .iter()
            .map(|e| {
                let help = e
                    .help
                    .as_deref()
                    .map(|h| format!(" [{h}]"))
                    .unwrap_or_default();
                format!("{}..{}: {}{help}", e.span.start, e.span.end, e.message)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn precedence() {
        assert_eq!(sexp("1 + 2 * x"), "(+ 1 (* 2 x))");
        assert_eq!(sexp("(1 + 2) * x"), "(* (+ 1 2) x)");
        assert_eq!(sexp("a or b and c"), "(or a (and b c))");
        assert_eq!(sexp("not a == b"), "(not (== a b))");
        assert_eq!(sexp("a + 1 < b * 2 and c"), "(and (< (+ a 1) (* b 2)) c)");
        assert_eq!(sexp("not a and not b or c"), "(or (and (not a) (not b)) c)");
    }

    #[test]
    fn associativity() {
        assert_eq!(sexp("a - b - c"), "(- (- a b) c)");
        assert_eq!(sexp("a / b * c"), "(* (/ a b) c)");
        assert_eq!(sexp("a ^ b ^ c"), "(^ a (^ b c))");
        assert_eq!(sexp("a or b or c"), "(or (or a b) c)");
    }

    #[test]
    fn unary_minus_and_power() {
        assert_eq!(sexp("-x^2"), "(neg (^ x 2))");
        assert_eq!(sexp("-2^2"), "(neg (^ 2 2))");
        assert_eq!(sexp("2^-x"), "(^ 2 (neg x))");
        assert_eq!(sexp("2^-3*4"), "(* (^ 2 (neg 3)) 4)");
        assert_eq!(sexp("--x"), "(neg (neg x))");
        assert_eq!(sexp("a * -b"), "(* a (neg b))");
        assert_eq!(sexp("-a * b"), "(* (neg a) b)");
        assert_eq!(sexp("a - -b"), "(- a (neg b))");
    }

    #[test]
    fn if_then_else() {
        assert_eq!(sexp("if a then b else c"), "(if a b c)");
        assert_eq!(
            sexp("if a > 1 then b + 1 else c * 2"),
            "(if (> a 1) (+ b 1) (* c 2))"
        );
        assert_eq!(
            sexp("if a then if b then 1 else 2 else 3"),
            "(if a (if b 1 2) 3)"
        );
        assert_eq!(sexp("1 + (if a then 2 else 3)"), "(+ 1 (if a 2 3))");
        assert_eq!(
            sexp("if a then 1 else if b then 2 else 3"),
            "(if a 1 (if b 2 3))"
        );
        assert_eq!(sexp("if a then 1 else 2 + 3"), "(if a 1 (+ 2 3))");
    }

    #[test]
    fn calls_and_fields() {
        assert_eq!(sexp("POL.border_open"), "(. POL border_open)");
        assert_eq!(sexp("tension(POL, BLR)"), "(call tension POL BLR)");
        assert_eq!(sexp("f()"), "(call f)");
        assert_eq!(
            sexp("max(a, b + 1, source.x)"),
            "(call max a (+ b 1) (. source x))"
        );
        assert_eq!(
            sexp("clamp(-x, 0, 1) * 2"),
            "(* (call clamp (neg x) 0 1) 2)"
        );
        assert_eq!(sexp("POL . alert"), "(. POL alert)");
        assert_eq!(
            sexp("count(incident, 7 * w, to = POL, from = BLR)"),
            "(call count incident (* 7 w) (= to POL) (= from BLR))"
        );
        assert_eq!(
            sexp("since(protest, from = BLR)"),
            "(call since protest (= from BLR))"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(sexp("1"), "1");
        assert_eq!(sexp("0.5"), "0.5");
        assert_eq!(sexp("1e-3"), "0.001");
        assert_eq!(sexp("2.5E+2"), "250");
        assert_eq!(sexp("true or false"), "(or true false)");
        assert_eq!(sexp("inf - t"), "(- inf t)");
        assert_eq!(sexp(" \t x_1 \n"), "x_1");
    }

    #[test]
    fn spans_are_byte_ranges() {
        assert_eq!(errors("é_x"), "0..2: unexpected character `é`");
        let ast = parse("a + POL.x").expect("valid expression");
        assert_eq!(ast.span, 0..9);
        let AstKind::Binary { rhs, op_span, .. } = ast.kind else {
            panic!("not a binary node")
        };
        assert_eq!(op_span, 2..3);
        assert_eq!(rhs.span, 4..9);
    }

    #[test]
    fn statements() {
        let show = |src: &str| match parse_statement(src) {
            Ok(s) => s.to_string(),
            Err(e) => render(&e),
        };
        assert_eq!(show("POL.alert += 1"), "(+= (. POL alert) 1)");
        assert_eq!(
            show("POL.open = not POL.open"),
            "(= (. POL open) (not (. POL open)))"
        );
        assert_eq!(
            show("tension(A, B) -= 0.5 * x"),
            "(-= (call tension A B) (* 0.5 x))"
        );
        assert_eq!(
            show("POL.alert + 1 = 2"),
            "10..11: expected `=`, `+=` or `-=`, found `+`"
        );
        assert_eq!(
            show("POL.alert == 2"),
            "10..12: expected `=`, `+=` or `-=`, found `==`"
        );
        assert_eq!(
            show("POL.alert = 2 = 3"),
            "14..15: unexpected `=` [use `==` to compare; assignments are only allowed in effects]"
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(errors(""), "0..0: empty expression");
        assert_eq!(errors("   "), "0..3: empty expression");
        assert_eq!(
            errors("a < b < c"),
            "6..7: comparisons do not chain; use `and` [write `a < b and b < c` instead of `a < b < c`]"
        );
        assert_eq!(
            errors("1 +"),
            "3..3: expected an expression, found end of input"
        );
        assert_eq!(
            errors("(1 + 2"),
            "0..1: unclosed `(` [add a `)` to close it]"
        );
        assert_eq!(errors("1 + 2)"), "5..6: unmatched `)`");
        assert_eq!(
            errors("1 2"),
            "2..3: expected an operator or the end, found `2`"
        );
        assert_eq!(
            errors("x = 1"),
            "2..3: unexpected `=` [use `==` to compare; assignments are only allowed in effects]"
        );
        assert_eq!(
            errors("a && b"),
            "2..4: unexpected character `&&` [use `and`]"
        );
        assert_eq!(errors("!a"), "0..1: unexpected character `!` [use `not`]");
        assert_eq!(
            errors("1. + 2"),
            "0..2: expected a digit after the decimal point"
        );
        assert_eq!(errors("1e+ 2"), "0..3: expected a digit in the exponent");
        assert_eq!(
            errors("1e999"),
            "0..5: number is too large [use `inf` for an infinite value]"
        );
        assert_eq!(
            errors("f(1, 2"),
            "1..2: unclosed `(` [add a `)` to close the argument list]"
        );
        assert_eq!(errors("f(1 2)"), "4..5: expected `,` or `)`, found `2`");
        assert_eq!(
            errors("POL."),
            "4..4: expected a state variable name after `.`, found end of input"
        );
        assert_eq!(
            errors("if a then b"),
            "11..11: expected `else`, found end of input"
        );
        assert_eq!(errors("if a b else c"), "5..6: expected `then`, found `b`");
        assert_eq!(
            errors("1 + if a then 1 else 2"),
            "4..6: `if` must be parenthesized here [write `(if ... then ... else ...)`]"
        );
        assert_eq!(
            errors("a == not b"),
            "5..8: `not` must be parenthesized here [write `(not ...)`]"
        );
        assert_eq!(errors(".5"), "0..1: expected an expression, found `.`");
        assert_eq!(
            errors("a ¤ b ü"),
            "2..4: unexpected character `¤`\n7..9: unexpected character `ü`"
        );
    }

    #[test]
    fn several_errors_in_one_pass() {
        assert_eq!(
            errors("a < b < c or 1 == not d"),
            "6..7: comparisons do not chain; use `and` [write `a < b and b < c` instead of `a < b < c`]\n\
             18..21: `not` must be parenthesized here [write `(not ...)`]"
        );
    }

    #[test]
    fn nesting_is_capped() {
        let ok = format!("{}x{}", "(".repeat(60), ")".repeat(60));
        assert_eq!(sexp(&ok), "x");
        let deep = format!("{}x{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            errors(&deep),
            "64..65: expression nested too deeply [an expression may nest at most 64 levels deep]"
        );
        let minus = format!("{}x", "-".repeat(1000));
        assert!(errors(&minus).contains("expression nested too deeply"));
        let power = ["x"; 1000].join("^");
        assert!(errors(&power).contains("expression nested too deeply"));
        let long_sum = ["1"; 300].join("+");
        assert!(errors(&long_sum).contains("at most 256 operators deep"));
        let sum_ok = ["1"; 200].join("+");
        assert!(parse(&sum_ok).is_ok());
    }

    #[test]
    fn length_is_capped() {
        let long = "1+".repeat(6000) + "1";
        assert_eq!(
            errors(&long),
            "0..12001: expression is too long (12001 bytes) [an expression may be at most 10000 bytes long]"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_strings_never_panic(src in "\\PC{0,60}") {
            let _ = parse(&src);
            let _ = parse_statement(&src);
        }

        #[test]
        fn token_soup_never_panics(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "(", ")", "+", "-", "*", "/", "^", "==", "<", "and", "or", "not", "if",
                    "then", "else", "x", "POL", ".", "f", ",", "1", "2.5", "t", "=", "+=", "é",
                ]),
                0..40,
            )
        ) {
            let src = words.join(" ");
            if let Err(errors) = parse(&src) {
                for e in errors {
                    proptest::prop_assert!(src.is_char_boundary(e.span.start));
                    proptest::prop_assert!(src.is_char_boundary(e.span.end));
                    proptest::prop_assert!(e.span.start <= e.span.end && e.span.end <= src.len());
                }
            }
            let _ = parse_statement(&src);
        }

    }
}
