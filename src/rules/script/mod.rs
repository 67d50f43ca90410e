//! Rules written as Rhai scripts, for logic the declarative checks cannot say.
//!
//! A script defines `fn check(target, ctx)`, called with what the rule's `each` names:
//! every record of the rule's kinds (and, optionally, `fn check_document(doc, ctx)`
//! once per document first), every document, or the whole submission. A submission
//! script may define `fn gather(record, ctx)`, called for every record of the rule's
//! kinds as they are read (streamed tables included), to gather what `check` needs
//! with `ctx.count` and `ctx.collect`. Scripts are compiled once; a record is read in
//! place, never copied into a map.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Position, Scope, AST};

mod api;
mod engine;
mod helpers;
mod scoped;

pub use engine::{build_engine, harden, Limits};

use crate::diag::{Diagnostic, Origin, Text};
use crate::parse::source::SourceFile;
use crate::parse::tree::Span;
use crate::policy::{Each, Rule};
use crate::read::record::Rec;
use crate::rules::{CompiledRule, Cx, Out, Provided};

/// The functions that call `check` and `gather` for each record of a batch.
const EACH_CHECK: &str = "__spotlint_check_each";
const EACH_GATHER: &str = "__spotlint_gather_each";

/// A compiled script rule.
pub struct ScriptRule {
    engine: Arc<Engine>,
    ast: AST,

    source: Arc<SourceFile>,
    params: api::Params,
    has_check_document: bool,
    has_gather: bool,
    /// Set at the script's first error: it is reported once and not run again.
    failed: AtomicBool,
}

impl ScriptRule {
    /// Compiles the rule's script; errors are positioned in the `.rhai` file.
    pub fn compile(
        rule: &Rule,
        engine: &Arc<Engine>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<ScriptRule> {
        let (_, source) = rule.script()?;
        let ast = match engine.compile(&source.text) {
            Ok(ast) => ast,
            Err(e) => {
                errors.push(script_diagnostic(
                    rule,
                    source,
                    e.position(),
                    Text::new(
                        format!("规则 `{}` 的脚本无法编译：{}", rule.id, e.err_type()),
                        format!(
                            "the script of rule `{}` does not compile: {}",
                            rule.id,
                            e.err_type()
                        ),
                    ),
                ));
                return None;
            }
        };
        if let Some(at) = currying(&source.text) {
            errors.push(script_diagnostic(
                rule,
                source,
                at,
                Text::new(
                    format!("规则 `{}` 的脚本使用了 `curry`：柯里化的函数指针会复制其参数，可无限增长，规则脚本中不可用", rule.id),
                    format!("the script of rule `{}` uses `curry`: a curried function pointer copies its arguments and can grow without bound, so rule scripts may not use it", rule.id),
                ),
            ));
            return None;
        }
        let defines = |name: &str| {
            ast.iter_functions()
                .any(|f| f.name == name && f.params.len() == 2)
        };
        if !defines("check") {
            errors.push(script_diagnostic(
                rule,
                source,
                Position::new(1, 1),
                Text::new(
                    format!("规则 `{}` 的脚本缺少 `fn check(target, ctx)`", rule.id),
                    format!(
                        "the script of rule `{}` has no `fn check(target, ctx)`",
                        rule.id
                    ),
                ),
            ));
            return None;
        }
        let has_gather = defines("gather");
        if has_gather && rule.each != Each::Submission {
            errors.push(script_diagnostic(
                rule,
                source,
                Position::new(1, 1),
                Text::new(
                    format!("规则 `{}` 的脚本定义了 `fn gather`，它只用于 `each: submission` 的规则", rule.id),
                    format!("the script of rule `{}` defines `fn gather`, which only `each: submission` rules have", rule.id),
                ),
            ));
            return None;
        }
        let has_check_document = defines("check_document");
        // The functions the engine calls with a batch of records.
        let wrappers = format!(
            "fn {EACH_CHECK}(records, ctx) {{ for r in records {{ check(r, ctx); }} }}\n\
             fn {EACH_GATHER}(records, ctx) {{ for r in records {{ gather(r, ctx); }} }}\n"
        );
        let ast = match engine.compile(&wrappers) {
            Ok(each) => ast.merge(&each),
            Err(_) => ast,
        };
        let params: Map = rule.params.values.clone();
        Some(ScriptRule {
            engine: Arc::clone(engine),
            has_check_document,
            has_gather,
            ast,
            source: Arc::clone(source),
            params: api::Params(Arc::new(params)),
            failed: AtomicBool::new(false),
        })
    }

    /// What the script reports, for checking its messages: under each message key, the
    /// keys of the script's map literals (`#{ days: … }`).
    pub fn provided(&self, rule: &Rule) -> Vec<Provided> {
        let values = literal_keys(&self.source.text);
        rule.messages
            .keys()
            .map(|key| Provided {
                key: key.clone(),
                values: Some(values.clone()),
                each: if rule.each == Each::Submission {
                    Each::Record
                } else {
                    rule.each
                },
            })
            .collect()
    }

    pub fn reads_records_of(&self, rule: &Rule, kind: &str) -> bool {
        let per_record = rule.each == Each::Record || self.has_gather;
        per_record && rule.on.contains(&kind)
    }

    pub fn reads_documents_of(&self, rule: &Rule, kind: &str) -> bool {
        let per_document =
            rule.each == Each::Document || (rule.each == Each::Record && self.has_check_document);
        per_document && rule.on.contains(&kind)
    }

    pub fn document(&self, rule: &CompiledRule, doc: Rec, cx: &Cx, out: &mut Out) {
        if !self.reads_documents_of(&rule.rule, cx.doc_kind.unwrap_or_default()) {
            return;
        }
        let name = if rule.rule.each == Each::Document {
            "check"
        } else {
            "check_document"
        };
        self.call(rule, name, Target::Record(doc), cx, out);
    }

    /// Every record of a document (or chunk), a batch per call: a record with a date
    /// the calendar lacks gets its diagnostic and the batch goes on after it.
    pub fn records(&self, rule: &CompiledRule, records: &[Rec], cx: &Cx, out: &mut Out) {
        if !self.reads_records_of(&rule.rule, cx.doc_kind.unwrap_or_default()) {
            return;
        }
        let each = if self.has_gather {
            EACH_GATHER
        } else {
            EACH_CHECK
        };
        let mut from = 0;
        while from < records.len() && !self.failed.load(Ordering::Relaxed) {
            let frame = scoped::Frame::enter();
            let batch = api::Batch::new(&frame, &records[from..]);
            let result = self.run(rule, each, Dynamic::from(batch), &frame, cx, out);
            let Err(error) = result else { break };
            let at = from + scoped::record();
            let Some(record) = records.get(at) else { break };
            self.fail(rule, error, Target::Record(*record), cx, out);
            from = at + 1;
        }
    }

    pub fn submission(&self, rule: &CompiledRule, cx: &Cx, out: &mut Out) {
        if rule.rule.each == Each::Submission {
            self.call(rule, "check", Target::Submission, cx, out);
        }
    }

    /// Calls `name` once, with a record or document, or the submission.
    fn call(&self, rule: &CompiledRule, name: &str, target: Target, cx: &Cx, out: &mut Out) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let frame = scoped::Frame::enter();
        let value = match target {
            Target::Record(rec) => Dynamic::from(api::Node::scoped(&frame, rec)),
            Target::Submission => Dynamic::UNIT,
        };
        let result = self.run(rule, name, value, &frame, cx, out);
        if let Err(error) = result {
            self.fail(rule, error, target, cx, out);
        }
    }

    /// Runs `name(target, ctx)` in `frame`; the submission, for a unit target.
    fn run(
        &self,
        rule: &CompiledRule,
        name: &str,
        target: Dynamic,
        frame: &scoped::Frame,
        cx: &Cx,
        out: &mut Out,
    ) -> Result<(), Box<EvalAltResult>> {
        let doc = match cx.doc {
            Some(d) => Some(api::Node::scoped(frame, d)),
            None => target.clone().try_cast::<api::Node>(),
        };
        let mut state = api::CallState {
            rule,
            cx,
            out,
            params: &self.params,
            doc,
        };
        let ctx = api::Ctx::new(frame, &mut state);
        let target = if target.is_unit() {
            Dynamic::from(api::SubmissionView::new(ctx.clone()))
        } else {
            target
        };
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        self.engine
            .call_fn_with_options::<Dynamic>(
                options,
                &mut scope,
                &self.ast,
                name,
                (target, Dynamic::from(ctx)),
            )
            .map(|_| ())
    }

    /// A script stopped on `target`: a date the calendar lacks is the data's (the
    /// record gets a diagnostic and the rule goes on); any other error is the
    /// policy's, reported once, where the script failed, naming the record, and the
    /// rule stops.
    fn fail(
        &self,
        rule: &CompiledRule,
        error: Box<EvalAltResult>,
        target: Target,
        cx: &Cx,
        out: &mut Out,
    ) {
        if let EvalAltResult::ErrorRuntime(value, _) = error.unwrap_inner() {
            if let Some(gap) = value.clone().try_cast::<helpers::CalendarGap>() {
                if let Target::Record(rec) = target {
                    out.calendar_gap(&rule.rule, &gap.0, &rec, "");
                    return;
                }
            }
        }
        if self.failed.swap(true, Ordering::Relaxed) {
            return;
        }
        let mut error = error;
        match error.unwrap_inner() {
            EvalAltResult::ErrorTerminated(token, pos)
                if pos.is_none() && token.is::<engine::OutOfOperations>() =>
            {
                let at = self.locate_runaway(rule, target, cx);
                *error = EvalAltResult::ErrorTerminated(token.clone(), at);
            }
            // The engine checks sizes where values are stored, without a position.
            EvalAltResult::ErrorDataTooLarge(what, pos) if pos.is_none() => {
                let at = self.locate_runaway(rule, target, cx);
                *error = EvalAltResult::ErrorDataTooLarge(what.clone(), at);
            }
            _ => {}
        }
        let place = match target {
            Target::Record(rec) => {
                let node = rec.node();
                let (line, _) = node
                    .tree
                    .source
                    .line_col(node.tree.report_span(node.id).start as usize);
                format!("{}:{line}", node.tree.source.name)
            }
            Target::Submission => format!(
                "{} {}",
                cx.submission.department,
                cx.submission
                    .year
                    .map(|y| y.to_string())
                    .unwrap_or_default()
            ),
        };
        out.problems
            .push(runtime_diagnostic(&rule.rule, &self.source, &error, &place));
    }

    /// The engine does not tell where in a function a script ran out of operations: the
    /// function's body is run again as top-level code, at its original lines and
    /// columns, on the same record, to name the line. Only after a runaway script (or
    /// one whose data grew past a size limit, which the engine does not place either).
    fn locate_runaway(&self, rule: &CompiledRule, target: Target, cx: &Cx) -> Position {
        let name = match target {
            Target::Record(_) if self.has_gather => "gather",
            _ => "check",
        };
        let Some((replay, params)) = body_as_top_level(&self.source.text, name) else {
            return Position::NONE;
        };
        let Ok(ast) = self.engine.compile(&replay) else {
            return Position::NONE;
        };
        let frame = scoped::Frame::enter();
        let value = match target {
            Target::Record(rec) => Dynamic::from(api::Node::scoped(&frame, rec)),
            Target::Submission => Dynamic::UNIT,
        };
        let mut scratch = Out::default();
        let mut state = api::CallState {
            rule,
            cx,
            out: &mut scratch,
            params: &self.params,
            doc: cx.doc.map(|d| api::Node::scoped(&frame, d)),
        };
        let ctx = api::Ctx::new(&frame, &mut state);
        let value = if value.is_unit() {
            Dynamic::from(api::SubmissionView::new(ctx.clone()))
        } else {
            value
        };
        let mut scope = Scope::new();
        if let [target_name, ctx_name] = params.as_slice() {
            scope.push(target_name.as_str(), value);
            scope.push(ctx_name.as_str(), ctx);
        }
        match self.engine.run_ast_with_scope(&mut scope, &ast) {
            Err(e) => e.unwrap_inner().position(),
            Ok(()) => Position::NONE,
        }
    }

    /// The script's documentation header.
    pub fn source(&self) -> &Arc<SourceFile> {
        &self.source
    }
}

#[derive(Clone, Copy)]
enum Target<'a> {
    Record(Rec<'a>),
    Submission,
}

/// The keys of the map literals of a script (`#{ days: d, due: x }`), without its
/// comments: the values its findings can give.
fn literal_keys(script: &str) -> Vec<String> {
    let code: String = script
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut keys = Vec::new();
    let mut rest = code.as_str();
    while let Some(open) = rest.find("#{") {
        let body = &rest[open + 2..];
        let mut depth = 1usize;
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &body[..end];
        let (mut level, mut token, mut expecting_key) = (0usize, String::new(), true);
        for c in inner.chars() {
            match c {
                '{' | '[' | '(' => level += 1,
                '}' | ']' | ')' => level = level.saturating_sub(1),
                ',' if level == 0 => {
                    expecting_key = true;
                    token.clear();
                    continue;
                }
                ':' if level == 0 && expecting_key => {
                    let key = token.trim().trim_matches('"').to_owned();
                    if !key.is_empty() && !keys.contains(&key) {
                        keys.push(key);
                    }
                    expecting_key = false;
                    token.clear();
                    continue;
                }
                _ => {}
            }
            if expecting_key && level == 0 {
                token.push(c);
            }
        }
        rest = &body[end.min(body.len())..];
    }
    keys
}

/// Where a script calls `curry` (outside comments and strings). The engine limits the
/// size of arrays, maps and strings, but not of the arguments a function pointer
/// carries: `f = f.curry(f)` doubles `f` at each turn of a loop, past any memory.
fn currying(script: &str) -> Option<Position> {
    let chars: Vec<char> = script.chars().collect();
    let (mut line, mut column) = (1usize, 1usize);
    let mut i = 0;
    let advance = |c: char, line: &mut usize, column: &mut usize| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let skip_to = |i: usize, end: &dyn Fn(usize) -> bool| {
            let mut j = i;
            while j < chars.len() && !end(j) {
                j += 1;
            }
            j
        };
        let end = match (c, next) {
            ('/', Some('/')) => skip_to(i, &|j| chars[j] == '\n'),
            ('/', Some('*')) => (skip_to(i + 2, &|j| {
                chars[j] == '*' && chars.get(j + 1) == Some(&'/')
            }) + 2)
                .min(chars.len()),
            ('"' | '`' | '\'', _) => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                (j + 1).min(chars.len())
            }
            _ if c.is_alphanumeric() || c == '_' => {
                let j = skip_to(i, &|j| !(chars[j].is_alphanumeric() || chars[j] == '_'));
                let word: String = chars[i..j].iter().collect();
                let called = chars[j..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
                if word == "curry" && called {
                    return Some(Position::new(
                        u16::try_from(line).unwrap_or(u16::MAX),
                        u16::try_from(column).unwrap_or(u16::MAX),
                    ));
                }
                j
            }
            _ => i + 1,
        };
        for &c in &chars[i..end] {
            advance(c, &mut line, &mut column);
        }
        i = end;
    }
    None
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
                depth = depth.saturating_sub(1);
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

fn script_diagnostic(
    rule: &Rule,
    source: &Arc<SourceFile>,
    pos: Position,
    message: Text,
) -> Diagnostic {
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
        Span::new(start, end),
        message,
    );
    d.cite_mut().policy.clone_from(&rule.cite.policy);
    d
}

/// A script failure: the policy's, shown in the script, naming the record it was
/// checking.
fn runtime_diagnostic(
    rule: &Rule,
    source: &Arc<SourceFile>,
    error: &EvalAltResult,
    place: &str,
) -> Diagnostic {
    let inner = error.unwrap_inner();
    let pos = inner.position();
    let pos = if pos.is_none() { error.position() } else { pos };
    let what = match inner {
        EvalAltResult::ErrorTerminated(token, _) if token.is::<engine::OutOfOperations>() => Text::new(
            format!("规则 `{}` 的脚本超出运算次数上限（可能死循环），已停止执行（检查 {place} 时）", rule.id),
            format!("the script of rule `{}` exceeded the operation limit (an endless loop?) and was stopped (checking {place})", rule.id),
        ),
        other => Text::new(
            format!("规则 `{}` 的脚本运行出错（检查 {place} 时）：{other}", rule.id),
            format!("the script of rule `{}` failed (checking {place}): {other}", rule.id),
        ),
    };
    script_diagnostic(rule, source, pos, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currying_is_found_outside_comments_and_strings() {
        let script = "// f.curry(1)\nlet s = \"curry(2)\"; /* curry(3) */\nlet f = Fn(\"x\");\n  f = f.curry (f);\n";
        let at = currying(script).expect("found");
        assert_eq!((at.line(), at.position()), (Some(4), Some(9)));
        assert!(currying("let curry_days = 3; fn check(r, ctx) { curry_days }").is_none());
    }

    #[test]
    fn a_function_body_replays_at_its_own_place() {
        let (replay, params) =
            body_as_top_level("fn x() {}\nfn check(r, ctx) {\n  loop {}\n}\n", "check")
                .expect("found");
        assert_eq!(params, ["r", "ctx"]);
        assert_eq!(replay.lines().nth(2), Some("  loop {}"));
    }

    #[test]
    fn map_literal_keys_are_the_values_a_script_gives() {
        let script = "// #{ not_this: 1 }\nfn check(r, ctx) { ctx.report(r, \"x\", #{ a: 1, b: #{ c: 2 }, d: [1, 2], \"e\": f(1, 2) }); }";
        assert_eq!(literal_keys(script), ["a", "b", "d", "e"]);
    }
}
