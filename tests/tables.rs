//! Tables: a GBK CSV with Chinese headers and an XLSX workbook holding the same records
//! as a YAML fixture give the same findings, positioned by row and column.

use crate::util::{check_json, folder, positions, spotlint, spotlint_in};

fn findings(path: &str) -> Vec<(String, String, u64, u64)> {
    let out = spotlint(&["check", path, "--format", "json", "--as-of", "2024-12-31"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    positions(&json)
}

#[test]
fn gbk_csv_and_xlsx_give_the_yaml_findings_at_their_cells() {
    let yaml = findings("fixtures/rules/result-entry-deadline/fail/results.yaml");
    let csv = findings("fixtures/tables/results-gbk.csv");
    let xlsx = findings("fixtures/tables/results.xlsx");
    let rules =
        |f: &[(String, String, u64, u64)]| f.iter().map(|d| d.0.clone()).collect::<Vec<_>>();
    assert_eq!(rules(&csv), rules(&yaml));
    assert_eq!(rules(&xlsx), rules(&yaml));
    // One record per row (row 1 is the header): the late entries of records 1–4 sit on rows 2–5.
    let rows = |f: &[(String, String, u64, u64)]| {
        f.iter()
            .filter(|d| d.0 == "result-entry-deadline")
            .map(|d| d.2)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&csv), [2, 3, 4, 5]);
    assert_eq!(rows(&xlsx), [2, 3, 4, 5]);
    assert!(csv.iter().all(|d| d.1 == "fixtures/tables/results-gbk.csv"));
    assert!(xlsx
        .iter()
        .all(|d| d.1 == "fixtures/tables/results.xlsx!Sheet1"));
    let text = std::fs::read("fixtures/tables/results-gbk.csv").expect("fixture");
    let (decoded, _, _) = encoding_rs::GB18030.decode(&text);
    let line = decoded.lines().nth(1).expect("row 2");
    let (_, _, _, column) = csv
        .iter()
        .find(|d| d.0 == "result-entry-deadline")
        .expect("a late entry")
        .clone();
    let cell: String = line
        .chars()
        .skip(column as usize - 1)
        .take_while(|c| *c != ',')
        .collect();
    assert_eq!(cell, "2024/5/31", "the column points at the 录入日期 cell");
}

#[test]
fn published_plan_tables_load_as_plans() {
    for table in [
        "linyi-2023.csv",
        "changzhi-2024.csv",
        "fenyang-2021.csv",
        "fenyang-2021.xlsx",
        "beijing-2016.csv",
    ] {
        let path = format!("fixtures/tables/plans/{table}");
        let out = spotlint(&["check", &path, "--format", "json", "--as-of", "2024-12-31"]);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(
            json["summary"]["input_errors"], 0,
            "{table}: {}",
            json["diagnostics"]
        );
        assert_eq!(json["summary"]["documents"], 1, "{table}");
    }
    // The whole folder: sidecars are not documents.
    let out = spotlint(&[
        "check",
        "fixtures/tables/plans",
        "--format",
        "json",
        "--as-of",
        "2024-12-31",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        json["summary"]["input_errors"], 0,
        "{}",
        json["diagnostics"]
    );
}

#[test]
fn a_published_plan_and_item_list_are_joined_by_their_texts() {
    // No sidecars: department and year come from the title rows. The plan names
    // items by text — numbered, with other brackets and spacing, two in one cell.
    let out = spotlint(&[
        "check",
        "fixtures/tables/joined",
        "--format",
        "json",
        "--as-of",
        "2024-12-31",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        json["summary"]["input_errors"], 0,
        "{}",
        json["diagnostics"]
    );
    let coverage: Vec<_> = positions(&json)
        .into_iter()
        .filter(|d| d.0 == "plan-item-coverage")
        .collect();
    assert_eq!(
        coverage,
        [
            // 特种设备… is in no task.
            (
                "plan-item-coverage".to_owned(),
                "fixtures/tables/joined/items.csv".to_owned(),
                5,
                1
            ),
            // 广告发布行为的检查 is in no item list.
            (
                "plan-item-coverage".to_owned(),
                "fixtures/tables/joined/plan.csv".to_owned(),
                5,
                8
            ),
        ]
    );
}

/// A worksheet: its name, rows of cells, and merged ranges such as `A1:H1`.
type Sheet<'a> = (&'a str, Vec<Vec<&'a str>>, &'a [&'a str]);

/// A workbook of `sheets`.
fn workbook(sheets: &[Sheet]) -> Vec<u8> {
    use std::io::Write;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, text: String| {
        zip.start_file(name, stored).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    };
    let overrides: String = (1..=sheets.len())
        .map(|i| format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
        .collect();
    put("[Content_Types].xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>{overrides}</Types>"));
    put("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".to_owned());
    let names: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| {
            format!(
                "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
                escape(name),
                i + 1,
                i + 1
            )
        })
        .collect();
    put("xl/workbook.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{names}</sheets></workbook>"));
    let rels: String = (1..=sheets.len())
        .map(|i| format!("<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"))
        .collect();
    put("xl/_rels/workbook.xml.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"));
    for (i, (_, rows, merges)) in sheets.iter().enumerate() {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!("<row r=\"{}\">", r + 1));
            for (c, text) in row.iter().enumerate() {
                if text.is_empty() {
                    continue;
                }
                let col = (b'A' + c as u8) as char;
                data.push_str(&format!(
                    "<c r=\"{col}{}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                    r + 1,
                    escape(text)
                ));
            }
            data.push_str("</row>");
        }
        let merged: String = merges
            .iter()
            .map(|m| format!("<mergeCell ref=\"{m}\"/>"))
            .collect();
        let merged = if merges.is_empty() {
            String::new()
        } else {
            format!(
                "<mergeCells count=\"{}\">{merged}</mergeCells>",
                merges.len()
            )
        };
        put(&format!("xl/worksheets/sheet{}.xml", i + 1), format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{data}</sheetData>{merged}</worksheet>"));
    }
    zip.finish().expect("zip").into_inner()
}

/// The converted YAML of `file` in `dir` (sidecar beside it), and `check`'s JSON.
fn converted_and_checked(dir: &std::path::Path, file: &str) -> (String, serde_json::Value) {
    let out = spotlint_in(dir, &["convert", file]);
    assert_eq!(out.code, 0, "{out:?}");
    let (_, json) = check_json(dir, &[]);
    (out.stdout, json)
}

#[test]
fn header_sets_not_in_the_repository_load_as_csv() {
    // Headers of no fixture: line breaks, full-width brackets, spaces, a typo, a
    // weaker and a stronger task column, ratios per class, a deadline, GB18030 + CRLF.
    let table = "XX市交通运输局2025年度“双随机、一公开”抽查工作计划,,,,,,,,,\r\n\
        填报单位（盖章）：XX市交通运输局,,,,,,,,,\r\n\
        编号,抽查领域,\"抽查任务\r\n名称\",抽查事项（内容）,被检查对象,\"抽查比率\r\n（%）\",抽查频率,\"实施\r\n时段\",牵头科室,协同 部门,备 注\r\n\
        1,道路运输,道路运输企业检查,道路运输经营资质检查,道路运输企业,不低于5%,每年1次,第二、三季度,运输科,市场监管局,\r\n\
        2,道路运输,机动车维修检查,机动车维修经营备案检查,机动车维修企业,3%-5%,每半年一次,2025年4月至10月,维修科,,\r\n\
        3,客运,出租汽车检查,出租车经营行为检查,巡游出租汽车企业,A类2%、B类3%、C类5%、D类10%,=1,7月底前,客运科,公安局、市场监管局,重点\r\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(table);
    let sidecar = "department: XX市交通运输局\nyear: 2025\n";
    let dir = folder(&[
        ("plan.csv", &gbk),
        ("plan.columns.yaml", sidecar.as_bytes()),
    ]);
    let (yaml, json) = converted_and_checked(dir.path(), "plan.csv");
    assert_eq!(
        json["summary"]["input_errors"], 0,
        "{}",
        json["diagnostics"]
    );
    for line in [
        "    name: \"道路运输企业检查\"  # C4",
        "    ratio: 0.05  # F4: 不低于5%",
        "    frequency: 1  # G4: 每年1次",
        "    start: \"2025-04-01\"  # H4: 第二、三季度",
        "    end: \"2025-09-30\"  # H4: 第二、三季度",
        "    lead: \"运输科\"  # I4",
        "      - \"市场监管局\"  # J4",
        "    ratio_max: 0.05  # F5: 3%-5%",
        "    frequency: 2  # G5: 每半年一次",
        "        D: 0.1  # F6: A类2%、B类3%、C类5%、D类10%",
        "    end: \"2025-07-31\"  # H6: 7月底前",
        "      \"抽查领域\": \"客运\"  # B6",
        "      \"备 注\": \"重点\"  # K6",
    ] {
        assert!(yaml.contains(line), "{line}\n{yaml}");
    }
}

#[test]
fn header_sets_not_in_the_repository_load_as_workbooks_with_merged_cells() {
    let title = "YY县农业农村局2024年度部门联合“双随机、一公开”抽查计划";
    let plan = vec![
        vec![title, "", "", "", "", "", "", ""],
        vec![
            "序号",
            "抽查项目",
            "",
            "抽查对象",
            "抽查比列",
            "发起部门",
            "配合部门",
            "时间安排",
        ],
        vec!["", "项目名称", "检查内容", "", "", "", "", ""],
        vec![
            "1",
            "种子质量检查",
            "种子标签检查",
            "种子经营者",
            "5%",
            "县农业农村局",
            "县市场监管局",
            "3-6月",
        ],
        vec!["", "", "种子档案检查", "", "", "", "县公安局", ""],
        vec![
            "2",
            "农药检查",
            "农药经营许可检查",
            "农药经营者",
            "不少于3家",
            "",
            "县市场监管局",
            "2024年7月",
        ],
        vec![
            "3",
            "兽药检查",
            "兽药标签检查",
            "兽药经营者",
            "10%",
            "",
            "",
            "全年",
        ],
    ];
    let merges: &[&str] = &[
        "A1:H1", "A2:A3", "B2:C2", "D2:D3", "E2:E3", "F2:F3", "G2:G3", "H2:H3",
        // Task 1 spans two rows; one lead for all tasks; a ratio, objects and period
        // merged down the first task.
        "A4:A5", "B4:B5", "D4:D5", "E4:E5", "H4:H5", "F4:F7",
    ];
    let notes = vec![vec!["填表说明：本表由各股室填写，年初报送。"]];
    let second = vec![
        vec!["序号", "抽查事项", "检查对象", "抽查比例", "发起部门"],
        vec!["1", "饲料质量检查", "饲料经营者", "5%", "县农业农村局"],
    ];
    let bytes = workbook(&[
        ("计划", plan, merges),
        ("填表说明", notes, &[]),
        ("补充", second, &[]),
    ]);
    let sidecar = "department: YY县农业农村局\nyear: 2024\n";
    let dir = folder(&[
        ("plan.xlsx", &bytes),
        ("plan.columns.yaml", sidecar.as_bytes()),
    ]);
    let (yaml, json) = converted_and_checked(dir.path(), "plan.xlsx");
    assert_eq!(
        json["summary"]["input_errors"], 0,
        "{}",
        json["diagnostics"]
    );
    // Two sheets read, the instructions skipped.
    assert_eq!(json["summary"]["documents"], 2, "{yaml}");
    for line in [
        "scope: \"joint\"",
        "  - id: \"1\"  # A4",
        "    name: \"种子质量检查\"  # B4",
        "    lead: \"县农业农村局\"  # F4",
        "      - \"县市场监管局\"  # G4",
        "      - \"县公安局\"  # G5",
        "      - \"种子档案检查\"  # C5",
        "    ratio: 0.05  # E4: 5%",
        "    end: \"2024-06-30\"  # H4: 3-6月",
        // The merged lead, read in every task it spans, at its cell.
        "    lead: \"县农业农村局\"  # F4",
        "    count: 3  # E6: 不少于3家",
        "    start: \"2024-07-01\"  # H6: 2024年7月",
        "    end: \"2024-12-31\"  # H7: 全年",
        "      - \"饲料质量检查\"  # B2",
    ] {
        assert!(yaml.contains(line), "{line}\n{yaml}");
    }
    // Task 3 has no partner: a blank cell outside merged regions is blank.
    let task3 = yaml.split("  - id: \"3\"").nth(1).expect("task 3");
    let task3 = task3.split("---").next().unwrap_or_default();
    assert!(!task3.contains("partners"), "{task3}");
}

#[test]
fn a_policy_vocabulary_reads_headers_the_shipped_one_does_not() {
    let table = "序号,抽查事项,检查对象,计划抽检率,检查层级\n1,事项甲,企业,5%,区级\n";
    let words = "kind: Vocabulary\nplan:\n  headers:\n    ratio: [计划抽检率]\n";
    let policy = format!(
        "kind: Policy\nid: own\ntitle: {{zh: 自定义, en: Own}}\nsource: test\nnotice: test\n\
         extends: {}\nvocabulary: words.yaml\n",
        crate::util::root()
            .join("policies/wuhan-2024.yaml")
            .display()
    );
    let dir = folder(&[
        ("plan.csv", table.as_bytes()),
        (
            "plan.columns.yaml",
            "department: 甲局\nyear: 2024\n".as_bytes(),
        ),
        ("words.yaml", words.as_bytes()),
        ("policy.yaml", policy.as_bytes()),
    ]);
    let shipped = spotlint_in(dir.path(), &["convert", "plan.csv"]);
    assert!(
        shipped.stdout.contains("\"计划抽检率\": \"5%\"  # D2"),
        "{shipped:?}"
    );
    let own = spotlint_in(
        dir.path(),
        &["convert", "plan.csv", "--policy", "policy.yaml"],
    );
    assert!(own.stdout.contains("ratio: 0.05  # D2: 5%"), "{own:?}");
    // `check --policy` reads the tables with it: no task lacks its ratio.
    let (_, json) = check_json(dir.path(), &["--policy", "policy.yaml"]);
    assert_eq!(
        json["summary"]["input_errors"], 0,
        "{}",
        json["diagnostics"]
    );
    let lacking: Vec<_> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "plan-task-fields")
        .collect();
    assert!(lacking.is_empty(), "{lacking:?}");
    // A broken vocabulary is the policy's error, in its file.
    let dir = folder(&[
        (
            "words.yaml",
            "kind: Vocabulary\nplan:\n  headers:\n    rato: [x]\n".as_bytes(),
        ),
        ("policy.yaml", policy.as_bytes()),
    ]);
    let out = spotlint_in(dir.path(), &["policy", "check", "policy.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("did you mean `ratio`"), "{out:?}");
}

/// Files are read side by side; what is said of each on stderr ("read as GB18030") comes
/// in file order all the same, run after run.
#[test]
fn notes_on_how_files_were_read_come_in_file_order() {
    for _ in 0..3 {
        let out = spotlint(&[
            "check",
            "fixtures/tables",
            "--format",
            "json",
            "--as-of",
            "2024-12-31",
        ]);
        let read_as: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.ends_with(": read as GB18030"))
            .collect();
        assert!(read_as.len() >= 5, "{out:?}");
        let mut sorted = read_as.clone();
        sorted.sort();
        assert_eq!(read_as, sorted, "{out:?}");
    }
}
