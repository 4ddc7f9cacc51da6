//! Rule triggers beyond `on`/`from`/`to`: `involving` (either direction),
//! with exact deterministic scenarios, the documented example and located
//! errors.

mod common;
use common::*;

const DOC: &str = include_str!("../docs/scenario-language.md");

/// The first `toml` block after the heading `heading` in the language docs.
fn doc_block(heading: &str) -> &'static str {
    let at = DOC.find(heading).expect("the heading is in the docs");
    let rest = &DOC[at..];
    let start = rest.find("```toml\n").expect("a toml block follows") + 8;
    let end = rest[start..].find("```").expect("the block is closed");
    &rest[start..start + end]
}

/// Three actors, incidents in every direction (and one without actors).
const BASE: &str = r#"
[scenario]
name = "triggers"
horizon = 10
[[actor]]
id = "POL"
[[actor]]
id = "BLR"
[[actor]]
id = "LTU"
[[event]]
id = "incident"
[[event]]
id = "alert"
[[event]]
id = "other"
[[schedule]]
event = "incident"
at = 1
source = "POL"
target = "BLR"
[[schedule]]
event = "incident"
at = 2
source = "BLR"
target = "LTU"
[[schedule]]
event = "incident"
at = 3
source = "LTU"
target = "POL"
[[schedule]]
event = "incident"
at = 4
source = "BLR"
target = "BLR"
[[schedule]]
event = "incident"
at = 5
[[outcome]]
name = "n_alert"
value = "count(alert)"
[[outcome]]
name = "first_alert"
value = "first(alert)"
[[outcome]]
name = "last_alert"
value = "last(alert)"
"#;

fn outcomes(text: &str) -> (f64, f64, f64) {
    let s = scenario(text);
    let get = |name: &str| column_values(&s, name, 1, 1)[0];
    (get("n_alert"), get("first_alert"), get("last_alert"))
}

#[test]
fn the_documented_involving_example_matches_either_direction() {
    // BLR is the target at 1, the source at 2, both at 4; not involved at 3 or 5.
    let text = format!("{BASE}{}", doc_block("### Either direction: `involving`"));
    assert_eq!(outcomes(&text), (3.0, 1.0, 4.0));
}

#[test]
fn involving_a_list_matches_any_member_in_either_role_once_per_event() {
    // POL source at 1, LTU target at 2, both LTU and POL at 3 (seen once).
    let text = format!(
        "{BASE}[[rule]]\nname = \"r\"\nactor = \"POL\"\non = \"incident\"\n\
         involving = [\"LTU\", \"POL\"]\nemit = {{ event = \"alert\" }}\n"
    );
    assert_eq!(outcomes(&text), (3.0, 1.0, 3.0));
}

#[test]
fn from_and_to_keep_their_one_direction_meaning() {
    let text = format!(
        "{BASE}[[rule]]\nname = \"r\"\nactor = \"POL\"\non = \"incident\"\n\
         to = \"BLR\"\nemit = {{ event = \"alert\" }}\n"
    );
    assert_eq!(outcomes(&text), (2.0, 1.0, 4.0));
}

#[test]
fn involving_errors_are_located_and_plain() {
    let rule = |body: &str| {
        format!(
            "{BASE}[[rule]]\nname = \"r\"\nactor = \"POL\"\non = \"incident\"\n\
             emit = {{ event = \"alert\" }}\n{body}\n"
        )
    };
    let cases = [
        (
            rule("involving = \"BLR\"\nfrom = \"POL\""),
            "`involving` matches the trigger's source or target and cannot be combined with `from`/`to`",
        ),
        (rule("involving = \"BLX\""), "unknown actor `BLX`"),
        (rule("involvng = \"BLR\""), "involving"),
    ];
    for (text, message) in cases {
        let e = load_error(&text);
        assert!(e.contains(message), "expected {message:?} in:\n{e}");
        assert!(e.contains("test.toml:"), "not located: {e}");
    }
}

/// One actor `A` with `x = 0`, `ok = true`; `step` adds 1 to `x`, `down`
/// subtracts 1, `off`/`on` set `ok`; `hit` is what the rules emit.
fn becomes(schedule: &[(&str, f64)], rule: &str) -> String {
    let mut text = String::from(
        r#"
[scenario]
name = "becomes"
horizon = 10
[[actor]]
id = "A"
state = { x = 0, ok = true }
[[actor]]
id = "B"
[[event]]
id = "step"
effects = ["A.x += 1"]
[[event]]
id = "down"
effects = ["A.x -= 1"]
[[event]]
id = "off"
effects = ["A.ok = false"]
[[event]]
id = "on"
effects = ["A.ok = true"]
[[event]]
id = "ping"
[[event]]
id = "hit"
[[outcome]]
name = "n_hit"
value = "count(hit)"
[[outcome]]
name = "first_hit"
value = "first(hit)"
[[outcome]]
name = "last_hit"
value = "last(hit)"
"#,
    );
    for (event, at) in schedule {
        let from = if *event == "ping" {
            "source = \"A\"\n"
        } else {
            ""
        };
        text += &format!("[[schedule]]\nevent = \"{event}\"\nat = {at}\n{from}");
    }
    text + "[[rule]]\nname = \"r\"\nactor = \"A\"\n" + rule + "\n"
}

fn hits(text: &str) -> (f64, f64, f64) {
    let s = scenario(text);
    let get = |name: &str| column_values(&s, name, 1, 1)[0];
    (get("n_hit"), get("first_hit"), get("last_hit"))
}

const EMIT: &str = "emit = { event = \"hit\" }";

#[test]
fn when_becomes_fires_once_when_a_stepping_variable_reaches_its_threshold() {
    // x: 0 → 1 at 1 → 2 at 2 → 3 at 3: the condition turns true at 2 only.
    let steps = [("step", 1.0), ("step", 2.0), ("step", 3.0)];
    let text = becomes(&steps, &format!("when_becomes = \"A.x >= 2\"\n{EMIT}"));
    assert_eq!(hits(&text), (1.0, 2.0, 2.0));
    // With a delay the emission follows the crossing by exactly that delay.
    let text = becomes(
        &steps,
        &format!("when_becomes = \"A.x >= 2\"\ndelay = {{ fixed = 0.5 }}\n{EMIT}"),
    );
    assert_eq!(hits(&text), (1.0, 2.5, 2.5));
}

#[test]
fn when_becomes_fires_at_each_false_to_true_crossing() {
    // x >= 1: true at 1, false at 3, true at 5; still true after 6's step
    // (no new crossing), and the ping at 4 changes nothing it reads.
    let schedule = [
        ("step", 1.0),
        ("down", 3.0),
        ("ping", 4.0),
        ("step", 5.0),
        ("step", 6.0),
    ];
    let text = becomes(&schedule, &format!("when_becomes = \"A.x >= 1\"\n{EMIT}"));
    assert_eq!(hits(&text), (2.0, 1.0, 5.0));
    // `once` and `cooldown` apply as to any rule.
    let once = becomes(
        &schedule,
        &format!("when_becomes = \"A.x >= 1\"\nonce = true\n{EMIT}"),
    );
    assert_eq!(hits(&once), (1.0, 1.0, 1.0));
    let cooled = becomes(
        &schedule,
        &format!("when_becomes = \"A.x >= 1\"\ncooldown = 5\n{EMIT}"),
    );
    assert_eq!(hits(&cooled), (1.0, 1.0, 1.0));
}

#[test]
fn a_condition_true_at_time_zero_fires_only_after_being_false() {
    let text = becomes(
        &[("ping", 1.0), ("off", 2.0), ("on", 4.0)],
        &format!("when_becomes = \"A.ok\"\n{EMIT}"),
    );
    assert_eq!(hits(&text), (1.0, 4.0, 4.0));
    // True from time 0 and still true after the step that it reads: never fires.
    let text = becomes(
        &[("step", 1.0)],
        &format!("when_becomes = \"A.x >= 0\"\n{EMIT}"),
    );
    assert_eq!(hits(&text), (0.0, f64::INFINITY, f64::NEG_INFINITY));
}

#[test]
fn when_becomes_reads_counts_and_filtered_counts_at_the_event_that_completes_them() {
    let pings = [("ping", 1.0), ("ping", 2.0), ("ping", 3.0), ("ping", 4.0)];
    let text = becomes(
        &pings,
        &format!("when_becomes = \"count(ping) >= 3\"\n{EMIT}"),
    );
    assert_eq!(hits(&text), (1.0, 3.0, 3.0));
    let text = becomes(
        &pings,
        &format!("when_becomes = \"count(ping, from = A) == 2 or last(ping) >= 4\"\n{EMIT}"),
    );
    // True at 2, false at 3 (count 3, last 3), true again at 4.
    assert_eq!(hits(&text), (2.0, 2.0, 4.0));
    // `when` and `prob` are checked as for any rule.
    let text = becomes(
        &pings,
        &format!("when_becomes = \"count(ping) >= 3\"\nwhen = \"A.x > 0\"\n{EMIT}"),
    );
    assert_eq!(hits(&text).0, 0.0);
}

#[test]
fn the_documented_when_becomes_example_fires_at_the_second_alert() {
    let base = r#"
[scenario]
name = "doc"
horizon = 10
[[actor]]
id = "POL"
state = { alert = 0 }
[[actor]]
id = "BLR"
[[event]]
id = "incident"
effects = ["POL.alert += 1"]
[[event]]
id = "mobilise"
[[schedule]]
event = "incident"
at = 1
source = "LTU_PLACEHOLDER"
[[schedule]]
event = "incident"
at = 3
source = "BLR"
[[schedule]]
event = "incident"
at = 5
source = "BLR"
[[outcome]]
name = "at"
value = "first(mobilise, to = BLR)"
[[outcome]]
name = "n"
value = "count(mobilise)"
"#
    .replace("LTU_PLACEHOLDER", "POL");
    // alert reaches 2 at 3, when BLR's first incident also happens.
    let text = format!(
        "{base}{}",
        doc_block("### Triggered by a condition: `when_becomes`")
    );
    let s = scenario(&text);
    assert_eq!(column_values(&s, "at", 1, 1)[0], 3.0);
    assert_eq!(column_values(&s, "n", 1, 1)[0], 1.0);
}

#[test]
fn when_becomes_errors_are_located_and_plain() {
    let cases = [
        (
            becomes(&[], &format!("on = \"ping\"\nwhen_becomes = \"A.ok\"\n{EMIT}")),
            "a rule has either `on` or `when_becomes`, not both",
        ),
        (
            becomes(&[], EMIT),
            "a rule needs `on = …` (the events that trigger it) or `when_becomes = \"…\"` (a condition)",
        ),
        (
            becomes(&[], &format!("when_becomes = \"t > 2\"\n{EMIT}")),
            "`when_becomes` is checked when an event happens, so it may not read `t`, `since`, a windowed `count(e, W)` or a tension",
        ),
        (
            becomes(&[], &format!("when_becomes = \"since(ping) < 1\"\n{EMIT}")),
            "may not read `t`, `since`",
        ),
        (
            becomes(&[], &format!("when_becomes = \"count(ping, 3) > 1\"\n{EMIT}")),
            "may not read `t`, `since`, a windowed `count(e, W)`",
        ),
        (
            becomes(&[], &format!("when_becomes = \"tension(A, B) > 0.5\"\n{EMIT}")).replacen(
                "[[event]]",
                "[[tension]]\nbetween = [\"A\", \"B\"]\ninitial = 0.1\n[[event]]",
                1,
            ),
            "a windowed `count(e, W)` or a tension, which change between events",
        ),
        (
            becomes(&[], &format!("when_becomes = \"A.x\"\n{EMIT}")),
            "expected a boolean, found a number",
        ),
        (
            becomes(&[], &format!("when_becomes = \"source.ok\"\n{EMIT}")),
            "`source` is not available in a `when_becomes` rule: it has no triggering event",
        ),
        (
            becomes(&[], &format!("when_becomes = \"A.ok\"\nfrom = \"A\"\n{EMIT}")),
            "`from` filters a triggering event, and a `when_becomes` rule has none",
        ),
        (
            becomes(&[], "when_becomes = \"A.ok\"\nemit = { event = \"hit\", target = \"source\" }"),
            "a `when_becomes` rule has no triggering event, so `source` names no actor; give an actor id",
        ),
        (
            becomes(&[], "when_becomes = \"A.ok\"\nchoose = [ { event = \"hit\", weight = 1, target = \"target\" } ]"),
            "so `target` names no actor",
        ),
        (
            becomes(&[], &format!("when_becomes = \"A.ok\"\nwhen = \"target.ok\"\n{EMIT}")),
            "`target` is not available in a `when_becomes` rule: it has no triggering event",
        ),
    ];
    for (text, message) in cases {
        let e = load_error(&text);
        assert!(e.contains(message), "expected {message:?} in:\n{e}");
        assert!(e.contains("test.toml:"), "not located: {e}");
    }
}
