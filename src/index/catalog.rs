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
use super::words::WordTerms;
use super::{IndexError, check_settings};
use crate::local::ORIENTATION_BINS;
use crate::local::reference::{OrientedWord, word_key};
use crate::search::HammingIndex;

/// A still on the local stage's shortlist.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shortlisted {
    /// Reference id.
    pub id: u32,
    /// Idf-weighted votes of the visual words shared with the frame as it
    /// is and with its mirror image at their best rotation
    /// ([`Catalog::similar_deep`]).
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
    /// Per segment, its visual words' term infos, read on the local
    /// stage's first retrieval (`None`: looked up in the dictionary).
    word_terms: std::sync::OnceLock<Vec<Option<WordTerms>>>,
}

const OPEN_ATTEMPTS: usize = 20;
/// Decompressed document store blocks cached per segment (tantivy's
/// searcher keeps as many).
const STORE_CACHE_BLOCKS: usize = 100;

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
            word_terms: std::sync::OnceLock::new(),
        })
    }

    /// Each segment's [`WordTerms`], read once. A segment whose words
    /// cannot be read so is left to its term dictionary, which then
    /// reports any error itself.
    fn word_terms(&self) -> &[Option<WordTerms>] {
        self.word_terms.get_or_init(|| {
            self.searcher
                .segment_readers()
                .iter()
                .map(|segment| {
                    let inverted = segment.inverted_index(self.fields.words).ok()?;
                    WordTerms::read(inverted.terms()).ok().flatten()
                })
                .collect()
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
        self.record_with(id, Local::Keep)
    }

    /// The path of reference `id` (its record without local features).
    pub fn path(&self, id: u32) -> Result<String, IndexError> {
        Ok(self.record_with(id, Local::Skip)?.path)
    }

    fn record_with(&self, id: u32, local: Local) -> Result<RefRecord, IndexError> {
        let addr = self.addrs.get(id as usize).copied().ok_or_else(|| {
            IndexError::tantivy(
                &self.path,
                tantivy::TantivyError::InvalidArgument(format!("no reference {id}")),
            )
        })?;
        let bytes = self.stores[addr.segment_ord as usize]
            .get_document_bytes(addr.doc_id)
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        if let Some(record) = self.fields.from_stored_bytes(&bytes, local) {
            return Ok(record);
        }
        let doc: TantivyDocument = self
            .searcher
            .doc(addr)
            .map_err(|e| IndexError::tantivy(&self.path, e))?;
        Ok(self.fields.from_doc(&doc))
    }

    /// The `k` stills that share the most idf-weighted visual words with
    /// each of `views` (a frame and its mirror image) at one consistent
    /// rotation, best first, with their scores and which views retrieved
    /// them: the local stage's shortlist ([`Catalog::similar_deep`]).
    pub fn similar(
        &self,
        views: [&[OrientedWord]; 2],
        k: usize,
    ) -> Result<Vec<Shortlisted>, IndexError> {
        Ok(self.similar_deep(views, k, k)?.0)
    }

    /// [`Catalog::similar`], plus the stills ranked below the shortlist
    /// down to rank `depth` in either view, best first (`retrieved` then
    /// says which views rank them within `depth`): where the local stage
    /// looks for more stills of a series it found partial evidence for.
    ///
    /// Weak geometric consistency: each word a still shares with the
    /// frame votes its idf for the rotation between the two keypoints
    /// (the still's orientation is the word's term frequency,
    /// [`schema::word_frequency`]; the frame's, [`OrientedWord`]), in
    /// [`ORIENTATION_BINS`] bins, and a still scores the votes of its best
    /// three adjacent bins. The words a crop, notes, a watermark or a
    /// retake sheet share with a still by chance scatter over the bins;
    /// the words of the picture the frame shows agree (README, "The local
    /// stage", for what it gains over BM25 on devbench).
    ///
    /// Scores are summed straight from the postings lists (one lookup per
    /// distinct word, votes for a range of documents at a time) rather
    /// than through a `BooleanQuery` of thousands of `TermQuery`s, whose
    /// per-term weights and scorers cost more than the postings
    /// themselves. Stills whose scores are equal to the bit (a held
    /// drawing indexed once per frame) are kept once, the smallest id:
    /// they would only fill the shortlist with one picture.
    pub fn similar_deep(
        &self,
        views: [&[OrientedWord]; 2],
        k: usize,
        depth: usize,
    ) -> Result<(Vec<Shortlisted>, Vec<Shortlisted>), IndexError> {
        let depth = depth.max(k);
        let err = |e: tantivy::TantivyError| IndexError::tantivy(&self.path, e);
        let io = |e: std::io::Error| IndexError::tantivy(&self.path, e.into());
        let total = self.addrs.len().max(1) as f32;
        let words = QueryWords::new(views);
        // Term infos per segment, and document frequencies over all of
        // them (idf must not depend on how the index is split in segments).
        let segments = self.searcher.segment_readers();
        let mut df = vec![0u32; words.distinct.len()];
        let mut infos = Vec::with_capacity(segments.len());
        for (segment, table) in segments.iter().zip(self.word_terms()) {
            let inverted = segment.inverted_index(self.fields.words).map_err(err)?;
            let mut found = Vec::with_capacity(words.distinct.len());
            let mut key = Vec::with_capacity(8);
            for (i, &(w, _)) in words.distinct.iter().enumerate() {
                let info = match table {
                    Some(table) => table.get(w),
                    None => {
                        key.clear();
                        word_key(w, &mut key);
                        inverted.terms().get(&key).map_err(io)?
                    }
                };
                df[i] += info.as_ref().map_or(0, |t| t.doc_freq);
                found.push(info);
            }
            infos.push((inverted, found));
        }
        let idf: Vec<f32> = df
            .iter()
            .map(|&n| {
                let n = n as f32;
                (1.0 + (total - n + 0.5) / (n + 0.5)).ln()
            })
            .collect();
        // A word found at several orientations in the frame splits its
        // vote between them.
        let weights: Vec<[f32; 2]> = idf
            .iter()
            .enumerate()
            .map(|(i, &idf)| words.angles(i).map(|a| idf / a.len().max(1) as f32))
            .collect();
        let mut top: Vec<(u32, [f32; 2])> = Vec::new();
        let mut votes: Vec<[[f32; BINS]; 2]> = Vec::new();
        for (ord, (segment, (inverted, found))) in segments.iter().zip(&infos).enumerate() {
            let max_doc = segment.max_doc();
            // One postings reader per segment, reset for each word; a
            // large segment is voted on in ranges of documents, so the
            // votes stay within VOTE_DOCS documents' worth of memory.
            let mut reader: Option<tantivy::postings::BlockSegmentPostings> = None;
            for lo in (0..max_doc).step_by(VOTE_DOCS as usize) {
                let hi = max_doc.min(lo + VOTE_DOCS);
                votes.clear();
                votes.resize((hi - lo) as usize, [[0.0; BINS]; 2]);
                for (i, info) in found.iter().enumerate() {
                    let Some(info) = info else {
                        continue;
                    };
                    let block = match reader.as_mut() {
                        Some(b) => {
                            inverted
                                .reset_block_postings_from_terminfo(info, b)
                                .map_err(io)?;
                            b
                        }
                        None => reader.insert(
                            inverted
                                .read_block_postings_from_terminfo(
                                    info,
                                    IndexRecordOption::WithFreqs,
                                )
                                .map_err(io)?,
                        ),
                    };
                    if lo > 0 {
                        block.seek(lo);
                    }
                    let angles = words.angles(i);
                    'postings: while !block.docs().is_empty() {
                        for (&d, &tf) in block.docs().iter().zip(block.freqs()) {
                            if d >= hi {
                                break 'postings;
                            }
                            let (Some(bin), Some(cell)) =
                                (schema::frequency_bin(tf), d.checked_sub(lo))
                            else {
                                continue;
                            };
                            let cell = &mut votes[cell as usize];
                            for v in 0..2 {
                                for &a in angles[v] {
                                    cell[v][(bin + BINS as u8 - a) as usize % BINS] +=
                                        weights[i][v];
                                }
                            }
                        }
                        block.advance();
                    }
                }
                for (doc, v) in (lo..hi).zip(&votes) {
                    let id = self.ids[ord][doc as usize];
                    let scores = v.map(|bins| consistent(&bins));
                    if id != u32::MAX && (scores[0] > 0.0 || scores[1] > 0.0) {
                        top.push((id, scores));
                    }
                }
            }
        }
        // Each view's own ranking; the shortlist is the union of both
        // views' top k, ranked by its better view.
        let mut rank = vec![[usize::MAX; 2]; top.len()];
        for v in [0, 1] {
            let scores: Vec<(u32, f32)> = top
                .iter()
                .enumerate()
                .map(|(i, &(_, s))| (i as u32, s[v]))
                .collect();
            for (r, i) in ranks(scores, depth).into_iter().enumerate() {
                rank[i as usize][v] = r;
            }
        }
        let mut out: Vec<(Shortlisted, [usize; 2])> = top
            .into_iter()
            .zip(rank)
            .filter(|(_, r)| r[0] < depth || r[1] < depth)
            .map(|((id, scores), r)| {
                let s = Shortlisted {
                    id,
                    scores,
                    retrieved: [false; 2],
                };
                (s, r)
            })
            .collect();
        out.sort_by(|a, b| b.0.best().total_cmp(&a.0.best()).then(a.0.id.cmp(&b.0.id)));
        // Of stills scored equal to the bit, the smallest path stays (not
        // the smallest id, which depends on how the index was built), with
        // the best ranks of its group.
        let same = |a: &Shortlisted, b: &Shortlisted| {
            a.scores.map(f32::to_bits) == b.scores.map(f32::to_bits)
        };
        let mut start = 0;
        while start < out.len() {
            let head = out[start].0;
            let end = start
                + out[start..]
                    .iter()
                    .take_while(|o| same(&o.0, &head))
                    .count();
            if end - start > 1 {
                let mut kept = (self.path(head.id)?, start);
                for (i, o) in out.iter().enumerate().take(end).skip(start + 1) {
                    let path = self.path(o.0.id)?;
                    if path < kept.0 {
                        kept = (path, i);
                    }
                }
                let ranks = out[start..end]
                    .iter()
                    .fold([usize::MAX; 2], |r, o| [r[0].min(o.1[0]), r[1].min(o.1[1])]);
                out.swap(start, kept.1);
                out[start].1 = ranks;
            }
            start = end;
        }
        out.dedup_by(|b, a| same(&a.0, &b.0));
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

/// Documents voted on at once (votes take 128 bytes a document).
const VOTE_DOCS: u32 = 1 << 16;
const BINS: usize = ORIENTATION_BINS as usize;

/// The votes of the best three adjacent rotation bins (circular): the
/// keypoints' orientations are quantised, so one rotation spreads over
/// neighbouring bins.
fn consistent(bins: &[f32; BINS]) -> f32 {
    (0..BINS)
        .map(|b| bins[(b + BINS - 1) % BINS] + bins[b] + bins[(b + 1) % BINS])
        .fold(0.0, f32::max)
}

/// The ids of the best `n` positive scores, best first (ties: smaller id).
fn ranks(mut scores: Vec<(u32, f32)>, n: usize) -> Vec<u32> {
    scores.retain(|s| s.1 > 0.0);
    let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scores.len() > n {
        scores.select_nth_unstable_by(n, by_score);
        scores.truncate(n);
    }
    scores.sort_unstable_by(by_score);
    scores.into_iter().map(|s| s.0).collect()
}

/// A frame's words for retrieval: each distinct word once with the views
/// it belongs to, and per view the orientations of its keypoints.
struct QueryWords {
    /// Distinct words, sorted, with a bit per view (1: as it is, 2:
    /// mirrored).
    distinct: Vec<(u32, u8)>,
    /// Per distinct word and view, its range in `bins`.
    ranges: Vec<[(u32, u32); 2]>,
    bins: Vec<u8>,
}

impl QueryWords {
    fn new(views: [&[OrientedWord]; 2]) -> QueryWords {
        let mut all: Vec<(u32, u8, u8)> = views
            .iter()
            .enumerate()
            .flat_map(|(v, ws)| ws.iter().map(move |&(w, b)| (w, v as u8, b)))
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut words = QueryWords {
            distinct: Vec::new(),
            ranges: Vec::new(),
            bins: all.iter().map(|e| e.2).collect(),
        };
        for (i, &(w, v, _)) in all.iter().enumerate() {
            if words.distinct.last().is_none_or(|d| d.0 != w) {
                words.distinct.push((w, 0));
                words.ranges.push([(i as u32, i as u32); 2]);
            }
            let (d, r) = (
                words.distinct.last_mut().expect("pushed"),
                words.ranges.last_mut().expect("pushed"),
            );
            d.1 |= 1 << v;
            if r[v as usize].0 == r[v as usize].1 {
                r[v as usize].0 = i as u32;
            }
            r[v as usize].1 = i as u32 + 1;
        }
        words
    }

    /// The orientation bins of distinct word `i`'s keypoints, per view.
    fn angles(&self, i: usize) -> [&[u8]; 2] {
        self.ranges[i].map(|(a, b)| &self.bins[a as usize..b as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistent_votes_wrap_around_the_circle() {
        let mut bins = [0.0; BINS];
        bins[BINS - 1] = 2.0;
        bins[0] = 3.0;
        bins[1] = 1.0;
        bins[8] = 4.0;
        assert_eq!(consistent(&bins), 6.0);
    }

    #[test]
    fn query_words_keep_each_views_orientations() {
        let straight = [(5, 1), (5, 3), (9, 0)];
        let mirrored = [(5, 2), (7, 4)];
        let q = QueryWords::new([&straight, &mirrored]);
        assert_eq!(q.distinct, vec![(5, 3), (7, 2), (9, 1)]);
        assert_eq!(q.angles(0), [&[1u8, 3][..], &[2][..]]);
        assert_eq!(q.angles(1), [&[][..], &[4u8][..]]);
        assert_eq!(q.angles(2), [&[0u8][..], &[][..]]);
    }

    #[test]
    fn ranks_are_best_first_with_ids_breaking_ties() {
        let scores = vec![(4, 1.0), (2, 3.0), (9, 0.0), (1, 1.0), (3, 2.0)];
        assert_eq!(ranks(scores.clone(), 10), vec![2, 3, 1, 4]);
        assert_eq!(ranks(scores, 2), vec![2, 3]);
    }
}
