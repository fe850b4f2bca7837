//! From search candidates to a verdict per frame.
//!
//! A frame is `low_quality` when it carries too little information for any
//! hash (flat, blank or near-uniform), `match` when its best candidate is
//! close enough under phash or PDQ (the global stage), or when the local
//! stage's best verified reference scores high enough, otherwise `unknown`.
//! The thresholds are flags; their defaults were chosen on devbench
//! (README, "Thresholds").

use serde::Serialize;

use crate::local::{Agreement, Verification};

/// Thresholds of the global stage.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Largest phash distance (of 64 bits) accepted as a match.
    pub phash: u32,
    /// Largest PDQ distance (of 256 bits) accepted as a match.
    pub pdq: u32,
    /// Frames whose PDQ quality is below this are `low_quality`.
    pub min_quality: u8,
    /// Largest phash distance at which candidates are still listed.
    pub list_phash: u32,
    /// Largest PDQ distance at which candidates are still listed.
    pub list_pdq: u32,
    /// Smallest local score ([`local_score`]) accepted as a match.
    pub local_score: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            phash: 6,
            pdq: 72,
            min_quality: 20,
            list_phash: 16,
            list_pdq: 96,
            local_score: DEFAULT_LOCAL_SCORE,
        }
    }
}

/// Which view of the query frame produced a distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The frame as it is.
    Original,
    /// The frame mirrored left-right.
    Mirrored,
    /// The frame's tones inverted (a negative): phash and PDQ of a
    /// negative are the complements of the positive's, so this view costs
    /// a lookup, not a hash.
    Negative,
    /// The negative mirrored left-right.
    NegativeMirrored,
}

impl View {
    /// The view's name in every output format (as JSON spells it).
    pub fn name(self) -> &'static str {
        match self {
            View::Original => "original",
            View::Mirrored => "mirrored",
            View::Negative => "negative",
            View::NegativeMirrored => "negative_mirrored",
        }
    }
}

/// One reference still near a frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// Reference id in the catalog.
    #[serde(skip)]
    pub id: u32,
    /// Best phash distance over the views tried.
    pub phash_distance: u32,
    /// Best PDQ distance over the views tried.
    pub pdq_distance: u32,
    /// The view that gave the best score.
    pub view: View,
    /// 0 (identical) .. 1 (at a threshold) .. larger (farther).
    pub score: f32,
}

impl Candidate {
    /// The normalised score: each distance relative to its threshold, the
    /// better of the two counts.
    pub fn score_of(phash: u32, pdq: u32, t: &Thresholds) -> f32 {
        let p = phash as f32 / t.phash.max(1) as f32;
        let q = pdq as f32 / t.pdq.max(1) as f32;
        p.min(q)
    }

    /// True when the candidate is close enough to attribute the frame.
    pub fn is_match(&self) -> bool {
        self.score <= 1.0
    }
}

/// Sorts candidates best first, ties broken by reference id (ids follow
/// the index order; callers that show paths break ties by path).
pub fn rank(cands: &mut [Candidate]) {
    cands.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.id.cmp(&b.id)));
}

/// The confidence of a global match from its score: 1 for an identical
/// hash, falling to 0.5 at the threshold. Calibrated on devbench (README).
pub fn confidence(score: f32) -> f32 {
    (1.0 - 0.5 * score * score).clamp(0.0, 1.0)
}

/// Default [`Thresholds::local_score`]; see the README for the data.
pub const DEFAULT_LOCAL_SCORE: f32 = 1.5;

/// Why the local stage believes (or doubts) that a frame shows a reference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LocalEvidence {
    /// Keypoint matches consistent with the fitted similarity.
    pub inliers: u32,
    /// Keypoint matches that passed the ratio test.
    pub matches: u32,
    /// Reference pixels per frame pixel (working images).
    pub scale: f32,
    /// Rotation from frame to reference, degrees.
    pub rotation_deg: f32,
    /// Stretch of the frame's width against its height that the match
    /// needed: 1 unless the frame was resized to another aspect ratio.
    pub aspect: f32,
    /// Offset of the frame's origin in the reference, as a share of the
    /// reference's width and height.
    pub offset: [f32; 2],
    /// The frame matched once mirrored left-right.
    pub mirrored: bool,
    /// x0, y0, x1, y1 of the reference covered by the frame, in 0..1.
    pub region: [f32; 4],
    /// Share of the reference's edges in the covered area the frame shows.
    pub edge_recall: f32,
    /// Share of the frame's edges the reference explains.
    pub edge_precision: f32,
    /// Reference edge pixels in the covered area (thumbnail scale).
    pub ref_edges: u32,
    /// Share of the covered area's keypoint cells holding an inlier.
    pub cells: f32,
    /// Share of the covered area whose grey level agrees under one global
    /// grey mapping.
    pub photometric: f32,
    /// The combined score [`local_score`] (a log-odds).
    pub score: f32,
}

impl LocalEvidence {
    /// Evidence from a verification and its dense agreement, for a
    /// reference whose working image is `ref_size`.
    pub fn new(v: &Verification, a: &Agreement, ref_size: (u32, u32)) -> LocalEvidence {
        LocalEvidence {
            inliers: v.inliers,
            matches: v.matches,
            scale: v.scale,
            rotation_deg: v.rotation_deg,
            aspect: v.aspect,
            offset: [
                v.tx / ref_size.0.max(1) as f32,
                v.ty / ref_size.1.max(1) as f32,
            ],
            mirrored: v.mirrored,
            region: v.region,
            edge_recall: a.recall,
            edge_precision: a.precision,
            ref_edges: a.ref_edges,
            cells: v.cells,
            photometric: a.photometric,
            score: local_score(v, a),
        }
    }

    /// True when the evidence is strong enough to attribute the frame.
    pub fn is_match(&self, t: &Thresholds) -> bool {
        self.score >= t.local_score
    }
}

/// Log-odds that a verified reference is the frame's source. Inliers say
/// some patches sit where the reference has them; what a frame that only
/// shares a sprite with the reference cannot reproduce is the rest of the
/// covered picture, so the reference's edges that the frame shows too
/// (`edge_recall`), how many edges that is, and the share of the covered
/// area whose grey level agrees under one global mapping (`photometric`)
/// weigh most. The weights are a logistic fit on devbench's best local
/// candidates (README, "Thresholds").
pub fn local_score(v: &Verification, a: &Agreement) -> f32 {
    let inliers = (v.inliers.max(1) as f32).ln();
    let edges = (a.ref_edges.max(1) as f32).ln();
    0.836 * inliers + 7.266 * a.recall + 2.597 * edges + 6.025 * a.photometric - 29.93
}

/// Confidence of a local match: a logistic in the score's margin over
/// the match threshold, 0.5 at the threshold (the convention of
/// [`confidence`]). Calibrated on devbench (README).
pub fn local_confidence(score: f32, t: &Thresholds) -> f32 {
    1.0 / (1.0 + (t.local_score - score).exp())
}
