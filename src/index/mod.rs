//! The on-disk reference index: one tantivy document per reference still.
//!
//! [`refresh()`] builds or updates it incrementally in checkpointed commits;
//! [`catalog::Catalog`] opens it for queries. The settings that made the
//! fingerprints travel in every commit's payload, so a query never compares
//! hashes made in different ways.

pub mod bulk;
pub mod catalog;
pub mod refresh;
pub mod schema;
mod words;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::DecodeMode;
use crate::fingerprint::FINGERPRINT_VERSION;

pub use self::refresh::{MERGE_AT_SEGMENTS, RefreshOptions, RefreshStats, refresh};

/// Version of the document layout; bumped when the schema changes.
pub const FORMAT_VERSION: u32 = 3;

/// Shorter side, in pixels, that indexing and querying decode to at least.
/// Global hashes need 64 px (PDQ); the margin keeps fast-mode hashes close
/// to full-decode ones.
pub const WORKING_MIN_SIDE: u32 = 256;

/// The decode mode used for references and queries alike.
pub const WORKING_DECODE: DecodeMode = DecodeMode::Fast {
    min_side: WORKING_MIN_SIDE,
};

/// What made an index's fingerprints. Stored in each commit's payload;
/// a query refuses an index whose settings differ from its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Document layout version.
    pub format_version: u32,
    /// Fingerprint algorithms version.
    pub fingerprint_version: u32,
    /// Decode mode used for the stills.
    pub decode: String,
    /// Hash algorithms stored.
    pub algorithms: Vec<String>,
    /// Local features version (extractor, visual words, stored layout).
    #[serde(default)]
    pub local_version: u32,
}

impl Settings {
    /// The settings this build of frametrace writes and expects.
    pub fn current() -> Settings {
        Settings {
            format_version: FORMAT_VERSION,
            fingerprint_version: FINGERPRINT_VERSION,
            decode: format!("{WORKING_DECODE:?}"),
            algorithms: ["phash", "dhash", "ahash", "pdq"]
                .map(String::from)
                .to_vec(),
            local_version: crate::local::LOCAL_VERSION,
        }
    }
}

/// What can go wrong with an index as a whole (bad single files are not
/// errors: they are counted and reported).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another `frametrace index` holds the writer lock.
    #[error("index is locked by another process: {0} (another `frametrace index` is running)")]
    Locked(PathBuf),
    /// No index at the path.
    #[error("no index at {0}: build one with `frametrace index <refs>... --index {0}`")]
    Missing(PathBuf),
    /// The index was made with other settings.
    #[error(
        "index at {path} was built with other settings ({found}); this frametrace needs \
         ({expected}). Rebuild it: rm -r {path} && frametrace index <refs>... --index {path}"
    )]
    Settings {
        /// Index folder.
        path: PathBuf,
        /// Settings found in the index.
        found: String,
        /// Settings this build needs.
        expected: String,
    },
    /// tantivy failed.
    #[error("index at {path}: {source}")]
    Tantivy {
        /// Index folder.
        path: PathBuf,
        /// The tantivy error.
        #[source]
        source: tantivy::TantivyError,
    },
    /// I/O on the index folder failed.
    #[error("index at {path}: {source}")]
    Io {
        /// Index folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl IndexError {
    pub(crate) fn tantivy(path: &Path, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Checks the settings recorded in the last commit of `index`. An index
/// with no commit yet (fresh) has no payload and passes.
pub(crate) fn check_settings(path: &Path, index: &tantivy::Index) -> Result<(), IndexError> {
    let metas = index
        .load_metas()
        .map_err(|e| IndexError::tantivy(path, e))?;
    let expected = Settings::current();
    let Some(payload) = metas.payload else {
        return if metas.segments.is_empty() {
            Ok(())
        } else {
            Err(settings_error(path, "none recorded".into(), &expected))
        };
    };
    match serde_json::from_str::<Settings>(&payload) {
        Ok(found) if found == expected => Ok(()),
        Ok(found) => Err(settings_error(path, describe(&found), &expected)),
        Err(_) => Err(settings_error(path, payload, &expected)),
    }
}

fn describe(s: &Settings) -> String {
    format!(
        "format {}, fingerprints v{}, decode {}, {}",
        s.format_version,
        s.fingerprint_version,
        s.decode,
        s.algorithms.join("+")
    )
}

fn settings_error(path: &Path, found: String, expected: &Settings) -> IndexError {
    IndexError::Settings {
        path: path.to_path_buf(),
        found,
        expected: describe(expected),
    }
}
