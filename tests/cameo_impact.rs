//! The default impact of a CAMEO event (`goldstein_scale`): applied only
//! when the event has no `effects` key, shown by `validate`, and a warning
//! (with file:line:col) when it, or a `tension(source, target)` effect,
//! falls on a pair of actors with no declared tension.

mod common;
use common::{column_values, flashpoint, scenario, temp_dir};

/// POL and BLR have a tension (0.5, no relaxation to speak of); LTU has
/// none with POL. `sanction` (CAMEO 163, Goldstein -8) is scheduled from
/// POL to BLR at t = 1; `{EFFECTS}` is replaced by each test.
const BASE: &str = r#"
[scenario]
name = "impact"
horizon = 10
goldstein_scale = 0.04

[[actor]]
id = "POL"

[[actor]]
id = "BLR"

[[actor]]
id = "LTU"

[[tension]]
between = ["POL", "BLR"]
initial = 0.5
baseline = 0.5
half_life = 1000
range = [0.0, 1.0]

[[event]]
id = "sanction"
cameo = "163"
{EFFECTS}

[[schedule]]
event = "sanction"
at = 1
source = "POL"
target = "BLR"
"#;

fn with(effects: &str) -> String {
    BASE.replace("{EFFECTS}", effects)
}

fn peak_tension(text: &str) -> f64 {
    column_values(&scenario(text), "tension_POL_BLR_peak", 1, 1)[0]
}

#[test]
fn an_explicit_empty_effects_list_means_no_effect() {
    assert_eq!(peak_tension(&with("effects = []")), 0.5);
}

#[test]
fn the_default_impact_applies_only_when_effects_is_absent() {
    // -(-8) * 0.04 = +0.32
    assert!((peak_tension(&with("")) - 0.82).abs() < 1e-12);
    // Effects given: exactly those, no default on top.
    let given = with("effects = [\"POL.x = 1\"]")
        .replace("id = \"POL\"\n", "id = \"POL\"\nstate = { x = 0 }\n");
    assert_eq!(peak_tension(&given), 0.5);
}

fn validate(name: &str, text: &str) -> (String, String) {
    let dir = temp_dir(name);
    let file = dir.join("impact.toml");
    std::fs::write(&file, text).expect("write");
    let out = flashpoint(&["validate", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        file.to_str().expect("utf-8").to_string(),
    )
}

#[test]
fn validate_shows_the_default_impact_it_applies() {
    let (text, _) = validate("cameo-impact-shown", &with(""));
    assert!(
        text.contains(
            "    default impact: tension(source, target) += 0.32 (CAMEO 163, Goldstein -8 × goldstein_scale 0.04)\n"
        ),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");
    let (text, _) = validate("cameo-impact-none", &with("effects = []"));
    let line = text
        .lines()
        .find(|l| l.starts_with("  sanction"))
        .expect("the event is listed");
    // validate pads the CAMEO column to its longest form (` [CAMEO 0000]`).
    assert!(line.contains("[CAMEO 163]  0 effect(s)"), "{text}");
    assert!(!text.contains("default impact"), "{text}");
}

#[test]
fn an_impact_on_a_pair_without_a_tension_is_a_located_warning() {
    // Scheduled from POL to LTU: no POL-LTU tension, the default impact does nothing.
    let text = with("").replace("target = \"BLR\"", "target = \"LTU\"");
    let (out, file) = validate("cameo-impact-undeclared", &text);
    // The warning points at the `cameo` key of `sanction` (line 30, column 9).
    let line = text.lines().position(|l| l.starts_with("cameo")).unwrap() + 1;
    assert!(
        out.contains(&format!(
            "{file}:{line}:9: warning: the default impact of `sanction` falls on no tension when the schedule entry at t = 1 emits it from POL to LTU: no tension between POL and LTU is declared"
        )),
        "{out}"
    );

    // The same for an explicit `tension(source, target)` effect.
    let text = with("effects = [\"tension(source, target) += 0.1\"]")
        .replace("target = \"BLR\"", "target = \"LTU\"");
    let (out, file) = validate("cameo-impact-undeclared-effect", &text);
    let line = text.lines().position(|l| l.starts_with("effects")).unwrap() + 1;
    assert!(
        out.contains(&format!(
            "{file}:{line}:12: warning: the effect `tension(source, target) += 0.1` of `sanction` falls on no tension when the schedule entry at t = 1 emits it from POL to LTU: no tension between POL and LTU is declared"
        )),
        "{out}"
    );
}
