//! The `compare` command: the effect of a policy change, B − A, estimated
//! with common random numbers.
//!
//! Replication `r` of policy A and of policy B run with the same key,
//! `replication_key(seed, r, None)`, so every source of randomness (each
//! rule, hazard and jitter has its own stream) sees the same numbers under
//! both policies; only what the change touches differs. The paired
//! differences `d_r = B_r − A_r` give the estimate `mean(d)` with standard
//! error `sd(d)/√n`.
//!
//! For reference, B is also run with independent keys,
//! `replication_key(seed, r, Some(1))`, and the unpaired estimate
//! `mean(B') − mean(A)` is reported with its standard error
//! `√(var(A)/n + var(B')/n)`. The variance reduction factor is
//! `se_unpaired² / se_paired²`: how many times more replications an
//! unpaired comparison would need for the same precision.
//!
//! Every numeric column and every label share of every categorical column
//! (as a 0/1 indicator) is compared. Non-finite values are left out: a pair
//! counts only if both values are finite.

use super::{checked_params, csv_field, fmt_num, metrics, render_table, Metric};
use crate::engine::{columns, Column, Engine, RunOptions};
use crate::error::{Error, Result};
use crate::error::{RepError, RepSource};
use crate::output::manifest::{
    param_map, AnalysisRecord, OutputDir, ScenarioInfo, Totals, RNG_DESCRIPTION,
};
use crate::output::push_f64;
use crate::output::text::{fixed, shared_decimals};
use crate::rng::replication_key;
use crate::runner::in_blocks_while;
use crate::scenario::load_hashed as load_scenario;
use crate::scenario::Scenario;
use crate::stats::{Moments, Z95};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One policy: a scenario file and parameter overrides.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `NAME=VALUE` overrides.
    pub overrides: Vec<(String, f64)>,
}

/// A validated `compare` request.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Policy A (the baseline).
    pub a: Arm,
    /// Policy B.
    pub b: Arm,
    /// Replications (at least 2).
    pub reps: u64,
    /// Master seed; A's scenario seed when `None`.
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Output directory for `compare.csv` and `manifest.json`.
    pub out: Option<PathBuf>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// The comparison of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// Which metric.
    pub metric: Metric,
    /// Pairs with both values finite.
    pub n: u64,
    /// Mean under A.
    pub mean_a: f64,
    /// Mean under B (common random numbers).
    pub mean_b: f64,
    /// Paired estimate of B − A.
    pub diff: f64,
    /// Its standard error.
    pub se: f64,
    /// 95% interval, lower end.
    pub lo: f64,
    /// 95% interval, upper end.
    pub hi: f64,
    /// Unpaired estimate of B − A (B with independent streams).
    pub diff_unpaired: f64,
    /// Its standard error.
    pub se_unpaired: f64,
    /// Unpaired 95% interval, lower end.
    pub lo_unpaired: f64,
    /// Unpaired 95% interval, upper end.
    pub hi_unpaired: f64,
    /// `se_unpaired² / se²`.
    pub variance_reduction: f64,
}

impl CompareRow {
    /// The names of [`CompareRow::stats`], as in `compare.csv`'s header.
    pub const STATS: [&'static str; 11] = [
        "mean_a",
        "mean_b",
        "diff",
        "se",
        "ci95_lo",
        "ci95_hi",
        "diff_unpaired",
        "se_unpaired",
        "ci95_lo_unpaired",
        "ci95_hi_unpaired",
        "variance_reduction",
    ];

    /// The row's numbers in `compare.csv`'s order (after metric, kind,
    /// category and n): named by [`CompareRow::STATS`].
    pub fn stats(&self) -> [f64; 11] {
        [
            self.mean_a,
            self.mean_b,
            self.diff,
            self.se,
            self.lo,
            self.hi,
            self.diff_unpaired,
            self.se_unpaired,
            self.lo_unpaired,
            self.hi_unpaired,
            self.variance_reduction,
        ]
    }
}

/// What `compare` produced.
#[derive(Debug, Clone)]
pub struct CompareReport {
    /// A's scenario name.
    pub scenario_a: String,
    /// B's scenario name.
    pub scenario_b: String,
    /// A's overrides as given (`NAME=VALUE`, in order).
    pub overrides_a: Vec<(String, f64)>,
    /// B's overrides as given.
    pub overrides_b: Vec<(String, f64)>,
    /// Master seed used.
    pub seed: u64,
    /// Replications per policy.
    pub reps: u64,
    /// One row per metric, in column order.
    pub rows: Vec<CompareRow>,
    /// The first this many columns are the scenario's own outcomes.
    pub outcome_columns: usize,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// Header of `compare.csv`.
pub const COMPARE_HEADER: &str = "metric,kind,category,n,mean_a,mean_b,diff,se,ci95_lo,ci95_hi,diff_unpaired,se_unpaired,ci95_lo_unpaired,ci95_hi_unpaired,variance_reduction\n";

#[derive(Clone, Default)]
struct Acc {
    paired: Moments,
    a: Moments,
    b: Moments,
    b_independent: Moments,
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.paired.merge(&o.paired);
        self.a.merge(&o.a);
        self.b.merge(&o.b);
        self.b_independent.merge(&o.b_independent);
    }
}

/// Checks that two scenarios produce the same columns (names and kinds;
/// their ranges may differ).
pub fn check_same_columns(a: &[Column], b: &[Column]) -> Result<()> {
    for (x, y) in a.iter().zip(b) {
        if x.name != y.name || x.kind != y.kind {
            return Err(Error::invalid("compare", format!(
                "the two scenarios have different outputs: column `{}` in A, `{}` in B (a comparison needs the same outcomes, event types and dyads, in the same order)",
                x.name, y.name
            )));
        }
    }
    if a.len() != b.len() {
        return Err(Error::invalid(
            "compare",
            format!(
                "the two scenarios have different outputs: {} columns in A, {} in B",
                a.len(),
                b.len()
            ),
        ));
    }
    Ok(())
}

/// Compares B (scenario `sb`, parameters `pb`) with A over `reps`
/// replications: paired (common keys) and unpaired (B with independent keys).
pub fn compare_scenarios(
    sa: &Scenario,
    pa: &[f64],
    sb: &Scenario,
    pb: &[f64],
    reps: u64,
    seed: u64,
    threads: usize,
) -> Result<Vec<CompareRow>> {
    let rows = compare_counting(sa, pa, sb, pb, reps, seed, threads, &mut |_, _| true)?;
    Ok(rows.expect("a comparison told to go on finishes").0)
}

/// [`compare_scenarios`], calling `progress(done, reps)` as blocks of
/// replications finish (in order, on one thread at a time); when it returns
/// false the comparison stops and `Ok(None)` comes back. The rows of a
/// comparison that finishes are those of [`compare_scenarios`].
#[allow(clippy::too_many_arguments)]
pub fn compare_scenarios_while(
    sa: &Scenario,
    pa: &[f64],
    sb: &Scenario,
    pb: &[f64],
    reps: u64,
    seed: u64,
    threads: usize,
    progress: &mut (dyn FnMut(u64, u64) -> bool + Send),
) -> Result<Option<Vec<CompareRow>>> {
    let rows = compare_counting(sa, pa, sb, pb, reps, seed, threads, progress)?;
    Ok(rows.map(|(rows, _)| rows))
}

/// [`compare_scenarios_while`], also returning the number of events over
/// all runs.
#[allow(clippy::too_many_arguments)]
fn compare_counting(
    sa: &Scenario,
    pa: &[f64],
    sb: &Scenario,
    pb: &[f64],
    reps: u64,
    seed: u64,
    threads: usize,
    progress: &mut (dyn FnMut(u64, u64) -> bool + Send),
) -> Result<Option<(Vec<CompareRow>, u64)>> {
    let cols = columns(sa);
    check_same_columns(&cols, &columns(sb))?;
    let mets = metrics(&cols);
    let n_cols = cols.len();
    let n_events_col = cols
        .iter()
        .position(|c| c.name == "n_events")
        .expect("n_events is always a column");
    let mut total = vec![Acc::default(); mets.len()];
    let mut events = 0u64;
    let mut done = 0u64;
    let finished = in_blocks_while(
        reps,
        threads,
        |range| -> std::result::Result<(Vec<Acc>, u64, u64), RepError> {
            let len = range.end - range.start;
            let mut ea = Engine::new(sa);
            let mut eb = Engine::new(sb);
            let (mut ra, mut rb, mut ri) =
                (vec![0.0; n_cols], vec![0.0; n_cols], vec![0.0; n_cols]);
            let mut acc = vec![Acc::default(); mets.len()];
            let mut events = 0u64;
            let opts = RunOptions::default();
            for rep in range {
                let key = replication_key(seed, rep, None);
                let err = |policy| {
                    move |error| RepError {
                        source: RepSource::Policy(policy),
                        rep,
                        error,
                    }
                };
                ea.run(pa, &key, opts, &mut ra, None).map_err(err('A'))?;
                eb.run(pb, &key, opts, &mut rb, None).map_err(err('B'))?;
                let independent = replication_key(seed, rep, Some(1));
                eb.run(pb, &independent, opts, &mut ri, None)
                    .map_err(err('B'))?;
                events += (ra[n_events_col] + rb[n_events_col] + ri[n_events_col]) as u64;
                for (m, acc) in mets.iter().zip(&mut acc) {
                    let (a, b, i) = (m.value(&ra), m.value(&rb), m.value(&ri));
                    if a.is_finite() {
                        acc.a.add(a);
                    }
                    if b.is_finite() {
                        acc.b.add(b);
                    }
                    if i.is_finite() {
                        acc.b_independent.add(i);
                    }
                    if a.is_finite() && b.is_finite() {
                        acc.paired.add(b - a);
                    }
                }
            }
            Ok((acc, events, len))
        },
        |(block, n, len)| {
            events += n;
            for (t, b) in total.iter_mut().zip(&block) {
                t.merge(b);
            }
            done += len;
            progress(done, reps)
        },
    )?;
    if !finished {
        return Ok(None);
    }
    let rows = mets
        .into_iter()
        .zip(total)
        .map(|(metric, acc)| {
            let diff = acc.paired.mean();
            let se = acc.paired.se();
            let diff_unpaired = acc.b_independent.mean() - acc.a.mean();
            let se_unpaired = (acc.a.variance() / acc.a.count() as f64
                + acc.b_independent.variance() / acc.b_independent.count() as f64)
                .sqrt();
            let variance_reduction = if se > 0.0 {
                (se_unpaired / se).powi(2)
            } else if se_unpaired > 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            };
            CompareRow {
                metric,
                n: acc.paired.count(),
                mean_a: acc.a.mean(),
                mean_b: acc.b.mean(),
                diff,
                se,
                lo: diff - Z95 * se,
                hi: diff + Z95 * se,
                diff_unpaired,
                se_unpaired,
                lo_unpaired: diff_unpaired - Z95 * se_unpaired,
                hi_unpaired: diff_unpaired + Z95 * se_unpaired,
                variance_reduction,
            }
        })
        .collect();
    Ok(Some((rows, events)))
}

/// Renders `compare.csv`.
pub fn compare_csv(rows: &[CompareRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(COMPARE_HEADER);
    for r in rows {
        let category = r.metric.category.as_deref().unwrap_or("");
        let _ = write!(
            s,
            "{},{},{},{}",
            csv_field(&r.metric.name),
            r.metric.kind(),
            csv_field(category),
            r.n
        );
        for v in r.stats() {
            s.push(',');
            if !v.is_nan() {
                push_f64(&mut s, v);
            }
        }
        s.push('\n');
    }
    s
}

/// Runs the comparison a `compare` request describes and writes its files.
pub fn compare(config: &CompareConfig) -> Result<CompareReport> {
    if config.reps < 2 {
        return Err(Error::invalid(
            "reps",
            "--reps must be at least 2 (a standard error needs two replications)",
        ));
    }
    let (sa, sha_a) = load_scenario(&config.a.scenario_path)?;
    let (sb, sha_b) = if config.b.scenario_path == config.a.scenario_path {
        (sa.clone(), sha_a.clone())
    } else {
        load_scenario(&config.b.scenario_path)?
    };
    let pa = checked_params(&sa, &config.a.overrides, "--a")?;
    let pb = checked_params(&sb, &config.b.overrides, "--b")?;
    if sha_a == sha_b && pa == pb {
        return Err(Error::invalid("a", "policies A and B are identical: give --a/--b parameter values or --a-file/--b-file scenarios that differ",));
    }
    let seed = config.seed.unwrap_or(sa.seed);
    // Refused before the work if it already holds a result.
    let out_dir = config.out.as_deref().map(OutputDir::create).transpose()?;
    let (rows, events) = compare_counting(
        &sa,
        &pa,
        &sb,
        &pb,
        config.reps,
        seed,
        config.threads,
        &mut |_, _| true,
    )?
    .expect("a comparison told to go on finishes");
    let mut written = Vec::new();
    if let Some(mut out) = out_dir {
        out.write("compare.csv", compare_csv(&rows).as_bytes())?;
        let arm = |arm: &Arm, s: &Scenario, sha: &str| {
            serde_json::json!({
                "scenario": { "path": arm.scenario_path.display().to_string(), "name": s.name, "sha256": sha },
                "overrides": arm.overrides.iter().map(|(n, v)| (n.clone(), *v)).collect::<BTreeMap<_, _>>(),
            })
        };
        written = out.finish(AnalysisRecord {
            kind: "compare",
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.a.scenario_path.display().to_string(),
                name: sa.name.clone(),
                sha256: sha_a.clone(),
            },
            seed,
            reps: config.reps,
            rng: format!("{RNG_DESCRIPTION}; A and B share replication r's key (common random numbers); the unpaired reference runs B with replication_key(seed, r, Some(1))"),
            params: param_map(&sa, &pa),
            design: serde_json::json!({
                "a": arm(&config.a, &sa, &sha_a),
                "b": arm(&config.b, &sb, &sha_b),
            }),
            totals: Totals {
                replications: 3 * config.reps,
                events,
            },
        })?;
    }
    Ok(CompareReport {
        scenario_a: sa.name.clone(),
        scenario_b: sb.name.clone(),
        overrides_a: config.a.overrides.clone(),
        overrides_b: config.b.overrides.clone(),
        seed,
        reps: config.reps,
        rows,
        outcome_columns: sa.outcomes.len(),
        written,
    })
}

/// What `compare` prints: a headline naming the two settings, the table
/// ([`render`]) and the files written.
pub fn render_report(report: &CompareReport) -> String {
    let mut out = format!(
        "compare: B - A over {} paired replications, seed {}\n",
        report.reps, report.seed
    );
    for (name, scenario, overrides) in [
        ("A", &report.scenario_a, &report.overrides_a),
        ("B", &report.scenario_b, &report.overrides_b),
    ] {
        out.push_str(&format!("  {name}: {}\n", setting(scenario, overrides)));
    }
    out.push('\n');
    out.push_str(&render(report));
    crate::output::text::push_written(&mut out, &report.written);
    out
}

/// One arm in words: `west2025 with close_prob=0.3, clash_prob=0.05`, or
/// `west2025 as written` without overrides.
fn setting(scenario: &str, overrides: &[(String, f64)]) -> String {
    if overrides.is_empty() {
        return format!("{scenario} as written");
    }
    let list: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{scenario} with {}", list.join(", "))
}

/// Renders the comparison of the scenario's outcomes and of the `terminal`
/// shares as a readable table; the built-in metrics are in `compare.csv`.
/// Each row's numbers share one fixed format (4 significant digits for its largest magnitude, at most 8 decimals); a note
/// below explains the variance-reduction column.
pub fn render(report: &CompareReport) -> String {
    let header = [
        "metric",
        "A",
        "B",
        "B - A (paired)",
        "95% CI",
        "unpaired 95% CI",
        "var. reduction",
    ];
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .filter(|r| r.metric.column < report.outcome_columns || r.metric.name == "terminal")
        .map(|r| {
            let d = shared_decimals(&[
                r.mean_a,
                r.mean_b,
                r.diff,
                r.lo,
                r.hi,
                r.lo_unpaired,
                r.hi_unpaired,
            ]);
            vec![
                r.metric.display(),
                fixed(r.mean_a, d),
                fixed(r.mean_b, d),
                fixed(r.diff, d),
                format!("[{}, {}]", fixed(r.lo, d), fixed(r.hi, d)),
                format!("[{}, {}]", fixed(r.lo_unpaired, d), fixed(r.hi_unpaired, d)),
                if r.variance_reduction.is_finite() {
                    format!("{:.1}x", r.variance_reduction)
                } else {
                    fmt_num(r.variance_reduction)
                },
            ]
        })
        .collect();
    let mut out = render_table(&header, &rows);
    out.push_str(
        "var. reduction: how many times smaller the variance of B - A is with paired runs\n  \
         (common random numbers) than with independent ones, se_unpaired^2 / se^2: 4.0x means\n  \
         a paired interval half as wide; inf when only the unpaired estimate varies, - when neither does.\n",
    );
    let hidden = report.rows.len() - rows.len();
    if hidden > 0 {
        out.push_str(&format!(
            "({hidden} built-in metrics (counts, tensions, end time) are in compare.csv with --out)\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, category: Option<&str>, column: usize, v: [f64; 4]) -> CompareRow {
        let [mean_a, mean_b, se, se_unpaired] = v;
        let diff = mean_b - mean_a;
        CompareRow {
            metric: Metric {
                name: name.into(),
                category: category.map(Into::into),
                column,
                label: category.map(|_| 0),
            },
            n: 100,
            mean_a,
            mean_b,
            diff,
            se,
            lo: diff - Z95 * se,
            hi: diff + Z95 * se,
            diff_unpaired: diff,
            se_unpaired,
            lo_unpaired: diff - Z95 * se_unpaired,
            hi_unpaired: diff + Z95 * se_unpaired,
            variance_reduction: if se > 0.0 {
                (se_unpaired / se).powi(2)
            } else if se_unpaired > 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            },
        }
    }

    #[test]
    fn header_names_both_settings_and_rows_share_one_number_format() {
        let report = CompareReport {
            scenario_a: "west2025".into(),
            scenario_b: "west2025".into(),
            overrides_a: vec![("close_prob".into(), 0.3)],
            overrides_b: vec![("close_prob".into(), 0.7), ("clash_prob".into(), 0.05)],
            seed: 3,
            reps: 100,
            rows: vec![
                row("reopen_day", None, 0, [53.28, 36.99, 1.25, 1.5]),
                row("rare", None, 1, [0.0030, 0.00225, 0.0004, 0.0008]),
                row("path", Some("other"), 2, [0.0, 0.0, 0.0, 0.0]),
                row("path", Some("escalation"), 2, [0.05, 0.03, 0.01, 0.012]),
                row("terminal", Some("horizon"), 9, [0.955, 0.955, 0.0, 0.01]),
                row("count_x", None, 5, [1.0, 2.0, 0.1, 0.1]),
            ],
            outcome_columns: 3,
            written: vec![],
        };
        let text = render_report(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "compare: B - A over 100 paired replications, seed 3"
        );
        assert_eq!(lines[1], "  A: west2025 with close_prob=0.3");
        assert_eq!(
            lines[2],
            "  B: west2025 with close_prob=0.7, clash_prob=0.05"
        );
        assert!(!text.contains("e-"), "no exponents:\n{text}");
        let cells = |name: &str| -> Vec<String> {
            let l = lines.iter().find(|l| l.starts_with(name)).expect(name);
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect()
        };
        // 2 decimals give 53.28 four significant digits.
        assert_eq!(
            cells("reopen_day"),
            [
                "reopen_day",
                "53.28",
                "36.99",
                "-16.29",
                "[-18.74, -13.84]",
                "[-19.23, -13.35]",
                "1.4x"
            ]
        );
        // 0.0030 and 0.000750 in one format, not 7.500e-4.
        assert_eq!(cells("rare")[1..4], ["0.003000", "0.002250", "-0.000750"]);
        assert_eq!(cells("rare")[6], "4.0x");
        assert_eq!(cells("path=other")[6], "-");
        // Shares keep 4 decimals whatever their size (5 for 0.05 before).
        assert_eq!(
            cells("path=escalation")[1..4],
            ["0.0500", "0.0300", "-0.0200"]
        );
        assert_eq!(
            cells("terminal=horizon")[1..4],
            ["0.9550", "0.9550", "0.0000"]
        );
        assert_eq!(cells("terminal=horizon")[6], "inf");
        assert!(text.contains("var. reduction: how many times smaller the variance of B - A is"));
        assert!(text.contains("(1 built-in metrics"));
        assert!(!text.contains("count_x"));
        let plain = CompareReport {
            overrides_a: vec![],
            ..report
        };
        assert!(render_report(&plain).contains("\n  A: west2025 as written\n"));
    }
}
