//! The knowledge base's shared parts: the **catalogue** of log events each built-in agent
//! understands (team-written, `catalogue.yaml` compiled in), the **search parameters** every
//! surface reads the same way ([`SearchQuery`]: `mcp-train kb search`, `GET /api/kb/search`, the
//! `search_knowledge` tool, the web app's search box) and the **wire types** of a search
//! ([`SearchResults`]).
//!
//! The index itself (SQLite FTS5) lives in the server; the core stays free of I/O.
//!
//! ```
//! use mcp_train_core::knowledge::Catalogue;
//!
//! let catalogue = Catalogue::builtin();
//! let hits = catalogue.lookup("wifi", "wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 02:00:00:00:00:01");
//! assert_eq!(hits[0].id, "wifi/AP-STA-POSSIBLE-PSK-MISMATCH");
//! assert!(catalogue.feature_meaning("wifi", "auth_failure_count_5m").is_some());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The catalogue's YAML text, as compiled in.
pub const CATALOGUE_YAML: &str = include_str!("catalogue.yaml");

/// One catalogue entry: a log event (or a pattern of events) of one log type, what it means and
/// what to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    /// `<log_type>/<EVENT>`, unique, e.g. `wifi/AP-STA-POSSIBLE-PSK-MISMATCH`.
    pub id: String,
    /// The log type of the agent that reads the event.
    pub log_type: String,
    /// The event as it appears in the log, or a name for a pattern of events.
    pub event: String,
    /// One line.
    pub title: String,
    /// Case-insensitive regular expressions matched against a log message.
    #[serde(rename = "match", default)]
    pub patterns: Vec<String>,
    /// What the event says happened.
    pub meaning: String,
    /// What to look at next.
    pub check: String,
    /// Feature columns the event moves (windowed wifi columns by base name).
    pub features: Vec<String>,
    /// The documentation the entry is written from.
    pub source: String,
}

/// The catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    entries: Vec<CatalogueEntry>,
    features: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why the catalogue text is unusable (a build-time bug: the tests read the built-in one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalogue: {0}")]
pub struct CatalogueError(pub String);

/// The catalogue: entries and the meaning of every feature column, per log type.
#[derive(Debug)]
pub struct Catalogue {
    entries: Vec<CatalogueEntry>,
    /// Compiled patterns, parallel to `entries`.
    patterns: Vec<Vec<regex_lite::Regex>>,
    features: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalogue {
    /// Reads and checks a catalogue: unique ids of the form `<log_type>/…`, non-empty texts,
    /// patterns that compile.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            serde_saphyr::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        let mut patterns = Vec::with_capacity(file.entries.len());
        for entry in &file.entries {
            if !seen.insert(entry.id.as_str()) {
                return Err(CatalogueError(format!("entry {} appears twice", entry.id)));
            }
            if entry.id.split_once('/').map(|(t, _)| t) != Some(entry.log_type.as_str()) {
                return Err(CatalogueError(format!(
                    "entry {}: the id must start with its log type {}/",
                    entry.id, entry.log_type
                )));
            }
            for (name, value) in [
                ("event", &entry.event),
                ("title", &entry.title),
                ("meaning", &entry.meaning),
                ("check", &entry.check),
                ("source", &entry.source),
            ] {
                if value.trim().is_empty() {
                    return Err(CatalogueError(format!("entry {}: empty {name}", entry.id)));
                }
            }
            let compiled = entry
                .patterns
                .iter()
                .map(|p| {
                    regex_lite::Regex::new(&format!("(?i){p}")).map_err(|e| {
                        CatalogueError(format!("entry {}: pattern {p:?}: {e}", entry.id))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            patterns.push(compiled);
        }
        Ok(Catalogue {
            entries: file.entries,
            patterns,
            features: file.features,
        })
    }

    /// The built-in catalogue (parsed once).
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: OnceLock<Catalogue> = OnceLock::new();
        // The text is compiled in and checked by the tests; an empty catalogue is the fallback
        // that can never be reached by input.
        BUILTIN.get_or_init(|| {
            Catalogue::parse(CATALOGUE_YAML).unwrap_or(Catalogue {
                entries: Vec::new(),
                patterns: Vec::new(),
                features: BTreeMap::new(),
            })
        })
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[CatalogueEntry] {
        &self.entries
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&CatalogueEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entries of `log_type` whose patterns match `message`, in file order.
    pub fn lookup(&self, log_type: &str, message: &str) -> Vec<&CatalogueEntry> {
        self.entries
            .iter()
            .zip(&self.patterns)
            .filter(|(e, patterns)| {
                e.log_type == log_type && patterns.iter().any(|p| p.is_match(message))
            })
            .map(|(e, _)| e)
            .collect()
    }

    /// The entries of `log_type` listing `feature` (windowed wifi columns by base name).
    pub fn by_feature(&self, log_type: &str, feature: &str) -> Vec<&CatalogueEntry> {
        let base = base_feature(feature);
        self.entries
            .iter()
            .filter(|e| {
                e.log_type == log_type && e.features.iter().any(|f| f == feature || f == base)
            })
            .collect()
    }

    /// What a feature column of `log_type` measures; a windowed wifi column (`deauth_count_5m`)
    /// says its window.
    pub fn feature_meaning(&self, log_type: &str, feature: &str) -> Option<String> {
        let features = self.features.get(log_type)?;
        if let Some(m) = features.get(feature) {
            return Some(m.clone());
        }
        let base = base_feature(feature);
        let minutes = &feature[base.len()..].trim_start_matches('_');
        features
            .get(base)
            .map(|m| format!("{m} ({} minutes)", minutes.trim_end_matches('m')))
    }

    /// The log types the catalogue has entries for.
    pub fn log_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.entries.iter().map(|e| e.log_type.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        types
    }

    /// The features the catalogue explains for `log_type`.
    pub fn explained_features(&self, log_type: &str) -> Vec<&str> {
        self.features
            .get(log_type)
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// `deauth_count_15m` → `deauth_count`; names without a `_<digits>m` suffix are their own base.
fn base_feature(feature: &str) -> &str {
    if let Some((base, window)) = feature.rsplit_once('_') {
        if let Some(digits) = window.strip_suffix('m') {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return base;
            }
        }
    }
    feature
}

/// What a knowledge-base document is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A catalogue entry (log event meaning).
    Catalogue,
    /// A registered model (its card: detector, parameters, status).
    Model,
    /// A model's evaluation (metrics on held-out data).
    Evaluation,
    /// The training job that made a model (data, parameters, duration).
    Job,
    /// A stored anomaly.
    Anomaly,
    /// An analyst's verdict on an anomaly (status change with its note).
    Verdict,
}

impl DocKind {
    /// Every kind, in the order searches list them.
    pub const ALL: [DocKind; 6] = [
        DocKind::Catalogue,
        DocKind::Model,
        DocKind::Evaluation,
        DocKind::Job,
        DocKind::Anomaly,
        DocKind::Verdict,
    ];

    /// The kind's name (`catalogue`, `model`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Catalogue => "catalogue",
            DocKind::Model => "model",
            DocKind::Evaluation => "evaluation",
            DocKind::Job => "job",
            DocKind::Anomaly => "anomaly",
            DocKind::Verdict => "verdict",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Result<DocKind, SearchQueryError> {
        DocKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                SearchQueryError::new(
                    "kind",
                    format!(
                        "{:?} is not a kind: expected one of {}",
                        text.chars().take(64).collect::<String>(),
                        DocKind::ALL.map(DocKind::as_str).join(", ")
                    ),
                )
            })
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most results a search returns, and the default.
pub const MAX_RESULTS: usize = 100;
/// Results a search returns when no limit is given.
pub const DEFAULT_RESULTS: usize = 10;
/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 500;
/// Most words of a query that are searched for.
pub const MAX_QUERY_TERMS: usize = 32;
/// The parameter names [`SearchQuery::set`] takes.
pub const SEARCH_KEYS: [&str; 4] = ["q", "kind", "log_type", "limit"];

/// A bad search parameter: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct SearchQueryError {
    /// The parameter (`q`, `kind`, `log_type`, `limit`).
    pub param: String,
    /// What is wrong with it.
    pub message: String,
}

impl SearchQueryError {
    fn new(param: &str, message: impl Into<String>) -> SearchQueryError {
        SearchQueryError {
            param: param.to_owned(),
            message: message.into(),
        }
    }
}

/// A search of the knowledge base, checked: what every surface builds from its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The words searched for (each matched as a phrase of its tokens; any may match, documents
    /// matching more rank higher).
    pub terms: Vec<String>,
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<DocKind>,
    /// Only documents of this log type.
    pub log_type: Option<String>,
    /// At most this many results (1–[`MAX_RESULTS`]).
    pub limit: usize,
}

/// Parameters as they arrive, before checking (`set` one at a time, then `check`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// The query text (`q`).
    pub q: Option<String>,
    /// The kinds asked for (`kind`, repeatable).
    pub kinds: Vec<DocKind>,
    /// The log type (`log_type`).
    pub log_type: Option<String>,
    /// The limit as given, checked by [`SearchParams::check`].
    pub limit: Option<usize>,
}

impl SearchParams {
    /// Sets one parameter from its text: `q`, `kind` (repeatable, or comma-separated),
    /// `log_type`, `limit`. Unknown keys are refused.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SearchQueryError> {
        match key {
            "q" | "query" => self.q = Some(value.to_owned()),
            "kind" | "kinds" => {
                for k in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                    let kind = DocKind::parse(k)?;
                    if !self.kinds.contains(&kind) {
                        self.kinds.push(kind);
                    }
                }
            }
            "log_type" => {
                let value = value.trim();
                if value.is_empty() {
                    return Err(SearchQueryError::new(key, "empty value"));
                }
                if value.len() > 64 {
                    return Err(SearchQueryError::new(key, "longer than 64 bytes"));
                }
                self.log_type = Some(value.to_owned());
            }
            "limit" => {
                let n: usize = value.trim().parse().map_err(|_| {
                    SearchQueryError::new(
                        key,
                        format!(
                            "{:?} is not a number from 1 to {MAX_RESULTS}",
                            value.chars().take(32).collect::<String>()
                        ),
                    )
                })?;
                self.limit = Some(n);
            }
            other => {
                return Err(SearchQueryError::new(
                    other,
                    format!(
                        "unknown parameter: expected one of {}",
                        SEARCH_KEYS.join(", ")
                    ),
                ))
            }
        }
        Ok(())
    }

    /// Reads `key=value` pairs (query parameters) and checks them.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SearchQuery, SearchQueryError> {
        let mut params = SearchParams::default();
        for (key, value) in pairs {
            params.set(key, value)?;
        }
        params.check()
    }

    /// The checked query: a query with at least one word, at most [`MAX_QUERY_BYTES`]; a limit in
    /// 1..=[`MAX_RESULTS`] (default [`DEFAULT_RESULTS`]).
    pub fn check(self) -> Result<SearchQuery, SearchQueryError> {
        let q = self.q.unwrap_or_default();
        if q.len() > MAX_QUERY_BYTES {
            return Err(SearchQueryError::new(
                "q",
                format!("{} bytes is longer than {MAX_QUERY_BYTES}", q.len()),
            ));
        }
        let terms = query_terms(&q);
        if terms.is_empty() {
            return Err(SearchQueryError::new(
                "q",
                "the query has no words to search for (e.g. q=PSK mismatch)",
            ));
        }
        let limit = match self.limit {
            None => DEFAULT_RESULTS,
            Some(n) if (1..=MAX_RESULTS).contains(&n) => n,
            Some(n) => {
                return Err(SearchQueryError::new(
                    "limit",
                    format!("{n} is not in 1..={MAX_RESULTS}"),
                ))
            }
        };
        Ok(SearchQuery {
            terms,
            kinds: self.kinds,
            log_type: self.log_type,
            limit,
        })
    }
}

/// The words of a query: split on whitespace, each kept when it holds a letter or digit
/// (punctuation alone searches nothing), at most [`MAX_QUERY_TERMS`], duplicates dropped.
pub fn query_terms(q: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in q.split_whitespace() {
        if !word.chars().any(char::is_alphanumeric) {
            continue;
        }
        let word = word.to_owned();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_QUERY_TERMS {
            break;
        }
    }
    terms
}

/// What a search result cites: the kind of the thing and its id (a catalogue entry id, a model
/// version, an anomaly id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SourceRef {
    /// `catalogue`, `model` or `anomaly`.
    pub kind: String,
    /// The entry id, model version or anomaly id.
    pub id: String,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchHit {
    /// What the document is.
    pub kind: DocKind,
    /// Its title.
    pub title: String,
    /// The matching passage, matches in `[` `]`.
    pub snippet: String,
    /// What it cites.
    pub source: SourceRef,
    /// The log type it is about, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// Position in the results, from 1 (best first, by BM25).
    pub rank: usize,
    /// The BM25 score (higher is better).
    pub score: f64,
}

/// The answer of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchResults {
    /// Best first.
    pub results: Vec<SearchHit>,
}

#[cfg(test)]
mod tests;
