//! Detection: a model and its agent turned into a verdict per log entry, one entry at a time.
//!
//! A [`Detector`] pairs a [`ModelArtifact`] with the agent of its log type and that agent's
//! streaming feature extractor. Each record pushed through it becomes a feature row (the row
//! batch extraction gives for the same stream, see [`FeatureStream`]), is standardised with the
//! model's scaler and scored by the model's detector with exactly the arithmetic of
//! [`ModelArtifact::score_rows`] — so `detect` and `score` agree bit for bit on the same
//! records in the same order.
//!
//! For an anomaly, the features that pushed it over are measured by replacing one feature at a
//! time with its training mean (a scaled value of 0) and taking the rise of the decision value;
//! the largest positive rises are the [`Contribution`]s.
//!
//! ```text
//! record ─▶ FeatureStream::push ─▶ row ─▶ scaler ─▶ detector ─▶ InferenceResult
//!                                                              └▶ anomaly? ─▶ Anomaly
//! ```

use super::{
    agent, check_model, Agent, AgentError, Anomaly, Contribution, FeatureStream, Features,
    InferenceResult, LineError, LogEntry, ParseContext,
};
use crate::export::{parse_export, ExportError, Record, ValidateOptions};
use crate::model::{Matrix, ModelError, OutlierDetector};
use crate::pipeline::{Detector as FittedDetector, InputSchema, ModelArtifact};

/// Contributions kept per anomaly.
pub const TOP_CONTRIBUTIONS: usize = 3;

/// Why a model cannot detect, or a row cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectError {
    /// The model was trained on a user's features CSV: no agent can compute its columns from
    /// logs.
    #[error("model {version} was trained on a features CSV; detection needs a model trained on logs of one log type (an export or a raw log)")]
    FeaturesCsvModel {
        /// The model's version.
        version: String,
    },
    /// No agent serves the model, or the agent refuses it (log type, feature schema, protocol
    /// version, unreadable feature state).
    #[error("model {version}: {source}")]
    Agent {
        /// The model's version.
        version: String,
        /// Why.
        source: AgentError,
    },
    /// The agent's feature row does not fit the model (an agent whose rows are not as wide as
    /// the feature names it declares).
    #[error(
        "model {version} takes {expected} features; the {log_type} agent gives rows of {found}"
    )]
    Width {
        /// The model's version.
        version: String,
        /// The model's log type.
        log_type: String,
        /// Features the model takes.
        expected: usize,
        /// Values in the agent's rows.
        found: usize,
    },
    /// The row cannot be scored (a non-finite feature value, or a value outside the range the
    /// trees use), naming the feature.
    #[error("feature {feature}: {source}")]
    Row {
        /// The feature's name (or its column when the model has fewer names).
        feature: String,
        /// What the model said.
        source: ModelError,
    },
    /// The model refused the row for another reason.
    #[error(transparent)]
    Model(ModelError),
}

/// A model at work on a stream of records of its log type.
pub struct Detector {
    artifact: ModelArtifact,
    agent: &'static dyn Agent,
    stream: Box<dyn FeatureStream>,
    schema: String,
    /// The last pushed record's raw row.
    row: Vec<f64>,
    /// Scratch: the row, scaled.
    scaled: Vec<f64>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("model", &self.artifact.version)
            .field("log_type", &self.artifact.log_type)
            .field("schema", &self.schema)
            .finish()
    }
}

impl Detector {
    /// A detector for `artifact`, served by the built-in agent of its log type.
    ///
    /// Refused, with the reason: a features-CSV model, an unknown log type, a model the agent
    /// cannot serve ([`check_model`]) or whose feature state it cannot read.
    pub fn new(artifact: ModelArtifact) -> Result<Detector, DetectError> {
        if let InputSchema::FeaturesCsv { .. } = artifact.input {
            return Err(DetectError::FeaturesCsvModel {
                version: artifact.version,
            });
        }
        match agent(&artifact.log_type) {
            Ok(agent) => Detector::with_agent(artifact, agent),
            Err(source) => Err(DetectError::Agent {
                version: artifact.version,
                source,
            }),
        }
    }

    /// A detector for `artifact` served by `agent` (an agent outside the built-in list, e.g.
    /// in tests), with the same checks as [`Detector::new`].
    pub fn with_agent(
        artifact: ModelArtifact,
        agent: &'static dyn Agent,
    ) -> Result<Detector, DetectError> {
        let refused = |source: AgentError| DetectError::Agent {
            version: artifact.version.clone(),
            source,
        };
        let Some(state) = artifact.input.feature_state() else {
            return Err(DetectError::FeaturesCsvModel {
                version: artifact.version.clone(),
            });
        };
        check_model(
            agent,
            &artifact.log_type,
            &state.schema,
            &artifact.protocol_version,
        )
        .map_err(refused)?;
        if state.log_type != artifact.log_type {
            return Err(refused(AgentError::BadState(format!(
                "the feature state is for log type \"{}\", the model for \"{}\"",
                state.log_type, artifact.log_type
            ))));
        }
        let stream = agent.extractor(&state).map_err(refused)?;
        let expected = artifact.scaler.n_features();
        if stream.width() != expected {
            return Err(DetectError::Width {
                version: artifact.version.clone(),
                log_type: artifact.log_type.clone(),
                expected,
                found: stream.width(),
            });
        }
        Ok(Detector {
            agent,
            stream,
            schema: state.schema,
            row: vec![0.0; expected],
            scaled: vec![0.0; expected],
            artifact,
        })
    }

    /// The model.
    pub fn artifact(&self) -> &ModelArtifact {
        &self.artifact
    }

    /// The agent serving the model.
    pub fn agent(&self) -> &'static dyn Agent {
        self.agent
    }

    /// Feature names, in row order.
    pub fn feature_names(&self) -> &[String] {
        self.artifact.input.feature_names()
    }

    /// A raw feature row as the protocol's [`Features`] contract.
    pub fn features(&self, row: &[f64]) -> Features {
        Features {
            schema: self.schema.clone(),
            names: self.feature_names().to_vec(),
            values: row.to_vec(),
        }
    }

    /// The model's verdict on one raw (unscaled) feature row: the scaler and the detector with
    /// the arithmetic of [`ModelArtifact::score_rows`].
    pub fn infer(&self, row: &[f64]) -> Result<InferenceResult, DetectError> {
        let mut scaled = row.to_vec();
        self.scale(&mut scaled)?;
        let score = self.score_scaled(&scaled)?;
        Ok(self.verdict(score))
    }

    /// Pushes the next record (in timestamp order) through the feature stream and scores its
    /// row: the row (valid until the next push) and the verdict.
    pub fn push(&mut self, record: &Record<'_>) -> Result<(&[f64], InferenceResult), DetectError> {
        self.stream.push(record, &mut self.row);
        self.scaled.copy_from_slice(&self.row);
        let mut scaled = std::mem::take(&mut self.scaled);
        let scored = self
            .scale(&mut scaled)
            .and_then(|()| self.score_scaled(&scaled));
        self.scaled = scaled;
        let score = scored?;
        Ok((&self.row, self.verdict(score)))
    }

    /// The full pipeline for one record: `Some(anomaly)` when the model flags it.
    pub fn detect(&mut self, record: &Record<'_>) -> Result<Option<Anomaly>, DetectError> {
        let verdict = self.push(record)?.1;
        if !verdict.is_anomaly {
            return Ok(None);
        }
        Ok(Some(self.report(record, verdict)?))
    }

    /// The verdict on `record` as an [`Anomaly`]-shaped report, anomaly or not (contributions
    /// only for anomalies): what `mcp-train detect --all` writes per record.
    pub fn assess(&mut self, record: &Record<'_>) -> Result<Anomaly, DetectError> {
        let verdict = self.push(record)?.1;
        self.report(record, verdict)
    }

    /// Reports for `records`, streamed in stable timestamp order (the order batch extraction
    /// uses): every record with `all`, else only the anomalies.
    pub fn detect_all(
        &mut self,
        records: &[Record<'_>],
        all: bool,
    ) -> Result<Vec<Anomaly>, DetectError> {
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| records[i].timestamp);
        let mut out = Vec::new();
        for i in order {
            let record = &records[i];
            if all {
                out.push(self.assess(record)?);
            } else if let Some(anomaly) = self.detect(record)? {
                out.push(anomaly);
            }
        }
        Ok(out)
    }

    /// The report of the last pushed record.
    fn report(
        &self,
        record: &Record<'_>,
        verdict: InferenceResult,
    ) -> Result<Anomaly, DetectError> {
        let contributions = if verdict.is_anomaly {
            self.contributions(verdict.decision)?
        } else {
            Vec::new()
        };
        let log_type = self.agent.info().log_type;
        Ok(Anomaly {
            entry: LogEntry::from_record(record, log_type, self.agent.fields(record)),
            agent: self.agent.info().name.to_owned(),
            inference: verdict,
            contributions,
        })
    }

    /// Contributions of the last pushed row (whose decision value is `decision`): each feature
    /// set to its training mean (scaled 0), the rise of the decision value; the largest
    /// [`TOP_CONTRIBUTIONS`] positive ones, largest first (ties: feature order).
    fn contributions(&self, decision: f64) -> Result<Vec<Contribution>, DetectError> {
        let width = self.scaled.len();
        let mut variants = Vec::with_capacity(width * width);
        for j in 0..width {
            variants.extend_from_slice(&self.scaled);
            variants[j * width + j] = 0.0;
        }
        let matrix = Matrix::new(&variants, width).map_err(DetectError::Model)?;
        let mut scores = vec![0.0; width];
        self.artifact
            .detector
            .score_samples_into(matrix, &mut scores)
            .map_err(DetectError::Model)?;
        let offset = self.artifact.threshold.offset;
        let names = self.feature_names();
        let mut rises: Vec<Contribution> = scores
            .iter()
            .enumerate()
            .map(|(j, s)| Contribution {
                feature: names.get(j).cloned().unwrap_or_else(|| format!("#{j}")),
                value: self.row[j],
                contribution: (s - offset) - decision,
            })
            .filter(|c| c.contribution > 0.0)
            .collect();
        rises.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        rises.truncate(TOP_CONTRIBUTIONS);
        Ok(rises)
    }

    /// Standardises a raw row in place, as [`crate::model::StandardScaler::transform`] does.
    fn scale(&self, row: &mut [f64]) -> Result<(), DetectError> {
        self.artifact
            .scaler
            .transform_row(row)
            .map_err(DetectError::Model)
    }

    /// The detector's score of one scaled row, bit for bit the batch score.
    fn score_scaled(&self, scaled: &[f64]) -> Result<f64, DetectError> {
        let located = |e: ModelError| match e {
            ModelError::NonFinite { col, .. } | ModelError::OutOfFloat32Range { col, .. } => {
                DetectError::Row {
                    feature: self
                        .feature_names()
                        .get(col)
                        .cloned()
                        .unwrap_or_else(|| format!("#{col}")),
                    source: e,
                }
            }
            other => DetectError::Model(other),
        };
        match &self.artifact.detector {
            // The forest's one-row walk is the batch walk without the block buffers.
            FittedDetector::IsolationForest { model, .. } => {
                if let Some(col) = scaled.iter().position(|v| !v.is_finite()) {
                    return Err(located(ModelError::NonFinite {
                        row: 0,
                        col,
                        value: scaled[col],
                    }));
                }
                model.score_row(scaled).map_err(located)
            }
            detector => {
                let matrix = Matrix::new(scaled, scaled.len()).map_err(located)?;
                let mut out = [0.0];
                detector
                    .score_samples_into(matrix, &mut out)
                    .map_err(located)?;
                Ok(out[0])
            }
        }
    }

    fn verdict(&self, score: f64) -> InferenceResult {
        let decision = score - self.artifact.threshold.offset;
        InferenceResult {
            score,
            decision,
            is_anomaly: decision < 0.0,
            model_version: self.artifact.version.clone(),
        }
    }
}

/// Detection over a batch of records with the built-in agent of the model's log type: every
/// record's report with `all`, else the anomalies, in stable timestamp order (the browser's
/// Detect page and the tests).
pub fn detect_records(
    artifact: ModelArtifact,
    records: &[Record<'_>],
    all: bool,
) -> Result<Vec<Anomaly>, DetectError> {
    Detector::new(artifact)?.detect_all(records, all)
}

/// Whether the first line of an input says it is a whole JSON export (read to the end, records
/// in timestamp order) rather than a log read line by line: a `[`, or a `{` that opens an export
/// object (`data`, `export_metadata`) or a pretty-printed document going on past this line.
pub fn is_whole_export(first_line: &[u8]) -> bool {
    let text = first_line.trim_ascii_start();
    match text.first() {
        Some(b'[') => true,
        Some(b'{') => {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(text) {
                Ok(object) => object.contains_key("data") || object.contains_key("export_metadata"),
                Err(e) => e.is_eof(),
            }
        }
        _ => false,
    }
}

/// The text of one line of a live log (given without its `\n`; a trailing `\r` is dropped), or
/// the column (1-based, in characters) of its first byte that is not UTF-8: how every surface
/// that reads lines (ingestion, `detect`, the browser, the MCP tools) decodes them.
pub fn line_text(bytes: &[u8]) -> Result<&str, usize> {
    match std::str::from_utf8(bytes) {
        Ok(line) => Ok(line.strip_suffix('\r').unwrap_or(line)),
        Err(e) => Err(String::from_utf8_lossy(&bytes[..e.valid_up_to()])
            .chars()
            .count()
            + 1),
    }
}

/// One line of a live log as a record, as `detect` reads it everywhere (the CLI, the browser):
/// an NDJSON export record (a `{` line with an export record's fields), else the agent's own
/// reading (raw syslog, or a daemon's own JSON such as ulogd's). Errors name the column.
pub fn read_line_record<'a>(
    line: &'a str,
    index: usize,
    ctx: &ParseContext,
    agent: &dyn Agent,
) -> Result<Record<'a>, LineError> {
    let leading = line.len() - line.trim_start().len();
    if line[leading..].starts_with('{') && crate::export::looks_like_export(line.as_bytes()) {
        let options = ValidateOptions {
            drop_invalid: false,
            max_examples: 1,
            ..ValidateOptions::default()
        };
        match parse_export(line.as_bytes(), &options) {
            Ok(parsed) if parsed.report.valid && parsed.export.records.len() == 1 => {
                let mut records = parsed.export.records;
                let mut record = records.remove(0);
                record.index = index;
                return Ok(record);
            }
            Ok(parsed) => {
                // An export record with a bad field: the validator names it.
                let (column, message) = parsed
                    .report
                    .first_error()
                    .map(|issue| {
                        let field = issue
                            .field
                            .as_deref()
                            .map(|f| format!("{f}: "))
                            .unwrap_or_default();
                        (
                            issue.column.unwrap_or(1),
                            format!("{field}{}", issue.message),
                        )
                    })
                    .unwrap_or((1, "not one export record".to_owned()));
                return Err(LineError { column, message });
            }
            // Not an export record: the agent may read JSON of its own.
            Err(ExportError::NotAnExport { .. } | ExportError::Syntax { .. }) => {}
            Err(e) => {
                return Err(LineError {
                    column: 1,
                    message: e.to_string(),
                })
            }
        }
    }
    agent.parse_line(line, index, ctx)
}

#[cfg(test)]
mod tests;
