//! Span-keeping YAML (and JSON, a subset of YAML 1.2) loader built on saphyr-parser's
//! event stream, with hard limits against hostile input.
//!
//! The tree is built with an explicit stack, so nesting depth costs heap, not native
//! stack; depth, node count and alias expansion are bounded so that deep nesting and
//! "billion laughs" alias bombs end in a positioned error instead of a crash.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rhai::ImmutableString;
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan};

use crate::parse::source::SourceFile;
use crate::parse::tree::{Key, Node, NodeId, Span, Tree, Value};

/// Nesting deeper than this is no spot-check document; it is an attack or an accident.
pub const MAX_DEPTH: usize = 64;
/// Nodes that aliases may add by copying anchored content, per document.
pub const MAX_ALIAS_NODES: usize = 100_000;
/// Nodes per file; large record sets belong in CSV/XLSX tables, which stream.
pub const MAX_NODES: usize = 5_000_000;

/// A file that could not be read as YAML, with the place it went wrong.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub code: &'static str,
    pub span: Span,
    pub en: String,
    pub zh: String,
}

impl LoadError {
    fn new(code: &'static str, span: Span, en: impl Into<String>, zh: impl Into<String>) -> Self {
        LoadError {
            code,
            span,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

enum Frame {
    Seq {
        id: NodeId,
        items: Vec<NodeId>,
    },
    Map {
        id: NodeId,
        entries: Vec<(Key, NodeId)>,
        pending_key: Option<(Key, Span)>,
        /// The keys of a long mapping, so that each new key is checked against the
        /// earlier ones in constant time (a mapping of 100,000 keys stays linear).
        long: Option<HashSet<Arc<str>>>,
    },
}

/// Entries a mapping may have before its keys are indexed; a record has a few.
const SHORT_MAPPING: usize = 16;

struct Builder<'s> {
    source: &'s SourceFile,
    /// (character index, byte offset) of the last marker converted.
    cursor: (usize, usize),
    nodes: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    alias_nodes: usize,
    root: Option<NodeId>,
    /// Where the parsed text is shorter than the file (see [`join_surrogates`]): the
    /// character index, in the parsed text, after each joined surrogate pair.
    shifts: Vec<usize>,
}

/// Reads every document of a YAML or JSON file.
pub fn load(source: &Arc<SourceFile>) -> Result<Vec<Tree>, LoadError> {
    let mut trees = Vec::new();
    let mut builder = Builder::new(source);
    let joined = join_surrogates(&source.text)?;
    let text = match &joined {
        Some((text, shifts)) => {
            builder.shifts = shifts.clone();
            text.as_str()
        }
        None => source.text.as_str(),
    };
    let mut total_nodes = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let offset = match joined {
                None => source.offset_of(e.marker().line(), e.marker().col()),
                Some(_) => char_offset(&source.text, builder.original_index(e.marker().index())),
            };
            // The character at the error: one byte could split it or pass the end.
            let width = source.text[offset.min(source.text.len())..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
            // The scanner has its own flow-nesting bound; report it as ours.
            if e.info().contains("recursion limit") {
                return LoadError::new(
                    "input/too-deep",
                    Span::new(offset, offset + width),
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                    format!("嵌套层级超过 {MAX_DEPTH} 层"),
                );
            }
            LoadError::new(
                "input/malformed",
                Span::new(offset, offset + width),
                format!("malformed YAML: {}", e.info()),
                format!("YAML 格式错误：{}", e.info()),
            )
        })?;
        let span = builder.span(span);
        match event {
            Event::DocumentStart(_) => builder.start_document(),
            Event::DocumentEnd => {
                total_nodes += builder.nodes.len();
                if let Some(tree) = builder.finish_document(source) {
                    trees.push(tree);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let value = builder.scalar(&text, style, tag.as_deref(), span)?;
                let raw = match value {
                    Value::Str(_) => None,
                    _ => Some(ImmutableString::from(text.as_ref())),
                };
                let id = builder.push(value, span, raw)?;
                builder.anchor(anchor, id);
                builder.attach(id, span)?;
            }
            Event::SequenceStart(anchor, _) => {
                let id = builder.push(Value::Seq(Vec::new()), span, None)?;
                builder.anchor(anchor, id);
                builder.open(
                    Frame::Seq {
                        id,
                        items: Vec::new(),
                    },
                    span,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                let id = builder.push(Value::Map(Vec::new()), span, None)?;
                builder.anchor(anchor, id);
                builder.open(
                    Frame::Map {
                        id,
                        entries: Vec::new(),
                        pending_key: None,
                        long: None,
                    },
                    span,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(span)?,
            Event::Alias(anchor) => {
                let id = builder.alias(anchor, span)?;
                builder.attach(id, span)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        if total_nodes + builder.nodes.len() > MAX_NODES {
            return Err(LoadError::new(
                "input/too-large",
                span,
                format!("more than {MAX_NODES} values in one file; supply large record sets as CSV or XLSX tables"),
                format!("单个文件超过 {MAX_NODES} 个值；大批量记录请使用 CSV 或 XLSX 表格"),
            ));
        }
    }
    Ok(trees)
}

impl<'s> Builder<'s> {
    fn new(source: &'s SourceFile) -> Self {
        Builder {
            source,
            cursor: (0, 0),
            nodes: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            root: None,
            shifts: Vec::new(),
        }
    }

    fn span(&mut self, span: YamlSpan) -> Span {
        let start = self.byte_offset(span.start);
        let end = self.byte_offset(span.end);
        Span::new(start, end)
    }

    /// Byte offset of a marker. Events arrive nearly in text order, so a cursor that
    /// walks forward keeps this linear in the file size (long flow-style lines would be
    /// quadratic if each marker counted characters from its line start).
    fn byte_offset(&mut self, marker: saphyr_parser::Marker) -> usize {
        let (char_at, byte_at) = self.cursor;
        let target = self.original_index(marker.index());
        if target < char_at {
            if !self.shifts.is_empty() {
                return char_offset(&self.source.text, target);
            }
            return self.source.offset_of(marker.line(), marker.col());
        }
        let rest = &self.source.text[byte_at..];
        let byte = match rest.char_indices().nth(target - char_at) {
            Some((i, _)) => byte_at + i,
            None => self.source.text.len(),
        };
        self.cursor = (target, byte);
        byte
    }

    /// The file's character index of a character index of the parsed text.
    fn original_index(&self, index: usize) -> usize {
        let joined = self.shifts.partition_point(|&end| end <= index);
        index + JOINED_SHORTER * joined
    }

    fn start_document(&mut self) {
        self.nodes.clear();
        self.stack.clear();
        self.anchors.clear();
        self.alias_nodes = 0;
        self.root = None;
    }

    fn finish_document(&mut self, source: &Arc<SourceFile>) -> Option<Tree> {
        let root = self.root.take()?;
        Some(Tree {
            nodes: std::mem::take(&mut self.nodes),
            root,
            source: Arc::clone(source),
            invalid: Vec::new(),
        })
    }

    fn push(
        &mut self,
        value: Value,
        span: Span,
        raw: Option<ImmutableString>,
    ) -> Result<NodeId, LoadError> {
        let id = NodeId::try_from(self.nodes.len()).map_err(|_| too_many(span))?;
        self.nodes.push(Node {
            value,
            span,
            key_span: None,
            raw,
        });
        Ok(id)
    }

    fn anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
    }

    fn open(&mut self, frame: Frame, span: Span) -> Result<(), LoadError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(LoadError::new(
                "input/too-deep",
                span,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                format!("嵌套层级超过 {MAX_DEPTH} 层"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: Span) -> Result<(), LoadError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let id = match frame {
            Frame::Seq { id, items } => {
                let first = items.first().map(|i| self.nodes[*i as usize].span);
                let node = &mut self.nodes[id as usize];
                node.value = Value::Seq(items);
                node.span = point(first.unwrap_or(node.span), end);
                id
            }
            Frame::Map { id, entries, .. } => {
                let first = entries
                    .first()
                    .and_then(|(_, v)| self.nodes[*v as usize].key_span);
                let node = &mut self.nodes[id as usize];
                node.value = Value::Map(entries);
                node.span = point(first.unwrap_or(node.span), end);
                id
            }
        };
        let span = self.nodes[id as usize].span;
        self.attach(id, span)
    }

    /// Hangs a finished node on its parent (or makes it the document root).
    fn attach(&mut self, id: NodeId, span: Span) -> Result<(), LoadError> {
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Seq { items, .. }) => items.push(id),
            Some(Frame::Map {
                entries,
                pending_key,
                long,
                ..
            }) => match pending_key.take() {
                None => {
                    let key = match &self.nodes[id as usize].value {
                        Value::Str(s) => s.clone(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(LoadError::new(
                                "input/malformed",
                                span,
                                "a mapping key must be a plain value, not a list or mapping",
                                "映射的键必须是普通值，不能是列表或映射",
                            ))
                        }
                        _ => self.nodes[id as usize]
                            .raw
                            .clone()
                            .unwrap_or_else(|| ImmutableString::from("null")),
                    };
                    let text: Arc<str> = Arc::from(key.as_str());
                    let repeated = match long {
                        Some(keys) => !keys.insert(Arc::clone(&text)),
                        None => {
                            let repeated = entries.iter().any(|(k, _)| **k == *text);
                            if !repeated && entries.len() >= SHORT_MAPPING {
                                let mut keys: HashSet<Arc<str>> =
                                    entries.iter().map(|(k, _)| Arc::from(k.as_str())).collect();
                                keys.insert(Arc::clone(&text));
                                *long = Some(keys);
                            }
                            repeated
                        }
                    };
                    let key = Key::Owned(text);
                    if repeated {
                        return Err(LoadError::new(
                            "input/duplicate-key",
                            span,
                            format!("the key `{key}` appears twice in this mapping"),
                            format!("同一映射中键 `{key}` 重复出现"),
                        ));
                    }
                    // The key node itself is not kept: its span moves onto the value.
                    self.nodes.truncate(id as usize);
                    *pending_key = Some((key, span));
                }
                Some((key, key_span)) => {
                    self.nodes[id as usize].key_span = Some(key_span);
                    entries.push((key, id));
                }
            },
        }
        Ok(())
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&str>,
        span: Span,
    ) -> Result<Value, LoadError> {
        if let Some(tag) = tag {
            return match tag {
                "tag:yaml.org,2002:str" | "!!str" => Ok(Value::Str(text.into())),
                _ => Err(LoadError::new(
                    "input/malformed",
                    span,
                    format!("unsupported YAML tag `{tag}`; write the plain value"),
                    format!("不支持 YAML 标签 `{tag}`，请直接填写值"),
                )),
            };
        }
        if style != ScalarStyle::Plain {
            return Ok(Value::Str(text.into()));
        }
        Ok(resolve_plain(text))
    }

    /// Copies the anchored subtree, within the alias budget: aliases are legitimate
    /// YAML, but each use must pay for the nodes it creates.
    fn alias(&mut self, anchor: usize, span: Span) -> Result<NodeId, LoadError> {
        let Some(&target) = self.anchors.get(&anchor) else {
            return Err(LoadError::new(
                "input/malformed",
                span,
                "alias to an unknown anchor",
                "别名指向不存在的锚点",
            ));
        };
        if self
            .stack
            .iter()
            .any(|f| matches!(f, Frame::Seq { id, .. } | Frame::Map { id, .. } if *id == target))
        {
            return Err(LoadError::new(
                "input/malformed",
                span,
                "an alias may not refer to a collection that contains it",
                "别名不能引用包含它自身的集合",
            ));
        }
        self.copy_subtree(target, span)
    }

    fn copy_subtree(&mut self, target: NodeId, span: Span) -> Result<NodeId, LoadError> {
        // Iterative copy: (source node, index of the copy) pairs still to fill in.
        let root_copy = self.copy_node(target, span)?;
        let mut pending = vec![(target, root_copy)];
        while let Some((from, to)) = pending.pop() {
            let value = self.nodes[from as usize].value.clone();
            let new_value = match value {
                Value::Seq(items) => {
                    let mut copies = Vec::with_capacity(items.len());
                    for item in items {
                        let c = self.copy_node(item, span)?;
                        pending.push((item, c));
                        copies.push(c);
                    }
                    Value::Seq(copies)
                }
                Value::Map(entries) => {
                    let mut copies = Vec::with_capacity(entries.len());
                    for (k, v) in entries {
                        let c = self.copy_node(v, span)?;
                        pending.push((v, c));
                        copies.push((k, c));
                    }
                    Value::Map(copies)
                }
                other => other,
            };
            self.nodes[to as usize].value = new_value;
        }
        Ok(root_copy)
    }

    fn copy_node(&mut self, from: NodeId, span: Span) -> Result<NodeId, LoadError> {
        self.alias_nodes += 1;
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(LoadError::new(
                "input/alias-limit",
                span,
                format!("aliases expand to more than {MAX_ALIAS_NODES} values (an alias bomb?)"),
                format!("别名展开后超过 {MAX_ALIAS_NODES} 个值（疑似别名炸弹）"),
            ));
        }
        let mut node = self.nodes[from as usize].clone();
        node.key_span = None;
        if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
            node.value = Value::Null;
        }
        let id = NodeId::try_from(self.nodes.len()).map_err(|_| too_many(span))?;
        self.nodes.push(node);
        Ok(id)
    }
}

/// How much shorter, in characters, `\U0001F600` is than `\ud83d\ude00`.
const JOINED_SHORTER: usize = 2;

/// Byte offset of a character index of `text`.
fn char_offset(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(i, _)| i)
}

/// JSON (RFC 8259) writes a character beyond the Basic Multilingual Plane as a UTF-16
/// surrogate pair, `"\ud83d\ude00"`, as Python's `json.dumps` does for emoji and rare
/// Chinese characters; YAML's `\u` takes no surrogates. In a JSON file each pair is
/// rewritten as the one YAML escape `\U0001F600`; the character indices where the
/// rewritten text got shorter are returned so that positions still point into the
/// file. A surrogate that is not half of a pair is no character: an error at it.
/// `None` when there is nothing to rewrite (YAML files are left alone: a backslash in
/// a plain YAML value is no escape).
#[allow(clippy::type_complexity)]
fn join_surrogates(text: &str) -> Result<Option<(String, Vec<usize>)>, LoadError> {
    let looks_like_json = matches!(text.trim_start().chars().next(), Some('{' | '['));
    if !looks_like_json || !text.contains("\\u") {
        return Ok(None);
    }
    let hex = |at: usize| -> Option<u32> {
        let digits = text.get(at..at + 4)?;
        if digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            u32::from_str_radix(digits, 16).ok()
        } else {
            None
        }
    };
    let lone = |at: usize, unit: u32| {
        LoadError::new(
            "input/malformed",
            Span::new(at, at + 6),
            format!("`\\u{unit:04x}` is half of a UTF-16 surrogate pair, with no other half: no character; write the character itself or its full pair"),
            format!("`\\u{unit:04x}` 是 UTF-16 代理对的一半，缺少另一半，不是有效字符；请直接写出该字符或完整的代理对"),
        )
    };
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut shifts = Vec::new();
    // Copied up to here (bytes); characters written to `out` so far.
    let mut copied = 0;
    let mut chars_out = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\\` is a backslash, whatever follows it.
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(unit) = hex(i + 2) else {
            i += 2;
            continue;
        };
        match unit {
            0xD800..=0xDBFF => {
                let low = (bytes.get(i + 6) == Some(&b'\\') && bytes.get(i + 7) == Some(&b'u'))
                    .then(|| hex(i + 8))
                    .flatten()
                    .filter(|low| (0xDC00..=0xDFFF).contains(low));
                let Some(low) = low else {
                    return Err(lone(i, unit));
                };
                let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                let before = &text[copied..i];
                chars_out += before.chars().count();
                out.push_str(before);
                let escape = format!("\\U{c:08X}");
                chars_out += escape.len();
                out.push_str(&escape);
                shifts.push(chars_out);
                copied = i + 12;
                i += 12;
            }
            0xDC00..=0xDFFF => return Err(lone(i, unit)),
            _ => i += 6,
        }
    }
    Ok(out.map(|mut out| {
        out.push_str(&text[copied..]);
        (out, shifts)
    }))
}

fn too_many(span: Span) -> LoadError {
    LoadError::new(
        "input/too-large",
        span,
        "too many values in one document",
        "单个文档中的值过多",
    )
}

/// A collection is shown at one point: its first entry, not the whole block.
fn point(first: Span, _end: Span) -> Span {
    first
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if is_decimal_int(text) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if is_float(text) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.into())
}

fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = {
        let mut parts = mantissa.splitn(2, '.');
        let whole = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        digits(whole)
            && frac.is_none_or(digits)
            && (!whole.is_empty() || frac.is_some_and(|f| !f.is_empty()))
            && (frac.is_some() || exponent.is_some())
    };
    let exponent_ok = exponent.is_none_or(is_decimal_int);
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Vec<Tree>, LoadError> {
        load(&SourceFile::from_text("t.yaml", text))
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let docs = load_str("kind: Plan\ntasks:\n  - id: T1\n    end: 2024-11-30\n").unwrap();
        let tree = &docs[0];
        let (end, found) = tree.resolve(tree.root, "tasks[0].end");
        assert!(found);
        let node = tree.node(end);
        assert_eq!(tree.source.line_col(node.span.start as usize), (4, 10));
        assert_eq!(
            tree.source.line_col(node.key_span.unwrap().start as usize),
            (4, 5)
        );
        assert!(matches!(&node.value, Value::Str(s) if s == "2024-11-30"));
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let docs =
            load_str("a: 1\nb: 0.5\nc: true\nd: ~\ne: '1'\nf: 007\ng: 1e3\nh: 5%\n").unwrap();
        let t = &docs[0];
        let v = |k| t.node(t.get(t.root, k).unwrap()).value.clone();
        assert!(matches!(v("a"), Value::Int(1)));
        assert!(matches!(v("b"), Value::Float(f) if f == 0.5));
        assert!(matches!(v("c"), Value::Bool(true)));
        assert!(matches!(v("d"), Value::Null));
        assert!(matches!(v("e"), Value::Str(_)));
        assert!(matches!(v("f"), Value::Int(7)));
        assert!(matches!(v("g"), Value::Float(_)));
        assert!(matches!(v("h"), Value::Str(_)));
        let f = t.node(t.get(t.root, "f").unwrap());
        assert_eq!(f.raw.as_deref(), Some("007"));
    }

    #[test]
    fn several_documents_and_aliases() {
        let docs = load_str("a: &x [1, 2]\nb: *x\n---\nc: 3\n").unwrap();
        assert_eq!(docs.len(), 2);
        let t = &docs[0];
        assert_eq!(t.seq(t.get(t.root, "b").unwrap()).len(), 2);
    }

    #[test]
    fn rejects_alias_bombs_deep_nesting_and_duplicates() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
            let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
            bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        assert_eq!(load_str(&bomb).unwrap_err().code, "input/alias-limit");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(load_str(&deep).unwrap_err().code, "input/too-deep");
        let err = load_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.code, "input/duplicate-key");
        assert_eq!(
            SourceFile::from_text("x", "a: 1\nb: 2\na: 3\n").line_col(err.span.start as usize),
            (3, 1)
        );
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        let err = load_str("kind: Plan\ntasks: [a, b\nyear: 2024\n").unwrap_err();
        assert_eq!(err.code, "input/malformed");
    }
}
