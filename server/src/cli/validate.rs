//! `mcp-train validate`: the validation report of an export.

use std::process::ExitCode;

use mcp_train_core::export::{
    parse_export_with_progress, ParsedExport, ValidateOptions, ValidationReport,
};

use super::args::{ExportArgs, ValidateArgs};
use super::input::{display, load_config, read_input};
use super::{progress, render, Failure, Outcome};

/// Reads the file named in `args` with the configured limits.
pub fn read_export(
    args: &ExportArgs,
) -> Result<(Vec<u8>, ValidateOptions, mcp_train_core::config::Config), Failure> {
    let config = load_config(args.config.as_deref())?;
    let mut options = config.training.validation.clone();
    options.drop_invalid |= args.drop_invalid;
    let bytes = read_input(&args.file, config.training.limits.max_export_mb)?;
    Ok((bytes, options, config))
}

/// Parses with a spinner counting records.
pub fn parse<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    quiet: bool,
) -> Result<ParsedExport<'a>, mcp_train_core::export::ExportError> {
    let spinner = progress::spinner(quiet, "reading records");
    let tick = spinner.clone();
    let result = parse_export_with_progress(bytes, options, move |n| tick.set_position(n as u64));
    spinner.finish_and_clear();
    result
}

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
