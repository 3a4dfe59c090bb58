//! Explaining a stored anomaly: the features that pushed it over (its stored contributions,
//! with what each feature measures), what the log event means (catalogue entries its message
//! shows, then those its top features point at), similar past anomalies and how analysts
//! resolved them (a search of the index), and a short summary.

use std::collections::BTreeMap;

use mcp_train_core::anomalies::AnomalyDetail;
use mcp_train_core::knowledge::{Catalogue, CatalogueEntry, DocKind, SearchQuery};

use super::{KbError, KnowledgeBase};
use crate::store::AnomalyStore;

/// Most catalogue entries and similar anomalies an explanation lists.
const MAX_EVENTS: usize = 5;
const MAX_SIMILAR: usize = 5;
/// Longest message an explanation repeats.
const MAX_MESSAGE: usize = 500;

/// The anomaly being explained, in short.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct AnomalySummary {
    /// The store's id.
    pub id: i64,
    /// The log type.
    pub log_type: String,
    /// Risk score 0–100.
    pub score: f64,
    /// Review status (new, acknowledged, resolved, false_positive).
    pub status: String,
    /// The model version that flagged it.
    pub model_version: String,
    /// The entry's time, RFC 3339.
    pub timestamp: String,
    /// The device that logged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The client the entry is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The log message (at most 500 bytes).
    pub message: String,
}

/// A feature that pushed the anomaly over.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct FeatureReason {
    /// Feature column.
    pub feature: String,
    /// How much more anomalous the feature made the entry (decision-value difference; larger
    /// is more).
    pub contribution: f64,
    /// The entry's value of the feature.
    pub value: Option<f64>,
    /// What the feature measures.
    pub meaning: String,
}

/// A catalogue entry for the anomaly's log event.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct EventMeaning {
    /// Catalogue entry id (cite it; `search_knowledge` finds it).
    pub id: String,
    /// The event.
    pub event: String,
    /// One line.
    pub title: String,
    /// What it means.
    pub meaning: String,
    /// What to check next.
    pub what_to_check: String,
    /// The documentation it is written from.
    pub source: String,
    /// `message` (the log message shows the event) or `feature` (a top feature points at it).
    pub matched_by: String,
}

/// A similar past anomaly.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SimilarAnomaly {
    /// Its id (`get_anomaly`, `explain_anomaly`).
    pub id: i64,
    /// 0–1, relative to the most similar one found.
    pub similarity: f64,
    /// Its review status now.
    pub status: String,
    /// Its risk score.
    pub score: f64,
    /// The last analyst note on it, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_note: Option<String>,
    /// Who set its status last (when an analyst did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_by: Option<String>,
    /// Its log message (at most 500 bytes).
    pub message: String,
}

/// What `explain_anomaly` answers.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Explanation {
    /// The anomaly.
    pub anomaly: AnomalySummary,
    /// The features that pushed it over, largest contribution first.
    pub top_features: Vec<FeatureReason>,
    /// What the log event means (catalogue entries), message matches first.
    pub events: Vec<EventMeaning>,
    /// Similar past anomalies, those with an analyst's verdict first.
    pub similar: Vec<SimilarAnomaly>,
    /// A few sentences putting it together.
    pub summary: String,
}

/// Why an anomaly cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("anomaly {0} does not exist")]
    NotFound(i64),
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn cut(text: &str, max: usize) -> String {
    let cut = super::truncate(text, max);
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut.to_owned()
    }
}

fn entry_meaning(e: &CatalogueEntry, matched_by: &str) -> EventMeaning {
    EventMeaning {
        id: e.id.clone(),
        event: e.event.clone(),
        title: e.title.clone(),
        meaning: e.meaning.clone(),
        what_to_check: e.check.clone(),
        source: e.source.clone(),
        matched_by: matched_by.to_owned(),
    }
}

/// The last analyst note and author of an anomaly's trail.
fn verdict(detail: &AnomalyDetail) -> (Option<String>, Option<String>) {
    detail
        .history
        .iter()
        .rev()
        .find(|e| e.from.is_some())
        .map(|e| (e.note.clone(), Some(e.by.clone())))
        .unwrap_or((None, None))
}

/// Explains anomaly `id` of `store`, bringing the knowledge base of `data_dir` up to date
/// first.
pub fn explain(
    data_dir: &std::path::Path,
    store: &AnomalyStore,
    id: i64,
) -> Result<Explanation, ExplainError> {
    let detail = store.get(id)?.ok_or(ExplainError::NotFound(id))?;
    let stored = &detail.anomaly;
    let entry = &stored.anomaly.entry;
    let catalogue = Catalogue::builtin();
    let log_type = stored.log_type.as_str();

    let top_features: Vec<FeatureReason> = stored
        .anomaly
        .contributions
        .iter()
        .map(|c| FeatureReason {
            feature: c.feature.clone(),
            contribution: c.contribution,
            value: c.value.is_finite().then_some(c.value),
            meaning: catalogue
                .feature_meaning(log_type, &c.feature)
                .unwrap_or_else(|| "no description in the catalogue".to_owned()),
        })
        .collect();

    let mut events: Vec<EventMeaning> = catalogue
        .lookup(log_type, &entry.message)
        .into_iter()
        .map(|e| entry_meaning(e, "message"))
        .collect();
    // Then what the strongest features point at, strongest first; entries many features share
    // come first among equals.
    let mut by_feature: BTreeMap<&str, (usize, usize, &CatalogueEntry)> = BTreeMap::new();
    for (rank, c) in stored.anomaly.contributions.iter().take(3).enumerate() {
        for e in catalogue.by_feature(log_type, &c.feature) {
            let slot = by_feature.entry(e.id.as_str()).or_insert((rank, 0, e));
            slot.1 += 1;
        }
    }
    let mut pointed: Vec<_> = by_feature.into_values().collect();
    pointed.sort_by_key(|(rank, shared, e)| (*rank, std::cmp::Reverse(*shared), e.id.clone()));
    for (_, _, e) in pointed {
        if events.len() >= MAX_EVENTS {
            break;
        }
        if !events.iter().any(|m| m.id == e.id) {
            events.push(entry_meaning(e, "feature"));
        }
    }
    events.truncate(MAX_EVENTS);

    // Similar: anomalies and verdicts of the same log type sharing the events and features.
    let mut terms: Vec<String> = events
        .iter()
        .filter(|e| e.matched_by == "message")
        .map(|e| e.event.clone())
        .collect();
    terms.extend(top_features.iter().take(3).map(|f| f.feature.clone()));
    if terms.is_empty() {
        terms.extend(mcp_train_core::knowledge::query_terms(&entry.message));
    }
    terms.truncate(mcp_train_core::knowledge::MAX_QUERY_TERMS);
    let mut similar = Vec::new();
    if !terms.is_empty() {
        let mut kb = KnowledgeBase::open(data_dir)?;
        kb.sync(store)?;
        let hits = kb.search(&SearchQuery {
            terms,
            kinds: vec![DocKind::Anomaly, DocKind::Verdict],
            log_type: Some(stored.log_type.clone()),
            limit: 50,
        })?;
        let best = hits.first().map(|h| h.score).filter(|s| *s > 0.0);
        let mut seen = std::collections::BTreeSet::new();
        for hit in hits {
            let Ok(other) = hit.source.id.parse::<i64>() else {
                continue;
            };
            if other == id || !seen.insert(other) {
                continue;
            }
            let Some(found) = store.get(other)? else {
                continue;
            };
            let (verdict_note, verdict_by) = verdict(&found);
            let similarity = best.map_or(0.0, |b| (hit.score / b).clamp(0.0, 1.0));
            similar.push(SimilarAnomaly {
                id: other,
                similarity: (similarity * 100.0).round() / 100.0,
                status: found.anomaly.status.as_str().to_owned(),
                score: found.anomaly.score,
                verdict_note,
                verdict_by,
                message: cut(&found.anomaly.anomaly.entry.message, MAX_MESSAGE),
            });
        }
        // Those an analyst looked at teach the most: first, keeping the search order otherwise.
        similar.sort_by_key(|s| s.verdict_by.is_none());
        similar.truncate(MAX_SIMILAR);
    }

    let summary = summarise(&detail, &top_features, &events, &similar);
    Ok(Explanation {
        anomaly: AnomalySummary {
            id,
            log_type: stored.log_type.clone(),
            score: stored.score,
            status: stored.status.as_str().to_owned(),
            model_version: stored.model_version.clone(),
            timestamp: entry.timestamp.clone(),
            device: stored.device.clone(),
            client: stored.client.clone(),
            message: cut(&entry.message, MAX_MESSAGE),
        },
        top_features,
        events,
        similar,
        summary,
    })
}

fn summarise(
    detail: &AnomalyDetail,
    features: &[FeatureReason],
    events: &[EventMeaning],
    similar: &[SimilarAnomaly],
) -> String {
    let a = &detail.anomaly;
    let mut s = format!(
        "Anomaly {} ({} log, risk score {:.0}, {}) was flagged by model {}{}.",
        a.id,
        a.log_type,
        a.score,
        a.status,
        a.model_version,
        a.device
            .as_deref()
            .map(|d| format!(" on {d}"))
            .unwrap_or_default()
    );
    if !features.is_empty() {
        let names: Vec<String> = features
            .iter()
            .take(3)
            .map(|f| format!("{} ({})", f.feature, f.meaning))
            .collect();
        s.push_str(&format!(" What pushed it over: {}.", names.join("; ")));
    }
    match events.iter().find(|e| e.matched_by == "message") {
        Some(e) => s.push_str(&format!(
            " The log event is {}: {}. Check: {}",
            e.event, e.title, e.what_to_check
        )),
        None => {
            if let Some(e) = events.first() {
                s.push_str(&format!(
                    " The features fit the pattern \"{}\" ({}).",
                    e.title, e.id
                ));
            }
        }
    }
    let judged: Vec<&SimilarAnomaly> = similar.iter().filter(|s| s.verdict_by.is_some()).collect();
    if similar.is_empty() {
        s.push_str(" No similar anomaly is stored.");
    } else if judged.is_empty() {
        s.push_str(&format!(
            " {} similar anomalies are stored; none has a verdict yet.",
            similar.len()
        ));
    } else {
        let first = judged[0];
        s.push_str(&format!(
            " {} similar anomalies are stored; anomaly {} was marked {}{}.",
            similar.len(),
            first.id,
            first.status,
            first
                .verdict_note
                .as_deref()
                .map(|n| format!(" (\"{}\")", cut(n, 200)))
                .unwrap_or_default()
        ));
    }
    s
}
