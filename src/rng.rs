//! Randomness, addressed not shared: key derivation, streams and delay
//! distributions.
//!
//! This module owns every random number the simulation draws. It keeps three
//! promises of the determinism contract (`docs/design.md`):
//!
//! * **Addressed keys.** Replication `rep` of a run with master seed `seed`
//!   uses the ChaCha8 key [`replication_key`]`(seed, rep, point)`, a fixed
//!   mixing function documented below. No thread id, clock or completion order
//!   takes part.
//! * **One stream per source.** Within a replication every source of
//!   randomness (a scheduled jitter, a rule, a hazard, tie breaking) draws from
//!   its own ChaCha stream, named by a [`stream_id`] constructor, so changing
//!   one rule's probability does not shift the draws of another.
//! * **Portable arithmetic.** Every transcendental function used to turn bits
//!   into variates (`log`, `exp`, `sqrt`, `pow`, `cos`, `erf`, ...) comes from
//!   the pure-Rust [`libm`] crate, never the platform's, so a seeded draw is
//!   bit-identical on every machine.
//!
//! The generator is ChaCha8, chosen once for the whole project: the
//! keystream of [`rand_chacha::ChaCha8Rng`] (64-bit block counter in state
//! words 12–13, the stream id in words 14–15, words read as little-endian
//! pairs), computed here one 64-byte block at a time when a stream needs it
//! (a source draws a few words per replication; `rand_chacha` computes four
//! blocks at once). A test compares the two word for word. Changing the generator, [`replication_key`], the
//! [`stream_id`] layout, or the way [`Stream`] turns bits into variates changes
//! every golden file.

/// The 64-bit golden-ratio increment of SplitMix64, `0x9E3779B97F4A7C15`.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The tag mixed into the key before a sweep point index, so that keyed
/// points live in a different part of the key space from unkeyed ones.
const POINT_TAG: u64 = 0x504F_494E_5400_0001; // "POINT\0\0\x01"

/// The SplitMix64 finalizer (Steele, Lea & Flood 2014; constants from
/// Stafford's "Mix13"). A bijection on `u64` with `mix(0) == 0`.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 32-byte ChaCha8 key of one replication.
///
/// This exact function is a stability promise: changing it changes every
/// golden file. With `mix` the SplitMix64 finalizer
///
/// ```text
/// mix(z) = { z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
///            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
///            z ^ (z >> 31) }                      (all arithmetic mod 2^64)
/// ```
///
/// the key is
///
/// ```text
/// h = mix(master_seed)
/// h = mix(h ^ rep)
/// if let Some(p) = point {                 // only for independent points
///     h = mix(h ^ 0x504F494E54000001)      // "POINT\0\0\x01"
///     h = mix(h ^ p)
/// }
/// word_i = mix(h + i * 0x9E3779B97F4A7C15)   for i = 1, 2, 3, 4
/// key    = word_1.to_le_bytes() ++ word_2 ++ word_3 ++ word_4
/// ```
///
/// `point` is `None` by default, so every point of a sweep sees the same
/// random numbers (common random numbers); pass `Some(point_index)` for the
/// option that gives each point independent streams.
///
/// Because `mix` is a bijection, for a fixed master seed (and fixed `point`)
/// distinct replications get distinct keys, and for a fixed `(seed, rep)`
/// distinct points get distinct keys.
///
/// ```
/// use flashpoint::rng::replication_key;
/// let a = replication_key(42, 0, None);
/// let b = replication_key(42, 1, None);
/// assert_ne!(a, b);
/// assert_eq!(a, replication_key(42, 0, None));
/// ```
pub fn replication_key(master_seed: u64, rep: u64, point: Option<u64>) -> [u8; 32] {
    let mut h = mix(master_seed);
    h = mix(h ^ rep);
    if let Some(p) = point {
        h = mix(h ^ POINT_TAG);
        h = mix(h ^ p);
    }
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
        let word = mix(h.wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN)));
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    key
}

/// The key of branch `branch` of a replication whose key is `parent`: the
/// streams a copied replication continues on (multilevel splitting, see
/// `docs/rare-events.md`).
///
/// ```text
/// h      = 0x4252414E43480001                 // "BRANCH\0\x01"
/// for each 8-byte little-endian word w of parent: h = mix(h ^ w)
/// h      = mix(h ^ branch)
/// word_i = mix(h + i * 0x9E3779B97F4A7C15)   for i = 1, 2, 3, 4
/// key    = word_1.to_le_bytes() ++ word_2 ++ word_3 ++ word_4
/// ```
///
/// with `mix` the SplitMix64 finalizer of [`replication_key`]. A branch key
/// is a pure function of the parent key and the index, so a tree of
/// branches is a pure function of the master seed.
///
/// ```
/// use flashpoint::rng::{branch_key, replication_key};
/// let k = replication_key(42, 0, None);
/// assert_ne!(branch_key(&k, 0), branch_key(&k, 1));
/// assert_ne!(branch_key(&k, 0), k);
/// assert_eq!(branch_key(&k, 3), branch_key(&k, 3));
/// ```
pub fn branch_key(parent: &[u8; 32], branch: u64) -> [u8; 32] {
    let mut h = 0x4252_414E_4348_0001u64;
    for chunk in parent.chunks_exact(8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        h = mix(h ^ w);
    }
    h = mix(h ^ branch);
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
        let word = mix(h.wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN)));
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    key
}

/// Stream ids: which ChaCha stream each source of randomness draws from.
///
/// A scenario's sources are addressed by **kind and name**, never by their
/// position in the file, so that inserting, deleting or reordering other
/// rules, hazards or schedule entries changes no source's draws:
///
/// ```text
/// stream = (kind << 56) | (mix(fnv1a64(name)) >> 8)
/// ```
///
/// with `mix` the SplitMix64 finalizer of [`replication_key`] and `fnv1a64`
/// the 64-bit FNV-1a hash of the name's UTF-8 bytes (offset basis
/// `0xCBF29CE484222325`, prime `0x100000001B3`). The kinds and names:
///
/// | kind | source | name | constructor |
/// | --- | --- | --- | --- |
/// | 1 | scheduled event jitter | `EVENT@AT` (`AT` the entry's time in shortest round-trip form, or `(TEXT)` with the text of an `at` given as an expression of parameters, `ping@(t0 + 1)`, so the stream is the same at every parameter point; a template instance's suffix follows, `ping@3[POL]`; a repeated `EVENT@AT` gets `#2`, `#3`, … in file order) | [`named`](stream_id::named) |
/// | 2 | policy rule (fire probability and delay) | the rule's `name` | [`named`](stream_id::named) |
/// | 3 | hazard (spontaneous events, thinning) | the hazard's `name` | [`named`](stream_id::named) |
/// | 4 | tie breaking (a single stream) | | [`tie_break`](stream_id::tie_break): `4 << 32` |
/// | 5 | sweep designs (a single stream) | | [`design`](stream_id::design): `5 << 32` |
/// | 6 | an actor's initial state (random draws in `state`) | the actor's `id` | [`named`](stream_id::named) |
/// | 7 | `run --posterior`: a replication's particle (a single stream) | | [`posterior`](stream_id::posterior): `7 << 32` |
///
/// Kind 0 is reserved and never used. Named streams have a non-zero top
/// byte and the two single streams a zero one, so they never meet; two names
/// of one kind could share a stream only through a collision of the 56-bit
/// hash, which the scenario compiler refuses ("rename one"). This layout is
/// a stability promise: changing it changes every golden file.
pub mod stream_id {
    /// Kind tag of scheduled-event streams.
    pub const KIND_SCHEDULE: u64 = 1;
    /// Kind tag of policy-rule streams.
    pub const KIND_RULE: u64 = 2;
    /// Kind tag of hazard streams.
    pub const KIND_HAZARD: u64 = 3;
    /// Kind tag of the tie-breaking stream.
    pub const KIND_TIE_BREAK: u64 = 4;
    /// Kind tag of the streams that draw actors' initial state (one per
    /// actor, named by its id).
    pub const KIND_ACTOR: u64 = 6;

    /// The 64-bit FNV-1a hash of `bytes`.
    pub const fn fnv1a64(bytes: &[u8]) -> u64 {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        let mut i = 0;
        while i < bytes.len() {
            h = (h ^ bytes[i] as u64).wrapping_mul(0x0000_0100_0000_01B3);
            i += 1;
        }
        h
    }

    /// The stream of the source of kind `kind` ([`KIND_SCHEDULE`],
    /// [`KIND_RULE`] or [`KIND_HAZARD`]) named `name`:
    /// `(kind << 56) | (mix(fnv1a64(name)) >> 8)`.
    ///
    /// ```
    /// use flashpoint::rng::stream_id::{named, KIND_RULE, KIND_HAZARD};
    /// assert_eq!(named(KIND_RULE, "a") >> 56, KIND_RULE);
    /// assert_ne!(named(KIND_RULE, "a"), named(KIND_HAZARD, "a"));
    /// assert_ne!(named(KIND_RULE, "a"), named(KIND_RULE, "b"));
    /// ```
    pub const fn named(kind: u64, name: &str) -> u64 {
        (kind << 56) | (super::mix(fnv1a64(name.as_bytes())) >> 8)
    }

    /// The single stream used to break ties, if one is ever needed:
    /// `4 << 32`.
    pub const fn tie_break() -> u64 {
        KIND_TIE_BREAK << 32
    }

    /// Kind of the stream that draws sweep designs (Latin hypercube, random points).
    pub const KIND_DESIGN: u64 = 5;

    /// The stream of sweep designs: `5 << 32`, under the key
    /// `replication_key(seed, u64::MAX, None)`.
    pub const fn design() -> u64 {
        KIND_DESIGN << 32
    }

    /// Kind of the stream that draws a replication's posterior particle
    /// (`run --posterior`).
    pub const KIND_POSTERIOR: u64 = 7;

    /// The stream of `run --posterior`'s particle draws: `7 << 32`, under
    /// each replication's own key `replication_key(seed, rep, None)`.
    pub const fn posterior() -> u64 {
        KIND_POSTERIOR << 32
    }
}

/// 2^-53, the spacing of the 53-bit uniform grid.
const TWO_POW_NEG_53: f64 = 1.0 / (1u64 << 53) as f64;

/// 2^-52, the spacing of the 52-bit grid of [`Stream::uniform_open`].
const TWO_POW_NEG_52: f64 = 1.0 / (1u64 << 52) as f64;

/// `(top 52 bits of word + 0.5) * 2^-52`, in `[2^-53, 1 - 2^-53]`.
fn open_unit_from_word(word: u64) -> f64 {
    ((word >> 12) as f64 + 0.5) * TWO_POW_NEG_52
}

/// `(top 53 bits of word) * 2^-53`, in `[0, 1 - 2^-53]`.
fn unit_from_word(word: u64) -> f64 {
    (word >> 11) as f64 * TWO_POW_NEG_53
}

/// One source's stream of random numbers: ChaCha8 with a replication key and
/// a stream id.
///
/// Every method documents how many 64-bit words it consumes, so that a
/// source's draws are a pure function of (key, stream id, the calls made on
/// that stream).
#[derive(Clone, Debug)]
pub struct Stream {
    /// The ChaCha key, as eight little-endian words.
    key: [u32; 8],
    /// The stream id (ChaCha's 64-bit nonce).
    stream_id: u64,
    /// The block computed next.
    block: u64,
    /// The current block's keystream as 64-bit words (`words[2i] | words[2i + 1] << 32`).
    words: [u64; 8],
    /// The next unread entry of `words` (8: none left).
    next: usize,
}

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// One ChaCha state row: four words, operated on lane by lane (the
/// compiler turns these into vector instructions where it can).
type Row = [u32; 4];

#[inline(always)]
fn add(a: Row, b: Row) -> Row {
    [
        a[0].wrapping_add(b[0]),
        a[1].wrapping_add(b[1]),
        a[2].wrapping_add(b[2]),
        a[3].wrapping_add(b[3]),
    ]
}

#[inline(always)]
fn xor_rotate(a: Row, b: Row, n: u32) -> Row {
    [
        (a[0] ^ b[0]).rotate_left(n),
        (a[1] ^ b[1]).rotate_left(n),
        (a[2] ^ b[2]).rotate_left(n),
        (a[3] ^ b[3]).rotate_left(n),
    ]
}

/// The four quarter rounds on the columns of rows `a`, `b`, `c`, `d`.
#[inline(always)]
fn quarter_rounds(a: &mut Row, b: &mut Row, c: &mut Row, d: &mut Row) {
    *a = add(*a, *b);
    *d = xor_rotate(*d, *a, 16);
    *c = add(*c, *d);
    *b = xor_rotate(*b, *c, 12);
    *a = add(*a, *b);
    *d = xor_rotate(*d, *a, 8);
    *c = add(*c, *d);
    *b = xor_rotate(*b, *c, 7);
}

/// Row `r` rotated left by `n` lanes.
#[inline(always)]
fn lanes(r: Row, n: usize) -> Row {
    [r[n % 4], r[(n + 1) % 4], r[(n + 2) % 4], r[(n + 3) % 4]]
}

/// The portable form of [`chacha8_block`]: block `block` of ChaCha8 under `key` and nonce `stream_id` (Bernstein's
/// original layout: 64-bit counter, 64-bit nonce), as 64-bit words. The
/// diagonal rounds are column rounds on rows rotated by 1, 2 and 3 lanes.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn chacha8_block_portable(key: &[u32; 8], block: u64, stream_id: u64) -> [u64; 8] {
    let k0 = [key[0], key[1], key[2], key[3]];
    let k1 = [key[4], key[5], key[6], key[7]];
    let d0 = [
        block as u32,
        (block >> 32) as u32,
        stream_id as u32,
        (stream_id >> 32) as u32,
    ];
    let (mut a, mut b, mut c, mut d) = (SIGMA, k0, k1, d0);
    for _ in 0..4 {
        quarter_rounds(&mut a, &mut b, &mut c, &mut d);
        let (mut b1, mut c1, mut d1) = (lanes(b, 1), lanes(c, 2), lanes(d, 3));
        quarter_rounds(&mut a, &mut b1, &mut c1, &mut d1);
        (b, c, d) = (lanes(b1, 3), lanes(c1, 2), lanes(d1, 1));
    }
    let rows = [add(a, SIGMA), add(b, k0), add(c, k1), add(d, d0)];
    let mut out = [0u64; 8];
    for (i, w) in out.iter_mut().enumerate() {
        let row = rows[i / 2];
        let (lo, hi) = (row[2 * (i % 2)], row[2 * (i % 2) + 1]);
        *w = u64::from(lo) | u64::from(hi) << 32;
    }
    out
}

/// Block `block` of ChaCha8 under `key` and nonce `stream_id` (Bernstein's
/// original layout: 64-bit counter, 64-bit nonce), as 64-bit words. On
/// x86-64 with SSE2 (part of the architecture's baseline), the same integer
/// operations as [`chacha8_block_portable`], four lanes at a time: the same
/// bits.
#[cfg(target_arch = "x86_64")]
fn chacha8_block(key: &[u32; 8], block: u64, stream_id: u64) -> [u64; 8] {
    use core::arch::x86_64::*;
    // SAFETY: SSE2 is enabled on every x86-64 target; the loads and stores
    // are unaligned ones of 16 bytes within arrays of 16 bytes.
    unsafe {
        macro_rules! rot {
            ($x:expr, $n:literal) => {
                _mm_or_si128(_mm_slli_epi32::<$n>($x), _mm_srli_epi32::<{ 32 - $n }>($x))
            };
        }
        macro_rules! rounds {
            ($a:ident, $b:ident, $c:ident, $d:ident) => {
                $a = _mm_add_epi32($a, $b);
                $d = rot!(_mm_xor_si128($d, $a), 16);
                $c = _mm_add_epi32($c, $d);
                $b = rot!(_mm_xor_si128($b, $c), 12);
                $a = _mm_add_epi32($a, $b);
                $d = rot!(_mm_xor_si128($d, $a), 8);
                $c = _mm_add_epi32($c, $d);
                $b = rot!(_mm_xor_si128($b, $c), 7);
            };
        }
        let load = |r: &[u32; 4]| _mm_loadu_si128(r.as_ptr().cast());
        let d_row = [
            block as u32,
            (block >> 32) as u32,
            stream_id as u32,
            (stream_id >> 32) as u32,
        ];
        let (a0, b0) = (load(&SIGMA), load(&[key[0], key[1], key[2], key[3]]));
        let (c0, d0) = (load(&[key[4], key[5], key[6], key[7]]), load(&d_row));
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for _ in 0..4 {
            rounds!(a, b, c, d);
            b = _mm_shuffle_epi32::<0x39>(b);
            c = _mm_shuffle_epi32::<0x4E>(c);
            d = _mm_shuffle_epi32::<0x93>(d);
            rounds!(a, b, c, d);
            b = _mm_shuffle_epi32::<0x93>(b);
            c = _mm_shuffle_epi32::<0x4E>(c);
            d = _mm_shuffle_epi32::<0x39>(d);
        }
        let mut out = [0u64; 8];
        let rows = [
            _mm_add_epi32(a, a0),
            _mm_add_epi32(b, b0),
            _mm_add_epi32(c, c0),
            _mm_add_epi32(d, d0),
        ];
        for (i, row) in rows.iter().enumerate() {
            // Little-endian: lanes (0, 1) and (2, 3) are the two 64-bit words.
            _mm_storeu_si128(out[2 * i..].as_mut_ptr().cast(), *row);
        }
        out
    }
}

/// Block `block` of ChaCha8 (see [`chacha8_block_portable`]).
#[cfg(not(target_arch = "x86_64"))]
fn chacha8_block(key: &[u32; 8], block: u64, stream_id: u64) -> [u64; 8] {
    chacha8_block_portable(key, block, stream_id)
}

impl Stream {
    /// The stream `stream_id` (see [`stream_id`]) under `key` (see
    /// [`replication_key`]): the keystream of `ChaCha8Rng::from_seed(*key)`
    /// after `set_stream(stream_id)`, positioned at word 0.
    pub fn new(key: &[u8; 32], stream_id: u64) -> Stream {
        let mut words = [0u32; 8];
        for (w, bytes) in words.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        Stream {
            key: words,
            stream_id,
            block: 0,
            words: [0; 8],
            next: 8,
        }
    }

    /// Makes `self` the stream `stream_id` under the key of `base` (any
    /// stream of that key), at word 0, exactly as [`Stream::new`] would,
    /// without reading the key bytes again: for re-keying a replication's
    /// many streams. Computes nothing until the first draw.
    #[inline]
    pub fn rekey_from(&mut self, base: &Stream, stream_id: u64) {
        self.key = base.key;
        self.stream_id = stream_id;
        self.block = 0;
        self.next = 8;
    }

    /// The next raw 64-bit word of the stream.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.next == 8 {
            self.words = chacha8_block(&self.key, self.block, self.stream_id);
            self.block = self.block.wrapping_add(1);
            self.next = 0;
        }
        let w = self.words[self.next];
        self.next += 1;
        w
    }

    /// A uniform draw in `[0, 1)`: the top 53 bits of one word times 2^-53.
    /// Consumes one word.
    pub fn uniform(&mut self) -> f64 {
        unit_from_word(self.next_u64())
    }

    /// A uniform draw in the open interval `(0, 1)`: `(top 52 bits + 0.5) *
    /// 2^-52`, so it lies in `[2^-53, 1 - 2^-53]`: never 0 and never 1, safe
    /// to take the logarithm of. (With 53 bits, `2^53 - 0.5` would round up
    /// to `2^53` and give exactly 1.) Consumes one word.
    pub fn uniform_open(&mut self) -> f64 {
        open_unit_from_word(self.next_u64())
    }

    /// An exponential draw with the given mean, by inversion:
    /// `-mean * libm::log(uniform_open())`. Consumes one word. The result is
    /// finite and positive for a finite positive `mean`.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(self.uniform_open())
    }

    /// A standard normal draw by the Box–Muller transform,
    /// `sqrt(-2 log u1) * cos(2π u2)` with `u1, u2` from [`Stream::uniform_open`]
    /// (the sine partner is discarded so that the stream keeps no hidden
    /// state). Consumes exactly two words.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform_open();
        let u2 = self.uniform_open();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
    }

    /// A gamma draw with the given shape `k` and scale `θ` (mean `kθ`), by
    /// Marsaglia and Tsang (2000); for `shape < 1`, a draw with shape
    /// `shape + 1` is multiplied by `U^(1/shape)`.
    ///
    /// The number of words consumed varies (rejection sampling; the
    /// acceptance rate is above 95% for `shape >= 1`). Returns NaN, consuming
    /// nothing, unless `shape` and `scale` are finite and positive (so that
    /// no input can make it loop for ever).
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        let valid = |v: f64| v.is_finite() && v > 0.0;
        if !valid(shape) || !valid(scale) {
            return f64::NAN;
        }
        if shape < 1.0 {
            let boosted = self.gamma_at_least_one(shape + 1.0);
            let u = self.uniform_open();
            return boosted * libm::pow(u, 1.0 / shape) * scale;
        }
        self.gamma_at_least_one(shape) * scale
    }

    /// Marsaglia–Tsang for a finite `shape >= 1`, unit scale.
    fn gamma_at_least_one(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / libm::sqrt(9.0 * d);
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform_open();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 {
                return d * v;
            }
            if libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
                return d * v;
            }
        }
    }
}

impl Stream {
    /// A Poisson draw with the given mean. For `mean <= 16`, by inversion of
    /// one [`Stream::uniform`] `u` (sequential search: the smallest `k` whose
    /// CDF, summed in `f64` from `exp(-mean)`, exceeds `u`); a larger mean is
    /// split into `n = ceil(mean / 16)` equal parts and the sum of `n`
    /// independent draws of mean `mean / n` is returned (exact: a sum of
    /// independent Poisson variables is Poisson). Consumes `max(1,
    /// ceil(mean / 16))` words. Returns NaN, consuming nothing, unless
    /// `0 <= mean <= POISSON_MAX_MEAN`.
    pub fn poisson(&mut self, mean: f64) -> f64 {
        if !(0.0..=POISSON_MAX_MEAN).contains(&mean) {
            return f64::NAN;
        }
        let parts = libm::ceil(mean / POISSON_CHUNK).max(1.0);
        let part = mean / parts;
        let mut total = 0.0;
        for _ in 0..parts as u64 {
            total += self.poisson_small(part);
        }
        total
    }

    /// Inversion for a mean in `[0, 16]`; one word.
    fn poisson_small(&mut self, mean: f64) -> f64 {
        let u = self.uniform();
        let mut p = libm::exp(-mean);
        let mut cdf = p;
        let mut k = 0u32;
        // The CDF summed in f64 may stop short of `u` near 1; once the terms
        // vanish, `k` is as far as the tail reaches.
        while u >= cdf && p > 0.0 {
            k += 1;
            p *= mean / f64::from(k);
            cdf += p;
        }
        f64::from(k)
    }

    /// A Bernoulli draw: 1.0 (true) when one [`Stream::uniform`] is below
    /// `p`, else 0.0. Consumes one word. Returns NaN, consuming nothing,
    /// unless `0 <= p <= 1`.
    pub fn bernoulli(&mut self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        if self.uniform() < p {
            1.0
        } else {
            0.0
        }
    }
}

/// The largest mean [`Stream::poisson`] accepts (it consumes a word per 16
/// of mean).
pub const POISSON_MAX_MEAN: f64 = 1e6;

/// The mean above which [`Stream::poisson`] splits its draw.
const POISSON_CHUNK: f64 = 16.0;

/// A random draw that a scenario expression makes (`uniform(a, b)` …): the
/// draws allowed in event effects and initial state. Each takes one or two
/// numeric parameters `a`, `b` (`b` unused for one-parameter draws).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// `uniform(a, b)`: `a + (b - a) * uniform()`, `a <= b`; one word.
    Uniform,
    /// `normal(mu, sigma)`: `mu + sigma * normal()`, `sigma >= 0`; two words.
    Normal,
    /// `lognormal(median, sigma)`: `median * exp(sigma * normal())`,
    /// `median > 0`, `sigma >= 0`; two words.
    LogNormal,
    /// `exponential(mean)`: [`Stream::exponential`], `mean >= 0`; one word.
    Exponential,
    /// `poisson(mean)`: [`Stream::poisson`], `0 <= mean <= 1e6`;
    /// `max(1, ceil(mean / 16))` words.
    Poisson,
    /// `bernoulli(p)` (a boolean): [`Stream::bernoulli`], `0 <= p <= 1`; one
    /// word.
    Bernoulli,
}

impl Draw {
    /// The draw a function name makes, if it is one.
    pub fn of_name(name: &str) -> Option<Draw> {
        Some(match name {
            "uniform" => Draw::Uniform,
            "normal" => Draw::Normal,
            "lognormal" => Draw::LogNormal,
            "exponential" => Draw::Exponential,
            "poisson" => Draw::Poisson,
            "bernoulli" => Draw::Bernoulli,
            _ => return None,
        })
    }

    /// The function name.
    pub fn name(self) -> &'static str {
        match self {
            Draw::Uniform => "uniform",
            Draw::Normal => "normal",
            Draw::LogNormal => "lognormal",
            Draw::Exponential => "exponential",
            Draw::Poisson => "poisson",
            Draw::Bernoulli => "bernoulli",
        }
    }

    /// The names of its parameters (one or two).
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Draw::Uniform => &["a", "b"],
            Draw::Normal => &["mu", "sigma"],
            Draw::LogNormal => &["median", "sigma"],
            Draw::Exponential | Draw::Poisson => &["mean"],
            Draw::Bernoulli => &["p"],
        }
    }

    /// Whether the draw is a boolean (`bernoulli`) rather than a number.
    pub fn is_bool(self) -> bool {
        self == Draw::Bernoulli
    }

    /// Checks the parameters: `Err` says what is wrong, in the scenario's
    /// terms (`normal(mu, sigma) needs sigma >= 0, got -1`).
    pub fn check(self, a: f64, b: f64) -> Result<(), String> {
        let bad = |need: &str, got: f64| {
            let params = self.params().join(", ");
            Err(format!(
                "`{}({params})` needs {need}, got {got}",
                self.name()
            ))
        };
        let finite = |what: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                bad(&format!("a finite `{what}`"), v)
            }
        };
        match self {
            Draw::Uniform => {
                finite("a", a)?;
                finite("b", b)?;
                if a > b {
                    return Err(format!(
                        "`uniform(a, b)` needs a <= b, got a = {a}, b = {b}"
                    ));
                }
            }
            Draw::Normal => {
                finite("mu", a)?;
                finite("sigma", b)?;
                if b < 0.0 {
                    return bad("sigma >= 0", b);
                }
            }
            Draw::LogNormal => {
                finite("median", a)?;
                finite("sigma", b)?;
                if a <= 0.0 {
                    return bad("median > 0", a);
                }
                if b < 0.0 {
                    return bad("sigma >= 0", b);
                }
            }
            Draw::Exponential => {
                finite("mean", a)?;
                if a < 0.0 {
                    return bad("mean >= 0", a);
                }
            }
            Draw::Poisson => {
                finite("mean", a)?;
                if !(0.0..=POISSON_MAX_MEAN).contains(&a) {
                    return bad("0 <= mean <= 1e6", a);
                }
            }
            Draw::Bernoulli => {
                if !(0.0..=1.0).contains(&a) {
                    return bad("0 <= p <= 1", a);
                }
            }
        }
        Ok(())
    }

    /// One draw from `s` with parameters already passed by [`Draw::check`]
    /// (words consumed as each variant says; unchecked parameters may give
    /// NaN but never panic or loop).
    pub fn sample(self, s: &mut Stream, a: f64, b: f64) -> f64 {
        match self {
            Draw::Uniform => a + (b - a) * s.uniform(),
            Draw::Normal => a + b * s.normal(),
            Draw::LogNormal => a * libm::exp(b * s.normal()),
            Draw::Exponential => s.exponential(a),
            Draw::Poisson => s.poisson(a),
            Draw::Bernoulli => s.bernoulli(a),
        }
    }
}

/// A distribution of non-negative delays (or other positive quantities), as
/// a scenario declares it.
///
/// Call [`Dist::check`] once when the scenario loads; [`Dist::sample`] on an
/// unchecked distribution never panics but may return NaN or a negative
/// number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always the given value; consumes no randomness.
    Fixed(f64),
    /// Exponential with the given mean (rate `1 / mean`).
    Exponential {
        /// The mean, `> 0`.
        mean: f64,
    },
    /// Uniform on `[min, max)` (`max` itself only through rounding of
    /// `min + (max - min) * u`).
    Uniform {
        /// The lower bound, `>= 0`.
        min: f64,
        /// The upper bound, `>= min`.
        max: f64,
    },
    /// `exp(N(mu, sigma²))`.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm, `>= 0`.
        sigma: f64,
    },
    /// Gamma with shape `k` and scale `θ`: density ∝ `x^(k-1) e^(-x/θ)`,
    /// mean `kθ`.
    Gamma {
        /// The shape `k`, `> 0`.
        shape: f64,
        /// The scale `θ`, `> 0`.
        scale: f64,
    },
    /// Weibull with shape `k` and scale `λ`: `P(X <= x) = 1 - exp(-(x/λ)^k)`.
    Weibull {
        /// The shape `k`, `> 0`.
        shape: f64,
        /// The scale `λ`, `> 0`.
        scale: f64,
    },
}

impl Dist {
    /// One draw from `s`. Words consumed: `Fixed` none; `Exponential`,
    /// `Uniform` and `Weibull` one; `LogNormal` two; `Gamma` a variable
    /// number (see [`Stream::gamma`]).
    ///
    /// * `Uniform`: `min + (max - min) * uniform()`.
    /// * `LogNormal`: `exp(mu + sigma * normal())`.
    /// * `Weibull`: `scale * (-log(uniform_open()))^(1/shape)` (inversion).
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match *self {
            Dist::Fixed(value) => value,
            Dist::Exponential { mean } => s.exponential(mean),
            Dist::Uniform { min, max } => min + (max - min) * s.uniform(),
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * s.normal()),
            Dist::Gamma { shape, scale } => s.gamma(shape, scale),
            Dist::Weibull { shape, scale } => {
                let e = -libm::log(s.uniform_open());
                scale * libm::pow(e, 1.0 / shape)
            }
        }
    }

    /// The cumulative distribution function `P(X <= x)`, for tests and
    /// diagnostics. Meaningful for parameters that pass [`Dist::check`];
    /// returns NaN for a NaN `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let step = |at: f64| if x >= at { 1.0 } else { 0.0 };
        match *self {
            Dist::Fixed(value) => step(value),
            Dist::Exponential { mean } => {
                if x <= 0.0 {
                    0.0
                } else {
                    -libm::expm1(-x / mean)
                }
            }
            Dist::Uniform { min, max } => {
                if max <= min {
                    step(min)
                } else {
                    ((x - min) / (max - min)).clamp(0.0, 1.0)
                }
            }
            Dist::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    0.0
                } else if sigma == 0.0 {
                    step(libm::exp(mu))
                } else {
                    let z = (libm::log(x) - mu) / (sigma * core::f64::consts::SQRT_2);
                    0.5 * libm::erfc(-z)
                }
            }
            Dist::Gamma { shape, scale } => {
                if x <= 0.0 {
                    0.0
                } else {
                    regularized_gamma_p(shape, x / scale)
                }
            }
            Dist::Weibull { shape, scale } => {
                if x <= 0.0 {
                    0.0
                } else {
                    -libm::expm1(-libm::pow(x / scale, shape))
                }
            }
        }
    }

    /// The mean of the distribution: `Fixed` its value; `Exponential` its
    /// mean; `Uniform` `(min + max) / 2`; `LogNormal` `exp(mu + sigma²/2)`;
    /// `Gamma` `shape * scale`; `Weibull` `scale * Γ(1 + 1/shape)`.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(value) => value,
            Dist::Exponential { mean } => mean,
            Dist::Uniform { min, max } => 0.5 * (min + max),
            Dist::LogNormal { mu, sigma } => libm::exp(mu + 0.5 * sigma * sigma),
            Dist::Gamma { shape, scale } => shape * scale,
            Dist::Weibull { shape, scale } => scale * libm::tgamma(1.0 + 1.0 / shape),
        }
    }

    /// Checks the parameters: all finite; `Fixed >= 0`; exponential mean
    /// `> 0`; uniform `0 <= min <= max`; lognormal `sigma >= 0`; gamma and
    /// Weibull shape and scale `> 0`. The error is a lower-case message such
    /// as `"exponential mean must be positive, got -1"`.
    pub fn check(&self) -> Result<(), String> {
        fn finite(what: &str, v: f64) -> Result<(), String> {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{what} must be a finite number, got {v}"))
            }
        }
        fn positive(what: &str, v: f64) -> Result<(), String> {
            finite(what, v)?;
            if v > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be positive, got {v}"))
            }
        }
        fn non_negative(what: &str, v: f64) -> Result<(), String> {
            finite(what, v)?;
            if v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must not be negative, got {v}"))
            }
        }
        match *self {
            Dist::Fixed(value) => non_negative("fixed value", value),
            Dist::Exponential { mean } => positive("exponential mean", mean),
            Dist::Uniform { min, max } => {
                non_negative("uniform min", min)?;
                finite("uniform max", max)?;
                if min <= max {
                    Ok(())
                } else {
                    Err(format!(
                        "uniform min must not exceed max, got min {min} and max {max}"
                    ))
                }
            }
            Dist::LogNormal { mu, sigma } => {
                finite("lognormal mu", mu)?;
                non_negative("lognormal sigma", sigma)
            }
            Dist::Gamma { shape, scale } => {
                positive("gamma shape", shape)?;
                positive("gamma scale", scale)
            }
            Dist::Weibull { shape, scale } => {
                positive("weibull shape", shape)?;
                positive("weibull scale", scale)
            }
        }
    }
}

/// The regularized lower incomplete gamma function `P(a, x)`, by the series
/// for `x < a + 1` and the Lentz continued fraction for `Q = 1 - P`
/// otherwise (Numerical Recipes, `gammp`). Accurate to about 1e-14; NaN for
/// `a <= 0` or NaN input.
fn regularized_gamma_p(a: f64, x: f64) -> f64 {
    const MAX_ITER: usize = 10_000;
    const EPS: f64 = 1e-16;
    const TINY: f64 = 1e-300;
    if a.is_nan() || x.is_nan() || a <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 0.0;
    }
    if x == f64::INFINITY {
        return 1.0;
    }
    // log of x^a e^-x / Γ(a)
    let log_prefactor = a * libm::log(x) - x - libm::lgamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut term = 1.0 / a;
        let mut sum = term;
        for _ in 0..MAX_ITER {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * EPS {
                break;
            }
        }
        (sum * libm::exp(log_prefactor)).min(1.0)
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..=MAX_ITER {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < EPS {
                break;
            }
        }
        (1.0 - libm::exp(log_prefactor) * h).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    /// The vector and the portable block functions agree.
    #[test]
    fn block_functions_agree() {
        let key = [1, 2, 3, 0xFFFF_FFFF, 5, 6, 7, 0x8000_0000];
        for (block, id) in [(0, 0), (1, 7), (u64::MAX, u64::MAX), (1 << 32, 3 << 40)] {
            assert_eq!(
                super::chacha8_block(&key, block, id),
                super::chacha8_block_portable(&key, block, id)
            );
        }
    }

    /// The block-at-a-time keystream is `rand_chacha`'s ChaCha8, word for
    /// word, across block and four-block boundaries, for several keys and
    /// stream ids, also after `rekey_from`.
    #[test]
    fn stream_is_rand_chacha_chacha8_word_for_word() {
        use rand_chacha::ChaCha8Rng;
        use rand_core::{Rng, SeedableRng};
        for (seed, rep) in [(0u64, 0u64), (42, 7), (u64::MAX, 123_456)] {
            let key = super::replication_key(seed, rep, None);
            let base = super::Stream::new(&key, 0);
            for id in [0u64, 1, 0xDEAD_BEEF_0123_4567, u64::MAX] {
                let mut reference = ChaCha8Rng::from_seed(key);
                reference.set_stream(id);
                let mut ours = super::Stream::new(&key, id);
                let mut rekeyed = super::Stream::new(&[9; 32], 5);
                rekeyed.next_u64();
                rekeyed.rekey_from(&base, id);
                for _ in 0..77 {
                    let want = reference.next_u64();
                    assert_eq!(ours.next_u64(), want);
                    assert_eq!(rekeyed.next_u64(), want);
                }
            }
        }
    }

    use super::*;

    /// Arbitrary stream ids for the tests of `Stream` itself (the ids of
    /// the old positional layout, so that pinned draws stay pinned).
    fn rule(i: u32) -> u64 {
        (2 << 32) | u64::from(i)
    }
    fn hazard(i: u32) -> u64 {
        (3 << 32) | u64::from(i)
    }

    /// The documented function, pinned: FNV-1a's reference value for "a",
    /// and one stream computed by hand from the formula.
    #[test]
    fn named_streams_follow_the_documented_formula() {
        assert_eq!(stream_id::fnv1a64(b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(stream_id::fnv1a64(b"a"), 0xAF63_DC4C_8601_EC8C);
        assert_eq!(
            stream_id::named(stream_id::KIND_RULE, "poland_closes_border"),
            0x029B_D9FB_1335_9B90
        );
        assert_ne!(
            stream_id::named(stream_id::KIND_SCHEDULE, "x") >> 56,
            stream_id::tie_break() >> 56
        );
    }

    /// Kolmogorov–Smirnov sample size.
    const N: usize = 20_000;

    /// Asymptotic KS critical value at alpha = 1e-4:
    /// `sqrt(-ln(alpha / 2) / 2) / sqrt(n) = 2.2253 / sqrt(n)`, about 0.0157
    /// for n = 20 000. A correct sampler fails one such test in 10 000.
    fn ks_critical(n: usize) -> f64 {
        let alpha: f64 = 1e-4;
        libm::sqrt(-0.5 * libm::log(alpha / 2.0)) / libm::sqrt(n as f64)
    }

    /// The KS statistic `sup |F_n(x) - F(x)|` of `samples` against `cdf`.
    fn ks_statistic(samples: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
        samples.sort_by(f64::total_cmp);
        let n = samples.len() as f64;
        let mut d: f64 = 0.0;
        for (i, &x) in samples.iter().enumerate() {
            let f = cdf(x);
            d = d.max(f - i as f64 / n).max((i as f64 + 1.0) / n - f);
        }
        d
    }

    fn draws(dist: &Dist, seed: u64) -> Vec<f64> {
        let key = replication_key(seed, 0, None);
        let mut s = Stream::new(&key, rule(0));
        (0..N).map(|_| dist.sample(&mut s)).collect()
    }

    /// Theoretical variance, for the standard-error bound on the mean.
    fn variance(dist: &Dist) -> f64 {
        match *dist {
            Dist::Fixed(_) => 0.0,
            Dist::Exponential { mean } => mean * mean,
            Dist::Uniform { min, max } => (max - min) * (max - min) / 12.0,
            Dist::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                libm::expm1(s2) * libm::exp(2.0 * mu + s2)
            }
            Dist::Gamma { shape, scale } => shape * scale * scale,
            Dist::Weibull { shape, scale } => {
                let g1 = libm::tgamma(1.0 + 1.0 / shape);
                let g2 = libm::tgamma(1.0 + 2.0 / shape);
                scale * scale * (g2 - g1 * g1)
            }
        }
    }

    fn test_dists() -> Vec<Dist> {
        vec![
            Dist::Exponential { mean: 2.5 },
            Dist::Uniform { min: 1.0, max: 4.0 },
            Dist::LogNormal {
                mu: 0.3,
                sigma: 0.5,
            },
            Dist::Gamma {
                shape: 3.5,
                scale: 2.0,
            },
            Dist::Gamma {
                shape: 1.0,
                scale: 0.5,
            },
            Dist::Gamma {
                shape: 0.4,
                scale: 1.5,
            },
            Dist::Weibull {
                shape: 1.7,
                scale: 3.0,
            },
            Dist::Weibull {
                shape: 0.6,
                scale: 1.0,
            },
        ]
    }

    #[test]
    fn keys_are_distinct_across_reps_points_and_seeds() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in [0u64, 1, 42, u64::MAX] {
            for rep in 0..200u64 {
                assert!(seen.insert(replication_key(seed, rep, None)));
                for point in 0..5u64 {
                    assert!(seen.insert(replication_key(seed, rep, Some(point))));
                }
            }
        }
    }

    #[test]
    fn golden_keys() {
        // Pinned (and cross-checked against an independent Python transcription
        // of the documented function): if this fails, every golden file changes.
        assert_eq!(
            hex(&replication_key(42, 0, None)),
            "f3136b26b71b599d9095bd280e553a73d8275a01bd1dd6342b2f47143b835d66"
        );
        assert_eq!(
            hex(&replication_key(42, 7, Some(3))),
            "fe1899b576e81a87f2a52a34bc54f5a305347d2a78c3038585f7b7a7b8ddb6ad"
        );
    }

    #[test]
    fn golden_draws() {
        // Pinned: the first words of rule 0's stream for (42, 0, None).
        let mut s = Stream::new(&replication_key(42, 0, None), rule(0));
        let words: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        assert_eq!(
            words,
            vec![
                14981127529939709249,
                473255210822360780,
                16462274865276597155
            ]
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn stream_ids_are_laid_out_as_documented() {
        assert_eq!(stream_id::tie_break(), 4 << 32);
    }

    #[test]
    fn rekeying_from_a_base_stream_is_keying_anew() {
        let key = replication_key(11, 3, None);
        let base = Stream::new(&key, hazard(0));
        let mut s = Stream::new(&replication_key(1, 1, None), rule(5));
        s.next_u64();
        for id in [rule(0), rule(7), stream_id::tie_break()] {
            s.rekey_from(&base, id);
            let mut fresh = Stream::new(&key, id);
            for _ in 0..70 {
                assert_eq!(s.next_u64(), fresh.next_u64());
            }
        }
    }

    #[test]
    fn same_key_and_stream_repeat_and_different_streams_differ() {
        let key = replication_key(7, 3, None);
        let take = |id: u64| {
            let mut s = Stream::new(&key, id);
            (0..64).map(|_| s.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(take(rule(1)), take(rule(1)));
        assert_ne!(take(rule(1)), take(rule(2)));
        assert_ne!(take(rule(1)), take(hazard(1)));
        let other_key = replication_key(7, 4, None);
        let mut s = Stream::new(&other_key, rule(1));
        let other: Vec<u64> = (0..64).map(|_| s.next_u64()).collect();
        assert_ne!(take(rule(1)), other);
    }

    #[test]
    fn uniforms_stay_in_range() {
        let mut s = Stream::new(&replication_key(1, 1, None), 0);
        for _ in 0..100_000 {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            let v = s.uniform_open();
            assert!(v > 0.0 && v < 1.0);
        }
        // The extreme words map inside the intervals (53 bits would not do
        // for the open one: 2^53 - 0.5 rounds to 2^53, giving exactly 1).
        assert_eq!(unit_from_word(0), 0.0);
        assert!(unit_from_word(u64::MAX) < 1.0);
        assert_eq!(open_unit_from_word(0), TWO_POW_NEG_53);
        assert_eq!(open_unit_from_word(u64::MAX), 1.0 - TWO_POW_NEG_53);
        let wide = |word: u64| ((word >> 11) as f64 + 0.5) * TWO_POW_NEG_53;
        assert_eq!(wide(u64::MAX), 1.0);
    }

    #[test]
    fn each_dist_passes_kolmogorov_smirnov() {
        let critical = ks_critical(N);
        for (i, dist) in test_dists().iter().enumerate() {
            dist.check().unwrap();
            let mut xs = draws(dist, 1000 + i as u64);
            let d = ks_statistic(&mut xs, |x| dist.cdf(x));
            assert!(d < critical, "{dist:?}: D = {d}, critical {critical}");
        }
    }

    #[test]
    fn normal_passes_kolmogorov_smirnov() {
        let mut s = Stream::new(&replication_key(5, 0, None), hazard(0));
        let mut xs: Vec<f64> = (0..N).map(|_| s.normal()).collect();
        let cdf = |x: f64| 0.5 * libm::erfc(-x / core::f64::consts::SQRT_2);
        let d = ks_statistic(&mut xs, cdf);
        assert!(d < ks_critical(N), "D = {d}");
    }

    #[test]
    fn kolmogorov_smirnov_has_power() {
        // A deliberate 10% error in the mean must be caught.
        let dist = Dist::Exponential { mean: 2.5 };
        let wrong = Dist::Exponential { mean: 2.75 };
        let mut xs = draws(&dist, 1000);
        let d = ks_statistic(&mut xs, |x| wrong.cdf(x));
        assert!(d > ks_critical(N), "D = {d}");
        let dist = Dist::Gamma {
            shape: 0.4,
            scale: 1.5,
        };
        let wrong = Dist::Gamma {
            shape: 0.44,
            scale: 1.5,
        };
        let mut xs = draws(&dist, 1005);
        let d = ks_statistic(&mut xs, |x| wrong.cdf(x));
        assert!(d > ks_critical(N), "D = {d}");
    }

    #[test]
    fn sample_means_are_within_five_standard_errors() {
        for (i, dist) in test_dists().iter().enumerate() {
            let xs = draws(dist, 2000 + i as u64);
            let mean = xs.iter().sum::<f64>() / N as f64;
            let se = libm::sqrt(variance(dist) / N as f64);
            let z = (mean - dist.mean()) / se;
            assert!(z.abs() < 5.0, "{dist:?}: mean {mean}, z = {z}");
        }
    }

    /// Upper 1e-4 point of the chi-square distribution with `df` degrees
    /// of freedom (Wilson–Hilferty).
    fn chi_square_critical(df: f64) -> f64 {
        let z = 3.719;
        let a = 2.0 / (9.0 * df);
        df * (1.0 - a + z * a.sqrt()).powi(3)
    }

    #[test]
    fn poisson_passes_chi_square() {
        for (i, &mean) in [0.5, 4.0, 16.0, 40.0, 300.0].iter().enumerate() {
            let mut s = Stream::new(&replication_key(8, i as u64, None), 3);
            let mut counts: Vec<f64> = Vec::new();
            for _ in 0..N {
                let k = s.poisson(mean);
                assert!(k >= 0.0 && k.fract() == 0.0, "{k}");
                let k = k as usize;
                if counts.len() <= k {
                    counts.resize(k + 1, 0.0);
                }
                counts[k] += 1.0;
            }
            // Bins of expected count >= 5 in order; what is left, with the
            // tail beyond, joins the last bin.
            let n = N as f64;
            let mut pmf = vec![libm::exp(-mean)];
            while pmf.len() < counts.len().max((mean * 3.0) as usize + 20) {
                let k = pmf.len() as f64;
                pmf.push(pmf[pmf.len() - 1] * mean / k);
            }
            counts.resize(pmf.len(), 0.0);
            let mut cells: Vec<(f64, f64)> = Vec::new();
            let (mut obs, mut exp) = (0.0, 0.0);
            for (k, &p) in pmf.iter().enumerate() {
                obs += counts[k];
                exp += p * n;
                if exp >= 5.0 {
                    cells.push((obs, exp));
                    (obs, exp) = (0.0, 0.0);
                }
            }
            cells.pop();
            let obs_rest = n - cells.iter().map(|c| c.0).sum::<f64>();
            let exp_rest = n - cells.iter().map(|c| c.1).sum::<f64>();
            cells.push((obs_rest, exp_rest));
            let chi2: f64 = cells.iter().map(|&(o, e)| (o - e) * (o - e) / e).sum();
            let bins = cells.len();
            let df = (bins - 1) as f64;
            assert!(
                chi2 < chi_square_critical(df),
                "mean {mean}: chi2 {chi2} on {df} df"
            );
        }
    }

    #[test]
    fn poisson_chi_square_has_power() {
        // The test above rejects a Poisson of the wrong mean.
        let mut s = Stream::new(&replication_key(8, 0, None), 3);
        let draws: Vec<f64> = (0..N).map(|_| s.poisson(4.4)).collect();
        let mut pmf = vec![(-4.0f64).exp()];
        for k in 1..40 {
            pmf.push(pmf[k - 1] * 4.0 / k as f64);
        }
        let chi2: f64 = (0..12)
            .map(|k| {
                let obs = draws.iter().filter(|&&x| x as usize == k).count() as f64;
                let exp = pmf[k] * N as f64;
                (obs - exp) * (obs - exp) / exp
            })
            .sum();
        assert!(chi2 > chi_square_critical(11.0), "{chi2}");
    }

    #[test]
    fn bernoulli_shares_are_within_four_standard_errors() {
        for (i, &p) in [0.0, 0.3, 0.5, 1.0].iter().enumerate() {
            let mut s = Stream::new(&replication_key(9, i as u64, None), 3);
            let k: f64 = (0..N).map(|_| s.bernoulli(p)).sum();
            let share = k / N as f64;
            let se = (p * (1.0 - p) / N as f64).sqrt();
            assert!((share - p).abs() <= 4.0 * se, "p {p}: share {share}");
        }
    }

    #[test]
    fn draws_consume_the_documented_number_of_words() {
        let key = replication_key(4, 0, None);
        let words = |f: &dyn Fn(&mut Stream) -> f64, n: usize| {
            let mut a = Stream::new(&key, 7);
            let mut b = Stream::new(&key, 7);
            f(&mut a);
            for _ in 0..n {
                b.next_u64();
            }
            assert_eq!(a.next_u64(), b.next_u64(), "expected {n} words");
        };
        words(&|s| Draw::Uniform.sample(s, 0.0, 1.0), 1);
        words(&|s| Draw::Normal.sample(s, 0.0, 1.0), 2);
        words(&|s| Draw::LogNormal.sample(s, 1.0, 1.0), 2);
        words(&|s| Draw::Exponential.sample(s, 2.0, 0.0), 1);
        words(&|s| Draw::Bernoulli.sample(s, 0.5, 0.0), 1);
        words(&|s| Draw::Poisson.sample(s, 0.0, 0.0), 1);
        words(&|s| Draw::Poisson.sample(s, 16.0, 0.0), 1);
        words(&|s| Draw::Poisson.sample(s, 16.5, 0.0), 2);
        words(&|s| Draw::Poisson.sample(s, 1000.0, 0.0), 63);
        // Refused parameters consume nothing.
        words(&|s| s.poisson(-1.0), 0);
        words(&|s| s.poisson(2e6), 0);
        words(&|s| s.bernoulli(1.5), 0);
        assert!(Stream::new(&key, 7).poisson(f64::NAN).is_nan());
    }

    #[test]
    fn draw_checks_say_what_is_wrong() {
        assert_eq!(
            Draw::Normal.check(0.0, -1.0).unwrap_err(),
            "`normal(mu, sigma)` needs sigma >= 0, got -1"
        );
        assert_eq!(
            Draw::Uniform.check(f64::INFINITY, 1.0).unwrap_err(),
            "`uniform(a, b)` needs a finite `a`, got inf"
        );
        assert!(Draw::Bernoulli.check(f64::NAN, 0.0).is_err());
        assert!(Draw::Uniform.check(1.0, 1.0).is_ok());
        assert!(Draw::Exponential.check(0.0, 0.0).is_ok());
    }

    #[test]
    fn fixed_consumes_nothing() {
        let key = replication_key(3, 0, None);
        let mut a = Stream::new(&key, 9);
        let mut b = Stream::new(&key, 9);
        assert_eq!(Dist::Fixed(1.5).sample(&mut a), 1.5);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(Dist::Fixed(1.5).cdf(1.4), 0.0);
        assert_eq!(Dist::Fixed(1.5).cdf(1.5), 1.0);
        assert_eq!(Dist::Fixed(1.5).mean(), 1.5);
    }

    #[test]
    fn degenerate_uniform_and_lognormal() {
        let mut s = Stream::new(&replication_key(3, 0, None), 9);
        let u = Dist::Uniform { min: 2.0, max: 2.0 };
        assert_eq!(u.sample(&mut s), 2.0);
        assert_eq!(u.cdf(1.9), 0.0);
        assert_eq!(u.cdf(2.0), 1.0);
        let l = Dist::LogNormal {
            mu: 0.0,
            sigma: 0.0,
        };
        assert_eq!(l.sample(&mut s), 1.0);
        assert_eq!(l.cdf(1.0), 1.0);
    }

    #[test]
    fn gamma_cdf_matches_closed_forms() {
        for &x in &[0.01, 0.3, 1.0, 2.5, 7.0, 30.0] {
            let e = Dist::Gamma {
                shape: 1.0,
                scale: 1.0,
            };
            assert!((e.cdf(x) - (1.0 - libm::exp(-x))).abs() < 1e-13, "x = {x}");
            // P(1/2, x) = erf(sqrt(x)).
            let half = Dist::Gamma {
                shape: 0.5,
                scale: 1.0,
            };
            assert!((half.cdf(x) - libm::erf(libm::sqrt(x))).abs() < 1e-13);
            // P(2, x) = 1 - (1 + x) e^-x.
            let two = Dist::Gamma {
                shape: 2.0,
                scale: 1.0,
            };
            assert!((two.cdf(x) - (1.0 - (1.0 + x) * libm::exp(-x))).abs() < 1e-13);
        }
    }

    #[test]
    fn invalid_gamma_parameters_do_not_hang() {
        let mut s = Stream::new(&replication_key(3, 0, None), 9);
        assert!(s.gamma(f64::NAN, 1.0).is_nan());
        assert!(s.gamma(-1.0, 1.0).is_nan());
        assert!(s.gamma(1.0, 0.0).is_nan());
        assert!(s.gamma(f64::INFINITY, 1.0).is_nan());
        assert!(s.gamma(1e300, 1.0).is_finite());
        assert!(s.gamma(1e-300, 1.0) >= 0.0);
    }

    #[test]
    fn check_messages() {
        let err = |d: Dist| d.check().unwrap_err();
        assert_eq!(
            err(Dist::Exponential { mean: -1.0 }),
            "exponential mean must be positive, got -1"
        );
        assert_eq!(
            err(Dist::Exponential { mean: f64::NAN }),
            "exponential mean must be a finite number, got NaN"
        );
        assert_eq!(
            err(Dist::Fixed(-0.5)),
            "fixed value must not be negative, got -0.5"
        );
        assert_eq!(
            err(Dist::Uniform { min: 3.0, max: 2.0 }),
            "uniform min must not exceed max, got min 3 and max 2"
        );
        assert_eq!(
            err(Dist::Uniform {
                min: -1.0,
                max: 2.0
            }),
            "uniform min must not be negative, got -1"
        );
        assert_eq!(
            err(Dist::LogNormal {
                mu: 0.0,
                sigma: -1.0
            }),
            "lognormal sigma must not be negative, got -1"
        );
        assert_eq!(
            err(Dist::Gamma {
                shape: 0.0,
                scale: 1.0
            }),
            "gamma shape must be positive, got 0"
        );
        assert_eq!(
            err(Dist::Weibull {
                shape: 1.0,
                scale: f64::INFINITY
            }),
            "weibull scale must be a finite number, got inf"
        );
        assert!(Dist::Fixed(0.0).check().is_ok());
        assert!(Dist::Uniform { min: 0.0, max: 0.0 }.check().is_ok());
    }
}
