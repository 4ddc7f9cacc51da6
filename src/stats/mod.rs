//! Summaries and intervals: running moments, binomial confidence intervals
//! and a mergeable quantile accumulator.
//!
//! This module owns the numbers a sweep reports per (point, outcome): means
//! with normal-theory 95% intervals ([`Moments`]), exact sums and correctly
//! rounded means ([`ExactSum`]), Wilson intervals for event probabilities
//! ([`wilson`]), quantiles ([`Quantiles`]), and the two-sample
//! Kolmogorov–Smirnov test on two quantile states ([`ks_two_sample`]). It does no I/O and knows
//! nothing of scenarios; [`ExactSum::to_parts`] and [`Quantiles::to_parts`]
//! give their states as plain data for `output/` to save.
//!
//! Reproducibility: [`Moments`] is bit-reproducible given the same sequence
//! of `add` and `merge` calls (the harness feeds fixed-size blocks of
//! replications in order, so thread count never reaches a result).
//! [`ExactSum`] and [`Quantiles`] are stronger: their state, and so every
//! mean and quantile, is a pure function of the multiset of values added,
//! whatever the order and however the values were split into parts and
//! merged (what the shards of a sweep need).

mod exact;
mod ks;
mod moments;
mod quantiles;
mod wilson;

pub use exact::{ExactSum, ExactSumParts, EXACT_SUM_LIMBS};
pub use ks::{ks_two_sample, KsTest};
pub use moments::Moments;
pub use quantiles::{Quantiles, QuantilesParts, QuantilesValues};
pub use wilson::wilson;

/// The two-sided 95% standard-normal quantile, `Φ⁻¹(0.975)`.
pub const Z95: f64 = 1.959963984540054;
