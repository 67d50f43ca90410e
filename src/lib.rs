//! spotlint: policy-as-code validation of 双随机、一公开 spot-check submissions.
//!
//! The modules follow the pipeline:
//! - [`parse`]: bytes → text → position-keeping trees (YAML/JSON);
//! - [`schema`]: the document kinds, typing and validating trees against them;
//! - [`read`]: finding and reading a submission's files, tables (CSV/XLSX) included;
//! - [`policy`]: policies (rules, parameters, messages), composed through `extends`;
//! - [`submission`]: a department's documents for a year, indexed once;
//! - [`rules`]: the rules' logic — declarative checks and sandboxed Rhai scripts;
//! - [`run`]: rules over submissions, large tables streamed in chunks;
//! - [`findings`]: what a run found, waivers applied;
//! - [`report`]: human, JSON, SARIF, JUnit and GitHub output;
//! - [`commands`]: the jobs of the command line ([`cli`]).
//!
//! [`diag`] (diagnostics), [`name`] (names diagnostics share), [`domain`]
//! (working-day calendar, USCC, ratios), [`in_turn`] (work over the cores item by
//! item) and [`shared`] (the mutexes that work shares, and lists put in an order
//! worked out on their places) are used throughout.

pub mod cli;
pub mod commands;
pub mod diag;
pub mod domain;
pub mod findings;
pub mod in_turn;
pub mod name;
pub mod parse;
pub mod policy;
pub mod read;
pub mod report;
pub mod rules;
pub mod run;
pub mod schema;
pub mod shared;
pub mod submission;
