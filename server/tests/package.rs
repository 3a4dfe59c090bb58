//! Deployment packages end to end: `mcp-train package`, then the ZIP unpacked by Python's own
//! `zipfile` and its scripts run with `python3`, as an agent's operator would; `mcp-train verify`
//! on good, tampered and hostile packages.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{failed, json, ok, run, text, Work};

const FILES: [&str; 8] = [
    "README.md",
    "deployment_manifest.json",
    "inference_example.py",
    "metadata.json",
    "model.json",
    "requirements.txt",
    "scaler.json",
    "validate_model.py",
];

fn python(args: &[&str], cwd: &Path) -> Output {
    Command::new("python3")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("python3 runs (Python 3 is required by these tests)")
}

/// Unzips with Python's zipfile (an implementation independent of ours) into `into`.
fn unzip(zip: &Path, into: &Path) -> PathBuf {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\nassert bad is None, bad\nz.extractall(sys.argv[2])\nprint(z.namelist()[0].split('/')[0])";
    let o = python(
        &[
            "-c",
            script,
            &zip.to_string_lossy(),
            &into.to_string_lossy(),
        ],
        Path::new("."),
    );
    ok(&o);
    into.join(text(&o.stdout).trim())
}

/// Trains a model (`extra` chooses detector and input) and packages it.
fn packaged(w: &Work, extra: &[&str]) -> (String, String) {
    let export = w.synth("export.json", "1500", "21");
    let mut args = vec!["train", "--seed", "3", "--out"];
    let model = w.s("model.json");
    args.push(&model);
    if extra.is_empty() {
        args.push(&export);
    }
    args.extend_from_slice(extra);
    ok(&run(&args, &[]));
    let zip = w.s("package.zip");
    ok(&run(&["package", &model, "--out", &zip], &[]));
    (model, zip)
}

/// `index,score,decision,is_anomaly` rows of a scores CSV, by header name.
fn scores(csv: &str) -> Vec<(f64, f64, bool)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (s, d, a) = (col("score"), col("decision"), col("is_anomaly"));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[s].parse().expect("score"),
                cells[d].parse().expect("decision"),
                cells[a] == "1" || cells[a] == "true",
            )
        })
        .collect()
}

/// Largest difference between two score lists, which must have equal verdicts.
fn compare(rust: &[(f64, f64, bool)], python: &[(f64, f64, bool)]) -> f64 {
    assert_eq!(rust.len(), python.len());
    let mut worst: f64 = 0.0;
    for (i, (r, p)) in rust.iter().zip(python).enumerate() {
        assert_eq!(r.2, p.2, "row {i}: verdicts differ ({r:?} vs {p:?})");
        worst = worst.max((r.0 - p.0).abs()).max((r.1 - p.1).abs());
    }
    worst
}

fn validate_passes(folder: &Path) {
    let o = python(&["validate_model.py"], folder);
    ok(&o);
    assert!(text(&o.stdout).contains("PASS"), "{}", text(&o.stdout));
}

#[test]
fn isolation_forest_package_validates_and_scores_like_the_cli() {
    let w = Work::new();
    let (model, zip) = packaged(&w, &[]);
    let folder = unzip(Path::new(&zip), &w.path("unpacked"));
    let names: Vec<String> = {
        let mut n: Vec<String> = std::fs::read_dir(&folder)
            .expect("lists")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names, FILES);
    validate_passes(&folder);

    // The CLI scores the export; Python scores the same records' features.
    let export = w.s("export.json");
    let features = w.s("features.csv");
    ok(&run(&["features", &export, "--out", &features], &[]));
    let cli = run(&["score", &model, &export], &[]);
    ok(&cli);
    let py = python(&["inference_example.py", &features], &folder);
    ok(&py);
    let (rust, python) = (scores(&text(&cli.stdout)), scores(&text(&py.stdout)));
    assert_eq!(rust.len(), 1500);
    let worst = compare(&rust, &python);
    assert!(worst <= 1e-9, "largest difference {worst:e}");
    assert!(rust.iter().any(|r| r.2) && rust.iter().any(|r| !r.2));
}

#[test]
fn lof_package_on_a_features_csv_validates_and_scores_like_the_cli() {
    let w = Work::new();
    let export = w.synth("source.json", "1200", "22");
    let features = w.s("features.csv");
    ok(&run(&["features", &export, "--out", &features], &[]));
    let (model, zip) = packaged(&w, &["--model", "lof", "--features-csv", &features]);
    let folder = unzip(Path::new(&zip), &w.path("unpacked"));
    validate_passes(&folder);
    let cli = run(&["score", &model, &features], &[]);
    ok(&cli);
    let py = python(&["inference_example.py", &features], &folder);
    ok(&py);
    let worst = compare(&scores(&text(&cli.stdout)), &scores(&text(&py.stdout)));
    assert!(worst <= 1e-9, "largest difference {worst:e}");
}

#[test]
fn rebuilding_a_package_gives_identical_bytes() {
    let w = Work::new();
    let (model, zip) = packaged(&w, &[]);
    let again = w.s("again.zip");
    ok(&run(&["package", &model, "--out", &again], &[]));
    assert_eq!(
        std::fs::read(&zip).expect("zip"),
        std::fs::read(&again).expect("again")
    );
    // Without --out the name says the version; --json says what was written.
    let o = run(&["package", &model, "--json"], &[]);
    ok(&o);
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let version = json(Path::new(&model))["version"]
        .as_str()
        .expect("version")
        .to_owned();
    let name = format!("model_{version}_deployment.zip");
    assert_eq!(summary["file"], name.as_str());
    assert_eq!(summary["files"].as_array().map(Vec::len), Some(8));
    let default_out = Path::new(&name);
    let bytes = std::fs::read(default_out).expect("written in the working directory");
    let _ = std::fs::remove_file(default_out);
    assert_eq!(bytes, std::fs::read(&zip).expect("zip"));
}

#[test]
fn one_flipped_byte_in_any_file_fails_both_validators_naming_the_file() {
    let w = Work::new();
    let (_, zip) = packaged(&w, &[]);
    for (i, file) in FILES.iter().enumerate() {
        let folder = unzip(Path::new(&zip), &w.path(&format!("copy{i}")));
        let path = folder.join(file);
        let mut bytes = std::fs::read(&path).expect("reads");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).expect("writes");

        let py = python(&["validate_model.py"], &folder);
        let said = format!("{}{}", text(&py.stdout), text(&py.stderr));
        assert_ne!(py.status.code(), Some(0), "{file}: python passed:\n{said}");
        assert!(
            said.contains(file),
            "{file}: python did not name it:\n{said}"
        );

        let o = run(&["verify", &folder.to_string_lossy()], &[]);
        assert_eq!(failed(&o), 1, "{file}");
        assert!(text(&o.stderr).contains(file), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains(file), "{}", text(&o.stdout));
    }
}

#[test]
fn verify_reports_a_good_package_and_extracts_it() {
    let w = Work::new();
    let (_, zip) = packaged(&w, &[]);
    let o = run(&["verify", &zip, "--json"], &[]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["model_loads"], true);
    assert_eq!(v["self_test"]["passed"], v["self_test"]["vectors"]);
    assert_eq!(v["files"].as_array().map(Vec::len), Some(8));

    let out = w.path("out");
    let o = run(&["verify", &zip, "--extract", &out.to_string_lossy()], &[]);
    ok(&o);
    let folder = std::fs::read_dir(&out)
        .expect("out")
        .next()
        .expect("one folder")
        .expect("entry")
        .path();
    validate_passes(&folder);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(folder.join("validate_model.py"))
            .expect("script")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "scripts are executable");
    }
    // Never over an existing folder.
    let again = run(&["verify", &zip, "--extract", &out.to_string_lossy()], &[]);
    assert_eq!(failed(&again), 2);
    assert!(text(&again.stderr).contains("must not exist yet"));
}

#[test]
fn verify_exit_codes_say_good_failed_or_unreadable() {
    let w = Work::new();
    let (_, zip) = packaged(&w, &[]);
    // Failed: an extra file in an otherwise good package.
    let folder = unzip(Path::new(&zip), &w.path("unpacked"));
    std::fs::write(folder.join("notes.txt"), "hello").expect("writes");
    let o = run(&["verify", &folder.to_string_lossy()], &[]);
    assert_eq!(failed(&o), 1);
    assert!(
        text(&o.stderr).contains("notes.txt: unexpected"),
        "{}",
        text(&o.stderr)
    );
    // Unreadable: not a ZIP, a missing file, a truncated ZIP.
    let not_zip = w.path("not.zip");
    std::fs::write(&not_zip, "PK but not really").expect("writes");
    let o = run(&["verify", &not_zip.to_string_lossy()], &[]);
    assert_eq!(failed(&o), 2);
    let o = run(&["verify", &w.s("absent.zip")], &[]);
    assert_eq!(failed(&o), 2);
    let bytes = std::fs::read(&zip).expect("zip");
    let cut = w.path("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("writes");
    let o = run(&["verify", &cut.to_string_lossy()], &[]);
    assert_eq!(failed(&o), 2);
    assert!(
        text(&o.stderr).contains("cannot read package"),
        "{}",
        text(&o.stderr)
    );
}

/// Every file under `dir`, recursively.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).expect("lists") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                pending.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_archives_are_rejected_and_nothing_is_written() {
    let w = Work::new();
    let (_, zip) = packaged(&w, &[]);
    let hostile = w.path("hostile");
    std::fs::create_dir(&hostile).expect("mkdir");
    // Each archive is the good package plus one hostile entry, written by Python's zipfile.
    let script = r#"
import sys, zipfile, os
good, out = sys.argv[1], sys.argv[2]
src = zipfile.ZipFile(good)
folder = src.namelist()[0].split('/')[0]
files = [(info.filename, src.read(info)) for info in src.infolist()]
def make(name, extra):
    with zipfile.ZipFile(os.path.join(out, name), 'w', zipfile.ZIP_DEFLATED) as z:
        for filename, data in files:
            z.writestr(filename, data)
        extra(z)
make('slip.zip', lambda z: z.writestr(folder + '/../../escaped.txt', 'owned'))
make('absolute.zip', lambda z: z.writestr('/tmp/mcp-train-absolute.txt', 'owned'))
def link(z):
    info = zipfile.ZipInfo(folder + '/link')
    info.external_attr = (0o120777 << 16)
    info.create_system = 3
    z.writestr(info, '/etc/passwd')
make('symlink.zip', link)
import warnings
warnings.simplefilter('ignore')
make('duplicate.zip', lambda z: z.writestr(folder + '/model.json', '{}'))
def bomb(z):
    z.writestr(folder + '/bomb.bin', b'\0' * (300 << 20))
make('bomb.zip', bomb)
"#;
    ok(&python(
        &["-c", script, &zip, &hostile.to_string_lossy()],
        Path::new("."),
    ));
    let out = w.path("out");
    let before = tree(w.dir.path());
    for (name, reason) in [
        ("slip.zip", "escaped.txt"),
        ("absolute.zip", "/tmp/mcp-train-absolute.txt"),
        ("symlink.zip", "link"),
        ("duplicate.zip", "model.json"),
        ("bomb.zip", "bomb.bin"),
    ] {
        let path = hostile.join(name);
        let o = run(
            &[
                "verify",
                &path.to_string_lossy(),
                "--extract",
                &out.to_string_lossy(),
            ],
            &[],
        );
        assert_eq!(failed(&o), 2, "{name}");
        let err = text(&o.stderr);
        assert!(
            err.contains("cannot read package") && err.contains(reason),
            "{name}: {err}"
        );
    }
    assert_eq!(tree(w.dir.path()), before, "nothing new was written");
    assert!(!Path::new("/tmp/mcp-train-absolute.txt").exists());
}

#[test]
fn deploying_a_registered_model_keeps_its_package_beside_it() {
    let w = Work::new();
    let export = w.synth("export.json", "800", "23");
    let reg = w.s("registry");
    let trained = [("SOURCE_DATE_EPOCH", "1700000000")];
    ok(&run(
        &[
            "train",
            &export,
            "--register",
            "--registry",
            &reg,
            "--out",
            &w.s("m.json"),
        ],
        &trained,
    ));
    let deploy_time = [("SOURCE_DATE_EPOCH", "1700000100")];
    let o = run(
        &["models", "deploy", "latest", "--registry", &reg, "--json"],
        &deploy_time,
    );
    ok(&o);
    let change: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let path = PathBuf::from(change["package"].as_str().expect("package path"));
    assert!(path.starts_with(&reg), "{path:?}");
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some("model_20231114_221320_deployment.zip")
    );
    let v = run(&["verify", &path.to_string_lossy(), "--json"], &[]);
    ok(&v);

    // `package` by version rebuilds the same bytes: the deployment time is the registry's.
    let again = w.s("again.zip");
    ok(&run(
        &["package", "deployed", "--registry", &reg, "--out", &again],
        &[],
    ));
    assert_eq!(
        std::fs::read(&path).expect("kept"),
        std::fs::read(&again).expect("rebuilt")
    );
    let folder = unzip(Path::new(&again), &w.path("unpacked"));
    let manifest = json(&folder.join("deployment_manifest.json"));
    assert_eq!(manifest["deployment_timestamp"], "2023-11-14T22:15:00Z");

    // Deleting the model deletes its package.
    ok(&run(
        &[
            "models",
            "delete",
            "deployed",
            "--force",
            "--registry",
            &reg,
        ],
        &[],
    ));
    assert!(!path.exists());
    let o = run(&["package", "deployed", "--registry", &reg], &[]);
    assert_eq!(failed(&o), 1);
}
