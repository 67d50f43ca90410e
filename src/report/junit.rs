//! JUnit XML for CI test tabs.

use std::collections::BTreeMap;

use quick_xml::escape;

use super::inert;

/// XML text: characters XML cannot hold written out, then markup escaped.
fn escape(text: &str) -> String {
    escape::escape(inert::xml_safe(text).as_ref()).into_owned()
}

use crate::diag::{Diagnostic, Lang, Report};
use crate::policy::Policy;

pub fn junit(report: &Report, policy: Option<&Policy>, lang: Lang) -> String {
    let mut suites: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
    if let Some(p) = policy {
        for r in &p.rules {
            suites.entry(r.id.clone()).or_default();
        }
    }
    for d in &report.diagnostics {
        suites.entry(d.rule.to_string()).or_default().push(d);
    }
    // Findings past the per-rule limit count as failures, though they are not listed
    // (unless a waiver sets the whole rule aside).
    let not_kept = |rule: &str| {
        report
            .not_kept
            .iter()
            .find(|n| n.rule == rule && !n.waived)
            .map_or(0, |n| usize::try_from(n.not_kept).unwrap_or(usize::MAX))
    };
    let failures: usize = suites
        .iter()
        .map(|(rule, found)| found.len().saturating_add(not_kept(rule)))
        .sum();
    let tests: usize = suites
        .iter()
        .map(|(rule, found)| found.len().saturating_add(not_kept(rule)).max(1))
        .sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"spotlint\" tests=\"{tests}\" failures=\"{failures}\">\n"
    ));
    for (rule, found) in &suites {
        let failed = found.len().saturating_add(not_kept(rule));
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            escape(rule.as_str()),
            failed.max(1),
            failed
        ));
        let note = report.not_kept.iter().find(|n| n.rule == *rule);
        if let Some(n) = note {
            xml.push_str(&format!(
                "    <properties>\n      <property name=\"not_kept\" value=\"{}\"/>\n    </properties>\n",
                n.not_kept
            ));
        }
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
        if let Some(n) = note {
            xml.push_str(&format!(
                "    <system-out>{}</system-out>\n",
                escape(n.note().get(lang))
            ));
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}
