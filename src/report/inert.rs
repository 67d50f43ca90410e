//! Output is inert: text from the submission (values in messages, file names, source
//! lines in snippets) can hold escape sequences, OSC 8 links, carriage returns, bidi
//! overrides or characters XML forbids. None reaches a terminal, a CI log or an XML
//! parser as written.

use std::borrow::Cow;

/// A character that a terminal, a log viewer or a reader's eye would take as more than
/// a character: C0 and C1 controls (tab and line feed aside), DEL, and the bidi
/// controls that reorder what is shown.
pub fn is_active(c: char) -> bool {
    (c < ' ' && c != '\t' && c != '\n')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with each active character written out as `\u{1b}` (and line feeds too,
/// where `one_line`): for messages, names and annotations.
pub fn escaped(text: &str, one_line: bool) -> Cow<'_, str> {
    let active = |c: char| is_active(c) || (one_line && c == '\n');
    if !text.chars().any(active) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if active(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with each active character replaced by a visible one of the same length in
/// bytes (`?`, `¿` or `�`), so that byte offsets into it — the spans of findings —
/// still hold: for the source lines of snippets. A carriage return before a line feed
/// is kept (CRLF files).
pub fn same_length(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let needs = text
        .char_indices()
        .any(|(i, c)| is_active(c) && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n')));
    if !needs {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if is_active(c) && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '¿',
                _ => '\u{fffd}',
            });
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `text` without the characters XML 1.0 cannot hold (most C0 controls, U+FFFE,
/// U+FFFF), written out as `\u{b}` instead.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if bad(c) {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "A\u{1b}[31mred\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}\r\u{202e}cba\u{85}\u{b}";

    #[test]
    fn nothing_active_is_left() {
        let e = escaped(HOSTILE, true);
        assert!(!e.chars().any(is_active), "{e}");
        assert!(
            e.contains("\\u{1b}[31mred") && e.contains("\\u{202e}"),
            "{e}"
        );
        let same = same_length(HOSTILE).expect("changed");
        assert_eq!(same.len(), HOSTILE.len());
        assert!(!same.chars().any(is_active), "{same}");
        assert_eq!(same_length("a\r\nb\tc"), None);
        let x = xml_safe(HOSTILE);
        assert!(x.contains("\\u{b}") && !x.contains('\u{b}'), "{x}");
    }
}
