//! The human report: miette's annotated snippets, a summary by rule, the compliance
//! figures.

use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, SourceCode,
    SourceSpan,
};

use super::bulletin::{cells, requirements, Bulletin, SECTIONS};
use super::{counts, inert, Style};
use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};
use crate::parse::source::SourceFile;

/// A source file as miette reads it: only the lines around a span (found by the file's
/// line index), copied once per diagnostic, so that a finding costs its snippet, not
/// its offset into the file nor the file's size (a mapped table is never read whole
/// for its snippets). Active characters are shown through an inert copy of the same
/// length. miette finds a span's lines by scanning from the start of the text it is
/// given, so it is given the lines of its window.
struct Src {
    /// The lines around the span, inert.
    text: String,
    /// Where `text` starts in the file.
    from: usize,
    lines: Arc<SourceFile>,
}

/// Lines kept on each side of a span: more than miette reads around it.
const WINDOW_LINES: usize = 8;

/// Whether the lines a snippet of lines `first..=last` shows (with one on each side)
/// are all short enough to show.
fn lines_fit(source: &SourceFile, first: usize, last: usize) -> bool {
    let first = first.saturating_sub(1).max(1);
    let mut at = source.offset_of(first, 0);
    for line in first..=last.saturating_add(1) {
        let next = source.offset_of(line + 1, 0);
        if next.saturating_sub(at) > super::MAX_SHOWN_LINE {
            return false;
        }
        if next >= source.text.len() {
            break;
        }
        at = next;
    }
    true
}

impl Src {
    /// The window around `start..end`, or `None` when a line its snippet shows is too
    /// long to show ([`super::MAX_SHOWN_LINE`]).
    fn around(source: &Arc<SourceFile>, start: usize, end: usize) -> Option<Src> {
        let (first, _) = source.line_col(start);
        let (last, _) = source.line_col(end);
        if !lines_fit(source, first, last) {
            return None;
        }
        let from = source.offset_of(first.saturating_sub(WINDOW_LINES).max(1), 0);
        let to = source.offset_of(last.saturating_add(WINDOW_LINES), 0);
        let window = source.text.get(from..to.max(from)).unwrap_or_default();
        source.text.touched((from, to.max(from)));
        Some(Src {
            text: inert::same_length(window).unwrap_or_else(|| window.to_owned()),
            from,
            lines: Arc::clone(source),
        })
    }
}

impl SourceCode for Src {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let end = span.offset().saturating_add(span.len());
        let (first, _) = self.lines.line_col(span.offset());
        let (last, _) = self.lines.line_col(end);
        // One line more on each side than shown: miette reads a span at the very start
        // or end of its text differently.
        let from_line = first.saturating_sub(before.saturating_add(1)).max(1);
        let from = self.lines.offset_of(from_line, 0);
        let to = self
            .lines
            .offset_of(last.saturating_add(after).saturating_add(2), 0);
        let window = from
            .checked_sub(self.from)
            .and_then(|at| self.text.get(at..to.max(from) - self.from));
        let (window, from, from_line) = match window {
            Some(window) => (window, from, from_line),
            // More lines asked for than kept: those kept.
            None => (
                self.text.as_str(),
                self.from,
                self.lines.line_col(self.from).0,
            ),
        };
        // Within the text kept, whatever the span: miette indexes it without checking.
        let offset = span.offset().saturating_sub(from).min(window.len());
        let within = SourceSpan::from((offset, span.len().min(window.len() - offset)));
        let shown = window.read_span(&within, before, after)?;
        let (line, count) = (shown.line(), shown.line_count());
        // miette counts a column in bytes; the header's `file:line:column` counts it in
        // characters, as every other report does (a span after Chinese text in its line
        // was placed two columns right for each character).
        let column = match shown.column() {
            0 => 0,
            _ => self.lines.line_col(span.offset()).1.saturating_sub(1),
        };
        let at = SourceSpan::from((shown.span().offset() + from, shown.span().len()));
        Ok(Box::new(miette::MietteSpanContents::new(
            shown.data(),
            at,
            line + from_line - 1,
            column,
            // miette counts the line breaks from the start of the text it is given.
            count + from_line - 1,
        )))
    }
}

pub fn render_diagnostic(d: &Diagnostic, lang: Lang, style: Style) -> String {
    let mut diag = MietteDiagnostic::new(inert::escaped(d.message.get(lang), false))
        .with_code(match d.policy() {
            Some(p) => format!("{p}/{}", d.rule),
            None => d.rule.to_string(),
        })
        .with_severity(match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    let mut help = d
        .help
        .as_ref()
        .map(|h| h.get(lang).to_owned())
        .unwrap_or_default();
    if let Some(clause) = d.clause().filter(|c| !c.is_empty()) {
        let quote = d.quote().unwrap_or_default();
        let doc = d.source_doc().unwrap_or_default();
        let basis = match lang {
            Lang::Zh => format!("依据：{doc} {clause}「{quote}」"),
            Lang::En => format!("basis: {doc} {clause} “{quote}”"),
        };
        help = if help.is_empty() {
            basis
        } else {
            format!("{help}\n{basis}")
        };
    }
    if !help.is_empty() {
        diag = diag.with_help(inert::escaped(&help, false));
    }
    let label = match d.origin {
        Origin::Finding => d.title().map(|t| t.get(lang).to_owned()),
        _ => None,
    };
    let mut rendered = String::new();
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .without_syntax_highlighting();
    let placed = d.source.as_ref().zip(d.span);
    let shown = placed.and_then(|(source, span)| {
        Src::around(source, span.start as usize, span.end as usize).map(|window| (window, span))
    });
    let result = match shown {
        Some((window, span)) => {
            diag = diag.with_label(LabeledSpan::new_with_span(
                label,
                SourceSpan::from((span.start as usize, span.len())),
            ));
            let report = miette::Report::new(diag)
                .with_source_code(NamedSource::new(inert::escaped(&d.file, true), window));
            handler.render_report(&mut rendered, report.as_ref())
        }
        None => {
            // Placed but not shown (a line too long): named by line and column.
            let place = match placed {
                Some(_) => format!(":{}:{}", d.line, d.column),
                None => String::new(),
            };
            let diag = MietteDiagnostic {
                message: format!(
                    "{}{place}: {}",
                    inert::escaped(&d.file, true),
                    inert::escaped(d.message.get(lang), false)
                ),
                ..diag
            };
            handler.render_report(&mut rendered, &diag)
        }
    };
    if result.is_err() {
        rendered = format!(
            "{}:{}:{}: {} [{}]\n",
            inert::escaped(&d.file, true),
            d.line,
            d.column,
            inert::escaped(d.message.get(lang), false),
            d.rule
        );
    }
    rendered
}

pub fn write(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        writeln!(out, "{}", render_diagnostic(d, lang, style))?;
    }
    if !report.waived.is_empty() {
        writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "已豁免："
            } else {
                "Waived:"
            }
        )?;
        for w in report.waived.iter() {
            let d = &w.diagnostic;
            writeln!(
                out,
                "  {}:{}:{} {} — {}（{}，{} {}）",
                d.file,
                d.line,
                d.column,
                d.rule,
                w.reason,
                w.approved_by,
                if lang == Lang::Zh { "至" } else { "until" },
                w.expires_on
            )?;
        }
    }
    let counts = counts(report);
    if report.diagnostics.len() > 1 {
        writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "按规则统计："
            } else {
                "By rule:"
            }
        )?;
        for (rule, by_severity) in &counts.by_rule {
            let shown: Vec<String> = by_severity
                .iter()
                .map(|(severity, n)| match (lang, *severity) {
                    (Lang::Zh, "error") => format!("{n} 个错误"),
                    (Lang::Zh, _) => format!("{n} 个警告"),
                    (Lang::En, _) => plural(*n, severity),
                })
                .collect();
            writeln!(out, "  {rule:<32} {}", shown.join(", "))?;
        }
    }
    for n in report.not_kept.iter() {
        writeln!(out, "{}", n.note().get(lang))?;
    }
    let (errors, warnings, input_problems) = (counts.errors, counts.warnings, counts.input_errors);
    if !report.figures.is_empty() {
        writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "合规指标："
            } else {
                "Compliance figures:"
            }
        )?;
        for f in &report.figures {
            let mark = if f.ok { "✓" } else { "✗" };
            writeln!(
                out,
                "  {mark} {}: {} ({}/{}), {} {:.0}%",
                f.title.get(lang),
                crate::domain::ratio::percent_against(f.measured, f.threshold),
                f.numerator,
                f.denominator,
                if lang == Lang::Zh {
                    "要求"
                } else {
                    "required"
                },
                f.threshold * 100.0
            )?;
        }
    }
    let summary = match lang {
        Lang::Zh => format!(
            "检查了 {} 个文件、{} 个文档：{errors} 个错误，{warnings} 个警告{}{}。",
            report.files_checked,
            report.documents_checked,
            if report.waived.is_empty() {
                String::new()
            } else {
                format!("，{} 个已豁免", report.waived.len())
            },
            if input_problems > 0 {
                format!("（其中 {input_problems} 个为无法读取的输入或规则问题）")
            } else {
                String::new()
            }
        ),
        Lang::En => format!(
            "Checked {}, {}: {}, {}{}{}.",
            plural(report.files_checked, "file"),
            plural(report.documents_checked, "document"),
            plural(errors, "error"),
            plural(warnings, "warning"),
            if report.waived.is_empty() {
                String::new()
            } else {
                format!(", {} waived", report.waived.len())
            },
            if input_problems > 0 {
                format!(
                    " ({input_problems} of them {})",
                    if input_problems == 1 {
                        "an input or policy problem"
                    } else {
                        "input or policy problems"
                    }
                )
            } else {
                String::new()
            }
        ),
    };
    writeln!(out, "{summary}")
}

/// "1 error", "2 errors".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The 情况通报 as two tables (figures and requirements; findings by section of the
/// notice), the departments that could not be read, and the city's totals.
pub fn write_bulletin(b: &Bulletin, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    let zh = lang == Lang::Zh;
    let unreadable = b.rows.len() - b.readable();
    writeln!(
        out,
        "{}",
        if zh {
            format!(
                "情况通报（截至 {}）：{} 个部门，{} 个可完整读取{}",
                b.as_of,
                b.rows.len(),
                b.readable(),
                if unreadable > 0 {
                    format!("，{unreadable} 个无法完整读取")
                } else {
                    String::new()
                }
            )
        } else {
            format!(
                "Status report (as of {}): {} departments, {} read in full{}",
                b.as_of,
                b.rows.len(),
                b.readable(),
                if unreadable > 0 {
                    format!(", {unreadable} not")
                } else {
                    String::new()
                }
            )
        }
    )?;
    let requirements = requirements();
    let total_label = if zh { "全市合计" } else { "city total" };
    let mut head: Vec<String> = vec![
        (if zh { "排名" } else { "rank" }).into(),
        (if zh { "部门" } else { "department" }).into(),
    ];
    head.extend(
        b.columns
            .iter()
            .map(|c| cells::heading(&c.id, c.title.get(lang), lang)),
    );
    head.extend(
        requirements
            .iter()
            .map(|r| cells::requirement_heading(r.id, lang).to_owned()),
    );
    head.push((if zh { "错误" } else { "errors" }).into());
    head.push((if zh { "警告" } else { "warnings" }).into());
    let mut rows: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![cells::rank(r), r.name.clone()];
            row.extend(b.columns.iter().map(|c| cells::figure(r.figure(&c.id))));
            row.extend((0..requirements.len()).map(|i| cells::met(r, r.met.get(i))));
            row.push(r.findings.errors.to_string());
            row.push(r.findings.warnings.to_string());
            row
        })
        .collect();
    let mut total = vec![String::new(), total_label.to_owned()];
    total.extend(b.totals.iter().map(|f| cells::figure(Some(f))));
    total.extend((0..requirements.len()).map(|i| cells::met_total(b, i)));
    total.push(b.findings.errors.to_string());
    total.push(b.findings.warnings.to_string());
    rows.push(total);
    writeln!(out)?;
    table(out, &head, &rows)?;
    writeln!(
        out,
        "\n{}",
        if zh {
            "按通知章节统计（错误/警告）："
        } else {
            "By section of the notice (errors/warnings):"
        }
    )?;
    let mut head: Vec<String> = vec![(if zh { "部门" } else { "department" }).into()];
    head.extend(SECTIONS.iter().map(|s| (*s).to_owned()));
    let mut rows: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.name.clone()];
            row.extend(r.by_section.iter().map(cells::counts));
            row
        })
        .collect();
    let mut total = vec![total_label.to_owned()];
    total.extend(b.by_section.iter().map(cells::counts));
    rows.push(total);
    table(out, &head, &rows)?;
    if unreadable > 0 {
        writeln!(
            out,
            "\n{}",
            if zh {
                "无法完整读取："
            } else {
                "Not read in full:"
            }
        )?;
        for r in b.rows.iter().filter(|r| !r.readable()) {
            writeln!(out, "  {} ({})", r.name, r.path)?;
            for p in &r.problems {
                writeln!(out, "    {}", p.get(lang))?;
            }
        }
    }
    Ok(())
}

/// A plain text table, columns padded to their display width (CJK characters are two
/// columns wide).
fn table(out: &mut dyn Write, head: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = head.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', w.saturating_sub(cell.width())));
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, head)?;
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    line(out, &rule)?;
    for row in rows {
        line(out, row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A problem at `start..end` of `source`, rendered in English without colour.
    fn rendered(source: &Arc<SourceFile>, start: usize, end: usize) -> String {
        let d = Diagnostic::problem(
            crate::diag::Origin::Input,
            "input/bad-value",
            source,
            crate::parse::tree::Span::new(start, end),
            crate::diag::Text::new("x", "bad value"),
        );
        let style = Style {
            color: false,
            width: 80,
        };
        render_diagnostic(&d, Lang::En, style)
    }

    /// A span past the end of its file (or of the lines kept around it) is shown at
    /// the end, never read past it (found by fuzzing the report writers).
    #[test]
    fn a_span_past_its_text_is_rendered_at_its_end() {
        let source = Arc::new(SourceFile::from_text("t.csv", "a,b\n1,2\n"));
        for (start, end) in [(7, 9), (9, 9), (9, 40), (200, 300)] {
            let shown = rendered(&source, start, end);
            assert!(shown.contains("t.csv"), "{start}..{end}: {shown}");
        }
    }

    /// A diagnostic on a line too long to show is named by line and column, and its
    /// rendering stays short however long the line; on a short line it has a snippet.
    #[test]
    fn a_diagnostic_on_a_very_long_line_is_named_not_shown() {
        let long = format!("a,b\n{}\n1,2\n", "x,".repeat(100_000));
        let source = Arc::new(SourceFile::from_text("t.csv", &long));
        let on_the_long_line = rendered(&source, 16, 17);
        assert!(
            on_the_long_line.contains("t.csv:2:13: bad value"),
            "{on_the_long_line}"
        );
        assert!(on_the_long_line.len() < 500, "{}", on_the_long_line.len());
        // Beside it (its snippet would show it as context), too.
        let next_line = long.len() - 4;
        let beside = rendered(&source, next_line, next_line + 1);
        assert!(beside.contains("t.csv:3:1: bad value"), "{beside}");
        assert!(beside.len() < 500);
        // A short file keeps its snippet.
        let short = Arc::new(SourceFile::from_text("s.csv", "a,b\n1,2\n"));
        let shown = rendered(&short, 6, 7);
        assert!(
            shown.contains("[s.csv:2:3]") && shown.contains("1,2"),
            "{shown}"
        );
    }

    /// The lines around a span read from the window are those miette reads from the
    /// whole text: same bytes, span, line and count, and the column in characters
    /// where miette counts bytes.
    #[test]
    fn a_span_read_from_its_window_is_read_as_from_the_whole_text() {
        let text = "a: 1\nb: 二\n\nc: [x, y]\nd: |\n  long\n  text\ne: end";
        let source = SourceFile::from_text("t.yaml", text);

        for start in 0..text.len() {
            if !text.is_char_boundary(start) {
                continue;
            }
            for len in [0, 1, 3, 12] {
                let end = (start + len).min(text.len());
                if !text.is_char_boundary(end) {
                    continue;
                }
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let span = SourceSpan::from((start, end - start));
                    let whole = text
                        .read_span(&span, before, after)
                        .map_err(|e| e.to_string());
                    let src = Src::around(&source, start, end).expect("short lines");
                    let window = src
                        .read_span(&span, before, after)
                        .map_err(|e| e.to_string());
                    let seen = |c: Result<Box<dyn miette::SpanContents>, String>| {
                        c.map(|c| {
                            (
                                String::from_utf8_lossy(c.data()).into_owned(),
                                c.span().offset(),
                                c.span().len(),
                                c.line(),
                                c.column(),
                                c.line_count(),
                            )
                        })
                    };
                    let in_chars = |(data, offset, len, line, column, count)| {
                        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                        let column = match column {
                            0 => 0,
                            _ => text[line_start..start].chars().count(),
                        };
                        (data, offset, len, line, column, count)
                    };
                    assert_eq!(
                        seen(window),
                        seen(whole).map(in_chars),
                        "span {start}+{} around {before}/{after}",
                        end - start
                    );
                }
            }
        }
    }
}
