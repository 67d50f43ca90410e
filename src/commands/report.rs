//! `spotlint report`: the office's 情况通报 across departments. Each department's
//! submission (a folder) is checked by the same job as `spotlint check`, side by side,
//! and summed up in one row; a department that cannot be read is listed with the
//! reason, never left out.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::check::{self, CheckOptions, RunArgs};
use super::progress::Progress;
use super::{write_output, EXIT_ERROR};
use crate::diag::{Lang, Text};
use crate::report::bulletin::{Bulletin, Row};
use crate::report::{html, human, xlsx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// A workbook: needs `--output`.
    Xlsx,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Department folders, or folders whose subfolders are departments.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report to this file instead of standard output (required for xlsx).
    #[arg(long)]
    output: Option<PathBuf>,
}

/// A department: a name for its row and the folder (or file) that holds its submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub name: String,
    pub path: PathBuf,
}

/// The departments under `paths`: a folder that holds submission files itself is one
/// department; a folder that holds only folders has one department per subfolder.
pub fn departments(paths: &[PathBuf]) -> Vec<Department> {
    let mut found = Vec::new();
    for path in paths {
        let holds_files = path.is_file() || !path.is_dir() || holds_documents(path);
        let subfolders = if holds_files {
            Vec::new()
        } else {
            subfolders(path)
        };
        if subfolders.is_empty() {
            found.push(department(path));
        } else {
            found.extend(subfolders.iter().map(|p| department(p)));
        }
    }
    found
}

fn department(path: &Path) -> Department {
    // `.` and `..` are named by the folder they stand for.
    let named = match path.file_stem() {
        Some(_) => Some(path.to_path_buf()),
        None => path.canonicalize().ok(),
    };
    let name = named
        .as_deref()
        .and_then(Path::file_stem)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Department {
        name,
        path: path.to_path_buf(),
    }
}

fn visible_entries(path: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries
}

fn holds_documents(path: &Path) -> bool {
    visible_entries(path).iter().any(|p| {
        p.is_file()
            && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                super::DOCUMENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
            })
    })
}

fn subfolders(path: &Path) -> Vec<PathBuf> {
    visible_entries(path)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

/// Checks every department side by side, each as `spotlint check` would on its own.
/// Also gives each shipped policy chosen, once.
pub fn rows(
    departments: &[Department],
    options: &CheckOptions,
    progress: &Progress,
) -> (Vec<Row>, BTreeSet<String>) {
    let checked: Vec<(Row, Option<String>)> = departments
        .par_iter()
        .map(|d| {
            let row = row(d, options);
            progress.advance(1);
            row
        })
        .collect();
    let mut chosen = BTreeSet::new();
    let rows = checked
        .into_iter()
        .map(|(row, policy)| {
            chosen.extend(policy);
            row
        })
        .collect();
    (rows, chosen)
}

fn row(d: &Department, options: &CheckOptions) -> (Row, Option<String>) {
    let shown = d.path.display().to_string();
    // The departments' bar is the one drawn.
    let one = CheckOptions {
        paths: vec![d.path.clone()],
        progress: None,
        ..options.clone()
    };
    // A defect of the checker in one department must not lose the others' rows.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check::run(&one)));
    match checked {
        Ok(outcome) => (
            Row::from_report(d.name.clone(), shown, &outcome.report),
            outcome.chosen,
        ),
        Err(_) => (
            Row::unreadable(
                d.name.clone(),
                shown,
                Text::new(
                    "检查中断（spotlint 内部错误），请报告此问题",
                    "the check stopped (an internal error of spotlint); please report it",
                ),
            ),
            None,
        ),
    }
}

/// Runs `spotlint report` and returns the exit code.
pub fn main(args: Args, out: &mut dyn Write) -> i32 {
    if args.format == Format::Xlsx && args.output.is_none() {
        eprintln!("error: --format xlsx writes a workbook, not text: give --output FILE");
        return EXIT_ERROR;
    }
    let options = args.run.check_options(Vec::new());
    let as_of = options.as_of;
    let departments = departments(&args.paths);
    let label = match args.run.lang {
        Lang::Zh => "检查各部门",
        Lang::En => "checking departments",
    };
    let progress = Progress::new(
        !args.run.no_progress,
        departments.len() as u64,
        label,
        args.run.lang,
    );
    let (rows, chosen) = rows(&departments, &options, &progress);
    drop(progress);
    for line in chosen {
        eprintln!("{line}");
    }
    let bulletin = Bulletin::new(as_of.format("%Y-%m-%d").to_string(), rows);
    let lang = args.run.lang;
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            Format::Human => human::write_bulletin(&bulletin, lang, w),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, &bulletin.to_json(lang))?;
                writeln!(w)
            }
            Format::Xlsx => {
                let book =
                    xlsx::bulletin_workbook(&bulletin, lang).map_err(std::io::Error::other)?;
                w.write_all(&book)
            }
            Format::Html => w.write_all(html::bulletin_page(&bulletin, lang).as_bytes()),
        }
    };
    let written = match &args.output {
        Some(path) => write_output(path, &args.paths, write).map_err(|e| (path.display(), e)),
        None => {
            let mut buffered = std::io::BufWriter::new(out);
            match write(&mut buffered).and_then(|()| buffered.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write the report: {e}");
                    return EXIT_ERROR;
                }
                _ => Ok(()),
            }
        }
    };
    if let Err((path, e)) = written {
        eprintln!("error: cannot write {path}: {e}");
        return EXIT_ERROR;
    }
    bulletin.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_folders_is_one_department_each() {
        let root = tempfile::tempdir().expect("temp dir");
        for (file, text) in [
            ("city/a/plan.yaml", "x"),
            ("city/b/results.csv", "x"),
            ("city/.hidden/plan.yaml", "x"),
            ("single/plan.yaml", "x"),
            ("single/sub/results.csv", "x"),
        ] {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        std::fs::create_dir_all(root.path().join("empty")).expect("mkdir");
        let found = departments(&[
            root.path().join("city"),
            root.path().join("single"),
            root.path().join("empty"),
            root.path().join("missing"),
        ]);
        let names: Vec<&str> = found.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "single", "empty", "missing"]);
    }
}
