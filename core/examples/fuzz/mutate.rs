//! Seeded mutations of valid inputs: the byte-level moves of AFL/libFuzzer (bit flips,
//! interesting values, inserts, deletes, copies, splices, dictionary tokens) plus a JSON-aware
//! move that replaces one value deep inside a document, which byte flips rarely reach because
//! almost every one of them breaks the JSON first.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Bytes that mean something to one of the parsers: JSON, CSV and ZIP structure.
const INTERESTING_BYTES: &[u8] = b"\0\x01\x7f\x80\xff\"\\,:;{}[]\n\r\t 0123456789-+.eE/PK";

/// Little-endian values that sit on a boundary of a 16- or 32-bit field.
const INTERESTING_U32: &[u32] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xfffe,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Values a JSON field may be replaced with.
const INTERESTING_JSON: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e308",
    "-1e308",
    "5e-324",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "1e-7",
    "\"\"",
    "\"auto\"",
    "\"lof\"",
    "\"isolation_forest\"",
    "\"2024-02-30T25:61:61Z\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "[[]]",
    "[0]",
];

/// Mutates inputs drawn from a corpus, reproducibly from a seed.
#[derive(Debug)]
pub struct Mutator {
    /// Target-specific tokens (field names, signatures, keywords).
    pub dictionary: Vec<Vec<u8>>,
    /// Whether the inputs are JSON documents (or NDJSON lines) worth mutating structurally.
    pub json: bool,
}

impl Mutator {
    /// A mutant of `corpus[i]` for a random `i`: one to eight stacked mutations.
    pub fn mutant(&self, rng: &mut ChaCha8Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
        let mut input = corpus.choose(rng).cloned().unwrap_or_default();
        if self.json && rng.gen_ratio(1, 3) {
            if let Some(mutated) = mutate_json(rng, &input) {
                input = mutated;
                // Often one structural change is the whole point: keep it parseable.
                if rng.gen_bool(0.5) {
                    return input;
                }
            }
        }
        let rounds = 1 + rng.gen_range(0..8usize).min(rng.gen_range(0..8usize));
        for _ in 0..rounds {
            self.mutate_bytes(rng, &mut input, corpus);
        }
        input
    }

    fn mutate_bytes(&self, rng: &mut ChaCha8Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let len = input.len();
        let at = |rng: &mut ChaCha8Rng| if len == 0 { 0 } else { rng.gen_range(0..len) };
        match rng.gen_range(0..10u8) {
            0 if len > 0 => {
                let i = at(rng);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = at(rng);
                input[i] = INTERESTING_BYTES[rng.gen_range(0..INTERESTING_BYTES.len())];
            }
            2 if len >= 2 => {
                let i = rng.gen_range(0..len - 1);
                let v = INTERESTING_U32[rng.gen_range(0..INTERESTING_U32.len())] as u16;
                input[i..i + 2].copy_from_slice(&v.to_le_bytes());
            }
            3 if len >= 4 => {
                let i = rng.gen_range(0..len - 3);
                let mut v = INTERESTING_U32[rng.gen_range(0..INTERESTING_U32.len())];
                if rng.gen_bool(0.3) {
                    // Sizes and offsets near the real ones are the lies that get furthest.
                    v = (len as u32)
                        .wrapping_add(rng.gen_range(0..64))
                        .wrapping_sub(32);
                }
                input[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            4 => {
                let i = if len == 0 { 0 } else { rng.gen_range(0..=len) };
                let n = rng.gen_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                input.splice(i..i, bytes);
            }
            5 if len > 0 => {
                let i = at(rng);
                let most = if rng.gen_bool(0.9) { 16 } else { len };
                let n = rng.gen_range(1..=(len - i).min(most));
                input.drain(i..i + n);
            }
            6 if len > 0 => {
                // Copy a stretch of the input over, or into, another place of it.
                let from = at(rng);
                let n = rng.gen_range(1..=(len - from).min(256));
                let chunk = input[from..from + n].to_vec();
                let to = rng.gen_range(0..=len);
                if rng.gen_bool(0.5) {
                    input.splice(to..to, chunk);
                } else {
                    let end = (to + n).min(len);
                    input.splice(to..end, chunk);
                }
            }
            7 => {
                // Splice: a stretch of another corpus entry.
                if let Some(other) = corpus.choose(rng).filter(|o| !o.is_empty()) {
                    let from = rng.gen_range(0..other.len());
                    let n = rng.gen_range(1..=(other.len() - from).min(512));
                    let to = if len == 0 { 0 } else { rng.gen_range(0..=len) };
                    input.splice(to..to, other[from..from + n].iter().copied());
                }
            }
            8 if !self.dictionary.is_empty() => {
                let token = self.dictionary[rng.gen_range(0..self.dictionary.len())].clone();
                let to = if len == 0 { 0 } else { rng.gen_range(0..=len) };
                if rng.gen_bool(0.5) || to + token.len() > len {
                    input.splice(to..to, token);
                } else {
                    input.splice(to..to + token.len(), token);
                }
            }
            9 if len > 0 => {
                // Cut the input short, as a truncated upload would.
                input.truncate(at(rng));
            }
            _ => input.push(rng.gen()),
        }
    }
}

/// Replaces, deletes or duplicates one value somewhere in a JSON document (or in one line of
/// NDJSON); `None` when the input is not JSON.
fn mutate_json(rng: &mut ChaCha8Rng, input: &[u8]) -> Option<Vec<u8>> {
    if let Ok(mut value) = serde_json::from_slice::<Value>(input) {
        mutate_value(rng, &mut value);
        return serde_json::to_vec(&value).ok();
    }
    // NDJSON: mutate one line.
    let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.len() < 2 {
        return None;
    }
    let i = rng.gen_range(0..lines.len());
    let mut value = serde_json::from_slice::<Value>(lines[i]).ok()?;
    mutate_value(rng, &mut value);
    let line = serde_json::to_vec(&value).ok()?;
    let mut out = Vec::with_capacity(input.len() + 16);
    for (j, l) in lines.iter().enumerate() {
        if j > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(if i == j { &line } else { l });
    }
    Some(out)
}

fn mutate_value(rng: &mut ChaCha8Rng, value: &mut Value) {
    // Walk down a random path (serde_json caps the depth at 128), stopping at a random depth.
    let descend = rng.gen_bool(0.8);
    match value {
        Value::Array(items) if descend && !items.is_empty() => {
            let i = rng.gen_range(0..items.len());
            if rng.gen_ratio(1, 12) {
                match rng.gen_range(0..3u8) {
                    0 => {
                        items.remove(i);
                    }
                    1 => {
                        let copy = items[i].clone();
                        items.insert(i, copy);
                    }
                    _ => items.truncate(i),
                }
                return;
            }
            mutate_value(rng, &mut items[i]);
        }
        Value::Object(map) if descend && !map.is_empty() => {
            let Some(key) = map.keys().nth(rng.gen_range(0..map.len())).cloned() else {
                return;
            };
            if rng.gen_ratio(1, 12) {
                map.remove(&key);
                return;
            }
            if let Some(child) = map.get_mut(&key) {
                mutate_value(rng, child);
            }
        }
        _ => {
            let new = replacement(rng, value);
            *value = new;
        }
    }
}

/// A new value for `old`: a boundary number, a nearby number, another type, or a string edit.
fn replacement(rng: &mut ChaCha8Rng, old: &Value) -> Value {
    match (old, rng.gen_range(0..4u8)) {
        (Value::Number(n), 0) => {
            let x = n.as_f64().unwrap_or(0.0);
            let factor = [-1.0, 0.5, 2.0, 1e6, 1e-6, 1.0 + f64::EPSILON][rng.gen_range(0..6)];
            serde_json::Number::from_f64(x * factor).map_or(Value::Null, Value::Number)
        }
        (Value::Number(n), 1) => match n.as_i64() {
            Some(i) => Value::from(i.wrapping_add(rng.gen_range(-2..=2))),
            None => Value::from(rng.gen_range(-3i64..=3)),
        },
        (Value::String(s), 0 | 1) => {
            let mut s = s.clone();
            match rng.gen_range(0..4u8) {
                0 => s.truncate(
                    s.char_indices()
                        .map(|(i, _)| i)
                        .nth(s.len() / 2)
                        .unwrap_or(0),
                ),
                1 => s.push_str(&s.clone()),
                2 => s.insert(0, ['é', '\u{0}', 'Z', ' ', '"', '1'][rng.gen_range(0..6)]),
                _ => s = s.to_uppercase(),
            }
            Value::String(s)
        }
        _ => {
            let text = INTERESTING_JSON[rng.gen_range(0..INTERESTING_JSON.len())];
            serde_json::from_str(text).unwrap_or(Value::Null)
        }
    }
}
