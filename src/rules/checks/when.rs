//! Conditions: `when:` on any check, and the tests some checks take.
//!
//! ```yaml
//! when: {problem: true}                                # a field equals a value
//! when: {entity_type: {in: $market_entity_types}}      # tests: equals, not_equals, in,
//!                                                      # not_in, present, length,
//!                                                      # equals_field, not_equals_field,
//!                                                      # matches (a regular expression)
//! when: {any: [{a: 1}, {b: {present: true}}], not: {c: x}}   # all (the default), any, not
//! ```
//! Keys of one mapping must all hold. A value compares equal only to a value of the same
//! type (a whole number also to the same decimal); an absent or null field equals
//! nothing and is in no list.

use std::sync::Arc;

use regex::Regex;

use crate::parse::tree::{NodeRef, Value, ValueRef};
use crate::policy::Each;
use crate::read::record::Rec;

use super::super::Cx;
use super::opts::{Arg, Opts};
use super::path::Path;

/// A literal of a test.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Lit {
    fn of(value: &Value) -> Option<Lit> {
        Some(match value {
            Value::Str(s) => Lit::Str(s.to_string()),
            Value::Int(i) => Lit::Int(*i),
            Value::Float(x) => Lit::Float(*x),
            Value::Bool(b) => Lit::Bool(*b),
            _ => return None,
        })
    }

    pub fn matches(&self, v: &ValueRef) -> bool {
        match (self, v) {
            (Lit::Str(a), ValueRef::Str(b)) => a == b,
            (Lit::Int(a), ValueRef::Int(b)) => a == b,
            (Lit::Float(a), ValueRef::Float(b)) => a == b,
            (Lit::Int(a), ValueRef::Float(b)) | (Lit::Float(b), ValueRef::Int(a)) => {
                *a as f64 == *b
            }
            (Lit::Bool(a), ValueRef::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// A literal as written in the policy.
pub fn lit(value: &Value) -> Option<Lit> {
    Lit::of(value)
}

/// Whether two values read from records are the same value.
pub fn same(a: &ValueRef, b: &ValueRef) -> bool {
    match (a, b) {
        (ValueRef::Str(x), ValueRef::Str(y)) => x == y,
        (ValueRef::Int(x), ValueRef::Int(y)) => x == y,
        (ValueRef::Float(x), ValueRef::Float(y)) => x == y,
        (ValueRef::Int(x), ValueRef::Float(y)) | (ValueRef::Float(y), ValueRef::Int(x)) => {
            *x as f64 == *y
        }
        (ValueRef::Bool(x), ValueRef::Bool(y)) => x == y,
        _ => false,
    }
}

#[derive(Debug, Clone)]
pub enum Test {
    Equals(Lit),
    NotEquals(Lit),
    In(Vec<Lit>),
    NotIn(Vec<Lit>),
    Present(bool),
    Length(usize),
    EqualsField(Path),
    NotEqualsField(Path),
    Matches(Arc<Regex>),
}

impl Test {
    /// Whether `value` passes; `other` reads another field of the same record.
    pub fn passes<'v>(
        &self,
        value: Option<ValueRef<'v>>,
        other: &dyn Fn(&Path) -> Option<ValueRef<'v>>,
    ) -> bool {
        match self {
            Test::Equals(lit) => value.is_some_and(|v| lit.matches(&v)),
            Test::NotEquals(lit) => !value.is_some_and(|v| lit.matches(&v)),
            Test::In(list) => value.is_some_and(|v| list.iter().any(|l| l.matches(&v))),
            Test::NotIn(list) => !value.is_some_and(|v| list.iter().any(|l| l.matches(&v))),
            // Read through `given` by the condition; here for tests of a value alone.
            Test::Present(wanted) => value.is_some() == *wanted,
            Test::Length(n) => match value {
                Some(ValueRef::Str(s)) => s.chars().count() == *n,
                _ => false,
            },
            Test::EqualsField(path) => match (value, other(path)) {
                (Some(a), Some(b)) => same(&a, &b),
                _ => false,
            },
            Test::NotEqualsField(path) => !match (value, other(path)) {
                (Some(a), Some(b)) => same(&a, &b),
                _ => false,
            },
            Test::Matches(re) => matches!(value, Some(ValueRef::Str(s)) if re.is_match(s)),
        }
    }
}

/// Whether a field is given: not absent or null, a list with an item, a mapping with
/// a value.
pub fn given(path: &Path, rec: Rec, cx: &Cx) -> bool {
    use crate::read::record::Shape;
    match path.shape(rec, cx) {
        None => false,
        Some(Shape::Seq) => path.items(rec, cx).next().is_some(),
        Some(Shape::Map) => path.child(rec, cx).is_some_and(|m| m.has_any_value()),
        Some(Shape::Scalar | Shape::Invalid) => true,
    }
}

#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Field(Path, Vec<Test>),
}

impl Cond {
    /// Whether it reads the record alone (no joins, no document).
    pub fn record_only(&self) -> bool {
        match self {
            Cond::All(all) | Cond::Any(all) => all.iter().all(Cond::record_only),
            Cond::Not(c) => c.record_only(),
            Cond::Field(path, tests) => {
                path.root == super::path::Root::Record
                    && tests.iter().all(|t| match t {
                        Test::EqualsField(p) | Test::NotEqualsField(p) => {
                            p.root == super::path::Root::Record
                        }
                        _ => true,
                    })
            }
        }
    }

    pub fn holds(&self, rec: Rec, cx: &Cx) -> bool {
        match self {
            Cond::All(all) => all.iter().all(|c| c.holds(rec, cx)),
            Cond::Any(any) => any.iter().any(|c| c.holds(rec, cx)),
            Cond::Not(c) => !c.holds(rec, cx),
            Cond::Field(path, tests) => match tests.as_slice() {
                // The common shapes first, each reading the field once: one test of
                // whether it is given, or tests of its value alone.
                [Test::Present(wanted)] => given(path, rec, cx) == *wanted,
                [test] => test.passes(path.value(rec, cx), &|other: &Path| other.value(rec, cx)),
                _ => {
                    // The value is read only for tests that need it (not for `present`).
                    let mut value = None;
                    tests.iter().all(|t| match t {
                        Test::Present(wanted) => given(path, rec, cx) == *wanted,
                        _ => {
                            let v = *value.get_or_insert_with(|| path.value(rec, cx));
                            t.passes(v, &|other: &Path| other.value(rec, cx))
                        }
                    })
                }
            },
        }
    }

    /// Reads a condition written at `at`.
    pub fn parse(opts: &mut Opts, at: &NodeRef, each: Each) -> Option<Cond> {
        let tree = Arc::clone(&at.tree);
        let node = |id| NodeRef {
            tree: Arc::clone(&tree),
            id,
        };
        let Value::Map(entries) = &tree.node(at.id).value else {
            opts.error_at(
                at,
                "条件应为映射（字段 → 取值或检验，或 all / any / not）".into(),
                "a condition must be a mapping (field → value or tests, or all / any / not)".into(),
            );
            return None;
        };
        let mut all = Vec::new();
        for (key, value) in entries {
            match key.as_str() {
                "all" | "any" => {
                    let Value::Seq(items) = &tree.node(*value).value else {
                        opts.error_at(
                            &node(*value),
                            format!("`{key}` 应为条件列表"),
                            format!("`{key}` must be a list of conditions"),
                        );
                        return None;
                    };
                    let conds = items
                        .iter()
                        .map(|i| Cond::parse(opts, &node(*i), each))
                        .collect::<Option<Vec<_>>>()?;
                    all.push(if key.as_str() == "all" {
                        Cond::All(conds)
                    } else {
                        Cond::Any(conds)
                    });
                }
                "not" => all.push(Cond::Not(Box::new(Cond::parse(opts, &node(*value), each)?))),
                field => {
                    let path = match Path::parse(field) {
                        Ok(p) => p,
                        Err(e) => {
                            opts.error_at(&node(*value), e.clone(), e);
                            return None;
                        }
                    };
                    for kind in opts.kinds.clone() {
                        if let Err(e) = path.check(kind, each) {
                            opts.error_at(&node(*value), e.clone(), e);
                            return None;
                        }
                    }
                    let tests = tests(opts, &node(*value), each)?;
                    all.push(Cond::Field(path, tests));
                }
            }
        }
        Some(if all.len() == 1 {
            all.remove(0)
        } else {
            Cond::All(all)
        })
    }
}

/// The tests of a field: a value (equals), or a mapping of tests.
pub(super) fn tests(opts: &mut Opts, at: &NodeRef, each: Each) -> Option<Vec<Test>> {
    let tree = Arc::clone(&at.tree);
    let Value::Map(entries) = &tree.node(at.id).value else {
        let arg = opts.resolve(at.clone())?;
        return Some(vec![match lits(opts, &arg, "equals")? {
            Many::One(lit) => Test::Equals(lit),
            Many::List(list) => Test::In(list),
        }]);
    };
    let mut tests = Vec::new();
    for (name, value) in entries {
        let at = NodeRef {
            tree: Arc::clone(&tree),
            id: *value,
        };
        let arg = opts.resolve(at)?;
        let test = match name.as_str() {
            "equals" => Test::Equals(one(opts, &arg, name)?),
            "not_equals" => Test::NotEquals(one(opts, &arg, name)?),
            "in" => Test::In(list(opts, &arg, name)?),
            "not_in" => Test::NotIn(list(opts, &arg, name)?),
            "present" => match arg.value() {
                Value::Bool(b) => Test::Present(*b),
                _ => return bad(opts, &arg, name, "true 或 false", "true or false"),
            },
            "length" => Test::Length(opts.int_of(&arg, name, 0..=10_000)? as usize),
            "equals_field" => Test::EqualsField(opts.path_of(&arg, name, each)?),
            "not_equals_field" => Test::NotEqualsField(opts.path_of(&arg, name, each)?),
            "matches" => {
                let Value::Str(pattern) = arg.value() else {
                    return bad(opts, &arg, name, "正则表达式", "a regular expression");
                };
                match regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                {
                    Ok(re) => Test::Matches(Arc::new(re)),
                    Err(e) => {
                        opts.error_at(
                            &arg.at,
                            format!("`matches` 不是有效的正则表达式：{e}"),
                            format!("`matches` is not a valid regular expression: {e}"),
                        );
                        return None;
                    }
                }
            }
            other => {
                let hint = crate::schema::suggest(
                    other,
                    [
                        "equals",
                        "not_equals",
                        "in",
                        "not_in",
                        "present",
                        "length",
                        "equals_field",
                        "not_equals_field",
                        "matches",
                    ]
                    .into_iter(),
                );
                opts.error_at_key(
                    &arg.at,
                    format!("未知检验 `{other}`{hint}"),
                    format!("unknown test `{other}`{hint}"),
                );
                return None;
            }
        };
        tests.push(test);
    }
    Some(tests)
}

enum Many {
    One(Lit),
    List(Vec<Lit>),
}

fn lits(opts: &mut Opts, arg: &Arg, name: &str) -> Option<Many> {
    let tree = Arc::clone(&arg.at.tree);
    match arg.value() {
        Value::Seq(items) => {
            let mut list = Vec::new();
            for item in items {
                match Lit::of(&tree.node(*item).value) {
                    Some(lit) => list.push(lit),
                    None => return bad(opts, arg, name, "取值列表", "a list of values"),
                }
            }
            Some(Many::List(list))
        }
        value => match Lit::of(value) {
            Some(lit) => Some(Many::One(lit)),
            None => bad(opts, arg, name, "取值", "a value"),
        },
    }
}

fn one(opts: &mut Opts, arg: &Arg, name: &str) -> Option<Lit> {
    match lits(opts, arg, name)? {
        Many::One(lit) => Some(lit),
        Many::List(_) => bad(opts, arg, name, "单个取值", "a single value"),
    }
}

fn list(opts: &mut Opts, arg: &Arg, name: &str) -> Option<Vec<Lit>> {
    match lits(opts, arg, name)? {
        Many::One(lit) => Some(vec![lit]),
        Many::List(list) => Some(list),
    }
}

fn bad<T>(opts: &mut Opts, arg: &Arg, name: &str, zh: &str, en: &str) -> Option<T> {
    let found = arg.value().type_name();
    opts.error_at(
        &arg.at,
        format!("检验 `{name}` 应为{zh}，实为 {found}"),
        format!("the test `{name}` must be {en}, found {found}"),
    );
    None
}
