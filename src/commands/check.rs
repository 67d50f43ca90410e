//! `spotlint check`: read the documents, choose and load the policy, group
//! submissions, evaluate, apply waivers, and write one report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::{emit, write_annotated, write_output, EXIT_ERROR};
use crate::diag::{Diagnostic, Lang, Origin, Report, Severity, Text};
use crate::findings::waivers;
use crate::policy::{self, Policy, Store};
use crate::read::input::{self, Document, Loaded};
use crate::read::table::ReadOptions;
use crate::report::{self, Format, Style};
use crate::rules::{CompiledPolicy, Limits};
use crate::run;

use super::progress::Progress;

/// Streamed tables smaller than this are checked too fast to watch a bar.
const PROGRESS_FROM_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    paths: Vec<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report to this file instead of standard output (required for xlsx).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write a copy of every input table with findings into this folder, each offending
    /// cell highlighted with a note and a findings column (the inputs are not changed).
    #[arg(long, value_name = "DIR")]
    annotate: Option<PathBuf>,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Waiver file, the reviewer's (waivers among the checked files apply only where
    /// the policy allows it).
    #[arg(long)]
    waivers: Vec<PathBuf>,
    /// Only read and validate the documents (benchmark baseline).
    #[arg(long, hide = true)]
    parse_only: bool,
    /// Print timing and peak memory to stderr as one JSON line (benchmarks).
    #[arg(long, hide = true)]
    stats: bool,
}

/// Options that `check` and `report` share: which policy, as of when, in which language,
/// within which limits, and how tables that state no department or year are read.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Policy file (default: the shipped policy effective for the submission's year).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Evaluation date for time-dependent rules (default: today).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Operation limit per script call (one record, document or submission).
    #[arg(long, default_value_t = Limits::default().max_operations,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_operations: u64,
    /// Findings listed per rule; more are counted, with a note saying how many.
    #[arg(long, default_value_t = Limits::default().max_findings_per_rule,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_findings_per_rule: usize,
    /// Department of published tables that state none (a sidecar's `department` wins).
    #[arg(long)]
    pub department: Option<String>,
    /// Year of published plans that state none (a sidecar's `year` wins).
    #[arg(long)]
    pub year: Option<i64>,
    /// No progress bar (it is shown on stderr only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl RunArgs {
    /// The options of a check of `paths` with these settings.
    pub fn check_options(&self, paths: Vec<PathBuf>) -> CheckOptions {
        let mut options = CheckOptions::new(
            paths,
            super::choice(self.policy.clone()),
            self.as_of.unwrap_or_else(today),
        );
        options.limits.max_operations = self.max_operations;
        options.limits.max_findings_per_rule = self.max_findings_per_rule;
        options.department.clone_from(&self.department);
        options.year = self.year;
        options.progress = (!self.no_progress).then_some(self.lang);
        options
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    crate::schema::parse_date(s).map_err(|_| format!("`{s}` is not a date YYYY-MM-DD"))
}

/// Runs `spotlint check` and returns the exit code.
pub fn main(args: Args, out: &mut dyn Write, style: Style) -> i32 {
    let started = std::time::Instant::now();
    if args.format.is_binary() && args.output.is_none() {
        eprintln!("error: --format xlsx writes a workbook, not text: give --output FILE");
        return EXIT_ERROR;
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let mut options = args.run.check_options(paths.clone());
    options.waivers = args.waivers;
    options.parse_only = args.parse_only;
    let outcome = run(&options);
    if let Some(chosen) = &outcome.chosen {
        eprintln!("{chosen}");
    }
    print_notes(&outcome.notes, args.run.lang);
    if args.stats {
        eprintln!(
            "{}",
            serde_json::json!({"seconds": started.elapsed().as_secs_f64(), "peak_rss_kib": peak_rss_kib(), "documents": outcome.report.documents_checked, "diagnostics": outcome.report.diagnostics.len()})
        );
    }
    let fail_on = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    let mut code = outcome.report.exit_code(fail_on);
    let (format, lang) = (args.format, args.run.lang);
    match args.output {
        Some(path) => {
            let style = Style {
                color: false,
                ..style
            };
            let written = write_output(&path, &paths, |w| {
                report::write(
                    &outcome.report,
                    outcome.policy.as_ref(),
                    format,
                    lang,
                    style,
                    w,
                )
            });
            if let Err(e) = written {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_ERROR;
            }
        }
        None => emit(
            &outcome.report,
            outcome.policy.as_ref(),
            format,
            lang,
            style,
            out,
        ),
    }
    if let Some(dir) = &args.annotate {
        if !write_annotated(&outcome.report, dir, &paths, lang) {
            code = EXIT_ERROR;
        }
    }
    run::drop_aside(outcome);
    code
}

/// Notes on how tables were read, on stderr.
pub fn print_notes(notes: &[crate::read::table::TableNote], lang: Lang) {
    for note in notes {
        let text = match lang {
            Lang::Zh => &note.zh,
            Lang::En => &note.en,
        };
        eprintln!("note: {}: {text}", crate::read::table::note_place(note));
    }
}

/// Peak resident memory of this process (Linux), for `--stats`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Which policy to apply: a file on disk, or the shipped one effective for the year.
#[derive(Debug, Clone)]
pub enum PolicyChoice {
    Shipped,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub policy: PolicyChoice,
    pub as_of: NaiveDate,
    pub limits: Limits,
    /// Waiver files named on the command line (waivers beside the submission are
    /// picked up as documents of `kind: Waivers`).
    pub waivers: Vec<PathBuf>,
    /// Read and validate only; no rule runs (the benchmark's baseline).
    pub parse_only: bool,
    /// Rows per chunk of a streamed Results table.
    pub chunk_rows: usize,
    /// Department and year of published tables that state none (`--department`,
    /// `--year`).
    pub department: Option<String>,
    pub year: Option<i64>,
    /// Draw a progress bar on stderr (where it is a terminal), in this language.
    pub progress: Option<Lang>,
    /// The header vocabulary tables are read with (None: the shipped one).
    pub vocabulary: Option<Arc<crate::read::table::Vocabulary>>,
    /// CSV files from this size (bytes) on are mapped rather than read (None: the
    /// default).
    pub map_from: Option<u64>,
}

impl CheckOptions {
    pub fn new(paths: Vec<PathBuf>, policy: PolicyChoice, as_of: NaiveDate) -> CheckOptions {
        CheckOptions {
            paths,
            policy,
            as_of,
            limits: Limits::default(),
            waivers: Vec::new(),
            parse_only: false,
            chunk_rows: crate::read::table::CHUNK_ROWS,
            progress: None,
            department: None,
            year: None,
            vocabulary: None,
            map_from: None,
        }
    }

    /// How tables are read.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            department: self.department.clone(),
            year: self.year,
            vocabulary: self.vocabulary.clone(),
            map_from: self.map_from,
        }
    }
}

pub struct Outcome {
    pub report: Report,
    pub policy: Option<Policy>,
    /// How tables were read (see [`print_notes`]).
    pub notes: Vec<crate::read::table::TableNote>,
    /// Which shipped policy was chosen, and for which year (printed on stderr).
    pub chosen: Option<String>,
}

/// The shipped policies that declare an `effective` range, as (path, from, to).
fn selectable_shipped() -> Vec<(String, String, String)> {
    Store::embedded_names()
        .filter(|n| {
            n.starts_with("policies/")
                && n.ends_with(".yaml")
                && !n.contains("/calendar/")
                && !n.contains("/tests/")
        })
        .filter_map(|name| {
            let text = Store::Embedded.read(Path::new(name)).ok()?;
            let source = crate::parse::source::SourceFile::from_text(name, text);
            let tree = crate::parse::yaml::load(&source).ok()?.into_iter().next()?;
            let effective = tree.get_present(tree.root, "effective")?;
            Some((
                name.to_owned(),
                tree.str_at(effective, "from")
                    .unwrap_or("0000-01-01")
                    .to_owned(),
                tree.str_at(effective, "to")
                    .unwrap_or("9999-12-31")
                    .to_owned(),
            ))
        })
        .collect()
}

/// The shipped policy for a year: the one whose `effective` range holds it.
pub fn shipped_policy_for(year: Option<i64>) -> (String, Option<String>) {
    let candidates = selectable_shipped();
    let Some(year) = year else {
        return (policy::DEFAULT_POLICY.to_owned(), None);
    };
    let hit = candidates.iter().find(|(_, from, to)| {
        let y = |d: &str| d.get(..4).and_then(|s| s.parse::<i64>().ok());
        y(from).is_some_and(|f| f <= year) && y(to).is_some_and(|t| t >= year)
    });
    match hit {
        Some((name, _, _)) => (name.clone(), None),
        None => (
            policy::DEFAULT_POLICY.to_owned(),
            Some(format!(
                "no shipped policy is effective for {year}; using {}",
                policy::DEFAULT_POLICY
            )),
        ),
    }
}

/// Loads the chosen policy; problems in it are diagnostics of the report.
pub fn load_policy(choice: &PolicyChoice) -> Result<Policy, Report> {
    load_policy_for(choice, None)
}

/// Loads the chosen policy; the shipped one is the one effective for `year`.
pub fn load_policy_for(choice: &PolicyChoice, year: Option<i64>) -> Result<Policy, Report> {
    let loaded = match choice {
        PolicyChoice::Shipped => {
            let (path, note) = shipped_policy_for(year);
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            policy::load(Store::Embedded, Path::new(&path))
        }
        PolicyChoice::File(path) => policy::load(Store::Disk, path),
    };
    loaded.map_err(|diagnostics| Report {
        diagnostics,
        ..Report::default()
    })
}

pub fn run(options: &CheckOptions) -> Outcome {
    // A policy named on the command line is read first: its vocabulary reads the
    // tables. (The shipped one is chosen by the documents' year, and reads them with
    // the shipped vocabulary.)
    let named = match &options.policy {
        PolicyChoice::File(_) => Some(load_policy_for(&options.policy, None)),
        PolicyChoice::Shipped => None,
    };
    let mut read = options.read_options();
    if let Some(Ok(policy)) = &named {
        read.vocabulary = read.vocabulary.or_else(|| policy.vocabulary.clone());
    }
    let mut loaded = input::load_paths_with(&options.paths, &read);
    let notes = std::mem::take(&mut loaded.notes);
    // A waiver file named by `--waivers` is the reviewer's even where it lies among the
    // checked files: read it once, as theirs.
    let reviewer_files: Vec<PathBuf> = options
        .waivers
        .iter()
        .filter_map(|f| std::fs::canonicalize(f).ok())
        .collect();
    loaded.waivers.retain(|tree| {
        std::fs::canonicalize(&tree.source.name).map_or(true, |p| !reviewer_files.contains(&p))
    });
    for file in &options.waivers {
        let extra = input::load_paths(std::slice::from_ref(file));
        if extra.waivers.is_empty() && extra.diagnostics.is_empty() {
            loaded.diagnostics.push(Diagnostic::unplaced(
                Origin::Input,
                "input/waivers",
                &file.display().to_string(),
                Text::new(
                    "豁免文件中没有 `kind: Waivers` 文档",
                    "the waiver file holds no `kind: Waivers` document",
                ),
            ));
        }
        loaded.trusted_waivers.extend(extra.waivers);
        loaded.diagnostics.extend(extra.diagnostics);
    }
    if options.parse_only {
        let tables = std::mem::take(&mut loaded.tables);
        let evaluation = run::parse_only(&loaded.documents, tables, options.chunk_rows);
        let mut diagnostics = loaded.diagnostics;
        diagnostics.extend(evaluation.diagnostics.into_iter().flatten());
        diagnostics.extend(evaluation.findings);
        let mut report = Report {
            files_checked: loaded.files,
            documents_checked: loaded.documents.len() + evaluation.streamed_documents,
            diagnostics,
            ..Report::default()
        };
        nothing_checked(&mut report, &options.paths);
        // As after a check: what was read is not freed before the report is written.
        run::drop_aside(loaded.documents);
        return Outcome {
            report,
            policy: None,
            notes,
            chosen: None,
        };
    }
    let year = loaded
        .documents
        .iter()
        .filter_map(|d| d.year)
        .chain(loaded.tables.iter().flat_map(|t| t.years.iter().copied()))
        .max();
    let documents = std::mem::take(&mut loaded.documents);
    // The shipped policy is chosen by the documents' year. It is read and compiled
    // while the documents' submissions are indexed, which needs no policy.
    let (prepared, submissions) = rayon::join(
        || {
            named
                .unwrap_or_else(|| load_policy_for(&options.policy, year))
                .map(|policy| {
                    let compiled = CompiledPolicy::new(&policy, &options.limits);
                    (policy, compiled)
                })
        },
        || run::Submissions::new(&documents),
    );
    let (policy, compiled) = match prepared {
        Ok(p) => p,
        Err(mut report) => {
            report.diagnostics.extend(loaded.diagnostics);
            report.sort();
            return Outcome {
                report,
                policy: None,
                notes,
                chosen: None,
            };
        }
    };
    let chosen = matches!(options.policy, PolicyChoice::Shipped).then(|| {
        format!(
            "policy: {} ({}, built in){}",
            policy.id,
            policy.path,
            year.map(|y| format!(" for {y}")).unwrap_or_default()
        )
    });
    let report = check_prepared(
        (&policy, &compiled),
        options,
        loaded,
        (&documents, submissions),
    );
    run::drop_aside(documents);
    Outcome {
        report,
        policy: Some(policy),
        notes,
        chosen,
    }
}

/// A run that found no document to check is an input error (exit 2), never a clean
/// pass: CI must not go green on an empty or mistyped folder. (Files that could not be
/// read have their own diagnostics already.)
fn nothing_checked(report: &mut Report, paths: &[PathBuf]) {
    if report.documents_checked > 0 || report.has_input_errors() {
        return;
    }
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    report.diagnostics.push(Diagnostic::unplaced(
        Origin::Input,
        "input/nothing-checked",
        &shown.join(" "),
        Text::new(
            format!(
                "没有找到可检查的文档（读取了 {} 个文件）：请给出含有计划、事项清单、名录库或检查结果（YAML、JSON、CSV、XLSX）的文件或文件夹",
                report.files_checked
            ),
            format!(
                "found no document to check ({} files read): give files or folders holding plans, item lists, libraries or results (YAML, JSON, CSV, XLSX)",
                report.files_checked
            ),
        ),
    ));
}

/// Checks documents against an already loaded policy.
pub fn check_with(policy: &Policy, options: &CheckOptions) -> Report {
    let loaded = input::load_paths_with(&options.paths, &options.read_options());
    check_loaded(policy, options, loaded)
}

/// Checks documents already read (policy tests build them from inline YAML).
pub fn check_documents(policy: &Policy, options: &CheckOptions, loaded: Loaded) -> Report {
    check_loaded(policy, options, loaded)
}

fn check_loaded(policy: &Policy, options: &CheckOptions, mut loaded: Loaded) -> Report {
    let documents = std::mem::take(&mut loaded.documents);
    let (compiled, submissions) = rayon::join(
        || CompiledPolicy::new(policy, &options.limits),
        || run::Submissions::new(&documents),
    );
    let report = check_prepared(
        (policy, &compiled),
        options,
        loaded,
        (&documents, submissions),
    );
    run::drop_aside(documents);
    report
}

/// Checks the loaded documents, indexed into `submissions`, against a compiled policy.
fn check_prepared(
    (policy, compiled): (&Policy, &CompiledPolicy),
    options: &CheckOptions,
    mut loaded: Loaded,
    (documents, submissions): (&[Document], run::Submissions),
) -> Report {
    let tables = std::mem::take(&mut loaded.tables);
    let mut report = Report {
        policy: policy.id.clone(),
        ..Report::default()
    };
    // Rules with errors do not run; the others do, and the run exits 2.
    report.diagnostics.extend(compiled.errors.iter().cloned());
    report.files_checked = loaded.files;
    report.diagnostics.extend(loaded.diagnostics);
    let as_of = options.as_of.format("%Y-%m-%d").to_string();
    let streamed_bytes: usize = tables.iter().map(|t| t.table.source.text.len()).sum();
    let (label, lang) = match options.progress {
        Some(Lang::Zh) => ("检查结果表", Lang::Zh),
        Some(Lang::En) => ("checking results tables", Lang::En),
        None => ("", Lang::En),
    };
    // Only a run long enough to watch gets a bar.
    let bar = Progress::bytes(
        options.progress.is_some() && streamed_bytes >= PROGRESS_FROM_BYTES,
        streamed_bytes as u64,
        label,
        lang,
    );
    let setting = run::Setting {
        as_of: &as_of,
        calendar: &policy.calendar,
        chunk_rows: options.chunk_rows,
        progress: &|bytes| bar.advance(bytes),
    };
    let evaluation = run::evaluate(&compiled.rules, submissions, tables, &setting);
    drop(bar);
    report.documents_checked = documents.len() + evaluation.streamed_documents;
    report.plans_checked = documents.iter().filter(|d| d.kind() == "Plan").count();
    nothing_checked(&mut report, &options.paths);
    let waivers: Vec<_> = loaded
        .trusted_waivers
        .into_iter()
        .flat_map(|tree| waivers::from_tree(tree, true))
        .chain(
            loaded
                .waivers
                .into_iter()
                .flat_map(|tree| waivers::from_tree(tree, false)),
        )
        .collect();
    let findings_from = report.diagnostics.len();
    for part in evaluation.diagnostics {
        report.diagnostics.extend(part);
    }
    // The findings are the report's list when it holds nothing else. Put after every
    // problem, they sort as before: the sort keeps ties in the order held, and a
    // problem ties with a finding only if a rule's id is a problem's code.
    if report.diagnostics.is_empty() {
        report.diagnostics = evaluation.findings;
    } else {
        report.diagnostics.extend(evaluation.findings);
    }
    report.waived = Box::new(waivers::apply(
        &mut report.diagnostics,
        findings_from,
        &waivers,
        (&policy.waivers, options.as_of),
    ));
    report.figures = evaluation.figures;
    let mut not_kept = evaluation.not_kept;
    for n in &mut not_kept {
        n.waived = waivers::covers_whole_rule(&waivers, &n.rule, (&policy.waivers, options.as_of));
    }
    report.not_kept = Box::new(not_kept);
    report.sort();
    report
}

/// Today's date, the default of `--as-of`.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}
