//! Every example in README.md works: the scenario in its `toml` block loads and
//! runs, and every `flashpoint …` command in its `sh` blocks succeeds, in order,
//! in a scratch directory.

mod common;
use std::process::Command;

fn blocks<'a>(readme: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = readme;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("README code blocks are closed");
        out.push(&body[..end]);
        rest = &body[end + 3..];
    }
    out
}

const README: &str = include_str!("../README.md");

#[test]
fn quick_start_is_the_two_documented_commands() {
    assert_eq!(
        blocks(README, "sh")[0],
        "cargo run --release -- run scenarios/west2025.toml\ncargo test --release\n"
    );
}

#[test]
fn the_example_scenario_loads_and_runs() {
    let toml = blocks(README, "toml");
    assert_eq!(toml.len(), 1);
    let s = common::scenario(toml[0]);
    let shares = common::column_values(&s, "path", 1, 2000);
    // Both non-trivial outcomes happen.
    assert!(shares.contains(&0.0) && shares.contains(&1.0), "{shares:?}");
}

#[test]
fn every_command_in_the_readme_succeeds() {
    let lines = common::doc_commands(README);
    let n = lines.len();
    let dir = common::run_commands_in_scratch("readme", &lines);
    assert!(n >= 10, "only {n} commands found");
    // The sharded example merges to the same files as the unsharded sweep.
    let whole = Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args([
            "sweep",
            "scenarios/west2025.toml",
            "--vary",
            "close_prob=0:1:5",
            "--reps",
            "100",
            "--seed",
            "3",
            "--timeseries",
            "5",
            "--quiet",
            "--out",
            "out/whole",
        ])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert!(whole.status.success());
    for f in [
        "runs.csv",
        "summary.csv",
        "points.csv",
        "timeseries.csv",
        "timeseries_summary.csv",
    ] {
        let read = |d: &str| {
            let path = dir.join(d).join(f);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        assert_eq!(read("out/whole"), read("out/merged"), "{f}");
    }
}
