//! Replacing several files of a result directory at once (`check --update`):
//! a golden directory is old or new after any interruption, never mixed.
//!
//! The new directory is staged whole in a sibling, `.<name>.flashpoint-update-<pid>`:
//! every file that stays is hard-linked (or copied) into it, every new file
//! is written there atomically, and the staging directory is synced. Then one
//! `renameat2(RENAME_EXCHANGE)` swaps the two directories, and the staging
//! name, which now holds the old files, is removed. What a kill leaves:
//!
//! - before the exchange: the old directory, untouched, and a staging
//!   directory;
//! - after it: the new directory, and a staging directory holding the old
//!   files.
//!
//! A staging directory whose process is gone (no `/proc/<pid>`) is removed
//! by the next update of the same directory. A failure (a full disk) removes
//! the staging directory and leaves the old directory. On a file system
//! without `RENAME_EXCHANGE` the swap is two renames (the old directory to
//! `.<name>.flashpoint-old-<pid>`, the staged one into place): a kill between
//! them leaves both siblings and no directory at the name.

use super::atomic::write_atomic;
use super::fault::{self, Op};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const STAGE_TAG: &str = ".flashpoint-update-";
const OLD_TAG: &str = ".flashpoint-old-";

/// Replaces the files of `dir` named in `new` (name and the file holding
/// its new bytes, in the order they are written: put `manifest.json` last)
/// and drops those named in `remove` and any `.partial`, all at once (see
/// the [module docs](self)). Every other regular file of `dir` is kept; a
/// subdirectory or other special file in `dir` is refused before anything is
/// written. Errors name the file of `dir` that could not be written.
pub fn replace_files(dir: &Path, new: &[(String, PathBuf)], remove: &[String]) -> Result<()> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    let (parent, name) = match (canonical.parent(), canonical.file_name()) {
        (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
        _ => {
            return Err(Error::Refused(format!(
                "{}: cannot replace the files of the root directory",
                dir.display()
            )))
        }
    };
    sweep_stale(&parent, &name);
    let replaced: BTreeSet<&str> = new
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(remove.iter().map(String::as_str))
        .collect();
    let mut kept = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if replaced.contains(file_name.as_str()) || file_name.ends_with(".partial") {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if !kind.is_file() {
            return Err(Error::Refused(format!(
                "{} is not a regular file; move it out of {} and try again",
                entry.path().display(),
                dir.display()
            )));
        }
        kept.push(file_name);
    }
    let stage = sibling(&parent, &name, STAGE_TAG);
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir(&stage).map_err(|e| Error::io(&stage, e))?;
    let staged = (|| -> Result<()> {
        for file in &kept {
            let (from, to) = (dir.join(file), stage.join(file));
            if std::fs::hard_link(&from, &to).is_err() {
                let bytes = std::fs::read(&from).map_err(|e| Error::io(&from, e))?;
                write_atomic(&to, &bytes).map_err(|e| Error::io(&from, e))?;
            }
        }
        for (file, source) in new {
            let bytes = std::fs::read(source).map_err(|e| Error::io(source, e))?;
            write_atomic(&stage.join(file), &bytes).map_err(|e| Error::io(dir.join(file), e))?;
        }
        sync_dir(&stage).map_err(|e| Error::io(dir, e))
    })();
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(e);
    }
    if let Err(e) = exchange(&stage, &canonical, &parent, &name) {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(Error::io(dir, e));
    }
    // The staging name now holds the old files.
    let _ = std::fs::remove_dir_all(&stage);
    let _ = sync_dir(&parent);
    Ok(())
}

/// `<parent>/.<name><tag><pid>`.
fn sibling(parent: &Path, name: &OsString, tag: &str) -> PathBuf {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!("{tag}{}", std::process::id()));
    parent.join(s)
}

/// Removes the staging directories of `name` left by processes that are gone.
fn sweep_stale(parent: &Path, name: &OsString) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{}", name.to_string_lossy());
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = [STAGE_TAG, OLD_TAG]
            .iter()
            .find_map(|tag| rest.strip_prefix(tag))
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !crate::output::process_alive(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Swaps `stage` and `dir` (a [`fault`] point: a rename of `dir`).
fn exchange(stage: &Path, dir: &Path, parent: &Path, name: &OsString) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    fault::before(Op::Rename, dir)?;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (from, to) = (c(stage)?, c(dir)?);
    // SAFETY: two NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(e);
    }
    // No RENAME_EXCHANGE here: two renames.
    let old = sibling(parent, name, OLD_TAG);
    std::fs::rename(dir, &old)?;
    if let Err(e) = std::fs::rename(stage, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(e);
    }
    std::fs::rename(&old, stage)
}

/// Syncs a directory's entries (a [`fault`] point: a sync of `dir`).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fault::before(Op::Sync, dir)?;
    std::fs::File::open(dir)?.sync_all()
}
