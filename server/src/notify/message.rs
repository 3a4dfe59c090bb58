//! What is said: the events, the grouped anomaly summary, and one [`Message`] rendered per
//! channel kind (a Standard Webhooks JSON payload, a Slack `text` + `blocks`, a plain-text email).

use mcp_train_core::agent::formats::severity_id;
use mcp_train_core::anomalies::{ExportJob, StoredAnomaly};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Something people should hear about (anomalies go through [`super::Notifier::anomalies`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A training job registered a model.
    TrainingCompleted {
        job_id: String,
        file_name: String,
        version: String,
        log_type: String,
        detector: String,
        samples: usize,
        seconds: f64,
    },
    /// A training job failed (a cancelled job is not a failure).
    TrainingFailed {
        job_id: String,
        file_name: String,
        code: String,
        message: String,
        seconds: f64,
    },
    /// A model was deployed; `previous` is the one it replaced.
    ModelDeployed {
        log_type: String,
        version: String,
        previous: Option<String>,
    },
    /// A log type went back to the model deployed before; `previous` is the one taken down.
    ModelRolledBack {
        log_type: String,
        version: String,
        previous: Option<String>,
    },
    /// An export job ended (completed, failed, cancelled or expired).
    ExportFinished(Box<ExportJob>),
}

impl Event {
    /// The event type: what channels subscribe to and the payload's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::TrainingCompleted { .. } => "training.completed",
            Event::TrainingFailed { .. } => "training.failed",
            Event::ModelDeployed { .. } => "model.deployed",
            Event::ModelRolledBack { .. } => "model.rolled_back",
            Event::ExportFinished(_) => "export.finished",
        }
    }

    pub(crate) fn message(&self, at: &str) -> Message {
        let (title, lines, data) = match self {
            Event::TrainingCompleted {
                job_id,
                file_name,
                version,
                log_type,
                detector,
                samples,
                seconds,
            } => (
                format!("Training job {job_id} completed: model {version} ({log_type})"),
                vec![
                    format!("Trained on {file_name}: {samples} rows, {detector}, {seconds:.1} s."),
                    format!("Deploy it with `mcp-train models deploy {version}` or POST /api/models/{version}/deploy."),
                ],
                json!({"job_id": job_id, "file_name": file_name, "version": version,
                       "log_type": log_type, "detector": detector, "samples": samples,
                       "seconds": seconds}),
            ),
            Event::TrainingFailed {
                job_id,
                file_name,
                code,
                message,
                seconds,
            } => (
                format!("Training job {job_id} failed ({code})"),
                vec![format!("{file_name}: {message}"), format!("After {seconds:.1} s.")],
                json!({"job_id": job_id, "file_name": file_name, "code": code,
                       "message": message, "seconds": seconds}),
            ),
            Event::ModelDeployed {
                log_type,
                version,
                previous,
            } => (
                format!("Model {version} deployed for {log_type}"),
                vec![match previous {
                    Some(p) => format!("It replaces {p}."),
                    None => "No model was deployed for this log type before.".to_owned(),
                }],
                json!({"log_type": log_type, "version": version, "previous": previous}),
            ),
            Event::ModelRolledBack {
                log_type,
                version,
                previous,
            } => (
                format!("{log_type} rolled back to model {version}"),
                vec![match previous {
                    Some(p) => format!("Model {p} was taken down."),
                    None => "No model was deployed before.".to_owned(),
                }],
                json!({"log_type": log_type, "version": version, "previous": previous}),
            ),
            Event::ExportFinished(job) => {
                let mut lines = vec![format!(
                    "{} rows, {} bytes, format {}, asked by {}.",
                    job.rows,
                    job.bytes,
                    job.format.as_str(),
                    job.by
                )];
                if let Some(sha) = &job.sha256 {
                    lines.push(format!("SHA-256 {sha}"));
                }
                if let Some(e) = &job.error {
                    lines.push(format!("Error: {e}"));
                }
                if job.status.as_str() == "completed" {
                    lines.push(format!("Download: GET /api/exports/{}/download", job.id));
                }
                (
                    format!("Export {} {}", job.id, job.status.as_str()),
                    lines,
                    serde_json::to_value(job).unwrap_or(Value::Null),
                )
            }
        };
        Message {
            kind: self.kind(),
            at: at.to_owned(),
            title,
            lines,
            data,
        }
    }
}

/// One anomaly as a message lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub id: i64,
    pub detected_at: String,
    pub score: f64,
    /// 1–5, from the risk score.
    pub severity: u8,
    pub model_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub timestamp: String,
    /// The log line's message, at most 300 characters.
    pub message: String,
}

impl Sample {
    pub fn of(a: &StoredAnomaly) -> Sample {
        let mut message: String = a.anomaly.entry.message.chars().take(300).collect();
        if message.len() < a.anomaly.entry.message.len() {
            message.push('…');
        }
        Sample {
            id: a.id,
            detected_at: a.detected_at.clone(),
            score: a.score,
            severity: severity_id(a.score),
            model_version: a.model_version.clone(),
            device: a.device.clone(),
            client: a.client.clone(),
            timestamp: a.anomaly.entry.timestamp.clone(),
            message,
        }
    }
}

/// Anomalies of one log type for one channel, collected over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyGroup {
    pub log_type: String,
    /// Anomalies at or above `min_score` in the window.
    pub count: u64,
    pub min_score: f64,
    pub window_seconds: u64,
    /// The highest risk scores first, at most `max_samples` of them.
    pub samples: Vec<Sample>,
    /// Anomaly messages of this channel suppressed by its rate limit since its last message.
    pub suppressed: u64,
}

impl AnomalyGroup {
    /// Adds `more` (already at or above the channel's score), keeping the `keep` highest.
    pub fn add(&mut self, count: u64, more: Vec<Sample>, keep: usize) {
        self.count += count;
        self.samples.extend(more);
        self.samples
            .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        self.samples.truncate(keep);
    }

    pub(crate) fn message(&self, at: &str) -> Message {
        let top: Vec<String> = self
            .samples
            .iter()
            .map(|s| format!("{:.1}", s.score))
            .collect();
        let mut title = format!(
            "{} anomal{} in {} (risk ≥ {}, top {})",
            self.count,
            if self.count == 1 { "y" } else { "ies" },
            self.log_type,
            self.min_score,
            top.first().map_or("-", String::as_str)
        );
        if self.suppressed > 0 {
            title.push_str(&format!(
                "; {} earlier message{} suppressed",
                self.suppressed,
                if self.suppressed == 1 { "" } else { "s" }
            ));
        }
        let mut lines = vec![format!(
            "In the last {} s. Top risk scores: {}.",
            self.window_seconds,
            top.join(", ")
        )];
        for s in &self.samples {
            lines.push(format!(
                "#{} risk {:.1} (severity {}) {} {}{}: {}",
                s.id,
                s.score,
                s.severity,
                s.timestamp,
                s.device.as_deref().unwrap_or("-"),
                s.client
                    .as_deref()
                    .map(|c| format!(" client {c}"))
                    .unwrap_or_default(),
                s.message
            ));
        }
        Message {
            kind: "anomalies.detected",
            at: at.to_owned(),
            title,
            lines,
            data: serde_json::to_value(self).unwrap_or(Value::Null),
        }
    }
}

/// A message, before it is rendered for a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The event type.
    pub kind: &'static str,
    /// When it was made, RFC 3339 UTC.
    pub at: String,
    pub title: String,
    pub lines: Vec<String>,
    /// The event's data (the webhook payload's `data`).
    pub data: Value,
}

impl Message {
    /// The message a test sends.
    pub fn test(channel: &str, at: &str) -> Message {
        Message {
            kind: "test",
            at: at.to_owned(),
            title: format!("mcp-train test message for channel {channel}"),
            lines: vec!["If you read this, the channel works.".to_owned()],
            data: json!({"channel": channel}),
        }
    }

    /// The Standard Webhooks payload: `{"type", "timestamp", "data"}`.
    pub fn webhook_body(&self) -> String {
        json!({"type": self.kind, "timestamp": self.at, "data": self.data}).to_string()
    }

    /// A Slack incoming-webhook payload.
    pub fn slack_body(&self) -> String {
        let mut text = format!("*{}*", slack_escape(&self.title));
        for l in &self.lines {
            text.push('\n');
            text.push_str(&slack_escape(l));
        }
        // A section's text is limited to 3000 characters.
        let text: String = text.chars().take(3000).collect();
        json!({
            "text": self.title,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        })
        .to_string()
    }

    /// An email's subject and plain-text body.
    pub fn email(&self) -> (String, String) {
        let mut body = format!("{}\n\n", self.title);
        for l in &self.lines {
            body.push_str(l);
            body.push('\n');
        }
        body.push_str(&format!("\nEvent {} at {}.\n", self.kind, self.at));
        (format!("[mcp-train] {}", self.title), body)
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
