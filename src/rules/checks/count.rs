//! `count`: a list with at least (or at most) so many items.
//!
//! ## What it checks
//! The items of `field` (nulls left out; with `distinct: true`, each value once; with
//! `excluding`, not those equal to another field's value) number at least `min` and at
//! most `max`. An absent list has none. The finding is placed at the list, or at the
//! record when it has none.
//!
//! ## Options
//! - `field`: the list's path.
//! - `min`, `max`: whole numbers 0–100000; at least one.
//! - `distinct`: count each value once (default false).
//! - `excluding`: a field path whose value is not counted (a lead department among
//!   its partners).
//!
//! ## Values for messages
//! `{count}`, `{min}`, `{max}`.
//!
//! ## Example
//! ```yaml
//! check:
//!   count: {field: inspectors, distinct: true, min: $min}
//! ```

use std::collections::HashSet;

use rhai::Dynamic;

use super::opts::Opts;
use super::path::Path;
use super::when::same;
use crate::parse::tree::ValueRef;
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};
use crate::schema::Ty;

#[derive(Debug, Clone)]
pub struct Count {
    field: Path,
    min: Option<i64>,
    max: Option<i64>,
    distinct: bool,
    excluding: Option<Path>,
}

const LIMIT: i64 = 100_000;

impl Count {
    pub fn parse(o: &mut Opts) -> Option<Count> {
        let field = o.required_path("field")?;
        if !matches!(o.ty_of(&field), Some(Ty::List(_))) {
            let at = o.here();
            o.error_at(
                &at,
                format!("`{}` 不是列表字段", field.text),
                format!("`{}` is not a list field", field.text),
            );
        }
        let min = o.int("min", 0..=LIMIT);
        let max = o.int("max", 0..=LIMIT);
        if min.is_none() && max.is_none() && o.ok() {
            let at = o.here();
            o.error_at(
                &at,
                "缺少 `min` 或 `max`".into(),
                "give `min` or `max`".into(),
            );
        }
        if let (Some(a), Some(b)) = (min, max) {
            if a > b {
                let at = o.here();
                o.error_at(
                    &at,
                    format!("`min`（{a}）大于 `max`（{b}）"),
                    format!("`min` ({a}) is above `max` ({b})"),
                );
            }
        }
        let distinct = o.bool("distinct").unwrap_or(false);
        let excluding = o.path("excluding");
        Some(Count {
            field,
            min,
            max,
            distinct,
            excluding,
        })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        vec![Provided {
            key: message.to_owned(),
            values: Some(vec!["count".into(), "min".into(), "max".into()]),
            each,
        }]
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let excluded = self.excluding.as_ref().and_then(|p| p.value(rec, cx));
        let items = self.field.items(rec, cx);
        // An item counts unless an earlier one is the same. A record lists a few, which
        // are compared with the earlier ones directly, allocating nothing; past `FEW`
        // (a hostile cell holding 100,000 ids) a hash set keeps the count linear.
        let mut count = 0i64;
        let mut seen: Option<HashSet<Distinct>> = None;
        for (i, item) in items.clone().enumerate() {
            if excluded.is_some_and(|e| same(&e, &item)) {
                continue;
            }
            if self.distinct {
                let repeated = match &mut seen {
                    Some(set) => Distinct::of(&item).is_some_and(|key| !set.insert(key)),
                    None => {
                        let repeated = items.clone().take(i).any(|earlier| same(&earlier, &item));
                        if i == FEW {
                            let earlier = items.clone().take(i + 1);
                            seen = Some(earlier.filter_map(|v| Distinct::of(&v)).collect());
                        }
                        repeated
                    }
                };
                if repeated {
                    continue;
                }
            }
            count += 1;
        }
        let few = self.min.is_some_and(|min| count < min);
        let many = self.max.is_some_and(|max| count > max);
        if !few && !many {
            return;
        }
        let at = if self.field.value(rec, cx).is_some() {
            self.field.field().unwrap_or_default()
        } else {
            ""
        };
        if !rule.keeps(out, &rec) {
            return;
        }
        let mut values = FindingValues::new();
        values.insert("count".into(), Dynamic::from_int(count));
        if let Some(min) = self.min {
            values.insert("min".into(), Dynamic::from_int(min));
        }
        if let Some(max) = self.max {
            values.insert("max".into(), Dynamic::from_int(max));
        }
        rule.report_kept(out, cx, &rec, at, message, values);
    }
}

/// How many values are compared pairwise before a hash set takes over.
const FEW: usize = 32;

/// A value as `same` compares it: an integral float equals the integer it holds.
#[derive(PartialEq, Eq, Hash)]
enum Distinct<'a> {
    Str(&'a str),
    Int(i64),
    Float(u64),
    Bool(bool),
}

impl<'a> Distinct<'a> {
    /// `None` for what `same` never finds equal to anything (lists, maps, NaN).
    fn of(value: &ValueRef<'a>) -> Option<Distinct<'a>> {
        Some(match *value {
            ValueRef::Str(s) => Distinct::Str(s),
            ValueRef::Int(i) => Distinct::Int(i),
            ValueRef::Bool(b) => Distinct::Bool(b),
            ValueRef::Float(f) if f.is_nan() => return None,
            ValueRef::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Distinct::Int(f as i64),
            // 0.0 and -0.0 are the same number.
            ValueRef::Float(f) => Distinct::Float((f + 0.0).to_bits()),
            ValueRef::Seq | ValueRef::Map => return None,
        })
    }
}
