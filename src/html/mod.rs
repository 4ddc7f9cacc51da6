//! `flashpoint report DIR`: one self-contained HTML file for any result
//! directory (`run`, `sweep`, `compare`, `paths`, `sensitivity`, `rare`,
//! `calibrate`), readable with no network: the charts are inline SVG, the
//! style sheet is inline, there is no script and no URL.
//!
//! Every page has a table of contents; a section saying what the page
//! holds and what it leaves out for this kind of result; the scenario (its
//! description and time axis) and its parameters; the kind's tables; the
//! charts [`crate::plot::figure`] draws for it (`run`, `sweep`, `compare`,
//! `sensitivity`); and the manifest (seed, command, each output's SHA-256,
//! checked against the file) with the command that reproduces it.
//!
//! The tables of a `run` and a `sweep` are those the command printed,
//! rebuilt from `runs.csv` ([`crate::sweep::reread::read_report`]), cell
//! for cell. A `run` made with `--trace N` also gets its top causal paths
//! (grouped by how replications ended, re-simulated from the manifest's
//! seed and parameters by [`crate::analysis::paths::top_paths`]) and the
//! timeline of its first traced replication (`events.csv`).
//!
//! Every text from a file (a scenario's description, labels, the command
//! line) is escaped. The page is a pure function of the directory's files,
//! the scenario file and the `DIR` argument as written (the footer and the
//! `check` line name it): the same directory, named the same way, gives the
//! same bytes.
//!
//! Files: `page` (escaping, tables, the document and its style sheet).

use crate::analysis::paths::{top_paths, Anchor};
use crate::digest::sha256_hex;
use crate::engine::columns;
use crate::error::{Error, Result};
use crate::output::manifest::{claim_out_file, read_manifest, Manifest};
use crate::output::read::read_csv;
use crate::output::text::{fixed, fmt_num, percent, shared_decimals};
use crate::output::{fmt_f64, write_atomic};
use crate::scenario::Scenario;
use crate::sweep::report::ReportTable;
use crate::sweep::reread::{read_report, recorded_scenario};
use page::{code_block, escape, key_values, list, note, para, table, Section};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub mod page;

/// The kinds of result directory a report is made for (`kind` in
/// `manifest.json`).
pub const KINDS: &[&str] = &[
    "run",
    "sweep",
    "compare",
    "paths",
    "sensitivity",
    "rare",
    "calibrate",
];

/// Replications over which a traced run's causal paths are counted, at
/// most (the first ones of the run).
pub const MAX_PATH_REPS: u64 = 10_000;

/// Chains shown per group in a traced run's causal paths.
pub const TOP_PATHS: usize = 5;

/// Events of the traced replication listed in the timeline table, at most.
pub const MAX_TIMELINE_EVENTS: usize = 400;

/// Rows of a result CSV file shown in a table, at most.
pub const MAX_TABLE_ROWS: usize = 500;

/// A validated `report` request.
#[derive(Debug, Clone)]
pub struct HtmlConfig {
    /// The result directory.
    pub dir: PathBuf,
    /// The HTML file to write (default `DIR/report.html`).
    pub out: Option<PathBuf>,
    /// Replace the file if it exists (never a file of a result).
    pub force: bool,
}

/// Writes the report of `config.dir` atomically and returns its path.
/// Refused before any work when the file exists (without `force`) or is a
/// file of a result.
pub fn write_report(config: &HtmlConfig) -> Result<PathBuf> {
    let out = config
        .out
        .clone()
        .unwrap_or_else(|| config.dir.join("report.html"));
    claim_out_file(&out, config.force)?;
    let html = render(&config.dir)?;
    write_atomic(&out, html.as_bytes()).map_err(|e| Error::io(&out, e))?;
    Ok(out)
}

fn expected() -> String {
    format!(
        "expected a result directory: the --out DIR of {}",
        KINDS
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// What a page says it holds and leaves out, gathered while it is built.
#[derive(Default)]
struct Contents {
    holds: Vec<String>,
    omits: Vec<String>,
}

/// The HTML report of the result in `dir`.
pub fn render(dir: &Path) -> Result<String> {
    if !dir.is_dir() {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} is not a directory; {}",
                dir.display(),
                expected()
            ),
        ));
    }
    if !dir.join("manifest.json").is_file() {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} has no manifest.json, so it is not a finished flashpoint result; {}",
                dir.display(),
                expected()
            ),
        ));
    }
    let manifest = read_manifest(dir)?;
    let kind = manifest.kind.as_str();
    if !KINDS.contains(&kind) {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} holds a `{kind}` result, which report does not know; {}",
                dir.display(),
                expected()
            ),
        ));
    }
    let scenario = recorded_scenario(&manifest, dir).map_err(|e| e.to_string());
    let mut contents = Contents::default();
    let mut sections = Vec::new();
    sections.push(scenario_section(&manifest, &scenario, &mut contents));
    sections.push(parameters_section(&manifest, &scenario, &mut contents));
    match kind {
        "run" | "sweep" => run_sections(dir, &manifest, &mut sections, &mut contents),
        "compare" => compare_section(dir, &manifest, &scenario, &mut sections, &mut contents)?,
        "paths" => paths_file_section(dir, &mut sections, &mut contents)?,
        "sensitivity" => sensitivity_section(dir, &mut sections, &mut contents)?,
        "rare" => rare_sections(dir, &mut sections, &mut contents)?,
        _ => calibrate_sections(dir, &mut sections, &mut contents)?,
    }
    if matches!(kind, "run" | "sweep" | "compare" | "sensitivity") {
        sections.push(charts_section(dir, &manifest, &mut contents));
    } else {
        contents.omits.push(format!(
            "charts: `flashpoint plot` draws none for a `{kind}` result"
        ));
    }
    if kind == "run" {
        trace_sections(dir, &manifest, &scenario, &mut sections, &mut contents);
    }
    sections.push(manifest_section(dir, &manifest, &mut contents));
    // Built directly, not through `para`: a backtick in the scenario's
    // name would split `para`'s code spans.
    let mut about = format!(
        "<p>A <code>{}</code> result of scenario <code>{}</code>: {}, seed {}.</p>\n",
        escape(kind),
        escape(&manifest.scenario.name),
        escape(&size_text(&manifest)),
        manifest.seed
    );
    about.push_str("<h3>This page holds</h3>\n");
    about.push_str(&list(&contents.holds));
    if !contents.omits.is_empty() {
        about.push_str("<h3>Left out</h3>\n");
        about.push_str(&list(&contents.omits));
    }
    sections.insert(
        0,
        Section {
            id: "about".into(),
            title: "What this report holds".into(),
            body: about,
        },
    );
    let title = format!("{}: {} result", manifest.scenario.name, kind);
    let subtitle = format!(
        "{} · seed {} · made {} by flashpoint {}",
        size_text(&manifest),
        manifest.seed,
        manifest.created,
        manifest.flashpoint_version
    );
    let footer = format!(
        "flashpoint report {} · every number on this page is read from the files listed under Manifest",
        dir.display()
    );
    Ok(page::document(&title, &subtitle, &sections, &footer))
}

/// "2000 replications", "3 points × 200 replications", …
fn size_text(m: &Manifest) -> String {
    let design = m.design.clone().unwrap_or_default();
    match m.kind.as_str() {
        "sweep" => format!(
            "{} points × {} replications",
            design["n_points"].as_u64().unwrap_or(0),
            m.reps
        ),
        "sensitivity" => format!(
            "{} parameter points × {} replications",
            design["n_points"].as_u64().unwrap_or(0),
            m.reps
        ),
        "compare" => format!("{} replications per policy", m.reps),
        "calibrate" => format!("{} simulations", m.totals.replications),
        "rare" => format!(
            "{} particles × {} batches",
            design["particles"].as_u64().unwrap_or(0),
            design["batches"].as_u64().unwrap_or(0)
        ),
        _ => format!("{} replications", m.reps),
    }
}

fn scenario_section(
    m: &Manifest,
    scenario: &std::result::Result<(Scenario, String), String>,
    contents: &mut Contents,
) -> Section {
    let mut body = String::new();
    match scenario {
        Ok((s, _)) => {
            contents
                .holds
                .push("the scenario's description and time axis".into());
            if s.description.trim().is_empty() {
                body.push_str(&note("The scenario has no description."));
            } else {
                let _ = writeln!(
                    body,
                    "<p class=\"description\">{}</p>",
                    escape(s.description.trim())
                );
            }
            let mut pairs = vec![
                ("name".to_string(), s.name.clone()),
                // As the manifest records it (where `report` found the file
                // depends on the working directory).
                ("file".to_string(), m.scenario.path.clone()),
                (
                    "horizon".to_string(),
                    format!("{} {}", fmt_f64(s.horizon), s.time_unit.name()),
                ),
                ("actors".to_string(), s.actors.len().to_string()),
                ("event types".to_string(), s.events.len().to_string()),
                ("outcomes".to_string(), s.outcomes.len().to_string()),
            ];
            if let Some(start) = s.start_day {
                pairs.push((
                    "time 0".to_string(),
                    crate::time::format_date(start, s.time_unit, 0.0)[..10].to_string(),
                ));
            }
            body.push_str(&key_values(&pairs));
        }
        Err(e) => {
            contents.omits.push(
                "the scenario's description, and whatever needs the scenario file (see Scenario)"
                    .into(),
            );
            body.push_str(&para(&format!(
                "The scenario `{}` ({}) could not be read: {e}",
                m.scenario.name, m.scenario.path
            )));
        }
    }
    Section {
        id: "scenario".into(),
        title: "Scenario".into(),
        body,
    }
}

fn bounds_text(min: f64, max: f64) -> String {
    format!("[{}, {}]", fmt_f64(min), fmt_f64(max))
}

fn parameters_section(
    m: &Manifest,
    scenario: &std::result::Result<(Scenario, String), String>,
    contents: &mut Contents,
) -> Section {
    contents
        .holds
        .push("the parameter values the result was made with".into());
    let design = m.design.clone().unwrap_or_default();
    // Parameters a design varies, with what it gave them.
    let mut varied: BTreeMap<String, String> = BTreeMap::new();
    match m.kind.as_str() {
        "sweep" => {
            let names: Vec<String> =
                serde_json::from_value(design["params"].clone()).unwrap_or_default();
            let points: Vec<Vec<f64>> =
                serde_json::from_value(design["points"].clone()).unwrap_or_default();
            let kind = design["kind"].as_str().unwrap_or("grid").to_string();
            for (k, name) in names.iter().enumerate() {
                let mut values: Vec<f64> =
                    points.iter().filter_map(|p| p.get(k).copied()).collect();
                values.sort_by(f64::total_cmp);
                values.dedup_by(|a, b| a.to_bits() == b.to_bits());
                let text = if values.len() <= 8 {
                    values
                        .iter()
                        .map(|v| fmt_f64(*v))
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    format!(
                        "{} values in [{}, {}]",
                        values.len(),
                        fmt_num(values[0]),
                        fmt_num(values[values.len() - 1])
                    )
                };
                varied.insert(name.clone(), format!("varied ({kind}): {text}"));
            }
        }
        "sensitivity" | "calibrate" => {
            for v in design["vary"].as_array().into_iter().flatten() {
                if let Some(name) = v["param"].as_str() {
                    let (lo, hi) = (v["lo"].as_f64(), v["hi"].as_f64());
                    let range = match (lo, hi) {
                        (Some(lo), Some(hi)) => bounds_text(lo, hi),
                        _ => String::new(),
                    };
                    let what = if m.kind == "calibrate" {
                        "calibrated over"
                    } else {
                        "varied over"
                    };
                    varied.insert(name.to_string(), format!("{what} {range}"));
                }
            }
        }
        "compare" => {
            for arm in ["a", "b"] {
                if let Some(o) = design[arm]["overrides"].as_object() {
                    for (name, v) in o {
                        let entry = varied.entry(name.clone()).or_default();
                        if !entry.is_empty() {
                            entry.push_str("; ");
                        }
                        let _ = write!(
                            entry,
                            "policy {}: {}",
                            arm.to_uppercase(),
                            v.as_f64().map_or(v.to_string(), fmt_f64)
                        );
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(p) = &m.posterior {
        let from = p["path"].as_str().unwrap_or("a posterior");
        let particles = p["n_particles"].as_u64().unwrap_or(0);
        for name in p["params"].as_array().into_iter().flatten() {
            if let Some(name) = name.as_str() {
                varied.insert(
                    name.to_string(),
                    format!("drawn for each replication from {from} ({particles} weighted particles); the value shown is the base value"),
                );
            }
        }
    }
    let params: Vec<(String, f64, Option<&crate::scenario::Param>)> = match scenario {
        Ok((s, _)) => s
            .params
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    m.params.get(&p.name).copied().unwrap_or(p.value),
                    Some(p),
                )
            })
            .collect(),
        Err(_) => m
            .params
            .iter()
            .map(|(k, v)| (k.clone(), *v, None))
            .collect(),
    };
    let mut body = String::new();
    if params.is_empty() {
        body.push_str(&para("The scenario declares no parameters."));
    } else {
        let rows: Vec<Vec<String>> = params
            .iter()
            .map(|(name, value, p)| {
                let set = match (varied.get(name), p) {
                    (Some(v), _) => v.clone(),
                    (None, Some(p)) if p.value.to_bits() != value.to_bits() => "set (--set)".into(),
                    (None, Some(_)) => "default".into(),
                    (None, None) => String::new(),
                };
                vec![
                    name.clone(),
                    fmt_f64(*value),
                    p.map_or(String::new(), |p| fmt_f64(p.value)),
                    p.map_or(String::new(), |p| bounds_text(p.min, p.max)),
                    set,
                    p.map_or(String::new(), |p| p.doc.clone()),
                ]
            })
            .collect();
        body.push_str(&table(
            &[
                "parameter",
                "value",
                "default",
                "bounds",
                "how set",
                "meaning",
            ]
            .map(String::from),
            &rows,
            &[true, false, false, false, true, true],
        ));
        if m.kind == "compare" {
            body.push_str(&note("`value` is the value shared by both policies; the policies' own values are under `how set`."));
        }
    }
    Section {
        id: "parameters".into(),
        title: "Parameters".into(),
        body,
    }
}

fn report_table(t: &ReportTable) -> String {
    let mut body = table(&t.header, &t.rows, &t.left);
    for n in &t.notes {
        body.push_str(&note(n));
    }
    body
}

/// The outcome tables of a run or sweep: those the command printed.
fn run_sections(dir: &Path, m: &Manifest, sections: &mut Vec<Section>, contents: &mut Contents) {
    let mut body = String::new();
    match read_report(dir) {
        Ok(report) if m.kind == "run" => {
            contents.holds.push(
                "the outcome table `run` printed (mean or share, 95% CI, median, quartiles), and the built-in metrics `run --all` adds"
                    .into(),
            );
            body.push_str(&report_table(&report.outcome_table()));
            let builtins = report.builtin_table();
            if !builtins.rows.is_empty() {
                let _ = write!(
                    body,
                    "<h3>Built-in metrics</h3>\n{}",
                    report_table(&builtins)
                );
            }
        }
        Ok(report) => {
            contents
                .holds
                .push("the per-point table `sweep` printed".into());
            match report.sweep_table() {
                Some(t) => body.push_str(&report_table(&t)),
                None => body.push_str(&para("No point was summarised.")),
            }
        }
        Err(e) => {
            contents.omits.push(format!(
                "the printed report's table ({e}); summary.csv is shown instead"
            ));
            body.push_str(&para(&format!(
                "The printed report could not be rebuilt: {e}. The rows of summary.csv follow."
            )));
            body.push_str(
                &csv_table(&dir.join("summary.csv")).unwrap_or_else(|e| para(&e.to_string())),
            );
        }
    }
    sections.push(Section {
        id: "outcomes".into(),
        title: if m.kind == "run" {
            "Outcomes".into()
        } else {
            "Outcomes per point".into()
        },
        body,
    });
}

/// A result CSV file as a table: numbers to 4 significant decimals
/// (integers as they are), at most [`MAX_TABLE_ROWS`] rows.
fn csv_table(path: &Path) -> Result<String> {
    let csv = read_csv(path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let numeric: Vec<bool> = (0..csv.header.len())
        .map(|i| {
            csv.records
                .iter()
                .all(|r| r[i].is_empty() || r[i].parse::<f64>().is_ok())
        })
        .collect();
    let rows: Vec<Vec<String>> = (csv.records.iter().take(MAX_TABLE_ROWS))
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, cell)| {
                    if numeric[i] {
                        number_cell(cell)
                    } else {
                        cell.clone()
                    }
                })
                .collect()
        })
        .collect();
    let left: Vec<bool> = numeric.iter().map(|n| !n).collect();
    let mut out = table(&csv.header, &rows, &left);
    if csv.records.len() > MAX_TABLE_ROWS {
        out.push_str(&note(&format!(
            "The first {MAX_TABLE_ROWS} of {} rows; {} has them all.",
            csv.records.len(),
            path.display()
        )));
    }
    Ok(out)
}

/// A CSV number for reading: integers as written, others to 4 decimals.
fn number_cell(cell: &str) -> String {
    match cell.parse::<f64>() {
        Ok(x) if x.is_finite() && !cell.contains(['.', 'e', 'E']) => cell.to_string(),
        Ok(x) => fmt_num(x),
        Err(_) => cell.to_string(),
    }
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

fn compare_section(
    dir: &Path,
    m: &Manifest,
    scenario: &std::result::Result<(Scenario, String), String>,
    sections: &mut Vec<Section>,
    contents: &mut Contents,
) -> Result<()> {
    contents.holds.push(
        "the paired comparison B − A per outcome, with the unpaired reference and the variance reduction"
            .into(),
    );
    let path = dir.join("compare.csv");
    let csv = read_csv(&path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let col = |name: &str| {
        csv.column(name).ok_or_else(|| {
            Error::invalid(
                "report",
                format!("report: {} has no `{name}` column", path.display()),
            )
        })
    };
    let [metric, kind, category, mean_a, mean_b, diff, lo, hi, udiff, ulo, uhi, vr] = [
        "metric",
        "kind",
        "category",
        "mean_a",
        "mean_b",
        "diff",
        "ci95_lo",
        "ci95_hi",
        "diff_unpaired",
        "ci95_lo_unpaired",
        "ci95_hi_unpaired",
        "variance_reduction",
    ]
    .map(col);
    let (metric, kind, category, mean_a, mean_b, diff, lo, hi) =
        (metric?, kind?, category?, mean_a?, mean_b?, diff?, lo?, hi?);
    let (udiff, ulo, uhi, vr) = (udiff?, ulo?, uhi?, vr?);
    let design = m.design.clone().unwrap_or_default();
    let setting = |arm: &str| {
        let file = design[arm]["scenario"]["path"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        let values: Vec<String> = design[arm]["overrides"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_f64().map_or(v.to_string(), fmt_f64)))
                    .collect()
            })
            .unwrap_or_default();
        if values.is_empty() {
            format!("{file} (its defaults)")
        } else {
            format!("{file} with {}", values.join(", "))
        }
    };
    let mut body = key_values(&[
        ("policy A".into(), setting("a")),
        ("policy B".into(), setting("b")),
    ]);
    let row = |r: &Vec<String>| {
        let share = r[kind] == "share";
        // One fixed format per row (never `7.500e-4` beside `0.0030`).
        let d =
            shared_decimals(&[mean_a, mean_b, diff, lo, hi, udiff, ulo, uhi].map(|c| num(&r[c])));
        let f = |s: &str| {
            if share {
                percent(num(s))
            } else {
                fixed(num(s), d)
            }
        };
        let interval = |a: &str, b: &str| format!("[{}, {}]", f(a), f(b));
        let name = if r[category].is_empty() {
            r[metric].clone()
        } else {
            format!("{} = {}", r[metric], r[category])
        };
        vec![
            name,
            f(&r[mean_a]),
            f(&r[mean_b]),
            f(&r[diff]),
            interval(&r[lo], &r[hi]),
            f(&r[udiff]),
            interval(&r[ulo], &r[uhi]),
            fmt_num(num(&r[vr])),
        ]
    };
    let reached =
        |r: &&Vec<String>| r[kind] != "share" || num(&r[mean_a]) != 0.0 || num(&r[mean_b]) != 0.0;
    // The scenario's outcomes and how runs ended first, the built-in
    // metrics below (all in one table when the scenario is not at hand).
    let outcomes: Option<Vec<String>> = scenario.as_ref().ok().map(|(s, _)| {
        (s.outcomes.iter().map(|o| o.name.clone()))
            .chain(["terminal".to_string()])
            .collect()
    });
    let is_outcome = |r: &&Vec<String>| outcomes.as_ref().is_none_or(|o| o.contains(&r[metric]));
    let main: Vec<Vec<String>> = (csv.records.iter())
        .filter(reached)
        .filter(is_outcome)
        .map(row)
        .collect();
    let builtins: Vec<Vec<String>> = (csv.records.iter())
        .filter(reached)
        .filter(|r| !is_outcome(r))
        .map(row)
        .collect();
    let header = [
        "outcome",
        "A",
        "B",
        "B − A (paired)",
        "95% CI",
        "B − A (unpaired)",
        "95% CI",
        "variance reduction",
    ]
    .map(String::from);
    let left = [true, false, false, false, false, false, false, false];
    body.push_str(&table(&header, &main, &left));
    body.push_str(&note("Paired: both policies run on the same random numbers, replication by replication (common random numbers). Unpaired: the same replications compared as if independent. Variance reduction is the unpaired variance of B − A over the paired one: how many times more replications an unpaired comparison would need for the same precision. Shares are in percent and their differences in percentage points; other numbers share one format per row; categories neither policy reached are left out."));
    if !builtins.is_empty() {
        let mut header = header.clone();
        header[0] = "built-in metric".into();
        let _ = write!(
            body,
            "<h3>Built-in metrics</h3>\n{}",
            table(&header, &builtins, &left)
        );
    }
    sections.push(Section {
        id: "comparison".into(),
        title: "Comparison B − A".into(),
        body,
    });
    Ok(())
}

fn paths_rows(
    rows: impl Iterator<Item = (String, String, String, u64, u64, f64, f64, f64)>,
) -> Vec<Vec<String>> {
    rows.map(|(category, rank, chain, count, n, share, lo, hi)| {
        vec![
            category,
            rank,
            chain,
            percent(share),
            format!("[{}, {}]", percent(lo), percent(hi)),
            format!("{count} of {n}"),
        ]
    })
    .collect()
}

const PATHS_HEADER: [&str; 6] = [
    "group",
    "rank",
    "chain (root first)",
    "share",
    "95% CI",
    "replications",
];
const PATHS_LEFT: [bool; 6] = [true, false, true, false, false, false];

fn paths_file_section(
    dir: &Path,
    sections: &mut Vec<Section>,
    contents: &mut Contents,
) -> Result<()> {
    contents
        .holds
        .push("the most frequent causal chains of each group (paths.csv)".into());
    let path = dir.join("paths.csv");
    let csv = read_csv(&path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let c = |name: &str| csv.column(name).unwrap_or(usize::MAX);
    let [category, rank, chain, count, n, share, lo, hi, outcome] = [
        "category",
        "rank",
        "chain",
        "count",
        "n_category",
        "share",
        "ci95_lo",
        "ci95_hi",
        "outcome",
    ]
    .map(c);
    if [category, rank, chain, count, n, share, lo, hi].contains(&usize::MAX) {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} is not a paths.csv of flashpoint",
                path.display()
            ),
        ));
    }
    let grouped_by = csv
        .records
        .first()
        .and_then(|r| r.get(outcome))
        .cloned()
        .unwrap_or_else(|| "terminal".into());
    let rows = paths_rows(csv.records.iter().map(|r| {
        (
            r[category].clone(),
            r[rank].clone(),
            r[chain].clone(),
            r[count].parse().unwrap_or(0),
            r[n].parse().unwrap_or(0),
            num(&r[share]),
            num(&r[lo]),
            num(&r[hi]),
        )
    }));
    let mut body = para(&format!("Replications grouped by `{grouped_by}`; in each group, the chains of events that led to the event deciding it, most frequent first, with the share of the group and its Wilson 95% interval."));
    body.push_str(&table(&PATHS_HEADER.map(String::from), &rows, &PATHS_LEFT));
    sections.push(Section {
        id: "paths".into(),
        title: "Causal paths".into(),
        body,
    });
    Ok(())
}

fn sensitivity_section(
    dir: &Path,
    sections: &mut Vec<Section>,
    contents: &mut Contents,
) -> Result<()> {
    contents.holds.push(
        "every sensitivity index per metric and parameter, with its bootstrap 95% interval".into(),
    );
    let path = dir.join("sensitivity.csv");
    let csv = read_csv(&path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let c = |name: &str| csv.column(name).unwrap_or(usize::MAX);
    let [metric, category, param, index, estimate, lo, hi, flag, method] = [
        "metric", "category", "param", "index", "estimate", "ci95_lo", "ci95_hi", "flag", "method",
    ]
    .map(c);
    if [metric, category, param, index, estimate, lo, hi].contains(&usize::MAX) {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} is not a sensitivity.csv of flashpoint",
                path.display()
            ),
        ));
    }
    let mut indices: Vec<String> = Vec::new();
    // (metric, param) in file order, each with its index values.
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut cells: BTreeMap<(String, String), (BTreeMap<String, String>, String)> = BTreeMap::new();
    for r in &csv.records {
        let name = if r[category].is_empty() {
            r[metric].clone()
        } else {
            format!("{} = {}", r[metric], r[category])
        };
        let key = (name, r[param].clone());
        if !keys.contains(&key) {
            keys.push(key.clone());
        }
        if !indices.contains(&r[index]) {
            indices.push(r[index].clone());
        }
        let entry = cells.entry(key).or_default();
        entry.0.insert(
            r[index].clone(),
            format!(
                "{} [{}, {}]",
                fmt_num(num(&r[estimate])),
                fmt_num(num(&r[lo])),
                fmt_num(num(&r[hi]))
            ),
        );
        if let Some(f) = r.get(flag).filter(|f| !f.is_empty()) {
            entry.1 = f.clone();
        }
    }
    let mut header = vec!["metric".to_string(), "parameter".to_string()];
    header.extend(indices.iter().map(|i| format!("{i} [95% CI]")));
    header.push("flag".into());
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let (values, flag) = &cells[k];
            let mut row = vec![k.0.clone(), k.1.clone()];
            row.extend(
                indices
                    .iter()
                    .map(|i| values.get(i).cloned().unwrap_or_default()),
            );
            row.push(flag.clone());
            row
        })
        .collect();
    let mut left = vec![true, true];
    left.extend(indices.iter().map(|_| false));
    left.push(true);
    let method_name = csv
        .records
        .first()
        .and_then(|r| r.get(method))
        .cloned()
        .unwrap_or_default();
    let mut body = para(&format!(
        "Method: {method_name}. Each cell is the estimate and its bootstrap 95% interval."
    ));
    body.push_str(&table(&header, &rows, &left));
    sections.push(Section {
        id: "sensitivity".into(),
        title: "Sensitivity indices".into(),
        body,
    });
    Ok(())
}

fn rare_sections(dir: &Path, sections: &mut Vec<Section>, contents: &mut Contents) -> Result<()> {
    contents.holds.push(
        "the rare-event estimate (rare.csv: probability, se, 95% interval, cost, efficiency gain) and the batches (batches.csv)"
            .into(),
    );
    contents
        .omits
        .push("levels.csv (every level of every batch): open the file".into());
    let path = dir.join("rare.csv");
    let csv = read_csv(&path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let mut body = String::new();
    for r in &csv.records {
        let pairs: Vec<(String, String)> = csv
            .header
            .iter()
            .zip(r)
            .map(|(h, v)| (h.clone(), number_cell(v)))
            .collect();
        body.push_str(&key_values(&pairs));
    }
    body.push_str(&note("The estimate is the mean over independent batches; se is their spread over √batches; the efficiency gain is crude Monte Carlo's cost for the same se over splitting's."));
    sections.push(Section {
        id: "estimate".into(),
        title: "Rare-event estimate".into(),
        body,
    });
    sections.push(Section {
        id: "batches".into(),
        title: "Batches".into(),
        body: csv_table(&dir.join("batches.csv"))?,
    });
    Ok(())
}

fn calibrate_sections(
    dir: &Path,
    sections: &mut Vec<Section>,
    contents: &mut Contents,
) -> Result<()> {
    contents.holds.push(
        "the posterior summary, the tolerance schedule and the posterior predictive check".into(),
    );
    contents
        .omits
        .push("posterior.csv (every weighted particle): open the file".into());
    for (id, title, file, text) in [
        ("posterior", "Posterior", "posterior_summary.csv", "Per calibrated parameter: its prior, the posterior mean, sd and 5/50/95% quantiles, and the effective sample size."),
        ("tolerances", "Tolerance schedule", "tolerances.csv", "Per generation of ABC-SMC: the tolerance, proposals made and accepted, and the effective sample size."),
        ("predictive", "Posterior predictive check", "predictive.csv", "Per target: the observed value and the distribution of the simulated one under the posterior; `percentile` is where the observation falls."),
    ] {
        let mut body = para(text);
        body.push_str(&csv_table(&dir.join(file))?);
        sections.push(Section {
            id: id.into(),
            title: title.into(),
            body,
        });
    }
    Ok(())
}

fn chart_caption(kind: &str) -> &'static str {
    match kind {
        "fan" => "Fan chart: median, 50% and 90% bands over the replications still running",
        "shares" => "Shares of replications, with 95% Wilson intervals",
        "estimates" => "Estimates against a varied parameter, with 95% intervals",
        "sensitivity" => "Sensitivity indices per parameter, with bootstrap 95% intervals",
        "compare" => "Paired difference B − A with its 95% interval, the unpaired one below",
        _ => "Chart",
    }
}

fn charts_section(dir: &Path, m: &Manifest, contents: &mut Contents) -> Section {
    let mut body = String::new();
    match crate::plot::figure(dir, 0, None) {
        Ok(figure) => {
            let mut kinds: Vec<&str> = figure.charts.iter().map(|c| c.kind).collect();
            kinds.dedup();
            contents.holds.push(format!(
                "every chart `flashpoint plot` draws for it ({} charts: {}), as inline SVG",
                figure.charts.len(),
                kinds.join(", ")
            ));
            if m.kind == "sweep" && m.timeseries.is_some() {
                body.push_str(&note(
                    "Fan charts, if recorded, are those of point 0 (`flashpoint plot --point K` draws another).",
                ));
            }
            body.push_str("<div class=\"charts\">\n");
            for chart in &figure.charts {
                let svg = chart.svg.replacen(
                    "<svg ",
                    &format!(
                        "<svg class=\"chart {}\" role=\"img\" aria-label=\"{}\" ",
                        chart.kind,
                        escape(chart_caption(chart.kind))
                    ),
                    1,
                );
                let _ = write!(
                    body,
                    "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
                    escape(chart_caption(chart.kind))
                );
            }
            body.push_str("</div>\n");
        }
        Err(e) => {
            contents.omits.push(format!("charts: {e}"));
            body.push_str(&para(&format!("No chart could be drawn: {e}")));
        }
    }
    if matches!(m.kind.as_str(), "run" | "sweep") && m.timeseries.is_none() {
        contents.omits.push(
            "fan charts of tensions and state over time: the result was made without --timeseries"
                .into(),
        );
    }
    Section {
        id: "charts".into(),
        title: "Charts".into(),
        body,
    }
}

/// The top causal paths and the first traced replication's timeline.
fn trace_sections(
    dir: &Path,
    m: &Manifest,
    scenario: &std::result::Result<(Scenario, String), String>,
    sections: &mut Vec<Section>,
    contents: &mut Contents,
) {
    if m.trace_reps == 0 {
        contents.omits.push(
            "causal paths and a replication's timeline: the run was made without --trace N".into(),
        );
        return;
    }
    let Ok((s, _)) = scenario else {
        contents
            .omits
            .push("causal paths and the timeline: they need the scenario file".into());
        return;
    };
    if let Some(p) = &m.posterior {
        // The paths re-simulate at one parameter point; this run drew each
        // replication's parameters from a posterior.
        contents.omits.push(format!(
            "causal paths: the run drew each replication's parameters from {}, and the paths are re-simulated at one parameter point",
            p["path"].as_str().unwrap_or("a posterior")
        ));
    } else {
        paths_section(m, s, sections, contents);
    }
    match timeline(dir, s) {
        Ok(body) => {
            contents
                .holds
                .push("the timeline of the first traced replication (events.csv)".into());
            sections.push(Section {
                id: "timeline".into(),
                title: "Timeline of replication 0".into(),
                body,
            });
        }
        Err(e) => contents.omits.push(format!("the timeline: {e}")),
    }
}

/// The top causal paths of a `run` made with `--trace N`, re-simulated at
/// the manifest's seed and parameters.
fn paths_section(m: &Manifest, s: &Scenario, sections: &mut Vec<Section>, contents: &mut Contents) {
    let reps = m.reps.min(MAX_PATH_REPS);
    let params: Vec<f64> = (s.params.iter())
        .map(|p| m.params.get(&p.name).copied().unwrap_or(p.value))
        .collect();
    let cols = columns(s);
    let terminal = cols.iter().position(|c| c.name == "terminal");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut body = String::new();
    let found = terminal.map(|group| {
        top_paths(
            s,
            &params,
            m.seed,
            reps,
            threads,
            group,
            &Anchor::Deciding,
            TOP_PATHS,
        )
    });
    match found {
        Some(Ok(rows)) => {
            contents.holds.push(format!(
                "the top causal paths by how replications ended (over {reps} replications)"
            ));
            let shown = if reps < m.reps {
                format!("the first {reps} of the run's {} replications", m.reps)
            } else {
                format!("all {reps} replications of the run")
            };
            body.push_str(&para(&format!("Replications grouped by how they ended (`terminal`); in each group, the {TOP_PATHS} most frequent chains of events that led to the event deciding it, root first, with the rule that emitted each step in parentheses. Counted over {shown}, simulated again from the manifest's seed and parameters (the same replications as runs.csv; `flashpoint paths` gives more options).")));
            let rows = paths_rows(rows.into_iter().map(|r| {
                (
                    r.category,
                    r.rank.to_string(),
                    r.chain,
                    r.count,
                    r.n_category,
                    r.share,
                    r.lo,
                    r.hi,
                )
            }));
            body.push_str(&table(&PATHS_HEADER.map(String::from), &rows, &PATHS_LEFT));
        }
        Some(Err(e)) => {
            contents.omits.push(format!("causal paths: {e}"));
            body.push_str(&para(&format!(
                "The causal paths could not be computed: {e}"
            )));
        }
        None => body.push_str(&para("The scenario has no `terminal` column.")),
    }
    sections.push(Section {
        id: "paths".into(),
        title: "Causal paths".into(),
        body,
    });
}

/// One event of the traced replication.
struct TimelineEvent {
    seq: String,
    time: f64,
    date: String,
    event: String,
    source: String,
    target: String,
    rule: String,
    cause: String,
    tension: String,
}

fn timeline(dir: &Path, s: &Scenario) -> Result<String> {
    let path = dir.join("events.csv");
    let csv = read_csv(&path).map_err(|e| Error::invalid("report", format!("report: {e}")))?;
    let c = |name: &str| csv.column(name).unwrap_or(usize::MAX);
    let [rep, seq, time, date, event, source, target, rule, cause, tension] = [
        "rep",
        "seq",
        "time",
        "date",
        "event",
        "source",
        "target",
        "rule",
        "cause_seq",
        "tension_after",
    ]
    .map(c);
    if [rep, seq, time, event].contains(&usize::MAX) {
        return Err(Error::invalid(
            "report",
            format!(
                "report: {} is not an events.csv of flashpoint",
                path.display()
            ),
        ));
    }
    let get = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
    let events: Vec<TimelineEvent> = (csv.records.iter())
        .filter(|r| r[rep] == "0")
        .map(|r| TimelineEvent {
            seq: get(r, seq),
            time: num(&r[time]),
            date: get(r, date),
            event: get(r, event),
            source: get(r, source),
            target: get(r, target),
            rule: get(r, rule),
            cause: get(r, cause),
            tension: get(r, tension),
        })
        .collect();
    let by_seq: BTreeMap<&str, &str> = events
        .iter()
        .map(|e| (e.seq.as_str(), e.event.as_str()))
        .collect();
    let unit = s.time_unit.name();
    let mut body = para(&format!(
        "Every event of replication 0, in order: {} events over a horizon of {} {unit}. A rule's event names the event that caused it.",
        events.len(),
        fmt_f64(s.horizon)
    ));
    body.push_str(&timeline_svg(&events, s.horizon, unit));
    let rows: Vec<Vec<String>> = (events.iter().take(MAX_TIMELINE_EVENTS))
        .map(|e| {
            let caused_by = match by_seq.get(e.cause.as_str()) {
                Some(ev) => format!("#{} {ev}", e.cause),
                None => String::new(),
            };
            let who = match (e.source.is_empty(), e.target.is_empty()) {
                (false, false) => format!("{} → {}", e.source, e.target),
                (false, true) => e.source.clone(),
                (true, false) => format!("→ {}", e.target),
                _ => String::new(),
            };
            vec![
                e.seq.clone(),
                fixed2(e.time),
                e.date.clone(),
                e.event.clone(),
                who,
                e.rule.clone(),
                caused_by,
                if e.tension.is_empty() {
                    String::new()
                } else {
                    fmt_num(num(&e.tension))
                },
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "#",
            unit,
            "date",
            "event",
            "source → target",
            "rule",
            "caused by",
            "tension after",
        ]
        .map(String::from),
        &rows,
        &[false, false, true, true, true, true, true, false],
    ));
    if events.len() > MAX_TIMELINE_EVENTS {
        body.push_str(&note(&format!(
            "The first {MAX_TIMELINE_EVENTS} of {} events; events.csv has them all.",
            events.len()
        )));
    }
    Ok(body)
}

fn fixed2(x: f64) -> String {
    fixed(x, 2)
}

/// Colours of the timeline's event lanes (the plots' palette family).
const LANE_COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];

/// The timeline as an SVG strip: one lane per event type (in order of
/// first appearance), a dot at each event's time, a time axis below.
fn timeline_svg(events: &[TimelineEvent], horizon: f64, unit: &str) -> String {
    let mut lanes: Vec<&str> = Vec::new();
    for e in events {
        if !lanes.contains(&e.event.as_str()) {
            lanes.push(&e.event);
        }
    }
    let (width, label_w, lane_h, top, axis_h) = (1160.0, 210.0, 20.0, 10.0, 40.0);
    let end = if horizon.is_finite() && horizon > 0.0 {
        horizon
    } else {
        events.iter().map(|e| e.time).fold(1.0, f64::max)
    };
    let plot_w = width - label_w - 20.0;
    let x = |t: f64| label_w + plot_w * (t / end).clamp(0.0, 1.0);
    let height = top + lane_h * lanes.len() as f64 + axis_h;
    let mut svg = format!(
        "<svg class=\"timeline\" role=\"img\" aria-label=\"timeline of replication 0\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n"
    );
    for (k, lane) in lanes.iter().enumerate() {
        let y = top + lane_h * (k as f64 + 0.5);
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{y}\" dy=\"4\" text-anchor=\"end\" fill=\"#1d232b\">{}</text>\n<line x1=\"{label_w}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#e4e8ed\"/>",
            label_w - 8.0,
            escape(lane),
            label_w + plot_w
        );
    }
    let axis_y = top + lane_h * lanes.len() as f64 + 4.0;
    let _ = writeln!(
        svg,
        "<line x1=\"{label_w}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#56616e\"/>",
        label_w + plot_w
    );
    let step = nice_step(end / 8.0);
    // Tick `i` at `i * step` (a sum of steps would gather rounding error),
    // labelled with the step's decimals: 0.3, not 0.30000000000000004.
    let decimals = (0..=12).find(|&d| {
        let scaled = step * 10f64.powi(d);
        (scaled - scaled.round()).abs() <= 1e-9 * scaled
    });
    // At most 64 ticks, whatever rounding `nice_step` met.
    for i in 0..64 {
        let t = f64::from(i) * step;
        if t > end + 1e-9 {
            break;
        }
        let label = match decimals {
            Some(d) if step < 1e15 => fixed(t, d as usize),
            _ => fmt_f64(t),
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{0}\" y1=\"{axis_y}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#56616e\"/>\n<text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\" fill=\"#56616e\">{3}</text>",
            x(t),
            axis_y + 5.0,
            axis_y + 18.0,
            label
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#56616e\">{}</text>",
        label_w + plot_w / 2.0,
        axis_y + 34.0,
        escape(unit)
    );
    for e in events {
        let k = lanes.iter().position(|l| *l == e.event).unwrap_or(0);
        let y = top + lane_h * (k as f64 + 0.5);
        let _ = writeln!(
            svg,
            "<circle cx=\"{:.2}\" cy=\"{y}\" r=\"4.5\" fill=\"{}\" fill-opacity=\"0.85\"><title>{}</title></circle>",
            x(e.time),
            LANE_COLORS[k % LANE_COLORS.len()],
            escape(&format!("#{} {} at {}", e.seq, e.event, fixed2(e.time)))
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A round axis step (1, 2 or 5 × a power of ten) near `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    if !(p > 0.0 && p.is_finite()) {
        // Below the smallest power of ten a double holds: the raw step.
        return raw;
    }
    let f = raw / p;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// A command line as a shell would take it: arguments with characters
/// other than letters, digits and `_./=:,@%+-` in single quotes.
fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./=:,@%+-".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn manifest_section(dir: &Path, m: &Manifest, contents: &mut Contents) -> Section {
    contents.holds.push(
        "the manifest: seed, command line, versions, and each output's SHA-256, checked against the file"
            .into(),
    );
    let mut body = para("Run this command from the directory it was run in to make the result again (same seed, same bytes at any --threads):");
    body.push_str(&code_block(&shell_line(&m.command)));
    if matches!(m.kind.as_str(), "run" | "sweep") {
        body.push_str(&para(&format!(
            "`flashpoint check {}` re-runs it and compares every file byte for byte.",
            dir.display()
        )));
    }
    let mut pairs = vec![
        ("kind".to_string(), m.kind.clone()),
        ("seed".to_string(), m.seed.to_string()),
        ("replications".to_string(), m.reps.to_string()),
        ("scenario file".to_string(), m.scenario.path.clone()),
        ("scenario SHA-256".to_string(), m.scenario.sha256.clone()),
        (
            "flashpoint version".to_string(),
            m.flashpoint_version.clone(),
        ),
        (
            "language version".to_string(),
            m.language_version.to_string(),
        ),
        ("created (UTC)".to_string(), m.created.clone()),
        ("random numbers".to_string(), m.rng.clone()),
        (
            "independent streams".to_string(),
            m.independent_streams.to_string(),
        ),
        (
            "replications run, events".to_string(),
            format!("{}, {}", m.totals.replications, m.totals.events),
        ),
    ];
    if m.trace_reps > 0 {
        pairs.push(("traced replications".into(), m.trace_reps.to_string()));
    }
    if let Some(ts) = &m.timeseries {
        pairs.push((
            "time series".into(),
            format!(
                "every {} time units, {} replications per point written",
                fmt_f64(ts.dt),
                ts.reps
            ),
        ));
    }
    if let Some(design) = &m.design {
        let mut text = design.to_string();
        if text.len() > 2000 {
            let cut = (0..=2000)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push_str(" … (manifest.json has it whole)");
        }
        pairs.push(("design / settings".into(), text));
    }
    body.push_str(&key_values(&pairs));
    body.push_str("<h3>Output files</h3>\n");
    let rows: Vec<Vec<String>> = m
        .outputs
        .iter()
        .map(|(name, sha)| {
            let status = match std::fs::read(dir.join(name)) {
                Ok(bytes) if sha256_hex(&bytes) == *sha => "matches",
                Ok(_) => "differs from the file",
                Err(_) => "file missing",
            };
            vec![name.clone(), sha.clone(), status.to_string()]
        })
        .collect();
    body.push_str(&table(
        &["file", "SHA-256 (manifest)", "check"].map(String::from),
        &rows,
        &[true, true, true],
    ));
    Section {
        id: "manifest".into(),
        title: "Manifest and how to reproduce".into(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_quote_what_a_shell_would_split() {
        let args: Vec<String> = ["flashpoint", "rare", "--score", "tension(POL, BLR)", "it's"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            shell_line(&args),
            "flashpoint rare --score 'tension(POL, BLR)' 'it'\\''s'"
        );
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(7.5), 10.0);
        assert_eq!(nice_step(1.6), 2.0);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(60.0 / 8.0), 10.0);
        // Below the smallest power of ten a double holds, the raw step (a
        // step of 0 would never reach the end of the axis).
        assert_eq!(nice_step(5e-324), 5e-324);
    }

    #[test]
    fn csv_numbers_are_readable_and_integers_stay() {
        assert_eq!(number_cell("2000"), "2000");
        assert_eq!(number_cell("0.018668849211361475"), "0.0187");
        assert_eq!(number_cell("inf"), "inf");
        // NaN reads as a number but is shown as every other table shows it.
        assert_eq!(number_cell("NaN"), "-");
        assert_eq!(number_cell("ams"), "ams");
    }
}
