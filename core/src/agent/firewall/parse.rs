//! Reading netfilter log messages: the kernel's `LOG` / nftables `log` text (also what ulogd's
//! LOGEMU writes) and ulogd's JSON output, which becomes the same text.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::agent::{LineError, ParseContext};
use crate::export::{LogLevel, Record};
use crate::time::parse_iso8601;

/// What the rule that logged the packet did, read from its log prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The prefix contains `DROP`, `REJECT`, `DENY` or `BLOCK` (any case).
    Drop,
    /// The prefix contains `ACCEPT`, `ALLOW` or `PASS` (any case) and none of the drop words.
    Accept,
    /// Any other prefix, or none.
    Unknown,
}

impl Action {
    /// Reads the action from a log prefix. Drop words win over accept words (`ALLOW_THEN_DROP`
    /// is a drop): a packet that was logged and dropped is what an admin must not miss.
    pub fn from_prefix(prefix: &str) -> Action {
        let has = |word: &str| {
            prefix
                .as_bytes()
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
        };
        if ["DROP", "REJECT", "DENY", "BLOCK"].iter().any(|w| has(w)) {
            Action::Drop
        } else if ["ACCEPT", "ALLOW", "PASS"].iter().any(|w| has(w)) {
            Action::Accept
        } else {
            Action::Unknown
        }
    }

    /// `drop`, `accept` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Accept => "accept",
            Action::Unknown => "unknown",
        }
    }
}

/// IP protocol numbers the features tell apart.
pub const PROTO_ICMP: u8 = 1;
/// TCP.
pub const PROTO_TCP: u8 = 6;
/// UDP.
pub const PROTO_UDP: u8 = 17;
/// ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
/// A protocol name this reader does not know (`PROTO=` with another name).
pub const PROTO_UNKNOWN: u8 = 255;

/// TCP flag bits, as in the TCP header.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
    /// Names in the order the kernel writes them.
    pub const NAMES: [(u8, &str); 8] = [
        (CWR, "CWR"),
        (ECE, "ECE"),
        (URG, "URG"),
        (ACK, "ACK"),
        (PSH, "PSH"),
        (RST, "RST"),
        (SYN, "SYN"),
        (FIN, "FIN"),
    ];
}

/// One logged packet, borrowed from the message text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packet<'a> {
    /// The log prefix without surrounding spaces (`DROP_IN`, `[UFW BLOCK]`), maybe empty.
    pub prefix: &'a str,
    /// Input interface (empty for locally generated packets).
    pub in_iface: &'a str,
    /// Output interface (empty for packets to this host).
    pub out_iface: &'a str,
    /// Source address (IPv4 or IPv6 text; ARP's `IPSRC=`), maybe empty.
    pub src: &'a str,
    /// Destination address, maybe empty.
    pub dst: &'a str,
    /// The `PROTO=` text (`TCP`, `UDP`, `ICMP`, `ICMPv6`, a number…), maybe empty.
    pub proto_name: &'a str,
    /// IP protocol number (see the `PROTO_*` constants; 0 when absent).
    pub proto: u8,
    /// Source port (TCP/UDP).
    pub spt: Option<u16>,
    /// Destination port (TCP/UDP).
    pub dpt: Option<u16>,
    /// ICMP type.
    pub icmp_type: Option<u8>,
    /// ICMP code.
    pub icmp_code: Option<u8>,
    /// IP packet length (`LEN=`, the first one).
    pub len: Option<u32>,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: Option<u8>,
    /// TCP flags ([`tcp_flags`]).
    pub flags: u8,
    /// Whether the addresses are IPv6.
    pub ipv6: bool,
}

impl Packet<'_> {
    /// The action read from the prefix.
    pub fn action(&self) -> Action {
        Action::from_prefix(self.prefix)
    }

    /// A TCP connection attempt: SYN without ACK.
    pub fn is_syn(&self) -> bool {
        self.proto == PROTO_TCP
            && self.flags & tcp_flags::SYN != 0
            && self.flags & tcp_flags::ACK == 0
    }

    /// The destination "port" the vocabulary counts: the TCP/UDP destination port, the ICMP
    /// type, else 0.
    pub fn service_port(&self) -> u16 {
        match (self.dpt, self.icmp_type) {
            (Some(p), _) => p,
            (None, Some(t)) => u16::from(t),
            (None, None) => 0,
        }
    }

    /// Protocol number and service port in one key (`proto << 16 | port`).
    pub fn service_key(&self) -> u32 {
        (u32::from(self.proto) << 16) | u32::from(self.service_port())
    }
}

/// The name of a service key (`tcp/23`, `udp/161`, `icmp/8`, `proto47/0`).
pub fn service_name(key: u32) -> String {
    let port = key & 0xffff;
    match (key >> 16) as u8 {
        PROTO_TCP => format!("tcp/{port}"),
        PROTO_UDP => format!("udp/{port}"),
        PROTO_ICMP => format!("icmp/{port}"),
        PROTO_ICMPV6 => format!("icmpv6/{port}"),
        PROTO_UNKNOWN => format!("other/{port}"),
        n => format!("proto{n}/{port}"),
    }
}

/// Reads a service name written by [`service_name`].
pub fn service_key_from_name(name: &str) -> Option<u32> {
    let (proto, port) = name.split_once('/')?;
    let port: u16 = port.parse().ok()?;
    let proto = match proto {
        "tcp" => PROTO_TCP,
        "udp" => PROTO_UDP,
        "icmp" => PROTO_ICMP,
        "icmpv6" => PROTO_ICMPV6,
        "other" => PROTO_UNKNOWN,
        p => p.strip_prefix("proto")?.parse().ok()?,
    };
    Some((u32::from(proto) << 16) | u32::from(port))
}

fn proto_number(name: &str) -> u8 {
    match name {
        _ if name.eq_ignore_ascii_case("TCP") => PROTO_TCP,
        _ if name.eq_ignore_ascii_case("UDP") || name.eq_ignore_ascii_case("UDPLITE") => PROTO_UDP,
        _ if name.eq_ignore_ascii_case("ICMP") => PROTO_ICMP,
        _ if name.eq_ignore_ascii_case("ICMPv6") => PROTO_ICMPV6,
        _ => name.parse().unwrap_or(PROTO_UNKNOWN),
    }
}

/// Where the `IN=` field starts: the first `IN=` (at the start or after a space — or glued to a
/// prefix written without its trailing space, `DROP_ININ=eth0`) that is followed by its value and
/// ` OUT=`.
fn find_in_field(msg: &str) -> Option<usize> {
    let bytes = msg.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&bytes[from..], b"IN=") {
        let at = from + i;
        let value_end = bytes[at + 3..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(bytes.len(), |p| at + 3 + p);
        // `PHYSIN=` is a bridge field, not the start.
        let phys = at >= 4 && &bytes[at - 4..at] == b"PHYS";
        if !phys && bytes[value_end..].starts_with(b" OUT=") {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// Skips the kernel's `[ uptime]` stamp at the start of a kernel message.
fn skip_uptime(msg: &str) -> usize {
    let Some(rest) = msg.strip_prefix('[') else {
        return 0;
    };
    match rest.find(']') {
        Some(close)
            if close > 0
                && rest[..close]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b' ') =>
        {
            let after = close + 2;
            after + msg[after..].len() - msg[after..].trim_start_matches(' ').len()
        }
        _ => 0,
    }
}

/// Why a message is not a netfilter log line: byte offset in the message and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError {
    /// Byte offset into the message.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

/// Reads a netfilter log message (`[uptime] PREFIX IN=… OUT=… SRC=… …`).
///
/// Only `IN=` followed by `OUT=` is required; every other field is optional, unknown fields
/// and bare words are skipped, and so is the quoted packet of an ICMP error (`[SRC=… ]`).
/// Ports that are not numbers 0–65535 are errors (the line is damaged).
pub fn parse_message(msg: &str) -> Result<Packet<'_>, MessageError> {
    let start = skip_uptime(msg);
    let body = &msg[start..];
    let Some(in_at) = find_in_field(body) else {
        return Err(MessageError {
            offset: start,
            message: "expected a netfilter log message (`PREFIX IN=… OUT=… SRC=… DST=…`)"
                .to_owned(),
        });
    };
    let mut p = Packet {
        prefix: body[..in_at].trim(),
        ..Packet::default()
    };
    let fields_at = start + in_at;
    let mut pos = fields_at;
    let mut depth = 0usize;
    let mut saw_len = false;
    let mut saw = [false; 2]; // SPT, DPT
    for token in msg[fields_at..].split(' ') {
        let token_at = pos;
        pos += token.len() + 1;
        if token.is_empty() {
            continue;
        }
        if depth > 0 || token.starts_with('[') {
            depth += token.matches('[').count();
            depth = depth.saturating_sub(token.matches(']').count());
            continue;
        }
        let Some((key, value)) = token.split_once('=') else {
            if let Some(&(bit, _)) = tcp_flags::NAMES.iter().find(|(_, n)| *n == token) {
                p.flags |= bit;
            }
            continue;
        };
        let port = |which: &str| -> Result<u16, MessageError> {
            value.parse().map_err(|_| MessageError {
                offset: token_at + key.len() + 1,
                message: format!("{which}= must be a port number 0 to 65535, found {value:?}"),
            })
        };
        match key {
            "IN" => p.in_iface = value,
            "OUT" => p.out_iface = value,
            "SRC" | "IPSRC" if p.src.is_empty() => {
                p.src = value;
                p.ipv6 = value.contains(':');
            }
            "DST" | "IPDST" if p.dst.is_empty() => p.dst = value,
            "PROTO" if p.proto_name.is_empty() => {
                p.proto_name = value;
                p.proto = proto_number(value);
            }
            "SPT" if !saw[0] => {
                saw[0] = true;
                p.spt = Some(port("SPT")?);
            }
            "DPT" if !saw[1] => {
                saw[1] = true;
                p.dpt = Some(port("DPT")?);
            }
            "LEN" if !saw_len => {
                saw_len = true;
                p.len = value.parse().ok();
            }
            "TTL" | "HOPLIMIT" if p.ttl.is_none() => p.ttl = value.parse().ok(),
            "TYPE" if p.icmp_type.is_none() => p.icmp_type = value.parse().ok(),
            "CODE" if p.icmp_code.is_none() => p.icmp_code = value.parse().ok(),
            _ => {}
        }
    }
    if p.proto != PROTO_ICMP && p.proto != PROTO_ICMPV6 {
        p.icmp_type = None;
        p.icmp_code = None;
    }
    Ok(p)
}

/// Reads a raw firewall log line: ulogd JSON (a line starting with `{`) or a syslog-framed
/// netfilter message.
pub fn parse_line<'a>(
    line: &'a str,
    index: usize,
    ctx: &ParseContext,
) -> Result<Record<'a>, LineError> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        let lead = line.len() - trimmed.len();
        return parse_json_line(trimmed, index).map_err(|mut e| {
            e.column += line[..lead].chars().count();
            e
        });
    }
    let record = crate::agent::frame::parse_frame(line, index, ctx)?;
    let message_at = match &record.message {
        Cow::Borrowed(m) => {
            let offset = (m.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
            if offset <= line.len() {
                offset
            } else {
                line.len() - m.len()
            }
        }
        Cow::Owned(m) => line.len().saturating_sub(m.len()),
    };
    match parse_message(&record.message) {
        Ok(_) => Ok(record),
        Err(e) => {
            let byte = (message_at + e.offset).min(line.len());
            let byte = (0..=byte)
                .rev()
                .find(|&b| line.is_char_boundary(b))
                .unwrap_or(0);
            Err(LineError {
                column: line[..byte].chars().count() + 1,
                message: e.message,
            })
        }
    }
}

fn json_str<'m>(obj: &'m Map<String, Value>, keys: &[&str]) -> Option<&'m str> {
    keys.iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
}

fn json_u64(obj: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| match obj.get(*k)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    })
}

/// Reads one ulogd JSON object into a record whose message is the kernel's text for the same
/// packet, so the features read both alike.
pub fn parse_json_line(line: &str, index: usize) -> Result<Record<'static>, LineError> {
    let value: Value = serde_json::from_str(line).map_err(|e| LineError {
        column: char_column(line, e.column().saturating_sub(1)),
        message: format!("ulogd JSON: {e}"),
    })?;
    let Value::Object(obj) = value else {
        return Err(LineError {
            column: 1,
            message: "ulogd JSON: expected an object".to_owned(),
        });
    };
    let timestamp = if let Some(text) = json_str(&obj, &["timestamp", "@timestamp", "time"]) {
        parse_iso8601(text)
            .map_err(|e| LineError {
                column: key_column(line, "timestamp"),
                message: format!("ulogd JSON timestamp: {e}"),
            })?
            .micros
    } else if let Some(sec) = json_u64(&obj, &["oob.time.sec"]) {
        let usec = json_u64(&obj, &["oob.time.usec"]).unwrap_or(0).min(999_999);
        i64::try_from(sec)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000))
            .and_then(|s| s.checked_add(usec as i64))
            .ok_or_else(|| LineError {
                column: key_column(line, "oob.time.sec"),
                message: "ulogd JSON: oob.time.sec is out of range".to_owned(),
            })?
    } else {
        return Err(LineError {
            column: 1,
            message: "ulogd JSON without \"timestamp\" (or \"oob.time.sec\")".to_owned(),
        });
    };
    let src = json_str(&obj, &["src_ip", "ip.saddr.str", "ip.saddr", "ip6.saddr"]);
    let dst = json_str(&obj, &["dest_ip", "ip.daddr.str", "ip.daddr", "ip6.daddr"]);
    let in_iface = json_str(&obj, &["oob.in"]);
    let out_iface = json_str(&obj, &["oob.out"]);
    let prefix = json_str(&obj, &["oob.prefix"]);
    if src.is_none() && dst.is_none() && in_iface.is_none() && prefix.is_none() {
        return Err(LineError {
            column: 1,
            message: "not a ulogd packet record (no src_ip, dest_ip, oob.in or oob.prefix)"
                .to_owned(),
        });
    }
    let ipv6 =
        src.or(dst).is_some_and(|a| a.contains(':')) || json_u64(&obj, &["oob.family"]) == Some(10);
    let proto = json_u64(&obj, &["ip.protocol", "ip6.nexthdr", "oob.protocol.l4"])
        .and_then(|n| u8::try_from(n).ok());
    let mut m = String::with_capacity(256);
    if let Some(prefix) = prefix.map(str::trim).filter(|p| !p.is_empty()) {
        m.push_str(prefix);
        m.push(' ');
    }
    let _ = write!(
        m,
        "IN={} OUT={} ",
        in_iface.unwrap_or(""),
        out_iface.unwrap_or("")
    );
    if let Some(mac) = json_str(&obj, &["mac.str", "raw.mac"]).filter(|s| !s.is_empty()) {
        let _ = write!(m, "MAC={mac} ");
    }
    let _ = write!(m, "SRC={} DST={} ", src.unwrap_or(""), dst.unwrap_or(""));
    if let Some(len) = json_u64(&obj, &["ip.totlen", "ip6.payloadlen", "raw.pktlen"]) {
        let _ = write!(m, "LEN={len} ");
    }
    if let Some(ttl) = json_u64(&obj, &["ip.ttl", "ip6.hoplimit"]) {
        let _ = write!(m, "{}={ttl} ", if ipv6 { "HOPLIMIT" } else { "TTL" });
    }
    if let Some(id) = json_u64(&obj, &["ip.id"]) {
        let _ = write!(m, "ID={id} ");
    }
    match proto {
        Some(PROTO_TCP) => m.push_str("PROTO=TCP "),
        Some(PROTO_UDP) => m.push_str("PROTO=UDP "),
        Some(PROTO_ICMP) => m.push_str("PROTO=ICMP "),
        Some(PROTO_ICMPV6) => m.push_str("PROTO=ICMPv6 "),
        Some(n) => {
            let _ = write!(m, "PROTO={n} ");
        }
        None => {}
    }
    let ports = (
        json_u64(&obj, &["src_port", "tcp.sport", "udp.sport"]),
        json_u64(&obj, &["dest_port", "tcp.dport", "udp.dport"]),
    );
    if let (Some(spt), Some(dpt)) = ports {
        let _ = write!(m, "SPT={spt} DPT={dpt} ");
    }
    match proto {
        Some(PROTO_TCP) => {
            if let Some(w) = json_u64(&obj, &["tcp.window"]) {
                let _ = write!(m, "WINDOW={w} ");
            }
            for (key, name) in [
                ("tcp.cwr", "CWR"),
                ("tcp.ece", "ECE"),
                ("tcp.urg", "URG"),
                ("tcp.ack", "ACK"),
                ("tcp.psh", "PSH"),
                ("tcp.rst", "RST"),
                ("tcp.syn", "SYN"),
                ("tcp.fin", "FIN"),
            ] {
                if json_u64(&obj, &[key]).is_some_and(|v| v != 0) {
                    m.push_str(name);
                    m.push(' ');
                }
            }
        }
        Some(PROTO_UDP) => {
            if let Some(len) = json_u64(&obj, &["udp.len"]) {
                let _ = write!(m, "LEN={len} ");
            }
        }
        Some(PROTO_ICMP | PROTO_ICMPV6) => {
            let t = json_u64(&obj, &["icmp.type", "icmpv6.type"]);
            let c = json_u64(&obj, &["icmp.code", "icmpv6.code"]);
            if let Some(t) = t {
                let _ = write!(m, "TYPE={t} CODE={} ", c.unwrap_or(0));
            }
        }
        _ => {}
    }
    let host = json_str(&obj, &["hostname", "host"]).map(|h| Cow::Owned(h.to_owned()));
    // The canonical text must read back; ports from JSON may be out of range.
    if let Err(e) = parse_message(&m) {
        return Err(LineError {
            column: 1,
            message: format!("ulogd JSON: {}", e.message),
        });
    }
    Ok(Record {
        index,
        timestamp,
        message: Cow::Owned(m),
        process_name: Cow::Borrowed("ulogd"),
        host,
        level: LogLevel::Info,
        label: None,
    })
}

/// The 1-based character column of byte offset `byte` (serde_json counts bytes).
fn char_column(line: &str, byte: usize) -> usize {
    let mut byte = byte.min(line.len());
    while !line.is_char_boundary(byte) {
        byte -= 1;
    }
    line[..byte].chars().count() + 1
}

/// Column (1-based) of `"key"` in a JSON line, or 1.
fn key_column(line: &str, key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    line.find(&quoted)
        .map_or(1, |b| line[..b].chars().count() + 1)
}
