//! The model manager per log type on the command line: `train` records the log type, `models
//! list` shows it, `models rollback` and `models history`, and a registry written before log
//! types is migrated when opened.

use std::process::Output;

use crate::common;

use common::{failure, ok, run, stdout_json, Work};

fn models(registry: &str, args: &[&str]) -> Output {
    let mut all = vec!["models", "--registry", registry];
    all.extend(args);
    run(&all, &[])
}

/// `train EXPORT --register` with the clock frozen `later` seconds after 2023-11-14T22:13:20Z.
fn train_register(w: &Work, export: &str, registry: &str, later: i64, extra: &[&str]) -> Output {
    let out = w.s(&format!("model-{later}.json"));
    let mut args = vec![
        "train",
        export,
        "--out",
        &out,
        "--register",
        "--registry",
        registry,
    ];
    args.extend(extra);
    let epoch = (1_700_000_000 + later).to_string();
    run(&args, &[("SOURCE_DATE_EPOCH", &epoch)])
}

#[test]
fn trained_models_carry_their_log_type_and_roll_back_per_log_type() {
    let w = Work::new();
    let export = w.synth("export.json", "300", "3");
    let reg = w.s("data");
    for later in 0..3 {
        ok(&train_register(&w, &export, &reg, later, &[]));
    }
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.path("model-0.json")).expect("model"))
            .expect("json");
    assert_eq!(model["log_type"], "wifi");
    assert!(w
        .path("data/models/wifi/20231114_221320/model.json")
        .is_file());

    let table = ok(&models(&reg, &["list"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("VERSION          LOG TYPE  STATUS"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("20231114_221322  wifi      ready"),
        "{table}"
    );
    assert_eq!(
        ok(&models(&reg, &["list", "--log-type", "dns"])),
        format!("no models for log type dns in {reg}\n")
    );

    // Nothing deployed yet: nothing to roll back to.
    let (code, line) = failure(&models(&reg, &["rollback", "wifi"]));
    assert_eq!(code, 1, "{line}");
    assert!(
        line.contains("no earlier wifi model to roll back to"),
        "{line}"
    );

    for v in ["20231114_221320", "20231114_221321", "20231114_221322"] {
        ok(&models(&reg, &["deploy", v]));
    }
    assert_eq!(
        ok(&models(&reg, &["rollback", "wifi"])),
        "rolled back to 20231114_221321 (was archived)\narchived 20231114_221322 (was deployed)\n"
    );
    let deployed = stdout_json(&models(&reg, &["deployed", "--log-type", "wifi", "--json"]));
    assert_eq!(deployed["deployed"][0]["version"], "20231114_221321");

    let history = stdout_json(&models(&reg, &["history", "--json"]));
    let actions: Vec<String> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap_or(""),
                e["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "rollback 20231114_221321",
            "deploy 20231114_221322",
            "deploy 20231114_221321",
            "deploy 20231114_221320",
        ]
    );
    let text = ok(&models(&reg, &["history", "--log-type", "wifi"]));
    assert!(
        text.lines().next().is_some_and(
            |l| l.contains("rollback") && l.ends_with("20231114_221321 (was 20231114_221322)")
        ),
        "{text}"
    );
    assert_eq!(
        ok(&models(&reg, &["history", "--log-type", "dns"])),
        "no deployments yet for log type dns\n"
    );
}

#[test]
fn train_refuses_an_unknown_log_type_by_name() {
    let w = Work::new();
    let export = w.synth("export.json", "100", "1");
    let (code, line) = failure(&run(
        &[
            "train",
            &export,
            "--log-type",
            "nosuch",
            "--out",
            &w.s("m.json"),
        ],
        &[],
    ));
    assert_eq!(code, 1, "{line}");
    assert!(line.contains("unknown log type \"nosuch\""), "{line}");
}

#[test]
fn a_registry_from_before_log_types_is_migrated_when_opened() {
    let w = Work::new();
    let export = w.synth("export.json", "300", "3");
    let reg = w.s("data");
    ok(&train_register(&w, &export, &reg, 0, &[]));
    ok(&models(&reg, &["deploy", "20231114_221320"]));
    // Turn it into what an older build wrote: models/<version>/, index format 1 without log
    // types or history.
    let data = w.path("data");
    std::fs::rename(
        data.join("models/wifi/20231114_221320"),
        data.join("models/20231114_221320"),
    )
    .expect("moves");
    std::fs::remove_dir(data.join("models/wifi")).expect("removes");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("registry.json")).expect("index"))
            .expect("json");
    index["format_version"] = 1.into();
    index.as_object_mut().expect("object").remove("history");
    index["models"][0]
        .as_object_mut()
        .expect("record")
        .remove("log_type");
    std::fs::write(
        data.join("registry.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("writes");

    let list = stdout_json(&models(&reg, &["list", "--json"]));
    assert_eq!(list["models"][0]["log_type"], "wifi");
    assert!(data
        .join("models/wifi/20231114_221320/model.json")
        .is_file());
    assert!(
        data.join("models/wifi/20231114_221320/model_20231114_221320_deployment.zip")
            .is_file(),
        "the package moved along"
    );
    assert!(!data.join("models/20231114_221320").exists());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("registry.json")).expect("index"))
            .expect("json");
    assert_eq!(index["format_version"], 2);
    ok(&models(&reg, &["show", "deployed"]));
}
