//! The JSON report: one object, versioned, on standard output. Written from borrowed
//! fields, keys in alphabetical order: a province's report holds a hundred thousand
//! findings and more, and building a value tree of them first would double the work.

use std::collections::BTreeMap;

use serde::Serialize;

use super::counts_by_rule;
use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};

/// The report as written.
#[derive(Serialize)]
pub struct JsonReport<'r> {
    diagnostics: Vec<JsonDiagnostic<'r>>,
    summary: Summary<'r>,
    version: u32,
    waived: Vec<JsonWaived<'r>>,
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
        JsonReport {
            diagnostics: report
                .diagnostics
                .iter()
                .map(|d| diagnostic(d, lang))
                .collect(),
            summary: Summary {
                by_rule: counts_by_rule(report),
                documents: report.documents_checked,
                errors: report.count(Severity::Error),
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
                input_errors: report
                    .diagnostics
                    .iter()
                    .filter(|d| d.origin != Origin::Finding)
                    .count(),
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
                warnings: report.count(Severity::Warning),
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
        clause: d.clause.as_ref().map(|c| {
            format!("{} {c}", d.source_doc.as_deref().unwrap_or_default())
                .trim()
                .to_owned()
        }),
        column: d.column,
        file: &d.file,
        help: d.help.as_ref().map(|h| h.get(lang)),
        line: d.line,
        message: d.message.get(lang),
        origin: match d.origin {
            Origin::Finding => "finding",
            Origin::Input => "input",
            Origin::Tool => "tool",
        },
        policy: d.policy.as_deref(),
        rule: &d.rule,
        severity: d.severity,
    }
}

/// The report as a JSON value (for callers that read it back).
pub fn to_json(report: &Report, lang: Lang) -> serde_json::Value {
    serde_json::to_value(JsonReport::new(report, lang)).unwrap_or_default()
}
