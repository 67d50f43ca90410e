//! Finding and reading the documents of a submission: walk the given paths, decode,
//! parse, dispatch on `kind`, validate. Every problem becomes a positioned diagnostic
//! and the other files are still read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::ImmutableString;

use crate::diag::{Diagnostic, Origin, Text};
use crate::parse::source::SourceFile;
use crate::parse::tree::Tree;
use crate::parse::yaml;
use crate::read::table::{ReadOptions, TableRead};
use crate::schema::{self, KindSchema};

/// YAML and JSON are read whole; larger record sets belong in tables.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

const DOCUMENT_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "csv", "xlsx", "xls"];
const TABLE_EXTENSIONS: &[&str] = &["csv", "xlsx", "xls"];
/// Tables hold the large record sets; one read whole (or decoded) is still bounded.
pub const MAX_TABLE_BYTES: u64 = 512 * 1024 * 1024;
/// A plain UTF-8 CSV file is mapped rather than read, and never resident whole: bounded
/// by the 32-bit offsets of positions.
pub const MAX_MAPPED_TABLE_BYTES: u64 = u32::MAX as u64;
/// CSV files from this size on are mapped ([`MAX_MAPPED_TABLE_BYTES`]); smaller ones are
/// read, which costs little memory and leaves nothing to a file changed under the run.
/// `SPOTLINT_MAP_FROM` (bytes) sets another size, for tests.
const MAP_FROM_BYTES: u64 = 64 * 1024 * 1024;
/// Kinds that live beside submissions but are not checked as submissions.
const SKIPPED_KINDS: &[&str] = &["Policy", "Calendar", "PolicyTest", "Vocabulary"];

/// A validated document of a submission.
#[derive(Debug, Clone)]
pub struct Document {
    pub schema: &'static KindSchema,
    pub tree: Arc<Tree>,
    pub department: ImmutableString,
    pub year: Option<i64>,
}

impl Document {
    pub fn kind(&self) -> &'static str {
        self.schema.kind
    }
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    /// How tables were read: headers read as close spellings, columns kept as text,
    /// periods left open (for stderr, and as comments in `convert`'s output).
    pub notes: Vec<crate::read::table::TableNote>,
    /// `kind: Waivers` documents found found among the checked files (the submitter's).
    pub waivers: Vec<Arc<Tree>>,
    /// `kind: Waivers` documents named by `--waivers` (the reviewer's).
    pub trusted_waivers: Vec<Arc<Tree>>,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    /// Results tables kept for streaming: their documents are built chunk by chunk
    /// while the rules run (see [`crate::run::stream`]), or read whole if the policy needs.
    pub tables: Vec<Streamable>,
    /// Notes for stderr on how a file was read ("read as GB18030"), printed in file
    /// order once every file is read: files are read side by side.
    pub said: Vec<String>,
}

impl Loaded {
    /// Notes that `shown` was read as `encoding`, where it was not UTF-8.
    fn read_as(&mut self, shown: &str, encoding: Option<&str>) {
        if let Some(encoding) = encoding {
            self.said.push(format!("note: {shown}: read as {encoding}"));
        }
    }
}

/// A CSV Results table, opened but not yet read into documents.
#[derive(Debug)]
pub struct Streamable {
    pub table: crate::read::table::CsvTable,
    /// The years of its first chunk (the policy is chosen by year).
    pub years: Vec<i64>,
}

impl Streamable {
    /// Reads the whole table into documents, as any other table.
    pub fn load_whole(self, loaded: &mut Loaded) {
        load_table_documents(self.table.into_trees(), false, loaded);
    }
}

/// A CSV table: streamed when it holds results (the first chunk tells), else its
/// documents, read whole.
fn open_csv(
    shown: &str,
    bytes: Vec<u8>,
    options: &ReadOptions,
) -> Result<Streamable, TableDocuments> {
    let table = crate::read::table::CsvTable::open(shown, bytes).map_err(Err)?;
    streamable(table, options)
}

/// A regular `.csv` file of at least [`MAP_FROM_BYTES`], mapped: `Err` with the limit
/// when it is larger than can be mapped; `None` when it is to be read as usual.
fn map_csv(path: &Path, options: &ReadOptions) -> Option<Result<memmap2::Mmap, u64>> {
    let from = options.map_from.unwrap_or_else(|| {
        std::env::var("SPOTLINT_MAP_FROM")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(MAP_FROM_BYTES)
    });
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok().filter(|m| m.is_file())?.len();
    if size < from.max(1) {
        return None;
    }
    if size > MAX_MAPPED_TABLE_BYTES {
        return Some(Err(MAX_MAPPED_TABLE_BYTES));
    }
    stop_on_sigbus();
    // SAFETY: a read-only mapping, read as bytes until checked to be UTF-8. A
    // file truncated while it is checked makes its missing pages fault (SIGBUS), which
    // ends the run with a message (see README "What is read, and limits").
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    Some(Ok(map))
}

/// A large table that is not UTF-8 but GB18030 (GBK), decoded into a file of its own
/// and mapped, as a UTF-8 one is: `None` to read it whole.
fn map_decoded(
    path: &Path,
    shown: &str,
    options: &ReadOptions,
) -> Option<crate::read::table::CsvTable> {
    let Some(Ok(map)) = map_csv(path, options) else {
        return None;
    };
    crate::read::table::CsvTable::open_gb18030(shown, &map, MAX_MAPPED_TABLE_BYTES as usize)
}

/// A mapped file cut short while it is read faults with SIGBUS where its pages are
/// gone: the run ends with exit 2 and says why, rather than dying with a bus error.
#[cfg(unix)]
fn stop_on_sigbus() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn on_sigbus(_: libc::c_int) {
        const SAID: &[u8] =
            b"error: an input file was changed (cut short) while it was read; the check stopped\n";
        // SAFETY: write and _exit are async-signal-safe.
        unsafe {
            libc::write(2, SAID.as_ptr().cast(), SAID.len());
            libc::_exit(2);
        }
    }
    ONCE.call_once(|| {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

#[cfg(not(unix))]
fn stop_on_sigbus() {}

fn streamable(
    table: crate::read::table::CsvTable,
    options: &ReadOptions,
) -> Result<Streamable, TableDocuments> {
    if !table.may_hold_results() {
        return Err(table.read_whole(options));
    }
    let Some(first) = table
        .chunks(crate::read::table::CHUNK_ROWS)
        .first()
        .copied()
    else {
        return Err(table.read_whole(options));
    };
    // Plain rows of a Results table tell their years as written, without trees.
    let flat_years = crate::read::table::FlatChunk::read(&table, first)
        .map(|flat| flat.groups.iter().map(|g| g.year).collect::<Vec<_>>());
    table.source.text.release(first);
    match flat_years {
        Some(years) if years.is_empty() => return Err(table.read_whole(options)),
        Some(years) => return Ok(Streamable { years, table }),
        None => {}
    }
    let trees = match table.chunk(first) {
        Ok(trees) => trees,
        Err(_) => return Err(table.read_whole(options)),
    };
    let results = !trees.is_empty()
        && trees
            .iter()
            .all(|t| schema::header_str(t, "kind").as_deref() == Some("Results"));
    if !results {
        return Err(table.read_whole(options));
    }
    Ok(Streamable {
        years: trees
            .iter()
            .filter_map(|t| t.int_at(t.root, "year"))
            .collect(),
        table,
    })
}

type TableDocuments = Result<TableRead, Vec<crate::read::table::TableError>>;

/// Reads every document under `paths` (files or folders).
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    load_paths_with(paths, &ReadOptions::default())
}

/// [`load_paths`], tables read with the command line's department and year and a
/// vocabulary.
pub fn load_paths_with(paths: &[PathBuf], options: &ReadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    for path in paths {
        files.extend(document_files(path, &mut loaded.diagnostics));
    }
    // Files are read side by side (a large table beside a large library), each core
    // taking the largest file not yet taken, so that the library is read beside the
    // table from the start rather than after small files; their documents are kept in
    // file order.
    let mut largest_first: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, file)| (std::fs::metadata(&file.path).map_or(0, |m| m.len()), i))
        .collect();
    largest_first.sort_by_key(|&(size, i)| (std::cmp::Reverse(size), i));
    let done = std::sync::Mutex::new(Vec::with_capacity(files.len()));
    crate::in_turn::in_turn(&largest_first, |&(_, i)| {
        let mut one = Loaded::default();
        let kept = load_file(&files[i], &mut one, options);
        crate::shared::lock(&done).push((i, kept, one));
    });
    let mut each: Vec<(usize, bool, Loaded)> = crate::shared::into_inner(done);
    each.sort_by_key(|&(i, _, _)| i);
    for (_, kept, one) in each {
        for line in &one.said {
            eprintln!("{line}");
        }
        if !kept {
            continue;
        }
        loaded.files += 1;
        loaded.documents.extend(one.documents);
        loaded.notes.extend(one.notes);
        loaded.waivers.extend(one.waivers);
        loaded.diagnostics.extend(one.diagnostics);
        loaded.tables.extend(one.tables);
    }
    loaded
}

/// A file to read, and how it was found.
struct Given {
    path: PathBuf,
    /// Found by walking a folder, rather than named on the command line.
    walked: bool,
}

fn document_files(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<Given> {
    let shown = path.display().to_string();
    let named = |path: &Path| {
        vec![Given {
            path: path.to_path_buf(),
            walked: false,
        }]
    };
    let Ok(meta) = std::fs::metadata(path) else {
        diagnostics.push(Diagnostic::unplaced(
            Origin::Input,
            "input/not-found",
            &shown,
            Text::new("路径不存在", "no such file or folder"),
        ));
        return Vec::new();
    };
    // `/dev/stdin` and `/dev/fd/N` may lead to a regular file (`< results.yaml`): read,
    // as any stream, though their names tell no format.
    let descriptor = path.starts_with("/dev") || path.starts_with("/proc");
    if meta.is_file() {
        if has_document_extension(path) || descriptor {
            return named(path);
        }
        diagnostics.push(Diagnostic::unplaced(
            Origin::Input,
            "input/unsupported-file",
            &shown,
            Text::new(
                "不支持的文件类型：请提供 .yaml、.yml、.json、.csv 或 .xlsx 文件",
                "unsupported file type: give .yaml, .yml, .json, .csv or .xlsx files",
            ),
        ));
        return Vec::new();
    }
    if !meta.is_dir() {
        // A pipe, `/dev/stdin`, `<(…)`: named, so read, within the size limits.
        return named(path);
    }
    let mut files = Vec::new();
    // Links are followed, to files and to folders; walkdir reports a link back to an
    // ancestor as an error instead of walking it forever.
    let walker = walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() && has_document_extension(e.path()) => {
                files.push(Given {
                    path: e.into_path(),
                    walked: true,
                })
            }
            // A pipe, socket or device among the files: reading it could wait forever
            // (a pipe with no writer), so it is not read, and said so.
            Ok(e)
                if !e.file_type().is_file()
                    && !e.file_type().is_dir()
                    && has_document_extension(e.path()) =>
            {
                diagnostics.push(Diagnostic::unplaced(
                    Origin::Input,
                    "input/unsupported-file",
                    &e.path().display().to_string(),
                    Text::new(
                        "不是普通文件（管道、套接字或设备），在文件夹中不读取；如需读取请在命令行中直接指定",
                        "not a regular file (a pipe, socket or device); not read from a folder: name it on the command line to read it",
                    ),
                ));
            }
            Ok(_) => {}
            Err(e) => {
                let at = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or(shown.clone());
                let (code, text) = match e.loop_ancestor() {
                    Some(ancestor) => (
                        "input/link-loop",
                        Text::new(
                            format!(
                                "链接指向其上级文件夹 {}，形成循环，未读取",
                                ancestor.display()
                            ),
                            format!(
                                "the link points back to its ancestor folder {}, a loop; not read",
                                ancestor.display()
                            ),
                        ),
                    ),
                    None => (
                        "input/unreadable",
                        Text::new(format!("无法读取：{e}"), format!("cannot read: {e}")),
                    ),
                };
                diagnostics.push(Diagnostic::unplaced(Origin::Input, code, &at, text));
            }
        }
    }
    files
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

fn has_document_extension(path: &Path) -> bool {
    // `<table>.columns.yaml` maps a published plan table's headers; it is not a document.
    let sidecar = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".columns.yaml"));
    !sidecar
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| DOCUMENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The extension of a document file, lower-cased, if it names a format read.
fn document_extension(path: &Path) -> Option<String> {
    has_document_extension(path).then(|| {
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    })
}

/// The format of a stream whose name tells none (`/dev/stdin`, `<(…)`): a workbook by
/// its zip or OLE signature; YAML or JSON when it opens with `{`, `[` or `---`, or has
/// a line starting `kind:`; else CSV.
fn sniffed_extension(bytes: &[u8]) -> &'static str {
    if crate::read::table::looks_like_workbook(bytes) {
        return "xlsx";
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    let opens_document = first.is_some_and(|i| {
        matches!(text[i], b'{' | b'[')
            || text[i..].starts_with(b"---")
            || text[i..].starts_with(b"#")
    });
    let has_kind_line = text
        .split(|&b| b == b'\n')
        .any(|line| line.starts_with(b"kind:") || line.starts_with(b"kind :"));
    if opens_document || has_kind_line {
        "yaml"
    } else {
        "csv"
    }
}

/// Reads at most `limit` bytes of `path`; `None` when it holds more.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // A regular file's size is known: read into one buffer of that size, not one that
    // doubles as it fills (up to twice the file). A stream's size is not.
    let size = file.metadata().map_or(0, |m| m.len()).min(limit + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Reads one file into `loaded`; false when it is one of spotlint's own reports, found
/// in a folder and skipped.
fn load_file(given: &Given, loaded: &mut Loaded, options: &ReadOptions) -> bool {
    let path = given.path.as_path();
    let shown = path.display().to_string();
    let problem = |loaded: &mut Loaded, code: &str, zh: String, en: String| {
        loaded.diagnostics.push(Diagnostic::unplaced(
            Origin::Input,
            code,
            &shown,
            Text::new(zh, en),
        ))
    };
    let named_extension = document_extension(path);
    let limit = match named_extension.as_deref() {
        Some(e) if !TABLE_EXTENSIONS.contains(&e) => MAX_DOCUMENT_BYTES,
        // A stream's format is known once read: the larger limit holds until then.
        _ => MAX_TABLE_BYTES,
    };
    let too_large = |loaded: &mut Loaded, limit: u64| {
        let mib = limit / 1024 / 1024;
        problem(
            loaded,
            "input/too-large",
            format!("文件超过 {mib} MiB，未读取"),
            format!("the file is larger than {mib} MiB; not read"),
        )
    };
    if named_extension.as_deref() == Some("csv") && !crate::read::table::has_sidecar(&shown) {
        match map_csv(path, options) {
            Some(Err(limit)) => {
                too_large(loaded, limit);
                return true;
            }
            Some(Ok(map)) if !crate::read::table::looks_like_workbook(&map) => {
                if given.walked && crate::read::own_reports::recognise(&map).is_some() {
                    // Read as usual, to be named and skipped.
                } else if let Some(table) = crate::read::table::CsvTable::open_mapped(&shown, map) {
                    take_csv(&shown, streamable(table, options), loaded);
                    return true;
                } else if let Some(table) = map_decoded(path, &shown, options) {
                    take_csv(&shown, streamable(table, options), loaded);
                    return true;
                }
            }
            _ => {}
        }
    }
    let bytes = match read_bounded(path, limit) {
        Ok(Some(b)) => b,
        Ok(None) => {
            too_large(loaded, limit);
            return true;
        }
        Err(e) => {
            problem(
                loaded,
                "input/unreadable",
                format!("无法读取：{e}"),
                format!("cannot read: {e}"),
            );
            return true;
        }
    };
    if given.walked {
        if let Some(report) = crate::read::own_reports::recognise(&bytes) {
            loaded.said.push(format!(
                "note: {shown}: spotlint's own {report}, not a submission; skipped"
            ));
            return false;
        }
    }
    let extension = named_extension.unwrap_or_else(|| sniffed_extension(&bytes).to_owned());
    let is_table = TABLE_EXTENSIONS.contains(&extension.as_str());
    if !is_table && bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        too_large(loaded, MAX_DOCUMENT_BYTES);
        return true;
    }
    if is_table {
        let plain_csv = extension == "csv"
            && !crate::read::table::has_sidecar(&shown)
            && !crate::read::table::looks_like_workbook(&bytes);
        let trees = if plain_csv {
            open_csv(&shown, bytes, options)
        } else {
            Err(crate::read::table::read_table(
                &shown,
                &bytes,
                extension != "csv",
                options,
            ))
        };
        take_csv(&shown, trees, loaded);
        return true;
    }
    let source = match SourceFile::decode(shown.clone(), &bytes) {
        Ok(s) => s,
        Err(e) => {
            let text = Text::new(e.zh(), e.to_string());
            loaded.diagnostics.push(match e.place() {
                Some((file, start, end)) => Diagnostic::problem(
                    Origin::Input,
                    "input/encoding",
                    &file,
                    crate::parse::tree::Span::new(start, end),
                    text,
                ),
                None => Diagnostic::unplaced(Origin::Input, "input/encoding", &shown, text),
            });
            return true;
        }
    };
    loaded.read_as(&shown, source.encoding);
    load_source(&source, loaded);
    true
}

/// A table read: kept for streaming, or its documents loaded.
fn take_csv(shown: &str, read: Result<Streamable, TableDocuments>, loaded: &mut Loaded) {
    let trees = match read {
        Ok(streamable) => {
            loaded.read_as(shown, streamable.table.source.encoding);
            loaded.tables.push(streamable);
            return;
        }
        Err(trees) => trees,
    };
    let encoding = trees
        .as_ref()
        .ok()
        .and_then(|t| t.trees.first())
        .and_then(|t| t.source.encoding);
    loaded.read_as(shown, encoding);
    let validated = matches!(&trees, Ok(read) if read.validated);
    let trees = trees.map(|read| {
        loaded.notes.extend(read.notes);
        read.trees
    });
    load_table_documents(trees, validated, loaded);
}

/// The documents of a table, `validated` as they were read or not.
fn load_table_documents(
    trees: Result<Vec<Tree>, Vec<crate::read::table::TableError>>,
    validated: bool,
    loaded: &mut Loaded,
) {
    match trees {
        Ok(trees) => {
            for tree in trees {
                let source = Arc::clone(&tree.source);
                keep_tree(&source, tree, validated, loaded);
            }
        }
        Err(errors) => loaded
            .diagnostics
            .extend(errors.iter().map(|e| input_error(&e.source, &e.error))),
    }
}

/// Parses and validates the documents of one decoded file.
pub fn load_source(source: &Arc<SourceFile>, loaded: &mut Loaded) {
    let trees = match yaml::load(source) {
        Ok(trees) => trees,
        Err(e) => {
            loaded.diagnostics.push(input_error(source, &e));
            return;
        }
    };
    if trees.is_empty() {
        loaded.diagnostics.push(Diagnostic::problem(
            Origin::Input,
            "input/empty",
            source,
            crate::parse::tree::Span::new(0, 0),
            Text::new(
                "文件为空：没有可检查的文档（需要 `kind:` 等字段）",
                "the file is empty: no document to check (a document starts with `kind:`)",
            ),
        ));
        return;
    }
    for tree in trees {
        load_tree(source, tree, loaded);
    }
}

/// Dispatches one parsed document on its `kind` and validates it.
pub fn load_tree(source: &Arc<SourceFile>, tree: Tree, loaded: &mut Loaded) {
    keep_tree(source, tree, false, loaded);
}

/// [`load_tree`], the document's values already `validated` as a schema would (a plain
/// library table's, read by [`crate::read::table`]) or not.
fn keep_tree(source: &Arc<SourceFile>, mut tree: Tree, validated: bool, loaded: &mut Loaded) {
    let root_span = tree.report_span(tree.root);
    if !matches!(tree.root_node().value, crate::parse::tree::Value::Map(_)) {
        loaded.diagnostics.push(Diagnostic::problem(
            Origin::Input,
            "input/wrong-type",
            source,
            root_span,
            Text::new(
                "文档应为映射（`kind: …` 等字段）",
                "a document must be a mapping (`kind: …` and fields)",
            ),
        ));
        return;
    }
    let Some(kind) = schema::header_str(&tree, "kind") else {
        loaded.diagnostics.push(Diagnostic::problem(
                Origin::Input,
                "input/unknown-kind",
                source,
                root_span,
                Text::new(
                    "文档缺少 `kind:`（Plan、ItemList、ObjectLibrary、PersonnelLibrary、Results）",
                    "the document has no `kind:` (Plan, ItemList, ObjectLibrary, PersonnelLibrary, Results)",
                ),
            ));
        return;
    };
    if SKIPPED_KINDS.contains(&kind.as_str()) {
        return;
    }
    if kind.as_str() == "Waivers" {
        let errors = schema::validate(&mut tree, &crate::schema::WAIVERS_SCHEMA);
        if errors.is_empty() {
            loaded.waivers.push(Arc::new(tree));
        } else {
            loaded
                .diagnostics
                .extend(errors.iter().map(|e| input_error(source, e)));
        }
        return;
    }
    let Some(schema) = schema::kind_schema(&kind) else {
        let kind_node = tree.get(tree.root, "kind").unwrap_or(tree.root);
        let names = schema::KINDS.iter().map(|k| k.kind);
        let hint = schema::suggest(&kind, names);
        loaded.diagnostics.push(Diagnostic::problem(
                Origin::Input,
                "input/unknown-kind",
                source,
                tree.report_span(kind_node),
                Text::new(
                    format!("未知的文档类型 `{kind}`{}（可用：Plan、ItemList、ObjectLibrary、PersonnelLibrary、Results）", hint.replace("; did you mean", "；是否应为").replace('?', "？")),
                    format!("unknown document kind `{kind}`{hint} (kinds: Plan, ItemList, ObjectLibrary, PersonnelLibrary, Results)"),
                ),
            ));
        return;
    };
    let errors = if validated {
        Vec::new()
    } else {
        schema::validate(&mut tree, schema)
    };
    if !errors.is_empty() {
        loaded
            .diagnostics
            .extend(errors.iter().map(|e| input_error(source, e)));
        // A bad record costs only itself: its invalid values are read as absent and
        // the rest of the document is checked. A bad header drops the document.
        if !schema::errors_within_records(&tree, schema, &errors) {
            return;
        }
        keep_mapping_records(&mut tree, schema);
    }
    let department = schema::header_str(&tree, "department").unwrap_or_default();
    let year = tree.int_at(tree.root, "year");
    loaded.documents.push(Document {
        schema,
        tree: Arc::new(tree),
        department,
        year,
    });
}

/// Leaves out of the record list the entries that are no mapping (a null or a bare
/// value among the records): they were reported, and there is no record to check.
fn keep_mapping_records(tree: &mut Tree, schema: &schema::KindSchema) {
    use crate::parse::tree::Value;
    let Some(list) = tree.get_present(tree.root, schema.records) else {
        return;
    };
    let Value::Seq(items) = &tree.nodes[list as usize].value else {
        return;
    };
    let kept: Vec<_> = items
        .iter()
        .copied()
        .filter(|&item| matches!(tree.node(item).value, Value::Map(_)))
        .collect();
    tree.nodes[list as usize].value = Value::Seq(kept);
}

pub fn input_error(source: &Arc<SourceFile>, e: &yaml::LoadError) -> Diagnostic {
    Diagnostic::problem(
        Origin::Input,
        e.code,
        source,
        e.span,
        Text::new(e.zh.clone(), e.en.clone()),
    )
}
