//! Running moments: count, mean and variance by Welford's method, and the
//! normal-theory 95% interval of the mean.

use super::Z95;

/// Running count, mean and sum of squared deviations (Welford's method),
/// mergeable by the pairwise formula of Chan, Golub and LeVeque.
///
/// Floating-point addition is not associative, so the result depends on the
/// order of `add` and `merge` calls; given the same order it is
/// bit-reproducible. The harness therefore accumulates fixed-size blocks of
/// replications and merges the blocks in replication order.
///
/// Values are taken as they are: a NaN or infinite value makes the mean and
/// variance NaN or infinite, so a broken outcome is visible rather than
/// silently dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// An empty accumulator.
    pub fn new() -> Moments {
        Moments::default()
    }

    /// Adds one value (Welford's update).
    pub fn add(&mut self, x: f64) {
        self.n = self.n.saturating_add(1);
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Folds `other` into `self` as if its values had been added here
    /// (Chan et al.: `δ = mean_b - mean_a`, `mean = mean_a + δ n_b / n`,
    /// `m2 = m2_a + m2_b + δ² n_a n_b / n`). Merging an empty accumulator
    /// changes nothing; merging into an empty one copies `other`.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n_a = self.n as f64;
        let n_b = other.n as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * (n_b / n);
        self.m2 += other.m2 + delta * delta * (n_a * n_b / n);
        self.n = self.n.saturating_add(other.n);
    }

    /// The number of values added.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The sample mean; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.mean
        }
    }

    /// The sample variance with the `n - 1` denominator; NaN for fewer than
    /// two values.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// The sample standard deviation; NaN for fewer than two values.
    pub fn sd(&self) -> f64 {
        libm::sqrt(self.variance())
    }

    /// The standard error of the mean, `sd / sqrt(n)`; NaN for fewer than
    /// two values.
    pub fn se(&self) -> f64 {
        self.sd() / libm::sqrt(self.n as f64)
    }

    /// The normal-theory 95% interval for the mean, `mean ± Z95 · se`;
    /// `(NaN, NaN)` for fewer than two values.
    pub fn ci95(&self) -> (f64, f64) {
        let half = Z95 * self.se();
        (self.mean() - half, self.mean() + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{replication_key, Stream};

    #[test]
    fn welford_matches_two_pass() {
        let mut s = Stream::new(&replication_key(11, 0, None), 0);
        // An offset of 30 standard deviations makes the naive sum-of-squares
        // formula lose about three digits; Welford must keep 12.
        let xs: Vec<f64> = (0..100_000).map(|_| 100.0 + s.normal() * 3.0).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);

        let mut m = Moments::new();
        xs.iter().for_each(|&x| m.add(x));
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(m.mean(), mean) < 1e-12);
        assert!(rel(m.variance(), var) < 1e-12, "{} vs {var}", m.variance());

        // Blocks merged in order agree too.
        let mut merged = Moments::new();
        for block in xs.chunks(1000) {
            let mut b = Moments::new();
            block.iter().for_each(|&x| b.add(x));
            merged.merge(&b);
        }
        assert_eq!(merged.count(), xs.len() as u64);
        assert!(rel(merged.mean(), mean) < 1e-12);
        assert!(rel(merged.variance(), var) < 1e-12);
    }

    #[test]
    fn moments_edge_cases_and_interval() {
        let mut m = Moments::new();
        assert!(m.mean().is_nan());
        m.add(2.0);
        assert_eq!(m.mean(), 2.0);
        assert!(m.variance().is_nan());
        assert!(m.ci95().0.is_nan());
        m.add(4.0);
        assert_eq!(m.variance(), 2.0);
        let (lo, hi) = m.ci95();
        assert_eq!(hi - 3.0, 3.0 - lo);
        assert!((hi - (3.0 + Z95)).abs() < 1e-15); // se = sqrt(2)/sqrt(2) = 1
        let mut empty = Moments::new();
        empty.merge(&m);
        assert_eq!(empty, m);
        m.merge(&Moments::new());
        assert_eq!(empty, m);
    }
}
