//! `sample_size`: for every task that has ended, the objects inspected against the
//! plan's ratio, by risk class.
//!
//! ## What it checks
//! For every task whose `end` is before the evaluation date and that has results with
//! records, it compares the number of distinct objects inspected with the plan's ratio:
//! - population: the objects of the library matching the task's `objects` filter
//!   (`industry`, `licence_category`, `entity_type`; a filter with none of these
//!   matches nothing and the task is skipped);
//! - with credit-risk classification applied, per risk class A–D: required =
//!   ceil(ratio[class] × objects of that class); inspected objects are counted by their
//!   library risk class;
//! - otherwise required = ceil(`ratio` × population).
//!
//! An object counts as inspected when a result names it by its USCC or its library
//! id. Rounding up is a choice: a ratio is a floor (“不低于”), so a partial object
//! counts as one. A task without results is left to `plan-executed`. Results of
//! streamed tables are counted as they stream.
//!
//! ## Options
//! None: it reads the plan's ratios and the object library.
//!
//! ## Values for messages
//! `{task}`, `{class}` (`A`–`D`, or empty for a task without classes: give it
//! `labels`), `{inspected}`, `{ratio}` (a percentage), `{population}`, `{required}`.
//!
//! ## Example
//! ```yaml
//! check:
//!   sample_size: {}
//! ```

use std::collections::HashMap;

use rayon::prelude::*;
use rhai::{Dynamic, ImmutableString, Map};

use super::opts::Opts;
use super::share::pct;
use crate::parse::tree::{Value, ValueRef};
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::out::{dynamic, Marks};
use crate::rules::{CompiledRule, Cx, Out, Provided};

/// The aggregate of objects inspected, by task.
const INSPECTED: &str = "inspected";

#[derive(Debug, Clone)]
pub struct SampleSize;

fn values(
    task: &Dynamic,
    class: &str,
    (inspected, ratio, population, required): (i64, f64, i64, i64),
) -> Map {
    let mut values = Map::new();
    values.insert("task".into(), task.clone());
    values.insert("class".into(), Dynamic::from(ImmutableString::from(class)));
    values.insert("inspected".into(), Dynamic::from_int(inspected));
    values.insert(
        "ratio".into(),
        Dynamic::from(ImmutableString::from(pct(ratio))),
    );
    values.insert("population".into(), Dynamic::from_int(population));
    values.insert("required".into(), Dynamic::from_int(required));
    values
}

impl SampleSize {
    pub fn parse(_o: &mut Opts) -> Option<SampleSize> {
        Some(SampleSize)
    }

    pub fn provided(&self, message: &str) -> Vec<Provided> {
        vec![Provided {
            key: message.to_owned(),
            values: Some(
                [
                    "task",
                    "class",
                    "inspected",
                    "ratio",
                    "population",
                    "required",
                ]
                .map(String::from)
                .to_vec(),
            ),
            each: Each::Record,
        }]
    }

    /// A Results document with records: its task has results, whatever they name.
    pub fn document(&self, doc: Rec, out: &mut Out) {
        if let (Some(task), true) = (doc.str("task"), doc.is_present("records")) {
            out.aggregates.mark(INSPECTED, task, None);
        }
    }

    /// A result: the object it names, under its document's task, marked where the
    /// object index finds it (an object not in the library is in no population).
    pub fn record(&self, r: Rec, cx: &Cx, out: &mut Out) {
        if let (Some(task), Some(object)) = (cx.doc_task_id, r.str("object")) {
            let at = cx.submission.objects.position(object);
            out.aggregates.mark(INSPECTED, task, at);
        }
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, cx: &Cx, out: &mut Out) {
        let Some(library) = cx.submission.of_kind("ObjectLibrary").next() else {
            return;
        };
        let library = Rec::root(&library.tree);
        if !library.is_present("objects") {
            return;
        }
        let Some(inspected_by_task) = out.aggregates.marked.get(INSPECTED) else {
            return;
        };
        // What each task due for counting needs, in order; counted side by side.
        let mut due = Vec::new();
        for plan in cx.submission.of_kind("Plan") {
            for task in Rec::root(&plan.tree).records("tasks") {
                let Some(filter) = task.child("objects") else {
                    continue;
                };
                match task.value("end") {
                    None => continue,
                    Some(ValueRef::Str(end)) if end >= cx.as_of => continue,
                    Some(_) => {}
                }
                // No results with records: left to plan-executed.
                let Some(inspected) = task.str("id").and_then(|id| inspected_by_task.get(id))
                else {
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
                            Some(ValueRef::Float(ratio)) => Some(ratio),
                            _ => None,
                        }))
                    }
                    _ => match task.value("ratio") {
                        Some(ValueRef::Float(ratio)) => Measure::Overall(ratio),
                        _ => continue,
                    },
                };
                due.push((task, wanted, inspected, measure));
            }
        }
        if due.is_empty() {
            return;
        }
        // A hundred thousand objects by some tens of tasks at province scale: each task
        // is counted over the objects with the text its filter wants (`by_text`), or
        // over the whole library when it wants no text.
        let objects = object_views(library, &cx.submission.objects);
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
        // Found while the counts are borrowed; reported after.
        let mut found = Vec::new();
        for ((task, _, _, measure), counts) in due.into_iter().zip(counted) {
            let task_id = dynamic(task.value("id"));
            match measure {
                Measure::Classes(ratios) => {
                    for (i, class) in CLASSES.iter().enumerate() {
                        let Some(ratio) = ratios[i] else { continue };
                        let (total, seen) = (counts.class_total[i], counts.class_seen[i]);
                        let required = ceil_mul(ratio, total);
                        if seen < required {
                            let values = values(&task_id, class, (seen, ratio, total, required));
                            found.push((task, format!("credit_risk.ratios.{class}"), values));
                        }
                    }
                }
                Measure::Overall(ratio) => {
                    let required = ceil_mul(ratio, counts.total);
                    if counts.seen < required {
                        let values =
                            values(&task_id, "", (counts.seen, ratio, counts.total, required));
                        found.push((task, "ratio".to_owned(), values));
                    }
                }
            }
        }
        for (task, field, values) in found {
            rule.report(out, cx, &task, &field, message, values);
        }
    }
}

const CLASSES: [&str; 4] = ["A", "B", "C", "D"];
const FILTER_KEYS: [&str; 3] = ["industry", "licence_category", "entity_type"];

/// `ceil_mul` of the script helpers: a ratio is a floor (“不低于”), so a partial
/// object counts as one.
pub fn ceil_mul(ratio: f64, population: i64) -> i64 {
    (ratio * population as f64 - 1e-9).ceil().max(0.0) as i64
}

/// `a == b` for the scalars filters and library fields hold (different types differ).
fn same_value(a: &Value, b: &Value) -> bool {
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
    /// Where the object index finds its USCC and its id: an object is inspected when a
    /// result names either.
    found_at: [Option<u32>; 2],
    class: Option<usize>,
}

fn object_views<'a>(library: Rec<'a>, index: &crate::submission::Index) -> Vec<ObjectView<'a>> {
    let Some((tree, _)) = library.tree_ref() else {
        return Vec::new();
    };
    let text = |v: &'a Value| match v {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    };
    let records: Vec<Rec> = library.records("objects").collect();
    let fields = |o: &Rec| match o.tree_ref().map(|(_, id)| &tree.node(id).value) {
        Some(Value::Map(entries)) => entries.as_slice(),
        _ => &[],
    };
    // An object's codes are looked up at random places of the index: those of a run of
    // objects are fetched together first, and waited for once.
    const FETCHED_TOGETHER: usize = 32;
    let prefetching = index.worth_prefetching();
    records
        .par_chunks(FETCHED_TOGETHER)
        .flat_map_iter(|run| {
            if prefetching {
                for (key, child) in run.iter().flat_map(&fields) {
                    if let ("uscc" | "id", Some(code)) =
                        (key.as_str(), text(&tree.node(*child).value))
                    {
                        index.prefetch(code);
                    }
                }
            }
            run.iter()
        })
        .map(|o| {
            let mut view = ObjectView {
                attrs: [None; 3],
                found_at: [None; 2],
                class: None,
            };
            for (key, child) in fields(o) {
                let value = &tree.node(*child).value;
                if matches!(value, Value::Null) {
                    continue;
                }
                match key.as_str() {
                    "uscc" => view.found_at[0] = text(value).and_then(|u| index.position(u)),
                    "id" => view.found_at[1] = text(value).and_then(|id| index.position(id)),
                    "risk_level" => {
                        view.class =
                            text(value).and_then(|level| CLASSES.iter().position(|c| *c == level))
                    }
                    other => {
                        if let Some(i) = FILTER_KEYS.iter().position(|k| *k == other) {
                            view.attrs[i] = Some((value, text(value)));
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
    inspected: &Marks,
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
            Some((value, _)) => same_value(value, want),
            None => false,
        });
        if !matches {
            return;
        }
        let seen = o.found_at.iter().flatten().any(|&at| inspected.has(at));
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
