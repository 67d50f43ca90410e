//! The command line as users and CI meet it: exit codes, formats, languages.

use crate::util::{check_json, folder, positions, spotlint};

#[test]
fn demo_submission_prints_annotated_chinese_diagnostics_and_exits_1() {
    let out = spotlint(&["check", "fixtures/demo", "--as-of", "2024-12-31"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("result-entry-deadline"), "{out:?}");
    assert!(out.stdout.contains("录入"), "{out:?}");
    assert!(out.stdout.contains("fixtures/demo/"), "{out:?}");
    assert!(
        out.stdout.contains("依据：武双随机联办〔2024〕1号 三"),
        "{out:?}"
    );
    let en = spotlint(&[
        "check",
        "fixtures/demo",
        "--as-of",
        "2024-12-31",
        "--lang",
        "en",
    ]);
    assert_eq!(en.code, 1);
    assert!(en.stdout.contains("working days"), "{en:?}");
}

#[test]
fn clean_submission_exits_0_with_no_findings() {
    let out = spotlint(&[
        "check",
        "fixtures/clean",
        "--as-of",
        "2024-12-31",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(json["diagnostics"], serde_json::json!([]), "{out:?}");
    assert_eq!(out.code, 0);
}

#[test]
fn json_is_one_object_with_the_documented_fields() {
    let out = spotlint(&[
        "check",
        "fixtures/rules/result-entry-deadline/fail",
        "--format",
        "json",
        "--as-of",
        "2024-12-31",
    ]);
    assert_eq!(out.code, 1);
    let json: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("stdout is exactly one JSON object");
    assert_eq!(json["version"], 1);
    let d = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["rule"] == "result-entry-deadline")
        .expect("a deadline finding");
    for field in [
        "rule", "severity", "file", "line", "column", "message", "clause", "help",
    ] {
        assert!(!d[field].is_null(), "missing {field}: {d}");
    }
    assert_eq!(
        d["file"],
        "fixtures/rules/result-entry-deadline/fail/results.yaml"
    );
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(10), Some(17))
    );
    assert_eq!(
        json["summary"]["by_rule"]["result-entry-deadline"]["error"],
        4
    );
}

#[test]
fn fail_on_warning_and_usage_errors() {
    let bad_date = spotlint(&["check", "fixtures/clean", "--as-of", "2024-13-01"]);
    assert_eq!(bad_date.code, 2);
    let missing = spotlint(&["check", "no/such/folder", "--format", "json"]);
    assert_eq!(missing.code, 2);
    let json: serde_json::Value = serde_json::from_str(&missing.stdout).expect("json");
    assert_eq!(json["diagnostics"][0]["rule"], "input/not-found");
}

#[test]
fn no_path_means_the_current_folder() {
    let text =
        std::fs::read("fixtures/rules/result-inspectors-count/fail/results.yaml").expect("fixture");
    let dir = folder(&[("results.yaml", &text)]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let out = crate::util::spotlint_in(
        dir.path(),
        &["check", "--format", "json", "--as-of", "2024-12-31"],
    );
    let again: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(positions(&again).len(), positions(&json).len());
}

#[test]
fn calendar_gaps_are_errors_naming_the_year() {
    // Thirty-odd days in 2027: within twenty working days or not, by 2027's holidays.
    let results = "kind: Results\ndepartment: d\nyear: 2027\ntask: T\nrecords:\n  - object: X\n    inspectors: [P1, P2]\n    finished_on: 2027-03-01\n    entered_on: 2027-04-02\n";
    let dir = folder(&[("r.yaml", results.as_bytes())]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let d = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["rule"] == "calendar/missing-year")
        .cloned()
        .expect("a calendar diagnostic");
    assert!(
        d["message"].as_str().unwrap_or_default().contains("2027"),
        "{d}"
    );
    assert_eq!((&d["line"], &d["column"]), (&9.into(), &17.into()));
}

#[test]
fn an_output_path_that_is_a_link_or_a_pipe_stays_one() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("temporary folder");
    let report_to = |path: &std::path::Path| {
        spotlint(&[
            "check",
            "fixtures/demo",
            "--as-of",
            "2024-12-31",
            "--format",
            "json",
            "--output",
            path.to_str().expect("utf-8 path"),
        ])
    };
    let is_report = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text).is_ok_and(|json| {
            json["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        })
    };

    // A link: the file it names gets the report, and the link stays.
    let named = dir.path().join("named.json");
    std::fs::write(&named, "old").expect("write");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&named, &link).expect("link");
    let out = report_to(&link);
    assert_eq!(out.code, 1, "{out:?}");
    let meta = std::fs::symlink_metadata(&link).expect("link");
    assert!(meta.file_type().is_symlink(), "{meta:?}");
    assert!(is_report(&std::fs::read_to_string(&named).expect("read")));

    // A link to a file not made yet: the file is made, and the link stays.
    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink("made-by-the-run.json", &dangling).expect("link");
    let out = report_to(&dangling);
    assert_eq!(out.code, 1, "{out:?}");
    let meta = std::fs::symlink_metadata(&dangling).expect("link");
    assert!(meta.file_type().is_symlink(), "{meta:?}");
    let made = dir.path().join("made-by-the-run.json");
    assert!(is_report(&std::fs::read_to_string(made).expect("read")));

    // A pipe (as `/dev/null` is a device): written to, not replaced by a file.
    let pipe = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let (sent, received) = std::sync::mpsc::channel();
    let reading = pipe.clone();
    std::thread::spawn(move || {
        let _ = sent.send(std::fs::read_to_string(&reading));
    });
    let out = report_to(&pipe);
    assert_eq!(out.code, 1, "{out:?}");
    let read = received
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the report reached the pipe's reader");
    assert!(is_report(&read.expect("read")));
    let meta = std::fs::symlink_metadata(&pipe).expect("pipe");
    assert!(meta.file_type().is_fifo(), "{meta:?}");
}
