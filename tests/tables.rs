//! Tables: a GBK CSV with Chinese headers and an XLSX workbook holding the same records
//! as a YAML fixture give the same findings, positioned by row and column.

use crate::util::{positions, spotlint};

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
