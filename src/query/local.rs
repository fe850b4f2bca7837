//! The second search stage, for frames the global hashes leave unknown.
//!
//! Visual words shortlist the stills that share the most patches with the
//! frame (tantivy, BM25), once for the frame and once for its mirror image;
//! each still is verified geometrically in the view(s) that retrieved it
//! and checked for dense agreement, and the best-scoring one is the stage's
//! answer. Verifying only the retrieving view halves the matching cost.

use crate::attribute::LocalEvidence;
use crate::index::IndexError;
use crate::index::catalog::Catalog;
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

/// Verifies the `k` stills of the shortlist against `q`; the best by score,
/// ties broken by path. Stills without local features (imported records)
/// are skipped.
pub(crate) fn best(
    catalog: &Catalog,
    q: &QueryFeatures,
    k: usize,
) -> Result<Option<LocalResult>, IndexError> {
    // id -> (best retrieval score, retrieved straight, retrieved mirrored)
    let mut shortlist: std::collections::BTreeMap<u32, (f32, bool, bool)> = Default::default();
    for (mirrored, words) in [(false, &q.words), (true, &q.mirrored_words)] {
        for (id, score) in catalog.similar(words, k)? {
            let e = shortlist.entry(id).or_insert((score, false, false));
            e.0 = e.0.max(score);
            if mirrored {
                e.2 = true;
            } else {
                e.1 = true;
            }
        }
    }
    let mut order: Vec<(u32, (f32, bool, bool))> = shortlist.into_iter().collect();
    order.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(&b.0)));
    order.truncate(k);
    let mut best: Option<LocalResult> = None;
    for (id, (_, straight, flipped)) in order {
        let record = catalog.record(id)?;
        let Some(features) = record
            .local
            .as_deref()
            .and_then(|b| LocalFeatures::from_bytes(b).ok())
        else {
            continue;
        };
        let size = q.working.dimensions();
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
    }
    Ok(best)
}
