//! Reading dnsmasq's log messages (`--log-queries` and `--log-queries=extra`).
//!
//! dnsmasq writes one line per step of a query, all of the shape `SOURCE NAME VERB TARGET`
//! (`cache.c`, `log_query`); with `--log-queries=extra` the line starts with the query's serial
//! number and the requestor's `address/port`. Lines that are not of that shape (start-up
//! messages, DHCP, warnings) are [`DnsEvent::Other`] or [`DnsEvent::Dhcp`], never an error:
//! only the syslog framing can make a line unreadable.

/// What a dnsmasq line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsEvent {
    /// `query[TYPE] NAME from CLIENT`: a client asked.
    Query,
    /// `forwarded NAME to SERVER` (also `dnssec-query[TYPE] NAME to SERVER`): sent upstream.
    Forwarded,
    /// `reply NAME is ANSWER`: the upstream answer.
    Reply,
    /// `cached NAME is ANSWER` (also `cached-stale`): answered from the cache.
    Cached,
    /// `config NAME is ANSWER`, `/etc/hosts NAME is ANSWER`, `DHCP …`, `auth …`: answered from
    /// local configuration, a hosts file, DHCP leases or an authoritative zone.
    Local,
    /// A line of `dnsmasq-dhcp`.
    Dhcp,
    /// Any other message (start-up, warnings, DNSSEC validation, other programs).
    Other,
}

impl DnsEvent {
    /// The lower-case name used in [`super::DnsAgent::fields`].
    pub fn as_str(self) -> &'static str {
        match self {
            DnsEvent::Query => "query",
            DnsEvent::Forwarded => "forwarded",
            DnsEvent::Reply => "reply",
            DnsEvent::Cached => "cached",
            DnsEvent::Local => "local",
            DnsEvent::Dhcp => "dhcp",
            DnsEvent::Other => "other",
        }
    }
}

/// The class of an answer (`reply`/`cached`/`config` lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerClass {
    /// No answer on this line (queries, forwards, other lines).
    None,
    /// An address or a record (`93.184.216.34`, `<CNAME>`, `<TXT>`, …).
    Data,
    /// `NXDOMAIN`: the name does not exist.
    NxDomain,
    /// `NODATA`, `NODATA-IPv4`, `NODATA-IPv6`: the name exists, not with that type.
    NoData,
    /// `REFUSED`.
    Refused,
    /// `SERVFAIL`.
    ServFail,
    /// Anything else (`duplicate`, `truncated`, `BOGUS`, …).
    Other,
}

impl AnswerClass {
    fn of(answer: &str) -> AnswerClass {
        match answer {
            "" => AnswerClass::None,
            "NXDOMAIN" => AnswerClass::NxDomain,
            "REFUSED" => AnswerClass::Refused,
            "SERVFAIL" => AnswerClass::ServFail,
            a if a.starts_with("NODATA") => AnswerClass::NoData,
            "duplicate" | "truncated" | "BOGUS" | "ABANDONED" => AnswerClass::Other,
            // Addresses, `<CNAME>`-style record types, names, TXT data.
            _ => AnswerClass::Data,
        }
    }

    /// The upper-case name used in [`super::DnsAgent::fields`] (`NOERROR` for data).
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerClass::None => "",
            AnswerClass::Data => "NOERROR",
            AnswerClass::NxDomain => "NXDOMAIN",
            AnswerClass::NoData => "NODATA",
            AnswerClass::Refused => "REFUSED",
            AnswerClass::ServFail => "SERVFAIL",
            AnswerClass::Other => "OTHER",
        }
    }
}

/// One dnsmasq message, borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsLine<'a> {
    /// What happened.
    pub event: DnsEvent,
    /// The query's serial number (`--log-queries=extra`).
    pub serial: Option<u32>,
    /// The requestor: `from CLIENT` of a query, or the `address/port` of an extra-mode line.
    pub client: Option<&'a str>,
    /// The requestor's source port (extra mode).
    pub client_port: Option<u16>,
    /// `TYPE` of `query[TYPE]` (`A`, `AAAA`, `TXT`, `type=65`, …).
    pub query_type: Option<&'a str>,
    /// The name asked about; `error` on `… error is REFUSED` lines, which name none.
    pub name: &'a str,
    /// Where the line's information came from: `reply`, `cached`, `config`, `/etc/hosts`, ….
    pub source: &'a str,
    /// The rest after the verb: `SERVER` of a forward, the answer of an `is` line (TXT data
    /// and an extended error such as `(EDE: not ready)` included).
    pub target: &'a str,
    /// The answer's class.
    pub answer: AnswerClass,
}

impl<'a> DnsLine<'a> {
    fn other(event: DnsEvent, serial: Option<u32>) -> DnsLine<'a> {
        DnsLine {
            event,
            serial,
            client: None,
            client_port: None,
            query_type: None,
            name: "",
            source: "",
            target: "",
            answer: AnswerClass::None,
        }
    }

    /// Whether the line names a real DNS name (not the `error` placeholder of REFUSED and
    /// SERVFAIL lines, not empty).
    pub fn has_name(&self) -> bool {
        let placeholder = self.name == "error"
            && matches!(self.answer, AnswerClass::Refused | AnswerClass::ServFail);
        !self.name.is_empty() && !placeholder
    }
}

/// Whether `process` is a dnsmasq tag this agent reads.
pub fn is_dnsmasq(process: &str) -> bool {
    process == "dnsmasq"
}

/// Reads the message of a line tagged `process`. Never fails: what is not a DNS log line is
/// [`DnsEvent::Other`] (or [`DnsEvent::Dhcp`] for `dnsmasq-dhcp`).
pub fn parse_message<'a>(process: &str, message: &'a str) -> DnsLine<'a> {
    if process == "dnsmasq-dhcp" {
        return DnsLine::other(DnsEvent::Dhcp, None);
    }
    if !is_dnsmasq(process) {
        return DnsLine::other(DnsEvent::Other, None);
    }
    let mut rest = message;
    let mut next = || -> Option<&'a str> {
        let trimmed = rest.trim_start_matches(' ');
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        rest = &trimmed[end..];
        (end > 0).then(|| &trimmed[..end])
    };
    let Some(mut first) = next() else {
        return DnsLine::other(DnsEvent::Other, None);
    };
    // Extra mode: `SERIAL ADDRESS/PORT SOURCE …` (or `SERIAL SOURCE …` for lines dnsmasq logs
    // without a requestor).
    let mut serial = None;
    let mut client = None;
    let mut client_port = None;
    if first.bytes().all(|b| b.is_ascii_digit()) {
        serial = first.parse::<u32>().ok();
        let Some(following) = next() else {
            return DnsLine::other(DnsEvent::Other, serial);
        };
        first = following;
        if let Some((addr, port)) = first.rsplit_once('/') {
            if !addr.is_empty()
                && !addr.starts_with('/')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
            {
                client = Some(addr);
                client_port = port.parse().ok();
                let Some(following) = next() else {
                    return DnsLine::other(DnsEvent::Other, serial);
                };
                first = following;
            }
        }
    }
    let source = first;
    let (Some(name), Some(verb)) = (next(), next()) else {
        return DnsLine::other(DnsEvent::Other, serial);
    };
    // The rest is the target: a server, a client, or an answer — which may have spaces (TXT
    // data) and an extended error (`REFUSED (EDE: not ready)`).
    let target = rest.trim_matches(' ');
    let first_word = target.split(' ').next().unwrap_or("");
    let bracketed = |prefix: &str| {
        source
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('['))
            .and_then(|r| r.strip_suffix(']'))
            .filter(|t| !t.is_empty())
    };
    let mut line = DnsLine {
        event: DnsEvent::Other,
        serial,
        client,
        client_port,
        query_type: None,
        name,
        source,
        target,
        answer: AnswerClass::None,
    };
    match verb {
        "from" => {
            if let Some(query_type) = bracketed("query") {
                line.event = DnsEvent::Query;
                line.query_type = Some(query_type);
                // The `from` address is the requestor in both modes.
                if !first_word.is_empty() {
                    line.client = Some(first_word);
                }
            }
        }
        "to" if source == "forwarded" || bracketed("dnssec-query").is_some() => {
            line.event = DnsEvent::Forwarded;
            line.query_type = bracketed("dnssec-query");
        }
        "is" => {
            line.answer = AnswerClass::of(first_word);
            line.event = match source {
                "reply" => DnsEvent::Reply,
                "cached" | "cached-stale" => DnsEvent::Cached,
                "config" | "DHCP" | "auth" => DnsEvent::Local,
                s if s.starts_with('/') => DnsEvent::Local,
                _ => {
                    line.answer = AnswerClass::None;
                    DnsEvent::Other
                }
            };
        }
        _ => {}
    }
    if line.event == DnsEvent::Other {
        return DnsLine::other(DnsEvent::Other, serial);
    }
    line
}
