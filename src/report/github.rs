//! GitHub workflow commands: an annotation per diagnostic.

use super::{inert, uri};
use crate::diag::{Lang, Report, Severity};

pub fn github(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{command} file={},line={},col={},title={}::{}\n",
            property(&uri(&d.file)),
            d.line,
            d.column,
            property(&d.rule),
            data(d.message.get(lang))
        ));
    }
    for n in report.not_kept.iter() {
        out.push_str(&format!(
            "::notice title={}::{}\n",
            property(&n.rule),
            data(n.note().get(lang))
        ));
    }
    out
}

/// Escaping of workflow command data and properties, as the Actions toolkit does,
/// after active characters are written out (an ESC would reach the log as is).
fn data(s: &str) -> String {
    inert::escaped(s, false)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
