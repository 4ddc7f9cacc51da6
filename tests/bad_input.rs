//! Bad scenarios get clear errors naming file, line, column and the nearest
//! valid name — and no input makes loading panic or hang.

mod common;
use common::load_error;
use proptest::prelude::*;

const BASE: &str = r#"[scenario]
name = "base"
horizon = 30
start = 2025-09-01

[params]
p = { value = 0.5, min = 0.0, max = 1.0 }

[[actor]]
id = "POL"
state = { open = true, alert = 0 }

[[actor]]
id = "BLR"

[[tension]]
between = ["POL", "BLR"]
initial = 0.3
range = [0.0, 1.0]

[[event]]
id = "close"
effects = ["POL.open = false"]

[[event]]
id = "protest"

[[rule]]
name = "protest_closure"
actor = "BLR"
on = "close"
prob = "p"
delay = { exponential = { mean = 1.0 } }
emit = { event = "protest", target = "POL" }
"#;

/// `BASE` with `from` replaced by `to` (which must occur).
fn mutated(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "fixture does not contain {from:?}");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_fixture_loads() {
    common::scenario(BASE);
}

#[test]
fn malformed_toml() {
    assert_eq!(
        load_error(&mutated("horizon = 30", "horizon = ")),
        "test.toml:3:11: error: string values must be quoted, expected literal string
     3 | horizon = 
       |           ^
test.toml: 1 error found"
    );
}

#[test]
fn unknown_field_lists_the_valid_ones() {
    let e = load_error(&mutated("horizon = 30", "horizn = 30"));
    assert!(
        e.starts_with("test.toml:3:1: error: unknown key `horizn`"),
        "{e}"
    );
    assert!(
        e.contains("= help: did you mean `horizon`? the keys here are `name`, `description`,"),
        "{e}"
    );
}

/// serde's words (`invalid type: string "x", expected f64`) become the
/// scenario's, and a mistake in one rule does not hide one in another.
#[test]
fn shape_errors_are_in_plain_words_and_all_reported() {
    let text = r#"[scenario]
name = "t"
horizon = 10
[params]
p = "x"
[[actor]]
id = "A"
[[event]]
id = "ping"
[[tension]]
between = ["A", "A"]
range = [0.0, "inf"]
[[rule]]
name = "r"
actor = "A"
on = "ping"
emit = { event = "ping" }
recheck = "x"
[[rule]]
name = "r2"
actor = "A"
on = "ping"
emit = ["a", "b"]
[[rule]]
name = "r3"
actor = "A"
on = "ping"
emit = { event = "ping" }
once = "yes"
priority = 1.5
"#;
    let e = load_error(text);
    for expected in [
        "test.toml:5:5: error: `p` must be a number or a table like `{ value = 0.5, min = 0, max = 1 }`",
        "test.toml:12:15: error: `range` must be a number, not the string \"inf\"",
        "test.toml:18:11: error: `recheck` must be `true` or `false`, not the string \"x\"",
        "test.toml:23:8: error: `emit` must be a table like `{ event = \"…\", target = \"…\" }`, not a list",
        "test.toml:29:8: error: `once` must be `true` or `false`, not the string \"yes\"",
        "test.toml: 5 errors found",
    ] {
        assert!(e.contains(expected), "expected {expected:?} in:\n{e}");
    }
    assert!(!e.contains("f64") && !e.contains("Raw"), "{e}");
}

/// A shape error in one rule does not hide a semantic error in another:
/// the entries that have their shape are still compiled.
#[test]
fn shape_errors_do_not_hide_the_semantic_pass() {
    let text = r#"[scenario]
name = "t"
horizon = 10
[[actor]]
id = "A"
[[event]]
id = "ping"
[[rule]]
name = "r"
actor = "A"
on = "ping"
emit = { event = "ping" }
once = "yes"
[[rule]]
name = "r2"
actor = "AA"
on = "ping"
emit = { event = "pong" }
"#;
    let e = load_error(text);
    for expected in [
        "test.toml:13:8: error: `once` must be `true` or `false`, not the string \"yes\"",
        "test.toml:16:9: error: unknown actor `AA`",
        "test.toml:18:18: error: unknown event `pong`",
        "test.toml: 3 errors found",
    ] {
        assert!(e.contains(expected), "expected {expected:?} in:\n{e}");
    }
}

#[test]
fn unknown_actor_suggests_the_nearest() {
    assert_eq!(
        load_error(&mutated("actor = \"BLR\"", "actor = \"BLRR\"")),
        "test.toml:30:9: error: unknown actor `BLRR`
    30 | actor = \"BLRR\"
       |         ^^^^^^
       = help: did you mean `BLR`?
test.toml: 1 error found"
    );
}

#[test]
fn unknown_event_in_an_expression_points_inside_the_string() {
    assert_eq!(
        load_error(&mutated(
            "prob = \"p\"",
            "prob = \"if count(closed) > 0 then p else 0\""
        )),
        "test.toml:32:18: error: unknown event `closed`
    32 | prob = \"if count(closed) > 0 then p else 0\"
       |                  ^^^^^^
       = help: did you mean `close`?
test.toml: 1 error found"
    );
}

#[test]
fn type_errors_in_expressions() {
    let e = load_error(&mutated("prob = \"p\"", "prob = \"POL.open\""));
    assert!(
        e.starts_with("test.toml:32:9: error: expected a number, found a boolean"),
        "{e}"
    );
}

#[test]
fn probability_outside_unit_interval() {
    let e = load_error(&mutated("prob = \"p\"", "prob = 1.5"));
    assert!(
        e.starts_with("test.toml:32:8: error: a probability must be within [0, 1], got 1.5"),
        "{e}"
    );
}

#[test]
fn negative_and_nan_delays() {
    let e = load_error(&mutated("mean = 1.0", "mean = -1.0"));
    assert!(
        e.contains("test.toml:33:9: error: exponential mean must be positive, got -1"),
        "{e}"
    );
    let e = load_error(&mutated("mean = 1.0", "mean = nan"));
    assert!(
        e.contains("test.toml:33:34: error: NaN is not a valid value"),
        "{e}"
    );
}

#[test]
fn schedule_beyond_the_horizon() {
    let text = format!("{BASE}\n[[schedule]]\nevent = \"close\"\nat = 2025-12-01\n");
    let e = load_error(&text);
    assert!(
        e.contains("error: scheduled at 91, outside [0, horizon = 30]"),
        "{e}"
    );
}

#[test]
fn duplicate_ids() {
    let e = load_error(&mutated("id = \"BLR\"", "id = \"POL\""));
    assert!(
        e.contains("test.toml:14:6: error: duplicate actor id `POL`"),
        "{e}"
    );
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let text = mutated("actor = \"BLR\"", "actor = \"XX\"")
        .replace("prob = \"p\"", "prob = \"q\"")
        .replace(
            "effects = [\"POL.open = false\"]",
            "effects = [\"POL.opn = false\"]",
        );
    let e = load_error(&text);
    assert!(e.ends_with("test.toml: 3 errors found"), "{e}");
    assert!(e.contains("unknown actor `XX`"), "{e}");
    assert!(e.contains("unknown parameter `q`"), "{e}");
    assert!(e.contains("`opn`"), "{e}");
}

#[test]
fn parameter_default_outside_its_bounds() {
    let e = load_error(&mutated("value = 0.5", "value = 1.5"));
    assert!(
        e.contains("error: parameter `p` = 1.5 is outside [0, 1]"),
        "{e}"
    );
}

#[test]
fn tension_outside_its_range() {
    let e = load_error(&mutated("initial = 0.3", "initial = 3"));
    assert!(e.contains("must be finite and within [0, 1]"), "{e}");
}

const WEST2025: &str = include_str!("../scenarios/west2025.toml");

/// Loads `text`; if it loads, runs one short replication. Either way, no panic.
fn load_and_maybe_run(text: &str) {
    if let Ok(s) = flashpoint::scenario::parse("m.toml", text) {
        let mut engine = flashpoint::engine::Engine::new(&s);
        let mut row = vec![0.0; engine.n_columns()];
        let params: Vec<f64> = s.params.iter().map(|p| p.value).collect();
        let key = flashpoint::rng::replication_key(1, 0, None);
        let _ = engine.run(&params, &key, Default::default(), &mut row, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any prefix of the default scenario loads or fails cleanly.
    #[test]
    fn truncations_never_panic(cut in 0usize..WEST2025.len()) {
        let mut cut = cut;
        while !WEST2025.is_char_boundary(cut) {
            cut -= 1;
        }
        load_and_maybe_run(&WEST2025[..cut]);
    }

    /// Replacing, deleting or inserting bytes anywhere never panics.
    #[test]
    fn mutations_never_panic(edits in proptest::collection::vec((0usize..WEST2025.len(), 0u8..3, any::<u8>()), 1..8)) {
        let mut bytes = WEST2025.as_bytes().to_vec();
        for (pos, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let pos = pos.min(bytes.len() - 1);
            const ALPHABET: &[u8] = b" =\"[]{},.0123456789-+e_#\nabcxyzPOLBLR";
            let byte = ALPHABET[usize::from(byte) % ALPHABET.len()];
            match kind {
                0 => bytes[pos] = byte,
                1 => { bytes.remove(pos); }
                _ => bytes.insert(pos, byte),
            }
        }
        load_and_maybe_run(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn output_column_names_cannot_collide() {
    let e = load_error(&mutated(
        "id = \"close\"\n",
        "id = \"horizon\"\nterminal = true\n",
    ));
    assert!(
        e.contains("`horizon` names the end of a replication in the `terminal` column"),
        "{e}"
    );
    let e = load_error(&mutated(
        "range = [0.0, 1.0]",
        "range = [0.0, 1.0]\nthresholds = [0.5, 0.5]",
    ));
    assert!(e.contains("threshold 0.5 is listed twice"), "{e}");
}

#[test]
fn a_file_that_is_not_utf8_is_located_at_its_first_invalid_byte() {
    let dir = common::temp_dir("bad-input-utf8");
    let file = dir.join("latin1.toml");
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("horizon = 30").expect("horizon") + "horizon = ".len();
    bytes.insert(at, 0xff);
    std::fs::write(&file, &bytes).expect("write the scenario");
    let shown = file.to_str().expect("utf-8 path");
    let o = common::flashpoint(&["validate", shown]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "{shown}:3:11: error: byte 0xff is not UTF-8 text
     3 | horizon = \u{fffd}30
       |           ^
       = help: save the scenario as UTF-8
{shown}: 1 error found
"
        )
    );
    let e = flashpoint::scenario::load(&file).expect_err("not UTF-8");
    assert!(
        e.to_string()
            .starts_with(&format!("{shown}:3:11: error: byte 0xff")),
        "{e}"
    );
}

#[test]
fn a_tension_invalid_at_the_default_parameters_is_a_load_error() {
    let text = mutated("initial = 0.3", "initial = 0.3\nhalf_life = \"p - 1\"");
    assert_eq!(
        load_error(&text),
        "test.toml:16:1: error: tension POL_BLR: half-life -0.5 must be positive (at the parameters' default values)
    16 | [[tension]]
       | ^^^^^^^^^^^
test.toml: 1 error found"
    );
}
