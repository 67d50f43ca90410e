//! `allowed`: a value among those allowed, the allowed ones possibly depending on
//! another field.
//!
//! ## What it checks
//! The value of `field` must be one of `values`, or match the regular expression
//! `matches`. With `by` and `cases`, the allowed values depend on another field: the
//! first case whose `if` holds for that field's value gives them (a case without `if`
//! is the rest). `by` may list several paths: the first given is used (the record's
//! own `entity_type`, else its library object's). A record without `field` is skipped,
//! or reported (`if_missing: report`); one without any `by` value is skipped.
//!
//! ## Options
//! - `field`: the value's path.
//! - `values` (a list) or `matches` (a regular expression); or `by` and `cases:
//!   [{if: test, values: list}, …, {values: list}]`, where `if` takes the tests of
//!   conditions (`{in: [...]}`, `{equals: x}` …).
//! - `if_missing`: `skip` (default) or `report` — at the mapping that would hold the
//!   field when it is there, else at `at`.
//! - `containing`: a text is allowed when it contains one of the `values` (default
//!   false: it must equal one), for free-text fields where people write the same
//!   action in their own words (依法移送司法机关, 移送司法机关处理).
//!
//! ## Values for messages
//! The value under the field's name (`{channel}`; `—` when missing), `{expected}`
//! (the allowed values), and the `by` value under its name (`{entity_type}`), which
//! the rule's `labels` may name.
//!
//! ## Example
//! ```yaml
//! check:
//!   allowed:
//!     field: publication.channel
//!     by: [entity_type, "@object.entity_type"]
//!     cases:
//!       - {if: {in: $market_entity_types}, values: $market_channels}
//!       - {values: $other_channels}
//! ```

use std::sync::Arc;

use regex::Regex;
use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use super::when::{self, Lit, Test};
use crate::parse::tree::{NodeRef, Value, ValueRef};
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};

#[derive(Debug, Clone)]
enum Allow {
    Values(Vec<Lit>),
    Matches(Arc<Regex>),
}

impl Allow {
    fn admits(&self, v: &ValueRef) -> bool {
        match self {
            Allow::Values(list) => list.iter().any(|l| l.matches(v)),
            Allow::Matches(re) => matches!(v, ValueRef::Str(s) if re.is_match(s)),
        }
    }

    /// Whether `text` contains one of the allowed texts.
    fn is_within(&self, text: &str) -> bool {
        match self {
            Allow::Values(list) => list
                .iter()
                .any(|l| matches!(l, Lit::Str(s) if !s.is_empty() && text.contains(s.as_str()))),
            Allow::Matches(_) => false,
        }
    }

    fn expected(&self) -> Dynamic {
        match self {
            Allow::Values(list) => Dynamic::from_array(
                list.iter()
                    .map(|l| match l {
                        Lit::Str(s) => Dynamic::from(ImmutableString::from(s.as_str())),
                        Lit::Int(i) => Dynamic::from_int(*i),
                        Lit::Float(x) => Dynamic::from_float(*x),
                        Lit::Bool(b) => Dynamic::from_bool(*b),
                    })
                    .collect(),
            ),
            Allow::Matches(re) => Dynamic::from(ImmutableString::from(re.as_str())),
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    when: Vec<Test>,
    allow: Allow,
}

#[derive(Debug, Clone)]
pub struct Allowed {
    field: Path,
    by: Vec<Path>,
    cases: Vec<Case>,
    report_missing: bool,
    at: String,
    containing: bool,
}

impl Allowed {
    pub fn parse(o: &mut Opts) -> Option<Allowed> {
        let field = o.required_path("field")?;
        let by = o.paths("by").unwrap_or_default();
        let mut cases = Vec::new();
        if let Some(allow) = allow_of(o, None)? {
            cases.push(Case {
                when: Vec::new(),
                allow,
            });
        }
        if let Some(arg) = o.arg("cases") {
            let tree = Arc::clone(&arg.at.tree);
            let Value::Seq(items) = arg.value().clone() else {
                o.error_at(
                    &arg.at,
                    "`cases` 应为列表".into(),
                    "`cases` must be a list".into(),
                );
                return None;
            };
            for item in items {
                let node = NodeRef {
                    tree: Arc::clone(&tree),
                    id: item,
                };
                if !matches!(tree.node(item).value, Value::Map(_)) {
                    o.error_at(
                        &node,
                        "每个 case 应为 {if, values} 映射".into(),
                        "each case must be a mapping {if, values}".into(),
                    );
                    return None;
                }
                let when = match tree.get_present(item, "if") {
                    Some(test) => when::tests(
                        o,
                        &NodeRef {
                            tree: Arc::clone(&tree),
                            id: test,
                        },
                        o.each,
                    )?,
                    None => Vec::new(),
                };
                let Some(allow) = allow_of(o, Some(&node))? else {
                    o.error_at(
                        &node,
                        "case 缺少 `values` 或 `matches`".into(),
                        "a case needs `values` or `matches`".into(),
                    );
                    return None;
                };
                cases.push(Case { when, allow });
            }
            if by.is_empty() {
                o.error_at(
                    &arg.at,
                    "`cases` 需要 `by`".into(),
                    "`cases` needs `by`".into(),
                );
                return None;
            }
        }
        if cases.is_empty() && o.ok() {
            let at = o.here();
            o.error_at(
                &at,
                "缺少 `values`、`matches` 或 `cases`".into(),
                "give `values`, `matches` or `cases`".into(),
            );
        }
        let report_missing = o.choice("if_missing", &["skip", "report"]) == Some("report");
        let at = o.text("at").unwrap_or_default();
        let containing = o.bool("containing").unwrap_or(false);
        Some(Allowed {
            field,
            by,
            cases,
            report_missing,
            at,
            containing,
        })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        let mut values = vec![self.field.name().to_owned(), "expected".to_owned()];
        values.extend(self.by.first().map(|p| p.name().to_owned()));
        vec![Provided {
            key: message.to_owned(),
            values: Some(values),
            each,
        }]
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let by = if self.by.is_empty() {
            None
        } else {
            match self.by.iter().find_map(|p| p.value(rec, cx)) {
                Some(v) => Some(v),
                None => return,
            }
        };
        let Some(case) = self.cases.iter().find(|c| {
            c.when
                .iter()
                .all(|t| t.passes(by, &|other: &Path| other.value(rec, cx)))
        }) else {
            return;
        };
        let value = self.field.value(rec, cx);
        let at = match value {
            Some(v) if case.allow.admits(&v) => return,
            Some(ValueRef::Str(text)) if self.containing && case.allow.is_within(text) => return,
            Some(_) => self.field.field().unwrap_or_default(),
            None if !self.report_missing => return,
            None => match self.field.parent_field() {
                Some(parent) if rec.child_at(parent).is_some() => parent,
                _ => &self.at,
            },
        };
        if !rule.keeps(out, &rec) {
            return;
        }
        let mut values = FindingValues::new();
        values.insert(self.field.name().into(), super::super::out::dynamic(value));
        values.insert("expected".into(), case.allow.expected());
        if let Some(path) = self.by.first() {
            values.insert(path.name().into(), super::super::out::dynamic(by));
        }
        rule.report_kept(out, cx, &rec, at, message, values);
    }
}

/// `values` or `matches` of the check or of a case.
fn allow_of(o: &mut Opts, case: Option<&NodeRef>) -> Option<Option<Allow>> {
    let (values, matches) = match case {
        None => (o.arg("values"), o.arg("matches")),
        Some(node) => {
            let tree = Arc::clone(&node.tree);
            let get = |o: &mut Opts, key| {
                tree.get_present(node.id, key).and_then(|id| {
                    o.resolve(NodeRef {
                        tree: Arc::clone(&tree),
                        id,
                    })
                })
            };
            (get(o, "values"), get(o, "matches"))
        }
    };
    match (values, matches) {
        (Some(_), Some(m)) => {
            o.error_at(
                &m.at,
                "`values` 与 `matches` 只能选一".into(),
                "give `values` or `matches`, not both".into(),
            );
            None
        }
        (Some(v), None) => {
            let tree = Arc::clone(&v.at.tree);
            let items: Vec<u32> = match v.value() {
                Value::Seq(items) => items.clone(),
                _ => vec![v.at.id],
            };
            let mut list = Vec::new();
            for item in items {
                match when::lit(&tree.node(item).value) {
                    Some(lit) => list.push(lit),
                    None => {
                        o.error_at(
                            &v.at,
                            "`values` 应为取值列表".into(),
                            "`values` must be a list of values".into(),
                        );
                        return None;
                    }
                }
            }
            Some(Some(Allow::Values(list)))
        }
        (None, Some(m)) => {
            let Value::Str(pattern) = m.value() else {
                o.error_at(
                    &m.at,
                    "`matches` 应为正则表达式".into(),
                    "`matches` must be a regular expression".into(),
                );
                return None;
            };
            match regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => Some(Some(Allow::Matches(Arc::new(re)))),
                Err(e) => {
                    o.error_at(
                        &m.at,
                        format!("`matches` 不是有效的正则表达式：{e}"),
                        format!("`matches` is not a valid regular expression: {e}"),
                    );
                    None
                }
            }
        }
        (None, None) => Some(None),
    }
}
