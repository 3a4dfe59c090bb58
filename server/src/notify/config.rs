//! `notifications.yaml`: the channels, what each hears about, and the grouping, rate-limit and
//! retry settings (docs/notifications.md is the reference). Secrets are never in the file: it
//! names environment variables, read once when the file is loaded.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The file's name in a configuration directory.
pub const NOTIFICATIONS_FILE: &str = "notifications.yaml";

/// The file format version this build reads.
pub const NOTIFICATIONS_VERSION: u32 = 1;

/// What a channel can subscribe to: the event types of the payloads.
pub const EVENT_KINDS: [&str; 6] = [
    "anomalies.detected",
    "training.completed",
    "training.failed",
    "model.deployed",
    "model.rolled_back",
    "export.finished",
];

/// A value read from the environment that must never be shown: `Debug` prints `"<redacted>"`,
/// and there is no `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret (tests and the environment reader).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Why `notifications.yaml` cannot be used: the file and the line or field.
#[derive(Debug, thiserror::Error)]
pub enum NotifyConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// STARTTLS on an SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartTls {
    /// Upgrade or fail (the default).
    Required,
    /// Upgrade when the server offers it, else send in clear text.
    Opportunistic,
    /// Never upgrade (a relay on the same machine).
    None,
}

impl StartTls {
    pub fn as_str(self) -> &'static str {
        match self {
            StartTls::Required => "required",
            StartTls::Opportunistic => "opportunistic",
            StartTls::None => "none",
        }
    }
}

/// Where and how a channel delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A JSON POST signed with the Standard Webhooks scheme.
    Webhook {
        url: Secret,
        /// The signing key (the bytes behind `whsec_…`).
        key: Secret,
    },
    /// A Slack incoming webhook.
    Slack { url: Secret },
    /// Email over SMTP.
    Email(EmailTarget),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook { .. } => "webhook",
            Target::Slack { .. } => "slack",
            Target::Email(_) => "email",
        }
    }
}

/// An SMTP server and the message's addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailTarget {
    pub host: String,
    pub port: u16,
    pub starttls: StartTls,
    /// Extra trusted root certificate (PEM), for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    pub username: Option<Secret>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

/// One channel, checked, its secrets read.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    pub enabled: bool,
    /// Event types it hears about ([`EVENT_KINDS`]).
    pub events: BTreeSet<String>,
    /// Anomalies below this risk score (0–100) are not sent to it.
    pub min_score: f64,
    /// At most this many anomaly messages per `rate_window`; the rest are suppressed.
    pub max_messages: u32,
    pub rate_window: Duration,
    /// `None` for a disabled channel (its secrets are not read).
    pub target: Option<Target>,
    /// The kind named in the file (also for a disabled channel).
    pub kind: &'static str,
}

impl Channel {
    pub fn wants(&self, event: &str) -> bool {
        self.enabled && self.events.contains(event)
    }
}

/// Retries of one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub max_attempts: u32,
    /// The first backoff's ceiling; it doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this ends the retries (the message becomes a dead letter).
    pub max_retry_after: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
}

/// The whole file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyConfig {
    /// Anomalies of one log type are collected this long, then sent as one message per channel.
    pub window: Duration,
    /// Sample entries listed in an anomaly message.
    pub max_samples: usize,
    pub retry: RetryPolicy,
    pub channels: Vec<Channel>,
}

impl Default for NotifyConfig {
    /// No channels.
    fn default() -> NotifyConfig {
        NotifyConfig {
            window: Duration::from_secs(60),
            max_samples: 5,
            retry: RetryPolicy {
                max_attempts: 5,
                initial_backoff: Duration::from_millis(500),
                max_backoff: Duration::from_secs(60),
                max_retry_after: Duration::from_secs(300),
                timeout: Duration::from_secs(10),
            },
            channels: Vec::new(),
        }
    }
}

impl NotifyConfig {
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// Parses and checks the file's text, reading secrets with `env` (the process environment
    /// in [`load_notifications`]). `path` names the file in errors.
    pub fn from_yaml(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<NotifyConfig, NotifyConfigError> {
        let invalid = |message: String| NotifyConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: File = serde_saphyr::from_str(text).map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML");
            invalid(first.strip_prefix("error: ").unwrap_or(first).to_owned())
        })?;
        if file.version != NOTIFICATIONS_VERSION {
            return Err(invalid(format!(
                "version: {} is not supported (this build reads version {NOTIFICATIONS_VERSION})",
                file.version
            )));
        }
        let mut config = NotifyConfig::default();
        let a = file.anomalies;
        config.window =
            seconds("anomalies.window_seconds", a.window_seconds, 1, 86_400).map_err(invalid)?;
        config.max_samples = usize::try_from(a.max_samples)
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| {
                invalid(format!(
                    "anomalies.max_samples: {} is not in 1..=50",
                    a.max_samples
                ))
            })?;
        let default_min = score("anomalies.min_score", a.min_score).map_err(invalid)?;
        let r = file.retry;
        if !(1..=20).contains(&r.max_attempts) {
            return Err(invalid(format!(
                "retry.max_attempts: {} is not in 1..=20",
                r.max_attempts
            )));
        }
        let millis = |field: &str, v: u64| {
            if (1..=3_600_000).contains(&v) {
                Ok(Duration::from_millis(v))
            } else {
                Err(invalid(format!(
                    "{field}: {v} is not in 1..=3600000 milliseconds"
                )))
            }
        };
        config.retry = RetryPolicy {
            max_attempts: r.max_attempts,
            initial_backoff: millis("retry.initial_backoff_ms", r.initial_backoff_ms)?,
            max_backoff: millis("retry.max_backoff_ms", r.max_backoff_ms)?,
            max_retry_after: seconds(
                "retry.max_retry_after_seconds",
                r.max_retry_after_seconds,
                0,
                86_400,
            )
            .map_err(invalid)?,
            timeout: seconds("retry.timeout_seconds", r.timeout_seconds, 1, 600)
                .map_err(invalid)?,
        };
        let default_rate = file.rate_limit;
        let mut names = BTreeSet::new();
        for (i, c) in file.channels.into_iter().enumerate() {
            let at = format!("channels[{i}]");
            if !valid_name(&c.name) {
                return Err(invalid(format!(
                    "{at}.name: {:?} must be 1 to 64 letters, digits, '_', '-' or '.'",
                    c.name
                )));
            }
            let at = format!("{at} ({})", c.name);
            if !names.insert(c.name.clone()) {
                return Err(invalid(format!("{at}.name: another channel has this name")));
            }
            let channel = channel(c, &at, default_min, &default_rate, env).map_err(invalid)?;
            config.channels.push(channel);
        }
        Ok(config)
    }
}

/// Loads `DIR/notifications.yaml`; no directory or no file means no channels.
pub fn load_notifications(dir: Option<&Path>) -> Result<NotifyConfig, NotifyConfigError> {
    let Some(dir) = dir else {
        return Ok(NotifyConfig::default());
    };
    let path = dir.join(NOTIFICATIONS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => NotifyConfig::from_yaml(&text, &path, &|name| std::env::var(name).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(NotifyConfig::default()),
        Err(source) => Err(NotifyConfigError::Read { path, source }),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn seconds(field: &str, v: u64, min: u64, max: u64) -> Result<Duration, String> {
    if (min..=max).contains(&v) {
        Ok(Duration::from_secs(v))
    } else {
        Err(format!("{field}: {v} is not in {min}..={max} seconds"))
    }
}

fn score(field: &str, v: f64) -> Result<f64, String> {
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{field}: {v} is not a risk score in 0..=100"))
    }
}

/// The environment variable `name` holds (trimmed), or why the field cannot be used.
fn from_env(
    env: &dyn Fn(&str) -> Option<String>,
    field: &str,
    name: &str,
) -> Result<Secret, String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "{field}: {name:?} is not an environment variable name"
        ));
    }
    match env(name) {
        Some(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_owned())),
        _ => Err(format!(
            "{field}: the environment variable {name} is not set (or empty)"
        )),
    }
}

/// The signing key of a Standard Webhooks secret: base64 after an optional `whsec_`.
pub fn webhook_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|k| !k.is_empty())
}

fn http_url(field: &str, url: &str) -> Result<(), String> {
    // The value may be a secret (a Slack URL is one): never shown.
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && reqwest::Url::parse(url).is_ok() => {
            Ok(())
        }
        _ => Err(format!("{field}: not an http:// or https:// URL")),
    }
}

fn channel(
    c: FileChannel,
    at: &str,
    default_min: f64,
    default_rate: &FileRate,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Channel, String> {
    if c.events.is_empty() {
        return Err(format!(
            "{at}.events: list at least one of {}",
            EVENT_KINDS.join(", ")
        ));
    }
    let mut events = BTreeSet::new();
    for e in &c.events {
        if !EVENT_KINDS.contains(&e.as_str()) {
            return Err(format!(
                "{at}.events: {e:?} is not one of {}",
                EVENT_KINDS.join(", ")
            ));
        }
        events.insert(e.clone());
    }
    let min_score = match c.min_score {
        Some(v) => score(&format!("{at}.min_score"), v)?,
        None => default_min,
    };
    let rate = c.rate_limit.as_ref().unwrap_or(default_rate);
    if !(1..=10_000).contains(&rate.max_messages) {
        return Err(format!(
            "{at}.rate_limit.max_messages: {} is not in 1..=10000",
            rate.max_messages
        ));
    }
    let rate_window = seconds(
        &format!("{at}.rate_limit.window_seconds"),
        rate.window_seconds,
        1,
        7 * 86_400,
    )?;
    let field = |name: &str| format!("{at}.{name}");
    let kind = c.kind;
    let only = |allowed: &[&str]| -> Result<(), String> {
        let given = [
            ("url", c.url.is_some()),
            ("url_env", c.url_env.is_some()),
            ("secret_env", c.secret_env.is_some()),
            ("smtp", c.smtp.is_some()),
            ("from", c.from.is_some()),
            ("to", c.to.is_some()),
        ];
        match given.iter().find(|(n, g)| *g && !allowed.contains(n)) {
            Some((n, _)) => Err(format!(
                "{at}.{n}: not a field of a {} channel",
                kind.as_str()
            )),
            None => Ok(()),
        }
    };
    let target = match c.kind {
        Kind::Webhook => {
            only(&["url", "url_env", "secret_env"])?;
            let url = match (&c.url, &c.url_env) {
                (Some(u), None) => Some(Secret(u.clone())),
                (None, Some(_)) | (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(format!("{at}: give url or url_env, not both"));
                }
            };
            let Some(secret_env) = &c.secret_env else {
                return Err(format!(
                    "{at}.secret_env: required (the environment variable holding the whsec_… signing secret)"
                ));
            };
            if c.enabled {
                let url = match (url, &c.url_env) {
                    (Some(u), _) => u,
                    (None, Some(name)) => from_env(env, &field("url_env"), name)?,
                    (None, None) => return Err(format!("{at}.url: required (or url_env)")),
                };
                http_url(&field("url"), url.expose())?;
                let secret = from_env(env, &field("secret_env"), secret_env)?;
                let key = webhook_key(secret.expose()).ok_or_else(|| {
                    format!(
                        "{at}.secret_env: the value of {secret_env} is not a Standard Webhooks secret (whsec_ followed by base64)"
                    )
                })?;
                use base64::Engine;
                Some(Target::Webhook {
                    url,
                    key: Secret(base64::engine::general_purpose::STANDARD.encode(key)),
                })
            } else {
                None
            }
        }
        Kind::Slack => {
            only(&["url_env"])?;
            let Some(name) = &c.url_env else {
                return Err(format!(
                    "{at}.url_env: required (a Slack webhook URL is a secret: name the environment variable holding it)"
                ));
            };
            if c.enabled {
                let url = from_env(env, &field("url_env"), name)?;
                http_url(&field("url_env"), url.expose())?;
                Some(Target::Slack { url })
            } else {
                None
            }
        }
        Kind::Email => {
            only(&["smtp", "from", "to"])?;
            let Some(smtp) = c.smtp else {
                return Err(format!("{at}.smtp: required (host, port, starttls)"));
            };
            let Some(from) = c.from else {
                return Err(format!("{at}.from: required"));
            };
            let to = c.to.unwrap_or_default();
            if to.is_empty() {
                return Err(format!("{at}.to: list at least one address"));
            }
            for (a, f) in
                std::iter::once((&from, field("from"))).chain(to.iter().map(|t| (t, field("to"))))
            {
                if a.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(format!("{f}: {a:?} is not an email address"));
                }
            }
            if smtp.host.trim().is_empty() {
                return Err(format!("{at}.smtp.host: required"));
            }
            if smtp.port == 0 {
                return Err(format!("{at}.smtp.port: 0 is not a port"));
            }
            if smtp.password_env.is_some() && smtp.username_env.is_none() {
                return Err(format!("{at}.smtp.password_env: needs username_env too"));
            }
            if c.enabled {
                let username = smtp
                    .username_env
                    .as_deref()
                    .map(|n| from_env(env, &field("smtp.username_env"), n))
                    .transpose()?;
                let password = match (&smtp.password_env, &username) {
                    (Some(n), _) => Some(from_env(env, &field("smtp.password_env"), n)?),
                    (None, Some(_)) => {
                        return Err(format!("{at}.smtp.username_env: needs password_env too"))
                    }
                    (None, None) => None,
                };
                if username.is_some() && smtp.starttls != StartTls::Required {
                    tracing::warn!(channel = %c.name, "SMTP credentials with starttls: {} may cross the network in clear text", smtp.starttls.as_str());
                }
                Some(Target::Email(EmailTarget {
                    host: smtp.host.trim().to_owned(),
                    port: smtp.port,
                    starttls: smtp.starttls,
                    ca_file: smtp.ca_file,
                    username,
                    password,
                    from,
                    to,
                }))
            } else {
                None
            }
        }
    };
    Ok(Channel {
        name: c.name,
        enabled: c.enabled,
        events,
        min_score,
        max_messages: rate.max_messages,
        rate_window,
        target,
        kind: c.kind.as_str(),
    })
}

// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    anomalies: FileAnomalies,
    #[serde(default)]
    rate_limit: FileRate,
    #[serde(default)]
    retry: FileRetry,
    #[serde(default)]
    channels: Vec<FileChannel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileAnomalies {
    window_seconds: u64,
    min_score: f64,
    max_samples: u64,
}

impl Default for FileAnomalies {
    fn default() -> Self {
        FileAnomalies {
            window_seconds: 60,
            min_score: 65.0,
            max_samples: 5,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileRate {
    max_messages: u32,
    window_seconds: u64,
}

impl Default for FileRate {
    fn default() -> Self {
        FileRate {
            max_messages: 10,
            window_seconds: 3600,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileRetry {
    max_attempts: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
    max_retry_after_seconds: u64,
    timeout_seconds: u64,
}

impl Default for FileRetry {
    fn default() -> Self {
        FileRetry {
            max_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
            max_retry_after_seconds: 300,
            timeout_seconds: 10,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Webhook,
    Slack,
    Email,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Email => "email",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileChannel {
    name: String,
    kind: Kind,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    min_score: Option<f64>,
    #[serde(default)]
    rate_limit: Option<FileRate>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    url_env: Option<String>,
    #[serde(default)]
    secret_env: Option<String>,
    #[serde(default)]
    smtp: Option<FileSmtp>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: String,
    port: u16,
    #[serde(default = "required")]
    starttls: StartTls,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    username_env: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
}

fn required() -> StartTls {
    StartTls::Required
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<NotifyConfig, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        NotifyConfig::from_yaml(text, Path::new("cfg/notifications.yaml"), &move |n| {
            env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn the_committed_example_parses_with_every_kind_and_no_secrets_needed() {
        let text = include_str!("../../../config/notifications.yaml");
        let config = parse(text, &[]).expect("the example parses");
        let kinds: BTreeSet<&str> = config.channels.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, BTreeSet::from(["email", "slack", "webhook"]));
        assert!(config.channels.iter().all(|c| !c.enabled));
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_show() {
        let text = "version: 1\nchannels:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:9/x\n    secret_env: HOOK_SECRET\n    events: [model.deployed]\n";
        let err = parse(text, &[]).expect_err("no secret");
        assert_eq!(err, "cfg/notifications.yaml: channels[0] (hook).secret_env: the environment variable HOOK_SECRET is not set (or empty)");
        let err = parse(text, &[("HOOK_SECRET", "not base64!")]).expect_err("bad secret");
        assert!(
            err.contains("HOOK_SECRET is not a Standard Webhooks secret"),
            "{err}"
        );
        assert!(!err.contains("not base64!"), "{err}");
        let config =
            parse(text, &[("HOOK_SECRET", "whsec_c2VjcmV0LWtleS1ieXRlcw==")]).expect("parses");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("c2VjcmV0") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn errors_name_the_line_or_the_field() {
        let err =
            parse("version: 1\nchannels:\n  - name: a\n    kind: pager\n", &[]).expect_err("kind");
        assert!(
            err.starts_with("cfg/notifications.yaml: ") && err.contains("line 4"),
            "{err}"
        );
        let err = parse("version: 1\nchannels:\n  - name: s\n    kind: slack\n    url: https://hooks.slack.com/x\n    events: [anomalies.detected]\n", &[]).expect_err("slack url");
        assert!(
            err.contains("channels[0] (s).url: not a field of a slack channel"),
            "{err}"
        );
        let err = parse("version: 1\nchannels:\n  - name: s\n    kind: slack\n    url_env: S\n    events: [anomaly]\n", &[]).expect_err("event");
        assert!(
            err.contains("channels[0] (s).events: \"anomaly\" is not one of"),
            "{err}"
        );
        let err = parse("version: 1\nanomalies:\n  min_score: 120\n", &[]).expect_err("score");
        assert!(
            err.contains("anomalies.min_score: 120 is not a risk score"),
            "{err}"
        );
        let err = parse("version: 2\n", &[]).expect_err("version");
        assert!(err.contains("version: 2 is not supported"), "{err}");
    }
}
