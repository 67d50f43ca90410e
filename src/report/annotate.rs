//! Annotated copies of input tables: the department's own CSV or workbook, rewritten as
//! a workbook in which every cell a diagnostic points at is highlighted and carries a
//! note with the message and the fix, and every row with diagnostics lists them in one
//! more column. Staff work through the findings in the file they know; the input itself
//! is only read.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use calamine::{Data, Reader, SheetType, SheetVisible, Sheets};
use rust_xlsxwriter::{Color, Format, FormatAlign, Note, Worksheet, XlsxError};

use super::cells::{Cell, CsvIndex, Locator, TableFile};
use super::xlsx::{clip, severity_name};
use crate::diag::{Diagnostic, Lang, Report, Severity};
use crate::parse::source::SourceFile;

/// Notes written per sheet. A note costs about 13 KB while the workbook is built, and
/// spreadsheet programs slow down with tens of thousands; past this, offending cells are
/// still highlighted and listed in the findings column.
pub const MAX_NOTES_PER_SHEET: usize = 10_000;

/// The diagnostics of one input table, by sheet and cell.
pub struct TableMarks<'r> {
    /// The file as the diagnostics name it (relative to the working folder).
    pub path: &'r str,
    csv: bool,
    /// A CSV file's text as the check read it (diagnostics hold it), not read again.
    text: Option<Arc<SourceFile>>,
    /// (sheet — empty for CSV, cell) → diagnostics there.
    marks: BTreeMap<(&'r str, Cell), Vec<&'r Diagnostic>>,
}

/// The input tables that diagnostics point into, each with its placed diagnostics.
pub fn tables(report: &Report) -> Vec<TableMarks<'_>> {
    let mut locator = Locator::default();
    let mut by_path: BTreeMap<&str, TableMarks> = BTreeMap::new();
    for d in &report.diagnostics {
        let Some(table) = TableFile::of(&d.file) else {
            continue;
        };
        let Some(cell) = locator.cell(d) else {
            continue;
        };
        let (path, sheet, csv) = match table {
            TableFile::Csv { path } => (path, "", true),
            TableFile::Sheet { workbook, sheet } => (workbook, sheet, false),
        };
        let table = by_path.entry(path).or_insert_with(|| TableMarks {
            path,
            csv,
            text: None,
            marks: BTreeMap::new(),
        });
        if csv && table.text.is_none() {
            table.text = d.source.clone().filter(|s| s.name == path);
        }
        table.marks.entry((sheet, cell)).or_default().push(d);
    }
    by_path.into_values().collect()
}

/// Where the annotated copy of `shown` goes under `dir`: the same relative path (so
/// tables of the same name in different folders stay apart), as a workbook.
pub fn copy_path(dir: &Path, shown: &str) -> PathBuf {
    let mut out = dir.to_path_buf();
    for part in Path::new(shown).components() {
        if let Component::Normal(name) = part {
            out.push(name);
        }
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.to_ascii_lowercase().ends_with(".xlsx") {
        out.set_file_name(format!("{name}.xlsx"));
    }
    out
}

/// A cell value of the copy.
enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    /// An Excel date serial; `with_time` when it has a time of day.
    Date {
        serial: f64,
        with_time: bool,
    },
}

/// Gives a sheet's cells, row by row, to `put` (cells of one row in any order).
type Visit<'a> = dyn FnMut(u32, u16, Value) -> Result<(), String> + 'a;

/// The table being copied: its text, or its workbook.
enum Input<'b> {
    Csv(Arc<SourceFile>),
    Workbook(Box<Sheets<Cursor<&'b [u8]>>>),
}

impl Input<'_> {
    /// The sheets to write: (name, hidden).
    fn sheets(&self, path: &str) -> Vec<(String, bool)> {
        match self {
            Input::Csv(_) => vec![(sheet_name(path), false)],
            Input::Workbook(book) => {
                let metas: Vec<_> = book
                    .sheets_metadata()
                    .iter()
                    .filter(|m| m.typ == SheetType::WorkSheet)
                    .map(|m| (m.name.clone(), m.visible != SheetVisible::Visible))
                    .collect();
                let all_hidden = metas.iter().all(|(_, hidden)| *hidden);
                metas
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, hidden))| (name, hidden && !(all_hidden && i == 0)))
                    .collect()
            }
        }
    }

    fn visit(&mut self, sheet: &str, put: &mut Visit) -> Result<(), String> {
        match self {
            Input::Csv(source) => {
                let mut row = 0u32;
                CsvIndex::each_record(&source.text, |fields| {
                    for (col, field) in fields.into_iter().enumerate() {
                        if field.value.is_empty() {
                            continue;
                        }
                        let col = u16::try_from(col).map_err(|_| "too many columns".to_owned())?;
                        put(row, col, Value::Text(field.value))?;
                    }
                    row = row
                        .checked_add(1)
                        .ok_or_else(|| "too many rows".to_owned())?;
                    Ok(())
                })
            }
            // calamine may panic on a damaged file.
            Input::Workbook(book) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                visit_sheet(book, sheet, put)
            }))
            .unwrap_or_else(|_| Err("the workbook is damaged".to_owned())),
        }
    }
}

fn visit_sheet(
    book: &mut Sheets<Cursor<&[u8]>>,
    sheet: &str,
    put: &mut Visit,
) -> Result<(), String> {
    let mut give = |row: u32, col: u32, data: &Data| match (value_of(data), u16::try_from(col)) {
        (Some(value), Ok(col)) => put(row, col, value),
        _ => Ok(()),
    };
    crate::read::table::each_cell(book, sheet, &mut give)
}

impl TableMarks<'_> {
    /// The annotated copy as workbook bytes; reads the input table from disk. Rows are
    /// written in order and not kept (constant memory), so a large table costs its
    /// text, not a grid of cells.
    pub fn workbook(&self, lang: Lang) -> Result<Vec<u8>, String> {
        let in_file = |e: String| format!("{}: {e}", self.path);
        let read = || std::fs::read(self.path).map_err(|e| in_file(e.to_string()));
        let bytes = match &self.text {
            Some(_) => Vec::new(),
            None => read()?,
        };
        let mut input = if self.csv {
            match &self.text {
                Some(text) => Input::Csv(Arc::clone(text)),
                None => Input::Csv(
                    SourceFile::decode(self.path, &bytes).map_err(|e| in_file(e.to_string()))?,
                ),
            }
        } else {
            crate::read::table::workbook_limits::check(&bytes).map_err(|r| in_file(r.en))?;
            let book = std::panic::catch_unwind(|| {
                calamine::open_workbook_auto_from_rs(Cursor::new(bytes.as_slice()))
            })
            .map_err(|_| in_file("the workbook is damaged".to_owned()))?
            .map_err(|e| in_file(e.to_string()))?;
            Input::Workbook(Box::new(book))
        };
        let mut book = super::xlsx::marked_workbook("annotated copy");
        for (name, hidden) in input.sheets(self.path) {
            let key = if self.csv { "" } else { name.as_str() };
            let marks: Vec<(Cell, &[&Diagnostic])> = self
                .marks
                .range((key, Cell { row: 0, col: None })..)
                .take_while(|((s, _), _)| *s == key)
                .map(|((_, cell), ds)| (*cell, ds.as_slice()))
                .collect();
            // First pass: where the table ends, for the findings column.
            let (mut last_col, mut header_row) = (None::<u16>, None::<u32>);
            input
                .visit(&name, &mut |row, col, _| {
                    last_col = last_col.max(Some(col));
                    header_row = Some(header_row.map_or(row, |h| h.min(row)));
                    Ok(())
                })
                .map_err(in_file)?;
            let findings_col = last_col
                .max(marks.iter().filter_map(|(c, _)| c.col).max())
                .map_or(0, |c| c.saturating_add(1));
            let ws = book.add_worksheet_with_constant_memory();
            ws.set_name(&name).map_err(|e| in_file(e.to_string()))?;
            ws.set_hidden(hidden);
            let mut sheet = SheetWriter {
                ws,
                marks,
                next_mark: 0,
                findings_col,
                header_row: header_row.unwrap_or(0),
                row: None,
                written: Vec::new(),
                notes: 0,
                lang,
            };
            sheet.start().map_err(|e| in_file(e.to_string()))?;
            input
                .visit(&name, &mut |row, col, value| {
                    sheet.cell(row, col, value).map_err(|e| e.to_string())
                })
                .map_err(in_file)?;
            sheet.finish().map_err(|e| in_file(e.to_string()))?;
        }
        book.save_to_buffer().map_err(|e| in_file(e.to_string()))
    }
}

/// Writes one sheet of the copy row by row: the input's cells, and on each row with
/// diagnostics the highlights, notes and the findings column.
struct SheetWriter<'w, 'r> {
    ws: &'w mut Worksheet,
    /// The sheet's diagnostics by cell, in row order.
    marks: Vec<(Cell, &'r [&'r Diagnostic])>,
    /// The first mark not yet written.
    next_mark: usize,
    findings_col: u16,
    header_row: u32,
    /// The row being written.
    row: Option<u32>,
    /// Columns of the row written so far.
    written: Vec<u16>,
    notes: usize,
    lang: Lang,
}

impl SheetWriter<'_, '_> {
    fn start(&mut self) -> Result<(), XlsxError> {
        self.ws.set_column_width(self.findings_col, 60)?;
        Ok(())
    }

    fn severity_at(&self, row: u32, col: u16) -> Option<Severity> {
        self.marks[self.next_mark..]
            .iter()
            .take_while(|(c, _)| c.row == row)
            .find(|(c, _)| c.col == Some(col))
            .map(|(_, ds)| worst(ds))
    }

    fn cell(&mut self, row: u32, col: u16, value: Value) -> Result<(), XlsxError> {
        if self.row != Some(row) {
            self.end_row()?;
            self.rows_before(row)?;
            self.row = Some(row);
        }
        let mut format = Format::new();
        if let Some(severity) = self.severity_at(row, col) {
            format = highlight(format, severity);
        }
        self.written.push(col);
        let ws = &mut *self.ws;
        match value {
            Value::Text(s) => ws.write_string_with_format(row, col, clip(&s), &format)?,
            Value::Number(n) => ws.write_number_with_format(row, col, n, &format)?,
            Value::Bool(b) => ws.write_boolean_with_format(row, col, b, &format)?,
            Value::Date { serial, with_time } => {
                let shown = if with_time {
                    "yyyy-mm-dd hh:mm:ss"
                } else {
                    "yyyy-mm-dd"
                };
                ws.write_number_with_format(row, col, serial, &format.set_num_format(shown))?
            }
        };
        Ok(())
    }

    /// Rows before `row` that hold diagnostics but no cells.
    fn rows_before(&mut self, row: u32) -> Result<(), XlsxError> {
        while let Some((cell, _)) = self.marks.get(self.next_mark) {
            if cell.row >= row {
                break;
            }
            self.row = Some(cell.row);
            self.end_row()?;
        }
        Ok(())
    }

    /// Completes the current row: highlighted empty cells, notes, the findings column.
    fn end_row(&mut self) -> Result<(), XlsxError> {
        let Some(row) = self.row.take() else {
            return Ok(());
        };
        let lang = self.lang;
        let here = self.marks[self.next_mark..]
            .iter()
            .take_while(|(c, _)| c.row == row)
            .count();
        let marks = &self.marks[self.next_mark..self.next_mark + here];
        self.next_mark += here;
        let mut lines = Vec::new();
        let mut worst_here = None;
        for (cell, ds) in marks {
            if let Some(col) = cell.col {
                if !self.written.contains(&col) {
                    self.ws
                        .write_blank(row, col, &highlight(Format::new(), worst(ds)))?;
                }
                if self.notes < MAX_NOTES_PER_SHEET {
                    self.notes += 1;
                    let text: Vec<String> = ds.iter().map(|d| note_text(d, lang)).collect();
                    self.ws.insert_note(row, col, &note(&text.join("\n\n")))?;
                }
            }
            for d in ds.iter() {
                worst_here = worst_here.max(Some(d.severity));
                lines.push(format!(
                    "{} {} {}: {}",
                    cell.name(),
                    severity_name(d.severity, lang),
                    d.rule,
                    d.message.get(lang)
                ));
            }
        }
        self.written.clear();
        if row == self.header_row {
            let title = match lang {
                Lang::Zh => "spotlint 发现的问题",
                Lang::En => "spotlint findings",
            };
            let bold = Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2));
            self.ws
                .write_string_with_format(row, self.findings_col, title, &bold)?;
            // The header row's own findings go into the note of the column's title.
            if !lines.is_empty() {
                self.ws
                    .insert_note(row, self.findings_col, &note(&lines.join("\n")))?;
            }
        } else if let Some(severity) = worst_here {
            let format = highlight(Format::new(), severity)
                .set_text_wrap()
                .set_align(FormatAlign::Top);
            self.ws.write_string_with_format(
                row,
                self.findings_col,
                clip(&lines.join("\n")),
                &format,
            )?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), XlsxError> {
        self.end_row()?;
        self.rows_before(u32::MAX)
    }
}

fn note(text: &str) -> Note {
    Note::new(clip(text))
        .set_author("spotlint")
        .set_width(360)
        .set_height(160)
}

fn worst(ds: &[&Diagnostic]) -> Severity {
    ds.iter()
        .map(|d| d.severity)
        .max()
        .unwrap_or(Severity::Warning)
}

/// Excel's own "bad" (errors) and "neutral" (warnings) colours.
fn highlight(format: Format, severity: Severity) -> Format {
    match severity {
        Severity::Error => format
            .set_background_color(Color::RGB(0xFFC7CE))
            .set_font_color(Color::RGB(0x9C0006)),
        Severity::Warning => format
            .set_background_color(Color::RGB(0xFFEB9C))
            .set_font_color(Color::RGB(0x9C5700)),
    }
}

fn note_text(d: &Diagnostic, lang: Lang) -> String {
    let mut text = format!(
        "[{}] {}: {}",
        severity_name(d.severity, lang),
        d.rule,
        d.message.get(lang)
    );
    if let Some(help) = &d.help {
        let fix = match lang {
            Lang::Zh => "整改：",
            Lang::En => "Fix: ",
        };
        text.push('\n');
        text.push_str(fix);
        text.push_str(help.get(lang));
    }
    text
}

/// A worksheet name from a file name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(path: &str) -> String {
    let stem = Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let name = name.trim_matches('\'').to_owned();
    if name.is_empty() || name.eq_ignore_ascii_case("history") {
        "Sheet1".to_owned()
    } else {
        name
    }
}

fn value_of(data: &Data) -> Option<Value> {
    Some(match data {
        Data::Empty => return None,
        Data::String(s) => Value::Text(s.clone()),
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => Value::Date {
            serial: dt.as_f64(),
            with_time: dt.as_f64().fract() != 0.0,
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Text(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_the_relative_path_as_workbooks() {
        let dir = Path::new("out");
        assert_eq!(
            copy_path(dir, "./dept/results.csv"),
            Path::new("out/dept/results.csv.xlsx")
        );
        assert_eq!(
            copy_path(dir, "../x/book.XLSX"),
            Path::new("out/x/book.XLSX")
        );
        assert_eq!(
            copy_path(dir, "/abs/book.xls"),
            Path::new("out/abs/book.xls.xlsx")
        );
    }

    #[test]
    fn sheet_names_fit_excel() {
        assert_eq!(sheet_name("a/results-gbk.csv"), "results-gbk");
        assert_eq!(sheet_name("a/[x]:y.csv"), "xy");
        assert_eq!(
            sheet_name(&format!("{}.csv", "长".repeat(40)))
                .chars()
                .count(),
            31
        );
    }
}
