//! Annotated copies of input tables: the department's own CSV or workbook, rewritten as
//! a workbook in which every cell a diagnostic points at is highlighted and carries a
//! note with the message and the fix, and every row with diagnostics lists them in one
//! more column. Staff work through the findings in the file they know; the input itself
//! is only read.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Component, Path, PathBuf};

use calamine::{Data, Reader, SheetType, SheetVisible};
use rust_xlsxwriter::{Color, Format, FormatAlign, Note, Workbook, Worksheet, XlsxError};

use super::cells::{Cell, CsvIndex, Locator, TableFile};
use super::xlsx::{clip, severity_name};
use crate::diag::{Diagnostic, Lang, Report, Severity};
use crate::parse::source::SourceFile;

/// The diagnostics of one input table, by sheet and cell.
pub struct TableMarks<'r> {
    /// The file as the diagnostics name it (relative to the working folder).
    pub path: &'r str,
    csv: bool,
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
        by_path
            .entry(path)
            .or_insert_with(|| TableMarks {
                path,
                csv,
                marks: BTreeMap::new(),
            })
            .marks
            .entry((sheet, cell))
            .or_default()
            .push(d);
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

struct Sheet {
    name: String,
    hidden: bool,
    cells: BTreeMap<(u32, u16), Value>,
}

impl TableMarks<'_> {
    /// The annotated copy as workbook bytes; reads the input table from disk.
    pub fn workbook(&self, lang: Lang) -> Result<Vec<u8>, String> {
        let bytes = std::fs::read(self.path).map_err(|e| format!("{}: {e}", self.path))?;
        let sheets = if self.csv {
            vec![csv_sheet(self.path, &bytes)?]
        } else {
            workbook_sheets(&bytes).map_err(|e| format!("{}: {e}", self.path))?
        };
        self.write(sheets, lang)
            .map_err(|e| format!("{}: {e}", self.path))
    }

    fn write(&self, sheets: Vec<Sheet>, lang: Lang) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        for sheet in sheets {
            let ws = book.add_worksheet();
            ws.set_name(&sheet.name)?;
            ws.set_hidden(sheet.hidden);
            let key = if self.csv { "" } else { sheet.name.as_str() };
            self.write_sheet(ws, &sheet, key, lang)?;
        }
        book.save_to_buffer()
    }

    fn write_sheet(
        &self,
        ws: &mut Worksheet,
        sheet: &Sheet,
        key: &str,
        lang: Lang,
    ) -> Result<(), XlsxError> {
        let marks: Vec<(&Cell, &Vec<&Diagnostic>)> = self
            .marks
            .range((key, Cell { row: 0, col: None })..)
            .take_while(|((s, _), _)| *s == key)
            .map(|((_, cell), ds)| (cell, ds))
            .collect();
        let highlighted: BTreeMap<(u32, u16), Severity> = marks
            .iter()
            .filter_map(|(cell, ds)| Some(((cell.row, cell.col?), worst(ds))))
            .collect();
        for (&(row, col), value) in &sheet.cells {
            let mut format = Format::new();
            if let Some(severity) = highlighted.get(&(row, col)) {
                format = highlight(format, *severity);
            }
            match value {
                Value::Text(s) => ws.write_string_with_format(row, col, clip(s), &format)?,
                Value::Number(n) => ws.write_number_with_format(row, col, *n, &format)?,
                Value::Bool(b) => ws.write_boolean_with_format(row, col, *b, &format)?,
                Value::Date { serial, with_time } => {
                    let shown = if *with_time {
                        "yyyy-mm-dd hh:mm:ss"
                    } else {
                        "yyyy-mm-dd"
                    };
                    ws.write_number_with_format(row, col, *serial, &format.set_num_format(shown))?
                }
            };
        }
        for (&(row, col), severity) in &highlighted {
            if !sheet.cells.contains_key(&(row, col)) {
                ws.write_blank(row, col, &highlight(Format::new(), *severity))?;
            }
        }
        for (cell, ds) in &marks {
            if let Some(col) = cell.col {
                let text: Vec<String> = ds.iter().map(|d| note_text(d, lang)).collect();
                let note = Note::new(clip(&text.join("\n\n")))
                    .set_author("spotlint")
                    .set_width(360)
                    .set_height(160);
                ws.insert_note(cell.row, col, &note)?;
            }
        }
        // The findings column: one past the last used column, titled on the header row.
        let last_col = sheet
            .cells
            .keys()
            .map(|(_, c)| *c)
            .chain(marks.iter().filter_map(|(c, _)| c.col))
            .max();
        let findings_col = last_col.map_or(0, |c| c.saturating_add(1));
        let header_row = sheet.cells.keys().map(|(r, _)| *r).min().unwrap_or(0);
        let title = match lang {
            Lang::Zh => "spotlint 发现的问题",
            Lang::En => "spotlint findings",
        };
        ws.write_string_with_format(
            header_row,
            findings_col,
            title,
            &Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2)),
        )?;
        ws.set_column_width(findings_col, 60)?;
        let mut by_row: BTreeMap<u32, Vec<(Cell, &Diagnostic)>> = BTreeMap::new();
        for (cell, ds) in &marks {
            for d in ds.iter() {
                by_row.entry(cell.row).or_default().push((**cell, d));
            }
        }
        for (row, found) in by_row {
            let lines: Vec<String> = found
                .iter()
                .map(|(cell, d)| {
                    format!(
                        "{} {} {}: {}",
                        cell.name(),
                        severity_name(d.severity, lang),
                        d.rule,
                        d.message.get(lang)
                    )
                })
                .collect();
            let severity = found
                .iter()
                .map(|(_, d)| d.severity)
                .max()
                .unwrap_or(Severity::Warning);
            let format = highlight(Format::new(), severity)
                .set_text_wrap()
                .set_align(FormatAlign::Top);
            if row == header_row {
                // The header row's cell holds the column's title; its own findings go
                // into the note of that title.
                let note = Note::new(clip(&lines.join("\n")))
                    .set_author("spotlint")
                    .set_width(360)
                    .set_height(160);
                ws.insert_note(row, findings_col, &note)?;
                continue;
            }
            ws.write_string_with_format(row, findings_col, clip(&lines.join("\n")), &format)?;
        }
        Ok(())
    }
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

/// A CSV file as one sheet of text cells (values as written: codes keep their zeros).
fn csv_sheet(path: &str, bytes: &[u8]) -> Result<Sheet, String> {
    let source = SourceFile::decode(path, bytes).map_err(|e| format!("{path}: {e}"))?;
    let mut cells = BTreeMap::new();
    for (row, fields) in CsvIndex::records(&source.text).into_iter().enumerate() {
        let row = u32::try_from(row).map_err(|_| format!("{path}: too many rows"))?;
        for (col, field) in fields.into_iter().enumerate() {
            if field.value.is_empty() {
                continue;
            }
            let col = u16::try_from(col).map_err(|_| format!("{path}: too many columns"))?;
            cells.insert((row, col), Value::Text(field.value));
        }
    }
    Ok(Sheet {
        name: sheet_name(path),
        hidden: false,
        cells,
    })
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

/// Every worksheet of a workbook with its cells; calamine may panic on a damaged file.
fn workbook_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook(bytes)))
        .unwrap_or_else(|_| Err("the workbook is damaged".to_owned()))
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    let mut workbook =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let metas = workbook.sheets_metadata().to_vec();
    let mut sheets = Vec::new();
    for meta in metas {
        if meta.typ != SheetType::WorkSheet {
            continue;
        }
        let mut cells = BTreeMap::new();
        let mut put = |row: u32, col: u32, data: &Data| {
            if let (Some(value), Ok(col)) = (value_of(data), u16::try_from(col)) {
                cells.insert((row, col), value);
            }
        };
        crate::read::table::each_cell(&mut workbook, &meta.name, &mut put)?;
        sheets.push(Sheet {
            name: meta.name.clone(),
            hidden: meta.visible != SheetVisible::Visible,
            cells,
        });
    }
    if sheets.iter().all(|s| s.hidden) {
        if let Some(first) = sheets.first_mut() {
            first.hidden = false;
        }
    }
    Ok(sheets)
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
