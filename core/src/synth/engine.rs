//! The simulation: normal traffic episodes and incident scripts merged into one time-ordered
//! stream of records.
//!
//! Normal traffic comes in *episodes* — a client joining (authentication, association, 4-way
//! handshake, DHCP, and its later departure), a mid-session event (DHCP renewal, group rekey,
//! signal report), or background noise (kernel, netifd, dnsmasq). The [`TrafficClock`] says when
//! the next episode starts; its lines go into a min-heap keyed by `(time, sequence)`, together
//! with the next line of every incident. A line is popped only once no future episode can start
//! before it, so the output is in time order while the heap only ever holds the lines that are
//! still in flight (a few per connected client), never the export.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::event::{Event, Msg, FRESH, NO_INCIDENT};
use super::incident::{self, Incident, IncidentContext};
use super::rhythm::{exp1, TrafficClock};
use super::world::{client_ip, World};
use super::ValidSynthConfig;
use crate::time::MICROS_PER_SECOND;

const MS: i64 = 1_000;
const SECOND: i64 = MICROS_PER_SECOND;

/// Normal episodes never start in the last minute, so their lines stay inside the span.
const END_MARGIN: i64 = 60 * SECOND;

/// What the generator knows about a known client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientState {
    /// Until when the client is connected (its departure is already scheduled); `i64::MIN` when
    /// it never connected, `i64::MAX` when it stays connected past the end of the export.
    pub busy_until: i64,
    /// When its current (or last) session began.
    pub since: i64,
    pub ap: u16,
    pub radio: u8,
    /// Whether dnsmasq already leased it an address (a rejoin then skips DISCOVER/OFFER).
    pub has_lease: bool,
}

/// A heap entry: ordered by time, then by insertion, smallest first.
#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u64,
    event: Event,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest line first.
        (other.event.time, other.seq).cmp(&(self.event.time, self.seq))
    }
}

/// Per-incident bookkeeping for the summary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncidentTally {
    pub first: i64,
    pub last: i64,
    pub records: usize,
}

/// Generates the records of one export, in time order.
#[derive(Debug)]
pub(crate) struct Generator {
    rng: ChaCha8Rng,
    pub(crate) world: World,
    clock: TrafficClock,
    heap: BinaryHeap<Pending>,
    seq: u64,
    clients: Vec<ClientState>,
    /// Next association id per AP radio.
    aids: Vec<u16>,
    pub(crate) incidents: Vec<Incident>,
    pub(crate) tallies: Vec<IncidentTally>,
    /// Lines of the episode being built.
    episode: Vec<Event>,
    fresh_next: u32,
    /// Next episode start, if normal records remain.
    next_episode: Option<i64>,
    span_end: i64,
    mean_session: f64,
}

impl Generator {
    pub(crate) fn new(config: &ValidSynthConfig) -> Generator {
        let cfg = config.config();
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let start = cfg.start_micros;
        let span_end = config.end_micros();
        let world = World::new(&mut rng, cfg.access_points, cfg.clients, start);
        let anomalies = config.anomalies();
        let normal = cfg.records - anomalies;
        let episode_end = (span_end - END_MARGIN).max(start + 1);
        let clock = TrafficClock::new(&mut rng, start, episode_end, normal);
        let incidents = incident::plan(&mut rng, &world, anomalies, start, span_end);

        // Size sessions so that clients are connected a fair share of the time whatever the
        // record count: about 6 records per episode, a third of episodes are joins.
        let days = f64::from(cfg.days);
        let joins_per_day = (normal as f64 / 6.0 / 3.0 / days).max(1.0);
        let mean_session = (cfg.clients as f64 * 86_400.0 * 0.35 / joins_per_day)
            .clamp(120.0, 4.0 * 3_600.0)
            * SECOND as f64;

        let clients = vec![
            ClientState {
                busy_until: i64::MIN,
                since: i64::MIN,
                ap: 0,
                radio: 0,
                has_lease: false,
            };
            cfg.clients
        ];
        let mut generator = Generator {
            rng,
            world,
            clock,
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            clients,
            aids: vec![0; cfg.access_points * 2],
            tallies: vec![
                IncidentTally {
                    first: i64::MAX,
                    last: i64::MIN,
                    records: 0,
                };
                incidents.len()
            ],
            incidents,
            episode: Vec::with_capacity(32),
            fresh_next: 0,
            next_episode: None,
            span_end,
            mean_session,
        };
        for i in 0..generator.incidents.len() {
            generator.push_incident_line(i, None);
        }
        generator.next_episode = generator.clock.next_time();
        generator
    }

    fn push(&mut self, event: Event) {
        self.seq += 1;
        self.heap.push(Pending {
            seq: self.seq,
            event,
        });
    }

    fn push_incident_line(&mut self, index: usize, prev: Option<i64>) {
        let Some(incident) = self.incidents.get_mut(index) else {
            return;
        };
        if incident.is_done() {
            return;
        }
        let mut ctx = IncidentContext {
            rng: &mut self.rng,
            world: &self.world,
            clients: &self.clients,
            fresh_next: &mut self.fresh_next,
        };
        let mut event = incident.next_event(index as u32, prev, &mut ctx);
        event.time = event.time.min(self.span_end - 1);
        self.push(event);
    }

    /// The next record in time order, or `None` when the export is complete.
    pub(crate) fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(t) = self.next_episode {
                if self.heap.peek().is_none_or(|p| p.event.time > t) {
                    self.schedule_episode(t);
                    self.next_episode = self.clock.next_time();
                    continue;
                }
            }
            let event = self.heap.pop()?.event;
            if event.incident != NO_INCIDENT {
                let i = event.incident as usize;
                if let Some(tally) = self.tallies.get_mut(i) {
                    tally.first = tally.first.min(event.time);
                    tally.last = tally.last.max(event.time);
                    tally.records += 1;
                }
                self.push_incident_line(i, Some(event.time));
            }
            return Some(event);
        }
    }

    // ---- normal traffic -------------------------------------------------------------------

    fn line(&mut self, time: i64, msg: Msg, ap: u16, radio: u8, client: u32, arg: u32) {
        let mac = self.world.clients.get(client as usize).map_or(0, |c| c.mac);
        self.episode.push(Event {
            time,
            msg,
            ap,
            radio,
            client,
            mac,
            arg,
            incident: NO_INCIDENT,
        });
    }

    fn gap(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo as u64..hi.max(lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent_tenths: u32) -> bool {
        self.rng.gen_range(0..1000u32) < percent_tenths
    }

    fn random_client(&mut self) -> Option<u32> {
        let n = self.clients.len() as u32;
        (n > 0).then(|| self.rng.gen_range(0..n))
    }

    /// Builds one normal episode starting at `t` and hands its lines to the heap.
    fn schedule_episode(&mut self, t: i64) {
        self.episode.clear();
        let roll = self.rng.gen_range(0..1000u32);
        let done = if roll < 420 {
            self.join(t) || self.mid_session(t)
        } else if roll < 860 {
            self.mid_session(t)
        } else {
            false
        };
        if !done {
            self.noise(t);
        }
        // Lines past the end of the span are not written (that client is still connected when
        // the export was taken); the last episode may be cut to land on exactly N records.
        let end = self.span_end;
        self.episode.retain(|e| e.time < end);
        self.episode.truncate(self.clock.remaining());
        let len = self.episode.len();
        for i in 0..len {
            let event = self.episode[i];
            self.push(event);
        }
        self.clock.advance(&mut self.rng, len);
    }

    /// An idle client joins an AP, and its departure is scheduled. False if none was idle.
    fn join(&mut self, t: i64) -> bool {
        let mut found = None;
        for _ in 0..8 {
            let Some(c) = self.random_client() else {
                return false;
            };
            if self.clients[c as usize].busy_until <= t {
                found = Some(c);
                break;
            }
        }
        let Some(c) = found else {
            return false;
        };
        let (home, pref_radio, kind) = {
            let client = &self.world.clients[c as usize];
            (client.home_ap, client.radio, client.kind)
        };
        let n_aps = self.world.aps.len().max(1) as u32;
        let ap = if self.chance(850) {
            home
        } else {
            self.rng.gen_range(0..n_aps) as u16
        };
        let radio = pref_radio;
        let reports = kind.reports_logs();
        let (debug, accounting) = self
            .world
            .aps
            .get(usize::from(ap))
            .map_or((false, false), |a| (a.debug, a.accounting));
        let aid = match self.aids.get_mut(usize::from(ap) * 2 + usize::from(radio)) {
            Some(next) => {
                *next = *next % 40 + 1;
                u32::from(*next)
            }
            None => 1,
        };

        let mut now = t;
        // A mistyped password now and then (label 0: one mismatch, then success).
        if self.chance(15) {
            self.auth_assoc(&mut now, ap, radio, c, aid, reports);
            now += self.gap(30 * MS, 90 * MS);
            self.line(now, Msg::ApPskMismatch, ap, radio, c, 0);
            if reports {
                now += self.gap(MS, 20 * MS);
                self.line(now, Msg::SupWrongKey, ap, radio, c, 0);
                now += self.gap(100, 2 * MS);
                self.line(now, Msg::SupTempDisabled, ap, radio, c, 0);
            }
            now += self.gap(10 * SECOND, 45 * SECOND);
        }
        self.auth_assoc(&mut now, ap, radio, c, aid, reports);
        if debug {
            now += self.gap(MS, 5 * MS);
            self.line(now, Msg::ApSend1of4, ap, radio, c, 0);
        }
        // A lost EAPOL frame now and then: one timeout, then the retry succeeds.
        if self.chance(20) {
            now += self.gap(1_000 * MS, 1_020 * MS);
            self.line(now, Msg::ApEapolTimeout, ap, radio, c, 0);
        }
        if debug {
            now += self.gap(5 * MS, 40 * MS);
            self.line(now, Msg::ApRecv2of4, ap, radio, c, 0);
            now += self.gap(200, 2 * MS);
            self.line(now, Msg::ApSend3of4, ap, radio, c, 0);
            now += self.gap(3 * MS, 30 * MS);
            self.line(now, Msg::ApRecv4of4, ap, radio, c, 0);
        }
        now += self.gap(20 * MS, 80 * MS);
        self.line(now, Msg::ApPairwiseDone, ap, radio, c, 0);
        now += self.gap(100, MS);
        self.line(now, Msg::ApStaConnected, ap, radio, c, 0);
        if accounting {
            now += self.gap(100, MS);
            self.line(now, Msg::ApAccountingStart, ap, radio, c, 0);
        }
        now += self.gap(100, MS);
        self.line(now, Msg::ApHandshakeCompleted, ap, radio, c, 0);
        if reports {
            now += self.gap(MS, 10 * MS);
            self.line(now, Msg::SupKeyNegotiated, ap, radio, c, 0);
            now += self.gap(100, MS);
            self.line(now, Msg::SupConnected, ap, radio, c, 0);
        }
        let ip = client_ip(c);
        now += self.gap(300 * MS, 2_500 * MS);
        if !self.clients[c as usize].has_lease {
            self.line(now, Msg::DhcpDiscover, ap, radio, c, 0);
            now += self.gap(MS, 10 * MS);
            self.line(now, Msg::DhcpOffer, ap, radio, c, ip);
            now += self.gap(5 * MS, 60 * MS);
        }
        self.line(now, Msg::DhcpRequest, ap, radio, c, ip);
        now += self.gap(MS, 5 * MS);
        self.line(now, Msg::DhcpAck, ap, radio, c, ip);
        let connected = now;

        let session = (self.mean_session * exp1(&mut self.rng)).max(45.0 * SECOND as f64) as i64;
        let leave = connected.saturating_add(session);
        let busy_until = if leave < self.span_end {
            self.leave(leave, ap, radio, c, reports)
        } else {
            i64::MAX
        };
        self.clients[c as usize] = ClientState {
            busy_until,
            since: connected,
            ap,
            radio,
            has_lease: true,
        };
        true
    }

    fn auth_assoc(&mut self, now: &mut i64, ap: u16, radio: u8, c: u32, aid: u32, reports: bool) {
        if reports {
            self.line(*now, Msg::SupTryAuth, ap, radio, c, 0);
            *now += self.gap(MS, 8 * MS);
        }
        self.line(*now, Msg::ApAuthenticated, ap, radio, c, 0);
        if reports {
            *now += self.gap(200, 2 * MS);
            self.line(*now, Msg::SupTryAssoc, ap, radio, c, 0);
        }
        *now += self.gap(2 * MS, 15 * MS);
        self.line(*now, Msg::ApAssociated, ap, radio, c, aid);
        if reports {
            *now += self.gap(200, 2 * MS);
            self.line(*now, Msg::SupAssociated, ap, radio, c, 0);
        }
    }

    /// Schedules a departure at `t`; returns when the client is free again.
    fn leave(&mut self, t: i64, ap: u16, radio: u8, c: u32, reports: bool) -> i64 {
        let mut now = t;
        let roll = self.rng.gen_range(0..100u32);
        if roll < 55 {
            // The user switches Wi-Fi off or walks away.
            if reports {
                self.line(now, Msg::SupDisconnected, ap, radio, c, 3);
                now += self.gap(MS, 10 * MS);
            }
            self.line(now, Msg::ApStaDisconnected, ap, radio, c, 0);
            now += self.gap(100, MS);
            self.line(now, Msg::ApDisassociated, ap, radio, c, 0);
            if self.chance(300) {
                now += self.gap(5 * MS, 50 * MS);
                self.line(now, Msg::DhcpRelease, ap, radio, c, client_ip(c));
            }
        } else if roll < 88 {
            // The device went to sleep: hostapd's inactivity timer.
            self.line(now, Msg::ApDisassocInactivity, ap, radio, c, 0);
            now += self.gap(100, MS);
            self.line(now, Msg::ApStaDisconnected, ap, radio, c, 0);
            now += self.gap(900 * MS, 1_100 * MS);
            self.line(now, Msg::ApDeauthInactivity, ap, radio, c, 0);
        } else {
            // Out of range.
            self.line(now, Msg::ApMissingAcks, ap, radio, c, 0);
            now += self.gap(100, MS);
            self.line(now, Msg::ApStaDisconnected, ap, radio, c, 0);
        }
        now + 2 * SECOND
    }

    /// Something happens to a connected client. False if none was found quickly.
    fn mid_session(&mut self, t: i64) -> bool {
        let mut found = None;
        for _ in 0..6 {
            let Some(c) = self.random_client() else {
                return false;
            };
            let s = self.clients[c as usize];
            if s.since.saturating_add(10 * SECOND) <= t && s.busy_until > t + 10 * SECOND {
                found = Some(c);
                break;
            }
        }
        let Some(c) = found else {
            return false;
        };
        let ClientState { ap, radio, .. } = self.clients[c as usize];
        let reports = self.world.clients[c as usize].kind.reports_logs();
        let roll = self.rng.gen_range(0..100u32);
        let mut now = t;
        if roll < 40 {
            let ip = client_ip(c);
            self.line(now, Msg::DhcpRequest, ap, radio, c, ip);
            now += self.gap(MS, 5 * MS);
            self.line(now, Msg::DhcpAck, ap, radio, c, ip);
        } else if roll < 70 || !reports {
            self.line(now, Msg::ApGroupRekey, ap, radio, c, 0);
            if reports {
                now += self.gap(MS, 10 * MS);
                self.line(now, Msg::SupGroupRekey, ap, radio, c, 0);
            }
        } else if roll < 88 {
            let above = u32::from(self.chance(500));
            let signal = self.rng.gen_range(38..86u32);
            let noise = self.rng.gen_range(88..98u32);
            let rate = self.rng.gen_range(0..8u32);
            let arg = (above << 31) | (signal << 16) | (noise << 8) | rate;
            self.line(now, Msg::SupSignalChange, ap, radio, c, arg);
        } else {
            self.line(now, Msg::SupScanStarted, ap, radio, c, 0);
            now += self.gap(1_500 * MS, 4_000 * MS);
            self.line(now, Msg::SupScanResults, ap, radio, c, 0);
        }
        true
    }

    /// Background lines that involve no session.
    fn noise(&mut self, t: i64) {
        let n_aps = self.world.aps.len().max(1) as u32;
        let ap = self.rng.gen_range(0..n_aps) as u16;
        let radio = self.rng.gen_range(0..2u32) as u8;
        let roll = self.rng.gen_range(0..100u32);
        let known = self.random_client().unwrap_or(FRESH);
        let mut now = t;
        if roll < 35 {
            // Probe requests from known devices, logged by the AP that runs hostapd -d.
            let arg = self.rng.gen_range(0..u32::MAX);
            let debug_ap = self.world.aps.iter().position(|a| a.debug).unwrap_or(0) as u16;
            self.line(now, Msg::ApProbeRequest, debug_ap, radio, known, arg);
        } else if roll < 58 {
            self.line(now, Msg::NetifdRenew, ap, radio, FRESH, 0);
            now += self.gap(20 * MS, 90 * MS);
            self.line(now, Msg::NetifdLease, ap, radio, FRESH, 0);
        } else if roll < 65 {
            self.line(now, Msg::DnsReadResolv, ap, radio, FRESH, 0);
            now += self.gap(100, MS);
            self.line(now, Msg::DnsNameserver, ap, radio, FRESH, 0);
            now += self.gap(10, 200);
            self.line(now, Msg::DnsNameserver, ap, radio, FRESH, 1);
        } else if roll < 77 {
            self.line(now, Msg::KernelOwnAddress, ap, radio, FRESH, 0);
        } else if roll < 87 {
            let arg = self.rng.gen_range(0..u32::MAX);
            self.line(now, Msg::KernelMcuTimeout, ap, radio, FRESH, arg);
        } else if roll < 91 {
            self.line(now, Msg::KernelKeyRemoveFailed, ap, radio, known, 0);
        } else if roll < 94 {
            self.line(now, Msg::KernelConntrackFull, ap, radio, FRESH, 0);
        } else {
            self.radio_restart(now, ap, radio);
        }
    }

    /// A radio restarts (configuration reload): hostapd, the bridge and netifd all notice.
    /// Its stations are not dropped — a simplification; restarts are rare.
    fn radio_restart(&mut self, t: i64, ap: u16, radio: u8) {
        let mut now = t;
        self.line(now, Msg::ApIfaceState, ap, radio, FRESH, 0);
        now += self.gap(100, MS);
        self.line(now, Msg::ApDisabled, ap, radio, FRESH, 0);
        now += self.gap(MS, 20 * MS);
        self.line(now, Msg::KernelBridgePort, ap, radio, FRESH, 0);
        now += self.gap(MS, 30 * MS);
        self.line(now, Msg::NetifdLink, ap, radio, FRESH, 0);
        now += self.gap(2 * SECOND, 6 * SECOND);
        self.line(now, Msg::ApIfaceState, ap, radio, FRESH, 1);
        now += self.gap(100, MS);
        self.line(now, Msg::ApEnabled, ap, radio, FRESH, 0);
        now += self.gap(MS, 20 * MS);
        self.line(now, Msg::KernelBridgePort, ap, radio, FRESH, 1);
        now += self.gap(10 * MS, 60 * MS);
        self.line(now, Msg::KernelBridgePort, ap, radio, FRESH, 2);
        now += self.gap(MS, 30 * MS);
        self.line(now, Msg::NetifdLink, ap, radio, FRESH, 1);
    }
}

#[cfg(test)]
impl Generator {
    /// The planned incidents' kinds, by index.
    pub(crate) fn incident_kinds(&self) -> Vec<super::IncidentKind> {
        self.incidents.iter().map(|i| i.kind).collect()
    }

    /// Lines waiting in the merge heap.
    pub(crate) fn pending(&self) -> usize {
        self.heap.len()
    }
}
