//! Interruptions and hostile inputs: every float of a manifest comes back
//! bit-identical, `--resume` refuses what is not the same sweep (before it
//! touches a file) and finishes whatever state a kill left, `merge` checks
//! every file of every shard and never hangs.

mod common;
use common::crash::{assert_same_result, kill, succeed, trace, with_fault};
use common::{flashpoint, read, temp_dir};
use common::{path_str as s, run_ok as ok};
use flashpoint::output::manifest::{Manifest, ScenarioInfo, Totals};
use flashpoint::runner::design::{self, DesignKind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn err(args: &[&str]) -> String {
    let out = flashpoint(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn manifest_with(params: BTreeMap<String, f64>, points: Vec<Vec<f64>>) -> Manifest {
    Manifest {
        flashpoint_version: "0".into(),
        language_version: 2,
        kind: "sweep".into(),
        created: String::new(),
        command: Vec::new(),
        scenario: ScenarioInfo {
            path: "x.toml".into(),
            name: "x".into(),
            sha256: String::new(),
        },
        seed: 1,
        reps: 1,
        rng: String::new(),
        independent_streams: false,
        params,
        design: Some(serde_json::json!({ "points": points })),
        trace_reps: 0,
        timeseries: None,
        tie_audit: false,
        posterior: None,
        totals: Totals::default(),
        outputs: BTreeMap::new(),
    }
}

/// Writes a manifest as the sweep does and reads it back as resume, check
/// and merge do; returns the parameters and the design's points.
fn round_trip(m: &Manifest) -> (BTreeMap<String, f64>, Vec<Vec<f64>>) {
    let json = serde_json::to_string_pretty(m).expect("serializes");
    let back: Manifest = serde_json::from_slice(json.as_bytes()).expect("parses");
    let design = back.design.expect("design");
    let points: Vec<Vec<f64>> = serde_json::from_value(design["points"].clone()).expect("points");
    (back.params, points)
}

fn bits(points: &[Vec<f64>]) -> Vec<Vec<u64>> {
    points
        .iter()
        .map(|p| p.iter().map(|x| x.to_bits()).collect())
        .collect()
}

proptest! {
    #[test]
    fn every_finite_float_of_a_manifest_comes_back_bit_identical(
        xs in proptest::collection::vec(any::<f64>().prop_filter("finite", |x| x.is_finite()), 1..20)
    ) {
        let params: BTreeMap<String, f64> =
            xs.iter().enumerate().map(|(i, x)| (format!("p{i}"), *x)).collect();
        let points = vec![xs.clone()];
        let (p, q) = round_trip(&manifest_with(params.clone(), points.clone()));
        let want: Vec<u64> = params.values().map(|x| x.to_bits()).collect();
        prop_assert_eq!(p.values().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
        prop_assert_eq!(bits(&q), bits(&points));
    }
}

#[test]
fn the_points_of_every_design_kind_come_back_bit_identical() {
    let (scenario, _) =
        flashpoint::scenario::load_hashed(Path::new("scenarios/west2025.toml")).expect("loads");
    let vary: Vec<_> = ["incident_gain=0:0.3:31", "close_prob=0.01:0.99"]
        .iter()
        .map(|t| design::parse_vary(t, &scenario).expect("vary"))
        .collect();
    let cases = [
        (DesignKind::parse("grid").expect("grid"), &vary[..1]),
        (DesignKind::parse("lhs:500").expect("lhs"), &vary[..]),
        (DesignKind::parse("random:500").expect("random"), &vary[..]),
    ];
    for (kind, vary) in cases {
        for seed in [1, 7, 2025] {
            let points = design::points(kind, vary, seed).expect("points");
            let (_, back) = round_trip(&manifest_with(BTreeMap::new(), points.clone()));
            assert_eq!(bits(&back), bits(&points), "{} seed {seed}", kind.text());
        }
    }
}

/// The reproduction: a grid whose point 5 is 0.049999999999999996.
#[test]
fn shards_of_a_grid_with_ordinary_values_merge_to_the_whole_and_check() {
    let base = temp_dir("interrupt-float-merge");
    let sweep = |out: &Path, extra: &[&str]| {
        let mut a = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--vary",
            "incident_gain=0:0.3:31",
            "--reps",
            "4",
            "--out",
            s(out),
        ];
        a.extend_from_slice(extra);
        ok(&a);
    };
    let (whole, a, b, merged) = (
        base.join("whole"),
        base.join("a"),
        base.join("b"),
        base.join("merged"),
    );
    sweep(&whole, &[]);
    sweep(&a, &["--shard", "0/2"]);
    sweep(&b, &["--shard", "1/2"]);
    ok(&["merge", s(&a), s(&b), "--out", s(&merged)]);
    for f in ["runs.csv", "summary.csv", "points.csv"] {
        assert!(read(&whole.join(f)) == read(&merged.join(f)), "{f} differs");
    }
    assert!(String::from_utf8_lossy(&read(&merged.join("points.csv")))
        .contains("\n5,0.049999999999999996\n"));
    ok(&["check", s(&merged)]);
}

/// Kills `args` at the first `op` of `name` (found in a trace of the same
/// command into `scratch`, which must be the same but for its directory).
fn kill_at(op: &str, name: &str, scratch: &[String], args: &[String]) {
    let point = trace(scratch)
        .into_iter()
        .find(|p| p.op == op && Path::new(&p.path).file_name() == Some(name.as_ref()))
        .unwrap_or_else(|| panic!("no {op} of {name} in {scratch:?}"));
    kill(&format!("{op}:{}:kill", point.n), args);
}

/// A small sweep of west2025 (2 points × 300 replications) into `dir`.
fn small_sweep(dir: &Path, resume: bool, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--vary",
        "close_prob=0,1",
        "--reps",
        "300",
    ]
    .iter()
    .chain(extra)
    .map(|x| x.to_string())
    .collect();
    a.push(if resume { "--resume" } else { "--out" }.into());
    a.push(s(dir).into());
    a
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                read(&e.path()),
            )
        })
        .collect()
}

#[test]
fn resume_refuses_another_shard_layout_before_touching_a_file() {
    let base = temp_dir("interrupt-resume-shard");
    let dir = base.join("cut");
    // Killed at the rename of runs.csv: every row is written.
    let shard = ["--shard", "0/2"];
    let scratch = small_sweep(&base.join("trace"), false, &shard);
    kill_at(
        "rename",
        "runs.csv",
        &scratch,
        &small_sweep(&dir, false, &shard),
    );
    let before = snapshot(&dir);
    assert!(
        before.contains_key("runs.csv.partial"),
        "{:?}",
        before.keys()
    );
    let e = err(&strs(&small_sweep(&dir, true, &["--shard", "0/3"])));
    assert_eq!(
        e.trim_end(),
        format!(
            "error: --resume: {} holds a different sweep: design.shard differs \
             ({{\"count\":2,\"end\":300,\"index\":0,\"start\":0}} vs \
             {{\"count\":3,\"end\":200,\"index\":0,\"start\":0}})",
            dir.display()
        )
    );
    let e = err(&strs(&small_sweep(&dir, true, &[])));
    assert!(
        e.contains("holds a different sweep: design.shard differs"),
        "{e}"
    );
    assert!(
        snapshot(&dir) == before,
        "a refused --resume changed the files"
    );
    ok(&strs(&small_sweep(&dir, true, &["--shard", "0/2"])));
}

#[test]
fn resume_without_the_time_series_of_the_sweep_is_refused_not_a_panic() {
    let base = temp_dir("interrupt-resume-ts");
    let dir = base.join("cut");
    let ts = ["--timeseries", "5"];
    let scratch = small_sweep(&base.join("trace"), false, &ts);
    kill_at(
        "rename",
        "runs.csv",
        &scratch,
        &small_sweep(&dir, false, &ts),
    );
    let before = snapshot(&dir);
    let e = err(&strs(&small_sweep(&dir, true, &[])));
    assert!(
        e.starts_with(&format!(
            "error: --resume: {} holds a different sweep: timeseries differs ({{\"dt\":5.0,",
            dir.display()
        )) && e.trim_end().ends_with(" vs null)"),
        "{e}"
    );
    assert!(
        snapshot(&dir) == before,
        "a refused --resume changed the files"
    );
}

#[test]
fn resume_of_a_directory_that_does_not_exist_creates_nothing() {
    let dir = temp_dir("interrupt-resume-missing").join("nowhere");
    let e = err(&strs(&small_sweep(&dir, true, &[])));
    assert_eq!(
        e.trim_end(),
        format!(
            "error: --resume: {} does not exist; start the sweep with --out {}",
            dir.display(),
            dir.display()
        )
    );
    assert!(!dir.exists());
}

/// A kill at any file operation of a sweep (inside each write, sync and
/// rename of every file, the manifest's included) leaves a directory that
/// `--resume` completes to the uninterrupted result.
#[test]
fn a_sweep_killed_at_any_file_operation_resumes_to_the_uninterrupted_result() {
    let base = temp_dir("interrupt-every-point");
    let whole = base.join("whole");
    succeed(&small_sweep(&whole, false, &[]));
    let points = trace(&small_sweep(&base.join("trace"), false, &[]));
    assert!(points.len() >= 20, "{points:?}");
    for p in &points {
        let dir = base.join(format!("{}-{}", p.op, p.n));
        kill(
            &format!("{}:{}:kill", p.op, p.n),
            &small_sweep(&dir, false, &[]),
        );
        assert!(!dir.join("manifest.json").exists() || p.op == "rename");
        if !dir.join("manifest.json").exists() {
            succeed(&small_sweep(&dir, true, &[]));
        }
        assert_same_result(&whole, &dir, &format!("killed at {p:?}"));
    }
}

/// A full disk at the final manifest: a clear error naming it, and a
/// `--resume` that completes.
#[test]
fn a_sweep_whose_manifest_meets_a_full_disk_resumes() {
    let base = temp_dir("interrupt-manifest-enospc");
    let whole = base.join("whole");
    succeed(&small_sweep(&whole, false, &[]));
    let points = trace(&small_sweep(&base.join("trace"), false, &[]));
    let last_create = points.iter().rfind(|p| p.op == "create").expect("create");
    let dir = base.join("cut");
    for p in points.iter().skip_while(|p| !std::ptr::eq(*p, last_create)) {
        let _ = std::fs::remove_dir_all(&dir);
        let out = with_fault(
            &format!("{}:{}:enospc", p.op, p.n),
            &small_sweep(&dir, false, &[]),
        );
        assert_eq!(out.status.code(), Some(1), "{p:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            format!(
                "error: {}: No space left on device (os error 28)",
                dir.join("manifest.json").display()
            ),
            "{p:?}"
        );
        assert!(!dir.join("manifest.json").exists());
        succeed(&small_sweep(&dir, true, &[]));
        assert_same_result(&whole, &dir, &format!("full disk at {p:?}"));
    }
}

/// `run` has no `--resume`: after a kill at any file operation, a fresh
/// `run --out` into the same directory makes the uninterrupted result.
#[test]
fn a_run_killed_at_any_file_operation_is_redone_into_the_same_directory() {
    let base = temp_dir("interrupt-run-every-point");
    let run = |dir: &Path| -> Vec<String> {
        [
            "run",
            "scenarios/west2025.toml",
            "--quiet",
            "--reps",
            "300",
            "--trace",
            "2",
            "--timeseries",
            "30",
            "--out",
            s(dir),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let whole = base.join("whole");
    succeed(&run(&whole));
    let points = trace(&run(&base.join("trace")));
    for p in &points {
        let dir = base.join(format!("{}-{}", p.op, p.n));
        kill(&format!("{}:{}:kill", p.op, p.n), &run(&dir));
        if !dir.join("manifest.json").exists() {
            succeed(&run(&dir));
        }
        assert_same_result(&whole, &dir, &format!("killed at {p:?}"));
    }
}

/// Two shards of the small sweep in `base/a` and `base/b`, and the whole
/// sweep in `base/whole`.
fn two_shards(base: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (base.join("a"), base.join("b"));
    succeed(&small_sweep(&base.join("whole"), false, &[]));
    succeed(&small_sweep(&a, false, &["--shard", "0/2"]));
    succeed(&small_sweep(&b, false, &["--shard", "1/2"]));
    (a, b)
}

fn merge_args(a: &Path, b: &Path, out: &Path) -> Vec<String> {
    ["merge", s(a), s(b), "--out", s(out)]
        .iter()
        .map(|x| x.to_string())
        .collect()
}

/// Replaces `name` in `dir` by `bytes`, and its SHA-256 in the manifest, as
/// a forger would.
fn forge(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&read(&path)).expect("manifest");
    m["outputs"][name] = flashpoint::output::sha256_hex(bytes).into();
    std::fs::write(dir.join(name), bytes).expect("write");
    std::fs::write(&path, serde_json::to_string_pretty(&m).expect("json")).expect("write");
}

#[test]
fn merge_verifies_every_shards_points_against_its_sha_and_its_design() {
    let base = temp_dir("interrupt-merge-points");
    let (a, b) = two_shards(&base);
    let edited = b"point,close_prob\n0,0\n1,0.5\n";
    std::fs::write(b.join("points.csv"), edited).expect("write");
    let e = err(&strs(&merge_args(&a, &b, &base.join("m1"))));
    assert_eq!(
        e.trim_end(),
        format!(
            "error: merge: {} does not match the SHA-256 in its manifest (edited or truncated?)",
            b.join("points.csv").display()
        )
    );
    forge(&a, "points.csv", edited);
    let e = err(&strs(&merge_args(&a, &b, &base.join("m2"))));
    assert_eq!(
        e.trim_end(),
        format!(
            "error: merge: {} does not list the points of its manifest's design",
            a.join("points.csv").display()
        )
    );
    assert!(!base.join("m2").join("points.csv").exists());
}

#[cfg(unix)]
#[test]
fn merge_refuses_a_shard_file_that_is_not_a_regular_file() {
    let base = temp_dir("interrupt-merge-fifo");
    let (a, b) = two_shards(&base);
    let runs = b.join("runs.csv");
    std::fs::remove_file(&runs).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &runs).expect("symlink");
    let a2 = base.join("a2");
    succeed(&small_sweep(&a2, false, &["--shard", "0/2"]));
    let fifo = a2.join("runs.csv");
    std::fs::remove_file(&fifo).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for (shard, other, out) in [(&b, &a, "m1"), (&a2, &b, "m2")] {
        // Run it as a child, so that a hang fails the test instead of
        // hanging it.
        let args = if shard == &b {
            merge_args(other, shard, &base.join(out))
        } else {
            merge_args(shard, other, &base.join(out))
        };
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut waited = 0;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if waited == 600 {
                let _ = child.kill();
                panic!("merge {out} did not finish in a minute: it hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            waited += 1;
        };
        let mut e = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut e)
            .expect("stderr");
        assert_eq!(status.code(), Some(2), "{e}");
        assert_eq!(
            e.trim_end(),
            format!(
                "error: merge: {} is not a regular file",
                shard.join("runs.csv").display()
            )
        );
    }
}

/// A merge killed at any file operation (its last rename included) is
/// redone by the same merge command.
#[test]
fn a_merge_killed_at_any_file_operation_can_be_retried() {
    let base = temp_dir("interrupt-merge-kill");
    let (a, b) = two_shards(&base);
    let merged = base.join("merged");
    succeed(&merge_args(&a, &b, &merged));
    let points = trace(&merge_args(&a, &b, &base.join("trace")));
    assert!(points.len() >= 12, "{points:?}");
    for p in &points {
        let dir = base.join(format!("{}-{}", p.op, p.n));
        kill(&format!("{}:{}:kill", p.op, p.n), &merge_args(&a, &b, &dir));
        succeed(&merge_args(&a, &b, &dir));
        assert_same_result(&merged, &dir, &format!("killed at {p:?}"));
    }
}

/// The second reproduction: a sweep whose design points do not
/// survive the default float parser (a grid and an LHS design), interrupted
/// and resumed.
#[test]
fn sweeps_of_ordinary_values_resume() {
    let base = temp_dir("interrupt-float-resume");
    let designs: [&[&str]; 2] = [
        &["--vary", "incident_gain=0:0.3:31", "--reps", "20"],
        &[
            "--design",
            "lhs:40",
            "--vary",
            "incident_gain=0:0.3",
            "--vary",
            "close_prob",
            "--reps",
            "20",
        ],
    ];
    for (k, extra) in designs.iter().enumerate() {
        let sweep = |dir: &Path, flag: &str| -> Vec<String> {
            ["sweep", "scenarios/west2025.toml", "--quiet"]
                .iter()
                .chain(extra.iter())
                .chain([&flag, &s(dir)])
                .map(|x| x.to_string())
                .collect()
        };
        let whole = base.join(format!("whole-{k}"));
        succeed(&sweep(&whole, "--out"));
        let dir = base.join(format!("cut-{k}"));
        let scratch = sweep(&base.join(format!("trace-{k}")), "--out");
        kill_at("rename", "runs.csv", &scratch, &sweep(&dir, "--out"));
        succeed(&sweep(&dir, "--resume"));
        assert_same_result(&whole, &dir, extra[1]);
    }
}

/// A record damaged from outside (flashpoint replaces it whole) gets an
/// error that says what to do, and nothing is touched.
#[test]
fn resume_of_a_damaged_record_says_what_to_do() {
    let base = temp_dir("interrupt-damaged-record");
    let dir = base.join("cut");
    let scratch = small_sweep(&base.join("trace"), false, &[]);
    kill_at(
        "rename",
        "summary.csv",
        &scratch,
        &small_sweep(&dir, false, &[]),
    );
    std::fs::write(dir.join("manifest.json.partial"), b"").expect("write");
    let before = snapshot(&dir);
    let e = err(&strs(&small_sweep(&dir, true, &[])));
    assert_eq!(
        e.trim_end(),
        format!(
            "error: --resume: {} is not a flashpoint manifest (EOF while parsing a value at line 1 column 0), \
             so the interrupted sweep cannot be identified; delete {} and run the sweep again with --out",
            dir.join("manifest.json.partial").display(),
            dir.display()
        )
    );
    assert!(snapshot(&dir) == before);
}
