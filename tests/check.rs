//! `flashpoint check`: a changed rule or seed fails with a report naming the
//! moved metrics; usage errors exit 2; `--update` rewrites the golden files.
//! Uses the small golden sweep (3 points × 200 replications) to stay fast.

mod common;
use common::flashpoint;
use common::temp_dir;
use flashpoint::sweep::check::{check, CheckConfig, FileOutcome};
use std::path::{Path, PathBuf};
use std::process::Output;

const GOLDEN: &str = "results/west2025-sweep";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the golden sweep in a fresh directory.
fn copy_golden(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(root().join(GOLDEN)).expect("golden dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_changed_rule_probability_fails_with_moved_metrics() {
    let dir = temp_dir("check-rule");
    let text = std::fs::read_to_string(root().join("scenarios/west2025.toml")).expect("scenario");
    let changed = text.replacen(
        "prob = \"clash_prob * tension(POL, BLR)\"",
        "prob = \"10 * clash_prob * tension(POL, BLR)\"",
        1,
    );
    assert_ne!(text, changed, "the rule to change is in the scenario");
    let scenario = dir.join("changed.toml");
    std::fs::write(&scenario, changed).expect("write");
    let out = flashpoint(&[
        "check",
        GOLDEN,
        "--scenario",
        path_str(&scenario),
        "--threads",
        "2",
    ]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("NOTE: the scenario file changed since the golden run"),
        "{report}"
    );
    assert!(report.contains("DIFFERS     summary.csv"), "{report}");
    assert!(report.contains("count_armed_clash"), "{report}");
    assert!(report.contains("terminal = armed_clash"), "{report}");
    assert!(report.contains("largest |z| first"), "{report}");
    // The golden directory is untouched.
    assert!(flashpoint(&["check", GOLDEN]).status.success());
}

#[test]
fn a_changed_seed_fails_and_the_report_is_structured() {
    let dir = copy_golden("check-seed");
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(&manifest, text.replacen("\"seed\": 42", "\"seed\": 43", 1)).expect("write");
    let report = check(&CheckConfig {
        dir: dir.clone(),
        scenario: Some(root().join("scenarios/west2025.toml")),
        threads: 2,
        update: false,
    })
    .expect("check runs");
    assert!(!report.passed());
    assert!(report.scenario_changed.is_none());
    let runs = report
        .files
        .iter()
        .find(|f| f.name == "runs.csv")
        .expect("runs.csv is compared");
    let FileOutcome::Differs(d) = &runs.outcome else {
        panic!("runs.csv should differ: {:?}", runs.outcome)
    };
    // The header matches; the first data row differs, shown field by field.
    assert_eq!(d.first[0].line, 2);
    assert_eq!(d.first[0].fields[0].0, "point");
    assert!(d.first[0].fields.len() > 1);
    let moved = report.moved_metrics();
    assert!(
        moved.iter().any(
            |m| m.key.starts_with("point 0 (close_prob=0): closure_days")
                || m.key.contains(": closure_days")
        ),
        "{}",
        report.render()
    );
    // Seed noise: most moves are within a few standard errors.
    let within = moved.iter().filter(|m| m.z().abs() < 4.0).count();
    assert!(within * 10 >= moved.len() * 8, "{}", report.render());
    // points.csv does not depend on the seed of a grid design.
    let points = report.files.iter().find(|f| f.name == "points.csv");
    assert_eq!(points.map(|f| &f.outcome), Some(&FileOutcome::Identical));
}

#[test]
fn update_rewrites_the_golden_files() {
    let dir = copy_golden("check-update");
    std::fs::write(dir.join("summary.csv"), "edited by hand\n").expect("write");
    let out = flashpoint(&["check", path_str(&dir)]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("edited by hand?"), "{}", stdout(&out));
    let out = flashpoint(&["check", path_str(&dir), "--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("updated"), "{}", stdout(&out));
    let out = flashpoint(&["check", path_str(&dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        std::fs::read(dir.join("summary.csv")).expect("summary"),
        std::fs::read(root().join(GOLDEN).join("summary.csv")).expect("golden summary")
    );
}

#[test]
fn usage_errors_exit_2() {
    let empty = temp_dir("check-empty");
    let out = flashpoint(&["check", path_str(&empty)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest.json"));

    let bad = temp_dir("check-bad-json");
    std::fs::write(bad.join("manifest.json"), "{ not json").expect("write");
    let out = flashpoint(&["check", path_str(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a flashpoint manifest"));

    let lost = copy_golden("check-lost-scenario");
    let manifest = lost.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        text.replacen(
            "\"path\": \"scenarios/west2025.toml\"",
            "\"path\": \"scenarios/nowhere.toml\"",
            1,
        ),
    )
    .expect("write");
    let out = flashpoint(&["check", path_str(&lost)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --scenario FILE"));
}

/// Validates `xml` against tests/data/junit-10.xsd with `xmllint --schema`
/// (Debian's libxml2-utils, which .ci/run installs). Returns false, after
/// saying why, when xmllint is missing outside CI (`CI` unset).
fn valid_junit(xml: &Path) -> bool {
    let xsd = root().join("tests/data/junit-10.xsd");
    match std::process::Command::new("xmllint")
        .args(["--noout", "--schema", path_str(&xsd), path_str(xml)])
        .output()
    {
        Ok(o) => {
            assert!(
                o.status.success(),
                "{} does not validate against junit-10.xsd:\n{}",
                xml.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            true
        }
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED the JUnit schema validation: xmllint not found ({e}); apt-get install libxml2-utils (CI installs it)");
            false
        }
        Err(e) => panic!("xmllint is needed in CI (.ci/run installs libxml2-utils): {e}"),
    }
}

#[test]
fn junit_has_a_failing_case_per_differing_file_and_moved_metric() {
    let dir = temp_dir("check-junit");
    let text = std::fs::read_to_string(root().join("scenarios/west2025.toml")).expect("scenario");
    let changed = text.replacen(
        "prob = \"clash_prob * tension(POL, BLR)\"",
        "prob = \"10 * clash_prob * tension(POL, BLR)\"",
        1,
    );
    let scenario = dir.join("changed.toml");
    std::fs::write(&scenario, changed).expect("write");
    let junit = dir.join("junit.xml");
    let out = flashpoint(&[
        "check",
        GOLDEN,
        "--scenario",
        path_str(&scenario),
        "--threads",
        "2",
        "--junit",
        path_str(&junit),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    // The library's report, case by case.
    let report = check(&CheckConfig {
        dir: root().join(GOLDEN),
        scenario: Some(scenario.clone()),
        threads: 2,
        update: false,
    })
    .expect("checks");
    let moved = report.moved_metrics().len();
    let differing = report
        .files
        .iter()
        .filter(|f| f.outcome != FileOutcome::Identical)
        .count();
    assert!(moved > 0 && differing > 0);
    let tests = report.files.len() + moved;
    let failures = differing + moved;
    assert!(
        xml.contains(&format!(
            "<testsuites name=\"flashpoint check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), tests);
    assert_eq!(xml.matches("<failure ").count(), failures);
    assert!(
        xml.contains(
            "name=\"summary.csv\">\n      <failure type=\"differs\" message=\"summary.csv: "
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<failure type=\"moved-metric\" message=\""),
        "{xml}"
    );
    // The report text is the system-out, escaped.
    assert!(xml.contains("largest |z| first"), "{xml}");
    assert!(!xml.contains("sqrt(se_golden² + se_fresh²) <"), "{xml}");
    valid_junit(&junit);
    // An existing file is replaced only with --force.
    let again = flashpoint(&["check", GOLDEN, "--junit", path_str(&junit)]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("already exists; choose another path or pass --force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let forced = flashpoint(&["check", GOLDEN, "--junit", path_str(&junit), "--force"]);
    assert!(forced.status.success(), "{}", stdout(&forced));
    let xml = std::fs::read_to_string(&junit).expect("junit rewritten");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    valid_junit(&junit);
}
