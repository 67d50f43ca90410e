//! `spotlint explain` and `spotlint rules`: rule documentation as policy staff read it.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::check;
use super::{choice, fail, EXIT_CLEAN, EXIT_ERROR};
use crate::report::Style;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    rule: String,
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: ListFormat,
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
}

pub fn explain_main(args: ExplainArgs, out: &mut dyn Write, style: Style) -> i32 {
    match check::load_policy(&choice(args.policy)) {
        Err(report) => fail(&report, args.lang, style, out),
        Ok(policy) => match policy.rule(&args.rule) {
            Some(r) => {
                let _ = writeln!(out, "{}", explain(&policy, r, args.lang));
                EXIT_CLEAN
            }
            None => {
                let hint =
                    crate::schema::suggest(&args.rule, policy.rules.iter().map(|r| r.id.as_str()));
                eprintln!(
                    "error: no rule `{}` in policy {}{hint}",
                    args.rule, policy.id
                );
                EXIT_ERROR
            }
        },
    }
}

pub fn rules_main(args: RulesArgs, out: &mut dyn Write, style: Style) -> i32 {
    match check::load_policy(&choice(args.policy)) {
        Err(report) => fail(&report, args.lang, style, out),
        Ok(policy) => {
            let _ = writeln!(
                out,
                "{}",
                list(&policy, args.format == ListFormat::Json, args.lang)
            );
            EXIT_CLEAN
        }
    }
}

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
