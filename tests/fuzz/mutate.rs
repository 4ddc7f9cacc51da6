//! The scenario fuzzer shared by `tests/fuzz.rs` (a few hundred mutants in
//! every `cargo test`) and `tests/validation.rs` (thousands, `--ignored`):
//! mutants of the bundled scenarios must load and run, or fail with a located
//! error; never panic, never hang.

use flashpoint::engine::{columns, Engine, RunOptions};
use flashpoint::rng::replication_key;
use proptest::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Every bundled scenario: `scenarios/*.toml` and `scenarios/validation/*.toml`.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("validation")] {
        for entry in std::fs::read_dir(&dir).expect("scenarios/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let bytes = std::fs::read(&path).expect("a readable scenario");
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// One mutation; positions are taken modulo the size of what they index.
#[derive(Debug, Clone)]
pub enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    FlipByte(usize, u8),
    /// Replace the n-th number with one of [`NUMBERS`].
    Number(usize, usize),
    /// Change one character of the n-th identifier-like word.
    Misspell(usize, usize),
    InsertUnicode(usize, usize),
    Truncate(usize),
}

/// Numbers a mutant may put where a number was.
pub const NUMBERS: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "-1",
    "1e308",
    "-1e308",
    "0",
    "-0.5",
    "2",
    "1e-320",
    "99999999999999999999",
];
const UNICODE: &[&str] = &["é", "😀", "\u{0}", "\u{202e}", "Ж", "\u{feff}"];

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(a, b)| Mutation::Number(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Misspell(a, b)),
        (any::<usize>(), 0..UNICODE.len()).prop_map(|(a, b)| Mutation::InsertUnicode(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Spans of maximal runs of bytes satisfying `f`.
fn runs(bytes: &[u8], f: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if f(bytes[i]) {
            let start = i;
            while i < bytes.len() && f(bytes[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

pub fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if b.is_empty() {
        return b;
    }
    match *m {
        Mutation::DeleteLine(i) => {
            let mut l = lines(&b);
            l.remove(i % l.len());
            b = l.join(&b'\n');
        }
        Mutation::DuplicateLine(i) => {
            let mut l = lines(&b);
            let k = i % l.len();
            l.insert(k, l[k].clone());
            b = l.join(&b'\n');
        }
        Mutation::SwapLines(i, j) => {
            let mut l = lines(&b);
            let n = l.len();
            l.swap(i % n, j % n);
            b = l.join(&b'\n');
        }
        Mutation::FlipByte(i, x) => {
            let k = i % b.len();
            b[k] ^= x.max(1);
        }
        Mutation::Number(i, k) => {
            let nums = runs(&b, |c| c.is_ascii_digit() || c == b'.');
            if !nums.is_empty() {
                let (s, e) = nums[i % nums.len()];
                b.splice(s..e, NUMBERS[k].bytes());
            }
        }
        Mutation::Misspell(i, j) => {
            let words = runs(&b, |c| c.is_ascii_alphabetic() || c == b'_');
            if !words.is_empty() {
                let (s, e) = words[i % words.len()];
                let k = s + j % (e - s);
                b[k] = if b[k] == b'x' { b'y' } else { b'x' };
            }
        }
        Mutation::InsertUnicode(i, k) => {
            let at = i % (b.len() + 1);
            b.splice(at..at, UNICODE[k].bytes());
        }
        Mutation::Truncate(i) => b.truncate(i % b.len()),
    }
    b
}

/// Whether `message` starts with `path:line:col: error:`.
fn is_located(path: &str, message: &str) -> bool {
    let Some(rest) = message.strip_prefix(path).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().unwrap_or("");
    let col = parts.next().unwrap_or("");
    !line.is_empty()
        && !col.is_empty()
        && line.bytes().all(|c| c.is_ascii_digit())
        && col.bytes().all(|c| c.is_ascii_digit())
        && parts.next().is_some_and(|r| r.starts_with(" error:"))
}

/// Loads a mutant and runs a few replications (event budget capped so that
/// nothing runs long). Err describes a panic or an unlocated load error; a
/// replication's own error (`SimError`) is returned as Ok(Some(message)).
pub fn check(bytes: &[u8]) -> Result<Option<String>, String> {
    const PATH: &str = "mutant.toml";
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let loaded = match std::str::from_utf8(bytes) {
            Ok(text) => flashpoint::scenario::parse(PATH, text),
            Err(_) => Err(flashpoint::scenario::not_utf8(PATH, bytes)),
        };
        let mut s = match loaded {
            Ok(s) => s,
            Err(e) => {
                let message = e.to_string();
                return if is_located(PATH, &message) {
                    Ok(None)
                } else {
                    Err(format!("unlocated load error: {message}"))
                };
            }
        };
        s.event_budget = s.event_budget.min(20_000);
        let params: Vec<f64> = s.params.iter().map(|p| p.value).collect();
        let mut engine = Engine::new(&s);
        let mut row = vec![0.0; columns(&s).len()];
        for rep in 0..3 {
            if let Err(e) = engine.run(
                &params,
                &replication_key(1, rep, None),
                RunOptions::default(),
                &mut row,
                None,
            ) {
                return Ok(Some(e.to_string()));
            }
        }
        Ok(None)
    }));
    outcome.unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panic: {what}"))
    })
}
