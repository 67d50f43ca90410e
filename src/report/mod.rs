//! Writing a report: one module per format — annotated snippets for people
//! ([`human`]), one JSON object ([`json`]), SARIF 2.1.0 for code scanning ([`sarif`]),
//! JUnit XML for test tabs ([`junit`]), GitHub workflow annotations ([`github`]), a
//! findings workbook ([`xlsx`]) and a one-page HTML report ([`html`]); annotated copies
//! of input tables ([`annotate`]).

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};
use crate::policy::Policy;

pub mod annotate;
pub mod bulletin;
pub mod cells;
mod github;
pub mod html;
pub mod human;
pub mod inert;
mod json;
mod junit;
mod sarif;
pub mod xlsx;

/// The longest source line a report shows, in bytes. A diagnostic on or beside a longer
/// line (a table row of thousands of cells, a file on one line) is named by line and
/// column instead: shown whole for each diagnostic, such a line would flood a terminal
/// or a log.
const MAX_SHOWN_LINE: usize = 1024;

pub use human::render_diagnostic;
pub use json::to_json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
    /// A workbook: needs `--output`.
    Xlsx,
    Html,
}

impl Format {
    /// Formats that are not text and cannot go to a terminal.
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Xlsx)
    }
}

/// How the human report looks; tests pin colour off and a fixed width.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

pub fn write(
    report: &Report,
    policy: Option<&Policy>,
    format: Format,
    lang: Lang,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, lang, style, out),
        Format::Json => write_json(out, |w| {
            json::write(&json::JsonReport::new(report, lang), w)
        }),
        Format::Sarif => write_json(out, |w| {
            serde_json::to_writer_pretty(w, &sarif::sarif(report, policy, lang))
                .map_err(io::Error::from)
        }),
        Format::Junit => out.write_all(junit::junit(report, policy, lang).as_bytes()),
        Format::Github => out.write_all(github::github(report, lang).as_bytes()),
        Format::Xlsx => {
            let book = xlsx::findings_workbook(report, lang).map_err(io::Error::other)?;
            out.write_all(&book)
        }
        Format::Html => html::write(report, lang, out),
    }
}

/// Pretty JSON written by `write`, and a line break. The serializer writes token by
/// token: through a buffer of a known type each write is a copy, not a call through
/// `dyn Write`.
fn write_json<'o>(
    out: &'o mut dyn Write,
    write: impl FnOnce(&mut io::BufWriter<&'o mut dyn Write>) -> io::Result<()>,
) -> io::Result<()> {
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    write(&mut buffered)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// Findings and problems by rule and severity, for summaries.
pub(crate) fn counts_by_rule(report: &Report) -> BTreeMap<&str, BTreeMap<&str, usize>> {
    let mut by_rule: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for d in &report.diagnostics {
        *by_rule
            .entry(&d.rule)
            .or_default()
            .entry(d.severity.as_str())
            .or_default() += 1;
    }
    // Findings past the per-rule limit are the rule's too (unless waived with it).
    for n in report.not_kept.iter().filter(|n| !n.waived) {
        *by_rule
            .entry(&n.rule)
            .or_default()
            .entry(n.severity.as_str())
            .or_default() += usize::try_from(n.not_kept).unwrap_or(usize::MAX);
    }
    by_rule
}

/// A severity as the machine formats name it.
pub(crate) fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// What a diagnostic is, as the machine formats name it.
pub(crate) fn origin(d: &Diagnostic) -> &'static str {
    match d.origin {
        Origin::Finding => "finding",
        Origin::Input => "input",
        Origin::Tool => "tool",
    }
}

/// Relative paths with forward slashes, as SARIF viewers resolve them.
pub(crate) fn uri(file: &str) -> String {
    file.trim_start_matches("./").replace('\\', "/")
}

/// Characters kept as they are in a URI path: unreserved ones and `/`.
const PATH_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// [`uri`] as a URI reference (RFC 3986): spaces, `#`, `%`, `?` and non-ASCII
/// characters percent-encoded, as SARIF's `artifactLocation.uri` must be.
pub(crate) fn uri_reference(file: &str) -> String {
    percent_encoding::utf8_percent_encode(&uri(file), PATH_KEEP).to_string()
}
