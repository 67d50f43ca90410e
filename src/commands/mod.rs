//! The jobs of the command line: one module per command.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::commands::check::PolicyChoice;
use crate::diag::{Lang, Report};
use crate::policy::Policy;
use crate::report::{Format, Style};

pub mod check;
pub mod convert;
pub mod explain;
pub mod policy;
pub mod progress;
pub mod report;
pub mod schema;
pub mod test;

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// `--policy FILE`, or the shipped policy.
pub fn choice(policy: Option<PathBuf>) -> PolicyChoice {
    policy.map_or(PolicyChoice::Shipped, PolicyChoice::File)
}

/// Prints problems that stop a command (a policy that does not load) and exits 2.
pub fn fail(report: &Report, lang: Lang, style: Style, out: &mut dyn Write) -> i32 {
    emit(report, None, Format::Human, lang, style, out);
    EXIT_ERROR
}

/// Writes a report; a broken pipe is not an error.
pub fn emit(
    report: &Report,
    policy: Option<&Policy>,
    format: Format,
    lang: Lang,
    style: Style,
    out: &mut dyn Write,
) {
    // A report of many findings is many small writes: buffered, not a system call each.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    let written = crate::report::write(report, policy, format, lang, style, &mut buffered)
        .and_then(|()| buffered.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
        }
    }
}

/// Extensions of the files that `check` reads from a folder (see `read::input`).
const DOCUMENT_EXTENSIONS: [&str; 6] = ["yaml", "yml", "json", "csv", "xlsx", "xls"];

/// Writes a file that spotlint makes (a report, a workbook, an annotated copy): into a
/// temporary file in the same folder, renamed into place once complete, so that a
/// failed run leaves no half-written file. A path that is one of `inputs` (or a
/// document inside an input folder) is refused: a report never replaces what it reports on.
///
/// A symbolic link is written through (the file it names is replaced, the link kept),
/// and what is not a regular file (`/dev/null`, a pipe, a terminal) is written to as it
/// is: renaming a file over it would put a regular file in its place.
pub fn write_output(
    path: &Path,
    inputs: &[PathBuf],
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if is_input(path, inputs) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is one of the input files; choose another output path",
        ));
    }
    // Where the report goes: the file a link names, once it exists.
    let target = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            let mut file = io::BufWriter::with_capacity(
                1 << 16,
                std::fs::OpenOptions::new().write(true).open(path)?,
            );
            write(&mut file)?;
            return file.flush();
        }
        Ok(_) => path.canonicalize()?,
        // Not there yet, or a link to what is not there yet: the file it will be.
        Err(_) => through_links(path),
    };
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the output path names no file")
    })?;
    static WRITTEN: AtomicUsize = AtomicUsize::new(0);
    let temporary = target.with_file_name(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        WRITTEN.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        write(&mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Where `path` leads through symbolic links (a link to a file not made yet), or `path`.
fn through_links(path: &Path) -> PathBuf {
    let mut at = path.to_path_buf();
    // As many links as the kernel follows before it gives up (ELOOP).
    for _ in 0..40 {
        let Ok(next) = std::fs::read_link(&at) else {
            break;
        };
        at = match at.parent() {
            Some(folder) if next.is_relative() => folder.join(next),
            _ => next,
        };
    }
    at
}

/// Whether `path` is an input: one given, or a document inside a folder given.
fn is_input(path: &Path, inputs: &[PathBuf]) -> bool {
    // A path that does not exist yet is no input.
    let Ok(target) = path.canonicalize() else {
        return false;
    };
    let read_from_folder = target
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| DOCUMENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    inputs
        .iter()
        .filter_map(|input| input.canonicalize().ok())
        .any(|input| {
            input == target || (read_from_folder && input.is_dir() && target.starts_with(&input))
        })
}

/// Writes the annotated copy of every input table with diagnostics under `dir`;
/// returns whether all were written.
pub fn write_annotated(report: &Report, dir: &Path, inputs: &[PathBuf], lang: Lang) -> bool {
    let mut all_written = true;
    let tables = crate::report::annotate::tables(report);
    if tables.is_empty() {
        eprintln!("annotated: no input table has findings; nothing written");
    }
    for table in tables {
        let copy = crate::report::annotate::copy_path(dir, table.path);
        let written = table.workbook(lang).and_then(|bytes| {
            if let Some(parent) = copy.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            write_output(&copy, inputs, |w| w.write_all(&bytes)).map_err(|e| e.to_string())
        });
        match written {
            Ok(()) => eprintln!("annotated: {} → {}", table.path, copy.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", copy.display());
                all_written = false;
            }
        }
    }
    all_written
}
