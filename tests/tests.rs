//! The integration suite: one binary, one module per area.

mod bad_input;
mod checks;
mod cli;
mod convert;
mod corpus;
mod fuzz_fallback;
mod hostile;
mod reports;
mod rules;
mod streaming;
mod tables;
mod util;
mod workflow;
