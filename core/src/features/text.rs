//! Everything read from a message: keyword flags, MAC and IPv4 addresses, character statistics.
//!
//! Each of these scans the message once, allocates nothing per message (a caller-owned scratch
//! buffer serves non-ASCII text), and never lowercases a copy: keywords go through one
//! ASCII-case-insensitive Aho-Corasick automaton, addresses through byte-level checks anchored
//! on their separators.

use std::sync::OnceLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Keyword flag: AP-STA-CONNECTED, AP-STA-DISCONNECTED, STA-ASSOC or STA-DISASSOC.
pub(crate) const CONNECTION: u8 = 1 << 0;
/// Keyword flag: AUTH (which covers AUTHENTICATION), LOGIN or LOGOUT.
pub(crate) const AUTH: u8 = 1 << 1;
/// Keyword flag: ERROR, FAILED, DENIED or REJECTED.
pub(crate) const ERROR: u8 = 1 << 2;
/// Keyword flag: deauth or disassoc.
pub(crate) const DEAUTH: u8 = 1 << 3;
/// Keyword flag: psk-mismatch, authentication failure or not allowed.
pub(crate) const AUTH_FAILURE: u8 = 1 << 4;
/// Keyword flag: eapol-key timeout, handshake timeout, handshake_timeout, or retry limit … reached.
pub(crate) const HANDSHAKE_TIMEOUT: u8 = 1 << 5;

/// What a keyword match means.
#[derive(Debug, Clone, Copy)]
enum Hit {
    /// Sets these flags.
    Flag(u8),
    /// "retry limit": a handshake timeout if "reached" comes after it.
    RetryLimit,
    /// "reached": see [`Hit::RetryLimit`].
    Reached,
}

/// All keyword patterns, matched ASCII-case-insensitively as plain substrings. Patterns that
/// contain another pattern (such as "authentication failure" containing "auth") are found
/// together because the search reports overlapping matches.
const KEYWORDS: [(&str, Hit); 21] = [
    ("ap-sta-connected", Hit::Flag(CONNECTION)),
    ("ap-sta-disconnected", Hit::Flag(CONNECTION)),
    ("sta-assoc", Hit::Flag(CONNECTION)),
    ("sta-disassoc", Hit::Flag(CONNECTION)),
    // "authentication" contains "auth", so it needs no pattern of its own. Plain substrings on
    // purpose: "deauthenticated" is an auth event, as it was for the predecessor.
    ("auth", Hit::Flag(AUTH)),
    ("login", Hit::Flag(AUTH)),
    ("logout", Hit::Flag(AUTH)),
    ("error", Hit::Flag(ERROR)),
    ("failed", Hit::Flag(ERROR)),
    ("denied", Hit::Flag(ERROR)),
    ("rejected", Hit::Flag(ERROR)),
    ("deauth", Hit::Flag(DEAUTH)),
    ("disassoc", Hit::Flag(DEAUTH)),
    ("psk-mismatch", Hit::Flag(AUTH_FAILURE)),
    ("authentication failure", Hit::Flag(AUTH_FAILURE)),
    ("not allowed", Hit::Flag(AUTH_FAILURE)),
    ("eapol-key timeout", Hit::Flag(HANDSHAKE_TIMEOUT)),
    // Covers "4-way handshake timeout" and "group handshake timeout".
    ("handshake timeout", Hit::Flag(HANDSHAKE_TIMEOUT)),
    // Covers GROUP_KEY_HANDSHAKE_TIMEOUT and friends.
    ("handshake_timeout", Hit::Flag(HANDSHAKE_TIMEOUT)),
    ("retry limit", Hit::RetryLimit),
    ("reached", Hit::Reached),
];

/// The keyword DFA and its unanchored start state.
struct KeywordAutomaton {
    dfa: DFA,
    start: StateID,
}

fn keyword_automaton() -> &'static KeywordAutomaton {
    static AUTOMATON: OnceLock<KeywordAutomaton> = OnceLock::new();
    AUTOMATON.get_or_init(|| {
        // The patterns are the constants above, not input: this always builds (a few KB of DFA).
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // The walk below is the search; a prefilter would only make start states special.
            .prefilter(false)
            .build(KEYWORDS.map(|(pattern, _)| pattern))
            .expect("the keyword automaton builds from fixed patterns");
        let start = dfa
            .start_state(Anchored::No)
            .expect("the keyword automaton supports unanchored search");
        KeywordAutomaton { dfa, start }
    })
}

/// The keyword flags of a message (a bit set of [`CONNECTION`], [`AUTH`], …), from one walk of
/// one automaton over the message.
///
/// The walk is the crate's overlapping search spelled out: with standard match semantics, the
/// state reached after each byte lists every pattern that ends there, so every occurrence of
/// every keyword is seen, including keywords inside other keywords. A hand-written loop over
/// [`Automaton::next_state`] took about a quarter less time than `find_overlapping_iter` on
/// ~100-byte messages.
pub(crate) fn event_flags(message: &str) -> u8 {
    let KeywordAutomaton { dfa, start } = keyword_automaton();
    let mut flags = 0;
    let mut first_retry_limit_end = usize::MAX;
    let mut last_reached_start = None;
    let mut sid = *start;
    for (at, &byte) in message.as_bytes().iter().enumerate() {
        sid = dfa.next_state(Anchored::No, sid, byte);
        // Without a prefilter, only match states (and the dead state, which an unanchored
        // search never reaches) are special.
        if !dfa.is_special(sid) {
            continue;
        }
        if dfa.is_dead(sid) {
            break;
        }
        let end = at + 1;
        for i in 0..dfa.match_len(sid) {
            let pattern = dfa.match_pattern(sid, i);
            match KEYWORDS.get(pattern.as_usize()).map(|k| k.1) {
                Some(Hit::Flag(bits)) => flags |= bits,
                Some(Hit::RetryLimit) => first_retry_limit_end = first_retry_limit_end.min(end),
                Some(Hit::Reached) => {
                    last_reached_start = Some(end - dfa.pattern_len(pattern));
                }
                None => {}
            }
        }
    }
    if last_reached_start.is_some_and(|start| start >= first_retry_limit_end) {
        flags |= HANDSHAKE_TIMEOUT;
    }
    flags
}

/// Value of each byte as a hex digit, or `NOT_HEX`.
const NOT_HEX: u8 = 0xff;
static HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => NOT_HEX,
        };
        b += 1;
    }
    table
};

fn is_hex(b: u8) -> bool {
    HEX_VALUE[usize::from(b)] != NOT_HEX
}

fn is_mac_separator(b: u8) -> bool {
    b == b':' || b == b'-'
}

/// Length of `hh:hh:hh:hh:hh:hh`.
const MAC_LEN: usize = 17;

/// The MAC address starting at `start`, as a 48-bit number, if the bytes there are a whole one.
fn mac_at(bytes: &[u8], start: usize) -> Option<u64> {
    let text = bytes.get(start..start.checked_add(MAC_LEN)?)?;
    let separator = text[2];
    if !is_mac_separator(separator) {
        return None;
    }
    // Part of a longer run of hex groups: "aa:" or a hex digit right before.
    if let Some(before) = start.checked_sub(1).map(|i| bytes[i]) {
        if is_hex(before) || (is_mac_separator(before) && start >= 2 && is_hex(bytes[start - 2])) {
            return None;
        }
    }
    let mut value = 0u64;
    for (group, pair) in text.chunks(3).enumerate() {
        let (hi, lo) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        if hi == NOT_HEX || lo == NOT_HEX || (group < 5 && pair[2] != separator) {
            return None;
        }
        value = value << 8 | u64::from(hi << 4 | lo);
    }
    // Part of a longer run: a hex digit or a further ":hh" / "-hh" group right after.
    let end = start + MAC_LEN;
    match bytes.get(end..).unwrap_or_default() {
        [next, ..] if is_hex(*next) => None,
        [sep, a, b, ..] if is_mac_separator(*sep) && is_hex(*a) && is_hex(*b) => None,
        _ => Some(value),
    }
}

/// Calls `found` with each whole MAC address in `message`, as a 48-bit number (so case and
/// separator do not matter), in order of appearance.
///
/// A MAC address is six groups of two hex digits separated consistently by ':' or consistently
/// by '-' (so "00:11-22:33:44:55" is none). It is not whole, and does not count, when a hex
/// digit or a separator-joined hex digit comes right before it ("a:00:11:…"), or a hex digit or
/// a further ":hh"/"-hh" group right after it: "00:11:22:33:44:55:66" holds no MAC address.
/// Either separator counts as joining. Matches are counted, not regex capture groups (the
/// predecessor counted groups).
pub(crate) fn for_each_mac(message: &str, mut found: impl FnMut(u64)) {
    let bytes = message.as_bytes();
    let mut free_from = 0;
    // Every MAC address has a separator at offset 2; look only there.
    for sep in memchr::memchr2_iter(b':', b'-', bytes) {
        let Some(start) = sep.checked_sub(2) else {
            continue;
        };
        if start < free_from {
            continue;
        }
        if let Some(mac) = mac_at(bytes, start) {
            found(mac);
            free_from = start + MAC_LEN;
        }
    }
}

/// Number of whole MAC addresses in `message` (see [`for_each_mac`]).
#[cfg(test)]
pub(crate) fn mac_count(message: &str) -> usize {
    let mut count = 0;
    for_each_mac(message, |_| count += 1);
    count
}

/// End of the run of ASCII digits starting at `start`.
fn digits_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(bytes.len(), |len| start + len)
}

/// One dotted-quad group: 1–3 digits worth 0–255.
fn is_octet(digits: &[u8]) -> bool {
    (1..=3).contains(&digits.len())
        && digits
            .iter()
            .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'))
            <= 255
}

/// End of the whole IPv4 address whose first group starts at `start`, if there is one.
fn ipv4_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    for group in 0..4 {
        let end = digits_end(bytes, at);
        if !is_octet(&bytes[at..end]) {
            return None;
        }
        if group < 3 {
            if bytes.get(end) != Some(&b'.') {
                return None;
            }
            at = end + 1;
        } else {
            at = end;
        }
    }
    // A digit cannot follow (the group took the whole run); ".digit" would make a fifth group.
    match bytes.get(at..).unwrap_or_default() {
        [b'.', d, ..] if d.is_ascii_digit() => None,
        _ => Some(at),
    }
}

/// Number of whole IPv4 addresses in `message`: four groups of 1–3 ASCII digits, each 0–255,
/// joined by '.', with no digit or "digit." right before and no digit or ".digit" right after.
/// So "256.1.1.1" and "1.2.3.4.5" hold none, and leading zeros ("010.0.0.1") are allowed.
pub(crate) fn ip_count(message: &str) -> usize {
    let bytes = message.as_bytes();
    let mut count = 0;
    let mut free_from = 0;
    // Every address has a dot right after its first group; look only there.
    for dot in memchr::memchr_iter(b'.', bytes) {
        if dot < free_from || dot == 0 || !bytes[dot - 1].is_ascii_digit() {
            continue;
        }
        // Back to the start of the first group; four digits already rule the candidate out.
        let mut start = dot - 1;
        while start > 0 && bytes[start - 1].is_ascii_digit() && dot - start < 4 {
            start -= 1;
        }
        if start > 0 && bytes[start - 1].is_ascii_digit() {
            continue;
        }
        if start >= 2 && bytes[start - 1] == b'.' && bytes[start - 2].is_ascii_digit() {
            continue;
        }
        if let Some(end) = ipv4_end(bytes, start) {
            count += 1;
            free_from = end;
        }
    }
    count
}

/// Number of Unicode scalar values, like Python's `len()`.
pub(crate) fn char_count(message: &str) -> usize {
    if message.is_ascii() {
        message.len()
    } else {
        message.chars().count()
    }
}

const SPACE: u8 = 1;
const ALNUM: u8 = 2;
const UPPER: u8 = 4;
const DIGIT: u8 = 8;

/// Character classes of the ASCII bytes (0 for bytes ≥ 0x80).
static ASCII_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            // Python's str.isspace() in ASCII: Rust's whitespace plus \x0b and \x1c..=\x1f.
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ' => SPACE,
            b'0'..=b'9' => ALNUM | DIGIT,
            b'A'..=b'Z' => ALNUM | UPPER,
            b'a'..=b'z' => ALNUM,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// SWAR ("SIMD within a register") classification of eight ASCII bytes at a time: each helper
/// returns a word whose byte `k` has its high bit set when byte `k` of `x` is in the class.
/// Every byte of `x` must be below 0x80, which an ASCII message guarantees.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    pub const HIGH: u64 = 0x8080_8080_8080_8080;

    /// Bytes `>= n` (`n <= 0x80`): adding `0x80 - n` to a byte below 0x80 never carries into
    /// the next byte and sets its high bit exactly when the byte is at least `n`.
    fn at_least(x: u64, n: u8) -> u64 {
        x.wrapping_add(ONES * u64::from(0x80 - n)) & HIGH
    }

    /// Bytes in `lo..=hi` (`hi < 0x80`).
    fn within(x: u64, lo: u8, hi: u8) -> u64 {
        at_least(x, lo) & !at_least(x, hi + 1)
    }

    pub fn upper(x: u64) -> u64 {
        within(x, b'A', b'Z')
    }

    pub fn digit(x: u64) -> u64 {
        within(x, b'0', b'9')
    }

    pub fn alnum(x: u64) -> u64 {
        upper(x) | within(x, b'a', b'z') | digit(x)
    }

    /// Python's str.isspace() in ASCII: \t \n \x0b \x0c \r, \x1c..=\x1f and ' '.
    pub fn space(x: u64) -> u64 {
        within(x, b'\t', b'\r') | within(x, 0x1c, 0x1f) | within(x, b' ', b' ')
    }

    /// Marks the bytes that start a run of `marks`: marked, with the byte before (the top byte
    /// of the previous word for byte 0, via `carry`) unmarked.
    pub fn run_starts(marks: u64, carry: u64) -> u64 {
        marks & !(marks << 8 | carry)
    }

    /// What [`run_starts`] needs from this word for the next one.
    pub fn carry(marks: u64) -> u64 {
        marks >> 56
    }
}

/// The bit of each ASCII byte in a 128-bit set held as two words.
static BYTE_BIT: [[u64; 2]; 128] = {
    let mut table = [[0; 2]; 128];
    let mut b = 0;
    while b < 128 {
        table[b][b / 64] = 1 << (b % 64);
        b += 1;
    }
    table
};

/// [`TextStats::of`] for an ASCII message, eight bytes per step (see [`swar`]).
fn ascii_stats(bytes: &[u8]) -> TextStats {
    let mut stats = TextStats {
        chars: bytes.len(),
        ..TextStats::default()
    };
    let (mut word_carry, mut digit_carry) = (0, 0);
    let mut step = |x: u64, valid: u64| {
        let space = swar::space(x);
        let digit = swar::digit(x);
        let not_space = valid & !space;
        stats.words += swar::run_starts(not_space, word_carry).count_ones() as usize;
        stats.numbers += swar::run_starts(digit, digit_carry).count_ones() as usize;
        stats.special += (valid & !(swar::alnum(x) | space)).count_ones() as usize;
        stats.uppercase += swar::upper(x).count_ones() as usize;
        word_carry = swar::carry(not_space);
        digit_carry = swar::carry(digit);
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        step(u64::from_le_bytes(eight), swar::HIGH);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        // Zero padding is in no class; `valid` keeps it out of the negated ones.
        let mut eight = [0u8; 8];
        eight[..tail.len()].copy_from_slice(tail);
        let valid = swar::HIGH & (u64::MAX >> (64 - 8 * tail.len()));
        step(u64::from_le_bytes(eight), valid);
    }
    // Distinct bytes as a 128-bit set in two registers, the bit of each byte from a table so
    // that the loop is two loads and two ORs per byte.
    let (mut low, mut high) = (0u64, 0u64);
    for &b in bytes {
        let [l, h] = BYTE_BIT[usize::from(b & 127)];
        low |= l;
        high |= h;
    }
    stats.unique = (low.count_ones() + high.count_ones()) as usize;
    stats
}

/// Whitespace as Python's `str.split()` sees it: Unicode White_Space plus U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Character statistics of a message (the text group and `message_length`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TextStats {
    /// Unicode scalar values (`message_length`).
    pub chars: usize,
    /// Whitespace-separated tokens, like Python's `str.split()` (`word_count`).
    pub words: usize,
    /// Characters neither alphanumeric (`char::is_alphanumeric`) nor whitespace
    /// (`special_char_count`).
    pub special: usize,
    /// `char::is_uppercase` characters (numerator of `uppercase_ratio`).
    pub uppercase: usize,
    /// Maximal runs of ASCII digits (`number_count`).
    pub numbers: usize,
    /// Distinct characters (`unique_chars`).
    pub unique: usize,
}

impl TextStats {
    /// Scans `message` once. `scratch` collects non-ASCII characters to count the distinct ones;
    /// it is left empty, so one buffer serves every message.
    pub fn of(message: &str, scratch: &mut Vec<char>) -> TextStats {
        let mut stats = TextStats::default();
        // Distinct ASCII characters, one bit each, kept in a register.
        let mut seen_ascii = 0u128;
        let mut prev_space = true;
        let mut prev_digit = false;
        let mut step = |stats: &mut TextStats, class: u8| {
            let space = class & SPACE != 0;
            let digit = class & DIGIT != 0;
            stats.words += usize::from(prev_space && !space);
            stats.special += usize::from(class & (SPACE | ALNUM) == 0);
            stats.uppercase += usize::from(class & UPPER != 0);
            stats.numbers += usize::from(digit && !prev_digit);
            prev_space = space;
            prev_digit = digit;
        };
        if message.is_ascii() {
            return ascii_stats(message.as_bytes());
        } else {
            scratch.clear();
            for c in message.chars() {
                stats.chars += 1;
                let class = if c.is_ascii() {
                    let b = c as u8;
                    seen_ascii |= 1 << (b & 127);
                    ASCII_CLASS[usize::from(b)]
                } else {
                    scratch.push(c);
                    let mut class = 0;
                    if is_space(c) {
                        class |= SPACE;
                    }
                    if c.is_alphanumeric() {
                        class |= ALNUM;
                    }
                    if c.is_uppercase() {
                        class |= UPPER;
                    }
                    class
                };
                step(&mut stats, class);
            }
            scratch.sort_unstable();
            scratch.dedup();
            stats.unique = scratch.len();
            scratch.clear();
        }
        stats.unique += seen_ascii.count_ones() as usize;
        stats
    }

    /// `uppercase_ratio`: uppercase characters / all characters, 0 for an empty message.
    pub fn uppercase_ratio(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.uppercase as f64 / self.chars as f64
        }
    }
}

#[cfg(test)]
mod tests;
