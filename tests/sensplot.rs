//! `flashpoint plot DIR` on the output of `flashpoint sensitivity --out DIR`:
//! bar charts of the indices, with no summary.csv in DIR.

mod common;
use common::*;

use std::process::{Command, Output};

fn flashpoint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// y = 2·x_big + 0.5·x_small (+ 0·x_none): a linear model, so tiny designs suffice.
const LINEAR: &str = r#"
[scenario]
name = "linear"
horizon = 1
[params]
x_big = { value = 1.0, min = 0.0, max = 5.0 }
x_small = { value = 0.0, min = -1.0, max = 1.0 }
x_none = { value = 0.0, min = 0.0, max = 1.0 }
[[actor]]
id = "A"
[[outcome]]
name = "y"
value = "2 * x_big + 0.5 * x_small + 0 * x_none"
"#;

fn sensitivity_then_plot(name: &str, method: &str) -> String {
    let dir = temp_dir(name);
    let scenario = dir.join("linear.toml");
    std::fs::write(&scenario, LINEAR).unwrap();
    let res = dir.join("res");
    let res_s = res.to_str().unwrap();
    ok(&flashpoint(&[
        "sensitivity",
        scenario.to_str().unwrap(),
        "--vary",
        "x_big=0:5",
        "--vary",
        "x_small=-1:1",
        "--vary",
        "x_none=0:1",
        "--method",
        method,
        "--reps",
        "2",
        "--bootstrap",
        "100",
        "--threads",
        "1",
        "--out",
        res_s,
    ]));
    assert!(res.join("sensitivity.csv").exists());
    assert!(!res.join("summary.csv").exists());
    let svg = dir.join("sens.svg");
    let out = flashpoint(&["plot", res_s, "--out", svg.to_str().unwrap()]);
    ok(&out);
    assert!(svg.exists(), "no SVG written");
    let text = std::fs::read_to_string(&svg).unwrap();
    for p in ["x_big", "x_small", "x_none"] {
        assert!(text.contains(p), "parameter {p} not in the SVG");
    }
    // --metric picks one chart; an unknown metric is a clear error.
    let one = dir.join("one.svg");
    ok(&flashpoint(&[
        "plot",
        res_s,
        "--metric",
        "y",
        "--out",
        one.to_str().unwrap(),
    ]));
    let bad = flashpoint(&["plot", res_s, "--metric", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no metric `nope`"));
    std::fs::read_to_string(&one).unwrap()
}

#[test]
fn plot_draws_morris_sensitivity_bars() {
    let text = sensitivity_then_plot("sensplot_morris", "morris:4");
    assert!(
        text.contains(">\ny: Morris mu* (95% CI)\n</text>"),
        "title missing"
    );
    // Sorted by mu*: x_big (10) before x_small (1) before x_none (0).
    let (a, b, c) = (
        text.find("x_big").expect("x_big label"),
        text.find("x_small").expect("x_small label"),
        text.find("x_none").expect("x_none label"),
    );
    assert!(a < b && b < c, "parameters not sorted by mu*");
}

#[test]
fn plot_draws_sobol_sensitivity_bars() {
    let text = sensitivity_then_plot("sensplot_sobol", "sobol:16");
    assert!(
        text.contains(">\ny: Sobol S1 and ST (95% CI)\n</text>"),
        "title missing"
    );
    assert!(text.contains("ST (total)") && text.contains("S1 (first order)"));
}

#[test]
fn plot_needs_summary_or_sensitivity() {
    let dir = temp_dir("sensplot_empty");
    let out = flashpoint(&["plot", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has none of summary.csv")
            && err.contains("sensitivity.csv")
            && err.contains("compare.csv"),
        "{err}"
    );
}
