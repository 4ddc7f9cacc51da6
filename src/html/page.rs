//! The page itself: text escaped for HTML, tables, and the document around
//! the sections (a header, a table of contents, the sections, and the one
//! style sheet, inlined). Nothing here names a URL: the file is read with no
//! network.

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element content and
/// attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text in which each pair of backticks marks code: `` `run` ``
/// becomes `<code>run</code>` (an unpaired backtick stays as it is).
pub fn inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        return escape(text);
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// A paragraph of text, escaped, with `` `code` `` marked ([`inline`]).
pub fn para(text: &str) -> String {
    format!("<p>{}</p>\n", inline(text))
}

/// A note (smaller, muted), escaped, with `` `code` `` marked.
pub fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>\n", inline(text))
}

/// A table of escaped cells under `header`; `left[i]` says whether column
/// `i` is text (left aligned) rather than numbers (right aligned, tabular
/// figures). A missing `left` entry means numbers.
pub fn table(header: &[String], rows: &[Vec<String>], left: &[bool]) -> String {
    let class = |i: usize| {
        if left.get(i).copied().unwrap_or(false) {
            "t"
        } else {
            "n"
        }
    };
    let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let _ = write!(out, "<th class=\"{}\">{}</th>", class(i), escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(out, "<td class=\"{}\">{}</td>", class(i), escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A two-column table of names and values (both escaped).
pub fn key_values(pairs: &[(String, String)]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table class=\"kv\">\n<tbody>\n");
    for (k, v) in pairs {
        let _ = writeln!(
            out,
            "<tr><th class=\"t\">{}</th><td class=\"t\">{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A bulleted list of items, escaped, with `` `code` `` marked.
pub fn list(items: &[String]) -> String {
    let mut out = String::from("<ul>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", inline(item));
    }
    out.push_str("</ul>\n");
    out
}

/// Preformatted escaped text (a command line).
pub fn code_block(text: &str) -> String {
    format!("<pre><code>{}</code></pre>\n", escape(text))
}

/// One section of the page: an anchor id, a heading and its HTML body.
#[derive(Debug, Clone)]
pub struct Section {
    /// The anchor the table of contents links to (letters, digits, `-`).
    pub id: String,
    /// The heading (plain text; escaped when rendered).
    pub title: String,
    /// The body, already HTML.
    pub body: String,
}

/// The style sheet: a readable column of text, aligned tables with tabular
/// figures, charts scaled to the column.
const STYLE: &str = "\
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d232b;
  font: 16px/1.5 \"DejaVu Sans\", \"Helvetica Neue\", Arial, sans-serif; }
header.top { background: #1f3b57; color: #fff; padding: 28px 40px 22px; }
header.top h1 { margin: 0 0 6px; font-size: 28px; font-weight: 600; }
header.top p { margin: 0; color: #d5e2ee; }
main { max-width: 1280px; margin: 0 auto; padding: 8px 40px 48px; }
nav.toc { background: #fff; border: 1px solid #d9dee5; border-radius: 6px;
  padding: 12px 20px; margin: 24px 0; }
nav.toc h2 { font-size: 15px; margin: 0 0 6px; text-transform: uppercase;
  letter-spacing: .05em; color: #56616e; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 22px; columns: 2; }
nav.toc a { color: #1f5f99; text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { background: #fff; border: 1px solid #d9dee5; border-radius: 6px;
  padding: 8px 24px 18px; margin: 0 0 22px; }
h2 { font-size: 21px; font-weight: 600; margin: 14px 0 10px;
  padding-bottom: 6px; border-bottom: 1px solid #e4e8ed; }
h3 { font-size: 17px; font-weight: 600; margin: 18px 0 6px; }
p { margin: 8px 0; max-width: 80ch; }
p.note { color: #56616e; font-size: 14px; }
p.description { white-space: pre-wrap; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e8ed; vertical-align: top; }
thead th { border-bottom: 2px solid #b8c1cc; background: #f0f3f6; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
th.t, td.t { text-align: left; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { background: none; font-weight: 600; white-space: nowrap; }
table.kv td { word-break: break-all; }
pre { background: #f0f3f6; border: 1px solid #d9dee5; border-radius: 4px;
  padding: 10px 12px; overflow-x: auto; font-size: 13px; white-space: pre-wrap; word-break: break-all; }
code { font-family: \"DejaVu Sans Mono\", Menlo, Consolas, monospace; font-size: 0.9em; }
p code, li code { background: #eef1f4; border-radius: 3px; padding: 0 3px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #e4e8ed; border-radius: 4px; padding: 6px; background: #fff; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 13px; color: #56616e; padding: 4px 4px 0; }
svg.timeline { display: block; width: 100%; height: auto; }
details summary { cursor: pointer; color: #1f5f99; margin: 6px 0; }
ul { margin: 6px 0 10px; padding-left: 22px; }
footer { color: #56616e; font-size: 13px; text-align: center; padding: 0 0 28px; }
@media print { body { background: #fff; } section, nav.toc { border: 0; } }
";

/// The whole document: `title` and `subtitle` in the header, a table of
/// contents of the sections, the sections in order, and `footer`.
pub fn document(title: &str, subtitle: &str, sections: &[Section], footer: &str) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = write!(out, "<style>\n{STYLE}</style>\n</head>\n<body>\n");
    let _ = write!(
        out,
        "<header class=\"top\"><h1>{}</h1><p>{}</p></header>\n<main>\n",
        escape(title),
        escape(subtitle)
    );
    out.push_str("<nav class=\"toc\" id=\"contents\"><h2>Contents</h2><ol>\n");
    for s in sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&s.id),
            escape(&s.title)
        );
    }
    out.push_str("</ol></nav>\n");
    for s in sections {
        let _ = write!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n",
            escape(&s.id),
            escape(&s.title),
            s.body
        );
    }
    let _ = write!(
        out,
        "</main>\n<footer>{}</footer>\n</body>\n</html>\n",
        escape(footer)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attribute_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x & 'y'")</script>"#),
            "&lt;script&gt;alert(&quot;x &amp; &#39;y&#39;&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("plain day 24.1"), "plain day 24.1");
    }

    #[test]
    fn backtick_pairs_become_code_and_stay_escaped() {
        assert_eq!(
            inline("a `run` of `<x>` & more"),
            "a <code>run</code> of <code>&lt;x&gt;</code> &amp; more"
        );
        assert_eq!(inline("one ` alone"), "one ` alone");
    }

    #[test]
    fn a_table_escapes_its_cells_and_aligns_by_column() {
        let t = table(
            &["name".into(), "value".into()],
            &[vec!["a<b".into(), "1.5".into()]],
            &[true],
        );
        assert!(t.contains("<th class=\"t\">name</th><th class=\"n\">value</th>"));
        assert!(t.contains("<td class=\"t\">a&lt;b</td><td class=\"n\">1.5</td>"));
    }
}
