//! User files as text: decoding (UTF-8, UTF-8/UTF-16 with BOM, GB18030/GBK) and positions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

use super::gbk;

/// The text of a file: decoded into memory, or a read-only mapping of a plain UTF-8
/// file (a large table), whose pages the kernel may drop and read again from the file.
pub struct Text(Held);

enum Held {
    Owned(String),
    /// The mapping and where the text starts in it (after a BOM). Checked to be UTF-8
    /// when it was mapped.
    Mapped(memmap2::Mmap, usize, std::sync::atomic::AtomicUsize),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Held::Owned(text) => text,
            // SAFETY: the bytes were checked to be UTF-8 when mapped (see
            // `SourceFile::map_utf8`), and the mapping is read-only.
            Held::Mapped(map, start, _) => unsafe { std::str::from_utf8_unchecked(&map[*start..]) },
        }
    }

    /// The bytes, before they are known to be UTF-8.
    fn bytes(&self) -> &[u8] {
        match &self.0 {
            Held::Owned(text) => text.as_bytes(),
            Held::Mapped(map, start, _) => &map[*start..],
        }
    }

    /// Tells the kernel that the mapped pages of `range` are not needed for now: they
    /// are read again from the file when next touched. Keeps the resident memory of a
    /// large table to what is being read. Nothing for text in memory.
    pub fn release(&self, range: (usize, usize)) {
        self.let_go(range, true);
    }

    /// Counts `range` as read, without letting it go now: pages read here and there (a
    /// finding's line) are let go with the whole mapping once 16 MiB of them were
    /// read, one call rather than one a finding.
    pub fn touched(&self, range: (usize, usize)) {
        self.let_go(range, false);
    }

    fn let_go(&self, range: (usize, usize), now: bool) {
        // A fault maps pages around the one touched too (Linux's fault-around, 64 KiB
        // aligned by default, more with large folios), and chunks are read side by side,
        // so that pages next to a range let go may be mapped again after it: the whole
        // mapping is let go every 16 MiB let go or read, which bounds what stays behind.
        const AROUND: usize = 64 << 10;
        const WHOLE_EVERY: usize = 16 << 20;
        if let Held::Mapped(map, start, released) = &self.0 {
            let mut from = ((start + range.0) & !(AROUND - 1)).min(map.len());
            let mut to =
                ((start + range.1).saturating_add(AROUND - 1) & !(AROUND - 1)).min(map.len());
            let len = to.saturating_sub(from);
            let before = released.fetch_add(len, Ordering::Relaxed);
            if before / WHOLE_EVERY != (before + len) / WHOLE_EVERY {
                (from, to) = (0, map.len());
            } else if !now {
                return;
            }
            let_go_pages(map, (from, to));
        }
    }
}

/// Lets the kernel drop the pages of `map` in `from..to` (offsets into the mapping;
/// `from` page-aligned): they are read again from the file when next touched.
fn let_go_pages(map: &memmap2::Mmap, (from, to): (usize, usize)) {
    if to > from {
        // SAFETY: a read-only file mapping: pages let go are read again from the file
        // on the next access, with the same bytes (the file is not written while it is
        // checked, see README "What is read, and limits").
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
        };
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Held::Owned(text) => text.fmt(f),
            Held::Mapped(map, start, _) => write!(f, "<mapped, {} bytes>", map.len() - start),
        }
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Held::Owned(String::new()))
    }
}

/// Lines whose start is kept: one in so many, the others counted from it. A table of
/// ten million lines costs a small index, not eight bytes a line.
const LINE_STEP: usize = 64;

/// Where lines start: the start of every [`LINE_STEP`]th line.
#[derive(Debug, Default)]
struct Lines {
    every: Vec<usize>,
    /// Line breaks counted so far.
    breaks: usize,
}

impl Lines {
    /// No line break counted yet: the first line starts at 0.
    fn new() -> Lines {
        Lines {
            every: vec![0],
            breaks: 0,
        }
    }

    fn of(text: &[u8]) -> Lines {
        let mut lines = Lines::new();
        lines.extend(text, 0);
        lines
    }

    /// Counts the line breaks of `block`, which starts at `at` in the text.
    fn extend(&mut self, block: &[u8], at: usize) {
        for i in memchr::memchr_iter(b'\n', block) {
            self.breaks += 1;
            if self.breaks % LINE_STEP == 0 {
                self.every.push(at + i + 1);
            }
        }
    }
}

/// A decoded input file. Offsets are byte offsets into `text`; lines are 1-based and
/// columns 1-based counted in characters, as editors and SARIF readers show them.
#[derive(Debug)]
pub struct SourceFile {
    pub name: crate::name::Name,
    pub text: Text,
    /// The encoding the bytes were read as, when it was not plain UTF-8.
    pub encoding: Option<&'static str>,
    lines: Lines,
}

/// Why a file's bytes could not be read as text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is binary (NUL byte at byte {offset}), not a text document")]
    Binary { offset: usize },
    #[error("the bytes are neither UTF-8 nor GB18030/GBK text (first bad byte at {offset})")]
    Undecodable {
        offset: usize,
        /// A GBK file up to the line of the bad byte, as read with it replaced, and
        /// where it is in that text: to point at it.
        shown: Option<(Arc<SourceFile>, usize)>,
    },
    /// A byte order mark (UTF-8, UTF-16), and bytes that are not in its encoding: the
    /// file is not read as GBK, which its mark rules out.
    #[error("the file's byte order mark says {encoding}, but byte {offset} is not {encoding}")]
    NotAsDeclared {
        offset: usize,
        encoding: &'static str,
        /// The file up to the line of the bad byte, as read with it replaced, and where
        /// it is in that text.
        shown: Option<(Arc<SourceFile>, usize)>,
    },
    /// Lines in UTF-8 and lines in another encoding (GBK, most often: rows pasted from
    /// another export). Read either way, part of the file would be garbled.
    #[error("the file mixes encodings: line {line} is {}, the lines with Chinese text before it are {}; save the whole file in one encoding (UTF-8)", kind_en(!*utf8_first), kind_en(*utf8_first))]
    Mixed {
        /// The first line that does not fit the encoding of the lines before it.
        line: usize,
        /// Whether the lines before it are UTF-8 (else they are GBK/GB18030).
        utf8_first: bool,
        /// The file as read with the bytes that fit no encoding replaced, to point into.
        shown: Option<Arc<SourceFile>>,
    },
}

impl DecodeError {
    /// A mixed file's error with the file as shown (bytes that fit no encoding
    /// replaced), so that the diagnostic points at the line.
    fn shown_as(self, name: &str, bytes: &[u8]) -> DecodeError {
        match self {
            DecodeError::Mixed {
                line, utf8_first, ..
            } => DecodeError::Mixed {
                line,
                utf8_first,
                shown: Some(SourceFile::from_text(
                    name,
                    String::from_utf8_lossy(bytes).into_owned(),
                )),
            },
            // Without a BOM, bytes that are not UTF-8 were read as GBK: the bad byte is
            // shown in the GBK text before it.
            DecodeError::Undecodable { offset, .. } if !has_bom(bytes) => {
                let shown = gbk_shown_to(name, bytes, offset);
                DecodeError::Undecodable { offset, shown }
            }
            // A UTF-16 file's bad sequence is shown in the text before it.
            DecodeError::NotAsDeclared {
                offset,
                encoding,
                shown: None,
            } if encoding.starts_with("UTF-16") => DecodeError::NotAsDeclared {
                offset,
                encoding,
                shown: utf16_shown_to(name, bytes, offset),
            },
            other => other,
        }
    }

    pub fn zh(&self) -> String {
        match self {
            DecodeError::Binary { offset } => {
                format!("文件是二进制数据（第 {offset} 字节为 NUL），不是文本文档")
            }
            DecodeError::Undecodable { offset, .. } => {
                format!(
                    "文件既不是 UTF-8 也不是 GB18030/GBK 编码的文本（第 {offset} 字节无法解码）"
                )
            }
            DecodeError::NotAsDeclared {
                offset, encoding, ..
            } => {
                format!("文件的字节顺序标记表明是 {encoding} 编码，但第 {offset} 字节不是 {encoding}")
            }
            DecodeError::Mixed {
                line, utf8_first, ..
            } => format!(
                "文件混用了多种编码：第 {line} 行{}，而此前含中文的行{}；请将整个文件另存为同一种编码（UTF-8）",
                kind_zh(!*utf8_first),
                kind_zh(*utf8_first)
            ),
        }
    }

    /// Where a mixed file stops fitting its encoding: the file as shown and the span of
    /// the line.
    pub fn place(&self) -> Option<(Arc<SourceFile>, usize, usize)> {
        match self {
            DecodeError::Mixed {
                line,
                shown: Some(shown),
                ..
            } => {
                let start = shown.offset_of(*line, 0);
                let end = start + shown.line_text(*line).len();
                Some((Arc::clone(shown), start, end))
            }
            DecodeError::Undecodable {
                shown: Some((shown, at)),
                ..
            }
            | DecodeError::NotAsDeclared {
                shown: Some((shown, at)),
                ..
            } => {
                let bad = shown.text.get(*at..)?.chars().next();
                Some((Arc::clone(shown), *at, at + bad.map_or(0, char::len_utf8)))
            }
            _ => None,
        }
    }
}

/// Whether `bytes` start with a UTF-8 or UTF-16 byte order mark.
fn has_bom(bytes: &[u8]) -> bool {
    [UTF8_BOM, b"\xFF\xFE", b"\xFE\xFF"]
        .iter()
        .any(|bom| bytes.starts_with(bom))
}

/// The UTF-8 byte order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// UTF-8 `bytes` (after their BOM) up to the end of the line of the bad byte at
/// `offset` (read with bad bytes replaced), and where that byte is in the text.
fn utf8_shown_to(name: &str, bytes: &[u8], offset: usize) -> Option<(Arc<SourceFile>, usize)> {
    let rest = bytes.get(offset..)?;
    let end = memchr::memchr(b'\n', rest).map_or(bytes.len(), |i| offset + i + 1);
    let before = std::str::from_utf8(bytes.get(..offset)?).ok()?;
    let at = normalised_len(before);
    let shown = SourceFile::from_text(name, String::from_utf8_lossy(&bytes[..end]).into_owned());
    Some((shown, at))
}

/// GBK `bytes` up to the end of the line of the bad byte at `offset` (read with bad
/// bytes replaced), and where that byte is in the text.
fn gbk_shown_to(name: &str, bytes: &[u8], offset: usize) -> Option<(Arc<SourceFile>, usize)> {
    let rest = bytes.get(offset..)?;
    let end = memchr::memchr(b'\n', rest).map_or(bytes.len(), |i| offset + i + 1);
    // The decoder is between characters at the first bad byte: the two parts decode as
    // the whole would.
    Some(shown_in(
        name,
        GB18030,
        &bytes[..offset],
        &bytes[offset..end],
    ))
}

/// UTF-16 `bytes` (a BOM, then text) up to the end of the line of the bad sequence at
/// `offset` (read with bad sequences replaced), and where that sequence is in the text.
fn utf16_shown_to(name: &str, bytes: &[u8], offset: usize) -> Option<(Arc<SourceFile>, usize)> {
    let encoding = if bytes.starts_with(b"\xFF\xFE") {
        UTF_16LE
    } else {
        UTF_16BE
    };
    let body = bytes.get(2..)?;
    let (good, rest) = body.split_at_checked(offset.checked_sub(2)?)?;
    // The line ends at its first line-feed code unit: only that much of the rest is
    // decoded. The text before the bad sequence is whole characters (so `rest` starts
    // on a code unit), and the two parts decode as the whole would.
    let line_feed = if encoding == UTF_16LE {
        [b'\n', 0]
    } else {
        [0, b'\n']
    };
    let end = rest
        .chunks_exact(2)
        .position(|unit| unit == line_feed)
        .map_or(rest.len(), |i| 2 * i + 2);
    Some(shown_in(name, encoding, good, &rest[..end]))
}

/// `good`, whole characters of `encoding`, then `bad`, from a bad sequence to the end
/// of its line, decoded with bad sequences replaced: the text shown, and where the bad
/// sequence is in it.
fn shown_in(
    name: &str,
    encoding: &'static encoding_rs::Encoding,
    good: &[u8],
    bad: &[u8],
) -> (Arc<SourceFile>, usize) {
    let before = encoding.decode_without_bom_handling(good).0;
    let after = encoding.decode_without_bom_handling(bad).0;
    let at = normalised_len(&before);
    (
        SourceFile::from_text(name, before.into_owned() + after.as_ref()),
        at,
    )
}

fn kind_en(utf8: bool) -> &'static str {
    if utf8 {
        "UTF-8"
    } else {
        "not UTF-8 (GBK/GB18030)"
    }
}

fn kind_zh(utf8: bool) -> &'static str {
    if utf8 {
        "是 UTF-8 编码"
    } else {
        "不是 UTF-8 编码（GBK/GB18030）"
    }
}

/// The lines of `bytes`, split at LF (as `split`, found with SIMD).
fn lines_of(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', bytes)
        .chain(std::iter::once(bytes.len()))
        .map(move |end| {
            let line = &bytes[start..end];
            start = end + 1;
            line
        })
}

/// How [`mixed_encoding`] counts a line: UTF-8 (`true`), another encoding (`false`),
/// or neither (ASCII, or a single non-ASCII character).
fn line_kind(line: &[u8]) -> Option<bool> {
    if line.is_ascii() {
        return None;
    }
    match std::str::from_utf8(line) {
        Ok(text) if text.chars().filter(|c| !c.is_ascii()).nth(1).is_some() => Some(true),
        Ok(_) => None,
        Err(_) => Some(false),
    }
}

/// The first line whose encoding differs from that of the lines with non-ASCII text
/// before it: a line that is valid UTF-8 with at least two non-ASCII characters counts
/// as UTF-8 (GBK text rarely forms even one UTF-8 character by chance), a line that is
/// not valid UTF-8 as another encoding. The line (1-based), and whether the lines
/// before it are UTF-8.
fn mixed_encoding(bytes: &[u8]) -> Option<(usize, bool)> {
    let mut first = None;
    for (i, line) in lines_of(bytes).enumerate() {
        let Some(kind) = line_kind(line) else {
            continue;
        };
        match first {
            None => first = Some(kind),
            Some(seen) if seen != kind => return Some((i + 1, seen)),
            Some(_) => {}
        }
    }
    None
}

impl SourceFile {
    /// Wraps text already known to be UTF-8 (policies, embedded files, tests).
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let text: String = text.into();
        let text = normalise_newlines(text);
        Arc::new(SourceFile {
            name: name.into().into(),
            lines: Lines::of(text.as_bytes()),
            text: Text(Held::Owned(text)),
            encoding: None,
        })
    }

    /// As [`Self::decode`], taking the bytes: plain UTF-8, the usual export, is kept as
    /// it is rather than copied. `with_text` runs on the text beside indexing its lines.
    pub fn decode_owned<R: Send>(
        name: impl Into<String>,
        bytes: Vec<u8>,
        with_text: impl FnOnce(&str) -> R + Send,
    ) -> Result<(Arc<SourceFile>, R), DecodeError> {
        let name = name.into();
        let marked = has_bom(&bytes) || memchr::memchr(0, &bytes).is_some();
        let bom_utf8 = bytes.starts_with(UTF8_BOM) && memchr::memchr(0, &bytes).is_none();
        let (text, encoding) = match marked {
            // The BOM is taken off in place: no copy of a large export.
            true if bom_utf8 => {
                let mut bytes = bytes;
                bytes.drain(..3);
                match utf8_string(bytes) {
                    Ok(text) => (text, Some("UTF-8 with BOM")),
                    Err(e) => {
                        let at = e.utf8_error().valid_up_to();
                        return Err(DecodeError::NotAsDeclared {
                            offset: at + UTF8_BOM.len(),
                            encoding: "UTF-8",
                            shown: utf8_shown_to(&name, e.as_bytes(), at),
                        });
                    }
                }
            }
            true => decode_bytes(&bytes).map_err(|e| e.shown_as(&name, &bytes))?,
            false => match utf8_string(bytes) {
                Ok(text) => (text, None),
                Err(e) => {
                    decode_bytes(e.as_bytes()).map_err(|d| d.shown_as(&name, e.as_bytes()))?
                }
            },
        };
        let text = normalise_newlines(text);
        let (lines, also) = rayon::join(|| Lines::of(text.as_bytes()), || with_text(&text));
        let source = SourceFile {
            name: name.into(),
            lines,
            text: Text(Held::Owned(text)),
            encoding,
        };
        Ok((Arc::new(source), also))
    }

    /// Decodes a file as exported by Chinese office software: UTF-8 (with or without a
    /// BOM), UTF-16 with a BOM, or GB18030 (a superset of GBK).
    pub fn decode(name: impl Into<String>, bytes: &[u8]) -> Result<Arc<SourceFile>, DecodeError> {
        Self::decode_owned(name, bytes.to_vec(), |_| ()).map(|(source, ())| source)
    }

    /// A plain UTF-8 file (a BOM allowed), mapped rather than read: `None` when the
    /// bytes are anything else (another encoding, a NUL, a lone CR), which are read and
    /// decoded as usual. The text is checked and indexed block by block, `each` told of
    /// every block (the text so far, and where the block ends) before its pages are let
    /// go, so that the file is never resident whole. A mapped text keeps its CRLF line
    /// ends: lines are counted by LF either way, and readers of the text take a CR
    /// before an LF as part of the line end.
    pub fn map_utf8(
        name: impl Into<String>,
        map: memmap2::Mmap,
        mut each: impl FnMut(&[u8], usize) + Send,
    ) -> Option<Arc<SourceFile>> {
        /// Blocks small against the memory bound, large against the cost of a call.
        const BLOCK: usize = 4 << 20;
        let start = if map.starts_with(UTF8_BOM) { 3 } else { 0 };
        if map[start..].starts_with(b"\xFF\xFE") || map[start..].starts_with(b"\xFE\xFF") {
            return None;
        }
        let source = SourceFile {
            name: name.into().into(),
            text: Text(Held::Mapped(map, start, Default::default())),
            encoding: (start == 3).then_some("UTF-8 with BOM"),
            lines: Lines::default(),
        };
        let bytes = source.text.bytes();
        let mut lines = Lines::new();
        let mut from = 0;
        while from < bytes.len() {
            let mut to = (from + BLOCK).min(bytes.len());
            // A block ends on a character boundary.
            while to < bytes.len() && (bytes[to] & 0xC0) == 0x80 && to > from + 1 {
                to -= 1;
            }
            let block = &bytes[from..to];
            let (plain, ()) = rayon::join(
                || {
                    let plain = is_utf8(block)
                        && memchr::memchr(0, block).is_none()
                        && memchr::memchr_iter(b'\r', block)
                            .all(|i| bytes.get(from + i + 1) == Some(&b'\n'));
                    if plain {
                        lines.extend(block, from);
                    }
                    plain
                },
                || each(bytes, to),
            );
            if !plain {
                return None;
            }
            source.text.release((from, to));
            from = to;
        }
        Some(Arc::new(SourceFile { lines, ..source }))
    }

    /// The start of the 0-based line `index`, if there is one.
    fn line_start(&self, index: usize) -> Option<usize> {
        if index > self.lines.breaks {
            return None;
        }
        let base = *self.lines.every.get(index / LINE_STEP)?;
        let start = match index % LINE_STEP {
            0 => Some(base),
            n => memchr::memchr_iter(b'\n', &self.text.as_bytes()[base..])
                .nth(n - 1)
                .map(|i| base + i + 1),
        };
        self.text.touched((base, start.unwrap_or(base)));
        start
    }

    /// The line from `start` to its line break (a CR before it not included).
    fn line_from(&self, start: usize) -> &str {
        let rest = &self.text[start..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        self.text.touched((start, start + line.len()));
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// Byte offset of a 1-based line and a 0-based character column, clamped to the text.
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        let Some(start) = self.line_start(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line_text = self.line_from(start);
        let within = line_text
            .char_indices()
            .nth(char_col)
            .map(|(i, _)| i)
            .unwrap_or(line_text.len());
        start + within
    }

    /// 1-based line and 1-based character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let block = self.lines.every.partition_point(|&s| s <= offset).max(1) - 1;
        let base = self.lines.every.get(block).copied().unwrap_or(0);
        let found = self.line_col_from((base, block * LINE_STEP + 1), offset);
        // Findings are placed after their chunk's pages were let go: the lines read
        // for them are let go again, or they would stay resident over the whole file.
        self.text.touched((base, offset));
        found
    }

    /// [`Self::line_col`] of `offset`, counted from `base`, the start of 1-based line
    /// `line` (at or before `offset`).
    pub fn line_col_from(&self, (base, line): (usize, usize), offset: usize) -> (usize, usize) {
        let before = self.text.as_bytes().get(base..offset).unwrap_or_default();
        let line = line + memchr::memchr_iter(b'\n', before).count();
        let start = memchr::memrchr(b'\n', before).map_or(base, |i| base + i + 1);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line, col + 1)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        match self.line_start(line.saturating_sub(1)) {
            Some(start) => self.line_from(start),
            None => "",
        }
    }
}

/// What [`SourceFile::map_gb18030`] hands on, as it decodes, to be cut into records.
pub enum Decoded<'a> {
    /// The text written so far, from its start, and whether it is all there.
    Written { text: &'a [u8], whole: bool },
    /// A block just decoded, at `start` in the text, read where it was decoded rather
    /// than where it is written (whose pages would have to be mapped for it), and
    /// whether it ends the text. The text before it was handed on first.
    Block {
        text: &'a [u8],
        start: usize,
        last: bool,
    },
}

impl SourceFile {
    /// A large GB18030 (GBK) table, decoded block by block into a file of its own that
    /// is mapped, so that memory does not grow with the table; the text is then read as
    /// [`Self::map_utf8`] reads a mapped one, with the label `GB18030`. One pass: while a
    /// block is decoded, the block before it is written and its lines are counted, and
    /// `each` is told of the text written before it, then of the block itself, read
    /// where it was decoded (see [`Decoded`]). `None` for bytes that [`decode_bytes`]
    /// would not read as GB18030 alone (a BOM, NUL bytes, UTF-8, lines of both
    /// encodings), for a malformed sequence, a lone CR, decoded text over `max` bytes,
    /// and where no file can be written: the table is then read whole, which reports
    /// what is wrong.
    pub fn map_gb18030(
        name: &str,
        raw: &memmap2::Mmap,
        max: usize,
        each: impl FnMut(Decoded) + Send,
    ) -> Option<Arc<SourceFile>> {
        /// Decoded a block at a time, each cut after a line break (never part of a GBK
        /// character), its pages let go once decoded. A block of 1 MiB decodes into
        /// buffers of 1.5 MiB that stay in a core's cache while they are written out:
        /// with 4 MiB, a 139 MB table took 5% more processor time, and its runs varied
        /// twice as much.
        const BLOCK: usize = 1 << 20;
        map_gb18030_in_blocks(name, raw, max, BLOCK, each)
    }
}

fn map_gb18030_in_blocks(
    name: &str,
    raw: &memmap2::Mmap,
    max: usize,
    block_bytes: usize,
    mut each: impl FnMut(Decoded) + Send,
) -> Option<Arc<SourceFile>> {
    let bytes: &[u8] = raw;
    if has_bom(bytes) || bytes.is_empty() {
        return None;
    }
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    // Unnamed, and gone when closed: nobody else can write to it while it is mapped.
    // Sized for the longest text the bytes can decode to (a hole until written), so
    // that it is mapped once, and each block read back as soon as it is written.
    let file = tempfile::tempfile().ok()?;
    let room = decoder.max_utf8_buffer_length(bytes.len())?.min(max);
    file.set_len(room as u64).ok()?;
    let ahead = reserves_ahead(&file);
    // SAFETY: a read-only mapping of a file of this process's own, read only where it
    // was written, and written only past what was read.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    // A block is decoded while the one before it is written and cut: two buffers, in
    // turn.
    let mut next = vec![0u8; block_bytes.max(64) * 3 / 2];
    let mut before: (Vec<u8>, usize) = (vec![0u8; next.len()], 0);
    let (mut at, mut written, mut released) = (0, 0usize, 0usize);
    let mut lines = Lines::new();
    // A line of another encoding seen: else the file is ASCII, for the reader of UTF-8.
    let mut other_lines = false;
    while at < bytes.len() {
        let end = match bytes.get(at + block_bytes..) {
            None => bytes.len(),
            Some(after) => {
                memchr::memchr(b'\n', after).map_or(bytes.len(), |i| at + block_bytes + i + 1)
            }
        };
        let block = &bytes[at..end];
        let last = end == bytes.len();
        // The block before is written in two halves side by side: the kernel's filling
        // of the file's new pages weighs as much as the decoding.
        let done = &before.0[..before.1];
        if written + done.len() > map.len() {
            return None;
        }
        if ahead {
            reserve(&file, written, done.len());
        }
        let half = ((written + done.len() / 2) & !4095).saturating_sub(written);
        let (first, second) = done.split_at(half.min(done.len()));
        let ((decoded, put_first), (kinds, put)) = rayon::join(
            || {
                // A NUL byte: not text this reader takes.
                let decoded = memchr::memchr(0, block)
                    .is_none()
                    .then(|| gbk::decode_lines(&mut decoder, block, &mut next, last))
                    .flatten();
                (decoded, write_at(&file, first, written))
            },
            || {
                let put = write_at(&file, second, written + first.len())
                    && count_decoded(done, written, &mut lines);
                // The text before `done` is all written.
                hand_on(&mut each, &map[..written], done, false);
                (line_kinds(block), put)
            },
        );
        // A line of UTF-8 makes the file UTF-8 or mixed: either way not this reader's.
        if !(put && put_first) || kinds.0 {
            return None;
        }
        // The text written before `done` is cut: what of it was read goes back to the
        // kernel.
        let_go_pages(&map, (released, written & !4095));
        released = written & !4095;
        written += done.len();
        other_lines |= kinds.1;
        std::mem::swap(&mut before.0, &mut next);
        before.1 = decoded?;
        let_go_pages(raw, (at & !4095, end));
        at = end;
    }
    let done = &before.0[..before.1];
    if ahead {
        reserve(&file, written, done.len());
    }
    if written + done.len() > map.len()
        || !write_at(&file, done, written)
        || !count_decoded(done, written, &mut lines)
    {
        return None;
    }
    hand_on(&mut each, &map[..written], done, true);
    written += done.len();
    each(Decoded::Written {
        text: &map[..written],
        whole: true,
    });
    // No line of another encoding: UTF-8 after all, for the reader of UTF-8.
    if !other_lines {
        return None;
    }
    drop(map);
    file.set_len(written as u64).ok()?;
    // SAFETY: a read-only mapping of a file of this process's own, no longer written.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    Some(Arc::new(SourceFile {
        name: name.into(),
        text: Text(Held::Mapped(map, 0, Default::default())),
        encoding: Some("GB18030"),
        lines,
    }))
}

/// Hands on the text `written` so far, then `block`, decoded after it (see [`Decoded`]).
fn hand_on(each: &mut impl FnMut(Decoded), written: &[u8], block: &[u8], last: bool) {
    each(Decoded::Written {
        text: written,
        whole: false,
    });
    each(Decoded::Block {
        text: block,
        start: written.len(),
        last,
    });
}

/// Whether `block` has a line of UTF-8 and a line of another encoding (see
/// [`line_kind`]).
fn line_kinds(block: &[u8]) -> (bool, bool) {
    let mut kinds = (false, false);
    for line in lines_of(block) {
        match line_kind(line) {
            Some(true) => kinds.0 = true,
            Some(false) => kinds.1 = true,
            None => {}
        }
    }
    kinds
}

/// Counts the lines of the decoded `block`, which starts at `from` in the text: `false`
/// for a lone CR, which is not read in place.
fn count_decoded(block: &[u8], from: usize, lines: &mut Lines) -> bool {
    let lone_cr = memchr::memchr_iter(b'\r', block).any(|i| block.get(i + 1) != Some(&b'\n'));
    lines.extend(block, from);
    !lone_cr
}

/// Gives `file` its blocks for `len` bytes at `offset` before they are written, where
/// [`reserves_ahead`]: written into a hole, each page is reserved one at a time as it
/// is filled (delayed allocation), which made writing the decoded text about a tenth
/// slower. Only a hint: where the file system cannot, the pages are written as they are.
#[cfg(target_os = "linux")]
fn reserve(file: &std::fs::File, offset: usize, len: usize) {
    use std::os::fd::AsRawFd;
    if let (Ok(offset), Ok(len @ 1..)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len))
    {
        // SAFETY: a plain system call on an open descriptor of this process's own; it
        // changes no memory.
        let _ = unsafe { libc::fallocate(file.as_raw_fd(), 0, offset, len) };
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve(_file: &std::fs::File, _offset: usize, _len: usize) {}

/// Whether [`reserve`] pays for `file`: not in memory (tmpfs), where it fills the pages
/// with zeros that the write then fills again.
#[cfg(target_os = "linux")]
fn reserves_ahead(file: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `fstatfs` fills the struct when it returns 0, and it is read only then.
    if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: filled, above.
    let stat = unsafe { stat.assume_init() };
    stat.f_type != libc::TMPFS_MAGIC
}

#[cfg(not(target_os = "linux"))]
fn reserves_ahead(_file: &std::fs::File) -> bool {
    false
}

/// Writes `bytes` at `offset` in `file`, leaving its cursor: two parts of the file are
/// written side by side.
#[cfg(unix)]
fn write_at(file: &std::fs::File, bytes: &[u8], offset: usize) -> bool {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset as u64).is_ok()
}

#[cfg(windows)]
fn write_at(file: &std::fs::File, mut bytes: &[u8], mut offset: usize) -> bool {
    use std::os::windows::fs::FileExt;
    while !bytes.is_empty() {
        match file.seek_write(bytes, offset as u64) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                bytes = &bytes[n..];
                offset += n;
            }
        }
    }
    true
}

fn decode_bytes(bytes: &[u8]) -> Result<(String, Option<&'static str>), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return utf8(rest).map(|t| (t, Some("UTF-8 with BOM")));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (encoding, label) = if bytes[0] == 0xFF {
            (UTF_16LE, "UTF-16LE")
        } else {
            (UTF_16BE, "UTF-16BE")
        };
        // Decoded without replacement: a bad sequence stops the decoding there, and the
        // text made so far is dropped before the text shown around it is made.
        let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(&bytes[2..])
        else {
            let offset = first_malformed(encoding, &bytes[2..]).map_or(2, |at| at + 2);
            return Err(DecodeError::NotAsDeclared {
                offset,
                encoding: label,
                shown: None,
            });
        };
        return Ok((text.into_owned(), Some(label)));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_owned(), None)),
        Err(utf8_error) => {
            if let Some((line, utf8_first)) = mixed_encoding(bytes) {
                return Err(DecodeError::Mixed {
                    line,
                    utf8_first,
                    shown: None,
                });
            }
            // As for UTF-16 above: a bad sequence stops the decoding.
            match GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(text) => Ok((text.into_owned(), Some("GB18030"))),
                None => Err(DecodeError::Undecodable {
                    offset: first_malformed(GB18030, bytes).unwrap_or(utf8_error.valid_up_to()),
                    shown: None,
                }),
            }
        }
    }
}

/// Where the first sequence `encoding` cannot decode starts in `bytes` (given without
/// their BOM), `None` if every one decodes. Unlike [`gbk::decode_with`], the text is
/// not kept: a scratch buffer is decoded into again and again, so a large file needs no
/// second copy of itself.
fn first_malformed(encoding: &'static encoding_rs::Encoding, bytes: &[u8]) -> Option<usize> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut scratch = vec![0u8; 64 << 10];
    let mut read = 0;
    loop {
        let (result, took, _) =
            decoder.decode_to_utf8_without_replacement(&bytes[read..], &mut scratch, true);
        read += took;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return None,
            encoding_rs::DecoderResult::OutputFull => {}
            // The bad sequence, then what was read after it, end where reading stopped.
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                return Some(read.saturating_sub(usize::from(bad) + usize::from(after)))
            }
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset });
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| DecodeError::NotAsDeclared {
        offset: e.utf8_error().valid_up_to() + UTF8_BOM.len(),
        encoding: "UTF-8",
        shown: None,
    })
}

/// The length of `text` once [`normalise_newlines`] made it: a CRLF becomes one byte, a
/// lone CR stays one. Counted, not made: the text before a bad byte may be most of a
/// large file.
fn normalised_len(text: &str) -> usize {
    text.len() - memchr::memmem::find_iter(text.as_bytes(), b"\r\n").count()
}

/// CRLF and lone CR become LF so that every later position counts lines the same way.
/// Done in place, in one pass: an export with CRLF line ends (most are) is no copy of
/// itself.
fn normalise_newlines(text: String) -> String {
    let Some(first) = memchr::memchr(b'\r', text.as_bytes()) else {
        return text;
    };
    let mut bytes = text.into_bytes();
    let (mut read, mut write) = (first, first);
    while read < bytes.len() {
        // bytes[read] is a CR: a CRLF becomes its LF, a lone CR becomes an LF.
        let after = read + 1;
        let next = if bytes.get(after) == Some(&b'\n') {
            after
        } else {
            bytes[read] = b'\n';
            read
        };
        let end = memchr::memchr(b'\r', &bytes[after..]).map_or(bytes.len(), |i| after + i);
        bytes.copy_within(next..end, write);
        write += end - next;
        read = end;
    }
    bytes.truncate(write);
    // Only ASCII CR bytes were taken out or turned into LF: still UTF-8.
    utf8_string(bytes).unwrap_or_default()
}

/// Whether `bytes` is UTF-8, checked with SIMD: tables are mostly Chinese text, on
/// which `std::str::from_utf8` takes its slow path.
pub fn is_utf8(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

/// `String::from_utf8`, with the check done by [`is_utf8`]; the standard check runs
/// only on bytes that fail it, to say where.
fn utf8_string(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    if is_utf8(&bytes) {
        // SAFETY: `is_utf8` has just checked that the bytes are UTF-8.
        Ok(unsafe { String::from_utf8_unchecked(bytes) })
    } else {
        String::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_counted_is_the_length_normalised() {
        for text in [
            "",
            "a",
            "\r",
            "\r\n",
            "a\r\nb\rc\n",
            "\r\r\n\n\r",
            "检查\r\n结果\r",
        ] {
            assert_eq!(
                normalised_len(text),
                normalise_newlines(text.to_owned()).len(),
                "{text:?}"
            );
        }
    }

    /// A table decoded into a file of its own is exactly what the whole reader makes of
    /// it, and it is decoded so only where the whole reader reads it as GB18030.
    #[test]
    fn a_table_decoded_into_a_file_reads_as_the_whole_reader_reads_it() {
        let map = |bytes: &[u8]| {
            let mut file = tempfile::tempfile().expect("temp file");
            std::io::Write::write_all(&mut file, bytes).expect("write");
            // SAFETY: a file of this test's own, not written while mapped.
            unsafe { memmap2::Mmap::map(&file) }.expect("map")
        };
        let pieces: [&[u8]; 8] = [
            b"a,b",
            b"\n",
            "部门".as_bytes(),
            b"\xb2\xbf\xc3\xc5",
            b"\x81\x20",
            b"\x00",
            b"\"",
            b"\r\n",
        ];
        let mut state: u64 = 11;
        let mut decoded = 0;
        for n in 0..600 {
            let len = if n % 50 == 0 {
                3000
            } else {
                (state >> 33) as usize % 40
            };
            let mut bytes = Vec::new();
            for _ in 0..len {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                // Mostly GBK text and line breaks; now and then something else.
                let pick = (state >> 33) as usize % 400;
                let piece = match pick {
                    0 => pieces[2],
                    1 => pieces[4],
                    2 => pieces[5],
                    3..=20 => pieces[6],
                    21..=80 => pieces[1],
                    81..=130 => pieces[7],
                    131..=240 => pieces[0],
                    _ => pieces[3],
                };
                bytes.extend_from_slice(piece);
            }
            let mapped = map(&bytes);
            // In blocks of the size read, and small ones, cut after line breaks.
            // `each` sees each block after the text written before it, which is the
            // blocks seen so far, and the whole text last.
            let in_blocks = [4 << 20, 64, 7].map(|b| {
                // The blocks handed on, which the text written before each must be.
                let (mut seen, mut whole) = (Vec::new(), false);
                let source = map_gb18030_in_blocks("t.csv", &mapped, usize::MAX, b, |d| match d {
                    Decoded::Written { text, whole: all } => {
                        assert_eq!(text, &seen[..]);
                        assert!(!whole);
                        whole = all;
                    }
                    Decoded::Block { text, start, .. } => {
                        assert_eq!(start, seen.len());
                        seen.extend_from_slice(text);
                    }
                });
                source.map(|s| {
                    assert!(whole);
                    assert_eq!(seen, s.text.as_bytes());
                    assert_eq!(s.encoding, Some("GB18030"));
                    assert_eq!(s.lines.breaks, memchr::memchr_iter(b'\n', &seen).count());
                    seen
                })
            });
            if in_blocks[0].is_none() {
                assert!(in_blocks.iter().all(Option::is_none), "{bytes:?}");
                continue;
            }
            decoded += 1;
            let whole = decode_bytes(&bytes).expect("the whole reader reads it");
            assert_eq!(whole.1, Some("GB18030"), "{bytes:?}");
            for blocks in &in_blocks {
                assert_eq!(blocks.as_deref(), Some(whole.0.as_bytes()), "{bytes:?}");
            }
        }
        assert!(decoded > 100, "{decoded}");
    }

    #[test]
    fn reads_gbk_bom_and_crlf() {
        let (gbk, _, _) = GB18030.encode("部门: 武汉\r\n年度: 2024\r\n");
        let file = SourceFile::decode("a.yaml", &gbk).unwrap();
        assert_eq!(file.encoding, Some("GB18030"));
        assert_eq!(file.text, "部门: 武汉\n年度: 2024\n");
        let bom = SourceFile::decode("b.yaml", b"\xEF\xBB\xBFkind: Plan\n").unwrap();
        assert_eq!(bom.encoding, Some("UTF-8 with BOM"));
        let mixed = SourceFile::decode("m.csv", b"a\r\nb\rc\r\n\r\r\nd\r").unwrap();
        assert_eq!(mixed.text, "a\nb\nc\n\n\nd\n");
        assert_eq!(mixed.line_col(mixed.text.len() - 1), (6, 2));
        assert!(matches!(
            SourceFile::decode("d", b"\xEF\xBB\xBFa\xFFb"),
            Err(DecodeError::NotAsDeclared { offset: 4, .. })
        ));
        assert_eq!(bom.text, "kind: Plan\n");
        assert!(matches!(
            SourceFile::decode("c", b"ab\0cd"),
            Err(DecodeError::Binary { offset: 2 })
        ));
    }

    /// Lines found from the sparse index are those counted from the start.
    #[test]
    fn positions_past_the_indexed_lines_are_counted() {
        let text: String = (0..300)
            .map(|i| match i % 3 {
                0 => String::new(),
                1 => format!("第{i}行,x"),
                _ => "a".repeat(i % 7),
            } + "\n")
            .collect();
        let file = SourceFile::from_text("t.csv", text.clone());
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            assert_eq!(file.line_col(offset), (line, column), "at {offset}");
        }
        for (i, line) in text.split('\n').enumerate() {
            assert_eq!(file.line_text(i + 1), line);
            let start = file.offset_of(i + 1, 0);
            assert_eq!(file.line_col(start), (i + 1, 1));
        }
        assert_eq!(file.offset_of(1000, 0), text.len());
    }

    #[test]
    fn positions_count_characters() {
        let file = SourceFile::from_text("a", "名称: 武汉\nx: 1\n");
        let offset = file.offset_of(1, 4);
        assert_eq!(&file.text[offset..offset + 3], "武");
        assert_eq!(file.line_col(offset), (1, 5));
        assert_eq!(file.line_col(file.offset_of(2, 3)), (2, 4));
        assert_eq!(file.line_text(2), "x: 1");
    }
}
