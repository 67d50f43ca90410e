//! The office's 情况通报: every department's check summed up in one row — compliance
//! figures, the notice's yes/no requirements, errors and warnings by section of the
//! notice — ranked, with the city's totals. Built from each department's own check
//! report, so a row says exactly what `spotlint check` says of that department.

use serde_json::json;

use crate::diag::{Figure, Lang, Origin, Report, Severity, Text};

/// The notice's sections, and a last group for clauses of other documents.
pub const SECTIONS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "其他"];

/// The ratio figures of the shipped policies, in the order the notice gives them;
/// figures of other policies follow in the order they appear.
const FIGURE_ORDER: [&str; 4] = [
    "results-on-time",
    "result-publication-rate",
    "credit-risk-share",
    "joint-share",
];

/// A requirement met when none of its rules has a finding.
pub struct Requirement {
    pub id: &'static str,
    pub title: Text,
    pub rules: &'static [&'static str],
    /// Judged only when the submission holds a plan.
    pub of_plan: bool,
}

pub fn requirements() -> [Requirement; 3] {
    [
        Requirement {
            id: "plan-published",
            title: Text::new("年度计划公示并录入平台", "plan published and entered"),
            rules: &["plan-published", "plan-platform-sync"],
            of_plan: true,
        },
        Requirement {
            id: "items-filed",
            title: Text::new("抽查事项清单已备案", "item list filed"),
            rules: &["items-filed"],
            of_plan: false,
        },
        Requirement {
            id: "plan-executed",
            title: Text::new("计划任务均已执行", "plan executed"),
            rules: &["plan-executed"],
            of_plan: true,
        },
    ]
}

/// Whether a requirement is met (`None`: nothing to judge it on), with the findings
/// that say it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Met {
    pub ok: Option<bool>,
    pub findings: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
    }
}

/// One department (or district): its check summed up.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub path: String,
    /// Why some or all of its files could not be read or checked; empty when all were.
    pub problems: Vec<Text>,
    pub files: usize,
    pub documents: usize,
    pub figures: Vec<Figure>,
    pub met: Vec<Met>,
    /// Findings (not input problems) by section, in the order of [`SECTIONS`].
    pub by_section: [Counts; 7],
    pub findings: Counts,
    pub input_problems: usize,
    /// 1 is best; departments that could not be read in full are not ranked.
    pub rank: Option<usize>,
}

impl Row {
    /// A department summed up from its check report.
    pub fn from_report(name: String, path: String, report: &Report) -> Row {
        let mut by_section = [Counts::default(); 7];
        let mut findings = Counts::default();
        let mut problems = Vec::new();
        let mut input_problems = 0;
        for d in &report.diagnostics {
            if d.origin == Origin::Finding {
                findings.add(d.severity);
                by_section[section_of(d.clause().unwrap_or_default())].add(d.severity);
            } else {
                input_problems += 1;
                if problems.len() < 3 {
                    problems.push(Text::new(
                        format!("{}: {}", d.file, d.message.zh),
                        format!("{}: {}", d.file, d.message.en),
                    ));
                }
            }
        }
        if input_problems > problems.len() {
            let more = input_problems - problems.len();
            problems.push(Text::new(
                format!("另有 {more} 个无法读取的问题"),
                format!("and {more} more input problems"),
            ));
        }
        if report.files_checked == 0 && input_problems == 0 {
            problems.push(Text::new(
                "没有可检查的文件（.yaml、.yml、.json、.csv、.xlsx）",
                "no files to check (.yaml, .yml, .json, .csv, .xlsx)",
            ));
        }
        let has_plan = report.plans_checked > 0;
        let met = requirements()
            .iter()
            .map(|r| {
                let n = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.origin == Origin::Finding && r.rules.contains(&d.rule.as_str()))
                    .count();
                Met {
                    ok: (n > 0 || has_plan || !r.of_plan).then_some(n == 0),
                    findings: n,
                }
            })
            .collect();
        Row {
            name,
            path,
            problems,
            files: report.files_checked,
            documents: report.documents_checked,
            figures: report.figures.clone(),
            met,
            by_section,
            findings,
            input_problems,
            rank: None,
        }
    }

    /// A department whose check could not run at all.
    pub fn unreadable(name: String, path: String, reason: Text) -> Row {
        Row {
            name,
            path,
            problems: vec![reason],
            files: 0,
            documents: 0,
            figures: Vec::new(),
            met: Vec::new(),
            by_section: [Counts::default(); 7],
            findings: Counts::default(),
            input_problems: 1,
            rank: None,
        }
    }

    pub fn readable(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn figure(&self, id: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.id == id)
    }

    /// Figures and requirements not met.
    pub fn shortfalls(&self) -> usize {
        self.figures.iter().filter(|f| !f.ok).count()
            + self.met.iter().filter(|m| m.ok == Some(false)).count()
    }
}

/// The section of the notice a clause belongs to: its leading numeral 一…六, else 其他.
pub fn section_of(clause: &str) -> usize {
    let first = clause.trim_start().chars().next();
    SECTIONS[..6]
        .iter()
        .position(|s| first.is_some_and(|c| s.starts_with(c)))
        .unwrap_or(6)
}

/// A figure's title and threshold, as the column heading shows it.
#[derive(Debug, Clone)]
pub struct Column {
    pub id: String,
    pub title: Text,
    pub threshold: f64,
}

#[derive(Debug)]
pub struct Bulletin {
    pub as_of: String,
    pub rows: Vec<Row>,
    pub columns: Vec<Column>,
    /// The city's figures: every department's counts pooled.
    pub totals: Vec<Figure>,
    /// For each requirement, the departments that meet it (of those read in full).
    pub met: Vec<usize>,
    pub by_section: [Counts; 7],
    pub findings: Counts,
    pub input_problems: usize,
}

impl Bulletin {
    /// Ranks the rows and adds up the city: fewest figures and requirements missed
    /// first, then fewest errors, then fewest warnings; ties share a rank.
    pub fn new(as_of: String, mut rows: Vec<Row>) -> Bulletin {
        let key = |r: &Row| (r.shortfalls(), r.findings.errors, r.findings.warnings);
        let mut ranked: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].readable()).collect();
        ranked.sort_by_key(|&i| key(&rows[i]));
        let mut previous = None;
        for (place, &i) in ranked.iter().enumerate() {
            let k = key(&rows[i]);
            let rank = match previous {
                Some((pk, pr)) if pk == k => pr,
                _ => place + 1,
            };
            previous = Some((k, rank));
            rows[i].rank = Some(rank);
        }
        let mut columns: Vec<Column> = Vec::new();
        for f in rows.iter().flat_map(|r| &r.figures) {
            if !columns.iter().any(|c| c.id == f.id) {
                columns.push(Column {
                    id: f.id.clone(),
                    title: f.title.clone(),
                    threshold: f.threshold,
                });
            }
        }
        let order = |id: &str| {
            FIGURE_ORDER
                .iter()
                .position(|o| *o == id)
                .unwrap_or(FIGURE_ORDER.len())
        };
        columns.sort_by_key(|c| order(&c.id));
        let totals = columns
            .iter()
            .map(|c| {
                let (numerator, denominator) = rows
                    .iter()
                    .filter_map(|r| r.figure(&c.id))
                    .fold((0, 0), |(n, d), f| (n + f.numerator, d + f.denominator));
                let measured = if denominator == 0 {
                    1.0
                } else {
                    numerator as f64 / denominator as f64
                };
                Figure {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    measured,
                    numerator,
                    denominator,
                    threshold: c.threshold,
                    ok: measured + 1e-9 >= c.threshold,
                }
            })
            .collect();
        let met = (0..requirements().len())
            .map(|i| {
                rows.iter()
                    .filter(|r| r.readable() && r.met.get(i).is_some_and(|m| m.ok == Some(true)))
                    .count()
            })
            .collect();
        let mut by_section = [Counts::default(); 7];
        let mut findings = Counts::default();
        for r in &rows {
            for (total, c) in by_section.iter_mut().zip(&r.by_section) {
                total.errors += c.errors;
                total.warnings += c.warnings;
            }
            findings.errors += r.findings.errors;
            findings.warnings += r.findings.warnings;
        }
        let input_problems = rows.iter().map(|r| r.input_problems).sum();
        Bulletin {
            as_of,
            rows,
            columns,
            totals,
            met,
            by_section,
            findings,
            input_problems,
        }
    }

    pub fn readable(&self) -> usize {
        self.rows.iter().filter(|r| r.readable()).count()
    }

    /// The exit status: 2 when a department could not be read in full, else 1 when any
    /// has an error, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.rows.iter().any(|r| !r.readable()) {
            2
        } else if self.findings.errors > 0 {
            1
        } else {
            0
        }
    }

    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let figure = |f: &Figure| json!({"id": f.id, "title": f.title.get(lang), "measured": f.measured, "numerator": f.numerator, "denominator": f.denominator, "threshold": f.threshold, "ok": f.ok});
        let sections = |counts: &[Counts; 7]| {
            let map: serde_json::Map<String, serde_json::Value> = SECTIONS
                .iter()
                .zip(counts)
                .map(|(s, c)| {
                    (
                        (*s).to_owned(),
                        json!({"errors": c.errors, "warnings": c.warnings}),
                    )
                })
                .collect();
            serde_json::Value::Object(map)
        };
        let requirements = requirements();
        let departments: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "path": r.path,
                    "rank": r.rank,
                    "readable": r.readable(),
                    "problems": r.problems.iter().map(|p| p.get(lang)).collect::<Vec<_>>(),
                    "files": r.files,
                    "documents": r.documents,
                    "errors": r.findings.errors,
                    "warnings": r.findings.warnings,
                    "input_problems": r.input_problems,
                    "figures": r.figures.iter().map(figure).collect::<Vec<_>>(),
                    "requirements": requirements.iter().zip(&r.met).map(|(q, m)| json!({"id": q.id, "title": q.title.get(lang), "ok": m.ok, "findings": m.findings})).collect::<Vec<_>>(),
                    "by_section": sections(&r.by_section),
                })
            })
            .collect();
        json!({
            "version": 1,
            "as_of": self.as_of,
            "departments": departments,
            "totals": {
                "departments": self.rows.len(),
                "readable": self.readable(),
                "errors": self.findings.errors,
                "warnings": self.findings.warnings,
                "input_problems": self.input_problems,
                "figures": self.totals.iter().map(figure).collect::<Vec<_>>(),
                "requirements": requirements.iter().zip(&self.met).map(|(q, n)| json!({"id": q.id, "title": q.title.get(lang), "met": n, "of": self.readable()})).collect::<Vec<_>>(),
                "by_section": sections(&self.by_section),
            }
        })
    }
}

/// The cells of a bulletin as every format shows them.
pub mod cells {
    use super::{Bulletin, Counts, Met, Row};
    use crate::diag::{Figure, Lang};

    /// A figure's heading: short for the shipped figures, else its title.
    pub fn heading(id: &str, title: &str, lang: Lang) -> String {
        let short = match (id, lang) {
            ("results-on-time", Lang::Zh) => "按时录入率",
            ("results-on-time", Lang::En) => "on time",
            ("result-publication-rate", Lang::Zh) => "结果公示率",
            ("result-publication-rate", Lang::En) => "published",
            ("credit-risk-share", Lang::Zh) => "信用风险分类占比",
            ("credit-risk-share", Lang::En) => "credit-risk share",
            ("joint-share", Lang::Zh) => "联合抽查占比",
            ("joint-share", Lang::En) => "joint share",
            _ => title,
        };
        short.to_owned()
    }

    /// A requirement's heading.
    pub fn requirement_heading(id: &str, lang: Lang) -> &'static str {
        match (id, lang) {
            ("plan-published", Lang::Zh) => "计划公示录入",
            ("plan-published", Lang::En) => "plan published",
            ("items-filed", Lang::Zh) => "清单备案",
            ("items-filed", Lang::En) => "items filed",
            ("plan-executed", Lang::Zh) => "计划执行",
            ("plan-executed", Lang::En) => "plan executed",
            _ => "",
        }
    }

    /// `92.9% (13/14)`, `—` when the department has nothing to count.
    pub fn figure(f: Option<&Figure>) -> String {
        match f {
            Some(f) => format!(
                "{}{:.1}% ({}/{})",
                if f.ok { "" } else { "✗ " },
                f.measured * 100.0,
                f.numerator,
                f.denominator
            ),
            None => "—".to_owned(),
        }
    }

    /// `✓`, `✗ 2` (with the findings), `—` for a department not read in full or
    /// without a plan to judge.
    pub fn met(row: &Row, m: Option<&Met>) -> String {
        match m.and_then(|m| m.ok.map(|ok| (ok, m.findings))) {
            Some((true, _)) if row.readable() => "✓".to_owned(),
            Some((false, n)) if row.readable() => format!("✗ {n}"),
            _ => "—".to_owned(),
        }
    }

    /// Errors/warnings: `3/1`.
    pub fn counts(c: &Counts) -> String {
        format!("{}/{}", c.errors, c.warnings)
    }

    pub fn rank(row: &Row) -> String {
        row.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())
    }

    /// `8/10` departments meet a requirement.
    pub fn met_total(b: &Bulletin, i: usize) -> String {
        format!("{}/{}", b.met.get(i).copied().unwrap_or(0), b.readable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_group_by_their_leading_section() {
        assert_eq!(SECTIONS[section_of("三")], "三");
        assert_eq!(SECTIONS[section_of("二（一）")], "二");
        assert_eq!(SECTIONS[section_of("六")], "六");
        assert_eq!(SECTIONS[section_of("第四十二条")], "其他");
        assert_eq!(SECTIONS[section_of("")], "其他");
    }

    fn row(name: &str, errors: usize, warnings: usize) -> Row {
        let mut r = Row::unreadable(name.into(), name.into(), Text::default());
        r.problems.clear();
        r.input_problems = 0;
        r.findings = Counts { errors, warnings };
        r
    }

    #[test]
    fn ties_share_a_rank_and_unreadable_departments_have_none() {
        let rows = vec![
            row("a", 3, 0),
            row("b", 1, 2),
            row("c", 1, 2),
            Row::unreadable("d".into(), "d".into(), Text::new("坏", "bad")),
            row("e", 0, 5),
        ];
        let b = Bulletin::new("2024-12-31".into(), rows);
        let ranks: Vec<_> = b.rows.iter().map(|r| r.rank).collect();
        assert_eq!(ranks, vec![Some(4), Some(2), Some(2), None, Some(1)]);
        assert_eq!(
            b.findings,
            Counts {
                errors: 5,
                warnings: 9
            }
        );
        assert_eq!(b.exit_code(), 2);
    }
}
