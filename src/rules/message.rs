//! Messages of findings: a rule's bilingual templates with `{name}` placeholders,
//! filled from the values a check or script reports, the rule's parameters and the
//! rule's labels, and the placeholders a template uses, for checking them when the
//! policy loads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rhai::{Dynamic, ImmutableString, Map};

use crate::diag::{Lang, Text};
use crate::policy::Labels;

/// The `{name}` placeholders of a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = memchr::memchr(b'{', rest.as_bytes()) {
        let after = &rest[open + 1..];
        let Some(close) = memchr::memchr(b'}', after.as_bytes()) else {
            break;
        };
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    names
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

/// The values a finding reports, by name, in name order: a few each, kept in a list
/// made to size (a map's node is several hundred bytes, and a run may keep a hundred
/// thousand findings).
pub type Values = [(Name, Dynamic)];

/// The key of a [`Map`].
type Name = smartstring::SmartString<smartstring::LazyCompact>;

/// `values` as [`Values`].
pub fn values_of(values: Map) -> Box<Values> {
    values.into_iter().collect()
}

fn value<'v>(values: &'v Values, name: &str) -> Option<&'v Dynamic> {
    values
        .iter()
        .find(|(k, _)| k.as_str() == name)
        .map(|(_, v)| v)
}

/// Both languages of a template, filled.
pub fn fill_text(template: &Text, values: &Values, params: &Map, labels: &Labels) -> Text {
    Text::new(
        fill(&template.zh, values, params, labels, Lang::Zh),
        fill(&template.en, values, params, labels, Lang::En),
    )
}

/// `{name}` → the reported value, else the parameter, else left as written (a policy
/// whose placeholders nothing fills does not load, so this is for scripts' values).
pub fn fill(template: &str, values: &Values, params: &Map, labels: &Labels, lang: Lang) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    // Braces are ASCII: a byte search finds them at character boundaries.
    while let Some(open) = memchr::memchr(b'{', rest.as_bytes()) {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match memchr::memchr(b'}', after.as_bytes()) {
            Some(close) => {
                let name = &after[..close];
                match value(values, name).or_else(|| params.get(name)) {
                    Some(v) => display(&mut out, v, labels.get(name), lang),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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
        assert_eq!(
            fill(
                template,
                &values_of(values.clone()),
                &params,
                &labels,
                Lang::Zh
            ),
            "20 0.5 a、b 企业 原因 — 7 {missing} {"
        );
        assert_eq!(
            fill(template, &values_of(values), &params, &labels, Lang::En),
            "20 0.5 a, b an enterprise reason — 7 {missing} {"
        );
        assert_eq!(placeholders("a {b} c {d.e} {"), ["b", "d.e"]);
    }
}
