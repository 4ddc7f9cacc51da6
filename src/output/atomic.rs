//! Files that appear whole or not at all: written under a temporary name in the
//! same directory, flushed and synced, then renamed into place.

use super::fault::{self, FaultFile, Op};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// A file being written under `<name>.partial`; [`AtomicFile::commit`] renames
/// it to `<name>`. Dropped without committing, the partial file stays (a
/// resumable sweep reads it) unless [`AtomicFile::discard`] is called.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    writer: BufWriter<FaultFile>,
    hash: Sha256,
}

impl AtomicFile {
    /// Creates `<path>.partial` afresh: a stale one is removed first (a
    /// symbolic link itself, never its target), then the file is created
    /// exclusively, which never follows a link planted in between.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let tmp = partial_path(path);
        fault::before(Op::Create, &tmp)?;
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let file = FaultFile::new(file, &tmp);
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 16, file),
            hash: Sha256::new(),
        })
    }

    /// Opens an existing `<path>.partial` for appending after its first `len`
    /// bytes. It must be a regular file: a symbolic link (or a FIFO, a
    /// device) is refused, never followed.
    pub fn append(path: &Path, len: u64) -> io::Result<AtomicFile> {
        let tmp = partial_path(path);
        let mut hash = Sha256::new();
        let mut prefix = open_regular(&tmp, false)?.take(len);
        io::copy(&mut prefix, &mut HashWriter(&mut hash))?;
        fault::before(Op::Create, &tmp)?;
        let file = open_regular(&tmp, true)?;
        file.set_len(len)?;
        let mut writer = BufWriter::with_capacity(1 << 16, FaultFile::new(file, &tmp));
        io::Seek::seek(writer.get_mut().get_mut(), io::SeekFrom::Start(len))?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            writer,
            hash,
        })
    }

    /// Flushes, syncs and renames into place; returns the file's SHA-256 (hex).
    pub fn commit(self) -> io::Result<String> {
        let AtomicFile {
            tmp,
            path,
            writer,
            hash,
        } = self;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        rename(&tmp, &path)?;
        Ok(hex(&hash.finalize()))
    }

    /// Like [`AtomicFile::commit`], but renames the file to `to` (in the same
    /// directory) instead of its own name.
    pub fn commit_as(mut self, to: &Path) -> io::Result<String> {
        self.path = to.to_path_buf();
        self.commit()
    }

    /// Removes the partial file.
    pub fn discard(self) {
        let AtomicFile { tmp, writer, .. } = self;
        drop(writer);
        let _ = std::fs::remove_file(tmp);
    }

    /// Flushes buffered bytes to the partial file (for checkpoints).
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.writer.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)?;
        self.hash.update(buf);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Opens an existing regular file (for reading, or for writing), refusing
/// a symbolic link (`O_NOFOLLOW`) or any other kind of file with "PATH is
/// not a regular file; remove it".
pub fn open_regular(path: &Path, write: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file; remove it", path.display()),
        )
    };
    let file = std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => not_regular(),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// Renames `from` to `to` (a `fault` point: every rename into place goes
/// through here).
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fault::before(Op::Rename, to)?;
    std::fs::rename(from, to)
}

/// `<path>.partial`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically; returns their SHA-256 (hex). On any
/// failure (a full disk, say) the partial file is removed: nothing is left.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<String> {
    let mut f = AtomicFile::create(path)?;
    if let Err(e) = f.write_all(bytes) {
        f.discard();
        return Err(e);
    }
    let tmp = f.tmp.clone();
    f.commit().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub use crate::digest::{hex, sha256_hex};

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_before_commit() {
        let dir = std::env::temp_dir().join(format!("fp-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let path = dir.join("x.csv");
        let mut f = AtomicFile::create(&path).expect("create");
        f.write_all(b"a,b\n").expect("write");
        f.flush().expect("flush");
        assert!(!path.exists());
        assert!(partial_path(&path).exists());
        let digest = f.commit().expect("commit");
        assert_eq!(digest, sha256_hex(b"a,b\n"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a,b\n");
        assert!(!partial_path(&path).exists());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
