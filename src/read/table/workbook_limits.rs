//! Limits a zipped workbook (XLSX, XLSM, ODS) must keep, checked on the compressed
//! file before a workbook reader allocates for it: the reader trusts declared sizes and
//! buffers whole XML texts, so a few kilobytes could otherwise claim gigabytes.
//!
//! One streaming pass inflates each XML part with bounded memory: it counts the bytes
//! inflated (declared sizes can lie), the length of every text and tag, the cells and
//! rows of each worksheet and the strings of the shared-string table.

use std::collections::HashMap;
use std::io::{Cursor, Read};

const TOO_LARGE: &str = "input/too-large";
const MALFORMED: &str = "input/unreadable";

/// Rows and columns an XLSX worksheet may have (ECMA-376; Excel's own limits).
pub const MAX_ROWS: u64 = 1_048_576;
pub const MAX_COLUMNS: u64 = 16_384;
/// Cells in all the worksheets of one workbook.
pub const MAX_CELLS: u64 = 16 * 1024 * 1024;
/// Entries of the shared-string table, and its inflated size.
pub const MAX_SHARED_STRINGS: u64 = 4 * 1024 * 1024;
pub const MAX_SHARED_STRINGS_BYTES: u64 = 256 * 1024 * 1024;
/// One text (a cell's value, or whitespace between tags) or one tag, in bytes. A cell
/// holds at most 32,767 characters; escaped, that is well under this.
pub const MAX_XML_RUN: u64 = 1024 * 1024;
/// Inflated bytes of all the parts of a workbook.
pub const MAX_INFLATED_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Parts (files) in the zip.
pub const MAX_ENTRIES: usize = 10_000;

/// Why a workbook is refused, and where: a worksheet's name when known, else the zip
/// part's.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `input/too-large` for a limit, `input/unreadable` for a cell reference the
    /// workbook reader would misread (its arithmetic wraps on them).
    pub rule: &'static str,
    pub sheet: Option<String>,
    pub en: String,
    pub zh: String,
}

/// Checks a workbook's limits. Files that are no zip, or parts the zip reader cannot
/// open, are left to the workbook reader, which reports them.
pub fn check(bytes: &[u8]) -> Result<(), Refusal> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(());
    }
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    if zip.len() > MAX_ENTRIES {
        return Err(Refusal {
            rule: TOO_LARGE,
            sheet: None,
            en: format!(
                "the workbook holds {} parts, more than the {MAX_ENTRIES} allowed",
                zip.len()
            ),
            zh: format!("工作簿包含 {} 个部件，超过上限 {MAX_ENTRIES}", zip.len()),
        });
    }
    let sheet_names = sheet_names(&mut zip);
    let mut budget = Budget {
        inflated: 0,
        cells: 0,
    };
    for index in 0..zip.len() {
        let Ok(entry) = zip.by_index(index) else {
            continue;
        };
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let lower = name.to_ascii_lowercase();
        let xml = lower.ends_with(".xml") || lower.ends_with(".rels");
        if !xml || UNREAD_FOLDERS.iter().any(|f| lower.starts_with(f)) {
            continue;
        }
        let part = if lower.starts_with("xl/worksheets/") && !lower.contains("/_rels/") {
            Part::Sheet
        } else if lower.ends_with("sharedstrings.xml") {
            Part::SharedStrings
        } else {
            Part::Other
        };
        let place = match sheet_names.get(&name) {
            Some(sheet) => sheet.clone(),
            None => printable(&name),
        };
        let declared = entry.size();
        if declared > MAX_INFLATED_BYTES.saturating_sub(budget.inflated) {
            return Err(too_much_inflated(place));
        }
        if part == Part::SharedStrings && declared > MAX_SHARED_STRINGS_BYTES {
            return Err(too_many_string_bytes(place));
        }
        scan(entry, part, &place, &mut budget)?;
    }
    Ok(())
}

/// Folders of parts no workbook reader opens (pictures, charts, properties, custom
/// XML): their size costs nothing, so they are not measured.
const UNREAD_FOLDERS: &[&str] = &[
    "customxml/",
    "docprops/",
    "xl/drawings/",
    "xl/charts/",
    "xl/media/",
    "xl/embeddings/",
    "xl/activex/",
    "xl/diagrams/",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Sheet,
    SharedStrings,
    Other,
}

struct Budget {
    inflated: u64,
    cells: u64,
}

/// How much of a tag is kept to read its name and `r`/`ref` attribute.
const TAG_KEPT: usize = 512;

fn scan(
    mut part_reader: impl Read,
    part: Part,
    place: &str,
    budget: &mut Budget,
) -> Result<(), Refusal> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut in_tag = false;
    let mut run: u64 = 0;
    let mut tag: Vec<u8> = Vec::with_capacity(TAG_KEPT);
    let mut inflated_here: u64 = 0;
    let mut sheet = SheetState::default();
    let mut strings: u64 = 0;
    loop {
        let n = match part_reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A damaged part: the workbook reader reports it.
            Err(_) => return Ok(()),
        };
        budget.inflated += n as u64;
        inflated_here += n as u64;
        if budget.inflated > MAX_INFLATED_BYTES {
            return Err(too_much_inflated(place.to_owned()));
        }
        if part == Part::SharedStrings && inflated_here > MAX_SHARED_STRINGS_BYTES {
            return Err(too_many_string_bytes(place.to_owned()));
        }
        let mut chunk = &buffer[..n];
        while !chunk.is_empty() {
            let stop = if in_tag { b'>' } else { b'<' };
            let (taken, found) = match memchr::memchr(stop, chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            run += taken as u64;
            if run > MAX_XML_RUN {
                return Err(too_long_run(place, in_tag, &sheet));
            }
            if in_tag {
                let room = TAG_KEPT.saturating_sub(tag.len());
                tag.extend_from_slice(&chunk[..taken.min(room)]);
            }
            if !found {
                break;
            }
            if in_tag {
                match part {
                    Part::Sheet => sheet.tag(&tag, place, budget)?,
                    Part::SharedStrings if tag_name(&tag) == b"si" => {
                        strings += 1;
                        if strings > MAX_SHARED_STRINGS {
                            return Err(Refusal {
                                rule: TOO_LARGE,
                                sheet: Some(place.to_owned()),
                                en: format!("the shared-string table holds more than {MAX_SHARED_STRINGS} strings"),
                                zh: format!("共享字符串表超过 {MAX_SHARED_STRINGS} 个字符串"),
                            });
                        }
                    }
                    _ => {}
                }
                tag.clear();
            }
            in_tag = !in_tag;
            run = 0;
            chunk = &chunk[taken + 1..];
        }
    }
    Ok(())
}

/// Where reading a worksheet is: the row and column of the last cell, counting cells
/// without an `r` attribute as the reader does (next row, next column).
#[derive(Default)]
struct SheetState {
    row: u64,
    col: u64,
}

impl SheetState {
    fn tag(&mut self, tag: &[u8], place: &str, budget: &mut Budget) -> Result<(), Refusal> {
        match tag_name(tag) {
            b"row" => {
                self.row = match attribute(tag, b"r") {
                    Some(r) => match number(r) {
                        Some(r) if r > 0 => r,
                        _ => return Err(malformed(place, "row", "行", r)),
                    },
                    None => self.row + 1,
                };
                self.col = 0;
                if self.row > MAX_ROWS {
                    let row = self.row;
                    return Err(beyond(
                        place,
                        &format!("row {row}"),
                        &format!("第 {row} 行"),
                    ));
                }
            }
            b"c" => {
                budget.cells += 1;
                if budget.cells > MAX_CELLS {
                    return Err(Refusal {
                        rule: TOO_LARGE,
                        sheet: Some(place.to_owned()),
                        en: format!("the workbook holds more than {MAX_CELLS} cells"),
                        zh: format!("工作簿的单元格超过 {MAX_CELLS} 个"),
                    });
                }
                let reference = attribute(tag, b"r");
                match reference.map(|r| (r, cell_reference(r))) {
                    Some((_, Some((row, col)))) if row > 0 => {
                        self.row = row;
                        self.col = col;
                    }
                    Some((r, _)) => return Err(malformed(place, "cell", "单元格", r)),
                    None => self.col += 1,
                }
                if self.row > MAX_ROWS || self.col > MAX_COLUMNS {
                    // A reference that parsed is letters and digits: shown as written.
                    let cell = match reference.filter(|r| cell_reference(r).is_some()) {
                        Some(r) => shortened(r),
                        None => cell_name(self.row.max(1), self.col),
                    };
                    return Err(beyond(
                        place,
                        &format!("cell {cell}"),
                        &format!("单元格 {cell}"),
                    ));
                }
            }
            b"dimension" => {
                let Some(range) = attribute(tag, b"ref") else {
                    return Ok(());
                };
                let what = ("size (dimension)", "范围（dimension）");
                for (corner, (row, col)) in range_corners(range, place, what)? {
                    if row > MAX_ROWS || col > MAX_COLUMNS {
                        let declared = shortened(corner);
                        return Err(Refusal {
                            rule: TOO_LARGE,
                            sheet: Some(place.to_owned()),
                            en: format!("the sheet declares its size up to cell {declared}, beyond the {MAX_ROWS} rows and {MAX_COLUMNS} columns (XFD) an XLSX sheet may have"),
                            zh: format!("工作表声明的范围到单元格 {declared}，超出 XLSX 工作表允许的 {MAX_ROWS} 行、{MAX_COLUMNS} 列（XFD）"),
                        });
                    }
                }
            }
            b"mergeCell" => {
                if let Some(range) = attribute(tag, b"ref") {
                    range_corners(range, place, ("merged range", "合并区域"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A corner of a range as written, and its (row, column).
type Corner<'r> = (&'r [u8], (u64, u64));

/// The corners of a range (`A1:C4`, or one cell), each a valid reference, the last
/// not before the first: the workbook reader subtracts one from the other.
fn range_corners<'r>(
    range: &'r [u8],
    place: &str,
    (what_en, what_zh): (&str, &str),
) -> Result<Vec<Corner<'r>>, Refusal> {
    let mut corners = Vec::with_capacity(2);
    for corner in range.split(|&b| b == b':') {
        match cell_reference(corner) {
            Some((row, col)) if row > 0 => corners.push((corner, (row, col))),
            _ => return Err(malformed_range(place, what_en, what_zh, range)),
        }
    }
    if let [(_, (row1, col1)), (_, (row2, col2))] = corners[..] {
        if row2 < row1 || col2 < col1 {
            return Err(malformed_range(place, what_en, what_zh, range));
        }
    }
    Ok(corners)
}

/// An element's local name (`x:c` → `c`); empty for closing tags, declarations and
/// comments.
fn tag_name(tag: &[u8]) -> &[u8] {
    if matches!(tag.first(), Some(b'/' | b'?' | b'!') | None) {
        return b"";
    }
    let end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/')
        .unwrap_or(tag.len());
    let name = &tag[..end];
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The value of attribute `name` (`r="B2"`), without its quotes.
fn attribute<'t>(tag: &'t [u8], name: &[u8]) -> Option<&'t [u8]> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&tag[from..], name).map(|i| i + from) {
        from = i + 1;
        let preceded = i > 0 && tag[i - 1].is_ascii_whitespace();
        let rest = &tag[i + name.len()..];
        let rest = trim_start(rest);
        if !preceded || rest.first() != Some(&b'=') {
            continue;
        }
        let rest = trim_start(&rest[1..]);
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value = &rest[1..];
        let end = memchr::memchr(quote, value)?;
        return Some(&value[..end]);
    }
    None
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// A decimal number, saturating (`400000000000000000000` is simply too large).
fn number(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// `B2` → (row 2, column 2), 1-based, saturating; `$` signs allowed.
fn cell_reference(text: &[u8]) -> Option<(u64, u64)> {
    let text: Vec<u8> = text.iter().copied().filter(|&b| b != b'$').collect();
    let letters = text.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return None;
    }
    let col = text[..letters].iter().fold(0u64, |n, b| {
        n.saturating_mul(26)
            .saturating_add(u64::from(b.to_ascii_uppercase() - b'A' + 1))
    });
    let row = number(&text[letters..])?;
    Some((row, col))
}

/// A cell's name for a message; absurd coordinates are given as numbers.
fn cell_name(row: u64, col: u64) -> String {
    if col == 0 || col > MAX_COLUMNS * 26 {
        return format!("row {row}, column {col}");
    }
    let letters = super::column_letters(usize::try_from(col).unwrap_or(0));
    format!("{letters}{row}")
}

/// A cell reference that parsed (letters and digits), cut to a readable length.
fn shortened(reference: &[u8]) -> String {
    let text = String::from_utf8_lossy(reference);
    match text.char_indices().nth(24) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

/// A reference that is not letters then a row number from 1, or a range whose end
/// comes before its start: the workbook reader would wrap on it.
fn malformed(place: &str, what_en: &str, what_zh: &str, reference: &[u8]) -> Refusal {
    let shown = printable(&shortened(reference));
    Refusal {
        rule: MALFORMED,
        sheet: Some(place.to_owned()),
        en: format!("the {what_en} reference `{shown}` is not a valid reference (column letters, then a row number from 1)"),
        zh: format!("{what_zh}引用“{shown}”无效（应为列字母加从 1 开始的行号）"),
    }
}

fn malformed_range(place: &str, what_en: &str, what_zh: &str, range: &[u8]) -> Refusal {
    let shown = printable(&shortened(range));
    Refusal {
        en: format!("the {what_en} `{shown}` is not a valid range (cell references such as A1:C4, the second not above or left of the first)"),
        zh: format!("{what_zh}“{shown}”无效（应为 A1:C4 这样的单元格引用，第二个不在第一个的上方或左侧）"),
        ..malformed(place, what_en, what_zh, range)
    }
}

fn beyond(place: &str, en: &str, zh: &str) -> Refusal {
    Refusal {
        rule: TOO_LARGE,
        sheet: Some(place.to_owned()),
        en: format!("{en} lies beyond the {MAX_ROWS} rows and {MAX_COLUMNS} columns (XFD) an XLSX sheet may have"),
        zh: format!("{zh}超出 XLSX 工作表允许的 {MAX_ROWS} 行、{MAX_COLUMNS} 列（XFD）"),
    }
}

fn too_long_run(place: &str, in_tag: bool, sheet: &SheetState) -> Refusal {
    let mib = MAX_XML_RUN >> 20;
    let after = if sheet.row > 0 {
        let cell = cell_name(sheet.row, sheet.col.max(1));
        (
            format!(" (after cell {cell})"),
            format!("（位于单元格 {cell} 之后）"),
        )
    } else {
        (String::new(), String::new())
    };
    let (what_en, what_zh) = if in_tag {
        ("an XML tag", "一个 XML 标记")
    } else {
        (
            "a text (a cell value or whitespace)",
            "一段文本（单元格的值或空白）",
        )
    };
    Refusal {
        rule: TOO_LARGE,
        sheet: Some(place.to_owned()),
        en: format!("{what_en} is longer than {mib} MiB{}", after.0),
        zh: format!("{what_zh}超过 {mib} MiB{}", after.1),
    }
}

fn too_much_inflated(place: String) -> Refusal {
    let mib = MAX_INFLATED_BYTES >> 20;
    Refusal {
        rule: TOO_LARGE,
        sheet: Some(place),
        en: format!("the workbook unpacks to more than {mib} MiB"),
        zh: format!("工作簿解压后超过 {mib} MiB"),
    }
}

fn too_many_string_bytes(place: String) -> Refusal {
    let mib = MAX_SHARED_STRINGS_BYTES >> 20;
    Refusal {
        rule: TOO_LARGE,
        sheet: Some(place),
        en: format!("the shared-string table unpacks to more than {mib} MiB"),
        zh: format!("共享字符串表解压后超过 {mib} MiB"),
    }
}

/// A zip part's name as it may be shown: control characters escaped.
fn printable(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            let escaped: String = if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            };
            escaped.chars().collect::<Vec<_>>()
        })
        .collect()
}

/// Worksheet part → sheet name, from `xl/workbook.xml` and its relationships; empty if
/// either is missing, too large or unreadable (parts are then named by path).
fn sheet_names(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> HashMap<String, String> {
    const MAX_INDEX_BYTES: u64 = 16 * 1024 * 1024;
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let entry = zip.by_name(name).ok()?;
        if entry.size() > MAX_INDEX_BYTES {
            return None;
        }
        let mut bytes = Vec::new();
        entry.take(MAX_INDEX_BYTES).read_to_end(&mut bytes).ok()?;
        Some(bytes)
    };
    let (Some(workbook), Some(rels)) =
        (read("xl/workbook.xml"), read("xl/_rels/workbook.xml.rels"))
    else {
        return HashMap::new();
    };
    let targets: HashMap<String, String> = elements(&rels, b"Relationship")
        .into_iter()
        .filter_map(|attrs| {
            let id = attrs.get("Id")?.clone();
            let target = attrs.get("Target")?;
            let path = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_owned(),
                None => format!("xl/{target}"),
            };
            Some((id, path))
        })
        .collect();
    elements(&workbook, b"sheet")
        .into_iter()
        .filter_map(|attrs| {
            let id = attrs.get("r:id").or_else(|| attrs.get("id"))?;
            Some((targets.get(id)?.clone(), attrs.get("name")?.clone()))
        })
        .collect()
}

/// The attributes of every element with local name `local`.
pub(crate) fn elements(xml: &[u8], local: &[u8]) -> Vec<HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == local => {
                let attrs = e
                    .attributes()
                    .flatten()
                    .filter_map(|a| {
                        let key = String::from_utf8(a.key.as_ref().to_vec()).ok()?;
                        let value = a.unescape_value().ok()?.into_owned();
                        Some((key, value))
                    })
                    .collect();
                out.push(attrs);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        buffer.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_saturate() {
        assert_eq!(cell_reference(b"B2"), Some((2, 2)));
        assert_eq!(cell_reference(b"$XFD$1048576"), Some((1_048_576, 16_384)));
        assert_eq!(
            cell_reference(b"AAAAAAAA1").map(|(_, c)| c > MAX_COLUMNS),
            Some(true)
        );
        assert_eq!(cell_reference(b"12"), None);
    }

    #[test]
    fn attributes_are_found_by_whole_name() {
        let tag = b"c s=\"1\" r=\"A7\" t='s'";
        assert_eq!(attribute(tag, b"r"), Some(&b"A7"[..]));
        assert_eq!(attribute(tag, b"t"), Some(&b"s"[..]));
        assert_eq!(attribute(b"c rr=\"1\"", b"r"), None);
        assert_eq!(tag_name(b"x:row r=\"1\""), b"row");
        assert_eq!(tag_name(b"/row"), b"");
    }
}
