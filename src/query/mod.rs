//! Attributes a folder of frames against an opened [`Catalog`].
//!
//! Frames are decoded and hashed in parallel in batches (so memory stays
//! flat on dumps of any size), searched, attributed, and handed to a sink
//! in sorted-path order, so output streams while the dump is processed.
//! The global stage (phash, PDQ) decides first; a frame it leaves unknown
//! goes to the local stage (`query/local.rs`).

mod global;
mod local;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use image::{DynamicImage, GrayImage};

use crate::attribute::{self, Candidate, Thresholds, View as AttrView};
use crate::fingerprint::{Fingerprint, Fingerprinter, Variants, pillow};
use crate::index::IndexError;
use crate::index::WORKING_DECODE;
use crate::index::catalog::Catalog;
use crate::index::schema::RefRecord;
use crate::local::{FeatureExtractor, QueryFeatures, reference};
use crate::progress::{Progress, interrupted};
use crate::sheet;
use crate::source;

/// How to query.
#[derive(Clone, Debug)]
pub struct QueryOptions {
    /// Match thresholds.
    pub thresholds: Thresholds,
    /// Candidates listed per frame.
    pub top: usize,
    /// Stills the local stage verifies per frame; 0 turns it off.
    pub local_candidates: usize,
    /// Probes per visual word of the local stage's retrieval (0: exact
    /// words only); see [`QueryFeatures::of_query_probed`].
    pub word_probes: usize,
}

pub use self::local::LocalResult;

/// The local stage stops verifying a frame's shortlist at a still scoring
/// this much over the match threshold (confidence 0.98).
const EARLY_STOP_MARGIN: f32 = 4.0;

/// How many stills to verify for a frame of `size`: `k` times the factor
/// the frame is upscaled by for extraction ([`reference::query_upscale`],
/// 1 to 3), rounded up. The fewer pixels a frame really has, the less
/// reliable its visual words, and the lower the right still ranks on the
/// shortlist; a step at one size would treat frames just either side of it
/// differently.
fn shortlist_len(k: usize, size: (u32, u32)) -> usize {
    (k as f32 * reference::query_upscale(size)).ceil() as usize
}

/// Default [`QueryOptions::local_candidates`].
pub const DEFAULT_LOCAL_CANDIDATES: usize = 6;

/// Which stage attributed a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Global hashes (phash, PDQ) were close enough.
    Global,
    /// Local features, verified geometrically.
    Local,
}

/// The verdict on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Attributed to a series.
    Match,
    /// No reference close enough.
    Unknown,
    /// Too little information to attribute (flat, blank, near-uniform).
    LowQuality,
    /// The file could not be read or decoded.
    Error,
}

/// A candidate with the reference's metadata, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Listed {
    /// Scores and distances.
    #[serde(flatten)]
    pub candidate: Candidate,
    /// The reference still.
    #[serde(skip)]
    pub record: RefRecord,
}

/// Everything reported about one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameResult {
    /// The frame's path as found.
    pub path: PathBuf,
    /// sha256 of the frame's bytes, when it could be read.
    pub sha256: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// 0..1 for a match; 0 otherwise.
    pub confidence: f32,
    /// The stage that decided a match.
    pub stage: Option<Stage>,
    /// The local stage's best reference, when the stage ran and verified
    /// one (for a local match, the reference that decided it).
    pub local: Option<LocalResult>,
    /// For a frame found pasted on a page: its box `[x0, y0, x1, y1)` in
    /// full-size pixels, when the match came from it.
    pub inset: Option<[u32; 4]>,
    /// Best candidates, best first (the first one decides a match).
    pub candidates: Vec<Listed>,
    /// The frame's fingerprint, when it could be decoded.
    pub fingerprint: Option<Fingerprint>,
    /// The error, for verdict `error`.
    pub error: Option<String>,
}

/// Counts over a whole query run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Frames processed.
    pub frames: usize,
    /// Frames attributed.
    pub matched: usize,
    /// Frames per attributed series.
    pub per_series: BTreeMap<String, usize>,
    /// Frames left unknown.
    pub unknown: usize,
    /// Frames too poor to attribute.
    pub low_quality: usize,
    /// Frames that failed.
    pub errors: usize,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// True when Ctrl-C stopped the run.
    pub interrupted: bool,
}

/// A decoded and hashed frame.
pub struct Hashed {
    /// sha256 of the file.
    pub sha256: String,
    /// The frame as a whole.
    pub view: View,
    /// Frames found pasted on the frame's page ([`sheet::find_insets`]:
    /// one, or the tiles of a contact sheet): each box in full-size
    /// pixels, and its hashes.
    pub insets: Vec<([u32; 4], View)>,
}

/// What the stages need of one image (a frame, or the inset of a page).
pub struct View {
    /// Global fingerprint.
    pub fingerprint: Fingerprint,
    /// Mirrored and dihedral variants.
    pub variants: Variants,
    /// Grey pixels for the local stage.
    pub grey: GrayImage,
}

impl View {
    fn of(fp: &mut Fingerprinter, img: &DynamicImage, width: u32, height: u32) -> View {
        let grey = pillow::to_luma8(img);
        let (fingerprint, variants) = fp.fingerprint_query_with_grey(img, &grey, width, height);
        View {
            fingerprint,
            variants,
            grey,
        }
    }
}

/// Per-thread state of a query run.
struct Worker {
    fp: Fingerprinter,
    fx: FeatureExtractor,
}

/// Queries `files` (sorted by the caller) and passes each result to `sink`
/// in order. Stops early, with `interrupted` set, on Ctrl-C.
pub fn run(
    catalog: &Catalog,
    files: &[PathBuf],
    opts: &QueryOptions,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(&FrameResult) -> io::Result<()>,
) -> io::Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary::default();
    progress.start("querying", files.len() as u64);
    for batch in files.chunks(64) {
        if interrupted() {
            summary.interrupted = true;
            break;
        }
        // Decode, hash, search and attribute in parallel; rayon's indexed
        // collect keeps the sorted input order for the sink.
        let results: Vec<FrameResult> = batch
            .par_iter()
            .map_init(
                || Worker {
                    fp: Fingerprinter::new(),
                    fx: FeatureExtractor::new(reference::query_params()),
                },
                |w, path: &PathBuf| {
                    let hashed = hash_frame(&mut w.fp, path);
                    attribute_frame(catalog, path.clone(), hashed, opts, &mut w.fx)
                },
            )
            .collect();
        for result in results {
            summary.frames += 1;
            match result.verdict {
                Verdict::Match => {
                    summary.matched += 1;
                    let series = result.candidates[0].record.meta.series.clone();
                    *summary.per_series.entry(series).or_default() += 1;
                }
                Verdict::Unknown => summary.unknown += 1,
                Verdict::LowQuality => summary.low_quality += 1,
                Verdict::Error => summary.errors += 1,
            }
            sink(&result)?;
        }
        progress.advance(batch.len() as u64);
    }
    progress.finish();
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Decodes and hashes one frame file (the work before any search).
pub fn hash_frame(fp: &mut Fingerprinter, path: &Path) -> Result<Hashed, String> {
    let loaded = source::load(path, WORKING_DECODE).map_err(|e| e.to_string())?;
    let d = &loaded.decoded;
    let view = View::of(fp, &d.image, d.width, d.height);
    // Inset boxes are reported in full-size pixels.
    let f = d.width as f32 / d.image.width().max(1) as f32;
    let insets = sheet::find_insets(&d.image)
        .into_iter()
        .map(|b| {
            let crop = d.image.crop_imm(b[0], b[1], b[2] - b[0], b[3] - b[1]);
            let full = b.map(|v| (v as f32 * f).round() as u32);
            let v = View::of(fp, &crop, full[2] - full[0], full[3] - full[1]);
            (full, v)
        })
        .collect();
    Ok(Hashed {
        sha256: loaded.sha256,
        view,
        insets,
    })
}

/// Searches the catalog for one hashed frame and decides its verdict:
/// the global stage first, then, for a frame it leaves unknown, the local
/// stage (features extracted with `fx`).
pub fn attribute_frame(
    catalog: &Catalog,
    path: PathBuf,
    hashed: Result<Hashed, String>,
    opts: &QueryOptions,
    fx: &mut FeatureExtractor,
) -> FrameResult {
    let mut result = FrameResult {
        path,
        sha256: None,
        verdict: Verdict::Error,
        confidence: 0.0,
        stage: None,
        local: None,
        inset: None,
        candidates: Vec::new(),
        fingerprint: None,
        error: None,
    };
    let hashed = match hashed {
        Ok(h) => h,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.sha256 = Some(hashed.sha256.clone());
    result.fingerprint = Some(hashed.view.fingerprint);
    if hashed.view.fingerprint.pdq_quality.unwrap_or(0) < opts.thresholds.min_quality {
        result.verdict = Verdict::LowQuality;
        return result;
    }
    match decide(catalog, &hashed, opts, fx, &mut result) {
        Ok(()) => result,
        Err(e) => {
            result.verdict = Verdict::Error;
            result.error = Some(e.to_string());
            result
        }
    }
}

/// The global stage on the frame, then on a frame found pasted on it, then
/// the local stage on both; the first match wins.
fn decide(
    catalog: &Catalog,
    hashed: &Hashed,
    opts: &QueryOptions,
    fx: &mut FeatureExtractor,
    result: &mut FrameResult,
) -> Result<(), IndexError> {
    let t = &opts.thresholds;
    result.verdict = Verdict::Unknown;
    let views = std::iter::once((&hashed.view, None))
        .chain(hashed.insets.iter().map(|(b, v)| (v, Some(*b))));
    for (view, inset) in views.clone() {
        let listed = global::listed(catalog, &view.fingerprint, &view.variants, t, opts.top)?;
        let matched = listed.first().is_some_and(|b| b.candidate.is_match());
        if matched || inset.is_none() {
            result.candidates = listed;
        }
        if matched {
            result.confidence = attribute::confidence(result.candidates[0].candidate.score);
            result.stage = Some(Stage::Global);
            result.verdict = Verdict::Match;
            result.inset = inset;
            return Ok(());
        }
    }
    if opts.local_candidates == 0 {
        return Ok(());
    }
    // The inset first: on a page, the frame is what matches, and a match
    // beyond doubt there spares the whole page's extraction and search.
    let mut best: Option<(LocalResult, &View, Option<[u32; 4]>)> = None;
    let stop_at = t.local_score + EARLY_STOP_MARGIN;
    let mut views: Vec<_> = views.collect();
    views.reverse();
    // Each tile of a contact sheet is one more chance for a shared sprite
    // to pass the threshold: a tile's score is lowered by the log of the
    // number of tiles (the log-odds a Bonferroni correction asks for).
    let tiles = hashed.insets.len();
    let penalty = if tiles > 1 { (tiles as f32).ln() } else { 0.0 };
    for (view, inset) in views {
        if best.as_ref().is_some_and(|b| b.0.evidence.score >= stop_at) {
            break;
        }
        let q = QueryFeatures::of_query_probed(fx, &view.grey, opts.word_probes);
        let k = shortlist_len(opts.local_candidates, view.grey.dimensions());
        let found = local::best(catalog, &q, k, t.local_score, stop_at)?.map(|mut f| {
            if inset.is_some() {
                f.evidence.score -= penalty;
            }
            f
        });
        if let Some(found) = found
            && best
                .as_ref()
                .is_none_or(|b| found.evidence.score > b.0.evidence.score)
        {
            best = Some((found, view, inset));
        }
    }
    let Some((found, view, inset)) = best else {
        return Ok(());
    };
    if found.evidence.is_match(t) {
        result.verdict = Verdict::Match;
        result.stage = Some(Stage::Local);
        result.confidence = attribute::local_confidence(found.evidence.score, t);
        result.inset = inset;
        // The deciding reference leads the candidate list.
        result.candidates.retain(|c| c.candidate.id != found.id);
        // The global distances in the view the local stage matched in.
        let local_view = if found.evidence.mirrored {
            AttrView::Mirrored
        } else {
            AttrView::Original
        };
        let (fp, vars) = (&view.fingerprint, &view.variants);
        let c = global::candidate_in(catalog, found.id, fp, vars, t, local_view);
        result.candidates.insert(
            0,
            Listed {
                candidate: c,
                record: found.record.clone(),
            },
        );
        result.candidates.truncate(opts.top.max(1));
    }
    result.local = Some(found);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shortlist_len;

    #[test]
    fn shortlist_grows_with_the_upscaling_of_small_frames() {
        // Frames as large as the working image or larger: k.
        assert_eq!(shortlist_len(8, (640, 360)), 8);
        assert_eq!(shortlist_len(8, (1920, 1080)), 8);
        assert_eq!(shortlist_len(8, (360, 640)), 8);
        // Smaller frames: k times their upscaling, rounded up, at most 3k.
        assert_eq!(shortlist_len(8, (320, 180)), 16);
        assert_eq!(shortlist_len(8, (358, 201)), 15);
        assert_eq!(shortlist_len(8, (200, 112)), 24);
        assert_eq!(shortlist_len(8, (40, 40)), 24);
        assert_eq!(shortlist_len(8, (0, 0)), 24);
        // Monotone: a smaller frame never gets a shorter list.
        let lens: Vec<usize> = (1..=700)
            .rev()
            .map(|s| shortlist_len(8, (s, s / 2)))
            .collect();
        assert!(lens.windows(2).all(|w| w[0] <= w[1]), "{lens:?}");
        assert_eq!(shortlist_len(0, (100, 100)), 0);
    }
}
