//! Recognising a log's type from its records, so `train` needs no `--log-type` for the usual
//! case.

use super::{registered, Agent, ParseContext};
use crate::export::{is_wifi_process, Record};
use crate::pipeline::WIFI_LOG_TYPE;

/// The generic agent's log type: a log no dedicated agent recognises is read by it.
const GENERIC_LOG_TYPE: &str = "syslog";

/// Lines of a raw log looked at to recognise its type.
const DETECT_LINES: usize = 2_000;

/// Whether the syslog tag `process` is `program`, ignoring case, or `program` followed by a
/// separator (`hostapd-wlan0`, `dnsmasq-dhcp`).
fn is_program(process: &str, program: &str) -> bool {
    let (p, q) = (process.as_bytes(), program.as_bytes());
    p.len() >= q.len()
        && p[..q.len()].eq_ignore_ascii_case(q)
        && p.get(q.len())
            .is_none_or(|&b| !b.is_ascii_alphanumeric() && b != b'_')
}

/// The log type whose agent reads `process` (by [`AgentInfo::programs`](super::AgentInfo)),
/// WiFi processes counting for `wifi`; `None` when no agent names it.
fn log_type_of(process: &str, agents: &[&'static dyn Agent]) -> Option<&'static str> {
    if is_wifi_process(process) {
        return Some(WIFI_LOG_TYPE);
    }
    // The wifi agent also reads the dnsmasq, netifd and kernel lines of an access point, but
    // only its WiFi daemons say a log is a WiFi log: those lines vote `wifi` above.
    agents.iter().find_map(|a| {
        let info = a.info();
        if info.log_type == WIFI_LOG_TYPE {
            return None;
        }
        info.programs
            .iter()
            .any(|p| is_program(process, p))
            .then_some(info.log_type)
    })
}

/// The log type of `records`, learned from their process names: each record votes for the
/// agent whose [`programs`](super::AgentInfo::programs) name its process (WiFi processes such
/// as `hostapd` and `wpa_supplicant` vote `wifi`), and the log type with the most votes wins.
/// When no record votes, `syslog` (the generic agent) if it is registered and there are records;
/// `wifi` — what every export was before log types existed — when there are none or the top
/// votes tie with `wifi` or between two types, so an export made for WiFi always trains as
/// before.
pub fn detect_log_type(records: &[Record<'_>]) -> &'static str {
    detect_with(records, &registered())
}

/// [`detect_log_type`] over a given list of agents.
pub(crate) fn detect_with(records: &[Record<'_>], agents: &[&'static dyn Agent]) -> &'static str {
    // Count per process first, then look each distinct process up once.
    let mut per_process: rustc_hash::FxHashMap<&str, usize> = Default::default();
    for record in records {
        *per_process.entry(record.process_name.as_ref()).or_default() += 1;
    }
    let mut votes: Vec<(&'static str, usize)> = Vec::new();
    for (process, n) in per_process {
        if let Some(log_type) = log_type_of(process, agents) {
            match votes.iter_mut().find(|(t, _)| *t == log_type) {
                Some((_, v)) => *v += n,
                None => votes.push((log_type, n)),
            }
        }
    }
    let Some(&(_, top)) = votes.iter().max_by_key(|(_, v)| *v) else {
        // No dedicated agent names any process: the generic agent when there is one.
        return agents
            .iter()
            .map(|a| a.info().log_type)
            .find(|&t| t == GENERIC_LOG_TYPE && !records.is_empty())
            .unwrap_or(WIFI_LOG_TYPE);
    };
    let leaders: Vec<&'static str> = votes
        .iter()
        .filter(|(_, v)| *v == top)
        .map(|(t, _)| *t)
        .collect();
    match leaders.as_slice() {
        [only] => only,
        _ => WIFI_LOG_TYPE,
    }
}

/// The log type of raw log text: its first lines are read with every agent (the syslog
/// framing is shared, so any agent that reads a line finds its process), and the records vote
/// as in [`detect_log_type`].
pub fn detect_raw_log_type(bytes: &[u8], context: &ParseContext) -> &'static str {
    detect_raw_with(bytes, context, &registered())
}

/// [`detect_raw_log_type`] over a given list of agents.
pub(crate) fn detect_raw_with(
    bytes: &[u8],
    context: &ParseContext,
    agents: &[&'static dyn Agent],
) -> &'static str {
    let mut records = Vec::new();
    for (line, text) in crate::export::raw_lines(bytes).take(DETECT_LINES) {
        let Ok(text) = text else { continue };
        if let Some(record) = agents
            .iter()
            .find_map(|a| a.parse_line(text, line - 1, context).ok())
        {
            records.push(record);
        }
    }
    detect_with(&records, agents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::test_agent::{DNS_TEST_AGENT, TEST_AGENTS};
    use crate::export::LogLevel;
    use std::borrow::Cow;

    fn record(process: &str) -> Record<'_> {
        Record {
            index: 0,
            timestamp: 0,
            message: Cow::Borrowed("m"),
            process_name: Cow::Borrowed(process),
            host: None,
            level: LogLevel::Info,
            label: None,
        }
    }

    fn records<'a>(processes: &[&'a str]) -> Vec<Record<'a>> {
        processes.iter().map(|p| record(p)).collect()
    }

    #[test]
    fn the_majority_of_records_names_the_log_type() {
        let dns = DNS_TEST_AGENT.info().log_type;
        let mostly_dns = records(&["testdnsd", "testdnsd", "hostapd", "TESTDNSD-dhcp", "cron"]);
        assert_eq!(detect_with(&mostly_dns, TEST_AGENTS), dns);
        let mostly_wifi = records(&["testdnsd", "hostapd", "wpa_supplicant", "kernel"]);
        assert_eq!(detect_with(&mostly_wifi, TEST_AGENTS), "wifi");
    }

    #[test]
    fn wifi_when_nothing_votes_or_the_vote_ties() {
        assert_eq!(
            detect_with(&records(&["cron", "sshd"]), TEST_AGENTS),
            "wifi"
        );
        assert_eq!(detect_with(&[], TEST_AGENTS), "wifi");
        let tie = records(&["testdnsd", "hostapd"]);
        assert_eq!(detect_with(&tie, TEST_AGENTS), "wifi");
        // A program name is a whole word: `testdnsdx` is not testdnsd.
        assert_eq!(detect_with(&records(&["testdnsdx"]), TEST_AGENTS), "wifi");
        // No agents registered: every log is what logs were before log types.
        assert_eq!(detect_with(&records(&["testdnsd"]), &[]), "wifi");
    }

    #[test]
    fn raw_lines_are_read_by_the_agents_to_recognise_the_type() {
        let ctx = ParseContext { default_year: 2024 };
        let log = "\n2024-01-01T00:00:00Z gw testdnsd[1]: query[A] a.example from 10.0.0.2\r\n\
                   not a log line at all\n\
                   2024-01-01T00:00:01Z gw testdnsd[1]: reply a.example is 1.2.3.4\n";
        assert_eq!(
            detect_raw_with(log.as_bytes(), &ctx, TEST_AGENTS),
            DNS_TEST_AGENT.info().log_type
        );
        assert_eq!(detect_raw_with(b"\xff\xfe junk", &ctx, TEST_AGENTS), "wifi");
    }

    #[test]
    fn the_built_in_agents_recognise_their_logs() {
        let agents = crate::agent::AGENTS;
        // An access point's export: mostly WiFi daemons, some dnsmasq and kernel lines.
        let ap = records(&[
            "hostapd",
            "hostapd",
            "dnsmasq-dhcp",
            "wpa_supplicant",
            "kernel",
        ]);
        assert_eq!(detect_with(&ap, agents), "wifi");
        let resolver = records(&["dnsmasq", "dnsmasq", "dnsmasq-dhcp", "hostapd"]);
        assert_eq!(detect_with(&resolver, agents), "dns");
        let firewall = records(&["kernel", "ulogd", "kernel", "cron"]);
        assert_eq!(detect_with(&firewall, agents), "firewall");
        let server = records(&["sshd", "cron", "systemd"]);
        assert_eq!(detect_with(&server, agents), "syslog");
        assert_eq!(detect_with(&[], agents), "wifi");
        let ctx = ParseContext { default_year: 2024 };
        let auth = "Dec  3 17:50:14 web sshd[811]: Accepted publickey for root from 10.0.0.9 port 50022 ssh2\n\
                    Dec  3 17:50:15 web CRON[812]: pam_unix(cron:session): session opened for user root\n";
        assert_eq!(detect_raw_with(auth.as_bytes(), &ctx, agents), "syslog");
        let dnsmasq = "Dec  3 17:50:14 gw dnsmasq[811]: query[A] example.org from 10.0.0.9\n";
        assert_eq!(detect_raw_with(dnsmasq.as_bytes(), &ctx, agents), "dns");
    }
}
