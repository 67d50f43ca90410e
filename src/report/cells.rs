//! Where a diagnostic of a table sits as a spreadsheet cell: the workbook formats and
//! the annotated copies name and mark cells, not text positions.
//!
//! A worksheet's diagnostics are positioned in its synthetic text (line = row, tabs
//! before the offset = column; see [`crate::read::table`]). A CSV file's are positioned
//! in its decoded text, where a quoted cell may hold commas and line breaks, so the
//! record and field are found by reading the CSV structure around the offset.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::parse::source::SourceFile;
use crate::read::table::column_letters;

/// Extensions of the workbooks that [`crate::read::table`] reads.
const WORKBOOK_EXTENSIONS: [&str; 5] = [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"];

/// A table that a diagnostic's `file` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableFile<'a> {
    Csv { path: &'a str },
    Sheet { workbook: &'a str, sheet: &'a str },
}

impl<'a> TableFile<'a> {
    /// The table a diagnostic's file names: `path.csv`, or `book.xlsx!Sheet1`.
    pub fn of(file: &'a str) -> Option<TableFile<'a>> {
        if has_suffix(file, ".csv") {
            return Some(TableFile::Csv { path: file });
        }
        // A sheet name may hold `!`; the workbook's path ends at the first `!` that
        // follows a workbook extension.
        file.match_indices('!').find_map(|(at, _)| {
            let workbook = &file[..at];
            WORKBOOK_EXTENSIONS
                .iter()
                .any(|ext| has_suffix(workbook, ext))
                .then(|| TableFile::Sheet {
                    workbook,
                    sheet: &file[at + 1..],
                })
        })
    }

    /// The file on disk.
    pub fn path(&self) -> &'a str {
        match self {
            TableFile::Csv { path } => path,
            TableFile::Sheet { workbook, .. } => workbook,
        }
    }
}

fn has_suffix(s: &str, suffix: &str) -> bool {
    s.len() > suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// A cell, 0-based; `col` is unknown when a diagnostic names only its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub row: u32,
    pub col: Option<u16>,
}

impl Cell {
    /// `C12`, or `12` for a whole row.
    pub fn name(&self) -> String {
        match self.col {
            Some(col) => format!("{}{}", column_letters(usize::from(col) + 1), self.row + 1),
            None => (self.row + 1).to_string(),
        }
    }
}

/// Finds the cells of diagnostics; a CSV file's record boundaries are found once.
#[derive(Default)]
pub struct Locator {
    csv: HashMap<String, Option<Arc<CsvIndex>>>,
}

impl Locator {
    /// The cell a diagnostic points at, when it is in a table and placed.
    pub fn cell(&mut self, d: &Diagnostic) -> Option<Cell> {
        let table = TableFile::of(&d.file)?;
        let source = d.source.as_ref().filter(|s| s.name == d.file);
        match table {
            TableFile::Sheet { .. } => {
                let source = source.filter(|s| !s.text.is_empty())?;
                let offset = offset_of(d, source);
                let (line, _) = source.line_col(offset);
                let line_start = source.offset_of(line, 0);
                let tabs = source.text.get(line_start..offset)?.matches('\t').count();
                Some(Cell {
                    row: row_of_line(line),
                    col: u16::try_from(tabs).ok(),
                })
            }
            TableFile::Csv { path } => {
                let source = source?;
                let index = self
                    .csv
                    .entry(path.to_owned())
                    .or_insert_with(|| Some(Arc::new(CsvIndex::new(&source.text))))
                    .clone()?;
                index.cell(&source.text, offset_of(d, source))
            }
        }
    }
}

fn row_of_line(line: usize) -> u32 {
    u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX)
}

fn offset_of(d: &Diagnostic, source: &SourceFile) -> usize {
    match d.span {
        Some(span) => span.start as usize,
        None => source.offset_of(d.line, d.column.saturating_sub(1)),
    }
}

/// One field of a CSV record: its byte range in the text (quotes included) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub start: usize,
    pub end: usize,
    pub value: String,
}

/// Where each record of a CSV text starts.
#[derive(Debug)]
pub struct CsvIndex {
    delimiter: u8,
    starts: Vec<usize>,
}

impl CsvIndex {
    pub fn new(text: &str) -> CsvIndex {
        let delimiter = delimiter(text);
        let mut starts = Vec::new();
        let mut at = 0;
        while at < text.len() {
            starts.push(at);
            at = read_record(text, at, delimiter, &mut |_| {});
        }
        CsvIndex { delimiter, starts }
    }

    /// The record and field holding byte `offset`.
    pub fn cell(&self, text: &str, offset: usize) -> Option<Cell> {
        let record = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.checked_sub(1)?,
        };
        let mut fields = Vec::new();
        read_record(text, self.starts[record], self.delimiter, &mut |f| {
            fields.push(f)
        });
        let col = fields
            .iter()
            .position(|f| f.start <= offset && offset <= f.end)
            .or_else(|| fields.len().checked_sub(1))?;
        Some(Cell {
            row: u32::try_from(record).ok()?,
            col: u16::try_from(col).ok(),
        })
    }

    /// Gives every record's fields to `each`, in order (a blank line is a record of one
    /// empty field); stops at the first error.
    pub fn each_record<E>(
        text: &str,
        mut each: impl FnMut(Vec<Field>) -> Result<(), E>,
    ) -> Result<(), E> {
        let delimiter = delimiter(text);
        let mut at = 0;
        while at < text.len() {
            let mut fields = Vec::new();
            at = read_record(text, at, delimiter, &mut |f| fields.push(f));
            each(fields)?;
        }
        Ok(())
    }

    /// Every record's fields, in order.
    pub fn records(text: &str) -> Vec<Vec<Field>> {
        let mut records = Vec::new();
        let _ = Self::each_record(text, |fields| {
            records.push(fields);
            Ok::<(), ()>(())
        });
        records
    }
}

/// Tab when the header line (the first non-blank one) has tabs and no comma, as the
/// table reader decides.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if header.contains('\t') && !header.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// Reads the record starting at `start`, giving each field to `field`; returns where
/// the next record starts. A field that opens with `"` is quoted: `""` inside is a
/// quote, and delimiters and line breaks are part of it.
fn read_record(text: &str, start: usize, delimiter: u8, field: &mut dyn FnMut(Field)) -> usize {
    let bytes = text.as_bytes();
    let mut at = start;
    loop {
        let field_start = at;
        let mut value = String::new();
        if bytes.get(at) == Some(&b'"') {
            at += 1;
            let mut piece = at;
            loop {
                match memchr::memchr(b'"', &bytes[at..]) {
                    None => {
                        value.push_str(&text[piece..]);
                        at = bytes.len();
                        break;
                    }
                    Some(i) => {
                        value.push_str(&text[piece..at + i]);
                        at += i + 1;
                        if bytes.get(at) == Some(&b'"') {
                            value.push('"');
                            at += 1;
                            piece = at;
                        } else {
                            break;
                        }
                    }
                }
            }
            // Text after the closing quote belongs to the same field, as csv reads it.
            let rest = find_end(bytes, at, delimiter);
            value.push_str(&text[at..rest]);
            at = rest;
        } else {
            at = find_end(bytes, at, delimiter);
            value.push_str(&text[field_start..at]);
        }
        field(Field {
            start: field_start,
            end: at,
            value,
        });
        match bytes.get(at) {
            Some(&b) if b == delimiter => at += 1,
            Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => return at + 2,
            Some(b'\n' | b'\r') => return at + 1,
            _ => return bytes.len(),
        }
    }
}

/// The end of an unquoted field: the next delimiter or line break.
fn find_end(bytes: &[u8], from: usize, delimiter: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == delimiter || b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_files_are_named_by_their_extension() {
        assert_eq!(
            TableFile::of("a/results.CSV"),
            Some(TableFile::Csv {
                path: "a/results.CSV"
            })
        );
        assert_eq!(
            TableFile::of("a!b/book.xlsx!My!sheet"),
            Some(TableFile::Sheet {
                workbook: "a!b/book.xlsx",
                sheet: "My!sheet"
            })
        );
        assert_eq!(TableFile::of("plan.yaml"), None);
        assert_eq!(TableFile::of(".csv"), None);
    }

    #[test]
    fn quoted_fields_keep_delimiters_and_line_breaks() {
        let text = "a,b,c\n1,\"x, \"\"y\"\"\nz\",3\n\n4,,6";
        let records = CsvIndex::records(text);
        let values: Vec<Vec<&str>> = records
            .iter()
            .map(|r| r.iter().map(|f| f.value.as_str()).collect())
            .collect();
        assert_eq!(
            values,
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x, \"y\"\nz", "3"],
                vec![""],
                vec!["4", "", "6"]
            ]
        );
        let index = CsvIndex::new(text);
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(
            index.cell(text, at("z")).map(|c| c.name()),
            Some("B2".into())
        );
        assert_eq!(
            index.cell(text, at("3")).map(|c| c.name()),
            Some("C2".into())
        );
        // The empty cell between `4,` and `,6`.
        assert_eq!(
            index.cell(text, at("4,,") + 2).map(|c| c.name()),
            Some("B4".into())
        );
        assert_eq!(index.cell(text, 0).map(|c| c.name()), Some("A1".into()));
    }

    #[test]
    fn tab_separated_when_the_header_has_tabs_and_no_comma() {
        let records = CsvIndex::records("a\tb\n1,5\t2\n");
        assert_eq!(records[1][0].value, "1,5");
        assert_eq!(records[1][1].value, "2");
    }
}
