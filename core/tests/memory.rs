//! Memory stays proportional to the input, whatever the input: hostile exports must not make
//! parsing or feature extraction allocate far more than the bytes they were given.
//!
//! A counting global allocator measures the peak heap growth of each operation. This is the one
//! place in the workspace with `unsafe`: implementing `GlobalAlloc` requires it, and it only
//! forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use mcp_train_core::export::{parse_export, IssueKind, ValidateOptions};
use mcp_train_core::features::{extract, FeatureConfig};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Tests run on several threads; measurements take turns.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: every method forwards to the system allocator with the same arguments; the counters
// are plain atomics and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grow = new_size - layout.size();
            let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap growth (bytes) while `f` runs.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

const MB: usize = 1 << 20;

fn one_record(message: &str, extra: &str) -> Vec<u8> {
    format!(
        "[{{\"timestamp\": \"2024-01-01T00:00:00Z\", \"log_level\": \"INFO\", \"process_name\": \"hostapd\", \"message\": \"{message}\"{extra}}}]"
    )
    .into_bytes()
}

#[test]
fn a_million_bad_records_cost_counts_not_copies() {
    let _turn = SERIAL.lock();
    // 3 MB of empty objects: a million records, each missing four fields.
    let input = format!("[{}{{}}]", "{},".repeat(999_999)).into_bytes();
    let (report, peak) =
        peak_growth(|| parse_export(&input, &ValidateOptions::default()).map(|p| p.report));
    let report = report.expect("parses");
    assert_eq!(report.count_of(IssueKind::MissingField), 4_000_000);
    assert!(
        peak < 4 * MB,
        "peak heap growth {peak} bytes for a 3 MB input"
    );
}

#[test]
fn a_huge_message_is_borrowed_not_copied() {
    let _turn = SERIAL.lock();
    let input = one_record(&"A".repeat(64 * MB), "");
    let (records, peak) = peak_growth(|| {
        parse_export(&input, &ValidateOptions::default()).map(|p| p.export.records.len())
    });
    assert_eq!(records.ok(), Some(1));
    assert!(
        peak < MB,
        "peak heap growth {peak} bytes for a 64 MB message"
    );
}

#[test]
fn an_escaped_huge_message_is_copied_once() {
    let _turn = SERIAL.lock();
    let input = one_record(&"line\\n".repeat(8 * MB), "");
    let (records, peak) = peak_growth(|| {
        parse_export(&input, &ValidateOptions::default()).map(|p| p.export.records.len())
    });
    assert_eq!(records.ok(), Some(1));
    // The unescaped copy is 40 MB; serde's scratch buffer may hold it once more while growing.
    assert!(
        peak < 3 * input.len(),
        "peak heap growth {peak} bytes for a {} byte input",
        input.len()
    );
}

#[test]
fn deep_nesting_in_an_ignored_field_is_skipped_in_bounded_memory() {
    let _turn = SERIAL.lock();
    let depth = 4 * MB;
    let nested = format!(", \"extra\": {}{}", "[".repeat(depth), "]".repeat(depth));
    let input = one_record("m", &nested);
    let (records, peak) = peak_growth(|| {
        parse_export(&input, &ValidateOptions::default()).map(|p| p.export.records.len())
    });
    assert_eq!(records.ok(), Some(1));
    assert!(
        peak < 2 * input.len(),
        "peak heap growth {peak} bytes for {} bytes of nesting",
        input.len()
    );
}

#[test]
fn features_of_hostile_messages_stay_linear_in_memory() {
    let _turn = SERIAL.lock();
    // Messages made of what the scanners look for: MAC fragments, IP fragments, keywords.
    let patterns = ["00:11:", "1.", "auth", "deauth disassoc ", "\u{e9}\u{4e2d}"];
    let data: Vec<String> = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let message = p.repeat(MB / p.len());
            format!(
                "{{\"timestamp\": \"2024-01-01T00:00:0{i}Z\", \"log_level\": \"INFO\", \"process_name\": \"hostapd\", \"message\": \"{message}\"}}"
            )
        })
        .collect();
    let input = format!("[{}]", data.join(",")).into_bytes();
    let parsed = parse_export(&input, &ValidateOptions::default()).expect("parses");
    let export = parsed.into_usable().expect("usable");
    let (matrix, peak) = peak_growth(|| extract(&export, &FeatureConfig::default(), None));
    assert_eq!(matrix.n_rows(), 5);
    assert!(
        peak < 4 * MB,
        "peak heap growth {peak} bytes for five 1 MB messages"
    );
    let words = matrix.schema.index_of("word_count").expect("column");
    assert_eq!(matrix.row(3)[words], (2 * MB / 16) as f64);
}
