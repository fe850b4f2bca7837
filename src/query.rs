//! Attributes a folder of frames against an opened [`Catalog`].
//!
//! Frames are decoded and hashed in parallel in batches (so memory stays
//! flat on dumps of any size), searched, attributed, and handed to a sink
//! in sorted-path order, so output streams while the dump is processed.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::attribute::{self, Candidate, Thresholds, View};
use crate::fingerprint::{Fingerprint, Fingerprinter, MIRROR_VARIANT, Variants};
use crate::index::WORKING_DECODE;
use crate::index::catalog::Catalog;
use crate::index::schema::RefRecord;
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

type Hashed = Result<(String, Fingerprint, Variants), String>;

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
            .map_init(Fingerprinter::new, |fp, path: &PathBuf| {
                attribute_frame(catalog, path.clone(), hash_frame(fp, path), opts)
            })
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

fn hash_frame(fp: &mut Fingerprinter, path: &Path) -> Hashed {
    let loaded = source::load(path, WORKING_DECODE).map_err(|e| e.to_string())?;
    let d = &loaded.decoded;
    let (f, v) = fp.fingerprint_query(&d.image, d.width, d.height);
    Ok((loaded.sha256, f, v))
}

/// Searches the catalog for one hashed frame and decides its verdict.
pub fn attribute_frame(
    catalog: &Catalog,
    path: PathBuf,
    hashed: Hashed,
    opts: &QueryOptions,
) -> FrameResult {
    let mut result = FrameResult {
        path,
        sha256: None,
        verdict: Verdict::Error,
        confidence: 0.0,
        candidates: Vec::new(),
        fingerprint: None,
        error: None,
    };
    let (sha, fp, variants) = match hashed {
        Ok(h) => h,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.sha256 = Some(sha);
    result.fingerprint = Some(fp);
    if fp.pdq_quality.unwrap_or(0) < opts.thresholds.min_quality {
        result.verdict = Verdict::LowQuality;
        return result;
    }
    let mut cands = candidates(catalog, &fp, &variants, &opts.thresholds);
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
            Verdict::Match
        }
        _ => Verdict::Unknown,
    };
    result.candidates = listed;
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
        .map(|id| {
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
        })
        .collect()
}
