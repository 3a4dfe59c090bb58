//! The defensive reader: every check runs before anything is inflated, and inflating never
//! runs past the declared size.

use miniz_oxide::inflate::TINFLStatus;

use super::format::*;
use super::{check_name, NameSet, SizeLimit, ZipEntry, ZipError, ZipLimits};

/// Reads every file of an untrusted archive, fully checked, in central directory order.
///
/// Directory entries (name ending in `/`, no data) are checked and then skipped. The central
/// directory is authoritative for names, sizes, CRC-32 and method; each local header must agree
/// with it. Everything is checked before anything is inflated, and inflating stops one byte past
/// the declared size, so neither a lying header nor a bomb can make this allocate more than
/// `limits` allow. See [`ZipError`] for everything that is rejected.
pub fn read_zip(bytes: &[u8], limits: &ZipLimits) -> Result<Vec<ZipEntry>, ZipError> {
    let end = find_end_record(bytes)?;
    let records = read_central_directory(bytes, &end, limits)?;
    let spans = locate_data(bytes, &end, &records)?;

    let mut files = Vec::with_capacity(records.len());
    for (record, span) in records.iter().zip(spans) {
        if record.is_dir {
            continue;
        }
        let compressed =
            bytes
                .get(span.data_start..span.data_end)
                .ok_or_else(|| ZipError::Truncated {
                    part: format!("entry {:?}", record.name),
                })?;
        let data = inflate(record, compressed)?;
        let declared = to_usize(record.uncompressed);
        if data.len() != declared {
            return Err(ZipError::Corrupt {
                name: record.name.clone(),
                reason: format!(
                    "it inflates to {} bytes, but the central directory declares {declared}",
                    data.len()
                ),
            });
        }
        let actual = crc32fast::hash(&data);
        if actual != record.crc {
            return Err(ZipError::CrcMismatch {
                name: record.name.clone(),
                expected: record.crc,
                actual,
            });
        }
        files.push(ZipEntry {
            name: record.name.clone(),
            data,
            executable: record.executable,
        });
    }
    Ok(files)
}

/// Where the end of central directory record sits and what it says.
struct EndRecord {
    /// Offset of the record itself: the central directory must end at or before it.
    at: usize,
    entries: u16,
    central_size: u32,
    central_offset: u32,
}

fn find_end_record(bytes: &[u8]) -> Result<EndRecord, ZipError> {
    let searched = bytes.len().min(EOCD_LEN + MAX_COMMENT_LEN);
    let not_zip = ZipError::NotZip { searched };
    let Some(last) = bytes.len().checked_sub(EOCD_LEN) else {
        return Err(not_zip);
    };
    let first = bytes.len().saturating_sub(EOCD_LEN + MAX_COMMENT_LEN);
    let mut comment_overruns = false;
    // Backwards, so the record nearest the end wins; it must be followed by exactly its comment,
    // which rules out signature bytes that merely occur inside data or the comment.
    for at in (first..=last).rev() {
        let Some(record) = fixed::<EOCD_LEN>(bytes, at) else {
            continue;
        };
        if le32(record, 0) != EOCD_SIG {
            continue;
        }
        let comment_len = usize::from(le16(record, 20));
        let end = at + EOCD_LEN + comment_len;
        if end > bytes.len() {
            comment_overruns = true;
            continue;
        }
        if end != bytes.len() {
            continue;
        }
        return parse_end_record(bytes, at, record);
    }
    if comment_overruns {
        return Err(ZipError::Truncated {
            part: "archive comment".to_owned(),
        });
    }
    Err(not_zip)
}

fn parse_end_record(
    bytes: &[u8],
    at: usize,
    record: &[u8; EOCD_LEN],
) -> Result<EndRecord, ZipError> {
    let disk = le16(record, 4);
    let central_disk = le16(record, 6);
    let entries_here = le16(record, 8);
    let entries = le16(record, 10);
    let central_size = le32(record, 12);
    let central_offset = le32(record, 16);

    let has_locator = at
        .checked_sub(ZIP64_LOCATOR_LEN)
        .and_then(|locator| fixed::<4>(bytes, locator))
        .is_some_and(|sig| u32::from_le_bytes(*sig) == ZIP64_LOCATOR_SIG);
    let has_marker = [disk, central_disk, entries_here, entries].contains(&ZIP64_U16)
        || [central_size, central_offset].contains(&ZIP64_U32);
    if has_locator || has_marker {
        return Err(ZipError::UnsupportedArchive {
            what: "zip64 extensions",
        });
    }
    if disk != 0 || central_disk != 0 || entries_here != entries {
        return Err(ZipError::UnsupportedArchive {
            what: "several disks (a split or spanned archive)",
        });
    }
    Ok(EndRecord {
        at,
        entries,
        central_size,
        central_offset,
    })
}

/// One central directory record, checked on its own and against the limits.
struct CentralRecord {
    name: String,
    is_dir: bool,
    executable: bool,
    method: u16,
    crc: u32,
    compressed: u32,
    uncompressed: u32,
    local_offset: u32,
}

fn read_central_directory(
    bytes: &[u8],
    end: &EndRecord,
    limits: &ZipLimits,
) -> Result<Vec<CentralRecord>, ZipError> {
    let count = usize::from(end.entries);
    if count > limits.max_entries {
        return Err(ZipError::TooManyEntries {
            count,
            limit: limits.max_entries,
        });
    }
    let truncated = || ZipError::Truncated {
        part: "central directory".to_owned(),
    };
    let start = to_usize(end.central_offset);
    let stop = start
        .checked_add(to_usize(end.central_size))
        .filter(|&stop| stop <= bytes.len())
        .ok_or_else(truncated)?;
    if stop > end.at {
        return Err(ZipError::Malformed {
            reason: "the central directory runs into the end of central directory record"
                .to_owned(),
        });
    }
    let directory = bytes.get(start..stop).ok_or_else(truncated)?;

    let mut records = Vec::with_capacity(count);
    let mut names = NameSet::default();
    let mut total: u64 = 0;
    let mut at = 0;
    for index in 0..count {
        let header = fixed::<CENTRAL_LEN>(directory, at).ok_or_else(truncated)?;
        if le32(header, 0) != CENTRAL_SIG {
            return Err(ZipError::Malformed {
                reason: format!("central directory record {index} has no central header signature"),
            });
        }
        let name_len = usize::from(le16(header, 28));
        let extra_len = usize::from(le16(header, 30));
        let comment_len = usize::from(le16(header, 32));
        let name_start = at + CENTRAL_LEN;
        let raw_name = directory
            .get(name_start..name_start.saturating_add(name_len))
            .ok_or_else(truncated)?;
        at = name_start
            .saturating_add(name_len)
            .saturating_add(extra_len)
            .saturating_add(comment_len);
        if at > directory.len() {
            return Err(truncated());
        }
        let record = check_central_record(header, raw_name, limits, &mut total)?;
        let path = record.name.strip_suffix('/').unwrap_or(&record.name);
        names.insert(path)?;
        records.push(record);
    }
    if at != directory.len() {
        return Err(ZipError::Malformed {
            reason: format!(
                "the central directory has {} bytes after its {count} records",
                directory.len() - at
            ),
        });
    }
    Ok(records)
}

/// Checks one central directory record; adds its declared size to `total`.
fn check_central_record(
    header: &[u8; CENTRAL_LEN],
    raw_name: &[u8],
    limits: &ZipLimits,
    total: &mut u64,
) -> Result<CentralRecord, ZipError> {
    let made_by = le16(header, 4);
    let flags = le16(header, 8);
    let method = le16(header, 10);
    let crc = le32(header, 16);
    let compressed = le32(header, 20);
    let uncompressed = le32(header, 24);
    let disk_start = le16(header, 34);
    let external = le32(header, 38);
    let local_offset = le32(header, 42);

    // Names are taken as UTF-8 whether or not flag 11 says so: other writers (macOS's among
    // them) store UTF-8 without the flag, and anything that is not UTF-8 is refused.
    let name = std::str::from_utf8(raw_name)
        .map_err(|_| ZipError::UnsafePath {
            name: String::from_utf8_lossy(raw_name).into_owned(),
            reason: "is not valid utf-8",
        })?
        .to_owned();
    let is_dir = name.ends_with('/');
    check_name(name.strip_suffix('/').unwrap_or(&name)).map_err(|err| match err {
        // Report the name as stored, trailing slash included.
        ZipError::UnsafePath { reason, .. } => ZipError::UnsafePath {
            name: name.clone(),
            reason,
        },
        other => other,
    })?;
    let unsupported = |what: &str| ZipError::Unsupported {
        name: name.clone(),
        what: what.to_owned(),
    };
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS) != 0 {
        return Err(unsupported("encryption"));
    }
    if [compressed, uncompressed, local_offset].contains(&ZIP64_U32) || disk_start == ZIP64_U16 {
        return Err(unsupported("zip64 extensions"));
    }
    if disk_start != 0 {
        return Err(unsupported("a disk other than the first"));
    }
    if method != METHOD_STORED && method != METHOD_DEFLATED {
        return Err(unsupported(&format!("compression method {method}")));
    }

    let executable = check_file_type(&name, is_dir, made_by, external)?;
    let corrupt = |reason: String| ZipError::Corrupt {
        name: name.clone(),
        reason,
    };
    if is_dir && uncompressed != 0 {
        return Err(corrupt(format!(
            "a directory entry declares {uncompressed} bytes of data"
        )));
    }
    if method == METHOD_STORED && compressed != uncompressed {
        return Err(corrupt(format!(
            "stored, yet its compressed size {compressed} differs from its size {uncompressed}"
        )));
    }

    let size = u64::from(uncompressed);
    let too_large = |what: SizeLimit, limit: u64| ZipError::TooLarge {
        name: name.clone(),
        what,
        limit,
    };
    if size > limits.max_entry_size {
        return Err(too_large(SizeLimit::EntrySize, limits.max_entry_size));
    }
    *total = total.saturating_add(size);
    if *total > limits.max_total_size {
        return Err(too_large(SizeLimit::TotalSize, limits.max_total_size));
    }
    if size > limits.ratio_floor && size > u64::from(compressed).saturating_mul(limits.max_ratio) {
        return Err(too_large(SizeLimit::Ratio, limits.max_ratio));
    }

    Ok(CentralRecord {
        name,
        is_dir,
        executable,
        method,
        crc,
        compressed,
        uncompressed,
        local_offset,
    })
}

/// Rejects links and special files; returns whether a file is executable.
fn check_file_type(
    name: &str,
    is_dir: bool,
    made_by: u16,
    external: u32,
) -> Result<bool, ZipError> {
    // Only Unix-like hosts define the high 16 bits as st_mode; elsewhere they mean nothing.
    let host = made_by >> 8;
    let mode = if host == HOST_UNIX || host == HOST_OSX {
        external >> 16
    } else {
        0
    };
    let file_type = mode & S_IFMT;
    if file_type == S_IFLNK {
        return Err(ZipError::Symlink {
            name: name.to_owned(),
        });
    }
    if is_dir {
        return Ok(false);
    }
    let not_a_file = |kind: String| ZipError::NotAFile {
        name: name.to_owned(),
        kind,
    };
    let kind = match file_type {
        // Some writers store permission bits only; the name already says it is no directory.
        0 | S_IFREG => None,
        S_IFDIR => Some("a directory without a trailing slash".to_owned()),
        0o010_000 => Some("a fifo".to_owned()),
        0o020_000 => Some("a character device".to_owned()),
        0o060_000 => Some("a block device".to_owned()),
        0o140_000 => Some("a socket".to_owned()),
        other => Some(format!("unix file type {other:#o}")),
    };
    if let Some(kind) = kind {
        return Err(not_a_file(kind));
    }
    if external & DOS_DIRECTORY != 0 {
        return Err(not_a_file(
            "a directory without a trailing slash".to_owned(),
        ));
    }
    Ok(mode & 0o111 != 0)
}

/// Where an entry's bytes lie: its local header starts at `start`, its data ends at `data_end`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    data_start: usize,
    data_end: usize,
}

/// Checks every local header against its central record, and that no two entries share bytes.
fn locate_data(
    bytes: &[u8],
    end: &EndRecord,
    records: &[CentralRecord],
) -> Result<Vec<Span>, ZipError> {
    // Local headers and data must lie before the central directory.
    let central_start = to_usize(end.central_offset);
    let mut spans = Vec::with_capacity(records.len());
    for record in records {
        spans.push(locate_entry(bytes, central_start, record)?);
    }

    // One stretch of compressed bytes serving several entries is how the overlapping-file bomb
    // multiplies its output; honest archives never share bytes.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].data_end));
    for pair in order.windows(2) {
        let [before, after] = [pair[0], pair[1]];
        if spans[after].start < spans[before].data_end {
            return Err(ZipError::Overlap {
                name: records[after].name.clone(),
                first: records[before].name.clone(),
            });
        }
    }
    Ok(spans)
}

fn locate_entry(
    bytes: &[u8],
    central_start: usize,
    record: &CentralRecord,
) -> Result<Span, ZipError> {
    let name = &record.name;
    let corrupt = |reason: String| ZipError::Corrupt {
        name: name.clone(),
        reason,
    };
    let start = to_usize(record.local_offset);
    let header = fixed::<LOCAL_LEN>(bytes, start).ok_or_else(|| ZipError::Truncated {
        part: format!("local header of entry {name:?}"),
    })?;
    if le32(header, 0) != LOCAL_SIG {
        return Err(corrupt(format!("no local header at offset {start}")));
    }
    let flags = le16(header, 6);
    let method = le16(header, 8);
    let crc = le32(header, 14);
    let compressed = le32(header, 18);
    let uncompressed = le32(header, 22);
    let name_len = usize::from(le16(header, 26));
    let extra_len = usize::from(le16(header, 28));

    let name_start = start + LOCAL_LEN;
    let local_name = bytes
        .get(name_start..name_start.saturating_add(name_len))
        .ok_or_else(|| ZipError::Truncated {
            part: format!("local header of entry {name:?}"),
        })?;
    // Tools that read local headers and tools that read the central directory must see the
    // same entry, or an archive could show a checker one file and an extractor another.
    if local_name != name.as_bytes() {
        return Err(corrupt(format!(
            "its local header names it {:?}",
            String::from_utf8_lossy(local_name)
        )));
    }
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
        return Err(ZipError::Unsupported {
            name: name.clone(),
            what: "encryption".to_owned(),
        });
    }
    if method != record.method {
        return Err(corrupt(format!(
            "its local header says compression method {method}, the central directory {}",
            record.method
        )));
    }
    // With a data descriptor the local fields may be zero; the central ones are used anyway.
    let described_later =
        flags & FLAG_DATA_DESCRIPTOR != 0 && crc == 0 && compressed == 0 && uncompressed == 0;
    if !described_later
        && (crc, compressed, uncompressed) != (record.crc, record.compressed, record.uncompressed)
    {
        return Err(corrupt(
            "its local header disagrees with the central directory on sizes or crc-32".to_owned(),
        ));
    }

    // Saturating: on wasm32 an offset near 4 GiB plus a 4 GiB size would wrap a `usize`.
    let data_start = name_start
        .saturating_add(name_len)
        .saturating_add(extra_len);
    let data_end = data_start.saturating_add(to_usize(record.compressed));
    if data_end > bytes.len() {
        return Err(ZipError::Truncated {
            part: format!("entry {name:?}"),
        });
    }
    if data_end > central_start {
        return Err(corrupt(
            "its data runs into the central directory".to_owned(),
        ));
    }
    Ok(Span {
        start,
        data_start,
        data_end,
    })
}

/// The entry's data, inflated no further than one byte past its declared size.
fn inflate(record: &CentralRecord, compressed: &[u8]) -> Result<Vec<u8>, ZipError> {
    if record.method == METHOD_STORED {
        return Ok(compressed.to_vec());
    }
    let declared = to_usize(record.uncompressed);
    // The one spare byte tells "exactly the declared size" from "more", which the caller
    // reports; the limit caps the allocation whatever the stream contains.
    let limit = declared.saturating_add(1);
    miniz_oxide::inflate::decompress_to_vec_with_limit(compressed, limit).map_err(|err| {
        let reason = match err.status {
            TINFLStatus::HasMoreOutput => {
                format!(
                    "it inflates to more than the {declared} bytes the central directory declares"
                )
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                "its deflate stream ends early".to_owned()
            }
            TINFLStatus::Failed => "its deflate stream is invalid".to_owned(),
            other => format!("its deflate stream cannot be decoded ({other:?})"),
        };
        ZipError::Corrupt {
            name: record.name.clone(),
            reason,
        }
    })
}
