//! Scenario files: TOML in, a validated [`Scenario`] out, or every problem found
//! as a [`Diagnostic`] with a byte span.
//!
//! `raw` is the serde shape of the file; `compile` resolves names, checks types
//! and ranges and compiles expressions; `model` is the result the engine reads.

mod compile;
mod describe;
mod dispatch;
mod history;
mod lint;
mod model;
mod names;
mod params;
mod raw;
mod streams;
mod structure;
mod template;

pub use describe::describe;
pub use dispatch::{ByActor, EventRules};
pub use lint::warnings;

/// The version of the scenario language this build reads, recorded in every
/// manifest. Version 2 added `choose`, history windows and filters, and
/// streams keyed by name (CHANGELOG.md); every version-1 scenario reads the
/// same under it, with new random streams.
pub const LANGUAGE_VERSION: u32 = 2;
pub use model::*;
pub use params::{parse_assignment, parse_assignments, ParamError};

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
    load_hashed(path).map(|(scenario, _)| scenario)
}

/// Reads and compiles a scenario file, returning it with the SHA-256 (hex)
/// of its bytes, which manifests record.
pub fn load_hashed(path: &Path) -> Result<(Scenario, String), LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io {
        path: shown.clone(),
        error,
    })?;
    let sha256 = crate::digest::sha256_hex(&bytes);
    match String::from_utf8(bytes) {
        Ok(source) => parse(&shown, &source).map(|s| (s, sha256)),
        Err(e) => Err(not_utf8(&shown, e.as_bytes())),
    }
}

/// A scenario loaded for `validate`: the compiled scenario and its
/// warnings ([`warnings`]), rendered as `file:line:col: warning: …` with the
/// source line (empty when there are none).
#[derive(Debug)]
pub struct Checked {
    /// The compiled scenario.
    pub scenario: Scenario,
    /// The rendered warnings.
    pub warnings: String,
    /// How many warnings there are.
    pub n_warnings: usize,
}

/// Reads and compiles a scenario file once, and lists its warnings.
pub fn load_checked(path: &Path) -> Result<Checked, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io {
        path: shown.clone(),
        error,
    })?;
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        Err(e) => return Err(not_utf8(&shown, e.as_bytes())),
    };
    let scenario = parse(&shown, &source)?;
    let found = warnings(&source, &scenario);
    Ok(Checked {
        warnings: crate::diag::render_as("warning", &shown, &source, &found),
        n_warnings: found.len(),
        scenario,
    })
}

/// The error for a scenario file that is not UTF-8 text, located at its
/// first invalid byte (the line is shown with invalid bytes as `�`).
pub fn not_utf8(path: &str, bytes: &[u8]) -> LoadError {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let byte = bytes.get(valid).copied().unwrap_or(0);
    LoadError::Invalid {
        path: path.to_string(),
        source: String::from_utf8_lossy(bytes).into_owned(),
        diagnostics: vec![Diagnostic::new(
            valid..valid + 1,
            format!("byte 0x{byte:02x} is not UTF-8 text"),
        )
        .with_help("save the scenario as UTF-8")],
    }
}

/// Compiles scenario text; `path` is used only in error messages.
///
/// Warnings (the scenario loads, but part of it does nothing) are rendered
/// with `path` into [`Scenario::warnings`].
pub fn parse(path: &str, source: &str) -> Result<Scenario, LoadError> {
    match compile::compile(source) {
        Ok((mut scenario, warnings)) => {
            scenario.warnings = warnings
                .iter()
                .map(|w| crate::diag::render_warnings(path, source, std::slice::from_ref(w)))
                .collect();
            Ok(scenario)
        }
        Err(diagnostics) => Err(LoadError::Invalid {
            path: path.to_string(),
            source: source.to_string(),
            diagnostics,
        }),
    }
}
