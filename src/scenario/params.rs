//! Parameter values given from outside the scenario: the one parser of
//! `NAME=VALUE` assignments (`--set`, `compare --a/--b`) and the typed
//! errors of a value the scenario does not accept
//! ([`crate::scenario::Scenario::param_values`] checks names and bounds).

/// A parameter value the scenario does not accept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// No parameter has this name.
    #[error("unknown parameter `{name}`{}", nearest.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    Unknown {
        /// The name given.
        name: String,
        /// The nearest declared name, if one is near.
        nearest: Option<String>,
    },
    /// The value is outside the parameter's declared bounds (or not finite).
    #[error("parameter `{name}` = {value} is outside its bounds [{min}, {max}]")]
    OutOfBounds {
        /// The parameter.
        name: String,
        /// The value given.
        value: f64,
        /// Its lower bound.
        min: f64,
        /// Its upper bound.
        max: f64,
    },
    /// The same parameter is given twice in one list.
    #[error("parameter `{name}` is set twice")]
    Twice {
        /// The parameter.
        name: String,
    },
    /// An assignment is not `NAME=VALUE` with a finite number.
    #[error("{0}")]
    Syntax(String),
    /// One of the above, said of the option or policy that gave the values.
    #[error("{context}: {error}")]
    In {
        /// Where the values came from (`--a`, `--set`, …).
        context: String,
        /// The problem.
        error: Box<ParamError>,
    },
}

impl ParamError {
    /// This error, said of `context` (the option that gave the values).
    pub fn within(self, context: impl Into<String>) -> ParamError {
        ParamError::In {
            context: context.into(),
            error: Box::new(self),
        }
    }
}

/// Parses one `NAME=VALUE`: a name and a finite number. Whether the name
/// is declared and the value within bounds is checked later, against the
/// scenario ([`crate::scenario::Scenario::param_values`]).
pub fn parse_assignment(s: &str) -> Result<(String, f64), ParamError> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| ParamError::Syntax(format!("expected NAME=VALUE, got `{s}`")))?;
    let value = value.trim();
    let x: f64 = value
        .parse()
        .map_err(|_| ParamError::Syntax(format!("`{value}` is not a number (in `{s}`)")))?;
    if !x.is_finite() {
        return Err(ParamError::Syntax(format!(
            "`{s}`: the value must be finite"
        )));
    }
    Ok((name.trim().to_string(), x))
}

/// Parses `NAME=V[,NAME=V…]` (an empty string gives no assignments), each
/// name at most once.
pub fn parse_assignments(s: &str) -> Result<Vec<(String, f64)>, ParamError> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = parse_assignment(part)?;
        if out.iter().any(|(n, _)| *n == name) {
            return Err(ParamError::Twice { name });
        }
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_parse_and_reject_nonsense() {
        assert_eq!(
            parse_assignments("a=1, b = 2.5").unwrap(),
            vec![("a".to_string(), 1.0), ("b".to_string(), 2.5)]
        );
        assert_eq!(parse_assignments("").unwrap(), vec![]);
        let e = |s| parse_assignments(s).unwrap_err().to_string();
        assert_eq!(e("a"), "expected NAME=VALUE, got `a`");
        assert_eq!(e("a=x"), "`x` is not a number (in `a=x`)");
        assert_eq!(e("a=inf"), "`a=inf`: the value must be finite");
        assert_eq!(e("a=1,a=2"), "parameter `a` is set twice");
    }
}
