//! `mcp-train detect --nats URL`: log lines from a NATS JetStream stream.
//!
//! A durable pull consumer (`--nats-consumer`) on the stream (`--nats-stream`, created over
//! `--nats-subject` when missing). Every worker started with the same consumer name pulls from
//! the same consumer, so the workers share the stream: each message goes to one of them (the
//! JetStream form of a queue group).
//!
//! Delivery is at least once, and nothing is lost: a batch of messages is acknowledged only
//! after its verdicts are written to stdout, its anomalies stored (`--store`) and published
//! (`--nats-publish`, awaiting JetStream's acknowledgement when a stream stores the subject).
//! A worker killed mid-batch leaves its messages unacknowledged; after the consumer's ack wait
//! (`--nats-ack-wait`) they are delivered again, to whichever worker pulls next. A published
//! anomaly carries `Nats-Msg-Id: <stream>:<sequence>:<line>`, so a stream storing anomalies
//! drops the second copy of a redelivered line's anomaly (within its duplicate window).
//!
//! Without `--follow` the worker stops once the consumer has nothing pending and nothing
//! unacknowledged (a catch-up run); with it, it waits for more. SIGINT or SIGTERM stop it
//! after the batch at hand is acknowledged.
//!
//! Each worker keeps its own feature windows over the lines it sees. The windows look at a
//! device's recent entries, so for the verdicts of one worker reading everything, give each
//! device (or site) its own subject and worker (`--nats-subject logs.site-3.>`,
//! `--nats-consumer detect-site-3`).

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use mcp_train_core::agent::ParseContext;

use super::{one_line, Place, Serving, Sink, Stats, Stop};
use crate::cli::args::NatsArgs;
use crate::cli::Failure;

/// Messages pulled at once (and acknowledged together).
const BATCH: usize = 500;
/// How long an idle worker waits before it pulls again.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The worker's consumer on the stream, connected.
pub(super) struct Worker<'a> {
    args: &'a NatsArgs,
    url: &'a str,
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    consumer: consumer::PullConsumer,
}

impl<'a> Worker<'a> {
    /// Connects to the server and opens (or creates) the stream and the durable consumer.
    pub(super) fn connect(args: &'a NatsArgs, url: &'a str) -> Result<Worker<'a>, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Failure::usage(anyhow::Error::new(e).context("cannot start the runtime"))
            })?;
        let (client, js, consumer) = runtime.block_on(open(args, url)).map_err(Failure::usage)?;
        Ok(Worker {
            args,
            url,
            runtime,
            client,
            js,
            consumer,
        })
    }

    /// Consumes the stream until it is drained (or, with `follow`, until a signal).
    pub(super) fn run(
        self,
        serving: &mut Serving,
        out: &mut Sink,
        stats: &mut Stats,
        follow: bool,
    ) -> Result<(), Stop> {
        if self.args.nats_publish.is_some() {
            out.outbox = Some(Vec::new());
        }
        self.runtime
            .block_on(consume(&self, serving, out, stats, follow))
    }
}

fn failed(context: String) -> impl FnOnce(anyhow::Error) -> Stop {
    move |e| Stop::Failed(Failure::usage(e.context(context)))
}

/// What `nats://user:secret@host` is called in messages: without the secret.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The client, its JetStream context and the consumer.
async fn open(
    args: &NatsArgs,
    url: &str,
) -> anyhow::Result<(
    async_nats::Client,
    jetstream::Context,
    consumer::PullConsumer,
)> {
    let client = async_nats::ConnectOptions::new()
        .name("mcp-train detect")
        .connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to NATS at {}: {e}", shown(url)))?;
    let js = jetstream::new(client.clone());
    let stream = js
        .get_or_create_stream(stream::Config {
            name: args.nats_stream.clone(),
            subjects: vec![args.nats_subject.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the JetStream stream {} (over {}) at {}: {e}",
                args.nats_stream,
                args.nats_subject,
                shown(url)
            )
        })?;
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            &args.nats_consumer,
            consumer::pull::Config {
                durable_name: Some(args.nats_consumer.clone()),
                filter_subject: args.nats_subject.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(args.nats_ack_wait),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the consumer {} of stream {} (filter {}): {e}",
                args.nats_consumer,
                args.nats_stream,
                args.nats_subject
            )
        })?;
    Ok((client, js, consumer))
}

async fn consume(
    worker: &Worker<'_>,
    serving: &mut Serving,
    out: &mut Sink,
    stats: &mut Stats,
    follow: bool,
) -> Result<(), Stop> {
    let Worker {
        args,
        url,
        client,
        js,
        consumer,
        ..
    } = worker;
    eprintln!(
        "detect: consuming {} from stream {} at {} as {}",
        args.nats_subject,
        args.nats_stream,
        shown(url),
        args.nats_consumer
    );
    let mut shutdown = std::pin::pin!(shutdown());
    let mut messages_seen = 0u64;
    let mut no_store_said = false;
    let result = loop {
        let fetched = tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            fetched = fetch(consumer) => fetched,
        };
        let batch = match fetched {
            Ok(batch) => batch,
            Err(e) => break Err(failed(format!("cannot pull from {}", args.nats_stream))(e)),
        };
        if batch.is_empty() {
            if let Err(e) = out.flush() {
                break Err(write_failed(e));
            }
            serving.poll();
            if !follow {
                match drained(consumer).await {
                    Ok(true) => break Ok(()),
                    Ok(false) => {}
                    Err(e) => {
                        break Err(failed(format!(
                            "cannot read consumer {}",
                            args.nats_consumer
                        ))(e))
                    }
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
            continue;
        }
        let mut to_publish = Vec::new();
        for message in &batch {
            messages_seen += 1;
            let info = match message.info() {
                Ok(info) => info,
                // Not a JetStream delivery: nothing to acknowledge either.
                Err(_) => continue,
            };
            let sequence = info.stream_sequence;
            let ctx = ParseContext {
                default_year: info.published.year(),
            };
            let index = usize::try_from(sequence.saturating_sub(1)).unwrap_or(usize::MAX);
            let payload = message
                .payload
                .strip_suffix(b"\n")
                .unwrap_or(&message.payload);
            for (n, line) in payload.split(|&b| b == b'\n').enumerate() {
                let line_number = n as u64 + 1;
                stats.lines += 1;
                let place = Place::Message {
                    sequence,
                    line: line_number,
                };
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if let Err(e) = one_line(line, index, place, ctx, serving, out, stats) {
                    return finish(client, Err(write_failed(e))).await;
                }
                if let Some(outbox) = &mut out.outbox {
                    for anomaly in outbox.drain(..) {
                        let id = format!("{}:{sequence}:{line_number}", args.nats_stream);
                        to_publish.push((id, anomaly));
                    }
                }
            }
        }
        // Written, stored and published before the batch is acknowledged.
        if let Err(e) = out.flush() {
            break Err(write_failed(e));
        }
        if let Some(sink) = &mut out.store {
            if let Err(e) = sink.store() {
                break Err(Stop::Failed(Failure::usage(anyhow::Error::new(e))));
            }
        }
        if let Some(subject) = &args.nats_publish {
            match publish(js, subject, to_publish).await {
                Ok(stored) => {
                    if !stored && !no_store_said {
                        no_store_said = true;
                        eprintln!(
                            "detect: no JetStream stream stores {subject}: anomalies reach live subscribers only"
                        );
                    }
                }
                Err(e) => break Err(failed(format!("cannot publish anomalies to {subject}"))(e)),
            }
        }
        if let Err(e) = acknowledge(&batch).await {
            break Err(failed("cannot acknowledge the messages".to_owned())(e));
        }
        serving.poll();
    };
    eprintln!(
        "detect: {messages_seen} messages from stream {}",
        args.nats_stream
    );
    finish(client, result).await
}

/// Sends the acknowledgements still buffered before the worker goes.
async fn finish(client: &async_nats::Client, result: Result<(), Stop>) -> Result<(), Stop> {
    let flushed = client.flush().await;
    result?;
    flushed.map_err(anyhow::Error::new).map_err(failed(
        "cannot send the acknowledgements to NATS".to_owned(),
    ))
}

fn write_failed(e: std::io::Error) -> Stop {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Stop::Closed
    } else {
        Stop::Failed(Failure::usage(
            anyhow::Error::new(e).context("cannot write stdout"),
        ))
    }
}

async fn acknowledge(batch: &[jetstream::Message]) -> anyhow::Result<()> {
    for message in batch {
        message.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

/// The messages ready now (at most [`BATCH`]), without waiting for more.
async fn fetch(consumer: &consumer::PullConsumer) -> anyhow::Result<Vec<jetstream::Message>> {
    let mut batch = consumer
        .fetch()
        .max_messages(BATCH)
        .messages()
        .await
        .map_err(anyhow::Error::new)?;
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    Ok(messages)
}

/// Whether the consumer has nothing left to deliver and nothing unacknowledged (by any
/// worker).
async fn drained(consumer: &consumer::PullConsumer) -> anyhow::Result<bool> {
    let info = consumer.get_info().await.map_err(anyhow::Error::new)?;
    Ok(info.num_pending == 0 && info.num_ack_pending == 0)
}

/// Publishes the anomalies and waits for JetStream to store them: whether a stream stores
/// the subject (without one, they went to the subject's live subscribers only).
async fn publish(
    js: &jetstream::Context,
    subject: &str,
    anomalies: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<bool> {
    let mut acks = Vec::with_capacity(anomalies.len());
    for (id, bytes) in anomalies {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
        acks.push(
            js.publish_with_headers(subject.to_owned(), headers, bytes.into())
                .await
                .map_err(anyhow::Error::new)?,
        );
    }
    let mut stored = true;
    for ack in acks {
        match ack.await {
            Ok(_) => {}
            Err(e) if e.kind() == jetstream::context::PublishErrorKind::StreamNotFound => {
                stored = false;
            }
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    Ok(stored)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
