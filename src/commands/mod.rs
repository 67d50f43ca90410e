//! The jobs of the command line: one module per command.

use std::io::Write;
use std::path::PathBuf;

use crate::commands::check::PolicyChoice;
use crate::diag::{Lang, Report};
use crate::policy::Policy;
use crate::report::{self, Format, Style};

pub mod check;
pub mod convert;
pub mod explain;
pub mod policy;
pub mod schema;
pub mod test;

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// `--policy FILE`, or the shipped policy.
pub fn choice(policy: Option<PathBuf>) -> PolicyChoice {
    policy.map_or(PolicyChoice::Shipped, PolicyChoice::File)
}

/// Prints problems that stop a command (a policy that does not load) and exits 2.
pub fn fail(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> i32 {
    emit(report, None, Format::Human, lang, style, out);
    EXIT_ERROR
}

/// Writes a report; a broken pipe is not an error.
pub fn emit(
    report: &Report,
    policy: Option<&Policy>,
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
