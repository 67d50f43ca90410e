//! Waivers: justified, approved, expiring exceptions. A waived finding is listed and
//! counted apart; an expired waiver is itself an error and an unused one a warning.
//!
//! Waivers are the reviewer's, not the submitter's: a waiver file named by `--waivers`
//! applies; one found among the checked files applies only where the policy says
//! `waivers: {beside_submission: true}`, and is otherwise listed as not applied. The
//! policy also says who may approve (`approvers`), the longest validity (`max_days`)
//! and whether a waiver may cover a whole rule (`scope: rule`) or must name its
//! record (`scope: record`, the default); a waiver beyond that is an error and waives
//! nothing.
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::diag::{Diagnostic, Origin, Severity, Text, Waived};
use crate::parse::tree::{NodeId, Tree};
use crate::policy::WaiverPolicy;
use crate::schema;

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub file: Option<PathBuf>,
    pub target: Option<String>,
    pub reason: String,
    pub approved_by: String,
    pub expires_on: NaiveDate,
    /// Named by `--waivers` (the reviewer's), not found among the checked files.
    pub trusted: bool,
    tree: Arc<Tree>,
    node: NodeId,
}

/// Reads the waivers of a validated `kind: Waivers` document.
pub fn from_tree(tree: Arc<Tree>, trusted: bool) -> Vec<Waiver> {
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
                trusted,
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

    /// Why the policy does not let this waiver apply, if it does not.
    fn refusal(&self, allowed: &WaiverPolicy, as_of: NaiveDate) -> Option<Diagnostic> {
        let rule = &self.rule;
        if !self.trusted && !allowed.beside_submission {
            return Some(self.diagnostic(
                "waiver/not-applied",
                "rule",
                Severity::Warning,
                Text::new(
                    format!("随报送材料提交的规则 `{rule}` 豁免不予适用：豁免须由审核方以 --waivers 提供，或由规则集允许（waivers: {{beside_submission: true}}）"),
                    format!("the waiver for `{rule}` found among the checked files is not applied: waivers come from the reviewer (--waivers) unless the policy allows them beside the submission (waivers: {{beside_submission: true}})"),
                ),
            ));
        }
        if !allowed.approvers.is_empty()
            && !allowed
                .approvers
                .iter()
                .any(|a| self.approved_by.contains(a.as_str()))
        {
            let who = allowed.approvers.join("、");
            return Some(self.not_allowed(
                "approved_by",
                format!("规则 `{rule}` 的豁免由「{}」批准，规则集只认可：{who}", self.approved_by),
                format!("the waiver for `{rule}` is approved by “{}”; the policy accepts approval by: {}", self.approved_by, allowed.approvers.join("; ")),
            ));
        }
        if let Some(max) = allowed.max_days {
            let days = (self.expires_on - as_of).num_days();
            if days > max {
                return Some(self.not_allowed(
                    "expires_on",
                    format!("规则 `{rule}` 的豁免有效至 {}，超过规则集允许的最长 {max} 天", self.expires_on),
                    format!("the waiver for `{rule}` runs to {}, beyond the {max} days the policy allows", self.expires_on),
                ));
            }
        }
        if !allowed.whole_rule && self.target.is_none() {
            return Some(self.not_allowed(
                "rule",
                format!("规则 `{rule}` 的豁免没有写明 target（记录、对象、人员或任务编号）：规则集不允许豁免整条规则"),
                format!("the waiver for `{rule}` names no target (record, object, person or task id): the policy does not allow waiving a whole rule"),
            ));
        }
        None
    }

    fn not_allowed(&self, field: &str, zh: String, en: String) -> Diagnostic {
        self.diagnostic(
            "waiver/not-allowed",
            field,
            Severity::Error,
            Text::new(zh, en),
        )
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

/// Whether a waiver the policy allows, unexpired, covers every finding of `rule` in every
/// file: findings past the per-rule limit, never listed, are then set aside with it.
pub fn covers_whole_rule(
    waivers: &[Waiver],
    rule: &str,
    (allowed, as_of): (&WaiverPolicy, NaiveDate),
) -> bool {
    waivers.iter().any(|w| {
        w.rule == rule
            && w.target.is_none()
            && w.file.is_none()
            && w.expires_on >= as_of
            && w.refusal(allowed, as_of).is_none()
    })
}

/// Sets aside the findings (`diagnostics[from..]`) that valid waivers cover; expired
/// waivers become errors and waivers that match nothing warnings, after the findings.
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    from: usize,
    waivers: &[Waiver],
    (allowed, as_of): (&WaiverPolicy, NaiveDate),
) -> Vec<Waived> {
    // A run without waivers keeps every finding where it is (there may be a hundred
    // thousand).
    if waivers.is_empty() {
        return Vec::new();
    }
    let findings = diagnostics.split_off(from.min(diagnostics.len()));
    let kept = diagnostics;
    // Waivers the policy does not allow are reported and waive nothing.
    let mut refused = Vec::new();
    let waivers: Vec<&Waiver> = waivers
        .iter()
        .filter(|w| match w.refusal(allowed, as_of) {
            Some(d) => {
                refused.push(d);
                false
            }
            None => true,
        })
        .collect();
    let index = Index::new(&waivers, as_of);
    let mut waived = Vec::new();
    let mut used = vec![false; waivers.len()];
    for d in findings {
        match index.first_match(&waivers, &d) {
            Some(i) => {
                used[i] = true;
                let w = waivers[i];
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
    kept.extend(refused);
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

/// The unexpired waivers by rule and target, so that each finding is compared only
/// with the waivers that could cover it: a run of many findings against many waivers
/// stays linear in their sum.
struct Index<'w> {
    /// Waivers naming a target, by (rule, target), in file order.
    targeted: HashMap<(&'w str, &'w str), Vec<usize>>,
    /// Waivers covering a whole rule, by rule, in file order.
    whole: HashMap<&'w str, Vec<usize>>,
}

impl<'w> Index<'w> {
    fn new(waivers: &[&'w Waiver], as_of: NaiveDate) -> Self {
        let mut index = Index {
            targeted: HashMap::new(),
            whole: HashMap::new(),
        };
        for (i, w) in waivers.iter().enumerate() {
            if w.expires_on < as_of {
                continue;
            }
            match w.target.as_deref() {
                Some(t) => index.targeted.entry((&w.rule, t)).or_default().push(i),
                None => index.whole.entry(&w.rule).or_default().push(i),
            }
        }
        index
    }

    /// The first waiver in file order that covers `d`, as a linear scan would find.
    fn first_match(&self, waivers: &[&Waiver], d: &Diagnostic) -> Option<usize> {
        if d.origin != Origin::Finding {
            return None;
        }
        let first = |ids: Option<&Vec<usize>>| {
            ids.and_then(|ids| ids.iter().copied().find(|&i| waivers[i].matches(d)))
        };
        let rule = d.rule.as_str();
        d.targets
            .iter()
            .filter_map(|t| first(self.targeted.get(&(rule, t.as_str()))))
            .chain(first(self.whole.get(rule)))
            .min()
    }
}
