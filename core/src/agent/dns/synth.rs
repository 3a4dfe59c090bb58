//! Synthetic dnsmasq logs: a home/office gateway answering its clients, with labelled
//! tunnelling, DGA and flood incidents (`mcp-train synth --log-type dns`).
//!
//! Normal traffic (label 0): the span is cut into ten-minute slots weighted by the hour of day
//! (office hours busy, nights quiet, weekends lower) and a random busy factor; each slot gets
//! its exact share of the normal records, filled with lookups of clients chosen by their own
//! activity: popular names (Zipf-distributed, A then often AAAA and HTTPS, CNAME chains,
//! answered from the cache while their TTL lasts, NODATA for IPv4-only names), a long tail of
//! names seen once, local names from configuration and DHCP leases, reverse lookups, typos
//! answered NXDOMAIN, the odd TXT lookup, SERVFAIL, DHCP exchanges and resolver messages.
//!
//! Incidents (label 1) take exactly `round(records × anomaly_ratio)` records, shared over up to
//! 48 incidents placed in disjoint stretches of the span, rotating over three kinds:
//! - tunnelling: one client asks TXT / NULL / CNAME records of long base32 names under one
//!   domain, several per second;
//! - DGA: one client asks A records of random names, mostly answered NXDOMAIN;
//! - query flood: one client sends tens to hundreds of queries per second — random
//!   subdomains of one victim domain (NXDOMAIN, "water torture") or ANY queries.
//!
//! Lines are in dnsmasq's plain `--log-queries` format (OpenWrt's default). The output depends
//! only on the configuration (ChaCha8, no clock, no hash-map iteration).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::synth::portable::PortableRng;

use serde::Serialize;

use crate::synth::{SynthSummary, ValidSynthConfig};
use crate::time::{format_iso8601, CivilTime, MICROS_PER_SECOND};

const SLOT_MICROS: i64 = 600 * MICROS_PER_SECOND;
const MILLI: i64 = 1000;
const CHUNK: usize = 64 * 1024;
/// Most incidents an export gets.
const MAX_INCIDENTS: usize = 48;
/// Labelled records per incident, roughly (fewer incidents for fewer labelled records).
const INCIDENT_RECORDS: usize = 150;

/// Relative activity per hour of day (UTC), Monday to Friday.
const WEEKDAY: [f64; 24] = [
    0.12, 0.08, 0.06, 0.05, 0.05, 0.07, 0.18, 0.45, 0.95, 1.60, 1.85, 1.90, //
    1.55, 1.70, 1.85, 1.75, 1.50, 1.05, 0.65, 0.50, 0.42, 0.35, 0.25, 0.17,
];
/// Relative activity per hour of day (UTC), Saturday and Sunday.
const WEEKEND: [f64; 24] = [
    0.15, 0.10, 0.07, 0.06, 0.05, 0.05, 0.07, 0.12, 0.20, 0.30, 0.38, 0.42, //
    0.42, 0.40, 0.40, 0.38, 0.35, 0.32, 0.30, 0.28, 0.25, 0.22, 0.20, 0.17,
];

/// Popular names, most popular first: (name, CNAME target, has IPv6).
const SITES: &[(&str, Option<&str>, bool)] = &[
    ("www.google.com", None, true),
    ("connectivitycheck.gstatic.com", None, true),
    ("fonts.gstatic.com", None, true),
    ("www.youtube.com", Some("youtube-ui.l.google.com"), true),
    ("i.ytimg.com", None, true),
    (
        "outlook.office365.com",
        Some("outlook.ms-acdc.office.com"),
        true,
    ),
    (
        "login.microsoftonline.com",
        Some("login.mso.msidentity.com"),
        false,
    ),
    ("api.github.com", None, false),
    ("github.com", None, false),
    ("graph.facebook.com", Some("star.c10r.facebook.com"), true),
    ("www.wikipedia.org", Some("dyna.wikimedia.org"), true),
    ("upload.wikimedia.org", None, true),
    ("slack.com", None, false),
    ("wss-primary.slack.com", None, false),
    ("time.apple.com", Some("time.g.aaplimg.com"), true),
    (
        "gateway.icloud.com",
        Some("gateway.icloud.com.akadns.net"),
        true,
    ),
    (
        "teams.microsoft.com",
        Some("teams-office-com.s-0005.dc-msedge.net"),
        true,
    ),
    ("update.googleapis.com", None, true),
    ("play.googleapis.com", None, true),
    ("safebrowsing.googleapis.com", None, true),
    (
        "www.amazon.com",
        Some("tp.47cf2c8c9-frontier.amazon.com"),
        false,
    ),
    (
        "m.media-amazon.com",
        Some("m.media-amazon.com.edgekey.net"),
        true,
    ),
    ("zoom.us", None, false),
    ("us04web.zoom.us", None, false),
    (
        "api.spotify.com",
        Some("edge-web.dual-gslb.spotify.com"),
        true,
    ),
    (
        "audio-ak-spotify-com.akamaized.net",
        Some("a1713.dscb.akamai.net"),
        true,
    ),
    ("www.netflix.com", Some("www.dradis.netflix.com"), true),
    ("occ-0-768-769.1.nflxso.net", None, true),
    ("0.openwrt.pool.ntp.org", None, false),
    ("1.openwrt.pool.ntp.org", None, false),
    ("downloads.openwrt.org", None, true),
    ("deb.debian.org", Some("debian.map.fastlydns.net"), true),
    (
        "security.debian.org",
        Some("debian.map.fastlydns.net"),
        true,
    ),
    ("www.bbc.co.uk", Some("www.bbc.net.uk"), true),
    ("news.ycombinator.com", None, false),
    ("stackoverflow.com", None, false),
    ("cdn.jsdelivr.net", Some("jsdelivr.map.fastly.net"), true),
    ("ajax.googleapis.com", None, true),
    ("www.googletagmanager.com", None, true),
    ("clients4.google.com", Some("clients.l.google.com"), true),
    ("mtalk.google.com", Some("mobile-gtalk.l.google.com"), true),
    (
        "1-courier.push.apple.com",
        Some("1-courier.push-apple.com.akadns.net"),
        true,
    ),
    ("d3ag4hukkh62yn.cloudfront.net", None, true),
    ("ocsp.digicert.com", Some("ocsp.edge.digicert.com"), true),
    ("www.reddit.com", Some("reddit.map.fastly.net"), true),
    ("static.xx.fbcdn.net", None, true),
    ("weather.com", None, false),
    ("docs.rs", None, true),
    ("crates.io", None, true),
    ("mail.google.com", Some("googlemail.l.google.com"), true),
];

/// Names answered from the gateway's own configuration.
const LOCAL_NAMES: [&str; 4] = ["router.lan", "nas.lan", "printer.lan", "homeassistant.lan"];
/// Benign names that do not exist.
const TYPOS: [&str; 6] = [
    "wpad.lan",
    "gooogle.com",
    "www.gogle.con",
    "isatap.lan",
    "_ldap._tcp.dc._msdcs.lan",
    "updates.local-printer.example",
];
const UPSTREAMS: [&str; 2] = ["9.9.9.9", "149.112.112.112"];
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ro", "ta", "vi", "sun", "mar", "tel", "ber", "gan", "shop", "news",
    "blog", "cloud", "data", "web", "app", "home", "green", "north", "city", "art",
];
const TLDS: [&str; 6] = ["com", "net", "org", "de", "io", "co.uk"];
const DGA_TLDS: [&str; 7] = ["com", "net", "org", "info", "biz", "top", "xyz"];
const TUNNEL_DOMAINS: [&str; 3] = [
    "t.cdn-sync-node.net",
    "d.exfil-cloud.com",
    "ns1.upd8-srv.org",
];
const FLOOD_VICTIMS: [&str; 3] = ["shop-victim.com", "bank-example.net", "isc.org"];
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const HOSTNAMES: [&str; 8] = [
    "laptop",
    "iphone",
    "android",
    "desktop",
    "tv",
    "printer",
    "tablet",
    "thermostat",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tunnel,
    Dga,
    Flood,
}

/// One output line, ordered by time then creation.
#[derive(Debug)]
struct Line {
    time: i64,
    seq: u64,
    label: bool,
    dhcp: bool,
    message: String,
}

impl PartialEq for Line {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Line {}
impl PartialOrd for Line {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Line {
    /// Reversed, so the max-heap pops the earliest line.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The lines of one episode before they are timed and queued: (offset, dhcp, message).
type Episode = Vec<(i64, bool, String)>;

#[derive(Debug)]
struct Incident {
    kind: Kind,
    client: usize,
    budget: usize,
    next: i64,
    /// Mean gap between episodes.
    gap: f64,
    /// Tunnel domain, flood victim; for floods, whether it is an ANY flood.
    target: &'static str,
    any_flood: bool,
}

struct Sim {
    rng: PortableRng,
    clients: Vec<String>,
    client_cum: Vec<f64>,
    site_cum: Vec<f64>,
    /// Cache expiry per site, for A and AAAA.
    cached: Vec<[i64; 2]>,
    heap: BinaryHeap<Line>,
    seq: u64,
    // Normal traffic.
    slot_cum: Vec<f64>,
    start: i64,
    slot_len: i64,
    normal_total: usize,
    slot: usize,
    slot_left: usize,
    slot_budget: usize,
    slot_pos: f64,
    normal_done: usize,
    // Incidents, in time order.
    incidents: Vec<Incident>,
    current: usize,
}

fn pick(cum: &[f64], u: f64) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let q = u * total;
    cum.partition_point(|&c| c <= q)
        .min(cum.len().saturating_sub(1))
}

fn exp1(rng: &mut PortableRng) -> f64 {
    let u: f64 = rng.gen();
    (-libm::log(1.0 - u)).min(6.0)
}

fn site_ip(i: usize) -> String {
    format!(
        "{}.{}.{}.{}",
        23 + (i * 37) % 180,
        (i * 91) % 250,
        (i * 13 + 7) % 250,
        1 + (i * 7) % 250
    )
}

fn site_ip6(i: usize) -> String {
    format!("2a00:1450:4001:8{:02x}::200e", i % 256)
}

impl Sim {
    fn new(config: &ValidSynthConfig) -> Sim {
        let cfg = config.config();
        let mut rng = PortableRng::seed_from_u64(cfg.seed);
        let n_clients = cfg.clients.clamp(1, 60_000);
        let mut clients = Vec::with_capacity(n_clients);
        let mut client_cum = Vec::with_capacity(n_clients);
        let mut total = 0.0;
        for i in 0..n_clients {
            clients.push(format!("192.168.{}.{}", 1 + i / 250, 10 + i % 250));
            // A few busy laptops, many quiet phones and devices.
            total += 0.1 + exp1(&mut rng) * exp1(&mut rng);
            client_cum.push(total);
        }
        let mut site_cum = Vec::with_capacity(SITES.len());
        let mut total = 0.0;
        for rank in 0..SITES.len() {
            total += 1.0 / libm::pow(rank as f64 + 1.0, 0.9);
            site_cum.push(total);
        }
        let start = cfg.start_micros;
        let span = (config.end_micros() - start).max(1);
        let slots = (span / SLOT_MICROS).max(1);
        let slot_len = span / slots;
        let mut slot_cum = Vec::with_capacity(slots as usize + 1);
        let mut total = 0.0;
        slot_cum.push(total);
        for slot in 0..slots {
            let c = CivilTime::from_micros(start + slot * slot_len);
            let table = if c.weekday >= 5 { &WEEKEND } else { &WEEKDAY };
            let busy = 0.55 + 0.9 * rng.gen::<f64>();
            total += table[(c.hour % 24) as usize] * busy;
            slot_cum.push(total);
        }
        let anomalies = config.anomalies();
        let normal_total = cfg.records - anomalies;
        let mut sim = Sim {
            rng,
            clients,
            client_cum,
            site_cum,
            cached: vec![[i64::MIN; 2]; SITES.len()],
            heap: BinaryHeap::new(),
            seq: 0,
            slot_cum,
            start,
            slot_len,
            normal_total,
            slot: 0,
            slot_left: 0,
            slot_budget: 0,
            slot_pos: 0.0,
            normal_done: 0,
            incidents: Vec::new(),
            current: 0,
        };
        sim.plan_incidents(anomalies, span);
        sim.open_slot();
        sim
    }

    fn plan_incidents(&mut self, anomalies: usize, span: i64) {
        if anomalies == 0 {
            return;
        }
        let k = (anomalies / INCIDENT_RECORDS).clamp(1, MAX_INCIDENTS);
        let offset = self.rng.gen_range(0..3u32) as usize;
        let segment = span / k as i64;
        for i in 0..k {
            let budget = anomalies / k + usize::from(i < anomalies % k);
            let kind = [Kind::Tunnel, Kind::Dga, Kind::Flood][(i + offset) % 3];
            let client = pick(&self.client_cum, self.rng.gen());
            let start = self.start
                + segment * i as i64
                + (self.rng.gen::<f64>() * 0.5 * segment as f64) as i64;
            // Episodes per second, raised so the incident ends within its stretch.
            let base_rate = match kind {
                Kind::Tunnel => self.rng.gen_range(2.0..6.0),
                Kind::Dga => self.rng.gen_range(1.0..4.0),
                Kind::Flood => self.rng.gen_range(40.0..150.0),
            };
            let episodes = budget as f64 / 3.0;
            let seconds = 0.45 * segment as f64 / MICROS_PER_SECOND as f64;
            let rate = f64::max(base_rate, episodes / seconds.max(1e-3));
            let any_flood = kind == Kind::Flood && self.rng.gen_bool(0.4);
            let target = match kind {
                Kind::Tunnel => TUNNEL_DOMAINS[self.rng.index(TUNNEL_DOMAINS.len())],
                Kind::Flood => FLOOD_VICTIMS[self.rng.index(FLOOD_VICTIMS.len())],
                Kind::Dga => "",
            };
            self.incidents.push(Incident {
                kind,
                client,
                budget,
                next: start,
                gap: MICROS_PER_SECOND as f64 / rate,
                target,
                any_flood,
            });
        }
    }

    /// Moves to the next slot with normal records to place (or past the last).
    fn open_slot(&mut self) {
        let slots = self.slot_cum.len() - 1;
        let total = self.slot_cum[slots];
        let target = |i: usize| -> usize {
            if i >= slots || total <= 0.0 {
                return self.normal_total;
            }
            ((self.normal_total as f64 * self.slot_cum[i] / total).round() as usize)
                .min(self.normal_total)
        };
        while self.slot < slots {
            let budget = target(self.slot + 1).saturating_sub(self.normal_done);
            if budget > 0 {
                self.slot_budget = budget;
                self.slot_left = budget;
                self.slot_pos = 0.5 * self.rng.gen::<f64>() / budget as f64;
                return;
            }
            self.slot += 1;
        }
        self.slot_left = 0;
    }

    fn next_normal(&self) -> Option<i64> {
        (self.slot_left > 0).then(|| {
            let within = (self.slot_pos * self.slot_len as f64) as i64;
            self.start + self.slot as i64 * self.slot_len + within.min(self.slot_len - 1)
        })
    }

    fn next_incident(&self) -> Option<i64> {
        self.incidents
            .get(self.current)
            .filter(|i| i.budget > 0)
            .map(|i| i.next)
    }

    fn queue(&mut self, time: i64, label: bool, episode: Episode, budget: usize) -> usize {
        let n = episode.len().min(budget);
        for (offset, dhcp, message) in episode.into_iter().take(n) {
            self.seq += 1;
            self.heap.push(Line {
                time: time + offset,
                seq: self.seq,
                label,
                dhcp,
                message,
            });
        }
        n
    }

    fn normal_episode(&mut self, time: i64) {
        let episode = self.benign(time);
        let written = self.queue(time, false, episode, self.slot_left);
        self.slot_left -= written;
        self.normal_done += written;
        let step = written as f64 / self.slot_budget as f64 * 2.0 * self.rng.gen::<f64>();
        self.slot_pos = (self.slot_pos + step).min(0.999_999);
        if self.slot_left == 0 {
            self.slot += 1;
            self.open_slot();
        }
    }

    fn incident_episode(&mut self) {
        let Some(incident) = self.incidents.get(self.current) else {
            return;
        };
        let (time, kind, client, target, any_flood, budget, gap) = (
            incident.next,
            incident.kind,
            incident.client,
            incident.target,
            incident.any_flood,
            incident.budget,
            incident.gap,
        );
        let episode = match kind {
            Kind::Tunnel => self.tunnel(client, target),
            Kind::Dga => self.dga(client),
            Kind::Flood => self.flood(client, target, any_flood),
        };
        let written = self.queue(time, true, episode, budget);
        let step = (gap * exp1(&mut self.rng)).max(1.0) as i64;
        let incident = &mut self.incidents[self.current];
        incident.budget -= written;
        incident.next = time + step;
        if incident.budget == 0 {
            self.current += 1;
        }
    }

    fn upstream(&mut self) -> &'static str {
        UPSTREAMS[usize::from(self.rng.gen_bool(0.3))]
    }

    fn random_label(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.rng.index(alphabet.len())]))
            .collect()
    }

    /// One benign lookup (or DHCP exchange, or resolver message) starting at `time`.
    fn benign(&mut self, time: i64) -> Episode {
        let c = pick(&self.client_cum, self.rng.gen());
        let client = self.clients[c].clone();
        let mut ep: Episode = Vec::new();
        let roll: f64 = self.rng.gen();
        if roll < 0.80 {
            let site = pick(&self.site_cum, self.rng.gen());
            self.lookup_site(&mut ep, time, site, 0, &client);
            if self.rng.gen_bool(0.6) {
                self.lookup_site(&mut ep, time, site, 1, &client);
            }
            if self.rng.gen_bool(0.12) {
                let name = SITES[site].0;
                let at = ep.last().map_or(0, |l| l.0) + MILLI;
                ep.push((at, false, format!("query[HTTPS] {name} from {client}")));
                let up = self.upstream();
                ep.push((at + 200, false, format!("forwarded {name} to {up}")));
                ep.push((at + 15 * MILLI, false, format!("reply {name} is NODATA")));
            }
        } else if roll < 0.86 {
            // A name seen once: the long tail of the web.
            let parts = self.rng.gen_range(2..4);
            let mut name = String::new();
            if self.rng.gen_bool(0.5) {
                name.push_str("www.");
            }
            for _ in 0..parts {
                name.push_str(SYLLABLES[self.rng.index(SYLLABLES.len())]);
            }
            if self.rng.gen_bool(0.3) {
                let _ = write!(name, "{}", self.rng.gen_range(1..100));
            }
            let tld = TLDS[self.rng.index(TLDS.len())];
            let _ = write!(name, ".{tld}");
            let up = self.upstream();
            let ip = format!(
                "{}.{}.{}.{}",
                self.rng.gen_range(2..223),
                self.rng.gen_range(0..256),
                self.rng.gen_range(0..256),
                self.rng.gen_range(1..255)
            );
            ep.push((0, false, format!("query[A] {name} from {client}")));
            ep.push((250, false, format!("forwarded {name} to {up}")));
            let rt = self.rng.gen_range(8..90) * MILLI;
            ep.push((rt, false, format!("reply {name} is {ip}")));
        } else if roll < 0.905 {
            // Local names: configuration, hosts file, DHCP leases, reverse lookups.
            let which = self.rng.gen_range(0..4);
            let host = HOSTNAMES[c % HOSTNAMES.len()];
            let (qtype, name, line) = match which {
                0 => {
                    let n = LOCAL_NAMES[self.rng.index(LOCAL_NAMES.len())];
                    (
                        "A",
                        n.to_owned(),
                        format!("config {n} is 192.168.1.{}", 1 + n.len()),
                    )
                }
                1 => {
                    let n = LOCAL_NAMES[self.rng.index(LOCAL_NAMES.len())];
                    (
                        "A",
                        n.to_owned(),
                        format!("/tmp/hosts/dhcp.cfg01411c {n} is 192.168.1.{}", 1 + n.len()),
                    )
                }
                2 => {
                    let other = pick(&self.client_cum, self.rng.gen());
                    let n = format!("{}-{other}.lan", HOSTNAMES[other % HOSTNAMES.len()]);
                    let ip = self.clients[other].clone();
                    ("A", n.clone(), format!("DHCP {n} is {ip}"))
                }
                _ => {
                    let other = pick(&self.client_cum, self.rng.gen());
                    let ip = &self.clients[other];
                    let rev: Vec<&str> = ip.split('.').rev().collect();
                    let n = format!("{}.in-addr.arpa", rev.join("."));
                    let line = format!(
                        "DHCP {n} is {}-{other}.lan",
                        HOSTNAMES[other % HOSTNAMES.len()]
                    );
                    ("PTR", n, line)
                }
            };
            let _ = host;
            ep.push((0, false, format!("query[{qtype}] {name} from {client}")));
            ep.push((120, false, line));
        } else if roll < 0.93 {
            // Typos and probes for names that do not exist.
            let name = TYPOS[self.rng.index(TYPOS.len())];
            ep.push((0, false, format!("query[A] {name} from {client}")));
            if name.ends_with(".lan") {
                ep.push((100, false, format!("config {name} is NXDOMAIN")));
            } else {
                let up = self.upstream();
                ep.push((250, false, format!("forwarded {name} to {up}")));
                let rt = self.rng.gen_range(10..60) * MILLI;
                ep.push((rt, false, format!("reply {name} is NXDOMAIN")));
            }
        } else if roll < 0.935 {
            // The odd TXT lookup (mail clients, SPF, verification records).
            let name = ["google.com", "_spf.google.com", "github.com"]
                [self.rng.gen_range(0..3u32) as usize];
            ep.push((0, false, format!("query[TXT] {name} from {client}")));
            let up = self.upstream();
            ep.push((250, false, format!("forwarded {name} to {up}")));
            ep.push((
                30 * MILLI,
                false,
                format!("reply {name} is v=spf1 include:_netblocks.google.com ~all"),
            ));
        } else if roll < 0.938 {
            // An upstream failure.
            let site = pick(&self.site_cum, self.rng.gen());
            let name = SITES[site].0;
            ep.push((0, false, format!("query[A] {name} from {client}")));
            let up = self.upstream();
            ep.push((250, false, format!("forwarded {name} to {up}")));
            ep.push((2000 * MILLI, false, "reply error is SERVFAIL".to_owned()));
        } else if roll < 0.998 {
            // DHCP renewal.
            let mac = format!(
                "3c:22:fb:{:02x}:{:02x}:{:02x}",
                (c >> 16) & 0xff,
                (c >> 8) & 0xff,
                c & 0xff
            );
            let host = HOSTNAMES[c % HOSTNAMES.len()];
            ep.push((0, true, format!("DHCPREQUEST(br-lan) {client} {mac}")));
            ep.push((
                2 * MILLI,
                true,
                format!("DHCPACK(br-lan) {client} {mac} {host}-{c}"),
            ));
        } else if self.rng.gen_bool(0.5) {
            ep.push((0, false, "reading /tmp/resolv.conf.auto".to_owned()));
            ep.push((50, false, "using nameserver 9.9.9.9#53".to_owned()));
            ep.push((60, false, "using nameserver 149.112.112.112#53".to_owned()));
        } else {
            ep.push((
                0,
                false,
                "using only locally-known addresses for lan".to_owned(),
            ));
        }
        ep
    }

    /// `query[A|AAAA] site from client` answered from the cache or upstream (`v6` 0 = A).
    fn lookup_site(&mut self, ep: &mut Episode, time: i64, site: usize, v6: usize, client: &str) {
        let (name, cname, has_v6) = SITES[site];
        let at = ep.last().map_or(0, |l| l.0 + 300);
        let qtype = if v6 == 1 { "AAAA" } else { "A" };
        ep.push((at, false, format!("query[{qtype}] {name} from {client}")));
        let answer = if v6 == 1 {
            if has_v6 {
                site_ip6(site)
            } else {
                "NODATA-IPv6".to_owned()
            }
        } else {
            site_ip(site)
        };
        let now = time + at;
        if self.cached[site][v6] > now {
            if let Some(target) = cname {
                ep.push((at + 90, false, format!("cached {name} is <CNAME>")));
                ep.push((at + 100, false, format!("cached {target} is {answer}")));
            } else {
                ep.push((at + 90, false, format!("cached {name} is {answer}")));
            }
            return;
        }
        let up = self.upstream();
        ep.push((at + 250, false, format!("forwarded {name} to {up}")));
        let rt = at + self.rng.gen_range(6..70) * MILLI;
        if let Some(target) = cname {
            ep.push((rt, false, format!("reply {name} is <CNAME>")));
            ep.push((rt + 20, false, format!("reply {target} is {answer}")));
        } else {
            ep.push((rt, false, format!("reply {name} is {answer}")));
        }
        let ttl = self.rng.gen_range(60..600) * MICROS_PER_SECOND;
        self.cached[site][v6] = now + ttl;
    }

    fn tunnel(&mut self, client: usize, domain: &str) -> Episode {
        let client = self.clients[client].clone();
        let first_len = self.rng.gen_range(40..64u32) as usize;
        let mut name = self.random_label(BASE32, first_len);
        if self.rng.gen_bool(0.7) {
            let second_len = self.rng.gen_range(10..64u32) as usize;
            let second = self.random_label(BASE32, second_len);
            name.push('.');
            name.push_str(&second);
        }
        name.push('.');
        name.push_str(domain);
        let roll: f64 = self.rng.gen();
        let (qtype, answer) = if roll < 0.55 {
            let len = self.rng.gen_range(20..200u32) as usize;
            ("TXT", self.random_label(BASE32, len))
        } else if roll < 0.8 {
            ("NULL", "<NULL>".to_owned())
        } else {
            ("CNAME", "<CNAME>".to_owned())
        };
        let up = self.upstream();
        let rt = self.rng.gen_range(20..120) * MILLI;
        vec![
            (0, false, format!("query[{qtype}] {name} from {client}")),
            (200, false, format!("forwarded {name} to {up}")),
            (rt, false, format!("reply {name} is {answer}")),
        ]
    }

    fn dga(&mut self, client: usize) -> Episode {
        let client = self.clients[client].clone();
        let len = self.rng.gen_range(8..20u32) as usize;
        let mut name = self.random_label(b"abcdefghijklmnopqrstuvwxyz0123456789", len);
        let tld = DGA_TLDS[self.rng.index(DGA_TLDS.len())];
        name.push('.');
        name.push_str(tld);
        let up = self.upstream();
        let rt = self.rng.gen_range(15..150) * MILLI;
        let answer = if self.rng.gen_bool(0.92) {
            "NXDOMAIN".to_owned()
        } else {
            format!(
                "185.{}.{}.{}",
                self.rng.gen_range(0..256),
                self.rng.gen_range(0..256),
                7
            )
        };
        vec![
            (0, false, format!("query[A] {name} from {client}")),
            (200, false, format!("forwarded {name} to {up}")),
            (rt, false, format!("reply {name} is {answer}")),
        ]
    }

    fn flood(&mut self, client: usize, victim: &str, any: bool) -> Episode {
        let client = self.clients[client].clone();
        let up = self.upstream();
        let rt = self.rng.gen_range(5..40) * MILLI;
        if any {
            return vec![
                (0, false, format!("query[ANY] {victim} from {client}")),
                (150, false, format!("forwarded {victim} to {up}")),
                (rt, false, format!("reply {victim} is <A>")),
            ];
        }
        let len = self.rng.gen_range(6..13u32) as usize;
        let mut name = self.random_label(b"abcdefghijklmnopqrstuvwxyz0123456789", len);
        name.push('.');
        name.push_str(victim);
        vec![
            (0, false, format!("query[A] {name} from {client}")),
            (150, false, format!("forwarded {name} to {up}")),
            (rt, false, format!("reply {name} is NXDOMAIN")),
        ]
    }
}

#[derive(Serialize)]
struct ExportMetadata<'a> {
    created_at: String,
    total_records: usize,
    format: &'static str,
    export_id: String,
    log_type: &'static str,
    programs: &'a [&'a str],
    generator: &'static str,
    seed: u64,
    anomaly_ratio: f64,
}

/// Writes the export (see the [module docs](self)).
pub(crate) fn write_export(
    config: &ValidSynthConfig,
    out: &mut dyn Write,
) -> io::Result<SynthSummary> {
    let cfg = config.config();
    let mut sim = Sim::new(config);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let mut bytes: u64 = 0;
    let metadata = ExportMetadata {
        created_at: format_iso8601(config.end_micros()),
        total_records: cfg.records,
        format: "json",
        export_id: format!("synth_dns_{}_{}", cfg.seed, cfg.records),
        log_type: super::LOG_TYPE,
        programs: &["dnsmasq", "dnsmasq-dhcp"],
        generator: "mcp-train synth --log-type dns",
        seed: cfg.seed,
        anomaly_ratio: cfg.anomaly_ratio,
    };
    buf.extend_from_slice(b"{\"export_metadata\":");
    serde_json::to_writer(&mut buf, &metadata).map_err(io::Error::other)?;
    buf.extend_from_slice(b",\"data\":[\n");

    let mut written: usize = 0;
    let mut anomalies: usize = 0;
    let mut emit = |line: Line, buf: &mut Vec<u8>| -> io::Result<()> {
        if written > 0 {
            buf.extend_from_slice(b",\n");
        }
        written += 1;
        anomalies += usize::from(line.label);
        let _ = write!(
            Utf8(buf),
            "{{\"id\":{written},\"device_id\":\"gw\",\"timestamp\":\"{}\",\"log_level\":\"INFO\",\"process_name\":\"{}\",\"message\":",
            format_iso8601(line.time),
            if line.dhcp { "dnsmasq-dhcp" } else { "dnsmasq" },
        );
        serde_json::to_writer(&mut *buf, &line.message).map_err(io::Error::other)?;
        buf.extend_from_slice(if line.label {
            b",\"label\":1}"
        } else {
            b",\"label\":0}"
        });
        Ok(())
    };
    loop {
        let next = match (sim.next_normal(), sim.next_incident()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        while sim
            .heap
            .peek()
            .is_some_and(|l| next.is_none_or(|t| l.time <= t))
        {
            if let Some(line) = sim.heap.pop() {
                emit(line, &mut buf)?;
            }
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                bytes += buf.len() as u64;
                buf.clear();
            }
        }
        let Some(t) = next else { break };
        if sim.next_incident() == Some(t) {
            sim.incident_episode();
        } else {
            sim.normal_episode(t);
        }
    }
    buf.extend_from_slice(b"\n]}\n");
    out.write_all(&buf)?;
    bytes += buf.len() as u64;
    out.flush()?;
    Ok(SynthSummary {
        records: written,
        anomalies,
        incidents: Vec::new(),
        bytes,
    })
}

/// `fmt::Write` into a byte buffer.
struct Utf8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
