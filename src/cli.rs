//! Command line: `check`, `report`, `convert`, `explain`, `rules`, `test`, `policy check`,
//! `schema`; each command's arguments and job are in [`crate::commands`].
//! Exit codes: 0 clean, 1 findings at or above `--fail-on` (or failing policy tests),
//! 2 input, usage, policy or script errors.

use std::io::{IsTerminal, Write};

use clap::{Parser, Subcommand};

use crate::commands::{self, EXIT_CLEAN, EXIT_ERROR};
use crate::report::Style;

#[derive(Debug, Parser)]
#[command(
    name = "spotlint",
    version,
    about = "Validate 双随机、一公开 spot-check submissions against policy-as-code"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plans, item lists, libraries and results (files or folders; default: here).
    Check(commands::check::Args),
    /// The office's 情况通报: every department's submission checked and summed up in one
    /// table (department folders, or folders whose subfolders are departments).
    Report(commands::report::Args),
    /// Print tables (and documents) as the normalised documents the rules see: YAML
    /// with each value's source cell as a comment, or JSON.
    Convert(commands::convert::Args),
    /// Explain a rule: what it checks, why (clause and quote), parameters, example, fix.
    Explain(commands::explain::ExplainArgs),
    /// List the rules of the active policy.
    Rules(commands::explain::RulesArgs),
    /// Run policy tests (`kind: PolicyTest` files; default: policies/tests).
    Test(commands::test::Args),
    /// Policy maintenance.
    Policy {
        #[command(subcommand)]
        command: commands::policy::Command,
    },
    /// Print the JSON Schema of a document kind (Plan, ItemList, ObjectLibrary,
    /// PersonnelLibrary, Results, Policy, Waivers, PolicyTest).
    Schema(commands::schema::Args),
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let _ = e.print();
            return code;
        }
    };
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = stdout.lock();
    let code = run(cli.command, &mut out, Style { color, width: 100 });
    let _ = out.flush();
    code
}

pub fn run(command: Command, out: &mut dyn Write, style: Style) -> i32 {
    match command {
        Command::Check(args) => commands::check::main(args, out, style),
        Command::Report(args) => commands::report::main(args, out),
        Command::Convert(args) => commands::convert::main(args, out, style),
        Command::Explain(args) => commands::explain::explain_main(args, out, style),
        Command::Rules(args) => commands::explain::rules_main(args, out, style),
        Command::Test(args) => commands::test::main(args, out),
        Command::Policy { command } => commands::policy::main(command, out, style),
        Command::Schema(args) => commands::schema::main(args, out),
    }
}
