//! `scenarios/cuba1962.toml` and its page `docs/cuba1962.md`: every
//! `flashpoint …` command of the page runs exactly as written (so the page
//! cannot drift from the scenario), and the results say what the page says:
//! the outcome shares, the sweep's direction, the paths and the effect of
//! closing the back channel.

mod common;

const DOC: &str = include_str!("../docs/cuba1962.md");

/// The `flashpoint …` lines of the page's `sh` blocks, in order.
fn doc_commands(doc: &str) -> Vec<&str> {
    common::doc_commands(doc)
}

/// Runs the page's commands in a scratch directory holding `scenarios/`.
fn run_doc_commands(name: &str) -> std::path::PathBuf {
    common::run_commands_in_scratch(name, &doc_commands(DOC))
}

use common::{cell, csv_rows as csv};

#[test]
fn the_page_shows_every_kind_of_command() {
    let kinds: Vec<&str> = doc_commands(DOC)
        .iter()
        .map(|l| l.split_whitespace().nth(1).expect("a subcommand"))
        .collect();
    assert_eq!(kinds, ["validate", "run", "sweep", "paths", "compare"]);
}

#[test]
fn the_documented_commands_give_the_documented_results() {
    let dir = run_doc_commands("scenario_cuba1962");

    // run: 2000 replications; the page's shares are from 20,000 (seed 1).
    // Each share must lie within 4 standard errors of 2000 replications.
    let summary = csv(&dir.join("out/cuba-run/summary.csv"));
    common::assert_shares(
        &summary,
        "crisis",
        &[
            ("war", 0.255),
            ("secret_trade", 0.421),
            ("pledge_only", 0.140),
            ("coerced", 0.133),
            ("public_trade", 0.052),
        ],
        2000,
    );
    let secret = cell(&summary, &["crisis", "share", "secret_trade"], 4);
    for other in ["war", "coerced", "public_trade", "pledge_only", "standoff"] {
        assert!(secret > cell(&summary, &["crisis", "share", other], 4));
    }

    // sweep: the war share rises with strike_pref, point by point.
    let sweep = csv(&dir.join("out/cuba-sweep/summary.csv"));
    let war: Vec<f64> = (0..3)
        .map(|p| {
            sweep
                .iter()
                .find(|r| r[0] == p.to_string() && r[2] == "crisis" && r[4] == "war")
                .expect("a war row per point")[6]
                .parse()
                .expect("a number")
        })
        .collect();
    assert!(war[0] < war[1] && war[1] < war[2], "{war:?}");

    // paths: the secret trade goes through the back channel.
    let paths = csv(&dir.join("out/cuba-paths/paths.csv"));
    let top = paths
        .iter()
        .find(|r| r[1] == "secret_trade" && r[2] == "1")
        .expect("a top secret_trade chain");
    assert_eq!(
        top[3],
        "offer_jupiter -> back_channel_meeting (answer_jupiter_demand) -> withdrawal_announced (take_jupiter_deal)"
    );

    // compare: closing the back channel raises the war share (CI above 0)
    // and removes the secret trade.
    let cmp = csv(&dir.join("out/cuba-compare/compare.csv"));
    let diff = cell(&cmp, &["crisis", "share", "war"], 6);
    let lo = cell(&cmp, &["crisis", "share", "war"], 8);
    assert!(lo > 0.0 && diff > 0.05, "war: +{diff}, lower bound {lo}");
    assert_eq!(cell(&cmp, &["crisis", "share", "secret_trade"], 5), 0.0);
}

#[test]
fn the_withdrawal_day_of_the_record_is_near_the_median() {
    let s = common::scenario(include_str!("../scenarios/cuba1962.toml"));
    let n = 2000;
    let day = common::column_values(&s, "resolution_day", 1, n);
    let strike = common::column_values(&s, "count_air_strike", 1, n);
    let quarantine = common::column_values(&s, "count_quarantine_announced", 1, n);
    let withdrawn = common::column_values(&s, "count_withdrawal_announced", 1, n);
    let days: Vec<f64> = (0..n as usize)
        .filter(|&i| quarantine[i] > 0.0 && strike[i] == 0.0 && withdrawn[i] > 0.0)
        .map(|i| day[i])
        .collect();
    // Documented: the 55th percentile (20,000 replications); 2000 give a
    // standard error of about 0.014 for a quantile's level.
    let below = days.iter().filter(|&&d| d <= 14.38).count() as f64 / days.len() as f64;
    assert!((0.49..0.61).contains(&below), "{below}");
    // Documented median: 13.9 days.
    let mut sorted = days.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!((13.0..15.0).contains(&median), "{median}");
}
