//! `flashpoint calibrate`: the targets file's errors (located, with the
//! nearest name), the outputs (posterior weights summing to 1, the
//! tolerance schedule going down), determinism across thread counts, and
//! `--out` never replacing a result. The statistical checks of the sampler
//! (closed-form posterior, synthetic recovery) are in tests/validation.rs.

mod common;
use common::{flashpoint, ok, read, temp_dir};
use flashpoint::analysis::calibrate::{parse_targets, Calibrated, Observed, Prior};
use flashpoint::engine::columns;
use std::path::Path;

const WEST: &str = "scenarios/west2025.toml";

fn west() -> flashpoint::scenario::Scenario {
    flashpoint::scenario::load(Path::new(WEST)).expect("west2025 loads")
}

fn calibrated(s: &flashpoint::scenario::Scenario, names: &[&str]) -> Vec<Calibrated> {
    names
        .iter()
        .map(|n| {
            let i = s.param_index(n).expect("declared");
            Calibrated {
                param: i,
                name: (*n).into(),
                lo: s.params[i].min,
                hi: s.params[i].max,
                prior: Prior::Uniform,
            }
        })
        .collect()
}

/// The error of a targets file that must not be accepted.
fn targets_error(text: &str, vary: &[&str]) -> String {
    let s = west();
    let mut v = calibrated(&s, vary);
    match parse_targets("t.toml", text, &columns(&s), &mut v) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_targets_file_reads_numbers_labels_scales_and_priors() {
    let s = west();
    let mut v = calibrated(&s, &["half_life", "reopen_threshold", "impact_scale"]);
    let text = "[targets]\nclosure_days = 13\nreopen_day = { value = 24, scale = 3 }\npath = \"entrenchment\"\n\n[priors]\nhalf_life = \"log-uniform\"\nimpact_scale = { normal = { mean = 0.015, sd = 0.01 } }\n";
    let t = parse_targets("t.toml", text, &columns(&s), &mut v).expect("valid");
    assert_eq!(t.len(), 3);
    let by = |n: &str| t.iter().find(|t| t.name == n).expect("target");
    assert_eq!(by("closure_days").observed, Observed::Number(13.0));
    assert_eq!(by("closure_days").scale, None);
    assert_eq!(by("reopen_day").scale, Some(3.0));
    assert_eq!(
        by("path").observed,
        Observed::Label("entrenchment".into(), 2)
    );
    assert_eq!(v[0].prior, Prior::LogUniform);
    assert_eq!(v[1].prior, Prior::Uniform);
    assert_eq!(
        v[2].prior,
        Prior::Normal {
            mean: 0.015,
            sd: 0.01
        }
    );
}

#[test]
fn an_unknown_outcome_is_located_with_the_nearest_name() {
    assert_eq!(
        targets_error("[targets]\nclosure_day = 13\n", &["half_life"]),
        "t.toml:2:1: error: unknown outcome `closure_day`\n     2 | closure_day = 13\n       | ^^^^^^^^^^^\n       = help: did you mean `closure_days`?"
    );
}

#[test]
fn a_label_must_be_one_of_the_categories() {
    let e = targets_error("[targets]\npath = \"entrenchmnet\"\n", &["half_life"]);
    assert!(
        e.starts_with("t.toml:2:8: error: `entrenchmnet` is not a category of `path` (its categories: escalation, dialogue, entrenchment, other)"),
        "{e}"
    );
    assert!(e.ends_with("= help: did you mean `entrenchment`?"), "{e}");
    let e = targets_error("[targets]\npath = 2\n", &["half_life"]);
    assert!(e.contains("t.toml:2:8: error: outcome `path` is categorical; give one of its labels as a string: escalation, dialogue, entrenchment, other"), "{e}");
    let e = targets_error("[targets]\nclosure_days = \"long\"\n", &["half_life"]);
    assert!(
        e.contains("t.toml:2:16: error: outcome `closure_days` is numeric; give a finite number"),
        "{e}"
    );
}

#[test]
fn priors_outside_the_bounds_or_of_uncalibrated_parameters_are_refused() {
    // half_life is declared on [3, 30].
    let e = targets_error(
        "[targets]\nclosure_days = 13\n[priors]\nhalf_life = { normal = { mean = 40, sd = 5 } }\n",
        &["half_life"],
    );
    assert!(e.contains("t.toml:4:13: error: prior of `half_life`: mean = 40 lies outside the range [3, 30] the prior is truncated to"), "{e}");
    // incident_base is declared on [0, 0.2].
    let e = targets_error(
        "[targets]\nclosure_days = 13\n[priors]\nincident_base = \"log-uniform\"\n",
        &["incident_base"],
    );
    assert!(e.contains("error: prior of `incident_base`: a log-uniform prior needs a range above 0; the range is [0, 0.2]"), "{e}");
    let e = targets_error(
        "[targets]\nclosure_days = 13\n[priors]\nhalf_lif = \"uniform\"\n",
        &["half_life"],
    );
    assert!(e.contains("t.toml:4:1: error: a prior for `half_lif`, which is not calibrated (not given with --vary)"), "{e}");
    assert!(e.contains("did you mean `half_life`?"), "{e}");
    let e = targets_error(
        "[targets]\nclosure_days = 13\n[priors]\nhalf_life = \"gamma\"\n",
        &["half_life"],
    );
    assert!(e.contains("unknown prior `gamma`; give \"uniform\", \"log-uniform\" or { normal = { mean = M, sd = S } }"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = targets_error(
        "[targets]\nclosure_dayz = 13\npath = \"war\"\nreopen_day = { value = 24, scale = -1 }\n",
        &["half_life"],
    );
    assert_eq!(e.matches(": error: ").count(), 3, "{e}");
    assert!(
        e.contains("target `reopen_day`: `scale` must be a positive number"),
        "{e}"
    );
    assert_eq!(
        targets_error("[other]\nx = 1\n", &["half_life"])
            .lines()
            .next(),
        Some("t.toml:1:2: error: unknown field `other`, expected `targets` or `priors`")
    );
    assert!(targets_error("[priors]\n", &["half_life"])
        .starts_with("t.toml:1:1: error: the targets file has no [targets] table"),);
}

fn calibrate_args<'a>(targets: &'a str, out: &'a str, threads: &'a str) -> Vec<&'a str> {
    vec![
        "calibrate",
        WEST,
        "--targets",
        targets,
        "--vary",
        "reopen_threshold",
        "--vary",
        "half_life=5:20",
        "--particles",
        "60",
        "--generations",
        "2",
        "--seed",
        "3",
        "--threads",
        threads,
        "--out",
        out,
        "--quiet",
    ]
}

#[test]
fn calibrate_writes_its_files_and_repeats_byte_for_byte_at_any_thread_count() {
    let base = temp_dir("calibrate-determinism");
    let targets = base.join("targets.toml");
    std::fs::write(
        &targets,
        "[targets]\nclosure_days = 13\nreopen_day = { value = 24, scale = 2 }\npath = \"entrenchment\"\n",
    )
    .expect("writable");
    let t = targets.to_str().expect("utf-8");
    let mut dirs = Vec::new();
    for (name, threads) in [("t1", "1"), ("t2", "2")] {
        let dir = base.join(name);
        let out = flashpoint(&calibrate_args(t, dir.to_str().expect("utf-8"), threads));
        ok(&out);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(stdout.contains("wrote "), "{stdout}");
        dirs.push(dir);
    }
    for file in [
        "posterior.csv",
        "posterior_summary.csv",
        "tolerances.csv",
        "predictive.csv",
    ] {
        assert!(
            read(&dirs[0].join(file)) == read(&dirs[1].join(file)),
            "{file} differs between 1 and 2 threads"
        );
    }
    let posterior = String::from_utf8(read(&dirs[0].join("posterior.csv"))).expect("utf-8");
    let mut lines = posterior.lines();
    assert_eq!(lines.next(), Some("reopen_threshold,half_life,weight"));
    let mut total = 0.0;
    let mut n = 0;
    for line in lines {
        let f: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().expect("number"))
            .collect();
        assert!((0.3..=0.9).contains(&f[0]), "{line}");
        assert!((5.0..=20.0).contains(&f[1]), "{line}");
        assert!(f[2] > 0.0);
        total += f[2];
        n += 1;
    }
    assert_eq!(n, 60);
    assert!((total - 1.0).abs() < 1e-12, "weights sum to {total}");
    let tol = String::from_utf8(read(&dirs[0].join("tolerances.csv"))).expect("utf-8");
    let tols: Vec<f64> = tol
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(1)
                .expect("tolerance")
                .parse()
                .expect("number")
        })
        .collect();
    assert_eq!(
        tol.lines().next(),
        Some("generation,tolerance,attempts,accepted,acceptance,ess")
    );
    assert_eq!(tols.len(), 3);
    assert!(tols[0].is_infinite() && tols[1] > tols[2], "{tols:?}");
    let pred = String::from_utf8(read(&dirs[0].join("predictive.csv"))).expect("utf-8");
    assert_eq!(
        pred.lines().next(),
        Some("target,kind,observed,scale,mean,q05,q50,q95,percentile,share_observed")
    );
    assert!(pred.contains("\npath,label,entrenchment,1,,,,,,"), "{pred}");
    assert!(pred.contains("\nreopen_day,numeric,24,2,"), "{pred}");
    let summary = String::from_utf8(read(&dirs[0].join("posterior_summary.csv"))).expect("utf-8");
    assert!(summary.starts_with("param,prior,lo,hi,default,mean,sd,q05,q50,q95,ess\nreopen_threshold,uniform,0.3,0.9,0.5,"), "{summary}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&dirs[0].join("manifest.json"))).expect("JSON");
    assert_eq!(manifest["kind"], "calibrate");
    assert_eq!(manifest["design"]["particles"], 60);
    assert!(manifest["outputs"]["posterior.csv"].is_string());
    // The hash of the targets file is that of the text the calibration read.
    assert_eq!(
        manifest["design"]["targets_sha256"],
        flashpoint::digest::sha256_hex(&read(Path::new(t)))
    );
    // A directory that holds a result is refused before any work.
    let out = flashpoint(&calibrate_args(t, dirs[0].to_str().expect("utf-8"), "2"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {} already holds a result; choose another --out or delete it\n",
            dirs[0].display()
        )
    );
}

#[test]
fn calibrate_reports_a_bad_targets_file_without_a_second_prefix() {
    let base = temp_dir("calibrate-bad-targets");
    let targets = base.join("t.toml");
    std::fs::write(&targets, "[targets]\nreopen_dya = 24\n").expect("writable");
    let out = flashpoint(&[
        "calibrate",
        WEST,
        "--targets",
        targets.to_str().expect("utf-8"),
        "--vary",
        "half_life",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.starts_with(&format!(
            "{}:2:1: error: unknown outcome `reopen_dya`",
            targets.display()
        )),
        "{err}"
    );
    assert!(err.contains("did you mean `reopen_day`?"), "{err}");
    let out = flashpoint(&[
        "calibrate",
        WEST,
        "--targets",
        targets.to_str().expect("utf-8"),
        "--vary",
        "half_lif",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --vary: unknown parameter `half_lif`; did you mean `half_life`?\n"
    );
}

/// `calibrate`'s own `--vary` errors name calibrate and accept `NAME`
/// (they once said "sensitivity" and "--vary NAME=lo:hi", rewritten by text
/// replacement for the one message).
#[test]
fn calibrate_vary_errors_name_calibrate() {
    let s = west();
    let dir = temp_dir("calibrate-vary-messages");
    let targets = dir.join("t.toml");
    std::fs::write(&targets, "[targets]\nclosure_days = 13\n").expect("write");
    let e = |vary: &[&str]| {
        let vary: Vec<String> = vary.iter().map(|v| v.to_string()).collect();
        flashpoint::analysis::calibrate::load_targets(&s, &targets, &vary, &[])
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        e(&[]),
        "calibrate needs at least one --vary NAME or NAME=lo:hi"
    );
    assert_eq!(
        e(&["half_life=10"]),
        "--vary half_life: calibrate varies a parameter over a range; give NAME=lo:hi or NAME, not `half_life=10`"
    );
}
