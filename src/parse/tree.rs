//! Position-keeping document trees: every mapping key, value and sequence element keeps
//! its byte span in the source, so any finding can point at the exact field.

use std::sync::Arc;

use rhai::ImmutableString;

use crate::parse::source::SourceFile;

pub type NodeId = u32;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A mapping key: a schema field's own name once the document is validated (compared
/// without allocating or following a pointer: rules look fields up for every record),
/// else the text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Static(&'static str),
    Owned(Arc<str>),
}

impl Key {
    pub fn owned(text: &str) -> Key {
        Key::Owned(Arc::from(text))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Key::Static(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl From<&'static str> for Key {
    fn from(name: &'static str) -> Key {
        Key::Static(name)
    }
}

impl Default for Key {
    fn default() -> Key {
        Key::Static("")
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(ImmutableString),
    Seq(Vec<NodeId>),
    Map(Vec<(Key, NodeId)>),
}

impl Value {
    /// The type name users see in "expected …, found …" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    /// Where the value is written.
    pub span: Span,
    /// Where the key naming this value is written, for mapping values.
    pub key_span: Option<Span>,
    /// The source text of a plain scalar that was read as a non-string (`007`, `true`),
    /// so that a field declared as text can take it back verbatim.
    pub raw: Option<ImmutableString>,
}

/// A node of a document, shared: what a finding or a script holds on to.
#[derive(Debug, Clone)]
pub struct NodeRef {
    pub tree: Arc<Tree>,
    pub id: NodeId,
}

impl NodeRef {
    pub fn root(tree: &Arc<Tree>) -> NodeRef {
        NodeRef {
            tree: Arc::clone(tree),
            id: tree.root,
        }
    }
}

/// A value as rules read it, borrowed: scalars by value or as text, lists and
/// mappings by what they are (their content is read through the record that has them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    Seq,
    Map,
}

impl<'a> ValueRef<'a> {
    /// `None` for null, which rules read as absent.
    pub fn of(value: &'a Value) -> Option<ValueRef<'a>> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(x) => ValueRef::Float(*x),
            Value::Str(s) => ValueRef::Str(s.as_str()),
            Value::Seq(_) => ValueRef::Seq,
            Value::Map(_) => ValueRef::Map,
        })
    }
}

/// One document: an arena of nodes (no recursion to build, walk or drop) and its file.
#[derive(Debug)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub root: NodeId,
    pub source: Arc<SourceFile>,
    /// Values that failed validation, sorted: read as absent, but given (their error
    /// is reported, and a rule does not report them missing as well).
    pub invalid: Vec<NodeId>,
}

impl Tree {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn root_node(&self) -> &Node {
        self.node(self.root)
    }

    /// Whether the value at `id` was given but failed validation.
    pub fn is_invalid(&self, id: NodeId) -> bool {
        self.invalid.binary_search(&id).is_ok()
    }

    /// The value under `key` when `id` is a mapping.
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        match &self.node(id).value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| *v),
            _ => None,
        }
    }

    /// The non-null value under `key`; YAML `null`/`~` counts as absent.
    pub fn get_present(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.get(id, key)
            .filter(|v| !matches!(self.node(*v).value, Value::Null))
    }

    pub fn str_at(&self, id: NodeId, key: &str) -> Option<&str> {
        match &self.node(self.get(id, key)?).value {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The text of a text node.
    pub fn text(&self, id: NodeId) -> Option<&str> {
        match &self.node(id).value {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn int_at(&self, id: NodeId, key: &str) -> Option<i64> {
        match &self.node(self.get(id, key)?).value {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match &self.node(id).value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// Resolves a relative path such as `records[3].entered_on` or `publication.channel`
    /// from `from`. Returns the deepest node reached and whether the whole path was found,
    /// so a missing field can be reported at its parent.
    pub fn resolve(&self, from: NodeId, path: &str) -> (NodeId, bool) {
        let mut at = from;
        for step in path_steps(path) {
            let next = match step {
                PathStep::Key(key) => self.get(at, key),
                PathStep::Index(i) => self.seq(at).get(i).copied(),
            };
            match next {
                Some(n) => at = n,
                None => return (at, false),
            }
        }
        (at, true)
    }

    /// Where the key naming this node is written, else where the node is: the place to
    /// point at for "this key is unknown".
    pub fn key_or_report_span(&self, id: NodeId) -> Span {
        self.node(id)
            .key_span
            .unwrap_or_else(|| self.report_span(id))
    }

    /// The span a finding about this node should underline: scalars at their value,
    /// collections at their key (a whole block would be unreadable).
    pub fn report_span(&self, id: NodeId) -> Span {
        let node = self.node(id);
        match (&node.value, node.key_span) {
            (Value::Seq(_) | Value::Map(_), Some(key)) => key,
            (Value::Null, Some(key)) if node.span.is_empty() => key,
            _ => node.span,
        }
    }
}

impl Tree {
    /// The document's own fields with their positions, its lists and mappings left
    /// empty: what a document-wide finding needs, without the records.
    pub fn header_only(&self) -> Tree {
        let root = self.root_node();
        let mut nodes = vec![Node {
            value: Value::Null,
            ..root.clone()
        }];
        let mut entries = Vec::new();
        if let Value::Map(fields) = &root.value {
            for (key, id) in fields {
                let node = self.node(*id);
                let value = match &node.value {
                    Value::Seq(_) => Value::Seq(Vec::new()),
                    Value::Map(_) => Value::Map(Vec::new()),
                    scalar => scalar.clone(),
                };
                entries.push((key.clone(), nodes.len() as NodeId));
                nodes.push(Node {
                    value,
                    ..node.clone()
                });
            }
        }
        nodes[0].value = Value::Map(entries);
        Tree {
            nodes,
            root: 0,
            source: Arc::clone(&self.source),
            invalid: Vec::new(),
        }
    }

    /// A value as a Rhai value; `on_map` decides what a mapping becomes (a copied map
    /// for parameters, a reference into the tree for scripts' records).
    pub fn to_dynamic_with(
        &self,
        id: NodeId,
        on_map: &dyn Fn(NodeId) -> rhai::Dynamic,
    ) -> rhai::Dynamic {
        use rhai::Dynamic;
        match &self.node(id).value {
            Value::Null => Dynamic::UNIT,
            Value::Bool(b) => Dynamic::from_bool(*b),
            Value::Int(i) => Dynamic::from_int(*i),
            Value::Float(f) => Dynamic::from_float(*f),
            Value::Str(s) => Dynamic::from(s.clone()),
            Value::Seq(items) => Dynamic::from_array(
                items
                    .iter()
                    .map(|i| self.to_dynamic_with(*i, on_map))
                    .collect(),
            ),
            Value::Map(_) => on_map(id),
        }
    }
}

pub(crate) enum PathStep<'a> {
    Key(&'a str),
    Index(usize),
}

pub(crate) fn path_steps(path: &str) -> impl Iterator<Item = PathStep<'_>> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|segment| {
            let (key, indexes) = match segment.find('[') {
                Some(i) => (&segment[..i], &segment[i..]),
                None => (segment, ""),
            };
            let key_step = (!key.is_empty()).then_some(PathStep::Key(key));
            let index_steps = indexes
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .map(|s| PathStep::Index(s.trim().parse().unwrap_or(usize::MAX)));
            key_step.into_iter().chain(index_steps)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;

    #[test]
    fn resolves_paths_and_reports_missing_at_parent() {
        let source = SourceFile::from_text("t.yaml", "records:\n  - a: 1\n  - a: 2\n    b: x\n");
        let docs = yaml::load(&source).unwrap();
        let tree = &docs[0];
        let (node, found) = tree.resolve(tree.root, "records[1].b");
        assert!(found);
        assert_eq!(
            source.line_col(tree.report_span(node).start as usize),
            (4, 8)
        );
        let (parent, found) = tree.resolve(tree.root, "records[0].b");
        assert!(!found);
        assert_eq!(
            source.line_col(tree.report_span(parent).start as usize),
            (2, 5)
        );
    }
}
