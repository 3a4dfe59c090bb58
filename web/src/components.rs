//! Small pieces several pages use.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};

use crate::state::{AppState, Connection};

/// A file picker that is also a drop zone. `on_file` receives the chosen file.
#[component]
pub fn FileDrop(
    /// What to choose, e.g. "an export (JSON or NDJSON)".
    #[prop(into)]
    label: String,
    /// `accept` attribute of the input.
    #[prop(into)]
    accept: String,
    /// `data-testid` of the input.
    #[prop(into)]
    input_testid: String,
    /// `data-testid` of the drop zone.
    #[prop(into)]
    zone_testid: String,
    on_file: Callback<File>,
) -> impl IntoView {
    let (over, set_over) = signal(false);
    let on_change = move |ev: leptos::ev::Event| {
        let input: Option<HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
        if let Some(input) = input {
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_file.run(file);
            }
            // Choosing the same file again fires `change` again.
            input.set_value("");
        }
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        set_over.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|dt| dt.files())
            .and_then(|files| files.get(0))
        {
            on_file.run(file);
        }
    };
    view! {
        <label
            class="dropzone"
            class:over=over
            data-testid=zone_testid
            on:dragover=move |ev: DragEvent| {
                ev.prevent_default();
                set_over.set(true);
            }
            on:dragleave=move |_| set_over.set(false)
            on:drop=on_drop
        >
            <input type="file" accept=accept data-testid=input_testid on:change=on_change />
            <span class="dropzone-text">
                <strong>"Drop " {label.clone()} " here"</strong>
                " or press to choose a file. It stays on this computer."
            </span>
        </label>
    }
}

/// A labelled progress bar.
#[component]
pub fn ProgressBar(
    #[prop(into)] fraction: Signal<f64>,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    view! {
        <div class="progress-line">
            <progress max="1" value=move || fraction.get().clamp(0.0, 1.0)></progress>
            <span class="muted">
                {move || format!("{} · {}", label.get(), crate::format::percent_with(fraction.get().clamp(0.0, 1.0), 0))}
            </span>
        </div>
    }
}

/// A status pill.
#[component]
pub fn StatusBadge(#[prop(into)] status: Signal<String>) -> impl IntoView {
    view! { <span class=move || format!("badge badge-{}", status.get())>{move || status.get()}</span> }
}

/// The card a page that needs a server shows without one: connecting, the connection's error,
/// or how to get a server.
#[component]
pub fn NoServer(
    /// `data-testid` of the card (its `data-state` is the connection's state).
    testid: &'static str,
    /// What lives on the server, as the start of a sentence ending "… an `mcp-train serve`
    /// server", e.g. "The knowledge base lives on".
    what: &'static str,
    /// Said after the way to get a server, e.g. what works without one.
    #[prop(optional)]
    children: Option<ChildrenFn>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="card" data-testid=testid data-state=move || state.server.with(|s| s.connection.as_str())>
            {move || match state.server.with(|s| s.connection) {
                Connection::Connecting => view! { <p>"Connecting to the server…"</p> }.into_any(),
                Connection::Error => {
                    view! {
                        <p>
                            "The server is not connected: "
                            {move || state.server.with(|s| s.message.clone())}
                            " Check its address and token in "
                            <a href="#/settings">"Settings"</a>
                            "."
                        </p>
                    }
                        .into_any()
                }
                _ => {
                    let more = children.as_ref().map(|more| more());
                    view! {
                        <p>
                            "No server is connected. "
                            {what}
                            " an "
                            <code>"mcp-train serve"</code>
                            " server: open this app from the server (it connects by itself), or enter the server's address (and token) in "
                            <a href="#/settings">"Settings"</a>
                            "."
                            {more}
                        </p>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
