//! `spotlint convert`: every fixture table as the document the rules see (snapshots),
//! and checking the converted YAML finds what checking the table finds.

use std::path::{Path, PathBuf};

use clap::Parser;
use spotlint::cli::{self, Cli};
use spotlint::commands::check::{self, CheckOptions, PolicyChoice};
use spotlint::report::Style;

use crate::util::{folder, root};

/// Every table under fixtures/tables (sidecars are no tables).
fn fixture_tables() -> Vec<PathBuf> {
    let mut tables = Vec::new();
    let mut dirs = vec![root().join("fixtures/tables")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures/tables") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("csv" | "xlsx")
            ) {
                tables.push(path.strip_prefix(root()).expect("under root").to_path_buf());
            }
        }
    }
    tables.sort();
    tables
}

/// `spotlint convert ARGS…`, run in this process: (exit code, stdout).
fn convert(args: &[&str]) -> (i32, String) {
    let mut argv = vec!["spotlint", "convert"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments");
    let mut out = Vec::new();
    let code = cli::run(
        cli.command,
        &mut out,
        Style {
            color: false,
            width: 100,
        },
    );
    (code, String::from_utf8(out).expect("UTF-8"))
}

#[test]
fn every_fixture_table_converts_as_snapshotted() {
    let tables = fixture_tables();
    assert!(tables.len() >= 47, "{} tables", tables.len());
    for table in tables {
        let shown = table.display().to_string();
        let (code, yaml) = convert(&[&shown]);
        assert_eq!(code, 0, "{shown}");
        let name = shown
            .trim_start_matches("fixtures/tables/")
            .replace('/', "-");
        insta::assert_snapshot!(name, yaml);
    }
}

#[test]
fn json_keeps_the_order_of_the_document() {
    let (code, json) = convert(&["--to", "json", "fixtures/tables/plans/linyi-2023.csv"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(value["kind"], "Plan");
    assert_eq!(value["tasks"][0]["ratio"], 0.05);
    let kind_at = json.find("\"kind\"").expect("kind");
    let tasks_at = json.find("\"tasks\"").expect("tasks");
    assert!(kind_at < tasks_at);
}

/// (rule, severity, message) of every finding of a check, sorted.
fn findings(path: &Path) -> Vec<(String, String, String)> {
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let options = CheckOptions::new(vec![path.to_path_buf()], PolicyChoice::Shipped, as_of);
    let outcome = check::run(&options);
    let json = spotlint::report::to_json(&outcome.report, spotlint::diag::Lang::En);
    let mut found: Vec<(String, String, String)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["severity"].as_str().unwrap_or_default().to_owned(),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn checking_the_converted_yaml_finds_what_checking_the_table_finds() {
    let mut compared = 0;
    for table in fixture_tables() {
        let shown = table.display().to_string();
        let (code, yaml) = convert(&[&shown]);
        assert_eq!(code, 0, "{shown}");
        let dir = folder(&[("converted.yaml", yaml.as_bytes())]);
        let from_table = findings(&root().join(&table));
        let from_yaml = findings(&dir.path().join("converted.yaml"));
        assert!(
            from_table.iter().all(|f| !f.0.starts_with("input/")),
            "{shown}: {from_table:#?}"
        );
        assert_eq!(from_yaml, from_table, "{shown}");
        compared += 1;
    }
    assert!(compared >= 47);
}
