//! A deterministic ZIP writer and a defensive ZIP reader.
//!
//! [`write_zip`] turns the same entries into the same bytes on every platform (native and
//! wasm32): entries sorted by name, a fixed 1980-01-01 timestamp, Unix permissions, deflate at a
//! fixed level, and nothing that depends on the clock or the machine.
//!
//! [`read_zip`] reads archives that may have been built to hurt: zip-slip names, symbolic links,
//! zip bombs (deflate, overlapping-file, lying size headers), duplicate names, truncation and
//! plain garbage. It never panics, never allocates more than [`ZipLimits`] allow, and trusts no
//! declared size without checking it against what the data actually inflates to.
//!
//! Only the subset of the format a deployment package needs is supported: one disk, no zip64, no
//! encryption, stored (0) and deflated (8) entries.
//!
//! ```
//! use mcp_train_core::package::zip::{read_zip, write_zip, ZipEntry, ZipLimits};
//!
//! let entries = vec![ZipEntry {
//!     name: "model_1/README.md".to_owned(),
//!     data: b"# model 1\n".to_vec(),
//!     executable: false,
//! }];
//! let bytes = write_zip(&entries).unwrap();
//! assert_eq!(read_zip(&bytes, &ZipLimits::default()).unwrap(), entries);
//! ```

use std::collections::HashMap;

use miniz_oxide::inflate::TINFLStatus;

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// Relative, `/`-separated path inside the archive, e.g. `model_1/model.json`.
    pub name: String,
    /// The uncompressed contents.
    pub data: Vec<u8>,
    /// Unix mode 0755 rather than 0644.
    pub executable: bool,
}

/// How much an untrusted archive may make [`read_zip`] inflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Most entries (files and directories) the central directory may list.
    pub max_entries: usize,
    /// Largest uncompressed size of one entry, in bytes.
    pub max_entry_size: u64,
    /// Largest uncompressed size of all entries together, in bytes.
    pub max_total_size: u64,
    /// Largest uncompressed-to-compressed size ratio, for entries above `ratio_floor`.
    pub max_ratio: u64,
    /// Entries up to this many uncompressed bytes are exempt from `max_ratio`: small files of
    /// zeros or repeated text legitimately compress far better than 200:1, and cost nothing.
    pub ratio_floor: u64,
}

impl Default for ZipLimits {
    /// 1000 entries, 256 MiB per entry, 512 MiB in all, and at most 200:1 above 1 MiB: a
    /// deployment package is a handful of files, the largest a model of tens of MiB.
    fn default() -> Self {
        ZipLimits {
            max_entries: 1000,
            max_entry_size: 256 * MIB,
            max_total_size: 512 * MIB,
            max_ratio: 200,
            ratio_floor: MIB,
        }
    }
}

/// Which of the [`ZipLimits`] an entry exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// [`ZipLimits::max_entry_size`].
    EntrySize,
    /// [`ZipLimits::max_total_size`].
    TotalSize,
    /// [`ZipLimits::max_ratio`].
    Ratio,
}

impl SizeLimit {
    fn describe(self, limit: u64) -> String {
        match self {
            SizeLimit::EntrySize => format!("would inflate to more than {limit} bytes"),
            SizeLimit::TotalSize => {
                format!("would bring the archive's inflated total above {limit} bytes")
            }
            SizeLimit::Ratio => format!("has a compression ratio above {limit}:1"),
        }
    }
}

/// Why bytes cannot be read as, or entries cannot be written to, a ZIP archive.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZipError {
    /// No end of central directory record: not a ZIP archive at all, or cut off at the end.
    #[error("not a zip archive (no end of central directory record in its last {searched} bytes)")]
    NotZip { searched: usize },
    /// A part of the archive (`part`) reaches past the end of the bytes.
    #[error("archive is truncated ({part} ends past the end of the file)")]
    Truncated { part: String },
    /// The archive's own structure is inconsistent, before any entry can be named.
    #[error("archive is malformed ({reason})")]
    Malformed { reason: String },
    /// A feature of the whole archive this reader does not implement.
    #[error("archive uses {what}, which is not supported")]
    UnsupportedArchive { what: &'static str },
    /// A feature of one entry this reader or writer does not implement.
    #[error("entry {name:?} uses {what}, which is not supported")]
    Unsupported { name: String, what: String },
    /// A name that could write outside the extraction folder, or not be created at all.
    #[error("entry {name:?} {reason}")]
    UnsafePath { name: String, reason: &'static str },
    /// A name too long for the 16-bit length field; `start` is its beginning.
    #[error("entry name starting {start:?} is {len} bytes long, more than the 65535 a zip holds")]
    NameTooLong { start: String, len: usize },
    /// A symbolic link, which extraction could follow out of the folder.
    #[error("entry {name:?} is a symbolic link")]
    Symlink { name: String },
    /// A device, fifo, socket or other non-regular file.
    #[error("entry {name:?} is not a regular file ({kind})")]
    NotAFile { name: String, kind: String },
    /// The same name twice: which copy wins depends on the extracting tool.
    #[error("entry {name:?} appears more than once")]
    Duplicate { name: String },
    /// Two names equal but for letter case: one file on macOS and Windows.
    #[error(
        "entries {first:?} and {name:?} differ only in letter case \
         and would be the same file on macos and windows"
    )]
    CaseDuplicate { name: String, first: String },
    /// More entries than the limit (the reader's, or the 65534 a plain zip holds).
    #[error("archive has {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    /// An entry over one of the [`ZipLimits`]: a zip bomb, or just too big.
    #[error("entry {name:?} {}", .what.describe(*.limit))]
    TooLarge {
        name: String,
        what: SizeLimit,
        limit: u64,
    },
    /// Two entries share bytes: the overlapping-file zip bomb.
    #[error(
        "entries {first:?} and {name:?} overlap in the archive (an overlapping-file zip bomb)"
    )]
    Overlap { name: String, first: String },
    /// An entry whose headers or data do not hold together.
    #[error("entry {name:?} is corrupt ({reason})")]
    Corrupt { name: String, reason: String },
    /// The inflated data does not have the CRC-32 the central directory declares.
    #[error("entry {name:?} fails its crc-32 check (expected {expected:08x}, got {actual:08x})")]
    CrcMismatch {
        name: String,
        expected: u32,
        actual: u32,
    },
}

const MIB: u64 = 1024 * 1024;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_LEN: usize = 20;
const MAX_COMMENT_LEN: usize = 0xFFFF;

const FLAG_ENCRYPTED: u16 = 1;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;
const FLAG_MASKED_HEADERS: u16 = 1 << 13;
/// Set when sizes and CRC follow the data instead of sitting in the local header.
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
/// "Version needed to extract": 1.0 for stored data, 2.0 for deflate.
const VERSION_STORED: u16 = 10;
const VERSION_DEFLATED: u16 = 20;
const HOST_UNIX: u16 = 3;
/// Darwin's own zip writer: it stores Unix modes like host 3.
const HOST_OSX: u16 = 19;
const VERSION_MADE_BY: u16 = (HOST_UNIX << 8) | VERSION_DEFLATED;

/// DOS date 1980-01-01 (year − 1980 in bits 9–15, month in 5–8, day in 0–4); time 00:00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// The MS-DOS "directory" attribute in the low byte of the external attributes.
const DOS_DIRECTORY: u32 = 0x10;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const MODE_FILE: u32 = 0o100_644;
const MODE_EXECUTABLE: u32 = 0o100_755;

/// Fixed so that the bytes never depend on a caller's choice; 6 is zlib's default trade-off.
const DEFLATE_LEVEL: u8 = 6;
/// 0xFFFF and 0xFFFF_FFFF are zip64 markers: readers, this one included, take them to mean
/// "the real value is in a zip64 record", so a plain archive must stay strictly below them.
const MAX_WRITE_ENTRIES: usize = 0xFFFE;
const MAX_WRITE_SIZE: u64 = 0xFFFF_FFFE;
const ZIP64_U16: u16 = 0xFFFF;
const ZIP64_U32: u32 = 0xFFFF_FFFF;

/// Writes a deterministic ZIP archive of `entries`.
///
/// Entries are sorted by name (byte order), so the order of `entries` does not matter. Each is
/// deflated at a fixed level, or stored when deflate would not make it smaller; every header has
/// the DOS time 1980-01-01 00:00:00, "version made by" Unix with mode 0644 (0755 when
/// `executable`), the UTF-8 name flag, and no extra fields, data descriptors or zip64 records.
/// The same entries give the same bytes on every platform.
///
/// Fails on a name [`read_zip`] would reject (unsafe, duplicate, or equal to another but for
/// case), a name longer than 65535 bytes, an entry of 4 GiB or more, more than 65534 entries, or
/// an archive that outgrows the 4 GiB a zip without zip64 can address.
pub fn write_zip(entries: &[ZipEntry]) -> Result<Vec<u8>, ZipError> {
    if entries.len() > MAX_WRITE_ENTRIES {
        return Err(ZipError::TooManyEntries {
            count: entries.len(),
            limit: MAX_WRITE_ENTRIES,
        });
    }
    let mut sorted: Vec<&ZipEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));

    let mut names = NameSet::default();
    for entry in &sorted {
        if entry.name.len() > usize::from(u16::MAX) {
            return Err(ZipError::NameTooLong {
                start: entry.name.chars().take(40).collect(),
                len: entry.name.len(),
            });
        }
        check_name(&entry.name)?;
        names.insert(&entry.name)?;
        if u64::try_from(entry.data.len()).map_or(true, |len| len > MAX_WRITE_SIZE) {
            return Err(ZipError::Unsupported {
                name: entry.name.clone(),
                what: "zip64 (an entry of 4 GiB or more)".to_owned(),
            });
        }
    }

    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in sorted {
        let offset = zip_offset(out.len())?;
        let deflated = miniz_oxide::deflate::compress_to_vec(&entry.data, DEFLATE_LEVEL);
        let (method, version, payload) = if deflated.len() < entry.data.len() {
            (METHOD_DEFLATED, VERSION_DEFLATED, deflated.as_slice())
        } else {
            (METHOD_STORED, VERSION_STORED, entry.data.as_slice())
        };
        let header = HeaderFields {
            version,
            method,
            crc: crc32fast::hash(&entry.data),
            // Both sizes were checked against MAX_WRITE_SIZE above (payload ≤ data).
            compressed: zip_offset(payload.len())?,
            uncompressed: zip_offset(entry.data.len())?,
            name: entry.name.as_bytes(),
        };

        put_u32(&mut out, LOCAL_SIG);
        header.put(&mut out)?;
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(payload);

        let mode = if entry.executable {
            MODE_EXECUTABLE
        } else {
            MODE_FILE
        };
        put_u32(&mut central, CENTRAL_SIG);
        put_u16(&mut central, VERSION_MADE_BY);
        header.put(&mut central)?;
        put_u16(&mut central, 0); // comment length
        put_u16(&mut central, 0); // disk number start
        put_u16(&mut central, 0); // internal attributes
        put_u32(&mut central, mode << 16);
        put_u32(&mut central, offset);
        central.extend_from_slice(entry.name.as_bytes());
    }

    let count = u16::try_from(entries.len()).map_err(|_| ZipError::TooManyEntries {
        count: entries.len(),
        limit: MAX_WRITE_ENTRIES,
    })?;
    let central_offset = zip_offset(out.len())?;
    let central_size = zip_offset(central.len())?;
    out.extend_from_slice(&central);
    zip_offset(out.len())?;
    put_u32(&mut out, EOCD_SIG);
    put_u16(&mut out, 0); // this disk
    put_u16(&mut out, 0); // disk with the central directory
    put_u16(&mut out, count);
    put_u16(&mut out, count);
    put_u32(&mut out, central_size);
    put_u32(&mut out, central_offset);
    put_u16(&mut out, 0); // comment length
    Ok(out)
}

/// The fields local and central headers share, from "version needed" to "extra field length".
struct HeaderFields<'a> {
    version: u16,
    method: u16,
    crc: u32,
    compressed: u32,
    uncompressed: u32,
    name: &'a [u8],
}

impl HeaderFields<'_> {
    fn put(&self, out: &mut Vec<u8>) -> Result<(), ZipError> {
        let name_len = u16::try_from(self.name.len()).map_err(|_| ZipError::NameTooLong {
            start: String::from_utf8_lossy(self.name)
                .chars()
                .take(40)
                .collect(),
            len: self.name.len(),
        })?;
        put_u16(out, self.version);
        put_u16(out, FLAG_UTF8);
        put_u16(out, self.method);
        put_u16(out, DOS_TIME);
        put_u16(out, DOS_DATE);
        put_u32(out, self.crc);
        put_u32(out, self.compressed);
        put_u32(out, self.uncompressed);
        put_u16(out, name_len);
        put_u16(out, 0); // extra field length
        Ok(())
    }
}

/// An offset or size as the 32 bits a zip without zip64 has for it.
fn zip_offset(n: usize) -> Result<u32, ZipError> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n < ZIP64_U32)
        .ok_or(ZipError::UnsupportedArchive {
            what: "zip64 (an archive of 4 GiB or more)",
        })
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

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

/// Rejects a name that is unsafe to extract: see [`unsafe_name_reason`].
fn check_name(name: &str) -> Result<(), ZipError> {
    match unsafe_name_reason(name) {
        Some(reason) => Err(ZipError::UnsafePath {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Why extracting `name` (without a directory's trailing slash) could write outside the target
/// folder, or write somewhere other than it says, on Unix, macOS or Windows.
fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("has an empty name");
    }
    if name.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    if name.contains('\\') {
        return Some("contains a backslash, a path separator on windows");
    }
    if name.starts_with('/') {
        return Some("is an absolute path");
    }
    let bytes = name.as_bytes();
    if bytes.first().is_some_and(u8::is_ascii_alphabetic) && bytes.get(1) == Some(&b':') {
        return Some("starts with a drive letter, an absolute path on windows");
    }
    if name.contains(':') {
        return Some("contains a colon, which windows reads as a drive or stream separator");
    }
    for component in name.split('/') {
        match component {
            "" => return Some("has an empty path component"),
            "." => return Some("has a \".\" path component"),
            ".." => return Some("escapes the package folder (\"..\" component)"),
            _ => {}
        }
    }
    None
}

/// Names seen so far, exactly and with letter case folded.
#[derive(Default)]
struct NameSet {
    /// Lowercased name → the name as first seen.
    folded: HashMap<String, String>,
}

impl NameSet {
    fn insert(&mut self, name: &str) -> Result<(), ZipError> {
        let folded = name.to_lowercase();
        if let Some(first) = self.folded.get(&folded) {
            return Err(if first == name {
                ZipError::Duplicate {
                    name: name.to_owned(),
                }
            } else {
                ZipError::CaseDuplicate {
                    name: name.to_owned(),
                    first: first.clone(),
                }
            });
        }
        self.folded.insert(folded, name.to_owned());
        Ok(())
    }
}

/// `N` bytes at `at`, or `None` when they run past the end.
fn fixed<const N: usize>(bytes: &[u8], at: usize) -> Option<&[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn le16<const N: usize>(bytes: &[u8; N], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32<const N: usize>(bytes: &[u8; N], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A 32-bit zip offset or size as a `usize`; it always fits on the 32- and 64-bit targets we
/// build for, and saturating keeps any bounds check that follows failing rather than wrapping.
fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, data: &[u8], executable: bool) -> ZipEntry {
        ZipEntry {
            name: name.to_owned(),
            data: data.to_vec(),
            executable,
        }
    }

    /// Text that deflates well but not absurdly (about 3:1), like a model file of numbers.
    fn model_like_text(len: usize) -> Vec<u8> {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut text = Vec::with_capacity(len + 32);
        text.extend_from_slice(b"{\"threshold\": [");
        while text.len() < len {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.extend_from_slice(format!("{:.6}, ", (state >> 11) as f64 / 2e15).as_bytes());
        }
        text.truncate(len);
        text
    }

    fn package_entries() -> Vec<ZipEntry> {
        vec![
            entry("model_1/validate_model.py", b"print('ok')\n", true),
            entry("model_1/requirements.txt", b"", false),
            entry(
                "model_1/blob.bin",
                &(0..=255u8).rev().collect::<Vec<_>>(),
                false,
            ),
            entry(
                "model_1/model.json",
                &model_like_text(3 * 1024 * 1024),
                false,
            ),
            entry(
                "model_1/données/modèle_ü.json",
                "{\"café\": 1}".as_bytes(),
                false,
            ),
        ]
    }

    fn sorted(mut entries: Vec<ZipEntry>) -> Vec<ZipEntry> {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    }

    fn read(bytes: &[u8]) -> Result<Vec<ZipEntry>, ZipError> {
        read_zip(bytes, &ZipLimits::default())
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn set_u16(bytes: &mut [u8], at: usize, value: u16) {
        bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// One hand-made entry whose every header field can be set to a lie. Written by
    /// [`assemble`], independently of `write_zip`, so the reader is not tested against the
    /// writer's own mistakes.
    #[derive(Debug, Clone)]
    struct Raw {
        name: Vec<u8>,
        local_name: Vec<u8>,
        payload: Vec<u8>,
        method: u16,
        flags: u16,
        crc: u32,
        compressed: u32,
        uncompressed: u32,
        made_by: u16,
        external: u32,
        /// `false`: only a central record, pointing at `offset`.
        write_local: bool,
        offset: Option<u32>,
    }

    impl Raw {
        fn stored(name: &str, data: &[u8]) -> Raw {
            let len = u32::try_from(data.len()).unwrap();
            Raw {
                name: name.as_bytes().to_vec(),
                local_name: name.as_bytes().to_vec(),
                payload: data.to_vec(),
                method: METHOD_STORED,
                flags: FLAG_UTF8,
                crc: crc32fast::hash(data),
                compressed: len,
                uncompressed: len,
                made_by: (3 << 8) | 20,
                external: 0o100_644 << 16,
                write_local: true,
                offset: None,
            }
        }

        fn deflated(name: &str, data: &[u8]) -> Raw {
            let payload = miniz_oxide::deflate::compress_to_vec(data, 6);
            Raw {
                compressed: u32::try_from(payload.len()).unwrap(),
                payload,
                method: METHOD_DEFLATED,
                ..Raw::stored(name, data)
            }
        }

        fn named(mut self, name: &[u8]) -> Raw {
            self.name = name.to_vec();
            self.local_name = name.to_vec();
            self
        }
    }

    fn assemble(raws: &[Raw]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for raw in raws {
            let offset = raw.offset.unwrap_or(u32::try_from(out.len()).unwrap());
            let fields = |out: &mut Vec<u8>, name: &[u8]| {
                put_u16(out, 20);
                put_u16(out, raw.flags);
                put_u16(out, raw.method);
                put_u16(out, 0);
                put_u16(out, DOS_DATE);
                put_u32(out, raw.crc);
                put_u32(out, raw.compressed);
                put_u32(out, raw.uncompressed);
                put_u16(out, u16::try_from(name.len()).unwrap());
                put_u16(out, 0);
            };
            if raw.write_local {
                put_u32(&mut out, LOCAL_SIG);
                fields(&mut out, &raw.local_name);
                out.extend_from_slice(&raw.local_name);
                out.extend_from_slice(&raw.payload);
            }
            put_u32(&mut central, CENTRAL_SIG);
            put_u16(&mut central, raw.made_by);
            fields(&mut central, &raw.name);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u32(&mut central, raw.external);
            put_u32(&mut central, offset);
            central.extend_from_slice(&raw.name);
        }
        let central_offset = u32::try_from(out.len()).unwrap();
        out.extend_from_slice(&central);
        let count = u16::try_from(raws.len()).unwrap();
        put_u32(&mut out, EOCD_SIG);
        put_u16(&mut out, 0);
        put_u16(&mut out, 0);
        put_u16(&mut out, count);
        put_u16(&mut out, count);
        put_u32(&mut out, u32::try_from(central.len()).unwrap());
        put_u32(&mut out, central_offset);
        put_u16(&mut out, 0);
        out
    }

    fn small_archive() -> Vec<u8> {
        write_zip(&[
            entry("p/a.txt", b"hello hello hello hello hello hello", false),
            entry("p/b.bin", &[0, 1, 2, 3, 255], true),
            entry("p/empty", b"", false),
        ])
        .unwrap()
    }

    // ---- writer ----

    #[test]
    fn round_trip_returns_every_entry_sorted_by_name() {
        let entries = package_entries();
        let bytes = write_zip(&entries).unwrap();
        assert_eq!(read(&bytes).unwrap(), sorted(entries));
    }

    #[test]
    fn large_compressible_entry_is_deflated() {
        let text = model_like_text(3 * 1024 * 1024);
        let bytes = write_zip(&[entry("model.json", &text, false)]).unwrap();
        assert_eq!(u16_at(&bytes, 8), METHOD_DEFLATED);
        assert!(bytes.len() < text.len() / 2, "{} bytes", bytes.len());
        assert_eq!(read(&bytes).unwrap()[0].data, text);
    }

    #[test]
    fn writes_are_deterministic_whatever_the_input_order() {
        let entries = package_entries();
        let mut reversed = entries.clone();
        reversed.reverse();
        let first = write_zip(&entries).unwrap();
        assert_eq!(write_zip(&entries).unwrap(), first);
        assert_eq!(write_zip(&reversed).unwrap(), first);
    }

    #[test]
    fn writer_output_is_pinned() {
        // Any change here changes every package's bytes: a miniz_oxide upgrade that deflates
        // differently, or a header field; packages built before and after would then differ.
        use sha2::{Digest, Sha256};
        let bytes = small_archive();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest,
            "a69404d833a4342829170b4d298011f9efae6c0f1fb79745c0838c597ae8cc8c"
        );
    }

    #[test]
    fn writer_sets_the_fixed_header_fields() {
        let bytes = small_archive();
        let eocd = bytes.len() - EOCD_LEN;
        assert_eq!(u32_at(&bytes, eocd), EOCD_SIG);
        assert_eq!(u16_at(&bytes, eocd + 10), 3);
        let mut central = usize::try_from(u32_at(&bytes, eocd + 16)).unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let h = &bytes[central..];
            assert_eq!(u32_at(h, 0), CENTRAL_SIG);
            assert_eq!(u16_at(h, 4) >> 8, 3, "version made by: unix");
            assert_eq!(u16_at(h, 8), FLAG_UTF8, "flags");
            assert_eq!(
                (u16_at(h, 12), u16_at(h, 14)),
                (0, 0x21),
                "1980-01-01 00:00"
            );
            assert_eq!(
                (u16_at(h, 30), u16_at(h, 32)),
                (0, 0),
                "no extra, no comment"
            );
            let name_len = usize::from(u16_at(h, 28));
            let name = String::from_utf8(h[46..46 + name_len].to_vec()).unwrap();
            let local = &bytes[usize::try_from(u32_at(h, 42)).unwrap()..];
            assert_eq!(u32_at(local, 0), LOCAL_SIG);
            assert_eq!(u16_at(local, 6), FLAG_UTF8);
            assert_eq!(u16_at(local, 28), 0, "no local extra field");
            assert_eq!(u32_at(local, 14), u32_at(h, 16), "local crc");
            seen.push((name, u16_at(h, 10), u32_at(h, 38) >> 16));
            central += 46 + name_len;
        }
        assert_eq!(
            seen,
            [
                ("p/a.txt".to_owned(), METHOD_DEFLATED, 0o100_644),
                ("p/b.bin".to_owned(), METHOD_STORED, 0o100_755),
                ("p/empty".to_owned(), METHOD_STORED, 0o100_644),
            ]
        );
    }

    #[test]
    fn writer_refuses_what_the_reader_would_refuse() {
        let write = |names: &[&str]| {
            let entries: Vec<ZipEntry> = names.iter().map(|n| entry(n, b"x", false)).collect();
            write_zip(&entries)
        };
        assert_eq!(
            write(&["a", "b", "a"]),
            Err(ZipError::Duplicate { name: "a".into() })
        );
        assert_eq!(
            write(&["README.md", "readme.md"]),
            Err(ZipError::CaseDuplicate {
                name: "readme.md".into(),
                first: "README.md".into()
            })
        );
        for name in ["../x", "/etc/passwd", "a\\b", "a//b", "dir/", ""] {
            assert!(
                matches!(write(&[name]), Err(ZipError::UnsafePath { name: n, .. }) if n == name),
                "{name:?}"
            );
        }
        let long = "x".repeat(70_000);
        assert!(matches!(
            write(&[&long]),
            Err(ZipError::NameTooLong { len: 70_000, .. })
        ));
    }

    #[test]
    fn writer_refuses_more_entries_than_a_plain_zip_holds() {
        let entries: Vec<ZipEntry> = (0..=MAX_WRITE_ENTRIES)
            .map(|i| entry(&format!("f{i}"), b"", false))
            .collect();
        assert_eq!(
            write_zip(&entries),
            Err(ZipError::TooManyEntries {
                count: 65_535,
                limit: 65_534
            })
        );
    }

    // ---- reader: well-formed input ----

    #[test]
    fn reads_an_empty_archive() {
        assert_eq!(read(&write_zip(&[]).unwrap()), Ok(vec![]));
    }

    #[test]
    fn reads_past_an_archive_comment_of_any_length() {
        for comment_len in [1usize, 300, 0xFFFF] {
            let mut bytes = small_archive();
            let eocd = bytes.len() - EOCD_LEN;
            set_u16(&mut bytes, eocd + 20, u16::try_from(comment_len).unwrap());
            // A comment that itself looks like the start of an end record must not confuse.
            let mut comment = b"PK\x05\x06".repeat(comment_len / 4 + 1);
            comment.truncate(comment_len);
            bytes.extend_from_slice(&comment);
            assert_eq!(read(&bytes).unwrap().len(), 3, "comment of {comment_len}");
        }
    }

    #[test]
    fn skips_directory_entries_and_keeps_modes() {
        let mut dir = Raw::stored("pkg/", b"");
        dir.external = (0o040_755 << 16) | DOS_DIRECTORY;
        let mut script = Raw::deflated("pkg/run.py", &b"print(1)\n".repeat(20));
        script.external = 0o100_750 << 16;
        let plain = Raw::stored("pkg/a.txt", b"a");
        let bytes = assemble(&[dir, script, plain]);
        let files = read(&bytes).unwrap();
        assert_eq!(
            files,
            [
                entry("pkg/run.py", &b"print(1)\n".repeat(20), true),
                entry("pkg/a.txt", b"a", false)
            ]
        );
    }

    #[test]
    fn reads_entries_with_data_descriptors() {
        let mut raw = Raw::deflated("a.txt", &b"abc".repeat(100));
        raw.flags |= FLAG_DATA_DESCRIPTOR;
        let mut bytes = assemble(&[raw]);
        // Zero the local crc and sizes, as a streaming writer leaves them.
        bytes[14..26].fill(0);
        assert_eq!(read(&bytes).unwrap()[0].data, b"abc".repeat(100));
    }

    // ---- reader: hostile names and file types ----

    #[test]
    fn rejects_zip_slip_and_unportable_names() {
        let cases: [(&[u8], &str); 14] = [
            (b"../x", "escapes the package folder (\"..\" component)"),
            (
                b"a/../../x",
                "escapes the package folder (\"..\" component)",
            ),
            (b"a/..", "escapes the package folder (\"..\" component)"),
            (b"/etc/passwd", "is an absolute path"),
            (
                b"C:/x",
                "starts with a drive letter, an absolute path on windows",
            ),
            (
                b"c:x",
                "starts with a drive letter, an absolute path on windows",
            ),
            (b"a\\b", "contains a backslash, a path separator on windows"),
            (
                b"..\\x",
                "contains a backslash, a path separator on windows",
            ),
            (b"\\x", "contains a backslash, a path separator on windows"),
            (b"a//b", "has an empty path component"),
            (b"./a", "has a \".\" path component"),
            (b"a\0b", "contains a control character"),
            (b"a\nb", "contains a control character"),
            (b"a\xffb", "is not valid utf-8"),
        ];
        for (name, reason) in cases {
            let bytes = assemble(&[Raw::stored("x", b"data").named(name)]);
            assert_eq!(
                read(&bytes),
                Err(ZipError::UnsafePath {
                    name: String::from_utf8_lossy(name).into_owned(),
                    reason
                }),
                "{:?}",
                String::from_utf8_lossy(name)
            );
        }
        let dir = assemble(&[Raw::stored("../", b"")]);
        assert!(matches!(read(&dir), Err(ZipError::UnsafePath { name, .. }) if name == "../"));
    }

    #[test]
    fn rejects_symbolic_links_and_special_files() {
        let mut link = Raw::stored("pkg/model.json", b"/etc/passwd");
        link.external = 0o120_777 << 16;
        assert_eq!(
            read(&assemble(&[link.clone()])),
            Err(ZipError::Symlink {
                name: "pkg/model.json".into()
            })
        );
        // The same mode from a non-Unix host means nothing and is not a link.
        link.made_by = 20;
        assert!(read(&assemble(&[link])).is_ok());

        let mut fifo = Raw::stored("pkg/fifo", b"");
        fifo.external = 0o010_644 << 16;
        assert_eq!(
            read(&assemble(&[fifo])),
            Err(ZipError::NotAFile {
                name: "pkg/fifo".into(),
                kind: "a fifo".into()
            })
        );
        let mut dir_attr = Raw::stored("pkg/d", b"");
        dir_attr.made_by = 20;
        dir_attr.external = DOS_DIRECTORY;
        assert!(matches!(
            read(&assemble(&[dir_attr])),
            Err(ZipError::NotAFile { .. })
        ));
    }

    #[test]
    fn rejects_duplicate_names() {
        let twice = assemble(&[Raw::stored("a/b", b"1"), Raw::stored("a/b", b"2")]);
        assert_eq!(
            read(&twice),
            Err(ZipError::Duplicate { name: "a/b".into() })
        );
        let cased = assemble(&[
            Raw::stored("a/Model.json", b"1"),
            Raw::stored("a/model.JSON", b"2"),
        ]);
        assert_eq!(
            read(&cased),
            Err(ZipError::CaseDuplicate {
                name: "a/model.JSON".into(),
                first: "a/Model.json".into()
            })
        );
        let file_and_dir = assemble(&[Raw::stored("a", b"1"), Raw::stored("a/", b"")]);
        assert_eq!(
            read(&file_and_dir),
            Err(ZipError::Duplicate { name: "a".into() })
        );
    }

    // ---- reader: broken and unsupported archives ----

    #[test]
    fn every_truncation_of_a_valid_archive_is_an_error() {
        let bytes = small_archive();
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
    }

    #[test]
    fn rejects_garbage() {
        let garbage: [&[u8]; 4] = [b"", b"hello", &[0; 22], &[0xAB; 70_000]];
        for bytes in garbage {
            assert!(
                matches!(read(bytes), Err(ZipError::NotZip { .. })),
                "{}",
                bytes.len()
            );
        }
    }

    #[test]
    fn rejects_a_central_directory_past_the_end() {
        let mut bytes = small_archive();
        let eocd = bytes.len() - EOCD_LEN;
        let size = u32_at(&bytes, eocd + 12);
        set_u32(&mut bytes, eocd + 12, size + 1000);
        assert_eq!(
            read(&bytes),
            Err(ZipError::Truncated {
                part: "central directory".into()
            })
        );
    }

    #[test]
    fn rejects_entry_data_past_the_end() {
        let mut raw = Raw::stored("a", b"abc");
        raw.write_local = false;
        raw.offset = Some(0);
        let mut bytes = assemble(&[raw]);
        // Lift the central directory and point the entry at a header that would run off the end.
        let len = u32::try_from(bytes.len()).unwrap();
        set_u32(&mut bytes, 42, len - 10);
        assert_eq!(
            read(&bytes),
            Err(ZipError::Truncated {
                part: "local header of entry \"a\"".into()
            })
        );
    }

    #[test]
    fn rejects_zip64_and_multi_disk_archives() {
        let zip64 = ZipError::UnsupportedArchive {
            what: "zip64 extensions",
        };
        let mut count = small_archive();
        let eocd = count.len() - EOCD_LEN;
        set_u16(&mut count, eocd + 8, 0xFFFF);
        set_u16(&mut count, eocd + 10, 0xFFFF);
        assert_eq!(read(&count), Err(zip64.clone()));

        let mut locator = small_archive();
        let eocd = locator.len() - EOCD_LEN;
        let mut record = ZIP64_LOCATOR_SIG.to_le_bytes().to_vec();
        record.resize(ZIP64_LOCATOR_LEN, 0);
        locator.splice(eocd..eocd, record);
        assert_eq!(read(&locator), Err(zip64));

        let mut disks = small_archive();
        let eocd = disks.len() - EOCD_LEN;
        set_u16(&mut disks, eocd + 4, 1);
        assert!(matches!(
            read(&disks),
            Err(ZipError::UnsupportedArchive { what }) if what.contains("disks")
        ));

        let mut entry_size = Raw::stored("big", b"");
        entry_size.uncompressed = 0xFFFF_FFFF;
        assert!(matches!(
            read(&assemble(&[entry_size])),
            Err(ZipError::Unsupported { what, .. }) if what == "zip64 extensions"
        ));
    }

    #[test]
    fn rejects_encrypted_entries_and_unknown_methods() {
        let mut encrypted = Raw::stored("secret.txt", b"xxxx");
        encrypted.flags |= FLAG_ENCRYPTED;
        assert_eq!(
            read(&assemble(&[encrypted])),
            Err(ZipError::Unsupported {
                name: "secret.txt".into(),
                what: "encryption".into()
            })
        );
        let mut bzip2 = Raw::stored("a.txt", b"xxxx");
        bzip2.method = 12;
        assert_eq!(
            read(&assemble(&[bzip2])),
            Err(ZipError::Unsupported {
                name: "a.txt".into(),
                what: "compression method 12".into()
            })
        );
    }

    #[test]
    fn rejects_a_local_header_that_disagrees_with_the_central_directory() {
        let mut renamed = Raw::stored("model.json", b"{}");
        renamed.local_name = b"model.jsoN".to_vec();
        assert!(matches!(
            read(&assemble(&[renamed])),
            Err(ZipError::Corrupt { name, reason }) if name == "model.json" && reason.contains("names it")
        ));
        let mut bytes = assemble(&[Raw::stored("a", b"abcd")]);
        set_u32(&mut bytes, 22, 3); // local uncompressed size
        assert!(matches!(read(&bytes), Err(ZipError::Corrupt { .. })));
    }

    #[test]
    fn rejects_a_crc_mismatch() {
        let mut bytes = write_zip(&[entry("a.bin", &[1, 2, 3, 4, 5], false)]).unwrap();
        let data_at = LOCAL_LEN + "a.bin".len();
        bytes[data_at + 2] ^= 0x40;
        assert_eq!(
            read(&bytes),
            Err(ZipError::CrcMismatch {
                name: "a.bin".into(),
                expected: crc32fast::hash(&[1, 2, 3, 4, 5]),
                actual: crc32fast::hash(&[1, 2, 3 ^ 0x40, 4, 5]),
            })
        );
        let mut deflated = Raw::deflated("b.txt", &b"b".repeat(500));
        deflated.crc ^= 1;
        assert!(matches!(
            read(&assemble(&[deflated])),
            Err(ZipError::CrcMismatch { .. })
        ));
    }

    #[test]
    fn rejects_corrupt_deflate_data() {
        let mut raw = Raw::deflated("a.txt", &model_like_text(5000));
        raw.payload.truncate(raw.payload.len() / 2);
        raw.compressed = u32::try_from(raw.payload.len()).unwrap();
        assert!(matches!(
            read(&assemble(&[raw])),
            Err(ZipError::Corrupt { reason, .. }) if reason.contains("ends early")
        ));
    }

    // ---- reader: bombs ----

    #[test]
    fn rejects_too_many_entries() {
        let raws: Vec<Raw> = (0..5).map(|i| Raw::stored(&format!("f{i}"), b"")).collect();
        let bytes = assemble(&raws);
        let limits = ZipLimits {
            max_entries: 4,
            ..ZipLimits::default()
        };
        assert_eq!(
            read_zip(&bytes, &limits),
            Err(ZipError::TooManyEntries { count: 5, limit: 4 })
        );
        assert_eq!(
            read_zip(
                &bytes,
                &ZipLimits {
                    max_entries: 5,
                    ..limits
                }
            )
            .unwrap()
            .len(),
            5
        );
    }

    #[test]
    fn rejects_entries_over_the_size_limits() {
        let zeros = vec![0u8; 100_000];
        let bomb = assemble(&[Raw::deflated("bomb", &zeros)]);
        let limits = ZipLimits {
            max_entry_size: 65_536,
            ..ZipLimits::default()
        };
        let err = read_zip(&bomb, &limits).unwrap_err();
        assert_eq!(
            err,
            ZipError::TooLarge {
                name: "bomb".into(),
                what: SizeLimit::EntrySize,
                limit: 65_536
            }
        );
        assert_eq!(
            err.to_string(),
            "entry \"bomb\" would inflate to more than 65536 bytes"
        );

        let two = assemble(&[Raw::deflated("a", &zeros), Raw::deflated("b", &zeros)]);
        let limits = ZipLimits {
            max_total_size: 150_000,
            ..ZipLimits::default()
        };
        assert!(matches!(
            read_zip(&two, &limits),
            Err(ZipError::TooLarge { name, what: SizeLimit::TotalSize, .. }) if name == "b"
        ));
    }

    #[test]
    fn ratio_limit_applies_only_above_the_floor() {
        let small = assemble(&[Raw::deflated("zeros", &vec![0; 1024 * 1024])]);
        assert!(read(&small).is_ok(), "1 MiB of zeros is at the floor");
        let big = assemble(&[Raw::deflated("zeros", &vec![0; 2 * 1024 * 1024])]);
        assert!(matches!(
            read(&big),
            Err(ZipError::TooLarge {
                what: SizeLimit::Ratio,
                limit: 200,
                ..
            })
        ));
    }

    #[test]
    fn rejects_data_that_inflates_past_its_declared_size() {
        // 1 MiB of zeros that claims to be 1000 bytes: inflating must stop at the claim.
        let mut liar = Raw::deflated("model.json", &vec![0; 1024 * 1024]);
        liar.uncompressed = 1000;
        assert_eq!(
            read(&assemble(&[liar])),
            Err(ZipError::Corrupt {
                name: "model.json".into(),
                reason: "it inflates to more than the 1000 bytes the central directory declares"
                    .into()
            })
        );
        let mut short = Raw::deflated("a.txt", &b"a".repeat(100));
        short.uncompressed = 101;
        assert!(matches!(
            read(&assemble(&[short])),
            Err(ZipError::Corrupt { reason, .. }) if reason.contains("inflates to 100 bytes")
        ));
    }

    #[test]
    fn rejects_overlapping_entries() {
        // The overlapping-file bomb: "a"'s data spans "b"'s local header and data, so the same
        // bytes would be inflated twice.
        let mut a = Raw::stored("a", b"aaaa");
        let b = Raw::stored("b", b"bbbb");
        let span = u32::try_from(4 + LOCAL_LEN + 1 + 4).unwrap();
        a.compressed = span;
        a.uncompressed = span;
        assert_eq!(
            read(&assemble(&[a, b])),
            Err(ZipError::Overlap {
                name: "b".into(),
                first: "a".into()
            })
        );

        // Two central records sharing one local header: its name can match only one of them.
        let mut bytes = assemble(&[Raw::stored("x", b"1"), Raw::stored("y", b"2")]);
        let second = bytes.len() - EOCD_LEN - (CENTRAL_LEN + 1);
        set_u32(&mut bytes, second + 42, 0);
        assert_eq!(
            read(&bytes),
            Err(ZipError::Corrupt {
                name: "y".into(),
                reason: "its local header names it \"x\"".into()
            })
        );
    }

    #[test]
    fn rejects_data_running_into_the_central_directory() {
        let mut raw = Raw::stored("a", b"abcd");
        raw.compressed = 40;
        raw.uncompressed = 40;
        assert!(matches!(
            read(&assemble(&[raw])),
            Err(ZipError::Corrupt { reason, .. }) if reason.contains("central directory")
        ));
    }

    #[test]
    fn flipping_any_byte_never_panics() {
        let bytes = small_archive();
        let mut errors = 0;
        for at in 0..bytes.len() {
            for mask in [0x01, 0x80, 0xFF] {
                let mut mutated = bytes.clone();
                mutated[at] ^= mask;
                errors += usize::from(read(&mutated).is_err());
            }
        }
        // Timestamps and attributes may change harmlessly; most bytes may not.
        assert!(errors > bytes.len(), "{errors} errors");
    }

    #[test]
    fn error_messages_name_the_entry() {
        let slip = ZipError::UnsafePath {
            name: "../evil.txt".into(),
            reason: "escapes the package folder (\"..\" component)",
        };
        assert_eq!(
            slip.to_string(),
            "entry \"../evil.txt\" escapes the package folder (\"..\" component)"
        );
        let truncated = ZipError::Truncated {
            part: "central directory".into(),
        };
        assert_eq!(
            truncated.to_string(),
            "archive is truncated (central directory ends past the end of the file)"
        );
        let big = ZipError::TooLarge {
            name: "model.json".into(),
            what: SizeLimit::EntrySize,
            limit: 268_435_456,
        };
        assert_eq!(
            big.to_string(),
            "entry \"model.json\" would inflate to more than 268435456 bytes"
        );
    }
}
