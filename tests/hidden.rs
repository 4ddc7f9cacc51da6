//! Hidden bookkeeping events (`hidden = true`): they happen, trigger rules
//! and are counted, but `paths`, the CAMEO stream and the printed report of
//! `run` leave them out. Exact deterministic checks on the documented
//! example, and the located error for a mistyped value.

mod common;
use common::*;
use flashpoint::analysis::{cameo_stream, paths};
use flashpoint::engine::columns;

const DOC: &str = include_str!("../docs/scenario-language.md");

/// The first `toml` block after the heading `heading` in the language docs.
fn doc_block(heading: &str) -> &'static str {
    let at = DOC.find(heading).expect("the heading is in the docs");
    let rest = &DOC[at..];
    let start = rest.find("```toml\n").expect("a toml block follows") + 8;
    let end = rest[start..].find("```").expect("the block is closed");
    &rest[start..start + end]
}

/// The documented example, with a CAMEO code on the hidden event too, so
/// that leaving it out of the CAMEO stream is the hidden flag's doing.
fn example() -> String {
    let text = doc_block("### Bookkeeping events: `hidden`");
    assert!(text.contains("hidden = true\n"));
    text.replace("hidden = true\n", "hidden = true\ncameo = \"010\"\n")
}

fn defaults(s: &flashpoint::scenario::Scenario) -> Vec<f64> {
    s.params.iter().map(|p| p.value).collect()
}

#[test]
fn hidden_events_are_counted_and_trigger_rules() {
    let s = scenario(&example());
    assert_eq!(column_values(&s, "count_tally", 1, 3), vec![2.0; 3]);
    // `second_strike` is triggered by the hidden `tally` and still fires.
    assert_eq!(column_values(&s, "count_protest", 1, 3), vec![1.0; 3]);
    assert_eq!(column_values(&s, "n_events", 1, 3), vec![5.0; 3]);
}

#[test]
fn paths_skip_hidden_steps() {
    let s = scenario(&example());
    let group = columns(&s)
        .iter()
        .position(|c| c.name == "terminal")
        .expect("column");
    let rows = paths::top_paths(
        &s,
        &defaults(&s),
        1,
        20,
        1,
        group,
        &paths::Anchor::Deciding,
        5,
    )
    .expect("runs");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].chain, "incident -> protest (second_strike)");
    assert_eq!((rows[0].steps, rows[0].count), (2, 20));
    // Anchored at the hidden event itself: the chain up to its cause.
    let tally = s.events.iter().position(|e| e.id == "tally").unwrap() as u32;
    let rows = paths::top_paths(
        &s,
        &defaults(&s),
        1,
        20,
        1,
        group,
        &paths::Anchor::Events(vec![tally]),
        5,
    )
    .expect("runs");
    assert_eq!(rows[0].chain, "incident");
    // The same scenario without the flag shows the step.
    let shown = scenario(&example().replace("hidden = true\n", ""));
    let rows = paths::top_paths(
        &shown,
        &defaults(&shown),
        1,
        20,
        1,
        group,
        &paths::Anchor::Deciding,
        5,
    )
    .expect("runs");
    assert_eq!(
        rows[0].chain,
        "incident -> tally (keep_score) -> protest (second_strike)"
    );
}

#[test]
fn the_cameo_stream_leaves_hidden_events_out() {
    let s = scenario(&example());
    let text = cameo_stream::cameo_stream(&s, &defaults(&s), 1, 1).expect("runs");
    assert_eq!(
        text,
        "date,source,target,cameo,goldstein,quad_class,rep\n\
         1,BLR,POL,171,-9.2,material_conflict,0\n\
         2,BLR,POL,171,-9.2,material_conflict,0\n\
         2,POL,BLR,112,-2,verbal_conflict,0\n"
    );
}

#[test]
fn the_printed_report_omits_hidden_counts_but_runs_csv_keeps_them() {
    let dir = temp_dir("hidden_report");
    let file = dir.join("hidden.toml");
    std::fs::write(&file, example()).expect("writable");
    let out_dir = dir.join("out");
    let out = flashpoint(&[
        "run",
        file.to_str().unwrap(),
        "--reps",
        "4",
        "--quiet",
        "--all",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("count_incident"), "{stdout}");
    assert!(stdout.contains("count_protest"), "{stdout}");
    assert!(!stdout.contains("count_tally"), "{stdout}");
    let runs = String::from_utf8(read(&out_dir.join("runs.csv"))).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let k = header
        .iter()
        .position(|c| *c == "count_tally")
        .expect("column kept");
    for line in runs.lines().skip(1) {
        assert_eq!(line.split(',').nth(k), Some("2"), "{line}");
    }
    let summary = String::from_utf8(read(&out_dir.join("summary.csv"))).unwrap();
    assert!(
        summary.lines().any(|l| l.starts_with("count_tally,")),
        "{summary}"
    );
}

#[test]
fn a_hidden_flag_that_is_not_a_boolean_is_a_located_error() {
    let text = example().replace("hidden = true", "hidden = \"yes\"");
    let err = load_error(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("hidden = "))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("test.toml:{line}:10")), "{err}");
    assert!(
        err.contains("`hidden`") && err.contains("`true` or `false`"),
        "{err}"
    );
    assert!(!err.contains("expected a boolean"), "{err}");
}

/// A closure, then a review that re-schedules itself until the horizon:
/// bookkeeping (no effect, no CAMEO code), and the longest chain.
const REVIEWED: &str = r#"
[scenario]
name = "reviewed"
horizon = 10
[[actor]]
id = "A"
state = { open = true }
[[actor]]
id = "B"
[[event]]
id = "start"
[[event]]
id = "close"
effects = ["A.open = false"]
[[event]]
id = "review"
[[schedule]]
event = "start"
at = 1
source = "B"
target = "A"
[[rule]]
name = "closes"
actor = "A"
on = "start"
delay = { fixed = 1 }
emit = { event = "close", target = "B" }
[[rule]]
name = "reviews"
actor = "A"
on = "close"
delay = { fixed = 3 }
emit = { event = "review", target = "A" }
[[rule]]
name = "again"
actor = "A"
on = "review"
delay = { fixed = 3 }
emit = { event = "review", target = "A" }
[[outcome]]
name = "state"
cases = [{ label = "closed", when = "count(close) > 0" }, { label = "open", when = "true" }]
"#;

#[test]
fn paths_end_at_the_deciding_event_not_at_a_bookkeeping_chain() {
    let s = scenario(REVIEWED);
    let review = s.events.iter().position(|e| e.id == "review").unwrap() as u32;
    assert!(s.is_bookkeeping(review));
    assert!(!s.is_bookkeeping(review - 1), "close has an effect");
    let cols = columns(&s);
    let at = |name: &str| cols.iter().position(|c| c.name == name).unwrap();
    // Grouped by `state`: `closed` reads `close`, so its chain ends there.
    let rows =
        paths::top_paths(&s, &[], 1, 5, 1, at("state"), &paths::Anchor::Deciding, 5).unwrap();
    assert_eq!(
        (rows.len(), rows[0].chain.as_str()),
        (1, "start -> close (closes)")
    );
    // Grouped by `terminal` (horizon reads no event): the last event that
    // is not bookkeeping.
    let rows = paths::top_paths(
        &s,
        &[],
        1,
        5,
        1,
        at("terminal"),
        &paths::Anchor::Deciding,
        5,
    )
    .unwrap();
    assert_eq!(rows[0].chain, "start -> close (closes)");
    // The longest chain is the review loop (reviews at days 5 and 8).
    let rows =
        paths::top_paths(&s, &[], 1, 5, 1, at("terminal"), &paths::Anchor::Longest, 5).unwrap();
    assert_eq!(
        rows[0].chain,
        "start -> close (closes) -> review (reviews) -> review (again)"
    );
}

#[test]
fn paths_refuse_longest_with_an_anchor() {
    let dir = temp_dir("paths-longest");
    let file = dir.join("reviewed.toml");
    std::fs::write(&file, REVIEWED).unwrap();
    let config = paths::PathsConfig {
        scenario_path: file,
        overrides: vec![],
        reps: 5,
        seed: None,
        threads: 1,
        outcome: None,
        anchors: vec!["close".into()],
        longest: true,
        top: 3,
        out: None,
        command: vec![],
    };
    let e = paths::paths(&config).unwrap_err().to_string();
    assert_eq!(
        e,
        "--longest and --anchor choose the anchor two ways: give one"
    );
}
