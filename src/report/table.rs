//! Aligned table for people at a terminal.

use std::io::{self, Write};

use super::display_path;
use crate::query::{FrameResult, Stage, Summary, Verdict};

pub(super) fn frame(out: &mut dyn Write, r: &FrameResult, first: bool) -> io::Result<()> {
    if first {
        writeln!(
            out,
            "{:<11} {:<20} {:<8} {:<11} {:>4}  {:<16} FRAME",
            "VERDICT", "SERIES", "EPISODE", "TIMECODE", "CONF", "EVIDENCE"
        )?;
    }
    let verdict = match r.verdict {
        Verdict::Match => "match",
        Verdict::Unknown => "unknown",
        Verdict::LowQuality => "low_quality",
        Verdict::Error => "error",
    };
    let frame = display_path(&r.path);
    match (r.verdict, r.candidates.first()) {
        (Verdict::Match, Some(best)) => {
            let m = &best.record.meta;
            let c = &best.candidate;
            let evidence = match r.local.as_ref().filter(|_| r.stage == Some(Stage::Local)) {
                Some(l) => format!(
                    "{} inliers{}",
                    l.evidence.inliers,
                    if l.evidence.mirrored { " mirr" } else { "" }
                ),
                None => format!("phash {} pdq {}", c.phash_distance, c.pdq_distance),
            };
            writeln!(
                out,
                "{verdict:<11} {:<20} {:<8} {:<11} {:>4.2}  {evidence:<16} {frame}",
                m.series, m.episode, m.timecode, r.confidence
            )
        }
        (Verdict::Error, _) => {
            let e = r.error.as_deref().unwrap_or("");
            writeln!(
                out,
                "{verdict:<11} {:<20} {:<8} {:<11} {:>4}  {:<16} {frame}: {e}",
                "-", "-", "-", "-", "-"
            )
        }
        _ => writeln!(
            out,
            "{verdict:<11} {:<20} {:<8} {:<11} {:>4}  {:<16} {frame}",
            "-", "-", "-", "-", "-"
        ),
    }
}

pub(super) fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let series: Vec<String> = s
        .per_series
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(out)?;
    write!(out, "{} frames: {} matched", s.frames, s.matched)?;
    if !series.is_empty() {
        write!(out, " ({})", series.join(", "))?;
    }
    writeln!(
        out,
        ", {} unknown, {} low_quality, {} errors",
        s.unknown, s.low_quality, s.errors
    )?;
    if s.interrupted {
        writeln!(
            out,
            "interrupted: the frames after the last one listed were not processed"
        )?;
    }
    Ok(())
}
