//! Streaming evaluation of large Results tables: each chunk of rows is read into its
//! documents, validated, checked by the per-record rules and dropped, chunks in
//! parallel. What whole-submission rules need from results (which tasks have results,
//! which objects were inspected, how many results were published) is gathered into each
//! submission's [`ResultsDigest`]; those rules run afterwards with the others.
//!
//! A table streams only when every rule that reads results has a native equivalent
//! (see [`crate::rules::native`]); otherwise it is read whole and every script sees it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::policy::{Each, Policy, Rule};
use crate::read::input::{self, Document, Loaded, Streamable};
use crate::read::table::{CsvTable, FlatChunk, MAX_ERRORS};
use crate::rules::engine;
use crate::rules::native::{self, NativeRule, Out, Rec, ResultsDigest};
use crate::submission::{self, Submission};

type Key = (String, Option<i64>);

/// The first rule that reads results (it is about them, or its code reads `.results`)
/// through an interpreted script: it needs every results document whole, so tables are
/// not streamed. With none, they are.
pub fn interpreted_results_rule(policy: &Policy) -> Option<&Rule> {
    policy.rules.iter().find(|rule| {
        let reads_results = rule.on.contains(&"Results") || reads_submission_results(rule);
        reads_results && native::for_rule(rule).is_none()
    })
}

/// Whether a script's code (not its comments) reads `….results` of the submission.
fn reads_submission_results(rule: &Rule) -> bool {
    rule.script.text.lines().any(|line| {
        let code = line.split("//").next().unwrap_or_default();
        code.contains(".results")
    })
}

/// The rules run per Results record while streaming.
fn record_rules(policy: &Policy) -> Vec<(usize, &Rule, &'static dyn NativeRule)> {
    policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.on.contains(&"Results"))
        .filter_map(|(i, rule)| {
            let native = native::for_rule(rule)?;
            let per_record = rule.each == Each::Record
                || (rule.each == Each::Submission && native.scans_records());
            per_record.then_some((i, rule, native))
        })
        .collect()
}

/// A rule's findings as diagnostics, and its tallies.
#[derive(Default)]
struct Findings {
    diagnostics: Vec<Diagnostic>,
    figures: Vec<(String, i64, i64, f64)>,
}

/// The findings of a rule over a submission's documents, chunk by chunk: kept in parts
/// and moved once, into the report, as a diagnostic is large and copying them chunk
/// after chunk adds up.
#[derive(Default)]
struct Gathered {
    parts: Vec<Vec<Diagnostic>>,
    figures: Vec<(String, i64, i64, f64)>,
}

impl Findings {
    fn of(rule: &Rule, out: Out) -> Findings {
        Findings {
            diagnostics: out
                .findings
                .into_iter()
                .map(|f| engine::finding(rule, &rule.params, f))
                .collect(),
            figures: out.figures,
        }
    }
}

impl Gathered {
    fn add(&mut self, found: Findings) {
        if !found.diagnostics.is_empty() {
            self.parts.push(found.diagnostics);
        }
        self.figures.extend(found.figures);
    }
}

/// A document of a streamed table: its submission and task. A document may go on over
/// several chunks.
type Group = (Key, String);

/// What one chunk gives, by document.
#[derive(Default)]
struct ChunkOutput {
    /// Problems reading the table: as for a table read whole, it gives no documents.
    errors: Vec<Diagnostic>,
    /// Documents with invalid values, and those problems: as a document read whole, such
    /// a document is not checked at all, in no chunk.
    invalid: Vec<Group>,
    validation: Vec<Diagnostic>,
    groups: Vec<Group>,
    /// (rule index, document) → findings and tallies. Findings are made diagnostics in
    /// the chunk, so that they hold no reference to the chunk's documents.
    outs: Vec<((usize, Group), Findings)>,
    /// Document checks: only the first chunk of a document speaks for it, as the whole
    /// document would once.
    document_checks: Vec<((usize, Group), Findings)>,
    digests: Vec<(Group, ResultsDigest)>,
    /// Calendar gaps, by rule and document.
    gaps: Vec<((usize, Group), Diagnostic)>,
}

/// Submissions by key: those of the loaded documents, and more made on demand for
/// results of a (department, year) that nothing else names.
pub struct Submissions<'d> {
    pub list: Mutex<Vec<Arc<Submission>>>,
    documents: &'d [Document],
    all_plans: Arc<Vec<Document>>,
}

impl<'d> Submissions<'d> {
    pub fn new(documents: &'d [Document]) -> Submissions<'d> {
        let list = submission::group(documents);
        let all_plans = list
            .first()
            .map(|s| Arc::clone(&s.all_plans))
            .unwrap_or_else(|| {
                Arc::new(
                    documents
                        .iter()
                        .filter(|d| d.kind() == "Plan")
                        .cloned()
                        .collect(),
                )
            });
        Submissions {
            list: Mutex::new(list),
            documents,
            all_plans,
        }
    }

    fn get(&self, key: &Key) -> Arc<Submission> {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sub) = list
            .iter()
            .find(|s| s.department == key.0 && s.year == key.1)
        {
            return Arc::clone(sub);
        }
        let sub = Arc::new(submission::for_key(
            self.documents,
            &self.all_plans,
            key.0.clone(),
            key.1,
        ));
        list.push(Arc::clone(&sub));
        sub
    }

    pub fn into_list(self) -> Vec<Arc<Submission>> {
        self.list.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// Tallies of a rule over a submission's streamed results: (rule index, department,
/// year) → (figure id, passed, counted, threshold).
pub type Tallies = HashMap<(usize, String, Option<i64>), Vec<(String, i64, i64, f64)>>;

/// The outcome of streaming: diagnostics of the per-record rules, and their tallies,
/// which join those of the submission's other documents.
#[derive(Default)]
pub struct Streamed {
    /// In order, in parts as they were found: a report moves each once, into its own
    /// list (a million-row table may give a hundred thousand findings).
    pub diagnostics: Vec<Vec<Diagnostic>>,
    pub tallies: Tallies,
    pub documents: usize,
}

/// Parses (and with `policy`, checks) every streamed table. Digests are left in the
/// submissions for the whole-submission rules that run next.
pub fn run(
    tables: Vec<Streamable>,
    policy: Option<&Policy>,
    subs: &Submissions,
    as_of: &str,
    chunk_rows: usize,
) -> Streamed {
    let rules = policy.map(record_rules).unwrap_or_default();
    let with_objects = policy.is_some_and(|p| {
        p.rules
            .iter()
            .filter_map(native::for_rule)
            .any(|n| n.reads_inspected_objects())
    });
    let mut streamed = Streamed::default();
    let mut outs: HashMap<(usize, Key), Gathered> = HashMap::new();
    let mut order: Vec<(usize, Key)> = Vec::new();
    let mut digests: HashMap<Key, ResultsDigest> = HashMap::new();
    let mut gaps: HashMap<usize, Diagnostic> = HashMap::new();
    for streamable in tables {
        let table = &streamable.table;
        let chunks: Vec<ChunkOutput> = table
            .chunks(chunk_rows)
            .into_par_iter()
            .map(|range| chunk(table, range, policy, &rules, subs, (as_of, with_objects)))
            .collect();
        let errors: Vec<Diagnostic> = chunks
            .iter()
            .flat_map(|c| c.errors.iter().cloned())
            .take(MAX_ERRORS)
            .collect();
        if !errors.is_empty() {
            streamed.diagnostics.push(errors);
            continue;
        }
        let invalid: HashSet<Group> = chunks.iter().flat_map(|c| c.invalid.clone()).collect();
        let valid = |group: &Group| !invalid.contains(group);
        // Digests are merged side by side (their sets of objects are large); in order,
        // so that the first document stays the first.
        let mut chunks = chunks;
        let merged = chunks
            .par_iter_mut()
            .map(|output| {
                let mut by_key: HashMap<Key, ResultsDigest> = HashMap::new();
                for ((key, _), digest) in std::mem::take(&mut output.digests)
                    .into_iter()
                    .filter(|(g, _)| valid(g))
                {
                    by_key.entry(key).or_default().merge(digest);
                }
                by_key
            })
            .reduce(HashMap::new, |mut left, right| {
                for (key, digest) in right {
                    left.entry(key).or_default().merge(digest);
                }
                left
            });
        for (key, digest) in merged {
            digests.entry(key).or_default().merge(digest);
        }
        let mut first_check: HashSet<(usize, Group)> = HashSet::new();
        let mut groups: HashSet<Group> = HashSet::new();
        for output in chunks {
            streamed.diagnostics.push(output.validation);
            groups.extend(output.groups.into_iter().filter(valid));
            let mut add = |(index, (key, _)): (usize, Group), found: Findings| {
                let key = (index, key);
                match outs.get_mut(&key) {
                    Some(gathered) => gathered.add(found),
                    None => {
                        order.push(key.clone());
                        outs.entry(key).or_default().add(found);
                    }
                }
            };
            for (at, found) in output.outs {
                if valid(&at.1) {
                    add(at, found);
                }
            }
            for (at, found) in output.document_checks {
                if valid(&at.1) && first_check.insert(at.clone()) {
                    add(at, found);
                }
            }
            for ((rule, group), gap) in output.gaps {
                let earlier = gaps
                    .get(&rule)
                    .is_some_and(|g| (&g.file, g.line) <= (&gap.file, gap.line));
                if valid(&group) && !earlier {
                    gaps.insert(rule, gap);
                }
            }
        }
        streamed.documents += groups.len();
    }
    // Digests go to their submissions, with what their own Results documents say.
    for (key, digest) in digests {
        let sub = subs.get(&key);
        let mut own = ResultsDigest::of_documents(&sub);
        own.merge(digest);
        own.settle();
        // A digest already made would be of the same documents; keep that one then.
        let _ = sub.digest.set(own);
    }
    for key in order {
        let Some(found) = outs.remove(&key) else {
            continue;
        };
        if gaps.contains_key(&key.0) {
            continue;
        }
        streamed.diagnostics.extend(found.parts);
        let (index, (department, year)) = key;
        streamed
            .tallies
            .entry((index, department, year))
            .or_default()
            .extend(found.figures);
    }
    streamed.diagnostics.push(gaps.into_values().collect());
    streamed
}

fn chunk(
    table: &CsvTable,
    range: (usize, usize),
    policy: Option<&Policy>,
    rules: &[(usize, &Rule, &'static dyn NativeRule)],
    subs: &Submissions,
    (as_of, with_objects): (&str, bool),
) -> ChunkOutput {
    let run = Run {
        policy,
        rules,
        subs,
        as_of,
        with_objects,
    };
    let flat = FlatChunk::read(table, range);
    if let Some(output) = flat.and_then(|flat| flat_chunk(table, &flat, &run)) {
        return output;
    }
    let mut output = ChunkOutput::default();
    let trees = match table.chunk(range) {
        Ok(trees) => trees,
        Err(errors) => {
            output.errors = errors
                .iter()
                .map(|e| input::input_error(&e.source, &e.error))
                .collect();
            return output;
        }
    };
    let mut loaded = Loaded::default();
    for tree in trees {
        let source = Arc::clone(&tree.source);
        let group = group_of(&tree);
        let before = loaded.diagnostics.len();
        input::load_tree(&source, tree, &mut loaded);
        if loaded.diagnostics.len() > before {
            output.invalid.push(group);
        } else {
            output.groups.push(group);
        }
    }
    output.validation = std::mem::take(&mut loaded.diagnostics);
    if policy.is_none() {
        return output;
    }
    for doc in &loaded.documents {
        let root = Rec::root(&doc.tree);
        let tree = &doc.tree;
        let ids = tree
            .get(tree.root, doc.schema.records)
            .map_or(&[][..], |r| tree.seq(r));
        let has_records = root.value(doc.schema.records).is_some();
        // Record by record, every rule: the record's keys are read once.
        let walk = |visit: &mut dyn FnMut(Rec)| {
            let mut fields = Vec::with_capacity(24);
            for id in ids {
                Rec::fields_of(tree, *id, &mut fields);
                visit(Rec::with_fields(tree, *id, &fields));
            }
        };
        let records = ids.iter().map(|id| Rec::new(tree, *id));
        run.document(
            &mut output,
            group_of(tree),
            root,
            (has_records, records),
            &walk,
        );
    }
    output
}

/// A chunk whose rows were read in place: each document is read as a tree from its
/// first row (the rules read its fields, and a finding about it is placed there), its
/// records are the rows. `None` if a document cannot be read so: the chunk is then
/// read as trees.
fn flat_chunk(table: &CsvTable, flat: &FlatChunk, run: &Run) -> Option<ChunkOutput> {
    let mut output = ChunkOutput::default();
    for group in &flat.groups {
        let key: Group = (
            (group.department.to_owned(), Some(group.year)),
            group.task.to_owned(),
        );
        output.groups.push(key.clone());
        if run.policy.is_none() {
            continue;
        }
        let doc = Arc::new(table.validated_tree(group.first)?);
        let records = group.rows.iter().map(|&row| Rec::row(flat, row));
        let walk = |visit: &mut dyn FnMut(Rec)| {
            for &row in &group.rows {
                visit(Rec::row(flat, row));
            }
        };
        run.document(&mut output, key, Rec::root(&doc), (true, records), &walk);
    }
    Some(output)
}

/// Visits each record of a document with the given function.
type Walk<'w> = dyn Fn(&mut dyn FnMut(Rec)) + 'w;

/// What the per-record rules of a chunk are run with.
struct Run<'r> {
    policy: Option<&'r Policy>,
    rules: &'r [(usize, &'r Rule, &'static dyn NativeRule)],
    subs: &'r Submissions<'r>,
    as_of: &'r str,
    with_objects: bool,
}

impl Run<'_> {
    /// Digests a Results document of a chunk and runs the per-record rules over it:
    /// its document checks, then record by record (`walk` visits them), every rule.
    fn document<'d>(
        &self,
        output: &mut ChunkOutput,
        group: Group,
        root: Rec,
        (has_records, records): (bool, impl Iterator<Item = Rec<'d>>),
        walk: &Walk,
    ) {
        let Some(policy) = self.policy else {
            return;
        };
        let (department, year) = (group.0 .0.clone(), group.0 .1);
        let sub = self.subs.get(&(department, year));
        let mut digest = ResultsDigest {
            streamed: 1,
            ..ResultsDigest::default()
        };
        digest.add_records(root, has_records, records, self.with_objects);
        // The first document is where a submission-wide finding goes; holding the whole
        // chunk for it would keep every chunk alive.
        if let Some(first) = &digest.first {
            digest.first = Some(crate::submission::NodeRef {
                tree: Arc::new(first.tree.header_only()),
                id: 0,
            });
        }
        output.digests.push((group.clone(), digest));
        let rules = self.rules;
        let cxs: Vec<native::Cx> = rules
            .iter()
            .map(|&(_, rule, _)| {
                native::Cx::new(rule, self.as_of, &policy.calendar, &sub, Some(root))
            })
            .collect();
        let mut outs: Vec<Option<Out>> = Vec::with_capacity(rules.len());
        for (&(index, rule, native), cx) in rules.iter().zip(&cxs) {
            let mut out = Out::default();
            if rule.each == Each::Record && native.has_document_check() {
                if let Err(gap) = native.document(root, cx, &mut out) {
                    let gap = engine::calendar_gap(rule, &gap, &root.node());
                    output.gaps.push(((index, group.clone()), gap));
                    outs.push(None);
                    continue;
                }
                let checked = std::mem::take(&mut out);
                output
                    .document_checks
                    .push(((index, group.clone()), Findings::of(rule, checked)));
            }
            outs.push(Some(out));
        }
        walk(&mut |record: Rec| {
            for (i, (&(index, rule, native), cx)) in rules.iter().zip(&cxs).enumerate() {
                let Some(out) = outs[i].as_mut() else {
                    continue;
                };
                if let Err(gap) = native.record(record, cx, out) {
                    let gap = engine::calendar_gap(rule, &gap, &record.node());
                    output.gaps.push(((index, group.clone()), gap));
                    outs[i] = None;
                }
            }
        });
        for (&(index, rule, _), out) in rules.iter().zip(outs) {
            if let Some(out) = out {
                output
                    .outs
                    .push(((index, group.clone()), Findings::of(rule, out)));
            }
        }
    }
}

/// The document a tree of a streamed table is: department, year and task, as written.
fn group_of(tree: &crate::parse::tree::Tree) -> Group {
    let department = crate::schema::header_str(tree, "department").unwrap_or_default();
    let year = tree.int_at(tree.root, "year");
    let task = tree.str_at(tree.root, "task").unwrap_or_default();
    ((department.to_string(), year), task.to_owned())
}
