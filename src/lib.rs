//! flashpoint: a deterministic discrete-event simulation engine for
//! international tension and crisis escalation.
#![deny(missing_docs)]

pub mod diag;
pub mod expr;
