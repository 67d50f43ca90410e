//! A progress bar on stderr for long runs, shown only where someone watches: stderr is a
//! terminal (never in CI logs, pipes or files), `TERM` is not `dumb`, and
//! `--no-progress` is not given. It never touches standard output, where
//! machine-readable reports go.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diag::Lang;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` steps labelled `label`, drawn only where it is wanted.
    pub fn new(wanted: bool, total: u64, label: &str, lang: Lang) -> Progress {
        Progress::drawn(wanted, total, label, lang, false)
    }

    /// A bar of `total` bytes.
    pub fn bytes(wanted: bool, total: u64, label: &str, lang: Lang) -> Progress {
        Progress::drawn(wanted, total, label, lang, true)
    }

    fn drawn(wanted: bool, total: u64, label: &str, lang: Lang, bytes: bool) -> Progress {
        let attended =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        if !wanted || !attended || total == 0 {
            return Progress { bar: None };
        }
        let done = if bytes {
            "{bytes}/{total_bytes}"
        } else {
            "{pos}/{len}"
        };
        let template = match lang {
            Lang::Zh => {
                format!("{{prefix}} [{{bar:20}}] {done}（{{elapsed_precise}}，约余 {{eta}}）")
            }
            Lang::En => {
                format!("{{prefix}} [{{bar:20}}] {done} ({{elapsed_precise}}, about {{eta}} left)")
            }
        };
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(label.to_owned());
        // Short runs finish before the first frame: no flicker.
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    pub fn advance(&self, steps: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(steps);
        }
    }
}

impl Drop for Progress {
    /// The bar is cleared when the work is done, so the report starts on a clean line.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
