//! A temporary directory for the plot module's unit tests, removed when
//! the test ends (passed or failed), so no run leaves files in /tmp.

use std::path::PathBuf;

/// A fresh directory under the system's temporary directory, named after
/// the test and the process; removed on drop.
pub(super) struct TestDir(PathBuf);

impl TestDir {
    /// A fresh, empty `fp-plot-NAME-PID` directory.
    pub(super) fn new(name: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!("fp-plot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TestDir(dir)
    }

    /// `text` written to a file `name` in the directory; its path.
    pub(super) fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
