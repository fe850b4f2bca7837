//! A progress bar on stderr when it is a terminal, nothing otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use frametrace::progress::Progress;

/// indicatif behind the library's [`Progress`] trait.
pub struct Bar {
    bar: Mutex<ProgressBar>,
    visible: bool,
}

impl Bar {
    /// A bar that shows only when stderr is a terminal (and TERM is not dumb).
    pub fn for_stderr() -> Bar {
        let visible =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        Bar {
            bar: Mutex::new(ProgressBar::hidden()),
            visible,
        }
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        if !self.visible {
            return;
        }
        let bar = ProgressBar::new(total);
        let style =
            ProgressStyle::with_template("{msg:>9} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(phase.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = bar;
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(b) = self.bar.lock() {
            b.finish_and_clear();
        }
    }
}
