//! SARIF 2.1.0 for code-scanning views: one run, rule metadata from the policy, a
//! result per diagnostic.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{level, origin, uri_reference};
use crate::diag::{Lang, Report};
use crate::policy::Policy;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF 2.1.0: one run, rule metadata from the policy, a result per diagnostic.
pub fn sarif(report: &Report, policy: Option<&Policy>, lang: Lang) -> Value {
    let mut rule_ids: Vec<&str> = report
        .diagnostics
        .iter()
        .chain(report.waived.iter().map(|w| &w.diagnostic))
        .map(|d| d.rule.as_str())
        .collect();
    if let Some(p) = policy {
        rule_ids.extend(p.rules.iter().map(|r| r.id.as_str()));
    }
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let index: BTreeMap<&str, usize> = rule_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match policy.and_then(|p| p.rule(id)) {
            Some(r) => json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.title.get(lang)},
                "fullDescription": {"text": format!("{} {}「{}」", r.source, r.clause, r.quote)},
                "help": {"text": r.help.get(lang), "markdown": r.doc},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"policy": r.policy, "clause": r.clause, "tags": [r.clause]},
            }),
            None => json!({
                "id": id,
                "shortDescription": {"text": if id.starts_with("input/") { "input could not be read" } else { "policy or script problem" }},
                "defaultConfiguration": {"level": "error"},
            }),
        })
        .collect();
    // Waived findings stay in the run, suppressed with their justification.
    let waived = report.waived.iter().map(|w| {
        let suppression = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (approved by {}, until {})", w.reason, w.approved_by, w.expires_on),
        }]);
        (&w.diagnostic, Some(suppression))
    });
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| (d, None))
        .chain(waived)
        .map(|(d, suppressions)| {
            let mut region = json!({"startLine": d.line, "startColumn": d.column});
            if let (Some(source), Some(span)) = (&d.source, d.span) {
                let (end_line, end_column) = source.line_col(span.end as usize);
                if (end_line, end_column) > (d.line, d.column) {
                    region["endLine"] = json!(end_line);
                    region["endColumn"] = json!(end_column);
                }
                let line = source.line_text(d.line);
                if line.len() <= super::MAX_SHOWN_LINE {
                    region["snippet"] = json!({"text": line});
                }
            }
            let mut message = d.message.get(lang).to_owned();
            if let Some(help) = &d.help {
                message = format!("{message}\n{}", help.get(lang));
            }
            let mut result = json!({
                "ruleId": d.rule,
                "ruleIndex": index.get(d.rule.as_str()).copied().unwrap_or(0),
                "level": level(d.severity),
                "kind": "fail",
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri_reference(&d.file)},
                    "region": region,
                }}],
                "properties": {"origin": origin(d), "clause": d.clause()},
            });
            if let Some(suppressions) = suppressions {
                result["suppressions"] = suppressions;
            }
            result
        })
        .collect();
    // Findings past the per-rule limit: counted, not listed, and said so.
    let not_kept: Vec<Value> = report
        .not_kept
        .iter()
        .map(|n| {
            json!({
                "level": "note",
                "message": {"text": n.note().get(lang)},
                "associatedRule": {"id": n.rule, "index": index.get(n.rule.as_str()).copied().unwrap_or(0)},
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "spotlint",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": not_kept,
            }],
            "properties": {"notKept": report.not_kept},
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, Origin, Text};
    use crate::parse::source::SourceFile;
    use std::sync::Arc;

    /// A result's snippet is its line, unless the line is too long to show.
    #[test]
    fn a_result_on_a_very_long_line_has_no_snippet() {
        let text = format!("a,b\n1,2\n{}\n", "x,".repeat(10_000));
        let source = Arc::new(SourceFile::from_text("t.csv", &text));
        let at = |start: usize| {
            let d = Diagnostic::problem(
                Origin::Input,
                "input/bad-value",
                &source,
                crate::parse::tree::Span::new(start, start + 1),
                Text::new("x", "x"),
            );
            let report = Report {
                diagnostics: vec![d],
                ..Report::default()
            };
            sarif(&report, None, Lang::En)["runs"][0]["results"][0]["locations"][0]
                ["physicalLocation"]["region"]
                .clone()
        };
        assert_eq!(at(6)["snippet"]["text"], "1,2");
        let long = at(10);
        assert_eq!(
            (&long["startLine"], &long["startColumn"]),
            (&json!(3), &json!(3))
        );
        assert!(long.get("snippet").is_none(), "{long}");
    }
}
