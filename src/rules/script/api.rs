//! What scripts see: records, documents and the records they are joined to as
//! read-only nodes (`r.entered_on`, `r.publication.channel`; absent and null read `()`;
//! lists as arrays), and `ctx`: the parameters, the evaluation date, the document, the
//! submission with its look-ups, and `report`, `tally`, `figure` and the aggregates.
//!
//! A record is read where it lies — a row of a streamed table, a node of a document —
//! through [`Rec`], never copied into a map; see [`super::scoped`] for how long it can
//! be read.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map};

use super::helpers::runtime;
use super::scoped;
use crate::parse::tree::{NodeRef, Value, ValueRef};
use crate::read::record::Rec;
use crate::read::table::FieldCache;
use crate::rules::{CompiledRule, Cx, Out};
use crate::submission::digest::ResultsDigest;

/// A record, document, task, object or person.
#[derive(Clone)]
pub struct Node(Inner);

#[derive(Clone)]
enum Inner {
    /// A record or document of the call: readable during it only.
    Scoped { frame: u64, rec: Rec<'static> },
    /// A node of the submission's documents, which outlive every call.
    Shared(NodeRef),
    /// The header of a streamed Results document, whose records are not kept.
    Header(NodeRef),
}

// A scoped `Rec` is only read on the thread, and during the call, that made it
// (`scoped::is_current`); the shared data it points into is read-only.
unsafe impl Send for Node {}
unsafe impl Sync for Node {}

impl Node {
    /// A record of the current call, made readable for its duration.
    pub fn scoped(frame: &scoped::Frame, rec: Rec) -> Node {
        // SAFETY: the frame ends before the data `rec` borrows does (the caller holds
        // both for the call), and `rec()` reads it only while the frame is current.
        let rec: Rec<'static> = unsafe { std::mem::transmute::<Rec<'_>, Rec<'static>>(rec) };
        Node(Inner::Scoped {
            frame: frame.id(),
            rec,
        })
    }

    pub fn shared(node: NodeRef) -> Node {
        Node(Inner::Shared(node))
    }

    pub fn header(node: NodeRef) -> Node {
        Node(Inner::Header(node))
    }

    /// The record, while it can be read.
    pub fn rec(&self) -> Result<Rec<'_>, Box<EvalAltResult>> {
        match &self.0 {
            Inner::Scoped { frame, rec } => {
                if scoped::is_current(*frame) {
                    Ok(*rec)
                } else {
                    Err(runtime(
                        "a record can be read only during the call that received it",
                    ))
                }
            }
            Inner::Shared(node) | Inner::Header(node) => Ok(Rec::of(node)),
        }
    }

    /// A node of the same kind for a mapping inside this one.
    fn child(&self, rec: Rec) -> Node {
        match &self.0 {
            Inner::Scoped { frame, .. } => Node(Inner::Scoped {
                frame: *frame,
                // SAFETY: as in `scoped`: the child lives as long as its parent.
                rec: unsafe { std::mem::transmute::<Rec<'_>, Rec<'static>>(rec) },
            }),
            Inner::Shared(_) | Inner::Header(_) => Node(Inner::Shared(rec.node())),
        }
    }

    /// `node.key`, for a property a getter is registered for, which keeps where the
    /// field is in a table's rows.
    fn get_field(&self, key: &str, cache: &FieldCache) -> Result<Dynamic, Box<EvalAltResult>> {
        if let Inner::Scoped { .. } = &self.0 {
            if let Some((chunk, row)) = self.rec()?.row_of() {
                match chunk.field(row, cache.resolve(chunk, None, key)) {
                    None => return Ok(Dynamic::UNIT),
                    Some(ValueRef::Seq | ValueRef::Map) => {}
                    Some(v) => return Ok(scalar(v)),
                }
            }
        }
        self.get(key)
    }

    fn get(&self, key: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        if let Inner::Header(node) = &self.0 {
            let records =
                crate::schema::kind_schema(node.tree.str_at(node.id, "kind").unwrap_or(""))
                    .map_or("records", |k| k.records);
            if key == records {
                return Err(runtime(format!(
                    "the records of {} are read one at a time as the table streams: check them with `each: record`, or gather what the whole submission needs in `fn gather(record, ctx)`",
                    node.tree.source.name
                )));
            }
        }
        let rec = self.rec()?;
        Ok(match rec.value(key) {
            None => Dynamic::UNIT,
            Some(ValueRef::Map) => match rec.child(key) {
                Some(child) => Dynamic::from(self.child(child)),
                None => Dynamic::UNIT,
            },
            Some(ValueRef::Seq) => Dynamic::from_array(self.list(rec, key)),
            Some(v) => scalar(v),
        })
    }

    /// The items of a list: scalars as values, mappings as nodes.
    fn list(&self, rec: Rec, key: &str) -> Array {
        match rec.tree_ref() {
            Some((tree, id)) => {
                let Some(list) = tree.get(id, key) else {
                    return Array::new();
                };
                tree.seq(list)
                    .iter()
                    .map(|item| match &tree.node(*item).value {
                        Value::Map(_) => match &self.0 {
                            Inner::Scoped { .. } => {
                                let at = rec.at_node(*item);
                                Dynamic::from(self.child(at))
                            }
                            _ => Dynamic::from(Node::shared(NodeRef {
                                tree: Arc::clone(&rec.node().tree),
                                id: *item,
                            })),
                        },
                        value => ValueRef::of(value).map_or(Dynamic::UNIT, scalar),
                    })
                    .collect()
            }
            None => rec.items(key).map(scalar).collect(),
        }
    }

    fn describe(&self) -> String {
        match self.rec() {
            Ok(rec) => {
                let node = rec.node();
                let line = node
                    .tree
                    .source
                    .line_col(node.tree.report_span(node.id).start as usize)
                    .0;
                format!("<node at {}:{line}>", node.tree.source.name)
            }
            Err(_) => "<record of an earlier call>".to_owned(),
        }
    }
}

/// Records a script is called with, one batch per call: `for r in records { … }` in
/// the function the engine calls, each record read in place.
#[derive(Clone)]
pub struct Batch {
    frame: u64,
    records: *const Rec<'static>,
    len: usize,
    next: usize,
}

// As `Node`: read only on its thread, during its call.
unsafe impl Send for Batch {}
unsafe impl Sync for Batch {}

impl Batch {
    pub fn new(frame: &scoped::Frame, records: &[Rec]) -> Batch {
        Batch {
            frame: frame.id(),
            records: records.as_ptr().cast(),
            len: records.len(),
            next: 0,
        }
    }
}

impl Iterator for Batch {
    type Item = Node;

    fn next(&mut self) -> Option<Node> {
        if self.next >= self.len || !scoped::is_current(self.frame) {
            return None;
        }
        // SAFETY: the records outlive the frame, which is current (see `Node::scoped`).
        let rec = unsafe { *self.records.add(self.next) };
        scoped::start_record(self.next);
        self.next += 1;
        Some(Node(Inner::Scoped {
            frame: self.frame,
            rec,
        }))
    }
}

fn scalar(v: ValueRef) -> Dynamic {
    match v {
        ValueRef::Str(s) => Dynamic::from(ImmutableString::from(s)),
        ValueRef::Bool(b) => Dynamic::from_bool(b),
        ValueRef::Int(i) => Dynamic::from_int(i),
        ValueRef::Float(x) => Dynamic::from_float(x),
        ValueRef::Seq | ValueRef::Map => Dynamic::UNIT,
    }
}

/// What one call shares with the script through `ctx`.
pub struct CallState<'a> {
    pub rule: &'a CompiledRule,
    pub cx: &'a Cx<'a>,
    pub out: &'a mut Out,
    pub params: &'a Params,
    /// The document the call is about (`ctx.doc`), as a node.
    pub doc: Option<Node>,
}

/// `ctx`: valid during its call.
#[derive(Clone)]
pub struct Ctx {
    frame: u64,
    state: *mut CallState<'static>,
}

// Dereferenced only on the thread, and during the call, that made it.
unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}

impl Ctx {
    pub fn new(frame: &scoped::Frame, state: &mut CallState) -> Ctx {
        Ctx {
            frame: frame.id(),
            state: (state as *mut CallState).cast(),
        }
    }

    fn state(&mut self) -> Result<&mut CallState<'static>, Box<EvalAltResult>> {
        if !scoped::is_current(self.frame) {
            return Err(runtime(
                "`ctx` can be used only during the call that received it",
            ));
        }
        // SAFETY: the state outlives the frame (the caller holds both for the call,
        // and does not touch the state while the script runs), and the frame is
        // current, so this is that call, on its thread.
        Ok(unsafe { &mut *self.state })
    }
}

/// The rule's parameters, read-only.
#[derive(Clone)]
pub struct Params(pub Arc<Map>);

/// The submission, through `ctx.submission`.
#[derive(Clone)]
pub struct SubmissionView(Ctx);

impl SubmissionView {
    pub fn new(ctx: Ctx) -> SubmissionView {
        SubmissionView(ctx)
    }
}

fn docs_of(cx: &Cx, kind: &str) -> Array {
    cx.submission
        .of_kind(kind)
        .map(|d| Dynamic::from(Node::shared(NodeRef::root(&d.tree))))
        .collect()
}

fn first_of(cx: &Cx, kind: &str) -> Dynamic {
    cx.submission
        .of_kind(kind)
        .next()
        .map_or(Dynamic::UNIT, |d| {
            Dynamic::from(Node::shared(NodeRef::root(&d.tree)))
        })
}

fn lookup(index: &crate::submission::Index, id: &str) -> Dynamic {
    index.get(id).map_or(Dynamic::UNIT, |entry| {
        Dynamic::from(Node::shared(entry.node()))
    })
}

/// A value a finding keeps: nodes and other handles become text, as they cannot be
/// kept past the call.
fn keepable(v: Dynamic) -> Dynamic {
    if let Some(node) = v.read_lock::<Node>().map(|n| n.describe()) {
        return Dynamic::from(ImmutableString::from(node));
    }
    if v.is_array() {
        let items = v.into_array().unwrap_or_default();
        return Dynamic::from_array(items.into_iter().map(keepable).collect());
    }
    if v.is_map() {
        let map = v.cast::<Map>();
        return Dynamic::from_map(map.into_iter().map(|(k, v)| (k, keepable(v))).collect());
    }
    if v.is::<Ctx>() || v.is::<SubmissionView>() || v.is::<Params>() {
        return Dynamic::from(ImmutableString::from(v.type_name()));
    }
    v
}

/// Figures one rule may give: a figure is a line of the summary, not one per record.
pub const MAX_FIGURES: usize = 100;

/// An error for a figure past [`MAX_FIGURES`] (a script flooding `ctx.tally` with new
/// ids would fill the summary and slow every later tally).
fn room_for_figure(out: &Out, id: &str) -> Result<(), Box<EvalAltResult>> {
    if out.tallies.len() < MAX_FIGURES || out.tallied(id).is_some() {
        return Ok(());
    }
    Err(runtime(format!(
        "tally: more than {MAX_FIGURES} figures in one rule; a figure is a rate over many records, under one id"
    )))
}

fn report(
    ctx: &mut Ctx,
    at: Dynamic,
    field: &str,
    key: &str,
    values: Map,
) -> Result<(), Box<EvalAltResult>> {
    let state = ctx.state()?;
    let node = match at.try_cast::<Node>() {
        Some(node) => node,
        None => state.doc.clone().ok_or_else(|| {
            runtime("report: the first argument must be a record, task or document")
        })?,
    };
    let rec = node.rec()?;
    let values: crate::rules::message::FindingValues =
        values.into_iter().map(|(k, v)| (k, keepable(v))).collect();
    state
        .rule
        .report(state.out, state.cx, &rec, field, key, values);
    Ok(())
}

/// The names of every field of the document kinds, nested ones included.
fn field_names() -> Vec<&'static str> {
    fn walk(fields: &'static [crate::schema::Field], names: &mut Vec<&'static str>) {
        for f in fields {
            if !names.contains(&f.name) {
                names.push(f.name);
            }
            let mut ty = &f.ty;
            while let crate::schema::Ty::List(inner) = ty {
                ty = inner;
            }
            if let crate::schema::Ty::Obj(inner) = ty {
                walk(inner, names);
            }
        }
    }
    let mut names = Vec::new();
    for kind in crate::schema::KINDS {
        walk(kind.fields, &mut names);
    }
    names.extend(crate::schema::RISK_CLASSES.iter().copied());
    names
}

pub fn register(engine: &mut Engine, params: &[String]) {
    for name in params {
        let key = name.clone();
        engine.register_get(name, move |p: &mut Params| {
            p.0.get(key.as_str()).cloned().unwrap_or(Dynamic::UNIT)
        });
    }
    // A getter per field name: `r.entered_on` then finds its function at once, where
    // an unregistered property is first looked for as a getter and then read through
    // the indexer, at several times the cost (a million records read a few each).
    for name in field_names() {
        let cache = FieldCache::default();
        engine.register_get(name, move |n: &mut Node| n.get_field(name, &cache));
    }
    engine
        .register_type_with_name::<Node>("Node")
        .register_indexer_get(|n: &mut Node, key: ImmutableString| n.get(&key))
        .register_fn("contains", |n: &mut Node, key: ImmutableString| {
            n.rec().map(|r| r.value(&key).is_some())
        })
        .register_fn("has", |n: &mut Node, key: ImmutableString| {
            n.rec().map(|r| r.value(&key).is_some())
        })
        .register_fn(
            "keys",
            |n: &mut Node| -> Result<Array, Box<EvalAltResult>> {
                let rec = n.rec()?;
                Ok(rec
                    .keys()
                    .into_iter()
                    .map(|k| Dynamic::from(ImmutableString::from(k)))
                    .collect())
            },
        )
        .register_fn("line", |n: &mut Node| -> Result<i64, Box<EvalAltResult>> {
            let node = n.rec()?.node();
            Ok(node
                .tree
                .source
                .line_col(node.tree.report_span(node.id).start as usize)
                .0 as i64)
        })
        .register_fn("to_string", |n: &mut Node| n.describe())
        .register_fn("to_debug", |n: &mut Node| n.describe());

    engine.register_type_with_name::<Batch>("Records");
    engine.register_iterator::<Batch>();

    engine
        .register_type_with_name::<Params>("Params")
        .register_indexer_get(|p: &mut Params, key: ImmutableString| {
            p.0.get(key.as_str()).cloned().unwrap_or(Dynamic::UNIT)
        })
        .register_fn("contains", |p: &mut Params, key: ImmutableString| {
            p.0.contains_key(key.as_str())
        });

    engine
        .register_type_with_name::<Ctx>("Context")
        .register_get(
            "params",
            |c: &mut Ctx| -> Result<Params, Box<EvalAltResult>> { Ok(c.state()?.params.clone()) },
        )
        .register_get(
            "as_of",
            |c: &mut Ctx| -> Result<ImmutableString, Box<EvalAltResult>> {
                Ok(c.state()?.cx.as_of.into())
            },
        )
        .register_get(
            "doc",
            |c: &mut Ctx| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(c.state()?.doc.clone().map_or(Dynamic::UNIT, Dynamic::from))
            },
        )
        .register_get("submission", |c: &mut Ctx| SubmissionView(c.clone()))
        .register_fn(
            "param",
            |c: &mut Ctx, name: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(c.state()?
                    .params
                    .0
                    .get(name.as_str())
                    .cloned()
                    .unwrap_or(Dynamic::UNIT))
            },
        )
        .register_fn(
            "report",
            |c: &mut Ctx, at: Dynamic, field: ImmutableString| {
                report(c, at, &field, "default", Map::new())
            },
        )
        .register_fn(
            "report",
            |c: &mut Ctx, at: Dynamic, field: ImmutableString, values: Map| {
                report(c, at, &field, "default", values)
            },
        )
        .register_fn(
            "report",
            |c: &mut Ctx,
             at: Dynamic,
             field: ImmutableString,
             key: ImmutableString,
             values: Map| { report(c, at, &field, &key, values) },
        )
        .register_fn(
            "figure",
            |c: &mut Ctx,
             id: ImmutableString,
             numerator: i64,
             denominator: i64,
             threshold: f64|
             -> Result<(), Box<EvalAltResult>> {
                let out = &mut *c.state()?.out;
                room_for_figure(out, &id)?;
                out.add_tally(&id, numerator, denominator, threshold);
                Ok(())
            },
        )
        .register_fn(
            "tally",
            |c: &mut Ctx,
             id: ImmutableString,
             passed: bool,
             threshold: f64|
             -> Result<(), Box<EvalAltResult>> {
                let out = &mut *c.state()?.out;
                room_for_figure(out, &id)?;
                out.tally(&id, passed, threshold);
                Ok(())
            },
        )
        // Aggregates gathered record by record (`fn gather`), read by `fn check`.
        .register_fn(
            "count",
            |c: &mut Ctx,
             name: ImmutableString,
             key: Dynamic,
             by: i64|
             -> Result<(), Box<EvalAltResult>> {
                if let Some(key) = aggregate_text(&key, "key")? {
                    c.state()?.out.aggregates.count(&name, &key, by);
                }
                Ok(())
            },
        )
        .register_fn(
            "collect",
            |c: &mut Ctx,
             name: ImmutableString,
             key: Dynamic,
             value: Dynamic|
             -> Result<(), Box<EvalAltResult>> {
                if let (Some(key), Some(value)) = (
                    aggregate_text(&key, "key")?,
                    aggregate_text(&value, "value")?,
                ) {
                    c.state()?.out.aggregates.add(&name, &key, &value);
                }
                Ok(())
            },
        )
        .register_fn(
            "counts",
            |c: &mut Ctx, name: ImmutableString| -> Result<Map, Box<EvalAltResult>> {
                let state = c.state()?;
                Ok(state
                    .out
                    .aggregates
                    .counts
                    .get(name.as_str())
                    .map(|m| {
                        m.iter()
                            .map(|(k, n)| (k.as_str().into(), Dynamic::from_int(*n)))
                            .collect()
                    })
                    .unwrap_or_default())
            },
        )
        .register_fn(
            "distinct",
            |c: &mut Ctx, name: ImmutableString| -> Result<Map, Box<EvalAltResult>> {
                let state = c.state()?;
                Ok(state
                    .out
                    .aggregates
                    .distinct
                    .get(name.as_str())
                    .map(|m| {
                        m.iter()
                            .map(|(k, set)| {
                                let items: Array = set
                                    .iter()
                                    .map(|s| Dynamic::from(ImmutableString::from(s.as_str())))
                                    .collect();
                                (k.as_str().into(), Dynamic::from_array(items))
                            })
                            .collect()
                    })
                    .unwrap_or_default())
            },
        );

    engine
        .register_type_with_name::<SubmissionView>("Submission")
        .register_get(
            "department",
            |s: &mut SubmissionView| -> Result<ImmutableString, Box<EvalAltResult>> {
                Ok(s.0.state()?.cx.submission.department.as_str().into())
            },
        )
        .register_get(
            "year",
            |s: &mut SubmissionView| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(s.0
                    .state()?
                    .cx
                    .submission
                    .year
                    .map_or(Dynamic::UNIT, Dynamic::from_int))
            },
        )
        .register_get(
            "plans",
            |s: &mut SubmissionView| -> Result<Array, Box<EvalAltResult>> {
                Ok(docs_of(s.0.state()?.cx, "Plan"))
            },
        )
        .register_get(
            "results",
            |s: &mut SubmissionView| -> Result<Array, Box<EvalAltResult>> {
                let cx = s.0.state()?.cx;
                Ok(ResultsDigest::of(cx.submission)
                    .documents
                    .iter()
                    .map(|d| {
                        Dynamic::from(if d.streamed {
                            Node::header(d.node.clone())
                        } else {
                            Node::shared(d.node.clone())
                        })
                    })
                    .collect())
            },
        )
        .register_get(
            "plan",
            |s: &mut SubmissionView| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(first_of(s.0.state()?.cx, "Plan"))
            },
        )
        .register_get(
            "item_list",
            |s: &mut SubmissionView| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(first_of(s.0.state()?.cx, "ItemList"))
            },
        )
        .register_get(
            "object_library",
            |s: &mut SubmissionView| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(first_of(s.0.state()?.cx, "ObjectLibrary"))
            },
        )
        .register_get(
            "personnel_library",
            |s: &mut SubmissionView| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(first_of(s.0.state()?.cx, "PersonnelLibrary"))
            },
        )
        .register_get(
            "all_plans",
            |s: &mut SubmissionView| -> Result<Array, Box<EvalAltResult>> {
                Ok(s.0
                    .state()?
                    .cx
                    .submission
                    .all_plans
                    .iter()
                    .map(|d| Dynamic::from(Node::shared(NodeRef::root(&d.tree))))
                    .collect())
            },
        )
        .register_fn(
            "task",
            |s: &mut SubmissionView, id: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(lookup(&s.0.state()?.cx.submission.tasks, &id))
            },
        )
        .register_fn(
            "object",
            |s: &mut SubmissionView, id: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(lookup(&s.0.state()?.cx.submission.objects, &id))
            },
        )
        .register_fn(
            "person",
            |s: &mut SubmissionView, id: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(lookup(&s.0.state()?.cx.submission.people, &id))
            },
        )
        .register_fn(
            "item",
            |s: &mut SubmissionView, id: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
                Ok(lookup(&s.0.state()?.cx.submission.items, &id))
            },
        )
        .register_fn(
            "item_ids",
            |s: &mut SubmissionView, text: ImmutableString| -> Result<Array, Box<EvalAltResult>> {
                Ok(s.0
                    .state()?
                    .cx
                    .submission
                    .item_ids(&text)
                    .into_iter()
                    .map(|id| Dynamic::from(ImmutableString::from(id)))
                    .collect())
            },
        );
}

/// A key or value of an aggregate as text: text as it is, numbers and booleans written
/// out, `()` (a missing field) none — so a record without it is not counted.
fn aggregate_text(value: &Dynamic, what: &str) -> Result<Option<String>, Box<EvalAltResult>> {
    if value.is_unit() {
        Ok(None)
    } else if let Some(text) = value.read_lock::<ImmutableString>() {
        Ok(Some(text.as_str().to_owned()))
    } else if value.is_int() || value.is_float() || value.is_bool() {
        Ok(Some(value.to_string()))
    } else {
        Err(runtime(format!(
            "the {what} of `ctx.count` or `ctx.collect` must be text or a number, not {}",
            value.type_name()
        )))
    }
}
