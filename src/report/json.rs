//! The JSON report: one object, versioned, on standard output.

use serde_json::json;

use super::counts_by_rule;
use crate::diag::{Lang, Origin, Report, Severity};

pub fn to_json(report: &Report, lang: Lang) -> serde_json::Value {
    use rayon::prelude::*;
    // Side by side: a province's report holds a hundred thousand findings and more.
    let diagnostics: Vec<_> = report
        .diagnostics
        .par_iter()
        .map(|d| {
            json!({
                "rule": d.rule,
                "policy": d.policy.as_deref(),
                "severity": d.severity,
                "origin": match d.origin { Origin::Finding => "finding", Origin::Input => "input", Origin::Tool => "tool" },
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "message": d.message.get(lang),
                "clause": d.clause.as_ref().map(|c| format!("{} {c}", d.source_doc.as_deref().unwrap_or_default()).trim().to_owned()),
                "help": d.help.as_ref().map(|h| h.get(lang)),
            })
        })
        .collect();
    let by_rule = counts_by_rule(report);
    let figures: Vec<_> = report
        .figures
        .iter()
        .map(|f| json!({"id": f.id, "title": f.title.get(lang), "measured": f.measured, "numerator": f.numerator, "denominator": f.denominator, "threshold": f.threshold, "ok": f.ok}))
        .collect();
    let waived: Vec<_> = report
        .waived
        .iter()
        .map(|w| json!({"rule": w.diagnostic.rule, "file": w.diagnostic.file, "line": w.diagnostic.line, "column": w.diagnostic.column, "message": w.diagnostic.message.get(lang), "reason": w.reason, "approved_by": w.approved_by, "expires_on": w.expires_on.to_string()}))
        .collect();
    let not_kept: Vec<_> = report
        .not_kept
        .iter()
        .map(|n| json!({"rule": n.rule, "kept": n.kept, "not_kept": n.not_kept, "waived": n.waived, "message": n.note().get(lang)}))
        .collect();
    json!({
        "version": 1,
        "diagnostics": diagnostics,
        "waived": waived,
        "summary": {
            "policy": report.policy,
            "files": report.files_checked,
            "documents": report.documents_checked,
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "input_errors": report.diagnostics.iter().filter(|d| d.origin != Origin::Finding).count(),
            "waived": report.waived.len(),
            "not_kept": not_kept,
            "by_rule": by_rule,
            "figures": figures,
        }
    })
}
