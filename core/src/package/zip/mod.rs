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

mod format;
mod read;
mod write;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use read::read_zip;
pub use write::write_zip;

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
    NotZip {
        /// How many bytes at the end were searched for the record.
        searched: usize,
    },
    /// A part of the archive (`part`) reaches past the end of the bytes.
    #[error("archive is truncated ({part} ends past the end of the file)")]
    Truncated {
        /// The part that is cut off, e.g. the central directory or an entry's local header.
        part: String,
    },
    /// The archive's own structure is inconsistent, before any entry can be named.
    #[error("archive is malformed ({reason})")]
    Malformed {
        /// What is inconsistent.
        reason: String,
    },
    /// A feature of the whole archive this reader does not implement.
    #[error("archive uses {what}, which is not supported")]
    UnsupportedArchive {
        /// The feature: zip64 extensions or several disks.
        what: &'static str,
    },
    /// A feature of one entry this reader or writer does not implement.
    #[error("entry {name:?} uses {what}, which is not supported")]
    Unsupported {
        /// The entry's name, as stored.
        name: String,
        /// The feature, e.g. encryption or zip64 extensions.
        what: String,
    },
    /// A name that could write outside the extraction folder, or not be created at all.
    #[error("entry {name:?} {reason}")]
    UnsafePath {
        /// The entry's name, as stored.
        name: String,
        /// Why the name is unsafe (absolute, `..`, a drive letter, a control character…).
        reason: &'static str,
    },
    /// A name too long for the 16-bit length field; `start` is its beginning.
    #[error("entry name starting {start:?} is {len} bytes long, more than the 65535 a zip holds")]
    NameTooLong {
        /// The first characters of the name.
        start: String,
        /// Length of the name, in bytes.
        len: usize,
    },
    /// A symbolic link, which extraction could follow out of the folder.
    #[error("entry {name:?} is a symbolic link")]
    Symlink {
        /// The entry's name, as stored.
        name: String,
    },
    /// A device, fifo, socket or other non-regular file.
    #[error("entry {name:?} is not a regular file ({kind})")]
    NotAFile {
        /// The entry's name, as stored.
        name: String,
        /// What kind of file it is, from its Unix mode.
        kind: String,
    },
    /// The same name twice: which copy wins depends on the extracting tool.
    #[error("entry {name:?} appears more than once")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// Two names equal but for letter case: one file on macOS and Windows.
    #[error(
        "entries {first:?} and {name:?} differ only in letter case \
         and would be the same file on macos and windows"
    )]
    CaseDuplicate {
        /// The later of the two names.
        name: String,
        /// The earlier of the two names.
        first: String,
    },
    /// More entries than the limit (the reader's, or the 65534 a plain zip holds).
    #[error("archive has {count} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// Entries the archive declares or was given.
        count: usize,
        /// Most entries allowed.
        limit: usize,
    },
    /// An entry over one of the [`ZipLimits`]: a zip bomb, or just too big.
    #[error("entry {name:?} {}", .what.describe(*.limit))]
    TooLarge {
        /// The entry's name, as stored.
        name: String,
        /// Which limit it exceeds.
        what: SizeLimit,
        /// The limit, in bytes (or the ratio, for [`SizeLimit::Ratio`]).
        limit: u64,
    },
    /// Two entries share bytes: the overlapping-file zip bomb.
    #[error(
        "entries {first:?} and {name:?} overlap in the archive (an overlapping-file zip bomb)"
    )]
    Overlap {
        /// The later entry.
        name: String,
        /// The earlier entry whose bytes it shares.
        first: String,
    },
    /// An entry whose headers or data do not hold together.
    #[error("entry {name:?} is corrupt ({reason})")]
    Corrupt {
        /// The entry's name, as stored.
        name: String,
        /// What does not hold together.
        reason: String,
    },
    /// The inflated data does not have the CRC-32 the central directory declares.
    #[error("entry {name:?} fails its crc-32 check (expected {expected:08x}, got {actual:08x})")]
    CrcMismatch {
        /// The entry's name, as stored.
        name: String,
        /// The CRC-32 the central directory declares.
        expected: u32,
        /// The CRC-32 of the inflated data.
        actual: u32,
    },
}

const MIB: u64 = 1024 * 1024;

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
