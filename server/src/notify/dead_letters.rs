//! The dead-letter list: messages that could not be delivered after every retry, one JSON line
//! each in `DATA_DIR/notifications/dead-letters.jsonl`. Each entry is appended with one write
//! and flushed to disk before it counts; a line torn by a crash is closed off by the next append
//! and skipped (and counted as damaged) when the list is read.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Where the list lives under the data directory.
pub const DEAD_LETTERS_FILE: &str = "notifications/dead-letters.jsonl";

/// A message that was not delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message id (the webhook's `webhook-id`).
    pub id: String,
    /// When it was given up, RFC 3339 UTC.
    pub at: String,
    pub channel: String,
    /// `webhook`, `slack` or `email`.
    pub channel_kind: String,
    /// The event type.
    pub event: String,
    pub attempts: u32,
    /// The last attempt's error.
    pub error: String,
    /// The message's title.
    pub title: String,
    /// The event's data (the webhook payload's `data`), to replay it by hand.
    pub data: serde_json::Value,
}

/// The list on disk; appends from one process are serialised.
#[derive(Debug)]
pub struct DeadLetters {
    path: PathBuf,
    /// Entries that parse.
    count: Mutex<usize>,
}

/// A page of the list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetterPage {
    pub total: usize,
    /// Lines that do not parse (torn by a crash).
    pub damaged: usize,
    pub items: Vec<DeadLetter>,
}

impl DeadLetters {
    /// The list of `data_dir` (the file is created by the first append).
    pub fn open(data_dir: &Path) -> io::Result<DeadLetters> {
        let path = data_dir.join(DEAD_LETTERS_FILE);
        let list = DeadLetters {
            path,
            count: Mutex::new(0),
        };
        let page = list.read(0)?;
        *list.count.lock().unwrap_or_else(|p| p.into_inner()) = page.total;
        Ok(list)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries that parse.
    pub fn len(&self) -> usize {
        *self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `letter`, durably; returns the number of entries.
    pub fn append(&self, letter: &DeadLetter) -> io::Result<usize> {
        let mut line = serde_json::to_vec(letter).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)?;
        // A line torn by a crash is ended first, so the new entry starts a line of its own.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        file.write_all(&line)?;
        file.sync_data()?;
        *count += 1;
        Ok(*count)
    }

    /// The newest `limit` entries (all with 0), newest first.
    pub fn read(&self, limit: usize) -> io::Result<DeadLetterPage> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut items = Vec::new();
        let mut damaged = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<DeadLetter>(line) {
                Ok(d) => items.push(d),
                Err(_) => damaged += 1,
            }
        }
        let total = items.len();
        items.reverse();
        if limit > 0 {
            items.truncate(limit);
        }
        Ok(DeadLetterPage {
            total,
            damaged,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(n: u32) -> DeadLetter {
        DeadLetter {
            id: format!("msg_{n}"),
            at: "2026-12-04T03:00:00Z".to_owned(),
            channel: "hook".to_owned(),
            channel_kind: "webhook".to_owned(),
            event: "model.deployed".to_owned(),
            attempts: 3,
            error: "HTTP 500".to_owned(),
            title: "t".to_owned(),
            data: serde_json::json!({"n": n}),
        }
    }

    #[test]
    fn entries_survive_reopening_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let list = DeadLetters::open(dir.path()).expect("opens");
        assert_eq!(list.append(&letter(1)).expect("appends"), 1);
        // A crash in the middle of the second append.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(list.path())
            .expect("opens");
        f.write_all(br#"{"id":"msg_torn","at":"#).expect("writes");
        drop(f);
        let list = DeadLetters::open(dir.path()).expect("reopens");
        assert_eq!(list.len(), 1);
        assert_eq!(list.append(&letter(3)).expect("appends"), 2);
        let page = DeadLetters::open(dir.path())
            .expect("reopens")
            .read(0)
            .expect("reads");
        assert_eq!((page.total, page.damaged), (2, 1));
        let ids: Vec<&str> = page.items.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["msg_3", "msg_1"]);
        assert_eq!(list.read(1).expect("reads").items.len(), 1);
    }
}
