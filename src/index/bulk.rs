//! Loads ready-made records into an index without decoding anything: hash
//! lists from other tools, and synthetic catalogues for benchmarks.

use std::path::Path;

use tantivy::IndexWriter;
use tantivy::directory::error::LockError;

use super::IndexError;
use super::refresh::{commit, open_or_create};
use super::schema::RefRecord;

/// Adds `records` to the index at `dir` (created if missing), committing
/// every `checkpoint` records. Returns how many were added.
pub fn import(
    dir: &Path,
    records: impl IntoIterator<Item = RefRecord>,
    checkpoint: usize,
) -> Result<usize, IndexError> {
    let (index, fields) = open_or_create(dir)?;
    let mut writer: IndexWriter = index.writer(256 << 20).map_err(|e| match e {
        tantivy::TantivyError::LockFailure(LockError::LockBusy, _) => {
            IndexError::Locked(dir.to_path_buf())
        }
        e => IndexError::tantivy(dir, e),
    })?;
    let mut added = 0;
    for record in records {
        writer
            .add_document(fields.to_doc(&record))
            .map_err(|e| IndexError::tantivy(dir, e))?;
        added += 1;
        if added % checkpoint.max(1) == 0 {
            commit(dir, &mut writer)?;
        }
    }
    commit(dir, &mut writer)?;
    writer
        .wait_merging_threads()
        .map_err(|e| IndexError::tantivy(dir, e))?;
    Ok(added)
}
