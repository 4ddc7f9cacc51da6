//! Temporary directories that do not outlive their command: removed when
//! dropped, when the process gets SIGINT, SIGTERM or SIGHUP, and, after a
//! SIGKILL, by the next command that makes one ([`sweep_stale`]).
//!
//! The first [`remove_on_signal`] blocks those three signals in the calling
//! thread (threads started later inherit the mask; call it before the
//! worker pool starts) and starts a thread that waits for them with
//! `sigwait`: it removes every registered directory, then exits with status
//! 128 + the signal number, as the shell reports a process killed by it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset adds valid signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Registers `dir` to be removed if the process is interrupted (SIGINT,
/// SIGTERM, SIGHUP); see the [module docs](self).
pub fn remove_on_signal(dir: &Path) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let set = signal_set();
        // SAFETY: a valid, initialised signal set; no old mask wanted.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        let _ = std::thread::Builder::new()
            .name("flashpoint-signals".into())
            .spawn(move || loop {
                let mut sig: libc::c_int = 0;
                // SAFETY: the same set, blocked in this thread too (inherited).
                if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                    continue;
                }
                let dirs = REGISTERED.lock().map(|d| d.clone()).unwrap_or_default();
                for dir in dirs {
                    let _ = std::fs::remove_dir_all(dir);
                }
                std::process::exit(128 + sig);
            });
    });
    if let Ok(mut dirs) = REGISTERED.lock() {
        dirs.push(dir.to_path_buf());
    }
}

/// Forgets a directory registered with [`remove_on_signal`] (it was removed).
pub fn forget(dir: &Path) {
    if let Ok(mut dirs) = REGISTERED.lock() {
        dirs.retain(|d| d != dir);
    }
}

/// Removes the directories `<parent>/<prefix><pid>-…` whose process `pid`
/// is gone (a command killed with SIGKILL, which no handler sees).
pub fn sweep_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !super::process_alive(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
