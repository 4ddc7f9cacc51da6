//! The two-sample Kolmogorov–Smirnov test on two [`Quantiles`] states: does
//! a metric's whole distribution differ between two samples, not just its
//! mean? Memory is what the accumulators hold (bounded), not the samples.

use super::{Quantiles, QuantilesValues};

/// The KS statistic `D = sup |F₁(x) − F₂(x)|` of two samples and its
/// asymptotic p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// The largest distance between the two empirical distribution functions.
    pub d: f64,
    /// `P(D ≥ d)` for two independent samples from one continuous
    /// distribution (Kolmogorov's limit with Stephens' small-sample
    /// correction); conservative for discrete or positively paired samples.
    pub p: f64,
}

/// An order-preserving key: the exact value, or (when either side has
/// turned into a sketch) the value's sketch bucket with its sign, so both
/// samples are compared on one grid.
fn keyed(q: &Quantiles, buckets: bool) -> Vec<(f64, u64)> {
    fn bucket(x: f64) -> f64 {
        if x == 0.0 || x.is_infinite() {
            return x;
        }
        let b = f64::from((x.abs().to_bits() >> 45) as u32) + 1.0;
        if x < 0.0 {
            -b
        } else {
            b
        }
    }
    let mut out: Vec<(f64, u64)> = Vec::new();
    let mut push = |k: f64, n: u64| match out.last_mut() {
        Some((last, c)) if *last == k => *c += n,
        _ => out.push((k, n)),
    };
    match q.to_parts().values {
        QuantilesValues::Exact(values) => {
            for (x, n) in values {
                push(if buckets { bucket(x) } else { x }, n);
            }
        }
        QuantilesValues::Sketch {
            neg_inf,
            negative,
            zero,
            positive,
            pos_inf,
        } => {
            if neg_inf > 0 {
                push(f64::NEG_INFINITY, neg_inf);
            }
            for &(b, n) in negative.iter().rev() {
                push(-(f64::from(b) + 1.0), n);
            }
            if zero > 0 {
                push(0.0, zero);
            }
            for &(b, n) in &positive {
                push(f64::from(b) + 1.0, n);
            }
            if pos_inf > 0 {
                push(f64::INFINITY, pos_inf);
            }
        }
    }
    out
}

/// Kolmogorov's `Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²)`, the limiting
/// probability that `√n·D` exceeds `λ`.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let k = f64::from(k);
        let term = sign * libm::exp(-2.0 * k * k * lambda * lambda);
        sum += term;
        if term.abs() < 1e-16 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The two-sample KS test of the values in `a` against those in `b` (NaNs
/// ignored). `None` if either is empty.
pub fn ks_two_sample(a: &Quantiles, b: &Quantiles) -> Option<KsTest> {
    let buckets = !(a.is_exact() && b.is_exact());
    let (xa, xb) = (keyed(a, buckets), keyed(b, buckets));
    let na: u64 = xa.iter().map(|v| v.1).sum();
    let nb: u64 = xb.iter().map(|v| v.1).sum();
    if na == 0 || nb == 0 {
        return None;
    }
    let (mut i, mut j, mut ca, mut cb) = (0, 0, 0u64, 0u64);
    let mut d: f64 = 0.0;
    while i < xa.len() || j < xb.len() {
        let ka = xa.get(i).map_or(f64::INFINITY, |v| v.0);
        let kb = xb.get(j).map_or(f64::INFINITY, |v| v.0);
        let k = if i < xa.len() && (j >= xb.len() || ka.total_cmp(&kb).is_le()) {
            ka
        } else {
            kb
        };
        while i < xa.len() && xa[i].0.total_cmp(&k).is_eq() {
            ca += xa[i].1;
            i += 1;
        }
        while j < xb.len() && xb[j].0.total_cmp(&k).is_eq() {
            cb += xb[j].1;
            j += 1;
        }
        d = d.max((ca as f64 / na as f64 - cb as f64 / nb as f64).abs());
    }
    let ne = (na as f64 * nb as f64) / (na + nb) as f64;
    let sq = libm::sqrt(ne);
    Some(KsTest {
        d,
        p: kolmogorov_q((sq + 0.12 + 0.11 / sq) * d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(xs: impl IntoIterator<Item = f64>) -> Quantiles {
        let mut q = Quantiles::new();
        for x in xs {
            q.add(x);
        }
        q
    }

    #[test]
    fn the_statistic_is_the_largest_cdf_gap() {
        // {1, 2, 3, 4} against {3, 4, 5, 6}: at x in [2, 3) the gap is 0.5.
        let t = ks_two_sample(&of([1.0, 2.0, 3.0, 4.0]), &of([3.0, 4.0, 5.0, 6.0])).unwrap();
        assert_eq!(t.d, 0.5);
        let same = ks_two_sample(&of([1.0, 2.0]), &of([2.0, 1.0])).unwrap();
        assert_eq!((same.d, same.p), (0.0, 1.0));
        assert!(ks_two_sample(&of([]), &of([1.0])).is_none());
    }

    #[test]
    fn p_values_match_kolmogorovs_distribution() {
        // Q(1.3581) = 0.05 and Q(1.6276) = 0.01 (standard tables).
        assert!((kolmogorov_q(1.3581) - 0.05).abs() < 1e-4);
        assert!((kolmogorov_q(1.6276) - 0.01).abs() < 1e-4);
    }

    #[test]
    fn a_shift_is_found_and_the_same_distribution_is_not() {
        // 5000 distinct values each (past the exact cap): the bucket grid.
        let a = of((0..5000).map(|i| f64::from(i) / 5000.0));
        let b = of((0..5000).map(|i| f64::from(i) / 5000.0 + 0.1));
        let t = ks_two_sample(&a, &b).unwrap();
        assert!((t.d - 0.1).abs() < 0.01 && t.p < 1e-10, "{t:?}");
        let c = of((0..5000).map(|i| (f64::from(i) + 0.5) / 5000.0));
        let t = ks_two_sample(&a, &c).unwrap();
        assert!(t.d < 0.01 && t.p > 0.5, "{t:?}");
    }
}
