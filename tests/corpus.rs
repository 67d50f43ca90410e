//! The corpus of published tables (`fixtures/tables/corpus`, 32 publishers): every
//! table loads with only its department and year given, and every column is read with
//! the meaning a person reading the table gives it (the ground truth of EXPECTED.md,
//! written out here).

use spotlint::read::table::{column_meanings, ReadOptions};

use crate::util::spotlint;

/// Table, kind, and the meaning of each column in order.
const GROUND_TRUTH: &[(&str, &str, &[&str])] = &[
    (
        "wangcang-nyncj-2021-plan",
        "Plan",
        &[
            "note",
            "task",
            "items",
            "objects",
            "item_category",
            "lead",
            "ratio",
            "period",
            "note",
        ],
    ),
    (
        "gangcheng-nyncj-2021-plan",
        "Plan",
        &[
            "note",
            "items",
            "objects",
            "item_category",
            "ratio_and_frequency",
            "count",
            "period",
            "lead",
        ],
    ),
    (
        "liaocheng-nyncj-2023-plan",
        "Plan",
        &[
            "note",
            "task",
            "items",
            "objects",
            "item_category",
            "ratio_and_frequency",
            "period",
            "note",
            "lead",
        ],
    ),
    (
        "zaozhuang-nyncj-2025-plan",
        "Plan",
        &[
            "note",
            "items",
            "note",
            "objects",
            "item_category",
            "ratio_and_frequency",
            "period",
            "lead",
        ],
    ),
    (
        "pingjiang-nyncj-2022-items",
        "ItemList",
        &[
            "item_id",
            "item_name",
            "basis",
            "implementing_body",
            "objects",
            "note",
            "ratio",
            "frequency",
            "period",
        ],
    ),
    (
        "chuxiong-nyncj-2021-plan",
        "Plan",
        &[
            "note", "lead", "task", "items", "objects", "ratio", "period", "method", "basis",
            "level", "note",
        ],
    ),
    (
        "wuwei-2023-yiyeyicha",
        "Plan",
        &[
            "note", "note", "task", "partners", "items", "objects", "level", "note", "ratio",
            "period", "note", "ratio",
        ],
    ),
    (
        "bozhou-2024-yiyeyicha",
        "Plan",
        &[
            "note", "note", "lead", "task", "partners", "items", "objects", "level", "note",
            "ratio", "period", "note",
        ],
    ),
    (
        "shijiazhuang-wglj-2023-plan",
        "Plan",
        &[
            "note", "note", "note", "task", "note", "ratio", "items", "objects", "lead",
            "partners", "period",
        ],
    ),
    (
        "huairou-wlj-2020-items",
        "ItemList",
        &[
            "item_id",
            "item_name",
            "basis",
            "objects",
            "note",
            "ratio",
            "frequency",
            "method",
            "implementing_body",
            "period",
        ],
    ),
    (
        "jining-gxq-xfjy-2024-plan",
        "Plan",
        &[
            "note",
            "task",
            "note",
            "items",
            "objects",
            "item_category",
            "ratio_and_frequency",
            "period",
        ],
    ),
    (
        "qingshan-sthj-2025-plan",
        "Plan",
        &[
            "note", "note", "task", "objects", "ratio", "method", "level", "items", "period",
            "note",
        ],
    ),
    (
        "guangzhou-jyj-2021-plan",
        "Plan",
        &[
            "note", "task", "note", "items", "objects", "period", "period", "count", "ratio",
            "lead",
        ],
    ),
    (
        "huaxian-jyj-2022-items",
        "ItemList",
        &[
            "note",
            "implementing_body",
            "item_id",
            "item_name",
            "basis",
            "note",
            "note",
        ],
    ),
    (
        "zichuan-jyty-2023-items",
        "ItemList",
        &[
            "item_id",
            "note",
            "item_name",
            "note",
            "objects",
            "category",
            "method",
            "ratio_and_frequency",
            "implementing_body",
            "basis",
        ],
    ),
    (
        "huangshi-zrzy-2024-joint",
        "Plan",
        &[
            "note",
            "task",
            "items",
            "objects",
            "lead",
            "partners",
            "ratio",
            "frequency",
            "period",
        ],
    ),
    (
        "laiyang-zrzy-2022-plan",
        "Plan",
        &[
            "note",
            "items",
            "objects",
            "note",
            "item_category",
            "ratio_and_frequency",
            "count",
            "period",
            "lead",
        ],
    ),
    (
        "zibo-zrzy-2022-items",
        "ItemList",
        &[
            "item_id",
            "implementing_body",
            "note",
            "item_name",
            "note",
            "objects",
            "category",
            "method",
            "ratio_and_frequency",
            "level",
            "basis",
        ],
    ),
    (
        "wangcang-lyj-2022-plan",
        "Plan",
        &[
            "note",
            "items",
            "note",
            "objects",
            "note",
            "period",
            "ratio_and_frequency",
            "lead",
            "partners",
        ],
    ),
    (
        "shanggao-scjg-2023-plan",
        "Plan",
        &[
            "note",
            "lead",
            "task",
            "items",
            "period",
            "note",
            "ratio",
            "frequency",
            "count",
        ],
    ),
    (
        "huashan-czj-2021-plan",
        "Plan",
        &[
            "note", "task", "items", "note", "lead", "objects", "note", "ratio", "note", "period",
            "note",
        ],
    ),
    (
        "taishan-wjj-2021-plan",
        "Plan",
        &[
            "task", "period", "period", "note", "partners", "objects", "ratio",
        ],
    ),
    (
        "baojing-wjj-2022-items",
        "ItemList",
        &[
            "item_id",
            "category",
            "item_name",
            "objects",
            "category",
            "method",
            "implementing_body",
            "basis",
            "note",
            "ratio",
            "period",
            "note",
        ],
    ),
    (
        "luozhuang-zjj-2022-plan",
        "Plan",
        &[
            "note",
            "lead",
            "objects",
            "items",
            "note",
            "item_category",
            "ratio_and_frequency",
            "period",
        ],
    ),
    (
        "xianning-zjj-2021-items",
        "ItemList",
        &[
            "item_id",
            "item_name",
            "basis",
            "implementing_body",
            "objects",
            "ratio",
            "frequency",
            "method",
            "note",
            "note",
        ],
    ),
    (
        "yangjiang-2025-plan",
        "Plan",
        &[
            "note", "task", "note", "items", "objects", "ratio", "count", "period", "lead",
        ],
    ),
    (
        "yibin-swj-2023-joint",
        "Plan",
        &[
            "note", "task", "items", "objects", "note", "count", "ratio", "method", "level",
            "level", "period", "period", "period", "lead", "partners", "note",
        ],
    ),
    (
        "luan-slj-2023-yiyeyicha",
        "Plan",
        &[
            "note", "task", "lead", "partners", "note", "note", "ratio", "note", "count", "note",
            "period", "note", "note",
        ],
    ),
    (
        "xiaogan-sthj-2024-items",
        "ItemList",
        &[
            "item_id",
            "implementing_body",
            "item_name",
            "note",
            "objects",
            "category",
            "method",
            "ratio_and_frequency",
            "level",
            "basis",
            "note",
        ],
    ),
    (
        "chongqing-scjg-2024-plan",
        "Plan",
        &[
            "note",
            "task",
            "items",
            "objects",
            "item_category",
            "count",
            "ratio",
            "period",
            "level",
            "lead",
            "note",
        ],
    ),
    (
        "wuhankfq-2022-joint",
        "Plan",
        &[
            "note", "task", "items", "objects", "ratio", "lead", "partners", "level",
        ],
    ),
    (
        "county-masked-2026-joint",
        "Plan",
        &[
            "note", "task", "note", "objects", "lead", "partners", "ratio", "method", "period",
            "items",
        ],
    ),
];

/// The meanings of the ground truth for the reader's finer ones: 序号 numbers the
/// rows (a note to a reader), start and end are parts of a period.
fn as_ground_truth(meaning: &str) -> &str {
    match meaning {
        "row" => "note",
        "start" | "end" => "period",
        other => other,
    }
}

#[test]
fn every_corpus_table_loads_without_input_errors() {
    let out = spotlint(&[
        "check",
        "fixtures/tables/corpus",
        "--format",
        "json",
        "--as-of",
        "2026-12-31",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let input: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["origin"] != "finding")
        .collect();
    assert!(input.is_empty(), "{input:#?}");
    assert_eq!(json["summary"]["input_errors"], 0);
    // 32 tables, 8 of them also as workbooks.
    assert_eq!(json["summary"]["documents"], 40, "{}", out.stderr);
}

#[test]
fn every_column_means_what_the_ground_truth_says() {
    let mut mismatches = Vec::new();
    let (mut columns, mut right) = (0, 0);
    for (table, kind, truth) in GROUND_TRUTH {
        for ext in ["csv", "xlsx"] {
            let path = format!("fixtures/tables/corpus/{table}.{ext}");
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let read = column_meanings(&path, &bytes, ext == "xlsx", &ReadOptions::default())
                .unwrap_or_else(|e| {
                    panic!(
                        "{path}: {:?}",
                        e.iter().map(|e| &e.error).collect::<Vec<_>>()
                    )
                });
            assert_eq!(read.len(), 1, "{path}: one table");
            let read = &read[0];
            if read.kind != *kind {
                mismatches.push(format!("{path}: read as {} not {kind}", read.kind));
            }
            if read.columns.len() != truth.len() {
                mismatches.push(format!(
                    "{path}: {} columns read, {} in the ground truth: {:?}",
                    read.columns.len(),
                    truth.len(),
                    read.columns
                ));
                continue;
            }
            for ((header, meaning), want) in read.columns.iter().zip(truth.iter()) {
                columns += 1;
                if as_ground_truth(meaning) == *want {
                    right += 1;
                } else {
                    mismatches.push(format!("{path}: `{header}` read as {meaning}, not {want}"));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{right} of {columns} columns right:\n{}",
        mismatches.join("\n")
    );
    assert!(columns > 300, "{columns} columns compared");
    eprintln!("{right} of {columns} columns read as the ground truth says");
}
