//! Everything that writes files: atomic file replacement, number formatting,
//! and the CSV and JSON writers. Only this module touches the file system for
//! output; `read` is the one reader of result CSV files.

pub mod atomic;
pub(crate) mod cleanup;
pub(crate) mod fault;
pub mod format;
pub mod manifest;
pub mod read;
pub(crate) mod swap;
pub mod tables;
pub mod text;
pub(crate) mod timeseries;

use std::path::Path;

pub use atomic::{sha256_hex, write_atomic, AtomicFile};
pub use format::{fmt_f64, push_f64, push_padded};

/// Whether process `pid` is alive on this machine (`/proc/<pid>` exists):
/// how stale temporary and staging directories are told from live ones.
pub fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}
