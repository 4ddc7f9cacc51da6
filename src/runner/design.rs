//! Sweep designs: which parameter points a sweep runs.
//!
//! `--vary NAME=SPEC` gives each varied parameter its values or range:
//! a list `0.1,0.5,0.9`, a linear range `lo:hi:steps`, a log range
//! `log:lo:hi:steps`, or (for `lhs`/`random` designs) a bare range `lo:hi`, or
//! just `NAME` for the parameter's declared bounds.
//!
//! Point numbering: a `grid` is the full factorial in row-major order — the
//! first `--vary` changes slowest, the last fastest. `lhs:N` and `random:N`
//! points are numbered in the order they are drawn. Both draw from the stream
//! [`stream_id::design`] under `replication_key(seed, u64::MAX, None)`, so the
//! design is a pure function of the seed and the specs.

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
            _ => Err(format!("unknown design `{s}`; use grid, lhs:N or random:N")),
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
            } else if log {
                libm::exp(libm::log(lo) + f * (libm::log(hi) - libm::log(lo)))
            } else {
                lo + f * (hi - lo)
            }
        })
        .collect())
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
            Ok(Spec::Values(vec![1.0, 10.000000000000002, 100.0]))
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
            Err("unknown design `latin:5`; use grid, lhs:N or random:N".into())
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
}
