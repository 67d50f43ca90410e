//! spotlint: policy-as-code validation of 双随机、一公开 spot-check submissions.
//!
//! Documents (plans, item lists, libraries, results) are read with positions kept
//! ([`yaml`], [`schema`], [`input`]), grouped into submissions ([`submission`]), checked
//! by the rules of a YAML policy ([`policy`]) whose logic runs in a sandboxed Rhai
//! engine ([`engine`]), and reported with exact file:line:column ([`report`]).

pub mod calendar;
pub mod check;
pub mod cli;
pub mod diag;
pub mod engine;
pub mod explain;
pub mod formats;
pub mod input;
pub mod native;
pub mod policy;
pub mod policytest;
pub mod ratio;
pub mod report;
pub mod schema;
pub mod source;
pub mod stream;
pub mod submission;
pub mod table;
pub mod tree;
pub mod uscc;
pub mod waivers;
pub mod yaml;
