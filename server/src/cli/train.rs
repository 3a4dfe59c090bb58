//! `mcp-train train`, `evaluate` and `score`: the training pipeline of the core, on files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mcp_train::fs::clock::{self, Stopwatch};
use mcp_train::fs::config_dir::load_config;
use mcp_train_core::pipeline::{
    self, Hooks, InputSchema, ModelArtifact, ScoreInput, TrainChoices, TrainInput,
};

use super::args::{EvaluateArgs, ScoreArgs, ScoreFormat, TrainArgs};
use super::input::{display, parse_context, read_input, Output};
use super::render::{checks_line, metrics_line};
use super::{progress, render, Failure, Outcome};

/// Reads and checks a model file.
pub fn load_model(path: &Path) -> Result<ModelArtifact, Failure> {
    let bytes = read_input(path, 4096)?;
    ModelArtifact::from_json(&bytes)
        .with_context(|| format!("cannot use model {}", display(path)))
        .map_err(Failure::invalid)
}

pub fn train(args: TrainArgs, quiet: bool) -> Outcome {
    let config = load_config(args.config.as_deref())?;
    let clock::Now {
        micros: now_micros,
        frozen,
    } = clock::reproducible_now()?;
    let choices = TrainChoices {
        detector: args.model,
        seed: args.seed,
        contamination: args.contamination,
        n_estimators: args.n_estimators,
        max_samples: args.max_samples,
        n_neighbors: args.n_neighbors,
        drop_invalid: args.drop_invalid.then_some(true),
    };
    let mut options = choices
        .resolve(&config)
        .map_err(Failure::usage)?
        .options(&config, now_micros);
    if let Some(dir) = &args.feedback {
        options.feedback = Some(super::anomalies::load_feedback(dir)?);
    }
    let stdout = Path::new("-");
    if args.scores.as_deref() == Some(stdout) && (args.out == stdout || args.json) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--scores - and {} would both write to stdout; give --scores a file",
            if args.json { "--json" } else { "--out -" }
        )));
    }
    options.keep_scores = args.scores.is_some();
    // Opened before the work, so that a place it cannot be written is said at once.
    let scores_out = args.scores.as_deref().map(Output::create).transpose()?;
    let limit = options.config.training.limits.max_export_mb;
    let (path, is_csv) = match (&args.file, &args.features_csv) {
        (Some(file), _) => (file.clone(), false),
        (None, Some(csv)) => (csv.clone(), true),
        (None, None) => {
            return Err(Failure::usage(anyhow::anyhow!(
                "give an export or --features-csv"
            )))
        }
    };
    let bytes = read_input(&path, limit)?;
    let name = display(&path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let input = if is_csv {
        TrainInput::FeaturesCsv {
            bytes: &bytes,
            file_name: &file_name,
            label_column: args.label_column.as_deref(),
        }
    } else {
        TrainInput::log(
            &bytes,
            &file_name,
            args.log_type.as_deref(),
            parse_context(&path),
        )
    };

    let bar = progress::bar(quiet, 1000, "training");
    let started = Instant::now();
    let stopwatch = Stopwatch::start(frozen);
    let clock = move || stopwatch.elapsed_ms();
    let tick = bar.clone();
    let mut on_progress = move |p: &pipeline::Progress| {
        tick.set_message(p.stage.as_str());
        tick.set_position((p.fraction * 1000.0) as u64);
        true
    };
    let trained = pipeline::train(
        input,
        &options,
        Hooks {
            progress: &mut on_progress,
            elapsed_ms: &clock,
        },
    );
    bar.finish_and_clear();
    let mut trained = trained
        .with_context(|| format!("cannot train on {name}"))
        .map_err(Failure::invalid)?;
    // Registered first, so that --out gets the version the registry gave (the next free second
    // when another model holds this one) and the same bytes as the registry's copy.
    let trained_version = trained.artifact.version.clone();
    let registered = if args.register {
        let dir = super::registry_at(args.registry.as_deref())?;
        let record = dir
            .open()
            .register(trained.artifact.clone(), now_micros)
            .map_err(|e| Failure::registry(&dir, e))?;
        trained.artifact.version = record.version.clone();
        Some((dir, record))
    } else {
        None
    };
    let model = &trained.artifact;
    let mut out = Output::create(&args.out)?;
    out.writer()
        .write_all(&model.to_json())
        .with_context(|| format!("cannot write {}", display(&args.out)))?;
    out.commit()?;
    let scores = match (&args.scores, scores_out, &trained.scores) {
        (Some(path), Some(mut out), Some(rows)) => {
            let format = ScoreFormat::of(path, None).core();
            pipeline::write_scores(rows, false, format, out.writer())
                .with_context(|| format!("cannot write {}", display(path)))?;
            out.commit()?;
            let flagged = rows.iter().filter(|r| r.is_anomaly).count();
            Some((display(path), rows.len(), flagged))
        }
        _ => None,
    };

    if args.feedback.is_some() {
        eprintln!(
            "feedback: {} records confirmed as anomalies left out of the training set",
            render::thousands(trained.feedback_excluded)
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let e = &model.evaluation;
    if args.json {
        let summary = serde_json::json!({
            "version": model.version,
            "out": display(&args.out),
            "detector": model.detector.name(),
            "samples": model.training.samples,
            "test_samples": model.training.test_samples,
            "features": model.training.features,
            "dropped_records": model.training.dropped_records,
            "feedback_excluded": args.feedback.as_ref().map(|_| trained.feedback_excluded),
            "duration_ms": model.training.duration_ms,
            "seed": model.training.seed,
            "threshold": model.threshold,
            "anomaly_ratio": e.anomaly_ratio,
            "score_stats": e.score_stats,
            "metrics": e.metrics,
            "threshold_checks": e.threshold_checks,
            "lineage": model.lineage,
            "scores": scores.as_ref().map(|(out, rows, flagged)| serde_json::json!({
                "out": out,
                "rows": rows,
                "flagged": flagged,
            })),
            "registered": registered.as_ref().map(|(dir, record)| serde_json::json!({
                "registry": dir.describe().to_string(),
                "record": record,
            })),
        });
        println!("{summary}");
    } else {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "trained {} on {} rows × {} features in {seconds:.2} s (seed {})",
            model.detector.name(),
            render::thousands(model.training.samples),
            model.training.features,
            model.training.seed
        );
        if model.training.dropped_records > 0 {
            let _ = writeln!(
                text,
                "dropped    {} invalid records",
                render::thousands(model.training.dropped_records)
            );
        }
        let _ = writeln!(
            text,
            "threshold  offset {:.6} ({}) · {:.2}% of rows flagged as anomalies",
            model.threshold.offset,
            model.threshold.method,
            e.anomaly_ratio * 100.0
        );
        let _ = writeln!(
            text,
            "scores     mean {:.4} · std {:.4} · min {:.4} · max {:.4}",
            e.score_stats.mean, e.score_stats.std, e.score_stats.min, e.score_stats.max
        );
        match &e.metrics {
            Some(m) => {
                let _ = writeln!(
                    text,
                    "metrics    on {} held-out rows: {}",
                    render::thousands(model.training.test_samples),
                    metrics_line(m)
                );
            }
            None => {
                let _ = writeln!(text, "metrics    none (no labels: unsupervised training)");
            }
        }
        let _ = writeln!(text, "checks     {}", checks_line(&e.threshold_checks));
        let top: Vec<String> = e
            .feature_importance
            .iter()
            .take(5)
            .map(|f| format!("{} {:.3}", f.feature, f.importance))
            .collect();
        let _ = writeln!(text, "important  {}", top.join(" · "));
        let _ = writeln!(
            text,
            "wrote model {} to {}",
            model.version,
            display(&args.out)
        );
        if let Some((out, rows, flagged)) = &scores {
            let _ = writeln!(
                text,
                "wrote scores of {} rows ({} flagged as anomalies) to {out}",
                render::thousands(*rows),
                render::thousands(*flagged)
            );
        }
        if let Some((dir, record)) = &registered {
            let _ = write!(
                text,
                "registered model {} in {} (status {})",
                record.version,
                dir.describe(),
                record.status
            );
            if record.version != trained_version {
                let _ = write!(text, "; {trained_version} was taken");
            }
            text.push('\n');
        }
        eprint!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The data for scoring or evaluating: export or CSV, as the model requires. An export given to
/// a CSV-trained model is named as such instead of failing as a strange CSV.
fn score_input<'a>(
    model: &ModelArtifact,
    bytes: &'a [u8],
    path: &Path,
    options: &'a mcp_train_core::export::ValidateOptions,
    label_column: Option<&'a str>,
) -> Result<ScoreInput<'a>, Failure> {
    match model.input {
        // An export or raw log text of the model's log type.
        InputSchema::Export(_) | InputSchema::Agent(_) => {
            Ok(ScoreInput::log(bytes, options, parse_context(path)))
        }
        InputSchema::FeaturesCsv { .. } => {
            let first = bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(bytes)
                .iter()
                .find(|b| !b.is_ascii_whitespace());
            if matches!(first, Some(b'{' | b'[')) {
                return Err(Failure::invalid(anyhow::anyhow!(
                    "this model was trained on a features CSV, and the data looks like an export (JSON); give it a features CSV with the same columns"
                )));
            }
            Ok(ScoreInput::FeaturesCsv {
                bytes,
                label_column,
            })
        }
    }
}

pub fn evaluate(args: EvaluateArgs, _quiet: bool) -> Outcome {
    let config = load_config(args.config.as_deref())?;
    let model = load_model(&args.model)?;
    let bytes = read_input(&args.file, config.training.limits.max_export_mb)?;
    let mut options = config.training.validation.clone();
    options.drop_invalid |= args.drop_invalid;
    let input = score_input(
        &model,
        &bytes,
        &args.file,
        &options,
        args.label_column.as_deref(),
    )?;
    let name = display(&args.file);
    let feedback = args
        .feedback
        .as_deref()
        .map(super::anomalies::load_feedback)
        .transpose()?;
    let (result, feedback_labels) =
        pipeline::evaluate_with_feedback(&model, input, &config, feedback.as_ref())
            .with_context(|| format!("cannot evaluate on {name}"))
            .map_err(Failure::invalid)?;
    if let Some(feedback) = &feedback {
        eprintln!(
            "feedback: {} records labelled by {} analyst verdicts",
            render::thousands(feedback_labels),
            render::thousands(feedback.len())
        );
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).map_err(Failure::usage)?
        );
    } else {
        println!(
            "model {} on {name}: {} records, {} labelled",
            result.model_version,
            render::thousands(result.samples),
            render::thousands(result.labelled)
        );
        println!("metrics    {}", metrics_line(&result.metrics));
        println!("flagged    {:.2}% of records", result.anomaly_ratio * 100.0);
        println!("checks     {}", checks_line(&result.threshold_checks));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn score(args: ScoreArgs, quiet: bool) -> Outcome {
    let model = load_model(&args.model)?;
    let config = load_config(None)?;
    let path = match (&args.file, &args.features_csv) {
        (Some(file), _) => file.clone(),
        (None, Some(csv)) => {
            if let InputSchema::Export(_) = model.input {
                return Err(Failure::invalid(anyhow::anyhow!(
                    "model {} was trained on an export; score an export, not --features-csv",
                    display(&args.model)
                )));
            }
            csv.clone()
        }
        (None, None) => return Err(Failure::usage(anyhow::anyhow!("give data to score"))),
    };
    let bytes = read_input(&path, config.training.limits.max_export_mb)?;
    let mut options = config.training.validation.clone();
    options.drop_invalid |= args.drop_invalid;
    let input = score_input(
        &model,
        &bytes,
        &path,
        &options,
        args.label_column.as_deref(),
    )?;
    let name = display(&path);
    let spinner = progress::spinner(quiet, "scoring");
    let scored = pipeline::score(&model, input);
    spinner.finish_and_clear();
    let scored = scored
        .with_context(|| format!("cannot score {name}"))
        .map_err(Failure::invalid)?;
    let format = ScoreFormat::of(&args.out, args.format).core();
    let total = scored.rows.len();
    let flagged = scored.rows.iter().filter(|r| r.is_anomaly).count();
    let mut out = Output::create(&args.out)?;
    let write = |w: &mut dyn std::io::Write| {
        pipeline::write_scores(&scored.rows, args.only_anomalies, format, w)
    };
    write(out.writer()).with_context(|| format!("cannot write {}", display(&args.out)))?;
    out.commit()?;
    eprintln!(
        "scored {} records with model {}: {} flagged as anomalies ({:.2}%){}",
        render::thousands(total),
        model.version,
        render::thousands(flagged),
        if total == 0 {
            0.0
        } else {
            flagged as f64 * 100.0 / total as f64
        },
        if args.only_anomalies {
            "; only anomalies written"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
