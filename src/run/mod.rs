//! Running a policy's compiled rules over the submissions: every record and document
//! of the rules' kinds — large Results tables streamed in chunks ([`stream`]) — then
//! each rule's whole-submission phase, with what the record and document phases
//! gathered. Findings become diagnostics where they are made, so that nothing keeps a
//! chunk alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::diag::{Diagnostic, Figure, NotKept};
use crate::domain::calendar::Calendar;
use crate::read::input::{Document, Streamable};
use crate::read::record::Rec;
use crate::rules::{CompiledRule, Cx, Out};
use crate::submission::digest::{ResultsDigest, ResultsDocument};
use crate::submission::{self, Submission};

pub mod stream;

/// A submission's key: (department, year).
pub type Key = (String, Option<i64>);

/// Records of a document per parallel task: enough to spread a large document over the
/// cores, few enough that the per-task outputs stay small.
const RECORDS_PER_TASK: usize = 4096;

/// What a rule gave over some documents: its findings, made diagnostics (in parts, as
/// they were found), and the rest of its output (tallies, problems, aggregates).
/// Findings past the rule's limit are counted in `out.not_kept`, not kept.
#[derive(Debug, Default)]
pub struct Gathered {
    pub parts: Vec<Vec<Diagnostic>>,
    pub out: Out,
    /// Findings in `parts`.
    kept: usize,
    /// The rule's limit on findings kept (none before the first output is gathered).
    limit: Option<usize>,
}

impl Gathered {
    pub fn of(rule: &CompiledRule, mut out: Out) -> Gathered {
        let findings = std::mem::take(&mut out.findings);
        let parts = if findings.is_empty() {
            Vec::new()
        } else {
            vec![findings.into_iter().map(|f| rule.diagnostic(f)).collect()]
        };
        let mut gathered = Gathered {
            parts: Vec::new(),
            out,
            kept: 0,
            limit: Some(rule.max_findings),
        };
        gathered.add_parts(parts);
        gathered
    }

    /// Adds what `other` gathered after what this holds, within the rule's limit: the
    /// findings kept are the first ones, in the order of the documents and records.
    pub fn merge(&mut self, other: Gathered) {
        self.limit = self.limit.or(other.limit);
        self.add_parts(other.parts);
        self.out.merge(other.out);
    }

    fn add_parts(&mut self, parts: Vec<Vec<Diagnostic>>) {
        let limit = self.limit.unwrap_or(usize::MAX);
        for mut part in parts {
            let room = limit.saturating_sub(self.kept);
            if part.len() > room {
                self.out.not_kept += (part.len() - room) as u64;
                part.truncate(room);
            }
            if !part.is_empty() {
                self.kept += part.len();
                self.parts.push(part);
            }
        }
    }
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

    pub fn get(&self, key: &Key) -> Arc<Submission> {
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

/// What a run found.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Findings and problems, in parts: a report moves each once, into its own list.
    pub diagnostics: Vec<Vec<Diagnostic>>,
    pub figures: Vec<Figure>,
    /// Documents read from streamed tables.
    pub streamed_documents: usize,
    /// Rules that found more than they keep: how many of their findings were kept,
    /// and how many more were found.
    pub not_kept: Vec<NotKept>,
}

/// What a run needs besides the rules and the documents.
pub struct Setting<'a> {
    pub as_of: &'a str,
    pub calendar: &'a Calendar,
    pub chunk_rows: usize,
    /// Told the bytes of each streamed chunk checked.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// Reads and validates streamed tables without checking them (the benchmark's
/// baseline).
pub fn parse_only(
    documents: &[Document],
    tables: Vec<Streamable>,
    chunk_rows: usize,
) -> Evaluation {
    let subs = Submissions::new(documents);
    let calendar = Calendar::default();
    let streamed = stream::run(tables, None, &subs, ("", &calendar), chunk_rows, &|_| ());
    Evaluation {
        diagnostics: streamed.diagnostics,
        figures: Vec::new(),
        streamed_documents: streamed.documents,
        not_kept: Vec::new(),
    }
}

/// Runs every rule over the documents and streamed tables.
pub fn evaluate(
    rules: &[CompiledRule],
    documents: &[Document],
    tables: Vec<Streamable>,
    setting: &Setting,
) -> Evaluation {
    let subs = Submissions::new(documents);
    let streamed = stream::run(
        tables,
        Some(rules),
        &subs,
        (setting.as_of, setting.calendar),
        setting.chunk_rows,
        setting.progress,
    );
    let mut evaluation = Evaluation {
        diagnostics: streamed.diagnostics,
        figures: Vec::new(),
        streamed_documents: streamed.documents,
        not_kept: Vec::new(),
    };
    let mut outputs = streamed.outputs;
    let submissions = subs.into_list();
    // Each submission's Results documents: its own, then the streamed ones' headers.
    for sub in &submissions {
        let mut digest = ResultsDigest::of_documents(sub);
        digest.documents.extend(
            streamed
                .headers
                .iter()
                .filter(|(key, _)| key.0 == sub.department && key.1 == sub.year)
                .map(|(_, node)| ResultsDocument {
                    node: node.clone(),
                    streamed: true,
                }),
        );
        let _ = sub.digest.set(digest);
    }
    // Documents held whole: undated ones belong to several submissions and are checked
    // once, in the first.
    let mut seen: Vec<*const crate::parse::tree::Tree> = Vec::new();
    for sub in &submissions {
        let key: Key = (sub.department.clone(), sub.year);
        for doc in &sub.documents {
            let ptr = Arc::as_ptr(&doc.tree);
            if seen.contains(&ptr) {
                continue;
            }
            seen.push(ptr);
            for (index, found) in check_document(rules, sub, doc, setting) {
                outputs
                    .entry((index, key.clone()))
                    .or_default()
                    .merge(found);
            }
        }
    }
    // Whole-submission phases, rules side by side, each with what it gathered.
    let mut by_rule: Vec<HashMap<Key, Gathered>> = rules.iter().map(|_| HashMap::new()).collect();
    for ((index, key), gathered) in outputs {
        if let Some(mine) = by_rule.get_mut(index) {
            mine.insert(key, gathered);
        }
    }
    let per_rule: Vec<Vec<(Key, Gathered)>> = rules
        .par_iter()
        .zip(by_rule.into_par_iter())
        .map(|(rule, mut gathered)| {
            let mut mine: Vec<(Key, Gathered)> = Vec::new();
            for sub in &submissions {
                let key: Key = (sub.department.clone(), sub.year);
                let mut g = gathered.remove(&key).unwrap_or_default();
                if rule.reads_submission() && has_kinds(rule, sub) {
                    submission_phase(rule, sub, setting, &mut g);
                }
                mine.push((key, g));
            }
            mine.extend(gathered);
            mine
        })
        .collect();
    for (rule, gathered) in rules.iter().zip(per_rule) {
        // The rule's findings over every submission, within its limit.
        let mut all = Gathered {
            limit: Some(rule.max_findings),
            ..Gathered::default()
        };
        for (_, g) in gathered {
            let Gathered { parts, out, .. } = g;
            let made: Vec<Diagnostic> = out
                .findings
                .into_iter()
                .map(|f| rule.diagnostic(f))
                .collect();
            all.out.not_kept += out.not_kept;
            all.add_parts(parts);
            all.add_parts(vec![made]);
            evaluation.diagnostics.push(out.problems);
            evaluation
                .figures
                .extend(crate::rules::out::figures(&rule.rule, out.tallies));
        }
        if all.out.not_kept > 0 {
            evaluation.not_kept.push(NotKept {
                rule: rule.rule.id.clone(),
                severity: rule.rule.severity,
                kept: all.kept,
                not_kept: all.out.not_kept,
                waived: false,
            });
        }
        evaluation.diagnostics.extend(all.parts);
    }
    evaluation
}

/// Whether the submission has a document of the rule's kinds (streamed ones included).
fn has_kinds(rule: &CompiledRule, sub: &Submission) -> bool {
    rule.rule.on.iter().any(|kind| {
        sub.of_kind(kind).next().is_some()
            || (*kind == "Results" && !ResultsDigest::of(sub).documents.is_empty())
    })
}

fn submission_phase(
    rule: &CompiledRule,
    sub: &Submission,
    setting: &Setting,
    gathered: &mut Gathered,
) {
    gathered.out.aggregates.settle();
    let cx = Cx::new(setting.as_of, setting.calendar, sub, None);
    rule.submission(&cx, &mut gathered.out);
}

/// The record phase of `rules` over `records` of one document: record by record for
/// the checks (each record's cells are read once, by all of them), then a batch for each
/// script.
pub(crate) fn run_records(
    rules: &[(usize, &CompiledRule)],
    records: &[Rec],
    cx: &Cx,
    outs: &mut [Out],
) {
    for record in records {
        for ((_, rule), out) in rules.iter().zip(outs.iter_mut()) {
            if !rule.takes_batches() {
                rule.record(*record, cx, out);
            }
        }
    }
    for ((_, rule), out) in rules.iter().zip(outs.iter_mut()) {
        if rule.takes_batches() {
            rule.records(records, cx, out);
        }
    }
}

/// The document and record phases of every rule over one document; records side by
/// side.
fn check_document(
    rules: &[CompiledRule],
    sub: &Submission,
    doc: &Document,
    setting: &Setting,
) -> Vec<(usize, Gathered)> {
    let kind = doc.kind();
    let tree = &doc.tree;
    let root = Rec::root(tree);
    let cx = Cx::new(setting.as_of, setting.calendar, sub, Some(root));
    let mut found: Vec<(usize, Gathered)> = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        if rule.reads_documents_of(kind) {
            let mut out = Out::default();
            rule.document(root, &cx, &mut out);
            found.push((index, Gathered::of(rule, out)));
        }
    }
    let reading: Vec<(usize, &CompiledRule)> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.reads_records_of(kind))
        .collect();
    if reading.is_empty() {
        return found;
    }
    let ids = tree
        .get(tree.root, doc.schema.records)
        .map_or(&[][..], |r| tree.seq(r));
    let per_task: Vec<Vec<Gathered>> = ids
        .par_chunks(RECORDS_PER_TASK)
        .map(|ids| {
            let mut outs: Vec<Out> = reading.iter().map(|_| Out::default()).collect();
            let records: Vec<Rec> = ids.iter().map(|id| Rec::new(tree, *id)).collect();
            run_records(&reading, &records, &cx, &mut outs);
            reading
                .iter()
                .zip(outs)
                .map(|((_, rule), out)| Gathered::of(rule, out))
                .collect()
        })
        .collect();
    let mut merged: Vec<Gathered> = reading.iter().map(|_| Gathered::default()).collect();
    for task in per_task {
        for (m, g) in merged.iter_mut().zip(task) {
            m.merge(g);
        }
    }
    found.extend(reading.iter().map(|(i, _)| *i).zip(merged));
    found
}
