//! Embeds the shipped policies, rule scripts and calendar into the binary, so that
//! `spotlint check` works wherever it runs; adding a rule needs no Rust change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut table = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for dir in ["policies", "rules"] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files: Vec<_> = walkdir::WalkDir::new(Path::new(&root).join(dir))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                matches!(
                    e.path().extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml" | "rhai" | "md")
                )
            })
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let relative = file
                .strip_prefix(&root)
                .expect("walked under the manifest dir")
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                table,
                "    ({relative:?}, include_str!({:?})),",
                file.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    table.push_str("];\n");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("embedded.rs"), table).expect("OUT_DIR is writable");
}
