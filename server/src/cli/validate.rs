//! `mcp-train validate`: the validation report of an export.

use std::process::ExitCode;

use mcp_train_core::export::ValidationReport;

use super::args::ValidateArgs;
use super::input::{display, parse, read_export};
use super::{render, Failure, Outcome};

pub fn run(args: ValidateArgs, quiet: bool) -> Outcome {
    let (bytes, mut options, _) = read_export(&args.export)?;
    if let Some(n) = args.max_examples {
        options.max_examples = n;
    }
    let report = match parse(&bytes, &options, quiet) {
        Ok(parsed) => parsed.report,
        Err(e) => ValidationReport::from_error(&e),
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(Failure::usage)?;
        println!("{text}");
    } else {
        print!("{}", render::report(&display(&args.export.file), &report));
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
