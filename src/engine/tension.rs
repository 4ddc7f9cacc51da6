//! Tension between events: exact exponential relaxation toward a baseline, and
//! the exact time a relaxing tension spends above a threshold.

/// Tension `dt` time units after it was `value`, relaxing toward `baseline`
/// with half-life `half_life` (`inf`: no decay):
/// `baseline + (value − baseline) · 2^(−dt / half_life)`.
#[inline]
pub fn decay(value: f64, baseline: f64, half_life: f64, dt: f64) -> f64 {
    if dt <= 0.0 || value == baseline {
        return value;
    }
    baseline + (value - baseline) * libm::exp2(-dt / half_life)
}

/// How long, within `[0, dt]`, a tension that starts at `value` and relaxes as
/// in [`decay`] is strictly above `threshold`; `end` is its value at `dt`
/// (`decay(value, baseline, half_life, dt)`, which the caller has at hand).
///
/// Relaxation is monotone, so when both ends lie on the same side of the
/// threshold the answer is `dt` or 0 without a logarithm; only a segment
/// that crosses it needs the crossing time.
#[inline]
pub fn time_above(
    value: f64,
    baseline: f64,
    half_life: f64,
    threshold: f64,
    dt: f64,
    end: f64,
) -> f64 {
    if dt <= 0.0 {
        return 0.0;
    }
    match (value > threshold, end > threshold) {
        (true, true) => dt,
        (false, false) => 0.0,
        // Falls through the threshold at s* = h · log2((V − B) / (θ − B)).
        (true, false) => {
            let cross = half_life * libm::log2((value - baseline) / (threshold - baseline));
            cross.clamp(0.0, dt)
        }
        // Rises through the threshold at s* = h · log2((B − V) / (B − θ)).
        (false, true) => {
            let cross = half_life * libm::log2((baseline - value) / (baseline - threshold));
            (dt - cross).clamp(0.0, dt)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`time_above`] with the end value it needs.
    fn above(v: f64, b: f64, h: f64, th: f64, dt: f64) -> f64 {
        time_above(v, b, h, th, dt, decay(v, b, h, dt))
    }

    #[test]
    fn one_half_life_halves_the_gap() {
        assert_eq!(decay(1.0, 0.0, 10.0, 10.0), 0.5);
        assert!((decay(1.0, 0.2, 10.0, 10.0) - 0.6).abs() < 1e-15);
        assert_eq!(decay(0.5, 0.5, 3.0, 100.0), 0.5);
        assert_eq!(decay(0.9, 0.1, f64::INFINITY, 5.0), 0.9);
    }

    #[test]
    fn time_above_matches_the_crossing() {
        // From 1.0 toward 0.0 with h = 1: crosses 0.5 after exactly 1.
        assert!((above(1.0, 0.0, 1.0, 0.5, 10.0) - 1.0).abs() < 1e-15);
        assert_eq!(above(1.0, 0.0, 1.0, 0.5, 0.25), 0.25);
        // From 0.0 toward 1.0: below 0.5 for 1, above for the remaining 2.
        assert!((above(0.0, 1.0, 1.0, 0.5, 3.0) - 2.0).abs() < 1e-15);
        assert_eq!(above(0.3, 0.3, 1.0, 0.5, 3.0), 0.0);
        assert_eq!(above(0.7, 0.6, 1.0, 0.5, 3.0), 3.0);
    }

    #[test]
    fn time_above_agrees_with_fine_sampling() {
        let cases = [
            (0.9, 0.1, 7.0, 0.4, 20.0),
            (0.05, 0.8, 3.0, 0.6, 9.0),
            (0.6, 0.2, 2.0, 0.59, 1.0),
        ];
        for (v, b, h, th, dt) in cases {
            let n = 200_000;
            let step = dt / n as f64;
            let sampled = (0..n)
                .filter(|i| decay(v, b, h, (*i as f64 + 0.5) * step) > th)
                .count() as f64
                * step;
            assert!(
                (sampled - above(v, b, h, th, dt)).abs() < 2.0 * step,
                "{v} {b} {h} {th} {dt}"
            );
        }
    }
}
