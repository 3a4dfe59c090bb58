//! The mcp-train core for JavaScript and TypeScript: the npm package `@mcp-train/core`, built
//! by wasm-pack into `pkg/dist/` (see `scripts/pkg.sh` and `pkg/README.md`).
//!
//! A thin facade: every function calls the core function the CLI calls for the same command
//! (`validate`, `import`, `features`, `train`, `score`, `evaluate`, `detect`, `package`,
//! `verify`, `synth`, `agents list`), with the parameters parsed and bounded by the core's own
//! types. The core reads no clock, so the caller gives the creation time (`createdAt`), and the
//! same data, parameters, seed and time give the same `model.json` bytes as the CLI.
//!
//! Across the boundary: bytes as `Uint8Array`, matrices and score columns as `Float64Array`
//! (one copy each way), small objects through serde-wasm-bindgen; option types are generated
//! from the Rust types by tsify. Errors are JS `Error`s with a stable `code` ([`error::Code`]).

mod agents;
mod convert;
mod error;
mod export;
mod model;
mod package;
mod train;

pub use agents::{list_agents, synth, SynthOptions};
pub use error::Code;
pub use export::{extract_features, import_log, validate, ReadOptions};
pub use model::{DetectOptions, LineDetector, Model, ScoreOptions};
pub use package::{build_package, verify_package, PackageOptions};
pub use train::{resolve_params, train, InputFormat, TrainHooks, TrainOptions, TrainParams};

use wasm_bindgen::prelude::*;

/// The package's version (the workspace's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

// The core's reports, as the core serializes them (the JSON of `mcp-train ... --json` and of the
// API: snake_case keys, the data contracts of docs/). Declared here because the core stays free
// of JS glue; the fields are the core types' serde fields.
#[wasm_bindgen(typescript_custom_section)]
const CORE_TS: &'static str = r#"
/** One problem found in a log, where it is. */
export interface Issue {
    kind: string;
    record?: number;
    line?: number;
    column?: number;
    field?: string;
    message: string;
}

/** Issues of one kind: how many, and the first few. */
export interface IssueGroup {
    kind: string;
    severity: "error" | "warning";
    description: string;
    count: number;
    examples: Issue[];
}

/** What validation found (`mcp-train validate --json`). */
export interface ValidationReport {
    valid: boolean;
    format: string | null;
    records_seen: number;
    errors: IssueGroup[];
    warnings: IssueGroup[];
    dropped: { count: number; reasons: IssueGroup[] } | null;
    summary: Record<string, unknown>;
}

/** The resolved training parameters. */
export interface ResolvedTrainParams {
    detector: "isolation_forest" | "lof";
    seed: number;
    contamination: "auto" | number;
    n_estimators: number;
    max_samples: "auto" | number;
    n_neighbors: number;
    drop_invalid: boolean;
}

/** Metrics of a model on labelled data (`mcp-train evaluate --json`). */
export interface EvaluationResult {
    model_version: string;
    samples: number;
    labelled: number;
    metrics: Record<string, unknown>;
    score_stats: { mean: number; std: number; min: number; max: number } & Record<string, unknown>;
    anomaly_ratio: number;
    threshold_checks: Record<string, unknown>[];
}

/** The model's verdict on one entry. */
export interface InferenceResult {
    score: number;
    decision: number;
    is_anomaly: boolean;
    model_version: string;
}

/** A feature that pushed an entry over: its value and the rise of the decision value. */
export interface Contribution {
    feature: string;
    value: number;
    contribution: number;
}

/** A log entry as detection reports it. */
export interface LogEntry {
    index: number;
    timestamp: string;
    log_type: string;
    host?: string;
    process: string;
    level: string;
    message: string;
    fields?: [string, string][];
    label?: boolean;
}

/** A detected anomaly (docs/schemas/anomaly.schema.json). */
export interface Anomaly {
    entry: LogEntry;
    agent: string;
    inference: InferenceResult;
    contributions: Contribution[];
}

/** The verdict on a deployment package (`mcp-train verify --json`). */
export interface Verification {
    ok: boolean;
    model_version: string | null;
    folder: string | null;
    files: Record<string, unknown>[];
    model_loads: boolean;
    self_test: Record<string, unknown> | null;
    problems: { file: string; message: string }[];
}

/** What `synth` generated. */
export interface SynthSummary {
    records: number;
    anomalies: number;
    incidents: Record<string, unknown>[];
    bytes: number;
}

/** A built-in agent (`mcp-train agents list --json`). */
export interface AgentDescription {
    name: string;
    log_type: string;
    description: string;
    protocol_version: string;
    feature_schema: string;
    programs: string[];
    capabilities: string[];
    stability: string;
    feature_count: number;
    features: string[];
    log_schema: Record<string, unknown>;
}
"#;
