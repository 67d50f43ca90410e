//! Streaming large Results tables: each chunk of rows is read into its documents (in
//! place where the rows are plain, see [`FlatChunk`]), validated, run through every
//! rule that reads results records — declarative checks and scripts alike — and
//! dropped, chunks in parallel. What the whole-submission phase needs (tallies,
//! aggregates, the documents' headers) is gathered as it goes.

use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Gathered, Key, Submissions};
use crate::diag::Diagnostic;
use crate::parse::tree::{NodeRef, Tree};
use crate::read::input::{self, Loaded, Streamable};
use crate::read::record::Rec;
use crate::read::table::{CsvTable, FlatChunk, Spare, MAX_ERRORS};
use crate::rules::out::RowRoom;
use crate::rules::{CompiledRule, Cx, Out};
use crate::shared::lock;

/// A document of a streamed table: its submission and task. A document may go on over
/// several chunks.
type Group = (Key, String);

/// What one chunk gives, by document.
#[derive(Default)]
struct ChunkOutput {
    /// The chunk's place in its table.
    index: usize,
    /// Findings made at the chunk's rows by each rule, kept or not.
    made: Vec<(usize, u64)>,
    /// Problems reading the table: as for a table read whole, it gives no documents.
    errors: Vec<Diagnostic>,
    /// Documents with invalid values, and those problems: as a document read whole, such
    /// a document is not checked at all, in no chunk.
    invalid: Vec<Group>,
    validation: Vec<Diagnostic>,
    /// Documents, in order, with their header (department, year, task).
    groups: Vec<(Group, NodeRef)>,
    /// (rule, document) → what the rule gave over the chunk's records.
    outs: Vec<((usize, Group), Gathered)>,
    /// Document checks: only the first chunk of a document speaks for it, as the whole
    /// document would once.
    document_checks: Vec<((usize, Group), Gathered)>,
}

/// What streaming gives: the outputs of the rules by (rule, submission), the problems
/// reading, the documents read, and each submission's Results documents (headers).
#[derive(Default)]
pub struct Streamed {
    pub outputs: HashMap<(usize, Key), Gathered>,
    /// In order, in parts as they were found: a report moves each once.
    pub diagnostics: Vec<Vec<Diagnostic>>,
    pub documents: usize,
    pub headers: Vec<(Key, NodeRef)>,
}

/// Chunks merged between two settlings of the values gathered: what is held at once is
/// these chunks' values and what the rules gathered so far, not every chunk's.
const SETTLE_EVERY: usize = 16;

/// Parses (and with `rules`, checks) every streamed table; `progress` is told the bytes
/// of each chunk done.
pub fn run(
    tables: Vec<Streamable>,
    rules: Option<&[CompiledRule]>,
    subs: &Submissions,
    (as_of, calendar): (&str, &crate::domain::calendar::Calendar),
    chunk_rows: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Streamed {
    let mut streamed = Streamed::default();
    for streamable in tables {
        let table = &streamable.table;
        let run = Run {
            rules,
            subs,
            as_of,
            calendar,
        };
        let rooms = rules.map(Rooms::new);
        let ranges: Vec<(usize, (usize, usize))> =
            table.chunks(chunk_rows).into_iter().enumerate().collect();
        let check = |rooms: Option<&Rooms>, progress: &(dyn Fn(u64) + Sync)| {
            let merging = Merging::default();
            let spares = Mutex::new(Vec::new());
            // Each core takes the next chunk in table order as soon as it is free, with
            // no wait for the others at any point: the outputs done are merged in order
            // by whichever core finds the merge free, so that few wait to be merged.
            crate::in_turn::in_turn(&ranges, |&(index, range)| {
                let output = chunk(table, (index, range), &run, (rooms, &spares));
                // Its rows are read: a mapped table's pages go back to the kernel.
                table.source.text.release(range);
                if let Some(rooms) = rooms {
                    rooms.record(index, &output.made);
                }
                progress(range.1.saturating_sub(range.0) as u64);
                merging.done(output);
            });
            merging.finish()
        };
        let mut merged = check(rooms.as_ref(), progress);
        // A document found invalid drops its findings from every chunk, so the room
        // earlier chunks left may have been counted with findings that are not kept:
        // checked again without.
        if !merged.invalid.is_empty()
            && rooms
                .as_ref()
                .is_some_and(|r| r.used.load(Ordering::Relaxed))
        {
            merged = check(None, &|_| ());
        }
        merged.into_streamed(&mut streamed);
    }
    streamed
}

/// Chunk outputs as they are done, in any order, merged in chunk order: an output waits
/// in `ready` until those before it are merged.
#[derive(Default)]
struct Merging {
    ready: Mutex<BTreeMap<usize, ChunkOutput>>,
    merged: Mutex<(Merged, usize)>,
}

impl Merging {
    /// Takes a chunk's output, and merges what is ready unless another core is merging
    /// (it will merge this one too, or the next core done will).
    fn done(&self, output: ChunkOutput) {
        lock(&self.ready).insert(output.index, output);
        if let Ok(mut merged) = self.merged.try_lock() {
            self.merge_ready(&mut merged);
        }
    }

    fn merge_ready(&self, (merged, next): &mut (Merged, usize)) {
        loop {
            let Some(output) = lock(&self.ready).remove(next) else {
                return;
            };
            merged.add(output);
            *next += 1;
            if *next % SETTLE_EVERY == 0 {
                merged.settle();
            }
        }
    }

    /// Every chunk done: the rest merged.
    fn finish(self) -> Merged {
        let mut merged = lock(&self.merged);
        self.merge_ready(&mut merged);
        merged.0.settle();
        std::mem::take(&mut merged.0)
    }
}

/// The outputs of a table's chunks merged in chunk order, by rule and document: which
/// documents are invalid is known only at the end, when those of the invalid ones are
/// dropped.
#[derive(Default)]
struct Merged {
    /// Problems reading the table: if any, the table gives only those.
    errors: Vec<Diagnostic>,
    invalid: HashSet<Group>,
    validation: Vec<Vec<Diagnostic>>,
    /// Each document's header, from its first chunk.
    headers: Vec<(Group, NodeRef)>,
    seen: HashSet<Group>,
    /// By (rule, document), in the order first met.
    outs: Vec<((usize, Group), Gathered)>,
    at: HashMap<(usize, Group), usize>,
    /// Document checks: only the first chunk of a document speaks for it.
    first_check: HashSet<(usize, Group)>,
}

impl Merged {
    fn add(&mut self, output: ChunkOutput) {
        if self.errors.len() < MAX_ERRORS {
            let room = MAX_ERRORS - self.errors.len();
            self.errors.extend(output.errors.into_iter().take(room));
        }
        if !self.errors.is_empty() {
            return;
        }
        self.invalid.extend(output.invalid);
        self.validation.push(output.validation);
        for (group, header) in output.groups {
            if self.seen.insert(group.clone()) {
                self.headers.push((group, header));
            }
        }
        for (at, found) in output.outs {
            self.merge(at, found);
        }
        for (at, found) in output.document_checks {
            if self.first_check.insert(at.clone()) {
                self.merge(at, found);
            }
        }
    }

    fn merge(&mut self, at: (usize, Group), found: Gathered) {
        match self.at.get(&at) {
            Some(&i) => self.outs[i].1.merge(found),
            None => {
                self.at.insert(at.clone(), self.outs.len());
                self.outs.push((at, found));
            }
        }
    }

    /// Values gathered so far made sets: bounded by the distinct values, not the rows.
    /// On the merging core alone: a parallel loop here could take up a chunk's work
    /// while the merge is held.
    fn settle(&mut self) {
        for (_, gathered) in &mut self.outs {
            gathered.out.aggregates.settle();
        }
    }

    fn into_streamed(self, streamed: &mut Streamed) {
        if !self.errors.is_empty() {
            streamed.diagnostics.push(self.errors);
            return;
        }
        let valid = |group: &Group| !self.invalid.contains(group);
        streamed.diagnostics.extend(self.validation);
        for (group, header) in self.headers {
            if valid(&group) {
                streamed.documents += 1;
                streamed.headers.push((group.0, header));
            }
        }
        for ((index, (key, task)), found) in self.outs {
            if valid(&(key.clone(), task)) {
                streamed
                    .outputs
                    .entry((index, key))
                    .or_default()
                    .merge(found);
            }
        }
    }
}

/// What the rules of a chunk are run with.
struct Run<'r> {
    rules: Option<&'r [CompiledRule]>,
    subs: &'r Submissions<'r>,
    as_of: &'r str,
    calendar: &'r crate::domain::calendar::Calendar,
}

/// Findings that earlier chunks of a table made at their rows, by rule: a rule keeps
/// its first findings by place, and those rows come before a chunk's, so a chunk has
/// room for only its rule's limit less those ([`RowRoom`]). Only the chunks done so far
/// are known: a chunk may make findings that are not kept, never miss one that is.
struct Rooms {
    limits: Vec<usize>,
    /// By rule: (chunk, findings made at its rows).
    made: Mutex<Vec<Vec<(usize, u64)>>>,
    /// Whether some chunk had less room than its rule's limit.
    used: AtomicBool,
}

impl Rooms {
    fn new(rules: &[CompiledRule]) -> Rooms {
        Rooms {
            limits: rules.iter().map(|r| r.max_findings).collect(),
            made: Mutex::new(vec![Vec::new(); rules.len()]),
            used: AtomicBool::new(false),
        }
    }

    /// The findings chunk `chunk` may keep at its rows for rule `rule`.
    fn room(&self, chunk: usize, rule: usize) -> RowRoom {
        let made = lock(&self.made);
        let earlier: u64 = made.get(rule).map_or(0, |m| {
            m.iter().filter(|(c, _)| *c < chunk).map(|(_, n)| n).sum()
        });
        if earlier > 0 {
            self.used.store(true, Ordering::Relaxed);
        }
        let limit = self.limits.get(rule).copied().unwrap_or(usize::MAX);
        RowRoom::new(limit.saturating_sub(usize::try_from(earlier).unwrap_or(usize::MAX)))
    }

    fn record(&self, chunk: usize, counts: &[(usize, u64)]) {
        let mut made = lock(&self.made);
        for &(rule, n) in counts {
            if let Some(m) = made.get_mut(rule) {
                m.push((chunk, n));
            }
        }
    }
}

fn chunk<'t>(
    table: &'t CsvTable,
    (index, range): (usize, (usize, usize)),
    run: &Run,
    (rooms, spares): (Option<&Rooms>, &Mutex<Vec<Spare<'t>>>),
) -> ChunkOutput {
    let spare = lock(spares).pop().unwrap_or_default();
    if let Some(flat) = FlatChunk::read_into(table, range, spare) {
        let output = flat_chunk(table, &flat, run, (index, rooms));
        lock(spares).push(flat.into_spare());
        if let Some(output) = output {
            return output;
        }
    }
    let mut output = ChunkOutput {
        index,
        ..ChunkOutput::default()
    };
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
    let mut groups = Vec::new();
    for tree in trees {
        let source = Arc::clone(&tree.source);
        let group = group_of(&tree);
        let before = loaded.documents.len();
        input::load_tree(&source, tree, &mut loaded);
        // A document with a bad value in a record is still read (the record's value is
        // reported and read as absent); one whose header is bad is not.
        if loaded.documents.len() > before {
            groups.push(group);
        } else {
            output.invalid.push(group);
        }
    }
    output.validation = std::mem::take(&mut loaded.diagnostics);
    for (doc, group) in loaded.documents.iter().zip(groups) {
        let tree = &doc.tree;
        let ids = tree
            .get(tree.root, doc.schema.records)
            .map_or(&[][..], |r| tree.seq(r));
        let records = ids.iter().map(|id| Rec::new(tree, *id)).collect();
        run.document(&mut output, group, Rec::root(tree), records, rooms);
    }
    output
}

/// A chunk whose rows were read in place: each document is read as a tree from its
/// first row (the rules read its fields, and a finding about it is placed there), its
/// records are the rows. `None` if a document cannot be read so: the chunk is then
/// read as trees.
fn flat_chunk(
    table: &CsvTable,
    flat: &FlatChunk,
    run: &Run,
    (index, rooms): (usize, Option<&Rooms>),
) -> Option<ChunkOutput> {
    let mut output = ChunkOutput {
        index,
        ..ChunkOutput::default()
    };
    for group in &flat.groups {
        let key: Group = (
            (group.department.to_owned(), Some(group.year)),
            group.task.to_owned(),
        );
        let doc = Arc::new(table.validated_tree(group.first)?);
        let records = group.rows.iter().map(|&row| Rec::row(flat, row)).collect();
        run.document(&mut output, key, Rec::root(&doc), records, rooms);
    }
    Some(output)
}

impl Run<'_> {
    /// A Results document of a chunk: its header kept, and the rules that read results
    /// run over it: their document checks, then its `records`.
    fn document(
        &self,
        output: &mut ChunkOutput,
        group: Group,
        root: Rec,
        records: Vec<Rec>,
        rooms: Option<&Rooms>,
    ) {
        // The header is what a whole-submission rule sees of the document; holding the
        // whole chunk for it would keep every chunk alive.
        let (tree, _) = root.tree_node();
        let header = NodeRef {
            tree: Arc::new(tree.header_only()),
            id: 0,
        };
        output.groups.push((group.clone(), header));
        let Some(rules) = self.rules else {
            return;
        };
        let sub = self.subs.get(&group.0);
        let cx = Cx::new(self.as_of, self.calendar, &sub, Some(root));
        for (index, rule) in rules.iter().enumerate() {
            if rule.reads_documents_of("Results") {
                let mut out = Out::default();
                rule.document(root, &cx, &mut out);
                output
                    .document_checks
                    .push(((index, group.clone()), Gathered::of(rule, out)));
            }
        }
        let reading: Vec<(usize, &CompiledRule)> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.reads_records_of("Results"))
            .collect();
        if reading.is_empty() {
            return;
        }
        // Rules that take records one by one report them in row order; a script
        // takes them in batches.
        let mut outs: Vec<Out> = reading
            .iter()
            .map(|(index, rule)| Out {
                rows: rooms
                    .filter(|_| !rule.takes_batches())
                    .map(|r| r.room(output.index, *index)),
                ..Out::default()
            })
            .collect();
        super::run_records(&reading, &records, &cx, &mut outs);
        for ((index, rule), out) in reading.into_iter().zip(outs) {
            if let Some(rows) = out.rows.as_ref().filter(|r| r.made > 0) {
                output.made.push((index, rows.made));
            }
            output
                .outs
                .push(((index, group.clone()), Gathered::of(rule, out)));
        }
    }
}

/// The document a tree of a streamed table is: department, year and task, as written.
fn group_of(tree: &Tree) -> Group {
    let department = crate::schema::header_str(tree, "department").unwrap_or_default();
    let year = tree.int_at(tree.root, "year");
    let task = tree.str_at(tree.root, "task").unwrap_or_default();
    ((department.to_string(), year), task.to_owned())
}
