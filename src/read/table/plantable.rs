//! Published plan tables (年度抽查计划 / 部门联合抽查计划 as government pages print
//! them) read as `kind: Plan` documents: one document per table, one task per numbered
//! row (序号), with the position-keeping trees of [`super`].
//!
//! # Recognition
//!
//! A table without a `kind` column whose headers are not those of another table kind is
//! a plan table when it has one of 抽查任务名称 / 抽查类别 / 抽查领域 / 抽查事项 **and**
//! one of 抽查比例… / 发起部门 / 检查对象 / 抽查对象… (headers matched as in
//! [`super`]: spaces, full-width forms and one trailing bracketed note ignored).
//!
//! # Column mapping (built in)
//!
//! | header | task field |
//! |---|---|
//! | 序号 | task `id` (the cell text, e.g. `3`); a blank or 〃 序号 continues the task above |
//! | 抽查任务名称, 抽查类别, 抽查领域 | `name` |
//! | 抽查事项 | `items` — the item text as published, one item per cell (not split, no generated ids) |
//! | 检查对象, 抽查对象范围, 抽查对象 | `objects.description` |
//! | 抽查比例及频次, 抽查比例 | `ratio` (lower bound of [`crate::domain::ratio::parse_cell`]) and `frequency` (its 次/年) |
//! | 抽查频次 | `frequency` |
//! | 发起部门, 检查主体, 抽查主体 | `lead` |
//! | 配合部门 | `partners` (split on `、` `，` `,` `;`) |
//! | 检查层级, 抽查层级 | `level`: `district` when the text has 县 or 区, else `city` |
//! | 抽查检查起止时间, 检查时间, 实施日期 | `start` (and `end`): only a full date (`2016.2.1`) or two dates joined by `-` `—` `～` `至`; otherwise left absent |
//! | 智慧监管（信用风险分类）要求 | `credit_risk.applied`: false when the cell says 不涉（及）, else true |
//! | 事项类别 | ignored: 一般/重点 is an *item* category; a task has no such field |
//! | 抽查检查模式, 随机抽查方式, 抽查周期, 抽查基数, 抽查依据, 预估… (any header starting 预估) | ignored |
//!
//! An unknown header is an error at its cell with a did-you-mean over the known headers.
//!
//! # Sidecar
//!
//! `<table>.columns.yaml` next to the table (`plans/linyi-2023.csv` →
//! `plans/linyi-2023.columns.yaml`, the table's extension replaced) may give the document
//! fields the table does not carry and extend the mapping:
//!
//! ```yaml
//! department: 临沂市住房和城乡建设局
//! year: 2023
//! level: city            # also district, scope (text, typed by the validator)
//! columns:               # merged over the built-in mapping
//!   预估抽查对象数: ignore
//!   备注: ignore
//!   牵头单位: lead
//! ```
//!
//! Column targets: `id`, `name`, `items`, `description` (= `objects.description`),
//! `ratio`, `frequency`, `lead`, `partners`, `level`, `dates` (start/end), `start`, `end`,
//! `credit_risk`, `joint`, `hotspot`, `implements`, `ignore`. The sidecar's document
//! fields are placed at the table's header row. Without a sidecar `department` and `year`
//! are absent, so [`crate::schema::validate`] reports them missing at the header row and
//! the tasks still load.
//!
//! # Rows
//!
//! * A row with a 序号 starts a task. In it a blank or 〃 cell (also `″`, `"`, `同上`)
//!   repeats the value above in the same column; the value is placed at the 〃 cell.
//! * A row whose 序号 is blank or 〃 continues the task above: its 抽查事项 (unless 〃)
//!   is appended to the task's items; any other non-blank, non-〃 cell is taken only if
//!   the task does not have that field yet.
//! * Without a 序号 column every row is a task, numbered from 1.
//! * A ratio cell that has neither ratio, count nor frequency is an error at the cell; a
//!   count (`60-70家`) leaves `ratio` absent (rules then report the missing ratio).
//! * Every value node's span is its cell (list items: inside the cell when the cell is
//!   written out, the 〃 cell for repeated values).

use std::collections::HashMap;
use std::sync::Arc;

use rhai::ImmutableString;

use super::{
    clean_header, error, normalise_date, normalise_header, push, value_node, RawCell, RawRow,
    TableError, Text,
};
use crate::parse::source::SourceFile;
use crate::parse::tree::{Key, Node, NodeId, Span, Tree, Value};
use crate::parse::yaml::LoadError;
use crate::schema;

/// Where a column goes in a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Target {
    Row,
    Id,
    Name,
    Items,
    Description,
    Ratio,
    Frequency,
    Lead,
    Partners,
    Level,
    Dates,
    Start,
    End,
    CreditRisk,
    Joint,
    Hotspot,
    Implements,
    Ignore,
}

const TARGETS: &[(&str, Target)] = &[
    ("id", Target::Id),
    ("name", Target::Name),
    ("items", Target::Items),
    ("description", Target::Description),
    ("objects.description", Target::Description),
    ("ratio", Target::Ratio),
    ("frequency", Target::Frequency),
    ("lead", Target::Lead),
    ("partners", Target::Partners),
    ("level", Target::Level),
    ("dates", Target::Dates),
    ("start", Target::Start),
    ("end", Target::End),
    ("credit_risk", Target::CreditRisk),
    ("credit_risk.applied", Target::CreditRisk),
    ("joint", Target::Joint),
    ("hotspot", Target::Hotspot),
    ("implements", Target::Implements),
    ("ignore", Target::Ignore),
];

const BUILT_IN: &[(&str, Target)] = &[
    ("序号", Target::Row),
    ("抽查任务名称", Target::Name),
    ("抽查类别", Target::Name),
    ("抽查领域", Target::Name),
    ("抽查事项", Target::Items),
    ("检查对象", Target::Description),
    ("抽查对象范围", Target::Description),
    ("抽查对象", Target::Description),
    ("抽查比例及频次", Target::Ratio),
    ("抽查比例", Target::Ratio),
    ("抽查频次", Target::Frequency),
    ("发起部门", Target::Lead),
    ("检查主体", Target::Lead),
    ("抽查主体", Target::Lead),
    ("配合部门", Target::Partners),
    ("检查层级", Target::Level),
    ("抽查层级", Target::Level),
    ("抽查检查起止时间", Target::Dates),
    ("检查时间", Target::Dates),
    ("实施日期", Target::Dates),
    ("智慧监管（信用风险分类）要求", Target::CreditRisk),
    ("事项类别", Target::Ignore),
    ("抽查检查模式", Target::Ignore),
    ("随机抽查方式", Target::Ignore),
    ("抽查周期", Target::Ignore),
    ("抽查基数", Target::Ignore),
    ("抽查依据", Target::Ignore),
];

/// Whether the headers are those of a published plan table.
pub(super) fn looks_like_plan(headers: &[RawCell]) -> bool {
    let names: Vec<String> = headers.iter().map(|c| normalise_header(&c.text)).collect();
    let has = |h: &str| names.iter().any(|n| n == h);
    let first = ["抽查任务名称", "抽查类别", "抽查领域", "抽查事项"]
        .iter()
        .any(|h| has(h));
    let second = has("发起部门")
        || has("检查对象")
        || names
            .iter()
            .any(|n| n.starts_with("抽查比例") || n.starts_with("抽查对象"));
    first && second
}

/// The sidecar `<table>.columns.yaml`: document fields and extra column mappings.
#[derive(Debug, Default)]
pub struct Sidecar {
    /// Plan document fields (`department`, `year`, `level`, `district`, `scope`).
    doc: Vec<(&'static str, Value)>,
    /// Normalised header → target.
    columns: Vec<(String, String, Target)>,
}

const SIDECAR_FIELDS: &[&str] = &["department", "year", "level", "district", "scope"];

/// Whether a table has a sidecar `<table>.columns.yaml`.
pub fn has_sidecar(path_shown: &str) -> bool {
    sidecar_path(path_shown).exists()
}

/// The sidecar path of a table path: its extension replaced by `columns.yaml`.
pub(super) fn sidecar_path(path_shown: &str) -> std::path::PathBuf {
    std::path::Path::new(path_shown).with_extension("columns.yaml")
}

/// Reads the sidecar next to `path_shown`, if there is one.
pub(super) fn read_sidecar(path_shown: &str) -> Result<Option<Sidecar>, Vec<TableError>> {
    let path = sidecar_path(path_shown);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let source = match SourceFile::decode(shown.clone(), &bytes) {
        Ok(s) => s,
        Err(e) => {
            return Err(vec![TableError {
                source: SourceFile::from_text(shown, ""),
                error: error("input/encoding", Span::default(), e.to_string(), e.zh()),
            }])
        }
    };
    parse_sidecar(&source).map(Some).map_err(|errors| {
        errors
            .into_iter()
            .map(|error| TableError {
                source: Arc::clone(&source),
                error,
            })
            .collect()
    })
}

pub(super) fn parse_sidecar(source: &Arc<SourceFile>) -> Result<Sidecar, Vec<LoadError>> {
    let trees = crate::parse::yaml::load(source).map_err(|e| vec![e])?;
    let mut sidecar = Sidecar::default();
    let Some(tree) = trees.first() else {
        return Ok(sidecar);
    };
    let mut errors = Vec::new();
    let Value::Map(entries) = &tree.root_node().value else {
        return Err(vec![error(
            "input/wrong-type",
            tree.root_node().span,
            "a columns sidecar is a mapping (department, year, columns)",
            "列映射文件应为映射（department、year、columns）",
        )]);
    };
    for (key, id) in entries {
        let node = tree.node(*id);
        let key_span = node.key_span.unwrap_or(node.span);
        if key.as_str() == "columns" {
            let Value::Map(cols) = &node.value else {
                errors.push(error(
                    "input/wrong-type",
                    node.span,
                    "`columns` maps header text to a task field",
                    "`columns` 应为「表头文字: 任务字段」的映射",
                ));
                continue;
            };
            for (header, v) in cols {
                let vnode = tree.node(*v);
                let target = match &vnode.value {
                    Value::Str(s) => TARGETS.iter().find(|(n, _)| *n == s.as_str()),
                    _ => None,
                };
                match target {
                    Some((_, t)) => {
                        sidecar
                            .columns
                            .push((normalise_header(header), header.to_string(), *t))
                    }
                    None => {
                        let given = match &vnode.value {
                            Value::Str(s) => s.to_string(),
                            other => other.type_name().to_owned(),
                        };
                        let hint = schema::suggest(&given, TARGETS.iter().map(|(n, _)| *n));
                        let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
                        errors.push(error(
                            "input/bad-value",
                            vnode.span,
                            format!(
                                "unknown task field `{given}`{hint} (fields: {})",
                                names.join(", ")
                            ),
                            format!(
                                "未知的任务字段 `{given}`{}（可用：{}）",
                                super::zh_hint(&hint),
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        } else if let Some(name) = SIDECAR_FIELDS.iter().find(|f| **f == key.as_str()) {
            sidecar.doc.push((name, node.value.clone()));
        } else {
            let mut known = SIDECAR_FIELDS.to_vec();
            known.push("columns");
            let hint = schema::suggest(key, known.iter().copied());
            errors.push(error(
                "input/unknown-field",
                key_span,
                format!(
                    "unknown sidecar field `{key}`{hint} (fields: {})",
                    known.join(", ")
                ),
                format!(
                    "未知的列映射字段 `{key}`{}（可用：{}）",
                    super::zh_hint(&hint),
                    known.join(", ")
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(sidecar)
    } else {
        Err(errors)
    }
}

/// `〃` and the marks people type for it.
fn is_ditto(text: &str) -> bool {
    matches!(
        text.trim(),
        "〃" | "″" | "\"" | "同上" | "”" | "“" | "''" | "〃〃"
    )
}

fn is_repeat(cell: Option<&RawCell>) -> bool {
    cell.is_none_or(|c| c.is_empty() || is_ditto(&c.text))
}

/// The field of a task, in the order of the YAML form.
const TASK_ORDER: &[(&str, Target)] = &[
    ("id", Target::Id),
    ("name", Target::Name),
    ("joint", Target::Joint),
    ("lead", Target::Lead),
    ("partners", Target::Partners),
    ("items", Target::Items),
    ("objects", Target::Description),
    ("level", Target::Level),
    ("implements", Target::Implements),
    ("hotspot", Target::Hotspot),
    ("credit_risk", Target::CreditRisk),
    ("ratio", Target::Ratio),
    ("frequency", Target::Frequency),
    ("start", Target::Start),
    ("end", Target::End),
];

struct Task {
    span: Span,
    fields: Vec<(Target, NodeId)>,
    items: Vec<NodeId>,
    items_key: Option<Span>,
}

impl Task {
    fn has(&self, t: Target) -> bool {
        if t == Target::Items {
            return !self.items.is_empty();
        }
        self.fields.iter().any(|(k, _)| *k == t)
    }
}

struct PlanBuilder<'a> {
    nodes: Vec<Node>,
    tasks: Vec<Task>,
    targets: &'a [Option<Target>],
    errors: Vec<LoadError>,
}

/// Builds the Plan document of a plan table whose header row is `header`.
pub(super) fn build<I>(
    source: &Arc<SourceFile>,
    header: &RawRow,
    width: usize,
    rows: I,
    csv: bool,
    sidecar: Option<&Sidecar>,
) -> Result<Vec<Tree>, Vec<LoadError>>
where
    I: Iterator<Item = Result<RawRow, LoadError>>,
{
    let header_span = header.used_span();
    let mut lookup: HashMap<String, Target> = BUILT_IN
        .iter()
        .map(|(h, t)| (normalise_header(h), *t))
        .collect();
    let mut known: Vec<String> = BUILT_IN.iter().map(|(h, _)| (*h).to_owned()).collect();
    if let Some(s) = sidecar {
        for (n, given, t) in &s.columns {
            lookup.insert(n.clone(), *t);
            known.push(given.clone());
        }
    }
    let mut errors = Vec::new();
    let mut targets: Vec<Option<Target>> = Vec::with_capacity(width);
    let mut seen: HashMap<Target, usize> = HashMap::new();
    for (i, cell) in header.cells.iter().take(width).enumerate() {
        if cell.is_empty() {
            targets.push(None);
            continue;
        }
        let n = normalise_header(&cell.text);
        let target = lookup
            .get(&n)
            .copied()
            .or_else(|| n.starts_with("预估").then_some(Target::Ignore));
        match target {
            Some(t) => {
                if t != Target::Ignore {
                    if let Some(first) = seen.insert(t, i) {
                        errors.push(error(
                            "input/duplicate-key",
                            cell.span,
                            format!(
                                "the column `{}` fills the same task field as column {}",
                                clean_header(&cell.text),
                                first + 1
                            ),
                            format!(
                                "列 `{}` 与第 {} 列对应同一任务字段",
                                clean_header(&cell.text),
                                first + 1
                            ),
                        ));
                    }
                }
                targets.push(Some(t));
            }
            None => {
                let given = clean_header(&cell.text);
                let hint = schema::suggest(&given, known.iter().map(String::as_str));
                errors.push(error(
                    "input/unknown-field",
                    cell.span,
                    format!(
                        "unknown plan-table column `{given}`{hint}; map it in the sidecar `<table>.columns.yaml` (`columns: {{{given}: ignore}}` or a task field)"
                    ),
                    format!(
                        "未知的计划表列 `{given}`{}；请在旁附文件 `<表名>.columns.yaml` 中映射（`columns: {{{given}: ignore}}` 或任务字段）",
                        super::zh_hint(&hint)
                    ),
                ));
                targets.push(None);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let row_col = targets.iter().position(|t| *t == Some(Target::Row));
    let mut b = PlanBuilder {
        nodes: Vec::new(),
        tasks: Vec::new(),
        targets: &targets,
        errors,
    };
    let root = push(
        &mut b.nodes,
        Value::Map(Vec::new()),
        header_span,
        None,
        None,
    )
    .map_err(|e| vec![e])?;
    // The last effective text of each column, for 〃 and blank cells.
    let mut above: Vec<Option<String>> = vec![None; width];
    let mut data_rows = 0usize;
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                b.errors.push(e);
                break;
            }
        };
        if row.is_blank() {
            continue;
        }
        data_rows += 1;
        if !b.check_row(&row, width, csv) {
            if b.errors.len() >= super::MAX_ERRORS {
                break;
            }
            continue;
        }
        let continues = row_col.is_some_and(|p| is_repeat(row.cells.get(p))) && !b.tasks.is_empty();
        if let Err(e) = b.row(&row, continues, data_rows, &mut above) {
            b.errors.push(e);
            break;
        }
    }
    if data_rows == 0 && b.errors.is_empty() {
        b.errors.push(error(
            "input/empty",
            header_span,
            "the table has a header row but no data rows",
            "表格只有列名行，没有数据行",
        ));
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    b.finish(source, root, header_span, sidecar)
        .map_err(|e| vec![e])
}

impl PlanBuilder<'_> {
    /// Ragged rows, stray values, spreadsheet errors: false when the row is unusable.
    fn check_row(&mut self, row: &RawRow, width: usize, csv: bool) -> bool {
        if csv && row.cells.len() < width {
            let n = row.cells.len();
            self.errors.push(error(
                "input/malformed",
                row.span,
                format!("this row has {n} cells but the header has {width} columns"),
                format!("此行有 {n} 个单元格，而列名行有 {width} 列"),
            ));
            return false;
        }
        let before = self.errors.len();
        for (i, cell) in row.cells.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let target = self.targets.get(i).copied().flatten();
            if target.is_none() {
                self.errors.push(error(
                    "input/malformed",
                    cell.span,
                    "a value in a column without a header",
                    "该列没有列名，却填写了值",
                ));
            } else if cell.excel_error && target != Some(Target::Ignore) {
                self.errors.push(error(
                    "input/bad-value",
                    cell.span,
                    format!("the cell holds the spreadsheet error {}", cell.text),
                    format!("单元格为表格错误值 {}", cell.text),
                ));
            }
        }
        self.errors.len() == before
    }

    fn row(
        &mut self,
        row: &RawRow,
        continues: bool,
        ordinal: usize,
        above: &mut [Option<String>],
    ) -> Result<(), LoadError> {
        if !continues {
            let id_cell = self
                .targets
                .iter()
                .position(|t| matches!(t, Some(Target::Row)))
                .and_then(|p| row.cells.get(p))
                .filter(|c| !c.is_empty());
            let (text, span) = match id_cell {
                Some(c) => (c.text.clone(), c.span),
                None => (ordinal.to_string(), row.first_span()),
            };
            let id = push(
                &mut self.nodes,
                Value::Str(text.into()),
                span,
                Some(span),
                None,
            )?;
            self.tasks.push(Task {
                span: row.first_span(),
                fields: vec![(Target::Id, id)],
                items: Vec::new(),
                items_key: None,
            });
        }
        let targets = self.targets;
        for (i, target) in targets.iter().enumerate() {
            let Some(target) = *target else { continue };
            if matches!(target, Target::Row | Target::Ignore) {
                continue;
            }
            let Some(given) = row.cells.get(i) else {
                continue;
            };
            let repeat = given.is_empty() || is_ditto(&given.text);
            let cell = if repeat {
                if continues {
                    continue;
                }
                let Some(text) = above[i].clone() else {
                    continue;
                };
                RawCell {
                    text,
                    span: given.span,
                    direct: false,
                    excel_error: false,
                }
            } else {
                above[i] = Some(given.text.clone());
                given.clone()
            };
            let task = self.tasks.len() - 1;
            if target == Target::Items {
                let node = push(
                    &mut self.nodes,
                    Value::Str(cell.text.as_str().into()),
                    cell.span,
                    None,
                    None,
                )?;
                let t = &mut self.tasks[task];
                t.items.push(node);
                t.items_key.get_or_insert(cell.span);
                continue;
            }
            if continues && self.tasks[task].has(field_of(target)) {
                continue;
            }
            self.set(task, target, &cell)?;
        }
        Ok(())
    }

    fn set(&mut self, task: usize, target: Target, cell: &RawCell) -> Result<(), LoadError> {
        let nodes = &mut self.nodes;
        let span = cell.span;
        let text = cell.text.as_str();
        let mut out: Vec<(Target, NodeId)> = Vec::new();
        match target {
            Target::Partners => out.push((target, value_node(nodes, cell, super::List, span)?)),
            Target::Level => {
                let level = if text.contains('县') || text.contains('区') {
                    "district"
                } else {
                    "city"
                };
                out.push((
                    target,
                    push(nodes, Value::Str(level.into()), span, Some(span), None)?,
                ));
            }
            Target::CreditRisk => {
                let applied = !text.contains("不涉");
                out.push((
                    target,
                    push(nodes, Value::Bool(applied), span, Some(span), None)?,
                ));
            }
            Target::Ratio | Target::Frequency => {
                let parsed = crate::domain::ratio::parse_cell(text).map_err(|e| {
                    error(
                        "input/bad-value",
                        span,
                        format!("cannot read the ratio cell: {e}"),
                        format!("无法读取抽查比例：{e}"),
                    )
                })?;
                let lower = parsed.ratio.as_ref().and_then(|r| r.lower_bound());
                if let (Target::Ratio, Some(v)) = (target, lower) {
                    out.push((
                        Target::Ratio,
                        push(nodes, Value::Float(v), span, Some(span), Some(text.into()))?,
                    ));
                }
                if let Some(n) = parsed.per_year {
                    out.push((
                        Target::Frequency,
                        push(
                            nodes,
                            Value::Int(i64::from(n)),
                            span,
                            Some(span),
                            Some(text.into()),
                        )?,
                    ));
                }
            }
            Target::Dates | Target::Start | Target::End => {
                let (start, end) = match normalise_date(text) {
                    Some(d) => (Some(d), None),
                    None => date_range(text).map_or((None, None), |(a, b)| (Some(a), Some(b))),
                };
                let (first, second) = match target {
                    Target::End => (Target::End, Target::End),
                    Target::Start => (Target::Start, Target::Start),
                    _ => (Target::Start, Target::End),
                };
                if let Some(d) = start {
                    out.push((
                        first,
                        push(nodes, Value::Str(d.into()), span, Some(span), None)?,
                    ));
                }
                if let (Some(d), true) = (end, first != second) {
                    out.push((
                        second,
                        push(nodes, Value::Str(d.into()), span, Some(span), None)?,
                    ));
                }
            }
            _ => out.push((target, value_node(nodes, cell, Text, span)?)),
        }
        let t = &mut self.tasks[task];
        for (k, node) in out {
            if !t.has(k) {
                t.fields.push((k, node));
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        source: &Arc<SourceFile>,
        root: NodeId,
        header_span: Span,
        sidecar: Option<&Sidecar>,
    ) -> Result<Vec<Tree>, LoadError> {
        let nodes = &mut self.nodes;
        let mut entries: Vec<(Key, NodeId)> = Vec::new();
        let kind = push(
            nodes,
            Value::Str("Plan".into()),
            header_span,
            Some(header_span),
            None,
        )?;
        entries.push((Key::Static("kind"), kind));
        for name in SIDECAR_FIELDS {
            let Some((_, v)) = sidecar.and_then(|s| s.doc.iter().find(|(k, _)| k == name)) else {
                continue;
            };
            let raw = match v {
                Value::Int(i) => Some(ImmutableString::from(i.to_string())),
                _ => None,
            };
            let node = push(nodes, v.clone(), header_span, Some(header_span), raw)?;
            entries.push((Key::Static(name), node));
        }
        let mut task_ids = Vec::with_capacity(self.tasks.len());
        for task in &self.tasks {
            let mut fields: Vec<(Key, NodeId)> = Vec::new();
            for (key, target) in TASK_ORDER {
                if *target == Target::Items {
                    if task.items.is_empty() {
                        continue;
                    }
                    let first = nodes[task.items[0] as usize].span;
                    let seq = push(
                        nodes,
                        Value::Seq(task.items.clone()),
                        first,
                        Some(task.items_key.unwrap_or(first)),
                        None,
                    )?;
                    fields.push(((*key).into(), seq));
                    continue;
                }
                let Some((_, node)) = task.fields.iter().find(|(k, _)| k == target) else {
                    continue;
                };
                let node = *node;
                let node = match target {
                    Target::Description | Target::CreditRisk => {
                        let sub = if *target == Target::Description {
                            "description"
                        } else {
                            "applied"
                        };
                        let span = nodes[node as usize].span;
                        push(
                            nodes,
                            Value::Map(vec![(Key::Static(sub), node)]),
                            span,
                            Some(span),
                            None,
                        )?
                    }
                    _ => node,
                };
                fields.push(((*key).into(), node));
            }
            let map = push(nodes, Value::Map(fields), task.span, None, None)?;
            task_ids.push(map);
        }
        let first = task_ids.first().map(|t| nodes[*t as usize].span);
        let seq = push(
            nodes,
            Value::Seq(task_ids),
            first.unwrap_or(header_span),
            Some(header_span),
            None,
        )?;
        entries.push(("tasks".into(), seq));
        nodes[root as usize].value = Value::Map(entries);
        Ok(vec![Tree {
            nodes: self.nodes,
            root,
            source: Arc::clone(source),
        }])
    }
}

/// The task field a target fills (for "only if still absent").
fn field_of(t: Target) -> Target {
    match t {
        Target::Dates => Target::Start,
        t => t,
    }
}

/// `2024.3.1-2024.12.31`, `2024年3月1日至2024年12月31日`: both ends as dates.
fn date_range(text: &str) -> Option<(String, String)> {
    for sep in ["至", "—", "～", "~", "－", "--", " - ", "-"] {
        let mut found = None;
        for (i, _) in text.match_indices(sep) {
            let (a, b) = (&text[..i], &text[i + sep.len()..]);
            if let (Some(a), Some(b)) = (normalise_date(a), normalise_date(b)) {
                found = Some((a, b));
                break;
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::load_table;
    use super::*;

    fn manifest(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    /// Loads a fixture (with its sidecar) and validates it as a Plan.
    fn plan(name: &str) -> Tree {
        let path = manifest(&format!("fixtures/tables/plans/{name}"));
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let mut trees = match load_table(&shown, &bytes, name.ends_with(".xlsx")) {
            Ok(t) => t,
            Err(e) => panic!(
                "{name}: {:?}",
                e.iter().map(|e| &e.error).collect::<Vec<_>>()
            ),
        };
        assert_eq!(trees.len(), 1);
        let mut t = trees.remove(0);
        let errors = schema::validate(&mut t, schema::kind_schema("Plan").unwrap());
        assert!(errors.is_empty(), "{name}: {errors:?}");
        t
    }

    fn text(t: &Tree, path: &str) -> String {
        let (n, found) = t.resolve(t.root, path);
        assert!(found, "{path}");
        match &t.node(n).value {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            other => panic!("{path}: {other:?}"),
        }
    }

    fn absent(t: &Tree, path: &str) -> bool {
        !t.resolve(t.root, path).1
    }

    fn shown(t: &Tree, path: &str) -> String {
        let (n, _) = t.resolve(t.root, path);
        let s = t.node(n).span;
        t.source.text[s.start as usize..s.end as usize].to_owned()
    }

    fn tasks(t: &Tree) -> usize {
        t.seq(t.get(t.root, "tasks").unwrap()).len()
    }

    fn items(t: &Tree, task: usize) -> Vec<String> {
        let (n, _) = t.resolve(t.root, &format!("tasks[{task}].items"));
        t.seq(n)
            .iter()
            .map(|i| match &t.node(*i).value {
                Value::Str(s) => s.to_string(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn linyi() {
        let t = plan("linyi-2023.csv");
        assert_eq!(text(&t, "kind"), "Plan");
        assert_eq!(text(&t, "department"), "临沂市住房和城乡建设局");
        assert_eq!(text(&t, "year"), "2023");
        assert_eq!(tasks(&t), 6);
        assert_eq!(text(&t, "tasks[0].id"), "1");
        assert_eq!(text(&t, "tasks[0].ratio"), "0.05");
        assert_eq!(
            shown(&t, "tasks[0].ratio"),
            "全年抽查比例不低于5%,抽查频次根据监管需要确定"
        );
        assert!(absent(&t, "tasks[0].frequency"));
        assert_eq!(text(&t, "tasks[3].frequency"), "1");
        // 〃 under 抽查类别 repeats the name above, placed at the 〃 cell.
        assert_eq!(text(&t, "tasks[1].name"), "建筑市场检查");
        assert_eq!(shown(&t, "tasks[1].name"), "〃");
        assert_eq!(
            items(&t, 1),
            ["对建筑业企业资质及招标代理机构事中事后行为的监督"]
        );
        assert_eq!(text(&t, "tasks[0].objects.description"), "辖区内的在建 …");
        assert_eq!(text(&t, "tasks[4].ratio"), "0.05");
        // `1-2次` gives no checks per year.
        assert!(absent(&t, "tasks[4].frequency"));
        assert_eq!(text(&t, "tasks[5].lead"), "…");
        // 9月-11月 is not a date.
        assert!(absent(&t, "tasks[0].start"));
    }

    #[test]
    fn changzhi() {
        let t = plan("changzhi-2024.csv");
        assert_eq!(tasks(&t), 4);
        assert_eq!(text(&t, "tasks[0].ratio"), "0.03");
        assert_eq!(text(&t, "tasks[0].frequency"), "2");
        assert_eq!(text(&t, "tasks[0].partners[1]"), "市公安局");
        assert_eq!(shown(&t, "tasks[0].partners[1]"), "市公安局");
        assert_eq!(text(&t, "tasks[0].credit_risk.applied"), "true");
        assert_eq!(text(&t, "tasks[1].ratio"), "0.2");
        assert_eq!(text(&t, "tasks[1].credit_risk.applied"), "false");
        // Task 3 repeats task 2's cells through 〃.
        assert_eq!(text(&t, "tasks[2].credit_risk.applied"), "false");
        assert_eq!(text(&t, "tasks[2].lead"), "市医保局");
        assert_eq!(shown(&t, "tasks[2].lead"), "〃");
        assert_eq!(text(&t, "tasks[2].partners[0]"), "市审批服务管理局");
        assert_eq!(text(&t, "tasks[2].frequency"), "1");
        assert_eq!(
            items(&t, 2),
            ["根据各地医保政务服务“好差评”评价结果进行检查"]
        );
        assert_eq!(text(&t, "tasks[3].ratio"), "0.5");
        assert_eq!(text(&t, "tasks[3].credit_risk.applied"), "false");
    }

    #[test]
    fn fenyang_continuation_rows() {
        for name in ["fenyang-2021.csv", "fenyang-2021.xlsx"] {
            let t = plan(name);
            assert_eq!(tasks(&t), 6, "{name}");
            assert_eq!(text(&t, "tasks[1].lead"), "宣传部门");
            assert_eq!(text(&t, "tasks[1].level"), "district");
            // Task 3 spans four rows: the 〃 item is not repeated, new items are added,
            // and fields the task already has stay as the first row gave them.
            assert_eq!(
                items(&t, 2),
                [
                    "中小学教育装备产品(含文体教育用品、教学仪器、音体美卫器材、信息技术装备、课桌椅、校服等)检查",
                    "面向中小学生的校外培训机构取得证照、收费、办学情况的检查",
                    "学校食堂食品安全情况的检查",
                ]
            );
            assert_eq!(text(&t, "tasks[2].lead"), "教育部门");
            assert_eq!(text(&t, "tasks[2].objects.description"), "中小学校");
            assert_eq!(text(&t, "tasks[2].partners[0]"), "市场监管部门");
            assert_eq!(text(&t, "tasks[3].id"), "4");
            assert!(absent(&t, "tasks[0].ratio"));
        }
        // The workbook's spans are cells of the sheet.
        let path = manifest("fixtures/tables/plans/fenyang-2021.xlsx");
        let shown_path = path.display().to_string();
        let t = plan("fenyang-2021.xlsx");
        let (n, _) = t.resolve(t.root, "tasks[2].items[2]");
        let at = t.node(n).span.start as usize;
        assert_eq!(
            super::super::cell_ref(&shown_path, &t.source, at).unwrap(),
            "Sheet1!C7"
        );
    }

    #[test]
    fn beijing() {
        let t = plan("beijing-2016.csv");
        assert_eq!(tasks(&t), 4);
        assert_eq!(text(&t, "tasks[0].ratio"), "0.15");
        assert_eq!(text(&t, "tasks[0].start"), "2016-02-01");
        assert_eq!(shown(&t, "tasks[0].start"), "2016.2.1");
        assert_eq!(text(&t, "tasks[2].ratio"), "0.5");
        assert_eq!(text(&t, "tasks[0].objects.description"), "出租汽车经营者");
        assert!(absent(&t, "tasks[0].name"));
    }

    fn csv_plan(text: &str) -> Result<Vec<Tree>, Vec<TableError>> {
        load_table("no/such/plan.csv", text.as_bytes(), false)
    }

    #[test]
    fn counts_leave_the_ratio_absent_and_bare_tables_lack_department_and_year() {
        let mut trees = csv_plan("序号,抽查事项,检查对象,抽查比例及频次\n1,事项甲,企业,60-70家;1次/年\n2,事项乙,企业,10-20%\n")
            .unwrap();
        let t = &mut trees[0];
        assert!(absent(t, "tasks[0].ratio"));
        assert_eq!(text(t, "tasks[0].frequency"), "1");
        assert_eq!(text(t, "tasks[1].ratio"), "0.1");
        let errors = schema::validate(t, schema::kind_schema("Plan").unwrap());
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["input/missing-field", "input/missing-field"]);
        assert!(errors[0].en.contains("`department`"));
        assert!(errors[1].en.contains("`year`"));
        // At the header row.
        assert_eq!(t.source.line_col(errors[0].span.start as usize).0, 1);
    }

    #[test]
    fn unknown_headers_are_errors_with_a_suggestion() {
        let errors =
            csv_plan("序号,抽查事项,检查对像,抽查比例,备注\n1,事项,企业,5%,x\n").unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.error.code).collect();
        assert_eq!(codes, ["input/unknown-field", "input/unknown-field"]);
        assert!(
            errors[0].error.en.contains("did you mean `检查对象`"),
            "{}",
            errors[0].error.en
        );
        assert!(errors[1].error.en.contains("columns.yaml"));
        // A sidecar maps them.
        let sidecar = SourceFile::from_text(
            "s.columns.yaml",
            "department: 甲局\nyear: 2024\ncolumns: {检查对像: description, 备注: ignore}\n",
        );
        let sidecar = parse_sidecar(&sidecar).unwrap();
        let text_ = "序号,抽查事项,检查对像,抽查比例,备注\n1,事项,企业,5%,x\n";
        let source = SourceFile::from_text("p.csv", text_);
        let rows = super::super::CsvRows::new(&source.text, b',');
        let mut trees = super::super::build_table(&source, rows, true, Some(&sidecar), 0).unwrap();
        let errors = schema::validate(&mut trees[0], schema::kind_schema("Plan").unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(text(&trees[0], "tasks[0].objects.description"), "企业");
        assert_eq!(text(&trees[0], "department"), "甲局");
        // A bad sidecar target is an error with a suggestion.
        let bad = SourceFile::from_text("s.columns.yaml", "columns: {备注: ignor}\n");
        let errors = parse_sidecar(&bad).unwrap_err();
        assert!(errors[0].en.contains("did you mean `ignore`"));
    }

    #[test]
    fn date_ranges() {
        assert_eq!(
            date_range("2024.3.1-2024.12.31"),
            Some(("2024-03-01".into(), "2024-12-31".into()))
        );
        assert_eq!(date_range("3月—12月"), None);
        assert!(is_ditto("〃") && is_ditto("同上") && !is_ditto("x"));
    }
}
