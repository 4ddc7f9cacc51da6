//! The text `run` and `sweep` print: the scenario's outcomes first, in its
//! units, then (with `--all`) the built-in metrics.
//!
//! Each numeric outcome is summarised according to the quantity its
//! expression computes ([`crate::expr::Quantity`]): a moment is printed as
//! `day 24.10` and a length of time as `13.31 days` (the scenario's
//! `time_unit`), a 0/1 outcome as a share with its Wilson interval, others
//! as numbers. A moment that may not come before the horizon (its value is
//! then `inf`, or a stand-in at or past the horizon such as `else 60`) is
//! censored: its mean, median and quartiles are over the replications where
//! it came, and a note gives how often that was. Categories that no
//! replication can reach ([`Scenario::possible_labels`]) are left out.
//!
//! [`ReportAccumulator`] gathers what the files do not hold (statistics over
//! the replications where a moment came, quartiles) in (point, rep) order,
//! one point at a time, beside the summary; the CSV files do not depend on it.

use super::RunReport;
use crate::engine::{Column, ColumnKind};
use crate::expr::Quantity;
use crate::output::tables::{PointSummary, SummaryRow};
use crate::output::text::{fixed, percent, render_table_aligned};
use crate::scenario::{Scenario, HORIZON};
use crate::stats::{wilson, Moments, Quantiles, Z95};
use crate::time::TimeUnit;
use std::path::PathBuf;

/// Points of a sweep whose outcomes the printed table shows; the rest are in
/// `summary.csv`.
pub const MAX_PRINTED_POINTS: usize = 50;

/// What the report needs to know about the scenario's outcomes and time axis.
#[derive(Debug, Clone)]
pub struct OutcomeInfo {
    /// Per outcome, in declaration order: its name and, for a numeric one,
    /// the quantity it computes.
    pub outcomes: Vec<(String, Option<Quantity>)>,
    /// Per output column: for a categorical one, whether each label can
    /// occur (the `terminal` column's labels all can).
    pub possible: Vec<Vec<bool>>,
    /// The scenario's time unit.
    pub time_unit: TimeUnit,
    /// The horizon, in that unit.
    pub horizon: f64,
}

impl OutcomeInfo {
    /// Reads it from the scenario (`cols` are its output columns).
    pub fn new(s: &Scenario, cols: &[Column]) -> OutcomeInfo {
        let outcomes = (s.outcomes.iter().enumerate())
            .map(|(i, o)| (o.name.clone(), s.outcome_quantity(i)))
            .collect();
        let possible = (cols.iter().enumerate())
            .map(|(i, c)| match &c.kind {
                ColumnKind::Categorical(labels) if i < s.outcomes.len() => s.possible_labels(i),
                ColumnKind::Categorical(labels) => vec![true; labels.len()],
                ColumnKind::Numeric => Vec::new(),
            })
            .collect();
        OutcomeInfo {
            outcomes,
            possible,
            time_unit: s.time_unit,
            horizon: s.horizon,
        }
    }

    /// Whether a value of outcome `i` counts: finite, and for a moment,
    /// before the horizon.
    fn counts(&self, i: usize, v: f64) -> bool {
        v.is_finite() && (self.outcomes[i].1 != Some(Quantity::Moment) || v < self.horizon)
    }
}

/// One numeric outcome over one point: the values that count (finite, and
/// for a moment before the horizon) and how many values there were.
#[derive(Debug, Clone, Default)]
pub struct OutcomeStats {
    /// Moments of the values that count.
    pub moments: Moments,
    /// Quantiles of the values that count.
    pub quantiles: Quantiles,
    /// Every value added.
    pub n: u64,
}

/// One point's outcomes as the sweep table prints them: per outcome, its
/// statistics (numeric) or the shares of its labels (categorical).
#[derive(Debug, Clone)]
pub struct PointLine {
    /// The point's index.
    pub point: u64,
    /// Per outcome, in declaration order.
    pub values: Vec<PointValue>,
}

/// One outcome of one point, in the sweep table.
#[derive(Debug, Clone)]
pub enum PointValue {
    /// A numeric outcome: mean and median of the values that count, and
    /// the share of values that count.
    Numeric {
        /// Mean of the values that count.
        mean: f64,
        /// Median of the values that count.
        median: f64,
        /// Share of the replications whose value counts.
        counted: f64,
    },
    /// A categorical outcome: the share of each label.
    Shares(Vec<f64>),
}

/// Gathers the report's statistics beside the summary, one point at a time.
#[derive(Debug, Clone)]
pub struct ReportAccumulator {
    info: OutcomeInfo,
    /// Output column of each numeric outcome, with its statistics so far.
    numeric: Vec<(usize, OutcomeStats)>,
    /// The sweep table's lines, for the first [`MAX_PRINTED_POINTS`] points.
    lines: Vec<PointLine>,
    /// Points finished.
    points: u64,
}

impl ReportAccumulator {
    /// An empty accumulator for a scenario's outcomes.
    pub fn new(info: OutcomeInfo) -> ReportAccumulator {
        let numeric = (info.outcomes.iter().enumerate())
            .filter(|(_, (_, q))| q.is_some())
            .map(|(i, _)| (i, OutcomeStats::default()))
            .collect();
        ReportAccumulator {
            info,
            numeric,
            lines: Vec::new(),
            points: 0,
        }
    }

    /// Adds one replication's row.
    pub fn add(&mut self, row: &[f64]) {
        for (col, stats) in &mut self.numeric {
            let v = row[*col];
            stats.n += 1;
            if self.info.counts(*col, v) {
                stats.moments.add(v);
                stats.quantiles.add(v);
            }
        }
    }

    /// Ends a point whose summary is `summary`: records its line of the
    /// sweep table. Its statistics stay readable until the next row.
    pub fn finish_point(&mut self, point: u64, summary: &PointSummary, cols: &[Column]) {
        self.points += 1;
        if self.lines.len() >= MAX_PRINTED_POINTS {
            return;
        }
        let rows = summary.rows(cols);
        let mut values = Vec::new();
        let mut numeric = self.numeric.iter();
        for (i, (name, quantity)) in self.info.outcomes.iter().enumerate() {
            if quantity.is_some() {
                let (_, s) = numeric.next().expect("one entry per numeric outcome");
                let counted = s.moments.count();
                values.push(PointValue::Numeric {
                    mean: s.moments.mean(),
                    median: if counted > 0 {
                        s.quantiles.quantile(0.5)
                    } else {
                        f64::NAN
                    },
                    counted: counted as f64 / s.n.max(1) as f64,
                });
            } else {
                let shares = (rows.iter())
                    .filter(|r| &r.metric == name && r.category.is_some())
                    .zip(&self.info.possible[i])
                    .filter(|(_, possible)| **possible)
                    .map(|(r, _)| r.mean)
                    .collect();
                values.push(PointValue::Shares(shares));
            }
        }
        self.lines.push(PointLine { point, values });
    }

    /// Starts the next point.
    pub fn reset(&mut self) {
        for (_, stats) in &mut self.numeric {
            *stats = OutcomeStats::default();
        }
    }

    /// The finished report data: the outcome information, the last point's
    /// statistics per numeric outcome (by output column), the table's lines
    /// and the number of points finished.
    pub fn finish(self) -> ReportData {
        ReportData {
            info: self.info,
            last: self.numeric,
            lines: self.lines,
            points: self.points,
        }
    }
}

/// What [`ReportAccumulator`] gathered, kept in the [`RunReport`].
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The outcomes and the time axis.
    pub info: OutcomeInfo,
    /// The last point's statistics, per numeric outcome (its output column).
    pub last: Vec<(usize, OutcomeStats)>,
    /// The sweep table's lines (the first [`MAX_PRINTED_POINTS`] points).
    pub lines: Vec<PointLine>,
    /// Points summarised.
    pub points: u64,
}

/// The unit words of a time axis: (singular, plural).
fn unit_words(unit: TimeUnit) -> (&'static str, &'static str) {
    match unit {
        TimeUnit::Hours => ("hour", "hours"),
        TimeUnit::Days => ("day", "days"),
        TimeUnit::Weeks => ("week", "weeks"),
    }
}

/// A statistic in the quantity's unit, with `d` decimals: `day 24.10`,
/// `13.31 days`, `1.735`.
fn with_unit(x: f64, d: usize, quantity: Quantity, unit: TimeUnit) -> String {
    let (one, many) = unit_words(unit);
    match quantity {
        _ if !x.is_finite() => fixed(x, d),
        Quantity::Moment => format!("{one} {}", fixed(x, d)),
        Quantity::Duration => format!("{} {many}", fixed(x, d)),
        _ => fixed(x, d),
    }
}

/// Decimals for statistics printed together: none when they are whole
/// numbers,
/// otherwise 4 significant digits for the largest magnitude, at most 4
/// decimals (`13.31`, `1.735`, `0.3471`, `0.0001`).
fn decimals(values: &[f64]) -> usize {
    let whole = values.iter().all(|v| !v.is_finite() || v.fract() == 0.0);
    if whole {
        return 0;
    }
    let max = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return 2;
    }
    (3 - max.log10().floor() as i64).clamp(0, 4) as usize
}

/// A 95% interval as printed: `[lo, hi]`, the lower end at least 0 for a
/// quantity that cannot be negative (a length of time, a count).
fn interval(lo: f64, hi: f64, d: usize, quantity: Quantity) -> String {
    let lo = match quantity {
        Quantity::Duration | Quantity::Count => lo.max(0.0),
        _ => lo,
    };
    format!("[{}, {}]", fixed(lo, d), fixed(hi, d))
}

/// The rows of the outcome table and its notes, for one point.
fn outcome_rows(report: &RunReport, data: &ReportData) -> (Vec<Vec<String>>, Vec<String>) {
    let info = &data.info;
    let summary = report.summary.rows(&report.columns);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (i, (name, quantity)) in info.outcomes.iter().enumerate() {
        let Some(quantity) = *quantity else {
            push_shares(&mut rows, &summary, name, &info.possible[i], name);
            continue;
        };
        let Some((_, s)) = data.last.iter().find(|(c, _)| *c == i) else {
            continue;
        };
        let counted = s.moments.count();
        let mut label = name.clone();
        if counted < s.n {
            label.push_str(" *");
            let (lo, hi) = wilson(counted, s.n, Z95);
            let share = counted as f64 / s.n.max(1) as f64;
            let what = if quantity == Quantity::Moment {
                format!(
                    "came before the horizon ({} {})",
                    unit_words(info.time_unit).0,
                    crate::output::fmt_f64(info.horizon)
                )
            } else {
                "is finite".to_string()
            };
            notes.push(format!(
                "* {name} {what} in {} of runs [{}, {}]; mean, median and quartiles are over those runs",
                percent(share),
                percent(lo),
                percent(hi)
            ));
        }
        if counted == 0 {
            rows.push(vec![
                label,
                "-".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        if quantity == Quantity::Indicator {
            let ones = (s.moments.mean() * counted as f64).round() as u64;
            let (lo, hi) = wilson(ones, counted, Z95);
            rows.push(vec![
                label,
                percent(s.moments.mean()),
                format!("[{}, {}]", percent(lo), percent(hi)),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let (lo, hi) = s.moments.ci95();
        let [q25, q50, q75] = s.quantiles.quantiles([0.25, 0.5, 0.75]);
        let d = decimals(&[s.moments.mean(), lo, hi]);
        let dq = decimals(&[q25, q50, q75]);
        let unit = |x: f64, d: usize| with_unit(x, d, quantity, info.time_unit);
        rows.push(vec![
            label,
            unit(s.moments.mean(), d),
            interval(lo, hi, d, quantity),
            unit(q50, dq),
            if q25 < q75 {
                format!("[{}, {}]", fixed(q25, dq), fixed(q75, dq))
            } else {
                String::new()
            },
        ]);
    }
    // How replications ended, in plain words; a terminal event no run
    // reached is listed too (0.0%, with its interval): it was possible.
    let ended: Vec<&SummaryRow> = summary.iter().filter(|r| r.metric == "terminal").collect();
    for r in ended {
        let label = match r.category.as_deref() {
            Some(HORIZON) => "run reached the horizon".to_string(),
            Some(event) => format!("run ended by {event}"),
            None => continue,
        };
        rows.push(vec![
            label,
            percent(r.mean),
            format!("[{}, {}]", percent(r.ci95.0), percent(r.ci95.1)),
            String::new(),
            String::new(),
        ]);
    }
    (rows, notes)
}

/// Rows `NAME = label` for the labels of a categorical column that can occur.
fn push_shares(
    rows: &mut Vec<Vec<String>>,
    summary: &[SummaryRow],
    metric: &str,
    possible: &[bool],
    shown: &str,
) {
    let labels = summary
        .iter()
        .filter(|r| r.metric == metric && r.category.is_some());
    for (r, possible) in labels.zip(possible) {
        if !*possible {
            continue;
        }
        rows.push(vec![
            format!("{shown} = {}", r.category.as_deref().unwrap_or_default()),
            percent(r.mean),
            format!("[{}, {}]", percent(r.ci95.0), percent(r.ci95.1)),
            String::new(),
            String::new(),
        ]);
    }
}

/// The kind of quantity a built-in metric is.
fn builtin_quantity(name: &str) -> Quantity {
    if name == "end_time" {
        Quantity::Moment
    } else if name == "n_events" || name.starts_with("count_") {
        Quantity::Count
    } else if name.starts_with("tension_") && name.contains("_above_") {
        Quantity::Duration
    } else {
        Quantity::Number
    }
}

/// The built-in metrics, one short row each (mean, 95% CI, median).
fn builtin_rows(report: &RunReport, data: &ReportData) -> Vec<Vec<String>> {
    let n_outcomes = data.info.outcomes.len();
    let outcome_names: Vec<&str> = (report.columns.iter().take(n_outcomes))
        .map(|c| c.name.as_str())
        .collect();
    report
        .summary
        .rows(&report.columns)
        .into_iter()
        .filter(|r| {
            !outcome_names.contains(&r.metric.as_str())
                && r.metric != "terminal"
                && !report.hidden_metrics.contains(&r.metric)
        })
        .map(|r| {
            let q = builtin_quantity(&r.metric);
            let d = decimals(&[r.mean, r.ci95.0, r.ci95.1]);
            let dq = decimals(&[r.quantiles[1]]);
            vec![
                r.metric.clone(),
                with_unit(r.mean, d, q, data.info.time_unit),
                interval(r.ci95.0, r.ci95.1, d, q),
                with_unit(r.quantiles[1], dq, q, data.info.time_unit),
            ]
        })
        .collect()
}

impl RunReport {
    /// What `run` prints: a headline with the speed; the scenario's outcomes
    /// (mean, 95% CI, median and quartiles, in its units; censored moments
    /// noted); how runs ended; the built-in metrics with `all`, otherwise a
    /// line saying how many there are; the files written (`also_written`
    /// after the run's own) and the tie-order audit, if run.
    pub fn render_run(&self, also_written: &[PathBuf], all: bool) -> String {
        let mut out = format!(
            "{}: {} replications, seed {}, {:.2} s ({:.0} replications/s, {:.0} events/s)\n\n",
            self.scenario_name,
            self.reps,
            self.seed,
            self.seconds,
            self.reps as f64 / self.seconds.max(1e-9),
            self.events as f64 / self.seconds.max(1e-9)
        );
        out.push_str(&self.outcome_table().render());
        let builtins = self.builtin_table();
        if all {
            out.push('\n');
            out.push_str(&builtins.render());
        } else if !builtins.rows.is_empty() {
            out.push_str(&format!(
                "({} built-in metrics (end time, event counts, tensions): --all prints them)\n",
                builtins.rows.len()
            ));
        }
        crate::output::text::push_written(&mut out, &self.written);
        crate::output::text::push_written(&mut out, also_written);
        if let Some(audit) = &self.tie_audit {
            out.push('\n');
            out.push_str(&crate::analysis::ties::render(audit));
        }
        out
    }

    /// The outcome table `run` prints: per outcome, its mean or share, 95%
    /// CI, median and quartiles in the scenario's units, then how runs
    /// ended; the notes say what a starred (censored) outcome's numbers are
    /// over.
    pub fn outcome_table(&self) -> ReportTable {
        let (rows, notes) = outcome_rows(self, &self.report);
        ReportTable {
            header: ["outcome", "mean / share", "95% CI", "median", "quartiles"]
                .map(String::from)
                .to_vec(),
            rows,
            left: vec![true, false, true, false, true],
            notes,
        }
    }

    /// The built-in metrics (end time, event counts, tensions; not those of
    /// hidden events), as `run --all` prints them: mean, 95% CI, median.
    pub fn builtin_table(&self) -> ReportTable {
        ReportTable {
            header: ["built-in metric", "mean", "95% CI", "median"]
                .map(String::from)
                .to_vec(),
            rows: builtin_rows(self, &self.report),
            left: vec![true, false, true, false],
            notes: Vec::new(),
        }
    }

    /// What `sweep` prints: a headline with the speed, one line per point
    /// (the first [`MAX_PRINTED_POINTS`]) with the varied parameters and
    /// each outcome's mean (a moment's median, among the runs where it
    /// came before the horizon, and how often it did) or each possible
    /// label's share, and the files written.
    pub fn render_sweep(&self) -> String {
        let mut out = format!(
            "{}: {} points, {} replications run, seed {}, {:.2} s ({:.0} replications/s, {:.0} events/s)\n",
            self.scenario_name,
            self.points,
            self.reps,
            self.seed,
            self.seconds,
            self.reps as f64 / self.seconds.max(1e-9),
            self.events as f64 / self.seconds.max(1e-9)
        );
        if let Some(table) = self.sweep_table() {
            out.push('\n');
            out.push_str(&table.render());
        }
        crate::output::text::push_written(&mut out, &self.written);
        out
    }

    /// The sweep's per-point table as `sweep` prints it (none when no point
    /// was summarised): the point, the varied parameters and each
    /// outcome; the notes say what each column holds and how many points
    /// are left out.
    pub fn sweep_table(&self) -> Option<ReportTable> {
        (!self.report.lines.is_empty()).then(|| sweep_table(self, &self.report))
    }
}

/// A table of the printed report as cells: what `run` and `sweep` print
/// (through [`ReportTable::render`]) and what `flashpoint report` shows in
/// HTML, so both show the same values.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTable {
    /// The column headings.
    pub header: Vec<String>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<String>>,
    /// Per column, whether it is left aligned (otherwise right aligned).
    pub left: Vec<bool>,
    /// Lines printed below the table.
    pub notes: Vec<String>,
}

impl ReportTable {
    /// The table as aligned text, each note on a line below it.
    pub fn render(&self) -> String {
        let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
        let mut out = render_table_aligned(&header, &self.rows, &self.left);
        for note in &self.notes {
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

/// A parameter value in the sweep table: its shortest form when short
/// (`0.5`, `10.5`), else 4 significant digits (`0.5775`).
fn parameter_text(v: f64) -> String {
    let shortest = crate::output::fmt_f64(v);
    if shortest.len() <= 6 {
        shortest
    } else {
        fixed(v, decimals(&[v]))
    }
}

/// The sweep's per-point table and a legend saying what each column holds.
fn sweep_table(report: &RunReport, data: &ReportData) -> ReportTable {
    let info = &data.info;
    let summary = report.summary.rows(&report.columns);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(report.varied.iter().cloned());
    let (one, _) = unit_words(info.time_unit);
    let mut legend = Vec::new();
    for (i, (name, quantity)) in info.outcomes.iter().enumerate() {
        header.push(name.clone());
        match quantity {
            Some(Quantity::Moment) => legend.push(format!(
                "{name}: median {one} over the runs where it came before the horizon (in how many, when not all)"
            )),
            Some(Quantity::Indicator) => legend.push(format!("{name}: share of runs")),
            Some(Quantity::Duration) => {
                legend.push(format!("{name}: mean, {}", unit_words(info.time_unit).1))
            }
            Some(_) => legend.push(format!("{name}: mean")),
            None => {
                header.pop();
                let labels: Vec<&str> = (summary.iter())
                    .filter(|r| &r.metric == name && r.category.is_some())
                    .zip(&info.possible[i])
                    .filter(|(_, possible)| **possible)
                    .map(|(r, _)| r.category.as_deref().unwrap_or_default())
                    .collect();
                header.extend(labels.iter().map(|l| l.to_string()));
                legend.push(format!("{}: shares of {name}", labels.join(", ")));
            }
        }
    }
    let rows: Vec<Vec<String>> = (data.lines.iter())
        .map(|line| {
            let mut row = vec![line.point.to_string()];
            if let Some(values) = report.point_values.get(line.point as usize) {
                row.extend(values.iter().map(|v| parameter_text(*v)));
            }
            for (value, (_, quantity)) in line.values.iter().zip(&info.outcomes) {
                match (value, quantity) {
                    (PointValue::Numeric { mean, .. }, Some(Quantity::Indicator)) => {
                        row.push(percent(*mean))
                    }
                    (
                        PointValue::Numeric {
                            median, counted, ..
                        },
                        Some(Quantity::Moment),
                    ) => {
                        let d = decimals(&[*median]).min(1);
                        row.push(if *counted < 1.0 {
                            format!("{} ({})", fixed(*median, d), percent(*counted))
                        } else {
                            fixed(*median, d)
                        })
                    }
                    (PointValue::Numeric { mean, .. }, _) => {
                        row.push(fixed(*mean, decimals(&[*mean])))
                    }
                    (PointValue::Shares(shares), _) => {
                        row.extend(shares.iter().map(|s| percent(*s)))
                    }
                }
            }
            row
        })
        .collect();
    let left: Vec<bool> = vec![false; header.len()];
    let mut notes = legend;
    if data.points > data.lines.len() as u64 {
        notes.push(format!(
            "({} more points: summary.csv with --out has every point)",
            data.points - data.lines.len() as u64
        ));
    }
    ReportTable {
        header,
        rows,
        left,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{run, RunConfig};

    const SCENARIO: &str = r#"
[scenario]
name = "r"
horizon = 10
seed = 1

[[actor]]
id = "A"

[[actor]]
id = "B"

[[tension]]
between = ["A", "B"]
initial = 0.3

[[event]]
id = "go"

[[event]]
id = "maybe"

[[schedule]]
event = "go"
at = 5
source = "A"
target = "B"

[[rule]]
name = "r"
actor = "B"
on = "go"
prob = "0.5"
emit = { event = "maybe", target = "A" }

[[outcome]]
name = "when_go"
value = "first(go)"

[[outcome]]
name = "when_maybe"
value = "first(maybe)"

[[outcome]]
name = "maybe_day"
value = "if count(maybe) > 0 then first(maybe) else 10"

[[outcome]]
name = "n_maybe"
value = "count(maybe)"

[[outcome]]
name = "waited"
value = "t - first(go)"

[[outcome]]
name = "maybe_flag"
value = "if count(maybe) > 0 then 1 else 0"

[[outcome]]
name = "level"
value = "tension(A, B) * 2"

[[outcome]]
name = "path"
cases = [
  { label = "yes", when = "count(maybe) > 0" },
  { label = "no", when = "true" },
  { label = "never", when = "count(go) > 5" },
]
"#;

    fn report(reps: u64) -> RunReport {
        let dir = std::env::temp_dir().join(format!("flashpoint-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.toml");
        std::fs::write(&path, SCENARIO).unwrap();
        let config = RunConfig {
            scenario_path: path,
            overrides: Vec::new(),
            reps,
            seed: None,
            threads: 2,
            out: None,
            trace: 0,
            timeseries: None,
            tie_audit: false,
            posterior: None,
            command: Vec::new(),
        };
        let report = run(&config, &mut |_, _| {}).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        report
    }

    fn line<'a>(text: &'a str, start: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line `{start}` in\n{text}"))
    }

    fn cells(line: &str) -> Vec<&str> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    #[test]
    fn outcomes_are_read_as_moments_durations_counts_and_shares() {
        let s = crate::scenario::parse("r.toml", SCENARIO).unwrap();
        let q: Vec<Option<Quantity>> = (0..s.outcomes.len())
            .map(|i| s.outcome_quantity(i))
            .collect();
        use Quantity::*;
        assert_eq!(
            q,
            [
                Some(Moment),
                Some(Moment),
                Some(Moment),
                Some(Count),
                Some(Duration),
                Some(Indicator),
                Some(Number),
                None
            ]
        );
        // `true` makes `never` and the fallback `other` impossible.
        assert_eq!(s.outcome_labels(7), ["yes", "no", "never", "other"]);
        assert_eq!(s.possible_labels(7), [true, true, false, false]);
    }

    #[test]
    fn the_run_report_leads_with_outcomes_in_units_and_marks_censored_moments() {
        let r = report(400);
        let text = r.render_run(&[], false);
        // Every replication has `go` at day 5: exact.
        assert_eq!(
            cells(line(&text, "when_go ")),
            ["when_go", "day 5", "[5, 5]", "day 5"]
        );
        assert_eq!(
            cells(line(&text, "waited ")),
            ["waited", "5 days", "[5, 5]", "5 days"]
        );
        // `maybe` happens in about half the runs: the moment is censored,
        // its statistics are over the runs where it came (always day 5).
        assert_eq!(
            cells(line(&text, "when_maybe *")),
            ["when_maybe *", "day 5", "[5, 5]", "day 5"]
        );
        assert_eq!(
            cells(line(&text, "maybe_day *")),
            ["maybe_day *", "day 5", "[5, 5]", "day 5"]
        );
        let share = cells(line(&text, "maybe_flag"))[1].to_string();
        assert_eq!(cells(line(&text, "path = yes"))[1], share);
        assert!(
            line(&text, "* when_maybe").starts_with(&format!(
                "* when_maybe came before the horizon (day 10) in {share} of runs ["
            )),
            "{text}"
        );
        assert!(text.contains("; mean, median and quartiles are over those runs\n"));
        // A count: mean, then median and quartiles (informative: 0 and 1).
        assert_eq!(cells(line(&text, "n_maybe"))[3..], ["0", "[0, 1]"]);
        // Impossible categories are left out; plain words for the horizon.
        assert!(!text.contains("never") && !text.contains("other"), "{text}");
        assert_eq!(
            cells(line(&text, "run reached the horizon"))[..2],
            ["run reached the horizon", "100.0%"]
        );
        assert!(!text.contains("terminal"));
        // Built-in metrics only on request.
        assert!(!text.contains("count_go"));
        assert!(text.contains(
            "(6 built-in metrics (end time, event counts, tensions): --all prints them)\n"
        ));
        let all = r.render_run(&[], true);
        assert_eq!(
            cells(line(&all, "end_time")),
            ["end_time", "day 10", "[10, 10]", "day 10"]
        );
        assert_eq!(
            cells(line(&all, "count_go")),
            ["count_go", "1", "[1, 1]", "1"]
        );
        assert!(!all.contains("--all prints them"));
    }

    #[test]
    fn a_sweep_without_out_prints_one_line_per_point_and_writes_nothing() {
        let dir =
            std::env::temp_dir().join(format!("flashpoint-sweep-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.toml");
        std::fs::write(
            &path,
            SCENARIO.replace("prob = \"0.5\"", "prob = \"p\"").replace(
                "[[actor]]\nid = \"A\"",
                "[params]\np = { value = 0.5, min = 0, max = 1 }\n\n[[actor]]\nid = \"A\"",
            ),
        )
        .unwrap();
        let mut config = crate::sweep::SweepConfig {
            scenario_path: path,
            overrides: Vec::new(),
            vary: vec!["p=0,1".into()],
            design: "grid".into(),
            recorded_design: None,
            reps: 50,
            seed: None,
            threads: 2,
            out: None,
            shard: None,
            independent_streams: false,
            no_runs: false,
            resume: false,
            timeseries: None,
            command: Vec::new(),
        };
        let text = crate::sweep::sweep(&config, &mut |_, _| {})
            .unwrap()
            .render_sweep();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "only the scenario: {files:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            cells(lines[2]),
            [
                "point",
                "p",
                "when_go",
                "when_maybe",
                "maybe_day",
                "n_maybe",
                "waited",
                "maybe_flag",
                "level",
                "yes",
                "no"
            ]
        );
        // p = 0: `maybe` never comes; p = 1: always, at day 5.
        assert_eq!(
            cells(lines[3]),
            ["0", "0", "5", "- (0.0%)", "- (0.0%)", "0", "5", "0.0%", "0.6000", "0.0%", "100.0%"]
        );
        assert_eq!(
            cells(lines[4]),
            ["1", "1", "5", "5", "5", "1", "5", "100.0%", "0.6000", "100.0%", "0.0%"]
        );
        assert!(text.contains("\nwhen_maybe: median day over the runs where it came before the horizon (in how many, when not all)\n"), "{text}");
        assert!(text.contains("\nyes, no: shares of path\n"), "{text}");
        config.timeseries = Some(crate::sweep::TimeseriesOptions { dt: 1.0, reps: 1 });
        let err = crate::sweep::sweep(&config, &mut |_, _| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--timeseries needs --out DIR to write timeseries.csv"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
