//! Loading a policy file and the chain it `extends`: schema, rules, overrides,
//! parameters and calendar, with positioned errors.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Map};

use super::spec::{CALENDAR_SCHEMA, KIND_NAMES, OVERRIDE, POLICY_SCHEMA};
use super::{doc_header, normalise, Each, Labels, Logic, Params, Policy, Rule, Store};
use crate::diag::{Cite, Diagnostic, Origin, Severity, Text};
use crate::domain::calendar::Calendar;
use crate::parse::source::SourceFile;
use crate::parse::tree::{NodeId, NodeRef, Span, Tree, Value};
use crate::schema::{self, KindSchema};

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
    tree: Arc<Tree>,
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
    // A file that is no policy at all (a path pointing at the wrong file) is named,
    // never quoted: it may hold anything.
    let not_this_kind = |errors: &mut Vec<Diagnostic>| {
        errors.push(Diagnostic::unplaced(
            Origin::Tool,
            "policy/invalid",
            &shown,
            Text::new(
                format!(
                    "{shown} 不是 {} 文件（应为一个带 `kind: {}` 的 YAML 文档）",
                    schema.kind, schema.kind
                ),
                format!(
                    "{shown} is not a {} file (one YAML document with `kind: {}`)",
                    schema.kind, schema.kind
                ),
            ),
        ));
    };
    let declares_a_kind = text
        .lines()
        .any(|line| line.starts_with("kind:") || line.starts_with("\"kind\""));
    let source = SourceFile::from_text(shown.clone(), text);
    let mut trees = match crate::parse::yaml::load(&source) {
        Ok(t) => t,
        Err(_) if !declares_a_kind => {
            not_this_kind(errors);
            return None;
        }
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
    let kind_of_first = trees
        .first()
        .filter(|t| matches!(t.root_node().value, Value::Map(_)))
        .and_then(|t| schema::header_str(t, "kind"));
    if kind_of_first.is_none() {
        not_this_kind(errors);
        return None;
    }
    if trees.len() != 1 {
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
    Some(Parsed {
        tree: Arc::new(tree),
        source,
    })
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
            let unreadable = errors.len() == before + 1
                && matches!(
                    errors[before].rule.as_str(),
                    "policy/unreadable" | "policy/invalid"
                )
                && errors[before].span.is_none();
            if parent.is_none() && (errors.len() == before || unreadable) {
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
            waivers: super::WaiverPolicy::default(),
            vocabulary: None,
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

    if let Some(w) = tree.get_present(root, "waivers") {
        let waivers = &mut policy.waivers;
        if let Some(v) = tree.get_present(w, "beside_submission") {
            waivers.beside_submission = matches!(tree.node(v).value, Value::Bool(true));
        }
        if let Some(list) = tree.get_present(w, "approvers") {
            waivers.approvers = tree.seq(list).iter().map(|&n| str_of(&tree, n)).collect();
        }
        if let Some(v) = tree.get_present(w, "max_days") {
            match tree.node(v).value {
                Value::Int(n) if n >= 0 => waivers.max_days = Some(n),
                _ => error_at(
                    errors,
                    v,
                    "policy/invalid",
                    "`max_days` 应为 0 或更大的整数".into(),
                    "`max_days` must be a whole number, 0 or more".into(),
                ),
            }
        }
        if let Some(scope) = tree.str_at(w, "scope") {
            waivers.whole_rule = scope == "rule";
        }
    }

    if let Some(node) = tree.get_present(root, "vocabulary") {
        let path = dir.join(tree.str_at(root, "vocabulary").unwrap_or_default());
        match load_vocabulary(store, &path, errors) {
            Some(words) => {
                let base = policy
                    .vocabulary
                    .clone()
                    .unwrap_or_else(|| Arc::clone(crate::read::table::vocabulary::shipped()));
                policy.vocabulary = Some(Arc::new(base.extended(&words)));
            }
            None => error_at(
                errors,
                node,
                "policy/vocabulary",
                "无法加载表头词表".into(),
                "cannot load the header vocabulary".into(),
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
            if let Some(rule) =
                load_rule(store, dir, &tree, rule_node, (&id, &policy.notice), errors)
            {
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
    tree: &Arc<Tree>,
    source: &Arc<SourceFile>,
    body: NodeId,
    rule: &mut Rule,
    errors: &mut Vec<Diagnostic>,
) {
    let mut check_tree = Tree {
        nodes: tree.nodes.clone(),
        root: body,
        source: Arc::clone(source),
        invalid: Vec::new(),
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
        merge_params(tree, params, rule, errors);
    }
}

/// Sets parameter values; every name must be a declared parameter of the same type.
/// Where a parameter is used by a check, its range is checked with the check.
fn merge_params(tree: &Arc<Tree>, params: NodeId, rule: &mut Rule, errors: &mut Vec<Diagnostic>) {
    let source = &tree.source;
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
                let hint = schema::suggest(name, rule.params.values.keys().map(|k| k.as_str()));
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
                let ((want_en, want_zh), (found_en, found_zh)) =
                    (type_name(old), type_name(&value));
                errors.push(Diagnostic::problem(
                    Origin::Tool,
                    "policy/bad-param",
                    source,
                    tree.report_span(*value_node),
                    Text::new(
                        format!("参数 `{name}` 应为 {want_zh}，实为 {found_zh}"),
                        format!("parameter `{name}` must be {want_en}, found {found_en}"),
                    ),
                ));
            }
            Some(_) => {
                rule.params.values.insert(name.as_str().into(), value);
                rule.params.origin.insert(
                    name.to_string(),
                    NodeRef {
                        tree: Arc::clone(tree),
                        id: *value_node,
                    },
                );
            }
        }
    }
}

/// Applies `rule id → {param: value}` overrides (policy tests), with the same checks
/// as a policy's `overrides`.
pub fn override_params(
    tree: &Arc<Tree>,
    overrides: NodeId,
    policy: &mut Policy,
) -> Result<(), Vec<Diagnostic>> {
    let source = &tree.source;
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
            Some(rule) => merge_params(tree, *params, rule, &mut errors),
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

/// Whether an override may replace a parameter's value: the same type, where a
/// whole number stays whole (a ratio may be written `1`).
fn same_kind(old: &Dynamic, new: &Dynamic) -> bool {
    old.type_id() == new.type_id() || (old.is_float() && new.is_int())
}

/// A parameter value's type as messages name it, in English and Chinese.
fn type_name(v: &Dynamic) -> (&'static str, &'static str) {
    if v.is_int() {
        ("a whole number", "整数")
    } else if v.is_float() {
        ("a number", "数值")
    } else if v.is_string() {
        ("text", "文本")
    } else if v.is_bool() {
        ("true or false", "true 或 false")
    } else if v.is_array() {
        ("a list", "列表")
    } else if v.is_map() {
        ("a mapping", "映射")
    } else {
        ("nothing", "空值")
    }
}

fn load_rule(
    store: Store,
    dir: &Path,
    tree: &Arc<Tree>,
    node: NodeId,
    (policy_id, notice): (&str, &str),
    errors: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let source = &tree.source;
    let id = tree.str_at(node, "id")?.to_owned();
    let at = |id: NodeId| NodeRef {
        tree: Arc::clone(tree),
        id,
    };
    let error = |errors: &mut Vec<Diagnostic>, at: NodeId, code: &str, text: Text| {
        errors.push(Diagnostic::problem(
            Origin::Tool,
            code,
            source,
            tree.report_span(at),
            text,
        ));
    };
    let script = tree.get_present(node, "script");
    let check = tree.get_present(node, "check");
    let checks = tree.get_present(node, "checks");
    let logic = match (script, check, checks) {
        (Some(script), None, None) => {
            let script_rel = tree.str_at(node, "script").unwrap_or_default();
            let script_path = dir.join(script_rel);
            let shown = normalise(&script_path).display().to_string();
            // Only Rhai files are read as scripts: a path to any other file is refused
            // unread, so no error message ever quotes it.
            let is_rhai = script_path.extension().and_then(|e| e.to_str()) == Some("rhai");
            let read = if is_rhai {
                store.read(&script_path)
            } else {
                Err("a script is a `.rhai` file".to_owned())
            };
            match read {
                Ok(text) => Logic::Script {
                    source: SourceFile::from_text(shown.clone(), text),
                    path: shown,
                },
                Err(e) => {
                    error(
                        errors,
                        script,
                        "policy/missing-script",
                        Text::new(
                            format!("规则 `{id}` 的脚本 {shown} 无法读取：{e}"),
                            format!("the script {shown} of rule `{id}` cannot be read: {e}"),
                        ),
                    );
                    return None;
                }
            }
        }
        (None, Some(spec), None) | (None, None, Some(spec)) => Logic::Checks(at(spec)),
        (None, None, None) => {
            error(
                errors,
                node,
                "policy/invalid",
                Text::new(
                    format!("规则 `{id}` 没有检查逻辑：写明 `check:`（声明式检查）或 `script:`（Rhai 脚本）"),
                    format!("rule `{id}` has no logic: give it `check:` (a declarative check) or `script:` (a Rhai script)"),
                ),
            );
            return None;
        }
        _ => {
            error(
                errors,
                node,
                "policy/invalid",
                Text::new(
                    format!("规则 `{id}` 只能有 `script:`、`check:`、`checks:` 之一"),
                    format!("rule `{id}` takes exactly one of `script:`, `check:` and `checks:`"),
                ),
            );
            return None;
        }
    };
    let mut messages = BTreeMap::new();
    let mut message_nodes = BTreeMap::new();
    if let Some(m) = tree.get_present(node, "message") {
        messages.insert("default".to_owned(), text_of(tree, m));
        message_nodes.insert("default".to_owned(), at(m));
    }
    if let Some(extra) = tree.get_present(node, "messages") {
        match &tree.node(extra).value {
            Value::Map(entries) => {
                for (key, text) in entries {
                    messages.insert(key.to_string(), text_of(tree, *text));
                    message_nodes.insert(key.to_string(), at(*text));
                }
            }
            _ => error(
                errors,
                extra,
                "policy/invalid",
                Text::new(
                    "`messages` 应为 提示键 → {zh, en} 的映射",
                    "`messages` must map message keys to {zh, en}",
                ),
            ),
        }
    }
    let mut params = Params::default();
    if let Some(p) = tree.get_present(node, "params") {
        match &tree.node(p).value {
            Value::Map(entries) => {
                for (name, value) in entries {
                    params
                        .values
                        .insert(name.as_str().into(), to_dynamic(tree, *value));
                    params.origin.insert(name.to_string(), at(*value));
                }
            }
            _ => {
                error(
                    errors,
                    p,
                    "policy/bad-param",
                    Text::new("`params` 应为映射", "`params` must be a mapping"),
                );
                return None;
            }
        }
    }
    let labels = match tree.get_present(node, "labels") {
        Some(l) => labels_of(tree, l, errors)?,
        None => Labels::new(),
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
    let doc = match (&logic, tree.str_at(node, "doc")) {
        (_, Some(doc)) => doc.trim().to_owned(),
        (Logic::Script { source, .. }, None) => doc_header(&source.text),
        (Logic::Checks(_), None) => String::new(),
    };
    let title = tree
        .get_present(node, "title")
        .map(|t| text_of(tree, t))
        .unwrap_or_default();
    let cited = tree.str_at(node, "source").unwrap_or(notice);
    let clause = tree.str_at(node, "clause").unwrap_or_default();
    let quote = tree.str_at(node, "quote").unwrap_or_default();
    Some(Rule {
        cite: Arc::new(Cite {
            policy: Some(policy_id.to_owned()),
            title: Some(title.clone()),
            source_doc: Some(cited.to_owned()),
            clause: Some(clause.to_owned()),
            quote: Some(quote.to_owned()),
        }),
        policy: policy_id.to_owned(),
        title,
        source: cited.to_owned(),
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
        message_nodes,
        help: tree
            .get_present(node, "help")
            .map(|t| text_of(tree, t))
            .unwrap_or_default(),
        labels,
        figure: tree.get_present(node, "figure").map(|t| text_of(tree, t)),
        logic,
        doc,
        node: at(node),
        id,
    })
}

/// `labels:`: placeholder → value → {zh, en}.
fn labels_of(tree: &Tree, node: NodeId, errors: &mut Vec<Diagnostic>) -> Option<Labels> {
    let bad = |errors: &mut Vec<Diagnostic>, at: NodeId| {
        errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/invalid",
            &tree.source,
            tree.report_span(at),
            Text::new(
                "`labels` 应为 占位符 → 取值 → {zh, en} 的映射",
                "`labels` must map placeholders to values to {zh, en}",
            ),
        ));
    };
    let Value::Map(names) = &tree.node(node).value else {
        bad(errors, node);
        return None;
    };
    let mut labels = Labels::new();
    for (name, values) in names {
        let Value::Map(entries) = &tree.node(*values).value else {
            bad(errors, *values);
            return None;
        };
        let mut of_name = BTreeMap::new();
        for (value, text) in entries {
            if !matches!(tree.node(*text).value, Value::Map(_)) {
                bad(errors, *text);
                return None;
            }
            of_name.insert(value.to_string(), text_of(tree, *text));
        }
        labels.insert(name.to_string(), of_name);
    }
    Some(labels)
}

/// A vocabulary file named by a policy; its problems are positioned in it.
fn load_vocabulary(
    store: Store,
    path: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Option<crate::read::table::Vocabulary> {
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
    // Any other file is named, never quoted (see `parse`).
    if !text
        .lines()
        .any(|line| line.starts_with("kind: Vocabulary"))
    {
        errors.push(Diagnostic::unplaced(
            Origin::Tool,
            "policy/invalid",
            &shown,
            Text::new(
                format!("{shown} 不是词表文件（应为带 `kind: Vocabulary` 的 YAML 文档）"),
                format!(
                    "{shown} is not a vocabulary file (a YAML document with `kind: Vocabulary`)"
                ),
            ),
        ));
        return None;
    }
    let source = SourceFile::from_text(shown, text);
    match crate::read::table::Vocabulary::parse(&source) {
        Ok(v) => Some(v),
        Err(problems) => {
            errors.extend(problems.into_iter().map(|e| {
                Diagnostic::problem(Origin::Tool, e.code, &source, e.span, Text::new(e.zh, e.en))
            }));
            None
        }
    }
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
