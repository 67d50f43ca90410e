//! Native equivalents of shipped rule scripts, for the rules that run once per record
//! over tables of a million rows, where interpreting a script per record costs seconds.
//!
//! The script stays the rule's definition. A native equivalent stands in only while the
//! rule's script is, text for text, the shipped `rules/<id>.rhai`; a policy that edits
//! or replaces the script gets its script. The test suite runs every fixture both ways
//! and requires the same diagnostics, and `spotlint check --no-native` runs the scripts.
//!
//! A native rule reports what its script would: the same field path, message key and
//! values (with the same value types, as messages are filled from them).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use rhai::{Dynamic, ImmutableString, Map};

use crate::domain::calendar::{Calendar, CalendarError};
use crate::parse::tree::{NodeId, Tree, Value};
use crate::policy::Rule;
use crate::read::table::{FlatChunk, Part};
use crate::rules::engine::{Anchor, RawFinding};
use crate::submission::{NodeRef, Submission};

mod libraries;
mod records;
mod results;

/// A value as a native rule reads it: scalars by value or borrowed, lists and
/// mappings by what they are (their content through [`Rec::items`] and [`Rec::child`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    Seq,
    Map,
}

impl<'a> V<'a> {
    fn of(value: &'a Value) -> Option<V<'a>> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => V::Bool(*b),
            Value::Int(i) => V::Int(*i),
            Value::Float(x) => V::Float(*x),
            Value::Str(s) => V::Str(s.as_str()),
            Value::Seq(_) => V::Seq,
            Value::Map(_) => V::Map,
        })
    }
}

/// The items of a list ([`Rec::items`]), null items left out.
#[derive(Clone)]
pub enum Items<'a> {
    Tree(&'a Tree, std::slice::Iter<'a, NodeId>),
    Row(std::slice::Iter<'a, &'a str>),
}

impl<'a> Iterator for Items<'a> {
    type Item = V<'a>;

    fn next(&mut self) -> Option<V<'a>> {
        match self {
            Items::Tree(tree, ids) => ids.find_map(|id| V::of(&tree.node(*id).value)),
            Items::Row(items) => items.next().map(|s| V::Str(s)),
        }
    }
}

/// A record, task or document as a native rule reads it: a node of a tree, or a row
/// of a streamed table read in place ([`FlatChunk`]).
#[derive(Clone, Copy)]
pub struct Rec<'a> {
    at: At<'a>,
}

#[derive(Clone, Copy)]
enum At<'a> {
    Tree {
        tree: &'a Arc<Tree>,
        id: NodeId,
        /// The record's keys, read once for all the rules that look into it (reading a
        /// key of the tree costs more than comparing it).
        fields: Option<&'a [(&'a str, NodeId)]>,
    },
    Row {
        chunk: &'a FlatChunk<'a>,
        row: u32,
        part: Part,
    },
}

impl<'a> Rec<'a> {
    pub fn new(tree: &'a Arc<Tree>, id: NodeId) -> Rec<'a> {
        Rec {
            at: At::Tree {
                tree,
                id,
                fields: None,
            },
        }
    }

    /// A record whose keys were read into `fields` (see [`Rec::fields_of`]).
    pub fn with_fields(
        tree: &'a Arc<Tree>,
        id: NodeId,
        fields: &'a [(&'a str, NodeId)],
    ) -> Rec<'a> {
        Rec {
            at: At::Tree {
                tree,
                id,
                fields: Some(fields),
            },
        }
    }

    /// Row `row` of a chunk read in place.
    pub fn row(chunk: &'a FlatChunk<'a>, row: u32) -> Rec<'a> {
        Rec {
            at: At::Row {
                chunk,
                row,
                part: None,
            },
        }
    }

    /// Reads the keys of mapping `id` into `out`, for [`Rec::with_fields`].
    pub fn fields_of(tree: &'a Tree, id: NodeId, out: &mut Vec<(&'a str, NodeId)>) {
        out.clear();
        if let Value::Map(entries) = &tree.node(id).value {
            out.extend(entries.iter().map(|(k, v)| (k.as_str(), *v)));
        }
    }

    /// The tree node this is; a row of a chunk read in place is built into a tree of
    /// its own first.
    fn tree_node(&self) -> (Arc<Tree>, NodeId) {
        match self.at {
            At::Tree { tree, id, .. } => (Arc::clone(tree), id),
            At::Row { chunk, row, part } => chunk.node(row, part),
        }
    }

    /// `node.key` as a script reads it: `()` when absent or null, lists as arrays,
    /// mappings as node references; for values passed on unchanged into messages.
    pub fn script_value(&self, key: &str) -> Dynamic {
        // A row's scalars and lists are read from its cells; only a mapping, which a
        // script sees as a node, needs the row's tree.
        if let At::Row { chunk, row, part } = self.at {
            match chunk.value(row, part, key) {
                None => return Dynamic::UNIT,
                Some(V::Str(s)) => return Dynamic::from(ImmutableString::from(s)),
                Some(V::Bool(b)) => return Dynamic::from_bool(b),
                Some(V::Int(i)) => return Dynamic::from_int(i),
                Some(V::Float(x)) => return Dynamic::from_float(x),
                Some(V::Seq) => {
                    return Dynamic::from_array(
                        self.items(key)
                            .map(|item| match item {
                                V::Str(s) => Dynamic::from(ImmutableString::from(s)),
                                _ => Dynamic::UNIT,
                            })
                            .collect(),
                    )
                }
                Some(V::Map) => {}
            }
        }
        let (tree, id) = self.tree_node();
        match Rec::new(&tree, id).get(key) {
            Some(child) => tree.to_dynamic_with(child, &|map| {
                Dynamic::from(NodeRef {
                    tree: Arc::clone(&tree),
                    id: map,
                })
            }),
            None => Dynamic::UNIT,
        }
    }

    /// The node under `key` of a tree node.
    fn get(&self, key: &str) -> Option<NodeId> {
        match self.at {
            At::Tree {
                fields: Some(fields),
                ..
            } => fields.iter().find(|(k, _)| *k == key).map(|(_, id)| *id),
            At::Tree { tree, id, .. } => tree.get(id, key),
            At::Row { .. } => None,
        }
    }

    pub fn root(tree: &'a Arc<Tree>) -> Rec<'a> {
        Rec::new(tree, tree.root)
    }

    pub fn of(node: &'a NodeRef) -> Rec<'a> {
        Rec::new(&node.tree, node.id)
    }

    /// The value under `key`; `None` for absent and null, as `()` in scripts.
    pub fn value(&self, key: &str) -> Option<V<'a>> {
        match self.at {
            At::Tree { tree, .. } => {
                let tree: &'a Tree = tree;
                V::of(&tree.node(self.get(key)?).value)
            }
            At::Row { chunk, row, part } => chunk.value(row, part, key),
        }
    }

    /// The tree value under `key`, for rules over plans and libraries, which are
    /// always trees (`None` for a row read in place).
    pub fn tree_value(&self, key: &str) -> Option<&'a Value> {
        match self.at {
            At::Tree { tree, .. } => {
                let tree: &'a Tree = tree;
                match &tree.node(self.get(key)?).value {
                    Value::Null => None,
                    v => Some(v),
                }
            }
            At::Row { .. } => None,
        }
    }

    /// The tree and node of a tree-backed record (plans and libraries).
    pub fn tree_ref(&self) -> Option<(&'a Tree, NodeId)> {
        match self.at {
            At::Tree { tree, id, .. } => Some((tree, id)),
            At::Row { .. } => None,
        }
    }

    /// A text value (dates are text too).
    pub fn str(&self, key: &str) -> Option<&'a str> {
        match self.value(key)? {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            V::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_present(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    /// The mapping under `key`.
    pub fn child(&self, key: &str) -> Option<Rec<'a>> {
        match self.at {
            At::Tree { tree, .. } => {
                let id = self.get(key)?;
                matches!(tree.node(id).value, Value::Map(_)).then_some(Rec::new(tree, id))
            }
            At::Row { chunk, row, part } => Some(Rec {
                at: At::Row {
                    chunk,
                    row,
                    part: Some(chunk.child(row, part, key)?),
                },
            }),
        }
    }

    /// The items of the list under `key` (none when absent or not a list).
    pub fn items(&self, key: &str) -> Items<'a> {
        match self.at {
            At::Tree { tree, .. } => {
                let tree: &'a Tree = tree;
                let ids: &'a [NodeId] = self.get(key).map_or(&[], |id| tree.seq(id));
                Items::Tree(tree, ids.iter())
            }
            At::Row { chunk, row, part } => {
                let items = if part.is_none() {
                    chunk.items(row, key)
                } else {
                    &[]
                };
                Items::Row(items.iter())
            }
        }
    }

    /// The items of the list under `key` as mappings.
    pub fn records(&self, key: &str) -> impl Iterator<Item = Rec<'a>> + 'a {
        let (tree, ids): (Option<&'a Arc<Tree>>, &'a [NodeId]) = match self.at {
            At::Tree { tree, .. } => (Some(tree), self.get(key).map_or(&[], |id| tree.seq(id))),
            At::Row { .. } => (None, &[]),
        };
        ids.iter()
            .filter_map(move |id| tree.map(|tree| Rec::new(tree, *id)))
    }

    pub fn node(&self) -> NodeRef {
        let (tree, id) = self.tree_node();
        NodeRef { tree, id }
    }

    /// What a finding about `field` of this is anchored to: a row read in place is
    /// placed without building its tree.
    fn anchor(&self, field: &str) -> Anchor {
        match self.at {
            At::Tree { .. } => Anchor::Node(self.node()),
            At::Row { chunk, row, part } => {
                let (span, targets) = chunk.place(row, part, field);
                Anchor::Placed {
                    source: Arc::clone(chunk.source()),
                    span,
                    targets,
                }
            }
        }
    }
}

/// The objects named by results: a million at province scale, hence a fast hash.
/// Names are held inline (codes and ids are short): no allocation per object.
pub type Objects = HashSet<smartstring::alias::String, foldhash::fast::RandomState>;

/// What results tell the whole-submission rules: gathered once per submission, from
/// the documents or, for streamed tables, row by row.
#[derive(Debug, Default)]
pub struct ResultsDigest {
    /// Task ids named by a Results document, with or without records.
    pub tasks_named: HashSet<String>,
    /// For Results documents that have `records`: task id → the objects they name.
    pub inspected: HashMap<String, Objects>,
    /// Records of all Results documents, and those published (channel and date).
    pub records: i64,
    pub published: i64,
    /// The first Results document, where a submission-wide finding is shown.
    pub first: Option<NodeRef>,
    /// Results documents read from streamed tables (not kept in the submission).
    pub streamed: usize,
    /// Objects named by records, by task, not yet in `inspected`: kept as they come
    /// and made sets once, by [`ResultsDigest::settle`]. Merging a set per streamed
    /// chunk would hash every name again at each merge.
    pub(crate) pending: HashMap<String, Vec<Vec<smartstring::alias::String>>>,
}

impl ResultsDigest {
    /// Adds a Results document; `with_objects` also lists the objects it names (only
    /// `result-sample-size` reads them, and they are the costly part).
    pub fn add_document(&mut self, doc: Rec, with_objects: bool) {
        let has_records = doc.value("records").is_some();
        self.add_records(doc, has_records, doc.records("records"), with_objects);
    }

    /// Adds a Results document whose records are `records` (a document of a streamed
    /// table has its records apart from it).
    pub fn add_records<'r>(
        &mut self,
        doc: Rec,
        has_records: bool,
        records: impl Iterator<Item = Rec<'r>>,
        with_objects: bool,
    ) {
        if self.first.is_none() {
            self.first = Some(doc.node());
        }
        let task = doc.str("task");
        if let Some(task) = task {
            self.tasks_named.insert(task.to_owned());
        }
        let task = task.filter(|_| has_records);
        if let Some(task) = task {
            self.inspected.entry(task.to_owned()).or_default();
        }
        let listing = with_objects && task.is_some();
        let mut named = Vec::new();
        for record in records {
            self.records += 1;
            self.published += i64::from(is_published(&record));
            if let (true, Some(object)) = (listing, record.str("object")) {
                named.push(object.into());
            }
        }
        if let (Some(task), false) = (task, named.is_empty()) {
            self.pending.entry(task.to_owned()).or_default().push(named);
        }
    }

    /// Makes the objects named by records so far sets, in `inspected`; tasks side by
    /// side.
    pub fn settle(&mut self) {
        use rayon::prelude::*;
        let sets: Vec<(String, Objects)> = std::mem::take(&mut self.pending)
            .into_par_iter()
            .map(|(task, parts)| {
                let mut set = Objects::default();
                set.reserve(parts.iter().map(Vec::len).sum());
                set.extend(parts.into_iter().flatten());
                (task, set)
            })
            .collect();
        for (task, set) in sets {
            add_set(&mut self.inspected, task, set);
        }
    }

    /// Adds a digest of later documents.
    pub fn merge(&mut self, other: ResultsDigest) {
        if self.first.is_none() {
            self.first = other.first;
        }
        self.records += other.records;
        self.published += other.published;
        self.streamed += other.streamed;
        self.tasks_named.extend(other.tasks_named);
        for (task, objects) in other.inspected {
            add_set(&mut self.inspected, task, objects);
        }
        for (task, parts) in other.pending {
            self.pending.entry(task).or_default().extend(parts);
        }
    }

    /// The digest of a submission's Results documents (computed once).
    pub fn of(sub: &Submission) -> &ResultsDigest {
        sub.digest.get_or_init(|| ResultsDigest::of_documents(sub))
    }

    /// The digest of the Results documents the submission holds (not streamed ones).
    pub fn of_documents(sub: &Submission) -> ResultsDigest {
        let mut digest = ResultsDigest::default();
        for doc in sub.of_kind("Results") {
            digest.add_document(Rec::root(&doc.tree), true);
        }
        digest.settle();
        digest
    }
}

/// Adds a task's set of objects to `inspected`: the smaller set goes into the larger.
fn add_set(inspected: &mut HashMap<String, Objects>, task: String, mut objects: Objects) {
    match inspected.entry(task) {
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(objects);
        }
        std::collections::hash_map::Entry::Occupied(mut o) => {
            let mine = o.get_mut();
            if mine.len() < objects.len() {
                std::mem::swap(mine, &mut objects);
            }
            mine.extend(objects);
        }
    }
}

/// A result published as `result-publication-rate` counts it: channel and date given.
pub fn is_published(record: &Rec) -> bool {
    if let At::Row {
        chunk,
        row,
        part: None,
    } = record.at
    {
        return chunk.is_published(row);
    }
    record
        .child("publication")
        .is_some_and(|p| p.is_present("channel") && p.is_present("published_on"))
}

/// A submission's digest slot, filled on first use.
pub type DigestSlot = OnceLock<ResultsDigest>;

/// What a native rule is given, as a script's `ctx`.
pub struct Cx<'a> {
    pub rule: &'a Rule,
    pub as_of: &'a str,
    pub calendar: &'a Calendar,
    pub submission: &'a Submission,
    /// The document being checked (record and document rules).
    pub doc: Option<Rec<'a>>,
    /// Its `kind`, read once (rules ask for every record).
    pub doc_kind: Option<&'a str>,
    /// The plan task its `task` names, looked up once.
    pub doc_task: Option<&'a crate::submission::Entry>,
    /// The rule's parameters, read once: rules look them up for every record, and a
    /// short list is searched faster than the policy's map.
    params: Vec<Param<'a>>,
}

/// A parameter of the rule, and the texts of a list of texts.
struct Param<'a> {
    name: &'a str,
    value: &'a Dynamic,
    texts: Vec<ImmutableString>,
}

impl<'a> Param<'a> {
    fn of(name: &'a str, value: &'a Dynamic) -> Param<'a> {
        let texts = value
            .read_lock::<rhai::Array>()
            .map(|list| {
                list.iter()
                    .filter_map(|item| item.read_lock::<ImmutableString>().map(|s| s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Param { name, value, texts }
    }
}

impl<'a> Cx<'a> {
    pub fn new(
        rule: &'a Rule,
        as_of: &'a str,
        calendar: &'a Calendar,
        submission: &'a Submission,
        doc: Option<Rec<'a>>,
    ) -> Cx<'a> {
        Cx {
            rule,
            as_of,
            calendar,
            submission,
            doc,
            doc_kind: doc.and_then(|d| d.str("kind")),
            doc_task: doc
                .and_then(|d| d.str("task"))
                .and_then(|task| submission.tasks.get(task)),
            params: rule
                .params
                .iter()
                .map(|(name, value)| Param::of(name, value))
                .collect(),
        }
    }
}

impl Cx<'_> {
    fn param_entry(&self, name: &str) -> Option<&Param<'_>> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn param(&self, name: &str) -> Option<&Dynamic> {
        self.param_entry(name).map(|p| p.value)
    }

    pub fn int(&self, name: &str) -> i64 {
        self.param(name)
            .and_then(|v| v.as_int().ok())
            .unwrap_or_default()
    }

    pub fn float(&self, name: &str) -> f64 {
        self.param(name)
            .and_then(|v| {
                v.as_float()
                    .ok()
                    .or_else(|| v.as_int().ok().map(|i| i as f64))
            })
            .unwrap_or_default()
    }

    /// Whether the list parameter `name` holds the text `value` (`value in ctx.params.x`).
    pub fn list_has(&self, name: &str, value: &str) -> bool {
        self.param_entry(name)
            .is_some_and(|p| p.texts.iter().any(|s| s.as_str() == value))
    }

    pub fn digest(&self) -> &ResultsDigest {
        ResultsDigest::of(self.submission)
    }
}

/// Findings and tallies of a native rule, merged across threads.
#[derive(Debug, Default)]
pub struct Out {
    pub findings: Vec<RawFinding>,
    pub figures: Vec<(String, i64, i64, f64)>,
}

impl Out {
    /// `ctx.report(at, field, key, values)`.
    pub fn report(&mut self, at: &Rec, field: &str, key: &str, values: Map) {
        self.findings.push(RawFinding {
            at: at.anchor(field),
            field: field.to_owned(),
            key: key.to_owned(),
            values,
        });
    }

    /// `ctx.tally(id, passed, threshold)`.
    pub fn tally(&mut self, id: &str, passed: bool, threshold: f64) {
        match self.figures.iter_mut().find(|f| f.0 == id) {
            Some(f) => {
                f.1 += i64::from(passed);
                f.2 += 1;
            }
            None => self
                .figures
                .push((id.to_owned(), i64::from(passed), 1, threshold)),
        }
    }

    /// `ctx.figure(id, numerator, denominator, threshold)`.
    pub fn figure(&mut self, id: &str, numerator: i64, denominator: i64, threshold: f64) {
        self.figures
            .push((id.to_owned(), numerator, denominator, threshold));
    }

    pub fn merge(mut self, other: Out) -> Out {
        self.findings.extend(other.findings);
        for (id, num, den, threshold) in other.figures {
            match self.figures.iter_mut().find(|f| f.0 == id) {
                Some(f) => {
                    f.1 += num;
                    f.2 += den;
                }
                None => self.figures.push((id, num, den, threshold)),
            }
        }
        self
    }
}

/// Builds a values map as `#{ a: x, b: y }` does.
#[macro_export]
macro_rules! values {
    ($($key:ident : $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = rhai::Map::new();
        $( map.insert(stringify!($key).into(), rhai::Dynamic::from($value)); )*
        map
    }};
}

/// A calendar gap met while checking: the run of the rule stops, as a script's would.
pub type Step = Result<(), CalendarError>;

/// The native equivalent of one shipped script. Each entry point mirrors one of the
/// script's functions; the engine calls those the rule's `each` calls.
pub trait NativeRule: Sync {
    /// The shipped script this stands for (`rules/<file>`).
    fn script(&self) -> &'static str;
    /// `fn check(record, ctx)` of an `each: record` rule.
    fn record(&self, _record: Rec, _cx: &Cx, _out: &mut Out) -> Step {
        Ok(())
    }
    /// `fn check_document(doc, ctx)` of an `each: record` rule, or `fn check(doc, ctx)`
    /// of an `each: document` rule.
    fn document(&self, _doc: Rec, _cx: &Cx, _out: &mut Out) -> Step {
        Ok(())
    }
    /// `fn check(submission, ctx)` of an `each: submission` rule, after [`Self::record`]
    /// has seen every record when [`Self::scans_records`].
    fn submission(&self, _cx: &Cx, _out: &mut Out) -> Step {
        Ok(())
    }
    /// An `each: submission` rule whose script reports single records as it walks
    /// them: that part is [`Self::record`], run over every record of the rule's kinds.
    fn scans_records(&self) -> bool {
        false
    }
    /// Whether the script also has `fn check_document`.
    fn has_document_check(&self) -> bool {
        false
    }
    /// Whether it reads which objects the results name ([`ResultsDigest::inspected`]).
    fn reads_inspected_objects(&self) -> bool {
        false
    }
}

/// Every native rule with the text of the script it stands for.
fn registry() -> &'static [(&'static dyn NativeRule, String)] {
    static ALL: OnceLock<Vec<(&'static dyn NativeRule, String)>> = OnceLock::new();
    ALL.get_or_init(|| {
        records::RULES
            .iter()
            .chain(results::RULES)
            .chain(libraries::RULES)
            .filter_map(|native| {
                let path = format!("rules/{}", native.script());
                let text = crate::policy::Store::Embedded
                    .read(std::path::Path::new(&path))
                    .ok()?;
                Some((*native, text.replace("\r\n", "\n")))
            })
            .collect()
    })
}

/// The native equivalent of `rule`, when its script is a shipped one, unchanged.
pub fn for_rule(rule: &Rule) -> Option<&'static dyn NativeRule> {
    registry()
        .iter()
        .find(|(_, shipped)| rule.script.text == *shipped)
        .map(|(native, _)| *native)
}

/// Dates as scripts hold them: `YYYY-MM-DD` text.
pub fn date(text: &str) -> Option<chrono::NaiveDate> {
    crate::schema::parse_date(text).ok()
}

pub fn iso(d: chrono::NaiveDate) -> ImmutableString {
    IsoDate::new(d).as_str().into()
}

/// A date as text (`YYYY-MM-DD`), made without allocating: dates are compared as text
/// once or more per record, and only a reported one is kept.
pub struct IsoDate {
    bytes: [u8; 10],
    /// Years outside 0–9999 are written otherwise.
    other: Option<String>,
}

impl IsoDate {
    pub fn new(d: chrono::NaiveDate) -> IsoDate {
        use chrono::Datelike;
        let mut bytes = *b"0000-00-00";
        let (year, month, day) = (d.year(), d.month(), d.day());
        if !(0..=9999).contains(&year) {
            // Not chrono's `format`, which parses its pattern on every call.
            let other = format!("{year:04}-{month:02}-{day:02}");
            return IsoDate {
                bytes,
                other: Some(other),
            };
        }
        let mut put = |at: usize, value: u32, width: usize| {
            let mut value = value;
            for i in (at..at + width).rev() {
                bytes[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year.unsigned_abs(), 4);
        put(5, month, 2);
        put(8, day, 2);
        IsoDate { bytes, other: None }
    }

    pub fn as_str(&self) -> &str {
        match &self.other {
            Some(text) => text,
            None => std::str::from_utf8(&self.bytes).unwrap_or_default(),
        }
    }

    /// Its text as bytes, which compare as the text does, without validating it for
    /// every record.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.other {
            Some(text) => text.as_bytes(),
            None => &self.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_text_are_iso() {
        for (y, m, d, text) in [
            (2024, 5, 6, "2024-05-06"),
            (999, 12, 31, "0999-12-31"),
            (9999, 1, 1, "9999-01-01"),
            (12345, 1, 1, "12345-01-01"),
        ] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
            assert_eq!(IsoDate::new(date).as_str(), text);
            assert_eq!(IsoDate::new(date).as_bytes(), text.as_bytes());
            assert_eq!(iso(date).as_str(), text);
        }
    }

    #[test]
    fn every_native_rule_stands_for_a_shipped_script() {
        let count = records::RULES.len() + results::RULES.len() + libraries::RULES.len();
        assert_eq!(
            registry().len(),
            count,
            "a native rule names no shipped script"
        );
    }
}
