//! Bad input never panics and never passes silently: each case below is read correctly
//! or rejected with exit 2 and a diagnostic naming the file and line.

use crate::util::{check_json, folder, positions};

const RESULTS_HEAD: &str = "kind: Results\ndepartment: 武汉市江岸区市场监督管理局\nyear: 2024\ntask: JA-2024-001\nrecords:\n";
const GOOD_RECORD: &str = "  - object: 91420102MA4K00001Q\n    entity_type: enterprise\n    inspectors: [P001, P002]\n    finished_on: 2024-05-06\n    entered_on: 2024-05-08\n    publication: {channel: gsxt, published_on: 2024-05-09}\n";

/// Checks a single file `x.yaml` and returns (exit code, [(rule, line, column)], messages).
fn check_one(content: &[u8]) -> (i32, Vec<(String, u64, u64)>, Vec<String>) {
    let dir = folder(&[("x.yaml", content)]);
    let (code, json) = check_json(dir.path(), &[]);
    let messages = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    let found = positions(&json)
        .into_iter()
        .inspect(|(_, file, _, _)| assert_eq!(file, "./x.yaml"))
        .map(|(rule, _, line, col)| (rule, line, col))
        .collect();
    (code, found, messages)
}

fn only_input_errors(found: &[(String, u64, u64)]) -> Vec<(&str, u64, u64)> {
    found
        .iter()
        .filter(|(r, _, _)| r.starts_with("input/"))
        .map(|(r, l, c)| (r.as_str(), *l, *c))
        .collect()
}

#[test]
fn malformed_yaml() {
    let (code, found, _) = check_one(b"kind: Results\nrecords: [a, b\nyear: 2024\n");
    assert_eq!(code, 2);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "input/malformed");
    assert!(found[0].1 >= 2, "{found:?}");
}

#[test]
fn wrong_type_impossible_date_and_misspelled_field() {
    let text = format!("{RESULTS_HEAD}  - object: 91420102MA4K00001Q\n    inspectors: P001\n    finished_on: 2024-02-30\n    enterd_on: 2024-03-01\n");
    let (code, found, messages) = check_one(text.as_bytes());
    assert_eq!(code, 2);
    assert_eq!(
        only_input_errors(&found),
        [
            ("input/wrong-type", 7, 17),
            ("input/bad-date", 8, 18),
            ("input/unknown-field", 9, 5)
        ]
    );
    assert!(
        messages.iter().any(|m| m.contains("entered_on")),
        "did-you-mean names the field: {messages:?}"
    );
}

#[test]
fn unknown_kind_suggests_the_right_one() {
    let (code, found, messages) = check_one(b"kind: Result\ndepartment: x\n");
    assert_eq!(code, 2);
    assert_eq!(only_input_errors(&found), [("input/unknown-kind", 1, 7)]);
    assert!(messages[0].contains("Results"), "{messages:?}");
}

#[test]
fn gbk_bom_and_crlf_files_are_read_with_true_positions() {
    let late = format!("{RESULTS_HEAD}{GOOD_RECORD}")
        .replace("entered_on: 2024-05-08", "entered_on: 2024-06-30");
    let (gbk, _, _) = encoding_rs::GB18030.encode(&late);
    let bom = [b"\xEF\xBB\xBF".as_slice(), late.as_bytes()].concat();
    let crlf = late.replace('\n', "\r\n");
    for bytes in [gbk.into_owned(), bom, crlf.into_bytes()] {
        let (code, found, _) = check_one(&bytes);
        assert_eq!(code, 1, "{found:?}");
        assert!(
            found.contains(&("result-entry-deadline".to_owned(), 10, 17)),
            "{found:?}"
        );
    }
}

#[test]
fn alias_bomb_is_refused() {
    let mut bomb = String::from("kind: Results\na: &a [x, x, x, x, x, x, x, x, x]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, name) = (pair[0], pair[1]);
        bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let (code, found, _) = check_one(bomb.as_bytes());
    assert_eq!(code, 2);
    assert_eq!(found[0].0, "input/alias-limit");
    assert!(found[0].1 >= 3);
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let flow = format!(
        "kind: Results\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (code, found, _) = check_one(flow.as_bytes());
    assert_eq!(code, 2);
    assert_eq!((found[0].0.as_str(), found[0].1), ("input/too-deep", 2));
    let mut block = String::from("kind: Results\nx:\n");
    for depth in 0..100_000 {
        block.push_str(&" ".repeat(depth.min(200)));
        block.push_str("- \n");
    }
    let (code, found, _) = check_one(block.as_bytes());
    assert_eq!(code, 2, "{found:?}");
}

#[test]
fn empty_and_binary_files_are_errors() {
    let (code, found, _) = check_one(b"");
    assert_eq!(
        (code, found[0].0.as_str(), found[0].1),
        (2, "input/empty", 1)
    );
    let (code, found, _) = check_one(b"# only a comment\n");
    assert_eq!((code, found[0].0.as_str()), (2, "input/empty"));
    let (code, found, _) = check_one(b"kind: Results\x00\x01");
    assert_eq!((code, found[0].0.as_str()), (2, "input/encoding"));
}

#[test]
fn other_files_are_still_checked_after_a_bad_one() {
    let late = format!("{RESULTS_HEAD}{GOOD_RECORD}")
        .replace("entered_on: 2024-05-08", "entered_on: 2024-06-30");
    let dir = folder(&[("a.yaml", b"kind: [\n"), ("b.yaml", late.as_bytes())]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let found = positions(&json);
    assert!(
        found
            .iter()
            .any(|(r, f, _, _)| r == "input/malformed" && f == "./a.yaml"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(r, f, l, _)| r == "result-entry-deadline" && f == "./b.yaml" && *l == 10),
        "{found:?}"
    );
}

#[test]
fn a_script_that_loops_forever_is_stopped_naming_rule_and_line() {
    let policy = "kind: Policy\nid: looping\ncalendar: calendar.yaml\nrules:\n  - id: spins\n    title: {zh: 死循环, en: spins}\n    clause: 三\n    quote: x\n    severity: error\n    on: [Results]\n    each: record\n    script: spin.rhai\n    message: {zh: x, en: x}\n    help: {zh: x, en: x}\n";
    let calendar = "kind: Calendar\nid: cn\nyears: [2024]\nsources: [{year: 2024, notice: x}]\nholidays: []\nworkdays: []\n";
    let script = "fn check(r, ctx) {\n    let n = 0;\n    loop {\n        n += 1;\n    }\n}\n";
    let results = format!("{RESULTS_HEAD}{GOOD_RECORD}");
    let dir = folder(&[
        ("policy/p.yaml", policy.as_bytes()),
        ("policy/calendar.yaml", calendar.as_bytes()),
        ("policy/spin.rhai", script.as_bytes()),
        ("data/r.yaml", results.as_bytes()),
    ]);
    let out = crate::util::spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--policy",
            "policy/p.yaml",
            "--format",
            "json",
            "--max-operations",
            "100000",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let d = &json["diagnostics"][0];
    assert_eq!(d["rule"], "policy/script");
    assert_eq!(d["file"], "policy/spin.rhai");
    assert!((3..=4).contains(&d["line"].as_u64().unwrap_or(0)), "{d}");
    assert!(
        d["message"].as_str().unwrap_or_default().contains("spins"),
        "{d}"
    );
}
