use super::format::*;
use super::write::MAX_WRITE_ENTRIES;
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
            reason: "it inflates to more than the 1000 bytes the central directory declares".into()
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

/// The `zip` crate as an oracle: it reads everything we write the way we do, and we read
/// everything it writes with stored or deflated entries.
#[cfg(not(target_arch = "wasm32"))]
mod oracle {
    use std::io::{Cursor, Read, Write};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipArchive, ZipWriter};

    use super::*;
    use crate::config::{Config, DetectorKind};
    use crate::package::{build, verify};
    use crate::pipeline::{train, Hooks, Progress, TrainChoices, TrainInput};
    use crate::synth::{write_export, SynthConfig};

    /// Name, data, CRC-32 and Unix mode of every entry, as the `zip` crate reads them.
    fn read_with_zip_crate(bytes: &[u8]) -> Vec<(String, Vec<u8>, u32, Option<u32>)> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).expect("the zip crate opens it");
        let mut entries = Vec::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).expect("entry");
            assert!(
                matches!(
                    file.compression(),
                    CompressionMethod::Stored | CompressionMethod::Deflated
                ),
                "{}: {:?}",
                file.name(),
                file.compression()
            );
            let mut data = Vec::new();
            // Reading to the end checks the CRC-32.
            file.read_to_end(&mut data)
                .expect("inflates with a good crc");
            assert_eq!(file.size(), data.len() as u64);
            entries.push((file.name().to_owned(), data, file.crc32(), file.unix_mode()));
        }
        entries
    }

    fn assert_same_through_both(bytes: &[u8]) {
        let ours = read_zip(bytes, &ZipLimits::default()).expect("we read it");
        let mut theirs = read_with_zip_crate(bytes);
        // We check directory entries and then leave them out.
        theirs.retain(|(name, ..)| !name.ends_with('/'));
        assert_eq!(ours.len(), theirs.len());
        for (mine, (name, data, crc, mode)) in ours.iter().zip(&theirs) {
            assert_eq!(&mine.name, name);
            assert!(mine.data == *data, "{name}: different bytes");
            assert_eq!(crc32fast::hash(&mine.data), *crc, "{name}");
            let expected = if mine.executable {
                MODE_EXECUTABLE
            } else {
                MODE_FILE
            };
            assert_eq!(*mode, Some(expected), "{name}");
        }
    }

    fn trained_model(detector: DetectorKind) -> Vec<u8> {
        let config = SynthConfig {
            records: 600,
            seed: 3,
            ..SynthConfig::default()
        }
        .check()
        .expect("synth config");
        let mut export = Vec::new();
        write_export(&config, &mut export).expect("synth");
        let mut config = Config::defaults();
        config.model.model.isolation_forest.n_estimators = 20;
        let options = TrainChoices {
            detector: Some(detector),
            seed: Some(9),
            ..TrainChoices::default()
        }
        .resolve(&config)
        .expect("parameters")
        .options(&config, 1_704_067_200_000_000);
        let mut progress = |_: &Progress| true;
        let trained = train(
            TrainInput::Export {
                bytes: &export,
                file_name: "export.json",
                log_type: None,
            },
            &options,
            Hooks {
                progress: &mut progress,
                elapsed_ms: &|| 0.0,
            },
        )
        .expect("trains");
        trained.artifact.to_json()
    }

    #[test]
    fn every_package_we_build_reads_identically_through_the_zip_crate() {
        for detector in [DetectorKind::IsolationForest, DetectorKind::Lof] {
            let package = build(&trained_model(detector), 1_704_153_600_000_000).expect("builds");
            assert_same_through_both(&package.bytes);
            assert!(verify(&package.bytes).expect("verifies").ok);
        }
        assert_same_through_both(&write_zip(&package_entries()).unwrap());
        assert_same_through_both(&write_zip(&[]).unwrap());
    }

    fn add_files<W: Write + std::io::Seek>(
        writer: &mut ZipWriter<W>,
        files: &[ZipEntry],
        method: CompressionMethod,
    ) {
        let options = |executable: bool| {
            SimpleFileOptions::default()
                .compression_method(method)
                .unix_permissions(if executable { 0o755 } else { 0o644 })
        };
        writer.add_directory("model_1/", options(false)).unwrap();
        for file in files {
            writer
                .start_file(file.name.as_str(), options(file.executable))
                .unwrap();
            writer.write_all(&file.data).unwrap();
        }
    }

    #[test]
    fn every_stored_and_deflated_archive_the_zip_crate_writes_reads_here() {
        let files = package_entries();
        for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
            for streaming in [false, true] {
                let bytes = if streaming {
                    // Not seekable: sizes and CRC-32 go in data descriptors after the data.
                    let mut writer = ZipWriter::new_stream(Vec::new());
                    add_files(&mut writer, &files, method);
                    writer.finish().unwrap().into_inner()
                } else {
                    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
                    add_files(&mut writer, &files, method);
                    writer.finish().unwrap().into_inner()
                };
                let read = read(&bytes)
                    .unwrap_or_else(|e| panic!("{method:?}, streaming {streaming}: {e}"));
                assert_eq!(read, files, "{method:?}, streaming {streaming}");
                assert_same_through_both(&bytes);
            }
        }
    }
}
