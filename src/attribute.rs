//! From search candidates to a verdict per frame.
//!
//! A frame is `low_quality` when it carries too little information for any
//! hash (flat, blank or near-uniform), `match` when its best candidate is
//! close enough under phash or PDQ, otherwise `unknown`. The thresholds are
//! flags; their defaults were chosen on devbench (README, "Thresholds").

use serde::Serialize;

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
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            phash: 6,
            pdq: 72,
            min_quality: 20,
            list_phash: 16,
            list_pdq: 96,
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
