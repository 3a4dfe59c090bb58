//! Reading inputs and writing outputs: files or stdin/stdout, exports with the configured
//! limits.

use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use mcp_train::fs::config_dir::load_config;
use mcp_train_core::config::Config;
use mcp_train_core::export::{
    parse_export_with_progress, ExportError, ParsedExport, ValidateOptions,
};

use super::args::ExportArgs;
use super::{progress, Failure};

/// Whether a path means stdin/stdout.
fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads a whole input file (or stdin for "-"), refusing more than `limit_mb` MiB.
pub fn read_input(path: &Path, limit_mb: u64) -> Result<Vec<u8>, Failure> {
    let limit = limit_mb.saturating_mul(1024 * 1024);
    let too_big = |size: u64| {
        Failure::invalid(anyhow::anyhow!(
            "{} is {:.1} MiB, more than the limit of {limit_mb} MiB (limits.max_export_mb in training_config.yaml)",
            display(path),
            size as f64 / (1024.0 * 1024.0)
        ))
    };
    let mut bytes = Vec::new();
    if is_dash(path) {
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
    } else {
        let file =
            fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > limit {
            return Err(too_big(size));
        }
        bytes = read_file(file, size, limit)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A file of `size` bytes (at most `limit + 1` read). The parts of a big file are read on all
/// cores, each into its own stretch of the buffer, so the copying and the first touch of the
/// buffer's pages are shared out; a file that changed size meanwhile is read again in one go.
fn read_file(mut file: fs::File, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    /// Files below this are read on the calling thread.
    const PARALLEL_MIN: usize = 16 << 20;
    let size = usize::try_from(size).unwrap_or(0);
    let threads = mcp_train_core::parallel::threads();
    if size >= PARALLEL_MIN && threads > 1 {
        let mut bytes = vec![0u8; size];
        let part = size.div_ceil(threads);
        let parts: Vec<_> = bytes.chunks_mut(part).enumerate().collect();
        let read = mcp_train_core::parallel::map(parts, |(k, buf)| {
            file.read_exact_at(buf, (k * part) as u64)
        })
        .into_iter()
        .collect::<io::Result<()>>();
        match read {
            Ok(()) => {
                // Whatever was appended since the size was taken, up to the limit.
                file.seek(SeekFrom::Start(size as u64))?;
                file.take((limit + 1).saturating_sub(size as u64))
                    .read_to_end(&mut bytes)?;
                return Ok(bytes);
            }
            // Shorter than it was: read what there is now.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                file.seek(SeekFrom::Start(0))?;
            }
            Err(e) => return Err(e),
        }
    }
    let mut bytes = Vec::with_capacity(size);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What raw log lines may leave out: the year of RFC 3164 timestamps is the file's modification
/// year (stdin: this year).
pub fn parse_context(path: &Path) -> mcp_train_core::agent::ParseContext {
    let modified = (!is_dash(path))
        .then(|| fs::metadata(path).and_then(|m| m.modified()).ok())
        .flatten()
        .unwrap_or_else(std::time::SystemTime::now);
    let micros = modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    mcp_train_core::agent::ParseContext {
        default_year: mcp_train_core::time::CivilTime::from_micros(micros).year as i32,
    }
}

/// Reads the file named in `args` with the configured limits.
pub fn read_export(args: &ExportArgs) -> Result<(Vec<u8>, ValidateOptions, Config), Failure> {
    let config = load_config(args.config.as_deref())?;
    let mut options = config.training.validation.clone();
    options.drop_invalid |= args.drop_invalid;
    let bytes = read_input(&args.file, config.training.limits.max_export_mb)?;
    Ok((bytes, options, config))
}

/// Parses with a spinner counting records.
pub fn parse<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    quiet: bool,
) -> Result<ParsedExport<'a>, ExportError> {
    let spinner = progress::spinner(quiet, "reading records");
    let tick = spinner.clone();
    let result = parse_export_with_progress(bytes, options, move |n| tick.set_position(n as u64));
    spinner.finish_and_clear();
    result
}

/// A name for messages: the path, or "stdin".
pub fn display(path: &Path) -> String {
    if is_dash(path) {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

/// An output that lands atomically: written to a temporary file beside the target, then renamed,
/// so an interrupted run never leaves a half-written file under the real name.
pub struct Output {
    target: Option<PathBuf>,
    temp: Option<PathBuf>,
    writer: BufWriter<Box<dyn Write>>,
}

impl Output {
    pub fn create(path: &Path) -> Result<Output, Failure> {
        if is_dash(path) {
            return Ok(Output {
                target: None,
                temp: None,
                writer: BufWriter::with_capacity(1 << 20, Box::new(io::stdout().lock())),
            });
        }
        let file_name = path.file_name().ok_or_else(|| {
            Failure::usage(anyhow::anyhow!("{} is not a file name", path.display()))
        })?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        let file =
            fs::File::create(&temp).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Output {
            target: Some(path.to_owned()),
            temp: Some(temp),
            writer: BufWriter::with_capacity(1 << 20, Box::new(file)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<Box<dyn Write>> {
        &mut self.writer
    }

    /// Flushes and moves the file into place.
    pub fn commit(mut self) -> Result<(), Failure> {
        let name = self
            .target
            .as_deref()
            .map(display)
            .unwrap_or_else(|| "stdout".into());
        self.writer
            .flush()
            .with_context(|| format!("cannot write {name}"))?;
        if let (Some(temp), Some(target)) = (self.temp.take(), self.target.as_ref()) {
            fs::rename(&temp, target).with_context(|| format!("cannot write {name}"))?;
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not committed: remove the partial temporary file.
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}
