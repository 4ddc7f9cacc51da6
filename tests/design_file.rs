//! `sweep --design file:PATH`: a design read from a CSV file runs exactly
//! the points it lists, with the same bytes as the sweep that wrote it;
//! shards, merge, `--resume` and `check` work from the points the manifest
//! records; every bad file gets an error located in the file.

mod common;
use common::{flashpoint, read, temp_dir};
use common::{path_str as s, run_err as err, run_ok as ok};
use std::path::Path;

const SCENARIO: &str = "scenarios/west2025.toml";

/// `sweep SCENARIO --design DESIGN --reps 40 --seed 9 --quiet --out DIR`, plus `extra`.
fn sweep(dir: &Path, design: &str, extra: &[&str]) {
    let mut args = vec![
        "sweep",
        SCENARIO,
        "--design",
        design,
        "--reps",
        "40",
        "--seed",
        "9",
        "--quiet",
        "--out",
        s(dir),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

fn assert_same(a: &Path, b: &Path, files: &[&str]) {
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

/// The round trip of issue 16: the `points.csv` an `lhs` sweep writes, fed
/// back with `--design file:`, runs the same points: `runs.csv`,
/// `summary.csv` and `points.csv` are byte-identical for the same seed and
/// reps. So is a grid's design given without the `point` column, and the
/// result does not depend on the thread count.
#[test]
fn a_design_written_by_sweep_round_trips() {
    let base = temp_dir("design-file-round-trip");
    let lhs = base.join("lhs");
    sweep(
        &lhs,
        "lhs:6",
        &["--vary", "close_prob", "--vary", "half_life=5:20"],
    );
    let again = base.join("again");
    let design = format!("file:{}", s(&lhs.join("points.csv")));
    sweep(&again, &design, &["--threads", "1"]);
    assert_same(&lhs, &again, &FILES);
    let threads = base.join("threads");
    sweep(&threads, &design, &["--threads", "3"]);
    assert_same(&lhs, &threads, &FILES);
    let manifest = String::from_utf8(read(&again.join("manifest.json"))).expect("utf-8");
    assert!(manifest.contains("\"kind\": \"file\""), "{manifest}");
    assert!(manifest.contains("\"sha256\": \""), "{manifest}");

    // A grid, its design columns written without `point` (as another tool would).
    let grid = base.join("grid");
    sweep(
        &grid,
        "grid",
        &["--vary", "close_prob=0,0.5,1", "--vary", "half_life=7:14:2"],
    );
    let points = String::from_utf8(read(&grid.join("points.csv"))).expect("utf-8");
    let columns: String = points
        .lines()
        .map(|l| l.split_once(',').expect("point,…").1.to_string() + "\n")
        .collect();
    assert!(
        columns.starts_with("close_prob,half_life\n0,7\n0,14\n0.5,7\n"),
        "{columns}"
    );
    let file = base.join("grid_points.csv");
    std::fs::write(&file, columns).expect("write");
    let from_file = base.join("grid_from_file");
    sweep(&from_file, &format!("file:{}", s(&file)), &[]);
    assert_same(&grid, &from_file, &FILES);
}

/// Shards of a file design merge into the whole; `check` re-runs a file
/// design from the points its manifest records, with the file gone.
#[test]
fn file_designs_shard_merge_and_check_without_the_file() {
    let base = temp_dir("design-file-shards");
    let file = base.join("design.csv");
    std::fs::write(
        &file,
        "half_life,close_prob\n7,0.9\n30,0.1\n12.5,0.5\n3,1\n20,0\n",
    )
    .expect("write");
    let design = format!("file:{}", s(&file));
    let whole = base.join("whole");
    sweep(&whole, &design, &[]);
    let mut shards = Vec::new();
    for i in 0..3 {
        let dir = base.join(format!("shard{i}"));
        sweep(&dir, &design, &["--shard", &format!("{i}/3")]);
        shards.push(dir);
    }
    let merged = base.join("merged");
    ok(&[
        "merge",
        s(&shards[1]),
        s(&shards[0]),
        s(&shards[2]),
        "--out",
        s(&merged),
    ]);
    assert_same(&whole, &merged, &FILES);
    let points = String::from_utf8(read(&whole.join("points.csv"))).expect("utf-8");
    assert_eq!(
        points,
        "point,half_life,close_prob\n0,7,0.9\n1,30,0.1\n2,12.5,0.5\n3,3,1\n4,20,0\n"
    );

    std::fs::remove_file(&file).expect("remove");
    let report = ok(&["check", s(&whole)]);
    assert!(report.contains(": identical"), "{report}");
    let report = ok(&["check", s(&merged)]);
    assert!(report.contains(": identical"), "{report}");
}

/// `--resume` of a file design: with the file unchanged, and with the file
/// gone (the points recorded in `manifest.json.partial` are run), the result
/// is the uninterrupted sweep's; a file that now lists other points is
/// refused.
#[test]
fn a_file_design_resumes_with_or_without_its_file() {
    let base = temp_dir("design-file-resume");
    let file = base.join("design.csv");
    let text = "close_prob,incident_gain\n0.2,0.1\n0.8,0.3\n0.5,0\n";
    std::fs::write(&file, text).expect("write");
    let design = format!("file:{}", s(&file));
    let whole = base.join("whole");
    sweep(&whole, &design, &[]);
    let runs = read(&whole.join("runs.csv"));
    let cut = |name: &str| {
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("runs.csv.partial"), &runs[..runs.len() / 2 + 11]).expect("write");
        std::fs::write(
            dir.join("manifest.json.partial"),
            read(&whole.join("manifest.json")),
        )
        .expect("write");
        dir
    };
    let resume = |dir: &Path| {
        vec![
            "sweep".to_string(),
            SCENARIO.into(),
            "--design".into(),
            design.clone(),
            "--reps".into(),
            "40".into(),
            "--seed".into(),
            "9".into(),
            "--quiet".into(),
            "--resume".into(),
            s(dir).into(),
        ]
    };
    let run = |args: &[String]| flashpoint(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let with_file = cut("with_file");
    common::ok(&run(&resume(&with_file)));
    assert_same(&whole, &with_file, &FILES);

    let changed = cut("changed");
    std::fs::write(
        &file,
        "close_prob,incident_gain\n0.2,0.1\n0.8,0.3\n0.5,0.01\n",
    )
    .expect("write");
    let out = run(&resume(&changed));
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(&format!(
            "--resume: {} holds a sweep of other points than {} now gives (design.points differs",
            s(&changed),
            s(&file)
        )) && e.contains("the file changed since the sweep started; restore it, or move it away to resume with the points the sweep recorded"),
        "{e}"
    );

    std::fs::remove_file(&file).expect("remove");
    common::ok(&run(&resume(&changed)));
    assert_same(&whole, &changed, &FILES);
}

/// Every bad design file is refused with the file, line and column (in
/// fields) and what is wrong; `--vary` with a file, and `--set` of one of
/// its columns, are refused.
#[test]
fn bad_design_files_are_located_errors() {
    let base = temp_dir("design-file-errors");
    let file = base.join("points.csv");
    let design = format!("file:{}", s(&file));
    let p = s(&file).to_string();
    let check = |text: &str, extra: &[&str], want: String| {
        std::fs::write(&file, text).expect("write");
        let mut args = vec!["sweep", SCENARIO, "--design", &design, "--reps", "2"];
        args.extend_from_slice(extra);
        let e = err(&args);
        assert_eq!(e, format!("error: {want}\n"), "{text:?}");
    };
    check(
        "close_prob,half_life\n0.1,10\n0.2,10\n0.5,11\n1.7,12\n",
        &[],
        format!("{p}:5:1: close_prob = 1.7 is outside its bounds [0, 1]"),
    );
    check(
        "close_prob,half_life\n0.1,2.5\n",
        &[],
        format!("{p}:2:2: half_life = 2.5 is outside its bounds [3, 30]"),
    );
    check(
        "close_prob\r\n0.1\r\n\r\n1.5\r\n",
        &[],
        format!("{p}:4:1: close_prob = 1.5 is outside its bounds [0, 1]"),
    );
    check(
        "close_prob,halflife\n0.1,10\n",
        &[],
        format!("{p}:1:2: unknown parameter `halflife`; did you mean `half_life`?"),
    );
    check(
        "",
        &[],
        format!("{p}: the file is empty; a design needs a header of parameter names and one row per point"),
    );
    check(
        "close_prob\n",
        &[],
        format!("{p}: no points: the header is followed by no rows"),
    );
    check(
        "close_prob,half_life\n0.1,10\n0.2\n",
        &[],
        format!("{p}:3: 1 fields where the header has 2"),
    );
    check(
        "close_prob,half_life\n0.1,10,4\n",
        &[],
        format!("{p}:2: 3 fields where the header has 2"),
    );
    check(
        "close_prob,half_life\n0.1,ten\n",
        &[],
        format!("{p}:2:2: half_life = `ten` is not a finite number"),
    );
    check(
        "close_prob\nNaN\n",
        &[],
        format!("{p}:2:1: close_prob = `NaN` is not a finite number"),
    );
    check(
        "close_prob,half_life,close_prob\n0.1,10,0.2\n",
        &[],
        format!("{p}:1:3: column `close_prob` is given twice (first in column 1)"),
    );
    check(
        "point,close_prob\n0,0.1\n2,0.2\n",
        &[],
        format!("{p}:3:1: point `2` where 1 was expected (points are numbered 0, 1, 2, … in file order)"),
    );
    check(
        "point\n0\n",
        &[],
        format!("{p}:1:1: the header names no parameter; give one column per varied parameter"),
    );
    check(
        "close_prob\n0.1\n",
        &["--vary", "half_life"],
        format!("--vary cannot be used with --design file:{p}: the file's columns are the varied parameters"),
    );
    check(
        "close_prob\n0.1\n",
        &["--set", "close_prob=0.3"],
        format!("parameter `close_prob` is both --set and a column of {p}; drop one"),
    );
    let missing = base.join("missing.csv");
    let e = err(&[
        "sweep",
        SCENARIO,
        "--design",
        &format!("file:{}", s(&missing)),
    ]);
    assert!(
        e.starts_with(&format!("error: --design file:{}: ", s(&missing))),
        "{e}"
    );
    let e = err(&["sweep", SCENARIO, "--design", "lhs:4"]);
    assert_eq!(
        e,
        "error: a sweep needs at least one --vary NAME=SPEC (or --design file:PATH)\n"
    );
}
