//! Field paths of declarative checks: `entered_on`, `publication.channel`, and paths
//! into what a record is joined to — `document.task` (the record's document),
//! `@task.end` (the plan task the Results document names), `@object.entity_type` (the
//! library object the record's `object` names). Checked against the document schema
//! when the policy loads.

use crate::parse::tree::ValueRef;
use crate::policy::Each;
use crate::read::record::{Items, Rec};
use crate::read::table::{FieldCache, FlatChunk, RowField};
use crate::schema::{self, Field, KindSchema, Ty};

use super::super::Cx;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The record (or, for a document check, the document).
    Record,
    /// `document.`: the record's document.
    Document,
    /// `@task.`: the plan task the Results document names.
    Task,
    /// `@object.`: the library object the record's `object` names (by id or code).
    Object,
}

#[derive(Debug, Clone)]
pub struct Path {
    pub root: Root,
    /// As written in the policy.
    pub text: String,
    pub keys: Vec<Box<str>>,
    /// The path from the record, and that of the mapping holding the value (`""` for
    /// a path into another document, or of a field of the record itself): made once,
    /// as findings are placed by them.
    from_record: String,
    parent: String,
    /// Where the field is in the rows of the last table it was read in.
    row_cache: std::sync::Arc<FieldCache>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let (root, rest) = if let Some(rest) = text.strip_prefix("document.") {
            (Root::Document, rest)
        } else if let Some(rest) = text.strip_prefix("@task.") {
            (Root::Task, rest)
        } else if let Some(rest) = text.strip_prefix("@object.") {
            (Root::Object, rest)
        } else if text.starts_with('@') {
            return Err(format!("`{text}`: a join is `@task.` or `@object.`"));
        } else {
            (Root::Record, text)
        };
        let keys: Vec<Box<str>> = rest.split('.').map(Box::from).collect();
        let valid = |k: &str| {
            !k.is_empty()
                && k.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '_'
                        || c.is_ascii_uppercase()
                })
        };
        if !keys.iter().all(|k| valid(k)) {
            return Err(format!(
                "`{text}` is not a field path (keys joined by `.`, e.g. `publication.channel`)"
            ));
        }
        let from_record = if root == Root::Record {
            keys.join(".")
        } else {
            String::new()
        };
        let parent = if root == Root::Record && keys.len() > 1 {
            keys[..keys.len() - 1].join(".")
        } else {
            String::new()
        };
        Ok(Path {
            root,
            text: text.to_owned(),
            keys,
            from_record,
            parent,
            row_cache: Default::default(),
        })
    }

    /// The last key: the name its value takes in messages.
    pub fn name(&self) -> &str {
        self.keys.last().map_or("", |k| k)
    }

    /// The path from the reported record, for placing a finding (`None` for a path
    /// into another document).
    pub fn field(&self) -> Option<&str> {
        (self.root == Root::Record).then_some(self.from_record.as_str())
    }

    /// The path of the mapping that holds the value, from the record.
    pub fn parent_field(&self) -> Option<&str> {
        (!self.parent.is_empty()).then_some(self.parent.as_str())
    }

    /// Checks the path against the fields of `kind` (records, or the document for
    /// a document check).
    pub fn check(&self, kind: &KindSchema, each: Each) -> Result<&'static Field, String> {
        let fields: &'static [Field] = match self.root {
            Root::Record if each == Each::Record => schema::record_fields(kind),
            Root::Record => kind.fields,
            Root::Document => kind.fields,
            Root::Task => {
                if kind.kind != "Results" {
                    return Err(format!(
                        "`{}`: `@task` joins a Results document to its plan task",
                        self.text
                    ));
                }
                schema::record_fields(schema::kind_schema("Plan").ok_or("no Plan schema")?)
            }
            Root::Object => {
                if kind.kind != "Results" {
                    return Err(format!(
                        "`{}`: `@object` joins a result to its library object",
                        self.text
                    ));
                }
                schema::record_fields(
                    schema::kind_schema("ObjectLibrary").ok_or("no ObjectLibrary schema")?,
                )
            }
        };
        let mut fields = fields;
        let mut found = None;
        for (i, key) in self.keys.iter().enumerate() {
            let Some(field) = fields.iter().find(|f| f.name == &**key) else {
                let hint = schema::suggest(key, fields.iter().map(|f| f.name));
                return Err(format!(
                    "`{}`: {} has no field `{key}`{hint}",
                    self.text, kind.kind
                ));
            };
            found = Some(field);
            if i + 1 < self.keys.len() {
                fields = match &field.ty {
                    Ty::Obj(inner) => inner,
                    Ty::RiskRatios => &RISK_CLASS_FIELDS,
                    _ => return Err(format!("`{}`: `{key}` holds no fields", self.text)),
                };
            }
        }
        found.ok_or_else(|| format!("`{}` is empty", self.text))
    }

    /// For a field of a row read in place, its chunk and row: such a field is read
    /// directly from the row's cells.
    #[inline]
    fn row<'a>(&self, rec: Rec<'a>) -> Option<(&'a FlatChunk<'a>, u32)> {
        if self.root == Root::Record && self.keys.len() <= 2 {
            rec.row_of()
        } else {
            None
        }
    }

    /// Where the field is in the rows of `chunk`'s table.
    #[inline]
    fn row_field(&self, chunk: &FlatChunk) -> RowField {
        match self.keys.as_slice() {
            [key] => self.row_cache.resolve(chunk, None, key),
            [map, key] => self.row_cache.resolve(chunk, Some(map), key),
            _ => RowField::Absent,
        }
    }

    /// The record the path reads from.
    pub fn base<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Option<Rec<'a>> {
        match self.root {
            Root::Record => Some(rec),
            Root::Document => cx.doc,
            Root::Task => cx.doc_task.map(|task| task.rec()),
            Root::Object => rec
                .str("object")
                .and_then(|o| cx.submission.objects.get(o))
                .map(|o| o.rec()),
        }
    }

    /// The mapping that holds the value.
    fn holder<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Option<Rec<'a>> {
        // Most paths are a field of the record itself.
        if self.keys.len() == 1 && self.root == Root::Record {
            return Some(rec);
        }
        let mut at = self.base(rec, cx)?;
        for key in &self.keys[..self.keys.len().saturating_sub(1)] {
            at = at.child(key)?;
        }
        Some(at)
    }

    /// The value; `None` when absent or null. Inlined into every check (see
    /// [`FlatChunk::field`]).
    #[inline(always)]
    pub fn value<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Option<ValueRef<'a>> {
        if let Some((chunk, row)) = self.row(rec) {
            return chunk.field(row, self.row_field(chunk));
        }
        self.value_elsewhere(rec, cx)
    }

    /// [`Path::value`] of a record that is not a row read in place, or through a join:
    /// out of line, so that reading a row, done for every rule and record, stays small.
    #[inline(never)]
    fn value_elsewhere<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Option<ValueRef<'a>> {
        self.holder(rec, cx)?.value(self.name())
    }

    /// What the path holds, without reading a text.
    #[inline(always)]
    pub fn shape(&self, rec: Rec, cx: &Cx) -> Option<crate::read::record::Shape> {
        use crate::read::record::Shape;
        if let Some((chunk, row)) = self.row(rec) {
            return Some(match chunk.field(row, self.row_field(chunk))? {
                ValueRef::Seq => Shape::Seq,
                ValueRef::Map => Shape::Map,
                _ => Shape::Scalar,
            });
        }
        self.shape_elsewhere(rec, cx)
    }

    /// [`Path::shape`] elsewhere than in a row read in place (see [`Path::value_elsewhere`]).
    #[inline(never)]
    fn shape_elsewhere(&self, rec: Rec, cx: &Cx) -> Option<crate::read::record::Shape> {
        self.holder(rec, cx)?.shape(self.name())
    }

    /// The mapping at the path.
    pub fn child<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Option<Rec<'a>> {
        self.holder(rec, cx)?.child(self.name())
    }

    /// The items of the list at the path (none when absent).
    pub fn items<'a>(&self, rec: Rec<'a>, cx: &Cx<'a>) -> Items<'a> {
        if let Some((chunk, row)) = self.row(rec) {
            return Items::Row(chunk.field_items(row, self.row_field(chunk)).iter());
        }
        match self.holder(rec, cx) {
            Some(at) => at.items(self.name()),
            None => Items::empty(),
        }
    }
}

/// The fields of per-risk-class ratios, for paths such as `credit_risk.ratios.D`.
static RISK_CLASS_FIELDS: [Field; 4] = [
    risk_class("A"),
    risk_class("B"),
    risk_class("C"),
    risk_class("D"),
];

const fn risk_class(name: &'static str) -> Field {
    Field {
        name,
        zh: "风险等级抽查比例",
        ty: Ty::Ratio,
        required: false,
        doc: "Ratio for the risk class.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_check_against_the_schema() {
        let results = schema::kind_schema("Results").expect("Results");
        let p = Path::parse("publication.channel").expect("path");
        assert_eq!(p.name(), "channel");
        assert_eq!(p.parent_field(), Some("publication"));
        assert!(p.check(results, Each::Record).is_ok());
        let task = Path::parse("@task.end").expect("path");
        assert_eq!(task.root, Root::Task);
        assert!(task.check(results, Each::Record).is_ok());
        assert!(task.field().is_none());
        let err = Path::parse("publication.chanel")
            .expect("path")
            .check(results, Each::Record)
            .unwrap_err();
        assert!(err.contains("did you mean `channel`"), "{err}");
        assert!(Path::parse("entered_on.x")
            .expect("path")
            .check(results, Each::Record)
            .is_err());
        assert!(Path::parse("@plan.x").is_err());
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("document.task")
            .expect("path")
            .check(results, Each::Record)
            .is_ok());
        let plan = schema::kind_schema("Plan").expect("Plan");
        assert!(Path::parse("credit_risk.ratios.D")
            .expect("path")
            .check(plan, Each::Record)
            .is_ok());
        assert!(Path::parse("@object.entity_type")
            .expect("path")
            .check(plan, Each::Record)
            .is_err());
    }
}
