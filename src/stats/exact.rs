//! Exact sums: a fixed-point accumulator of `f64` values whose state is a
//! pure function of the multiset added, and its correctly rounded mean.

/// Limbs (64 bits each) of the fixed-point accumulator of [`ExactSum`].
pub const EXACT_SUM_LIMBS: usize = 34;

/// The exact sum of `f64` values, mergeable, with a state that is a pure
/// function of the multiset of values added.
///
/// Every finite `f64` is an integer multiple of `2^-1074` below `2^1024` in
/// magnitude, so the sum of up to `2^64` of them, counted in units of
/// `2^-1074`, is an integer below `2^2162` in magnitude: it is held exactly in
/// [`EXACT_SUM_LIMBS`] 64-bit limbs, two's complement. Integer addition is
/// associative, so any order of [`ExactSum::add`], and any split of the values
/// into parts joined by [`ExactSum::merge`] in any order, gives the same
/// state (`==` compares it). [`ExactSum::mean`] is the exact mean correctly
/// rounded to the nearest `f64` (ties to even), so it is reproducible to the
/// bit however the values were partitioned — unlike [`Moments`](super::Moments), whose
/// floating-point updates depend on the order.
///
/// Cost: an add touches two limbs (plus a rare carry); the state is 288
/// bytes. Non-finite values are not summed: they are remembered as flags, and
/// then the sum and mean are `+∞`, `-∞`, or NaN (a NaN, or both infinities),
/// as IEEE addition would give in any order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactSum {
    limbs: [u64; EXACT_SUM_LIMBS],
    count: u64,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

/// The state of an [`ExactSum`] as plain data, for saving and restoring it
/// ([`ExactSum::to_parts`], [`ExactSum::from_parts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactSumParts {
    /// Values added, non-finite ones included.
    pub count: u64,
    /// The sum of the finite values in units of `2^-1074`, two's complement,
    /// least significant limb first.
    pub limbs: [u64; EXACT_SUM_LIMBS],
    /// Whether a NaN was added.
    pub nan: bool,
    /// Whether `+∞` was added.
    pub pos_inf: bool,
    /// Whether `-∞` was added.
    pub neg_inf: bool,
}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum::new()
    }
}

impl ExactSum {
    /// An empty sum.
    pub fn new() -> ExactSum {
        ExactSum {
            limbs: [0; EXACT_SUM_LIMBS],
            count: 0,
            nan: false,
            pos_inf: false,
            neg_inf: false,
        }
    }

    /// Adds one value, exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.count = self.count.saturating_add(1);
        if !x.is_finite() {
            if x.is_nan() {
                self.nan = true;
            } else if x > 0.0 {
                self.pos_inf = true;
            } else {
                self.neg_inf = true;
            }
            return;
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as u32;
        let fraction = bits & ((1 << 52) - 1);
        // x = mantissa · 2^(shift - 1074), shift in 0..=2045.
        let (mantissa, shift) = if biased == 0 {
            (fraction, 0)
        } else {
            (fraction | (1 << 52), biased - 1)
        };
        if mantissa == 0 {
            return;
        }
        let at = (shift / 64) as usize;
        let wide = u128::from(mantissa) << (shift % 64);
        let (lo, hi) = (wide as u64, (wide >> 64) as u64);
        if bits >> 63 == 0 {
            self.add_at(at, lo, hi);
        } else {
            self.sub_at(at, lo, hi);
        }
    }

    /// Adds `hi · 2^64 + lo` at limb `at` (`at <= 31`: see `add`).
    #[inline]
    fn add_at(&mut self, at: usize, lo: u64, hi: u64) {
        let (r, c0) = self.limbs[at].overflowing_add(lo);
        self.limbs[at] = r;
        let (r, c1) = self.limbs[at + 1].overflowing_add(hi);
        let (r, c2) = r.overflowing_add(u64::from(c0));
        self.limbs[at + 1] = r;
        let mut carry = c1 || c2;
        for limb in &mut self.limbs[at + 2..] {
            if !carry {
                break;
            }
            (*limb, carry) = limb.overflowing_add(1);
        }
    }

    /// Subtracts `hi · 2^64 + lo` at limb `at` (`at <= 31`).
    #[inline]
    fn sub_at(&mut self, at: usize, lo: u64, hi: u64) {
        let (r, b0) = self.limbs[at].overflowing_sub(lo);
        self.limbs[at] = r;
        let (r, b1) = self.limbs[at + 1].overflowing_sub(hi);
        let (r, b2) = r.overflowing_sub(u64::from(b0));
        self.limbs[at + 1] = r;
        let mut borrow = b1 || b2;
        for limb in &mut self.limbs[at + 2..] {
            if !borrow {
                break;
            }
            (*limb, borrow) = limb.overflowing_sub(1);
        }
    }

    /// Folds `other` into `self`: the state that adding both parts' values
    /// to one accumulator gives.
    pub fn merge(&mut self, other: &ExactSum) {
        self.count = self.count.saturating_add(other.count);
        self.nan |= other.nan;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
        let mut carry = false;
        for (a, b) in self.limbs.iter_mut().zip(&other.limbs) {
            let (r, c1) = a.overflowing_add(*b);
            let (r, c2) = r.overflowing_add(u64::from(carry));
            *a = r;
            carry = c1 || c2;
        }
    }

    /// The number of values added (non-finite ones included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of the non-finite values as IEEE addition gives it, or `None`
    /// when every value was finite.
    fn non_finite(&self) -> Option<f64> {
        match (self.nan, self.pos_inf, self.neg_inf) {
            (true, _, _) | (false, true, true) => Some(f64::NAN),
            (false, true, false) => Some(f64::INFINITY),
            (false, false, true) => Some(f64::NEG_INFINITY),
            (false, false, false) => None,
        }
    }

    /// The exact sum correctly rounded to `f64` (`±∞` beyond the range).
    pub fn sum(&self) -> f64 {
        self.non_finite()
            .unwrap_or_else(|| self.rounded_quotient(1))
    }

    /// The exact mean correctly rounded to `f64`; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        self.non_finite()
            .unwrap_or_else(|| self.rounded_quotient(self.count))
    }

    /// The state as plain data.
    pub fn to_parts(&self) -> ExactSumParts {
        ExactSumParts {
            count: self.count,
            limbs: self.limbs,
            nan: self.nan,
            pos_inf: self.pos_inf,
            neg_inf: self.neg_inf,
        }
    }

    /// The accumulator whose state `parts` describes (every bit pattern is a
    /// valid sum).
    pub fn from_parts(parts: ExactSumParts) -> ExactSum {
        ExactSum {
            limbs: parts.limbs,
            count: parts.count,
            nan: parts.nan,
            pos_inf: parts.pos_inf,
            neg_inf: parts.neg_inf,
        }
    }

    /// `sum / divisor` (`divisor >= 1`) correctly rounded, ties to even.
    ///
    /// With `S` the sum in units of `2^-1074`, the quotient
    /// `Q = S · 2^128 / divisor` is computed by long division far enough to
    /// hold the 53 bits of the result, the rounding bit and a sticky bit (the
    /// `2^128` guarantees at least 64 significant bits); the result is
    /// `Q · 2^-1202` rounded to 53 bits, or to a multiple of `2^-1074`
    /// (subnormal) when it is that small.
    fn rounded_quotient(&self, divisor: u64) -> f64 {
        let divisor = u128::from(divisor.max(1));
        let negative = self.limbs[EXACT_SUM_LIMBS - 1] >> 63 == 1;
        let mut magnitude = self.limbs;
        if negative {
            let mut carry = true;
            for limb in &mut magnitude {
                (*limb, carry) = (!*limb).overflowing_add(u64::from(carry));
            }
        }
        let Some(top) = magnitude.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        // The dividend S · 2^128, limb by limb.
        let dividend = |k: usize| if k >= 2 { magnitude[k - 2] } else { 0 };
        let mut rem = 0u128;
        let mut k = top + 2;
        // The first non-zero limb of the quotient: S >= 1 and divisor < 2^64
        // make Q > 2^64, so it is found at k >= 1.
        let high = loop {
            let cur = (rem << 64) | u128::from(dividend(k));
            let q = (cur / divisor) as u64;
            rem = cur % divisor;
            if q != 0 || k == 1 {
                break q;
            }
            k -= 1;
        };
        let cur = (rem << 64) | u128::from(dividend(k - 1));
        let low = (cur / divisor) as u64;
        rem = cur % divisor;
        let mut sticky = rem != 0 || (0..k - 1).any(|j| dividend(j) != 0);
        let window = (u128::from(high) << 64) | u128::from(low);
        if window == 0 {
            return 0.0;
        }
        // Q = window · 2^base + (less than 2^base).
        let base = 64 * (k - 1);
        let top_bit = base + 127 - window.leading_zeros() as usize;
        // The result's last bit: 52 below the top bit, never below 2^-1074.
        let shift = top_bit.saturating_sub(52).max(128);
        // 12 <= shift - base <= 128 (the top bit is in the high half).
        let rel = (shift - base).clamp(1, 128) as u32;
        let mut mantissa = if rel >= 128 {
            0
        } else {
            (window >> rel) as u64
        };
        let round = (window >> (rel - 1)) & 1 == 1;
        sticky |= window & ((1u128 << (rel - 1)) - 1) != 0;
        if round && (sticky || mantissa & 1 == 1) {
            mantissa += 1;
        }
        // A normal result m · 2^(shift - 1202) with m in [2^52, 2^53] has
        // the bits ((shift - 128) << 52) + m; a subnormal one (shift = 128)
        // has the bits m. A carry into 2^53 moves the exponent up by itself.
        let exponent = (shift - 128) as u64;
        let value = if exponent >= 0x7ff {
            f64::INFINITY
        } else {
            let bits = (exponent << 52) + mantissa;
            if bits >= 0x7ff0_0000_0000_0000 {
                f64::INFINITY
            } else {
                f64::from_bits(bits)
            }
        };
        if negative {
            -value
        } else {
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Moments;
    use proptest::prelude::*;

    fn sum_of(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::new();
        xs.iter().for_each(|&x| s.add(x));
        s
    }

    #[test]
    fn known_sums_and_means() {
        let p53 = 2f64.powi(-53);
        // 1 + 2^-53 is halfway between 1 and 1 + 2^-52: ties to even.
        assert_eq!(sum_of(&[1.0, p53]).sum(), 1.0);
        // Just above halfway rounds up, although 1 + 2^-53 + 2^-106 in
        // floating point would not.
        assert_eq!(sum_of(&[1.0, p53, p53 * p53]).sum(), 1.0 + 2.0 * p53);
        // No intermediate overflow, no cancellation.
        assert_eq!(sum_of(&[1e308, 1e308, -1e308]).sum(), 1e308);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]).mean(), f64::MAX);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]).sum(), f64::INFINITY);
        assert_eq!(sum_of(&[-f64::MAX, -f64::MAX]).sum(), f64::NEG_INFINITY);
        assert_eq!(sum_of(&[1.0, 1e-30, -1.0]).sum(), 1e-30);
        assert_eq!(sum_of(&[0.1, 0.2, 0.3]).mean(), 0.2);
        assert_eq!(sum_of(&[0.0, 1.0, 1.0]).mean(), 2.0 / 3.0);
        assert_eq!(sum_of(&[-3.0, 1.0]).mean(), -1.0);
        assert_eq!(sum_of(&[2.5, -2.5]).mean(), 0.0);
        // Subnormal results: 2^-1074 / 2 ties to 0 (even), 3/4 of it rounds up.
        let tiny = f64::from_bits(1);
        assert_eq!(sum_of(&[tiny, 0.0]).mean(), 0.0);
        assert_eq!(sum_of(&[tiny, tiny, tiny, 0.0]).mean(), tiny);
        assert_eq!(sum_of(&[tiny, tiny, tiny]).sum(), 3.0 * tiny);
        assert_eq!(
            sum_of(&[f64::MIN_POSITIVE, -tiny]).sum(),
            f64::MIN_POSITIVE - tiny
        );
        assert!(ExactSum::new().mean().is_nan());
        assert_eq!(ExactSum::new().sum(), 0.0);
        // Non-finite values, as IEEE addition in any order.
        assert_eq!(sum_of(&[1.0, f64::INFINITY]).mean(), f64::INFINITY);
        assert_eq!(sum_of(&[f64::NEG_INFINITY, 1.0]).sum(), f64::NEG_INFINITY);
        assert!(sum_of(&[f64::INFINITY, f64::NEG_INFINITY]).mean().is_nan());
        assert!(sum_of(&[1.0, f64::NAN]).mean().is_nan());
        assert_eq!(sum_of(&[1.0, f64::NAN]).count(), 2);
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -1e3..1e3f64,
            2 => any::<f64>().prop_filter("finite", |x| x.is_finite()),
            1 => (0u64..1 << 52).prop_map(f64::from_bits),
            1 => Just(0.0),
            1 => Just(-0.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The sum of two doubles is IEEE addition (which is correctly rounded).
        #[test]
        fn a_pair_sums_like_ieee(x in finite(), y in finite()) {
            let ieee = x + y;
            let exact = sum_of(&[x, y]).sum();
            if ieee == 0.0 {
                prop_assert_eq!(exact, 0.0);
            } else {
                prop_assert_eq!(exact.to_bits(), ieee.to_bits(), "{} + {}", x, y);
            }
        }

        /// The mean of copies of a value is that value.
        #[test]
        fn the_mean_of_copies_is_the_value(x in finite(), k in 1usize..300) {
            let m = sum_of(&vec![x; k]).mean();
            prop_assert_eq!(m, x);
        }

        /// The mean of integers whose sum is exact in f64 is the IEEE
        /// quotient (which is correctly rounded).
        #[test]
        fn integer_means_are_correctly_rounded(xs in prop::collection::vec(-1_000_000i64..1_000_000, 1..200)) {
            let values: Vec<f64> = xs.iter().map(|&x| x as f64).collect();
            let total: i64 = xs.iter().sum();
            prop_assert_eq!(sum_of(&values).mean(), total as f64 / xs.len() as f64);
            prop_assert_eq!(sum_of(&values).sum(), total as f64);
        }

        /// Any split, merged in any order, and any insertion order give the
        /// same state, and the parts round-trip.
        #[test]
        fn split_and_merge_give_the_same_state(
            xs in prop::collection::vec(finite(), 0..300),
            cut in any::<usize>(),
            cut2 in any::<usize>(),
        ) {
            let whole = sum_of(&xs);
            let (a, b) = (cut % (xs.len() + 1), cut2 % (xs.len() + 1));
            let (a, b) = (a.min(b), a.max(b));
            let mut merged = sum_of(&xs[b..]);
            merged.merge(&sum_of(&xs[..a]));
            merged.merge(&sum_of(&xs[a..b]));
            prop_assert_eq!(merged, whole);
            let mut reversed = xs.clone();
            reversed.reverse();
            prop_assert_eq!(sum_of(&reversed), whole);
            prop_assert_eq!(ExactSum::from_parts(whole.to_parts()), whole);
            prop_assert_eq!(merged.mean().to_bits(), whole.mean().to_bits());
        }
    }

    #[test]
    fn the_mean_agrees_with_welford_to_rounding() {
        let mut s = crate::rng::Stream::new(&crate::rng::replication_key(3, 0, None), 0);
        let xs: Vec<f64> = (0..10_000).map(|_| 5.0 + s.normal()).collect();
        let mut m = Moments::new();
        xs.iter().for_each(|&x| m.add(x));
        let exact = sum_of(&xs).mean();
        assert!(
            ((exact - m.mean()) / exact).abs() < 1e-14,
            "{exact} vs {}",
            m.mean()
        );
    }
}
