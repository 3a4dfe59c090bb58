//! Serde visitors that read an export in one pass without committing to types.
//!
//! A strictly typed `#[derive(Deserialize)]` record would abort the whole parse on the first wrong
//! type. These visitors instead accept any JSON value for each field we care about and remember
//! only its kind, so validation can report every bad record (and drop it on request) while the
//! records stream straight into the [`Validator`](super::validate::Validator). Strings borrow from
//! the input when they contain no escapes; fields we do not read are skipped without allocating.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::validate::Validator;

/// A JSON value reduced to what validation needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Null,
    Array,
    Object,
}

impl RawValue<'_> {
    /// The JSON kind, for messages such as "expected a string, found number".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            RawValue::Str(_) => "string",
            RawValue::Int(_) | RawValue::UInt(_) | RawValue::Float(_) => "number",
            RawValue::Bool(_) => "boolean",
            RawValue::Null => "null",
            RawValue::Array => "array",
            RawValue::Object => "object",
        }
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(RawValue::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawValue::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawValue::Str(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawValue::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawValue::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RawValue::Object)
    }
}

impl<'de> Deserialize<'de> for RawValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawValueVisitor)
    }
}

/// The fields of a record that mcp-train reads, each as found (or absent).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RawRecord<'a> {
    pub timestamp: Option<RawValue<'a>>,
    pub message: Option<RawValue<'a>>,
    pub process_name: Option<RawValue<'a>>,
    pub log_level: Option<RawValue<'a>>,
    pub label: Option<RawValue<'a>>,
    pub is_anomaly: Option<RawValue<'a>>,
    /// `device_id`, `hostname` or `host`: the device that logged the record (optional).
    pub host: Option<RawValue<'a>>,
    /// A field we read appeared twice in the object (the last one wins, as in most JSON readers).
    pub duplicate_field: Option<&'static str>,
    /// The record's other fields, in input order — collected only when validating against a
    /// log schema ([`FieldsItem`], [`RawItemSeed`]).
    pub extra: Vec<(Cow<'a, str>, RawValue<'a>)>,
}

impl RawRecord<'_> {
    fn has_record_fields(&self) -> bool {
        self.timestamp.is_some()
            || self.message.is_some()
            || self.process_name.is_some()
            || self.log_level.is_some()
    }
}

/// One element of the records array (or one NDJSON value): a record object, or something else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawItem<'a> {
    Record(RawRecord<'a>),
    /// Not an object; holds the JSON kind that was found instead.
    NotObject(&'static str),
}

/// The keys we look at. Anything else is skipped, or collected for a log schema.
#[derive(Clone)]
enum Key<'de> {
    Timestamp,
    Message,
    ProcessName,
    LogLevel,
    Label,
    IsAnomaly,
    /// `device_id`, `hostname` or `host` (the name as given).
    Host(Cow<'de, str>),
    Data,
    Metadata,
    Other(Cow<'de, str>),
}

impl<'de> Key<'de> {
    fn from_str(s: Cow<'de, str>) -> Key<'de> {
        match &*s {
            "timestamp" => Key::Timestamp,
            "message" => Key::Message,
            "process_name" => Key::ProcessName,
            "log_level" => Key::LogLevel,
            "label" => Key::Label,
            "is_anomaly" => Key::IsAnomaly,
            "device_id" | "hostname" | "host" => Key::Host(s),
            "data" => Key::Data,
            "export_metadata" => Key::Metadata,
            _ => Key::Other(s),
        }
    }

    /// The name of a key that is not a record field, for collecting it.
    fn into_name(self) -> Cow<'de, str> {
        match self {
            Key::Data => Cow::Borrowed("data"),
            Key::Metadata => Cow::Borrowed("export_metadata"),
            Key::Other(name) | Key::Host(name) => name,
            // Record fields are read into their own slots.
            _ => Cow::Borrowed(""),
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::from_str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                // Only keys with escapes get here; a known name needs no copy.
                Ok(match Key::from_str(Cow::Borrowed(v)) {
                    Key::Other(_) => Key::Other(Cow::Owned(v.to_owned())),
                    Key::Timestamp => Key::Timestamp,
                    Key::Message => Key::Message,
                    Key::ProcessName => Key::ProcessName,
                    Key::LogLevel => Key::LogLevel,
                    Key::Label => Key::Label,
                    Key::IsAnomaly => Key::IsAnomaly,
                    Key::Host(_) => Key::Host(Cow::Owned(v.to_owned())),
                    Key::Data => Key::Data,
                    Key::Metadata => Key::Metadata,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// Stores a field of a record, noting when it was already set.
fn set_field<'a>(
    slot: &mut Option<RawValue<'a>>,
    value: RawValue<'a>,
    name: &'static str,
    duplicate: &mut Option<&'static str>,
) {
    if slot.is_some() {
        duplicate.get_or_insert(name);
    }
    *slot = Some(value);
}

/// Reads a record field into `record` when `key` is one; returns false for other keys.
fn read_record_field<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: &Key<'de>,
    record: &mut RawRecord<'de>,
    collect: bool,
) -> Result<bool, A::Error> {
    let (slot, name) = match key {
        Key::Timestamp => (&mut record.timestamp, "timestamp"),
        Key::Message => (&mut record.message, "message"),
        Key::ProcessName => (&mut record.process_name, "process_name"),
        Key::LogLevel => (&mut record.log_level, "log_level"),
        Key::Label => (&mut record.label, "label"),
        Key::IsAnomaly => (&mut record.is_anomaly, "is_anomaly"),
        Key::Host(_) => {
            // Several names mean the host; the first one given wins, and none is a duplicate.
            // The field is also one of the record's fields to check against a log schema.
            let value = map.next_value::<RawValue<'de>>()?;
            if collect {
                record.extra.push((key.clone().into_name(), value.clone()));
            }
            record.host.get_or_insert(value);
            return Ok(true);
        }
        _ => return Ok(false),
    };
    let value = map.next_value::<RawValue<'de>>()?;
    set_field(slot, value, name, &mut record.duplicate_field);
    Ok(true)
}

/// Reads one element of the records; with `collect`, keeps the fields the reader does not read
/// in [`RawRecord::extra`].
struct RawItemVisitor {
    collect: bool,
}

impl<'de> Visitor<'de> for RawItemVisitor {
    type Value = RawItem<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut record = RawRecord::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if !read_record_field(&mut map, &key, &mut record, self.collect)? {
                if self.collect {
                    let value = map.next_value::<RawValue<'de>>()?;
                    record.extra.push((key.into_name(), value));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawItem::Record(record))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        RawValueVisitor
            .visit_seq(seq)
            .map(|v| RawItem::NotObject(v.kind()))
    }
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("string"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("string"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("number"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("boolean"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(RawItem::NotObject("null"))
    }
}

impl<'de> Deserialize<'de> for RawItem<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawItemVisitor { collect: false })
    }
}

/// A [`RawItem`] that keeps every field (NDJSON validated against a log schema).
pub(crate) struct FieldsItem<'a>(pub RawItem<'a>);

impl<'de> Deserialize<'de> for FieldsItem<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawItemVisitor { collect: true })
            .map(FieldsItem)
    }
}

impl<'a> From<FieldsItem<'a>> for RawItem<'a> {
    fn from(item: FieldsItem<'a>) -> RawItem<'a> {
        item.0
    }
}

/// Reads one element of a records array, keeping every field when `collect` is set.
pub(crate) struct RawItemSeed {
    pub collect: bool,
}

impl<'de> DeserializeSeed<'de> for RawItemSeed {
    type Value = RawItem<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawItem<'de>, D::Error> {
        d.deserialize_any(RawItemVisitor {
            collect: self.collect,
        })
    }
}

/// Streams the elements of a records array into the validator as they are parsed.
pub(crate) struct RecordsSeed<'v, 'a> {
    pub validator: &'v mut Validator<'a>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let collect = self.validator.wants_fields();
        while let Some(item) = seq.next_element_seed(RawItemSeed { collect })? {
            self.validator.push(item, None);
        }
        Ok(())
    }
    // Any other kind of value: serde reports "invalid type: …, expected an array of records"
    // with its line and column, which the caller turns into a "not an export" error.
}

/// What the top-level object turned out to be.
#[derive(Debug)]
pub(crate) enum TopLevel {
    /// `{"export_metadata": …, "data": [...]}`; the records went to the validator.
    Export { metadata: Option<serde_json::Value> },
    /// An object carrying record fields and no `data`: the first line of NDJSON.
    Record,
    /// An object that is neither.
    Unrecognised { keys_seen: usize },
}

/// Reads the top-level object. Records under `data` stream into the validator.
pub(crate) struct TopLevelSeed<'v, 'a> {
    pub validator: &'v mut Validator<'a>,
}

impl<'de> DeserializeSeed<'de> for TopLevelSeed<'_, 'de> {
    type Value = TopLevel;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevelSeed<'_, 'de> {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an export object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut record = RawRecord::default();
        let mut metadata = None;
        let mut saw_data = false;
        let mut keys_seen = 0usize;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            keys_seen += 1;
            match key {
                Key::Data => {
                    if saw_data {
                        return Err(de::Error::custom("duplicate field `data`"));
                    }
                    saw_data = true;
                    map.next_value_seed(RecordsSeed {
                        validator: &mut *self.validator,
                    })?;
                }
                Key::Metadata => metadata = Some(map.next_value::<serde_json::Value>()?),
                other => {
                    if !read_record_field(&mut map, &other, &mut record, false)? {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        Ok(if saw_data {
            TopLevel::Export { metadata }
        } else if record.has_record_fields() {
            TopLevel::Record
        } else {
            TopLevel::Unrecognised { keys_seen }
        })
    }
}
