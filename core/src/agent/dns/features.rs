//! The `dns-v1` feature schema and its streaming extractor (see the [module docs](super) for
//! the table of features, the windows and the attribution rule).

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::parse::{parse_message, AnswerClass, DnsEvent, DnsLine};
use crate::agent::FeatureStream;
use crate::export::Record;
use crate::time::MICROS_PER_SECOND;

/// Column names of `dns-v1`, in order.
pub const FEATURES: [&str; 29] = [
    "is_query",
    "is_forwarded",
    "is_reply",
    "is_cached",
    "is_local",
    "is_dhcp",
    "is_other",
    "answer_nxdomain",
    "answer_nodata",
    "answer_refused",
    "answer_servfail",
    "query_type_rare",
    "query_type_rarity",
    "name_length",
    "label_count",
    "max_label_length",
    "name_entropy",
    "name_digit_share",
    "domain_rarity",
    "client_queries_1m",
    "client_queries_15m",
    "client_distinct_names_5m",
    "client_nxdomain_share_5m",
    "client_refused_share_5m",
    "client_rare_types_5m",
    "client_long_names_5m",
    "client_unknown_domains_5m",
    "server_queries_1m",
    "server_nxdomain_1m",
];

/// The trailing windows: 1, 5 and 15 minutes.
pub const WINDOWS: [i64; 3] = [
    60 * MICROS_PER_SECOND,
    300 * MICROS_PER_SECOND,
    900 * MICROS_PER_SECOND,
];

/// Clients tracked at once; further new clients share one overflow entry until some leave.
pub const MAX_CLIENTS: usize = 65_536;
/// Window events kept at once (the events of the last 15 minutes); beyond it the oldest leave
/// every window early, so the windows of an extreme flood hold its last 524,288 events.
pub const MAX_EVENTS: usize = 1 << 19;
/// Entries of each attribution table (direct-mapped, newest wins).
pub const ATTRIBUTION_SLOTS: usize = 4096;
/// A reply is attributed to a query at most this long before it.
pub const ATTRIBUTION_HORIZON: i64 = 60 * MICROS_PER_SECOND;
/// Base domains kept in the fitted vocabulary (the most frequent).
pub const MAX_DOMAINS: usize = 5000;
/// A domain enters the vocabulary when training asked for it at least this often.
pub const MIN_DOMAIN_QUERIES: u64 = 2;
/// A label at least this long counts as a long name (tunnelling packs data into long labels).
pub const LONG_LABEL: usize = 30;

/// The fitted state of `dns-v1` (stored as [`crate::agent::FeatureState::state`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsState {
    /// Query lines seen in training.
    pub queries: u64,
    /// Query lines per query type.
    pub query_types: BTreeMap<String, u64>,
    /// Query lines per base domain (lower case), the [`MAX_DOMAINS`] most frequent seen at least
    /// [`MIN_DOMAIN_QUERIES`] times.
    pub domains: BTreeMap<String, u64>,
}

impl DnsState {
    /// Counts query types and base domains of the query lines among `records`.
    pub fn fit(records: &[Record<'_>]) -> DnsState {
        let mut state = DnsState::default();
        let mut domains: FxHashMap<String, u64> = FxHashMap::default();
        let mut buf = NameBuf::default();
        for record in records {
            let line = parse_message(&record.process_name, &record.message);
            if line.event != DnsEvent::Query {
                continue;
            }
            state.queries += 1;
            if let Some(t) = line.query_type {
                *state.query_types.entry(t.to_owned()).or_insert(0) += 1;
            }
            let stats = NameStats::of(line.name);
            if let Some(domain) = buf.base_domain(line.name, &stats) {
                match domains.get_mut(domain) {
                    Some(c) => *c += 1,
                    None => {
                        domains.insert(domain.to_owned(), 1);
                    }
                }
            }
        }
        let mut ranked: Vec<(String, u64)> = domains
            .into_iter()
            .filter(|(_, c)| *c >= MIN_DOMAIN_QUERIES)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(MAX_DOMAINS);
        state.domains = ranked.into_iter().collect();
        state
    }
}

/// Lengths and character statistics of a DNS name.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct NameStats {
    pub(crate) length: usize,
    pub(crate) labels: usize,
    pub(crate) max_label: usize,
    pub(crate) entropy: f64,
    pub(crate) digit_share: f64,
    /// Byte offset where the base domain starts.
    pub(crate) base_start: usize,
}

impl NameStats {
    /// Statistics of `name` (a trailing dot is ignored). Entropy and digit share are over the
    /// characters of every label but the last (the TLD), or of the only label.
    pub(crate) fn of(name: &str) -> NameStats {
        let name = name.strip_suffix('.').unwrap_or(name);
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return NameStats::default();
        }
        let mut labels = 0;
        let mut max_label = 0;
        // Label boundaries of the last three labels, for the base domain.
        let mut starts = [0usize; 3];
        let mut lens = [0usize; 3];
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate().chain([(bytes.len(), &b'.')]) {
            if b == b'.' {
                let len = i - start;
                labels += 1;
                max_label = max_label.max(len);
                starts = [starts[1], starts[2], start];
                lens = [lens[1], lens[2], len];
                start = i + 1;
            }
        }
        // Last two labels, or three under a two-letter country code with a short second
        // level (`bbc.co.uk`, `abc.net.au`).
        let base_start = if labels >= 3 && lens[2] == 2 && lens[1] <= 3 {
            starts[0]
        } else if labels >= 2 {
            starts[1]
        } else {
            0
        };
        let body = if labels >= 2 {
            &bytes[..starts[2].saturating_sub(1)]
        } else {
            bytes
        };
        let mut counts = [0u32; 40];
        let mut total = 0u32;
        let mut digits = 0u32;
        for &b in body {
            let class = match b.to_ascii_lowercase() {
                b'.' => continue,
                c @ b'a'..=b'z' => c - b'a',
                c @ b'0'..=b'9' => {
                    digits += 1;
                    26 + c - b'0'
                }
                b'-' => 36,
                b'_' => 37,
                _ => 38,
            };
            counts[usize::from(class)] += 1;
            total += 1;
        }
        let mut entropy = 0.0;
        if total > 0 {
            let n = f64::from(total);
            for &c in counts.iter().filter(|&&c| c > 0) {
                let p = f64::from(c) / n;
                entropy -= p * libm::log2(p);
            }
        }
        NameStats {
            length: bytes.len(),
            labels,
            max_label,
            entropy,
            digit_share: if total > 0 {
                f64::from(digits) / f64::from(total)
            } else {
                0.0
            },
            base_start,
        }
    }
}

/// A reused buffer for lower-casing base domains without allocating.
#[derive(Debug, Default)]
struct NameBuf {
    buf: Vec<u8>,
}

impl NameBuf {
    /// The base domain of `name` in lower case, or `None` for an empty name.
    fn base_domain<'b>(&'b mut self, name: &str, stats: &NameStats) -> Option<&'b str> {
        let name = name.strip_suffix('.').unwrap_or(name);
        let base = name.get(stats.base_start..).filter(|b| !b.is_empty())?;
        self.buf.clear();
        self.buf
            .extend(base.bytes().map(|b| b.to_ascii_lowercase()));
        std::str::from_utf8(&self.buf).ok()
    }
}

/// FNV-1a of the lower-cased name (DNS names compare case-insensitively).
fn name_hash(name: &str) -> u64 {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Query types that tunnels and amplification attacks favour and ordinary clients rarely ask.
fn is_rare_type(query_type: &str) -> bool {
    matches!(query_type, "TXT" | "ANY" | "NULL" | "type=10" | "type=255")
}

const QUERY: u8 = 1;
const NXDOMAIN: u8 = 2;
const REFUSED: u8 = 4;
const RARE: u8 = 8;
const LONG: u8 = 16;
const UNKNOWN: u8 = 32;

/// No client.
const NONE: u32 = u32::MAX;
/// The shared entry of clients beyond [`MAX_CLIENTS`].
const OVERFLOW: u32 = 0;

/// One window event: a query, or an NXDOMAIN / REFUSED answer, of a client.
#[derive(Debug, Clone, Copy)]
struct Event {
    time: i64,
    client: u32,
    name: u64,
    flags: u8,
}

#[derive(Debug, Default)]
struct Client {
    name: Box<str>,
    /// Events of this client in the event queue; at 0 the client is forgotten.
    refs: u32,
    generation: u32,
    queries: [u32; 3],
    nxdomain: u32,
    refused: u32,
    rare: u32,
    long: u32,
    unknown: u32,
    distinct: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    client: u32,
    generation: u32,
    time: i64,
}

const EMPTY_SLOT: Slot = Slot {
    key: 0,
    client: NONE,
    generation: 0,
    time: i64::MIN,
};

/// The streaming `dns-v1` extractor.
#[derive(Debug)]
pub struct DnsStream {
    query_types: FxHashMap<Box<str>, f64>,
    unseen_type: f64,
    domains: FxHashMap<Box<str>, f64>,
    unseen_domain: f64,
    name_buf: NameBuf,
    clients: Vec<Client>,
    free: Vec<u32>,
    by_name: FxHashMap<Box<str>, u32>,
    /// Window counts of (client, name hash) pairs in the 5-minute window.
    pairs: FxHashMap<(u32, u64), u32>,
    events: VecDeque<Event>,
    /// Absolute index of `events[0]`.
    front: u64,
    /// Absolute index of the first event still in each window.
    expire: [u64; 3],
    server_queries: u32,
    server_nxdomain: u32,
    by_query_name: Box<[Slot]>,
    by_serial: Box<[Slot]>,
    last_query: Slot,
    now: i64,
}

impl DnsStream {
    /// An extractor for a fitted state.
    pub fn new(state: &DnsState) -> DnsStream {
        let rarity = |count: u64, total: u64| -> f64 {
            libm::log((total as f64 + 1.0) / (count as f64 + 1.0))
        };
        let query_types = state
            .query_types
            .iter()
            .map(|(k, &c)| (k.as_str().into(), rarity(c, state.queries)))
            .collect();
        let domains = state
            .domains
            .iter()
            .map(|(k, &c)| (k.as_str().into(), rarity(c, state.queries)))
            .collect();
        DnsStream {
            query_types,
            unseen_type: rarity(0, state.queries),
            domains,
            unseen_domain: rarity(0, state.queries),
            name_buf: NameBuf::default(),
            clients: vec![Client::default()],
            free: Vec::new(),
            by_name: FxHashMap::default(),
            pairs: FxHashMap::default(),
            events: VecDeque::new(),
            front: 0,
            expire: [0; 3],
            server_queries: 0,
            server_nxdomain: 0,
            by_query_name: vec![EMPTY_SLOT; ATTRIBUTION_SLOTS].into_boxed_slice(),
            by_serial: vec![EMPTY_SLOT; ATTRIBUTION_SLOTS].into_boxed_slice(),
            last_query: EMPTY_SLOT,
            now: i64::MIN,
        }
    }

    /// Clients tracked now (for the bounded-memory tests).
    #[cfg(test)]
    pub(crate) fn tracked_clients(&self) -> usize {
        self.by_name.len()
    }

    /// Window events held now (for the bounded-memory tests).
    #[cfg(test)]
    pub(crate) fn tracked_events(&self) -> usize {
        self.events.len()
    }

    fn back(&self) -> u64 {
        self.front + self.events.len() as u64
    }

    fn event(&self, abs: u64) -> Event {
        self.events[(abs - self.front) as usize]
    }

    /// Takes `e` out of window `w`.
    fn leave(&mut self, w: usize, e: Event) {
        let query = e.flags & QUERY != 0;
        if w == 0 {
            self.server_queries -= u32::from(query);
            self.server_nxdomain -= u32::from(e.flags & NXDOMAIN != 0);
        }
        if e.client == NONE {
            return;
        }
        let c = &mut self.clients[e.client as usize];
        c.queries[w] -= u32::from(query);
        if w == 1 {
            c.nxdomain -= u32::from(e.flags & NXDOMAIN != 0);
            c.refused -= u32::from(e.flags & REFUSED != 0);
            c.rare -= u32::from(e.flags & RARE != 0);
            c.long -= u32::from(e.flags & LONG != 0);
            c.unknown -= u32::from(e.flags & UNKNOWN != 0);
            if query {
                let key = (e.client, e.name);
                if let Some(n) = self.pairs.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        self.pairs.remove(&key);
                        c.distinct -= 1;
                    }
                }
            }
        }
    }

    /// Drops the oldest event from the queue (it has left every window).
    fn pop_front(&mut self) {
        let Some(e) = self.events.pop_front() else {
            return;
        };
        self.front += 1;
        if e.client == NONE {
            return;
        }
        let c = &mut self.clients[e.client as usize];
        c.refs -= 1;
        if c.refs == 0 && e.client != OVERFLOW {
            // Forget the client: every count is 0 again, exactly as for a new one.
            let name = std::mem::take(&mut c.name);
            let generation = c.generation.wrapping_add(1);
            *c = Client {
                generation,
                ..Client::default()
            };
            self.by_name.remove(&name);
            self.free.push(e.client);
        }
    }

    /// Moves the windows to end at `now`.
    fn advance(&mut self, now: i64) {
        for (w, width) in WINDOWS.iter().enumerate() {
            let from = now.saturating_sub(*width);
            while self.expire[w] < self.back() {
                let e = self.event(self.expire[w]);
                if e.time >= from {
                    break;
                }
                self.leave(w, e);
                self.expire[w] += 1;
            }
        }
        while self.front < self.expire[WINDOWS.len() - 1] {
            self.pop_front();
        }
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            let oldest = self.events[0];
            for w in 0..WINDOWS.len() {
                if self.expire[w] == self.front {
                    self.leave(w, oldest);
                    self.expire[w] += 1;
                }
            }
            self.pop_front();
        }
        let query = e.flags & QUERY != 0;
        self.server_queries += u32::from(query);
        self.server_nxdomain += u32::from(e.flags & NXDOMAIN != 0);
        if e.client != NONE {
            let c = &mut self.clients[e.client as usize];
            c.refs += 1;
            for q in &mut c.queries {
                *q += u32::from(query);
            }
            c.nxdomain += u32::from(e.flags & NXDOMAIN != 0);
            c.refused += u32::from(e.flags & REFUSED != 0);
            c.rare += u32::from(e.flags & RARE != 0);
            c.long += u32::from(e.flags & LONG != 0);
            c.unknown += u32::from(e.flags & UNKNOWN != 0);
            if query {
                let n = self.pairs.entry((e.client, e.name)).or_insert(0);
                *n += 1;
                if *n == 1 {
                    c.distinct += 1;
                }
            }
        }
        self.events.push_back(e);
    }

    /// The id of client `name`, creating it when `create` (or the overflow entry when full).
    fn client_id(&mut self, name: &str, create: bool) -> u32 {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        if !create {
            return NONE;
        }
        if self.by_name.len() >= MAX_CLIENTS {
            return OVERFLOW;
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.clients.push(Client::default());
                (self.clients.len() - 1) as u32
            }
        };
        let boxed: Box<str> = name.into();
        self.clients[id as usize].name = boxed.clone();
        self.by_name.insert(boxed, id);
        id
    }

    fn remember(&mut self, key: u64, serial: Option<u32>, client: u32) {
        let slot = Slot {
            key,
            client,
            generation: self.clients[client as usize].generation,
            time: self.now,
        };
        self.by_query_name[(key % ATTRIBUTION_SLOTS as u64) as usize] = slot;
        if let Some(serial) = serial {
            let key = u64::from(serial);
            self.by_serial[(key % ATTRIBUTION_SLOTS as u64) as usize] = Slot { key, ..slot };
        }
        self.last_query = slot;
    }

    fn recall(&self, slot: Slot, key: u64) -> u32 {
        let fresh = slot.client != NONE
            && slot.key == key
            && self.now - slot.time <= ATTRIBUTION_HORIZON
            && self
                .clients
                .get(slot.client as usize)
                .is_some_and(|c| c.generation == slot.generation);
        if fresh {
            slot.client
        } else {
            NONE
        }
    }

    /// The client a non-query line belongs to (see the module docs for the rule).
    fn attribute(&mut self, line: &DnsLine<'_>, hash: u64, create: bool) -> u32 {
        if let Some(client) = line.client {
            return self.client_id(client, create);
        }
        if let Some(serial) = line.serial {
            let key = u64::from(serial);
            return self.recall(
                self.by_serial[(key % ATTRIBUTION_SLOTS as u64) as usize],
                key,
            );
        }
        if line.has_name() {
            return self.recall(
                self.by_query_name[(hash % ATTRIBUTION_SLOTS as u64) as usize],
                hash,
            );
        }
        self.recall(self.last_query, self.last_query.key)
    }
}

fn bit(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl FeatureStream for DnsStream {
    fn width(&self) -> usize {
        FEATURES.len()
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        out.fill(0.0);
        self.now = self.now.max(record.timestamp);
        let now = self.now;
        self.advance(now);
        let line = parse_message(&record.process_name, &record.message);
        let event = line.event;
        out[0] = bit(event == DnsEvent::Query);
        out[1] = bit(event == DnsEvent::Forwarded);
        out[2] = bit(event == DnsEvent::Reply);
        out[3] = bit(event == DnsEvent::Cached);
        out[4] = bit(event == DnsEvent::Local);
        out[5] = bit(event == DnsEvent::Dhcp);
        out[6] = bit(event == DnsEvent::Other);
        if matches!(event, DnsEvent::Dhcp | DnsEvent::Other) {
            return;
        }
        out[7] = bit(line.answer == AnswerClass::NxDomain);
        out[8] = bit(line.answer == AnswerClass::NoData);
        out[9] = bit(line.answer == AnswerClass::Refused);
        out[10] = bit(line.answer == AnswerClass::ServFail);

        let mut flags = 0u8;
        let mut hash = 0u64;
        if line.has_name() {
            let stats = NameStats::of(line.name);
            hash = name_hash(line.name);
            out[13] = stats.length as f64;
            out[14] = stats.labels as f64;
            out[15] = stats.max_label as f64;
            out[16] = stats.entropy;
            out[17] = stats.digit_share;
            let rarity = match self.name_buf.base_domain(line.name, &stats) {
                Some(domain) => self.domains.get(domain).copied(),
                None => None,
            };
            out[18] = rarity.unwrap_or(self.unseen_domain);
            if stats.max_label >= LONG_LABEL {
                flags |= LONG;
            }
            if rarity.is_none() {
                flags |= UNKNOWN;
            }
        }
        let client = if event == DnsEvent::Query {
            let query_type = line.query_type.unwrap_or("");
            let rare = is_rare_type(query_type);
            out[11] = bit(rare);
            out[12] = self
                .query_types
                .get(query_type)
                .copied()
                .unwrap_or(self.unseen_type);
            flags |= QUERY | if rare { RARE } else { 0 };
            let client = match line.client {
                Some(name) => self.client_id(name, true),
                None => NONE,
            };
            if client != NONE {
                self.remember(hash, line.serial, client);
            }
            client
        } else {
            flags &= !(LONG | UNKNOWN);
            match line.answer {
                AnswerClass::NxDomain => flags |= NXDOMAIN,
                AnswerClass::Refused => flags |= REFUSED,
                _ => {}
            }
            self.attribute(&line, hash, flags != 0)
        };
        if flags != 0 {
            self.push_event(Event {
                time: now,
                client,
                name: hash,
                flags,
            });
        }
        if client != NONE {
            let c = &self.clients[client as usize];
            let q5 = f64::from(c.queries[1].max(1));
            out[19] = f64::from(c.queries[0]);
            out[20] = f64::from(c.queries[2]);
            out[21] = f64::from(c.distinct);
            out[22] = (f64::from(c.nxdomain) / q5).min(1.0);
            out[23] = (f64::from(c.refused) / q5).min(1.0);
            out[24] = f64::from(c.rare);
            out[25] = f64::from(c.long);
            out[26] = f64::from(c.unknown);
        }
        out[27] = f64::from(self.server_queries);
        out[28] = f64::from(self.server_nxdomain);
    }
}
