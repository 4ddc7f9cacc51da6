//! The library's error type: every way a command can fail, each with a message
//! that says what to do.

use crate::scenario::LoadError;
use crate::sweep::harness::RepError;
use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario could not be loaded.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The arguments do not make sense together or out of range.
    #[error("{0}")]
    Usage(String),
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
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
