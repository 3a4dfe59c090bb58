//! The user's settings: a fixed time for reproducible models, and the server to use.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::clock;
use crate::idb::{Database, StoreName, Write};

/// The settings' key in the `settings` object store.
const SETTINGS_KEY: &str = "settings";

/// The user's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A fixed creation/deployment time (ISO 8601) for reproducible models, or empty.
    pub fixed_time: String,
    /// A server to share models with and train on (its address or its API's), or empty: the
    /// server that served this page, if one did.
    pub server_url: String,
    /// The server's token, sent as `Authorization: Bearer`; empty for none.
    pub server_token: String,
}

impl Settings {
    /// "Now" for a new model or deployment, and whether it is fixed.
    pub fn now(&self) -> (i64, bool) {
        clock::now_or_fixed(&self.fixed_time)
    }
}

impl AppState {
    /// Adopts `settings` and stores them.
    pub fn save_settings(self, settings: Settings) {
        self.settings.set(settings.clone());
        spawn_local(async move {
            let bytes = serde_json::to_vec(&settings).unwrap_or_default();
            let write = Write {
                store: StoreName::Settings,
                key: SETTINGS_KEY.to_owned(),
                value: Some(bytes),
            };
            if let Err(e) = self.persist(vec![write]).await {
                self.notify(format!("settings not saved: {e}"), true);
            }
        });
    }

    /// Reads the stored settings, if any.
    pub(super) async fn load_settings(self, db: &Database) -> Result<(), String> {
        if let Some(bytes) = db
            .get(StoreName::Settings, SETTINGS_KEY)
            .await
            .map_err(|e| e.to_string())?
        {
            if let Ok(settings) = serde_json::from_slice(&bytes) {
                self.settings.set(settings);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_saved_before_the_server_fields_still_load() {
        let settings: Settings =
            serde_json::from_str(r#"{"fixed_time":"2024-06-01T12:00:00Z"}"#).unwrap_or_default();
        assert_eq!(settings.fixed_time, "2024-06-01T12:00:00Z");
        assert_eq!(settings.server_url, "");
        assert_eq!(settings.server_token, "");
    }

    #[test]
    fn a_fixed_time_setting_freezes_now() {
        let settings = Settings {
            fixed_time: "2024-06-01T12:00:00Z".to_owned(),
            ..Settings::default()
        };
        assert_eq!(settings.now(), (1_717_243_200_000_000, true));
    }
}
