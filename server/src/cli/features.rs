//! `mcp-train features`: the wifi-v1 feature matrix of an export, as CSV.

use std::process::ExitCode;

use anyhow::Context;
use mcp_train_core::features::extract_with_progress;

use super::args::FeaturesArgs;
use super::input::{display, parse, read_export, Output};
use super::{progress, render, Failure, Outcome};

pub fn run(args: FeaturesArgs, quiet: bool) -> Outcome {
    let (bytes, options, config) = read_export(&args.export)?;
    let name = display(&args.export.file);
    let parsed = parse(&bytes, &options, quiet)
        .with_context(|| format!("cannot use {name}"))
        .map_err(Failure::invalid)?;
    let dropped = parsed.report.dropped.as_ref().map_or(0, |d| d.count);
    let export = parsed
        .into_usable()
        .with_context(|| format!("cannot use {name}"))
        .map_err(Failure::invalid)?;

    let bar = progress::bar(quiet, export.records.len() as u64, "features");
    let matrix = extract_with_progress(&export, &config.model.features, None, &mut |done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();

    let mut out = Output::create(&args.out)?;
    matrix
        .write_csv(out.writer(), args.include_label)
        .with_context(|| format!("cannot write {}", display(&args.out)))?;
    out.commit()?;

    if args.json {
        let summary = serde_json::json!({
            "rows": matrix.n_rows(),
            "columns": matrix.n_cols(),
            "dropped_records": dropped,
            "schema": matrix.schema.name,
            "features": matrix.schema.features,
            "out": display(&args.out),
        });
        println!("{summary}");
    } else {
        eprintln!(
            "wrote {} rows × {} features ({}) to {}{}",
            render::thousands(matrix.n_rows()),
            matrix.n_cols(),
            matrix.schema.name,
            display(&args.out),
            if dropped > 0 {
                format!(" ({} invalid records dropped)", render::thousands(dropped))
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
