//! Careless and hostile input: nothing checked is never a pass, limits are refused
//! up front, and figures never read as meeting a threshold they miss.

use std::io::Write;
use std::path::Path;

use crate::util::{check_json, folder, positions, root, spotlint_fed, spotlint_in};

#[test]
fn a_folder_with_nothing_to_check_exits_2_and_says_why() {
    let dir = folder(&[
        (".hidden/plan.yaml", b"kind: Plan\n"),
        ("notes.txt", b"hello"),
    ]);
    let out = spotlint_in(
        dir.path(),
        &["check", ".", "--format", "json", "--lang", "en"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(rules, ["input/nothing-checked"]);
}

#[test]
fn policy_tests_that_find_no_test_exit_2() {
    let dir = folder(&[("readme.md", b"no tests here")]);
    let out = spotlint_in(dir.path(), &["test", "."]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("test/none"), "{out:?}");
    assert!(out.stdout.contains("0 passed, 0 failed"), "{out:?}");
}

#[test]
fn an_operation_limit_of_zero_is_refused_not_unlimited() {
    let dir = folder(&[]);
    for command in ["check", "report"] {
        let out = spotlint_in(dir.path(), &[command, ".", "--max-operations", "0"]);
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(
            out.stderr.contains("--max-operations"),
            "{command}: {out:?}"
        );
    }
}

#[test]
fn a_rate_just_short_of_100_percent_never_reads_as_100_percent() {
    // 9,999 of 10,000 results published: 99.99%, short of the 100% the notice
    // requires, which one decimal would round to 100.0%.
    let mut csv = String::from(
        "department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n",
    );
    for i in 0..10_000 {
        let published = if i == 0 { "" } else { "2024-05-08" };
        let channel = if i == 0 { "" } else { "gsxt" };
        csv.push_str(&format!(
            "江岸区市场监管局,2024,JA-1,O{i},P1;P2,2024-05-06,2024-05-07,{channel},{published}\n"
        ));
    }
    let dir = folder(&[("results.csv", csv.as_bytes())]);
    let out = spotlint_in(
        dir.path(),
        &["check", ".", "--lang", "en", "--as-of", "2024-12-31"],
    );
    assert!(
        out.stdout
            .contains("✗ result publication rate: 99.9% (9999/10000), required 100%"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("result publication rate 99.9% (9999/10000), below 100.0%"),
        "{out:?}"
    );
}

#[test]
fn english_summaries_count_in_the_singular_and_plural() {
    let dir = folder(&[]);
    let out = spotlint_in(dir.path(), &["check", ".", "--lang", "en"]);
    assert!(
        out.stdout.contains("Checked 0 files, 0 documents: 1 error, 0 warnings (1 of them an input or policy problem)."),
        "{out:?}"
    );
    let demo = crate::util::spotlint(&[
        "check",
        "fixtures/demo",
        "--lang",
        "en",
        "--as-of",
        "2024-12-31",
    ]);
    for line in [
        format!("  {:<32} 1 error\n", "objects-uscc"),
        format!("  {:<32} 1 warning\n", "plan-executed"),
        format!("  {:<32} 2 errors\n", "result-within-plan"),
    ] {
        assert!(demo.stdout.contains(&line), "{line}: {demo:?}");
    }
    let zh = crate::util::spotlint(&["check", "fixtures/demo", "--as-of", "2024-12-31"]);
    let line = format!("  {:<32} 2 个错误\n", "result-within-plan");
    assert!(zh.stdout.contains(&line), "{zh:?}");
}

#[test]
fn values_from_the_submission_reach_no_terminal_log_or_xml_parser_as_written() {
    // An object id with an ESC colour sequence, an OSC 8 link, a carriage return, a
    // bidi override and Word's line break (U+000B), in a value that messages quote.
    let results = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - object: \"O\\e[31mRED\\e]8;;http://x\\aLINK\\e]8;;\\a\\r\\u202Ecba\\v\"\n    inspectors: [P1]\n    finished_on: 2024-05-06\n    entered_on: 2024-05-07\n";
    let library = "kind: ObjectLibrary\ndepartment: 江岸区市场监管局\nupdated_on: 2024-02-20\nobjects:\n  - {id: O1, name: 某某食堂, entity_type: other}\n";
    let dir = folder(&[
        ("results.yaml", results.as_bytes()),
        ("objects.yaml", library.as_bytes()),
    ]);
    let active = |s: &str| {
        s.chars().any(|c| {
            (c < ' ' && c != '\n' && c != '\t')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || ('\u{202a}'..='\u{202e}').contains(&c)
        })
    };
    for format in ["human", "github", "junit", "sarif", "json"] {
        let out = spotlint_in(
            dir.path(),
            &[
                "check",
                ".",
                "--format",
                format,
                "--as-of",
                "2024-12-31",
                "--lang",
                "en",
            ],
        );
        assert_eq!(out.code, 1, "{format}: {out:?}");
        assert!(
            out.stdout.contains("RED"),
            "{format}: the value is shown: {out:?}"
        );
        match format {
            "human" | "github" => assert!(!active(&out.stdout), "{format}: {:?}", out.stdout),
            "junit" => {
                assert!(
                    !out.stdout.contains('\u{b}') && !out.stdout.contains('\u{1b}'),
                    "{:?}",
                    out.stdout
                );
                let mut reader = quick_xml::Reader::from_str(&out.stdout);
                loop {
                    match reader.read_event() {
                        Ok(quick_xml::events::Event::Eof) => break,
                        Ok(_) => {}
                        Err(e) => panic!("JUnit XML does not parse: {e}"),
                    }
                }
            }
            _ => {
                let _: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
            }
        }
    }
}

#[test]
fn sarif_uris_are_percent_encoded() {
    let results = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {object: O1, inspectors: [P1], finished_on: 2024-05-06, entered_on: 2024-05-07}\n";
    let dir = folder(&[("结果 #1 100%.yaml", results.as_bytes())]);
    let out = spotlint_in(
        dir.path(),
        &["check", ".", "--format", "sarif", "--as-of", "2024-12-31"],
    );
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).expect("SARIF is JSON");
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"];
    assert_eq!(uri, "%E7%BB%93%E6%9E%9C%20%231%20100%25.yaml", "{sarif}");
}

const RESULTS_YAML: &str = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {object: O1, inspectors: [P1], finished_on: 2024-05-06, entered_on: 2024-05-07}\n";
const RESULTS_CSV: &str = "department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n江岸区市场监管局,2024,JA-1,O1,P1;P2,2024-05-06,2024-05-07,gsxt,2024-05-08\n";

/// (rule, line, column) of every diagnostic, and the files they name.
fn findings(json: &serde_json::Value) -> (Vec<(String, u64, u64)>, Vec<String>) {
    let all = positions(json);
    (
        all.iter().map(|(r, _, l, c)| (r.clone(), *l, *c)).collect(),
        all.into_iter().map(|(_, f, _, _)| f).collect(),
    )
}

fn json_of(out: &crate::util::Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {out:?}"))
}

const JSON_ARGS: [&str; 5] = ["--format", "json", "--as-of", "2024-12-31", "--lang"];

#[test]
fn standard_input_is_read_as_the_same_file_would_be() {
    let workbook = std::fs::read(root().join("fixtures/tables/results.xlsx")).expect("fixture");
    for (name, content) in [
        ("results.yaml", RESULTS_YAML.as_bytes()),
        ("results.csv", RESULTS_CSV.as_bytes()),
        ("results.xlsx", &workbook[..]),
    ] {
        let dir = folder(&[(name, content)]);
        let as_file = spotlint_in(
            dir.path(),
            &[&["check", name][..], &JSON_ARGS, &["en"]].concat(),
        );
        let mut feed = tempfile::tempfile().expect("temp file");
        feed.write_all(content).expect("write");
        use std::io::Seek;
        feed.rewind().expect("rewind");
        let as_stream = spotlint_fed(
            dir.path(),
            &[&["check", "/dev/stdin"][..], &JSON_ARGS, &["en"]].concat(),
            feed.into(),
        );
        let (file_json, stream_json) = (json_of(&as_file), json_of(&as_stream));
        assert_eq!(
            stream_json["summary"]["documents"], 1,
            "{name}: {as_stream:?}"
        );
        assert_eq!(as_stream.code, as_file.code, "{name}: {as_stream:?}");
        let (expected, _) = findings(&file_json);
        let (got, files) = findings(&stream_json);
        assert!(!expected.is_empty(), "{as_file:?}");
        assert_eq!(got, expected, "{name}");
        let sheet = if name.ends_with(".xlsx") {
            "!Sheet1"
        } else {
            ""
        };
        assert!(
            files.iter().all(|f| *f == format!("/dev/stdin{sheet}")),
            "{files:?}"
        );
    }
}

#[test]
fn a_fifo_is_read_and_its_format_told_by_content() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = folder(&[("results.csv", RESULTS_CSV.as_bytes())]);
    let fifo = dir.path().join("export");
    let name = std::ffi::CString::new(fifo.to_str().expect("utf-8").as_bytes()).expect("path");
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .expect("open the fifo");
            let _ = pipe.write_all(RESULTS_CSV.as_bytes());
        })
    };
    fn args(file: &str) -> Vec<&str> {
        [&["check", file][..], &JSON_ARGS, &["en"]].concat()
    }
    let as_stream = spotlint_in(dir.path(), &args("export"));
    // Should the pipe never have been opened, open it so the writer ends.
    let _unblock = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
    writer.join().expect("writer");
    let as_file = spotlint_in(dir.path(), &args("results.csv"));
    assert_eq!(as_stream.code, as_file.code, "{as_stream:?}");
    assert_eq!(
        findings(&json_of(&as_stream)).0,
        findings(&json_of(&as_file)).0
    );
    assert_eq!(json_of(&as_stream)["summary"]["documents"], 1);
}

/// A pipe among a folder's files is not opened (with no writer it would wait forever)
/// and not passed over in silence: it is named, and the run exits 2.
#[test]
fn a_fifo_found_in_a_folder_is_reported_not_read() {
    let dir = folder(&[("results.csv", RESULTS_CSV.as_bytes())]);
    let fifo = dir.path().join("more-results.csv");
    let name = std::ffi::CString::new(fifo.to_str().expect("utf-8").as_bytes()).expect("path");
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    let out = spotlint_in(
        dir.path(),
        &[&["check", "."][..], &JSON_ARGS, &["en"]].concat(),
    );
    assert_eq!(out.code, 2, "{out:?}");
    let report = json_of(&out);
    let unsupported: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "input/unsupported-file")
        .map(|d| (d["file"].clone(), d["line"].clone(), d["message"].clone()))
        .collect();
    assert_eq!(
        unsupported,
        [(
            serde_json::json!("./more-results.csv"),
            serde_json::json!(1),
            serde_json::json!("not a regular file (a pipe, socket or device); not read from a folder: name it on the command line to read it")
        )],
        "{out:?}"
    );
    assert_eq!(report["summary"]["documents"], 1, "{out:?}");
}

#[test]
fn a_stream_longer_than_the_table_limit_is_refused() {
    let dir = folder(&[]);
    let out = spotlint_in(
        dir.path(),
        &[&["check", "/dev/zero"][..], &JSON_ARGS, &["en"]].concat(),
    );
    assert_eq!(out.code, 2, "{out:?}");
    let json = json_of(&out);
    assert_eq!(
        positions(&json),
        [("input/too-large".to_owned(), "/dev/zero".to_owned(), 1, 1)]
    );
    assert!(out.stdout.contains("larger than 512 MiB"), "{out:?}");
}

#[test]
fn links_to_files_and_folders_are_followed_and_a_loop_is_reported() {
    let elsewhere = folder(&[
        ("data/results.yaml", RESULTS_YAML.as_bytes()),
        ("one.yaml", RESULTS_YAML.as_bytes()),
    ]);
    let dir = folder(&[]);
    std::os::unix::fs::symlink(
        elsewhere.path().join("one.yaml"),
        dir.path().join("linked.yaml"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(elsewhere.path().join("data"), dir.path().join("more"))
        .expect("symlink");
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(json["summary"]["files"], 2, "{json}");
    assert_eq!(json["summary"]["documents"], 2, "{json}");

    std::os::unix::fs::symlink("..", elsewhere.path().join("data/back")).expect("symlink");
    let (code, json) = check_json(elsewhere.path(), &[]);
    assert_eq!(code, 2, "{json}");
    let loops: Vec<_> = positions(&json)
        .into_iter()
        .filter(|p| p.0 == "input/link-loop")
        .collect();
    assert_eq!(
        loops,
        [("input/link-loop".to_owned(), "./data/back".to_owned(), 1, 1)]
    );
    assert_eq!(json["summary"]["documents"], 2, "{json}");
}

#[test]
fn reports_written_into_the_checked_folder_are_skipped_with_a_note() {
    let dir = folder(&[]);
    for entry in std::fs::read_dir(root().join("fixtures/demo")).expect("demo") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    std::fs::copy(
        root().join("fixtures/tables/results.xlsx"),
        dir.path().join("results.xlsx"),
    )
    .expect("copy");
    let (first_code, first) = check_json(dir.path(), &[]);
    assert_eq!(first_code, 1, "{first}");
    for (format, output) in [
        ("json", "report.json"),
        ("sarif", "report.sarif.json"),
        ("xlsx", "findings.xlsx"),
    ] {
        let out = spotlint_in(
            dir.path(),
            &[
                "check",
                ".",
                "--as-of",
                "2024-12-31",
                "--format",
                format,
                "--output",
                output,
            ],
        );
        assert_eq!(out.code, 1, "{format}: {out:?}");
    }
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            ".",
            "--as-of",
            "2024-12-31",
            "--annotate",
            "annotated",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        dir.path().join("annotated/results.xlsx").exists(),
        "{out:?}"
    );

    let again = spotlint_in(
        dir.path(),
        &["check", ".", "--as-of", "2024-12-31", "--format", "json"],
    );
    assert_eq!(again.code, first_code, "{again:?}");
    let again_json = json_of(&again);
    assert_eq!(positions(&again_json), positions(&first));
    assert_eq!(again_json["summary"]["files"], first["summary"]["files"]);
    for (file, what) in [
        ("./report.json", "JSON report"),
        ("./report.sarif.json", "SARIF report"),
        ("./findings.xlsx", "workbook"),
        ("./annotated/results.xlsx", "workbook"),
    ] {
        let note = format!("note: {file}: spotlint's own {what}, not a submission; skipped");
        assert!(again.stderr.contains(&note), "{note}\n{again:?}");
    }
}

// --- Workbooks: limits checked on the zip before the workbook reader allocates.

/// A one-sheet workbook with `sheet_data` inside `<sheetData>` (and `before` ahead of
/// it), and a shared-string table if given.
fn workbook(before: &str, sheet_data: &[&[u8]], shared: Option<&[&[u8]]>) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut book = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut part = |name: &str, pieces: &[&[u8]]| {
        book.start_file(name, options).expect("zip part");
        for piece in pieces {
            book.write_all(piece).expect("zip write");
        }
    };
    part("[Content_Types].xml", &[br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#]);
    part("_rels/.rels", &[br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#]);
    part("xl/workbook.xml", &[br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#]);
    part("xl/_rels/workbook.xml.rels", &[br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#]);
    if let Some(strings) = shared {
        let mut pieces: Vec<&[u8]> = vec![br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#];
        pieces.extend_from_slice(strings);
        pieces.push(b"</sst>");
        part("xl/sharedStrings.xml", &pieces);
    }
    let head = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{before}<sheetData>"#
    );
    let mut pieces: Vec<&[u8]> = vec![head.as_bytes()];
    pieces.extend_from_slice(sheet_data);
    pieces.push(b"</sheetData></worksheet>");
    part("xl/worksheets/sheet1.xml", &pieces);
    book.finish().expect("zip").into_inner()
}

/// (rule, file, line, column) of a diagnostic.
type Position = (String, String, u64, u64);

/// Checks `bomb.xlsx` in at most 10 × S + 256 MiB of memory (the bound every input
/// of S bytes is held to) and returns the exit code, the diagnostics' positions and
/// the English output.
fn check_workbook(bytes: &[u8]) -> (i32, Vec<Position>, String) {
    let dir = folder(&[("bomb.xlsx", bytes)]);
    let bound = 10 * bytes.len() as u64 + 256 * 1024 * 1024;
    let out = crate::util::spotlint_bounded(
        dir.path(),
        &[&["check", "."][..], &JSON_ARGS, &["en"]].concat(),
        bound,
    );
    let json = json_of(&out);
    (out.code, positions(&json), out.stdout)
}

fn refused_at(place: &str) -> Vec<Position> {
    vec![("input/too-large".to_owned(), place.to_owned(), 1, 1)]
}

#[test]
fn a_cell_far_beyond_the_last_row_is_refused_before_reading() {
    let bytes = workbook(
        "",
        &[br#"<row r="400000000"><c r="A400000000" t="inlineStr"><is><t>x</t></is></c></row>"#],
        None,
    );
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("row 400000000 lies beyond the 1048576 rows and 16384 columns"),
        "{stdout}"
    );
}

#[test]
fn a_column_beyond_xfd_is_refused_before_reading() {
    let bytes = workbook(
        "",
        &[br#"<row r="1"><c r="AAAAAAAA1" t="inlineStr"><is><t>x</t></is></c></row>"#],
        None,
    );
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(stdout.contains("cell AAAAAAAA1 lies beyond"), "{stdout}");
}

#[test]
fn an_absurd_declared_dimension_is_refused() {
    let bytes = workbook(
        r#"<dimension ref="A1:XFE1"/>"#,
        &[br#"<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>"#],
        None,
    );
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("declares its size up to cell XFE1"),
        "{stdout}"
    );
}

/// References the workbook reader's arithmetic would wrap on (found by fuzzing): a
/// cell reference with no row number, a row 0, and a merged range that ends before it
/// starts. Each is refused at its sheet, never read as some other cell.
#[test]
fn references_the_reader_would_wrap_on_are_refused() {
    let unreadable = vec![(
        "input/unreadable".to_owned(),
        "./bomb.xlsx!Sheet1".to_owned(),
        1,
        1,
    )];
    let cell =
        |r: &str| format!(r#"<row r="1"><c r="{r}" t="inlineStr"><is><t>x</t></is></c></row>"#);
    for (before, data, said) in [
        (
            "",
            cell("CinlineStr"),
            "the cell reference `CinlineStr` is not a valid reference",
        ),
        (
            "",
            cell("A0"),
            "the cell reference `A0` is not a valid reference",
        ),
        (
            "",
            r#"<row r="0"><c t="inlineStr"><is><t>x</t></is></c></row>"#.to_owned(),
            "the row reference `0` is not a valid reference",
        ),
        (
            r#"<dimension ref="B2:A1"/>"#,
            cell("A1"),
            "the size (dimension) `B2:A1` is not a valid range",
        ),
        (
            "",
            cell("A1")
                + r#"</sheetData><mergeCells count="1"><mergeCell ref="n3:L4"/></mergeCells><sheetData>"#,
            "the merged range `n3:L4` is not a valid range",
        ),
    ] {
        let bytes = workbook(before, &[data.as_bytes()], None);
        let (code, at, stdout) = check_workbook(&bytes);
        assert_eq!((code, &at), (2, &unreadable), "{data}\n{stdout}");
        assert!(stdout.contains(said), "{said}\n{stdout}");
    }
}

#[test]
fn the_last_cell_a_sheet_may_have_is_read() {
    let bytes = workbook(
        r#"<dimension ref="A1:XFD1048576"/>"#,
        &[br#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#],
        None,
    );
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(code, 2, "{stdout}");
    assert!(at.iter().all(|p| p.0 != "input/too-large"), "{stdout}");
}

#[test]
fn a_shared_string_bomb_is_refused_by_count() {
    let strings = vec![&b"<si><t/></si>"[..]; 4 * 1024 * 1024 + 1];
    let bytes = workbook("", &[], Some(&strings));
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!xl/sharedStrings.xml")),
        "{stdout}"
    );
    assert!(
        stdout.contains("holds more than 4194304 strings"),
        "{stdout}"
    );
}

#[test]
fn a_huge_inline_cell_is_refused_with_bounded_memory() {
    // 600 MiB of text in one cell, about 600 KB zipped.
    let chunk = vec![b'x'; 1024 * 1024];
    let mut data: Vec<&[u8]> = vec![br#"<row r="1"><c r="A1" t="inlineStr"><is><t>"#];
    data.extend(std::iter::repeat_n(&chunk[..], 600));
    data.push(b"</t></is></c></row>");
    let bytes = workbook("", &data, None);
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("a text (a cell value or whitespace) is longer than 1 MiB (after cell A1)"),
        "{stdout}"
    );
}

#[test]
fn a_whitespace_bomb_is_refused() {
    let spaces = vec![b' '; 2 * 1024 * 1024];
    let bytes = workbook("", &[br#"<row r="1">"#, &spaces, b"</row>"], None);
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(stdout.contains("is longer than 1 MiB"), "{stdout}");
}

#[test]
fn a_declared_unpacked_size_over_the_limit_is_refused_before_inflating() {
    let mut bytes = workbook("", &[br#"<row r="1"><c r="A1"><v>1</v></c></row>"#], None);
    // Declare 4 GiB for the sheet in the central directory.
    let central = bytes
        .windows(4)
        .enumerate()
        .rfind(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .expect("central directory");
    bytes[central + 24..central + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let (code, at, stdout) = check_workbook(&bytes);
    assert_eq!(
        (code, at),
        (2, refused_at("./bomb.xlsx!Sheet1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("the workbook unpacks to more than 2048 MiB"),
        "{stdout}"
    );
}

// --- Policy paths: regular files under a size limit, never quoted unless a policy.

const WUHAN: &str = "policies/wuhan-2024.yaml";

/// A policy extending the shipped one, with `line` added as its 7th line.
fn policy_with(line: &str) -> String {
    format!(
        "kind: Policy\nid: own\ntitle: {{zh: 自定义, en: Own}}\nsource: test\nnotice: test\nextends: {}\n{line}\n",
        root().join(WUHAN).display()
    )
}

fn check_with_policy(dir: &Path, policy: &str) -> crate::util::Output {
    std::fs::write(dir.join("policy.yaml"), policy).expect("write policy");
    spotlint_in(
        dir,
        &[
            &["check", "results.yaml", "--policy", "policy.yaml"][..],
            &JSON_ARGS,
            &["en"],
        ]
        .concat(),
    )
}

#[test]
fn policy_paths_to_devices_pipes_and_huge_files_are_refused_at_once() {
    let dir = folder(&[("results.yaml", RESULTS_YAML.as_bytes())]);
    let fifo = dir.path().join("pipe.yaml");
    let name = std::ffi::CString::new(fifo.to_str().expect("utf-8").as_bytes()).expect("path");
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    let huge = dir.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    for (line, file, why, rule) in [
        (
            "calendar: /dev/zero",
            "/dev/zero",
            "not a regular file",
            "policy/calendar",
        ),
        (
            "calendar: /dev/urandom",
            "/dev/urandom",
            "not a regular file",
            "policy/calendar",
        ),
        (
            "calendar: pipe.yaml",
            "pipe.yaml",
            "not a regular file",
            "policy/calendar",
        ),
        (
            "vocabulary: huge.yaml",
            "huge.yaml",
            "larger than 4 MiB",
            "policy/vocabulary",
        ),
    ] {
        let out = check_with_policy(dir.path(), &policy_with(line));
        assert_eq!(out.code, 2, "{line}: {out:?}");
        let json = json_of(&out);
        let at = positions(&json);
        assert_eq!(
            at,
            [
                ("policy/unreadable".to_owned(), file.to_owned(), 1, 1),
                (
                    rule.to_owned(),
                    "policy.yaml".to_owned(),
                    7,
                    line.find(' ').unwrap_or(0) as u64 + 2
                ),
            ],
            "{line}: {out:?}"
        );
        assert!(out.stdout.contains(why), "{line}: {out:?}");
    }
}

#[test]
fn a_policy_path_to_a_file_that_is_no_policy_never_quotes_it() {
    let secret = "root:$6$S3CR3T-HASH-VALUE:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
    let environ = "API_TOKEN: S3CR3T-TOKEN-VALUE\nHOME: /root\n";
    let dir = folder(&[
        ("results.yaml", RESULTS_YAML.as_bytes()),
        ("shadow", secret.as_bytes()),
        ("environ.yaml", environ.as_bytes()),
    ]);
    for extends in ["shadow", "environ.yaml"] {
        let policy = format!(
            "kind: Policy\nid: own\ntitle: {{zh: 自定义, en: Own}}\nsource: test\nnotice: test\nextends: {extends}\n"
        );
        for format in ["json", "human"] {
            std::fs::write(dir.path().join("policy.yaml"), &policy).expect("write policy");
            let out = spotlint_in(
                dir.path(),
                &[
                    "check",
                    "results.yaml",
                    "--policy",
                    "policy.yaml",
                    "--format",
                    format,
                    "--lang",
                    "en",
                ],
            );
            assert_eq!(out.code, 2, "{out:?}");
            assert!(
                !out.stdout.contains("S3CR3T") && !out.stderr.contains("S3CR3T"),
                "{out:?}"
            );
            if format == "json" {
                let mut at = positions(&json_of(&out));
                at.sort();
                assert_eq!(
                    at,
                    [
                        ("policy/extends".to_owned(), "policy.yaml".to_owned(), 6, 10),
                        ("policy/invalid".to_owned(), extends.to_owned(), 1, 1),
                    ],
                    "{out:?}"
                );
            }
        }
    }
}

/// Every file under `dir`, by path, with a hash of its bytes.
fn hashes(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, u64> {
    use std::hash::{Hash, Hasher};
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk fixtures"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(e.path()).expect("read").hash(&mut h);
            (e.into_path(), h.finish())
        })
        .collect()
}

#[test]
fn the_commands_leave_every_fixture_byte_identical() {
    let fixtures = root().join("fixtures");
    let before = hashes(&fixtures);
    let out = tempfile::tempdir().expect("temp dir");
    let at = |name: &str| out.path().join(name).display().to_string();
    let mut runs: Vec<Vec<String>> = Vec::new();
    for format in ["human", "json", "sarif", "junit", "github"] {
        runs.push(vec![
            "check".into(),
            "fixtures/demo".into(),
            "--format".into(),
            format.into(),
        ]);
    }
    for (format, file) in [
        ("json", "report.json"),
        ("sarif", "report.sarif"),
        ("junit", "report.xml"),
        ("html", "report.html"),
        ("xlsx", "report.xlsx"),
    ] {
        runs.push(vec![
            "check".into(),
            "fixtures/demo".into(),
            "--format".into(),
            format.into(),
            "--output".into(),
            at(file),
        ]);
    }
    runs.push(vec![
        "check".into(),
        "fixtures/tables".into(),
        "--annotate".into(),
        at("annotated"),
    ]);
    runs.push(vec!["report".into(), "fixtures/demo".into()]);
    runs.push(vec![
        "report".into(),
        "fixtures/demo".into(),
        "--format".into(),
        "xlsx".into(),
        "--output".into(),
        at("bulletin.xlsx"),
    ]);
    runs.push(vec![
        "convert".into(),
        "fixtures/tables/results.xlsx".into(),
    ]);
    runs.push(vec![
        "convert".into(),
        "fixtures/tables/results-gbk.csv".into(),
    ]);
    runs.push(vec!["convert".into(), "fixtures/tables/plans".into()]);
    for args in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = crate::util::spotlint(&args);
        assert!((0..=2).contains(&result.code), "{args:?}: {result:?}");
    }
    assert!(
        out.path().join("annotated").is_dir(),
        "the annotated copies were written"
    );
    assert_eq!(
        hashes(&fixtures),
        before,
        "every fixture is unchanged, none added"
    );
}

#[test]
fn a_script_path_must_be_a_regular_rhai_file() {
    let calendar = "kind: Calendar\nid: cn\nyears: [2024]\nsources: [{year: 2024, notice: x}]\nholidays: []\nworkdays: []\n";
    let dir = folder(&[
        ("results.yaml", RESULTS_YAML.as_bytes()),
        ("calendar.yaml", calendar.as_bytes()),
        ("secret.txt", b"API_TOKEN=S3CR3T-TOKEN-VALUE\n"),
    ]);
    let fifo = dir.path().join("pipe.rhai");
    let name = std::ffi::CString::new(fifo.to_str().expect("utf-8").as_bytes()).expect("path");
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    for (script, why) in [
        ("secret.txt", "a script is a `.rhai` file"),
        ("pipe.rhai", "not a regular file"),
    ] {
        let policy = format!("kind: Policy\nid: own\ncalendar: calendar.yaml\nrules:\n  - id: scripted\n    title: {{zh: 脚本, en: scripted}}\n    clause: 三\n    quote: x\n    severity: error\n    on: [Results]\n    each: record\n    script: {script}\n    message: {{zh: x, en: x}}\n    help: {{zh: x, en: x}}\n");
        let out = check_with_policy(dir.path(), &policy);
        assert_eq!(out.code, 2, "{script}: {out:?}");
        assert!(!out.stdout.contains("S3CR3T"), "{out:?}");
        assert_eq!(
            positions(&json_of(&out)),
            [(
                "policy/missing-script".to_owned(),
                "policy.yaml".to_owned(),
                12,
                13
            )],
            "{script}: {out:?}"
        );
        assert!(out.stdout.contains(why), "{script}: {out:?}");
    }
}

/// Diagnostics of `rule` in a JSON report, as (file, line, column).
fn places_of(report: &serde_json::Value, rule: &str) -> Vec<(String, u64, u64)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_mapping_of_100000_keys_is_checked_for_duplicates_in_linear_time() {
    // Each key was compared with every earlier one: 100,000 keys took minutes.
    let mut plan = String::from("kind: Plan\ndepartment: 江岸区市场监管局\nyear: 2024\nextra:\n");
    for i in 0..100_000 {
        plan.push_str(&format!("  k{i}: {i}\n"));
    }
    plan.push_str("  k77777: again\n");
    let dir = folder(&[("plan.yaml", plan.as_bytes())]);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/duplicate-key"),
        [("./plan.yaml".to_owned(), 100_005, 3)]
    );
}

#[test]
fn ten_thousand_documents_in_one_file_are_each_shown_without_rereading_the_file() {
    // The human format handed the whole file to the snippet renderer for every
    // diagnostic, which counted its lines from the start each time.
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "---\nkind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-{i}\nnote{i}: x\nrecords: []\n"
        ));
    }
    let dir = folder(&[("results.yaml", text.as_bytes())]);
    let out = spotlint_in(
        dir.path(),
        &["check", ".", "--lang", "en", "--as-of", "2024-12-31"],
    );
    assert_eq!(out.code, 2, "{}", &out.stderr);
    for i in [0, 4_321, 9_999] {
        let line = 7 * i + 6;
        assert!(
            out.stdout.contains(&format!("[./results.yaml:{line}:1]"))
                && out.stdout.contains(&format!("{line} │ note{i}: x")),
            "document {i} at line {line}"
        );
    }
    assert_eq!(out.stdout.matches("unknown field `note").count(), 10_000);
}

#[test]
fn a_cell_of_100000_inspectors_is_counted_in_linear_time() {
    // `distinct: true` compared each inspector with every earlier one.
    let many: Vec<String> = (0..100_000).map(|i| format!("P{}", i % 99_999)).collect();
    let results = format!(
        "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {{object: O1, inspectors: [{}], finished_on: 2024-05-06, entered_on: 2024-05-07}}\n  - {{object: O2, inspectors: [P1, P1], finished_on: 2024-05-06, entered_on: 2024-05-07}}\n",
        many.join(", ")
    );
    let dir = folder(&[("results.yaml", results.as_bytes())]);
    let (_, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(
        places_of(&report, "result-inspectors-count"),
        [("./results.yaml".to_owned(), 7, 18)],
        "only the record with one distinct inspector: {report}"
    );
}

/// Results of `n` records, each entered a month after the inspection (a
/// `result-entry-deadline` finding per record), objects O0, O1, …
fn late_results(n: usize) -> String {
    let mut csv = String::from(
        "department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "江岸区市场监管局,2024,JA-1,O{i},P1;P2,2024-04-30,2024-05-31,gsxt,2024-06-01\n"
        ));
    }
    csv
}

#[test]
fn twenty_thousand_waivers_meet_twenty_thousand_findings_in_linear_time() {
    // Every finding was compared with every waiver.
    let n = 20_000;
    let mut waivers = String::from("kind: Waivers\nwaivers:\n");
    for i in 0..n {
        waivers.push_str(&format!(
            "  - {{rule: result-entry-deadline, target: O{i}, reason: 平台故障, approved_by: 法规科, expires_on: 2025-03-31}}\n"
        ));
    }
    let dir = folder(&[
        ("data/results.csv", late_results(n).as_bytes()),
        ("waivers.yaml", waivers.as_bytes()),
    ]);
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--waivers",
            "waivers.yaml",
            // Waivers are matched with the findings kept.
            "--max-findings-per-rule",
            "20000",
            "--format",
            "json",
            "--as-of",
            "2024-12-31",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["summary"]["waived"], n, "{out:?}");
    assert_eq!(places_of(&report, "result-entry-deadline"), []);
    assert_eq!(places_of(&report, "waiver/unused"), []);
}

#[test]
fn a_waiver_of_a_whole_rule_also_sets_aside_the_findings_past_the_limit() {
    let policy = format!(
        "kind: Policy\nid: review\ntitle: {{zh: 审, en: review}}\nsource: t\nnotice: t\nextends: {}\nwaivers: {{scope: rule}}\n",
        root().join("policies/wuhan-2024.yaml").display()
    );
    let waivers = "kind: Waivers\nwaivers:\n  - {rule: result-entry-deadline, reason: 平台故障, approved_by: 法规科, expires_on: 2025-03-31}\n";
    let dir = folder(&[
        ("data/results.csv", late_results(300).as_bytes()),
        ("review/policy.yaml", policy.as_bytes()),
        ("review/waivers.yaml", waivers.as_bytes()),
    ]);
    let run = |extra: &[&str]| {
        let args = [
            &[
                "check",
                "data",
                "--policy",
                "review/policy.yaml",
                "--format",
                "json",
            ][..],
            &["--as-of", "2024-12-31", "--max-findings-per-rule", "10"],
            extra,
        ]
        .concat();
        let out = spotlint_in(dir.path(), &args);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        (out.code, report)
    };
    let (code, unwaived) = run(&[]);
    assert_eq!(code, 1, "{unwaived}");
    let errors = unwaived["summary"]["errors"].as_u64().expect("errors");
    let (code, waived) = run(&["--waivers", "review/waivers.yaml"]);
    assert_eq!(places_of(&waived, "result-entry-deadline"), []);
    assert_eq!(waived["summary"]["waived"], 10, "{waived}");
    assert_eq!(waived["summary"]["not_kept"][0]["not_kept"], 290);
    assert_eq!(waived["summary"]["not_kept"][0]["waived"], true);
    // All 300 are set aside: 10 listed as waived, 290 counted with them.
    assert_eq!(waived["summary"]["errors"], errors - 300, "{waived}");
    assert_eq!(code, i32::from(errors > 300), "{waived}");
}

#[test]
fn findings_past_the_limit_per_rule_are_counted_and_said_not_kept() {
    let n = 30_000;
    let dir = folder(&[("results.csv", late_results(n).as_bytes())]);
    let run = |format: &str| {
        spotlint_in(
            dir.path(),
            &[
                "check",
                ".",
                "--format",
                format,
                "--lang",
                "en",
                "--as-of",
                "2024-12-31",
                "--max-findings-per-rule",
                "100",
            ],
        )
    };
    let json = run("json");
    assert_eq!(json.code, 1, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let listed = places_of(&report, "result-entry-deadline");
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0], ("./results.csv".to_owned(), 2, 40));
    assert_eq!(
        report["summary"]["not_kept"],
        serde_json::json!([{
            "rule": "result-entry-deadline",
            "kept": 100,
            "not_kept": 29_900,
            "waived": false,
            "message": "rule `result-entry-deadline`: 29900 more findings not listed (the first 100 are; counts and compliance figures include all)",
        }])
    );
    let listed_errors = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(report["summary"]["errors"], listed_errors + 29_900);

    let note = "rule `result-entry-deadline`: 29900 more findings not listed";
    let human = run("human");
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains(note), "{human:?}");
    // The rule's line counts every finding, listed or not.
    let by_rule = format!("  {:<32} 30000 errors", "result-entry-deadline");
    assert!(human.stdout.contains(&by_rule), "{human:?}");
    let sarif = run("sarif");
    assert_eq!(sarif.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(
        notification["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(note)),
        "{notification}"
    );
    let junit = run("junit");
    assert_eq!(junit.code, 1);
    assert!(
        junit.stdout.contains(&format!(
            "<testsuite name=\"result-entry-deadline\" tests=\"{n}\" failures=\"{n}\">"
        )),
        "{}",
        &junit.stdout[..2000.min(junit.stdout.len())]
    );
    assert!(junit.stdout.contains(note));
}

/// Runs a one-rule policy whose script is `script` over one good result record, with
/// `--stats`: (exit code, the JSON report, peak memory in KiB).
fn run_script(script: &str) -> (i32, serde_json::Value, u64) {
    let policy = "kind: Policy\nid: hostile\ncalendar: calendar.yaml\nrules:\n  - id: probe\n    title: {zh: 探测, en: probe}\n    clause: 三\n    quote: x\n    severity: error\n    on: [Results]\n    each: record\n    script: s.rhai\n    message: {zh: x, en: x}\n    help: {zh: x, en: x}\n";
    let calendar = "kind: Calendar\nid: cn\nyears: [2024]\nsources: [{year: 2024, notice: x}]\nholidays: []\nworkdays: []\n";
    let results = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {object: O1, inspectors: [P1, P2], finished_on: 2024-05-06, entered_on: 2024-05-07}\n";
    let dir = folder(&[
        ("policy/p.yaml", policy.as_bytes()),
        ("policy/calendar.yaml", calendar.as_bytes()),
        ("policy/s.rhai", script.as_bytes()),
        ("data/r.yaml", results.as_bytes()),
    ]);
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--policy",
            "policy/p.yaml",
            "--format",
            "json",
            "--lang",
            "en",
            "--stats",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON report ({e}): {out:?}"));
    let stats = out
        .stderr
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .unwrap_or_else(|| panic!("a stats line: {out:?}"));
    let peak = stats["peak_rss_kib"].as_u64().expect("peak memory");
    (out.code, report, peak)
}

/// The one script problem of a report: (line, column, message).
fn script_problem(report: &serde_json::Value) -> (u64, u64, String) {
    let found: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "policy/script")
        .collect();
    assert_eq!(found.len(), 1, "{report}");
    let d = found[0];
    assert_eq!(d["file"], "policy/s.rhai", "{d}");
    (
        d["line"].as_u64().unwrap_or_default(),
        d["column"].as_u64().unwrap_or_default(),
        d["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Far above what one record's check needs, far below what the scripts below reach
/// unchecked (gigabytes).
const SCRIPT_MEMORY_KIB: u64 = 512 * 1024;

#[test]
fn helpers_given_extreme_numbers_fail_the_script_at_the_call_not_the_run() {
    for (call, said) in [
        (
            "add_days(r.finished_on, 9223372036854775807)",
            "add_days: 2024-05-06 + 9223372036854775807 days is no date",
        ),
        (
            "add_days(r.finished_on, -9223372036854775807 - 1)",
            "add_days: 2024-05-06 + -9223372036854775808 days is no date",
        ),
        (
            "add_working_days(r.finished_on, -1)",
            "add_working_days: the count must be from 0 to 4294967295",
        ),
        (
            "within_working_days(r.finished_on, -9223372036854775807, r.entered_on)",
            "within_working_days: the count must be from 0 to 4294967295",
        ),
        ("year_of(\"\")", "`` is not a date YYYY-MM-DD"),
    ] {
        let script = format!("fn check(r, ctx) {{\n    let d = {call};\n}}\n");
        let (code, report, _) = run_script(&script);
        assert_eq!(code, 2, "{call}: {report}");
        let (line, at, message) = script_problem(&report);
        assert_eq!((line, at), (2, 13), "{call}: {message}");
        assert!(message.contains(said), "{message}");
    }
    // A count of working days past the calendar does not wrap round to a near day:
    // the record's dates reach a year the calendar lacks.
    let script = "fn check(r, ctx) {\n    if add_working_days(r.finished_on, 4294967295) < r.entered_on {\n        ctx.report(r, \"entered_on\");\n    }\n}\n";
    let (code, report, _) = run_script(script);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "calendar/missing-year"),
        [("data/r.yaml".to_owned(), 6, 6)],
        "{report}"
    );
    assert_eq!(places_of(&report, "probe"), []);
}

#[test]
fn scripts_that_grow_data_without_end_are_stopped_with_bounded_memory() {
    for (growth, at) in [
        ("let a = [1];\n    loop {\n        a += a;\n    }", (4, 11)),
        ("let s = \"x\";\n    loop {\n        s += s;\n    }", (4, 11)),
        (
            "let m = #{};\n    let i = 0;\n    loop {\n        m[`k${i}`] = i;\n        i += 1;\n    }",
            (5, 11),
        ),
    ] {
        let script = format!("fn check(r, ctx) {{\n    {growth}\n}}\n");
        let (code, report, peak) = run_script(&script);
        assert_eq!(code, 2, "{growth}: {report}");
        let (line, column, message) = script_problem(&report);
        assert_eq!((line, column), at, "{growth}: {message}");
        assert!(peak < SCRIPT_MEMORY_KIB, "{growth}: {peak} KiB");
    }
}

#[test]
fn currying_is_refused_before_a_curried_pointer_can_double_in_a_loop() {
    let script = "fn check(r, ctx) {\n    let f = Fn(\"check\");\n    loop {\n        f = f.curry(f);\n    }\n}\n";
    let (code, report, peak) = run_script(script);
    assert_eq!(code, 2, "{report}");
    let (line, column, message) = script_problem(&report);
    assert_eq!((line, column), (4, 15), "{message}");
    assert!(message.contains("curry"), "{message}");
    assert!(peak < SCRIPT_MEMORY_KIB, "{peak} KiB");
}

#[test]
fn a_script_flooding_reports_or_figures_is_stopped_with_bounded_memory() {
    let reports = "fn check(r, ctx) {\n    loop {\n        ctx.report(r, \"object\");\n    }\n}\n";
    let (code, report, peak) = run_script(reports);
    assert_eq!(code, 2, "{report}");
    let (line, _, message) = script_problem(&report);
    assert_eq!(line, 3, "{message}");
    assert!(message.contains("operation limit"), "{message}");
    let not_kept = &report["summary"]["not_kept"][0];
    assert_eq!(not_kept["rule"], "probe", "{report}");
    assert_eq!(not_kept["kept"], 10_000, "{report}");
    assert!(peak < SCRIPT_MEMORY_KIB, "{peak} KiB");

    let figures = "fn check(r, ctx) {\n    let i = 0;\n    loop {\n        ctx.tally(`t${i}`, true, 0.5);\n        i += 1;\n    }\n}\n";
    let (code, report, _) = run_script(figures);
    assert_eq!(code, 2, "{report}");
    let (line, _, message) = script_problem(&report);
    assert_eq!(line, 4, "{message}");
    assert!(message.contains("more than 100 figures"), "{message}");
}

#[test]
fn json_surrogate_pairs_are_one_character_and_positions_stay_true() {
    // What Python's json.dumps writes for 😀 (U+1F600); the record after it has a
    // single inspector, found at its place in the file.
    let results = "{\"kind\": \"Results\", \"department\": \"江岸区市场监管局\", \"year\": 2024, \"task\": \"JA-1\",\n \"records\": [{\"object\": \"O\\ud83d\\ude00\", \"inspectors\": [\"P1\"], \"finished_on\": \"2024-05-06\", \"entered_on\": \"2024-05-07\"}]}\n";
    let dir = folder(&[("results.json", results.as_bytes())]);
    let (_, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(
        places_of(&report, "result-inspectors-count"),
        [("./results.json".to_owned(), 2, 42)],
        "{report}"
    );
    assert_eq!(places_of(&report, "input/malformed"), []);

    let lone = results.replace("\\ude00", "");
    let dir = folder(&[("results.json", lone.as_bytes())]);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/malformed"),
        [("./results.json".to_owned(), 2, 27)],
        "{report}"
    );
}

#[test]
fn one_bad_value_costs_its_record_not_the_document() {
    // A channel outside the list in the first record of JA-2024-001: the document was
    // dropped, and `plan-executed` said the task had no results.
    let demo = crate::util::root().join("fixtures/demo");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(&demo).expect("demo") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let mut bytes = std::fs::read(&path).expect("read");
        if name == "results-JA-2024-001.yaml" {
            let text = String::from_utf8(bytes).expect("utf-8");
            bytes = text
                .replacen("channel: gsxt", "channel: wechat", 1)
                .into_bytes();
        }
        files.push((name, bytes));
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = folder(&files);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/bad-value"),
        [("./results-JA-2024-001.yaml".to_owned(), 17, 16)]
    );
    let executed = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "plan-executed")
        .filter(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("JA-2024-001"))
        })
        .count();
    assert_eq!(executed, 0, "{report}");
    // The rest of the document is still checked: its late entry is found.
    assert!(
        places_of(&report, "result-entry-deadline")
            .iter()
            .any(|(file, line, _)| file == "./results-JA-2024-001.yaml" && *line == 15),
        "{report}"
    );
}

#[test]
fn a_file_that_mixes_encodings_is_refused_at_the_first_line_that_does_not_fit() {
    let (gbk, _, _) = encoding_rs::GBK
        .encode("江岸区市场监管局,2024,JA-1,O2,P1;P2,2024-05-06,2024-05-07,gsxt,2024-05-08\n");
    let utf8 = "江岸区市场监管局,2024,JA-1,O1,P1;P2,2024-05-06,2024-05-07,gsxt,2024-05-08\n";
    // UTF-8 rows, then a row pasted from a GBK export: read as UTF-8 it is garbled, read
    // as GBK the other rows are.
    let mut csv = b"department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n".to_vec();
    for _ in 0..3 {
        csv.extend_from_slice(utf8.as_bytes());
    }
    csv.extend_from_slice(&gbk);
    csv.extend_from_slice(utf8.as_bytes());
    // A GBK YAML header, then UTF-8 records.
    let (mut yaml, _, _) = encoding_rs::GBK
        .encode("kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\n");
    let mut yaml = std::mem::take(yaml.to_mut());
    yaml.extend_from_slice("records:\n  - {object: 对象一, inspectors: [P1]}\n".as_bytes());
    let dir = folder(&[("results.csv", &csv[..]), ("results.yaml", &yaml[..])]);
    let (code, report) = check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/encoding"),
        [
            ("./results.csv".to_owned(), 5, 1),
            ("./results.yaml".to_owned(), 6, 1)
        ],
        "{report}"
    );
    let message = report["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("line 5 is not UTF-8"), "{report}");
    // A file wholly in GBK is still read, as GBK.
    let (whole, _, _) = encoding_rs::GBK.encode(RESULTS_CSV);
    let dir = folder(&[("results.csv", &whole[..])]);
    let (_, report) = check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(places_of(&report, "input/encoding"), [], "{report}");
}

/// A byte that no character of the file's encoding starts with (GBK, read as such
/// without a BOM; UTF-8, declared by its BOM), or a file cut inside its last character,
/// is an encoding error at that byte's line and column.
#[test]
fn a_file_with_a_bad_byte_is_refused_at_that_byte() {
    let (_, row) = RESULTS_CSV.split_once('\n').unwrap_or_default();
    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
    // A byte no GBK character starts with, inside the third row's department.
    let mut bad = gbk(&format!("{RESULTS_CSV}{row}"));
    bad.extend_from_slice(&gbk("江岸"));
    bad.push(0xFF);
    bad.extend_from_slice(&gbk(&row["江岸".len()..]));
    // A file cut in the middle of its last character.
    let mut cut = gbk(&format!("{RESULTS_CSV}江"));
    cut.pop();
    // UTF-8 that its BOM declares, with the same bad byte (CRLF lines before it).
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(
        format!("{RESULTS_CSV}{row}")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    bom.extend_from_slice("江岸".as_bytes());
    bom.push(0xFF);
    bom.extend_from_slice(&row.as_bytes()["江岸".len()..]);
    // UTF-16 (little- and big-endian) that its BOM declares, with a lone surrogate
    // where the bad byte is.
    let utf16 = |big: bool| {
        let unit = |u: u16| {
            if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        };
        let text = |t: &str| t.encode_utf16().flat_map(unit).collect::<Vec<u8>>();
        let mut bytes = unit(0xFEFF).to_vec();
        bytes.extend(text(
            &format!("{RESULTS_CSV}{row}江岸").replace('\n', "\r\n"),
        ));
        bytes.extend(unit(0xD800));
        bytes.extend(text(&row["江岸".len()..]));
        bytes
    };
    let (le, be) = (utf16(false), utf16(true));
    let dir = folder(&[
        ("bad.csv", &bad[..]),
        ("be.csv", &be[..]),
        ("bom.csv", &bom[..]),
        ("cut.csv", &cut[..]),
        ("le.csv", &le[..]),
    ]);
    let (code, report) = check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/encoding"),
        [
            ("./bad.csv".to_owned(), 4, 3),
            ("./be.csv".to_owned(), 4, 3),
            ("./bom.csv".to_owned(), 4, 3),
            ("./cut.csv".to_owned(), 3, 1),
            ("./le.csv".to_owned(), 4, 3)
        ],
        "{report}"
    );
    // The lone surrogate's first byte, named with the BOM's encoding.
    for (name, bytes, encoding) in [("be.csv", &be, "UTF-16BE"), ("le.csv", &le, "UTF-16LE")] {
        let offset = (2..bytes.len())
            .step_by(2)
            .find(|&i| {
                let pair = [bytes[i], bytes[i + 1]];
                let unit = if encoding == "UTF-16BE" {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                };
                unit == 0xD800
            })
            .unwrap_or_default();
        let said = report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["file"] == format!("./{name}"))
            .and_then(|d| d["message"].as_str())
            .unwrap_or_default();
        assert_eq!(
            said,
            format!(
                "the file's byte order mark says {encoding}, but byte {offset} is not {encoding}"
            ),
            "{report}"
        );
    }
    let message = report["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or_default();
    let offset = bad.iter().position(|&b| b == 0xFF).unwrap_or_default();
    assert!(
        message.contains(&format!("first bad byte at {offset}")),
        "{report}"
    );
    // The BOM's encoding is named: the file was not read as GBK.
    let offset = bom.iter().position(|&b| b == 0xFF).unwrap_or_default();
    let message = report["diagnostics"][2]["message"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        message,
        format!("the file's byte order mark says UTF-8, but byte {offset} is not UTF-8"),
        "{report}"
    );
}

/// A value given but invalid (a channel not in the list, dates that do not exist) is
/// reported once, as an input error at its cell: rules read it as unknown, not missing,
/// so no "not published" or "not entered" finding follows from it. In a CSV table and
/// in the same records written as YAML.
#[test]
fn an_invalid_value_is_reported_once_not_also_as_missing() {
    let csv = "department,year,task,object,entity_type,inspectors,finished_on,outcome,problem,entered_on,publication_channel,published_on\n\
武汉市江岸区市场监督管理局,2024,JA-2024-001,91420102MA4K00001Q,enterprise,P001;P002,2024-05-06,未发现问题,否,2024-05-08,wechat,2024-05-09\n\
武汉市江岸区市场监督管理局,2024,JA-2024-001,91420102MA4K00001Q,enterprise,P001;P002,2024-05-06,未发现问题,否,2024-13-08,gsxt,2024-05-09\n\
武汉市江岸区市场监督管理局,2024,JA-2024-001,91420102MA4K00001Q,enterprise,P001;P002,2024-05-06,未发现问题,否,2024-05-08,gsxt,2024-02-30\n";
    let record = |entered: &str, channel: &str, published: &str| {
        format!("  - object: 91420102MA4K00001Q\n    entity_type: enterprise\n    inspectors: [P001, P002]\n    finished_on: 2024-05-06\n    outcome: 未发现问题\n    problem: false\n    entered_on: {entered}\n    publication: {{channel: {channel}, published_on: {published}}}\n")
    };
    let yaml = format!(
        "kind: Results\ndepartment: 武汉市江岸区市场监督管理局\nyear: 2024\ntask: JA-2024-001\nrecords:\n{}{}{}",
        record("2024-05-08", "wechat", "2024-05-09"),
        record("2024-13-08", "gsxt", "2024-05-09"),
        record("2024-05-08", "gsxt", "2024-02-30"),
    );
    let library = |name: &str| {
        std::fs::read(root().join("fixtures/checks/streaming/plain").join(name)).expect("fixture")
    };
    let (objects, personnel, plan) = (
        library("objects.yaml"),
        library("personnel.yaml"),
        library("plan.yaml"),
    );
    for (file, text, expected) in [
        (
            "results.csv",
            csv.to_owned(),
            [
                ("input/bad-value", 2, 102),
                ("input/bad-date", 3, 91),
                ("input/bad-date", 4, 107),
            ],
        ),
        (
            "results.yaml",
            yaml,
            [
                ("input/bad-value", 13, 28),
                ("input/bad-date", 20, 17),
                ("input/bad-date", 29, 48),
            ],
        ),
    ] {
        let dir = folder(&[
            (file, text.as_bytes()),
            ("objects.yaml", &objects),
            ("personnel.yaml", &personnel),
            ("plan.yaml", &plan),
        ]);
        let (code, json) = check_json(dir.path(), &["--lang", "en"]);
        assert_eq!(code, 2, "{json}");
        let on_results: Vec<(String, u64, u64)> = positions(&json)
            .into_iter()
            .filter(|(_, f, _, _)| f.ends_with(file))
            .map(|(rule, _, line, column)| (rule, line, column))
            .collect();
        let expected: Vec<(String, u64, u64)> = expected
            .iter()
            .map(|(rule, line, column)| (rule.to_string(), *line, *column))
            .collect();
        assert_eq!(on_results, expected, "{file}: {json}");
    }
}

/// A header cell of a megabyte (a whole file read as one cell, say) is compared with
/// no known column name character by character, and quoted in its diagnostic cut
/// short: it took seconds per megabyte and was echoed whole.
#[test]
fn a_megabyte_header_cell_is_read_in_linear_time_and_quoted_short() {
    let table = format!("{},年度\n甲,2024\n", "抽查事项".repeat(100_000));
    let dir = folder(&[("table.csv", table.as_bytes())]);
    let (code, report) = check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        positions(&report),
        [
            (
                "input/unknown-field".to_owned(),
                "./table.csv".to_owned(),
                1,
                1
            ),
            (
                "input/unknown-kind".to_owned(),
                "./table.csv".to_owned(),
                1,
                1
            ),
        ]
    );
    let message = report["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or_default();
    let quoted = format!("unknown column `{}…`", "抽查事项".repeat(20));
    assert!(message.starts_with(&quoted), "{message}");
    assert!(message.chars().count() < 600, "{message}");
}

/// A first row of twenty thousand short distinct cells (each compared with every listed
/// header when looking for a published table's header row, and given a "did you
/// mean"): each unknown column is still reported, but only the first hundred are
/// compared with the known names, and a row that wide is not read loosely as a header.
#[test]
fn a_row_of_twenty_thousand_header_cells_is_read_in_linear_time() {
    let words = [
        "抽查", "比例", "检查", "对象", "事项", "任务", "名称", "部门",
    ];
    let cells: Vec<String> = (0..20_000usize)
        .map(|i| {
            let mut cell = String::new();
            let mut n = i + 8;
            while n > 0 {
                cell.push_str(words[n % 8]);
                n /= 8;
            }
            cell
        })
        .collect();
    let table = format!("{}\n{}\n", cells.join(","), cells.join(","));
    let dir = folder(&[("wide.csv", table.as_bytes())]);
    let (code, report) = check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2);
    let unknown: Vec<(u64, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "input/unknown-field")
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // Three of the cells name Results columns; the table then lacks its `year`.
    assert_eq!(unknown.len(), 20_000 - 3);
    assert_eq!(
        report["summary"]["input_errors"],
        20_000 - 3 + 1,
        "{}",
        report["summary"]
    );
    assert_eq!((unknown[0].0, unknown[0].1), (1, 1));
    // Past the first hundred, no "did you mean".
    assert!(
        unknown[100..].iter().all(|u| !u.2.contains("did you mean")),
        "{:?}",
        unknown[100]
    );
}
