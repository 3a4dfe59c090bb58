//! MCP prompts: the common workflows, written out as the tool calls an assistant makes.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{PromptMessage, Role};
use rmcp::{prompt, prompt_router};

use super::McpServer;

/// `train_and_deploy`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainAndDeployArgs {
    /// The log type to build a detector for (wifi, dns, firewall, syslog).
    pub log_type: String,
    /// A registered dataset handle (ds-…) to train on; without one, generate or register one.
    #[serde(default)]
    pub dataset: Option<String>,
}

/// `investigate_anomaly`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestigateAnomalyArgs {
    /// The stored anomaly's id.
    pub id: String,
}

/// `tune_contamination`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TuneContaminationArgs {
    /// A labelled dataset handle (ds-…) to train and evaluate on.
    pub dataset: String,
    /// The model version to improve on (default: the deployed model of the dataset's log type).
    #[serde(default)]
    pub version: Option<String>,
}

fn user(text: String) -> Vec<PromptMessage> {
    vec![PromptMessage::new_text(Role::User, text)]
}

#[prompt_router(router = "prompts", vis = "pub(super)")]
impl McpServer {
    /// Build, check and deploy an anomaly detector for one log type.
    #[prompt(name = "train_and_deploy")]
    async fn train_and_deploy(
        &self,
        Parameters(args): Parameters<TrainAndDeployArgs>,
    ) -> Vec<PromptMessage> {
        let log_type = args.log_type;
        let data = match args.dataset {
            Some(d) => format!("Use dataset {d}."),
            None => format!(
                "First get data: register_dataset with a path or an upload handle of a {log_type} log \
                 (log_type: \"{log_type}\"), or generate_dataset {{\"log_type\": \"{log_type}\"}} for a \
                 labelled synthetic one."
            ),
        };
        user(format!(
            "Train and deploy an anomaly detector for {log_type} logs with mcp-train.\n\
             1. {data}\n\
             2. validate_dataset on it; if it is not valid, say which lines are bad (line:column) and \
             decide whether drop_invalid: true is acceptable.\n\
             3. start_training {{\"dataset\": …, \"log_type\": \"{log_type}\", \"wait\": true}} and report \
             progress; if it fails, explain the error.\n\
             4. compare_models with the currently deployed {log_type} model (list_models \
             {{\"log_type\": \"{log_type}\"}} shows it) on anomaly ratio, ROC AUC and F1.\n\
             5. Deploy the new model (deploy_model) only if it is at least as good, and say how to \
             roll back (rollback_model {{\"log_type\": \"{log_type}\"}}). Read \
             mcp-train://models/{{version}} for the model card."
        ))
    }

    /// Investigate a stored anomaly: what it is, why it scored high, what to do.
    #[prompt(name = "investigate_anomaly")]
    async fn investigate_anomaly(
        &self,
        Parameters(args): Parameters<InvestigateAnomalyArgs>,
    ) -> Vec<PromptMessage> {
        let id = args.id;
        user(format!(
            "Investigate anomaly {id} found by mcp-train.\n\
             1. get_anomaly {{\"id\": {id}}}: the entry, score, model and audit trail.\n\
             2. explain_anomaly {{\"id\": {id}}}: the features that pushed it over the threshold, \
             what the log events around it mean, and similar past anomalies with analysts' verdicts.\n\
             3. search_knowledge for the events or devices involved if anything is unclear.\n\
             4. Conclude: likely benign or an attack/misconfiguration, with the evidence, and what \
             an admin should check next.\n\
             5. Propose (do not apply without confirmation) set_anomaly_status with acknowledged, \
             resolved or false_positive and a short note."
        ))
    }

    /// Find the contamination (expected anomaly share) that works best on a labelled dataset.
    #[prompt(name = "tune_contamination")]
    async fn tune_contamination(
        &self,
        Parameters(args): Parameters<TuneContaminationArgs>,
    ) -> Vec<PromptMessage> {
        let dataset = args.dataset;
        let baseline = match args.version {
            Some(v) => format!("model {v}"),
            None => "the deployed model of the dataset's log type".to_owned(),
        };
        user(format!(
            "Tune the contamination of an mcp-train detector on dataset {dataset}.\n\
             1. validate_dataset {{\"dataset\": \"{dataset}\"}}: it needs labels (label 1 = anomaly) to \
             measure anything; note the labelled anomaly share in the summary.\n\
             2. Train with wait: true and the same seed for contamination \"auto\", 0.01, 0.02, 0.05 \
             and 0.1 (and the labelled share if it differs): start_training {{\"dataset\": \
             \"{dataset}\", \"contamination\": …, \"seed\": 42, \"wait\": true}}.\n\
             3. compare_models on the new versions and {baseline}: F1 and ROC AUC first, then the \
             anomaly ratio against the labelled share.\n\
             4. Recommend one contamination with the numbers behind it; deploy only after \
             confirmation."
        ))
    }
}
