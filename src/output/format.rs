//! Number formatting for CSV: shortest round-trip form, integers without a
//! decimal point, `NaN`, `inf` and `-inf` for non-finite values.

use std::fmt::Write as _;

/// Appends `x` to `out` in shortest round-trip form: parsing the text gives
/// back exactly `x`. Integral values below 2^53 print without a decimal point
/// (`3`, not `3.0`); others as `ryu` prints them (`0.1`, `1e-7`).
pub fn push_f64(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
    } else if x == x.trunc() && x.abs() < 9_007_199_254_740_992.0 {
        if x == 0.0 && x.is_sign_negative() {
            out.push_str("-0");
        } else {
            let _ = write!(out, "{}", x as i64);
        }
    } else {
        let mut buf = ryu::Buffer::new();
        out.push_str(buf.format_finite(x));
    }
}

/// `x` formatted as by [`push_f64`].
pub fn fmt_f64(x: f64) -> String {
    let mut s = String::new();
    push_f64(&mut s, x);
    s
}

/// Appends `text` padded with spaces to `width` characters: spaces after it
/// when `left` aligned, before it otherwise. Unlike `{:<w$}` in a format
/// string, any width works (the standard library panics on a width above
/// 65535, which a long identifier in a scenario reaches).
pub fn push_padded(out: &mut String, text: &str, width: usize, left: bool) {
    let pad = width.saturating_sub(text.chars().count());
    if !left {
        out.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(text);
    if left {
        out.extend(std::iter::repeat_n(' ', pad));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_round_trip() {
        for (x, s) in [
            (3.0, "3"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e-7, "1e-7"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "NaN"),
            (1e300, "1e300"),
        ] {
            assert_eq!(fmt_f64(x), s);
        }
        for x in [
            0.1 + 0.2,
            1.0 / 3.0,
            123456.789e-5,
            f64::MIN_POSITIVE,
            9.007199254740993e15,
        ] {
            assert_eq!(fmt_f64(x).parse::<f64>().expect("parses"), x);
        }
    }
}
