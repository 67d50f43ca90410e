//! `uscc`: a unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! ## What it checks
//! The value of `field`, when given, must be 18 characters of the code's alphabet
//! with a valid registration-authority character, a six-digit administrative division
//! and the right check character. With `library_ids: skip`, a value that names a
//! library object by its id (not by its code) is not a code and is not checked; the
//! library is consulted only for a value that fails.
//!
//! ## Options
//! - `field`: the code's path.
//! - `library_ids`: `check` (default) or `skip`.
//!
//! ## Values for messages
//! `{code}` and `{reason}` (what is wrong, in the message's language).
//!
//! ## Example
//! ```yaml
//! check:
//!   uscc: {field: uscc}
//! ```

use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use crate::diag::Text;
use crate::parse::tree::ValueRef;
use crate::policy::Each;
use crate::read::record::Rec;
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};

#[derive(Debug, Clone)]
pub struct Uscc {
    field: Path,
    skip_library_ids: bool,
}

impl Uscc {
    pub fn parse(o: &mut Opts) -> Option<Uscc> {
        let field = o.required_path("field")?;
        let skip_library_ids = o.choice("library_ids", &["check", "skip"]) == Some("skip");
        Some(Uscc {
            field,
            skip_library_ids,
        })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        vec![Provided {
            key: message.to_owned(),
            values: Some(vec!["code".into(), "reason".into()]),
            each,
        }]
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let Some(ValueRef::Str(code)) = self.field.value(rec, cx) else {
            return;
        };
        let Err(problem) = crate::domain::uscc::check(code) else {
            return;
        };
        // Looked up only for a code that fails: a look-up in a large library misses
        // the cache, and most codes are valid.
        if self.skip_library_ids {
            if let Some(known) = cx.submission.objects.get(code) {
                if !known.uscc_is_key() {
                    return;
                }
            }
        }
        if !rule.keeps(out, &rec) {
            return;
        }
        let mut values = FindingValues::new();
        values.insert("code".into(), Dynamic::from(ImmutableString::from(code)));
        values.insert(
            "reason".into(),
            Dynamic::from(Text::new(problem.zh(), problem.to_string())),
        );
        let field = self.field.field().unwrap_or_default();
        rule.report_kept(out, cx, &rec, field, message, values);
    }
}
