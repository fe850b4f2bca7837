//! Reads `manifest.csv`: per-file metadata that overrides the folder layout.
//!
//! Columns `path,series,episode,timecode`, then any extra columns, kept as
//! metadata. `path` is relative to the manifest's folder. A bad row is
//! reported with its line number and skipped; the other rows still count.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{Problem, RefMeta};

/// Reads a manifest: the good rows keyed by absolute file path, and one
/// [`Problem`] per bad row. Fails as a whole only when the file cannot be
/// read or has no `path` and `series` columns.
pub fn read(manifest: &Path) -> Result<(HashMap<PathBuf, RefMeta>, Vec<Problem>), Problem> {
    let fail = |message: String| Problem {
        path: manifest.to_path_buf(),
        message,
    };
    let base = std::path::absolute(manifest)
        .map_err(|e| fail(e.to_string()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(manifest)
        .map_err(|e| fail(e.to_string()))?;
    let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(path_col), Some(series_col)) = (column("path"), column("series")) else {
        return Err(fail(
            "manifest needs the columns path,series (episode,timecode optional)".into(),
        ));
    };
    let (episode_col, timecode_col) = (column("episode"), column("timecode"));
    let known = [Some(path_col), Some(series_col), episode_col, timecode_col];

    let mut rows = HashMap::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                problems.push(fail(format!("line {line}: {err}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").to_string();
        if record.len() != headers.len() {
            problems.push(fail(format!(
                "line {line}: {} fields, the header has {}",
                record.len(),
                headers.len()
            )));
            continue;
        }
        let (path, series) = (field(Some(path_col)), field(Some(series_col)));
        if path.is_empty() || series.is_empty() {
            problems.push(fail(format!(
                "line {line}: path and series must not be empty"
            )));
            continue;
        }
        let extra: BTreeMap<String, String> = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !known.contains(&Some(*i)))
            .map(|(i, h)| (h.to_string(), record.get(i).unwrap_or("").to_string()))
            .collect();
        let meta = RefMeta {
            series,
            episode: field(episode_col),
            timecode: field(timecode_col),
            extra,
        };
        let abs = base.join(&path);
        if rows.insert(abs, meta).is_some() {
            problems.push(fail(format!(
                "line {line}: {path} is listed twice; the last row wins"
            )));
        }
    }
    Ok((rows, problems))
}
