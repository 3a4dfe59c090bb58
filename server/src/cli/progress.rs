//! Progress on stderr: bars for work of known size, spinners otherwise. Hidden with `--quiet`
//! and whenever stderr is not a terminal, so scripts and logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// A bar counting `len` items, labelled with what is being done.
pub fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target(quiet));
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>10} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A spinner with a running count, for work whose size is not known up front.
pub fn spinner(quiet: bool, what: &str) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target(quiet));
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {human_pos} ({per_sec})") {
        spinner.set_style(style);
    }
    spinner.set_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}
