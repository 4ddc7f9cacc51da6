//! Quantiles with bounded memory: exact distinct values with their counts,
//! then a bit-pattern bucket sketch, both counted in an open-addressing hash
//! table and sorted only when read; their states as plain data for saving.

/// Quantile accumulator with bounded memory whose result depends only on the
/// multiset of values added.
///
/// # Modes
///
/// * **Exact**, while at most [`Quantiles::CAP`] *distinct* values have been
///   added (however many values in all): the distinct values are kept sorted
///   with their multiplicities, and [`Quantiles::quantile`] is the sample
///   quantile of type 7 (Hyndman & Fan; R's default, NumPy's `linear`): with
///   sorted values `x_0 <= ... <= x_{n-1}`, `h = q (n - 1)`, `j = floor(h)`,
///   the result is `x_j + (h - j)(x_{j+1} - x_j)`. Columns of counts, of
///   0/1 outcomes or of mostly equal values stay exact at any `n`.
/// * **Sketch**, once more than `CAP` distinct values have been added: every
///   value is replaced by the representative of its bucket. The bucket of a
///   finite non-zero `x` is read off the bit pattern of `|x|`: its biased
///   exponent and the top 7 bits of its mantissa (`|x|.to_bits() >> 45`),
///   so 128 buckets of equal width split each octave `[2^e, 2^(e+1))`
///   (positive and negative values are counted separately; zero and `±∞`
///   have counts of their own). The representative is the midpoint of the
///   bucket (computed from the bits, exactly), which is within relative error
///   [`Quantiles::ALPHA`] `= 2^-8` of every normal value in the bucket;
///   subnormal values (`|x| < 2^-1022`) fall in 128 buckets of width
///   `2^-1029`, so their error is at most `2^-1030` in absolute terms. The
///   quantile is then computed by the same type-7 rule on the
///   representatives (which are in the order of the values), so when `x_j`
///   and `x_{j+1}` have the same sign (or one is zero) the result is within
///   relative error `α` (plus rounding) of the exact sample quantile; across
///   a sign change the error is at most `α · max(|x_j|, |x_{j+1}|)`.
///
/// Memory: the values are counted in an open-addressing hash table of
/// 16-byte slots (a key and a count), a power of two of them, at most half
/// of them occupied (so between 2 and 4 slots per occupied one, 8 at
/// least). In exact mode the keys are the distinct values, at most `CAP`
/// of them, so the table has at most `2 · CAP` slots (128 KiB); in sketch
/// mode they are the occupied buckets, whose number is bounded by the range
/// of the data (128 buckets per octave and sign: about 3 800 for values
/// spanning 1e-3 to 1e6, at most 262 016 per sign for the whole `f64`
/// range), never by `n`. An empty accumulator allocates nothing.
///
/// Cost: an add is a hash of the value's bits (in sketch mode, of its
/// bucket index, a bit shift) and a probe of the table, usually of one
/// slot; a value already there only has its count raised. A new value (or
/// bucket) takes a free slot, and the table doubles when it would be more
/// than half full; the `CAP + 1`-th distinct value moves every count to its
/// bucket. No logarithm is taken and nothing is kept sorted: the sorted form
/// is made (one sort of the occupied slots) only when an observer needs it,
/// so ask for several quantiles at once with [`Quantiles::quantiles`].
///
/// # Determinism
///
/// The mode is decided by the number of distinct values, and in each mode
/// the state that observers see is canonical (the sorted distinct values
/// with their counts, or sorted bucket counts, each bucket a pure function
/// of the value): the table holds exactly these (key, count) pairs, only in
/// an order that depends on the order of insertion, which every observer
/// ([`Quantiles::quantile`], [`Quantiles::to_parts`], `==`) sorts away and
/// [`Quantiles::merge`] does not depend on. So the observed state, and
/// every quantile, is a pure function of the multiset of values, independent
/// of insertion order and of how the values were partitioned and merged.
/// `==` compares these states.
///
/// # Special values
///
/// NaN values are not stored: they are counted by [`Quantiles::nan_count`]
/// and otherwise ignored. `-0.0` is stored as `0.0`. Infinities are ordinary
/// extreme values (kept as such in both modes); an interpolation between
/// `-∞` and `+∞` is NaN, as in R.
#[derive(Clone, Debug)]
pub struct Quantiles {
    /// Exact mode: each distinct value's bits (`-0.0` as `0.0`) with its
    /// count; sketch mode: each occupied bucket's [`sketch_key`] with its
    /// count. At most [`Quantiles::CAP`] keys in exact mode.
    counts: Counts,
    /// Whether the accumulator is in sketch mode (more than `CAP` distinct
    /// values added).
    sketch: bool,
    /// Non-NaN values added.
    count: u64,
    nan_count: u64,
}

/// The state of a [`Quantiles`] as plain data, for saving and restoring it
/// ([`Quantiles::to_parts`], [`Quantiles::from_parts`]).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantilesParts {
    /// NaN values counted (and ignored).
    pub nan_count: u64,
    /// The values: exactly, or as sketch buckets.
    pub values: QuantilesValues,
}

/// The values of a [`Quantiles`], in its canonical form.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantilesValues {
    /// At most [`Quantiles::CAP`] distinct values with their counts
    /// (positive), strictly increasing by `total_cmp`, without NaN or `-0.0`.
    Exact(Vec<(f64, u64)>),
    /// More than [`Quantiles::CAP`] distinct values, as bucket counts.
    Sketch {
        /// Count of `-∞`.
        neg_inf: u64,
        /// Negative finite values: (bucket index of `|x|`, that is
        /// `|x|.to_bits() >> 45`, count), indices strictly increasing and at
        /// most [`Quantiles::MAX_BUCKET`], counts positive.
        negative: Vec<(u32, u64)>,
        /// Count of zeros.
        zero: u64,
        /// Positive finite values: (bucket index, count), as `negative`.
        positive: Vec<(u32, u64)>,
        /// Count of `+∞`.
        pos_inf: u64,
    },
}

/// The bits of a finite `f64` below its bucket index: 52 mantissa bits less
/// the 7 that the index keeps.
const BUCKET_SHIFT: u32 = 45;

/// The bucket index of `±∞` in a [`sketch_key`], one past
/// [`Quantiles::MAX_BUCKET`] (`∞.to_bits() >> 45`).
const INF_INDEX: u32 = Quantiles::MAX_BUCKET + 1;

/// The sign bit of a [`sketch_key`] (bit 63 of the value, shifted by
/// [`BUCKET_SHIFT`]), above the 18 bits of the bucket index.
const SIGN_KEY: u64 = 1 << (63 - BUCKET_SHIFT);

/// The [`sketch_key`] of zero, above every other one.
const ZERO_KEY: u64 = SIGN_KEY << 1;

/// The key of a free slot of [`Counts`]: a NaN bit pattern (never an exact
/// key) and above every [`sketch_key`].
const EMPTY: u64 = u64::MAX;

/// The fewest slots of a [`Counts`] that has any.
const MIN_SLOTS: usize = 8;

/// The sketch-mode key of a non-NaN value given by its bits, `-0.0` as
/// `0.0`: [`ZERO_KEY`] for zero, else `bits >> 45`, which is the sign
/// ([`SIGN_KEY`]) and the bucket index of `|x|` (at most
/// [`Quantiles::MAX_BUCKET`] for finite values, [`INF_INDEX`] for `±∞`).
#[inline]
fn sketch_key(bits: u64) -> u64 {
    if bits == 0 {
        ZERO_KEY
    } else {
        bits >> BUCKET_SHIFT
    }
}

/// An open-addressing hash table from `u64` keys (never [`EMPTY`]) to
/// positive counts: linear probing from a multiplicative hash, a power of
/// two of slots (or none), at most half of them occupied, so a probe always
/// ends at the key or at a free slot. Keys are never removed. The order of
/// the slots depends on the order of insertion; the set of (key, count)
/// pairs does not.
#[derive(Clone, Debug)]
struct Counts {
    /// (key, count) per slot; free slots have the key [`EMPTY`].
    slots: Vec<(u64, u64)>,
    /// Occupied slots.
    len: usize,
    /// `64 - log2(slots.len())`, the shift that takes a hash to a slot; 64
    /// while there are no slots.
    shift: u32,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            slots: Vec::new(),
            len: 0,
            shift: 64,
        }
    }
}

impl Counts {
    /// The slot where the probe for `key` starts: the top bits of the key,
    /// its high half folded onto its low half (the bits that differ among
    /// most `f64` values are the high ones), times `2^64 / φ`. Without
    /// slots (a shift of 64 shifts by 0) it is past the end.
    #[inline]
    fn home(&self, key: u64) -> usize {
        let hash = (key ^ (key >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        hash.wrapping_shr(self.shift) as usize
    }

    /// The free slot where `key`, which is not there, would go (the table
    /// has slots).
    #[inline]
    fn free_slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while self.slots[i].0 != EMPTY {
            i = (i + 1) & mask;
        }
        i
    }

    /// The slot of `key`, if it is there.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.home(key);
        loop {
            // Without slots, `i` is past the end: `None`, as for a free slot.
            let &(k, _) = self.slots.get(i)?;
            if k == key {
                return Some(i);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// The count of `key`, if it is there.
    #[inline]
    fn get_mut(&mut self, key: u64) -> Option<&mut u64> {
        let i = self.find(key)?;
        self.slots.get_mut(i).map(|(_, c)| c)
    }

    /// Adds `times` to the count of `key`, which may be new.
    fn add(&mut self, key: u64, times: u64) {
        match self.get_mut(key) {
            Some(c) => *c = c.saturating_add(times),
            None => self.insert(key, times),
        }
    }

    /// Puts `key`, which is not there, with count `times` in a free slot,
    /// after doubling the slots if they would be more than half full.
    fn insert(&mut self, key: u64, times: u64) {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let i = self.free_slot(key);
        self.slots[i] = (key, times);
        self.len += 1;
    }

    /// Doubles the slots (or makes the first [`MIN_SLOTS`]) and puts the
    /// keys back.
    fn grow(&mut self) {
        let n = (2 * self.slots.len()).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![(EMPTY, 0); n]);
        self.shift = 64 - n.trailing_zeros();
        for (key, count) in old {
            if key != EMPTY {
                let i = self.free_slot(key);
                self.slots[i] = (key, count);
            }
        }
    }

    /// The (key, count) pairs, in slot order.
    fn pairs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.slots.iter().copied().filter(|&(key, _)| key != EMPTY)
    }
}

impl PartialEq for Quantiles {
    fn eq(&self, other: &Quantiles) -> bool {
        self.nan_count == other.nan_count
            && self.count == other.count
            && self.sketch == other.sketch
            && self.canonical() == other.canonical()
    }
}

/// The canonical state of a [`Quantiles`] (see its docs).
#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// Distinct values with positive counts, strictly increasing by
    /// `total_cmp`, no NaN, no `-0.0`, at most `CAP` of them.
    Exact(Vec<(f64, u64)>),
    Sketch(Sketch),
}

/// Bucket counts of the sketch mode.
#[derive(Clone, Debug, Default, PartialEq)]
struct Sketch {
    neg_inf: u64,
    /// Negative finite values: (bucket index of `|x|`, count), by index.
    negative: Vec<(u32, u64)>,
    zero: u64,
    /// Positive finite values: (bucket index, count), by index.
    positive: Vec<(u32, u64)>,
    pos_inf: u64,
}

impl Default for Quantiles {
    fn default() -> Self {
        Quantiles::new()
    }
}

/// The representative of bucket `index` (at most [`Quantiles::MAX_BUCKET`]):
/// the midpoint of the magnitudes `[index · 2^45, (index + 1) · 2^45)` as bit
/// patterns, which is the bit pattern with the next mantissa bit set (the
/// values of a bucket are equally spaced, in a binade or among the
/// subnormals). The top bucket's midpoint is below `f64::MAX`.
fn bucket_value(index: u32) -> f64 {
    f64::from_bits((u64::from(index) << BUCKET_SHIFT) | (1 << (BUCKET_SHIFT - 1)))
}

/// The bits of an `f64` as an integer in the order of `f64::total_cmp`
/// (as that function does it).
fn total_order_key(bits: u64) -> i64 {
    let bits = bits as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

impl Sketch {
    /// The sketch of (sketch key, count) pairs with distinct keys, in any
    /// order.
    fn from_pairs(pairs: impl Iterator<Item = (u64, u64)>) -> Sketch {
        let mut sketch = Sketch::default();
        for (key, count) in pairs {
            if key == ZERO_KEY {
                sketch.zero = count;
                continue;
            }
            let negative = key & SIGN_KEY != 0;
            // key < 2^19, so the index fits 18 bits.
            let index = (key & !SIGN_KEY) as u32;
            match (index == INF_INDEX, negative) {
                (true, true) => sketch.neg_inf = count,
                (true, false) => sketch.pos_inf = count,
                (false, true) => sketch.negative.push((index, count)),
                (false, false) => sketch.positive.push((index, count)),
            }
        }
        sketch.negative.sort_unstable_by_key(|&(index, _)| index);
        sketch.positive.sort_unstable_by_key(|&(index, _)| index);
        sketch
    }

    /// (representative, count) in ascending order of value, empty counts
    /// left out.
    fn ascending(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let negative = self
            .negative
            .iter()
            .rev()
            .map(|&(i, c)| (-bucket_value(i), c));
        let positive = self.positive.iter().map(|&(i, c)| (bucket_value(i), c));
        std::iter::once((f64::NEG_INFINITY, self.neg_inf))
            .chain(negative)
            .chain(std::iter::once((0.0, self.zero)))
            .chain(positive)
            .chain(std::iter::once((f64::INFINITY, self.pos_inf)))
            .filter(|&(_, c)| c > 0)
    }
}

/// The values of 0-based ranks `j` and `j + 1` of ascending (value, count)
/// runs (the value of rank `j` twice when `j` is the last rank), or NaN when
/// `j` is not a rank.
fn order_statistics(runs: impl Iterator<Item = (f64, u64)>, j: u64) -> (f64, f64) {
    let mut seen = 0u64;
    let mut lo = None;
    for (x, c) in runs {
        seen = seen.saturating_add(c);
        match lo {
            None if j < seen => {
                if j + 1 < seen {
                    return (x, x);
                }
                lo = Some(x);
            }
            None => {}
            Some(lo) => return (lo, x),
        }
    }
    match lo {
        Some(lo) => (lo, lo),
        None => (f64::NAN, f64::NAN),
    }
}

/// Type-7 interpolation between neighbouring order statistics `lo <= hi` at
/// fraction `f` in `[0, 1)`.
fn interpolate(lo: f64, hi: f64, f: f64) -> f64 {
    if f == 0.0 || lo == hi {
        return lo;
    }
    if lo.is_finite() && hi.is_finite() {
        let v = lo + f * (hi - lo);
        // `hi - lo` can overflow for values of opposite sign near f64::MAX.
        let v = if v.is_finite() {
            v
        } else {
            (1.0 - f) * lo + f * hi
        };
        return v.clamp(lo, hi);
    }
    // An infinite end: -∞ or +∞ as IEEE arithmetic says, NaN for (-∞, +∞).
    (1.0 - f) * lo + f * hi
}

/// Splits `h = q (n - 1)` into its integer part and fraction, or `None` for
/// an empty accumulator or a `q` outside `[0, 1]`.
fn rank_of(q: f64, n: u64) -> Option<(u64, f64)> {
    if n == 0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let h = q * (n - 1) as f64;
    let j = libm::floor(h);
    // 0 <= j <= n - 1 (up to rounding of n - 1 to f64), so the cast is exact
    // enough; the min guards the rounding.
    let j_int = (j as u64).min(n - 1);
    Some((j_int, h - j))
}

/// The `q`-quantile of `n` values in the canonical state `repr`.
fn quantile_of(repr: &Repr, n: u64, q: f64) -> f64 {
    let Some((j, f)) = rank_of(q, n) else {
        return f64::NAN;
    };
    let (lo, hi) = match repr {
        Repr::Exact(values) => order_statistics(values.iter().copied(), j),
        Repr::Sketch(sketch) => order_statistics(sketch.ascending(), j),
    };
    interpolate(lo, hi, f)
}

impl Quantiles {
    /// The largest number of distinct values kept exactly; past it the
    /// accumulator switches to the sketch mode.
    pub const CAP: usize = 4096;

    /// The relative accuracy `α = 2^-8` of the sketch mode for normal values
    /// (see the type's docs for subnormal ones).
    pub const ALPHA: f64 = 1.0 / 256.0;

    /// The largest sketch bucket index, that of `f64::MAX`.
    pub const MAX_BUCKET: u32 = (f64::MAX.to_bits() >> BUCKET_SHIFT) as u32;

    /// An empty accumulator.
    pub fn new() -> Quantiles {
        Quantiles {
            counts: Counts::default(),
            sketch: false,
            count: 0,
            nan_count: 0,
        }
    }

    /// Adds one value. NaN is only counted (see [`Quantiles::nan_count`]);
    /// `-0.0` is stored as `0.0`.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            self.nan_count = self.nan_count.saturating_add(1);
            return;
        }
        self.count = self.count.saturating_add(1);
        let bits = if x == 0.0 { 0 } else { x.to_bits() };
        let key = if self.sketch { sketch_key(bits) } else { bits };
        match self.counts.get_mut(key) {
            Some(c) => *c = c.saturating_add(1),
            None => self.add_new(key, 1),
        }
    }

    /// Adds `times` copies of the value or bucket of `key` (a key of the
    /// current mode).
    fn add_key(&mut self, key: u64, times: u64) {
        match self.counts.get_mut(key) {
            Some(c) => *c = c.saturating_add(times),
            None => self.add_new(key, times),
        }
    }

    /// Adds `times` copies of the value or bucket of `key` (a key of the
    /// current mode), which the table does not hold: in exact mode, past
    /// `CAP` distinct values, the switch to the sketch first.
    #[cold]
    #[inline(never)]
    fn add_new(&mut self, key: u64, times: u64) {
        if !self.sketch && self.counts.len >= Self::CAP {
            self.switch_to_sketch();
            self.counts.add(sketch_key(key), times);
        } else {
            self.counts.insert(key, times);
        }
    }

    /// Replaces every distinct value by its bucket (the counts of a
    /// bucket's values added up).
    fn switch_to_sketch(&mut self) {
        let exact = std::mem::take(&mut self.counts);
        self.sketch = true;
        for (bits, count) in exact.pairs() {
            self.counts.add(sketch_key(bits), count);
        }
    }

    /// The canonical state (see the type's docs): the table's pairs sorted.
    fn canonical(&self) -> Repr {
        if self.sketch {
            return Repr::Sketch(Sketch::from_pairs(self.counts.pairs()));
        }
        let mut pairs: Vec<(u64, u64)> = self.counts.pairs().collect();
        // The keys are distinct, so the unstable sort is deterministic.
        pairs.sort_unstable_by_key(|&(bits, _)| total_order_key(bits));
        Repr::Exact(
            pairs
                .into_iter()
                .map(|(bits, count)| (f64::from_bits(bits), count))
                .collect(),
        )
    }

    /// Folds `other` into `self`. The result is the state that adding all of
    /// both accumulators' values to an empty one would give: exact while the
    /// union has at most [`Quantiles::CAP`] distinct values, otherwise a
    /// sketch of both.
    pub fn merge(&mut self, other: &Quantiles) {
        self.nan_count = self.nan_count.saturating_add(other.nan_count);
        self.count = self.count.saturating_add(other.count);
        if other.sketch && !self.sketch {
            self.switch_to_sketch();
        }
        for (key, count) in other.counts.pairs() {
            // `self` can switch to the sketch on the way, never back.
            let key = if self.sketch && !other.sketch {
                sketch_key(key)
            } else {
                key
            };
            self.add_key(key, count);
        }
    }

    /// The state as plain data.
    pub fn to_parts(&self) -> QuantilesParts {
        let values = match self.canonical() {
            Repr::Exact(values) => QuantilesValues::Exact(values),
            Repr::Sketch(s) => QuantilesValues::Sketch {
                neg_inf: s.neg_inf,
                negative: s.negative,
                zero: s.zero,
                positive: s.positive,
                pos_inf: s.pos_inf,
            },
        };
        QuantilesParts {
            nan_count: self.nan_count,
            values,
        }
    }

    /// The accumulator whose state `parts` describes, or what makes it one
    /// that no sequence of [`Quantiles::add`] could reach (more than `CAP`
    /// exact values, values not strictly increasing, NaN, `-0.0`, zero
    /// counts; a sketch of at most `CAP` values, bucket indices out of order
    /// or beyond [`Quantiles::MAX_BUCKET`], empty buckets).
    pub fn from_parts(parts: QuantilesParts) -> Result<Quantiles, String> {
        let mut counts = Counts::default();
        let (sketch, count) = match parts.values {
            QuantilesValues::Exact(values) => {
                if values.len() > Self::CAP {
                    return Err(format!(
                        "{} distinct exact values, more than {}",
                        values.len(),
                        Self::CAP
                    ));
                }
                if values
                    .iter()
                    .any(|(x, _)| x.is_nan() || x.to_bits() == (-0.0f64).to_bits())
                {
                    return Err("an exact value is NaN or -0".into());
                }
                if values.iter().any(|&(_, c)| c == 0) {
                    return Err("an exact value has count 0".into());
                }
                if values.windows(2).any(|w| w[0].0.total_cmp(&w[1].0).is_ge()) {
                    return Err("the exact values are not strictly increasing".into());
                }
                let count = values.iter().fold(0u64, |n, &(_, c)| n.saturating_add(c));
                // Strictly increasing: distinct keys.
                for &(x, c) in &values {
                    counts.insert(x.to_bits(), c);
                }
                (false, count)
            }
            QuantilesValues::Sketch {
                neg_inf,
                negative,
                zero,
                positive,
                pos_inf,
            } => {
                let mut count = neg_inf.saturating_add(zero).saturating_add(pos_inf);
                for buckets in [&negative, &positive] {
                    let mut last = None;
                    for &(index, c) in buckets {
                        if c == 0 || index > Self::MAX_BUCKET || last.is_some_and(|l| l >= index) {
                            return Err(format!(
                                "sketch bucket {index} (count {c}) is empty, out of range or out of order"
                            ));
                        }
                        last = Some(index);
                        count = count.saturating_add(c);
                    }
                }
                // More than CAP distinct values make more than CAP values.
                if count <= Self::CAP as u64 {
                    return Err(format!(
                        "a sketch of {count} values (up to {} distinct values are kept exactly)",
                        Self::CAP
                    ));
                }
                let negative = negative
                    .iter()
                    .map(|&(index, c)| (SIGN_KEY | u64::from(index), c));
                let positive = positive.iter().map(|&(index, c)| (u64::from(index), c));
                let special = [
                    (SIGN_KEY | u64::from(INF_INDEX), neg_inf),
                    (ZERO_KEY, zero),
                    (u64::from(INF_INDEX), pos_inf),
                ];
                // Strictly increasing indices: distinct keys.
                for (key, c) in negative.chain(positive).chain(special) {
                    if c > 0 {
                        counts.insert(key, c);
                    }
                }
                (true, count)
            }
        };
        Ok(Quantiles {
            counts,
            sketch,
            count,
            nan_count: parts.nan_count,
        })
    }

    /// The number of non-NaN values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The number of NaN values added (and ignored).
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }

    /// Whether the accumulator still holds every value exactly (at most
    /// [`Quantiles::CAP`] distinct values added).
    pub fn is_exact(&self) -> bool {
        !self.sketch
    }

    /// The `q`-quantile of the values added: type 7 on the exact values, or
    /// on the bucket representatives in sketch mode (see the type's docs for
    /// the error bound). NaN when no non-NaN value was added or `q` is not
    /// in `[0, 1]`. Each call sorts the values: [`Quantiles::quantiles`]
    /// sorts once for several.
    pub fn quantile(&self, q: f64) -> f64 {
        let [v] = self.quantiles([q]);
        v
    }

    /// The quantiles of `qs`, each what [`Quantiles::quantile`] gives, for
    /// one sort of the values.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        if self.count == 0 {
            return [f64::NAN; N];
        }
        let repr = self.canonical();
        qs.map(|q| quantile_of(&repr, self.count, q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{replication_key, Dist, Stream};
    use proptest::prelude::*;

    /// The state after any number of adds is the runs of the sorted values
    /// added, bit for bit, its quantiles those of the sorted values, and the
    /// switch to the sketch comes when the distinct values first exceed
    /// `CAP`, with the sketch that adding every value to a sketch by
    /// binary search gives.
    #[test]
    fn state_matches_sorted_reference() {
        use super::*;
        let mut word: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            word ^= word << 13;
            word ^= word >> 7;
            word ^= word << 17;
            match word % 16 {
                0 => 0.0,
                1 => -0.0,
                2 => f64::INFINITY,
                3 => f64::NEG_INFINITY,
                4 => f64::NAN,
                5 => (word % 7) as f64,
                _ => f64::from_bits(word >> 2) * if word & 1 == 0 { 1.0 } else { -1.0 },
            }
        };
        let mut q = Quantiles::new();
        // Every non-NaN value added, sorted, and how many are distinct.
        let mut reference: Vec<f64> = Vec::new();
        let mut distinct = 0;
        let mut switched_at = None;
        for n in 1..=2 * Quantiles::CAP {
            let x = next();
            q.add(x);
            if !x.is_nan() {
                let x = if x == 0.0 { 0.0 } else { x };
                let at = reference.partition_point(|v| v.total_cmp(&x).is_le());
                if at == 0 || reference[at - 1].to_bits() != x.to_bits() {
                    distinct += 1;
                }
                reference.insert(at, x);
            }
            if switched_at.is_none() && distinct > Quantiles::CAP {
                switched_at = Some(n);
            }
            assert_eq!(q.is_exact(), distinct <= Quantiles::CAP, "after {n} adds");
            if n % 61 != 0 && distinct.abs_diff(Quantiles::CAP) > 2 {
                continue;
            }
            assert_eq!(q.count(), reference.len() as u64);
            let mut runs: Vec<(f64, u64)> = Vec::new();
            for &x in &reference {
                match runs.last_mut() {
                    Some((v, c)) if v.to_bits() == x.to_bits() => *c += 1,
                    _ => runs.push((x, 1)),
                }
            }
            assert_eq!(runs.len(), distinct);
            let expected = if distinct > Quantiles::CAP {
                // One value at a time, independently of the hash table.
                let mut sketch = Sketch::default();
                reference.iter().for_each(|&x| sketch_add(&mut sketch, x));
                Repr::Sketch(sketch)
            } else {
                Repr::Exact(runs.clone())
            };
            let state = q.canonical();
            assert_eq!(state, expected, "after {n} adds");
            if let (Repr::Exact(got), Repr::Exact(want)) = (&state, &expected) {
                let bits =
                    |v: &[(f64, u64)]| v.iter().map(|(x, c)| (x.to_bits(), *c)).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want));
            }
            for p in [0.0, 0.05, 0.5, 0.95, 1.0] {
                let direct = match &expected {
                    Repr::Exact(_) => {
                        // Type 7 on the sorted values themselves.
                        let (j, f) = rank_of(p, reference.len() as u64).expect("non-empty");
                        let next = (j as usize + 1).min(reference.len() - 1);
                        interpolate(reference[j as usize], reference[next], f)
                    }
                    Repr::Sketch(_) => q.quantile(p),
                };
                assert_eq!(q.quantile(p).to_bits(), direct.to_bits());
            }
        }
        assert!(switched_at.is_some(), "the test must cross the cap");
    }

    /// Adds one non-NaN value to a sketch by binary search in its sorted
    /// bucket lists: the reference the hash table is checked against.
    fn sketch_add(sketch: &mut Sketch, x: f64) {
        let bits = x.to_bits();
        let magnitude = bits & !(1 << 63);
        let negative = bits >> 63 == 1;
        if magnitude == 0 {
            sketch.zero += 1;
        } else if magnitude >= f64::INFINITY.to_bits() {
            *if negative {
                &mut sketch.neg_inf
            } else {
                &mut sketch.pos_inf
            } += 1;
        } else {
            let index = (magnitude >> BUCKET_SHIFT) as u32;
            let buckets = if negative {
                &mut sketch.negative
            } else {
                &mut sketch.positive
            };
            match buckets.binary_search_by_key(&index, |&(i, _)| i) {
                Ok(k) => buckets[k].1 += 1,
                Err(k) => buckets.insert(k, (index, 1)),
            }
        }
    }

    #[test]
    fn exact_quantiles_known_answers() {
        let mut q = Quantiles::new();
        assert!(q.quantile(0.5).is_nan());
        for x in [4.0, 1.0, 3.0, 2.0] {
            q.add(x);
        }
        assert_eq!(q.quantile(0.0), 1.0);
        assert_eq!(q.quantile(0.25), 1.75);
        assert_eq!(q.quantile(0.5), 2.5);
        assert_eq!(q.quantile(1.0), 4.0);
        assert!(q.quantile(1.5).is_nan());
        assert!(q.quantile(f64::NAN).is_nan());
        // R: quantile(c(1, 2, 3, 4, 10), c(.1, .9)) = 1.4, 7.6
        q.add(10.0);
        assert!((q.quantile(0.1) - 1.4).abs() < 1e-15);
        assert!((q.quantile(0.9) - 7.6).abs() < 1e-12);
        q.add(f64::NAN);
        assert_eq!(q.count(), 5);
        assert_eq!(q.nan_count(), 1);
        assert_eq!(q.quantile(0.5), 3.0);
    }

    #[test]
    fn infinities_are_extreme_values() {
        let mut q = Quantiles::new();
        for x in [f64::NEG_INFINITY, 1.0, 2.0, f64::INFINITY] {
            q.add(x);
        }
        assert_eq!(q.quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(q.quantile(0.1), f64::NEG_INFINITY);
        assert_eq!(q.quantile(0.5), 1.5);
        assert_eq!(q.quantile(0.9), f64::INFINITY);
        let mut both = Quantiles::new();
        both.add(f64::NEG_INFINITY);
        both.add(f64::INFINITY);
        assert!(both.quantile(0.5).is_nan());
        // Extreme finite values do not overflow.
        let mut big = Quantiles::new();
        big.add(-f64::MAX);
        big.add(f64::MAX);
        assert_eq!(big.quantile(0.5), 0.0);
    }

    /// The table has the fewest slots (a power of two, 8 at least) that
    /// keep it at most half full, and the exact mode ends with `2 · CAP`
    /// slots; the counts survive every doubling.
    #[test]
    fn table_grows_by_doubling_at_half_full() {
        let mut q = Quantiles::new();
        assert!(
            q.counts.slots.is_empty(),
            "an empty accumulator allocates nothing"
        );
        for k in 1..=Quantiles::CAP {
            // Value k - 1 added k times in all, over the loop.
            for x in 0..k {
                if x + 1 == k || (k - x) % 512 == 0 {
                    q.add(x as f64);
                }
            }
            assert_eq!(q.counts.len, k);
            assert_eq!(
                q.counts.slots.len(),
                (2 * k).next_power_of_two().max(8),
                "k = {k}"
            );
        }
        assert!(q.is_exact());
        assert_eq!(q.counts.slots.len(), 2 * Quantiles::CAP);
        let QuantilesValues::Exact(values) = q.to_parts().values else {
            panic!("exact mode")
        };
        assert_eq!(values.len(), Quantiles::CAP);
        for (x, (v, c)) in values.iter().enumerate() {
            assert_eq!(*v, x as f64);
            // Added once when new, then once per 512 later rounds.
            assert_eq!(*c, 1 + (Quantiles::CAP - x) as u64 / 512, "x = {x}");
        }
    }

    /// Keys that start their probe at the same slot (the last one, so the
    /// probe wraps around) are told apart, in any order of insertion.
    #[test]
    fn colliding_keys_are_kept_apart() {
        let table = Counts {
            slots: vec![(EMPTY, 0); MIN_SLOTS],
            len: 0,
            shift: 64 - MIN_SLOTS.trailing_zeros(),
        };
        let colliding: Vec<f64> = (1..10_000u32)
            .map(f64::from)
            .filter(|x| table.home(x.to_bits()) == MIN_SLOTS - 1)
            .take(3)
            .collect();
        assert_eq!(colliding.len(), 3);
        let expected: Vec<(f64, u64)> = colliding.iter().map(|&x| (x, x as u64 % 5 + 1)).collect();
        let mut states = Vec::new();
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut q = Quantiles::new();
            for &k in &order {
                let (x, c) = expected[k];
                for _ in 0..c {
                    q.add(x);
                }
            }
            assert_eq!(q.counts.slots.len(), MIN_SLOTS, "no doubling for 3 keys");
            // The first key sits at its home slot, the others after it,
            // wrapping to slots 0 and 1.
            let (first, _) = expected[order[0]];
            assert_eq!(q.counts.slots[MIN_SLOTS - 1].0, first.to_bits());
            let occupied: Vec<usize> = (0..MIN_SLOTS)
                .filter(|&i| q.counts.slots[i].0 != EMPTY)
                .collect();
            assert_eq!(occupied, [0, 1, MIN_SLOTS - 1]);
            assert_eq!(
                q.to_parts().values,
                QuantilesValues::Exact(expected.clone())
            );
            states.push(q);
        }
        assert_eq!(states[0], states[1]);
        assert_eq!(states[1], states[2]);
    }

    /// NaN is counted apart, `-0.0` is `0.0`, infinities are values; in
    /// sketch mode zero and the infinities have counts of their own, apart
    /// from the subnormal bucket 0 and the top finite bucket.
    #[test]
    fn special_values_exact_and_sketch() {
        let tiny = f64::from_bits(1); // 2^-1074, in bucket 0
        let mut q = Quantiles::new();
        for x in [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            -0.0,
            f64::NEG_INFINITY,
            -f64::NAN,
            f64::INFINITY,
            tiny,
            -tiny,
        ] {
            q.add(x);
        }
        assert_eq!(q.count(), 8);
        assert_eq!(q.nan_count(), 2);
        let parts = q.to_parts();
        assert_eq!(
            parts,
            QuantilesParts {
                nan_count: 2,
                values: QuantilesValues::Exact(vec![
                    (f64::NEG_INFINITY, 1),
                    (-tiny, 1),
                    (0.0, 3),
                    (tiny, 1),
                    (f64::INFINITY, 2),
                ]),
            }
        );
        let QuantilesValues::Exact(values) = &parts.values else {
            unreachable!()
        };
        assert_eq!(values[2].0.to_bits(), 0, "zero is stored as +0.0");
        assert_eq!(q.quantile(0.5).to_bits(), 0);
        assert_eq!(Quantiles::from_parts(parts.clone()), Ok(q.clone()));
        // CAP more distinct values (1..=CAP, in buckets of their own only
        // up to 128) switch it to the sketch.
        for i in 1..=Quantiles::CAP {
            q.add(i as f64);
        }
        q.add(f64::MAX);
        assert!(!q.is_exact());
        let QuantilesValues::Sketch {
            neg_inf,
            negative,
            zero,
            positive,
            pos_inf,
        } = q.to_parts().values
        else {
            panic!("sketch mode")
        };
        assert_eq!((neg_inf, zero, pos_inf), (1, 3, 2));
        assert_eq!(negative, [(0, 1)]);
        assert_eq!(positive.first(), Some(&(0, 1)));
        assert_eq!(positive.last(), Some(&(Quantiles::MAX_BUCKET, 1)));
        let one = (1.0f64.to_bits() >> BUCKET_SHIFT) as u32;
        assert_eq!(positive[1], (one, 1));
        assert_eq!(
            positive.iter().map(|&(_, c)| c).sum::<u64>(),
            2 + Quantiles::CAP as u64
        );
        assert_eq!(q.quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(q.quantile(1.0), f64::INFINITY);
        assert_eq!(Quantiles::from_parts(q.to_parts()), Ok(q.clone()));
    }

    /// The sketch comes with the `CAP + 1`-th distinct value, by adds or by
    /// merges, and is the sketch of all the values.
    #[test]
    fn switch_at_cap_plus_one_distinct_values() {
        let value = |i: usize| (i as f64 - 1000.0) * 0.37;
        let mut q = Quantiles::new();
        let mut reference = Sketch::default();
        for i in 0..Quantiles::CAP {
            q.add(value(i));
            q.add(value(i / 2));
            sketch_add(&mut reference, value(i));
            sketch_add(&mut reference, value(i / 2));
        }
        assert!(q.is_exact());
        assert_eq!(q.counts.len, Quantiles::CAP);
        // Halves of the values, merged: still CAP distinct values.
        let (mut a, mut b) = (Quantiles::new(), Quantiles::new());
        for i in 0..Quantiles::CAP {
            let half = if i % 3 == 0 { &mut a } else { &mut b };
            half.add(value(i));
            half.add(value(i / 2));
        }
        a.merge(&b);
        assert!(a.is_exact());
        assert_eq!(a, q);
        // One more distinct value, by an add and by a merge.
        let extra = value(Quantiles::CAP);
        let mut one = Quantiles::new();
        one.add(extra);
        a.merge(&one);
        one.merge(&q);
        q.add(extra);
        sketch_add(&mut reference, extra);
        for got in [&q, &a, &one] {
            assert!(!got.is_exact());
            assert_eq!(got.count(), 2 * Quantiles::CAP as u64 + 1);
            assert_eq!(got.canonical(), Repr::Sketch(reference.clone()));
        }
        assert_eq!(a, q);
        assert_eq!(one, q);
    }

    /// Several quantiles at once are those asked one at a time.
    #[test]
    fn quantiles_at_once_match_one_at_a_time() {
        let qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0, -0.5, f64::NAN];
        let empty = Quantiles::new();
        assert!(empty.quantiles(qs).iter().all(|v| v.is_nan()));
        for n in [1, 7, 5000] {
            let mut q = Quantiles::new();
            for i in 0..n {
                q.add(libm::sin(i as f64));
            }
            let at_once = q.quantiles(qs);
            for (v, &p) in at_once.iter().zip(&qs) {
                assert_eq!(v.to_bits(), q.quantile(p).to_bits(), "n = {n}, p = {p}");
            }
        }
    }

    #[test]
    fn switches_to_sketch_past_cap() {
        let mut q = Quantiles::new();
        for i in 0..Quantiles::CAP {
            q.add(i as f64);
        }
        assert!(q.is_exact());
        // More copies of values already there: still CAP distinct values.
        for i in 0..1000 {
            q.add((i % 10) as f64);
        }
        assert!(q.is_exact());
        q.add(-1.0);
        assert!(!q.is_exact());
        assert_eq!(q.count(), Quantiles::CAP as u64 + 1001);
    }

    /// A column of small integers (counts, 0/1 outcomes) stays exact however
    /// many values it gets, and its quantiles are those of the sorted values.
    #[test]
    fn small_integers_stay_exact_past_cap() {
        let mut s = Stream::new(&replication_key(17, 0, None), 0);
        let dist = Dist::Exponential { mean: 4.0 };
        let mut xs: Vec<f64> = (0..50_000)
            .map(|i| {
                if i % 5 == 0 {
                    0.0
                } else {
                    libm::floor(dist.sample(&mut s)) - 3.0
                }
            })
            .collect();
        let q = accumulate(&xs);
        assert!(q.is_exact());
        assert_eq!(q.count(), xs.len() as u64);
        xs.sort_by(f64::total_cmp);
        for p in [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0] {
            assert_eq!(q.quantile(p), type7(&xs, p), "p = {p}");
        }
        // The same values in parts, merged, give the same state.
        let mut merged = accumulate(&xs[..20_000]);
        merged.merge(&accumulate(&xs[20_000..]));
        assert_eq!(merged, q);
    }

    /// Every bucket representative is within relative error ALPHA of every
    /// normal value of its bucket (checked at the bucket's ends and at random
    /// bit patterns), and within 2^-1030 of every subnormal one.
    #[test]
    fn bucket_representatives_are_within_alpha() {
        let index = |x: f64| (x.abs().to_bits() >> BUCKET_SHIFT) as u32;
        let mut word: u64 = 0x2545_f491_4f6c_dd1d;
        for k in 0..200_000u32 {
            word ^= word << 13;
            word ^= word >> 7;
            word ^= word << 17;
            let x = match k % 4 {
                // The lowest and highest values of a bucket.
                0 => f64::from_bits(word & !((1 << BUCKET_SHIFT) - 1) & !(1 << 63)),
                1 => f64::from_bits(word | ((1 << BUCKET_SHIFT) - 1)),
                _ => f64::from_bits(word),
            };
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            let i = index(x);
            assert!(i <= Quantiles::MAX_BUCKET);
            let rep = bucket_value(i);
            assert_eq!(index(rep), i, "the representative lies in its bucket");
            let error = (rep - x.abs()).abs();
            if x.abs() >= f64::MIN_POSITIVE {
                assert!(error <= Quantiles::ALPHA * x.abs(), "{x:e}: {rep:e}");
            } else {
                assert!(error <= 2f64.powi(-1030), "{x:e}: {rep:e}");
            }
        }
        assert_eq!(index(f64::MAX), Quantiles::MAX_BUCKET);
        assert!(bucket_value(Quantiles::MAX_BUCKET) < f64::MAX);
    }

    /// Quantiles of values spanning 600 orders of magnitude, of both signs,
    /// are within ALPHA of the exact ones.
    #[test]
    fn sketch_quantiles_are_within_alpha_over_many_magnitudes() {
        let mut s = Stream::new(&replication_key(19, 0, None), 0);
        let mut xs: Vec<f64> = (0..60_000)
            .map(|_| {
                let magnitude = libm::exp(s.uniform() * 1381.0 - 690.0);
                if s.uniform() < 0.3 {
                    -magnitude
                } else {
                    magnitude
                }
            })
            .collect();
        let acc = accumulate(&xs);
        assert!(!acc.is_exact());
        xs.sort_by(f64::total_cmp);
        for k in 0..=200 {
            let q = f64::from(k) / 200.0;
            let (exact, approx) = (type7(&xs, q), acc.quantile(q));
            let (j, _) = rank_of(q, xs.len() as u64).expect("non-empty");
            let j = j as usize;
            let same_sign = xs[j].signum() == xs[(j + 1).min(xs.len() - 1)].signum();
            let bound = if same_sign {
                Quantiles::ALPHA * exact.abs()
            } else {
                Quantiles::ALPHA * xs[j].abs().max(xs[j + 1].abs())
            };
            assert!(
                (approx - exact).abs() <= bound * (1.0 + 1e-9),
                "q = {q}: {approx:e} vs {exact:e}"
            );
        }
    }

    /// Exact type-7 quantile of a sorted slice, for comparison.
    fn type7(sorted: &[f64], q: f64) -> f64 {
        let h = q * (sorted.len() - 1) as f64;
        let j = h.floor() as usize;
        let next = (j + 1).min(sorted.len() - 1);
        sorted[j] + (h - j as f64) * (sorted[next] - sorted[j])
    }

    #[test]
    fn sketch_quantiles_are_within_alpha() {
        let dists = [
            Dist::LogNormal {
                mu: 1.0,
                sigma: 2.0,
            },
            Dist::Exponential { mean: 3.0 },
            Dist::Uniform {
                min: 0.0,
                max: 1e-3,
            },
        ];
        for (k, dist) in dists.iter().enumerate() {
            let mut s = Stream::new(&replication_key(13, k as u64, None), 0);
            let mut xs: Vec<f64> = (0..100_000).map(|_| dist.sample(&mut s)).collect();
            let mut acc = Quantiles::new();
            xs.iter().for_each(|&x| acc.add(x));
            assert!(!acc.is_exact());
            xs.sort_by(f64::total_cmp);
            for q in [
                0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0,
            ] {
                let exact = type7(&xs, q);
                let approx = acc.quantile(q);
                let rel = ((approx - exact) / exact).abs();
                assert!(
                    rel <= Quantiles::ALPHA * (1.0 + 1e-9),
                    "{dist:?} q = {q}: {approx} vs {exact} (rel {rel})"
                );
            }
        }
    }

    #[test]
    fn sketch_handles_signs_zero_and_extremes() {
        let mut q = Quantiles::new();
        for i in 0..5000 {
            q.add(i as f64 - 2500.0);
        }
        q.add(f64::MAX);
        q.add(-f64::MAX);
        q.add(f64::MIN_POSITIVE / 4.0); // subnormal
        q.add(-0.0);
        assert!(!q.is_exact());
        let rel_max = |v: f64| ((v.abs() - f64::MAX) / f64::MAX).abs();
        assert!(rel_max(q.quantile(1.0)) <= Quantiles::ALPHA);
        assert!(q.quantile(1.0) > 0.0);
        assert!(rel_max(q.quantile(0.0)) <= Quantiles::ALPHA);
        assert!(q.quantile(0.0) < 0.0);
        // Sorted: -MAX, -2500..=-1, 0, 0, subnormal, 1..=2499, MAX; the
        // median falls between the two zeros, which the zero count keeps exact.
        assert_eq!(q.quantile(0.5), 0.0);
        for (quant, exact) in [(0.1, -2000.3), (0.9, 1999.7)] {
            let v = q.quantile(quant);
            assert!(
                ((v - exact) / exact).abs() <= Quantiles::ALPHA * 1.01,
                "{v}"
            );
        }
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -1e3..1e3f64,
            2 => 1e-6..1e9f64,
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(f64::NAN),
            1 => any::<f64>(),
        ]
    }

    fn accumulate(xs: &[f64]) -> Quantiles {
        let mut q = Quantiles::new();
        xs.iter().for_each(|&x| q.add(x));
        q
    }

    fn check_split_merge(xs: &[f64], cuts: &[usize], order_seed: u64) {
        let whole = accumulate(xs);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (xs.len() + 1)).collect();
        cuts.sort_unstable();
        let mut parts = Vec::new();
        let mut start = 0;
        for &c in cuts.iter().chain(std::iter::once(&xs.len())) {
            parts.push(accumulate(&xs[start..c]));
            start = c;
        }
        // Merge in a scrambled order: the result must not care.
        let n_parts = parts.len();
        let mut merged = Quantiles::new();
        let mut order: Vec<usize> = (0..n_parts).collect();
        order.rotate_left(order_seed as usize % n_parts);
        if order_seed % 2 == 1 {
            order.reverse();
        }
        for k in order {
            merged.merge(&parts[k]);
        }
        assert_eq!(merged, whole);
        assert_eq!(merged.count(), whole.count());
        assert_eq!(merged.nan_count(), whole.nan_count());
        for q in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0] {
            assert_eq!(merged.quantile(q).to_bits(), whole.quantile(q).to_bits());
        }
        // Insertion order does not matter either.
        let mut reversed = xs.to_vec();
        reversed.reverse();
        assert_eq!(accumulate(&reversed), whole);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn split_merge_is_identical_exact_mode(
            xs in prop::collection::vec(value(), 0..600),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
            order_seed in any::<u64>(),
        ) {
            check_split_merge(&xs, &cuts, order_seed);
        }

        #[test]
        fn split_merge_is_identical_sketch_mode(
            xs in prop::collection::vec(value(), 6500..9000),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
            order_seed in any::<u64>(),
        ) {
            prop_assert!(!accumulate(&xs).is_exact());
            check_split_merge(&xs, &cuts, order_seed);
        }
    }

    #[test]
    fn quantile_parts_round_trip_and_are_checked() {
        for (n, modulus) in [
            (0usize, 1usize),
            (5, 5),
            (Quantiles::CAP, 9000),
            (Quantiles::CAP + 1, 9000),
            (9000, 9000),
            (9000, 40),
        ] {
            let mut q = Quantiles::new();
            for i in (0..n).map(|i| i % modulus) {
                q.add(if i % 3 == 0 {
                    -(i as f64)
                } else {
                    i as f64 * 0.5
                });
            }
            q.add(f64::NAN);
            let back = Quantiles::from_parts(q.to_parts()).expect("a reachable state");
            assert_eq!(back, q);
            assert_eq!(back.quantile(0.3).to_bits(), q.quantile(0.3).to_bits());
        }
        let exact = |v: Vec<(f64, u64)>| QuantilesParts {
            nan_count: 0,
            values: QuantilesValues::Exact(v),
        };
        assert!(Quantiles::from_parts(exact(vec![(1.0, 3), (2.0, 1)])).is_ok());
        assert!(Quantiles::from_parts(exact(vec![(2.0, 1), (1.0, 1)])).is_err());
        assert!(Quantiles::from_parts(exact(vec![(1.0, 1), (1.0, 1)])).is_err());
        assert!(Quantiles::from_parts(exact(vec![(1.0, 0)])).is_err());
        assert!(Quantiles::from_parts(exact(vec![(-0.0, 1)])).is_err());
        assert!(Quantiles::from_parts(exact(vec![(f64::NAN, 1)])).is_err());
        let many = (0..=Quantiles::CAP).map(|i| (i as f64, 1)).collect();
        assert!(Quantiles::from_parts(exact(many)).is_err());
        let sketch = |negative: Vec<(u32, u64)>, zero: u64| QuantilesParts {
            nan_count: 0,
            values: QuantilesValues::Sketch {
                neg_inf: 0,
                negative,
                zero,
                positive: Vec::new(),
                pos_inf: 0,
            },
        };
        assert!(Quantiles::from_parts(sketch(vec![(3, 1)], 10)).is_err());
        assert!(Quantiles::from_parts(sketch(vec![(3, 1), (2, 1)], 5000)).is_err());
        assert!(Quantiles::from_parts(sketch(vec![(3, 1), (3, 1)], 5000)).is_err());
        assert!(Quantiles::from_parts(sketch(vec![(3, 0)], 5000)).is_err());
        let top = Quantiles::MAX_BUCKET;
        assert!(Quantiles::from_parts(sketch(vec![(top + 1, 1)], 5000)).is_err());
        assert!(Quantiles::from_parts(sketch(vec![(2, 1), (top, 1)], 5000)).is_ok());
    }

    /// Two parts of at most CAP distinct values each whose union has more
    /// merge to the sketch that adding every value in sequence switches to.
    #[test]
    fn exact_parts_past_cap_merge_to_the_sequential_sketch() {
        let xs: Vec<f64> = (0..Quantiles::CAP + 700)
            .map(|i| (i % (Quantiles::CAP + 350)) as f64 * 0.37 - 50.0)
            .collect();
        let mut sequential = Quantiles::new();
        xs.iter().for_each(|&x| sequential.add(x));
        let half = xs.len() / 2;
        let (mut a, mut b) = (Quantiles::new(), Quantiles::new());
        xs[..half].iter().for_each(|&x| a.add(x));
        xs[half..].iter().for_each(|&x| b.add(x));
        assert!(a.is_exact() && b.is_exact() && !sequential.is_exact());
        b.merge(&a);
        assert_eq!(b, sequential);
    }
}
