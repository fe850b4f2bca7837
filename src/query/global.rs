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
    // Stills tied with the last one kept stay until their paths are
    // known: which of several identical stills is listed must not depend
    // on the ids a particular build of the index gave them.
    let top = top.max(1);
    if let Some(last) = cands.get(top - 1).map(|c| c.score) {
        let tied = cands[top..].iter().take_while(|c| c.score == last).count();
        cands.truncate(top + tied);
    }
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
    listed.truncate(top);
    Ok(listed)
}

/// The frame's hashes in each [`View`]. Inverting a picture's tones
/// negates its DCT coefficients (all but the mean), so each hash of the
/// negative is the complement of the positive's: exactly for PDQ, within
/// a bit or two for phash (whose median includes the mean).
fn views(fp: &Fingerprint, v: &Variants) -> [(View, u64, [u64; 4]); 4] {
    let phash = fp.phash.unwrap_or(0);
    let (pdq, pdq_mirror) = (v.pdq_dihedral[0].0, v.pdq_dihedral[MIRROR_VARIANT].0);
    [
        (View::Original, phash, pdq),
        (View::Mirrored, v.phash_mirror, pdq_mirror),
        (View::Negative, !phash, pdq.map(|w| !w)),
        (
            View::NegativeMirrored,
            !v.phash_mirror,
            pdq_mirror.map(|w| !w),
        ),
    ]
}

fn candidates(catalog: &Catalog, fp: &Fingerprint, v: &Variants, t: &Thresholds) -> Vec<Candidate> {
    let mut ids = BTreeSet::new();
    let mut hits: Vec<Hit> = Vec::new();
    for (view, phash, pdq) in views(fp, v) {
        catalog.phash.search(&[phash], t.list_phash, &mut hits);
        ids.extend(hits.iter().map(|h| h.id));
        // A PDQ search costs ten phash searches at a million stills
        // (README, Speed): negatives are looked up by phash only, and
        // their PDQ distance is still measured on what phash finds.
        if matches!(view, View::Original | View::Mirrored) {
            catalog.pdq.search(&pdq, t.list_pdq, &mut hits);
            ids.extend(hits.iter().map(|h| h.id));
        }
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
    views(fp, v)
        .into_iter()
        .map(|(view, phash, pdq)| distances(catalog, id, view, phash, &pdq, t))
        .min_by(|a, b| a.score.total_cmp(&b.score))
        .unwrap_or(Candidate {
            id,
            phash_distance: 64,
            pdq_distance: 256,
            view: View::Original,
            score: f32::MAX,
        })
}

/// The global distances of reference `id` to the frame in one `view`
/// (the local stage's, for a still it decided on).
pub(crate) fn candidate_in(
    catalog: &Catalog,
    id: u32,
    fp: &Fingerprint,
    v: &Variants,
    t: &Thresholds,
    view: View,
) -> Candidate {
    let all = views(fp, v);
    let (_, phash, pdq) = all.into_iter().find(|w| w.0 == view).unwrap_or(all[0]);
    distances(catalog, id, view, phash, &pdq, t)
}

fn distances(
    catalog: &Catalog,
    id: u32,
    view: View,
    phash: u64,
    pdq: &[u64; 4],
    t: &Thresholds,
) -> Candidate {
    let r_ph = catalog.phash.hash(id).map_or(0, |h| h[0]);
    let r_pdq = catalog.pdq.hash(id).copied().unwrap_or_default();
    let (dp, dq) = ((phash ^ r_ph).count_ones(), distance(pdq, &r_pdq));
    Candidate {
        id,
        phash_distance: dp,
        pdq_distance: dq,
        view,
        score: Candidate::score_of(dp, dq, t),
    }
}

#[cfg(test)]
mod tests {
    use super::views;
    use crate::attribute::View;
    use crate::fingerprint::Fingerprinter;
    use crate::synth::Series;
    use image::DynamicImage;

    /// The negative views are only worth their lookups if the hashes of
    /// a negative really are the complements of the positive's.
    #[test]
    fn a_negative_hashes_to_the_complement() {
        let mut fp = Fingerprinter::new();
        let mut hash = |img: image::RgbImage| {
            let (w, h) = img.dimensions();
            let (f, v) = fp.fingerprint_query(&DynamicImage::ImageRgb8(img), w, h);
            views(&f, &v)
        };
        for seed in [3, 17, 40] {
            let frame = Series::new(seed).frame(2.0, 320, 180);
            let mut inverted = frame.clone();
            image::imageops::invert(&mut inverted);
            let (pos, neg) = (hash(frame), hash(inverted));
            for (p, n) in [(0, 2), (1, 3)] {
                assert_eq!(pos[p].0, [View::Original, View::Mirrored][p]);
                assert_eq!(neg[n].0, [View::Negative, View::NegativeMirrored][p]);
                // The negative view of the negative is the positive.
                let phash_bits = (pos[p].1 ^ neg[n].1).count_ones();
                assert!(phash_bits <= 2, "seed {seed} view {p}: {phash_bits} bits");
                assert_eq!(pos[p].2, neg[n].2, "seed {seed} view {p}: PDQ");
                // And it is far from the negative's own hash.
                assert!((pos[p].1 ^ neg[p].1).count_ones() > 40);
            }
        }
    }
}
