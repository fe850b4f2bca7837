//! Writes results: a table for people, JSON Lines for machines, CSV for
//! spreadsheets. One writer per format, chosen once by [`Format`].
//!
//! # JSON Lines schema (`--format json`)
//!
//! `frametrace query` writes one object per frame, in sorted path order:
//!
//! ```text
//! {"query": "frames/a.jpg", "sha256": "<64 hex>",
//!  "verdict": "match" | "unknown" | "low_quality" | "error",
//!  "series": "..." | null, "episode": ..., "timecode": ..., "confidence": 0.0-1.0,
//!  "evidence": {"stage": "global" | "local", "reference": "<path>", "phash_distance": 3,
//!               "pdq_distance": 18, "score": 0.2,
//!               "view": "original" | "mirrored" | "negative" | "negative_mirrored",
//!               "local": {"inliers", "matches", "scale", "rotation_deg", "aspect",
//!                         "offset": [x, y],
//!                         "mirrored", "region": [x0, y0, x1, y1], "edge_recall",
//!                         "edge_precision", "ref_edges", "cells", "photometric",
//!                         "score"} (local matches only)} | null,
//!  "inset": [x0, y0, x1, y1] | null (the frame was found pasted on a page, in
//!            these full-size pixels, and attributed from there),
//!  "local_best": {"series", "episode", "reference", ...the "local" keys} (frames
//!                left unknown whose local stage verified a still; absent otherwise),
//!  "pdq_quality": 0-100 | null,
//!  "candidates": [{"series", "episode", "timecode", "path", "phash_distance",
//!                  "pdq_distance", "view", "score"}, ...],
//!  "error": "..." | null}
//! ```
//!
//! then one `{"summary": {"frames", "matched", "per_series": {...}, "unknown",
//! "low_quality", "errors", "elapsed_s", "interrupted"}}` line.
//!
//! `frametrace hash` writes `{"path", "phash", "dhash", "ahash", "pdq",
//! "pdq_quality"}` per file (only the algorithms asked for), or
//! `{"path", "error"}` for a file that failed.

mod csv_out;
mod evaluation;
mod hashes;
mod json;
mod table;

use std::io::{self, Write};
use std::path::Path;

use crate::query::{FrameResult, Summary};

pub use self::evaluation::write_evaluation;
pub use self::hashes::{HashReport, HashRow};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// JSON Lines.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Writes query results in one format.
pub struct QueryReport<W: Write> {
    format: Format,
    out: W,
    rows: usize,
}

impl<W: Write> QueryReport<W> {
    /// A report writing to `out`.
    pub fn new(format: Format, out: W) -> Self {
        QueryReport {
            format,
            out,
            rows: 0,
        }
    }

    /// Writes one frame.
    pub fn frame(&mut self, r: &FrameResult) -> io::Result<()> {
        let first = self.rows == 0;
        self.rows += 1;
        match self.format {
            Format::Table => table::frame(&mut self.out, r, first),
            Format::Json => json::frame(&mut self.out, r),
            Format::Csv => csv_out::frame(&mut self.out, r, first),
        }
    }

    /// Writes the summary (CSV has none: its rows are the whole output)
    /// and flushes.
    pub fn summary(&mut self, s: &Summary) -> io::Result<()> {
        match self.format {
            Format::Table => table::summary(&mut self.out, s)?,
            Format::Json => json::summary(&mut self.out, s)?,
            Format::Csv => {}
        }
        self.out.flush()
    }
}

/// A path as text, with control characters escaped so a hostile file name
/// cannot drive the terminal.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy()
        .chars()
        .flat_map(escape_control)
        .collect()
}

fn escape_control(c: char) -> Vec<char> {
    if c.is_control() {
        c.escape_default().collect()
    } else {
        vec![c]
    }
}
