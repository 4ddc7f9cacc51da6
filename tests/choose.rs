//! `choose`: exclusive alternatives for rules and hazards. Shares within
//! Wilson intervals, per-alternative delays and actors, and the errors.

mod common;
use common::*;
use flashpoint::stats::wilson;

const BASE: &str = r#"
[scenario]
name = "choice"
horizon = 10
[params]
q = 0.3
[[actor]]
id = "A"
[[actor]]
id = "B"
[[event]]
id = "crisis"
[[event]]
id = "quarantine"
[[event]]
id = "strike"
[[event]]
id = "nothing"
[[schedule]]
event = "crisis"
at = 1
source = "B"
target = "A"
"#;

/// 0.99 Wilson interval of `k` successes in `n` contains `p`.
fn share_ok(k: f64, n: f64, p: f64) -> bool {
    let (lo, hi) = wilson(k as u64, n as u64, 2.576);
    lo <= p && p <= hi
}

#[test]
fn a_rule_emits_exactly_one_alternative_with_probability_weight_over_total() {
    let text = format!(
        r#"{BASE}
[[rule]]
name = "respond"
actor = "A"
on = "crisis"
choose = [
  {{ event = "quarantine", weight = "q", target = "source" }},
  {{ event = "strike", weight = "1 - q", delay = {{ fixed = 2 }} }},
  {{ event = "nothing", weight = 0 }},
]
delay = {{ fixed = 1 }}
[[outcome]]
name = "q_at"
value = "first(quarantine, to = B)"
[[outcome]]
name = "s_at"
value = "first(strike)"
"#
    );
    let s = scenario(&text);
    let n = 4000;
    let quarantine = column_values(&s, "count_quarantine", 9, n);
    let strike = column_values(&s, "count_strike", 9, n);
    let nothing = column_values(&s, "count_nothing", 9, n);
    for r in 0..n as usize {
        assert_eq!(quarantine[r] + strike[r], 1.0, "replication {r}");
        assert_eq!(nothing[r], 0.0);
    }
    let k: f64 = quarantine.iter().sum();
    assert!(
        share_ok(k, n as f64, 0.3),
        "quarantine share {}",
        k / n as f64
    );
    // The rule's delay for quarantine (at 2, targeted at the trigger's
    // source B), the alternative's own delay for the strike (at 3).
    let q_at = column_values(&s, "q_at", 9, n);
    let s_at = column_values(&s, "s_at", 9, n);
    for r in 0..n as usize {
        if quarantine[r] == 1.0 {
            assert_eq!((q_at[r], s_at[r]), (2.0, f64::INFINITY));
        } else {
            assert_eq!((q_at[r], s_at[r]), (f64::INFINITY, 3.0));
        }
    }
}

#[test]
fn a_hazard_chooses_one_event_per_accepted_candidate() {
    let text = format!(
        r#"{BASE}
[[hazard]]
name = "incidents"
rate = 5
choose = [
  {{ event = "quarantine", weight = 1, source = "A" }},
  {{ event = "strike", weight = 3, source = "B" }},
]
[[outcome]]
name = "from_b"
value = "count(strike, from = B)"
"#
    );
    let s = scenario(&text);
    let n = 400;
    let q: f64 = column_values(&s, "count_quarantine", 4, n).iter().sum();
    let st: f64 = column_values(&s, "count_strike", 4, n).iter().sum();
    let from_b: f64 = column_values(&s, "from_b", 4, n).iter().sum();
    assert_eq!(st, from_b);
    // Rate 5 over 10 time units: about 50 events a replication, a quarter
    // of them quarantines.
    let total = q + st;
    assert!((total / n as f64 - 50.0).abs() < 4.0 * (50.0 / n as f64).sqrt());
    assert!(share_ok(q, total, 0.25), "share {}", q / total);
}

#[test]
fn bad_weights_fail_the_replication_with_the_rule_named() {
    let text = format!(
        r#"{BASE}
[[rule]]
name = "respond"
actor = "A"
on = "crisis"
choose = [ {{ event = "quarantine", weight = "q - 1" }}, {{ event = "strike", weight = 1 }} ]
"#
    );
    let s = scenario(&text);
    let mut engine = flashpoint::engine::Engine::new(&s);
    let mut row = vec![0.0; engine.n_columns()];
    let e = engine
        .run(
            &[0.3],
            &flashpoint::rng::replication_key(1, 0, None),
            Default::default(),
            &mut row,
            None,
        )
        .expect_err("a negative weight");
    assert!(
        e.to_string().contains(
            "rule `respond`: a `choose` weight is -0.7; each must be a non-negative finite number"
        ),
        "{e}"
    );
}

#[test]
fn choose_errors_are_located_and_plain() {
    let rule = |body: &str| {
        format!("{BASE}[[rule]]\nname = \"r\"\nactor = \"A\"\non = \"crisis\"\n{body}\n")
    };
    let cases = [
        (
            rule("emit = { event = \"strike\" }\nchoose = [ { event = \"strike\", weight = 1 } ]"),
            "a rule has either `emit` or `choose`, not both",
        ),
        (rule(""), "a rule needs `emit = { event = … }` or `choose = [ … ]`"),
        (rule("choose = []"), "`choose` needs at least one alternative"),
        (
            rule("choose = [ { event = \"strik\", weight = 1 } ]"),
            "unknown event `strik`",
        ),
        (
            rule("choose = [ { event = \"strike\", weight = -1 } ]"),
            "a weight must be a non-negative finite number, got -1",
        ),
        (
            format!(
                "{BASE}[[hazard]]\nname = \"h\"\nrate = 1\nsource = \"A\"\nchoose = [ {{ event = \"strike\", weight = 1 }} ]\n"
            ),
            "with `choose`, give `source` in each alternative",
        ),
        (
            format!(
                "{BASE}[[hazard]]\nname = \"h\"\nrate = 1\nchoose = [ {{ event = \"strike\", weight = 1, delay = {{ fixed = 1 }} }} ]\n"
            ),
            "a hazard's alternatives have no `delay`",
        ),
        (
            format!(
                "{BASE}[[hazard]]\nname = \"h\"\nrate = 1\nchoose = [ {{ event = \"strike\", weight = 1, source = \"source\" }} ]\n"
            ),
            "unknown actor `source`",
        ),
    ];
    for (text, message) in cases {
        let e = load_error(&text);
        assert!(e.contains(message), "expected {message:?} in:\n{e}");
        assert!(e.contains("test.toml:"), "not located: {e}");
    }
}
