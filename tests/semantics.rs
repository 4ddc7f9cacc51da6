//! The semantics that docs/scenario-language.md ("Semantics, exactly")
//! writes down, each pinned by a deterministic scenario: `once` and re-checks,
//! what a triggered rule sees, the horizon, terminal events, cooldowns,
//! jitter, the event budget and non-finite outcomes.

mod common;
use common::*;
use flashpoint::engine::Engine;
use flashpoint::rng::replication_key;

/// A one-actor scenario with horizon 10 and the given tables appended.
fn with(body: &str) -> String {
    format!(
        "[scenario]\nname = \"semantics\"\nhorizon = 10\n\
         [[actor]]\nid = \"A\"\nstate = {{ ok = true, x = 0 }}\n{body}"
    )
}

/// The value of column `name` in replication 0.
fn value(text: &str, name: &str) -> f64 {
    column_values(&scenario(text), name, 1, 1)[0]
}

#[test]
fn once_is_not_used_up_by_a_firing_that_its_recheck_cancels() {
    // Pinged at 1, the rule would emit at 3, but `ok` is false from 2 to 4;
    // pinged again at 5, it emits at 7. A pending firing also makes a
    // `once` rule ignore the ping at 1.5.
    let text = with(
        r#"
[[event]]
id = "ping"
[[event]]
id = "off"
effects = ["A.ok = false"]
[[event]]
id = "on"
effects = ["A.ok = true"]
[[event]]
id = "out"
[[schedule]]
event = "ping"
at = 1
[[schedule]]
event = "ping"
at = 1.5
[[schedule]]
event = "off"
at = 2
[[schedule]]
event = "on"
at = 4
[[schedule]]
event = "ping"
at = 5
[[rule]]
name = "r"
actor = "A"
on = "ping"
when = "A.ok"
delay = { fixed = 2 }
once = true
emit = { event = "out" }
[[outcome]]
name = "first_out"
value = "first(out)"
"#,
    );
    assert_eq!(value(&text, "count_out"), 1.0);
    assert_eq!(value(&text, "first_out"), 7.0);
}

#[test]
fn a_triggered_rule_sees_the_state_after_its_trigger_and_counts_include_it() {
    let text = with(
        r#"
[[event]]
id = "bump"
effects = ["A.x += 1"]
[[event]]
id = "seen"
[[schedule]]
event = "bump"
at = 1
[[rule]]
name = "r"
actor = "A"
on = "bump"
when = "A.x == 1 and count(bump) == 1 and since(bump) == 0 and first(bump) == t and last(bump) == t"
prob = "if A.x == 1 then 1 else 0"
delay = { fixed = "A.x" }
recheck = false
emit = { event = "seen" }
[[outcome]]
name = "seen_at"
value = "first(seen)"
"#,
    );
    assert_eq!(value(&text, "count_seen"), 1.0);
    assert_eq!(value(&text, "seen_at"), 2.0, "the delay read A.x = 1");
}

#[test]
fn events_at_exactly_the_horizon_happen() {
    let text = with(
        r#"
[[event]]
id = "ping"
[[event]]
id = "late"
[[schedule]]
event = "ping"
at = 1
[[schedule]]
event = "ping"
at = 10
[[rule]]
name = "r"
actor = "A"
on = "ping"
when = "t == 1"
delay = { fixed = 9 }
recheck = false
emit = { event = "late" }
"#,
    );
    assert_eq!(value(&text, "count_ping"), 2.0);
    assert_eq!(value(&text, "count_late"), 1.0);
    assert_eq!(value(&text, "end_time"), 10.0);
}

#[test]
fn nothing_happens_after_a_terminal_event_not_even_at_the_same_time() {
    let text = with(
        r#"
[[event]]
id = "end"
terminal = true
[[event]]
id = "after"
[[schedule]]
event = "end"
at = 5
[[schedule]]
event = "after"
at = 5
[[rule]]
name = "r"
actor = "A"
on = "end"
emit = { event = "after" }
"#,
    );
    assert_eq!(value(&text, "count_end"), 1.0);
    assert_eq!(value(&text, "count_after"), 0.0);
    assert_eq!(value(&text, "end_time"), 5.0);
}

#[test]
fn a_cooldown_runs_from_the_last_emission_and_is_checked_at_trigger_and_emission() {
    // Pings at 1 and 1.5 are both accepted (nothing emitted yet); the first
    // emits at 2, the second is dropped at 2.5 (0.5 < 3 after the emission).
    // The ping at 4 is refused at trigger time (2 < 3); the ping at 6 emits
    // at 7.
    let text = with(
        r#"
[[event]]
id = "ping"
[[event]]
id = "out"
[[schedule]]
event = "ping"
at = 1
[[schedule]]
event = "ping"
at = 1.5
[[schedule]]
event = "ping"
at = 4
[[schedule]]
event = "ping"
at = 6
[[rule]]
name = "r"
actor = "A"
on = "ping"
delay = { fixed = 1 }
cooldown = 3
emit = { event = "out" }
[[outcome]]
name = "first_out"
value = "first(out)"
[[outcome]]
name = "last_out"
value = "last(out)"
"#,
    );
    assert_eq!(value(&text, "count_out"), 2.0);
    assert_eq!(value(&text, "first_out"), 2.0);
    assert_eq!(value(&text, "last_out"), 7.0);
}

#[test]
fn any_delay_form_is_a_jitter_negative_values_included_then_clamped() {
    let text = with(
        r#"
[[event]]
id = "early"
[[event]]
id = "late"
[[schedule]]
event = "early"
at = 1
jitter = { fixed = -5 }
[[schedule]]
event = "late"
at = 9
jitter = { uniform = { min = 2, max = 3 } }
[[outcome]]
name = "early_at"
value = "first(early)"
[[outcome]]
name = "late_at"
value = "first(late)"
"#,
    );
    assert_eq!(value(&text, "early_at"), 0.0);
    assert_eq!(value(&text, "late_at"), 10.0);
}

#[test]
fn source_and_target_are_refused_in_a_hazard_rate() {
    let text = with(
        r#"
[[event]]
id = "ping"
[[hazard]]
name = "h"
event = "ping"
rate = "source.x"
"#,
    );
    let e = load_error(&text);
    assert!(
        e.contains("`source` is only available in rules and event effects"),
        "{e}"
    );
}

/// The result of replication 0 of a scenario whose schedule holds `n` pings
/// and whose budget is 5.
fn run_with_pings(n: usize) -> Result<f64, String> {
    let pings: String = (0..n)
        .map(|i| format!("[[schedule]]\nevent = \"ping\"\nat = {}\n", i + 1))
        .collect();
    let text = format!(
        "[scenario]\nname = \"budget\"\nhorizon = 10\nevent_budget = 5\n\
         [[actor]]\nid = \"A\"\n[[event]]\nid = \"ping\"\n{pings}"
    );
    let s = scenario(&text);
    let mut engine = Engine::new(&s);
    let mut row = vec![0.0; engine.n_columns()];
    let n_events = flashpoint::engine::columns(&s)
        .iter()
        .position(|c| c.name == "n_events")
        .expect("n_events");
    engine
        .run(
            &[],
            &replication_key(1, 0, None),
            Default::default(),
            &mut row,
            None,
        )
        .map(|()| row[n_events])
        .map_err(|e| e.to_string())
}

#[test]
fn exactly_event_budget_events_are_allowed() {
    assert_eq!(run_with_pings(5), Ok(5.0));
    let e = run_with_pings(6).expect_err("a sixth event exceeds the budget");
    assert!(e.starts_with("event budget of 5 exceeded at t = 6"), "{e}");
}

#[test]
fn non_finite_outcomes_are_counted_apart_in_the_summary() {
    let dir = temp_dir("semantics-nonfinite");
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        with(
            r#"
[[event]]
id = "ping"
[[outcome]]
name = "never"
value = "since(ping)"
"#,
        ),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(["run", "s.toml", "--reps", "3", "--out", "out", "--quiet"])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = std::fs::read_to_string(dir.join("out/runs.csv")).expect("runs.csv");
    assert!(runs.lines().nth(1).unwrap().starts_with("0,inf,"), "{runs}");
    let summary = std::fs::read_to_string(dir.join("out/summary.csv")).expect("summary");
    let row = summary.lines().find(|l| l.starts_with("never,")).unwrap();
    assert_eq!(row, "never,numeric,,0,,,,,,,,");
}
