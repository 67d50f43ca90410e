//! The one-page HTML report: compliance figures as bars against their thresholds, and
//! the findings grouped by rule and by file, each with its source lines, the clause it
//! enforces and the fix. One self-contained file: styles and the filter script are
//! inline, and the page's content security policy forbids loading anything else.
//! Every value from the submission is escaped; filters compare `data-` attributes and
//! never put text into markup.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::bulletin::{cells, requirements, Bulletin, Counts, Row, SECTIONS};
use super::cells::Locator;
use super::xlsx::basis;
use super::{counts, level};
use crate::diag::{Diagnostic, Figure, Lang, Report, Severity};

/// Findings shown per rule; a rule with more says how many are left out (the JSON and
/// XLSX reports hold them all).
pub const MAX_PER_RULE: usize = 500;
/// Source lines shown before and after a finding's line.
const CONTEXT_LINES: usize = 2;
/// Characters of a source line shown around a finding.
const LINE_CHARS: usize = 160;

/// Text escaped for HTML content and attribute values; control characters, which no
/// reader needs and which could hide text, become U+FFFD.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            // Bidirectional overrides would reorder what a reader sees.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

pub(crate) const STYLE: &str = r#"
:root { --bad: #b3261e; --bad-bg: #fde7e7; --warn: #8a5a00; --warn-bg: #fff4d6; --ok: #1e6b35; --ink: #1f2328; --muted: #5f6670; --line: #d6dae0; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1080px; padding: 24px; line-height: 1.5; font-size: 14px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
h4 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); font-weight: 600; word-break: break-all; }
.meta { color: var(--muted); margin: 0; }
.verdict { font-weight: 600; margin: 8px 0 0; }
.verdict.bad { color: var(--bad); } .verdict.ok { color: var(--ok); }
.figure { margin: 10px 0; }
.figure-head { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
.figure-title { font-weight: 600; flex: 1 1 auto; }
.figure-value { font-variant-numeric: tabular-nums; }
.mark { font-weight: 600; } .figure.ok .mark { color: var(--ok); } .figure.bad .mark { color: var(--bad); }
.bar { position: relative; height: 14px; background: #eef0f3; border-radius: 3px; margin-top: 4px; overflow: visible; }
.fill { height: 100%; border-radius: 3px; background: var(--ok); }
.figure.bad .fill { background: var(--bad); }
.threshold { position: absolute; top: -3px; bottom: -3px; width: 2px; background: var(--ink); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); text-align: left; padding: 4px 6px; vertical-align: top; }
th { background: #f3f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.path { word-break: break-all; }
#filters { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; background: #f3f5f8; padding: 8px 10px; border-radius: 4px; position: sticky; top: 0; z-index: 1; }
#filters select { max-width: 320px; }
.finding { border-left: 4px solid var(--bad); background: #fff; padding: 6px 10px; margin: 8px 0; break-inside: avoid; page-break-inside: avoid; }
.finding.warning { border-left-color: #d99a00; }
.where { color: var(--muted); font-size: 12px; margin: 0; }
.sev { font-weight: 600; } .finding.error .sev { color: var(--bad); } .finding.warning .sev { color: var(--warn); }
.message { margin: 2px 0 4px; font-weight: 500; }
.snippet { background: #f6f8fa; border: 1px solid var(--line); border-radius: 3px; padding: 4px 0; margin: 4px 0; font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; white-space: pre-wrap; word-break: break-all; tab-size: 4; }
.snippet .l { display: block; padding: 0 8px 0 0; }
.snippet .l.hit { background: #fff1c2; }
.snippet .n { display: inline-block; min-width: 4.5em; padding-right: 8px; text-align: right; color: var(--muted); user-select: none; }
.snippet mark { background: #ffb4a8; color: inherit; text-decoration: underline wavy var(--bad); }
.basis, .fix { margin: 2px 0; font-size: 13px; }
.basis { color: var(--muted); }
.more { color: var(--muted); font-style: italic; }
.unreadable, .bad-cell { color: var(--bad); }
.bad-cell { font-weight: 600; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  #filters, .no-print { display: none !important; }
  h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  .figure, tr { break-inside: avoid; page-break-inside: avoid; }
  .bar, .fill, .finding, .snippet .l.hit, .snippet mark, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  if (!form) { return; }
  var findings = document.querySelectorAll('.finding');
  var rule = document.getElementById('filter-rule');
  var file = document.getElementById('filter-file');
  var shown = document.getElementById('shown');
  var none = document.getElementById('none');
  function apply() {
    var severities = {};
    form.querySelectorAll('input[name=severity]').forEach(function (box) { severities[box.value] = box.checked; });
    var count = 0;
    findings.forEach(function (f) {
      var visible = severities[f.dataset.severity] !== false
        && (!rule.value || f.dataset.rule === rule.value)
        && (!file.value || f.dataset.file === file.value);
      f.hidden = !visible;
      if (visible) { count += 1; }
    });
    document.querySelectorAll('.file-group, .rule').forEach(function (group) {
      group.hidden = !group.querySelector('.finding:not([hidden])');
    });
    shown.textContent = shown.dataset.template.replace('{shown}', count).replace('{total}', findings.length);
    none.hidden = count > 0;
  }
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  form.hidden = false;
  apply();
})();
"#;

/// The page's head: everything inline, nothing loaded from elsewhere.
pub(crate) fn head(out: &mut String, lang: Lang, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        t(lang, "zh-CN", "en"),
        esc(title)
    );
}

pub fn write(report: &Report, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(report, lang).as_bytes())
}

/// The whole page.
pub fn page(report: &Report, lang: Lang) -> String {
    let mut html = String::new();
    let title = t(
        lang,
        "“双随机、一公开”报送检查报告",
        "Spot-check submission report",
    );
    head(&mut html, lang, title);
    let counts = counts(report);
    let (errors, warnings) = (counts.errors, counts.warnings);
    let _ = write!(html, "<header>\n<h1>{}</h1>\n", esc(title));
    let meta = match lang {
        Lang::Zh => format!(
            "规则集 {} · 检查了 {} 个文件、{} 个文档",
            report.policy, report.files_checked, report.documents_checked
        ),
        Lang::En => format!(
            "Policy {} · {} files, {} documents checked",
            report.policy, report.files_checked, report.documents_checked
        ),
    };
    let _ = writeln!(html, "<p class=\"meta\">{}</p>", esc(&meta));
    let input_problems = counts.input_errors;
    let mut verdict = match lang {
        Lang::Zh => format!("{errors} 个错误，{warnings} 个警告"),
        Lang::En => format!("{errors} errors, {warnings} warnings"),
    };
    if input_problems > 0 {
        verdict.push_str(&match lang {
            Lang::Zh => format!("（其中 {input_problems} 个为无法读取的输入或规则问题）"),
            Lang::En => format!(" ({input_problems} of them input or policy problems)"),
        });
    }
    if !report.waived.is_empty() {
        verdict.push_str(&match lang {
            Lang::Zh => format!("；{} 个已豁免", report.waived.len()),
            Lang::En => format!("; {} waived", report.waived.len()),
        });
    }
    let _ = writeln!(
        html,
        "<p class=\"verdict {}\" id=\"verdict\">{}</p>\n</header>",
        if errors > 0 { "bad" } else { "ok" },
        esc(&verdict)
    );
    figures(&mut html, &report.figures, lang);
    by_file(&mut html, report, lang);
    findings(&mut html, report, lang);
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    html
}

/// One figure: title, value, threshold, and a bar with the threshold marked on it.
pub(crate) fn figure_bar(html: &mut String, f: &Figure, lang: Lang) {
    let value = match lang {
        Lang::Zh => format!(
            "{:.1}%（{}/{}） · 要求 {:.0}%",
            f.measured * 100.0,
            f.numerator,
            f.denominator,
            f.threshold * 100.0
        ),
        Lang::En => format!(
            "{:.1}% ({}/{}) · required {:.0}%",
            f.measured * 100.0,
            f.numerator,
            f.denominator,
            f.threshold * 100.0
        ),
    };
    let mark = if f.ok {
        t(lang, "✓ 达标", "✓ met")
    } else {
        t(lang, "✗ 未达标", "✗ not met")
    };
    let width = (f.measured * 100.0).clamp(0.0, 100.0);
    let threshold = (f.threshold * 100.0).clamp(0.0, 100.0);
    let _ = write!(
        html,
        "<div class=\"figure {}\" data-figure=\"{}\">\n<div class=\"figure-head\"><span class=\"figure-title\">{}</span>\
         <span class=\"figure-value\">{}</span><span class=\"mark\">{}</span></div>\n\
         <div class=\"bar\" role=\"img\" aria-label=\"{}\"><div class=\"fill\" style=\"width:{width:.1}%\"></div>\
         <div class=\"threshold\" style=\"left:{threshold:.1}%\"></div></div>\n</div>\n",
        if f.ok { "ok" } else { "bad" },
        esc(&f.id),
        esc(f.title.get(lang)),
        esc(&value),
        mark,
        esc(&value),
    );
}

fn figures(html: &mut String, figures: &[Figure], lang: Lang) {
    let _ = writeln!(
        html,
        "<section id=\"figures\">\n<h2>{}</h2>",
        t(lang, "合规指标", "Compliance figures")
    );
    if figures.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"meta\">{}</p>",
            t(
                lang,
                "没有可计算的指标（报送中没有相应的计划或结果）",
                "No figure could be measured (the submission has no plan or results for them)"
            )
        );
    }
    for f in figures {
        figure_bar(html, f, lang);
    }
    html.push_str("</section>\n");
}

fn by_file(html: &mut String, report: &Report, lang: Lang) {
    if report.diagnostics.is_empty() {
        return;
    }
    let mut files: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for d in &report.diagnostics {
        let entry = files.entry(&d.file).or_default();
        match d.severity {
            Severity::Error => entry.0 += 1,
            Severity::Warning => entry.1 += 1,
        }
    }
    let _ = write!(
        html,
        "<section id=\"by-file\">\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        t(lang, "按文件", "By file"),
        t(lang, "文件", "File"),
        t(lang, "错误", "Errors"),
        t(lang, "警告", "Warnings"),
    );
    for (file, (errors, warnings)) in files {
        let _ = writeln!(
            html,
            "<tr><td class=\"path\">{}</td><td class=\"num\">{errors}</td><td class=\"num\">{warnings}</td></tr>",
            esc(file)
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
}

fn findings(html: &mut String, report: &Report, lang: Lang) {
    let _ = writeln!(
        html,
        "<section id=\"findings\">\n<h2>{}</h2>",
        t(lang, "发现的问题", "Findings")
    );
    if report.diagnostics.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"verdict ok\">{}</p>\n</section>",
            t(lang, "没有发现问题。", "No findings.")
        );
        return;
    }
    filter_form(html, report, lang);
    // Rules with errors first, then by id; within a rule by file, then by position.
    let mut rules: BTreeMap<(std::cmp::Reverse<Severity>, &str), Vec<&Diagnostic>> =
        BTreeMap::new();
    let worst: BTreeMap<&str, Severity> =
        report
            .diagnostics
            .iter()
            .fold(BTreeMap::new(), |mut worst, d| {
                let w = worst.entry(d.rule.as_str()).or_insert(d.severity);
                *w = (*w).max(d.severity);
                worst
            });
    for d in &report.diagnostics {
        let severity = worst.get(d.rule.as_str()).copied().unwrap_or(d.severity);
        rules
            .entry((std::cmp::Reverse(severity), &d.rule))
            .or_default()
            .push(d);
    }
    let mut locator = Locator::default();
    for ((_, rule), list) in rules {
        let title = list
            .iter()
            .find_map(|d| d.title())
            .map(|t| t.get(lang).to_owned())
            .unwrap_or_default();
        let _ = write!(
            html,
            "<section class=\"rule\" data-rule=\"{}\">\n<h3>{}{}{} <span class=\"meta\">({})</span></h3>\n",
            esc(rule),
            esc(rule),
            if title.is_empty() { "" } else { " · " },
            esc(&title),
            list.len()
        );
        let mut by_file: BTreeMap<&str, Vec<&Diagnostic>> = BTreeMap::new();
        for d in list.iter().take(MAX_PER_RULE) {
            by_file.entry(&d.file).or_default().push(d);
        }
        for (file, ds) in by_file {
            let _ = writeln!(
                html,
                "<div class=\"file-group\" data-file=\"{}\">\n<h4>{}</h4>",
                esc(file),
                esc(file)
            );
            for d in ds {
                finding(html, d, &mut locator, lang);
            }
            html.push_str("</div>\n");
        }
        if list.len() > MAX_PER_RULE {
            let more = list.len() - MAX_PER_RULE;
            let _ = writeln!(
                html,
                "<p class=\"more\">{}</p>",
                esc(&match lang {
                    Lang::Zh => format!(
                        "另有 {more} 个同类问题未列出，完整清单见 --format xlsx 或 json 报告"
                    ),
                    Lang::En => format!(
                        "{more} more of these are not listed; the --format xlsx or json report lists them all"
                    ),
                })
            );
        }
        html.push_str("</section>\n");
    }
    let _ = writeln!(
        html,
        "<p id=\"none\" class=\"meta\" hidden>{}</p>\n</section>",
        t(
            lang,
            "没有符合筛选条件的问题。",
            "No finding matches the filters."
        )
    );
}

fn filter_form(html: &mut String, report: &Report, lang: Lang) {
    let counts = counts(report);
    let mut files: Vec<&str> = report.diagnostics.iter().map(|d| d.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let _ = write!(
        html,
        "<form id=\"filters\" hidden>\n<span>{}</span>",
        t(lang, "级别：", "Severity:")
    );
    for severity in [Severity::Error, Severity::Warning] {
        let _ = write!(
            html,
            "<label><input type=\"checkbox\" name=\"severity\" id=\"filter-{0}\" value=\"{0}\" checked> {1} ({2})</label>",
            level(severity),
            super::xlsx::severity_name(severity, lang),
            counts.of(severity)
        );
    }
    let all = t(lang, "全部", "all");
    let _ = write!(
        html,
        "\n<label>{} <select id=\"filter-rule\"><option value=\"\">{all}</option>",
        t(lang, "规则：", "Rule:")
    );
    for (rule, by_severity) in &counts.by_rule {
        let n: usize = by_severity.values().sum();
        let _ = write!(html, "<option value=\"{0}\">{0} ({n})</option>", esc(rule));
    }
    let _ = write!(
        html,
        "</select></label>\n<label>{} <select id=\"filter-file\"><option value=\"\">{all}</option>",
        t(lang, "文件：", "File:")
    );
    for file in files {
        let _ = write!(html, "<option value=\"{0}\">{0}</option>", esc(file));
    }
    let _ = writeln!(
        html,
        "</select></label>\n<output id=\"shown\" data-template=\"{}\"></output>\n</form>",
        t(
            lang,
            "显示 {shown} / {total} 个问题",
            "showing {shown} of {total}"
        )
    );
}

fn finding(html: &mut String, d: &Diagnostic, locator: &mut Locator, lang: Lang) {
    let severity = level(d.severity);
    let where_ = match (locator.cell(d), lang) {
        (Some(cell), Lang::Zh) => format!("单元格 {}", cell.name()),
        (Some(cell), Lang::En) => format!("cell {}", cell.name()),
        (None, Lang::Zh) => format!("第 {} 行，第 {} 列", d.line, d.column),
        (None, Lang::En) => format!("line {}, column {}", d.line, d.column),
    };
    let _ = write!(
        html,
        "<article class=\"finding {severity}\" data-severity=\"{severity}\" data-rule=\"{}\" data-file=\"{}\">\n\
         <p class=\"where\"><span class=\"sev\">{}</span> · {} · {}</p>\n<p class=\"message\">{}</p>\n",
        esc(&d.rule),
        esc(&d.file),
        super::xlsx::severity_name(d.severity, lang),
        esc(&d.file),
        esc(&where_),
        esc(d.message.get(lang)),
    );
    snippet(html, d);
    let basis = basis(d);
    if !basis.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"basis\"><b>{}</b>{}</p>",
            t(lang, "依据：", "Basis: "),
            esc(&basis)
        );
    }
    if let Some(help) = &d.help {
        let _ = writeln!(
            html,
            "<p class=\"fix\"><b>{}</b>{}</p>",
            t(lang, "整改：", "Fix: "),
            esc(help.get(lang))
        );
    }
    html.push_str("</article>\n");
}

/// The 情况通报 as a page: the city's figures as bars, then one row per department.
pub fn bulletin_page(b: &Bulletin, lang: Lang) -> String {
    let mut html = String::new();
    let title = t(
        lang,
        "“双随机、一公开”监管情况通报",
        "Spot-check status report",
    );
    head(&mut html, lang, title);
    let meta = match lang {
        Lang::Zh => format!(
            "截至 {} · {} 个部门，{} 个可完整读取 · {} 个错误，{} 个警告",
            b.as_of,
            b.rows.len(),
            b.readable(),
            b.findings.errors,
            b.findings.warnings
        ),
        Lang::En => format!(
            "As of {} · {} departments, {} read in full · {} errors, {} warnings",
            b.as_of,
            b.rows.len(),
            b.readable(),
            b.findings.errors,
            b.findings.warnings
        ),
    };
    let _ = writeln!(
        html,
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>",
        esc(title),
        esc(&meta)
    );
    let _ = writeln!(
        html,
        "<section id=\"figures\">\n<h2>{}</h2>",
        t(lang, "全市合计", "City totals")
    );
    for f in &b.totals {
        figure_bar(&mut html, f, lang);
    }
    let requirements = requirements();
    html.push_str("<table>\n<tbody>\n");
    for (i, r) in requirements.iter().enumerate() {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(r.title.get(lang)),
            esc(&match lang {
                Lang::Zh => format!("{} 个部门达标", cells::met_total(b, i)),
                Lang::En => format!("{} departments", cells::met_total(b, i)),
            })
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
    let _ = write!(
        html,
        "<section id=\"departments\">\n<h2>{}</h2>\n<table>\n<thead><tr><th class=\"num\">{}</th><th>{}</th>",
        t(lang, "各部门情况", "Departments"),
        t(lang, "排名", "Rank"),
        t(lang, "部门", "Department")
    );
    for c in &b.columns {
        let _ = write!(
            html,
            "<th class=\"num\">{}<br><span class=\"meta\">≥ {:.0}%</span></th>",
            esc(&cells::heading(&c.id, c.title.get(lang), lang)),
            c.threshold * 100.0
        );
    }
    for r in &requirements {
        let _ = write!(html, "<th>{}</th>", cells::requirement_heading(r.id, lang));
    }
    let _ = writeln!(
        html,
        "<th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>",
        t(lang, "错误", "Errors"),
        t(lang, "警告", "Warnings")
    );
    for r in &b.rows {
        let _ = write!(
            html,
            "<tr data-department=\"{}\"><td class=\"num\">{}</td><td class=\"path\">{}</td>",
            esc(&r.name),
            cells::rank(r),
            esc(&r.name)
        );
        for c in &b.columns {
            let f = r.figure(&c.id);
            let class = if f.is_some_and(|f| !f.ok) {
                "num bad-cell"
            } else {
                "num"
            };
            let _ = write!(
                html,
                "<td class=\"{class}\">{}</td>",
                esc(&cells::figure(f))
            );
        }
        for i in 0..requirements.len() {
            let _ = write!(html, "<td>{}</td>", esc(&cells::met(r, r.met.get(i))));
        }
        let _ = writeln!(
            html,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            r.findings.errors, r.findings.warnings
        );
    }
    let _ = write!(
        html,
        "<tr><td></td><td><b>{}</b></td>",
        t(lang, "全市合计", "City total")
    );
    for f in &b.totals {
        let _ = write!(
            html,
            "<td class=\"num\"><b>{}</b></td>",
            esc(&cells::figure(Some(f)))
        );
    }
    for i in 0..requirements.len() {
        let _ = write!(html, "<td><b>{}</b></td>", cells::met_total(b, i));
    }
    let _ = writeln!(
        html,
        "<td class=\"num\"><b>{}</b></td><td class=\"num\"><b>{}</b></td></tr>\n</tbody>\n</table>\n</section>",
        b.findings.errors, b.findings.warnings
    );
    let _ = write!(
        html,
        "<section id=\"sections\">\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th>",
        t(
            lang,
            "按通知章节统计（错误/警告）",
            "By section of the notice (errors/warnings)"
        ),
        t(lang, "部门", "Department")
    );
    for s in SECTIONS {
        let _ = write!(html, "<th class=\"num\">{s}</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    let section_row = |html: &mut String, name: &str, counts: &[Counts; 7]| {
        let _ = write!(html, "<tr><td class=\"path\">{}</td>", esc(name));
        for c in counts {
            let _ = write!(html, "<td class=\"num\">{}</td>", cells::counts(c));
        }
        html.push_str("</tr>\n");
    };
    for r in &b.rows {
        section_row(&mut html, &r.name, &r.by_section);
    }
    section_row(&mut html, t(lang, "全市合计", "City total"), &b.by_section);
    html.push_str("</tbody>\n</table>\n</section>\n");
    let unreadable: Vec<&Row> = b.rows.iter().filter(|r| !r.readable()).collect();
    if !unreadable.is_empty() {
        let _ = writeln!(
            html,
            "<section id=\"unreadable\">\n<h2>{}</h2>\n<ul>",
            t(lang, "无法完整读取的部门", "Departments not read in full")
        );
        for r in unreadable {
            let problems: Vec<String> = r.problems.iter().map(|p| esc(p.get(lang))).collect();
            let _ = writeln!(
                html,
                "<li><b>{}</b> <span class=\"meta\">{}</span><br><span class=\"unreadable\">{}</span></li>",
                esc(&r.name),
                esc(&r.path),
                problems.join("<br>")
            );
        }
        html.push_str("</ul>\n</section>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The lines around a finding, numbered, the finding's own text marked.
fn snippet(html: &mut String, d: &Diagnostic) {
    let (Some(source), Some(span)) = (&d.source, d.span) else {
        return;
    };
    if source.text.is_empty() {
        return;
    }
    let (line, _) = source.line_col(span.start as usize);
    let last = source.line_col(source.text.len()).0;
    let first = line.saturating_sub(CONTEXT_LINES).max(1);
    let end = (line + CONTEXT_LINES).min(last);
    html.push_str("<pre class=\"snippet\">");
    for n in first..=end {
        let text = source.line_text(n);
        if n == line {
            let line_start = source.offset_of(n, 0);
            let from = (span.start as usize)
                .saturating_sub(line_start)
                .min(text.len());
            let to = (span.end as usize)
                .saturating_sub(line_start)
                .clamp(from, text.len());
            let (before, hit, after) = split_at_chars(text, from, to);
            let _ = write!(
                html,
                "<span class=\"l hit\"><span class=\"n\">{n}</span>{}<mark>{}</mark>{}</span>",
                esc(&tail(before, LINE_CHARS / 2)),
                esc(&head_chars(hit, LINE_CHARS)),
                esc(&head_chars(after, LINE_CHARS / 2)),
            );
        } else {
            let _ = write!(
                html,
                "<span class=\"l\"><span class=\"n\">{n}</span>{}</span>",
                esc(&head_chars(text, LINE_CHARS))
            );
        }
    }
    html.push_str("</pre>\n");
}

/// `text` cut at two byte offsets, each moved back to a character boundary.
fn split_at_chars(text: &str, from: usize, to: usize) -> (&str, &str, &str) {
    let floor = |mut i: usize| {
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (from, to) = (floor(from), floor(to));
    (&text[..from], &text[from..to], &text[to..])
}

fn head_chars(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn tail(text: &str, n: usize) -> String {
    let count = text.chars().count();
    if count <= n {
        return text.to_owned();
    }
    let skip = text.char_indices().nth(count - n).map_or(0, |(at, _)| at);
    format!("…{}", &text[skip..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_hidden_characters_are_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(esc("a\u{0}b\u{202E}c\td"), "a\u{FFFD}b\u{FFFD}c\td");
    }

    #[test]
    fn long_lines_are_cut_around_the_finding() {
        assert_eq!(head_chars("abcdef", 3), "abc…");
        assert_eq!(tail("abcdef", 2), "…ef");
        assert_eq!(split_at_chars("长度x", 1, 4), ("", "长", "度x"));
    }
}
