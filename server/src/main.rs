//! `mcp-train`: the command line of mcp-train.
//!
//! Raw arguments become validated settings in one place ([`cli::args`]); each subcommand lives in
//! its own module; failures print one line (`error: …`) and exit with a documented code:
//! 0 success, 1 the input is invalid (or a verification failed), 2 usage or I/O error.
//!
//! The server and the file-system layer are the library's (`src/lib.rs`); `mcp-train serve` is
//! a small adapter over them.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug, but the user still deserves one readable line rather than a stack trace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {message}{location} (please report this)");
    }));
    cli::run()
}
