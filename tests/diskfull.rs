//! The disk-full test: every file operation of run, sweep, merge, plot,
//! compare, paths and sensitivity (as listed by `FLASHPOINT_FAULT=trace`)
//! fails in turn with ENOSPC (`FLASHPOINT_FAULT=OP:N:enospc`). Each time the
//! command must fail with an error naming the file and "No space left on
//! device", leave no final-named file that is not whole (byte for byte the
//! file of an uninterrupted run) and no manifest.json, leave no `.partial`
//! (except the resumable files of run and sweep), and a sweep must then
//! complete with `--resume` (or, when its resume marker was never written,
//! a fresh `--out`) byte-identically. `check --update` is struck the same
//! way in tests/outputs.rs.

mod common;
use common::{flashpoint, ok, read, temp_dir};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn run_with(args: &[String], fault: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FLASHPOINT_FAULT", fault)
        .output()
        .expect("the binary runs")
}

/// Every file of `dir`, the manifest's creation time and command line blanked.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let mut bytes = read(&e.path());
            if name == "manifest.json" {
                let mut m: serde_json::Value =
                    serde_json::from_slice(&bytes).expect("a manifest is JSON");
                m["created"] = serde_json::Value::Null;
                m["command"] = serde_json::Value::Null;
                bytes = m.to_string().into_bytes();
            }
            (name, bytes)
        })
        .collect()
}

/// A directory's files by name.
type Files = BTreeMap<String, Vec<u8>>;

/// The operations of `args` (`fault-point OP N PATH`), traced.
fn fault_points(args: &[String]) -> Vec<(String, u64, String)> {
    let out = run_with(args, "trace");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("fault-point ")?.splitn(3, ' ');
            Some((
                f.next()?.to_string(),
                f.next()?.parse().ok()?,
                f.next()?.to_string(),
            ))
        })
        .collect()
}

/// Strikes every operation of `make(out)` with ENOSPC; `out` is the path the
/// command writes (a directory, or a file for plot). `after` is called on
/// each failed state (for sweep's resume).
fn strike_every_operation(
    name: &str,
    make: &dyn Fn(&Path) -> Vec<String>,
    file_output: bool,
    resumable: bool,
    after: &dyn Fn(&Path, &Files),
) {
    let base = temp_dir(&format!("diskfull-{name}"));
    let reference_out = base.join(if file_output { "ref.svg" } else { "ref" });
    let reference_dir = if file_output {
        base.clone()
    } else {
        reference_out.clone()
    };
    let points = fault_points(&make(&reference_out));
    let reference = files(&reference_dir);
    assert!(points.len() >= 3, "{name}: {points:?}");
    for (op, n, path) in points {
        let target = base.join(format!("{op}-{n}"));
        let out_path = if file_output {
            target.join("plot.svg")
        } else {
            target.clone()
        };
        std::fs::create_dir_all(&target).expect("mkdir");
        let out = run_with(&make(&out_path), &format!("{op}:{n}:enospc"));
        let what = format!("{name}: {op}:{n}:enospc ({path})");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(
            err.starts_with(&format!("error: {}", s(&target)))
                && err.ends_with(": No space left on device (os error 28)\n"),
            "{what}: {err}"
        );
        let left = files(&target);
        assert!(
            !left.contains_key("manifest.json"),
            "{what}: a manifest.json was left"
        );
        for (file, bytes) in &left {
            if file.ends_with(".partial") {
                assert!(resumable, "{what}: {file} was left");
                continue;
            }
            let want = if file_output {
                reference.get("ref.svg")
            } else {
                reference.get(file)
            };
            assert!(want == Some(bytes), "{what}: {file} is not whole");
        }
        after(&target, &reference);
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

#[test]
fn run_under_a_full_disk() {
    strike_every_operation(
        "run",
        &|out| {
            strs(&[
                "run",
                "scenarios/west2025.toml",
                "--reps",
                "20",
                "--seed",
                "5",
                "--trace",
                "2",
                "--timeseries",
                "10",
                "--quiet",
                "--threads",
                "1",
                "--out",
                s(out),
            ])
        },
        false,
        true,
        &|_, _| {},
    );
}

fn sweep_args(out: &Path, resume: bool) -> Vec<String> {
    strs(&[
        "sweep",
        "scenarios/west2025.toml",
        "--vary",
        "incident_gain=0:0.2:2",
        "--reps",
        "10",
        "--seed",
        "5",
        "--timeseries",
        "10",
        "--quiet",
        "--threads",
        "1",
        if resume { "--resume" } else { "--out" },
        s(out),
    ])
}

#[test]
fn sweep_under_a_full_disk_then_resumes() {
    strike_every_operation(
        "sweep",
        &|out| sweep_args(out, false),
        false,
        true,
        &|dir, reference| {
            let resume = dir.join("manifest.json.partial").exists();
            let out = run_with(&sweep_args(dir, resume), "");
            assert!(
                out.status.success(),
                "{} (resume {resume}): {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                &files(dir) == reference,
                "{}: the resumed sweep differs",
                dir.display()
            );
        },
    );
}

#[test]
fn merge_under_a_full_disk() {
    let base = temp_dir("diskfull-merge-shards");
    let shards: Vec<String> = (0..2)
        .map(|i| {
            let dir = base.join(format!("shard{i}"));
            let mut args = sweep_args(&dir, false);
            args.extend(strs(&["--shard", &format!("{i}/2")]));
            ok(&run_with(&args, ""));
            s(&dir).to_string()
        })
        .collect();
    strike_every_operation(
        "merge",
        &|out| {
            let mut args = vec!["merge".to_string()];
            args.extend(shards.iter().cloned());
            args.extend(strs(&["--out", s(out)]));
            args
        },
        false,
        false,
        &|_, _| {},
    );
}

#[test]
fn plot_under_a_full_disk() {
    let result = temp_dir("diskfull-plot-result").join("r");
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "20",
        "--timeseries",
        "10",
        "--quiet",
        "--out",
        s(&result),
    ]));
    strike_every_operation(
        "plot",
        &|out| strs(&["plot", s(&result), "--out", s(out)]),
        true,
        false,
        &|_, _| {},
    );
}

#[test]
fn analyses_under_a_full_disk() {
    strike_every_operation(
        "compare",
        &|out| {
            strs(&[
                "compare",
                "scenarios/west2025.toml",
                "--a",
                "close_prob=0",
                "--b",
                "close_prob=1",
                "--reps",
                "10",
                "--threads",
                "1",
                "--out",
                s(out),
            ])
        },
        false,
        false,
        &|_, _| {},
    );
    strike_every_operation(
        "paths",
        &|out| {
            strs(&[
                "paths",
                "scenarios/west2025.toml",
                "--reps",
                "10",
                "--threads",
                "1",
                "--out",
                s(out),
            ])
        },
        false,
        false,
        &|_, _| {},
    );
    strike_every_operation(
        "sensitivity",
        &|out| {
            strs(&[
                "sensitivity",
                "scenarios/west2025.toml",
                "--vary",
                "close_prob=0.2:0.8",
                "--vary",
                "half_life=5:20",
                "--method",
                "morris:2",
                "--reps",
                "3",
                "--threads",
                "1",
                "--out",
                s(out),
            ])
        },
        false,
        false,
        &|_, _| {},
    );
}
