//! `spotlint convert FILE…`: each table (or document) as the normalised document the
//! rules see, in YAML with each value's source cell (`B7`) as a comment, or in JSON.
//! Staff see how their table was read, and can correct the YAML and check it.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use super::{emit, EXIT_CLEAN, EXIT_ERROR};
use crate::commands::check::print_notes;
use crate::diag::{Lang, Report};
use crate::parse::source::SourceFile;
use crate::parse::tree::{Key, NodeId, Tree, Value};
use crate::read::input;
use crate::read::table::{cell_of, CsvCells, ReadOptions, TableNote};
use crate::report::{Format, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    Yaml,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tables (CSV, XLSX) or documents to convert.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "yaml")]
    to: To,
    /// Department of published tables that state none (a sidecar's `department` wins).
    #[arg(long)]
    department: Option<String>,
    /// Year of published plans that state none (a sidecar's `year` wins).
    #[arg(long)]
    year: Option<i64>,
    /// A policy whose `vocabulary` extends the shipped header vocabulary.
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
}

/// Runs `spotlint convert` and returns the exit code: 2 when a file could not be read
/// (its problems on stderr; the others are still converted).
pub fn main(args: Args, out: &mut dyn Write, style: Style) -> i32 {
    let mut options = ReadOptions {
        department: args.department,
        year: args.year,
        vocabulary: None,
        map_from: None,
    };
    if let Some(path) = args.policy {
        match crate::commands::check::load_policy(&super::choice(Some(path))) {
            Ok(policy) => options.vocabulary = policy.vocabulary,
            Err(report) => return super::fail(&report, args.lang, style, out),
        }
    }
    let mut loaded = input::load_paths_with(&args.files, &options);
    for table in std::mem::take(&mut loaded.tables) {
        table.load_whole(&mut loaded);
    }
    print_notes(&loaded.notes, args.lang);
    let mut text = String::new();
    let mut cells: Vec<(String, CsvCells)> = Vec::new();
    for (i, doc) in loaded.documents.iter().enumerate() {
        let tree = &doc.tree;
        match args.to {
            To::Yaml => {
                if i > 0 {
                    text.push_str("---\n");
                }
                let source = &tree.source;
                let csv = source.name.to_ascii_lowercase().ends_with(".csv");
                if csv && !cells.iter().any(|(n, _)| *n == source.name) {
                    cells.push((source.name.to_string(), CsvCells::of(source)));
                }
                let csv_cells = cells
                    .iter()
                    .find(|(n, _)| *n == source.name)
                    .map(|(_, c)| c);
                let notes: Vec<&TableNote> = loaded
                    .notes
                    .iter()
                    .filter(|n| n.source.name == source.name)
                    .collect();
                yaml_document(&mut text, tree, csv_cells, &notes, args.lang);
            }
            To::Json => {
                if i > 0 {
                    text.push_str("---\n");
                }
                json_value(&mut text, tree, tree.root, 0);
                text.push('\n');
            }
        }
    }
    if out.write_all(text.as_bytes()).is_err() {
        return EXIT_ERROR;
    }
    if loaded.diagnostics.is_empty() {
        return EXIT_CLEAN;
    }
    let report = Report {
        diagnostics: loaded.diagnostics,
        ..Report::default()
    };
    let mut stderr = std::io::stderr();
    emit(&report, None, Format::Human, args.lang, style, &mut stderr);
    EXIT_ERROR
}

/// A scalar as YAML (and JSON) writes it: text always quoted, so that `007`, `true`
/// or `2024-05-01` stay the text they are.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f}"),
        Value::Float(_) => "null".to_owned(),
        Value::Str(s) => serde_json::to_string(s.as_str()).unwrap_or_else(|_| "\"\"".to_owned()),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

fn key_text(key: &Key) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        key.to_string()
    } else {
        serde_json::to_string(key.as_str()).unwrap_or_default()
    }
}

/// One line of a cell's text, shortened, for a comment.
fn comment_text(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 40 {
        format!("{}…", line.chars().take(40).collect::<String>())
    } else {
        line
    }
}

struct Yaml<'a> {
    tree: &'a Tree,
    csv: Option<&'a CsvCells>,
}

impl Yaml<'_> {
    /// `# C7`, and the cell's text when the value is not that text as written.
    fn comment(&self, id: NodeId) -> String {
        let node = self.tree.node(id);
        // Fields given beside the table (sidecar, command line) sit at the header row.
        if node.span == self.tree.root_node().span {
            return String::new();
        }
        let source: &SourceFile = &self.tree.source;
        let Some(cell) = cell_of(source, node.span.start as usize, self.csv) else {
            return String::new();
        };
        let written = source
            .text
            .get(node.span.start as usize..node.span.end as usize)
            .unwrap_or("");
        let same = match &node.value {
            Value::Str(s) => s.as_str() == written.trim(),
            Value::Int(i) => i.to_string() == written.trim(),
            _ => false,
        };
        if same || written.trim().is_empty() {
            format!("  # {cell}")
        } else {
            format!("  # {cell}: {}", comment_text(written))
        }
    }

    fn map(&self, out: &mut String, id: NodeId, indent: usize, first_inline: bool) {
        let Value::Map(entries) = &self.tree.node(id).value else {
            return;
        };
        for (i, (key, child)) in entries.iter().enumerate() {
            if !(first_inline && i == 0) {
                out.push_str(&" ".repeat(indent));
            }
            let _ = write!(out, "{}:", key_text(key));
            self.value_after_key(out, *child, indent);
        }
    }

    fn value_after_key(&self, out: &mut String, id: NodeId, indent: usize) {
        match &self.tree.node(id).value {
            Value::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
            Value::Seq(items) if items.is_empty() => out.push_str(" []\n"),
            Value::Map(_) => {
                out.push('\n');
                self.map(out, id, indent + 2, false);
            }
            Value::Seq(_) => {
                out.push('\n');
                self.seq(out, id, indent + 2);
            }
            value => {
                let _ = writeln!(out, " {}{}", scalar(value), self.comment(id));
            }
        }
    }

    fn seq(&self, out: &mut String, id: NodeId, indent: usize) {
        let Value::Seq(items) = &self.tree.node(id).value else {
            return;
        };
        for item in items {
            out.push_str(&" ".repeat(indent));
            out.push('-');
            match &self.tree.node(*item).value {
                Value::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
                Value::Seq(inner) if inner.is_empty() => out.push_str(" []\n"),
                Value::Map(_) => {
                    out.push(' ');
                    self.map(out, *item, indent + 2, true);
                }
                Value::Seq(_) => {
                    out.push('\n');
                    self.seq(out, *item, indent + 2);
                }
                value => {
                    let _ = writeln!(out, " {}{}", scalar(value), self.comment(*item));
                }
            }
        }
    }
}

fn yaml_document(
    out: &mut String,
    tree: &Tree,
    csv: Option<&CsvCells>,
    notes: &[&TableNote],
    lang: Lang,
) {
    let kind = crate::schema::header_str(tree, "kind").unwrap_or_default();
    let _ = writeln!(out, "# {} → {kind}", tree.source.name);
    for note in notes {
        let text = match lang {
            Lang::Zh => &note.zh,
            Lang::En => &note.en,
        };
        let at = cell_of(&note.source, note.span.start as usize, csv)
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        let _ = writeln!(out, "# note: {at}{}", comment_text_long(text));
    }
    let yaml = Yaml { tree, csv };
    yaml.map(out, tree.root, 0, false);
}

/// A note on one comment line.
fn comment_text_long(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The document as JSON, keys in the order of the document.
fn json_value(out: &mut String, tree: &Tree, id: NodeId, indent: usize) {
    let pad = |n: usize| " ".repeat(n);
    match &tree.node(id).value {
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Seq(items) if items.is_empty() => out.push_str("[]"),
        Value::Map(entries) => {
            out.push_str("{\n");
            for (i, (key, child)) in entries.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}{}: ",
                    pad(indent + 2),
                    serde_json::to_string(key.as_str()).unwrap_or_default()
                );
                json_value(out, tree, *child, indent + 2);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}}}", pad(indent));
        }
        Value::Seq(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                json_value(out, tree, *item, indent + 2);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}]", pad(indent));
        }
        value => out.push_str(&scalar(value)),
    }
}
