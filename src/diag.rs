//! Diagnostics: findings of rules and problems reading input, with positions, in both
//! languages; and the run's report that every output format renders.

use std::sync::Arc;

use serde::Serialize;

pub use crate::name::Name;
use crate::parse::source::SourceFile;
use crate::parse::tree::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// A text in Chinese and English.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh if !self.zh.is_empty() => &self.zh,
            Lang::En if !self.en.is_empty() => &self.en,
            Lang::Zh => &self.en,
            Lang::En => &self.zh,
        }
    }
}

/// The keys whose text values name what a finding is about (for waivers): of the
/// node reported on, else of its document.
pub const TARGET_KEYS: [&str; 4] = ["object", "uscc", "id", "task"];

/// What a diagnostic is about: a rule's finding, or input/policy/script trouble
/// (which makes the run exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Finding,
    Input,
    Tool,
}

/// What a diagnostic cites: the policy, and for a rule's finding the rule's title and
/// the notice's document, clause and quote. A rule's, shared by all its findings (a
/// million-row table may give a hundred thousand).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cite {
    /// The policy that declares the rule.
    pub policy: Option<String>,
    /// The rule's short title, used as the label under the offending field.
    pub title: Option<Text>,
    /// The document the clause is in (文号).
    pub source_doc: Option<String>,
    pub clause: Option<String>,
    pub quote: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The rule's id, or the problem's code.
    pub rule: Name,
    pub severity: Severity,
    pub origin: Origin,
    pub file: Name,
    pub line: usize,
    pub column: usize,
    pub span: Option<Span>,
    pub message: Text,
    pub cite: Option<Arc<Cite>>,
    /// Shared by a rule's findings when it names none of their values.
    pub help: Option<Arc<Text>>,
    pub source: Option<Arc<SourceFile>>,
    /// Ids of the reported record (object, id, uscc, task), for waivers to match.
    pub targets: Vec<Target>,
}

/// An id a finding is about: short (a code, a task id), so held inline, not allocated
/// for each of a run's findings.
pub type Target = smartstring::alias::String;

impl Diagnostic {
    /// A positioned problem in a file (input, policy or script).
    pub fn problem(
        origin: Origin,
        code: &str,
        source: &Arc<SourceFile>,
        span: Span,
        message: Text,
    ) -> Diagnostic {
        Diagnostic::problem_at(origin, code, (source, span, None), message)
    }

    /// [`Diagnostic::problem`] at a place whose line and column may be known already
    /// (counted where a finding was made in a streamed chunk).
    pub fn problem_at(
        origin: Origin,
        code: &str,
        (source, span, known): (&Arc<SourceFile>, Span, Option<(usize, usize)>),
        message: Text,
    ) -> Diagnostic {
        Diagnostic::named_problem_at(
            origin,
            (Name::from(code), source.name.clone()),
            (Arc::clone(source), span, known),
            message,
        )
    }

    /// [`Diagnostic::problem_at`] with its code and its file's name given as shared
    /// names (a rule's id; `source`'s name), and its source given, not cloned.
    pub fn named_problem_at(
        origin: Origin,
        (code, file): (Name, Name),
        (source, span, known): (Arc<SourceFile>, Span, Option<(usize, usize)>),
        message: Text,
    ) -> Diagnostic {
        let (line, column) = known.unwrap_or_else(|| source.line_col(span.start as usize));
        Diagnostic {
            rule: code,
            severity: Severity::Error,
            origin,
            file,
            line,
            column,
            span: Some(span),
            message,
            cite: None,
            help: None,
            source: Some(source),
            targets: Vec::new(),
        }
    }

    /// A problem with no file to point into (usage errors, unreadable paths).
    pub fn unplaced(origin: Origin, code: &str, file: &str, message: Text) -> Diagnostic {
        Diagnostic {
            rule: Name::from(code),
            severity: Severity::Error,
            origin,
            file: Name::from(file),
            line: 1,
            column: 1,
            span: None,
            message,
            cite: None,
            help: None,
            source: None,
            targets: Vec::new(),
        }
    }

    pub fn with_help(mut self, help: Text) -> Diagnostic {
        self.help = Some(Arc::new(help));
        self
    }

    /// The policy that declares the rule, for findings and script problems.
    pub fn policy(&self) -> Option<&str> {
        self.cite.as_ref()?.policy.as_deref()
    }

    pub fn title(&self) -> Option<&Text> {
        self.cite.as_ref()?.title.as_ref()
    }

    pub fn clause(&self) -> Option<&str> {
        self.cite.as_ref()?.clause.as_deref()
    }

    pub fn source_doc(&self) -> Option<&str> {
        self.cite.as_ref()?.source_doc.as_deref()
    }

    pub fn quote(&self) -> Option<&str> {
        self.cite.as_ref()?.quote.as_deref()
    }

    /// The citation to change, this diagnostic's own.
    pub fn cite_mut(&mut self) -> &mut Cite {
        Arc::make_mut(self.cite.get_or_insert_with(Default::default))
    }

    fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.file, self.line, self.column, &self.rule)
    }
}

/// Everything one `check` run found.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub files_checked: usize,
    pub documents_checked: usize,
    /// Of those, annual plans (the requirements on a plan are judged only with one).
    pub plans_checked: usize,
    /// Compliance figures for the summary (name → measured, threshold, ok).
    pub figures: Vec<Figure>,
    /// Which policy was applied, for the summary.
    pub policy: String,
    /// Findings set aside by waivers (boxed, as `not_kept`).
    pub waived: Box<Vec<Waived>>,
    /// Rules whose findings were more than the run keeps (boxed: a report is also the
    /// error of loading a policy, and is kept small).
    pub not_kept: Box<Vec<NotKept>>,
}

/// A rule that found more than the run keeps (`--max-findings-per-rule`): the first
/// `kept` findings are listed, `not_kept` more are counted.
#[derive(Debug, Clone, Serialize)]
pub struct NotKept {
    pub rule: String,
    #[serde(skip)]
    pub severity: Severity,
    pub kept: usize,
    pub not_kept: u64,
    /// A waiver covering the whole rule sets these aside too, as it does the listed ones.
    pub waived: bool,
}

impl NotKept {
    /// The note every format shows.
    pub fn note(&self) -> Text {
        let (zh, en) = if self.waived {
            ("，已随规则豁免", ", waived with the rule")
        } else {
            ("", "")
        };
        Text::new(
            format!(
                "规则 `{}` 另有 {} 个问题未列出（只列出前 {} 个；数量与合规指标包含全部问题）{zh}",
                self.rule, self.not_kept, self.kept
            ),
            format!(
                "rule `{}`: {} more {} not listed (the first {} are; counts and compliance figures include all){en}",
                self.rule,
                self.not_kept,
                if self.not_kept == 1 { "finding" } else { "findings" },
                self.kept
            ),
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub id: String,
    #[serde(skip)]
    pub title: Text,
    pub measured: f64,
    pub numerator: i64,
    pub denominator: i64,
    pub threshold: f64,
    pub ok: bool,
}

impl Report {
    pub fn sort(&mut self) {
        // A diagnostic is a few hundred bytes and a report may hold tens of thousands:
        // the order is worked out on their places in the list, then they are put in
        // place in the list itself (a second list would hold them all twice).
        use rayon::prelude::*;
        // A report names few files, each in thousands of diagnostics, mostly one after
        // the other and sharing its name: they are ordered by the files' ranks, so that
        // most comparisons compare numbers, not paths. Keys are made side by side.
        let mut files: Vec<&str> = self
            .diagnostics
            .par_iter()
            .fold(Vec::new, |mut names: Vec<&Name>, d| {
                if !names.last().is_some_and(|last| last.is(&d.file)) {
                    names.push(&d.file);
                }
                names
            })
            .flatten_iter()
            .map(Name::as_str)
            .collect();
        files.sort_unstable();
        files.dedup();
        // Keys with their places last, so that equal keys keep their order.
        let mut keys: Vec<_> = self
            .diagnostics
            .par_iter()
            .enumerate()
            .map_init(
                || None::<(&Name, u32)>,
                |last, (at, d)| {
                    let rank = match *last {
                        Some((name, rank)) if name.is(&d.file) => rank,
                        _ => {
                            let rank = files
                                .binary_search(&d.file.as_str())
                                .map_or(u32::MAX, |i| u32::try_from(i).unwrap_or(u32::MAX));
                            *last = Some((&d.file, rank));
                            rank
                        }
                    };
                    ((rank, d.line, d.column, d.rule.as_str()), at)
                },
            )
            .collect();
        keys.par_sort_unstable();
        let mut order: Vec<usize> = keys.into_iter().map(|(_, at)| at).collect();
        crate::shared::permute(&mut self.diagnostics, &mut order);
        self.diagnostics
            .dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
    }

    pub fn has_input_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.origin != Origin::Finding)
    }

    /// Exit status: 2 when anything could not be read or evaluated, else 1 when a
    /// finding reaches `fail_on`, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if self.has_input_errors() {
            2
        } else if self
            .diagnostics
            .iter()
            .any(|d| d.origin == Origin::Finding && d.severity >= fail_on)
            || self
                .not_kept
                .iter()
                .any(|n| n.severity >= fail_on && !n.waived)
        {
            1
        } else {
            0
        }
    }
}

/// A finding set aside by a waiver.
#[derive(Debug, Clone)]
pub struct Waived {
    pub diagnostic: Diagnostic,
    pub reason: String,
    pub approved_by: String,
    pub expires_on: chrono::NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_sorted_by_file_line_column_and_rule_keeping_ties_in_order() {
        let mut report = Report::default();
        let files = ["b.csv", "a.csv", "b.csv", "c/a.csv", "a.csv", "b.csv"];
        // Most diagnostics share their file's name; some hold a copy of their own.
        let shared: Vec<Name> = files.iter().map(|f| Name::from(*f)).collect();
        for i in 0..600usize {
            let mut d = Diagnostic::unplaced(
                Origin::Finding,
                ["rule-b", "rule-a"][i % 2],
                files[i % files.len()],
                Text::new(format!("第{i}"), format!("n{i}")),
            );
            if i % 5 != 0 {
                d.file = shared[i % files.len()].clone();
            }
            d.line = i % 7;
            d.column = i % 3;
            report.diagnostics.push(d);
        }
        type Row = (String, usize, usize, String, String);
        let rows = |report: &Report| -> Vec<Row> {
            let row = |d: &Diagnostic| {
                let (file, rule, message) =
                    (d.file.to_string(), d.rule.to_string(), d.message.en.clone());
                (file, d.line, d.column, rule, message)
            };
            report.diagnostics.iter().map(row).collect()
        };
        let mut wanted = rows(&report);
        // A stable sort: equal keys keep the order they came in.
        wanted.sort_by(|a, b| (&a.0, a.1, a.2, &a.3).cmp(&(&b.0, b.1, b.2, &b.3)));
        report.sort();
        let got = rows(&report);
        assert_eq!(got, wanted);
    }
}
