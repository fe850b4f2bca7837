//! Finds the image files to work on, in a stable order, with the metadata
//! of reference stills.
//!
//! Folders are walked on one thread and the result is sorted, so every
//! later stage (parallel or not) sees the same order on every run. Walking
//! problems (unreadable folders, symlink loops, broken links) are collected
//! as [`Problem`]s for the caller to report: they never stop the walk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// File extensions treated as images when walking a folder. A file named
/// on the command line is always tried, whatever its name.
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "gif", "webp", "bmp", "tif", "tiff",
];

/// The name of the optional manifest at the top of a reference root.
pub const MANIFEST_NAME: &str = "manifest.csv";

/// A path that could not be used, with a one-line reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file or folder concerned.
    pub path: PathBuf,
    /// What went wrong (lower case, no trailing period).
    pub message: String,
}

/// What is known about a reference still besides its pixels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefMeta {
    /// The series (production) the still belongs to.
    pub series: String,
    /// The episode within the series.
    pub episode: String,
    /// Timecode of the still within the episode, if known.
    pub timecode: String,
    /// Free extra manifest columns, kept as metadata.
    pub extra: BTreeMap<String, String>,
}

/// A reference still to index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: RefMeta,
}

fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Lists the image files under `inputs`: files as given, folders walked
/// recursively (following links, loops reported). Sorted, deduplicated.
pub fn find_images(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Err(err) => problems.push(Problem {
                path: input.clone(),
                message: err.to_string(),
            }),
            Ok(md) if md.is_file() => files.push(input.clone()),
            Ok(_) => walk(input, &mut files, &mut problems),
        }
    }
    files.sort();
    files.dedup();
    (files, problems)
}

fn walk(root: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    for entry in WalkDir::new(root).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_image_name(entry.path()) => {
                files.push(entry.into_path())
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().unwrap_or(root).to_path_buf();
                let message = match err.loop_ancestor() {
                    Some(a) => format!("symlink loop back to {}", a.display()),
                    None => err
                        .io_error()
                        .map_or_else(|| err.to_string(), |e| e.to_string()),
                };
                problems.push(Problem { path, message });
            }
        }
    }
}

/// Lists reference stills under `roots`. Metadata comes from the layout
/// `<root>/<series>/<episode>/<file>`, overridden by a `manifest.csv` at
/// the root (or by `manifest`, whose paths are relative to its folder).
/// Paths are made absolute so an index is keyed the same from any
/// working directory.
pub fn find_references(
    roots: &[PathBuf],
    manifest: Option<&Path>,
) -> (Vec<Reference>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut overrides: HashMap<PathBuf, RefMeta> = HashMap::new();
    let mut manifests: Vec<PathBuf> = manifest.map(Path::to_path_buf).into_iter().collect();
    let mut refs = Vec::new();
    for root in roots {
        let root = match std::path::absolute(root) {
            Ok(r) => r,
            Err(err) => {
                problems.push(Problem {
                    path: root.clone(),
                    message: err.to_string(),
                });
                continue;
            }
        };
        if manifest.is_none() && root.join(MANIFEST_NAME).is_file() {
            manifests.push(root.join(MANIFEST_NAME));
        }
        let (files, walk_problems) = find_images(std::slice::from_ref(&root));
        problems.extend(walk_problems);
        for path in files {
            refs.push((root.clone(), path));
        }
    }
    for m in &manifests {
        match crate::discover::manifest::read(m) {
            Ok((rows, bad)) => {
                overrides.extend(rows);
                problems.extend(bad);
            }
            Err(p) => problems.push(p),
        }
    }
    let mut out = Vec::with_capacity(refs.len());
    for (root, path) in refs {
        if let Some(meta) = overrides.remove(&path) {
            out.push(Reference { path, meta });
            continue;
        }
        match meta_from_layout(&root, &path) {
            Some(meta) => out.push(Reference { path, meta }),
            None => problems.push(Problem {
                path,
                message: "cannot tell the series: put the file under <series>/<episode>/ or list \
                          it in manifest.csv"
                    .into(),
            }),
        }
    }
    for (path, _) in overrides {
        problems.push(Problem {
            path,
            message: "listed in the manifest but not found under the given roots".into(),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    (out, problems)
}

/// `<root>/<series>/<episode>/<file>` gives series and episode; a file one
/// level up (`<root>/<series>/<file>`) gets an empty episode.
fn meta_from_layout(root: &Path, path: &Path) -> Option<RefMeta> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .parent()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [] => None,
        [series] => Some(RefMeta {
            series: series.clone(),
            ..RefMeta::default()
        }),
        [series, episode, ..] => Some(RefMeta {
            series: series.clone(),
            episode: episode.clone(),
            ..RefMeta::default()
        }),
    }
}

pub mod manifest;
