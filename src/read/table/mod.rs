//! CSV and spreadsheet (XLSX/XLSM, XLS, XLSB, ODS) tables read as documents.
//!
//! A table holds one record per row under a header row (docs/formats.md, "Tables").
//! Its rows become the same position-keeping [`Tree`]s that [`crate::parse::yaml::load`] makes
//! of the equivalent YAML, so [`crate::schema::validate`] and the rules work unchanged:
//! a `Value::Map` root with `kind`, the document fields and the record list
//! (`records`, `objects` or `people`), each record a `Value::Map` whose values carry
//! `key_span`. Cell values stay text (`Value::Str`) — booleans (`是`/`否`), enums and
//! dates are typed by the validator, which then reports errors at the cell — except
//! that `year` is read as an integer (with `raw`, as the YAML loader does), dates
//! written `2024/4/30`, `2024.4.30` or `2024年4月30日` (or with a time of day after
//! them) are rewritten `2024-04-30`, and list columns are split into sequences.
//!
//! # Reading rules
//!
//! * The header is the first non-blank row. Header names are English field names,
//!   their Chinese names, or the other names platform exports use, listed in the
//!   vocabulary's `records` (统一社会信用代码/社会信用代码/信用代码, 检查结束日期, 录入时间,
//!   执法人员, 公示时间 …; [`vocabulary`]); matching ignores case, spaces anywhere, `_` and `-`, a
//!   leading or trailing `*` (a "required" mark), full-width forms (`ＴＡＳＫ`, `（）`,
//!   `【】`, the ideographic space) and **one trailing bracketed note**: `检查人员（ID）`,
//!   `检查完成日期(YYYY-MM-DD)` and `是否发现问题【是/否】` are the columns
//!   `inspectors`, `finished_on` and `problem`.
//! * The kind comes from a `kind`/`类型` column (first non-empty cell; `Results` or
//!   `抽查结果` and so on), otherwise from the headers: `task` and `object` make a
//!   Results table, `certificate` or `qualification` a PersonnelLibrary, `uscc` or
//!   `risk_level` an ObjectLibrary. Failing those (or when the published vocabulary
//!   knows more of the headers), a published plan or item list (title rows, then 序号,
//!   抽查任务名称/抽查事项, 抽查比例及频次/发起部门/检查对象 …) is read as one `Plan` or
//!   `ItemList` by the `plantable` module: header row found under title rows, meanings
//!   from the [`vocabulary`] and an optional `<table>.columns.yaml` sidecar, 〃 and
//!   merged cells, notes on how it was read ([`read_table`]).
//! * An unknown header is an error at its cell with a did-you-mean; so is a column
//!   that belongs to another kind and a column given twice. A missing `department`
//!   (and for Results `year` and `task`) column is an error at the header row.
//! * Rows are grouped into one document per `department` (libraries) or per
//!   (`department`, `year`, `task`) (Results), in order of first appearance; an empty
//!   cell in one of those columns is an error at that cell. `updated_on` (and a
//!   PersonnelLibrary's `roster`) is taken from the first row that gives it; a row of
//!   the same document giving another value is an error at that cell. A row with
//!   document fields only creates the document without adding a record.
//! * Empty (or blank) cells are absent values. Blank rows are skipped. List columns
//!   (`inspectors`, `expertise`, `tags`, `roster`) split on `;` `；` `、` `,` `，` and line
//!   breaks; each item keeps its own span.
//! * CSV rows must have as many cells as the header has columns (up to its last
//!   non-empty header cell): fewer cells is an error at the row, and a non-empty cell
//!   beyond the header (or under an empty header cell) is an error at that cell;
//!   empty trailing cells, as spreadsheet programs export them, are accepted.
//! * CSV is decoded by [`SourceFile::decode`] (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
//!   GB18030/GBK), comma-separated, or tab-separated when the header line has tabs and
//!   no comma. Bytes that start like a workbook (ZIP or OLE signature) are read as a
//!   workbook even when `is_xlsx` is false.
//! * Workbooks: every visible, non-empty worksheet is a table of its own (hidden
//!   sheets, which templates use for drop-down lists, and chart sheets are skipped).
//!   Date-formatted cells become `YYYY-MM-DD`; whole numbers lose their `.0`; an Excel
//!   error value (`#N/A`) in a used column is an error at its cell (in a published
//!   table, a blank with a note). A cell inside a merged region knows the region's value
//!   and first cell, and published tables read it as merged. A sheet that is no table
//!   of any kind (instructions, lists) is skipped with a note when another is read.
//!
//! # Positions
//!
//! Every value node's `span` covers its cell (for list items: the item inside the cell).
//! A record map's span is its row's first non-empty cell; values inside a record have
//! `key_span` = their own cell (the header is the key, but [`Tree::report_span`] shows
//! lists and mappings at their key, and a finding must stay on its row). The root map,
//! `kind` (when not given by a column) and the record list's `key_span` are the header
//! row; document fields (`department`, `year`, …) have their value at the cell of the
//! document's first row and their `key_span` at their header cell.
//!
//! * **CSV**: spans are byte ranges in the decoded text (`SourceFile::text`), so
//!   `line_col` gives the physical line (= row, unless an earlier quoted cell holds a
//!   line break) and the cell's character column. Field offsets are found by walking
//!   the raw record from the byte position the `csv` crate reports, with quoted fields;
//!   spans of quoted cells cover the text inside the quotes.
//! * **Workbooks**: each sheet gets a synthetic [`SourceFile`] named `{path}!{sheet}`
//!   whose line *n* is sheet row *n*, cells separated by one tab each (`\t`, `\n`, `\r`
//!   inside a cell are shown as spaces, same byte length), so that miette shows the row
//!   as the snippet. The cell under a span is recovered from its line (the row) and the
//!   number of tabs before it on that line (the column): [`cell_ref`] turns a diagnostic's
//!   offset into `Sheet1!C12`, and [`cell_name`] formats a (sheet, row, column).

mod flat;
mod library;
pub mod workbook_limits;
pub use flat::{FieldCache, FlatChunk, FlatGroup, Part, RowField, Spare};

use std::collections::{HashMap, VecDeque};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::OnceLock;

use calamine::{Data, Reader, SheetType, SheetVisible, Sheets};
use rhai::ImmutableString;

use crate::parse::source::{Decoded, SourceFile};
use crate::parse::tree::{Key, Node, NodeId, Span, Tree, Value};
use crate::parse::yaml::LoadError;
use crate::schema;

mod plantable;
pub mod vocabulary;

pub use vocabulary::Vocabulary;

/// What tables are read with, besides their bytes: document fields the command line
/// gives (`--department`, `--year`) and the header vocabulary (the shipped one, or a
/// policy's extension of it).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub department: Option<String>,
    pub year: Option<i64>,
    pub vocabulary: Option<Arc<Vocabulary>>,
    /// CSV files from this size (bytes) on are mapped rather than read; None: the
    /// default (see `read::input`).
    pub map_from: Option<u64>,
}

impl ReadOptions {
    pub fn vocabulary(&self) -> &Vocabulary {
        self.vocabulary
            .as_deref()
            .unwrap_or_else(|| vocabulary::shipped())
    }
}

/// A note on how a table was read (a header read as a close spelling, a column kept as
/// text, a period left open), positioned like a [`TableError`].
#[derive(Debug, Clone)]
pub struct TableNote {
    pub source: Arc<SourceFile>,
    pub span: Span,
    pub en: String,
    pub zh: String,
}

/// The documents of a table and the notes on how it was read.
#[derive(Debug, Default)]
pub struct TableRead {
    pub trees: Vec<Tree>,
    pub notes: Vec<TableNote>,
    /// The documents were validated as they were read (a plain library table): they
    /// need not be again.
    pub validated: bool,
}

/// The columns of a published table as its reader sees them.
#[derive(Debug, Clone)]
pub struct TableMeanings {
    /// The table's file (or worksheet, `file.xlsx!Sheet1`).
    pub table: String,
    /// `Plan` or `ItemList`.
    pub kind: &'static str,
    /// Each column's header as shown and what it means (`ratio`, `note`, …).
    pub columns: Vec<(String, &'static str)>,
}

/// Problems reported per table before reading stops: enough to fix a broken export,
/// not a flood.
pub const MAX_ERRORS: usize = 100;
/// Unknown columns given a "did you mean" (the first ones).
const SUGGESTED_COLUMNS: usize = 100;
/// Size of the text shown for one worksheet; larger sheets are refused.
pub const MAX_SHEET_TEXT: usize = 512 * 1024 * 1024;

/// A problem in a table, with the file it is positioned in: the decoded CSV, or the
/// synthetic text of one worksheet (`path!Sheet1`). Problems that have no place (bytes
/// that are no text, a file that is no workbook) carry an empty `SourceFile` named
/// `path_shown` and the span `0..0`. For a diagnostic:
/// `crate::read::input::input_error(&e.source, &e.error)`.
#[derive(Debug, Clone)]
pub struct TableError {
    pub source: Arc<SourceFile>,
    pub error: LoadError,
}

/// Reads a CSV file (UTF-8, UTF-8 BOM, UTF-16 BOM, GB18030/GBK) or a workbook
/// (`is_xlsx`: XLSX/XLSM, XLS, XLSB or ODS, recognised from the bytes) into documents,
/// one per department (and for Results per year and task), in order of first
/// appearance. Each tree's `source` is the file's (or worksheet's) text.
///
/// On any problem no documents are returned, but every problem found (up to
/// [`MAX_ERRORS`] per table) is, each with its source and span. Values are not typed
/// here: run [`crate::schema::validate`] on each tree as for YAML documents.
pub fn load_table(
    path_shown: &str,
    bytes: &[u8],
    is_xlsx: bool,
) -> Result<Vec<Tree>, Vec<TableError>> {
    read_table(path_shown, bytes, is_xlsx, &ReadOptions::default()).map(|read| read.trees)
}

/// [`load_table`] with the command line's document fields and a vocabulary, and the
/// notes on how the table was read.
pub fn read_table(
    path_shown: &str,
    bytes: &[u8],
    is_xlsx: bool,
    options: &ReadOptions,
) -> Result<TableRead, Vec<TableError>> {
    let sidecar = plantable::read_sidecar(path_shown)?;
    let cx = plantable::Context {
        path_shown,
        sidecar: sidecar.as_ref(),
        options,
    };
    if is_xlsx || looks_like_workbook(bytes) {
        load_workbook(path_shown, bytes, &cx)
    } else {
        load_csv(path_shown, bytes, &cx)
    }
}

/// What each column of a published table (plan or item list) means, per worksheet:
/// how the reader recognises the header set, without building the documents.
pub fn column_meanings(
    path_shown: &str,
    bytes: &[u8],
    is_xlsx: bool,
    options: &ReadOptions,
) -> Result<Vec<TableMeanings>, Vec<TableError>> {
    let sidecar = plantable::read_sidecar(path_shown)?;
    let cx = plantable::Context {
        path_shown,
        sidecar: sidecar.as_ref(),
        options,
    };
    let mut tables: Vec<(Arc<SourceFile>, Vec<RawRow>)> = Vec::new();
    if is_xlsx || looks_like_workbook(bytes) {
        for (name, cells) in workbook_sheets(path_shown, bytes)? {
            let shown = format!("{path_shown}!{name}");
            let (source, rows) =
                sheet_rows(&shown, cells).map_err(|e| vec![unplaced(&shown, e)])?;
            tables.push((source, rows));
        }
    } else {
        let source =
            SourceFile::decode(path_shown, bytes).map_err(|e| vec![undecodable(path_shown, &e)])?;
        let rows: Result<Vec<RawRow>, LoadError> =
            CsvRows::new(&source.text, sniff_delimiter(&source.text)).collect();
        let rows = rows.map_err(|e| attach(&source, vec![e]))?;
        tables.push((source, rows));
    }
    let mut out = Vec::new();
    for (source, rows) in tables {
        if let Some((section, columns)) =
            plantable::meanings(&rows, &cx).map_err(|e| attach(&source, e))?
        {
            out.push(TableMeanings {
                table: source.name.to_string(),
                kind: section.kind(),
                columns,
            });
        }
    }
    Ok(out)
}

/// `Sheet1!C12` for 1-based `row` and `col`; sheet names other than letters, digits
/// and `_` are quoted as Excel does (`'My sheet'!A1`).
pub fn cell_name(sheet: &str, row: usize, col: usize) -> String {
    let plain = !sheet.is_empty() && sheet.chars().all(|c| c.is_alphanumeric() || c == '_');
    let sheet = if plain {
        sheet.to_owned()
    } else {
        format!("'{}'", sheet.replace('\'', "''"))
    };
    format!("{sheet}!{}{row}", column_letters(col))
}

/// Spreadsheet column letters of a 1-based column: 1 → `A`, 27 → `AA`.
pub fn column_letters(col: usize) -> String {
    let mut n = col;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The cell (`Sheet1!C12`) at byte `offset` of a worksheet source made by
/// [`load_table`] from the workbook shown as `path_shown`; `None` for other sources.
/// The row is the offset's line, the column one more than the tabs before it.
pub fn cell_ref(path_shown: &str, source: &SourceFile, offset: usize) -> Option<String> {
    let sheet = source.name.strip_prefix(path_shown)?.strip_prefix('!')?;
    let offset = offset.min(source.text.len());
    let (line, _) = source.line_col(offset);
    let start = source.offset_of(line, 0);
    let tabs = source.text.get(start..offset)?.matches('\t').count();
    Some(cell_name(sheet, line, tabs + 1))
}

/// Cell names of a CSV table's text (`B7`: column B of its 7th record, as a spreadsheet
/// program opening the file shows it), with the records found once.
#[derive(Debug)]
pub struct CsvCells {
    ends: Vec<u32>,
    delimiter: u8,
}

impl CsvCells {
    pub fn of(source: &SourceFile) -> CsvCells {
        let delimiter = sniff_delimiter(&source.text);
        CsvCells {
            ends: record_ends(source.text.as_bytes(), delimiter),
            delimiter,
        }
    }

    /// The cell holding byte `offset` of the table's text.
    pub fn cell(&self, source: &SourceFile, offset: usize) -> Option<String> {
        let record = self.ends.partition_point(|&end| end as usize <= offset);
        let start = match record {
            0 => 0,
            n => *self.ends.get(n - 1)? as usize,
        };
        let fields = walk_fields(source.text.as_bytes(), start, self.delimiter);
        let field = fields.iter().position(|f| offset <= f.end)?;
        Some(format!("{}{}", column_letters(field + 1), record + 1))
    }
}

/// The cell name (`C7`) of byte `offset` of a table's source: a worksheet of a
/// workbook (`file.xlsx!Sheet1`) or a CSV file; None for other sources.
pub fn cell_of(source: &SourceFile, offset: usize, csv: Option<&CsvCells>) -> Option<String> {
    let workbook = source.name.rfind('!').filter(|i| {
        let path = source.name[..*i].to_ascii_lowercase();
        [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
            .iter()
            .any(|e| path.ends_with(e))
    });
    if let Some(i) = workbook {
        let full = cell_ref(&source.name[..i], source, offset)?;
        return full.rsplit('!').next().map(str::to_owned);
    }
    let lower = source.name.to_ascii_lowercase();
    if !(lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt")) {
        return None;
    }
    match csv {
        Some(cells) => cells.cell(source, offset),
        None => CsvCells::of(source).cell(source, offset),
    }
}

/// Where a note is, as `file:line:column (C7)`.
pub fn note_place(note: &TableNote) -> String {
    if note.span == Span::default() && note.source.text.is_empty() {
        return note.source.name.to_string();
    }
    let offset = note.span.start as usize;
    let (line, col) = note.source.line_col(offset);
    match cell_of(&note.source, offset, None) {
        Some(cell) => format!("{}:{line}:{col} ({cell})", note.source.name),
        None => format!("{}:{line}:{col}", note.source.name),
    }
}

// ---------------------------------------------------------------------------------
// Columns

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    Int,
    Date,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Kind,
    Doc,
    Record,
}

#[derive(Debug)]
struct Column {
    /// The column's English header name.
    id: &'static str,
    /// Its Chinese header names.
    zh: &'static [&'static str],
    /// The key in the document (`publication` for `publication_channel`).
    key: &'static str,
    /// The key inside `key` for flattened nested fields.
    sub: Option<&'static str>,
    shape: Shape,
    place: Place,
}

const fn col(id: &'static str, zh: &'static [&'static str], shape: Shape, place: Place) -> Column {
    Column {
        id,
        zh,
        key: id,
        sub: None,
        shape,
        place,
    }
}

const fn nested(
    id: &'static str,
    zh: &'static [&'static str],
    key: &'static str,
    sub: &'static str,
    shape: Shape,
) -> Column {
    Column {
        id,
        zh,
        key,
        sub: Some(sub),
        shape,
        place: Place::Record,
    }
}

use Place::{Doc, Record};
use Shape::{Date, Int, List, Text};

const COLUMNS: &[Column] = &[
    col("kind", &["类型"], Text, Place::Kind),
    col("department", &["部门"], Text, Doc),
    col("updated_on", &["更新日期"], Date, Doc),
    col("year", &["年度"], Int, Doc),
    col("task", &["抽查任务"], Text, Doc),
    col("roster", &["在编执法人员"], List, Doc),
    // Results records
    col("object", &["检查对象"], Text, Record),
    col("entity_type", &["主体类型"], Text, Record),
    col("inspectors", &["检查人员"], List, Record),
    col("finished_on", &["检查完成日期"], Date, Record),
    col("outcome", &["检查结果"], Text, Record),
    col("problem", &["是否发现问题"], Text, Record),
    col("crime_suspected", &["是否涉嫌犯罪"], Text, Record),
    col("entered_on", &["录入日期"], Date, Record),
    nested(
        "publication_channel",
        &["公示渠道"],
        "publication",
        "channel",
        Text,
    ),
    nested(
        "published_on",
        &["公示日期"],
        "publication",
        "published_on",
        Date,
    ),
    nested(
        "follow_up_action",
        &["后续处置措施"],
        "follow_up",
        "action",
        Text,
    ),
    nested(
        "follow_up_responsible",
        &["后续处置责任部门"],
        "follow_up",
        "responsible",
        Text,
    ),
    nested(
        "follow_up_done_on",
        &["后续处置日期"],
        "follow_up",
        "done_on",
        Date,
    ),
    // ObjectLibrary and PersonnelLibrary records
    col("uscc", &["统一社会信用代码"], Text, Record),
    col("id", &["编号", "人员编号"], Text, Record),
    col("name", &["名称", "姓名"], Text, Record),
    col("licence_category", &["许可类别"], Text, Record),
    col("industry", &["所处行业"], Text, Record),
    col("risk_level", &["风险等级"], Text, Record),
    col("tags", &["标签"], List, Record),
    col("certificate", &["执法证号"], Text, Record),
    col("qualification", &["执法资质"], Text, Record),
    col("expertise", &["业务专长"], List, Record),
    col("active", &["在岗"], Text, Record),
];

fn column(id: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.id == id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableKind {
    ObjectLibrary,
    PersonnelLibrary,
    Results,
}

const TABLE_KINDS: [TableKind; 3] = [
    TableKind::ObjectLibrary,
    TableKind::PersonnelLibrary,
    TableKind::Results,
];

impl TableKind {
    fn name(self) -> &'static str {
        match self {
            TableKind::ObjectLibrary => "ObjectLibrary",
            TableKind::PersonnelLibrary => "PersonnelLibrary",
            TableKind::Results => "Results",
        }
    }

    fn zh(self) -> &'static str {
        schema::kind_schema(self.name()).map_or("", |k| k.zh)
    }

    fn records_key(self) -> &'static str {
        schema::kind_schema(self.name()).map_or("records", |k| k.records)
    }

    /// The kind's columns; record columns in the order of the YAML form.
    fn columns(self) -> &'static [&'static str] {
        match self {
            TableKind::ObjectLibrary => &[
                "kind",
                "department",
                "updated_on",
                "uscc",
                "id",
                "name",
                "entity_type",
                "licence_category",
                "industry",
                "risk_level",
                "tags",
            ],
            TableKind::PersonnelLibrary => &[
                "kind",
                "department",
                "updated_on",
                "roster",
                "id",
                "name",
                "certificate",
                "qualification",
                "expertise",
                "active",
            ],
            TableKind::Results => &[
                "kind",
                "department",
                "year",
                "task",
                "object",
                "entity_type",
                "inspectors",
                "finished_on",
                "outcome",
                "problem",
                "crime_suspected",
                "entered_on",
                "publication_channel",
                "published_on",
                "follow_up_action",
                "follow_up_responsible",
                "follow_up_done_on",
            ],
        }
    }

    /// The columns that tell documents apart (and are required).
    fn key_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Results => &["department", "year", "task"],
            _ => &["department"],
        }
    }

    /// Document fields taken from the first row that gives them.
    fn shared_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::ObjectLibrary => &["updated_on"],
            TableKind::PersonnelLibrary => &["updated_on", "roster"],
            TableKind::Results => &[],
        }
    }

    fn detect(has: impl Fn(&str) -> bool) -> Option<TableKind> {
        if has("task") && has("object") {
            Some(TableKind::Results)
        } else if has("certificate") || has("qualification") {
            Some(TableKind::PersonnelLibrary)
        } else if has("uscc") || has("risk_level") {
            Some(TableKind::ObjectLibrary)
        } else {
            None
        }
    }
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '【' | '〔' => '[',
        '】' | '〕' => ']',
        _ => c,
    }
}

/// A header as typed, trimmed and with full-width forms made ASCII (for messages).
fn clean_header(text: &str) -> String {
    let ascii: String = text.chars().map(fullwidth_to_ascii).collect();
    ascii.trim().to_owned()
}

/// The form headers are compared in.
fn normalise_header(text: &str) -> String {
    let cleaned = clean_header(text);
    let mut t = cleaned.trim_matches(|c: char| c == '*' || c.is_whitespace());
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner) = t.strip_suffix(close) {
            if let Some(i) = inner.rfind(open) {
                if !inner[..i].trim().is_empty() {
                    t = inner[..i].trim_end();
                }
            }
        }
    }
    t.trim_matches(|c: char| c == '*' || c.is_whitespace())
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn header_lookup() -> &'static HashMap<String, &'static Column> {
    static LOOKUP: std::sync::OnceLock<HashMap<String, &'static Column>> =
        std::sync::OnceLock::new();
    LOOKUP.get_or_init(|| {
        let mut map = HashMap::new();
        for c in COLUMNS {
            map.insert(normalise_header(c.id), c);
            for zh in c.zh {
                map.insert(normalise_header(zh), c);
            }
        }
        // The other names platform exports use, from the shipped vocabulary.
        for (id, names) in &vocabulary::shipped().records {
            let Some(c) = column(id) else { continue };
            for name in names {
                map.entry(normalise_header(name)).or_insert(c);
            }
        }
        map
    })
}

fn parse_kind(text: &str) -> Result<TableKind, (String, String)> {
    let n = normalise_header(text);
    for kind in TABLE_KINDS {
        if n == normalise_header(kind.name()) || n == normalise_header(kind.zh()) {
            return Ok(kind);
        }
    }
    if let Some(other) = schema::KINDS
        .iter()
        .find(|k| n == normalise_header(k.kind) || n == normalise_header(k.zh))
    {
        return Err((
            format!(
                "a {} is not read from tables; tables hold ObjectLibrary, PersonnelLibrary or Results",
                other.kind
            ),
            format!(
                "{}（{}）不能以表格提供；表格只用于 ObjectLibrary、PersonnelLibrary、Results",
                other.zh, other.kind
            ),
        ));
    }
    let hint = schema::suggest(text, TABLE_KINDS.iter().map(|k| k.name()));
    Err((
        format!(
            "unknown kind `{text}`{hint} (tables hold ObjectLibrary, PersonnelLibrary or Results)"
        ),
        format!(
            "未知的文档类型 `{text}`{}（表格可为 ObjectLibrary、PersonnelLibrary、Results）",
            zh_hint(&hint)
        ),
    ))
}

fn zh_hint(hint: &str) -> String {
    hint.replace("; did you mean", "；是否应为")
        .replace('?', "？")
}

// ---------------------------------------------------------------------------------
// Rows, as both sources give them

#[derive(Debug, Clone)]
struct RawCell {
    /// The value, trimmed.
    text: String,
    /// Where it is shown: the trimmed text when `direct`, otherwise the whole cell.
    span: Span,
    /// `text` is byte for byte the source at `span` (so list items can be placed).
    direct: bool,
    /// An Excel error value (`#N/A`), shown as `text`.
    excel_error: bool,
    /// Inside a workbook's merged region (not its first cell): the region's value and
    /// where it is written. The cell itself is blank.
    merged: Option<Box<(String, Span)>>,
}

impl RawCell {
    fn is_empty(&self) -> bool {
        self.text.is_empty() && !self.excel_error
    }
}

#[derive(Debug, Clone)]
struct RawRow {
    cells: Vec<RawCell>,
    /// The whole row (first to last cell).
    span: Span,
}

impl RawRow {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(RawCell::is_empty)
    }

    /// The first non-empty cell, or the row.
    fn first_span(&self) -> Span {
        self.cells
            .iter()
            .find(|c| !c.is_empty())
            .map_or(self.span, |c| c.span)
    }

    /// From the first to the last non-empty cell.
    fn used_span(&self) -> Span {
        let mut used = self.cells.iter().filter(|c| !c.is_empty());
        match (used.next(), self.cells.iter().rev().find(|c| !c.is_empty())) {
            (Some(first), Some(last)) => Span {
                start: first.span.start,
                end: last.span.end.max(first.span.start),
            },
            _ => self.span,
        }
    }
}

/// Whether `text` may start with white space: a byte that starts no white-space
/// character (a Chinese character's first byte among them) settles it undecoded.
fn may_start_with_space(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(&b) if b < 0x80 => b.is_ascii_whitespace() || b == 0x0B,
        // The first bytes of U+0085, U+00A0, U+1680, U+2000–U+205F and U+3000.
        Some(&b) => matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3),
    }
}

/// Whether `text` may end with white space: its last character is decoded only when
/// its last bytes may be one of the white-space characters beyond ASCII.
fn may_end_with_space(text: &str) -> bool {
    let b = text.as_bytes();
    match b {
        [] => false,
        [.., z] if *z < 0x80 => z.is_ascii_whitespace() || *z == 0x0B,
        // U+0085 and U+00A0 end C2 85 and C2 A0; U+1680, U+2000–U+205F and U+3000 are
        // three bytes starting E1, E2 or E3. A Chinese character starts E4–E9.
        [.., 0xC2, _] => true,
        [.., 0xE1..=0xE3, _, _] => text.chars().next_back().is_some_and(char::is_whitespace),
        _ => false,
    }
}

/// `cell.trim()`, decoding characters only where an end may be white space: most cells
/// of a large table start and end with visible ASCII or a Chinese character.
#[inline]
fn trim_cell(cell: &str) -> &str {
    if may_start_with_space(cell) || may_end_with_space(cell) {
        cell.trim()
    } else {
        cell
    }
}

/// A cell that is the text at `base` as it stands.
fn plain_cell(value: &str, base: usize) -> RawCell {
    let trimmed = value.trim_start();
    let lead = value.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    RawCell {
        text: trimmed.to_owned(),
        span: Span::new(base + lead, base + lead + trimmed.len()),
        direct: true,
        excel_error: false,
        merged: None,
    }
}

/// A cell whose trimmed `value` is the source text at `base..base + value.len()`.
fn direct_cell(text: &str, value: &str, base: usize) -> RawCell {
    if text.get(base..base + value.len()) == Some(value) {
        plain_cell(value, base)
    } else {
        // The value read differs from the text (quotes, a second byte-order mark): the
        // span covers as many bytes, ending on a character of the text.
        let mut end = (base + value.len()).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        RawCell {
            text: value.trim().to_owned(),
            span: Span::new(base, end.max(base)),
            direct: false,
            excel_error: false,
            merged: None,
        }
    }
}

fn error(
    code: &'static str,
    span: Span,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> LoadError {
    LoadError {
        code,
        span,
        en: en.into(),
        zh: zh.into(),
    }
}

// ---------------------------------------------------------------------------------
// CSV

fn load_csv(
    path_shown: &str,
    bytes: &[u8],
    cx: &plantable::Context,
) -> Result<TableRead, Vec<TableError>> {
    let source =
        SourceFile::decode(path_shown, bytes).map_err(|e| vec![undecodable(path_shown, &e)])?;
    let delimiter = sniff_delimiter(&source.text);
    let rows = CsvRows::new(&source.text, delimiter);
    let rows_hint = memchr::memchr_iter(b'\n', source.text.as_bytes()).count();
    let mut read = ReadOut::default();
    let trees = build_table(&source, rows, true, Some(cx), rows_hint, &mut read)
        .map_err(|errors| attach(&source, errors))?;
    Ok(TableRead {
        trees,
        notes: attach_notes(&source, read.notes),
        validated: false,
    })
}

fn attach_notes(source: &Arc<SourceFile>, notes: Vec<plantable::Note>) -> Vec<TableNote> {
    notes
        .into_iter()
        .map(|n| TableNote {
            source: Arc::clone(source),
            span: n.span,
            en: n.en,
            zh: n.zh,
        })
        .collect()
}

/// Rows per chunk of a streamed table: enough to keep threads busy, few enough that a
/// chunk's documents stay small.
pub const CHUNK_ROWS: usize = 16_384;

/// A CSV table read chunk by chunk: the decoded text stays (diagnostics quote it), the
/// documents of each chunk are built, checked and dropped in turn.
#[derive(Debug)]
pub struct CsvTable {
    pub source: Arc<SourceFile>,
    delimiter: u8,
    /// The header record, and its cells (read once: a csv reader is costly to make).
    header: (usize, usize),
    header_row: Option<RawRow>,
    /// Where each record after the header ends.
    ends: Vec<u32>,
    /// The columns, when rows can be read in place ([`flat`]).
    flat: Option<flat::Layout>,
    /// A builder of single rows' documents, made once (see [`Self::validated_tree`]).
    row_builder: OnceLock<Option<(Builder, Columns)>>,
}

impl CsvTable {
    /// Decodes the file and cuts it into chunks of [`CHUNK_ROWS`] records, minding
    /// quoted fields that hold line breaks.
    pub fn open(path_shown: &str, bytes: Vec<u8>) -> Result<CsvTable, Vec<TableError>> {
        let cut = |text: &str| {
            let delimiter = sniff_delimiter(text);
            (delimiter, record_ends(text.as_bytes(), delimiter))
        };
        let (source, (delimiter, ends)) = SourceFile::decode_owned(path_shown, bytes, cut)
            .map_err(|e| vec![undecodable(path_shown, &e)])?;
        Ok(Self::of(source, delimiter, ends))
    }

    /// As [`Self::open`], a plain UTF-8 file mapped rather than read (see
    /// [`SourceFile::map_utf8`]): `None` when it is not one, and is to be read.
    pub fn open_mapped(path_shown: &str, map: memmap2::Mmap) -> Option<CsvTable> {
        let text = map.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&map);
        let delimiter = sniff_delimiter_bytes(text)?;
        let mut cutter = Cutter::default();
        let source = SourceFile::map_utf8(path_shown, map, |text, upto| {
            cutter.advance(text, delimiter, upto)
        })?;
        let ends = cutter.finish(source.text.as_bytes());
        Some(Self::of(source, delimiter, ends))
    }

    /// [`Self::open_mapped`] for a GB18030 (GBK) file, decoded into a file of its own
    /// and cut into records in the same pass (see [`SourceFile::map_gb18030`]): `None`
    /// when it is not one, and is to be read.
    pub fn open_gb18030(path_shown: &str, raw: &memmap2::Mmap, max: usize) -> Option<CsvTable> {
        let mut cutter = Cutter::default();
        let mut delimiter: Option<Option<u8>> = None;
        let source = SourceFile::map_gb18030(path_shown, raw, max, |decoded| {
            // Told by the first line that is not blank, which may come in a later block.
            if delimiter.is_none() {
                delimiter = match decoded {
                    Decoded::Written { text, whole } => {
                        first_line_delimiter(text).or(whole.then_some(Some(b',')))
                    }
                    Decoded::Block { text, start: 0, .. } => first_line_delimiter(text),
                    Decoded::Block { .. } => None,
                };
            }
            let Some(Some(delimiter)) = delimiter else {
                return;
            };
            match decoded {
                Decoded::Written { text, whole } => {
                    cutter.advance_part(text, delimiter, text.len(), whole);
                }
                Decoded::Block { text, start, last } => {
                    cutter.advance_block(text, start, delimiter, last);
                }
            }
        })?;
        let delimiter = delimiter.flatten()?;
        let ends = cutter.finish(source.text.as_bytes());
        Some(Self::of(source, delimiter, ends))
    }

    fn of(source: Arc<SourceFile>, delimiter: u8, ends: Vec<u32>) -> CsvTable {
        // The header is the first record that is not blank.
        let text = source.text.as_bytes();
        let mut start = 0;
        let mut header = (0, 0);
        let mut first_row = ends.len();
        for (i, &end) in ends.iter().enumerate() {
            let end = end as usize;
            if text[start..end].iter().any(|b| !b.is_ascii_whitespace()) {
                header = (start, end);
                first_row = i + 1;
                break;
            }
            start = end;
        }
        let mut ends = ends;
        ends.drain(..first_row.min(ends.len()));
        ends.shrink_to_fit();
        let header_row = CsvRows::range(&source.text, header.0, header.1, delimiter)
            .next()
            .and_then(Result::ok);
        let flat = header_row.as_ref().and_then(flat::Layout::of);
        CsvTable {
            source,
            delimiter,
            header,
            header_row,
            ends,
            flat,
            row_builder: OnceLock::new(),
        }
    }

    /// Whether the table may hold results, by its header: it has a `kind` column, or
    /// the columns of a Results table. Any other is read whole, without a first look
    /// at its first chunk.
    pub fn may_hold_results(&self) -> bool {
        let Some(header) = &self.header_row else {
            return true;
        };
        let columns = Columns::of(header);
        let has = |id: &str| columns.found.iter().flatten().any(|c| c.id == id);
        has("kind") || TableKind::detect(has) == Some(TableKind::Results)
    }

    /// Byte ranges of runs of `rows` whole records, the last few shorter: cores take
    /// runs in turn, and a last run as long as the others would keep one core busy
    /// while the others wait.
    pub fn chunks(&self, rows: usize) -> Vec<(usize, usize)> {
        const SHORTER: usize = 8;
        let rows = rows.max(1);
        let tail = rows
            .saturating_mul(rayon::current_num_threads())
            .min(self.ends.len());
        let (body, tail) = self.ends.split_at(self.ends.len() - tail);
        let mut chunks = Vec::new();
        let mut start = self.header.1;
        for piece in body
            .chunks(rows)
            .chain(tail.chunks((rows / SHORTER).max(1)))
        {
            if let Some(&end) = piece.last() {
                chunks.push((start, end as usize));
                start = end as usize;
            }
        }
        chunks
    }

    /// The documents of the records in `range` (from [`Self::chunks`]), read as
    /// [`load_table`] reads a whole table: header first, positions in the whole file.
    pub fn chunk(&self, range: (usize, usize)) -> Result<Vec<Tree>, Vec<TableError>> {
        let text = &self.source.text;
        let header = match &self.header_row {
            Some(row) => Box::new(std::iter::once(Ok(row.clone())))
                as Box<dyn Iterator<Item = Result<RawRow, LoadError>>>,
            None => Box::new(CsvRows::range(
                text,
                self.header.0,
                self.header.1,
                self.delimiter,
            )),
        };
        let records = self.record_ranges(range).filter_map(move |range| {
            let line = text[range.0..range.1].trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                // The csv reader skips empty lines too.
                return None;
            }
            Some(match unquoted_row(text, range.0, self.delimiter) {
                Some(row) => Ok(row),
                None => CsvRows::range(text, range.0, range.1, self.delimiter).next()?,
            })
        });
        let rows = header.chain(records);
        match build_table(&self.source, rows, true, None, 0, &mut ReadOut::default()) {
            // Blank rows only: nothing here, which the whole table may well have.
            Err(errors) if errors.iter().all(|e| e.code == "input/empty") => Ok(Vec::new()),
            result => result.map_err(|errors| attach(&self.source, errors)),
        }
    }

    /// The documents of the whole table, as [`load_table`] reads a CSV table.
    pub fn into_trees(self) -> Result<Vec<Tree>, Vec<TableError>> {
        self.read_whole(&ReadOptions::default())
            .map(|read| read.trees)
    }

    /// The documents of the whole table and the notes on reading it, as
    /// [`read_table`] reads a CSV table.
    pub fn read_whole(self, options: &ReadOptions) -> Result<TableRead, Vec<TableError>> {
        let path_shown = self.source.name.clone();
        let sidecar = plantable::read_sidecar(&path_shown)?;
        let cx = plantable::Context {
            path_shown: &path_shown,
            sidecar: sidecar.as_ref(),
            options,
        };
        if sidecar.is_none() {
            if let Some(trees) = library::read_plain(&self) {
                return Ok(TableRead {
                    trees,
                    notes: Vec::new(),
                    validated: true,
                });
            }
        }
        let rows = CsvRows::new(&self.source.text, self.delimiter);
        let mut read = ReadOut::default();
        let trees = build_table(
            &self.source,
            rows,
            true,
            Some(&cx),
            self.ends.len(),
            &mut read,
        )
        .map_err(|errors| attach(&self.source, errors))?;
        Ok(TableRead {
            trees,
            notes: attach_notes(&self.source, read.notes),
            validated: false,
        })
    }

    /// The records in `range` (from [`Self::chunks`]), each as a byte range.
    fn record_ranges(&self, range: (usize, usize)) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (start, end) = range;
        let first = self.ends.partition_point(|&e| e as usize <= start);
        let last = self.ends.partition_point(|&e| e as usize <= end);
        let mut record_start = start;
        self.ends[first..last].iter().map(move |&record_end| {
            let record_end = record_end as usize;
            let range = (record_start, record_end);
            record_start = record_end;
            range
        })
    }

    /// The document of the record at `range` (one [`FlatChunk`] read in place),
    /// validated as a loaded document is; `None` when it gives none or is not valid.
    pub fn validated_tree(&self, range: (usize, usize)) -> Option<Tree> {
        let (template, columns) = self
            .row_builder
            .get_or_init(|| {
                let header = self.header_row.as_ref()?;
                let columns = Columns::of(header);
                let has = |id: &str| columns.found.iter().flatten().any(|c| c.id == id);
                let kind = TableKind::detect(has);
                let builder = Builder::for_header(header, &columns, kind, None, Vec::new());
                Some((builder.ok()?, columns))
            })
            .as_ref()?;
        let text = &self.source.text;
        let row = match unquoted_row(text, range.0, self.delimiter) {
            Some(row) => row,
            None => CsvRows::range(text, range.0, range.1, self.delimiter)
                .next()?
                .ok()?,
        };
        let mut builder = template.clone();
        builder
            .row(&row, &columns.found, columns.width, true)
            .ok()?;
        if !builder.errors.is_empty() {
            return None;
        }
        let mut tree = builder.finish(&self.source).into_iter().next()?;
        let schema = schema::kind_schema("Results")?;
        schema::validate(&mut tree, schema)
            .is_empty()
            .then_some(tree)
    }
}

/// A record without quoted fields, read straight from the text (no unescaping to do);
/// `None` when a field is quoted.
fn unquoted_row(text: &str, start: usize, delimiter: u8) -> Option<RawRow> {
    let bytes = text.as_bytes();
    let fields = walk_fields(bytes, start, delimiter);
    if fields.iter().any(|f| bytes.get(f.start) == Some(&b'"')) {
        return None;
    }
    let cells = fields
        .iter()
        .map(|f| direct_cell(text, text.get(f.start..f.end).unwrap_or_default(), f.start))
        .collect();
    let span = Span::new(
        fields.first().map_or(start, |f| f.start),
        fields.last().map_or(start, |f| f.end),
    );
    Some(RawRow { cells, span })
}

/// The byte offset just past each record: after its line break, where that break is
/// outside quotes (csv-core's reading: a quote opens a quoted field only as the first
/// byte of a field, `""` inside one is a quote). Offsets are u32, as spans are: a table
/// is at most 4 GiB.
/// Ends the record at the line break at `at`, unless the line is empty: empty lines
/// are no records (the csv reader skips them too), a CRLF one as an LF one (a mapped
/// text keeps its CRs).
fn end_record(text: &[u8], at: usize, ends: &mut Vec<u32>) {
    let start = ends.last().map_or(0, |&e| e as usize);
    let content_end = if at > start && text[at - 1] == b'\r' {
        at - 1
    } else {
        at
    };
    if content_end > start {
        ends.push((at + 1) as u32);
    }
}

fn record_ends(text: &[u8], delimiter: u8) -> Vec<u32> {
    let mut cutter = Cutter::default();
    cutter.advance(text, delimiter, text.len());
    cutter.finish(text)
}

/// [`record_ends`] a part of the text at a time: a mapped table is cut as it is read.
#[derive(Default)]
struct Cutter {
    /// Where reading goes on (past a quoted field, it may be past the part read).
    i: usize,
    ends: Vec<u32>,
}

impl Cutter {
    /// Cuts the records that start before `upto`, `text` being the whole text.
    fn advance(&mut self, text: &[u8], delimiter: u8, upto: usize) {
        self.advance_part(text, delimiter, upto, true);
    }

    /// [`Self::advance`] on the text so far, `whole` once it is all there: a quoted
    /// field that runs to the end of a part is cut again from its start with the next.
    fn advance_part(&mut self, text: &[u8], delimiter: u8, upto: usize, whole: bool) {
        if self.i < upto && densely_quoted(&text[self.i..upto.min(text.len())]) {
            self.i = cut_blocks(text, delimiter, (self.i, upto), &mut self.ends);
        }
        let ends = &mut self.ends;
        let mut i = self.i;
        // Outside quotes only a line break or a quote matters, and a quote only as the
        // first byte of a field: jump from one to the next.
        while i < upto {
            let Some(found) = memchr::memchr2(b'\n', b'"', &text[i..]) else {
                i = text.len();
                break;
            };
            let at = i + found;
            if text[at] == b'\n' {
                end_record(text, at, ends);
                i = at + 1;
                continue;
            }
            let field_start = at == 0 || matches!(text[at - 1], b'\n') || text[at - 1] == delimiter;
            if !field_start {
                i = at + 1;
                continue;
            }
            // A quoted field: it ends at a quote not doubled.
            let mut j = at + 1;
            let closed = loop {
                match memchr::memchr(b'"', &text[j..]) {
                    Some(q) if text.get(j + q + 1) == Some(&b'"') => j += q + 2,
                    // A quote last in a part may be doubled by the next.
                    Some(q) if whole || j + q + 1 < text.len() => {
                        j += q + 1;
                        break true;
                    }
                    _ if whole => {
                        j = text.len();
                        break true;
                    }
                    _ => break false,
                }
            };
            if !closed {
                i = at;
                break;
            }
            i = j;
        }
        self.i = i;
    }

    /// [`Self::advance_part`] on `part`, the text from `start` on, where reading goes on
    /// at its start, after the last record: cut in it alone. Otherwise (a quoted field
    /// that runs on into it, blank lines before it) nothing is cut: the text written is
    /// cut with the next part.
    fn advance_block(&mut self, part: &[u8], start: usize, delimiter: u8, last: bool) {
        let last_end = self.ends.last().map_or(0, |&e| e as usize);
        if self.i != start || last_end != start || part.is_empty() {
            return;
        }
        let Ok(base) = u32::try_from(start) else {
            return;
        };
        // A record's end in the part, counted from its start; the last record ended
        // where it starts.
        let mut local = Cutter {
            i: 0,
            ends: vec![0],
        };
        local.advance_part(part, delimiter, part.len(), last);
        self.ends
            .extend(local.ends.iter().skip(1).map(|&e| e.saturating_add(base)));
        self.i = start + local.i;
    }

    fn finish(self, text: &[u8]) -> Vec<u32> {
        let mut ends = self.ends;
        if ends.last().map(|&e| e as usize) != Some(text.len()) && !text.is_empty() {
            ends.push(text.len() as u32);
        }
        ends
    }
}

/// Whether quotes are frequent in the part about to be cut (more than one byte in a
/// hundred of its first 64 KiB): a table whose cells are all quoted is then cut 64 bytes
/// at a time, where jumping from quote to quote would stop at every one.
fn densely_quoted(part: &[u8]) -> bool {
    let sample = &part[..part.len().min(64 << 10)];
    memchr::memchr_iter(b'"', sample).count() * 100 > sample.len()
}

/// Cuts a record (its line break taken off) into its cells at `delimiter`, 64 bytes
/// at a time, calling `cell(start, end, quotes)` with the byte range of each and the
/// quotes in it (counted up to three): one pass of a few vector instructions a block,
/// where looking for each delimiter in turn costs a call per cell. `QUOTED`:
/// delimiters and line breaks between quotes (the running parity of the quotes before
/// them) are the cell's own; else a quote stops the cutting. `false`, having stopped,
/// at a carriage return, a line break outside quotes, or where `cell` says no: such a
/// record is left to a reader that takes its fields one by one. Inlined with its
/// `cell`, which runs for every cell of a large table.
#[inline(always)]
fn cut_cells<const QUOTED: bool>(
    line: &[u8],
    delimiter: u8,
    mut cell: impl FnMut(usize, usize, u32) -> bool,
) -> bool {
    let (mut from, mut quotes) = (0, 0u32);
    // All ones while inside quotes at the start of the block.
    let mut quoted = 0u64;
    let mut block = [0u8; 64];
    for (at, piece) in (0..).step_by(64).zip(line.chunks(64)) {
        // The last piece, padded with bytes that are none of those looked for (no
        // table is cut at NUL).
        let piece: &[u8] = if piece.len() == 64 {
            piece
        } else {
            block[..piece.len()].copy_from_slice(piece);
            block[piece.len()..].fill(0);
            &block
        };
        let masks = block_masks(piece, delimiter);
        let inside = if QUOTED {
            let inside = inside_quotes(masks.quotes, quoted);
            quoted = 0u64.wrapping_sub(inside >> 63);
            inside
        } else if masks.quotes != 0 {
            return false;
        } else {
            0
        };
        if masks.carriage_returns != 0 || masks.line_breaks & !inside != 0 {
            return false;
        }
        let mut ends = masks.delimiters & !inside;
        // The bits of this block not yet in a cell; quotes counted only in a block
        // that has some.
        let mut rest = u64::MAX;
        while ends != 0 {
            let bit = ends.trailing_zeros();
            let before = (1u64 << bit) - 1;
            if QUOTED && masks.quotes != 0 {
                quotes = (quotes + up_to_three(masks.quotes & rest & before)).min(3);
            }
            if !cell(from, at + bit as usize, quotes) {
                return false;
            }
            (from, quotes) = (at + bit as usize + 1, 0);
            rest = !(before | (1u64 << bit));
            ends &= ends - 1;
        }
        if QUOTED && masks.quotes != 0 {
            quotes = (quotes + up_to_three(masks.quotes & rest)).min(3);
        }
    }
    cell(from, line.len(), quotes)
}

/// The bits set in `bits`, counted up to three: a cell's quotes tell only whether
/// there are none, a pair, or more. Cheaper than a population count, which the x86-64
/// baseline does in software.
#[inline(always)]
fn up_to_three(bits: u64) -> u32 {
    let after_one = bits & bits.wrapping_sub(1);
    let after_two = after_one & after_one.wrapping_sub(1);
    u32::from(bits != 0) + u32::from(after_one != 0) + u32::from(after_two != 0)
}

/// Whether each byte of a block is inside quotes after it, from the block's quotes and
/// whether it starts inside them (`carried`: all ones, or none): the running parity of
/// the quotes, so an opening quote is inside and a closing one not.
#[inline(always)]
fn inside_quotes(quotes: u64, carried: u64) -> u64 {
    let mut inside = quotes;
    for shift in [1, 2, 4, 8, 16, 32] {
        inside ^= inside << shift;
    }
    inside ^ carried
}

/// Where a block of 64 bytes has quotes, carriage returns, line breaks and delimiters,
/// a bit for each byte.
struct BlockMasks {
    quotes: u64,
    carriage_returns: u64,
    line_breaks: u64,
    delimiters: u64,
}

/// [`BlockMasks`] of a block, each 16 bytes loaded once (SSE2).
#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8], delimiter: u8) -> BlockMasks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut masks = [0u64; 4];
    for (i, lane) in block.chunks_exact(16).take(4).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 processor; `lane` is 16 readable bytes,
        // and the load needs no alignment.
        let bytes = unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) };
        for (mask, byte) in masks.iter_mut().zip([b'"', b'\r', b'\n', delimiter]) {
            // SAFETY: SSE2, on a value loaded above.
            let found =
                unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8))) };
            *mask |= u64::from(found as u16) << (16 * i);
        }
    }
    let [quotes, carriage_returns, line_breaks, delimiters] = masks;
    BlockMasks {
        quotes,
        carriage_returns,
        line_breaks,
        delimiters,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8], delimiter: u8) -> BlockMasks {
    BlockMasks {
        quotes: byte_mask(block, b'"'),
        carriage_returns: byte_mask(block, b'\r'),
        line_breaks: byte_mask(block, b'\n'),
        delimiters: byte_mask(block, delimiter),
    }
}

/// Bit `i` set where `block[i]` (of 64 bytes) is `byte`: SSE2, 16 bytes a step.
#[cfg(target_arch = "x86_64")]
fn byte_mask(block: &[u8], byte: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut mask = 0u64;
    for (i, lane) in block.chunks_exact(16).take(4).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 processor; `lane` is 16 readable bytes,
        // and the load needs no alignment.
        let found = unsafe {
            let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8)))
        };
        mask |= u64::from(found as u16) << (16 * i);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn byte_mask(block: &[u8], byte: u8) -> u64 {
    block
        .iter()
        .take(64)
        .enumerate()
        .fold(0, |mask, (i, &b)| mask | u64::from(b == byte) << i)
}

/// Cuts records 64 bytes at a time from `from` (outside quotes), up to about `upto`:
/// which bytes are quotes, line breaks and delimiters, as bit masks; whether each byte
/// is inside quotes, as the running parity of the quotes before it (a doubled quote
/// inside a quoted field flips it twice). That holds while every quote that opens a
/// quoted field starts a field or follows a quote (the second of a doubled one), as in
/// all exports seen; at the first that does not, it stops. Returns where [`Cutter::advance`] goes on, byte by byte: after the last
/// record cut, where the reading is outside quotes at the start of a field.
fn cut_blocks(
    text: &[u8],
    delimiter: u8,
    (from, upto): (usize, usize),
    ends: &mut Vec<u32>,
) -> usize {
    let mut resume = from;
    let mut at = from;
    // All ones while inside quotes at the start of the block.
    let mut quoted: u64 = 0;
    let mut after_separator =
        from == 0 || matches!(text[from - 1], b'\n') || text[from - 1] == delimiter;
    let mut after_quote = false;
    while at < upto {
        let Some(block) = text.get(at..at + 64) else {
            break;
        };
        let quotes = byte_mask(block, b'"');
        let breaks = byte_mask(block, b'\n');
        let separators = breaks | byte_mask(block, delimiter);
        // Inside quotes after each byte, and before it.
        let inside = inside_quotes(quotes, quoted);
        let before = inside ^ quotes;
        let opening = quotes & !before;
        let field_starts = (separators << 1) | u64::from(after_separator);
        // A quote right after a quote, flipping back inside, is a doubled one.
        let doubled = (quotes << 1) | u64::from(after_quote);
        if opening & !(field_starts | doubled) != 0 {
            break;
        }
        let mut record_ends = breaks & !inside;
        while record_ends != 0 {
            let bit = record_ends.trailing_zeros() as usize;
            end_record(text, at + bit, ends);
            resume = at + bit + 1;
            record_ends &= record_ends - 1;
        }
        quoted = 0u64.wrapping_sub(inside >> 63);
        after_separator = separators >> 63 == 1;
        after_quote = quotes >> 63 == 1;
        at += 64;
    }
    resume
}

/// Whether a table has a column sidecar (`<table>.columns.yaml`): such tables are
/// published plans and are read whole.
pub fn has_sidecar(path_shown: &str) -> bool {
    plantable::has_sidecar(path_shown)
}

/// A file that is not text in any encoding read.
fn undecodable(path_shown: &str, e: &crate::parse::source::DecodeError) -> TableError {
    match e.place() {
        // A file that mixes encodings: at the first line that does not fit.
        Some((shown, start, end)) => TableError {
            source: shown,
            error: error(
                "input/encoding",
                Span::new(start, end),
                e.to_string(),
                e.zh(),
            ),
        },
        None => unplaced(
            path_shown,
            error("input/encoding", Span::default(), e.to_string(), e.zh()),
        ),
    }
}

fn unplaced(path_shown: &str, error: LoadError) -> TableError {
    TableError {
        source: SourceFile::from_text(path_shown, ""),
        error,
    }
}

fn attach(source: &Arc<SourceFile>, errors: Vec<LoadError>) -> Vec<TableError> {
    errors
        .into_iter()
        .map(|error| TableError {
            source: Arc::clone(source),
            error,
        })
        .collect()
}

/// [`sniff_delimiter`] of bytes not yet known to be UTF-8: `None` when its first line
/// that is not blank is not.
fn sniff_delimiter_bytes(bytes: &[u8]) -> Option<u8> {
    first_line_delimiter(bytes).unwrap_or(Some(b','))
}

/// [`sniff_delimiter`] of the first line of `bytes` that is not blank: `Some(None)` if
/// a line before it is not UTF-8, `None` if there is none.
fn first_line_delimiter(bytes: &[u8]) -> Option<Option<u8>> {
    let mut from = 0;
    while from < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i + 1);
        let Ok(line) = std::str::from_utf8(&bytes[from..end]) else {
            return Some(None);
        };
        if !line.trim().is_empty() {
            return Some(Some(sniff_delimiter(line)));
        }
        from = end;
    }
    None
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !first.contains(',') && first.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// The records of a CSV text. A line without quotes is split where it stands, by
/// the delimiter; a record with quotes (or a lone carriage return) is read by csv-core
/// (the `csv` crate's parser) from where it starts, in place.
struct CsvRows<'t> {
    text: &'t str,
    /// Where the records start and end in `text`.
    start: usize,
    end: usize,
    /// Where the next record starts in `text` (or the blank lines before it).
    next: usize,
    delimiter: u8,
    core: csv_core::Reader,
    /// Where in `text` csv-core has read to.
    core_at: usize,
    /// The fields of the record csv-core read last, one after the other, and where each
    /// ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
}

thread_local! {
    /// The reader the last [`CsvRows`] of this thread used, and its delimiter.
    static SPARE_READER: std::cell::RefCell<Option<(u8, csv_core::Reader)>> =
        const { std::cell::RefCell::new(None) };
}

/// csv-core's reader for `delimiter`, with the `csv` crate's settings (RFC 4180
/// quotes, any of CR, LF and CRLF ends a record): the thread's spare one, reset, when
/// it is for `delimiter`. Building one (every state for every byte) costs more than
/// reading a record, and a streamed table reads the first record of each task's rows
/// with one of its own.
fn core_reader(delimiter: u8) -> csv_core::Reader {
    let spare = SPARE_READER
        .try_with(|spare| spare.borrow_mut().take())
        .ok()
        .flatten();
    match spare {
        Some((built_for, mut reader)) if built_for == delimiter => {
            reader.reset();
            reader
        }
        _ => csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
    }
}

impl Drop for CsvRows<'_> {
    fn drop(&mut self) {
        let reader = std::mem::take(&mut self.core);
        // Gone only while the thread ends.
        let _ = SPARE_READER.try_with(|spare| *spare.borrow_mut() = Some((self.delimiter, reader)));
    }
}

impl<'t> CsvRows<'t> {
    fn new(text: &'t str, delimiter: u8) -> Self {
        Self::range(text, 0, text.len(), delimiter)
    }

    /// The records of `text[start..end]`, which must start and end at record bounds.
    fn range(text: &'t str, start: usize, end: usize, delimiter: u8) -> Self {
        CsvRows {
            text,
            start,
            end: end.min(text.len()),
            next: start,
            delimiter,
            core: core_reader(delimiter),
            core_at: start,
            fields: vec![0; 1024],
            ends: vec![0; 64],
            done: false,
        }
    }

    /// The record at `self.next` when it is a line without quotes: its cells are the
    /// text between delimiters, as csv-core would read them.
    fn plain_row(&mut self) -> Option<RawRow> {
        let bytes = self.text.as_bytes().get(..self.end)?;
        let mut start = self.next;
        // Blank lines are no records, as for csv-core.
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        let rest = bytes.get(start..)?;
        // csv-core drops a byte-order mark that starts the text.
        if rest.is_empty() || (start == self.start && rest.starts_with(b"\xEF\xBB\xBF")) {
            return None;
        }
        let (mut line_end, next) = match memchr::memchr2(b'\n', b'"', rest) {
            Some(i) if rest[i] == b'"' => return None,
            Some(i) => (start + i, start + i + 1),
            None => (bytes.len(), bytes.len()),
        };
        if line_end > start && bytes[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line = self.text.get(start..line_end)?;
        // A carriage return alone ends a record too: left to csv-core.
        if memchr::memchr(b'\r', line.as_bytes()).is_some() {
            return None;
        }
        let mut cells = Vec::new();
        let mut from = 0;
        for at in memchr::memchr_iter(self.delimiter, line.as_bytes()).chain([line.len()]) {
            cells.push(plain_cell(line.get(from..at)?, start + from));
            from = at + 1;
        }
        self.next = next;
        Some(RawRow {
            cells,
            span: Span::new(start, line_end),
        })
    }

    /// The record at `self.next`, read by csv-core.
    fn quoted_row(&mut self) -> Option<Result<RawRow, LoadError>> {
        use csv_core::ReadRecordResult::{End, InputEmpty, OutputEndsFull, OutputFull, Record};
        if self.next >= self.end {
            self.done = true;
            return None;
        }
        if self.core_at != self.next {
            // Lines before were split where they stand: csv-core goes on from the line
            // break that ended the last (so that, as when it read them, a byte-order
            // mark here is not dropped as one starting the text).
            self.core.reset();
            self.core_at = self.next.saturating_sub(1).max(self.start);
        }
        let record_start = self.core_at;
        let bytes = self.text.as_bytes();
        let (mut out, mut ended) = (0, 0);
        loop {
            let input = bytes.get(self.core_at..self.end).unwrap_or_default();
            let (result, read, written, ends) = self.core.read_record(
                input,
                self.fields.get_mut(out..).unwrap_or_default(),
                self.ends.get_mut(ended..).unwrap_or_default(),
            );
            self.core_at += read;
            out += written;
            ended += ends;
            match result {
                // Once the text is used up, an empty input tells csv-core it ended (and
                // it then answers `Record` or `End`; the check is against a loop).
                InputEmpty if input.is_empty() => {
                    self.done = true;
                    return None;
                }
                InputEmpty => continue,
                OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                Record => break,
                End => {
                    self.done = true;
                    return None;
                }
            }
        }
        self.next = self.core_at;
        let mut values = Vec::with_capacity(ended);
        let mut from = 0;
        for &to in self.ends.get(..ended).unwrap_or_default() {
            // The text is UTF-8 and csv-core cuts it only at ASCII bytes.
            let Some(value) = self
                .fields
                .get(from..to)
                .and_then(|f| std::str::from_utf8(f).ok())
            else {
                self.done = true;
                return Some(Err(error(
                    "input/malformed",
                    Span::new(record_start, record_start + 1),
                    "malformed CSV: a cell is not UTF-8",
                    "CSV 格式错误：单元格不是 UTF-8 文本",
                )));
            };
            values.push(value);
            from = to;
        }
        Some(Ok(quoted_record(
            self.text,
            self.delimiter,
            record_start,
            &values,
        )))
    }
}

/// The row of a record csv-core read from `start` (or the blank lines before it) as
/// `values`: each cell placed by walking the record's text again.
fn quoted_record(text: &str, delimiter: u8, start: usize, values: &[&str]) -> RawRow {
    let fields = walk_fields(text.as_bytes(), start, delimiter);
    let row_start = fields.first().map_or(start, |f| f.start);
    let row_end = fields.last().map_or(start, |f| f.end);
    let row_span = Span::new(row_start, row_end);
    let agree = fields.len() == values.len();
    let cells = values
        .iter()
        .enumerate()
        .map(|(i, value)| match fields.get(i) {
            Some(f) if agree && f.simple => direct_cell(text, value, f.inner),
            Some(f) if agree => RawCell {
                text: value.trim().to_owned(),
                span: Span::new(f.start, f.end),
                direct: false,
                excel_error: false,
                merged: None,
            },
            _ => RawCell {
                text: value.trim().to_owned(),
                span: row_span,
                direct: false,
                excel_error: false,
                merged: None,
            },
        })
        .collect();
    let mut row = RawRow {
        cells,
        span: row_span,
    };
    // A mapped text keeps its CRLF line ends (see `SourceFile::map_utf8`): a line
    // break in a quoted cell reads as in a text whose line ends were made LF.
    for cell in &mut row.cells {
        if memchr::memchr(b'\r', cell.text.as_bytes()).is_some() {
            cell.text = cell.text.replace("\r\n", "\n").replace('\r', "\n");
        }
    }
    row
}

impl Iterator for CsvRows<'_> {
    type Item = Result<RawRow, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(row) = self.plain_row() {
            return Some(Ok(row));
        }
        self.quoted_row()
    }
}

/// One field of a raw CSV record.
#[derive(Debug, Clone, Copy)]
struct FieldSpan {
    /// The whole field, quotes included.
    start: usize,
    end: usize,
    /// Where its value starts in the source (inside the quotes).
    inner: usize,
    /// The value is the source from `inner` on, unchanged (no `""` escape, nothing
    /// after the closing quote).
    simple: bool,
}

/// Field boundaries of the record starting at `start`, read as csv-core reads them
/// (RFC 4180 quoting; a quote opens a quoted field only as its first byte).
fn walk_fields(b: &[u8], start: usize, delimiter: u8) -> Vec<FieldSpan> {
    let mut pos = start.min(b.len());
    // The position of a record read after blank lines is that of the blank lines.
    while pos < b.len() && (b[pos] == b'\n' || b[pos] == b'\r') {
        pos += 1;
    }
    let is_end = |c: u8| c == delimiter || c == b'\n' || c == b'\r';
    let mut fields = Vec::new();
    loop {
        let field_start = pos;
        let (inner, simple);
        if pos < b.len() && b[pos] == b'"' {
            pos += 1;
            inner = pos;
            let mut escaped = false;
            loop {
                if pos >= b.len() {
                    break;
                }
                if b[pos] == b'"' {
                    if b.get(pos + 1) == Some(&b'"') {
                        escaped = true;
                        pos += 2;
                        continue;
                    }
                    pos += 1;
                    break;
                }
                pos += 1;
            }
            let after_quote = pos;
            while pos < b.len() && !is_end(b[pos]) {
                pos += 1;
            }
            simple = !escaped && after_quote == pos;
        } else {
            inner = pos;
            while pos < b.len() && !is_end(b[pos]) {
                pos += 1;
            }
            simple = true;
        }
        fields.push(FieldSpan {
            start: field_start,
            end: pos,
            inner,
            simple,
        });
        if pos < b.len() && b[pos] == delimiter {
            pos += 1;
        } else {
            break;
        }
    }
    fields
}

// ---------------------------------------------------------------------------------
// Workbooks

pub fn looks_like_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

#[derive(Debug)]
enum CellValue {
    Text(String),
    Error(String),
    /// Inside a merged region whose first cell is at (row, column).
    Covered(u32, u32),
}

struct SheetCell {
    row: u32,
    col: u32,
    value: CellValue,
}

type SheetCells = (String, Vec<SheetCell>);

fn load_workbook(
    path_shown: &str,
    bytes: &[u8],
    cx: &plantable::Context,
) -> Result<TableRead, Vec<TableError>> {
    let sheets = workbook_sheets(path_shown, bytes)?;
    let mut read = TableRead::default();
    let mut errors = Vec::new();
    // Sheets that are no table of any kind (instructions, drop-down lists): skipped,
    // with a note, when another sheet is read.
    let mut not_tables: Vec<(Arc<SourceFile>, Vec<LoadError>)> = Vec::new();
    let mut tables = 0;
    for (name, cells) in sheets {
        if cells.is_empty() {
            continue;
        }
        tables += 1;
        let shown = format!("{path_shown}!{name}");
        let (source, rows) = match sheet_rows(&shown, cells) {
            Ok(x) => x,
            Err(e) => {
                errors.push(unplaced(&shown, e));
                continue;
            }
        };
        let rows_hint = rows.len();
        let mut out = ReadOut::default();
        match build_table(
            &source,
            rows.into_iter().map(Ok),
            false,
            Some(cx),
            rows_hint,
            &mut out,
        ) {
            Ok(t) => {
                read.trees.extend(t);
                read.notes.extend(attach_notes(&source, out.notes));
            }
            Err(e) if out.not_a_table => not_tables.push((source, e)),
            Err(e) => errors.extend(attach(&source, e)),
        }
    }
    if tables == 0 {
        errors.push(unplaced(
            path_shown,
            error(
                "input/empty",
                Span::default(),
                "the workbook has no visible worksheet with data",
                "工作簿中没有含数据的可见工作表",
            ),
        ));
    }
    if read.trees.is_empty() && errors.is_empty() {
        for (source, e) in not_tables {
            errors.extend(attach(&source, e));
        }
    } else {
        for (source, _) in not_tables {
            read.notes.push(TableNote {
                span: Span::default(),
                en: "this worksheet holds no table spotlint reads (no header row of a plan, item list, library or results); it is skipped".into(),
                zh: "该工作表不含可读取的表格（没有计划、事项清单、名录库或抽查结果的列名行），已跳过".into(),
                source,
            });
        }
    }
    if errors.is_empty() {
        Ok(read)
    } else {
        Err(errors)
    }
}

/// The worksheets of a workbook, or why it cannot be read.
fn workbook_sheets(path_shown: &str, bytes: &[u8]) -> Result<Vec<SheetCells>, Vec<TableError>> {
    if let Err(refused) = workbook_limits::check(bytes) {
        return Err(vec![workbook_refused(path_shown, refused)]);
    }
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_sheets(bytes)));
    match read {
        Ok(Ok(sheets)) => Ok(sheets),
        Ok(Err(message)) => Err(vec![unplaced(
            path_shown,
            error(
                "input/unreadable",
                Span::default(),
                format!("cannot read the workbook: {message}"),
                format!("无法读取工作簿：{message}"),
            ),
        )]),
        Err(_) => Err(vec![unplaced(
            path_shown,
            error(
                "input/unreadable",
                Span::default(),
                "cannot read the workbook: the file is damaged",
                "无法读取工作簿：文件已损坏",
            ),
        )]),
    }
}

/// A workbook over a limit, as a problem of the file or of the worksheet named.
pub fn workbook_refused(path_shown: &str, refused: workbook_limits::Refusal) -> TableError {
    let shown = match &refused.sheet {
        Some(sheet) => format!("{path_shown}!{sheet}"),
        None => path_shown.to_owned(),
    };
    unplaced(
        &shown,
        error(refused.rule, Span::default(), refused.en, refused.zh),
    )
}

/// The cells of every visible worksheet, in workbook order.
fn read_sheets(bytes: &[u8]) -> Result<Vec<SheetCells>, String> {
    let mut workbook =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let metas = workbook.sheets_metadata().to_vec();
    let mut out = Vec::new();
    for meta in metas {
        if meta.visible != SheetVisible::Visible || meta.typ != SheetType::WorkSheet {
            continue;
        }
        let mut cells = Vec::new();
        let mut push = |row: u32, col: u32, data: &Data| {
            if let Some(value) = cell_value(data) {
                cells.push(SheetCell { row, col, value });
            }
            Ok(())
        };
        each_cell(&mut workbook, &meta.name, &mut push)?;
        cover_merged(&mut cells, &merged_regions(&mut workbook, &meta.name));
        out.push((meta.name.clone(), cells));
    }
    Ok(out)
}

/// Cells inside merged regions, so that a table reads them as merged: within the
/// sheet's used rows and columns, and no more than a bounded number in all.
fn cover_merged(cells: &mut Vec<SheetCell>, regions: &[calamine::Dimensions]) {
    const MAX_COVERED: usize = 1 << 20;
    let (Some(last_row), Some(last_col)) = (
        cells.iter().map(|c| c.row).max(),
        cells.iter().map(|c| c.col).max(),
    ) else {
        return;
    };
    let mut added = 0usize;
    for region in regions {
        let (r0, c0) = region.start;
        let (r1, c1) = (region.end.0.min(last_row), region.end.1.min(last_col));
        for row in r0..=r1 {
            for col in c0..=c1 {
                if (row, col) == (r0, c0) {
                    continue;
                }
                if added >= MAX_COVERED {
                    return;
                }
                cells.push(SheetCell {
                    row,
                    col,
                    value: CellValue::Covered(r0, c0),
                });
                added += 1;
            }
        }
    }
}

fn cell_value(data: &Data) -> Option<CellValue> {
    let text = match data {
        Data::Empty => return None,
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, h, min, s, _) = dt.to_ymd_hms_milli();
            if (h, min, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => format_number(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Some(CellValue::Error(e.to_string())),
    };
    Some(CellValue::Text(text))
}

/// Numbers as people typed them: `2024`, not `2024.0`.
fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The text shown for a sheet (line n = row n, cells after n tabs = column n + 1)
/// and its rows.
fn sheet_rows(
    shown: &str,
    mut cells: Vec<SheetCell>,
) -> Result<(Arc<SourceFile>, Vec<RawRow>), LoadError> {
    cells.sort_by_key(|c| (c.row, c.col));
    cells.dedup_by_key(|c| (c.row, c.col));
    let mut text = String::new();
    let mut line: u64 = 0; // 0-based row of the current line
    let mut at_col: u32 = 0;
    // (row, col, start, end, value) of every placed cell.
    let mut placed: Vec<(u32, u32, usize, usize, CellValue)> = Vec::with_capacity(cells.len());
    let mut line_starts: Vec<(u32, usize)> = Vec::new();
    for cell in cells {
        let first_on_line = line_starts.last().is_none_or(|(r, _)| *r != cell.row);
        if first_on_line {
            while line < u64::from(cell.row) {
                text.push('\n');
                line += 1;
            }
            at_col = 0;
            line_starts.push((cell.row, text.len()));
        }
        let gap = cell.col.saturating_sub(at_col) as usize;
        text.extend(std::iter::repeat_n('\t', gap));
        at_col = cell.col;
        let start = text.len();
        match &cell.value {
            CellValue::Text(s) | CellValue::Error(s) => text.extend(s.chars().map(|c| match c {
                '\t' | '\n' | '\r' => ' ',
                c => c,
            })),
            CellValue::Covered(..) => {}
        }
        let end = text.len();
        if text.len() > MAX_SHEET_TEXT {
            return Err(error(
                "input/too-large",
                Span::default(),
                format!(
                    "the worksheet is too large to read (more than {} MiB shown as text)",
                    MAX_SHEET_TEXT >> 20
                ),
                format!(
                    "工作表过大，无法读取（文本超过 {} MiB）",
                    MAX_SHEET_TEXT >> 20
                ),
            ));
        }
        placed.push((cell.row, cell.col, start, end, cell.value));
    }
    text.push('\n');
    let source = SourceFile::from_text(shown, text);
    let mut rows = Vec::with_capacity(line_starts.len());
    let mut placed = placed.into_iter().peekable();
    // Where each written cell's value is, for the merged regions it begins.
    let mut written: HashMap<(u32, u32), (String, Span)> = HashMap::new();
    for (row, line_start) in line_starts {
        let mut cells: Vec<RawCell> = Vec::new();
        // Offset where column `col` would start: after the previous cell and the tabs.
        let (mut anchor_col, mut anchor_end) = (0u32, line_start);
        while let Some((_, col, start, end, value)) = placed.next_if(|p| p.0 == row) {
            for gap_col in cells.len() as u32..col {
                let at = anchor_end + (gap_col - anchor_col) as usize;
                cells.push(RawCell {
                    text: String::new(),
                    span: Span::new(at, at),
                    direct: true,
                    excel_error: false,
                    merged: None,
                });
            }
            let cell = match value {
                CellValue::Text(s) => direct_cell(&source.text, &s, start),
                CellValue::Error(e) => RawCell {
                    text: e,
                    span: Span::new(start, end),
                    direct: true,
                    excel_error: true,
                    merged: None,
                },
                CellValue::Covered(r0, c0) => RawCell {
                    text: String::new(),
                    span: Span::new(start, start),
                    direct: true,
                    excel_error: false,
                    merged: written.get(&(r0, c0)).cloned().map(Box::new),
                },
            };
            // `\t`, `\n`, `\r` were shown as spaces: same bytes, same offsets.
            let cell = RawCell {
                direct: true,
                span: if cell.direct {
                    cell.span
                } else {
                    let lead = cell_lead(&source.text[start..end]);
                    Span::new(start + lead, start + lead + cell.text.len())
                },
                ..cell
            };
            if !cell.text.is_empty() {
                written.insert((row, col), (cell.text.clone(), cell.span));
            }
            cells.push(cell);
            anchor_col = col;
            anchor_end = end;
        }
        let span = Span::new(line_start, anchor_end);
        rows.push(RawRow { cells, span });
    }
    Ok((source, rows))
}

fn cell_lead(shown: &str) -> usize {
    shown.len() - shown.trim_start().len()
}

// ---------------------------------------------------------------------------------
// Building documents

#[derive(Debug, Clone)]
struct Group {
    nodes: Vec<Node>,
    /// Document fields by column id.
    doc: Vec<(&'static str, NodeId)>,
    /// Text of the shared fields and the row that gave it, to check later rows.
    shared: Vec<(&'static str, String)>,
    records: Vec<NodeId>,
}

/// A mapping inside a record (`publication`): its key, node and entries so far.
type NestedMap = (&'static str, NodeId, Vec<(Key, NodeId)>);

/// A record column: its definition, position, and keys (`publication`, `channel`).
type RecordColumn = (&'static Column, usize, (Key, Option<Key>));

#[derive(Debug, Clone)]
struct Builder {
    kind: TableKind,
    /// The record columns of the table, in the kind's order, with their positions and
    /// keys (made once: every record shares them).
    record_columns: Vec<RecordColumn>,
    /// Position of each used column (shared, so a row can read it while erring).
    pos_of: Arc<HashMap<&'static str, usize, foldhash::fast::RandomState>>,
    header_cells: Vec<Span>,
    header_span: Span,
    /// The kind was taken from this cell.
    kind_cell: Option<(String, Span)>,
    groups: Vec<Group>,
    index: HashMap<(String, String, String), usize, foldhash::fast::RandomState>,
    /// The key and group of the last row.
    last_group: Option<([String; 3], usize)>,
    errors: Vec<LoadError>,
    /// About how many rows the table has (0: not known).
    rows_hint: usize,
}

/// Stops building: the error list is full or the arena cannot grow.
struct Stop;

/// The columns a header row names: how many, and which are known.
#[derive(Debug)]
struct Columns {
    width: usize,
    found: Vec<Option<&'static Column>>,
    /// Positions of the named columns that are not known.
    unknown: Vec<usize>,
}

impl Columns {
    fn of(header: &RawRow) -> Columns {
        let width = header
            .cells
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |i| i + 1);
        let lookup = header_lookup();
        let mut found: Vec<Option<&'static Column>> = Vec::with_capacity(width);
        let mut unknown: Vec<usize> = Vec::new();
        for (i, cell) in header.cells.iter().take(width).enumerate() {
            if cell.is_empty() {
                found.push(None);
                continue;
            }
            match lookup.get(&normalise_header(&cell.text)) {
                Some(c) => found.push(Some(*c)),
                None => {
                    found.push(None);
                    unknown.push(i);
                }
            }
        }
        Columns {
            width,
            found,
            unknown,
        }
    }
}

impl Builder {
    /// A builder of the rows under `header`, of the kind the headers (or `kind_cell`)
    /// tell; else the header's problems, after those in `errors`.
    fn for_header(
        header: &RawRow,
        columns: &Columns,
        kind: Option<TableKind>,
        kind_cell: Option<(String, Span)>,
        mut errors: Vec<LoadError>,
    ) -> Result<Builder, Vec<LoadError>> {
        let header_span = header.used_span();
        let header_cells: Vec<Span> = header.cells.iter().map(|c| c.span).collect();
        let (found, unknown) = (&columns.found, &columns.unknown);
        // Headers against the kind.
        let allowed: &[&str] = match kind {
            Some(k) => k.columns(),
            None => &[],
        };
        let known_names = || -> Vec<&'static str> {
            let ids: Vec<&str> = if kind.is_some() {
                allowed.to_vec()
            } else {
                COLUMNS.iter().map(|c| c.id).collect()
            };
            ids.iter()
                .filter_map(|id| column(id))
                .flat_map(|c| std::iter::once(c.id).chain(c.zh.iter().copied()))
                .collect()
        };
        for (n, &i) in unknown.iter().enumerate() {
            let given = clean_header(&header.cells[i].text);
            // A name close to a known one is looked for among the first unknown
            // columns only: a row of ten thousand is no misspelt header.
            let hint = if n < SUGGESTED_COLUMNS {
                schema::suggest(&given, known_names().into_iter())
            } else {
                String::new()
            };
            let given = schema::clipped(&given);
            let listed: Vec<&str> = if kind.is_some() {
                allowed.to_vec()
            } else {
                COLUMNS.iter().map(|c| c.id).collect()
            };
            let single_title = i == 0 && header.cells.iter().filter(|c| !c.is_empty()).count() == 1;
            let (title_en, title_zh) = if single_title {
                (
                    "; the first row must be the header row (remove title rows above it)",
                    "；第一行必须是列名行（请删除其上方的标题行）",
                )
            } else {
                ("", "")
            };
            errors.push(error(
                "input/unknown-field",
                header.cells[i].span,
                format!(
                    "unknown column `{given}`{hint}{title_en} (columns: {})",
                    listed.join(", ")
                ),
                format!(
                    "未知的列 `{given}`{}{title_zh}（可用列：{}）",
                    zh_hint(&hint),
                    listed.join(", ")
                ),
            ));
        }
        let mut pos_of: HashMap<&'static str, usize, foldhash::fast::RandomState> =
            HashMap::default();
        for (i, c) in found.iter().enumerate() {
            let Some(c) = c else { continue };
            let span = header.cells[i].span;
            let given = clean_header(&header.cells[i].text);
            if let Some(kind) = kind {
                if !kind.columns().contains(&c.id) {
                    let owner = TABLE_KINDS.iter().find(|k| k.columns().contains(&c.id));
                    let (en_owner, zh_owner) = owner.map_or((String::new(), String::new()), |k| {
                        (
                            format!(" (it belongs in a {} table)", k.name()),
                            format!("（该列属于{}表）", k.zh()),
                        )
                    });
                    errors.push(error(
                        "input/unknown-field",
                        span,
                        format!(
                            "the column `{given}` (`{}`) is not a column of a {} table{en_owner} (columns: {})",
                            c.id,
                            kind.name(),
                            kind.columns().join(", ")
                        ),
                        format!(
                            "列 `{given}`（`{}`）不属于{}表{zh_owner}（可用列：{}）",
                            c.id,
                            kind.zh(),
                            kind.columns().join(", ")
                        ),
                    ));
                    continue;
                }
            }
            if let Some(&first) = pos_of.get(c.id) {
                errors.push(error(
                    "input/duplicate-key",
                    span,
                    format!(
                        "the column `{}` is given twice (also column {})",
                        c.id,
                        column_number(first)
                    ),
                    format!("列 `{}` 重复出现（另见第 {} 列）", c.id, first + 1),
                ));
                continue;
            }
            pos_of.insert(c.id, i);
        }
        if let Some(kind) = kind {
            for id in kind.key_columns() {
                if !pos_of.contains_key(id) {
                    let zh = column(id).map_or("", |c| c.zh[0]);
                    errors.push(error(
                        "input/missing-field",
                        header_span,
                        format!(
                            "the table has no `{id}` ({zh}) column; a {} table needs {}",
                            kind.name(),
                            kind.key_columns().join(", ")
                        ),
                        format!(
                            "表格缺少 `{id}`（{zh}）列；{}表必须有 {} 列",
                            kind.zh(),
                            kind.key_columns().join("、")
                        ),
                    ));
                }
            }
        }
        let Some(kind) = kind else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }

        let record_columns = kind
            .columns()
            .iter()
            .filter_map(|id| column(id).filter(|c| c.place == Record))
            .filter_map(|c| {
                let keys = (Key::Static(c.key), c.sub.map(Key::Static));
                pos_of.get(c.id).map(|p| (c, *p, keys))
            })
            .collect();
        Ok(Builder {
            kind,
            record_columns,
            pos_of: Arc::new(pos_of),
            header_cells,
            header_span,
            kind_cell,
            groups: Vec::new(),
            index: HashMap::default(),
            last_group: None,
            rows_hint: 0,
            errors,
        })
    }
}

/// Reads a table into its documents. `rows_hint` is about how many rows it has (0 when
/// not known), so that the arena of its first document is made once at its size.
/// What reading a table tells besides its documents.
#[derive(Default)]
struct ReadOut {
    notes: Vec<plantable::Note>,
    /// The table is none of the kinds read (no `kind` column, no known header set):
    /// in a workbook, a sheet of instructions or lists rather than a table.
    not_a_table: bool,
}

fn build_table<I>(
    source: &Arc<SourceFile>,
    rows: I,
    csv: bool,
    published: Option<&plantable::Context>,
    rows_hint: usize,
    read: &mut ReadOut,
) -> Result<Vec<Tree>, Vec<LoadError>>
where
    I: Iterator<Item = Result<RawRow, LoadError>>,
{
    let mut rows = rows;
    let header = loop {
        match rows.next() {
            None => {
                return Err(vec![error(
                "input/empty",
                Span::default(),
                "the table is empty: the first row must name the columns (docs/formats.md, Tables)",
                "表格为空：第一行应为列名（见 docs/formats.md「表格」）",
            )])
            }
            Some(Err(e)) => return Err(vec![e]),
            Some(Ok(row)) if row.is_blank() => continue,
            Some(Ok(row)) => break row,
        }
    };
    let header_span = header.used_span();
    let columns = Columns::of(&header);
    let (width, found) = (columns.width, &columns.found);
    let mut errors = Vec::new();
    let has = |id: &str| found.iter().flatten().any(|c| c.id == id);
    let kind_pos = found.iter().position(|c| c.is_some_and(|c| c.id == "kind"));

    // The kind: from the first non-empty `kind` cell, else from the headers.
    let mut pending: VecDeque<RawRow> = VecDeque::new();
    let mut kind_cell = None;
    if let Some(k) = kind_pos {
        loop {
            match rows.next() {
                None => break,
                Some(Err(e)) => {
                    errors.push(e);
                    return Err(errors);
                }
                Some(Ok(row)) => {
                    let cell = row.cells.get(k).filter(|c| !c.is_empty()).cloned();
                    pending.push_back(row);
                    if let Some(cell) = cell {
                        kind_cell = Some((cell.text, cell.span));
                        break;
                    }
                }
            }
        }
    }
    let kind = match &kind_cell {
        Some((text, span)) => match parse_kind(text) {
            Ok(kind) => Some(kind),
            Err((en, zh)) => {
                errors.push(error("input/unknown-kind", *span, en, zh));
                None
            }
        },
        None => TableKind::detect(has),
    };
    // A published plan or item list (title rows, then 序号, 抽查事项, 抽查比例及频次 …):
    // read by `plantable`, also when a library or results column name appears in it.
    let maybe_published = kind_cell.is_none()
        && match kind {
            None => true,
            Some(_) => published.is_some_and(|cx| {
                let vocab = cx.options.vocabulary();
                let named = header.cells.iter().filter(|c| !c.is_empty());
                let known = named.filter(|c| vocab.knows(&c.text)).count();
                !columns.unknown.is_empty() && known > found.iter().flatten().count()
            }),
        };
    if let (true, Some(cx)) = (maybe_published, published) {
        let mut all: Vec<RawRow> = Vec::with_capacity(rows_hint.min(1 << 16));
        all.push(header.clone());
        all.extend(pending.drain(..));
        for row in rows.by_ref() {
            all.push(row.map_err(|e| vec![e])?);
        }
        if let Some((trees, read_notes)) = plantable::build(source, &all, csv, cx)? {
            read.notes.extend(read_notes);
            return Ok(trees);
        }
        // Not a published table: read the rows as a library or results table.
        pending = all.into_iter().skip(1).collect();
    }
    if kind.is_none() && kind_cell.is_none() {
        read.not_a_table = true;
        errors.push(error(
            "input/unknown-kind",
            header_span,
            "cannot tell what this table holds from its headers: a Results table has `task` (抽查任务) and `object` (检查对象) columns, a PersonnelLibrary `certificate` (执法证号) or `qualification` (执法资质), an ObjectLibrary `uscc` (统一社会信用代码) or `risk_level` (风险等级); a published plan or item list has a header row naming at least two of its columns (序号, 抽查事项, 检查对象, 抽查比例 …); or add a `kind` column",
            "无法从列名判断表格类型：抽查结果表应有「抽查任务」「检查对象」列，执法人员库应有「执法证号」或「执法资质」列，检查对象名录库应有「统一社会信用代码」或「风险等级」列；公开发布的抽查计划或事项清单应有列名行，至少写明其中两列（序号、抽查事项、检查对象、抽查比例……）；也可增加 `kind`（类型）列",
        ));
    }

    let mut builder = Builder::for_header(&header, &columns, kind, kind_cell, errors)?;
    builder.rows_hint = rows_hint;
    let mut data_rows = 0usize;
    let all = pending.into_iter().map(Ok).chain(rows);
    for row in all {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                builder.errors.push(e);
                break;
            }
        };
        if row.is_blank() {
            continue;
        }
        data_rows += 1;
        if builder.row(&row, found, width, csv).is_err() {
            break;
        }
    }
    if data_rows == 0 && builder.errors.is_empty() {
        builder.errors.push(error(
            "input/empty",
            header_span,
            "the table has a header row but no data rows",
            "表格只有列名行，没有数据行",
        ));
    }
    if !builder.errors.is_empty() {
        if builder.errors.len() >= MAX_ERRORS {
            let last = builder.errors.last().map_or(header_span, |e| e.span);
            builder.errors.push(error(
                "input/malformed",
                last,
                format!("more than {MAX_ERRORS} problems in this table; reading stopped here"),
                format!("表格中的问题超过 {MAX_ERRORS} 个，已在此停止读取"),
            ));
        }
        return Err(builder.errors);
    }
    Ok(builder.finish(source))
}

fn column_number(i: usize) -> usize {
    i + 1
}

impl Builder {
    fn fail(&mut self, e: LoadError) -> Result<(), Stop> {
        self.errors.push(e);
        if self.errors.len() >= MAX_ERRORS {
            Err(Stop)
        } else {
            Ok(())
        }
    }

    fn row(
        &mut self,
        row: &RawRow,
        found: &[Option<&'static Column>],
        width: usize,
        csv: bool,
    ) -> Result<(), Stop> {
        let errors_before = self.errors.len();
        if csv && row.cells.len() < width {
            let n = row.cells.len();
            self.fail(error(
                "input/malformed",
                row.span,
                format!("this row has {n} cells but the header has {width} columns"),
                format!("此行有 {n} 个单元格，而列名行有 {width} 列"),
            ))?;
            return Ok(());
        }
        for (i, cell) in row.cells.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            if i >= width {
                self.fail(error(
                    "input/malformed",
                    cell.span,
                    format!(
                        "a value beyond the last column: the header has {width} columns, this is column {}",
                        column_number(i)
                    ),
                    format!("值超出列名范围：列名行有 {width} 列，此处为第 {} 列", i + 1),
                ))?;
            } else if found[i].is_none() {
                self.fail(error(
                    "input/malformed",
                    cell.span,
                    "a value in a column without a header",
                    "该列没有列名，却填写了值",
                ))?;
            } else if cell.excel_error && self.pos_of.values().any(|p| *p == i) {
                self.fail(error(
                    "input/bad-value",
                    cell.span,
                    format!("the cell holds the spreadsheet error {}", cell.text),
                    format!("单元格为表格错误值 {}", cell.text),
                ))?;
            }
        }
        if self.errors.len() > errors_before {
            return Ok(());
        }
        let pos_of = Arc::clone(&self.pos_of);
        let cell = |id: &str| {
            pos_of
                .get(id)
                .and_then(|p| row.cells.get(*p))
                .filter(|c| !c.is_empty())
        };
        let first_kind = self.kind_cell.as_ref().map(|(t, _)| t.clone());
        if let (Some(c), Some(first)) = (cell("kind"), first_kind) {
            if parse_kind(&c.text).ok() != Some(self.kind) {
                let (en, zh) = (
                    format!(
                        "this table is a {} table (from `{first}` above); a table holds one kind",
                        self.kind.name()
                    ),
                    format!(
                        "本表为{}（见上方的 `{first}`）；一个表格只能有一种类型",
                        self.kind.zh()
                    ),
                );
                return self.fail(error("input/unknown-kind", c.span, en, zh));
            }
        }
        // The document this row belongs to: mostly that of the row before.
        let key_columns = self.kind.key_columns();
        let same_as_last = self.last_group.as_ref().and_then(|(last_key, g)| {
            key_columns
                .iter()
                .zip(last_key)
                .all(|(id, k)| cell(id).is_some_and(|c| c.text == *k))
                .then_some(*g)
        });
        let g = match same_as_last {
            Some(g) => g,
            None => match self.group_of(row, &cell)? {
                Some(g) => g,
                None => return Ok(()),
            },
        };
        for &id in self.kind.shared_columns() {
            let Some(c) = cell(id) else { continue };
            let known = self.groups[g].shared.iter().find(|(k, _)| *k == id);
            // Most rows repeat the text of the first, as written: no need to normalise it.
            if known.is_some_and(|(_, before)| *before == c.text) {
                continue;
            }
            let text = shared_text(column(id).map_or(Text, |c| c.shape), &c.text);
            match known {
                Some((_, before)) if *before != text => {
                    let before = before.clone();
                    self.fail(error(
                        "input/bad-value",
                        c.span,
                        format!("`{id}` is `{}` here but `{before}` in an earlier row of the same department", c.text),
                        format!("`{id}` 此处为 `{}`，而同一部门的前面行为 `{before}`", c.text),
                    ))?;
                }
                Some(_) => {}
                None => {
                    let p = self.pos_of[id];
                    let key_span = self
                        .header_cells
                        .get(p)
                        .copied()
                        .unwrap_or(self.header_span);
                    let shape = column(id).map_or(Text, |c| c.shape);
                    let node = value_node(&mut self.groups[g].nodes, c, shape, key_span)
                        .map_err(|e| self.errors.push(e))
                        .map_err(|_| Stop)?;
                    self.groups[g].doc.push((id, node));
                    self.groups[g].shared.push((id, text));
                }
            }
        }
        self.record(g, row)
    }

    /// The document (group) of a row whose key differs from the row before's: found by
    /// its key, or made. `None` when a key cell is empty (reported).
    fn group_of<'r>(
        &mut self,
        row: &'r RawRow,
        cell: &dyn Fn(&str) -> Option<&'r RawCell>,
    ) -> Result<Option<usize>, Stop> {
        let mut key = [String::new(), String::new(), String::new()];
        let mut missing = Vec::new();
        for (slot, id) in self.kind.key_columns().iter().enumerate() {
            match cell(id) {
                Some(c) => {
                    key[slot] = match column(id).map(|c| c.shape) {
                        Some(Int) => c
                            .text
                            .parse::<i64>()
                            .map_or(c.text.clone(), |i| i.to_string()),
                        _ => c.text.clone(),
                    }
                }
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            for id in missing {
                let at = self
                    .pos_of
                    .get(id)
                    .and_then(|p| row.cells.get(*p))
                    .map_or(row.span, |c| c.span);
                let zh = column(id).map_or("", |c| c.zh[0]);
                self.fail(error(
                    "input/missing-field",
                    at,
                    format!(
                        "`{id}` is empty: every row gives its document's {}",
                        self.kind.key_columns().join(", ")
                    ),
                    format!(
                        "`{id}`（{zh}）为空：每一行都必须填写{}",
                        self.kind
                            .key_columns()
                            .iter()
                            .filter_map(|id| column(id))
                            .map(|c| c.zh[0])
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                ))?;
            }
            return Ok(None);
        }
        let [a, b, c] = key;
        let g = match self.index.get(&(a.clone(), b.clone(), c.clone())) {
            Some(&g) => g,
            None => {
                let g = self.new_group(row)?;
                self.index.insert((a.clone(), b.clone(), c.clone()), g);
                g
            }
        };
        self.last_group = Some(([a, b, c], g));
        Ok(Some(g))
    }

    fn new_group(&mut self, row: &RawRow) -> Result<usize, Stop> {
        let mut group = Group {
            nodes: Vec::new(),
            doc: Vec::new(),
            shared: Vec::new(),
            records: Vec::new(),
        };
        // The first document of a table is most often all of it (a library of one
        // department): its arena is made at that size once, not grown by doubling, which
        // copies it and touches fresh memory each time. Only a hint: failing is fine.
        if self.groups.is_empty() && self.rows_hint > 0 {
            // A record, and its cells; a list cell is a list and its items.
            let per_row = 2 * self.record_columns.len() + 1;
            let _ = group
                .nodes
                .try_reserve(self.rows_hint.saturating_mul(per_row));
            let _ = group.records.try_reserve(self.rows_hint);
        }
        let header_span = self.header_span;
        let pushed = (|| -> Result<(), LoadError> {
            push(
                &mut group.nodes,
                Value::Map(Vec::new()),
                header_span,
                None,
                None,
            )?;
            let (kind_span, kind_key) = match (&self.kind_cell, self.pos_of.get("kind")) {
                (Some((_, span)), Some(p)) => {
                    let in_row = row.cells.get(*p).filter(|c| !c.is_empty()).map(|c| c.span);
                    (in_row.unwrap_or(*span), self.header_cells[*p])
                }
                _ => (header_span, header_span),
            };
            let kind = push(
                &mut group.nodes,
                Value::Str(self.kind.name().into()),
                kind_span,
                Some(kind_key),
                None,
            )?;
            group.doc.push(("kind", kind));
            for &id in self.kind.key_columns() {
                let p = self.pos_of[id];
                let Some(cell) = row.cells.get(p) else {
                    continue;
                };
                let shape = column(id).map_or(Text, |c| c.shape);
                let node = value_node(&mut group.nodes, cell, shape, self.header_cells[p])?;
                group.doc.push((id, node));
            }
            Ok(())
        })();
        if let Err(e) = pushed {
            self.errors.push(e);
            return Err(Stop);
        }
        self.groups.push(group);
        Ok(self.groups.len() - 1)
    }

    fn record(&mut self, g: usize, row: &RawRow) -> Result<(), Stop> {
        let has_record = self
            .record_columns
            .iter()
            .any(|(_, p, _)| row.cells.get(*p).is_some_and(|c| !c.is_empty()));
        if !has_record {
            return Ok(());
        }
        let nodes = &mut self.groups[g].nodes;
        let columns = &self.record_columns;
        let built = (|| -> Result<NodeId, LoadError> {
            let rec = push(nodes, Value::Map(Vec::new()), row.first_span(), None, None)?;
            let mut entries: Vec<(Key, NodeId)> = Vec::with_capacity(columns.len());
            let mut inner: Vec<NestedMap> = Vec::new();
            for (c, p, (key, sub_key)) in columns {
                let (c, p) = (*c, *p);
                let Some(cell) = row.cells.get(p).filter(|c| !c.is_empty()) else {
                    continue;
                };
                match c.sub {
                    None => {
                        let node = value_node(nodes, cell, c.shape, cell.span)?;
                        entries.push((key.clone(), node));
                    }
                    Some(sub) => {
                        let i = match inner.iter().position(|(k, _, _)| *k == c.key) {
                            Some(i) => i,
                            None => {
                                let map = push(
                                    nodes,
                                    Value::Map(Vec::new()),
                                    cell.span,
                                    Some(cell.span),
                                    None,
                                )?;
                                entries.push((key.clone(), map));
                                inner.push((c.key, map, Vec::new()));
                                inner.len() - 1
                            }
                        };
                        let node = value_node(nodes, cell, c.shape, cell.span)?;
                        let sub = sub_key.clone().unwrap_or(Key::Static(sub));
                        inner[i].2.push((sub, node));
                    }
                }
            }
            for (_, map, fields) in inner {
                nodes[map as usize].value = Value::Map(fields);
            }
            nodes[rec as usize].value = Value::Map(entries);
            Ok(rec)
        })();
        match built {
            Ok(rec) => {
                self.groups[g].records.push(rec);
                Ok(())
            }
            Err(e) => {
                self.errors.push(e);
                Err(Stop)
            }
        }
    }

    fn finish(self, source: &Arc<SourceFile>) -> Vec<Tree> {
        let kind = self.kind;
        let header_span = self.header_span;
        let mut trees = Vec::with_capacity(self.groups.len());
        for mut group in self.groups {
            let first = group.records.first().map(|r| group.nodes[*r as usize].span);
            let records = std::mem::take(&mut group.records);
            let Ok(seq) = push(
                &mut group.nodes,
                Value::Seq(records),
                first.unwrap_or(header_span),
                Some(header_span),
                None,
            ) else {
                continue;
            };
            let mut entries: Vec<(Key, NodeId)> = Vec::new();
            for id in kind.columns() {
                if let Some((_, node)) = group.doc.iter().find(|(k, _)| k == id) {
                    entries.push((Key::Static(id), *node));
                }
            }
            entries.push((Key::Static(kind.records_key()), seq));
            group.nodes[0].value = Value::Map(entries);
            trees.push(Tree {
                nodes: group.nodes,
                root: 0,
                source: Arc::clone(source),
                invalid: Vec::new(),
            });
        }
        trees
    }
}

/// The text a shared document field is compared by from row to row.
fn shared_text(shape: Shape, text: &str) -> String {
    match shape {
        Date => normalise_date(text).unwrap_or_else(|| text.to_owned()),
        List => list_items(text)
            .map(|(_, item)| item)
            .collect::<Vec<_>>()
            .join(";"),
        _ => text.to_owned(),
    }
}

// Inlined, its error out of line: the nodes of a whole library are made through it.
#[inline(always)]
fn push(
    nodes: &mut Vec<Node>,
    value: Value,
    span: Span,
    key_span: Option<Span>,
    raw: Option<ImmutableString>,
) -> Result<NodeId, LoadError> {
    let Ok(id) = NodeId::try_from(nodes.len()) else {
        return Err(too_many_values(span));
    };
    nodes.push(Node {
        value,
        span,
        key_span,
        raw,
    });
    Ok(id)
}

#[cold]
fn too_many_values(span: Span) -> LoadError {
    error(
        "input/too-large",
        span,
        "too many values in one document",
        "单个文档中的值过多",
    )
}

fn value_node(
    nodes: &mut Vec<Node>,
    cell: &RawCell,
    shape: Shape,
    key_span: Span,
) -> Result<NodeId, LoadError> {
    let text = cell.text.as_str();
    match shape {
        Text => push(
            nodes,
            Value::Str(text.into()),
            cell.span,
            Some(key_span),
            None,
        ),
        Int => match text.parse::<i64>() {
            Ok(i) => push(
                nodes,
                Value::Int(i),
                cell.span,
                Some(key_span),
                Some(text.into()),
            ),
            Err(_) => push(
                nodes,
                Value::Str(text.into()),
                cell.span,
                Some(key_span),
                None,
            ),
        },
        Date => {
            let value = normalise_date(text).map_or_else(|| text.into(), ImmutableString::from);
            push(nodes, Value::Str(value), cell.span, Some(key_span), None)
        }
        List => list_node(nodes, text, cell.span, cell.direct, key_span),
    }
}

/// A list cell's node and its items' nodes: each item placed where it stands when the
/// cell's text is the source at `span` (`direct`), else at the whole cell; the list at
/// its first item.
fn list_node(
    nodes: &mut Vec<Node>,
    text: &str,
    span: Span,
    direct: bool,
    key_span: Span,
) -> Result<NodeId, LoadError> {
    let seq = push(nodes, Value::Seq(Vec::new()), span, Some(key_span), None)?;
    let mut items = Vec::new();
    for (offset, item) in list_items(text) {
        let at = if direct {
            let start = span.start as usize + offset;
            Span::new(start, start + item.len())
        } else {
            span
        };
        items.push(push(nodes, Value::Str(item.into()), at, None, None)?);
    }
    if let Some(first) = items.first() {
        nodes[seq as usize].span = nodes[*first as usize].span;
    }
    nodes[seq as usize].value = Value::Seq(items);
    Ok(seq)
}

/// Items of a list cell with their byte offsets in it, trimmed, empty ones dropped.
fn split_list(text: &str) -> Vec<(usize, String)> {
    list_items(text)
        .map(|(offset, item)| (offset, item.to_owned()))
        .collect()
}

/// [`split_list`] without copying the items.
fn list_items(text: &str) -> ListItems<'_> {
    ListItems {
        text,
        start: 0,
        done: false,
    }
}

/// The items of a list cell, split at `;` `；` `、` `,` `，` and line breaks.
struct ListItems<'t> {
    text: &'t str,
    /// Where the next item starts.
    start: usize,
    done: bool,
}

impl<'t> Iterator for ListItems<'t> {
    type Item = (usize, &'t str);

    fn next(&mut self) -> Option<(usize, &'t str)> {
        while !self.done {
            let (end, width) = next_list_separator(self.text.as_bytes(), self.start);
            self.done = width == 0;
            let piece = self.text.get(self.start..end)?;
            let item = trim_cell(piece);
            let offset = self.start + (item.as_ptr() as usize - piece.as_ptr() as usize);
            self.start = end + width;
            if !item.is_empty() {
                return Some((offset, item));
            }
        }
        None
    }
}

/// Where the first list separator at or after `from` is, and its length in bytes;
/// `(text.len(), 0)` when there is none. Byte by byte, not character by character: a
/// list cell is read for every record of a large table, and each separator beyond
/// ASCII has a lead byte that no other character's continuation can be.
fn next_list_separator(text: &[u8], from: usize) -> (usize, usize) {
    let mut at = from;
    while let Some(&b) = text.get(at) {
        match b {
            b';' | b',' | b'\n' | b'\r' => return (at, 1),
            // `；` EF BC 9B, `，` EF BC 8C, `、` E3 80 81.
            0xEF if matches!(text.get(at + 1..at + 3), Some([0xBC, 0x9B | 0x8C])) => {
                return (at, 3)
            }
            0xE3 if text.get(at + 1..at + 3) == Some(&[0x80, 0x81]) => return (at, 3),
            _ => at += 1,
        }
    }
    (text.len(), 0)
}

/// `2024-04-30` for dates written `2024-4-30`, `2024/4/30`, `2024.4.30` or
/// `2024年4月30日` (full-width digits too), optionally followed by a time of day
/// (` 00:00:00`, `T08:30`). `None` when the text is not of these shapes; month and day
/// ranges are left to the validator.
pub fn normalise_date(text: &str) -> Option<String> {
    // Most cells are already `YYYY-MM-DD`.
    let b = text.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
    {
        return Some(text.to_owned());
    }
    let ascii: String = text.chars().map(fullwidth_to_ascii).collect();
    let s = ascii.trim();
    let date = match s.find([' ', 'T']) {
        Some(i) => {
            let time = s[i + 1..].trim();
            let is_time = !time.is_empty()
                && time.contains(':')
                && time
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '.');
            if !is_time {
                return None;
            }
            s[..i].trim_end()
        }
        None => s,
    };
    let parts: Vec<&str> = match date.strip_suffix('日') {
        Some(rest) => rest.split(['年', '月']).collect(),
        None => date.split(['-', '/', '.']).collect(),
    };
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(y, 4, 4) && digits(m, 1, 2) && digits(d, 1, 2)) {
        return None;
    }
    Some(format!("{y}-{m:0>2}-{d:0>2}"))
}

/// Every used cell of a sheet, with its 0-based row and column. An XLSX sheet is
/// streamed: a sheet with two far-apart cells costs two cells, not a grid.
pub fn each_cell<RS: std::io::Read + std::io::Seek>(
    workbook: &mut Sheets<RS>,
    sheet: &str,
    cell: &mut dyn FnMut(u32, u32, &Data) -> Result<(), String>,
) -> Result<(), String> {
    match workbook {
        Sheets::Xlsx(xlsx) => {
            let mut reader = xlsx
                .worksheet_cells_reader(sheet)
                .map_err(|e| e.to_string())?;
            while let Some(c) = reader.next_cell().map_err(|e| e.to_string())? {
                let (row, col) = c.get_position();
                cell(row, col, &Data::from(c.get_value().clone()))?;
            }
        }
        other => {
            let range = other.worksheet_range(sheet).map_err(|e| e.to_string())?;
            let (row0, col0) = range.start().unwrap_or((0, 0));
            for (r, c, data) in range.used_cells() {
                let row = row0.saturating_add(u32::try_from(r).unwrap_or(u32::MAX));
                let col = col0.saturating_add(u32::try_from(c).unwrap_or(u32::MAX));
                cell(row, col, data)?;
            }
        }
    }
    Ok(())
}

/// A sheet's merged regions (none for formats that do not record them).
fn merged_regions<RS: std::io::Read + std::io::Seek>(
    workbook: &mut Sheets<RS>,
    sheet: &str,
) -> Vec<calamine::Dimensions> {
    match workbook {
        Sheets::Xlsx(xlsx) => xlsx.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
        Sheets::Xls(xls) => xls.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row as the `csv` crate reads it, each record placed as csv-core's are.
    fn rows_by_the_csv_crate(text: &str, delimiter: u8) -> Vec<Result<RawRow, LoadError>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        let mut rows = Vec::new();
        while reader.read_record(&mut record).expect("a text reads") {
            let start = record.position().map_or(0, |p| p.byte() as usize);
            let values: Vec<&str> = record.iter().collect();
            rows.push(Ok(quoted_record(text, delimiter, start, &values)));
        }
        rows
    }

    fn rows_shown(rows: &[Result<RawRow, LoadError>]) -> Vec<String> {
        rows.iter()
            .map(|row| match row {
                Ok(row) => format!(
                    "{:?} {:?}",
                    row.span,
                    row.cells
                        .iter()
                        .map(|c| (&c.text, c.span, c.direct))
                        .collect::<Vec<_>>()
                ),
                Err(e) => format!("error {} {:?}", e.code, e.span),
            })
            .collect()
    }

    /// Lines without quotes are split where they stand; the rows are those the `csv`
    /// crate reads, with the same places, for any mix of quoting, line ends, blank
    /// lines and byte-order marks.
    #[test]
    fn rows_split_in_place_are_those_the_csv_crate_reads() {
        let texts = [
            "a,b\nc,d\n",
            "a,b\r\nc,d",
            "\u{FEFF}a,b\nc,\"d,e\"\n\u{FEFF}f, g \n",
            "x,\"y\nz\",w\nplain,row\r\n\r\n\"q\"\"\",1\nlast",
            "a,b\rc,d\n e ,\u{3000}f\u{3000}\n",
            "\n\n a\t b \n\"\",\"\"\"\"\n",
            "\"open,never closed\nmore",
            "a,b\nc,d\n\u{FEFF}\"q\",1\ne,f\n\"g\",h\n",
            "",
            "\r\n",
        ];
        for text in texts {
            for delimiter in [b',', b'\t'] {
                let mixed: Vec<_> = CsvRows::new(text, delimiter).collect();
                assert_eq!(
                    rows_shown(&mixed),
                    rows_shown(&rows_by_the_csv_crate(text, delimiter)),
                    "{text:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_as_the_csv_crate_reads_it(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "中", " ", ",", "\t", "\"", "\n", "\r", "\u{FEFF}", "\u{3000}"]),
                0..40,
            )
        ) {
            let text = parts.concat();
            for delimiter in [b',', b'\t'] {
                let mixed: Vec<_> = CsvRows::new(&text, delimiter).collect();
                proptest::prop_assert_eq!(rows_shown(&mixed), rows_shown(&rows_by_the_csv_crate(&text, delimiter)));
            }
        }
    }

    proptest::proptest! {
        /// Cut as a large GBK table is: the text written so far, then each block where
        /// it was decoded (blocks end after a line break), then the whole.
        #[test]
        fn a_text_cut_block_by_block_is_cut_as_whole(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "中", ",", "\"", "\"\"", "\n", "\r\n", "\n\n", "b,\"x\ny\",c\n"]),
                0..60,
            ),
            cuts in proptest::collection::vec(0usize..1000, 0..6),
        ) {
            let text = parts.concat();
            let bytes = text.as_bytes();
            let mut starts: Vec<usize> = cuts
                .iter()
                .filter_map(|&c| {
                    let at = c % (bytes.len() + 1);
                    memchr::memchr(b'\n', &bytes[at..]).map(|i| at + i + 1)
                })
                .filter(|&at| at < bytes.len())
                .collect();
            starts.push(0);
            starts.sort_unstable();
            starts.dedup();
            let mut cutter = Cutter::default();
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
                cutter.advance_part(&bytes[..start], b',', start, false);
                cutter.advance_block(&bytes[start..end], start, b',', end == bytes.len());
            }
            cutter.advance_part(bytes, b',', bytes.len(), true);
            proptest::prop_assert_eq!(cutter.finish(bytes), record_ends(bytes, b','));
        }
    }

    /// A cell whose value is not the text at its place (the csv reader dropped a
    /// second byte-order mark) is placed on whole characters (found by fuzzing).
    #[test]
    fn a_cell_read_differently_is_placed_on_whole_characters() {
        let text = "\u{FEFF}\u{FF65}\u{011B}\u{FF65}\u{011B}";
        let cell = direct_cell(text, "\u{FF65}\u{011B}\u{FF65}\u{011B}", 0);
        let (start, end) = (cell.span.start as usize, cell.span.end as usize);
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        assert_eq!((start, end), (0, 11));
        let cell = direct_cell(text, &"x".repeat(40), 3);
        assert_eq!((cell.span.start, cell.span.end), (3, 13));
    }
    use encoding_rs::GB18030;

    fn manifest(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    fn yaml_docs(text: &str) -> Vec<Tree> {
        crate::parse::yaml::load(&SourceFile::from_text("t.yaml", text)).unwrap()
    }

    fn validated(mut trees: Vec<Tree>) -> Vec<Tree> {
        for tree in &mut trees {
            let kind = schema::header_str(tree, "kind").unwrap();
            let errors = schema::validate(tree, schema::kind_schema(&kind).unwrap());
            assert!(errors.is_empty(), "{errors:?}");
        }
        trees
    }

    fn csv(text: &str) -> Result<Vec<Tree>, Vec<TableError>> {
        load_table("t.csv", text.as_bytes(), false)
    }

    /// Every record of the documents, with its document's key, values and spans.
    fn record_dump(trees: &[Tree]) -> Vec<String> {
        fn node(t: &Tree, id: NodeId, out: &mut String) {
            let n = t.node(id);
            out.push_str(&format!("@{}-{}", n.span.start, n.span.end));
            match &n.value {
                Value::Map(entries) => {
                    for (k, v) in entries {
                        out.push_str(&format!(" {k}:("));
                        node(t, *v, out);
                        out.push(')');
                    }
                }
                Value::Seq(items) => {
                    for v in items {
                        out.push_str(" [");
                        node(t, *v, out);
                        out.push(']');
                    }
                }
                other => out.push_str(&format!(" {other:?}")),
            }
        }
        let mut dump = Vec::new();
        for t in trees {
            let key = format!(
                "{:?}/{:?}/{:?}",
                t.str_at(t.root, "department"),
                t.int_at(t.root, "year"),
                t.str_at(t.root, "task")
            );
            let records = t.get(t.root, "records").map(|r| t.seq(r).to_vec());
            for r in records.unwrap_or_default() {
                let mut line = key.clone();
                node(t, r, &mut line);
                dump.push(line);
            }
        }
        dump
    }

    /// A library's `updated_on` belongs to its department's document: its rows may
    /// write it differently, not give a different date (nor leave it out and then give
    /// one that differs).
    #[test]
    fn a_value_shared_by_a_department_is_the_same_in_each_of_its_rows() {
        let rows = |last: &str| {
            format!(
                "department,updated_on,id,name,risk_level\n\
                 A局,2024-03-01,O1,甲,A\n\
                 A局,2024/3/1,O2,乙,B\n\
                 B局,2024-04-01,O3,丙,A\n\
                 A局,,O4,丁,C\n\
                 A局,{last},O5,戊,D\n"
            )
        };
        let trees = csv(&rows("2024年3月1日")).unwrap();
        assert_eq!(trees.len(), 2);
        let a = &trees[0];
        assert_eq!(a.str_at(a.root, "updated_on"), Some("2024-03-01"));
        let count = |t: &Tree| t.get(t.root, "objects").map_or(0, |o| t.seq(o).len());
        assert_eq!((count(&trees[0]), count(&trees[1])), (4, 1));

        let text = rows("2024-03-02");
        let errors = csv(&text).unwrap_err();
        let found: Vec<(&str, &str, &str)> = errors
            .iter()
            .map(|e| {
                let span = e.error.span;
                (
                    e.error.code,
                    &text[span.start as usize..span.end as usize],
                    e.error.en.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [(
                "input/bad-value",
                "2024-03-02",
                "`updated_on` is `2024-03-02` here but `2024-03-01` in an earlier row of the same department"
            )]
        );
    }

    #[test]
    fn a_table_read_in_chunks_gives_the_records_read_whole() {
        let text = "department,year,task,object,inspectors,outcome,finished_on\n\
            A局,2024,T1,O1,P1;P2,\"line one\nline two\",2024/5/6\n\
            \n\
            A局,2024,T1,O2,\"P1, P3\",\"said \"\"no\"\"\",2024-05-07\n\
            A局,2024,T2,O3,P4,  padded  ,2024年5月8日\n\
            B局,2024,T1,\"O4\",P5,,\n\
            A局,2024,T1,O5,P6,ok,2024-05-09 08:30\n";
        let whole = load_table("t.csv", text.as_bytes(), false).unwrap();
        let table = CsvTable::open("t.csv", text.as_bytes().to_vec()).unwrap();
        for rows in [1, 2, 3, 100] {
            let mut chunked = Vec::new();
            for range in table.chunks(rows) {
                let trees = table.chunk(range).unwrap();
                // Chunks are read in order; records of a document follow its first.
                chunked.extend(record_dump(&trees));
            }
            let mut expected = record_dump(&whole);
            expected.sort();
            chunked.sort();
            assert_eq!(chunked, expected, "chunks of {rows} rows");
        }
    }

    fn codes(errors: &[TableError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.error.code).collect()
    }

    fn at(e: &TableError) -> (usize, usize) {
        e.source.line_col(e.error.span.start as usize)
    }

    fn shown(tree: &Tree, span: Span) -> &str {
        &tree.source.text[span.start as usize..span.end as usize]
    }

    /// Same keys and values, recursively (key order aside); no recursion in the walk.
    fn same_content(a: &Tree, b: &Tree) -> Result<(), String> {
        let mut stack = vec![(a.root, b.root, String::from("$"))];
        while let Some((x, y, path)) = stack.pop() {
            match (&a.node(x).value, &b.node(y).value) {
                (Value::Map(ex), Value::Map(ey)) => {
                    let mut kx: Vec<&str> = ex.iter().map(|(k, _)| k.as_str()).collect();
                    let mut ky: Vec<&str> = ey.iter().map(|(k, _)| k.as_str()).collect();
                    kx.sort();
                    ky.sort();
                    if kx != ky {
                        return Err(format!("{path}: keys {kx:?} vs {ky:?}"));
                    }
                    for (k, vx) in ex {
                        let vy = b.get(y, k).unwrap();
                        stack.push((*vx, vy, format!("{path}.{k}")));
                    }
                }
                (Value::Seq(ix), Value::Seq(iy)) => {
                    if ix.len() != iy.len() {
                        return Err(format!("{path}: {} vs {} items", ix.len(), iy.len()));
                    }
                    for (i, (p, q)) in ix.iter().zip(iy).enumerate() {
                        stack.push((*p, *q, format!("{path}[{i}]")));
                    }
                }
                (Value::Str(p), Value::Str(q)) if p == q => {}
                (Value::Int(p), Value::Int(q)) if p == q => {}
                (Value::Bool(p), Value::Bool(q)) if p == q => {}
                (Value::Float(p), Value::Float(q)) if p == q => {}
                (Value::Null, Value::Null) => {}
                (p, q) => return Err(format!("{path}: {p:?} vs {q:?}")),
            }
        }
        Ok(())
    }

    fn fixture_yaml() -> Vec<Tree> {
        let text = std::fs::read_to_string(manifest(
            "fixtures/rules/result-entry-deadline/fail/results.yaml",
        ))
        .unwrap();
        validated(yaml_docs(&text))
    }

    #[test]
    fn gbk_csv_fixture_is_the_yaml_fixture() {
        let bytes = std::fs::read(manifest("fixtures/tables/results-gbk.csv")).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the fixture must be GBK"
        );
        let trees = load_table("results-gbk.csv", &bytes, false).unwrap();
        assert_eq!(trees[0].source.encoding, Some("GB18030"));
        let trees = validated(trees);
        let yaml = fixture_yaml();
        assert_eq!(trees.len(), 1);
        same_content(&yaml[0], &trees[0]).unwrap();
        // entered_on of the first record: row 2, column 8.
        let t = &trees[0];
        let (node, found) = t.resolve(t.root, "records[0].entered_on");
        assert!(found);
        let span = t.report_span(node);
        assert_eq!(shown(t, span), "2024/5/31");
        let line = t.source.line_text(2);
        let col = line
            .split(',')
            .take(7)
            .map(|c| c.chars().count() + 1)
            .sum::<usize>()
            + 1;
        assert_eq!(t.source.line_col(span.start as usize), (2, col));
        // The record itself is shown at its row's first cell, the list at the header.
        let (rec, _) = t.resolve(t.root, "records[2]");
        assert_eq!(t.source.line_col(t.report_span(rec).start as usize), (4, 1));
        let records = t.get(t.root, "records").unwrap();
        assert_eq!(
            t.source.line_col(t.report_span(records).start as usize),
            (1, 1)
        );
    }

    #[test]
    fn gbk_csv_with_chinese_headers_matches_yaml() {
        let csv_text = "\u{feff}部门,年度,抽查任务,检查对象,主体类型,检查人员,检查完成日期,检查结果,是否发现问题,是否涉嫌犯罪,录入日期,公示渠道,公示日期,后续处置措施,后续处置责任部门,后续处置日期\r\n\
            江岸区市场监管局,2024,JA-1,914201,enterprise,P001；P002,2024/4/30,发现问题已责令改正,是,否,2024年5月6日,gsxt,2024.5.8,责令整改,江岸区市场监管局,2024-06-01\r\n\
            江岸区市场监管局,2024,JA-2,914202,individual,\"P003, P004\",2024-05-01 00:00:00,未发现问题,否,否,2024-05-02,website,,,,\r\n\
            \r\n\
            江岸区市场监管局,2024,JA-1,914203,enterprise,P001、P002,2024-04-03,,,,,,,,,\r\n";
        // Strip the BOM for the GBK version: GBK files have none.
        let (gbk, _, unmappable) = GB18030.encode(csv_text.trim_start_matches('\u{feff}'));
        assert!(!unmappable);
        let yaml = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n\
            - object: '914201'\n  entity_type: enterprise\n  inspectors: [P001, P002]\n  finished_on: 2024-04-30\n  outcome: 发现问题已责令改正\n  problem: true\n  crime_suspected: false\n  entered_on: 2024-05-06\n  publication: {channel: gsxt, published_on: 2024-05-08}\n  follow_up: {action: 责令整改, responsible: 江岸区市场监管局, done_on: 2024-06-01}\n\
            - object: '914203'\n  entity_type: enterprise\n  inspectors: [P001, P002]\n  finished_on: 2024-04-03\n\
            ---\nkind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-2\nrecords:\n\
            - object: '914202'\n  entity_type: individual\n  inspectors: [P003, P004]\n  finished_on: 2024-05-01\n  outcome: 未发现问题\n  problem: false\n  crime_suspected: false\n  entered_on: 2024-05-02\n  publication: {channel: website}\n";
        let expected = validated(yaml_docs(yaml));
        for bytes in [gbk.to_vec(), csv_text.as_bytes().to_vec()] {
            let trees = validated(load_table("t.csv", &bytes, false).unwrap());
            assert_eq!(trees.len(), 2);
            for (e, t) in expected.iter().zip(&trees) {
                same_content(e, t).unwrap();
            }
        }
        // List items are placed inside their cell, also in quoted cells.
        let trees = load_table("t.csv", csv_text.as_bytes(), false).unwrap();
        let t = &trees[1];
        let (p4, _) = t.resolve(t.root, "records[0].inspectors[1]");
        assert_eq!(shown(t, t.node(p4).span), "P004");
        // The document fields are shown at the cells of the document's first row.
        let task = t.get(t.root, "task").unwrap();
        assert_eq!(t.source.line_col(t.node(task).span.start as usize).0, 3);
        assert_eq!(shown(t, t.node(task).key_span.unwrap()), "抽查任务");
    }

    #[test]
    fn bad_date_is_reported_at_its_cell() {
        let text = "部门,年度,抽查任务,检查对象,检查人员,检查完成日期\n\
            江岸局,2024,T1,\"A,1\",P1,2024-01-02\n\
            江岸局,2024,T1,\"名称\"\"B\"\"\",P1;P2,2024-02-30\n";
        let mut trees = csv(text).unwrap();
        let errors = schema::validate(&mut trees[0], schema::kind_schema("Results").unwrap());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "input/bad-date");
        let source = &trees[0].source;
        // Row 3; `江岸局,2024,T1,"名称""B""",P1;P2,` is 28 characters before the cell.
        assert_eq!(source.line_col(errors[0].span.start as usize), (3, 29));
        assert_eq!(
            &source.text[errors[0].span.start as usize..errors[0].span.end as usize],
            "2024-02-30"
        );
        // An escaped quote: the value is unescaped, the span covers the quoted cell.
        let t = &trees[0];
        let (obj, _) = t.resolve(t.root, "records[1].object");
        assert!(matches!(&t.node(obj).value, Value::Str(s) if s == "名称\"B\""));
        assert_eq!(source.line_col(t.node(obj).span.start as usize), (3, 13));
        let (obj, _) = t.resolve(t.root, "records[0].object");
        assert_eq!(shown(t, t.node(obj).span), "A,1");
    }

    #[test]
    fn multi_line_cells_keep_later_positions() {
        let text = "department,year,task,object,outcome,finished_on\n\
            d,2024,T,O1,\"line one\nline two\",2024-13-01\n";
        let mut trees = csv(text).unwrap();
        let errors = schema::validate(&mut trees[0], schema::kind_schema("Results").unwrap());
        assert_eq!(errors[0].code, "input/bad-date");
        assert_eq!(
            trees[0].source.line_col(errors[0].span.start as usize),
            (3, 11)
        );
    }

    #[test]
    fn platform_export_words_name_record_columns() {
        // Results as the provincial platform exports them.
        let text =
            "部门名称,年度,抽查任务,被检查对象,执法人员,检查结束日期,录入时间,公示渠道,公示时间\n\
            A局,2024,T1,O1,P1、P2,2024/5/6,2024-05-20 10:31:00,gsxt,2024年5月21日\n";
        let trees = validated(csv(text).unwrap());
        let yaml = validated(yaml_docs(
            "kind: Results\ndepartment: A局\nyear: 2024\ntask: T1\nrecords:\n\
             - {object: O1, inspectors: [P1, P2], finished_on: 2024-05-06, entered_on: 2024-05-20,\n   publication: {channel: gsxt, published_on: 2024-05-21}}\n",
        ));
        same_content(&yaml[0], &trees[0]).unwrap();
        // The flat reader of streamed chunks knows the same words.
        let table = CsvTable::open("t.csv", text.as_bytes().to_vec()).unwrap();
        assert!(table.may_hold_results());
        let range = table.chunks(10)[0];
        assert!(FlatChunk::read(&table, range).is_some());
        // Libraries.
        let text = "部门,社会信用代码,企业名称,信用风险等级,所属行业\nA局,91420100MA4KXXXX0X,甲公司,B,食品销售\n";
        let trees = validated(csv(text).unwrap());
        let t = &trees[0];
        assert_eq!(t.str_at(t.root, "kind"), Some("ObjectLibrary"));
        let (uscc, _) = t.resolve(t.root, "objects[0].uscc");
        assert!(matches!(&t.node(uscc).value, Value::Str(s) if s == "91420100MA4KXXXX0X"));
        let text = "部门,人员编号,人员姓名,执法证件号,是否在岗\nA局,P1,张三,C1,是\n";
        let trees = validated(csv(text).unwrap());
        assert_eq!(
            trees[0].str_at(trees[0].root, "kind"),
            Some("PersonnelLibrary")
        );
    }

    #[test]
    fn headers_are_matched_tolerantly() {
        let text = " 部 门 ,ＹＥＡＲ,*抽查任务,检查对象（统一社会信用代码）,检查人员（ID）,检查完成日期 ,Finished-On,Publication Channel\n\
            d,2024,T,O1,P1,2024-01-02,,gsxt\n";
        let errors = csv(text).unwrap_err();
        // `检查完成日期 ` and `Finished-On` are the same column.
        assert_eq!(codes(&errors), ["input/duplicate-key"]);
        assert_eq!(at(&errors[0]), (1, 50));
        let text = text.replace(",Finished-On", "").replace(",,gsxt", ",gsxt");
        let trees = validated(csv(&text).unwrap());
        let t = &trees[0];
        for (path, want) in [
            ("department", "d"),
            ("records[0].object", "O1"),
            ("records[0].inspectors[0]", "P1"),
            ("records[0].finished_on", "2024-01-02"),
            ("records[0].publication.channel", "gsxt"),
        ] {
            let (n, found) = t.resolve(t.root, path);
            assert!(found, "{path}");
            assert!(
                matches!(&t.node(n).value, Value::Str(s) if s == want),
                "{path}"
            );
        }
        assert_eq!(t.int_at(t.root, "year"), Some(2024));
    }

    #[test]
    fn unknown_headers_suggest_and_missing_columns_are_named() {
        let errors = csv("部门,年度,抽查任务,检查对象,检查完成时刻,finishd_on\nd,2024,T,O,x,y\n")
            .unwrap_err();
        assert_eq!(
            codes(&errors),
            ["input/unknown-field", "input/unknown-field"]
        );
        assert!(
            errors[0].error.en.contains("did you mean `检查完成日期`"),
            "{}",
            errors[0].error.en
        );
        assert!(
            errors[0].error.zh.contains("是否应为 `检查完成日期`"),
            "{}",
            errors[0].error.zh
        );
        assert_eq!(at(&errors[0]), (1, 17));
        assert!(errors[1].error.en.contains("did you mean `finished_on`"));
        let errors = csv("department,task,object\nd,T,O\n").unwrap_err();
        assert_eq!(codes(&errors), ["input/missing-field"]);
        assert!(errors[0].error.en.contains("no `year` (年度) column"));
        let errors = csv("department,year,task,object,certificate\nd,2024,T,O,C\n").unwrap_err();
        assert!(errors[0]
            .error
            .en
            .contains("belongs in a PersonnelLibrary table"));
        let errors = csv("名称,部门\nx,d\n").unwrap_err();
        assert_eq!(codes(&errors), ["input/unknown-kind"]);
        let errors = csv("2024年抽查结果\n部门,年度\n").unwrap_err();
        assert!(errors.iter().any(|e| e.error.en.contains("title rows")));
    }

    #[test]
    fn ragged_rows_and_stray_values_are_errors() {
        let text = "department,year,task,object,finished_on\n\
            d,2024,T,O1,2024-01-01\n\
            d,2024,T,O2\n\
            d,2024,T,O3,2024-01-03,extra\n\
            d,2024,T,O4,2024-01-04,,\n\
            d,,T,O5,2024-01-05\n";
        let errors = csv(text).unwrap_err();
        assert_eq!(
            codes(&errors),
            ["input/malformed", "input/malformed", "input/missing-field"]
        );
        assert_eq!(at(&errors[0]), (3, 1));
        assert!(errors[0].error.en.contains("4 cells but the header has 5"));
        assert_eq!(at(&errors[1]), (4, 24));
        assert_eq!(at(&errors[2]), (6, 3));
        let errors = csv("department,,year,task,object\nd,x,2024,T,O\n").unwrap_err();
        assert_eq!(codes(&errors), ["input/malformed"]);
        assert_eq!(at(&errors[0]), (2, 3));
    }

    #[test]
    fn empty_and_header_only_tables_are_errors() {
        for text in ["", "\n\n", " , \n"] {
            assert_eq!(codes(&csv(text).unwrap_err()), ["input/empty"], "{text:?}");
        }
        let errors = csv("department,year,task,object\n,,,\n").unwrap_err();
        assert_eq!(codes(&errors), ["input/empty"]);
        assert!(errors[0].error.en.contains("no data rows"));
        let errors = load_table("b.csv", b"a,b\0", false).unwrap_err();
        assert_eq!(codes(&errors), ["input/encoding"]);
        assert_eq!(errors[0].source.name, "b.csv");
    }

    #[test]
    fn libraries_group_by_department_and_check_shared_fields() {
        let text = "kind,部门,更新日期,人员编号,姓名,执法证号,业务专长,在岗\n\
            PersonnelLibrary,A局,2024/1/5,P1,张三,C1,食品、药品,是\n\
            ,B局,,P9,李四,C9,,否\n\
            执法人员库,A局,2024-01-05,P2,王五,C2,特种设备,true\n";
        let trees = validated(csv(text).unwrap());
        let yaml = validated(yaml_docs(
            "kind: PersonnelLibrary\ndepartment: A局\nupdated_on: 2024-01-05\npeople:\n\
             - {id: P1, name: 张三, certificate: C1, expertise: [食品, 药品], active: true}\n\
             - {id: P2, name: 王五, certificate: C2, expertise: [特种设备], active: true}\n\
             ---\nkind: PersonnelLibrary\ndepartment: B局\npeople:\n\
             - {id: P9, name: 李四, certificate: C9, active: false}\n",
        ));
        assert_eq!(trees.len(), 2);
        same_content(&yaml[0], &trees[0]).unwrap();
        same_content(&yaml[1], &trees[1]).unwrap();
        // Another updated_on for the same department, another kind in the kind column.
        let text = "部门,更新日期,统一社会信用代码,名称,风险等级,标签,kind\n\
            A局,2024-01-05,U1,甲,A,,ObjectLibrary\n\
            A局,2024-02-01,U2,乙,B,x;y,\n\
            A局,,U3,丙,C,,Results\n";
        let errors = csv(text).unwrap_err();
        assert_eq!(codes(&errors), ["input/bad-value", "input/unknown-kind"]);
        assert_eq!(at(&errors[0]), (3, 4));
        assert_eq!(at(&errors[1]), (4, 13));
    }

    #[test]
    fn workbook_fixture_is_the_yaml_fixture() {
        let path = "fixtures/tables/results.xlsx";
        let bytes = std::fs::read(manifest(path)).unwrap();
        let trees = validated(load_table(path, &bytes, true).unwrap());
        // The hidden drop-down sheet and the empty Sheet2 are not tables.
        assert_eq!(trees.len(), 1);
        let t = &trees[0];
        assert_eq!(t.source.name, format!("{path}!Sheet1"));
        same_content(&fixture_yaml()[0], t).unwrap();
        let cell = |p: &str| {
            let (n, found) = t.resolve(t.root, p);
            assert!(found, "{p}");
            cell_ref(path, &t.source, t.report_span(n).start as usize).unwrap()
        };
        assert_eq!(cell("records[0].entered_on"), "Sheet1!H2");
        assert_eq!(cell("records[3].finished_on"), "Sheet1!G5");
        assert_eq!(cell("records[2].publication.published_on"), "Sheet1!J4");
        assert_eq!(cell("records[1].inspectors[1]"), "Sheet1!F3");
        assert_eq!(cell("records[1]"), "Sheet1!A3");
        assert_eq!(cell("year"), "Sheet1!B2");
        assert_eq!(cell("records"), "Sheet1!A1");
        // Line n of the shown text is row n; the date cell reads as a date.
        assert!(t.source.line_text(5).contains("2024-06-03"));
        let (n, _) = t.resolve(t.root, "records[3].finished_on");
        assert_eq!(t.source.line_col(t.node(n).span.start as usize).0, 5);
        assert_eq!(cell_ref("other.xlsx", &t.source, 0), None);
    }

    #[test]
    fn workbook_garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b"PK\x03\x04garbage"[..],
            b"not a workbook",
            &[0xD0, 0xCF, 0x11, 0xE0, 1, 2],
        ] {
            let errors = load_table("x.xlsx", bytes, true).unwrap_err();
            assert_eq!(codes(&errors), ["input/unreadable"]);
        }
        // Workbook bytes under a .csv name are read as a workbook.
        let bytes = std::fs::read(manifest("fixtures/tables/results.xlsx")).unwrap();
        assert_eq!(load_table("r.csv", &bytes, false).unwrap().len(), 1);
    }

    #[test]
    fn cell_names() {
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(52), "AZ");
        assert_eq!(column_letters(16384), "XFD");
        assert_eq!(cell_name("Sheet1", 12, 3), "Sheet1!C12");
        assert_eq!(cell_name("抽查结果", 2, 1), "抽查结果!A2");
        assert_eq!(cell_name("My sheet's", 1, 1), "'My sheet''s'!A1");
    }

    /// List items cut byte by byte are those of cutting the text character by
    /// character at the separators: for texts of every separator, white space (ASCII
    /// and beyond), and characters whose first byte is a separator's (`。` `ｆ`).
    #[test]
    fn list_items_are_those_of_cutting_by_characters() {
        fn by_characters(text: &str) -> Vec<(usize, &str)> {
            let is_sep = |c: char| matches!(c, ';' | '；' | '、' | ',' | '，' | '\n' | '\r');
            let mut start = 0;
            text.char_indices()
                .chain(std::iter::once((text.len(), ';')))
                .filter(|(_, c)| is_sep(*c))
                .filter_map(|(i, c)| {
                    let piece = &text[start..i];
                    let lead = piece.len() - piece.trim_start().len();
                    let item = (start + lead, piece.trim());
                    start = i + c.len_utf8();
                    (!item.1.is_empty()).then_some(item)
                })
                .collect()
        }
        let parts = [
            "P001", ";", "；", "、", ",", "，", "\n", "\r", " ", "\u{3000}", "\u{a0}", "张三",
            "。", "ｆ", "〇", "，，", "\t", "A",
        ];
        let mut texts = vec![String::new()];
        for a in parts {
            for b in parts {
                for c in parts {
                    texts.push(format!("{a}{b}{c}"));
                    texts.push(format!("{a}P0{b}x{c}"));
                }
            }
        }
        for text in &texts {
            let fast: Vec<(usize, &str)> = list_items(text).collect();
            assert_eq!(fast, by_characters(text), "{text:?}");
        }
    }

    #[test]
    fn sheet_text_places_cells_by_row_and_column() {
        let cells = vec![
            SheetCell {
                row: 2,
                col: 3,
                value: CellValue::Text("b\nc".into()),
            },
            SheetCell {
                row: 0,
                col: 1,
                value: CellValue::Text(" a ".into()),
            },
            SheetCell {
                row: 2,
                col: 0,
                value: CellValue::Error("#N/A".into()),
            },
        ];
        let (source, rows) = sheet_rows("w.xlsx!S", cells).unwrap();
        assert_eq!(source.text, "\t a \n\n#N/A\t\t\tb c\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cells[1].text, "a");
        assert_eq!(
            cell_ref("w.xlsx", &source, rows[0].cells[1].span.start as usize).as_deref(),
            Some("S!B1")
        );
        assert_eq!(rows[1].cells.len(), 4);
        assert!(rows[1].cells[0].excel_error);
        assert_eq!(
            cell_ref("w.xlsx", &source, rows[1].cells[2].span.start as usize).as_deref(),
            Some("S!C3")
        );
        assert_eq!(
            cell_ref("w.xlsx", &source, rows[1].cells[3].span.start as usize).as_deref(),
            Some("S!D3")
        );
        assert_eq!(
            split_list(&rows[1].cells[3].text),
            [(0, "b".to_owned()), (2, "c".to_owned())]
        );
    }

    #[test]
    fn dates_are_normalised() {
        for (given, want) in [
            ("2024-04-30", Some("2024-04-30")),
            ("2024/4/3", Some("2024-04-03")),
            ("2024.12.1", Some("2024-12-01")),
            ("2024年4月30日", Some("2024-04-30")),
            ("２０２４－０４－３０", Some("2024-04-30")),
            ("2024/4/30 0:00:00", Some("2024-04-30")),
            ("2024-04-30T08:30", Some("2024-04-30")),
            ("2024/2/30", Some("2024-02-30")),
            ("30/4/2024", None),
            ("2024-04", None),
            ("soon", None),
            ("2024-04-30 later", None),
        ] {
            assert_eq!(normalise_date(given).as_deref(), want, "{given}");
        }
    }

    #[test]
    fn chinese_headers_agree_with_the_schema() {
        let nested = |key: &str| -> &'static [schema::Field] {
            match schema::RESULT.iter().find(|f| f.name == key).map(|f| &f.ty) {
                Some(schema::Ty::Obj(fields)) => fields,
                _ => &[],
            }
        };
        for (fields, kind) in [
            (schema::RESULT, TableKind::Results),
            (schema::OBJECT, TableKind::ObjectLibrary),
            (schema::PERSON, TableKind::PersonnelLibrary),
        ] {
            for id in kind.columns() {
                let c = column(id).unwrap();
                if c.place != Record {
                    continue;
                }
                let field = match c.sub {
                    None => fields.iter().find(|f| f.name == c.key),
                    Some(sub) => nested(c.key).iter().find(|f| f.name == sub),
                };
                let field = field.unwrap_or_else(|| panic!("{id} is not a field"));
                assert!(c.zh.contains(&field.zh), "{id}: {} vs {:?}", field.zh, c.zh);
            }
        }
    }

    /// Record ends read byte by byte, as csv-core reads them.
    fn record_ends_bytewise(text: &[u8], delimiter: u8) -> Vec<u32> {
        let mut ends = Vec::new();
        let (mut in_quotes, mut field_start) = (false, true);
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            if in_quotes {
                if b == b'"' {
                    if text.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    in_quotes = false;
                }
            } else if b == b'"' && field_start {
                in_quotes = true;
            } else if b == b'\n' {
                // A line of a CR only is as empty as an empty one.
                let start = ends.last().map_or(0, |&e| e as usize);
                let content_end = if i > start && text[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                if content_end > start {
                    ends.push((i + 1) as u32);
                }
                field_start = true;
                i += 1;
                continue;
            }
            field_start = b == delimiter;
            i += 1;
        }
        if ends.last().map(|&e| e as usize) != Some(text.len()) && !text.is_empty() {
            ends.push(text.len() as u32);
        }
        ends
    }

    #[test]
    fn record_ends_jump_as_csv_core_reads() {
        let mut texts: Vec<Vec<u8>> = [
            "a,b\nc,d\n",
            "\n\na,\"x\ny\",b\n\nc",
            "a\"b,\"c\"\"\n\",d\n",
            "\"\"\"\n",
            "\"open\nnever closed",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
        // All cells quoted, as many exports write them, with line breaks, doubled
        // quotes and an empty field inside: cut 64 bytes at a time.
        let quoted: String = (0..40)
            .map(|i| format!("\"甲{i}\",\"2024\",\"a \"\"b\"\"\nc\",\"\",\"x,y\"\r\n"))
            .collect();
        texts.push(quoted.clone().into_bytes());
        // … and then a quote inside a field not quoted, read byte by byte from there.
        texts.push(format!("{quoted}a\"b,\"c\nd\"\n{quoted}").into_bytes());
        // And a few thousand short texts of the bytes that matter, some longer than a
        // block of 64.
        let mut state: u64 = 7;
        for n in 0..4000 {
            let len = (state % if n % 4 == 0 { 300 } else { 24 }) as usize;
            let text = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    b"a,\"\n\t\r"[(state >> 33) as usize % 6]
                })
                .collect();
            texts.push(text);
        }
        for text in &texts {
            for delimiter in [b',', b'\t'] {
                assert_eq!(
                    record_ends(text, delimiter),
                    record_ends_bytewise(text, delimiter),
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
                // Cut a few bytes at a time, as a mapped table is.
                for step in [1, 2, 5] {
                    let mut cutter = Cutter::default();
                    let mut upto = 0;
                    while upto < text.len() {
                        upto = (upto + step).min(text.len());
                        cutter.advance(text, delimiter, upto);
                    }
                    assert_eq!(
                        cutter.finish(text),
                        record_ends(text, delimiter),
                        "{:?} in steps of {step}",
                        String::from_utf8_lossy(text)
                    );
                    // Told only of the text so far, a step ahead of where to cut to,
                    // as a decoded table is.
                    let mut cutter = Cutter::default();
                    let mut upto = 0;
                    while upto < text.len() {
                        let so_far = (upto + 2 * step).min(text.len());
                        cutter.advance_part(&text[..so_far], delimiter, upto, false);
                        upto = (upto + step).min(text.len());
                    }
                    cutter.advance_part(text, delimiter, text.len(), true);
                    assert_eq!(
                        cutter.finish(text),
                        record_ends(text, delimiter),
                        "{:?} in parts, steps of {step}",
                        String::from_utf8_lossy(text)
                    );
                }
            }
        }
    }

    /// Plain UTF-8 (LF or CRLF, a BOM, quoted line breaks) is mapped, with the records
    /// and header of the table read into memory; any other bytes are left to be read.
    #[test]
    fn plain_utf8_tables_are_mapped_and_others_read() {
        let lf = "部门,年度,抽查任务,检查对象\n甲,2024,T1,\"A\nB\"\n\n乙,2024,T2,C\n";
        let crlf = lf.replace('\n', "\r\n");
        let mapped = |bytes: &[u8]| {
            let mut file = tempfile::tempfile().expect("temp file");
            std::io::Write::write_all(&mut file, bytes).expect("write");
            // SAFETY: a file of this test's own, not written while mapped.
            let map = unsafe { memmap2::Mmap::map(&file) }.expect("map");
            CsvTable::open_mapped("t.csv", map)
        };
        let read = CsvTable::open("t.csv", lf.as_bytes().to_vec()).expect("table");
        for bytes in [
            lf.as_bytes().to_vec(),
            crlf.as_bytes().to_vec(),
            [&b"\xEF\xBB\xBF"[..], crlf.as_bytes()].concat(),
        ] {
            let table = mapped(&bytes).expect("mapped");
            assert_eq!(table.ends.len(), read.ends.len());
            assert_eq!(
                table.header_row.as_ref().map(|r| r.cells.len()),
                read.header_row.as_ref().map(|r| r.cells.len())
            );
            let object = |t: &CsvTable| {
                let trees = t.chunk(t.chunks(1)[0]).expect("rows");
                let tree = &trees[0];
                let records = tree.get(tree.root, "records").expect("records");
                let record = tree.seq(records)[0];
                let object = tree.get(record, "object").expect("object");
                let at = tree.node(object).span.start as usize;
                (
                    tree.str_at(record, "object").map(str::to_owned),
                    tree.source.line_col(at),
                )
            };
            assert_eq!(object(&table), object(&read));
            assert_eq!(object(&read).0.as_deref(), Some("A\nB"));
            assert_eq!(
                table.source.line_col(table.ends[1] as usize),
                read.source.line_col(read.ends[1] as usize)
            );
        }
        let gbk = encoding_rs::GBK.encode(lf).0.into_owned();
        for bytes in [gbk, b"a,b\rc,d\n".to_vec(), b"a,b\nc,\0\n".to_vec()] {
            assert!(mapped(&bytes).is_none());
        }
    }

    #[test]
    fn large_tables_load_in_linear_time() {
        let mut text = String::from("部门,年度,抽查任务,检查对象,检查人员,检查完成日期\n");
        let rows = 200_000;
        for i in 0..rows {
            text.push_str(&format!(
                "局{},2024,T{},O{i},P1;P2,2024/5/{}\n",
                i % 7,
                i % 13,
                i % 28 + 1
            ));
        }
        let started = std::time::Instant::now();
        let trees = csv(&text).unwrap();
        assert_eq!(trees.len(), 7 * 13);
        let records: usize = trees
            .iter()
            .map(|t| t.seq(t.get(t.root, "records").unwrap()).len())
            .sum();
        assert_eq!(records, rows);
        assert!(started.elapsed().as_secs() < 60);
    }

    #[test]
    fn error_flood_is_capped() {
        let mut text = String::from("department,year,task,object\n");
        for _ in 0..1000 {
            text.push_str("d,2024\n");
        }
        let errors = csv(&text).unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS + 1);
    }
}
