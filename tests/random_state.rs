//! Random and computed state: initial state values that are expressions of
//! parameters and random draws, and draws in event effects. Closed-form
//! means and variances within stated standard errors, exact values, common
//! random numbers per source, and the errors.

mod common;
use common::*;

/// Mean and variance of `xs` are those of a distribution with mean `mean`
/// and variance `var`, each within 4 standard errors (the variance's
/// standard error estimated from the fourth central moment of the sample).
fn moments_ok(what: &str, xs: &[f64], mean: f64, var: f64) {
    let n = xs.len() as f64;
    let (m, v) = mean_var(xs);
    let z_mean = (m - mean) / (var / n).sqrt();
    assert!(
        z_mean.abs() < 4.0,
        "{what}: mean {m}, want {mean} (z = {z_mean})"
    );
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let se_var = ((m4 - v * v) / n).sqrt();
    let z_var = (v - var) / se_var;
    assert!(
        z_var.abs() < 4.0,
        "{what}: variance {v}, want {var} (z = {z_var})"
    );
}

const N: u64 = 20_000;

#[test]
fn a_uniform_initial_state_has_mean_at_the_midpoint() {
    let s = scenario(
        r#"
[scenario]
name = "init"
horizon = 1
[params]
lo = 2.0
hi = 6.0
[[actor]]
id = "A"
state = { resolve = "uniform(lo, hi)" }
[[outcome]]
name = "resolve"
value = "A.resolve"
"#,
    );
    let xs = column_values(&s, "resolve", 7, N);
    assert!(xs.iter().all(|&x| (2.0..6.0).contains(&x)));
    moments_ok("uniform(2, 6)", &xs, 4.0, 16.0 / 12.0);
}

#[test]
fn a_state_initialised_from_a_parameter_equals_it_and_literals_stay() {
    let s = scenario(
        r#"
[scenario]
name = "init"
horizon = 1
[params]
base_troops = 37.5
[[actor]]
id = "A"
state = { troops_k = "base_troops", doubled = "2 * base_troops + 1", open = true, n = 3, coin = "bernoulli(1)" }
[[outcome]]
name = "troops"
value = "A.troops_k"
[[outcome]]
name = "doubled"
value = "A.doubled"
[[outcome]]
name = "n"
value = "if A.open and A.coin then A.n else -1"
"#,
    );
    assert_eq!(column_values(&s, "troops", 1, 3), vec![37.5; 3]);
    assert_eq!(column_values(&s, "doubled", 1, 3), vec![76.0; 3]);
    assert_eq!(column_values(&s, "n", 1, 3), vec![3.0; 3]);
}

#[test]
fn each_draw_in_an_effect_has_its_mean_and_variance() {
    let s = scenario(
        r#"
[scenario]
name = "effects"
horizon = 2
[[actor]]
id = "A"
state = { u = 0, n = 0, l = 0, e = 0, p = 0, big = 0, b = false }
[[event]]
id = "tick"
effects = [
  "A.u = uniform(1, 3)",
  "A.n = normal(2, 0.5)",
  "A.l = lognormal(2, 0.5)",
  "A.e = exponential(3)",
  "A.p = poisson(4)",
  "A.big += poisson(40)",
  "A.b = bernoulli(0.3)",
]
[[schedule]]
event = "tick"
at = 1
[[outcome]]
name = "u"
value = "A.u"
[[outcome]]
name = "n"
value = "A.n"
[[outcome]]
name = "l"
value = "A.l"
[[outcome]]
name = "e"
value = "A.e"
[[outcome]]
name = "p"
value = "A.p"
[[outcome]]
name = "big"
value = "A.big"
[[outcome]]
name = "b"
value = "if A.b then 1 else 0"
"#,
    );
    let col = |name| column_values(&s, name, 11, N);
    moments_ok("uniform(1, 3)", &col("u"), 2.0, 1.0 / 3.0);
    moments_ok("normal(2, 0.5)", &col("n"), 2.0, 0.25);
    let (s2, mu) = (0.25f64, 2f64.ln());
    moments_ok(
        "lognormal(2, 0.5)",
        &col("l"),
        (mu + s2 / 2.0).exp(),
        (s2.exp() - 1.0) * (2.0 * mu + s2).exp(),
    );
    moments_ok("exponential(3)", &col("e"), 3.0, 9.0);
    let p = col("p");
    assert!(p.iter().all(|x| x.fract() == 0.0 && *x >= 0.0));
    moments_ok("poisson(4)", &p, 4.0, 4.0);
    moments_ok("poisson(40)", &col("big"), 40.0, 40.0);
    moments_ok("bernoulli(0.3)", &col("b"), 0.3, 0.21);
}

/// A hazard's events draw from the hazard's stream and a rule's from the
/// rule's: inserting an unrelated rule (which draws too) first, and an
/// actor with a random initial state, changes no draw of the others.
#[test]
fn adding_an_unrelated_rule_changes_no_draw() {
    let base = r#"
[scenario]
name = "crn"
horizon = 20
[[actor]]
id = "A"
state = { cas = 0, r = 0, z = 0, start = "normal(0, 1)" }
[[event]]
id = "hit"
effects = ["A.cas += poisson(5)"]
[[event]]
id = "resp"
effects = ["A.r += normal(0, 1)"]
[[event]]
id = "other"
effects = ["A.z += uniform(0, 1)"]
[[hazard]]
name = "hits"
event = "hit"
rate = 0.5
"#;
    let tail = r#"
[[rule]]
name = "respond"
actor = "A"
on = "hit"
prob = 0.5
emit = { event = "resp" }
[[outcome]]
name = "cas"
value = "A.cas"
[[outcome]]
name = "r"
value = "A.r"
[[outcome]]
name = "start"
value = "A.start"
"#;
    let extra = r#"
[[actor]]
id = "B"
state = { cas = "uniform(0, 1)" }
[[rule]]
name = "unrelated"
actor = "A"
on = "hit"
emit = { event = "other" }
"#;
    let a = scenario(&format!("{base}{tail}"));
    let b = scenario(&format!("{base}{extra}{tail}"));
    for col in ["cas", "r", "start"] {
        let xa = column_values(&a, col, 3, 200);
        let xb = column_values(&b, col, 3, 200);
        assert_eq!(xa, xb, "{col} moved");
    }
    // The draws are not all equal (the columns are random).
    let cas = column_values(&a, "cas", 3, 200);
    assert!(cas.iter().any(|&x| x != cas[0]));
}

#[test]
fn draws_elsewhere_are_located_errors() {
    let base = r#"
[scenario]
name = "bad"
horizon = 5
[[actor]]
id = "A"
state = { x = 0 }
[[event]]
id = "e"
"#;
    let cases = [
        (
            "[[rule]]\nname = \"r\"\nactor = \"A\"\non = \"e\"\nwhen = \"bernoulli(0.5)\"\nemit = { event = \"e\" }\n",
            "test.toml:14:9: error: random draws are allowed only in event effects and initial state, not here (`bernoulli`)",
        ),
        (
            "[[rule]]\nname = \"r\"\nactor = \"A\"\non = \"e\"\nprob = \"uniform(0, 1)\"\nemit = { event = \"e\" }\n",
            "test.toml:14:9: error: random draws are allowed only in event effects and initial state, not here (`uniform`)",
        ),
        (
            "[[hazard]]\nname = \"h\"\nevent = \"e\"\nrate = \"exponential(1)\"\n",
            "test.toml:13:9: error: random draws are allowed only in event effects and initial state, not here (`exponential`)",
        ),
        (
            "[[outcome]]\nname = \"o\"\nvalue = \"poisson(2)\"\n",
            "test.toml:12:10: error: random draws are allowed only in event effects and initial state, not here (`poisson`)",
        ),
    ];
    for (tail, want) in cases {
        let err = load_error(&format!("{base}{tail}"));
        assert!(err.contains(want), "{tail}\ngot: {err}\nwant: {want}");
    }
}

#[test]
fn bad_literal_parameters_and_forms_are_load_errors() {
    let with_effect = |effect: &str| {
        format!(
            r#"
[scenario]
name = "bad"
horizon = 5
[[actor]]
id = "A"
state = {{ x = 0, b = false }}
[[event]]
id = "e"
effects = ["{effect}"]
"#
        )
    };
    let cases = [
        (
            "A.x = normal(0, -1)",
            "`normal(mu, sigma)` needs sigma >= 0, got -1",
        ),
        (
            "A.x = uniform(3, 1)",
            "`uniform(a, b)` needs a <= b, got a = 3, b = 1",
        ),
        (
            "A.x = exponential(-2)",
            "`exponential(mean)` needs mean >= 0, got -2",
        ),
        (
            "A.x = poisson(-1)",
            "`poisson(mean)` needs 0 <= mean <= 1e6, got -1",
        ),
        (
            "A.b = bernoulli(1.5)",
            "`bernoulli(p)` needs 0 <= p <= 1, got 1.5",
        ),
        (
            "A.x = lognormal(0, 1)",
            "`lognormal(median, sigma)` needs median > 0, got 0",
        ),
        (
            "A.x = uniform(1)",
            "`uniform(a, b)` takes 2 arguments, found 1",
        ),
        ("A.x = bernoulli(0.5)", "expected a number, found a boolean"),
        ("A.x = unifrom(0, 1)", "did you mean `uniform`?"),
    ];
    for (effect, want) in cases {
        let err = load_error(&with_effect(effect));
        assert!(err.contains("test.toml:10:"), "{effect}: {err}");
        assert!(err.contains(want), "{effect}\ngot: {err}\nwant: {want}");
    }
    let err = load_error(
        "[scenario]\nname = \"bad\"\nhorizon = 5\n[[actor]]\nid = \"A\"\nstate = { x = \"t + 1\" }\n",
    );
    assert!(
        err.contains("test.toml:6:15: error: an initial state value may use only numbers, parameters and random draws"),
        "{err}"
    );
}

#[test]
fn bad_parameters_at_run_time_name_the_event_or_the_actor() {
    let s = scenario(
        r#"
[scenario]
name = "bad"
horizon = 5
[params]
sigma = -1.0
[[actor]]
id = "A"
state = { x = 0 }
[[event]]
id = "shock"
effects = ["A.x = normal(0, sigma)"]
[[schedule]]
event = "shock"
at = 1
"#,
    );
    let e = first_replication_error(&s, "sigma is negative").to_string();
    assert!(
        e.contains("event `shock`: `normal(mu, sigma)` needs sigma >= 0, got -1"),
        "{e}"
    );
    let s = scenario(
        r#"
[scenario]
name = "bad"
horizon = 5
[params]
p = 2.0
[[actor]]
id = "A"
state = { coin = "bernoulli(p)" }
"#,
    );
    let e = first_replication_error(&s, "p is above 1").to_string();
    assert!(
        e.contains(
            "actor `A`: the initial value of `coin`: `bernoulli(p)` needs 0 <= p <= 1, got 2"
        ),
        "{e}"
    );
}

/// The example of docs/scenario-language.md "Random draws" loads and runs,
/// and its casualties have the compound-Poisson mean `rate · H · mean`.
#[test]
fn the_documented_example_runs() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario-language.md"
    ))
    .expect("the language doc exists");
    let start = doc
        .find("<!-- example: random-state")
        .expect("the example is marked");
    let block = &doc[start..];
    let open = block.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let close = block[open..].find("```").expect("the block closes");
    let s = scenario(&block[open..open + close]);
    let xs = column_values(&s, "casualties", 5, 4000);
    // Casualties: a Poisson(0.2 · 30) number of Poisson(3) draws; mean 18,
    // variance λH·(μ + μ²) = 6 · 12 = 72.
    let (m, _) = mean_var(&xs);
    let se = (72.0f64 / 4000.0).sqrt();
    assert!((m - 18.0).abs() < 4.0 * se, "mean {m}");
}

#[test]
fn describe_shows_computed_and_random_initial_values() {
    let s = scenario(
        "[scenario]\nname = \"d\"\nhorizon = 1\n[params]\nk = 2.0\n[[actor]]\nid = \"A\"\nstate = { a = 1, b = \"k\", c = \"uniform(0, k)\" }\n",
    );
    let text = flashpoint::scenario::describe(&s);
    assert!(
        text.contains("a = 1, b = (from parameters), c = (random)"),
        "{text}"
    );
}

#[test]
fn describe_prints_booleans_as_words_and_aligns_long_names() {
    let s = scenario(
        "[scenario]\nname = \"d\"\nhorizon = 1\n[params]\na_rather_long_parameter_name = { value = 0.5, min = 0, max = 1, doc = \"first\" }\nk = { value = 2.0, min = 1, max = 10, doc = \"second\" }\n[[actor]]\nid = \"A\"\nname = \"A very long actor name indeed\"\nstate = { open = true, shut = false, n = 3 }\n[[actor]]\nid = \"LONGID\"\nname = \"B\"\nstate = { open = false }\n[[event]]\nid = \"coded\"\ncameo = \"0874\"\n[[event]]\nid = \"a_much_longer_event\"\n",
    );
    let text = flashpoint::scenario::describe(&s);
    for line in [
        "  a_rather_long_parameter_name = 0.5  in [0, 1]   first",
        "  k                            = 2    in [1, 10]  second",
        "  A       A very long actor name indeed  n = 3, open = true, shut = false",
        "  LONGID  B                              open = false",
        "  coded               [CAMEO 0874] 0 effect(s)",
        "  a_much_longer_event              0 effect(s)",
    ] {
        assert!(
            text.contains(&format!("\n{line}\n")),
            "no line `{line}` in\n{text}"
        );
    }
}
