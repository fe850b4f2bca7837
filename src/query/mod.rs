//! Attributes a folder of frames against an opened [`Catalog`].
//!
//! Frames are decoded and hashed in parallel in batches (so memory stays
//! flat on dumps of any size), searched, attributed, and handed to a sink
//! in sorted-path order, so output streams while the dump is processed.
//! The global stage (phash, PDQ) decides first; a frame it leaves unknown
//! goes to the local stage ([`local`]).

mod local;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use image::GrayImage;

use crate::attribute::{self, Candidate, Thresholds, View};
use crate::fingerprint::{Fingerprint, Fingerprinter, MIRROR_VARIANT, Variants, pillow};
use crate::index::WORKING_DECODE;
use crate::index::catalog::Catalog;
use crate::index::schema::RefRecord;
use crate::local::{FeatureExtractor, QueryFeatures, reference};
use crate::progress::{Progress, interrupted};
use crate::search::{Hit, distance};
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
}

pub use self::local::LocalResult;

/// Default [`QueryOptions::local_candidates`].
pub const DEFAULT_LOCAL_CANDIDATES: usize = 8;

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
    /// Global fingerprint.
    pub fingerprint: Fingerprint,
    /// Mirrored and dihedral variants.
    pub variants: Variants,
    /// Grey pixels for the local stage.
    pub grey: GrayImage,
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

fn hash_frame(fp: &mut Fingerprinter, path: &Path) -> Result<Hashed, String> {
    let loaded = source::load(path, WORKING_DECODE).map_err(|e| e.to_string())?;
    let d = &loaded.decoded;
    let (fingerprint, variants) = fp.fingerprint_query(&d.image, d.width, d.height);
    Ok(Hashed {
        sha256: loaded.sha256,
        fingerprint,
        variants,
        grey: pillow::to_luma8(&d.image),
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
    let (fp, variants) = (hashed.fingerprint, &hashed.variants);
    result.sha256 = Some(hashed.sha256);
    result.fingerprint = Some(fp);
    if fp.pdq_quality.unwrap_or(0) < opts.thresholds.min_quality {
        result.verdict = Verdict::LowQuality;
        return result;
    }
    let mut cands = candidates(catalog, &fp, variants, &opts.thresholds);
    attribute::rank(&mut cands);
    cands.truncate(opts.top.max(1));
    let mut listed = Vec::with_capacity(cands.len());
    for c in cands {
        match catalog.record(c.id) {
            Ok(record) => listed.push(Listed {
                candidate: c,
                record,
            }),
            Err(e) => {
                result.error = Some(e.to_string());
                return result;
            }
        }
    }
    // Equal scores: the smaller path first, so output never depends on
    // segment layout.
    listed.sort_by(|a, b| {
        a.candidate
            .score
            .total_cmp(&b.candidate.score)
            .then_with(|| a.record.path.cmp(&b.record.path))
    });
    result.verdict = match listed.first() {
        Some(best) if best.candidate.is_match() => {
            result.confidence = attribute::confidence(best.candidate.score);
            result.stage = Some(Stage::Global);
            Verdict::Match
        }
        _ => Verdict::Unknown,
    };
    result.candidates = listed;
    if result.verdict == Verdict::Unknown && opts.local_candidates > 0 {
        let q = QueryFeatures::of_query(fx, &hashed.grey);
        match local::best(catalog, &q, opts.local_candidates) {
            Ok(found) => result.local = found,
            Err(e) => {
                result.verdict = Verdict::Error;
                result.error = Some(e.to_string());
                return result;
            }
        }
        if let Some(l) = result
            .local
            .as_ref()
            .filter(|l| l.evidence.is_match(&opts.thresholds))
        {
            result.verdict = Verdict::Match;
            result.stage = Some(Stage::Local);
            result.confidence = attribute::local_confidence(l.evidence.score, &opts.thresholds);
            // The deciding reference leads the candidate list.
            result.candidates.retain(|c| c.candidate.id != l.id);
            let mut c = candidate(catalog, l.id, &fp, variants, &opts.thresholds);
            if l.evidence.mirrored {
                c.view = View::Mirrored;
            }
            result.candidates.insert(
                0,
                Listed {
                    candidate: c,
                    record: l.record.clone(),
                },
            );
            result.candidates.truncate(opts.top.max(1));
        }
    }
    result
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
fn candidate(
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
