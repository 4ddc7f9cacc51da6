//! Groups and templates (`[[group]]`, `each = { X = "frontline" }`): the
//! instances a template gives, their names in outputs, group filters, and the
//! load errors of every misuse.

mod common;
use common::*;

/// Four actors, the group `frontline` = POL, LTU, LVA, the given tables appended.
fn with(body: &str) -> String {
    format!(
        "[scenario]\nname = \"templates\"\nhorizon = 10\n\
         [params]\nrate = 0.5\n\
         [[actor]]\nid = \"POL\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"LTU\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"LVA\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"BLR\"\nstate = {{ alert = 0 }}\n\
         [[group]]\nid = \"frontline\"\nmembers = [\"POL\", \"LTU\", \"LVA\"]\n\
         [[event]]\nid = \"incident\"\n\
         [[event]]\nid = \"reply\"\n{body}"
    )
}

#[test]
fn a_poisson_hazard_over_n_members_gives_n_lambda_h_events() {
    // Three instances of a rate-0.5 hazard over horizon 10: the count is
    // Poisson with mean 3 · 0.5 · 10 = 15 and variance 15.
    let s = scenario(&with(
        r#"
[[hazard]]
name = "incidents"
each = { X = "frontline" }
event = "incident"
source = "X"
target = "BLR"
rate = "rate"
"#,
    ));
    let names: Vec<&str> = s.hazards.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["incidents[POL]", "incidents[LTU]", "incidents[LVA]"]
    );
    let n = 4000;
    let counts = column_values(&s, "count_incident", 7, n);
    let (mean, _) = mean_var(&counts);
    let expected = 3.0 * 0.5 * 10.0;
    let se = (expected / n as f64).sqrt();
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "mean {mean}, expected {expected} ± 4·{se}"
    );
}

#[test]
fn each_instance_has_its_own_stream_and_reads_its_own_actor() {
    // X.alert is raised by each member's own incidents only: the sum over
    // members of the events sourced by X equals the total, and the three
    // instances do not repeat one another's draws.
    let s = scenario(&with(
        r#"
[[hazard]]
name = "incidents"
each = { X = "frontline" }
event = "incident"
source = "X"
target = "BLR"
rate = "rate * (1 + X.alert)"
max_rate = "rate * 100"
[[rule]]
name = "alarm"
each = { X = "frontline" }
actor = "X"
on = "incident"
from = "X"
emit = { event = "reply", target = "X" }
[[outcome]]
name = "pol"
value = "count(incident, from = POL)"
[[outcome]]
name = "pol_replies"
value = "count(reply, from = POL, to = POL)"
[[outcome]]
name = "ltu"
value = "count(incident, from = LTU)"
"#,
    ));
    let pol = column_values(&s, "pol", 3, 200);
    let replies = column_values(&s, "pol_replies", 3, 200);
    let ltu = column_values(&s, "ltu", 3, 200);
    assert_eq!(pol, replies, "each alarm answers its own member only");
    assert_ne!(pol, ltu, "the instances share a stream");
}

#[test]
fn two_variables_over_one_group_give_n_times_n_minus_one_instances() {
    let distinct = scenario(&with(
        r#"
[[tension]]
each = { X = "frontline", Y = "frontline" }
between = ["X", "Y"]
directed = true
initial = 0.1
[[rule]]
name = "pair"
each = { X = "frontline", Y = "frontline" }
actor = "X"
on = "incident"
emit = { event = "reply", target = "Y" }
"#,
    ));
    assert_eq!(distinct.dyads.len(), 6);
    let names: Vec<&str> = distinct.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pair[POL,LTU]",
            "pair[POL,LVA]",
            "pair[LTU,POL]",
            "pair[LTU,LVA]",
            "pair[LVA,POL]",
            "pair[LVA,LTU]"
        ]
    );
    let all = scenario(&with(
        r#"
[[rule]]
name = "pair"
each = { X = "frontline", Y = ["POL", "BLR"] }
distinct = false
actor = "X"
on = "incident"
emit = { event = "reply", target = "Y" }
"#,
    ));
    assert_eq!(all.rules.len(), 6);
    assert_eq!(all.rules[0].name, "pair[POL,POL]");
}

#[test]
fn a_group_in_a_rule_filter_is_the_set_of_its_members() {
    // Incidents from every actor; the rule answers those from the group.
    let s = scenario(&with(
        r#"
[[schedule]]
each = { X = ["POL", "LTU", "LVA", "BLR"] }
event = "incident"
at = 1
source = "X"
[[rule]]
name = "answer"
actor = "BLR"
on = "incident"
from = "frontline"
emit = { event = "reply" }
"#,
    ));
    assert_eq!(s.schedule.len(), 4);
    assert_eq!(column_values(&s, "count_reply", 1, 1), [3.0]);
}

#[test]
fn instance_names_appear_in_the_event_trace() {
    let dir = temp_dir("templates_trace");
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        with(
            r#"
[[schedule]]
event = "incident"
at = 1
source = "BLR"
[[rule]]
name = "pair"
each = { X = "frontline", Y = ["BLR"] }
actor = "X"
on = "incident"
emit = { event = "reply", target = "Y" }
"#,
        ),
    )
    .expect("writable");
    let out_dir = dir.join("out");
    let out = flashpoint(&[
        "run",
        path.to_str().expect("utf-8"),
        "--reps",
        "1",
        "--trace",
        "1",
        "--out",
        out_dir.to_str().expect("utf-8"),
    ]);
    ok(&out);
    let events = String::from_utf8(read(&out_dir.join("events.csv"))).expect("utf-8");
    for name in ["pair[POL,BLR]", "pair[LTU,BLR]", "pair[LVA,BLR]"] {
        assert!(
            events.contains(&format!("\"{name}\"")),
            "{name} missing from\n{events}"
        );
    }
}

#[test]
fn template_errors_are_located_and_plain() {
    let cases: &[(&str, &str)] = &[
        (
            "[[rule]]\nname = \"r\"\neach = { X = \"frontlin\" }\nactor = \"X\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: unknown group `frontlin`\n  help: did you mean `frontline`?",
        ),
        (
            "[[group]]\nid = \"north\"\nmembers = [\"POL\", \"LTV\"]\n",
            "error: unknown actor `LTV`\n  help: did you mean `LTU`?",
        ),
        (
            "[[group]]\nid = \"POL\"\nmembers = [\"LTU\"]\n",
            "error: group id `POL` is already an actor id; choose another",
        ),
        (
            "[[group]]\nid = \"north\"\nmembers = [\"LTU\", \"LTU\"]\n",
            "error: `LTU` is listed twice in group `north`",
        ),
        (
            "[[group]]\nid = \"north\"\nmembers = []\n",
            "error: group `north` has no members",
        ),
        (
            "[[rule]]\nname = \"r\"\neach = { BLR = \"frontline\" }\nactor = \"BLR\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: variable `BLR` is already an actor id; choose another name, such as `X`",
        ),
        (
            "[[rule]]\nname = \"r\"\neach = { rate = \"frontline\" }\nactor = \"rate\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: variable `rate` is already a parameter; choose another name, such as `X`",
        ),
        (
            "[[rule]]\nname = \"r\"\neach = { X = \"frontline\" }\nactor = \"BLR\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: variable `X` is not used; every instance would be the same",
        ),
        (
            "[[rule]]\nname = \"r\"\nactor = \"frontline\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: `frontline` is a group, not an actor\n  help: bind a variable to it, `each = { X = \"frontline\" }`, and write `X` here",
        ),
        (
            "[[rule]]\nname = \"r\"\neach = { X = [\"POL\"], Y = [\"POL\"] }\nactor = \"X\"\non = \"incident\"\nemit = { event = \"reply\", target = \"Y\" }\n",
            "error: `each` gives no instance: with `distinct = true` every combination binds one actor to two variables",
        ),
        (
            "[[rule]]\nname = \"r\"\ndistinct = false\nactor = \"POL\"\non = \"incident\"\nemit = { event = \"reply\" }\n",
            "error: `distinct` applies to the variables of `each`; this table has no `each`",
        ),
        (
            "[[outcome]]\nname = \"o\"\neach = { X = \"frontline\" }\nvalue = \"X.alert\"\n",
            "error: unknown key `each`",
        ),
    ];
    for (body, want) in cases {
        let got = load_error(&with(body));
        let (message, help) = want.split_once("\n  help: ").unwrap_or((want, ""));
        assert!(got.contains(message), "want {message:?} in\n{got}");
        if !help.is_empty() {
            assert!(
                got.contains(&format!("help: {help}")),
                "want help {help:?} in\n{got}"
            );
        }
    }
}

#[test]
fn an_error_inside_an_instance_points_at_the_template_and_names_the_instance() {
    // Only POL declares `alert` here; LTU and LVA do not.
    let text = "[scenario]\nname = \"t\"\nhorizon = 10\n\
        [[actor]]\nid = \"POL\"\nstate = { alert = 0 }\n\
        [[actor]]\nid = \"LTU\"\n[[actor]]\nid = \"LVA\"\n\
        [[group]]\nid = \"frontline\"\nmembers = [\"POL\", \"LTU\", \"LVA\"]\n\
        [[event]]\nid = \"incident\"\n\
        [[hazard]]\nname = \"h\"\neach = { X = \"frontline\" }\nevent = \"incident\"\n\
        rate = \"1 + X.alert + nope\"\n";
    let got = load_error(text);
    // The column of `X` in the template text, for the first instance that
    // fails; LVA's identical error is not repeated.
    assert!(
        got.contains(
            "test.toml:20:13: error: actor `X` has no state variable `alert` (in `h[LTU]`)"
        ),
        "{got}"
    );
    assert_eq!(got.matches("has no state variable").count(), 1, "{got}");
    // An error every instance shares is reported once, for the first.
    assert!(
        got.contains("test.toml:20:23: error: unknown parameter `nope` (in `h[POL]`)"),
        "{got}"
    );
    assert_eq!(got.matches("unknown parameter `nope`").count(), 1, "{got}");
}

#[test]
fn the_documented_example_loads_and_gives_its_instances() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario-language.md"
    ))
    .expect("docs");
    let section = &doc[doc.find("## `[[group]]` and templates").expect("section")..];
    let start = section.find("```toml\n").expect("example") + 8;
    let example = &section[start..start + section[start..].find("```").expect("end")];
    let text = format!(
        "[scenario]\nname = \"doc\"\nhorizon = 30\n\
         [[actor]]\nid = \"POL\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"LTU\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"LVA\"\nstate = {{ alert = 0 }}\n\
         [[actor]]\nid = \"BLR\"\n\
         [[event]]\nid = \"incident\"\n[[event]]\nid = \"consultation\"\n\
         [[event]]\nid = \"protest\"\n{example}"
    );
    let s = scenario(&text);
    assert_eq!(s.hazards.len(), 3);
    assert_eq!(s.rules.len(), 7);
    assert_eq!(s.dyads.len(), 3);
    assert_eq!(s.rules[1].name, "consult[POL,LVA]");
    // Every incident is answered by two consultations and one protest.
    let incidents = column_values(&s, "count_incident", 5, 50);
    let consultations = column_values(&s, "count_consultation", 5, 50);
    let protests = column_values(&s, "count_protest", 5, 50);
    for i in 0..50 {
        assert_eq!(consultations[i], 2.0 * incidents[i]);
        assert_eq!(protests[i], incidents[i]);
    }
    assert!(incidents.iter().sum::<f64>() > 0.0);
}

#[test]
fn emit_to_a_group_emits_one_event_per_member_in_member_order() {
    // Each reply to X adds to X.alert and records the order of arrival:
    // POL's reply sees order 0, LTU's 1, LVA's 2.
    let text = with(
        r#"
[[event]]
id = "warn"
effects = ["target.alert = count(warn)"]
[[schedule]]
event = "incident"
at = 1
source = "BLR"
[[rule]]
name = "warn_all"
actor = "BLR"
on = "incident"
once = true
emit = { event = "warn", target = "frontline" }
[[outcome]]
name = "order"
value = "100 * POL.alert + 10 * LTU.alert + LVA.alert"
"#,
    );
    let s = scenario(&text);
    assert_eq!(column_values(&s, "count_warn", 1, 1), [3.0]);
    assert_eq!(column_values(&s, "order", 1, 1), [123.0]);
    // A terminal event ends the replication at the member that emits it.
    let terminal = text.replace("id = \"warn\"\n", "id = \"warn\"\nterminal = true\n");
    let s = scenario(&terminal);
    assert_eq!(column_values(&s, "count_warn", 1, 1), [1.0]);
    assert_eq!(column_values(&s, "order", 1, 1), [100.0]);
}
