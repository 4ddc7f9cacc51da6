//! Values fixed by the parameter point that may be expressions of
//! parameters: a rule's `cooldown` and a tension's `thresholds`. Exact
//! values, and the errors.

mod common;
use common::*;

fn pings(cooldown: &str, cd: f64) -> String {
    format!(
        r#"
[scenario]
name = "cooldown"
horizon = 10
[params]
cd = {cd:?}
[[actor]]
id = "A"
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
delay = {{ fixed = 1 }}
cooldown = {cooldown}
emit = {{ event = "out" }}
[[outcome]]
name = "last_out"
value = "last(out)"
"#
    )
}

fn value(text: &str, column: &str) -> f64 {
    column_values(&scenario(text), column, 1, 1)[0]
}

#[test]
fn a_cooldown_from_a_parameter_acts_as_its_value() {
    // As tests/semantics.rs with `cooldown = 3`: the second ping's firing
    // is dropped and the third refused.
    for text in [
        pings("3", 0.0),
        pings("\"cd\"", 3.0),
        pings("\"cd - 1 + 1\"", 3.0),
    ] {
        assert_eq!(value(&text, "count_out"), 2.0);
        assert_eq!(value(&text, "last_out"), 7.0);
    }
    // A cooldown of 0.4 lets every ping through.
    let text = pings("\"cd\"", 0.4);
    assert_eq!(value(&text, "count_out"), 4.0);
}

#[test]
fn a_bad_cooldown_is_a_located_or_a_run_time_error() {
    let want = "`cooldown` must be a non-negative number or an expression of parameters";
    for bad in ["\"t + 1\"", "\"count(ping)\"", "-1", "true"] {
        let err = load_error(&pings(bad, 1.0));
        assert!(
            err.contains(&format!("test.toml:30:12: error: {want}")),
            "{bad}: {err}"
        );
    }
    let err = load_error(&pings("\"cdd\"", 1.0));
    assert!(err.contains("unknown parameter `cdd`"), "{err}");
    let s = scenario(&pings("\"cd\"", -2.0));
    let e = first_replication_error(&s, "the cooldown is negative").to_string();
    assert!(
        e.contains("rule `r`: `cooldown` is -2; it must be a non-negative number"),
        "{e}"
    );
}

/// A tension that starts at 1 and halves every time unit, with the given
/// thresholds and `thr = {thr}`.
fn decaying(thresholds: &str, thr: f64) -> String {
    format!(
        r#"
[scenario]
name = "thresholds"
horizon = 10
[params]
thr = {thr:?}
[[actor]]
id = "A"
[[actor]]
id = "B"
[[tension]]
between = ["A", "B"]
initial = 1
baseline = 0
half_life = 1
thresholds = {thresholds}
"#
    )
}

#[test]
fn a_threshold_from_a_parameter_acts_as_its_value_and_names_its_column() {
    for thr in [0.25, 0.7] {
        let from_param = scenario(&decaying("[0.5, \"thr\"]", thr));
        let literal = scenario(&decaying(&format!("[0.5, {thr:?}]"), thr));
        let a = column_values(&from_param, "tension_A_B_above_thr", 1, 1)[0];
        let b = column_values(&literal, &format!("tension_A_B_above_{thr}"), 1, 1)[0];
        // 1 · 2^-t falls to x at t = log2(1/x): 2 for 0.25.
        assert_eq!(a.to_bits(), b.to_bits(), "thr = {thr}");
        assert!((a - (1.0 / thr).log2()).abs() < 1e-12, "{a}");
        let half = column_values(&from_param, "tension_A_B_above_0.5", 1, 1)[0];
        assert_eq!(half, 1.0);
    }
}

#[test]
fn bad_thresholds_are_located_or_run_time_errors() {
    let want = "a threshold must be a finite number or the name of a parameter";
    for (thresholds, message) in [
        ("[\"thr * 2\"]", want),
        ("[\"nope\"]", "unknown parameter `nope`"),
        ("[0.3, 0.3]", "threshold 0.3 is listed twice"),
        ("[\"thr\", \"thr\"]", "threshold thr is listed twice"),
        ("[true]", want),
    ] {
        let e = load_error(&decaying(thresholds, 0.5));
        assert!(e.contains(message), "{thresholds}: {e}");
        assert!(
            e.contains("test.toml:16:"),
            "{thresholds}: not located: {e}"
        );
    }
    let s = scenario(&decaying("[\"thr\"]", 0.5));
    let mut engine = flashpoint::engine::Engine::new(&s);
    let mut row = vec![0.0; engine.n_columns()];
    let e = engine
        .run(
            &[f64::INFINITY],
            &flashpoint::rng::replication_key(1, 0, None),
            Default::default(),
            &mut row,
            None,
        )
        .expect_err("an infinite threshold");
    assert!(
        e.to_string()
            .contains("tension A_B: threshold `thr` is inf; it must be a finite number"),
        "{e}"
    );
}

/// Two events scheduled at the same time; `first` records which happened
/// first. `a`'s priority is given by `a_priority`, `b`'s is 0.
fn tied(a_priority: &str, pa: f64) -> String {
    format!(
        r#"
[scenario]
name = "priority"
horizon = 10
[params]
pa = {pa:?}
[[actor]]
id = "A"
state = {{ first = 0 }}
[[event]]
id = "a"
priority = {a_priority}
effects = ["A.first = if A.first == 0 then 1 else A.first"]
[[event]]
id = "b"
effects = ["A.first = if A.first == 0 then 2 else A.first"]
[[schedule]]
event = "b"
at = 1
[[schedule]]
event = "a"
at = 1
[[event]]
id = "ping"
[[event]]
id = "x"
effects = ["A.first = if A.first == 0 then 3 else A.first"]
[[event]]
id = "y"
effects = ["A.first = if A.first == 0 then 4 else A.first"]
[[schedule]]
event = "ping"
at = 5
[[rule]]
name = "rx"
actor = "A"
on = "ping"
priority = "pa"
emit = {{ event = "x" }}
[[rule]]
name = "ry"
actor = "A"
on = "ping"
emit = {{ event = "y" }}
[[outcome]]
name = "first"
value = "A.first"
"#
    )
}

/// An event's and a rule's `priority` from a parameter order same-time
/// events as the value would: `a` (scheduled second) goes first only when
/// its priority is below `b`'s 0; the rule `rx` likewise against `ry`.
#[test]
fn a_priority_from_a_parameter_orders_ties_as_its_value() {
    let first = |p: &str, pa: f64| column_values(&scenario(&tied(p, pa)), "first", 1, 1)[0];
    assert_eq!(first("\"pa\"", -1.0), 1.0);
    assert_eq!(first("\"pa\"", 1.0), 2.0);
    assert_eq!(first("-1", 1.0), 1.0);
    assert_eq!(first("1", -1.0), 2.0);
    // The rules at t = 5, alone (event `a` at priority 1 keeps A.first at 2
    // otherwise): checked through a scenario without the t = 1 events.
    let rules_only = |pa: f64| {
        let text = tied("0", pa)
            .replace("[[schedule]]\nevent = \"b\"\nat = 1\n", "")
            .replace("[[schedule]]\nevent = \"a\"\nat = 1\n", "");
        column_values(&scenario(&text), "first", 1, 1)[0]
    };
    assert_eq!(rules_only(-1.0), 3.0);
    assert_eq!(rules_only(1.0), 4.0);
}

#[test]
fn bad_priorities_are_located_or_run_time_errors() {
    let e = load_error(&tied("1.5", 0.0));
    assert!(
        e.contains(
            "test.toml:12:12: error: `priority` must be an integer or an expression of parameters"
        ),
        "{e}"
    );
    let e = load_error(&tied("\"count(b)\"", 0.0));
    assert!(
        e.contains("`priority` must be an integer or an expression of parameters"),
        "{e}"
    );
    let s = scenario(&tied("\"pa\"", 0.0));
    let mut engine = flashpoint::engine::Engine::new(&s);
    let mut row = vec![0.0; engine.n_columns()];
    let e = engine
        .run(
            &[0.5],
            &flashpoint::rng::replication_key(1, 0, None),
            Default::default(),
            &mut row,
            None,
        )
        .expect_err("a fractional priority");
    assert!(
        e.to_string()
            .contains("event `a`: `priority` is 0.5; it must be an integer"),
        "{e}"
    );
}
