//! Anomalies: what a server's anomaly store holds. Filter it (the filters are the core's
//! `AnomalyFilter`, read with the same parser as the CLI and the API), page through it, open one
//! to read its entry, why it was flagged and its audit trail, move it through its review
//! (acknowledge, resolve, false positive, reopen), see the counts per log type and status, and
//! export what the filter selects (following the export's progress, cancelling it, downloading
//! the file, and the history of exports). An open anomaly can be explained by the server's
//! knowledge base (the features that mattered and what they measure, what its log event means
//! and what to check, similar past anomalies and their verdicts). Needs a connected server;
//! without one the page says how to connect.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::agent::AGENTS;
use mcp_train_core::anomalies::{
    AnomalyDetail, AnomalyFilter, AnomalyStatus, ExportFormat, ExportJob, ExportRequest,
    ExportStatus, FilterError, StatusChange, StoredAnomaly, FILTER_KEYS,
};

use crate::api_client::{AnomalyCount, ApiError, Explanation, Server};
use crate::components::{NoServer, StatusBadge};
use crate::state::AppState;
use crate::{download, format};

/// Anomalies fetched per page ("More" fetches the next).
const PAGE: usize = 50;
/// Message characters shown in the table.
const MESSAGE_CHARS: usize = 100;
/// Who the page says made a change or asked for an export, until the person types a name.
const DEFAULT_BY: &str = "web";

/// Reads the filter form: `(key, text)` for each field, empty text meaning "any". Every field's
/// problem is reported (not only the first), each under its key, so the form can show it next to
/// the field. The parsing is [`AnomalyFilter::set`] and [`AnomalyFilter::check`], as everywhere.
pub fn filter_from_form<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<AnomalyFilter, Vec<FilterError>> {
    let mut filter = AnomalyFilter::default();
    let mut errors = Vec::new();
    for (key, value) in fields {
        if value.trim().is_empty() {
            continue;
        }
        if let Err(e) = filter.set(key, value) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        if let Err(e) = filter.check() {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

/// A filter as one line of text (`log_type=dns, min_score=80`), `all` when empty.
pub fn describe_filter(filter: &AnomalyFilter) -> String {
    let pairs = filter.to_pairs();
    if pairs.is_empty() {
        return "all".to_owned();
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text of a refused status change: a 409 says the anomaly has moved on.
pub fn status_error_text(e: &ApiError, from: AnomalyStatus, to: AnomalyStatus) -> String {
    match e {
        ApiError::Refused {
            status: 409,
            message,
            ..
        } => format!(
            "Refused (HTTP 409): this anomaly cannot become {to} from where it is now — it was {from} when this page read it, and someone may have changed it meanwhile. The server says: {message}. Its current state has been reloaded."
        ),
        other => format!("The status was not changed: {other}"),
    }
}

/// `1,234` of a `u64` (the core's formatting).
fn count(n: u64) -> String {
    format::count(usize::try_from(n).unwrap_or(usize::MAX))
}

/// A label for a status (as the buttons and the table show it).
fn status_label(status: AnomalyStatus) -> &'static str {
    match status {
        AnomalyStatus::New => "new",
        AnomalyStatus::Acknowledged => "acknowledged",
        AnomalyStatus::Resolved => "resolved",
        AnomalyStatus::FalsePositive => "false positive",
    }
}

#[component]
pub fn AnomaliesPage(
    /// The stored anomaly to open at once (`#/anomalies/{id}`, e.g. a knowledge-base citation).
    #[prop(optional)]
    open: Option<i64>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let connected = Memo::new(move |_| state.server.with(|s| s.is_connected()));
    view! {
        <section data-testid="anomalies-page">
            <h1>"Anomalies"</h1>
            <p class="lede">
                "The anomalies a server has stored: from logs sent to it (POST /api/logs/…), from mcp-train detect --store, or saved from this browser's Detect page. Review them, and export what a filter selects."
            </p>
            {move || {
                if connected.get() {
                    view! { <Connected open=open /> }.into_any()
                } else {
                    view! {
                        <NoServer testid="anomalies-no-server" what="Anomalies are stored by">
                            " The "
                        <a href="#/detect">"Detect"</a>
                        " page works without one, in this browser."
                        </NoServer>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The page's signals, shared by its parts (`Copy`: arena handles).
#[derive(Clone, Copy)]
struct Page {
    state: AppState,
    /// The filter form's texts, one per [`FILTER_KEYS`] entry.
    fields: [RwSignal<String>; 8],
    /// The form's problems, each under its key.
    field_errors: RwSignal<Vec<FilterError>>,
    /// The filter of the list (and of the next export).
    applied: RwSignal<AnomalyFilter>,
    items: RwSignal<Vec<StoredAnomaly>>,
    next: RwSignal<Option<String>>,
    loading: RwSignal<bool>,
    list_error: RwSignal<Option<String>>,
    /// Counts a list request, so an answer to an older one is dropped.
    generation: StoredValue<u64>,
    summary: RwSignal<Vec<AnomalyCount>>,
    /// False until the first counts have arrived.
    summary_loaded: RwSignal<bool>,
    summary_error: RwSignal<Option<String>>,
    detail: RwSignal<Option<AnomalyDetail>>,
    detail_error: RwSignal<Option<String>>,
    status_error: RwSignal<Option<(u16, String)>>,
    changing: RwSignal<bool>,
    /// The knowledge base's explanation of the open anomaly, once asked for.
    explanation: RwSignal<Option<Explanation>>,
    explain_error: RwSignal<Option<String>>,
    explaining: RwSignal<bool>,
    note: RwSignal<String>,
    by: RwSignal<String>,
    exports: RwSignal<Vec<ExportJob>>,
    export_format: RwSignal<ExportFormat>,
    export_error: RwSignal<Option<String>>,
    starting: RwSignal<bool>,
}

impl Page {
    fn new(state: AppState) -> Page {
        Page {
            state,
            fields: std::array::from_fn(|_| RwSignal::new(String::new())),
            field_errors: RwSignal::new(Vec::new()),
            applied: RwSignal::new(AnomalyFilter::default()),
            items: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            loading: RwSignal::new(false),
            list_error: RwSignal::new(None),
            generation: StoredValue::new(0),
            summary: RwSignal::new(Vec::new()),
            summary_loaded: RwSignal::new(false),
            summary_error: RwSignal::new(None),
            detail: RwSignal::new(None),
            detail_error: RwSignal::new(None),
            status_error: RwSignal::new(None),
            changing: RwSignal::new(false),
            explanation: RwSignal::new(None),
            explain_error: RwSignal::new(None),
            explaining: RwSignal::new(false),
            note: RwSignal::new(String::new()),
            by: RwSignal::new(DEFAULT_BY.to_owned()),
            exports: RwSignal::new(Vec::new()),
            export_format: RwSignal::new(ExportFormat::Csv),
            export_error: RwSignal::new(None),
            starting: RwSignal::new(false),
        }
    }

    fn server(self) -> Result<Server, String> {
        self.state.connected()
    }

    fn by_name(self) -> String {
        let by = self.by.get_untracked();
        let by = by.trim();
        if by.is_empty() {
            DEFAULT_BY.to_owned()
        } else {
            by.to_owned()
        }
    }

    /// Reads the form; on success lists the first page of what it selects.
    fn apply(self) {
        let texts: Vec<String> = self.fields.iter().map(|f| f.get_untracked()).collect();
        let form = FILTER_KEYS
            .iter()
            .zip(&texts)
            .map(|(k, v)| (*k, v.as_str()));
        match filter_from_form(form) {
            Ok(filter) => {
                self.field_errors.set(Vec::new());
                self.applied.set(filter);
                self.load(false);
            }
            Err(errors) => self.field_errors.set(errors),
        }
    }

    /// Lists the first page (`more`: the next page after what is shown).
    fn load(self, more: bool) {
        let server = match self.server() {
            Ok(server) => server,
            Err(e) => return self.list_error.set(Some(e)),
        };
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        let filter = self.applied.get_untracked();
        let cursor = if more {
            self.next.get_untracked()
        } else {
            None
        };
        self.loading.set(true);
        spawn_local(async move {
            let page = server.anomalies(&filter, cursor.as_deref(), PAGE).await;
            // A newer load is under way, or the page is gone (the user moved on meanwhile).
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            self.loading.set(false);
            match page {
                Ok(page) => {
                    self.list_error.set(None);
                    if more {
                        self.items.update(|items| items.extend(page.items));
                    } else {
                        self.items.set(page.items);
                    }
                    self.next.set(page.next_cursor);
                }
                Err(e) => self
                    .list_error
                    .set(Some(format!("The anomalies could not be listed: {e}"))),
            }
        });
    }

    fn load_summary(self) {
        let Ok(server) = self.server() else { return };
        spawn_local(async move {
            match server.anomaly_summary().await {
                Ok(counts) => {
                    self.summary_error.set(None);
                    self.summary.set(counts);
                    self.summary_loaded.set(true);
                }
                Err(e) => self
                    .summary_error
                    .set(Some(format!("The counts could not be read: {e}"))),
            }
        });
    }

    fn open(self, id: i64) {
        let server = match self.server() {
            Ok(server) => server,
            Err(e) => return self.detail_error.set(Some(e)),
        };
        self.status_error.set(None);
        self.detail_error.set(None);
        self.explanation.set(None);
        self.explain_error.set(None);
        spawn_local(async move {
            match server.anomaly(id).await {
                Ok(detail) => self.show_detail(detail),
                Err(e) => self
                    .detail_error
                    .set(Some(format!("Anomaly {id} could not be read: {e}"))),
            }
        });
    }

    /// Shows `detail` and brings its row in the list up to date.
    fn show_detail(self, detail: AnomalyDetail) {
        let fresh = detail.anomaly.clone();
        self.items.update(|items| {
            if let Some(row) = items.iter_mut().find(|a| a.id == fresh.id) {
                *row = fresh;
            }
        });
        self.detail.set(Some(detail));
    }

    fn explain(self, id: i64) {
        let server = match self.server() {
            Ok(server) => server,
            Err(e) => return self.explain_error.set(Some(e)),
        };
        self.explaining.set(true);
        self.explain_error.set(None);
        spawn_local(async move {
            let answer = server.explanation(id).await;
            self.explaining.set(false);
            // Another anomaly was opened meanwhile (or the page is gone): this answer is not
            // about it.
            if self
                .detail
                .try_with_untracked(|d| d.as_ref().map(|d| d.anomaly.id))
                != Some(Some(id))
            {
                return;
            }
            match answer {
                Ok(explanation) => self.explanation.set(Some(explanation)),
                Err(e) => self
                    .explain_error
                    .set(Some(format!("Anomaly {id} could not be explained: {e}"))),
            }
        });
    }

    fn change(self, to: AnomalyStatus) {
        let Some(current) = self.detail.get_untracked() else {
            return;
        };
        let server = match self.server() {
            Ok(server) => server,
            Err(e) => return self.status_error.set(Some((0, e))),
        };
        let id = current.anomaly.id;
        let from = current.anomaly.status;
        let note = self.note.get_untracked();
        let change = StatusChange {
            status: to,
            note: (!note.trim().is_empty()).then(|| note.trim().to_owned()),
            by: Some(self.by_name()),
        };
        if let Err(e) = change.check() {
            return self.status_error.set(Some((0, e.to_string())));
        }
        self.changing.set(true);
        self.status_error.set(None);
        spawn_local(async move {
            let answer = server.change_status(id, &change).await;
            self.changing.set(false);
            match answer {
                Ok(detail) => {
                    self.note.set(String::new());
                    self.show_detail(detail);
                    self.load_summary();
                    self.state
                        .notify(format!("Anomaly {id} is now {}.", status_label(to)), false);
                }
                Err(e) => {
                    self.status_error.set(Some((
                        e.status().unwrap_or(0),
                        status_error_text(&e, from, to),
                    )));
                    // Show where it is now.
                    if let Ok(detail) = server.anomaly(id).await {
                        self.show_detail(detail);
                        self.load_summary();
                    }
                }
            }
        });
    }

    fn load_exports(self) {
        let Ok(server) = self.server() else { return };
        spawn_local(async move {
            match server.exports().await {
                Ok(jobs) => {
                    self.export_error.set(None);
                    let running: Vec<String> = jobs
                        .iter()
                        .filter(|j| !j.status.is_final())
                        .map(|j| j.id.clone())
                        .collect();
                    self.exports.set(jobs);
                    for id in running {
                        self.follow(id);
                    }
                }
                Err(e) => self
                    .export_error
                    .set(Some(format!("The export history could not be read: {e}"))),
            }
        });
    }

    fn upsert(self, job: &ExportJob) {
        self.exports
            .update(|jobs| match jobs.iter_mut().find(|j| j.id == job.id) {
                Some(row) => *row = job.clone(),
                None => jobs.insert(0, job.clone()),
            });
    }

    fn follow(self, id: String) {
        let Ok(server) = self.server() else { return };
        spawn_local(async move {
            let end = server.follow_export(&id, |job| self.upsert(job)).await;
            match end {
                Ok(job) => {
                    self.upsert(&job);
                    let text = match job.status {
                        ExportStatus::Completed => format!(
                            "Export {} is ready: {} rows, {}.",
                            job.id,
                            count(job.rows),
                            format::bytes(job.bytes as f64)
                        ),
                        ExportStatus::Failed => format!(
                            "Export {} failed: {}",
                            job.id,
                            job.error.as_deref().unwrap_or("no reason given")
                        ),
                        other => format!("Export {} is {}.", job.id, other.as_str()),
                    };
                    self.state.notify(text, job.status == ExportStatus::Failed);
                }
                Err(e) => self
                    .export_error
                    .set(Some(format!("Export {id} could not be followed: {e}"))),
            }
        });
    }

    fn start_export(self) {
        let server = match self.server() {
            Ok(server) => server,
            Err(e) => return self.export_error.set(Some(e)),
        };
        let request = ExportRequest {
            format: self.export_format.get_untracked(),
            filter: self.applied.get_untracked(),
            by: Some(self.by_name()),
        };
        self.starting.set(true);
        self.export_error.set(None);
        spawn_local(async move {
            let started = server.start_export(&request).await;
            self.starting.set(false);
            match started {
                Ok(job) => {
                    self.upsert(&job);
                    if !job.status.is_final() {
                        self.follow(job.id.clone());
                    }
                }
                Err(e) => self
                    .export_error
                    .set(Some(format!("The export did not start: {e}"))),
            }
        });
    }

    fn cancel_export(self, id: String) {
        let Ok(server) = self.server() else { return };
        spawn_local(async move {
            match server.cancel_export(&id).await {
                Ok(job) => self.upsert(&job),
                Err(e) => self
                    .export_error
                    .set(Some(format!("Export {id} was not cancelled: {e}"))),
            }
        });
    }

    fn download_export(self, job: ExportJob) {
        let Ok(server) = self.server() else { return };
        spawn_local(async move {
            match server.export_file(&job.id).await {
                Ok(bytes) => {
                    let name = job.file_name.clone().unwrap_or_else(|| {
                        format!("anomalies_{}.{}", job.id, job.format.extension())
                    });
                    if let Err(e) = download::save(&name, job.format.media_type(), &bytes) {
                        self.state.notify(e, true);
                    }
                }
                Err(e) => self.state.notify(
                    format!("Export {} could not be downloaded: {e}", job.id),
                    true,
                ),
            }
        });
    }
}

/// The page with a connected server (`open`: the anomaly to open at once).
#[component]
fn Connected(open: Option<i64>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let page = Page::new(state);
    page.load(false);
    page.load_summary();
    page.load_exports();
    if let Some(id) = open {
        page.open(id);
    }
    view! {
        <Summary page=page />
        <FilterForm page=page />
        <div class="card">
            <h2>"Stored anomalies"</h2>
            <AnomalyTable page=page />
        </div>
        <Details page=page />
        <Exports page=page />
    }
}

/// Counts per log type and status.
#[component]
fn Summary(page: Page) -> impl IntoView {
    let log_types = move || {
        let mut types: Vec<String> = page
            .summary
            .with(|c| c.iter().map(|c| c.log_type.clone()).collect());
        types.sort();
        types.dedup();
        types
    };
    view! {
        <div class="card">
            <h2>"Counts"</h2>
            <Show when=move || page.summary_error.with(Option::is_some)>
                <p class="error-text" role="alert">{move || page.summary_error.get().unwrap_or_default()}</p>
            </Show>
            <Show
                when=move || page.summary.with(|c| !c.is_empty())
                fallback=move || {
                    view! {
                        <Show
                            when=move || page.summary_loaded.get()
                            fallback=|| view! { <p class="muted">"Counting…"</p> }
                        >
                            <p class="muted" data-testid="anomaly-summary-empty">"Nothing is stored yet."</p>
                        </Show>
                    }
                }
            >
                <table class="table" data-testid="anomaly-summary">
                    <thead>
                        <tr>
                            <th scope="col">"Log type"</th>
                            {AnomalyStatus::ALL
                                .iter()
                                .map(|s| view! { <th scope="col">{status_label(*s)}</th> })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            log_types()
                                .into_iter()
                                .map(|t| {
                                    let cells = AnomalyStatus::ALL
                                        .iter()
                                        .map(|s| {
                                            let n = page.summary.with(|c| {
                                                c.iter()
                                                    .filter(|c| c.log_type == t && c.status == *s)
                                                    .map(|c| c.count)
                                                    .sum::<u64>()
                                            });
                                            view! {
                                                <td
                                                    data-testid="summary-count"
                                                    data-log-type=t.clone()
                                                    data-status=s.as_str()
                                                    data-count=n.to_string()
                                                >
                                                    {count(n)}
                                                </td>
                                            }
                                        })
                                        .collect_view();
                                    view! {
                                        <tr data-testid="summary-row" data-log-type=t.clone()>
                                            <th scope="row">{t.clone()}</th>
                                            {cells}
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </Show>
        </div>
    }
}

/// A text field of the filter form with its error under it.
#[component]
fn FilterField(
    page: Page,
    index: usize,
    label: &'static str,
    placeholder: &'static str,
) -> impl IntoView {
    let key = FILTER_KEYS[index];
    let value = page.fields[index];
    let error = move || {
        page.field_errors.with(|errors| {
            errors
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.message.clone())
        })
    };
    view! {
        <label>
            {label}
            <input
                type="text"
                name=format!("filter-{key}")
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <FieldError key=key error=Signal::derive(error) />
        </label>
    }
}

#[component]
fn FieldError(key: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <span class="field-error" role="alert" data-testid="filter-error" data-key=key>
                {move || error.get().unwrap_or_default()}
            </span>
        </Show>
    }
}

/// A select field of the filter form (`choices`: value and label; the empty value is "any").
#[component]
fn FilterSelect(
    page: Page,
    index: usize,
    label: &'static str,
    choices: Vec<(String, String)>,
) -> impl IntoView {
    let key = FILTER_KEYS[index];
    let value = page.fields[index];
    let error = move || {
        page.field_errors.with(|errors| {
            errors
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.message.clone())
        })
    };
    view! {
        <label>
            {label}
            <select name=format!("filter-{key}") on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="" selected=move || value.with(String::is_empty)>"any"</option>
                {choices
                    .into_iter()
                    .map(|(v, text)| {
                        let selected = {
                            let v = v.clone();
                            move || value.with(|current| *current == v)
                        };
                        view! { <option value=v selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldError key=key error=Signal::derive(error) />
        </label>
    }
}

#[component]
fn FilterForm(page: Page) -> impl IntoView {
    let index = |key: &str| FILTER_KEYS.iter().position(|k| *k == key).unwrap_or(0);
    let log_types: Vec<(String, String)> = AGENTS
        .iter()
        .map(|a| {
            let t = a.info().log_type.to_owned();
            (t.clone(), t)
        })
        .collect();
    let statuses: Vec<(String, String)> = AnomalyStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), status_label(*s).to_owned()))
        .collect();
    view! {
        <form
            class="card filter-form"
            data-testid="anomaly-filter"
            on:submit=move |ev| {
                ev.prevent_default();
                page.apply();
            }
        >
            <h2>"Filter"</h2>
            <div class="filter-grid">
                <FilterField page=page index=index("from") label="From (entry time)" placeholder="2026-01-01T00:00:00Z" />
                <FilterField page=page index=index("to") label="To (exclusive)" placeholder="2026-01-02T00:00:00Z" />
                <FilterSelect page=page index=index("log_type") label="Log type" choices=log_types />
                <FilterField page=page index=index("model_version") label="Model version" placeholder="20260101_120000" />
                <FilterField page=page index=index("min_score") label="Min risk score (0–100)" placeholder="50" />
                <FilterSelect page=page index=index("status") label="Status" choices=statuses />
                <FilterField page=page index=index("device") label="Device (host)" placeholder="ap-1" />
                <FilterField page=page index=index("client") label="Client" placeholder="192.168.1.7" />
            </div>
            <div class="actions">
                <button type="submit" class="primary" data-testid="apply-filter">"Apply"</button>
                <button
                    type="button"
                    data-testid="clear-filter"
                    on:click=move |_| {
                        for f in page.fields {
                            f.set(String::new());
                        }
                        page.apply();
                    }
                >
                    "Clear"
                </button>
                <span class="muted" data-testid="applied-filter">
                    {move || format!("Showing: {}", page.applied.with(describe_filter))}
                </span>
            </div>
        </form>
    }
}

#[component]
fn AnomalyTable(page: Page) -> impl IntoView {
    view! {
        <Show when=move || page.list_error.with(Option::is_some)>
            <div class="error-box" role="alert" data-testid="anomalies-error">
                {move || page.list_error.get().unwrap_or_default()}
            </div>
        </Show>
        <p class="muted" data-testid="anomalies-loaded" data-count=move || page.items.with(Vec::len).to_string() data-loading=move || page.loading.get().to_string()>
            {move || {
                let n = page.items.with(Vec::len);
                let more = if page.next.with(Option::is_some) { "; more match" } else { "" };
                if page.loading.get() {
                    "Loading…".to_owned()
                } else {
                    format!("{} shown{more}.", format::count(n))
                }
            }}
        </p>
        <table class="table" data-testid="stored-anomalies">
            <thead>
                <tr>
                    <th scope="col">"Id"</th>
                    <th scope="col">"Entry time"</th>
                    <th scope="col">"Log type"</th>
                    <th scope="col">"Risk"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Device / client"</th>
                    <th scope="col">"Message"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    page.items
                        .get()
                        .into_iter()
                        .map(|a| {
                            let id = a.id;
                            let e = &a.anomaly.entry;
                            let message: String = e.message.chars().take(MESSAGE_CHARS).collect();
                            let cut = e.message.chars().count() > MESSAGE_CHARS;
                            let selected = move || page.detail.with(|d| d.as_ref().is_some_and(|d| d.anomaly.id == id));
                            view! {
                                <tr
                                    data-testid="stored-anomaly-row"
                                    data-id=id.to_string()
                                    data-status=a.status.as_str()
                                    data-score=a.score.to_string()
                                    data-log-type=a.log_type.clone()
                                    class:selected=selected
                                >
                                    <td>{id}</td>
                                    <td>{format::iso_time(&e.timestamp)}</td>
                                    <td>{a.log_type.clone()}</td>
                                    <td>{format!("{:.0}", a.score)}</td>
                                    <td><StatusBadge status=a.status.as_str().to_owned() /></td>
                                    <td>{format!("{} / {}", a.device.as_deref().unwrap_or("–"), a.client.as_deref().unwrap_or("–"))}</td>
                                    <td title=e.message.clone()>{message}{cut.then_some("…")}</td>
                                    <td class="actions">
                                        <button class="link" data-testid="open-anomaly" on:click=move |_| page.open(id)>
                                            "Details"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()
                }}
            </tbody>
        </table>
        <Show when=move || page.next.with(Option::is_some)>
            <button data-testid="anomalies-more" disabled=move || page.loading.get() on:click=move |_| page.load(true)>
                "More"
            </button>
        </Show>
    }
}

/// One anomaly: its entry, why, its audit trail, and the review buttons.
#[component]
fn Details(page: Page) -> impl IntoView {
    view! {
        <Show when=move || page.detail_error.with(Option::is_some)>
            <div class="error-box" role="alert" data-testid="anomaly-detail-error">
                {move || page.detail_error.get().unwrap_or_default()}
            </div>
        </Show>
        {move || page.detail.get().map(|d| view! { <DetailCard page=page detail=d /> })}
    }
}

#[component]
fn DetailCard(page: Page, detail: AnomalyDetail) -> impl IntoView {
    let a = &detail.anomaly;
    let e = &a.anomaly.entry;
    let status = a.status;
    let fields = e
        .fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let contributions = a
        .anomaly
        .contributions
        .iter()
        .map(|c| {
            view! {
                <tr data-testid="contribution">
                    <td>{c.feature.clone()}</td>
                    <td>{format!("{:.4}", c.value)}</td>
                    <td>{format!("{:+.4}", c.contribution)}</td>
                </tr>
            }
        })
        .collect_view();
    let history = detail
        .history
        .iter()
        .map(|h| {
            let from = h.from.map_or("–", status_label);
            view! {
                <li data-testid="history-event" data-to=h.to.as_str() data-by=h.by.clone()>
                    <span>{format::iso_time(&h.at)}</span>
                    " · "
                    <strong>{h.by.clone()}</strong>
                    {format!(" · {from} → {}", status_label(h.to))}
                    {h.note.clone().map(|n| view! { " · " <q data-testid="history-note">{n}</q> })}
                </li>
            }
        })
        .collect_view();
    // The buttons: where this anomaly may go from its status.
    let actions: Vec<(AnomalyStatus, &'static str, &'static str)> = [
        (AnomalyStatus::Acknowledged, "acknowledge", "Acknowledge"),
        (AnomalyStatus::Resolved, "resolve", "Resolve"),
        (
            AnomalyStatus::FalsePositive,
            "false-positive",
            "Mark false positive",
        ),
        (AnomalyStatus::Acknowledged, "reopen", "Reopen"),
    ]
    .into_iter()
    .filter(|(to, name, _)| {
        status.can_become(*to) && ((*name == "reopen") == status.verdict().is_some())
    })
    .collect();
    let buttons = actions
        .into_iter()
        .map(|(to, name, text)| {
            view! {
                <button
                    data-testid=format!("status-{name}")
                    disabled=move || page.changing.get()
                    on:click=move |_| page.change(to)
                >
                    {text}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="card" data-testid="anomaly-details" data-id=a.id.to_string() data-status=status.as_str()>
            <h2>{format!("Anomaly {} · {}", a.id, status_label(status))}</h2>
            <div class="grid-2">
                <table class="kv" data-testid="anomaly-entry">
                    <tbody>
                        <tr><th>"Entry time"</th><td>{format::iso_time(&e.timestamp)}</td></tr>
                        <tr><th>"Stored"</th><td>{format::iso_time(&a.detected_at)}</td></tr>
                        <tr><th>"Log type"</th><td>{a.log_type.clone()}</td></tr>
                        <tr><th>"Model"</th><td>{a.model_version.clone()}</td></tr>
                        <tr><th>"Risk score"</th><td>{format!("{:.1}", a.score)}</td></tr>
                        <tr><th>"Decision"</th><td>{format!("{:.4}", a.anomaly.inference.decision)}</td></tr>
                        <tr><th>"Device"</th><td>{a.device.clone().unwrap_or_else(|| "–".to_owned())}</td></tr>
                        <tr><th>"Client"</th><td>{a.client.clone().unwrap_or_else(|| "–".to_owned())}</td></tr>
                        <tr><th>"Process"</th><td>{e.process.clone()}</td></tr>
                        <tr><th>"Message"</th><td data-testid="anomaly-message">{e.message.clone()}</td></tr>
                        <tr><th>"Fields"</th><td>{fields}</td></tr>
                    </tbody>
                </table>
                <div>
                    <h3>"Why it was flagged"</h3>
                    <table class="table" data-testid="anomaly-contributions">
                        <thead><tr><th>"Feature"</th><th>"Value"</th><th>"Contribution"</th></tr></thead>
                        <tbody>{contributions}</tbody>
                    </table>
                    <h3>"History"</h3>
                    <ol data-testid="anomaly-history">{history}</ol>
                </div>
            </div>
            <Explain page=page id=a.id />
            <div class="review">
                <label>
                    "Note"
                    <textarea
                        name="status-note"
                        rows="2"
                        prop:value=move || page.note.get()
                        on:input=move |ev| page.note.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <label>
                    "Your name"
                    <input
                        type="text"
                        name="by"
                        prop:value=move || page.by.get()
                        on:input=move |ev| page.by.set(event_target_value(&ev))
                    />
                </label>
                <div class="actions">{buttons}</div>
                <Show when=move || page.status_error.with(Option::is_some)>
                    <div
                        class="error-box"
                        role="alert"
                        data-testid="status-error"
                        data-code=move || page.status_error.with(|e| e.as_ref().map(|e| e.0.to_string()).unwrap_or_default())
                    >
                        {move || page.status_error.with(|e| e.as_ref().map(|e| e.1.clone()).unwrap_or_default())}
                    </div>
                </Show>
            </div>
        </div>
    }
}

/// The Explain button and, once asked, the knowledge base's explanation of anomaly `id`.
#[component]
fn Explain(page: Page, id: i64) -> impl IntoView {
    let shown = move || page.explanation.get().filter(|e| e.anomaly.id == id);
    view! {
        <div class="explain" data-testid="anomaly-explain">
            <div class="actions">
                <button
                    data-testid="explain-anomaly"
                    disabled=move || page.explaining.get()
                    on:click=move |_| page.explain(id)
                >
                    {move || if page.explaining.get() { "Explaining…" } else { "Explain" }}
                </button>
                <span class="muted">
                    "What the server's knowledge base says: the features that mattered, what the log event means, similar past anomalies and their verdicts."
                </span>
            </div>
            <Show when=move || page.explain_error.with(Option::is_some)>
                <div class="error-box" role="alert" data-testid="explain-error">
                    {move || page.explain_error.get().unwrap_or_default()}
                </div>
            </Show>
            {move || shown().map(|e| view! { <ExplanationView explanation=e /> })}
        </div>
    }
}

#[component]
fn ExplanationView(explanation: Explanation) -> impl IntoView {
    let features = explanation
        .top_features
        .iter()
        .map(|f| {
            view! {
                <tr data-testid="explanation-feature" data-feature=f.feature.clone()>
                    <td><code>{f.feature.clone()}</code></td>
                    <td>{f.value.map_or_else(|| "–".to_owned(), |v| format!("{v:.4}"))}</td>
                    <td>{format!("{:+.4}", f.contribution)}</td>
                    <td>{f.meaning.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let events = explanation
        .events
        .iter()
        .map(|e| {
            let how = if e.matched_by == "message" {
                "the message shows it"
            } else {
                "a top feature points at it"
            };
            view! {
                <li data-testid="explanation-event" data-id=e.id.clone() data-matched-by=e.matched_by.clone()>
                    <strong>{e.title.clone()}</strong>
                    " "
                    <code>{e.id.clone()}</code>
                    <span class="muted">{format!(" · {how}")}</span>
                    <p>{e.meaning.clone()}</p>
                    <p data-testid="explanation-check"><strong>"What to check: "</strong>{e.what_to_check.clone()}</p>
                    <p class="muted">{format!("Source: {}", e.source)}</p>
                </li>
            }
        })
        .collect_view();
    let similar = explanation
        .similar
        .iter()
        .map(|s| {
            let verdict = match (&s.verdict_note, &s.verdict_by) {
                (Some(note), Some(by)) => format!("{note} ({by})"),
                (Some(note), None) => note.clone(),
                (None, Some(by)) => format!("by {by}"),
                (None, None) => "–".to_owned(),
            };
            let message: String = s.message.chars().take(MESSAGE_CHARS).collect();
            view! {
                <tr data-testid="similar-anomaly" data-id=s.id.to_string() data-status=s.status.as_str()>
                    <td><a href=format!("#/anomalies/{}", s.id)>{s.id}</a></td>
                    <td>{format::percent_with(s.similarity.clamp(0.0, 1.0), 0)}</td>
                    <td><StatusBadge status=s.status.as_str().to_owned() /></td>
                    <td>{format!("{:.0}", s.score)}</td>
                    <td data-testid="similar-verdict">{verdict}</td>
                    <td title=s.message.clone()>{message}</td>
                </tr>
            }
        })
        .collect_view();
    let no_features = explanation.top_features.is_empty();
    let no_events = explanation.events.is_empty();
    let no_similar = explanation.similar.is_empty();
    view! {
        <div data-testid="anomaly-explanation" data-id=explanation.anomaly.id.to_string()>
            <h3>"Explanation"</h3>
            <p data-testid="explanation-summary">{explanation.summary.clone()}</p>
            <h4>"Features that mattered"</h4>
            {if no_features {
                view! { <p class="muted">"The anomaly has no stored contributions."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="explanation-features">
                        <thead>
                            <tr>
                                <th scope="col">"Feature"</th>
                                <th scope="col">"Value"</th>
                                <th scope="col">"Contribution"</th>
                                <th scope="col">"What it measures"</th>
                            </tr>
                        </thead>
                        <tbody>{features}</tbody>
                    </table>
                }
                    .into_any()
            }}
            <h4>"What the log event means"</h4>
            {if no_events {
                view! {
                    <p class="muted" data-testid="explanation-no-events">
                        {format!("The catalogue has no entry for this {} event.", explanation.anomaly.log_type)}
                    </p>
                }
                    .into_any()
            } else {
                view! { <ul data-testid="explanation-events">{events}</ul> }.into_any()
            }}
            <h4>"Similar past anomalies"</h4>
            {if no_similar {
                view! { <p class="muted" data-testid="explanation-no-similar">"None found."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="explanation-similar">
                        <thead>
                            <tr>
                                <th scope="col">"Id"</th>
                                <th scope="col">"Similarity"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Risk"</th>
                                <th scope="col">"Verdict"</th>
                                <th scope="col">"Message"</th>
                            </tr>
                        </thead>
                        <tbody>{similar}</tbody>
                    </table>
                }
                    .into_any()
            }}
        </div>
    }
}

#[component]
fn Exports(page: Page) -> impl IntoView {
    view! {
        <div class="card" data-testid="exports-panel">
            <h2>"Exports"</h2>
            <p class="muted">
                {move || format!("Exports what the filter selects ({}), written by the server in batches; follow it here and download it when it is done.", page.applied.with(describe_filter))}
            </p>
            <div class="actions">
                <label>
                    "Format"
                    <select
                        name="export-format"
                        on:change=move |ev| {
                            if let Ok(f) = ExportFormat::parse(&event_target_value(&ev)) {
                                page.export_format.set(f);
                            }
                        }
                    >
                        {ExportFormat::ALL
                            .iter()
                            .map(|f| {
                                let f = *f;
                                view! {
                                    <option value=f.as_str() selected=move || page.export_format.get() == f>
                                        {f.as_str()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button
                    class="primary"
                    data-testid="start-export"
                    disabled=move || page.starting.get()
                    on:click=move |_| page.start_export()
                >
                    {move || if page.starting.get() { "Starting…" } else { "Export" }}
                </button>
            </div>
            <Show when=move || page.export_error.with(Option::is_some)>
                <div class="error-box" role="alert" data-testid="export-error">
                    {move || page.export_error.get().unwrap_or_default()}
                </div>
            </Show>
            <table class="table" data-testid="exports">
                <thead>
                    <tr>
                        <th scope="col">"Asked"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Format"</th>
                        <th scope="col">"Filter"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Rows"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"SHA-256"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {move || page.exports.get().into_iter().map(|job| view! { <ExportRow page=page job=job /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ExportRow(page: Page, job: ExportJob) -> impl IntoView {
    let fraction = match (job.status, job.total) {
        (ExportStatus::Completed, _) => 1.0,
        (_, Some(total)) if total > 0 => job.rows as f64 / total as f64,
        _ => 0.0,
    };
    let running = !job.status.is_final();
    let rows = match job.total {
        Some(total) if running => format!("{} / {}", count(job.rows), count(total)),
        _ => count(job.rows),
    };
    let sha = job.sha256.clone().unwrap_or_default();
    let short: String = sha.chars().take(16).collect();
    let id = job.id.clone();
    let download_job = job.clone();
    view! {
        <tr
            data-testid="export-row"
            data-id=job.id.clone()
            data-status=job.status.as_str()
            data-rows=job.rows.to_string()
            data-bytes=job.bytes.to_string()
            data-sha256=sha.clone()
            data-format=job.format.as_str()
        >
            <td>{format::iso_time(&job.created_at)}</td>
            <td data-testid="export-by">{job.by.clone()}</td>
            <td>{job.format.as_str()}</td>
            <td>{describe_filter(&job.filter)}</td>
            <td>
                <StatusBadge status=job.status.as_str().to_owned() />
                {running.then(|| view! { <progress max="1" value=fraction.clamp(0.0, 1.0)></progress> })}
                {job.error.clone().map(|e| view! { <span class="error-text" data-testid="export-row-error">{e}</span> })}
            </td>
            <td>{rows}</td>
            <td>{format::bytes(job.bytes as f64)}</td>
            <td title=sha.clone()><code>{short}</code></td>
            <td class="actions">
                {running.then(|| {
                    let id = id.clone();
                    view! {
                        <button data-testid="cancel-export" on:click=move |_| page.cancel_export(id.clone())>
                            "Cancel"
                        </button>
                    }
                })}
                {(job.status == ExportStatus::Completed).then(|| {
                    view! {
                        <button data-testid="download-export" on:click=move |_| page.download_export(download_job.clone())>
                            "Download"
                        </button>
                    }
                })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_with_the_core_parser_and_names_every_bad_field() {
        let ok = filter_from_form([
            ("from", "2026-01-01T00:00:00Z"),
            ("to", ""),
            ("log_type", "dns"),
            ("min_score", " 80 "),
            ("status", "acknowledged"),
        ])
        .expect("a filter");
        assert_eq!(ok.log_type.as_deref(), Some("dns"));
        assert_eq!(ok.min_score, Some(80.0));
        assert_eq!(ok.status, Some(AnomalyStatus::Acknowledged));
        assert_eq!(ok.to, None);
        let errors = filter_from_form([
            ("from", "yesterday"),
            ("min_score", "120"),
            ("device", "ap"),
        ])
        .expect_err("two bad fields");
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["from", "min_score"]);
        let errors = filter_from_form([
            ("from", "2026-01-02T00:00:00Z"),
            ("to", "2026-01-01T00:00:00Z"),
        ])
        .expect_err("to before from");
        assert_eq!(errors[0].key, "to");
        assert_eq!(
            filter_from_form([("status", "  ")]),
            Ok(AnomalyFilter::default())
        );
    }

    #[test]
    fn filters_read_as_one_line() {
        assert_eq!(describe_filter(&AnomalyFilter::default()), "all");
        let f = filter_from_form([("log_type", "dns"), ("min_score", "80")]).expect("a filter");
        assert_eq!(describe_filter(&f), "log_type=dns, min_score=80");
    }

    #[test]
    fn a_refused_transition_says_what_happened() {
        let e = ApiError::from_answer(
            409,
            r#"{"error":{"code":"invalid_transition","message":"anomaly 3 is resolved"}}"#,
        );
        let text = status_error_text(&e, AnomalyStatus::New, AnomalyStatus::Acknowledged);
        assert!(text.contains("HTTP 409"), "{text}");
        assert!(text.contains("anomaly 3 is resolved"), "{text}");
        assert!(text.contains("reloaded"), "{text}");
        let e = ApiError::from_answer(
            401,
            r#"{"error":{"code":"unauthorized","message":"token"}}"#,
        );
        assert!(
            status_error_text(&e, AnomalyStatus::New, AnomalyStatus::Resolved)
                .contains("token in Settings")
        );
    }
}
