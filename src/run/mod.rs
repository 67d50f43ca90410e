//! Running a policy's compiled rules over the submissions: every record and document
//! of the rules' kinds — large Results tables streamed in chunks ([`stream`]) — then
//! each rule's whole-submission phase, with what the record and document phases
//! gathered. Findings are placed where they are made, so that nothing keeps a chunk
//! alive, and become diagnostics once the rule's limit has chosen those kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::diag::{Diagnostic, Figure, NotKept};
use crate::domain::calendar::Calendar;
use crate::read::input::{Document, Streamable};
use crate::read::record::Rec;
use crate::rules::out::RawFinding;
use crate::rules::{CompiledRule, Cx, Out};
use crate::submission::digest::{ResultsDigest, ResultsDocument};
use crate::submission::{self, Submission};

pub mod stream;

/// Set by a process that ends right after its report (the command line).
static ENDS_AFTER_REPORT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells [`drop_aside`] that the process ends after its report: what the run no longer
/// needs is then left for the exit to reclaim.
pub fn ends_after_report() {
    ENDS_AFTER_REPORT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Lets go of `value` without the report waiting: a large run's trees and findings
/// take tens of milliseconds to free. In a process that ends after its report they are
/// not freed at all (freeing them took the cores the report was written on); else they
/// are freed on a worker thread.
pub fn drop_aside<T: Send + 'static>(value: T) {
    if ENDS_AFTER_REPORT.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        rayon::spawn(move || drop(value));
    }
}

/// A submission's key: (department, year).
pub type Key = (String, Option<i64>);

/// Records of a document per parallel task: enough to spread a large document over the
/// cores, few enough that the per-task outputs stay small.
const RECORDS_PER_TASK: usize = 4096;

/// What a rule gave over some documents: its findings, placed, and the rest of its
/// output (tallies, problems, aggregates). A rule keeps its first findings by place
/// (file, then position), up to its limit, however the records were split and in
/// whatever order they were checked; the rest are counted in `out.not_kept`.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Up to twice the limit (the first are chosen when there are more), in the parts
    /// they were gathered in: joined once, into a list made to size, not moved into a
    /// growing one at each merge.
    findings: Vec<Vec<RawFinding>>,
    /// Findings in `findings`.
    count: usize,
    pub out: Out,
    /// The rule's limit on findings kept (none before the first output is gathered).
    limit: Option<usize>,
}

impl Gathered {
    pub fn of(rule: &CompiledRule, mut out: Out) -> Gathered {
        let findings = std::mem::take(&mut out.findings);
        let mut gathered = Gathered {
            out,
            limit: Some(rule.max_findings),
            ..Gathered::default()
        };
        gathered.add(findings);
        gathered
    }

    /// Adds what `other` gathered.
    pub fn merge(&mut self, other: Gathered) {
        self.limit = self.limit.or(other.limit);
        for part in other.findings {
            self.add_placed(part);
        }
        self.out.merge(other.out);
    }

    fn add(&mut self, mut findings: Vec<RawFinding>) {
        for finding in &mut findings {
            finding.place();
        }
        self.add_placed(findings);
    }

    /// [`Gathered::add`] of findings placed already (a part of another's).
    fn add_placed(&mut self, findings: Vec<RawFinding>) {
        if findings.is_empty() {
            return;
        }
        self.count += findings.len();
        self.findings.push(findings);
        let limit = self.limit.unwrap_or(usize::MAX);
        if self.count > limit.saturating_mul(2) {
            let mut all = self.take_findings();
            crate::rules::out::keep_first(&mut all, limit, &mut self.out.not_kept);
            self.count = all.len();
            self.findings.push(all);
        }
    }

    /// The findings gathered, in the order gathered, in one list.
    fn take_findings(&mut self) -> Vec<RawFinding> {
        let mut parts = std::mem::take(&mut self.findings);
        self.count = 0;
        if parts.len() == 1 {
            return parts.pop().unwrap_or_default();
        }
        let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for mut part in parts {
            all.append(&mut part);
        }
        all
    }
}

/// Submissions by key: those of the loaded documents, and more made on demand for
/// results of a (department, year) that nothing else names.
pub struct Submissions<'d> {
    pub list: Mutex<Vec<Arc<Submission>>>,
    /// Those of the loaded documents, first in `list`.
    loaded: usize,
    documents: &'d [Document],
    all_plans: Arc<Vec<Document>>,
}

impl<'d> Submissions<'d> {
    pub fn new(documents: &'d [Document]) -> Submissions<'d> {
        let list = submission::group(documents);
        let all_plans = list
            .first()
            .map(|s| Arc::clone(&s.all_plans))
            .unwrap_or_else(|| submission::plans_of(documents));
        Submissions {
            loaded: list.len(),
            list: Mutex::new(list),
            documents,
            all_plans,
        }
    }

    /// None made up front: each is made when a streamed document asks for it. Reading
    /// without rules asks for none, so indexes nothing.
    pub fn on_demand(documents: &'d [Document]) -> Submissions<'d> {
        Submissions {
            loaded: 0,
            list: Mutex::new(Vec::new()),
            documents,
            all_plans: submission::plans_of(documents),
        }
    }

    pub fn get(&self, key: &Key) -> Arc<Submission> {
        let mut list = crate::shared::lock(&self.list);
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

    /// The submissions of the loaded documents (made up front).
    pub fn loaded(&self) -> Vec<Arc<Submission>> {
        let list = crate::shared::lock(&self.list);
        list.iter().take(self.loaded).cloned().collect()
    }

    /// The submissions: those of the loaded documents, then those made on demand by
    /// key (made as chunks were checked, in parallel, so in no fixed order).
    pub fn into_list(self) -> Vec<Arc<Submission>> {
        let mut list = crate::shared::into_inner(self.list);
        if let Some(made) = list.get_mut(self.loaded..) {
            made.sort_by(|a, b| (&a.department, a.year).cmp(&(&b.department, b.year)));
        }
        list
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Every rule's findings, one rule after the other, in one list made to size: a
    /// report takes it as its own list when it holds nothing else.
    pub findings: Vec<Diagnostic>,
    /// Problems reading and running, in parts: a report moves each once, into its
    /// own list.
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
    let subs = Submissions::on_demand(documents);
    let calendar = Calendar::default();
    let streamed = stream::run(tables, None, &subs, ("", &calendar), chunk_rows, &|_| ());
    Evaluation {
        findings: Vec::new(),
        diagnostics: streamed.diagnostics,
        figures: Vec::new(),
        streamed_documents: streamed.documents,
        not_kept: Vec::new(),
    }
}

/// Runs every rule over the submissions of the loaded documents
/// ([`Submissions::new`]) and the streamed tables.
pub fn evaluate(
    rules: &[CompiledRule],
    subs: Submissions,
    tables: Vec<Streamable>,
    setting: &Setting,
) -> Evaluation {
    // Documents held whole: undated ones belong to several submissions and are checked
    // once, in the first. Every one is in a submission of the loaded documents, which
    // come first.
    let loaded = subs.loaded();
    let held = first_holders(&loaded);
    // Those no script reads are checked beside the streamed tables, on the cores the
    // chunks leave idle: a declarative check of a held document reads nothing the
    // streaming gathers, while a script may ask for the submission's results.
    let beside = |doc: &Document| {
        let kind = doc.kind();
        !rules
            .iter()
            .any(|r| r.takes_batches() && (r.reads_records_of(kind) || r.reads_documents_of(kind)))
    };
    let (streamed, mut checked_beside) = rayon::join(
        || {
            stream::run(
                tables,
                Some(rules),
                &subs,
                (setting.as_of, setting.calendar),
                setting.chunk_rows,
                setting.progress,
            )
        },
        || {
            held.iter()
                .map(|(sub, doc)| beside(doc).then(|| check_document(rules, sub, doc, setting)))
                .collect::<Vec<_>>()
        },
    );
    let mut evaluation = Evaluation {
        findings: Vec::new(),
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
    // The documents held whole, in order: the others checked now that every
    // submission's results are known.
    for ((sub, doc), beside) in held.iter().zip(checked_beside.iter_mut()) {
        let key: Key = (sub.department.clone(), sub.year);
        let found = beside
            .take()
            .unwrap_or_else(|| check_document(rules, sub, doc, setting));
        for (index, found) in found {
            outputs
                .entry((index, key.clone()))
                .or_default()
                .merge(found);
        }
    }
    // Whole-submission phases, rules side by side, each with what it gathered; then
    // the rule's findings over every submission, within its limit, made diagnostics
    // (only those kept are rendered) in one list.
    let mut by_rule: Vec<HashMap<Key, Gathered>> = rules.iter().map(|_| HashMap::new()).collect();
    for ((index, key), gathered) in outputs {
        if let Some(mine) = by_rule.get_mut(index) {
            mine.insert(key, gathered);
        }
    }
    let per_rule: Vec<RuleOutcome> = rules
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
            rule_outcome(rule, mine)
        })
        .collect();
    evaluation.findings = Vec::with_capacity(per_rule.iter().map(|o| o.findings.len()).sum());
    for (rule, outcome) in rules.iter().zip(per_rule) {
        evaluation.diagnostics.extend(outcome.problems);
        evaluation.figures.extend(outcome.figures);
        evaluation.not_kept.extend(outcome.not_kept);
        // Side by side within a rule too: a few rules may hold most of the findings.
        evaluation.findings.par_extend(
            outcome
                .findings
                .into_par_iter()
                .map_init(|| rule.shared(), |shared, f| rule.diagnostic(shared, f)),
        );
    }
    drop_aside(submissions);
    evaluation
}

/// Each document of `submissions`, once, with the first submission that holds it.
fn first_holders(submissions: &[Arc<Submission>]) -> Vec<(Arc<Submission>, &Document)> {
    let mut seen: Vec<*const crate::parse::tree::Tree> = Vec::new();
    let mut held = Vec::new();
    for sub in submissions {
        for doc in &sub.documents {
            let ptr = Arc::as_ptr(&doc.tree);
            if !seen.contains(&ptr) {
                seen.push(ptr);
                held.push((Arc::clone(sub), doc));
            }
        }
    }
    held
}

/// What one rule gave over the whole run.
struct RuleOutcome {
    /// Those kept, in order.
    findings: Vec<RawFinding>,
    problems: Vec<Vec<Diagnostic>>,
    figures: Vec<Figure>,
    not_kept: Option<NotKept>,
}

fn rule_outcome(rule: &CompiledRule, gathered: Vec<(Key, Gathered)>) -> RuleOutcome {
    let mut all = Gathered {
        limit: Some(rule.max_findings),
        ..Gathered::default()
    };
    let mut problems = Vec::new();
    let mut figures = Vec::new();
    for (_, g) in gathered {
        let Gathered { findings, out, .. } = g;
        all.out.not_kept += out.not_kept;
        for part in findings {
            all.add_placed(part);
        }
        all.add(out.findings);
        problems.push(out.problems);
        figures.extend(crate::rules::out::figures(&rule.rule, out.tallies));
    }
    let mut findings = all.take_findings();
    let mut not_kept = all.out.not_kept;
    crate::rules::out::keep_first(&mut findings, rule.max_findings, &mut not_kept);
    crate::rules::out::put_in_place_order(&mut findings);
    let not_kept = (not_kept > 0).then(|| NotKept {
        rule: rule.rule.id.clone(),
        severity: rule.rule.severity,
        kept: findings.len(),
        not_kept,
        waived: false,
    });
    RuleOutcome {
        findings,
        problems,
        figures,
        not_kept,
    }
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

/// Records whose look-ups are started together before they are checked: enough for
/// the cache misses to overlap, few enough that what they bring stays in the cache.
const WARMED_TOGETHER: usize = 32;

/// The record phase of `rules` over `records` of one document, a run of records at a
/// time: the run's look-ups started first, then each rule over the run (its code and
/// its branches stay warm over the run, whose rows stay in the first-level cache);
/// then a batch for each script.
pub(crate) fn run_records(
    rules: &[(usize, &CompiledRule)],
    records: &[Rec],
    cx: &Cx,
    outs: &mut [Out],
) {
    let warming: Vec<&CompiledRule> = rules
        .iter()
        .map(|(_, rule)| *rule)
        .filter(|rule| rule.warms(cx.kind_bit))
        .collect();
    for run in records.chunks(WARMED_TOGETHER) {
        for record in run {
            for rule in &warming {
                rule.warm(*record, cx);
            }
        }
        for ((_, rule), out) in rules.iter().zip(outs.iter_mut()) {
            if !rule.takes_batches() {
                for record in run {
                    rule.record(*record, cx, out);
                }
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
