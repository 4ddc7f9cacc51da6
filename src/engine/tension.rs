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
/// in [`decay`] is strictly above `threshold`.
pub fn time_above(value: f64, baseline: f64, half_life: f64, threshold: f64, dt: f64) -> f64 {
    if dt <= 0.0 {
        return 0.0;
    }
    let relaxes = half_life.is_finite() && value != baseline;
    match (value > threshold, baseline >= threshold) {
        // Starts above and relaxes toward a level at or above the threshold
        // (it only reaches the baseline asymptotically): above throughout.
        (true, true) => dt,
        (true, false) if !relaxes => dt,
        // Falls through the threshold at s* = h · log2((V − B) / (θ − B)).
        (true, false) => {
            let cross = half_life * libm::log2((value - baseline) / (threshold - baseline));
            cross.clamp(0.0, dt)
        }
        // Rises through the threshold at s* = h · log2((B − V) / (B − θ)).
        (false, true) if relaxes && baseline > threshold => {
            let cross = half_life * libm::log2((baseline - value) / (baseline - threshold));
            (dt - cross).clamp(0.0, dt)
        }
        (false, _) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!((time_above(1.0, 0.0, 1.0, 0.5, 10.0) - 1.0).abs() < 1e-15);
        assert_eq!(time_above(1.0, 0.0, 1.0, 0.5, 0.25), 0.25);
        // From 0.0 toward 1.0: below 0.5 for 1, above for the remaining 2.
        assert!((time_above(0.0, 1.0, 1.0, 0.5, 3.0) - 2.0).abs() < 1e-15);
        assert_eq!(time_above(0.3, 0.3, 1.0, 0.5, 3.0), 0.0);
        assert_eq!(time_above(0.7, 0.6, 1.0, 0.5, 3.0), 3.0);
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
                (sampled - time_above(v, b, h, th, dt)).abs() < 2.0 * step,
                "{v} {b} {h} {th} {dt}"
            );
        }
    }
}
