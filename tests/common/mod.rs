//! Helpers shared by the integration tests.
#![allow(dead_code)]

use flashpoint::engine::{columns, Engine, RunOptions};
use flashpoint::rng::replication_key;
use flashpoint::scenario::{parse, Scenario};
use std::path::PathBuf;

pub mod crash;

/// Parses a scenario or panics with the rendered diagnostics.
pub fn scenario(text: &str) -> Scenario {
    match parse("test.toml", text) {
        Ok(s) => s,
        Err(e) => panic!("scenario does not load:\n{e}"),
    }
}

/// The rendered load error of a scenario that must not load.
pub fn load_error(text: &str) -> String {
    match parse("test.toml", text) {
        Ok(_) => panic!("scenario loaded but should not have"),
        Err(e) => e.to_string(),
    }
}

/// Runs replications 0..n with default parameters and returns the value of
/// column `name` in each.
pub fn column_values(s: &Scenario, name: &str, seed: u64, n: u64) -> Vec<f64> {
    let cols = columns(s);
    let k = cols
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let params: Vec<f64> = s.params.iter().map(|p| p.value).collect();
    let mut engine = Engine::new(s);
    let mut row = vec![0.0; cols.len()];
    (0..n)
        .map(|rep| {
            engine
                .run(
                    &params,
                    &replication_key(seed, rep, None),
                    RunOptions::default(),
                    &mut row,
                    None,
                )
                .unwrap_or_else(|e| panic!("replication {rep} failed: {e}"));
            row[k]
        })
        .collect()
}

/// A fresh empty directory under the target directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the target directory is writable");
    dir
}

/// Mean and sample variance.
pub fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// The error of replication 0 (seed 1, default parameters) of a scenario that
/// must fail; `why` says why it must.
pub fn first_replication_error(s: &Scenario, why: &str) -> flashpoint::engine::SimError {
    let params: Vec<f64> = s.params.iter().map(|p| p.value).collect();
    let mut engine = Engine::new(s);
    let mut row = vec![0.0; columns(s).len()];
    match engine.run(
        &params,
        &replication_key(1, 0, None),
        RunOptions::default(),
        &mut row,
        None,
    ) {
        Ok(()) => panic!("replication 0 succeeded, but {why}"),
        Err(e) => e,
    }
}

/// Runs the `flashpoint` binary in the repository root.
pub fn flashpoint(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// A file's bytes, or a panic naming the file.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that a command succeeded, showing its output if not.
pub fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `flashpoint ARGS`, asserts it succeeded (showing its stderr if
/// not) and returns its stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = flashpoint(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `flashpoint ARGS`, asserts it failed and returns its stderr.
pub fn run_err(args: &[&str]) -> String {
    let out = flashpoint(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path as the `&str` a command-line argument needs.
pub fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The `flashpoint …` lines of a markdown page's `sh` blocks, in order.
#[allow(dead_code)]
pub fn doc_commands(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("```sh\n") {
        let body = &rest[start + 6..];
        let end = body.find("```").expect("code blocks are closed");
        out.extend(body[..end].lines().filter(|l| l.starts_with("flashpoint ")));
        rest = &body[end + 3..];
    }
    out
}

/// Runs each command line (`flashpoint ARGS…`) exactly as written, in a
/// scratch directory `name` that links the repository's `scenarios/`, each
/// one required to succeed; returns the directory.
#[allow(dead_code)]
pub fn run_commands_in_scratch(name: &str, lines: &[&str]) -> PathBuf {
    let dir = temp_dir(name);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(root.join("scenarios"), dir.join("scenarios")).expect("symlink");
    for line in lines {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{line}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// Rows of a CSV file after its header, split on commas (for files whose
/// fields hold no quoted commas).
#[allow(dead_code)]
pub fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    String::from_utf8(read(path))
        .expect("utf-8")
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Column `k` (as a number) of the first row whose leading cells are `key`.
#[allow(dead_code)]
pub fn cell(rows: &[Vec<String>], key: &[&str], k: usize) -> f64 {
    rows.iter()
        .find(|r| r.iter().zip(key).all(|(a, b)| a == b))
        .unwrap_or_else(|| panic!("no row {key:?}"))[k]
        .parse()
        .expect("a number")
}

/// Each documented share of a categorical outcome in `summary` (rows of a
/// run's summary.csv) lies within 4 standard errors of `reps` replications.
#[allow(dead_code)]
pub fn assert_shares(
    summary: &[Vec<String>],
    outcome: &str,
    documented: &[(&str, f64)],
    reps: u64,
) {
    for &(category, p) in documented {
        let share = cell(summary, &[outcome, "share", category], 4);
        let se = (p * (1.0 - p) / reps as f64).sqrt();
        assert!(
            (share - p).abs() < 4.0 * se,
            "{category}: {share} vs documented {p}"
        );
    }
}
