//! `share`: the share of a set that passes a condition, against a threshold — a
//! compliance figure in the report's summary, and a finding when it falls short.
//!
//! ## What it checks
//! - `of: records`: every record of the rule's kinds in a submission (a department's
//!   year) counts once; records of streamed tables are counted as they stream. The
//!   finding is placed at the first document's records.
//! - `of: <list>` (such as `tasks`), once per document: the list's items count, each
//!   as many times as its `weight` list has items (at least once). The finding is
//!   placed at the list.
//!
//! The figure is `figure`, passed / counted against `min`; a set with nothing to count
//! has no figure. With `report_failing`, every record that fails is also reported, at
//! that field, with message `failing_message`.
//!
//! ## Options
//! - `of`: `records`, or the path of a list in the document.
//! - `passes`: the condition an item passes (on the item).
//! - `min`: the lowest acceptable share, 0–1.
//! - `figure`: the figure's id.
//! - `weight`: a list field of the item whose length it counts for (`items`).
//! - `report_failing`, `failing_message` (default `failing`).
//!
//! ## Values for messages
//! `{share}` and `{min_pct}` (percentages), `{passed}`, `{total}`, `{min}`.
//!
//! ## Example
//! ```yaml
//! check:
//!   share: {of: tasks, passes: {joint: true}, min: $min_share, figure: joint-share}
//!   each: document
//! ```

use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use super::when::Cond;
use crate::parse::tree::Value;
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};
use crate::schema::{self, Ty};

#[derive(Debug, Clone)]
enum Of {
    Records,
    List(Path),
}

#[derive(Debug, Clone)]
pub struct Share {
    of: Of,
    passes: Cond,
    min: f64,
    figure: String,
    weight: Option<Path>,
    report_failing: Option<String>,
    failing_message: String,
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

impl Share {
    pub fn parse(o: &mut Opts) -> Option<Share> {
        let of_arg = o.required("of")?;
        let over_records = matches!(of_arg.value(), Value::Str(s) if s.as_str() == "records");
        let of = if over_records {
            if o.each != Each::Submission {
                o.error_at(
                    &of_arg.at,
                    "`of: records` 按整份报送计算，应为 `each: submission`".into(),
                    "`of: records` counts a whole submission: use `each: submission`".into(),
                );
                return None;
            }
            Of::Records
        } else {
            if o.each != Each::Document {
                o.error_at(
                    &of_arg.at,
                    "按文档中的列表计算，应为 `each: document`".into(),
                    "a share over a document's list needs `each: document`".into(),
                );
                return None;
            }
            let path = o.path_of(&of_arg, "of", Each::Document)?;
            if !matches!(o.ty_at(&path, Each::Document), Some(Ty::List(Ty::Obj(_)))) {
                o.error_at(
                    &of_arg.at,
                    format!("`{}` 不是记录列表", path.text),
                    format!("`{}` is not a list of records", path.text),
                );
                return None;
            }
            Of::List(path)
        };
        // `passes` and `weight` are read on the items.
        let each = o.each;
        o.each = Each::Record;
        let passes = o
            .arg("passes")
            .and_then(|arg| Cond::parse(o, &arg.at, Each::Record));
        let weight = match (&of, o.arg("weight")) {
            (Of::List(list), Some(arg)) => {
                // Against the list's item fields.
                let kinds = o.kinds.clone();
                let item_fields = kinds
                    .first()
                    .and_then(|k| list.check(k, Each::Document).ok());
                let path = match item_fields.map(|f| &f.ty) {
                    Some(Ty::List(Ty::Obj(fields))) => {
                        let name = arg.value();
                        match name {
                            Value::Str(s) if fields.iter().any(|f| f.name == s.as_str()) => {
                                Path::parse(s).ok()
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if path.is_none() {
                    o.error_at(
                        &arg.at,
                        "`weight` 应为列表项中的列表字段".into(),
                        "`weight` must be a list field of the items".into(),
                    );
                }
                path
            }
            (Of::Records, Some(arg)) => {
                o.error_at(
                    &arg.at,
                    "`weight` 只用于文档中的列表".into(),
                    "`weight` applies to a document's list only".into(),
                );
                None
            }
            (_, None) => None,
        };
        o.each = each;
        let min = o.number("min", 0.0..=1.0);
        let figure = o.text("figure");
        let report_failing = o.text("report_failing");
        let failing_message = o
            .text("failing_message")
            .unwrap_or_else(|| "failing".into());
        if o.ok() && passes.is_none() {
            let at = o.here();
            o.error_at(&at, "缺少 `passes`".into(), "`passes` is missing".into());
        }
        if o.ok() && (min.is_none() || figure.is_none()) {
            let at = o.here();
            o.error_at(
                &at,
                "缺少 `min` 或 `figure`".into(),
                "`min` and `figure` are needed".into(),
            );
        }
        Some(Share {
            of,
            passes: passes?,
            min: min?,
            figure: figure?,
            weight,
            report_failing,
            failing_message,
        })
    }

    pub fn over_records(&self) -> bool {
        matches!(self.of, Of::Records)
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        let mut out = vec![Provided {
            key: message.to_owned(),
            values: Some(
                ["share", "min_pct", "passed", "total", "min"]
                    .map(String::from)
                    .to_vec(),
            ),
            each: Each::Document,
        }];
        if self.report_failing.is_some() {
            out.push(Provided {
                key: self.failing_message.clone(),
                values: Some(Vec::new()),
                each: if self.over_records() {
                    Each::Record
                } else {
                    each
                },
            });
        }
        out
    }

    /// A record of the set: counted, and reported when it fails and that is asked.
    pub fn element(&self, rule: &CompiledRule, rec: Rec, cx: &Cx, out: &mut Out) {
        let passed = self.passes.holds(rec, cx);
        out.tally(&self.figure, passed, self.min);
        if let (false, Some(at)) = (passed, &self.report_failing) {
            rule.report(
                out,
                cx,
                &rec,
                at,
                &self.failing_message,
                FindingValues::new(),
            );
        }
    }

    /// `of: records`: the share of the whole submission, after every record counted.
    pub fn total(&self, rule: &CompiledRule, message: &str, cx: &Cx, out: &mut Out) {
        let Some((passed, total)) = out.tallied(&self.figure) else {
            return;
        };
        if total == 0 {
            return;
        }
        let kind = rule.rule.on.first().copied().unwrap_or("Results");
        let first = if kind == "Results" {
            crate::submission::digest::ResultsDigest::of(cx.submission)
                .first()
                .cloned()
        } else {
            cx.submission
                .of_kind(kind)
                .next()
                .map(|d| crate::parse::tree::NodeRef::root(&d.tree))
        };
        let Some(first) = first else {
            return;
        };
        let records = schema::kind_schema(kind).map_or("records", |k| k.records);
        self.judge(
            rule,
            message,
            (Rec::of(&first), records),
            (passed, total),
            cx,
            out,
        );
    }

    /// `of: <list>`: the share of one document's list.
    pub fn document(&self, rule: &CompiledRule, message: &str, doc: Rec, cx: &Cx, out: &mut Out) {
        let Of::List(list) = &self.of else {
            return;
        };
        let Some(holder) = list.parent_field().map_or(Some(doc), |p| doc.child_at(p)) else {
            return;
        };
        let (mut passed, mut total) = (0i64, 0i64);
        for item in holder.records(list.name()) {
            let weight = match &self.weight {
                Some(w) => (w.items(item, cx).count() as i64).max(1),
                None => 1,
            };
            total += weight;
            if self.passes.holds(item, cx) {
                passed += weight;
            }
        }
        if total == 0 {
            return;
        }
        out.add_tally(&self.figure, passed, total, self.min);
        let field = list.field().unwrap_or_default();
        self.judge(rule, message, (doc, field), (passed, total), cx, out);
    }

    fn judge(
        &self,
        rule: &CompiledRule,
        message: &str,
        (at, field): (Rec, &str),
        (passed, total): (i64, i64),
        cx: &Cx,
        out: &mut Out,
    ) {
        let share = passed as f64 / total as f64;
        if share >= self.min {
            return;
        }
        let mut values = FindingValues::new();
        let text = |s: String| Dynamic::from(ImmutableString::from(s));
        values.insert(
            "share".into(),
            text(crate::domain::ratio::percent_against(share, self.min)),
        );
        values.insert("min_pct".into(), text(pct(self.min)));
        values.insert("passed".into(), Dynamic::from_int(passed));
        values.insert("total".into(), Dynamic::from_int(total));
        values.insert("min".into(), Dynamic::from_float(self.min));
        rule.report(out, cx, &at, field, message, values);
    }
}
