//! `spotlint explain` and `spotlint rules`: rule documentation as policy staff read it.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::check;
use super::{choice, fail, EXIT_CLEAN, EXIT_ERROR};
use crate::report::Style;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id, or a declarative check (deadline, required, count, allowed,
    /// reference, uscc, share, sample_size).
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
            None if checks::VOCABULARY.iter().any(|k| k.name == args.rule) => {
                let kind = checks::VOCABULARY.iter().find(|k| k.name == args.rule);
                let _ = write!(out, "{}", kind.map(explain_check).unwrap_or_default());
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
use crate::rules::checks;

pub fn explain(policy: &Policy, rule: &Rule, lang: Lang) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}/{} — {} / {}\n",
        rule.policy, rule.id, rule.title.zh, rule.title.en
    ));
    out.push_str(&format!("active policy: {}\n", policy.chain.join(" → ")));
    out.push_str(&format!(
        "severity: {}    on: {}    each: {}\n",
        rule.severity.as_str(),
        rule.on.join(", "),
        rule.each.as_str()
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
    let mut used: Vec<&'static checks::Kind> = Vec::new();
    match &rule.logic {
        Logic::Script { path, .. } => out.push_str(&format!("script: {path}\n\n")),
        Logic::Checks(node) => {
            let source = &node.tree.source;
            let key = node.tree.node(node.id).key_span.unwrap_or_default();
            let (line, _) = source.line_col(key.start as usize);
            let end = subtree_end(&node.tree, node.id);
            let (last, _) = source.line_col(end.saturating_sub(1));
            out.push_str(&format!("declarative ({}:{line}):\n", source.name));
            for n in line..=last.max(line) {
                let text = source.line_text(n);
                out.push_str(&format!("  {text}\n"));
                used.extend(checks::VOCABULARY.iter().filter(|k| {
                    text.trim_start()
                        .trim_start_matches("- ")
                        .starts_with(&format!("{}:", k.name))
                }));
            }
            out.push('\n');
        }
    }
    out.push_str(&rule.doc);
    for kind in used {
        out.push_str(&format!(
            "\n\n── check `{}`: {} (spotlint explain {})\n",
            kind.name, kind.summary, kind.name
        ));
    }
    out
}

/// Where the text of a node and everything under it ends.
fn subtree_end(tree: &crate::parse::tree::Tree, id: crate::parse::tree::NodeId) -> usize {
    use crate::parse::tree::Value;
    let mut end = tree.node(id).span.end as usize;
    let mut stack = vec![id];
    while let Some(at) = stack.pop() {
        end = end.max(tree.node(at).span.end as usize);
        match &tree.node(at).value {
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => stack.extend(entries.iter().map(|(_, v)| *v)),
            _ => {}
        }
    }
    end
}

/// The documentation of a check of the vocabulary.
pub fn explain_check(kind: &checks::Kind) -> String {
    format!(
        "check `{}` — {}\n\n{}\n",
        kind.name,
        kind.summary,
        checks::documentation(kind)
    )
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
