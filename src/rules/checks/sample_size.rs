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
use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::share::pct;
use crate::parse::tree::{NodeId, Value, ValueRef};
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
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
) -> FindingValues {
    let mut values = FindingValues::new();
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
        let wants: Vec<Want> = due
            .iter()
            .map(|(_, wanted, inspected, _)| Want::new(wanted, inspected))
            .collect();
        let counted = count(library, &cx.submission.objects, &wants);
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

/// What a library field is to the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `risk_level`.
    Class,
    /// The [`FILTER_KEYS`] at this place.
    Filter(usize),
    Other,
}

impl Role {
    /// Matched against the names written here: compared in place, not by a call for
    /// each key of a hundred thousand records.
    fn of(key: &str) -> Role {
        match key {
            "risk_level" => Role::Class,
            "industry" => Role::Filter(0),
            "licence_category" => Role::Filter(1),
            "entity_type" => Role::Filter(2),
            _ => Role::Other,
        }
    }
}

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

/// What the population counts read of a library object.
struct ObjectView<'a> {
    /// The values of [`FILTER_KEYS`], with the text of those that are text.
    attrs: [Option<(&'a Value, Option<&'a str>)>; 3],
    /// Where the object index finds its USCC and its id: an object is inspected when a
    /// result names either.
    found_at: [Option<u32>; 2],
    class: Option<usize>,
}

/// A due task's filter, and the objects inspected under it.
struct Want<'a> {
    /// (filter key, value wanted, its text when it is one).
    checks: Vec<(usize, &'a Value, Option<&'a str>)>,
    inspected: &'a Marks,
}

impl<'a> Want<'a> {
    fn new(wanted: &[(usize, &'a Value)], inspected: &'a Marks) -> Want<'a> {
        let checks = wanted
            .iter()
            .map(|(i, v)| match v {
                Value::Str(s) => (*i, *v, Some(s.as_str())),
                _ => (*i, *v, None),
            })
            .collect();
        Want { checks, inspected }
    }

    fn matches(&self, o: &ObjectView) -> bool {
        self.checks
            .iter()
            .all(|(i, want, want_text)| match o.attrs[*i] {
                Some((_, Some(have))) if want_text.is_some() => Some(have) == *want_text,
                Some((value, _)) => same_value(value, want),
                None => false,
            })
    }

    /// The first filter key wanted as a text, and that text.
    fn first_text(&self) -> Option<(usize, &'a str)> {
        self.checks
            .iter()
            .find_map(|(i, _, text)| text.map(|t| (*i, t)))
    }
}

impl Counts {
    fn add(&mut self, o: &ObjectView, inspected: &Marks) {
        let seen = o.found_at.iter().flatten().any(|&at| inspected.has(at));
        self.total += 1;
        self.seen += i64::from(seen);
        if let Some(class) = o.class {
            self.class_total[class] += 1;
            self.class_seen[class] += i64::from(seen);
        }
    }

    fn merge(&mut self, other: &Counts) {
        self.total += other.total;
        self.seen += other.seen;
        for class in 0..4 {
            self.class_total[class] += other.class_total[class];
            self.class_seen[class] += other.class_seen[class];
        }
    }
}

/// The tasks to count an object for: those wanting, for a filter key, the text the
/// object has, and those wanting no text (tried on every object).
struct Dispatch<'a> {
    by_text: [HashMap<&'a str, Vec<usize>, foldhash::fast::RandomState>; 3],
    anywhere: Vec<usize>,
}

impl<'a> Dispatch<'a> {
    fn new(wants: &[Want<'a>]) -> Dispatch<'a> {
        let mut dispatch = Dispatch {
            by_text: Default::default(),
            anywhere: Vec::new(),
        };
        for (task, want) in wants.iter().enumerate() {
            match want.first_text() {
                Some((key, text)) => dispatch.by_text[key].entry(text).or_default().push(task),
                None => dispatch.anywhere.push(task),
            }
        }
        dispatch
    }

    fn tasks<'s>(&'s self, o: &'s ObjectView) -> impl Iterator<Item = usize> + 's {
        let texted = self.by_text.iter().zip(&o.attrs).flat_map(|(tasks, attr)| {
            match attr {
                Some((_, Some(text))) if !tasks.is_empty() => tasks.get(text),
                _ => None,
            }
            .into_iter()
            .flatten()
        });
        texted.chain(&self.anywhere).copied()
    }
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Each task's counts, in one pass over the library (a hundred thousand objects by some
/// tens of tasks at province scale): an object is read once and counted for the tasks
/// whose filter it matches, found by the text a task wants rather than by trying each.
fn count(library: Rec, index: &crate::submission::Index, wants: &[Want]) -> Vec<Counts> {
    let Some((tree, root)) = library.tree_ref() else {
        return Vec::new();
    };
    // The records' node ids, not records made of them: a list of a hundred thousand
    // made for one pass costs more in fresh pages than the pass reading them.
    let records: &[NodeId] = tree.get(root, "objects").map_or(&[], |seq| tree.seq(seq));
    let fields = |record: NodeId| match &tree.node(record).value {
        Value::Map(entries) => entries.as_slice(),
        _ => &[],
    };
    // Where the index finds each object's USCC and id, as looking them up would say,
    // read off the index's entries (those of the library's records, in order).
    let mut found: Vec<[Option<u32>; 2]> = vec![[None; 2]; records.len()];
    let mut entries = index.entries_of(tree).peekable();
    for (&id, at) in records.iter().zip(found.iter_mut()) {
        while let Some((entry, position)) = entries.next_if(|(e, _)| e.id() == id) {
            at[usize::from(!entry.uscc_is_key())] = Some(position);
        }
    }
    let dispatch = Dispatch::new(wants);
    let none = || {
        (0..wants.len())
            .map(|_| Counts::default())
            .collect::<Vec<_>>()
    };
    records
        .par_iter()
        .zip(found.par_iter())
        .fold(none, |mut counts, (&o, &found_at)| {
            let mut view = ObjectView {
                attrs: [None; 3],
                found_at,
                class: None,
            };
            // Most fields are none of these: their nodes are not read.
            for (key, child) in fields(o) {
                let role = Role::of(key);
                if role == Role::Other {
                    continue;
                }
                let value = &tree.node(*child).value;
                match role {
                    Role::Class => {
                        view.class =
                            text(value).and_then(|level| CLASSES.iter().position(|c| *c == level))
                    }
                    Role::Filter(i) if !matches!(value, Value::Null) => {
                        if let Some(attr) = view.attrs.get_mut(i) {
                            *attr = Some((value, text(value)));
                        }
                    }
                    Role::Filter(_) | Role::Other => {}
                }
            }
            for task in dispatch.tasks(&view) {
                if let (Some(want), Some(c)) = (wants.get(task), counts.get_mut(task)) {
                    if want.matches(&view) {
                        c.add(&view, want.inspected);
                    }
                }
            }
            counts
        })
        .reduce(none, |mut all, part| {
            for (a, p) in all.iter_mut().zip(&part) {
                a.merge(p);
            }
            all
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(attrs: [Option<&'a Value>; 3], found_at: u32) -> ObjectView<'a> {
        ObjectView {
            attrs: attrs.map(|a| a.map(|v| (v, text(v)))),
            found_at: [Some(found_at), None],
            class: Some(3),
        }
    }

    #[test]
    fn a_field_is_known_by_its_key_as_the_filter_keys_name_it() {
        for (i, key) in FILTER_KEYS.iter().enumerate() {
            assert_eq!(Role::of(key), Role::Filter(i));
        }
        assert_eq!(Role::of("risk_level"), Role::Class);
        for other in ["", "id", "uscc", "name", "Industry", "risk_levels"] {
            assert_eq!(Role::of(other), Role::Other);
        }
    }

    #[test]
    fn an_object_is_counted_for_each_task_whose_filter_it_matches() {
        let (food, drugs) = (Value::Str("食品".into()), Value::Str("药品".into()));
        let (one, one_point_o) = (Value::Int(1), Value::Float(1.0));
        let mut inspected = Marks::default();
        inspected.mark(7);
        // By text; by text on two keys; by a number (tried on every object); by both.
        let wants = [
            Want::new(&[(0, &food)], &inspected),
            Want::new(&[(0, &food), (1, &drugs)], &inspected),
            Want::new(&[(2, &one)], &inspected),
            Want::new(&[(1, &drugs), (2, &one)], &inspected),
        ];
        let dispatch = Dispatch::new(&wants);
        let objects = [
            view([Some(&food), Some(&drugs), Some(&one_point_o)], 7),
            view([Some(&food), None, Some(&one)], 8),
            view([Some(&drugs), Some(&drugs), None], 9),
        ];
        let mut counts: Vec<Counts> = (0..wants.len()).map(|_| Counts::default()).collect();
        for o in &objects {
            for task in dispatch.tasks(o) {
                if wants[task].matches(o) {
                    counts[task].add(o, wants[task].inspected);
                }
            }
        }
        let shown: Vec<(i64, i64, i64)> = counts
            .iter()
            .map(|c| (c.total, c.seen, c.class_total[3]))
            .collect();
        assert_eq!(shown, [(2, 1, 2), (1, 1, 1), (2, 1, 2), (1, 1, 1)]);
    }
}
