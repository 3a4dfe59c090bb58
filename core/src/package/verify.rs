//! Checking a package someone hands us: every file against the manifest's hashes, the manifest
//! against its own hash, the model against the manifest, and the self-test scores against the
//! model. Everything found is reported, not just the first problem, and each problem names its
//! file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::manifest::{self, Manifest, ScalerFile};
use super::zip::{read_zip, ZipLimits};
use super::{PackageError, MANIFEST_FILE, MODEL_FILE, PACKAGE_FILES, SCALER_FILE};
use crate::pipeline::{sha256_hex, ModelArtifact};

/// What a package may hold: a handful of files, the model the largest.
pub const PACKAGE_LIMITS: ZipLimits = ZipLimits {
    max_entries: 64,
    max_entry_size: 256 << 20,
    max_total_size: 512 << 20,
    max_ratio: 200,
    ratio_floor: 1 << 20,
};

/// A manifest larger than this is refused before it is parsed.
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// A manifest may not loosen the self-test beyond this.
const MAX_TOLERANCE: f64 = 1e-6;

/// What became of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Present with the size and SHA-256 the manifest records.
    Ok,
    /// Listed by the manifest (or required by the format) but absent.
    Missing,
    /// Present, but its bytes differ from what the manifest records.
    Altered,
    /// Present but not listed by the manifest.
    Unexpected,
    /// The manifest itself: present, and its own hash matches.
    Sealed,
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileCheck {
    /// File name inside the package, without the folder.
    pub name: String,
    /// What the check found.
    pub status: FileStatus,
    /// SHA-256 the manifest records; `None` when it does not list the file (or it is the manifest).
    pub expected_sha256: Option<String>,
    /// SHA-256 of the bytes found; `None` when the file is missing.
    pub actual_sha256: Option<String>,
    /// Size of the bytes found; `None` when the file is missing.
    pub size_bytes: Option<u64>,
}

/// One thing wrong, and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    /// The package file the problem is in.
    pub file: String,
    /// What is wrong, in a sentence for the user.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// How the self-test went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SelfTestOutcome {
    /// Vectors in the manifest's self-test.
    pub vectors: usize,
    /// Vectors whose score and decision the model reproduced within `tolerance`.
    pub passed: usize,
    /// Largest difference allowed, as the manifest states it.
    pub tolerance: f64,
    /// Largest |score − expected| and |decision − expected| over the vectors.
    pub max_difference: f64,
}

/// The verdict on a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verification {
    /// No problems.
    pub ok: bool,
    /// `model_version` from the manifest, when it could be read.
    pub model_version: Option<String>,
    /// The folder the files sit in, if they sit in one.
    pub folder: Option<String>,
    /// Every file checked, by name.
    pub files: Vec<FileCheck>,
    /// Whether `model.json` loads and agrees with `scaler.json` and the manifest.
    pub model_loads: bool,
    /// `None` when the model could not be loaded or the manifest read.
    pub self_test: Option<SelfTestOutcome>,
    /// Everything wrong with the package; empty exactly when `ok`.
    pub problems: Vec<Problem>,
}

impl Verification {
    fn problem(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_owned(),
            message: message.into(),
        });
    }
}

/// Verifies a package ZIP. An archive that cannot be read safely (not a ZIP, truncated,
/// zip-slip or absolute paths, symlinks, duplicate names, bombs) is an error; anything wrong with
/// the package inside a readable archive is reported in the [`Verification`].
pub fn verify(zip_bytes: &[u8]) -> Result<Verification, PackageError> {
    let entries = read_zip(zip_bytes, &PACKAGE_LIMITS)?;
    if entries.is_empty() {
        return Err(PackageError::Empty);
    }
    Ok(verify_files(
        entries.into_iter().map(|e| (e.name, e.data)).collect(),
    ))
}

/// Verifies a package's files, given by path relative to the package (`model.json`) or to the
/// folder holding it (`model_<version>_deployment/model.json`). Python's `__pycache__` folders
/// are ignored, since running the scripts creates them.
pub fn verify_files(files: Vec<(String, Vec<u8>)>) -> Verification {
    let (folder, files) = strip_folder(files);
    let mut v = Verification {
        ok: false,
        model_version: None,
        folder,
        files: Vec::new(),
        model_loads: false,
        self_test: None,
        problems: Vec::new(),
    };
    let manifest = match files.get(MANIFEST_FILE) {
        None => {
            v.problem(MANIFEST_FILE, "missing".to_owned());
            None
        }
        Some(bytes) => match read_manifest(bytes) {
            Ok(m) => Some(m),
            Err(message) => {
                v.problem(MANIFEST_FILE, message);
                None
            }
        },
    };
    let Some(manifest) = manifest else {
        // Without the manifest nothing can be checked; list what is there.
        for (name, bytes) in &files {
            v.files.push(FileCheck {
                name: name.clone(),
                status: if name == MANIFEST_FILE {
                    FileStatus::Altered
                } else {
                    FileStatus::Unexpected
                },
                expected_sha256: None,
                actual_sha256: Some(sha256_hex(bytes)),
                size_bytes: Some(bytes.len() as u64),
            });
        }
        return v;
    };
    v.model_version = Some(manifest.model_version.clone());
    if let Some(folder) = v.folder.clone() {
        let expected = super::folder_name(&manifest.model_version);
        if folder != expected {
            v.problem(
                &folder,
                format!("folder is named {folder:?}, the manifest's model is in {expected:?}"),
            );
        }
    }

    check_files(&mut v, &manifest, &files);
    if let Some(artifact) = check_model(&mut v, &manifest, &files) {
        v.model_loads = true;
        check_self_test(&mut v, &manifest, &artifact);
    }
    v.ok = v.problems.is_empty();
    v
}

/// The one folder every file sits in, if there is one, and the files relative to it.
fn strip_folder(files: Vec<(String, Vec<u8>)>) -> (Option<String>, BTreeMap<String, Vec<u8>>) {
    let files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(name, _)| {
            !name.ends_with('/')
                && !name.ends_with(".pyc")
                && !name.split('/').any(|part| part == "__pycache__")
        })
        .collect();
    let top = |name: &str| name.split_once('/').map(|(top, _)| top.to_owned());
    let folder = files.first().and_then(|(name, _)| top(name));
    let shared = folder
        .as_ref()
        .filter(|f| files.iter().all(|(name, _)| top(name).as_ref() == Some(*f)));
    match shared {
        Some(folder) => {
            let cut = folder.len() + 1;
            let folder = folder.clone();
            (
                Some(folder),
                files
                    .into_iter()
                    .map(|(name, bytes)| (name[cut..].to_owned(), bytes))
                    .collect(),
            )
        }
        None => (None, files.into_iter().collect()),
    }
}

fn read_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{} bytes is larger than the {MAX_MANIFEST_BYTES} a manifest may be",
            bytes.len()
        ));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    match value.get("package_format").and_then(|f| f.as_str()) {
        Some(super::PACKAGE_FORMAT) => {}
        other => {
            return Err(format!(
                "not an mcp-train deployment manifest (package_format {})",
                other.map_or("missing".to_owned(), |f| format!("{f:?}"))
            ))
        }
    }
    match value.get("package_format_version").and_then(|f| f.as_u64()) {
        Some(v) if v == u64::from(super::PACKAGE_FORMAT_VERSION) => {}
        other => {
            return Err(format!(
                "package format version {} is not supported (this build reads version {})",
                other.map_or("missing".to_owned(), |v| v.to_string()),
                super::PACKAGE_FORMAT_VERSION
            ))
        }
    }
    let claimed = value
        .get(manifest::MANIFEST_HASH_KEY)
        .and_then(|h| h.as_str())
        .ok_or_else(|| format!("{} is missing", manifest::MANIFEST_HASH_KEY))?;
    if !manifest::seal_matches(bytes, claimed) {
        return Err(format!(
            "altered ({} does not match the manifest's contents)",
            manifest::MANIFEST_HASH_KEY
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("malformed: {e}"))
}

fn check_files(v: &mut Verification, manifest: &Manifest, files: &BTreeMap<String, Vec<u8>>) {
    for required in PACKAGE_FILES {
        if required != MANIFEST_FILE && !manifest.file_integrity.contains_key(required) {
            v.problem(
                MANIFEST_FILE,
                format!("file_integrity does not cover {required}"),
            );
        }
    }
    for listed in &manifest.files {
        if listed != MANIFEST_FILE && !manifest.file_integrity.contains_key(listed) {
            v.problem(
                MANIFEST_FILE,
                format!("{listed} is listed in files but has no hash in file_integrity"),
            );
        }
    }
    v.files.push(FileCheck {
        name: MANIFEST_FILE.to_owned(),
        status: FileStatus::Sealed,
        expected_sha256: None,
        actual_sha256: files.get(MANIFEST_FILE).map(|b| sha256_hex(b)),
        size_bytes: files.get(MANIFEST_FILE).map(|b| b.len() as u64),
    });
    for (name, expected) in &manifest.file_integrity {
        let mut check = FileCheck {
            name: name.clone(),
            status: FileStatus::Missing,
            expected_sha256: Some(expected.sha256.clone()),
            actual_sha256: None,
            size_bytes: None,
        };
        match files.get(name) {
            None => v.problem(name, "missing".to_owned()),
            Some(bytes) => {
                let actual = sha256_hex(bytes);
                check.size_bytes = Some(bytes.len() as u64);
                if actual.eq_ignore_ascii_case(&expected.sha256)
                    && bytes.len() as u64 == expected.size_bytes
                {
                    check.status = FileStatus::Ok;
                } else {
                    check.status = FileStatus::Altered;
                    v.problem(
                        name,
                        format!(
                            "altered: sha256 {actual} ({} bytes), the manifest records {} ({} bytes)",
                            bytes.len(),
                            expected.sha256,
                            expected.size_bytes
                        ),
                    );
                }
                check.actual_sha256 = Some(actual);
            }
        }
        v.files.push(check);
    }
    for (name, bytes) in files {
        if name != MANIFEST_FILE && !manifest.file_integrity.contains_key(name) {
            v.problem(name, "unexpected: not listed in the manifest".to_owned());
            v.files.push(FileCheck {
                name: name.clone(),
                status: FileStatus::Unexpected,
                expected_sha256: None,
                actual_sha256: Some(sha256_hex(bytes)),
                size_bytes: Some(bytes.len() as u64),
            });
        }
    }
    v.files.sort_by(|a, b| a.name.cmp(&b.name));
}

/// Loads `model.json` and checks that `scaler.json` and the manifest describe the same model.
fn check_model(
    v: &mut Verification,
    manifest: &Manifest,
    files: &BTreeMap<String, Vec<u8>>,
) -> Option<ModelArtifact> {
    let artifact = match files.get(MODEL_FILE).map(|b| ModelArtifact::from_json(b)) {
        None => return None,
        Some(Err(e)) => {
            v.problem(MODEL_FILE, format!("does not load: {e}"));
            return None;
        }
        Some(Ok(artifact)) => artifact,
    };
    let mut consistent = true;
    let names = artifact.input.feature_names();
    let config = &manifest.inference_config;
    let mut disagree = |what: &str| {
        consistent = false;
        v.problem(MANIFEST_FILE, format!("{what} disagrees with model.json"));
    };
    if manifest.model_version != artifact.version {
        disagree("model_version");
    }
    if config.feature_names != names || config.n_features != names.len() {
        disagree("inference_config.feature_names");
    }
    if config.threshold.to_bits() != artifact.threshold.offset.to_bits() {
        disagree("inference_config.threshold");
    }
    if config.detector != artifact.detector.name() {
        disagree("inference_config.detector");
    }
    match files.get(SCALER_FILE) {
        None => consistent = false,
        Some(bytes) => match serde_json::from_slice::<ScalerFile>(bytes) {
            Err(e) => {
                consistent = false;
                v.problem(SCALER_FILE, format!("malformed: {e}"));
            }
            Ok(scaler) if scaler != ScalerFile::of(&artifact) => {
                consistent = false;
                v.problem(
                    SCALER_FILE,
                    "differs from the scaler inside model.json".to_owned(),
                );
            }
            Ok(_) => {}
        },
    }
    consistent.then_some(artifact)
}

fn check_self_test(v: &mut Verification, manifest: &Manifest, artifact: &ModelArtifact) {
    let test = &manifest.self_test;
    let names = artifact.input.feature_names();
    if !(test.tolerance >= 0.0 && test.tolerance <= MAX_TOLERANCE) {
        v.problem(
            MANIFEST_FILE,
            format!(
                "self_test.tolerance {} is outside [0, {MAX_TOLERANCE}]",
                test.tolerance
            ),
        );
        return;
    }
    if test.vectors.is_empty() {
        v.problem(MANIFEST_FILE, "self_test has no vectors".to_owned());
        return;
    }
    let mut rows = Vec::with_capacity(test.vectors.len() * names.len());
    for (i, vector) in test.vectors.iter().enumerate() {
        for name in names {
            match vector.features.get(name) {
                Some(value) => rows.push(*value),
                None => {
                    v.problem(
                        MANIFEST_FILE,
                        format!("self_test vector {i} lacks feature {name}"),
                    );
                    return;
                }
            }
        }
    }
    let scored = match artifact.score_rows(&rows) {
        Ok(scored) => scored,
        Err(e) => {
            v.problem(
                MANIFEST_FILE,
                format!("cannot score the self_test vectors: {e}"),
            );
            return;
        }
    };
    let mut outcome = SelfTestOutcome {
        vectors: test.vectors.len(),
        passed: 0,
        tolerance: test.tolerance,
        max_difference: 0.0,
    };
    let mut first_failure = None;
    for (i, (vector, (score, decision))) in test.vectors.iter().zip(scored).enumerate() {
        let diff = (score - vector.score)
            .abs()
            .max((decision - vector.decision).abs());
        outcome.max_difference = outcome.max_difference.max(diff);
        // NaN differences fail: `!(diff <= tolerance)`.
        if diff <= test.tolerance && (decision < 0.0) == vector.is_anomaly {
            outcome.passed += 1;
        } else if first_failure.is_none() {
            first_failure = Some(format!(
                "self_test vector {i}: the model scores {score} (decision {decision}), the \
                 manifest expects {} (decision {}, anomaly {})",
                vector.score, vector.decision, vector.is_anomaly
            ));
        }
    }
    if let Some(message) = first_failure {
        v.problem(
            MANIFEST_FILE,
            format!(
                "{message}; {} of {} vectors pass",
                outcome.passed, outcome.vectors
            ),
        );
    }
    v.self_test = Some(outcome);
}
