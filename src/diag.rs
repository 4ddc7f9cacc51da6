//! Diagnostics as plain data: a message attached to a byte range of a source file.
//!
//! Line and column are computed only when a diagnostic is rendered, so every
//! stage of loading (TOML, scenario checks, expressions) can report errors as
//! byte spans and one function turns them into `file:line:col` text.

use std::fmt::Write as _;
use std::ops::Range;

/// One problem found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source file that the problem is about.
    pub span: Range<usize>,
    /// What is wrong, lower case, no final full stop.
    pub message: String,
    /// What to do about it, or the nearest valid name, if known.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without help text.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
            help: None,
        }
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a "did you mean" help if a candidate is close enough to `name`.
    pub fn with_suggestion<'a>(
        self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        match suggest(name, candidates) {
            Some(best) => self.with_help(format!("did you mean `{best}`?")),
            None => self,
        }
    }
}

/// The candidate nearest to `name` by edit distance, if it is close enough to be
/// a plausible typo (distance at most a third of the longer name, at least 1).
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// One-based line and column (in characters) of a byte offset in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Renders diagnostics as `file:line:col: error: message`, followed by the
/// source line, a caret marker under the span and the help text.
pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    render_as("error", path, source, diagnostics)
}

/// Renders diagnostics as [`render`] does, as warnings
/// (`file:line:col: warning: message`).
pub fn render_warnings(path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    render_as("warning", path, source, diagnostics)
}

/// Renders diagnostics as [`render`] does, with `severity` (`error`,
/// `warning`) after the location.
pub fn render_as(severity: &str, path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (line, col) = line_col(source, d.span.start);
        let _ = writeln!(out, "{path}:{line}:{col}: {severity}: {}", d.message);
        let line_start = source[..floor_char_boundary(source, d.span.start.min(source.len()))]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |i| line_start + i);
        let text = &source[line_start..line_end];
        let end = floor_char_boundary(source, d.span.end.clamp(d.span.start, line_end));
        let width = source[floor_char_boundary(source, d.span.start.min(line_end))..end]
            .chars()
            .count()
            .max(1);
        let _ = writeln!(out, "  {line:>4} | {text}");
        let _ = writeln!(out, "       | {}{}", " ".repeat(col - 1), "^".repeat(width));
        if let Some(help) = &d.help {
            let _ = writeln!(out, "       = help: {help}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
    }

    #[test]
    fn render_points_at_the_span() {
        let src = "x = 1\nhorizn = 60\n";
        let d = Diagnostic::new(6..12, "unknown field `horizn`")
            .with_suggestion("horizn", ["name", "horizon"]);
        assert_eq!(
            render("s.toml", src, &[d]),
            "s.toml:2:1: error: unknown field `horizn`\n     2 | horizn = 60\n       | ^^^^^^\n       = help: did you mean `horizon`?\n"
        );
    }

    #[test]
    fn suggestions_need_to_be_close() {
        assert_eq!(suggest("POLL", ["POL", "BLR"]), Some("POL"));
        assert_eq!(suggest("xyz", ["POL", "BLR"]), None);
    }
}
