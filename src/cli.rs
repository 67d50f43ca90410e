//! Command line: `check`, `explain`, `rules`, `test`, `policy check`, `schema`.
//! Exit codes: 0 clean, 1 findings at or above `--fail-on` (or failing policy tests),
//! 2 input, usage, policy or script errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::commands::check::{self, CheckOptions, PolicyChoice};
use crate::diag::{Lang, Report, Severity};
use crate::report::{self, Format, Style};
use crate::rules::{CompiledPolicy, Limits};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plans, item lists, libraries and results (files or folders; default: here).
    Check {
        paths: Vec<PathBuf>,
        /// Policy file (default: the shipped policy effective for the submission's year).
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Evaluation date for time-dependent rules (default: today).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
        /// Lowest severity that makes the run fail (exit 1).
        #[arg(long, value_enum, default_value = "error")]
        fail_on: FailOn,
        /// Waiver file (waivers beside the submission are also picked up).
        #[arg(long)]
        waivers: Vec<PathBuf>,
        /// Operation limit per script call.
        #[arg(long, default_value_t = Limits::default().max_operations)]
        max_operations: u64,
        /// Only read and validate the documents (benchmark baseline).
        #[arg(long, hide = true)]
        parse_only: bool,
        /// Print timing and peak memory to stderr as one JSON line (benchmarks).
        #[arg(long, hide = true)]
        stats: bool,
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
        format: ListFormat,
        #[arg(long, value_enum, default_value = "zh")]
        lang: Lang,
    },
    /// Run policy tests (`kind: PolicyTest` files; default: policies/tests).
    Test {
        paths: Vec<PathBuf>,
        /// Policy for tests that name none (default: the shipped policy).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Policy maintenance.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print the JSON Schema of a document kind (Plan, ItemList, ObjectLibrary,
    /// PersonnelLibrary, Results, Policy, Waivers, PolicyTest).
    Schema { kind: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Lint a policy: schema, scripts (compiled), parameters, rule ids, extends chain.
    Check {
        file: PathBuf,
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
            output,
            as_of,
            lang,
            fail_on,
            waivers,
            max_operations,
            parse_only,
            stats,
        } => {
            let started = std::time::Instant::now();
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let mut options =
                CheckOptions::new(paths, choice(policy), as_of.unwrap_or_else(check::today));
            options.limits.max_operations = max_operations;
            options.waivers = waivers;
            options.parse_only = parse_only;
            let outcome = check::run(&options);
            if stats {
                eprintln!(
                    "{}",
                    serde_json::json!({"seconds": started.elapsed().as_secs_f64(), "peak_rss_kib": peak_rss_kib(), "documents": outcome.report.documents_checked, "diagnostics": outcome.report.diagnostics.len()})
                );
            }
            let fail_on = match fail_on {
                FailOn::Error => Severity::Error,
                FailOn::Warning => Severity::Warning,
            };
            let code = outcome.report.exit_code(fail_on);
            let style = if output.is_some() {
                Style {
                    color: false,
                    ..style
                }
            } else {
                style
            };
            match output {
                Some(path) => match std::fs::File::create(&path) {
                    Ok(mut file) => emit(
                        &outcome.report,
                        outcome.policy.as_ref(),
                        format,
                        lang,
                        style,
                        &mut file,
                    ),
                    Err(e) => {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        return EXIT_ERROR;
                    }
                },
                None => emit(
                    &outcome.report,
                    outcome.policy.as_ref(),
                    format,
                    lang,
                    style,
                    out,
                ),
            }
            code
        }
        Command::Explain { rule, policy, lang } => match check::load_policy(&choice(policy)) {
            Err(report) => fail(&report, lang, style, out),
            Ok(policy) => match policy.rule(&rule) {
                Some(r) => {
                    let _ = writeln!(
                        out,
                        "{}",
                        crate::commands::explain::explain(&policy, r, lang)
                    );
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
                let _ = writeln!(
                    out,
                    "{}",
                    crate::commands::explain::list(&policy, format == ListFormat::Json, lang)
                );
                EXIT_CLEAN
            }
        },
        Command::Test { paths, policy } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from("policies/tests")]
            } else {
                paths
            };
            let run = crate::commands::test::run(&paths, &choice(policy));
            let _ = write!(out, "{}", crate::commands::test::render(&run));
            run.exit_code()
        }
        Command::Policy {
            command: PolicyCommand::Check { file, lang },
        } => match check::load_policy(&PolicyChoice::File(file)) {
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
        },
        Command::Schema { kind } => match crate::commands::explain::schema_for(&kind) {
            Some(schema) => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&schema).unwrap_or_default()
                );
                EXIT_CLEAN
            }
            None => {
                eprintln!("error: no schema for `{kind}` (Plan, ItemList, ObjectLibrary, PersonnelLibrary, Results, Policy, Waivers, PolicyTest)");
                EXIT_ERROR
            }
        },
    }
}

/// Peak resident memory of this process (Linux), for `--stats`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn fail(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> i32 {
    emit(report, None, Format::Human, lang, style, out);
    EXIT_ERROR
}

fn emit(
    report: &Report,
    policy: Option<&crate::policy::Policy>,
    format: Format,
    lang: Lang,
    style: Style,
    out: &mut dyn Write,
) {
    // A report of many findings is many small writes: buffered, not a system call each.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    let written = report::write(report, policy, format, lang, style, &mut buffered)
        .and_then(|()| buffered.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
        }
    }
}
