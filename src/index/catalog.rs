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

use tantivy::directory::MmapDirectory;
use tantivy::schema::IndexRecordOption;
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Index, ReloadPolicy, Searcher, TantivyDocument};

use super::schema::{self, Fields, Local, PDQ_FIELDS, RefRecord};
use super::{IndexError, check_settings};
use crate::local::reference::word_key;
use crate::search::HammingIndex;

/// A still on the local stage's shortlist.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shortlisted {
    /// Reference id.
    pub id: u32,
    /// Summed idf of the visual words shared with the frame as it is and
    /// with its mirror image.
    pub scores: [f32; 2],
    /// Whether the still is among the top k of each view.
    pub retrieved: [bool; 2],
}

impl Shortlisted {
    /// The better of the two views' scores.
    pub fn best(&self) -> f32 {
        self.scores[0].max(self.scores[1])
    }
}

/// An opened reference index, ready for search.
pub struct Catalog {
    path: PathBuf,
    searcher: Searcher,
    /// One document store reader per segment, for [`Catalog::record`].
    stores: Vec<StoreReader>,
    fields: Fields,
    addrs: Vec<DocAddress>,
    /// Per segment, the id of each document (`u32::MAX` when deleted).
    ids: Vec<Vec<u32>>,
    /// phash of every reference still; ids are positions.
    pub phash: HammingIndex<1>,
    /// PDQ of every reference still, same ids.
    pub pdq: HammingIndex<4>,
    /// PDQ quality per id.
    pub quality: Vec<u8>,
}

const OPEN_ATTEMPTS: usize = 20;
/// Decompressed document store blocks cached per segment (tantivy's
/// searcher keeps as many).
const STORE_CACHE_BLOCKS: usize = 100;
/// BM25's usual saturation and length-normalisation constants.
const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;

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
        let mut ids = Vec::new();
        let mut phash = Vec::with_capacity(total);
        let mut pdq = Vec::with_capacity(total);
        let mut quality = Vec::with_capacity(total);
        let mut stores = Vec::new();
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
            stores.push(
                segment
                    .get_store_reader(STORE_CACHE_BLOCKS)
                    .map_err(|e| IndexError::tantivy(path, e.into()))?,
            );
            let mut segment_ids = vec![u32::MAX; segment.max_doc() as usize];
            for doc in segment.doc_ids_alive() {
                segment_ids[doc as usize] = addrs.len() as u32;
                addrs.push(DocAddress::new(ord as u32, doc));
                phash.push([ph.first(doc).unwrap_or(0)]);
                pdq.push(words.each_ref().map(|w| w.first(doc).unwrap_or(0)));
                quality.push(q.first(doc).unwrap_or(0).min(100) as u8);
            }
            ids.push(segment_ids);
        }
        Ok(Catalog {
            path: path.to_path_buf(),
            searcher,
            stores,
            fields,
            addrs,
            ids,
            phash: HammingIndex::build(phash),
            pdq: HammingIndex::build(pdq),
            quality,
        })
    }

    /// Which of `ids` belong to `series`, read from the series fast field
    /// (no stored document is loaded).
    pub fn in_series(&self, ids: &[u32], series: &str) -> Result<Vec<bool>, IndexError> {
        let err = |e: tantivy::TantivyError| IndexError::tantivy(&self.path, e);
        let io = |e: std::io::Error| IndexError::tantivy(&self.path, e.into());
        let mut columns = Vec::new();
        for segment in self.searcher.segment_readers() {
            let column = segment.fast_fields().str("series").map_err(err)?;
            let ord = match &column {
                Some(c) => c.dictionary().term_ord(series.as_bytes()).map_err(io)?,
                None => None,
            };
            columns.push(column.zip(ord));
        }
        Ok(ids
            .iter()
            .map(|&id| {
                self.addrs.get(id as usize).is_some_and(|a| {
                    columns[a.segment_ord as usize]
                        .as_ref()
                        .is_some_and(|(c, ord)| c.ords().first(a.doc_id) == Some(*ord))
                })
            })
            .collect())
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
        let bytes = self.stores[addr.segment_ord as usize]
            .get_document_bytes(addr.doc_id)
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        if let Some(record) = self.fields.from_stored_bytes(&bytes, Local::Keep) {
            return Ok(record);
        }
        let doc: TantivyDocument = self
            .searcher
            .doc(addr)
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        Ok(self.fields.from_doc(&doc))
    }

    /// The `k` stills sharing the most idf-weighted visual words with
    /// each of `views` (a frame and its mirror image), best first, with
    /// their best score and which views retrieved them: the local stage's
    /// shortlist.
    ///
    /// Scores are BM25 (every word occurs once per still), summed straight
    /// from the postings lists (one lookup per
    /// distinct word, one accumulator per segment) rather than through a
    /// `BooleanQuery` of thousands of `TermQuery`s, whose per-term weights
    /// and scorers cost more than the postings themselves.
    pub fn similar(&self, views: [&[u32]; 2], k: usize) -> Result<Vec<Shortlisted>, IndexError> {
        Ok(self.similar_deep(views, k, k)?.0)
    }

    /// [`Catalog::similar`], plus the stills ranked below the shortlist
    /// down to rank `depth` in either view, best first (`retrieved` then
    /// says which views rank them within `depth`): where the local stage
    /// looks for more stills of a series it found partial evidence for.
    pub fn similar_deep(
        &self,
        views: [&[u32]; 2],
        k: usize,
        depth: usize,
    ) -> Result<(Vec<Shortlisted>, Vec<Shortlisted>), IndexError> {
        let depth = depth.max(k);
        let err = |e: tantivy::TantivyError| IndexError::tantivy(&self.path, e);
        let io = |e: std::io::Error| IndexError::tantivy(&self.path, e.into());
        let total = self.addrs.len().max(1) as f32;
        // Each distinct word once, with the views it belongs to.
        let mut words: Vec<(u32, u8)> = views[0]
            .iter()
            .map(|&w| (w, 1))
            .chain(views[1].iter().map(|&w| (w, 2)))
            .collect();
        words.sort_unstable();
        words.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 |= b.1;
            }
            same
        });
        // Term infos per segment, and document frequencies over all of
        // them (idf must not depend on how the index is split in segments).
        let segments = self.searcher.segment_readers();
        let mut df = vec![0u32; words.len()];
        let mut infos = Vec::with_capacity(segments.len());
        for segment in segments {
            let inverted = segment.inverted_index(self.fields.words).map_err(err)?;
            let mut found = Vec::with_capacity(words.len());
            let mut key = Vec::with_capacity(8);
            for (i, &(w, _)) in words.iter().enumerate() {
                key.clear();
                word_key(w, &mut key);
                let info = inverted.terms().get(&key).map_err(io)?;
                df[i] += info.as_ref().map_or(0, |t| t.doc_freq);
                found.push(info);
            }
            infos.push((inverted, found));
        }
        let tokens: u64 = infos.iter().map(|(inv, _)| inv.total_num_tokens()).sum();
        let mut top: Vec<Shortlisted> = Vec::new();
        for (ord, (segment, (inverted, found))) in segments.iter().zip(&infos).enumerate() {
            let mut acc = vec![[0f32; 2]; segment.max_doc() as usize];
            // One postings reader per segment, reset for each word.
            let mut reader: Option<tantivy::postings::BlockSegmentPostings> = None;
            for ((&(_, views), info), &n) in words.iter().zip(found).zip(&df) {
                let Some(info) = info else {
                    continue;
                };
                let n = n as f32;
                let idf = (1.0 + (total - n + 0.5) / (n + 0.5)).ln();
                let block = match reader.as_mut() {
                    Some(b) => {
                        inverted
                            .reset_block_postings_from_terminfo(info, b)
                            .map_err(io)?;
                        b
                    }
                    None => reader.insert(
                        inverted
                            .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)
                            .map_err(io)?,
                    ),
                };
                while !block.docs().is_empty() {
                    for &d in block.docs() {
                        let a = &mut acc[d as usize];
                        if views & 1 != 0 {
                            a[0] += idf;
                        }
                        if views & 2 != 0 {
                            a[1] += idf;
                        }
                    }
                    block.advance();
                }
            }
            // BM25 with term frequency 1: a per-document length factor, so
            // busy stills with many words do not collect chance matches.
            let norms = segment
                .get_fieldnorms_reader(self.fields.words)
                .map_err(err)?;
            let avg = tokens as f32 / total;
            for doc in segment.doc_ids_alive() {
                let len = norms.fieldnorm(doc) as f32 / avg.max(1.0);
                let f = (BM25_K1 + 1.0) / (1.0 + BM25_K1 * (1.0 - BM25_B + BM25_B * len));
                let [straight, mirrored] = acc[doc as usize].map(|v| v * f);
                if straight <= 0.0 && mirrored <= 0.0 {
                    continue;
                }
                let id = self.ids[ord][doc as usize];
                if id != u32::MAX {
                    top.push(Shortlisted {
                        id,
                        scores: [straight, mirrored],
                        retrieved: [false; 2],
                    });
                }
            }
        }
        // Each view's own ranking; the shortlist is the union of both
        // views' top k, ranked by its better view.
        let mut rank = vec![[usize::MAX; 2]; top.len()];
        for v in [0, 1] {
            let mut order: Vec<usize> =
                (0..top.len()).filter(|&i| top[i].scores[v] > 0.0).collect();
            // A total order (ids break ties): the top `depth` first, then
            // only they are sorted.
            let by_score = |&a: &usize, &b: &usize| {
                top[b].scores[v]
                    .total_cmp(&top[a].scores[v])
                    .then(top[a].id.cmp(&top[b].id))
            };
            if order.len() > depth {
                order.select_nth_unstable_by(depth, by_score);
                order.truncate(depth);
            }
            order.sort_unstable_by(by_score);
            order.iter().enumerate().for_each(|(r, &i)| rank[i][v] = r);
        }
        let mut out: Vec<(Shortlisted, [usize; 2])> = top
            .into_iter()
            .zip(rank)
            .filter(|(_, r)| r[0] < depth || r[1] < depth)
            .collect();
        out.sort_by(|a, b| b.0.best().total_cmp(&a.0.best()).then(a.0.id.cmp(&b.0.id)));
        let (mut short, mut deep) = (Vec::new(), Vec::new());
        for (mut s, r) in out {
            let within = |n: usize| [r[0] < n, r[1] < n];
            if short.len() < k && (r[0] < k || r[1] < k) {
                s.retrieved = within(k);
                short.push(s);
            } else {
                s.retrieved = within(depth);
                deep.push(s);
            }
        }
        Ok((short, deep))
    }
}
