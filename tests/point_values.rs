//! Values fixed by the parameter point that may be expressions of
//! parameters: a rule's `cooldown`. Exact emission times, and the errors.

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
