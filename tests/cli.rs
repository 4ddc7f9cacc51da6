//! The `flashpoint` binary: determinism across thread counts and repeated
//! runs, and clear errors for bad arguments.

mod common;
use common::temp_dir;
use common::{flashpoint, read};
use std::path::Path;
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn thread_count_and_repetition_do_not_change_a_byte() {
    let base = temp_dir("cli-determinism");
    let mut dirs = Vec::new();
    for (name, threads) in [("t1", "1"), ("t2", "2"), ("t2-again", "2")] {
        let dir = base.join(name);
        let out = flashpoint(&[
            "run",
            "scenarios/west2025.toml",
            "--reps",
            "600",
            "--seed",
            "42",
            "--threads",
            threads,
            "--trace",
            "3",
            "--out",
            dir.to_str().expect("utf-8 path"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        dirs.push(dir);
    }
    for file in ["runs.csv", "summary.csv", "events.csv"] {
        let first = read(&dirs[0].join(file));
        for dir in &dirs[1..] {
            assert!(
                first == read(&dir.join(file)),
                "{file} differs between {} and {}",
                dirs[0].display(),
                dir.display()
            );
        }
    }
    // Manifests differ only in the creation time and the command line.
    let strip = |dir: &Path| -> serde_json::Value {
        let mut m: serde_json::Value =
            serde_json::from_slice(&read(&dir.join("manifest.json"))).expect("valid JSON");
        m["created"] = serde_json::Value::Null;
        m["command"] = serde_json::Value::Null;
        m
    };
    assert_eq!(strip(&dirs[0]), strip(&dirs[1]));
    let runs = String::from_utf8(read(&dirs[0].join("runs.csv"))).expect("utf-8");
    assert_eq!(runs.lines().count(), 601);
    assert!(runs.starts_with("rep,closure_days,"), "{}", &runs[..80]);
}

#[test]
fn the_manifest_records_how_the_output_was_made() {
    let dir = temp_dir("cli-manifest");
    let out = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "50",
        "--set",
        "close_prob=0.5",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("manifest.json"))).expect("valid JSON");
    assert_eq!(m["kind"], "run");
    assert_eq!(m["reps"], 50);
    assert_eq!(m["seed"], 20250912);
    assert_eq!(m["params"]["close_prob"], 0.5);
    let sha = flashpoint::output::sha256_hex(&read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/west2025.toml")
            .as_path(),
    ));
    assert_eq!(m["scenario"]["sha256"], sha.as_str());
    let runs_sha = flashpoint::output::sha256_hex(&read(&dir.join("runs.csv")));
    assert_eq!(m["outputs"]["runs.csv"], runs_sha.as_str());
}

#[test]
fn bad_arguments_get_clear_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "scenarios/west2025.toml", "--set", "close_prb=0.5"],
            "error: unknown parameter `close_prb`; did you mean `close_prob`?",
        ),
        (
            &["run", "scenarios/west2025.toml", "--set", "close_prob=1.5"],
            "error: parameter `close_prob` = 1.5 is outside its bounds [0, 1]",
        ),
        (
            &["run", "scenarios/west2025.toml", "--reps", "0"],
            "error: --reps must be at least 1",
        ),
        (
            &["run", "scenarios/west2025.toml", "--threads", "0"],
            "error: --threads must be at least 1",
        ),
        (
            &["run", "scenarios/west2025.toml", "--set", "close_prob"],
            "expected NAME=VALUE, got `close_prob`",
        ),
        (
            &["run", "scenarios/nope.toml"],
            "error: scenarios/nope.toml: cannot read the scenario",
        ),
        (
            &["run", "scenarios/west2025.toml", "--trace", "5"],
            "error: --trace needs --out DIR",
        ),
    ];
    for (args, expected) in cases {
        let out = flashpoint(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn an_unwritable_output_directory_is_an_error_and_writes_nothing() {
    let dir = temp_dir("cli-unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    let target = file.join("out");
    let out = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "10",
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("error: {}", target.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn validate_lists_the_scenario_or_its_errors() {
    let out = flashpoint(&["validate", "scenarios/west2025.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("scenario `west2025`: horizon 60 days"),
        "{text}"
    );
    assert!(text.contains("poland_closes_border"), "{text}");

    let dir = temp_dir("cli-validate");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[scenario]\nname = \"x\"\nhorizon = -1\n").expect("write");
    let out = flashpoint(&["validate", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.toml:3:11: error: `horizon` must be after time 0"),
        "{}",
        stderr(&out)
    );
    assert!(!text.contains("warnings"), "{text}");

    // A scenario that loads but holds what can have no effect: warnings
    // with locations after the description, and success.
    let odd = dir.join("odd.toml");
    std::fs::write(&odd, "[scenario]\nname = \"x\"\nhorizon = 5\n[params]\np = 0.5\n[[actor]]\nid = \"A\"\n[[event]]\nid = \"never\"\n").expect("write");
    let out = flashpoint(&["validate", odd.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = odd.display();
    assert!(
        text.contains(&format!("\nwarnings (2):\n{shown}:5:1: warning: parameter `p` is never read: no expression uses it\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n{shown}:9:6: warning: event `never` never happens: no schedule entry, hazard or rule that can fire emits it\n")),
        "{text}"
    );
}

#[test]
fn run_never_overwrites_a_result() {
    let dir = temp_dir("cli-overwrite");
    let out = dir.join("out");
    let first = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "20",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = read(&out.join("runs.csv"));
    let again = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "30",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already holds a result; choose another --out or delete it"),
        "{}",
        stderr(&again)
    );
    assert_eq!(before, read(&out.join("runs.csv")));
}

#[test]
fn timeseries_of_a_scenario_without_series_is_a_usage_error() {
    let dir = temp_dir("cli-no-series");
    let scenario = dir.join("s.toml");
    std::fs::write(
        &scenario,
        "[scenario]\nname = \"s\"\nhorizon = 5\n[[actor]]\nid = \"A\"\n",
    )
    .expect("write");
    let out = flashpoint(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--timeseries",
        "1",
        "--out",
        dir.join("o").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("the scenario has no tension and no numeric state variable to record"),
        "{}",
        stderr(&out)
    );
}

/// `DIR/manifest.json`, parsed.
fn manifest_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("manifest.json"))).expect("valid JSON")
}

/// SHA-256 of bytes, lower-case hex, computed here (not by flashpoint).
fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The manifest lists exactly `files`, each with the SHA-256 of its bytes,
/// and the scenario with the SHA-256 of west2025.toml.
fn assert_outputs(dir: &Path, m: &serde_json::Value, files: &[&str]) {
    let outputs = m["outputs"].as_object().expect("outputs is an object");
    let mut names: Vec<&str> = outputs.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = files.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "{m}");
    for file in files {
        assert_eq!(
            outputs[*file],
            sha256(&read(&dir.join(file))).as_str(),
            "{file}"
        );
    }
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/west2025.toml");
    assert_eq!(m["scenario"]["sha256"], sha256(&read(&scenario)).as_str());
    assert_eq!(m["scenario"]["path"], "scenarios/west2025.toml");
    assert_eq!(m["scenario"]["name"], "west2025");
    assert_eq!(m["flashpoint_version"], env!("CARGO_PKG_VERSION"));
    assert!(!dir.join("manifest.json.partial").exists());
}

#[test]
fn paths_writes_a_manifest_and_repeats_byte_for_byte() {
    let base = temp_dir("cli-paths-manifest");
    let mut dirs = Vec::new();
    for name in ["first", "again"] {
        let dir = base.join(name);
        let out = flashpoint(&[
            "paths",
            "scenarios/west2025.toml",
            "--reps",
            "40",
            "--seed",
            "5",
            "--set",
            "close_prob=0.5",
            "--anchor",
            "border_close,formal_protest",
            "--top",
            "3",
            "--threads",
            "2",
            "--out",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        dirs.push(dir);
    }
    let m = manifest_json(&dirs[0]);
    assert_eq!(m["kind"], "paths");
    assert_eq!(m["seed"], 5);
    assert_eq!(m["reps"], 40);
    assert_eq!(m["params"]["close_prob"], 0.5);
    assert_eq!(m["params"]["half_life"], 10.0);
    assert_eq!(m["design"]["outcome"], "terminal");
    assert_eq!(
        m["design"]["anchors"],
        serde_json::json!(["border_close", "formal_protest"])
    );
    assert_eq!(m["design"]["top"], 3);
    assert_eq!(m["totals"]["replications"], 40);
    assert!(m["totals"]["events"].as_u64().expect("a count") > 0);
    assert_eq!(m["command"][1], "paths");
    assert!(m["rng"].as_str().expect("text").contains("ChaCha8"));
    assert_outputs(&dirs[0], &m, &["paths.csv"]);
    assert_eq!(
        read(&dirs[0].join("paths.csv")),
        read(&dirs[1].join("paths.csv"))
    );
    assert_eq!(m["outputs"], manifest_json(&dirs[1])["outputs"]);
}

#[test]
fn sensitivity_writes_a_manifest_and_repeats_byte_for_byte() {
    let base = temp_dir("cli-sensitivity-manifest");
    let mut dirs = Vec::new();
    for name in ["first", "again"] {
        let dir = base.join(name);
        let out = flashpoint(&[
            "sensitivity",
            "scenarios/west2025.toml",
            "--vary",
            "close_prob=0.2:0.8",
            "--vary",
            "half_life=5:20",
            "--set",
            "deploy_k=20",
            "--method",
            "morris:2",
            "--reps",
            "3",
            "--bootstrap",
            "100",
            "--seed",
            "11",
            "--threads",
            "2",
            "--out",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        dirs.push(dir);
    }
    let m = manifest_json(&dirs[0]);
    assert_eq!(m["kind"], "sensitivity");
    assert_eq!(m["seed"], 11);
    assert_eq!(m["reps"], 3);
    assert_eq!(m["params"]["deploy_k"], 20.0);
    assert_eq!(m["design"]["method"], "morris");
    assert_eq!(m["design"]["n"], 2);
    assert_eq!(
        m["design"]["vary"],
        serde_json::json!([
            { "param": "close_prob", "lo": 0.2, "hi": 0.8 },
            { "param": "half_life", "lo": 5.0, "hi": 20.0 },
        ])
    );
    // Morris: N (k + 1) points.
    assert_eq!(m["design"]["n_points"], 6);
    assert_eq!(m["design"]["bootstrap"], 100);
    assert_eq!(m["totals"]["replications"], 18);
    assert!(m["totals"]["events"].as_u64().expect("a count") > 0);
    assert_outputs(&dirs[0], &m, &["sensitivity.csv"]);
    assert_eq!(
        read(&dirs[0].join("sensitivity.csv")),
        read(&dirs[1].join("sensitivity.csv"))
    );
}

#[test]
fn compare_manifest_lists_compare_csv_and_check_refuses_analyses() {
    let dir = temp_dir("cli-compare-manifest");
    let out = flashpoint(&[
        "compare",
        "scenarios/west2025.toml",
        "--a",
        "close_prob=0.3",
        "--b",
        "close_prob=0.7",
        "--reps",
        "20",
        "--seed",
        "3",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = manifest_json(&dir);
    assert_eq!(m["kind"], "compare");
    assert_eq!(m["totals"]["replications"], 60);
    assert_eq!(m["design"]["b"]["overrides"]["close_prob"], 0.7);
    assert_outputs(&dir, &m, &["compare.csv"]);
    // `check` re-runs only runs and sweeps, and says so (exit 2).
    let out = flashpoint(&["check", dir.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: manifest.json records a `compare` result; check re-runs only `run` and `sweep` \
         results (to reproduce a `compare` result, run the command it records again: the same \
         seed gives the same bytes, and manifest.json lists the SHA-256 of each file)\n"
    );
}

#[test]
fn tie_audit_is_in_the_run_manifest_and_check_reproduces_it() {
    let dir = temp_dir("cli-tie-audit-manifest");
    let out = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "30",
        "--tie-audit",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tie-order audit"), "{text}");
    assert!(text.contains("tie_audit.csv"), "{text}");
    let m = manifest_json(&dir);
    assert_eq!(m["kind"], "run");
    assert_eq!(m["tie_audit"], true);
    assert_outputs(&dir, &m, &["runs.csv", "summary.csv", "tie_audit.csv"]);
    let out = flashpoint(&["check", dir.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Too few replications for an audit: refused before anything is written.
    let empty = temp_dir("cli-tie-audit-one-rep");
    let out = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "1",
        "--tie-audit",
        "--out",
        empty.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tie-audit needs --reps of at least 2"));
    assert_eq!(std::fs::read_dir(&empty).expect("dir").count(), 0);
}

#[test]
fn analyses_refuse_a_directory_that_holds_a_result_before_running() {
    let dir = temp_dir("cli-analysis-refuses");
    let d = dir.to_str().expect("utf-8");
    let out = flashpoint(&["run", "scenarios/west2025.toml", "--reps", "20", "--out", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(dir.join("manifest.json")).expect("run wrote a manifest");
    for args in [
        vec!["paths", "scenarios/west2025.toml", "--reps", "20"],
        vec![
            "sensitivity",
            "scenarios/west2025.toml",
            "--reps",
            "2",
            "--vary",
            "close_prob=0.1:0.9",
            "--method",
            "morris:2",
        ],
        vec![
            "compare",
            "scenarios/west2025.toml",
            "--a",
            "close_prob=0.2",
            "--b",
            "close_prob=0.8",
            "--reps",
            "20",
        ],
    ] {
        let mut args = args.clone();
        args.extend(["--out", d]);
        let out = flashpoint(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!("error: {d} already holds a result; choose another --out or delete it\n"),
            "{args:?}"
        );
    }
    // The run's result is as it was, and nothing was added to it.
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).expect("still there"),
        before
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["manifest.json", "runs.csv", "summary.csv"]);
}

/// A parameter given twice, by two `--set`s or by `--set` and `--vary`, is
/// refused by every command that takes them, naming the parameter (issue 16:
/// the last `--set` silently won, and a sweep recorded the `--set` value in
/// its manifest while varying the parameter).
#[test]
fn a_parameter_set_twice_or_set_and_varied_is_refused() {
    let s = "scenarios/west2025.toml";
    let t = "scenarios/targets/west2025.toml";
    let twice = "parameter `close_prob` is set twice";
    let both = "error: parameter `close_prob` is both --set and --vary; drop one";
    let sets = ["--set", "close_prob=0.2", "--set", "close_prob=0.5"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        ([&["run", s, "--reps", "2"][..], &sets].concat(), twice),
        (
            [
                &[
                    "sweep",
                    s,
                    "--vary",
                    "half_life=7,14",
                    "--reps",
                    "2",
                    "--out",
                    "x",
                ][..],
                &sets,
            ]
            .concat(),
            twice,
        ),
        ([&["paths", s, "--reps", "2"][..], &sets].concat(), twice),
        (
            [
                &[
                    "sensitivity",
                    s,
                    "--vary",
                    "half_life",
                    "--method",
                    "morris:2",
                    "--reps",
                    "2",
                ][..],
                &sets,
            ]
            .concat(),
            twice,
        ),
        (
            [
                &[
                    "calibrate",
                    s,
                    "--targets",
                    t,
                    "--vary",
                    "half_life",
                    "--particles",
                    "2",
                ][..],
                &sets,
            ]
            .concat(),
            twice,
        ),
        (
            vec![
                "compare",
                s,
                "--a",
                "close_prob=0.2,close_prob=0.5",
                "--b",
                "close_prob=1",
            ],
            "error: --a: parameter `close_prob` is set twice",
        ),
        (
            vec![
                "sweep",
                s,
                "--vary",
                "close_prob=0,0.1",
                "--set",
                "close_prob=0.2",
                "--reps",
                "2",
                "--out",
                "x",
            ],
            both,
        ),
        (
            vec![
                "sweep",
                s,
                "--vary",
                "close_prob",
                "--design",
                "lhs:2",
                "--set",
                "close_prob=0.2",
                "--reps",
                "2",
                "--out",
                "x",
            ],
            both,
        ),
        (
            vec![
                "sensitivity",
                s,
                "--vary",
                "close_prob",
                "--method",
                "morris:2",
                "--set",
                "close_prob=0.2",
                "--reps",
                "2",
            ],
            both,
        ),
        (
            vec![
                "calibrate",
                s,
                "--targets",
                t,
                "--vary",
                "close_prob",
                "--set",
                "close_prob=0.2",
                "--particles",
                "2",
            ],
            both,
        ),
    ];
    let dir = temp_dir("set-twice");
    for (args, expected) in cases {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if *a == "x" {
                    dir.join("out").display().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = flashpoint(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!dir.join("out").exists(), "{args:?} wrote its --out");
    }
}
