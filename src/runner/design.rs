//! Sweep designs: which parameter points a sweep runs.
//!
//! `--vary NAME=SPEC` gives each varied parameter its values or range:
//! a list `0.1,0.5,0.9`, a linear range `lo:hi:steps`, a log range
//! `log:lo:hi:steps`, or (for `lhs`/`random` designs) a bare range `lo:hi`, or
//! just `NAME` for the parameter's declared bounds.
//!
//! A grid's endpoints are `lo` and `hi` exactly. The interior points of a log
//! range are `lo^(1-i/(n-1)) * hi^(i/(n-1))` correctly rounded (the nearest
//! f64) for every grid of at most 257 steps (more precisely, whenever the
//! reduced fraction `i/(n-1)` has a denominator of at most 256), and within a
//! few ulps beyond; a linear range's interior points are `lo + i/(n-1)*(hi-lo)`.
//!
//! Point numbering: a `grid` is the full factorial in row-major order — the
//! first `--vary` changes slowest, the last fastest. `lhs:N` and `random:N`
//! points are numbered in the order they are drawn. Both draw from the stream
//! [`stream_id::design`] under `replication_key(seed, u64::MAX, None)`, so the
//! design is a pure function of the seed and the specs.
//!
//! `--design file:PATH` reads the points instead ([`points_from_csv`]): a
//! CSV file whose header names the varied parameters (as in `[params]`),
//! one row per point, in the order the sweep numbers them. A first column
//! named `point` (as in the `points.csv` a sweep writes) is allowed when no
//! parameter has that name; its values must then be `0, 1, 2, …`. Every
//! value must be a finite number within the parameter's declared bounds, the
//! check `--vary` makes. Errors are located as `FILE:LINE:COLUMN`, the
//! column counted in fields from 1. With a file, `--vary` is not allowed:
//! the file's columns are the varied parameters. A caller may set one
//! column aside (`run --posterior` its `weight`); the `point` column is
//! then the first of the others, and messages still count the file's own
//! columns.

use crate::rng::{replication_key, stream_id, Stream};
use crate::scenario::Scenario;

/// Largest number of points a design may have (a guard against typos such as
/// `0:1:1000000` on several parameters).
pub const MAX_POINTS: u64 = 10_000_000;

/// How a parameter varies.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// Exactly these values.
    Values(Vec<f64>),
    /// A range, with no step count (for `lhs`/`random`).
    Range(f64, f64),
}

/// One `--vary`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// Parameter index in the scenario.
    pub param: usize,
    /// Parameter name.
    pub name: String,
    /// The spec as written.
    pub text: String,
    /// Values or range.
    pub spec: Spec,
}

/// The kind of design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesignKind {
    /// Full factorial over the listed values.
    Grid,
    /// Latin hypercube of N points.
    Lhs(u64),
    /// N uniform random points.
    Random(u64),
}

impl DesignKind {
    /// Parses `grid`, `lhs:N` or `random:N`.
    pub fn parse(s: &str) -> Result<DesignKind, String> {
        let n = |t: &str| -> Result<u64, String> {
            match t.parse::<u64>() {
                Ok(0) => Err(format!("design `{s}` has 0 points")),
                Ok(n) if n <= MAX_POINTS => Ok(n),
                _ => Err(format!(
                    "design `{s}`: the number of points must be between 1 and {MAX_POINTS}"
                )),
            }
        };
        match s.split_once(':') {
            None if s == "grid" => Ok(DesignKind::Grid),
            Some(("lhs", t)) => n(t).map(DesignKind::Lhs),
            Some(("random", t)) => n(t).map(DesignKind::Random),
            _ => Err(format!(
                "unknown design `{s}`; use grid, lhs:N, random:N or file:PATH"
            )),
        }
    }

    /// The design as written.
    pub fn text(&self) -> String {
        match self {
            DesignKind::Grid => "grid".into(),
            DesignKind::Lhs(n) => format!("lhs:{n}"),
            DesignKind::Random(n) => format!("random:{n}"),
        }
    }
}

/// The path of a `file:PATH` design, or `None` for another design.
pub fn design_file(design: &str) -> Option<&str> {
    design.strip_prefix("file:")
}

/// The varied parameters and points of a design read from a CSV file named
/// `file` (for messages): `header` its first line, `records` its other rows
/// with the line each starts on. Column `skip` (0-based), if given, holds
/// something else (a posterior's `weight`) and is left to the caller; every
/// message counts columns and fields as the file has them. See the
/// [module docs](self) for the rules.
pub fn points_from_csv(
    file: &str,
    header: &[String],
    records: &[(u64, Vec<String>)],
    scenario: &Scenario,
    skip: Option<usize>,
) -> Result<(Vec<Vary>, Vec<Vec<f64>>), String> {
    if header.is_empty() {
        return Err(format!(
            "{file}: the file is empty; a design needs a header of parameter names and one row per point"
        ));
    }
    let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    let mut own: Vec<usize> = (0..names.len()).filter(|&c| Some(c) != skip).collect();
    let has_point = own
        .first()
        .is_some_and(|&c| names[c] == "point" && scenario.param_index("point").is_none());
    let point_col = has_point.then(|| own.remove(0));
    // `cols[k]`: the file's column of the `k`-th varied parameter.
    let cols = own;
    let mut vary: Vec<Vary> = Vec::new();
    for &col in &cols {
        let name = names[col];
        let Some(param) = scenario.param_index(name) else {
            let hint = crate::diag::suggest(name, scenario.params.iter().map(|p| p.name.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let what = if name.is_empty() {
                "an empty column name is not a parameter".to_string()
            } else {
                format!("unknown parameter `{name}`")
            };
            return Err(format!("{file}:1:{}: {what}{hint}", col + 1));
        };
        if let Some(first) = vary.iter().position(|v| v.param == param) {
            let first_col = cols[first] + 1;
            return Err(format!(
                "{file}:1:{}: column `{name}` is given twice (first in column {first_col})",
                col + 1
            ));
        }
        vary.push(Vary {
            param,
            name: name.to_string(),
            text: name.to_string(),
            spec: Spec::Values(Vec::new()),
        });
    }
    if vary.is_empty() {
        return Err(format!(
            "{file}:1:1: the header names no parameter; give one column per varied parameter"
        ));
    }
    if records.is_empty() {
        return Err(format!(
            "{file}: no points: the header is followed by no rows"
        ));
    }
    if records.len() as u64 > MAX_POINTS {
        return Err(format!("{file}: more than {MAX_POINTS} points"));
    }
    let mut points = Vec::with_capacity(records.len());
    for (i, (line, fields)) in records.iter().enumerate() {
        if fields.len() != names.len() {
            return Err(format!(
                "{file}:{line}: {} fields where the header has {}",
                fields.len(),
                names.len()
            ));
        }
        if let Some(c) = point_col.filter(|&c| fields[c].trim() != i.to_string()) {
            return Err(format!(
                "{file}:{line}:{}: point `{}` where {i} was expected (points are numbered 0, 1, 2, … in file order)",
                c + 1,
                fields[c].trim()
            ));
        }
        let mut point = Vec::with_capacity(vary.len());
        for (v, &col) in vary.iter().zip(&cols) {
            let text = fields[col].trim();
            let p = &scenario.params[v.param];
            let x = text
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    format!(
                        "{file}:{line}:{}: {} = `{text}` is not a finite number",
                        col + 1,
                        v.name
                    )
                })?;
            if x < p.min || x > p.max {
                return Err(format!(
                    "{file}:{line}:{}: {} = {x} is outside its bounds [{}, {}]",
                    col + 1,
                    v.name,
                    p.min,
                    p.max
                ));
            }
            point.push(x);
        }
        points.push(point);
    }
    for (k, v) in vary.iter_mut().enumerate() {
        v.spec = Spec::Values(points.iter().map(|p| p[k]).collect());
    }
    Ok((vary, points))
}

/// Parses every `--vary NAME=SPEC` against the scenario's parameters; a
/// parameter may be varied once.
pub fn parse_varies(texts: &[String], scenario: &Scenario) -> Result<Vec<Vary>, String> {
    let mut vary: Vec<Vary> = Vec::new();
    for text in texts {
        let v = parse_vary(text, scenario)?;
        if vary.iter().any(|w| w.param == v.param) {
            return Err(format!("--vary {} is given twice", v.name));
        }
        vary.push(v);
    }
    Ok(vary)
}

/// Refuses a parameter that is both varied and fixed by an override
/// (`--set`): which value would the manifest record? `varied_by` says how
/// the parameter is varied, for the message (`--vary`, or `a column of
/// points.csv` for a file design).
pub fn refuse_set_and_varied(
    vary: &[Vary],
    overrides: &[(String, f64)],
    varied_by: &str,
) -> Result<(), String> {
    match vary
        .iter()
        .find(|v| overrides.iter().any(|(n, _)| *n == v.name))
    {
        Some(v) => Err(format!(
            "parameter `{}` is both --set and {varied_by}; drop one",
            v.name
        )),
        None => Ok(()),
    }
}

/// Parses one `--vary NAME=SPEC` against the scenario's parameters.
pub fn parse_vary(text: &str, scenario: &Scenario) -> Result<Vary, String> {
    let (name, spec_text) = match text.split_once('=') {
        Some((n, s)) => (n.trim(), Some(s.trim())),
        None => (text.trim(), None),
    };
    let Some(param) = scenario.param_index(name) else {
        let hint = crate::diag::suggest(name, scenario.params.iter().map(|p| p.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(format!("--vary: unknown parameter `{name}`{hint}"));
    };
    let p = &scenario.params[param];
    let num = |t: &str| -> Result<f64, String> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("--vary {name}: `{t}` is not a finite number"))
    };
    let spec = match spec_text {
        None => {
            if !(p.min.is_finite() && p.max.is_finite()) {
                return Err(format!(
                    "--vary {name}: the parameter has no declared bounds; give a range lo:hi"
                ));
            }
            Spec::Range(p.min, p.max)
        }
        Some(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [lo, hi] => Spec::Range(num(lo)?, num(hi)?),
                [lo, hi, steps] => Spec::Values(steps_of(name, num(lo)?, num(hi)?, steps, false)?),
                ["log", lo, hi, steps] => Spec::Values(steps_of(name, num(lo)?, num(hi)?, steps, true)?),
                [_] => Spec::Values(s.split(',').map(num).collect::<Result<_, _>>()?),
                _ => return Err(format!("--vary {name}: `{s}` is not a list a,b,c, a range lo:hi:steps or log:lo:hi:steps")),
            }
        }
    };
    match &spec {
        Spec::Range(lo, hi) if lo >= hi => {
            return Err(format!(
                "--vary {name}: the range {lo}:{hi} is empty or inverted"
            ));
        }
        Spec::Values(v) if v.is_empty() => return Err(format!("--vary {name}: no values")),
        _ => {}
    }
    let (lo, hi) = match &spec {
        Spec::Range(lo, hi) => (*lo, *hi),
        Spec::Values(v) => (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ),
    };
    if lo < p.min || hi > p.max {
        return Err(format!(
            "--vary {name}: values from {lo} to {hi} go outside the declared bounds [{}, {}]",
            p.min, p.max
        ));
    }
    Ok(Vary {
        param,
        name: name.to_string(),
        text: text.to_string(),
        spec,
    })
}

fn steps_of(name: &str, lo: f64, hi: f64, steps: &str, log: bool) -> Result<Vec<f64>, String> {
    let n: u64 = steps
        .trim()
        .parse()
        .map_err(|_| format!("--vary {name}: `{steps}` is not a whole number of steps"))?;
    if n == 0 {
        return Err(format!("--vary {name}: steps must be at least 1"));
    }
    if n > MAX_POINTS {
        return Err(format!("--vary {name}: at most {MAX_POINTS} steps"));
    }
    if lo > hi || (n > 1 && lo == hi) {
        return Err(format!(
            "--vary {name}: the range {lo}:{hi} is empty or inverted"
        ));
    }
    if log && lo <= 0.0 {
        return Err(format!("--vary {name}: a log range needs lo > 0"));
    }
    if n == 1 {
        return Ok(vec![lo]);
    }
    let last = (n - 1) as f64;
    Ok((0..n)
        .map(|i| {
            let f = i as f64 / last;
            if i == n - 1 {
                hi
            } else if i == 0 {
                lo
            } else if log {
                log_point(lo, hi, i, n - 1)
            } else {
                lo + f * (hi - lo)
            }
        })
        .collect())
}

/// Largest reduced denominator `q` (in `i/q`) for which a log-grid point is
/// rounded exactly; the exact comparison costs about `q^2` word operations.
/// Beyond it the `exp`/`log` estimate is used (within a few ulps; every grid
/// of at most 257 steps is exact, whatever its range).
const EXACT_LOG_DENOM: u64 = 256;

/// The point `lo^(1-i/q) * hi^(i/q)` of a log grid, correctly rounded to the
/// nearest f64 for reduced `q <= EXACT_LOG_DENOM`. The libm estimate starts
/// a search over neighbouring floats: the answer is the least float `c` whose
/// upper rounding boundary (the midpoint between `c` and the next float up)
/// lies above the exact value, decided by comparing `mid^q` with
/// `lo^(q-p) * hi^p` in exact integer arithmetic. (No midpoint is ever the
/// exact value: its odd part, of 54 bits, raised to the `q` would have to
/// equal a product of `q` odd parts of at most 53 bits.)
fn log_point(lo: f64, hi: f64, i: u64, q: u64) -> f64 {
    let g = gcd(i, q);
    let (p, q) = (i / g, q / g);
    let f = p as f64 / q as f64;
    let c = libm::exp(libm::log(lo) + f * (libm::log(hi) - libm::log(lo)));
    if q > EXACT_LOG_DENOM || !c.is_normal() || !lo.is_normal() || !hi.is_normal() {
        return c;
    }
    // `above(b)`: the exact value lies below the upper midpoint of the float
    // with bits `b`. Monotone in `b`; the answer is the least `b` where true.
    let above = |b: u64| {
        let x = f64::from_bits(b);
        !x.is_normal() || cmp_mid_pow(x, p, q, lo, hi) != std::cmp::Ordering::Less
    };
    let below_normal = |b: u64| !f64::from_bits(b).is_normal();
    // Gallop from the estimate to a bracket (`low` false, `high` true), then
    // bisect. The estimate is within a few hundred ulps even for extreme
    // ranges (the error of `exp` at an argument near 700), so this takes a
    // few dozen comparisons at most.
    let start = c.to_bits();
    let (mut low, mut high);
    if above(start) {
        high = start;
        let mut step = 1u64;
        loop {
            let b = high.saturating_sub(step);
            if below_normal(b) {
                return c;
            }
            if !above(b) {
                low = b;
                break;
            }
            high = b;
            step *= 2;
        }
    } else {
        low = start;
        let mut step = 1u64;
        loop {
            let b = low + step;
            if !f64::from_bits(b).is_finite() {
                return c;
            }
            if above(b) {
                high = b;
                break;
            }
            low = b;
            step *= 2;
        }
    }
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if above(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    f64::from_bits(high)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `x = m * 2^e` with an integer mantissa (x positive, finite).
fn decode(x: f64) -> (u64, i64) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    }
}

/// Order of `mid^q` against `lo^(q-p) * hi^p`, where `mid` is the midpoint
/// between `c` and the next float up.
fn cmp_mid_pow(c: f64, p: u64, q: u64, lo: f64, hi: f64) -> std::cmp::Ordering {
    let (m, e) = decode(c);
    let (a, ea) = decode(lo);
    let (b, eb) = decode(hi);
    // mid = (2m + 1) * 2^(e-1)
    let mut left = vec![1u64];
    for _ in 0..q {
        mul_small(&mut left, 2 * m + 1);
    }
    let mut right = vec![1u64];
    for _ in 0..(q - p) {
        mul_small(&mut right, a);
    }
    for _ in 0..p {
        mul_small(&mut right, b);
    }
    let el = q as i64 * (e - 1);
    let er = (q - p) as i64 * ea + p as i64 * eb;
    if el > er {
        shl(&mut left, (el - er) as u64);
    } else {
        shl(&mut right, (er - el) as u64);
    }
    cmp_big(&left, &right)
}

fn mul_small(x: &mut Vec<u64>, k: u64) {
    let mut carry = 0u128;
    for limb in x.iter_mut() {
        let v = *limb as u128 * k as u128 + carry;
        *limb = v as u64;
        carry = v >> 64;
    }
    if carry > 0 {
        x.push(carry as u64);
    }
}

fn shl(x: &mut Vec<u64>, bits: u64) {
    let (words, rest) = ((bits / 64) as usize, (bits % 64) as u32);
    if rest > 0 {
        let mut carry = 0u64;
        for limb in x.iter_mut() {
            let v = (*limb << rest) | carry;
            carry = *limb >> (64 - rest);
            *limb = v;
        }
        if carry > 0 {
            x.push(carry);
        }
    }
    x.splice(0..0, std::iter::repeat_n(0u64, words));
}

fn cmp_big(x: &[u64], y: &[u64]) -> std::cmp::Ordering {
    let trim = |v: &[u64]| v.len() - v.iter().rev().take_while(|&&l| l == 0).count();
    let (lx, ly) = (trim(x), trim(y));
    lx.cmp(&ly)
        .then_with(|| x[..lx].iter().rev().cmp(y[..ly].iter().rev()))
}

/// The points of a design: one vector of varied-parameter values per point.
pub fn points(kind: DesignKind, vary: &[Vary], seed: u64) -> Result<Vec<Vec<f64>>, String> {
    let range = |v: &Vary| match &v.spec {
        Spec::Range(lo, hi) => (*lo, *hi),
        Spec::Values(vals) => (
            vals.iter().copied().fold(f64::INFINITY, f64::min),
            vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ),
    };
    let mut rng = Stream::new(&replication_key(seed, u64::MAX, None), stream_id::design());
    match kind {
        DesignKind::Grid => {
            let mut lists = Vec::new();
            for v in vary {
                match &v.spec {
                    Spec::Values(vals) => lists.push(vals.clone()),
                    Spec::Range(..) => {
                        return Err(format!(
                            "--vary {}: a grid needs values or lo:hi:steps, not a bare range",
                            v.name
                        ));
                    }
                }
            }
            let total = lists
                .iter()
                .try_fold(1u64, |acc, l| acc.checked_mul(l.len() as u64))
                .filter(|t| *t <= MAX_POINTS);
            let Some(total) = total else {
                return Err(format!("the grid has more than {MAX_POINTS} points"));
            };
            let mut out = Vec::with_capacity(total as usize);
            for mut i in 0..total {
                let mut point = vec![0.0; lists.len()];
                for (k, l) in lists.iter().enumerate().rev() {
                    point[k] = l[(i % l.len() as u64) as usize];
                    i /= l.len() as u64;
                }
                out.push(point);
            }
            Ok(out)
        }
        DesignKind::Random(n) => Ok((0..n)
            .map(|_| {
                vary.iter()
                    .map(|v| {
                        let (lo, hi) = range(v);
                        lo + rng.uniform() * (hi - lo)
                    })
                    .collect()
            })
            .collect()),
        DesignKind::Lhs(n) => {
            // Each dimension: a random permutation of the n strata (Fisher–Yates),
            // then a uniform position within each stratum.
            let mut columns = Vec::new();
            for v in vary {
                let (lo, hi) = range(v);
                let mut perm: Vec<u64> = (0..n).collect();
                for i in (1..n as usize).rev() {
                    let j = (rng.uniform() * (i + 1) as f64) as usize;
                    perm.swap(i, j.min(i));
                }
                columns.push(
                    perm.iter()
                        .map(|s| lo + (*s as f64 + rng.uniform()) / n as f64 * (hi - lo))
                        .collect::<Vec<f64>>(),
                );
            }
            Ok((0..n as usize)
                .map(|i| columns.iter().map(|c| c[i]).collect())
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        crate::scenario::parse(
            "t.toml",
            "[scenario]\nname = \"t\"\nhorizon = 1\n[params]\na = { value = 0.5, min = 0.0, max = 1.0 }\nb = { value = 2, min = 1, max = 100 }\nfree = 3\n",
        )
        .expect("fixture loads")
    }

    #[test]
    fn specs_parse() {
        let s = scenario();
        assert_eq!(
            parse_vary("a=0.1,0.5,0.9", &s).map(|v| v.spec),
            Ok(Spec::Values(vec![0.1, 0.5, 0.9]))
        );
        assert_eq!(
            parse_vary("a=0:1:3", &s).map(|v| v.spec),
            Ok(Spec::Values(vec![0.0, 0.5, 1.0]))
        );
        assert_eq!(
            parse_vary("b=log:1:100:3", &s).map(|v| v.spec),
            Ok(Spec::Values(vec![1.0, 10.0, 100.0]))
        );
        assert_eq!(
            parse_vary("a", &s).map(|v| v.spec),
            Ok(Spec::Range(0.0, 1.0))
        );
        assert_eq!(
            parse_vary("a=0.2:0.4", &s).map(|v| v.spec),
            Ok(Spec::Range(0.2, 0.4))
        );
    }

    #[test]
    fn bad_specs_are_errors() {
        let s = scenario();
        let err = |t: &str| parse_vary(t, &s).expect_err(t);
        assert_eq!(
            err("aa=0,1"),
            "--vary: unknown parameter `aa`; did you mean `a`?"
        );
        assert_eq!(
            err("a=0:2:3"),
            "--vary a: values from 0 to 2 go outside the declared bounds [0, 1]"
        );
        assert_eq!(
            err("a=1:0:3"),
            "--vary a: the range 1:0 is empty or inverted"
        );
        assert_eq!(
            err("a=0.5:0.5"),
            "--vary a: the range 0.5:0.5 is empty or inverted"
        );
        assert_eq!(err("a=0:1:0"), "--vary a: steps must be at least 1");
        assert_eq!(err("a=0,x"), "--vary a: `x` is not a finite number");
        assert_eq!(
            err("free"),
            "--vary free: the parameter has no declared bounds; give a range lo:hi"
        );
        assert_eq!(
            DesignKind::parse("lhs:0"),
            Err("design `lhs:0` has 0 points".into())
        );
        assert_eq!(
            DesignKind::parse("latin:5"),
            Err("unknown design `latin:5`; use grid, lhs:N, random:N or file:PATH".into())
        );
    }

    #[test]
    fn grid_is_row_major() {
        let s = scenario();
        let v = [
            parse_vary("a=0,1", &s).expect("ok"),
            parse_vary("b=1,2,3", &s).expect("ok"),
        ];
        let p = points(DesignKind::Grid, &v, 0).expect("grid");
        assert_eq!(
            p,
            vec![
                vec![0.0, 1.0],
                vec![0.0, 2.0],
                vec![0.0, 3.0],
                vec![1.0, 1.0],
                vec![1.0, 2.0],
                vec![1.0, 3.0]
            ]
        );
    }

    #[test]
    fn lhs_has_one_point_per_stratum_and_is_seeded() {
        let s = scenario();
        let v = [
            parse_vary("a", &s).expect("ok"),
            parse_vary("b=1:100", &s).expect("ok"),
        ];
        let p = points(DesignKind::Lhs(10), &v, 7).expect("lhs");
        for (dim, (lo, hi)) in [(0.0, 1.0), (1.0, 100.0)].into_iter().enumerate() {
            let mut strata: Vec<usize> = p
                .iter()
                .map(|x| ((x[dim] - lo) / (hi - lo) * 10.0) as usize)
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
        assert_eq!(p, points(DesignKind::Lhs(10), &v, 7).expect("lhs"));
        assert_ne!(p, points(DesignKind::Lhs(10), &v, 8).expect("lhs"));
    }

    /// Log grids against a high-precision reference: every point is the f64
    /// nearest `lo^(1-i/(n-1)) * hi^(i/(n-1))`, endpoints exactly `lo` and
    /// `hi`. The reference values were computed with 80 significant digits
    /// by Python's `decimal` (`Decimal(lo).ln()`, `.exp()`) and rounded once
    /// to f64 with `float()`: `python3 scripts/log-grid-reference.py`.
    #[test]
    fn log_grids_are_correctly_rounded() {
        let s = scenario();
        let reference: &[(&str, &[f64])] = &[
            ("log:0.03:0.3:3", &[0.03, 0.09486832980505137, 0.3]),
            ("log:0.01:1:3", &[0.01, 0.1, 1.0]),
            ("log:1:100:3", &[1.0, 10.0, 100.0]),
            (
                "log:0.001:1000:7",
                &[0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0],
            ),
            (
                "log:1e-06:1:13",
                &[
                    1e-06,
                    3.162277660168379e-06,
                    9.999999999999999e-06,
                    3.1622776601683795e-05,
                    9.999999999999999e-05,
                    0.00031622776601683794,
                    0.001,
                    0.0031622776601683794,
                    0.01,
                    0.03162277660168379,
                    0.1,
                    0.31622776601683794,
                    1.0,
                ],
            ),
            (
                "log:0.5:7.3:11",
                &[
                    0.5,
                    0.6537403480503479,
                    0.8547528853379801,
                    1.1175728975157804,
                    1.4612049899872042,
                    1.91049731745428,
                    2.497938362523634,
                    3.2660061890490333,
                    4.270240045527011,
                    5.583256427242723,
                    7.3,
                ],
            ),
            (
                "log:2:3:50",
                &[
                    2.0,
                    2.0166182577894443,
                    2.033374598824867,
                    2.0502701704577566,
                    2.0673061295730943,
                    2.0844836426685664,
                    2.1018038859344395,
                    2.119268045334097,
                    2.1368773166852435,
                    2.1546329057417895,
                    2.172536028276408,
                    2.190587910163784,
                    2.2087897874645552,
                    2.227142906509944,
                    2.245648523987102,
                    2.2643079070251533,
                    2.2831223332819635,
                    2.3020930910316224,
                    2.3212214792526535,
                    2.3405088077169616,
                    2.359956397079514,
                    2.379565578968772,
                    2.399337696077868,
                    2.4192741022565447,
                    2.4393761626038577,
                    2.459645253561646,
                    2.4800827630087814,
                    2.5006900903562,
                    2.521468646642724,
                    2.542419854631679,
                    2.5635451489083145,
                    2.5848459759780336,
                    2.606323794365439,
                    2.627980074714203,
                    2.649816299887765,
                    2.671833965070868,
                    2.6940345778719386,
                    2.716419658426315,
                    2.7389907395003363,
                    2.761749366596295,
                    2.784697098058261,
                    2.807835505178786,
                    2.831166172306494,
                    2.854690696954566,
                    2.8784106899101256,
                    2.902327775344535,
                    2.926443590924605,
                    2.9507597879247314,
                    2.975278031339961,
                    3.0,
                ],
            ),
            (
                "log:1e-300:1e+300:5",
                &[1e-300, 1e-150, 1.0, 1e+150, 1e+300],
            ),
            (
                "log:0.1:0.2:257",
                &[
                    0.1,
                    0.10027112750502025,
                    0.10054299011128029,
                    0.10081558981184176,
                    0.10108892860517005,
                    0.10136300849514895,
                    0.10163783149109532,
                    0.1019133996077738,
                    0.10218971486541167,
                    0.10246677928971357,
                    0.10274459491187637,
                    0.10302316376860411,
                    0.10330248790212285,
                    0.10358256936019572,
                    0.10386341019613789,
                    0.10414501246883162,
                    0.10442737824274138,
                    0.10471050958792899,
                    0.10499440858006873,
                    0.10527907730046264,
                    0.10556451783605572,
                    0.10585073227945127,
                    0.10613772272892621,
                    0.10642549128844646,
                    0.10671404006768237,
                    0.10700337118202419,
                    0.10729348675259756,
                    0.10758438890627911,
                    0.10787607977571198,
                    0.10816856149932152,
                    0.10846183622133093,
                    0.10875590609177697,
                    0.10905077326652578,
                    0.1093464399072886,
                    0.10964290818163769,
                    0.1099401802630222,
                    0.1102382583307841,
                    0.11053714457017413,
                    0.11083684117236788,
                    0.11113735033448177,
                    0.11143867425958925,
                    0.11174081515673692,
                    0.11204377524096068,
                    0.11234755673330199,
                    0.11265216186082419,
                    0.11295759285662882,
                    0.11326385195987193,
                    0.11357094141578056,
                    0.11387886347566917,
                    0.11418762039695617,
                    0.11449721444318042,
                    0.11480764788401791,
                    0.11511892299529827,
                    0.1154310420590216,
                    0.1157440073633751,
                    0.11605782120274988,
                    0.11637248587775775,
                    0.11668800369524816,
                    0.11700437696832502,
                    0.11732160801636374,
                    0.11763969916502813,
                    0.1179586527462876,
                    0.1182784710984341,
                    0.11859915656609939,
                    0.11892071150027211,
                    0.11924313825831513,
                    0.11956643920398274,
                    0.11989061670743806,
                    0.12021567314527032,
                    0.1205416109005124,
                    0.12086843236265817,
                    0.12119613992768012,
                    0.12152473599804689,
                    0.12185422298274085,
                    0.12218460329727576,
                    0.12251587936371455,
                    0.12284805361068701,
                    0.1231811284734076,
                    0.12351510639369334,
                    0.12384998981998166,
                    0.12418578120734841,
                    0.1245224830175258,
                    0.12486009771892048,
                    0.12519862778663163,
                    0.1255380757024691,
                    0.12587844395497166,
                    0.12621973503942507,
                    0.12656195145788063,
                    0.12690509571917333,
                    0.1272491703389403,
                    0.12759417783963922,
                    0.12794012075056693,
                    0.12828700160787784,
                    0.12863482295460257,
                    0.1289835873406666,
                    0.12933329732290896,
                    0.12968395546510098,
                    0.13003556433796506,
                    0.1303881265191936,
                    0.13074164459346774,
                    0.13109612115247643,
                    0.13145155879493547,
                    0.1318079601266064,
                    0.13216532776031575,
                    0.13252366431597415,
                    0.13288297242059544,
                    0.13324325470831616,
                    0.13360451382041458,
                    0.13396675240533032,
                    0.13432997311868353,
                    0.13469417862329458,
                    0.13505937158920345,
                    0.13542555469368928,
                    0.1357927306212901,
                    0.13616090206382248,
                    0.13653007172040119,
                    0.13690024229745906,
                    0.13727141650876684,
                    0.137643597075453,
                    0.13801678672602383,
                    0.1383909881963832,
                    0.13876620422985292,
                    0.13914243757719263,
                    0.13951969099662004,
                    0.13989796725383113,
                    0.1402772691220205,
                    0.14065759938190156,
                    0.14103896082172707,
                    0.1414213562373095,
                    0.14180478843204153,
                    0.14218926021691655,
                    0.14257477441054944,
                    0.142961333839197,
                    0.1433489413367789,
                    0.14373759974489825,
                    0.14412731191286257,
                    0.14451808069770467,
                    0.1449099089642035,
                    0.14530279958490527,
                    0.14569675544014438,
                    0.1460917794180647,
                    0.1464878744146406,
                    0.1468850433336982,
                    0.14728328908693678,
                    0.14768261459394993,
                    0.1480830227822472,
                    0.14848451658727527,
                    0.1488870989524397,
                    0.1492907728291265,
                    0.14969554117672354,
                    0.15010140696264257,
                    0.15050837316234067,
                    0.1509164427593423,
                    0.151325618745261,
                    0.1517359041198215,
                    0.15214730189088146,
                    0.15255981507445385,
                    0.1529734466947287,
                    0.1533881997840956,
                    0.1538040773831657,
                    0.15422108254079409,
                    0.15463921831410216,
                    0.1550584877685,
                    0.15547889397770887,
                    0.1559004400237837,
                    0.15632312899713577,
                    0.1567469639965553,
                    0.15717194812923416,
                    0.15759808451078866,
                    0.15802537626528246,
                    0.1584538265252494,
                    0.1588834384317164,
                    0.1593142151342267,
                    0.1597461597908627,
                    0.16017927556826936,
                    0.16061356564167711,
                    0.16104903319492545,
                    0.16148568142048608,
                    0.1619235135194864,
                    0.1623625327017329,
                    0.1628027421857348,
                    0.1632441451987275,
                    0.16368674497669647,
                    0.16413054476440064,
                    0.1645755478153965,
                    0.1650217573920618,
                    0.16546917676561945,
                    0.16591780921616162,
                    0.16636765803267364,
                    0.16681872651305826,
                    0.16727101796415966,
                    0.16772453570178786,
                    0.16817928305074292,
                    0.16863526334483933,
                    0.16909247992693052,
                    0.16955093614893327,
                    0.17001063537185235,
                    0.17047158096580514,
                    0.1709337763100463,
                    0.1713972247929926,
                    0.1718619298122478,
                    0.1723278947746274,
                    0.17279512309618378,
                    0.17326361820223113,
                    0.17373338352737064,
                    0.17420442251551566,
                    0.1746767386199169,
                    0.17515033530318783,
                    0.17562521603732995,
                    0.17610138430375838,
                    0.1765788435933273,
                    0.1770575974063555,
                    0.17753764925265214,
                    0.17801900265154244,
                    0.1785016611318935,
                    0.17898562823214012,
                    0.17947090750031072,
                    0.1799575024940535,
                    0.1804454167806624,
                    0.1809346539371032,
                    0.18142521755003987,
                    0.18191711121586088,
                    0.18241033854070535,
                    0.18290490314048974,
                    0.18340080864093425,
                    0.18389805867758938,
                    0.1843966568958626,
                    0.1848966069510451,
                    0.18539791250833856,
                    0.18590057724288206,
                    0.18640460483977891,
                    0.18690999899412386,
                    0.18741676341103,
                    0.18792490180565602,
                    0.18843441790323345,
                    0.18894531543909393,
                    0.1894575981586966,
                    0.18997126981765552,
                    0.19048633418176744,
                    0.19100279502703899,
                    0.19152065613971475,
                    0.19203992131630476,
                    0.1925605943636125,
                    0.19308267909876273,
                    0.19360617934922947,
                    0.19413109895286404,
                    0.19465744175792335,
                    0.19518521162309785,
                    0.19571441241754003,
                    0.19624504802089277,
                    0.1967771223233176,
                    0.19731063922552344,
                    0.1978456026387951,
                    0.19838201648502196,
                    0.19891988469672664,
                    0.19945921121709403,
                    0.2,
                ],
            ),
            (
                "log:3:100000.0:101",
                &[
                    3.0,
                    3.329277856054538,
                    3.694697014271701,
                    4.1002243181485305,
                    4.550262009089407,
                    5.049695515369199,
                    5.60394648637886,
                    6.219031647871924,
                    6.901628117120787,
                    7.659145887017871,
                    8.499808265979931,
                    9.432741146878769,
                    10.46807207406599,
                    11.617040183923601,
                    12.892118212410862,
                    14.3071478940723,
                    15.877490222344075,
                    17.62019220232419,
                    19.554171906207593,
                    21.700423840273565,
                    24.08224685280692,
                    26.725497057029724,
                    29.658868514673262,
                    32.91420472717828,
                    36.526844315946754,
                    40.53600464421103,
                    44.985207544965235,
                    49.922751776490095,
                    55.402237334258615,
                    61.48314731094173,
                    68.23149362095248,
                    75.72053359925452,
                    84.0315652535439,
                    93.25480980274189,
                    103.49039108228209,
                    114.84942244822193,
                    127.45521297917276,
                    141.4446060700916,
                    156.96946494917108,
                    174.19832124400145,
                    193.31820449317627,
                    214.5366724637849,
                    238.08406431510147,
                    264.2160010679106,
                    293.216160523559,
                    325.3993567561393,
                    361.1149576075351,
                    400.7506772842799,
                    444.7367852271372,
                    493.550776943197,
                    547.7225575051662,
                    607.840193987836,
                    674.5562992878657,
                    748.595116627063,
                    830.7603816456817,
                    921.9440474334617,
                    1023.1359672138396,
                    1135.4346397926595,
                    1260.059134419654,
                    1398.362324514201,
                    1551.8455739153596,
                    1722.1750350842176,
                    1911.1997361852777,
                    2120.9716533929736,
                    2353.7679863202025,
                    2612.115878381977,
                    2898.8198504485217,
                    3216.9922455965307,
                    3570.0870154545637,
                    3961.9372149135716,
                    4396.796612230048,
                    4879.38586622437,
                    5414.943771855429,
                    6009.284130472905,
                    6668.858862107798,
                    7400.828044922852,
                    8213.137642143018,
                    9114.605760238244,
                    10115.018374742775,
                    11225.235562871962,
                    12457.309396155173,
                    13824.61477287985,
                    15341.994610611107,
                    17025.92097493854,
                    18894.673893599127,
                    20968.53979711045,
                    23270.03174010605,
                    25824.133794007106,
                    28658.572264059174,
                    31804.116674956993,
                    35294.913792436404,
                    39168.85830683747,
                    43468.00420263061,
                    48239.0212795679,
                    53533.70178126969,
                    59409.52263100285,
                    65930.26937805625,
                    73166.72862802443,
                    81197.45647374445,
                    90109.6312686632,
                    100000.0,
                ],
            ),
            (
                "log:0.07:0.7:4",
                &[0.07, 0.15081042830223187, 0.3249112183528945, 0.7],
            ),
            (
                "log:1e-09:5e-09:9",
                &[
                    1e-09,
                    1.222844544993852e-09,
                    1.4953487812212207e-09,
                    1.8285790999795745e-09,
                    2.2360679774997897e-09,
                    2.734363528521053e-09,
                    3.3437015248821102e-09,
                    4.088827169789713e-09,
                    5e-09,
                ],
            ),
        ];
        for (spec, want) in reference {
            let got = match parse_vary(&format!("free={spec}"), &s).map(|v| v.spec) {
                Ok(Spec::Values(v)) => v,
                other => panic!("{spec}: {other:?}"),
            };
            assert_eq!(got.len(), want.len(), "{spec}");
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                assert_eq!(g.to_bits(), w.to_bits(), "{spec} point {i}: {g:e} != {w:e}");
            }
        }
    }

    /// A long log grid (reduced denominators beyond the exact limit): the
    /// endpoints are exact, the points strictly increasing and each within
    /// 1e-13 (relative) of the value of the formula.
    #[test]
    fn long_log_grids_keep_exact_endpoints() {
        let s = scenario();
        let Ok(Spec::Values(v)) = parse_vary("free=log:0.01:100:1001", &s).map(|v| v.spec) else {
            panic!("log grid parses");
        };
        assert_eq!((v.len(), v[0], v[1000]), (1001, 0.01, 100.0));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        for (i, x) in v.iter().enumerate() {
            let want = 0.01 * 10f64.powf(4.0 * i as f64 / 1000.0);
            assert!((x / want - 1.0).abs() < 1e-13, "point {i}: {x} vs {want}");
        }
    }

    /// The grids of issue 16: endpoints are the bounds exactly, so a log grid
    /// over a parameter's whole declared range is accepted.
    #[test]
    fn log_grid_endpoints_are_exact() {
        let s = crate::scenario::parse(
            "t.toml",
            "[scenario]\nname = \"t\"\nhorizon = 1\n[params]\nx = { value = 0.1, min = 0.03, max = 0.3 }\ny = { value = 0.1, min = 0.01, max = 1 }\n",
        )
        .expect("fixture loads");
        assert_eq!(
            parse_vary("x=log:0.03:0.3:3", &s).map(|v| v.spec),
            Ok(Spec::Values(vec![0.03, 0.09486832980505137, 0.3]))
        );
        assert_eq!(
            parse_vary("y=log:0.01:1:3", &s).map(|v| v.spec),
            Ok(Spec::Values(vec![0.01, 0.1, 1.0]))
        );
    }
}
