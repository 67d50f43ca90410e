//! Messages of findings: a rule's bilingual templates with `{name}` placeholders,
//! filled from the values a check or script reports, the rule's parameters and the
//! rule's labels, and the placeholders a template uses, for checking them when the
//! policy loads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rhai::{Dynamic, ImmutableString, Map};

use crate::diag::{Lang, Text};
use crate::policy::Labels;

/// A piece of a template: text, or the name of a `{name}` placeholder.
enum Piece<'t> {
    Text(&'t str),
    Name(&'t str),
}

/// A template's texts and placeholders, in order; a `{` with no `}` after it is text.
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    // Braces are ASCII: a byte search finds them at character boundaries.
    while let Some(open) = memchr::memchr(b'{', rest.as_bytes()) {
        let after = &rest[open + 1..];
        let Some(close) = memchr::memchr(b'}', after.as_bytes()) else {
            break;
        };
        pieces.push(Piece::Text(&rest[..open]));
        pieces.push(Piece::Name(&after[..close]));
        rest = &after[close + 1..];
    }
    pieces.push(Piece::Text(rest));
    pieces
}

/// The `{name}` placeholders of a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    pieces(template)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Name(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect()
}

/// The placeholders of both languages of a template, each once, in order.
pub fn placeholders_of(template: &Text) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in placeholders(&template.zh)
        .into_iter()
        .chain(placeholders(&template.en))
    {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The values a finding reports, by name: a few each, kept in a list made to size (a
/// map's node is several hundred bytes, and a run may keep a hundred thousand findings).
pub type Values = [(Name, Dynamic)];

/// The key of a [`Map`].
pub type Name = smartstring::SmartString<smartstring::LazyCompact>;

/// A finding's values as a check gathers them: a list, each name once (a later value
/// replaces an earlier one, as in a map), never a map's node.
#[derive(Debug, Clone, Default)]
pub struct FindingValues(Vec<(Name, Dynamic)>);

impl FindingValues {
    pub fn new() -> FindingValues {
        // Room for what a check and its message's record fields give.
        FindingValues(Vec::with_capacity(8))
    }

    pub fn insert(&mut self, name: Name, value: Dynamic) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, held)) => *held = value,
            None => self.0.push((name, value)),
        }
    }

    /// Keeps the values whose name `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|(name, _)| keep(name));
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n.as_str() == name)
    }

    /// The values as kept with the finding.
    pub fn into_kept(self) -> Box<Values> {
        self.0.into_boxed_slice()
    }
}

impl FromIterator<(Name, Dynamic)> for FindingValues {
    fn from_iter<I: IntoIterator<Item = (Name, Dynamic)>>(values: I) -> FindingValues {
        let mut list = FindingValues::default();
        for (name, value) in values {
            list.insert(name, value);
        }
        list
    }
}

/// Whether a finding's value `name` (`None` without one) is written as the parameter
/// `param` is: the same whole number, text or truth value (anything else, or no
/// parameter, counts as written differently).
pub fn shows_as(values: &Values, name: &str, param: Option<&Dynamic>) -> Option<bool> {
    let v = value(values, name)?;
    let Some(param) = param else {
        return Some(false);
    };
    Some(if let (Ok(a), Ok(b)) = (v.as_int(), param.as_int()) {
        a == b
    } else if let (Some(a), Some(b)) = (
        v.read_lock::<ImmutableString>(),
        param.read_lock::<ImmutableString>(),
    ) {
        *a == *b
    } else if let (Ok(a), Ok(b)) = (v.as_bool(), param.as_bool()) {
        a == b
    } else {
        false
    })
}

fn value<'v>(values: &'v Values, name: &str) -> Option<&'v Dynamic> {
    values
        .iter()
        .find(|(k, _)| k.as_str() == name)
        .map(|(_, v)| v)
}

/// A template split once into its texts and `{name}` placeholders, when the rule is
/// compiled, then filled for each of its findings: a run may make a hundred thousand.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    /// Bytes of its texts and written parameters: the least a filled message holds.
    len: usize,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Placeholder {
        name: String,
        /// The rule's parameter of that name, written once, for findings whose values
        /// do not name it.
        param: Option<String>,
        labels: Option<BTreeMap<String, Text>>,
    },
}

impl Template {
    pub fn new(template: &str, params: &Map, labels: &Labels, lang: Lang) -> Template {
        let parts: Vec<Part> = pieces(template)
            .into_iter()
            .filter_map(|piece| match piece {
                Piece::Text("") => None,
                Piece::Text(text) => Some(Part::Text(text.to_owned())),
                Piece::Name(name) => {
                    let labels = labels.get(name);
                    let param = params.get(name).map(|v| {
                        let mut written = String::new();
                        display(&mut written, v, labels, lang);
                        written
                    });
                    Some(Part::Placeholder {
                        name: name.to_owned(),
                        param,
                        labels: labels.cloned(),
                    })
                }
            })
            .collect();
        let len = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                Part::Placeholder { param, .. } => param.as_ref().map_or(0, String::len),
            })
            .sum();
        Template { parts, len }
    }

    /// `{name}` → the reported value, else the parameter, else left as written (a policy
    /// whose placeholders nothing fills does not load, so this is for scripts' values).
    pub fn fill(&self, values: &Values, lang: Lang) -> String {
        let mut out = String::with_capacity(self.len + 32);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder {
                    name,
                    param,
                    labels,
                } => match (value(values, name), param) {
                    (Some(v), _) => display(&mut out, v, labels.as_ref(), lang),
                    (None, Some(written)) => out.push_str(written),
                    (None, None) => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
}

/// Both languages of a template, split once ([`Template`]).
#[derive(Debug, Clone)]
pub struct TextTemplate {
    zh: Template,
    en: Template,
}

impl TextTemplate {
    pub fn new(template: &Text, params: &Map, labels: &Labels) -> TextTemplate {
        TextTemplate {
            zh: Template::new(&template.zh, params, labels, Lang::Zh),
            en: Template::new(&template.en, params, labels, Lang::En),
        }
    }

    /// Both languages filled ([`Template::fill`]).
    pub fn fill(&self, values: &Values) -> Text {
        Text::new(
            self.zh.fill(values, Lang::Zh),
            self.en.fill(values, Lang::En),
        )
    }
}

/// Writes a value into a message: whole numbers without decimals, lists joined with
/// `、` in Chinese and `, ` in English, texts in the message's language, a labelled value as its label, nothing
/// (`()`) as `—`, text as it is (without a copy; a run may make a hundred thousand
/// messages).
pub fn display(out: &mut String, v: &Dynamic, labels: Option<&BTreeMap<String, Text>>, lang: Lang) {
    // Text first: most values are.
    if let Some(text) = v.read_lock::<ImmutableString>() {
        let label = labels.and_then(|l| l.get(text.as_str()).or_else(|| l.get("_")));
        match label {
            Some(label) => out.push_str(label.get(lang)),
            None => out.push_str(&text),
        }
    } else if let Ok(n) = v.as_int() {
        let _ = write!(out, "{n}");
    } else if v.is_unit() {
        out.push('—');
    } else if v.is_float() {
        let f = v.as_float().unwrap_or_default();
        if (f - f.round()).abs() < 1e-9 {
            let _ = write!(out, "{f:.0}");
        } else {
            let _ = write!(out, "{f}");
        }
    } else if let Some(items) = v.read_lock::<rhai::Array>() {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(match lang {
                    Lang::Zh => "、",
                    Lang::En => ", ",
                });
            }
            display(out, item, labels, lang);
        }
    } else if let Some(text) = v.read_lock::<Text>() {
        out.push_str(text.get(lang));
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A script's map of values as a finding keeps them.
    fn kept_of(values: Map) -> Box<Values> {
        values.into_iter().collect::<FindingValues>().into_kept()
    }

    #[test]
    fn a_findings_values_hold_each_name_once_as_a_map_would() {
        let mut values = FindingValues::new();
        values.insert("a".into(), Dynamic::from_int(1));
        values.insert("b".into(), Dynamic::from_int(2));
        values.insert("a".into(), Dynamic::from_int(3));
        assert!(values.contains_key("b") && !values.contains_key("c"));
        let kept = values.into_kept();
        assert_eq!(kept.len(), 2);
        assert_eq!(value(&kept, "a").and_then(|v| v.as_int().ok()), Some(3));
        let from_map = kept_of(map(&[("a", Dynamic::from_int(3))]));
        assert_eq!(value(&from_map, "a").and_then(|v| v.as_int().ok()), Some(3));
    }

    #[test]
    fn a_value_shows_as_its_parameter_only_when_written_the_same() {
        let text = |s: &str| Dynamic::from(ImmutableString::from(s));
        let values = kept_of(map(&[
            ("min", Dynamic::from_int(2)),
            ("who", text("enterprise")),
            ("ratio", Dynamic::from_float(2.0)),
        ]));
        let two = Dynamic::from_int(2);
        assert_eq!(shows_as(&values, "min", Some(&two)), Some(true));
        assert_eq!(
            shows_as(&values, "min", Some(&Dynamic::from_int(3))),
            Some(false)
        );
        assert_eq!(
            shows_as(&values, "who", Some(&text("enterprise"))),
            Some(true)
        );
        assert_eq!(
            shows_as(&values, "who", Some(&text("individual"))),
            Some(false)
        );
        // Written alike, but not the same kind of value: written out again.
        assert_eq!(shows_as(&values, "ratio", Some(&two)), Some(false));
        assert_eq!(shows_as(&values, "min", None), Some(false));
        assert_eq!(shows_as(&values, "max", Some(&two)), None);
    }

    fn map(entries: &[(&str, Dynamic)]) -> Map {
        entries
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn values_params_labels_and_languages() {
        let values = map(&[
            ("n", Dynamic::from_float(20.0)),
            ("x", Dynamic::from_float(0.5)),
            ("list", Dynamic::from_array(vec!["a".into(), "b".into()])),
            ("who", Dynamic::from(ImmutableString::from("enterprise"))),
            ("why", Dynamic::from(Text::new("原因", "reason"))),
            ("none", Dynamic::UNIT),
        ]);
        let params = map(&[("n", Dynamic::from_int(1)), ("p", Dynamic::from_int(7))]);
        let mut labels = Labels::new();
        labels.insert(
            "who".into(),
            [("enterprise".to_owned(), Text::new("企业", "an enterprise"))].into(),
        );
        let template = "{n} {x} {list} {who} {why} {none} {p} {missing} {";
        let values = kept_of(values);
        let filled = |lang| Template::new(template, &params, &labels, lang).fill(&values, lang);
        assert_eq!(filled(Lang::Zh), "20 0.5 a、b 企业 原因 — 7 {missing} {");
        assert_eq!(
            filled(Lang::En),
            "20 0.5 a, b an enterprise reason — 7 {missing} {"
        );
        assert_eq!(placeholders("a {b} c {d.e} {"), ["b", "d.e"]);
    }

    #[test]
    fn placeholders_take_values_then_parameters_and_odd_braces_stay_as_written() {
        let values = kept_of(map(&[
            ("n", Dynamic::from_int(3)),
            ("who", Dynamic::from(ImmutableString::from("enterprise"))),
        ]));
        let params = map(&[
            ("n", Dynamic::from_int(1)),
            ("p", Dynamic::from_float(0.8)),
            ("kind", Dynamic::from(ImmutableString::from("enterprise"))),
        ]);
        let mut labels = Labels::new();
        for name in ["who", "kind"] {
            labels.insert(
                name.into(),
                [("enterprise".to_owned(), Text::new("企业", "an enterprise"))].into(),
            );
        }
        // (template, filled with the values, filled with none: parameters alone)
        let cases = [
            ("", "", ""),
            ("plain", "plain", "plain"),
            ("{n}{p}{n}", "30.83", "10.81"),
            ("{who}/{kind}", "企业/企业", "{who}/企业"),
            ("{ {n} }", "{ {n} }", "{ {n} }"),
            ("{unclosed {n}", "{unclosed {n}", "{unclosed {n}"),
            ("tail {", "tail {", "tail {"),
            ("}{n}{", "}3{", "}1{"),
            ("{}", "{}", "{}"),
        ];
        for (template, with_values, with_params) in cases {
            let filled = Template::new(template, &params, &labels, Lang::Zh);
            assert_eq!(filled.fill(&values, Lang::Zh), with_values, "{template:?}");
            assert_eq!(filled.fill(&[], Lang::Zh), with_params, "{template:?}");
        }
        let both = TextTemplate::new(&Text::new("{who}", "{kind} {n}"), &params, &labels);
        assert_eq!(both.fill(&values), Text::new("企业", "an enterprise 3"));
    }
}
