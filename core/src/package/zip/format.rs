//! The bytes of the ZIP format both halves share: record signatures and lengths, header flags
//! and fields, and little-endian reading and writing.

pub(super) const LOCAL_SIG: u32 = 0x0403_4b50;
pub(super) const CENTRAL_SIG: u32 = 0x0201_4b50;
pub(super) const EOCD_SIG: u32 = 0x0605_4b50;
pub(super) const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
pub(super) const LOCAL_LEN: usize = 30;
pub(super) const CENTRAL_LEN: usize = 46;
pub(super) const EOCD_LEN: usize = 22;
pub(super) const ZIP64_LOCATOR_LEN: usize = 20;
pub(super) const MAX_COMMENT_LEN: usize = 0xFFFF;

pub(super) const FLAG_ENCRYPTED: u16 = 1;
pub(super) const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
pub(super) const FLAG_UTF8: u16 = 1 << 11;
pub(super) const FLAG_MASKED_HEADERS: u16 = 1 << 13;
/// Set when sizes and CRC follow the data instead of sitting in the local header.
pub(super) const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

pub(super) const METHOD_STORED: u16 = 0;
pub(super) const METHOD_DEFLATED: u16 = 8;
/// "Version needed to extract": 1.0 for stored data, 2.0 for deflate.
pub(super) const VERSION_STORED: u16 = 10;
pub(super) const VERSION_DEFLATED: u16 = 20;
pub(super) const HOST_UNIX: u16 = 3;
/// Darwin's own zip writer: it stores Unix modes like host 3.
pub(super) const HOST_OSX: u16 = 19;
pub(super) const VERSION_MADE_BY: u16 = (HOST_UNIX << 8) | VERSION_DEFLATED;

/// DOS date 1980-01-01 (year − 1980 in bits 9–15, month in 5–8, day in 0–4); time 00:00:00.
pub(super) const DOS_DATE: u16 = (1 << 5) | 1;
pub(super) const DOS_TIME: u16 = 0;
/// The MS-DOS "directory" attribute in the low byte of the external attributes.
pub(super) const DOS_DIRECTORY: u32 = 0x10;

pub(super) const S_IFMT: u32 = 0o170_000;
pub(super) const S_IFREG: u32 = 0o100_000;
pub(super) const S_IFDIR: u32 = 0o040_000;
pub(super) const S_IFLNK: u32 = 0o120_000;
pub(super) const MODE_FILE: u32 = 0o100_644;
pub(super) const MODE_EXECUTABLE: u32 = 0o100_755;
/// 0xFFFF and 0xFFFF_FFFF are zip64 markers: readers take them to mean "the real value is in a
/// zip64 record".
pub(super) const ZIP64_U16: u16 = 0xFFFF;
pub(super) const ZIP64_U32: u32 = 0xFFFF_FFFF;

pub(super) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// `N` bytes at `at`, or `None` when they run past the end.
pub(super) fn fixed<const N: usize>(bytes: &[u8], at: usize) -> Option<&[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub(super) fn le16<const N: usize>(bytes: &[u8; N], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

pub(super) fn le32<const N: usize>(bytes: &[u8; N], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A 32-bit zip offset or size as a `usize`; it always fits on the 32- and 64-bit targets we
/// build for, and saturating keeps any bounds check that follows failing rather than wrapping.
pub(super) fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
