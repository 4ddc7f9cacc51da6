//! Everything that writes files: atomic file replacement, number formatting,
//! and the CSV and JSON writers. Only this module touches the file system for
//! output.

pub mod atomic;
pub mod fault;
pub mod format;
pub mod manifest;
pub mod tables;
pub mod timeseries;

pub use atomic::{sha256_hex, write_atomic, AtomicFile};
pub use format::{fmt_f64, push_f64, push_padded};
