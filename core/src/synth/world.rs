//! The simulated network: access points, a gateway, and a fixed pool of known clients.
//!
//! Everything here is drawn once from the seeded RNG before the first record, so the same seed
//! always describes the same site. MAC addresses are built so that the known pool and the
//! "never seen" addresses of attacks can never collide: the low 24 bits come from a bijection of
//! a counter (clients take counters `0..clients`, attack addresses take the counters after).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::time::MICROS_PER_DAY;

/// The SSID every access point serves.
pub(crate) const SSID: &str = "mcp-office";

/// Access-point radios: `wlan0` is 2.4 GHz, `wlan1` is 5 GHz.
pub(crate) const RADIO_IFACES: [&str; 2] = ["wlan0", "wlan1"];

const FREQ_24: [u16; 3] = [2412, 2437, 2462];
const FREQ_5: [u16; 4] = [5180, 5220, 5745, 5785];

/// Vendor OUIs of OpenWrt-class access points (TP-Link, GL.iNet, Ubiquiti, Netgear).
const AP_OUIS: [u32; 4] = [0x60e327, 0x9483c4, 0xf09fc2, 0x9c3dcf];
const APPLE_OUIS: [u32; 4] = [0x3c22fb, 0xf01898, 0xacbc32, 0x8c8590];
const INTEL_OUIS: [u32; 3] = [0xa434d9, 0x8c8d28, 0xf894c2];
const RPI_OUIS: [u32; 3] = [0xdca632, 0xb827eb, 0xe45f01];
const ESPRESSIF_OUIS: [u32; 3] = [0x240ac4, 0x84cca8, 0xa4cf12];
const HP_OUIS: [u32; 2] = [0x3c5282, 0x705a0f];

/// First names for DHCP host names ("Annas-iPhone").
const NAMES: [&str; 24] = [
    "Anna", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kofi", "Lena",
    "Mo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik", "Wen", "Zoe",
];

/// What kind of device a client is; decides its MAC, host name and whether it ships logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    IPhone,
    Android,
    MacBook,
    WindowsLaptop,
    LinuxLaptop,
    RaspberryPi,
    Esp32,
    Printer,
}

impl ClientKind {
    /// Relative shares of each kind in the client pool.
    const SHARES: [(ClientKind, u32); 8] = [
        (ClientKind::IPhone, 25),
        (ClientKind::Android, 22),
        (ClientKind::MacBook, 12),
        (ClientKind::WindowsLaptop, 15),
        (ClientKind::LinuxLaptop, 8),
        (ClientKind::RaspberryPi, 8),
        (ClientKind::Esp32, 6),
        (ClientKind::Printer, 4),
    ];

    fn draw(rng: &mut ChaCha8Rng) -> ClientKind {
        let total: u32 = Self::SHARES.iter().map(|&(_, w)| w).sum();
        let mut pick = rng.gen_range(0..total);
        for &(kind, weight) in &Self::SHARES {
            if pick < weight {
                return kind;
            }
            pick -= weight;
        }
        ClientKind::IPhone
    }

    /// Linux laptops and Raspberry Pis run wpa_supplicant and ship its log with the APs' logs.
    pub(crate) fn reports_logs(self) -> bool {
        matches!(self, ClientKind::LinuxLaptop | ClientKind::RaspberryPi)
    }

    /// The client's wireless interface as its own logs name it.
    pub(crate) fn iface(self) -> &'static str {
        match self {
            ClientKind::LinuxLaptop => "wlp2s0",
            _ => "wlan0",
        }
    }

    /// Whether the device only has a 2.4 GHz radio.
    fn only_24ghz(self) -> bool {
        matches!(self, ClientKind::Esp32 | ClientKind::Printer)
    }
}

/// One access point (device `ap-NN`), with two radios.
#[derive(Debug, Clone)]
pub(crate) struct AccessPoint {
    /// BSSID per radio (`wlan0`, `wlan1`), 48-bit.
    pub bssid: [u64; 2],
    /// Channel frequency per radio, MHz.
    pub freq: [u16; 2],
    /// Whether hostapd logs RADIUS accounting starts.
    pub accounting: bool,
    /// Whether hostapd runs with `-d` (logs 4-way handshake steps and probe frames).
    pub debug: bool,
    /// Boot instant, for kernel uptime stamps.
    pub boot_micros: i64,
}

/// One known client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub mac: u64,
    pub kind: ClientKind,
    pub home_ap: u16,
    /// Preferred radio: 0 = 2.4 GHz, 1 = 5 GHz.
    pub radio: u8,
    /// Index into [`NAMES`] for host names.
    pub name: u8,
}

/// The whole site.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub aps: Vec<AccessPoint>,
    pub clients: Vec<Client>,
    pub gateway_boot_micros: i64,
    /// Start of the export's span.
    pub start_micros: i64,
    /// Key of the 24-bit MAC bijection (depends on the seed).
    mac_key: u32,
}

/// A bijection on 24-bit values: xor, multiply by an odd constant, xor.
fn permute24(x: u32, key: u32) -> u32 {
    let y = (x ^ key) & 0x00ff_ffff;
    let y = y.wrapping_mul(0x005b_d1e9) & 0x00ff_ffff;
    y ^ ((key >> 8) & 0x00ff_ffff)
}

/// A random locally administered (randomised, "private address") 24-bit prefix.
fn random_local_prefix(rng: &mut ChaCha8Rng) -> u32 {
    let p = rng.gen_range(0..0x0100_0000u32);
    // First octet: locally administered bit set, multicast bit clear.
    (p & 0x00fc_ffff) | 0x0002_0000
}

fn pick(rng: &mut ChaCha8Rng, ouis: &[u32]) -> u32 {
    ouis[rng.gen_range(0..ouis.len() as u32) as usize]
}

/// The boot instant of a device, between 2 hours and 40 days before the span starts.
fn boot_before(rng: &mut ChaCha8Rng, start_micros: i64) -> i64 {
    let ago = rng.gen_range(7_200_000_000..40 * MICROS_PER_DAY as u64);
    start_micros - ago as i64
}

impl World {
    pub(crate) fn new(
        rng: &mut ChaCha8Rng,
        access_points: usize,
        clients: usize,
        start_micros: i64,
    ) -> World {
        let mac_key = rng.gen_range(0..u32::MAX);
        let aps = (0..access_points)
            .map(|i| {
                let base = (u64::from(pick(rng, &AP_OUIS)) << 24)
                    | u64::from(rng.gen_range(0..0x00ff_fff0u32) & !0xf);
                AccessPoint {
                    bssid: [base, base | 1],
                    freq: [FREQ_24[i % FREQ_24.len()], FREQ_5[i % FREQ_5.len()]],
                    accounting: i % 2 == 0,
                    debug: i == 0,
                    boot_micros: boot_before(rng, start_micros),
                }
            })
            .collect();
        let gateway_boot_micros = boot_before(rng, start_micros);
        let n_aps = access_points.max(1) as u32;
        let clients = (0..clients)
            .map(|i| {
                let kind = ClientKind::draw(rng);
                let prefix = match kind {
                    ClientKind::IPhone | ClientKind::Android => random_local_prefix(rng),
                    ClientKind::MacBook => pick(rng, &APPLE_OUIS),
                    ClientKind::WindowsLaptop | ClientKind::LinuxLaptop => pick(rng, &INTEL_OUIS),
                    ClientKind::RaspberryPi => pick(rng, &RPI_OUIS),
                    ClientKind::Esp32 => pick(rng, &ESPRESSIF_OUIS),
                    ClientKind::Printer => pick(rng, &HP_OUIS),
                };
                let mac = (u64::from(prefix) << 24) | u64::from(permute24(i as u32, mac_key));
                let radio = if kind.only_24ghz() || rng.gen_range(0..100u32) < 35 {
                    0
                } else {
                    1
                };
                Client {
                    mac,
                    kind,
                    home_ap: rng.gen_range(0..n_aps) as u16,
                    radio,
                    name: rng.gen_range(0..NAMES.len() as u32) as u8,
                }
            })
            .collect();
        World {
            aps,
            clients,
            gateway_boot_micros,
            start_micros,
            mac_key,
        }
    }

    /// A MAC address that no known client has: the `n`-th fresh one (random private address).
    pub(crate) fn fresh_mac(&self, rng: &mut ChaCha8Rng, n: u32) -> u64 {
        let counter = (self.clients.len() as u32).wrapping_add(n) & 0x00ff_ffff;
        (u64::from(random_local_prefix(rng)) << 24) | u64::from(permute24(counter, self.mac_key))
    }

    /// Whether `mac` belongs to the known client pool.
    #[cfg(test)]
    pub(crate) fn is_known_mac(&self, mac: u64) -> bool {
        self.clients.iter().any(|c| c.mac == mac)
    }
}

/// The DHCP address of client `n` (fresh addresses continue after the pool): 10.20.x.y.
pub(crate) fn client_ip(n: u32) -> u32 {
    ((10u32 << 24) | (20 << 16))
        .wrapping_add(10)
        .wrapping_add(n)
}

/// Host name a client sends in its DHCP request (used in `DHCPACK` lines and as its device id).
pub(crate) fn push_hostname(out: &mut Vec<u8>, client: &Client, index: u32) {
    let name = NAMES[usize::from(client.name) % NAMES.len()];
    let low = client.mac & 0x00ff_ffff;
    match client.kind {
        ClientKind::IPhone => {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"s-iPhone");
        }
        ClientKind::MacBook => {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"s-MBP");
        }
        ClientKind::Android => {
            out.extend_from_slice(b"android-");
            push_hex_lower(out, client.mac.wrapping_mul(0x9e37_79b9_7f4a_7c15), 16);
        }
        ClientKind::WindowsLaptop => {
            out.extend_from_slice(b"DESKTOP-");
            let mut h = client.mac.wrapping_mul(0xd6e8_feb8_6659_fd93);
            for _ in 0..7 {
                let d = (h % 36) as u8;
                out.push(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                h /= 36;
            }
        }
        ClientKind::LinuxLaptop => {
            for b in name.bytes() {
                out.push(b.to_ascii_lowercase());
            }
            out.extend_from_slice(b"-thinkpad-");
            push_u64(out, u64::from(index));
        }
        ClientKind::RaspberryPi => {
            out.extend_from_slice(b"pi-sensor-");
            push_u64(out, u64::from(index));
        }
        ClientKind::Esp32 => {
            out.extend_from_slice(b"ESP_");
            push_hex_upper(out, low, 6);
        }
        ClientKind::Printer => {
            out.extend_from_slice(b"HP");
            push_hex_upper(out, low, 6);
        }
    }
}

/// Host name of a fresh (never seen) device: randomised phones say `android-…` or nothing useful.
pub(crate) fn push_fresh_hostname(out: &mut Vec<u8>, mac: u64) {
    out.extend_from_slice(b"android-");
    push_hex_lower(out, mac.wrapping_mul(0x9e37_79b9_7f4a_7c15), 16);
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// `aa:bb:cc:dd:ee:ff`.
pub(crate) fn push_mac(out: &mut Vec<u8>, mac: u64) {
    for i in (0..6).rev() {
        let byte = (mac >> (i * 8)) as u8;
        out.push(HEX_LOWER[usize::from(byte >> 4)]);
        out.push(HEX_LOWER[usize::from(byte & 0xf)]);
        if i != 0 {
            out.push(b':');
        }
    }
}

/// Dotted-quad IPv4.
pub(crate) fn push_ip(out: &mut Vec<u8>, ip: u32) {
    for (i, shift) in [24, 16, 8, 0].into_iter().enumerate() {
        if i != 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from((ip >> shift) & 0xff));
    }
}

/// The low `digits` hex digits of `v`, lower case.
pub(crate) fn push_hex_lower(out: &mut Vec<u8>, v: u64, digits: u32) {
    for i in (0..digits).rev() {
        out.push(HEX_LOWER[((v >> (i * 4)) & 0xf) as usize]);
    }
}

/// The low `digits` hex digits of `v`, upper case.
pub(crate) fn push_hex_upper(out: &mut Vec<u8>, v: u64, digits: u32) {
    for i in (0..digits).rev() {
        out.push(HEX_UPPER[((v >> (i * 4)) & 0xf) as usize]);
    }
}

/// Decimal digits of `v`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Decimal `v`, zero-padded to `width` digits.
pub(crate) fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = (buf.len() - width.min(20)).min(i);
    out.extend_from_slice(&buf[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn known_and_fresh_macs_never_collide() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let world = World::new(&mut rng, 4, 500, 0);
        let mut seen: Vec<u64> = world.clients.iter().map(|c| c.mac).collect();
        for n in 0..5000 {
            seen.push(world.fresh_mac(&mut rng, n));
        }
        let lows: Vec<u64> = seen.iter().map(|m| m & 0xff_ffff).collect();
        let mut sorted = lows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), lows.len(), "low 24 bits are unique");
        for mac in &seen {
            assert!(*mac < 1 << 48);
        }
    }

    #[test]
    fn formats_addresses() {
        let mut out = Vec::new();
        push_mac(&mut out, 0x02_1a_47_9a_d3_b7);
        out.push(b' ');
        push_ip(&mut out, client_ip(3));
        out.push(b' ');
        push_padded(&mut out, 42, 6);
        out.push(b' ');
        push_padded(&mut out, 1_234_567, 6);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "02:1a:47:9a:d3:b7 10.20.0.13 000042 1234567"
        );
    }
}
