//! flashpoint: a deterministic discrete-event simulation engine for
//! international tension and crisis escalation.
//!
//! A scenario file declares actors, the tension between pairs of them, the
//! kinds of event that can happen and the rules by which actors react
//! ([`scenario`]). The [`engine`] runs one replication as a pure function of
//! (scenario, parameters, seed, replication index). The front door is
//! [`runner::Simulation`]: replications of a parameter point, in parallel,
//! returned in memory as a [`runner::Table`] of typed columns, the same
//! numbers whatever the thread count. Above it, writers: [`sweep`] (`run`,
//! `sweep`, `check`, `merge`: tidy CSV and manifests through [`output`]) and
//! [`analysis`] (paired policy comparison, causal paths, the tie-order audit,
//! global sensitivity); `plot` (feature `plot`) draws a result, and `html`
//! makes one self-contained HTML page of it.
//!
//! The layers import only downward — base (`diag`, `digest`, `time`,
//! `cameo`, `rng`, `stats`, `expr`) → `scenario` → `engine` → `error` →
//! `runner` → `output` → `analysis` → `sweep` → `plot` → `html` → the CLI — which
//! `tests/layers.rs` checks. Errors are one enum, [`Error`], whose variants
//! say whose fault it is (the scenario, a parameter, a setting, a result
//! that cannot be used, the disk, a replication).
//!
//! ```
//! use flashpoint::runner::Simulation;
//! use std::sync::Arc;
//!
//! let text = r#"
//! [scenario]
//! name = "tiny"
//! horizon = 10
//! [params]
//! rate = { value = 2.0, min = 0.0, max = 10.0 }
//! [[actor]]
//! id = "A"
//! [[event]]
//! id = "ping"
//! [[hazard]]
//! name = "pings"
//! event = "ping"
//! rate = "rate"
//! [[outcome]]
//! name = "pings"
//! value = "count(ping)"
//! "#;
//! let scenario = flashpoint::scenario::parse("tiny.toml", text).unwrap();
//! let sim = Simulation::new(Arc::new(scenario));
//! let point = sim.point(&[("rate".to_string(), 3.0)]).unwrap();
//! let table = sim.run(&point, 500, 42, 2, &mut |_, _| {}).unwrap();
//! let pings = table.column("pings").unwrap().values();
//! // Rate 3 over 10 time units: a Poisson count with mean 30.
//! let mean = pings.iter().sum::<f64>() / pings.len() as f64;
//! assert!((mean - 30.0).abs() < 4.0 * (30.0f64 / 500.0).sqrt());
//! // The same seed gives the same numbers on any number of threads.
//! let again = sim.run(&point, 500, 42, 1, &mut |_, _| {}).unwrap();
//! assert_eq!(table, again);
//! // A value outside a parameter's bounds is a typed error.
//! let e = sim.point(&[("rate".to_string(), 11.0)]).unwrap_err();
//! assert_eq!(e.to_string(), "parameter `rate` = 11 is outside its bounds [0, 10]");
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod cameo;
pub mod diag;
pub mod digest;
pub mod engine;
pub mod error;
pub mod expr;
#[cfg(feature = "plot")]
pub mod html;
pub mod output;
#[cfg(feature = "plot")]
pub mod plot;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod time;

pub use error::{Error, Result};
