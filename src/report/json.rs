//! JSON Lines writer for query results (schema in the parent module).

use std::io::{self, Write};

use serde::Serialize;

use crate::attribute::{LocalEvidence, View};
use crate::query::{FrameResult, Stage, Summary, Verdict};

#[derive(Serialize)]
struct Frame<'a> {
    query: String,
    sha256: Option<&'a str>,
    verdict: Verdict,
    series: Option<&'a str>,
    episode: Option<&'a str>,
    timecode: Option<&'a str>,
    confidence: f32,
    evidence: Option<Evidence<'a>>,
    inset: Option<[u32; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_best: Option<LocalBest<'a>>,
    pdq_quality: Option<u8>,
    candidates: Vec<Cand<'a>>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct Evidence<'a> {
    stage: Stage,
    reference: &'a str,
    phash_distance: u32,
    pdq_distance: u32,
    view: View,
    score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<&'a LocalEvidence>,
}

/// The local stage's best reference for a frame left unknown.
#[derive(Serialize)]
struct LocalBest<'a> {
    series: &'a str,
    episode: &'a str,
    reference: &'a str,
    #[serde(flatten)]
    evidence: &'a LocalEvidence,
}

#[derive(Serialize)]
struct Cand<'a> {
    series: &'a str,
    episode: &'a str,
    timecode: &'a str,
    path: &'a str,
    phash_distance: u32,
    pdq_distance: u32,
    view: View,
    score: f32,
}

pub(super) fn frame(out: &mut dyn Write, r: &FrameResult) -> io::Result<()> {
    let best = r.candidates.first().filter(|_| r.verdict == Verdict::Match);
    let meta = best.map(|b| &b.record.meta);
    let obj = Frame {
        query: r.path.to_string_lossy().into_owned(),
        sha256: r.sha256.as_deref(),
        verdict: r.verdict,
        series: meta.map(|m| m.series.as_str()),
        episode: meta.map(|m| m.episode.as_str()),
        timecode: meta.map(|m| m.timecode.as_str()),
        confidence: r.confidence,
        evidence: best.map(|b| Evidence {
            stage: r.stage.unwrap_or(Stage::Global),
            reference: &b.record.path,
            phash_distance: b.candidate.phash_distance,
            pdq_distance: b.candidate.pdq_distance,
            view: b.candidate.view,
            score: b.candidate.score,
            local: r
                .local
                .as_ref()
                .filter(|_| r.stage == Some(Stage::Local))
                .map(|l| &l.evidence),
        }),
        inset: r.inset,
        local_best: r
            .local
            .as_ref()
            .filter(|_| r.verdict != Verdict::Match)
            .map(|l| LocalBest {
                series: &l.record.meta.series,
                episode: &l.record.meta.episode,
                reference: &l.record.path,
                evidence: &l.evidence,
            }),
        pdq_quality: r.fingerprint.and_then(|f| f.pdq_quality),
        candidates: r
            .candidates
            .iter()
            .map(|c| Cand {
                series: &c.record.meta.series,
                episode: &c.record.meta.episode,
                timecode: &c.record.meta.timecode,
                path: &c.record.path,
                phash_distance: c.candidate.phash_distance,
                pdq_distance: c.candidate.pdq_distance,
                view: c.candidate.view,
                score: c.candidate.score,
            })
            .collect(),
        error: r.error.as_deref(),
    };
    serde_json::to_writer(&mut *out, &obj)?;
    out.write_all(b"\n")
}

pub(super) fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    #[derive(Serialize)]
    struct Wrap<'a> {
        summary: &'a Summary,
    }
    serde_json::to_writer(&mut *out, &Wrap { summary: s })?;
    out.write_all(b"\n")
}
