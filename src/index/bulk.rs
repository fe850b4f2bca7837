//! Loads ready-made records into an index without decoding anything: hash
//! lists from other tools, and synthetic catalogues for benchmarks.

use std::path::Path;

use super::IndexError;
use super::refresh::{MERGE_AT_SEGMENTS, commit, open_or_create, open_writer};
use super::schema::RefRecord;

/// Adds `records` to the index at `dir` (created if missing), committing
/// every `checkpoint` records. Returns how many were added.
pub fn import(
    dir: &Path,
    records: impl IntoIterator<Item = RefRecord>,
    checkpoint: usize,
) -> Result<usize, IndexError> {
    let (index, fields) = open_or_create(dir)?;
    let mut writer = open_writer(dir, &index, 256 << 20, MERGE_AT_SEGMENTS)?;
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
