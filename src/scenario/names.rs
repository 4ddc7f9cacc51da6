//! What a name in a scenario may be: identifier syntax and the reserved
//! words of the expression language, shared by the compiler and templates.

/// Words that cannot be parameter or actor names.
pub(super) const RESERVED: &[&str] = &[
    "if", "then", "else", "and", "or", "not", "true", "false", "inf", "t", "source", "target",
];

/// Whether `s` is an identifier: a letter or `_`, then letters, digits or `_`.
pub(super) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
