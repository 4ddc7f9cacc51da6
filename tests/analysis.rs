//! Policy analysis: paired comparison, causal paths, tie-order audit,
//! sensitivity indices and the CAMEO event stream, on small scenarios with
//! known answers.

mod common;
use common::*;

use flashpoint::analysis::{cameo_stream, compare, metrics, paths, sensitivity, ties, Metric};
use flashpoint::engine::columns;
use flashpoint::scenario::Scenario;

fn defaults(s: &Scenario) -> Vec<f64> {
    s.param_values(&[]).expect("defaults are within bounds")
}

fn with(s: &Scenario, overrides: &[(&str, f64)]) -> Vec<f64> {
    let o: Vec<(String, f64)> = overrides.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    s.param_values(&o).expect("values within bounds")
}

// ------------------------------------------------------------------ compare

/// Twenty scheduled pings; on each, a rule strikes with probability `p`.
/// `score` = number of strikes + a large noise term (a uniformly jittered
/// scheduled event, ±50) that the policy does not touch. Changing `p` changes
/// only the rule, and E[score_B − score_A] = 20 (p_B − p_A) exactly.
fn policy_scenario() -> String {
    let mut s = String::from(
        r#"
[scenario]
name = "one_rule"
horizon = 100
[params]
p = { value = 0.3, min = 0.0, max = 1.0 }
[[actor]]
id = "A"
[[event]]
id = "ping"
[[event]]
id = "strike"
[[event]]
id = "noise"
[[schedule]]
event = "noise"
at = 50
jitter = { uniform = { min = -50.0, max = 50.0 } }
[[rule]]
name = "strike_back"
actor = "A"
on = "ping"
prob = "p"
emit = { event = "strike" }
[[outcome]]
name = "score"
value = "count(strike) + first(noise)"
[[outcome]]
name = "many"
cases = [{ label = "yes", when = "count(strike) >= 8" }, { label = "no", when = "true" }]
"#,
    );
    for i in 1..=20 {
        s.push_str(&format!("[[schedule]]\nevent = \"ping\"\nat = {i}\n"));
    }
    s
}

fn row<'a>(
    rows: &'a [compare::CompareRow],
    name: &str,
    category: Option<&str>,
) -> &'a compare::CompareRow {
    rows.iter()
        .find(|r| r.metric.name == name && r.metric.category.as_deref() == category)
        .unwrap_or_else(|| panic!("no row {name} {category:?}"))
}

/// The paired estimate removes the noise term exactly (common random
/// numbers: the jitter stream is the same under A and B), so its variance is
/// that of the strike difference, 20·0.2·0.8 = 3.2, against about
/// 2·100²/12 + 20·(0.21 + 0.25) ≈ 1676 unpaired: the paired interval must be
/// far narrower (we require a variance reduction above 50, expected ≈ 500).
/// Both 95% intervals must cover the analytic difference 20·0.2 = 4; as a
/// seed-independent check, both estimates are within 4 standard errors.
#[test]
fn paired_interval_is_far_narrower_and_both_cover_the_truth() {
    let s = scenario(&policy_scenario());
    let rows = compare::compare_scenarios(
        &s,
        &with(&s, &[("p", 0.3)]),
        &s,
        &with(&s, &[("p", 0.5)]),
        2000,
        11,
        2,
    )
    .expect("runs");
    let r = row(&rows, "score", None);
    let truth = 4.0;
    assert_eq!(r.n, 2000);
    assert!(r.lo <= truth && truth <= r.hi, "paired {r:?}");
    assert!(
        r.lo_unpaired <= truth && truth <= r.hi_unpaired,
        "unpaired {r:?}"
    );
    assert!((r.diff - truth).abs() < 4.0 * r.se, "{r:?}");
    assert!(
        (r.diff_unpaired - truth).abs() < 4.0 * r.se_unpaired,
        "{r:?}"
    );
    assert!(r.variance_reduction > 50.0, "{r:?}");
    assert!((r.hi - r.lo) * 7.0 < r.hi_unpaired - r.lo_unpaired, "{r:?}");
    // The noise-free parts agree between the paired and the unpaired run.
    let strikes = row(&rows, "count_strike", None);
    assert!(
        (strikes.diff - truth).abs() < 4.0 * strikes.se,
        "{strikes:?}"
    );
    // Categorical shares are compared as indicators; their differences sum to 0.
    let (yes, no) = (
        row(&rows, "many", Some("yes")),
        row(&rows, "many", Some("no")),
    );
    assert!((yes.diff + no.diff).abs() < 1e-12);
    assert!(yes.diff > 0.0);
    // Unchanged metrics: exactly zero paired difference.
    let pings = row(&rows, "count_ping", None);
    assert_eq!((pings.diff, pings.se), (0.0, 0.0));
}

#[test]
fn comparison_does_not_depend_on_threads() {
    let s = scenario(&policy_scenario());
    let (a, b) = (with(&s, &[("p", 0.1)]), with(&s, &[("p", 0.9)]));
    let one = compare::compare_scenarios(&s, &a, &s, &b, 600, 5, 1).expect("runs");
    let three = compare::compare_scenarios(&s, &a, &s, &b, 600, 5, 3).expect("runs");
    assert_eq!(compare::compare_csv(&one), compare::compare_csv(&three));
    assert!(compare::compare_csv(&one).starts_with(compare::COMPARE_HEADER));
}

#[test]
fn a_comparison_reports_progress_and_stops_when_told() {
    let s = scenario(&policy_scenario());
    let (a, b) = (with(&s, &[("p", 0.1)]), with(&s, &[("p", 0.9)]));
    let reps = 3 * flashpoint::analysis::BLOCK + 10;
    let whole = compare::compare_scenarios(&s, &a, &s, &b, reps, 5, 2).expect("runs");
    let mut seen = Vec::new();
    let told = compare::compare_scenarios_while(&s, &a, &s, &b, reps, 5, 2, &mut |done, total| {
        seen.push((done, total));
        true
    })
    .expect("runs")
    .expect("finished");
    assert_eq!(compare::compare_csv(&told), compare::compare_csv(&whole));
    let block = flashpoint::analysis::BLOCK;
    assert_eq!(
        seen,
        vec![
            (block, reps),
            (2 * block, reps),
            (3 * block, reps),
            (reps, reps)
        ]
    );
    let mut calls = 0;
    let stopped = compare::compare_scenarios_while(&s, &a, &s, &b, reps, 5, 2, &mut |_, _| {
        calls += 1;
        false
    })
    .expect("no replication fails");
    assert!(stopped.is_none());
    assert_eq!(
        calls, 1,
        "no block is handed over after the one that said stop"
    );
}

#[test]
fn compare_csv_header_names_the_row_stats_in_order() {
    let header = format!(
        "metric,kind,category,n,{}\n",
        compare::CompareRow::STATS.join(",")
    );
    assert_eq!(compare::COMPARE_HEADER, header);
}

#[test]
fn compare_files_and_errors() {
    let dir = temp_dir("analysis-compare");
    let a_path = dir.join("a.toml");
    let b_path = dir.join("b.toml");
    std::fs::write(&a_path, policy_scenario()).expect("write");
    // Same outputs, a different policy written into the file.
    std::fs::write(
        &b_path,
        policy_scenario().replace("value = 0.3", "value = 0.5"),
    )
    .expect("write");
    let arm = |p: &std::path::Path, o: &[(&str, f64)]| compare::Arm {
        scenario_path: p.to_path_buf(),
        overrides: o.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
    };
    let config = |a, b| compare::CompareConfig {
        a,
        b,
        reps: 300,
        seed: Some(3),
        threads: 2,
        out: Some(dir.join("out")),
        command: vec!["flashpoint".into(), "compare".into()],
    };
    let report = compare::compare(&config(arm(&a_path, &[]), arm(&b_path, &[]))).expect("runs");
    let text = std::fs::read_to_string(dir.join("out/compare.csv")).expect("written");
    assert_eq!(text, compare::compare_csv(&report.rows));
    assert!(dir.join("out/manifest.json").exists());
    // The file-based comparison equals the parameter-based one.
    let s = scenario(&policy_scenario());
    let direct = compare::compare_scenarios(
        &s,
        &with(&s, &[("p", 0.3)]),
        &s,
        &with(&s, &[("p", 0.5)]),
        300,
        3,
        1,
    )
    .expect("runs");
    assert_eq!(compare::compare_csv(&direct), text);

    // Without --out: the directory above holds a result now, which is refused
    // before any of these errors could be found.
    let err = |c: compare::CompareConfig| {
        let c = compare::CompareConfig { out: None, ..c };
        compare::compare(&c).unwrap_err().to_string()
    };
    let e = err(config(arm(&a_path, &[("pp", 0.1)]), arm(&a_path, &[])));
    assert!(
        e.contains("unknown parameter `pp`") && e.contains("`p`"),
        "{e}"
    );
    let e = err(config(arm(&a_path, &[]), arm(&a_path, &[("p", 1.5)])));
    assert!(e.contains("--b") && e.contains("outside its bounds"), "{e}");
    let e = err(config(arm(&a_path, &[]), arm(&a_path, &[])));
    assert!(e.contains("identical"), "{e}");
    let other = dir.join("other.toml");
    std::fs::write(
        &other,
        policy_scenario().replace("name = \"score\"", "name = \"points\""),
    )
    .expect("write");
    let e = err(config(arm(&a_path, &[]), arm(&other, &[])));
    assert!(
        e.contains("different outputs") && e.contains("`score`"),
        "{e}"
    );
}

// ------------------------------------------------------------------ paths

/// start (scheduled) → close (rule, always) → protest (rule, prob 0.5);
/// ends with `clash` (terminal) caused by protest with prob 0.5.
const CHAIN: &str = r#"
[scenario]
name = "chain"
horizon = 10
[[actor]]
id = "A"
[[actor]]
id = "B"
[[event]]
id = "start"
[[event]]
id = "close"
[[event]]
id = "protest"
[[event]]
id = "clash"
terminal = true
[[schedule]]
event = "start"
at = 1
source = "A"
target = "B"
[[rule]]
name = "closes"
actor = "A"
on = "start"
delay = { fixed = 1 }
emit = { event = "close", target = "B" }
[[rule]]
name = "protests"
actor = "B"
on = "close"
prob = 0.5
delay = { fixed = 1 }
emit = { event = "protest", target = "A" }
[[rule]]
name = "escalates"
actor = "A"
on = "protest"
prob = 0.5
delay = { fixed = 1 }
emit = { event = "clash", target = "B" }
[[outcome]]
name = "path"
cases = [{ label = "war", when = "count(clash) > 0" }, { label = "peace", when = "true" }]
"#;

#[test]
fn paths_aggregate_canonical_chains_with_wilson_intervals() {
    let s = scenario(CHAIN);
    let cols = columns(&s);
    let group = cols.iter().position(|c| c.name == "path").expect("column");
    let rows = paths::top_paths(
        &s,
        &defaults(&s),
        9,
        4000,
        2,
        group,
        &paths::Anchor::Longest,
        5,
    )
    .expect("runs");
    let war: Vec<_> = rows.iter().filter(|r| r.category == "war").collect();
    let peace: Vec<_> = rows.iter().filter(|r| r.category == "peace").collect();
    assert_eq!(war.len(), 1);
    assert_eq!(
        war[0].chain,
        "start -> close (closes) -> protest (protests) -> clash (escalates)"
    );
    assert_eq!((war[0].share, war[0].steps, war[0].rank), (1.0, 4, 1));
    // Peace: no protest (P = 0.5, 2/3 of peace runs) or a protest that did
    // not escalate (P = 0.25, 1/3); the deepest chain ends at close or protest.
    assert_eq!(peace.len(), 2);
    assert_eq!(peace[0].chain, "start -> close (closes)");
    assert_eq!(
        peace[1].chain,
        "start -> close (closes) -> protest (protests)"
    );
    // War is P = 0.25: 4000 runs give an SE of about 0.007; 4 SE.
    let n_war = war[0].n_category as f64 / 4000.0;
    assert!((n_war - 0.25).abs() < 0.028, "{n_war}");
    let share = peace[0].share;
    assert!((share - 2.0 / 3.0).abs() < 4.0 * (2.0 / 9.0 / peace[0].n_category as f64).sqrt());
    assert!(peace[0].lo < share && share < peace[0].hi);
    assert_eq!(peace[0].count + peace[1].count, peace[0].n_category);
    // An anchor event type: the last `close` in every run.
    let anchored = paths::top_paths(
        &s,
        &defaults(&s),
        9,
        500,
        2,
        group,
        &paths::Anchor::Events(vec![1]),
        5,
    )
    .expect("runs");
    assert!(anchored
        .iter()
        .all(|r| r.chain == "start -> close (closes)"));
    // Thread count does not matter; the CSV quotes nothing here.
    let one = paths::top_paths(
        &s,
        &defaults(&s),
        9,
        700,
        1,
        group,
        &paths::Anchor::Deciding,
        5,
    )
    .expect("runs");
    let two = paths::top_paths(
        &s,
        &defaults(&s),
        9,
        700,
        3,
        group,
        &paths::Anchor::Deciding,
        5,
    )
    .expect("runs");
    assert_eq!(
        paths::paths_csv("path", &one),
        paths::paths_csv("path", &two)
    );
}

#[test]
fn paths_reject_numeric_outcomes_and_unknown_names() {
    let dir = temp_dir("analysis-paths");
    let path = dir.join("chain.toml");
    std::fs::write(&path, CHAIN).expect("write");
    let config = |outcome: Option<&str>, anchors: &[&str]| paths::PathsConfig {
        scenario_path: path.clone(),
        overrides: vec![],
        reps: 50,
        seed: None,
        threads: 1,
        outcome: outcome.map(String::from),
        anchors: anchors.iter().map(|a| a.to_string()).collect(),
        longest: false,
        top: 3,
        out: Some(dir.join("out")),
        command: vec!["flashpoint".into(), "paths".into()],
    };
    let report = paths::paths(&config(None, &[])).expect("runs");
    assert_eq!(report.outcome, "terminal");
    let csv = std::fs::read_to_string(dir.join("out/paths.csv")).expect("written");
    assert!(csv.starts_with(paths::PATHS_HEADER));
    assert!(csv.contains(
        "terminal,clash,1,start -> close (closes) -> protest (protests) -> clash (escalates),4,"
    ));
    let e = paths::paths(&config(Some("n_events"), &[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("numeric") && e.contains("path, terminal"), "{e}");
    let e = paths::paths(&config(Some("pth"), &[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `path`"), "{e}");
    let e = paths::paths(&config(None, &["protset"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `protest`"), "{e}");
}

// ------------------------------------------------------------------ tie audit

/// Two events at t = 5 with the same priority; whichever comes first wins.
/// In scheduling order `a` always wins; shuffled, each wins half the time.
const TIE_DEPENDENT: &str = r#"
[scenario]
name = "race"
horizon = 10
[[actor]]
id = "X"
state = { done = false, winner = 0 }
[[event]]
id = "a"
effects = ["X.winner = if X.done then X.winner else 1", "X.done = true"]
[[event]]
id = "b"
effects = ["X.winner = if X.done then X.winner else 2", "X.done = true"]
[[schedule]]
event = "a"
at = 5
[[schedule]]
event = "b"
at = 5
[[outcome]]
name = "winner"
value = "X.winner"
[[outcome]]
name = "who"
cases = [{ label = "a", when = "X.winner == 1" }, { label = "b", when = "true" }]
"#;

/// The same two simultaneous events with commutative effects, plus a
/// random hazard: nothing can depend on their order.
const TIE_FREE: &str = r#"
[scenario]
name = "commute"
horizon = 10
[[actor]]
id = "X"
state = { total = 0 }
[[event]]
id = "a"
effects = ["X.total += 1"]
[[event]]
id = "b"
effects = ["X.total += 2"]
[[event]]
id = "noise"
[[schedule]]
event = "a"
at = 5
[[schedule]]
event = "b"
at = 5
[[hazard]]
name = "noise"
event = "noise"
rate = 0.5
[[outcome]]
name = "total"
value = "X.total + count(noise)"
"#;

#[test]
fn tie_audit_flags_an_order_dependent_outcome() {
    let s = scenario(TIE_DEPENDENT);
    let report = ties::tie_audit(&s, &[], 1, 400, 2).expect("runs");
    let flagged: Vec<String> = report.flagged().map(|r| r.metric.display()).collect();
    assert_eq!(flagged, ["winner", "who=a", "who=b"]);
    let w = report
        .rows
        .iter()
        .find(|r| r.metric.name == "winner")
        .expect("row");
    assert_eq!(w.mean_default, 1.0);
    // Shuffled, `b` wins about half the time: 400 runs, SE 0.025; 4 SE.
    assert!((w.mean_shuffled - 1.5).abs() < 0.1, "{w:?}");
    assert_eq!(w.n_changed, report.n_reps_changed);
    assert!(ties::render(&report).contains("moved beyond Monte Carlo error"));
}

#[test]
fn tie_audit_passes_an_order_free_scenario() {
    let s = scenario(TIE_FREE);
    let report = ties::tie_audit(&s, &[], 1, 400, 2).expect("runs");
    assert_eq!(report.flagged().count(), 0);
    assert_eq!(report.n_reps_changed, 0);
    assert!(report.rows.iter().all(|r| r.z == 0.0));
    let csv = ties::tie_csv(&report.rows);
    assert!(csv.starts_with(ties::TIE_HEADER));
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",0,false,0,1")),
        "{csv}"
    );
}

/// Tie order that moves a metric's distribution but not its mean: with `a`
/// first (the default order) `x` stays 0.5; with `b` first a rule sets it to
/// 0 or 1 with equal weights. The paired mean difference is 0 in
/// expectation, so only the KS test can flag it. Shuffled, `b` comes first
/// with probability 1/2, and the rule's zero-delay firing (a fresh key)
/// then beats `a`, whose key is the larger of two, with probability 2/3:
/// `x` moves in 1/3 of the replications, half to 0, so D = 1/6, far past
/// the 1e-4 level at 2000 replications.
const TIE_SPREADS: &str = r#"
[scenario]
name = "spread"
horizon = 10
[[actor]]
id = "A"
state = { x = 0.5, a_done = false }
[[event]]
id = "a"
effects = ["A.a_done = true"]
[[event]]
id = "b"
[[event]]
id = "low"
effects = ["A.x = 0"]
[[event]]
id = "high"
effects = ["A.x = 1"]
[[schedule]]
event = "a"
at = 1
[[schedule]]
event = "b"
at = 1
[[rule]]
name = "spread"
actor = "A"
on = "b"
when = "not A.a_done"
choose = [ { event = "low", weight = 1 }, { event = "high", weight = 1 } ]
[[outcome]]
name = "x"
value = "A.x"
"#;

#[test]
fn tie_audit_flags_a_distribution_that_moves_without_its_mean() {
    let s = scenario(TIE_SPREADS);
    let report = ties::tie_audit(&s, &[], 3, 2000, 2).expect("runs");
    let x = report
        .rows
        .iter()
        .find(|r| r.metric.name == "x")
        .expect("row");
    assert!(x.z.abs() < 4.0, "the mean alone would not flag it: {x:?}");
    // D's standard error here is about sqrt(p(1-p)/n) <= 0.012: 4 of them.
    assert!((x.ks_d - 1.0 / 6.0).abs() < 0.05, "{x:?}");
    assert!(
        (x.n_changed as f64 / 2000.0 - 1.0 / 3.0).abs() < 4.0 * 0.0106,
        "{x:?}"
    );
    assert!(x.ks_p < 1e-10 && x.flagged, "{x:?}");
}

// ------------------------------------------------------------------ sensitivity

fn index(
    rows: &[sensitivity::IndexRow],
    metric: &str,
    param: &str,
    index: &str,
) -> (f64, f64, f64) {
    let r = rows
        .iter()
        .find(|r| r.metric.name == metric && r.param == param && r.index == index)
        .unwrap_or_else(|| panic!("no {metric} {param} {index}"));
    (r.estimate, r.lo, r.hi)
}

/// y = 2·x1 + 0·x2, x1 in [0, 5]: every elementary effect is the change
/// across the whole range, 10; x2 has none.
#[test]
fn morris_effects_of_a_linear_model_are_exact() {
    let s = scenario(
        r#"
[scenario]
name = "linear"
horizon = 1
[params]
x1 = { value = 1.0, min = 0.0, max = 5.0 }
x2 = { value = 1.0, min = -1.0, max = 1.0 }
[[actor]]
id = "A"
[[outcome]]
name = "y"
value = "2 * x1 + 0 * x2"
"#,
    );
    let rows = sensitivity::analyse(
        &s,
        &defaults(&s),
        &[(0, 0.0, 5.0), (1, -1.0, 1.0)],
        sensitivity::Method::Morris { trajectories: 10 },
        1,
        3,
        1,
        200,
    )
    .expect("runs");
    let (mu_star, lo, hi) = index(&rows, "y", "x1", "mu_star");
    assert!((mu_star - 10.0).abs() < 1e-9 && (lo - 10.0).abs() < 1e-9 && (hi - 10.0).abs() < 1e-9);
    let (sigma, _, _) = index(&rows, "y", "x1", "sigma");
    assert!(sigma.abs() < 1e-9);
    assert_eq!(index(&rows, "y", "x2", "mu_star"), (0.0, 0.0, 0.0));
}

/// y = x1 + 2·x2 with both uniform on [0, 1]: V = 1/12 + 4/12, so
/// S1 = ST = 0.2 for x1 and 0.8 for x2.
#[test]
fn sobol_indices_of_an_additive_model() {
    let s = scenario(
        r#"
[scenario]
name = "additive"
horizon = 1
[params]
x1 = { value = 0.5, min = 0.0, max = 1.0 }
x2 = { value = 0.5, min = 0.0, max = 1.0 }
[[actor]]
id = "A"
[[outcome]]
name = "y"
value = "x1 + 2 * x2"
"#,
    );
    let rows = sensitivity::analyse(
        &s,
        &defaults(&s),
        &[(0, 0.0, 1.0), (1, 0.0, 1.0)],
        sensitivity::Method::Sobol { n: 1024 },
        1,
        8,
        1,
        300,
    )
    .expect("runs");
    for (param, truth) in [("x1", 0.2), ("x2", 0.8)] {
        for ix in ["S1", "ST"] {
            let (est, lo, hi) = index(&rows, "y", param, ix);
            assert!(
                lo <= truth && truth <= hi,
                "{param} {ix}: {est} [{lo}, {hi}]"
            );
        }
    }
    // Constant built-ins have no variance to apportion.
    assert!(index(&rows, "n_events", "x1", "S1").0.is_nan());
}

/// P(war) = 0.02 + 0.013·x (z does nothing): with 100 replications per
/// point the Monte Carlo noise of a point's mean (sd about 0.016) dwarfs the
/// effect of x across its whole range (0.013). Truth: S1 = ST = 1 for x, 0
/// for z.
const NOISY: &str = r#"
[scenario]
name = "noisy"
horizon = 10
[params]
x = { value = 0.5, min = 0.0, max = 1.0 }
z = { value = 0.5, min = 0.0, max = 1.0 }
[[actor]]
id = "A"
[[actor]]
id = "B"
[[event]]
id = "crisis"
[[event]]
id = "war"
terminal = true
[[schedule]]
event = "crisis"
at = 1
source = "A"
target = "B"
[[rule]]
name = "escalate"
actor = "A"
on = "crisis"
prob = "0.02 + 0.013 * x + 0 * z"
emit = { event = "war", target = "B" }
[[outcome]]
name = "war"
value = "count(war)"
"#;

/// The intervals include the noise of the replications (resampled with the
/// design), so they cover the truth, and every index of the metric is
/// flagged `noise`; z, which does nothing under common random numbers,
/// keeps [0, 0].
#[test]
fn sobol_intervals_include_the_noise_of_the_replications_and_flag_it() {
    let s = scenario(NOISY);
    for seed in 1..=3 {
        let rows = sensitivity::analyse(
            &s,
            &defaults(&s),
            &[(0, 0.0, 1.0), (1, 0.0, 1.0)],
            sensitivity::Method::Sobol { n: 64 },
            100,
            seed,
            1,
            300,
        )
        .expect("runs");
        for ix in ["S1", "ST"] {
            let (est, lo, hi) = index(&rows, "war", "x", ix);
            assert!(
                lo <= 1.0 && 1.0 <= hi,
                "seed {seed} {ix}: {est} [{lo}, {hi}]"
            );
            assert_eq!(index(&rows, "war", "z", ix), (0.0, 0.0, 0.0));
        }
        for r in rows.iter().filter(|r| r.metric.name == "war") {
            assert!(r.noise_share > 1.0, "{r:?}");
            assert!(r.flag.split(';').any(|f| f == "noise"), "{r:?}");
        }
    }
}

/// A deterministic output repeated over replications: resampling them
/// changes nothing, so the intervals are those of one replication (tight)
/// and nothing is flagged.
#[test]
fn deterministic_outputs_keep_their_tight_intervals_at_any_reps() {
    let s = scenario(
        r#"
[scenario]
name = "additive"
horizon = 1
[params]
x1 = { value = 0.5, min = 0.0, max = 1.0 }
x2 = { value = 0.5, min = 0.0, max = 1.0 }
[[actor]]
id = "A"
[[outcome]]
name = "y"
value = "x1 + 2 * x2"
"#,
    );
    let run = |reps| {
        sensitivity::analyse(
            &s,
            &defaults(&s),
            &[(0, 0.0, 1.0), (1, 0.0, 1.0)],
            sensitivity::Method::Sobol { n: 256 },
            reps,
            8,
            1,
            200,
        )
        .expect("runs")
    };
    let (one, five) = (run(1), run(5));
    // (The mean of five equal values may differ from the value in its last bit.)
    let close = |x: f64, y: f64| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-12;
    for (a, b) in one.iter().zip(&five) {
        assert!(
            close(a.estimate, b.estimate) && close(a.lo, b.lo) && close(a.hi, b.hi),
            "{a:?} vs {b:?}"
        );
    }
    let y: Vec<_> = five.iter().filter(|r| r.metric.name == "y").collect();
    assert!(
        y.iter().all(|r| r.flag.is_empty() && r.noise_share == 0.0),
        "{y:?}"
    );
    let (_, lo, hi) = index(&five, "y", "x2", "ST");
    // Only the design error of 256 base samples: truth 0.8.
    assert!(hi - lo < 0.3 && lo <= 0.8 && 0.8 <= hi, "[{lo}, {hi}]");
}

const PI: f64 = std::f64::consts::PI;

fn ishigami() -> Scenario {
    scenario(&format!(
        r#"
[scenario]
name = "ishigami"
horizon = 1
[params]
x1 = {{ value = 0.0, min = {lo}, max = {hi} }}
x2 = {{ value = 0.0, min = {lo}, max = {hi} }}
x3 = {{ value = 0.0, min = {lo}, max = {hi} }}
[[actor]]
id = "A"
[[outcome]]
name = "y"
value = "sin(x1) + 7 * sin(x2)^2 + 0.1 * x3^4 * sin(x1)"
"#,
        lo = -PI,
        hi = PI
    ))
}

/// The closed-form Ishigami indices (a = 7, b = 0.1): with
/// V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2, V1 = (1 + bπ⁴/5)²/2, V2 = a²/8, V3 = 0,
/// VT1 = V1 + 8b²π⁸/225, VT3 = 8b²π⁸/225.
fn ishigami_truth() -> [(&'static str, f64, f64); 3] {
    let (a, b) = (7.0f64, 0.1f64);
    let pi4 = PI.powi(4);
    let pi8 = PI.powi(8);
    let v = a * a / 8.0 + b * pi4 / 5.0 + b * b * pi8 / 18.0 + 0.5;
    let v1 = 0.5 * (1.0 + b * pi4 / 5.0).powi(2);
    let v2 = a * a / 8.0;
    let vt3 = 8.0 * b * b * pi8 / 225.0;
    [
        ("x1", v1 / v, (v1 + vt3) / v),
        ("x2", v2 / v, v2 / v),
        ("x3", 0.0, vt3 / v),
    ]
}

#[test]
fn ishigami_closed_form_matches_the_published_values() {
    let t = ishigami_truth();
    let close = |x: f64, y: f64| (x - y).abs() < 5e-5;
    assert!(close(t[0].1, 0.3139) && close(t[1].1, 0.4424) && t[2].1 == 0.0);
    assert!(close(t[0].2, 0.5576) && close(t[1].2, 0.4424) && close(t[2].2, 0.2437));
}

/// Sobol indices of the Ishigami function, N = 4096 base samples, over ten
/// seeds: 60 (index, seed) pairs.
/// - Every estimate lies within 4 bootstrap standard errors (interval width
///   / 3.92) of the closed form: a correct estimator fails one check with
///   probability about 6e-5.
/// - The reported 95% intervals cover the closed form at least 50 times in
///   60: with true 95% coverage, fewer happens with probability 1.7e-4.
///
/// A single seed cannot be asked to cover all six: with six 95% intervals,
/// one misses in about a quarter of seeds (seed 2025 with N = 8192 misses
/// S1 of x1 by 2.3 standard errors; over 30 seeds the estimates average
/// within 0.002 of every closed-form value).
#[test]
#[ignore = "statistical validation; run in release: cargo test --release --test analysis -- --ignored"]
fn sobol_recovers_the_ishigami_indices() {
    let s = ishigami();
    let vary = [(0, -PI, PI), (1, -PI, PI), (2, -PI, PI)];
    let mut covered = 0;
    for seed in 1..=10 {
        let rows = sensitivity::analyse(
            &s,
            &defaults(&s),
            &vary,
            sensitivity::Method::Sobol { n: 4096 },
            1,
            seed,
            2,
            1000,
        )
        .expect("runs");
        for (param, s1, st) in ishigami_truth() {
            for (ix, truth) in [("S1", s1), ("ST", st)] {
                let (est, lo, hi) = index(&rows, "y", param, ix);
                covered += usize::from(lo <= truth && truth <= hi);
                let se = (hi - lo) / (2.0 * 1.959964);
                assert!(
                    (est - truth).abs() < 4.0 * se,
                    "seed {seed} {param} {ix}: {est} [{lo}, {hi}] vs {truth}"
                );
            }
        }
    }
    assert!(covered >= 50, "{covered} of 60 intervals cover the truth");
}

/// Morris on Ishigami. On the 4-level grid {−π, −π/3, π/3, π} with step
/// 2/3 of the range, sin²(x2) moves between 0 and 3/4 at every step, so
/// every elementary effect of x2 is ±7·(3/4)/(2/3) = ±7.875: μ* is exactly
/// 7.875. x3 acts only through its interaction with x1, so its σ is of the
/// order of its μ*.
#[test]
fn morris_effects_on_the_ishigami_grid() {
    let s = ishigami();
    let vary = [(0, -PI, PI), (1, -PI, PI), (2, -PI, PI)];
    let rows = sensitivity::analyse(
        &s,
        &defaults(&s),
        &vary,
        sensitivity::Method::Morris { trajectories: 100 },
        1,
        4,
        2,
        200,
    )
    .expect("runs");
    let (mu_star, lo, hi) = index(&rows, "y", "x2", "mu_star");
    assert!((mu_star - 7.875).abs() < 1e-9, "{mu_star}");
    assert!((lo - 7.875).abs() < 1e-9 && (hi - 7.875).abs() < 1e-9);
    let (mu3, _, _) = index(&rows, "y", "x3", "mu_star");
    let (sigma3, _, _) = index(&rows, "y", "x3", "sigma");
    assert!(mu3 > 0.0 && sigma3 > 0.5 * mu3, "{mu3} {sigma3}");
}

#[test]
fn sensitivity_arguments_are_checked() {
    use sensitivity::{parse_method, resolve_vary};
    assert_eq!(
        parse_method("morris:20"),
        Ok(sensitivity::Method::Morris { trajectories: 20 })
    );
    assert!(parse_method("sobol:1").unwrap_err().contains("at least 2"));
    assert!(parse_method("fast:10")
        .unwrap_err()
        .contains("unknown method"));
    let s = ishigami();
    let e = |vary: &[&str], set: &[(String, f64)]| {
        let vary: Vec<String> = vary.iter().map(|v| v.to_string()).collect();
        resolve_vary(&s, &vary, set, "sensitivity")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        e(&["x1=2:1"], &[]),
        "--vary x1: the range 2:1 is empty or inverted"
    );
    assert_eq!(
        e(&["x1=1"], &[]),
        "--vary x1: sensitivity varies a parameter over a range; give NAME=lo:hi or NAME, not `x1=1`"
    );
    assert!(e(&["x4=0:1"], &[]).contains("unknown parameter `x4`"));
    assert!(e(&["x1=0:4"], &[]).contains("outside the declared bounds"));
    assert_eq!(e(&["x1=0:1", "x1=0:2"], &[]), "--vary x1 is given twice");
    assert_eq!(
        e(&["x1=0:1"], &[("x1".into(), 0.5)]),
        "parameter `x1` is both --set and --vary; drop one"
    );
    assert_eq!(
        e(&[], &[]),
        "sensitivity needs at least one --vary NAME or NAME=lo:hi"
    );
    // A bare name varies the parameter over its declared bounds.
    let v = resolve_vary(&s, &["x1".to_string()], &[], "sensitivity").unwrap();
    let p = &s.params[v[0].0];
    assert_eq!((v[0].1, v[0].2), (p.min, p.max));
}

// ------------------------------------------------------------------ CAMEO stream

#[test]
fn cameo_stream_skips_events_without_a_code() {
    let s = scenario(
        r#"
[scenario]
name = "dyadic"
horizon = 30
start = 2025-09-01
[[actor]]
id = "POL"
[[actor]]
id = "BLR"
[[event]]
id = "close"
cameo = "160"
[[event]]
id = "review"
[[event]]
id = "protest"
cameo = "114"
[[schedule]]
event = "close"
at = 2025-09-12
source = "POL"
target = "BLR"
[[schedule]]
event = "review"
at = 2025-09-13
[[rule]]
name = "protests"
actor = "BLR"
on = "close"
delay = { fixed = 0.25 }
emit = { event = "protest", target = "source" }
"#,
    );
    let text = cameo_stream::cameo_stream(&s, &[], 1, 2).expect("runs");
    let entry = |c| flashpoint::cameo::lookup(c).expect("known code");
    let expected = format!(
        "{}2025-09-12T00:00,POL,BLR,160,{},{},0\n2025-09-12T06:00,BLR,POL,114,{},{},0\n",
        cameo_stream::CAMEO_HEADER,
        entry("160").goldstein,
        entry("160").quad_class,
        entry("114").goldstein,
        entry("114").quad_class,
    );
    let rep0: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    assert_eq!(rep0, expected);
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().skip(3).all(|l| l.ends_with(",1")));
}

// ------------------------------------------------------------------ metrics

#[test]
fn metrics_expand_categories_into_indicators() {
    let s = scenario(TIE_DEPENDENT);
    let m: Vec<Metric> = metrics(&columns(&s));
    let names: Vec<String> = m.iter().map(Metric::display).collect();
    assert_eq!(&names[..3], ["winner", "who=a", "who=b"]);
    assert!(names.contains(&"terminal=horizon".to_string()));
}
