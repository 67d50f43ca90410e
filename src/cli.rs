//! Command line: `check`, `explain`, `rules`. Exit codes: 0 clean, 1 findings at or
//! above `--fail-on`, 2 input, usage, policy or script errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::check::{self, CheckOptions, PolicyChoice};
use crate::diag::{Lang, Report, Severity};
use crate::engine::Limits;
use crate::report::{self, Format, Style};

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plans, item lists, libraries and results (files or folders; default: here).
    Check {
        paths: Vec<PathBuf>,
        /// Policy file (default: the shipped wuhan-2024 policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Evaluation date for time-dependent rules (default: today).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
        /// Lowest severity that makes the run fail (exit 1).
        #[arg(long, value_enum, default_value = "error")]
        fail_on: FailOn,
        /// Operation limit per script call.
        #[arg(long, default_value_t = Limits::default().max_operations)]
        max_operations: u64,
    },
    /// Explain a rule: what it checks, why (clause and quote), parameters, example, fix.
    Explain {
        rule: String,
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
    },
    /// List the rules of the active policy.
    Rules {
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    crate::schema::parse_date(s).map_err(|_| format!("`{s}` is not a date YYYY-MM-DD"))
}

fn choice(policy: Option<PathBuf>) -> PolicyChoice {
    policy.map_or(PolicyChoice::Shipped, PolicyChoice::File)
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
        Command::Check {
            paths,
            policy,
            format,
            as_of,
            lang,
            fail_on,
            max_operations,
        } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let options = CheckOptions {
                paths,
                policy: choice(policy),
                as_of: as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
                limits: Limits {
                    max_operations,
                    ..Limits::default()
                },
            };
            let report = check::run(&options);
            let fail_on = match fail_on {
                FailOn::Error => Severity::Error,
                FailOn::Warning => Severity::Warning,
            };
            emit(&report, format, lang, style, out);
            report.exit_code(fail_on)
        }
        Command::Explain { rule, policy, lang } => match check::load_policy(&choice(policy)) {
            Err(report) => fail(&report, lang, style, out),
            Ok(policy) => match policy.rule(&rule) {
                Some(r) => {
                    let _ = writeln!(out, "{}", crate::explain::explain(&policy, r, lang));
                    EXIT_CLEAN
                }
                None => {
                    let hint =
                        crate::schema::suggest(&rule, policy.rules.iter().map(|r| r.id.as_str()));
                    eprintln!("error: no rule `{rule}` in policy {}{hint}", policy.id);
                    EXIT_ERROR
                }
            },
        },
        Command::Rules {
            policy,
            format,
            lang,
        } => match check::load_policy(&choice(policy)) {
            Err(report) => fail(&report, lang, style, out),
            Ok(policy) => {
                let _ = writeln!(out, "{}", crate::explain::list(&policy, format, lang));
                EXIT_CLEAN
            }
        },
    }
}

fn fail(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> i32 {
    emit(report, Format::Human, lang, style, out);
    EXIT_ERROR
}

fn emit(report: &Report, format: Format, lang: Lang, style: Style, out: &mut dyn Write) {
    if let Err(e) = report::write(report, format, lang, style, out) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
        }
    }
}
