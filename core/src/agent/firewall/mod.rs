//! The `firewall` agent: netfilter packet logs as the kernel's `LOG` target / nftables `log`
//! statement and ulogd write them.
//!
//! # Lines it reads
//! - the kernel through syslog: `Dec  3 17:50:14 fw kernel: [12345.678901] DROP_IN IN=eth0 OUT=
//!   MAC=… SRC=10.0.0.5 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP
//!   SPT=40000 DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0` — the `[uptime]` stamp and the prefix
//!   are optional, the prefix may hold spaces and colons (`[UFW BLOCK]`, `nft drop:`) or be glued
//!   to `IN=` (`DROP_ININ=eth0`); UDP (`SPT DPT LEN`), ICMP (`TYPE CODE ID SEQ`, and the quoted
//!   packet of ICMP errors in `[…]`, skipped), IPv6 (`TC HOPLIMIT FLOWLBL`, `PROTO=ICMPv6`),
//!   ARP (`IPSRC`/`IPDST`) and bridge fields (`PHYSIN=`) are read;
//! - ulogd's LOGEMU file: the same text after `Dec  3 17:50:14 host ` with no tag;
//! - ulogd's JSON output, one object per line (a line starting with `{`): `timestamp` (RFC 3339,
//!   also with a `+0000` offset; else `oob.time.sec`/`oob.time.usec`), `oob.prefix`, `oob.in`,
//!   `oob.out`, `src_ip`/`dest_ip` (or `ip.saddr.str`/`ip.daddr.str`), `ip.protocol`
//!   (6/17/1/58 → TCP/UDP/ICMP/ICMPv6), `src_port`/`dest_port` (or `tcp.sport`…), `tcp.syn`,
//!   `tcp.ack`… flags, `ip.ttl`, `ip.totlen`, `icmp.type`/`icmp.code`, `mac.str`. Missing keys
//!   are fine. The record's message is the kernel's text for the same packet, so one feature
//!   path serves both; process `ulogd`, level INFO, host from `hostname` when present.
//!
//! Only `IN=` followed by `OUT=` is required of a message; lines without it are refused with the
//! column where the message starts, damaged ports (`DPT=x`) with the column of the value.
//!
//! # Action
//! Read from the prefix, case-insensitively: `DROP`, `REJECT`, `DENY` or `BLOCK` anywhere in it →
//! drop (these win); else `ACCEPT`, `ALLOW` or `PASS` → accept; else unknown (both action
//! features 0).
//!
//! # Features (`firewall-v1`, in this order)
//! Windows are trailing `[t − w, t]` and count the current packet. A source or destination is
//! its address text. Lines that are not netfilter packets get a row of zeros.
//!
//! | # | name | meaning |
//! |---|------|---------|
//! | 0 | `is_netfilter` | 1 for a netfilter packet line, else 0 (and the rest is 0) |
//! | 1 | `is_drop` | the prefix says drop/reject/deny/block |
//! | 2 | `is_accept` | the prefix says accept/allow/pass |
//! | 3 | `proto_tcp` | TCP |
//! | 4 | `proto_udp` | UDP |
//! | 5 | `proto_icmp` | ICMP or ICMPv6 |
//! | 6 | `tcp_syn` | a connection attempt: SYN without ACK |
//! | 7 | `dport_rarity` | `log2((N + 2) / (n + 1))`: N training packets, n of them to this service (protocol + destination port, or ICMP type) |
//! | 8 | `packet_len` | `LEN=` (IP length), 0 when absent |
//! | 9 | `src_packets_60s` | packets from the source in 60 s |
//! | 10 | `src_drops_60s` | of which dropped |
//! | 11 | `src_syn_60s` | of which SYNs |
//! | 12 | `src_distinct_dports_60s` | distinct services the source reached in 60 s (vertical scan) |
//! | 13 | `src_distinct_dsts_60s` | distinct destinations of the source in 60 s (horizontal scan) |
//! | 14 | `src_distinct_dports_300s` | the same over 300 s (slow scans) |
//! | 15 | `src_distinct_dsts_300s` | the same over 300 s |
//! | 16 | `src_rare_dports_300s` | the source's packets in 300 s to rare services (under 0.1 % of training, or unseen): probes of SMB, telnet, SNMP… |
//! | 17 | `dst_syn_10s` | SYNs to the destination in 10 s (SYN flood, spoofed sources) |
//! | 18 | `dst_packets_10s` | packets to the destination in 10 s |
//! | 19 | `dst_distinct_srcs_60s` | distinct sources of the destination in 60 s |
//!
//! The fitted state is the service vocabulary: packets per service in training (the 4096 most
//! frequent) and the total.
//!
//! # Memory
//! At most 16,384 sources and 16,384 destinations are tracked; idle ones (no packet within the
//! longest window) are forgotten first — which never changes a row — then, near the cap, the
//! less recently active half. Each remembers at most 512 packets, so window counts saturate at
//! 512 under floods. Addresses are keyed by a 64-bit hash, not interned.

mod features;
mod parse;
mod synth;
#[cfg(test)]
mod tests;

use std::io;

pub use features::{FittedState, FEATURES, SCHEMA};
pub use parse::{parse_message, Action, Packet};

use super::{
    Agent, AgentError, AgentInfo, Capability, FeatureState, FeatureStream, LineError, ParseContext,
    Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::Record;
use crate::synth::{SynthSummary, ValidSynthConfig};

/// The log type this agent serves.
pub const LOG_TYPE: &str = "firewall";

static INFO: AgentInfo = AgentInfo {
    name: LOG_TYPE,
    log_type: LOG_TYPE,
    description: "netfilter packet logs (iptables/nftables LOG, ulogd text and JSON): scans, SYN floods, service probes",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: SCHEMA,
    programs: &["kernel", "ulogd"],
    capabilities: &[
        Capability::RawLines,
        Capability::ExportRecords,
        Capability::StreamingFeatures,
        Capability::Synth,
    ],
    stability: Stability::Beta,
};

static SAMPLES: [&str; 6] = [
    "Dec  3 17:50:14 fw kernel: [12345.678901] DROP_IN IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=10.0.0.5 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0 ",
    "Dec  3 17:50:15 fw kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=198.51.100.7 DST=203.0.113.2 LEN=78 TOS=0x00 PREC=0x00 TTL=52 ID=0 PROTO=UDP SPT=51234 DPT=161 LEN=58 ",
    "Dec  3 17:50:16 fw kernel: nft accept: IN=eth1 OUT=eth0 SRC=10.0.1.4 DST=192.0.2.9 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=4242 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 ",
    "Dec  3 17:50:17 fw kernel: DROP_IN IN=eth0 OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=12345 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1 ",
    "Dec  3 17:50:18 fw-02 DROP_IN IN=veth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=10.200.0.2 DST=10.200.0.1 LEN=44 TOS=0x00 PREC=0x00 TTL=41 ID=999 PROTO=TCP SPT=40000 DPT=445 WINDOW=1024 RES=0x00 SYN URGP=0 ",
    r#"{"timestamp":"2026-12-03T17:50:14.123456+0000","dvc":"Netfilter","raw.pktlen":60,"oob.prefix":"DROP_IN ","oob.in":"veth0","oob.out":"","src_ip":"10.200.0.2","dest_ip":"10.200.0.1","ip.protocol":6,"src_port":40000,"dest_port":23,"tcp.syn":1,"tcp.ack":0,"ip.ttl":64,"ip.totlen":60}"#,
];

/// The `firewall` agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirewallAgent;

impl Agent for FirewallAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        include_str!("../../../../config/log_schemas/firewall.yaml")
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        &SAMPLES
    }

    /// ulogd's lines, and packet log lines (`IN=… OUT=…`) whatever their tag — the kernel's, or
    /// ulogd's LOGEMU file, where the rule's prefix stands in the tag's place. Other kernel
    /// lines are any server's.
    fn recognises(&self, record: &Record<'_>) -> bool {
        super::is_program(&record.process_name, "ulogd")
            || record.message.contains("IN=") && record.message.contains("OUT=")
    }

    fn synth(
        &self,
        config: &ValidSynthConfig,
        out: &mut dyn io::Write,
    ) -> io::Result<SynthSummary> {
        synth::write_export(config, out)
    }

    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        parse::parse_line(line, index, ctx)
    }

    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        let Ok(p) = parse_message(&record.message) else {
            return Vec::new();
        };
        let mut fields = vec![
            ("action".to_owned(), p.action().as_str().to_owned()),
            ("prefix".to_owned(), p.prefix.to_owned()),
            ("in".to_owned(), p.in_iface.to_owned()),
            ("out".to_owned(), p.out_iface.to_owned()),
            ("src".to_owned(), p.src.to_owned()),
            ("dst".to_owned(), p.dst.to_owned()),
            ("proto".to_owned(), p.proto_name.to_owned()),
        ];
        let mut opt = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                fields.push((name.to_owned(), v));
            }
        };
        opt("spt", p.spt.map(|v| v.to_string()));
        opt("dpt", p.dpt.map(|v| v.to_string()));
        opt("icmp_type", p.icmp_type.map(|v| v.to_string()));
        opt("icmp_code", p.icmp_code.map(|v| v.to_string()));
        opt("len", p.len.map(|v| v.to_string()));
        opt("ttl", p.ttl.map(|v| v.to_string()));
        let flags: Vec<&str> = parse::tcp_flags::NAMES
            .iter()
            .filter(|(bit, _)| p.flags & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        opt("tcp_flags", (!flags.is_empty()).then(|| flags.join(" ")));
        fields
    }

    fn fit(&self, records: &[Record<'_>], _config: &Config) -> Result<FeatureState, AgentError> {
        Ok(FittedState::fit(records).feature_state())
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        let fitted = FittedState::from_feature_state(state)?;
        Ok(Box::new(features::Extractor::new(&fitted)))
    }
}
