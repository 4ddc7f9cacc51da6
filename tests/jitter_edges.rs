//! What a schedule entry's jitter does at the edges of [0, horizon]:
//! `jitter_edges = "clamp"` (the default) moves a time outside to the edge,
//! `"censor"` drops the event.

mod common;
use common::{column_values, load_error, mean_var, scenario};

/// `late` at 9 with jitter uniform on [0, 4]: P(past the horizon 10) = 3/4.
/// `early` at 1 with jitter uniform on [-4, 0]: P(before 0) = 3/4.
fn text(edges: &str) -> String {
    format!(
        r#"
[scenario]
name = "edges"
horizon = 10
seed = 3
{edges}

[[actor]]
id = "A"

[[event]]
id = "late"

[[event]]
id = "early"

[[schedule]]
event = "late"
at = 9
jitter = {{ uniform = {{ min = 0, max = 4 }} }}

[[schedule]]
event = "early"
at = 1
jitter = {{ uniform = {{ min = -4, max = 0 }} }}

[[outcome]]
name = "late_at_horizon"
value = "if count(late) > 0 and first(late) == 10 then 1 else 0"

[[outcome]]
name = "early_at_zero"
value = "if count(early) > 0 and first(early) == 0 then 1 else 0"
"#
    )
}

const N: u64 = 4000;

fn mean(text: &str, column: &str) -> f64 {
    mean_var(&column_values(&scenario(text), column, 1, N)).0
}

/// Four standard errors of a share near 3/4 (or 1/4) of N.
fn tol() -> f64 {
    4.0 * (0.75f64 * 0.25 / N as f64).sqrt()
}

#[test]
fn clamping_piles_three_quarters_of_the_events_on_the_edges() {
    for edges in ["", "jitter_edges = \"clamp\""] {
        let t = text(edges);
        assert!((mean(&t, "late_at_horizon") - 0.75).abs() < tol());
        assert!((mean(&t, "early_at_zero") - 0.75).abs() < tol());
        assert_eq!(mean(&t, "count_late"), 1.0);
        assert_eq!(mean(&t, "count_early"), 1.0);
    }
    // The default is clamping, value for value.
    let (default, clamp) = (text(""), text("jitter_edges = \"clamp\""));
    for col in ["late_at_horizon", "early_at_zero"] {
        assert_eq!(
            column_values(&scenario(&default), col, 1, 200),
            column_values(&scenario(&clamp), col, 1, 200)
        );
    }
}

#[test]
fn censoring_drops_events_jittered_outside_the_window() {
    let t = text("jitter_edges = \"censor\"");
    assert_eq!(mean(&t, "late_at_horizon"), 0.0);
    assert_eq!(mean(&t, "early_at_zero"), 0.0);
    assert!((mean(&t, "count_late") - 0.25).abs() < tol());
    assert!((mean(&t, "count_early") - 0.25).abs() < tol());
    // An entry's own setting overrides the scenario's.
    let mixed = t.replace("at = 9\n", "at = 9\njitter_edges = \"clamp\"\n");
    assert!((mean(&mixed, "late_at_horizon") - 0.75).abs() < tol());
    assert!((mean(&mixed, "count_early") - 0.25).abs() < tol());
}

#[test]
fn bad_jitter_edges_are_located_errors() {
    let e = load_error(&text("jitter_edges = \"censored\""));
    assert!(
        e.contains("test.toml:6:16: error: unknown jitter_edges `censored`; expected \"clamp\" or \"censor\"")
            && e.contains("did you mean `censor`?"),
        "{e}"
    );
    let e = load_error(&text("").replace(
        "at = 1\n",
        "at = 1\njitter_edges = \"censor\"\njitter_edges_x = 1\n",
    ));
    assert!(e.contains("jitter_edges_x"), "{e}");
    let no_jitter = text("").replace(
        "at = 1\njitter = { uniform = { min = -4, max = 0 } }\n",
        "at = 1\njitter_edges = \"censor\"\n",
    );
    let e = load_error(&no_jitter);
    assert!(
        e.contains("error: `jitter_edges` needs a `jitter` on the same schedule entry"),
        "{e}"
    );
}
