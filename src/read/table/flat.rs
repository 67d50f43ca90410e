//! Clean Results rows read straight from the text of a streamed CSV table.
//!
//! Building a position-keeping tree per row and validating it is most of the cost of a
//! table of a million rows. A row that is plain (no quotes), complete and valid as
//! written needs neither to be checked: its cells are read in place, the rules read
//! them through [`crate::read::record::Rec`], and a tree is built only for a row a rule
//! reports on, so that positions are those of the tree reader.
//!
//! A chunk with any row that is not so plain (quoted cells, a bad date, an unknown
//! channel, a missing key cell …) is read by the tree reader instead, which gives the
//! same documents and the diagnostics. The two readers give the same reports: the test
//! suite runs every streamed fixture both ways.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::{normalise_header, trim_cell, CsvTable, RawRow, Shape, TableKind};
use crate::diag::Target;
use crate::parse::tree::{Node, NodeId, PathStep, Span, Tree, Value, ValueRef};
use crate::schema::{self, Field, Ty};

/// How a cell is known to be valid as written.
#[derive(Debug, Clone, Copy)]
enum Check {
    Text,
    Date,
    Bool,
    Enum(&'static [&'static str]),
    List,
}

/// A record field a column fills: its key, the key inside it for nested fields
/// (`publication.channel`), and its check.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: &'static str,
    sub: Option<&'static str>,
    check: Check,
    /// [`Tag`]s of `key` and `sub`.
    key_tag: Tag,
    sub_tag: Tag,
    /// Its column's place among the kind's columns, the order the tree reader fills a
    /// record in.
    rank: usize,
}

/// A key's length and first eight bytes: rules look fields up by name for every row,
/// and comparing these first settles most comparisons without comparing text.
type Tag = (usize, u64);

fn tag(key: &str) -> Tag {
    let bytes = key.as_bytes();
    // One load for a long key; a copy of a slice of unknown length would call `memcpy`.
    let first = match bytes.first_chunk::<8>() {
        Some(head) => u64::from_le_bytes(*head),
        None => bytes
            .iter()
            .enumerate()
            .fold(0, |v, (i, &b)| v | u64::from(b) << (8 * i)),
    };
    (bytes.len(), first)
}

/// Whether `key` is `slot_key`, given that their tags are equal: only the bytes past the
/// eighth are left to compare (inline; most keys are short).
fn same_key(slot_key: &str, key: &str) -> bool {
    let (a, b) = (slot_key.as_bytes(), key.as_bytes());
    a.len() == b.len() && a.iter().zip(b).skip(8).all(|(x, y)| x == y)
}

/// A cell of a record: its trimmed text as it lies in the file, or, for a quoted field
/// whose value is not a slice of the file, the whole field and its value.
struct Cell<'t> {
    text: &'t str,
    value: Option<String>,
}

/// Splits a record (its line break taken off) into cells as the csv reader reads it:
/// RFC 4180 quoting, a quote opening a quoted field only as the field's first byte.
/// `None` for what only the tree reader reads (a line break outside quotes, a quote
/// left open, a carriage return: a line break in a quoted cell of a mapped CRLF text,
/// which the tree reader reads as LF), or a cell too long to place.
fn split_record<'t>(line: &'t str, delimiter: u8, cells: &mut Vec<Cell<'t>>) -> Option<()> {
    cells.clear();
    let bytes = line.as_bytes();
    // The usual record: each cell a slice, unquoted or quoted whole (`"…"` with no
    // quote inside, taken without its quotes).
    if super::cut_cells::<false>(bytes, delimiter, |from, end, quotes| {
        push_sliced(line, (from, end, quotes), cells)
    }) {
        return Some(());
    }
    cells.clear();
    if super::cut_cells::<true>(bytes, delimiter, |from, end, quotes| {
        push_sliced(line, (from, end, quotes), cells)
    }) {
        return Some(());
    }
    if memchr::memchr(b'\r', bytes).is_some() {
        return None;
    }
    split_fields(line, delimiter, cells)
}

/// [`split_record`] field by field, for a record with a quote that its cells are not
/// slices of (a doubled quote, text after the closing quote).
fn split_fields<'t>(line: &'t str, delimiter: u8, cells: &mut Vec<Cell<'t>>) -> Option<()> {
    cells.clear();
    let bytes = line.as_bytes();
    let mut pos = 0;
    loop {
        let end_from = |from: usize| {
            memchr::memchr(delimiter, &bytes[from..]).map_or(bytes.len(), |i| from + i)
        };
        let end;
        if bytes.get(pos) == Some(&b'"') {
            // A quoted field: it ends at a quote not doubled.
            let mut close = pos + 1;
            let mut doubled = false;
            loop {
                let q = close + memchr::memchr(b'"', &bytes[close..])?;
                if bytes.get(q + 1) == Some(&b'"') {
                    doubled = true;
                    close = q + 2;
                } else {
                    close = q;
                    break;
                }
            }
            end = end_from(close + 1);
            if !doubled && end == close + 1 {
                cells.push(Cell {
                    text: trim_cell(line.get(pos + 1..close)?),
                    value: None,
                });
            } else {
                // Unescaped, with what follows the closing quote, then trimmed, as the
                // tree reader takes it; placed at the whole field.
                let mut value = line.get(pos + 1..close)?.replace("\"\"", "\"");
                value.push_str(line.get(close + 1..end)?);
                let trimmed = value.trim();
                cells.push(if trimmed.is_empty() {
                    Cell {
                        text: "",
                        value: None,
                    }
                } else {
                    Cell {
                        text: line.get(pos..end)?,
                        value: Some(trimmed.to_owned()),
                    }
                });
            }
        } else {
            end = end_from(pos);
            let field = line.get(pos..end)?;
            if memchr::memchr(b'\n', field.as_bytes()).is_some() {
                return None;
            }
            cells.push(Cell {
                text: trim_cell(field),
                value: None,
            });
        }
        if end >= bytes.len() {
            return Some(());
        }
        pos = end + 1;
    }
}

/// The cell of `line` at `from..end` holding `quotes` quotes, as [`split_record`] takes
/// it, if it is a slice: unquoted, or quoted whole. Inlined: it runs for every cell.
#[inline(always)]
fn push_sliced<'t>(
    line: &'t str,
    (from, end, quotes): (usize, usize, u32),
    cells: &mut Vec<Cell<'t>>,
) -> bool {
    let bytes = line.as_bytes();
    let (from, end) = match quotes {
        0 => (from, end),
        2 if end > from + 1 && bytes[from] == b'"' && bytes[end - 1] == b'"' => (from + 1, end - 1),
        _ => return false,
    };
    // The delimiter is ASCII: each cell lies between character boundaries.
    match line.get(from..end) {
        Some(text) => {
            cells.push(Cell {
                text: trim_cell(text),
                value: None,
            });
            true
        }
        None => false,
    }
}

/// Where `part`, a slice of `text`, is in it.
fn span_in(text: &str, part: &str) -> Span {
    let start = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    Span::new(start, start + part.len())
}

/// A place in a row, as [`FlatChunk::place`] walks a path.
#[derive(Clone, Copy)]
enum Spot {
    Record,
    Map(&'static str),
    Cell(usize),
    Item(usize),
}

/// What a column of the table is.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// No header: its cells must be empty.
    Unnamed,
    Department,
    Year,
    Task,
    Field(usize),
}

/// The columns of a Results table whose rows can be read in place.
#[derive(Debug)]
pub struct Layout {
    /// Unique among the layouts of a run: field paths keep where a field is in the
    /// last layout they read ([`FlatChunk::resolve`]).
    pub id: u32,
    width: usize,
    roles: Vec<Role>,
    slots: Vec<Slot>,
    /// The slots of `publication.channel` and `publication.published_on`: whether a
    /// result is published is asked of every row, by more than one rule.
    published: Option<[usize; 2]>,
    /// The slots of the record fields a finding names for waivers
    /// ([`crate::diag::TARGET_KEYS`]), looked up for each finding placed.
    targets: [Option<usize>; crate::diag::TARGET_KEYS.len()],
    /// Slots (bits) whose value is never the cell's text: booleans and lists.
    not_text: u16,
}

/// At most this many record fields (a Results table has 13).
const MAX_SLOTS: usize = 16;

/// The record field `key` (`sub` inside it) of the Results schema.
fn schema_field(key: &str, sub: Option<&str>) -> Option<&'static Field> {
    let results = schema::kind_schema("Results")?;
    let records = results.fields.iter().find(|f| f.name == results.records)?;
    let Ty::List(Ty::Obj(fields)) = &records.ty else {
        return None;
    };
    let field = fields.iter().find(|f| f.name == key)?;
    match (sub, &field.ty) {
        (None, _) => Some(field),
        (Some(sub), Ty::Obj(inner)) => inner.iter().find(|f| f.name == sub),
        _ => None,
    }
}

impl Layout {
    /// The layout of a table whose header row is `header`, when it is a Results table
    /// of known columns only (no `kind` column); otherwise rows are read as trees.
    pub(super) fn of(row: &RawRow) -> Option<Layout> {
        let width = row.cells.iter().rposition(|c| !c.is_empty())? + 1;
        let lookup = super::header_lookup();
        let mut roles = Vec::with_capacity(width);
        let mut slots = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for cell in &row.cells[..width] {
            if cell.is_empty() {
                roles.push(Role::Unnamed);
                continue;
            }
            let c = lookup.get(&normalise_header(&cell.text))?;
            if seen.contains(&c.id) || !TableKind::Results.columns().contains(&c.id) {
                return None;
            }
            seen.push(c.id);
            roles.push(match c.id {
                "department" => Role::Department,
                "year" => Role::Year,
                "task" => Role::Task,
                _ => {
                    let field = schema_field(c.key, c.sub)?;
                    if field.required {
                        return None;
                    }
                    let check = match (&field.ty, c.shape) {
                        (Ty::Str, Shape::Text) => Check::Text,
                        (Ty::Date, Shape::Date) => Check::Date,
                        (Ty::Bool, Shape::Text) => Check::Bool,
                        (Ty::Enum(allowed), Shape::Text) => Check::Enum(allowed),
                        (Ty::List(Ty::Str), Shape::List) => Check::List,
                        _ => return None,
                    };
                    slots.push(Slot {
                        key: c.key,
                        sub: c.sub,
                        check,
                        key_tag: tag(c.key),
                        sub_tag: c.sub.map_or((0, 0), tag),
                        rank: TableKind::Results
                            .columns()
                            .iter()
                            .position(|id| *id == c.id)?,
                    });
                    Role::Field(slots.len() - 1)
                }
            });
        }
        let has = |id: &str| seen.contains(&id);
        let keyed = TableKind::Results.key_columns().iter().all(|id| has(id));
        let results = TableKind::detect(has) == Some(TableKind::Results);
        // A row keeps the items of one list.
        let lists = slots
            .iter()
            .filter(|s| matches!(s.check, Check::List))
            .count();
        let slot_of = |sub: &str| {
            slots
                .iter()
                .position(|s| s.key == "publication" && s.sub == Some(sub))
        };
        let published = slot_of("channel").zip(slot_of("published_on"));
        let targets = crate::diag::TARGET_KEYS
            .map(|key| slots.iter().position(|s| s.sub.is_none() && s.key == key));
        let not_text = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.check, Check::Bool | Check::List))
            .fold(0u16, |bits, (i, _)| bits | 1 << i);
        static NEXT_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        (keyed && results && slots.len() <= MAX_SLOTS && lists <= 1).then_some(Layout {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            width,
            roles,
            slots,
            published: published.map(|(channel, date)| [channel, date]),
            targets,
            not_text,
        })
    }
}

/// A record of a chunk: its cells by slot (empty when absent).
#[derive(Debug)]
pub struct FlatRow<'t> {
    /// The record in the text, as [`CsvTable::chunk`] takes it.
    range: (usize, usize),
    cells: [&'t str; MAX_SLOTS],
    /// Booleans of [`Check::Bool`] slots, by slot.
    flags: [Option<bool>; MAX_SLOTS],
    /// Slots (bits) whose date was written otherwise than `YYYY-MM-DD`: their value is
    /// the rewritten date in [`FlatChunk::dates`].
    rewritten: u16,
    /// Slots (bits) whose cell is a quoted field whose value is in
    /// [`FlatChunk::unescaped`]; the cell is then the whole field, where the tree reader
    /// places it.
    unescaped: u16,
    /// Its list items: `items[start..end]` of the chunk (one list column at most).
    items: (u32, u32),
    /// Its first non-empty cell, where the tree reader places the record.
    first: Span,
    /// Its document, in [`FlatChunk::groups`].
    group: u32,
    /// Its tree, built when a rule reports on it.
    tree: OnceLock<Option<Arc<Tree>>>,
}

/// A document of a chunk: (department, year, task) as written, the record the
/// document is first read from, and its records.
#[derive(Debug)]
pub struct FlatGroup<'t> {
    pub department: &'t str,
    pub year: i64,
    pub task: &'t str,
    pub first: (usize, usize),
    pub rows: Vec<u32>,
}

/// The rows of a chunk, read in place, by document in order of first appearance.
#[derive(Debug)]
pub struct FlatChunk<'t> {
    table: &'t CsvTable,
    layout: &'t Layout,
    rows: Vec<FlatRow<'t>>,
    items: Vec<&'t str>,
    /// Dates rewritten `YYYY-MM-DD`, by row and slot.
    dates: HashMap<(u32, usize), String>,
    /// Values of quoted text cells that are not their text as written (`""` inside, or
    /// text after the closing quote), by row and slot.
    unescaped: HashMap<(u32, usize), String>,
    pub groups: Vec<FlatGroup<'t>>,
    /// The 1-based line each row starts on, known once, when a finding is first placed
    /// in the chunk (its text is then at hand, not let go).
    row_lines: OnceLock<RowLines>,
}

/// The line each row of a chunk starts on.
#[derive(Debug)]
enum RowLines {
    /// Row `i` starts on line `first + i`: each row is one line.
    OnePerRow(usize),
    /// By row, counted over the chunk's line breaks.
    Counted(Vec<usize>),
}

/// Where in a row a [`crate::read::record::Rec`] reads: the record, or a mapping inside it.
pub type Part = Option<&'static str>;

/// Where a field is in the rows of the last table layout it was read in: kept by
/// whoever reads the same field of many rows (a field path of a check, a script's
/// property), so that it is found once per table and then read directly.
#[derive(Debug, Default)]
pub struct FieldCache(std::sync::atomic::AtomicU64);

impl FieldCache {
    /// Where `map.key` (or `key`) is in the rows of `chunk`.
    #[inline]
    pub fn resolve(&self, chunk: &FlatChunk, map: Option<&str>, key: &str) -> RowField {
        use std::sync::atomic::Ordering;
        let id = u64::from(chunk.layout_id());
        // (layout id, kind of field, slot), packed.
        let cached = self.0.load(Ordering::Relaxed);
        if cached >> 32 == id {
            return match (cached >> 16) & 0xffff {
                1 => RowField::Cell(cached as u16),
                2 => RowField::Map(cached as u16),
                _ => RowField::Absent,
            };
        }
        self.resolve_anew(chunk, map, key)
    }

    /// Once per field and table: kept out of line, so that the look-up made for every
    /// row stays small.
    #[cold]
    #[inline(never)]
    fn resolve_anew(&self, chunk: &FlatChunk, map: Option<&str>, key: &str) -> RowField {
        use std::sync::atomic::Ordering;
        let id = u64::from(chunk.layout_id());
        let field = chunk.resolve(map, key);
        let packed = match field {
            RowField::Cell(slot) => 1 << 16 | u64::from(slot),
            RowField::Map(slot) => 2 << 16 | u64::from(slot),
            RowField::Absent => 0,
        };
        self.0.store(id << 32 | packed, Ordering::Relaxed);
        field
    }
}

/// Where a field is in the rows of a layout ([`FlatChunk::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowField {
    Cell(u16),
    /// A mapping of nested fields (`publication`), there when one of its cells is: the
    /// slot of one of them.
    Map(u16),
    Absent,
}

/// The lists of a chunk read before, emptied, for the next chunk of the table to fill:
/// a chunk's rows take megabytes, and memory taken afresh for each chunk is paid for
/// page by page.
#[derive(Default)]
pub struct Spare<'t> {
    rows: Vec<FlatRow<'t>>,
    items: Vec<&'t str>,
}

impl<'t> FlatChunk<'t> {
    /// Reads the records in `range` in place; `None` when one is not plain and valid
    /// as written, so the chunk must be read as trees.
    pub fn read(table: &'t CsvTable, range: (usize, usize)) -> Option<FlatChunk<'t>> {
        FlatChunk::read_into(table, range, Spare::default())
    }

    /// The chunk's lists, emptied, for the next chunk to be read into.
    pub fn into_spare(self) -> Spare<'t> {
        let (mut rows, mut items) = (self.rows, self.items);
        rows.clear();
        items.clear();
        Spare { rows, items }
    }

    /// [`FlatChunk::read`] into the lists of a chunk read before.
    pub fn read_into(
        table: &'t CsvTable,
        range: (usize, usize),
        spare: Spare<'t>,
    ) -> Option<FlatChunk<'t>> {
        let layout = table.flat.as_ref()?;
        let text = table.source.text.as_str();
        let delimiter = table.delimiter;
        let mut chunk = FlatChunk {
            table,
            layout,
            rows: spare.rows,
            items: spare.items,
            dates: HashMap::new(),
            unescaped: HashMap::new(),
            groups: Vec::new(),
            row_lines: OnceLock::new(),
        };
        chunk.rows.reserve(super::CHUNK_ROWS);
        let mut index: HashMap<(&str, i64, &str), u32> = HashMap::new();
        let mut last: Option<((&str, i64, &str), u32)> = None;
        let mut cells: Vec<Cell> = Vec::with_capacity(layout.width + 1);
        for range in table.record_ranges(range) {
            // A record after blank lines starts with them.
            let line = text.get(range.0..range.1)?.trim_start_matches(['\n', '\r']);
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            split_record(line, delimiter, &mut cells)?;
            if cells.iter().all(|c| c.text.is_empty()) {
                continue;
            }
            if cells.len() < layout.width
                || cells[layout.width..].iter().any(|c| !c.text.is_empty())
            {
                return None;
            }
            let mut key = ("", None, "");
            // Made in place: a row is a few hundred bytes, and moving each into the list
            // was a copy of every record.
            let at = u32::try_from(chunk.rows.len()).ok()?;
            chunk.rows.push(FlatRow {
                range,
                cells: [""; MAX_SLOTS],
                flags: [None; MAX_SLOTS],
                rewritten: 0,
                unescaped: 0,
                items: (0, 0),
                first: Span::default(),
                group: 0,
                tree: OnceLock::new(),
            });
            let row = chunk.rows.last_mut()?;
            let first = cells
                .iter()
                .find(|c| !c.text.is_empty())
                .map_or("", |c| c.text);
            row.first = span_in(text, first);
            for (cell, role) in cells.iter_mut().zip(&layout.roles) {
                // Only a text field takes a value other than its text (`""` unescaped).
                let plain = cell.value.is_none();
                let escaped = cell.value.take();
                let cell = cell.text;
                match role {
                    Role::Unnamed if !cell.is_empty() => return None,
                    Role::Unnamed => {}
                    _ if !plain && !matches!(role, Role::Field(_)) => return None,
                    Role::Department => key.0 = cell,
                    Role::Year => key.1 = Some(cell.parse::<i64>().ok()?),
                    Role::Task => key.2 = cell,
                    Role::Field(slot) if !cell.is_empty() => {
                        row.cells[*slot] = cell;
                        match layout.slots[*slot].check {
                            Check::Text => {
                                if let Some(value) = escaped {
                                    chunk.unescaped.insert((at, *slot), value);
                                    row.unescaped |= 1 << slot;
                                }
                            }
                            _ if !plain => return None,
                            Check::Date => {
                                if !schema::is_iso_date(cell) {
                                    let date = super::normalise_date(cell)?;
                                    schema::parse_date(&date).ok()?;
                                    chunk.dates.insert((at, *slot), date);
                                    row.rewritten |= 1 << slot;
                                }
                            }
                            Check::Bool => row.flags[*slot] = Some(schema::parse_bool(cell)?),
                            Check::Enum(allowed) => {
                                if !allowed.contains(&cell) {
                                    return None;
                                }
                            }
                            Check::List => {
                                let start = u32::try_from(chunk.items.len()).ok()?;
                                chunk
                                    .items
                                    .extend(super::list_items(cell).map(|(_, item)| item));
                                let end = u32::try_from(chunk.items.len()).ok()?;
                                row.items = (start, end);
                            }
                        }
                    }
                    Role::Field(_) => {}
                }
            }
            let (department, Some(year), task) = key else {
                return None;
            };
            if department.is_empty() || task.is_empty() {
                return None;
            }
            let key = (department, year, task);
            let group = match last {
                Some((k, g)) if k == key => g,
                _ => match index.get(&key) {
                    Some(&g) => g,
                    None => {
                        let g = u32::try_from(chunk.groups.len()).ok()?;
                        chunk.groups.push(FlatGroup {
                            department,
                            year,
                            task,
                            first: range,
                            rows: Vec::new(),
                        });
                        index.insert(key, g);
                        g
                    }
                },
            };
            last = Some((key, group));
            row.group = group;
            if row.cells.iter().any(|c| !c.is_empty()) {
                chunk.groups[group as usize].rows.push(at);
            } else {
                chunk.rows.pop();
            }
        }
        Some(chunk)
    }

    fn slot(&self, part: Part, key: &str) -> Option<usize> {
        let wanted = tag(key);
        let map_tag = part.map(tag);
        self.layout.slots.iter().position(|s| match (part, s.sub) {
            (None, None) => s.key_tag == wanted && same_key(s.key, key),
            (Some(map), Some(sub)) => {
                s.sub_tag == wanted
                    && same_key(sub, key)
                    && Some(s.key_tag) == map_tag
                    && same_key(s.key, map)
            }
            _ => false,
        })
    }

    /// Whether `key` is a mapping of nested fields (`publication`) that `row` has.
    fn has_map(&self, row: &FlatRow, key: &str) -> bool {
        let wanted = tag(key);
        self.layout.slots.iter().zip(&row.cells).any(|(s, cell)| {
            s.sub.is_some() && s.key_tag == wanted && same_key(s.key, key) && !cell.is_empty()
        })
    }

    /// Where the field `key` (in the mapping `part`) is in this chunk's rows: found
    /// once per table and path, then read directly ([`FlatChunk::field`]).
    pub fn resolve(&self, map: Option<&str>, key: &str) -> RowField {
        let slots = &self.layout.slots;
        let found = match map {
            None => slots.iter().position(|s| s.sub.is_none() && s.key == key),
            Some(map) => slots
                .iter()
                .position(|s| s.key == map && s.sub == Some(key)),
        };
        match found {
            Some(slot) => RowField::Cell(slot as u16),
            None if map.is_none() => {
                match slots.iter().position(|s| s.sub.is_some() && s.key == key) {
                    Some(slot) => RowField::Map(slot as u16),
                    None => RowField::Absent,
                }
            }
            None => RowField::Absent,
        }
    }

    /// The layout's id ([`Layout::id`]).
    pub fn layout_id(&self) -> u32 {
        self.layout.id
    }

    /// The value of `row`'s cell in `slot`, as its check read it; `None` when empty.
    /// Inlined: every field a rule reads of a row comes through here.
    #[inline(always)]
    fn cell(&self, row: u32, slot: usize) -> Option<ValueRef<'_>> {
        let r = &self.rows[row as usize];
        let cell = r.cells[slot];
        if cell.is_empty() {
            return None;
        }
        // Most cells are their value as written.
        if (self.layout.not_text | r.rewritten | r.unescaped) & (1 << slot) == 0 {
            return Some(ValueRef::Str(cell));
        }
        Some(match self.layout.slots[slot].check {
            Check::Bool => ValueRef::Bool(r.flags[slot]?),
            Check::List => ValueRef::Seq,
            Check::Date if r.rewritten & (1 << slot) != 0 => {
                ValueRef::Str(self.dates.get(&(row, slot))?)
            }
            Check::Text if r.unescaped & (1 << slot) != 0 => {
                ValueRef::Str(self.unescaped.get(&(row, slot))?)
            }
            _ => ValueRef::Str(cell),
        })
    }

    /// The value of a resolved field of `row`; `None` when absent. Inlined into every
    /// check: a call costs as much as the read.
    #[inline(always)]
    pub fn field(&self, row: u32, field: RowField) -> Option<ValueRef<'_>> {
        let r = &self.rows[row as usize];
        match field {
            RowField::Cell(slot) => self.cell(row, slot as usize),
            RowField::Map(slot) => self
                .has_map(r, self.layout.slots[slot as usize].key)
                .then_some(ValueRef::Map),
            RowField::Absent => None,
        }
    }

    /// The items of a resolved list field of `row`.
    pub fn field_items(&self, row: u32, field: RowField) -> &[&'t str] {
        let r = &self.rows[row as usize];
        match self.field(row, field) {
            Some(ValueRef::Seq) => &self.items[r.items.0 as usize..r.items.1 as usize],
            _ => &[],
        }
    }

    /// `row.key` (in the mapping `part`); `None` when absent.
    pub fn value(&self, row: u32, part: Part, key: &str) -> Option<ValueRef<'_>> {
        let r = &self.rows[row as usize];
        match self.slot(part, key) {
            Some(slot) => self.cell(row, slot),
            // A mapping of nested fields is there when one of them is.
            None if part.is_none() => self.has_map(r, key).then_some(ValueRef::Map),
            None => None,
        }
    }

    /// The keys a row (or its mapping `part`) gives, in the kind's order.
    pub fn keys(&self, row: u32, part: Part) -> Vec<&'static str> {
        let r = &self.rows[row as usize];
        let mut keys: Vec<(usize, &'static str)> = Vec::new();
        for (s, cell) in self.layout.slots.iter().zip(&r.cells) {
            if cell.is_empty() {
                continue;
            }
            let key = match (part, s.sub) {
                (None, None) => s.key,
                (None, Some(_)) => s.key,
                (Some(map), Some(sub)) if map == s.key => sub,
                _ => continue,
            };
            if !keys.iter().any(|(_, k)| *k == key) {
                keys.push((s.rank, key));
            }
        }
        keys.sort_by_key(|(rank, _)| *rank);
        keys.into_iter().map(|(_, k)| k).collect()
    }

    /// Whether `row` gives both the channel and the date of its publication, as
    /// [`crate::read::record::is_published`] asks.
    pub fn is_published(&self, row: u32) -> bool {
        let cells = &self.rows[row as usize].cells;
        self.layout
            .published
            .is_some_and(|[channel, date]| !cells[channel].is_empty() && !cells[date].is_empty())
    }

    /// The items of the list `key` of a record.
    pub fn items(&self, row: u32, key: &str) -> &[&'t str] {
        let r = &self.rows[row as usize];
        match self.value(row, None, key) {
            Some(ValueRef::Seq) => &self.items[r.items.0 as usize..r.items.1 as usize],
            _ => &[],
        }
    }

    /// The mapping `key` of a record, when it is there.
    pub fn child(&self, row: u32, part: Part, key: &str) -> Option<&'static str> {
        if part.is_some() || !self.has_map(&self.rows[row as usize], key) {
            return None;
        }
        let wanted = tag(key);
        self.layout
            .slots
            .iter()
            .find(|s| s.sub.is_some() && s.key_tag == wanted && same_key(s.key, key))
            .map(|s| s.key)
    }

    /// Where a finding about `path` from a row (or its mapping `part`) is placed, and
    /// the values it is about (see [`crate::diag::TARGET_KEYS`]): what a tree of the
    /// row gives through `Tree::resolve`, `Tree::report_span` and `Tree::str_at`,
    /// without building the tree. A path stops where the row has nothing more.
    pub fn place(&self, row: u32, part: Part, path: &str) -> (Span, Vec<Target>) {
        let r = &self.rows[row as usize];
        let slots = &self.layout.slots;
        let present = |s: usize| !r.cells[s].is_empty();
        let mut at = part.map_or(Spot::Record, Spot::Map);
        for step in crate::parse::tree::path_steps(path) {
            let next = match (at, step) {
                (Spot::Record, PathStep::Key(key)) => {
                    match slots.iter().position(|s| s.sub.is_none() && s.key == key) {
                        Some(s) => present(s).then_some(Spot::Cell(s)),
                        None => self.child(row, None, key).map(Spot::Map),
                    }
                }
                (Spot::Map(map), PathStep::Key(key)) => slots
                    .iter()
                    .position(|s| s.key == map && s.sub == Some(key))
                    .filter(|&s| present(s))
                    .map(Spot::Cell),
                (Spot::Cell(s), PathStep::Index(i)) => {
                    let listed = matches!(slots[s].check, Check::List);
                    let count = (r.items.1 - r.items.0) as usize;
                    (listed && i < count).then_some(Spot::Item(i))
                }
                _ => None,
            };
            match next {
                Some(spot) => at = spot,
                None => break,
            }
        }
        let span = match at {
            Spot::Record => r.first,
            // A mapping is placed at the first of its fields that the row has.
            Spot::Map(map) => slots
                .iter()
                .zip(&r.cells)
                .filter(|(s, cell)| s.key == map && s.sub.is_some() && !cell.is_empty())
                .min_by_key(|(s, _)| s.rank)
                .map_or(r.first, |(_, cell)| span_in(self.text(), cell)),
            Spot::Cell(s) => span_in(self.text(), r.cells[s]),
            Spot::Item(i) => span_in(self.text(), self.items[r.items.0 as usize + i]),
        };
        let group = &self.groups[r.group as usize];
        let targets = crate::diag::TARGET_KEYS
            .iter()
            .zip(self.layout.targets)
            .filter_map(|(&key, slot)| {
                let value = match part {
                    None => slot.and_then(|slot| self.cell(row, slot)),
                    Some(_) => self.value(row, part, key),
                };
                match value {
                    Some(ValueRef::Str(s)) => Some(s),
                    // Else the document's own text fields, as `Tree::str_at` at its root.
                    _ => match key {
                        "kind" => Some("Results"),
                        "department" => Some(group.department),
                        "task" => Some(group.task),
                        _ => None,
                    },
                }
            })
            .map(Target::from)
            .collect();
        (span, targets)
    }

    fn text(&self) -> &'t str {
        self.table.source.text.as_str()
    }

    /// The 1-based line and character column of `offset`, a place in row `row`, as
    /// [`crate::parse::source::SourceFile::line_col`] gives it: counted from the row's
    /// start, whose line the chunk counts once.
    pub fn line_col(&self, row: u32, offset: usize) -> (usize, usize) {
        let source = &self.table.source;
        let start = self.rows[row as usize].range.0;
        if !(start..=source.text.len()).contains(&offset) {
            return source.line_col(offset);
        }
        let lines = self.row_lines.get_or_init(|| {
            let (Some(first), Some(last)) = (self.rows.first(), self.rows.last()) else {
                return RowLines::Counted(Vec::new());
            };
            let (mut line, start) = (source.line_col(first.range.0).0, first.range.0);
            // Each row but the last ends with a line break, so the last starts at least
            // one line per row after the first; exactly that many when no row holds
            // another (in a quoted cell, or blank lines before it): the file's line
            // index tells so without reading the chunk.
            if source.line_col(last.range.0).0 == line + (self.rows.len() - 1) {
                return RowLines::OnePerRow(line);
            }
            // One pass over the chunk's line breaks: rows start in order.
            let text = self.text().as_bytes();
            let mut breaks = memchr::memchr_iter(b'\n', &text[start..]).peekable();
            RowLines::Counted(
                self.rows
                    .iter()
                    .map(|r| {
                        while breaks.next_if(|b| start + b < r.range.0).is_some() {
                            line += 1;
                        }
                        line
                    })
                    .collect(),
            )
        });
        let line = match lines {
            RowLines::OnePerRow(first) => first + row as usize,
            RowLines::Counted(lines) => lines[row as usize],
        };
        source.line_col_from((start, line), offset)
    }

    /// The file the chunk is read from.
    pub fn source(&self) -> &Arc<crate::parse::source::SourceFile> {
        &self.table.source
    }

    /// The record (or its mapping `part`) in a tree of its own, as the tree reader
    /// makes it: for what needs a node (a mapping passed into a message, a calendar
    /// gap's place). Built once per row, when first asked for.
    pub fn node(&self, row: u32, part: Part) -> (Arc<Tree>, NodeId) {
        let r = &self.rows[row as usize];
        let tree = r
            .tree
            .get_or_init(|| self.table.validated_tree(r.range).map(Arc::new));
        let found = tree.as_ref().and_then(|tree| {
            let records = tree.get(tree.root, "records")?;
            let record = *tree.seq(records).first()?;
            let id = match part {
                None => record,
                Some(map) => tree.get(record, map)?,
            };
            Some((Arc::clone(tree), id))
        });
        // Rows read in place are those the tree reader reads without a problem; should
        // one not be, its finding is still placed at the row.
        found.unwrap_or_else(|| {
            let node = Node {
                value: Value::Map(Vec::new()),
                span: Span::new(r.range.0, r.range.1),
                key_span: None,
                raw: None,
            };
            let tree = Tree {
                nodes: vec![node],
                root: 0,
                source: Arc::clone(&self.table.source),
                invalid: Vec::new(),
            };
            (Arc::new(tree), 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "department,year,task,object,inspectors,finished_on,problem,publication_channel,published_on\n";

    fn table(rows: &str) -> CsvTable {
        let text = format!("{HEADER}{rows}");
        CsvTable::open("t.csv", text.as_bytes().to_vec()).expect("table")
    }

    fn whole(table: &CsvTable) -> (usize, usize) {
        (table.header.1, table.source.text.len())
    }

    /// Records cut 64 bytes at a time give the cells of reading them field by field:
    /// unquoted, quoted whole, and every way a quote can sit (doubled, mid-field, after
    /// a space, unterminated, around a delimiter or a line break), across block ends.
    #[test]
    fn records_cut_in_blocks_are_those_read_field_by_field() {
        let fields = [
            "a",
            "",
            " b ",
            "\"c\"",
            "\"d,e\"",
            "\"\"",
            "\"f\"\"g\"",
            "h\"i",
            "\"j\"k",
            " \"l\"",
            "\"m\nn\"",
            "\"open",
            "\u{3000}甲\u{3000}",
            "2024-05-06",
        ];
        type Split = for<'t> fn(&'t str, u8, &mut Vec<Cell<'t>>) -> Option<()>;
        fn cells_of(line: &str, split: Split) -> Option<Vec<(String, Option<String>)>> {
            let mut cells = Vec::new();
            split(line, b',', &mut cells)?;
            Some(
                cells
                    .iter()
                    .map(|c| (c.text.to_owned(), c.value.clone()))
                    .collect(),
            )
        }
        let mut lines = Vec::new();
        for a in fields {
            for b in fields {
                for c in fields {
                    lines.push(format!("{a},{b},{c}"));
                    // Across the end of the first 64-byte block.
                    lines.push(format!("{},{a},{b},{c}", "x".repeat(60)));
                }
            }
        }
        for line in &lines {
            assert_eq!(
                cells_of(line, split_record),
                cells_of(line, split_fields),
                "{line:?}"
            );
        }
    }

    #[test]
    fn plain_rows_are_read_in_place_by_document() {
        let t = table(
            "D,2024,T1,O1,P1；P2、P3,2024/5/6,是,gsxt,2024-05-09\n\
             \n\
             D,2024,T2,O2,P1,2024-05-06,否,,\n\
             ,,,,,,,,\n\
             D,02024,T1,,,,,,\n\
             D,2024,T1,O3,,,,website,\n",
        );
        let chunk = FlatChunk::read(&t, whole(&t)).expect("read in place");
        let groups: Vec<(&str, i64, &str, usize)> = chunk
            .groups
            .iter()
            .map(|g| (g.department, g.year, g.task, g.rows.len()))
            .collect();
        assert_eq!(groups, [("D", 2024, "T1", 2), ("D", 2024, "T2", 1)]);
        // Row 0: a list, a date rewritten, a boolean, a nested mapping.
        assert_eq!(chunk.items(0, "inspectors"), ["P1", "P2", "P3"]);
        assert_eq!(
            chunk.value(0, None, "finished_on"),
            Some(ValueRef::Str("2024-05-06"))
        );
        assert_eq!(chunk.value(0, None, "problem"), Some(ValueRef::Bool(true)));
        assert_eq!(chunk.value(0, None, "publication"), Some(ValueRef::Map));
        let part = chunk.child(0, None, "publication");
        assert_eq!(part, Some("publication"));
        assert_eq!(chunk.value(0, part, "channel"), Some(ValueRef::Str("gsxt")));
        // Row 1 has no publication; row 2 a channel only.
        assert_eq!(chunk.value(1, None, "publication"), None);
        assert_eq!(chunk.child(1, None, "publication"), None);
        assert_eq!(chunk.value(2, Some("publication"), "published_on"), None);
        assert_eq!(chunk.value(2, None, "object"), Some(ValueRef::Str("O3")));
        // A finding's tree is the tree reader's, placed in the whole file.
        let (tree, id) = chunk.node(2, None);
        let object = tree.get(id, "object").expect("object");
        let span = tree.node(object).span;
        assert_eq!(&t.source.text[span.start as usize..span.end as usize], "O3");
    }

    #[test]
    fn findings_are_placed_where_a_tree_of_the_row_places_them() {
        // The first table has a blank line and a CRLF row; the second its columns in
        // another order than the kind's.
        for text in [
            ",department,year,task,object,inspectors,finished_on,problem,publication_channel,published_on,entered_on\n\
             ,D,2024,T1,O1, P1；P2、P3 ,2024/5/6,是,gsxt,2024-05-09,\n\
             ,D,2024,T2,,P1,2024-05-06,否,,2024-05-10,2024-05-07\n\
             \n\
             ,D,2024,T1,O3,,,,website,,\r\n\
             ,D2,2025,T9,  O4  ,,,,,,\n",
            "published_on,entered_on,problem,inspectors,object,task,year,department,publication_channel\n\
             2024-05-09,,是,P1；P2,O1,T1,2024,D,gsxt\n\
             2024-05-10,2024-05-07,,,,T2,2024,D,\n\
             ,,,P3,O2,T1,2024,D,website\n",
        ] {
            compare_places(text.as_bytes());
        }
    }

    /// Quoted cells (with delimiters, line breaks and doubled quotes inside), CRLF line
    /// ends, a BOM and GBK: all read in place, placed as the tree reader places them.
    #[test]
    fn quoted_cells_and_other_encodings_are_read_in_place() {
        let text = "department,year,task,object,inspectors,finished_on,problem,publication_channel,published_on,outcome\r\n\
             D,2024,T1,\"O1\",\" P1；P2、P3 \",\"2024/5/6\",是,\"gsxt\",2024-05-09,\"a, b\r\nc\"\r\n\
             \"D\",2024,T2,\"O\"\"2\"\"\",P1,2024-05-06,否,,,\"x\" y\r\n\
             D,2024,T1,\"\",,,,website,,\"\"\"\"\r\n\
             D,2024,T1,O4,,,,,,\"  \"\"\"\"  \" \r\n";
        let t = CsvTable::open("t.csv", text.as_bytes().to_vec()).expect("table");
        let chunk = FlatChunk::read(&t, whole(&t)).expect("read in place");
        assert_eq!(chunk.rows.len(), 4);
        assert_eq!(chunk.items(0, "inspectors"), ["P1", "P2", "P3"]);
        assert_eq!(
            chunk.value(0, None, "outcome"),
            Some(ValueRef::Str("a, b\nc"))
        );
        assert_eq!(
            chunk.value(1, None, "object"),
            Some(ValueRef::Str("O\"2\""))
        );
        assert_eq!(chunk.value(1, None, "outcome"), Some(ValueRef::Str("x y")));
        assert_eq!(chunk.value(2, None, "object"), None);
        assert_eq!(chunk.value(2, None, "outcome"), Some(ValueRef::Str("\"")));
        assert_eq!(chunk.value(3, None, "outcome"), Some(ValueRef::Str("\"\"")));
        compare_places(text.as_bytes());
        compare_places(&[b"\xEF\xBB\xBF", text.as_bytes()].concat());
        compare_places(&encoding_rs::GBK.encode(text).0);
    }

    fn compare_places(bytes: &[u8]) {
        let t = CsvTable::open("t.csv", bytes.to_vec()).expect("table");
        let chunk = FlatChunk::read(&t, whole(&t)).expect("read in place");
        let paths = [
            "",
            "object",
            "inspectors",
            "inspectors[0]",
            "inspectors[2]",
            "inspectors[3]",
            "inspectors.x",
            "finished_on",
            "finished_on[0]",
            "problem",
            "publication",
            "publication.channel",
            "publication.published_on",
            "publication.channel.x",
            "entered_on",
            "task",
            "department",
            "records",
            "follow_up.action",
            "nope",
        ];
        let mut compared = 0;
        for row in 0..u32::try_from(chunk.rows.len()).expect("rows") {
            for part in [None, chunk.child(row, None, "publication")] {
                for path in paths {
                    let (tree, id) = chunk.node(row, part);
                    let (node, _) = tree.resolve(id, path);
                    let targets: Vec<Target> = crate::diag::TARGET_KEYS
                        .iter()
                        .filter_map(|k| tree.str_at(id, k).or_else(|| tree.str_at(tree.root, k)))
                        .map(Target::from)
                        .collect();
                    assert_eq!(
                        chunk.place(row, part, path),
                        (tree.report_span(node), targets),
                        "row {row}, part {part:?}, path {path:?}"
                    );
                    // Values passed into messages, as a script reads them.
                    let mut in_place = crate::read::record::Rec::row(&chunk, row);
                    if let Some(map) = part {
                        in_place = in_place.child(map).expect("mapping");
                    }
                    assert_eq!(
                        crate::read::record::is_published(&in_place),
                        crate::read::record::is_published(&crate::read::record::Rec::new(
                            &tree, id
                        )),
                        "row {row}, part {part:?}"
                    );
                    // Values as rules read them.
                    let in_tree = crate::read::record::Rec::new(&tree, id);
                    assert_eq!(
                        in_place.value(path),
                        in_tree.value(path),
                        "row {row}, part {part:?}, key {path:?}"
                    );
                    assert_eq!(
                        in_place.items(path).collect::<Vec<_>>(),
                        in_tree.items(path).collect::<Vec<_>>(),
                        "row {row}, part {part:?}, key {path:?}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared >= 3 * paths.len(), "{compared}");
    }

    #[test]
    fn cells_are_trimmed_as_str_trim_does() {
        for cell in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\t",
            "O1",
            "武汉",
            "　武汉　",
            "武汉 ",
            "\u{a0}x",
            "x\u{3000}",
            "a b",
            "-",
            "\u{2003}",
        ] {
            assert_eq!(trim_cell(cell), cell.trim(), "{cell:?}");
        }
    }

    #[test]
    fn rows_that_are_not_plain_and_valid_are_left_to_the_tree_reader() {
        for rows in [
            "D,2024,T1,O1,P1,\"2024-05-06\"x,是,gsxt,2024-05-09\n",
            "\"D\"\"\",2024,T1,O1,P1,2024-05-06,是,gsxt,2024-05-09\n",
            "D,2024,T1,\"O1,P1,2024-05-06,是,gsxt,2024-05-09\n",
            "D,2024,T1,O1,P1,2024-02-30,是,gsxt,2024-05-09\n",
            "D,2024,T1,O1,P1,2024-05-06,maybe,gsxt,2024-05-09\n",
            "D,2024,T1,O1,P1,2024-05-06,是,fax,2024-05-09\n",
            "D,twenty,T1,O1,P1,2024-05-06,是,gsxt,2024-05-09\n",
            "D,2024,,O1,P1,2024-05-06,是,gsxt,2024-05-09\n",
            "D,2024,T1,O1,P1,2024-05-06,是,gsxt\n",
            "D,2024,T1,O1,P1,2024-05-06,是,gsxt,2024-05-09,stray\n",
        ] {
            let t = table(rows);
            assert!(FlatChunk::read(&t, whole(&t)).is_none(), "{rows}");
        }
    }

    #[test]
    fn only_results_tables_of_known_columns_have_a_layout() {
        let layout = |header: &str| {
            let text = format!("{header}\nD,2024,T1,O1\n");
            CsvTable::open("t.csv", text.as_bytes().to_vec())
                .expect("table")
                .flat
                .is_some()
        };
        assert!(layout("department,year,task,object"));
        assert!(layout("部门,年度,抽查任务,检查对象"));
        assert!(!layout("kind,department,year,task,object"));
        assert!(!layout("department,year,task,object,object"));
        assert!(!layout("department,year,task,object,uscc"));
        assert!(!layout("department,task,object"));
    }
}
