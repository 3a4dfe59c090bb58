//! Several tabs of the app share one IndexedDB: each announces its changes on a
//! `BroadcastChannel`, and the others re-read the registry and the jobs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

use super::AppState;

/// The BroadcastChannel tabs of the app announce their changes on.
const CHANNEL: &str = "mcp-train";

impl AppState {
    /// Other tabs of the app say when they change the registry or the jobs; this tab then
    /// re-reads them, so two tabs never work from stale copies for long.
    pub(super) fn listen_to_other_tabs(self) {
        let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) else {
            return;
        };
        let on_message = Closure::<dyn FnMut()>::new(move || {
            spawn_local(async move {
                let Some(db) = self.db.get_value() else {
                    return;
                };
                if let Err(e) = self.load_registry(&db).await {
                    self.storage_error.set(Some(e));
                }
                if let Err(e) = self.load_jobs(&db).await {
                    self.storage_error.set(Some(e));
                }
            });
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // Both live as long as the page.
        on_message.forget();
        self.channel.set_value(Some(channel));
    }

    /// Tells the other tabs that the stored state changed.
    pub(super) fn announce(self) {
        self.channel.with_value(|c| {
            if let Some(channel) = c {
                let _ = channel.post_message(&JsValue::from_str("changed"));
            }
        });
    }
}
