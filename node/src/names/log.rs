//! The embedded name server's file: an append-only log of group records,
//! one JSON line each, fsynced before the answer goes out.
//!
//! Why a log and not a storage crate such as redb: what is written is tiny
//! and rare (a group's whole durable record, on a change of who is master
//! or of the configuration; renewals are not written, N8), every write must
//! reach the disk before the answer anyway, and reading back is "the last
//! line of each group wins". That is one `write_all` and one `sync_data`
//! per change and a rewrite at start, with no new dependency to build or
//! trust. A whole record per line means no line depends on another.

use stagger_core::names::GroupRecord;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Appends beyond this many lines since the last rewrite trigger one.
const REWRITE_AFTER: usize = 10_000;

/// Why the file could not be read or written. The name server's fault,
/// not the caller's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} {path}: {reason}")]
pub struct StorageError {
    pub action: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    group: String,
    record: GroupRecord,
}

pub(crate) struct Log {
    path: PathBuf,
    file: File,
    lines: usize,
}

impl Log {
    /// Opens (or creates) `dir/names.log`, reads it back, and rewrites it
    /// with one line per group. A last line cut short by a crash is
    /// dropped: its write never finished, so it was never answered. Any
    /// other bad line refuses the start, naming it.
    pub(crate) fn open(dir: &Path) -> Result<(Log, BTreeMap<String, GroupRecord>), StorageError> {
        let err = |action, path: &Path, e: io::Error| StorageError { action, path: path.to_owned(), reason: e.to_string() };
        fs::create_dir_all(dir).map_err(|e| err("create", dir, e))?;
        let path = dir.join("names.log");
        let mut records = BTreeMap::new();
        if path.exists() {
            let file = File::open(&path).map_err(|e| err("open", &path, e))?;
            let lines: Vec<String> = BufReader::new(file).lines().collect::<Result<_, _>>().map_err(|e| err("read", &path, e))?;
            for (i, text) in lines.iter().enumerate() {
                match serde_json::from_str::<Line>(text) {
                    Ok(line) => {
                        records.insert(line.group, line.record);
                    }
                    Err(_) if i + 1 == lines.len() => {}
                    Err(e) => return Err(StorageError { action: "read", path, reason: format!("line {}: {e}", i + 1) }),
                }
            }
        }
        let log = Log { file: rewrite(&path, &records)?, path, lines: records.len() };
        Ok((log, records))
    }

    /// Appends the records and waits until they are on disk.
    pub(crate) fn append<'a>(&mut self, records: impl IntoIterator<Item = (&'a String, &'a GroupRecord)>) -> Result<(), StorageError> {
        let mut text = String::new();
        for (group, record) in records {
            text += &serde_json::to_string(&Line { group: group.clone(), record: record.clone() }).expect("records serialize");
            text.push('\n');
            self.lines += 1;
        }
        let path = &self.path;
        let err = |action, e: io::Error| StorageError { action, path: path.clone(), reason: e.to_string() };
        self.file.write_all(text.as_bytes()).map_err(|e| err("write", e))?;
        self.file.sync_data().map_err(|e| err("sync", e))
    }

    /// Whether the log has grown enough to be rewritten.
    pub(crate) fn wants_rewrite(&self) -> bool {
        self.lines > REWRITE_AFTER
    }

    /// Replaces the file with one line per group.
    pub(crate) fn rewrite(&mut self, records: &BTreeMap<String, GroupRecord>) -> Result<(), StorageError> {
        self.file = rewrite(&self.path, records)?;
        self.lines = records.len();
        Ok(())
    }
}

/// Writes `records` to a new file beside `path`, syncs it, renames it over
/// `path` and syncs the directory, so that a crash leaves the old file or
/// the new one, never half of one. Returns the new file open for appending.
fn rewrite(path: &Path, records: &BTreeMap<String, GroupRecord>) -> Result<File, StorageError> {
    let tmp = path.with_extension("log.new");
    let err = |action, path: &Path, e: io::Error| StorageError { action, path: path.to_owned(), reason: e.to_string() };
    let mut text = String::new();
    for (group, record) in records {
        text += &serde_json::to_string(&Line { group: group.clone(), record: record.clone() }).expect("records serialize");
        text.push('\n');
    }
    let mut file = File::create(&tmp).map_err(|e| err("create", &tmp, e))?;
    file.write_all(text.as_bytes()).map_err(|e| err("write", &tmp, e))?;
    file.sync_all().map_err(|e| err("sync", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| err("rename", &tmp, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| err("sync", dir, e))?;
    OpenOptions::new().append(true).open(path).map_err(|e| err("open", path, e))
}
