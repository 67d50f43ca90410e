//! Submissions: a department's documents for one year, indexed once (task id → task,
//! object code → object, person id → person, item id → item) so joins are lookups.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::parse::tree::{NodeId, NodeRef, Tree, Value};
use crate::read::input::Document;
use crate::read::record::{snapshot, Rec, Snapshot};

pub mod digest;

/// Records by code (id, USCC): the first record with a code is the one found by it.
/// Looked up once or more per result record, with a fast hash seeded per run.
///
/// The table maps a code to a small slot: its key held inline, the entry's place in a
/// list, and the answers kept about it ([`Memo`]). A result record looks its object up
/// in a library of a hundred thousand, which the cache does not hold: the slot a code
/// hashes to is nearly always the one that holds it (open addressing, at most half
/// full), so it can be fetched ahead of the look-up ([`Index::prefetch`]), and a kept
/// answer needs no other read. The table is cut into shards by the code's hash so that
/// a library's is built on every core.
#[derive(Debug, Default)]
pub struct Index {
    /// The shards' slots, one shard after the other: each a power-of-two ring, probed
    /// one slot after the other from where the hash points.
    slots: Vec<Slot>,
    /// Slots per shard.
    shard_size: usize,
    hasher: foldhash::fast::RandomState,
    /// The documents whose records it holds.
    trees: Vec<Arc<Tree>>,
    /// What is known of each record, shared by its codes.
    records: Vec<EntryData>,
    entries: Vec<Entry>,
    /// Entries whose code an earlier entry has, with that entry's place (where the code
    /// is found), by place: every other entry is found at its own.
    repeated: Vec<(u32, u32)>,
}

#[derive(Debug)]
struct Slot {
    code: smartstring::alias::String,
    /// The hash's upper half: most slots that do not hold the code are passed over on
    /// it, without comparing text.
    tag: u32,
    /// [`EMPTY`], or the entry's place.
    at: u32,
    memo: Memo,
}

/// The place of a slot that holds no code.
const EMPTY: u32 = u32::MAX;

impl Slot {
    fn empty() -> Slot {
        Slot {
            code: smartstring::alias::String::new(),
            tag: 0,
            at: EMPTY,
            memo: Memo::default(),
        }
    }
}

/// Shards of an [`Index`]: enough to keep every core busy while it is built.
const SHARDS: usize = 16;

/// The shard of a hash: bits the slot's place does not use.
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// Where `hash` points in a ring of `len` slots (a power of two): the first slot probed.
fn home(hash: u64, len: usize) -> usize {
    hash as usize & len.wrapping_sub(1)
}

/// The slot holding `code` in a shard's ring, or the empty one it would go in. Some
/// slot is empty (a ring is at most half full), so the probe ends.
fn probe(ring: &[Slot], hash: u64, code: &str) -> Option<usize> {
    let mask = ring.len().checked_sub(1)?;
    let tag = tag_of(hash);
    let mut at = home(hash, ring.len());
    loop {
        let slot = ring.get(at)?;
        if slot.at == EMPTY || (slot.tag == tag && slot.code == code) {
            return Some(at);
        }
        at = (at + 1) & mask;
    }
}

/// Asks the processor to bring `value`'s memory into the cache, without waiting for it.
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = (value as *const T).cast::<i8>();
        let end = start.wrapping_add(std::mem::size_of::<T>().saturating_sub(1));
        // SAFETY: SSE is part of x86_64; a prefetch reads nothing the program sees and
        // never faults, whatever the address. `end`: a value can straddle two lines.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(start);
            _mm_prefetch::<_MM_HINT_T0>(end);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Asks the kernel to back `memory` with huge pages where it can. A look-up goes to a
/// random place of a table of megabytes: with 4 KiB pages nearly each one also misses
/// the address cache, while the tables read in order gain nothing from huge pages
/// and pay for zeroing them whole.
fn advise_huge_pages<T>(memory: &[T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = memory.as_ptr() as usize;
        let end = start + std::mem::size_of_val(memory);
        let (from, to) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if to > from {
            // SAFETY: advice on whole pages inside a live allocation; it changes how the
            // kernel backs them, never their content.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = memory;
}

/// Slots of [`Memo`].
pub const MEMO_SLOTS: usize = 8;

/// Answers about a record that depend on it alone (whether it meets a reference
/// check's requirements), kept by the check that asked, in the slot it was given: a
/// record is named by many results. 0: not asked yet. A record found by two codes has
/// one memo per code.
#[derive(Debug, Default)]
pub struct Memo(pub [std::sync::atomic::AtomicU8; MEMO_SLOTS]);

impl Index {
    /// The entries under their codes (`codes[i]` finds `entries[i]`), in order: the
    /// first entry with a code is the one found by it.
    fn build(made: Made) -> Index {
        use std::hash::BuildHasher;
        let Made {
            trees,
            records,
            mut codes,
            mut entries,
        } = made;
        // Places are u32, and one of them means no entry.
        codes.truncate(EMPTY as usize);
        entries.truncate(EMPTY as usize);
        let hasher = foldhash::fast::RandomState::default();
        let hashes: Vec<u64> = codes.par_iter().map(|code| hasher.hash_one(code)).collect();
        // Each shard's entries, in order, one shard after the other: shard `s` builds
        // from `by_shard[starts[s]..starts[s + 1]]`, not by passing over every entry.
        let mut starts = [0usize; SHARDS + 1];
        for hash in &hashes {
            starts[shard_of(*hash) + 1] += 1;
        }
        let largest = starts.iter().max().copied().unwrap_or(0);
        for s in 1..=SHARDS {
            starts[s] += starts[s - 1];
        }
        let mut next = starts;
        let mut by_shard = vec![0u32; hashes.len()];
        for (at, hash) in (0u32..).zip(&hashes) {
            let place = &mut next[shard_of(*hash)];
            by_shard[*place] = at;
            *place += 1;
        }
        // Every ring at most half full.
        let shard_size = (largest * 2).max(1).next_power_of_two();
        let mut slots = Vec::with_capacity(shard_size * SHARDS);
        advise_huge_pages(slots.spare_capacity_mut());
        // Tens of megabytes for a large library, their pages first touched here: side
        // by side.
        slots.par_extend(
            (0..shard_size * SHARDS)
                .into_par_iter()
                .map(|_| Slot::empty()),
        );
        let mut repeated: Vec<(u32, u32)> = slots
            .par_chunks_mut(shard_size)
            .enumerate()
            .flat_map_iter(|(shard, ring)| {
                let mut repeated = Vec::new();
                for &at in &by_shard[starts[shard]..starts[shard + 1]] {
                    let (code, hash) = (codes[at as usize], hashes[at as usize]);
                    let Some(slot) = probe(ring, hash, code).and_then(|i| ring.get_mut(i)) else {
                        continue;
                    };
                    if slot.at == EMPTY {
                        *slot = Slot {
                            code: code.into(),
                            tag: tag_of(hash),
                            at,
                            memo: Memo::default(),
                        };
                    } else {
                        repeated.push((at, slot.at));
                    }
                }
                repeated
            })
            .collect();
        repeated.sort_unstable();
        Index {
            slots,
            shard_size,
            hasher,
            trees,
            records,
            entries,
            repeated,
        }
    }

    /// The ring of slots `hash` is in.
    fn ring(&self, hash: u64) -> &[Slot] {
        let start = shard_of(hash) * self.shard_size;
        self.slots
            .get(start..start + self.shard_size)
            .unwrap_or_default()
    }

    fn slot(&self, code: &str) -> Option<&Slot> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(code);
        let ring = self.ring(hash);
        ring.get(probe(ring, hash, code)?)
            .filter(|slot| slot.at != EMPTY)
    }

    /// Whether look-ups are worth fetching ahead: not when the slots fit in a core's
    /// first-level cache (a plan's tasks), where they stay once read. A personnel
    /// library of some thousands fits the second level, but the streamed rows push it
    /// out between look-ups: fetched ahead, half the time waiting for slots went.
    pub fn worth_prefetching(&self) -> bool {
        const CACHED: usize = 32 << 10;
        std::mem::size_of_val(self.slots.as_slice()) > CACHED
    }

    /// Starts bringing the slot `code` is looked up in into the cache, and returns at
    /// once: look-ups of a run of records, prefetched together before they are made,
    /// wait for memory once between them, not once each.
    pub fn prefetch(&self, code: &str) {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(code);
        let ring = self.ring(hash);
        if let Some(slot) = ring.get(home(hash, ring.len())) {
            prefetch(slot);
        }
    }

    pub fn get(&self, code: &str) -> Option<Found<'_>> {
        self.find(code).map(|(entry, _)| entry)
    }

    /// The entry of `code`, with the answers kept about it.
    pub fn find(&self, code: &str) -> Option<(Found<'_>, &Memo)> {
        let slot = self.slot(code)?;
        let entry = self.entries.get(slot.at as usize)?;
        Some((Found { index: self, entry }, &slot.memo))
    }

    /// Where `code` is found: one place per code, the same for every look-up.
    pub fn position(&self, code: &str) -> Option<u32> {
        self.slot(code).map(|slot| slot.at)
    }

    pub fn contains_key(&self, code: &str) -> bool {
        self.slot(code).is_some()
    }

    /// The entries of the records of `tree`, in order, each with where its code is
    /// found ([`Index::position`]): what looking its code up would give, without the
    /// look-up.
    pub fn entries_of<'a>(&'a self, tree: &'a Tree) -> impl Iterator<Item = (Found<'a>, u32)> + 'a {
        let of_tree = self
            .trees
            .iter()
            .position(|t| std::ptr::eq(Arc::as_ptr(t), tree))
            .and_then(|at| u32::try_from(at).ok());
        self.entries
            .iter()
            .zip(0u32..)
            .filter(move |(entry, _)| Some(entry.tree) == of_tree)
            .map(|(entry, at)| {
                let found = match self.repeated.binary_search_by_key(&at, |&(at, _)| at) {
                    Ok(i) => self.repeated.get(i).map_or(at, |&(_, first)| first),
                    Err(_) => at,
                };
                (Found { index: self, entry }, found)
            })
    }
}

/// What an index is built from: its documents, its records, and an entry per code of
/// a record.
#[derive(Default)]
struct Made<'a> {
    trees: Vec<Arc<Tree>>,
    records: Vec<EntryData>,
    codes: Vec<&'a str>,
    entries: Vec<Entry>,
}

/// A code's record: small, as a library of a hundred thousand records has twice as
/// many entries.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Its document, in [`Index::trees`].
    tree: u32,
    id: NodeId,
    /// In [`Index::records`].
    record: u32,
    uscc_is_key: bool,
}

/// A record of an index as found, with its fields read once, when first joined to
/// ([`Snapshot`]): joins (`@task.end`, the inspector's `active`) read them for every
/// result record, and reading the library's tree for each would miss the cache. The
/// entry's own memory is read only when asked about, since a look-up its slot's memo
/// answers needs none of it (in a library of a hundred thousand, that read is a cache
/// miss per look-up).
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    index: &'a Index,
    entry: &'a Entry,
}

/// What an entry knows of its record: its fields, read on the first join that reads
/// one. Most of a library's records are never joined to, and reading every field of
/// every record up front would hold up the first result.
#[derive(Debug, Default)]
struct EntryData {
    fields: std::sync::OnceLock<Box<Snapshot>>,
}

impl<'a> Found<'a> {
    pub fn id(&self) -> NodeId {
        self.entry.id
    }

    /// Whether the record's `uscc` is the code it is found by (not its `id`).
    pub fn uscc_is_key(&self) -> bool {
        self.entry.uscc_is_key
    }

    fn tree(&self) -> &'a Arc<Tree> {
        &self.index.trees[self.entry.tree as usize]
    }

    /// The record as rules read it.
    pub fn rec(&self) -> Rec<'a> {
        let (tree, id) = (self.tree(), self.entry.id);
        let fields = self.index.records[self.entry.record as usize]
            .fields
            .get_or_init(|| snapshot(tree, id).into_boxed_slice());
        Rec::of_snapshot(tree, id, fields)
    }

    pub fn node(&self) -> NodeRef {
        NodeRef {
            tree: Arc::clone(self.tree()),
            id: self.entry.id,
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
    /// Item ids by their names' normalised text ([`item_key`]), for plans that name
    /// items by text, as published plans do.
    pub item_texts: HashMap<String, String>,
    /// The kinds of its documents, as bits ([`crate::schema::kind_bit`]).
    pub kinds: u8,
    /// What the Results documents tell whole-submission rules, gathered on first use.
    pub digest: std::sync::OnceLock<digest::ResultsDigest>,
}

impl Submission {
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Document> + 'a {
        self.documents.iter().filter(move |d| d.kind() == kind)
    }

    /// The ids of the item-list entries a plan's item names: the id itself, or an
    /// entry whose name is the same text (spacing, punctuation, full-width forms and
    /// numbering aside), or, for a text naming several items (`甲检查;乙检查`), the
    /// entry of each part. Empty when any part names no entry.
    pub fn item_ids(&self, given: &str) -> Vec<String> {
        if self.items.contains_key(given) {
            return vec![given.to_owned()];
        }
        if let Some(id) = self.item_texts.get(&item_key(given)) {
            return vec![id.clone()];
        }
        let parts: Vec<&str> = given
            .split(['；', ';', '\n', '、'])
            .filter(|p| !item_key(p).is_empty())
            .collect();
        if parts.len() < 2 {
            return Vec::new();
        }
        let mut ids = Vec::with_capacity(parts.len());
        for part in parts {
            match self.item_texts.get(&item_key(part)) {
                Some(id) if !ids.contains(id) => ids.push(id.clone()),
                Some(_) => {}
                None => return Vec::new(),
            }
        }
        ids
    }
}

/// An item's text as plans and item lists are joined by: without numbering
/// (`1、`, `(一)`), spaces, punctuation, brackets and full-width forms.
pub fn item_key(text: &str) -> String {
    let trimmed = text.trim_start();
    let numbered = trimmed
        .trim_start_matches(|c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
        .strip_prefix(['、', '.', '．', ')', '）', ':', '：']);
    let bracketed = trimmed.strip_prefix(['(', '（']).and_then(|rest| {
        rest.trim_start_matches(|c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
            .strip_prefix([')', '）'])
    });
    let body = numbered.or(bracketed).unwrap_or(trimmed);
    crate::read::table::vocabulary::header_key(body).full
}

/// Every plan among `documents`, for rules that join plans across departments.
pub fn plans_of(documents: &[Document]) -> Arc<Vec<Document>> {
    Arc::new(
        documents
            .iter()
            .filter(|d| d.kind() == "Plan")
            .cloned()
            .collect(),
    )
}

/// Groups documents by (department, year). Undated documents (item list, libraries)
/// join every year of their department.
pub fn group(documents: &[Document]) -> Vec<Arc<Submission>> {
    let all_plans = plans_of(documents);
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
        item_texts: HashMap::new(),
        kinds: 0,
    };
    for doc in &sub.documents {
        sub.kinds |= crate::schema::kind_bit(doc.kind());
    }
    // Entries of tasks, objects, people and items, in document order.
    let mut made: [Made; 4] = Default::default();
    for doc in &sub.documents {
        let tree = &doc.tree;
        let records = tree.get(tree.root, doc.schema.records);
        let records = records.map(|r| tree.seq(r)).unwrap_or_default();
        if doc.kind() == "ItemList" {
            for record in records {
                let (Some(id), Some(name)) =
                    (tree.str_at(*record, "id"), tree.str_at(*record, "name"))
                else {
                    continue;
                };
                sub.item_texts
                    .entry(item_key(name))
                    .or_insert_with(|| id.to_owned());
            }
        }
        let target = match doc.kind() {
            "Plan" => 0,
            "ObjectLibrary" => 1,
            "PersonnelLibrary" => 2,
            "ItemList" => 3,
            _ => continue,
        };
        let made = &mut made[target];
        let Ok(at_tree) = u32::try_from(made.trees.len()) else {
            continue;
        };
        made.trees.push(Arc::clone(tree));
        // A library holds a hundred thousand objects, whose codes are read side by side,
        // in one pass over each record's fields whose keys are matched against the two
        // names written here (compared in place, not by a call for each key). Whether
        // the id is the USCC's text too is asked here, side by side, where the texts
        // are read: asked in turn below, it waited on memory for each record.
        let codes: Vec<([Option<&str>; 2], bool)> = records
            .par_iter()
            .map(|&record| {
                let mut codes = [None; 2];
                let Value::Map(fields) = &tree.node(record).value else {
                    return (codes, false);
                };
                // The first field of a name is the one read, as `Tree::get` reads it.
                let mut seen = [false; 2];
                for (key, field) in fields {
                    let at = match key.as_str() {
                        "id" => 0,
                        "uscc" => 1,
                        _ => continue,
                    };
                    if !std::mem::replace(&mut seen[at], true) {
                        if let Value::Str(code) = &tree.node(*field).value {
                            codes[at] = Some(code.as_str());
                        }
                    }
                }
                (codes, codes[0].is_some() && codes[0] == codes[1])
            })
            .collect();
        let given = codes.iter().flat_map(|(c, _)| c).flatten().count();
        made.codes.reserve(given);
        made.entries.reserve(given);
        made.records.reserve(records.len());
        for (&id, ([by_id, by_uscc], id_is_uscc)) in records.iter().zip(codes) {
            let Ok(record) = u32::try_from(made.records.len()) else {
                break;
            };
            if by_id.is_none() && by_uscc.is_none() {
                continue;
            }
            made.records.push(EntryData::default());
            let codes = [(by_id, id_is_uscc), (by_uscc, true)];
            for (code, uscc_is_key) in codes {
                let Some(code) = code else { continue };
                made.codes.push(code);
                made.entries.push(Entry {
                    tree: at_tree,
                    id,
                    record,
                    uscc_is_key,
                });
            }
        }
    }
    let [tasks, objects, people, items] = made.map(Index::build);
    Submission {
        tasks,
        objects,
        people,
        items,
        ..sub
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::source::SourceFile;

    /// Adds entries `(code, record)`, a record of `tree` each in order.
    fn add<'a>(made: &mut Made<'a>, tree: &Arc<Tree>, codes: &[&'a str]) {
        let records = tree.seq(tree.get(tree.root, "records").unwrap()).to_vec();
        let at_tree = made.trees.len() as u32;
        made.trees.push(Arc::clone(tree));
        for (code, id) in codes.iter().zip(records) {
            made.codes.push(code);
            made.entries.push(Entry {
                tree: at_tree,
                id,
                record: made.records.len() as u32,
                uscc_is_key: false,
            });
            made.records.push(EntryData::default());
        }
    }

    fn entries<'a>(tree: &Arc<Tree>, codes: &[&'a str]) -> Made<'a> {
        let mut made = Made::default();
        add(&mut made, tree, codes);
        made
    }

    #[test]
    fn an_index_finds_each_code_at_its_first_record() {
        let codes: Vec<String> = (0..2_000).map(|i| format!("91420100MA{i:08}")).collect();
        let mut given: Vec<&str> = codes.iter().map(String::as_str).collect();
        // The same codes again: later records with a code are not the ones found.
        given.extend(codes.iter().map(String::as_str));
        let text = format!(
            "records:\n{}",
            (0..given.len())
                .map(|i| format!("  - {{n: {i}}}\n"))
                .collect::<String>()
        );
        let tree = Arc::new(
            crate::parse::yaml::load(&SourceFile::from_text("t.yaml", text))
                .unwrap()
                .remove(0),
        );
        let records = tree.seq(tree.get(tree.root, "records").unwrap()).to_vec();
        let index = Index::build(entries(&tree, &given));
        assert!(index
            .slots
            .chunks(index.shard_size)
            .all(|ring| ring.iter().any(|slot| slot.at != EMPTY)));
        for (i, code) in codes.iter().enumerate() {
            let (entry, _) = index.find(code).unwrap();
            assert_eq!(entry.id(), records[i], "{code}");
            assert!(index.contains_key(code));
        }
        assert!(index.get("91420100MA99999999").is_none());
        assert!(Index::default().get(&codes[0]).is_none());
        // Thousands of codes are worth fetching ahead; an empty index is not.
        assert!(index.worth_prefetching());
        assert!(!Index::default().worth_prefetching());
    }

    #[test]
    fn a_plans_few_tasks_are_not_worth_prefetching() {
        let codes: Vec<String> = (0..40).map(|i| format!("T{i:03}")).collect();
        let given: Vec<&str> = codes.iter().map(String::as_str).collect();
        let text = format!("records:\n{}", "  - {n: 0}\n".repeat(given.len()));
        let tree = Arc::new(
            crate::parse::yaml::load(&SourceFile::from_text("t.yaml", text))
                .unwrap()
                .remove(0),
        );
        assert!(!Index::build(entries(&tree, &given)).worth_prefetching());
    }

    #[test]
    fn entries_of_a_tree_say_where_their_codes_are_found() {
        // The third and fifth records repeat the first's and second's codes: they are
        // found where those are, as looking the code up says.
        let codes: Vec<String> = (0..3000).map(|i| format!("9142010{i:011}")).collect();
        let mut given: Vec<&str> = codes.iter().map(String::as_str).collect();
        given.insert(2, given[0]);
        given.insert(4, given[1]);
        let text = format!("records:\n{}", "  - {n: 0}\n".repeat(given.len()));
        let tree = Arc::new(
            crate::parse::yaml::load(&SourceFile::from_text("t.yaml", text))
                .unwrap()
                .remove(0),
        );
        let other = Arc::new(
            crate::parse::yaml::load(&SourceFile::from_text("u.yaml", "records:\n  - {n: 1}\n"))
                .unwrap()
                .remove(0),
        );
        let mut made = entries(&tree, &given);
        add(&mut made, &other, &["91420100MA00000001"]);
        let index = Index::build(made);
        let found: Vec<u32> = index.entries_of(&tree).map(|(_, at)| at).collect();
        assert_eq!(found.len(), given.len());
        assert_eq!(&found[..6], &[0, 1, 0, 3, 1, 5]);
        for (code, at) in given.iter().zip(&found) {
            assert_eq!(index.position(code), Some(*at), "{code}");
        }
        let of_other: Vec<u32> = index.entries_of(&other).map(|(_, at)| at).collect();
        assert_eq!(of_other, [given.len() as u32]);
    }
}
