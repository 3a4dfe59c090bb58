//! `mcp-train synth`: a realistic synthetic export with labelled incidents.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::ProgressBar;
use mcp_train_core::agent::agent;
use mcp_train_core::synth::SynthConfig;
use mcp_train_core::time::parse_iso8601;

use super::args::SynthArgs;
use super::input::{display, Output};
use super::{progress, render, Failure, Outcome};

/// Counts bytes on their way to the output, for the progress bar.
struct Counting<'w, W: Write> {
    inner: &'w mut W,
    bar: ProgressBar,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub fn run(args: SynthArgs, quiet: bool) -> Outcome {
    let agent =
        agent(&args.log_type).map_err(|e| Failure::usage(anyhow::anyhow!("--log-type: {e}")))?;
    let start =
        parse_iso8601(&args.start).map_err(|e| Failure::usage(anyhow::anyhow!("--start: {e}")))?;
    let config = SynthConfig {
        records: args.records,
        anomaly_ratio: args.anomaly_ratio,
        seed: args.seed,
        start_micros: start.micros,
        days: args.days,
        access_points: args.access_points,
        clients: args.clients,
    }
    .check()
    .map_err(Failure::usage)?;

    let mut out = Output::create(&args.out)?;
    let bar = progress::spinner(quiet, "writing bytes");
    let mut counting = Counting {
        inner: out.writer(),
        bar: bar.clone(),
    };
    let summary = agent
        .synth(&config, &mut counting)
        .with_context(|| format!("cannot write {}", display(&args.out)))?;
    bar.finish_and_clear();
    out.commit()?;

    if args.json {
        let text = serde_json::to_string(&summary).map_err(Failure::usage)?;
        println!("{text}");
    } else {
        // Only the wifi generator groups its attacks into incidents.
        let incidents = match summary.incidents.len() {
            0 => String::new(),
            n => format!(" in {n} incidents"),
        };
        eprintln!(
            "wrote {} records ({} anomalies{incidents}, {}) to {}",
            render::thousands(summary.records),
            render::thousands(summary.anomalies),
            mcp_train_core::display::megabytes(summary.bytes),
            display(&args.out)
        );
    }
    Ok(ExitCode::SUCCESS)
}
