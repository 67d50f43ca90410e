//! The embedded Rhai engine: built once per policy, hardened, with the domain helper
//! library; every script compiled once; rules evaluated over submissions.
//!
//! What scripts see (documented in the README's rule-authoring guide):
//! - `fn check(target, ctx)` where target is a record, a document or the submission
//!   (the rule's `each`); optional `fn check_document(doc, ctx)` for per-record rules.
//! - Records and documents read like maps (`r.entered_on`, `r.publication.channel`);
//!   lists come as arrays; absent and null fields are `()`.
//! - `ctx.params`, `ctx.as_of`, `ctx.doc`, `ctx.submission`, `ctx.report(node, "field", #{…})`.

use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate};
use rayon::prelude::*;
use rhai::{
    Array, CallFnOptions, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position, Scope,
    AST,
};

use crate::diag::{Diagnostic, Figure, Origin, Text};
use crate::domain::calendar::{Calendar, CalendarError};
use crate::parse::source::SourceFile;
use crate::parse::tree::{NodeId, Span, Value};
use crate::policy::{Each, Policy, Rule};
use crate::read::input::Document;
use crate::rules::native::{self, NativeRule, Rec};
use crate::submission::{NodeRef, Submission};

/// Resource limits for policy scripts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Operations per script call (one record, one document or one submission).
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 5_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 1 << 20,
            max_array_size: 2_000_000,
            max_map_size: 10_000,
        }
    }
}

/// Every safety limit in one place, so that no engine is built without them.
pub fn harden(engine: &mut Engine, limits: &Limits) {
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_modules(0);
    engine.disable_symbol("eval");
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.on_print(|s| eprintln!("script: {s}"));
    engine.on_debug(|s, _, pos| eprintln!("script debug at {pos}: {s}"));
}

/// A finding as a script reports it, before it gets a position and a message.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub at: Anchor,
    pub field: String,
    pub key: String,
    pub values: Map,
}

/// What a finding is about: a node and a path from it, or a place already resolved
/// (a row read in place, see [`crate::read::table::FlatChunk::place`]).
#[derive(Debug, Clone)]
pub enum Anchor {
    Node(NodeRef),
    Placed {
        source: Arc<SourceFile>,
        span: Span,
        targets: Vec<String>,
    },
}

/// The keys whose text values name what a finding is about (for waivers): of the
/// node reported on, else of its document.
pub const TARGET_KEYS: [&str; 4] = ["object", "uscc", "id", "task"];

/// What one rule's run over one target shares with the script through `ctx`.
#[derive(Debug)]
struct RuleRun {
    params: Map,
    as_of: ImmutableString,
    submission: Arc<Submission>,
    findings: Mutex<Vec<RawFinding>>,
    figures: Mutex<Vec<(String, i64, i64, f64)>>,
}

#[derive(Debug, Clone)]
pub struct Ctx {
    run: Arc<RuleRun>,
    doc: Option<NodeRef>,
}

#[derive(Debug, Clone)]
pub struct SubmissionRef(Arc<Submission>);

/// A runtime error carrying a calendar gap, told apart from script bugs.
#[derive(Debug, Clone)]
struct CalendarGap(CalendarError);

pub struct CompiledPolicy {
    engine: Engine,
    asts: Vec<Result<AST, Box<Diagnostic>>>,
}

fn build_engine(limits: &Limits, calendar: &Arc<Calendar>) -> Engine {
    let mut engine = Engine::new();
    harden(&mut engine, limits);
    register_types(&mut engine);
    register_helpers(&mut engine, Arc::clone(calendar));
    engine
}

impl CompiledPolicy {
    /// Builds the engine and compiles every script once; compile errors are
    /// diagnostics positioned in the `.rhai` file.
    pub fn new(policy: &Policy, limits: &Limits) -> CompiledPolicy {
        let engine = build_engine(limits, &policy.calendar);
        let asts = policy
            .rules
            .iter()
            .map(|rule| {
                let ast = engine.compile(&rule.script.text).map_err(|e| {
                    Box::new(script_diagnostic(
                        rule,
                        e.position(),
                        Text::new(
                            format!("规则 `{}` 的脚本无法编译：{}", rule.id, e.err_type()),
                            format!(
                                "the script of rule `{}` does not compile: {}",
                                rule.id,
                                e.err_type()
                            ),
                        ),
                    ))
                })?;
                let has_check = ast
                    .iter_functions()
                    .any(|f| f.name == "check" && f.params.len() == 2);
                if has_check {
                    Ok(ast)
                } else {
                    Err(Box::new(script_diagnostic(
                        rule,
                        Position::new(1, 1),
                        Text::new(
                            format!("规则 `{}` 的脚本缺少 `fn check(target, ctx)`", rule.id),
                            format!(
                                "the script of rule `{}` has no `fn check(target, ctx)`",
                                rule.id
                            ),
                        ),
                    )))
                }
            })
            .collect();
        CompiledPolicy { engine, asts }
    }

    /// Rhai reports an operation-limit stop inside a function without a position.
    /// To name the line, the function's body is replayed as top-level code, at its
    /// original lines and columns; this only runs after a runaway script.
    fn locate_runaway(&self, rule: &Rule, name: &str, target: &Dynamic, ctx: &Ctx) -> Position {
        let Some((replay, params)) = body_as_top_level(&rule.script.text, name) else {
            return Position::NONE;
        };
        let Ok(ast) = self.engine.compile(&replay) else {
            return Position::NONE;
        };
        let replay_ctx = Ctx {
            run: Arc::new(RuleRun {
                params: ctx.run.params.clone(),
                as_of: ctx.run.as_of.clone(),
                submission: Arc::clone(&ctx.run.submission),
                findings: Mutex::new(Vec::new()),
                figures: Mutex::new(Vec::new()),
            }),
            doc: ctx.doc.clone(),
        };
        let mut scope = Scope::new();
        if let [target_name, ctx_name] = params.as_slice() {
            scope.push(target_name.as_str(), target.clone());
            scope.push(ctx_name.as_str(), replay_ctx);
        }
        match self.engine.run_ast_with_scope(&mut scope, &ast) {
            Err(e) => e.unwrap_inner().position(),
            Ok(()) => Position::NONE,
        }
    }

    pub fn compile_errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.asts
            .iter()
            .filter_map(|a| a.as_ref().err().map(|d| &**d))
    }
}

/// The script with `fn NAME(a, b) {` and its closing brace blanked out, so that the
/// body runs as top-level code at its original positions; and the parameter names.
fn body_as_top_level(script: &str, name: &str) -> Option<(String, Vec<String>)> {
    let header = format!("fn {name}");
    let start = script
        .match_indices(&header)
        .map(|(i, _)| i)
        .find(|&i| script[i + header.len()..].trim_start().starts_with('('))?;
    let open_paren = start + script[start..].find('(')?;
    let close_paren = open_paren + script[open_paren..].find(')')?;
    let params = script[open_paren + 1..close_paren]
        .split(',')
        .map(|p| p.trim().to_owned())
        .collect();
    let open_brace = close_paren + script[close_paren..].find('{')?;
    let mut depth = 0usize;
    let mut close_brace = None;
    for (i, c) in script[open_brace..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close_brace = Some(open_brace + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close_brace = close_brace?;
    let blank = |s: &str| {
        s.chars()
            .map(|c| if c == '\n' { c } else { ' ' })
            .collect::<String>()
    };
    let replay = format!(
        "{}{}{} {}",
        &script[..start],
        blank(&script[start..=open_brace]),
        &script[open_brace + 1..close_brace],
        &script[close_brace + 1..]
    );
    Some((replay, params))
}

fn script_diagnostic(rule: &Rule, pos: Position, message: Text) -> Diagnostic {
    let source = &rule.script;
    let line = pos.line().unwrap_or(1);
    let col = pos.position().unwrap_or(1);
    let start = source.offset_of(line, col.saturating_sub(1));
    let end = source.text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    let mut d = Diagnostic::problem(
        Origin::Tool,
        "policy/script",
        source,
        crate::parse::tree::Span::new(start, end),
        message,
    );
    d.policy = Some(Arc::clone(&rule.cite.policy));
    d
}

/// Output of evaluating a policy.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub diagnostics: Vec<Diagnostic>,
    pub figures: Vec<Figure>,
}

/// Runs every rule over the submissions; with `use_native`, rules whose script is a
/// shipped one run as its native equivalent (see [`crate::rules::native`]).
pub fn evaluate(
    policy: &Policy,
    compiled: &CompiledPolicy,
    submissions: &[Arc<Submission>],
    as_of: NaiveDate,
    use_native: bool,
    streamed: &crate::run::stream::Tallies,
) -> Evaluation {
    let as_of: ImmutableString = as_of.format("%Y-%m-%d").to_string().into();
    // Rules side by side (each over its submissions in turn), their outputs in the
    // policy's order.
    let each: Vec<Evaluation> = policy
        .rules
        .par_iter()
        .zip(compiled.asts.par_iter())
        .enumerate()
        .map(|(index, (rule, ast))| {
            let mut out = Evaluation::default();
            let Ok(ast) = ast else { return out };
            let native = if use_native {
                native::for_rule(rule)
            } else {
                None
            };
            let has_check_document = ast
                .iter_functions()
                .any(|f| f.name == "check_document" && f.params.len() == 2);
            // Undated documents belong to several submissions: evaluate each once.
            let mut seen_docs: Vec<*const crate::parse::tree::Tree> = Vec::new();
            'subs: for sub in submissions {
                let run = Arc::new(RuleRun {
                    params: rule.params.clone(),
                    as_of: as_of.clone(),
                    submission: Arc::clone(sub),
                    findings: Mutex::new(Vec::new()),
                    // Tallies of streamed results count with the submission's own.
                    figures: Mutex::new(
                        streamed
                            .get(&(index, sub.department.clone(), sub.year))
                            .cloned()
                            .unwrap_or_default(),
                    ),
                });
                let docs: Vec<&Document> = sub
                    .documents
                    .iter()
                    .filter(|d| rule.on.contains(&d.kind()))
                    .collect();
                // Results read from a streamed table are not kept; the digest counts them.
                let streamed = rule.on.contains(&"Results")
                    && sub.digest.get().is_some_and(|d| d.streamed > 0);
                let call = |name: &str,
                            target: Dynamic,
                            doc: Option<&Document>|
                 -> Result<(), Box<Diagnostic>> {
                    let ctx = Ctx {
                        run: Arc::clone(&run),
                        doc: doc.map(NodeRef::root),
                    };
                    let mut scope = Scope::new();
                    let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
                    compiled
                        .engine
                        .call_fn_with_options::<Dynamic>(
                            options,
                            &mut scope,
                            ast,
                            name,
                            (target.clone(), ctx.clone()),
                        )
                        .map(|_| ())
                        .map_err(|mut e| {
                            if let EvalAltResult::ErrorTooManyOperations(pos) = e.unwrap_inner() {
                                if pos.is_none() {
                                    *e = EvalAltResult::ErrorTooManyOperations(
                                        compiled.locate_runaway(rule, name, &target, &ctx),
                                    );
                                }
                            }
                            Box::new(runtime_diagnostic(rule, &e, &target))
                        })
                };
                let result = if let Some(native) = native {
                    let (found, result) = run_native(
                        (native, rule),
                        sub,
                        &docs,
                        streamed,
                        &mut seen_docs,
                        &as_of,
                        &policy.calendar,
                    );
                    if let Ok(mut findings) = run.findings.lock() {
                        findings.extend(found.findings);
                    }
                    if let Ok(mut figures) = run.figures.lock() {
                        figures.extend(found.figures);
                    }
                    result
                } else {
                    match rule.each {
                        Each::Submission if !docs.is_empty() => {
                            call("check", Dynamic::from(SubmissionRef(Arc::clone(sub))), None)
                        }
                        Each::Submission => Ok(()),
                        Each::Document | Each::Record => docs
                            .iter()
                            .filter(|doc| {
                                let key = Arc::as_ptr(&doc.tree);
                                let fresh = !seen_docs.contains(&key);
                                seen_docs.push(key);
                                fresh
                            })
                            .try_for_each(|doc| {
                                let root = Dynamic::from(NodeRef::root(doc));
                                if rule.each == Each::Document {
                                    return call("check", root, Some(doc));
                                }
                                if has_check_document {
                                    call("check_document", root, Some(doc))?;
                                }
                                let tree = &doc.tree;
                                let records = tree
                                    .get(tree.root, doc.schema.records)
                                    .map(|r| tree.seq(r))
                                    .unwrap_or(&[]);
                                // Records are independent: one compiled script set, shared by all
                                // threads; findings are collected under a lock and sorted later.
                                records.par_iter().try_for_each(|record| {
                                    call(
                                        "check",
                                        Dynamic::from(NodeRef {
                                            tree: Arc::clone(tree),
                                            id: *record,
                                        }),
                                        Some(doc),
                                    )
                                })
                            }),
                    }
                };
                let findings =
                    std::mem::take(&mut *run.findings.lock().unwrap_or_else(|p| p.into_inner()));
                out.diagnostics
                    .extend(findings.into_iter().map(|f| finding(rule, &run.params, f)));
                let figures_raw =
                    std::mem::take(&mut *run.figures.lock().unwrap_or_else(|p| p.into_inner()));
                out.figures.extend(figures(rule, figures_raw));
                if let Err(d) = result {
                    out.diagnostics.push(*d);
                    break 'subs;
                }
            }
            out
        })
        .collect();
    let mut out = Evaluation::default();
    for one in each {
        out.diagnostics.extend(one.diagnostics);
        out.figures.extend(one.figures);
    }
    out
}

/// A rule's figures from its tallies and figures, those of the same id added up (tallies
/// arrive one record at a time).
pub fn figures(rule: &Rule, raw: Vec<(String, i64, i64, f64)>) -> Vec<Figure> {
    let mut merged: Vec<(String, i64, i64, f64)> = Vec::new();
    for (id, num, den, threshold) in raw {
        match merged.iter_mut().find(|m| m.0 == id) {
            Some(m) => {
                m.1 += num;
                m.2 += den;
            }
            None => merged.push((id, num, den, threshold)),
        }
    }
    merged
        .into_iter()
        .map(|(id, num, den, threshold)| {
            let measured = if den == 0 {
                1.0
            } else {
                num as f64 / den as f64
            };
            Figure {
                id,
                title: rule.figure.clone().unwrap_or_else(|| rule.title.clone()),
                measured,
                numerator: num,
                denominator: den,
                threshold,
                ok: measured + 1e-9 >= threshold,
            }
        })
        .collect()
}

/// Script failures: a calendar gap is the data's problem, shown at the record; any
/// other error (operation limit, bad call) is the policy's, shown in the script.
fn runtime_diagnostic(rule: &Rule, error: &EvalAltResult, target: &Dynamic) -> Diagnostic {
    let inner = error.unwrap_inner();
    if let EvalAltResult::ErrorRuntime(value, _) = inner {
        if let Some(CalendarGap(gap)) = value.clone().try_cast::<CalendarGap>() {
            if let Some(node) = target.clone().try_cast::<NodeRef>() {
                return calendar_gap(rule, &gap, &node);
            }
        }
    }
    let pos = inner.position();
    let pos = if pos.is_none() { error.position() } else { pos };
    let what = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => Text::new(
            format!("规则 `{}` 的脚本超出运算次数上限（可能死循环），已停止执行", rule.id),
            format!("the script of rule `{}` exceeded the operation limit (an endless loop?) and was stopped", rule.id),
        ),
        other => Text::new(format!("规则 `{}` 的脚本运行出错：{other}", rule.id), format!("the script of rule `{}` failed: {other}", rule.id)),
    };
    script_diagnostic(rule, pos, what)
}

/// A record whose working days cannot be counted: the data's problem, at the record.
pub fn calendar_gap(rule: &Rule, gap: &CalendarError, node: &NodeRef) -> Diagnostic {
    let mut d = Diagnostic::problem(
        Origin::Input,
        "calendar/missing-year",
        &node.tree.source,
        node.tree.report_span(node.id),
        Text::new(
            format!("{}；规则 `{}` 无法计算工作日", gap.zh(), rule.id),
            format!("{gap}; rule `{}` cannot count working days", rule.id),
        ),
    );
    d.help = Some(Text::new("在规则集的工作日历（policies/calendar/cn.yaml）中补充该年的国务院办公厅节假日安排", "add that year's State Council holiday notice to the policy's working-day calendar (policies/calendar/cn.yaml)"));
    d
}

/// One rule over one submission, natively: the same documents, records and order of
/// calls as the script's run.
fn run_native(
    (native, rule): (&dyn NativeRule, &Rule),
    sub: &Arc<Submission>,
    docs: &[&Document],
    streamed: bool,
    seen_docs: &mut Vec<*const crate::parse::tree::Tree>,
    as_of: &str,
    calendar: &Calendar,
) -> (native::Out, Result<(), Box<Diagnostic>>) {
    fn make_cx<'a>(
        rule: &'a Rule,
        as_of: &'a str,
        calendar: &'a Calendar,
        sub: &'a Submission,
        doc: Option<&'a Document>,
    ) -> native::Cx<'a> {
        native::Cx::new(rule, as_of, calendar, sub, doc.map(|d| Rec::root(&d.tree)))
    }
    let gap_at = |gap: CalendarError, at: Rec| Box::new(calendar_gap(rule, &gap, &at.node()));
    let mut out = native::Out::default();
    let records_of =
        |doc: &Document, out: native::Out| -> (native::Out, Result<(), Box<Diagnostic>>) {
            let tree = &doc.tree;
            let records = tree
                .get(tree.root, doc.schema.records)
                .map(|r| tree.seq(r))
                .unwrap_or(&[]);
            let cx = make_cx(rule, as_of, calendar, sub, Some(doc));
            // Every record is checked; the first calendar gap (in record order) stops the rule.
            let (found, gap) = records
                .par_iter()
                .fold(
                    || (native::Out::default(), None),
                    |(mut out, gap): (native::Out, Option<(usize, CalendarError, NodeId)>), id| {
                        if let Err(e) = native.record(Rec::new(tree, *id), &cx, &mut out) {
                            let index = *id as usize;
                            if gap.as_ref().is_none_or(|(i, _, _)| index < *i) {
                                return (out, Some((index, e, *id)));
                            }
                        }
                        (out, gap)
                    },
                )
                .reduce(
                    || (native::Out::default(), None),
                    |(a, ga), (b, gb)| {
                        let gap = match (ga, gb) {
                            (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
                            (x, y) => x.or(y),
                        };
                        (a.merge(b), gap)
                    },
                );
            let out = out.merge(found);
            match gap {
                Some((_, e, id)) => (out, Err(gap_at(e, Rec::new(tree, id)))),
                None => (out, Ok(())),
            }
        };
    match rule.each {
        Each::Submission => {
            if docs.is_empty() && !streamed {
                return (out, Ok(()));
            }
            if native.scans_records() {
                for doc in docs {
                    let (found, result) = records_of(doc, std::mem::take(&mut out));
                    out = found;
                    if result.is_err() {
                        return (out, result);
                    }
                }
            }
            let cx = make_cx(rule, as_of, calendar, sub, None);
            let result = native.submission(&cx, &mut out).map_err(|gap| {
                Box::new(script_diagnostic(
                    rule,
                    Position::NONE,
                    Text::new(
                        format!("{}；规则 `{}` 无法计算工作日", gap.zh(), rule.id),
                        format!("{gap}; rule `{}` cannot count working days", rule.id),
                    ),
                ))
            });
            (out, result)
        }
        Each::Document | Each::Record => {
            for doc in docs {
                let key = Arc::as_ptr(&doc.tree);
                if seen_docs.contains(&key) {
                    continue;
                }
                seen_docs.push(key);
                let root = Rec::root(&doc.tree);
                if rule.each == Each::Document || native.has_document_check() {
                    if let Err(gap) = native.document(
                        root,
                        &make_cx(rule, as_of, calendar, sub, Some(doc)),
                        &mut out,
                    ) {
                        return (out, Err(gap_at(gap, root)));
                    }
                }
                if rule.each == Each::Record {
                    let (found, result) = records_of(doc, std::mem::take(&mut out));
                    out = found;
                    if result.is_err() {
                        return (out, result);
                    }
                }
            }
            (out, Ok(()))
        }
    }
}

pub fn finding(rule: &Rule, params: &Map, raw: RawFinding) -> Diagnostic {
    let (source, span, targets) = match raw.at {
        Anchor::Node(at) => {
            let tree = &at.tree;
            let (node, _) = tree.resolve(at.id, &raw.field);
            let targets = TARGET_KEYS
                .iter()
                .filter_map(|k| tree.str_at(at.id, k).or_else(|| tree.str_at(tree.root, k)))
                .map(str::to_owned)
                .collect();
            (Arc::clone(&tree.source), tree.report_span(node), targets)
        }
        Anchor::Placed {
            source,
            span,
            targets,
        } => (source, span, targets),
    };
    let none = Text::default();
    let template = rule
        .messages
        .get(&raw.key)
        .or_else(|| rule.messages.get("default"))
        .unwrap_or(&none);
    let fill = |t: &str| fill_template(t, &raw.values, params);
    let mut d = Diagnostic::problem(
        Origin::Finding,
        &rule.id,
        &source,
        span,
        Text::new(fill(&template.zh), fill(&template.en)),
    );
    d.severity = rule.severity;
    let cite = &rule.cite;
    d.policy = Some(Arc::clone(&cite.policy));
    d.title = Some(Arc::clone(&cite.title));
    d.clause = Some(Arc::clone(&cite.clause));
    d.source_doc = Some(Arc::clone(&cite.source));
    d.quote = Some(Arc::clone(&cite.quote));
    d.help = Some(Text::new(fill(&rule.help.zh), fill(&rule.help.en)));
    d.targets = targets;
    d
}

/// `{name}` → the script's value, else the parameter, else left as written.
pub fn fill_template(template: &str, values: &Map, params: &Map) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    // Braces are ASCII: a byte search finds them at character boundaries.
    while let Some(open) = memchr::memchr(b'{', rest.as_bytes()) {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match memchr::memchr(b'}', after.as_bytes()) {
            Some(close) => {
                let name = &after[..close];
                match values.get(name).or_else(|| params.get(name)) {
                    Some(v) => display(&mut out, v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Writes a value into a message: whole numbers without decimals, lists joined with
/// `、`, text as it is (without a copy; a run may make a hundred thousand messages).
fn display(out: &mut String, v: &Dynamic) {
    use std::fmt::Write as _;
    if v.is_float() {
        let f = v.as_float().unwrap_or_default();
        if (f - f.round()).abs() < 1e-9 {
            let _ = write!(out, "{f:.0}");
        } else {
            let _ = write!(out, "{f}");
        }
    } else if v.is_array() {
        let items = v.clone().into_array().unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push('、');
            }
            display(out, item);
        }
    } else if let Some(text) = v.read_lock::<ImmutableString>() {
        out.push_str(&text);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// A document value as seen by scripts: scalars as values, lists as arrays, mappings as
/// node references (no copy of the document).
fn node_value(node: &NodeRef, id: crate::parse::tree::NodeId) -> Dynamic {
    node.tree.to_dynamic_with(id, &|map| {
        Dynamic::from(NodeRef {
            tree: Arc::clone(&node.tree),
            id: map,
        })
    })
}

fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<NodeRef>("Node")
        .register_indexer_get(|n: &mut NodeRef, key: ImmutableString| -> Dynamic {
            match n.tree.get(n.id, &key) {
                Some(child) => node_value(n, child),
                None => Dynamic::UNIT,
            }
        })
        .register_fn("contains", |n: &mut NodeRef, key: ImmutableString| {
            n.tree.get_present(n.id, &key).is_some()
        })
        .register_fn("has", |n: &mut NodeRef, key: ImmutableString| {
            n.tree.get_present(n.id, &key).is_some()
        })
        .register_fn("keys", |n: &mut NodeRef| -> Array {
            match &n.tree.node(n.id).value {
                Value::Map(entries) => entries
                    .iter()
                    .map(|(k, _)| Dynamic::from(k.clone()))
                    .collect(),
                _ => Array::new(),
            }
        })
        .register_fn("line", |n: &mut NodeRef| {
            n.tree
                .source
                .line_col(n.tree.report_span(n.id).start as usize)
                .0 as i64
        })
        .register_fn("to_string", describe)
        .register_fn("to_debug", describe);

    engine
        .register_type_with_name::<Ctx>("Context")
        .register_get("params", |c: &mut Ctx| {
            Dynamic::from_map(c.run.params.clone())
        })
        .register_get("as_of", |c: &mut Ctx| c.run.as_of.clone())
        .register_get("doc", |c: &mut Ctx| {
            c.doc.clone().map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_get("submission", |c: &mut Ctx| {
            SubmissionRef(Arc::clone(&c.run.submission))
        })
        .register_fn("param", |c: &mut Ctx, name: ImmutableString| {
            c.run
                .params
                .get(name.as_str())
                .cloned()
                .unwrap_or(Dynamic::UNIT)
        })
        .register_fn(
            "report",
            |c: &mut Ctx, at: Dynamic, field: ImmutableString| {
                report(c, at, &field, "default", Map::new())
            },
        )
        .register_fn(
            "report",
            |c: &mut Ctx, at: Dynamic, field: ImmutableString, values: Map| {
                report(c, at, &field, "default", values)
            },
        )
        .register_fn(
            "report",
            |c: &mut Ctx,
             at: Dynamic,
             field: ImmutableString,
             key: ImmutableString,
             values: Map| report(c, at, &field, &key, values),
        )
        .register_fn(
            "figure",
            |c: &mut Ctx, id: ImmutableString, numerator: i64, denominator: i64, threshold: f64| {
                if let Ok(mut figures) = c.run.figures.lock() {
                    figures.push((id.to_string(), numerator, denominator, threshold));
                }
            },
        )
        .register_fn(
            "tally",
            |c: &mut Ctx, id: ImmutableString, passed: bool, threshold: f64| {
                if let Ok(mut figures) = c.run.figures.lock() {
                    figures.push((id.to_string(), i64::from(passed), 1, threshold));
                }
            },
        );

    engine
        .register_type_with_name::<SubmissionRef>("Submission")
        .register_get("department", |s: &mut SubmissionRef| s.0.department.clone())
        .register_get("year", |s: &mut SubmissionRef| {
            s.0.year.map_or(Dynamic::UNIT, Dynamic::from_int)
        })
        .register_get("plans", |s: &mut SubmissionRef| docs_of(&s.0, "Plan"))
        .register_get("results", |s: &mut SubmissionRef| docs_of(&s.0, "Results"))
        .register_get("plan", |s: &mut SubmissionRef| first_of(&s.0, "Plan"))
        .register_get("item_list", |s: &mut SubmissionRef| {
            first_of(&s.0, "ItemList")
        })
        .register_get("object_library", |s: &mut SubmissionRef| {
            first_of(&s.0, "ObjectLibrary")
        })
        .register_get("personnel_library", |s: &mut SubmissionRef| {
            first_of(&s.0, "PersonnelLibrary")
        })
        .register_get("all_plans", |s: &mut SubmissionRef| -> Array {
            s.0.all_plans
                .iter()
                .map(|d| Dynamic::from(NodeRef::root(d)))
                .collect()
        })
        .register_fn("task", |s: &mut SubmissionRef, id: ImmutableString| {
            lookup(&s.0.tasks, &id)
        })
        .register_fn("object", |s: &mut SubmissionRef, id: ImmutableString| {
            lookup(&s.0.objects, &id)
        })
        .register_fn("person", |s: &mut SubmissionRef, id: ImmutableString| {
            lookup(&s.0.people, &id)
        })
        .register_fn("item", |s: &mut SubmissionRef, id: ImmutableString| {
            lookup(&s.0.items, &id)
        });
}

/// `<node at file:line>`, for `print` and `debug` in scripts.
fn describe(n: &mut NodeRef) -> String {
    let line = n
        .tree
        .source
        .line_col(n.tree.report_span(n.id).start as usize)
        .0;
    format!("<node at {}:{line}>", n.tree.source.name)
}

fn docs_of(sub: &Submission, kind: &str) -> Array {
    sub.of_kind(kind)
        .map(|d| Dynamic::from(NodeRef::root(d)))
        .collect()
}

fn first_of(sub: &Submission, kind: &str) -> Dynamic {
    sub.of_kind(kind)
        .next()
        .map_or(Dynamic::UNIT, |d| Dynamic::from(NodeRef::root(d)))
}

fn lookup(index: &crate::submission::Index, id: &str) -> Dynamic {
    index
        .get(id)
        .map_or(Dynamic::UNIT, |entry| Dynamic::from(entry.node.clone()))
}

fn report(
    ctx: &mut Ctx,
    at: Dynamic,
    field: &str,
    key: &str,
    values: Map,
) -> Result<(), Box<EvalAltResult>> {
    let at = match at.try_cast::<NodeRef>() {
        Some(node) => node,
        None => ctx.doc.clone().ok_or_else(|| {
            runtime("report: the first argument must be a record, task or document")
        })?,
    };
    let mut findings = ctx
        .run
        .findings
        .lock()
        .map_err(|_| runtime("report: findings lock poisoned"))?;
    findings.push(RawFinding {
        at: Anchor::Node(at),
        field: field.to_owned(),
        key: key.to_owned(),
        values,
    });
    Ok(())
}

fn runtime(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

fn date(s: &str) -> Result<NaiveDate, Box<EvalAltResult>> {
    crate::schema::parse_date(s).map_err(|_| runtime(format!("`{s}` is not a date YYYY-MM-DD")))
}

fn iso(d: NaiveDate) -> ImmutableString {
    d.format("%Y-%m-%d").to_string().into()
}

fn gap(e: CalendarError) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(CalendarGap(e)),
        Position::NONE,
    ))
}

fn register_helpers(engine: &mut Engine, calendar: Arc<Calendar>) {
    let cal = Arc::clone(&calendar);
    engine.register_fn(
        "is_workday",
        move |d: ImmutableString| -> Result<bool, Box<EvalAltResult>> {
            cal.is_workday(date(&d)?).map_err(gap)
        },
    );
    let cal = Arc::clone(&calendar);
    engine.register_fn(
        "add_working_days",
        move |d: ImmutableString, n: i64| -> Result<ImmutableString, Box<EvalAltResult>> {
            let n = u32::try_from(n)
                .map_err(|_| runtime("add_working_days: the count must be 0 or more"))?;
            cal.add_working_days(date(&d)?, n).map(iso).map_err(gap)
        },
    );
    let cal = calendar;
    engine.register_fn(
        "working_days_between",
        move |a: ImmutableString, b: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            cal.working_days_between(date(&a)?, date(&b)?).map_err(gap)
        },
    );
    engine.register_fn("is_date", |s: ImmutableString| {
        crate::schema::parse_date(&s).is_ok()
    });
    engine.register_fn(
        "add_days",
        |d: ImmutableString, n: i64| -> Result<ImmutableString, Box<EvalAltResult>> {
            date(&d)?
                .checked_add_signed(Duration::days(n))
                .map(iso)
                .ok_or_else(|| runtime("add_days: out of range"))
        },
    );
    engine.register_fn(
        "days_between",
        |a: ImmutableString, b: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            Ok((date(&b)? - date(&a)?).num_days())
        },
    );
    engine.register_fn(
        "year_of",
        |d: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            Ok(i64::from(chrono::Datelike::year(&date(&d)?)))
        },
    );
    engine.register_fn("uscc_valid", |s: ImmutableString| {
        crate::domain::uscc::is_valid(&s)
    });
    engine.register_fn("uscc_problem", |s: ImmutableString| -> Dynamic {
        match crate::domain::uscc::check(&s) {
            Ok(()) => Dynamic::UNIT,
            Err(e) => {
                let mut m = Map::new();
                m.insert("zh".into(), Dynamic::from(e.zh()));
                m.insert("en".into(), Dynamic::from(e.to_string()));
                Dynamic::from_map(m)
            }
        }
    });
    engine.register_fn("ratio", |x: f64| x);
    engine.register_fn("ratio", |x: i64| x as f64);
    engine.register_fn("ratio", |s: ImmutableString| {
        crate::domain::ratio::parse_fraction(&s).map_or(Dynamic::UNIT, Dynamic::from_float)
    });
    engine.register_fn("ratio", |_: ()| Dynamic::UNIT);
    engine.register_fn("pct", |x: f64| format!("{:.1}%", x * 100.0));
    engine.register_fn("pct", |x: i64| format!("{:.1}%", x as f64 * 100.0));
    engine.register_fn("ceil_mul", |ratio: f64, population: i64| -> i64 {
        (ratio * population as f64 - 1e-9).ceil().max(0.0) as i64
    });
}
