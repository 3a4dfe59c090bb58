//! Knowledge: a search box over the server's knowledge base (the catalogue of log events, the
//! shared models with their evaluations and training jobs, the stored anomalies and the
//! analysts' verdicts on them). The query is read by the server with the same parser as
//! `mcp-train kb search` and the `search_knowledge` tool; the results come ranked, each with
//! the passage that matched and what it cites. Needs a connected server (the index lives
//! there); without one the page says how to connect.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::agent::AGENTS;
use mcp_train_core::knowledge::{DocKind, SearchHit, SearchResults, SourceRef};

use crate::api_client::knowledge_query;
use crate::components::NoServer;
use crate::state::AppState;

/// A passage of a snippet: its text, and whether it is a match (the server writes matches
/// between `[` and `]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    pub matched: bool,
}

/// Cuts a snippet into plain passages and matches. A `[` not closed before the next `[` is text,
/// so a log line's own brackets never swallow the rest of the snippet.
pub fn snippet_parts(snippet: &str) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, matched: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.matched == matched && !matched => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.to_owned(),
                matched,
            }),
        }
    };
    let mut rest = snippet;
    while let Some(open) = rest.find('[') {
        push(&rest[..open], false);
        let after = &rest[open + 1..];
        match after.find(['[', ']']) {
            Some(close) if after.as_bytes()[close] == b']' => {
                push(&after[..close], true);
                rest = &after[close + 1..];
            }
            // Another `[` first, or none: this one is the text's own.
            _ => {
                push("[", false);
                rest = after;
            }
        }
    }
    push(rest, false);
    parts
}

/// Where a result's citation leads: a page of this app, or none (the text names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The app's route, when the cited thing has a page.
    pub href: Option<String>,
    /// What the citation says.
    pub label: String,
}

/// The citation of a source: a model's page, a stored anomaly on the Anomalies page, a
/// catalogue entry by its id.
pub fn citation(source: &SourceRef) -> Citation {
    match source.kind.as_str() {
        "model" => Citation {
            href: Some(format!("#/models/{}", source.id)),
            label: format!("model {}", source.id),
        },
        "anomaly" => Citation {
            href: source
                .id
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(|id| format!("#/anomalies/{id}")),
            label: format!("anomaly {}", source.id),
        },
        "catalogue" => Citation {
            href: None,
            label: format!("catalogue entry {}", source.id),
        },
        other => Citation {
            href: None,
            label: format!("{other} {}", source.id),
        },
    }
}

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let connected = Memo::new(move |_| state.server.with(|s| s.is_connected()));
    view! {
        <section data-testid="knowledge-page">
            <h1>"Knowledge"</h1>
            <p class="lede">
                "Search what the server knows: what each log event means and what to check, the shared models with their evaluations and training jobs, the stored anomalies and the verdicts analysts gave them. Results are ranked best first and cite where they come from."
            </p>
            {move || {
                if connected.get() {
                    view! { <Search /> }.into_any()
                } else {
                    view! { <NoServer testid="knowledge-no-server" what="The knowledge base lives on" /> }.into_any()
                }
            }}
        </section>
    }
}

/// What the results area shows.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Nothing searched yet.
    Idle,
    Loading,
    /// The server's refusal or an unreachable server, as a sentence.
    Failed(String),
    /// The results of the query `q`.
    Found {
        q: String,
        results: SearchResults,
    },
}

impl Outcome {
    fn state(&self) -> &'static str {
        match self {
            Outcome::Idle => "idle",
            Outcome::Loading => "loading",
            Outcome::Failed(_) => "error",
            Outcome::Found { results, .. } if results.results.is_empty() => "empty",
            Outcome::Found { .. } => "results",
        }
    }
}

/// The search box and its results.
#[component]
fn Search() -> impl IntoView {
    let state = expect_context::<AppState>();
    let q = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let log_type = RwSignal::new(String::new());
    let outcome = RwSignal::new(Outcome::Idle);
    // Counts searches, so the answer to an older one is dropped.
    let generation = StoredValue::new(0_u64);
    let search = move || {
        let server = match state.connected() {
            Ok(server) => server,
            Err(e) => return outcome.set(Outcome::Failed(e)),
        };
        let text = q.get_untracked();
        let kinds: Vec<DocKind> = DocKind::parse(&kind.get_untracked()).into_iter().collect();
        let log_type = log_type.get_untracked();
        let query = knowledge_query(
            &text,
            &kinds,
            (!log_type.is_empty()).then_some(log_type.as_str()),
            None,
        );
        let current = generation.get_value() + 1;
        generation.set_value(current);
        outcome.set(Outcome::Loading);
        spawn_local(async move {
            let answer = server.search_knowledge(&query).await;
            // A newer search is under way, or the page is gone (the user moved on meanwhile).
            if generation.try_get_value() != Some(current) {
                return;
            }
            outcome.set(match answer {
                Ok(results) => Outcome::Found { q: text, results },
                Err(e) => Outcome::Failed(format!("The search failed: {e}")),
            });
        });
    };
    let log_types: Vec<&'static str> = AGENTS.iter().map(|a| a.info().log_type).collect();
    view! {
        <form
            class="card"
            role="search"
            data-testid="kb-search"
            on:submit=move |ev| {
                ev.prevent_default();
                search();
            }
        >
            <div class="filter-grid">
                <label>
                    "Search"
                    <input
                        type="search"
                        name="kb-query"
                        placeholder="PSK mismatch"
                        autocomplete="off"
                        prop:value=move || q.get()
                        on:input=move |ev| q.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Kind"
                    <select name="kb-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="" selected=move || kind.with(String::is_empty)>"any"</option>
                        {DocKind::ALL
                            .iter()
                            .map(|k| {
                                let k = k.as_str();
                                view! { <option value=k selected=move || kind.with(|c| c == k)>{k}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Log type"
                    <select name="kb-log-type" on:change=move |ev| log_type.set(event_target_value(&ev))>
                        <option value="" selected=move || log_type.with(String::is_empty)>"any"</option>
                        {log_types
                            .into_iter()
                            .map(|t| view! { <option value=t selected=move || log_type.with(|c| c == t)>{t}</option> })
                            .collect_view()}
                    </select>
                </label>
            </div>
            <div class="actions">
                <button
                    type="submit"
                    class="primary"
                    data-testid="kb-search-button"
                    disabled=move || outcome.with(|o| *o == Outcome::Loading)
                >
                    "Search"
                </button>
            </div>
        </form>
        <div class="card" data-testid="kb-outcome" data-state=move || outcome.with(|o| o.state())>
            {move || match outcome.get() {
                Outcome::Idle => {
                    view! {
                        <p class="muted">
                            "Type a few words (an event such as PSK mismatch, a feature, a model version, a client) and press Search or Enter."
                        </p>
                    }
                        .into_any()
                }
                Outcome::Loading => view! { <p class="muted">"Searching…"</p> }.into_any(),
                Outcome::Failed(message) => {
                    view! {
                        <div class="error-box" role="alert" data-testid="kb-error">
                            {message}
                        </div>
                    }
                        .into_any()
                }
                Outcome::Found { q, results } if results.results.is_empty() => {
                    view! {
                        <p class="muted" data-testid="kb-no-results">
                            "Nothing in the knowledge base matches " <q>{q}</q>
                            ". Try other words, or any kind and any log type."
                        </p>
                    }
                        .into_any()
                }
                Outcome::Found { q, results } => {
                    let n = results.results.len();
                    view! {
                        <p class="muted" data-testid="kb-count" data-count=n.to_string()>
                            {format!("{n} result{} for ", if n == 1 { "" } else { "s" })}
                            <q>{q}</q>
                            ", best first."
                        </p>
                        <ol class="kb-results" data-testid="kb-results">
                            {results
                                .results
                                .into_iter()
                                .map(|hit| view! { <Hit hit=hit /> })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// One result: its kind, title, the passage that matched (matches marked) and its citation.
#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let cite = citation(&hit.source);
    let snippet = snippet_parts(&hit.snippet)
        .into_iter()
        .map(|p| {
            if p.matched {
                view! { <mark>{p.text}</mark> }.into_any()
            } else {
                p.text.into_any()
            }
        })
        .collect_view();
    let kind = hit.kind.as_str();
    view! {
        <li
            data-testid="kb-result"
            data-kind=kind
            data-rank=hit.rank.to_string()
            data-source-kind=hit.source.kind.clone()
            data-source-id=hit.source.id.clone()
        >
            <span class=format!("badge badge-{kind}")>{kind}</span>
            " "
            <strong data-testid="kb-title">{hit.title.clone()}</strong>
            {hit.log_type.clone().map(|t| view! { <span class="muted">{format!(" · {t}")}</span> })}
            <p data-testid="kb-snippet">{snippet}</p>
            <p class="muted" data-testid="kb-citation">
                "Source: "
                {match cite.href {
                    Some(href) => view! { <a href=href>{cite.label}</a> }.into_any(),
                    None => view! { <code>{cite.label}</code> }.into_any(),
                }}
                {format!(" · score {:.2}", hit.score)}
            </p>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(snippet: &str) -> Vec<(String, bool)> {
        snippet_parts(snippet)
            .into_iter()
            .map(|p| (p.text, p.matched))
            .collect()
    }

    fn want(parts: &[(&str, bool)]) -> Vec<(String, bool)> {
        parts.iter().map(|(t, m)| ((*t).to_owned(), *m)).collect()
    }

    #[test]
    fn snippet_matches_are_the_bracketed_passages() {
        assert_eq!(
            parts("…a possible [PSK] [mismatch] on wlan0"),
            want(&[
                ("…a possible ", false),
                ("PSK", true),
                (" ", false),
                ("mismatch", true),
                (" on wlan0", false),
            ])
        );
        assert_eq!(parts("[PSK]"), want(&[("PSK", true)]));
        assert_eq!(parts("no match"), want(&[("no match", false)]));
        assert!(parts("").is_empty());
    }

    #[test]
    fn a_bracket_without_its_pair_is_text() {
        // A log line's own `[` (kernel time stamps, arrays) must not hide the rest.
        assert_eq!(
            parts("kernel: [12.5 wlan0 [deauth] sent"),
            want(&[
                ("kernel: [12.5 wlan0 ", false),
                ("deauth", true),
                (" sent", false)
            ])
        );
        assert_eq!(parts("x [ y"), want(&[("x [ y", false)]));
        assert_eq!(parts("a ] b"), want(&[("a ] b", false)]));
    }

    #[test]
    fn citations_lead_to_the_page_of_what_they_cite() {
        let source = |kind: &str, id: &str| SourceRef {
            kind: kind.to_owned(),
            id: id.to_owned(),
        };
        assert_eq!(
            citation(&source("model", "20260101_120000"))
                .href
                .as_deref(),
            Some("#/models/20260101_120000")
        );
        assert_eq!(
            citation(&source("anomaly", "42")).href.as_deref(),
            Some("#/anomalies/42")
        );
        assert_eq!(citation(&source("anomaly", "x")).href, None);
        let entry = citation(&source("catalogue", "wifi/AP-STA-POSSIBLE-PSK-MISMATCH"));
        assert_eq!(entry.href, None);
        assert!(entry.label.contains("wifi/AP-STA-POSSIBLE-PSK-MISMATCH"));
    }
}
