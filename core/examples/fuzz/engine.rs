//! The fuzz loop: mutate, run under `catch_unwind`, keep the inputs that panic or break an
//! invariant, count outcomes.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::targets::Target;

/// An input that panicked or broke an invariant, and where it was saved.
#[derive(Debug)]
pub struct Finding {
    pub input_number: u64,
    pub message: String,
    pub saved: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    pub target: Target,
    pub inputs: u64,
    pub seconds: f64,
    /// Outcome (for example "refused: archive is truncated") → inputs.
    pub outcomes: BTreeMap<String, u64>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.inputs as f64 / self.seconds.max(1e-9)
    }
}

/// Runs `inputs` mutants of the target's corpus (the corpus itself first), from `seed`. Findings
/// are saved under `out` as `<target>-<seed>-<input>.bin` when `out` is given; a run stops
/// after `max_findings`.
pub fn run(
    target: Target,
    inputs: u64,
    seed: u64,
    out: Option<&Path>,
    max_findings: usize,
    mut progress: impl FnMut(&Report),
) -> Report {
    let (corpus, mutator) = target.corpus();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut report = Report {
        target,
        inputs: 0,
        seconds: 0.0,
        outcomes: BTreeMap::new(),
        findings: Vec::new(),
    };
    // The panic hook is global: runs on several threads (tests) take turns.
    static RUNNING: Mutex<()> = Mutex::new(());
    let _turn = RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The default hook would print every caught panic; keep the message for the report instead.
    let last_panic = Arc::new(Mutex::new(String::new()));
    let previous_hook = panic::take_hook();
    {
        let last_panic = Arc::clone(&last_panic);
        panic::set_hook(Box::new(move |info| {
            if let Ok(mut last) = last_panic.lock() {
                *last = info.to_string();
            }
        }));
    }
    let start = Instant::now();
    for n in 0..inputs {
        let input = match corpus.get(n as usize) {
            Some(valid) => valid.clone(),
            None => mutator.mutant(&mut rng, &corpus),
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| target.run(&input)));
        report.inputs += 1;
        let problem = match outcome {
            Ok(Ok(outcome)) => {
                *report.outcomes.entry(outcome).or_default() += 1;
                None
            }
            Ok(Err(broken)) => Some(format!("invariant broken: {broken}")),
            Err(_) => Some(format!(
                "panic: {}",
                last_panic.lock().map(|m| m.clone()).unwrap_or_default()
            )),
        };
        if let Some(message) = problem {
            let saved = out.and_then(|dir| {
                let path = dir.join(format!("{}-{seed}-{n}.bin", target.name()));
                std::fs::create_dir_all(dir).ok()?;
                std::fs::write(&path, &input).ok()?;
                Some(path)
            });
            report.findings.push(Finding {
                input_number: n,
                message,
                saved,
            });
            if report.findings.len() >= max_findings {
                break;
            }
        }
        if n % 10_000 == 9_999 {
            report.seconds = start.elapsed().as_secs_f64();
            progress(&report);
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    panic::set_hook(previous_hook);
    report
}

/// Runs one saved input, as a finding is replayed after a fix.
pub fn replay(target: Target, input: &[u8]) -> Result<String, String> {
    match panic::catch_unwind(AssertUnwindSafe(|| target.run(input))) {
        Ok(outcome) => outcome,
        Err(_) => Err("panicked".to_owned()),
    }
}
