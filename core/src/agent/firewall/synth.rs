//! Synthetic firewall logs: a small site behind two netfilter firewalls, with labelled scans,
//! SYN floods and service probes.
//!
//! - `fw-01`, the edge firewall (WAN `eth0` 203.0.113.2, LAN `eth1` 10.0.0.0/16), logs through
//!   the kernel (`kernel: [uptime] PREFIX IN=… `, level WARNING like `LOG`'s default);
//! - `fw-02`, in front of the DMZ 192.168.10.0/24 (`veth0` outside, `veth1` inside), logs
//!   through ulogd (`ulogd`, INFO, no uptime stamp).
//!
//! Benign traffic (label 0) follows a day/night and weekday/weekend rhythm: LAN clients opening
//! HTTPS/HTTP/IMAP/SSH connections and asking DNS/NTP (`ACCEPT_OUT`), visitors of the DMZ web and
//! mail servers (`ACCEPT_IN`), internet background noise dropped at the WAN (`DROP_IN`: SSH, RDP,
//! web ports, pings, now and then telnet or SMB), monitoring pings, NetBIOS/mDNS chatter dropped
//! on the LAN (`DROP_LAN`) and some IPv6. Attacks (label 1) are four kinds, sharing the labelled
//! records equally: vertical port scans (one source, one host, many ports — nmap-like SYNs of 44
//! bytes), horizontal scans (one source, one port, a whole subnet), SYN floods (spoofed sources
//! against a DMZ web server) and slow probes of SMB (445/139), telnet (23/2323) and SNMP (udp 161).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use crate::synth::portable::PortableRng;

use serde::Serialize;

use crate::synth::writer::{push_json_str, ChunkedSink, TimestampWriter};
use crate::synth::{SynthSummary, ValidSynthConfig};
use crate::time::{format_iso8601, CivilTime, MICROS_PER_DAY};

const SECOND: i64 = 1_000_000;
const HOUR: i64 = 3_600 * SECOND;
const WAN_IP: u32 = 0xCB00_7102; // 203.0.113.2
const DMZ_WEB: u32 = 0xC0A8_0A0A; // 192.168.10.10
const DMZ_MAIL: u32 = 0xC0A8_0A0B; // 192.168.10.11
const MONITOR: u32 = 0x0A00_0002; // 10.0.0.2
const RESOLVERS: [u32; 2] = [0x0101_0101, 0x0909_0909];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    VerticalScan,
    HorizontalScan,
    SynFlood,
    ServiceProbe,
}

const KINDS: [Kind; 4] = [
    Kind::VerticalScan,
    Kind::HorizontalScan,
    Kind::SynFlood,
    Kind::ServiceProbe,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addr {
    V4(u32),
    V6(u128),
}

/// One logged packet before rendering.
#[derive(Debug, Clone, Copy)]
struct Pkt {
    time: i64,
    /// `false`: fw-01 (kernel); `true`: fw-02 (ulogd).
    dmz: bool,
    prefix: &'static str,
    in_if: &'static str,
    out_if: &'static str,
    src: Addr,
    dst: Addr,
    /// 6, 17, 1 or 58.
    proto: u8,
    spt: u16,
    dpt: u16,
    /// ICMP type and code.
    icmp: (u8, u8),
    len: u16,
    ttl: u8,
    id: u16,
    df: bool,
    window: u16,
    /// SYN only, or SYN+ACK etc. (bits as in the TCP header).
    flags: u8,
    label: bool,
}

impl Pkt {
    fn tcp_syn(time: i64, src: Addr, dst: Addr, spt: u16, dpt: u16) -> Pkt {
        Pkt {
            time,
            dmz: false,
            prefix: "ACCEPT_OUT",
            in_if: "eth1",
            out_if: "eth0",
            src,
            dst,
            proto: 6,
            spt,
            dpt,
            icmp: (0, 0),
            len: 60,
            ttl: 64,
            id: 0,
            df: true,
            window: 64240,
            flags: 0x02,
            label: false,
        }
    }
}

/// Random public IPv4 address (outside the private, loopback, multicast and documentation
/// ranges the site uses).
fn public_ip(rng: &mut PortableRng) -> u32 {
    loop {
        let ip: u32 = rng.gen();
        let a = ip >> 24;
        let private = a == 10
            || a == 127
            || a == 0
            || a >= 224
            || ip >> 16 == 0xC0A8
            || ip >> 20 == 0xAC1
            || ip >> 8 == 0xCB0071;
        if !private {
            return ip;
        }
    }
}

fn client_ip(n: u32) -> u32 {
    // 10.0.1.1 onwards, skipping .0 and .255.
    0x0A00_0000 + 256 + (n / 254) * 256 + n % 254 + 1
}

/// Hourly activity: quiet at night, busy in office hours, calmer at weekends.
fn activity(micros: i64) -> f64 {
    let c = CivilTime::from_micros(micros);
    let hour = f64::from(c.hour) + 0.5;
    let day = libm::exp(-libm::pow((hour - 14.0) / 4.5, 2.0));
    let base = 0.12 + 0.88 * day;
    if c.weekday >= 5 {
        base * 0.55
    } else {
        base
    }
}

/// Benign packets at stratified times along the cumulative activity: exactly `total` of them,
/// in time order.
struct Benign {
    total: usize,
    emitted: usize,
    start: i64,
    cumulative: Vec<f64>,
    hour: usize,
    rng: PortableRng,
    servers: Vec<u32>,
    visitors: Vec<u32>,
    clients: u32,
    last_client: u32,
    next_time: i64,
}

impl Benign {
    fn new(config: &ValidSynthConfig, seed: u64) -> Benign {
        let cfg = config.config();
        let mut rng = PortableRng::seed_from_u64(seed);
        rng.set_stream(1);
        let hours = cfg.days as usize * 24;
        let mut cumulative = Vec::with_capacity(hours + 1);
        cumulative.push(0.0);
        let mut sum = 0.0;
        for h in 0..hours {
            sum += activity(cfg.start_micros + h as i64 * HOUR);
            cumulative.push(sum);
        }
        let servers = (0..200).map(|_| public_ip(&mut rng)).collect();
        let visitors = (0..2000).map(|_| public_ip(&mut rng)).collect();
        let mut b = Benign {
            total: cfg.records - config.anomalies(),
            emitted: 0,
            start: cfg.start_micros,
            cumulative,
            hour: 0,
            rng,
            servers,
            visitors,
            clients: cfg.clients.clamp(1, 60_000) as u32,
            last_client: 0,
            next_time: i64::MAX,
        };
        b.next_time = b.slot_time();
        b
    }

    fn slot_time(&mut self) -> i64 {
        if self.emitted >= self.total {
            return i64::MAX;
        }
        let u: f64 = self.rng.gen();
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let q = (self.emitted as f64 + u) / self.total as f64 * total;
        let last_hour = self.cumulative.len() - 2;
        while self.hour < last_hour && self.cumulative[self.hour + 1] <= q {
            self.hour += 1;
        }
        let lo = self.cumulative[self.hour];
        let width = (self.cumulative[self.hour + 1] - lo).max(f64::MIN_POSITIVE);
        let frac = ((q - lo) / width).clamp(0.0, 0.999_999);
        self.start + self.hour as i64 * HOUR + (frac * HOUR as f64) as i64
    }

    fn next(&mut self) -> Pkt {
        let time = self.next_time;
        let pkt = self.packet(time);
        self.emitted += 1;
        self.next_time = self.slot_time().max(time);
        pkt
    }

    fn client(&mut self) -> u32 {
        // A client often sends several packets in a row (a page load, a sync).
        if self.rng.gen_bool(0.5) && self.last_client > 0 {
            return self.last_client;
        }
        // Some clients are much busier than others.
        let u: f64 = self.rng.gen();
        let n = ((u * u * f64::from(self.clients)) as u32).min(self.clients - 1);
        self.last_client = n + 1;
        self.last_client
    }

    fn packet(&mut self, time: i64) -> Pkt {
        let rng = &mut self.rng;
        let roll: f64 = rng.gen();
        let eph: u16 = rng.gen_range(32_768..61_000);
        let id: u16 = rng.gen();
        if roll < 0.44 {
            // LAN client → internet, new TCP connection.
            let c = self.client();
            let rng = &mut self.rng;
            let server =
                self.servers[((c as usize) * 7 + rng.gen_range(0..6u32) as usize * 13) % 200];
            let dpt = match rng.gen_range(0..100) {
                0..=69 => 443,
                70..=84 => 80,
                85..=88 => 993,
                89..=91 => 22,
                92..=94 => 8443,
                95..=97 => 5222,
                _ => 587,
            };
            let mut p = Pkt::tcp_syn(time, Addr::V4(client_ip(c)), Addr::V4(server), eph, dpt);
            p.id = id;
            if c % 3 == 0 {
                p.ttl = 128;
                p.window = 65535;
                p.len = 52;
            }
            return p;
        }
        if roll < 0.60 {
            // DNS (and now and then NTP) from a LAN client.
            let c = self.client();
            let rng = &mut self.rng;
            let ntp = rng.gen_bool(0.12);
            let mut p = Pkt::tcp_syn(
                time,
                Addr::V4(client_ip(c)),
                Addr::V4(if ntp {
                    self.servers[199]
                } else {
                    RESOLVERS[usize::from(rng.gen_bool(0.3))]
                }),
                if ntp { 123 } else { eph },
                if ntp { 123 } else { 53 },
            );
            p.proto = 17;
            p.len = if ntp { 76 } else { rng.gen_range(56..90) };
            p.id = id;
            p.flags = 0;
            return p;
        }
        if roll < 0.76 {
            // Visitors of the DMZ web server (logged by fw-02).
            let v = self.visitors[rng.index(self.visitors.len())];
            let mut p = Pkt::tcp_syn(
                time,
                Addr::V4(v),
                Addr::V4(DMZ_WEB),
                eph,
                if rng.gen_bool(0.85) { 443 } else { 80 },
            );
            p.dmz = true;
            p.prefix = "ACCEPT_IN";
            p.in_if = "veth0";
            p.out_if = "veth1";
            p.ttl = rng.gen_range(44..60);
            p.id = id;
            return p;
        }
        if roll < 0.79 {
            // Mail delivered to the DMZ mail server.
            let mut p = Pkt::tcp_syn(
                time,
                Addr::V4(self.servers[rng.gen_range(100..140u32) as usize]),
                Addr::V4(DMZ_MAIL),
                eph,
                25,
            );
            p.dmz = true;
            p.prefix = "ACCEPT_IN";
            p.in_if = "veth0";
            p.out_if = "veth1";
            p.ttl = rng.gen_range(44..60);
            p.id = id;
            return p;
        }
        if roll < 0.91 {
            // Internet background noise dropped at the WAN.
            let src = public_ip(rng);
            let mut p = Pkt::tcp_syn(time, Addr::V4(src), Addr::V4(WAN_IP), eph, 22);
            p.prefix = "DROP_IN";
            p.in_if = "eth0";
            p.out_if = "";
            p.ttl = rng.gen_range(40..250);
            p.id = id;
            p.df = rng.gen_bool(0.5);
            p.window = [1024, 29200, 64240, 65535][rng.gen_range(0..4u32) as usize];
            p.len = [40, 44, 60][rng.gen_range(0..3u32) as usize];
            match rng.gen_range(0..100) {
                0..=24 => p.dpt = 22,
                25..=34 => p.dpt = 3389,
                35..=44 => p.dpt = 8080,
                45..=54 => p.dpt = 443,
                55..=64 => p.dpt = 80,
                65..=66 => p.dpt = 23,
                67..=68 => p.dpt = 445,
                69..=84 => p.dpt = rng.gen_range(1024..65535),
                _ => {
                    p.proto = 1;
                    p.icmp = (8, 0);
                    p.len = 84;
                    p.flags = 0;
                }
            }
            return p;
        }
        if roll < 0.95 {
            // Monitoring pings the servers.
            let mut p = Pkt::tcp_syn(
                time,
                Addr::V4(MONITOR),
                Addr::V4([DMZ_WEB, DMZ_MAIL, 0xC0A8_0A0C][rng.gen_range(0..3u32) as usize]),
                0,
                0,
            );
            p.dmz = true;
            p.prefix = "ACCEPT_MON";
            p.in_if = "veth0";
            p.out_if = "veth1";
            p.proto = 1;
            p.icmp = (8, 0);
            p.len = 84;
            p.flags = 0;
            p.id = id;
            return p;
        }
        if roll < 0.98 {
            // NetBIOS / mDNS chatter dropped on the LAN.
            let c = self.client();
            let rng = &mut self.rng;
            let mdns = rng.gen_bool(0.6);
            let mut p = Pkt::tcp_syn(
                time,
                Addr::V4(client_ip(c)),
                Addr::V4(if mdns { 0xE000_00FB } else { 0x0A00_FFFF }),
                if mdns { 5353 } else { 137 },
                if mdns { 5353 } else { 137 },
            );
            p.prefix = "DROP_LAN";
            p.out_if = "";
            p.proto = 17;
            p.len = rng.gen_range(60..200);
            p.ttl = if mdns { 255 } else { 128 };
            p.df = false;
            p.flags = 0;
            p.id = id;
            return p;
        }
        // IPv6 HTTPS from a LAN client.
        let c = self.client();
        let rng = &mut self.rng;
        let mut p = Pkt::tcp_syn(
            time,
            Addr::V6(0x2001_0db8_0010_0000_0000_0000_0000_0000 | u128::from(c)),
            Addr::V6(
                0x2a00_1450_4001_082b_0000_0000_0000_200e + u128::from(rng.gen_range(0..8u32)),
            ),
            eph,
            443,
        );
        p.len = 80;
        p.flags = 0x02;
        Pkt { ttl: 64, ..p }
    }
}

/// One labelled attack: a fixed number of packets from its own random stream.
struct Incident {
    kind: Kind,
    size: usize,
    emitted: usize,
    time: i64,
    rng: PortableRng,
    attacker: u32,
    target: u32,
    /// Per-incident constants: rate (packets per second), TTL, port.
    rate: f64,
    ttl: u8,
    port: u16,
    hosts: u32,
}

impl Incident {
    fn new(kind: Kind, size: usize, start: i64, seed: u64, stream: u64) -> Incident {
        let mut rng = PortableRng::seed_from_u64(seed);
        rng.set_stream(stream);
        let internal = rng.gen_bool(0.3);
        let attacker = if internal {
            client_ip(rng.gen_range(0..200))
        } else {
            public_ip(&mut rng)
        };
        let (target, rate, port, hosts) = match kind {
            Kind::VerticalScan => (
                [WAN_IP, DMZ_WEB, DMZ_MAIL][rng.gen_range(0..3u32) as usize],
                rng.gen_range(20.0..300.0),
                0,
                1,
            ),
            Kind::HorizontalScan => (
                if rng.gen_bool(0.5) {
                    0xC0A8_0A00
                } else {
                    0x0A00_0100
                },
                rng.gen_range(10.0..100.0),
                [22, 3389, 445, 80, 5900, 23][rng.gen_range(0..6u32) as usize],
                254,
            ),
            Kind::SynFlood => (
                DMZ_WEB,
                rng.gen_range(200.0..2000.0),
                if rng.gen_bool(0.7) { 443 } else { 80 },
                1,
            ),
            Kind::ServiceProbe => (
                if rng.gen_bool(0.5) {
                    0xC0A8_0A00
                } else {
                    0x0A00_0100
                },
                rng.gen_range(0.2..2.0),
                0,
                rng.gen_range(3..16),
            ),
        };
        let ttl = rng.gen_range(37..60);
        Incident {
            kind,
            size,
            emitted: 0,
            time: start,
            rng,
            attacker,
            target,
            rate,
            ttl,
            port,
            hosts,
        }
    }

    fn next(&mut self) -> Pkt {
        let rng = &mut self.rng;
        let time = self.time;
        let eph: u16 = rng.gen_range(32_768..61_000);
        let mut p = Pkt::tcp_syn(time, Addr::V4(self.attacker), Addr::V4(self.target), eph, 0);
        p.label = true;
        p.prefix = "DROP_IN";
        p.in_if = "eth0";
        p.out_if = "";
        p.ttl = self.ttl;
        p.id = rng.gen();
        p.df = false;
        p.window = 1024;
        p.len = 44;
        match self.kind {
            Kind::VerticalScan => {
                p.dpt = if rng.gen_bool(0.75) {
                    rng.gen_range(1..1024)
                } else {
                    rng.gen_range(1024..65535)
                };
                if (self.target == DMZ_WEB && (p.dpt == 80 || p.dpt == 443))
                    || (self.target == DMZ_MAIL && p.dpt == 25)
                {
                    p.prefix = "ACCEPT_IN";
                }
            }
            Kind::HorizontalScan => {
                p.dpt = self.port;
                let host = (self.emitted as u32 * 37 + 1) % self.hosts + 1;
                p.dst = Addr::V4(self.target | host);
            }
            Kind::SynFlood => {
                p.src = Addr::V4(public_ip(rng));
                p.dpt = self.port;
                p.ttl = rng.gen_range(30..255);
                p.window = rng.gen();
                p.len = [40, 44, 60][rng.gen_range(0..3u32) as usize];
                p.prefix = if rng.gen_bool(0.5) {
                    "ACCEPT_IN"
                } else {
                    "DROP_IN"
                };
            }
            Kind::ServiceProbe => {
                let host = rng.gen_range(1..=self.hosts);
                p.dst = Addr::V4(self.target | host);
                match rng.gen_range(0..6) {
                    0 => p.dpt = 445,
                    1 => p.dpt = 139,
                    2 => p.dpt = 23,
                    3 => p.dpt = 2323,
                    _ => {
                        p.proto = 17;
                        p.dpt = 161;
                        p.spt = rng.gen_range(1024..65535);
                        p.len = rng.gen_range(68..96);
                        p.flags = 0;
                    }
                }
            }
        }
        if let Addr::V4(dst) = p.dst {
            p.dmz = dst >> 8 == 0xC0_A80A;
            if p.dmz {
                p.in_if = "veth0";
                p.out_if = "veth1";
            } else if dst >> 16 == 0x0A00 {
                p.out_if = "eth1";
            }
        }
        if self.attacker >> 24 == 10 && p.src == Addr::V4(self.attacker) && !p.dmz {
            p.in_if = "eth1";
            p.out_if = "eth1";
        }
        self.emitted += 1;
        let u: f64 = self.rng.gen();
        let gap = -libm::log(1.0 - u) / self.rate;
        self.time = time + (gap * SECOND as f64) as i64;
        p
    }
}

/// Shares `anomalies` among the four kinds and cuts each share into incidents of typical size.
fn plan_incidents(config: &ValidSynthConfig, seed: u64) -> Vec<Incident> {
    let cfg = config.config();
    let total = config.anomalies();
    let mut rng = PortableRng::seed_from_u64(seed);
    rng.set_stream(2);
    let latest = (i64::from(cfg.days) * MICROS_PER_DAY - HOUR).max(1);
    let mut incidents = Vec::new();
    let mut stream = 3u64;
    for (k, kind) in KINDS.iter().enumerate() {
        let mut share = total / 4 + usize::from(k < total % 4);
        while share > 0 {
            let (lo, hi) = match kind {
                Kind::VerticalScan => (150, 600),
                Kind::HorizontalScan => (80, 254),
                Kind::SynFlood => (300, 1000),
                Kind::ServiceProbe => (12, 40),
            };
            let size = (rng.gen_range(lo as u32..=hi as u32) as usize).min(share);
            share -= size;
            let start = cfg.start_micros + rng.gen_range(0..latest);
            incidents.push(Incident::new(*kind, size, start, seed, stream));
            stream += 1;
        }
    }
    incidents.sort_by_key(|i| i.time);
    incidents
}

struct Renderer {
    boot: i64,
    timestamps: TimestampWriter,
    message: Vec<u8>,
}

fn push_v4(out: &mut Vec<u8>, ip: u32) {
    let _ = write!(
        out,
        "{}.{}.{}.{}",
        ip >> 24,
        ip >> 16 & 0xff,
        ip >> 8 & 0xff,
        ip & 0xff
    );
}

fn push_addr(out: &mut Vec<u8>, addr: Addr) {
    match addr {
        Addr::V4(ip) => push_v4(out, ip),
        // The kernel writes IPv6 addresses in full (`%pI6`).
        Addr::V6(ip) => {
            for i in 0..8 {
                if i > 0 {
                    out.push(b':');
                }
                let _ = write!(out, "{:04x}", (ip >> (112 - 16 * i)) & 0xffff);
            }
        }
    }
}

impl Renderer {
    /// The message text exactly as `nf_log_syslog` (and ulogd's LOGEMU) writes it.
    fn message(&mut self, p: &Pkt) {
        let m = &mut self.message;
        m.clear();
        if !p.dmz {
            let up = (p.time - self.boot).max(0);
            let _ = write!(m, "[{:5}.{:06}] ", up / SECOND, up % SECOND);
        }
        m.extend_from_slice(p.prefix.as_bytes());
        let _ = write!(m, " IN={} OUT={} ", p.in_if, p.out_if);
        if !p.in_if.is_empty() {
            let v6 = matches!(p.src, Addr::V6(_));
            let _ = write!(
                m,
                "MAC=52:54:00:12:34:{:02x}:52:54:00:ab:cd:{:02x}:{} ",
                if p.dmz { 2 } else { 1 },
                (p.id % 251) as u8,
                if v6 { "86:dd" } else { "08:00" }
            );
        }
        m.extend_from_slice(b"SRC=");
        push_addr(m, p.src);
        m.extend_from_slice(b" DST=");
        push_addr(m, p.dst);
        match p.src {
            Addr::V4(_) => {
                let _ = write!(
                    m,
                    " LEN={} TOS=0x00 PREC=0x00 TTL={} ID={} {}",
                    p.len,
                    p.ttl,
                    p.id,
                    if p.df { "DF " } else { "" }
                );
            }
            Addr::V6(_) => {
                let _ = write!(
                    m,
                    " LEN={} TC=0 HOPLIMIT={} FLOWLBL={} ",
                    p.len,
                    p.ttl,
                    p.id & 0xfff
                );
            }
        }
        match p.proto {
            6 => {
                let _ = write!(
                    m,
                    "PROTO=TCP SPT={} DPT={} WINDOW={} RES=0x00 ",
                    p.spt, p.dpt, p.window
                );
                for (bit, name) in super::parse::tcp_flags::NAMES {
                    if p.flags & bit != 0 {
                        m.extend_from_slice(name.as_bytes());
                        m.push(b' ');
                    }
                }
                m.extend_from_slice(b"URGP=0 ");
            }
            17 => {
                let _ = write!(
                    m,
                    "PROTO=UDP SPT={} DPT={} LEN={} ",
                    p.spt,
                    p.dpt,
                    p.len.saturating_sub(20)
                );
            }
            _ => {
                let name = if p.proto == 58 { "ICMPv6" } else { "ICMP" };
                let _ = write!(
                    m,
                    "PROTO={name} TYPE={} CODE={} ID={} SEQ={} ",
                    p.icmp.0,
                    p.icmp.1,
                    p.id,
                    (p.time / SECOND) % 65536
                );
            }
        }
    }

    fn record(&mut self, out: &mut Vec<u8>, id: u64, p: &Pkt) {
        self.message(p);
        let _ = write!(
            out,
            "{{\"id\":{id},\"device_id\":\"{}\",\"timestamp\":\"",
            if p.dmz { "fw-02" } else { "fw-01" }
        );
        self.timestamps.push(out, p.time);
        out.extend_from_slice(if p.dmz {
            b"\",\"log_level\":\"INFO\",\"process_name\":\"ulogd\",\"message\":"
        } else {
            b"\",\"log_level\":\"WARNING\",\"process_name\":\"kernel\",\"message\":"
        });
        push_json_str(out, &self.message);
        out.extend_from_slice(if p.label {
            b",\"label\":1}"
        } else {
            b",\"label\":0}"
        });
    }
}

#[derive(Serialize)]
struct ExportMetadata {
    created_at: String,
    total_records: usize,
    format: &'static str,
    export_id: String,
    log_type: &'static str,
    programs: [&'static str; 2],
    generator: &'static str,
    seed: u64,
    anomaly_ratio: f64,
}

/// Writes a firewall export (see the module docs).
pub fn write_export(config: &ValidSynthConfig, out: &mut dyn Write) -> io::Result<SynthSummary> {
    let cfg = config.config();
    let mut sink = ChunkedSink::new(out);
    let metadata = ExportMetadata {
        created_at: format_iso8601(config.end_micros()),
        total_records: cfg.records,
        format: "json",
        export_id: format!("synth_firewall_{}_{}", cfg.seed, cfg.records),
        log_type: super::LOG_TYPE,
        programs: ["kernel", "ulogd"],
        generator: "mcp-train synth --log-type firewall",
        seed: cfg.seed,
        anomaly_ratio: cfg.anomaly_ratio,
    };
    sink.buf.extend_from_slice(b"{\"export_metadata\":");
    serde_json::to_writer(&mut sink.buf, &metadata).map_err(io::Error::other)?;
    sink.buf.extend_from_slice(b",\"data\":[\n");

    let mut benign = Benign::new(config, cfg.seed);
    let mut incidents = plan_incidents(config, cfg.seed);
    let mut boot_rng = PortableRng::seed_from_u64(cfg.seed);
    let mut renderer = Renderer {
        boot: cfg.start_micros - boot_rng.gen_range(SECOND..40 * MICROS_PER_DAY),
        timestamps: TimestampWriter::new(),
        message: Vec::with_capacity(256),
    };
    let mut active: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    let mut next_incident = 0;
    let (mut written, mut anomalies) = (0usize, 0usize);
    loop {
        while next_incident < incidents.len()
            && incidents[next_incident].time <= benign.next_time.min(active_top(&active))
        {
            active.push(Reverse((incidents[next_incident].time, next_incident)));
            next_incident += 1;
        }
        let attack_time = active_top(&active);
        let pkt = if attack_time < benign.next_time {
            let Some(Reverse((_, i))) = active.pop() else {
                break;
            };
            let incident = &mut incidents[i];
            let p = incident.next();
            if incident.emitted < incident.size {
                active.push(Reverse((incident.time, i)));
            }
            p
        } else if benign.next_time < i64::MAX {
            benign.next()
        } else {
            break;
        };
        if written > 0 {
            sink.buf.extend_from_slice(b",\n");
        }
        written += 1;
        anomalies += usize::from(pkt.label);
        renderer.record(&mut sink.buf, written as u64, &pkt);
        sink.maybe_flush()?;
    }
    sink.buf.extend_from_slice(b"\n]}\n");
    let bytes = sink.finish()?;
    Ok(SynthSummary {
        records: written,
        anomalies,
        // `IncidentSummary::kind` names the wifi incidents only; firewall incidents are not
        // listed there.
        incidents: Vec::new(),
        bytes,
    })
}

fn active_top(active: &BinaryHeap<Reverse<(i64, usize)>>) -> i64 {
    active.peek().map_or(i64::MAX, |Reverse((t, _))| *t)
}
