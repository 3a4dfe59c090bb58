//! Reading a message into tokens: whitespace split, variable tokens masked, each token hashed —
//! into reused buffers, so the hot path does not allocate.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The hash that stands for a masked (variable) token, `<*>`. [`token_hash`] never returns it
/// for a constant token.
pub(crate) const WILDCARD: u64 = 0;

/// The text of a masked token in templates.
pub(crate) const WILDCARD_TEXT: &str = "<*>";

/// Tokens of a message beyond this many do not take part in template mining (they still count
/// in `msg_tokens`).
pub(crate) const MAX_TEMPLATE_TOKENS: usize = 128;

/// Whether a token is a variable: any token with an ASCII digit (numbers, IPs, ports, pids,
/// hex ids, paths and names with digits, UUIDs, times), a long run of hex letters (hashes
/// without digits), or the wildcard text itself.
pub(crate) fn is_variable(token: &[u8]) -> bool {
    token.iter().any(u8::is_ascii_digit)
        || token == WILDCARD_TEXT.as_bytes()
        || token.len() >= 16 && token.iter().all(u8::is_ascii_hexdigit)
}

/// FNV-1a over the bytes, never [`WILDCARD`]: the same value on every platform.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    if h == WILDCARD {
        1
    } else {
        h
    }
}

/// The hash of a token as template mining sees it: [`WILDCARD`] for a variable.
pub(crate) fn token_hash(token: &[u8]) -> u64 {
    if is_variable(token) {
        WILDCARD
    } else {
        hash_bytes(token)
    }
}

/// A tokenised message: spans and hashes of its first [`MAX_TEMPLATE_TOKENS`] tokens plus the
/// message's shape. Reused from message to message.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tokens {
    /// Token hashes ([`WILDCARD`] for variables), at most [`MAX_TEMPLATE_TOKENS`].
    pub hashes: Vec<u64>,
    /// Byte ranges of those tokens in the message.
    pub spans: Vec<(u32, u32)>,
    /// All tokens of the message.
    pub total: usize,
    /// ASCII digits in the message.
    pub digits: usize,
}

impl Tokens {
    /// Splits `message` on ASCII whitespace into `self`, in one pass over the bytes.
    pub fn read(&mut self, message: &str) {
        self.hashes.clear();
        self.spans.clear();
        self.total = 0;
        self.digits = 0;
        let bytes = message.as_bytes();
        let mut start: Option<usize> = None;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut variable = false;
        let mut hex_only = true;
        for (i, &b) in bytes.iter().enumerate() {
            if b.is_ascii_whitespace() {
                if let Some(s) = start.take() {
                    self.finish(bytes, s, i, h, variable, hex_only);
                }
                continue;
            }
            if start.is_none() {
                start = Some(i);
                h = 0xcbf2_9ce4_8422_2325;
                variable = false;
                hex_only = true;
            }
            if b.is_ascii_digit() {
                self.digits += 1;
                variable = true;
            }
            hex_only &= b.is_ascii_hexdigit();
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        if let Some(s) = start {
            self.finish(bytes, s, bytes.len(), h, variable, hex_only);
        }
    }

    fn finish(
        &mut self,
        bytes: &[u8],
        start: usize,
        end: usize,
        hash: u64,
        has_digit: bool,
        hex_only: bool,
    ) {
        self.total += 1;
        if self.hashes.len() >= MAX_TEMPLATE_TOKENS {
            return;
        }
        let token = &bytes[start..end];
        let variable =
            has_digit || hex_only && token.len() >= 16 || token == WILDCARD_TEXT.as_bytes();
        let hash = match (variable, hash) {
            (true, _) => WILDCARD,
            (false, WILDCARD) => 1,
            (false, h) => h,
        };
        self.hashes.push(hash);
        // Messages longer than 4 GiB are not syslog; clamp rather than wrap.
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        self.spans.push((clamp(start), clamp(end)));
    }

    /// Token `i`'s text in `message` (the one [`read`](Self::read) was given).
    pub fn text<'m>(&self, message: &'m str, i: usize) -> &'m str {
        let (s, e) = self.spans[i];
        message.get(s as usize..e as usize).unwrap_or("")
    }
}

/// The message with its variable tokens masked, tokens joined by one space: the stateless
/// pattern of a message (what [`super::SyslogAgent`]'s `fields` reports as `pattern`).
pub(crate) fn pattern(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for token in message.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if is_variable(token.as_bytes()) {
            WILDCARD_TEXT
        } else {
            token
        });
    }
    out
}

/// The first IP address in the message (IPv4 or IPv6, with surrounding brackets, commas,
/// a `:port` on IPv4 and key prefixes such as `SRC=` or `rhost=` taken off).
pub(crate) fn first_ip(message: &str) -> Option<String> {
    message.split_ascii_whitespace().find_map(|token| {
        let token = token.rsplit('=').next().unwrap_or(token);
        let token = token.trim_matches(|c: char| "[]()<>,;'\"".contains(c));
        if let Ok(ip) = token.parse::<Ipv4Addr>() {
            return Some(ip.to_string());
        }
        if let Some((host, port)) = token.rsplit_once(':') {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(ip) = host.parse::<Ipv4Addr>() {
                    return Some(ip.to_string());
                }
            }
        }
        if token.contains(':') {
            if let Ok(ip) = token.parse::<Ipv6Addr>() {
                return Some(ip.to_string());
            }
        }
        None
    })
}

/// The user a message names: the word after `user` (`Failed password for invalid user admin`,
/// `session opened for user root(uid=0)`), `Accepted … for NAME from`, or `USER=NAME`.
pub(crate) fn user(message: &str) -> Option<String> {
    let clean = |w: &str| -> Option<String> {
        let w = w.split('(').next().unwrap_or(w);
        let w = w.trim_matches(|c: char| "[]<>,;:'\"".contains(c));
        (!w.is_empty()).then(|| w.to_owned())
    };
    let mut words = message.split_ascii_whitespace().peekable();
    let mut previous = "";
    while let Some(word) = words.next() {
        if let Some(name) = word.strip_prefix("USER=") {
            return clean(name);
        }
        if word == "user" {
            if let Some(&next) = words.peek() {
                if next != "unknown" {
                    return clean(next);
                }
            }
        }
        if previous == "for" && words.peek() == Some(&"from") && word != "invalid" {
            return clean(word);
        }
        previous = word;
    }
    None
}
