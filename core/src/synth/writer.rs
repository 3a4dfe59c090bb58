//! JSON output: the export header, one record per line, written in bounded chunks.
//!
//! Records are assembled by hand into a reused buffer (every field but the message is made of
//! characters that need no escaping; the message goes through [`push_json_str`]), and the
//! buffer is handed to the caller's writer whenever it passes [`CHUNK_BYTES`]. Memory use is
//! therefore a chunk plus the simulation state, whatever the record count.

use std::io::{self, Write};

use super::event::{push_device, render, Event};
use super::world::{push_padded, push_u64, World};
use crate::time::{civil_from_days, MICROS_PER_DAY, MICROS_PER_SECOND};

/// The writer receives the export in pieces of about this size.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

/// Buffers output and hands it to `W` in chunks, counting bytes.
#[derive(Debug)]
pub(crate) struct ChunkedSink<W> {
    out: W,
    pub(crate) buf: Vec<u8>,
    bytes: u64,
}

impl<W: Write> ChunkedSink<W> {
    pub(crate) fn new(out: W) -> Self {
        ChunkedSink {
            out,
            buf: Vec::with_capacity(CHUNK_BYTES + 4096),
            bytes: 0,
        }
    }

    /// Passes the buffer on once it holds a full chunk.
    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK_BYTES {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left, flushes `W`, and returns the total byte count.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.drain()?;
        self.out.flush()?;
        Ok(self.bytes)
    }
}

/// Appends `s` as a JSON string literal (with quotes), escaping per RFC 8259.
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Formats timestamps exactly like [`crate::time::format_iso8601`], caching the date part.
#[derive(Debug, Clone)]
pub(crate) struct TimestampWriter {
    day: i64,
    date: Vec<u8>,
}

impl TimestampWriter {
    pub(crate) fn new() -> Self {
        TimestampWriter {
            day: i64::MIN,
            date: Vec::with_capacity(16),
        }
    }

    pub(crate) fn push(&mut self, out: &mut Vec<u8>, micros: i64) {
        let day = micros.div_euclid(MICROS_PER_DAY);
        if day != self.day {
            let (year, month, dom) = civil_from_days(day);
            self.date.clear();
            push_padded(&mut self.date, year.max(0) as u64, 4);
            self.date.push(b'-');
            push_padded(&mut self.date, u64::from(month), 2);
            self.date.push(b'-');
            push_padded(&mut self.date, u64::from(dom), 2);
            self.date.push(b'T');
            self.day = day;
        }
        out.extend_from_slice(&self.date);
        let in_day = micros.rem_euclid(MICROS_PER_DAY);
        let secs = (in_day / MICROS_PER_SECOND) as u64;
        push_padded(out, secs / 3600, 2);
        out.push(b':');
        push_padded(out, secs / 60 % 60, 2);
        out.push(b':');
        push_padded(out, secs % 60, 2);
        let micro = (in_day % MICROS_PER_SECOND) as u64;
        if micro != 0 {
            out.push(b'.');
            push_padded(out, micro, 6);
        }
        out.push(b'Z');
    }
}

/// Writes records, reusing its buffers.
#[derive(Debug)]
pub(crate) struct RecordWriter {
    timestamps: TimestampWriter,
    message: Vec<u8>,
}

impl RecordWriter {
    pub(crate) fn new() -> Self {
        RecordWriter {
            timestamps: TimestampWriter::new(),
            message: Vec::with_capacity(256),
        }
    }

    /// Appends record `id` as one JSON object (no trailing separator).
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, id: u64, event: &Event, world: &World) {
        let meta = render(event, world, &mut self.message);
        out.extend_from_slice(b"{\"id\":");
        push_u64(out, id);
        out.extend_from_slice(b",\"device_id\":\"");
        push_device(out, meta.device, world, false);
        out.extend_from_slice(b"\",\"device_ip\":\"");
        push_device(out, meta.device, world, true);
        out.extend_from_slice(b"\",\"timestamp\":\"");
        self.timestamps.push(out, event.time);
        out.extend_from_slice(b"\",\"log_level\":\"");
        out.extend_from_slice(meta.level.as_str().as_bytes());
        out.extend_from_slice(b"\",\"process_name\":\"");
        out.extend_from_slice(meta.process.as_bytes());
        out.extend_from_slice(b"\",\"message\":");
        push_json_str(out, &self.message);
        out.extend_from_slice(b",\"structured_data\":{\"event_type\":\"");
        out.extend_from_slice(meta.event_type.as_bytes());
        out.extend_from_slice(b"\"},\"label\":");
        out.push(if event.is_anomaly() { b'1' } else { b'0' });
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_iso8601;

    #[test]
    fn timestamps_match_format_iso8601() {
        let mut w = TimestampWriter::new();
        for micros in [
            0,
            1_704_067_200_000_000,
            1_704_067_203_123_456,
            1_709_251_199_999_999,
            1_709_251_200_000_001,
            253_402_300_799_000_000,
        ] {
            let mut out = Vec::new();
            w.push(&mut out, micros);
            assert_eq!(String::from_utf8_lossy(&out), format_iso8601(micros));
        }
    }

    #[test]
    fn json_strings_round_trip_through_serde_json() -> Result<(), serde_json::Error> {
        for text in [
            "plain",
            "ssid=\"mcp-office\" back\\slash",
            "line\nbreak\ttab\r\u{1}\u{1f}",
            "non-ascii: café ✓",
            "",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, text.as_bytes());
            let back: String = serde_json::from_slice(&out)?;
            assert_eq!(back, text);
        }
        Ok(())
    }

    #[test]
    fn sink_hands_out_bounded_chunks_and_counts_bytes() -> io::Result<()> {
        let mut chunks = Vec::new();
        let mut sink = ChunkedSink::new(&mut chunks);
        for _ in 0..10_000 {
            sink.buf.extend_from_slice(&[b'x'; 100]);
            sink.maybe_flush()?;
            assert!(sink.buf.len() < CHUNK_BYTES);
        }
        assert_eq!(sink.finish()?, 1_000_000);
        assert_eq!(chunks.len(), 1_000_000);
        Ok(())
    }
}
