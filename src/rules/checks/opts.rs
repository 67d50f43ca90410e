//! Reading a check's options from the policy: each option is typed and checked when the
//! policy loads, with its range; `$name` takes the rule's parameter `name` (so that
//! `overrides` can change it), and an error points where the value is written — in the
//! rule, or in the policy that overrides it.

use std::sync::Arc;

use crate::diag::{Diagnostic, Origin, Text};
use crate::parse::tree::{NodeId, NodeRef, Tree, Value};
use crate::policy::{Each, Rule};
use crate::schema::{self, KindSchema, Ty};

use super::path::Path;

/// A check's options, read one by one; unknown ones are errors when done.
pub struct Opts<'r> {
    pub rule: &'r Rule,
    /// The check's name, for messages.
    pub check: &'static str,
    at: NodeRef,
    /// The kinds the check runs on, and on what (paths are checked against them).
    pub kinds: Vec<&'static KindSchema>,
    pub each: Each,
    errors: &'r mut Vec<Diagnostic>,
    read: Vec<&'static str>,
    failed: bool,
    /// Memo slots of index entries given out so far in the policy.
    memo_slots: &'r mut usize,
}

/// Where an option's value is written: the option itself, or the parameter it names.
pub struct Arg {
    pub at: NodeRef,
    /// The parameter it names (`$name`).
    pub param: Option<String>,
}

impl Arg {
    pub fn value(&self) -> &Value {
        &self.at.tree.node(self.at.id).value
    }

    /// `` `option` `` or `` `option` (parameter `name`) ``, for messages.
    fn shown(&self, option: &str) -> (String, String) {
        match &self.param {
            Some(p) => (
                format!("`{option}`（参数 `{p}`）"),
                format!("`{option}` (parameter `{p}`)"),
            ),
            None => (format!("`{option}`"), format!("`{option}`")),
        }
    }
}

impl<'r> Opts<'r> {
    pub fn new(
        rule: &'r Rule,
        check: &'static str,
        at: NodeRef,
        (kinds, each): (Vec<&'static KindSchema>, Each),
        (errors, memo_slots): (&'r mut Vec<Diagnostic>, &'r mut usize),
    ) -> Opts<'r> {
        Opts {
            rule,
            check,
            at,
            kinds,
            each,
            errors,
            read: Vec::new(),
            failed: false,
            memo_slots,
        }
    }

    /// A memo slot of index entries for this check, while there are slots left
    /// ([`crate::submission::EntryData::memo`]).
    pub fn memo_slot(&mut self) -> Option<usize> {
        let slot = *self.memo_slots;
        (slot < crate::submission::MEMO_SLOTS).then(|| {
            *self.memo_slots += 1;
            slot
        })
    }

    fn tree(&self) -> &Arc<Tree> {
        &self.at.tree
    }

    /// Whether every option read so far was valid.
    pub fn ok(&self) -> bool {
        !self.failed
    }

    /// The check itself (its key, `deadline:`), for errors about its options together.
    pub fn here(&self) -> NodeRef {
        self.at.clone()
    }

    /// An error at the key naming `at` (an unknown option or test), else at `at`.
    pub fn error_at_key(&mut self, at: &NodeRef, zh: String, en: String) {
        self.failed = true;
        self.errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/check",
            &at.tree.source,
            at.tree.key_or_report_span(at.id),
            Text::new(
                format!("规则 `{}` 的检查 `{}`：{zh}", self.rule.id, self.check),
                format!("rule `{}`, check `{}`: {en}", self.rule.id, self.check),
            ),
        ));
    }

    pub fn error_at(&mut self, at: &NodeRef, zh: String, en: String) {
        self.failed = true;
        self.errors.push(Diagnostic::problem(
            Origin::Tool,
            "policy/check",
            &at.tree.source,
            at.tree.report_span(at.id),
            Text::new(
                format!("规则 `{}` 的检查 `{}`：{zh}", self.rule.id, self.check),
                format!("rule `{}`, check `{}`: {en}", self.rule.id, self.check),
            ),
        ));
    }

    /// The option `name`, as written or through the parameter it names.
    pub fn arg(&mut self, name: &'static str) -> Option<Arg> {
        self.read.push(name);
        let tree = Arc::clone(self.tree());
        let node = tree.get_present(self.at.id, name)?;
        let at = NodeRef {
            tree: Arc::clone(&tree),
            id: node,
        };
        self.resolve(at)
    }

    /// The text of option `name` as written, before `$name` is resolved (for the
    /// values a check gives a meaning of its own, such as `$as_of`).
    pub fn written(&mut self, name: &'static str) -> Option<String> {
        self.read.push(name);
        let tree = Arc::clone(self.tree());
        let node = tree.get_present(self.at.id, name)?;
        tree.text(node).map(str::to_owned)
    }

    /// A value, or the parameter a `$name` text names.
    pub fn resolve(&mut self, at: NodeRef) -> Option<Arg> {
        let name = match &at.tree.node(at.id).value {
            Value::Str(s) if s.starts_with('$') => s[1..].to_owned(),
            _ => return Some(Arg { at, param: None }),
        };
        match self.rule.params.origin.get(&name) {
            Some(origin) => Some(Arg {
                at: origin.clone(),
                param: Some(name),
            }),
            None => {
                let hint =
                    schema::suggest(&name, self.rule.params.values.keys().map(|k| k.as_str()));
                self.error_at(
                    &at,
                    format!("`${name}` 不是本规则的参数（`params`）{hint}"),
                    format!("`${name}` is not a parameter of the rule (`params`){hint}"),
                );
                None
            }
        }
    }

    /// A required option: an error at the check when it is missing.
    pub fn required(&mut self, name: &'static str) -> Option<Arg> {
        let arg = self.arg(name);
        if arg.is_none() && !self.failed {
            let at = self.at.clone();
            self.error_at(
                &at,
                format!("缺少选项 `{name}`"),
                format!("the option `{name}` is missing"),
            );
        }
        arg
    }

    fn wrong(&mut self, arg: &Arg, option: &str, zh: &str, en: &str) {
        let (shown_zh, shown_en) = arg.shown(option);
        let found = arg.value().type_name();
        let at = arg.at.clone();
        self.error_at(
            &at,
            format!("{shown_zh} 应为{zh}，实为 {found}"),
            format!("{shown_en} must be {en}, found {found}"),
        );
    }

    /// A whole number in `range`.
    pub fn int(&mut self, name: &'static str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let arg = self.arg(name)?;
        self.int_of(&arg, name, range)
    }

    pub fn int_of(
        &mut self,
        arg: &Arg,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        match arg.value() {
            Value::Int(i) if range.contains(i) => Some(*i),
            Value::Int(i) => {
                let (zh, en) = arg.shown(name);
                let at = arg.at.clone();
                self.error_at(
                    &at,
                    format!(
                        "{zh} 应在 {} 到 {} 之间，实为 {i}",
                        range.start(),
                        range.end()
                    ),
                    format!(
                        "{en} must be from {} to {}, found {i}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
            _ => {
                self.wrong(
                    arg,
                    name,
                    &format!(" {} 到 {} 之间的整数", range.start(), range.end()),
                    &format!("a whole number from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    /// A number in `range` (a ratio or share).
    pub fn number(
        &mut self,
        name: &'static str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Option<f64> {
        let arg = self.arg(name)?;
        let value = match arg.value() {
            Value::Int(i) => *i as f64,
            Value::Float(x) => *x,
            _ => {
                self.wrong(
                    &arg,
                    name,
                    &format!(" {} 到 {} 之间的数", range.start(), range.end()),
                    &format!("a number from {} to {}", range.start(), range.end()),
                );
                return None;
            }
        };
        if !range.contains(&value) {
            let (zh, en) = arg.shown(name);
            self.error_at(
                &arg.at,
                format!(
                    "{zh} 应在 {} 到 {} 之间，实为 {value}",
                    range.start(),
                    range.end()
                ),
                format!(
                    "{en} must be from {} to {}, found {value}",
                    range.start(),
                    range.end()
                ),
            );
            return None;
        }
        Some(value)
    }

    pub fn bool(&mut self, name: &'static str) -> Option<bool> {
        let arg = self.arg(name)?;
        match arg.value() {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong(&arg, name, " true 或 false", "true or false");
                None
            }
        }
    }

    /// One of `choices`.
    pub fn choice(&mut self, name: &'static str, choices: &[&'static str]) -> Option<&'static str> {
        let arg = self.arg(name)?;
        let found = match arg.value() {
            Value::Str(s) => choices.iter().find(|c| **c == s.as_str()).copied(),
            _ => None,
        };
        if found.is_none() {
            let list = choices.join(", ");
            self.wrong(
                &arg,
                name,
                &format!("以下之一：{list}"),
                &format!("one of {list}"),
            );
        }
        found
    }

    /// A text.
    pub fn text(&mut self, name: &'static str) -> Option<String> {
        let arg = self.arg(name)?;
        match arg.value() {
            Value::Str(s) => Some(s.to_string()),
            _ => {
                self.wrong(&arg, name, "文本", "text");
                None
            }
        }
    }

    /// A list of texts (one text is a list of one).
    pub fn texts(&mut self, name: &'static str) -> Option<Vec<String>> {
        let arg = self.arg(name)?;
        self.texts_of(&arg, name)
    }

    pub fn texts_of(&mut self, arg: &Arg, name: &str) -> Option<Vec<String>> {
        let tree = Arc::clone(&arg.at.tree);
        match &tree.node(arg.at.id).value {
            Value::Str(s) => Some(vec![s.to_string()]),
            Value::Seq(items) => {
                let mut texts = Vec::new();
                for item in items {
                    match &tree.node(*item).value {
                        Value::Str(s) => texts.push(s.to_string()),
                        _ => {
                            self.wrong(arg, name, "文本列表", "a list of texts");
                            return None;
                        }
                    }
                }
                Some(texts)
            }
            _ => {
                self.wrong(arg, name, "文本列表", "a list of texts");
                None
            }
        }
    }

    /// A field path, checked against the schema of the kinds the check runs on.
    pub fn path(&mut self, name: &'static str) -> Option<Path> {
        let arg = self.arg(name)?;
        self.path_of(&arg, name, self.each)
    }

    /// A field path, required.
    pub fn required_path(&mut self, name: &'static str) -> Option<Path> {
        let arg = self.required(name)?;
        self.path_of(&arg, name, self.each)
    }

    /// A path or a list of paths.
    pub fn paths(&mut self, name: &'static str) -> Option<Vec<Path>> {
        let arg = self.arg(name)?;
        let tree = Arc::clone(&arg.at.tree);
        let items: Vec<NodeId> = match &tree.node(arg.at.id).value {
            Value::Seq(items) => items.clone(),
            _ => vec![arg.at.id],
        };
        let mut paths = Vec::new();
        for item in items {
            let one = Arg {
                at: NodeRef {
                    tree: Arc::clone(&tree),
                    id: item,
                },
                param: None,
            };
            paths.push(self.path_of(&one, name, self.each)?);
        }
        Some(paths)
    }

    pub fn path_of(&mut self, arg: &Arg, name: &str, each: Each) -> Option<Path> {
        let Value::Str(text) = arg.value() else {
            self.wrong(
                arg,
                name,
                "字段路径（如 `publication.channel`）",
                "a field path (such as `publication.channel`)",
            );
            return None;
        };
        let text = text.to_string();
        let path = match Path::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                let at = arg.at.clone();
                self.error_at(&at, e.clone(), e);
                return None;
            }
        };
        // The path must exist in every kind the check runs on.
        let kinds = self.kinds.clone();
        for kind in kinds {
            if let Err(e) = path.check(kind, each) {
                let at = arg.at.clone();
                self.error_at(&at, e.clone(), e);
                return None;
            }
        }
        Some(path)
    }

    /// The schema type at a path (of the first kind), for checks that need a date or
    /// a list.
    pub fn ty_of(&self, path: &Path) -> Option<&'static Ty> {
        self.ty_at(path, self.each)
    }

    /// The schema type at a path read on `each`.
    pub fn ty_at(&self, path: &Path, each: Each) -> Option<&'static Ty> {
        let kind = self.kinds.first()?;
        path.check(kind, each).ok().map(|f| &f.ty)
    }

    /// Errors for options that no one read.
    pub fn finish(mut self) -> bool {
        let tree = Arc::clone(self.tree());
        if let Value::Map(entries) = &tree.node(self.at.id).value {
            for (key, value) in entries {
                if !self.read.contains(&key.as_str()) {
                    let hint = schema::suggest(key, self.read.clone().into_iter());
                    self.failed = true;
                    self.errors.push(Diagnostic::problem(
                        Origin::Tool,
                        "policy/check",
                        &tree.source,
                        tree.key_or_report_span(*value),
                        Text::new(
                            format!(
                                "规则 `{}` 的检查 `{}`：未知选项 `{key}`{hint}",
                                self.rule.id, self.check
                            ),
                            format!(
                                "rule `{}`, check `{}`: unknown option `{key}`{hint}",
                                self.rule.id, self.check
                            ),
                        ),
                    ));
                }
            }
        } else {
            let at = self.at.clone();
            self.error_at(
                &at,
                "选项应为映射".into(),
                "the options must be a mapping".into(),
            );
        }
        !self.failed
    }
}
