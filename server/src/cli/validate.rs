//! `mcp-train validate` and `mcp-train import`: a log of any log type read and checked — an
//! export against its log type's log schema, raw log text by its agent.

use std::process::ExitCode;

use mcp_train::fs::config_dir::load_log_schema;
use mcp_train_core::export::{ValidateOptions, ValidationReport};
use mcp_train_core::pipeline::{validate_log, write_export_of, TrainError, ValidatedLog};

use super::args::{ExportArgs, ImportArgs, ValidateArgs};
use super::input::{display, parse_context, read_export, Output};
use super::{progress, render, Failure, Outcome};

/// Reads the log named in `args` as `log_type` (or its recognised type), the log schema coming
/// from `--config DIR` or the built-in ones. `Ok(Err(report))`: the log cannot be read at all.
fn read_log<'a>(
    bytes: &'a [u8],
    args: &ExportArgs,
    options: &ValidateOptions,
    log_type: Option<&str>,
    quiet: bool,
) -> Result<Result<ValidatedLog<'a>, ValidationReport>, Failure> {
    let mut schema_error = None;
    let spinner = progress::spinner(quiet, "reading records");
    let result = validate_log(
        bytes,
        log_type,
        &parse_context(&args.file),
        options,
        &mut |t| match load_log_schema(args.config.as_deref(), t) {
            Ok(schema) => Some(schema),
            Err(e) => {
                schema_error = Some(e);
                None
            }
        },
    );
    spinner.finish_and_clear();
    if let Some(e) = schema_error {
        return Err(Failure::from(e));
    }
    match result {
        Ok(log) => Ok(Ok(log)),
        Err(TrainError::Export(e)) => Ok(Err(ValidationReport::from_error(&e))),
        Err(e) => Err(Failure::usage(e)),
    }
}

pub fn run(args: ValidateArgs, quiet: bool) -> Outcome {
    let (bytes, mut options, _) = read_export(&args.export)?;
    if let Some(n) = args.max_examples {
        options.max_examples = n;
    }
    let read = read_log(
        &bytes,
        &args.export,
        &options,
        args.log_type.as_deref(),
        quiet,
    )?;
    let (log_type, report) = match read {
        Ok(log) => (Some(log.log_type), log.parsed.report),
        Err(report) => (args.log_type.clone(), report),
    };
    if args.json {
        let mut value = serde_json::to_value(&report).map_err(Failure::usage)?;
        if let (Some(object), Some(t)) = (value.as_object_mut(), &log_type) {
            object.insert("log_type".into(), t.clone().into());
        }
        let text = serde_json::to_string_pretty(&value).map_err(Failure::usage)?;
        println!("{text}");
    } else {
        if let Some(t) = &log_type {
            println!("log type: {t}");
        }
        print!("{}", render::report(&display(&args.export.file), &report));
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `mcp-train import`: the export of a raw log, for tools that take exports.
pub fn import(args: ImportArgs, quiet: bool) -> Outcome {
    let (bytes, options, _) = read_export(&args.log)?;
    let name = display(&args.log.file);
    let read = read_log(&bytes, &args.log, &options, args.log_type.as_deref(), quiet)?;
    let log = match read {
        Ok(log) if log.parsed.report.valid => log,
        Ok(log) => return Err(Failure::invalid(refusal(&name, &log.parsed.report))),
        Err(report) => return Err(Failure::invalid(refusal(&name, &report))),
    };
    if !log.raw {
        return Err(Failure::usage(anyhow::anyhow!(
            "{name} is already an export (it starts with {{ or [); import reads raw log text"
        )));
    }
    let records = &log.parsed.export.records;
    let mut out = Output::create(&args.out)?;
    write_export_of(records, &log.log_type, &name, out.writer())
        .map_err(|e| Failure::usage(anyhow::anyhow!("writing {}: {e}", args.out.display())))?;
    out.commit()?;
    let dropped = log.parsed.report.dropped.as_ref().map_or(0, |d| d.count);
    if !quiet {
        eprintln!(
            "wrote {} {} records{} to {}",
            records.len(),
            log.log_type,
            if dropped > 0 {
                format!(" ({dropped} bad lines left out)")
            } else {
                String::new()
            },
            display(&args.out)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Why `import` writes nothing: the first problem and how many lines have one.
fn refusal(name: &str, report: &ValidationReport) -> anyhow::Error {
    let count: usize = report.errors.iter().map(|g| g.count).sum();
    match report.first_error() {
        Some(first) if count > 1 => anyhow::anyhow!(
            "{name}: {first} (and {} more errors; `mcp-train validate` lists them, \
             --drop-invalid leaves the bad lines out)",
            count - 1
        ),
        Some(first) => anyhow::anyhow!("{name}: {first} (--drop-invalid leaves the bad line out)"),
        None => anyhow::anyhow!("{name} cannot be read"),
    }
}
