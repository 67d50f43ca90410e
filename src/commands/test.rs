//! `spotlint test`: policy unit tests written in YAML by policy staff.
//!
//! ```yaml
//! kind: PolicyTest
//! name: 五一假期与 5 月 11 日调休后第 20 个工作日为 5 月 30 日
//! policy: ../wuhan-2024.yaml          # optional; default: the shipped policy for the year
//! as_of: 2024-12-31
//! params:                             # optional parameter overrides, per rule
//!   result-entry-deadline: {working_days: 20}
//! inputs: [../../fixtures/rules/result-entry-deadline/pass]   # paths, and/or
//! documents:                          # inline documents
//!   - kind: Results
//!     …
//! expect:                             # findings expected: rule, file (suffix), line
//!   - {rule: result-entry-deadline, file: results.yaml, line: 10}
//! # or `expect: none`
//! ```

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::commands::check::{self, CheckOptions, PolicyChoice};
use crate::diag::{Diagnostic, Origin, Text};
use crate::parse::source::SourceFile;
use crate::parse::tree::{Tree, Value};
use crate::policy::{self, Policy};
use crate::read::input;
use crate::schema::{self, Field, KindSchema, Ty};

#[derive(Debug, clap::Args)]
pub struct Args {
    paths: Vec<PathBuf>,
    /// Policy for tests that name none (default: the shipped policy).
    #[arg(long)]
    policy: Option<PathBuf>,
}

/// Runs `spotlint test` and returns the exit code.
pub fn main(args: Args, out: &mut dyn Write) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("policies/tests")]
    } else {
        args.paths
    };
    let run = run(&paths, &super::choice(args.policy));
    let _ = write!(out, "{}", render(&run));
    run.exit_code()
}

const EXPECTATION: &[Field] = &[
    Field {
        name: "rule",
        zh: "规则",
        ty: Ty::Str,
        required: true,
        doc: "Rule id.",
    },
    Field {
        name: "file",
        zh: "文件",
        ty: Ty::Str,
        required: false,
        doc: "File (its path ends with this).",
    },
    Field {
        name: "line",
        zh: "行",
        ty: Ty::Int,
        required: false,
        doc: "Line.",
    },
];

const TEST: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "PolicyTest",
    },
    Field {
        name: "name",
        zh: "名称",
        ty: Ty::Str,
        required: true,
        doc: "What the test shows.",
    },
    Field {
        name: "policy",
        zh: "规则集",
        ty: Ty::Str,
        required: false,
        doc: "Policy file, relative to the test.",
    },
    Field {
        name: "as_of",
        zh: "评估日期",
        ty: Ty::Date,
        required: true,
        doc: "Evaluation date.",
    },
    Field {
        name: "params",
        zh: "参数",
        ty: Ty::Any,
        required: false,
        doc: "rule id → {param: value} overrides.",
    },
    Field {
        name: "inputs",
        zh: "输入",
        ty: Ty::List(&Ty::Str),
        required: false,
        doc: "Input files or folders, relative to the test.",
    },
    Field {
        name: "documents",
        zh: "文档",
        ty: Ty::Any,
        required: false,
        doc: "Inline documents.",
    },
    Field {
        name: "expect",
        zh: "预期",
        ty: Ty::Any,
        required: true,
        doc: "Expected findings, or `none`.",
    },
];

pub const TEST_SCHEMA: KindSchema = KindSchema {
    kind: "PolicyTest",
    zh: "规则测试",
    fields: TEST,
    records: "expect",
};

/// (rule, file, line) of one expected or actual finding.
type Key = (String, String, Option<i64>);

pub struct TestResult {
    pub name: String,
    pub file: String,
    pub passed: bool,
    pub missing: Vec<Key>,
    pub unexpected: Vec<Key>,
    pub problems: Vec<Diagnostic>,
}

pub struct Run {
    pub results: Vec<TestResult>,
    /// Test files that could not be read at all.
    pub errors: Vec<Diagnostic>,
}

/// Runs every `kind: PolicyTest` document under `paths`.
pub fn run(paths: &[PathBuf], default_policy: &PolicyChoice) -> Run {
    let mut run = Run {
        results: Vec::new(),
        errors: Vec::new(),
    };
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_type().is_file()
                        && e.path()
                            .extension()
                            .is_some_and(|x| x == "yaml" || x == "yml")
                })
                .map(|e| e.into_path())
                .collect()
        } else {
            vec![path.clone()]
        };
        for file in files {
            run_file(&file, default_policy, &mut run);
        }
    }
    // No test run is not a pass.
    if run.results.is_empty() && run.errors.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        run.errors.push(Diagnostic::unplaced(
            Origin::Input,
            "test/none",
            &shown.join(" "),
            Text::new(
                "没有找到策略测试（`kind: PolicyTest` 的 YAML 文件）",
                "found no policy test (YAML files of `kind: PolicyTest`)",
            ),
        ));
    }
    run
}

fn run_file(file: &Path, default_policy: &PolicyChoice, run: &mut Run) {
    let shown = file.display().to_string();
    let source = match std::fs::read(file)
        .map_err(|e| e.to_string())
        .and_then(|b| SourceFile::decode(shown.clone(), &b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            run.errors.push(Diagnostic::unplaced(
                Origin::Input,
                "test/unreadable",
                &shown,
                Text::new(format!("无法读取：{e}"), format!("cannot read: {e}")),
            ));
            return;
        }
    };
    let trees = match crate::parse::yaml::load(&source) {
        Ok(t) => t,
        Err(e) => {
            run.errors.push(input::input_error(&source, &e));
            return;
        }
    };
    for mut tree in trees {
        if schema::header_str(&tree, "kind").as_deref() != Some("PolicyTest") {
            continue;
        }
        let errors = schema::validate(&mut tree, &TEST_SCHEMA);
        if !errors.is_empty() {
            run.errors
                .extend(errors.iter().map(|e| input::input_error(&source, e)));
            continue;
        }
        run.results
            .push(run_test(file, &source, tree, default_policy));
    }
}

fn run_test(
    file: &Path,
    source: &Arc<SourceFile>,
    tree: Tree,
    default_policy: &PolicyChoice,
) -> TestResult {
    let tree = Arc::new(tree);
    let dir = file.parent().unwrap_or(Path::new(""));
    let root = tree.root;
    let name = tree.str_at(root, "name").unwrap_or_default().to_owned();
    let as_of = tree
        .str_at(root, "as_of")
        .and_then(|d| schema::parse_date(d).ok())
        .unwrap_or_else(check::today);
    let mut result = TestResult {
        name,
        file: file.display().to_string(),
        passed: false,
        missing: Vec::new(),
        unexpected: Vec::new(),
        problems: Vec::new(),
    };

    let inputs: Vec<PathBuf> = tree
        .get_present(root, "inputs")
        .map(|l| {
            tree.seq(l)
                .iter()
                .filter_map(|i| tree.str_at_node(*i))
                .map(|p| dir.join(p))
                .collect()
        })
        .unwrap_or_default();
    let mut loaded = input::load_paths(&inputs);
    if let Some(docs) = tree.get_present(root, "documents") {
        for &doc in tree.seq(docs) {
            let sub = Tree {
                nodes: tree.nodes.clone(),
                root: doc,
                source: Arc::clone(source),
                invalid: Vec::new(),
            };
            input::load_tree(source, sub, &mut loaded);
        }
    }
    let year = loaded.documents.iter().filter_map(|d| d.year).max();
    let choice = match tree.str_at(root, "policy") {
        Some(p) => PolicyChoice::File(dir.join(p)),
        None => default_policy.clone(),
    };
    let mut policy: Policy = match check::load_policy_for(&choice, year) {
        Ok(p) => p,
        Err(report) => {
            result.problems = report.diagnostics;
            return result;
        }
    };
    if let Some(params) = tree.get_present(root, "params") {
        if let Err(problems) = policy::override_params(&tree, params, &mut policy) {
            result.problems = problems;
            return result;
        }
    }
    let options = CheckOptions::new(Vec::new(), PolicyChoice::Shipped, as_of);
    let report = check::check_documents(&policy, &options, loaded);
    result.problems = report
        .diagnostics
        .iter()
        .filter(|d| d.origin != Origin::Finding)
        .cloned()
        .collect();
    let actual: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.origin == Origin::Finding)
        .collect();
    let expected = match expectations(&tree, source) {
        Ok(e) => e,
        Err(problems) => {
            result.problems.extend(problems);
            return result;
        }
    };
    let mut matched = vec![false; actual.len()];
    for e in &expected {
        let hit = actual
            .iter()
            .enumerate()
            .find(|(i, d)| !matched[*i] && key_matches(e, d));
        match hit {
            Some((i, _)) => matched[i] = true,
            None => result.missing.push(e.clone()),
        }
    }
    result.unexpected = actual
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(d, _)| (d.rule.to_string(), d.file.to_string(), Some(d.line as i64)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    result.passed =
        result.problems.is_empty() && result.missing.is_empty() && result.unexpected.is_empty();
    result
}

fn key_matches((rule, file, line): &Key, d: &Diagnostic) -> bool {
    d.rule == *rule
        && (file.is_empty()
            || Path::new(&d.file).ends_with(file)
            || d.file.ends_with(file.as_str()))
        && line.is_none_or(|l| l == d.line as i64)
}

/// The `expect:` list (or `none`), each entry checked like any other document.
fn expectations(tree: &Tree, source: &Arc<SourceFile>) -> Result<Vec<Key>, Vec<Diagnostic>> {
    let Some(expect) = tree.get(tree.root, "expect") else {
        return Ok(Vec::new());
    };
    let shape = KindSchema {
        kind: "expectation",
        zh: "预期",
        fields: EXPECTATION,
        records: "",
    };
    match &tree.node(expect).value {
        Value::Str(s) if s.as_str() == "none" => return Ok(Vec::new()),
        Value::Seq(_) => {}
        _ => {
            let message = Text::new(
                "`expect` 应为预期问题列表或 `none`",
                "`expect` must be a list of expected findings or `none`",
            );
            return Err(vec![Diagnostic::problem(
                Origin::Input,
                "test/invalid",
                source,
                tree.report_span(expect),
                message,
            )]);
        }
    }
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for &e in tree.seq(expect) {
        let mut entry = Tree {
            nodes: tree.nodes.clone(),
            root: e,
            source: Arc::clone(source),
            invalid: Vec::new(),
        };
        let errors = schema::validate(&mut entry, &shape);
        if !errors.is_empty() {
            problems.extend(errors.iter().map(|x| input::input_error(source, x)));
            continue;
        }
        keys.push((
            entry.str_at(e, "rule").unwrap_or_default().to_owned(),
            entry.str_at(e, "file").unwrap_or_default().to_owned(),
            entry.int_at(e, "line"),
        ));
    }
    if problems.is_empty() {
        Ok(keys)
    } else {
        Err(problems)
    }
}

impl Tree {
    /// Text of a scalar node.
    pub fn str_at_node(&self, id: crate::parse::tree::NodeId) -> Option<String> {
        match &self.node(id).value {
            Value::Str(s) => Some(s.to_string()),
            _ => self.node(id).raw.as_ref().map(|r| r.to_string()),
        }
    }
}

/// The human report of a test run.
pub fn render(run: &Run) -> String {
    let mut out = String::new();
    let show = |k: &Key| {
        format!(
            "{} {}{}",
            k.0,
            k.1,
            k.2.map(|l| format!(":{l}")).unwrap_or_default()
        )
    };
    for r in &run.results {
        out.push_str(&format!(
            "{} {} ({})\n",
            if r.passed { "PASS" } else { "FAIL" },
            r.name,
            r.file
        ));
        for m in &r.missing {
            out.push_str(&format!("    - expected, not found: {}\n", show(m)));
        }
        for u in &r.unexpected {
            out.push_str(&format!("    + found, not expected: {}\n", show(u)));
        }
        for p in &r.problems {
            out.push_str(&format!(
                "    ! {}:{}:{} {}: {}\n",
                p.file, p.line, p.column, p.rule, p.message.en
            ));
        }
    }
    for e in &run.errors {
        out.push_str(&format!(
            "ERROR {}:{}:{} {}: {}\n",
            e.file, e.line, e.column, e.rule, e.message.en
        ));
    }
    let passed = run.results.iter().filter(|r| r.passed).count();
    out.push_str(&format!(
        "{} passed, {} failed\n",
        passed,
        run.results.len() - passed
    ));
    out
}

impl Run {
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty() || self.results.iter().any(|r| !r.problems.is_empty()) {
            2
        } else if self.results.iter().any(|r| !r.passed) {
            1
        } else {
            0
        }
    }
}
