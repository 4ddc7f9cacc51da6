//! Sweeps: byte-identical output whatever the thread count, sharding or
//! interruption; common random numbers; summaries that match their rows; clear
//! errors that never overwrite a result.

mod common;
use common::read;
use common::temp_dir;
use common::{path_str as s, run_err as err, run_ok as ok};
use std::path::{Path, PathBuf};
use std::process::Command;

const GRID: [&str; 8] = [
    "--vary",
    "close_prob=0,0.5,1",
    "--vary",
    "half_life=7:14:3",
    "--reps",
    "300",
    "--seed",
    "5",
];

fn sweep(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--out",
        s(dir),
    ];
    args.extend_from_slice(&GRID);
    args.extend_from_slice(extra);
    ok(&args);
}

fn assert_same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

const FILES: [&str; 3] = ["runs.csv", "summary.csv", "points.csv"];

#[test]
fn thread_counts_give_identical_files() {
    let base = temp_dir("sweep-threads");
    let dirs: Vec<PathBuf> = ["1", "2", "5"]
        .iter()
        .map(|t| base.join(format!("t{t}")))
        .collect();
    for (dir, t) in dirs.iter().zip(["1", "2", "5"]) {
        sweep(dir, &["--threads", t]);
    }
    assert_same_files(&dirs[0], &dirs[1], &FILES);
    assert_same_files(&dirs[0], &dirs[2], &FILES);
    let runs = String::from_utf8(read(&dirs[0].join("runs.csv"))).expect("utf-8");
    assert_eq!(runs.lines().count(), 1 + 9 * 300);
    assert!(runs.starts_with("point,rep,close_prob,half_life,closure_days,"));
    assert_eq!(
        String::from_utf8(read(&dirs[0].join("points.csv"))).expect("utf-8"),
        "point,close_prob,half_life\n0,0,7\n1,0,10.5\n2,0,14\n3,0.5,7\n4,0.5,10.5\n5,0.5,14\n6,1,7\n7,1,10.5\n8,1,14\n"
    );
}

/// Time series on a coarse grid, two replications per point in full.
const TS: [&str; 4] = ["--timeseries", "5", "--timeseries-reps", "2"];

/// Every file a sweep with `--timeseries` writes, the manifest aside.
const TS_FILES: [&str; 5] = [
    "runs.csv",
    "summary.csv",
    "points.csv",
    "timeseries.csv",
    "timeseries_summary.csv",
];

#[test]
fn merged_shards_equal_the_whole() {
    let base = temp_dir("sweep-shards");
    let whole = base.join("whole");
    sweep(&whole, &TS);
    // 4 shards of 9 points × 300 replications: the boundaries (675, 1350,
    // 2025) cut points 2, 4 and 6.
    let shards: Vec<PathBuf> = (0..4).map(|i| base.join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{i}/4");
        let mut extra = vec!["--shard", &shard];
        extra.extend_from_slice(&TS);
        sweep(dir, &extra);
        assert!(!dir.join("summary.csv").exists());
        assert!(dir.join("timeseries_state.bin").exists());
    }
    let merged = base.join("merged");
    // Any order on the command line.
    ok(&[
        "merge",
        s(&shards[2]),
        s(&shards[0]),
        s(&shards[3]),
        s(&shards[1]),
        "--out",
        s(&merged),
    ]);
    assert_same_files(&whole, &merged, &TS_FILES);
    assert!(!merged.join("timeseries_state.bin").exists());
    let manifest = String::from_utf8(read(&merged.join("manifest.json"))).expect("utf-8");
    assert!(
        manifest.contains("\"timeseries_summary.csv\": \""),
        "{manifest}"
    );
    assert!(!manifest.contains("timeseries_state.bin"), "{manifest}");

    // A gap, an overlap and a shard of another sweep are refused.
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&shards[2]),
        s(&shards[3]),
        "--out",
        s(&base.join("gap")),
    ]);
    assert!(
        e.contains("error: merge: replications 675..1350 are missing (no shard covers them)"),
        "{e}"
    );
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&shards[0]),
        s(&shards[1]),
        s(&shards[2]),
        s(&shards[3]),
        "--out",
        s(&base.join("overlap")),
    ]);
    assert!(e.contains("overlaps the shard before it"), "{e}");
    let other = base.join("other");
    let mut args = vec![
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--out",
        s(&other),
        "--shard",
        "1/4",
    ];
    args.extend_from_slice(&GRID[..6]);
    args.extend_from_slice(&["--seed", "6"]);
    args.extend_from_slice(&TS);
    ok(&args);
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&other),
        s(&shards[2]),
        s(&shards[3]),
        "--out",
        s(&base.join("mixed")),
    ]);
    assert!(
        e.contains("come from different sweeps: seed differs (5 vs 6)"),
        "{e}"
    );
    assert!(!base.join("mixed/runs.csv").exists());

    // A shard without time series among shards with them is refused, by name.
    let plain = base.join("plain");
    sweep(&plain, &["--shard", "1/4"]);
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&plain),
        s(&shards[2]),
        s(&shards[3]),
        "--out",
        s(&base.join("plain-mixed")),
    ]);
    assert!(
        e.contains(&format!(
            "error: merge: {} was run without --timeseries but {} was run with --timeseries 5: run every shard with the same --timeseries",
            plain.display(),
            shards[0].display()
        )),
        "{e}"
    );
    // So is one with another grid.
    let coarse = base.join("coarse");
    sweep(
        &coarse,
        &[
            "--shard",
            "1/4",
            "--timeseries",
            "10",
            "--timeseries-reps",
            "2",
        ],
    );
    let e = err(&[
        "merge",
        s(&shards[0]),
        s(&coarse),
        s(&shards[2]),
        s(&shards[3]),
        "--out",
        s(&base.join("coarse-mixed")),
    ]);
    assert!(
        e.contains("come from different sweeps: timeseries.dt differs (5.0 vs 10.0)"),
        "{e}"
    );

    // A shard whose files were edited after it finished is refused.
    for (file, edit) in [
        ("timeseries_state.bin", 100),
        ("timeseries_summary.csv", 60),
        ("timeseries.csv", 60),
        ("runs.csv", 0),
    ] {
        let path = shards[1].join(file);
        let original = read(&path);
        let mut bytes = original.clone();
        if edit == 0 {
            let text = String::from_utf8(bytes).expect("utf-8");
            bytes = text.replacen("\n3,0,", "\n3,299,", 1).into_bytes();
        } else {
            bytes[edit] ^= 1;
        }
        std::fs::write(&path, &bytes).expect("write");
        let e = err(&[
            "merge",
            s(&shards[0]),
            s(&shards[1]),
            s(&shards[2]),
            s(&shards[3]),
            "--out",
            s(&base.join("tampered")),
        ]);
        assert!(
            e.contains(&format!(
                "{} does not match the SHA-256 in its manifest",
                path.display()
            )),
            "{file}: {e}"
        );
        std::fs::write(&path, &original).expect("write");
    }
}

/// One point, 5000 replications cut into 3 shards: each holds fewer than
/// `Quantiles::CAP` (4096) values per cell, exactly, but the merged cells of
/// the continuous tensions hold more distinct values and must switch to the
/// sketch just as the unsharded sweep does; the
/// 3000 replications written in full straddle two shards. Also a shard that
/// lies inside one point, and more shards than one point's replications.
#[test]
fn merged_time_series_past_the_exact_cap_equal_the_whole() {
    let base = temp_dir("sweep-shards-cap");
    let run = |dir: &Path, reps: &str, shard: Option<String>| {
        let mut args = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--vary",
            "clash_prob=0.1",
            "--reps",
            reps,
            "--seed",
            "11",
            "--timeseries",
            "7.5",
            "--timeseries-reps",
            "3000",
            "--out",
            s(dir),
        ];
        if let Some(shard) = &shard {
            args.extend_from_slice(&["--shard", shard]);
        }
        ok(&args);
    };
    for (reps, n) in [("5000", 3), ("5", 7)] {
        let whole = base.join(format!("whole{reps}"));
        run(&whole, reps, None);
        let shards: Vec<PathBuf> = (0..n)
            .map(|i| {
                let dir = base.join(format!("r{reps}-shard{i}"));
                run(&dir, reps, Some(format!("{i}/{n}")));
                dir
            })
            .collect();
        let merged = base.join(format!("merged{reps}"));
        let mut args = vec!["merge"];
        args.extend(shards.iter().rev().map(|d| s(d)));
        args.extend_from_slice(&["--out", s(&merged)]);
        ok(&args);
        assert_same_files(&whole, &merged, &TS_FILES);
    }
    let summary =
        String::from_utf8(read(&base.join("merged5000/timeseries_summary.csv"))).expect("utf-8");
    assert!(
        summary.contains("\n0,0,2025-09-01T00:00,tension_POL_BLR,5000,0.35,"),
        "{}",
        &summary[..300]
    );
}

#[test]
fn a_resumed_sweep_equals_an_uninterrupted_one() {
    let base = temp_dir("sweep-resume");
    let whole = base.join("whole");
    sweep(&whole, &[]);
    // An interrupted sweep, made exactly: the identity manifest and a
    // runs.csv cut in the middle of a row, as a kill leaves them.
    let cut = base.join("cut");
    std::fs::create_dir_all(&cut).expect("mkdir");
    let runs = read(&whole.join("runs.csv"));
    std::fs::write(cut.join("runs.csv.partial"), &runs[..runs.len() / 2 + 17]).expect("write");
    std::fs::write(
        cut.join("manifest.json.partial"),
        read(&whole.join("manifest.json")),
    )
    .expect("write");
    let mut args = vec![
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--resume",
        s(&cut),
    ];
    args.extend_from_slice(&GRID);
    ok(&args);
    assert_same_files(&whole, &cut, &FILES);
    assert!(!cut.join("runs.csv.partial").exists());

    // Resuming a finished result, or with other arguments, is refused.
    let e = err(&args);
    assert!(
        e.contains("holds a finished result; nothing to resume"),
        "{e}"
    );
    std::fs::rename(cut.join("manifest.json"), cut.join("manifest.json.partial")).expect("rename");
    let mut other = args.clone();
    let last = other.len() - 1;
    other[last] = "6";
    let e = err(&other);
    assert!(
        e.contains("holds a different sweep: seed differs (5 vs 6)"),
        "{e}"
    );
}

/// `dir` as a kill leaves it: the identity manifest of `finished` and, for
/// each `(file, fraction)`, the first `fraction` of its bytes plus 7 (a cut
/// in the middle of a row) as `<file>.partial`; a fraction of 1 keeps the
/// whole file, a negative one leaves the file out.
fn interrupted_copy(finished: &Path, dir: &Path, cuts: &[(&str, f64)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("manifest.json.partial"),
        read(&finished.join("manifest.json")),
    )
    .expect("write");
    for (file, fraction) in cuts {
        if *fraction < 0.0 {
            continue;
        }
        let bytes = read(&finished.join(file));
        let len = if *fraction >= 1.0 {
            bytes.len()
        } else {
            ((bytes.len() as f64 * fraction) as usize + 7).min(bytes.len())
        };
        std::fs::write(dir.join(format!("{file}.partial")), &bytes[..len]).expect("write");
    }
}

/// Resuming with time series: whichever file is behind (runs.csv, the
/// detail rows, the summary, a shard's saved state), the finished files are
/// the uninterrupted sweep's, byte for byte.
#[test]
fn a_resumed_sweep_with_time_series_equals_an_uninterrupted_one() {
    let base = temp_dir("sweep-resume-ts");
    let whole = base.join("whole");
    sweep(&whole, &TS);
    let resume = |dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--resume",
            s(dir),
        ];
        args.extend_from_slice(&GRID);
        args.extend_from_slice(&TS);
        args.extend_from_slice(extra);
        ok(&args);
    };
    let cases: [[f64; 3]; 6] = [
        // runs.csv, timeseries.csv, timeseries_summary.csv
        [0.5, 0.33, 0.66],
        [0.33, 0.75, 0.1],
        [0.5, -1.0, -1.0],
        [1.0, 0.9, 0.2],
        [0.0, 0.0, 0.0],
        [0.2, 1.0, 1.0],
    ];
    for (k, [runs, detail, summary]) in cases.into_iter().enumerate() {
        let cut = base.join(format!("cut{k}"));
        interrupted_copy(
            &whole,
            &cut,
            &[
                ("runs.csv", runs),
                ("timeseries.csv", detail),
                ("timeseries_summary.csv", summary),
            ],
        );
        resume(&cut, &[]);
        assert_same_files(&whole, &cut, &TS_FILES);
        for f in TS_FILES {
            assert!(!cut.join(format!("{f}.partial")).exists(), "case {k}: {f}");
        }
    }

    // A shard (1/4: replications 675..1350, points 2 (cut), 3 and 4 (cut)):
    // its first point's state saved or not, the state file cut anywhere.
    let shard = base.join("shard");
    let mut extra = vec!["--shard", "1/4"];
    extra.extend_from_slice(&TS);
    sweep(&shard, &extra);
    for (k, state) in [0.0, 0.01, 0.3, 0.6, 1.0, -1.0].into_iter().enumerate() {
        let cut = base.join(format!("shard-cut{k}"));
        interrupted_copy(
            &shard,
            &cut,
            &[
                ("runs.csv", 0.8),
                ("timeseries.csv", 0.7),
                ("timeseries_summary.csv", 0.5),
                ("timeseries_state.bin", state),
            ],
        );
        resume(&cut, &["--shard", "1/4"]);
        let mut files = vec!["timeseries_state.bin"];
        files.extend_from_slice(&["runs.csv", "points.csv", "timeseries.csv"]);
        files.push("timeseries_summary.csv");
        assert_same_files(&shard, &cut, &files);
    }
}

/// Runs a sweep of 2 points × 20000 replications with `extra` arguments,
/// kills it once its runs.csv holds `kill_at` bytes, resumes it, and
/// compares `files` with an uninterrupted run.
fn kill_and_resume(name: &str, extra: &[&str], kill_at: u64, files: &[&str]) {
    let base = temp_dir(name);
    let args = |dir: &Path, resume: bool| -> Vec<String> {
        let mut a: Vec<String> = [
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--threads",
            "2",
            "--vary",
            "close_prob=0,1",
            "--reps",
            "20000",
        ]
        .iter()
        .chain(extra)
        .map(|x| x.to_string())
        .collect();
        a.push(if resume { "--resume" } else { "--out" }.into());
        a.push(s(dir).into());
        a
    };
    let whole = base.join("whole");
    ok(&args(&whole, false)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let killed = base.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args(&killed, false))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .expect("spawn");
    // Kill it once it has written some rows (or let it finish: then there is
    // nothing to resume and the comparison below still must hold).
    let partial = killed.join("runs.csv.partial");
    loop {
        if std::fs::metadata(&partial)
            .map(|m| m.len() > kill_at)
            .unwrap_or(false)
        {
            let _ = child.kill();
            break;
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.wait();
    if !killed.join("manifest.json").exists() {
        for f in files {
            assert!(
                !killed.join(f).exists(),
                "an interrupted sweep must not leave a complete-looking {f}"
            );
        }
        ok(&args(&killed, true)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
    }
    assert_same_files(&whole, &killed, files);
}

#[test]
fn a_killed_sweep_resumes_to_identical_files() {
    kill_and_resume("sweep-kill", &[], 200_000, &FILES);
}

/// runs.csv of these sweeps is about 312 bytes a row: the kills come in the
/// first point, then in the second (after the first point's summary).
#[test]
fn a_killed_sweep_with_time_series_resumes_to_identical_files() {
    kill_and_resume("sweep-kill-ts", &TS, 200_000, &TS_FILES);
    kill_and_resume("sweep-kill-ts-late", &TS, 7_000_000, &TS_FILES);
    // A shard whose first point is cut (replications 13333..26666), killed
    // after it saved that point's state (from 20000, about 2.1 MB of rows).
    let mut extra = vec!["--shard", "1/3"];
    extra.extend_from_slice(&TS);
    kill_and_resume(
        "sweep-kill-ts-shard",
        &extra,
        2_600_000,
        &[
            "runs.csv",
            "timeseries.csv",
            "timeseries_summary.csv",
            "timeseries_state.bin",
        ],
    );
}

#[test]
fn common_random_numbers_make_an_unused_parameter_invisible() {
    let dir = temp_dir("sweep-crn");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/west2025.toml"),
    )
    .expect("read");
    let scenario = dir.join("with-unused.toml");
    std::fs::write(
        &scenario,
        text.replacen(
            "[params]\n",
            "[params]\nunused = { value = 1, min = 0, max = 10 }\n",
            1,
        ),
    )
    .expect("write");
    let out = dir.join("out");
    ok(&[
        "sweep",
        s(&scenario),
        "--quiet",
        "--vary",
        "unused=0,5,10",
        "--reps",
        "200",
        "--out",
        s(&out),
    ]);
    let runs = String::from_utf8(read(&out.join("runs.csv"))).expect("utf-8");
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.splitn(4, ',').collect())
        .collect();
    for r in 0..200 {
        assert_eq!(rows[r][3], rows[200 + r][3], "rep {r}");
        assert_eq!(rows[r][3], rows[400 + r][3], "rep {r}");
    }
    // With independent streams the points differ.
    let ind = dir.join("independent");
    ok(&[
        "sweep",
        s(&scenario),
        "--quiet",
        "--vary",
        "unused=0,5",
        "--reps",
        "200",
        "--independent-streams",
        "--out",
        s(&ind),
    ]);
    let runs = String::from_utf8(read(&ind.join("runs.csv"))).expect("utf-8");
    let rows: Vec<&str> = runs
        .lines()
        .skip(1)
        .map(|l| l.splitn(4, ',').nth(3).expect("columns"))
        .collect();
    assert!((0..200).any(|r| rows[r] != rows[200 + r]));
}

#[test]
fn the_summary_matches_a_recomputation_from_the_rows() {
    let dir = temp_dir("sweep-summary");
    sweep(&dir, &["--threads", "2"]);
    let runs = String::from_utf8(read(&dir.join("runs.csv"))).expect("utf-8");
    let mut lines = runs.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "closure_days")
        .expect("column");
    let path_col = header.iter().position(|h| *h == "path").expect("column");
    let mut by_point: Vec<Vec<f64>> = vec![Vec::new(); 9];
    let mut escalations = [0u64; 9];
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let p: usize = f[0].parse().expect("point");
        by_point[p].push(f[col].parse().expect("number"));
        escalations[p] += u64::from(f[path_col] == "escalation");
    }
    let summary = String::from_utf8(read(&dir.join("summary.csv"))).expect("utf-8");
    for l in summary.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let p: usize = f[0].parse().expect("point");
        let num = |i: usize| f[i].parse::<f64>().expect("number");
        if f[3] == "closure_days" {
            let xs = &by_point[p];
            let (mean, var) = common::mean_var(xs);
            let se = (var / xs.len() as f64).sqrt();
            assert_eq!(num(6) as usize, xs.len());
            assert!(
                (num(7) - mean).abs() <= 1e-12 * mean.abs().max(1.0),
                "point {p}: {} vs {mean}",
                num(7)
            );
            assert!(
                (num(9) - se).abs() <= 1e-9 * se.max(1e-300) + 1e-15,
                "point {p}: se {} vs {se}",
                num(9)
            );
            assert!(
                (num(10) - (mean - 1.959963984540054 * se)).abs() <= 1e-9 * mean.abs().max(1.0)
            );
            assert!(
                (num(11) - (mean + 1.959963984540054 * se)).abs() <= 1e-9 * mean.abs().max(1.0)
            );
        }
        if f[3] == "path" && f[5] == "escalation" {
            assert_eq!(num(7), escalations[p] as f64 / 300.0, "point {p}");
            let (lo, hi) = flashpoint::stats::wilson(escalations[p], 300, flashpoint::stats::Z95);
            assert_eq!((num(10), num(11)), (lo, hi));
        }
    }
}

#[test]
fn bad_sweeps_get_clear_errors_and_overwrite_nothing() {
    let dir = temp_dir("sweep-errors");
    let out = dir.join("out");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--vary", "close_prb=0,1"],
            "--vary: unknown parameter `close_prb`; did you mean `close_prob`?",
        ),
        (
            &["--vary", "close_prob=0:2:3"],
            "--vary close_prob: values from 0 to 2 go outside the declared bounds [0, 1]",
        ),
        (
            &["--vary", "close_prob=1:0:3"],
            "--vary close_prob: the range 1:0 is empty or inverted",
        ),
        (
            &["--vary", "close_prob=0:1:0"],
            "--vary close_prob: steps must be at least 1",
        ),
        (
            &["--vary", "close_prob", "--design", "lhs:0"],
            "design `lhs:0` has 0 points",
        ),
        (
            &["--vary", "close_prob=0,1", "--shard", "3/2"],
            "--shard `3/2`: expected I/N with 0 <= I < N",
        ),
        (
            &["--vary", "close_prob=0,1", "--reps", "0"],
            "--reps must be at least 1",
        ),
        (
            &["--vary", "close_prob", "--design", "grid"],
            "--vary close_prob: a grid needs values or lo:hi:steps, not a bare range",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        let e = err(&args);
        assert!(e.contains(expected), "{extra:?}: {e}");
    }
    // An existing result is never overwritten.
    ok(&[
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--vary",
        "close_prob=0,1",
        "--reps",
        "10",
        "--out",
        s(&out),
    ]);
    let before = read(&out.join("runs.csv"));
    let e = err(&[
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--vary",
        "close_prob=0,1",
        "--reps",
        "20",
        "--out",
        s(&out),
    ]);
    assert!(
        e.contains("already holds a result; choose another --out"),
        "{e}"
    );
    assert_eq!(before, read(&out.join("runs.csv")));
}

#[test]
fn lhs_and_random_designs_are_seeded() {
    let base = temp_dir("sweep-lhs");
    for (name, seed) in [("a", "1"), ("b", "1"), ("c", "2")] {
        ok(&[
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--vary",
            "close_prob",
            "--vary",
            "half_life=5:20",
            "--design",
            "lhs:8",
            "--reps",
            "5",
            "--seed",
            seed,
            "--out",
            s(&base.join(name)),
        ]);
    }
    assert_same_files(&base.join("a"), &base.join("b"), &FILES);
    assert_ne!(
        read(&base.join("a/points.csv")),
        read(&base.join("c/points.csv"))
    );
    let no_runs = base.join("no-runs");
    ok(&[
        "sweep",
        "scenarios/west2025.toml",
        "--quiet",
        "--vary",
        "close_prob",
        "--design",
        "random:4",
        "--reps",
        "5",
        "--seed",
        "1",
        "--no-runs",
        "--out",
        s(&no_runs),
    ]);
    assert!(!no_runs.join("runs.csv").exists());
    assert!(no_runs.join("summary.csv").exists());
}

/// A scenario whose replication fails (a state variable set to -inf) with
/// probability 0.0003: a few failures, the first some blocks in.
const FLAKY: &str = r#"
[scenario]
name = "flaky"
horizon = 10
[[actor]]
id = "A"
state = { v = 0 }
[[event]]
id = "start"
[[event]]
id = "boom"
effects = ["A.v = ln(0)"]
[[schedule]]
event = "start"
at = 1
[[rule]]
name = "explodes"
actor = "A"
on = "start"
prob = 0.0003
emit = { event = "boom" }
[[outcome]]
name = "v"
value = "A.v"
"#;

/// Runs `s` (seed 5, `reps` replications) through the harness on `threads`
/// threads with a sink that fails at block `fail_at`; returns the first
/// rows of the blocks the sink saw and the outcome.
fn harness_run(
    s: &flashpoint::scenario::Scenario,
    reps: u64,
    threads: usize,
    fail_at: Option<usize>,
) -> (
    Vec<u64>,
    Result<Result<(), usize>, flashpoint::error::RepError>,
) {
    use flashpoint::runner::harness::{execute, Plan};
    let plan = Plan {
        scenario: s,
        points: vec![s.params.iter().map(|p| p.value).collect()],
        reps,
        seed: 5,
        independent_streams: false,
        range: 0..reps,
        options: Default::default(),
        grid: None,
        mixture: None,
    };
    let mut seen = Vec::new();
    let outcome = execute(&plan, threads, |block| {
        if Some(seen.len()) == fail_at {
            return Err(seen.len());
        }
        seen.push(block.first);
        Ok(())
    });
    (seen, outcome)
}

#[test]
fn the_harness_reports_the_first_failure_in_order_on_any_thread_count() {
    let s = common::scenario(FLAKY);
    // Which replications fail, one at a time.
    let params: Vec<f64> = Vec::new();
    let mut engine = flashpoint::engine::Engine::new(&s);
    let mut row = vec![0.0; flashpoint::engine::columns(&s).len()];
    let failing: Vec<u64> = (0..20_000)
        .filter(|&rep| {
            let key = flashpoint::rng::replication_key(5, rep, None);
            engine
                .run(&params, &key, Default::default(), &mut row, None)
                .is_err()
        })
        .collect();
    assert!(
        failing.len() > 1 && failing[0] > 2 * flashpoint::runner::harness::BLOCK,
        "{failing:?}"
    );
    let first = failing[0];
    let failing_block = first / flashpoint::runner::harness::BLOCK;
    for threads in [1, 2, 3] {
        let (seen, outcome) = harness_run(&s, 20_000, threads, None);
        let err = outcome.expect_err("a replication fails");
        assert_eq!(
            (err.source, err.rep),
            (flashpoint::error::RepSource::Point(0), first),
            "{threads} threads"
        );
        assert!(
            err.to_string().contains("set a state variable to -inf"),
            "{err}"
        );
        // Every block before the failing one reached the sink, in order.
        let expected: Vec<u64> = (0..failing_block)
            .map(|b| b * flashpoint::runner::harness::BLOCK)
            .collect();
        assert_eq!(seen, expected, "{threads} threads");
    }
}

#[test]
fn the_harness_stops_at_the_sinks_error() {
    let s = common::scenario(CALM);
    for threads in [1, 2] {
        let (seen, outcome) = harness_run(&s, 10_000, threads, Some(7));
        assert_eq!(outcome.expect("no replication fails"), Err(7));
        let expected: Vec<u64> = (0..7)
            .map(|b| b * flashpoint::runner::harness::BLOCK)
            .collect();
        assert_eq!(seen, expected);
        let (seen, outcome) = harness_run(&s, 10_000, threads, None);
        assert_eq!(outcome.expect("no replication fails"), Ok(()));
        // 10 000 replications: 39 full blocks and one of 16, in order.
        let expected: Vec<u64> = (0..40)
            .map(|b| b * flashpoint::runner::harness::BLOCK)
            .collect();
        assert_eq!(seen, expected);
    }
}

/// Blocks are made as the harness goes, not listed up front: 10^15
/// replications (a list of their blocks would take 62 TB) run their first
/// blocks at once, and a range that starts and ends inside blocks is cut at
/// multiples of `BLOCK`.
#[test]
fn the_harness_makes_its_blocks_as_it_goes() {
    use flashpoint::runner::harness::{execute, Plan, BLOCK};
    let s = common::scenario(CALM);
    let huge = 1_000_000_000_000_000;
    let (seen, outcome) = harness_run(&s, huge, 2, Some(3));
    assert_eq!(outcome.expect("no replication fails"), Err(3));
    assert_eq!(seen, vec![0, BLOCK, 2 * BLOCK]);
    let plan = Plan {
        scenario: &s,
        points: vec![Vec::new()],
        reps: huge,
        seed: 5,
        independent_streams: false,
        range: huge - 1000..huge - 10,
        options: Default::default(),
        grid: None,
        mixture: None,
    };
    let n_cols = flashpoint::engine::columns(&s).len();
    let mut seen = Vec::new();
    let outcome = execute(&plan, 2, |block| {
        seen.push((block.first, (block.values.len() / n_cols) as u64));
        Ok::<(), ()>(())
    });
    assert_eq!(outcome, Ok(Ok(())));
    let first_cut = (huge - 1000).div_ceil(BLOCK) * BLOCK;
    let mut expected = vec![(huge - 1000, first_cut - (huge - 1000))];
    let mut at = first_cut;
    while at < huge - 10 {
        let end = (at + BLOCK).min(huge - 10);
        expected.push((at, end - at));
        at = end;
    }
    assert_eq!(seen, expected);
}

/// A scenario that never fails.
const CALM: &str = r#"
[scenario]
name = "calm"
horizon = 10
[[actor]]
id = "A"
[[event]]
id = "start"
[[schedule]]
event = "start"
at = 1
jitter = { uniform = { min = 0.0, max = 1.0 } }
[[outcome]]
name = "at"
value = "first(start)"
"#;

/// A merge that fails while writing (here: a shard whose rows are out of
/// order, though its manifest vouches for them) leaves no partial file and no
/// manifest; a merge into a directory that holds a result is refused.
#[test]
fn a_failed_merge_leaves_nothing_behind_and_merge_overwrites_nothing() {
    let base = temp_dir("sweep-merge-fails");
    let shards: Vec<PathBuf> = (0..2).map(|i| base.join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{i}/2");
        sweep(dir, &["--shard", &shard]);
    }
    // Swap two rows of the second shard and make its manifest vouch for that.
    let runs = shards[1].join("runs.csv");
    let text = String::from_utf8(read(&runs)).expect("utf-8");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(1, 2);
    let edited = lines.join("\n") + "\n";
    std::fs::write(&runs, &edited).expect("write");
    let manifest_path = shards[1].join("manifest.json");
    let manifest = String::from_utf8(read(&manifest_path)).expect("utf-8");
    let sha = |bytes: &[u8]| flashpoint::output::sha256_hex(bytes);
    let manifest = manifest.replace(&sha(text.as_bytes()), &sha(edited.as_bytes()));
    std::fs::write(&manifest_path, manifest).expect("write");

    let merged = base.join("merged");
    let e = err(&["merge", s(&shards[0]), s(&shards[1]), "--out", s(&merged)]);
    assert!(e.contains("is out of order"), "{e}");
    let left: Vec<String> = std::fs::read_dir(&merged)
        .expect("the directory was created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A whole result is never overwritten by a merge.
    let whole = base.join("whole");
    sweep(&whole, &[]);
    let before = read(&whole.join("manifest.json"));
    let e = err(&["merge", s(&shards[0]), s(&shards[1]), "--out", s(&whole)]);
    assert_eq!(
        e,
        format!(
            "error: {} already holds a result; choose another --out or delete it\n",
            whole.display()
        )
    );
    assert_eq!(read(&whole.join("manifest.json")), before);
}

/// Merging from another working directory finds the scenario the shards
/// recorded (relative to a shard's directory); `--scenario` names it, and must
/// be the same file.
#[test]
fn merge_finds_the_scenario_from_anywhere_or_takes_it_from_scenario() {
    let base = temp_dir("sweep-merge-scenario");
    let shards: Vec<PathBuf> = (0..2).map(|i| base.join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{i}/2");
        sweep(dir, &["--shard", &shard]);
    }
    let whole = base.join("whole");
    sweep(&whole, &[]);
    let merge_in = |cwd: &Path, out: &Path, extra: &[&str]| {
        let mut args = vec!["merge", s(&shards[0]), s(&shards[1]), "--out", s(out)];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(&args)
            .current_dir(cwd)
            .output()
            .expect("flashpoint runs")
    };
    // From the shards' parent, where `scenarios/west2025.toml` is not.
    let out = merge_in(&base, &base.join("merged"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_files(&whole, &base.join("merged"), &FILES);

    let copy = base.join("copy.toml");
    std::fs::copy("scenarios/west2025.toml", &copy).expect("copy");
    let out = merge_in(&base, &base.join("named"), &["--scenario", s(&copy)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_files(&whole, &base.join("named"), &FILES);

    let mut edited = std::fs::read_to_string(&copy).expect("read");
    edited.push_str("\n# edited\n");
    std::fs::write(&copy, edited).expect("write");
    let out = merge_in(&base, &base.join("edited"), &["--scenario", s(&copy)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: merge: {} changed since the shards were run (sha256 differs)\n",
            copy.display()
        )
    );
}
