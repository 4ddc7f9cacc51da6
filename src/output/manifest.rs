//! `manifest.json`: everything needed to say exactly how a result was made and
//! to make it again.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The random number generator and key derivation, as recorded in manifests.
pub const RNG_DESCRIPTION: &str =
    "ChaCha8 (rand_chacha); key = flashpoint::rng::replication_key(seed, rep, point if independent streams); one stream per source of randomness";

/// The manifest of a run or sweep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Version of flashpoint that wrote it.
    pub flashpoint_version: String,
    /// `run` or `sweep`.
    pub kind: String,
    /// UTC time the output was completed (the only field that varies between identical runs).
    pub created: String,
    /// The command line.
    pub command: Vec<String>,
    /// The scenario file.
    pub scenario: ScenarioInfo,
    /// Master seed.
    pub seed: u64,
    /// Replications per point.
    pub reps: u64,
    /// How random numbers are made.
    pub rng: String,
    /// Whether the point index is mixed into the key.
    pub independent_streams: bool,
    /// Parameter values (after `--set`), before any sweep variation.
    pub params: BTreeMap<String, f64>,
    /// Sweep design, if a sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<serde_json::Value>,
    /// Number of traced replications (`events.csv`).
    #[serde(default)]
    pub trace_reps: u64,
    /// The time grid of `timeseries.csv` and `timeseries_summary.csv`, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeseries: Option<TimeseriesInfo>,
    /// Replications run and events that happened (informational).
    pub totals: Totals,
    /// SHA-256 of each output file, by file name.
    pub outputs: BTreeMap<String, String>,
}

/// The scenario file a result was made from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioInfo {
    /// Path as given on the command line.
    pub path: String,
    /// The scenario's name.
    pub name: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// How the time series were recorded (`--timeseries DT --timeseries-reps K`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct TimeseriesInfo {
    /// Grid spacing, in the scenario's time unit.
    pub dt: f64,
    /// Replications per point written to `timeseries.csv` (the first ones).
    pub reps: u64,
}

/// Counts for the record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Totals {
    /// Replications run.
    pub replications: u64,
    /// Events that happened, over all replications.
    pub events: u64,
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (y, m, d) = crate::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}
