//! `explain` and `rules`: rule documentation as policy staff read it.

use serde_json::json;

use crate::diag::Lang;
use crate::policy::{param_text, Logic, Policy, Rule};

pub fn explain(policy: &Policy, rule: &Rule, lang: Lang) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}/{} — {} / {}\n",
        rule.policy, rule.id, rule.title.zh, rule.title.en
    ));
    out.push_str(&format!("active policy: {}\n", policy.chain.join(" → ")));
    out.push_str(&format!(
        "severity: {}    on: {}    each: {:?}\n",
        rule.severity.as_str(),
        rule.on.join(", "),
        rule.each
    ));
    out.push_str(&format!(
        "clause: {} {}\n  「{}」\n",
        rule.source, rule.clause, rule.quote
    ));
    if !rule.params.is_empty() {
        out.push_str(if lang == Lang::Zh {
            "参数（当前规则集的取值）:\n"
        } else {
            "parameters (values in the active policy):\n"
        });
        let mut names: Vec<_> = rule.params.values.keys().collect();
        names.sort();
        for name in names {
            out.push_str(&format!(
                "  {name} = {}\n",
                param_text(&rule.params.values[name])
            ));
        }
    }
    out.push_str(&format!(
        "message: {}\nhelp: {}\n",
        rule.messages
            .get("default")
            .map(|m| m.get(lang))
            .unwrap_or_default(),
        rule.help.get(lang)
    ));
    match &rule.logic {
        Logic::Script { path, .. } => out.push_str(&format!("script: {path}\n\n")),
        Logic::Checks(node) => {
            let (line, _) = node
                .tree
                .source
                .line_col(node.tree.report_span(node.id).start as usize);
            out.push_str(&format!(
                "check: declarative ({}:{line})\n\n",
                node.tree.source.name
            ));
        }
    }
    out.push_str(&rule.doc);
    out
}

/// JSON Schema of a document kind or of the policy-side formats.
pub fn schema_for(kind: &str) -> Option<serde_json::Value> {
    let schema = match kind {
        "Policy" => &crate::policy::POLICY_SCHEMA,
        "Waivers" => &crate::schema::WAIVERS_SCHEMA,
        "PolicyTest" => &crate::commands::test::TEST_SCHEMA,
        other => crate::schema::kind_schema(other)?,
    };
    Some(crate::schema::json_schema(schema))
}

pub fn list(policy: &Policy, as_json: bool, lang: Lang) -> String {
    match as_json {
        true => {
            let rules: Vec<_> = policy
                .rules
                .iter()
                .map(|r| json!({"id": r.id, "policy": r.policy, "severity": r.severity, "clause": r.clause, "title": {"zh": r.title.zh, "en": r.title.en}, "on": r.on, "params": r.params.values.iter().map(|(k, v)| (k.to_string(), param_text(v))).collect::<std::collections::BTreeMap<_, _>>()}))
                .collect();
            serde_json::to_string_pretty(
                &json!({"policy": policy.id, "chain": policy.chain, "rules": rules}),
            )
            .unwrap_or_default()
        }
        false => policy
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{:<30} {:<8} {:<8} {}",
                    r.id,
                    r.severity.as_str(),
                    r.clause,
                    r.title.get(lang)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
