//! The deterministic writer: the same entries give the same bytes on every platform.

use super::format::*;
use super::{check_name, NameSet, ZipEntry, ZipError};

/// Fixed so that the bytes never depend on a caller's choice; 6 is zlib's default trade-off.
const DEFLATE_LEVEL: u8 = 6;
/// 0xFFFF and 0xFFFF_FFFF are zip64 markers: readers, this one included, take them to mean
/// "the real value is in a zip64 record", so a plain archive must stay strictly below them.
pub(super) const MAX_WRITE_ENTRIES: usize = 0xFFFE;
const MAX_WRITE_SIZE: u64 = 0xFFFF_FFFE;

/// Writes a deterministic ZIP archive of `entries`.
///
/// Entries are sorted by name (byte order), so the order of `entries` does not matter. Each is
/// deflated at a fixed level, or stored when deflate would not make it smaller; every header has
/// the DOS time 1980-01-01 00:00:00, "version made by" Unix with mode 0644 (0755 when
/// `executable`), the UTF-8 name flag, and no extra fields, data descriptors or zip64 records.
/// The same entries give the same bytes on every platform.
///
/// Fails on a name [`read_zip`](super::read_zip) would reject (unsafe, duplicate, or equal to
/// another but for case), a name longer than 65535 bytes, an entry of 4 GiB or more, more than
/// 65534 entries, or an archive that outgrows the 4 GiB a zip without zip64 can address.
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
