//! A small agent for tests of code that works through the [`Agent`] trait (training, scoring,
//! the registry) without depending on a real agent's features.
//!
//! It reads `ISO-8601 host tag[pid]: message` lines, serves the log type `testdns` for the
//! process `testdnsd`, and extracts three features: the message length, whether the queried name
//! was unseen in training (the fitted state), and the records of the same host in the last ten
//! seconds.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io;

use super::{
    Agent, AgentError, AgentInfo, Capability, FeatureState, FeatureStream, LineError, ParseContext,
    Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::{LogLevel, Record};
use crate::synth::{SynthSummary, ValidSynthConfig};
use crate::time::{parse_iso8601, MICROS_PER_SECOND};

/// The test agent.
pub(crate) struct TestDnsAgent;

/// The one instance.
pub(crate) static DNS_TEST_AGENT: TestDnsAgent = TestDnsAgent;

/// The agents tests may look up besides [`super::AGENTS`].
pub(crate) static TEST_AGENTS: &[&dyn Agent] = &[&DNS_TEST_AGENT];

static INFO: AgentInfo = AgentInfo {
    name: "testdns",
    log_type: "testdns",
    description: "test-only agent",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: "testdns-v1",
    programs: &["testdnsd"],
    capabilities: &[Capability::RawLines, Capability::StreamingFeatures],
    stability: Stability::Alpha,
};

const FEATURES: [&str; 3] = ["message_length", "unknown_name", "host_rate_10s"];

/// The queried name of a `query[A] name from client` message.
fn name_of(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("query[")?;
    rest.split(' ').nth(1)
}

impl Agent for TestDnsAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        ""
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        &["2024-01-01T00:00:00Z gw testdnsd[1]: query[A] a.example from 10.0.0.2"]
    }

    fn synth(&self, _: &ValidSynthConfig, _: &mut dyn io::Write) -> io::Result<SynthSummary> {
        Err(io::Error::other("the test agent writes no synthetic data"))
    }

    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        _: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        let error = |column: usize, message: &str| LineError {
            column,
            message: message.to_owned(),
        };
        let mut parts = line.splitn(3, ' ');
        let stamp = parts.next().unwrap_or_default();
        let timestamp = parse_iso8601(stamp)
            .map_err(|e| error(1, &format!("bad timestamp: {e}")))?
            .micros;
        let host = parts
            .next()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| error(stamp.len() + 2, "expected a host name"))?;
        let rest = parts
            .next()
            .ok_or_else(|| error(line.len() + 1, "expected a tag"))?;
        let column = stamp.len() + host.len() + 3;
        let (tag, message) = rest
            .split_once(": ")
            .ok_or_else(|| error(column, "expected \"tag: message\""))?;
        let process = tag.split('[').next().unwrap_or(tag);
        Ok(Record {
            index,
            timestamp,
            message: Cow::Borrowed(message),
            process_name: Cow::Borrowed(process),
            host: Some(Cow::Borrowed(host)),
            level: LogLevel::Info,
            label: None,
        })
    }

    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        name_of(&record.message)
            .map(|n| vec![("name".to_owned(), n.to_owned())])
            .unwrap_or_default()
    }

    fn fit(&self, records: &[Record<'_>], _: &Config) -> Result<FeatureState, AgentError> {
        let mut names: Vec<String> = records
            .iter()
            .filter_map(|r| name_of(&r.message))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        Ok(FeatureState {
            log_type: INFO.log_type.to_owned(),
            schema: INFO.feature_schema.to_owned(),
            features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            state: serde_json::json!({ "names": names }),
        })
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        super::check_model(self, &state.log_type, &state.schema, PROTOCOL_VERSION)?;
        let names: Vec<String> = serde_json::from_value(state.state["names"].clone())
            .map_err(|e| AgentError::BadState(format!("names: {e}")))?;
        Ok(Box::new(TestStream {
            names,
            recent: VecDeque::new(),
        }))
    }
}

struct TestStream {
    names: Vec<String>,
    /// (timestamp, host) of the records of the last ten seconds.
    recent: VecDeque<(i64, String)>,
}

impl FeatureStream for TestStream {
    fn width(&self) -> usize {
        FEATURES.len()
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        let now = record.timestamp;
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| *t <= now - 10 * MICROS_PER_SECOND)
        {
            self.recent.pop_front();
        }
        let host = record.host.as_deref().unwrap_or_default();
        let same_host = self.recent.iter().filter(|(_, h)| h == host).count();
        self.recent.push_back((now, host.to_owned()));
        out[0] = record.message.len() as f64;
        out[1] = match name_of(&record.message) {
            Some(n) => f64::from(u8::from(
                self.names.binary_search_by(|k| k.as_str().cmp(n)).is_err(),
            )),
            None => 0.0,
        };
        out[2] = same_host as f64;
    }
}
