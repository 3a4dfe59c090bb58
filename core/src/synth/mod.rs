//! Realistic synthetic exports with injected attacks (`mcp-train synth`).
//!
//! A seeded simulation of a small Wi-Fi site — several OpenWrt access points (`hostapd`, kernel),
//! a gateway (`dnsmasq`, `netifd`) and a fixed pool of known clients, some of which ship their own
//! `wpa_supplicant` logs — writes an export in the format [`crate::export`] reads. Normal
//! traffic (label 0) follows a day/night and weekday/weekend rhythm and includes the ordinary
//! failures of real networks: a mistyped password, a lost EAPOL frame, a station dropped for
//! inactivity. Labelled incidents (label 1) are bursts of four kinds — deauthentication flood,
//! PSK brute force, handshake-timeout storm, night-time flood of never-seen MACs — interleaved
//! with the normal traffic at their time.
//!
//! The output depends only on the configuration: the same configuration gives the same bytes on
//! every platform (ChaCha8 RNG, `libm`, no clock). It is streamed to the writer in chunks, so a
//! million-record export (~280 MB) needs a few hundred kilobytes of memory.
//!
//! ```
//! use mcp_train_core::synth::{write_export, SynthConfig};
//!
//! let config = SynthConfig { records: 2_000, anomaly_ratio: 0.1, ..SynthConfig::default() };
//! let mut out = Vec::new();
//! let summary = write_export(&config.check().unwrap(), &mut out).unwrap();
//! assert_eq!(summary.records, 2_000);
//! assert_eq!(summary.anomalies, 200);
//! assert_eq!(summary.bytes, out.len() as u64);
//! ```

mod engine;
mod event;
mod incident;
pub(crate) mod portable;
mod rhythm;
mod world;
pub(crate) mod writer;

use std::io::{self, Write};

use serde::Serialize;

use crate::time::{format_iso8601, MICROS_PER_DAY};

/// Largest export `check` accepts.
pub const MAX_RECORDS: usize = 50_000_000;
/// Largest share of labelled records.
pub const MAX_ANOMALY_RATIO: f64 = 0.5;
/// 2024-01-01T00:00:00Z, the default start of the span.
pub const DEFAULT_START_MICROS: i64 = 1_704_067_200_000_000;
/// 9000-01-01T00:00:00Z: the latest start (keeps years at four digits).
pub const MAX_START_MICROS: i64 = 221_845_392_000_000_000;

/// The processes the generator writes lines for (`export_metadata.programs`).
pub const PROGRAMS: [&str; 6] = [
    "hostapd",
    "wpa_supplicant",
    "dnsmasq-dhcp",
    "dnsmasq",
    "netifd",
    "kernel",
];

/// Parameters of a synthetic export; [`SynthConfig::check`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Records to write (exactly), 1 ..= 50 000 000.
    pub records: usize,
    /// Share of records labelled 1, in [0, 0.5]; exactly `round(records × ratio)` are.
    pub anomaly_ratio: f64,
    /// RNG seed: the same configuration always gives the same bytes.
    pub seed: u64,
    /// Start of the span, microseconds since the epoch (UTC).
    pub start_micros: i64,
    /// Length of the span in days, 1 ..= 366.
    pub days: u32,
    /// Access points `ap-01`…, 1 ..= 64.
    pub access_points: usize,
    /// Known client devices, 1 ..= 100 000.
    pub clients: usize,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            records: 10_000,
            anomaly_ratio: 0.05,
            seed: 42,
            start_micros: DEFAULT_START_MICROS,
            days: 7,
            access_points: 4,
            clients: 60,
        }
    }
}

/// Why a [`SynthConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    /// `records` outside 1 to 50 000 000.
    #[error("records: {value} is out of range [1, 50000000]")]
    Records {
        /// The value given.
        value: usize,
    },
    /// `anomaly_ratio` outside 0 to 0.5.
    #[error("anomaly_ratio: {value} is out of range [0, 0.5]")]
    AnomalyRatio {
        /// The value given.
        value: f64,
    },
    /// `days` outside 1 to 366.
    #[error("days: {value} is out of range [1, 366]")]
    Days {
        /// The value given.
        value: u32,
    },
    /// `access_points` outside 1 to 64.
    #[error("access_points: {value} is out of range [1, 64]")]
    AccessPoints {
        /// The value given.
        value: usize,
    },
    /// `clients` outside 1 to 100 000.
    #[error("clients: {value} is out of range [1, 100000]")]
    Clients {
        /// The value given.
        value: usize,
    },
    /// `start_micros` outside 0 (1970-01-01) to 9000-01-01, in microseconds since the Unix epoch.
    #[error(
        "start_micros: {value} is out of range [0, 221845392000000000] (1970-01-01 to 9000-01-01)"
    )]
    StartMicros {
        /// The value given.
        value: i64,
    },
}

/// A [`SynthConfig`] that passed [`SynthConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSynthConfig(SynthConfig);

impl SynthConfig {
    /// Validates the parameters.
    pub fn check(&self) -> Result<ValidSynthConfig, SynthError> {
        if !(1..=MAX_RECORDS).contains(&self.records) {
            return Err(SynthError::Records {
                value: self.records,
            });
        }
        if !(self.anomaly_ratio.is_finite()
            && (0.0..=MAX_ANOMALY_RATIO).contains(&self.anomaly_ratio))
        {
            return Err(SynthError::AnomalyRatio {
                value: self.anomaly_ratio,
            });
        }
        if !(1..=366).contains(&self.days) {
            return Err(SynthError::Days { value: self.days });
        }
        if !(1..=64).contains(&self.access_points) {
            return Err(SynthError::AccessPoints {
                value: self.access_points,
            });
        }
        if !(1..=100_000).contains(&self.clients) {
            return Err(SynthError::Clients {
                value: self.clients,
            });
        }
        if !(0..=MAX_START_MICROS).contains(&self.start_micros) {
            return Err(SynthError::StartMicros {
                value: self.start_micros,
            });
        }
        Ok(ValidSynthConfig(self.clone()))
    }
}

impl ValidSynthConfig {
    /// The checked parameters.
    pub fn config(&self) -> &SynthConfig {
        &self.0
    }

    /// How many records are labelled 1: `round(records × anomaly_ratio)`.
    pub fn anomalies(&self) -> usize {
        let exact = self.0.records as f64 * self.0.anomaly_ratio;
        (exact.round() as usize).min(self.0.records)
    }

    /// End of the span (exclusive), also the export's `created_at`.
    pub fn end_micros(&self) -> i64 {
        self.0.start_micros + i64::from(self.0.days) * MICROS_PER_DAY
    }
}

/// The four kinds of injected incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Spoofed deauthentication frames: many stations of one AP deauthenticated within seconds.
    DeauthFlood,
    /// Online password guessing: bursts of `AP-STA-POSSIBLE-PSK-MISMATCH` from one to three MACs.
    PskBruteForce,
    /// 4-way / group key handshakes timing out for station after station (`EAPOL-Key timeout`).
    HandshakeTimeoutStorm,
    /// Between 01:00 and 05:00, many never-seen MACs join (or try to).
    NightMacFlood,
}

impl IncidentKind {
    /// All kinds, in the order labelled records are shared out.
    pub const ALL: [IncidentKind; 4] = [
        IncidentKind::DeauthFlood,
        IncidentKind::PskBruteForce,
        IncidentKind::HandshakeTimeoutStorm,
        IncidentKind::NightMacFlood,
    ];

    /// The snake_case name used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::DeauthFlood => "deauth_flood",
            IncidentKind::PskBruteForce => "psk_brute_force",
            IncidentKind::HandshakeTimeoutStorm => "handshake_timeout_storm",
            IncidentKind::NightMacFlood => "night_mac_flood",
        }
    }
}

/// One injected incident as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentSummary {
    /// Which of the four kinds of incident it is.
    pub kind: IncidentKind,
    /// Timestamp of its first record (ISO 8601).
    pub start: String,
    /// Timestamp of its last record (ISO 8601).
    pub end: String,
    /// Records it wrote (all labelled 1).
    pub records: usize,
}

/// What [`write_export`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthSummary {
    /// Records written.
    pub records: usize,
    /// Records labelled 1.
    pub anomalies: usize,
    /// Incidents in order of their start.
    pub incidents: Vec<IncidentSummary>,
    /// Bytes handed to the writer.
    pub bytes: u64,
}

#[derive(Serialize)]
struct ExportMetadata<'a> {
    created_at: String,
    total_records: usize,
    format: &'static str,
    export_id: String,
    programs: &'a [&'a str],
    generator: &'static str,
    seed: u64,
    anomaly_ratio: f64,
}

/// Writes the whole export as JSON to `out` and returns a summary.
///
/// The export is produced record by record and handed to `out` in chunks of about 64 KiB, so
/// memory stays small whatever the record count; wrapping `out` in a `BufWriter` is not needed.
/// `out` is flushed at the end. The only errors are `out`'s.
pub fn write_export<W: Write>(config: &ValidSynthConfig, out: W) -> io::Result<SynthSummary> {
    let cfg = config.config();
    let mut generator = engine::Generator::new(config);
    let mut sink = writer::ChunkedSink::new(out);
    let metadata = ExportMetadata {
        created_at: format_iso8601(config.end_micros()),
        total_records: cfg.records,
        format: "json",
        export_id: format!("synth_{}_{}", cfg.seed, cfg.records),
        programs: &PROGRAMS,
        generator: "mcp-train synth",
        seed: cfg.seed,
        anomaly_ratio: cfg.anomaly_ratio,
    };
    sink.buf.extend_from_slice(b"{\"export_metadata\":");
    serde_json::to_writer(&mut sink.buf, &metadata).map_err(io::Error::other)?;
    sink.buf.extend_from_slice(b",\"data\":[\n");

    let mut records = writer::RecordWriter::new();
    let mut written: usize = 0;
    let mut anomalies: usize = 0;
    while let Some(event) = generator.next_event() {
        if written > 0 {
            sink.buf.extend_from_slice(b",\n");
        }
        written += 1;
        anomalies += usize::from(event.is_anomaly());
        records.push(&mut sink.buf, written as u64, &event, &generator.world);
        sink.maybe_flush()?;
    }
    sink.buf.extend_from_slice(b"\n]}\n");
    let bytes = sink.finish()?;

    let mut incidents: Vec<(i64, IncidentSummary)> = generator
        .incidents
        .iter()
        .zip(&generator.tallies)
        .filter(|(_, tally)| tally.records > 0)
        .map(|(incident, tally)| {
            (
                tally.first,
                IncidentSummary {
                    kind: incident.kind,
                    start: format_iso8601(tally.first),
                    end: format_iso8601(tally.last),
                    records: tally.records,
                },
            )
        })
        .collect();
    incidents.sort_by_key(|(first, summary)| (*first, summary.kind));
    Ok(SynthSummary {
        records: written,
        anomalies,
        incidents: incidents.into_iter().map(|(_, s)| s).collect(),
        bytes,
    })
}

#[cfg(test)]
mod tests;
