//! Library tables (objects, people) whose rows are plain, read straight into their
//! validated documents.
//!
//! The general reader makes each row a list of owned cells, builds the document from
//! the rows, and the document is validated after: about 7,900 instructions a row of a
//! 100,000-object library, most of the time of reading one. A library table whose rows
//! are all plain (no quotes, no carriage return inside a record), complete and valid as
//! written is built here in one pass over its text instead, each cell checked against
//! the schema as it is placed. The documents are node for node those of the general
//! reader after validation (the tests compare the two on tables of every shape); any
//! table with a row that is not so plain is left to the general reader, which reports
//! what is wrong with it.

use std::collections::HashMap;
use std::sync::Arc;

use rhai::ImmutableString;

use super::{column, Columns, CsvTable, Place, Shape, TableKind};
use crate::parse::tree::{Key, Node, NodeId, Span, Tree, Value};
use crate::schema::{self, Field, Ty};

/// A record field a column fills, as validation types it.
#[derive(Debug, Clone)]
struct RecordField {
    key: &'static str,
    /// Where its column is in the row.
    column: usize,
    ty: Validated,
    required: bool,
}

/// The value a record cell becomes once validated.
#[derive(Debug, Clone)]
enum Validated {
    Text,
    /// One of a few values, each made once and shared by the records that hold it.
    OneOf(&'static [&'static str], Vec<ImmutableString>),
    Bool,
    List,
}

/// The layout of a library table the general reader would read without a problem in
/// its header: `None` for any other.
struct Plan {
    kind: TableKind,
    width: usize,
    /// Whether each column has a header (the cells of one without must be empty).
    named: Vec<bool>,
    /// The record fields in the order of the kind's columns (that of the documents).
    fields: Vec<RecordField>,
    /// The header's cells and the span of its used cells.
    header_cells: Vec<Span>,
    header_span: Span,
    /// A required record field has no column: a table that gives a record fails
    /// validation.
    lacks_required: bool,
    /// Where the department column is.
    department: usize,
    /// Where each shared column is, in the kind's order.
    shared: Vec<(&'static str, Shape, usize)>,
}

/// The fields of a library's records.
fn record_schema(kind: TableKind) -> Option<&'static [Field]> {
    match kind {
        TableKind::ObjectLibrary => Some(schema::OBJECT),
        TableKind::PersonnelLibrary => Some(schema::PERSON),
        TableKind::Results => None,
    }
}

impl Plan {
    fn of(table: &CsvTable) -> Option<Plan> {
        let header = table.header_row.as_ref()?;
        if header.is_blank() {
            return None;
        }
        let columns = Columns::of(header);
        if !columns.unknown.is_empty() {
            return None;
        }
        let has = |id: &str| columns.found.iter().flatten().any(|c| c.id == id);
        let kind = match TableKind::detect(has) {
            Some(k @ (TableKind::ObjectLibrary | TableKind::PersonnelLibrary)) if !has("kind") => k,
            _ => return None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for c in columns.found.iter().flatten() {
            let known = match c.place {
                Place::Doc => c.id == "department" || kind.shared_columns().contains(&c.id),
                Place::Record => c.sub.is_none(),
                Place::Kind => false,
            };
            if !known || seen.contains(&c.id) || !kind.columns().contains(&c.id) {
                return None;
            }
            seen.push(c.id);
        }
        let position = |id: &str| {
            columns
                .found
                .iter()
                .position(|f| f.is_some_and(|f| f.id == id))
        };
        let record_fields = record_schema(kind)?;
        // Record fields in the kind's order, which is the order of a record's entries.
        let mut fields = Vec::new();
        for id in kind.columns() {
            let (Some(column_at), Some(c)) = (position(id), column(id)) else {
                continue;
            };
            if !matches!(c.place, Place::Record) {
                continue;
            }
            let field = record_fields.iter().find(|f| f.name == c.key)?;
            let ty = match (c.shape, &field.ty) {
                (Shape::Text, Ty::Str) => Validated::Text,
                (Shape::Text, Ty::Enum(allowed)) => Validated::OneOf(
                    allowed,
                    allowed.iter().map(|v| ImmutableString::from(*v)).collect(),
                ),
                (Shape::Text, Ty::Bool) => Validated::Bool,
                (Shape::List, Ty::List(Ty::Str)) => Validated::List,
                _ => return None,
            };
            fields.push(RecordField {
                key: c.key,
                column: column_at,
                ty,
                required: field.required,
            });
        }
        // Every record would lack a required field that has no column.
        let lacks_required = record_fields
            .iter()
            .any(|f| f.required && !fields.iter().any(|r| r.key == f.name));
        let shared = kind
            .shared_columns()
            .iter()
            .filter_map(|id| Some((*id, column(id)?.shape, position(id)?)))
            .collect();
        Some(Plan {
            kind,
            width: columns.width,
            named: columns.found.iter().map(Option::is_some).collect(),
            fields,
            header_cells: header.cells.iter().map(|c| c.span).collect(),
            header_span: header.used_span(),
            lacks_required,
            department: position("department")?,
            shared,
        })
    }
}

/// A cell of a row: its trimmed text and where that lies in the file.
#[derive(Clone, Copy)]
struct Cell<'t> {
    text: &'t str,
    start: usize,
}

impl Cell<'_> {
    fn span(&self) -> Span {
        Span::new(self.start, self.start + self.text.len())
    }
}

/// A document being built: its nodes, the text of its shared fields, its records.
struct Doc {
    nodes: Vec<Node>,
    /// Document fields by column id.
    fields: Vec<(&'static str, NodeId)>,
    shared: Vec<(&'static str, String)>,
    records: Vec<NodeId>,
}

/// A node, as the general reader pushes it.
#[inline(always)]
fn push(nodes: &mut Vec<Node>, value: Value, span: Span, key_span: Option<Span>) -> Option<NodeId> {
    super::push(nodes, value, span, key_span, None).ok()
}

/// A list cell: the list and its items, as the general reader places them.
fn push_list(nodes: &mut Vec<Node>, cell: Cell, key_span: Span) -> Option<NodeId> {
    super::list_node(nodes, cell.text, cell.span(), true, key_span).ok()
}

/// Whether validation takes `date` (normalised as the general reader does) for a date.
fn valid_date(date: &str) -> bool {
    schema::is_iso_date(date) || schema::parse_date(date).is_ok()
}

/// `cell.trim()` and where that starts.
fn trimmed(text: &str, start: usize) -> Cell<'_> {
    let cell = super::trim_cell(text);
    Cell {
        text: cell,
        start: start + (cell.as_ptr() as usize - text.as_ptr() as usize),
    }
}

/// Cuts `line` into its cells at `delimiter` ([`super::cut_cells`]); `None` when it
/// holds a quote or a carriage return (left to the general reader).
fn split<'t>(line: &'t str, base: usize, delimiter: u8, cells: &mut Vec<Cell<'t>>) -> Option<()> {
    cells.clear();
    let plain = super::cut_cells::<false>(line.as_bytes(), delimiter, |from, end, quotes| {
        // The delimiter is ASCII: each cell lies between character boundaries.
        match line.get(from..end) {
            Some(cell) if quotes == 0 => {
                cells.push(trimmed(cell, base + from));
                true
            }
            _ => false,
        }
    });
    plain.then_some(())
}

/// The validated documents of a library table whose every row is plain and valid;
/// `None` when one is not (or the table is not such a library), for the general
/// reader to read it and report why.
pub(super) fn read_plain(table: &CsvTable) -> Option<Vec<Tree>> {
    let plan = Plan::of(table)?;
    let text = table.source.text.as_str();
    let mut docs: Vec<Doc> = Vec::new();
    let mut by_department: HashMap<&str, usize, foldhash::fast::RandomState> = HashMap::default();
    let mut last: Option<(&str, usize)> = None;
    let mut cells: Vec<Cell> = Vec::with_capacity(plan.width + 1);
    let mut data_rows = 0usize;
    let rows_hint = table.ends.len();
    let mut record_start = table.header.1;
    for &record_end in &table.ends {
        let (start, end) = (record_start, record_end as usize);
        record_start = end;
        let line = text.get(start..end)?;
        // A record after blank lines starts with them.
        let lead = line
            .bytes()
            .position(|b| !matches!(b, b'\n' | b'\r'))
            .unwrap_or(line.len());
        let line = &line[lead..];
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        split(line, start + lead, table.delimiter, &mut cells)?;
        if cells.iter().all(|c| c.text.is_empty()) {
            continue;
        }
        data_rows += 1;
        if cells.len() < plan.width || cells[plan.width..].iter().any(|c| !c.text.is_empty()) {
            return None;
        }
        let mut first: Option<Cell> = None;
        for (cell, named) in cells.iter().zip(&plan.named) {
            if cell.text.is_empty() {
                continue;
            }
            if !named {
                return None;
            }
            first.get_or_insert(*cell);
        }
        // Its document: mostly that of the row before.
        let department = cells[plan.department];
        if department.text.is_empty() {
            return None;
        }
        let d = match last {
            Some((name, d)) if name == department.text => d,
            _ => match by_department.get(department.text) {
                Some(&d) => d,
                None => {
                    docs.push(new_doc(
                        &plan,
                        department,
                        docs.is_empty().then_some(rows_hint),
                    )?);
                    by_department.insert(department.text, docs.len() - 1);
                    docs.len() - 1
                }
            },
        };
        last = Some((department.text, d));
        let doc = &mut docs[d];
        for &(id, shape, column) in &plan.shared {
            let cell = cells[column];
            if cell.text.is_empty() {
                continue;
            }
            match doc.shared.iter().find(|(k, _)| *k == id) {
                Some((_, before)) if *before == cell.text => {}
                Some((_, before)) => {
                    if super::shared_text(shape, cell.text) != *before {
                        return None;
                    }
                }
                None => {
                    let key_span = plan.header_cells.get(column).copied()?;
                    let text = super::shared_text(shape, cell.text);
                    let node = match shape {
                        Shape::List => push_list(&mut doc.nodes, cell, key_span)?,
                        Shape::Date if valid_date(&text) => push(
                            &mut doc.nodes,
                            Value::Str(text.as_str().into()),
                            cell.span(),
                            Some(key_span),
                        )?,
                        _ => return None,
                    };
                    doc.fields.push((id, node));
                    doc.shared.push((id, text));
                }
            }
        }
        if plan.fields.iter().all(|f| cells[f.column].text.is_empty()) {
            continue;
        }
        // A record without a required field fails validation: the general reader tells.
        if plan.lacks_required {
            return None;
        }
        let first = first?;
        let record = push(&mut doc.nodes, Value::Map(Vec::new()), first.span(), None)?;
        let mut entries: Vec<(Key, NodeId)> = Vec::with_capacity(plan.fields.len());
        for field in &plan.fields {
            let cell = cells[field.column];
            if cell.text.is_empty() {
                if field.required {
                    return None;
                }
                continue;
            }
            let span = cell.span();
            let node = match &field.ty {
                Validated::Text => push(
                    &mut doc.nodes,
                    Value::Str(cell.text.into()),
                    span,
                    Some(span),
                )?,
                Validated::OneOf(allowed, values) => {
                    let at = allowed.iter().position(|v| *v == cell.text)?;
                    push(
                        &mut doc.nodes,
                        Value::Str(values.get(at)?.clone()),
                        span,
                        Some(span),
                    )?
                }
                Validated::Bool => push(
                    &mut doc.nodes,
                    Value::Bool(schema::parse_bool(cell.text)?),
                    span,
                    Some(span),
                )?,
                Validated::List => push_list(&mut doc.nodes, cell, span)?,
            };
            entries.push((Key::Static(field.key), node));
        }
        doc.nodes[record as usize].value = Value::Map(entries);
        doc.records.push(record);
    }
    if data_rows == 0 {
        return None;
    }
    docs.into_iter()
        .map(|doc| finish(&plan, doc, &table.source))
        .collect()
}

/// A document's first nodes: itself, its kind and its department.
fn new_doc(plan: &Plan, department: Cell, rows_hint: Option<usize>) -> Option<Doc> {
    let mut nodes = Vec::new();
    if let Some(rows) = rows_hint {
        // A record and its cells; a list cell is a list and its items.
        let _ = nodes.try_reserve(rows.saturating_mul(2 * plan.fields.len() + 1));
    }
    let header_span = plan.header_span;
    push(&mut nodes, Value::Map(Vec::new()), header_span, None)?;
    let kind = push(
        &mut nodes,
        Value::Str(plan.kind.name().into()),
        header_span,
        Some(header_span),
    )?;
    let department_node = push(
        &mut nodes,
        Value::Str(department.text.into()),
        department.span(),
        Some(plan.header_cells.get(plan.department).copied()?),
    )?;
    let mut records = Vec::new();
    if let Some(rows) = rows_hint {
        let _ = records.try_reserve(rows);
    }
    Some(Doc {
        nodes,
        fields: vec![("kind", kind), ("department", department_node)],
        shared: Vec::new(),
        records,
    })
}

/// The document's record list and its root, in the kind's order of fields.
fn finish(
    plan: &Plan,
    mut doc: Doc,
    source: &Arc<crate::parse::source::SourceFile>,
) -> Option<Tree> {
    let first = doc.records.first().map(|r| doc.nodes[*r as usize].span);
    let records = std::mem::take(&mut doc.records);
    let seq = push(
        &mut doc.nodes,
        Value::Seq(records),
        first.unwrap_or(plan.header_span),
        Some(plan.header_span),
    )?;
    let mut entries: Vec<(Key, NodeId)> = Vec::new();
    for id in plan.kind.columns() {
        if let Some((_, node)) = doc.fields.iter().find(|(k, _)| k == id) {
            entries.push((Key::Static(id), *node));
        }
    }
    entries.push((Key::Static(plan.kind.records_key()), seq));
    doc.nodes[0].value = Value::Map(entries);
    Some(Tree {
        nodes: doc.nodes,
        root: 0,
        source: Arc::clone(source),
        invalid: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{build_table, CsvRows, ReadOut};
    use super::*;

    /// The documents of the general reader, validated, and the problems either found.
    fn general(text: &str) -> (Vec<Tree>, usize) {
        let table = CsvTable::open("t.csv", text.as_bytes().to_vec()).expect("decodes");
        let rows = CsvRows::new(&table.source.text, table.delimiter);
        match build_table(&table.source, rows, true, None, 0, &mut ReadOut::default()) {
            Ok(mut trees) => {
                let mut problems = 0;
                for tree in &mut trees {
                    let kind = schema::header_str(tree, "kind").expect("a kind");
                    let schema = schema::kind_schema(&kind).expect("a schema");
                    problems += schema::validate(tree, schema).len();
                }
                (trees, problems)
            }
            Err(errors) => (Vec::new(), errors.len()),
        }
    }

    fn plain(text: &str) -> Option<Vec<Tree>> {
        read_plain(&CsvTable::open("t.csv", text.as_bytes().to_vec()).ok()?)
    }

    /// Every node of the documents, with its value, places and kept text.
    fn dump(trees: &[Tree]) -> String {
        format!(
            "{:#?}",
            trees
                .iter()
                .map(|t| (&t.nodes, t.root, &t.invalid))
                .collect::<Vec<_>>()
        )
    }

    /// Read in one pass, node for node the documents of the general reader.
    fn same_as_general(text: &str) {
        let fast = plain(text).unwrap_or_else(|| panic!("not read in one pass:\n{text}"));
        let (trees, problems) = general(text);
        assert_eq!(problems, 0, "{text}");
        assert_eq!(dump(&fast), dump(&trees), "{text}");
    }

    /// Left to the general reader, which finds a problem in it.
    fn left_to_general(text: &str) {
        assert!(plain(text).is_none(), "read in one pass:\n{text}");
        assert!(general(text).1 > 0, "{text}");
    }

    const OBJECTS: &str =
        "department,updated_on,uscc,name,entity_type,licence_category,industry,risk_level\n";

    #[test]
    fn plain_library_tables_give_the_documents_of_the_general_reader() {
        same_as_general(&format!(
            "{OBJECTS}A局,2024-02-20,91420102MA0000000U,企业0,enterprise,许可0,行业0,A\n\
             A局,2024/2/20,91420102MA0000001Y,企业1,individual,,行业1,B\n"
        ));
        // Chinese headers in another order, a list column, an unnamed empty column,
        // spaces (full-width too) around values, CRLF, blank lines, no final line break.
        same_as_general(
            "\u{FEFF}风险等级,名称,部门,标签,,统一社会信用代码,主体类型\r\n\
             A, 甲 ,A局,食品、药品；特种设备,,91420102MA0000000U,enterprise\r\n\
             \r\n\
             B,\u{3000}乙,A局,,, ,other\r\n\
             C,丙,B局, x ; ;y ,,U3,cooperative",
        );
        // People: a roster, expertise, booleans in both languages, dates written as
        // people write them, a department that comes back.
        same_as_general(
            "部门,更新日期,在编执法人员,人员编号,姓名,执法证号,执法资质,业务专长,在岗\n\
             A局,2024-01-05,P1;P2,P1,张三,C1,Q,食品、药品,是\n\
             A局,2024/1/5,P1;P2,P2,李四,C2,,,否\n\
             B局,2024年1月6日,P9,P9,王五,,,,true\n\
             A局,,,P3,赵六,,,,\n",
        );
        // A people table without an id column but with no record either, after a blank line.
        same_as_general("department,qualification\n\nA局,\n");
        // Rows giving a department's fields but no record, and a record with its id only.
        same_as_general("department,updated_on,uscc,id\nA局,2024-01-01,,\nA局,,U1,\nB局,,,O2\n");
        // Records ended by a carriage return alone.
        same_as_general("department,uscc\rA局,U1\rA局,U2\r");
        // Another delimiter.
        same_as_general("department\tuscc\tname\nA局\tU1\t甲\nA局\tU2\t乙\n");
    }

    #[test]
    fn a_library_row_that_is_not_plain_and_valid_is_left_to_the_general_reader() {
        let row = |cells: &str| format!("{OBJECTS}{cells}\n");
        for bad in [
            "A局,2024-02-20,U1,甲,enterprise,,,E",
            "A局,2024-02-20,U1,甲,company,,,A",
            "A局,2024-13-01,U1,甲,enterprise,,,A",
            "A局,2024-02-20,U1,甲,enterprise,,,A,extra",
            "A局,2024-02-20,U1,甲",
            ",2024-02-20,U1,甲,enterprise,,,A",
        ] {
            left_to_general(&row(bad));
        }
        // A later row of the department that disagrees on a shared field.
        left_to_general(&format!(
            "{OBJECTS}A局,2024-02-20,U1,甲,,,,A\nA局,2024-02-21,U2,乙,,,,B\n"
        ));
        // A person without an id, an `active` that is no yes or no.
        left_to_general("部门,人员编号,姓名,在岗\nA局,,张三,是\n");
        left_to_general("部门,人员编号,姓名,在岗\nA局,P1,张三,也许\n");
        // A header with an unknown column, a column of another kind, a column twice.
        left_to_general("department,uscc,colour\nA局,U1,red\n");
        left_to_general("department,uscc,task\nA局,U1,T1\n");
        left_to_general("department,uscc,uscc\nA局,U1,U2\n");
        // No data rows.
        left_to_general("department,uscc\n,\n");
        // A quoted cell and a `kind` column are read by the general reader without a
        // problem.
        assert!(plain(&row("A局,2024-02-20,U1,\"企业, 甲\",enterprise,,,A")).is_none());
        assert!(plain("kind,department,uscc\nObjectLibrary,A局,U1\n").is_none());
        // Results are no library.
        assert!(plain("department,year,task,object\nA局,2024,T1,O1\n").is_none());
    }

    #[test]
    fn a_cell_is_trimmed_as_text_is() {
        let spaces = [
            "", " ", "\t", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}",
            "\u{200A}", "\u{2028}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{FEFF}", "\u{1C}",
        ];
        for lead in spaces {
            for tail in spaces {
                for core in ["", "a", "中", "\u{A1}", "\u{E000}", "a b"] {
                    let text = format!("{lead}{core}{tail}");
                    let cell = trimmed(&text, 10);
                    assert_eq!(cell.text, text.trim(), "{text:?}");
                    assert_eq!(
                        &text[cell.start - 10..cell.start - 10 + cell.text.len()],
                        cell.text
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Tables of any columns, order, line ends and values, valid or not: whatever is
        /// read in one pass is what the general reader gives, without a problem; and a
        /// table of plain valid values is read in one pass.
        #[test]
        fn any_library_table_read_in_one_pass_is_read_as_the_general_reader_reads_it(
            people in proptest::bool::ANY,
            columns in proptest::sample::subsequence((0..9usize).collect::<Vec<_>>(), 0..9),
            reversed in proptest::bool::ANY,
            crlf in proptest::bool::ANY,
            rows in proptest::collection::vec(proptest::collection::vec(0..6usize, 10), 1..8),
            valid_only in proptest::bool::ANY,
            blank_after in 0..10usize,
            bom in proptest::bool::ANY,
        ) {
            let (names, values): (&[&str], &[&[&str]]) = if people {
                (
                    &["department", "updated_on", "roster", "id", "name", "certificate", "qualification", "expertise", "active"],
                    &[
                        &["A局", "B局", " A局 ", "", "A局", "B局"],
                        &["2024-01-05", "2024/1/5", "", "2024-1-5", "2024年1月5日", "2024-02-30"],
                        &["P1;P2", "P1；P2", "", "P1、 P2", " ; ", "P1;P2"],
                        &["P1", "P2", " P3", "", "P1", "P4"],
                        &["张三", "", " 李四\u{3000}", "a b", "x", "y"],
                        &["C1", "", "C2", "C3", "C4", "\"C5\""],
                        &["Q", "", "执法", "Q2", "Q3", "Q"],
                        &["食品、药品", "", "x;y", " ; ", "药品", "食品"],
                        &["是", "否", "true", "", "N", "也许"],
                    ],
                )
            } else {
                (
                    &["department", "updated_on", "uscc", "id", "name", "entity_type", "licence_category", "risk_level", "tags"],
                    &[
                        &["A局", "B局", " A局 ", "", "A局", "B局"],
                        &["2024-02-20", "2024/2/20", "", "2024-2-20", "2024年2月20日", "2024-13-01"],
                        &["91420102MA0000000U", "", " U2 ", "U3", "U4", "\"U5\""],
                        &["O1", "", "O2", "O3", "O4", "O5"],
                        &["企业", "", " 甲\u{3000}", "a b", "x", "y"],
                        &["enterprise", "individual", "", "cooperative", "other", "company"],
                        &["许可", "", "x", "y", "z", "w"],
                        &["A", "B", "C", "D", "", "E"],
                        &["食品、药品", "", "x;y", " ; ", "a", "b"],
                    ],
                )
            };
            // The department is always a column; the last value of each column is not
            // valid (or not plain) where one can be.
            let mut chosen: Vec<usize> = std::iter::once(0).chain(columns.into_iter().filter(|c| *c != 0)).collect();
            if reversed {
                chosen.reverse();
            }
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = chosen.iter().map(|c| names[*c]).collect::<Vec<_>>().join(",") + end;
            if bom {
                text.insert(0, '\u{FEFF}');
            }
            for (n, row) in rows.iter().enumerate() {
                if n == blank_after {
                    text += end;
                }
                let cells: Vec<&str> = chosen
                    .iter()
                    .map(|c| values[*c][if valid_only { row[*c] % 5 } else { row[*c] }])
                    .collect();
                text += &(cells.join(",") + end);
            }
            let (trees, problems) = general(&text);
            match plain(&text) {
                Some(fast) => {
                    proptest::prop_assert_eq!(problems, 0, "{}", text);
                    proptest::prop_assert_eq!(dump(&fast), dump(&trees), "{}", text);
                }
                None => proptest::prop_assert!(
                    problems > 0 || !valid_only,
                    "valid plain values left to the general reader:\n{}", text
                ),
            }
        }
    }
}
