//! Notifications: webhooks signed with the Standard Webhooks scheme, Slack incoming webhooks and
//! email over SMTP (docs/notifications.md).
//!
//! A [`Notifier`] is cheap to clone and never blocks its caller: [`Notifier::anomalies`] and
//! [`Notifier::event`] hand their work to a background thread (its own small async runtime),
//! which groups anomalies per channel and log type over a window, applies each channel's rate
//! limit, renders the message for the channel's kind and delivers it with retries. A message
//! that still fails goes to the dead-letter list under the data directory.
//!
//! Hooks for the rest of the server: the training runner and the deploy and rollback handlers
//! call [`Notifier::event`]; whatever stores anomalies calls [`Notifier::anomalies`] with what it
//! stored; an export job calls `event(Event::ExportFinished(job))` when it ends.

pub mod config;
pub mod dead_letters;
pub mod deliver;
pub mod message;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_train_core::anomalies::StoredAnomaly;
use mcp_train_core::time::format_iso8601;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

pub use config::{load_notifications, Channel, NotifyConfig, NotifyConfigError, Secret};
pub use dead_letters::{DeadLetter, DeadLetterPage, DeadLetters};
pub use deliver::Outcome;
pub use message::{AnomalyGroup, Event, Message, Sample};

/// Who hears about delivery outcomes: the server's metrics.
pub trait Observer: Send + Sync + std::fmt::Debug {
    /// One attempt's outcome: `delivered`, `retried`, `failed` or `suppressed`.
    fn attempt(&self, channel: &str, outcome: &'static str);
    /// The number of entries in the dead-letter list.
    fn dead_letters(&self, n: usize);
}

/// An observer that ignores everything (the command line).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn attempt(&self, _: &str, _: &'static str) {}
    fn dead_letters(&self, _: usize) {}
}

/// Commands waiting for the background thread at most; more are dropped (and counted).
const QUEUE: usize = 10_000;
/// How long deliveries under way may finish once the last [`Notifier`] is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Why a test message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestError {
    #[error("no notification channel named {0:?}")]
    NoChannel(String),
    #[error("channel {0:?} is disabled (enabled: false in notifications.yaml)")]
    Disabled(String),
    #[error("channel {channel:?}: not delivered after {attempts} attempt(s): {error}")]
    Failed {
        channel: String,
        attempts: u32,
        error: String,
    },
    #[error("the notification thread is gone")]
    Gone,
}

/// A channel as the API and `mcp-train notify channels` show it: no secret, no URL path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelInfo {
    pub name: String,
    pub kind: &'static str,
    pub enabled: bool,
    pub events: Vec<String>,
    pub min_score: f64,
    pub rate_limit: RateLimitInfo,
    /// Where it delivers: the host of a webhook, `host:port` of an SMTP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimitInfo {
    pub max_messages: u32,
    pub window_seconds: u64,
}

impl ChannelInfo {
    pub fn of(c: &Channel) -> ChannelInfo {
        use config::Target;
        let destination = c.target.as_ref().map(|t| match t {
            Target::Webhook { url, .. } | Target::Slack { url } => {
                reqwest::Url::parse(url.expose())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default()
            }
            Target::Email(e) => format!(
                "{}:{} (starttls {}) to {}",
                e.host,
                e.port,
                e.starttls.as_str(),
                e.to.join(", ")
            ),
        });
        ChannelInfo {
            name: c.name.clone(),
            kind: c.kind,
            enabled: c.enabled,
            events: c.events.iter().cloned().collect(),
            min_score: c.min_score,
            rate_limit: RateLimitInfo {
                max_messages: c.max_messages,
                window_seconds: c.rate_window.as_secs(),
            },
            destination,
        }
    }
}

enum Command {
    Anomalies {
        log_type: String,
        /// Per channel index: anomalies at or above its score, and the highest of them.
        per_channel: Vec<(usize, u64, Vec<Sample>)>,
    },
    Event(message::Event),
    Test(usize, oneshot::Sender<Outcome>),
}

/// Sends notifications from a background thread. Clone it freely; the thread ends (after
/// flushing open anomaly groups and letting deliveries finish for a few seconds) once the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Arc<NotifyConfig>,
    queue: mpsc::Sender<Command>,
    dead: Option<Arc<DeadLetters>>,
    dropped: AtomicU64,
}

impl Notifier {
    /// Starts the background thread for the channels of `config`. With a data directory, failed
    /// messages go to its dead-letter list (and `observer` hears its size now and on every
    /// change); without one (the command line), they are only logged.
    pub fn start(
        config: NotifyConfig,
        data_dir: Option<&Path>,
        observer: Arc<dyn Observer>,
    ) -> std::io::Result<Notifier> {
        let dead = match data_dir {
            Some(dir) => {
                let list = DeadLetters::open(dir)?;
                observer.dead_letters(list.len());
                Some(Arc::new(list))
            }
            None => None,
        };
        let client = deliver::http_client(config.retry.timeout).map_err(std::io::Error::other)?;
        let config = Arc::new(config);
        let (queue, commands) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let worker = Worker {
            config: Arc::clone(&config),
            client,
            observer,
            dead: dead.clone(),
        };
        std::thread::Builder::new()
            .name("notifications".to_owned())
            .spawn(move || runtime.block_on(worker.run(commands)))?;
        Ok(Notifier {
            inner: Arc::new(Inner {
                config,
                queue,
                dead,
                dropped: AtomicU64::new(0),
            }),
        })
    }

    /// The channels, as shown to people.
    pub fn channels(&self) -> Vec<ChannelInfo> {
        self.inner
            .config
            .channels
            .iter()
            .map(ChannelInfo::of)
            .collect()
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.inner.config
    }

    /// The dead-letter list (`None` without a data directory).
    pub fn dead_letters(&self) -> Option<&DeadLetters> {
        self.inner.dead.as_deref()
    }

    /// Commands dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Stored anomalies of `log_type` (what the store just inserted, or what a detector found):
    /// each channel that subscribes to `anomalies.detected` counts those at or above its
    /// `min_score` into its open group for the log type, sent when the window closes. Never
    /// blocks: only the count and the highest few per channel are queued.
    pub fn anomalies(&self, log_type: &str, anomalies: &[StoredAnomaly]) {
        let config = &self.inner.config;
        let mut per_channel = Vec::new();
        for (i, c) in config.channels.iter().enumerate() {
            if !c.wants("anomalies.detected") {
                continue;
            }
            let mut over: Vec<&StoredAnomaly> = anomalies
                .iter()
                .filter(|a| a.score >= c.min_score)
                .collect();
            if over.is_empty() {
                continue;
            }
            let count = over.len() as u64;
            over.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
            over.truncate(config.max_samples);
            per_channel.push((i, count, over.into_iter().map(Sample::of).collect()));
        }
        if !per_channel.is_empty() {
            self.send(Command::Anomalies {
                log_type: log_type.to_owned(),
                per_channel,
            });
        }
    }

    /// Tells the channels that subscribe to the event's type. Never blocks.
    pub fn event(&self, event: Event) {
        if self
            .inner
            .config
            .channels
            .iter()
            .any(|c| c.wants(event.kind()))
        {
            self.send(Command::Event(event));
        }
    }

    fn send(&self, command: Command) {
        if self.inner.queue.try_send(command).is_err() {
            let n = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "notification queue full or closed: notifications dropped"
                );
            }
        }
    }

    /// Sends a test message through `channel` now (with the usual retries, no grouping or
    /// rate limit, no dead letter) and says how it went.
    pub async fn test(&self, channel: &str) -> Result<Outcome, TestError> {
        let receive = self.start_test(channel)?;
        let outcome = receive.await.map_err(|_| TestError::Gone)?;
        Self::tested(channel, outcome)
    }

    /// [`Notifier::test`] for a caller outside any async runtime.
    pub fn test_blocking(&self, channel: &str) -> Result<Outcome, TestError> {
        let receive = self.start_test(channel)?;
        let outcome = receive.blocking_recv().map_err(|_| TestError::Gone)?;
        Self::tested(channel, outcome)
    }

    fn start_test(&self, name: &str) -> Result<oneshot::Receiver<Outcome>, TestError> {
        let config = &self.inner.config;
        let index = config
            .channels
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| TestError::NoChannel(name.to_owned()))?;
        if !config.channels[index].enabled {
            return Err(TestError::Disabled(name.to_owned()));
        }
        let (reply, receive) = oneshot::channel();
        self.inner
            .queue
            .try_send(Command::Test(index, reply))
            .map_err(|_| TestError::Gone)?;
        Ok(receive)
    }

    fn tested(channel: &str, outcome: Outcome) -> Result<Outcome, TestError> {
        match outcome.error {
            None => Ok(outcome),
            Some(error) => Err(TestError::Failed {
                channel: channel.to_owned(),
                attempts: outcome.attempts,
                error,
            }),
        }
    }
}

/// A channel's rate limit: when its recent anomaly messages went out.
#[derive(Debug, Default)]
struct Limit {
    sent: VecDeque<Instant>,
    suppressed: u64,
}

struct Worker {
    config: Arc<NotifyConfig>,
    client: reqwest::Client,
    observer: Arc<dyn Observer>,
    dead: Option<Arc<DeadLetters>>,
}

impl Worker {
    async fn run(self, mut commands: mpsc::Receiver<Command>) {
        let worker = Arc::new(self);
        // Open groups by (channel, log type), each with the time it is sent.
        let mut groups: BTreeMap<(usize, String), (Instant, AnomalyGroup)> = BTreeMap::new();
        let mut limits: Vec<Limit> = worker
            .config
            .channels
            .iter()
            .map(|_| Limit::default())
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let next = groups.values().map(|(at, _)| *at).min();
            let due = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    None => break,
                    Some(Command::Anomalies { log_type, per_channel }) => {
                        let now = Instant::now();
                        for (index, count, samples) in per_channel {
                            let channel = &worker.config.channels[index];
                            let (_, group) = groups.entry((index, log_type.clone())).or_insert_with(|| {
                                (now + worker.config.window, AnomalyGroup {
                                    log_type: log_type.clone(),
                                    count: 0,
                                    min_score: channel.min_score,
                                    window_seconds: worker.config.window.as_secs(),
                                    samples: Vec::new(),
                                    suppressed: 0,
                                })
                            });
                            group.add(count, samples, worker.config.max_samples);
                        }
                    }
                    Some(Command::Event(event)) => {
                        let message = event.message(&now_iso());
                        for (index, c) in worker.config.channels.iter().enumerate() {
                            if c.wants(event.kind()) {
                                tasks.spawn(Arc::clone(&worker).deliver(index, message.clone()));
                            }
                        }
                    }
                    Some(Command::Test(index, reply)) => {
                        let w = Arc::clone(&worker);
                        tasks.spawn(async move {
                            let channel = &w.config.channels[index];
                            let message = Message::test(&channel.name, &now_iso());
                            let outcome = deliver::deliver(&w.client, channel, &message, &w.config.retry, w.observer.as_ref()).await;
                            let _ = reply.send(outcome);
                        });
                    }
                },
                () = due => {
                    let now = Instant::now();
                    let ready: Vec<(usize, String)> = groups
                        .iter()
                        .filter(|(_, (at, _))| *at <= now)
                        .map(|(k, _)| k.clone())
                        .collect();
                    for key in ready {
                        if let Some((_, group)) = groups.remove(&key) {
                            worker.flush(key.0, group, &mut limits[key.0], &mut tasks);
                        }
                    }
                }
            }
            while tasks.try_join_next().is_some() {}
        }
        for ((index, _), (_, group)) in std::mem::take(&mut groups) {
            worker.flush(index, group, &mut limits[index], &mut tasks);
        }
        let finish = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(CLOSE_GRACE, finish).await.is_err() {
            tracing::warn!("notifications still being delivered at exit were dropped");
        }
    }

    /// Sends a closed group, unless the channel's rate limit is reached (then it is counted as
    /// suppressed and the next message says so).
    fn flush(
        self: &Arc<Self>,
        index: usize,
        mut group: AnomalyGroup,
        limit: &mut Limit,
        tasks: &mut tokio::task::JoinSet<()>,
    ) {
        let channel = &self.config.channels[index];
        let now = Instant::now();
        while limit
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= channel.rate_window)
        {
            limit.sent.pop_front();
        }
        if limit.sent.len() >= channel.max_messages as usize {
            limit.suppressed += 1;
            self.observer.attempt(&channel.name, "suppressed");
            tracing::info!(channel = %channel.name, log_type = %group.log_type, anomalies = group.count, "anomaly message suppressed by the channel's rate limit");
            return;
        }
        limit.sent.push_back(now);
        group.suppressed = std::mem::take(&mut limit.suppressed);
        let message = group.message(&now_iso());
        tasks.spawn(Arc::clone(self).deliver(index, message));
    }

    async fn deliver(self: Arc<Self>, index: usize, message: Message) {
        let channel = &self.config.channels[index];
        let outcome = deliver::deliver(
            &self.client,
            channel,
            &message,
            &self.config.retry,
            self.observer.as_ref(),
        )
        .await;
        let Some(error) = outcome.error else { return };
        let Some(dead) = &self.dead else { return };
        let letter = DeadLetter {
            id: outcome.id,
            at: now_iso(),
            channel: channel.name.clone(),
            channel_kind: channel.kind.to_owned(),
            event: message.kind.to_owned(),
            attempts: outcome.attempts,
            error,
            title: message.title.clone(),
            data: message.data.clone(),
        };
        let dead = Arc::clone(dead);
        let appended = tokio::task::spawn_blocking(move || dead.append(&letter)).await;
        match appended {
            Ok(Ok(n)) => self.observer.dead_letters(n),
            Ok(Err(e)) => {
                tracing::error!(channel = %channel.name, error = %e, "cannot write the dead-letter list")
            }
            Err(e) => {
                tracing::error!(channel = %channel.name, error = %e, "cannot write the dead-letter list")
            }
        }
    }
}

/// Now, RFC 3339 UTC (the wall clock: receivers compare webhook timestamps with theirs).
fn now_iso() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    format_iso8601(micros)
}
