//! `run --posterior DIR`: each replication runs at a particle of
//! `DIR/posterior.csv` drawn by weight from its own stream, so a
//! one-particle posterior is `run --set` at that particle, particles are
//! drawn at their weights, the files do not depend on the thread count, and
//! bad posteriors are located errors.

mod common;
use common::{path_str as s, run_err as err, run_ok as ok};
use common::{read, temp_dir};
use std::path::Path;

const WEST: &str = "scenarios/west2025.toml";

/// A calibration directory holding `posterior.csv` with `text`.
fn posterior(dir: &Path, text: &str) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("posterior.csv"), text).expect("write");
    s(dir).to_string()
}

fn text(path: &Path) -> String {
    String::from_utf8(read(path)).expect("utf-8")
}

/// `runs.csv` without its columns 1..=k (the drawn parameters).
fn without_params(runs: &str, k: usize) -> String {
    runs.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let mut kept = vec![f[0]];
            kept.extend_from_slice(&f[1 + k..]);
            kept.join(",") + "\n"
        })
        .collect()
}

/// One particle of weight 1 is `run --set` at its values: the same
/// outcomes replication by replication (runs.csv less the two drawn
/// columns) and the same summary.csv, byte for byte.
#[test]
fn a_one_particle_posterior_is_run_set_at_that_particle() {
    let base = temp_dir("posterior-one");
    let cal = posterior(
        &base.join("cal"),
        "reopen_threshold,half_life,weight\n0.7,12.5,1\n",
    );
    let (a, b) = (base.join("posterior_run"), base.join("set_run"));
    ok(&[
        "run",
        WEST,
        "--posterior",
        &cal,
        "--reps",
        "300",
        "--seed",
        "4",
        "--out",
        s(&a),
    ]);
    ok(&[
        "run",
        WEST,
        "--set",
        "reopen_threshold=0.7",
        "--set",
        "half_life=12.5",
        "--reps",
        "300",
        "--seed",
        "4",
        "--out",
        s(&b),
    ]);
    let runs = text(&a.join("runs.csv"));
    assert!(
        runs.starts_with("rep,reopen_threshold,half_life,closure_days,"),
        "{}",
        &runs[..80]
    );
    assert!(runs.lines().skip(1).all(|l| l.contains(",0.7,12.5,")));
    assert_eq!(without_params(&runs, 2), text(&b.join("runs.csv")));
    assert_eq!(read(&a.join("summary.csv")), read(&b.join("summary.csv")));
    let manifest = text(&a.join("manifest.json"));
    assert!(manifest.contains("\"posterior\": {"), "{manifest}");
    assert!(manifest.contains("\"n_particles\": 1"), "{manifest}");
    // check re-runs it from the manifest.
    let report = ok(&["check", s(&a)]);
    assert!(report.contains(": identical"), "{report}");
    // `report` rebuilds the printed tables from runs.csv and its drawn columns.
    let page = base.join("page.html");
    ok(&["report", s(&a), "--out", s(&page)]);
    let html = text(&page);
    assert!(html.contains("closure_days"), "the page lists the outcomes");
}

/// Two particles of weights 0.25 and 0.75: over 4000 replications the
/// first is drawn 1000 ± 4·27 times (binomial sd sqrt(4000·0.25·0.75) =
/// 27.4); the files are the same on 1 and 4 threads.
#[test]
fn particles_are_drawn_at_their_weights_whatever_the_threads() {
    let base = temp_dir("posterior-two");
    let cal = posterior(&base.join("cal"), "half_life,weight\n5,0.25\n25,0.75\n");
    let (one, four) = (base.join("t1"), base.join("t4"));
    for (dir, t) in [(&one, "1"), (&four, "4")] {
        ok(&[
            "run",
            WEST,
            "--posterior",
            &cal,
            "--reps",
            "4000",
            "--seed",
            "11",
            "--threads",
            t,
            "--quiet",
            "--out",
            s(dir),
        ]);
    }
    for f in ["runs.csv", "summary.csv"] {
        assert_eq!(read(&one.join(f)), read(&four.join(f)), "{f}");
    }
    let runs = text(&one.join("runs.csv"));
    let drawn: Vec<&str> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("half_life"))
        .collect();
    assert_eq!(drawn.len(), 4000);
    assert!(drawn.iter().all(|x| *x == "5" || *x == "25"));
    assert!(runs.starts_with("rep,half_life,closure_days,"));
    let first = drawn.iter().filter(|x| **x == "5").count() as f64;
    let sd = (4000.0f64 * 0.25 * 0.75).sqrt();
    assert!(
        (first - 1000.0).abs() < 4.0 * sd,
        "particle 1 drawn {first} times of 4000"
    );
    // Replication r of the mixture is replication r of `run --set` at the
    // particle drawn for it (the draw leaves the replication's own streams
    // alone), row for row.
    let set_runs: Vec<String> = ["5", "25"]
        .iter()
        .map(|h| {
            let dir = base.join(format!("set{h}"));
            ok(&[
                "run",
                WEST,
                "--set",
                &format!("half_life={h}"),
                "--reps",
                "4000",
                "--seed",
                "11",
                "--quiet",
                "--out",
                s(&dir),
            ]);
            text(&dir.join("runs.csv"))
        })
        .collect();
    let (five, twenty_five): (Vec<&str>, Vec<&str>) =
        (set_runs[0].lines().collect(), set_runs[1].lines().collect());
    for (r, line) in without_params(&runs, 1).lines().enumerate().skip(1) {
        let want = if drawn[r - 1] == "5" {
            five[r]
        } else {
            twenty_five[r]
        };
        assert_eq!(line, want, "replication {}", r - 1);
    }
}

/// A real calibration's directory runs, and every replication is at one of
/// its particles.
#[test]
fn a_calibration_output_runs() {
    let base = temp_dir("posterior-calibrate");
    let cal = base.join("cal");
    ok(&[
        "calibrate",
        WEST,
        "--targets",
        "scenarios/targets/west2025.toml",
        "--vary",
        "reopen_threshold",
        "--vary",
        "half_life",
        "--particles",
        "40",
        "--generations",
        "1",
        "--seed",
        "2",
        "--quiet",
        "--out",
        s(&cal),
    ]);
    let particles: Vec<String> = text(&cal.join("posterior.csv"))
        .lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').expect("weight").0.to_string())
        .collect();
    let out = base.join("run");
    ok(&[
        "run",
        WEST,
        "--posterior",
        s(&cal),
        "--reps",
        "200",
        "--quiet",
        "--out",
        s(&out),
    ]);
    for line in text(&out.join("runs.csv")).lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let values = format!("{},{}", f[1], f[2]);
        assert!(particles.contains(&values), "{values} is not a particle");
    }
}

/// Bad posteriors and conflicting options are refused with located errors.
#[test]
fn bad_posteriors_are_located_errors() {
    let base = temp_dir("posterior-errors");
    let dir = base.join("cal");
    let file = s(&dir.join("posterior.csv")).to_string();
    let e = |text: &str, extra: &[&str]| {
        let cal = posterior(&dir, text);
        let mut args = vec!["run", WEST, "--posterior", &cal, "--reps", "2"];
        args.extend_from_slice(extra);
        err(&args)
    };
    assert_eq!(
        e("half_lif,weight\n5,1\n", &[]),
        format!("error: {file}:1:1: unknown parameter `half_lif`; did you mean `half_life`?\n")
    );
    assert_eq!(
        e("weight,half_life\n1,50\n", &[]),
        format!("error: {file}:2:2: half_life = 50 is outside its bounds [3, 30]\n")
    );
    // Counts and columns are the file's own, `weight` included.
    assert_eq!(
        e("weight,half_life\n1\n", &[]),
        format!("error: {file}:2: 1 fields where the header has 2\n")
    );
    assert_eq!(
        e("weight,half_life,half_life\n1,5,5\n", &[]),
        format!("error: {file}:1:3: column `half_life` is given twice (first in column 2)\n")
    );
    assert_eq!(
        e("half_life,weight\n5,-0.5\n", &[]),
        format!("error: {file}:2:2: weight = `-0.5` is not a finite number of at least 0\n")
    );
    assert_eq!(
        e("half_life,weight\n5,0\n6,0\n", &[]),
        format!("error: {file}: every weight is 0\n")
    );
    assert_eq!(
        e("half_life\n5\n", &[]),
        format!("error: {file}: no `weight` column; a posterior has one column per calibrated parameter and `weight`\n")
    );
    assert_eq!(
        e("half_life,weight\n5,1\n", &["--set", "half_life=9"]),
        format!("error: parameter `half_life` is both --set and a column of {file}; drop one\n")
    );
    assert_eq!(
        e("half_life,weight\n5,1\n", &["--tie-audit"]),
        "error: --tie-audit cannot be used with --posterior (the audit runs one parameter point)\n"
    );
    let missing = base.join("nowhere");
    let m = err(&["run", WEST, "--posterior", s(&missing)]);
    assert!(
        m.starts_with(&format!(
            "error: --posterior {}: cannot read {}/posterior.csv (",
            s(&missing),
            s(&missing)
        )) && m.ends_with("; give the --out DIR of `flashpoint calibrate`\n"),
        "{m}"
    );
}
