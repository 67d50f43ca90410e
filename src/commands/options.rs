//! Options that `check` and `report` share: which policy, as of when, in which language,
//! within which limits, and how tables that state no department or year are read.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::diag::Lang;
use crate::rules::Limits;

use super::check::{self, CheckOptions};

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Policy file (default: the shipped policy effective for the submission's year).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Evaluation date for time-dependent rules (default: today).
    #[arg(long, value_parser = check::parse_date)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Operation limit per script call (one record, document or submission).
    #[arg(long, default_value_t = Limits::default().max_operations,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_operations: u64,
    /// Findings listed per rule; more are counted, with a note saying how many.
    #[arg(long, default_value_t = Limits::default().max_findings_per_rule,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_findings_per_rule: usize,
    /// Department of published tables that state none (a sidecar's `department` wins).
    #[arg(long)]
    pub department: Option<String>,
    /// Year of published plans that state none (a sidecar's `year` wins).
    #[arg(long)]
    pub year: Option<i64>,
    /// No progress bar (it is shown on stderr only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl RunArgs {
    /// The options of a check of `paths` with these settings.
    pub fn check_options(&self, paths: Vec<PathBuf>) -> CheckOptions {
        let mut options = CheckOptions::new(
            paths,
            super::choice(self.policy.clone()),
            self.as_of.unwrap_or_else(check::today),
        );
        options.limits.max_operations = self.max_operations;
        options.limits.max_findings_per_rule = self.max_findings_per_rule;
        options.department.clone_from(&self.department);
        options.year = self.year;
        options.progress = (!self.no_progress).then_some(self.lang);
        options
    }
}
