//! `flashpoint plot` draws every kind of result — a run with time series, a
//! one- and a two-parameter grid, an LHS design, a comparison and a
//! sensitivity analysis — of west2025 and of a seven-actor scenario
//! (`tests/data/seven.toml`), and each SVG keeps the promises of a chart
//! that tells the truth: legends outside the plot area, no two texts
//! overlapping, a label at every tick, no line joining the points of an
//! LHS design, numeric state drawn as fan charts, and the number of
//! replications still running shown where it falls.

mod common;
use common::{flashpoint, ok, temp_dir};

use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// An attribute of an SVG element's opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number `{name}` in {tag}"))
}

/// A box: x0, y0, x1, y1.
type Rect = (f64, f64, f64, f64);

fn overlap(a: Rect, b: Rect) -> bool {
    a.0.min(a.2).max(b.0) + 1.0 < a.2.min(b.2) && a.1.max(b.1) + 1.0 < a.3.min(b.3)
}

/// One chart of a figure: its kind and body.
struct PanelSvg<'a> {
    kind: &'a str,
    body: &'a str,
}

/// The nested `<svg class="panel KIND">` charts of a figure.
fn panels(svg: &str) -> Vec<PanelSvg<'_>> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<svg x=") {
        let tag_end = i + rest[i..].find('>').expect("a closed tag");
        let kind = attr(&rest[i..tag_end], "class")
            .and_then(|c| c.strip_prefix("panel "))
            .expect("a panel class");
        let end = tag_end + rest[tag_end..].find("</svg>").expect("a closed panel");
        out.push(PanelSvg {
            kind,
            body: &rest[tag_end..end],
        });
        rest = &rest[end..];
    }
    out
}

/// Opening tags of the elements named `name`.
fn tags<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    body.match_indices(&open)
        .map(|(i, _)| {
            let end = i + body[i..].find('>').expect("closed");
            &body[i..end]
        })
        .collect()
}

/// A text element: its box (estimated at 0.6 em per character, the
/// font's average advance) and its content.
fn texts(body: &str) -> Vec<(Rect, String)> {
    let mut out = Vec::new();
    for (i, _) in body.match_indices("<text ") {
        let tag_end = i + body[i..].find('>').expect("closed");
        let tag = &body[i..tag_end];
        let close = tag_end + body[tag_end..].find("</text>").expect("closed text");
        let content = body[tag_end + 1..close].trim().to_string();
        let (x, y, size) = (num(tag, "x"), num(tag, "y"), num(tag, "font-size"));
        let w = 0.6 * size * content.chars().count() as f64;
        let top = match attr(tag, "dy") {
            Some("0.76em") => 0.0,
            Some("0.5ex") => -0.5 * size,
            Some("-0.5ex") => -size,
            _ => -0.8 * size,
        };
        let (a0, a1) = match attr(tag, "text-anchor") {
            Some("middle") => (-w / 2.0, w / 2.0),
            Some("end") => (-w, 0.0),
            _ => (0.0, w),
        };
        let rect = if attr(tag, "transform").is_some_and(|t| t.starts_with("rotate(270")) {
            (x + top, y - a1, x + top + size, y - a0)
        } else {
            (x + a0, y + top, x + a1, y + top + size)
        };
        out.push((rect, content));
    }
    out
}

/// The points of a polyline.
fn points(tag: &str) -> Vec<(f64, f64)> {
    attr(tag, "points")
        .expect("points")
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

/// The plot area (or areas) of a panel: the box of its axis lines, the
/// long black strokes plotters draws along the left and bottom edges.
fn plot_area(body: &str) -> Rect {
    let axes: Vec<(f64, f64, f64, f64)> = tags(body, "polyline")
        .into_iter()
        .filter(|l| attr(l, "stroke") == Some("#000000") && attr(l, "opacity") == Some("1"))
        .map(points)
        .filter(|pts| pts.len() == 2)
        .map(|pts| (pts[0].0, pts[0].1, pts[1].0, pts[1].1))
        .filter(|(x0, y0, x1, y1)| {
            (x0 == x1 || y0 == y1) && (x1 - x0).abs() + (y1 - y0).abs() > 40.0
        })
        .collect();
    assert!(!axes.is_empty(), "a panel without axes");
    axes.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |r, &(x1, y1, x2, y2)| {
            (
                r.0.min(x1.min(x2)),
                r.1.min(y1.min(y2)),
                r.2.max(x1.max(x2)),
                r.3.max(y1.max(y2)),
            )
        },
    )
}

/// Checks every panel of `svg`: legend boxes outside the plot area, no two
/// texts overlapping, every tick labelled. Returns the panels' kinds.
fn check_structure(svg: &str, what: &str) -> Vec<String> {
    let all = panels(svg);
    assert!(!all.is_empty(), "{what}: no panels");
    for (k, p) in all.iter().enumerate() {
        let area = plot_area(p.body);
        // Legend boxes: unfilled rectangles with a stroke.
        for rect in tags(p.body, "rect") {
            if attr(rect, "fill") == Some("none") {
                let (x, y, w, h) = (
                    num(rect, "x"),
                    num(rect, "y"),
                    num(rect, "width"),
                    num(rect, "height"),
                );
                assert!(
                    !overlap((x, y, x + w, y + h), area),
                    "{what}: panel {k} ({}) has a legend box {rect} over its plot area {area:?}",
                    p.kind
                );
            }
        }
        let boxes = texts(p.body);
        for (i, (a, ta)) in boxes.iter().enumerate() {
            for (b, tb) in &boxes[i + 1..] {
                assert!(
                    !overlap(*a, *b),
                    "{what}: panel {k} ({}): `{ta}` {a:?} overlaps `{tb}` {b:?}",
                    p.kind
                );
            }
        }
        // Ticks: short axis-aligned strokes outside the plot area.
        for line in tags(p.body, "polyline") {
            let pts = points(line);
            if pts.len() != 2 {
                continue;
            }
            let ((x0, y0), (x1, y1)) = (pts[0], pts[1]);
            let len = (x1 - x0).abs() + (y1 - y0).abs();
            let outside = x0.max(x1) <= area.0 || y0.min(y1) >= area.3;
            let black = attr(line, "stroke") == Some("#000000");
            if len == 0.0 || len > 6.0 || !outside || !black {
                continue;
            }
            let labelled = boxes.iter().any(|((bx0, by0, bx1, by1), t)| {
                !t.is_empty()
                    && if y0 == y1 {
                        // A y tick: a label at its left, level with it.
                        *bx1 <= x0.min(x1) + 1.0
                            && *bx1 >= x0.min(x1) - 12.0
                            && *by0 <= y0
                            && *by1 >= y0
                    } else {
                        // An x tick: a label below it, across it.
                        *by0 >= y0.max(y1) - 1.0
                            && *by0 <= y0.max(y1) + 12.0
                            && *bx0 <= x0
                            && *bx1 >= x0
                    }
            });
            assert!(
                labelled,
                "{what}: panel {k} ({}): the tick {line} has no label",
                p.kind
            );
        }
    }
    all.iter().map(|p| p.kind.to_string()).collect()
}

fn plot(dir: &Path, out: &Path) -> String {
    ok(&flashpoint(&["plot", s(dir), "--out", s(out)]));
    String::from_utf8(std::fs::read(out).expect("the SVG was written")).expect("UTF-8")
}

#[test]
fn every_chart_kind_keeps_its_structure() {
    let base = temp_dir("plot-structure");
    let mut made = Vec::new();
    for scenario in ["scenarios/west2025.toml", "tests/data/seven.toml"] {
        let name = Path::new(scenario).file_stem().unwrap().to_str().unwrap();
        let (p1, p2, p2_values) = if name == "west2025" {
            ("close_prob", "half_life", "7,14,21")
        } else {
            ("mobilise_prob", "war_prob", "0.1,0.2,0.3")
        };
        let dir = |kind: &str| base.join(format!("{name}-{kind}"));
        let run = dir("run");
        ok(&flashpoint(&[
            "run",
            scenario,
            "--reps",
            "60",
            "--timeseries",
            "1",
            "--quiet",
            "--out",
            s(&run),
        ]));
        let grid1 = dir("grid1");
        ok(&flashpoint(&[
            "sweep",
            scenario,
            "--vary",
            &format!("{p1}=0:1:3"),
            "--reps",
            "30",
            "--quiet",
            "--out",
            s(&grid1),
        ]));
        let grid2 = dir("grid2");
        ok(&flashpoint(&[
            "sweep",
            scenario,
            "--vary",
            &format!("{p1}=0,1"),
            "--vary",
            &format!("{p2}={p2_values}"),
            "--reps",
            "30",
            "--quiet",
            "--out",
            s(&grid2),
        ]));
        let lhs = dir("lhs");
        ok(&flashpoint(&[
            "sweep",
            scenario,
            "--vary",
            p1,
            "--vary",
            p2,
            "--design",
            "lhs:6",
            "--reps",
            "30",
            "--quiet",
            "--out",
            s(&lhs),
        ]));
        let cmp = dir("compare");
        ok(&flashpoint(&[
            "compare",
            scenario,
            "--a",
            &format!("{p1}=0"),
            "--b",
            &format!("{p1}=1"),
            "--reps",
            "60",
            "--out",
            s(&cmp),
        ]));
        let sens = dir("sens");
        ok(&flashpoint(&[
            "sensitivity",
            scenario,
            "--vary",
            p1,
            "--vary",
            p2,
            "--method",
            "morris:2",
            "--reps",
            "5",
            "--bootstrap",
            "100",
            "--out",
            s(&sens),
        ]));
        for (kind, d) in [
            ("run", &run),
            ("grid1", &grid1),
            ("grid2", &grid2),
            ("lhs", &lhs),
            ("compare", &cmp),
            ("sens", &sens),
        ] {
            let svg = plot(d, &base.join(format!("{name}-{kind}.svg")));
            let kinds = check_structure(&svg, &format!("{name} {kind}"));
            made.push((name, kind, svg, kinds));
        }
    }
    let find = |name: &str, kind: &str| {
        made.iter()
            .find(|m| m.0 == name && m.1 == kind)
            .expect("made above")
    };
    // Runs: fan charts of tensions and of numeric actor state, and the
    // replications still running where they fall.
    let (_, _, svg, kinds) = find("west2025", "run");
    assert!(
        kinds.iter().filter(|k| *k == "fan").count() >= 6,
        "{kinds:?}"
    );
    for needle in [
        ">\ntension_POL_BLR\n<",
        ">\nNATO.alert\n<",
        ">\nPOL.troops_k (actor state)\n<",
    ] {
        assert!(svg.contains(needle), "the run's plot lacks `{needle}`");
    }
    let (_, _, svg, _) = find("seven", "run");
    assert!(svg.contains(">\nSOUTH.troops\n<") && svg.contains(">\ntension_BLOC_UN\n<"));
    assert!(
        svg.contains(">\nn still running\n<"),
        "no n strip although wars end runs early"
    );
    for event in [
        "ultimatum_delivered (03-06)",
        "emergency_council_session (03-07)",
    ] {
        assert!(
            svg.contains(&format!(">\n{event}\n<")),
            "{event} not labelled"
        );
    }
    // Grids: lines along one parameter; a two-parameter grid as small
    // multiples, one line per value of the other parameter.
    let (_, _, svg, _) = find("west2025", "grid2");
    assert!(svg.contains(">\nclose_prob = 1\n<"), "no line per value");
    // LHS: scatter plots against each parameter, never a line joining points.
    for name in ["west2025", "seven"] {
        let (_, _, svg, kinds) = find(name, "lhs");
        assert!(kinds.iter().all(|k| k == "estimates"), "{kinds:?}");
        for p in panels(svg) {
            for line in tags(p.body, "polyline") {
                let pts = points(line);
                assert_eq!(pts.len(), 2, "{name} lhs: a line through points: {line}");
                let ((x0, y0), (x1, y1)) = (pts[0], pts[1]);
                assert!(
                    x0 == x1 || y0 == y1,
                    "{name} lhs: a slanted line joins points: {line}"
                );
            }
        }
    }
    let (_, _, svg, _) = find("seven", "lhs");
    assert!(svg.contains(">\ncourse: share against mobilise_prob\n<"));
    assert!(svg.contains(">\ntroops_added: mean against war_prob\n<"));
    // Compare: paired differences with intervals, the settings named.
    let (_, _, svg, kinds) = find("west2025", "compare");
    assert!(
        kinds.iter().all(|k| k == "compare") && kinds.len() >= 3,
        "{kinds:?}"
    );
    for needle in [
        ">\npath: change in share, B − A\n<",
        ">\nclosure_days: B − A\n<",
        ">\nA: close_prob=0\n<",
        ">\nB: close_prob=1\n<",
        ">\npaired (CRN), 95% CI\n<",
    ] {
        assert!(svg.contains(needle), "the compare plot lacks `{needle}`");
    }
}
