//! One behaviour however records arrive: tables streamed in chunks of any size give the
//! findings of the table read whole; a rule written as a script streams as a
//! declarative one does; a date the calendar lacks costs only its own record.

use std::path::{Path, PathBuf};

use spotlint::commands::check::{self, CheckOptions, PolicyChoice};
use spotlint::diag::{Lang, Severity};

use crate::util::{folder, root, spotlint_in};

fn report_json(dir: &Path, chunk_rows: usize) -> serde_json::Value {
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options = CheckOptions::new(vec![dir.to_path_buf()], PolicyChoice::Shipped, as_of);
    options.chunk_rows = chunk_rows;
    let outcome = check::run(&options);
    spotlint::report::to_json(&outcome.report, Lang::En)
}

fn fixture_sets() -> Vec<PathBuf> {
    let fixtures = root().join("fixtures");
    let mut sets = vec![
        fixtures.join("demo"),
        fixtures.join("clean"),
        fixtures.join("tables"),
        root().join("policies/tests/district-policy-data"),
    ];
    for group in ["checks/libraries", "checks/results", "checks/streaming"] {
        let Ok(inputs) = std::fs::read_dir(fixtures.join(group)) else {
            continue;
        };
        for input in inputs {
            let input = input.expect("entry").path();
            if input.is_dir() {
                sets.push(input);
            }
        }
    }
    for entry in std::fs::read_dir(fixtures.join("rules")).expect("fixtures/rules") {
        let rule = entry.expect("entry").path();
        sets.push(rule.join("pass"));
        sets.push(rule.join("fail"));
    }
    sets.sort();
    sets
}

#[test]
fn tables_give_the_same_findings_in_chunks_of_any_size() {
    let mut compared = 0;
    for set in fixture_sets() {
        if !set.exists() {
            continue;
        }
        let whole = serde_json::to_string_pretty(&report_json(&set, 1 << 20)).expect("json");
        // Chunks of one and two rows: documents span chunks.
        for chunk_rows in [1, 2] {
            let chunked =
                serde_json::to_string_pretty(&report_json(&set, chunk_rows)).expect("json");
            assert_eq!(
                chunked,
                whole,
                "{} differs read in chunks of {chunk_rows} rows",
                set.display()
            );
        }
        compared += 1;
    }
    assert!(compared > 60, "only {compared} fixture sets compared");
}

fn report_json_within(dir: &Path, chunk_rows: usize, max_findings: usize) -> String {
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options = CheckOptions::new(vec![dir.to_path_buf()], PolicyChoice::Shipped, as_of);
    options.chunk_rows = chunk_rows;
    options.limits.max_findings_per_rule = max_findings;
    let outcome = check::run(&options);
    serde_json::to_string_pretty(&spotlint::report::to_json(&outcome.report, Lang::En))
        .expect("json")
}

/// Results of two departments interleaved, every record with findings, and (with
/// `bad_header`) first rows whose year cannot be read: their documents are not
/// checked, in any chunk, so their findings leave room for later ones.
fn many_findings(bad_header: bool) -> String {
    let mut csv = String::from(
        "department,year,task,object,entity_type,inspectors,finished_on,outcome,problem,entered_on,publication_channel,published_on\n",
    );
    for i in 0..60 {
        let department = ["武汉市江岸区市场监督管理局", "武汉市洪山区市场监督管理局"][i % 2];
        let task = format!("T-{}", i % 3);
        let year = if bad_header && i == 31 {
            "20x4"
        } else {
            "2024"
        };
        csv.push_str(&format!(
            "{department},{year},{task},9142010{i:04}MA4K0000,enterprise,P001,2024-05-06,未发现问题,否,2024-09-30,wechat,\n"
        ));
    }
    csv
}

/// The findings kept within a rule's limit are the first ones, and the count of those
/// not kept is exact, however the table is chunked: a chunk that earlier chunks have
/// filled the limit for only counts its findings.
#[test]
fn the_findings_kept_within_the_limit_are_the_same_in_chunks_of_any_size() {
    let mut sets: Vec<(String, PathBuf, Option<tempfile::TempDir>)> = [
        "demo",
        "checks/streaming/plain",
        "checks/streaming/bad-value",
    ]
    .iter()
    .map(|s| (s.to_string(), root().join("fixtures").join(s), None))
    .collect();
    for bad_header in [false, true] {
        let dir = folder(&[("results.csv", many_findings(bad_header).as_bytes())]);
        sets.push((
            format!("generated, bad header {bad_header}"),
            dir.path().to_path_buf(),
            Some(dir),
        ));
    }
    for (name, set, _dir) in &sets {
        for max_findings in [10000, 1, 2, 5, 40] {
            let whole = report_json_within(set, 1 << 20, max_findings);
            assert!(max_findings > 40 || whole.contains("not_kept"), "{name}");
            for chunk_rows in [1, 2, 7] {
                assert_eq!(
                    report_json_within(set, chunk_rows, max_findings),
                    whole,
                    "{name} differs in chunks of {chunk_rows} rows, {max_findings} findings kept per rule"
                );
            }
        }
    }
}

/// A policy extending the shipped one with `rule`, and its script if any.
fn extended(rule: &str) -> String {
    format!(
        "kind: Policy\nid: own\ntitle: {{zh: 自定义, en: Own}}\nsource: test\nnotice: test\n\
         extends: {}\nrules:\n{rule}",
        root().join("policies/wuhan-2024.yaml").display()
    )
}

/// "Results published within 20 working days of entry", as policy staff would write it:
/// declaratively, and as a script.
const PUBLISHED_DECLARATIVE: &str = "  - id: result-published-promptly
    title: {zh: 结果公示不及时, en: Result published late}
    clause: 三
    quote: 确保结果公示率 100%
    severity: error
    on: [Results]
    params: {working_days: 20}
    check:
      deadline: {start: entered_on, end: publication.published_on, working_days: $working_days}
    message:
      zh: 结果于 {entered_on} 录入，{published_on} 才公示，超过 {working_days} 个工作日
      en: entered on {entered_on} but published on {published_on}, beyond {working_days} working days
    help: {zh: 及时公示, en: publish promptly}
";

const PUBLISHED_SCRIPTED: &str = "  - id: result-published-promptly
    title: {zh: 结果公示不及时, en: Result published late}
    clause: 三
    quote: 确保结果公示率 100%
    severity: error
    on: [Results]
    each: record
    script: published.rhai
    params: {working_days: 20}
    message:
      zh: 结果于 {entered_on} 录入，{published_on} 才公示，超过 {working_days} 个工作日
      en: entered on {entered_on} but published on {published_on}, beyond {working_days} working days
    help: {zh: 及时公示, en: publish promptly}
";

const PUBLISHED_SCRIPT: &str = "fn check(r, ctx) {
    let p = r.publication;
    if r.entered_on == () || p == () || p.published_on == () { return; }
    if !within_working_days(r.entered_on, ctx.params.working_days, p.published_on) {
        ctx.report(r, \"publication.published_on\", #{ entered_on: r.entered_on, published_on: p.published_on });
    }
}
";

const RESULTS_CSV: &str = "department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n\
    江岸区市场监管局,2024,JA-1,O1,P1;P2,2024-04-30,2024-05-06,gsxt,2024-05-07\n\
    江岸区市场监管局,2024,JA-1,O2,P1;P2,2024-04-30,2024-05-06,gsxt,2024-06-20\n\
    江岸区市场监管局,2024,JA-2,O3,P1;P2,2024-04-30,2024-05-06,,\n\
    江岸区市场监管局,2024,JA-2,\"O4\",P1;P2,2024-04-30,2024-05-06,gsxt,2024-09-02\n";

fn own_findings(policy: &str, script: Option<&str>) -> (Vec<(i64, i64, String)>, String) {
    let mut files: Vec<(&str, &[u8])> = vec![
        ("policy/own.yaml", policy.as_bytes()),
        ("data/results.csv", RESULTS_CSV.as_bytes()),
    ];
    if let Some(script) = script {
        files.push(("policy/published.rhai", script.as_bytes()));
    }
    let dir = folder(&files);
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--policy",
            "policy/own.yaml",
            "--as-of",
            "2024-12-31",
            "--format",
            "json",
            "--lang",
            "en",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let found = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "result-published-promptly")
        .map(|d| {
            (
                d["line"].as_i64().unwrap_or(0),
                d["column"].as_i64().unwrap_or(0),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (found, out.stderr)
}

#[test]
fn a_rule_staff_write_is_checked_the_same_declared_or_scripted_and_streams_either_way() {
    let (declared, stderr) = own_findings(&extended(PUBLISHED_DECLARATIVE), None);
    let expected = vec![
        (
            3,
            56,
            "entered on 2024-05-06 but published on 2024-06-20, beyond 20 working days".to_owned(),
        ),
        (
            5,
            58,
            "entered on 2024-05-06 but published on 2024-09-02, beyond 20 working days".to_owned(),
        ),
    ];
    assert_eq!(declared, expected, "{stderr}");
    let (scripted, stderr) = own_findings(&extended(PUBLISHED_SCRIPTED), Some(PUBLISHED_SCRIPT));
    assert_eq!(scripted, expected, "{stderr}");
    assert!(!stderr.contains("read whole"), "{stderr}");
}

#[test]
fn a_record_a_script_reports_as_a_value_is_kept_as_its_description() {
    // `ctx.report` keeps values as text: a record passed as a value is shown, not kept.
    let script = "fn check(r, ctx) {\n    if r.object == \"O2\" { ctx.report(r, \"object\", #{ entered_on: r, published_on: [r] }); }\n}\n";
    let (found, stderr) = own_findings(&extended(PUBLISHED_SCRIPTED), Some(script));
    assert_eq!(found.len(), 1, "{stderr}");
    assert!(found[0].2.contains("<node at"), "{found:?}");
}

/// Results in YAML and as CSV of the same records.
fn calendar_cases(records: &[(&str, &str)]) -> (String, String) {
    let mut yaml = String::from(
        "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2026\ntask: JA-1\nrecords:\n",
    );
    let mut csv = String::from("department,year,task,object,inspectors,finished_on,entered_on\n");
    for (i, (finished, entered)) in records.iter().enumerate() {
        yaml.push_str(&format!(
            "  - {{object: O{i}, inspectors: [P1, P2], finished_on: {finished}, entered_on: {entered}}}\n"
        ));
        csv.push_str(&format!(
            "江岸区市场监管局,2026,JA-1,O{i},P1;P2,{finished},{entered}\n"
        ));
    }
    (yaml, csv)
}

fn entry_findings(file: &str, text: &str) -> (Vec<(String, usize)>, serde_json::Value, i32) {
    let dir = folder(&[(file, text.as_bytes())]);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let mut options =
        CheckOptions::new(vec![dir.path().to_path_buf()], PolicyChoice::Shipped, as_of);
    options.chunk_rows = 2;
    let report = check::run(&options).report;
    let found = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.starts_with("calendar") || d.rule == "result-entry-deadline")
        .map(|d| (d.rule.to_string(), d.line))
        .collect();
    let figure = report
        .figures
        .iter()
        .find(|f| f.id == "results-on-time")
        .map(|f| serde_json::json!([f.numerator, f.denominator]))
        .unwrap_or_default();
    (found, figure, report.exit_code(Severity::Error))
}

#[test]
fn a_date_the_calendar_lacks_costs_only_its_own_record_in_yaml_and_csv() {
    // Eleven records the 2024–2026 calendar settles (ten on time, one late) and one it
    // cannot: finished 2026-12-18, entered 2027-01-25, twenty working days later or not
    // depending on 2027's holidays.
    let mut records = vec![("2026-05-06", "2026-05-20"); 10];
    records.push(("2026-04-30", "2026-06-30"));
    records.push(("2026-12-18", "2027-01-25"));
    let (yaml, csv) = calendar_cases(&records);
    let (found, figure, code) = entry_findings("results.yaml", &yaml);
    assert_eq!(
        found,
        [
            ("result-entry-deadline".to_owned(), 16),
            ("calendar/missing-year".to_owned(), 17)
        ]
    );
    assert_eq!(figure, serde_json::json!([10, 11]));
    assert_eq!(code, 2);
    let (found, figure, code) = entry_findings("results.csv", &csv);
    assert_eq!(
        found,
        [
            ("result-entry-deadline".to_owned(), 12),
            ("calendar/missing-year".to_owned(), 13)
        ]
    );
    assert_eq!(figure, serde_json::json!([10, 11]));
    assert_eq!(code, 2);
}

#[test]
fn a_deadline_the_known_days_settle_needs_no_more_of_the_calendar() {
    // Finished 2026-12-11, entered 2026-12-17: four working days, whatever 2027 holds.
    // Finished 2026-10-09, entered 2027-02-01: late on 2026's days alone.
    let (yaml, csv) = calendar_cases(&[("2026-12-11", "2026-12-17"), ("2026-10-09", "2027-02-01")]);
    for (file, text, late_line) in [("results.yaml", &yaml, 7), ("results.csv", &csv, 3)] {
        let (found, figure, code) = entry_findings(file, text);
        assert_eq!(
            found,
            [("result-entry-deadline".to_owned(), late_line)],
            "{file}"
        );
        assert_eq!(figure, serde_json::json!([1, 2]), "{file}");
        assert_eq!(code, 1, "{file}");
    }
}

/// "Each task inspects at least `min` distinct objects": a submission rule that gathers
/// from every result record as it streams past, then judges the plan's tasks.
const DISTINCT_OBJECTS: &str = "  - id: task-distinct-objects
    title: {zh: 任务检查对象过少, en: Too few objects for a task}
    clause: 一
    quote: 抽查比例
    severity: warning
    on: [Plan, Results]
    each: submission
    script: distinct.rhai
    params: {min: 2}
    message:
      zh: 任务 {task} 检查了 {count} 个对象，少于 {min} 个
      en: task {task} inspected {count} objects, fewer than {min}
    help: {zh: 扩大抽查, en: inspect more objects}
";

const DISTINCT_SCRIPT: &str = "fn gather(r, ctx) {
    if ctx.doc.kind != \"Results\" { return; }
    ctx.collect(\"objects\", ctx.doc.task, r.object);
    ctx.count(\"records\", ctx.doc.task, 1);
}
fn check(submission, ctx) {
    if submission.plan == () { return; }
    let objects = ctx.distinct(\"objects\");
    let records = ctx.counts(\"records\");
    for task in submission.plan.tasks {
        let n = if task.id in objects { objects[task.id].len() } else { 0 };
        if n < ctx.params.min {
            let rows = if task.id in records { records[task.id] } else { 0 };
            ctx.report(task, \"id\", #{ task: task.id, count: `${n}/${rows}` });
        }
    }
}
";

#[test]
fn a_submission_script_gathers_from_streamed_records_in_chunks_of_any_size() {
    let plain = root().join("fixtures/checks/streaming/plain");
    // A parameter other than its default: at least four objects.
    let policy = extended(DISTINCT_OBJECTS).replace("{min: 2}", "{min: 4}");
    let dir = folder(&[
        ("policy/own.yaml", policy.as_bytes()),
        ("policy/distinct.rhai", DISTINCT_SCRIPT.as_bytes()),
    ]);
    let mut per_chunking = Vec::new();
    for chunk_rows in [1, 2, 1 << 20] {
        let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
        let mut options = CheckOptions::new(
            vec![plain.clone()],
            PolicyChoice::File(dir.path().join("policy/own.yaml")),
            as_of,
        );
        options.chunk_rows = chunk_rows;
        let report = check::run(&options).report;
        let found: Vec<(String, usize, usize, String)> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "task-distinct-objects" || d.rule.starts_with("policy"))
            .map(|d| {
                (
                    d.file.to_string(),
                    d.line,
                    d.column,
                    d.message.get(Lang::En).to_owned(),
                )
            })
            .collect();
        per_chunking.push(found);
    }
    let expected = vec![(
        plain.join("plan.yaml").display().to_string(),
        10,
        9,
        "task JA-2024-002 inspected 3/5 objects, fewer than 4".to_owned(),
    )];
    for found in &per_chunking {
        assert_eq!(found, &expected);
    }
}

/// The JSON report of `dir` read in chunks of `chunk_rows` records, the human report of
/// the results table's findings (snippets included), and where those are.
fn reports(dir: &Path, chunk_rows: usize) -> (String, String, Vec<(String, usize, usize)>) {
    reports_read(dir, chunk_rows, None)
}

/// [`reports`] with CSV files from `map_from` bytes on mapped rather than read.
fn reports_read(
    dir: &Path,
    chunk_rows: usize,
    map_from: Option<u64>,
) -> (String, String, Vec<(String, usize, usize)>) {
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options = CheckOptions::new(vec![dir.to_path_buf()], PolicyChoice::Shipped, as_of);
    options.chunk_rows = chunk_rows;
    options.map_from = map_from;
    let report = check::run(&options).report;
    let json =
        serde_json::to_string_pretty(&spotlint::report::to_json(&report, Lang::En)).expect("json");
    let style = spotlint::report::Style {
        color: false,
        width: 100,
    };
    // Every finding, those on the libraries and the plan too: a snippet must come from
    // its own file whatever was read in chunks before it.
    let human = report
        .diagnostics
        .iter()
        .map(|d| spotlint::report::human::render_diagnostic(d, Lang::En, style))
        .collect::<Vec<_>>()
        .join("\n");
    let places = report
        .diagnostics
        .iter()
        .filter(|d| d.file.ends_with("results.csv"))
        .map(|d| (d.rule.to_string(), d.line, d.column))
        .collect();
    (json, human, places)
}

/// `text` with two more columns: one the vocabulary does not know, one without a header,
/// a cell of each holding a comma in quotes.
fn with_extra_columns(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push_str(match i {
            0 => ",内部备注,",
            1 => ",\"甲, 乙\",x",
            _ => ",,",
        });
        out.push('\n');
    }
    out
}

/// `text` with every non-empty cell in quotes, and the outcome of its first record over
/// two lines with a comma and a quote in it.
/// `text` with a blank line after its third line.
fn with_blank_lines(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i == 2 {
            out.push('\n');
        }
    }
    out
}

fn all_quoted(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<String> = line
            .split(',')
            .enumerate()
            .map(|(c, cell)| match (i, c) {
                (1, 7) => format!("\"{cell}\n另行复查, 已告知\"\"整改\"\"\""),
                _ if cell.is_empty() => String::new(),
                _ => format!("\"{cell}\""),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[test]
fn every_export_shape_gives_the_findings_of_the_table_read_whole() {
    let plain = root().join("fixtures/checks/streaming/plain");
    let text = std::fs::read_to_string(plain.join("results.csv")).expect("results.csv");
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("LF", text.clone().into_bytes()),
        ("CRLF", text.replace('\n', "\r\n").into_bytes()),
        ("quoted", all_quoted(&text).into_bytes()),
        ("BOM", [b"\xEF\xBB\xBF", text.as_bytes()].concat()),
        ("GBK", encoding_rs::GBK.encode(&text).0.into_owned()),
        (
            "quoted CRLF with a BOM",
            [
                &b"\xEF\xBB\xBF"[..],
                all_quoted(&text).replace('\n', "\r\n").as_bytes(),
            ]
            .concat(),
        ),
        ("extra columns", with_extra_columns(&text).into_bytes()),
        ("blank lines", with_blank_lines(&text).into_bytes()),
        (
            "extra columns, CRLF",
            with_extra_columns(&text).replace('\n', "\r\n").into_bytes(),
        ),
    ];
    let mut lf_findings = None;
    for (shape, results) in shapes {
        let mut files: Vec<(&str, Vec<u8>)> = ["plan.yaml", "objects.yaml", "personnel.yaml"]
            .iter()
            .map(|f| (*f, std::fs::read(plain.join(f)).expect("fixture")))
            .collect();
        files.push(("results.csv", results));
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, &b[..])).collect();
        let dir = folder(&borrowed);
        let whole = reports(dir.path(), 1 << 20);
        // In chunks, and mapped rather than read: the same reports, snippets included.
        let runs = [
            (1, None),
            (2, None),
            (1, Some(0)),
            (3, Some(0)),
            (1 << 20, Some(0)),
        ];
        for (chunk_rows, map_from) in runs {
            let read = reports_read(dir.path(), chunk_rows, map_from);
            let how = if map_from.is_some() { "mapped, " } else { "" };
            assert_eq!(read.0, whole.0, "{shape}: JSON {how}chunks of {chunk_rows}");
            assert_eq!(
                read.1, whole.1,
                "{shape}: human {how}chunks of {chunk_rows}"
            );
        }
        assert!(whole.1.contains("results.csv:"), "{shape}: {}", whole.1);
        let found = whole.2;
        let lf: &Vec<(String, usize, usize)> = lf_findings.get_or_insert(found.clone());
        assert!(lf.len() >= 10, "{lf:?}");
        match shape {
            // Quotes move columns, and the line break moves later lines down one.
            "quoted" => {
                let rules = |f: &[(String, usize, usize)]| {
                    let mut r: Vec<String> = f.iter().map(|x| x.0.clone()).collect();
                    r.sort();
                    r
                };
                assert_eq!(rules(&found), rules(lf), "{shape}");
                assert!(
                    found.iter().all(|(_, line, _)| *line != 3),
                    "{shape}: line 3 is inside a cell: {found:?}"
                );
            }
            // Rows after a blank line are a line further down.
            "blank lines" => {
                let shifted: Vec<(String, usize, usize)> = lf
                    .iter()
                    .map(|(rule, line, col)| (rule.clone(), line + usize::from(*line > 3), *col))
                    .collect();
                let mut found = found.clone();
                found.sort();
                let mut shifted = shifted;
                shifted.sort();
                assert_eq!(found, shifted, "{shape}");
            }
            "quoted CRLF with a BOM" | "extra columns" | "extra columns, CRLF" => {}
            _ => assert_eq!(&found, lf, "{shape}"),
        }
    }
}

/// The clean example with its results as one CSV table, one cell of which is not an
/// allowed value: the row's value is reported once, every row (that one too) still
/// counts.
#[test]
fn a_bad_value_in_a_streamed_table_costs_its_cell_not_its_document() {
    let clean = root().join("fixtures/clean");
    let mut files: Vec<(String, Vec<u8>)> =
        ["plan.yaml", "items.yaml", "objects.yaml", "personnel.yaml"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read(clean.join(f)).expect("clean fixture"),
                )
            })
            .collect();
    let table = root().join("fixtures/checks/streaming/bad-value/results.csv");
    files.push((
        "results.csv".into(),
        std::fs::read(table).expect("results table"),
    ));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let dir = folder(&files);
    for chunk_rows in [1, 2, 1 << 20] {
        let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
        let mut options =
            CheckOptions::new(vec![dir.path().to_path_buf()], PolicyChoice::Shipped, as_of);
        options.chunk_rows = chunk_rows;
        let report = check::run(&options).report;
        let found: Vec<(String, String, usize, usize)> = report
            .diagnostics
            .iter()
            .map(|d| {
                let file = Path::new(&d.file)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned());
                (
                    d.rule.to_string(),
                    file.unwrap_or_default(),
                    d.line,
                    d.column,
                )
            })
            .collect();
        // No task is said to have no results, and the result published on a channel
        // not in the list is not said to be unpublished as well: its channel is
        // unknown, not missing, and the input error says why.
        assert_eq!(
            found,
            [(
                "input/bad-value".to_owned(),
                "results.csv".to_owned(),
                3,
                109
            )],
            "chunks of {chunk_rows}"
        );
        let rate = report
            .figures
            .iter()
            .find(|f| f.id == "result-publication-rate");
        assert_eq!(rate.map(|f| (f.numerator, f.denominator)), Some((13, 13)));
    }
}

/// A Results table mapped rather than read is never resident whole: its peak memory
/// does not grow with its records (16 MiB and 64 MiB of them), and stays well under
/// that of the same table read into memory.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_table_is_checked_in_memory_that_does_not_grow_with_it() {
    let plain = root().join("fixtures/checks/streaming/plain");
    let text = std::fs::read_to_string(plain.join("results.csv")).expect("results.csv");
    // Its first record, which is valid, over and over: rows read in place.
    let mut lines = text.lines();
    let (header, row) = (
        lines.next().expect("a header"),
        lines.next().expect("a row"),
    );
    let table = |mib: usize| {
        let mut table = String::with_capacity((mib + 1) << 20);
        table.push_str(header);
        table.push('\n');
        while table.len() < mib << 20 {
            table.push_str(row);
            table.push('\n');
        }
        table.into_bytes()
    };
    let peak_kib = |mib: usize, map_from: &str, gbk: bool| {
        let mut files: Vec<(&str, Vec<u8>)> = ["plan.yaml", "objects.yaml", "personnel.yaml"]
            .iter()
            .map(|f| (*f, std::fs::read(plain.join(f)).expect("fixture")))
            .collect();
        let results = table(mib);
        let results = match gbk {
            true => encoding_rs::GBK
                .encode(std::str::from_utf8(&results).expect("UTF-8"))
                .0
                .into_owned(),
            false => results,
        };
        files.push(("results.csv", results));
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, &b[..])).collect();
        let dir = folder(&borrowed);
        let out = crate::util::spotlint_env(
            dir.path(),
            &[
                "check",
                ".",
                "--format",
                "json",
                "--as-of",
                "2024-12-31",
                "--parse-only",
                "--stats",
            ],
            // Freed memory goes back at once (mimalloc keeps it a while by default):
            // the peak is then what the run holds, not what the allocator kept of
            // chunks already read, which varied with timing by the bound below.
            &[
                ("SPOTLINT_MAP_FROM", map_from),
                ("MIMALLOC_PURGE_DELAY", "0"),
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let stats: serde_json::Value = out
            .stderr
            .lines()
            .find_map(|l| serde_json::from_str(l).ok())
            .expect("a --stats line");
        stats["peak_rss_kib"].as_u64().expect("peak memory")
    };
    // A GBK table is decoded into a file of its own, which is mapped as a UTF-8 one;
    // read whole, it holds its bytes and its text.
    for (shape, gbk, saved_mib) in [("UTF-8", false, 40), ("GBK", true, 80)] {
        let small = peak_kib(16, "0", gbk);
        let large = peak_kib(64, "0", gbk);
        let read = peak_kib(64, "1000000000000", gbk);
        // 48 MiB more records; 4 bytes a record (where it ends) is about 1 MiB of it.
        assert!(
            large < small + 8 * 1024,
            "{shape} mapped: {small} KiB for 16 MiB, {large} KiB for 64 MiB"
        );
        assert!(
            large + saved_mib * 1024 < read,
            "{shape}, 64 MiB: mapped {large} KiB, read {read} KiB"
        );
    }
}

/// A large table that is neither UTF-8 nor wholly GBK is read whole after all, and
/// reported as one that is not mapped is: lines of both encodings, a malformed sequence.
#[test]
fn a_large_table_of_mixed_or_broken_encoding_is_reported_as_when_read_whole() {
    let plain = root().join("fixtures/checks/streaming/plain");
    let text = std::fs::read_to_string(plain.join("results.csv")).expect("results.csv");
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    let mut mixed = gbk.clone();
    mixed.extend_from_slice("甲局,2024,T1,O1,P1,未发现问题\n".as_bytes());
    let mut broken = gbk.clone();
    broken.extend_from_slice(b"\x81\x20,2024\n");
    for (shape, results) in [("mixed", mixed), ("broken", broken)] {
        let dir = folder(&[("results.csv", &results[..])]);
        let run = |map_from: &str| {
            let out = crate::util::spotlint_env(
                dir.path(),
                &["check", ".", "--format", "json", "--as-of", "2024-12-31"],
                &[("SPOTLINT_MAP_FROM", map_from)],
            );
            (out.code, out.stdout)
        };
        let (mapped, whole) = (run("0"), run("1000000000000"));
        assert_eq!(mapped, whole, "{shape}");
        assert_eq!(mapped.0, 2, "{shape}: {}", mapped.1);
        assert!(mapped.1.contains("input/encoding"), "{shape}: {}", mapped.1);
    }
}
