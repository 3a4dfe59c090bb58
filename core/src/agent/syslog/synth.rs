//! Synthetic generic syslog: several hosts (web, db, mail, app servers) logging what Debian /
//! Ubuntu servers log — sshd, CRON, systemd, systemd-logind, sudo, kernel (UFW), dhclient,
//! chronyd, postfix, postgres, haproxy, an app server — with a day/night rhythm, and four kinds
//! of labelled incident:
//!
//! - `ssh_brute_force`: one outside address guessing passwords on one host's sshd, a line every
//!   0.1–1.5 s (`Failed password for invalid user admin from 203.0.113.5 port 51234 ssh2`, …);
//! - `error_storm`: one process on one host suddenly logging errors many times a second (disk
//!   I/O errors from the kernel, or the app server failing to reach its database);
//! - `night_process`: between 01:00 and 04:30 UTC a never-seen process (a coin miner) starts
//!   logging on one host;
//! - `log_flood`: one host's service crash-looping, systemd logging its restarts 10–100 times a
//!   second.
//!
//! Benign lines are spread over the span by the hourly rhythm (record `i` at the point where
//! the cumulated rhythm reaches `(i + u) / n` of its total, `u` uniform), incidents are planned
//! up front in their own time and merged in, so the export is in time order and exactly
//! `round(records × anomaly_ratio)` records are labelled 1. Each incident draws from its own
//! ChaCha8 stream, the benign traffic from another: the same configuration gives the same bytes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::export::LogLevel;
use crate::synth::{SynthSummary, ValidSynthConfig};
use crate::time::{format_iso8601, MICROS_PER_DAY, MICROS_PER_SECOND};

/// The programs the generator writes.
pub(crate) const PROGRAMS: [&str; 17] = [
    "sshd",
    "CRON",
    "systemd",
    "systemd-logind",
    "sudo",
    "kernel",
    "dhclient",
    "chronyd",
    "rsyslogd",
    "postfix/smtpd",
    "postfix/cleanup",
    "postfix/qmgr",
    "postfix/smtp",
    "postgres",
    "haproxy",
    "app-server",
    "kdevtmpfsi",
];

const MICROS_PER_HOUR: i64 = 3600 * MICROS_PER_SECOND;

/// Relative activity per UTC hour.
const RHYTHM: [f64; 24] = [
    0.25, 0.2, 0.18, 0.18, 0.2, 0.25, 0.4, 0.7, 1.0, 1.0, 1.0, 1.0, 0.9, 1.0, 1.0, 1.0, 1.0, 0.9,
    0.7, 0.6, 0.5, 0.4, 0.35, 0.3,
];

const ROLES: [&str; 4] = ["web", "db", "mail", "app"];
const USERS: [&str; 8] = [
    "alice", "bob", "carol", "dave", "deploy", "backup", "ops", "jenkins",
];
const GUESSES: [&str; 14] = [
    "admin", "test", "oracle", "postgres", "ubuntu", "user", "guest", "ftpuser", "pi", "git",
    "support", "mysql", "hadoop", "www",
];
const MINERS: [&str; 3] = ["kdevtmpfsi", "xmrig", "kinsing"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BruteForce,
    ErrorStorm,
    NightProcess,
    LogFlood,
}

const KINDS: [Kind; 4] = [
    Kind::BruteForce,
    Kind::ErrorStorm,
    Kind::NightProcess,
    Kind::LogFlood,
];

impl Kind {
    fn sizes(self) -> (usize, usize) {
        match self {
            Kind::BruteForce => (60, 300),
            Kind::ErrorStorm => (80, 300),
            Kind::NightProcess => (8, 40),
            Kind::LogFlood => (150, 600),
        }
    }

    /// Seconds between lines (uniform in the range).
    fn gaps(self) -> (f64, f64) {
        match self {
            Kind::BruteForce => (0.1, 1.5),
            Kind::ErrorStorm => (0.02, 0.4),
            Kind::NightProcess => (2.0, 30.0),
            Kind::LogFlood => (0.01, 0.1),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    kind: Kind,
    start: i64,
    size: usize,
    host: usize,
}

#[derive(Debug)]
struct Running {
    rng: ChaCha8Rng,
    time: i64,
    left: usize,
    emitted: usize,
    /// Attacker address / variant / process, drawn once.
    a: u32,
    b: u32,
}

#[derive(Serialize)]
struct Metadata<'a> {
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

#[derive(Serialize)]
struct Row<'a> {
    id: u64,
    device_id: &'a str,
    timestamp: &'a str,
    log_level: &'static str,
    process_name: &'a str,
    message: &'a str,
    label: u8,
}

/// Turns the rhythm into times: the point where the rhythm's integral from the start reaches
/// `x` (in weighted microseconds), for non-decreasing `x`.
struct Clock {
    t: i64,
    cum: f64,
    end: i64,
}

impl Clock {
    fn segment(t: i64, end: i64) -> (i64, f64) {
        let next = (t.div_euclid(MICROS_PER_HOUR) + 1) * MICROS_PER_HOUR;
        let hour = t.rem_euclid(MICROS_PER_DAY) / MICROS_PER_HOUR;
        (next.min(end), RHYTHM[hour as usize])
    }

    fn total(start: i64, end: i64) -> f64 {
        let mut t = start;
        let mut sum = 0.0;
        while t < end {
            let (next, w) = Clock::segment(t, end);
            sum += (next - t) as f64 * w;
            t = next;
        }
        sum
    }

    fn time_at(&mut self, x: f64) -> i64 {
        loop {
            let (next, w) = Clock::segment(self.t, self.end);
            let len = (next - self.t) as f64 * w;
            if self.cum + len >= x || next >= self.end {
                let t = self.t + ((x - self.cum) / w).max(0.0) as i64;
                return t.clamp(self.t, self.end - 1);
            }
            self.cum += len;
            self.t = next;
        }
    }
}

fn host_name(i: usize) -> String {
    format!("{}-{:02}", ROLES[i % ROLES.len()], i / ROLES.len() + 1)
}

/// Uniform in `0..n` (`n > 0`), drawn as a u64 so 32- and 64-bit targets agree.
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.gen_range(0..n.max(1) as u64) as usize
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[below(rng, items.len())]
}

fn client_ip(rng: &mut ChaCha8Rng, clients: usize) -> String {
    let i = below(rng, clients);
    format!("10.20.{}.{}", i / 250, i % 250 + 1)
}

fn outside_ip(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        pick(rng, &["185", "45", "92", "141", "193", "61"]),
        rng.gen_range(1..255),
        rng.gen_range(0..255),
        rng.gen_range(1..255)
    )
}

fn queue_id(rng: &mut ChaCha8Rng) -> String {
    format!("{:010X}", rng.gen_range(0..0xff_ffff_ffffu64))
}

/// Writes one benign line of a host with role `role` into `msg`; returns process and level.
fn benign(
    rng: &mut ChaCha8Rng,
    role: usize,
    clients: usize,
    msg: &mut String,
) -> (&'static str, LogLevel) {
    use LogLevel::{Error, Info, Warning};
    msg.clear();
    let user = pick(rng, &USERS);
    let port = rng.gen_range(32768..61000);
    // Common lines (weight 10) versus the role's own (weight by role).
    let role_weight = [6.0, 4.0, 6.0, 5.0][role];
    if rng.gen_bool(role_weight / (role_weight + 10.0)) {
        return role_line(rng, role, clients, msg);
    }
    let r: f64 = rng.gen();
    let (process, level) = match r {
        r if r < 0.10 => {
            msg.push_str("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
            ("CRON", Info)
        }
        r if r < 0.20 => {
            let cmd = pick(
                rng,
                &[
                    "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
                    "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
                    "(root) CMD ([ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi)",
                    "(backup) CMD (/usr/local/bin/backup.sh --incremental)",
                ],
            );
            msg.push_str(cmd);
            ("CRON", Info)
        }
        r if r < 0.30 => {
            msg.push_str("pam_unix(cron:session): session closed for user root");
            ("CRON", Info)
        }
        r if r < 0.36 => {
            let _ = write!(
                msg,
                "Accepted publickey for {user} from {} port {port} ssh2: ED25519 SHA256:{}",
                client_ip(rng, clients),
                pick(
                    rng,
                    &[
                        "mV7bX0kq3lYtZpQ9sR2wUe8fHn4cJd6aLgTy1oPiBvE",
                        "Qw3rTy8uIo0pAs5dFg7hJk2lZx4cVb6nMq9wEr1tYuI",
                        "Zk4Lm8Nn2Bv6Cx0Zq3Ws7Ed1Rf5Tg9Yh2Uj6Ik0Ol4P"
                    ]
                )
            );
            ("sshd", Info)
        }
        r if r < 0.42 => {
            let _ = write!(
                msg,
                "pam_unix(sshd:session): session opened for user {user}(uid={}) by (uid=0)",
                1000 + USERS.iter().position(|u| *u == user).unwrap_or(0)
            );
            ("sshd", Info)
        }
        r if r < 0.47 => {
            let _ = write!(
                msg,
                "pam_unix(sshd:session): session closed for user {user}"
            );
            ("sshd", Info)
        }
        r if r < 0.51 => {
            let _ = write!(
                msg,
                "Received disconnect from {} port {port}:11: disconnected by user",
                client_ip(rng, clients)
            );
            ("sshd", Info)
        }
        r if r < 0.55 => {
            let _ = write!(
                msg,
                "Disconnected from user {user} {} port {port}",
                client_ip(rng, clients)
            );
            ("sshd", Info)
        }
        // The internet's background noise: occasional scans and single guesses.
        r if r < 0.575 => {
            let _ = write!(
                msg,
                "Connection closed by {} port {port} [preauth]",
                outside_ip(rng)
            );
            ("sshd", Info)
        }
        r if r < 0.585 => {
            let _ = write!(
                msg,
                "Invalid user {} from {} port {port}",
                pick(rng, &GUESSES),
                outside_ip(rng)
            );
            ("sshd", Info)
        }
        r if r < 0.59 => {
            let _ = write!(
                msg,
                "Failed password for invalid user {} from {} port {port} ssh2",
                pick(rng, &GUESSES),
                outside_ip(rng)
            );
            ("sshd", Info)
        }
        r if r < 0.595 => {
            msg.push_str("error: kex_exchange_identification: Connection closed by remote host");
            ("sshd", Error)
        }
        r if r < 0.63 => {
            let _ = write!(
                msg,
                "Started Session {} of User {user}.",
                rng.gen_range(1..9000)
            );
            ("systemd", Info)
        }
        r if r < 0.66 => {
            msg.push_str(pick(
                rng,
                &[
                    "Starting Daily apt download activities...",
                    "Finished Daily apt download activities.",
                    "Starting Rotate log files...",
                    "logrotate.service: Deactivated successfully.",
                    "Finished Rotate log files.",
                    "Started Cleanup of Temporary Directories.",
                    "Starting Message of the Day...",
                    "motd-news.service: Deactivated successfully.",
                ],
            ));
            ("systemd", Info)
        }
        r if r < 0.685 => {
            let _ = write!(
                msg,
                "New session {} of user {user}.",
                rng.gen_range(1..9000)
            );
            ("systemd-logind", Info)
        }
        r if r < 0.71 => {
            let _ = write!(msg, "Removed session {}.", rng.gen_range(1..9000));
            ("systemd-logind", Info)
        }
        r if r < 0.73 => {
            let _ = write!(
                msg,
                "{user:>8} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND={}",
                rng.gen_range(0..6),
                pick(
                    rng,
                    &[
                        "/usr/bin/systemctl status nginx",
                        "/usr/bin/apt update",
                        "/usr/bin/journalctl -u app-server --since today",
                        "/usr/bin/tail -n 200 /var/log/syslog",
                    ]
                )
            );
            ("sudo", Info)
        }
        r if r < 0.75 => {
            let _ = write!(
                msg,
                "pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={})",
                1000 + USERS.iter().position(|u| *u == user).unwrap_or(0)
            );
            ("sudo", Info)
        }
        r if r < 0.77 => {
            msg.push_str("pam_unix(sudo:session): session closed for user root");
            ("sudo", Info)
        }
        r if r < 0.90 => {
            let _ = write!(
                msg,
                "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:fe:54:00:ab:cd:ef:08:00 SRC={} DST=10.10.0.{} LEN={} TOS=0x00 PREC=0x00 TTL={} ID={} PROTO=TCP SPT={port} DPT={} WINDOW=1024 RES=0x00 SYN URGP=0",
                outside_ip(rng),
                rng.gen_range(2..60),
                pick(rng, &["40", "44", "60"]),
                rng.gen_range(40..250),
                rng.gen_range(1..65535),
                pick(rng, &["23", "445", "3389", "8080", "5900", "1433", "6379"])
            );
            ("kernel", Info)
        }
        r if r < 0.93 => {
            let ip = format!("10.10.0.{}", rng.gen_range(2..60));
            match rng.gen_range(0..3) {
                0 => {
                    let _ = write!(msg, "DHCPREQUEST for {ip} on eth0 to 10.10.0.1 port 67");
                }
                1 => {
                    let _ = write!(msg, "DHCPACK of {ip} from 10.10.0.1");
                }
                _ => {
                    let _ = write!(
                        msg,
                        "bound to {ip} -- renewal in {} seconds.",
                        rng.gen_range(1200..43200)
                    );
                }
            }
            ("dhclient", Info)
        }
        r if r < 0.96 => {
            if rng.gen_bool(0.7) {
                let _ = write!(
                    msg,
                    "Selected source 10.10.0.{} (ntp.internal)",
                    rng.gen_range(250..254)
                );
            } else {
                let _ = write!(
                    msg,
                    "System clock wrong by {:.6} seconds, adjustment started",
                    rng.gen_range(-0.9..0.9)
                );
            }
            ("chronyd", Info)
        }
        r if r < 0.965 => {
            msg.push_str("[origin software=\"rsyslogd\" swVersion=\"8.2112.0\" x-pid=\"712\" x-info=\"https://www.rsyslog.com\"] rsyslogd was HUPed");
            ("rsyslogd", Info)
        }
        r if r < 0.975 => {
            let _ = write!(
                msg,
                "TCP: request_sock_TCP: Possible SYN flooding on port {}. Sending cookies.  Check SNMP counters.",
                pick(rng, &["80", "443"])
            );
            ("kernel", Warning)
        }
        _ => {
            let _ = write!(
                msg,
                "Removed slice User Slice of UID {}.",
                1000 + rng.gen_range(0..8)
            );
            ("systemd", Info)
        }
    };
    (process, level)
}

fn role_line(
    rng: &mut ChaCha8Rng,
    role: usize,
    clients: usize,
    msg: &mut String,
) -> (&'static str, LogLevel) {
    use LogLevel::{Error, Info, Warning};
    let ip = client_ip(rng, clients);
    let port = rng.gen_range(32768..61000);
    match ROLES[role] {
        "web" => {
            let path = pick(
                rng,
                &[
                    "/",
                    "/api/items",
                    "/api/orders",
                    "/login",
                    "/static/app.js",
                    "/health",
                ],
            );
            let status = if rng.gen_bool(0.97) { 200 } else { 404 };
            let _ = write!(
                msg,
                "{ip}:{port} [03/Dec/2026:10:00:00.{:03}] fe_https~ be_app/app-{:02} 0/0/1/{}/{} {status} {} - - ---- {}/{}/0/0/0 0/0 \"GET {path} HTTP/1.1\"",
                rng.gen_range(0..1000),
                rng.gen_range(1..3),
                rng.gen_range(2..90),
                rng.gen_range(3..95),
                rng.gen_range(200..40000),
                rng.gen_range(1..40),
                rng.gen_range(1..40)
            );
            ("haproxy", Info)
        }
        "db" => {
            let pid = rng.gen_range(1000..30000);
            match rng.gen_range(0..5) {
                0 => {
                    let _ = write!(msg, "[{pid}-1] LOG:  checkpoint starting: time");
                }
                1 => {
                    let _ = write!(
                        msg,
                        "[{pid}-1] LOG:  checkpoint complete: wrote {} buffers ({:.1}%); 0 WAL file(s) added, 0 removed, 1 recycled; write={:.3} s, sync=0.004 s, total={:.3} s",
                        rng.gen_range(10..4000),
                        rng.gen_range(0.0..3.0),
                        rng.gen_range(0.5..30.0),
                        rng.gen_range(0.5..30.0)
                    );
                }
                2 => {
                    let _ = write!(
                        msg,
                        "[{pid}-1] LOG:  connection received: host={ip} port={port}"
                    );
                }
                3 => {
                    let _ = write!(
                        msg,
                        "[{pid}-2] LOG:  connection authorized: user=app database=appdb"
                    );
                }
                _ => {
                    let _ = write!(
                        msg,
                        "[{pid}-3] LOG:  disconnection: session time: 0:00:{:06.3} user=app database=appdb host={ip} port={port}",
                        rng.gen_range(0.01..59.0)
                    );
                }
            }
            ("postgres", Info)
        }
        "mail" => {
            let q = queue_id(rng);
            let outside = outside_ip(rng);
            match rng.gen_range(0..8) {
                0 => {
                    let _ = write!(msg, "connect from unknown[{outside}]");
                    ("postfix/smtpd", Info)
                }
                1 => {
                    let _ = write!(
                        msg,
                        "disconnect from unknown[{outside}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
                    );
                    ("postfix/smtpd", Info)
                }
                2 => {
                    let _ = write!(msg, "{q}: client=unknown[{outside}]");
                    ("postfix/smtpd", Info)
                }
                3 => {
                    let _ = write!(
                        msg,
                        "{q}: message-id=<{}.{}@mail.example.com>",
                        rng.gen_range(100000..999999),
                        rng.gen_range(1000..9999)
                    );
                    ("postfix/cleanup", Info)
                }
                4 => {
                    let _ = write!(
                        msg,
                        "{q}: from=<{}@example.com>, size={}, nrcpt=1 (queue active)",
                        pick(rng, &USERS),
                        rng.gen_range(800..90000)
                    );
                    ("postfix/qmgr", Info)
                }
                5 => {
                    let _ = write!(
                        msg,
                        "{q}: to=<{}@example.org>, relay=mx.example.org[203.0.113.25]:25, delay={:.2}, delays=0.05/0.01/0.2/0.15, dsn=2.0.0, status=sent (250 2.0.0 OK)",
                        pick(rng, &GUESSES),
                        rng.gen_range(0.1..3.0)
                    );
                    ("postfix/smtp", Info)
                }
                6 => {
                    let _ = write!(msg, "{q}: removed");
                    ("postfix/qmgr", Info)
                }
                _ => {
                    let _ = write!(
                        msg,
                        "NOQUEUE: reject: RCPT from unknown[{outside}]: 554 5.7.1 <{}@example.net>: Relay access denied; from=<spam@example.biz> to=<{}@example.net> proto=ESMTP helo=<ylmf-pc>",
                        pick(rng, &GUESSES),
                        pick(rng, &GUESSES)
                    );
                    ("postfix/smtpd", Info)
                }
            }
        }
        _ => {
            let status = if rng.gen_bool(0.98) { 200 } else { 500 };
            let level = if status == 200 { Info } else { Warning };
            if rng.gen_bool(0.01) {
                let _ = write!(
                    msg,
                    "ERROR upstream request failed: timeout after 5000 ms host=db-01 port=5432"
                );
                return ("app-server", Error);
            }
            let _ = write!(
                msg,
                "request completed method={} path={} status={status} duration_ms={}",
                pick(rng, &["GET", "GET", "POST"]),
                pick(
                    rng,
                    &["/api/orders", "/api/items", "/api/users/me", "/health"]
                ),
                rng.gen_range(1..400)
            );
            ("app-server", level)
        }
    }
}

/// One incident line into `msg`; returns process and level.
fn incident_line(plan: &Plan, run: &mut Running, msg: &mut String) -> (&'static str, LogLevel) {
    use LogLevel::{Error, Info, Warning};
    msg.clear();
    let rng = &mut run.rng;
    let attacker = format!(
        "{}.{}.{}.{}",
        [203, 198, 45, 185][(run.a % 4) as usize],
        if run.a % 4 == 0 { 0 } else { 51 + run.a % 100 },
        if run.a % 4 == 0 { 113 } else { run.a % 251 },
        run.b % 250 + 2
    );
    let port = rng.gen_range(32768..65000);
    match plan.kind {
        Kind::BruteForce => {
            let user = pick(rng, &GUESSES);
            match rng.gen_range(0..20) {
                0..=9 => {
                    let _ = write!(
                        msg,
                        "Failed password for invalid user {user} from {attacker} port {port} ssh2"
                    );
                    ("sshd", Info)
                }
                10..=13 => {
                    let _ = write!(msg, "Invalid user {user} from {attacker} port {port}");
                    ("sshd", Info)
                }
                14..=16 => {
                    let _ = write!(
                        msg,
                        "Failed password for root from {attacker} port {port} ssh2"
                    );
                    ("sshd", Info)
                }
                17 | 18 => {
                    let _ = write!(
                        msg,
                        "Connection closed by invalid user {user} {attacker} port {port} [preauth]"
                    );
                    ("sshd", Info)
                }
                _ => {
                    let _ = write!(
                        msg,
                        "error: maximum authentication attempts exceeded for root from {attacker} port {port} ssh2 [preauth]"
                    );
                    ("sshd", Error)
                }
            }
        }
        Kind::ErrorStorm => {
            if run.b % 2 == 0 {
                let sector = rng.gen_range(1_000_000..90_000_000u64);
                match rng.gen_range(0..3) {
                    0 => {
                        let _ = write!(msg, "blk_update_request: I/O error, dev sda, sector {sector} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0");
                    }
                    1 => {
                        let _ = write!(
                            msg,
                            "Buffer I/O error on dev sda1, logical block {}, async page read",
                            sector / 8
                        );
                    }
                    _ => {
                        let _ = write!(msg, "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #{}: comm {}: reading directory lblock 0", rng.gen_range(2..900000), pick(rng, &["nginx", "php-fpm", "app-server", "cron"]));
                    }
                }
                ("kernel", Error)
            } else {
                if rng.gen_bool(0.5) {
                    let _ = write!(msg, "ERROR database connection failed: connection refused host=db-01 port=5432 retry={}", run.emitted);
                } else {
                    let _ = write!(msg, "ERROR request failed method=POST path=/api/orders status=500 error=\"pool exhausted\" duration_ms={}", rng.gen_range(5000..30000));
                }
                ("app-server", Error)
            }
        }
        Kind::NightProcess => {
            let process = MINERS[(run.b as usize) % MINERS.len()];
            match run.emitted % 4 {
                0 => {
                    let _ = write!(
                        msg,
                        "use pool {attacker}:3333 TLS, algo rx/0, donate level 0%"
                    );
                }
                1 => {
                    let _ = write!(
                        msg,
                        "new job from {attacker}:3333 diff {} algo rx/0 height {}",
                        rng.gen_range(10000..200000),
                        rng.gen_range(2_900_000..3_000_000)
                    );
                }
                2 => {
                    let _ = write!(
                        msg,
                        "speed 10s/60s/15m {:.1} {:.1} n/a H/s max {:.1} H/s",
                        rng.gen_range(400.0..900.0),
                        rng.gen_range(400.0..900.0),
                        rng.gen_range(900.0..1200.0)
                    );
                }
                _ => {
                    let _ = write!(
                        msg,
                        "accepted ({}/0) diff {} ({} ms)",
                        run.emitted / 4 + 1,
                        rng.gen_range(10000..200000),
                        rng.gen_range(20..300)
                    );
                }
            }
            (process, Info)
        }
        Kind::LogFlood => {
            let unit = ["app-server", "worker", "queue-consumer"][(run.b % 3) as usize];
            let (text, level) = match run.emitted % 5 {
                0 => (
                    format!("{unit}.service: Main process exited, code=exited, status=1/FAILURE"),
                    Warning,
                ),
                1 => (
                    format!("{unit}.service: Failed with result 'exit-code'."),
                    Warning,
                ),
                2 => (
                    format!(
                        "{unit}.service: Scheduled restart job, restart counter is at {}.",
                        run.emitted / 5 + 1
                    ),
                    Info,
                ),
                3 => (format!("Stopped {unit}.service."), Info),
                _ => (format!("Started {unit}.service."), Info),
            };
            msg.push_str(&text);
            ("systemd", level)
        }
    }
}

/// Plans the incidents: kinds in turn, sizes drawn per kind (the last one takes what is
/// left), hosts and starts drawn; sorted by start.
fn plan(rng: &mut ChaCha8Rng, anomalies: usize, hosts: usize, start: i64, end: i64) -> Vec<Plan> {
    let mut plans = Vec::new();
    let mut left = anomalies;
    let first_day = start.div_euclid(MICROS_PER_DAY);
    let days = ((end - 1).div_euclid(MICROS_PER_DAY) - first_day + 1).max(1);
    let mut k = 0usize;
    while left > 0 {
        let kind = KINDS[k % KINDS.len()];
        k += 1;
        let (lo, hi) = kind.sizes();
        let size = (lo + below(rng, hi - lo + 1)).min(left);
        left -= size;
        let (_, max_gap) = kind.gaps();
        let duration = (size as f64 * max_gap * MICROS_PER_SECOND as f64) as i64;
        let at = match kind {
            Kind::NightProcess => {
                let day = first_day + rng.gen_range(0..days);
                let t = day * MICROS_PER_DAY
                    + MICROS_PER_HOUR
                    + rng.gen_range(0..7 * MICROS_PER_HOUR / 2);
                t.clamp(start, end - 1)
            }
            _ => rng.gen_range(start..(end - duration).max(start + 1)),
        };
        plans.push(Plan {
            kind,
            start: at,
            size,
            host: below(rng, hosts),
        });
    }
    plans.sort_by_key(|p| p.start);
    plans
}

/// Writes a syslog export (see the module docs).
pub(crate) fn write_export(
    config: &ValidSynthConfig,
    out: &mut dyn Write,
) -> io::Result<SynthSummary> {
    let cfg = config.config();
    let start = cfg.start_micros;
    let end = config.end_micros();
    let anomalies = config.anomalies();
    let benign_total = cfg.records - anomalies;
    let hosts: Vec<String> = (0..(cfg.access_points * 2).clamp(3, 128))
        .map(host_name)
        .collect();
    // Busier web and app hosts.
    let host_weight: Vec<f64> = (0..hosts.len())
        .map(|i| [1.5, 1.0, 1.0, 1.3][i % ROLES.len()])
        .collect();
    let weight_sum: f64 = host_weight.iter().sum();

    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let plans = plan(
        &mut ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5157_4c4f_475f_4154),
        anomalies,
        hosts.len(),
        start,
        end,
    );
    let mut running: Vec<Option<Box<Running>>> = (0..plans.len()).map(|_| None).collect();
    let mut queue: BinaryHeap<Reverse<(i64, usize)>> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| Reverse((p.start, i)))
        .collect();

    let mut clock = Clock {
        t: start,
        cum: 0.0,
        end,
    };
    let total_weight = Clock::total(start, end);

    let mut buf: Vec<u8> = Vec::with_capacity(80 * 1024);
    let metadata = Metadata {
        created_at: format_iso8601(end),
        total_records: cfg.records,
        format: "json",
        export_id: format!("synth_syslog_{}_{}", cfg.seed, cfg.records),
        log_type: "syslog",
        programs: &PROGRAMS,
        generator: "mcp-train synth",
        seed: cfg.seed,
        anomaly_ratio: cfg.anomaly_ratio,
    };
    buf.extend_from_slice(b"{\"export_metadata\":");
    serde_json::to_writer(&mut buf, &metadata).map_err(io::Error::other)?;
    buf.extend_from_slice(b",\"data\":[\n");

    let mut bytes: u64 = 0;
    let mut written = 0usize;
    let mut labelled = 0usize;
    let mut benign_done = 0usize;
    let mut next_benign: Option<i64> = None;
    let mut msg = String::with_capacity(256);
    while written < cfg.records {
        if next_benign.is_none() && benign_done < benign_total {
            let u: f64 = rng.gen();
            let x = (benign_done as f64 + u) / benign_total as f64 * total_weight;
            next_benign = Some(clock.time_at(x));
        }
        let attack_next = queue.peek().map(|Reverse((t, _))| *t);
        let take_attack = match (next_benign, attack_next) {
            (Some(b), Some(a)) => a < b,
            (None, Some(_)) => true,
            _ => false,
        };
        let (time, host, process, level, label) = if take_attack {
            let Some(Reverse((time, i))) = queue.pop() else {
                break;
            };
            let p = plans[i];
            let run = running[i].get_or_insert_with(|| {
                let mut r = ChaCha8Rng::seed_from_u64(
                    cfg.seed
                        .wrapping_add((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                );
                let (a, b) = (r.gen::<u32>(), r.gen::<u32>());
                Box::new(Running {
                    rng: r,
                    time,
                    left: p.size,
                    emitted: 0,
                    a,
                    b,
                })
            });
            let (process, level) = incident_line(&p, run, &mut msg);
            run.emitted += 1;
            run.left -= 1;
            if run.left > 0 {
                let (lo, hi) = p.kind.gaps();
                let gap = run.rng.gen_range(lo..hi);
                run.time = time + (gap * MICROS_PER_SECOND as f64) as i64;
                queue.push(Reverse((run.time, i)));
            } else {
                running[i] = None;
            }
            (time, p.host, process, level, 1u8)
        } else {
            let Some(time) = next_benign.take() else {
                break;
            };
            benign_done += 1;
            let mut pick_w = rng.gen_range(0.0..weight_sum);
            let mut host = hosts.len() - 1;
            for (i, w) in host_weight.iter().enumerate() {
                if pick_w < *w {
                    host = i;
                    break;
                }
                pick_w -= w;
            }
            let (process, level) = benign(&mut rng, host % ROLES.len(), cfg.clients, &mut msg);
            (time, host, process, level, 0u8)
        };
        if written > 0 {
            buf.extend_from_slice(b",\n");
        }
        written += 1;
        labelled += usize::from(label);
        let timestamp = format_iso8601(time);
        serde_json::to_writer(
            &mut buf,
            &Row {
                id: written as u64,
                device_id: &hosts[host],
                timestamp: &timestamp,
                log_level: level.as_str(),
                process_name: process,
                message: &msg,
                label,
            },
        )
        .map_err(io::Error::other)?;
        if buf.len() >= 64 * 1024 {
            out.write_all(&buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n]}\n");
    out.write_all(&buf)?;
    bytes += buf.len() as u64;
    out.flush()?;
    Ok(SynthSummary {
        records: written,
        anomalies: labelled,
        incidents: Vec::new(),
        bytes,
    })
}
