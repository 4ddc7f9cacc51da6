//! The crash-consistency campaign (heavy: `cargo test --release --test crash
//! -- --ignored`). Commands are killed at every file operation they make —
//! each create, each write handed to the OS (cut in half), each sync and each
//! rename of every output file, manifests included, listed with
//! `FLASHPOINT_FAULT=trace` — and by real SIGKILLs at seeded random moments;
//! each is then recovered (`sweep --resume`; for `run` and `merge`, the same
//! command again into the same directory) and compared file by file, byte for
//! byte, with an uninterrupted run (`manifest.json` without its `created` and
//! `command`).

mod common;
use common::crash::{assert_same_result, kill, succeed, trace};
use common::temp_dir;
use std::path::Path;

fn args(words: &[&str], out_flag: &str, dir: &Path) -> Vec<String> {
    let mut a: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    a.push(out_flag.into());
    a.push(dir.to_str().expect("utf-8 path").into());
    a
}

/// Kills `words … --out DIR` at each of its file operations, recovers with
/// `recover_flag` (`--resume` or `--out` again) and compares with an
/// uninterrupted run. Returns the number of kill points.
fn kill_everywhere(name: &str, words: &[&str], recover_flag: &str) -> usize {
    let base = temp_dir(name);
    let whole = base.join("whole");
    succeed(&args(words, "--out", &whole));
    let points = trace(&args(words, "--out", &base.join("trace")));
    for p in &points {
        let dir = base.join(format!("{}-{}", p.op, p.n));
        kill(
            &format!("{}:{}:kill", p.op, p.n),
            &args(words, "--out", &dir),
        );
        assert!(
            !dir.join("manifest.json").exists(),
            "killed at {p:?} yet finished"
        );
        succeed(&args(words, recover_flag, &dir));
        assert_same_result(&whole, &dir, &format!("{name}: killed at {p:?}"));
    }
    // Every output file was struck inside its writes and at its rename.
    for op in ["create", "write", "sync", "rename"] {
        assert!(points.iter().any(|p| p.op == op), "{name}: no {op}");
    }
    points.len()
}

const RUN: [&str; 9] = [
    "run",
    "scenarios/west2025.toml",
    "--quiet",
    "--reps",
    "3000",
    "--trace",
    "3",
    "--timeseries",
    "10",
];

const SWEEP_TS: [&str; 11] = [
    "sweep",
    "scenarios/west2025.toml",
    "--quiet",
    "--vary",
    "close_prob=0,0.5,1",
    "--reps",
    "1500",
    "--timeseries",
    "5",
    "--timeseries-reps",
    "3",
];

#[test]
#[ignore = "heavy: about a minute in release"]
fn commands_killed_at_every_file_operation_recover_to_identical_files() {
    let mut n = kill_everywhere("crash-run", &RUN, "--out");
    n += kill_everywhere("crash-sweep-ts", &SWEEP_TS, "--resume");
    // A shard whose boundaries cut points (4500 replications in thirds).
    let mut shard = SWEEP_TS.to_vec();
    shard.extend_from_slice(&["--shard", "1/3"]);
    n += kill_everywhere("crash-shard", &shard, "--resume");
    let mut plain = SWEEP_TS[..7].to_vec();
    plain.push("--no-runs");
    n += kill_everywhere("crash-sweep-no-runs", &plain, "--resume");
    eprintln!("{n} kill points");
    assert!(n >= 30, "only {n} kill points");
}

#[test]
#[ignore = "heavy: about a minute in release"]
fn merges_killed_at_every_file_operation_are_redone_identically() {
    let base = temp_dir("crash-merge");
    let shards: Vec<_> = (0..3).map(|i| base.join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let mut words = SWEEP_TS.to_vec();
        let shard = format!("{i}/3");
        words.extend_from_slice(&["--shard", &shard]);
        succeed(&args(&words, "--out", dir));
    }
    let merge: Vec<&str> = ["merge"]
        .into_iter()
        .chain(shards.iter().map(|d| d.to_str().expect("utf-8")))
        .collect();
    let whole = base.join("whole");
    succeed(&args(&SWEEP_TS, "--out", &whole));
    let merged = base.join("merged");
    succeed(&args(&merge, "--out", &merged));
    assert_same_result(&whole, &merged, "merge of 3 shards");
    let points = trace(&args(&merge, "--out", &base.join("trace")));
    for p in &points {
        let dir = base.join(format!("{}-{}", p.op, p.n));
        kill(
            &format!("{}:{}:kill", p.op, p.n),
            &args(&merge, "--out", &dir),
        );
        succeed(&args(&merge, "--out", &dir));
        assert_same_result(&merged, &dir, &format!("merge killed at {p:?}"));
    }
}

/// SplitMix64: the seeded randomness of the kill times.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Real SIGKILLs (`kill -9`) at seeded random moments of sweeps with time
/// series, whole and sharded; each resumed and compared. A sweep that
/// finished before its kill must be whole.
#[test]
#[ignore = "heavy: about a minute in release"]
fn sweeps_killed_by_sigkill_at_random_moments_resume_to_identical_files() {
    let base = temp_dir("crash-sigkill");
    let words = |shard: Option<&'static str>| -> Vec<&'static str> {
        let mut w = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--threads",
            "2",
            "--vary",
            "close_prob=0,1",
            "--reps",
            "20000",
            "--timeseries",
            "5",
        ];
        if let Some(s) = shard {
            w.extend_from_slice(&["--shard", s]);
        }
        w
    };
    let mut state = 18;
    for (k, shard) in [None, Some("1/3"), None, Some("0/2"), None, Some("1/3")]
        .into_iter()
        .enumerate()
    {
        let whole = base.join(format!("whole-{k}"));
        let started = std::time::Instant::now();
        succeed(&args(&words(shard), "--out", &whole));
        let span = started.elapsed().as_millis() as u64 + 1;
        let dir = base.join(format!("killed-{k}"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(args(&words(shard), "--out", &dir))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .spawn()
            .expect("spawn");
        let wait = splitmix(&mut state) % span;
        std::thread::sleep(std::time::Duration::from_millis(wait));
        let _ = child.kill();
        let _ = child.wait();
        if !dir.exists() {
            // Killed before it created its directory: `--resume` refuses a
            // directory that does not exist and says to start with `--out`.
            succeed(&args(&words(shard), "--out", &dir));
        } else if !dir.join("manifest.json").exists() {
            succeed(&args(&words(shard), "--resume", &dir));
        }
        assert_same_result(
            &whole,
            &dir,
            &format!("SIGKILL after {wait} ms ({shard:?})"),
        );
    }
}
