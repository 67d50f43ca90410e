//! spotlint's own reports, recognised by their content when a folder is checked: a
//! report written into the checked folder is no submission, and reading it would
//! turn the previous run's output into this run's input.

use std::io::{Cursor, Read};

/// The custom document property that marks the workbooks spotlint writes (findings
/// workbook, 情况通报, annotated copies); its value says which.
pub const REPORT_PROPERTY: &str = "spotlint report";

/// What kind of spotlint report the bytes are, if they are one.
pub fn recognise(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        return workbook(bytes);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[start] != b'{' {
        return None;
    }
    // The top-level keys first, values skipped unread: a submission costs no tree.
    type Keys = std::collections::HashMap<String, serde::de::IgnoredAny>;
    let object: Keys = serde_json::from_slice(text).ok()?;
    if object.contains_key("kind") {
        return None;
    }
    let has = |keys: &[&str]| keys.iter().all(|k| object.contains_key(*k));
    if has(&["version", "diagnostics", "summary"]) {
        return Some("JSON report");
    }
    if has(&["version", "as_of", "departments", "totals"]) {
        return Some("JSON 情况通报");
    }
    if !has(&["runs"]) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(text).ok()?;
    let driver = &value["runs"][0]["tool"]["driver"]["name"];
    (driver.as_str() == Some("spotlint")).then_some("SARIF report")
}

/// A workbook spotlint wrote: marked by [`REPORT_PROPERTY`], or holding exactly the
/// findings workbook's two sheets.
fn workbook(bytes: &[u8]) -> Option<&'static str> {
    const MAX_PART: u64 = 1024 * 1024;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let part = zip.by_name(name).ok()?;
        let mut out = Vec::new();
        part.take(MAX_PART).read_to_end(&mut out).ok()?;
        Some(out)
    };
    if let Some(custom) = read("docProps/custom.xml") {
        let marked = crate::read::table::workbook_limits::elements(&custom, b"property")
            .iter()
            .any(|a| a.get("name").map(String::as_str) == Some(REPORT_PROPERTY));
        if marked {
            return Some("workbook");
        }
    }
    let index = read("xl/workbook.xml")?;
    let sheets: Vec<String> = crate::read::table::workbook_limits::elements(&index, b"sheet")
        .into_iter()
        .filter_map(|mut a| a.remove("name"))
        .collect();
    let findings = [
        ["发现的问题", "合规指标"],
        ["Findings", "Compliance figures"],
    ];
    findings
        .iter()
        .any(|names| sheets == names)
        .then_some("findings workbook")
}
