//! `spotlint schema KIND`: the JSON Schema of a document kind, for editors.

use std::io::Write;

use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, clap::Args)]
pub struct Args {
    kind: String,
}

/// JSON Schema of a document kind or of the policy-side formats.
pub fn schema_for(kind: &str) -> Option<serde_json::Value> {
    let schema = match kind {
        "Policy" => &crate::policy::POLICY_SCHEMA,
        "Waivers" => &crate::schema::WAIVERS_SCHEMA,
        "PolicyTest" => &crate::commands::test::TEST_SCHEMA,
        other => crate::schema::kind_schema(other)?,
    };
    Some(crate::schema::json_schema(schema))
}

pub fn main(args: Args, out: &mut dyn Write) -> i32 {
    match schema_for(&args.kind) {
        Some(schema) => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            EXIT_CLEAN
        }
        None => {
            eprintln!("error: no schema for `{}` (Plan, ItemList, ObjectLibrary, PersonnelLibrary, Results, Policy, Waivers, PolicyTest)", args.kind);
            EXIT_ERROR
        }
    }
}
