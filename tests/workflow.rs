//! Policy staff and CI workflow: explain, rules, policy tests, policy lint, waivers,
//! SARIF / JUnit / GitHub output, JSON Schemas.

use crate::util::{folder, spotlint, spotlint_in};

#[test]
fn explain_works_for_every_rule_and_rules_lists_them_all() {
    let out = spotlint(&["rules", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let rules = json["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 31, "every rule of requirements.md");
    assert_eq!(json["chain"], serde_json::json!(["national", "wuhan-2024"]));
    for rule in rules {
        let id = rule["id"].as_str().expect("id");
        let explained = spotlint(&["explain", id]);
        assert_eq!(explained.code, 0, "{explained:?}");
        for part in [
            "## What it does",
            "## Why",
            "## Example",
            "## Use instead",
            "clause:",
        ] {
            assert!(explained.stdout.contains(part), "explain {id} lacks {part}");
        }
    }
    let unknown = spotlint(&["explain", "result-entry-dedline"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("did you mean `result-entry-deadline`"),
        "{unknown:?}"
    );
}

#[test]
fn shipped_policy_tests_pass_and_a_wrong_expectation_shows_a_diff() {
    let out = spotlint(&["test", "policies/tests"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("4 passed, 0 failed"), "{out:?}");

    let wrong = std::fs::read_to_string("policies/tests/entry-deadline.yaml")
        .expect("test file")
        .replace("line: 22}", "line: 21}");
    let dir = folder(&[("t.yaml", wrong.as_bytes())]);
    let out = spotlint_in(dir.path(), &["test", "t.yaml"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("FAIL"), "{out:?}");
    assert!(
        out.stdout
            .contains("- expected, not found: result-entry-deadline entry-deadline.yaml:21"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("+ found, not expected: result-entry-deadline t.yaml:22"),
        "{out:?}"
    );
}

#[test]
fn district_policy_tightens_the_deadline_the_city_accepts() {
    let data = "policies/tests/district-policy-data";
    let args = |policy: &'static str| {
        vec![
            "check",
            data,
            "--policy",
            policy,
            "--format",
            "json",
            "--as-of",
            "2024-12-31",
        ]
    };
    let rules_of = |policy| {
        let out = spotlint(&args(policy));
        let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        json["diagnostics"]
            .as_array()
            .expect("list")
            .iter()
            .map(|d| d["rule"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(!rules_of("policies/wuhan-2024.yaml").contains(&"result-entry-deadline".to_owned()));
    assert!(rules_of("policies/jiangan-2024.yaml").contains(&"result-entry-deadline".to_owned()));
}

#[test]
fn policy_lint_points_into_the_policy_and_the_script() {
    let policy = std::fs::read_to_string("policies/national.yaml")
        .expect("policy")
        .replace("calendar: calendar/cn.yaml", "calendar: cn.yaml")
        .replacen(
            "    severity: error\n    on: [Results]\n    params: {min: 2}",
            "    severty: error\n    on: [Results]\n    params: {min: 2}",
            1,
        );
    let calendar = std::fs::read("policies/calendar/cn.yaml").expect("calendar");
    let dir = folder(&[
        ("p/national.yaml", policy.as_bytes()),
        ("p/cn.yaml", &calendar),
    ]);
    let out = spotlint_in(
        dir.path(),
        &["policy", "check", "p/national.yaml", "--lang", "en"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("unknown field `severty`; did you mean `severity`?"),
        "{out:?}"
    );
    assert!(out.stdout.contains("p/national.yaml:"), "{out:?}");

    let broken = "fn check(r, ctx) {\n    let x = ;\n}\n";
    let policy = "kind: Policy\nid: p\ncalendar: cn.yaml\nrules:\n  - id: r1\n    title: {zh: t, en: t}\n    clause: 三\n    quote: q\n    severity: error\n    on: [Results]\n    each: record\n    script: r1.rhai\n    message: {zh: m, en: m}\n    help: {zh: h, en: h}\n";
    let dir = folder(&[
        ("p.yaml", policy.as_bytes()),
        ("r1.rhai", broken.as_bytes()),
        ("cn.yaml", &calendar),
    ]);
    let out = spotlint_in(dir.path(), &["policy", "check", "p.yaml", "--lang", "en"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("r1.rhai:2:"), "{out:?}");
    let ok = spotlint(&["policy", "check", "policies/jiangan-2024.yaml"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        ok.stdout.contains("national → wuhan-2024 → jiangan-2024"),
        "{ok:?}"
    );
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "sarif",
        "--as-of",
        "2024-12-31",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).expect("SARIF is JSON");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 15, "{}", results.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules
        .iter()
        .any(|r| r["id"] == "result-entry-deadline" && r["help"]["text"].is_string()));
    let late = results
        .iter()
        .find(|r| r["ruleId"] == "result-entry-deadline")
        .expect("a deadline result");
    assert_eq!(
        late["locations"][0]["physicalLocation"]["region"]["startLine"],
        15
    );
}

#[test]
fn junit_is_xml_and_github_annotations_are_workflow_commands() {
    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "junit",
        "--as-of",
        "2024-12-31",
    ]);
    assert_eq!(out.code, 1);
    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    let (mut failures, mut cases) = (0, 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                match e.name().as_ref() {
                    b"failure" => failures += 1,
                    b"testcase" => cases += 1,
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(e) => panic!("JUnit output is not XML: {e}"),
        }
    }
    assert!(
        failures >= 15 && cases > failures,
        "{failures} failures in {cases} cases"
    );

    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "github",
        "--as-of",
        "2024-12-31",
    ]);
    assert!(
        out.stdout
            .lines()
            .all(|l| l.starts_with("::error file=") || l.starts_with("::warning file=")),
        "{out:?}"
    );
    assert!(out.stdout.contains("::error file=fixtures/demo/results-JA-2024-001.yaml,line=15,col=17,title=result-entry-deadline::"), "{out:?}");
}

#[test]
fn output_file_holds_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let target = dir.path().join("report.sarif");
    let out = spotlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "sarif",
        "--as-of",
        "2024-12-31",
        "--output",
        target.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty(), "{out:?}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).expect("written")).expect("json");
    assert_eq!(written["version"], "2.1.0");
}

const LATE: &str = "kind: Results\ndepartment: 武汉市江岸区市场监督管理局\nyear: 2024\ntask: JA-2024-001\nrecords:\n  - object: 91420102MA4K00001Q\n    entity_type: enterprise\n    inspectors: [P001, P002]\n    finished_on: 2024-04-30\n    entered_on: 2024-05-31\n    publication: {channel: gsxt, published_on: 2024-06-01}\n";

fn waiver(expires: &str, target: &str) -> String {
    format!("kind: Waivers\nwaivers:\n  - rule: result-entry-deadline\n    file: results.yaml\n    target: {target}\n    reason: 平台故障期间无法录入，已报联席办备案\n    approved_by: 江岸区市场监督管理局 法规科\n    expires_on: {expires}\n")
}

/// The reviewer's waivers (`--waivers`), kept with the submission.
fn check_waived(waiver_text: &str) -> (i32, serde_json::Value) {
    let dir = folder(&[
        ("results.yaml", LATE.as_bytes()),
        ("waivers.yaml", waiver_text.as_bytes()),
    ]);
    crate::util::check_json(dir.path(), &["--waivers", "waivers.yaml"])
}

/// Findings of `rule` and the waiver diagnostics, as (rule, severity, line).
fn waiver_outcome(json: &serde_json::Value) -> Vec<(String, String, u64)> {
    json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|d| {
            d["rule"] == "result-entry-deadline"
                || d["rule"].as_str().is_some_and(|r| r.starts_with("waiver/"))
        })
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["severity"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_submitter_cannot_waive_their_own_findings() {
    // Every rule waived for ever by "me", dropped beside the results.
    let mut all = String::from("kind: Waivers\nwaivers:\n");
    for rule in ["result-entry-deadline", "result-within-plan"] {
        all.push_str(&format!(
            "  - {{rule: {rule}, reason: ok, approved_by: me, expires_on: 9999-12-31}}\n"
        ));
    }
    let dir = folder(&[
        ("results.yaml", LATE.as_bytes()),
        ("waivers.yaml", all.as_bytes()),
    ]);
    let (code, json) = crate::util::check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["summary"]["waived"], 0);
    assert_eq!(
        waiver_outcome(&json),
        [
            ("result-entry-deadline".to_owned(), "error".to_owned(), 10),
            ("waiver/not-applied".to_owned(), "warning".to_owned(), 3),
            ("waiver/not-applied".to_owned(), "warning".to_owned(), 4),
        ]
    );
}

#[test]
fn the_policy_says_who_may_waive_what_and_for_how_long() {
    let policy = |waivers: &str| {
        format!(
            "kind: Policy\nid: strict\ntitle: {{zh: 严, en: strict}}\nsource: t\nnotice: t\nextends: {}\nwaivers: {waivers}\n",
            crate::util::root().join("policies/wuhan-2024.yaml").display()
        )
    };
    // The reviewer's policy lies in a hidden folder, which a check of the folder skips.
    let run = |policy_text: &str, waiver_text: &str| {
        let dir = folder(&[
            ("results.yaml", LATE.as_bytes()),
            ("waivers.yaml", waiver_text.as_bytes()),
            (".review/policy.yaml", policy_text.as_bytes()),
        ]);
        crate::util::check_json(dir.path(), &["--policy", ".review/policy.yaml"])
    };
    // Allowed beside the submission, approved by 法规科, within 365 days: applied.
    let lenient = policy("{beside_submission: true, approvers: [法规科], max_days: 365}");
    let (_, json) = run(&lenient, &waiver("2025-03-31", "91420102MA4K00001Q"));
    assert_eq!(json["summary"]["waived"], 1, "{json}");
    assert_eq!(waiver_outcome(&json), []);
    // Approved by someone else: refused at `approved_by`, the finding stays.
    let other = policy("{beside_submission: true, approvers: [联席办]}");
    let (_, json) = run(&other, &waiver("2025-03-31", "91420102MA4K00001Q"));
    assert_eq!(
        waiver_outcome(&json),
        [
            ("result-entry-deadline".to_owned(), "error".to_owned(), 10),
            ("waiver/not-allowed".to_owned(), "error".to_owned(), 7),
        ]
    );
    // Longer than 30 days from the evaluation date (2024-12-31): refused at `expires_on`.
    let short = policy("{beside_submission: true, max_days: 30}");
    let (_, json) = run(&short, &waiver("2025-03-31", "91420102MA4K00001Q"));
    assert_eq!(
        waiver_outcome(&json)[1],
        ("waiver/not-allowed".to_owned(), "error".to_owned(), 8)
    );
    // A whole rule waived without `target`: refused unless `scope: rule`.
    let whole = "kind: Waivers\nwaivers:\n  - {rule: result-entry-deadline, reason: r, approved_by: a, expires_on: 2025-01-31}\n";
    let (_, json) = run(&policy("{beside_submission: true}"), whole);
    assert_eq!(
        waiver_outcome(&json)[1],
        ("waiver/not-allowed".to_owned(), "error".to_owned(), 3)
    );
    let (_, json) = run(&policy("{beside_submission: true, scope: rule}"), whole);
    assert_eq!(json["summary"]["waived"], 1, "{json}");
}

#[test]
fn waivers_set_findings_aside_until_they_expire() {
    let (code, json) = check_waived(&waiver("2025-03-31", "91420102MA4K00001Q"));
    let rules: Vec<_> = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        !rules.contains(&"result-entry-deadline".to_owned()),
        "{json}"
    );
    assert_eq!(json["waived"][0]["rule"], "result-entry-deadline");
    assert_eq!(json["summary"]["waived"], 1);
    assert_eq!(code, 1, "result-within-plan still fires: no plan");

    // In SARIF the waived finding stays, suppressed, and the run still validates.
    let dir = folder(&[
        ("results.yaml", LATE.as_bytes()),
        (
            "waivers.yaml",
            waiver("2025-03-31", "91420102MA4K00001Q").as_bytes(),
        ),
    ]);
    let out = crate::util::spotlint_in(
        dir.path(),
        &[
            "check",
            ".",
            "--waivers",
            "waivers.yaml",
            "--format",
            "sarif",
            "--as-of",
            "2024-12-31",
        ],
    );
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).expect("SARIF is JSON");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(validator.is_valid(&sarif), "{sarif}");
    let suppressed: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "result-entry-deadline");

    let (code, json) = check_waived(&waiver("2024-06-30", "91420102MA4K00001Q"));
    assert_eq!(code, 1);
    let expired = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["rule"] == "waiver/expired")
        .expect("expired waiver is an error");
    assert_eq!(
        (expired["severity"].as_str(), expired["line"].as_u64()),
        (Some("error"), Some(8))
    );
    assert!(json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .any(|d| d["rule"] == "result-entry-deadline"));

    let (_, json) = check_waived(&waiver("2025-03-31", "91420102MA4K00009H"));
    let unused = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["rule"] == "waiver/unused")
        .expect("unused waiver is a warning");
    assert_eq!(unused["severity"], "warning");
}

#[test]
fn shipped_json_schemas_are_current() {
    for kind in [
        "Plan",
        "ItemList",
        "ObjectLibrary",
        "PersonnelLibrary",
        "Results",
        "Policy",
        "Waivers",
        "PolicyTest",
    ] {
        let out = spotlint(&["schema", kind]);
        assert_eq!(out.code, 0);
        let file = format!("schemas/{}.schema.json", kind.to_lowercase());
        let shipped = std::fs::read_to_string(&file).expect("schema file");
        assert_eq!(
            out.stdout, shipped,
            "{file} is stale: run `spotlint schema {kind} > {file}`"
        );
    }
}
