//! `spotlint policy check FILE`: lint a policy — its schema, its rules' checks and
//! scripts (compiled), parameters, messages, ids and `extends` chain.

use std::io::Write;
use std::path::PathBuf;

use super::check::{self, PolicyChoice};
use super::{fail, EXIT_CLEAN};
use crate::diag::{Lang, Report};
use crate::report::Style;
use crate::rules::{CompiledPolicy, Limits};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Lint a policy: schema, checks and scripts, parameters, messages, rule ids, extends chain.
    Check {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
    },
}

pub fn main(command: Command, out: &mut dyn Write, style: Style) -> i32 {
    let Command::Check { file, lang } = command;
    match check::load_policy(&PolicyChoice::File(file)) {
        Err(report) => fail(&report, lang, style, out),
        Ok(policy) => {
            let compiled = CompiledPolicy::new(&policy, &Limits::default());
            let report = Report {
                diagnostics: compiled.errors,
                ..Report::default()
            };
            if report.diagnostics.is_empty() {
                let _ = writeln!(
                    out,
                    "{}: {} rules ({}), ok",
                    policy.path,
                    policy.rules.len(),
                    policy.chain.join(" → ")
                );
                EXIT_CLEAN
            } else {
                fail(&report, lang, style, out)
            }
        }
    }
}
