//! History windows and filters: `count(e, W)` and `from =` / `to =` on
//! `count`, `since`, `first` and `last`. Exact values on scheduled events,
//! a closed form for a Poisson hazard, thinning against a windowed count,
//! and the errors for bad uses.

mod common;
use common::*;

/// Three actors, pings from A to B at 1, from B to A at 2, from A to C at 3
/// and from A to B at 3.5; horizon 4 (nothing happens after 3.5, so the
/// outcomes read the state at the horizon).
const PINGS: &str = r#"
[scenario]
name = "pings"
horizon = 4
[params]
w = 2
[[actor]]
id = "A"
[[actor]]
id = "B"
[[actor]]
id = "C"
[[event]]
id = "ping"
[[schedule]]
event = "ping"
at = 1
source = "A"
target = "B"
[[schedule]]
event = "ping"
at = 2
source = "B"
target = "A"
[[schedule]]
event = "ping"
at = 3
source = "A"
target = "C"
[[schedule]]
event = "ping"
at = 3.5
source = "A"
target = "B"
"#;

fn outcome(expr: &str) -> f64 {
    let text = format!("{PINGS}[[outcome]]\nname = \"x\"\nvalue = \"{expr}\"\n");
    column_values(&scenario(&text), "x", 1, 1)[0]
}

#[test]
fn filters_select_by_source_and_target() {
    assert_eq!(outcome("count(ping, from = A)"), 3.0);
    assert_eq!(outcome("count(ping, to = B)"), 2.0);
    assert_eq!(outcome("count(ping, from = A, to = B)"), 2.0);
    assert_eq!(outcome("count(ping, to = A, from = B)"), 1.0);
    assert_eq!(outcome("count(ping, from = C)"), 0.0);
    assert_eq!(outcome("first(ping, to = C)"), 3.0);
    assert_eq!(outcome("last(ping, from = B)"), 2.0);
    assert_eq!(outcome("since(ping, to = B)"), 0.5);
    assert_eq!(outcome("since(ping, from = C)"), f64::INFINITY);
    assert_eq!(outcome("first(ping, from = C)"), f64::INFINITY);
    assert_eq!(outcome("last(ping, from = C)"), f64::NEG_INFINITY);
}

#[test]
fn a_window_counts_the_half_open_interval_up_to_now() {
    // At t = 4: (2, 4] holds 3 and 3.5; (1, 4] adds 2; (0.5, 4] adds 1.
    assert_eq!(outcome("count(ping, 2)"), 2.0);
    assert_eq!(outcome("count(ping, w)"), 2.0);
    assert_eq!(outcome("count(ping, 3)"), 3.0);
    assert_eq!(outcome("count(ping, 3.5)"), 4.0);
    assert_eq!(outcome("count(ping, 0)"), 0.0);
    assert_eq!(outcome("count(ping, inf)"), 4.0);
    assert_eq!(outcome("count(ping, 2 * w, from = A)"), 3.0);
    assert_eq!(outcome("count(ping, 1, to = B)"), 1.0);
    // Several windows on one slot share it; each stays exact.
    assert_eq!(outcome("count(ping, 0.75) + 10 * count(ping, 3)"), 31.0);
}

#[test]
fn a_rule_sees_the_window_including_its_trigger() {
    // The third ping within 2.5 time units (at 3) triggers the alarm: at 3
    // the window (0.5, 3] holds 1, 2 and 3.
    let text = format!(
        "{PINGS}[[event]]\nid = \"alarm\"\n[[rule]]\nname = \"r\"\nactor = \"A\"\non = \"ping\"\n\
         when = \"count(ping, 2.5) >= 3\"\nonce = true\nemit = {{ event = \"alarm\" }}\n\
         [[outcome]]\nname = \"at\"\nvalue = \"first(alarm)\"\n"
    );
    assert_eq!(column_values(&scenario(&text), "at", 1, 1), vec![3.0]);
}

/// `count(e, W)` at the horizon of a rate-λ Poisson hazard is Poisson with
/// mean λ·W (here 2·5 = 10; with 4000 replications its standard error is
/// sqrt(10/4000) = 0.05, and the test allows 4 of them).
#[test]
fn a_window_over_a_poisson_hazard_has_mean_rate_times_window() {
    let text = r#"
[scenario]
name = "poisson"
horizon = 50
[params]
w = 5
[[actor]]
id = "A"
[[event]]
id = "ping"
[[hazard]]
name = "h"
event = "ping"
rate = 2
[[outcome]]
name = "recent"
value = "count(ping, w)"
"#;
    let values = column_values(&scenario(text), "recent", 3, 4000);
    let (mean, var) = mean_var(&values);
    assert!((mean - 10.0).abs() < 4.0 * 0.05, "mean {mean}");
    assert!((var - 10.0).abs() < 1.5, "variance {var}");
}

/// A hazard whose rate reads a windowed count (self-excitation over the
/// last time unit) is thinned against a bound that must hold while old
/// events age out: no "rate above its bound" error in 2000 replications,
/// and the mean count exceeds the base rate's 1 per unit of time.
#[test]
fn thinning_holds_for_a_rate_that_reads_a_window() {
    let text = r#"
[scenario]
name = "excite"
horizon = 20
[[actor]]
id = "A"
[[event]]
id = "ping"
[[hazard]]
name = "h"
event = "ping"
rate = "1 + 0.5 * count(ping, 1)"
"#;
    let values = column_values(&scenario(text), "count_ping", 5, 2000);
    let (mean, _) = mean_var(&values);
    // Stationary rate λ = 1 / (1 - 0.5) = 2: about 40 events, fewer from the
    // start-up; clearly above the unexcited 20.
    assert!(mean > 30.0 && mean < 41.0, "mean {mean}");
}

#[test]
fn bad_uses_get_located_plain_errors() {
    let cases = [
        ("since(ping, 3)", "`since` takes one event and optional `from =` / `to =` filters; only `count` takes a time window"),
        ("count(ping, t)", "the window of `count` must be a number or an expression of parameters"),
        ("count(ping, frm = A)", "`count` has no argument `frm`"),
        ("count(ping, from = ZZ)", "unknown actor `ZZ`"),
        ("count(ping, from = A, from = B)", "`from` is given twice"),
        ("min(1, 2, x = 3)", "`min` takes no named arguments"),
        ("count(ping, from = A, 2)", "a positional argument after a named one"),
    ];
    for (expr, message) in cases {
        let text = format!("{PINGS}[[outcome]]\nname = \"x\"\nvalue = \"{expr}\"\n");
        let e = load_error(&text);
        assert!(e.contains(message), "{expr}: {e}");
        assert!(e.contains("test.toml:"), "{expr}: not located: {e}");
    }
    let e = load_error(&format!(
        "{PINGS}[[outcome]]\nname = \"x\"\nvalue = \"count(ping, frm = A)\"\n"
    ));
    assert!(e.contains("did you mean `from`?"), "{e}");
}

#[test]
fn a_negative_window_from_a_parameter_fails_the_replication() {
    let text = format!("{PINGS}[[outcome]]\nname = \"x\"\nvalue = \"count(ping, w)\"\n");
    let s = scenario(&text);
    let mut engine = flashpoint::engine::Engine::new(&s);
    let mut row = vec![0.0; engine.n_columns()];
    let e = engine
        .run(
            &[-1.0],
            &flashpoint::rng::replication_key(1, 0, None),
            Default::default(),
            &mut row,
            None,
        )
        .expect_err("a negative window");
    assert!(
        e.to_string()
            .contains("a window of `count(ping, …)` is -1; it must be a non-negative number"),
        "{e}"
    );
}
