//! `reference`: a value that must name a record of another document — an object of
//! the object library, a person of the personnel library, a task of the plan, an item
//! of the item list — with conditions on the record it names.
//!
//! ## What it checks
//! The value of `field` (each item, for a list) must be the id (or, for objects, the
//! USCC) of a record in the submission's `to` index. The first of `require` whose
//! condition the named record fails gives a finding with its own message. A
//! submission with no document of that kind is not checked, unless `if_no_target:
//! report`.
//!
//! ## Options
//! - `field`: the path of the value or list of values.
//! - `to`: `objects`, `people`, `tasks` or `items`.
//! - `require`: a list of `{that: condition on the named record, message: key}`.
//! - `if_no_target`: `skip` (default) or `report`.
//!
//! ## Values for messages
//! The value under the field's name and as `{value}`; fields of the named record as
//! `{found.name}` and the like.
//!
//! ## Example
//! ```yaml
//! check:
//!   reference:
//!     field: inspectors
//!     to: people
//!     require:
//!       - {that: {active: {not_equals: false}}, message: inactive}
//!       - {that: {qualification: {present: true}}, message: unqualified}
//! ```

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use super::when::Cond;
use crate::parse::tree::{NodeRef, Value, ValueRef};
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};
use crate::schema::{self, KindSchema};
use crate::submission::{Index, Submission};

#[derive(Debug, Clone, Copy)]
enum Target {
    Objects,
    People,
    Tasks,
    Items,
}

impl Target {
    fn kind(self) -> &'static str {
        match self {
            Target::Objects => "ObjectLibrary",
            Target::People => "PersonnelLibrary",
            Target::Tasks => "Plan",
            Target::Items => "ItemList",
        }
    }

    fn index(self, sub: &Submission) -> &Index {
        match self {
            Target::Objects => &sub.objects,
            Target::People => &sub.people,
            Target::Tasks => &sub.tasks,
            Target::Items => &sub.items,
        }
    }
}

#[derive(Debug, Clone)]
struct Requirement {
    that: Cond,
    message: String,
}

#[derive(Debug, Clone)]
pub struct Reference {
    field: Path,
    to: Target,
    require: Vec<Requirement>,
    report_without_target: bool,
    /// The target's kind as a bit: whether a submission has one is asked for every
    /// record.
    target_bit: u8,
    /// Fields of the named record that messages show (`found.x`).
    shown: Vec<String>,
    /// Where a named record's verdict on `require` is kept, if a slot was left.
    memo_slot: Option<usize>,
}

impl Reference {
    pub fn parse(o: &mut Opts) -> Option<Reference> {
        let field = o.required_path("field")?;
        let to = match o.choice("to", &["objects", "people", "tasks", "items"]) {
            Some("objects") => Target::Objects,
            Some("people") => Target::People,
            Some("tasks") => Target::Tasks,
            Some("items") => Target::Items,
            _ => {
                if o.ok() {
                    let at = o.here();
                    o.error_at(
                        &at,
                        "缺少 `to`（objects、people、tasks 或 items）".into(),
                        "`to` is missing (objects, people, tasks or items)".into(),
                    );
                }
                return None;
            }
        };
        let target: &'static KindSchema = schema::kind_schema(to.kind())?;
        let mut require = Vec::new();
        if let Some(arg) = o.arg("require") {
            let tree = Arc::clone(&arg.at.tree);
            let Value::Seq(items) = arg.value().clone() else {
                o.error_at(
                    &arg.at,
                    "`require` 应为列表".into(),
                    "`require` must be a list".into(),
                );
                return None;
            };
            // Conditions on the named record are read against its kind.
            let (kinds, each) = (std::mem::replace(&mut o.kinds, vec![target]), o.each);
            o.each = Each::Record;
            for item in items {
                let node = NodeRef {
                    tree: Arc::clone(&tree),
                    id: item,
                };
                let (that, message) =
                    (tree.get_present(item, "that"), tree.str_at(item, "message"));
                let (Some(that), Some(message)) = (that, message) else {
                    o.error_at(
                        &node,
                        "每项应为 {that: 条件, message: 提示键}".into(),
                        "each must be {that: condition, message: key}".into(),
                    );
                    break;
                };
                let that = Cond::parse(
                    o,
                    &NodeRef {
                        tree: Arc::clone(&tree),
                        id: that,
                    },
                    Each::Record,
                );
                if let Some(that) = that {
                    require.push(Requirement {
                        that,
                        message: message.to_owned(),
                    });
                }
            }
            o.kinds = kinds;
            o.each = each;
        }
        let report_without_target = o.choice("if_no_target", &["skip", "report"]) == Some("report");
        let shown = schema::record_fields(target)
            .iter()
            .map(|f| f.name.to_owned())
            .collect();
        // A verdict that depends on the named record alone can be kept with it.
        let memo_slot = if !require.is_empty() && require.iter().all(|r| r.that.record_only()) {
            o.memo_slot()
        } else {
            None
        };
        Some(Reference {
            memo_slot,
            field,
            target_bit: schema::kind_bit(to.kind()),
            to,
            require,
            report_without_target,
            shown,
        })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        let mut values = vec![self.field.name().to_owned(), "value".to_owned()];
        values.extend(self.shown.iter().map(|f| format!("found.{f}")));
        let mut out = vec![Provided {
            key: message.to_owned(),
            values: Some(values.clone()),
            each,
        }];
        for r in &self.require {
            out.push(Provided {
                key: r.message.clone(),
                values: Some(values.clone()),
                each,
            });
        }
        out
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let sub = cx.submission;
        if !self.report_without_target && sub.kinds & self.target_bit == 0 {
            return;
        }
        let index = self.to.index(sub);
        let field = self.field.field().unwrap_or_default();
        match self.field.value(rec, cx) {
            None => {}
            Some(ValueRef::Seq) => {
                for (i, item) in self.field.items(rec, cx).enumerate() {
                    // Made only for a finding: most values are found.
                    let at = || format!("{field}[{i}]");
                    self.one(rule, message, (rec, cx, out), item, index, &at);
                }
            }
            Some(value) => self.one(rule, message, (rec, cx, out), value, index, &|| {
                field.to_owned()
            }),
        }
    }

    /// Brings the slots the record's values are found by into the cache (see
    /// [`Index::prefetch`]).
    pub fn warm(&self, rec: Rec, cx: &Cx) {
        let index = self.to.index(cx.submission);
        if !index.worth_prefetching() {
            return;
        }
        match self.field.value(rec, cx) {
            Some(ValueRef::Str(id)) => index.prefetch(id),
            Some(ValueRef::Seq) => {
                for item in self.field.items(rec, cx) {
                    if let ValueRef::Str(id) = item {
                        index.prefetch(id);
                    }
                }
            }
            _ => {}
        }
    }

    /// The first requirement the named record fails: it depends on the record alone,
    /// so it is worked out once per code it is found by and kept in its memo slot.
    fn failed_requirement(
        &self,
        entry: crate::submission::Found,
        memo: &crate::submission::Memo,
        cx: &Cx,
    ) -> Option<&Requirement> {
        use std::sync::atomic::Ordering;
        if self.require.is_empty() {
            return None;
        }
        let slot = self.memo_slot.and_then(|s| memo.0.get(s));
        if let Some(known) = slot.map(|s| s.load(Ordering::Relaxed)).filter(|k| *k != 0) {
            return self.require.get(usize::from(known) - 1);
        }
        let named = entry.rec();
        let failed = self.require.iter().position(|r| !r.that.holds(named, cx));
        if let Some(slot) = slot {
            // 1 + the failed requirement, or past the last one when all are met.
            let code = failed.map_or(self.require.len() + 1, |i| i + 1);
            slot.store(u8::try_from(code).unwrap_or(u8::MAX), Ordering::Relaxed);
        }
        failed.and_then(|i| self.require.get(i))
    }

    fn one(
        &self,
        rule: &CompiledRule,
        message: &str,
        (rec, cx, out): (Rec, &Cx, &mut Out),
        value: ValueRef,
        index: &Index,
        at: &dyn Fn() -> String,
    ) {
        let ValueRef::Str(id) = value else {
            return;
        };
        let (key, found) = match index.find(id) {
            None => (message, None),
            Some((entry, memo)) => match self.failed_requirement(entry, memo, cx) {
                Some(r) => (r.message.as_str(), Some(entry.rec())),
                None => return,
            },
        };
        if !rule.keeps(out, &rec) {
            return;
        }
        let mut values = FindingValues::new();
        let text = Dynamic::from(ImmutableString::from(id));
        values.insert("value".into(), text.clone());
        values.insert(self.field.name().into(), text);
        if let Some(named) = found {
            for name in rule.placeholders(key) {
                if let Some(f) = name.strip_prefix("found.") {
                    values.insert(
                        name.as_str().into(),
                        super::super::out::value_of(&named, cx, f),
                    );
                }
            }
        }
        rule.report_kept(out, cx, &rec, &at(), key, values);
    }
}
