//! Scenario files: TOML in, a validated [`Scenario`] out, or every problem found
//! as a [`Diagnostic`] with a byte span.
//!
//! `raw` is the serde shape of the file; `compile` resolves names, checks types
//! and ranges and compiles expressions; `model` is the result the engine reads.

mod compile;
mod describe;
mod history;
mod model;
mod raw;
mod streams;
mod template;

pub use describe::describe;
pub use model::*;

use crate::diag::{render, Diagnostic};
use std::fmt;
use std::path::Path;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Io {
        /// The path.
        path: String,
        /// The cause.
        error: std::io::Error,
    },
    /// The file was read but has problems.
    Invalid {
        /// The path, as given.
        path: String,
        /// The file's text.
        source: String,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "{path}: cannot read the scenario: {error}"),
            LoadError::Invalid {
                path,
                source,
                diagnostics,
            } => {
                let text = render(path, source, diagnostics);
                write!(f, "{}", text.trim_end())?;
                let n = diagnostics.len();
                write!(
                    f,
                    "\n{path}: {n} error{} found",
                    if n == 1 { "" } else { "s" }
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// The diagnostics, if the file was read.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid { diagnostics, .. } => diagnostics,
        }
    }
}

/// Reads and compiles a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
        path: shown.clone(),
        error,
    })?;
    parse(&shown, &source)
}

/// Compiles scenario text; `path` is used only in error messages.
pub fn parse(path: &str, source: &str) -> Result<Scenario, LoadError> {
    compile::compile(source).map_err(|diagnostics| LoadError::Invalid {
        path: path.to_string(),
        source: source.to_string(),
        diagnostics,
    })
}
