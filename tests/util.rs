//! Helpers: run the real binary from the project root, and temporary input folders.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `spotlint ARGS` in `dir` with colour off.
pub fn spotlint_in(dir: &Path, args: &[&str]) -> Output {
    spotlint_env(dir, args, &[])
}

pub fn spotlint(args: &[&str]) -> Output {
    spotlint_in(&root(), args)
}

/// A fresh folder holding the given files.
pub fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, content).expect("write");
    }
    dir
}

/// `spotlint check --format json` parsed.
pub fn check_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["check", ".", "--format", "json", "--as-of", "2024-12-31"];
    args.extend_from_slice(extra);
    let out = spotlint_in(dir, &args);
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {out:?}"));
    (out.code, json)
}

/// (rule, file, line, column) of every diagnostic.
pub fn positions(json: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics is a list")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["file"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// `spotlint ARGS` in `dir` with `stdin` as its standard input.
pub fn spotlint_fed(dir: &Path, args: &[&str], stdin: std::process::Stdio) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_spotlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(stdin)
        .output()
        .expect("the spotlint binary runs");
    Output::from(out)
}

/// `spotlint ARGS` in `dir` with environment variables `env`.
pub fn spotlint_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_spotlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the spotlint binary runs");
    Output::from(out)
}

/// `spotlint ARGS` in `dir` with its address space limited to `bytes` (a bound on
/// all the memory it maps, so on its peak resident memory too): a run that needs more
/// fails to allocate and is killed, which the exit code shows.
#[cfg(target_os = "linux")]
pub fn spotlint_bounded(dir: &Path, args: &[&str], bytes: u64) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotlint"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let out = command.output().expect("the spotlint binary runs");
    Output::from(out)
}
