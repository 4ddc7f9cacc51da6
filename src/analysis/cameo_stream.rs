//! The CAMEO dyadic event stream (`run --events-cameo FILE`): the traced
//! events of the first replications in the shape event-data tools (GDELT,
//! ICEWS, Phoenix) use, one row per event:
//!
//! `date,source,target,cameo,goldstein,quad_class,rep`
//!
//! - `date`: the event's calendar date-time (`YYYY-MM-DDTHH:MM`) when the
//!   scenario has a `start`; otherwise its time in the scenario's unit;
//! - `source`, `target`: actor ids (empty when the event has none);
//! - `cameo`, `goldstein`, `quad_class`: the event type's CAMEO code and the
//!   code's Goldstein value and quad class from the embedded table;
//! - `rep`: the replication.
//!
//! Events whose type has no CAMEO code (decision points such as a closure
//! review) are skipped. Rows are in (rep, time) order.

use crate::engine::{columns, Engine, RunOptions, TraceEvent};
use crate::error::RepError;
use crate::error::{Error, Result};
use crate::output::{push_f64, write_atomic};
use crate::rng::replication_key;
use crate::scenario::Scenario;
use std::path::PathBuf;

/// Header of the CAMEO event stream.
pub const CAMEO_HEADER: &str = "date,source,target,cameo,goldstein,quad_class,rep\n";

/// Renders the CAMEO stream of replications `0..n` (default tie order).
pub fn cameo_stream(scenario: &Scenario, params: &[f64], seed: u64, n: u64) -> Result<String> {
    let mut engine = Engine::new(scenario);
    let mut out = vec![0.0; columns(scenario).len()];
    let mut trace: Vec<TraceEvent> = Vec::new();
    let mut text = String::from(CAMEO_HEADER);
    let actor = |a: Option<u16>| a.map_or("", |a| scenario.actors[usize::from(a)].id.as_str());
    // The code's table entry per event type, looked up once.
    let codes: Vec<Option<(&str, &crate::cameo::CameoEntry)>> = scenario
        .events
        .iter()
        .map(|e| {
            // A hidden (bookkeeping) event is left out, like one without a code.
            e.cameo
                .as_deref()
                .filter(|_| !e.hidden)
                .and_then(|c| crate::cameo::lookup(c).map(|entry| (c, entry)))
        })
        .collect();
    for rep in 0..n {
        trace.clear();
        engine
            .run(
                params,
                &replication_key(seed, rep, None),
                RunOptions::default(),
                &mut out,
                Some(&mut trace),
            )
            .map_err(|error| RepError::at_point(0, rep, error))?;
        for ev in &trace {
            let Some((code, entry)) = codes[ev.event as usize] else {
                continue;
            };
            match scenario.start_day {
                Some(start) => text.push_str(&crate::time::format_date(
                    start,
                    scenario.time_unit,
                    ev.time,
                )),
                None => push_f64(&mut text, ev.time),
            }
            text.push(',');
            text.push_str(actor(ev.source));
            text.push(',');
            text.push_str(actor(ev.target));
            text.push(',');
            text.push_str(code);
            text.push(',');
            push_f64(&mut text, entry.goldstein);
            text.push(',');
            text.push_str(&entry.quad_class);
            text.push(',');
            text.push_str(&rep.to_string());
            text.push('\n');
        }
    }
    Ok(text)
}

/// A `run --events-cameo FILE` request.
#[derive(Debug, Clone)]
pub struct CameoConfig {
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// `--set` overrides.
    pub overrides: Vec<(String, f64)>,
    /// Master seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Replications to write (the first ones).
    pub reps: u64,
    /// The file to write.
    pub file: PathBuf,
    /// Replace `file` if it exists (never a file of a result).
    pub force: bool,
}

/// Loads the scenario and writes the CAMEO stream of its first replications
/// to `config.file`, atomically. Returns the path written.
pub fn write_cameo_stream(config: &CameoConfig) -> Result<PathBuf> {
    crate::output::manifest::claim_out_file(&config.file, config.force)?;
    let (scenario, _) = crate::scenario::load_hashed(&config.scenario_path)?;
    let params = super::checked_params(&scenario, &config.overrides, "--set")?;
    let seed = config.seed.unwrap_or(scenario.seed);
    let text = cameo_stream(&scenario, &params, seed, config.reps)?;
    if let Some(dir) = config.file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(&config.file, text.as_bytes()).map_err(|e| Error::io(&config.file, e))?;
    Ok(config.file.clone())
}
