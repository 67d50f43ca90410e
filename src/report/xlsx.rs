//! Workbooks for people who work in Excel or WPS: the findings of a check (one sheet of
//! findings, one of compliance figures) and the office's 情况通报 across departments.
//! Header rows are frozen and carry filters.

use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::bulletin::{cells, requirements, Bulletin, SECTIONS};
use super::cells::Locator;
use crate::diag::{Diagnostic, Lang, Report, Severity};

/// The most characters a cell holds (Excel's limit, less room for a note's author).
const MAX_CELL_CHARS: usize = 32_000;

/// A workbook marked as spotlint's own `what` report, so that checking a folder that
/// holds it skips it.
pub(crate) fn marked_workbook(what: &str) -> Workbook {
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_custom_property(crate::read::own_reports::REPORT_PROPERTY, what),
    );
    book
}

/// A text cut to what one cell holds.
pub(crate) fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

pub(crate) fn severity_name(severity: Severity, lang: Lang) -> &'static str {
    match (severity, lang) {
        (Severity::Error, Lang::Zh) => "错误",
        (Severity::Warning, Lang::Zh) => "警告",
        (Severity::Error, Lang::En) => "error",
        (Severity::Warning, Lang::En) => "warning",
    }
}

/// The headers of the findings sheet.
pub fn finding_headers(lang: Lang) -> [&'static str; 7] {
    match lang {
        Lang::Zh => [
            "规则",
            "级别",
            "文件",
            "行/单元格",
            "说明",
            "依据",
            "整改建议",
        ],
        Lang::En => [
            "Rule",
            "Severity",
            "File",
            "Line/cell",
            "Message",
            "Basis",
            "How to fix",
        ],
    }
}

/// Where a diagnostic is, as a person looks for it: the cell of a table (`C12`; the
/// sheet is in the file's name), else `line:column`.
pub(crate) fn place(d: &Diagnostic, locator: &mut Locator) -> String {
    match locator.cell(d) {
        Some(cell) => cell.name(),
        None => format!("{}:{}", d.line, d.column),
    }
}

/// The clause a finding enforces, with its words: `武双随机联办〔2024〕1号 三「…」`.
pub(crate) fn basis(d: &Diagnostic) -> String {
    let Some(clause) = d.clause().filter(|c| !c.is_empty()) else {
        return String::new();
    };
    let doc = d.source_doc().unwrap_or_default();
    let mut text = format!("{doc} {clause}").trim().to_owned();
    if let Some(quote) = d.quote().filter(|q| !q.is_empty()) {
        text.push_str(&format!("「{quote}」"));
    }
    text
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_align(FormatAlign::Top)
}

/// Writes a header row, freezes it and puts a filter over `rows` rows below it.
pub(crate) fn table_header(
    ws: &mut Worksheet,
    headers: &[&str],
    widths: &[f64],
    rows: usize,
) -> Result<(), XlsxError> {
    let bold = header_format();
    for (col, (header, width)) in headers.iter().zip(widths).enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, col, *header, &bold)?;
        ws.set_column_width(col, *width)?;
    }
    let last_col = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let last_row = u32::try_from(rows).map_err(|_| XlsxError::RowColumnLimitError)?;
    ws.autofilter(0, 0, last_row, last_col)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The findings workbook of a check: findings (and input problems), then figures.
pub fn findings_workbook(report: &Report, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = marked_workbook("findings");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let top = Format::new().set_align(FormatAlign::Top);
    let ws = book.add_worksheet();
    ws.set_name(match lang {
        Lang::Zh => "发现的问题",
        Lang::En => "Findings",
    })?;
    table_header(
        ws,
        &finding_headers(lang),
        &[28.0, 8.0, 40.0, 12.0, 60.0, 50.0, 50.0],
        report.diagnostics.len(),
    )?;
    let mut locator = Locator::default();
    for (i, d) in report.diagnostics.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        let help = d.help.as_ref().map(|h| h.get(lang)).unwrap_or_default();
        let cells = [
            d.rule.as_str(),
            severity_name(d.severity, lang),
            d.file.as_str(),
            &place(d, &mut locator),
            d.message.get(lang),
            &basis(d),
            help,
        ];
        for (col, text) in (0u16..).zip(cells) {
            let format = if col >= 4 { &wrap } else { &top };
            ws.write_string_with_format(row, col, clip(text), format)?;
        }
    }
    let ws = book.add_worksheet();
    ws.set_name(match lang {
        Lang::Zh => "合规指标",
        Lang::En => "Compliance figures",
    })?;
    write_figures(ws, report, lang)?;
    book.save_to_buffer()
}

fn write_figures(ws: &mut Worksheet, report: &Report, lang: Lang) -> Result<(), XlsxError> {
    let headers = match lang {
        Lang::Zh => ["指标", "实测", "达标数", "总数", "要求", "是否达标"],
        Lang::En => ["Figure", "Measured", "Passed", "Counted", "Required", "Met"],
    };
    table_header(
        ws,
        &headers,
        &[44.0, 10.0, 10.0, 10.0, 10.0, 10.0],
        report.figures.len(),
    )?;
    let percent = Format::new().set_num_format("0.0%");
    let missed = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    for (i, f) in report.figures.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        ws.write_string(row, 0, f.title.get(lang))?;
        ws.write_number_with_format(row, 1, f.measured, &percent)?;
        ws.write_number(row, 2, f.numerator as f64)?;
        ws.write_number(row, 3, f.denominator as f64)?;
        ws.write_number_with_format(row, 4, f.threshold, &percent)?;
        let met = yes_no(f.ok, lang);
        if f.ok {
            ws.write_string(row, 5, met)?;
        } else {
            ws.write_string_with_format(row, 5, met, &missed)?;
        }
    }
    Ok(())
}

pub(crate) fn yes_no(ok: bool, lang: Lang) -> &'static str {
    match (ok, lang) {
        (true, Lang::Zh) => "是",
        (false, Lang::Zh) => "否",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
    }
}

/// The 情况通报 as a workbook: one row per department, numbers as numbers (figures as
/// percentages) so they sort and filter; the city's totals below the filtered rows.
pub fn bulletin_workbook(b: &Bulletin, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let zh = lang == Lang::Zh;
    let requirements = requirements();
    let mut headers: Vec<String> = vec![
        (if zh { "排名" } else { "Rank" }).into(),
        (if zh { "部门" } else { "Department" }).into(),
        (if zh { "路径" } else { "Path" }).into(),
    ];
    let mut widths = vec![6.0, 24.0, 30.0];
    for c in &b.columns {
        let heading = cells::heading(&c.id, c.title.get(lang), lang);
        headers.push(if zh {
            format!("{heading}（要求 {:.0}%）", c.threshold * 100.0)
        } else {
            format!("{heading} (required {:.0}%)", c.threshold * 100.0)
        });
        widths.push(16.0);
    }
    for r in &requirements {
        headers.push(cells::requirement_heading(r.id, lang).to_owned());
        widths.push(12.0);
    }
    headers.push((if zh { "错误" } else { "Errors" }).into());
    headers.push((if zh { "警告" } else { "Warnings" }).into());
    widths.extend([8.0, 8.0]);
    for s in SECTIONS {
        for kind in [("错误", "errors"), ("警告", "warnings")] {
            headers.push(if zh {
                format!("{s} {}", kind.0)
            } else {
                format!("{s} {}", kind.1)
            });
            widths.push(8.0);
        }
    }
    headers.push(
        (if zh {
            "无法读取的原因"
        } else {
            "Not read because"
        })
        .into(),
    );
    widths.push(50.0);
    let mut book = marked_workbook("情况通报");
    let ws = book.add_worksheet();
    ws.set_name(if zh { "情况通报" } else { "Status report" })?;
    let names: Vec<&str> = headers.iter().map(String::as_str).collect();
    table_header(ws, &names, &widths, b.rows.len())?;
    let percent = Format::new().set_num_format("0.0%");
    let missed = percent
        .clone()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let bold = Format::new().set_bold();
    for (i, r) in b.rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        if let Some(rank) = r.rank {
            ws.write_number(row, 0, rank as f64)?;
        }
        ws.write_string(row, 1, clip(&r.name))?;
        ws.write_string(row, 2, clip(&r.path))?;
        let mut col = 3u16;
        for c in &b.columns {
            if let Some(f) = r.figure(&c.id) {
                let format = if f.ok { &percent } else { &missed };
                ws.write_number_with_format(row, col, f.measured, format)?;
            }
            col += 1;
        }
        for i in 0..requirements.len() {
            ws.write_string(row, col, cells::met(r, r.met.get(i)))?;
            col += 1;
        }
        ws.write_number(row, col, r.findings.errors as f64)?;
        ws.write_number(row, col + 1, r.findings.warnings as f64)?;
        col += 2;
        for c in &r.by_section {
            ws.write_number(row, col, c.errors as f64)?;
            ws.write_number(row, col + 1, c.warnings as f64)?;
            col += 2;
        }
        let problems: Vec<&str> = r.problems.iter().map(|p| p.get(lang)).collect();
        ws.write_string_with_format(row, col, clip(&problems.join("\n")), &wrap)?;
    }
    let row = u32::try_from(b.rows.len() + 2).map_err(|_| XlsxError::RowColumnLimitError)?;
    ws.write_string_with_format(row, 1, if zh { "全市合计" } else { "City total" }, &bold)?;
    let mut col = 3u16;
    for f in &b.totals {
        let format = if f.ok { &percent } else { &missed };
        ws.write_number_with_format(row, col, f.measured, format)?;
        col += 1;
    }
    for i in 0..requirements.len() {
        ws.write_string(row, col, cells::met_total(b, i))?;
        col += 1;
    }
    ws.write_number(row, col, b.findings.errors as f64)?;
    ws.write_number(row, col + 1, b.findings.warnings as f64)?;
    col += 2;
    for c in &b.by_section {
        ws.write_number(row, col, c.errors as f64)?;
        ws.write_number(row, col + 1, c.warnings as f64)?;
        col += 2;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_to_a_cell() {
        let long = "长".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(clip(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(clip("short"), "short");
    }
}
