//! The Belarus 2021 scenario (`scenarios/belarus2021.toml`) does what its
//! page, `docs/belarus2021.md`, says: every `flashpoint …` line of the page's
//! `sh` blocks runs, in order, in a scratch directory, and the page's
//! calibration table, sweep, paths and compare claims are checked against
//! the files those lines write. The commands are read from the page, so the
//! page cannot drift from what is tested.

mod common;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const PAGE: &str = include_str!("../docs/belarus2021.md");

/// The `flashpoint …` lines of the page's `sh` blocks.
fn commands(page: &str) -> Vec<&str> {
    common::doc_commands(page)
}

/// Rows of a CSV file as maps from column to value.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|e| panic!("{col} = {:?}: {e}", row[col]))
}

/// Runs the page's commands once, in a scratch directory that links the
/// repository's `scenarios/`, and returns that directory.
fn ran() -> &'static PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| common::run_commands_in_scratch("belarus2021-docs", &commands(PAGE)))
}

#[test]
fn the_page_shows_validate_run_sweep_paths_and_compare() {
    let verbs: Vec<&str> = commands(PAGE)
        .iter()
        .map(|l| l.split_whitespace().nth(1).expect("a verb"))
        .collect();
    assert_eq!(verbs, ["validate", "run", "sweep", "paths", "compare"]);
}

/// Every number in the calibration table is the mean that the page's `run`
/// line writes to `summary.csv` (to the four decimals shown).
#[test]
fn the_calibration_table_is_what_the_run_measures() {
    let summary = rows(&ran().join("out/belarus/summary.csv"));
    let mean = |metric: &str| -> f64 {
        let (name, category) = match metric.split_once(" = ") {
            Some((n, c)) => (n, c),
            None => (metric, ""),
        };
        let row = summary
            .iter()
            .find(|r| r["metric"] == name && r["category"] == category)
            .unwrap_or_else(|| panic!("no summary row for {metric}"));
        num(row, "mean")
    };
    let table = PAGE
        .split("## Calibration")
        .nth(1)
        .expect("a calibration section");
    let mut n = 0;
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let metric = cells[1].trim_matches('`');
        let stated: f64 = cells[2].parse().expect("a number");
        let measured = mean(metric);
        assert!(
            (measured - stated).abs() < 5e-5,
            "{metric}: the page says {stated}, the run gives {measured}"
        );
        n += 1;
    }
    assert_eq!(n, 8, "calibration rows");
    // The record is typical, not a tail: each percentile is within 20-80 %,
    // and the recorded ending is the most common one.
    for m in [
        "pol_attempts_at_most_record",
        "deaths_at_most_record",
        "pol_emergency_by_record",
        "package_by_record",
    ] {
        let p = mean(m);
        assert!((0.2..=0.8).contains(&p), "{m} = {p}");
    }
    let deal = mean("path = deal");
    for other in ["confrontation", "standoff", "attrition"] {
        assert!(deal > mean(&format!("path = {other}")), "{other}");
    }
    assert!(mean("path = confrontation") < 0.05);
}

/// Pushbacks cost more when people try again: Poland's attempts and the
/// deaths rise with `retry_prob` at every step, by more than 3 standard
/// errors of the difference.
#[test]
fn the_sweep_shows_retries_multiplying_attempts_and_deaths() {
    let summary = rows(&ran().join("out/belarus-sweep/summary.csv"));
    for metric in ["pol_attempts_k", "deaths"] {
        let at: Vec<(f64, f64, f64)> = summary
            .iter()
            .filter(|r| r["metric"] == metric)
            .map(|r| (num(r, "retry_prob"), num(r, "mean"), num(r, "se")))
            .collect();
        assert_eq!(
            at.iter().map(|p| p.0).collect::<Vec<_>>(),
            [0.2, 0.5, 0.8],
            "{metric}"
        );
        for w in at.windows(2) {
            let z = (w[1].1 - w[0].1) / (w[0].2.powi(2) + w[1].2.powi(2)).sqrt();
            assert!(z > 3.0, "{metric}: {:?} -> {:?} (z = {z})", w[0], w[1]);
        }
    }
}

/// The most frequent chain to a deal is the one the page quotes, with the
/// share it gives.
#[test]
fn paths_finds_the_gathering_and_the_call_before_a_deal() {
    let paths = rows(&ran().join("out/belarus-paths/paths.csv"));
    let top = paths
        .iter()
        .find(|r| r["category"] == "deal" && r["rank"] == "1")
        .expect("a deal chain");
    let chain = &top["chain"];
    let quoted = "attempt -> pushback (push_back[POL]) -> mass_gathering (belarus_masses_migrants) -> mediation_call (mediator_calls) -> deal (belarus_answers)";
    assert_eq!(chain, quoted);
    assert!(
        PAGE.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(&format!("`{quoted}`")),
        "the page quotes the chain"
    );
    let share = num(top, "share");
    assert_eq!(format!("{:.0}%", 100.0 * share), "39%");
}

/// Harder curbs on the carriers cut Poland's attempts by about 7,400 and the
/// deaths by about 4.3 per run, both clear of zero (paired).
#[test]
fn compare_shows_what_stopping_the_airlines_is_worth() {
    let cmp = rows(&ran().join("out/belarus-compare/compare.csv"));
    let diff = |m: &str| {
        let r = cmp
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap_or_else(|| panic!("no row {m}"));
        (num(r, "diff"), num(r, "ci95_hi"))
    };
    let (attempts, hi) = diff("pol_attempts_k");
    assert!(hi < 0.0 && (attempts + 7.4).abs() < 0.05, "{attempts}");
    let (deaths, hi) = diff("deaths");
    assert!(hi < 0.0 && (deaths + 4.3).abs() < 0.05, "{deaths}");
    // Poland's emergency comes before the curbs, so it does not move at all.
    assert_eq!(diff("pol_emergency_day").0, 0.0);
}
