//! Arrow in: record batches from anything that speaks the Arrow PyCapsule interface
//! (`__arrow_c_stream__`, `__arrow_c_array__`) — a pyarrow Table or RecordBatch, a Polars or
//! pandas DataFrame, a DuckDB result, a Spark `mapInArrow` batch — read in Rust, without
//! per-row Python work.
//!
//! The columns become an NDJSON export (one record per row, in row order) carrying the fields
//! the export reader takes: `timestamp`, `message`, `process_name`, `log_level` (required) and
//! `label`, `is_anomaly`, `device_id`, `hostname`, `host` (when present); other columns are left
//! out. Every product function then reads that export as it reads a file, so the export
//! reader stays the one place that decides what a record is, and the same rows score bit for
//! bit as `mcp-train score` scores them in a file.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use mcp_train_core::time::format_iso8601;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::input::AnyRecordBatch;

use crate::errors::error;

/// The export fields read from columns of the same name: (name, required).
const FIELDS: [(&str, bool); 9] = [
    ("timestamp", true),
    ("message", true),
    ("process_name", true),
    ("log_level", true),
    ("label", false),
    ("is_anomaly", false),
    ("device_id", false),
    ("hostname", false),
    ("host", false),
];

/// How one field's column is written into a record.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Any string column (utf8, large, view, dictionary): the text, JSON-escaped.
    Text,
    /// An Arrow timestamp: RFC 3339, with `Z` when the column has a time zone (the instant is
    /// UTC), without one when it is a naive wall-clock time (the reader takes it as UTC, with
    /// its usual warning).
    Timestamp(TimeUnit, bool),
    /// Booleans and integers (labels): as JSON booleans and numbers.
    Boolean,
    Integer,
}

/// A field present in the data: its name, the column's index and how to write it.
#[derive(Debug)]
struct Column {
    name: &'static str,
    index: usize,
    kind: Kind,
    required: bool,
}

fn type_error(name: &str, data_type: &DataType, expected: &str) -> PyErr {
    error(
        "invalid_export",
        format!("column {name:?}: expected {expected}, found Arrow type {data_type}"),
    )
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// The fields of `schema` and how to write them; a missing required column or a column of a
/// type the field cannot have is an error naming it.
fn columns(schema: &Schema) -> PyResult<Vec<Column>> {
    let mut columns = Vec::new();
    for (name, required) in FIELDS {
        let Ok(index) = schema.index_of(name) else {
            if required {
                let found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(error(
                    "invalid_export",
                    format!(
                        "no column {name:?}: records need timestamp, message, process_name and \
                         log_level (columns found: {})",
                        if found.is_empty() {
                            "none".to_owned()
                        } else {
                            found.join(", ")
                        }
                    ),
                ));
            }
            continue;
        };
        let data_type = schema.field(index).data_type();
        let kind = match name {
            "timestamp" => match data_type {
                DataType::Timestamp(unit, zone) => Kind::Timestamp(*unit, zone.is_some()),
                t if is_text(t) => Kind::Text,
                t => return Err(type_error(name, t, "ISO 8601 text or an Arrow timestamp")),
            },
            "label" | "is_anomaly" => match data_type {
                DataType::Boolean => Kind::Boolean,
                t if t.is_integer() => Kind::Integer,
                t => return Err(type_error(name, t, "0/1 integers or booleans")),
            },
            _ => match data_type {
                t if is_text(t) => Kind::Text,
                t => return Err(type_error(name, t, "text")),
            },
        };
        columns.push(Column {
            name,
            index,
            kind,
            required,
        });
    }
    Ok(columns)
}

/// Text columns as plain utf8 (views, large strings and dictionaries cast once per batch).
fn as_utf8(array: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
    if array.data_type() == &DataType::Utf8 {
        Ok(array.clone())
    } else {
        arrow_cast::cast(array, &DataType::Utf8)
    }
}

/// Microseconds since the epoch of a timestamp in `unit`, rounded down as the export reader
/// rounds a finer fraction down; `None` when out of range.
fn micros(value: i64, unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Second => value.checked_mul(1_000_000),
        TimeUnit::Millisecond => value.checked_mul(1_000),
        TimeUnit::Microsecond => Some(value),
        TimeUnit::Nanosecond => Some(value.div_euclid(1_000)),
    }
}

fn timestamp_value(array: &dyn Array, unit: TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    }
}

fn integer_value(array: &dyn Array, row: usize) -> serde_json::Value {
    match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        _ => array.as_primitive::<UInt64Type>().value(row).into(),
    }
}

/// Appends the records of `batch` (the first one is record `first`) to `out`.
fn write_batch(
    out: &mut Vec<u8>,
    columns: &[Column],
    batch: &RecordBatch,
    first: usize,
) -> PyResult<()> {
    let internal = |e: &dyn std::fmt::Display| error("internal", e);
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| {
            let array = batch.column(c.index);
            match c.kind {
                Kind::Text => as_utf8(array)
                    .map_err(|e| error("invalid_export", format!("column {:?}: {e}", c.name))),
                _ => Ok(array.clone()),
            }
        })
        .collect::<PyResult<_>>()?;
    for row in 0..batch.num_rows() {
        let record = first + row;
        out.push(b'{');
        let mut comma = false;
        for (column, array) in columns.iter().zip(&arrays) {
            if array.is_null(row) {
                if column.required {
                    return Err(error(
                        "invalid_export",
                        format!(
                            "record {record}: column {:?} is null (every record needs a {})",
                            column.name, column.name
                        ),
                    ));
                }
                continue;
            }
            if comma {
                out.push(b',');
            }
            comma = true;
            serde_json::to_writer(&mut *out, column.name).map_err(|e| internal(&e))?;
            out.push(b':');
            match column.kind {
                Kind::Text => {
                    let text = array.as_string::<i32>().value(row);
                    serde_json::to_writer(&mut *out, text).map_err(|e| internal(&e))?;
                }
                Kind::Timestamp(unit, zoned) => {
                    let value = timestamp_value(array.as_ref(), unit, row);
                    let Some(micros) = micros(value, unit) else {
                        return Err(error(
                            "invalid_export",
                            format!(
                                "record {record}: column \"timestamp\": {value} {unit:?}s since \
                                 1970 is out of range"
                            ),
                        ));
                    };
                    let text = format_iso8601(micros);
                    let text = if zoned {
                        text.as_str()
                    } else {
                        text.strip_suffix('Z').unwrap_or(&text)
                    };
                    serde_json::to_writer(&mut *out, text).map_err(|e| internal(&e))?;
                }
                Kind::Boolean => {
                    let value = array.as_boolean().value(row);
                    out.extend_from_slice(if value { b"true" } else { b"false" });
                }
                Kind::Integer => {
                    serde_json::to_writer(&mut *out, &integer_value(array.as_ref(), row))
                        .map_err(|e| internal(&e))?;
                }
            }
        }
        out.extend_from_slice(b"}\n");
    }
    Ok(())
}

/// The NDJSON export of Arrow data (record batches, a table or a stream of batches), one record
/// per row in row order; record `i` is row `i` counted over all batches.
pub fn export_bytes(data: AnyRecordBatch) -> PyResult<Vec<u8>> {
    let reader = data.into_reader()?;
    let columns = columns(&reader.schema())?;
    let mut out = Vec::new();
    let mut first = 0;
    for batch in reader {
        let batch = batch.map_err(|e| error("invalid_export", format!("arrow data: {e}")))?;
        // A reserve per batch: records run to about a hundred bytes plus the message.
        out.reserve(batch.num_rows() * 128);
        write_batch(&mut out, &columns, &batch, first)?;
        first += batch.num_rows();
    }
    Ok(out)
}

/// `export_from_arrow(data)`: the NDJSON export (bytes) of Arrow data — anything with
/// `__arrow_c_stream__` or `__arrow_c_array__`.
#[pyfunction]
pub fn export_from_arrow<'py>(
    py: Python<'py>,
    data: AnyRecordBatch,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = py.detach(|| export_bytes(data))?;
    Ok(PyBytes::new(py, &bytes))
}
