//! The global stage: phash and PDQ neighbours of a frame, ranked.

use std::collections::BTreeSet;

use super::Listed;
use crate::attribute::{self, Candidate, Thresholds, View};
use crate::fingerprint::{Fingerprint, MIRROR_VARIANT, Variants};
use crate::index::IndexError;
use crate::index::catalog::Catalog;
use crate::search::{Hit, distance};

/// The `top` best references of a fingerprint, best first (equal scores:
/// the smaller path first, so output never depends on segment layout).
pub(crate) fn listed(
    catalog: &Catalog,
    fp: &Fingerprint,
    v: &Variants,
    t: &Thresholds,
    top: usize,
) -> Result<Vec<Listed>, IndexError> {
    let mut cands = candidates(catalog, fp, v, t);
    attribute::rank(&mut cands);
    cands.truncate(top.max(1));
    let mut listed = Vec::with_capacity(cands.len());
    for c in cands {
        listed.push(Listed {
            candidate: c,
            record: catalog.record(c.id)?,
        });
    }
    listed.sort_by(|a, b| {
        a.candidate
            .score
            .total_cmp(&b.candidate.score)
            .then_with(|| a.record.path.cmp(&b.record.path))
    });
    Ok(listed)
}

fn candidates(catalog: &Catalog, fp: &Fingerprint, v: &Variants, t: &Thresholds) -> Vec<Candidate> {
    let mut ids = BTreeSet::new();
    let mut hits: Vec<Hit> = Vec::new();
    let phash = fp.phash.unwrap_or(0);
    for q in [phash, v.phash_mirror] {
        catalog.phash.search(&[q], t.list_phash, &mut hits);
        ids.extend(hits.iter().map(|h| h.id));
    }
    let pdq = [v.pdq_dihedral[0], v.pdq_dihedral[MIRROR_VARIANT]];
    for q in pdq {
        catalog.pdq.search(&q.0, t.list_pdq, &mut hits);
        ids.extend(hits.iter().map(|h| h.id));
    }
    ids.into_iter()
        .map(|id| candidate(catalog, id, fp, v, t))
        .collect()
}

/// The global distances of reference `id` to the frame, best view.
pub(crate) fn candidate(
    catalog: &Catalog,
    id: u32,
    fp: &Fingerprint,
    v: &Variants,
    t: &Thresholds,
) -> Candidate {
    let phash = fp.phash.unwrap_or(0);
    let pdq = [v.pdq_dihedral[0], v.pdq_dihedral[MIRROR_VARIANT]];
    let r_ph = catalog.phash.hash(id).map_or(0, |h| h[0]);
    let r_pdq = catalog.pdq.hash(id).copied().unwrap_or_default();
    let views = [
        (
            View::Original,
            (phash ^ r_ph).count_ones(),
            distance(&pdq[0].0, &r_pdq),
        ),
        (
            View::Mirrored,
            (v.phash_mirror ^ r_ph).count_ones(),
            distance(&pdq[1].0, &r_pdq),
        ),
    ];
    views
        .into_iter()
        .map(|(view, dp, dq)| Candidate {
            id,
            phash_distance: dp,
            pdq_distance: dq,
            view,
            score: Candidate::score_of(dp, dq, t),
        })
        .min_by(|a, b| a.score.total_cmp(&b.score))
        .unwrap_or(Candidate {
            id,
            phash_distance: 64,
            pdq_distance: 256,
            view: View::Original,
            score: f32::MAX,
        })
}
