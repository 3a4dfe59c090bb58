//! The `wifi` agent: hostapd, wpa_supplicant and the rest of an access point's or client's
//! WiFi-related syslog (dnsmasq-dhcp, netifd, kernel driver lines), with the `wifi-v1` features
//! of [`crate::features`] — unchanged, so models trained before the agent protocol existed are
//! served as they are.
//!
//! - **Lines.** Any syslog line is a wifi line: [`parse_line`](Agent::parse_line) reads the
//!   envelope with [`super::frame::parse_frame`] and accepts every message (a line of another
//!   daemon simply gets a row whose WiFi keyword features are 0).
//! - **Fields.** [`fields`](Agent::fields) names the interface (`wlan0: …`), the control event
//!   (`AP-STA-CONNECTED`, `CTRL-EVENT-DISCONNECTED`, …), the MAC addresses and the keyword
//!   events the features see (`connection`, `auth`, `error`, `deauth`, `auth_failure`,
//!   `handshake_timeout`).
//! - **Feature state.** [`fit`](Agent::fit) is the training process vocabulary plus the
//!   feature configuration: the state is the [`FeatureSchema`] as JSON, exactly what a wifi
//!   model stores (`InputSchema::feature_state` of a wifi [`crate::pipeline::ModelArtifact`]),
//!   so a wifi model's state can be handed to [`extractor`](Agent::extractor) as it is.
//! - **Streaming.** The extractor is a [`WifiStream`]: the batch extractor's row code run one
//!   record at a time, keeping only the rows inside the longest trailing window (bounded memory
//!   on an endless stream). Batch extraction ([`extract`](Agent::extract)) is the fast
//!   [`crate::features::extract_records`], and both give the same rows bit for bit.
//! - **Synthetic data** is [`crate::synth::write_export`].

use std::io;

use serde::Deserialize;

use super::{
    frame, Agent, AgentError, AgentInfo, Capability, FeatureRows, FeatureState, FeatureStream,
    LineError, ParseContext, Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::Record;
use crate::features::text::{
    event_flags, for_each_mac, AUTH, AUTH_FAILURE, CONNECTION, DEAUTH, ERROR, HANDSHAKE_TIMEOUT,
};
use crate::features::{
    extract_records, feature_names, FeatureSchema, ProcessVocabulary, WifiStream, SCHEMA_NAME,
};
use crate::synth::{write_export, SynthSummary, ValidSynthConfig, PROGRAMS};

#[cfg(test)]
mod tests;

/// The log type (and agent name) `wifi`.
pub const LOG_TYPE: &str = "wifi";

/// The `wifi` agent (registered in [`super::AGENTS`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct WifiAgent;

static INFO: AgentInfo = AgentInfo {
    name: LOG_TYPE,
    log_type: LOG_TYPE,
    description:
        "hostapd / wpa_supplicant WiFi logs of access points and clients (wifi-v1 features)",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: SCHEMA_NAME,
    programs: &PROGRAMS,
    capabilities: &[
        Capability::RawLines,
        Capability::ExportRecords,
        Capability::StreamingFeatures,
        Capability::Synth,
    ],
    stability: Stability::Stable,
};

/// Lines as hostapd, wpa_supplicant and their neighbours write them, in the framings
/// [`super::frame`] reads.
static SAMPLE_LINES: &[&str] = &[
    "Dec  3 17:50:14 ap1 hostapd: wlan0: STA 3c:22:fb:12:34:56 IEEE 802.11: authenticated",
    "Dec  3 17:50:14 ap1 hostapd: wlan0: STA 3c:22:fb:12:34:56 IEEE 802.11: associated (aid 1)",
    "Dec  3 17:50:14 ap1 hostapd: wlan0: AP-STA-CONNECTED 3c:22:fb:12:34:56",
    "<30>Dec  3 17:50:15 2026 ap1 hostapd: wlan0: STA 3c:22:fb:12:34:56 WPA: pairwise key handshake completed (RSN)",
    "Dec  3 17:50:16 ap1 dnsmasq-dhcp[1201]: DHCPACK(br-lan) 192.168.1.23 3c:22:fb:12:34:56 phone",
    "2026-12-03T17:50:20.123456Z laptop wpa_supplicant[812]: wlp2s0: CTRL-EVENT-CONNECTED - Connection to aa:bb:cc:dd:ee:ff completed [id=0 id_str=]",
    "<28>1 2026-12-03T17:51:02.5Z ap1 hostapd - - - wlan0: STA 3c:22:fb:12:34:56 IEEE 802.11: deauthenticated due to local deauth request",
    "Dec  3 17:51:05 ap1 hostapd: wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 8e:4f:01:9a:bc:de",
    "Dec  3 17:51:06 laptop wpa_supplicant[812]: wlp2s0: WPA: 4-Way Handshake failed - pre-shared key may be incorrect",
    "Dec  3 17:51:09 ap1 kernel: [ 1234.567890] ath10k_pci 0000:01:00.0: firmware crashed!",
    "Dec  3 17:51:10 ap1 netifd: Network device 'wlan0' link is up",
];

impl Agent for WifiAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        include_str!("../../../../config/log_schemas/wifi.yaml")
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        SAMPLE_LINES
    }

    fn synth(
        &self,
        config: &ValidSynthConfig,
        out: &mut dyn io::Write,
    ) -> io::Result<SynthSummary> {
        write_export(config, out)
    }

    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        frame::parse_frame(line, index, ctx)
    }

    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        message_fields(&record.message)
    }

    fn fit(&self, records: &[Record<'_>], config: &Config) -> Result<FeatureState, AgentError> {
        let features = &config.model.features;
        features
            .check()
            .map_err(|e| AgentError::BadState(format!("features: {e}")))?;
        let schema = FeatureSchema::new(features, ProcessVocabulary::from_records(records));
        feature_state(&schema)
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        let schema = schema_of(state)?;
        Ok(Box::new(WifiStream::new(&schema)))
    }

    /// The batch extractor ([`extract_records`]): the same rows as the stream, bit for bit,
    /// without a dynamic call per record.
    fn extract(
        &self,
        records: &[Record<'_>],
        state: &FeatureState,
    ) -> Result<FeatureRows, AgentError> {
        let schema = schema_of(state)?;
        let matrix = extract_records(
            records,
            &schema.config,
            Some(&schema.vocabulary),
            &mut |_, _| {},
        );
        Ok(FeatureRows {
            width: matrix.n_cols(),
            data: matrix.data,
            record_index: matrix.record_index,
            timestamps: matrix.timestamps,
            labels: matrix.labels,
        })
    }
}

/// The feature state of a `wifi-v1` schema: what [`WifiAgent::fit`] returns and what a wifi
/// model's `InputSchema::feature_state` gives.
pub fn feature_state(schema: &FeatureSchema) -> Result<FeatureState, AgentError> {
    Ok(FeatureState {
        log_type: LOG_TYPE.to_owned(),
        schema: schema.name.clone(),
        features: schema.features.clone(),
        state: serde_json::to_value(schema).map_err(|e| AgentError::BadState(e.to_string()))?,
    })
}

/// Reads back the schema of a wifi feature state, refusing another agent's state, another
/// feature schema, or a schema whose columns do not follow from its configuration.
pub fn schema_of(state: &FeatureState) -> Result<FeatureSchema, AgentError> {
    if state.log_type != LOG_TYPE {
        return Err(AgentError::WrongLogType {
            model: state.log_type.clone(),
            agent: LOG_TYPE.to_owned(),
        });
    }
    if state.schema != SCHEMA_NAME {
        return Err(AgentError::WrongFeatureSchema {
            model: state.schema.clone(),
            agent: SCHEMA_NAME.to_owned(),
        });
    }
    let schema = FeatureSchema::deserialize(&state.state)
        .map_err(|e| AgentError::BadState(format!("wifi-v1 schema: {e}")))?;
    if schema.name != SCHEMA_NAME {
        return Err(AgentError::WrongFeatureSchema {
            model: schema.name,
            agent: SCHEMA_NAME.to_owned(),
        });
    }
    schema
        .config
        .check()
        .map_err(|e| AgentError::BadState(format!("wifi-v1 schema: features: {e}")))?;
    if schema.features != feature_names(&schema.config) {
        return Err(AgentError::BadState(
            "wifi-v1 schema: its feature names are not the ones its configuration selects".into(),
        ));
    }
    if state.features != schema.features {
        return Err(AgentError::BadState(
            "the feature names differ from the wifi-v1 schema's".into(),
        ));
    }
    Ok(schema)
}

/// The typed fields of a wifi message: `interface`, `event`, `macs`, `events`.
fn message_fields(message: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = message.trim_start();
    // hostapd and wpa_supplicant prefix their lines with the interface: `wlan0: …`.
    if let Some((first, after)) = rest.split_once(' ') {
        if let Some(interface) = first.strip_suffix(':') {
            if !interface.is_empty()
                && interface.len() <= 16
                && interface
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                fields.push(("interface".to_owned(), interface.to_owned()));
                rest = after.trim_start();
            }
        }
    }
    // Control events: `AP-STA-CONNECTED`, `CTRL-EVENT-DISCONNECTED`, `WPS-PBC-ACTIVE`, …
    let word = rest.split(' ').next().unwrap_or_default();
    if word.contains('-')
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && word.bytes().any(|b| b.is_ascii_uppercase())
    {
        fields.push(("event".to_owned(), word.to_owned()));
    }
    let mut macs = Vec::new();
    for_each_mac(message, |mac| macs.push(format_mac(mac)));
    if !macs.is_empty() {
        fields.push(("macs".to_owned(), macs.join(",")));
    }
    let flags = event_flags(message);
    let events: Vec<&str> = EVENTS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, name)| name)
        .collect();
    if !events.is_empty() {
        fields.push(("events".to_owned(), events.join(",")));
    }
    fields
}

/// The keyword events of the `wifi-v1` features, by name (see [`crate::features`]).
const EVENTS: [(u8, &str); 6] = [
    (CONNECTION, "connection"),
    (AUTH, "auth"),
    (ERROR, "error"),
    (DEAUTH, "deauth"),
    (AUTH_FAILURE, "auth_failure"),
    (HANDSHAKE_TIMEOUT, "handshake_timeout"),
];

/// `aa:bb:cc:dd:ee:ff` of a 48-bit MAC address.
fn format_mac(mac: u64) -> String {
    let b = mac.to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[2], b[3], b[4], b[5], b[6], b[7]
    )
}
