use std::sync::OnceLock;

use super::zip::{read_zip, write_zip, ZipEntry};
use super::*;
use crate::config::{Config, DetectorKind};
use crate::pipeline::{train, Hooks, Progress, TrainChoices, TrainInput};
use crate::synth::{write_export, SynthConfig};

const NOW: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
const DEPLOYED: i64 = 1_704_153_600_000_000; // 2024-01-02T00:00:00Z

fn model_json(detector: DetectorKind) -> Vec<u8> {
    let config = SynthConfig {
        records: 1_500,
        anomaly_ratio: 0.05,
        seed: 11,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    write_export(&config, &mut bytes).expect("synth");
    let config = Config::defaults();
    let choices = TrainChoices {
        detector: Some(detector),
        seed: Some(5),
        ..TrainChoices::default()
    };
    let options = choices
        .resolve(&config)
        .expect("parameters")
        .options(&config, NOW);
    let mut progress = |_: &Progress| true;
    let trained = train(
        TrainInput::Export {
            bytes: &bytes,
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

pub(super) fn forest() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| model_json(DetectorKind::IsolationForest))
}

fn package() -> &'static DeploymentPackage {
    static PACKAGE: OnceLock<DeploymentPackage> = OnceLock::new();
    PACKAGE.get_or_init(|| build(forest(), DEPLOYED).expect("builds"))
}

/// The package's files, relative to its folder.
fn unpacked() -> Vec<(String, Vec<u8>)> {
    read_zip(&package().bytes, &PACKAGE_LIMITS)
        .expect("reads")
        .into_iter()
        .map(|e| (e.name, e.data))
        .collect()
}

fn problems_of(v: &Verification) -> Vec<String> {
    v.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn package_holds_every_file_in_one_folder() {
    let p = package();
    assert_eq!(p.file_name, "model_20240101_000000_deployment.zip");
    let names: Vec<String> = unpacked().into_iter().map(|(n, _)| n).collect();
    let expected: Vec<String> = PACKAGE_FILES
        .iter()
        .map(|f| format!("model_20240101_000000_deployment/{f}"))
        .collect();
    assert_eq!(names, expected);
    assert_eq!(p.manifest.deployment_timestamp, "2024-01-02T00:00:00Z");
    assert_eq!(p.manifest.file_integrity.len(), PACKAGE_FILES.len() - 1);
    assert_eq!(p.manifest.self_test.vectors.len(), SELF_TEST_VECTORS);
}

#[test]
fn model_file_is_shipped_byte_for_byte() {
    let files = unpacked();
    let model = files
        .iter()
        .find(|(n, _)| n.ends_with("/model.json"))
        .expect("model.json");
    assert_eq!(model.1, forest());
}

#[test]
fn rebuilding_gives_identical_bytes() {
    let again = build(forest(), DEPLOYED).expect("builds");
    assert_eq!(again.bytes, package().bytes);
    let later = build(forest(), DEPLOYED + 1_000_000).expect("builds");
    assert_ne!(
        later.bytes,
        package().bytes,
        "the timestamp is part of the package"
    );
}

#[test]
fn fresh_package_verifies() {
    let v = verify(&package().bytes).expect("readable");
    assert!(v.ok, "{:?}", problems_of(&v));
    assert!(v.model_loads);
    assert_eq!(v.model_version.as_deref(), Some("20240101_000000"));
    assert_eq!(
        v.folder.as_deref(),
        Some("model_20240101_000000_deployment")
    );
    let test = v.self_test.expect("self-test ran");
    assert_eq!(
        (test.passed, test.vectors),
        (SELF_TEST_VECTORS, SELF_TEST_VECTORS)
    );
    assert_eq!(test.max_difference, 0.0);
    assert!(v
        .files
        .iter()
        .all(|f| matches!(f.status, FileStatus::Ok | FileStatus::Sealed)));
}

#[test]
fn self_test_covers_both_verdicts() {
    let vectors = &package().manifest.self_test.vectors;
    assert!(vectors.iter().any(|v| v.is_anomaly));
    assert!(vectors.iter().any(|v| !v.is_anomaly));
}

#[test]
fn lof_package_verifies() {
    let lof = model_json(DetectorKind::Lof);
    let p = build(&lof, DEPLOYED).expect("builds");
    let v = verify(&p.bytes).expect("readable");
    assert!(v.ok, "{:?}", problems_of(&v));
    assert_eq!(p.manifest.inference_config.detector, "lof");
}

#[test]
fn a_flipped_byte_in_any_file_is_named() {
    for (name, bytes) in unpacked() {
        for at in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut files = unpacked();
            let file = files.iter_mut().find(|(n, _)| *n == name).expect("file");
            file.1[at] ^= 0x01;
            let v = verify_files(files);
            let short = name.rsplit('/').next().unwrap_or_default();
            assert!(!v.ok, "{name} byte {at} flipped, still ok");
            assert!(
                v.problems.iter().any(|p| p.file == short),
                "{name} byte {at}: {:?}",
                problems_of(&v)
            );
        }
    }
}

#[test]
fn missing_and_unexpected_files_are_named() {
    let mut files: Vec<_> = unpacked()
        .into_iter()
        .filter(|(n, _)| !n.ends_with("/scaler.json"))
        .collect();
    files.push((
        "model_20240101_000000_deployment/extra.sh".into(),
        b"rm -rf /".to_vec(),
    ));
    let v = verify_files(files);
    assert!(!v.ok);
    let problems = problems_of(&v);
    assert!(
        problems.contains(&"scaler.json: missing".to_owned()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"extra.sh: unexpected: not listed in the manifest".to_owned()),
        "{problems:?}"
    );
    let status = |name: &str| v.files.iter().find(|f| f.name == name).map(|f| f.status);
    assert_eq!(status("scaler.json"), Some(FileStatus::Missing));
    assert_eq!(status("extra.sh"), Some(FileStatus::Unexpected));
}

#[test]
fn missing_manifest_stops_the_check_with_a_reason() {
    let files: Vec<_> = unpacked()
        .into_iter()
        .filter(|(n, _)| !n.ends_with(MANIFEST_FILE))
        .collect();
    let v = verify_files(files);
    assert!(!v.ok);
    assert_eq!(problems_of(&v), ["deployment_manifest.json: missing"]);
}

#[test]
fn unpacked_files_without_a_folder_verify_and_pycache_is_ignored() {
    let mut files: Vec<(String, Vec<u8>)> = unpacked()
        .into_iter()
        .map(|(n, b)| (n.rsplit('/').next().unwrap_or_default().to_owned(), b))
        .collect();
    files.push((
        "__pycache__/inference_example.cpython-311.pyc".into(),
        vec![0; 16],
    ));
    let v = verify_files(files);
    assert!(v.ok, "{:?}", problems_of(&v));
    assert_eq!(v.folder, None);
}

#[test]
fn a_renamed_folder_is_reported() {
    let files: Vec<_> = unpacked()
        .into_iter()
        .map(|(n, b)| (n.replace("20240101_000000", "20990101_000000"), b))
        .collect();
    let v = verify_files(files);
    assert!(!v.ok);
    assert!(
        problems_of(&v)[0].contains("folder is named"),
        "{:?}",
        v.problems
    );
}

/// A package whose manifest was rewritten consistently (hashes and seal recomputed) but whose
/// self-test expects other scores: the hashes pass and the self-test catches it.
#[test]
fn a_resealed_manifest_with_wrong_scores_fails_the_self_test() {
    let mut manifest = package().manifest.clone();
    manifest.self_test.vectors[0].score += 1e-6;
    let sealed = manifest::seal(&mut manifest);
    let mut files = unpacked();
    let entry = files
        .iter_mut()
        .find(|(n, _)| n.ends_with(MANIFEST_FILE))
        .expect("manifest");
    entry.1 = sealed;
    let v = verify_files(files);
    assert!(!v.ok);
    assert!(v.model_loads);
    let test = v.self_test.clone().expect("ran");
    assert_eq!(test.passed, SELF_TEST_VECTORS - 1);
    assert!(problems_of(&v)[0].starts_with("deployment_manifest.json: self_test vector 0"));
}

#[test]
fn a_loose_tolerance_is_refused() {
    let mut manifest = package().manifest.clone();
    manifest.self_test.tolerance = 1.0;
    let sealed = manifest::seal(&mut manifest);
    let mut files = unpacked();
    if let Some(entry) = files.iter_mut().find(|(n, _)| n.ends_with(MANIFEST_FILE)) {
        entry.1 = sealed;
    }
    let v = verify_files(files);
    assert!(problems_of(&v).iter().any(|p| p.contains("tolerance")));
}

#[test]
fn an_oversized_manifest_is_refused_before_parsing() {
    let mut files = unpacked();
    if let Some(entry) = files.iter_mut().find(|(n, _)| n.ends_with(MANIFEST_FILE)) {
        entry.1 = vec![b' '; (4 << 20) + 1];
    }
    let v = verify_files(files);
    assert!(
        problems_of(&v)[0].contains("larger than"),
        "{:?}",
        v.problems
    );
}

#[test]
fn a_model_that_does_not_load_is_reported_not_packaged() {
    assert!(matches!(
        build(b"{\"format\": \"something-else\"}", DEPLOYED),
        Err(PackageError::Model(_))
    ));
    // Inside a package whose hashes were recomputed: named as model.json.
    let mut files = unpacked();
    if let Some(entry) = files.iter_mut().find(|(n, _)| n.ends_with("/model.json")) {
        entry.1 = b"{}".to_vec();
    }
    let v = verify_files(files);
    assert!(!v.model_loads);
    assert!(problems_of(&v)
        .iter()
        .any(|p| p.starts_with("model.json: ")));
}

#[test]
fn an_archive_with_no_files_is_an_error() {
    let empty = write_zip(&[]).expect("writes");
    assert_eq!(verify(&empty), Err(PackageError::Empty));
    let not_zip = verify(b"not a zip");
    assert!(matches!(not_zip, Err(PackageError::Archive(_))));
}

#[test]
fn a_package_zipped_again_by_another_tool_still_verifies() {
    // Same files, other order and an explicit directory entry, as `zip -r` would write.
    let mut entries: Vec<ZipEntry> = unpacked()
        .into_iter()
        .rev()
        .map(|(name, data)| ZipEntry {
            name,
            data,
            executable: false,
        })
        .collect();
    entries.push(ZipEntry {
        name: "model_20240101_000000_deployment/".into(),
        data: Vec::new(),
        executable: false,
    });
    let bytes = write_zip(&entries);
    // The writer may refuse directory entries; the files alone must verify either way.
    let bytes = bytes
        .unwrap_or_else(|_| write_zip(&entries[..entries.len() - 1]).expect("writes the files"));
    let v = verify(&bytes).expect("readable");
    assert!(v.ok, "{:?}", problems_of(&v));
}

/// validate_model.py accepts hex digits in either case; so does `verify`.
#[test]
fn upper_case_hashes_verify_as_in_python() {
    let mut manifest = package().manifest.clone();
    for digest in manifest.file_integrity.values_mut() {
        digest.sha256 = digest.sha256.to_ascii_uppercase();
    }
    let sealed = String::from_utf8(manifest::seal(&mut manifest)).expect("utf-8");
    let seal = &manifest.manifest_sha256;
    let upper = sealed.replace(seal.as_str(), &seal.to_ascii_uppercase());
    let mut files = unpacked();
    if let Some(entry) = files.iter_mut().find(|(n, _)| n.ends_with(MANIFEST_FILE)) {
        entry.1 = upper.into_bytes();
    }
    let v = verify_files(files);
    assert!(v.ok, "{:?}", problems_of(&v));
}

#[test]
fn packages_record_the_log_type_and_protocol_of_agent_models() {
    // A model of the test-only `testdns` agent, trained on raw lines.
    let raw: String = (0..300)
        .map(|i| {
            format!(
                "2024-01-01T00:{:02}:{:02}Z gw{} testdnsd[7]: query[A] n{}.example from 10.0.0.1\n",
                i / 60,
                i % 60,
                i % 3,
                if i % 30 == 29 { i } else { i % 7 }
            )
        })
        .collect();
    let config = Config::defaults();
    let options = TrainChoices {
        seed: Some(5),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .expect("parameters")
    .options(&config, NOW);
    let input = TrainInput::log(
        raw.as_bytes(),
        "dns.log",
        None,
        crate::agent::ParseContext { default_year: 2024 },
    );
    let hooks = Hooks {
        progress: &mut |_| true,
        elapsed_ms: &|| 0.0,
    };
    let model = train(input, &options, hooks).expect("trains").artifact;
    assert_eq!(model.log_type, "testdns");
    let built = build(&model.to_json(), DEPLOYED).expect("builds");
    let info = &built.manifest.model_info;
    assert_eq!(
        (info.log_type.as_str(), info.protocol_version.as_str()),
        ("testdns", crate::agent::PROTOCOL_VERSION)
    );
    let v = verify(&built.bytes).expect("readable");
    assert!(v.ok, "{:?}", problems_of(&v));
    let files = read_zip(&built.bytes, &PACKAGE_LIMITS).expect("reads");
    let card = files
        .iter()
        .find(|e| e.name.ends_with(README_FILE))
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .unwrap_or_default();
    assert!(card.contains("testdns log anomaly detector"), "{card}");
    assert!(
        card.contains("| Log type | `testdns` (agent protocol 1.0.0) |"),
        "{card}"
    );
    // WiFi packages say so too.
    assert_eq!(package().manifest.model_info.log_type, "wifi");
}
