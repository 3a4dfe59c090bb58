use super::*;

fn flags(message: &str) -> [bool; 6] {
    let f = event_flags(message);
    [
        CONNECTION,
        AUTH,
        ERROR,
        DEAUTH,
        AUTH_FAILURE,
        HANDSHAKE_TIMEOUT,
    ]
    .map(|bit| f & bit != 0)
}

fn stats(message: &str) -> TextStats {
    TextStats::of(message, &mut Vec::new())
}

#[test]
fn connection_keywords_any_case() {
    for message in [
        "wlan0: AP-STA-CONNECTED 00:11:22:33:44:55",
        "wlan0: ap-sta-disconnected 00:11:22:33:44:55",
        "nl80211: sta-assoc event",
        "STA-DISASSOC received",
    ] {
        assert!(flags(message)[0], "{message}");
    }
    assert!(!flags("wlan0: STA 00:11:22:33:44:55 IEEE 802.11: associated")[0]);
}

#[test]
fn auth_keywords_are_plain_substrings() {
    for message in [
        "IEEE 802.11: authenticated",
        "Authentication OK",
        "user LOGIN ok",
        "logout",
        // Kept from the predecessor: a substring match, so these are auth events too.
        "STA 00:11:22:33:44:55 deauthenticated due to local deauth request",
        "unauthorized client",
    ] {
        assert!(flags(message)[1], "{message}");
    }
    assert!(!flags("wlan0: AP-STA-CONNECTED")[1]);
}

#[test]
fn error_keywords() {
    for message in [
        "ERROR: x",
        "handshake failed",
        "Access DENIED",
        "assoc rejected",
    ] {
        assert!(flags(message)[2], "{message}");
    }
    assert!(!flags("all fine")[2]);
    assert!(!flags("err: not a full keyword")[2]);
}

#[test]
fn security_keywords() {
    let deauth = flags("wlan0: STA aa:bb:cc:dd:ee:ff IEEE 802.11: deauthenticated");
    assert!(deauth[3] && deauth[1] && !deauth[4]);
    assert!(flags("STA-DISASSOC")[3] && flags("STA-DISASSOC")[0]);
    assert!(flags("Disassociation from ap")[3]);

    for message in [
        "WPA: PSK-MISMATCH",
        "authentication failure for user",
        "AUTHENTICATION FAILURE",
        "station not allowed to connect",
    ] {
        assert!(flags(message)[4], "{message}");
    }
    assert!(!flags("authentication ok, allowed")[4]);
}

#[test]
fn handshake_timeout_keywords() {
    for message in [
        "WPA: EAPOL-Key timeout",
        "WPA: 4-Way Handshake timeout",
        "group handshake timeout",
        "event GROUP_KEY_HANDSHAKE_TIMEOUT",
        "EAPOL-Key retry limit reached",
        "retry limit (4) was reached",
    ] {
        assert!(flags(message)[5], "{message}");
    }
    for message in [
        "reached the retry limit",
        "retry limit",
        "reached",
        "handshake ok",
        "",
    ] {
        assert!(!flags(message)[5], "{message}");
    }
}

#[test]
fn mac_whole_matches() {
    assert_eq!(mac_count("AP-STA-CONNECTED 00:11:22:33:44:55"), 1);
    assert_eq!(mac_count("00:11:22:33:44:55 at start"), 1);
    assert_eq!(mac_count("at end 00:11:22:33:44:55"), 1);
    assert_eq!(mac_count("00:11:22:33:44:55"), 1);
    assert_eq!(mac_count("AA-BB-CC-DD-EE-FF"), 1);
    assert_eq!(mac_count("aa:bb:cc:dd:ee:ff and 00-11-22-33-44-55"), 2);
    assert_eq!(mac_count("(00:11:22:33:44:55),[66:77:88:99:aa:bb]"), 2);
    assert_eq!(mac_count("ümlaut 00:11:22:33:44:55 ünd"), 1);
    // Seven groups is not a MAC address, neither at its start nor at its end.
    assert_eq!(mac_count("00:11:22:33:44:55:66"), 0);
    assert_eq!(mac_count("00-11-22-33-44-55-66"), 0);
    assert_eq!(mac_count("00:11:22:33:44:55-66"), 0);
    // Mixed separators.
    assert_eq!(mac_count("00:11-22:33:44:55"), 0);
    assert_eq!(mac_count("00-11:22:33:44:55"), 0);
    // Hex digits glued on either side.
    assert_eq!(mac_count("a00:11:22:33:44:55"), 0);
    assert_eq!(mac_count("00:11:22:33:44:55f"), 0);
    assert_eq!(mac_count("a:00:11:22:33:44:55"), 0);
    // A non-hex neighbour is fine, and so is a lone ":h" after.
    assert_eq!(mac_count("x00:11:22:33:44:55y"), 1);
    assert_eq!(mac_count("sta=00:11:22:33:44:55:"), 1);
    assert_eq!(mac_count("00:11:22:33:44:55:6"), 1);
    assert_eq!(mac_count("00:11:22:33:44"), 0);
    assert_eq!(mac_count("0:11:22:33:44:55"), 0);
    assert_eq!(mac_count("00:11:22:33:44:5g"), 0);
    assert_eq!(mac_count(""), 0);
}

#[test]
fn mac_value_ignores_case_and_separator() {
    let mut macs = Vec::new();
    for_each_mac(
        "AA:bb:CC:dd:EE:ff aa-bb-cc-dd-ee-ff 00:00:00:00:00:01",
        |m| macs.push(m),
    );
    assert_eq!(macs, [0xaabb_ccdd_eeff, 0xaabb_ccdd_eeff, 1]);
}

#[test]
fn ipv4_whole_matches() {
    assert_eq!(ip_count("from 192.168.1.100 port 5"), 1);
    assert_eq!(ip_count("10.0.0.1"), 1);
    assert_eq!(ip_count("10.0.0.1 -> 10.0.0.255."), 2);
    assert_eq!(ip_count("255.255.255.255"), 1);
    assert_eq!(ip_count("010.001.0.1"), 1);
    assert_eq!(ip_count("ip=1.2.3.4,gw=1.2.3.1"), 2);
    assert_eq!(ip_count("256.1.1.1"), 0);
    assert_eq!(ip_count("1.1.1.256"), 0);
    assert_eq!(ip_count("1.2.3.4.5"), 0);
    assert_eq!(ip_count("1.2.3"), 0);
    assert_eq!(ip_count("1234.1.1.1"), 0);
    assert_eq!(ip_count("1.1.1.1234"), 0);
    assert_eq!(ip_count("v1.2.3.4"), 1);
    assert_eq!(ip_count("1..2.3.4"), 0);
    assert_eq!(ip_count("ü1.2.3.4ü"), 1);
    assert_eq!(ip_count(""), 0);
}

#[test]
fn text_stats_ascii() {
    let s = stats("wlan0: AP-STA-CONNECTED 00:11:22:33:44:55");
    assert_eq!(s.chars, 41);
    assert_eq!(s.words, 3);
    // ':' x6 and '-' x2.
    assert_eq!(s.special, 8);
    assert_eq!(s.uppercase, 14);
    // "0" in wlan0, then 00 11 22 33 44 55.
    assert_eq!(s.numbers, 7);
    assert_eq!(stats("aaa").unique, 1);
    assert_eq!(stats("aAbB 1").unique, 6);
    assert_eq!(stats("  two\twords\n").words, 2);
    assert_eq!(
        stats("a\x0bb\x1cc").words,
        3,
        "\\x0b and \\x1c split like Python"
    );
    assert_eq!(stats("ABcd").uppercase_ratio(), 0.5);
    assert_eq!(stats("12a345 6").numbers, 3);
}

#[test]
fn text_stats_empty_message() {
    let s = stats("");
    assert_eq!(s, TextStats::default());
    assert_eq!(s.uppercase_ratio(), 0.0);
    assert_eq!(char_count(""), 0);
}

#[test]
fn text_stats_non_ascii() {
    let message = "Ärger: ÉCHEC für Gerät 5 — 東京 ü ü";
    let s = stats(message);
    assert_eq!(s.chars, message.chars().count());
    assert_eq!(s.chars, 33);
    assert_eq!(char_count(message), 33);
    assert_eq!(s.words, 9);
    // ':' and '—'.
    assert_eq!(s.special, 2);
    // Ä, É, C, H, E, C, G.
    assert_eq!(s.uppercase, 7);
    assert_eq!(s.numbers, 1);
    let distinct: std::collections::BTreeSet<char> = message.chars().collect();
    assert_eq!(s.unique, distinct.len());
    // No-break space and ideographic space are whitespace; '٣' is alphanumeric, not a digit.
    let s = stats("a\u{a0}b\u{3000}c ٣");
    assert_eq!((s.words, s.special, s.numbers), (4, 0, 0));
}

#[test]
fn scratch_buffer_is_left_empty() {
    let mut scratch = Vec::new();
    TextStats::of("ééé", &mut scratch);
    assert!(scratch.is_empty());
    assert_eq!(TextStats::of("éèé", &mut scratch).unique, 2);
}

/// The fast paths against plain reference implementations, on arbitrary messages.
mod properties {
    use proptest::prelude::*;

    use super::super::*;

    /// Plain references, one obvious loop or search each.
    fn naive_flags(message: &str) -> u8 {
        let lower = message.to_ascii_lowercase();
        let any = |keywords: &[&str]| keywords.iter().any(|k| lower.contains(k));
        let mut flags = 0;
        for (on, bit) in [
            (
                any(&[
                    "ap-sta-connected",
                    "ap-sta-disconnected",
                    "sta-assoc",
                    "sta-disassoc",
                ]),
                CONNECTION,
            ),
            (any(&["auth", "authentication", "login", "logout"]), AUTH),
            (any(&["error", "failed", "denied", "rejected"]), ERROR),
            (any(&["deauth", "disassoc"]), DEAUTH),
            (
                any(&["psk-mismatch", "authentication failure", "not allowed"]),
                AUTH_FAILURE,
            ),
            (
                any(&[
                    "eapol-key timeout",
                    "handshake timeout",
                    "handshake_timeout",
                ]) || lower
                    .find("retry limit")
                    .is_some_and(|at| lower[at + "retry limit".len()..].contains("reached")),
                HANDSHAKE_TIMEOUT,
            ),
        ] {
            if on {
                flags |= bit;
            }
        }
        flags
    }

    fn naive_stats(message: &str) -> TextStats {
        let chars: Vec<char> = message.chars().collect();
        let mut numbers = 0;
        let mut prev_digit = false;
        for &c in &chars {
            if c.is_ascii_digit() && !prev_digit {
                numbers += 1;
            }
            prev_digit = c.is_ascii_digit();
        }
        TextStats {
            chars: chars.len(),
            words: message.split(is_space).filter(|w| !w.is_empty()).count(),
            special: chars
                .iter()
                .filter(|c| !c.is_alphanumeric() && !is_space(**c))
                .count(),
            uppercase: chars.iter().filter(|c| c.is_uppercase()).count(),
            numbers,
            unique: chars.iter().collect::<std::collections::HashSet<_>>().len(),
        }
    }

    const FRAGMENTS: [&str; 22] = [
        "AUTH",
        "entication",
        " failure",
        "deauth",
        "DisAssoc",
        "sta-",
        "AP-",
        "connected",
        "retry limit",
        "reached",
        "Handshake",
        " ",
        "_",
        "timeout",
        "EAPOL-Key",
        "psk-mismatch",
        "not allowed",
        "Error",
        "ü",
        "Ö",
        "12",
        "\t",
    ];

    proptest! {
        #[test]
        fn keyword_flags_match_plain_substring_search(
            fragments in prop::collection::vec(0..FRAGMENTS.len(), 0..10),
        ) {
            let message: String = fragments.iter().map(|&f| FRAGMENTS[f]).collect();
            prop_assert_eq!(event_flags(&message), naive_flags(&message), "{:?}", message);
        }

        #[test]
        fn text_stats_match_a_char_by_char_reference(message in "\\PC{0,40}|[\\x00-\\x7f]{0,100}|[ -~]{0,40}") {
            let stats = TextStats::of(&message, &mut Vec::new());
            prop_assert_eq!(stats, naive_stats(&message));
            prop_assert_eq!(char_count(&message), stats.chars);
        }
    }
}
