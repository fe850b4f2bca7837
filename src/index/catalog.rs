//! The read side of the index: opens the last commit and derives the
//! in-memory Hamming structures from its fast fields.
//!
//! tantivy term lookups cost microseconds, far too slow for Hamming search
//! over a million stills, so the hash words are read once from the fast
//! fields into [`HammingIndex`]es. Opening retries when a concurrent
//! refresh replaces the commit between reading `meta.json` and opening the
//! segment files: a reader sees the old or the new commit, never an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::BooleanQuery;
use tantivy::{DocAddress, Index, ReloadPolicy, Searcher, TantivyDocument, Term};

use super::schema::{self, Fields, PDQ_FIELDS, RefRecord};
use super::{IndexError, check_settings};
use crate::local::reference::word_term;
use crate::search::HammingIndex;

/// An opened reference index, ready for search.
pub struct Catalog {
    path: PathBuf,
    searcher: Searcher,
    fields: Fields,
    addrs: Vec<DocAddress>,
    /// phash of every reference still; ids are positions.
    pub phash: HammingIndex<1>,
    /// PDQ of every reference still, same ids.
    pub pdq: HammingIndex<4>,
    /// PDQ quality per id.
    pub quality: Vec<u8>,
}

const OPEN_ATTEMPTS: usize = 20;

impl Catalog {
    /// Opens the index at `path` (its last commit).
    pub fn open(path: &Path) -> Result<Catalog, IndexError> {
        if !path.join("meta.json").is_file() {
            return Err(IndexError::Missing(path.to_path_buf()));
        }
        let mut last_err = None;
        for attempt in 0..OPEN_ATTEMPTS {
            match Catalog::try_open(path) {
                Ok(c) => return Ok(c),
                Err(e @ (IndexError::Settings { .. } | IndexError::Missing(_))) => return Err(e),
                Err(e) => last_err = Some(e),
            }
            std::thread::sleep(Duration::from_millis(25 * (attempt as u64 + 1)));
        }
        Err(last_err.unwrap_or_else(|| IndexError::Missing(path.to_path_buf())))
    }

    fn try_open(path: &Path) -> Result<Catalog, IndexError> {
        let dir = MmapDirectory::open(path).map_err(|e| IndexError::tantivy(path, e.into()))?;
        let index = Index::open(dir).map_err(|e| IndexError::tantivy(path, e))?;
        check_settings(path, &index)?;
        let (_, fields) = schema::schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| IndexError::tantivy(path, e))?;
        let searcher = reader.searcher();
        let total = searcher.num_docs() as usize;
        let mut addrs = Vec::with_capacity(total);
        let mut phash = Vec::with_capacity(total);
        let mut pdq = Vec::with_capacity(total);
        let mut quality = Vec::with_capacity(total);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ff = segment.fast_fields();
            let col = |name: &str| ff.u64(name).map_err(|e| IndexError::tantivy(path, e));
            let ph = col("phash")?;
            let words = [
                col(PDQ_FIELDS[0])?,
                col(PDQ_FIELDS[1])?,
                col(PDQ_FIELDS[2])?,
                col(PDQ_FIELDS[3])?,
            ];
            let q = col("pdq_quality")?;
            for doc in segment.doc_ids_alive() {
                addrs.push(DocAddress::new(ord as u32, doc));
                phash.push([ph.first(doc).unwrap_or(0)]);
                pdq.push(words.each_ref().map(|w| w.first(doc).unwrap_or(0)));
                quality.push(q.first(doc).unwrap_or(0).min(100) as u8);
            }
        }
        Ok(Catalog {
            path: path.to_path_buf(),
            searcher,
            fields,
            addrs,
            phash: HammingIndex::build(phash),
            pdq: HammingIndex::build(pdq),
            quality,
        })
    }

    /// Number of reference stills.
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// True when the index holds no still.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The stored record of reference `id`.
    pub fn record(&self, id: u32) -> Result<RefRecord, IndexError> {
        let addr = self.addrs.get(id as usize).copied().ok_or_else(|| {
            IndexError::tantivy(
                &self.path,
                tantivy::TantivyError::InvalidArgument(format!("no reference {id}")),
            )
        })?;
        let doc: TantivyDocument = self
            .searcher
            .doc(addr)
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        Ok(self.fields.from_doc(&doc))
    }

    /// The `k` stills sharing the most (idf-weighted) visual words with
    /// `words`, best first, with their retrieval scores: the local stage's
    /// shortlist.
    pub fn similar(&self, words: &[u32], k: usize) -> Result<Vec<(u32, f32)>, IndexError> {
        if words.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let terms = words
            .iter()
            .map(|&w| Term::from_field_text(self.fields.words, &word_term(w)))
            .collect();
        let query = BooleanQuery::new_multiterms_query(terms);
        let top = self
            .searcher
            .search(&query, &TopDocs::with_limit(k).order_by_score())
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        // `addrs` is in (segment, doc) order, so a binary search finds ids.
        Ok(top
            .into_iter()
            .filter_map(|(score, addr)| {
                let id = self.addrs.binary_search(&addr).ok()?;
                Some((id as u32, score))
            })
            .collect())
    }
}
