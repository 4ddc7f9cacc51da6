//! docs/library.md's example: the front door runs a scenario in memory, and
//! its table is `runs.csv` of `flashpoint run` with the same arguments, value
//! for value.

mod common;
use flashpoint::runner::Simulation;
use std::sync::Arc;

const PAGE: &str = include_str!("../docs/library.md");

/// The page's example, line for line (checked below against the page).
fn example() -> Result<(flashpoint::runner::Table, usize), flashpoint::Error> {
    let scenario = flashpoint::scenario::load(std::path::Path::new("scenarios/west2025.toml"))?;
    let sim = Simulation::new(Arc::new(scenario));
    let point = sim.point(&[("close_prob".to_string(), 0.5)])?;
    let table = sim.run(&point, 1000, 42, 2, &mut |_done, _total| {})?;
    let terminal = table.column("terminal").unwrap();
    let clashes = (0..table.n_rows())
        .filter(|&r| terminal.label(r) == Some("armed_clash"))
        .count();
    Ok((table, clashes))
}

#[test]
fn the_page_shows_the_example_that_runs_here() {
    let start = PAGE.find("```rust\n").expect("a rust block") + 8;
    let block = &PAGE[start..start + PAGE[start..].find("```").expect("closed")];
    let source = include_str!("library.rs");
    for line in block
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("use "))
    {
        assert!(
            source.contains(line.trim()),
            "not in tests/library.rs: {line}"
        );
    }
}

#[test]
fn the_front_door_gives_the_rows_of_runs_csv() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("the repository");
    let (table, clashes) = example().expect("the example runs");
    let dir = common::temp_dir("library");
    let out = dir.join("run");
    common::ok(&common::flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "1000",
        "--seed",
        "42",
        "--set",
        "close_prob=0.5",
        "--out",
        out.to_str().expect("utf-8"),
    ]));
    let mut runs = csv::Reader::from_path(out.join("runs.csv")).expect("runs.csv");
    let header: Vec<String> = runs
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header[0], "rep");
    let names: Vec<&str> = table.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&header[1..], names.as_slice());
    let terminal = names
        .iter()
        .position(|n| *n == "terminal")
        .expect("terminal");
    let mut n = 0;
    let mut clash_rows = 0;
    for (r, record) in runs.records().enumerate() {
        let record = record.expect("a row");
        assert_eq!(record[0].parse::<usize>().expect("rep"), r);
        for (c, name) in names.iter().enumerate() {
            let column = table.column(name).expect("a column");
            let cell = &record[c + 1];
            match column.label(r) {
                Some(label) => assert_eq!(cell, label, "row {r}, {name}"),
                None => {
                    let x: f64 = cell.parse().expect("a number");
                    let y = column.values()[r];
                    assert!(
                        x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                        "row {r}, {name}: {x} vs {y}"
                    );
                }
            }
        }
        clash_rows += usize::from(&record[terminal + 1] == "armed_clash");
        n += 1;
    }
    assert_eq!(n, 1000);
    assert_eq!(clashes, clash_rows);
}

/// The library refuses what the CLI refuses: a parameter given twice to
/// `Simulation::point` (the last value used to win silently), and a varied
/// parameter that is also overridden.
#[test]
fn the_front_door_refuses_a_parameter_given_twice() {
    use flashpoint::scenario::ParamError;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/west2025.toml");
    let scenario = flashpoint::scenario::load(&path).expect("loads");
    let sim = Simulation::new(Arc::new(scenario));
    let e = sim
        .point(&[
            ("close_prob".to_string(), 0.2),
            ("close_prob".to_string(), 0.5),
        ])
        .expect_err("twice");
    assert_eq!(
        e,
        ParamError::Twice {
            name: "close_prob".into()
        }
    );
    assert_eq!(e.to_string(), "parameter `close_prob` is set twice");
    let vary = flashpoint::runner::design::parse_varies(&["close_prob=0,1".into()], sim.scenario())
        .expect("vary");
    assert_eq!(
        flashpoint::runner::design::refuse_set_and_varied(
            &vary,
            &[("close_prob".into(), 0.2)],
            "--vary"
        ),
        Err("parameter `close_prob` is both --set and --vary; drop one".into())
    );
    assert_eq!(
        flashpoint::runner::design::refuse_set_and_varied(
            &vary,
            &[("half_life".into(), 9.0)],
            "--vary"
        ),
        Ok(())
    );
}
