//! Output of `frametrace hash`: one row per file.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::{Format, display_path};
use crate::fingerprint::Fingerprint;

/// One file's hashes (only those asked for) or its error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashRow {
    /// The file.
    pub path: String,
    /// `phash` as 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phash: Option<String>,
    /// `dhash` as 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhash: Option<String>,
    /// `average_hash` as 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ahash: Option<String>,
    /// PDQ as 64 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    /// PDQ quality 0..100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq_quality: Option<u8>,
    /// Why the file failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HashRow {
    /// The row for a hashed file.
    pub fn ok(path: &Path, fp: &Fingerprint) -> HashRow {
        let hex = |v: Option<u64>| v.map(|h| format!("{h:016x}"));
        HashRow {
            path: path.to_string_lossy().into_owned(),
            phash: hex(fp.phash),
            dhash: hex(fp.dhash),
            ahash: hex(fp.ahash),
            pdq: fp.pdq.map(|p| p.to_hex()),
            pdq_quality: fp.pdq_quality,
            error: None,
        }
    }

    /// The row for a file that failed.
    pub fn failed(path: &Path, error: String) -> HashRow {
        HashRow {
            path: path.to_string_lossy().into_owned(),
            phash: None,
            dhash: None,
            ahash: None,
            pdq: None,
            pdq_quality: None,
            error: Some(error),
        }
    }
}

/// Writes `hash` rows in one format.
pub struct HashReport<W: Write> {
    format: Format,
    out: W,
    columns: [bool; 4],
    rows: usize,
}

impl<W: Write> HashReport<W> {
    /// A report with columns for the algorithms asked for
    /// (phash, dhash, ahash, pdq).
    pub fn new(format: Format, out: W, columns: [bool; 4]) -> Self {
        HashReport {
            format,
            out,
            columns,
            rows: 0,
        }
    }

    /// Writes one row.
    pub fn row(&mut self, r: &HashRow) -> io::Result<()> {
        let first = self.rows == 0;
        self.rows += 1;
        let [p, d, a, q] = self.columns;
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut self.out, r)?;
                self.out.write_all(b"\n")
            }
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(&mut self.out);
                let names = ["phash", "dhash", "ahash", "pdq", "pdq_quality"];
                let on = [p, d, a, q, q];
                if first {
                    let mut header = vec!["path"];
                    header.extend(names.iter().zip(on).filter(|(_, o)| *o).map(|(n, _)| *n));
                    header.push("error");
                    w.write_record(header)?;
                }
                let values = [
                    r.phash.clone(),
                    r.dhash.clone(),
                    r.ahash.clone(),
                    r.pdq.clone(),
                    r.pdq_quality.map(|v| v.to_string()),
                ];
                let mut rec = vec![r.path.clone()];
                rec.extend(
                    values
                        .into_iter()
                        .zip(on)
                        .filter(|(_, o)| *o)
                        .map(|(v, _)| v.unwrap_or_default()),
                );
                rec.push(r.error.clone().unwrap_or_default());
                w.write_record(rec)?;
                w.flush()
            }
            Format::Table => {
                let mut line = String::new();
                let cols = [
                    (p, &r.phash, 16),
                    (d, &r.dhash, 16),
                    (a, &r.ahash, 16),
                    (q, &r.pdq, 64),
                ];
                if first {
                    let names = ["PHASH", "DHASH", "AHASH", "PDQ"];
                    for ((on, _, w), n) in cols.iter().zip(names) {
                        if *on {
                            line += &format!("{n:<w$} ");
                        }
                    }
                    if q {
                        line += "  Q ";
                    }
                    writeln!(self.out, "{line}FILE")?;
                    line.clear();
                }
                if let Some(e) = &r.error {
                    return writeln!(self.out, "error: {}: {e}", display_path(Path::new(&r.path)));
                }
                for (on, v, w) in cols {
                    if on {
                        line += &format!("{:<w$} ", v.as_deref().unwrap_or(""));
                    }
                }
                if q {
                    line += &format!("{:>3} ", r.pdq_quality.unwrap_or(0));
                }
                writeln!(self.out, "{line}{}", display_path(Path::new(&r.path)))
            }
        }
    }

    /// Flushes the output.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
