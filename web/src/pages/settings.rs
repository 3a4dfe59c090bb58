//! Settings: reproducible timestamps, the server to share with, and what this browser stores.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::time::parse_iso8601;

use crate::api_client;
use crate::components::StatusBadge;
use crate::format;
use crate::idb;
use crate::state::AppState;

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
                            let mut settings = state.settings.get_untracked();
                            settings.fixed_time = text;
                            state.save_settings(settings);
                        }
                    />
                </label>
                <Show when=move || error.with(Option::is_some)>
                    <span class="field-error" role="alert">{move || error.get().unwrap_or_default()}</span>
                </Show>
            </div>
            <ServerSettings />
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

/// The server to share models with and train on, its token, and the connection's state.
#[component]
fn ServerSettings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let url = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    // The fields follow the stored settings until the user edits them.
    Effect::new(move |_| {
        state.settings.with(|s| {
            url.set(s.server_url.clone());
            token.set(s.server_token.clone());
        })
    });
    let error = RwSignal::new(None::<String>);
    let connect = move || {
        let text = url.get_untracked().trim().to_owned();
        if !text.is_empty() {
            if let Err(e) = api_client::api_base(&text) {
                error.set(Some(e));
                return;
            }
        }
        error.set(None);
        state.save_server_settings(text, token.get_untracked().trim().to_owned());
    };
    let status = move || state.server.with(|s| s.connection.as_str());
    view! {
        <div class="card">
            <h2>"Server"</h2>
            <p class="muted">
                "With an " <code>"mcp-train serve"</code>
                " server, the Models page lists the models shared there beside this browser's, and exports can be trained on the server. Leave the address empty to use the server this page came from, if any."
            </p>
            <div class="form">
                <label>
                    "Server address"
                    <input
                        type="text"
                        name="server-url"
                        inputmode="url"
                        placeholder="http://127.0.0.1:8080"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                        on:change=move |_| connect()
                    />
                </label>
                <label>
                    "Token"
                    <input
                        type="password"
                        name="server-token"
                        autocomplete="off"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                        on:change=move |_| connect()
                    />
                </label>
            </div>
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <p class="server-status" data-testid="server-status" data-state=status role="status">
                <StatusBadge status=Signal::derive(move || status().to_owned()) />
                " "
                {move || state.server.with(|s| s.message.clone())}
            </p>
            <button class="primary" data-testid="server-connect" on:click=move |_| connect()>
                "Connect"
            </button>
        </div>
    }
}
