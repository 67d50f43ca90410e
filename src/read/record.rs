//! Records as rules read them: a node of a document tree, or a row of a streamed
//! table read in place ([`FlatChunk`]), through one view ([`Rec`]), so that a rule is
//! written once and runs on either without building a tree per row.

use std::sync::Arc;

use crate::diag::{Target, TARGET_KEYS};
use crate::parse::source::SourceFile;
use crate::parse::tree::{NodeId, NodeRef, Span, Tree, Value, ValueRef};
use crate::read::table::{FlatChunk, Part};

/// The items of a list ([`Rec::items`]), null items left out.
#[derive(Clone)]
pub enum Items<'a> {
    Tree(&'a Tree, std::slice::Iter<'a, NodeId>),
    Row(std::slice::Iter<'a, &'a str>),
}

impl Items<'_> {
    pub fn empty() -> Self {
        Items::Row([].iter())
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = ValueRef<'a>;

    fn next(&mut self) -> Option<ValueRef<'a>> {
        match self {
            Items::Tree(tree, ids) => ids.find_map(|id| ValueRef::of(&tree.node(*id).value)),
            Items::Row(items) => items.next().map(|s| ValueRef::Str(s)),
        }
    }
}

/// A record, task or document as rules read it: a node of a tree, or a row
/// of a streamed table read in place ([`FlatChunk`]).
#[derive(Clone, Copy)]
pub struct Rec<'a> {
    at: At<'a>,
}

#[derive(Clone, Copy)]
enum At<'a> {
    Tree {
        tree: &'a Arc<Tree>,
        id: NodeId,
    },
    /// A record of a library or plan with its fields read once ([`Snapshot`]).
    Snapshot {
        tree: &'a Arc<Tree>,
        id: NodeId,
        fields: &'a Snapshot,
    },
    Row {
        chunk: &'a FlatChunk<'a>,
        row: u32,
        part: Part,
    },
}

/// A record's fields, by their schema names, read once: for records joined to results
/// (an inspector's `active`, a task's `end`), which are read for every result record.
pub type Snapshot = [(&'static str, NodeId, Scalar)];

/// What a field is, for asking whether it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Seq,
    Map,
    /// Given, but its value failed validation (reported as an input error): read as
    /// absent, yet not missing.
    Invalid,
}

impl Shape {
    fn of(value: ValueRef) -> Shape {
        match value {
            ValueRef::Seq => Shape::Seq,
            ValueRef::Map => Shape::Map,
            _ => Shape::Scalar,
        }
    }
}

/// A field of a [`Snapshot`]: its value, or that it is a list or mapping.
#[derive(Debug, Clone)]
pub enum Scalar {
    Str(rhai::ImmutableString),
    Bool(bool),
    Int(i64),
    Float(f64),
    Seq,
    Map,
}

/// The fields of `record`, as a [`Snapshot`]; keys that are not a schema's own (there
/// are none in a validated document) are left out.
pub fn snapshot(tree: &Tree, record: NodeId) -> Vec<(&'static str, NodeId, Scalar)> {
    let Value::Map(entries) = &tree.node(record).value else {
        return Vec::new();
    };
    // Made to size: a library's hundred thousand snapshots are kept for the run.
    let mut fields = Vec::with_capacity(entries.len());
    fields.extend(entries.iter().filter_map(|(key, id)| {
        let crate::parse::tree::Key::Static(name) = key else {
            return None;
        };
        let scalar = match &tree.node(*id).value {
            Value::Null => return None,
            Value::Str(s) => Scalar::Str(s.clone()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Int(i) => Scalar::Int(*i),
            Value::Float(x) => Scalar::Float(*x),
            Value::Seq(_) => Scalar::Seq,
            Value::Map(_) => Scalar::Map,
        };
        Some((*name, *id, scalar))
    }));
    fields
}

impl<'a> Rec<'a> {
    /// Node `id` of `tree`, whose fields are `fields`.
    pub fn of_snapshot(tree: &'a Arc<Tree>, id: NodeId, fields: &'a Snapshot) -> Rec<'a> {
        Rec {
            at: At::Snapshot { tree, id, fields },
        }
    }

    pub fn new(tree: &'a Arc<Tree>, id: NodeId) -> Rec<'a> {
        Rec {
            at: At::Tree { tree, id },
        }
    }

    /// Row `row` of a chunk read in place.
    pub fn row(chunk: &'a FlatChunk<'a>, row: u32) -> Rec<'a> {
        Rec {
            at: At::Row {
                chunk,
                row,
                part: None,
            },
        }
    }

    /// The tree node this is; a row of a chunk read in place is built into a tree of
    /// its own first.
    pub fn tree_node(&self) -> (Arc<Tree>, NodeId) {
        match self.at {
            At::Tree { tree, id, .. } | At::Snapshot { tree, id, .. } => (Arc::clone(tree), id),
            At::Row { chunk, row, part } => chunk.node(row, part),
        }
    }

    /// The node under `key` of a tree node.
    fn get(&self, key: &str) -> Option<NodeId> {
        match self.at {
            At::Snapshot { fields, .. } => fields
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, id, _)| *id),
            At::Tree { tree, id, .. } => tree.get(id, key),
            At::Row { .. } => None,
        }
    }

    pub fn root(tree: &'a Arc<Tree>) -> Rec<'a> {
        Rec::new(tree, tree.root)
    }

    pub fn of(node: &'a NodeRef) -> Rec<'a> {
        Rec::new(&node.tree, node.id)
    }

    /// The value under `key`; `None` for absent and null, as `()` in scripts.
    pub fn value(&self, key: &str) -> Option<ValueRef<'a>> {
        match self.at {
            At::Snapshot { fields, .. } => {
                let (_, _, scalar) = fields.iter().find(|(k, _, _)| *k == key)?;
                Some(match scalar {
                    Scalar::Str(s) => ValueRef::Str(s.as_str()),
                    Scalar::Bool(b) => ValueRef::Bool(*b),
                    Scalar::Int(i) => ValueRef::Int(*i),
                    Scalar::Float(x) => ValueRef::Float(*x),
                    Scalar::Seq => ValueRef::Seq,
                    Scalar::Map => ValueRef::Map,
                })
            }
            At::Tree { tree, .. } => {
                let tree: &'a Tree = tree;
                ValueRef::of(&tree.node(self.get(key)?).value)
            }
            At::Row { chunk, row, part } => chunk.value(row, part, key),
        }
    }

    /// What is under `key`, without reading a text: whether a field is given is asked of
    /// records joined to every result, and reading their texts would miss the cache.
    pub fn shape(&self, key: &str) -> Option<Shape> {
        match self.at {
            At::Snapshot { fields, .. } => {
                let (_, _, scalar) = fields.iter().find(|(k, _, _)| *k == key)?;
                Some(match scalar {
                    Scalar::Seq => Shape::Seq,
                    Scalar::Map => Shape::Map,
                    _ => Shape::Scalar,
                })
            }
            At::Tree { tree, .. } => match self.value(key) {
                Some(value) => Some(Shape::of(value)),
                None => self
                    .get(key)
                    .filter(|id| tree.is_invalid(*id))
                    .map(|_| Shape::Invalid),
            },
            At::Row { .. } => self.value(key).map(Shape::of),
        }
    }

    /// The tree value under `key`, for rules over plans and libraries, which are
    /// always trees (`None` for a row read in place).
    pub fn tree_value(&self, key: &str) -> Option<&'a Value> {
        match self.at {
            At::Tree { tree, .. } | At::Snapshot { tree, .. } => {
                let tree: &'a Tree = tree;
                match &tree.node(self.get(key)?).value {
                    Value::Null => None,
                    v => Some(v),
                }
            }
            At::Row { .. } => None,
        }
    }

    /// The tree and node of a tree-backed record (plans and libraries).
    pub fn tree_ref(&self) -> Option<(&'a Tree, NodeId)> {
        match self.at {
            At::Tree { tree, id, .. } | At::Snapshot { tree, id, .. } => Some((tree, id)),
            At::Row { .. } => None,
        }
    }

    /// A text value (dates are text too).
    pub fn str(&self, key: &str) -> Option<&'a str> {
        match self.value(key)? {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            ValueRef::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether `key` is given (a value that failed validation included).
    pub fn is_present(&self, key: &str) -> bool {
        self.shape(key).is_some()
    }

    /// The mapping under `key`.
    pub fn child(&self, key: &str) -> Option<Rec<'a>> {
        match self.at {
            At::Tree { tree, .. } | At::Snapshot { tree, .. } => {
                let id = self.get(key)?;
                matches!(tree.node(id).value, Value::Map(_)).then_some(Rec::new(tree, id))
            }
            At::Row { chunk, row, part } => Some(Rec {
                at: At::Row {
                    chunk,
                    row,
                    part: Some(chunk.child(row, part, key)?),
                },
            }),
        }
    }

    /// The items of the list under `key` (none when absent or not a list).
    pub fn items(&self, key: &str) -> Items<'a> {
        match self.at {
            At::Tree { tree, .. } | At::Snapshot { tree, .. } => {
                let tree: &'a Tree = tree;
                let ids: &'a [NodeId] = self.get(key).map_or(&[], |id| tree.seq(id));
                Items::Tree(tree, ids.iter())
            }
            At::Row { chunk, row, part } => {
                let items = if part.is_none() {
                    chunk.items(row, key)
                } else {
                    &[]
                };
                Items::Row(items.iter())
            }
        }
    }

    /// The mapping at a dotted path (`publication`, `a.b`).
    pub fn child_at(&self, path: &str) -> Option<Rec<'a>> {
        path.split('.').try_fold(*self, |rec, key| rec.child(key))
    }

    /// The value at a dotted path (`publication.channel`); `None` for absent and null.
    pub fn value_at(&self, path: &str) -> Option<ValueRef<'a>> {
        match path.rsplit_once('.') {
            Some((parent, key)) => self.child_at(parent)?.value(key),
            None => self.value(path),
        }
    }

    /// The items of the list at a dotted path.
    pub fn items_at(&self, path: &str) -> Items<'a> {
        match path.rsplit_once('.') {
            Some((parent, key)) => match self.child_at(parent) {
                Some(p) => p.items(key),
                None => Items::Row([].iter()),
            },
            None => self.items(path),
        }
    }

    /// Whether a mapping has a value that is not null (a row's mapping is there only
    /// when one of its cells is).
    pub fn has_any_value(&self) -> bool {
        match self.at {
            At::Tree { tree, id, .. } | At::Snapshot { tree, id, .. } => match &tree.node(id).value
            {
                Value::Map(entries) => entries
                    .iter()
                    .any(|(_, v)| !matches!(tree.node(*v).value, Value::Null)),
                _ => false,
            },
            At::Row { .. } => true,
        }
    }

    /// Another node of the same tree (an item of a list of this one); a row has none.
    pub fn at_node(&self, id: NodeId) -> Rec<'a> {
        match self.at {
            At::Tree { tree, .. } | At::Snapshot { tree, .. } => Rec::new(tree, id),
            At::Row { .. } => *self,
        }
    }

    /// The keys of a mapping that are given.
    pub fn keys(&self) -> Vec<&'a str> {
        match self.at {
            At::Tree { tree, id, .. } | At::Snapshot { tree, id, .. } => {
                let tree: &'a Tree = tree;
                match &tree.node(id).value {
                    Value::Map(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
                    _ => Vec::new(),
                }
            }
            At::Row { chunk, row, part } => chunk.keys(row, part),
        }
    }

    /// For a row of a table read in place (not a mapping inside it), its chunk and row.
    pub fn row_of(&self) -> Option<(&'a FlatChunk<'a>, u32)> {
        match self.at {
            At::Row {
                chunk,
                row,
                part: None,
            } => Some((chunk, row)),
            _ => None,
        }
    }

    /// Whether this is a row of a table read in place.
    pub fn is_row(&self) -> bool {
        matches!(self.at, At::Row { .. })
    }

    /// The items of the list under `key` as mappings.
    pub fn records(&self, key: &str) -> impl Iterator<Item = Rec<'a>> + 'a {
        let (tree, ids): (Option<&'a Arc<Tree>>, &'a [NodeId]) = match self.at {
            At::Tree { tree, .. } | At::Snapshot { tree, .. } => {
                (Some(tree), self.get(key).map_or(&[], |id| tree.seq(id)))
            }
            At::Row { .. } => (None, &[]),
        };
        ids.iter()
            .filter_map(move |id| tree.map(|tree| Rec::new(tree, *id)))
    }

    pub fn node(&self) -> NodeRef {
        let (tree, id) = self.tree_node();
        NodeRef { tree, id }
    }

    /// What a finding about `field` of this is anchored to: a row read in place is
    /// placed without building its tree.
    /// The row of a streamed table's chunk this record is, if it is one.
    pub fn row_index(&self) -> Option<u32> {
        match self.at {
            At::Row { row, .. } => Some(row),
            _ => None,
        }
    }

    pub fn anchor(&self, field: &str) -> Anchor {
        match self.at {
            At::Tree { .. } | At::Snapshot { .. } => Anchor::Node(self.node()),
            At::Row { chunk, row, part } => {
                let (span, targets) = chunk.place(row, part, field);
                let line_col = Some(chunk.line_col(row, span.start as usize));
                debug_assert_eq!(line_col, Some(chunk.source().line_col(span.start as usize)));
                Anchor::Placed {
                    source: Arc::clone(chunk.source()),
                    span,
                    targets,
                    line_col,
                }
            }
        }
    }
}

/// What a finding is about: a node and a path from it, or a place already resolved
/// (a row read in place, see [`FlatChunk::place`]).
#[derive(Debug, Clone)]
pub enum Anchor {
    Node(NodeRef),
    Placed {
        source: Arc<SourceFile>,
        span: Span,
        targets: Vec<Target>,
        /// The line and column of `span`, when counted where the finding was made.
        line_col: Option<(usize, usize)>,
    },
}

impl Anchor {
    /// The file, the place of `field` from the anchor, what the finding is about
    /// (the values of [`TARGET_KEYS`] of the node, else of its document), and the
    /// place's line and column if they are known already.
    pub fn resolve(self, field: &str) -> Resolved {
        match self {
            Anchor::Node(at) => {
                let tree = &at.tree;
                let (node, _) = tree.resolve(at.id, field);
                let targets = TARGET_KEYS
                    .iter()
                    .filter_map(|k| tree.str_at(at.id, k).or_else(|| tree.str_at(tree.root, k)))
                    .map(Target::from)
                    .collect();
                (
                    Arc::clone(&tree.source),
                    tree.report_span(node),
                    targets,
                    None,
                )
            }
            Anchor::Placed {
                source,
                span,
                targets,
                line_col,
            } => (source, span, targets, line_col),
        }
    }
}

/// What [`Anchor::resolve`] gives.
pub type Resolved = (Arc<SourceFile>, Span, Vec<Target>, Option<(usize, usize)>);

/// Whether a result is published: its publication's channel and date are both given.
pub fn is_published(record: &Rec) -> bool {
    if let At::Row {
        chunk,
        row,
        part: None,
    } = record.at
    {
        return chunk.is_published(row);
    }
    record
        .child("publication")
        .is_some_and(|p| p.is_present("channel") && p.is_present("published_on"))
}
