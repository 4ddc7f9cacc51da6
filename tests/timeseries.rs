//! `--timeseries`: grid values come from the exact state (the value at the
//! horizon is the final tension of runs.csv), series stop at a terminal
//! event, files are byte-identical across thread counts; `plot` draws them.

mod common;
use common::flashpoint;
use common::temp_dir;
use std::path::Path;
use std::process::Output;

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn sweep_time_series_are_identical_across_threads_and_plot() {
    let base = temp_dir("timeseries-threads");
    let dirs: Vec<_> = ["1", "2"]
        .iter()
        .map(|threads| {
            let dir = base.join(format!("t{threads}"));
            ok(flashpoint(&[
                "sweep",
                "scenarios/west2025.toml",
                "--vary",
                "clash_prob=0,0.2",
                "--reps",
                "300",
                "--seed",
                "7",
                "--timeseries",
                "2.5",
                "--timeseries-reps",
                "2",
                "--threads",
                threads,
                "--quiet",
                "--out",
                s(&dir),
            ]));
            dir
        })
        .collect();
    for file in ["timeseries.csv", "timeseries_summary.csv"] {
        assert!(
            read(&dirs[0].join(file)) == read(&dirs[1].join(file)),
            "{file} depends on the thread count"
        );
    }
    let detail = read(&dirs[0].join("timeseries.csv"));
    assert!(detail.starts_with("point,rep,t,date,series,value\n"));
    // Two points × two replications, no more.
    let reps: std::collections::BTreeSet<(&str, &str)> = detail
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0], f[1])
        })
        .collect();
    assert_eq!(reps.len(), 4, "{reps:?}");
    let summary = read(&dirs[0].join("timeseries_summary.csv"));
    assert!(summary.starts_with("point,t,date,series,n,mean,p05,p25,p50,p75,p95\n"));
    // With clash_prob = 0.2, some replications end early: fewer are left at the horizon.
    let n_at = |point: &str, t: &str| -> u64 {
        summary
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[0] == point && f[1] == t && f[3] == "tension_POL_BLR")
            .map(|f| f[4].parse().expect("n"))
            .expect("row")
    };
    assert_eq!(n_at("0", "0"), 300);
    assert_eq!(n_at("0", "60"), 300);
    assert!(n_at("1", "60") < 300);
    // The quantiles are ordered.
    for l in summary.lines().skip(1) {
        let q: Vec<f64> = l
            .split(',')
            .skip(6)
            .map(|x| x.parse().expect("q"))
            .collect();
        assert!(q.windows(2).all(|w| w[0] <= w[1]), "{l}");
    }
    let svg = base.join("plot.svg");
    ok(flashpoint(&[
        "plot",
        s(&dirs[0]),
        "--out",
        s(&svg),
        "--point",
        "1",
    ]));
    let text = read(&svg);
    assert!(text.starts_with("<svg"), "{}", &text[..100.min(text.len())]);
    for needle in [
        "west2025: sweep of 2 points",
        "tension_POL_BLR, point 1 (clash_prob = 0.2)",
        "terminal: share by clash_prob",
        "closure_days: mean by clash_prob",
        "exercise_start (09-12)",
    ] {
        assert!(text.contains(needle), "the plot lacks `{needle}`");
    }
}

#[test]
fn grid_values_are_the_exact_state_and_stop_at_a_terminal_event() {
    let dir = temp_dir("timeseries-run");
    ok(flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "60",
        "--seed",
        "3",
        "--set",
        "clash_prob=0.2",
        "--timeseries",
        "1",
        "--timeseries-reps",
        "60",
        "--quiet",
        "--out",
        s(&dir),
    ]));
    let runs = read(&dir.join("runs.csv"));
    let header: Vec<&str> = runs.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (end_col, final_col) = (col("end_time"), col("tension_POL_BLR_final"));
    let detail = read(&dir.join("timeseries.csv"));
    assert!(detail.starts_with("rep,t,date,series,value\n"));
    let mut ended_early = 0;
    for row in runs.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let rep = f[0];
        let end: f64 = f[end_col].parse().expect("end_time");
        let series: Vec<(f64, &str)> = detail
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|g| g[0] == rep && g[3] == "tension_POL_BLR")
            .map(|g| (g[1].parse().expect("t"), g[4]))
            .collect();
        let last = series.last().expect("at least t = 0");
        // The series stops at the last grid point not after the end.
        assert!(
            last.0 <= end && end < last.0 + 1.0,
            "rep {rep}: {last:?} vs end {end}"
        );
        if end == 60.0 {
            // At the horizon the grid value is the final tension, to the bit.
            assert_eq!(last.1, f[final_col], "rep {rep}");
        } else {
            ended_early += 1;
        }
    }
    assert!(
        ended_early > 0,
        "clash_prob = 0.2 ends some replications early"
    );
    // The t = 0 rows show the initial state, with the calendar date.
    assert!(detail.contains("\n0,0,2025-09-01T00:00,tension_POL_BLR,0.35\n"));
    assert!(detail.contains("\n0,0,2025-09-01T00:00,POL.troops_k,10\n"));
}

#[test]
fn bad_timeseries_arguments_are_usage_errors() {
    let dir = temp_dir("timeseries-bad");
    let out_dir = dir.join("x");
    for (args, needle) in [
        (
            vec![
                "run",
                "scenarios/west2025.toml",
                "--timeseries",
                "0",
                "--out",
                s(&out_dir),
            ],
            "positive",
        ),
        (
            vec![
                "run",
                "scenarios/west2025.toml",
                "--timeseries",
                "1e-9",
                "--out",
                s(&out_dir),
            ],
            "grid points",
        ),
        (
            vec!["run", "scenarios/west2025.toml", "--timeseries", "1"],
            "--timeseries needs --out",
        ),
    ] {
        let out = flashpoint(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
