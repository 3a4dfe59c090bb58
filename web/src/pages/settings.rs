//! Settings: reproducible timestamps, and what this browser stores.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::time::parse_iso8601;

use crate::format;
use crate::idb;
use crate::state::{AppState, Settings};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let error = RwSignal::new(None::<String>);
    let estimate = RwSignal::new(None::<(f64, f64)>);
    spawn_local(async move { estimate.set(idb::estimate().await) });
    view! {
        <section data-testid="settings-page">
            <h1>"Settings"</h1>
            <div class="card">
                <h2>"Reproducible models"</h2>
                <p class="muted">
                    "With a fixed time, every model is created at that time and records a zero training duration, like the CLI under "
                    <code>"SOURCE_DATE_EPOCH"</code>
                    ": the same export, parameters and seed then give a byte-identical model.json here and in "
                    <code>"mcp-train train"</code> ". Leave empty to use the current time."
                </p>
                <label>
                    "Fixed creation time (ISO 8601, UTC)"
                    <input
                        type="text"
                        name="fixed-time"
                        placeholder="2024-06-01T12:00:00Z"
                        prop:value=move || state.settings.with(|s| s.fixed_time.clone())
                        on:change=move |ev| {
                            let text = event_target_value(&ev).trim().to_owned();
                            if !text.is_empty() {
                                if let Err(e) = parse_iso8601(&text) {
                                    error.set(Some(format!("not a time: {e}")));
                                    return;
                                }
                            }
                            error.set(None);
                            state.save_settings(Settings { fixed_time: text });
                        }
                    />
                </label>
                <Show when=move || error.with(Option::is_some)>
                    <span class="field-error" role="alert">{move || error.get().unwrap_or_default()}</span>
                </Show>
            </div>
            <div class="card">
                <h2>"Storage"</h2>
                <p data-testid="storage-status">
                    {move || {
                        if let Some(e) = state.storage_error.get() {
                            format!("Not persisted: {e}")
                        } else if !state.loaded.get() {
                            "Opening browser storage…".to_owned()
                        } else {
                            let models = state.models.with(Vec::len);
                            let jobs = state.jobs.with(Vec::len);
                            let usage = estimate
                                .get()
                                .map(|(used, quota)| format!(" Using {} of {} available to this site.", format::bytes(used), format::bytes(quota)))
                                .unwrap_or_default();
                            format!("{models} models and {jobs} jobs are kept in this browser's IndexedDB and survive reloads.{usage}")
                        }
                    }}
                </p>
                <p class="muted">"Exports are never stored: a job reads its file while it runs."</p>
            </div>
        </section>
    }
}
