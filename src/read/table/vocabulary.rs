//! The vocabulary of table headers, as data (`policies/tables/vocabulary.yaml`, built
//! in): which header words mean which column of a published plan or item list, which
//! words of a title tell what a table is, and the other names of the columns of
//! libraries and results. A policy may name a file of the same form whose words take
//! precedence ([`Vocabulary::extended`]); a table's sidecar maps its own headers.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::parse::source::SourceFile;
use crate::parse::tree::{NodeId, Span, Tree, Value};
use crate::parse::yaml::LoadError;

/// The shipped vocabulary's text.
pub const SHIPPED: &str = include_str!("../../../policies/tables/vocabulary.yaml");
/// Where the shipped vocabulary is, as policies and messages name it.
pub const SHIPPED_PATH: &str = "policies/tables/vocabulary.yaml";

/// What a column of a published table means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meaning {
    /// 序号: numbers the rows; a row without one continues the record above.
    Row,
    Task,
    Items,
    Objects,
    Ratio,
    RatioAndFrequency,
    Frequency,
    Count,
    Lead,
    Partners,
    Level,
    /// A period; its part (start, end or both) is told by the header's words.
    Period,
    Start,
    End,
    Basis,
    Method,
    ItemCategory,
    CreditRisk,
    Joint,
    Hotspot,
    Implements,
    /// Nothing a rule reads: kept as written.
    Note,
    ItemId,
    ItemName,
    Category,
    ImplementingBody,
}

const MEANINGS: &[(&str, Meaning)] = &[
    ("row", Meaning::Row),
    ("task", Meaning::Task),
    ("items", Meaning::Items),
    ("objects", Meaning::Objects),
    ("ratio", Meaning::Ratio),
    ("ratio_and_frequency", Meaning::RatioAndFrequency),
    ("frequency", Meaning::Frequency),
    ("count", Meaning::Count),
    ("lead", Meaning::Lead),
    ("partners", Meaning::Partners),
    ("level", Meaning::Level),
    ("period", Meaning::Period),
    ("start", Meaning::Start),
    ("end", Meaning::End),
    ("basis", Meaning::Basis),
    ("method", Meaning::Method),
    ("item_category", Meaning::ItemCategory),
    ("credit_risk", Meaning::CreditRisk),
    ("joint", Meaning::Joint),
    ("hotspot", Meaning::Hotspot),
    ("implements", Meaning::Implements),
    ("note", Meaning::Note),
    ("item_id", Meaning::ItemId),
    ("item_name", Meaning::ItemName),
    ("category", Meaning::Category),
    ("implementing_body", Meaning::ImplementingBody),
];

/// Older sidecar names of the meanings (`columns: {备注: ignore}`).
const ALIASES: &[(&str, Meaning)] = &[
    ("id", Meaning::Row),
    ("name", Meaning::Task),
    ("description", Meaning::Objects),
    ("objects.description", Meaning::Objects),
    ("dates", Meaning::Period),
    ("credit_risk.applied", Meaning::CreditRisk),
    ("ignore", Meaning::Note),
];

impl Meaning {
    pub fn name(self) -> &'static str {
        MEANINGS
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("note", |(n, _)| n)
    }

    /// The meaning in Chinese, as tables head it.
    pub fn zh(self) -> &'static str {
        match self {
            Meaning::Row => "序号",
            Meaning::Task => "抽查任务名称",
            Meaning::Items => "抽查事项",
            Meaning::Objects => "检查对象",
            Meaning::Ratio => "抽查比例",
            Meaning::RatioAndFrequency => "抽查比例及频次",
            Meaning::Frequency => "抽查频次",
            Meaning::Count => "抽查数量",
            Meaning::Lead => "发起部门",
            Meaning::Partners => "配合部门",
            Meaning::Level => "检查层级",
            Meaning::Period => "抽查时间",
            Meaning::Start => "开始时间",
            Meaning::End => "结束时间",
            Meaning::Basis => "抽查依据",
            Meaning::Method => "检查方式",
            Meaning::ItemCategory | Meaning::Category => "事项类别",
            Meaning::CreditRisk => "信用风险分类",
            Meaning::Joint => "是否联合抽查",
            Meaning::Hotspot => "民生热点",
            Meaning::Implements => "承接市级任务",
            Meaning::Note => "备注",
            Meaning::ItemId => "事项编号",
            Meaning::ItemName => "事项名称",
            Meaning::ImplementingBody => "检查主体",
        }
    }

    /// A meaning by its name or an older sidecar name.
    pub fn parse(name: &str) -> Option<Meaning> {
        MEANINGS
            .iter()
            .chain(ALIASES)
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    /// The names a sidecar or vocabulary may use.
    pub fn names() -> impl Iterator<Item = &'static str> {
        MEANINGS.iter().chain(ALIASES).map(|(n, _)| *n)
    }

    /// Whether a table holds one column of this meaning: the task name, the items,
    /// the lead department. When several claim it, the strongest header wins and the
    /// others are kept as text.
    pub fn is_single(self) -> bool {
        matches!(
            self,
            Meaning::Row
                | Meaning::Task
                | Meaning::Items
                | Meaning::Objects
                | Meaning::Lead
                | Meaning::Partners
                | Meaning::ItemId
                | Meaning::ItemName
        )
    }

    /// Meanings read from numbers in the cells: a column of one that reads nothing,
    /// beside one that does, is kept as text (`抽查基数(户)和比例` holding a text).
    pub fn reads_numbers(self) -> bool {
        matches!(
            self,
            Meaning::Ratio | Meaning::RatioAndFrequency | Meaning::Frequency | Meaning::Count
        )
    }
}

/// The kinds of published tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Plan,
    ItemList,
}

impl Section {
    pub fn kind(self) -> &'static str {
        match self {
            Section::Plan => "Plan",
            Section::ItemList => "ItemList",
        }
    }

    /// Whether a meaning belongs to tables of this kind.
    pub fn has(self, m: Meaning) -> bool {
        use Meaning::*;
        match self {
            Section::Plan => !matches!(m, ItemId | ItemName | Category | ImplementingBody),
            Section::ItemList => matches!(
                m,
                ItemId
                    | ItemName
                    | Category
                    | Objects
                    | Method
                    | Basis
                    | ImplementingBody
                    | Ratio
                    | RatioAndFrequency
                    | Frequency
                    | Count
                    | Period
                    | Start
                    | End
                    | Level
                    | Note
            ),
        }
    }
}

/// How a header was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// Listed (after normalising).
    Listed,
    /// Mapped by the table's sidecar.
    Sidecar,
    /// One character away from a listed header.
    Typo(String),
    /// The start of a listed header, cut short.
    Truncated(String),
    /// By a word it holds.
    Word(String),
    /// By its cells, which name the meaning (`抽查比例:100%`).
    Labelled(String),
    /// As part of a group of a two-row header.
    Group(String),
}

/// A meaning a header may have, and how strong the header is for it (0: strongest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub meaning: Meaning,
    pub tier: u8,
    pub how: How,
}

/// The tier of meanings found by a word: weaker than any listed header.
pub const WORD_TIER: u8 = 100;

#[derive(Debug, Clone, Default)]
struct Words {
    /// Normalised header → its meanings and tiers.
    headers: HashMap<String, Vec<(Meaning, u8)>>,
    /// Listed headers as written, with their normalised form (for typos and cuts).
    /// (header as written, its key, the key's length in characters).
    listed: Vec<(String, String, usize)>,
    /// A word a header holds → its meaning, in the order to try.
    words: Vec<(String, Meaning)>,
}

/// Title words that tell what a published table is.
#[derive(Debug, Clone, Default)]
pub struct Titles {
    pub item_list: Vec<String>,
    pub plan: Vec<String>,
    pub joint: Vec<String>,
    pub not_joint: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    plan: Words,
    item_list: Words,
    /// Meaning name → patterns of its typical cells.
    values: HashMap<String, Vec<Regex>>,
    pub titles: Titles,
    /// Record column id → its other header names.
    pub records: Vec<(String, Vec<String>)>,
}

/// The shipped vocabulary, read once.
pub fn shipped() -> &'static Arc<Vocabulary> {
    static SHIPPED_VOCABULARY: OnceLock<Arc<Vocabulary>> = OnceLock::new();
    SHIPPED_VOCABULARY.get_or_init(|| {
        let source = SourceFile::from_text(SHIPPED_PATH, SHIPPED);
        // The shipped file is checked by the tests; a broken build reads no words.
        Arc::new(
            Vocabulary::parse(&source)
                .unwrap_or_default()
                .shipped_with_names(),
        )
    })
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '【' | '〔' | '〖' => '[',
        '】' | '〕' | '〗' => ']',
        _ => c,
    }
}

fn is_open(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '<' | '〈' | '《' | '「' | '『')
}

fn is_close(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '>' | '〉' | '》' | '」' | '』')
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '，' | '。'
                | '、'
                | '：'
                | '；'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '…'
                | '—'
                | '·'
                | '〃'
                | '※'
                | '★'
                | '☆'
                | '●'
                | '○'
                | '△'
        )
}

/// A header as compared: full-width forms as ASCII, no spaces or line breaks, no
/// punctuation, lower case; brackets dropped (`full`), or with what they hold
/// (`bare`: `抽查比例(或户数)` → `抽查比例`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderKey {
    pub full: String,
    pub bare: String,
}

pub fn header_key(text: &str) -> HeaderKey {
    let mut full = String::new();
    let mut bare = String::new();
    let mut depth = 0usize;
    for c in text.chars().map(fullwidth_to_ascii) {
        if c.is_whitespace() {
            continue;
        }
        if is_open(c) {
            depth += 1;
            continue;
        }
        if is_close(c) {
            depth = depth.saturating_sub(1);
            continue;
        }
        if is_punctuation(c) {
            continue;
        }
        let lower = c.to_ascii_lowercase();
        full.push(lower);
        if depth == 0 {
            bare.push(lower);
        }
    }
    if bare.is_empty() {
        bare.clone_from(&full);
    }
    HeaderKey { full, bare }
}

/// A header as shown in messages and as a key of `columns`: line breaks and runs of
/// spaces made one space, full-width forms kept.
pub fn shown_header(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn error(span: Span, en: String, zh: String) -> LoadError {
    LoadError {
        code: "policy/invalid",
        span,
        en,
        zh,
    }
}

fn strings(tree: &Tree, id: NodeId, errors: &mut Vec<LoadError>) -> Vec<String> {
    let node = tree.node(id);
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| match &tree.node(*i).value {
                Value::Str(s) => Some(s.to_string()),
                Value::Int(_) | Value::Float(_) => {
                    tree.node(*i).raw.as_ref().map(|r| r.to_string())
                }
                Value::Null => None,
                other => {
                    errors.push(error(
                        tree.node(*i).span,
                        format!("expected a word, found {}", other.type_name()),
                        format!("应为词语，实为 {}", other.type_name()),
                    ));
                    None
                }
            })
            .collect(),
        Value::Str(s) => vec![s.to_string()],
        Value::Null => Vec::new(),
        other => {
            errors.push(error(
                node.span,
                format!("expected a list of words, found {}", other.type_name()),
                format!("应为词语列表，实为 {}", other.type_name()),
            ));
            Vec::new()
        }
    }
}

fn map_entries(tree: &Tree, id: NodeId) -> Vec<(String, NodeId)> {
    match &tree.node(id).value {
        Value::Map(entries) => entries.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        _ => Vec::new(),
    }
}

fn meaning_at(
    tree: &Tree,
    name: &str,
    at: NodeId,
    section: Section,
    errors: &mut Vec<LoadError>,
) -> Option<Meaning> {
    match Meaning::parse(name).filter(|m| section.has(*m)) {
        Some(m) => Some(m),
        None => {
            let node = tree.node(at);
            let hint = crate::schema::suggest(name, Meaning::names());
            errors.push(error(
                node.key_span.unwrap_or(node.span),
                format!(
                    "`{name}` is not a meaning of a {} table{hint}",
                    section.kind()
                ),
                format!("`{name}` 不是{}表的列含义{hint}", section.kind()),
            ));
            None
        }
    }
}

impl Words {
    fn add(&mut self, header: &str, meaning: Meaning, tier: u8) {
        let key = header_key(header);
        if key.full.is_empty() {
            return;
        }
        let entry = self.headers.entry(key.full.clone()).or_default();
        if !entry.iter().any(|(m, _)| *m == meaning) {
            entry.push((meaning, tier));
        }
        let chars = key.full.chars().count();
        self.listed.push((header.to_owned(), key.full, chars));
    }

    fn parse(tree: &Tree, id: NodeId, section: Section, errors: &mut Vec<LoadError>) -> Words {
        let mut words = Words::default();
        for (key, value) in map_entries(tree, id) {
            match key.as_str() {
                "headers" => {
                    for (name, tiers) in map_entries(tree, value) {
                        let Some(meaning) = meaning_at(tree, &name, tiers, section, errors) else {
                            continue;
                        };
                        let list: Vec<NodeId> = match &tree.node(tiers).value {
                            Value::Seq(items) => items.clone(),
                            _ => vec![tiers],
                        };
                        // Tiers are lists of headers; a flat list is one tier.
                        let nested = list
                            .iter()
                            .any(|i| matches!(tree.node(*i).value, Value::Seq(_)));
                        if nested {
                            for (tier, item) in list.iter().enumerate() {
                                let tier = u8::try_from(tier).unwrap_or(u8::MAX - 1);
                                for h in strings(tree, *item, errors) {
                                    words.add(&h, meaning, tier);
                                }
                            }
                        } else {
                            for h in strings(tree, tiers, errors) {
                                words.add(&h, meaning, 0);
                            }
                        }
                    }
                }
                "words" => {
                    if let Value::Seq(items) = &tree.node(value).value {
                        for item in items.clone() {
                            let pair = strings(tree, item, errors);
                            let [word, name] = pair.as_slice() else {
                                errors.push(error(
                                    tree.node(item).span,
                                    "a word entry is [word, meaning]".into(),
                                    "词语条目应为 [词语, 含义]".into(),
                                ));
                                continue;
                            };
                            if let Some(m) = meaning_at(tree, name, item, section, errors) {
                                words.words.push((header_key(word).full, m));
                            }
                        }
                    }
                }
                other => {
                    let node = tree.node(value);
                    errors.push(error(
                        node.key_span.unwrap_or(node.span),
                        format!("unknown key `{other}` (headers, words)"),
                        format!("未知的键 `{other}`（可用：headers、words）"),
                    ));
                }
            }
        }
        words
    }

    /// Puts `other`'s words before these: its headers replace these meanings.
    fn extend(&mut self, other: &Words) {
        for (key, meanings) in &other.headers {
            self.headers.insert(key.clone(), meanings.clone());
        }
        let mut listed = other.listed.clone();
        listed.append(&mut self.listed);
        self.listed = listed;
        let mut words = other.words.clone();
        words.append(&mut self.words);
        self.words = words;
    }

    fn candidates(&self, key: &HeaderKey) -> Vec<Candidate> {
        let listed = |k: &str| -> Option<Vec<Candidate>> {
            let found = self.headers.get(k)?;
            Some(
                found
                    .iter()
                    .map(|(m, t)| Candidate {
                        meaning: *m,
                        tier: *t,
                        how: How::Listed,
                    })
                    .collect(),
            )
        };
        if let Some(found) = listed(&key.full).or_else(|| listed(&key.bare)) {
            return found;
        }
        // Cut short: a header that begins listed ones (`检查部门及`).
        let chars = key.full.chars().count();
        if chars >= 2 {
            let found = self.related(|listed: &str, listed_chars| {
                listed_chars > chars && listed.starts_with(key.full.as_str())
            });
            if !found.is_empty() {
                return found
                    .into_iter()
                    .map(|(m, t, shown)| Candidate {
                        meaning: m,
                        tier: t,
                        how: How::Truncated(shown),
                    })
                    .collect();
            }
        }
        // One character away (`抽查比列`): only for headers long enough to tell apart.
        for k in [&key.full, &key.bare] {
            let chars = k.chars().count();
            if chars < 4 {
                continue;
            }
            // One edit changes the length by one at most.
            let found = self.related(|listed: &str, listed_chars| {
                listed_chars >= 4 && listed_chars.abs_diff(chars) <= 1 && one_edit_apart(k, listed)
            });
            if !found.is_empty() {
                return found
                    .into_iter()
                    .map(|(m, t, shown)| Candidate {
                        meaning: m,
                        tier: t,
                        how: How::Typo(shown),
                    })
                    .collect();
            }
        }
        for (word, meaning) in &self.words {
            if key.full.contains(word.as_str()) {
                return vec![Candidate {
                    meaning: *meaning,
                    tier: WORD_TIER,
                    how: How::Word(word.clone()),
                }];
            }
        }
        Vec::new()
    }

    /// The meanings of the listed headers that `close` accepts, one per meaning, with
    /// the header that gave it.
    fn related(&self, close: impl Fn(&str, usize) -> bool) -> Vec<(Meaning, u8, String)> {
        let mut out: Vec<(Meaning, u8, String)> = Vec::new();
        for (shown, key, chars) in &self.listed {
            if !close(key, *chars) {
                continue;
            }
            for (m, t) in self.headers.get(key).into_iter().flatten() {
                match out.iter_mut().find(|(om, _, _)| om == m) {
                    Some(entry) if entry.1 > *t => *entry = (*m, *t, shown.clone()),
                    Some(_) => {}
                    None => out.push((*m, *t, shown.clone())),
                }
            }
        }
        out
    }
}

impl Vocabulary {
    /// Reads a vocabulary file; problems are positioned in it.
    pub fn parse(source: &Arc<SourceFile>) -> Result<Vocabulary, Vec<LoadError>> {
        let trees = crate::parse::yaml::load(source).map_err(|e| vec![e])?;
        let Some(tree) = trees.first() else {
            return Ok(Vocabulary::default());
        };
        let mut errors = Vec::new();
        let mut vocabulary = Vocabulary::default();
        if !matches!(tree.root_node().value, Value::Map(_)) {
            return Err(vec![error(
                tree.root_node().span,
                "a vocabulary is a mapping (kind: Vocabulary, plan, item_list, values, titles, records)".into(),
                "词表应为映射（kind: Vocabulary、plan、item_list、values、titles、records）".into(),
            )]);
        }
        for (key, value) in map_entries(tree, tree.root) {
            match key.as_str() {
                "kind" => {
                    if tree.str_at(tree.root, "kind") != Some("Vocabulary") {
                        errors.push(error(
                            tree.node(value).span,
                            "expected `kind: Vocabulary`".into(),
                            "应为 `kind: Vocabulary`".into(),
                        ));
                    }
                }
                "plan" => vocabulary.plan = Words::parse(tree, value, Section::Plan, &mut errors),
                "item_list" => {
                    vocabulary.item_list = Words::parse(tree, value, Section::ItemList, &mut errors)
                }
                "values" => {
                    for (name, patterns) in map_entries(tree, value) {
                        let mut compiled = Vec::new();
                        for p in strings(tree, patterns, &mut errors) {
                            match Regex::new(&p) {
                                Ok(re) => compiled.push(re),
                                Err(e) => errors.push(error(
                                    tree.node(patterns).span,
                                    format!("`{p}` is not a regular expression: {e}"),
                                    format!("`{p}` 不是正则表达式：{e}"),
                                )),
                            }
                        }
                        if Meaning::parse(&name).is_none() {
                            let node = tree.node(patterns);
                            errors.push(error(
                                node.key_span.unwrap_or(node.span),
                                format!("`{name}` is not a meaning"),
                                format!("`{name}` 不是列含义"),
                            ));
                        }
                        vocabulary.values.insert(name, compiled);
                    }
                }
                "titles" => {
                    for (name, words) in map_entries(tree, value) {
                        let list = strings(tree, words, &mut errors);
                        let slot = match name.as_str() {
                            "item_list" => &mut vocabulary.titles.item_list,
                            "plan" => &mut vocabulary.titles.plan,
                            "joint" => &mut vocabulary.titles.joint,
                            "not_joint" => &mut vocabulary.titles.not_joint,
                            other => {
                                let node = tree.node(words);
                                errors.push(error(
                                    node.key_span.unwrap_or(node.span),
                                    format!("unknown title words `{other}` (item_list, plan, joint, not_joint)"),
                                    format!("未知的标题词类 `{other}`（可用：item_list、plan、joint、not_joint）"),
                                ));
                                continue;
                            }
                        };
                        slot.extend(list);
                    }
                }
                "records" => {
                    for (id, names) in map_entries(tree, value) {
                        let list = strings(tree, names, &mut errors);
                        vocabulary.records.push((id, list));
                    }
                }
                other => {
                    let node = tree.node(value);
                    errors.push(error(
                        node.key_span.unwrap_or(node.span),
                        format!("unknown key `{other}` (kind, plan, item_list, values, titles, records)"),
                        format!("未知的键 `{other}`（可用：kind、plan、item_list、values、titles、records）"),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(vocabulary)
        } else {
            Err(errors)
        }
    }

    /// The shipped vocabulary: its file, and the meanings' own names as headers
    /// (`task`, `items`, `ratio`, …, `No.`), for tables headed in English.
    fn shipped_with_names(mut self) -> Vocabulary {
        for (section, words) in [
            (Section::Plan, &mut self.plan),
            (Section::ItemList, &mut self.item_list),
        ] {
            for (name, meaning) in MEANINGS.iter().chain(ALIASES) {
                let key = header_key(name).full;
                if section.has(*meaning) && !words.headers.contains_key(&key) {
                    words.add(name, *meaning, 0);
                }
            }
            let number = match section {
                Section::Plan => Meaning::Row,
                Section::ItemList => Meaning::ItemId,
            };
            for name in ["no", "number", "item", "object", "name"] {
                let meaning = match name {
                    "item" => match section {
                        Section::Plan => Meaning::Items,
                        Section::ItemList => Meaning::ItemName,
                    },
                    "name" => match section {
                        Section::Plan => Meaning::Task,
                        Section::ItemList => Meaning::ItemName,
                    },
                    "object" => Meaning::Objects,
                    _ => number,
                };
                if !words.headers.contains_key(name) {
                    words.add(name, meaning, 0);
                }
            }
        }
        self
    }

    /// This vocabulary with `other`'s words first: its headers take their meanings
    /// from `other`, its words and title words are tried first.
    pub fn extended(&self, other: &Vocabulary) -> Vocabulary {
        let mut out = self.clone();
        out.plan.extend(&other.plan);
        out.item_list.extend(&other.item_list);
        for (name, patterns) in &other.values {
            out.values
                .entry(name.clone())
                .or_default()
                .extend(patterns.iter().cloned());
        }
        let prepend = |mine: &mut Vec<String>, theirs: &[String]| {
            let mut list = theirs.to_vec();
            list.append(mine);
            *mine = list;
        };
        prepend(&mut out.titles.item_list, &other.titles.item_list);
        prepend(&mut out.titles.plan, &other.titles.plan);
        prepend(&mut out.titles.joint, &other.titles.joint);
        prepend(&mut out.titles.not_joint, &other.titles.not_joint);
        let mut records = other.records.clone();
        records.extend(self.records.iter().cloned());
        out.records = records;
        out
    }

    fn words(&self, section: Section) -> &Words {
        match section {
            Section::Plan => &self.plan,
            Section::ItemList => &self.item_list,
        }
    }

    /// The meanings a header may have in a table of `section`, strongest reading first:
    /// listed, cut short, one character away, or by a word it holds.
    pub fn candidates(&self, section: Section, header: &str) -> Vec<Candidate> {
        self.words(section).candidates(&header_key(header))
    }

    /// Whether a header is listed (exactly, after normalising) for either kind of
    /// published table: how a header row is told from title rows.
    pub fn knows(&self, header: &str) -> bool {
        let key = header_key(header);
        [&self.plan, &self.item_list]
            .iter()
            .any(|w| w.headers.contains_key(&key.full) || w.headers.contains_key(&key.bare))
    }

    /// The share of `cells` that look like cells of `meaning`; None when the vocabulary
    /// has no patterns for it.
    pub fn value_share(&self, meaning: Meaning, cells: &[&str]) -> Option<f64> {
        let patterns = self.values.get(meaning.name())?;
        let cells: Vec<&str> = cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        if patterns.is_empty() || cells.is_empty() {
            return Some(0.0);
        }
        let hits = cells
            .iter()
            .filter(|c| patterns.iter().any(|p| p.is_match(c)))
            .count();
        Some(hits as f64 / cells.len() as f64)
    }
}

/// Whether `a` becomes `b` by exactly one edit: a character changed, added or removed,
/// or two neighbours swapped (Damerau–Levenshtein distance 1). Linear and without a
/// table: every cell of a table's first rows is compared with every listed header.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.chars(), b.chars());
    // Past the common start, the rest decides.
    loop {
        let (x, y) = (a.clone().next(), b.clone().next());
        match (x, y) {
            (Some(x), Some(y)) if x == y => {
                a.next();
                b.next();
            }
            (None, None) => return false,
            _ => break,
        }
    }
    let rest = |mut a: std::str::Chars, mut b: std::str::Chars, skip_a: usize, skip_b: usize| {
        for _ in 0..skip_a {
            a.next();
        }
        for _ in 0..skip_b {
            b.next();
        }
        a.eq(b)
    };
    let swapped = {
        let (mut a2, mut b2) = (a.clone(), b.clone());
        match (a2.next(), a2.next(), b2.next(), b2.next()) {
            (Some(a0), Some(a1), Some(b0), Some(b1)) => a0 == b1 && a1 == b0 && a2.eq(b2),
            _ => false,
        }
    };
    swapped
        || rest(a.clone(), b.clone(), 1, 1)
        || rest(a.clone(), b.clone(), 1, 0)
        || rest(a, b, 0, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_apart_agrees_with_damerau_levenshtein() {
        let words = [
            "抽查比例",
            "抽查比列",
            "抽比例查",
            "抽查比例例",
            "查比例",
            "抽查",
            "检查对象",
            "检查对像",
            "abcd",
            "abdc",
            "bacd",
            "abcde",
            "abc",
            "xbcd",
            "abcx",
            "aabcd",
            "",
            "a",
            "ab",
            "ba",
            "抽查事项名称",
            "抽查事项名",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    one_edit_apart(a, b),
                    strsim::damerau_levenshtein(a, b) == 1,
                    "{a} / {b}"
                );
            }
        }
    }

    fn meanings(section: Section, header: &str) -> Vec<(&'static str, u8)> {
        shipped()
            .candidates(section, header)
            .iter()
            .map(|c| (c.meaning.name(), c.tier))
            .collect()
    }

    #[test]
    fn the_shipped_vocabulary_reads() {
        let source = SourceFile::from_text(SHIPPED_PATH, SHIPPED);
        let v = Vocabulary::parse(&source).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(v.plan.headers.len() > 100);
        assert!(v.item_list.headers.len() > 50);
        assert!(!v.records.is_empty());
        assert!(v.values.contains_key("level"));
    }

    #[test]
    fn headers_are_normalised() {
        assert_eq!(header_key("抽查\n比例").full, "抽查比例");
        assert_eq!(header_key(" 任务 名称 ").full, "任务名称");
        assert_eq!(header_key("抽查比例（或户数）").bare, "抽查比例");
        assert_eq!(header_key("抽查比例(或户数)").full, "抽查比例或户数");
        assert_eq!(header_key("抽查比例/户数").full, "抽查比例户数");
        assert_eq!(header_key("【抽查事项】").full, "抽查事项");
        assert_eq!(header_key("抽　查　事　项：").full, "抽查事项");
        assert_eq!(header_key("(备注)").bare, "备注");
        for header in [
            "抽查比例",
            "抽查\n比例",
            "抽 查 比 例",
            "抽查比例（%）",
            "抽查比例(%)",
            "抽查比例：",
            "＊抽查比例",
        ] {
            assert_eq!(meanings(Section::Plan, header), [("ratio", 0)], "{header}");
        }
    }

    #[test]
    fn typos_cuts_and_words() {
        let c = shipped().candidates(Section::Plan, "抽查比列");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].meaning, Meaning::Ratio);
        assert_eq!(c[0].how, How::Typo("抽查比例".into()));
        let c = shipped().candidates(Section::ItemList, "检查部门及");
        assert_eq!(c[0].meaning, Meaning::Level);
        assert!(matches!(c[0].how, How::Truncated(_)));
        // A cut that could be several meanings gives them all.
        let c = shipped().candidates(Section::ItemList, "事项");
        assert!(c.iter().any(|c| c.meaning == Meaning::Category));
        assert!(c.iter().any(|c| c.meaning == Meaning::ItemName));
        let c = shipped().candidates(Section::Plan, "本年度随机抽查工作时间");
        assert_eq!(c[0].meaning, Meaning::Period);
        assert_eq!(c[0].tier, WORD_TIER);
        assert!(shipped().candidates(Section::Plan, "填表人").is_empty());
        // The meanings' own names head tables in English.
        assert_eq!(
            shipped().candidates(Section::Plan, "Ratio")[0].meaning,
            Meaning::Ratio
        );
        assert_eq!(
            shipped().candidates(Section::Plan, "No.")[0].meaning,
            Meaning::Row
        );
        assert_eq!(
            shipped().candidates(Section::ItemList, "Name")[0].meaning,
            Meaning::ItemName
        );
    }

    #[test]
    fn headers_listed_under_several_meanings() {
        let m = meanings(Section::Plan, "检查主体");
        assert!(
            m.contains(&("lead", 1)) && m.contains(&("level", 0)),
            "{m:?}"
        );
        let v = shipped();
        assert_eq!(
            v.value_share(
                Meaning::Level,
                &["市、区生态环境部门", "各区县市场监管部门"]
            ),
            Some(1.0)
        );
        assert_eq!(
            v.value_share(
                Meaning::Level,
                &["莱阳市自然资源和规划局", "上高县市场监督管理局"]
            ),
            Some(0.0)
        );
        assert_eq!(v.value_share(Meaning::Task, &["x"]), None);
    }

    #[test]
    fn extensions_take_precedence() {
        let ours = SourceFile::from_text(
            "ours.yaml",
            "kind: Vocabulary\nplan:\n  headers:\n    note: [抽查比例]\n    lead: [[主责单位]]\n  words:\n    - [责任, lead]\n",
        );
        let ours = Vocabulary::parse(&ours).unwrap();
        let v = shipped().extended(&ours);
        assert_eq!(
            v.candidates(Section::Plan, "抽查比例")[0].meaning,
            Meaning::Note
        );
        assert_eq!(
            v.candidates(Section::Plan, "主责单位")[0].meaning,
            Meaning::Lead
        );
        assert_eq!(
            v.candidates(Section::Plan, "检查责任人")[0].meaning,
            Meaning::Lead
        );
        let bad = SourceFile::from_text(
            "bad.yaml",
            "kind: Vocabulary\nplan:\n  headers:\n    rato: [x]\n  wrds: []\nvalues: {level: ['(']}\n",
        );
        let errors = Vocabulary::parse(&bad).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].en.contains("did you mean `ratio`"),
            "{}",
            errors[0].en
        );
    }
}
