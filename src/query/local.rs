//! The second search stage, for frames the global hashes leave unknown.
//!
//! Visual words shortlist the stills that share the most patches with the
//! frame (tantivy, BM25), once for the frame and once for its mirror image;
//! each still is verified geometrically in the view(s) that retrieved it
//! and checked for dense agreement, and the best-scoring one is the stage's
//! answer. Verifying only the retrieving view halves the matching cost.

use crate::attribute::LocalEvidence;
use crate::index::IndexError;
use crate::index::catalog::{Catalog, Shortlisted};
use crate::index::schema::RefRecord;
use crate::local::{LocalFeatures, QueryFeatures, agreement, verify_view};

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

/// Verifies the `k` stills of the shortlist against `q`, in retrieval
/// order; the best by score, ties broken by path. Stops early at a still
/// scoring `stop_at` or more (beyond doubt: the rest cannot change the
/// verdict, only which neighbouring still is named). Stills without local
/// features (imported records) are skipped.
pub(crate) fn best(
    catalog: &Catalog,
    q: &QueryFeatures,
    k: usize,
    stop_at: f32,
) -> Result<Option<LocalResult>, IndexError> {
    let shortlist = catalog.similar([&q.words, &q.mirrored_words], k)?;
    let mut best: Option<LocalResult> = None;
    for Shortlisted { id, retrieved, .. } in shortlist {
        let [straight, flipped] = retrieved;
        let record = catalog.record(id)?;
        let Some(features) = record
            .local
            .as_deref()
            .and_then(|b| LocalFeatures::from_bytes(b).ok())
        else {
            continue;
        };
        let size = q.working.image.dimensions();
        let view = |mirrored: bool| {
            let kps = if mirrored { &q.mirrored } else { &q.keypoints };
            verify_view(kps, size, &features.keypoints, features.size, mirrored)
        };
        let v = match (
            straight.then(|| view(false)).flatten(),
            flipped.then(|| view(true)).flatten(),
        ) {
            (Some(s), Some(f)) => Some(if f.inliers > s.inliers { f } else { s }),
            (s, f) => s.or(f),
        };
        let Some(v) = v else {
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
        if evidence.score >= stop_at {
            break;
        }
    }
    Ok(best)
}
