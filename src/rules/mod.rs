//! The rules' logic, compiled once per policy: declarative checks ([`checks`]), run
//! natively, and Rhai scripts ([`script`]), run in a sandboxed engine. Both are called
//! the same way — per record, per document, per submission — on documents and on rows
//! of streamed tables alike, so a rule is as fast and as streaming whichever it is.

use std::collections::BTreeMap;

use rhai::Dynamic;

use crate::diag::{Diagnostic, Origin, Text};
use crate::domain::calendar::Calendar;
use crate::parse::tree::NodeRef;
use crate::policy::{Each, Logic, Policy, Rule};
use crate::read::record::Rec;
use crate::submission::{Found, Submission};
use message::FindingValues;

pub mod checks;
pub mod message;
pub mod out;
pub mod script;

pub use out::Out;
pub use script::Limits;

/// What a rule is given besides the record: the evaluation date, the calendar, the
/// submission (its indexes), and the document being checked.
pub struct Cx<'a> {
    /// `YYYY-MM-DD`, as dates are written, and as a date.
    pub as_of: &'a str,
    pub as_of_date: Option<chrono::NaiveDate>,
    pub calendar: &'a Calendar,
    pub submission: &'a Submission,
    /// The document being checked (record and document phases).
    pub doc: Option<Rec<'a>>,
    /// Its `kind`, read once, and as a bit ([`crate::schema::kind_bit`]).
    pub doc_kind: Option<&'a str>,
    pub kind_bit: u8,
    /// Its `task`, read once, and the plan task it names, looked up once.
    pub doc_task_id: Option<&'a str>,
    pub doc_task: Option<Found<'a>>,
}

impl<'a> Cx<'a> {
    pub fn new(
        as_of: &'a str,
        calendar: &'a Calendar,
        submission: &'a Submission,
        doc: Option<Rec<'a>>,
    ) -> Cx<'a> {
        let doc_kind = doc.and_then(|d| d.str("kind"));
        let doc_task_id = doc.and_then(|d| d.str("task"));
        Cx {
            as_of,
            as_of_date: crate::schema::parse_date(as_of).ok(),
            calendar,
            submission,
            doc,
            doc_kind,
            kind_bit: doc_kind.map_or(0, crate::schema::kind_bit),
            doc_task_id,
            doc_task: doc_task_id.and_then(|task| submission.tasks.get(task)),
        }
    }
}

/// A rule, ready to run.
pub struct CompiledRule {
    pub rule: Rule,
    logic: Compiled,
    /// Per message key, the placeholders that name fields of the reported record
    /// (filled from it when a finding is made), with their paths parsed once.
    from_record: BTreeMap<String, Vec<RecordPlaceholder>>,
    /// Per message key, every placeholder of its message.
    placeholders: BTreeMap<String, Vec<String>>,
    /// Per message key, the values a finding's message and the help show: the only
    /// ones kept with it (a check reports all it has; a run keeps tens of thousands).
    shown: BTreeMap<String, Vec<String>>,
    /// Findings kept (the rest are counted): a rule that fires on every one of a
    /// million records must not hold a million findings.
    pub max_findings: usize,
    texts: out::RuleTexts,
}

enum Compiled {
    Checks(Vec<checks::Entry>),
    Script(Box<script::ScriptRule>),
}

impl CompiledRule {
    /// Whether the record phase runs on documents of `kind`.
    pub fn reads_records_of(&self, kind: &str) -> bool {
        match &self.logic {
            Compiled::Checks(entries) => entries.iter().any(|e| e.reads_records_of(kind)),
            Compiled::Script(s) => s.reads_records_of(&self.rule, kind),
        }
    }

    /// Whether the document phase runs on documents of `kind`.
    pub fn reads_documents_of(&self, kind: &str) -> bool {
        match &self.logic {
            Compiled::Checks(entries) => entries.iter().any(|e| e.reads_documents_of(kind)),
            Compiled::Script(s) => s.reads_documents_of(&self.rule, kind),
        }
    }

    /// Whether the rule has a whole-submission phase.
    pub fn reads_submission(&self) -> bool {
        match &self.logic {
            Compiled::Checks(entries) => entries.iter().any(|e| e.each == Each::Submission),
            Compiled::Script(_) => self.rule.each == Each::Submission,
        }
    }

    /// Whether the rule reads Results in any phase (or as a whole submission).
    pub fn reads_results(&self) -> bool {
        self.rule.on.contains(&"Results")
    }

    pub fn document(&self, doc: Rec, cx: &Cx, out: &mut Out) {
        match &self.logic {
            Compiled::Checks(entries) => {
                for e in entries {
                    e.document(self, doc, cx, out);
                }
            }
            Compiled::Script(s) => s.document(self, doc, cx, out),
        }
    }

    /// Whether the rule takes a document's records in batches ([`CompiledRule::records`]),
    /// as scripts do, rather than one at a time ([`CompiledRule::record`]).
    pub fn takes_batches(&self) -> bool {
        matches!(self.logic, Compiled::Script(_))
    }

    /// Whether [`CompiledRule::warm`] does anything for records of the kind.
    pub fn warms(&self, kind_bit: u8) -> bool {
        match &self.logic {
            Compiled::Checks(entries) => entries.iter().any(|e| e.warms(kind_bit)),
            Compiled::Script(_) => false,
        }
    }

    /// Brings what [`CompiledRule::record`] will look up for `r` into the cache.
    pub fn warm(&self, r: Rec, cx: &Cx) {
        if let Compiled::Checks(entries) = &self.logic {
            for e in entries {
                e.warm(r, cx);
            }
        }
    }

    /// One record (checks; a script takes records in batches).
    pub fn record(&self, r: Rec, cx: &Cx, out: &mut Out) {
        if let Compiled::Checks(entries) = &self.logic {
            for e in entries {
                e.record(self, r, cx, out);
            }
        }
    }

    /// The records of a document, or of a chunk of it.
    pub fn records(&self, records: &[Rec], cx: &Cx, out: &mut Out) {
        match &self.logic {
            Compiled::Checks(_) => {
                for r in records {
                    self.record(*r, cx, out);
                }
            }
            Compiled::Script(s) => s.records(self, records, cx, out),
        }
    }

    /// The whole-submission phase, after every record and document phase: `out` holds
    /// what those gave (tallies and aggregates included).
    pub fn submission(&self, cx: &Cx, out: &mut Out) {
        match &self.logic {
            Compiled::Checks(entries) => {
                for e in entries {
                    e.submission(self, cx, out);
                }
            }
            Compiled::Script(s) => s.submission(self, cx, out),
        }
    }

    /// Reports a finding about `field` of `at`; placeholders of its message that name
    /// fields of `at` are filled from it.
    pub fn report(
        &self,
        out: &mut Out,
        cx: &Cx,
        at: &Rec,
        field: &str,
        key: &str,
        values: FindingValues,
    ) {
        if self.keeps(out, at) {
            self.report_kept(out, cx, at, field, key, values);
        }
    }

    /// Whether a finding at `at` is made: a streamed chunk makes only as many as the
    /// room its earlier chunks left; past it a finding is counted, and its values are
    /// not worked out (a rule may find at a hundred thousand records).
    pub fn keeps(&self, out: &mut Out, at: &Rec) -> bool {
        if let (Some(rows), Some(row)) = (out.rows.as_mut(), at.row_index()) {
            if !rows.keeps(row) {
                out.not_kept += 1;
                return false;
            }
        }
        true
    }

    /// [`CompiledRule::report`] of a finding [`CompiledRule::keeps`] made.
    pub fn report_kept(
        &self,
        out: &mut Out,
        cx: &Cx,
        at: &Rec,
        field: &str,
        key: &str,
        mut values: FindingValues,
    ) {
        // Twice the limit before choosing the first: one output's findings come in
        // the order they are made, not of their places.
        if out.findings.len() >= self.max_findings.saturating_mul(2) {
            out::keep_first(&mut out.findings, self.max_findings, &mut out.not_kept);
        }
        let key = if self.rule.messages.contains_key(key) {
            key
        } else {
            "default"
        };
        if let Some(placeholders) = self.from_record.get(key) {
            for placeholder in placeholders {
                if !values.contains_key(placeholder.name.as_str()) {
                    // `{name|uscc|id}`: the first that is given.
                    let value = placeholder
                        .paths
                        .iter()
                        .map(|path| out::value_at(at, cx, path))
                        .find(|v| !v.is_unit())
                        .unwrap_or(Dynamic::UNIT);
                    values.insert(placeholder.name.as_str().into(), value);
                }
            }
        }
        if let Some(shown) = self.shown.get(key) {
            values.retain(|name| shown.iter().any(|s| s == name));
        }
        out.report(at, field, key, values);
    }

    /// The placeholders of the message `key` (both languages).
    pub fn placeholders(&self, key: &str) -> &[String] {
        self.placeholders.get(key).map_or(&[], Vec::as_slice)
    }

    /// What its diagnostics share, copied for those made on one core.
    pub fn shared(&self) -> out::Shared {
        out::Shared::of(&self.rule, &self.texts)
    }

    /// A finding as a diagnostic.
    pub fn diagnostic(&self, shared: &mut out::Shared, raw: out::RawFinding) -> Diagnostic {
        out::diagnostic(&self.rule, &self.texts, shared, raw)
    }
}

/// A placeholder filled from a field of the reported record: `{name|uscc|id}` is the
/// first of its paths that is given.
struct RecordPlaceholder {
    name: String,
    paths: Vec<checks::path::Path>,
}

/// Every rule of a policy, compiled: checks parsed and their options and paths
/// checked, scripts compiled, message placeholders checked.
pub struct CompiledPolicy {
    pub rules: Vec<CompiledRule>,
    /// Problems in the policy's rules: a run with any stops before reading records.
    pub errors: Vec<Diagnostic>,
}

impl CompiledPolicy {
    pub fn new(policy: &Policy, limits: &Limits) -> CompiledPolicy {
        let mut params: Vec<String> = policy
            .rules
            .iter()
            .flat_map(|r| r.params.values.keys().map(|k| k.to_string()))
            .collect();
        params.sort();
        params.dedup();
        let engine = std::sync::Arc::new(script::build_engine(limits, &policy.calendar, &params));
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut memo_slots = 0;
        for rule in &policy.rules {
            let before = errors.len();
            let logic = match &rule.logic {
                Logic::Checks(spec) => checks::compile(rule, spec, (&mut errors, &mut memo_slots))
                    .map(Compiled::Checks),
                Logic::Script { .. } => script::ScriptRule::compile(rule, &engine, &mut errors)
                    .map(|s| Compiled::Script(Box::new(s))),
            };
            let provided = match &logic {
                Some(Compiled::Checks(entries)) => checks::provided(entries),
                Some(Compiled::Script(s)) => s.provided(rule),
                None => Vec::new(),
            };
            // Messages are checked against what the logic reports, once that is known.
            let from_record = if logic.is_some() {
                check_messages(rule, &provided, &mut errors)
            } else {
                BTreeMap::new()
            };
            let placeholders: BTreeMap<String, Vec<String>> = rule
                .messages
                .iter()
                .map(|(key, text)| (key.clone(), message::placeholders_of(text)))
                .collect();
            let in_help = message::placeholders_of(&rule.help);
            let shown = placeholders
                .iter()
                .map(|(key, names)| {
                    let mut shown = names.clone();
                    shown.extend(in_help.iter().filter(|h| !names.contains(h)).cloned());
                    (key.clone(), shown)
                })
                .collect();
            if let (Some(logic), true) = (logic, errors.len() == before) {
                rules.push(CompiledRule {
                    texts: out::RuleTexts::of(rule),
                    rule: rule.clone(),
                    logic,
                    from_record,
                    placeholders,
                    shown,
                    max_findings: limits.max_findings_per_rule.max(1),
                });
            }
        }
        CompiledPolicy { rules, errors }
    }
}

/// What a rule's logic reports under a message key: the key, the values it gives
/// (`None`: whatever a script passes, not known before it runs), and whether it must
/// have its own message (else `default` is used).
#[derive(Debug, Clone)]
pub struct Provided {
    pub key: String,
    pub values: Option<Vec<String>>,
    /// What the finding's record is: placeholders naming its fields are checked
    /// against it.
    pub each: Each,
}

/// Checks that every message the logic reports under exists, and that every
/// placeholder of a message (and of the help) is filled: by a value reported under its
/// key, a parameter, or a field of the reported record. Returns, per key, the
/// placeholders filled from the record.
fn check_messages(
    rule: &Rule,
    provided: &[Provided],
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Vec<RecordPlaceholder>> {
    let mut from_record: BTreeMap<String, Vec<RecordPlaceholder>> = BTreeMap::new();
    let error = |errors: &mut Vec<Diagnostic>, at: &NodeRef, zh: String, en: String| {
        errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/message",
            &at.tree.source,
            at.tree.report_span(at.id),
            Text::new(zh, en),
        ));
    };
    for p in provided {
        if !rule.messages.contains_key(&p.key) && p.values.is_some() {
            error(
                errors,
                &rule.node,
                format!(
                    "规则 `{}` 的检查会报告 `{}` 类发现，但 `messages` 中没有 `{}` 的提示",
                    rule.id, p.key, p.key
                ),
                format!(
                    "rule `{}` reports findings of kind `{}`, but `messages` has no `{}`",
                    rule.id, p.key, p.key
                ),
            );
        }
    }
    let record_kinds: Vec<&'static crate::schema::KindSchema> = rule
        .on
        .iter()
        .filter_map(|k| crate::schema::kind_schema(k))
        .collect();
    // `{name|uscc|id}`: the paths of a placeholder every one of whose alternatives is
    // a field of the record in each kind the rule reads.
    let record_paths = |name: &str, each: Each| -> Option<Vec<checks::path::Path>> {
        if record_kinds.is_empty() {
            return None;
        }
        name.split('|')
            .map(|alt| {
                let path = checks::path::Path::parse(alt).ok()?;
                record_kinds
                    .iter()
                    .all(|kind| path.check(kind, each).is_ok())
                    .then_some(path)
            })
            .collect()
    };
    let mut reported: Vec<(String, String)> = Vec::new();
    for (key, template) in &rule.messages {
        let given = provided.iter().find(|p| &p.key == key).or_else(|| {
            // A key no check reports is still filled as `default` would be.
            provided.iter().find(|p| p.key == "default")
        });
        let Some(at) = rule.message_nodes.get(key) else {
            continue;
        };
        for text in [&template.zh, &template.en] {
            for name in message::placeholders(text) {
                let by_value = match given.and_then(|g| g.values.as_ref()) {
                    Some(values) => values.iter().any(|v| v == name),
                    // A script's values are known when it runs.
                    None => given.is_some(),
                };
                if by_value || rule.params.get(name).is_some() {
                    continue;
                }
                if reported.iter().any(|(k, n)| k == key && n == name) {
                    continue;
                }
                if let Some(paths) = given.and_then(|g| record_paths(name, g.each)) {
                    let names = from_record.entry(key.clone()).or_default();
                    if !names.iter().any(|n| n.name == name) {
                        names.push(RecordPlaceholder {
                            name: name.to_owned(),
                            paths,
                        });
                    }
                    continue;
                }
                reported.push((key.clone(), name.to_owned()));
                error(
                    errors,
                    at,
                    format!("提示中的占位符 `{{{name}}}` 无从填写：它不是检查或脚本报告的值（脚本中 `#{{…}}` 的键）、规则参数，也不是记录的字段"),
                    format!("placeholder `{{{name}}}` is filled by nothing: it is not a value the check or script reports (a key of a `#{{…}}` map in the script), a parameter of the rule, or a field of the record"),
                );
            }
        }
    }
    // The help is filled with the values of whichever finding it is shown with.
    for text in [&rule.help.zh, &rule.help.en] {
        for name in message::placeholders(text) {
            let everywhere = !provided.is_empty()
                && provided.iter().all(|p| match &p.values {
                    Some(values) => values.iter().any(|v| v == name),
                    None => true,
                });
            if everywhere || rule.params.get(name).is_some() {
                continue;
            }
            error(
                errors,
                &rule.node,
                format!("整改建议中的占位符 `{{{name}}}` 无从填写：整改建议只能用规则参数和每类发现都报告的值"),
                format!("placeholder `{{{name}}}` of the help is filled by nothing: the help may use the rule's parameters and values every finding reports"),
            );
        }
    }
    from_record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::source::SourceFile;
    use std::sync::Arc;

    #[test]
    fn a_finding_keeps_only_the_values_its_message_and_help_show() {
        let policy = crate::policy::load(
            crate::policy::Store::Embedded,
            std::path::Path::new("policies/wuhan-2024.yaml"),
        )
        .expect("the shipped policy loads");
        let compiled = CompiledPolicy::new(&policy, &Limits::default());
        let rule = compiled
            .rules
            .iter()
            .find(|r| r.rule.id == "result-entry-deadline")
            .expect("a shipped rule");
        let text = "records:\n  - {finished_on: 2024-06-03, entered_on: 2024-07-20}\n";
        let tree = Arc::new(
            crate::parse::yaml::load(&SourceFile::from_text("r.yaml", text))
                .expect("valid YAML")
                .remove(0),
        );
        let record = Rec::root(&tree)
            .records("records")
            .next()
            .expect("a record");
        let sub = crate::submission::for_key(&[], &Arc::new(Vec::new()), "d".into(), Some(2024));
        let cx = Cx::new("2024-12-31", &policy.calendar, &sub, None);
        let kept = |key: &str| {
            let mut values = message::FindingValues::new();
            for name in [
                "finished_on",
                "entered_on",
                "due",
                "as_of",
                "days",
                "working_days",
                "x",
            ] {
                values.insert(name.into(), Dynamic::from_int(1));
            }
            let mut out = Out::default();
            rule.report_kept(&mut out, &cx, &record, "entered_on", key, values);
            let finding = out.findings.pop().expect("reported");
            finding
                .values
                .iter()
                .map(|(n, _)| n.to_string())
                .collect::<Vec<_>>()
        };
        // The help shows `working_days`; `as_of` is only in the message of a result
        // not entered; `x` is in none.
        assert_eq!(
            kept("default"),
            ["finished_on", "entered_on", "due", "days", "working_days"]
        );
        assert_eq!(
            kept("missing_end"),
            ["finished_on", "due", "as_of", "working_days"]
        );
        assert_eq!(
            kept("before_start"),
            ["finished_on", "entered_on", "working_days"]
        );
        assert_eq!(kept("no-such-key"), kept("default"));
    }
}
