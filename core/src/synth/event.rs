//! One pending log line, and how it reads.
//!
//! An [`Event`] is small and `Copy`: the message text is only rendered when the record is written,
//! into a reused buffer, so generation does not allocate per record. The message shapes are those
//! of real hostapd, wpa_supplicant, dnsmasq, netifd and Linux kernel logs (see
//! `data/real-wifi/`).

use crate::export::LogLevel;

use super::world::{
    client_ip, push_fresh_hostname, push_hex_upper, push_hostname, push_ip, push_mac, push_padded,
    push_u64, World, RADIO_IFACES, SSID,
};

/// `Event::client` of a device outside the known pool.
pub(crate) const FRESH: u32 = u32::MAX;
/// `Event::incident` of normal traffic.
pub(crate) const NO_INCIDENT: u32 = u32::MAX;

/// What a line says. AP-side lines (`Ap…`) come from hostapd on `ap-NN`, `Sup…` from
/// wpa_supplicant on a client that ships its logs, `Dhcp…`/`Dns…`/`Netifd…` from the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    // Joining.
    SupTryAuth,
    ApAuthenticated,
    SupTryAssoc,
    ApAssociated,
    SupAssociated,
    ApSend1of4,
    ApRecv2of4,
    ApSend3of4,
    ApRecv4of4,
    ApPairwiseDone,
    ApStaConnected,
    ApAccountingStart,
    ApHandshakeCompleted,
    SupKeyNegotiated,
    SupConnected,
    DhcpDiscover,
    DhcpOffer,
    DhcpRequest,
    DhcpAck,
    DhcpRelease,
    // Ordinary failures.
    ApPskMismatch,
    SupWrongKey,
    SupTempDisabled,
    ApEapolTimeout,
    // Leaving.
    SupDisconnected,
    ApDisassociated,
    ApStaDisconnected,
    ApDisassocInactivity,
    ApDeauthInactivity,
    ApMissingAcks,
    // During a session.
    ApGroupRekey,
    SupGroupRekey,
    SupSignalChange,
    SupScanStarted,
    SupScanResults,
    // Background noise.
    ApProbeRequest,
    NetifdRenew,
    NetifdLease,
    DnsReadResolv,
    DnsNameserver,
    KernelOwnAddress,
    KernelMcuTimeout,
    KernelKeyRemoveFailed,
    KernelConntrackFull,
    ApIfaceState,
    ApDisabled,
    ApEnabled,
    KernelBridgePort,
    NetifdLink,
    // Mostly seen in attacks, but plain hostapd/kernel lines all the same.
    ApDeauthNotice,
    ApDeauthenticated,
    ApDeauthLocal,
    ApInvalidMic,
    ApUseEapolTimeout,
    ApRetryLimit,
    ApGroupHandshakeFailed,
    ApAuthDisconnect,
    ClientKernelDeauthFrom,
}

/// Which device wrote the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Device {
    Ap(u16),
    Gateway,
    Client(u32),
}

/// Everything about a line except its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineMeta {
    pub process: &'static str,
    pub level: LogLevel,
    pub event_type: &'static str,
    pub device: Device,
}

/// One log record waiting to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    /// Microseconds since the epoch.
    pub time: i64,
    pub msg: Msg,
    pub ap: u16,
    /// 0 = `wlan0` (2.4 GHz), 1 = `wlan1` (5 GHz).
    pub radio: u8,
    /// Known-client index, or [`FRESH`].
    pub client: u32,
    /// The station the line is about.
    pub mac: u64,
    /// Per-message number: association id, IP address, reason code, retry counter…
    pub arg: u32,
    /// Incident index, or [`NO_INCIDENT`].
    pub incident: u32,
}

impl Event {
    pub(crate) fn is_anomaly(&self) -> bool {
        self.incident != NO_INCIDENT
    }
}

const GATEWAY_WAN_PID: u32 = 1790;

/// IEEE 802.11 reason names as the Linux kernel prints them.
fn reason_name(code: u32) -> &'static str {
    match code {
        2 => "PREV_AUTH_NOT_VALID",
        3 => "DEAUTH_LEAVING",
        7 => "CLASS3_FRAME_FROM_NONASSOC_STA",
        15 => "4WAY_HANDSHAKE_TIMEOUT",
        16 => "GROUP_KEY_HANDSHAKE_TIMEOUT",
        _ => "UNSPECIFIED",
    }
}

fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `[ 1234.567890] ` — printk's uptime stamp.
fn push_uptime(out: &mut Vec<u8>, micros: i64) {
    let micros = micros.max(0) as u64;
    let secs = micros / 1_000_000;
    out.push(b'[');
    let mut digits = 1;
    let mut v = secs;
    while v >= 10 {
        v /= 10;
        digits += 1;
    }
    for _ in digits..5 {
        out.push(b' ');
    }
    push_u64(out, secs);
    out.push(b'.');
    push_padded(out, micros % 1_000_000, 6);
    out.extend_from_slice(b"] ");
}

/// Renders `ev`'s message into `out` (cleared first) and returns the rest of the line.
pub(crate) fn render(ev: &Event, world: &World, out: &mut Vec<u8>) -> LineMeta {
    use LogLevel::{Debug, Error, Info, Warning};
    out.clear();
    let ap = usize::from(ev.ap) % world.aps.len().max(1);
    let radio = usize::from(ev.radio & 1);
    let (bssid, freq, ap_boot) = match world.aps.get(ap) {
        Some(a) => (a.bssid[radio], a.freq[radio], a.boot_micros),
        None => (0, 2412, world.start_micros),
    };
    let client = world.clients.get(ev.client as usize);
    let sup_iface = client.map_or("wlan0", |c| c.kind.iface());
    let iface = RADIO_IFACES[radio];

    let hostapd = |level, event_type| LineMeta {
        process: "hostapd",
        level,
        event_type,
        device: Device::Ap(ev.ap),
    };
    let supplicant = |level, event_type| LineMeta {
        process: "wpa_supplicant",
        level,
        event_type,
        device: Device::Client(ev.client),
    };
    let dhcp = |level| LineMeta {
        process: "dnsmasq-dhcp",
        level,
        event_type: "dhcp",
        device: Device::Gateway,
    };
    // "wlan0: STA aa:bb:… " — the prefix of most hostapd station lines.
    let sta = |out: &mut Vec<u8>| {
        out.extend_from_slice(iface.as_bytes());
        out.extend_from_slice(b": STA ");
        push_mac(out, ev.mac);
        out.push(b' ');
    };
    let sup = |out: &mut Vec<u8>| {
        out.extend_from_slice(sup_iface.as_bytes());
        out.extend_from_slice(b": ");
    };
    let ap_event = |out: &mut Vec<u8>, name: &[u8]| {
        out.extend_from_slice(iface.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(name);
        out.push(b' ');
        push_mac(out, ev.mac);
    };
    let ssid_freq = |out: &mut Vec<u8>| {
        out.extend_from_slice(b" (SSID='");
        out.extend_from_slice(SSID.as_bytes());
        out.extend_from_slice(b"' freq=");
        push_u64(out, u64::from(freq));
        out.extend_from_slice(b" MHz)");
    };
    let hostname = |out: &mut Vec<u8>| match client {
        Some(c) => push_hostname(out, c, ev.client),
        None => push_fresh_hostname(out, ev.mac),
    };

    match ev.msg {
        Msg::SupTryAuth => {
            sup(out);
            out.extend_from_slice(b"SME: Trying to authenticate with ");
            push_mac(out, bssid);
            ssid_freq(out);
            supplicant(Info, "authentication")
        }
        Msg::ApAuthenticated => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: authenticated");
            hostapd(Info, "authentication")
        }
        Msg::SupTryAssoc => {
            sup(out);
            out.extend_from_slice(b"Trying to associate with ");
            push_mac(out, bssid);
            ssid_freq(out);
            supplicant(Info, "association")
        }
        Msg::ApAssociated => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: associated (aid ");
            push_u64(out, u64::from(ev.arg));
            out.push(b')');
            hostapd(Info, "association")
        }
        Msg::SupAssociated => {
            sup(out);
            out.extend_from_slice(b"Associated with ");
            push_mac(out, bssid);
            supplicant(Info, "association")
        }
        Msg::ApSend1of4 => {
            sta(out);
            out.extend_from_slice(b"WPA: sending 1/4 msg of 4-Way Handshake");
            hostapd(Debug, "key_exchange")
        }
        Msg::ApRecv2of4 => {
            sta(out);
            out.extend_from_slice(b"WPA: received EAPOL-Key frame (2/4 Pairwise)");
            hostapd(Debug, "key_exchange")
        }
        Msg::ApSend3of4 => {
            sta(out);
            out.extend_from_slice(b"WPA: sending 3/4 msg of 4-Way Handshake");
            hostapd(Debug, "key_exchange")
        }
        Msg::ApRecv4of4 => {
            sta(out);
            out.extend_from_slice(b"WPA: received EAPOL-Key frame (4/4 Pairwise)");
            hostapd(Debug, "key_exchange")
        }
        Msg::ApPairwiseDone => {
            sta(out);
            out.extend_from_slice(b"WPA: pairwise key handshake completed (RSN)");
            hostapd(Info, "key_exchange")
        }
        Msg::ApStaConnected => {
            ap_event(out, b"AP-STA-CONNECTED");
            hostapd(Info, "connection")
        }
        Msg::ApAccountingStart => {
            sta(out);
            out.extend_from_slice(b"RADIUS: starting accounting session ");
            let id = mix64(ev.time as u64 ^ ev.mac.rotate_left(17));
            push_hex_upper(out, id, 16);
            hostapd(Info, "accounting")
        }
        Msg::ApHandshakeCompleted => {
            ap_event(out, b"EAPOL-4WAY-HS-COMPLETED");
            hostapd(Info, "key_exchange")
        }
        Msg::SupKeyNegotiated => {
            sup(out);
            out.extend_from_slice(b"WPA: Key negotiation completed with ");
            push_mac(out, bssid);
            out.extend_from_slice(b" [PTK=CCMP GTK=CCMP]");
            supplicant(Info, "key_exchange")
        }
        Msg::SupConnected => {
            sup(out);
            out.extend_from_slice(b"CTRL-EVENT-CONNECTED - Connection to ");
            push_mac(out, bssid);
            out.extend_from_slice(b" completed [id=0 id_str=]");
            supplicant(Info, "connection")
        }
        Msg::DhcpDiscover => {
            out.extend_from_slice(b"DHCPDISCOVER(br-lan) ");
            push_mac(out, ev.mac);
            dhcp(Info)
        }
        Msg::DhcpOffer | Msg::DhcpRequest | Msg::DhcpAck | Msg::DhcpRelease => {
            out.extend_from_slice(match ev.msg {
                Msg::DhcpOffer => b"DHCPOFFER(br-lan) ".as_slice(),
                Msg::DhcpRequest => b"DHCPREQUEST(br-lan) ",
                Msg::DhcpAck => b"DHCPACK(br-lan) ",
                _ => b"DHCPRELEASE(br-lan) ",
            });
            push_ip(out, ev.arg);
            out.push(b' ');
            push_mac(out, ev.mac);
            if ev.msg == Msg::DhcpAck {
                out.push(b' ');
                hostname(out);
            }
            dhcp(Info)
        }
        Msg::ApPskMismatch => {
            ap_event(out, b"AP-STA-POSSIBLE-PSK-MISMATCH");
            hostapd(Warning, "auth_failure")
        }
        Msg::SupWrongKey => {
            sup(out);
            out.extend_from_slice(b"WPA: 4-Way Handshake failed - pre-shared key may be incorrect");
            supplicant(Warning, "auth_failure")
        }
        Msg::SupTempDisabled => {
            sup(out);
            out.extend_from_slice(b"CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid=\"");
            out.extend_from_slice(SSID.as_bytes());
            out.extend_from_slice(b"\" auth_failures=1 duration=10 reason=WRONG_KEY");
            supplicant(Warning, "auth_failure")
        }
        Msg::ApEapolTimeout => {
            sta(out);
            out.extend_from_slice(b"WPA: EAPOL-Key timeout");
            hostapd(Warning, "handshake_timeout")
        }
        Msg::SupDisconnected => {
            sup(out);
            out.extend_from_slice(b"CTRL-EVENT-DISCONNECTED bssid=");
            push_mac(out, bssid);
            out.extend_from_slice(b" reason=");
            push_u64(out, u64::from(ev.arg));
            if ev.arg == 3 {
                out.extend_from_slice(b" locally_generated=1");
            }
            supplicant(Warning, "disconnection")
        }
        Msg::ApDisassociated => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: disassociated");
            hostapd(Info, "disconnection")
        }
        Msg::ApStaDisconnected => {
            ap_event(out, b"AP-STA-DISCONNECTED");
            hostapd(Info, "disconnection")
        }
        Msg::ApDisassocInactivity => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: disassociated due to inactivity");
            hostapd(Info, "disconnection")
        }
        Msg::ApDeauthInactivity => {
            sta(out);
            out.extend_from_slice(
                b"IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)",
            );
            hostapd(Info, "deauthentication")
        }
        Msg::ApMissingAcks => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: disconnected due to excessive missing ACKs");
            hostapd(Info, "disconnection")
        }
        Msg::ApGroupRekey => {
            sta(out);
            out.extend_from_slice(b"WPA: group key handshake completed (RSN)");
            hostapd(Info, "key_exchange")
        }
        Msg::SupGroupRekey => {
            sup(out);
            out.extend_from_slice(b"WPA: Group rekeying completed with ");
            push_mac(out, bssid);
            out.extend_from_slice(b" [GTK=CCMP]");
            supplicant(Info, "key_exchange")
        }
        Msg::SupSignalChange => {
            sup(out);
            // arg packs: bit 31 above, bits 16..24 signal, bits 8..16 noise, bits 0..8 rate index.
            out.extend_from_slice(b"CTRL-EVENT-SIGNAL-CHANGE above=");
            push_u64(out, u64::from(ev.arg >> 31));
            out.extend_from_slice(b" signal=-");
            push_u64(out, u64::from((ev.arg >> 16) & 0xff));
            out.extend_from_slice(b" noise=-");
            push_u64(out, u64::from((ev.arg >> 8) & 0xff));
            out.extend_from_slice(b" txrate=");
            const RATES: [u32; 8] = [6500, 65000, 72200, 144400, 175500, 292500, 433300, 866700];
            push_u64(out, u64::from(RATES[(ev.arg & 7) as usize]));
            supplicant(Info, "signal")
        }
        Msg::SupScanStarted => {
            sup(out);
            out.extend_from_slice(b"CTRL-EVENT-SCAN-STARTED");
            supplicant(Debug, "scan")
        }
        Msg::SupScanResults => {
            sup(out);
            out.extend_from_slice(b"CTRL-EVENT-SCAN-RESULTS");
            supplicant(Debug, "scan")
        }
        Msg::ApProbeRequest => {
            out.extend_from_slice(b"nl80211: RX frame da=ff:ff:ff:ff:ff:ff sa=");
            push_mac(out, ev.mac);
            out.extend_from_slice(b" bssid=ff:ff:ff:ff:ff:ff freq=");
            push_u64(out, u64::from(freq));
            out.extend_from_slice(b" ssi_signal=-");
            push_u64(out, u64::from(40 + (ev.arg >> 16) % 50));
            out.extend_from_slice(b" fc=0x40 seq_ctrl=0x");
            push_hex_lower_trimmed(out, u64::from(ev.arg & 0xfff0));
            out.extend_from_slice(b" stype=4 (WLAN_FC_STYPE_PROBE_REQ)");
            hostapd(Debug, "probe")
        }
        Msg::NetifdRenew | Msg::NetifdLease => {
            out.extend_from_slice(b"wan (");
            push_u64(out, u64::from(GATEWAY_WAN_PID));
            if ev.msg == Msg::NetifdRenew {
                out.extend_from_slice(b"): udhcpc: sending renew to 203.0.113.1");
            } else {
                out.extend_from_slice(
                    b"): udhcpc: lease of 203.0.113.57 obtained, lease time 3600",
                );
            }
            LineMeta {
                process: "netifd",
                level: Info,
                event_type: "network",
                device: Device::Gateway,
            }
        }
        Msg::DnsReadResolv | Msg::DnsNameserver => {
            if ev.msg == Msg::DnsReadResolv {
                out.extend_from_slice(b"reading /tmp/resolv.conf.auto");
            } else if ev.arg == 0 {
                out.extend_from_slice(b"using nameserver 9.9.9.9#53");
            } else {
                out.extend_from_slice(b"using nameserver 149.112.112.112#53");
            }
            LineMeta {
                process: "dnsmasq",
                level: Info,
                event_type: "dns",
                device: Device::Gateway,
            }
        }
        Msg::KernelOwnAddress => {
            push_uptime(out, ev.time - ap_boot);
            out.extend_from_slice(b"br-lan: received packet on ");
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(b" with own address as source address (addr:");
            push_mac(out, bssid);
            out.extend_from_slice(b", vlan:0)");
            kernel(Warning, Device::Ap(ev.ap))
        }
        Msg::KernelMcuTimeout => {
            push_uptime(out, ev.time - ap_boot);
            out.extend_from_slice(b"mt7915e 0000:01:00.0: Message 000");
            push_hex_lower_trimmed(out, u64::from(0x20000 | (ev.arg & 0xff)));
            out.extend_from_slice(b" (seq ");
            push_u64(out, u64::from(1 + (ev.arg >> 8) % 15));
            out.extend_from_slice(b") timeout");
            kernel(Warning, Device::Ap(ev.ap))
        }
        Msg::KernelKeyRemoveFailed => {
            push_uptime(out, ev.time - ap_boot);
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(b": failed to remove key (0, ");
            push_mac(out, ev.mac);
            out.extend_from_slice(b") from hardware (-5)");
            kernel(Error, Device::Ap(ev.ap))
        }
        Msg::KernelConntrackFull => {
            push_uptime(out, ev.time - world.gateway_boot_micros);
            out.extend_from_slice(b"nf_conntrack: nf_conntrack: table full, dropping packet");
            kernel(Warning, Device::Gateway)
        }
        Msg::ApIfaceState => {
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(if ev.arg == 0 {
                b": interface state ENABLED->DISABLED".as_slice()
            } else {
                b": interface state COUNTRY_UPDATE->ENABLED"
            });
            hostapd(Info, "network")
        }
        Msg::ApDisabled | Msg::ApEnabled => {
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(if ev.msg == Msg::ApDisabled {
                b": AP-DISABLED".as_slice()
            } else {
                b": AP-ENABLED"
            });
            hostapd(Info, "network")
        }
        Msg::KernelBridgePort => {
            push_uptime(out, ev.time - ap_boot);
            // OpenWrt bridges: port 1 is the LAN switch, then the radios.
            out.extend_from_slice(b"br-lan: port ");
            push_u64(out, 2 + radio as u64);
            out.push(b'(');
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(match ev.arg {
                0 => b") entered disabled state".as_slice(),
                1 => b") entered blocking state",
                _ => b") entered forwarding state",
            });
            kernel(Info, Device::Ap(ev.ap))
        }
        Msg::NetifdLink => {
            out.extend_from_slice(b"Network device '");
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(if ev.arg == 0 {
                b"' link is down".as_slice()
            } else {
                b"' link is up"
            });
            LineMeta {
                process: "netifd",
                level: Info,
                event_type: "network",
                device: Device::Ap(ev.ap),
            }
        }
        Msg::ApDeauthNotice => {
            out.extend_from_slice(iface.as_bytes());
            out.extend_from_slice(b": deauthentication: STA=");
            push_mac(out, ev.mac);
            out.extend_from_slice(b" reason_code=");
            push_u64(out, u64::from(ev.arg));
            hostapd(Debug, "deauthentication")
        }
        Msg::ApDeauthenticated => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: deauthenticated");
            hostapd(Warning, "deauthentication")
        }
        Msg::ApDeauthLocal => {
            sta(out);
            out.extend_from_slice(b"IEEE 802.11: deauthenticated due to local deauth request");
            hostapd(Info, "deauthentication")
        }
        Msg::ApInvalidMic => {
            sta(out);
            out.extend_from_slice(b"WPA: invalid MIC in msg 2/4 of 4-Way Handshake");
            hostapd(Info, "key_exchange")
        }
        Msg::ApUseEapolTimeout => {
            out.extend_from_slice(b"WPA: Use EAPOL-Key timeout of 1000 ms (retry counter ");
            push_u64(out, u64::from(ev.arg));
            out.push(b')');
            hostapd(Debug, "handshake_timeout")
        }
        Msg::ApRetryLimit => {
            sta(out);
            out.extend_from_slice(b"WPA: PTKSTART: Retry limit 4 reached");
            hostapd(Warning, "handshake_timeout")
        }
        Msg::ApGroupHandshakeFailed => {
            sta(out);
            out.extend_from_slice(b"WPA: group key handshake failed (RSN) after 4 tries");
            hostapd(Warning, "handshake_timeout")
        }
        Msg::ApAuthDisconnect => {
            out.extend_from_slice(
                b"hostapd_wpa_auth_disconnect: WPA authenticator requests disconnect: STA ",
            );
            push_mac(out, ev.mac);
            out.extend_from_slice(b" reason ");
            push_u64(out, u64::from(ev.arg));
            hostapd(Debug, "disconnection")
        }
        Msg::ClientKernelDeauthFrom => {
            let boot = world.start_micros - (mix64(ev.mac) % (20 * 86_400_000_000)) as i64;
            push_uptime(out, ev.time - boot);
            out.extend_from_slice(sup_iface.as_bytes());
            out.extend_from_slice(b": deauthenticated from ");
            push_mac(out, bssid);
            out.extend_from_slice(b" (Reason: ");
            push_u64(out, u64::from(ev.arg));
            out.push(b'=');
            out.extend_from_slice(reason_name(ev.arg).as_bytes());
            out.push(b')');
            kernel(Info, Device::Client(ev.client))
        }
    }
}

fn kernel(level: LogLevel, device: Device) -> LineMeta {
    LineMeta {
        process: "kernel",
        level,
        event_type: "kernel",
        device,
    }
}

/// Hex without leading zeros (at least one digit).
fn push_hex_lower_trimmed(out: &mut Vec<u8>, v: u64) {
    let digits = ((64 - v.leading_zeros()).div_ceil(4)).max(1);
    super::world::push_hex_lower(out, v, digits);
}

/// The device id and IP of a line's writer.
pub(crate) fn push_device(out: &mut Vec<u8>, device: Device, world: &World, ip: bool) {
    match device {
        Device::Ap(ap) => {
            if ip {
                out.extend_from_slice(b"192.168.1.");
                push_u64(out, 101 + u64::from(ap));
            } else {
                out.extend_from_slice(b"ap-");
                push_padded(out, u64::from(ap) + 1, 2);
            }
        }
        Device::Gateway => {
            out.extend_from_slice(if ip {
                b"192.168.1.1".as_slice()
            } else {
                b"gw-01"
            });
        }
        Device::Client(index) => {
            if ip {
                push_ip(out, client_ip(index));
            } else if let Some(c) = world.clients.get(index as usize) {
                push_hostname(out, c, index);
            } else {
                out.extend_from_slice(b"unknown");
            }
        }
    }
}
