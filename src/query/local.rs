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
use crate::local::{LocalFeatures, QueryFeatures, agreement};

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

/// How far down the retrieval ranking the local stage looks for more
/// stills of a series it found partial evidence for.
const DEEP_RANKS: usize = 256;
/// Inliers that make a verified still worth following up: the frame
/// shows part of its picture, but not (enough of) this very still.
const FOLLOW_UP_INLIERS: u32 = 12;

/// Verifies the `k` stills of the shortlist against `q`, in retrieval
/// order; the best by score, ties broken by path. Stops early at a still
/// scoring `stop_at` or more (beyond doubt: the rest cannot change the
/// verdict, only which neighbouring still is named). Stills without local
/// features (imported records) are skipped.
///
/// When no still reaches `threshold` but the best one has
/// [`FOLLOW_UP_INLIERS`], the frame most likely shows another still of the
/// same series (a moment between indexed stills, whose figures have moved
/// while the set stayed): up to `k` more stills of that series, taken in
/// retrieval order from below the shortlist, are verified in the view that
/// found it. Retrieval alone ranks them low when notes and crops leave few
/// of the frame's words to the figures that tell the stills apart.
pub(crate) fn best(
    catalog: &Catalog,
    q: &QueryFeatures,
    k: usize,
    threshold: f32,
    stop_at: f32,
) -> Result<Option<LocalResult>, IndexError> {
    let (shortlist, deep) = catalog.similar_deep([&q.words, &q.mirrored_words], k, DEEP_RANKS)?;
    let mut best: Option<LocalResult> = None;
    for s in &shortlist {
        let found = check(catalog, q, s.id, s.retrieved)?;
        if keep(&mut best, found).is_some_and(|score| score >= stop_at) {
            return Ok(best);
        }
    }
    let Some(anchor) = best
        .as_ref()
        .filter(|b| b.evidence.score < threshold && b.evidence.inliers >= FOLLOW_UP_INLIERS)
    else {
        return Ok(best);
    };
    let series = anchor.record.meta.series.clone();
    let views = [!anchor.evidence.mirrored, anchor.evidence.mirrored];
    let ids: Vec<u32> = deep.iter().map(|s| s.id).collect();
    let same = catalog.in_series(&ids, &series)?;
    for id in ids
        .iter()
        .zip(same)
        .filter(|(_, s)| *s)
        .map(|(id, _)| *id)
        .take(k)
    {
        let found = check(catalog, q, id, views)?;
        if keep(&mut best, found).is_some_and(|score| score >= stop_at) {
            break;
        }
    }
    Ok(best)
}

/// Verifies still `id` in the views asked for (as it is, mirrored) and
/// checks the dense agreement of the better one.
fn check(
    catalog: &Catalog,
    q: &QueryFeatures,
    id: u32,
    [straight, flipped]: [bool; 2],
) -> Result<Option<LocalResult>, IndexError> {
    let record = catalog.record(id)?;
    let Some(features) = record
        .local
        .as_deref()
        .and_then(|b| LocalFeatures::from_bytes(b).ok())
    else {
        return Ok(None);
    };
    let view = |mirrored: bool| q.verify(&features, mirrored);
    let v = match (
        straight.then(|| view(false)).flatten(),
        flipped.then(|| view(true)).flatten(),
    ) {
        (Some(s), Some(f)) => Some(if f.inliers > s.inliers { f } else { s }),
        (s, f) => s.or(f),
    };
    Ok(v.map(|v| {
        let a = agreement(&q.working, &features.thumb, features.size, &v);
        LocalResult {
            id,
            record,
            evidence: LocalEvidence::new(&v, &a, features.size),
        }
    }))
}

/// Keeps `found` in `best` when it scores higher (ties: the smaller path);
/// returns its score.
fn keep(best: &mut Option<LocalResult>, found: Option<LocalResult>) -> Option<f32> {
    let found = found?;
    let score = found.evidence.score;
    let better = best.as_ref().is_none_or(|b| {
        score > b.evidence.score || (score == b.evidence.score && found.record.path < b.record.path)
    });
    if better {
        *best = Some(found);
    }
    Some(score)
}
