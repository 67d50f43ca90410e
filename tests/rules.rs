//! Every rule of the shipped policies against its passing and failing fixtures:
//! `fixtures/rules/<rule>/{pass,fail}/`. Lines that must be flagged carry
//! `# expect: <rule>`; the exact findings (file, line, column, message) are snapshots.

use std::collections::BTreeSet;
use std::path::Path;

use spotlint::commands::check::{self, CheckOptions, PolicyChoice};
use spotlint::diag::{Lang, Origin};

use crate::util::root;

fn options(dir: &Path) -> CheckOptions {
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    CheckOptions::new(vec![dir.to_path_buf()], PolicyChoice::Shipped, as_of)
}

/// (file, line) of every `# expect: <rule>` marker under `dir`.
fn expected_lines(dir: &Path, rule: &str) -> BTreeSet<(String, usize)> {
    let marker = format!("# expect: {rule}");
    let mut expected = BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk fixtures");
        if !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("fixture is UTF-8");
        for (i, line) in text.lines().enumerate() {
            if line.trim_end().ends_with(&marker) {
                expected.insert((entry.path().display().to_string(), i + 1));
            }
        }
    }
    expected
}

#[test]
fn every_rule_has_docs_and_fixtures_and_flags_exactly_the_marked_lines() {
    let policy = check::load_policy(&PolicyChoice::Shipped).expect("the shipped policy loads");
    let rules_dir = root().join("fixtures/rules");
    let mut failures = Vec::new();
    for rule in &policy.rules {
        for heading in [
            "## What it does",
            "## Why",
            "## Example",
            "## Use instead",
            "## Parameters",
        ] {
            if !rule.doc.contains(heading) {
                failures.push(format!(
                    "{}: the script's //! docs lack `{heading}`",
                    rule.id
                ));
            }
        }
        let pass = rules_dir.join(&rule.id).join("pass");
        let fail = rules_dir.join(&rule.id).join("fail");
        if !pass.is_dir() || !fail.is_dir() {
            failures.push(format!(
                "{}: missing fixtures/rules/{}/pass or /fail",
                rule.id, rule.id
            ));
            continue;
        }
        for (dir, must_flag) in [(&pass, false), (&fail, true)] {
            let report = check::run(&options(dir)).report;
            let problems: Vec<_> = report
                .diagnostics
                .iter()
                .filter(|d| d.origin != Origin::Finding)
                .collect();
            if !problems.is_empty() {
                failures.push(format!(
                    "{}: {} has input/tool errors: {:?}",
                    rule.id,
                    dir.display(),
                    problems
                        .iter()
                        .map(|d| d.message.en.clone())
                        .collect::<Vec<_>>()
                ));
            }
            let found: Vec<_> = report
                .diagnostics
                .iter()
                .filter(|d| d.rule == rule.id)
                .collect();
            let found_lines: BTreeSet<(String, usize)> =
                found.iter().map(|d| (d.file.to_string(), d.line)).collect();
            let expected = expected_lines(dir, &rule.id);
            if must_flag && expected.is_empty() {
                failures.push(format!("{}: the failing fixture marks no line", rule.id));
            }
            if found_lines != expected {
                failures.push(format!(
                    "{}: {}\n  expected {:?}\n  found    {:?}",
                    rule.id,
                    dir.display(),
                    expected,
                    found_lines
                ));
            }
            if must_flag {
                let shown: Vec<String> = found
                    .iter()
                    .map(|d| {
                        let file = Path::new(&d.file)
                            .strip_prefix(root())
                            .map(|p| p.display().to_string())
                            .unwrap_or(d.file.to_string());
                        format!(
                            "{}:{}:{} {} [{}]\n  zh: {}\n  en: {}",
                            file,
                            d.line,
                            d.column,
                            d.rule,
                            d.severity.as_str(),
                            d.message.get(Lang::Zh),
                            d.message.get(Lang::En)
                        )
                    })
                    .collect();
                insta::assert_snapshot!(format!("rule__{}", rule.id), shown.join("\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
