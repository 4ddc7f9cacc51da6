//! The recipe book, `docs/recipes.md`: every scenario on the page is loaded
//! exactly as printed (the `toml` block after each `<!-- recipe: NAME -->`
//! marker) and does what the page says below it: exact values where the
//! mathematics gives them, analytic answers within 4 standard errors of
//! 20,000 replications otherwise.

mod common;
use common::*;

const PAGE: &str = include_str!("../docs/recipes.md");
const N: u64 = 20_000;

/// The names of the page's recipes, in order.
fn names() -> Vec<&'static str> {
    PAGE.split("<!-- recipe: ")
        .skip(1)
        .map(|rest| rest.split_once(" -->").expect("a closed marker").0)
        .collect()
}

/// The scenario of recipe `name`: the `toml` block right after its marker.
fn recipe(name: &str) -> flashpoint::scenario::Scenario {
    let marker = format!("<!-- recipe: {name} -->\n```toml\n");
    let start = PAGE
        .find(&marker)
        .unwrap_or_else(|| panic!("no recipe {name} followed by a toml block"))
        + marker.len();
    let end = start + PAGE[start..].find("```").expect("a closed block");
    scenario(&PAGE[start..end])
}

/// The mean of `xs` is `want` within 4 standard errors, `sd` being the
/// standard deviation of one value under the analytic distribution.
fn mean_ok(what: &str, xs: &[f64], want: f64, sd: f64) {
    let (m, _) = mean_var(xs);
    let se = sd / (xs.len() as f64).sqrt();
    assert!(
        (m - want).abs() < 4.0 * se,
        "{what}: mean {m}, want {want} ± {}",
        4.0 * se
    );
}

/// A share (mean of a 0/1 outcome) is `p` within 4 standard errors.
fn share_ok(what: &str, xs: &[f64], p: f64) {
    assert!(xs.iter().all(|&x| x == 0.0 || x == 1.0), "{what}: not 0/1");
    mean_ok(what, xs, p, (p * (1.0 - p)).sqrt());
}

/// Indicator of one category of a categorical outcome, whose column holds
/// the index of its label in `outcome_labels`.
fn is(xs: &[f64], s: &flashpoint::scenario::Scenario, outcome: &str, label: &str) -> Vec<f64> {
    let o = s
        .outcomes
        .iter()
        .position(|o| o.name == outcome)
        .expect("the outcome");
    let k = s
        .outcome_labels(o)
        .iter()
        .position(|l| *l == label)
        .unwrap_or_else(|| panic!("{outcome} has no label {label}")) as f64;
    xs.iter().map(|&x| if x == k { 1.0 } else { 0.0 }).collect()
}

#[test]
fn every_recipe_is_tested_and_every_toml_block_is_a_recipe() {
    assert_eq!(
        names(),
        [
            "ladder",
            "ultimatum",
            "alliance",
            "learning",
            "choice",
            "window",
            "resolve",
            "mediation"
        ]
    );
    assert_eq!(PAGE.matches("```toml\n").count(), names().len());
}

#[test]
fn the_ladder_is_a_truncated_geometric() {
    let s = recipe("ladder");
    let rung = column_values(&s, "rung", 1, N);
    assert!(rung
        .iter()
        .all(|&r| r == r.floor() && (0.0..=4.0).contains(&r)));
    // P(R >= k) = 0.5^k for k <= 4: mean 0.9375, E[R^2] = sum (2k-1) 0.5^k.
    let second: f64 = (1..=4).map(|k| (2 * k - 1) as f64 * 0.5f64.powi(k)).sum();
    mean_ok("rung", &rung, 0.9375, (second - 0.9375f64.powi(2)).sqrt());
    let reached = column_values(&s, "rung_reached", 1, N);
    share_ok("top", &is(&reached, &s, "rung_reached", "top"), 0.0625);
    share_ok(
        "middle",
        &is(&reached, &s, "rung_reached", "middle"),
        0.1875,
    );
}

#[test]
fn an_ultimatum_is_enforced_with_probability_exp_minus_deadline_over_mean() {
    let s = recipe("ultimatum");
    share_ok(
        "struck",
        &column_values(&s, "struck", 1, N),
        (-1.0f64).exp(),
    );
    let comply = column_values(&s, "count_comply", 1, N);
    let strike = column_values(&s, "count_strike", 1, N);
    assert!(comply.iter().zip(&strike).all(|(c, s)| c + s == 1.0));
}

#[test]
fn alliance_defenders_are_binomial_and_the_attacked_member_is_not_its_own_ally() {
    let s = recipe("alliance");
    let d = column_values(&s, "defenders", 1, N);
    assert!(d.iter().all(|&x| x == 0.0 || x == 1.0 || x == 2.0));
    mean_ok("defenders", &d, 1.4, (2.0f64 * 0.7 * 0.3).sqrt());
    share_ok("abandoned", &column_values(&s, "abandoned", 1, N), 0.09);
    share_ok("C defends", &column_values(&s, "c_defends", 1, N), 0.7);
}

#[test]
fn the_learner_sees_ten_probes_and_its_belief_averages_one_third() {
    let s = recipe("learning");
    assert_eq!(column_values(&s, "seen", 1, N), vec![10.0; N as usize]);
    // belief = (1 + H) / 12 with H ~ Binomial(10, 0.3): sd sqrt(2.1) / 12.
    mean_ok(
        "belief",
        &column_values(&s, "belief", 1, N),
        1.0 / 3.0,
        2.1f64.sqrt() / 12.0,
    );
    // The alarm sounds (at least once) in the runs where hostile probes
    // ever outnumber half of those seen, 2 H_n > n for some n <= 10: a
    // ballot problem, solved here by recursion over the paths not yet across.
    let (q, mut alive, mut crossed): (f64, Vec<f64>, f64) = (0.3, vec![1.0], 0.0);
    for n in 1..=10usize {
        let mut next = vec![0.0; alive.len() + 1];
        for (h, p) in alive.iter().enumerate() {
            next[h + 1] += p * q;
            next[h] += p * (1.0 - q);
        }
        for (h, p) in next.iter_mut().enumerate() {
            if 2 * h > n {
                crossed += *p;
                *p = 0.0;
            }
        }
        alive = next;
    }
    assert!((crossed - 0.4115197).abs() < 1e-6, "{crossed}");
    let alarmed: Vec<f64> = column_values(&s, "count_alarm", 1, N)
        .iter()
        .map(|&a| if a > 0.0 { 1.0 } else { 0.0 })
        .collect();
    share_ok("alarmed", &alarmed, crossed);
}

#[test]
fn choose_picks_one_response_in_proportion_to_the_weights() {
    let s = recipe("choice");
    let r = column_values(&s, "response", 1, N);
    for (label, p) in [("protest", 0.6), ("sanction", 0.3), ("strike", 0.1)] {
        share_ok(label, &is(&r, &s, "response", label), p);
    }
    assert!(is(&r, &s, "response", "none").iter().all(|&x| x == 0.0));
    let total: Vec<f64> = ["count_protest", "count_sanction", "count_strike"]
        .iter()
        .map(|c| column_values(&s, c, 1, N))
        .fold(vec![0.0; N as usize], |acc, xs| {
            acc.iter().zip(&xs).map(|(a, x)| a + x).collect()
        });
    assert!(total.iter().all(|&t| t == 1.0));
}

#[test]
fn a_window_over_a_poisson_process_holds_a_poisson_count() {
    let s = recipe("window");
    mean_ok(
        "recent",
        &column_values(&s, "recent", 1, N),
        3.0,
        3f64.sqrt(),
    );
    share_ok(
        "quiet month",
        &column_values(&s, "quiet_month", 1, N),
        (-3.0f64).exp(),
    );
    let retaliations = column_values(&s, "count_retaliation", 1, N);
    assert!(retaliations.iter().all(|&r| r <= 1.0));
    assert!(retaliations.contains(&1.0) && retaliations.contains(&0.0));
}

#[test]
fn random_resolve_concedes_below_the_cutoff() {
    let s = recipe("resolve");
    share_ok("conceded", &column_values(&s, "conceded", 1, N), 0.3);
    let r = column_values(&s, "resolve", 1, N);
    assert!(r.iter().all(|&x| (0.0..1.0).contains(&x)));
    mean_ok("resolve", &r, 0.5, (1.0f64 / 12.0).sqrt());
}

#[test]
fn mediation_agrees_at_the_thinned_offer_rate() {
    let s = recipe("mediation");
    share_ok(
        "agreed",
        &column_values(&s, "agreed", 1, N),
        1.0 - (-1.0f64).exp(),
    );
}
