//! The `paths` command: which causal chains of events lead to each outcome.
//!
//! Every event a rule emits records the event that caused it (its trigger);
//! scheduled and hazard events have no cause and are the **roots** of
//! chains. The **chain** of an event is the event, its cause, the cause's
//! cause and so on back to a root, written root first:
//!
//! `exercise_start -> border_close (poland_closes_border) -> formal_protest (belarus_protests_closure)`
//!
//! Each step is the event type and, for an event a rule emitted, the rule in
//! parentheses. Times, actors and tensions are left out, so chains from
//! different replications that went the same way aggregate.
//!
//! Each replication contributes the chain of one **anchor** event
//! ([`Anchor`]):
//! - by default, the event that decided its group (**deciding**): the
//!   terminal event, if one ended the replication; else the last event of
//!   a type that the conditions of its category's cases read
//!   (`count(talks) > 0` reads `talks`); else, when they read none
//!   (`true`, a state test, `other`) or none happened, the last event that
//!   is not **bookkeeping** ([`Scenario::is_bookkeeping`]: hidden, or
//!   without effects, not terminal and without a CAMEO code, so it changes
//!   nothing and only triggers rules, like a periodic review); else the
//!   last event; `(no events)` if nothing happened;
//! - with `--anchor EVENT[,EVENT…]`: the last event of one of those types
//!   (`(none)` if none happened);
//! - with `--longest`: the terminal event, if one ended the replication;
//!   else the event with the longest chain (the replication's deepest
//!   sequence of reactions; the latest such event on ties), `(no events)`
//!   if nothing happened.
//!
//! Replications are grouped by the label of a categorical outcome
//! (`--outcome`, default the built-in `terminal`), and within each group the
//! `--top` most frequent chains are reported with their share of the group
//! and its Wilson 95% interval. Ties in frequency are ordered by the chain's
//! text, so the report is a pure function of the replications.

use super::{checked_params, column_index, csv_field, in_blocks, render_table_aligned};
use crate::engine::{columns, ColumnKind, Engine, RunOptions, TraceEvent};
use crate::error::RepError;
use crate::error::{Error, Result};
use crate::output::manifest::{
    param_map, AnalysisRecord, OutputDir, ScenarioInfo, Totals, RNG_DESCRIPTION,
};
use crate::output::push_f64;
use crate::rng::replication_key;
use crate::scenario::Scenario;
use crate::stats::{wilson, Z95};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A step of a chain: (event type, emitting rule or `u32::MAX`).
type Step = (u32, u32);
const NO_RULE: u32 = u32::MAX;

/// Chains counted per (group label, chain).
type Counts = BTreeMap<(usize, Vec<Step>), u64>;

/// Which event of a replication its chain ends at (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The event that decided the replication's group (the default).
    Deciding,
    /// The event with the longest chain (`--longest`).
    Longest,
    /// The last event of one of these types (`--anchor`).
    Events(Vec<u32>),
}

impl Anchor {
    /// How the manifest describes it.
    fn description(&self) -> &'static str {
        match self {
            Anchor::Deciding => "the terminal event, else the last event the category's cases read, else the last event that is not bookkeeping, else the last event",
            Anchor::Longest => "the terminal event, else the event with the longest chain",
            Anchor::Events(_) => "the last event of one of the anchor types",
        }
    }
}

/// A validated `paths` request.
#[derive(Debug, Clone)]
pub struct PathsConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set` overrides.
    pub overrides: Vec<(String, f64)>,
    /// Replications.
    pub reps: u64,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// The categorical column to group by (default `terminal`).
    pub outcome: Option<String>,
    /// Anchor event types (empty: the default anchor).
    pub anchors: Vec<String>,
    /// `--longest`: anchor at the event with the longest chain instead of
    /// the deciding event (refused with `anchors`).
    pub longest: bool,
    /// Chains reported per group.
    pub top: usize,
    /// Output directory for `paths.csv` and `manifest.json`.
    pub out: Option<PathBuf>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// One reported chain.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    /// The group's label.
    pub category: String,
    /// 1 = most frequent in the group.
    pub rank: usize,
    /// The chain, root first.
    pub chain: String,
    /// Number of steps (0 for `(none)`).
    pub steps: usize,
    /// Replications in the group with this chain.
    pub count: u64,
    /// Replications in the group.
    pub n_category: u64,
    /// `count / n_category`.
    pub share: f64,
    /// Wilson 95% interval, lower end.
    pub lo: f64,
    /// Wilson 95% interval, upper end.
    pub hi: f64,
    /// Distinct chains in the group.
    pub n_chains: usize,
}

/// What `paths` produced.
#[derive(Debug, Clone)]
pub struct PathsReport {
    /// The grouping column.
    pub outcome: String,
    /// Replications.
    pub reps: u64,
    /// Master seed used.
    pub seed: u64,
    /// The top chains of each group, groups in label order.
    pub rows: Vec<PathRow>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// Header of `paths.csv`.
pub const PATHS_HEADER: &str =
    "outcome,category,rank,chain,steps,count,n_category,share,ci95_lo,ci95_hi,n_chains\n";

/// The anchor's chain in one traced replication, root first. `decided_by`
/// lists the event types the replication's category reads (for
/// [`Anchor::Deciding`]); `depth` is a scratch buffer.
fn chain_of(
    trace: &[TraceEvent],
    scenario: &Scenario,
    anchor: &Anchor,
    decided_by: &[u32],
    depth: &mut Vec<u32>,
) -> Option<Vec<Step>> {
    // Causes come earlier; `seq` indexes the trace, which holds every event.
    let cause_of = |ev: &TraceEvent| {
        ev.cause
            .and_then(|c| trace.get(c as usize))
            .filter(|c| c.seq < ev.seq)
    };
    let hidden = |ev: &TraceEvent| scenario.events[ev.event as usize].hidden;
    let terminal = || {
        trace
            .last()
            .filter(|last| scenario.events[last.event as usize].terminal)
    };
    let anchor = match anchor {
        Anchor::Events(types) => trace.iter().rev().find(|e| types.contains(&e.event))?,
        Anchor::Deciding => {
            let visible = |ev: &&TraceEvent| !hidden(ev);
            let found = terminal()
                .or_else(|| (trace.iter().rev()).find(|e| decided_by.contains(&e.event)))
                .or_else(|| (trace.iter().rev()).find(|e| !scenario.is_bookkeeping(e.event)))
                .or_else(|| trace.iter().rev().find(visible));
            match found {
                Some(ev) => ev,
                None => return Some(Vec::new()),
            }
        }
        Anchor::Longest => match terminal() {
            Some(last) => last,
            None => {
                // The deepest chain, counting visible steps; the latest on
                // ties; a hidden event is never the anchor.
                depth.clear();
                let mut best = None;
                for (i, ev) in trace.iter().enumerate() {
                    let own = u32::from(!hidden(ev));
                    let d = cause_of(ev).map_or(own, |c| depth[c.seq as usize] + own);
                    depth.push(d);
                    if own == 1 && best.is_none_or(|b: usize| d >= depth[b]) {
                        best = Some(i);
                    }
                }
                match best {
                    Some(b) => &trace[b],
                    None => return Some(Vec::new()),
                }
            }
        },
    };
    let mut steps = Vec::new();
    let mut at = Some(anchor);
    while let Some(ev) = at {
        // A hidden event's step is skipped: its cause links to what it caused.
        if !hidden(ev) {
            steps.push((ev.event, ev.rule.unwrap_or(NO_RULE)));
        }
        at = cause_of(ev);
    }
    steps.reverse();
    Some(steps)
}

fn render_chain(scenario: &Scenario, chain: &[Step], anchored: bool) -> String {
    if chain.is_empty() {
        return if anchored { "(none)" } else { "(no events)" }.to_string();
    }
    chain
        .iter()
        .map(|(e, r)| {
            let id = &scenario.events[*e as usize].id;
            if *r == NO_RULE {
                id.clone()
            } else {
                format!("{id} ({})", scenario.rules[*r as usize].name)
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Counts the anchor chains of replications `0..reps`, grouped by the label
/// of column `group`, and returns the top `top` of each group.
#[allow(clippy::too_many_arguments)]
pub fn top_paths(
    scenario: &Scenario,
    params: &[f64],
    seed: u64,
    reps: u64,
    threads: usize,
    group: usize,
    anchor: &Anchor,
    top: usize,
) -> Result<Vec<PathRow>> {
    top_paths_counting(scenario, params, seed, reps, threads, group, anchor, top)
        .map(|(rows, _)| rows)
}

/// [`top_paths`], and the number of events over all replications.
#[allow(clippy::too_many_arguments)]
fn top_paths_counting(
    scenario: &Scenario,
    params: &[f64],
    seed: u64,
    reps: u64,
    threads: usize,
    group: usize,
    anchor: &Anchor,
    top: usize,
) -> Result<(Vec<PathRow>, u64)> {
    let cols = columns(scenario);
    let n_events_col = cols.iter().position(|c| c.name == "n_events");
    let ColumnKind::Categorical(labels) = &cols[group].kind else {
        return Err(Error::invalid(
            "paths",
            format!(
                "`{}` is numeric; paths groups replications by a categorical outcome",
                cols[group].name
            ),
        ));
    };
    // Per label, the event types its cases read (none for `terminal`,
    // whose labels are decided by the terminal event or the horizon).
    let decided_by: Vec<Vec<u32>> = (labels.iter())
        .map(|label| {
            if group < scenario.outcomes.len() {
                scenario.case_events(group, label)
            } else {
                Vec::new()
            }
        })
        .collect();
    let n_cols = cols.len();
    let mut counts = Counts::new();
    let mut group_sizes = vec![0u64; labels.len()];
    let mut events = 0u64;
    in_blocks(
        reps,
        threads,
        |range| -> std::result::Result<(Counts, Vec<u64>, u64), RepError> {
            let mut engine = Engine::new(scenario);
            let mut row = vec![0.0; n_cols];
            let mut trace = Vec::new();
            let mut depth = Vec::new();
            let mut counts = Counts::new();
            let mut sizes = vec![0u64; labels.len()];
            let mut events = 0u64;
            for rep in range {
                trace.clear();
                engine
                    .run(
                        params,
                        &replication_key(seed, rep, None),
                        RunOptions::default(),
                        &mut row,
                        Some(&mut trace),
                    )
                    .map_err(|error| RepError::at_point(0, rep, error))?;
                let label = row[group] as usize;
                sizes[label] += 1;
                events += n_events_col.map_or(0, |c| row[c] as u64);
                let chain = chain_of(&trace, scenario, anchor, &decided_by[label], &mut depth)
                    .unwrap_or_default();
                *counts.entry((label, chain)).or_insert(0) += 1;
            }
            Ok((counts, sizes, events))
        },
        |(block, sizes, block_events)| {
            events += block_events;
            for (k, v) in block {
                *counts.entry(k).or_insert(0) += v;
            }
            for (t, s) in group_sizes.iter_mut().zip(sizes) {
                *t += s;
            }
        },
    )?;
    let mut by_group: Vec<Vec<(String, usize, u64)>> = vec![Vec::new(); labels.len()];
    for ((label, chain), count) in &counts {
        by_group[*label].push((
            render_chain(scenario, chain, matches!(anchor, Anchor::Events(_))),
            chain.len(),
            *count,
        ));
    }
    let mut rows = Vec::new();
    for (label, mut chains) in by_group.into_iter().enumerate() {
        let n = group_sizes[label];
        if n == 0 {
            continue;
        }
        chains.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let n_chains = chains.len();
        for (rank, (chain, steps, count)) in chains.into_iter().take(top).enumerate() {
            let (lo, hi) = wilson(count, n, Z95);
            rows.push(PathRow {
                category: labels[label].clone(),
                rank: rank + 1,
                chain,
                steps,
                count,
                n_category: n,
                share: count as f64 / n as f64,
                lo,
                hi,
                n_chains,
            });
        }
    }
    Ok((rows, events))
}

/// Renders `paths.csv`.
pub fn paths_csv(outcome: &str, rows: &[PathRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(PATHS_HEADER);
    for r in rows {
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},",
            csv_field(outcome),
            csv_field(&r.category),
            r.rank,
            csv_field(&r.chain),
            r.steps,
            r.count,
            r.n_category
        );
        push_f64(&mut s, r.share);
        s.push(',');
        push_f64(&mut s, r.lo);
        s.push(',');
        push_f64(&mut s, r.hi);
        let _ = writeln!(s, ",{}", r.n_chains);
    }
    s
}

/// Runs a `paths` request and writes `paths.csv` and `manifest.json`.
pub fn paths(config: &PathsConfig) -> Result<PathsReport> {
    if config.reps == 0 {
        return Err(Error::invalid("reps", "--reps must be at least 1"));
    }
    if config.top == 0 {
        return Err(Error::invalid("top", "--top must be at least 1"));
    }
    let (scenario, sha256) = crate::scenario::load_hashed(&config.scenario_path)?;
    let params = checked_params(&scenario, &config.overrides, "--set")?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let cols = columns(&scenario);
    let outcome = config.outcome.as_deref().unwrap_or("terminal");
    let group = column_index(&cols, outcome)?;
    if cols[group].kind == ColumnKind::Numeric {
        let categorical: Vec<&str> = cols
            .iter()
            .filter(|c| c.kind != ColumnKind::Numeric)
            .map(|c| c.name.as_str())
            .collect();
        return Err(Error::invalid("outcome", format!(
            "--outcome `{outcome}` is numeric; paths groups replications by a categorical outcome: {}",
            categorical.join(", ")
        )));
    }
    if config.longest && !config.anchors.is_empty() {
        return Err(Error::invalid(
            "longest",
            "--longest and --anchor choose the anchor two ways: give one",
        ));
    }
    let mut anchors = Vec::new();
    for name in &config.anchors {
        let Some(i) = scenario.events.iter().position(|e| e.id == *name) else {
            let hint = crate::diag::suggest(name, scenario.events.iter().map(|e| e.id.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(Error::invalid(
                "anchor",
                format!("--anchor: unknown event type `{name}`{hint}"),
            ));
        };
        anchors.push(i as u32);
    }
    let anchor = if !anchors.is_empty() {
        Anchor::Events(anchors)
    } else if config.longest {
        Anchor::Longest
    } else {
        Anchor::Deciding
    };
    // Refused before the work if it already holds a result.
    let out_dir = config.out.as_deref().map(OutputDir::create).transpose()?;
    let (rows, events) = top_paths_counting(
        &scenario,
        &params,
        seed,
        config.reps,
        config.threads,
        group,
        &anchor,
        config.top,
    )?;
    let mut written = Vec::new();
    if let Some(mut out) = out_dir {
        out.write("paths.csv", paths_csv(outcome, &rows).as_bytes())?;
        written = out.finish(AnalysisRecord {
            kind: "paths",
            command: config.command.clone(),
            scenario: ScenarioInfo {
                path: config.scenario_path.display().to_string(),
                name: scenario.name.clone(),
                sha256,
            },
            seed,
            reps: config.reps,
            rng: format!(
                "{RNG_DESCRIPTION}; replication r runs traced with replication_key(seed, r, None)"
            ),
            params: param_map(&scenario, &params),
            design: serde_json::json!({
                "outcome": outcome,
                "anchors": config.anchors,
                "anchor": anchor.description(),
                "top": config.top,
            }),
            totals: Totals {
                replications: config.reps,
                events,
            },
        })?;
    }
    Ok(PathsReport {
        outcome: outcome.to_string(),
        reps: config.reps,
        seed,
        rows,
        written,
    })
}

/// What `paths` prints: a headline, the tables ([`render`]) and the files
/// written.
pub fn render_report(report: &PathsReport) -> String {
    let mut out = format!(
        "causal paths: {} replications, seed {}\n\n",
        report.reps, report.seed
    );
    out.push_str(&render(report));
    crate::output::text::push_written(&mut out, &report.written);
    out
}

/// Renders the report as one table per group.
pub fn render(report: &PathsReport) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < report.rows.len() {
        let first = &report.rows[i];
        let group: Vec<&PathRow> = report.rows[i..]
            .iter()
            .take_while(|r| r.category == first.category)
            .collect();
        out.push_str(&format!(
            "{} = {}: {} replications ({:.1}%), {} distinct chains\n",
            report.outcome,
            first.category,
            first.n_category,
            100.0 * first.n_category as f64 / report.reps as f64,
            first.n_chains
        ));
        let rows: Vec<Vec<String>> = group
            .iter()
            .map(|r| {
                vec![
                    r.rank.to_string(),
                    format!("{:.1}%", 100.0 * r.share),
                    format!("[{}%, {}%]", fmt_pct(r.lo), fmt_pct(r.hi)),
                    r.chain.clone(),
                ]
            })
            .collect();
        out.push_str(&render_table_aligned(
            &["#", "share", "95% CI", "chain"],
            &rows,
            &[false, false, false, true],
        ));
        out.push('\n');
        i += group.len();
    }
    out
}

fn fmt_pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}
