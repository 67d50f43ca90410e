//! The human report: miette's annotated snippets, a summary by rule, the compliance
//! figures.

use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, SourceCode,
    SourceSpan,
};

use super::{counts_by_rule, inert, Style};
use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};
use crate::parse::source::SourceFile;

/// A source file as miette reads it, without copying the text per diagnostic; a file
/// that holds active characters is shown through an inert copy of the same length,
/// made once per file.
struct Src(Arc<str>);

impl SourceCode for Src {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0.as_ref().read_span(span, before, after)
    }
}

thread_local! {
    /// The last file shown, as shown: findings come sorted by file.
    static SHOWN: std::cell::RefCell<Option<(usize, Arc<str>)>> = const { std::cell::RefCell::new(None) };
}

fn shown_text(source: &Arc<SourceFile>) -> Arc<str> {
    let key = Arc::as_ptr(source) as usize;
    SHOWN.with(|shown| {
        let mut shown = shown.borrow_mut();
        if let Some((k, text)) = shown.as_ref() {
            if *k == key {
                return Arc::clone(text);
            }
        }
        let text: Arc<str> = match inert::same_length(&source.text) {
            Some(clean) => Arc::from(clean),
            None => Arc::from(source.text.as_str()),
        };
        *shown = Some((key, Arc::clone(&text)));
        text
    })
}

pub fn render_diagnostic(d: &Diagnostic, lang: Lang, style: Style) -> String {
    let mut diag = MietteDiagnostic::new(inert::escaped(d.message.get(lang), false))
        .with_code(match &d.policy {
            Some(p) => format!("{p}/{}", d.rule),
            None => d.rule.clone(),
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
    if let Some(clause) = d.clause.as_deref().filter(|c| !c.is_empty()) {
        let quote = d.quote.as_deref().unwrap_or_default();
        let doc = d.source_doc.as_deref().unwrap_or_default();
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
        Origin::Finding => d.title.as_ref().map(|t| t.get(lang).to_owned()),
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
    let result = match (&d.source, d.span) {
        (Some(source), Some(span)) => {
            diag = diag.with_label(LabeledSpan::new_with_span(
                label,
                SourceSpan::from((span.start as usize, span.len())),
            ));
            let report = miette::Report::new(diag).with_source_code(NamedSource::new(
                inert::escaped(&d.file, true),
                Src(shown_text(source)),
            ));
            handler.render_report(&mut rendered, report.as_ref())
        }
        _ => {
            let diag = MietteDiagnostic {
                message: format!(
                    "{}: {}",
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
        for w in &report.waived {
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
        for (rule, counts) in counts_by_rule(report) {
            let shown: Vec<String> = counts
                .iter()
                .map(|(severity, n)| format!("{n} {severity}"))
                .collect();
            writeln!(out, "  {rule:<32} {}", shown.join(", "))?;
        }
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let input_problems = report
        .diagnostics
        .iter()
        .filter(|d| d.origin != Origin::Finding)
        .count();
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
