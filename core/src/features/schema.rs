//! The `wifi-v1` feature schema: column names, their order, and what the model stores about them.
//!
//! The order of the columns is part of the schema. Each group below lists its columns in order;
//! the groups come in the order time, wifi_events, security, text, process, windows, and a group
//! that is switched off contributes no columns. [`extract`](super::extract) writes the columns
//! from the same arrays, so names and values cannot drift apart.

use serde::{Deserialize, Serialize};

use super::config::FeatureConfig;
use super::vocabulary::ProcessVocabulary;

/// Name of the feature schema this extractor produces.
pub const SCHEMA_NAME: &str = "wifi-v1";
/// Version of the extractor. Bumped whenever a value for the same input could change.
pub const EXTRACTOR_VERSION: &str = "1.0.0";

/// Time group, from the UTC timestamp.
///
/// - `hour_of_day`: 0–23.
/// - `day_of_week`: Monday 0 … Sunday 6.
/// - `minute_of_hour`: 0–59.
/// - `time_since_midnight`: seconds since UTC midnight including the fraction,
///   `hour*3600 + minute*60 + second + micro/1e6`.
/// - `is_weekend`: 1 on Saturday and Sunday.
/// - `is_business_hours`: 1 when `9 <= hour < 17`.
pub(crate) const TIME_FEATURES: [&str; 6] = [
    "hour_of_day",
    "day_of_week",
    "minute_of_hour",
    "time_since_midnight",
    "is_weekend",
    "is_business_hours",
];

/// WiFi-event group. Keywords match as ASCII-case-insensitive substrings of the message.
///
/// - `is_connection_event`: AP-STA-CONNECTED, AP-STA-DISCONNECTED, STA-ASSOC or STA-DISASSOC.
/// - `is_auth_event`: AUTH, AUTHENTICATION, LOGIN or LOGOUT. Plain substrings, so
///   "deauthenticated" and "unauthorized" count too — the predecessor's semantics, kept on purpose.
/// - `is_error_event`: ERROR, FAILED, DENIED or REJECTED.
/// - `mac_count`: number of whole MAC addresses (see [`super::text::for_each_mac`]).
/// - `ip_count`: number of whole dotted-quad IPv4 addresses (see [`super::text::ip_count`]).
/// - `message_length`: number of Unicode scalar values (Python's `len()`).
pub(crate) const WIFI_EVENT_FEATURES: [&str; 6] = [
    "is_connection_event",
    "is_auth_event",
    "is_error_event",
    "mac_count",
    "ip_count",
    "message_length",
];

/// Security group, same matching rules as the WiFi-event keywords.
///
/// - `is_deauth_event`: "deauth" or "disassoc".
/// - `is_auth_failure`: "psk-mismatch", "authentication failure" or "not allowed".
/// - `is_handshake_timeout`: "eapol-key timeout", "handshake timeout", "handshake_timeout"
///   (so "4-way handshake timeout", "group handshake timeout" and GROUP_KEY_HANDSHAKE_TIMEOUT),
///   or "retry limit" followed later in the message by "reached".
pub(crate) const SECURITY_FEATURES: [&str; 3] =
    ["is_deauth_event", "is_auth_failure", "is_handshake_timeout"];

/// Text group, computed over the message's characters (see [`super::text::TextStats`]).
///
/// - `word_count`: whitespace-separated tokens, like Python's `str.split()`.
/// - `special_char_count`: characters that are neither alphanumeric nor whitespace.
/// - `uppercase_ratio`: uppercase characters / all characters; 0 for an empty message.
/// - `number_count`: maximal runs of ASCII digits.
/// - `unique_chars`: number of distinct characters.
pub(crate) const TEXT_FEATURES: [&str; 5] = [
    "word_count",
    "special_char_count",
    "uppercase_ratio",
    "number_count",
    "unique_chars",
];

/// Process group.
///
/// - `process_rank`: rank of the record's process in the training vocabulary (1 = most frequent),
///   0 for a process the training data never saw.
/// - `process_frequency`: share of training records from that process, 0 when unseen.
/// - `log_level_numeric`: DEBUG 0, INFO 1, WARNING 2, ERROR 3, CRITICAL 4.
pub(crate) const PROCESS_FEATURES: [&str; 3] =
    ["process_rank", "process_frequency", "log_level_numeric"];

/// Window group: six columns per window width `w` (minutes), suffixed `_{w}m`.
///
/// The window of a row is that row and every earlier row in timestamp order (ties keep input
/// order) whose timestamp is at least `t - w` minutes: causal, as an agent reading the log in
/// order only knows the past and the present record.
///
/// - `connection_count`: rows with `is_connection_event`.
/// - `unique_macs`: distinct MAC addresses (case and separator ignored) in the rows' messages.
/// - `error_count`: rows with `is_error_event`.
/// - `process_diversity`: distinct process names.
/// - `deauth_count`: rows with `is_deauth_event`.
/// - `auth_failure_count`: rows with `is_auth_failure`.
///
/// The event flags are computed even when their own groups are off.
pub(crate) const WINDOW_FEATURES: [&str; 6] = [
    "connection_count",
    "unique_macs",
    "error_count",
    "process_diversity",
    "deauth_count",
    "auth_failure_count",
];

/// The feature columns `config` selects, in schema order.
pub fn feature_names(config: &FeatureConfig) -> Vec<String> {
    let groups = &config.groups;
    let mut names = Vec::new();
    for (on, group) in [
        (groups.time, &TIME_FEATURES[..]),
        (groups.wifi_events, &WIFI_EVENT_FEATURES[..]),
        (groups.security, &SECURITY_FEATURES[..]),
        (groups.text, &TEXT_FEATURES[..]),
        (groups.process, &PROCESS_FEATURES[..]),
    ] {
        if on {
            names.extend(group.iter().map(|&name| name.to_owned()));
        }
    }
    if groups.windows {
        for minutes in &config.window_minutes {
            names.extend(
                WINDOW_FEATURES
                    .iter()
                    .map(|name| format!("{name}_{minutes}m")),
            );
        }
    }
    names
}

/// What a model needs to know to rebuild its input: the schema name and extractor version, the
/// columns in order, the configuration that selected them and the training process vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSchema {
    /// [`SCHEMA_NAME`].
    pub name: String,
    /// [`EXTRACTOR_VERSION`] of the extractor that produced the features.
    pub extractor_version: String,
    /// Column names in order.
    pub features: Vec<String>,
    /// The configuration the columns came from.
    pub config: FeatureConfig,
    /// Process vocabulary of the training data.
    pub vocabulary: ProcessVocabulary,
}

impl FeatureSchema {
    /// The schema this extractor produces for `config` with `vocabulary`.
    pub fn new(config: &FeatureConfig, vocabulary: ProcessVocabulary) -> Self {
        FeatureSchema {
            name: SCHEMA_NAME.to_owned(),
            extractor_version: EXTRACTOR_VERSION.to_owned(),
            features: feature_names(config),
            config: config.clone(),
            vocabulary,
        }
    }

    /// Column index of a feature, by name.
    pub fn index_of(&self, feature: &str) -> Option<usize> {
        self.features.iter().position(|name| name == feature)
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the schema has no columns.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::FeatureGroups;
    use super::*;

    #[test]
    fn default_schema_order() {
        let names = feature_names(&FeatureConfig::default());
        assert_eq!(names.len(), 6 + 6 + 3 + 5 + 3 + 18);
        assert_eq!(names[0], "hour_of_day");
        assert_eq!(names[6], "is_connection_event");
        assert_eq!(names[12], "is_deauth_event");
        assert_eq!(names[15], "word_count");
        assert_eq!(names[20], "process_rank");
        assert_eq!(
            &names[23..29],
            [
                "connection_count_5m",
                "unique_macs_5m",
                "error_count_5m",
                "process_diversity_5m",
                "deauth_count_5m",
                "auth_failure_count_5m"
            ]
        );
        assert_eq!(names[29], "connection_count_15m");
        assert_eq!(names[40], "auth_failure_count_60m");
    }

    #[test]
    fn switched_off_groups_drop_their_columns() {
        let config = FeatureConfig {
            groups: FeatureGroups {
                wifi_events: false,
                text: false,
                ..FeatureGroups::default()
            },
            window_minutes: vec![30],
        };
        let names = feature_names(&config);
        assert_eq!(names.len(), 6 + 3 + 3 + 6);
        for gone in ["mac_count", "word_count", "unique_macs_5m"] {
            assert!(!names.iter().any(|n| n == gone), "{gone}");
        }
        assert_eq!(names[6], "is_deauth_event");
        assert_eq!(names[9], "process_rank");
        assert_eq!(names[12], "connection_count_30m");
    }

    #[test]
    fn schema_round_trips_through_json() {
        let schema = FeatureSchema::new(&FeatureConfig::default(), ProcessVocabulary::default());
        assert_eq!(schema.name, "wifi-v1");
        assert_eq!(schema.index_of("unique_chars"), Some(19));
        assert_eq!(schema.index_of("nope"), None);
        assert_eq!(schema.len(), 41);
        let json = serde_json::to_string(&schema).unwrap_or_default();
        let back: Result<FeatureSchema, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(schema));
    }
}
