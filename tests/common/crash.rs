//! Crash consistency: list a command's file operations
//! (`FLASHPOINT_FAULT=trace`), kill it at one of them, and compare what a
//! recovery makes of the directory with an uninterrupted result.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `FLASHPOINT_FAULT=fault` (none if empty).
pub fn with_fault(fault: &str, args: &[String]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flashpoint"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if !fault.is_empty() {
        c.env("FLASHPOINT_FAULT", fault);
    }
    c.output().expect("the binary runs")
}

/// Runs the binary; panics with its stderr unless it succeeds.
pub fn succeed(args: &[String]) {
    let out = with_fault("", args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One file operation of a trace: kind (`create`, `write`, `sync`,
/// `rename`), its number among operations of that kind, and the path.
#[derive(Debug, Clone)]
pub struct FaultPoint {
    /// The kind of operation.
    pub op: String,
    /// Its number among the operations of its kind, from 1.
    pub n: u64,
    /// The file it acts on.
    pub path: String,
}

/// Every file operation of `args`, in order (the command is run once).
pub fn trace(args: &[String]) -> Vec<FaultPoint> {
    let out = with_fault("trace", args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("fault-point ")?.splitn(3, ' ');
            Some(FaultPoint {
                op: f.next()?.to_string(),
                n: f.next()?.parse().ok()?,
                path: f.next()?.to_string(),
            })
        })
        .collect()
}

/// Runs `args` under `fault`, which must kill it (an abort, as SIGKILL).
pub fn kill(fault: &str, args: &[String]) {
    let out = with_fault(fault, args);
    assert_eq!(
        out.status.code(),
        None,
        "{fault} did not kill {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file of `dir` with its bytes (`manifest.json` without its
/// `created` and `command`, the fields that say when and how it ran).
pub fn result_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).expect("read");
            if name == "manifest.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).expect("manifest");
                v["created"] = serde_json::Value::Null;
                v["command"] = serde_json::Value::Null;
                (name, v.to_string().into_bytes())
            } else {
                (name, bytes)
            }
        })
        .collect()
}

/// Asserts that `dir` holds exactly the files of `whole`, byte for byte
/// (manifests as [`result_files`] reads them); `what` names the case.
pub fn assert_same_result(whole: &Path, dir: &Path, what: &str) {
    let (a, b) = (result_files(whole), result_files(dir));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{what}: {name} differs");
    }
}
