//! Text for people: the one renderer of aligned plain-text tables that every
//! command prints, readable numbers for them, and CSV fields quoted as RFC
//! 4180 asks.

use super::format::push_padded;

/// A CSV field: quoted (with doubled quotes) if it holds a comma, a quote or
/// a line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number for a readable table: 4 significant decimals, `-` for NaN.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// Renders rows under a header as aligned plain text: the first column left
/// aligned, the others right aligned.
pub fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let left: Vec<bool> = (0..header.len()).map(|i| i == 0).collect();
    render_table_aligned(header, rows, &left)
}

/// Renders rows under a header as aligned plain text; `left[i]` says whether
/// column `i` is left aligned (otherwise right aligned).
pub fn render_table_aligned(header: &[&str], rows: &[Vec<String>], left: &[bool]) -> String {
    let n = header.len();
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            push_padded(
                &mut l,
                cell,
                widths[i],
                left.get(i).copied().unwrap_or(false),
            );
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells);
    }
    out
}

/// Appends a `wrote PATH` line for each file written.
pub fn push_written(out: &mut String, written: &[std::path::PathBuf]) {
    for path in written {
        out.push_str(&format!("wrote {}\n", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a -> b"), "a -> b");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn tables_align_columns_and_trim_line_ends() {
        let rows = vec![
            vec!["a".to_string(), "1".to_string(), "x".to_string()],
            vec!["bbb".to_string(), "22".to_string(), "".to_string()],
        ];
        assert_eq!(
            render_table_aligned(&["k", "v", "w"], &rows, &[true, false, true]),
            "k     v  w\na     1  x\nbbb  22\n"
        );
    }
}
