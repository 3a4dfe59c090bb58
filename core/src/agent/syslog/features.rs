//! The `syslog-v1` streaming extractor and the fitted state it starts from.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::drain::{Drain, DrainParams, DrainState};
use super::parse::{hash_bytes, Tokens};
use crate::agent::FeatureStream;
use crate::export::{LogLevel, Record};
use crate::time::{MICROS_PER_DAY, MICROS_PER_MINUTE};

/// Feature names of `syslog-v1`, in column order.
pub const FEATURES: [&str; 18] = [
    "hour_sin",
    "hour_cos",
    "level",
    "template_rarity",
    "template_new",
    "template_count_1m",
    "template_count_15m",
    "process_rarity",
    "process_errors_1m",
    "msg_length",
    "msg_digits",
    "msg_tokens",
    "host_lines_1m",
    "host_lines_15m",
    "host_error_rate_15m",
    "host_processes_15m",
    "host_process_new",
    "host_template_new",
];

/// Short window (1 minute).
pub(crate) const SHORT: i64 = MICROS_PER_MINUTE;
/// Long window (15 minutes).
pub(crate) const LONG: i64 = 15 * MICROS_PER_MINUTE;
/// Buckets per window: counts are kept at a resolution of window / 60.
const BUCKETS: usize = 60;
/// Hosts tracked at once; beyond, idle hosts (and then the least recently active quarter) are
/// forgotten.
pub(crate) const MAX_HOSTS: usize = 4096;
/// Processes remembered per host (most recent).
pub(crate) const MAX_HOST_PROCESSES: usize = 32;
/// Templates remembered per host (most recent), for `host_template_new`.
pub(crate) const MAX_HOST_TEMPLATES: usize = 64;
/// Processes in the fitted vocabulary (most frequent first).
pub(crate) const MAX_PROCESSES: usize = 256;
/// (host, process) and (host, template) pairs remembered from training (most frequent).
pub(crate) const MAX_PAIRS: usize = 16_384;

/// The fitted state of `syslog-v1`, stored as [`crate::agent::FeatureState::state`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SyslogState {
    /// Templates mined on the training records (with their counts).
    pub drain: DrainState,
    /// Training lines.
    pub lines: u64,
    /// Process vocabulary: name and training count, most frequent first.
    pub processes: Vec<(String, u64)>,
    /// (host, process) pairs seen in training.
    pub host_processes: Vec<(String, String)>,
    /// (host, template id) pairs seen in training.
    pub host_templates: Vec<(String, u32)>,
}

/// A trailing count over `[t − w, t]` at bucket resolution `w / 60`: the current bucket and
/// the 59 before it.
#[derive(Debug, Clone)]
struct Window {
    buckets: [u32; BUCKETS],
    sum: u64,
    last: i64,
}

impl Window {
    fn new() -> Window {
        Window {
            buckets: [0; BUCKETS],
            sum: 0,
            last: i64::MIN,
        }
    }

    fn advance(&mut self, bucket: i64) {
        if bucket <= self.last {
            return;
        }
        if self.last == i64::MIN || bucket - self.last >= BUCKETS as i64 {
            self.buckets = [0; BUCKETS];
            self.sum = 0;
        } else {
            for b in self.last + 1..=bucket {
                let slot = &mut self.buckets[b.rem_euclid(BUCKETS as i64) as usize];
                self.sum -= u64::from(*slot);
                *slot = 0;
            }
        }
        self.last = bucket;
    }

    /// Adds `n` at bucket `bucket` and returns the window's count.
    fn add(&mut self, bucket: i64, n: u32) -> u64 {
        self.advance(bucket);
        let slot = &mut self.buckets[bucket.rem_euclid(BUCKETS as i64) as usize];
        *slot = slot.saturating_add(n);
        self.sum += u64::from(n);
        self.sum
    }
}

#[derive(Debug, Clone)]
struct TemplateWindows {
    short: Window,
    long: Window,
}

#[derive(Debug, Clone)]
struct Host {
    hash: u64,
    lines_short: Window,
    lines_long: Window,
    errors_long: Window,
    /// (process hash, last seen), most recent last.
    processes: Vec<(u64, i64)>,
    /// Template ids seen recently, most recent last.
    templates: Vec<u32>,
    last: i64,
    seq: u64,
}

/// The `syslog-v1` stream.
pub(crate) struct SyslogStream {
    drain: Drain,
    tokens: Tokens,
    processes: FxHashMap<Box<str>, (u32, f64)>,
    unknown_process: (u32, f64),
    process_errors: Vec<Window>,
    templates: Vec<TemplateWindows>,
    hosts: FxHashMap<Box<str>, Host>,
    host_processes: FxHashSet<(u64, u64)>,
    host_templates: FxHashSet<(u64, u32)>,
    last_time: i64,
    seq: u64,
}

/// Fits the state on records taken in stable time order.
pub(crate) fn fit(records: &[Record<'_>]) -> SyslogState {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].timestamp);
    let mut drain = Drain::new(DrainParams::default());
    let mut tokens = Tokens::default();
    let mut processes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut host_processes: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut host_templates: BTreeMap<(&str, u32), u64> = BTreeMap::new();
    for &i in &order {
        let r = &records[i];
        tokens.read(&r.message);
        let mined = drain.mine(&tokens, &r.message);
        let host = r.host.as_deref().unwrap_or("");
        *processes.entry(&r.process_name).or_default() += 1;
        *host_processes.entry((host, &r.process_name)).or_default() += 1;
        if mined.id != drain.overflow_id() {
            *host_templates.entry((host, mined.id)).or_default() += 1;
        }
    }
    fn top<K: Ord + Clone>(map: BTreeMap<K, u64>, cap: usize) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = map.into_iter().collect();
        // Most frequent first; equal counts keep the key order (the map's), so it is stable.
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v.truncate(cap);
        v
    }
    let mut hp: Vec<(String, String)> = top(host_processes, MAX_PAIRS)
        .into_iter()
        .map(|((h, p), _)| (h.to_owned(), p.to_owned()))
        .collect();
    hp.sort();
    let mut ht: Vec<(String, u32)> = top(host_templates, MAX_PAIRS)
        .into_iter()
        .map(|((h, t), _)| (h.to_owned(), t))
        .collect();
    ht.sort();
    SyslogState {
        drain: drain.state(),
        lines: records.len() as u64,
        processes: top(processes, MAX_PROCESSES)
            .into_iter()
            .map(|(p, c)| (p.to_owned(), c))
            .collect(),
        host_processes: hp,
        host_templates: ht,
    }
}

fn rarity(count: u64, total: u64) -> f64 {
    ((total as f64 + 1.0) / (count as f64 + 1.0)).ln()
}

impl SyslogStream {
    /// A stream starting from a fitted state.
    pub fn new(state: &SyslogState) -> Result<SyslogStream, String> {
        let drain = Drain::from_state(&state.drain)?;
        if state.processes.len() > MAX_PROCESSES {
            return Err(format!(
                "{} processes, more than {MAX_PROCESSES}",
                state.processes.len()
            ));
        }
        let mut processes = FxHashMap::default();
        for (i, (name, count)) in state.processes.iter().enumerate() {
            processes.insert(
                Box::from(name.as_str()),
                (i as u32, rarity(*count, state.lines)),
            );
        }
        let unknown_process = (processes.len() as u32, rarity(0, state.lines));
        let templates = (0..=drain.len())
            .map(|_| TemplateWindows {
                short: Window::new(),
                long: Window::new(),
            })
            .collect();
        Ok(SyslogStream {
            process_errors: vec![Window::new(); processes.len() + 1],
            processes,
            unknown_process,
            templates,
            host_processes: state
                .host_processes
                .iter()
                .map(|(h, p)| (hash_bytes(h.as_bytes()), hash_bytes(p.as_bytes())))
                .collect(),
            host_templates: state
                .host_templates
                .iter()
                .map(|(h, t)| (hash_bytes(h.as_bytes()), *t))
                .collect(),
            drain,
            tokens: Tokens::default(),
            hosts: FxHashMap::default(),
            last_time: i64::MIN,
            seq: 0,
        })
    }

    /// Hosts tracked now.
    #[cfg(test)]
    pub fn tracked_hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Templates known now (the overflow template not counted).
    #[cfg(test)]
    pub fn templates(&self) -> usize {
        self.drain.len()
    }

    /// Forgets hosts idle longer than the long window; when none is, the least recently active
    /// quarter (ties by first appearance), so each eviction pays for many insertions.
    fn evict_hosts(&mut self, now: i64) {
        let mut by_age: Vec<(i64, u64, Box<str>)> = self
            .hosts
            .iter()
            .map(|(k, h)| (h.last, h.seq, k.clone()))
            .collect();
        by_age.sort_unstable_by_key(|(last, seq, _)| (*last, *seq));
        let stale = by_age
            .iter()
            .take_while(|(last, _, _)| *last < now.saturating_sub(LONG))
            .count();
        let evict = stale.max(MAX_HOSTS / 4);
        for (_, _, key) in by_age.into_iter().take(evict) {
            self.hosts.remove(&key);
        }
    }
}

impl FeatureStream for SyslogStream {
    fn width(&self) -> usize {
        FEATURES.len()
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        let t = record.timestamp;
        let now = t.max(self.last_time);
        self.last_time = now;
        let short_bucket = now.div_euclid(SHORT / BUCKETS as i64);
        let long_bucket = now.div_euclid(LONG / BUCKETS as i64);
        let error = matches!(record.level, LogLevel::Error | LogLevel::Critical);

        let day_fraction = t.rem_euclid(MICROS_PER_DAY) as f64 / MICROS_PER_DAY as f64;
        let angle = std::f64::consts::TAU * day_fraction;
        out[0] = libm::sin(angle);
        out[1] = libm::cos(angle);
        out[2] = f64::from(record.level.numeric());

        let message: &str = &record.message;
        self.tokens.read(message);
        let mined = self.drain.mine(&self.tokens, message);
        if self.templates.len() <= mined.id as usize {
            // A new template (ids are dense) or the overflow template: grow to cover it.
            self.templates
                .resize_with(mined.id as usize + 1, || TemplateWindows {
                    short: Window::new(),
                    long: Window::new(),
                });
        }
        out[3] = rarity(mined.count_before, mined.total_before);
        out[4] = f64::from(u8::from(mined.new));
        let tw = &mut self.templates[mined.id as usize];
        out[5] = (tw.short.add(short_bucket, 1) as f64).ln_1p();
        out[6] = (tw.long.add(long_bucket, 1) as f64).ln_1p();

        let process: &str = &record.process_name;
        let (pid, process_rarity) = self
            .processes
            .get(process)
            .copied()
            .unwrap_or(self.unknown_process);
        out[7] = process_rarity;
        out[8] =
            (self.process_errors[pid as usize].add(short_bucket, u32::from(error)) as f64).ln_1p();

        out[9] = (message.len() as f64).ln_1p();
        out[10] = (self.tokens.digits as f64).ln_1p();
        out[11] = self.tokens.total as f64;

        let host_name = record.host.as_deref().unwrap_or("");
        if !self.hosts.contains_key(host_name) {
            if self.hosts.len() >= MAX_HOSTS {
                self.evict_hosts(now);
            }
            self.seq += 1;
            self.hosts.insert(
                Box::from(host_name),
                Host {
                    hash: hash_bytes(host_name.as_bytes()),
                    lines_short: Window::new(),
                    lines_long: Window::new(),
                    errors_long: Window::new(),
                    processes: Vec::new(),
                    templates: Vec::new(),
                    last: now,
                    seq: self.seq,
                },
            );
        }
        let Some(host) = self.hosts.get_mut(host_name) else {
            out[12..].fill(0.0);
            return;
        };
        host.last = now;
        out[12] = (host.lines_short.add(short_bucket, 1) as f64).ln_1p();
        let lines_long = host.lines_long.add(long_bucket, 1);
        out[13] = (lines_long as f64).ln_1p();
        out[14] = host.errors_long.add(long_bucket, u32::from(error)) as f64 / lines_long as f64;

        let process_hash = hash_bytes(process.as_bytes());
        let seen = match host.processes.iter().position(|&(p, _)| p == process_hash) {
            Some(i) => {
                host.processes.remove(i);
                true
            }
            None => {
                if host.processes.len() >= MAX_HOST_PROCESSES {
                    host.processes.remove(0);
                }
                false
            }
        };
        host.processes.push((process_hash, now));
        let since = now.saturating_sub(LONG);
        out[15] = host
            .processes
            .iter()
            .filter(|&&(_, last)| last >= since)
            .count() as f64;
        out[16] = f64::from(u8::from(
            !seen && !self.host_processes.contains(&(host.hash, process_hash)),
        ));

        let template_seen = match host.templates.iter().rposition(|&id| id == mined.id) {
            Some(i) => {
                host.templates.remove(i);
                true
            }
            None => {
                if host.templates.len() >= MAX_HOST_TEMPLATES {
                    host.templates.remove(0);
                }
                false
            }
        };
        host.templates.push(mined.id);
        out[17] = f64::from(u8::from(
            !template_seen && !self.host_templates.contains(&(host.hash, mined.id)),
        ));
    }
}
