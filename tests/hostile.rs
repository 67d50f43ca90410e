//! Careless and hostile input: nothing checked is never a pass, limits are refused
//! up front, and figures never read as meeting a threshold they miss.

use crate::util::{folder, spotlint_in};

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
    let out = spotlint_in(dir.path(), &["check", ".", "--max-operations", "0"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--max-operations"), "{out:?}");
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
}
