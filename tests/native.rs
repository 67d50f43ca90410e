//! Native equivalents of shipped scripts must give what the scripts give: every fixture
//! is checked both ways and the reports (diagnostics, positions, messages, figures)
//! must be identical.

use std::path::{Path, PathBuf};

use spotlint::commands::check::{self, CheckOptions, PolicyChoice};
use spotlint::diag::Lang;

use crate::util::root;

fn report_json(dir: &Path, native: bool, chunk_rows: usize) -> serde_json::Value {
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options = CheckOptions::new(vec![dir.to_path_buf()], PolicyChoice::Shipped, as_of);
    options.native = native;
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
    // Inputs written for native rules: fixtures/native/<group>/<set>.
    if let Ok(groups) = std::fs::read_dir(fixtures.join("native")) {
        for group in groups {
            let group = group.expect("entry").path();
            let Ok(inputs) = std::fs::read_dir(&group) else {
                continue;
            };
            for input in inputs {
                let input = input.expect("entry").path();
                if input.is_dir() {
                    sets.push(input);
                }
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
fn native_rules_report_exactly_what_their_scripts_report() {
    let mut compared = 0;
    for set in fixture_sets() {
        if !set.exists() {
            continue;
        }
        let scripted = report_json(&set, false, 16_384);
        let scripted = serde_json::to_string_pretty(&scripted).expect("json");
        // Streamed tables are cut into chunks of two rows, so that groups span chunks.
        for chunk_rows in [16_384, 2] {
            let native = report_json(&set, true, chunk_rows);
            assert_eq!(
                serde_json::to_string_pretty(&native).expect("json"),
                scripted,
                "native and scripted runs differ on {} (chunks of {chunk_rows} rows)",
                set.display()
            );
        }
        compared += 1;
    }
    assert!(compared > 60, "only {compared} fixture sets compared");
}

#[test]
fn a_streamed_table_stops_the_rule_at_a_year_the_calendar_lacks() {
    let csv = "department,year,task,object,inspectors,finished_on,entered_on\n\
        江岸区市场监管局,2024,JA-1,O1,P1;P2,2024-04-30,2024-05-31\n\
        江岸区市场监管局,2024,JA-1,O2,P1;P2,2024-04-30,2024-05-30\n\
        江岸区市场监管局,2024,JA-1,O3,P1;P2,2031-04-30,2031-05-30\n\
        江岸区市场监管局,2024,JA-1,O4,P1;P2,2024-04-30,2024-05-31\n";
    let dir = crate::util::folder(&[("results.csv", csv.as_bytes())]);
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options =
        CheckOptions::new(vec![dir.path().to_path_buf()], PolicyChoice::Shipped, as_of);
    options.chunk_rows = 2;
    let report = check::run(&options).report;
    let found: Vec<(&str, usize, usize)> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.contains("calendar") || d.rule == "result-entry-deadline")
        .map(|d| (d.rule.as_str(), d.line, d.column))
        .collect();
    assert_eq!(found, [("calendar/missing-year", 4, 1)]);
    assert_eq!(report.exit_code(spotlint::diag::Severity::Error), 2);
}

#[test]
fn a_results_rule_with_its_own_script_reads_tables_whole_and_says_so() {
    let policy = format!(
        "kind: Policy\nid: own\ntitle: {{zh: 自定义, en: Own}}\nsource: test\nnotice: test\n\
         extends: {}\nrules:\n\
         \x20 - id: own-object-given\n\
         \x20   title: {{zh: 缺少检查对象, en: No object}}\n\
         \x20   clause: 三\n\
         \x20   quote: 检查对象\n\
         \x20   severity: error\n\
         \x20   on: [Results]\n\
         \x20   each: record\n\
         \x20   script: own.rhai\n\
         \x20   message: {{zh: 缺少检查对象, en: no object}}\n\
         \x20   help: {{zh: 填写检查对象, en: give the object}}\n",
        root().join("policies/wuhan-2024.yaml").display()
    );
    let script = "//! ## What it does\n//! Needs an object.\nfn check(r, ctx) {\n    if r.object == () { ctx.report(r, \"\", #{}); }\n}\n";
    let csv = "department,year,task,object,finished_on\n\
        江岸区市场监管局,2024,JA-1,O1,2024-04-30\n\
        江岸区市场监管局,2024,JA-1,,2024-04-30\n";
    let dir = crate::util::folder(&[
        ("policy/own.yaml", policy.as_bytes()),
        ("policy/own.rhai", script.as_bytes()),
        ("data/results.csv", csv.as_bytes()),
    ]);
    let out = crate::util::spotlint_in(
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
        ],
    );
    assert!(
        out.stderr.contains(
            "data/results.csv is read whole, not streamed: rule `own-object-given` reads results with its own script"
        ),
        "{out:?}"
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let own: Vec<(i64, i64)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "own-object-given")
        .map(|d| {
            (
                d["line"].as_i64().unwrap_or(0),
                d["column"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(own, [(3, 1)], "{out:?}");
}
