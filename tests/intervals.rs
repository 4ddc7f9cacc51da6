//! Summary intervals stay honest: a 0/1 outcome declared as a number gets a
//! Wilson interval, and no interval leaves the range a metric can take.

mod common;
use common::{cell, csv_rows, flashpoint, ok, temp_dir};
use flashpoint::stats::{wilson, Z95};

/// A rare incident (P(at least one in 10 days) = 1 - exp(-0.003) ≈ 0.3%)
/// and outcomes of it: a 0/1 indicator, a non-negative count scaled by 10,
/// and a number at most 1 that is usually 1.
const RARE: &str = r#"
[scenario]
name = "rare"
horizon = 10
seed = 5

[[actor]]
id = "A"

[[actor]]
id = "B"

[[tension]]
between = ["A", "B"]
initial = 0.5
range = [0.0, 1.0]

[[event]]
id = "incident"

[[event]]
id = "never"

[[hazard]]
name = "incidents"
event = "incident"
source = "A"
target = "B"
rate = "0.0003"

[[outcome]]
name = "any_incident"
value = "if count(incident) > 0 then 1 else 0"

[[outcome]]
name = "ten_per_incident"
value = "10 * count(incident)"

[[outcome]]
name = "one_minus"
value = "1 - 10 * count(incident)"

[[outcome]]
name = "never_indicator"
value = "if count(never) > 0 then 1 else 0"
"#;

/// (n, mean, se, ci95_lo, ci95_hi) of a numeric metric in a run's summary.
fn stats(rows: &[Vec<String>], metric: &str) -> (f64, f64, f64, f64, f64) {
    let at = |k| cell(rows, &[metric, "numeric"], k);
    (at(3), at(4), at(6), at(7), at(8))
}

#[test]
fn zero_one_outcomes_get_wilson_intervals_and_no_interval_leaves_the_range() {
    let dir = temp_dir("intervals-rare");
    let file = dir.join("rare.toml");
    std::fs::write(&file, RARE).expect("write");
    let out = dir.join("out");
    ok(&flashpoint(&[
        "run",
        file.to_str().expect("utf-8"),
        "--reps",
        "2000",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]));
    let rows = csv_rows(&out.join("summary.csv"));

    // The indicator: k of n, and exactly the Wilson interval of k of n
    // (the normal interval would reach below zero).
    let (n, mean, se, lo, hi) = stats(&rows, "any_incident");
    let k = (mean * n).round() as u64;
    assert!((1..=10).contains(&k), "the seed gives a few incidents: {k}");
    assert!(
        mean - Z95 * se < 0.0,
        "the normal interval would be negative"
    );
    assert_eq!((lo, hi), wilson(k, n as u64, Z95));
    assert!(lo > 0.0, "at least one incident: the interval excludes 0");

    // The same indicator as the built-in count (0 or 1 here: never two
    // incidents in a replication at this seed) gets the same interval.
    assert_eq!(stats(&rows, "count_incident").3, lo);

    // A non-negative metric that is not 0/1: the normal interval, cut at 0.
    let (_, mean, se, lo, hi) = stats(&rows, "ten_per_incident");
    assert!(mean - Z95 * se < 0.0);
    assert_eq!(lo, 0.0, "an interval for a count never goes below 0");
    assert_eq!(hi, mean + Z95 * se);

    // A metric at most 1 (1 - 10·count): cut at 1 above.
    let (_, mean, se, lo, hi) = stats(&rows, "one_minus");
    assert!(mean + Z95 * se > 1.0);
    assert_eq!(hi, 1.0, "1 - 10 count(...) is at most 1");
    assert_eq!(lo, mean - Z95 * se);

    // An indicator (range [0, 1]) that was 0 every time: Wilson's
    // [0, z²/(n + z²)], not [0, 0]; a count that was 0 every time is not
    // known to be 0/1 and keeps [0, 0].
    let (n, mean, _, lo, hi) = stats(&rows, "never_indicator");
    assert_eq!((mean, lo, hi), (0.0, 0.0, wilson(0, n as u64, Z95).1));
    assert!((hi - Z95 * Z95 / (n + Z95 * Z95)).abs() < 1e-15);
    let (_, mean, _, lo, hi) = stats(&rows, "count_never");
    assert_eq!((mean, lo, hi), (0.0, 0.0, 0.0));

    // Tension stays in its declared range [0, 1] (it is constant here).
    let (_, _, _, lo, hi) = stats(&rows, "tension_A_B_final");
    assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
}
