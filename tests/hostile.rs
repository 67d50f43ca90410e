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

/// Diagnostics of `rule` in a JSON report, as (file, line, column).
fn places_of(report: &serde_json::Value, rule: &str) -> Vec<(String, u64, u64)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_mapping_of_100000_keys_is_checked_for_duplicates_in_linear_time() {
    // Each key was compared with every earlier one: 100,000 keys took minutes.
    let mut plan = String::from("kind: Plan\ndepartment: 江岸区市场监管局\nyear: 2024\nextra:\n");
    for i in 0..100_000 {
        plan.push_str(&format!("  k{i}: {i}\n"));
    }
    plan.push_str("  k77777: again\n");
    let dir = folder(&[("plan.yaml", plan.as_bytes())]);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/duplicate-key"),
        [("./plan.yaml".to_owned(), 100_005, 3)]
    );
}

#[test]
fn ten_thousand_documents_in_one_file_are_each_shown_without_rereading_the_file() {
    // The human format handed the whole file to the snippet renderer for every
    // diagnostic, which counted its lines from the start each time.
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "---\nkind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-{i}\nnote{i}: x\nrecords: []\n"
        ));
    }
    let dir = folder(&[("results.yaml", text.as_bytes())]);
    let out = spotlint_in(
        dir.path(),
        &["check", ".", "--lang", "en", "--as-of", "2024-12-31"],
    );
    assert_eq!(out.code, 2, "{}", &out.stderr);
    for i in [0, 4_321, 9_999] {
        let line = 7 * i + 6;
        assert!(
            out.stdout.contains(&format!("[./results.yaml:{line}:1]"))
                && out.stdout.contains(&format!("{line} │ note{i}: x")),
            "document {i} at line {line}"
        );
    }
    assert_eq!(out.stdout.matches("unknown field `note").count(), 10_000);
}

#[test]
fn a_cell_of_100000_inspectors_is_counted_in_linear_time() {
    // `distinct: true` compared each inspector with every earlier one.
    let many: Vec<String> = (0..100_000).map(|i| format!("P{}", i % 99_999)).collect();
    let results = format!(
        "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {{object: O1, inspectors: [{}], finished_on: 2024-05-06, entered_on: 2024-05-07}}\n  - {{object: O2, inspectors: [P1, P1], finished_on: 2024-05-06, entered_on: 2024-05-07}}\n",
        many.join(", ")
    );
    let dir = folder(&[("results.yaml", results.as_bytes())]);
    let (_, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(
        places_of(&report, "result-inspectors-count"),
        [("./results.yaml".to_owned(), 7, 18)],
        "only the record with one distinct inspector: {report}"
    );
}

/// Results of `n` records, each entered a month after the inspection (a
/// `result-entry-deadline` finding per record), objects O0, O1, …
fn late_results(n: usize) -> String {
    let mut csv = String::from(
        "department,year,task,object,inspectors,finished_on,entered_on,publication_channel,published_on\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "江岸区市场监管局,2024,JA-1,O{i},P1;P2,2024-04-30,2024-05-31,gsxt,2024-06-01\n"
        ));
    }
    csv
}

#[test]
fn twenty_thousand_waivers_meet_twenty_thousand_findings_in_linear_time() {
    // Every finding was compared with every waiver.
    let n = 20_000;
    let mut waivers = String::from("kind: Waivers\nwaivers:\n");
    for i in 0..n {
        waivers.push_str(&format!(
            "  - {{rule: result-entry-deadline, target: O{i}, reason: 平台故障, approved_by: 法规科, expires_on: 2025-03-31}}\n"
        ));
    }
    let dir = folder(&[
        ("data/results.csv", late_results(n).as_bytes()),
        ("waivers.yaml", waivers.as_bytes()),
    ]);
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--waivers",
            "waivers.yaml",
            // Waivers are matched with the findings kept.
            "--max-findings-per-rule",
            "20000",
            "--format",
            "json",
            "--as-of",
            "2024-12-31",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["summary"]["waived"], n, "{out:?}");
    assert_eq!(places_of(&report, "result-entry-deadline"), []);
    assert_eq!(places_of(&report, "waiver/unused"), []);
}

#[test]
fn findings_past_the_limit_per_rule_are_counted_and_said_not_kept() {
    let n = 30_000;
    let dir = folder(&[("results.csv", late_results(n).as_bytes())]);
    let run = |format: &str| {
        spotlint_in(
            dir.path(),
            &[
                "check",
                ".",
                "--format",
                format,
                "--lang",
                "en",
                "--as-of",
                "2024-12-31",
                "--max-findings-per-rule",
                "100",
            ],
        )
    };
    let json = run("json");
    assert_eq!(json.code, 1, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let listed = places_of(&report, "result-entry-deadline");
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0], ("./results.csv".to_owned(), 2, 40));
    assert_eq!(
        report["summary"]["not_kept"],
        serde_json::json!([{
            "rule": "result-entry-deadline",
            "kept": 100,
            "not_kept": 29_900,
            "message": "rule `result-entry-deadline`: 29900 more findings not listed (the first 100 are; counts and compliance figures include all)",
        }])
    );
    let listed_errors = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(report["summary"]["errors"], listed_errors + 29_900);

    let note = "rule `result-entry-deadline`: 29900 more findings not listed";
    let human = run("human");
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains(note), "{human:?}");
    let sarif = run("sarif");
    assert_eq!(sarif.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(
        notification["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(note)),
        "{notification}"
    );
    let junit = run("junit");
    assert_eq!(junit.code, 1);
    assert!(
        junit.stdout.contains(&format!(
            "<testsuite name=\"result-entry-deadline\" tests=\"{n}\" failures=\"{n}\">"
        )),
        "{}",
        &junit.stdout[..2000.min(junit.stdout.len())]
    );
    assert!(junit.stdout.contains(note));
}

/// Runs a one-rule policy whose script is `script` over one good result record, with
/// `--stats`: (exit code, the JSON report, peak memory in KiB).
fn run_script(script: &str) -> (i32, serde_json::Value, u64) {
    let policy = "kind: Policy\nid: hostile\ncalendar: calendar.yaml\nrules:\n  - id: probe\n    title: {zh: 探测, en: probe}\n    clause: 三\n    quote: x\n    severity: error\n    on: [Results]\n    each: record\n    script: s.rhai\n    message: {zh: x, en: x}\n    help: {zh: x, en: x}\n";
    let calendar = "kind: Calendar\nid: cn\nyears: [2024]\nsources: [{year: 2024, notice: x}]\nholidays: []\nworkdays: []\n";
    let results = "kind: Results\ndepartment: 江岸区市场监管局\nyear: 2024\ntask: JA-1\nrecords:\n  - {object: O1, inspectors: [P1, P2], finished_on: 2024-05-06, entered_on: 2024-05-07}\n";
    let dir = folder(&[
        ("policy/p.yaml", policy.as_bytes()),
        ("policy/calendar.yaml", calendar.as_bytes()),
        ("policy/s.rhai", script.as_bytes()),
        ("data/r.yaml", results.as_bytes()),
    ]);
    let out = spotlint_in(
        dir.path(),
        &[
            "check",
            "data",
            "--policy",
            "policy/p.yaml",
            "--format",
            "json",
            "--lang",
            "en",
            "--stats",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON report ({e}): {out:?}"));
    let stats = out
        .stderr
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .unwrap_or_else(|| panic!("a stats line: {out:?}"));
    let peak = stats["peak_rss_kib"].as_u64().expect("peak memory");
    (out.code, report, peak)
}

/// The one script problem of a report: (line, column, message).
fn script_problem(report: &serde_json::Value) -> (u64, u64, String) {
    let found: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "policy/script")
        .collect();
    assert_eq!(found.len(), 1, "{report}");
    let d = found[0];
    assert_eq!(d["file"], "policy/s.rhai", "{d}");
    (
        d["line"].as_u64().unwrap_or_default(),
        d["column"].as_u64().unwrap_or_default(),
        d["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Far above what one record's check needs, far below what the scripts below reach
/// unchecked (gigabytes).
const SCRIPT_MEMORY_KIB: u64 = 512 * 1024;

#[test]
fn helpers_given_extreme_numbers_fail_the_script_at_the_call_not_the_run() {
    for (call, said) in [
        (
            "add_days(r.finished_on, 9223372036854775807)",
            "add_days: 2024-05-06 + 9223372036854775807 days is no date",
        ),
        (
            "add_days(r.finished_on, -9223372036854775807 - 1)",
            "add_days: 2024-05-06 + -9223372036854775808 days is no date",
        ),
        (
            "add_working_days(r.finished_on, -1)",
            "add_working_days: the count must be from 0 to 4294967295",
        ),
        (
            "within_working_days(r.finished_on, -9223372036854775807, r.entered_on)",
            "within_working_days: the count must be from 0 to 4294967295",
        ),
        ("year_of(\"\")", "`` is not a date YYYY-MM-DD"),
    ] {
        let script = format!("fn check(r, ctx) {{\n    let d = {call};\n}}\n");
        let (code, report, _) = run_script(&script);
        assert_eq!(code, 2, "{call}: {report}");
        let (line, at, message) = script_problem(&report);
        assert_eq!((line, at), (2, 13), "{call}: {message}");
        assert!(message.contains(said), "{message}");
    }
    // A count of working days past the calendar does not wrap round to a near day:
    // the record's dates reach a year the calendar lacks.
    let script = "fn check(r, ctx) {\n    if add_working_days(r.finished_on, 4294967295) < r.entered_on {\n        ctx.report(r, \"entered_on\");\n    }\n}\n";
    let (code, report, _) = run_script(script);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "calendar/missing-year"),
        [("data/r.yaml".to_owned(), 6, 6)],
        "{report}"
    );
    assert_eq!(places_of(&report, "probe"), []);
}

#[test]
fn scripts_that_grow_data_without_end_are_stopped_with_bounded_memory() {
    for (growth, at) in [
        ("let a = [1];\n    loop {\n        a += a;\n    }", (4, 11)),
        ("let s = \"x\";\n    loop {\n        s += s;\n    }", (4, 11)),
        (
            "let m = #{};\n    let i = 0;\n    loop {\n        m[`k${i}`] = i;\n        i += 1;\n    }",
            (5, 11),
        ),
    ] {
        let script = format!("fn check(r, ctx) {{\n    {growth}\n}}\n");
        let (code, report, peak) = run_script(&script);
        assert_eq!(code, 2, "{growth}: {report}");
        let (line, column, message) = script_problem(&report);
        assert_eq!((line, column), at, "{growth}: {message}");
        assert!(peak < SCRIPT_MEMORY_KIB, "{growth}: {peak} KiB");
    }
}

#[test]
fn currying_is_refused_before_a_curried_pointer_can_double_in_a_loop() {
    let script = "fn check(r, ctx) {\n    let f = Fn(\"check\");\n    loop {\n        f = f.curry(f);\n    }\n}\n";
    let (code, report, peak) = run_script(script);
    assert_eq!(code, 2, "{report}");
    let (line, column, message) = script_problem(&report);
    assert_eq!((line, column), (4, 15), "{message}");
    assert!(message.contains("curry"), "{message}");
    assert!(peak < SCRIPT_MEMORY_KIB, "{peak} KiB");
}

#[test]
fn a_script_flooding_reports_or_figures_is_stopped_with_bounded_memory() {
    let reports = "fn check(r, ctx) {\n    loop {\n        ctx.report(r, \"object\");\n    }\n}\n";
    let (code, report, peak) = run_script(reports);
    assert_eq!(code, 2, "{report}");
    let (line, _, message) = script_problem(&report);
    assert_eq!(line, 3, "{message}");
    assert!(message.contains("operation limit"), "{message}");
    let not_kept = &report["summary"]["not_kept"][0];
    assert_eq!(not_kept["rule"], "probe", "{report}");
    assert_eq!(not_kept["kept"], 10_000, "{report}");
    assert!(peak < SCRIPT_MEMORY_KIB, "{peak} KiB");

    let figures = "fn check(r, ctx) {\n    let i = 0;\n    loop {\n        ctx.tally(`t${i}`, true, 0.5);\n        i += 1;\n    }\n}\n";
    let (code, report, _) = run_script(figures);
    assert_eq!(code, 2, "{report}");
    let (line, _, message) = script_problem(&report);
    assert_eq!(line, 4, "{message}");
    assert!(message.contains("more than 100 figures"), "{message}");
}

#[test]
fn json_surrogate_pairs_are_one_character_and_positions_stay_true() {
    // What Python's json.dumps writes for 😀 (U+1F600); the record after it has a
    // single inspector, found at its place in the file.
    let results = "{\"kind\": \"Results\", \"department\": \"江岸区市场监管局\", \"year\": 2024, \"task\": \"JA-1\",\n \"records\": [{\"object\": \"O\\ud83d\\ude00\", \"inspectors\": [\"P1\"], \"finished_on\": \"2024-05-06\", \"entered_on\": \"2024-05-07\"}]}\n";
    let dir = folder(&[("results.json", results.as_bytes())]);
    let (_, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(
        places_of(&report, "result-inspectors-count"),
        [("./results.json".to_owned(), 2, 42)],
        "{report}"
    );
    assert_eq!(places_of(&report, "input/malformed"), []);

    let lone = results.replace("\\ude00", "");
    let dir = folder(&[("results.json", lone.as_bytes())]);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/malformed"),
        [("./results.json".to_owned(), 2, 27)],
        "{report}"
    );
}

#[test]
fn one_bad_value_costs_its_record_not_the_document() {
    // A channel outside the list in the first record of JA-2024-001: the document was
    // dropped, and `plan-executed` said the task had no results.
    let demo = crate::util::root().join("fixtures/demo");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(&demo).expect("demo") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let mut bytes = std::fs::read(&path).expect("read");
        if name == "results-JA-2024-001.yaml" {
            let text = String::from_utf8(bytes).expect("utf-8");
            bytes = text
                .replacen("channel: gsxt", "channel: wechat", 1)
                .into_bytes();
        }
        files.push((name, bytes));
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = folder(&files);
    let (code, report) = crate::util::check_json(dir.path(), &["--lang", "en"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(
        places_of(&report, "input/bad-value"),
        [("./results-JA-2024-001.yaml".to_owned(), 17, 16)]
    );
    let executed = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "plan-executed")
        .filter(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("JA-2024-001"))
        })
        .count();
    assert_eq!(executed, 0, "{report}");
    // The rest of the document is still checked: its late entry is found.
    assert!(
        places_of(&report, "result-entry-deadline")
            .iter()
            .any(|(file, line, _)| file == "./results-JA-2024-001.yaml" && *line == 15),
        "{report}"
    );
}
