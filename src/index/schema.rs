//! The one place that knows how a reference still becomes a tantivy
//! document and back.
//!
//! Each document is self-contained (metadata, hash words, file identity), so
//! a second backend (e.g. OpenSearch with binary `knn_vector` fields) is an
//! addition that maps [`RefRecord`] to its own document, not a rewrite.

use std::collections::BTreeMap;

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};

use crate::discover::RefMeta;
use crate::fingerprint::Fingerprint;
use crate::fingerprint::pdq::PdqHash;
use crate::local::reference::word_term;
use crate::local::{LocalFeatures, ORIENTATION_BINS};

/// Everything stored about one reference still.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefRecord {
    /// Absolute path when indexed; the key for incremental refresh.
    pub path: String,
    /// Hex sha256 of the file bytes.
    pub sha256: String,
    /// File size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// Series, episode, timecode and extra columns.
    pub meta: RefMeta,
    /// The global fingerprint (all four hashes are always present).
    pub fingerprint: Fingerprint,
    /// Local features ([`crate::local::LocalFeatures::to_bytes`]); `None`
    /// for records imported without pixels.
    /// Its visual words are derived from these bytes when the document is
    /// written.
    pub local: Option<Vec<u8>>,
}

/// Field handles of the reference schema.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Absolute file path (exact term, stored).
    pub path: Field,
    /// sha256 of the file (exact term, stored).
    pub sha256: Field,
    /// File size.
    pub size: Field,
    /// Modification time in ns.
    pub mtime: Field,
    /// Series name (exact term, stored).
    pub series: Field,
    /// Episode.
    pub episode: Field,
    /// Timecode.
    pub timecode: Field,
    /// Extra manifest columns as a JSON object string.
    pub extra: Field,
    /// Displayed width.
    pub width: Field,
    /// Displayed height.
    pub height: Field,
    /// phash (u64 fast field).
    pub phash: Field,
    /// dhash.
    pub dhash: Field,
    /// average hash.
    pub ahash: Field,
    /// The four 64-bit words of PDQ, in ThreatExchange hex order.
    pub pdq: [Field; 4],
    /// PDQ quality.
    pub quality: Field,
    /// Visual words (one raw term each) for local-stage retrieval; a
    /// word's term frequency carries the orientation of its keypoint
    /// ([`word_frequency`]).
    pub words: Field,
    /// Local features: keypoints and thumbnail (stored bytes).
    pub local: Field,
}

/// The visual words field: raw terms with their frequencies (no
/// positions, no field norms: retrieval reads neither).
fn word_options() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// How many times a word whose keypoint has orientation `bin` is added to
/// a still's document: its term frequency is `1 + bin`, so retrieval reads
/// the orientation from the postings without loading the document.
pub fn word_frequency(bin: u8) -> u32 {
    1 + u32::from(bin.min(ORIENTATION_BINS - 1))
}

/// The orientation bin a term frequency written by [`word_frequency`]
/// stands for (`None` for a frequency it never writes).
pub fn frequency_bin(tf: u32) -> Option<u8> {
    (1..=u32::from(ORIENTATION_BINS))
        .contains(&tf)
        .then(|| (tf - 1) as u8)
}

/// Names of the PDQ word fast fields, in hex order.
pub const PDQ_FIELDS: [&str; 4] = ["pdq0", "pdq1", "pdq2", "pdq3"];

/// Builds the schema and its field handles.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        path: b.add_text_field("path", STRING | STORED),
        sha256: b.add_text_field("sha256", STRING | STORED),
        size: b.add_u64_field("size", STORED),
        mtime: b.add_u64_field("mtime_ns", STORED),
        series: b.add_text_field("series", STRING | STORED | FAST),
        episode: b.add_text_field("episode", STRING | STORED),
        timecode: b.add_text_field("timecode", STORED),
        extra: b.add_text_field("extra", STORED),
        width: b.add_u64_field("width", STORED),
        height: b.add_u64_field("height", STORED),
        phash: b.add_u64_field("phash", STORED | FAST),
        dhash: b.add_u64_field("dhash", STORED | FAST),
        ahash: b.add_u64_field("ahash", STORED | FAST),
        pdq: PDQ_FIELDS.map(|name| b.add_u64_field(name, STORED | FAST)),
        quality: b.add_u64_field("pdq_quality", STORED | FAST),
        words: b.add_text_field("words", word_options()),
        local: b.add_bytes_field("local", STORED),
    };
    (b.build(), fields)
}

impl Fields {
    /// The tantivy document for `r`.
    pub fn to_doc(&self, r: &RefRecord) -> TantivyDocument {
        let fp = &r.fingerprint;
        let mut d = TantivyDocument::new();
        d.add_text(self.path, &r.path);
        d.add_text(self.sha256, &r.sha256);
        d.add_u64(self.size, r.size);
        d.add_u64(self.mtime, r.mtime_ns);
        d.add_text(self.series, &r.meta.series);
        d.add_text(self.episode, &r.meta.episode);
        d.add_text(self.timecode, &r.meta.timecode);
        d.add_text(
            self.extra,
            serde_json::to_string(&r.meta.extra).unwrap_or_default(),
        );
        d.add_u64(self.width, u64::from(fp.width));
        d.add_u64(self.height, u64::from(fp.height));
        d.add_u64(self.phash, fp.phash.unwrap_or(0));
        d.add_u64(self.dhash, fp.dhash.unwrap_or(0));
        d.add_u64(self.ahash, fp.ahash.unwrap_or(0));
        let pdq = fp.pdq.unwrap_or_default();
        for (field, word) in self.pdq.iter().zip(pdq.0) {
            d.add_u64(*field, word);
        }
        d.add_u64(self.quality, u64::from(fp.pdq_quality.unwrap_or(0)));
        if let Some(local) = &r.local {
            d.add_bytes(self.local, local);
            let words = LocalFeatures::from_bytes(local).map(|f| f.oriented_words());
            for (w, bin) in words.unwrap_or_default() {
                let term = word_term(w);
                for _ in 0..word_frequency(bin) {
                    d.add_text(self.words, &term);
                }
            }
        }
        d
    }

    /// Reads a record back from a stored document. Missing fields read as
    /// empty or zero: documents are only ever written by [`Fields::to_doc`].
    pub fn from_doc(&self, d: &TantivyDocument) -> RefRecord {
        let value = |f: Field| match d.get_first(f) {
            Some(v) => match (v.as_str(), v.as_u64(), v.as_bytes()) {
                (Some(text), _, _) => Stored::Text(text),
                (_, Some(n), _) => Stored::Num(n),
                (_, _, Some(bytes)) => Stored::Bytes(bytes),
                _ => Stored::Missing,
            },
            None => Stored::Missing,
        };
        self.assemble(value)
    }

    /// Reads a record straight from a stored document's bytes, as
    /// [`tantivy::store::StoreReader::get_document_bytes`] returns them.
    ///
    /// tantivy's own path ([`Fields::from_doc`]) reads a bytes value one
    /// byte at a time and copies it twice; for the ~20 KB of local features
    /// that cost more than the rest of the record's load. This reads the
    /// same layout (a VInt count, then per value a u32 field id, a type
    /// code and the value: text and bytes as VInt length plus data, u64 as
    /// 8 little-endian bytes) and returns `None` for anything else, so the
    /// caller can fall back to tantivy's reader. With [`Local::Skip`] the
    /// local features are left out (`local` is `None`). The test
    /// `records_read_back_exactly_from_the_store` checks both readers agree
    /// on every field.
    pub fn from_stored_bytes(&self, bytes: &[u8], local: Local) -> Option<RefRecord> {
        let mut r = bytes;
        let count = read_vint(&mut r)?;
        let mut values: Vec<Stored<'_>> = Vec::new();
        for _ in 0..count {
            let field = u32::from_le_bytes(take(&mut r, 4)?.try_into().ok()?) as usize;
            let code = take(&mut r, 1)?[0];
            let value = match code {
                TEXT_CODE => {
                    let len = usize::try_from(read_vint(&mut r)?).ok()?;
                    Stored::Text(std::str::from_utf8(take(&mut r, len)?).ok()?)
                }
                U64_CODE => Stored::Num(u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?)),
                BYTES_CODE => {
                    let len = usize::try_from(read_vint(&mut r)?).ok()?;
                    let bytes = take(&mut r, len)?;
                    match local {
                        Local::Keep => Stored::Bytes(bytes),
                        Local::Skip => Stored::Missing,
                    }
                }
                _ => return None,
            };
            if field >= 64 {
                return None;
            }
            if values.len() <= field {
                values.resize(field + 1, Stored::Missing);
            }
            // The first value of a field, as `get_first` reads it.
            if matches!(values[field], Stored::Missing) {
                values[field] = value;
            }
        }
        if !r.is_empty() {
            return None;
        }
        let value = |f: Field| {
            values
                .get(f.field_id() as usize)
                .copied()
                .unwrap_or(Stored::Missing)
        };
        Some(self.assemble(value))
    }

    fn assemble<'a>(&self, value: impl Fn(Field) -> Stored<'a>) -> RefRecord {
        let text = |f: Field| match value(f) {
            Stored::Text(t) => t.to_string(),
            _ => String::new(),
        };
        let num = |f: Field| match value(f) {
            Stored::Num(n) => n,
            _ => 0,
        };
        let extra: BTreeMap<String, String> =
            serde_json::from_str(&text(self.extra)).unwrap_or_default();
        RefRecord {
            path: text(self.path),
            sha256: text(self.sha256),
            size: num(self.size),
            mtime_ns: num(self.mtime),
            meta: RefMeta {
                series: text(self.series),
                episode: text(self.episode),
                timecode: text(self.timecode),
                extra,
            },
            fingerprint: Fingerprint {
                phash: Some(num(self.phash)),
                dhash: Some(num(self.dhash)),
                ahash: Some(num(self.ahash)),
                pdq: Some(PdqHash(self.pdq.map(num))),
                pdq_quality: Some(num(self.quality).min(100) as u8),
                width: num(self.width) as u32,
                height: num(self.height) as u32,
            },
            local: match value(self.local) {
                Stored::Bytes(b) => Some(b.to_vec()),
                _ => None,
            },
        }
    }
}

/// Whether [`Fields::from_stored_bytes`] copies the local features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Local {
    /// Read them (`RefRecord::local` as stored).
    Keep,
    /// Leave them (`RefRecord::local` is `None`): for reading every record
    /// of a large index.
    Skip,
}

/// One stored value, borrowed from a document or its bytes.
#[derive(Clone, Copy, Debug)]
enum Stored<'a> {
    Missing,
    Text(&'a str),
    Num(u64),
    Bytes(&'a [u8]),
}

/// tantivy's type codes of stored values (`schema::document::type_codes`).
const TEXT_CODE: u8 = 0;
const U64_CODE: u8 = 1;
const BYTES_CODE: u8 = 4;

fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if r.len() < n {
        return None;
    }
    let (head, tail) = r.split_at(n);
    *r = tail;
    Some(head)
}

/// tantivy's VInt: 7 bits a byte, least significant first, the last byte
/// marked by its high bit.
fn read_vint(r: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = take(r, 1)?[0];
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod word_tests {
    use super::*;

    #[test]
    fn orientation_survives_the_term_frequency() {
        for bin in 0..ORIENTATION_BINS {
            assert_eq!(frequency_bin(word_frequency(bin)), Some(bin));
        }
        assert_eq!(frequency_bin(0), None);
        assert_eq!(frequency_bin(u32::from(ORIENTATION_BINS) + 1), None);
    }
}
