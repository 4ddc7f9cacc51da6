//! flashpoint: a deterministic discrete-event simulation engine for
//! international tension and crisis escalation.
//!
//! A scenario file declares actors, the tension between pairs of them, the
//! kinds of event that can happen and the rules by which actors react
//! ([`scenario`]). The [`engine`] runs one replication as a pure function of
//! (scenario, parameters, seed, replication index); the [`sweep`] harness runs
//! many in parallel and writes tidy CSV through [`output`]; [`analysis`]
//! compares policies, extracts causal paths, audits tie order and measures
//! global sensitivity; [`sweep::check`] re-checks a result against its
//! manifest and [`plot`] draws it.
//!
//! ```
//! let text = r#"
//! [scenario]
//! name = "tiny"
//! horizon = 10
//! [[actor]]
//! id = "A"
//! [[event]]
//! id = "ping"
//! [[hazard]]
//! name = "pings"
//! event = "ping"
//! rate = 2.0
//! [[outcome]]
//! name = "pings"
//! value = "count(ping)"
//! "#;
//! let scenario = flashpoint::scenario::parse("tiny.toml", text).unwrap();
//! let mut engine = flashpoint::engine::Engine::new(&scenario);
//! let mut row = vec![0.0; engine.n_columns()];
//! let key = flashpoint::rng::replication_key(42, 0, None);
//! engine.run(&[], &key, Default::default(), &mut row, None).unwrap();
//! // Columns: the outcome, end_time, n_events, terminal, count_ping.
//! assert_eq!(row[0], row[4]);
//! assert_eq!(row[1], 10.0);
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod cameo;
pub mod diag;
pub mod digest;
pub mod engine;
pub mod error;
pub mod expr;
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
