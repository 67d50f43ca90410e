//! Rendering a report: miette's annotated snippets for people, one JSON object for CI.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, SourceCode,
    SourceSpan,
};
use serde_json::json;

use crate::diag::{Diagnostic, Lang, Origin, Report, Severity};
mod formats;
use crate::parse::source::SourceFile;
use crate::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
}

/// How the human report looks; tests pin colour off and a fixed width.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// A source file as miette reads it, without copying the text per diagnostic.
struct Src(Arc<SourceFile>);

impl SourceCode for Src {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0.text.as_str().read_span(span, before, after)
    }
}

pub fn write(
    report: &Report,
    policy: Option<&Policy>,
    format: Format,
    lang: Lang,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => write_human(report, lang, style, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report, lang))?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &formats::sarif(report, policy, lang))?;
            writeln!(out)
        }
        Format::Junit => out.write_all(formats::junit(report, policy, lang).as_bytes()),
        Format::Github => out.write_all(formats::github(report, lang).as_bytes()),
    }
}

pub fn render_diagnostic(d: &Diagnostic, lang: Lang, style: Style) -> String {
    let mut diag = MietteDiagnostic::new(d.message.get(lang).to_owned())
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
            Lang::En => format!("basis: {doc} {clause} 「{quote}」"),
        };
        help = if help.is_empty() {
            basis
        } else {
            format!("{help}\n{basis}")
        };
    }
    if !help.is_empty() {
        diag = diag.with_help(help);
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
            let report = miette::Report::new(diag)
                .with_source_code(NamedSource::new(d.file.clone(), Src(Arc::clone(source))));
            handler.render_report(&mut rendered, report.as_ref())
        }
        _ => {
            let diag = MietteDiagnostic {
                message: format!("{}: {}", d.file, d.message.get(lang)),
                ..diag
            };
            handler.render_report(&mut rendered, &diag)
        }
    };
    if result.is_err() {
        rendered = format!(
            "{}:{}:{}: {} [{}]\n",
            d.file,
            d.line,
            d.column,
            d.message.get(lang),
            d.rule
        );
    }
    rendered
}

fn write_human(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> io::Result<()> {
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
                "  {mark} {}: {:.1}% ({}/{}), {} {:.0}%",
                f.title.get(lang),
                f.measured * 100.0,
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
            "Checked {} files, {} documents: {errors} errors, {warnings} warnings{}{}.",
            report.files_checked,
            report.documents_checked,
            if report.waived.is_empty() {
                String::new()
            } else {
                format!(", {} waived", report.waived.len())
            },
            if input_problems > 0 {
                format!(" ({input_problems} of them input or policy problems)")
            } else {
                String::new()
            }
        ),
    };
    writeln!(out, "{summary}")
}

/// rule → severity → number of diagnostics.
fn counts_by_rule(report: &Report) -> BTreeMap<&str, BTreeMap<&str, usize>> {
    let mut by_rule: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for d in &report.diagnostics {
        *by_rule
            .entry(&d.rule)
            .or_default()
            .entry(d.severity.as_str())
            .or_default() += 1;
    }
    by_rule
}

pub fn to_json(report: &Report, lang: Lang) -> serde_json::Value {
    use rayon::prelude::*;
    // Side by side: a province's report holds a hundred thousand findings and more.
    let diagnostics: Vec<_> = report
        .diagnostics
        .par_iter()
        .map(|d| {
            json!({
                "rule": d.rule,
                "policy": d.policy.as_deref(),
                "severity": d.severity,
                "origin": match d.origin { Origin::Finding => "finding", Origin::Input => "input", Origin::Tool => "tool" },
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "message": d.message.get(lang),
                "clause": d.clause.as_ref().map(|c| format!("{} {c}", d.source_doc.as_deref().unwrap_or_default()).trim().to_owned()),
                "help": d.help.as_ref().map(|h| h.get(lang)),
            })
        })
        .collect();
    let by_rule = counts_by_rule(report);
    let figures: Vec<_> = report
        .figures
        .iter()
        .map(|f| json!({"id": f.id, "title": f.title.get(lang), "measured": f.measured, "numerator": f.numerator, "denominator": f.denominator, "threshold": f.threshold, "ok": f.ok}))
        .collect();
    let waived: Vec<_> = report
        .waived
        .iter()
        .map(|w| json!({"rule": w.diagnostic.rule, "file": w.diagnostic.file, "line": w.diagnostic.line, "column": w.diagnostic.column, "message": w.diagnostic.message.get(lang), "reason": w.reason, "approved_by": w.approved_by, "expires_on": w.expires_on.to_string()}))
        .collect();
    json!({
        "version": 1,
        "diagnostics": diagnostics,
        "waived": waived,
        "summary": {
            "policy": report.policy,
            "files": report.files_checked,
            "documents": report.documents_checked,
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "input_errors": report.diagnostics.iter().filter(|d| d.origin != Origin::Finding).count(),
            "waived": report.waived.len(),
            "by_rule": by_rule,
            "figures": figures,
        }
    })
}
