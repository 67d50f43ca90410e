//! Declarative checks: the shapes a notice keeps using, written in the policy and run
//! natively. A rule's `check:` (or `checks:`, a list) names one of them with its
//! options:
//!
//! ```yaml
//! check:
//!   deadline: {start: finished_on, end: entered_on, working_days: $working_days}
//!   when: {problem: true}        # optional: only records where this holds
//!   on: Results                  # optional: one of the rule's kinds
//!   each: document               # optional: record (default), document, submission
//!   message: late                # optional: the message key of its findings
//! ```
//!
//! Options are typed and checked when the policy loads; `$name` takes the rule's
//! parameter `name`. Each check is one file below, with its documentation.

use std::sync::Arc;

use crate::diag::{Diagnostic, Origin, Text};
use crate::parse::tree::{NodeRef, Value};
use crate::policy::{Each, Rule};
use crate::read::record::Rec;
use crate::schema::{self, KindSchema};

use super::{CompiledRule, Cx, Out, Provided};

mod allowed;
mod count;
mod deadline;
mod opts;
pub mod path;
mod reference;
mod required;
mod sample_size;
mod share;
mod uscc;
pub mod when;

use opts::Opts;
use when::Cond;

/// A check of the vocabulary: its name, what it runs on, and its documentation.
pub struct Kind {
    pub name: &'static str,
    pub summary: &'static str,
    /// The `//!` documentation of its file.
    pub doc: &'static str,
    /// What it may run on; the first is the default.
    pub each: &'static [Each],
}

/// The vocabulary.
pub const VOCABULARY: &[Kind] = &[
    Kind {
        name: "deadline",
        summary: "a date within so many working or calendar days of another, optionally capped",
        doc: include_str!("deadline.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "required",
        summary: "fields (or a group of them) that must be given",
        doc: include_str!("required.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "count",
        summary: "a list with at least (or at most) so many (distinct) items",
        doc: include_str!("count.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "allowed",
        summary: "a value among those allowed, possibly depending on another field",
        doc: include_str!("allowed.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "reference",
        summary: "a value that must name a record of another document, with conditions on it",
        doc: include_str!("reference.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "uscc",
        summary: "a unified social credit code (GB 32100-2015)",
        doc: include_str!("uscc.rs"),
        each: &[Each::Record, Each::Document],
    },
    Kind {
        name: "share",
        summary: "a share or rate over a set, against a threshold: a compliance figure",
        doc: include_str!("share.rs"),
        each: &[Each::Submission, Each::Document],
    },
    Kind {
        name: "sample_size",
        summary: "the objects inspected per task against the plan's ratio, by risk class",
        doc: include_str!("sample_size.rs"),
        each: &[Each::Submission],
    },
];

/// The documentation of a check, from its file's `//!` header.
pub fn documentation(kind: &Kind) -> String {
    crate::policy::doc_header(kind.doc)
}

#[derive(Debug)]
enum Check {
    Deadline(deadline::Deadline),
    Required(required::Required),
    Count(count::Count),
    Allowed(allowed::Allowed),
    Reference(reference::Reference),
    Uscc(uscc::Uscc),
    Share(share::Share),
    SampleSize(sample_size::SampleSize),
}

/// A check of a rule, ready to run.
#[derive(Debug)]
pub struct Entry {
    check: Check,
    when: Option<Cond>,
    on: Vec<&'static str>,
    pub each: Each,
    /// The message key of its findings.
    message: String,
    /// The kinds whose records, and whose documents, it reads, as bits: asked for
    /// every record.
    records_of: u8,
    documents_of: u8,
}

/// Reads a rule's `check:` or `checks:`.
pub fn compile(
    rule: &Rule,
    spec: &NodeRef,
    (errors, memo_slots): (&mut Vec<Diagnostic>, &mut usize),
) -> Option<Vec<Entry>> {
    let tree = Arc::clone(&spec.tree);
    let items: Vec<NodeRef> = match &tree.node(spec.id).value {
        Value::Seq(items) => items
            .iter()
            .map(|id| NodeRef {
                tree: Arc::clone(&tree),
                id: *id,
            })
            .collect(),
        _ => vec![spec.clone()],
    };
    let before = errors.len();
    let entries: Vec<Entry> = items
        .iter()
        .filter_map(|item| entry(rule, item, (errors, memo_slots)))
        .collect();
    if entries.is_empty() && errors.len() == before {
        errors.push(problem(
            spec,
            format!("规则 `{}` 的 `checks` 是空的", rule.id),
            format!("rule `{}` has an empty `checks`", rule.id),
        ));
    }
    (errors.len() == before).then_some(entries)
}

fn problem(at: &NodeRef, zh: String, en: String) -> Diagnostic {
    Diagnostic::problem(
        Origin::Tool,
        "policy/check",
        &at.tree.source,
        at.tree.report_span(at.id),
        Text::new(zh, en),
    )
}

fn entry(
    rule: &Rule,
    at: &NodeRef,
    (errors, memo_slots): (&mut Vec<Diagnostic>, &mut usize),
) -> Option<Entry> {
    let tree = Arc::clone(&at.tree);
    let Value::Map(keys) = &tree.node(at.id).value else {
        errors.push(problem(
            at,
            format!("规则 `{}` 的检查应为映射，如 `deadline: {{…}}`", rule.id),
            format!(
                "a check of rule `{}` must be a mapping, such as `deadline: {{…}}`",
                rule.id
            ),
        ));
        return None;
    };
    const GENERAL: [&str; 4] = ["when", "on", "each", "message"];
    let named: Vec<(&Kind, NodeRef)> = keys
        .iter()
        .filter(|(k, _)| !GENERAL.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            let kind = VOCABULARY.iter().find(|c| c.name == k.as_str());
            if kind.is_none() {
                let hint = schema::suggest(k, VOCABULARY.iter().map(|c| c.name).chain(GENERAL));
                let span = tree.key_or_report_span(*v);
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/check",
                    &tree.source,
                    span,
                    Text::new(
                        format!("规则 `{}`：未知的检查 `{k}`{hint}", rule.id),
                        format!("rule `{}`: unknown check `{k}`{hint}", rule.id),
                    ),
                ));
            }
            kind.map(|kind| {
                (
                    kind,
                    NodeRef {
                        tree: Arc::clone(&tree),
                        id: *v,
                    },
                )
            })
        })
        .collect();
    let [(kind, options)] = named.as_slice() else {
        if named.len() > 1 {
            errors.push(problem(
                at,
                format!(
                    "规则 `{}`：一项检查只能有一种检查，多项请写在 `checks:` 列表中",
                    rule.id
                ),
                format!(
                    "rule `{}`: one check per entry; list several under `checks:`",
                    rule.id
                ),
            ));
        } else if keys.iter().all(|(k, _)| GENERAL.contains(&k.as_str())) {
            errors.push(problem(
                at,
                format!("规则 `{}` 的检查没有写明检查种类（deadline、required、count、allowed、reference、uscc、share、sample_size）", rule.id),
                format!("a check of rule `{}` names no kind of check (deadline, required, count, allowed, reference, uscc, share, sample_size)", rule.id),
            ));
        }
        return None;
    };
    let general = |key: &str| tree.get_present(at.id, key);
    let mut failed = false;
    let on: Vec<&'static str> = match general("on") {
        Some(node) => {
            let names: Vec<String> = match &tree.node(node).value {
                Value::Str(s) => vec![s.to_string()],
                Value::Seq(items) => items
                    .iter()
                    .filter_map(|i| tree.text(*i).map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let kinds: Vec<&'static str> = rule
                .on
                .iter()
                .copied()
                .filter(|k| names.iter().any(|n| n == k))
                .collect();
            if kinds.is_empty() || kinds.len() != names.len() {
                failed = true;
                errors.push(problem(
                    &NodeRef {
                        tree: Arc::clone(&tree),
                        id: node,
                    },
                    format!(
                        "`on` 应为本规则 `on` 中的文档类型（{}）",
                        rule.on.join("、")
                    ),
                    format!(
                        "`on` must name kinds of the rule's `on` ({})",
                        rule.on.join(", ")
                    ),
                ));
            }
            kinds
        }
        None => rule.on.clone(),
    };
    let each = match general("each").and_then(|n| tree.text(n)) {
        Some("record") => Each::Record,
        Some("document") => Each::Document,
        Some("submission") => Each::Submission,
        Some(_) => {
            failed = true;
            errors.push(problem(
                at,
                "`each` 应为 record、document 或 submission".into(),
                "`each` must be record, document or submission".into(),
            ));
            Each::Record
        }
        None if rule.each != Each::Record && kind.each.contains(&rule.each) => rule.each,
        None => kind.each[0],
    };
    if !kind.each.contains(&each) {
        let allowed: Vec<&str> = kind.each.iter().map(|e| e.as_str()).collect();
        errors.push(problem(
            at,
            format!(
                "规则 `{}`：检查 `{}` 只能用于 {}",
                rule.id,
                kind.name,
                allowed.join("、")
            ),
            format!(
                "rule `{}`: the check `{}` runs on {} only",
                rule.id,
                kind.name,
                allowed.join(" or ")
            ),
        ));
        return None;
    }
    let message = match general("message") {
        Some(node) => match tree.text(node) {
            Some(key) => key.to_owned(),
            None => {
                failed = true;
                errors.push(problem(
                    at,
                    "`message` 应为提示键（messages 中的键）".into(),
                    "`message` must be a message key (a key of `messages`)".into(),
                ));
                String::new()
            }
        },
        None => "default".to_owned(),
    };
    let kinds: Vec<&'static KindSchema> =
        on.iter().filter_map(|k| schema::kind_schema(k)).collect();
    let mut opts = Opts::new(
        rule,
        kind.name,
        options.clone(),
        (kinds.clone(), each),
        (errors, memo_slots),
    );
    let when = match general("when") {
        Some(node) => Cond::parse(
            &mut opts,
            &NodeRef {
                tree: Arc::clone(&tree),
                id: node,
            },
            each,
        ),
        None => None,
    };
    let check = match kind.name {
        "deadline" => deadline::Deadline::parse(&mut opts).map(Check::Deadline),
        "required" => required::Required::parse(&mut opts).map(Check::Required),
        "count" => count::Count::parse(&mut opts).map(Check::Count),
        "allowed" => allowed::Allowed::parse(&mut opts).map(Check::Allowed),
        "reference" => reference::Reference::parse(&mut opts).map(Check::Reference),
        "uscc" => uscc::Uscc::parse(&mut opts).map(Check::Uscc),
        "share" => share::Share::parse(&mut opts).map(Check::Share),
        _ => sample_size::SampleSize::parse(&mut opts).map(Check::SampleSize),
    };
    // Options left unread are unknown, unless the check stopped reading at an error.
    let valid = check.is_some() && opts.finish();
    if failed || !valid {
        return None;
    }
    let mut entry = Entry {
        check: check?,
        when,
        on,
        each,
        message,
        records_of: 0,
        documents_of: 0,
    };
    for kind in crate::policy::spec::KIND_NAMES {
        if entry.reads_records_of(kind) {
            entry.records_of |= schema::kind_bit(kind);
        }
        if entry.reads_documents_of(kind) {
            entry.documents_of |= schema::kind_bit(kind);
        }
    }
    Some(entry)
}

/// What the checks of a rule report, for checking its messages.
pub fn provided(entries: &[Entry]) -> Vec<Provided> {
    entries
        .iter()
        .flat_map(|e| {
            let (m, each) = (e.message.as_str(), e.each);
            match &e.check {
                Check::Deadline(c) => c.provided(m, each),
                Check::Required(c) => c.provided(m, each),
                Check::Count(c) => c.provided(m, each),
                Check::Allowed(c) => c.provided(m, each),
                Check::Reference(c) => c.provided(m, each),
                Check::Uscc(c) => c.provided(m, each),
                Check::Share(c) => c.provided(m, each),
                Check::SampleSize(c) => c.provided(m),
            }
        })
        .collect()
}

impl Entry {
    pub fn reads_records_of(&self, kind: &str) -> bool {
        let records = match &self.check {
            Check::Share(s) => s.over_records(),
            // The objects results name, by task.
            Check::SampleSize(_) => return kind == "Results" && self.on.contains(&kind),
            _ => self.each == Each::Record,
        };
        records && self.on.contains(&kind)
    }

    pub fn reads_documents_of(&self, kind: &str) -> bool {
        match &self.check {
            Check::SampleSize(_) => kind == "Results" && self.on.contains(&kind),
            _ => self.each == Each::Document && self.on.contains(&kind),
        }
    }

    fn applies(&self, rec: Rec, cx: &Cx) -> bool {
        self.when.as_ref().is_none_or(|w| w.holds(rec, cx))
    }

    pub fn record(&self, rule: &CompiledRule, r: Rec, cx: &Cx, out: &mut Out) {
        if self.records_of & cx.kind_bit == 0 || !self.applies(r, cx) {
            return;
        }
        self.run(rule, r, cx, out);
    }

    /// Whether [`Entry::warm`] does anything for records of the kind.
    pub fn warms(&self, kind_bit: u8) -> bool {
        matches!(self.check, Check::Reference(_)) && self.records_of & kind_bit != 0
    }

    /// Brings what the record's check will look up into the cache, ahead of it.
    pub fn warm(&self, r: Rec, cx: &Cx) {
        if let (Check::Reference(c), true) = (&self.check, self.warms(cx.kind_bit)) {
            c.warm(r, cx);
        }
    }

    pub fn document(&self, rule: &CompiledRule, doc: Rec, cx: &Cx, out: &mut Out) {
        if self.documents_of & cx.kind_bit == 0 || !self.applies(doc, cx) {
            return;
        }
        match &self.check {
            Check::SampleSize(c) => c.document(doc, out),
            _ => self.run(rule, doc, cx, out),
        }
    }

    fn run(&self, rule: &CompiledRule, rec: Rec, cx: &Cx, out: &mut Out) {
        let m = &self.message;
        match &self.check {
            Check::Deadline(c) => c.check(rule, m, rec, cx, out),
            Check::Required(c) => c.check(rule, m, rec, cx, out),
            Check::Count(c) => c.check(rule, m, rec, cx, out),
            Check::Allowed(c) => c.check(rule, m, rec, cx, out),
            Check::Reference(c) => c.check(rule, m, rec, cx, out),
            Check::Uscc(c) => c.check(rule, m, rec, cx, out),
            Check::Share(c) if self.each == Each::Document => c.document(rule, m, rec, cx, out),
            Check::Share(c) => c.element(rule, rec, cx, out),
            Check::SampleSize(c) => c.record(rec, cx, out),
        }
    }

    pub fn submission(&self, rule: &CompiledRule, cx: &Cx, out: &mut Out) {
        match &self.check {
            Check::Share(c) if c.over_records() => c.total(rule, &self.message, cx, out),
            Check::SampleSize(c) => c.check(rule, &self.message, cx, out),
            _ => {}
        }
    }
}

/// A date as written in documents: `YYYY-MM-DD`.
pub fn iso(d: chrono::NaiveDate) -> String {
    crate::schema::format_date(d)
}
