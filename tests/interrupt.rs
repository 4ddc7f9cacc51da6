//! Interruptions and hostile inputs: every float of a manifest comes back
//! bit-identical, `--resume` refuses what is not the same sweep (before it
//! touches a file) and finishes whatever state a kill left, `merge` checks
//! every file of every shard and never hangs.

mod common;
use common::{flashpoint, read, temp_dir};
use flashpoint::output::manifest::{Manifest, ScenarioInfo, Totals};
use flashpoint::sweep::design::{self, DesignKind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(args: &[&str]) -> String {
    let out = flashpoint(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn err(args: &[&str]) -> String {
    let out = flashpoint(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn manifest_with(params: BTreeMap<String, f64>, points: Vec<Vec<f64>>) -> Manifest {
    Manifest {
        flashpoint_version: "0".into(),
        kind: "sweep".into(),
        created: String::new(),
        command: Vec::new(),
        scenario: ScenarioInfo {
            path: "x.toml".into(),
            name: "x".into(),
            sha256: String::new(),
        },
        seed: 1,
        reps: 1,
        rng: String::new(),
        independent_streams: false,
        params,
        design: Some(serde_json::json!({ "points": points })),
        trace_reps: 0,
        timeseries: None,
        tie_audit: false,
        totals: Totals::default(),
        outputs: BTreeMap::new(),
    }
}

/// Writes a manifest as the sweep does and reads it back as resume, check
/// and merge do; returns the parameters and the design's points.
fn round_trip(m: &Manifest) -> (BTreeMap<String, f64>, Vec<Vec<f64>>) {
    let json = serde_json::to_string_pretty(m).expect("serializes");
    let back: Manifest = serde_json::from_slice(json.as_bytes()).expect("parses");
    let design = back.design.expect("design");
    let points: Vec<Vec<f64>> = serde_json::from_value(design["points"].clone()).expect("points");
    (back.params, points)
}

fn bits(points: &[Vec<f64>]) -> Vec<Vec<u64>> {
    points
        .iter()
        .map(|p| p.iter().map(|x| x.to_bits()).collect())
        .collect()
}

proptest! {
    #[test]
    fn every_finite_float_of_a_manifest_comes_back_bit_identical(
        xs in proptest::collection::vec(any::<f64>().prop_filter("finite", |x| x.is_finite()), 1..20)
    ) {
        let params: BTreeMap<String, f64> =
            xs.iter().enumerate().map(|(i, x)| (format!("p{i}"), *x)).collect();
        let points = vec![xs.clone()];
        let (p, q) = round_trip(&manifest_with(params.clone(), points.clone()));
        let want: Vec<u64> = params.values().map(|x| x.to_bits()).collect();
        prop_assert_eq!(p.values().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
        prop_assert_eq!(bits(&q), bits(&points));
    }
}

#[test]
fn the_points_of_every_design_kind_come_back_bit_identical() {
    let (scenario, _) =
        flashpoint::sweep::load_scenario(Path::new("scenarios/west2025.toml")).expect("loads");
    let vary: Vec<_> = ["incident_gain=0:0.3:31", "close_prob=0.01:0.99"]
        .iter()
        .map(|t| design::parse_vary(t, &scenario).expect("vary"))
        .collect();
    let cases = [
        (DesignKind::parse("grid").expect("grid"), &vary[..1]),
        (DesignKind::parse("lhs:500").expect("lhs"), &vary[..]),
        (DesignKind::parse("random:500").expect("random"), &vary[..]),
    ];
    for (kind, vary) in cases {
        for seed in [1, 7, 2025] {
            let points = design::points(kind, vary, seed).expect("points");
            let (_, back) = round_trip(&manifest_with(BTreeMap::new(), points.clone()));
            assert_eq!(bits(&back), bits(&points), "{} seed {seed}", kind.text());
        }
    }
}

/// The reproduction: a grid whose point 5 is 0.049999999999999996.
#[test]
fn shards_of_a_grid_with_ordinary_values_merge_to_the_whole_and_check() {
    let base = temp_dir("interrupt-float-merge");
    let sweep = |out: &Path, extra: &[&str]| {
        let mut a = vec![
            "sweep",
            "scenarios/west2025.toml",
            "--quiet",
            "--vary",
            "incident_gain=0:0.3:31",
            "--reps",
            "4",
            "--out",
            s(out),
        ];
        a.extend_from_slice(extra);
        ok(&a);
    };
    let (whole, a, b, merged) = (
        base.join("whole"),
        base.join("a"),
        base.join("b"),
        base.join("merged"),
    );
    sweep(&whole, &[]);
    sweep(&a, &["--shard", "0/2"]);
    sweep(&b, &["--shard", "1/2"]);
    ok(&["merge", s(&a), s(&b), "--out", s(&merged)]);
    for f in ["runs.csv", "summary.csv", "points.csv"] {
        assert!(read(&whole.join(f)) == read(&merged.join(f)), "{f} differs");
    }
    assert!(String::from_utf8_lossy(&read(&merged.join("points.csv")))
        .contains("\n5,0.049999999999999996\n"));
    ok(&["check", s(&merged)]);
}
