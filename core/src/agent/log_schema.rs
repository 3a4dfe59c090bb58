//! Log schemas: what the export records of one log type hold, field by field, in a YAML file
//! (`config/log_schemas/<log_type>.yaml`) that drives validation
//! ([`crate::export::validate_with_schema`]).
//!
//! A schema has a `log_type`, a `schema_version` (semver) and its `fields`. Each field has a
//! `name`, a [`FieldType`], whether it is `required`, optional constraints (`allowed` values or a
//! `pattern`), the schema version it appeared in (`since`), whether it is `deprecated`, the names
//! it had before (`renamed_from`), a `default` for optional fields and a `description`.
//!
//! Schemas evolve the way Avro records do: data written under an older version still validates
//! under a newer one. A field read through an old name (`renamed_from`) is accepted with a
//! warning naming the new name; an optional field added later (its `since` is newer than the
//! schema's first version) that a record lacks takes its `default`, with a warning; fields the
//! schema does not know are warnings, never errors.
//!
//! `pattern` is a regular expression in the syntax of the `regex-lite` crate (Perl-like, no
//! look-around, no Unicode classes) that must match the **whole** value: it is anchored as
//! `^(?:pattern)$`.
//!
//! The six fields the export reader itself reads — `timestamp`, `message`, `process_name`,
//! `log_level`, `label`, `is_anomaly` — must be declared by every schema with the reader's types
//! (the first four required, the labels optional), so a schema always says what the reader checks.

use std::fmt;
use std::net::IpAddr;

use rustc_hash::FxHashSet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::parse_semver;
use crate::export::LogLevel;
use crate::time::parse_iso8601;

/// The directory of a configuration directory that holds log schemas (`DIR/log_schemas/`).
pub const LOG_SCHEMA_DIR: &str = "log_schemas";

/// The built-in log schema of `log_type`: its agent's
/// [`log_schema_yaml`](super::Agent::log_schema_yaml) (the YAML text of
/// `config/log_schemas/<log_type>.yaml`, compiled in), or `None` for an unknown log type.
pub fn builtin_log_schema_yaml(log_type: &str) -> Option<&'static str> {
    super::AGENTS
        .iter()
        .find(|a| a.info().log_type == log_type)
        .map(|a| a.log_schema_yaml())
}

/// The parsed built-in log schema of `log_type`.
pub fn builtin_log_schema(log_type: &str) -> Option<Result<LogSchema, LogSchemaError>> {
    builtin_log_schema_yaml(log_type).map(LogSchema::from_yaml)
}

/// The file name of `log_type`'s schema inside [`LOG_SCHEMA_DIR`], e.g. `dns.yaml`.
pub fn log_schema_file_name(log_type: &str) -> String {
    format!("{log_type}.yaml")
}

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A JSON string.
    String,
    /// A JSON whole number.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An ISO 8601 date and time string (without a zone it is read as UTC).
    Timestamp,
    /// An IPv4 or IPv6 address string.
    Ip,
    /// A MAC address string: six hexadecimal octets separated by `:` or `-`.
    Mac,
    /// A log level name: DEBUG, INFO, WARNING, ERROR, CRITICAL or an alias such as WARN (any
    /// case; aliases are warnings).
    Level,
    /// A label: 0/1 or true/false (null means unlabelled).
    Label,
    /// A JSON object (its contents are not checked), e.g. `structured_data`.
    Object,
}

impl FieldType {
    /// The name used in schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
            FieldType::Ip => "ip",
            FieldType::Mac => "mac",
            FieldType::Level => "level",
            FieldType::Label => "label",
            FieldType::Object => "object",
        }
    }

    /// What a value of this type looks like, for messages ("expected …").
    fn expected(self) -> &'static str {
        match self {
            FieldType::String => "a string",
            FieldType::Integer => "a whole number",
            FieldType::Number => "a number",
            FieldType::Boolean => "true or false",
            FieldType::Timestamp => "an ISO 8601 string",
            FieldType::Ip => "an IP address string",
            FieldType::Mac => "a MAC address string",
            FieldType::Level => "a log level name",
            FieldType::Label => "0/1 or true/false",
            FieldType::Object => "an object",
        }
    }
}

/// Whether a field is deprecated: `true`, or a message saying what to use instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Deprecation {
    /// `deprecated: true` (`false` is the same as leaving it out).
    Flag(bool),
    /// `deprecated: "use … instead"`.
    Message(String),
}

/// One field of a log schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field's name in export records.
    pub name: String,
    /// The type of its value.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether every record must carry it.
    pub required: bool,
    /// The only values it may take (empty: any value of its type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<serde_json::Value>,
    /// A regular expression the whole string value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The schema version the field appeared in (semver).
    pub since: String,
    /// Whether the field is deprecated, and what to use instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<Deprecation>,
    /// Names the field had in earlier schema versions, still accepted (with a warning).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<String>,
    /// The value an optional field takes when a record lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// What the field holds.
    #[serde(default)]
    pub description: String,
    /// 1-based line of the field in the YAML (0 when unknown).
    #[serde(skip)]
    #[schemars(skip)]
    line: usize,
    /// `pattern`, compiled and anchored.
    #[serde(skip)]
    #[schemars(skip)]
    regex: Option<regex_lite::Regex>,
}

impl PartialEq for FieldSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.field_type == other.field_type
            && self.required == other.required
            && self.allowed == other.allowed
            && self.pattern == other.pattern
            && self.since == other.since
            && self.deprecated == other.deprecated
            && self.renamed_from == other.renamed_from
            && self.default == other.default
            && self.description == other.description
    }
}

impl FieldSpec {
    /// The 1-based line of the field in its YAML file (0 when unknown).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The deprecation message, when the field is deprecated (`""` for `deprecated: true`).
    pub fn deprecation(&self) -> Option<&str> {
        match &self.deprecated {
            Some(Deprecation::Flag(true)) => Some(""),
            Some(Deprecation::Message(m)) => Some(m),
            _ => None,
        }
    }

    /// Checks one value against the field's type and constraints.
    pub(crate) fn check_value(&self, value: &Scalar<'_>) -> Result<(), ValueProblem> {
        if !type_matches(self.field_type, value) {
            return Err(ValueProblem::WrongType(format!(
                "expected {}, found {}",
                self.field_type.expected(),
                value.shown()
            )));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|a| value.equals(a)) {
            let list: Vec<String> = self.allowed.iter().map(|a| a.to_string()).collect();
            return Err(ValueProblem::NotAllowed(format!(
                "{} is not one of the allowed values ({})",
                value.shown(),
                list.join(", ")
            )));
        }
        if let (Some(regex), Scalar::Str(text)) = (&self.regex, value) {
            if !regex.is_match(text) {
                return Err(ValueProblem::NotAllowed(format!(
                    "{} does not match the pattern {}",
                    value.shown(),
                    self.pattern.as_deref().unwrap_or("")
                )));
            }
        }
        Ok(())
    }
}

/// A log schema: the fields of one log type's export records, checked.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogSchema {
    log_type: String,
    schema_version: String,
    #[serde(default)]
    description: String,
    fields: Vec<FieldSpec>,
}

/// Why a log schema cannot be used: where (line, field) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LogSchemaError {
    /// 1-based line in the YAML, when known.
    pub line: Option<usize>,
    /// The field concerned, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LogSchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.field) {
            (Some(line), Some(field)) => write!(f, "line {line}, field \"{field}\": ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, Some(field)) => write!(f, "field \"{field}\": ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// The fields the export reader reads itself, with their type and whether they are required.
pub(crate) const ENVELOPE: [(&str, FieldType, bool); 6] = [
    ("timestamp", FieldType::Timestamp, true),
    ("message", FieldType::String, true),
    ("process_name", FieldType::String, true),
    ("log_level", FieldType::Level, true),
    ("label", FieldType::Label, false),
    ("is_anomaly", FieldType::Label, false),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    log_type: String,
    schema_version: String,
    #[serde(default)]
    description: String,
    fields: Vec<Spanned<FieldDocument>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDocument {
    name: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    required: bool,
    #[serde(default)]
    allowed: Vec<serde_json::Value>,
    #[serde(default)]
    pattern: Option<String>,
    since: String,
    #[serde(default)]
    deprecated: Option<Deprecation>,
    #[serde(default)]
    renamed_from: Vec<String>,
    #[serde(default)]
    default: Option<serde_json::Value>,
    #[serde(default)]
    description: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl LogSchema {
    /// Parses and checks a log schema. Errors name the line and the field.
    pub fn from_yaml(text: &str) -> Result<LogSchema, LogSchemaError> {
        let document: Document = serde_saphyr::from_str(text).map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let location = e.location();
            // The line goes in front ("line 12: column 15: …"), not twice.
            let message = match location {
                Some(l) => {
                    let prefix = format!("line {} column {}: ", l.line(), l.column());
                    match first.strip_prefix(&prefix) {
                        Some(rest) => format!("column {}: {rest}", l.column()),
                        None => first.to_owned(),
                    }
                }
                None => first.to_owned(),
            };
            LogSchemaError {
                line: location.map(|l| l.line() as usize),
                field: None,
                message,
            }
        })?;
        let whole = |message: String| LogSchemaError {
            line: None,
            field: None,
            message,
        };
        let log_type = document.log_type;
        if !valid_name(&log_type) || log_type.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(whole(format!(
                "log_type {log_type:?} must be lower-case letters, digits, '_', '-' or '.'"
            )));
        }
        let Some(version) = parse_semver(&document.schema_version) else {
            return Err(whole(format!(
                "schema_version {:?} is not a semantic version MAJOR.MINOR.PATCH",
                document.schema_version
            )));
        };
        if document.fields.is_empty() {
            return Err(whole("the schema has no fields".to_owned()));
        }
        let mut fields = Vec::with_capacity(document.fields.len());
        let mut names = FxHashSet::default();
        for spanned in document.fields {
            let line = spanned.referenced.line() as usize;
            let field = check_field(spanned.value, line, version)?;
            if !names.insert(field.name.clone()) {
                return Err(at(&field, "the field is declared twice".to_owned()));
            }
            fields.push(field);
        }
        // Old names must not clash with current names or with each other.
        let mut old_names = FxHashSet::default();
        for field in &fields {
            for old in &field.renamed_from {
                if names.contains(old) {
                    return Err(at(
                        field,
                        format!("renamed_from {old:?} is the name of a current field"),
                    ));
                }
                if !old_names.insert(old.clone()) {
                    return Err(at(
                        field,
                        format!("renamed_from {old:?} is listed more than once"),
                    ));
                }
            }
        }
        for (name, field_type, required) in ENVELOPE {
            let Some(field) = fields.iter().find(|f| f.name == name) else {
                return Err(whole(format!(
                    "the schema must declare \"{name}\" (type {}, required: {required}): the export reader reads it",
                    field_type.as_str()
                )));
            };
            if field.field_type != field_type || field.required != required {
                return Err(at(
                    field,
                    format!(
                        "the export reader reads this field as type {} with required: {required}",
                        field_type.as_str()
                    ),
                ));
            }
            if field.default.is_some() {
                return Err(at(
                    field,
                    "the export reader's fields cannot have a default".to_owned(),
                ));
            }
            if matches!(
                field_type,
                FieldType::Timestamp | FieldType::Level | FieldType::Label
            ) && (!field.allowed.is_empty() || field.pattern.is_some())
            {
                return Err(at(
                    field,
                    "allowed values and patterns are not supported on this reader field".to_owned(),
                ));
            }
        }
        Ok(LogSchema {
            log_type,
            schema_version: document.schema_version,
            description: document.description,
            fields,
        })
    }

    /// The log type it describes.
    pub fn log_type(&self) -> &str {
        &self.log_type
    }

    /// Its version (semver).
    pub fn schema_version(&self) -> &str {
        &self.schema_version
    }

    /// What the log type is.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The fields, in the file's order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field whose current or former name is `name`, and whether `name` is a former one.
    pub fn resolve(&self, name: &str) -> Option<(&FieldSpec, bool)> {
        self.field(name).map(|f| (f, false)).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.renamed_from.iter().any(|old| old == name))
                .map(|f| (f, true))
        })
    }

    /// The schema's first version: the earliest `since` of its fields. Optional fields added
    /// after it take their default, with a warning, when a record lacks them.
    pub fn base_version(&self) -> (u64, u64, u64) {
        self.fields
            .iter()
            .filter_map(|f| parse_semver(&f.since))
            .min()
            .unwrap_or((0, 0, 0))
    }
}

fn at(field: &FieldSpec, message: String) -> LogSchemaError {
    LogSchemaError {
        line: (field.line > 0).then_some(field.line),
        field: Some(field.name.clone()),
        message,
    }
}

fn check_field(
    doc: FieldDocument,
    line: usize,
    version: (u64, u64, u64),
) -> Result<FieldSpec, LogSchemaError> {
    let mut field = FieldSpec {
        name: doc.name,
        field_type: doc.field_type,
        required: doc.required,
        allowed: doc.allowed,
        pattern: doc.pattern,
        since: doc.since,
        deprecated: match doc.deprecated {
            Some(Deprecation::Flag(false)) => None,
            Some(Deprecation::Message(m)) if m.trim().is_empty() => Some(Deprecation::Flag(true)),
            other => other,
        },
        renamed_from: doc.renamed_from,
        default: doc.default,
        description: doc.description,
        line,
        regex: None,
    };
    if !valid_name(&field.name) {
        return Err(at(
            &field,
            "a field name is 1 to 64 letters, digits, '_', '-' or '.'".to_owned(),
        ));
    }
    match parse_semver(&field.since) {
        None => {
            return Err(at(
                &field,
                format!(
                    "since {:?} is not a semantic version MAJOR.MINOR.PATCH",
                    field.since
                ),
            ))
        }
        Some(since) if since > version => {
            return Err(at(
                &field,
                format!(
                    "since {} is newer than the schema's version {}.{}.{}",
                    field.since, version.0, version.1, version.2
                ),
            ))
        }
        Some(_) => {}
    }
    for old in &field.renamed_from {
        if !valid_name(old) || *old == field.name {
            return Err(at(
                &field,
                format!("renamed_from {old:?} is not a valid former name"),
            ));
        }
    }
    if let Some(pattern) = &field.pattern {
        if !matches!(
            field.field_type,
            FieldType::String | FieldType::Ip | FieldType::Mac
        ) {
            return Err(at(
                &field,
                format!(
                    "a pattern needs a string, ip or mac field, not {}",
                    field.field_type.as_str()
                ),
            ));
        }
        let regex = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            let first = e.to_string();
            at(
                &field,
                format!(
                    "pattern {pattern:?} is not a valid regular expression: {}",
                    first.lines().last().unwrap_or("")
                ),
            )
        })?;
        field.regex = Some(regex);
    }
    if !field.allowed.is_empty() {
        if !matches!(
            field.field_type,
            FieldType::String
                | FieldType::Integer
                | FieldType::Number
                | FieldType::Ip
                | FieldType::Mac
        ) {
            return Err(at(
                &field,
                format!(
                    "allowed values need a string, integer, number, ip or mac field, not {}",
                    field.field_type.as_str()
                ),
            ));
        }
        for value in &field.allowed {
            if !type_matches(field.field_type, &Scalar::from_json(value)) {
                return Err(at(
                    &field,
                    format!(
                        "allowed value {value} is not {}",
                        field.field_type.expected()
                    ),
                ));
            }
        }
    }
    if let Some(default) = &field.default {
        if field.required {
            return Err(at(
                &field,
                "a required field cannot have a default".to_owned(),
            ));
        }
        if let Err(problem) = field.check_value(&Scalar::from_json(default)) {
            return Err(at(&field, format!("default: {}", problem.message())));
        }
    }
    Ok(field)
}

/// A JSON scalar as validation sees it (arrays and objects only by kind).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'v> {
    Str(&'v str),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Null,
    Array,
    Object,
}

impl<'v> Scalar<'v> {
    pub(crate) fn from_json(value: &'v serde_json::Value) -> Scalar<'v> {
        match value {
            serde_json::Value::Null => Scalar::Null,
            serde_json::Value::Bool(b) => Scalar::Bool(*b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Scalar::Int(i),
                (None, Some(u), _) => Scalar::UInt(u),
                (_, _, f) => Scalar::Float(f.unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Scalar::Str(s),
            serde_json::Value::Array(_) => Scalar::Array,
            serde_json::Value::Object(_) => Scalar::Object,
        }
    }

    /// The value for messages: strings quoted and cut, numbers as written, others by kind.
    fn shown(&self) -> String {
        match self {
            Scalar::Str(s) => format!("string {:?}", crate::export::truncate(s, 40)),
            Scalar::Int(i) => format!("number {i}"),
            Scalar::UInt(u) => format!("number {u}"),
            Scalar::Float(f) => format!("number {f}"),
            Scalar::Bool(b) => format!("boolean {b}"),
            Scalar::Null => "null".to_owned(),
            Scalar::Array => "array".to_owned(),
            Scalar::Object => "object".to_owned(),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::UInt(u) => Some(*u as f64),
            Scalar::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn equals(&self, allowed: &serde_json::Value) -> bool {
        match (self, Scalar::from_json(allowed)) {
            (Scalar::Str(a), Scalar::Str(b)) => *a == b,
            (Scalar::Int(a), Scalar::Int(b)) => *a == b,
            (Scalar::UInt(a), Scalar::UInt(b)) => *a == b,
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

/// Why a value does not fit its field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueProblem {
    /// Not of the field's type.
    WrongType(String),
    /// Of the right type, but not an allowed value or not matching the pattern.
    NotAllowed(String),
}

impl ValueProblem {
    pub(crate) fn message(&self) -> &str {
        match self {
            ValueProblem::WrongType(m) | ValueProblem::NotAllowed(m) => m,
        }
    }
}

fn type_matches(field_type: FieldType, value: &Scalar<'_>) -> bool {
    match (field_type, value) {
        (FieldType::String, Scalar::Str(_)) => true,
        (FieldType::Integer, Scalar::Int(_) | Scalar::UInt(_)) => true,
        (FieldType::Number, Scalar::Int(_) | Scalar::UInt(_) | Scalar::Float(_)) => true,
        (FieldType::Boolean, Scalar::Bool(_)) => true,
        (FieldType::Timestamp, Scalar::Str(s)) => parse_iso8601(s).is_ok(),
        (FieldType::Ip, Scalar::Str(s)) => s.parse::<IpAddr>().is_ok(),
        (FieldType::Mac, Scalar::Str(s)) => is_mac(s),
        (FieldType::Level, Scalar::Str(s)) => LogLevel::parse(s).is_some(),
        (FieldType::Label, Scalar::Bool(_) | Scalar::Null) => true,
        (FieldType::Label, Scalar::Int(i)) => *i == 0 || *i == 1,
        (FieldType::Label, Scalar::UInt(u)) => *u == 0 || *u == 1,
        (FieldType::Label, Scalar::Float(f)) => *f == 0.0 || *f == 1.0,
        (FieldType::Object, Scalar::Object) => true,
        _ => false,
    }
}

/// Six hexadecimal octets separated by one kind of separator, `:` or `-`.
fn is_mac(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 17 {
        return false;
    }
    let separator = bytes[2];
    if separator != b':' && separator != b'-' {
        return false;
    }
    bytes.iter().enumerate().all(|(i, &b)| {
        if i % 3 == 2 {
            b == separator
        } else {
            b.is_ascii_hexdigit()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LogSchema, LogSchemaError> {
        LogSchema::from_yaml(text)
    }

    #[test]
    fn every_builtin_schema_parses_and_names_its_log_type() {
        for log_type in crate::agent::AGENTS.iter().map(|a| a.info().log_type) {
            let schema = builtin_log_schema(log_type)
                .unwrap_or_else(|| {
                    Err(LogSchemaError {
                        line: None,
                        field: None,
                        message: "missing".to_owned(),
                    })
                })
                .unwrap_or_else(|e| panic!("{log_type}: {e}"));
            assert_eq!(schema.log_type(), log_type);
            assert!(parse_semver(schema.schema_version()).is_some());
            assert!(schema.field("timestamp").is_some());
            assert!(!schema.description().is_empty(), "{log_type}");
            for field in schema.fields() {
                assert!(!field.description.is_empty(), "{log_type}.{}", field.name);
                assert!(field.line() > 0);
            }
        }
        assert_eq!(builtin_log_schema_yaml("netflow"), None);
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let good = builtin_log_schema_yaml("dns").unwrap_or_default();
        for (from, to, expected) in [
            (
                "schema_version: 1.0.0",
                "schema_version: 1.0",
                "not a semantic version",
            ),
            ("type: ip", "type: ipv4", "ipv4"),
            (
                "required: true",
                "required: yes please",
                "line 12: column 15: invalid boolean",
            ),
            (
                "since: 1.0.0",
                "since: 2.0.0",
                "newer than the schema's version",
            ),
            ("type: timestamp", "type: string", "type timestamp"),
        ] {
            let changed = good.replacen(from, to, 1);
            assert_ne!(changed, good, "{from}");
            let e = parse(&changed).map(|_| ()).unwrap_err();
            assert!(
                e.to_string().contains(expected),
                "{e} should say {expected}"
            );
        }
        // A bad pattern names the field and its line.
        let changed = good.replacen("pattern: '", "pattern: '(", 1);
        assert_ne!(changed, good);
        let e = parse(&changed).map(|_| ()).unwrap_err();
        let line = changed
            .lines()
            .position(|l| l.contains("pattern: '("))
            .unwrap_or(0);
        let field_line = e.line.unwrap_or(0);
        assert!(e.field.is_some(), "{e}");
        assert!(field_line > 0 && field_line <= line + 1, "{e}");
        assert!(
            e.to_string().contains("not a valid regular expression"),
            "{e}"
        );
        // An unknown key is refused, with its line.
        let changed = good.replacen("    required: false", "    requird: false", 1);
        let e = parse(&changed).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("requird"), "{e}");
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn defaults_and_allowed_values_are_checked_against_the_type() {
        let base = "log_type: t\nschema_version: 1.1.0\nfields:\n".to_owned()
            + "  - {name: timestamp, type: timestamp, required: true, since: 1.0.0}\n"
            + "  - {name: message, type: string, required: true, since: 1.0.0}\n"
            + "  - {name: process_name, type: string, required: true, since: 1.0.0}\n"
            + "  - {name: log_level, type: level, required: true, since: 1.0.0}\n"
            + "  - {name: label, type: label, required: false, since: 1.0.0}\n"
            + "  - {name: is_anomaly, type: label, required: false, since: 1.0.0}\n";
        let ok = base.clone()
            + "  - {name: port, type: integer, required: false, since: 1.1.0, default: 0, allowed: [0, 53]}\n";
        let schema = parse(&ok).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(schema.base_version(), (1, 0, 0));
        let e = parse(&(base.clone()
            + "  - {name: port, type: integer, required: false, since: 1.1.0, default: \"x\"}\n"))
        .map(|_| ())
        .unwrap_err();
        assert!(
            e.to_string().contains("default: expected a whole number"),
            "{e}"
        );
        let e = parse(
            &(base.clone()
                + "  - {name: port, type: integer, required: true, since: 1.1.0, default: 1}\n"),
        )
        .map(|_| ())
        .unwrap_err();
        assert!(e.to_string().contains("cannot have a default"), "{e}");
        let e = parse(&(base.clone()
            + "  - {name: client, type: ip, required: false, since: 1.0.0, renamed_from: [message]}\n"))
        .map(|_| ())
        .unwrap_err();
        assert!(e.to_string().contains("name of a current field"), "{e}");
        let e = parse(&base.replace(
            "  - {name: label, type: label, required: false, since: 1.0.0}\n",
            "",
        ))
        .map(|_| ())
        .unwrap_err();
        assert!(e.to_string().contains("must declare \"label\""), "{e}");
    }

    #[test]
    fn value_types() {
        assert!(is_mac("aa:bb:cc:00:11:22"));
        assert!(is_mac("AA-BB-CC-00-11-22"));
        assert!(!is_mac("aa:bb-cc:00:11:22"));
        assert!(!is_mac("aa:bb:cc:00:11"));
        assert!(type_matches(FieldType::Ip, &Scalar::Str("::1")));
        assert!(type_matches(FieldType::Ip, &Scalar::Str("10.0.0.1")));
        assert!(!type_matches(FieldType::Ip, &Scalar::Str("10.0.0.256")));
        assert!(type_matches(FieldType::Integer, &Scalar::UInt(u64::MAX)));
        assert!(!type_matches(FieldType::Integer, &Scalar::Float(1.5)));
        assert!(type_matches(FieldType::Level, &Scalar::Str("warn")));
        assert!(Scalar::Int(53).equals(&serde_json::json!(53)));
        assert!(Scalar::Float(53.0).equals(&serde_json::json!(53)));
        assert!(!Scalar::Str("53").equals(&serde_json::json!(53)));
    }
}
