//! Reports where people read them: the findings workbook, annotated copies of input
//! tables, the HTML report rendered in headless Chromium, and `spotlint report`.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use calamine::{Data, Reader};
use serde_json::{json, Value};

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
    let out = spotlint(&["report", "fixtures/demo", "--format", "xlsx"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--output"), "{out:?}");
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = copies(&["fixtures/tables/results-gbk.csv"]);
    let input = dir.path().join("results-gbk.csv");
    let before = hash_of(&input);
    for format in ["json", "xlsx", "html"] {
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

// ---------------------------------------------------------------------------------
// The HTML report in headless Chromium

/// Chromium, driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out): no
/// network port and no client library.
struct Browser {
    child: std::process::Child,
    commands: std::process::ChildStdin,
    messages: mpsc::Receiver<Value>,
    events: Vec<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

const CHROMIUM: &str = "/usr/bin/chromium";

impl Browser {
    /// Chromium, or `None` with a note off CI; on CI (`CI` set) its absence fails.
    fn start() -> Option<Browser> {
        let binary = if Path::new(CHROMIUM).exists() {
            PathBuf::from(CHROMIUM)
        } else {
            let found = std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("chromium"))
                    .find(|p| p.exists())
            });
            match found {
                Some(p) => p,
                None if std::env::var_os("CI").is_some() => {
                    panic!("Chromium is required on CI (.ci/run installs it)")
                }
                None => {
                    eprintln!("note: Chromium is not installed; the HTML report was not rendered");
                    return None;
                }
            }
        };
        let profile = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null")
            .arg(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Chromium starts");
        let commands = child.stdin.take().expect("stdin");
        let replies = child.stdout.take().expect("stdout");
        let (send, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut replies = BufReader::new(replies);
            let mut message = Vec::new();
            while replies.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                message.pop();
                if let Ok(value) = serde_json::from_slice::<Value>(&message) {
                    if send.send(value).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        Some(Browser {
            child,
            commands,
            messages,
            events: Vec::new(),
            next_id: 0,
            _profile: profile,
        })
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(60))
            .expect("Chromium answers within a minute")
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("json");
        bytes.push(0);
        self.commands.write_all(&bytes).expect("send to Chromium");
        self.commands.flush().expect("send to Chromium");
        loop {
            let reply = self.next();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
            self.events.push(reply);
        }
    }

    /// Opens `url` in a new page and waits for its load event; returns the session.
    fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            self.call(Some(&session), domain, json!({}));
        }
        self.call(Some(&session), "Page.navigate", json!({"url": url}));
        while !self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired" && e["sessionId"] == session.as_str())
        {
            let event = self.next();
            self.events.push(event);
        }
        session
    }

    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Script exceptions, console errors and failed loads reported so far.
    fn errors(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Runtime.consoleAPICalled" && e["params"]["type"] == "error")
                    || (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a reader sees: the page's rendered text (hidden elements have none).
const VISIBLE_TEXT: &str = "document.body.innerText";
const VISIBLE_FINDINGS: &str = "Array.from(document.querySelectorAll('.finding')).filter(e => e.offsetParent !== null).map(e => e.dataset.rule + '|' + e.dataset.file)";

fn visible(browser: &mut Browser, session: &str) -> Vec<String> {
    let list = browser.eval(session, VISIBLE_FINDINGS);
    let mut found: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    found.sort();
    found
}

fn expected_findings(json: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut found: Vec<String> = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|d| keep(d))
        .map(|d| {
            format!(
                "{}|{}",
                d["rule"].as_str().unwrap_or_default(),
                d["file"].as_str().unwrap_or_default()
            )
        })
        .collect();
    found.sort();
    found
}

fn set_select(browser: &mut Browser, session: &str, id: &str, value: &str) {
    let script = format!(
        "(() => {{ const s = document.getElementById({}); s.value = {}; s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value; }})()",
        json!(id),
        json!(value)
    );
    assert_eq!(browser.eval(session, &script), json!(value));
}

#[test]
fn html_report_shows_figures_and_findings_and_filters_them_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--as-of",
        "2024-12-31",
        "--format",
        "html",
        "--output",
        page.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    let html = std::fs::read_to_string(&page).expect("the page");
    for external in ["http://", "https://", "src=", "@import", "url("] {
        let outside_text = html
            .split("<body>")
            .next()
            .unwrap_or_default()
            .contains(external);
        assert!(!outside_text, "the head loads nothing ({external})");
    }
    let json = check_json(&["fixtures/demo"]);
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let session = browser.open(&format!("file://{}", page.display()));
    assert_eq!(
        browser.errors(),
        Vec::<&Value>::new(),
        "the page loads cleanly"
    );
    let text = browser
        .eval(&session, VISIBLE_TEXT)
        .as_str()
        .expect("text")
        .to_owned();
    for f in json["summary"]["figures"].as_array().expect("figures") {
        let title = f["title"].as_str().expect("title");
        let measured = format!(
            "{:.1}%（{}/{}）",
            f["measured"].as_f64().expect("measured") * 100.0,
            f["numerator"],
            f["denominator"]
        );
        assert!(text.contains(title), "figure {title} shown");
        assert!(text.contains(&measured), "figure {title} at {measured}");
        let width = browser.eval(
            &session,
            &format!(
                "parseFloat(document.querySelector('.figure[data-figure=\"{}\"] .fill').style.width)",
                f["id"].as_str().expect("id")
            ),
        );
        let measured = f["measured"].as_f64().expect("measured") * 100.0;
        assert!(
            (width.as_f64().expect("a width") - measured).abs() < 0.06,
            "the bar of {title} is {width}% long"
        );
    }
    let diagnostics = json["diagnostics"].as_array().expect("list");
    for d in diagnostics {
        for key in ["message", "help"] {
            let shown = d[key].as_str().expect("text");
            assert!(text.contains(shown), "{key} shown: {shown}");
        }
    }
    // Source lines with their numbers: the late entry of the demo is on line 15.
    let hit = browser.eval(
        &session,
        "document.querySelector('.finding[data-rule=\"result-entry-deadline\"] .l.hit').innerText",
    );
    assert!(
        hit.as_str()
            .is_some_and(|l| l.starts_with("15    entered_on: 2024-05-31")),
        "{hit}"
    );
    let all = expected_findings(&json, |_| true);
    assert_eq!(visible(&mut browser, &session), all);
    let shown = browser.eval(&session, "document.getElementById('shown').textContent");
    assert_eq!(
        shown,
        json!(format!("显示 {} / {} 个问题", all.len(), all.len()))
    );

    // Severity: errors hidden, warnings still shown; and back.
    browser.eval(&session, "document.getElementById('filter-error').click()");
    let warnings = expected_findings(&json, |d| d["severity"] == "warning");
    assert!(!warnings.is_empty() && warnings.len() < all.len());
    assert_eq!(visible(&mut browser, &session), warnings);
    let text = browser.eval(&session, VISIBLE_TEXT);
    let an_error = diagnostics
        .iter()
        .find(|d| d["severity"] == "error")
        .expect("an error");
    assert!(!text
        .as_str()
        .expect("text")
        .contains(an_error["message"].as_str().expect("message")));
    browser.eval(&session, "document.getElementById('filter-error').click()");
    assert_eq!(visible(&mut browser, &session), all);

    // Rule, then file.
    set_select(
        &mut browser,
        &session,
        "filter-rule",
        "result-entry-deadline",
    );
    assert_eq!(
        visible(&mut browser, &session),
        expected_findings(&json, |d| d["rule"] == "result-entry-deadline")
    );
    set_select(&mut browser, &session, "filter-rule", "");
    let file = "fixtures/demo/plan.yaml";
    set_select(&mut browser, &session, "filter-file", file);
    let in_file = expected_findings(&json, |d| d["file"] == file);
    assert!(!in_file.is_empty());
    assert_eq!(visible(&mut browser, &session), in_file);
    // Both: nothing matches, and the page says so.
    set_select(
        &mut browser,
        &session,
        "filter-rule",
        "result-entry-deadline",
    );
    assert_eq!(visible(&mut browser, &session), Vec::<String>::new());
    assert_eq!(
        browser.eval(
            &session,
            "document.getElementById('none').offsetParent !== null"
        ),
        json!(true)
    );
    set_select(&mut browser, &session, "filter-rule", "");
    set_select(&mut browser, &session, "filter-file", "");
    assert_eq!(visible(&mut browser, &session), all);
    assert_eq!(browser.errors(), Vec::<&Value>::new());
}

#[test]
fn html_report_shows_untrusted_values_as_text() {
    let hostile = "<img src=x onerror=\"window.hit=1\"><script>window.hit=2</script>";
    let dir = crate::util::folder(&[]);
    let wrapped = format!("\"{}\"", hostile.replace('"', "\"\""));
    let text = format!(
        "部门,年度,抽查任务,检查对象,主体类型,检查人员,检查完成日期,录入日期\n某局,2024,{wrapped},91420102MA4K00001Q,enterprise,P1;P2,2024-04-30,2024-05-31\n"
    );
    std::fs::write(dir.path().join("results.csv"), text).expect("write");
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            ".",
            "--as-of",
            "2024-12-31",
            "--format",
            "html",
            "--output",
            "report.html",
        ],
    );
    assert!(out.code == 1 || out.code == 2, "{out:?}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("the page");
    assert!(!html.contains(hostile), "the value is escaped");
    assert!(html.contains("&lt;img src=x onerror=&quot;window.hit=1&quot;&gt;"));
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let session = browser.open(&format!(
        "file://{}",
        dir.path().join("report.html").display()
    ));
    assert_eq!(
        browser.eval(&session, "window.hit === undefined"),
        json!(true)
    );
    let text = browser.eval(&session, VISIBLE_TEXT);
    assert!(text.as_str().expect("text").contains(hostile));
    assert_eq!(browser.errors(), Vec::<&Value>::new());
}

// ---------------------------------------------------------------------------------
// `spotlint report`

/// A city of `n` departments, each a variation of the demo or of the clean example,
/// so that their figures differ; department 7's plan is not YAML, department 11 has
/// none.
fn city(n: usize) -> tempfile::TempDir {
    let city = tempfile::tempdir().expect("temp dir");
    for i in 0..n {
        let dept = city.path().join(format!("dept-{i:02}"));
        std::fs::create_dir_all(&dept).expect("mkdir");
        let from = root().join(if i % 2 == 0 {
            "fixtures/demo"
        } else {
            "fixtures/clean"
        });
        let mut files: Vec<PathBuf> = std::fs::read_dir(&from)
            .expect("fixture")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for (k, file) in files.iter().enumerate() {
            let name = file.file_name().expect("name");
            // Leave out a different results file in some departments.
            let is_results = name.to_string_lossy().starts_with("results");
            if is_results && (i + k) % 5 == 0 {
                continue;
            }
            std::fs::copy(file, dept.join(name)).expect("copy");
        }
        if i == 7 {
            std::fs::write(dept.join("plan.yaml"), "kind: Plan\ntasks: [unclosed\n")
                .expect("write");
        }
        if i == 11 {
            std::fs::remove_file(dept.join("plan.yaml")).expect("remove the plan");
        }
    }
    city
}

#[test]
fn report_gives_each_department_the_figures_of_its_own_check() {
    let city = city(50);
    let out = spotlint_in(
        city.path(),
        &["report", ".", "--format", "json", "--as-of", "2024-12-31"],
    );
    assert_eq!(out.code, 2, "one department cannot be read: {out:?}");
    let json: Value = serde_json::from_str(&out.stdout).expect("json");
    let departments = json["departments"].as_array().expect("departments");
    assert_eq!(departments.len(), 50, "no department is dropped");
    let mut total_errors = 0;
    for (i, d) in departments.iter().enumerate() {
        let name = format!("dept-{i:02}");
        assert_eq!(d["name"], name.as_str());
        let alone = crate::util::check_json(&city.path().join(&name), &[]).1;
        let summary = &alone["summary"];
        assert_eq!(d["figures"], summary["figures"], "{name}");
        let findings_of = |severity: &str| {
            alone["diagnostics"]
                .as_array()
                .expect("list")
                .iter()
                .filter(|x| x["origin"] == "finding" && x["severity"] == severity)
                .count()
        };
        assert_eq!(d["errors"], findings_of("error"), "{name}");
        assert_eq!(d["warnings"], findings_of("warning"), "{name}");
        assert_eq!(d["input_problems"], summary["input_errors"], "{name}");
        let by_section: u64 = d["by_section"]
            .as_object()
            .expect("sections")
            .values()
            .map(|c| c["errors"].as_u64().unwrap_or(0) + c["warnings"].as_u64().unwrap_or(0))
            .sum();
        let findings = alone["diagnostics"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|x| x["origin"] == "finding")
            .count() as u64;
        assert_eq!(by_section, findings, "{name}: every finding in one section");
        for r in d["requirements"].as_array().expect("requirements") {
            let rules: &[&str] = match r["id"].as_str().expect("id") {
                "plan-published" => &["plan-published", "plan-platform-sync"],
                "items-filed" => &["items-filed"],
                "plan-executed" => &["plan-executed"],
                other => panic!("unknown requirement {other}"),
            };
            let n = alone["diagnostics"]
                .as_array()
                .expect("list")
                .iter()
                .filter(|x| rules.contains(&x["rule"].as_str().unwrap_or_default()))
                .count();
            assert_eq!(r["findings"], n, "{name} {}", r["id"]);
            if i == 11 && r["id"] != "items-filed" {
                assert_eq!(r["ok"], Value::Null, "no plan to judge: {r}");
            }
        }
        if i == 7 {
            assert_eq!(d["readable"], false);
            assert_eq!(d["rank"], Value::Null);
            let problems = d["problems"].as_array().expect("problems");
            assert!(
                problems[0].as_str().expect("text").contains("plan.yaml"),
                "{problems:?}"
            );
        } else {
            assert_eq!(d["readable"], true, "{name}: {d}");
            assert!(d["rank"].as_u64().is_some_and(|r| (1..=49).contains(&r)));
        }
        total_errors += d["errors"].as_u64().expect("errors");
    }
    assert_eq!(json["totals"]["departments"], 50);
    assert_eq!(json["totals"]["readable"], 49);
    assert_eq!(json["totals"]["errors"], total_errors);
    for total in json["totals"]["figures"].as_array().expect("figures") {
        let id = total["id"].as_str().expect("id");
        let (n, d) = departments
            .iter()
            .flat_map(|x| x["figures"].as_array().expect("figures"))
            .filter(|f| f["id"] == id)
            .fold((0, 0), |(n, d), f| {
                (
                    n + f["numerator"].as_i64().unwrap_or(0),
                    d + f["denominator"].as_i64().unwrap_or(0),
                )
            });
        assert_eq!(total["numerator"], n, "{id}");
        assert_eq!(total["denominator"], d, "{id}");
    }
    // The clean example ranks first; the departments ranked by what they miss.
    let best = departments
        .iter()
        .filter(|d| d["rank"] == 1)
        .map(|d| d["name"].as_str().unwrap_or_default())
        .collect::<Vec<_>>();
    assert!(best.iter().all(|n| {
        let i: usize = n[5..].parse().unwrap_or(0);
        i % 2 == 1
    }));
}

#[test]
fn report_formats_show_every_department_and_the_city_total() {
    let city = city(4);
    let out = spotlint_in(city.path(), &["report", ".", "--as-of", "2024-12-31"]);
    assert_eq!(out.code, 1, "{out:?}");
    for needle in [
        "情况通报（截至 2024-12-31）：4 个部门，4 个可完整读取",
        "dept-00",
        "dept-03",
        "全市合计",
        "按通知章节统计（错误/警告）：",
        "按时录入率",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:?}");
    }
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let book = elsewhere.path().join("out.xlsx");
    let out = spotlint_in(
        city.path(),
        &[
            "report",
            "dept-00",
            "dept-01",
            "--as-of",
            "2024-12-31",
            "--format",
            "xlsx",
            "--output",
            book.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let sheets = read_workbook(&book);
    assert_eq!(sheets[0].0, "情况通报");
    let rows = &sheets[0].1;
    assert_eq!(&rows[0][..3], ["排名", "部门", "路径"]);
    assert_eq!(rows[1][1], "dept-00");
    assert_eq!(rows[2][1], "dept-01");
    assert_eq!(rows[4][1], "全市合计");
    let out = spotlint_in(
        city.path(),
        &[
            "report",
            ".",
            "--as-of",
            "2024-12-31",
            "--format",
            "html",
            "--lang",
            "en",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("<!DOCTYPE html>"));
    for needle in ["dept-02", "City total", "results entered on time"] {
        assert!(out.stdout.contains(needle), "{needle}");
    }
}

/// Runs `args` with stderr on a pseudo-terminal (util-linux `script`), giving what the
/// terminal showed; None where `script` is missing.
fn on_terminal(args: &[&str]) -> Option<String> {
    let command = std::iter::once(env!("CARGO_BIN_EXE_spotlint"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &format!("{command} >/dev/null"), "/dev/null"])
        .current_dir(root())
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn progress_shows_on_a_terminal_only_and_never_in_output() {
    let args = [
        "report",
        "fixtures/demo",
        "fixtures/clean",
        "--as-of",
        "2024-12-31",
    ];
    // Piped (as in CI): no bar on stderr, none in the report.
    let piped = spotlint(&args);
    assert!(!piped.stderr.contains("检查各部门"), "{piped:?}");
    assert!(!piped.stdout.contains("检查各部门"), "{piped:?}");
    let Some(shown) = on_terminal(&args) else {
        eprintln!("note: `script` is not installed; the terminal half is not run");
        return;
    };
    assert!(shown.contains("检查各部门 ["), "{shown}");
    assert!(shown.contains("/2"), "{shown}");
    // One line naming the policy, however many departments.
    assert_eq!(shown.matches("policy: wuhan-2024").count(), 1, "{shown}");
    let quiet = on_terminal(&[&args[..], &["--no-progress"]].concat()).unwrap_or_default();
    assert!(!quiet.contains("检查各部门"), "{quiet}");
    assert!(quiet.contains("policy: wuhan-2024"), "{quiet}");
}

/// A plan without tasks gives no figures, yet it is a plan: its requirements are judged
/// (met, here), not left as "no plan to judge".
#[test]
fn report_judges_a_plan_that_has_no_tasks() {
    let clean = root().join("fixtures/clean");
    let plan = std::fs::read_to_string(clean.join("plan.yaml")).expect("plan");
    let head = &plan[..plan.find("tasks:").expect("tasks")];
    let plan = format!("{head}tasks: []\n");
    let items = std::fs::read(clean.join("items.yaml")).expect("items");
    let city = crate::util::folder(&[
        ("dept-a/plan.yaml", plan.as_bytes()),
        ("dept-a/items.yaml", &items),
        ("dept-b/items.yaml", &items),
    ]);
    let out = spotlint_in(
        city.path(),
        &["report", ".", "--format", "json", "--as-of", "2024-12-31"],
    );
    let json: Value = serde_json::from_str(&out.stdout).expect("json");
    let judged = |name: &str| -> Vec<(String, Value)> {
        json["departments"]
            .as_array()
            .expect("departments")
            .iter()
            .filter(|d| d["name"] == name)
            .flat_map(|d| d["requirements"].as_array().expect("requirements").clone())
            .filter(|r| r["id"] != "items-filed")
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or_default().to_owned(),
                    r["ok"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        judged("dept-a"),
        [
            ("plan-published".to_owned(), Value::Bool(true)),
            ("plan-executed".to_owned(), Value::Bool(true)),
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        judged("dept-b"),
        [
            ("plan-published".to_owned(), Value::Null),
            ("plan-executed".to_owned(), Value::Null),
        ]
    );
}

#[test]
fn human_report_places_each_finding_at_the_line_and_column_json_gives() {
    let files: Vec<String> = std::fs::read_dir(root().join("fixtures/demo"))
        .expect("the demo folder")
        .map(|e| {
            format!(
                "fixtures/demo/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    let dir = copies(&files.iter().map(String::as_str).collect::<Vec<_>>());
    // The object with the wrong check character written as one line, its name first:
    // the USCC follows Chinese text in its line.
    let objects = dir.path().join("objects.yaml");
    let text = std::fs::read_to_string(&objects).expect("objects.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  - uscc: 91420102MA4KXT8G34"))
        .expect("the object with the wrong check character");
    let mut changed: Vec<String> = lines[..at].iter().map(|l| l.to_string()).collect();
    changed.push(
        "  - {name: 武汉江岸区汇创广告传媒有限公司, uscc: 91420102MA4KXT8G34, entity_type: \
         enterprise, licence_category: 一般经营项目, industry: 广告经营, risk_level: B}"
            .to_owned(),
    );
    let end = lines[at + 1..]
        .iter()
        .position(|l| !l.starts_with("    "))
        .map_or(lines.len(), |i| at + 1 + i);
    changed.extend(lines[end..].iter().map(|l| l.to_string()));
    std::fs::write(&objects, changed.join("\n") + "\n").expect("write");

    let run = |format: &str| {
        spotlint_in(
            dir.path(),
            &["check", ".", "--format", format, "--as-of", "2024-12-31"],
        )
    };
    let json: Value = serde_json::from_str(&run("json").stdout).expect("one JSON object");
    let from_json: BTreeSet<String> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["line"].as_u64().is_some())
        .map(|d| {
            let file = d["file"].as_str().expect("file");
            let file = file.strip_prefix("./").unwrap_or(file);
            format!("{file}:{}:{}", d["line"], d["column"])
        })
        .collect();
    assert!(
        from_json.contains(&format!("objects.yaml:{}:35", at + 1)),
        "the USCC is the 35th character of its line: {from_json:?}"
    );
    let human = run("human").stdout;
    let from_human: BTreeSet<String> = human
        .lines()
        .filter_map(|l| Some(l.split_once("─[")?.1.strip_suffix(']')?.to_owned()))
        .map(|place| place.strip_prefix("./").unwrap_or(&place).to_owned())
        .collect();
    assert_eq!(from_human, from_json, "{human}");
}
