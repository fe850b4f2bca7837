//! CSV for spreadsheets: one row per frame, best candidate only.

use std::io::{self, Write};

use crate::query::{FrameResult, Stage, Verdict};

const HEADER: [&str; 15] = [
    "query",
    "verdict",
    "series",
    "episode",
    "timecode",
    "confidence",
    "stage",
    "phash_distance",
    "pdq_distance",
    "inliers",
    "region",
    "view",
    "reference",
    "sha256",
    "error",
];

pub(super) fn frame(out: &mut dyn Write, r: &FrameResult, first: bool) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *out);
    if first {
        w.write_record(HEADER)?;
    }
    let best = r.candidates.first().filter(|_| r.verdict == Verdict::Match);
    let verdict = serde_json::to_value(r.verdict)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let local = r.local.as_ref().filter(|_| r.stage == Some(Stage::Local));
    let (inliers, region) = match local {
        Some(l) => (
            l.evidence.inliers.to_string(),
            l.evidence.region.map(|v| format!("{v:.3}")).join(" "),
        ),
        None => Default::default(),
    };
    let (series, episode, timecode, stage, dp, dq, view, reference) = match best {
        Some(b) => (
            b.record.meta.series.clone(),
            b.record.meta.episode.clone(),
            b.record.meta.timecode.clone(),
            if local.is_some() { "local" } else { "global" }.to_string(),
            b.candidate.phash_distance.to_string(),
            b.candidate.pdq_distance.to_string(),
            b.candidate.view.name().to_string(),
            b.record.path.clone(),
        ),
        None => Default::default(),
    };
    let confidence = if best.is_some() {
        format!("{:.3}", r.confidence)
    } else {
        String::new()
    };
    w.write_record([
        r.path.to_string_lossy().into_owned(),
        verdict,
        series,
        episode,
        timecode,
        confidence,
        stage,
        dp,
        dq,
        inliers,
        region,
        view,
        reference,
        r.sha256.clone().unwrap_or_default(),
        r.error.clone().unwrap_or_default(),
    ])?;
    w.flush()
}
