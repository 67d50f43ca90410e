//! Reports where people read them: the findings workbook and annotated copies of
//! input tables.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use calamine::{Data, Reader};
use serde_json::Value;

use crate::util::{root, spotlint, spotlint_in};

/// `check --format json` of `args` from the project root.
fn check_json(args: &[&str]) -> Value {
    let mut all = vec!["check", "--format", "json", "--as-of", "2024-12-31"];
    all.extend_from_slice(args);
    let out = spotlint(&all);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("one JSON object ({e}): {out:?}"))
}

/// Every sheet of a workbook: name and rows of cell texts.
fn read_workbook(path: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book = calamine::open_workbook_auto(path).expect("the workbook opens");
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("the sheet reads");
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|c| match c {
                            Data::Float(f) => format!("{f}"),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

fn hash_of(path: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read(path).expect("read").hash(&mut h);
    h.finish()
}

/// A folder holding copies of the given project files, by their names.
fn copies(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in files {
        let from = root().join(file);
        let name = from.file_name().expect("a file name");
        std::fs::copy(&from, dir.path().join(name)).expect("copy");
    }
    dir
}

/// `soffice` or `libreoffice` when installed.
fn libreoffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Converts a workbook's first sheet to CSV with LibreOffice, where it is installed.
fn libreoffice_csv(book: &Path) -> Option<String> {
    let Some(bin) = libreoffice() else {
        eprintln!("note: LibreOffice is not installed; the workbook was not opened in it");
        return None;
    };
    let out = tempfile::tempdir().expect("temp dir");
    let profile = tempfile::tempdir().expect("temp dir");
    let status = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
        ])
        .arg("--outdir")
        .arg(out.path())
        .arg(book)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("LibreOffice runs");
    assert!(status.success(), "LibreOffice converts {}", book.display());
    let name = book.with_extension("csv");
    let name = name.file_name().expect("a file name");
    Some(std::fs::read_to_string(out.path().join(name)).expect("the CSV LibreOffice wrote"))
}

// ---------------------------------------------------------------------------------
// The findings workbook

fn severity_zh(s: &str) -> &'static str {
    match s {
        "error" => "错误",
        _ => "警告",
    }
}

/// The findings sheet holds exactly the JSON report's diagnostics, in its order.
fn assert_workbook_matches_json(book: &Path, json: &Value) {
    let sheets = read_workbook(book);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["发现的问题", "合规指标"]);
    let rows = &sheets[0].1;
    assert_eq!(
        rows[0],
        [
            "规则",
            "级别",
            "文件",
            "行/单元格",
            "说明",
            "依据",
            "整改建议"
        ]
    );
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(rows.len() - 1, diagnostics.len(), "one row per diagnostic");
    for (row, d) in rows[1..].iter().zip(diagnostics) {
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
        assert_eq!(row[0], s("rule"));
        assert_eq!(row[1], severity_zh(&s("severity")));
        assert_eq!(row[2], s("file"));
        assert_eq!(row[4], s("message"));
        assert_eq!(row[6], s("help"));
        let clause = s("clause");
        assert!(
            row[5].starts_with(&clause),
            "basis {:?} starts with {clause:?}",
            row[5]
        );
        let (line, column) = (d["line"].as_u64(), d["column"].as_u64());
        let place = &row[3];
        let is_table = s("file").ends_with(".csv") || s("file").contains(".xlsx!");
        if is_table {
            let digits: String = place
                .chars()
                .skip_while(|c| c.is_ascii_uppercase())
                .collect();
            assert_eq!(
                digits.parse::<u64>().ok(),
                line,
                "{place} is on the line's row"
            );
        } else {
            assert_eq!(
                place,
                &format!("{}:{}", line.unwrap_or(0), column.unwrap_or(0))
            );
        }
    }
    let figures = &sheets[1].1;
    assert_eq!(
        figures[0],
        ["指标", "实测", "达标数", "总数", "要求", "是否达标"]
    );
    let expected = json["summary"]["figures"].as_array().expect("figures");
    assert_eq!(figures.len() - 1, expected.len());
    for (row, f) in figures[1..].iter().zip(expected) {
        assert_eq!(row[0], f["title"].as_str().unwrap_or_default());
        assert_eq!(row[1].parse::<f64>().ok(), f["measured"].as_f64());
        assert_eq!(row[2].parse::<i64>().ok(), f["numerator"].as_i64());
        assert_eq!(row[3].parse::<i64>().ok(), f["denominator"].as_i64());
        assert_eq!(row[4].parse::<f64>().ok(), f["threshold"].as_f64());
        assert_eq!(row[5], if f["ok"] == true { "是" } else { "否" });
    }
}

#[test]
fn xlsx_findings_hold_exactly_the_json_findings() {
    let out_dir = tempfile::tempdir().expect("temp dir");
    for (name, inputs) in [
        ("demo", vec!["fixtures/demo"]),
        (
            "tables",
            vec![
                "fixtures/tables/results-gbk.csv",
                "fixtures/tables/results.xlsx",
            ],
        ),
    ] {
        let book = out_dir.path().join(format!("{name}.xlsx"));
        let book_arg = book.to_str().expect("utf-8 path");
        let mut args = vec![
            "check",
            "--format",
            "xlsx",
            "--output",
            book_arg,
            "--as-of",
            "2024-12-31",
        ];
        args.extend(&inputs);
        let out = spotlint(&args);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {out:?}");
        let json = check_json(&inputs);
        assert!(!json["diagnostics"].as_array().expect("list").is_empty());
        assert_workbook_matches_json(&book, &json);
        if let Some(csv) = libreoffice_csv(&book) {
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines[0], "规则,级别,文件,行/单元格,说明,依据,整改建议");
            assert_eq!(
                lines.len() - 1,
                json["diagnostics"].as_array().expect("list").len()
            );
        }
    }
}

#[test]
fn xlsx_headers_are_english_with_lang_en() {
    let dir = tempfile::tempdir().expect("temp dir");
    let book = dir.path().join("findings.xlsx");
    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--as-of",
        "2024-12-31",
        "--lang",
        "en",
        "--format",
        "xlsx",
        "--output",
        book.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    let sheets = read_workbook(&book);
    assert_eq!(sheets[0].0, "Findings");
    assert_eq!(
        sheets[0].1[0],
        [
            "Rule",
            "Severity",
            "File",
            "Line/cell",
            "Message",
            "Basis",
            "How to fix"
        ]
    );
    assert_eq!(sheets[1].0, "Compliance figures");
    assert_eq!(sheets[0].1[1][1], "error");
}

#[test]
fn xlsx_without_output_is_a_usage_error() {
    let out = spotlint(&["check", "fixtures/demo", "--format", "xlsx"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("--output"), "{out:?}");
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = copies(&["fixtures/tables/results-gbk.csv"]);
    let input = dir.path().join("results-gbk.csv");
    let before = hash_of(&input);
    for format in ["json", "xlsx"] {
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
                "results-gbk.csv",
            ],
        );
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("input"), "{out:?}");
    }
    assert_eq!(hash_of(&input), before, "the input is unchanged");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, ["results-gbk.csv"], "no temporary file is left");
}

// ---------------------------------------------------------------------------------
// Annotated copies

/// The notes of a workbook's first sheet with notes: cell → text.
fn notes(book: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(book).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let mut xml = String::new();
    zip.by_name("xl/comments1.xml")
        .expect("the sheet has notes")
        .read_to_string(&mut xml)
        .expect("read");
    let mut found = Vec::new();
    for part in xml.split("<comment ref=\"").skip(1) {
        let cell = part.split('"').next().unwrap_or_default().to_owned();
        let text: String = part
            .split("<t")
            .skip(1)
            .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
            .map(|t| t.split("</t>").next().unwrap_or_default())
            .collect();
        found.push((cell, text));
    }
    found
}

/// Cells of the first sheet written with a style (`s="…"`).
fn styled_cells(book: &Path) -> BTreeSet<String> {
    let file = std::fs::File::open(book).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .expect("sheet 1")
        .read_to_string(&mut xml)
        .expect("read");
    xml.split("<c r=\"")
        .skip(1)
        .filter_map(|c| {
            let (cell, rest) = c.split_once('"')?;
            let tag = rest.split('>').next()?;
            tag.contains(" s=\"").then(|| cell.to_owned())
        })
        .collect()
}

#[test]
fn annotated_copies_mark_exactly_the_cells_of_the_findings() {
    let inputs = copies(&[
        "fixtures/tables/results-gbk.csv",
        "fixtures/tables/results.xlsx",
    ]);
    let out = tempfile::tempdir().expect("temp dir");
    let csv = inputs.path().join("results-gbk.csv");
    let book = inputs.path().join("results.xlsx");
    let before = (hash_of(&csv), hash_of(&book));
    let annotated = out.path().join("annotated");
    let result = spotlint_in(
        inputs.path(),
        &[
            "check",
            ".",
            "--as-of",
            "2024-12-31",
            "--format",
            "json",
            "--annotate",
            annotated.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(result.code, 1, "{result:?}");
    assert_eq!(
        (hash_of(&csv), hash_of(&book)),
        before,
        "the inputs are byte-identical"
    );
    let json: Value = serde_json::from_str(&result.stdout).expect("json");
    // Both tables give the same findings: the task missing from the plan at the 抽查任务
    // column (C) of row 2; late entries at the 录入日期 column (H) of rows 2, 3 and 5; and
    // on row 4, whose 录入日期 is empty, the missing entry at the 检查完成日期 (G) it is
    // counted from.
    let expected: BTreeSet<String> = ["C2", "H2", "H3", "G4", "H5"].map(String::from).into();
    for (copy, file) in [
        ("results-gbk.csv.xlsx", "./results-gbk.csv"),
        ("results.xlsx", "./results.xlsx!Sheet1"),
    ] {
        let copy = annotated.join(copy);
        let diagnostics: Vec<&Value> = json["diagnostics"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|d| d["file"] == file)
            .collect();
        assert_eq!(diagnostics.len(), 5, "{file}: {}", json["diagnostics"]);
        let noted = notes(&copy);
        let cells: BTreeSet<String> = noted.iter().map(|(c, _)| c.clone()).collect();
        assert_eq!(cells, expected, "{}", copy.display());
        assert_eq!(
            noted.len(),
            diagnostics.len(),
            "one note per finding's cell"
        );
        for d in &diagnostics {
            let message = d["message"].as_str().expect("message");
            let help = d["help"].as_str().expect("help");
            let column = match (d["rule"].as_str(), d["line"].as_u64()) {
                (Some("result-within-plan"), _) => "C",
                (_, Some(4)) => "G",
                _ => "H",
            };
            let cell = format!("{column}{}", d["line"]);
            let (_, text) = noted
                .iter()
                .find(|(c, _)| *c == cell)
                .unwrap_or_else(|| panic!("a note at {cell}"));
            assert!(text.contains(message), "{cell}: {text}");
            assert!(text.contains(&format!("整改：{help}")), "{cell}: {text}");
        }
        let sheets = read_workbook(&copy);
        let rows = &sheets[0].1;
        let findings_col = rows[0].len() - 1;
        assert_eq!(rows[0][findings_col], "spotlint 发现的问题");
        for (i, row) in rows.iter().enumerate().skip(1) {
            let listed = row.get(findings_col).cloned().unwrap_or_default();
            let on_row: Vec<&&Value> = diagnostics
                .iter()
                .filter(|d| d["line"] == (i as u64 + 1))
                .collect();
            assert_eq!(listed.is_empty(), on_row.is_empty(), "row {}", i + 1);
            for d in on_row {
                assert!(listed.contains(d["message"].as_str().expect("message")));
            }
        }
        // The values are the input's: row 2 of the copy is row 2 of the table.
        assert_eq!(rows[1][2], "JA-2024-001");
        assert_eq!(rows[1][3], "91420102MA4K00001Q");
    }
    let highlighted = styled_cells(&annotated.join("results-gbk.csv.xlsx"));
    // The findings column (K) follows the table's ten columns.
    let findings_column: BTreeSet<String> = ["K1", "K2", "K3", "K4", "K5"].map(String::from).into();
    assert_eq!(
        highlighted,
        expected.union(&findings_column).cloned().collect(),
        "only the offending cells (and the findings column) are styled"
    );
    if let Some(text) = libreoffice_csv(&annotated.join("results-gbk.csv.xlsx")) {
        assert!(text
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("JA-2024-001")));
    }
}
