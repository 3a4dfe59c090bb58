//! The validation report: what is wrong or odd in an export, grouped by kind, and a summary.

use serde::{Deserialize, Serialize};

use super::record::ExportFormat;

/// Whether an issue stops training (error) or is only worth knowing (warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Stops training unless the bad records are dropped.
    Error,
    /// Worth knowing; training goes on.
    Warning,
}

/// Every kind of problem the validator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    // Errors about the file as a whole.
    /// Zero bytes, or only white space.
    Empty,
    /// Not JSON / NDJSON (with line and column).
    NotJson,
    /// JSON, but not an export object, an array of records, or NDJSON records.
    NotAnExport,
    /// The export holds no records.
    NoRecords,
    // Errors about one record.
    /// An element of the records is not a JSON object.
    NotAnObject,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong JSON type.
    WrongType,
    /// `timestamp` is not ISO 8601.
    BadTimestamp,
    /// `log_level` is not a known level or alias.
    BadLevel,
    /// `label` is not 0/1, or `is_anomaly` is not a boolean.
    BadLabel,
    /// A value is not one of the log schema's allowed values, or does not match its pattern.
    DisallowedValue,
    /// A raw log line the agent cannot read (with line and column).
    BadLine,
    // Warnings.
    /// A timestamp without a zone, read as UTC.
    TimestampWithoutZone,
    /// A level alias such as WARN or FATAL, mapped to one of the five levels.
    LevelAlias,
    /// A record is earlier than the record before it.
    TimeGoesBackwards,
    /// The same timestamp, process, level and message as an earlier record.
    DuplicateRecord,
    /// A year before 2000 or after 2100: an unset or wrong device clock.
    ImplausibleTimestamp,
    /// The message spans several lines.
    MultilineMessage,
    /// The message holds control characters other than tab and line breaks.
    ControlCharacters,
    /// The message holds non-ASCII text.
    NonAscii,
    /// The message is empty.
    EmptyMessage,
    /// The message is longer than the configured limit.
    LongMessage,
    /// `process_name` is empty.
    EmptyProcessName,
    /// `process_name` has spaces, unusual characters or is very long.
    UnusualProcessName,
    /// A field we read appears twice in one record; the last one was used.
    DuplicateField,
    /// `label` and `is_anomaly` disagree; `label` was used.
    ConflictingLabels,
    /// Some records are labelled and some are not.
    PartialLabels,
    /// `export_metadata.total_records` differs from the records found.
    MetadataCountMismatch,
    /// `export_metadata` is not an object, or a field of it has the wrong type.
    BadMetadata,
    /// Few records come from WiFi processes.
    FewWifiRecords,
    /// A field the log schema does not declare (ignored).
    UnknownField,
    /// A field read through its former name (`renamed_from` in the log schema).
    RenamedField,
    /// A field the log schema marks deprecated.
    DeprecatedField,
    /// An optional field added in a later schema version is absent; its default applies.
    DefaultApplied,
}

impl IssueKind {
    /// Whether this kind stops training.
    pub fn severity(self) -> Severity {
        use IssueKind::*;
        match self {
            Empty | NotJson | NotAnExport | NoRecords | NotAnObject | MissingField | WrongType
            | BadTimestamp | BadLevel | BadLabel | DisallowedValue | BadLine => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        use IssueKind::*;
        match self {
            Empty => "empty",
            NotJson => "not_json",
            NotAnExport => "not_an_export",
            NoRecords => "no_records",
            NotAnObject => "not_an_object",
            MissingField => "missing_field",
            WrongType => "wrong_type",
            BadTimestamp => "bad_timestamp",
            BadLevel => "bad_level",
            BadLabel => "bad_label",
            DisallowedValue => "disallowed_value",
            BadLine => "bad_line",
            TimestampWithoutZone => "timestamp_without_zone",
            LevelAlias => "level_alias",
            TimeGoesBackwards => "time_goes_backwards",
            DuplicateRecord => "duplicate_record",
            ImplausibleTimestamp => "implausible_timestamp",
            MultilineMessage => "multiline_message",
            ControlCharacters => "control_characters",
            NonAscii => "non_ascii",
            EmptyMessage => "empty_message",
            LongMessage => "long_message",
            EmptyProcessName => "empty_process_name",
            UnusualProcessName => "unusual_process_name",
            DuplicateField => "duplicate_field",
            ConflictingLabels => "conflicting_labels",
            PartialLabels => "partial_labels",
            MetadataCountMismatch => "metadata_count_mismatch",
            BadMetadata => "bad_metadata",
            FewWifiRecords => "few_wifi_records",
            UnknownField => "unknown_field",
            RenamedField => "renamed_field",
            DeprecatedField => "deprecated_field",
            DefaultApplied => "default_applied",
        }
    }

    /// One line saying what the kind means, for reports.
    pub fn description(self) -> &'static str {
        use IssueKind::*;
        match self {
            Empty => "the input is empty",
            NotJson => "the input is not JSON",
            NotAnExport => "the JSON is not an export",
            NoRecords => "the export has no records",
            NotAnObject => "a record is not a JSON object",
            MissingField => "a required field is missing",
            WrongType => "a field has the wrong type",
            BadTimestamp => "a timestamp is not ISO 8601",
            BadLevel => "a log level is unknown",
            BadLabel => "a label is not 0/1 or a boolean",
            DisallowedValue => "a value is not allowed by the log schema",
            BadLine => "a raw log line cannot be read",
            TimestampWithoutZone => "timestamps without a time zone were read as UTC",
            LevelAlias => "level aliases were mapped to standard levels",
            TimeGoesBackwards => "time goes backwards (records are sorted before features)",
            DuplicateRecord => "records repeat an earlier record exactly",
            ImplausibleTimestamp => "timestamps before 2000 or after 2100 (device clock not set?)",
            MultilineMessage => "messages span several lines",
            ControlCharacters => "messages hold control characters",
            NonAscii => "messages hold non-ASCII text",
            EmptyMessage => "messages are empty",
            LongMessage => "messages are unusually long",
            EmptyProcessName => "process names are empty",
            UnusualProcessName => "process names look unusual",
            DuplicateField => "a field appears twice in a record (the last one was used)",
            ConflictingLabels => "label and is_anomaly disagree (label was used)",
            PartialLabels => "only some records are labelled",
            MetadataCountMismatch => "export_metadata.total_records differs from the records found",
            BadMetadata => "export_metadata is malformed (ignored)",
            FewWifiRecords => "few records come from WiFi processes",
            UnknownField => "fields not in the log schema (ignored)",
            RenamedField => "fields under a former name (read as the current name)",
            DeprecatedField => "deprecated fields",
            DefaultApplied => {
                "optional fields added in a later schema version are absent (their default applies)"
            }
        }
    }
}

/// One occurrence of an issue: what, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// What kind of problem this is.
    pub kind: IssueKind,
    /// 0-based record index in the input, when the issue concerns one record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record: Option<usize>,
    /// 1-based line in the input, where known (syntax errors, NDJSON records).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    /// 1-based column in the input, where known (syntax errors).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<usize>,
    /// The field concerned, where one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl Issue {
    /// "record 12, field \"timestamp\"" / "line 3, column 7" / "" — where the issue is.
    pub fn location(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => parts.push(format!("line {l}, column {c}")),
            (Some(l), None) => parts.push(format!("line {l}")),
            _ => {}
        }
        if let Some(f) = &self.field {
            parts.push(format!("field \"{f}\""));
        }
        parts.join(", ")
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let location = self.location();
        if location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{location}: {}", self.message)
        }
    }
}

/// All occurrences of one kind: how many, and the first few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueGroup {
    /// The kind of problem.
    pub kind: IssueKind,
    /// Whether the kind stops training.
    pub severity: Severity,
    /// One line saying what the kind means.
    pub description: String,
    /// Occurrences in the export.
    pub count: usize,
    /// The first few occurrences (at most `max_examples`).
    pub examples: Vec<Issue>,
}

/// Records left out because of `drop_invalid`, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Records left out.
    pub count: usize,
    /// The errors that made them bad, grouped by kind.
    pub reasons: Vec<IssueGroup>,
}

/// A name with a count and a share of the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// A process name or log level.
    pub name: String,
    /// Records with that name.
    pub count: usize,
    /// Their share of the usable records, 0–1.
    pub share: f64,
}

/// Statistics of message lengths, in characters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LengthStats {
    /// Shortest message.
    pub min: usize,
    /// Longest message.
    pub max: usize,
    /// Mean length.
    pub mean: f64,
    /// Median length.
    pub p50: usize,
    /// 95th percentile of the lengths.
    pub p95: usize,
}

/// The first and last timestamps of the usable records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimeRange {
    /// Earliest timestamp (ISO 8601 UTC).
    pub start: String,
    /// Latest timestamp (ISO 8601 UTC).
    pub end: String,
    /// Seconds from the earliest to the latest record.
    pub span_seconds: f64,
}

/// What the usable records hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Records usable for training.
    pub records: usize,
    /// First and last timestamps; `None` when there are no usable records.
    pub time_range: Option<TimeRange>,
    /// Process names, most frequent first (at most 50; the rest are counted in `other_processes`).
    pub processes: Vec<Count>,
    /// Different process names seen.
    pub distinct_processes: usize,
    /// Records from processes beyond the 50 listed.
    pub other_processes: usize,
    /// Log levels, DEBUG to CRITICAL.
    pub levels: Vec<Count>,
    /// Message lengths, in characters.
    pub message_length: LengthStats,
    /// Share of records from WiFi processes (hostapd, wpa_supplicant, …), 0–1.
    pub wifi_share: f64,
    /// Records with a label, and how many of those are anomalies.
    pub labelled: usize,
    /// Labelled records that are anomalies.
    pub anomalies: usize,
}

/// The full report of one validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Usable for training: no errors (or bad records dropped on request) and at least one record.
    pub valid: bool,
    /// The shape the export came in, when it could be read.
    pub format: Option<ExportFormat>,
    /// Records (or NDJSON lines) found in the input, good and bad.
    pub records_seen: usize,
    /// Problems that stop training, grouped by kind.
    pub errors: Vec<IssueGroup>,
    /// Problems worth knowing, grouped by kind.
    pub warnings: Vec<IssueGroup>,
    /// Present when bad records were dropped on request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dropped: Option<Dropped>,
    /// What the usable records hold.
    pub summary: Summary,
}

impl ValidationReport {
    /// Total number of error occurrences.
    pub fn error_count(&self) -> usize {
        self.errors.iter().map(|g| g.count).sum()
    }

    /// Total number of warning occurrences.
    pub fn warning_count(&self) -> usize {
        self.warnings.iter().map(|g| g.count).sum()
    }

    /// The earliest error in the input, for one-line messages.
    pub fn first_error(&self) -> Option<&Issue> {
        self.errors
            .iter()
            .flat_map(|g| g.examples.iter())
            .min_by_key(|i| (i.record.unwrap_or(0), i.line.unwrap_or(0)))
    }

    /// The count for one kind among errors, warnings and dropped records (0 when absent).
    pub fn count_of(&self, kind: IssueKind) -> usize {
        let dropped = self.dropped.iter().flat_map(|d| d.reasons.iter());
        self.errors
            .iter()
            .chain(self.warnings.iter())
            .chain(dropped)
            .filter(|g| g.kind == kind)
            .map(|g| g.count)
            .sum()
    }
}
