//! The committed golden results in `results/` are reproduced byte for byte.
//! Regenerate them with the commands in `results/README.md`.

mod common;
use flashpoint::sweep::{run, RunConfig};
use std::path::{Path, PathBuf};

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  golden: {x}\n  fresh:  {y}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn west2025_golden_run_is_reproduced() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join("results/west2025");
    let fresh = common::temp_dir("golden-west2025");
    let config = RunConfig {
        scenario_path: root.join("scenarios/west2025.toml"),
        overrides: Vec::new(),
        reps: 2000,
        seed: Some(42),
        threads: 2,
        out: Some(fresh.clone()),
        trace: 5,
        timeseries: None,
        command: Vec::new(),
    };
    run(&config, &mut |_, _| {}).expect("the default scenario runs");
    for file in ["runs.csv", "summary.csv", "events.csv"] {
        let read = |dir: &PathBuf| {
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let (g, f) = (read(&golden), read(&fresh));
        assert!(g == f, "{file} moved; {}", first_difference(&g, &f));
    }
    // The golden manifest's checksums are those of the golden files.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    for file in ["runs.csv", "summary.csv", "events.csv"] {
        let bytes = std::fs::read(golden.join(file)).expect("golden file");
        assert_eq!(
            manifest["outputs"][file],
            flashpoint::output::sha256_hex(&bytes).as_str(),
            "{file}"
        );
    }
}
