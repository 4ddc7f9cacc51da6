//! Weighted parameter points drawn per replication: `run --posterior`
//! runs replication `r` at the particle drawn for it, so a run's outcomes
//! are a mixture over a calibration's posterior.
//!
//! The draw: `u = Stream::new(&replication_key(seed, r, None),
//! stream_id::posterior()).uniform()` (the first 53-bit uniform of that
//! stream), and particle `i` is the first whose cumulative weight `c_i`
//! (summed in file order) exceeds `u · c_n`. The stream is one no scenario
//! source uses, under the replication's own key, so the draw is a pure
//! function of (seed, r), whatever the thread count, and it leaves every
//! draw of the replication itself unchanged: a one-particle posterior is
//! `run --set` at that particle.

use crate::rng::{replication_key, stream_id, Stream};

/// Particles (full parameter vectors) with their weights, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// Full parameter vectors, one per particle.
    pub points: Vec<Vec<f64>>,
    /// Cumulative weights in particle order; the last is the total.
    cumulative: Vec<f64>,
}

impl Mixture {
    /// The mixture of `points` with `weights` (finite, non-negative, not
    /// all zero; they need not sum to 1), one weight per point.
    pub fn new(points: Vec<Vec<f64>>, weights: &[f64]) -> Result<Mixture, String> {
        if points.is_empty() || points.len() != weights.len() {
            return Err(format!(
                "{} particles and {} weights",
                points.len(),
                weights.len()
            ));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(format!("weight {w} is not a finite non-negative number"));
        }
        let mut total = 0.0;
        let cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        if total <= 0.0 {
            return Err("every weight is 0".into());
        }
        Ok(Mixture { points, cumulative })
    }

    /// The particle replication `rep` runs at, under master `seed` (see the
    /// [module docs](self)).
    pub fn pick(&self, seed: u64, rep: u64) -> usize {
        let mut s = Stream::new(&replication_key(seed, rep, None), stream_id::posterior());
        let u = s.uniform() * self.cumulative[self.cumulative.len() - 1];
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }

    /// The parameter vector replication `rep` runs at.
    pub fn params(&self, seed: u64, rep: u64) -> &[f64] {
        &self.points[self.pick(seed, rep)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_weights_are_never_drawn_and_bad_weights_are_refused() {
        let m =
            Mixture::new(vec![vec![1.0], vec![2.0], vec![3.0]], &[0.0, 1.0, 0.0]).expect("valid");
        assert!((0..500).all(|r| m.pick(7, r) == 1));
        assert_eq!(
            Mixture::new(vec![vec![1.0]], &[0.0]),
            Err("every weight is 0".into())
        );
        assert_eq!(
            Mixture::new(vec![vec![1.0]], &[f64::NAN]),
            Err("weight NaN is not a finite non-negative number".into())
        );
        assert_eq!(
            Mixture::new(vec![vec![1.0]], &[-1.0]),
            Err("weight -1 is not a finite non-negative number".into())
        );
    }
}
