//! Library and plan rules: object codes and labels, personnel labels, sample sizes and
//! plan execution.
//!
//! These read fields whose types the schema has fixed (documents that fail it never
//! reach rules), so script failures on ill-typed values need no native counterpart.

use std::collections::HashMap;

use rayon::prelude::*;
use rhai::{Array, Dynamic, ImmutableString};

use super::{Cx, NativeRule, Out, Rec, Step, V};
use crate::parse::tree::Value;
use crate::values;

pub static RULES: &[&dyn NativeRule] = &[
    &ObjectsUscc,
    &ObjectsLabelled,
    &PersonnelLabelled,
    &SampleSize,
    &PlanExecuted,
];

/// `r.key` as a script sees it (`None` for `()`), for values passed on unchanged.
fn field(r: &Rec, key: &str) -> Option<Dynamic> {
    let value = r.script_value(key);
    (!value.is_unit()).then_some(value)
}

fn text(s: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(s))
}

/// `rules/objects-uscc.rhai`.
struct ObjectsUscc;

fn market(entity_type: Option<&str>) -> bool {
    matches!(
        entity_type,
        Some("enterprise" | "individual" | "cooperative")
    )
}

fn verify(r: &Rec, field: &str, code: &str, out: &mut Out) {
    if let Err(problem) = crate::domain::uscc::check(code) {
        report_invalid(r, field, code, problem, out);
    }
}

fn report_invalid(
    r: &Rec,
    field: &str,
    code: &str,
    problem: crate::domain::uscc::UsccError,
    out: &mut Out,
) {
    out.report(
        r,
        field,
        "default",
        values! { code: ImmutableString::from(code), reason: problem.zh(), reason_en: problem.to_string() },
    );
}

impl NativeRule for ObjectsUscc {
    fn script(&self) -> &'static str {
        "objects-uscc.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        if cx.doc_kind == Some("ObjectLibrary") {
            match r.value("uscc") {
                None => {
                    if market(r.str("entity_type")) {
                        let entity_type = field(&r, "entity_type").unwrap_or_default();
                        out.report(&r, "", "missing", values! { entity_type: entity_type });
                    }
                }
                Some(V::Str(code)) => verify(&r, "uscc", code, out),
                Some(_) => {}
            }
            return Ok(());
        }
        let Some(V::Str(code)) = r.value("object") else {
            return Ok(());
        };
        if !(market(r.str("entity_type")) || code.chars().count() == 18) {
            return Ok(());
        }
        let Err(problem) = crate::domain::uscc::check(code) else {
            return Ok(());
        };
        // A library id, or a code the library holds under another spelling, is not
        // checked. Looked up only for a code that fails: a look-up in a large library
        // misses the cache, and most codes are valid.
        if let Some(known) = cx.submission.objects.get(code) {
            if !known.uscc_is_key {
                return Ok(());
            }
        }
        report_invalid(&r, "object", code, problem, out);
        Ok(())
    }
}

/// Collects missing labels as the scripts' `zh`/`en` arrays.
#[derive(Default)]
struct Missing {
    zh: Array,
    en: Array,
}

impl Missing {
    fn add(&mut self, zh: &str, en: &str) {
        self.zh.push(text(zh));
        self.en.push(text(en));
    }
}

/// `rules/objects-labelled.rhai`.
struct ObjectsLabelled;

impl NativeRule for ObjectsLabelled {
    fn script(&self) -> &'static str {
        "objects-labelled.rhai"
    }

    fn record(&self, o: Rec, _cx: &Cx, out: &mut Out) -> Step {
        let mut missing = Missing::default();
        if !o.is_present("licence_category") {
            missing.add("许可类别（licence_category）", "licence category");
        }
        if !o.is_present("industry") {
            missing.add("所处行业（industry）", "industry");
        }
        if !o.is_present("risk_level") {
            missing.add("风险等级（risk_level）", "risk level");
        }
        if !missing.zh.is_empty() {
            let name = field(&o, "name")
                .or_else(|| field(&o, "uscc"))
                .or_else(|| field(&o, "id"))
                .unwrap_or_else(|| text("?"));
            out.report(
                &o,
                "",
                "default",
                values! { name: name, missing_zh: missing.zh, missing_en: missing.en },
            );
        }
        Ok(())
    }
}

/// `rules/personnel-labelled.rhai`.
struct PersonnelLabelled;

impl NativeRule for PersonnelLabelled {
    fn script(&self) -> &'static str {
        "personnel-labelled.rhai"
    }

    fn record(&self, p: Rec, _cx: &Cx, out: &mut Out) -> Step {
        let mut missing = Missing::default();
        if !p.is_present("qualification") {
            missing.add("执法资质（qualification）", "enforcement qualification");
        }
        if !p.is_present("certificate") {
            missing.add("执法证号（certificate）", "certificate number");
        }
        let no_expertise = match p.value("expertise") {
            None => true,
            Some(V::Seq) => p.items("expertise").next().is_none(),
            Some(V::Str(s)) => s.is_empty(),
            Some(_) => false,
        };
        if no_expertise {
            missing.add("业务专长（expertise）", "expertise");
        }
        if !missing.zh.is_empty() {
            let person = field(&p, "id").unwrap_or_default();
            let name = field(&p, "name").unwrap_or_else(|| text(""));
            out.report(
                &p,
                "id",
                "default",
                values! { person: person, name: name, missing_zh: missing.zh, missing_en: missing.en },
            );
        }
        Ok(())
    }
}

/// `rules/result-sample-size.rhai`.
struct SampleSize;

const CLASSES: [&str; 4] = ["A", "B", "C", "D"];
const FILTER_KEYS: [&str; 3] = ["industry", "licence_category", "entity_type"];

/// `ceil_mul` of the script helpers.
fn ceil_mul(ratio: f64, population: i64) -> i64 {
    (ratio * population as f64 - 1e-9).ceil().max(0.0) as i64
}

/// `pct` of the script helpers.
fn pct(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// `a == b` for the scalars filters and library fields hold (different types differ).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => *x as f64 == *y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => false,
    }
}

/// How a task's sample is measured.
enum Measure {
    /// Per risk class: the class's ratio, where one is given.
    Classes([Option<f64>; 4]),
    Overall(f64),
}

/// Objects of the population, and of them those inspected: overall and per class.
#[derive(Default)]
struct Counts {
    total: i64,
    seen: i64,
    class_total: [i64; 4],
    class_seen: [i64; 4],
}

/// What the population counts read of a library object, read once for all tasks.
struct ObjectView<'a> {
    /// The values of [`FILTER_KEYS`], with the text of those that are text.
    attrs: [Option<(&'a Value, Option<&'a str>)>; 3],
    uscc: Option<&'a str>,
    id: Option<&'a str>,
    class: Option<usize>,
}

fn object_views<'a>(library: Rec<'a>) -> Vec<ObjectView<'a>> {
    let Some((tree, _)) = library.tree_ref() else {
        return Vec::new();
    };
    let text = |v: &'a Value| match v {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    };
    library
        .records("objects")
        .map(|o| {
            let mut view = ObjectView {
                attrs: [None; 3],
                uscc: None,
                id: None,
                class: None,
            };
            let node = o.tree_ref().map(|(_, id)| &tree.node(id).value);
            if let Some(Value::Map(entries)) = node {
                for (key, child) in entries {
                    let value = &tree.node(*child).value;
                    if matches!(value, Value::Null) {
                        continue;
                    }
                    match key.as_str() {
                        "uscc" => view.uscc = text(value),
                        "id" => view.id = text(value),
                        "risk_level" => {
                            view.class = text(value)
                                .and_then(|level| CLASSES.iter().position(|c| *c == level))
                        }
                        other => {
                            if let Some(i) = FILTER_KEYS.iter().position(|k| *k == other) {
                                view.attrs[i] = Some((value, text(value)));
                            }
                        }
                    }
                }
            }
            view
        })
        .collect()
}

/// The first filter key a task wants a text of, and that text.
fn first_text<'v>(wanted: &[(usize, &'v Value)]) -> Option<(usize, &'v str)> {
    wanted.iter().find_map(|(i, v)| match v {
        Value::Str(s) => Some((*i, s.as_str())),
        _ => None,
    })
}

/// Objects (their places in the library) by the text of a filter key, for the keys in
/// `keys`: a task is counted over the objects that have the text it wants, not over
/// the whole library (a text matches only the same text).
type ByText<'a> = [HashMap<&'a str, Vec<u32>>; 3];

fn by_text<'a>(objects: &[ObjectView<'a>], keys: &[usize]) -> ByText<'a> {
    let mut index: ByText = Default::default();
    for &key in keys {
        for (at, o) in objects.iter().enumerate() {
            if let Some((_, Some(text))) = o.attrs[key] {
                index[key].entry(text).or_default().push(at as u32);
            }
        }
    }
    index
}

fn count(
    objects: &[ObjectView],
    index: &ByText,
    wanted: &[(usize, &Value)],
    inspected: &super::Objects,
) -> Counts {
    let checks: Vec<(usize, &Value, Option<&str>)> = wanted
        .iter()
        .map(|(i, v)| match v {
            Value::Str(s) => (*i, *v, Some(s.as_str())),
            _ => (*i, *v, None),
        })
        .collect();
    let mut counts = Counts::default();
    let mut add = |o: &ObjectView| {
        let matches = checks.iter().all(|(i, want, want_text)| match o.attrs[*i] {
            Some((_, Some(have))) if want_text.is_some() => Some(have) == *want_text,
            Some((value, _)) => same(value, want),
            None => false,
        });
        if !matches {
            return;
        }
        let seen = o.uscc.is_some_and(|u| inspected.contains(u))
            || o.id.is_some_and(|id| inspected.contains(id));
        counts.total += 1;
        counts.seen += i64::from(seen);
        if let Some(class) = o.class {
            counts.class_total[class] += 1;
            counts.class_seen[class] += i64::from(seen);
        }
    };
    match first_text(wanted) {
        Some((key, text)) => {
            let places = index[key].get(text).map_or(&[][..], Vec::as_slice);
            places
                .iter()
                .filter_map(|&at| objects.get(at as usize))
                .for_each(&mut add);
        }
        None => objects.iter().for_each(&mut add),
    }
    counts
}

impl NativeRule for SampleSize {
    fn script(&self) -> &'static str {
        "result-sample-size.rhai"
    }

    fn reads_inspected_objects(&self) -> bool {
        true
    }

    fn submission(&self, cx: &Cx, out: &mut Out) -> Step {
        let Some(library) = cx.submission.of_kind("ObjectLibrary").next() else {
            return Ok(());
        };
        let library = Rec::root(&library.tree);
        if !library.is_present("objects") {
            return Ok(());
        }
        let digest = cx.digest();
        // What each task due for counting needs, in order; counted side by side.
        let mut due = Vec::new();
        for plan in cx.submission.of_kind("Plan") {
            for task in Rec::root(&plan.tree).records("tasks") {
                let Some(filter) = task.child("objects") else {
                    continue;
                };
                match task.value("end") {
                    None => continue,
                    Some(V::Str(end)) if end >= cx.as_of => continue,
                    Some(_) => {}
                }
                // No results with records: left to plan-executed.
                let Some(inspected) = task.str("id").and_then(|id| digest.inspected.get(id)) else {
                    continue;
                };
                let wanted: Vec<(usize, &Value)> = FILTER_KEYS
                    .iter()
                    .enumerate()
                    .filter_map(|(i, key)| filter.tree_value(key).map(|v| (i, v)))
                    .collect();
                // A filter naming none of the keys matches nothing.
                if wanted.is_empty() {
                    continue;
                }
                let credit_risk = task.child("credit_risk");
                let measure = match credit_risk.and_then(|cr| cr.child("ratios")) {
                    Some(ratios) if credit_risk.and_then(|cr| cr.bool("applied")) == Some(true) => {
                        Measure::Classes(CLASSES.map(|class| match ratios.value(class) {
                            Some(V::Float(ratio)) => Some(ratio),
                            _ => None,
                        }))
                    }
                    _ => match task.value("ratio") {
                        Some(V::Float(ratio)) => Measure::Overall(ratio),
                        _ => continue,
                    },
                };
                due.push((task, wanted, inspected, measure));
            }
        }
        if due.is_empty() {
            return Ok(());
        }
        // A hundred thousand objects by some tens of tasks at province scale: each task
        // is counted over the objects with the text its filter wants (`by_text`), or
        // over the whole library when it wants no text.
        let objects = object_views(library);
        let mut keys: Vec<usize> = due
            .iter()
            .filter_map(|(_, wanted, _, _)| first_text(wanted).map(|(key, _)| key))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let index = by_text(&objects, &keys);
        let counted: Vec<Counts> = due
            .par_iter()
            .map(|(_, wanted, inspected, _)| count(&objects, &index, wanted, inspected))
            .collect();
        for ((task, _, _, measure), counts) in due.into_iter().zip(counted) {
            let task_id = field(&task, "id").unwrap_or_default();
            match measure {
                Measure::Classes(ratios) => {
                    for (i, class) in CLASSES.iter().enumerate() {
                        let Some(ratio) = ratios[i] else { continue };
                        let (total, seen) = (counts.class_total[i], counts.class_seen[i]);
                        let required = ceil_mul(ratio, total);
                        if seen < required {
                            out.report(
                                &task,
                                &format!("credit_risk.ratios.{class}"),
                                "default",
                                values! {
                                    task: task_id.clone(),
                                    class_zh: format!("{class} 类"),
                                    class_en: format!("class-{class}"),
                                    inspected: seen,
                                    ratio: pct(ratio),
                                    population: total,
                                    required: required,
                                },
                            );
                        }
                    }
                }
                Measure::Overall(ratio) => {
                    let required = ceil_mul(ratio, counts.total);
                    if counts.seen < required {
                        out.report(
                            &task,
                            "ratio",
                            "default",
                            values! {
                                task: task_id,
                                class_zh: "",
                                class_en: "",
                                inspected: counts.seen,
                                ratio: pct(ratio),
                                population: counts.total,
                                required: required,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// `rules/plan-executed.rhai`.
struct PlanExecuted;

impl NativeRule for PlanExecuted {
    fn script(&self) -> &'static str {
        "plan-executed.rhai"
    }

    fn record(&self, task: Rec, cx: &Cx, out: &mut Out) -> Step {
        match task.value("end") {
            None => return Ok(()),
            Some(V::Str(end)) if end >= cx.as_of => return Ok(()),
            Some(_) => {}
        }
        if task
            .str("id")
            .is_some_and(|id| cx.digest().tasks_named.contains(id))
        {
            return Ok(());
        }
        let id = field(&task, "id").unwrap_or_default();
        let end = field(&task, "end").unwrap_or_default();
        out.report(&task, "end", "default", values! { task: id, end: end });
        Ok(())
    }
}
