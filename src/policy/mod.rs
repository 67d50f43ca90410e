//! Policies: YAML files that declare rules (id, bilingual title, clause and quote,
//! severity, parameters, messages, script), composed through `extends:`, and loaded
//! with positioned errors for policy staff. The shipped policies are embedded.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map};

use crate::diag::{Diagnostic, Origin, Severity, Text};
use crate::domain::calendar::Calendar;
use crate::parse::source::SourceFile;
use crate::parse::tree::{NodeId, Span, Tree, Value};
use crate::schema::{self, Field, KindSchema, Ty};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The policy used when none is named.
pub const DEFAULT_POLICY: &str = "policies/wuhan-2024.yaml";

/// Where policy files are read from: the embedded copies or the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Embedded,
    Disk,
}

impl Store {
    pub fn read(self, path: &Path) -> Result<String, String> {
        match self {
            Store::Embedded => {
                let wanted = normalise(path);
                embedded::FILES
                    .iter()
                    .find(|(name, _)| Path::new(name) == wanted)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or_else(|| format!("no shipped file {}", wanted.display()))
            }
            Store::Disk => std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|_| "policy files must be UTF-8".to_owned())
                }),
        }
    }

    /// Shipped file names, for `rules` listings and tests.
    pub fn embedded_names() -> impl Iterator<Item = &'static str> {
        embedded::FILES.iter().map(|(name, _)| *name)
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// How a rule walks the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Each {
    /// `check(record, ctx)` for every record of each document of the rule's kinds.
    Record,
    /// `check(document, ctx)` once per document.
    Document,
    /// `check(submission, ctx)` once per (department, year) submission.
    Submission,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// The policy that declared the rule.
    pub policy: String,
    pub title: Text,
    /// The document the clause is in (its 文号 or title).
    pub source: String,
    pub clause: String,
    pub quote: String,
    pub severity: Severity,
    pub on: Vec<&'static str>,
    pub each: Each,
    pub params: Map,
    pub messages: BTreeMap<String, Text>,
    pub help: Text,
    /// Name of the compliance figure the rule reports, if any.
    pub figure: Option<Text>,
    pub script_path: String,
    pub script: Arc<SourceFile>,
    /// Documentation from the script's `//!` header.
    pub doc: String,
    /// The texts above as its findings cite them.
    pub cite: Cite,
}

/// What a rule's findings cite of it, shared by all of them.
#[derive(Debug, Clone)]
pub struct Cite {
    pub policy: Arc<str>,
    pub title: Arc<Text>,
    pub source: Arc<str>,
    pub clause: Arc<str>,
    pub quote: Arc<str>,
}

#[derive(Debug)]
pub struct Policy {
    pub id: String,
    pub title: Text,
    /// The notice the policy enforces.
    pub source: String,
    /// Short citation (文号) of the notice.
    pub notice: String,
    pub path: String,
    pub chain: Vec<String>,
    pub effective: Option<(String, String)>,
    pub rules: Vec<Rule>,
    pub calendar: Arc<Calendar>,
    pub calendar_path: String,
}

const TEXT: &[Field] = &[
    Field {
        name: "zh",
        zh: "中文",
        ty: Ty::Str,
        required: false,
        doc: "Chinese text.",
    },
    Field {
        name: "en",
        zh: "英文",
        ty: Ty::Str,
        required: false,
        doc: "English text.",
    },
];

const KIND_NAMES: &[&str] = &[
    "Plan",
    "ItemList",
    "ObjectLibrary",
    "PersonnelLibrary",
    "Results",
];

const RULE: &[Field] = &[
    Field {
        name: "id",
        zh: "规则编号",
        ty: Ty::Str,
        required: true,
        doc: "Stable rule id (never renamed once shipped).",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "Title in Chinese and English.",
    },
    Field {
        name: "clause",
        zh: "条款",
        ty: Ty::Str,
        required: true,
        doc: "The clause of the notice the rule enforces.",
    },
    Field {
        name: "quote",
        zh: "原文",
        ty: Ty::Str,
        required: true,
        doc: "The clause's words.",
    },
    Field {
        name: "source",
        zh: "依据文件",
        ty: Ty::Str,
        required: false,
        doc: "The document the clause is in (default: the policy's `notice`).",
    },
    Field {
        name: "severity",
        zh: "严重程度",
        ty: Ty::Enum(&["error", "warning"]),
        required: true,
        doc: "error or warning.",
    },
    Field {
        name: "on",
        zh: "适用文档",
        ty: Ty::List(&Ty::Enum(KIND_NAMES)),
        required: true,
        doc: "Document kinds the rule reads.",
    },
    Field {
        name: "each",
        zh: "粒度",
        ty: Ty::Enum(&["record", "document", "submission"]),
        required: true,
        doc: "record, document or submission.",
    },
    Field {
        name: "script",
        zh: "脚本",
        ty: Ty::Str,
        required: true,
        doc: "Rhai script, relative to the policy file.",
    },
    Field {
        name: "params",
        zh: "参数",
        ty: Ty::Any,
        required: false,
        doc: "Parameters with their defaults.",
    },
    Field {
        name: "message",
        zh: "提示",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "Finding message; {name} placeholders take the script's values and the parameters.",
    },
    Field {
        name: "messages",
        zh: "其他提示",
        ty: Ty::Any,
        required: false,
        doc: "Further messages by key, for scripts that report several kinds of finding.",
    },
    Field {
        name: "help",
        zh: "整改建议",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "How to fix it.",
    },
    Field {
        name: "figure",
        zh: "合规指标",
        ty: Ty::Obj(TEXT),
        required: false,
        doc: "Name of the compliance figure the rule measures, for the summary.",
    },
    Field {
        name: "since",
        zh: "起始版本",
        ty: Ty::Str,
        required: false,
        doc: "spotlint version that shipped the rule.",
    },
];

const OVERRIDE: &[Field] = &[
    Field {
        name: "severity",
        zh: "严重程度",
        ty: Ty::Enum(&["error", "warning"]),
        required: false,
        doc: "New severity.",
    },
    Field {
        name: "params",
        zh: "参数",
        ty: Ty::Any,
        required: false,
        doc: "Parameter values to change.",
    },
];

const POLICY: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "Policy",
    },
    Field {
        name: "id",
        zh: "编号",
        ty: Ty::Str,
        required: true,
        doc: "Policy id; namespaces its rules.",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Obj(TEXT),
        required: false,
        doc: "Title.",
    },
    Field {
        name: "source",
        zh: "依据",
        ty: Ty::Str,
        required: false,
        doc: "The notice the policy enforces, in full.",
    },
    Field {
        name: "notice",
        zh: "文号",
        ty: Ty::Str,
        required: false,
        doc: "Short citation of the notice (文号), used in findings.",
    },
    Field {
        name: "extends",
        zh: "继承",
        ty: Ty::Str,
        required: false,
        doc: "Parent policy file, relative to this one.",
    },
    Field {
        name: "effective",
        zh: "有效期",
        ty: Ty::Obj(&[
            Field {
                name: "from",
                zh: "起",
                ty: Ty::Date,
                required: false,
                doc: "First day.",
            },
            Field {
                name: "to",
                zh: "止",
                ty: Ty::Date,
                required: false,
                doc: "Last day.",
            },
        ]),
        required: false,
        doc: "Dates the policy applies to.",
    },
    Field {
        name: "calendar",
        zh: "工作日历",
        ty: Ty::Str,
        required: false,
        doc: "Working-day calendar file, relative to this one.",
    },
    Field {
        name: "disable",
        zh: "停用规则",
        ty: Ty::List(&Ty::Str),
        required: false,
        doc: "Inherited rules to switch off.",
    },
    Field {
        name: "overrides",
        zh: "覆盖",
        ty: Ty::Any,
        required: false,
        doc: "Inherited rule id → {severity, params}.",
    },
    Field {
        name: "rules",
        zh: "规则",
        ty: Ty::List(&Ty::Obj(RULE)),
        required: false,
        doc: "Rules this policy declares.",
    },
];

pub const POLICY_SCHEMA: KindSchema = KindSchema {
    kind: "Policy",
    zh: "规则集",
    fields: POLICY,
    records: "rules",
};

const CALENDAR: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "Calendar",
    },
    Field {
        name: "id",
        zh: "编号",
        ty: Ty::Str,
        required: true,
        doc: "Calendar id.",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Str,
        required: false,
        doc: "Title.",
    },
    Field {
        name: "years",
        zh: "年份",
        ty: Ty::List(&Ty::Int),
        required: true,
        doc: "Years the calendar covers.",
    },
    Field {
        name: "sources",
        zh: "来源",
        ty: Ty::List(&Ty::Obj(&[
            Field {
                name: "year",
                zh: "年份",
                ty: Ty::Int,
                required: true,
                doc: "Year.",
            },
            Field {
                name: "notice",
                zh: "通知",
                ty: Ty::Str,
                required: true,
                doc: "The State Council notice.",
            },
        ])),
        required: true,
        doc: "The notice behind each year.",
    },
    Field {
        name: "holidays",
        zh: "放假日期",
        ty: Ty::List(&Ty::Date),
        required: true,
        doc: "Days off.",
    },
    Field {
        name: "workdays",
        zh: "调休上班日期",
        ty: Ty::List(&Ty::Date),
        required: true,
        doc: "Weekend days that are working days.",
    },
];

const CALENDAR_SCHEMA: KindSchema = KindSchema {
    kind: "Calendar",
    zh: "工作日历",
    fields: CALENDAR,
    records: "holidays",
};

/// Loads a policy and the chain it extends. Problems are positioned diagnostics.
pub fn load(store: Store, path: &Path) -> Result<Policy, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let policy = load_chain(store, path, &mut errors, 0);
    match policy {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

struct Parsed {
    tree: Tree,
    source: Arc<SourceFile>,
}

fn parse(
    store: Store,
    path: &Path,
    schema: &KindSchema,
    errors: &mut Vec<Diagnostic>,
) -> Option<Parsed> {
    let shown = path.display().to_string();
    let text = match store.read(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(Diagnostic::unplaced(
                Origin::Tool,
                "policy/unreadable",
                &shown,
                Text::new(format!("无法读取：{e}"), format!("cannot read: {e}")),
            ));
            return None;
        }
    };
    let source = SourceFile::from_text(shown.clone(), text);
    let mut trees = match crate::parse::yaml::load(&source) {
        Ok(t) => t,
        Err(e) => {
            errors.push(Diagnostic::problem(
                Origin::Tool,
                e.code,
                &source,
                e.span,
                Text::new(e.zh, e.en),
            ));
            return None;
        }
    };
    if trees.len() != 1 || !matches!(trees[0].root_node().value, Value::Map(_)) {
        errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/invalid",
            &source,
            Span::new(0, 0),
            Text::new(
                format!("{shown} 应只包含一个 {} 文档", schema.kind),
                format!("{shown} must hold exactly one {} document", schema.kind),
            ),
        ));
        return None;
    }
    let mut tree = trees.remove(0);
    let schema_errors = schema::validate(&mut tree, schema);
    let kind = schema::header_str(&tree, "kind");
    if kind.as_deref() != Some(schema.kind) {
        let at = tree.get(tree.root, "kind").unwrap_or(tree.root);
        errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/invalid",
            &source,
            tree.report_span(at),
            Text::new(
                format!("应为 `kind: {}`", schema.kind),
                format!("expected `kind: {}`", schema.kind),
            ),
        ));
    }
    if !schema_errors.is_empty() {
        errors.extend(schema_errors.into_iter().map(|e| {
            Diagnostic::problem(
                Origin::Tool,
                &e.code.replace("input/", "policy/"),
                &source,
                e.span,
                Text::new(e.zh, e.en),
            )
        }));
        return None;
    }
    Some(Parsed { tree, source })
}

fn load_chain(
    store: Store,
    path: &Path,
    errors: &mut Vec<Diagnostic>,
    depth: usize,
) -> Option<Policy> {
    let Parsed { tree, source } = parse(store, path, &POLICY_SCHEMA, errors)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let root = tree.root;
    let id = tree.str_at(root, "id").unwrap_or_default().to_owned();
    let error_at =
        |errors: &mut Vec<Diagnostic>, node: NodeId, code: &str, zh: String, en: String| {
            errors.push(Diagnostic::problem(
                Origin::Tool,
                code,
                &source,
                tree.report_span(node),
                Text::new(zh, en),
            ));
        };

    let mut policy = match tree.get_present(root, "extends") {
        Some(node) => {
            if depth > 8 {
                error_at(
                    errors,
                    node,
                    "policy/extends",
                    "继承链过长（或循环继承）".into(),
                    "the extends chain is too long (or circular)".into(),
                );
                return None;
            }
            let parent_path = dir.join(tree.str_at(root, "extends").unwrap_or_default());
            let before = errors.len();
            let parent = load_chain(store, &parent_path, errors, depth + 1);
            if parent.is_none() && errors.len() == before {
                error_at(
                    errors,
                    node,
                    "policy/extends",
                    "无法加载被继承的规则集".into(),
                    "cannot load the extended policy".into(),
                );
            }
            parent?
        }
        None => Policy {
            id: String::new(),
            title: Text::default(),
            source: String::new(),
            notice: String::new(),
            path: String::new(),
            chain: Vec::new(),
            effective: None,
            rules: Vec::new(),
            calendar: Arc::new(Calendar::new([], [], [])),
            calendar_path: String::new(),
        },
    };
    policy.chain.push(id.clone());
    policy.id = id.clone();
    policy.path = path.display().to_string();
    if let Some(t) = tree.get_present(root, "title") {
        policy.title = text_of(&tree, t);
    }
    if let Some(s) = tree.str_at(root, "source") {
        policy.source = s.to_owned();
    }
    policy.notice = tree.str_at(root, "notice").unwrap_or_default().to_owned();
    if let Some(e) = tree.get_present(root, "effective") {
        policy.effective = Some((
            tree.str_at(e, "from").unwrap_or("0000-01-01").to_owned(),
            tree.str_at(e, "to").unwrap_or("9999-12-31").to_owned(),
        ));
    }
    if let Some(node) = tree.get_present(root, "calendar") {
        let calendar_path = dir.join(tree.str_at(root, "calendar").unwrap_or_default());
        match load_calendar(store, &calendar_path, errors) {
            Some(c) => {
                policy.calendar = Arc::new(c);
                policy.calendar_path = calendar_path.display().to_string();
            }
            None => error_at(
                errors,
                node,
                "policy/calendar",
                "无法加载工作日历".into(),
                "cannot load the working-day calendar".into(),
            ),
        }
    }

    // Inherited rules first: switch off, then change.
    if let Some(list) = tree.get_present(root, "disable") {
        for item in tree.seq(list).to_vec() {
            let name = str_of(&tree, item);
            let before = policy.rules.len();
            policy.rules.retain(|r| r.id != name);
            if policy.rules.len() == before {
                let hint = schema::suggest(&name, policy.rules.iter().map(|r| r.id.as_str()));
                error_at(
                    errors,
                    item,
                    "policy/unknown-rule",
                    format!("要停用的规则 `{name}` 不存在{hint}"),
                    format!("cannot disable `{name}`: no such inherited rule{hint}"),
                );
            }
        }
    }
    if let Some(overrides) = tree.get_present(root, "overrides") {
        let Value::Map(entries) = tree.node(overrides).value.clone() else {
            error_at(
                errors,
                overrides,
                "policy/invalid",
                "`overrides` 应为 规则编号 → {severity, params} 的映射".into(),
                "`overrides` must map rule ids to {severity, params}".into(),
            );
            return None;
        };
        for (rule_id, body) in entries {
            let Some(index) = policy.rules.iter().position(|r| r.id == rule_id.as_str()) else {
                let hint = schema::suggest(&rule_id, policy.rules.iter().map(|r| r.id.as_str()));
                let at = tree.node(body).key_span.map(|_| body).unwrap_or(overrides);
                error_at(
                    errors,
                    at,
                    "policy/unknown-rule",
                    format!("要覆盖的规则 `{rule_id}` 不存在{hint}"),
                    format!("cannot override `{rule_id}`: no such inherited rule{hint}"),
                );
                continue;
            };
            apply_override(&tree, &source, body, &mut policy.rules[index], errors);
        }
    }
    if let Some(rules) = tree.get_present(root, "rules") {
        for rule_node in tree.seq(rules).to_vec() {
            if let Some(rule) = load_rule(
                store,
                dir,
                &tree,
                &source,
                rule_node,
                (&id, &policy.notice),
                errors,
            ) {
                if policy.rules.iter().any(|r| r.id == rule.id) {
                    let at = tree.get(rule_node, "id").unwrap_or(rule_node);
                    error_at(
                        errors,
                        at,
                        "policy/duplicate-rule",
                        format!(
                            "规则编号 `{}` 重复；修改继承的规则请用 `overrides`",
                            rule.id
                        ),
                        format!(
                            "duplicate rule id `{}`; change an inherited rule with `overrides`",
                            rule.id
                        ),
                    );
                    continue;
                }
                policy.rules.push(rule);
            }
        }
    }
    if policy.calendar.years().is_empty() && errors.is_empty() && policy.calendar_path.is_empty() {
        error_at(
            errors,
            root,
            "policy/calendar",
            "规则集未指定工作日历（`calendar:`）".into(),
            "the policy names no working-day calendar (`calendar:`)".into(),
        );
    }
    Some(policy)
}

fn apply_override(
    tree: &Tree,
    source: &Arc<SourceFile>,
    body: NodeId,
    rule: &mut Rule,
    errors: &mut Vec<Diagnostic>,
) {
    let mut check_tree = Tree {
        nodes: tree.nodes.clone(),
        root: body,
        source: Arc::clone(source),
    };
    let problems = schema::validate(
        &mut check_tree,
        &KindSchema {
            kind: "override",
            zh: "覆盖",
            fields: OVERRIDE,
            records: "",
        },
    );
    if !problems.is_empty() {
        errors.extend(problems.into_iter().map(|e| {
            Diagnostic::problem(
                Origin::Tool,
                &e.code.replace("input/", "policy/"),
                source,
                e.span,
                Text::new(e.zh, e.en),
            )
        }));
        return;
    }
    if let Some(s) = tree.str_at(body, "severity").and_then(Severity::parse) {
        rule.severity = s;
    }
    if let Some(params) = tree.get_present(body, "params") {
        merge_params(tree, source, params, rule, errors);
    }
}

/// Sets parameter values; every name must be a declared parameter of the same type.
fn merge_params(
    tree: &Tree,
    source: &Arc<SourceFile>,
    params: NodeId,
    rule: &mut Rule,
    errors: &mut Vec<Diagnostic>,
) {
    let Value::Map(entries) = &tree.node(params).value else {
        errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/bad-param",
            source,
            tree.report_span(params),
            Text::new("`params` 应为映射", "`params` must be a mapping"),
        ));
        return;
    };
    for (name, value_node) in entries {
        let value = to_dynamic(tree, *value_node);
        match rule.params.get(name.as_str()) {
            None => {
                let hint = schema::suggest(name, rule.params.keys().map(|k| k.as_str()));
                let span = tree.key_or_report_span(*value_node);
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/unknown-param",
                    source,
                    span,
                    Text::new(
                        format!("规则 `{}` 没有参数 `{name}`{hint}", rule.id),
                        format!("rule `{}` has no parameter `{name}`{hint}", rule.id),
                    ),
                ));
            }
            Some(old) if !same_kind(old, &value) => {
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/bad-param",
                    source,
                    tree.report_span(*value_node),
                    Text::new(
                        format!(
                            "参数 `{name}` 应为 {}，实为 {}",
                            old.type_name(),
                            value.type_name()
                        ),
                        format!(
                            "parameter `{name}` must be {}, found {}",
                            old.type_name(),
                            value.type_name()
                        ),
                    ),
                ));
            }
            Some(_) => {
                rule.params.insert(name.as_str().into(), value);
            }
        }
    }
}

/// Applies `rule id → {param: value}` overrides (policy tests), with the same checks
/// as a policy's `overrides`.
pub fn override_params(
    tree: &Tree,
    source: &Arc<SourceFile>,
    overrides: NodeId,
    policy: &mut Policy,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let Value::Map(entries) = &tree.node(overrides).value else {
        return Err(vec![Diagnostic::problem(
            Origin::Tool,
            "policy/bad-param",
            source,
            tree.report_span(overrides),
            Text::new(
                "`params` 应为 规则编号 → {参数: 值} 的映射",
                "`params` must map rule ids to {param: value}",
            ),
        )]);
    };
    for (rule_id, params) in entries {
        match policy.rules.iter_mut().find(|r| r.id == rule_id.as_str()) {
            Some(rule) => merge_params(tree, source, *params, rule, &mut errors),
            None => {
                let span = tree.key_or_report_span(*params);
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/unknown-rule",
                    source,
                    span,
                    Text::new(
                        format!("规则集中没有规则 `{rule_id}`"),
                        format!("the policy has no rule `{rule_id}`"),
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn same_kind(a: &Dynamic, b: &Dynamic) -> bool {
    let numeric = |d: &Dynamic| d.is_int() || d.is_float();
    a.type_id() == b.type_id() || (numeric(a) && numeric(b))
}

fn load_rule(
    store: Store,
    dir: &Path,
    tree: &Tree,
    source: &Arc<SourceFile>,
    node: NodeId,
    (policy_id, notice): (&str, &str),
    errors: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let id = tree.str_at(node, "id")?.to_owned();
    let script_rel = tree.str_at(node, "script").unwrap_or_default();
    let script_path = dir.join(script_rel);
    let shown = normalise(&script_path).display().to_string();
    let script_text = match store.read(&script_path) {
        Ok(t) => t,
        Err(e) => {
            let at = tree.get(node, "script").unwrap_or(node);
            errors.push(Diagnostic::problem(
                Origin::Tool,
                "policy/missing-script",
                source,
                tree.report_span(at),
                Text::new(
                    format!("规则 `{id}` 的脚本 {shown} 无法读取：{e}"),
                    format!("the script {shown} of rule `{id}` cannot be read: {e}"),
                ),
            ));
            return None;
        }
    };
    let mut messages = BTreeMap::new();
    if let Some(m) = tree.get_present(node, "message") {
        messages.insert("default".to_owned(), text_of(tree, m));
    }
    if let Some(extra) = tree.get_present(node, "messages") {
        if let Value::Map(entries) = &tree.node(extra).value {
            for (key, text) in entries {
                messages.insert(key.to_string(), text_of(tree, *text));
            }
        }
    }
    let params = match tree.get_present(node, "params") {
        Some(p) => match to_dynamic(tree, p).try_cast::<Map>() {
            Some(map) => map,
            None => {
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/bad-param",
                    source,
                    tree.report_span(p),
                    Text::new("`params` 应为映射", "`params` must be a mapping"),
                ));
                return None;
            }
        },
        None => Map::new(),
    };
    let on = tree
        .get_present(node, "on")
        .map(|list| {
            tree.seq(list)
                .iter()
                .filter_map(|k| KIND_NAMES.iter().find(|n| **n == str_of(tree, *k)).copied())
                .collect()
        })
        .unwrap_or_default();
    let each = match tree.str_at(node, "each") {
        Some("document") => Each::Document,
        Some("submission") => Each::Submission,
        _ => Each::Record,
    };
    let title = tree
        .get_present(node, "title")
        .map(|t| text_of(tree, t))
        .unwrap_or_default();
    let source = tree.str_at(node, "source").unwrap_or(notice);
    let clause = tree.str_at(node, "clause").unwrap_or_default();
    let quote = tree.str_at(node, "quote").unwrap_or_default();
    Some(Rule {
        cite: Cite {
            policy: policy_id.into(),
            title: Arc::new(title.clone()),
            source: source.into(),
            clause: clause.into(),
            quote: quote.into(),
        },
        policy: policy_id.to_owned(),
        title,
        source: source.to_owned(),
        clause: clause.to_owned(),
        quote: quote.to_owned(),
        severity: tree
            .str_at(node, "severity")
            .and_then(Severity::parse)
            .unwrap_or(Severity::Error),
        on,
        each,
        params,
        messages,
        help: tree
            .get_present(node, "help")
            .map(|t| text_of(tree, t))
            .unwrap_or_default(),
        figure: tree.get_present(node, "figure").map(|t| text_of(tree, t)),
        doc: doc_header(&script_text),
        script: SourceFile::from_text(shown.clone(), script_text),
        script_path: shown,
        id,
    })
}

/// The `//!` header of a script: the rule's documentation.
pub fn doc_header(script: &str) -> String {
    script
        .lines()
        .take_while(|l| l.trim_start().starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

fn load_calendar(store: Store, path: &Path, errors: &mut Vec<Diagnostic>) -> Option<Calendar> {
    let Parsed { tree, .. } = parse(store, path, &CALENDAR_SCHEMA, errors)?;
    let root = tree.root;
    let years = tree
        .get(root, "years")
        .map(|n| {
            tree.seq(n)
                .iter()
                .filter_map(|y| match tree.node(*y).value {
                    Value::Int(i) => i32::try_from(i).ok(),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let dates = |key: &str| {
        tree.get(root, key)
            .map(|n| {
                tree.seq(n)
                    .iter()
                    .filter_map(|d| schema::parse_date(&str_of(&tree, *d)).ok())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    Some(Calendar::new(years, dates("holidays"), dates("workdays")))
}

fn str_of(tree: &Tree, id: NodeId) -> String {
    match &tree.node(id).value {
        Value::Str(s) => s.to_string(),
        _ => tree.node(id).raw.as_deref().unwrap_or_default().to_owned(),
    }
}

fn text_of(tree: &Tree, id: NodeId) -> Text {
    Text::new(
        tree.str_at(id, "zh").unwrap_or_default(),
        tree.str_at(id, "en").unwrap_or_default(),
    )
}

/// A YAML value as a Rhai value (parameters).
pub fn to_dynamic(tree: &Tree, id: NodeId) -> Dynamic {
    tree.to_dynamic_with(id, &|map| {
        let entries = match &tree.node(map).value {
            Value::Map(entries) => entries.as_slice(),
            _ => &[],
        };
        let map: Map = entries
            .iter()
            .map(|(k, v)| (k.as_str().into(), to_dynamic(tree, *v)))
            .collect();
        Dynamic::from_map(map)
    })
}

impl Policy {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        let bare = id.rsplit('/').next().unwrap_or(id);
        self.rules.iter().find(|r| r.id == bare)
    }
}

/// Parameter values as text for `explain` and messages.
pub fn param_text(value: &Dynamic) -> String {
    if value.is_float() {
        let f = value.as_float().unwrap_or_default();
        format!("{f}")
    } else if let Some(s) = value.clone().try_cast::<ImmutableString>() {
        s.to_string()
    } else {
        value.to_string()
    }
}
