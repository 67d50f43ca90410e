//! The integration suite: one binary, one module per area.

mod bad_input;
mod cli;
mod native;
mod rules;
mod tables;
mod util;
mod workflow;
