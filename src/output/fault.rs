//! Fault injection for the crash-consistency and disk-full tests.
//!
//! Every file operation of an output (creating a `.partial`, each write of
//! bytes to the OS, each sync, each rename into place) passes through
//! [`hit`]. With the environment variable `FLASHPOINT_FAULT` unset, that is
//! one load of an initialised `OnceLock` per operation and nothing happens.
//!
//! `FLASHPOINT_FAULT=OP:N:ACTION` makes the `N`-th operation of kind `OP`
//! (counted from 1 over the whole process) fail:
//!
//! - `OP` is `create`, `write`, `sync`, `rename` or `any` (every kind counted
//!   together);
//! - `ACTION` is `kill` (the process aborts at once, as under SIGKILL: no
//!   destructor, clean-up or signal handler runs; a `write` writes the first
//!   half of its bytes first, so the file is cut mid-buffer) or `enospc` (the
//!   operation fails with "No space left on device", as on a full disk).
//!
//! `FLASHPOINT_FAULT=trace` instead prints `fault-point OP N PATH` on stderr
//! for every operation, so a test can list a command's operations and then
//! choose where to strike. Any other value is ignored with a warning, so a
//! typo cannot silently pass for a fault that never fired.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A kind of file operation that a fault can strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Creating or opening a `.partial` file for writing.
    Create,
    /// Handing a buffer of bytes to the operating system.
    Write,
    /// `fsync` of a finished file.
    Sync,
    /// Renaming a finished file into place.
    Rename,
}

impl Op {
    const ALL: [Op; 4] = [Op::Create, Op::Write, Op::Sync, Op::Rename];

    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Write => "write",
            Op::Sync => "sync",
            Op::Rename => "rename",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Abort the process at once.
    Kill,
    /// Fail the operation with ENOSPC.
    Enospc,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Trace,
    Strike {
        op: Option<Op>,
        n: u64,
        action: Action,
    },
}

fn mode() -> Option<Mode> {
    static MODE: OnceLock<Option<Mode>> = OnceLock::new();
    *MODE.get_or_init(|| {
        let spec = std::env::var("FLASHPOINT_FAULT").ok()?;
        let parsed = parse(&spec);
        if parsed.is_none() {
            eprintln!("warning: FLASHPOINT_FAULT={spec:?} is not OP:N:ACTION or trace; ignored");
        }
        parsed
    })
}

fn parse(spec: &str) -> Option<Mode> {
    if spec == "trace" {
        return Some(Mode::Trace);
    }
    let mut parts = spec.split(':');
    let (op, n, action) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let op = match op {
        "any" => None,
        name => Some(*Op::ALL.iter().find(|o| o.name() == name)?),
    };
    let n = n.parse().ok().filter(|&n| n >= 1)?;
    let action = match action {
        "kill" => Action::Kill,
        "enospc" => Action::Enospc,
        _ => return None,
    };
    Some(Mode::Strike { op, n, action })
}

static COUNTS: [AtomicU64; 5] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

/// Records one operation `op` on `path`; returns the action of a fault that
/// strikes it. Callers use [`before`] unless they act on `Kill` themselves
/// (a write cut in half).
pub fn hit(op: Op, path: &Path) -> Option<Action> {
    let mode = mode()?;
    let nth = COUNTS[op.index()].fetch_add(1, Ordering::SeqCst) + 1;
    let nth_any = COUNTS[4].fetch_add(1, Ordering::SeqCst) + 1;
    match mode {
        Mode::Trace => {
            eprintln!("fault-point {} {nth} {}", op.name(), path.display());
            None
        }
        Mode::Strike {
            op: want,
            n,
            action,
        } => {
            let count = if want.is_some() { nth } else { nth_any };
            (want.is_none_or(|w| w == op) && count == n).then_some(action)
        }
    }
}

/// Records one operation and carries out a fault that strikes it: aborts, or
/// returns the ENOSPC error.
pub fn before(op: Op, path: &Path) -> io::Result<()> {
    match hit(op, path) {
        None => Ok(()),
        Some(Action::Kill) => std::process::abort(),
        Some(Action::Enospc) => Err(enospc()),
    }
}

/// The error of a full disk.
pub fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

/// A file whose writes pass through [`hit`].
pub struct FaultFile {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl FaultFile {
    /// Wraps `file`, written at `path`.
    pub fn new(file: std::fs::File, path: &Path) -> FaultFile {
        FaultFile {
            file,
            path: path.to_path_buf(),
        }
    }

    /// The file itself (to sync, seek or truncate it).
    pub fn get_mut(&mut self) -> &mut std::fs::File {
        &mut self.file
    }

    /// Syncs the file to disk (a [`Op::Sync`] operation).
    pub fn sync_all(&self) -> io::Result<()> {
        before(Op::Sync, &self.path)?;
        self.file.sync_all()
    }
}

impl io::Write for FaultFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match hit(Op::Write, &self.path) {
            None => self.file.write(buf),
            Some(Action::Kill) => {
                let _ = self.file.write_all(&buf[..buf.len() / 2]);
                std::process::abort()
            }
            Some(Action::Enospc) => Err(enospc()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_are_refused() {
        assert!(matches!(parse("trace"), Some(Mode::Trace)));
        assert!(matches!(
            parse("rename:3:kill"),
            Some(Mode::Strike {
                op: Some(Op::Rename),
                n: 3,
                action: Action::Kill
            })
        ));
        assert!(matches!(
            parse("any:1:enospc"),
            Some(Mode::Strike {
                op: None,
                n: 1,
                action: Action::Enospc
            })
        ));
        for bad in [
            "",
            "rename",
            "rename:0:kill",
            "move:1:kill",
            "write:1:explode",
            "write:1:kill:x",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} parsed");
        }
    }
}
