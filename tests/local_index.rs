//! The local stage's retrieval through the real index: visual words
//! stored per still, shortlist scores independent of segment layout.

mod common;

use frametrace::fingerprint::pillow;
use frametrace::index::catalog::Catalog;
use frametrace::index::{self, RefreshOptions};
use frametrace::local::reference::OrientedWord;
use frametrace::local::{FeatureExtractor, LocalFeatures, QueryFeatures, reference};
use frametrace::progress::Silent;
use image::DynamicImage;
use tempfile::TempDir;

use common::still;

fn refresh(dir: &TempDir, name: &str) -> usize {
    refresh_merging(dir, name, index::MERGE_AT_SEGMENTS)
}

/// A refresh that merges segments only once there are `merge_at` of a
/// size (never when 0), to test multi-segment indexes.
fn refresh_merging(dir: &TempDir, name: &str, merge_at: usize) -> usize {
    let mut opts = RefreshOptions::new(dir.path().join(name), vec![dir.path().join("refs")]);
    opts.merge_at_segments = merge_at;
    index::refresh(&opts, &Silent, &mut |p| panic!("{p:?}"))
        .unwrap()
        .added
}

fn segments(dir: &TempDir, name: &str) -> usize {
    tantivy::Index::open_in_dir(dir.path().join(name))
        .unwrap()
        .searchable_segment_ids()
        .unwrap()
        .len()
}

fn write_series(dir: &TempDir, name: &str, seed: u64) {
    let ep = dir.path().join("refs").join(name).join("ep01");
    std::fs::create_dir_all(&ep).unwrap();
    for t in 0..4 {
        still(seed, t * 9, 480, 270)
            .save(ep.join(format!("{t}.png")))
            .unwrap();
    }
}

#[test]
fn shortlist_finds_the_still_and_ignores_segment_layout() {
    let dir = TempDir::new().unwrap();
    // "split" is refreshed as series arrive, never merged (a segment per
    // refresh at least), "whole" once at the end.
    write_series(&dir, "alpha", 5);
    assert_eq!(refresh_merging(&dir, "split", 0), 4);
    write_series(&dir, "beta", 6);
    write_series(&dir, "gamma", 7);
    assert_eq!(refresh_merging(&dir, "split", 0), 8);
    assert_eq!(refresh(&dir, "whole"), 12);
    // Segments hold different stills in the two (per-segment document
    // frequencies would change the scores).
    let split = segments(&dir, "split");
    assert!(split >= 2, "{split} segments");
    let (split, whole) = (
        Catalog::open(&dir.path().join("split")).unwrap(),
        Catalog::open(&dir.path().join("whole")).unwrap(),
    );

    let img = still(6, 18, 480, 270);
    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(img));
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let words = LocalFeatures::of_reference(&mut fx, &grey).oriented_words();
    assert!(words.len() > 200, "{} words", words.len());
    let none: Vec<OrientedWord> = Vec::new();

    let top = |c: &Catalog| {
        let list = c.similar([&words, &none], 5).unwrap();
        list.iter()
            .map(|s| (c.record(s.id).unwrap().path, s.scores[0]))
            .collect::<Vec<_>>()
    };
    let (a, b) = (top(&split), top(&whole));
    assert!(a[0].0.ends_with("beta/ep01/2.png"), "{a:?}");
    assert!(a[0].1 > 1.5 * a[1].1, "the still itself stands out: {a:?}");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert!((x.1 - y.1).abs() < 1e-3 * y.1, "{a:?} vs {b:?}");
    }
}

#[test]
fn deep_ranks_continue_the_shortlist_and_series_are_read_per_segment() {
    let dir = TempDir::new().unwrap();
    write_series(&dir, "alpha", 5);
    refresh_merging(&dir, "idx", 0);
    write_series(&dir, "beta", 6);
    write_series(&dir, "gamma", 7);
    refresh_merging(&dir, "idx", 0);
    assert!(segments(&dir, "idx") >= 2);
    let c = Catalog::open(&dir.path().join("idx")).unwrap();
    let img = still(6, 18, 480, 270);
    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(img));
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let words = LocalFeatures::of_reference(&mut fx, &grey).oriented_words();
    let none: Vec<OrientedWord> = Vec::new();

    let (short, deep) = c.similar_deep([&words, &none], 3, 12).unwrap();
    assert_eq!(short, c.similar([&words, &none], 3).unwrap());
    assert_eq!(short.len(), 3);
    assert!(!deep.is_empty());
    // The deep list continues the ranking: nothing in it outranks the
    // shortlist, it is sorted, and no still is in both.
    let last = short.last().unwrap().scores[0];
    assert!(deep.iter().all(|s| s.scores[0] <= last), "{deep:?}");
    assert!(deep.windows(2).all(|w| w[0].scores[0] >= w[1].scores[0]));
    assert!(deep.iter().all(|d| short.iter().all(|s| s.id != d.id)));

    // Series membership from the fast field agrees with the stored
    // records, in both segments.
    let ids: Vec<u32> = (0..c.len() as u32).collect();
    let beta = c.in_series(&ids, "beta").unwrap();
    for (&id, &is) in ids.iter().zip(&beta) {
        assert_eq!(is, c.record(id).unwrap().meta.series == "beta", "id {id}");
    }
    assert_eq!(beta.iter().filter(|b| **b).count(), 4);
    assert!(c.in_series(&ids, "delta").unwrap().iter().all(|b| !b));
}

#[test]
fn retrieval_votes_on_one_rotation() {
    let dir = TempDir::new().unwrap();
    write_series(&dir, "alpha", 5);
    write_series(&dir, "beta", 6);
    write_series(&dir, "gamma", 7);
    refresh(&dir, "idx");
    let c = Catalog::open(&dir.path().join("idx")).unwrap();
    // A still turned a quarter: every shared word agrees on one rotation.
    let img = image::imageops::rotate90(&still(6, 18, 480, 270));
    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(img));
    let mut fx = FeatureExtractor::new(reference::query_params());
    let q = QueryFeatures::of_query(&mut fx, &grey);
    let none: Vec<OrientedWord> = Vec::new();
    let turned = c.similar([&q.words, &none], 3).unwrap();
    let path = |id: u32| c.record(id).unwrap().path;
    assert!(
        path(turned[0].id).ends_with("beta/ep01/2.png"),
        "{turned:?}"
    );
    assert!(
        turned[0].scores[0] > 1.2 * turned[1].scores[0],
        "{turned:?}"
    );
    // The same words at scattered orientations split their votes over the
    // bins: the still's score falls to a fraction.
    let scattered: Vec<OrientedWord> = q
        .words
        .iter()
        .enumerate()
        .map(|(i, &(w, _))| (w, (i * 7 % 16) as u8))
        .collect();
    let list = c.similar([&scattered, &none], 12).unwrap();
    let same = list.iter().find(|s| s.id == turned[0].id).unwrap();
    assert!(
        same.scores[0] < 0.5 * turned[0].scores[0],
        "{} scattered against {} aligned",
        same.scores[0],
        turned[0].scores[0]
    );
}

#[test]
fn refreshes_merge_their_segments() {
    let dir = TempDir::new().unwrap();
    write_series(&dir, "alpha", 5);
    refresh(&dir, "idx");
    write_series(&dir, "beta", 6);
    refresh(&dir, "idx");
    // Two refreshes (and two indexing threads) leave one segment, so a
    // query looks each word up once.
    assert_eq!(segments(&dir, "idx"), 1);
    let c = Catalog::open(&dir.path().join("idx")).unwrap();
    assert_eq!(c.len(), 8);
    let ids: Vec<u32> = (0..8).collect();
    let alpha = c.in_series(&ids, "alpha").unwrap();
    assert_eq!(alpha.iter().filter(|a| **a).count(), 4);
}

#[test]
fn records_read_back_exactly_from_the_store() {
    use std::collections::BTreeMap;

    use frametrace::discover::RefMeta;
    use frametrace::fingerprint::Fingerprint;
    use frametrace::fingerprint::pdq::PdqHash;
    use frametrace::index::schema::{self, Local, RefRecord};
    use tantivy::TantivyDocument;

    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(still(3, 4, 480, 270)));
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let local = LocalFeatures::of_reference(&mut fx, &grey).to_bytes();
    assert!(local.len() > 10_000, "{} bytes", local.len());
    let record = |i: u64| RefRecord {
        path: format!("/refs/진격/ep{i:02}/컷_{i}.png"),
        sha256: format!("{i:064x}"),
        size: 1 << (i % 40),
        mtime_ns: u64::MAX - i,
        meta: RefMeta {
            series: if i.is_multiple_of(2) {
                "진격의 거인"
            } else {
                "Octonauts"
            }
            .into(),
            episode: format!("ep{i:02}"),
            timecode: if i.is_multiple_of(3) {
                String::new()
            } else {
                format!("00:0{i}:12.5")
            },
            extra: BTreeMap::from([("note".to_string(), format!("修正 {i}"))]),
        },
        fingerprint: Fingerprint {
            phash: Some(u64::MAX / (i + 1)),
            dhash: Some(i),
            ahash: Some(0),
            pdq: Some(PdqHash([i, u64::MAX, 1 << 63, 127 + i])),
            pdq_quality: Some((i * 10 % 101) as u8),
            width: 1920,
            height: 1080 - i as u32,
        },
        // Records imported without pixels have no local features.
        local: (i % 4 != 1).then(|| local.clone()),
    };
    let records: Vec<RefRecord> = (0..12).map(record).collect();
    let dir = TempDir::new().unwrap();
    let idx = dir.path().join("idx");
    index::bulk::import(&idx, records.clone(), 5).unwrap();

    // The catalog's record is the one written, field for field.
    let c = Catalog::open(&idx).unwrap();
    let mut read: Vec<RefRecord> = (0..c.len() as u32)
        .map(|id| c.record(id).unwrap())
        .collect();
    read.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    assert_eq!(read, records);

    // The direct reader of stored bytes understands every document, and
    // agrees with tantivy's (catalog reads would otherwise silently take
    // the slow path, or differ from it).
    let (_, fields) = schema::schema();
    let searcher = tantivy::Index::open_in_dir(&idx)
        .unwrap()
        .reader()
        .unwrap()
        .searcher();
    let mut docs = 0;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let store = segment.get_store_reader(1).unwrap();
        for doc in segment.doc_ids_alive() {
            let bytes = store.get_document_bytes(doc).unwrap();
            let direct = fields.from_stored_bytes(&bytes, Local::Keep);
            let d: TantivyDocument = searcher
                .doc(tantivy::DocAddress::new(ord as u32, doc))
                .unwrap();
            assert_eq!(direct, Some(fields.from_doc(&d)));
            // A truncated document is refused, never misread.
            assert_eq!(
                fields.from_stored_bytes(&bytes[..bytes.len() - 1], Local::Keep),
                None
            );
            // Skipping the local features changes nothing else.
            let light = fields.from_stored_bytes(&bytes, Local::Skip).unwrap();
            assert_eq!(light.local, None);
            assert_eq!(
                RefRecord {
                    local: direct.as_ref().unwrap().local.clone(),
                    ..light
                },
                direct.unwrap()
            );
            docs += 1;
        }
    }
    assert_eq!(docs, 12);
}

#[test]
fn rewritten_records_keep_their_local_features() {
    let dir = TempDir::new().unwrap();
    write_series(&dir, "alpha", 5);
    assert_eq!(refresh(&dir, "idx"), 4);
    let features = |dir: &TempDir| {
        let c = Catalog::open(&dir.path().join("idx")).unwrap();
        let mut all: Vec<(String, String, Vec<u8>)> = (0..c.len() as u32)
            .map(|id| {
                let r = c.record(id).unwrap();
                (r.path, r.meta.timecode, r.local.expect("local features"))
            })
            .collect();
        all.sort();
        all
    };
    let before = features(&dir);

    // New metadata for every still (rewritten without reading the file),
    // and one still touched (same bytes, new mtime: read, not decoded).
    let refs = dir.path().join("refs");
    let rows: String = (0..4)
        .map(|t| format!("alpha/ep01/{t}.png,alpha,ep01,00:00:0{t}\n"))
        .collect();
    std::fs::write(
        refs.join("manifest.csv"),
        format!("path,series,episode,timecode\n{rows}"),
    )
    .unwrap();
    let touched = refs.join("alpha/ep01/1.png");
    let bytes = std::fs::read(&touched).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&touched, bytes).unwrap();
    let opts = RefreshOptions::new(dir.path().join("idx"), vec![refs]);
    let stats = index::refresh(&opts, &Silent, &mut |p| panic!("{p:?}")).unwrap();
    assert_eq!((stats.added, stats.updated, stats.removed), (0, 4, 0));

    let after = features(&dir);
    assert_eq!(after.len(), 4);
    for (t, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, format!("00:00:0{t}"));
        assert_eq!(a.2, b.2, "{}: local features lost or changed", a.0);
    }
}
