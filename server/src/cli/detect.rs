//! `mcp-train detect`: a model (or the registry's deployed model for a log type) at work on a
//! log as it arrives — raw lines through the agent's parser, or NDJSON export records — writing
//! one JSON object per anomaly (every record with `--all`).
//!
//! Input, line by line:
//! - a line starting with `{` is first read as an export record (the export validator, on that
//!   one line); a `{` line that is no export record at all (no record fields, or not JSON) goes
//!   to the agent's `parse_line`, which may read JSON of its own (ulogd's JSON output for the
//!   firewall agent);
//! - any other line goes to the agent's `parse_line`, with the year of RFC 3164 timestamps that
//!   carry none taken from the file's modification time (the current year on stdin);
//! - a whole JSON export (an array, or an object with `data`, also pretty-printed) is read at
//!   once and streamed in stable timestamp order — the order `score` uses, so the verdicts are
//!   `score`'s bit for bit.
//!
//! Bad lines are counted and reported on stderr with `line L:C`, never fatal. Memory stays
//! bounded: one line at a time (at most [`MAX_LINE_BYTES`]), and agents keep bounded windows.
//!
//! `--follow` keeps reading a growing file like `tail -F`: it polls at EOF, reopens the path
//! when a new file replaced it (after finishing the old file's remaining lines) and starts over
//! when the file shrank (truncation).
//!
//! `--nats URL` reads the lines from a NATS JetStream stream instead, as one of a group of
//! workers sharing a durable consumer ([`nats`]).
//!
//! `--registry DIR --log-type T` serves the model deployed for `T` and polls the registry every
//! second: a newly deployed model takes over (its feature windows start empty); one that fails
//! to load or verify leaves the old model serving and is named on stderr once.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use mcp_train::fs::clock;
use mcp_train::fs::registry;
use mcp_train::store::AnomalyStore;
use mcp_train_core::agent::formats::{to_ecs, to_ocsf};
use mcp_train_core::agent::{is_whole_export, read_line_record, Anomaly, Detector, ParseContext};
use mcp_train_core::anomalies::StoredAnomaly;
use mcp_train_core::export::{parse_export_for_detection, Record};
use mcp_train_core::pipeline::ModelArtifact;
use mcp_train_core::time::CivilTime;

use super::args::{DetectArgs, DetectFormat};
use super::input::display;
use super::train::load_model;
use super::{Failure, Outcome};

mod nats;

/// Longest line read; a longer one is a bad line (and skipped to its end).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How often `--follow` looks for new data, rotation and truncation.
const FOLLOW_POLL: Duration = Duration::from_millis(100);
/// How often `--registry` looks for a newly deployed model.
const REGISTRY_POLL: Duration = Duration::from_secs(1);
/// Bad lines reported one by one; after that, one line every [`BAD_LINE_EVERY`].
const BAD_LINES_SHOWN: u64 = 10;
const BAD_LINE_EVERY: u64 = 1000;

pub fn run(args: DetectArgs) -> Outcome {
    let (source, file) = sources(&args)?;
    if let (Some(file), Some(_)) = (&file, &args.nats.nats) {
        return Err(Failure::usage(anyhow::anyhow!(
            "unexpected argument {} (with --nats the log lines come from NATS: give no FILE)",
            file.display()
        )));
    }
    let mut serving = Serving::start(source)?;
    let mut out = Sink::new(args.format, args.all);
    if let Some(dir) = &args.store {
        out.store = Some(StoreSink {
            store: super::anomalies::open_dir(dir)?,
            batch: Vec::new(),
            last: Instant::now(),
            stored: 0,
        });
    }
    let mut stats = Stats::default();
    let result = match &args.nats.nats {
        Some(url) => {
            let worker = nats::Worker::connect(&args.nats, url)?;
            worker.run(&mut serving, &mut out, &mut stats, args.follow)
        }
        None => {
            let path = file.unwrap_or_else(|| PathBuf::from("-"));
            let mut input = Input::open(&path)?;
            detect_stream(&mut input, &mut serving, &mut out, &mut stats, args.follow)
        }
    };
    let flushed = out.flush();
    let stored = out.finish_store();
    eprintln!("{}", stats.summary(&serving.versions));
    match stored {
        Ok(Some((n, path))) => eprintln!("detect: {n} anomalies stored in {}", path.display()),
        Ok(None) => {}
        Err(e) => return Err(Failure::usage(e)),
    }
    match result {
        Ok(()) | Err(Stop::Closed) => {}
        Err(Stop::Failed(failure)) => return Err(failure),
    }
    if let Err(e) = flushed {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(Failure::usage(
                anyhow::Error::new(e).context("cannot write stdout"),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the model comes from.
enum ModelSource {
    /// A model file, or a version in a registry: loaded once.
    Fixed(Box<ModelArtifact>),
    /// The registry's deployed model for a log type, reloaded when that changes.
    Deployed {
        dir: registry::RegistryAt,
        log_type: String,
    },
}

/// The model source and the input file from the positional arguments.
fn sources(args: &DetectArgs) -> Result<(ModelSource, Option<PathBuf>), Failure> {
    let mut positional = args.inputs.iter();
    if let Some(log_type) = &args.log_type {
        let file = positional.next().cloned();
        if let Some(extra) = positional.next() {
            return Err(Failure::usage(anyhow::anyhow!(
                "unexpected argument {} (with --log-type the model comes from the registry: give only the FILE)",
                extra.display()
            )));
        }
        let dir = super::registry_at(args.registry.as_deref())?;
        return Ok((
            ModelSource::Deployed {
                dir,
                log_type: log_type.clone(),
            },
            file,
        ));
    }
    let Some(model) = positional.next() else {
        return Err(Failure::usage(anyhow::anyhow!(
            "give a MODEL (model.json or a registered version), or --log-type T to serve the registry's deployed model"
        )));
    };
    let file = positional.next().cloned();
    if let Some(extra) = positional.next() {
        return Err(Failure::usage(anyhow::anyhow!(
            "unexpected argument {}",
            extra.display()
        )));
    }
    let artifact = if model.is_file() || args.registry.is_none() && looks_like_path(model) {
        load_model(model)?
    } else {
        let dir = super::registry_at(args.registry.as_deref())?;
        let name = model.to_string_lossy();
        let registry = dir.open();
        let record = registry
            .resolve(&name)
            .map_err(|e| Failure::registry(&dir, e))?;
        registry
            .get(&record.version)
            .and_then(|stored| stored.artifact())
            .map_err(|e| Failure::registry(&dir, e))?
    };
    Ok((ModelSource::Fixed(Box::new(artifact)), file))
}

/// A MODEL argument that names a file rather than a registered version.
fn looks_like_path(model: &Path) -> bool {
    let text = model.to_string_lossy();
    text.ends_with(".json") || text.contains(std::path::MAIN_SEPARATOR) || text == "-"
}

/// The detector at work, and where its model comes from.
struct Serving {
    detector: Detector,
    source: ModelSource,
    /// Versions that served, in order (for the summary).
    versions: Vec<String>,
    /// The deployed (version, SHA-256) being served, or refused last, in registry mode.
    seen: Option<(String, String)>,
    last_poll: Instant,
}

impl Serving {
    fn start(source: ModelSource) -> Result<Serving, Failure> {
        let (artifact, seen) = match &source {
            ModelSource::Fixed(artifact) => ((**artifact).clone(), None),
            ModelSource::Deployed { dir, log_type } => {
                let registry = dir.open();
                let record = registry
                    .deployed(log_type)
                    .map_err(|e| Failure::registry(dir, e))?
                    .ok_or_else(|| {
                        Failure::invalid(anyhow::anyhow!(
                            "no model is deployed for log type {log_type} in {}",
                            dir.describe()
                        ))
                    })?;
                let artifact = registry
                    .get(&record.version)
                    .and_then(|stored| stored.artifact())
                    .map_err(|e| Failure::registry(dir, e))?;
                (artifact, Some((record.version, record.sha256)))
            }
        };
        let detector = new_detector(artifact, &source)?;
        Ok(Serving {
            versions: vec![detector.artifact().version.clone()],
            detector,
            source,
            seen,
            last_poll: Instant::now(),
        })
    }

    /// In registry mode, at most once per [`REGISTRY_POLL`]: switches to a newly deployed
    /// model, or says once why it cannot.
    fn poll(&mut self) {
        let ModelSource::Deployed { dir, log_type } = &self.source else {
            return;
        };
        if self.last_poll.elapsed() < REGISTRY_POLL {
            return;
        }
        self.last_poll = Instant::now();
        let registry = dir.open();
        let record = match registry.deployed(log_type) {
            Ok(Some(record)) => record,
            // Nothing deployed any more, or the index is being rewritten: keep serving.
            Ok(None) | Err(_) => return,
        };
        let key = (record.version.clone(), record.sha256.clone());
        if self.seen.as_ref() == Some(&key) {
            return;
        }
        self.seen = Some(key);
        let loaded = registry
            .get(&record.version)
            .and_then(|stored| stored.artifact())
            .map_err(|e| e.to_string())
            .and_then(|artifact| new_detector(artifact, &self.source).map_err(|f| f.to_string()));
        let serving = self.detector.artifact().version.clone();
        match loaded {
            Ok(detector) => {
                eprintln!(
                    "detect: now serving model {} (was {serving})",
                    detector.artifact().version
                );
                self.versions.push(detector.artifact().version.clone());
                self.detector = detector;
            }
            Err(reason) => eprintln!(
                "detect: refused deployed model {}: {reason}; model {serving} keeps serving",
                record.version
            ),
        }
    }
}

fn new_detector(artifact: ModelArtifact, source: &ModelSource) -> Result<Detector, Failure> {
    if let ModelSource::Deployed { log_type, .. } = source {
        if artifact.log_type != *log_type {
            return Err(Failure::invalid(anyhow::anyhow!(
                "the deployed model {} is for log type {}, not {log_type}",
                artifact.version,
                artifact.log_type
            )));
        }
    }
    Detector::new(artifact)
        .context("cannot detect with this model")
        .map_err(Failure::invalid)
}

/// Why the stream ended early.
enum Stop {
    /// The consumer closed stdout.
    Closed,
    Failed(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failed(f)
    }
}

/// Where a line came from, for what is said about it.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// Line N (from 1) of the file or stdin.
    Line(u64),
    /// Line N (from 1) of the JetStream message with this stream sequence.
    Message { sequence: u64, line: u64 },
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Line(line) => write!(f, "line {line}"),
            Place::Message { sequence, line } => write!(f, "message {sequence} line {line}"),
        }
    }
}

/// Counts for the summary.
#[derive(Default)]
struct Stats {
    lines: u64,
    parsed: u64,
    bad: u64,
    anomalies: u64,
}

impl Stats {
    fn bad_line(&mut self, place: Place, column: usize, message: &str) {
        self.bad += 1;
        if self.bad <= BAD_LINES_SHOWN {
            eprintln!("{place}:{column}: {message}");
        } else if self.bad.is_multiple_of(BAD_LINE_EVERY) {
            eprintln!(
                "{} bad lines so far; the latest: {place}:{column}: {message}",
                self.bad
            );
        }
    }

    fn summary(&self, versions: &[String]) -> String {
        format!(
            "detect: {} lines read, {} parsed, {} bad, {} anomalies; model{} {}",
            self.lines,
            self.parsed,
            self.bad,
            self.anomalies,
            if versions.len() == 1 { "" } else { "s" },
            versions.join(", ")
        )
    }
}

/// The output: one JSON object per line, flushed per anomaly and whenever the input has no
/// more data ready, so a consumer sees each verdict before detect waits for more input.
struct Sink {
    format: DetectFormat,
    all: bool,
    out: io::BufWriter<io::Stdout>,
    /// `--store DIR`: the anomaly store and the batch not stored yet.
    store: Option<StoreSink>,
    /// `--nats-publish`: the anomalies (in `format`) not published yet.
    outbox: Option<Vec<Vec<u8>>>,
}

/// Anomalies on their way into the store: stored in batches of [`STORE_BATCH`], and at least
/// every [`STORE_EVERY`] while the input trickles in.
struct StoreSink {
    store: AnomalyStore,
    batch: Vec<StoredAnomaly>,
    last: Instant,
    stored: u64,
}

const STORE_BATCH: usize = 1000;
const STORE_EVERY: Duration = Duration::from_secs(1);

impl StoreSink {
    fn store(&mut self) -> io::Result<()> {
        self.last = Instant::now();
        if self.batch.is_empty() {
            return Ok(());
        }
        self.store.insert(&mut self.batch, "detect").map_err(|e| {
            io::Error::other(format!(
                "cannot store anomalies in {}: {:#}",
                self.store.path().display(),
                anyhow::Error::new(e)
            ))
        })?;
        self.stored += self.batch.len() as u64;
        self.batch.clear();
        Ok(())
    }
}

impl Sink {
    fn new(format: DetectFormat, all: bool) -> Sink {
        Sink {
            format,
            all,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            store: None,
            outbox: None,
        }
    }

    /// Stores what is left of the batch: how many were stored, and where.
    fn finish_store(&mut self) -> anyhow::Result<Option<(u64, PathBuf)>> {
        match &mut self.store {
            Some(sink) => {
                sink.store()?;
                Ok(Some((sink.stored, sink.store.path().to_owned())))
            }
            None => Ok(None),
        }
    }

    fn write(&mut self, report: &Anomaly) -> io::Result<()> {
        render(self.format, report, &mut self.out)?;
        self.out.write_all(b"\n")?;
        if report.inference.is_anomaly {
            if let Some(outbox) = &mut self.outbox {
                let mut bytes = Vec::new();
                render(self.format, report, &mut bytes)?;
                outbox.push(bytes);
            }
            if let Some(sink) = &mut self.store {
                sink.batch
                    .push(StoredAnomaly::new(report.clone(), clock::now_micros()));
                if sink.batch.len() >= STORE_BATCH {
                    sink.store()?;
                }
            }
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(sink) = &mut self.store {
            if sink.last.elapsed() >= STORE_EVERY {
                sink.store()?;
            }
        }
        self.out.flush()
    }
}

/// `report` as one JSON object in `format`.
fn render(format: DetectFormat, report: &Anomaly, out: impl Write) -> io::Result<()> {
    match format {
        DetectFormat::Ndjson => serde_json::to_writer(out, report)?,
        DetectFormat::Ecs => serde_json::to_writer(out, &to_ecs(report))?,
        DetectFormat::Ocsf => serde_json::to_writer(out, &to_ocsf(report))?,
    }
    Ok(())
}

/// The input: stdin, or a file (followed across rotation and truncation with `--follow`).
struct Input {
    path: PathBuf,
    reader: BufReader<Box<dyn Read>>,
    /// The open file (not stdin), for rotation and truncation checks.
    file: Option<FileState>,
    ctx: ParseContext,
}

struct FileState {
    identity: (u64, u64),
    /// Bytes consumed from the open file.
    position: u64,
}

/// Device and inode of a file.
#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    let created = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (0, created)
}

/// The year of `time` (UTC): what RFC 3164 timestamps without a year are read in.
fn year_of(time: SystemTime) -> i32 {
    let micros = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    i32::try_from(CivilTime::from_micros(micros).year).unwrap_or(1970)
}

impl Input {
    fn open(path: &Path) -> Result<Input, Failure> {
        if path.as_os_str() == "-" {
            let now = clock::reproducible_now()?.micros;
            let year = i32::try_from(CivilTime::from_micros(now).year).unwrap_or(1970);
            return Ok(Input {
                path: path.to_owned(),
                reader: BufReader::with_capacity(64 * 1024, Box::new(io::stdin())),
                file: None,
                ctx: ParseContext { default_year: year },
            });
        }
        let (file, meta) = open_file(path)?;
        Ok(Input {
            path: path.to_owned(),
            ctx: ParseContext {
                default_year: year_of(meta.modified().unwrap_or_else(|_| SystemTime::now())),
            },
            reader: BufReader::with_capacity(64 * 1024, Box::new(file)),
            file: Some(FileState {
                identity: identity(&meta),
                position: 0,
            }),
        })
    }

    /// Whether the next read may wait (nothing buffered): the moment to flush the output.
    fn drained(&self) -> bool {
        self.reader.buffer().is_empty()
    }

    /// The next line into `buf` (without its line break). `None` at EOF (for now).
    fn read_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineRead>> {
        let read = read_line_capped(&mut self.reader, buf, MAX_LINE_BYTES)?;
        if let (Some(file), Some(read)) = (&mut self.file, &read) {
            file.position += read.consumed;
        }
        Ok(read)
    }

    /// At EOF with `--follow`: what happened to the file since. The old file's remaining
    /// lines are read before a rotation is acted on (the caller drains them first).
    fn check_file(&mut self) -> io::Result<FileChange> {
        let Some(state) = &self.file else {
            return Ok(FileChange::None);
        };
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            // Renamed away and not yet recreated: keep reading the old one.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileChange::None),
            Err(e) => return Err(e),
        };
        if identity(&meta) != state.identity {
            return Ok(FileChange::Replaced);
        }
        if meta.len() < state.position {
            return Ok(FileChange::Truncated);
        }
        Ok(FileChange::None)
    }

    /// Opens the file now at the path (after a rotation).
    fn reopen(&mut self) -> io::Result<()> {
        let file = File::open(&self.path)?;
        let meta = file.metadata()?;
        self.ctx.default_year = year_of(meta.modified().unwrap_or_else(|_| SystemTime::now()));
        self.reader = BufReader::with_capacity(64 * 1024, Box::new(file));
        self.file = Some(FileState {
            identity: identity(&meta),
            position: 0,
        });
        Ok(())
    }

    /// Starts the (truncated) file over.
    fn rewind(&mut self) -> io::Result<()> {
        self.reopen()
    }
}

fn open_file(path: &Path) -> Result<(File, fs::Metadata), Failure> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} is a directory",
            path.display()
        )));
    }
    Ok((file, meta))
}

enum FileChange {
    None,
    Replaced,
    Truncated,
}

/// One read of [`read_line_capped`].
struct LineRead {
    /// Bytes taken from the input, line break included.
    consumed: u64,
    /// Whether the line ended with a line break (else it ended at EOF, for now).
    complete: bool,
    /// Whether the line was longer than the cap (its excess was skipped).
    too_long: bool,
}

/// Reads up to and including the next `\n`, keeping at most `cap` bytes of the line in `buf`
/// (appending to what a previous incomplete read left there). `None` at EOF with nothing read.
fn read_line_capped(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<LineRead>> {
    let mut consumed = 0u64;
    let mut too_long = buf.len() > cap;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed > 0).then_some(LineRead {
                consumed,
                complete: false,
                too_long,
            }));
        }
        let (take, done) = match memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        let keep = if done { take - 1 } else { take };
        if keep > room {
            too_long = true;
        }
        buf.extend_from_slice(&available[..keep.min(room)]);
        reader.consume(take);
        consumed += take as u64;
        if done {
            return Ok(Some(LineRead {
                consumed,
                complete: true,
                too_long,
            }));
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn detect_stream(
    input: &mut Input,
    serving: &mut Serving,
    out: &mut Sink,
    stats: &mut Stats,
    follow: bool,
) -> Result<(), Stop> {
    let closed = |e: io::Error| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::Closed
        } else {
            Stop::Failed(Failure::usage(
                anyhow::Error::new(e).context("cannot write stdout"),
            ))
        }
    };
    let read_failed = |e: io::Error, path: &Path| {
        Stop::Failed(Failure::usage(
            anyhow::Error::new(e).context(format!("cannot read {}", display(path))),
        ))
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut first = true;
    // A new file is at the path; the old one is being read to its end.
    let mut rotating = false;
    loop {
        if input.drained() {
            out.flush().map_err(closed)?;
        }
        serving.poll();
        let read = input
            .read_line(&mut buf)
            .map_err(|e| read_failed(e, &input.path))?;
        match read {
            Some(read) if read.complete || !follow => {
                if first && !buf.trim_ascii().is_empty() {
                    first = false;
                    if is_whole_export(&buf) {
                        if follow {
                            return Err(Stop::Failed(Failure::usage(anyhow::anyhow!(
                                "{} is a JSON export; --follow reads logs line by line (raw lines or NDJSON records)",
                                display(&input.path)
                            ))));
                        }
                        buf.push(b'\n');
                        return whole_export(input, buf, serving, out, stats);
                    }
                }
                stats.lines += 1;
                if read.too_long {
                    stats.bad_line(
                        Place::Line(stats.lines),
                        MAX_LINE_BYTES + 1,
                        &format!("line longer than {MAX_LINE_BYTES} bytes"),
                    );
                } else {
                    let place = Place::Line(stats.lines);
                    one_line(
                        &buf,
                        line_index(stats.lines),
                        place,
                        input.ctx,
                        serving,
                        out,
                        stats,
                    )
                    .map_err(closed)?;
                }
                buf.clear();
            }
            // Part of a line that is still being written: wait for the rest.
            Some(_) => {}
            None if !follow => return Ok(()),
            None => {
                match input
                    .check_file()
                    .map_err(|e| read_failed(e, &input.path))?
                {
                    FileChange::None => {
                        out.flush().map_err(closed)?;
                        std::thread::sleep(FOLLOW_POLL);
                    }
                    FileChange::Replaced if !rotating => {
                        // Lines the writer added to the old file before it moved on come
                        // first: read it to its end once more.
                        rotating = true;
                    }
                    FileChange::Replaced => {
                        rotating = false;
                        // The old file is finished: its last line, even without a line
                        // break, is complete.
                        if !buf.is_empty() {
                            stats.lines += 1;
                            let (index, place) =
                                (line_index(stats.lines), Place::Line(stats.lines));
                            one_line(&buf, index, place, input.ctx, serving, out, stats)
                                .map_err(closed)?;
                            buf.clear();
                        }
                        input.reopen().map_err(|e| read_failed(e, &input.path))?;
                    }
                    FileChange::Truncated => {
                        buf.clear();
                        input.rewind().map_err(|e| read_failed(e, &input.path))?;
                    }
                }
            }
        }
    }
}

/// The entry index of line `number` (from 1): its 0-based line number.
fn line_index(number: u64) -> usize {
    usize::try_from(number - 1).unwrap_or(usize::MAX)
}

/// Reads, scores and writes one line, whose entry gets `index`.
fn one_line(
    bytes: &[u8],
    index: usize,
    place: Place,
    ctx: ParseContext,
    serving: &mut Serving,
    out: &mut Sink,
    stats: &mut Stats,
) -> io::Result<()> {
    let line = match mcp_train_core::agent::line_text(bytes) {
        Ok(line) => line,
        Err(column) => {
            stats.bad_line(place, column, "not valid UTF-8");
            return Ok(());
        }
    };
    if line.trim().is_empty() {
        return Ok(());
    }
    let record = match read_line_record(line, index, &ctx, serving.detector.agent())
        .map_err(|e| (e.column, e.message))
    {
        Ok(record) => record,
        Err((column, message)) => {
            stats.bad_line(place, column, &message);
            return Ok(());
        }
    };
    stats.parsed += 1;
    score(&record, place, serving, out, stats)
}

fn score(
    record: &Record<'_>,
    place: Place,
    serving: &mut Serving,
    out: &mut Sink,
    stats: &mut Stats,
) -> io::Result<()> {
    let report = if out.all {
        serving.detector.assess(record).map(Some)
    } else {
        serving.detector.detect(record)
    };
    match report {
        Ok(Some(report)) => {
            stats.anomalies += u64::from(report.inference.is_anomaly);
            out.write(&report)
        }
        Ok(None) => Ok(()),
        Err(e) => {
            stats.bad_line(place, 1, &e.to_string());
            Ok(())
        }
    }
}

/// A whole JSON export: read to the end, records streamed in stable timestamp order.
fn whole_export(
    input: &mut Input,
    mut bytes: Vec<u8>,
    serving: &mut Serving,
    out: &mut Sink,
    stats: &mut Stats,
) -> Result<(), Stop> {
    let config = mcp_train::fs::config_dir::load_config(None).map_err(Failure::from)?;
    let limit = config
        .training
        .limits
        .max_export_mb
        .saturating_mul(1024 * 1024);
    (&mut input.reader)
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Failure::usage(
                anyhow::Error::new(e).context(format!("cannot read {}", display(&input.path))),
            )
        })?;
    let parsed = parse_export_for_detection(&bytes, &config.training.validation)
        .with_context(|| format!("cannot read {}", display(&input.path)))
        .map_err(Failure::invalid)?;
    let report = parsed.report;
    for group in &report.errors {
        for issue in &group.examples {
            eprintln!("{issue}");
        }
    }
    let records = parsed.export.records;
    stats.lines += report.records_seen as u64;
    stats.bad += report.dropped.as_ref().map_or(0, |d| d.count as u64);
    stats.parsed += records.len() as u64;
    for record in &records {
        serving.poll();
        let place = Place::Line(record.index as u64 + 1);
        score(record, place, serving, out, stats).map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Stop::Closed
            } else {
                Stop::Failed(Failure::usage(anyhow::Error::new(e)))
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_lines_and_partial_reads() {
        let mut reader = io::Cursor::new(b"ab\ncdefgh\nij".to_vec());
        let mut buf = Vec::new();
        let r = read_line_capped(&mut reader, &mut buf, 4).unwrap().unwrap();
        assert!(r.complete && !r.too_long && r.consumed == 3);
        assert_eq!(buf, b"ab");
        buf.clear();
        let r = read_line_capped(&mut reader, &mut buf, 4).unwrap().unwrap();
        assert!(r.complete && r.too_long && r.consumed == 7);
        assert_eq!(buf, b"cdef");
        buf.clear();
        let r = read_line_capped(&mut reader, &mut buf, 4).unwrap().unwrap();
        assert!(!r.complete && r.consumed == 2);
        assert!(read_line_capped(&mut reader, &mut buf, 4)
            .unwrap()
            .is_none());
        assert_eq!(buf, b"ij");
    }

    #[test]
    fn whole_exports_are_told_from_lines() {
        assert!(is_whole_export(b"["));
        assert!(is_whole_export(b"{"));
        assert!(is_whole_export(b"  {\"export_metadata\": {},"));
        assert!(is_whole_export(b"{\"data\": []}"));
        assert!(!is_whole_export(
            b"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"m\"}"
        ));
        assert!(!is_whole_export(b"Dec  3 17:50:14 host dnsmasq[1]: query"));
        // Broken JSON on one line is a bad line, not an export.
        assert!(!is_whole_export(b"{\"timestamp\": 1,,}"));
    }
}
