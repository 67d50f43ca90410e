//! Writing a report: one module per format — annotated snippets for people
//! ([`human`]), one JSON object ([`json`]), SARIF 2.1.0 for code scanning ([`sarif`]),
//! JUnit XML for test tabs ([`junit`]), GitHub workflow annotations ([`github`]), a
//! findings workbook ([`xlsx`]) and a one-page HTML report ([`html`]); annotated copies
//! of input tables ([`annotate`]).

use std::collections::{BTreeMap, HashMap};
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

/// What a summary counts: findings and problems by rule and severity, of each
/// severity (findings past the per-rule limit included, unless waived), and input
/// errors.
pub(crate) struct Counts<'r> {
    pub by_rule: BTreeMap<&'r str, BTreeMap<&'static str, usize>>,
    pub errors: usize,
    pub warnings: usize,
    pub input_errors: usize,
}

impl Counts<'_> {
    /// Diagnostics of `severity`, findings past the per-rule limit included.
    pub fn of(&self, severity: Severity) -> usize {
        match severity {
            Severity::Error => self.errors,
            Severity::Warning => self.warnings,
        }
    }
}

/// [`Counts`] of `report`, its diagnostics counted in one pass, side by side: a report
/// may list hundreds of thousands.
pub(crate) fn counts(report: &Report) -> Counts<'_> {
    use rayon::prelude::*;
    type ByRule<'r> = HashMap<(&'r str, Severity), usize, foldhash::fast::RandomState>;
    let (listed, input_errors) = report
        .diagnostics
        .par_iter()
        .fold(
            || (ByRule::default(), 0),
            |(mut by_rule, inputs), d| {
                *by_rule.entry((d.rule.as_str(), d.severity)).or_default() += 1;
                (by_rule, inputs + usize::from(d.origin != Origin::Finding))
            },
        )
        .reduce(
            || (ByRule::default(), 0),
            |(mut all, all_inputs), (part, inputs)| {
                for (key, n) in part {
                    *all.entry(key).or_default() += n;
                }
                (all, all_inputs + inputs)
            },
        );
    // Findings past the per-rule limit are the rule's too (unless waived with it).
    let unlisted = report.not_kept.iter().filter(|n| !n.waived).map(|n| {
        let count = usize::try_from(n.not_kept).unwrap_or(usize::MAX);
        ((n.rule.as_str(), n.severity), count)
    });
    let mut counts = Counts {
        by_rule: BTreeMap::new(),
        errors: 0,
        warnings: 0,
        input_errors,
    };
    for ((rule, severity), n) in listed.into_iter().chain(unlisted) {
        let count: &mut usize = counts
            .by_rule
            .entry(rule)
            .or_default()
            .entry(severity.as_str())
            .or_default();
        *count = count.saturating_add(n);
        let of_severity = match severity {
            Severity::Error => &mut counts.errors,
            Severity::Warning => &mut counts.warnings,
        };
        *of_severity = of_severity.saturating_add(n);
    }
    counts
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{NotKept, Text};

    #[test]
    fn counts_are_by_rule_and_severity_with_findings_not_listed() {
        let mut report = Report::default();
        for i in 0..5000usize {
            let (origin, rule) = match i % 4 {
                0 => (Origin::Input, "input/malformed"),
                1 => (Origin::Finding, "rule-b"),
                _ => (Origin::Finding, "rule-a"),
            };
            let mut d = Diagnostic::unplaced(origin, rule, "a.csv", Text::new("问题", "problem"));
            if i % 4 == 3 {
                d.severity = Severity::Warning;
            }
            report.diagnostics.push(d);
        }
        let not_kept = |rule: &str, severity, not_kept, waived| NotKept {
            rule: rule.to_owned(),
            severity,
            kept: 1,
            not_kept,
            waived,
        };
        *report.not_kept = vec![
            not_kept("rule-a", Severity::Error, 7, false),
            not_kept("rule-c", Severity::Warning, 3, false),
            not_kept("rule-b", Severity::Error, 100, true),
        ];
        let counts = counts(&report);
        let by_rule: Vec<(&str, Vec<(&str, usize)>)> = counts
            .by_rule
            .iter()
            .map(|(rule, n)| (*rule, n.iter().map(|(s, n)| (*s, *n)).collect()))
            .collect();
        assert_eq!(
            by_rule,
            [
                ("input/malformed", vec![("error", 1250)]),
                ("rule-a", vec![("error", 1257), ("warning", 1250)]),
                ("rule-b", vec![("error", 1250)]),
                ("rule-c", vec![("warning", 3)]),
            ]
        );
        assert_eq!(counts.of(Severity::Error), counts.errors);
        assert_eq!(counts.of(Severity::Warning), counts.warnings);
        assert_eq!((counts.errors, counts.warnings), (3757, 1253));
        assert_eq!(counts.input_errors, 1250);
    }
}
