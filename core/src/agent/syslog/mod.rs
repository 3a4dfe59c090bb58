//! The `syslog` agent: any other syslog — a generic agent, so logs without a dedicated agent
//! still get a useful model.
//!
//! It reads every line the shared framing ([`super::frame`]) reads, whatever the program, and
//! learns the shape of the log from the messages themselves: log templates are mined online
//! with a Drain-style parser ([`drain`](self) module docs; He et al., ICWS 2017). Tokens are
//! split on whitespace, variable tokens (any token with a digit — numbers, IPs, ports, pids,
//! hex ids, paths with digits, UUIDs — and long hex runs) are masked as `<*>`, and lines join
//! the most similar template of their tree leaf (similarity ≥ 0.5, differing positions become
//! `<*>`). At most 4096 templates are kept; later unseen shapes share one overflow template.
//!
//! **Fitted state.** [`Agent::fit`] mines the training records in time order and stores the
//! templates with their counts and tree paths, the process vocabulary (the 256 most frequent
//! tags with their counts), and which (host, process) and (host, template) pairs training saw
//! (the 16,384 most frequent of each). The extractor starts from that state and keeps mining:
//! detection learns as it goes, and batch extraction is the same online process in time order
//! from the same fitted state, so stream and batch agree bit for bit.
//!
//! # Features (`syslog-v1`, in this order)
//!
//! Windows are trailing `[t − w, t]` with w = 1 min ("1m") and 15 min ("15m"), counted at a
//! resolution of w / 60 (1 s and 15 s buckets), and include the current line. Counts are given
//! as `ln(1 + count)` where marked "log".
//!
//! | # | name | meaning |
//! |---|------|---------|
//! | 0 | `hour_sin` | sin(2π · time of day / 24 h) (UTC) |
//! | 1 | `hour_cos` | cos(2π · time of day / 24 h) |
//! | 2 | `level` | DEBUG 0, INFO 1, WARNING 2, ERROR 3, CRITICAL 4 |
//! | 3 | `template_rarity` | ln((lines so far + 1) / (lines of this template so far + 1)), fitted lines included, this line not |
//! | 4 | `template_new` | 1 when the line started a template (or is the first overflow line) |
//! | 5 | `template_count_1m` | log lines of this template in the last minute, all hosts |
//! | 6 | `template_count_15m` | log lines of this template in the last 15 minutes |
//! | 7 | `process_rarity` | ln((training lines + 1) / (training lines of this process + 1)); unknown processes ln(training lines + 1) |
//! | 8 | `process_errors_1m` | log ERROR/CRITICAL lines of this process (all hosts; unknown processes share one count) in the last minute |
//! | 9 | `msg_length` | log message bytes |
//! | 10 | `msg_digits` | log ASCII digits in the message |
//! | 11 | `msg_tokens` | whitespace-separated tokens in the message |
//! | 12 | `host_lines_1m` | log lines of this host in the last minute |
//! | 13 | `host_lines_15m` | log lines of this host in the last 15 minutes |
//! | 14 | `host_error_rate_15m` | share of this host's lines in the last 15 minutes that are ERROR/CRITICAL |
//! | 15 | `host_processes_15m` | distinct processes of this host in the last 15 minutes (of its 32 most recent) |
//! | 16 | `host_process_new` | 1 when the host's process was neither seen with this host in training nor among its 32 most recent processes |
//! | 17 | `host_template_new` | 1 when the template was neither seen on this host in training nor among its 64 most recent templates |
//!
//! Lines without a host share the host `""`. The attacks these are for: an sshd brute force
//! (a known-but-rare template suddenly frequent, many lines from one host), an error storm
//! from one process (process errors, host error rate, template counts), a never-seen process
//! on a host at night (time of day, process rarity, new process and templates on the host), a
//! log flood from one host (host line rates).
//!
//! **Bounded memory.** Templates are capped (4096 + overflow) and so is the tree (100 named
//! children per node); at most 4096 hosts are tracked: when a new host comes and the table is
//! full, hosts idle for longer than the long window are forgotten, or else the least recently
//! active quarter (ties by first appearance). Per host: three windows, 32 processes, 64
//! templates. Every structure is updated in O(1) amortised per line (host eviction is paid
//! for by the many insertions between two evictions).

mod drain;
mod features;
mod parse;
mod synth;
#[cfg(test)]
mod tests;

use std::io;

use super::frame::parse_frame;
use super::{
    Agent, AgentError, AgentInfo, Capability, FeatureState, FeatureStream, LineError, ParseContext,
    Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::Record;
use crate::synth::{SynthSummary, ValidSynthConfig};

pub use features::FEATURES;

/// The log type and agent name.
pub const LOG_TYPE: &str = "syslog";
/// The feature schema.
pub const FEATURE_SCHEMA: &str = "syslog-v1";

static INFO: AgentInfo = AgentInfo {
    name: LOG_TYPE,
    log_type: LOG_TYPE,
    description: "any other syslog: Drain log templates (rarity, counts), level, process, message shape and per-host rates",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: FEATURE_SCHEMA,
    programs: &[],
    capabilities: &[
        Capability::RawLines,
        Capability::ExportRecords,
        Capability::StreamingFeatures,
        Capability::Synth,
    ],
    stability: Stability::Beta,
};

static SAMPLES: &[&str] = &[
    "Dec  3 17:50:14 web-01 sshd[2211]: Accepted publickey for alice from 10.20.0.14 port 51234 ssh2: ED25519 SHA256:mV7bX0kq3lYtZpQ9sR2wUe8fHn4cJd6aLgTy1oPiBvE",
    "Dec  3 17:50:15 web-01 sshd[2230]: Failed password for invalid user admin from 203.0.113.5 port 51234 ssh2",
    "Dec  3 17:51:01 db-01 CRON[3120]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
    "Dec  3 17:51:02 db-01 systemd[1]: Started Session 412 of User alice.",
    "Dec  3 17:52:40 mail-01 postfix/smtpd[981]: connect from unknown[185.12.40.7]",
    "<11>Dec  3 17:53:00 app-01 kernel: Buffer I/O error on dev sda1, logical block 1234, async page read",
    "2026-12-03T17:54:00.123Z app-01 sudo[4410]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
];

/// The generic syslog agent (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SyslogAgent;

impl SyslogAgent {
    fn state(&self, state: &FeatureState) -> Result<features::SyslogState, AgentError> {
        if state.log_type != LOG_TYPE {
            return Err(AgentError::WrongLogType {
                model: state.log_type.clone(),
                agent: LOG_TYPE.to_owned(),
            });
        }
        if state.schema != FEATURE_SCHEMA {
            return Err(AgentError::WrongFeatureSchema {
                model: state.schema.clone(),
                agent: FEATURE_SCHEMA.to_owned(),
            });
        }
        if state.features.iter().map(String::as_str).ne(FEATURES) {
            return Err(AgentError::BadState(format!(
                "feature names {:?} are not syslog-v1's",
                state.features
            )));
        }
        serde_json::from_value(state.state.clone()).map_err(|e| AgentError::BadState(e.to_string()))
    }
}

impl Agent for SyslogAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        include_str!("../../../../config/log_schemas/syslog.yaml")
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        SAMPLES
    }

    fn synth(
        &self,
        config: &ValidSynthConfig,
        out: &mut dyn io::Write,
    ) -> io::Result<SynthSummary> {
        synth::write_export(config, out)
    }

    /// Any line the shared framing reads (any program): the message is mined, not parsed.
    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        parse_frame(line, index, ctx)
    }

    /// `pattern` (the message with variables masked as `<*>`), then `ip` (the first IP
    /// address) and `user` when the message names them.
    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        let mut fields = vec![("pattern".to_owned(), parse::pattern(&record.message))];
        if let Some(ip) = parse::first_ip(&record.message) {
            fields.push(("ip".to_owned(), ip));
        }
        if let Some(user) = parse::user(&record.message) {
            fields.push(("user".to_owned(), user));
        }
        fields
    }

    fn fit(&self, records: &[Record<'_>], _config: &Config) -> Result<FeatureState, AgentError> {
        let state = features::fit(records);
        Ok(FeatureState {
            log_type: LOG_TYPE.to_owned(),
            schema: FEATURE_SCHEMA.to_owned(),
            features: FEATURES.iter().map(|&f| f.to_owned()).collect(),
            state: serde_json::to_value(&state).map_err(|e| AgentError::BadState(e.to_string()))?,
        })
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        let state = self.state(state)?;
        let stream = features::SyslogStream::new(&state).map_err(AgentError::BadState)?;
        Ok(Box::new(stream))
    }
}
