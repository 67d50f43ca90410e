//! The fuzz targets' inputs, mutated on the stable toolchain: each seed of
//! `fuzz/corpus/<target>/` is changed by a few byte-level edits (proptest, fixed seed)
//! and fed to the same harness the cargo-fuzz targets run (`fuzz/harness.rs`), which
//! panics when a reader, loader, script or writer panics or reports a problem outside
//! its file. A short, deterministic stand-in for the fuzzers, run with every
//! `cargo test`.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[path = "../fuzz/harness.rs"]
mod harness;

/// Bytes that change a parse: delimiters, quotes, YAML and Rhai syntax, control and
/// multi-byte characters, a ZIP signature.
const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\n",
    b"\r",
    b"\t",
    b",",
    b";",
    b"\"",
    b"'",
    b":",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"#",
    b"&a",
    b"*a",
    b"!!",
    b"---\n",
    b"\\",
    b"(",
    b")",
    b"\x1b[",
    b"\xe2\x80\xae",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xe4\xb8",
    b"PK\x03\x04",
    b"9223372036854775807",
    b"-1",
    b"1e309",
    b"%",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Edit::Flip(at, bit)),
        (any::<usize>(), 0..INTERESTING.len()).prop_map(|(at, i)| Edit::Insert(at, i)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..256).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for e in edits {
        let len = data.len().max(1);
        match *e {
            Edit::Flip(at, bit) if !data.is_empty() => data[at % len] ^= 1 << (bit % 8),
            Edit::Flip(..) => {}
            Edit::Insert(at, i) => {
                let at = at % (data.len() + 1);
                data.splice(at..at, INTERESTING[i].iter().copied());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(data.len());
                data.drain(at.min(end)..end);
            }
            Edit::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(data.len());
                let copy = data[at.min(end)..end].to_vec();
                data.splice(end..end, copy);
            }
            Edit::Truncate(at) => data.truncate(at % len),
        }
    }
    data
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable corpus folder").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Runs `cases` mutated seeds through `target`; a panic fails the test with the input.
fn mutate(target: &str, cases: u32, run: fn(&[u8])) {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = (0..seeds.len(), proptest::collection::vec(edit(), 0..6));
    let outcome = runner.run(&strategy, |(seed, edits)| {
        let input = apply(&seeds[seed], &edits);
        std::panic::catch_unwind(|| run(&input)).map_err(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            TestCaseError::fail(format!(
                "{target} panicked ({why}) on seed {seed} with {edits:?}: {:?}",
                String::from_utf8_lossy(&input)
            ))
        })
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // Every seed as it is, too.
    for seed in &seeds {
        run(seed);
    }
}

#[test]
fn yaml_reader_survives_mutated_seeds() {
    mutate("yaml", 200, harness::yaml);
}

#[test]
fn csv_reader_survives_mutated_seeds() {
    mutate("csv", 200, harness::csv);
}

#[test]
fn xlsx_reader_survives_mutated_seeds() {
    mutate("xlsx", 40, harness::xlsx);
}

#[test]
fn policy_loader_survives_mutated_seeds() {
    mutate("policy", 100, harness::policy);
}

#[test]
fn script_sandbox_survives_mutated_seeds() {
    mutate("script", 60, harness::script);
}

#[test]
fn report_writers_survive_mutated_seeds() {
    mutate("reports", 100, harness::reports);
}

/// The span of a YAML syntax error in `text`: (code, line, column, span text).
fn yaml_error(text: &str) -> (String, usize, usize, String) {
    use spotlint::parse::{source::SourceFile, yaml};
    let source = SourceFile::from_text("t.yaml", text);
    let e = yaml::load(&source).expect_err("malformed YAML");
    let (line, column) = source.line_col(e.span.start as usize);
    let shown = source
        .text
        .get(e.span.start as usize..e.span.end as usize)
        .unwrap_or_else(|| panic!("span {:?} is not a slice of the text", e.span))
        .to_owned();
    (e.code.to_owned(), line, column, shown)
}

#[test]
fn a_yaml_error_at_a_multibyte_character_covers_the_character() {
    // Found by the yaml target: the error span was one byte, inside `督`.
    assert_eq!(
        yaml_error("a:\n  b: 1\n 督管理局\n"),
        ("input/malformed".to_owned(), 3, 2, "督".to_owned())
    );
}

#[test]
fn a_yaml_error_at_the_end_of_the_file_stays_inside_it() {
    // Found by the policy target: the error span ended one byte past the text.
    assert_eq!(
        yaml_error("message: {zh"),
        ("input/malformed".to_owned(), 1, 13, String::new())
    );
}
