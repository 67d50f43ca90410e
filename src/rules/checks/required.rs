//! `required`: fields a record (or document) must give.
//!
//! ## What it checks
//! Each field of `fields` must be given: not absent or null, a list not empty, a
//! mapping with at least one value. A field may be excused by a condition of its own
//! (`unless`). All the missing fields of a record make one finding, placed at the
//! mapping that holds them when they share one and it is there (`publication`), else
//! at `at` (default: the record).
//!
//! ## Options
//! - `fields`: a list; each a field path, or `{field: path, unless: condition}`.
//! - `at`: where the finding goes when the fields' mapping is absent or they are the
//!   record's own (a field path, such as `id`; default the record).
//!
//! ## Values for messages
//! `{missing}`: the missing fields as written in `fields`, shown through the rule's
//! `labels: {missing: {field: {zh, en}}}`.
//!
//! ## Example
//! ```yaml
//! check:
//!   required:
//!     fields: [follow_up.action, follow_up.responsible, follow_up.done_on]
//!     at: problem
//!   when: {problem: true}
//! ```

use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use super::when::{self, Cond};
use crate::parse::tree::{NodeRef, Value};
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};

#[derive(Debug, Clone)]
struct Field {
    path: Path,
    unless: Option<Cond>,
}

#[derive(Debug, Clone)]
pub struct Required {
    fields: Vec<Field>,
    at: String,
}

impl Required {
    pub fn parse(o: &mut Opts) -> Option<Required> {
        let arg = o.required("fields")?;
        let tree = std::sync::Arc::clone(&arg.at.tree);
        let items: Vec<u32> = match arg.value() {
            Value::Seq(items) => items.clone(),
            _ => vec![arg.at.id],
        };
        let mut fields = Vec::new();
        for item in items {
            let node = NodeRef {
                tree: std::sync::Arc::clone(&tree),
                id: item,
            };
            match &tree.node(item).value {
                Value::Map(_) => {
                    let field = tree.get_present(item, "field");
                    let Some(field) = field else {
                        o.error_at(&node, "缺少 `field`".into(), "`field` is missing".into());
                        return None;
                    };
                    let path_arg = o.resolve(NodeRef {
                        tree: std::sync::Arc::clone(&tree),
                        id: field,
                    })?;
                    let path = o.path_of(&path_arg, "field", o.each)?;
                    let unless = match tree.get_present(item, "unless") {
                        Some(u) => Some(Cond::parse(
                            o,
                            &NodeRef {
                                tree: std::sync::Arc::clone(&tree),
                                id: u,
                            },
                            o.each,
                        )?),
                        None => None,
                    };
                    if let Value::Map(keys) = &tree.node(item).value {
                        if let Some((k, _)) = keys
                            .iter()
                            .find(|(k, _)| k.as_str() != "field" && k.as_str() != "unless")
                        {
                            o.error_at(
                                &node,
                                format!("未知键 `{k}`（可用：field、unless）"),
                                format!("unknown key `{k}` (field, unless)"),
                            );
                            return None;
                        }
                    }
                    fields.push(Field { path, unless });
                }
                _ => {
                    let path_arg = o.resolve(node)?;
                    let path = o.path_of(&path_arg, "fields", o.each)?;
                    fields.push(Field { path, unless: None });
                }
            }
        }
        let at = o.text("at").unwrap_or_default();
        if !at.is_empty() {
            let checked = Path::parse(&at).and_then(|p| {
                o.kinds
                    .iter()
                    .try_for_each(|k| p.check(k, o.each).map(|_| ()))
            });
            if let Err(e) = checked {
                let node = o.here();
                o.error_at(&node, e.clone(), e);
                return None;
            }
        }
        Some(Required { fields, at })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        vec![Provided {
            key: message.to_owned(),
            values: Some(vec!["missing".into()]),
            each,
        }]
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let missing: Vec<&Field> = self
            .fields
            .iter()
            .filter(|f| !when::given(&f.path, rec, cx))
            .filter(|f| f.unless.as_ref().is_none_or(|u| !u.holds(rec, cx)))
            .collect();
        if missing.is_empty() {
            return;
        }
        // At the mapping that holds them, when they share one and it is there.
        let parent = missing[0].path.parent_field();
        let shared = parent.filter(|p| {
            missing.iter().all(|f| f.path.parent_field() == Some(p)) && rec.child_at(p).is_some()
        });
        let at = shared.unwrap_or(&self.at);
        if !rule.keeps(out, &rec) {
            return;
        }
        let mut values = FindingValues::new();
        values.insert(
            "missing".into(),
            Dynamic::from_array(
                missing
                    .iter()
                    .map(|f| Dynamic::from(ImmutableString::from(f.path.text.as_str())))
                    .collect(),
            ),
        );
        rule.report_kept(out, cx, &rec, at, message, values);
    }
}
