//! The shell: navigation, hash routing, the storage banner and the notice area.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::pages::anomalies::AnomaliesPage;
use crate::pages::knowledge::KnowledgePage;
use crate::pages::{dashboard::Dashboard, job::JobDetails, models::ModelDetails, models::Models};
use crate::pages::{detect::DetectPage, settings::SettingsPage, training::Training};
use crate::state::{AppState, Notice};

/// A page. Routes live in the URL's hash (`#/models`), so `dist/` works from any static host and
/// under any sub-path, with no server-side fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Dashboard,
    Training,
    Job(String),
    Models,
    Model(String),
    Detect,
    Anomalies,
    /// The Anomalies page with one stored anomaly open (`#/anomalies/42`).
    Anomaly(i64),
    Knowledge,
    Settings,
    NotFound(String),
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let mut parts = path.splitn(2, '/');
        match (parts.next().unwrap_or(""), parts.next()) {
            ("", None) => Route::Dashboard,
            ("training", None) => Route::Training,
            ("jobs", Some(id)) if !id.is_empty() => Route::Job(id.to_owned()),
            ("models", None) => Route::Models,
            ("models", Some(v)) if !v.is_empty() => Route::Model(v.to_owned()),
            ("detect", None) => Route::Detect,
            ("anomalies", None) => Route::Anomalies,
            ("anomalies", Some(id)) => match id.parse::<i64>() {
                Ok(id) if id > 0 => Route::Anomaly(id),
                _ => Route::NotFound(path.to_owned()),
            },
            ("knowledge", None) => Route::Knowledge,
            ("settings", None) => Route::Settings,
            _ => Route::NotFound(path.to_owned()),
        }
    }

    /// The navigation entry this page belongs to.
    fn section(&self) -> &'static str {
        match self {
            Route::Dashboard | Route::NotFound(_) => "#/",
            Route::Training | Route::Job(_) => "#/training",
            Route::Models | Route::Model(_) => "#/models",
            Route::Detect => "#/detect",
            Route::Anomalies | Route::Anomaly(_) => "#/anomalies",
            Route::Knowledge => "#/knowledge",
            Route::Settings => "#/settings",
        }
    }
}

fn current_route() -> Route {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Route::parse(&hash)
}

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::load_new();
    provide_context(state);
    // The first task should not wait for a worker to load.
    crate::worker::client::prepare_spare();
    let route = RwSignal::new(current_route());
    let on_hash = Closure::<dyn FnMut()>::new(move || {
        route.set(current_route());
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    });
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_hash.as_ref().unchecked_ref()));
    }
    // The handler lives as long as the page.
    on_hash.forget();

    let nav_link = move |href: &'static str, text: &'static str| {
        view! {
            <a
                href=href
                class:active=move || route.with(|r| r.section() == href)
                aria-current=move || route.with(|r| (r.section() == href).then_some("page"))
            >
                {text}
            </a>
        }
    };
    view! {
        <header class="topbar">
            <a class="brand" href="#/">"mcp-train"</a>
            <nav aria-label="Main">
                {nav_link("#/", "Dashboard")}
                {nav_link("#/training", "Training")}
                {nav_link("#/models", "Models")}
                {nav_link("#/detect", "Detect")}
                {nav_link("#/anomalies", "Anomalies")}
                {nav_link("#/knowledge", "Knowledge")}
                {nav_link("#/settings", "Settings")}
            </nav>
            <span class="topbar-note">
                {move || if state.server.with(|s| s.is_connected()) {
                    "Runs in this tab · a server gets only what you share or train there"
                } else {
                    "Runs in this tab · your logs never leave this computer"
                }}
            </span>
        </header>
        <StorageBanner error=state.storage_error />
        <NoticeArea notice=state.notice />
        <main>
            {move || match route.get() {
                Route::Dashboard => view! { <Dashboard /> }.into_any(),
                Route::Training => view! { <Training /> }.into_any(),
                Route::Job(id) => view! { <JobDetails id=id /> }.into_any(),
                Route::Models => view! { <Models /> }.into_any(),
                Route::Model(version) => view! { <ModelDetails version=version /> }.into_any(),
                Route::Detect => view! { <DetectPage /> }.into_any(),
                Route::Anomalies => view! { <AnomaliesPage /> }.into_any(),
                Route::Anomaly(id) => view! { <AnomaliesPage open=id /> }.into_any(),
                Route::Knowledge => view! { <KnowledgePage /> }.into_any(),
                Route::Settings => view! { <SettingsPage /> }.into_any(),
                Route::NotFound(path) => {
                    view! {
                        <section>
                            <h1>"Page not found"</h1>
                            <p>"There is no page " <code>{path}</code> ". " <a href="#/">"Go to the dashboard"</a> "."</p>
                        </section>
                    }
                        .into_any()
                }
            }}
        </main>
    }
}

/// The storage problem, if any, until dismissed. Gets only the one signal it shows and clears
/// (as leptos' todomvc passes a child only what it needs), not the whole state.
#[component]
fn StorageBanner(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <div class="banner banner-error" role="alert" data-testid="app-error">
                <span>{move || error.get().unwrap_or_default()}</span>
                <button class="link" on:click=move |_| error.set(None)>
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}

/// The outcome of the last action, until dismissed.
#[component]
fn NoticeArea(notice: RwSignal<Option<Notice>>) -> impl IntoView {
    view! {
        <Show when=move || notice.with(Option::is_some)>
            <div
                class=move || {
                    if notice.with(|n| n.as_ref().is_some_and(|n| n.error)) {
                        "banner banner-error"
                    } else {
                        "banner banner-ok"
                    }
                }
                role="status"
                data-testid="notice"
            >
                <span>{move || notice.get().map(|n| n.text).unwrap_or_default()}</span>
                <button class="link" on:click=move |_| notice.set(None)>
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn hash_routes_parse() {
        assert_eq!(Route::parse(""), Route::Dashboard);
        assert_eq!(Route::parse("#/"), Route::Dashboard);
        assert_eq!(Route::parse("#/training"), Route::Training);
        assert_eq!(Route::parse("#/jobs/job-1"), Route::Job("job-1".into()));
        assert_eq!(Route::parse("#/models"), Route::Models);
        assert_eq!(
            Route::parse("#/models/20240101_000000"),
            Route::Model("20240101_000000".into())
        );
        assert_eq!(Route::parse("#/settings"), Route::Settings);
        assert_eq!(Route::parse("#/detect"), Route::Detect);
        assert_eq!(Route::parse("#/anomalies"), Route::Anomalies);
        assert_eq!(Route::parse("#/anomalies/42"), Route::Anomaly(42));
        assert_eq!(
            Route::parse("#/anomalies/x"),
            Route::NotFound("anomalies/x".into())
        );
        assert_eq!(
            Route::parse("#/anomalies/0"),
            Route::NotFound("anomalies/0".into())
        );
        assert_eq!(Route::parse("#/knowledge"), Route::Knowledge);
        assert_eq!(
            Route::parse("#/knowledge/x"),
            Route::NotFound("knowledge/x".into())
        );
        assert_eq!(Route::parse("#/nope"), Route::NotFound("nope".into()));
        assert_eq!(Route::parse("#/jobs/"), Route::NotFound("jobs/".into()));
    }

    #[test]
    fn a_page_lights_its_navigation_entry() {
        assert_eq!(Route::Anomaly(42).section(), "#/anomalies");
        assert_eq!(Route::Knowledge.section(), "#/knowledge");
        assert_eq!(Route::Model("v".into()).section(), "#/models");
    }
}
