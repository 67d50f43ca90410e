//! What each fuzz target does with one input, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) and the stable-toolchain mutation test (`tests/fuzz_fallback.rs`).
//!
//! Each function feeds bytes to one reader, loader, the script sandbox or the report
//! writers and checks what the project promises about bad input: no panic, and every
//! problem is a diagnostic that points inside its file (so it can be rendered). A broken
//! promise panics, which the fuzzer records as a crash.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use spotlint::commands::check::{check_documents, CheckOptions, PolicyChoice};
use spotlint::diag::{Cite, Diagnostic, Figure, Lang, Origin, Report, Severity, Text, Waived};
use spotlint::parse::source::SourceFile;
use spotlint::parse::tree::Span;
use spotlint::policy::{self, Store};
use spotlint::read::input::{input_error, load_source, Document, Loaded};
use spotlint::read::table::{read_table, CsvTable, FlatChunk, ReadOptions, TableError};
use spotlint::report::{self, Format, Style};
use spotlint::rules::{CompiledPolicy, Limits};

/// Diagnostics rendered per input: enough to reach the renderer's edge cases without
/// spending every execution on snippets.
const RENDERED: usize = 8;

/// A diagnostic must point inside its own text, on character boundaries, and render.
fn check_diagnostics<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) {
    for (i, d) in diagnostics.into_iter().enumerate() {
        assert!(!d.rule.is_empty(), "a diagnostic without a code: {d:?}");
        if let (Some(span), Some(source)) = (d.span, &d.source) {
            let text = &source.text;
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(
                start <= end && end <= text.len(),
                "span {start}..{end} outside {} ({} bytes) for {}",
                d.file,
                text.len(),
                d.rule
            );
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "span {start}..{end} splits a character in {} for {}",
                d.file,
                d.rule
            );
        }
        if i < RENDERED {
            let style = Style {
                color: i % 2 == 0,
                width: 80,
            };
            let _ = report::render_diagnostic(d, Lang::Zh, style);
        }
    }
}

fn table_errors(errors: &[TableError]) {
    assert!(!errors.is_empty(), "a table refused without a reason");
    let diagnostics: Vec<Diagnostic> = errors
        .iter()
        .map(|e| input_error(&e.source, &e.error))
        .collect();
    check_diagnostics(&diagnostics);
}

/// A YAML or JSON document as a submission's file: decoded, parsed, dispatched on
/// `kind` and validated.
pub fn yaml(data: &[u8]) {
    let source = match SourceFile::decode("fuzz.yaml", data) {
        Ok(source) => source,
        Err(_) => return,
    };
    let mut loaded = Loaded::default();
    load_source(&source, &mut loaded);
    check_diagnostics(&loaded.diagnostics);
}

/// A CSV table read whole, and opened for streaming as Results tables are.
pub fn csv(data: &[u8]) {
    match read_table("fuzz.csv", data, false, &ReadOptions::default()) {
        Ok(_) => {}
        Err(errors) => table_errors(&errors),
    }
    let table = match CsvTable::open("fuzz.csv", data.to_vec()) {
        Ok(table) => table,
        Err(errors) => return table_errors(&errors),
    };
    // Small chunks, so that inputs of a few rows still cross chunk boundaries.
    for range in table.chunks(3) {
        let _ = FlatChunk::read(&table, range);
        if let Err(errors) = table.chunk(range) {
            table_errors(&errors);
        }
        let _ = table.validated_tree(range);
    }
}

/// A workbook (XLSX, XLS, XLSB, ODS: recognised from the bytes).
pub fn xlsx(data: &[u8]) {
    match read_table("fuzz.xlsx", data, true, &ReadOptions::default()) {
        Ok(_) => {}
        Err(errors) => table_errors(&errors),
    }
}

/// The shipped policy files and rule scripts, so that a fuzzed policy can extend them
/// and name their scripts.
fn shipped_files() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        Store::embedded_names()
            .filter_map(|name| {
                let text = Store::Embedded.read(Path::new(name)).ok()?;
                Some((name.to_owned(), text))
            })
            .collect()
    })
}

/// Names of the parts of a policy input, separated by NUL bytes: the policy, a policy
/// it may extend, a script and a calendar it may name, beside the shipped files.
pub const POLICY_PARTS: [&str; 4] = [
    "policies/fuzz.yaml",
    "policies/fuzz-parent.yaml",
    "policies/fuzz.rhai",
    "policies/fuzz-calendar.yaml",
];

/// A policy held in memory (with the files it names), loaded and its rules compiled.
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut files: Vec<(&str, &str)> = POLICY_PARTS.iter().copied().zip(text.split('\0')).collect();
    files.extend(
        shipped_files()
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str())),
    );
    match policy::load(Store::Memory(&files), Path::new(POLICY_PARTS[0])) {
        Ok(policy) => {
            let compiled = CompiledPolicy::new(&policy, &Limits::default());
            check_diagnostics(&compiled.errors);
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a policy refused without a reason");
            check_diagnostics(&errors);
        }
    }
}

/// The submission scripts run against: the clean example, read once.
fn fixture_documents() -> &'static [Document] {
    static DOCUMENTS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        let files = [
            ("plan.yaml", include_str!("../fixtures/clean/plan.yaml")),
            ("items.yaml", include_str!("../fixtures/clean/items.yaml")),
            (
                "objects.yaml",
                include_str!("../fixtures/clean/objects.yaml"),
            ),
            (
                "personnel.yaml",
                include_str!("../fixtures/clean/personnel.yaml"),
            ),
            (
                "results-JA-2024-001.yaml",
                include_str!("../fixtures/clean/results-JA-2024-001.yaml"),
            ),
            (
                "results-JA-2024-002.yaml",
                include_str!("../fixtures/clean/results-JA-2024-002.yaml"),
            ),
        ];
        let mut loaded = Loaded::default();
        for (name, text) in files {
            load_source(&SourceFile::from_text(name, text), &mut loaded);
        }
        assert!(
            loaded.diagnostics.is_empty(),
            "the fixture does not load: {:?}",
            loaded.diagnostics
        );
        loaded.documents
    })
}

/// How a script rule is called, chosen by the input's first byte.
const SCRIPT_SHAPES: [(&str, &str); 5] = [
    ("record", "[Results]"),
    ("record", "[Plan]"),
    ("document", "[Results, Plan, ItemList]"),
    ("submission", "[Results, Plan]"),
    ("record", "[ObjectLibrary, PersonnelLibrary]"),
];

/// An arbitrary script, compiled and run as a rule with the project's limits against a
/// small submission. Its first byte picks what the rule is called with.
pub fn script(data: &[u8]) {
    let Some((&shape, script)) = data.split_first() else {
        return;
    };
    let (each, on) = SCRIPT_SHAPES[usize::from(shape) % SCRIPT_SHAPES.len()];
    let policy_text = format!(
        "kind: Policy\nid: fuzz\ntitle: {{zh: 模糊测试, en: fuzzing}}\ncalendar: calendar/cn.yaml\nrules:\n  \
         - id: fuzz-script\n    title: {{zh: 脚本, en: script}}\n    clause: 一\n    quote: 原文\n    \
         severity: error\n    on: {on}\n    each: {each}\n    script: fuzz.rhai\n    \
         params: {{limit: 3, names: [a, b]}}\n    help: {{zh: 改正, en: fix it}}\n    \
         message: {{zh: \"{{value}}\", en: \"{{value}}\"}}\n"
    );
    let script = String::from_utf8_lossy(script);
    let mut files = vec![
        ("policies/fuzz.yaml", policy_text.as_str()),
        ("policies/fuzz.rhai", &script),
    ];
    files.extend(
        shipped_files()
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str())),
    );
    let policy = match policy::load(Store::Memory(&files), Path::new("policies/fuzz.yaml")) {
        Ok(policy) => policy,
        Err(errors) => panic!("the script's policy does not load: {errors:?}"),
    };
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("a valid date");
    let options = CheckOptions::new(
        vec![PathBuf::from("fixtures/clean")],
        PolicyChoice::Shipped,
        as_of,
    );
    let loaded = Loaded {
        documents: fixture_documents().to_vec(),
        files: 6,
        ..Loaded::default()
    };
    let report = check_documents(&policy, &options, loaded);
    check_diagnostics(&report.diagnostics);
}

/// A report of findings built from the input's values (file names, rule ids, messages,
/// help, targets, figures, waivers), written in every text format and both languages.
pub fn reports(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or_default();
    let source = SourceFile::from_text(name, text.as_ref());
    let mut report = Report {
        policy: name.chars().rev().collect(),
        files_checked: data.len() % 7,
        documents_checked: data.len() % 5,
        ..Report::default()
    };
    let mut offset = name.len() + 1;
    for (i, line) in lines.take(64).enumerate() {
        let start = offset.min(text.len());
        offset += line.len() + 1;
        let mut parts = line.split('\t');
        let mut part = || parts.next().unwrap_or_default();
        let rule = part();
        let rule = if rule.is_empty() { "fuzz-rule" } else { rule };
        let message = Text::new(part(), part());
        let severity = if i % 3 == 0 {
            Severity::Warning
        } else {
            Severity::Error
        };
        let origin = [Origin::Finding, Origin::Input, Origin::Tool][i % 3];
        let span = Span::new(start, (start + line.len()).min(text.len()));
        let mut d = if i % 4 == 3 {
            Diagnostic::unplaced(origin, rule, part(), message)
        } else {
            Diagnostic::problem(origin, rule, &source, span, message)
        };
        d.severity = severity;
        let help = Text::new(part(), part());
        if !help.zh.is_empty() || !help.en.is_empty() {
            d = d.with_help(help);
        }
        d.cite = Some(Arc::new(Cite {
            title: Some(Text::new(part(), part())),
            clause: Some(part().to_owned()),
            quote: Some(part().to_owned()),
            source_doc: Some(part().to_owned()),
            policy: Some(part().to_owned()),
        }));
        d.targets = part().split(',').map(Into::into).collect();
        let measured = part().parse::<f64>().ok();
        if let Some(measured) = measured {
            let numerator = part().parse::<i64>().unwrap_or_default();
            let denominator = part().parse::<i64>().unwrap_or_default();
            let threshold = part().parse::<f64>().unwrap_or_default();
            report.figures.push(Figure {
                id: rule.to_owned(),
                title: Text::new(part(), part()),
                measured,
                numerator,
                denominator,
                threshold,
                ok: measured >= threshold,
            });
        }
        if i % 5 == 4 {
            report.waived.push(Waived {
                diagnostic: d,
                reason: part().to_owned(),
                approved_by: part().to_owned(),
                expires_on: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date"),
            });
        } else {
            report.diagnostics.push(d);
        }
    }
    report.sort();
    let width = data.first().map_or(80, |&b| usize::from(b));
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Html,
    ] {
        for lang in [Lang::Zh, Lang::En] {
            let mut out = Vec::new();
            let style = Style {
                color: lang == Lang::Zh,
                width,
            };
            report::write(&report, None, format, lang, style, &mut out)
                .expect("writing to memory cannot fail");
            if matches!(format, Format::Json | Format::Sarif) {
                serde_json::from_slice::<serde_json::Value>(&out)
                    .expect("the JSON and SARIF reports are JSON");
            }
        }
    }
}
