//! `flashpoint report DIR`: one self-contained HTML page for every kind of
//! result. Its tables hold the very cells `run` and `sweep` printed; every
//! chart `plot` draws is inlined as SVG; causal paths and a timeline appear
//! only for a traced run; the manifest's seed, command and hashes are shown;
//! text from files is escaped; nothing refers to the network; the page is
//! the same bytes every time; an existing file is replaced only with
//! `--force`; a directory that is no result gets an error naming what was
//! expected. (The page in a real browser: `.ci/report-browser.sh`.)

mod common;
use common::{flashpoint, ok, read, temp_dir};

use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `dir`'s report (replacing one made before) and returns it.
fn report(dir: &Path) -> String {
    ok(&flashpoint(&["report", s(dir), "--force"]));
    String::from_utf8(read(&dir.join("report.html"))).expect("the page is UTF-8")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The body of `<section id="ID">`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section `{id}`"));
    let end = start + html[start..].find("</section>").expect("a closed section");
    &html[start..end]
}

/// The rows of the `k`-th table in `html`, each as its cells' text.
fn table_rows(html: &str, k: usize) -> Vec<Vec<String>> {
    let start = (0..=k).fold(0, |at, _| {
        at + html[at..].find("<table").expect("a table") + 1
    });
    let end = start + html[start..].find("</table>").expect("a closed table");
    let body = &html[start..end];
    let body = &body[body.find("<tbody>").expect("a table body")..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let open = cell.find('>').expect("a cell") + 1;
                    let close = cell.find("</td>").expect("a closed cell");
                    unescape(&cell[open..close])
                })
                .collect()
        })
        .collect()
}

/// A printed table's data lines (after `header_start`, to the first line
/// that is not part of it), each split into its non-empty cells: cells are
/// separated by two spaces or more and hold at most single spaces.
fn printed_rows(text: &str, header_start: &str) -> Vec<Vec<String>> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with(header_start))
        .skip(1);
    let mut rows = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty()
            || line.starts_with('*')
            || line.starts_with('(')
            || line.starts_with("wrote ")
            || line.contains(": ")
        {
            break;
        }
        rows.push(
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect(),
        );
    }
    assert!(!rows.is_empty(), "no table `{header_start}` in:\n{text}");
    rows
}

fn non_empty(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| r.into_iter().filter(|c| !c.is_empty()).collect())
        .collect()
}

/// The chart kinds of a page (`<svg class="chart KIND"`), in order.
fn chart_kinds(html: &str) -> Vec<String> {
    html.match_indices("<svg class=\"chart ")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').expect("a closed class")].to_string()
        })
        .collect()
}

/// The panel kinds of `plot`'s figure of `dir`.
fn plot_kinds(dir: &Path) -> Vec<String> {
    let svg_path = dir.parent().expect("a parent").join(format!(
        "{}-plot.svg",
        dir.file_name().expect("a name").to_string_lossy()
    ));
    ok(&flashpoint(&[
        "plot",
        s(dir),
        "--out",
        s(&svg_path),
        "--force",
    ]));
    let svg = String::from_utf8(read(&svg_path)).expect("UTF-8");
    svg.match_indices("class=\"panel ")
        .map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            rest[..rest.find('"').expect("a closed class")].to_string()
        })
        .collect()
}

/// No reference leaves the file: no script, style sheet link, frame or
/// import; no `src`/`href` to a URL; every `http` is an SVG namespace.
fn assert_self_contained(html: &str) {
    for bad in [
        "<script",
        "<link",
        "<iframe",
        "@import",
        "url(",
        "src=\"http",
        "href=\"http",
    ] {
        assert!(!html.contains(bad), "the page contains `{bad}`");
    }
    let http = html.matches("http").count();
    let namespaces = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(http, namespaces, "every http is an SVG namespace");
}

#[test]
fn a_traced_run_shows_the_printed_tables_every_chart_its_paths_timeline_and_manifest() {
    let base = temp_dir("html-run");
    let dir = base.join("run");
    let run = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "300",
        "--seed",
        "7",
        "--trace",
        "2",
        "--timeseries",
        "1",
        "--timeseries-reps",
        "2",
        "--all",
        "--quiet",
        "--out",
        s(&dir),
    ]);
    ok(&run);
    let printed = stdout(&run);
    let html = report(&dir);
    for id in [
        "about",
        "scenario",
        "parameters",
        "outcomes",
        "charts",
        "paths",
        "timeline",
        "manifest",
    ] {
        assert!(
            html.contains(&format!("<li><a href=\"#{id}\">")),
            "the contents link to `{id}`"
        );
        section(&html, id);
    }
    // The outcome table and the built-in metrics: the printed cells.
    let outcomes = section(&html, "outcomes");
    assert_eq!(
        non_empty(table_rows(outcomes, 0)),
        printed_rows(&printed, "outcome ")
    );
    assert_eq!(
        non_empty(table_rows(outcomes, 1)),
        printed_rows(&printed, "built-in metric ")
    );
    assert!(
        outcomes.contains("came before the horizon"),
        "the censoring note"
    );
    // Every chart plot draws, in its order, inline.
    let kinds = chart_kinds(&html);
    assert_eq!(kinds, plot_kinds(&dir));
    assert!(kinds.contains(&"fan".to_string()) && kinds.contains(&"shares".to_string()));
    // The scenario's description and its parameters.
    assert!(section(&html, "scenario").contains("Zapad-2025"));
    let params = table_rows(section(&html, "parameters"), 0);
    assert!(params
        .iter()
        .any(|r| r[0] == "close_prob" && r[1] == "0.9" && r[4] == "default"));
    // Causal paths: each group's size is its count in runs.csv.
    let header = String::from_utf8(read(&dir.join("runs.csv"))).expect("UTF-8");
    let header: Vec<&str> = header
        .lines()
        .next()
        .expect("a header")
        .split(',')
        .collect();
    let terminal = header
        .iter()
        .position(|h| *h == "terminal")
        .expect("terminal");
    let runs = common::csv_rows(&dir.join("runs.csv"));
    for row in table_rows(section(&html, "paths"), 0) {
        let n = runs.iter().filter(|r| r[terminal] == row[0]).count();
        assert!(
            row[5].ends_with(&format!(" of {n}")),
            "{row:?}: {n} in runs.csv"
        );
    }
    // The timeline lists replication 0's events, in order.
    let events = common::csv_rows(&dir.join("events.csv"));
    let rep0: Vec<&Vec<String>> = events.iter().filter(|r| r[0] == "0").collect();
    let timeline = table_rows(section(&html, "timeline"), 0);
    assert_eq!(timeline.len(), rep0.len());
    for (shown, event) in timeline.iter().zip(&rep0) {
        assert_eq!((&shown[0], &shown[3]), (&event[1], &event[4]));
    }
    assert!(section(&html, "timeline").contains("<svg class=\"timeline\""));
    // The manifest: seed, command, every output's hash checked.
    let manifest = section(&html, "manifest");
    assert!(manifest.contains("<th class=\"t\">seed</th><td class=\"t\">7</td>"));
    assert!(manifest.contains("run scenarios/west2025.toml --reps 300 --seed 7 --trace 2"));
    let m: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("manifest.json"))).expect("JSON");
    for (name, sha) in m["outputs"].as_object().expect("outputs") {
        let sha = sha.as_str().expect("a hash");
        assert!(
            manifest.contains(&format!(
                "<td class=\"t\">{name}</td><td class=\"t\">{sha}</td><td class=\"t\">matches</td>"
            )),
            "{name} listed with its hash, checked"
        );
    }
    assert_self_contained(&html);
    // Deterministic: the same directory gives the same bytes.
    assert_eq!(report(&dir), html);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn an_untraced_run_says_it_has_no_paths_or_timeline_and_a_changed_output_is_flagged() {
    let base = temp_dir("html-untraced");
    let dir = base.join("run");
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "50",
        "--quiet",
        "--out",
        s(&dir),
    ]));
    let html = report(&dir);
    assert!(!html.contains("id=\"timeline\"") && !html.contains("id=\"paths\""));
    assert!(html.contains(
        "causal paths and a replication&#39;s timeline: the run was made without --trace N"
    ));
    assert!(html.contains("the result was made without --timeseries"));
    assert_eq!(chart_kinds(&html), plot_kinds(&dir));
    // A file that no longer has the manifest's hash is flagged.
    let summary = dir.join("summary.csv");
    let mut bytes = read(&summary);
    bytes.extend_from_slice(b"\n");
    std::fs::write(&summary, bytes).expect("writable");
    let html = report(&dir);
    assert!(html.contains("<td class=\"t\">summary.csv</td>"));
    assert!(html.contains("<td class=\"t\">differs from the file</td>"));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_sweep_shows_the_printed_per_point_table_and_its_charts() {
    let base = temp_dir("html-sweep");
    let dir = base.join("sweep");
    let sweep = flashpoint(&[
        "sweep",
        "scenarios/west2025.toml",
        "--vary",
        "close_prob=0,0.5,1",
        "--reps",
        "40",
        "--quiet",
        "--out",
        s(&dir),
    ]);
    ok(&sweep);
    let html = report(&dir);
    let outcomes = section(&html, "outcomes");
    assert_eq!(
        non_empty(table_rows(outcomes, 0)),
        printed_rows(&stdout(&sweep), "point ")
    );
    let params = table_rows(section(&html, "parameters"), 0);
    assert!(params
        .iter()
        .any(|r| r[0] == "close_prob" && r[4] == "varied (grid): 0, 0.5, 1"));
    let kinds = chart_kinds(&html);
    assert_eq!(kinds, plot_kinds(&dir));
    assert!(kinds.contains(&"estimates".to_string()));
    assert_self_contained(&html);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn analyses_get_their_tables_and_say_what_they_leave_out() {
    let base = temp_dir("html-analyses");
    let west = "scenarios/west2025.toml";
    let out = |name: &str| base.join(name);
    let compare = out("compare");
    ok(&flashpoint(&[
        "compare",
        west,
        "--a",
        "close_prob=0.2",
        "--b",
        "close_prob=0.9",
        "--reps",
        "60",
        "--out",
        s(&compare),
    ]));
    let html = report(&compare);
    let table = section(&html, "comparison");
    assert!(table.contains("scenarios/west2025.toml with close_prob=0.2"));
    assert!(table.contains("Variance reduction is the unpaired variance"));
    let csv = common::csv_rows(&compare.join("compare.csv"));
    let closure = csv.iter().find(|r| r[0] == "closure_days").expect("a row");
    let shown = table_rows(table, 1);
    let row = shown
        .iter()
        .find(|r| r[0] == "closure_days")
        .expect("shown");
    // One fixed format for the row's numbers.
    let values: Vec<f64> = [4, 5, 6, 8, 9, 10, 12, 13]
        .map(|k| closure[k].parse::<f64>().expect("a number"))
        .to_vec();
    let d = flashpoint::output::text::shared_decimals(&values);
    let fmt = |x: f64| flashpoint::output::text::fixed(x, d);
    assert_eq!(
        (&row[1], &row[3], &row[4]),
        (
            &fmt(values[0]),
            &fmt(values[2]),
            &format!("[{}, {}]", fmt(values[3]), fmt(values[4]))
        )
    );
    // A category neither policy reached is left out; shares in percent.
    assert!(!shown.iter().any(|r| r[0] == "path = other"));
    let dialogue = shown
        .iter()
        .find(|r| r[0] == "path = dialogue")
        .expect("shown");
    assert!(dialogue[1].ends_with('%') && dialogue[3].ends_with('%'));
    // The scenario's outcomes first; the built-in metrics in a table below.
    assert!(!shown.iter().any(|r| r[0] == "n_events"));
    assert!(table_rows(table, 2).iter().any(|r| r[0] == "n_events"));
    assert_eq!(chart_kinds(&html), plot_kinds(&compare));
    assert_self_contained(&html);

    let paths = out("paths");
    ok(&flashpoint(&[
        "paths",
        west,
        "--reps",
        "60",
        "--out",
        s(&paths),
    ]));
    let html = report(&paths);
    let rows = table_rows(section(&html, "paths"), 0);
    let csv = common::csv_rows(&paths.join("paths.csv"));
    assert_eq!(rows.len(), csv.len());
    assert_eq!((&rows[0][0], &rows[0][2]), (&csv[0][1], &csv[0][3]));
    assert!(html.contains(
        "charts: <code>flashpoint plot</code> draws none for a <code>paths</code> result"
    ));
    assert!(chart_kinds(&html).is_empty());

    let sens = out("sensitivity");
    ok(&flashpoint(&[
        "sensitivity",
        west,
        "--vary",
        "close_prob",
        "--vary",
        "talks_prob",
        "--method",
        "morris:3",
        "--reps",
        "5",
        "--bootstrap",
        "100",
        "--out",
        s(&sens),
    ]));
    let html = report(&sens);
    let rows = table_rows(section(&html, "sensitivity"), 0);
    assert!(rows
        .iter()
        .any(|r| r[0] == "closure_days" && r[1] == "close_prob" && r[2].contains(" [")));
    assert_eq!(chart_kinds(&html), plot_kinds(&sens));

    let rare = out("rare");
    ok(&flashpoint(&[
        "rare",
        west,
        "--event",
        "armed_clash",
        "--score",
        "tension(POL, BLR)",
        "--particles",
        "10",
        "--batches",
        "10",
        "--pilot",
        "20",
        "--out",
        s(&rare),
    ]));
    let html = report(&rare);
    assert!(section(&html, "estimate").contains("tension(POL, BLR)"));
    assert_eq!(
        table_rows(section(&html, "batches"), 0).len(),
        10,
        "one row per batch"
    );
    assert!(html.contains("levels.csv (every level of every batch)"));
    // The command line is quoted as a shell would need it.
    assert!(html.contains("--score &#39;tension(POL, BLR)&#39;"));

    let cal = out("calibrate");
    ok(&flashpoint(&[
        "calibrate",
        west,
        "--targets",
        "scenarios/targets/west2025.toml",
        "--vary",
        "reopen_threshold",
        "--particles",
        "20",
        "--generations",
        "1",
        "--quiet",
        "--out",
        s(&cal),
    ]));
    let html = report(&cal);
    for id in ["posterior", "tolerances", "predictive"] {
        section(&html, id);
    }
    assert!(table_rows(section(&html, "posterior"), 0)[0][0] == "reopen_threshold");
    assert!(html.contains("posterior.csv (every weighted particle)"));
    for dir in [&compare, &paths, &sens, &rare, &cal] {
        assert_self_contained(&report(dir));
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_description_with_markup_is_escaped() {
    let base = temp_dir("html-escape");
    let scenario = base.join("tricky.toml");
    std::fs::write(
        &scenario,
        r#"[scenario]
name = "tricky"
description = "<script>alert('x')</script> & \"quotes\""
horizon = 10
seed = 3

[[actor]]
id = "A"

[[event]]
id = "ping"

[[hazard]]
name = "pings"
event = "ping"
rate = "0.5"

[[outcome]]
name = "pings"
value = "count(ping)"
"#,
    )
    .expect("writable");
    let dir = base.join("out");
    ok(&flashpoint(&[
        "run",
        s(&scenario),
        "--reps",
        "20",
        "--quiet",
        "--out",
        s(&dir),
    ]));
    let html = report(&dir);
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;")
    );
    assert_self_contained(&html);
    // Without its scenario file the page says so, and shows summary.csv
    // in place of the printed table.
    std::fs::remove_file(&scenario).expect("removable");
    let html = report(&dir);
    assert!(section(&html, "scenario").contains("could not be read: the scenario"));
    assert!(html.contains("The rows of summary.csv follow."));
    let rows = table_rows(section(&html, "outcomes"), 0);
    assert_eq!(rows.len(), common::csv_rows(&dir.join("summary.csv")).len());
    let _ = std::fs::remove_dir_all(&base);
}

/// A scenario name with a backtick stays whole in the summary paragraph;
/// the timeline's axis labels are round (a horizon of 0.8 ticks every 0.1,
/// labelled 0.3, not 0.30000000000000004); a run over a posterior says its
/// parameters were drawn and leaves out the causal paths, which are
/// re-simulated at one parameter point.
#[test]
fn names_ticks_and_posterior_runs_are_shown_as_they_are() {
    let base = temp_dir("html-ticks");
    let scenario = base.join("short.toml");
    std::fs::write(
        &scenario,
        r#"[scenario]
name = "short `one`"
horizon = 0.8
seed = 3

[params]
r = { value = 5.0, min = 0.0, max = 20.0 }

[[actor]]
id = "A"

[[event]]
id = "ping"

[[hazard]]
name = "pings"
event = "ping"
rate = "r"

[[outcome]]
name = "pings"
value = "count(ping)"
"#,
    )
    .expect("writable");
    let dir = base.join("out");
    let run = |extra: &[&str], out: &Path| {
        let mut args = vec![
            "run",
            s(&scenario),
            "--reps",
            "20",
            "--trace",
            "1",
            "--quiet",
            "--out",
            s(out),
        ];
        args.extend_from_slice(extra);
        ok(&flashpoint(&args));
    };
    run(&[], &dir);
    let html = report(&dir);
    assert!(
        html.contains("result of scenario <code>short `one`</code>:"),
        "{}",
        section(&html, "about")
    );
    let timeline = section(&html, "timeline");
    let labels: Vec<&str> = timeline
        .split("text-anchor=\"middle\" fill=\"#56616e\">")
        .skip(1)
        .map(|t| &t[..t.find('<').expect("a closed label")])
        .collect();
    assert_eq!(
        labels,
        ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "days"]
    );
    assert!(section(&html, "paths").contains("Replications grouped by how they ended"));

    let cal = base.join("cal");
    std::fs::create_dir_all(&cal).expect("writable");
    std::fs::write(cal.join("posterior.csv"), "r,weight\n2,1\n9,3\n").expect("writable");
    let drawn = base.join("drawn");
    run(&["--posterior", s(&cal)], &drawn);
    let html = report(&drawn);
    assert!(!html.contains("<section id=\"paths\">"));
    assert!(section(&html, "about").contains("causal paths: the run drew each replication"));
    assert!(section(&html, "timeline").contains("0.3"));
    let params = section(&html, "parameters");
    assert!(
        params.contains("drawn for each replication from")
            && params.contains("(2 weighted particles)"),
        "{params}"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn an_existing_file_is_replaced_only_with_force_and_never_a_file_of_the_result() {
    let base = temp_dir("html-refuse");
    let dir = base.join("run");
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "20",
        "--quiet",
        "--out",
        s(&dir),
    ]));
    let first = flashpoint(&["report", s(&dir)]);
    ok(&first);
    assert_eq!(
        stdout(&first),
        format!("wrote {}\n", dir.join("report.html").display())
    );
    let again = flashpoint(&["report", s(&dir)]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        stderr(&again),
        format!(
            "error: {} already exists; choose another path or pass --force to overwrite it\n",
            dir.join("report.html").display()
        )
    );
    // Elsewhere, with --out: the same page.
    let other = base.join("page.html");
    ok(&flashpoint(&["report", s(&dir), "--out", s(&other)]));
    assert_eq!(read(&other), read(&dir.join("report.html")));
    let over = flashpoint(&[
        "report",
        s(&dir),
        "--out",
        s(&dir.join("runs.csv")),
        "--force",
    ]);
    assert_eq!(over.status.code(), Some(2));
    assert_eq!(
        stderr(&over),
        format!(
            "error: {} is a file of the result in {}; choose another path\n",
            dir.join("runs.csv").display(),
            dir.display()
        )
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_directory_that_is_no_result_is_a_clear_error() {
    let base = temp_dir("html-bad-dir");
    let kinds = "expected a result directory: the --out DIR of `run`, `sweep`, `compare`, `paths`, `sensitivity`, `rare`, `calibrate`";
    let missing = base.join("missing");
    let out = flashpoint(&["report", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: report: {} is not a directory; {kinds}\n",
            missing.display()
        )
    );
    let out = flashpoint(&["report", s(&base)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: report: {} has no manifest.json, so it is not a finished flashpoint result; {kinds}\n",
            base.display()
        )
    );
    let manifest = read(Path::new("results/west2025/manifest.json"));
    let text = String::from_utf8(manifest)
        .expect("UTF-8")
        .replace("\"kind\": \"run\"", "\"kind\": \"frobnicate\"");
    std::fs::write(base.join("manifest.json"), text).expect("writable");
    let out = flashpoint(&["report", s(&base)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: report: {} holds a `frobnicate` result, which report does not know; {kinds}\n",
            base.display()
        )
    );
    assert!(!base.join("report.html").exists());
    let _ = std::fs::remove_dir_all(&base);
}
