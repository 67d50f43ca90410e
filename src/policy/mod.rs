//! Policies: YAML files that declare rules (id, bilingual title, clause and quote,
//! severity, parameters, messages, and the rule's logic: declarative checks or a Rhai
//! script), composed through `extends:`, and loaded with positioned errors for policy
//! staff. The shipped policies are embedded.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map};

use crate::diag::{Cite, Severity, Text};
use crate::domain::calendar::Calendar;
use crate::parse::source::SourceFile;
use crate::parse::tree::NodeRef;

mod load;
pub mod spec;

pub use load::{load, override_params, to_dynamic};
pub use spec::POLICY_SCHEMA;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The policy used when none is named.
pub const DEFAULT_POLICY: &str = "policies/wuhan-2024.yaml";

/// Where policy files are read from: the embedded copies, the disk, or files held in
/// memory (path, text), as tests and fuzz targets give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store<'a> {
    Embedded,
    Disk,
    Memory(&'a [(&'a str, &'a str)]),
}

impl Store<'_> {
    pub fn read(self, path: &Path) -> Result<String, String> {
        match self {
            Store::Memory(files) => {
                let wanted = normalise(path);
                files
                    .iter()
                    .find(|(name, _)| normalise(Path::new(name)) == wanted)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or_else(|| format!("no file {}", wanted.display()))
            }
            Store::Embedded => {
                let wanted = normalise(path);
                embedded::FILES
                    .iter()
                    .find(|(name, _)| Path::new(name) == wanted)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or_else(|| format!("no shipped file {}", wanted.display()))
            }
            Store::Disk => {
                let bytes = read_regular(path, MAX_POLICY_FILE_BYTES)?;
                String::from_utf8(bytes).map_err(|_| "policy files must be UTF-8".to_owned())
            }
        }
    }

    /// Shipped file names, for `rules` listings and tests.
    pub fn embedded_names() -> impl Iterator<Item = &'static str> {
        embedded::FILES.iter().map(|(name, _)| *name)
    }
}

/// The largest policy, script, calendar or vocabulary file read.
pub const MAX_POLICY_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A regular file's bytes, at most `limit` of them: a device (`/dev/zero`), a pipe or
/// a larger file is refused before it is read.
fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let too_large = || format!("larger than {} MiB", limit >> 20);
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| e.to_string())?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// `a/b/../c` → `a/c`, without touching the file system.
pub(crate) fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// How values are shown in messages: a rule's `labels`, placeholder → value → text
/// (`entity_type: {enterprise: {zh: 企业, en: an enterprise}}`); `_` labels any other
/// value.
pub type Labels = BTreeMap<String, BTreeMap<String, Text>>;

/// What a rule is run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Each {
    /// Every record of each document of the rule's kinds.
    Record,
    /// Each document once.
    Document,
    /// Each (department, year) submission once.
    Submission,
}

impl Each {
    pub fn as_str(self) -> &'static str {
        match self {
            Each::Record => "record",
            Each::Document => "document",
            Each::Submission => "submission",
        }
    }
}

/// Where a rule's logic is: declarative checks in the policy, or a Rhai script.
#[derive(Debug, Clone)]
pub enum Logic {
    /// `check:` (one check) or `checks:` (a list), as written in the policy.
    Checks(NodeRef),
    /// `script:`: the file, as shown in messages, and its text.
    Script {
        path: String,
        source: Arc<SourceFile>,
    },
}

/// A rule's parameters: their values, and where each was last set (its default in the
/// rule, or an override), for errors about them.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub values: Map,
    pub origin: BTreeMap<String, NodeRef>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Dynamic> {
        self.values.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// The policy that declared the rule.
    pub policy: String,
    pub title: Text,
    /// The document the clause is in (its 文号 or title).
    pub source: String,
    pub clause: String,
    pub quote: String,
    pub severity: Severity,
    pub on: Vec<&'static str>,
    pub each: Each,
    pub params: Params,
    pub messages: BTreeMap<String, Text>,
    /// Where each message is written, for errors about its placeholders.
    pub message_nodes: BTreeMap<String, NodeRef>,
    pub help: Text,
    /// How values are shown in messages.
    pub labels: Labels,
    /// Name of the compliance figure the rule reports, if any.
    pub figure: Option<Text>,
    pub logic: Logic,
    /// Documentation: the policy entry's `doc:`, or the script's `//!` header.
    pub doc: String,
    /// The rule's entry in its policy file.
    pub node: NodeRef,
    /// The texts above as its findings cite them.
    pub cite: Arc<Cite>,
}

impl Rule {
    /// The script's file, for a script rule.
    pub fn script(&self) -> Option<(&str, &Arc<SourceFile>)> {
        match &self.logic {
            Logic::Script { path, source } => Some((path, source)),
            Logic::Checks(_) => None,
        }
    }
}

#[derive(Debug)]
pub struct Policy {
    pub id: String,
    pub title: Text,
    /// The notice the policy enforces.
    pub source: String,
    /// Short citation (文号) of the notice.
    pub notice: String,
    pub path: String,
    pub chain: Vec<String>,
    pub effective: Option<(String, String)>,
    pub rules: Vec<Rule>,
    pub calendar: Arc<Calendar>,
    pub calendar_path: String,
    pub waivers: WaiverPolicy,
    /// The header vocabulary tables are read with, when the policy (or one it
    /// extends) names one: the shipped vocabulary with the policy's words first.
    pub vocabulary: Option<Arc<crate::read::table::Vocabulary>>,
}

/// What the policy allows of waivers (`waivers:`).
#[derive(Debug, Clone, Default)]
pub struct WaiverPolicy {
    /// Apply waiver files found among the checked files.
    pub beside_submission: bool,
    /// Texts one of which a waiver's `approved_by` must contain; none: anyone.
    pub approvers: Vec<String>,
    /// Longest validity in days from the evaluation date.
    pub max_days: Option<i64>,
    /// A waiver may cover a whole rule (else it must name its target).
    pub whole_rule: bool,
}

impl Policy {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        let bare = id.rsplit('/').next().unwrap_or(id);
        self.rules.iter().find(|r| r.id == bare)
    }
}

/// Parameter values as text for `explain` and listings.
pub fn param_text(value: &Dynamic) -> String {
    if value.is_float() {
        let f = value.as_float().unwrap_or_default();
        format!("{f}")
    } else if let Some(s) = value.clone().try_cast::<ImmutableString>() {
        s.to_string()
    } else {
        value.to_string()
    }
}

/// The `//!` header of a script: the rule's documentation.
pub fn doc_header(script: &str) -> String {
    script
        .lines()
        .take_while(|l| l.trim_start().starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}
