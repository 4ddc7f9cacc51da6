//! A schedule entry's `at` given as an expression of parameters: it moves
//! the entry exactly, its jitter stream is named by the expression's text
//! (the same at every parameter point), and the errors.

mod common;
use common::*;
use flashpoint::engine::{columns, Engine, RunOptions};
use flashpoint::rng::replication_key;
use flashpoint::rng::stream_id::{named, KIND_SCHEDULE};

fn pinged(at: &str, jitter: &str) -> String {
    format!(
        r#"
[scenario]
name = "at"
horizon = 10
[params]
t0 = 2.5
[[actor]]
id = "A"
[[event]]
id = "ping"
[[schedule]]
event = "ping"
at = {at}
{jitter}
[[outcome]]
name = "first_ping"
value = "first(ping)"
"#
    )
}

/// `first_ping` in replication 0 at each value of `t0`, from one engine.
fn first_ping_at(text: &str, t0s: &[f64]) -> Vec<f64> {
    let s = scenario(text);
    let cols = columns(&s);
    let k = cols.iter().position(|c| c.name == "first_ping").unwrap();
    let mut engine = Engine::new(&s);
    let mut row = vec![0.0; cols.len()];
    t0s.iter()
        .map(|&t0| {
            let key = replication_key(7, 0, None);
            (engine.run(&[t0], &key, RunOptions::default(), &mut row, None)).unwrap();
            row[k]
        })
        .collect()
}

#[test]
fn an_at_from_parameters_schedules_at_its_value() {
    assert_eq!(first_ping_at(&pinged("3.5", ""), &[0.0]), [3.5]);
    assert_eq!(
        first_ping_at(&pinged("\"t0\"", ""), &[2.5, 7.0]),
        [2.5, 7.0]
    );
    assert_eq!(
        first_ping_at(&pinged("\"t0 * 2 + 1\"", ""), &[2.5, 0.0, 4.5]),
        [6.0, 1.0, 10.0]
    );
}

#[test]
fn an_expression_at_keeps_its_jitter_stream_across_points() {
    let jitter = "jitter = { uniform = [-1, 1] }";
    let text = pinged("\"t0 + 1\"", jitter);
    let s = scenario(&text);
    assert_eq!(s.streams.schedule, [named(KIND_SCHEDULE, "ping@(t0 + 1)")]);
    // The same draw at both points: the times differ by the shift (to
    // rounding; a different draw would move them by up to 2).
    let times = first_ping_at(&text, &[2.0, 5.0]);
    assert!((times[1] - times[0] - 3.0).abs() < 1e-12, "{times:?}");
    assert!((2.0..=4.0).contains(&times[0]), "{times:?}");
    assert_ne!(times[0], 3.0);
    // A literal entry keeps its `EVENT@AT` name.
    let s = scenario(&pinged("3", jitter));
    assert_eq!(s.streams.schedule, [named(KIND_SCHEDULE, "ping@3")]);
}

#[test]
fn a_bad_at_is_a_located_or_a_run_time_error() {
    let want =
        "test.toml:13:6: error: `at` must be a number, a date or an expression of parameters";
    for bad in ["\"t + 1\"", "\"count(ping)\""] {
        let err = load_error(&pinged(bad, ""));
        assert!(err.contains(want), "{bad}: {err}");
    }
    let err = load_error(&pinged("\"uniform(0, 1)\"", ""));
    assert!(err.contains("test.toml:13:"), "{err}");
    assert!(err.contains("random draws are allowed only"), "{err}");
    let err = load_error(&pinged("\"t00\"", ""));
    assert!(err.contains("unknown parameter `t00`"), "{err}");
    let err = load_error(&pinged("true", ""));
    assert!(
        err.contains("test.toml:13:6: error: expected a time"),
        "{err}"
    );
    let s = scenario(&pinged("\"t0 * 5\"", ""));
    let e = first_replication_error(&s, "the time is past the horizon").to_string();
    assert!(
        e.contains(
            "schedule entry 1 (`ping`): `at = \"t0 * 5\"` is 12.5, outside [0, horizon = 10]"
        ),
        "{e}"
    );
}

#[test]
fn the_documented_example_moves_with_its_parameter() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario-language.md"
    ))
    .expect("docs");
    let section = &doc[doc.find("### A time from parameters").expect("section")..];
    let start = section.find("```toml\n").expect("example") + 8;
    let example = &section[start..start + section[start..].find("```").expect("end")];
    let text = format!(
        "[scenario]\nname = \"doc\"\nhorizon = 30\n[[actor]]\nid = \"A\"\n\
         [[event]]\nid = \"talks\"\n{example}\n\
         [[outcome]]\nname = \"first_ping\"\nvalue = \"first(talks)\"\n"
    );
    let s = scenario(&text);
    assert_eq!(
        s.streams.schedule,
        [named(KIND_SCHEDULE, "talks@(talks_day + 2)")]
    );
    let times = first_ping_at(&text, &[12.0, 20.0]);
    assert!((13.0..=15.0).contains(&times[0]), "{times:?}");
    assert!((times[1] - times[0] - 8.0).abs() < 1e-12, "{times:?}");
    let s = scenario(&text.replace("talks_day = 12", "talks_day = 38"));
    let e = first_replication_error(&s, "the talks are past the horizon").to_string();
    assert!(
        e.contains(
            "schedule entry 1 (`talks`): `at = \"talks_day + 2\"` is 40, outside [0, horizon = 30]"
        ),
        "{e}"
    );
}
