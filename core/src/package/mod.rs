//! Deployment packages: `model_<version>_deployment.zip`, built in memory with deterministic
//! bytes, and verified (hashes, loadable model, self-test scores) safely from untrusted bytes.
//!
//! The layout is documented in `docs/PACKAGE.md`. [`build`] turns a model file into the ZIP;
//! [`verify`] reads a ZIP (and [`verify_files`] an unpacked folder's files) and says which files
//! are missing, altered or unexpected, whether the model loads and whether its self-test scores
//! match.

mod card;
mod deployment;
mod manifest;
mod verify;
pub mod zip;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use deployment::{deploying_time, deployment_time, DeploymentTimeError, PackagedModel};
pub use manifest::{
    ArtifactFile, DeploymentInfo, EvaluationSummary, FileDigest, InferenceConfig, Manifest,
    Metadata, ModelInfo, ScalerFile, SelfTest, SelfTestVector, TrainingSummary, MANIFEST_HASH_KEY,
    PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, PYTHON_REQUIRES, SELF_TEST_TOLERANCE,
};
pub use verify::{
    verify, verify_files, FileCheck, FileStatus, Problem, SelfTestOutcome, Verification,
    PACKAGE_LIMITS,
};

use crate::pipeline::{sha256_hex, ArtifactError, ModelArtifact};
use crate::time::format_iso8601;
use zip::{ZipEntry, ZipError};

/// Name of the model file in a package.
pub const MODEL_FILE: &str = "model.json";
/// Name of the scaler file in a package.
pub const SCALER_FILE: &str = "scaler.json";
/// Name of the metadata file in a package.
pub const METADATA_FILE: &str = "metadata.json";
/// Name of the manifest, which carries every other file's hash.
pub const MANIFEST_FILE: &str = "deployment_manifest.json";
/// Name of the script that checks a package with the Python standard library only.
pub const VALIDATE_SCRIPT: &str = "validate_model.py";
/// Name of the script that scores rows with the packaged model.
pub const INFERENCE_SCRIPT: &str = "inference_example.py";
/// Name of the (empty) Python requirements file.
pub const REQUIREMENTS_FILE: &str = "requirements.txt";
/// Name of the package's human-readable model card.
pub const README_FILE: &str = "README.md";

/// Every file of a package, sorted.
pub const PACKAGE_FILES: [&str; 8] = [
    README_FILE,
    MANIFEST_FILE,
    INFERENCE_SCRIPT,
    METADATA_FILE,
    MODEL_FILE,
    REQUIREMENTS_FILE,
    SCALER_FILE,
    VALIDATE_SCRIPT,
];

const VALIDATE_PY: &str = include_str!("python/validate_model.py");
const INFERENCE_PY: &str = include_str!("python/inference_example.py");
const REQUIREMENTS_TXT: &str = "# No third-party packages are needed.\n\
# validate_model.py and inference_example.py use only the Python standard library (Python >= 3.8).\n";

/// Feature vectors in the self-test.
const SELF_TEST_VECTORS: usize = 8;

/// Why a package could not be built or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackageError {
    /// `model.json` does not load as a model.
    #[error("model.json: {0}")]
    Model(#[from] ArtifactError),
    /// The model cannot score its own self-test vectors.
    #[error("cannot score the self-test vectors: {0}")]
    SelfTest(String),
    /// The ZIP cannot be written or read.
    #[error(transparent)]
    Archive(#[from] ZipError),
    /// The ZIP holds no files at all.
    #[error("the archive holds no files")]
    Empty,
}

/// A built package.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentPackage {
    /// `model_<version>_deployment.zip`.
    pub file_name: String,
    /// The ZIP's bytes.
    pub bytes: Vec<u8>,
    /// The package's `deployment_manifest.json`, as written.
    pub manifest: Manifest,
}

/// `model_<version>_deployment`: the folder inside the ZIP, and the ZIP's name without `.zip`.
pub fn folder_name(version: &str) -> String {
    format!("model_{version}_deployment")
}

/// Builds the package of a model file. `deployed_micros` is the deployment timestamp
/// (microseconds since the epoch, UTC); the same model bytes and timestamp always give the same
/// ZIP bytes. `model_json` is shipped exactly as given, after it is checked to load.
pub fn build(model_json: &[u8], deployed_micros: i64) -> Result<DeploymentPackage, PackageError> {
    let artifact = ModelArtifact::from_json(model_json)?;
    let timestamp = format_iso8601(deployed_micros);
    let folder = folder_name(&artifact.version);
    let files: Vec<String> = PACKAGE_FILES.iter().map(|f| (*f).to_owned()).collect();

    let metadata = Metadata::of(&artifact, &timestamp, &files);
    let inference = InferenceConfig::of(&artifact);
    let scaler = manifest::to_pretty_json(&ScalerFile::of(&artifact));
    let metadata_json = manifest::to_pretty_json(&metadata);
    let readme = card::model_card(&metadata, &inference, &folder);

    let contents: [(&str, &[u8]); 7] = [
        (README_FILE, readme.as_bytes()),
        (INFERENCE_SCRIPT, INFERENCE_PY.as_bytes()),
        (METADATA_FILE, &metadata_json),
        (MODEL_FILE, model_json),
        (REQUIREMENTS_FILE, REQUIREMENTS_TXT.as_bytes()),
        (SCALER_FILE, &scaler),
        (VALIDATE_SCRIPT, VALIDATE_PY.as_bytes()),
    ];
    let digest = |bytes: &[u8]| FileDigest {
        sha256: sha256_hex(bytes),
        size_bytes: bytes.len() as u64,
    };
    let file_integrity = contents
        .iter()
        .map(|(name, bytes)| ((*name).to_owned(), digest(bytes)))
        .collect();
    let model_artifacts = [
        (
            MODEL_FILE,
            model_json.len(),
            "the model: schema, scaler, detector, threshold, evaluation, lineage",
        ),
        (
            SCALER_FILE,
            scaler.len(),
            "the StandardScaler applied before the detector",
        ),
        (
            METADATA_FILE,
            metadata_json.len(),
            "model, training, evaluation and deployment information",
        ),
    ]
    .into_iter()
    .map(|(name, size, description)| {
        (
            name.to_owned(),
            ArtifactFile {
                size_bytes: size as u64,
                description: description.to_owned(),
            },
        )
    })
    .collect();

    let mut manifest = Manifest {
        package_format: PACKAGE_FORMAT.to_owned(),
        package_format_version: PACKAGE_FORMAT_VERSION,
        model_version: artifact.version.clone(),
        deployment_timestamp: timestamp,
        generator: crate::pipeline::generator(),
        model_info: metadata.model_info,
        training_info: metadata.training_info,
        evaluation_info: metadata.evaluation_info,
        deployment_info: metadata.deployment_info,
        files,
        file_integrity,
        model_artifacts,
        inference_config: inference,
        self_test: self_test(&artifact)?,
        manifest_sha256: String::new(),
    };
    let manifest_json = manifest::seal(&mut manifest);

    let entries: Vec<ZipEntry> = contents
        .iter()
        .copied()
        .chain([(MANIFEST_FILE, manifest_json.as_slice())])
        .map(|(name, bytes)| ZipEntry {
            name: format!("{folder}/{name}"),
            data: bytes.to_vec(),
            executable: name.ends_with(".py"),
        })
        .collect();
    let bytes = zip::write_zip(&entries)?;
    Ok(DeploymentPackage {
        file_name: format!("{folder}.zip"),
        bytes,
        manifest,
    })
}

/// Probe vectors around the training distribution — the mean record, seeded random ones within
/// two standard deviations, and far-out ones — with the scores the model gives them.
fn self_test(artifact: &ModelArtifact) -> Result<SelfTest, PackageError> {
    let mean = artifact.scaler.mean();
    let scale = artifact.scaler.scale();
    let n = mean.len();
    let mut rng = ChaCha8Rng::seed_from_u64(artifact.training.seed);
    let mut rows: Vec<f64> = Vec::with_capacity(SELF_TEST_VECTORS * n);
    for k in 0..SELF_TEST_VECTORS {
        for (m, s) in mean.iter().zip(scale) {
            let z = match k {
                0 => 0.0,
                6 => 4.0,
                7 => -3.0,
                _ => rng.gen_range(-2.0..2.0),
            };
            rows.push(m + z * s);
        }
    }
    let scored = artifact
        .score_rows(&rows)
        .map_err(|e| PackageError::SelfTest(e.to_string()))?;
    let names = artifact.input.feature_names();
    let vectors = rows
        .chunks_exact(n.max(1))
        .zip(scored)
        .map(|(row, (score, decision))| SelfTestVector {
            features: names.iter().cloned().zip(row.iter().copied()).collect(),
            score,
            decision,
            is_anomaly: decision < 0.0,
        })
        .collect();
    Ok(SelfTest {
        tolerance: SELF_TEST_TOLERANCE,
        vectors,
    })
}

#[cfg(test)]
mod tests;
