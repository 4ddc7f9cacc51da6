//! `scenarios/taiwan2022.toml` and its page `docs/taiwan2022.md`: every
//! `flashpoint …` command of the page runs exactly as written (so the page
//! cannot drift from the scenario), and the results say what the page says:
//! the outcome shares, the sweep's direction, the paths, the risk the
//! extension adds, and the salvo's documented means.

mod common;

const DOC: &str = include_str!("../docs/taiwan2022.md");

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
    let dir = run_doc_commands("scenario_taiwan2022");

    // run: 2000 replications; the page's shares are from 20,000 (seed 1).
    // Each share must lie within 4 standard errors of 2000 replications.
    let summary = csv(&dir.join("out/taiwan-run/summary.csv"));
    common::assert_shares(
        &summary,
        "crisis",
        &[
            ("extended", 0.465),
            ("as_announced", 0.313),
            ("limited", 0.207),
            ("clash", 0.015),
        ],
        2000,
    );
    assert_eq!(cell(&summary, &["crisis", "share", "no_visit"], 4), 0.0);

    // sweep: no extension at extend_prob = 0, then more and more.
    let sweep = csv(&dir.join("out/taiwan-sweep/summary.csv"));
    let extended: Vec<f64> = (0..3)
        .map(|p| {
            sweep
                .iter()
                .find(|r| r[0] == p.to_string() && r[2] == "crisis" && r[4] == "extended")
                .expect("an extended row per point")[6]
                .parse()
                .expect("a number")
        })
        .collect();
    assert_eq!(extended[0], 0.0);
    assert!(
        extended[0] < extended[1] && extended[1] < extended[2],
        "{extended:?}"
    );

    // paths: the record's chain is the extended group's, and every clash
    // comes from a close encounter.
    let paths = csv(&dir.join("out/taiwan-paths/paths.csv"));
    let top = paths
        .iter()
        .find(|r| r[1] == "extended" && r[2] == "1")
        .expect("a top extended chain");
    assert_eq!(
        top[3],
        "pelosi_arrives (speaker_goes) -> closure_zones (beijing_answers_visit) -> drills_begin (drills_start) -> drills_extended (extend_or_stop) -> drills_end (extension_ends)"
    );
    let clashes: Vec<_> = paths.iter().filter(|r| r[1] == "clash").collect();
    assert!(!clashes.is_empty());
    assert!(clashes
        .iter()
        .all(|r| r[3] == "close_encounter -> armed_clash (encounter_outcome)"));

    // compare: always extending raises the clash share (CI above 0) and the
    // crossings; never extending never gives `extended`.
    let cmp = csv(&dir.join("out/taiwan-compare/compare.csv"));
    assert!(cell(&cmp, &["crisis", "share", "clash"], 8) > 0.0);
    assert!(cell(&cmp, &["aircraft_crossed", "numeric"], 8) > 0.0);
    assert_eq!(cell(&cmp, &["crisis", "share", "extended"], 4), 0.0);
}

#[test]
fn the_salvo_has_the_documented_means() {
    // The salvo's size and split are Poisson draws whose means are the
    // record's (fact sheet F3): 11 missiles, 0.36 x 11 over Taiwan, 0.45 x
    // 11 in Japan's EEZ. Averaged over the runs that fire one, each mean
    // must lie within 4 standard errors (Poisson: sd = sqrt(mean)).
    let s = common::scenario(include_str!("../scenarios/taiwan2022.toml"));
    let n = 2000;
    let salvo = common::column_values(&s, "count_missile_salvo", 1, n);
    let fired: Vec<usize> = (0..n as usize).filter(|&i| salvo[i] > 0.0).collect();
    assert!(fired.len() > 1000, "{}", fired.len());
    for (column, mean) in [
        ("missiles", 11.0),
        ("overflights", 0.36 * 11.0),
        ("eez_impacts", 0.45 * 11.0),
    ] {
        let values = common::column_values(&s, column, 1, n);
        let xs: Vec<f64> = fired.iter().map(|&i| values[i]).collect();
        let (m, _) = common::mean_var(&xs);
        let se = (mean / xs.len() as f64).sqrt();
        assert!((m - mean).abs() < 4.0 * se, "{column}: {m} vs {mean}");
    }
}
