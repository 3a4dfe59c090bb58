//! The server side of the state: the connection, the server's (shared) registry, and training
//! jobs that run on the server. Server jobs sit in the same jobs list as the browser's, marked by
//! [`Job::server`]; they are not stored in IndexedDB, since the server lists them again after a
//! reload.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::api::{self, Deployment, Health, StorageStatus};
use mcp_train_core::pipeline::ModelArtifact;
use mcp_train_core::registry::{ModelRecord, ModelStatus};
use mcp_train_core::time::parse_iso8601;
use web_sys::File;

use super::{AppState, Job, JobResult, JobStatus, ServerJobInfo, Settings};
use crate::api_client::{self, ApiError, Server};
use mcp_train_core::pipeline::TrainChoices;

/// Where the connection to a server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connection {
    /// No server: not served by one, none in Settings.
    #[default]
    Off,
    Connecting,
    Connected,
    Error,
}

impl Connection {
    /// `off`, `connecting`, `connected` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Off => "off",
            Connection::Connecting => "connecting",
            Connection::Connected => "connected",
            Connection::Error => "error",
        }
    }
}

/// The connection to a server and what to tell the user about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerStatus {
    pub connection: Connection,
    /// The API's URL; `None` without a server.
    pub api: Option<String>,
    /// What the connection is, for people.
    pub message: String,
    pub health: Option<Health>,
}

impl ServerStatus {
    pub fn is_connected(&self) -> bool {
        self.connection == Connection::Connected
    }
}

/// The connected-state message: which server, what it holds, whether the token is needed.
fn describe(health: &Health, api: &str, models: usize, has_token: bool) -> String {
    let mut text = format!(
        "Connected to mcp-train {} at {api}: {models} shared models.",
        health.version
    );
    let storage = &health.storage;
    if storage.status != StorageStatus::Ok {
        text.push_str(&format!(
            " Its storage is {}: {}.",
            storage.status,
            storage.message.as_deref().unwrap_or("no details")
        ));
    }
    match (health.auth, has_token) {
        (auth, false) if auth.writes => {
            text.push_str(" Sharing and training there need its token.")
        }
        (_, true) => text.push_str(" The token is sent with every request."),
        _ => {}
    }
    text
}

fn micros(time: Option<&str>) -> Option<i64> {
    time.and_then(|t| parse_iso8601(t).ok()).map(|t| t.micros)
}

impl AppState {
    /// The server the settings name, else the one that served this page; `Ok(None)`: neither.
    fn server_config(self) -> Result<Option<Server>, String> {
        let settings = self.settings.get_untracked();
        let url = settings.server_url.trim();
        let api = if url.is_empty() {
            match self.same_origin.get_value() {
                Some(api) => api,
                None => return Ok(None),
            }
        } else {
            api_client::api_base(url)?
        };
        Ok(Some(Server::new(api, &settings.server_token)))
    }

    /// The connected server; an error saying why there is none.
    pub fn connected(self) -> Result<Server, String> {
        if !self.server.with_untracked(ServerStatus::is_connected) {
            return Err("no server is connected (see Settings)".to_owned());
        }
        self.server_config()?
            .ok_or_else(|| "no server is configured (see Settings)".to_owned())
    }

    /// (Re)connects to the server the settings or the page's origin name: checks its health, then
    /// lists its models and jobs, and follows the jobs that are still running. Without a server it
    /// makes no request.
    pub fn connect(self) {
        let attempt = self.connection.get_value() + 1;
        self.connection.set_value(attempt);
        let server = match self.server_config() {
            Ok(Some(server)) => server,
            Ok(None) => {
                self.server.set(ServerStatus {
                    message: "No server: models and training stay in this browser.".to_owned(),
                    ..ServerStatus::default()
                });
                self.shared.set(Vec::new());
                self.forget_server_jobs(None);
                return;
            }
            Err(message) => {
                self.server.set(ServerStatus {
                    connection: Connection::Error,
                    message,
                    ..ServerStatus::default()
                });
                self.shared.set(Vec::new());
                self.forget_server_jobs(None);
                return;
            }
        };
        let api = server.api().to_owned();
        self.server.set(ServerStatus {
            connection: Connection::Connecting,
            api: Some(api.clone()),
            message: format!("Connecting to {api}…"),
            health: None,
        });
        spawn_local(async move {
            let answers = async {
                let health = server.health().await?;
                let models = server.models().await?;
                let jobs = server.jobs().await?;
                Ok::<_, ApiError>((health, models, jobs))
            }
            .await;
            // A newer attempt (the user changed the URL meanwhile) has the last word.
            if self.connection.get_value() != attempt {
                return;
            }
            self.forget_server_jobs(Some(&api));
            match answers {
                Ok((health, models, jobs)) => {
                    self.server.set(ServerStatus {
                        connection: Connection::Connected,
                        message: describe(&health, &api, models.len(), server.has_token()),
                        api: Some(api.clone()),
                        health: Some(health),
                    });
                    self.shared.set(models);
                    for job in jobs.iter().rev() {
                        self.apply_server_job(&api, job);
                        if !job.status.finished() {
                            self.follow_server_job(api.clone(), job.id.clone());
                        }
                    }
                }
                Err(e) => {
                    self.server.set(ServerStatus {
                        connection: Connection::Error,
                        message: format!("Not connected: {e}"),
                        api: Some(api.clone()),
                        health: None,
                    });
                    self.shared.set(Vec::new());
                }
            }
        });
    }

    /// Saves the server settings and connects with them.
    pub fn save_server_settings(self, url: String, token: String) {
        let mut settings = self.settings.get_untracked();
        settings.server_url = url;
        settings.server_token = token;
        self.save_settings(settings);
        self.connect();
    }

    /// Drops the server jobs of every server but `keep`.
    fn forget_server_jobs(self, keep: Option<&str>) {
        let stale = self.jobs.with_untracked(|jobs| {
            jobs.iter().any(|j| {
                j.server
                    .as_ref()
                    .is_some_and(|s| Some(s.api.as_str()) != keep)
            })
        });
        if stale {
            self.jobs.update(|jobs| {
                jobs.retain(|j| {
                    j.server
                        .as_ref()
                        .is_none_or(|s| Some(s.api.as_str()) == keep)
                })
            });
        }
    }

    /// Shows the server's latest word on a job in the jobs list.
    fn apply_server_job(self, api: &str, job: &api::Job) {
        let status = match job.status {
            api::JobStatus::Queued => JobStatus::Pending,
            api::JobStatus::Running => JobStatus::Running,
            api::JobStatus::Completed => JobStatus::Completed,
            api::JobStatus::Failed => JobStatus::Failed,
            api::JobStatus::Cancelled => JobStatus::Cancelled,
        };
        let stage = match job.status {
            api::JobStatus::Queued => "queued on the server".to_owned(),
            api::JobStatus::Completed => "done".to_owned(),
            _ if job.progress.stage.is_empty() => "running".to_owned(),
            _ => job.progress.stage.clone(),
        };
        let created = micros(Some(&job.created_at)).unwrap_or_default();
        let mut row = Job {
            id: job.id.clone(),
            file_name: job.file_name.clone(),
            file_size: job.size_bytes as f64,
            created_micros: created,
            started_micros: micros(job.started_at.as_deref()),
            finished_micros: micros(job.finished_at.as_deref()),
            params: job.params.clone(),
            status,
            stage,
            progress: if status == JobStatus::Completed {
                1.0
            } else {
                job.progress.fraction
            },
            error: job.error.as_ref().map(|e| e.message.clone()),
            result: None,
            heartbeat_micros: 0,
            server: Some(ServerJobInfo {
                api: api.to_owned(),
                model_version: job.model.as_ref().map(|m| m.version.clone()),
            }),
        };
        let unchanged = self.jobs.with_untracked(|jobs| {
            jobs.iter().find(|j| j.id == job.id).is_some_and(|old| {
                row.result = old.result.clone();
                *old == row
            })
        });
        if unchanged {
            return;
        }
        self.jobs
            .update(|jobs| match jobs.iter_mut().find(|j| j.id == row.id) {
                Some(old) => *old = row,
                None => {
                    jobs.push(row);
                    jobs.sort_by_key(|j| std::cmp::Reverse(j.created_micros));
                }
            });
    }

    /// Follows a server job's progress until it is finished (once per job, however often asked).
    fn follow_server_job(self, api: String, id: String) {
        let mut fresh = false;
        self.following
            .update_value(|following| fresh = following.insert(id.clone()));
        if !fresh {
            return;
        }
        spawn_local(async move {
            let server = match self.server_config() {
                Ok(Some(server)) if server.api() == api => server,
                _ => {
                    self.following.update_value(|f| {
                        f.remove(&id);
                    });
                    return;
                }
            };
            let end = server
                .follow_job(&id, |job| self.apply_server_job(&api, job))
                .await;
            self.following.update_value(|f| {
                f.remove(&id);
            });
            match end {
                Ok(job) if job.status == api::JobStatus::Completed => {
                    self.refresh_shared();
                    if let Err(e) = self.load_server_result(&id).await {
                        self.notify(format!("The server job completed, but {e}"), true);
                    }
                }
                Ok(_) => {}
                Err(e) => self.notify(format!("Lost track of the server job {id}: {e}"), true),
            }
        });
    }

    /// Fetches the model a completed server job registered, so its page shows what a browser
    /// job's does (statistics, metrics, plots).
    pub async fn load_server_result(self, id: &str) -> Result<(), String> {
        let Some(version) = self.jobs.with_untracked(|jobs| {
            jobs.iter()
                .find(|j| j.id == id)
                .and_then(|j| j.model_version().map(str::to_owned))
        }) else {
            return Ok(());
        };
        let server = self.server_config()?.ok_or("no server is configured")?;
        let bytes = server
            .model_json(&version)
            .await
            .map_err(|e| format!("its model {version} could not be fetched: {e}"))?;
        let artifact = ModelArtifact::from_json(&bytes)
            .map_err(|e| format!("its model {version} cannot be read: {e}"))?;
        let result = JobResult::new(version, artifact, None);
        self.update_job(id, |job| job.result = Some(result));
        Ok(())
    }

    /// Uploads `file` (streamed, never read into memory) and starts a training job on the server
    /// with the parameters in `choices` (the server's configuration gives the rest); the jobs
    /// list then follows it.
    pub async fn start_server_job(self, file: File, choices: TrainChoices) -> Result<(), String> {
        let server = self.connected()?;
        let (now, fixed) = self.settings.with_untracked(Settings::now);
        let query = api_client::train_query(&choices, &file.name(), fixed.then_some(now));
        let job = server
            .start_job(&file, &query)
            .await
            .map_err(|e| e.to_string())?;
        let api = server.api().to_owned();
        self.apply_server_job(&api, &job);
        if job.status.finished() {
            return Ok(());
        }
        self.follow_server_job(api, job.id);
        Ok(())
    }

    /// Cancels a queued or running server job.
    pub(super) fn cancel_server_job(self, id: &str) {
        let id = id.to_owned();
        spawn_local(async move {
            let cancelled = match self.connected() {
                Ok(server) => server
                    .cancel_job(&id)
                    .await
                    .map(|job| self.apply_server_job(server.api(), &job))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if let Err(e) = cancelled {
                self.notify(format!("The server job was not cancelled: {e}"), true);
            }
        });
    }

    /// Removes a finished server job from the server's list and this one.
    pub(super) fn delete_server_job(self, id: &str) {
        let id = id.to_owned();
        spawn_local(async move {
            let removed = match self.connected() {
                Ok(server) => match server.cancel_job(&id).await {
                    // Gone already: the server restarted or another client removed it.
                    Err(e) if e.status() == Some(404) => Ok(()),
                    other => other.map(drop).map_err(|e| e.to_string()),
                },
                Err(e) => Err(e),
            };
            match removed {
                Ok(()) => self.jobs.update(|jobs| jobs.retain(|j| j.id != id)),
                Err(e) => self.notify(format!("The server job was not removed: {e}"), true),
            }
        });
    }

    /// Lists the server's models again.
    pub fn refresh_shared(self) {
        spawn_local(async move {
            let Ok(server) = self.connected() else { return };
            match server.models().await {
                Ok(models) => self.shared.set(models),
                Err(e) => self.notify(format!("The shared models could not be listed: {e}"), true),
            }
        });
    }

    /// Uploads a local model's `model.json` to the server (it keeps its version).
    pub async fn share(self, version: &str) -> Result<ModelRecord, String> {
        let server = self.connected()?;
        let stored = self.model(version).map_err(|e| e.to_string())?;
        let record = server
            .share_model(&stored.bytes)
            .await
            .map_err(|e| e.to_string())?;
        self.refresh_shared();
        Ok(record)
    }

    /// A shared model's deployment package (`package`) or `model.json`, as bytes.
    pub async fn fetch_shared(self, version: &str, package: bool) -> Result<Vec<u8>, String> {
        let server = self.connected()?;
        let bytes = if package {
            server.package(version).await
        } else {
            server.model_json(version).await
        };
        bytes.map_err(|e| e.to_string())
    }

    /// Deploys a shared model on the server, provided the deployed one is still the one listed.
    pub async fn deploy_shared(self, version: &str) -> Result<Deployment, String> {
        let server = self.connected()?;
        let expected = self.shared.with_untracked(|models| {
            models
                .iter()
                .find(|m| m.status == ModelStatus::Deployed)
                .map(|m| m.version.clone())
        });
        let deployed = server.deploy(version, expected.as_deref()).await;
        self.refresh_shared();
        deployed.map_err(|e| match e.status() {
            Some(409) => format!("{e}; the list is refreshed, look again and retry"),
            _ => e.to_string(),
        })
    }

    /// Copies a shared model into this browser's registry, as if it had been trained here.
    pub async fn import_shared(self, version: &str) -> Result<ModelRecord, String> {
        let bytes = self.fetch_shared(version, false).await?;
        let (now, _) = self.settings.with_untracked(Settings::now);
        self.change_registry(move |registry| registry.register_bytes(&bytes, now))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::api::{HealthAuth, HealthLimits, HealthStatus, HealthStorage};

    fn health(writes: bool, storage: &str) -> Health {
        Health {
            status: HealthStatus::Ok,
            version: "0.1.0".to_owned(),
            storage: match storage {
                "ok" => HealthStorage::ok(2, 1234),
                _ => HealthStorage::unavailable("permission denied"),
            },
            auth: HealthAuth {
                writes,
                reads: false,
            },
            limits: HealthLimits {
                max_export_mb: 1024,
                max_upload_mb: 1024,
            },
        }
    }

    #[test]
    fn the_connected_message_says_what_the_user_must_do() {
        let text = describe(&health(true, "ok"), "http://h/api", 2, false);
        assert_eq!(
            text,
            "Connected to mcp-train 0.1.0 at http://h/api: 2 shared models. Sharing and training there need its token."
        );
        let text = describe(&health(true, "ok"), "http://h/api", 2, true);
        assert!(
            text.ends_with("The token is sent with every request."),
            "{text}"
        );
        let text = describe(&health(false, "unavailable"), "http://h/api", 0, false);
        assert!(
            text.contains("Its storage is unavailable: permission denied."),
            "{text}"
        );
        assert!(!text.contains("token"), "{text}");
    }
}
