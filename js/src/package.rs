//! Deployment packages: `buildPackage` (as `mcp-train package`) and `verifyPackage` (as
//! `mcp-train verify`).

use js_sys::{Object, Reflect, Uint8Array};
use mcp_train_core::package::{self, PackagedModel};
use mcp_train_core::pipeline::ModelArtifact;
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::convert::{micros, to_js};
use crate::error::{js_error, Code};

/// How to build a package.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageOptions {
    /// The deployment time written into the package, ISO 8601 (default: the model's
    /// `created_at`, so a model packages to the same bytes wherever it is packaged).
    #[tsify(optional)]
    pub deployed_at: Option<String>,
}

#[wasm_bindgen(typescript_custom_section)]
const PACKAGE_TS: &'static str = r#"
/** A deployment package: the ZIP and its manifest. */
export interface DeploymentPackage {
    /** `model_<version>_deployment.zip`. */
    fileName: string;
    bytes: Uint8Array;
    /** `deployment_manifest.json`, as written into the ZIP. */
    manifest: Record<string, unknown>;
}
"#;

/// Builds the deployment package (a ZIP) of a `model.json`.
#[wasm_bindgen(js_name = buildPackage, unchecked_return_type = "DeploymentPackage")]
pub fn build_package(
    #[wasm_bindgen(js_name = modelJson)] model_json: &[u8],
    options: Option<Ts<PackageOptions>>,
) -> Result<JsValue, JsValue> {
    let options: PackageOptions = crate::convert::options(options, "options")?;
    let artifact = ModelArtifact::from_json(model_json)
        .map_err(|e| js_error(Code::InvalidModel, format!("cannot use the model: {e}")))?;
    let explicit = options
        .deployed_at
        .as_deref()
        .map(|t| micros("deployedAt", t))
        .transpose()?;
    let deployed = package::deployment_time(PackagedModel::File(&artifact), explicit)
        .map_err(|e| js_error(Code::InvalidModel, e))?;
    let built = package::build(model_json, deployed).map_err(|e| {
        js_error(
            Code::InvalidPackage,
            format!("cannot build the package: {e}"),
        )
    })?;
    let result = Object::new();
    let _ = Reflect::set(
        &result,
        &"fileName".into(),
        &built.file_name.as_str().into(),
    );
    let _ = Reflect::set(
        &result,
        &"bytes".into(),
        &Uint8Array::from(built.bytes.as_slice()),
    );
    let _ = Reflect::set(&result, &"manifest".into(), &to_js(&built.manifest)?);
    Ok(result.into())
}

/// Verifies a deployment package: every file's checksum, the manifest and the model's
/// self-test. A ZIP that cannot be read at all throws `INVALID_PACKAGE`.
#[wasm_bindgen(js_name = verifyPackage, unchecked_return_type = "Verification")]
pub fn verify_package(zip: &[u8]) -> Result<JsValue, JsValue> {
    let verification = package::verify(zip).map_err(|e| {
        js_error(
            Code::InvalidPackage,
            format!("not a deployment package: {e}"),
        )
    })?;
    to_js(&verification)
}
