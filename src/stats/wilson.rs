//! Wilson score intervals for binomial proportions (event probabilities).

/// The Wilson score interval for a binomial proportion with `successes` out
/// of `n` trials, at normal quantile `z` (use [`Z95`](super::Z95) for 95%).
///
/// With `p = successes / n`, the interval is
/// `(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`, clamped to
/// `[0, 1]`; its lower end is exactly 0 when `successes == 0` and its upper
/// end exactly 1 when `successes == n`. The sign of `z` is ignored.
///
/// Edge cases: `n == 0` gives `(0, 1)` (no data, no information);
/// `successes > n` is meaningless and gives `(NaN, NaN)`, as does a NaN `z`.
pub fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    if successes > n || z.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let z = z.abs();
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * libm::sqrt(p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)) / denom;
    let lower = if successes == 0 {
        0.0
    } else {
        (center - half).clamp(0.0, 1.0)
    };
    let upper = if successes == n {
        1.0
    } else {
        (center + half).clamp(0.0, 1.0)
    };
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Z95;

    #[test]
    fn wilson_known_values() {
        let close = |a: (f64, f64), b: (f64, f64)| {
            assert!(
                (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4,
                "{a:?}"
            );
        };
        close(wilson(5, 10, 1.96), (0.2366, 0.7634));
        close(wilson(0, 10, 1.96), (0.0, 0.2775));
        close(wilson(10, 10, 1.96), (0.7225, 1.0));
        close(wilson(81, 263, Z95), (0.2553, 0.3662));
        assert_eq!(wilson(0, 10, Z95).0, 0.0);
        assert_eq!(wilson(10, 10, Z95).1, 1.0);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        assert!(wilson(11, 10, Z95).0.is_nan());
        assert_eq!(wilson(3, 10, -Z95), wilson(3, 10, Z95));
    }
}
