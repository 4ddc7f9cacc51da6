//! `flashpoint rare`: multilevel splitting against the closed-form
//! probability of war on birth–death ladders (gambler's ruin), its
//! efficiency, determinism, warnings and bad-input errors. The coverage of
//! the interval over 50 seeds is the heavy test in tests/validation.rs.

mod common;
use common::*;
use flashpoint::analysis::rare::{rare, RareConfig, RareReport, TargetSpec};
use flashpoint::Error;
use std::path::PathBuf;

const LADDER: &str = "scenarios/validation/rare_ladder.toml";

/// P(reach `top` before 0 from `start`), r = down / up: gambler's ruin.
fn exact(up: f64, down: f64, top: i32, start: i32) -> f64 {
    let r = down / up;
    (r.powi(start) - 1.0) / (r.powi(top) - 1.0)
}

fn config(set: &[(&str, f64)], seed: u64) -> RareConfig {
    RareConfig {
        scenario_path: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(LADDER),
        target: TargetSpec::Event("war".into()),
        score: "X.rung".into(),
        levels: None,
        particles: 100,
        batches: 20,
        pilot: 1000,
        overrides: set.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        seed: Some(seed),
        threads: 2,
        out: None,
        command: vec![],
    }
}

fn within_4_se(r: &RareReport, p: f64) {
    assert!(
        (r.estimate - p).abs() < 4.0 * r.se,
        "estimate {} (se {}) vs exact {p}",
        r.estimate,
        r.se
    );
    assert!(r.se > 0.0 && r.se < 0.5 * p, "se {} for p {p}", r.se);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// Three ladders with P(war) from 1e-7 to 4e-6: each estimate is within 4
/// standard errors of the exact value, with a standard error below half of
/// it.
#[test]
fn ams_matches_gamblers_ruin_on_three_ladders() {
    for (set, p) in [
        (vec![], exact(1.0, 3.0, 13, 1)),
        (vec![("down", 2.0), ("top", 18.0)], exact(1.0, 2.0, 18, 1)),
        (
            vec![("down", 5.0), ("top", 12.0), ("start", 2.0)],
            exact(1.0, 5.0, 12, 2),
        ),
    ] {
        assert!((1e-9..1e-5).contains(&p), "{p}");
        let r = rare(&config(&set, 1)).unwrap();
        within_4_se(&r, p);
        assert_eq!(r.method, "ams");
        // Every batch climbs every rung: the adaptive levels are the rungs.
        assert!(r.batches.iter().all(|b| b.extinct_at.is_none()));
    }
}

/// On the p ≈ 1.25e-6 ladder the gain over crude Monte Carlo is above 100
/// (BENCHMARKS.md reports the figure); the pilot measures the crude cost.
#[test]
fn efficiency_gain_on_the_one_in_a_million_ladder() {
    let r = rare(&config(&[], 7)).unwrap();
    within_4_se(&r, exact(1.0, 3.0, 13, 1));
    assert!(r.efficiency_gain >= 100.0, "gain {}", r.efficiency_gain);
    // A crude replication from rung 1 has 1 + 2·(expected steps) events
    // on average: (1 - p_war·13)/(3 - 1)·... about 3 here; the pilot
    // measures it exactly as `run` counts events.
    assert!(
        r.mean_events > 2.5 && r.mean_events < 3.5,
        "{}",
        r.mean_events
    );
    assert_eq!(r.pilot.reps, 1000);
    let crude = r.estimate * (1.0 - r.estimate) / (r.se * r.se);
    let cost = r.events as f64 / r.mean_events;
    assert_eq!(r.efficiency_gain, crude / cost);
}

/// Fixed-effort splitting over the rungs gives the same answer.
#[test]
fn fixed_levels_match_gamblers_ruin() {
    let mut c = config(&[], 3);
    c.levels = Some("2,3,4,5,6,7,8,9,10,11,12".into());
    let r = rare(&c).unwrap();
    within_4_se(&r, exact(1.0, 3.0, 13, 1));
    assert_eq!(r.method, "fixed");
    assert!(r.batches.iter().all(|b| b.levels.len() == 11));
}

fn run_out(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let d = dir.display().to_string();
    let mut all = vec!["rare", LADDER, "--event", "war", "--score", "X.rung"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &d]);
    flashpoint(&all)
}

/// Same seed, 1 or 2 threads: byte-identical files; another seed differs.
/// The manifest records the files and refuses a second write.
#[test]
fn threads_do_not_matter_and_seeds_do() {
    let base = temp_dir("rare-threads");
    let (one, two, other) = (base.join("one"), base.join("two"), base.join("other"));
    let args = ["--particles", "30", "--batches", "10", "--pilot", "200"];
    for (dir, threads, seed) in [(&one, "1", "5"), (&two, "2", "5"), (&other, "2", "6")] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--threads", threads, "--seed", seed]);
        ok(&run_out(&a, dir));
    }
    for f in ["rare.csv", "levels.csv", "batches.csv"] {
        assert_eq!(read(&one.join(f)), read(&two.join(f)), "{f}");
    }
    assert_ne!(read(&one.join("rare.csv")), read(&other.join("rare.csv")));
    let csv = String::from_utf8(read(&one.join("rare.csv"))).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "target",
        "estimate",
        "se",
        "ci95_lo",
        "ci95_hi",
        "levels",
        "events_simulated",
        "efficiency_gain",
    ] {
        assert!(header.split(',').any(|c| c == col), "{col} in {header}");
    }
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("event war,X.rung,ams,30,10,"));
    let manifest = String::from_utf8(read(&one.join("manifest.json"))).unwrap();
    assert!(manifest.contains("\"rare.csv\"") && manifest.contains("\"levels.csv\""));
    assert!(manifest.contains("\"kind\": \"rare\""), "{manifest}");
    let again = run_out(&args, &one);
    assert!(!again.status.success());
    let _ = std::fs::remove_dir_all(&base);
}

fn usage_error(c: &RareConfig) -> String {
    match rare(c) {
        Err(e @ Error::Invalid { .. }) => e.to_string(),
        other => panic!("expected a usage error, got {other:?}"),
    }
}

/// Each bad request is a usage error saying what is wrong and what to do.
#[test]
fn bad_input_is_named() {
    let mut c = config(&[], 1);
    c.pilot = 10;
    let with = |f: &dyn Fn(&mut RareConfig)| {
        let mut c = c.clone();
        f(&mut c);
        usage_error(&c)
    };
    let e = with(&|c| c.score = "1 + 2".into());
    assert!(e.contains("--score `1 + 2` reads nothing"), "{e}");
    let e = with(&|c| c.score = "2 * top".into());
    assert!(e.contains("reads only parameters"), "{e}");
    let e = with(&|c| c.score = "X.rung > 3".into());
    assert!(e.contains("--score:1:1") && e.contains("number"), "{e}");
    let e = with(&|c| c.score = "X.rang".into());
    assert!(
        e.contains("--score:1:") && e.contains("did you mean `rung`?"),
        "{e}"
    );
    let e = with(&|c| c.target = TargetSpec::Event("climb".into()));
    assert!(
        e.contains("`climb` is not a terminal event")
            && e.contains("terminal events: `war`, `settlement`"),
        "{e}"
    );
    let e = with(&|c| c.target = TargetSpec::Event("wr".into()));
    assert!(e.contains("unknown event `wr`; did you mean `war`?"), "{e}");
    let e = with(&|c| c.target = TargetSpec::When("X.rung".into()));
    assert!(e.contains("--when:1:1"), "{e}");
    let e = with(&|c| c.levels = Some("2,5,4".into()));
    assert!(e.contains("strictly increasing: 4 comes after 5"), "{e}");
    let e = with(&|c| c.levels = Some("2,x".into()));
    assert!(e.contains("`x` is not a number"), "{e}");
    let e = with(&|c| c.batches = 5);
    assert!(e.contains("--batches must be between 10"), "{e}");
    let e = with(&|c| c.particles = 1);
    assert!(e.contains("--particles must be between 2"), "{e}");
    // An unknown parameter in --set names the nearest.
    let mut bad = c.clone();
    bad.overrides = vec![("dwn".into(), 2.0)];
    let e = rare(&bad).unwrap_err().to_string();
    assert!(e.contains("did you mean `down`?"), "{e}");
    // The CLI: exactly one target.
    let out = flashpoint(&["rare", LADDER, "--score", "X.rung"]);
    assert_eq!(out.status.code(), Some(2));
    let out = flashpoint(&[
        "rare", LADDER, "--event", "war", "--score", "X.rung", "--levels", "3,1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("strictly increasing"));
}

/// A score that never rises in any particle is an error with the numbers.
#[test]
fn a_score_that_never_rises_is_an_error() {
    let mut c = config(&[], 1);
    c.score = "count(war)".into();
    c.particles = 20;
    c.batches = 10;
    c.pilot = 10;
    let e = usage_error(&c);
    assert!(
        e.contains(
            "never rose above its value at time 0 (0) in any of the 20 particles of the 10 batches"
        ),
        "{e}"
    );
}

/// Too few particles: levels with few survivors, and batches where every
/// particle stopped at one level, are reported with the level and batch.
#[test]
fn few_survivors_and_extinct_batches_are_warned() {
    let mut c = config(&[], 2);
    c.particles = 4;
    c.pilot = 10;
    let r = rare(&c).unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("kept fewer than 5 survivors of 4 particles")
                && w.contains("at level")
                && w.contains("of batch")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("batches stopped with every particle at or below one level")),
        "{:?}",
        r.warnings
    );
}

/// A target reached without the score passing the levels: fixed levels
/// beyond the top rung are never crossed on the way to war.
#[test]
fn a_target_reached_below_the_levels_is_warned() {
    let mut c = config(&[("down", 2.0), ("top", 5.0)], 4);
    c.levels = Some("3,50".into());
    c.pilot = 10;
    let r = rare(&c).unwrap();
    within_4_se_loose(&r, exact(1.0, 2.0, 5, 1));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("reached it without their score passing the last level")),
        "{:?}",
        r.warnings
    );
}

/// Unbiased whatever the score: the estimate still holds, only the
/// warnings say the score is poor.
fn within_4_se_loose(r: &RareReport, p: f64) {
    assert!(
        (r.estimate - p).abs() < 4.0 * r.se,
        "estimate {} (se {}) vs exact {p}",
        r.estimate,
        r.se
    );
}

/// `--when` at the end of a replication: the same probability as the
/// terminal event it implies.
#[test]
fn a_condition_at_the_end_is_a_target() {
    let mut c = config(&[("down", 2.0), ("top", 18.0)], 8);
    c.target = TargetSpec::When("count(war) > 0".into());
    let r = rare(&c).unwrap();
    within_4_se(&r, exact(1.0, 2.0, 18, 1));
}

/// Every command of docs/rare-events.md runs, and each output line the page
/// quotes (the estimate rows, the crude runs' rows) is what the command
/// prints now.
#[test]
fn the_docs_page_commands_run_and_print_what_it_quotes() {
    let page = include_str!("../docs/rare-events.md");
    let lines = doc_commands(page);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let dir = run_commands_in_scratch("rare-docs", &[]);
    for line in lines {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("the binary runs");
        ok(&out);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let quoted: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                l.starts_with(|c: char| c.is_ascii_digit())
                    && l.contains('[')
                    && !l.contains("replications")
                    || l.starts_with("run ended by war ")
                    || l.starts_with("run ended by armed_clash")
                    || l.starts_with("cost:")
                    || l.starts_with("efficiency gain:")
            })
            .collect();
        assert!(!quoted.is_empty(), "{line}: nothing to compare");
        for q in quoted {
            assert!(page.contains(q), "{line}: the page does not quote\n{q}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A score with a new maximum at every event keeps a state per maximum,
/// up to a bound: past it the batch fails with a message, never unbounded
/// memory.
#[test]
fn a_score_rising_at_every_event_is_bounded() {
    let dir = temp_dir("rare-bounded");
    let path = dir.join("pings.toml");
    std::fs::write(
        &path,
        r#"
[scenario]
name = "pings"
horizon = 1
[[actor]]
id = "A"
[[event]]
id = "ping"
[[hazard]]
name = "pings"
event = "ping"
rate = "20000"
[[outcome]]
name = "n"
value = "count(ping)"
"#,
    )
    .unwrap();
    let mut c = config(&[], 1);
    c.scenario_path = path;
    c.overrides.clear();
    c.target = TargetSpec::When("count(ping) > 30000".into());
    c.score = "count(ping)".into();
    c.particles = 2;
    c.batches = 10;
    c.pilot = 1;
    let e = rare(&c).unwrap_err().to_string();
    assert!(
        e.contains("particle 0 of batch 0")
            && e.contains("the score set a new maximum more than 4096 times"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
