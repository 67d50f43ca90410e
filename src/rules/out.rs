//! What a rule gives while it runs: findings (made diagnostics with their messages),
//! tallies for compliance figures, problems it met (a date the calendar lacks, a script
//! error), and the aggregates it declared. Outputs of chunks and threads are merged.

use std::collections::HashMap;
use std::sync::Arc;

use rhai::Dynamic;

use super::message;
use crate::diag::{Cite, Diagnostic, Figure, Name, Origin, Text};
use crate::domain::calendar::CalendarError;
use crate::parse::tree::{Span, ValueRef};
use crate::policy::Rule;
use crate::read::record::{Anchor, Rec};

/// A finding as a check or script reports it, before it gets a position and a message.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub at: Anchor,
    /// The field's path and the message's key: short, so held inline.
    pub field: smartstring::alias::String,
    pub key: smartstring::alias::String,
    pub values: Box<message::Values>,
}

/// Keeps the `limit` findings first in place order (file, then position), counting the
/// rest in `not_kept`. Findings at one place keep the order they were made in (the
/// submissions' order), so the choice does not depend on how records were split.
pub fn keep_first(findings: &mut Vec<RawFinding>, limit: usize, not_kept: &mut u64) {
    if findings.len() > limit {
        for f in findings.iter_mut() {
            f.place();
        }
        put_in_place_order(findings);
        *not_kept += (findings.len() - limit) as u64;
        findings.truncate(limit);
    }
}

/// Sorts placed findings in [`RawFinding::place_cmp`] order, ties in the order they
/// are in. A rule's findings come in a run for each document or chunk, in the order
/// they were gathered: their order is worked out on keys of numbers (the file's rank
/// by name, the span), the field and key compared only where those tie, and each
/// finding is then moved into place once, not once for each merge of runs.
pub fn put_in_place_order(findings: &mut [RawFinding]) {
    use std::cmp::Ordering;
    if findings.is_sorted_by(|a, b| RawFinding::place_cmp(a, b) != Ordering::Greater) {
        return;
    }
    // The files' names ranked; a finding's rank is looked up again only where it does
    // not share the last one's name (those of a file mostly share its name).
    let mut files: Vec<&str> = findings.iter().map(|f| f.place_key().0).collect();
    files.dedup_by(|a, b| std::ptr::eq(*a, *b));
    files.sort_unstable();
    files.dedup();
    let mut last: Option<(&str, u32)> = None;
    let mut keys: Vec<(u32, u32, u32, usize)> = Vec::with_capacity(findings.len());
    for (at, f) in findings.iter().enumerate() {
        let (file, (start, end, _, _)) = f.place_key();
        let rank = match last {
            Some((name, rank)) if std::ptr::eq(name, file) => rank,
            _ => {
                let rank = files
                    .binary_search(&file)
                    .map_or(u32::MAX, |i| u32::try_from(i).unwrap_or(u32::MAX));
                last = Some((file, rank));
                rank
            }
        };
        keys.push((rank, start, end, at));
    }
    keys.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| {
                let (fa, fb) = (&findings[a.3], &findings[b.3]);
                (&fa.field, &fa.key).cmp(&(&fb.field, &fb.key))
            })
            .then(a.3.cmp(&b.3))
    });
    let mut order: Vec<usize> = keys.into_iter().map(|(_, _, _, at)| at).collect();
    crate::shared::permute(findings, &mut order);
}

impl RawFinding {
    /// Where the finding is, for ordering: file, span, then field and message.
    pub fn place_key(&self) -> (&str, (u32, u32, &str, &str)) {
        let (file, span) = match &self.at {
            Anchor::Placed { source, span, .. } => (source.name.as_str(), *span),
            Anchor::Node(at) => (at.tree.source.name.as_str(), Span::default()),
        };
        (file, (span.start, span.end, &self.field, &self.key))
    }

    /// [`RawFinding::place_key`] order. Findings of a table share its name: compared
    /// by where it is held first, not text.
    pub fn place_cmp(a: &RawFinding, b: &RawFinding) -> std::cmp::Ordering {
        let ((file_a, rest_a), (file_b, rest_b)) = (a.place_key(), b.place_key());
        let same_file = std::ptr::eq(file_a, file_b);
        (if same_file {
            std::cmp::Ordering::Equal
        } else {
            file_a.cmp(file_b)
        })
        .then_with(|| rest_a.cmp(&rest_b))
    }

    /// Resolves the finding's place in place: it no longer holds the document it is about.
    pub fn place(&mut self) {
        if let Anchor::Node(at) = &self.at {
            let (source, span, targets, line_col) = Anchor::Node(at.clone()).resolve(&self.field);
            self.at = Anchor::Placed {
                source,
                span,
                targets,
                line_col,
            };
        }
    }
}

/// One count towards a compliance figure: passed of counted, against a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub id: String,
    pub passed: i64,
    pub counted: i64,
    pub threshold: f64,
}

/// Objects named by records, by task: a million at province scale, hence a fast hash,
/// and names held inline (codes and ids are short).
pub type Names = std::collections::HashSet<smartstring::alias::String, foldhash::fast::RandomState>;

/// Values of one name and key, as they were gathered (a run of records each).
type Parts = Vec<Vec<smartstring::alias::String>>;

/// What a rule's record phase gathers for its whole-submission phase: counts and
/// distinct values, by a key (a task id, say).
#[derive(Debug, Default)]
pub struct Aggregates {
    pub counts: HashMap<String, HashMap<String, i64>>,
    pub distinct: HashMap<String, HashMap<String, Names>>,
    /// Values of `distinct` as they come, made sets once by [`Aggregates::settle`]:
    /// merging a set per streamed chunk would hash every name again at each merge.
    pending: HashMap<(String, String), Parts>,
    /// Values added one at a time under the same name and key (a document's records),
    /// kept together until the key changes.
    current: Option<((String, String), Vec<smartstring::alias::String>)>,
    /// Values in `pending`.
    pending_values: usize,
    /// Places in an index (a library's objects, say) marked under a name and key: a
    /// set of what records name, resolved to where it is found, so neither kept as
    /// text nor hashed again.
    pub marked: HashMap<String, HashMap<String, Marks>>,
    /// Places marked one at a time under the same name and key, until the key changes.
    marking: Option<((String, String), Marks)>,
}

/// Places in an index, as bits: a hundred thousand objects take 12 KiB.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Marks(Vec<u64>);

impl Marks {
    pub fn mark(&mut self, at: u32) {
        let word = at as usize / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        if let Some(bits) = self.0.get_mut(word) {
            *bits |= 1 << (at % 64);
        }
    }

    pub fn has(&self, at: u32) -> bool {
        self.0
            .get(at as usize / 64)
            .is_some_and(|bits| bits & (1 << (at % 64)) != 0)
    }

    fn union(&mut self, mut other: Marks) {
        if self.0.len() < other.0.len() {
            std::mem::swap(self, &mut other);
        }
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
    }
}

/// Values pending past which a merge makes them sets: what a streamed table gathers is
/// then bounded by its distinct values, not by its records.
const SETTLE_FROM: usize = 1 << 20;

impl Aggregates {
    pub fn count(&mut self, name: &str, key: &str, by: i64) {
        let counts = self.counts.entry(name.to_owned()).or_default();
        match counts.get_mut(key) {
            Some(n) => *n += by,
            None => {
                counts.insert(key.to_owned(), by);
            }
        }
    }

    /// Adds one value to `name` under `key`.
    pub fn add(&mut self, name: &str, key: &str, value: &str) {
        match &mut self.current {
            Some(((n, k), values)) if n == name && k == key => values.push(value.into()),
            _ => {
                self.flush();
                self.current = Some(((name.to_owned(), key.to_owned()), vec![value.into()]));
            }
        }
    }

    fn flush(&mut self) {
        if let Some(((name, key), values)) = self.current.take() {
            self.collect(&name, &key, values);
        }
        self.flush_marks();
    }

    fn flush_marks(&mut self) {
        if let Some(((name, key), marks)) = self.marking.take() {
            add_marks(&mut self.marked, name, key, marks);
        }
    }

    /// Marks place `at` (none: the key is there, with what it has) under `name` and
    /// `key`.
    pub fn mark(&mut self, name: &str, key: &str, at: Option<u32>) {
        let same = matches!(&self.marking, Some(((n, k), _)) if n == name && k == key);
        if !same {
            self.flush_marks();
        }
        let ((_, _), marks) = self
            .marking
            .get_or_insert_with(|| ((name.to_owned(), key.to_owned()), Marks::default()));
        if let Some(at) = at {
            marks.mark(at);
        }
    }

    /// Adds values to `name` under `key` (none: the key is there, with what it has).
    pub fn collect(&mut self, name: &str, key: &str, values: Vec<smartstring::alias::String>) {
        self.distinct
            .entry(name.to_owned())
            .or_default()
            .entry(key.to_owned())
            .or_default();
        if !values.is_empty() {
            self.pending_values += values.len();
            self.pending
                .entry((name.to_owned(), key.to_owned()))
                .or_default()
                .push(values);
        }
    }

    pub fn merge(&mut self, mut other: Aggregates) {
        self.flush();
        other.flush();
        for (name, counts) in other.counts {
            let mine = self.counts.entry(name).or_default();
            for (key, n) in counts {
                *mine.entry(key).or_default() += n;
            }
        }
        for (name, sets) in other.distinct {
            let mine = self.distinct.entry(name).or_default();
            for (key, set) in sets {
                add_set(mine, key, set);
            }
        }
        for (name, by_key) in other.marked {
            for (key, marks) in by_key {
                add_marks(&mut self.marked, name.clone(), key, marks);
            }
        }
        for (at, parts) in other.pending {
            self.pending.entry(at).or_default().extend(parts);
        }
        self.pending_values += other.pending_values;
        if self.pending_values >= SETTLE_FROM {
            self.settle();
        }
    }

    /// Makes the values collected so far sets; sets side by side. Values go straight
    /// into the set they belong to: a set made for them and then merged would hash each
    /// twice.
    pub fn settle(&mut self) {
        use rayon::prelude::*;
        self.flush();
        self.pending_values = 0;
        let work: Vec<((String, String), Names, Parts)> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|((name, key), parts)| {
                let set = self
                    .distinct
                    .get_mut(&name)
                    .and_then(|sets| sets.remove(&key))
                    .unwrap_or_default();
                ((name, key), set, parts)
            })
            .collect();
        let sets: Vec<((String, String), Names)> = work
            .into_par_iter()
            .map(|(at, mut set, parts)| {
                set.extend(parts.into_iter().flatten());
                (at, set)
            })
            .collect();
        for ((name, key), set) in sets {
            add_set(self.distinct.entry(name).or_default(), key, set);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
            && self.distinct.is_empty()
            && self.pending.is_empty()
            && self.current.is_none()
            && self.marked.is_empty()
            && self.marking.is_none()
    }
}

fn add_marks(
    marked: &mut HashMap<String, HashMap<String, Marks>>,
    name: String,
    key: String,
    marks: Marks,
) {
    match marked.entry(name).or_default().entry(key) {
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(marks);
        }
        std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().union(marks),
    }
}

/// Adds a set to `sets[key]`: the smaller set goes into the larger.
fn add_set(sets: &mut HashMap<String, Names>, key: String, mut set: Names) {
    match sets.entry(key) {
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(set);
        }
        std::collections::hash_map::Entry::Occupied(mut o) => {
            let mine = o.get_mut();
            if mine.len() < set.len() {
                std::mem::swap(mine, &mut set);
            }
            mine.extend(set);
        }
    }
}

/// A rule's output over some records, documents or a submission.
#[derive(Debug, Default)]
pub struct Out {
    pub findings: Vec<RawFinding>,
    pub tallies: Vec<Tally>,
    /// Records the rule could not decide (a date the calendar lacks) and script
    /// errors: input or policy problems, not findings.
    pub problems: Vec<Diagnostic>,
    pub aggregates: Aggregates,
    /// Findings made past the rule's limit: counted, not kept.
    pub not_kept: u64,
    /// For the records of a chunk of a streamed table: how many findings at its rows
    /// this output may keep, and how many it made.
    pub rows: Option<RowRoom>,
}

/// Findings are kept in the order of their places, and the rows of a table's earlier
/// chunks come before a chunk's: once those made `limit − room` findings, only `room`
/// of the chunk's findings at its rows can be kept. The rest are counted, not made.
#[derive(Debug, Default)]
pub struct RowRoom {
    pub room: usize,
    /// Findings at rows, kept or not.
    pub made: u64,
    kept: usize,
    /// The row of the last finding kept: a record's findings are all kept or none,
    /// since their places within the row come in any order.
    last_row: Option<u32>,
}

impl RowRoom {
    pub fn new(room: usize) -> RowRoom {
        RowRoom {
            room,
            ..RowRoom::default()
        }
    }

    /// Whether a finding at `row` is kept.
    pub fn keeps(&mut self, row: u32) -> bool {
        self.made += 1;
        if self.kept >= self.room && self.last_row != Some(row) {
            return false;
        }
        self.kept += 1;
        self.last_row = Some(row);
        true
    }
}

impl Out {
    /// A finding about `field` of `at`, with message `key` and its values.
    pub fn report(&mut self, at: &Rec, field: &str, key: &str, values: message::FindingValues) {
        self.findings.push(RawFinding {
            at: at.anchor(field),
            field: field.into(),
            key: key.into(),
            values: values.into_kept(),
        });
    }

    /// One more counted for figure `id`, passed or not.
    pub fn tally(&mut self, id: &str, passed: bool, threshold: f64) {
        self.add_tally(id, i64::from(passed), 1, threshold);
    }

    /// `passed` of `counted` for figure `id`.
    pub fn add_tally(&mut self, id: &str, passed: i64, counted: i64, threshold: f64) {
        match self.tallies.iter_mut().find(|t| t.id == id) {
            Some(t) => {
                t.passed += passed;
                t.counted += counted;
            }
            None => self.tallies.push(Tally {
                id: id.to_owned(),
                passed,
                counted,
                threshold,
            }),
        }
    }

    /// A record whose dates the calendar cannot count: the data's problem, at the record.
    pub fn calendar_gap(&mut self, rule: &Rule, gap: &CalendarError, at: &Rec, field: &str) {
        let (source, span, _, line_col) = at.anchor(field).resolve(field);
        let d = Diagnostic::problem_at(
            Origin::Input,
            "calendar/missing-year",
            (&source, span, line_col),
            Text::new(
                format!("{}；规则 `{}` 无法计算工作日", gap.zh(), rule.id),
                format!("{gap}; rule `{}` cannot count working days", rule.id),
            ),
        )
        .with_help(Text::new(
            "在规则集的工作日历（policies/calendar/cn.yaml）中补充该年的国务院办公厅节假日安排",
            "add that year's State Council holiday notice to the policy's working-day calendar (policies/calendar/cn.yaml)",
        ));
        self.problems.push(d);
    }

    pub fn merge(&mut self, other: Out) {
        self.findings.extend(other.findings);
        self.not_kept += other.not_kept;
        for t in other.tallies {
            self.add_tally(&t.id, t.passed, t.counted, t.threshold);
        }
        self.problems.extend(other.problems);
        self.aggregates.merge(other.aggregates);
    }

    /// The figure tallied so far under `id`: (passed, counted).
    pub fn tallied(&self, id: &str) -> Option<(i64, i64)> {
        self.tallies
            .iter()
            .find(|t| t.id == id)
            .map(|t| (t.passed, t.counted))
    }
}

/// A rule's messages and help, split into their texts and placeholders once; and its
/// help filled from its parameters alone, shared by its findings whose values would
/// write it the same.
#[derive(Debug)]
pub struct RuleTexts {
    messages: std::collections::BTreeMap<String, message::TextTemplate>,
    help: message::TextTemplate,
    /// The help's placeholders, each with the parameter written there when a finding
    /// gives no value of its name.
    help_names: Vec<(String, Option<Dynamic>)>,
    shared_help: std::sync::Arc<Text>,
    /// The rule's id, as its findings name it.
    id: Name,
}

impl RuleTexts {
    pub fn of(rule: &Rule) -> RuleTexts {
        let (params, labels) = (&rule.params.values, &rule.labels);
        let help = message::TextTemplate::new(&rule.help, params, labels);
        RuleTexts {
            messages: rule
                .messages
                .iter()
                .map(|(key, text)| {
                    (
                        key.clone(),
                        message::TextTemplate::new(text, params, labels),
                    )
                })
                .collect(),
            help_names: message::placeholders_of(&rule.help)
                .into_iter()
                .map(|name| {
                    let param = params.get(name.as_str()).cloned();
                    (name, param)
                })
                .collect(),
            shared_help: std::sync::Arc::new(help.fill(&[])),
            help,
            id: Name::from(&rule.id),
        }
    }
}

/// What a rule's diagnostics share — its id, citation and help, their file's name —
/// copied for a run of them made on one core. Were the originals shared by the
/// diagnostics made on every core, each core's raising of their counts would wait for
/// the other's: most of the time making diagnostics went so.
pub struct Shared {
    id: Name,
    cite: Arc<Cite>,
    help: Arc<Text>,
    /// The name of the last file placed in, and its copy here.
    file: Option<(Name, Name)>,
}

impl Shared {
    pub fn of(rule: &Rule, texts: &RuleTexts) -> Shared {
        Shared {
            id: Name::from(texts.id.as_str()),
            cite: Arc::new(Cite::clone(&rule.cite)),
            help: Arc::new(Text::clone(&texts.shared_help)),
            file: None,
        }
    }

    /// The copy of `name` shared here.
    fn file(&mut self, name: &Name) -> Name {
        match &self.file {
            Some((of, copy)) if of.is(name) => copy.clone(),
            _ => {
                let copy = Name::from(name.as_str());
                self.file = Some((name.clone(), copy.clone()));
                copy
            }
        }
    }
}

/// A finding of `rule` as a diagnostic: placed, its message and help filled, its
/// texts cited.
pub fn diagnostic(
    rule: &Rule,
    texts: &RuleTexts,
    shared: &mut Shared,
    raw: RawFinding,
) -> Diagnostic {
    let (source, span, targets, line_col) = raw.at.resolve(&raw.field);
    let message = texts
        .messages
        .get(raw.key.as_str())
        .or_else(|| texts.messages.get("default"))
        .map_or_else(Text::default, |template| template.fill(&raw.values));
    let file = shared.file(&source.name);
    let mut d = Diagnostic::named_problem_at(
        Origin::Finding,
        (shared.id.clone(), file),
        (source, span, line_col),
        message,
    );
    d.severity = rule.severity;
    d.cite = Some(Arc::clone(&shared.cite));
    // A finding that reports a parameter's own value (a count check's `min`, say)
    // shares the help filled once: a run may keep tens of thousands of findings.
    let own_help = texts
        .help_names
        .iter()
        .any(|(name, param)| message::shows_as(&raw.values, name, param.as_ref()) == Some(false));
    d.help = Some(if own_help {
        Arc::new(texts.help.fill(&raw.values))
    } else {
        Arc::clone(&shared.help)
    });
    d.targets = targets;
    d
}

/// A rule's figures from its tallies.
pub fn figures(rule: &Rule, tallies: Vec<Tally>) -> Vec<Figure> {
    tallies
        .into_iter()
        .map(|t| {
            let measured = if t.counted == 0 {
                1.0
            } else {
                t.passed as f64 / t.counted as f64
            };
            Figure {
                id: t.id,
                title: rule.figure.clone().unwrap_or_else(|| rule.title.clone()),
                measured,
                numerator: t.passed,
                denominator: t.counted,
                threshold: t.threshold,
                ok: measured + 1e-9 >= t.threshold,
            }
        })
        .collect()
}

/// A value read from a record (a field path, joins included), as messages show it.
pub fn value_of(rec: &Rec, cx: &super::Cx, path: &str) -> Dynamic {
    match super::checks::path::Path::parse(path) {
        Ok(path) => value_at(rec, cx, &path),
        Err(_) => Dynamic::UNIT,
    }
}

/// [`value_of`] for a path parsed already.
pub fn value_at(rec: &Rec, cx: &super::Cx, path: &super::checks::path::Path) -> Dynamic {
    match path.value(*rec, cx) {
        Some(ValueRef::Seq) => {
            Dynamic::from_array(path.items(*rec, cx).map(|v| dynamic(Some(v))).collect())
        }
        other => dynamic(other),
    }
}

/// A value as messages and scripts hold it: `()` for absent (and for a mapping, which
/// a message cannot show).
pub fn dynamic(value: Option<ValueRef>) -> Dynamic {
    match value {
        None | Some(ValueRef::Map) | Some(ValueRef::Seq) => Dynamic::UNIT,
        Some(ValueRef::Str(s)) => Dynamic::from(rhai::ImmutableString::from(s)),
        Some(ValueRef::Bool(b)) => Dynamic::from_bool(b),
        Some(ValueRef::Int(i)) => Dynamic::from_int(i),
        Some(ValueRef::Float(x)) => Dynamic::from_float(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::source::SourceFile;

    /// A finding placed at `start` of `source`, told apart by its key.
    fn at(source: &std::sync::Arc<SourceFile>, start: u32, key: &str) -> RawFinding {
        RawFinding {
            at: Anchor::Placed {
                source: std::sync::Arc::clone(source),
                span: Span {
                    start,
                    end: start + 1,
                },
                targets: Vec::new(),
                line_col: None,
            },
            field: "f".into(),
            key: key.into(),
            values: Box::new([]),
        }
    }

    #[test]
    fn findings_come_in_place_order_with_ties_as_they_came() {
        let (a, b) = (
            SourceFile::from_text("a.csv", "x"),
            SourceFile::from_text("b.csv", "x"),
        );
        // Runs in place order, one a document, taken in turn; ties at 5 and at 9.
        let mut findings = Vec::new();
        for (run, source) in [(0, &b), (1, &a), (2, &b), (3, &a)] {
            for start in [run, 5, 9 - run, 9, 20 + run] {
                findings.push(at(source, start, &format!("r{run}s{start}")));
            }
        }
        let mut expected = findings.clone();
        expected.sort_by(RawFinding::place_cmp);
        let keys = |f: &[RawFinding]| f.iter().map(|f| f.key.to_string()).collect::<Vec<_>>();
        put_in_place_order(&mut findings);
        assert_eq!(keys(&findings), keys(&expected));
        // In order already: left as it is.
        put_in_place_order(&mut findings);
        assert_eq!(keys(&findings), keys(&expected));
        // Past the limit, the first by place are kept, the rest counted.
        let mut not_kept = 0;
        let mut kept = findings.clone();
        kept.reverse();
        keep_first(&mut kept, 7, &mut not_kept);
        assert_eq!(not_kept, 13);
        assert_eq!(
            keys(&kept)[..],
            {
                let mut first: Vec<RawFinding> = findings.clone();
                first.reverse();
                first.sort_by(RawFinding::place_cmp);
                keys(&first[..7])
            }[..]
        );
        // Ties in place, field and key, in a file whose name is held twice (by two
        // sources of the same name): kept in the order they came.
        let other_a = SourceFile::from_text("a.csv", "y");
        let mut tied: Vec<RawFinding> = (0..6)
            .map(|i| {
                let mut f = at(if i % 2 == 0 { &a } else { &other_a }, 3, "same");
                f.values = Box::new([("n".into(), Dynamic::from_int(i))]);
                f
            })
            .collect();
        tied.push(at(&other_a, 1, "first"));
        tied.push(at(&b, 0, "last"));
        put_in_place_order(&mut tied);
        let shown: Vec<String> = tied
            .iter()
            .map(|f| match f.values.first() {
                Some((_, n)) => format!("{}{n}", f.key),
                None => f.key.to_string(),
            })
            .collect();
        assert_eq!(
            shown,
            ["first", "same0", "same1", "same2", "same3", "same4", "same5", "last"]
        );
    }

    /// Places marked by `parts`, each its own gathering, merged as streamed chunks are.
    fn merged(parts: &[(&str, &[Option<u32>])]) -> Aggregates {
        let mut all = Aggregates::default();
        for (key, places) in parts {
            let mut part = Aggregates::default();
            for &at in *places {
                part.mark("seen", key, at);
            }
            all.merge(part);
        }
        all.settle();
        all
    }

    #[test]
    fn places_marked_in_parts_are_marked_once_merged() {
        let all = merged(&[
            ("T1", &[Some(0), Some(63), None]),
            ("T2", &[None]),
            ("T1", &[Some(64), Some(200_000)]),
        ]);
        let t1 = &all.marked["seen"]["T1"];
        for at in [0, 63, 64, 200_000] {
            assert!(t1.has(at), "{at}");
        }
        for at in [1, 62, 65, 199_999, 200_001, u32::MAX] {
            assert!(!t1.has(at), "{at}");
        }
        // A key with nothing marked is there, empty.
        assert_eq!(all.marked["seen"]["T2"], Marks::default());
        assert!(!all.is_empty());
    }
}
