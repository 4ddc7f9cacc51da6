//! The library's error type: every way a command can fail, as variants a
//! caller can match on, each with a message that says what to do.

use crate::engine::SimError;
use crate::scenario::LoadError;
pub use crate::scenario::ParamError;
use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario could not be loaded: its file, or every problem in it.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A parameter value given to the scenario is not one it accepts.
    #[error("{0}")]
    Param(#[from] ParamError),
    /// A setting of the request is out of range or does not go with another
    /// (`option` names the setting, as the CLI spells its flag: `reps`,
    /// `threads`, `vary`, …; the message says what is wrong with it).
    #[error("{message}")]
    Invalid {
        /// The setting at fault.
        option: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// A result directory or file cannot be used as asked: it is not a
    /// finished result, comes from another run, was edited since, is held
    /// by another command, or would be replaced without being told to.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A replication failed.
    #[error("{0}")]
    Sim(#[from] RepError),
}

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A setting out of range or in conflict ([`Error::Invalid`]).
    pub fn invalid(option: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            option,
            message: message.into(),
        }
    }

    /// Whether the request itself is at fault (a parameter, a setting, a
    /// result that cannot be used), not the scenario, the disk or a
    /// replication: the CLI's exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Param(_) | Error::Invalid { .. } | Error::Refused(_)
        )
    }
}

/// Where a failed replication belongs: a parameter point of a run or sweep,
/// or a policy of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepSource {
    /// Point `0..` of a run or sweep.
    Point(u64),
    /// Policy `'A'` or `'B'` of `compare`.
    Policy(char),
    /// Batch `0..` of `rare` (the replication is a particle of it).
    Batch(u64),
}

/// A replication failed.
#[derive(Debug, Clone, PartialEq)]
pub struct RepError {
    /// Which point or policy.
    pub source: RepSource,
    /// Which replication.
    pub rep: u64,
    /// What went wrong.
    pub error: SimError,
}

impl RepError {
    /// Replication `rep` of point `point` failed with `error`.
    pub fn at_point(point: u64, rep: u64, error: SimError) -> RepError {
        RepError {
            source: RepSource::Point(point),
            rep,
            error,
        }
    }
}

impl std::fmt::Display for RepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            RepSource::Point(p) => write!(f, "replication {} of point {p}: ", self.rep)?,
            RepSource::Policy(c) => write!(f, "replication {} of policy {c}: ", self.rep)?,
            RepSource::Batch(b) => write!(f, "particle {} of batch {b}: ", self.rep)?,
        }
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for RepError {}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_replication_of_a_policy_names_the_policy_not_a_point() {
        let error = SimError::Invalid {
            time: 1.0,
            message: "x".into(),
        };
        let e = RepError {
            source: RepSource::Policy('B'),
            rep: 7,
            error: error.clone(),
        };
        assert!(e.to_string().starts_with("replication 7 of policy B: "));
        let p = RepError::at_point(3, 7, error);
        assert!(p.to_string().starts_with("replication 7 of point 3: "));
    }

    #[test]
    fn parameter_errors_say_what_and_where() {
        let e = ParamError::Unknown {
            name: "escalaton".into(),
            nearest: Some("escalation".into()),
        }
        .within("--b");
        assert_eq!(
            e.to_string(),
            "--b: unknown parameter `escalaton`; did you mean `escalation`?"
        );
        assert!(Error::from(e).is_usage());
    }
}
