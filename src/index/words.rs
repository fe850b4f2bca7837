//! Visual word to postings, without walking the term dictionary's FST.
//!
//! A frame looks up some 8,000 distinct visual words (its own and its
//! mirror image's) in every segment, and the FST walk of each lookup was a
//! third of retrieval. Visual words come from a small fixed space
//! ([`WORDS_PER_KEYPOINT`] tables of [`BITS_PER_WORD`] bits), and their
//! terms are fixed-width hex
//! ([`word_key`](crate::local::reference::word_key)), so the terms' sorted
//! order is the words' numeric order: a term's ordinal is the number of
//! the segment's words below it. [`WordTerms`] keeps one bit per possible
//! word and a running count per 64 of them (192 KiB per segment), and per
//! term its document frequency and where its postings start (12 bytes a
//! term: a term's postings end where the next term's start), read once
//! from the term dictionary; a lookup is one popcount and two reads.

use std::io;

use tantivy::postings::TermInfo;
use tantivy::termdict::TermDictionary;

use crate::local::{BITS_PER_WORD, WORDS_PER_KEYPOINT};

/// Every possible visual word, as a dense position (table, bits).
const SPACE: usize = WORDS_PER_KEYPOINT << BITS_PER_WORD;

/// The term info of each visual word present in one segment.
pub(crate) struct WordTerms {
    /// Bit `p` is set when the word at dense position `p` is a term.
    present: Vec<u64>,
    /// Per 64-bit block of `present`, the words present before it.
    before: Vec<u32>,
    /// Per term ordinal, where its postings start in the postings file;
    /// one more entry, where the last term's end.
    starts: Vec<u64>,
    /// Per term ordinal, its document frequency.
    doc_freqs: Vec<u32>,
}

/// The dense position of `word` (`t << 24 | bits`, as
/// [`crate::local::visual_words`] makes them), `None` for anything else.
fn position(word: u32) -> Option<usize> {
    let (table, bits) = ((word >> 24) as usize, word & 0x00ff_ffff);
    (table < WORDS_PER_KEYPOINT && bits < 1 << BITS_PER_WORD)
        .then_some((table << BITS_PER_WORD) | bits as usize)
}

/// The visual word a term stands for, when it is one
/// [`word_key`](crate::local::reference::word_key) writes:
/// seven lower-case hex digits (every word of the space is below 16^7),
/// read without allocating, since a large segment has a million terms.
fn word_of(term: &[u8]) -> Option<u32> {
    let digit = |b: &u8| match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a') + 10),
        _ => None,
    };
    (term.len() == 7).then_some(())?;
    term.iter().try_fold(0u32, |w, b| Some(w << 4 | digit(b)?))
}

impl WordTerms {
    /// Reads the words of a segment's term dictionary; `None` when a term
    /// is not a visual word as this build writes them, or the postings
    /// are not laid out in term order without positions (the caller then
    /// looks words up in the dictionary itself).
    pub(crate) fn read(terms: &TermDictionary) -> io::Result<Option<WordTerms>> {
        let mut present = vec![0u64; SPACE / 64];
        let mut starts = Vec::with_capacity(terms.num_terms() + 1);
        let mut doc_freqs = Vec::with_capacity(terms.num_terms());
        let mut stream = terms.stream()?;
        let mut last: Option<(usize, usize)> = None;
        while stream.advance() {
            let Some(p) = word_of(stream.key()).and_then(position) else {
                return Ok(None);
            };
            let info = stream.value();
            // Ordinals are positions in the sorted terms: they only agree
            // with counts of words below when the orders agree; and a
            // term's end is only the next one's start when they touch.
            let follows = last.is_none_or(|(lp, end)| lp < p && end == info.postings_range.start);
            if !follows || !info.positions_range.is_empty() {
                return Ok(None);
            }
            last = Some((p, info.postings_range.end));
            present[p / 64] |= 1 << (p % 64);
            starts.push(info.postings_range.start as u64);
            doc_freqs.push(info.doc_freq);
        }
        starts.push(last.map_or(0, |l| l.1) as u64);
        if doc_freqs.len() != terms.num_terms() {
            return Ok(None);
        }
        let mut before = Vec::with_capacity(present.len());
        let mut running = 0u32;
        for block in &present {
            before.push(running);
            running += block.count_ones();
        }
        Ok(Some(WordTerms {
            present,
            before,
            starts,
            doc_freqs,
        }))
    }

    /// The term info of `word`, `None` when the segment does not have it.
    pub(crate) fn get(&self, word: u32) -> Option<TermInfo> {
        let p = position(word)?;
        let (block, bit) = (p / 64, p % 64);
        let bits = self.present[block];
        if (bits >> bit) & 1 == 0 {
            return None;
        }
        let ord = (self.before[block] + (bits & ((1u64 << bit) - 1)).count_ones()) as usize;
        Some(TermInfo {
            doc_freq: self.doc_freqs[ord],
            postings_range: self.starts[ord] as usize..self.starts[ord + 1] as usize,
            positions_range: 0..0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::schema;
    use crate::local::reference::{word_key, word_term};
    use std::sync::Arc;
    use tantivy::{Index, InvertedIndexReader, TantivyDocument};

    /// An in-memory index of one segment, a document per entry of `docs`
    /// with those terms in the words field; and that field's inverted
    /// index.
    fn index_of(docs: &[Vec<String>]) -> (Index, Arc<InvertedIndexReader>) {
        let (schema, fields) = schema::schema();
        let index = Index::create_in_ram(schema);
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        for terms in docs {
            let mut d = TantivyDocument::new();
            for t in terms {
                d.add_text(fields.words, t);
            }
            writer.add_document(d).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let inverted = searcher.segment_readers()[0]
            .inverted_index(fields.words)
            .expect("inverted");
        (index, inverted)
    }

    /// `docs` documents, each holding some words of every table (some
    /// words in several documents, with several frequencies), and the
    /// distinct words, sorted.
    fn documents_of_words(docs: u32) -> (Vec<Vec<String>>, Vec<u32>) {
        let mut all = Vec::new();
        let documents = (0..docs)
            .map(|doc| {
                let mut terms = Vec::new();
                for k in 0..300u32 {
                    let table = k % WORDS_PER_KEYPOINT as u32;
                    let bits = (k * 7919 + doc * 31) % (1 << BITS_PER_WORD);
                    let word = (table << 24) | bits;
                    all.push(word);
                    for _ in 0..1 + (k + doc) % 5 {
                        terms.push(word_term(word));
                    }
                }
                terms
            })
            .collect();
        all.sort_unstable();
        all.dedup();
        (documents, all)
    }

    #[test]
    fn term_infos_are_the_dictionarys_own() {
        let (documents, words) = documents_of_words(40);
        let (_index, inverted) = index_of(&documents);
        let table = WordTerms::read(inverted.terms())
            .expect("read")
            .expect("every term is a visual word");
        let mut key = Vec::new();
        for &w in &words {
            key.clear();
            word_key(w, &mut key);
            let expected = inverted.terms().get(&key).expect("lookup");
            assert!(expected.is_some(), "{w:07x} is indexed");
            assert_eq!(table.get(w), expected, "word {w:07x}");
        }
        // Words the segment does not have, around and between the ones
        // it has, and outside the word space.
        let mut absent = 0;
        for w in words.iter().flat_map(|&w| [w.wrapping_sub(1), w + 1]) {
            if words.binary_search(&w).is_err() {
                absent += 1;
                assert_eq!(table.get(w), None, "word {w:07x}");
            }
        }
        assert!(absent > 100, "only {absent} absent words tried");
        assert_eq!(table.get((WORDS_PER_KEYPOINT as u32) << 24), None);
    }

    #[test]
    fn a_term_that_is_no_word_leaves_lookups_to_the_dictionary() {
        let (_index, inverted) = index_of(&[vec![word_term(12), "not-a-word".into()]]);
        assert!(WordTerms::read(inverted.terms()).expect("read").is_none());
    }

    #[test]
    fn positions_cover_the_word_space_and_nothing_else() {
        assert_eq!(position(0), Some(0));
        assert_eq!(position((1 << 24) | 5), Some((1 << BITS_PER_WORD) | 5));
        let last = ((WORDS_PER_KEYPOINT as u32 - 1) << 24) | ((1 << BITS_PER_WORD) - 1);
        assert_eq!(position(last), Some(SPACE - 1));
        assert_eq!(position(1 << BITS_PER_WORD), None);
        assert_eq!(position((WORDS_PER_KEYPOINT as u32) << 24), None);
    }

    #[test]
    fn only_terms_written_as_words_are_words() {
        for word in [0, 0x9, (2 << 24) | 0x3_0a0f, (3 << 24) | 0x3_ffff] {
            let mut key = Vec::new();
            word_key(word, &mut key);
            assert_eq!(word_of(&key), Some(word), "{word:07x}");
        }
        assert_eq!(word_of(b"abc"), None, "too short: not written so");
        assert_eq!(word_of(b"00000AB"), None, "upper case");
        assert_eq!(word_of(b"zz00000"), None);
        assert_eq!(word_of(b"00000000"), None, "eight digits");
    }
}
