//! The `check` job: load the policy, read the documents, group submissions, evaluate,
//! and collect one report.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::diag::Report;
use crate::engine::{self, CompiledPolicy, Limits};
use crate::input;
use crate::policy::{self, Policy, Store};
use crate::submission;

/// Which policy to apply: a file on disk, or the shipped one.
#[derive(Debug, Clone)]
pub enum PolicyChoice {
    Shipped,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub policy: PolicyChoice,
    pub as_of: NaiveDate,
    pub limits: Limits,
}

/// Loads the chosen policy; problems in it are diagnostics of the report.
pub fn load_policy(choice: &PolicyChoice) -> Result<Policy, Report> {
    let loaded = match choice {
        PolicyChoice::Shipped => policy::load(Store::Embedded, Path::new(policy::DEFAULT_POLICY)),
        PolicyChoice::File(path) => policy::load(Store::Disk, path),
    };
    loaded.map_err(|diagnostics| Report {
        diagnostics,
        ..Report::default()
    })
}

pub fn run(options: &CheckOptions) -> Report {
    let policy = match load_policy(&options.policy) {
        Ok(p) => p,
        Err(report) => return report,
    };
    check_with(&policy, options)
}

/// Checks the documents under `options.paths` against an already loaded policy.
pub fn check_with(policy: &Policy, options: &CheckOptions) -> Report {
    let compiled = CompiledPolicy::new(policy, &options.limits);
    let mut report = Report {
        policy: policy.id.clone(),
        ..Report::default()
    };
    report
        .diagnostics
        .extend(compiled.compile_errors().cloned());
    let loaded = input::load_paths(&options.paths);
    report.files_checked = loaded.files;
    report.documents_checked = loaded.documents.len();
    report.diagnostics.extend(loaded.diagnostics);
    let submissions = submission::group(&loaded.documents);
    let evaluation = engine::evaluate(policy, &compiled, &submissions, options.as_of);
    report.diagnostics.extend(evaluation.diagnostics);
    report.figures = evaluation.figures;
    report.sort();
    report
}
