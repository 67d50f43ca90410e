//! Submissions: a department's documents for one year, indexed once (task id → task,
//! object code → object, person id → person, item id → item) so joins are lookups.

use std::collections::HashMap;
use std::sync::Arc;

use rhai::ImmutableString;

use crate::parse::tree::{NodeId, Tree, Value};
use crate::read::input::Document;

/// A node of a document: what scripts see as a record, task, object or document.
#[derive(Debug, Clone)]
pub struct NodeRef {
    pub tree: Arc<Tree>,
    pub id: NodeId,
}

impl NodeRef {
    pub fn root(doc: &Document) -> NodeRef {
        NodeRef {
            tree: Arc::clone(&doc.tree),
            id: doc.tree.root,
        }
    }
}

/// Records by id. Looked up once or more per result record, with a fast hash (ids are
/// the user's own data, not an attacker's).
/// Keys are held inline (ids and codes are short), so that a look-up does not miss the
/// cache twice.
pub type Index = HashMap<smartstring::alias::String, Entry, foldhash::fast::RandomState>;

/// A record of an index, with the fields that rules read of it for every result
/// record, read once (a field of a tree is found by comparing keys).
#[derive(Debug, Clone)]
pub struct Entry {
    pub node: NodeRef,
    /// `uscc`, `entity_type` and (of a plan task) `end`, when text.
    pub uscc: Option<ImmutableString>,
    pub entity_type: Option<ImmutableString>,
    pub end: Option<ImmutableString>,
    /// `active`, when a boolean.
    pub active: Option<bool>,
    /// Whether `qualification` is given (not absent or null).
    pub qualified: bool,
    /// Whether the record's `uscc` is the key it is found by (not its `id`).
    pub uscc_is_key: bool,
}

impl Entry {
    fn of(tree: &Arc<Tree>, record: NodeId, key: &str) -> Entry {
        let text = |key| match tree.get(record, key).map(|n| &tree.node(n).value) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let uscc = text("uscc");
        Entry {
            uscc_is_key: uscc.as_deref() == Some(key),
            uscc,
            entity_type: text("entity_type"),
            end: text("end"),
            active: match tree.get(record, "active").map(|n| &tree.node(n).value) {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            },
            qualified: tree.get_present(record, "qualification").is_some(),
            node: NodeRef {
                tree: Arc::clone(tree),
                id: record,
            },
        }
    }
}

#[derive(Debug)]
pub struct Submission {
    pub department: String,
    pub year: Option<i64>,
    pub documents: Vec<Document>,
    /// Every plan of the run, for rules that join plans across departments
    /// (a district joint plan and the city's).
    pub all_plans: Arc<Vec<Document>>,
    pub tasks: Index,
    pub objects: Index,
    pub people: Index,
    pub items: Index,
    /// What the Results documents tell whole-submission rules, gathered on first use.
    pub digest: crate::rules::native::DigestSlot,
}

impl Submission {
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Document> + 'a {
        self.documents.iter().filter(move |d| d.kind() == kind)
    }
}

/// Groups documents by (department, year). Undated documents (item list, libraries)
/// join every year of their department.
pub fn group(documents: &[Document]) -> Vec<Arc<Submission>> {
    let all_plans = Arc::new(
        documents
            .iter()
            .filter(|d| d.kind() == "Plan")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut keys: Vec<(String, Option<i64>)> = Vec::new();
    for doc in documents.iter().filter(|d| d.year.is_some()) {
        let key = (doc.department.to_string(), doc.year);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for doc in documents.iter().filter(|d| d.year.is_none()) {
        if !keys.iter().any(|(dept, _)| dept == doc.department.as_str()) {
            keys.push((doc.department.to_string(), None));
        }
    }
    keys.into_iter()
        .map(|(department, year)| Arc::new(for_key(documents, &all_plans, department, year)))
        .collect()
}

/// The submission of (department, year): its dated documents and the department's
/// undated ones.
pub fn for_key(
    documents: &[Document],
    all_plans: &Arc<Vec<Document>>,
    department: String,
    year: Option<i64>,
) -> Submission {
    let docs: Vec<Document> = documents
        .iter()
        .filter(|d| d.department.as_str() == department && (d.year.is_none() || d.year == year))
        .cloned()
        .collect();
    index(department, year, docs, Arc::clone(all_plans))
}

fn index(
    department: String,
    year: Option<i64>,
    documents: Vec<Document>,
    all_plans: Arc<Vec<Document>>,
) -> Submission {
    let mut sub = Submission {
        department,
        year,
        documents,
        all_plans,
        tasks: Index::default(),
        objects: Index::default(),
        people: Index::default(),
        items: Index::default(),
        digest: Default::default(),
    };
    for doc in &sub.documents {
        let tree = &doc.tree;
        let records = tree.get(tree.root, doc.schema.records);
        let records = records.map(|r| tree.seq(r).to_vec()).unwrap_or_default();
        let target = match doc.kind() {
            "Plan" => &mut sub.tasks,
            "ObjectLibrary" => &mut sub.objects,
            "PersonnelLibrary" => &mut sub.people,
            "ItemList" => &mut sub.items,
            _ => continue,
        };
        // Grown once, not by doubling: a library holds a hundred thousand objects.
        target.reserve(records.len());
        for record in records {
            for key in ["id", "uscc"] {
                if let Some(Value::Str(code)) = tree.get(record, key).map(|n| &tree.node(n).value) {
                    target
                        .entry(code.as_str().into())
                        .or_insert_with(|| Entry::of(tree, record, code));
                }
            }
        }
    }
    sub
}
