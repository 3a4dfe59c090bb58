//! The `dns` agent: dnsmasq query logs (`--log-queries`, `--log-queries=extra`).
//!
//! # What it reads
//!
//! Raw syslog lines (any framing [`super::frame`] reads, including the file dnsmasq writes with
//! `--log-facility=FILE`) and export records whose process is `dnsmasq` or `dnsmasq-dhcp`. The
//! messages it understands (extra mode prefixes each with `SERIAL ADDRESS/PORT `):
//!
//! | message | event |
//! | --- | --- |
//! | `query[A] example.com from 192.168.1.20` (also `query[type=65]`, `query[ANY]`, …) | query |
//! | `forwarded example.com to 8.8.8.8`, `dnssec-query[DS] … to …` | forwarded |
//! | `reply example.com is 93.184.216.34` / `NXDOMAIN` / `NODATA-IPv6` / `<CNAME>`, `reply error is REFUSED` | reply |
//! | `cached example.com is …`, `cached-stale …` | cached |
//! | `config lab.test is 10.9.8.7`, `config error is REFUSED`, `/etc/hosts x is 1.2.3.4`, `DHCP …`, `auth …` | local |
//! | any line of `dnsmasq-dhcp` | dhcp |
//! | anything else (start-up, warnings, DNSSEC validation, other programs) | other |
//!
//! Only a line whose syslog framing cannot be read is an error; an unknown dnsmasq message is
//! an `other` row, never an error.
//!
//! # Who asked: attributing replies to clients
//!
//! Only `query[…]` lines name the client (`from CLIENT`). Every other DNS line is attributed
//! in this order:
//! 1. the `ADDRESS` of an extra-mode line (`12 192.168.1.20/40000 reply …`);
//! 2. else, for an extra-mode line without an address, the client of the query with the same
//!    serial number;
//! 3. else the client of the most recent query for the same name (case-insensitive);
//! 4. else, for `error is REFUSED` / `error is SERVFAIL` lines (which name no name), the client
//!    of the most recent query.
//!
//! Steps 2–4 look in direct-mapped tables of [`ATTRIBUTION_SLOTS`] entries (a newer query
//! takes the slot of an older one whose key maps to the same entry) and only trust a query at
//! most [`ATTRIBUTION_HORIZON`] (60 s) older than the line. A line that matches none has no
//! client: its client columns are 0.
//!
//! # Features (`dns-v1`)
//!
//! One row per record, in this order. Windows are trailing `[t − w, t]` and include the
//! current record; "client" columns are the attributed client's, 0 without one. Rows of
//! `dhcp` and `other` records have only their event column set.
//!
//! | # | feature | meaning |
//! | --- | --- | --- |
//! | 0–6 | `is_query`, `is_forwarded`, `is_reply`, `is_cached`, `is_local`, `is_dhcp`, `is_other` | the event (one-hot) |
//! | 7–10 | `answer_nxdomain`, `answer_nodata`, `answer_refused`, `answer_servfail` | the answer's class |
//! | 11 | `query_type_rare` | query type TXT, ANY or NULL (tunnels, amplification) |
//! | 12 | `query_type_rarity` | `ln((queries + 1) / (count + 1))` of the query type in training (queries only) |
//! | 13 | `name_length` | characters of the name (no trailing dot) |
//! | 14 | `label_count` | labels of the name |
//! | 15 | `max_label_length` | longest label (tunnels pack data into 50–63-character labels) |
//! | 16 | `name_entropy` | Shannon entropy (bits per character) of the name without its TLD and dots (DGA and encoded data score high) |
//! | 17 | `name_digit_share` | share of digits in the same characters |
//! | 18 | `domain_rarity` | `ln((queries + 1) / (count + 1))` of the base domain (`example.com`, `bbc.co.uk`) in training; unseen or outside the vocabulary: `ln(queries + 1)` |
//! | 19 | `client_queries_1m` | the client's queries in the last minute (rate, floods) |
//! | 20 | `client_queries_15m` | … in the last 15 minutes |
//! | 21 | `client_distinct_names_5m` | distinct names the client asked for in 5 minutes |
//! | 22 | `client_nxdomain_share_5m` | the client's NXDOMAIN answers / queries in 5 minutes (DGA), at most 1 |
//! | 23 | `client_refused_share_5m` | REFUSED answers / queries in 5 minutes, at most 1 |
//! | 24 | `client_rare_types_5m` | the client's TXT / ANY / NULL queries in 5 minutes |
//! | 25 | `client_long_names_5m` | the client's queries with a label of ≥ [`LONG_LABEL`] characters in 5 minutes |
//! | 26 | `client_unknown_domains_5m` | the client's queries for base domains outside the fitted vocabulary in 5 minutes |
//! | 27 | `server_queries_1m` | all queries in the last minute |
//! | 28 | `server_nxdomain_1m` | all NXDOMAIN answers in the last minute |
//!
//! The fitted state ([`DnsState`]) holds the query-type counts and the vocabulary of base
//! domains (the [`MAX_DOMAINS`] most frequent asked at least [`MIN_DOMAIN_QUERIES`] times).
//!
//! # Bounded memory
//!
//! The extractor keeps the window events (queries and NXDOMAIN/REFUSED answers) of the last
//! 15 minutes, at most [`MAX_EVENTS`]; a client is forgotten when its last event leaves, so the
//! tracked clients are those active in the last 15 minutes, at most [`MAX_CLIENTS`] (beyond
//! that, new clients share one overflow entry until some are forgotten). Forgetting is
//! invisible in the rows: a forgotten client's counts are all 0, as a new one's. Every step is
//! O(1) amortised; the only allocation per record is the interned name of a new client.
//!
//! # Synthetic data
//!
//! [`synth`](DnsAgent::synth) simulates a home/office gateway running dnsmasq in plain
//! `--log-queries` mode (OpenWrt's default): clients resolving popular and local names with a
//! day/night rhythm, cache hits, CNAME chains, NODATA answers, typos answered NXDOMAIN,
//! REFUSED, DHCP; and labelled attacks: DNS tunnelling (long encoded TXT/NULL/CNAME queries
//! to one domain), DGA bursts (random names answered NXDOMAIN) and query floods (ANY queries
//! and random-subdomain "water torture").

mod features;
mod parse;
mod synth;
#[cfg(test)]
mod tests;

use std::io;

pub use features::{
    DnsState, DnsStream, ATTRIBUTION_HORIZON, ATTRIBUTION_SLOTS, FEATURES, LONG_LABEL, MAX_CLIENTS,
    MAX_DOMAINS, MAX_EVENTS, MIN_DOMAIN_QUERIES, WINDOWS,
};
pub use parse::{parse_message, AnswerClass, DnsEvent, DnsLine};

use super::{
    Agent, AgentError, AgentInfo, Capability, FeatureState, FeatureStream, LineError, ParseContext,
    Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::Record;
use crate::synth::{SynthSummary, ValidSynthConfig};

/// The log type and agent name.
pub const LOG_TYPE: &str = "dns";
/// The feature schema this agent extracts.
pub const FEATURE_SCHEMA: &str = "dns-v1";

static INFO: AgentInfo = AgentInfo {
    name: LOG_TYPE,
    log_type: LOG_TYPE,
    description: "dnsmasq query logs: per-client query rates, NXDOMAIN/REFUSED shares, name \
                  length and entropy, rare query types (tunnelling, DGA, floods)",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: FEATURE_SCHEMA,
    programs: &["dnsmasq", "dnsmasq-dhcp"],
    capabilities: &[
        Capability::RawLines,
        Capability::ExportRecords,
        Capability::StreamingFeatures,
        Capability::Synth,
    ],
    stability: Stability::Beta,
};

static SAMPLE_LINES: [&str; 8] = [
    "Dec  3 17:50:14 dnsmasq[812]: query[A] example.com from 192.168.1.20",
    "Dec  3 17:50:14 dnsmasq[812]: forwarded example.com to 8.8.8.8",
    "Dec  3 17:50:14 dnsmasq[812]: reply example.com is 93.184.216.34",
    "Dec  3 17:50:15 dnsmasq[812]: query[AAAA] example.com from 192.168.1.20",
    "Dec  3 17:50:15 dnsmasq[812]: cached example.com is NODATA-IPv6",
    "Dec  3 17:50:16 gw dnsmasq[812]: 12 192.168.1.21/40000 query[TXT] lab.test from 192.168.1.21",
    "Dec  3 17:50:16 gw dnsmasq[812]: 12 192.168.1.21/40000 config error is REFUSED (EDE: not ready)",
    "Dec  3 17:50:20 gw dnsmasq-dhcp[812]: DHCPACK(br-lan) 192.168.1.20 3c:22:fb:12:34:56 laptop",
];

/// The dnsmasq agent (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsAgent;

impl Agent for DnsAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        include_str!("../../../../config/log_schemas/dns.yaml")
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        &SAMPLE_LINES
    }

    fn synth(
        &self,
        config: &ValidSynthConfig,
        out: &mut dyn io::Write,
    ) -> io::Result<SynthSummary> {
        synth::write_export(config, out)
    }

    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        // Everything after the framing is read liberally (unknown messages are `other`).
        super::frame::parse_frame(line, index, ctx)
    }

    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        let line = parse_message(&record.process_name, &record.message);
        let mut fields = vec![("event".to_owned(), line.event.as_str().to_owned())];
        let mut add = |name: &str, value: &str| {
            if !value.is_empty() {
                fields.push((name.to_owned(), value.to_owned()));
            }
        };
        if let Some(serial) = line.serial {
            add("serial", &serial.to_string());
        }
        add("client", line.client.unwrap_or(""));
        if let Some(port) = line.client_port {
            add("client_port", &port.to_string());
        }
        add("query_type", line.query_type.unwrap_or(""));
        if line.has_name() {
            add("name", line.name);
        }
        match line.event {
            DnsEvent::Forwarded => add("upstream", line.target),
            DnsEvent::Reply | DnsEvent::Cached | DnsEvent::Local => {
                add("source", line.source);
                add("answer", line.target);
                add("rcode", line.answer.as_str());
            }
            _ => {}
        }
        fields
    }

    fn fit(&self, records: &[Record<'_>], _config: &Config) -> Result<FeatureState, AgentError> {
        let state = DnsState::fit(records);
        Ok(FeatureState {
            log_type: LOG_TYPE.to_owned(),
            schema: FEATURE_SCHEMA.to_owned(),
            features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            state: serde_json::to_value(&state).map_err(|e| AgentError::BadState(e.to_string()))?,
        })
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        Ok(Box::new(stream_for(state)?))
    }
}

/// The concrete extractor for `state`, refused when the state is not `dns-v1`.
pub fn stream_for(state: &FeatureState) -> Result<DnsStream, AgentError> {
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
    if state.features.len() != FEATURES.len()
        || state.features.iter().zip(FEATURES).any(|(a, b)| a != b)
    {
        return Err(AgentError::BadState(format!(
            "features do not match {FEATURE_SCHEMA}'s {} columns",
            FEATURES.len()
        )));
    }
    let fitted: DnsState = serde_json::from_value(state.state.clone())
        .map_err(|e| AgentError::BadState(format!("{FEATURE_SCHEMA} state: {e}")))?;
    Ok(DnsStream::new(&fitted))
}
