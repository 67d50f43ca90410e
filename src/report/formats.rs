//! Machine formats for CI: SARIF 2.1.0 (code scanning), JUnit XML (test tabs) and
//! GitHub workflow commands (annotations).

use std::collections::BTreeMap;

use quick_xml::escape::escape;
use serde_json::{json, Value};

use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};
use crate::policy::Policy;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF 2.1.0: one run, rule metadata from the policy, a result per diagnostic.
pub fn sarif(report: &Report, policy: Option<&Policy>, lang: Lang) -> Value {
    let mut rule_ids: Vec<&str> = report.diagnostics.iter().map(|d| d.rule.as_str()).collect();
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
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut region = json!({"startLine": d.line, "startColumn": d.column});
            if let (Some(source), Some(span)) = (&d.source, d.span) {
                let (end_line, end_column) = source.line_col(span.end as usize);
                if (end_line, end_column) > (d.line, d.column) {
                    region["endLine"] = json!(end_line);
                    region["endColumn"] = json!(end_column);
                }
                region["snippet"] = json!({"text": source.line_text(d.line)});
            }
            let mut message = d.message.get(lang).to_owned();
            if let Some(help) = &d.help {
                message = format!("{message}\n{}", help.get(lang));
            }
            json!({
                "ruleId": d.rule,
                "ruleIndex": index.get(d.rule.as_str()).copied().unwrap_or(0),
                "level": level(d.severity),
                "kind": "fail",
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri(&d.file)},
                    "region": region,
                }}],
                "properties": {"origin": origin(d), "clause": d.clause.as_deref()},
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
        }]
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn origin(d: &Diagnostic) -> &'static str {
    match d.origin {
        Origin::Finding => "finding",
        Origin::Input => "input",
        Origin::Tool => "tool",
    }
}

/// Relative paths with forward slashes, as SARIF viewers resolve them.
fn uri(file: &str) -> String {
    file.trim_start_matches("./").replace('\\', "/")
}

/// JUnit XML: a test suite per rule (and one for input problems), a failing test case
/// per diagnostic; rules with no findings appear as one passing case.
pub fn junit(report: &Report, policy: Option<&Policy>, lang: Lang) -> String {
    let mut suites: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
    if let Some(p) = policy {
        for r in &p.rules {
            suites.entry(r.id.clone()).or_default();
        }
    }
    for d in &report.diagnostics {
        suites.entry(d.rule.clone()).or_default().push(d);
    }
    let failures: usize = suites.values().map(Vec::len).sum();
    let tests: usize = suites.values().map(|v| v.len().max(1)).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"spotlint\" tests=\"{tests}\" failures=\"{failures}\">\n"
    ));
    for (rule, found) in &suites {
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            escape(rule.as_str()),
            found.len().max(1),
            found.len()
        ));
        if found.is_empty() {
            xml.push_str(&format!(
                "    <testcase classname=\"{0}\" name=\"{0}\"/>\n",
                escape(rule.as_str())
            ));
        }
        for d in found {
            let location = format!("{}:{}:{}", d.file, d.line, d.column);
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(rule.as_str()),
                escape(location.as_str()),
                escape(d.file.as_str()),
                d.line,
                d.severity.as_str(),
                escape(d.message.get(lang)),
                escape(format!("{location}\n{}\n{}", d.message.get(lang), d.help.as_ref().map(|h| h.get(lang)).unwrap_or_default()).as_str()),
            ));
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
pub fn github(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{command} file={},line={},col={},title={}::{}\n",
            property(&uri(&d.file)),
            d.line,
            d.column,
            property(&d.rule),
            data(d.message.get(lang))
        ));
    }
    out
}

/// Escaping of workflow command data and properties, as the Actions toolkit does.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
