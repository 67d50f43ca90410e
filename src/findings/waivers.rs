//! Waivers: justified, approved, expiring exceptions. A waived finding is listed and
//! counted apart; an expired waiver is itself an error and an unused one a warning.
//!
//! ```yaml
//! kind: Waivers
//! waivers:
//!   - rule: result-entry-deadline
//!     file: results-JA-2024-001.yaml      # optional: the file (relative to this one)
//!     target: 91420102MA4K00001Q          # optional: record, object, person or task id
//!     reason: 平台故障期间无法录入，已报联席办备案
//!     approved_by: 江岸区市场监督管理局 法规科 张三
//!     expires_on: 2025-03-31
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::diag::{Diagnostic, Origin, Severity, Text, Waived};
use crate::parse::tree::{NodeId, Tree};
use crate::schema;

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub file: Option<PathBuf>,
    pub target: Option<String>,
    pub reason: String,
    pub approved_by: String,
    pub expires_on: NaiveDate,
    tree: Arc<Tree>,
    node: NodeId,
}

/// Reads the waivers of a validated `kind: Waivers` document.
pub fn from_tree(tree: Arc<Tree>) -> Vec<Waiver> {
    let dir = Path::new(&tree.source.name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let Some(list) = tree.get(tree.root, "waivers") else {
        return Vec::new();
    };
    tree.seq(list)
        .iter()
        .filter_map(|&node| {
            let text = |k: &str| tree.str_at(node, k).map(str::to_owned);
            Some(Waiver {
                rule: text("rule")?,
                file: text("file").map(|f| dir.join(f)),
                target: text("target"),
                reason: text("reason")?,
                approved_by: text("approved_by")?,
                expires_on: schema::parse_date(tree.str_at(node, "expires_on")?).ok()?,
                tree: Arc::clone(&tree),
                node,
            })
        })
        .collect()
}

fn same_file(a: &Path, b: &str) -> bool {
    let clean = |p: &Path| {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect::<PathBuf>()
    };
    clean(a) == clean(Path::new(b))
}

impl Waiver {
    fn matches(&self, d: &Diagnostic) -> bool {
        d.origin == Origin::Finding
            && d.rule == self.rule
            && self.file.as_deref().is_none_or(|f| same_file(f, &d.file))
            && self
                .target
                .as_deref()
                .is_none_or(|t| d.targets.iter().any(|x| x == t))
    }

    fn diagnostic(&self, code: &str, field: &str, severity: Severity, message: Text) -> Diagnostic {
        let (at, _) = self.tree.resolve(self.node, field);
        let mut d = Diagnostic::problem(
            Origin::Finding,
            code,
            &self.tree.source,
            self.tree.report_span(at),
            message,
        );
        d.severity = severity;
        d
    }
}

/// Sets aside the findings (`diagnostics[from..]`) that valid waivers cover; expired
/// waivers become errors and waivers that match nothing warnings, after the findings.
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    from: usize,
    waivers: &[Waiver],
    as_of: NaiveDate,
) -> Vec<Waived> {
    // A run without waivers keeps every finding where it is (there may be a hundred
    // thousand).
    if waivers.is_empty() {
        return Vec::new();
    }
    let findings = diagnostics.split_off(from.min(diagnostics.len()));
    let kept = diagnostics;
    let mut waived = Vec::new();
    let mut used = vec![false; waivers.len()];
    for d in findings {
        let hit = waivers
            .iter()
            .enumerate()
            .find(|(_, w)| w.expires_on >= as_of && w.matches(&d));
        match hit {
            Some((i, w)) => {
                used[i] = true;
                waived.push(Waived {
                    diagnostic: d,
                    reason: w.reason.clone(),
                    approved_by: w.approved_by.clone(),
                    expires_on: w.expires_on,
                });
            }
            None => kept.push(d),
        }
    }
    for (w, used) in waivers.iter().zip(used) {
        if w.expires_on < as_of {
            kept.push(w.diagnostic(
                "waiver/expired",
                "expires_on",
                Severity::Error,
                Text::new(
                    format!("规则 `{}` 的豁免已于 {} 到期（批准人：{}），被豁免的问题须整改或重新审批", w.rule, w.expires_on, w.approved_by),
                    format!("the waiver for `{}` expired on {} (approved by {}); fix the findings or renew the approval", w.rule, w.expires_on, w.approved_by),
                ),
            ));
        } else if !used {
            kept.push(w.diagnostic(
                "waiver/unused",
                "rule",
                Severity::Warning,
                Text::new(
                    format!("规则 `{}` 的豁免未匹配任何问题，可删除", w.rule),
                    format!("the waiver for `{}` matches no finding; remove it", w.rule),
                ),
            ));
        }
    }
    waived
}
