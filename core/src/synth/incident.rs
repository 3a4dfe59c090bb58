//! Injected attacks: where they happen, and the lines each one writes.
//!
//! The labelled records are split evenly over the four kinds, then each kind's share into
//! incidents of at most [`MAX_INCIDENT_RECORDS`] records. Incidents are spread over the span by
//! stratified sampling (night floods over the 01:00–05:00 windows only). Each incident is a small
//! script runner: it writes "units" (one victim, one password guess, one new device) of a few
//! lines each, one line at a time, so it interleaves with normal traffic in the merge.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::engine::ClientState;
use super::event::{Event, Msg, FRESH};
use super::world::{client_ip, World};
use super::IncidentKind;
use crate::time::{MICROS_PER_DAY, MICROS_PER_SECOND};

/// Largest incident, in records; larger shares are split into several incidents.
pub(crate) const MAX_INCIDENT_RECORDS: usize = 500;

const MS: i64 = 1_000;
const HOUR: i64 = 3_600 * MICROS_PER_SECOND;

/// Mean microseconds between two lines of an incident, used only to place it so it fits.
fn mean_gap(kind: IncidentKind) -> i64 {
    match kind {
        IncidentKind::DeauthFlood => 25 * MS,
        IncidentKind::PskBruteForce => 450 * MS,
        IncidentKind::HandshakeTimeoutStorm => 400 * MS,
        IncidentKind::NightMacFlood => 3_000 * MS,
    }
}

/// One step of a unit's script: the line, its number argument, and the gap before it.
#[derive(Debug, Clone, Copy)]
struct Step {
    msg: Msg,
    arg: u32,
    gap_lo: i64,
    gap_hi: i64,
}

const SCRIPT_CAPACITY: usize = 12;

/// One planned incident and the state of its script.
#[derive(Debug, Clone)]
pub(crate) struct Incident {
    pub kind: IncidentKind,
    pub ap: u16,
    pub radio: u8,
    /// Records this incident writes.
    pub size: usize,
    /// Time of its first record.
    pub start: i64,
    /// No record later than this.
    deadline: i64,
    /// Records generated so far.
    generated: usize,
    /// Password-guessing attackers (PSK brute force).
    attackers: [u64; 3],
    n_attackers: u32,
    unit: u32,
    aid: u32,
    script: [Step; SCRIPT_CAPACITY],
    script_len: usize,
    script_pos: usize,
    target_client: u32,
    target_mac: u64,
    target_ip: u32,
}

/// Things an incident needs from the generator to write its next line.
pub(crate) struct IncidentContext<'a> {
    pub rng: &'a mut ChaCha8Rng,
    pub world: &'a World,
    pub clients: &'a [ClientState],
    /// Next never-seen device number.
    pub fresh_next: &'a mut u32,
}

impl Incident {
    fn new(kind: IncidentKind, size: usize, start: i64, deadline: i64, ap: u16, radio: u8) -> Self {
        let idle = Step {
            msg: Msg::ApStaDisconnected,
            arg: 0,
            gap_lo: 0,
            gap_hi: 1,
        };
        Incident {
            kind,
            ap,
            radio,
            size,
            start,
            deadline: deadline.max(start),
            generated: 0,
            attackers: [0; 3],
            n_attackers: 0,
            unit: 0,
            aid: 0,
            script: [idle; SCRIPT_CAPACITY],
            script_len: 0,
            script_pos: 0,
            target_client: FRESH,
            target_mac: 0,
            target_ip: 0,
        }
    }

    /// Whether every record has been generated.
    pub(crate) fn is_done(&self) -> bool {
        self.generated >= self.size
    }

    fn push(&mut self, msg: Msg, arg: u32, gap_lo: i64, gap_hi: i64) {
        if self.script_len < SCRIPT_CAPACITY {
            self.script[self.script_len] = Step {
                msg,
                arg,
                gap_lo,
                gap_hi: gap_hi.max(gap_lo + 1),
            };
            self.script_len += 1;
        }
    }

    fn next_aid(&mut self) -> u32 {
        self.aid = self.aid % 60 + 1;
        self.aid
    }

    /// A known client to hit: preferably one connected to this AP right now.
    fn pick_victim(&self, ctx: &mut IncidentContext<'_>, now: i64) -> u32 {
        let n = ctx.clients.len() as u32;
        if n == 0 {
            return FRESH;
        }
        let mut pick = ctx.rng.gen_range(0..n);
        for _ in 0..6 {
            let s = &ctx.clients[pick as usize];
            if s.ap == self.ap && s.busy_until > now {
                break;
            }
            pick = ctx.rng.gen_range(0..n);
        }
        pick
    }

    fn reports(ctx: &IncidentContext<'_>, client: u32) -> bool {
        ctx.world
            .clients
            .get(client as usize)
            .is_some_and(|c| c.kind.reports_logs())
    }

    /// Writes the next unit's script.
    fn next_unit(&mut self, ctx: &mut IncidentContext<'_>, now: i64) {
        self.script_len = 0;
        self.script_pos = 0;
        self.unit += 1;
        let debug = ctx
            .world
            .aps
            .get(usize::from(self.ap))
            .is_some_and(|a| a.debug);
        match self.kind {
            IncidentKind::DeauthFlood => {
                let victim = self.pick_victim(ctx, now);
                self.set_known_target(ctx, victim);
                self.push(Msg::ApDeauthNotice, 7, 4 * MS, 90 * MS);
                self.push(Msg::ApDeauthenticated, 0, 100, 2 * MS);
                self.push(Msg::ApStaDisconnected, 0, 100, MS);
                if Self::reports(ctx, victim) {
                    self.push(Msg::ClientKernelDeauthFrom, 7, MS, 20 * MS);
                    self.push(Msg::SupDisconnected, 7, 100, 2 * MS);
                }
            }
            IncidentKind::PskBruteForce => {
                if self.n_attackers == 0 {
                    self.n_attackers = ctx.rng.gen_range(1..=3);
                    for i in 0..self.n_attackers as usize {
                        self.attackers[i] = ctx.world.fresh_mac(ctx.rng, *ctx.fresh_next);
                        *ctx.fresh_next = ctx.fresh_next.wrapping_add(1);
                    }
                }
                self.target_client = FRESH;
                let turn = self.unit % self.n_attackers;
                self.target_mac = self.attackers[turn as usize];
                // Each attacker is freed after its failure, so it gets its aid back every time.
                if self.aid == 0 {
                    self.aid = ctx.rng.gen_range(1..20);
                }
                let aid = self.aid + turn;
                self.push(Msg::ApAuthenticated, 0, 300 * MS, 2_500 * MS);
                self.push(Msg::ApAssociated, aid, MS, 15 * MS);
                if debug {
                    self.push(Msg::ApSend1of4, 0, 500, 3 * MS);
                }
                if ctx.rng.gen_range(0..100u32) < 40 {
                    self.push(Msg::ApInvalidMic, 0, 20 * MS, 80 * MS);
                }
                self.push(Msg::ApPskMismatch, 0, 5 * MS, 60 * MS);
                if ctx.rng.gen_range(0..100u32) < 50 {
                    self.push(Msg::ApDeauthLocal, 0, MS, 10 * MS);
                }
            }
            IncidentKind::HandshakeTimeoutStorm => {
                let victim = self.pick_victim(ctx, now);
                self.set_known_target(ctx, victim);
                // hostapd arms a 1 s EAPOL-Key timer per retry; the station never answers.
                if ctx.rng.gen_range(0..100u32) < 60 {
                    self.push(Msg::ApSend1of4, 0, 20 * MS, 300 * MS);
                    for retry in 1..=4 {
                        let wait = if retry == 1 { 100 } else { 2 * MS };
                        self.push(Msg::ApUseEapolTimeout, retry, 100, wait);
                        self.push(Msg::ApEapolTimeout, 0, 990 * MS, 1_010 * MS);
                    }
                    self.push(Msg::ApRetryLimit, 0, 100, 2 * MS);
                    self.push(Msg::ApAuthDisconnect, 15, 100, MS);
                    self.push(Msg::ApStaDisconnected, 0, MS, 5 * MS);
                } else {
                    for retry in 1..=3 {
                        let wait = if retry == 1 { 300 * MS } else { 2 * MS };
                        self.push(Msg::ApUseEapolTimeout, retry, 100, wait);
                        self.push(Msg::ApEapolTimeout, 0, 990 * MS, 1_010 * MS);
                    }
                    self.push(Msg::ApGroupHandshakeFailed, 0, 100, 2 * MS);
                    self.push(Msg::ApAuthDisconnect, 16, 100, MS);
                    if Self::reports(ctx, victim) {
                        self.push(Msg::ClientKernelDeauthFrom, 16, 2 * MS, 30 * MS);
                    }
                }
            }
            IncidentKind::NightMacFlood => {
                let fresh = *ctx.fresh_next;
                *ctx.fresh_next = fresh.wrapping_add(1);
                self.target_client = FRESH;
                self.target_mac = ctx.world.fresh_mac(ctx.rng, fresh);
                self.target_ip = client_ip((ctx.world.clients.len() as u32).wrapping_add(fresh));
                let aid = self.next_aid();
                if debug {
                    self.push(
                        Msg::ApProbeRequest,
                        ctx.rng.gen_range(0..u32::MAX),
                        2_000 * MS,
                        20_000 * MS,
                    );
                    self.push(Msg::ApAuthenticated, 0, 5 * MS, 200 * MS);
                } else {
                    self.push(Msg::ApAuthenticated, 0, 2_000 * MS, 20_000 * MS);
                }
                self.push(Msg::ApAssociated, aid, 2 * MS, 20 * MS);
                if ctx.rng.gen_range(0..100u32) < 75 {
                    self.push(Msg::ApPairwiseDone, 0, 30 * MS, 120 * MS);
                    self.push(Msg::ApStaConnected, 0, 200, 2 * MS);
                    self.push(Msg::DhcpDiscover, 0, 300 * MS, 2_500 * MS);
                    self.push(Msg::DhcpOffer, self.target_ip, MS, 10 * MS);
                    if ctx.rng.gen_range(0..100u32) < 50 {
                        self.push(Msg::DhcpRequest, self.target_ip, 5 * MS, 50 * MS);
                        self.push(Msg::DhcpAck, self.target_ip, MS, 5 * MS);
                    }
                } else {
                    self.push(Msg::ApDisassociated, 0, 1_000 * MS, 5_000 * MS);
                }
            }
        }
    }

    fn set_known_target(&mut self, ctx: &IncidentContext<'_>, victim: u32) {
        self.target_client = victim;
        self.target_mac = ctx.world.clients.get(victim as usize).map_or(0, |c| c.mac);
    }

    /// The next record, `prev` being the time of the previous one (`None` for the first).
    pub(crate) fn next_event(
        &mut self,
        index: u32,
        prev: Option<i64>,
        ctx: &mut IncidentContext<'_>,
    ) -> Event {
        let now = prev.unwrap_or(self.start);
        if self.script_pos >= self.script_len {
            self.next_unit(ctx, now);
        }
        let step = self.script[self.script_pos.min(SCRIPT_CAPACITY - 1)];
        self.script_pos += 1;
        let time = match prev {
            None => self.start,
            Some(prev) => {
                let gap = ctx.rng.gen_range(step.gap_lo as u64..step.gap_hi as u64) as i64;
                // Never run past the deadline: leave room for the records still to come.
                let left = (self.size - self.generated).max(1) as i64;
                let room = ((self.deadline - prev) / left).max(0);
                prev + gap.min(room)
            }
        };
        self.generated += 1;
        Event {
            time,
            msg: step.msg,
            ap: self.ap,
            radio: self.radio,
            client: self.target_client,
            mac: self.target_mac,
            arg: step.arg,
            incident: index,
        }
    }
}

/// Splits `total` into `parts` positive sizes that vary by up to a third, summing to `total`.
fn split_sizes(rng: &mut ChaCha8Rng, total: usize, parts: usize) -> Vec<usize> {
    let parts = parts.clamp(1, total.max(1));
    let base = total / parts;
    let mut sizes: Vec<usize> = (0..parts)
        .map(|i| base + usize::from(i < total % parts))
        .collect();
    for i in 0..parts {
        let give = rng.gen_range(0..=(sizes[i] / 3) as u64) as usize;
        let j = rng.gen_range(0..parts as u64) as usize;
        sizes[i] -= give;
        sizes[j] += give;
    }
    sizes
}

/// The night windows (01:00–05:00 UTC) inside `[start, end)`.
fn night_windows(start: i64, end: i64) -> Vec<(i64, i64)> {
    let first_day = start.div_euclid(MICROS_PER_DAY);
    let last_day = end.div_euclid(MICROS_PER_DAY);
    (first_day..=last_day)
        .filter_map(|day| {
            let lo = (day * MICROS_PER_DAY + HOUR).max(start);
            let hi = (day * MICROS_PER_DAY + 5 * HOUR).min(end);
            (hi > lo).then_some((lo, hi))
        })
        .collect()
}

/// Plans every incident of an export with `anomalies` labelled records in `[start, end)`.
pub(crate) fn plan(
    rng: &mut ChaCha8Rng,
    world: &World,
    anomalies: usize,
    start: i64,
    end: i64,
) -> Vec<Incident> {
    let n_aps = world.aps.len().max(1) as u32;
    let mut day_incidents = Vec::new();
    let mut night_incidents = Vec::new();
    for (k, kind) in IncidentKind::ALL.into_iter().enumerate() {
        let share = anomalies / 4 + usize::from(k < anomalies % 4);
        if share == 0 {
            continue;
        }
        let parts = share.div_ceil(MAX_INCIDENT_RECORDS);
        for size in split_sizes(rng, share, parts) {
            if kind == IncidentKind::NightMacFlood {
                night_incidents.push(size);
            } else {
                day_incidents.push((kind, size));
            }
        }
    }
    // Shuffle the kinds so the span does not read deauth, deauth, …, then PSK, PSK, ….
    for i in (1..day_incidents.len()).rev() {
        let j = rng.gen_range(0..=i as u64) as usize;
        day_incidents.swap(i, j);
    }

    let mut out = Vec::with_capacity(day_incidents.len() + night_incidents.len());
    let span = end - start;
    let n = day_incidents.len();
    for (i, (kind, size)) in day_incidents.into_iter().enumerate() {
        let u: f64 = rng.gen();
        let pos = start + ((i as f64 + u) / n as f64 * span as f64) as i64;
        let duration = size as i64 * mean_gap(kind) * 13 / 10;
        let at = pos.min(end - duration).max(start);
        let ap = rng.gen_range(0..n_aps) as u16;
        let radio = u8::from(rng.gen_range(0..100u32) >= 60);
        out.push(Incident::new(kind, size, at, end - 1, ap, radio));
    }

    let windows = night_windows(start, end);
    let night_total: i64 = windows.iter().map(|(lo, hi)| hi - lo).sum();
    let n = night_incidents.len();
    for (i, size) in night_incidents.into_iter().enumerate() {
        let u: f64 = rng.gen();
        let mut offset = ((i as f64 + u) / n as f64 * night_total as f64) as i64;
        let mut window = windows.last().copied().unwrap_or((start, end));
        for &(lo, hi) in &windows {
            if offset < hi - lo {
                window = (lo, hi);
                break;
            }
            offset -= hi - lo;
        }
        let (lo, hi) = window;
        let duration = size as i64 * mean_gap(IncidentKind::NightMacFlood) * 13 / 10;
        let at = (lo + offset).min(hi - duration).max(lo);
        let ap = rng.gen_range(0..n_aps) as u16;
        let radio = u8::from(rng.gen_range(0..100u32) >= 40);
        out.push(Incident::new(
            IncidentKind::NightMacFlood,
            size,
            at,
            hi - 1,
            ap,
            radio,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sizes_sum_to_the_share() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (total, parts) in [(1, 1), (7, 3), (1250, 3), (12_500, 25)] {
            let sizes = split_sizes(&mut rng, total, parts);
            assert_eq!(sizes.iter().sum::<usize>(), total);
            assert_eq!(sizes.len(), parts);
            assert!(sizes.iter().all(|&s| s > 0));
        }
    }

    #[test]
    fn night_windows_cover_four_hours_a_day_wherever_the_span_starts() {
        let day = MICROS_PER_DAY;
        for start in [
            0,
            3 * HOUR,
            4 * HOUR + 59 * 60 * MICROS_PER_SECOND,
            23 * HOUR,
        ] {
            let windows = night_windows(start, start + 2 * day);
            let total: i64 = windows.iter().map(|(lo, hi)| hi - lo).sum();
            assert_eq!(total, 8 * HOUR, "start {start}");
        }
    }
}
