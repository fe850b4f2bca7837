//! The second search stage, for frames the global hashes leave unknown.
//!
//! Visual words shortlist the stills that share the most patches with the
//! frame (tantivy, idf-weighted, the frame and its mirror image at once);
//! each is verified geometrically and checked for dense agreement, and
//! the best-scoring one is the stage's answer.

use crate::attribute::LocalEvidence;
use crate::index::IndexError;
use crate::index::catalog::Catalog;
use crate::index::schema::RefRecord;
use crate::local::{LocalFeatures, QueryFeatures, agreement, verify};

/// The local stage's best reference for a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalResult {
    /// Reference id in the catalog.
    pub id: u32,
    /// The reference still.
    pub record: RefRecord,
    /// Geometry and agreement.
    pub evidence: LocalEvidence,
}

/// Verifies the `k` stills of the shortlist against `q`; the best by score,
/// ties broken by path. Stills without local features (imported records)
/// are skipped.
pub(crate) fn best(
    catalog: &Catalog,
    q: &QueryFeatures,
    k: usize,
) -> Result<Option<LocalResult>, IndexError> {
    let mut best: Option<LocalResult> = None;
    for id in catalog.similar(&q.words, k)? {
        let record = catalog.record(id)?;
        let Some(features) = record
            .local
            .as_deref()
            .and_then(|b| LocalFeatures::from_bytes(b).ok())
        else {
            continue;
        };
        let Some(v) = verify(
            &q.keypoints,
            q.working.dimensions(),
            &features.keypoints,
            features.size,
        ) else {
            continue;
        };
        let a = agreement(&q.working, &features.thumb, features.size, &v);
        let evidence = LocalEvidence::new(&v, &a, features.size);
        let better = best.as_ref().is_none_or(|b| {
            evidence.score > b.evidence.score
                || (evidence.score == b.evidence.score && record.path < b.record.path)
        });
        if better {
            best = Some(LocalResult {
                id,
                record,
                evidence,
            });
        }
    }
    Ok(best)
}
