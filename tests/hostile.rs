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
