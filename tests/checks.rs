//! The declarative checks, each with options other than the shipped policy's, and
//! invalid options: exact findings (rule, file, line, column, message) and exact policy
//! errors (where the bad value is written: in the rule, or in the policy overriding it).

use spotlint::commands::check::{self, CheckOptions, PolicyChoice};
use spotlint::diag::Lang;

use crate::util::{folder, root};

/// A policy of one rule `r`, beside the shipped calendar.
fn policy(rule: &str) -> String {
    format!(
        "kind: Policy\nid: p\ncalendar: {}\nrules:\n  - id: r\n    title: {{zh: 规则, en: rule}}\n    clause: 三\n    quote: 原文\n    severity: error\n{rule}    help: {{zh: 整改, en: fix it}}\n",
        root().join("policies/calendar/cn.yaml").display()
    )
}

/// (rule, file, line, column, English message) of every diagnostic of a check of
/// `data` (files in a folder) against `policy` (and more policy files beside it).
fn run(
    policies: &[(&str, &str)],
    data: &[(&str, &str)],
) -> Vec<(String, String, usize, usize, String)> {
    let mut files: Vec<(String, Vec<u8>)> = policies
        .iter()
        .map(|(n, t)| (format!("policy/{n}"), t.as_bytes().to_vec()))
        .collect();
    files.extend(
        data.iter()
            .map(|(n, t)| (format!("data/{n}"), t.as_bytes().to_vec())),
    );
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_slice()))
        .collect();
    let dir = folder(&refs);
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut options = CheckOptions::new(
        vec![dir.path().join("data")],
        PolicyChoice::File(dir.path().join("policy").join(policies[0].0)),
        as_of,
    );
    options.chunk_rows = 2;
    let report = check::run(&options).report;
    let base = dir.path().display().to_string();
    report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.rule.to_string(),
                d.file.replace(&base, "").trim_start_matches('/').to_owned(),
                d.line,
                d.column,
                d.message.get(Lang::En).to_owned(),
            )
        })
        .collect()
}

fn found(
    rule: &str,
    file: &str,
    line: usize,
    column: usize,
    message: &str,
) -> (String, String, usize, usize, String) {
    (rule.into(), file.into(), line, column, message.into())
}

const RESULTS: &str = "kind: Results
department: d
year: 2024
task: T1
records:
  - object: O1
    finished_on: 2024-04-30
    entered_on: 2024-05-08
  - object: O2
    finished_on: 2024-04-30
    entered_on: 2024-05-20
  - object: O3
    finished_on: 2024-04-30
  - object: O4
    finished_on: 2024-04-30
    entered_on: 2024-04-29
";

#[test]
fn deadline_in_calendar_days_with_every_finding() {
    let rule = "    on: [Results]
    params: {days: 10}
    check:
      deadline: {start: finished_on, end: entered_on, days: $days, if_end_missing: as_of, before_start: report}
    message: {zh: 迟, en: 'late: {finished_on} to {entered_on} is {days} days, due {due}'}
    messages:
      missing_end: {zh: 未录, en: 'not entered by {due} ({as_of})'}
      before_start: {zh: 早, en: 'entered {entered_on} before {finished_on}'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("r.yaml", RESULTS)]);
    assert_eq!(
        got,
        [
            found(
                "r",
                "data/r.yaml",
                11,
                17,
                "late: 2024-04-30 to 2024-05-20 is 20 days, due 2024-05-10"
            ),
            found(
                "r",
                "data/r.yaml",
                13,
                18,
                "not entered by 2024-05-10 (2024-12-31)"
            ),
            found(
                "r",
                "data/r.yaml",
                16,
                17,
                "entered 2024-04-29 before 2024-04-30"
            ),
        ]
    );
}

#[test]
fn deadline_by_a_cap_alone_and_in_working_days_made_stricter_by_an_override() {
    let capped = "    on: [Results]
    check:
      deadline: {end: entered_on, by: '@task.end'}
    message: {zh: 晚, en: '{entered_on} after {end}'}
";
    let plan = "kind: Plan\ndepartment: d\nyear: 2024\ntasks:\n  - {id: T1, end: 2024-05-10}\n";
    let got = run(
        &[("p.yaml", &policy(capped))],
        &[("r.yaml", RESULTS), ("plan.yaml", plan)],
    );
    assert_eq!(
        got,
        [found(
            "r",
            "data/r.yaml",
            11,
            17,
            "2024-05-20 after 2024-05-10"
        )]
    );

    let working = "    on: [Results]
    params: {working_days: 20}
    check:
      deadline: {start: finished_on, end: entered_on, working_days: $working_days}
    message: {zh: 迟, en: '{days} working days, beyond {working_days}'}
";
    // May Day (05-01 to 05-05) is off and Saturday 05-11 is worked: 2024-05-08 is the
    // 3rd working day after 04-30, 05-20 the 12th.
    let stricter =
        "kind: Policy\nid: q\nextends: p.yaml\noverrides:\n  r:\n    params: {working_days: 5}\n";
    let got = run(
        &[("q.yaml", stricter), ("p.yaml", &policy(working))],
        &[("r.yaml", RESULTS)],
    );
    assert_eq!(
        got,
        [found(
            "r",
            "data/r.yaml",
            11,
            17,
            "12 working days, beyond 5"
        )]
    );
}

/// The policy errors of `check` with options `options`: (line, column, message).
fn deadline_errors(params: &str, options: &str) -> Vec<(usize, usize, String)> {
    let rule = format!(
        "    on: [Results]\n    params: {params}\n    check:\n      deadline: {options}\n    message: {{zh: 迟, en: late}}\n"
    );
    run(&[("p.yaml", &policy(&rule))], &[("r.yaml", RESULTS)])
        .into_iter()
        .filter(|d| d.0.starts_with("policy/"))
        .map(|d| (d.2, d.3, d.4))
        .collect()
}

#[test]
fn deadline_options_out_of_range_or_of_the_wrong_type_are_policy_errors_where_written() {
    let base = "{start: finished_on, end: entered_on, working_days: $n}";
    for (value, column, why) in [
        ("-1", 17, "must be from 0 to 3660, found -1"),
        ("4294967301", 17, "must be from 0 to 3660, found 4294967301"),
        (
            "20.0",
            17,
            "must be a whole number from 0 to 3660, found number",
        ),
        (
            "20.5",
            17,
            "must be a whole number from 0 to 3660, found number",
        ),
        (
            "'20'",
            17,
            "must be a whole number from 0 to 3660, found string",
        ),
    ] {
        let errors = deadline_errors(&format!("{{n: {value}}}"), base);
        assert_eq!(
            errors,
            [(
                11,
                column,
                format!("rule `r`, check `deadline`: `working_days` (parameter `n`) {why}")
            )],
            "{value}"
        );
    }
    let errors = deadline_errors(
        "{n: 20}",
        "{start: finished_on, end: entered_on, workdays: 20, working_days: $nn}",
    );
    assert_eq!(
        errors,
        [
            (13, 55, "rule `r`, check `deadline`: unknown option `workdays`; did you mean `working_days`?".to_owned()),
            (13, 83, "rule `r`, check `deadline`: `$nn` is not a parameter of the rule (`params`); did you mean `n`?".to_owned()),
        ]
    );
    let errors = deadline_errors("{}", "{start: finished_on, end: object, days: 3}");
    assert_eq!(
        errors,
        [(
            13,
            7,
            "rule `r`, check `deadline`: `object` is not a date field".to_owned()
        )]
    );
    let errors = deadline_errors("{}", "{start: finished, end: entered_on, days: 3}");
    assert_eq!(
        errors,
        [(13, 25, "rule `r`, check `deadline`: `finished`: Results has no field `finished`; did you mean `finished_on`?".to_owned())]
    );
    let errors = deadline_errors("{}", "{start: finished_on, end: entered_on}");
    assert_eq!(
        errors,
        [(
            13,
            7,
            "rule `r`, check `deadline`: no deadline: give `working_days`, `days` or `by`"
                .to_owned()
        )]
    );
}

#[test]
fn an_override_out_of_range_is_an_error_where_the_override_is_written() {
    let rule = "    on: [Results]
    params: {working_days: 20}
    check:
      deadline: {start: finished_on, end: entered_on, working_days: $working_days}
    message: {zh: 迟, en: late}
";
    let bad =
        "kind: Policy\nid: q\nextends: p.yaml\noverrides:\n  r:\n    params: {working_days: -3}\n";
    let got: Vec<_> = run(
        &[("q.yaml", bad), ("p.yaml", &policy(rule))],
        &[("r.yaml", RESULTS)],
    )
    .into_iter()
    .filter(|d| d.0.starts_with("policy/"))
    .map(|d| (d.1, d.2, d.3))
    .collect();
    assert_eq!(got, [("policy/q.yaml".to_owned(), 6, 28)]);
    // A decimal where the rule has a whole number is refused by the loader.
    let bad = "kind: Policy\nid: q\nextends: p.yaml\noverrides:\n  r:\n    params: {working_days: 20.5}\n";
    let got: Vec<_> = run(
        &[("q.yaml", bad), ("p.yaml", &policy(rule))],
        &[("r.yaml", RESULTS)],
    )
    .into_iter()
    .filter(|d| d.0.starts_with("policy/"))
    .map(|d| (d.1, d.2, d.3, d.4))
    .collect();
    assert_eq!(
        got,
        [(
            "policy/q.yaml".to_owned(),
            6,
            28,
            "parameter `working_days` must be a whole number, found a number".to_owned()
        )]
    );
}

const LIBRARY: &str = "kind: ObjectLibrary
department: d
objects:
  - id: O1
    name: 甲
    licence_category: 食品
  - uscc: 91420100MA4K000010
    entity_type: enterprise
  - id: O3
    uscc: 91420102MA4K00001Q
    industry: 零售
    risk_level: B
";

#[test]
fn required_fields_with_exceptions_and_a_place_of_their_own() {
    let rule = "    on: [ObjectLibrary]
    check:
      required:
        fields:
          - industry
          - field: risk_level
            unless: {licence_category: {present: true}}
        at: id
    labels:
      missing:
        industry: {zh: 行业, en: industry}
    message: {zh: 缺, en: '{name|uscc|id} lacks {missing}'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("o.yaml", LIBRARY)]);
    assert_eq!(
        got,
        [
            found("r", "data/o.yaml", 4, 9, "甲 lacks industry"),
            found(
                "r",
                "data/o.yaml",
                7,
                5,
                "91420100MA4K000010 lacks industry, risk_level"
            ),
        ]
    );
    let bad = "    on: [ObjectLibrary]\n    check:\n      required: {fields: [industy]}\n    message: {zh: 缺, en: x}\n";
    let got = run(&[("p.yaml", &policy(bad))], &[("o.yaml", LIBRARY)]);
    assert_eq!(
        got,
        [found("policy/check", "policy/p.yaml", 12, 27, "rule `r`, check `required`: `industy`: ObjectLibrary has no field `industy`; did you mean `industry`?")]
    );
}

const INSPECTIONS: &str = "kind: Results
department: d
year: 2024
task: T1
records:
  - {object: O1, inspectors: [P1, P1, P2]}
  - {object: O2, inspectors: [P1, P2, P3, P4]}
  - {object: O3, inspectors: [P9]}
";

#[test]
fn count_at_most_with_repeats_counted() {
    let rule = "    on: [Results]
    check:
      count: {field: inspectors, max: 3, min: 2}
    message: {zh: 人数, en: '{count} inspectors, {min} to {max}'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("r.yaml", INSPECTIONS)]);
    assert_eq!(
        got,
        [
            found("r", "data/r.yaml", 7, 18, "4 inspectors, 2 to 3"),
            found("r", "data/r.yaml", 8, 18, "1 inspectors, 2 to 3"),
        ]
    );
    let bad = "    on: [Results]\n    check:\n      count: {field: inspectors, max: 1, min: 2}\n    message: {zh: 人数, en: x}\n";
    let got = run(&[("p.yaml", &policy(bad))], &[("r.yaml", INSPECTIONS)]);
    assert_eq!(
        got,
        [found(
            "policy/check",
            "policy/p.yaml",
            12,
            7,
            "rule `r`, check `count`: `min` (2) is above `max` (1)"
        )]
    );
}

#[test]
fn help_names_a_finding_s_values_or_only_parameters() {
    // The same check twice: one help names a value of the finding, the other only
    // a parameter (filled once for every finding of its rule).
    let rules = |id: &str, help: &str| {
        format!(
            "  - id: {id}\n    title: {{zh: 规则, en: rule}}\n    clause: 三\n    quote: 原文\n    severity: error\n    params: {{most: 3}}\n    on: [Results]\n    check:\n      count: {{field: inspectors, max: $most, min: 2}}\n    message: {{zh: 人数, en: '{{count}} inspectors'}}\n    help: {{zh: 整改, en: '{help}'}}\n"
        )
    };
    let text = format!(
        "kind: Policy\nid: p\ncalendar: {}\nrules:\n{}{}",
        root().join("policies/calendar/cn.yaml").display(),
        rules("own", "name {most} at most, not {count}"),
        rules("shared", "name {most} at most")
    );
    let dir = folder(&[
        ("policy/p.yaml", text.as_bytes()),
        ("data/r.yaml", INSPECTIONS.as_bytes()),
    ]);
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let options = CheckOptions::new(
        vec![dir.path().join("data")],
        PolicyChoice::File(dir.path().join("policy/p.yaml")),
        as_of,
    );
    let report = check::run(&options).report;
    let helps: Vec<(&str, usize, &str)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let help = d.help.as_ref().map_or("", |h| h.get(Lang::En));
            (d.rule.as_str(), d.line, help)
        })
        .collect();
    assert_eq!(
        helps,
        [
            ("own", 7, "name 3 at most, not 4"),
            ("shared", 7, "name 3 at most"),
            ("own", 8, "name 3 at most, not 1"),
            ("shared", 8, "name 3 at most"),
        ]
    );
}

const ACTIONS: &str = "kind: Results
department: d
year: 2024
task: T1
records:
  - {object: O1, crime_suspected: true, follow_up: {action: 依法移送司法机关处理}}
  - {object: O2, crime_suspected: true, follow_up: {action: 责令整改}}
  - {object: O3, crime_suspected: true, follow_up: {responsible: 某局}}
  - {object: O4, crime_suspected: true}
  - {object: O5, crime_suspected: false, follow_up: {action: 责令整改}}
";

#[test]
fn allowed_by_a_pattern_with_missing_values_reported() {
    let rule = "    on: [Results]
    check:
      allowed: {field: follow_up.action, matches: '移[送交].*(司法|公安|检察)机关', if_missing: report, at: crime_suspected}
      when: {crime_suspected: true}
    message: {zh: 未移送, en: '「{action}」 is not a transfer'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("r.yaml", ACTIONS)]);
    assert_eq!(
        got,
        [
            found("r", "data/r.yaml", 7, 61, "「责令整改」 is not a transfer"),
            found("r", "data/r.yaml", 8, 41, "「—」 is not a transfer"),
            found("r", "data/r.yaml", 9, 35, "「—」 is not a transfer"),
        ]
    );
    let bad = "    on: [Results]\n    check:\n      allowed: {field: follow_up.action, matches: '移[送'}\n    message: {zh: x, en: x}\n";
    let got = run(&[("p.yaml", &policy(bad))], &[("r.yaml", ACTIONS)]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].2, got[0].3),
        ("policy/check", 12, 51)
    );
    assert!(
        got[0]
            .4
            .contains("`matches` is not a valid regular expression"),
        "{got:?}"
    );
}

const PEOPLE: &str = "kind: PersonnelLibrary
department: d
people:
  - {id: P1, name: 王, qualification: 执法证, active: true}
  - {id: P2, name: 刘, active: true}
  - {id: P3, name: 陈, qualification: 执法证, active: false}
";

#[test]
fn reference_with_requirements_on_the_record_it_names() {
    let rule = "    on: [Results]
    check:
      reference:
        field: inspectors
        to: people
        require:
          - {that: {qualification: {present: true}}, message: unqualified}
          - {that: {active: true}, message: inactive}
    message: {zh: 无, en: '{value} unknown'}
    messages:
      unqualified: {zh: 无证, en: '{value} ({found.name}) unqualified'}
      inactive: {zh: 离岗, en: '{inspectors} ({found.name}) inactive'}
";
    let got = run(
        &[("p.yaml", &policy(rule))],
        &[("r.yaml", INSPECTIONS), ("people.yaml", PEOPLE)],
    );
    assert_eq!(
        got,
        [
            found("r", "data/r.yaml", 6, 39, "P2 (刘) unqualified"),
            found("r", "data/r.yaml", 7, 35, "P2 (刘) unqualified"),
            found("r", "data/r.yaml", 7, 39, "P3 (陈) inactive"),
            found("r", "data/r.yaml", 7, 43, "P4 unknown"),
            found("r", "data/r.yaml", 8, 31, "P9 unknown"),
        ]
    );
    // Without a personnel library, nothing is checked; unless asked.
    assert!(run(&[("p.yaml", &policy(rule))], &[("r.yaml", INSPECTIONS)]).is_empty());
    let asked = rule.replace(
        "        to: people\n",
        "        to: people\n        if_no_target: report\n",
    );
    assert_eq!(
        run(&[("p.yaml", &policy(&asked))], &[("r.yaml", INSPECTIONS)]).len(),
        8
    );
}

#[test]
fn uscc_codes_and_library_ids() {
    let results = "kind: Results
department: d
year: 2024
task: T1
records:
  - {object: O1}
  - {object: 91420100MA4K000010}
  - {object: 91420102MA4K00001Q}
";
    let ids = "kind: ObjectLibrary\ndepartment: d\nobjects:\n  - {id: O1, name: 甲}\n";
    let rule = |skip: &str| {
        format!("    on: [Results]\n    check:\n      uscc: {{field: object{skip}}}\n    message: {{zh: 码, en: '{{code}}: {{reason}}'}}\n")
    };
    let got = run(
        &[("p.yaml", &policy(&rule(", library_ids: skip")))],
        &[("r.yaml", results), ("o.yaml", ids)],
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].2, got[0].3), (7, 14));
    assert!(got[0].4.starts_with("91420100MA4K000010: "), "{got:?}");
    let got = run(
        &[("p.yaml", &policy(&rule("")))],
        &[("r.yaml", results), ("o.yaml", ids)],
    );
    assert_eq!(got.iter().map(|d| d.2).collect::<Vec<_>>(), [6, 7]);
    // A library id that is its record's USCC too is that code, and is checked; one that
    // is only an id is not.
    let results = format!("{results}  - {{object: 91420100MA4K000029}}\n");
    let ids = format!(
        "{ids}  - {{id: 91420100MA4K000010, uscc: 91420100MA4K000010, name: 乙}}\n  - {{id: 91420100MA4K000029, uscc: 91420102MA4K00001Q, name: 丙}}\n"
    );
    let got = run(
        &[("p.yaml", &policy(&rule(", library_ids: skip")))],
        &[("r.yaml", &results), ("o.yaml", &ids)],
    );
    assert_eq!(got.iter().map(|d| d.2).collect::<Vec<_>>(), [7], "{got:?}");
    let got = run(
        &[("p.yaml", &policy(&rule("")))],
        &[("r.yaml", &results), ("o.yaml", &ids)],
    );
    assert_eq!(got.iter().map(|d| d.2).collect::<Vec<_>>(), [6, 7, 9]);
}

#[test]
fn shares_of_records_and_of_a_weighted_list() {
    let rule = "    on: [Results]
    params: {min: 0.75}
    check:
      share: {of: records, passes: {entered_on: {present: true}}, min: $min, figure: entered}
      each: submission
    message: {zh: 率, en: '{share} ({passed}/{total}) below {min_pct}'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("r.yaml", RESULTS)]);
    assert!(got.is_empty(), "{got:?}");
    let strict = rule.replace("{min: 0.75}", "{min: 0.8}");
    let got = run(&[("p.yaml", &policy(&strict))], &[("r.yaml", RESULTS)]);
    assert_eq!(
        got,
        [found("r", "data/r.yaml", 5, 1, "75.0% (3/4) below 80.0%")]
    );
    let plan = "kind: Plan
department: d
year: 2024
tasks:
  - {id: T1, items: [I1, I2, I3], joint: true}
  - {id: T2, items: [I4], joint: false}
  - {id: T3, joint: false}
";
    let weighted = "    on: [Plan]
    check:
      share: {of: tasks, passes: {joint: true}, weight: items, min: 0.7, figure: joint-items}
      each: document
    message: {zh: 率, en: '{share} ({passed}/{total})'}
";
    let got = run(&[("p.yaml", &policy(weighted))], &[("plan.yaml", plan)]);
    assert_eq!(got, [found("r", "data/plan.yaml", 4, 1, "60.0% (3/5)")]);
    let bad = weighted.replace("each: document", "each: record");
    let got = run(&[("p.yaml", &policy(&bad))], &[("plan.yaml", plan)]);
    assert_eq!(
        got.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        ["policy/check"],
        "{got:?}"
    );
}

#[test]
fn conditions_any_not_length_and_fields_compared() {
    let results = "kind: Results
department: d
year: 2024
task: T1
records:
  - {object: ABCDEFGHIJKLMNOPQR, entity_type: other, finished_on: 2024-05-01, entered_on: 2024-05-01}
  - {object: O2, entity_type: enterprise, finished_on: 2024-05-01, entered_on: 2024-05-02}
  - {object: O3, entity_type: other, finished_on: 2024-05-01, entered_on: 2024-05-02}
";
    let rule = "    on: [Results]
    check:
      required: {fields: [inspectors]}
      when:
        any: [{object: {length: 18}}, {entity_type: {in: [enterprise]}}]
        not: {entered_on: {equals_field: finished_on}}
    message: {zh: 缺, en: '{object} lacks {missing}'}
";
    let got = run(&[("p.yaml", &policy(rule))], &[("r.yaml", results)]);
    assert_eq!(
        got,
        [found("r", "data/r.yaml", 7, 6, "O2 lacks inspectors")]
    );
    let bad = rule.replace("{length: 18}", "{lenght: 18}");
    let got = run(&[("p.yaml", &policy(&bad))], &[("r.yaml", results)]);
    assert_eq!(
        got,
        [found(
            "policy/check",
            "policy/p.yaml",
            14,
            25,
            "rule `r`, check `required`: unknown test `lenght`; did you mean `length`?"
        )]
    );
}

#[test]
fn messages_are_checked_against_what_the_check_reports() {
    let rule = "    on: [Results]
    check:
      count: {field: inspectors, min: 2}
    message: {zh: '{count} {nonexistent}', en: '{count} {object} {document.task}'}
";
    let got: Vec<_> = run(&[("p.yaml", &policy(rule))], &[("r.yaml", INSPECTIONS)])
        .into_iter()
        .filter(|d| d.0.starts_with("policy/"))
        .collect();
    assert_eq!(
        got,
        [found("policy/message", "policy/p.yaml", 13, 5, "placeholder `{nonexistent}` is filled by nothing: it is not a value the check or script reports (a key of a `#{…}` map in the script), a parameter of the rule, or a field of the record")]
    );
    let good = rule.replace(" {nonexistent}", "");
    let got = run(&[("p.yaml", &policy(&good))], &[("r.yaml", INSPECTIONS)]);
    assert_eq!(got, [found("r", "data/r.yaml", 8, 18, "1 O3 T1")]);
    // A check that reports findings of a kind the rule has no message for.
    let missing = "    on: [Results]\n    check:\n      deadline: {start: finished_on, end: entered_on, days: 3, before_start: report}\n    message: {zh: x, en: x}\n";
    let got = run(&[("p.yaml", &policy(missing))], &[("r.yaml", RESULTS)]);
    assert_eq!(
        got.iter().map(|d| (d.0.as_str(), d.4.as_str())).collect::<Vec<_>>(),
        [("policy/message", "rule `r` reports findings of kind `before_start`, but `messages` has no `before_start`")]
    );
}

#[test]
fn every_check_of_the_vocabulary_is_documented_and_used_by_a_test_here() {
    let text = std::fs::read_to_string(root().join("tests/checks.rs")).expect("this file");
    for kind in spotlint::rules::checks::VOCABULARY {
        let doc = spotlint::rules::checks::documentation(kind);
        for heading in [
            "## What it checks",
            "## Options",
            "## Values for messages",
            "## Example",
        ] {
            assert!(doc.contains(heading), "{}: no `{heading}`", kind.name);
        }
        assert!(
            text.contains(&format!("{}:", kind.name)) || kind.name == "sample_size",
            "{} is not exercised",
            kind.name
        );
    }
}
