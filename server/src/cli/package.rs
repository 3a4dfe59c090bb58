//! `package` and `verify`: deployment packages on the command line.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use mcp_train_core::package::{
    self, zip::read_zip, FileStatus, PackagedModel, Verification, PACKAGE_LIMITS,
};
use mcp_train_core::pipeline::ModelArtifact;
use mcp_train_core::registry::{is_valid_version, ModelRecord};
use mcp_train_core::time::parse_iso8601;

use super::args::{PackageArgs, VerifyArgs};
use super::input::{display, read_input, Output};
use super::{Failure, Outcome};

/// Largest model file read, in MiB.
const MAX_MODEL_MB: u64 = 4096;
/// Largest package read, in MiB (the unpacked limit is enforced by the reader).
const MAX_PACKAGE_MB: u64 = 512;

/// The model's bytes and, for a registered model, its record. A path that exists is a file;
/// otherwise a version (or `latest`, `deployed`) in the registry.
fn model_bytes(args: &PackageArgs) -> Result<(Vec<u8>, Option<ModelRecord>), Failure> {
    let name = args.model.to_string_lossy();
    let is_version = is_valid_version(&name) || name == "latest" || name == "deployed";
    if !is_version || args.model.exists() {
        return Ok((read_input(&args.model, MAX_MODEL_MB)?, None));
    }
    let dir = super::registry_at(args.registry.as_deref())?;
    let registry = dir.open();
    let fail = |e| Failure::registry(&dir, e);
    let record = registry.resolve(&name).map_err(fail)?;
    let stored = registry.get(&record.version).map_err(fail)?;
    Ok((stored.bytes, Some(stored.record)))
}

pub fn package(args: PackageArgs) -> Outcome {
    let (bytes, record) = model_bytes(&args)?;
    let artifact = ModelArtifact::from_json(&bytes)
        .with_context(|| format!("cannot package {}", display(&args.model)))
        .map_err(Failure::invalid)?;
    let explicit = match &args.timestamp {
        Some(text) => Some(
            parse_iso8601(text)
                .map_err(|e| Failure::usage(anyhow::anyhow!("--timestamp: {e}")))?
                .micros,
        ),
        None => None,
    };
    let model = match &record {
        Some(record) => PackagedModel::Registered(record),
        None => PackagedModel::File(&artifact),
    };
    let deployed = package::deployment_time(model, explicit)
        .map_err(|e| Failure::invalid(anyhow::anyhow!("model {e}")))?;
    let built = package::build(&bytes, deployed)
        .with_context(|| format!("cannot package {}", display(&args.model)))
        .map_err(Failure::invalid)?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(&built.file_name));
    write_file(&out, &built.bytes)?;
    let sha256 = mcp_train_core::pipeline::sha256_hex(&built.bytes);
    if args.json {
        let summary = serde_json::json!({
            "file": out.display().to_string(),
            "model_version": built.manifest.model_version,
            "deployment_timestamp": built.manifest.deployment_timestamp,
            "size_bytes": built.bytes.len(),
            "sha256": sha256,
            "files": built.manifest.files,
        });
        println!("{summary:#}");
    } else {
        println!(
            "wrote {} ({} files, {} bytes, sha256 {sha256})",
            out.display(),
            built.manifest.files.len(),
            built.bytes.len()
        );
        println!(
            "check it with `mcp-train verify {}`, or unzip it and run `python3 validate_model.py`",
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut output = Output::create(path)?;
    output
        .writer()
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", display(path)))?;
    output.commit()
}

pub fn verify(args: VerifyArgs) -> Outcome {
    let path = &args.package;
    let cannot_read = |e: &dyn std::fmt::Display| {
        Failure::usage(anyhow::anyhow!(
            "cannot read package {}: {e}",
            display(path)
        ))
    };
    let is_dir = fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
    let (verification, zip_bytes) = if is_dir {
        if args.extract.is_some() {
            return Err(Failure::usage(anyhow::anyhow!(
                "--extract unpacks a ZIP; {} is already a folder",
                display(path)
            )));
        }
        let files = read_folder(path)?;
        (package::verify_files(files), None)
    } else {
        let bytes = read_input(path, MAX_PACKAGE_MB)?;
        let verification = package::verify(&bytes).map_err(|e| cannot_read(&e))?;
        (verification, Some(bytes))
    };
    if args.json {
        println!(
            "{:#}",
            serde_json::to_value(&verification).unwrap_or_default()
        );
    } else {
        print!("{}", render(&display(path), &verification));
    }
    if !verification.ok {
        let first = verification
            .problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        eprintln!(
            "error: {} failed verification: {first}{}",
            display(path),
            match verification.problems.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            }
        );
        return Ok(ExitCode::from(1));
    }
    if let (Some(dir), Some(bytes)) = (&args.extract, zip_bytes) {
        let folder = extract(&bytes, dir, &verification)?;
        if !args.json {
            println!("unpacked into {}", folder.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The files of an unpacked package, relative to its folder. Symbolic links are refused: a
/// package holds regular files only, and following one could read anything on the machine.
fn read_folder(root: &Path) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut files = Vec::new();
    let mut total: u64 = 0;
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries =
            fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let name = relative.join(entry.file_name());
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            let text = name.to_string_lossy().replace('\\', "/");
            if kind.is_symlink() {
                return Err(Failure::invalid(anyhow::anyhow!(
                    "{text} in {} is a symbolic link; a package holds regular files only",
                    root.display()
                )));
            } else if kind.is_dir() {
                pending.push(name);
            } else {
                let bytes = fs::read(entry.path())
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                total += bytes.len() as u64;
                if files.len() >= PACKAGE_LIMITS.max_entries * 4
                    || total > PACKAGE_LIMITS.max_total_size
                {
                    return Err(Failure::invalid(anyhow::anyhow!(
                        "{} holds more than a package can ({} files, {total} bytes so far)",
                        root.display(),
                        files.len() + 1
                    )));
                }
                files.push((text, bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes a verified ZIP's files into `dir/<folder>/`. The folder must not exist yet, so nothing
/// is overwritten; entry names were checked by the reader (no `..`, no absolute paths).
fn extract(bytes: &[u8], dir: &Path, verification: &Verification) -> Result<PathBuf, Failure> {
    let folder_name = match (&verification.folder, &verification.model_version) {
        (Some(folder), _) => folder.clone(),
        (None, Some(version)) => package::folder_name(version),
        (None, None) => "package".to_owned(),
    };
    let entries = read_zip(bytes, &PACKAGE_LIMITS)
        .map_err(|e| Failure::usage(anyhow::anyhow!("cannot read package: {e}")))?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = dir.join(&folder_name);
    fs::create_dir(&target).with_context(|| {
        format!(
            "cannot unpack into {} (it must not exist yet)",
            target.display()
        )
    })?;
    let prefix = verification
        .folder
        .as_ref()
        .map(|f| format!("{f}/"))
        .unwrap_or_default();
    for entry in entries {
        let Some(name) = entry.name.strip_prefix(&prefix) else {
            continue;
        };
        // A verified package is flat: one level of regular files.
        if name.is_empty() || name.contains('/') {
            continue;
        }
        let path = target.join(name);
        fs::write(&path, &entry.data)
            .with_context(|| format!("cannot write {}", path.display()))?;
        #[cfg(unix)]
        if entry.executable {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make {} executable", path.display()))?;
        }
    }
    Ok(target)
}

fn render(name: &str, v: &Verification) -> String {
    let mut s = format!(
        "Package {name}{}\n",
        v.model_version
            .as_ref()
            .map(|m| format!(" — model {m}"))
            .unwrap_or_default()
    );
    for file in &v.files {
        let status = match file.status {
            FileStatus::Ok => "ok",
            FileStatus::Sealed => "sealed",
            FileStatus::Missing => "MISSING",
            FileStatus::Altered => "ALTERED",
            FileStatus::Unexpected => "UNEXPECTED",
        };
        let size = file
            .size_bytes
            .map(|b| format!("{b} bytes"))
            .unwrap_or_default();
        s.push_str(&format!("  {status:<10} {:<26} {size}\n", file.name));
    }
    let model = match (v.model_loads, &v.model_version) {
        (true, _) => "loads",
        // Without a readable manifest nothing else is checked.
        (false, None) => "not checked",
        (false, Some(_)) => "DOES NOT LOAD",
    };
    s.push_str(&format!("  model      {model}\n"));
    if let Some(t) = &v.self_test {
        s.push_str(&format!(
            "  self-test  {}/{} vectors match (largest difference {:e}, tolerance {:e})\n",
            t.passed, t.vectors, t.max_difference, t.tolerance
        ));
    }
    if v.ok {
        s.push_str(
            "verified: every file matches its SHA-256, the model loads and its self-test passes\n",
        );
    } else {
        s.push_str(&format!(
            "verification FAILED ({} problem{}):\n",
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" }
        ));
        for p in &v.problems {
            s.push_str(&format!("  {p}\n"));
        }
    }
    s
}
