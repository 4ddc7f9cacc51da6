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

/// Decimals for numbers printed together (one row of a table), so they
/// share one fixed format (`0.003000` next to `0.000750`, never `7.500e-4`):
/// 4 when the largest magnitude is between 0.01 and 1 (shares and their
/// differences), otherwise enough to give the largest magnitude 4
/// significant digits (at most 8 decimals, none from 1000 up).
pub fn shared_decimals(values: &[f64]) -> usize {
    let max = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 || (1e-2..=1.0).contains(&max) {
        return 4;
    }
    (3 - max.log10().floor() as i64).clamp(0, 8) as usize
}

/// `x` with `d` decimals; `-` for NaN, `inf`/`-inf`, and no `-0.000`.
pub fn fixed(x: f64, d: usize) -> String {
    if x.is_nan() {
        return "-".into();
    }
    if x.is_infinite() {
        return fmt_num(x);
    }
    let s = format!("{x:.d$}");
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A share as a percentage with one decimal (`47.0%`); `-` for NaN.
pub fn percent(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}%", x * 100.0)
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
