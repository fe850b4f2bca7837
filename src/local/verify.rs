//! Geometric verification of one query against one reference still.
//!
//! Shared visual words only say two images have similar patches somewhere;
//! a leak is the same picture only if many of those patches agree on one
//! placement. We match descriptors (Hamming, Lowe ratio test, one match per
//! reference keypoint), fit a similarity transform (scale, rotation,
//! translation) with seeded RANSAC over two-point samples, check each match's
//! own scale and orientation against the model, refine by least squares, and
//! report the inliers and the part of the reference the frame covers. The
//! mirrored query is tried too.

use super::matcher::{Matcher, PROBE_TABLES, Pair, probe_keys};
use super::similarity::{Affine, Model, least_squares, stretched, two_point};
use super::{Keypoint, SplitMix, mirror};

/// Evidence that a query shows (part of) a reference still.
///
/// The model maps query pixels to reference pixels: `r = scale * R(rotation)
/// * q + (tx, ty)`, where `q` is first mirrored (`x -> width - 1 - x`) when
/// `mirrored` is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verification {
    /// Matches consistent with the model (one per reference keypoint).
    pub inliers: u32,
    /// Matches that passed the ratio test (the RANSAC input).
    pub matches: u32,
    /// Reference pixels per query pixel (the square root of the area
    /// ratio when the frame was stretched).
    pub scale: f32,
    /// How much wider than high the frame must be stretched to match the
    /// reference: 1 unless the frame was resized to another aspect ratio.
    pub aspect: f32,
    /// The fitted map, query to reference pixels: `r = (m0 m1; m2 m3) q +
    /// (m4, m5)` (a similarity unless the frame was stretched).
    pub transform: [f32; 6],
    /// Rotation from query to reference, degrees, -180..180.
    pub rotation_deg: f32,
    /// Translation x, reference pixels.
    pub tx: f32,
    /// Translation y, reference pixels.
    pub ty: f32,
    /// The query matched once mirrored horizontally.
    pub mirrored: bool,
    /// x0, y0, x1, y1 of the reference covered by the query frame, in 0..1.
    pub region: [f32; 4],
    /// Keypoints seen by both images under the model (min of the two sides).
    pub covisible: u32,
    /// Share of 4x4 cells of the covered region holding a reference keypoint that also hold an inlier.
    pub cells: f32,
    /// Overlap of the mapped query frame and the reference, over the smaller of the two areas.
    pub containment: f32,
}

/// RANSAC samples per fit.
const ITERATIONS: usize = 300;
/// Reprojection tolerance in reference pixels (references are ~640 px).
const TOLERANCE_PX: f32 = 6.0;
/// Allowed disagreement between a match's own rotation and the model's.
const ANGLE_TOLERANCE: f32 = 0.5;
/// Allowed factor between a match's own scale ratio and the model's.
const SCALE_TOLERANCE: f32 = 1.8;
/// Plausible scales: a leak is not 5x larger or smaller than the still.
const SCALE_RANGE: (f32, f32) = (0.2, 5.0);
/// Probe tables of the first, screening match (see [`fit`]).
const SCREEN_TABLES: usize = 3;
/// With this many inliers the mirrored query is not tried.
const CONFIDENT_INLIERS: u32 = 30;
/// Fewest inliers worth reporting.
const MIN_INLIERS: usize = 5;
/// Largest stretch of a frame's width against its height (or the other way
/// round) tried: 16:9 shown as 4:3 is 1.33.
const MAX_ASPECT: f32 = 1.5;
/// Largest shear of a stretched fit (cosine of the angle between the
/// images of the frame's axes): frames are resized, not sheared.
const MAX_SHEAR: f32 = 0.1;

/// Verifies `query` against `reference` (sizes are the extracted images'
/// width and height); `None` when no plausible placement has enough inliers.
pub fn verify(
    query: &[Keypoint],
    query_size: (u32, u32),
    reference: &[Keypoint],
    ref_size: (u32, u32),
) -> Option<Verification> {
    let straight = fit(
        query,
        &probe_keys(query),
        query_size,
        reference,
        ref_size,
        false,
    );
    if straight.is_some_and(|s| s.inliers >= CONFIDENT_INLIERS) {
        return straight;
    }
    let mirrored = mirror(query, query_size.0);
    let flipped = fit(
        &mirrored,
        &probe_keys(&mirrored),
        query_size,
        reference,
        ref_size,
        true,
    );
    match (straight, flipped) {
        (Some(s), Some(f)) => Some(if f.inliers > s.inliers { f } else { s }),
        (s, f) => s.or(f),
    }
}

/// Verifies one view of the query only: as it is, or mirrored (then
/// `mirrored_query` must be [`mirror`] of the query's keypoints).
pub fn verify_view(
    mirrored_query: &[Keypoint],
    query_size: (u32, u32),
    reference: &[Keypoint],
    ref_size: (u32, u32),
    mirrored: bool,
) -> Option<Verification> {
    let keys = probe_keys(mirrored_query);
    fit(
        mirrored_query,
        &keys,
        query_size,
        reference,
        ref_size,
        mirrored,
    )
}

/// [`verify_view`] with the query's [`probe_keys`] given (computed once
/// per frame, see [`super::QueryFeatures::verify`]).
pub(crate) fn fit(
    query: &[Keypoint],
    keys: &[[u16; PROBE_TABLES]],
    qs: (u32, u32),
    reference: &[Keypoint],
    rs: (u32, u32),
    mirrored: bool,
) -> Option<Verification> {
    // A cascade: most shortlisted stills share no placement with the
    // frame at all, and a third of the probe tables already shows that.
    let mut matcher = Matcher::new(query, keys, reference);
    ransac(&matcher.pairs(SCREEN_TABLES))?;
    let pairs = matcher.pairs(PROBE_TABLES);
    let (model, inliers) = ransac(&pairs)?;
    let (model, inliers) = match stretch(&pairs, &inliers) {
        // A stretch must explain clearly more matches than the similarity:
        // on an unstretched frame it only fits noise.
        Some((a, more)) if more.len() >= inliers.len() + (inliers.len() / 8).max(4) => (a, more),
        _ => (Affine::from(model), inliers),
    };
    let corners = [
        (0.0, 0.0),
        (qs.0 as f32, 0.0),
        (0.0, qs.1 as f32),
        (qs.0 as f32, qs.1 as f32),
    ]
    .map(|c| model.apply(c));
    let span = |f: fn(&(f32, f32)) -> f32, len: u32| {
        let v = corners.map(|c| (f(&c) / len as f32).clamp(0.0, 1.0));
        (
            v.iter().copied().fold(1.0, f32::min),
            v.iter().copied().fold(0.0, f32::max),
        )
    };
    let ((x0, x1), (y0, y1)) = (span(|c| c.0, rs.0), span(|c| c.1, rs.1));
    let inverse = model.inverse()?;
    let inside = |p: (f32, f32), s: (u32, u32)| {
        p.0 >= 0.0 && p.1 >= 0.0 && p.0 < s.0 as f32 && p.1 < s.1 as f32
    };
    // Co-visible keypoints: inside the other image and at a scale the other
    // image's pyramid can reproduce.
    let range = |k: &[Keypoint]| {
        k.iter().fold((f32::MAX, 0f32), |(lo, hi), k| {
            (lo.min(k.scale), hi.max(k.scale))
        })
    };
    let ((qlo, qhi), (rlo, rhi)) = (range(query), range(reference));
    let s = model.scale();
    let fits = |v: f32, lo: f32, hi: f32| v >= lo / SCALE_TOLERANCE && v <= hi * SCALE_TOLERANCE;
    let ref_seen = reference
        .iter()
        .filter(|k| fits(k.scale / s, qlo, qhi) && inside(inverse.apply((k.x, k.y)), qs))
        .count();
    let query_seen = query
        .iter()
        .filter(|k| fits(k.scale * s, rlo, rhi) && inside(model.apply((k.x, k.y)), rs))
        .count();
    const GRID: usize = 24;
    let covered = (0..GRID * GRID)
        .filter(|i| {
            let p = ((i % GRID) as f32 + 0.5) / GRID as f32 * rs.0 as f32;
            inside(
                inverse.apply((p, ((i / GRID) as f32 + 0.5) / GRID as f32 * rs.1 as f32)),
                qs,
            )
        })
        .count() as f32
        / (GRID * GRID) as f32;
    let (ref_area, query_area) = (
        rs.0 as f32 * rs.1 as f32,
        model.scale().powi(2) * qs.0 as f32 * qs.1 as f32,
    );
    let (cx0, cy0, cw, ch) = (
        x0 * rs.0 as f32,
        y0 * rs.1 as f32,
        ((x1 - x0) * rs.0 as f32).max(1.0),
        ((y1 - y0) * rs.1 as f32).max(1.0),
    );
    let cell_of = |x: f32, y: f32| {
        let (u, v) = (
            ((x - cx0) / cw * 4.0).floor(),
            ((y - cy0) / ch * 4.0).floor(),
        );
        ((0.0..4.0).contains(&u) && (0.0..4.0).contains(&v)).then_some(v as usize * 4 + u as usize)
    };
    let (mut with_kp, mut with_inlier) = (0u16, 0u16);
    reference
        .iter()
        .filter_map(|k| cell_of(k.x, k.y))
        .for_each(|c| with_kp |= 1 << c);
    inliers
        .iter()
        .filter_map(|p| cell_of(p.r.0, p.r.1))
        .for_each(|c| with_inlier |= 1 << c);
    let cells = (with_inlier & with_kp).count_ones() as f32 / with_kp.count_ones().max(1) as f32;
    let containment = (covered * ref_area / ref_area.min(query_area)).min(1.0);
    Some(Verification {
        inliers: inliers.len() as u32,
        matches: pairs.len() as u32,
        scale: model.scale(),
        aspect: model.aspect(),
        transform: model.0,
        rotation_deg: model.turn().to_degrees(),
        tx: model.0[4],
        ty: model.0[5],
        mirrored,
        region: [x0, y0, x1, y1],
        covisible: ref_seen.min(query_seen) as u32,
        containment,
        cells,
    })
}

/// Seeded RANSAC over two-point samples, then three least-squares
/// refinements: the model and its inliers, or `None` with fewer than
/// [`MIN_INLIERS`].
fn ransac(pairs: &[Pair]) -> Option<(Model, Vec<Pair>)> {
    if pairs.len() < MIN_INLIERS {
        return None;
    }
    let mut rng = SplitMix(0x7261_6e73_6163_0001 ^ pairs.len() as u64);
    let mut best: Option<(usize, Model)> = None;
    let mut needed = ITERATIONS;
    let mut round = 0;
    while round < needed {
        round += 1;
        let (i, j) = (
            rng.next() as usize % pairs.len(),
            rng.next() as usize % pairs.len(),
        );
        let Some(m) = two_point(&pairs[i], &pairs[j]).filter(plausible) else {
            continue;
        };
        if !consistent(&m, &pairs[i]) || !consistent(&m, &pairs[j]) {
            continue;
        }
        let n = pairs.iter().filter(|p| is_inlier(&m, p)).count();
        if best.is_none_or(|(b, _)| n > b) {
            best = Some((n, m));
            // Enough samples to draw an all-inlier pair with 99% probability.
            let w = n as f32 / pairs.len() as f32;
            needed = needed.min((0.01f32.ln() / (1.0 - w * w).max(1e-6).ln()).ceil() as usize + 20);
        }
    }
    let (_, mut model) = best?;
    let mut inliers: Vec<Pair> = Vec::new();
    for _ in 0..3 {
        inliers = pairs
            .iter()
            .copied()
            .filter(|p| is_inlier(&model, p))
            .collect();
        model = least_squares(&inliers).filter(plausible).unwrap_or(model);
    }
    inliers.retain(|p| is_inlier(&model, p));
    if inliers.len() < MIN_INLIERS || !plausible(&model) {
        return None;
    }
    Some((model, inliers))
}

/// Refits the similarity's inliers with an affine map, a few rounds, as
/// long as that gains inliers: a frame resized to another aspect ratio
/// only agrees with a similarity along a band. The map must stay a
/// plausible stretch ([`MAX_ASPECT`], [`MAX_SHEAR`], [`SCALE_RANGE`]).
fn stretch(pairs: &[Pair], inliers: &[Pair]) -> Option<(Affine, Vec<Pair>)> {
    let mut best: Option<(Affine, Vec<Pair>)> = None;
    let mut current = inliers.to_vec();
    for _ in 0..4 {
        let Some(a) = stretched(&current).filter(|a| {
            let aspect = a.aspect();
            a.det() > 0.0
                && (1.0 / MAX_ASPECT..=MAX_ASPECT).contains(&aspect)
                && a.shear().abs() <= MAX_SHEAR
                && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&a.scale())
        }) else {
            break;
        };
        let (turn, scale) = (a.turn(), a.scale());
        let next: Vec<Pair> = pairs
            .iter()
            .copied()
            .filter(|p| lands(a.apply(p.q), p) && agrees(turn, scale, p))
            .collect();
        if next.len() <= best.as_ref().map_or(inliers.len(), |b| b.1.len()) {
            break;
        }
        current.clone_from(&next);
        best = Some((a, next));
    }
    best
}

fn plausible(m: &Model) -> bool {
    (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&m.scale())
}

/// The match's own orientation and scale agree with the model's.
fn consistent(m: &Model, p: &Pair) -> bool {
    agrees(m.turn, m.scale(), p)
}

/// The match's own orientation and scale agree with a map turning by
/// `turn` and scaling by `scale`.
fn agrees(turn: f32, scale: f32, p: &Pair) -> bool {
    let turn = (p.turn - turn + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU)
        - std::f32::consts::PI;
    let zoom = p.zoom / scale;
    turn.abs() <= ANGLE_TOLERANCE && (1.0 / SCALE_TOLERANCE..=SCALE_TOLERANCE).contains(&zoom)
}

/// The query point, mapped to `(x, y)`, lands on the match's reference point.
fn lands((x, y): (f32, f32), p: &Pair) -> bool {
    let (dx, dy) = (x - p.r.0, y - p.r.1);
    dx * dx + dy * dy <= TOLERANCE_PX * TOLERANCE_PX
}

fn is_inlier(m: &Model, p: &Pair) -> bool {
    lands(m.apply(p.q), p) && consistent(m, p)
}
