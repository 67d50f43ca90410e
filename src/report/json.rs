//! The JSON report: one object, versioned, on standard output. Written from borrowed
//! fields, keys in alphabetical order: a province's report holds a hundred thousand
//! findings and more, and building a value tree of them first would double the work.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::counts;
use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};

/// The report as written.
#[derive(Serialize)]
pub struct JsonReport<'r> {
    diagnostics: Diagnostics<'r>,
    summary: Summary<'r>,
    version: u32,
    waived: Vec<JsonWaived<'r>>,
}

/// The findings, each made a [`JsonDiagnostic`] as it is written.
struct Diagnostics<'r> {
    all: &'r [Diagnostic],
    lang: Lang,
}

impl Serialize for Diagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.all.iter().map(|d| diagnostic(d, self.lang)))
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'r> {
    clause: Option<String>,
    column: usize,
    file: &'r str,
    help: Option<&'r str>,
    line: usize,
    message: &'r str,
    origin: &'static str,
    policy: Option<&'r str>,
    rule: &'r str,
    severity: Severity,
}

#[derive(Serialize)]
struct Summary<'r> {
    by_rule: BTreeMap<&'r str, BTreeMap<&'r str, usize>>,
    documents: usize,
    errors: usize,
    figures: Vec<JsonFigure<'r>>,
    files: usize,
    input_errors: usize,
    not_kept: Vec<JsonNotKept<'r>>,
    policy: &'r str,
    waived: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonFigure<'r> {
    denominator: i64,
    id: &'r str,
    measured: f64,
    numerator: i64,
    ok: bool,
    threshold: f64,
    title: &'r str,
}

#[derive(Serialize)]
struct JsonNotKept<'r> {
    kept: usize,
    message: String,
    not_kept: u64,
    rule: &'r str,
    waived: bool,
}

#[derive(Serialize)]
struct JsonWaived<'r> {
    approved_by: &'r str,
    column: usize,
    expires_on: String,
    file: &'r str,
    line: usize,
    message: &'r str,
    reason: &'r str,
    rule: &'r str,
}

impl<'r> JsonReport<'r> {
    pub fn new(report: &'r Report, lang: Lang) -> JsonReport<'r> {
        let counts = counts(report);
        JsonReport {
            diagnostics: Diagnostics {
                all: &report.diagnostics,
                lang,
            },
            summary: Summary {
                by_rule: counts.by_rule,
                documents: report.documents_checked,
                errors: counts.errors,
                figures: report
                    .figures
                    .iter()
                    .map(|f| JsonFigure {
                        denominator: f.denominator,
                        id: &f.id,
                        measured: f.measured,
                        numerator: f.numerator,
                        ok: f.ok,
                        threshold: f.threshold,
                        title: f.title.get(lang),
                    })
                    .collect(),
                files: report.files_checked,
                input_errors: counts.input_errors,
                not_kept: report
                    .not_kept
                    .iter()
                    .map(|n| JsonNotKept {
                        kept: n.kept,
                        message: n.note().get(lang).to_owned(),
                        not_kept: n.not_kept,
                        rule: &n.rule,
                        waived: n.waived,
                    })
                    .collect(),
                policy: &report.policy,
                waived: report.waived.len(),
                warnings: counts.warnings,
            },
            version: 1,
            waived: report
                .waived
                .iter()
                .map(|w| JsonWaived {
                    approved_by: &w.approved_by,
                    column: w.diagnostic.column,
                    expires_on: w.expires_on.to_string(),
                    file: &w.diagnostic.file,
                    line: w.diagnostic.line,
                    message: w.diagnostic.message.get(lang),
                    reason: &w.reason,
                    rule: &w.diagnostic.rule,
                })
                .collect(),
        }
    }
}

fn diagnostic(d: &Diagnostic, lang: Lang) -> JsonDiagnostic<'_> {
    JsonDiagnostic {
        clause: clause_of(d, &mut String::new()).map(str::to_owned),
        column: d.column,
        file: &d.file,
        help: d.help.as_ref().map(|h| h.get(lang)),
        line: d.line,
        message: d.message.get(lang),
        origin: origin(d.origin),
        policy: d.policy(),
        rule: &d.rule,
        severity: d.severity,
    }
}

/// Writes the report as `serde_json::to_writer_pretty` would, its findings rendered
/// side by side in blocks, a few blocks at a time: a province's report holds a hundred
/// thousand findings and more, and one thread writing them was the last part of a run.
pub fn write(report: &JsonReport, out: &mut impl Write) -> io::Result<()> {
    use rayon::prelude::*;
    /// Findings a block: enough for each to be worth a task.
    const BLOCK: usize = 2048;
    /// Blocks rendered before they are written: the text of every finding at once
    /// would be tens of megabytes held for nothing.
    const WINDOW: usize = 8;
    out.write_all(b"{\n  \"diagnostics\": ")?;
    let Diagnostics { all, lang } = report.diagnostics;
    if all.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        let blocks: Vec<(usize, &[Diagnostic])> = all.chunks(BLOCK).enumerate().collect();
        for window in blocks.chunks(WINDOW) {
            let rendered: Vec<Vec<u8>> = window
                .par_iter()
                .map(|&(b, block)| {
                    let mut bytes = Vec::with_capacity(block.len() * 640);
                    let mut scratch = String::new();
                    for (i, d) in block.iter().enumerate() {
                        let first = b == 0 && i == 0;
                        bytes.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                        write_diagnostic(&mut bytes, d, lang, &mut scratch);
                    }
                    bytes
                })
                .collect();
            for bytes in rendered {
                out.write_all(&bytes)?;
            }
        }
        out.write_all(b"\n  ]")?;
    }
    out.write_all(b",\n  \"summary\": ")?;
    nested(out, &report.summary, 1)?;
    write!(out, ",\n  \"version\": {}", report.version)?;
    out.write_all(b",\n  \"waived\": ")?;
    nested(out, &report.waived, 1)?;
    out.write_all(b"\n}")
}

/// A finding as [`JsonDiagnostic`] is pretty-printed two deep, written field by field:
/// through serde, escaping its texts byte by byte was most of the writing.
fn write_diagnostic(out: &mut Vec<u8>, d: &Diagnostic, lang: Lang, scratch: &mut String) {
    let text = |out: &mut Vec<u8>, key: &[u8], value: Option<&str>| {
        out.extend_from_slice(key);
        match value {
            Some(value) => json_str(out, value),
            None => out.extend_from_slice(b"null"),
        }
    };
    let number = |out: &mut Vec<u8>, key: &[u8], n: usize| {
        out.extend_from_slice(key);
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    };
    text(out, b"{\n      \"clause\": ", clause_of(d, scratch));
    number(out, b",\n      \"column\": ", d.column);
    text(out, b",\n      \"file\": ", Some(&d.file));
    text(
        out,
        b",\n      \"help\": ",
        d.help.as_ref().map(|h| h.get(lang)),
    );
    number(out, b",\n      \"line\": ", d.line);
    text(out, b",\n      \"message\": ", Some(d.message.get(lang)));
    text(out, b",\n      \"origin\": ", Some(origin(d.origin)));
    text(out, b",\n      \"policy\": ", d.policy());
    text(out, b",\n      \"rule\": ", Some(&d.rule));
    text(out, b",\n      \"severity\": ", Some(severity(d.severity)));
    out.extend_from_slice(b"\n    }");
}

/// The clause a finding cites, after the document it is in, as the report gives it;
/// written into `into`.
fn clause_of<'s>(d: &Diagnostic, into: &'s mut String) -> Option<&'s str> {
    use std::fmt::Write as _;
    let clause = d.clause()?;
    into.clear();
    // Writing to a String does not fail.
    let _ = write!(into, "{} {clause}", d.source_doc().unwrap_or_default());
    Some(into.trim())
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn json_str(out: &mut Vec<u8>, text: &str) {
    // Most texts need no escape; asked of every byte without stopping, so that the
    // question is asked of many bytes at once.
    let plain = !text.bytes().fold(false, |escape, b| {
        escape | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec does not fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

fn origin(origin: Origin) -> &'static str {
    match origin {
        Origin::Finding => "finding",
        Origin::Input => "input",
        Origin::Tool => "tool",
    }
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `value` pretty-printed as the value of a member `level` deep.
fn nested(out: &mut impl Write, value: &impl Serialize, level: usize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Nested::at(level));
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// serde_json's `PrettyFormatter` (two spaces an indent), starting `level` deep.
struct Nested {
    level: usize,
    has_value: bool,
}

impl Nested {
    fn at(level: usize) -> Nested {
        Nested {
            level,
            has_value: false,
        }
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            indent(out, self.level)?;
        }
        out.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        indent(out, self.level)
    }
}

fn indent<W: ?Sized + Write>(out: &mut W, level: usize) -> io::Result<()> {
    for _ in 0..level {
        out.write_all(b"  ")?;
    }
    Ok(())
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The report as a JSON value (for callers that read it back).
pub fn to_json(report: &Report, lang: Lang) -> serde_json::Value {
    serde_json::to_value(JsonReport::new(report, lang)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Text, Waived};

    #[test]
    fn the_report_is_written_as_serde_json_pretty_prints_it() {
        for findings in [0, 1, 2, 2048, 2049, 5000] {
            let mut report = Report::default();
            for i in 0..findings {
                let mut d = Diagnostic::unplaced(
                    Origin::Finding,
                    "result-entry-deadline",
                    &format!("results-{}.csv", i % 7),
                    Text::new(
                        format!("第{i}行 \"引号\"\t\\\u{1}\u{7f}"),
                        format!("row {i}"),
                    ),
                );
                d.line = i;
                d.column = i % 13;
                if i % 3 == 0 {
                    d = d.with_help(Text::new("帮助\n换行", "help"));
                }
                // A clause with its document, without, or blank; one in a policy.
                match i % 4 {
                    0 => {
                        d.cite_mut().clause = Some("二（一）".into());
                        d.cite_mut().source_doc = Some("武双随机联办〔2024〕1号".into());
                    }
                    1 => d.cite_mut().clause = Some(" 三 ".into()),
                    2 => d.cite_mut().clause = Some("".into()),
                    _ => d.cite_mut().policy = Some("wuhan-2024".into()),
                }
                d.severity = if i % 5 == 0 {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                d.origin = [Origin::Finding, Origin::Input, Origin::Tool][i % 3];
                report.diagnostics.push(d);
            }
            if findings % 2 == 1 {
                report.waived.push(Waived {
                    diagnostic: Diagnostic::unplaced(
                        Origin::Finding,
                        "objects-uscc",
                        "objects.csv",
                        Text::new("码", "code"),
                    ),
                    reason: "已核实".into(),
                    approved_by: "科室".into(),
                    expires_on: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap_or_default(),
                });
            }
            for lang in [Lang::Zh, Lang::En] {
                let json = JsonReport::new(&report, lang);
                let mut ours = Vec::new();
                write(&json, &mut ours).expect("written");
                let theirs = serde_json::to_vec_pretty(&json).expect("serialized");
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&theirs),
                    "{findings} findings"
                );
            }
        }
    }
}
