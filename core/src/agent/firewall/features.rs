//! The `firewall-v1` feature schema: the fitted service vocabulary and the streaming extractor
//! with per-source and per-destination trailing windows.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::parse::{
    parse_message, service_key_from_name, service_name, Action, Packet, PROTO_ICMP, PROTO_ICMPV6,
    PROTO_TCP, PROTO_UDP,
};
use crate::agent::{AgentError, FeatureState, FeatureStream};
use crate::export::Record;

/// Feature schema name and version.
pub const SCHEMA: &str = "firewall-v1";

/// Column names of `firewall-v1`, in order (documented in the module docs).
pub const FEATURES: [&str; 20] = [
    "is_netfilter",
    "is_drop",
    "is_accept",
    "proto_tcp",
    "proto_udp",
    "proto_icmp",
    "tcp_syn",
    "dport_rarity",
    "packet_len",
    "src_packets_60s",
    "src_drops_60s",
    "src_syn_60s",
    "src_distinct_dports_60s",
    "src_distinct_dsts_60s",
    "src_distinct_dports_300s",
    "src_distinct_dsts_300s",
    "src_rare_dports_300s",
    "dst_syn_10s",
    "dst_packets_10s",
    "dst_distinct_srcs_60s",
];

const SECOND: i64 = 1_000_000;
/// Source windows: 60 s and 300 s.
const SRC_WINDOWS: [i64; 2] = [60 * SECOND, 300 * SECOND];
/// Destination windows: 10 s and 60 s.
const DST_WINDOWS: [i64; 2] = [10 * SECOND, 60 * SECOND];
/// Most services the fitted vocabulary keeps (the most frequent; the rest count as unseen).
pub const MAX_SERVICES: usize = 4096;
/// Most sources, and most destinations, tracked at once.
pub const MAX_ENTITIES: usize = 16_384;
/// Most packets remembered per tracked source or destination: window counts saturate here.
pub const MAX_EVENTS_PER_ENTITY: usize = 512;
/// A service is rare when it is less than this share of the training packets (or unseen).
const RARE_SHARE: f64 = 0.001;

/// The fitted state: how often each destination service (protocol and port, or ICMP type) was
/// seen in training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FittedState {
    /// Netfilter packets in the training records.
    pub packets: u64,
    /// Packets per service (`tcp/443`, `udp/53`, `icmp/8`), the most frequent
    /// [`MAX_SERVICES`].
    pub services: BTreeMap<String, u64>,
}

impl FittedState {
    /// Counts the services of `records` (lines that are not netfilter's are skipped).
    pub fn fit(records: &[Record<'_>]) -> FittedState {
        let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
        let mut packets = 0u64;
        for record in records {
            if let Ok(p) = parse_message(&record.message) {
                packets += 1;
                *counts.entry(p.service_key()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(u32, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_SERVICES);
        FittedState {
            packets,
            services: ranked
                .into_iter()
                .map(|(k, n)| (service_name(k), n))
                .collect(),
        }
    }

    /// The feature state for a model.
    pub fn feature_state(&self) -> FeatureState {
        FeatureState {
            log_type: super::LOG_TYPE.to_owned(),
            schema: SCHEMA.to_owned(),
            features: FEATURES.iter().map(|s| (*s).to_owned()).collect(),
            state: serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Reads a stored feature state, refusing another schema.
    pub fn from_feature_state(state: &FeatureState) -> Result<FittedState, AgentError> {
        if state.log_type != super::LOG_TYPE {
            return Err(AgentError::WrongLogType {
                model: state.log_type.clone(),
                agent: super::LOG_TYPE.to_owned(),
            });
        }
        if state.schema != SCHEMA {
            return Err(AgentError::WrongFeatureSchema {
                model: state.schema.clone(),
                agent: SCHEMA.to_owned(),
            });
        }
        if state.features.len() != FEATURES.len()
            || state.features.iter().zip(FEATURES).any(|(a, b)| a != b)
        {
            return Err(AgentError::BadState(format!(
                "features are not the {SCHEMA} columns ({})",
                FEATURES.join(", ")
            )));
        }
        let fitted: FittedState = serde_json::from_value(state.state.clone())
            .map_err(|e| AgentError::BadState(e.to_string()))?;
        if let Some(name) = fitted
            .services
            .keys()
            .find(|n| service_key_from_name(n).is_none())
        {
            return Err(AgentError::BadState(format!(
                "services: {name:?} is not a service such as tcp/443"
            )));
        }
        Ok(fitted)
    }
}

/// 64-bit FNV-1a: the same on every platform (addresses are keys by hash, not interned, so
/// memory does not grow with the addresses ever seen).
fn address_key(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[derive(Debug, Clone, Copy)]
struct Event {
    time: i64,
    a: u64,
    b: u64,
    flags: u8,
}

const DROP: u8 = 1;
const SYN: u8 = 2;
const RARE: u8 = 4;

#[derive(Debug, Clone, Default)]
struct Aggregate {
    /// Absolute sequence number of the oldest event in this window.
    head: u64,
    packets: u32,
    drops: u32,
    syn: u32,
    rare: u32,
    distinct_a: FxHashMap<u64, u32>,
    distinct_b: FxHashMap<u64, u32>,
}

impl Aggregate {
    fn add(&mut self, e: &Event, track: (bool, bool)) {
        self.packets += 1;
        self.drops += u32::from(e.flags & DROP != 0);
        self.syn += u32::from(e.flags & SYN != 0);
        self.rare += u32::from(e.flags & RARE != 0);
        if track.0 {
            *self.distinct_a.entry(e.a).or_default() += 1;
        }
        if track.1 {
            *self.distinct_b.entry(e.b).or_default() += 1;
        }
    }

    fn remove(&mut self, e: &Event, track: (bool, bool)) {
        self.packets -= 1;
        self.drops -= u32::from(e.flags & DROP != 0);
        self.syn -= u32::from(e.flags & SYN != 0);
        self.rare -= u32::from(e.flags & RARE != 0);
        fn dec(map: &mut FxHashMap<u64, u32>, key: u64) {
            if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        if track.0 {
            dec(&mut self.distinct_a, e.a);
        }
        if track.1 {
            dec(&mut self.distinct_b, e.b);
        }
        self.head += 1;
    }
}

/// One source's (or destination's) recent packets and two trailing windows over them; the
/// second window is the longer.
#[derive(Debug, Clone, Default)]
struct Entity {
    events: VecDeque<Event>,
    /// Absolute sequence number of `events[0]`.
    base: u64,
    last: i64,
    windows: [Aggregate; 2],
}

struct Table {
    lengths: [i64; 2],
    /// Which distinct sets each window keeps: (a, b).
    track: [(bool, bool); 2],
    entities: FxHashMap<u64, Entity>,
    next_sweep: usize,
}

impl Table {
    fn new(lengths: [i64; 2], track: [(bool, bool); 2]) -> Table {
        Table {
            lengths,
            track,
            entities: FxHashMap::default(),
            next_sweep: 1024,
        }
    }

    /// Adds `event` to entity `key` and returns its windows, up to date at `event.time`.
    fn push(&mut self, key: u64, event: Event) -> &Entity {
        if !self.entities.contains_key(&key) {
            self.make_room(event.time);
        }
        let (lengths, track) = (self.lengths, self.track);
        let entity = self.entities.entry(key).or_default();
        entity.last = event.time;
        entity.events.push_back(event);
        for (w, agg) in entity.windows.iter_mut().enumerate() {
            agg.add(&event, track[w]);
        }
        // Drop what left each window: `[t − w, t]` keeps events at t − w.
        for w in 0..2 {
            let horizon = event.time - lengths[w];
            loop {
                let agg = &mut entity.windows[w];
                let i = (agg.head - entity.base) as usize;
                match entity.events.get(i) {
                    Some(e) if e.time < horizon => agg.remove(e, track[w]),
                    _ => break,
                }
            }
        }
        // Past the cap, forget the oldest packet early (the counts saturate).
        while entity.events.len() > MAX_EVENTS_PER_ENTITY {
            let Some(front) = entity.events.front().copied() else {
                break;
            };
            for (w, agg) in entity.windows.iter_mut().enumerate() {
                if agg.head == entity.base {
                    agg.remove(&front, track[w]);
                }
            }
            entity.events.pop_front();
            entity.base += 1;
        }
        let oldest_head = entity.windows[0].head.min(entity.windows[1].head);
        while entity.base < oldest_head {
            entity.events.pop_front();
            entity.base += 1;
        }
        entity
    }

    /// Before a new entity: forget those idle longer than the longest window (their windows
    /// are empty, so rows do not change), and when still near the cap, the less recently
    /// active half. Amortised O(1): a sweep costs the table's size and comes only after the
    /// table has grown by a constant share.
    fn make_room(&mut self, now: i64) {
        if self.entities.len() < self.next_sweep {
            return;
        }
        let horizon = now - self.lengths[0].max(self.lengths[1]);
        self.entities.retain(|_, e| e.last >= horizon);
        if self.entities.len() > MAX_ENTITIES / 4 * 3 {
            let mut lasts: Vec<i64> = self.entities.values().map(|e| e.last).collect();
            let mid = lasts.len() / 2;
            let median = *lasts.select_nth_unstable(mid).1;
            self.entities.retain(|_, e| e.last > median);
        }
        self.next_sweep = (self.entities.len() * 2).clamp(1024, MAX_ENTITIES);
    }
}

/// The streaming `firewall-v1` extractor.
pub struct Extractor {
    services: FxHashMap<u32, u64>,
    packets: u64,
    sources: Table,
    destinations: Table,
    clock: i64,
}

impl Extractor {
    /// An extractor for a fitted state.
    pub fn new(fitted: &FittedState) -> Extractor {
        let services = fitted
            .services
            .iter()
            .filter_map(|(name, &n)| Some((service_key_from_name(name)?, n)))
            .collect();
        Extractor {
            services,
            packets: fitted.packets,
            // Sources: distinct services (a) and destinations (b) in both windows.
            sources: Table::new(SRC_WINDOWS, [(true, true), (true, true)]),
            // Destinations: distinct sources (a) in the 60 s window only.
            destinations: Table::new(DST_WINDOWS, [(false, false), (true, false)]),
            clock: i64::MIN,
        }
    }

    /// Sources and destinations tracked now (for the bounded-memory tests).
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> (usize, usize) {
        (
            self.sources.entities.len(),
            self.destinations.entities.len(),
        )
    }

    /// `−log2` of the service's smoothed training share, and whether it is rare.
    fn rarity(&self, key: u32) -> (f64, bool) {
        let count = self.services.get(&key).copied().unwrap_or(0);
        let rarity = libm::log2((self.packets as f64 + 2.0) / (count as f64 + 1.0));
        let rare = count == 0 || (count as f64) < self.packets as f64 * RARE_SHARE;
        (rarity, rare)
    }

    fn packet_row(&mut self, p: &Packet<'_>, time: i64, out: &mut [f64]) {
        let action = p.action();
        let syn = p.is_syn();
        let key = p.service_key();
        let (rarity, rare) = self.rarity(key);
        out[0] = 1.0;
        out[1] = f64::from(u8::from(action == Action::Drop));
        out[2] = f64::from(u8::from(action == Action::Accept));
        out[3] = f64::from(u8::from(p.proto == PROTO_TCP));
        out[4] = f64::from(u8::from(p.proto == PROTO_UDP));
        out[5] = f64::from(u8::from(p.proto == PROTO_ICMP || p.proto == PROTO_ICMPV6));
        out[6] = f64::from(u8::from(syn));
        out[7] = rarity;
        out[8] = p.len.map_or(0.0, f64::from);
        let flags = (u8::from(action == Action::Drop) * DROP)
            | (u8::from(syn) * SYN)
            | (u8::from(rare) * RARE);
        let src = address_key(p.src);
        let dst = address_key(p.dst);
        let s = self.sources.push(
            src,
            Event {
                time,
                a: u64::from(key),
                b: dst,
                flags,
            },
        );
        let [w60, w300] = &s.windows;
        out[9] = f64::from(w60.packets);
        out[10] = f64::from(w60.drops);
        out[11] = f64::from(w60.syn);
        out[12] = w60.distinct_a.len() as f64;
        out[13] = w60.distinct_b.len() as f64;
        out[14] = w300.distinct_a.len() as f64;
        out[15] = w300.distinct_b.len() as f64;
        out[16] = f64::from(w300.rare);
        let d = self.destinations.push(
            dst,
            Event {
                time,
                a: src,
                b: u64::from(key),
                flags,
            },
        );
        let [w10, w60] = &d.windows;
        out[17] = f64::from(w10.syn);
        out[18] = f64::from(w10.packets);
        out[19] = w60.distinct_a.len() as f64;
    }
}

impl FeatureStream for Extractor {
    fn width(&self) -> usize {
        FEATURES.len()
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        out.fill(0.0);
        self.clock = self.clock.max(record.timestamp);
        if let Ok(p) = parse_message(&record.message) {
            let time = self.clock;
            self.packet_row(&p, time, out);
        }
    }
}
