//! A fuzzer that runs on stable Rust: seeded mutations of valid inputs, fed in-process to the
//! export parser, the ZIP reader and package verifier, the features CSV reader and the model
//! loader. Each input runs under `catch_unwind`; an input that panics or breaks one of the
//! target's invariants is saved to a file and reported.
//!
//! ```text
//! cargo run -p mcp-train-core --release --example fuzz -- --target export --inputs 1000000
//! cargo run -p mcp-train-core --release --example fuzz -- --target all --inputs 100000 --seed 7
//! cargo run -p mcp-train-core --release --example fuzz -- --target zip --replay fuzz-findings/zip-1-42.bin
//! ```
//!
//! Options: `--target export|zip|csv|model|all`, `--inputs N` (per target; default 100000),
//! `--seed S` (default 1), `--out DIR` (where findings are saved; default `fuzz-findings`),
//! `--replay FILE` (run one saved input). Exit status 1 when anything was found.
//! `core/tests/fuzz.rs` runs a few thousand inputs per target inside `cargo test`.

mod engine;
mod mutate;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;

use targets::Target;

fn main() -> ExitCode {
    let mut targets = Target::ALL.to_vec();
    let mut inputs: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut out = PathBuf::from("fuzz-findings");
    let mut replay: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let parsed = match flag.as_str() {
            "--target" if value == "all" => true,
            "--target" => Target::parse(&value).map(|t| targets = vec![t]).is_some(),
            "--inputs" => value.replace('_', "").parse().map(|n| inputs = n).is_ok(),
            "--seed" => value.parse().map(|s| seed = s).is_ok(),
            "--out" => {
                out = PathBuf::from(&value);
                true
            }
            "--replay" => {
                replay = Some(PathBuf::from(&value));
                true
            }
            _ => false,
        };
        if !parsed {
            eprintln!(
                "fuzz: bad option {flag} {value:?} (see the header of core/examples/fuzz/main.rs)"
            );
            return ExitCode::from(2);
        }
    }

    if let Some(path) = replay {
        let Ok(input) = std::fs::read(&path) else {
            eprintln!("fuzz: cannot read {}", path.display());
            return ExitCode::from(2);
        };
        let mut failed = false;
        for target in targets {
            let outcome = engine::replay(target, &input);
            println!("{}: {outcome:?}", target.name());
            failed |= outcome.is_err();
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }

    let mut found = 0;
    for target in targets {
        let report = engine::run(target, inputs, seed, Some(&out), 20, |r| {
            eprint!(
                "\r{}: {} inputs, {:.0}/s, {} findings   ",
                r.target.name(),
                r.inputs,
                r.per_second(),
                r.findings.len()
            );
        });
        eprintln!();
        println!(
            "{}: {} inputs in {:.1} s ({:.0} inputs/s), seed {seed}, {} findings",
            target.name(),
            report.inputs,
            report.seconds,
            report.per_second(),
            report.findings.len()
        );
        let mut outcomes: Vec<_> = report.outcomes.iter().collect();
        outcomes.sort_by(|a, b| b.1.cmp(a.1));
        for (outcome, count) in outcomes.iter().take(12) {
            println!("  {count:>9}  {outcome}");
        }
        if outcomes.len() > 12 {
            println!("  ({} more outcome kinds)", outcomes.len() - 12);
        }
        for finding in &report.findings {
            println!(
                "  FINDING at input {}: {} (saved: {})",
                finding.input_number,
                finding.message,
                finding
                    .saved
                    .as_ref()
                    .map_or("no".to_owned(), |p| p.display().to_string())
            );
        }
        found += report.findings.len();
    }
    if found > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
