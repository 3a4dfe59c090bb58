//! Record-by-record validation: turns raw records into typed ones and tallies every issue.

use std::borrow::Cow;
use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use super::raw::{RawItem, RawRecord, RawValue};
use super::record::{Export, ExportFormat, ExportMetadata, LogLevel, Record};
use super::report::{
    Count, Dropped, Issue, IssueGroup, IssueKind, LengthStats, Severity, Summary, TimeRange,
    ValidationReport,
};
use super::ValidateOptions;
use crate::agent::log_schema::{FieldSpec, Scalar, ValueProblem, ENVELOPE};
use crate::agent::{parse_semver, LogSchema};
use crate::time::{format_iso8601, parse_iso8601, CivilTime, MICROS_PER_SECOND};

/// How often (in records) the progress callback is called.
const PROGRESS_EVERY: usize = 1 << 16;
/// Processes listed by name in the summary; the rest are counted together.
const SUMMARY_PROCESSES: usize = 50;

/// Whether a process name belongs to the WiFi stack (for the summary's WiFi share).
pub fn is_wifi_process(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    lower.starts_with("hostapd")
        || lower.starts_with("wpa_")
        || matches!(
            lower.as_str(),
            "iwd" | "wlceventd" | "mac80211" | "cfg80211" | "nl80211" | "wifi" | "wlan"
        )
}

/// Count and first examples of one issue kind.
#[derive(Debug, Default)]
struct Tally {
    count: usize,
    examples: Vec<Issue>,
}

/// Accumulates typed records, issues and summary statistics as records stream in.
pub(crate) struct Validator<'a> {
    opts: ValidateOptions,
    records: Vec<Record<'a>>,
    seen: usize,
    bad_records: usize,
    tallies: Vec<(IssueKind, Tally)>,
    previous_timestamp: Option<i64>,
    fingerprints: FxHashSet<u64>,
    processes: FxHashMap<String, usize>,
    levels: [usize; 5],
    lengths: Vec<u32>,
    wifi_records: usize,
    labelled: usize,
    anomalies: usize,
    progress: Option<Box<dyn FnMut(usize) + 'a>>,
    /// The log schema driving validation, when there is one.
    schema: Option<SchemaPlan>,
    /// Which schema fields the current record carries (reused between records).
    present: Vec<bool>,
}

/// A log schema prepared for checking records.
#[derive(Debug)]
struct SchemaPlan {
    schema: LogSchema,
    /// Current and former field names → (field index, whether the name is a former one).
    names: FxHashMap<String, (usize, bool)>,
    /// Whether each field is one the export reader reads itself.
    envelope: Vec<bool>,
    /// The schema's first version: optional fields since a later one warn when defaulted.
    base: (u64, u64, u64),
}

impl SchemaPlan {
    fn new(schema: &LogSchema) -> SchemaPlan {
        let mut names = FxHashMap::default();
        for (i, field) in schema.fields().iter().enumerate() {
            names.insert(field.name.clone(), (i, false));
            for old in &field.renamed_from {
                names.insert(old.clone(), (i, true));
            }
        }
        SchemaPlan {
            envelope: schema
                .fields()
                .iter()
                .map(|f| ENVELOPE.iter().any(|(name, _, _)| *name == f.name))
                .collect(),
            base: schema.base_version(),
            names,
            schema: schema.clone(),
        }
    }

    /// The envelope field (index into [`ENVELOPE`]) whose former name is `name`.
    fn envelope_alias(&self, name: &str) -> Option<(usize, &FieldSpec)> {
        let (i, former) = *self.names.get(name)?;
        let field = &self.schema.fields()[i];
        let slot = ENVELOPE.iter().position(|(n, _, _)| *n == field.name)?;
        former.then_some((slot, field))
    }
}

/// The reader's slot of envelope field `i` (in [`ENVELOPE`] order).
fn envelope_slot<'r, 'a>(raw: &'r mut RawRecord<'a>, i: usize) -> &'r mut Option<RawValue<'a>> {
    match i {
        0 => &mut raw.timestamp,
        1 => &mut raw.message,
        2 => &mut raw.process_name,
        3 => &mut raw.log_level,
        4 => &mut raw.label,
        _ => &mut raw.is_anomaly,
    }
}

fn scalar<'v>(value: &'v RawValue<'_>) -> Scalar<'v> {
    match value {
        RawValue::Str(s) => Scalar::Str(s),
        RawValue::Int(i) => Scalar::Int(*i),
        RawValue::UInt(u) => Scalar::UInt(*u),
        RawValue::Float(f) => Scalar::Float(*f),
        RawValue::Bool(b) => Scalar::Bool(*b),
        RawValue::Null => Scalar::Null,
        RawValue::Array => Scalar::Array,
        RawValue::Object => Scalar::Object,
    }
}

impl std::fmt::Debug for Validator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("seen", &self.seen)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

/// Where an issue is, as far as known.
#[derive(Clone, Copy, Default)]
struct At {
    record: Option<usize>,
    line: Option<usize>,
    column: Option<usize>,
}

/// An issue about the export as a whole.
const WHOLE: At = At {
    record: None,
    line: None,
    column: None,
};

impl<'a> Validator<'a> {
    pub(crate) fn new(
        opts: &ValidateOptions,
        progress: Option<Box<dyn FnMut(usize) + 'a>>,
    ) -> Self {
        Validator {
            opts: opts.clone(),
            records: Vec::new(),
            seen: 0,
            bad_records: 0,
            tallies: Vec::new(),
            previous_timestamp: None,
            fingerprints: FxHashSet::default(),
            processes: FxHashMap::default(),
            levels: [0; 5],
            lengths: Vec::new(),
            wifi_records: 0,
            labelled: 0,
            anomalies: 0,
            progress,
            schema: None,
            present: Vec::new(),
        }
    }

    /// Validates against `schema` from now on: records keep their other fields for it.
    pub(crate) fn set_schema(&mut self, schema: &LogSchema) {
        self.schema = Some(SchemaPlan::new(schema));
    }

    /// Whether records should carry all their fields (validation against a log schema).
    pub(crate) fn wants_fields(&self) -> bool {
        self.schema.is_some()
    }

    /// Counts one issue and keeps it as an example while there is room. The message is built
    /// only for kept examples, so a million warnings cost a million increments, not strings.
    fn issue(
        &mut self,
        kind: IssueKind,
        at: At,
        field: Option<&str>,
        message: impl FnOnce() -> String,
    ) {
        let max = self.opts.max_examples;
        let tally = match self.tallies.iter_mut().position(|(k, _)| *k == kind) {
            Some(i) => &mut self.tallies[i].1,
            None => {
                self.tallies.push((kind, Tally::default()));
                let last = self.tallies.len() - 1;
                &mut self.tallies[last].1
            }
        };
        tally.count += 1;
        if tally.examples.len() < max {
            tally.examples.push(Issue {
                kind,
                record: at.record,
                line: at.line,
                column: at.column,
                field: field.map(str::to_owned),
                message: message(),
            });
        }
    }

    /// An NDJSON line that is not JSON: a bad record at that line and column.
    pub(crate) fn push_unreadable(&mut self, line: usize, column: usize, message: String) {
        let index = self.next_index();
        self.bad_records += 1;
        let at = At {
            record: Some(index),
            line: Some(line),
            column: Some(column),
        };
        self.issue(IssueKind::NotJson, at, None, || message);
    }

    /// One line of a raw log: a record the agent read, or the column and reason it could not.
    /// Issues name the 1-based line (a raw log has no record numbers).
    pub(crate) fn push_line(&mut self, read: Result<Record<'a>, (usize, String)>, line: usize) {
        self.next_index();
        match read {
            Ok(record) => self.accept(
                record,
                At {
                    record: None,
                    line: Some(line),
                    column: None,
                },
            ),
            Err((column, message)) => {
                self.bad_records += 1;
                let at = At {
                    record: None,
                    line: Some(line),
                    column: Some(column),
                };
                self.issue(IssueKind::BadLine, at, None, || message);
            }
        }
    }

    fn next_index(&mut self) -> usize {
        let index = self.seen;
        self.seen += 1;
        if self.seen % PROGRESS_EVERY == 0 {
            if let Some(progress) = self.progress.as_mut() {
                progress(self.seen);
            }
        }
        index
    }

    /// Validates one element of the records and keeps it when it is usable.
    pub(crate) fn push(&mut self, item: RawItem<'a>, line: Option<usize>) {
        let index = self.next_index();
        let at = At {
            record: Some(index),
            line,
            column: None,
        };
        let raw = match item {
            RawItem::Record(raw) => raw,
            RawItem::NotObject(kind) => {
                self.bad_records += 1;
                self.issue(IssueKind::NotAnObject, at, None, || {
                    format!("expected a record object, found {kind}")
                });
                return;
            }
        };
        match self.convert(raw, index, at) {
            Some(record) => self.accept(record, at),
            None => self.bad_records += 1,
        }
    }

    /// Reads a required string field, reporting a missing field or a wrong type.
    fn required_str(
        &mut self,
        value: Option<RawValue<'a>>,
        field: &'static str,
        at: At,
        expected: &'static str,
    ) -> Option<Cow<'a, str>> {
        match value {
            Some(RawValue::Str(s)) => Some(s),
            None => {
                self.issue(IssueKind::MissingField, at, Some(field), || {
                    format!("required field \"{field}\" is missing")
                });
                None
            }
            Some(other) => {
                let found = other.kind();
                self.issue(IssueKind::WrongType, at, Some(field), || {
                    format!("expected {expected}, found {found}")
                });
                None
            }
        }
    }

    /// Reads `label` (0/1, true/false) or `is_anomaly` (boolean, 0/1).
    fn label(
        &mut self,
        value: Option<RawValue<'a>>,
        field: &'static str,
        at: At,
    ) -> Result<Option<bool>, ()> {
        let Some(value) = value else {
            return Ok(None);
        };
        let label = match &value {
            RawValue::Null => return Ok(None),
            RawValue::Bool(b) => Some(*b),
            RawValue::Int(0) | RawValue::UInt(0) => Some(false),
            RawValue::Int(1) | RawValue::UInt(1) => Some(true),
            RawValue::Float(f) if *f == 0.0 => Some(false),
            RawValue::Float(f) if *f == 1.0 => Some(true),
            _ => None,
        };
        match label {
            Some(b) => Ok(Some(b)),
            None => {
                let shown = match &value {
                    RawValue::Str(s) => format!("string {:?}", truncate(s, 40)),
                    RawValue::Int(i) => format!("{i}"),
                    RawValue::UInt(u) => format!("{u}"),
                    RawValue::Float(f) => format!("{f}"),
                    other => other.kind().to_owned(),
                };
                self.issue(IssueKind::BadLabel, at, Some(field), || {
                    format!("expected 0/1 or true/false, found {shown}")
                });
                Err(())
            }
        }
    }

    /// Checks the required fields; `None` when the record has errors (all of them reported).
    fn convert(&mut self, mut raw: RawRecord<'a>, index: usize, at: At) -> Option<Record<'a>> {
        let plan = self.schema.take();
        let mut extra = std::mem::take(&mut raw.extra);
        if let Some(plan) = &plan {
            extra = self.resolve_envelope(plan, &mut raw, extra, at);
        }
        let record = self.convert_envelope(raw, index, at, plan.as_ref());
        let fields_ok = match &plan {
            Some(plan) => self.check_fields(plan, &extra, at),
            None => true,
        };
        self.schema = plan;
        record.filter(|_| fields_ok)
    }

    /// Moves envelope fields given under a former name into their slots (with a warning);
    /// returns the other fields.
    fn resolve_envelope(
        &mut self,
        plan: &SchemaPlan,
        raw: &mut RawRecord<'a>,
        extra: Vec<(Cow<'a, str>, RawValue<'a>)>,
        at: At,
    ) -> Vec<(Cow<'a, str>, RawValue<'a>)> {
        let mut rest = Vec::with_capacity(extra.len());
        for (name, value) in extra {
            let Some((slot, field)) = plan.envelope_alias(&name) else {
                rest.push((name, value));
                continue;
            };
            let current = field.name.as_str();
            let target = envelope_slot(raw, slot);
            if target.is_some() {
                self.issue(IssueKind::DuplicateField, at, Some(name.as_ref()), || {
                    format!(
                        "both \"{current}\" and its former name \"{name}\"; \"{current}\" was used"
                    )
                });
            } else {
                *target = Some(value);
                self.issue(IssueKind::RenamedField, at, Some(name.as_ref()), || {
                    format!("\"{name}\" is the former name of \"{current}\"; read as \"{current}\"")
                });
            }
        }
        rest
    }

    /// Checks the fields the reader does not read against the log schema; false on errors.
    fn check_fields(
        &mut self,
        plan: &SchemaPlan,
        extra: &[(Cow<'a, str>, RawValue<'a>)],
        at: At,
    ) -> bool {
        let fields = plan.schema.fields();
        let mut present = std::mem::take(&mut self.present);
        present.clear();
        present.resize(fields.len(), false);
        let mut ok = true;
        // Current names first, so a former name next to its current one can be told apart.
        for (name, value) in extra {
            match plan.names.get(name.as_ref()) {
                None => {
                    let (log_type, version) =
                        (plan.schema.log_type(), plan.schema.schema_version());
                    self.issue(IssueKind::UnknownField, at, Some(name.as_ref()), || {
                        format!("field \"{name}\" is not in the {log_type} log schema {version}; ignored")
                    });
                }
                Some(&(i, false)) => {
                    if present[i] {
                        self.issue(IssueKind::DuplicateField, at, Some(name.as_ref()), || {
                            format!(
                                "field \"{name}\" appears more than once; the last value was used"
                            )
                        });
                    }
                    present[i] = true;
                    ok &= self.check_value(&fields[i], name, value, at);
                }
                Some(_) => {}
            }
        }
        for (name, value) in extra {
            let Some(&(i, true)) = plan.names.get(name.as_ref()) else {
                continue;
            };
            let current = fields[i].name.as_str();
            if present[i] {
                self.issue(IssueKind::DuplicateField, at, Some(name.as_ref()), || {
                    format!(
                        "both \"{current}\" and its former name \"{name}\"; \"{current}\" was used"
                    )
                });
                continue;
            }
            present[i] = true;
            self.issue(IssueKind::RenamedField, at, Some(name.as_ref()), || {
                format!("\"{name}\" is the former name of \"{current}\"; read as \"{current}\"")
            });
            ok &= self.check_value(&fields[i], name, value, at);
        }
        for (i, field) in fields.iter().enumerate() {
            if plan.envelope[i] {
                continue;
            }
            let name = field.name.as_str();
            if present[i] {
                if let Some(why) = field.deprecation() {
                    self.issue(IssueKind::DeprecatedField, at, Some(name), || {
                        if why.is_empty() {
                            format!("field \"{name}\" is deprecated")
                        } else {
                            format!("field \"{name}\" is deprecated: {why}")
                        }
                    });
                }
            } else if field.required {
                ok = false;
                self.issue(IssueKind::MissingField, at, Some(name), || {
                    format!("required field \"{name}\" is missing")
                });
            } else if let Some(default) = &field.default {
                if parse_semver(&field.since).is_some_and(|since| since > plan.base) {
                    let since = field.since.as_str();
                    self.issue(IssueKind::DefaultApplied, at, Some(name), || {
                        format!("field \"{name}\" (added in schema version {since}) is absent; its default {default} applies")
                    });
                }
            }
        }
        self.present = present;
        ok
    }

    /// Checks one field's value; false (with the error reported) when it does not fit.
    fn check_value(&mut self, field: &FieldSpec, name: &str, value: &RawValue<'a>, at: At) -> bool {
        if matches!(value, RawValue::Null) && !field.required {
            return true;
        }
        match field.check_value(&scalar(value)) {
            Ok(()) => true,
            Err(problem) => {
                let kind = match problem {
                    ValueProblem::WrongType(_) => IssueKind::WrongType,
                    ValueProblem::NotAllowed(_) => IssueKind::DisallowedValue,
                };
                self.issue(kind, at, Some(name), || problem.message().to_owned());
                false
            }
        }
    }

    /// Checks a string envelope field's allowed values and pattern; false when it does not fit.
    fn check_envelope_string(
        &mut self,
        plan: Option<&SchemaPlan>,
        name: &'static str,
        value: &str,
        at: At,
    ) -> bool {
        let Some(field) = plan.and_then(|p| p.schema.field(name)) else {
            return true;
        };
        if field.allowed.is_empty() && field.pattern.is_none() {
            return true;
        }
        match field.check_value(&Scalar::Str(value)) {
            Ok(()) => true,
            Err(problem) => {
                self.issue(IssueKind::DisallowedValue, at, Some(name), || {
                    problem.message().to_owned()
                });
                false
            }
        }
    }

    /// Checks the fields the reader reads; `None` when the record has errors (all reported).
    fn convert_envelope(
        &mut self,
        raw: RawRecord<'a>,
        index: usize,
        at: At,
        plan: Option<&SchemaPlan>,
    ) -> Option<Record<'a>> {
        let RawRecord {
            timestamp,
            message,
            process_name,
            log_level,
            label,
            is_anomaly,
            host,
            duplicate_field,
            extra: _,
        } = raw;
        // The host is optional and informative: a non-string value is left out, not an error.
        let host = match host {
            Some(RawValue::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let mut ok = true;

        let timestamp = match self.required_str(timestamp, "timestamp", at, "an ISO 8601 string") {
            Some(text) => match parse_iso8601(&text) {
                Ok(parsed) => {
                    if !parsed.has_offset {
                        self.issue(
                            IssueKind::TimestampWithoutZone,
                            at,
                            Some("timestamp"),
                            || format!("{:?} has no time zone; read as UTC", truncate(&text, 40)),
                        );
                    }
                    Some(parsed.micros)
                }
                Err(e) => {
                    self.issue(IssueKind::BadTimestamp, at, Some("timestamp"), || {
                        e.to_string()
                    });
                    None
                }
            },
            None => None,
        };
        ok &= timestamp.is_some();

        let message = self.required_str(message, "message", at, "a string");
        ok &= message.is_some();
        if let Some(text) = &message {
            ok &= self.check_envelope_string(plan, "message", text, at);
        }
        let process_name = self.required_str(process_name, "process_name", at, "a string");
        ok &= process_name.is_some();
        if let Some(text) = &process_name {
            ok &= self.check_envelope_string(plan, "process_name", text, at);
        }

        let level = match self.required_str(log_level, "log_level", at, "a string") {
            Some(text) => match LogLevel::parse(&text) {
                Some((level, alias)) => {
                    if alias {
                        self.issue(IssueKind::LevelAlias, at, Some("log_level"), || {
                            format!("{:?} read as {}", truncate(&text, 20), level.as_str())
                        });
                    }
                    Some(level)
                }
                None => {
                    self.issue(IssueKind::BadLevel, at, Some("log_level"), || {
                        format!(
                            "unknown log level {:?} (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)",
                            truncate(&text, 40)
                        )
                    });
                    None
                }
            },
            None => None,
        };
        ok &= level.is_some();

        let label_value = self.label(label, "label", at);
        let anomaly_value = self.label(is_anomaly, "is_anomaly", at);
        let label = match (label_value, anomaly_value) {
            (Ok(l), Ok(a)) => {
                if let (Some(l), Some(a)) = (l, a) {
                    if l != a {
                        self.issue(IssueKind::ConflictingLabels, at, Some("label"), || {
                            format!(
                                "label is {} but is_anomaly is {a}; label was used",
                                u8::from(l)
                            )
                        });
                    }
                }
                l.or(a)
            }
            _ => {
                ok = false;
                None
            }
        };

        if let Some(field) = duplicate_field {
            self.issue(IssueKind::DuplicateField, at, Some(field), || {
                format!("field \"{field}\" appears more than once; the last value was used")
            });
        }

        match (ok, timestamp, message, process_name, level) {
            (true, Some(timestamp), Some(message), Some(process_name), Some(level)) => {
                Some(Record {
                    index,
                    timestamp,
                    message,
                    process_name,
                    host,
                    level,
                    label,
                })
            }
            _ => None,
        }
    }

    /// Warnings about a usable record, and its share of the summary.
    fn accept(&mut self, record: Record<'a>, at: At) {
        let ts = record.timestamp;
        if let Some(previous) = self.previous_timestamp {
            if ts < previous {
                self.issue(IssueKind::TimeGoesBackwards, at, Some("timestamp"), || {
                    format!(
                        "{} is {:.3} s before the previous record ({})",
                        format_iso8601(ts),
                        (previous - ts) as f64 / MICROS_PER_SECOND as f64,
                        format_iso8601(previous)
                    )
                });
            }
        }
        self.previous_timestamp = Some(ts);
        let year = CivilTime::from_micros(ts).year;
        if !(2000..=2100).contains(&year) {
            self.issue(
                IssueKind::ImplausibleTimestamp,
                at,
                Some("timestamp"),
                || format!("year {year} is implausible: device clock not set?"),
            );
        }

        let mut hasher = FxHasher::default();
        hasher.write_i64(ts);
        hasher.write_u8(record.level as u8);
        hasher.write(record.process_name.as_bytes());
        hasher.write_u8(0xff);
        hasher.write(record.message.as_bytes());
        if !self.fingerprints.insert(hasher.finish()) {
            self.issue(IssueKind::DuplicateRecord, at, None, || {
                "same timestamp, process, level and message as an earlier record".to_owned()
            });
        }

        let chars = self.message_warnings(&record.message, at);
        self.lengths.push(u32::try_from(chars).unwrap_or(u32::MAX));
        self.process_warnings(&record.process_name, at);

        match self.processes.get_mut(record.process_name.as_ref()) {
            Some(count) => *count += 1,
            None => {
                self.processes.insert(record.process_name.to_string(), 1);
            }
        }
        self.levels[record.level as usize] += 1;
        if let Some(label) = record.label {
            self.labelled += 1;
            self.anomalies += usize::from(label);
        }
        self.records.push(record);
    }

    /// Warns about odd messages; returns the length in characters.
    fn message_warnings(&mut self, message: &str, at: At) -> usize {
        let bytes = message.as_bytes();
        let mut non_ascii = false;
        let mut line_breaks = 0usize;
        let mut control = None;
        for &b in bytes {
            if b >= 0x80 {
                non_ascii = true;
            } else if b < 0x20 || b == 0x7f {
                match b {
                    b'\n' => line_breaks += 1,
                    b'\r' | b'\t' => {}
                    other => {
                        control.get_or_insert(other);
                    }
                }
            }
        }
        let chars = if non_ascii {
            message.chars().count()
        } else {
            bytes.len()
        };
        if bytes.is_empty() {
            self.issue(IssueKind::EmptyMessage, at, Some("message"), || {
                "message is empty".to_owned()
            });
        }
        if line_breaks > 0 {
            self.issue(IssueKind::MultilineMessage, at, Some("message"), || {
                format!("message has {} lines", line_breaks + 1)
            });
        }
        if let Some(c) = control {
            self.issue(IssueKind::ControlCharacters, at, Some("message"), || {
                format!("message holds control character U+{:04X}", c)
            });
        }
        if non_ascii {
            self.issue(IssueKind::NonAscii, at, Some("message"), || {
                format!("message holds non-ASCII text: {:?}", truncate(message, 60))
            });
        }
        if bytes.len() > self.opts.long_message_bytes {
            let limit = self.opts.long_message_bytes;
            self.issue(IssueKind::LongMessage, at, Some("message"), || {
                format!("message is {} bytes (more than {limit})", bytes.len())
            });
        }
        chars
    }

    fn process_warnings(&mut self, name: &str, at: At) {
        if name.is_empty() {
            self.issue(
                IssueKind::EmptyProcessName,
                at,
                Some("process_name"),
                || "process name is empty".to_owned(),
            );
            return;
        }
        let usual = name.len() <= 64
            && name.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'.' | b'_' | b'-' | b'/' | b'(' | b')' | b'@' | b':' | b'[' | b']' | b'+'
                    )
            });
        if !usual {
            self.issue(
                IssueKind::UnusualProcessName,
                at,
                Some("process_name"),
                || {
                    format!(
                        "process name {:?} has spaces or unusual characters",
                        truncate(name, 40)
                    )
                },
            );
        }
    }

    /// Builds the export and the report.
    pub(crate) fn finish(
        mut self,
        format: ExportFormat,
        metadata: Option<serde_json::Value>,
    ) -> (Export<'a>, ValidationReport) {
        if let Some(progress) = self.progress.as_mut() {
            progress(self.seen);
        }
        let metadata = metadata.map(|m| self.read_metadata(m));
        if let Some(expected) = metadata.as_ref().and_then(|m| m.total_records) {
            if expected != self.seen as u64 {
                let seen = self.seen;
                self.issue(IssueKind::MetadataCountMismatch, WHOLE, Some("export_metadata.total_records"), || {
                    format!("export_metadata.total_records is {expected} but {seen} records were found")
                });
            }
        }
        let usable = self.records.len();
        if self.labelled > 0 && self.labelled < usable {
            let (labelled, unlabelled) = (self.labelled, usable - self.labelled);
            self.issue(IssueKind::PartialLabels, WHOLE, Some("label"), || {
                format!("{labelled} records are labelled and {unlabelled} are not; evaluation uses the labelled ones")
            });
        }
        let wifi_share = if usable == 0 {
            0.0
        } else {
            self.processes
                .iter()
                .filter(|(name, _)| is_wifi_process(name))
                .map(|(_, count)| count)
                .sum::<usize>() as f64
                / usable as f64
        };
        self.wifi_records = (wifi_share * usable as f64).round() as usize;
        let wifi_log = self
            .schema
            .as_ref()
            .is_none_or(|plan| plan.schema.log_type() == "wifi");
        if wifi_log && usable > 0 && wifi_share < self.opts.min_wifi_share {
            let min = self.opts.min_wifi_share;
            self.issue(IssueKind::FewWifiRecords, WHOLE, Some("process_name"), || {
                format!(
                    "only {:.1}% of records come from WiFi processes (hostapd, wpa_supplicant, …; expected at least {:.0}%): the wifi-v1 features are tuned for WiFi logs",
                    wifi_share * 100.0,
                    min * 100.0
                )
            });
        }
        let record_errors = self.bad_records;
        if usable == 0 {
            let message = if self.seen == 0 {
                "the export holds no records".to_owned()
            } else {
                format!("no usable records: all {} records are invalid", self.seen)
            };
            if self.seen == 0 || self.opts.drop_invalid {
                self.issue(IssueKind::NoRecords, WHOLE, None, || message);
            }
        }

        let summary = self.summary(wifi_share);
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut dropped_reasons = Vec::new();
        self.tallies.sort_by_key(|(kind, _)| *kind);
        for (kind, tally) in self.tallies {
            let group = IssueGroup {
                kind,
                severity: kind.severity(),
                description: kind.description().to_owned(),
                count: tally.count,
                examples: tally.examples,
            };
            match kind.severity() {
                Severity::Warning => warnings.push(group),
                Severity::Error if self.opts.drop_invalid && is_record_level(kind) => {
                    dropped_reasons.push(group)
                }
                Severity::Error => errors.push(group),
            }
        }
        let dropped = self.opts.drop_invalid.then_some(Dropped {
            count: record_errors,
            reasons: dropped_reasons,
        });
        let report = ValidationReport {
            valid: errors.is_empty() && usable > 0,
            format: Some(format),
            records_seen: self.seen,
            errors,
            warnings,
            dropped,
            summary,
        };
        let export = Export {
            format,
            metadata,
            records: self.records,
        };
        (export, report)
    }

    fn read_metadata(&mut self, value: serde_json::Value) -> ExportMetadata {
        let mut metadata = ExportMetadata::default();
        let serde_json::Value::Object(map) = value else {
            let kind = json_kind(&value);
            self.issue(
                IssueKind::BadMetadata,
                WHOLE,
                Some("export_metadata"),
                || format!("export_metadata should be an object, found {kind}; ignored"),
            );
            return metadata;
        };
        for (field, value) in map {
            let bad = match (field.as_str(), value) {
                ("export_id", serde_json::Value::String(s)) => {
                    metadata.export_id = Some(s);
                    None
                }
                ("created_at", serde_json::Value::String(s)) => {
                    if let Err(e) = parse_iso8601(&s) {
                        self.issue(
                            IssueKind::BadMetadata,
                            WHOLE,
                            Some("export_metadata.created_at"),
                            || format!("{e}; ignored"),
                        );
                    } else {
                        metadata.created_at = Some(s);
                    }
                    None
                }
                ("total_records", serde_json::Value::Number(n)) => match n.as_u64() {
                    Some(n) => {
                        metadata.total_records = Some(n);
                        None
                    }
                    None => Some(("total_records", "a whole number", "another number")),
                },
                ("export_id" | "created_at", other) => Some((
                    if field == "export_id" {
                        "export_id"
                    } else {
                        "created_at"
                    },
                    "a string",
                    json_kind(&other),
                )),
                ("total_records", other) => {
                    Some(("total_records", "a whole number", json_kind(&other)))
                }
                _ => None,
            };
            if let Some((name, expected, found)) = bad {
                self.issue(
                    IssueKind::BadMetadata,
                    WHOLE,
                    Some("export_metadata"),
                    || {
                        format!(
                            "export_metadata.{name} should be {expected}, found {found}; ignored"
                        )
                    },
                );
            }
        }
        metadata
    }

    fn summary(&mut self, wifi_share: f64) -> Summary {
        let n = self.records.len();
        let share = |count: usize| if n == 0 { 0.0 } else { count as f64 / n as f64 };
        let time_range = match (
            self.records.iter().map(|r| r.timestamp).min(),
            self.records.iter().map(|r| r.timestamp).max(),
        ) {
            (Some(start), Some(end)) => Some(TimeRange {
                start: format_iso8601(start),
                end: format_iso8601(end),
                span_seconds: (end - start) as f64 / MICROS_PER_SECOND as f64,
            }),
            _ => None,
        };
        let mut processes: Vec<(&String, &usize)> = self.processes.iter().collect();
        processes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let other_processes = processes
            .iter()
            .skip(SUMMARY_PROCESSES)
            .map(|(_, c)| **c)
            .sum();
        let process_counts = processes
            .iter()
            .take(SUMMARY_PROCESSES)
            .map(|(name, &count)| Count {
                name: (*name).clone(),
                count,
                share: share(count),
            })
            .collect();
        let levels = LogLevel::ALL
            .iter()
            .map(|level| Count {
                name: level.as_str().to_owned(),
                count: self.levels[*level as usize],
                share: share(self.levels[*level as usize]),
            })
            .collect();
        let message_length = if self.lengths.is_empty() {
            LengthStats::default()
        } else {
            let total: u64 = self.lengths.iter().map(|&l| u64::from(l)).sum();
            let min = self.lengths.iter().copied().min().unwrap_or(0);
            let max = self.lengths.iter().copied().max().unwrap_or(0);
            let p50 = nth_percentile(&mut self.lengths, 0.50);
            let p95 = nth_percentile(&mut self.lengths, 0.95);
            LengthStats {
                min: min as usize,
                max: max as usize,
                mean: total as f64 / self.lengths.len() as f64,
                p50: p50 as usize,
                p95: p95 as usize,
            }
        };
        Summary {
            records: n,
            time_range,
            processes: process_counts,
            distinct_processes: self.processes.len(),
            other_processes,
            levels,
            message_length,
            wifi_share,
            labelled: self.labelled,
            anomalies: self.anomalies,
        }
    }
}

/// Errors that concern one record (and so can be dropped) rather than the whole file.
fn is_record_level(kind: IssueKind) -> bool {
    use IssueKind::*;
    matches!(
        kind,
        NotJson
            | NotAnObject
            | MissingField
            | WrongType
            | BadTimestamp
            | BadLevel
            | BadLabel
            | DisallowedValue
            | BadLine
    )
}

/// The nearest-rank percentile of non-empty values (reorders them).
fn nth_percentile(values: &mut [u32], q: f64) -> u32 {
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    *values.select_nth_unstable(rank).1
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}
