//! Recognising a log's type from its records, so `train` needs no `--log-type` for the usual
//! case.

use super::{registered, Agent, ParseContext};
use crate::export::{is_wifi_process, Record};
use crate::pipeline::WIFI_LOG_TYPE;

/// The generic agent's log type: a log no dedicated agent recognises is read by it.
const GENERIC_LOG_TYPE: &str = "syslog";

/// Lines of a raw log looked at to recognise its type.
const DETECT_LINES: usize = 2_000;

/// The log type whose agent reads `record` ([`Agent::recognises`]), WiFi daemons counting for
/// `wifi`; `None` when no agent claims it.
fn log_type_of(record: &Record<'_>, agents: &[&'static dyn Agent]) -> Option<&'static str> {
    if is_wifi_process(&record.process_name) {
        return Some(WIFI_LOG_TYPE);
    }
    // The wifi agent also reads the dnsmasq, netifd and kernel lines of an access point, but
    // only its WiFi daemons say a log is a WiFi log: those lines vote `wifi` above.
    agents
        .iter()
        .filter(|a| a.info().log_type != WIFI_LOG_TYPE)
        .find(|a| a.recognises(record))
        .map(|a| a.info().log_type)
}

/// The log type of `records`: each record votes for the first agent that
/// [recognises](Agent::recognises) it (WiFi processes such as `hostapd` and `wpa_supplicant`
/// vote `wifi`), and the log type with the most votes wins.
/// Records no dedicated agent claims vote for the generic agent (`syslog`), which wins when
/// they are the majority. `wifi` — what every export was before log types existed — when
/// nothing votes or the top votes tie with `wifi` or between two types, so an export made for
/// WiFi trains as before.
pub fn detect_log_type(records: &[Record<'_>]) -> &'static str {
    detect_with(records, &registered())
}

/// [`detect_log_type`] over a given list of agents.
pub(crate) fn detect_with(records: &[Record<'_>], agents: &[&'static dyn Agent]) -> &'static str {
    let mut votes: Vec<(&'static str, usize)> = Vec::new();
    let mut unclaimed = 0;
    for record in records {
        match log_type_of(record, agents) {
            Some(log_type) => vote(&mut votes, log_type),
            None => unclaimed += 1,
        }
    }
    winner(&votes, unclaimed, agents)
}

fn vote(votes: &mut Vec<(&'static str, usize)>, log_type: &'static str) {
    add_votes(votes, log_type, 1);
}

fn add_votes(votes: &mut Vec<(&'static str, usize)>, log_type: &'static str, n: usize) {
    match votes.iter_mut().find(|(t, _)| *t == log_type) {
        Some((_, v)) => *v += n,
        None => votes.push((log_type, n)),
    }
}

/// The log type of records known only by their process names and counts (a validation
/// report's process summary), voting as [`detect_log_type`] does; `None` without processes.
/// Agents that look at the message too (the firewall's kernel lines) are not asked.
pub fn recognise_processes<'a>(
    processes: impl IntoIterator<Item = (&'a str, usize)>,
) -> Option<&'static str> {
    let agents = registered();
    let mut votes: Vec<(&'static str, usize)> = Vec::new();
    let (mut unclaimed, mut any) = (0, false);
    for (process, n) in processes {
        any = true;
        let record = Record {
            index: 0,
            timestamp: 0,
            message: std::borrow::Cow::Borrowed(""),
            process_name: std::borrow::Cow::Borrowed(process),
            host: None,
            level: crate::export::LogLevel::Info,
            label: None,
        };
        match log_type_of(&record, &agents) {
            Some(log_type) => add_votes(&mut votes, log_type, n),
            None => unclaimed += n,
        }
    }
    any.then(|| winner(&votes, unclaimed, &agents))
}

/// The generic agent (when registered) when most records are `unclaimed` by a dedicated one;
/// else the log type with the most votes, `wifi` on a tie with `wifi` or between two types,
/// or when nothing voted at all.
fn winner(
    votes: &[(&'static str, usize)],
    unclaimed: usize,
    agents: &[&'static dyn Agent],
) -> &'static str {
    let claimed: usize = votes.iter().map(|(_, v)| v).sum();
    let generic = agents
        .iter()
        .map(|a| a.info().log_type)
        .find(|&t| t == GENERIC_LOG_TYPE);
    if let Some(generic) = generic.filter(|_| unclaimed > claimed) {
        return generic;
    }
    let Some(&(_, top)) = votes.iter().max_by_key(|(_, v)| *v) else {
        return WIFI_LOG_TYPE;
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

/// The log type of raw log text: each of its first lines votes for the first agent that both
/// reads it and [recognises](Agent::recognises) the record (a WiFi daemon's line votes
/// `wifi`), and the votes count as in [`detect_log_type`]. Lines every agent reads but none
/// claims (an sshd line) go to the generic agent.
pub fn detect_raw_log_type(bytes: &[u8], context: &ParseContext) -> &'static str {
    detect_raw_with(bytes, context, &registered()).unwrap_or(WIFI_LOG_TYPE)
}

/// [`detect_raw_log_type`], `None` when no agent reads any of the lines (not a log).
pub fn recognise_raw(bytes: &[u8], context: &ParseContext) -> Option<&'static str> {
    detect_raw_with(bytes, context, &registered())
}

/// [`detect_raw_log_type`] over a given list of agents.
pub(crate) fn detect_raw_with(
    bytes: &[u8],
    context: &ParseContext,
    agents: &[&'static dyn Agent],
) -> Option<&'static str> {
    let mut votes: Vec<(&'static str, usize)> = Vec::new();
    let mut unclaimed = 0usize;
    for (line, text) in crate::export::raw_lines(bytes).take(DETECT_LINES) {
        let Ok(text) = text else { continue };
        let mut parsed = false;
        let claim = agents.iter().find_map(|a| {
            let record = a.parse_line(text, line - 1, context).ok()?;
            parsed = true;
            log_type_of(&record, std::slice::from_ref(a))
        });
        match claim {
            Some(log_type) => vote(&mut votes, log_type),
            None => unclaimed += usize::from(parsed),
        }
    }
    (unclaimed > 0 || !votes.is_empty()).then(|| winner(&votes, unclaimed, agents))
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
            Some(DNS_TEST_AGENT.info().log_type)
        );
        assert_eq!(detect_raw_with(b"\xff\xfe junk", &ctx, TEST_AGENTS), None);
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
        let mut firewall = records(&["kernel", "ulogd", "kernel", "cron"]);
        firewall[0].message = Cow::Borrowed("DROP_IN IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1");
        assert_eq!(detect_with(&firewall, agents), "firewall");
        // Kernel lines that are not packet logs are any server's.
        let kernel = records(&["kernel", "kernel", "sshd"]);
        assert_eq!(detect_with(&kernel, agents), "syslog");
        let server = records(&["sshd", "cron", "systemd"]);
        assert_eq!(detect_with(&server, agents), "syslog");
        assert_eq!(detect_with(&[], agents), "wifi");
        assert_eq!(
            recognise_processes([("hostapd", 3), ("cron", 2)]),
            Some("wifi")
        );
        assert_eq!(
            recognise_processes([("dnsmasq", 3), ("hostapd", 1)]),
            Some("dns")
        );
        assert_eq!(recognise_processes([("cron", 9)]), Some("syslog"));
        assert_eq!(recognise_processes([]), None);
        // Lines no agent reads are no log at all.
        assert_eq!(
            recognise_raw(b"hello\nworld\n", &ParseContext { default_year: 2024 }),
            None
        );
        let ctx = ParseContext { default_year: 2024 };
        let auth = "Dec  3 17:50:14 web sshd[811]: Accepted publickey for root from 10.0.0.9 port 50022 ssh2\n\
                    Dec  3 17:50:15 web CRON[812]: pam_unix(cron:session): session opened for user root\n";
        assert_eq!(
            detect_raw_with(auth.as_bytes(), &ctx, agents),
            Some("syslog")
        );
        let dnsmasq = "Dec  3 17:50:14 gw dnsmasq[811]: query[A] example.org from 10.0.0.9\n";
        assert_eq!(
            detect_raw_with(dnsmasq.as_bytes(), &ctx, agents),
            Some("dns")
        );
        // ulogd's LOGEMU file: no process tag, the prefix where the tag would be.
        let logemu = "Dec  3 18:14:10 vm DROP_IN  IN=eth0 OUT= SRC=10.200.0.66 DST=10.200.0.1 LEN=44 PROTO=TCP SPT=40000 DPT=22 SYN \n";
        assert_eq!(
            detect_raw_with(logemu.as_bytes(), &ctx, agents),
            Some("firewall")
        );
        let ulogd_json = r#"{"timestamp": "2026-12-03T18:14:10.267105", "dvc": "Netfilter", "oob.prefix": "DROP_IN ", "oob.in": "eth0", "oob.out": "", "src_ip": "10.200.0.66", "dest_ip": "10.200.0.1", "ip.protocol": 6, "src_port": 40000, "dest_port": 22}"#;
        assert_eq!(
            detect_raw_with(ulogd_json.as_bytes(), &ctx, agents),
            Some("firewall")
        );
    }
}
