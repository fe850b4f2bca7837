//! Builds or refreshes the reference index incrementally.
//!
//! A file whose size and mtime match its document is skipped without being
//! read; one whose bytes (sha256) are unchanged keeps its fingerprint;
//! others are decoded and replaced. Documents of files gone from the given
//! roots are removed. Work is committed in checkpoints: a killed refresh
//! leaves the last checkpoint, which opens and answers, and a re-run
//! resumes from it because committed files are then unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use rayon::prelude::*;
use serde::Serialize;
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::{DocAddress, Index, IndexWriter, Searcher, TantivyDocument, TantivyError, Term};

use super::schema::{self, Fields, Local, RefRecord};
use super::{IndexError, Settings, WORKING_DECODE, check_settings};
use crate::discover::{self, Problem, Reference};
use crate::fingerprint::{Algorithms, Fingerprinter, pillow};
use crate::local::{FeatureExtractor, LocalFeatures, reference};
use crate::progress::{Progress, interrupted};
use crate::source;

/// What to index and where.
#[derive(Clone, Debug)]
pub struct RefreshOptions {
    /// Index folder (created if missing).
    pub index_dir: PathBuf,
    /// Reference roots (`<root>/<series>/<episode>/<file>`).
    pub roots: Vec<PathBuf>,
    /// A manifest overriding the layout (else `<root>/manifest.csv`).
    pub manifest: Option<PathBuf>,
    /// Commit after this many changed documents.
    pub checkpoint_docs: usize,
    /// Commit at least this often while work is pending.
    pub checkpoint_interval: Duration,
    /// Merge the segments of a size level once there are this many; 0
    /// never merges. Every segment costs each query a dictionary lookup
    /// per visual word, so the default merges early (see
    /// [`MERGE_AT_SEGMENTS`]).
    pub merge_at_segments: usize,
}

impl RefreshOptions {
    /// Options with the default checkpoints (2,000 documents or 30 s).
    pub fn new(index_dir: PathBuf, roots: Vec<PathBuf>) -> RefreshOptions {
        RefreshOptions {
            index_dir,
            roots,
            manifest: None,
            checkpoint_docs: 2_000,
            checkpoint_interval: Duration::from_secs(30),
            merge_at_segments: MERGE_AT_SEGMENTS,
        }
    }
}

/// Counts of what a refresh did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefreshStats {
    /// New documents.
    pub added: usize,
    /// Documents replaced (new bytes or new metadata).
    pub updated: usize,
    /// Documents of files gone from the roots.
    pub removed: usize,
    /// Files left as they were.
    pub unchanged: usize,
    /// Files (or manifest rows) that could not be used.
    pub failed: usize,
    /// Commits written.
    pub commits: usize,
    /// True when Ctrl-C stopped the run early (work up to the last
    /// checkpoint is kept).
    pub interrupted: bool,
}

/// A document already in the index: its record without the local
/// features (which are loaded only for the few stills rewritten from it,
/// so a refresh's memory does not grow with the catalogue's features),
/// and where it is stored.
#[derive(Clone)]
struct Indexed {
    record: RefRecord,
    addr: DocAddress,
}

enum Todo {
    /// Same size and mtime, new metadata: rewrite without reading.
    Meta(RefRecord, DocAddress),
    /// Must be read (and maybe decoded).
    Read(Reference, Option<Indexed>),
}

/// Brings the index at `opts.index_dir` in line with the files under
/// `opts.roots`. Bad files are passed to `on_problem` and counted; the
/// error return is for the index as a whole (locked, unreadable, other
/// settings).
pub fn refresh(
    opts: &RefreshOptions,
    progress: &dyn Progress,
    on_problem: &mut dyn FnMut(&Problem),
) -> Result<RefreshStats, IndexError> {
    let dir = &opts.index_dir;
    let (index, fields) = open_or_create(dir)?;
    let mut writer = open_writer(dir, &index, 64 << 20, opts.merge_at_segments)?;
    let (searcher, existing) = load_records(dir, &index, &fields)?;

    let mut stats = RefreshStats::default();
    let (refs, problems) = discover::find_references(&opts.roots, opts.manifest.as_deref());
    for p in &problems {
        on_problem(p);
    }
    stats.failed += problems.len();
    let roots: Vec<PathBuf> = opts
        .roots
        .iter()
        .filter(|r| r.is_dir())
        .filter_map(|r| std::path::absolute(r).ok())
        .collect();
    let blocked: Vec<&Path> = problems.iter().map(|p| p.path.as_path()).collect();

    let mut seen = std::collections::HashSet::with_capacity(refs.len());
    let mut todo = Vec::new();
    for r in refs {
        let key = r.path.to_string_lossy().into_owned();
        seen.insert(key.clone());
        match classify(r, existing.get(&key)) {
            None => stats.unchanged += 1,
            Some(t) => todo.push(t),
        }
    }

    let mut pending = 0usize;
    let mut last_commit = Instant::now();
    progress.start("indexing", todo.len() as u64);
    for batch in todo.chunks(256) {
        if interrupted() {
            stats.interrupted = true;
            break;
        }
        let results: Vec<Result<(RefRecord, bool), Problem>> = batch
            .par_iter()
            .map_init(Worker::new, |w, t| process(w, &searcher, &fields, t))
            .collect();
        for (t, result) in batch.iter().zip(results) {
            match result {
                Err(p) => {
                    on_problem(&p);
                    stats.failed += 1;
                }
                Ok((record, content_same)) => {
                    let had_old = matches!(t, Todo::Meta(..) | Todo::Read(_, Some(_)));
                    let old_meta = match t {
                        Todo::Read(_, Some(old)) => Some(&old.record.meta),
                        _ => None,
                    };
                    if content_same && old_meta == Some(&record.meta) {
                        stats.unchanged += 1;
                    } else if had_old {
                        stats.updated += 1;
                    } else {
                        stats.added += 1;
                    }
                    writer.delete_term(Term::from_field_text(fields.path, &record.path));
                    writer
                        .add_document(fields.to_doc(&record))
                        .map_err(|e| IndexError::tantivy(dir, e))?;
                    pending += 1;
                }
            }
        }
        progress.advance(batch.len() as u64);
        if pending >= opts.checkpoint_docs || last_commit.elapsed() >= opts.checkpoint_interval {
            commit(dir, &mut writer)?;
            stats.commits += 1;
            pending = 0;
            last_commit = Instant::now();
        }
    }
    progress.finish();

    if !stats.interrupted {
        for path in existing.keys() {
            let p = Path::new(path);
            let under_root = roots.iter().any(|r| p.starts_with(r));
            let under_problem = blocked.iter().any(|b| p.starts_with(b));
            if under_root && !under_problem && !seen.contains(path) {
                writer.delete_term(Term::from_field_text(fields.path, path));
                stats.removed += 1;
                pending += 1;
            }
        }
    }
    if pending > 0 || (stats.commits == 0 && existing.is_empty()) {
        commit(dir, &mut writer)?;
        stats.commits += 1;
    }
    writer
        .wait_merging_threads()
        .map_err(|e| IndexError::tantivy(dir, e))?;
    Ok(stats)
}

/// What to do with a discovered file; `None` when it is unchanged (same
/// size, mtime and metadata as its document).
fn classify(r: Reference, old: Option<&Indexed>) -> Option<Todo> {
    let Some(old) = old else {
        return Some(Todo::Read(r, None));
    };
    let o = &old.record;
    match file_stamp(&r.path) {
        Some((size, mtime)) if size == o.size && mtime == o.mtime_ns => {
            (o.meta != r.meta).then(|| {
                let record = RefRecord {
                    meta: r.meta,
                    ..o.clone()
                };
                Todo::Meta(record, old.addr)
            })
        }
        _ => Some(Todo::Read(r, Some(old.clone()))),
    }
}

/// The stored local features of the document at `addr`.
fn stored_local(
    searcher: &Searcher,
    fields: &Fields,
    addr: DocAddress,
    path: &Path,
) -> Result<Option<Vec<u8>>, Problem> {
    let d: TantivyDocument = searcher.doc(addr).map_err(|e| Problem {
        path: path.to_path_buf(),
        message: format!("cannot read its indexed document: {e}"),
    })?;
    Ok(fields.from_doc(&d).local)
}

/// Returns the record to write and whether the file's content is the one
/// already indexed.
fn process(
    worker: &mut Worker,
    searcher: &Searcher,
    fields: &Fields,
    t: &Todo,
) -> Result<(RefRecord, bool), Problem> {
    let (r, old) = match t {
        Todo::Meta(record, addr) => {
            let path = Path::new(&record.path);
            let local = stored_local(searcher, fields, *addr, path)?;
            return Ok((
                RefRecord {
                    local,
                    ..record.clone()
                },
                true,
            ));
        }
        Todo::Read(r, old) => (r, old),
    };
    let fail = |message: String| Problem {
        path: r.path.clone(),
        message,
    };
    let (size, mtime_ns) = file_stamp(&r.path).ok_or_else(|| fail("cannot stat file".into()))?;
    let bytes = source::read_limited(&r.path).map_err(|e| fail(e.to_string()))?;
    let sha256 = source::sha256_hex(&bytes);
    let path = r.path.to_string_lossy().into_owned();
    if let Some(old) = old.as_ref().filter(|o| o.record.sha256 == sha256) {
        let record = RefRecord {
            path,
            sha256,
            size,
            mtime_ns,
            meta: r.meta.clone(),
            local: stored_local(searcher, fields, old.addr, &r.path)?,
            ..old.record.clone()
        };
        return Ok((record, true));
    }
    let decoded =
        crate::decode::decode_bytes(&bytes, WORKING_DECODE).map_err(|e| fail(e.to_string()))?;
    let grey = pillow::to_luma8(&decoded.image);
    let fingerprint = worker.fp.fingerprint_with_grey(
        &decoded.image,
        &grey,
        decoded.width,
        decoded.height,
        Algorithms::ALL,
    );
    let local = LocalFeatures::of_reference(&mut worker.fx, &grey).to_bytes();
    Ok((
        RefRecord {
            path,
            sha256,
            size,
            mtime_ns,
            meta: r.meta.clone(),
            fingerprint,
            local: Some(local),
        },
        false,
    ))
}

/// Per-thread hashing and feature-extraction state.
struct Worker {
    fp: Fingerprinter,
    fx: FeatureExtractor,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            fp: Fingerprinter::new(),
            fx: FeatureExtractor::new(reference::reference_params()),
        }
    }
}

fn file_stamp(path: &Path) -> Option<(u64, u64)> {
    let md = std::fs::metadata(path).ok()?;
    let mtime = md
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos() as u64;
    Some((md.len(), mtime))
}

pub(crate) fn commit(dir: &Path, writer: &mut IndexWriter) -> Result<(), IndexError> {
    let payload = serde_json::to_string(&Settings::current()).unwrap_or_default();
    let mut prepared = writer
        .prepare_commit()
        .map_err(|e| IndexError::tantivy(dir, e))?;
    prepared.set_payload(&payload);
    prepared.commit().map_err(|e| IndexError::tantivy(dir, e))?;
    Ok(())
}

/// Segments of a level are merged as soon as there are two of them
/// (tantivy's default waits for eight). Retrieval looks every visual word of
/// a frame up in each segment's term dictionary, so a query's cost grows
/// with the segment count, while a merge is paid once per refresh. Levels
/// still grow geometrically, so a still is rewritten a logarithmic number of
/// times over the catalogue's life.
pub const MERGE_AT_SEGMENTS: usize = 2;

/// The index's writer, merging a level's segments once there are
/// `merge_at` of them (never when 0).
pub(crate) fn open_writer(
    dir: &Path,
    index: &Index,
    memory_budget: usize,
    merge_at: usize,
) -> Result<IndexWriter, IndexError> {
    let writer: IndexWriter = index.writer(memory_budget).map_err(|e| match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => IndexError::Locked(dir.to_path_buf()),
        e => IndexError::tantivy(dir, e),
    })?;
    if merge_at == 0 {
        writer.set_merge_policy(Box::new(NoMergePolicy));
    } else {
        let mut policy = LogMergePolicy::default();
        policy.set_min_num_segments(merge_at);
        writer.set_merge_policy(Box::new(policy));
    }
    Ok(writer)
}

pub(crate) fn open_or_create(dir: &Path) -> Result<(Index, Fields), IndexError> {
    std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let (schema, fields) = schema::schema();
    let mmap = MmapDirectory::open(dir).map_err(|e| IndexError::tantivy(dir, e.into()))?;
    let index = Index::open_or_create(mmap, schema).map_err(|e| match e {
        TantivyError::SchemaError(found) => IndexError::Settings {
            path: dir.to_path_buf(),
            found,
            expected: "frametrace's schema".into(),
        },
        e => IndexError::tantivy(dir, e),
    })?;
    check_settings(dir, &index)?;
    Ok((index, fields))
}

/// The indexed documents by path, without their local features, and the
/// searcher that reads them (kept for the features of rewritten stills).
fn load_records(
    dir: &Path,
    index: &Index,
    fields: &Fields,
) -> Result<(Searcher, HashMap<String, Indexed>), IndexError> {
    let err = |e: TantivyError| IndexError::tantivy(dir, e);
    let reader = index.reader().map_err(err)?;
    let searcher = reader.searcher();
    let mut out = HashMap::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let store = segment.get_store_reader(1).map_err(|e| err(e.into()))?;
        for doc in segment.doc_ids_alive() {
            let addr = DocAddress::new(ord as u32, doc);
            let bytes = store.get_document_bytes(doc).map_err(err)?;
            let record = match fields.from_stored_bytes(&bytes, Local::Skip) {
                Some(r) => r,
                None => {
                    let d: TantivyDocument = searcher.doc(addr).map_err(err)?;
                    RefRecord {
                        local: None,
                        ..fields.from_doc(&d)
                    }
                }
            };
            out.insert(record.path.clone(), Indexed { record, addr });
        }
    }
    Ok((searcher, out))
}
