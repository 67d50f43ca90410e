//! Published tables — annual plans, joint plans, "一业一查" plans and item lists as
//! government pages print them — read as one `kind: Plan` (one task per row) or
//! `kind: ItemList` (one item per row) document, with the position-keeping trees of
//! [`super`]. docs/formats.md ("Published plan tables") is the reference.
//!
//! Reading a table:
//!
//! 1. **Header.** The first row (of the first twelve) that names at least two columns
//!    of the vocabulary ([`super::vocabulary`]) is the header; rows above it are title
//!    rows. A row under it whose cells stand under a header spanning several columns
//!    (`计划任务名称` over `抽查领域` / `抽查事项`) is a second header row.
//! 2. **Kind.** The sidecar's `kind`, else words of the title rows or the file name
//!    (`…事项清单` → ItemList, `…计划` → Plan), else the headers; a plan.
//! 3. **Meanings.** Each header's meanings come from the sidecar's `columns`, then the
//!    vocabulary (listed, cut short, one character away, or by a word it holds); cells
//!    choose between meanings of one header (`检查主体`: levels, or a department); an
//!    unknown header whose cells name a meaning (`抽查比例:100%`) takes it. Of several
//!    columns claiming the task, items, objects, lead or partners, the strongest header
//!    wins (then the one with more distinct cells; a tie is an error); the others, and
//!    every column no rule reads, are kept as text in the record's `columns`.
//! 4. **Rows.** A row whose key cell (序号, else the task or item id column) is blank,
//!    〃 or inside a merged region continues the record above: its items and partners
//!    are added, its other cells fill only what the record lacks. In CSV a blank or 〃
//!    cell repeats the value above; in a workbook merged regions are read as merged and
//!    other blank cells are blank. Footnote rows (`备注:…`) and a repeated header row are
//!    skipped with a note.
//! 5. **Cells** are read as published ([`crate::domain::ratio`],
//!    [`crate::domain::period`]); what cannot be read is kept as text with a note.

use std::sync::Arc;

use rhai::ImmutableString;

use super::vocabulary::{self, header_key, shown_header, Candidate, How, Meaning, Section};
use super::{error, push, RawCell, RawRow, ReadOptions, TableError};
use crate::domain::period::{self, Part};
use crate::domain::ratio::{self, Bounds};
use crate::parse::source::SourceFile;
use crate::parse::tree::{Key, Node, NodeId, Span, Tree, Value};
use crate::parse::yaml::LoadError;
use crate::schema;

/// A note about how a table was read, at its place in the table.
#[derive(Debug, Clone)]
pub(super) struct Note {
    pub span: Span,
    pub en: String,
    pub zh: String,
}

fn note(span: Span, en: impl Into<String>, zh: impl Into<String>) -> Note {
    Note {
        span,
        en: en.into(),
        zh: zh.into(),
    }
}

// ---------------------------------------------------------------------------------
// Sidecar

/// The sidecar `<table>.columns.yaml`: document fields and the table's own headers.
#[derive(Debug, Default)]
pub struct Sidecar {
    /// Document fields (`department`, `year`, `level`, `district`, `scope`, `updated_on`).
    doc: Vec<(&'static str, Value)>,
    /// `Plan` or `ItemList`, when the sidecar says.
    kind: Option<Section>,
    /// Header as given → its meaning.
    columns: Vec<(String, Meaning)>,
}

const SIDECAR_FIELDS: &[&str] = &[
    "department",
    "year",
    "level",
    "district",
    "scope",
    "updated_on",
];

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
            let cols = match &node.value {
                Value::Map(cols) => cols,
                Value::Null => continue,
                _ => {
                    errors.push(error(
                        "input/wrong-type",
                        node.span,
                        "`columns` maps header text to what the column means",
                        "`columns` 应为「表头文字: 列含义」的映射",
                    ));
                    continue;
                }
            };
            for (header, v) in cols {
                let vnode = tree.node(*v);
                let given = match &vnode.value {
                    Value::Str(s) => s.to_string(),
                    other => other.type_name().to_owned(),
                };
                match Meaning::parse(&given) {
                    Some(m) => sidecar.columns.push((header.to_string(), m)),
                    None => {
                        let hint = schema::suggest(&given, Meaning::names());
                        let names: Vec<&str> = Meaning::names().collect();
                        errors.push(error(
                            "input/bad-value",
                            vnode.span,
                            format!(
                                "unknown column meaning `{given}`{hint} (meanings: {})",
                                names.join(", ")
                            ),
                            format!(
                                "未知的列含义 `{given}`{}（可用：{}）",
                                super::zh_hint(&hint),
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        } else if key.as_str() == "kind" {
            match tree.str_at(tree.root, "kind") {
                Some("Plan") => sidecar.kind = Some(Section::Plan),
                Some("ItemList") => sidecar.kind = Some(Section::ItemList),
                _ => errors.push(error(
                    "input/bad-value",
                    node.span,
                    "a published table is a `Plan` or an `ItemList`",
                    "公开发布的表格应为 `Plan`（抽查计划）或 `ItemList`（抽查事项清单）",
                )),
            }
        } else if let Some(name) = SIDECAR_FIELDS.iter().find(|f| **f == key.as_str()) {
            // `year: "2024年度"` is the year 2024.
            let value = match (&node.value, *name) {
                (Value::Str(s), "year") => s
                    .trim()
                    .trim_end_matches("年度")
                    .trim_end_matches('年')
                    .parse::<i64>()
                    .map_or_else(|_| node.value.clone(), Value::Int),
                (v, _) => v.clone(),
            };
            sidecar.doc.push((name, value));
        } else {
            let mut known = SIDECAR_FIELDS.to_vec();
            known.extend(["kind", "columns"]);
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

impl Sidecar {
    fn field(&self, name: &str) -> Option<&Value> {
        self.doc.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    fn meaning_of(&self, header: &str) -> Option<Meaning> {
        let key = header_key(header);
        self.columns
            .iter()
            .find(|(given, _)| {
                let g = header_key(given);
                g.full == key.full || g.full == key.bare
            })
            .map(|(_, m)| *m)
    }
}

/// What a published table is read with.
pub(super) struct Context<'a> {
    /// The file as shown (its name may give the department and year).
    pub path_shown: &'a str,
    pub sidecar: Option<&'a Sidecar>,
    pub options: &'a ReadOptions,
}

// ---------------------------------------------------------------------------------
// Cells

/// `〃` and the marks people type for it.
fn is_ditto(text: &str) -> bool {
    matches!(
        text.trim(),
        "〃" | "″" | "\"" | "同上" | "”" | "“" | "''" | "〃〃" | "々"
    )
}

/// A cell as a record reads it.
#[derive(Debug, Clone)]
enum Cell {
    /// Written in this row.
    Given(RawCell),
    /// A blank or 〃 cell repeating the value above (CSV), shown at this cell.
    Repeated(RawCell),
    /// Inside a merged region: its value, at the region's first cell.
    Merged(RawCell),
    Empty,
}

impl Cell {
    fn raw(&self) -> Option<&RawCell> {
        match self {
            Cell::Given(c) | Cell::Repeated(c) | Cell::Merged(c) => Some(c),
            Cell::Empty => None,
        }
    }
}

/// Whether a row's cell says "the same as above": blank, 〃 or merged from above.
fn repeats(cell: Option<&RawCell>) -> bool {
    cell.is_none_or(|c| c.text.is_empty() || is_ditto(&c.text))
}

// ---------------------------------------------------------------------------------
// Layout: header rows, columns and their meanings

#[derive(Debug, Clone)]
struct Column {
    /// The header as shown: `抽查比例`, or `抽查项目/抽查类别` under a group.
    header: String,
    span: Span,
    /// The group label above, in a two-row header.
    upper: Option<String>,
    lower: Option<String>,
    meaning: Meaning,
    how: How,
    tier: u8,
    part: Part,
    /// No header in the vocabulary named it.
    unknown: bool,
    /// It lost to a stronger column of the same meaning.
    outranked: bool,
}

/// How a table is laid out.
struct Layout {
    section: Section,
    /// Index (in the table's rows) of the header row, and of a second header row.
    header: usize,
    second: Option<usize>,
    columns: Vec<Option<Column>>,
    /// Columns that claimed one meaning as strongly: (read, kept as text, meaning).
    ties: Vec<(usize, usize, Meaning)>,
}

/// Rows scanned for the header row.
const HEADER_SEARCH: usize = 12;
/// Cells of a row read loosely (typos, cut short) when looking for the header row: a
/// published table has a few dozen columns, and each cell is compared with every
/// listed header.
const LOOSE_HEADER_CELLS: usize = 256;

fn non_empty(row: &RawRow) -> impl Iterator<Item = &RawCell> {
    row.cells.iter().filter(|c| !c.text.is_empty())
}

/// The index of the header row: the first that names at least two known columns, a
/// third of its cells or more.
fn find_header(
    rows: &[RawRow],
    vocab: &vocabulary::Vocabulary,
    sidecar: Option<&Sidecar>,
) -> Option<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank())
        .take(HEADER_SEARCH)
        .find(|(_, row)| {
            let cells: Vec<&RawCell> = non_empty(row).collect();
            let listed = |c: &&&RawCell| {
                vocab.knows(&c.text) || sidecar.is_some_and(|s| s.meaning_of(&c.text).is_some())
            };
            let known = cells.iter().filter(listed).count();
            if known >= 2 && known * 3 >= cells.len() {
                return true;
            }
            if known == 0 || cells.len() > LOOSE_HEADER_CELLS {
                return false;
            }
            // Headers read loosely (a typo, cut short) count too, beside listed ones.
            let loose = cells
                .iter()
                .filter(|c| !listed(c))
                .filter(|c| {
                    [Section::Plan, Section::ItemList].iter().any(|s| {
                        vocab
                            .candidates(*s, &c.text)
                            .iter()
                            .any(|k| matches!(k.how, How::Typo(_) | How::Truncated(_)))
                    })
                })
                .count();
            known + loose >= 3 && (known + loose) * 2 >= cells.len()
        })
        .map(|(i, _)| i)
}

/// Whether `next` is a second header row under `header`: its cells stand only under
/// headers spanning several columns (a header followed by blank header cells), and at
/// least one stands under such a blank.
fn is_second_header(header: &RawRow, next: &RawRow, vocab: &vocabulary::Vocabulary) -> bool {
    let blank = |i: usize| header.cells.get(i).is_none_or(|c| c.text.is_empty());
    let mut under_span = false;
    let mut count = 0;
    let mut known = 0;
    for (i, cell) in next.cells.iter().enumerate() {
        if cell.text.is_empty() {
            continue;
        }
        count += 1;
        if vocab.knows(&cell.text) {
            known += 1;
        }
        if blank(i) {
            // Under the continuation of a span: some header to its left.
            if !(0..i).any(|j| !blank(j)) {
                return false;
            }
            under_span = true;
        } else if !blank(i + 1) {
            return false;
        }
    }
    // Sub-headers are known words, or short labels (`一般事项`), not data.
    let short = next
        .cells
        .iter()
        .filter(|c| !c.text.is_empty())
        .all(|c| c.text.chars().count() <= 10 && !c.text.chars().any(|ch| ch.is_ascii_digit()));
    under_span && count > 0 && (known >= 1 || short)
}

fn part_of(header: &str) -> Part {
    let key = header_key(header).full;
    if key.contains("起止") {
        Part::Whole
    } else if key.ends_with('自') || key.contains("开始") || key.contains("起始") {
        Part::Start
    } else if key.ends_with('至')
        || key.ends_with('止')
        || key.contains("结束")
        || key.contains("截止")
        || key.contains("时限")
        || key.contains("完成时间")
    {
        Part::End
    } else {
        Part::Whole
    }
}

/// The non-empty data cells of column `i` (for telling meanings apart by cells).
fn column_cells(rows: &[RawRow], from: usize, i: usize) -> Vec<&str> {
    rows.iter()
        .skip(from)
        .filter_map(|r| r.cells.get(i))
        .map(|c| c.text.as_str())
        .filter(|t| !t.is_empty() && !is_ditto(t))
        .collect()
}

/// The meaning of a header among its candidates, chosen by the column's cells when the
/// header may mean several things. None when it stays unclear.
fn choose(
    candidates: &[Candidate],
    cells: &[&str],
    vocab: &vocabulary::Vocabulary,
) -> Option<Candidate> {
    let mut distinct: Vec<Meaning> = Vec::new();
    for c in candidates {
        if !distinct.contains(&c.meaning) {
            distinct.push(c.meaning);
        }
    }
    if distinct.len() <= 1 {
        return candidates.first().cloned();
    }
    // A meaning whose typical cells these are.
    let best = candidates
        .iter()
        .filter_map(|c| Some((c, vocab.value_share(c.meaning, cells)?)))
        .filter(|(_, share)| *share >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((c, _)) = best {
        return Some(c.clone());
    }
    // Otherwise the meanings that need no typical cells, strongest first.
    let mut rest: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| vocab.value_share(c.meaning, cells).is_none())
        .collect();
    rest.sort_by_key(|c| c.tier);
    let first = rest.first()?;
    let unsure = matches!(first.how, How::Typo(_) | How::Truncated(_));
    let several = rest.iter().any(|c| c.meaning != first.meaning);
    if unsure && several {
        return None;
    }
    Some((*first).clone())
}

/// `抽查比例:100%` in every cell: the meaning its label names.
fn labelled(
    section: Section,
    cells: &[&str],
    vocab: &vocabulary::Vocabulary,
) -> Option<(Meaning, String)> {
    let mut agreed: Option<(Meaning, String)> = None;
    for cell in cells {
        let found = cell
            .split(['\n', ';', '；'])
            .filter_map(|line| {
                let (label, _) = line.split_once([':', '：'])?;
                let c = vocab.candidates(section, label);
                let first = c.first()?;
                (first.how == How::Listed && first.meaning != Meaning::Note)
                    .then(|| (first.meaning, label.trim().to_owned()))
            })
            .next()?;
        match &agreed {
            Some((m, _)) if *m != found.0 => return None,
            Some(_) => {}
            None => agreed = Some(found),
        }
    }
    agreed
}

fn candidates_of(
    section: Section,
    text: &str,
    sidecar: Option<&Sidecar>,
    vocab: &vocabulary::Vocabulary,
) -> Vec<Candidate> {
    if let Some(m) = sidecar.and_then(|s| s.meaning_of(text)) {
        return vec![Candidate {
            meaning: m,
            tier: 0,
            how: How::Sidecar,
        }];
    }
    vocab
        .candidates(section, text)
        .into_iter()
        .filter(|c| section.has(c.meaning))
        .collect()
}

/// Which kind of published table this is.
fn section_of(
    rows: &[RawRow],
    header: usize,
    cx: &Context,
    vocab: &vocabulary::Vocabulary,
) -> Section {
    if let Some(kind) = cx.sidecar.and_then(|s| s.kind) {
        return kind;
    }
    let titles = &vocab.titles;
    let says = |text: &str| -> Option<Section> {
        let key = header_key(text).full;
        let item_list = titles
            .item_list
            .iter()
            .any(|w| key.contains(&header_key(w).full));
        let plan = titles
            .plan
            .iter()
            .any(|w| key.contains(&header_key(w).full));
        match (item_list, plan) {
            (true, false) => Some(Section::ItemList),
            (_, true) => Some(Section::Plan),
            _ => None,
        }
    };
    for row in &rows[..header] {
        for cell in non_empty(row) {
            if let Some(s) = says(&cell.text) {
                return s;
            }
        }
    }
    let stem = std::path::Path::new(cx.path_shown)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(s) = says(&stem) {
        return s;
    }
    // Headers only an item list has (事项编号) against those of a plan (任务名称, 发起部门).
    let mut item_list = 0;
    let mut plan = 0;
    for cell in non_empty(&rows[header]) {
        let of = |section| vocab.candidates(section, &cell.text);
        if of(Section::ItemList)
            .iter()
            .any(|c| c.meaning == Meaning::ItemId && c.tier == 0 && c.how == How::Listed)
        {
            item_list += 1;
        }
        if of(Section::Plan).iter().any(|c| {
            c.how == How::Listed
                && c.tier == 0
                && matches!(c.meaning, Meaning::Task | Meaning::Lead | Meaning::Partners)
        }) {
            plan += 1;
        }
    }
    if item_list > plan {
        Section::ItemList
    } else {
        Section::Plan
    }
}

/// Reads the header rows and gives every column its meaning.
fn layout(
    rows: &[RawRow],
    cx: &Context,
    vocab: &vocabulary::Vocabulary,
) -> Result<Option<Layout>, Vec<LoadError>> {
    let Some(header) = find_header(rows, vocab, cx.sidecar) else {
        return Ok(None);
    };
    let section = section_of(rows, header, cx, vocab);
    let next = (header + 1..rows.len()).find(|i| !rows[*i].is_blank());
    let second = next.filter(|i| is_second_header(&rows[header], &rows[*i], vocab));
    let first_data = second.or(Some(header)).map_or(header + 1, |i| i + 1);
    let top = &rows[header];
    let bottom = second.map(|i| &rows[i]);
    let text_at = |row: &RawRow, i: usize| {
        row.cells
            .get(i)
            .filter(|c| !c.text.is_empty())
            .map(|c| (c.text.clone(), c.span))
    };
    let width = top.cells.len().max(bottom.map_or(0, |b| b.cells.len()));
    let mut columns: Vec<Option<Column>> = Vec::with_capacity(width);
    let mut label: Option<String> = None;
    for i in 0..width {
        let upper = text_at(top, i);
        let lower = bottom.and_then(|b| text_at(b, i));
        if upper.is_some() {
            label = upper.as_ref().map(|(t, _)| t.clone());
        }
        let (header_text, span, upper_label, lower_label) = match (&upper, &lower) {
            (Some((u, _)), Some((l, span))) => (
                format!("{}/{}", shown_header(u), shown_header(l)),
                *span,
                Some(u.clone()),
                Some(l.clone()),
            ),
            (None, Some((l, span))) => match &label {
                Some(u) => (
                    format!("{}/{}", shown_header(u), shown_header(l)),
                    *span,
                    Some(u.clone()),
                    Some(l.clone()),
                ),
                None => (shown_header(l), *span, None, Some(l.clone())),
            },
            (Some((u, span)), None) => (shown_header(u), *span, None, None),
            (None, None) => {
                columns.push(None);
                continue;
            }
        };
        let cells = column_cells(rows, first_data, i);
        let own = lower_label.as_deref().unwrap_or(&header_text);
        // Under a group label, the group gives what the lower header does not.
        let candidates = match cx.sidecar.and_then(|s| s.meaning_of(&header_text)) {
            Some(m) => vec![Candidate {
                meaning: m,
                tier: 0,
                how: How::Sidecar,
            }],
            None => candidates_of(section, own, cx.sidecar, vocab),
        };
        let chosen = choose(&candidates, &cells, vocab);
        let (meaning, how, tier, unknown) = match chosen {
            Some(c) => (c.meaning, c.how, c.tier, false),
            None => match labelled(section, &cells, vocab) {
                Some((m, label)) if candidates.is_empty() => {
                    (m, How::Labelled(label), vocabulary::WORD_TIER, false)
                }
                _ => (
                    Meaning::Note,
                    How::Listed,
                    vocabulary::WORD_TIER,
                    candidates.is_empty(),
                ),
            },
        };
        let part = match meaning {
            Meaning::Start => Part::Start,
            Meaning::End => Part::End,
            _ => part_of(own),
        };
        columns.push(Some(Column {
            header: header_text,
            span,
            upper: upper_label,
            lower: lower_label,
            meaning,
            how,
            tier,
            part,
            unknown,
            outranked: false,
        }));
    }
    group_meanings(&mut columns, section, cx, vocab);
    let mut ties = Vec::new();
    let errors = settle(&mut columns, rows, first_data, &mut ties);
    if !errors.is_empty() {
        return Err(errors);
    }
    demote_unread(&mut columns, rows, first_data);
    Ok(Some(Layout {
        section,
        header,
        second,
        columns,
        ties,
    }))
}

/// Under a group label that has a meaning (`计划任务名称` over `抽查领域`/`抽查事项`), the
/// group's first column takes it; a later column of the same meaning is the group's
/// detail, and one without a meaning takes the group's.
fn group_meanings(
    columns: &mut [Option<Column>],
    section: Section,
    cx: &Context,
    vocab: &vocabulary::Vocabulary,
) {
    let mut i = 0;
    while i < columns.len() {
        let Some(upper) = columns[i].as_ref().and_then(|c| c.upper.clone()) else {
            i += 1;
            continue;
        };
        let mut end = i + 1;
        while end < columns.len()
            && columns[end]
                .as_ref()
                .is_some_and(|c| c.upper.as_deref() == Some(upper.as_str()))
        {
            end += 1;
        }
        let group = candidates_of(section, &upper, cx.sidecar, vocab);
        let group = choose(&group, &[], vocab);
        if let Some(g) = group.filter(|g| g.meaning != Meaning::Note) {
            for (k, col) in columns[i..end].iter_mut().flatten().enumerate() {
                let given = col.how != How::Sidecar;
                let weak = col.unknown || matches!(col.how, How::Word(_));
                if k == 0 && given {
                    col.meaning = g.meaning;
                    col.tier = g.tier;
                    col.how = How::Group(upper.clone());
                    col.unknown = false;
                } else if given && col.meaning == g.meaning {
                    col.meaning = Meaning::Note;
                    col.how = How::Group(upper.clone());
                } else if given && weak {
                    col.meaning = g.meaning;
                    col.tier = g.tier;
                    col.how = How::Group(upper.clone());
                    col.unknown = false;
                }
            }
        }
        i = end;
    }
}

/// One column per single meaning: the strongest header wins, then the column with more
/// distinct cells, then the first; the others are kept as text (`ties` lists the last
/// kind, for a note). The same header twice over different cells makes the table
/// ambiguous.
fn settle(
    columns: &mut [Option<Column>],
    rows: &[RawRow],
    from: usize,
    ties: &mut Vec<(usize, usize, Meaning)>,
) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let mut meanings: Vec<Meaning> = columns.iter().flatten().map(|c| c.meaning).collect();
    meanings.sort();
    meanings.dedup();
    for m in meanings.into_iter().filter(|m| m.is_single()) {
        let claiming: Vec<usize> = (0..columns.len())
            .filter(|i| columns[*i].as_ref().is_some_and(|c| c.meaning == m))
            .collect();
        if claiming.len() < 2 {
            continue;
        }
        let best_tier = claiming
            .iter()
            .filter_map(|i| columns[*i].as_ref().map(|c| c.tier))
            .min()
            .unwrap_or(0);
        let distinct = |i: usize| {
            let mut cells = column_cells(rows, from, i);
            cells.sort_unstable();
            cells.dedup();
            cells.len()
        };
        let strongest: Vec<usize> = claiming
            .iter()
            .copied()
            .filter(|i| columns[*i].as_ref().is_some_and(|c| c.tier == best_tier))
            .collect();
        let most = strongest.iter().map(|i| distinct(*i)).max().unwrap_or(0);
        let winners: Vec<usize> = strongest
            .iter()
            .copied()
            .filter(|i| distinct(*i) == most)
            .collect();
        if winners.len() > 1 {
            let (Some(Some(a)), Some(Some(b))) = (columns.get(winners[0]), columns.get(winners[1]))
            else {
                continue;
            };
            let same_header = header_key(&a.header).full == header_key(&b.header).full;
            let same_cells =
                column_cells(rows, from, winners[0]) == column_cells(rows, from, winners[1]);
            if !same_header || same_cells {
                // Equally strong, but not the same column twice: the first is read and
                // the other kept as text, with a note.
                ties.push((winners[0], winners[1], m));
                for i in claiming.iter().copied().filter(|i| *i != winners[0]) {
                    if let Some(c) = columns[i].as_mut() {
                        c.meaning = Meaning::Note;
                        c.outranked = true;
                    }
                }
                continue;
            }
            {
                let (first, second) = (a.header.clone(), b.header.clone());
                errors.push(error(
                    "input/duplicate-key",
                    b.span,
                    format!(
                        "the columns `{first}` ({}) and `{second}` ({}) both read as the {}: say which is which in the sidecar `<table>.columns.yaml` (`columns: {{{second}: note}}`)",
                        super::column_letters(winners[0] + 1),
                        super::column_letters(winners[1] + 1),
                        m.name()
                    ),
                    format!(
                        "列 `{first}`（{}）与 `{second}`（{}）都读作{}：请在旁附文件 `<表名>.columns.yaml` 中说明（`columns: {{{second}: note}}`）",
                        super::column_letters(winners[0] + 1),
                        super::column_letters(winners[1] + 1),
                        m.zh()
                    ),
                ));
            }
            continue;
        }
        for i in claiming {
            if Some(&i) != winners.first() {
                if let Some(c) = columns[i].as_mut() {
                    c.meaning = Meaning::Note;
                    c.outranked = true;
                }
            }
        }
    }
    errors
}

/// A ratio cell as its column reads it: under `抽查比例（%）` a bare `5` is 5%.
fn read_ratio(header: &str, text: &str) -> Result<ratio::Sampling, String> {
    let percent_header = header.contains(['%', '％']);
    if percent_header && text.trim().parse::<f64>().is_ok() {
        ratio::parse_cell(&format!("{}%", text.trim()))
    } else {
        ratio::parse_cell(text)
    }
}

/// A number-reading column (ratio, frequency, count) none of whose cells reads, beside
/// one of its kind that reads, is text (`抽查基数(户)和比例` holding a description).
fn demote_unread(columns: &mut [Option<Column>], rows: &[RawRow], from: usize) {
    let reads = |m: Meaning, header: &str, text: &str| match m {
        Meaning::Ratio | Meaning::RatioAndFrequency => read_ratio(header, text).is_ok(),
        Meaning::Frequency => ratio::parse_frequency(text).is_some(),
        Meaning::Count => ratio::parse_count(text).is_some(),
        _ => true,
    };
    let family = |m: Meaning| match m {
        Meaning::RatioAndFrequency => Meaning::Ratio,
        m => m,
    };
    let reading: Vec<Option<(Meaning, bool)>> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.as_ref().filter(|c| c.meaning.reads_numbers())?;
            let any = column_cells(rows, from, i)
                .iter()
                .any(|t| reads(c.meaning, &c.header, t));
            Some((family(c.meaning), any))
        })
        .collect();
    for (i, r) in reading.iter().enumerate() {
        let Some((m, false)) = r else { continue };
        let other_reads = reading
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && *o == Some((*m, true)));
        if other_reads {
            if let Some(c) = columns[i].as_mut() {
                c.meaning = Meaning::Note;
                c.outranked = true;
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Department and year

/// Words that end the name of an issuing body.
const BODY_ENDS: &[&str] = &[
    "委员会",
    "办公室",
    "分局",
    "大队",
    "支队",
    "总队",
    "中心",
    "政府",
    "联席会议",
    "局",
    "委",
    "厅",
    "办",
];

/// The longest start of `text` that names a body (`武汉市生态环境局青山区分局`).
fn body_name(text: &str) -> Option<String> {
    let cut = text
        .find(['“', '"', '《', '(', '（', '「'])
        .map_or(text, |i| &text[..i]);
    let cut = cut.find("双随机").map_or(cut, |i| &cut[..i]);
    let mut best: Option<&str> = None;
    for (i, _) in cut.char_indices().chain(std::iter::once((cut.len(), ' '))) {
        let prefix = &cut[..i];
        if prefix.chars().count() >= 3 && BODY_ENDS.iter().any(|e| prefix.ends_with(e)) {
            best = Some(prefix);
        }
    }
    best.map(str::to_owned)
}

/// The year a title states (`…2024年度…`), and the text before and after it.
fn year_in_title(text: &str) -> Option<(i64, &str, &str)> {
    let bytes = text.as_bytes();
    for (i, _) in text.char_indices() {
        let digits = bytes.get(i..i + 4)?;
        if digits.iter().all(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && text[i + 4..].starts_with('年')
        {
            let year = text[i..i + 4].parse::<i64>().ok()?;
            if (1990..=2100).contains(&year) {
                let after = &text[i + 4 + '年'.len_utf8()..];
                return Some((year, &text[..i], after.strip_prefix('度').unwrap_or(after)));
            }
        }
    }
    None
}

/// The year in a file name (`wangcang-2021-plan` → 2021).
fn year_in_name(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|i| {
        let digits = &bytes[i..i + 4];
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        if bounded && digits.iter().all(u8::is_ascii_digit) {
            let year = std::str::from_utf8(digits).ok()?.parse::<i64>().ok()?;
            (1990..=2100).contains(&year).then_some(year)
        } else {
            None
        }
    })
}

/// The department a title row names: `填报单位:广州市教育局`, `旺苍县农业农村局2021年度…`,
/// `2021年楚雄州农业农村局双随机…`.
fn department_in(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for label in ["填报单位", "报送单位", "制表单位", "发布单位", "单位"] {
        if let Some(rest) = compact.strip_prefix(label) {
            let rest = rest
                .strip_prefix(|c: char| c == '(' || c == '（')
                .and_then(|r| r.split_once([')', '）']).map(|(_, after)| after))
                .unwrap_or(rest);
            if let Some(name) = rest.strip_prefix([':', '：']) {
                let name = name.split(['(', '（']).next().unwrap_or("").trim();
                if !name.is_empty() {
                    return Some(name.to_owned());
                }
            }
        }
    }
    // `附件2：…` before a title.
    let compact = match compact.strip_prefix("附件") {
        Some(rest) => rest.trim_start_matches(|c: char| {
            c.is_ascii_digit() || matches!(c, ':' | '：' | '.' | '、')
        }),
        None => compact.as_str(),
    };
    match year_in_title(compact) {
        Some((_, before, after)) => body_name(before).or_else(|| body_name(after)),
        None => body_name(compact),
    }
}

/// Where a document field came from, for the value's position and a note.
struct Given {
    value: Value,
    raw: Option<ImmutableString>,
    span: Span,
    from: &'static str,
}

// ---------------------------------------------------------------------------------
// Building the document

/// The fields of a task (or item), in the order of the YAML form.
const TASK_ORDER: &[&str] = &[
    "id",
    "name",
    "joint",
    "lead",
    "partners",
    "items",
    "objects",
    "level",
    "implements",
    "hotspot",
    "credit_risk",
    "ratio",
    "ratio_max",
    "count",
    "count_max",
    "frequency",
    "start",
    "end",
    "columns",
];

const ITEM_ORDER: &[&str] = &[
    "id", "category", "name", "objects", "method", "basis", "columns",
];

#[derive(Default)]
struct Record {
    span: Span,
    fields: Vec<(&'static str, NodeId)>,
    items: Vec<(NodeId, String)>,
    partners: Vec<(NodeId, String)>,
    lead_text: Option<String>,
    classes: Vec<(char, NodeId)>,
    classes_span: Option<Span>,
    applied: Option<NodeId>,
    description: Option<NodeId>,
    /// Columns kept as text: shown header → cell nodes.
    columns: Vec<(String, Vec<NodeId>)>,
}

impl Record {
    fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| *k == key)
    }

    fn set(&mut self, key: &'static str, node: NodeId) -> bool {
        if self.has(key) {
            return false;
        }
        self.fields.push((key, node));
        true
    }
}

struct Builder<'a> {
    nodes: Vec<Node>,
    records: Vec<Record>,
    notes: Vec<Note>,
    layout: &'a Layout,
    year: Option<i32>,
    /// Cell notes already given, per column and text (a merged cell is read per row).
    noted: std::collections::HashSet<(usize, String)>,
}

impl Builder<'_> {
    fn text_node(&mut self, text: &str, span: Span) -> Result<NodeId, LoadError> {
        push(
            &mut self.nodes,
            Value::Str(text.into()),
            span,
            Some(span),
            None,
        )
    }

    fn keep(&mut self, r: usize, header: &str, cell: &RawCell) -> Result<(), LoadError> {
        let node = self.text_node(&cell.text, cell.span)?;
        let record = &mut self.records[r];
        match record.columns.iter_mut().find(|(h, _)| h == header) {
            Some((_, nodes)) => {
                let same = nodes
                    .iter()
                    .any(|n| matches!(&self.nodes[*n as usize].value, Value::Str(s) if s.as_str() == cell.text));
                if !same {
                    nodes.push(node);
                }
            }
            None => record.columns.push((header.to_owned(), vec![node])),
        }
        Ok(())
    }

    fn cell_note(&mut self, col: usize, cell: &RawCell, en: String, zh: String) {
        if !self.noted.insert((col, cell.text.clone())) {
            return;
        }
        self.notes.push(note(cell.span, en, zh));
    }

    /// Reads one cell of a record into its fields. `first` is whether the record starts
    /// in this row (a continuation row only adds items and partners, and fills gaps).
    fn cell(&mut self, r: usize, col: usize, cell: &RawCell, first: bool) -> Result<(), LoadError> {
        let Some(Some(column)) = self.layout.columns.get(col) else {
            return Ok(());
        };
        let column = column.clone();
        let text = cell.text.as_str();
        let span = cell.span;
        let section = self.layout.section;
        let kept = |b: &mut Self| b.keep(r, &column.header, cell);
        match (section, column.meaning) {
            (_, Meaning::Row) | (Section::ItemList, Meaning::ItemId) => {
                if first && !self.records[r].has("id") {
                    let node = self.text_node(text, span)?;
                    self.records[r].set("id", node);
                }
            }
            (_, Meaning::Task) | (_, Meaning::ItemName) => {
                let node = self.text_node(text, span)?;
                if !self.records[r].set("name", node) && !first {
                    kept(self)?;
                }
            }
            (_, Meaning::Items) => {
                if !self.records[r].items.iter().any(|(_, t)| t == text) {
                    let node = push(&mut self.nodes, Value::Str(text.into()), span, None, None)?;
                    self.records[r].items.push((node, text.to_owned()));
                }
            }
            (_, Meaning::Objects) => {
                let node = self.text_node(text, span)?;
                let record = &mut self.records[r];
                match (section, record.description) {
                    (Section::Plan, None) => record.description = Some(node),
                    (Section::ItemList, _) if !record.has("objects") => {
                        record.set("objects", node);
                    }
                    _ => kept(self)?,
                }
            }
            (Section::Plan, Meaning::Partners) => {
                for (offset, item) in super::split_list(text) {
                    let none = matches!(item.as_str(), "无" | "/" | "-" | "—" | "——" | "暂无");
                    let record = &self.records[r];
                    let known = record.partners.iter().any(|(_, t)| *t == item)
                        || record.lead_text.as_deref() == Some(item.as_str());
                    if none || known {
                        continue;
                    }
                    let item_span = if cell.direct {
                        let start = span.start as usize + offset;
                        Span::new(start, start + item.len())
                    } else {
                        span
                    };
                    let node = push(
                        &mut self.nodes,
                        Value::Str(item.as_str().into()),
                        item_span,
                        None,
                        None,
                    )?;
                    self.records[r].partners.push((node, item));
                }
            }
            (Section::Plan, Meaning::Lead) => {
                let node = self.text_node(text, span)?;
                if self.records[r].set("lead", node) {
                    self.records[r].lead_text = Some(text.to_owned());
                    // A partner cell read before its lead (一业一查: 联查部门 first).
                    self.records[r].partners.retain(|(_, t)| t != text);
                } else {
                    kept(self)?;
                }
            }
            (Section::Plan, Meaning::Level) => {
                // Who carries the task out: a district (区, 县, 乡镇) or the city (市,
                // 州, 省); a cell naming neither is no level.
                let level = if text.contains(['县', '区', '乡', '镇']) {
                    "district"
                } else if text.contains(['市', '州', '省']) {
                    "city"
                } else {
                    kept(self)?;
                    self.cell_note(
                        col,
                        cell,
                        format!(
                            "no level (city or district) read from `{}`; kept as text",
                            one_line(text)
                        ),
                        format!(
                            "未能从 `{}` 读出检查层级（市级或区级）；作为文字保留",
                            one_line(text)
                        ),
                    );
                    return Ok(());
                };
                let node = push(
                    &mut self.nodes,
                    Value::Str(level.into()),
                    span,
                    Some(span),
                    Some(text.into()),
                )?;
                if !self.records[r].set("level", node) {
                    kept(self)?;
                }
            }
            (Section::Plan, Meaning::Ratio | Meaning::RatioAndFrequency) => {
                match read_ratio(&column.header, text) {
                    Ok(s) => {
                        if !self.sampling(r, &s, span)? {
                            kept(self)?;
                        }
                    }
                    Err(why) => {
                        kept(self)?;
                        self.cell_note(
                            col,
                            cell,
                            format!(
                                "no ratio read from `{}` ({why}); the task keeps it as text",
                                one_line(text)
                            ),
                            format!(
                                "未能从 `{}` 读出抽查比例（{why}）；作为文字保留",
                                one_line(text)
                            ),
                        );
                    }
                }
            }
            (Section::Plan, Meaning::Frequency) => match ratio::parse_frequency(text) {
                Some(n) => {
                    let node = push(
                        &mut self.nodes,
                        Value::Int(i64::from(n)),
                        span,
                        Some(span),
                        Some(text.into()),
                    )?;
                    if !self.records[r].set("frequency", node) {
                        kept(self)?;
                    }
                }
                None => {
                    kept(self)?;
                    self.cell_note(
                        col,
                        cell,
                        format!(
                            "no checks per year read from `{}`; kept as text",
                            one_line(text)
                        ),
                        format!("未能从 `{}` 读出每年抽查次数；作为文字保留", one_line(text)),
                    );
                }
            },
            (Section::Plan, Meaning::Count) => match ratio::parse_count(text) {
                Some(c) => {
                    if !self.count(r, c.bounds, span, text)? {
                        kept(self)?;
                    }
                }
                None => {
                    kept(self)?;
                    self.cell_note(
                        col,
                        cell,
                        format!(
                            "no number of objects read from `{}`; kept as text",
                            one_line(text)
                        ),
                        format!("未能从 `{}` 读出抽查数量；作为文字保留", one_line(text)),
                    );
                }
            },
            (Section::Plan, Meaning::Period | Meaning::Start | Meaning::End) => {
                match period::parse_period(text, self.year, column.part) {
                    Ok(p) => {
                        let mut set_any = false;
                        for (key, date) in [("start", p.start), ("end", p.end)] {
                            if let Some(d) = date {
                                let node = push(
                                    &mut self.nodes,
                                    Value::Str(schema::format_date(d).into()),
                                    span,
                                    Some(span),
                                    Some(text.into()),
                                )?;
                                set_any |= self.records[r].set(key, node);
                            }
                        }
                        if !set_any {
                            kept(self)?;
                        }
                    }
                    Err(why) => {
                        kept(self)?;
                        self.cell_note(
                            col,
                            cell,
                            format!("the period `{}` is left open: {}", one_line(text), why.en()),
                            format!("时间 `{}` 未确定日期：{}", one_line(text), why.zh()),
                        );
                    }
                }
            }
            (Section::Plan, Meaning::CreditRisk) => {
                let refused = ["不涉", "不适用", "不应用", "未应用", "无"]
                    .iter()
                    .any(|w| text.starts_with(w) || text.contains("不涉及"));
                let node = push(
                    &mut self.nodes,
                    Value::Bool(!refused),
                    span,
                    Some(span),
                    Some(text.into()),
                )?;
                if self.records[r].applied.is_none() {
                    self.records[r].applied = Some(node);
                }
                if let Ok(s) = ratio::parse_cell(text) {
                    if !s.classes.is_empty() {
                        self.sampling(r, &s, span)?;
                    }
                }
            }
            (Section::Plan, Meaning::Joint | Meaning::Hotspot) => {
                let key = if column.meaning == Meaning::Joint {
                    "joint"
                } else {
                    "hotspot"
                };
                match yes_no(text) {
                    Some(b) => {
                        let node = push(
                            &mut self.nodes,
                            Value::Bool(b),
                            span,
                            Some(span),
                            Some(text.into()),
                        )?;
                        self.records[r].set(key, node);
                    }
                    None => kept(self)?,
                }
            }
            (Section::Plan, Meaning::Implements) => {
                let node = self.text_node(text, span)?;
                self.records[r].set("implements", node);
            }
            (Section::ItemList, Meaning::Category) => {
                // A mark under `事项类别/重点事项` names the category by its header.
                let named = if is_mark(text) {
                    column.lower.as_deref().unwrap_or(text)
                } else {
                    text
                };
                match category(named) {
                    Some(c) => {
                        let node = push(
                            &mut self.nodes,
                            Value::Str(c.into()),
                            span,
                            Some(span),
                            Some(text.into()),
                        )?;
                        if !self.records[r].set("category", node) {
                            kept(self)?;
                        }
                    }
                    None => kept(self)?,
                }
            }
            (Section::ItemList, Meaning::Method | Meaning::Basis) => {
                let key = if column.meaning == Meaning::Method {
                    "method"
                } else {
                    "basis"
                };
                let node = self.text_node(text, span)?;
                if !self.records[r].set(key, node) {
                    kept(self)?;
                }
            }
            _ => kept(self)?,
        }
        Ok(())
    }

    /// Sets what a sampling cell commits to; false when the record had all of it.
    fn sampling(&mut self, r: usize, s: &ratio::Sampling, span: Span) -> Result<bool, LoadError> {
        let raw: ImmutableString = s.text.as_str().into();
        let mut set = false;
        if let Some(b) = s.ratio {
            let max = b.max.filter(|m| b.min != Some(*m));
            for (key, v) in [("ratio", b.min), ("ratio_max", max)] {
                if let Some(v) = v {
                    let node = push(
                        &mut self.nodes,
                        Value::Float(v),
                        span,
                        Some(span),
                        Some(raw.clone()),
                    )?;
                    set |= self.records[r].set(key, node);
                }
            }
        }
        if let Some(c) = &s.count {
            set |= self.count(r, c.bounds, span, &s.text)?;
        }
        if let Some(n) = s.per_year {
            let node = push(
                &mut self.nodes,
                Value::Int(i64::from(n)),
                span,
                Some(span),
                Some(raw.clone()),
            )?;
            set |= self.records[r].set("frequency", node);
        }
        if !s.classes.is_empty() && self.records[r].classes.is_empty() {
            for (class, v) in &s.classes {
                let node = push(
                    &mut self.nodes,
                    Value::Float(*v),
                    span,
                    Some(span),
                    Some(raw.clone()),
                )?;
                if !self.records[r].classes.iter().any(|(c, _)| c == class) {
                    self.records[r].classes.push((*class, node));
                }
            }
            self.records[r].classes_span = Some(span);
            set = true;
        }
        Ok(set)
    }

    fn count(
        &mut self,
        r: usize,
        b: Bounds<u64>,
        span: Span,
        text: &str,
    ) -> Result<bool, LoadError> {
        let max = b.max.filter(|m| b.min != Some(*m));
        let mut set = false;
        for (key, v) in [("count", b.min), ("count_max", max)] {
            let Some(v) = v.and_then(|v| i64::try_from(v).ok()) else {
                continue;
            };
            let node = push(
                &mut self.nodes,
                Value::Int(v),
                span,
                Some(span),
                Some(text.into()),
            )?;
            set |= self.records[r].set(key, node);
        }
        Ok(set)
    }
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 40 {
        format!("{}…", line.chars().take(40).collect::<String>())
    } else {
        line
    }
}

fn yes_no(text: &str) -> Option<bool> {
    match text.trim() {
        "是" | "√" | "✓" | "✔" | "Y" | "y" | "yes" | "true" | "True" | "TRUE" => Some(true),
        "否" | "×" | "✗" | "N" | "n" | "no" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn is_mark(text: &str) -> bool {
    matches!(text.trim(), "√" | "✓" | "✔" | "●" | "是" | "○" | "☑")
}

fn category(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.starts_with("重点") {
        Some("key")
    } else if t.starts_with("一般") {
        Some("general")
    } else {
        None
    }
}

/// Whether a row only repeats the header (a page break in the source).
fn repeats_header(row: &RawRow, header: &RawRow) -> bool {
    let named: Vec<(usize, String)> = header
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.text.is_empty())
        .map(|(i, c)| (i, header_key(&c.text).full))
        .collect();
    let same = named
        .iter()
        .filter(|(i, key)| {
            row.cells
                .get(*i)
                .is_some_and(|c| !c.text.is_empty() && header_key(&c.text).full == *key)
        })
        .count();
    same >= 2 && same * 5 >= named.len() * 3
}

/// A footnote under the table: only its first cell is written, and it reads as one.
fn is_footnote(row: &RawRow, after_footnote: bool, width: usize) -> bool {
    let filled: Vec<&RawCell> = non_empty(row).collect();
    let [only] = filled.as_slice() else {
        return false;
    };
    let first = row.cells.first().is_some_and(|c| std::ptr::eq(c, *only));
    if !first || width < 3 {
        return false;
    }
    let text = only.text.trim_start();
    let marked = [
        "备注",
        "注:",
        "注：",
        "注释",
        "附注",
        "说明",
        "填表说明",
        "填报说明",
        "注1",
        "注 ",
    ]
    .iter()
    .any(|w| text.starts_with(w));
    marked || after_footnote || text.chars().count() > 40
}

/// A published table's documents and the notes on reading it.
pub(super) type Built = (Vec<Tree>, Vec<Note>);

/// A published table's kind and each column's header and meaning.
pub(super) type ColumnMeanings = (Section, Vec<(String, &'static str)>);

/// Builds the document of a published table. `Ok(None)` when no header row is found
/// (the table is not a published plan or item list).
pub(super) fn build(
    source: &Arc<SourceFile>,
    rows: &[RawRow],
    csv: bool,
    cx: &Context,
) -> Result<Option<Built>, Vec<LoadError>> {
    let vocab = cx.options.vocabulary();
    let Some(layout) = layout(rows, cx, vocab)? else {
        return Ok(None);
    };
    let header_row = &rows[layout.header];
    let header_span = header_row.used_span();
    let mut notes = Vec::new();
    let mut errors = Vec::new();

    // Department and year: sidecar, command line, title rows, file name.
    let titles: Vec<(String, Span)> = rows[..layout.header]
        .iter()
        .flat_map(|r| non_empty(r).map(|c| (c.text.clone(), c.span)))
        .collect();
    let stem = std::path::Path::new(cx.path_shown)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let from_sidecar = |name: &str| -> Option<Given> {
        let v = cx.sidecar?.field(name)?.clone();
        let raw = match &v {
            Value::Int(i) => Some(ImmutableString::from(i.to_string())),
            _ => None,
        };
        Some(Given {
            value: v,
            raw,
            span: header_span,
            from: "sidecar",
        })
    };
    let department = from_sidecar("department")
        .or_else(|| {
            cx.options.department.as_ref().map(|d| Given {
                value: Value::Str(d.as_str().into()),
                raw: None,
                span: header_span,
                from: "--department",
            })
        })
        .or_else(|| {
            titles.iter().find_map(|(t, span)| {
                department_in(t).map(|d| Given {
                    value: Value::Str(d.into()),
                    raw: None,
                    span: *span,
                    from: "title",
                })
            })
        })
        .or_else(|| {
            department_in(&stem).map(|d| Given {
                value: Value::Str(d.into()),
                raw: None,
                span: header_span,
                from: "file name",
            })
        });
    let year_given = |y: i64, span: Span, from: &'static str| Given {
        value: Value::Int(y),
        raw: Some(y.to_string().into()),
        span,
        from,
    };
    let year = from_sidecar("year")
        .or_else(|| {
            cx.options
                .year
                .map(|y| year_given(y, header_span, "--year"))
        })
        .or_else(|| {
            titles.iter().find_map(|(t, span)| {
                let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                year_in_title(&compact).map(|(y, _, _)| year_given(y, *span, "title"))
            })
        })
        .or_else(|| year_in_name(&stem).map(|y| year_given(y, header_span, "file name")));
    let sidecar_shown = sidecar_path(cx.path_shown).display().to_string();
    let needs_year = layout.section == Section::Plan;
    let missing: Vec<&str> = [
        ("department", department.is_none()),
        ("year", needs_year && year.is_none()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| *n)
    .collect();
    if !missing.is_empty() {
        let lines: Vec<String> = missing
            .iter()
            .map(|n| match *n {
                "department" => "department: 某某市市场监督管理局".to_owned(),
                _ => "year: 2024".to_owned(),
            })
            .collect();
        let flags: Vec<String> = missing
            .iter()
            .map(|n| match *n {
                "department" => "--department 某某局".to_owned(),
                _ => "--year 2024".to_owned(),
            })
            .collect();
        let what = missing.join(" and ");
        let what_zh = missing
            .iter()
            .map(|n| {
                if *n == "department" {
                    "部门（department）"
                } else {
                    "年度（year）"
                }
            })
            .collect::<Vec<_>>()
            .join("和");
        errors.push(error(
            "input/missing-field",
            header_span,
            format!(
                "the table states no {what}: write `{}` in `{sidecar_shown}` (a file beside the table), or pass `{}` to spotlint, or give a title row such as `某某局2024年度“双随机、一公开”抽查工作计划` above the header",
                lines.join("` and `"),
                flags.join(" ")
            ),
            format!(
                "表格未写明{what_zh}：请在表格旁的 `{sidecar_shown}` 中写 `{}`，或运行 spotlint 时加 `{}`，或在列名行上方加标题行（如 `某某局2024年度“双随机、一公开”抽查工作计划`）",
                lines.join("`、`"),
                flags.join(" ")
            ),
        ));
    }
    for (name, given) in [("department", &department), ("year", &year)] {
        if name == "year" && !needs_year {
            continue;
        }
        if let Some(g) = given
            .as_ref()
            .filter(|g| g.from == "title" || g.from == "file name")
        {
            let shown = match &g.value {
                Value::Str(s) => s.to_string(),
                Value::Int(i) => i.to_string(),
                _ => String::new(),
            };
            notes.push(note(
                g.span,
                format!("{name} `{shown}` read from the {}", g.from),
                format!(
                    "{} `{shown}` 取自{}",
                    if name == "department" {
                        "部门"
                    } else {
                        "年度"
                    },
                    if g.from == "title" {
                        "标题行"
                    } else {
                        "文件名"
                    }
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let plan_year = year.as_ref().and_then(|g| match g.value {
        Value::Int(y) => i32::try_from(y).ok(),
        _ => None,
    });

    // How the columns were read.
    let letter = |i: usize| super::column_letters(i + 1);
    for c in layout.columns.iter().flatten() {
        let (en, zh) = match &c.how {
            How::Typo(listed) => (
                format!(
                    "column `{}` read as `{listed}` ({})",
                    c.header,
                    c.meaning.name()
                ),
                format!(
                    "列 `{}` 按 `{listed}`（{}）读取",
                    c.header,
                    c.meaning.name()
                ),
            ),
            How::Truncated(listed) => (
                format!(
                    "column `{}` read as the start of `{listed}` ({})",
                    c.header,
                    c.meaning.name()
                ),
                format!(
                    "列 `{}` 按 `{listed}` 的开头（{}）读取",
                    c.header,
                    c.meaning.name()
                ),
            ),
            How::Word(word) if c.meaning != Meaning::Note => (
                format!(
                    "column `{}` read as {} by the word `{word}`",
                    c.header,
                    c.meaning.name()
                ),
                format!(
                    "列 `{}` 因含 `{word}` 按 {} 读取",
                    c.header,
                    c.meaning.name()
                ),
            ),
            How::Labelled(label) => (
                format!(
                    "column `{}` read as {} by its cells (`{label}:`)",
                    c.header,
                    c.meaning.name()
                ),
                format!(
                    "列 `{}` 按单元格中的 `{label}:` 读作 {}",
                    c.header,
                    c.meaning.name()
                ),
            ),
            _ => continue,
        };
        notes.push(note(c.span, en, zh));
    }
    for (read, kept, m) in &layout.ties {
        let (Some(Some(a)), Some(Some(b))) = (layout.columns.get(*read), layout.columns.get(*kept))
        else {
            continue;
        };
        notes.push(note(
            b.span,
            format!(
                "`{}` ({}) and `{}` ({}) both read as {}: the first is read, the other kept as text (a sidecar can say otherwise: `columns: {{{}: note}}`)",
                a.header,
                letter(*read),
                b.header,
                letter(*kept),
                m.name(),
                a.header
            ),
            format!(
                "`{}`（{}）与 `{}`（{}）都读作{}：读取前者，后者作为文字保留（可在旁附文件中另行指定：`columns: {{{}: note}}`）",
                a.header,
                letter(*read),
                b.header,
                letter(*kept),
                m.zh(),
                a.header
            ),
        ));
    }
    let kept: Vec<(String, String)> = layout
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let c = c.as_ref()?;
            let text_only = match layout.section {
                Section::Plan => matches!(
                    c.meaning,
                    Meaning::Note | Meaning::Basis | Meaning::Method | Meaning::ItemCategory
                ),
                Section::ItemList => !matches!(
                    c.meaning,
                    Meaning::ItemId
                        | Meaning::ItemName
                        | Meaning::Category
                        | Meaning::Objects
                        | Meaning::Method
                        | Meaning::Basis
                ),
            };
            if !text_only || c.meaning == Meaning::Row {
                return None;
            }
            let (en, zh) = if c.unknown {
                (", not in the vocabulary", "，词表中没有")
            } else if c.outranked {
                (", another column holds this", "，已由另一列提供")
            } else {
                ("", "")
            };
            Some((
                format!("`{}` ({}{en})", c.header, letter(i)),
                format!("`{}`（{}{zh}）", c.header, letter(i)),
            ))
        })
        .collect();
    if !kept.is_empty() {
        let (en, zh): (Vec<String>, Vec<String>) = kept.into_iter().unzip();
        notes.push(note(
            header_span,
            format!(
                "columns kept as text in each record's `columns` (no rule reads them): {}",
                en.join(", ")
            ),
            format!(
                "以下各列作为文字保留在记录的 `columns` 中（规则不读取）：{}",
                zh.join("、")
            ),
        ));
    }

    // Rows.
    let key_col = layout
        .columns
        .iter()
        .position(|c| c.as_ref().is_some_and(|c| c.meaning == Meaning::Row))
        .or_else(|| {
            let key = match layout.section {
                Section::Plan => Meaning::Task,
                Section::ItemList => Meaning::ItemId,
            };
            layout
                .columns
                .iter()
                .position(|c| c.as_ref().is_some_and(|c| c.meaning == key))
        });
    let width = layout.columns.len();
    let mut b = Builder {
        nodes: Vec::new(),
        records: Vec::new(),
        notes,
        layout: &layout,
        year: plan_year,
        noted: std::collections::HashSet::new(),
    };
    let root = push(
        &mut b.nodes,
        Value::Map(Vec::new()),
        header_span,
        None,
        None,
    )
    .map_err(|e| vec![e])?;
    let mut above: Vec<Option<RawCell>> = vec![None; width];
    let first_data = layout.second.unwrap_or(layout.header) + 1;
    let mut after_footnote = false;
    for row in rows.iter().skip(first_data) {
        if row.is_blank() {
            continue;
        }
        if repeats_header(row, header_row) {
            b.notes.push(note(
                row.first_span(),
                "a repeated header row is skipped",
                "跳过重复的列名行",
            ));
            continue;
        }
        if is_footnote(row, after_footnote, width) {
            after_footnote = true;
            b.notes.push(note(
                row.first_span(),
                format!("footnote row skipped: `{}`", one_line(&row.cells[0].text)),
                format!("跳过表格下方的说明行：`{}`", one_line(&row.cells[0].text)),
            ));
            continue;
        }
        after_footnote = false;
        let continues = !b.records.is_empty() && key_col.is_some_and(|k| repeats(row.cells.get(k)));
        if !continues {
            b.records.push(Record {
                span: row.first_span(),
                ..Record::default()
            });
        }
        let r = b.records.len() - 1;
        let missing = RawCell {
            text: String::new(),
            span: Span::new(row.span.end as usize, row.span.end as usize),
            direct: true,
            excel_error: false,
            merged: None,
        };
        if above.len() < row.cells.len() {
            above.resize(row.cells.len(), None);
        }
        for (i, slot) in above.iter_mut().enumerate() {
            // A short CSV row: its missing cells are blank.
            let raw = row.cells.get(i).unwrap_or(&missing);
            // Values beyond the header, or under a blank header cell, are kept by letter.
            if i >= width || layout.columns[i].is_none() {
                if raw.text.is_empty() || raw.excel_error {
                    continue;
                }
                b.keep(r, &letter(i), raw).map_err(|e| vec![e])?;
                b.cell_note(
                    i,
                    raw,
                    format!(
                        "a value in column {} that has no header: kept under `{}`",
                        letter(i),
                        letter(i)
                    ),
                    format!("第 {} 列没有列名，其值保留在 `{}` 下", letter(i), letter(i)),
                );
                continue;
            }
            let cell = if raw.excel_error {
                b.cell_note(
                    i,
                    raw,
                    format!("the spreadsheet error {} is read as a blank cell", raw.text),
                    format!("表格错误值 {} 按空白单元格读取", raw.text),
                );
                Cell::Empty
            } else if !raw.text.is_empty() && !is_ditto(&raw.text) {
                *slot = Some(raw.clone());
                Cell::Given(raw.clone())
            } else if let Some(origin) = &raw.merged {
                let cell = RawCell {
                    text: origin.0.clone(),
                    span: origin.1,
                    direct: true,
                    excel_error: false,
                    merged: None,
                };
                *slot = Some(cell.clone());
                Cell::Merged(cell)
            } else if csv || is_ditto(&raw.text) {
                match slot {
                    // A blank under a check mark (√) is unmarked, not the same again.
                    Some(prev) if is_mark(&prev.text) && raw.text.is_empty() => Cell::Empty,
                    Some(prev) => Cell::Repeated(RawCell {
                        text: prev.text.clone(),
                        span: raw.span,
                        direct: false,
                        excel_error: false,
                        merged: None,
                    }),
                    None => Cell::Empty,
                }
            } else {
                Cell::Empty
            };
            if continues && !matches!(cell, Cell::Given(_)) {
                continue;
            }
            if let Some(c) = cell.raw() {
                let c = c.clone();
                b.cell(r, i, &c, !continues).map_err(|e| vec![e])?;
            }
        }
    }
    if b.records.is_empty() {
        return Err(vec![error(
            "input/empty",
            header_span,
            "the table has a header row but no data rows",
            "表格只有列名行，没有数据行",
        )]);
    }
    let notes = std::mem::take(&mut b.notes);
    let tree = finish(b, source, root, header_span, cx, (department, year)).map_err(|e| vec![e])?;
    Ok(Some((vec![tree], notes)))
}

fn finish(
    mut b: Builder,
    source: &Arc<SourceFile>,
    root: NodeId,
    header_span: Span,
    cx: &Context,
    (department, year): (Option<Given>, Option<Given>),
) -> Result<Tree, LoadError> {
    let section = b.layout.section;
    let mut entries: Vec<(Key, NodeId)> = Vec::new();
    let kind = push(
        &mut b.nodes,
        Value::Str(section.kind().into()),
        header_span,
        Some(header_span),
        None,
    )?;
    entries.push((Key::Static("kind"), kind));
    let mut doc: Vec<(&'static str, Given)> = Vec::new();
    if let Some(d) = department {
        doc.push(("department", d));
    }
    let fields: &[&'static str] = match section {
        Section::Plan => &["level", "district", "year", "scope"],
        Section::ItemList => &["updated_on"],
    };
    let mut year = year;
    for name in fields {
        let given = if *name == "year" {
            year.take()
        } else {
            cx.sidecar.and_then(|s| s.field(name)).map(|v| Given {
                value: v.clone(),
                raw: None,
                span: header_span,
                from: "sidecar",
            })
        };
        let given = given.or_else(|| {
            // A joint plan by its title (部门联合, 一业一查), unless the sidecar says.
            (*name == "scope" && section == Section::Plan && joint_title(source, header_span, cx))
                .then(|| Given {
                    value: Value::Str("joint".into()),
                    raw: None,
                    span: header_span,
                    from: "title",
                })
        });
        if let Some(g) = given {
            doc.push((name, g));
        }
    }
    for (name, g) in doc {
        let node = push(&mut b.nodes, g.value, g.span, Some(g.span), g.raw)?;
        entries.push((Key::Static(name), node));
    }
    let records = std::mem::take(&mut b.records);
    let mut ids = Vec::with_capacity(records.len());
    for (ordinal, rec) in records.into_iter().enumerate() {
        ids.push(record_node(&mut b.nodes, rec, ordinal + 1, section)?);
    }
    let first = ids.first().map(|t| b.nodes[*t as usize].span);
    let seq = push(
        &mut b.nodes,
        Value::Seq(ids),
        first.unwrap_or(header_span),
        Some(header_span),
        None,
    )?;
    let list = match section {
        Section::Plan => "tasks",
        Section::ItemList => "items",
    };
    entries.push((Key::Static(list), seq));
    b.nodes[root as usize].value = Value::Map(entries);
    Ok(Tree {
        nodes: b.nodes,
        root,
        source: Arc::clone(source),
        invalid: Vec::new(),
    })
}

/// A list of the values read from a row's cells (`items`, `partners`), placed at the
/// first; none for no values.
fn list_node(
    nodes: &mut Vec<Node>,
    values: &[(NodeId, String)],
) -> Result<Option<NodeId>, LoadError> {
    let Some((first, _)) = values.first() else {
        return Ok(None);
    };
    let at = nodes[*first as usize].span;
    let ids = values.iter().map(|(n, _)| *n).collect();
    push(nodes, Value::Seq(ids), at, Some(at), None).map(Some)
}
/// Whether the title rows call the table a joint plan.
fn joint_title(source: &SourceFile, header_span: Span, cx: &Context) -> bool {
    let vocab = cx.options.vocabulary();
    let above = source.text.get(..header_span.start as usize).unwrap_or("");
    let key = header_key(above).full;
    let has = |words: &[String]| words.iter().any(|w| key.contains(&header_key(w).full));
    has(&vocab.titles.joint) && !has(&vocab.titles.not_joint)
}

fn record_node(
    nodes: &mut Vec<Node>,
    mut rec: Record,
    ordinal: usize,
    section: Section,
) -> Result<NodeId, LoadError> {
    let span = rec.span;
    if !rec.has("id") {
        // Numbered by the reader: placed at the row, showing no cell's text.
        let at = Span::new(span.start as usize, span.start as usize);
        let id = push(
            nodes,
            Value::Str(ordinal.to_string().into()),
            at,
            Some(at),
            None,
        )?;
        rec.fields.push(("id", id));
    }
    if let Some(seq) = list_node(nodes, &rec.items)? {
        rec.fields.push(("items", seq));
    }
    if let Some(seq) = list_node(nodes, &rec.partners)? {
        let first = nodes[seq as usize].span;
        rec.fields.push(("partners", seq));
        if !rec.has("joint") {
            let joint = push(nodes, Value::Bool(true), first, Some(first), None)?;
            rec.fields.push(("joint", joint));
        }
    }
    if let Some(d) = rec.description {
        let at = nodes[d as usize].span;
        let map = push(
            nodes,
            Value::Map(vec![(Key::Static("description"), d)]),
            at,
            Some(at),
            None,
        )?;
        rec.fields.push(("objects", map));
    }
    if rec.applied.is_some() || !rec.classes.is_empty() {
        let mut entries: Vec<(Key, NodeId)> = Vec::new();
        let at = rec
            .applied
            .map(|a| nodes[a as usize].span)
            .or(rec.classes_span)
            .unwrap_or(span);
        let applied = match rec.applied {
            Some(a) => a,
            None => push(nodes, Value::Bool(true), at, Some(at), None)?,
        };
        entries.push((Key::Static("applied"), applied));
        if !rec.classes.is_empty() {
            rec.classes.sort_by_key(|(c, _)| *c);
            let class_span = rec.classes_span.unwrap_or(at);
            let classes: Vec<(Key, NodeId)> = rec
                .classes
                .iter()
                .map(|(c, n)| (Key::owned(&c.to_string()), *n))
                .collect();
            let ratios = push(
                nodes,
                Value::Map(classes),
                class_span,
                Some(class_span),
                None,
            )?;
            entries.push((Key::Static("ratios"), ratios));
        }
        let map = push(nodes, Value::Map(entries), at, Some(at), None)?;
        rec.fields.push(("credit_risk", map));
    }
    if !rec.columns.is_empty() {
        let first = rec
            .columns
            .first()
            .and_then(|(_, n)| n.first())
            .map_or(span, |n| nodes[*n as usize].span);
        let mut entries: Vec<(Key, NodeId)> = Vec::with_capacity(rec.columns.len());
        for (header, values) in &rec.columns {
            let node = match values.as_slice() {
                [one] => *one,
                many => {
                    let at = nodes[many[0] as usize].span;
                    push(nodes, Value::Seq(many.to_vec()), at, Some(at), None)?
                }
            };
            entries.push((Key::owned(header), node));
        }
        let map = push(nodes, Value::Map(entries), first, Some(first), None)?;
        rec.fields.push(("columns", map));
    }
    let order = match section {
        Section::Plan => TASK_ORDER,
        Section::ItemList => ITEM_ORDER,
    };
    let mut fields: Vec<(Key, NodeId)> = Vec::with_capacity(rec.fields.len());
    for key in order {
        if let Some((_, node)) = rec.fields.iter().find(|(k, _)| k == key) {
            fields.push((Key::Static(key), *node));
        }
    }
    push(nodes, Value::Map(fields), span, None, None)
}

/// The meaning of every column of a published table, as its reader sees them: for
/// each table (worksheet) read, the header as shown and its meaning. For tests and
/// for staff who check how a header set is recognised.
pub(super) fn meanings(
    rows: &[RawRow],
    cx: &Context,
) -> Result<Option<ColumnMeanings>, Vec<LoadError>> {
    let vocab = cx.options.vocabulary();
    let Some(layout) = layout(rows, cx, vocab)? else {
        return Ok(None);
    };
    let list = layout
        .columns
        .iter()
        .flatten()
        .map(|c| (c.header.clone(), c.meaning.name()))
        .collect();
    Ok(Some((layout.section, list)))
}

#[cfg(test)]
mod tests {
    use super::super::{load_table, read_table};
    use super::*;

    fn manifest(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    /// Loads a fixture (with its sidecar) and validates it.
    fn document(path: &str) -> Tree {
        let full = manifest(path);
        let shown = full.display().to_string();
        let bytes = std::fs::read(&full).unwrap();
        let mut trees = match load_table(&shown, &bytes, path.ends_with(".xlsx")) {
            Ok(t) => t,
            Err(e) => panic!(
                "{path}: {:?}",
                e.iter().map(|e| &e.error).collect::<Vec<_>>()
            ),
        };
        assert_eq!(trees.len(), 1);
        let mut t = trees.remove(0);
        let kind = schema::header_str(&t, "kind").unwrap();
        let errors = schema::validate(&mut t, schema::kind_schema(&kind).unwrap());
        assert!(errors.is_empty(), "{path}: {errors:?}");
        t
    }

    fn plan(name: &str) -> Tree {
        document(&format!("fixtures/tables/plans/{name}"))
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
        // `1-2次` in a ratio-and-frequency cell: at least once a year.
        assert_eq!(text(&t, "tasks[4].frequency"), "1");
        // 检查主体 naming levels (市、区、县级…) is the level, not a lead department.
        assert_eq!(text(&t, "tasks[0].level"), "district");
        assert!(absent(&t, "tasks[0].lead"));
        // 9月-11月 within the plan's year.
        assert_eq!(text(&t, "tasks[0].start"), "2023-09-01");
        assert_eq!(text(&t, "tasks[0].end"), "2023-11-30");
        // Counts are read; columns no rule reads are kept.
        assert_eq!(text(&t, "tasks[0].count"), "50");
        assert_eq!(text(&t, "tasks[0].columns.事项类别"), "一般检查事");
    }

    #[test]
    fn changzhi() {
        let t = plan("changzhi-2024.csv");
        assert_eq!(tasks(&t), 4);
        assert_eq!(text(&t, "tasks[0].ratio"), "0.03");
        assert_eq!(text(&t, "tasks[0].frequency"), "2");
        assert_eq!(text(&t, "tasks[0].partners[1]"), "市公安局");
        assert_eq!(shown(&t, "tasks[0].partners[1]"), "市公安局");
        assert_eq!(text(&t, "tasks[0].joint"), "true");
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
        assert_eq!(text(&t, "tasks[0].start"), "2024-03-01");
        assert_eq!(text(&t, "tasks[0].end"), "2024-12-31");
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
            // Partners of the continuation rows are added, one per name.
            assert_eq!(text(&t, "tasks[2].partners[1]"), "市场监管");
            assert_eq!(text(&t, "tasks[2].partners[2]"), "税务部门");
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
        // 抽查周期 每月 is twelve checks a year; 抽查主体 naming levels is the level.
        assert_eq!(text(&t, "tasks[0].frequency"), "12");
        assert_eq!(text(&t, "tasks[0].level"), "district");
    }

    fn csv_read(
        text: &str,
        options: &ReadOptions,
    ) -> Result<super::super::TableRead, Vec<TableError>> {
        read_table("no/such/plan.csv", text.as_bytes(), false, options)
    }

    fn csv_plan(text: &str) -> Tree {
        let options = ReadOptions {
            department: Some("甲局".into()),
            year: Some(2024),
            ..ReadOptions::default()
        };
        let mut read = match csv_read(text, &options) {
            Ok(r) => r,
            Err(e) => panic!("{:?}", e.iter().map(|e| &e.error).collect::<Vec<_>>()),
        };
        let mut t = read.trees.remove(0);
        let kind = schema::header_str(&t, "kind").unwrap();
        let errors = schema::validate(&mut t, schema::kind_schema(&kind).unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        t
    }

    #[test]
    fn percent_headers_and_full_coverage() {
        let t = csv_plan("序号,抽查事项,抽查比例（%）\n1,甲,5\n2,乙,全覆盖\n");
        assert_eq!(text(&t, "tasks[0].ratio"), "0.05");
        assert_eq!(text(&t, "tasks[1].ratio"), "1");
    }

    #[test]
    fn counts_floors_ceilings_and_classes() {
        let t = csv_plan(
            "序号,抽查事项,检查对象,抽查比例及频次,抽查数量\n\
             1,事项甲,企业,60-70家;1次/年,\n\
             2,事项乙,企业,10-20%,不少于2所\n\
             3,事项丙,企业,原则上不高于10%,1户\n\
             4,事项丁,企业,A:3%;B:4%;C:5%;D:6%,\n\
             5,事项戊,企业,按实际情况确定,\n",
        );
        assert!(absent(&t, "tasks[0].ratio"));
        assert_eq!(text(&t, "tasks[0].count"), "60");
        assert_eq!(text(&t, "tasks[0].count_max"), "70");
        assert_eq!(text(&t, "tasks[0].frequency"), "1");
        assert_eq!(text(&t, "tasks[1].ratio"), "0.1");
        assert_eq!(text(&t, "tasks[1].ratio_max"), "0.2");
        assert_eq!(text(&t, "tasks[1].count"), "2");
        assert!(absent(&t, "tasks[1].count_max"));
        assert!(absent(&t, "tasks[2].ratio"));
        assert_eq!(text(&t, "tasks[2].ratio_max"), "0.1");
        assert_eq!(text(&t, "tasks[2].count"), "1");
        assert_eq!(text(&t, "tasks[3].credit_risk.applied"), "true");
        assert_eq!(text(&t, "tasks[3].credit_risk.ratios.A"), "0.03");
        assert_eq!(text(&t, "tasks[3].credit_risk.ratios.D"), "0.06");
        assert!(absent(&t, "tasks[3].ratio"));
        // What no rule can read is kept as text.
        assert!(absent(&t, "tasks[4].ratio"));
        assert_eq!(
            text(&t, "tasks[4].columns.抽查比例及频次"),
            "按实际情况确定"
        );
    }

    #[test]
    fn messy_headers_title_rows_and_unknown_columns() {
        let read = csv_read(
            "某某县市场监督管理局2025年度“双随机、一公开”抽查工作计划,,,,,,\n\
             填报单位：某某县市场监督管理局,,,,,,\n\
             \"序\n号\",\"任务 名称\",（抽查事项）,抽查比列,\"检查\n时间\",工作亮点,责任 分工\n\
             1,任务甲,事项甲,5%,第二、三季度,亮点,股室甲\n\
             2,任务乙,事项乙,不低于3%,2025年7月20日前,亮点,股室乙\n\
             3,任务丙,事项丙,5%,局统一安排,,\n",
            &ReadOptions::default(),
        )
        .unwrap();
        let mut t = read.trees.into_iter().next().unwrap();
        let errors = schema::validate(&mut t, schema::kind_schema("Plan").unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(text(&t, "department"), "某某县市场监督管理局");
        assert_eq!(text(&t, "year"), "2025");
        assert_eq!(text(&t, "tasks[0].name"), "任务甲");
        assert_eq!(text(&t, "tasks[0].ratio"), "0.05");
        assert_eq!(text(&t, "tasks[0].start"), "2025-04-01");
        assert_eq!(text(&t, "tasks[0].end"), "2025-09-30");
        assert!(absent(&t, "tasks[1].start"));
        assert_eq!(text(&t, "tasks[1].end"), "2025-07-20");
        assert!(absent(&t, "tasks[2].start"));
        assert_eq!(text(&t, "tasks[2].columns.检查 时间"), "局统一安排");
        assert_eq!(text(&t, "tasks[0].columns.工作亮点"), "亮点");
        let notes: Vec<&str> = read.notes.iter().map(|n| n.en.as_str()).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`抽查比列` read as `抽查比例`")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`工作亮点` (F, not in the vocabulary)")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`局统一安排` is left open")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("department `某某县市场监督管理局` read from the title")),
            "{notes:?}"
        );
    }

    #[test]
    fn two_row_headers_and_group_labels() {
        let t = csv_plan(
            "序号,计划任务,,检查对象,事项类别,\n\
             ,任务名称,抽查事项,,一般事项,重点事项\n\
             1,任务甲,事项甲,企业,√,\n\
             2,任务乙,事项乙,企业,,√\n",
        );
        assert_eq!(text(&t, "tasks[1].name"), "任务乙");
        assert_eq!(items(&t, 1), ["事项乙"]);
        assert_eq!(text(&t, "tasks[0].columns.事项类别/一般事项"), "√");
        // A group label in the first column.
        let t = csv_plan(
            "计划名称,任务名称,抽查事项,抽查比例\n\
             局计划,任务甲,事项甲,5%\n\
             ,任务乙,事项乙,5%\n\
             ,任务丙,事项丙,5%\n",
        );
        assert_eq!(tasks(&t), 3);
        assert_eq!(text(&t, "tasks[2].name"), "任务丙");
        assert_eq!(text(&t, "tasks[2].columns.计划名称"), "局计划");
    }

    #[test]
    fn item_lists() {
        let t = csv_plan(
            "某某局随机抽查事项清单,,,,\n\
             序号,抽查事项,事项类别,检查方式,抽查依据,检查主体\n\
             1,事项甲,重点检查事项,现场检查,《甲法》,县局\n\
             2,事项乙,一般检查事项,书面检查,《乙法》,县局\n",
        );
        assert_eq!(text(&t, "kind"), "ItemList");
        assert_eq!(text(&t, "items[0].id"), "1");
        assert_eq!(text(&t, "items[0].name"), "事项甲");
        assert_eq!(text(&t, "items[0].category"), "key");
        assert_eq!(text(&t, "items[1].category"), "general");
        assert_eq!(text(&t, "items[1].method"), "书面检查");
        assert_eq!(text(&t, "items[1].basis"), "《乙法》");
        assert_eq!(text(&t, "items[1].columns.检查主体"), "县局");
        // Categories marked under a two-row header; a blank under a mark is unmarked.
        let t = csv_plan(
            "某局2024年抽查事项清单\n序号,抽查事项,事项类别,,检查方式\n,,一般事项,重点事项,\n\
             1,甲事项,√,,现场检查\n2,乙事项,,√,书面检查\n",
        );
        assert_eq!(text(&t, "items[0].category"), "general");
        assert_eq!(text(&t, "items[1].category"), "key");
    }

    #[test]
    fn missing_department_and_year_say_how_to_give_them() {
        let errors = csv_read(
            "序号,抽查事项,检查对象,抽查比例\n1,事项,企业,5%\n",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        let e = &errors[0].error;
        assert_eq!(e.code, "input/missing-field");
        assert!(e.en.contains("no department and year"), "{}", e.en);
        assert!(e.en.contains("no/such/plan.columns.yaml"), "{}", e.en);
        assert!(e.en.contains("--department"), "{}", e.en);
        assert!(e.zh.contains("--year 2024"), "{}", e.zh);
    }

    #[test]
    fn columns_claiming_the_same_meaning() {
        // The stronger header wins; the weaker is kept.
        let t = csv_plan("序号,抽查事项,抽查内容,抽查比例\n1,事项,内容,5%\n");
        assert_eq!(items(&t, 0), ["事项"]);
        assert_eq!(text(&t, "tasks[0].columns.抽查内容"), "内容");
        // Two equal claims: the first is read, with a note.
        let options = ReadOptions {
            department: Some("甲局".into()),
            year: Some(2024),
            ..ReadOptions::default()
        };
        let read = csv_read("序号,抽查事项,检查事项,抽查比例\n1,甲,乙,5%\n", &options).unwrap();
        assert!(
            read.notes.iter().any(|n| n
                .en
                .contains("`抽查事项` (B) and `检查事项` (C) both read as items")),
            "{:?}",
            read.notes
        );
        // The same header twice over different cells is ambiguous: an error naming both.
        let errors =
            csv_read("序号,抽查事项,抽查事项,抽查比例\n1,甲,乙,5%\n", &options).unwrap_err();
        assert_eq!(errors[0].error.code, "input/duplicate-key");
        assert!(
            errors[0]
                .error
                .en
                .contains("`抽查事项` (B) and `抽查事项` (C)"),
            "{}",
            errors[0].error.en
        );
    }

    #[test]
    fn sidecars_map_headers() {
        let sidecar = SourceFile::from_text(
            "s.columns.yaml",
            "department: 甲局\nyear: 2024\ncolumns: {检查对像: description, 工作亮点: ratio}\n",
        );
        let sidecar = parse_sidecar(&sidecar).unwrap();
        let text_ = "序号,抽查事项,检查对像,工作亮点\n1,事项,企业,5%\n";
        let source = SourceFile::from_text("p.csv", text_);
        let rows: Vec<RawRow> = super::super::CsvRows::new(&source.text, b',')
            .map(|r| r.unwrap())
            .collect();
        let options = ReadOptions::default();
        let cx = Context {
            path_shown: "p.csv",
            sidecar: Some(&sidecar),
            options: &options,
        };
        let (mut trees, _) = build(&source, &rows, true, &cx).unwrap().unwrap();
        let errors = schema::validate(&mut trees[0], schema::kind_schema("Plan").unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(text(&trees[0], "tasks[0].objects.description"), "企业");
        assert_eq!(text(&trees[0], "tasks[0].ratio"), "0.05");
        assert_eq!(text(&trees[0], "department"), "甲局");
        let written =
            SourceFile::from_text("s.columns.yaml", "department: 甲局\nyear: \"2024年度\"\n");
        let written = parse_sidecar(&written).unwrap();
        assert!(matches!(written.field("year"), Some(Value::Int(2024))));
        // A bad sidecar meaning is an error with a suggestion.
        let bad = SourceFile::from_text("s.columns.yaml", "columns: {备注: ignor}\n");
        let errors = parse_sidecar(&bad).unwrap_err();
        assert!(errors[0].en.contains("did you mean `ignore`"));
    }

    #[test]
    fn titles_name_departments_and_years() {
        for (title, dept) in [
            (
                "旺苍县农业农村局2021年度“双随机、一公开”抽查工作计划",
                Some("旺苍县农业农村局"),
            ),
            (
                "2021年楚雄州农业农村局双随机抽查工作计划",
                Some("楚雄州农业农村局"),
            ),
            (
                "武汉市生态环境局青山区分局2025年度“双随机”抽查工作计划表",
                Some("武汉市生态环境局青山区分局"),
            ),
            (
                "填报单位(盖章):咸宁市住房和城乡建设局",
                Some("咸宁市住房和城乡建设局"),
            ),
            ("2024年度“双随机、一公开”抽查工作计划", None),
            ("无为市市场监管领域2023年度部门联合“一业一查”工作计划", None),
            (
                "2023年度六安市水利局“一业一查”双随机抽查计划表",
                Some("六安市水利局"),
            ),
        ] {
            assert_eq!(department_in(title).as_deref(), dept, "{title}");
        }
        assert_eq!(year_in_name("wangcang-nyncj-2021-plan"), Some(2021));
        assert_eq!(year_in_name("plan-20229"), None);
        assert_eq!(year_in_title("2021年度x").map(|y| y.0), Some(2021));
    }
}
