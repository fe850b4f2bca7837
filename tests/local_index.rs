//! The local stage's retrieval through the real index: visual words
//! stored per still, shortlist scores independent of segment layout.

mod common;

use frametrace::fingerprint::pillow;
use frametrace::index::catalog::Catalog;
use frametrace::index::{self, RefreshOptions};
use frametrace::local::{FeatureExtractor, LocalFeatures, reference};
use frametrace::progress::Silent;
use image::DynamicImage;
use tempfile::TempDir;

use common::still;

fn refresh(dir: &TempDir, name: &str) -> usize {
    let opts = RefreshOptions::new(dir.path().join(name), vec![dir.path().join("refs")]);
    index::refresh(&opts, &Silent, &mut |p| panic!("{p:?}"))
        .unwrap()
        .added
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
    // "split" is refreshed as series arrive (a segment per refresh at
    // least), "whole" once at the end.
    write_series(&dir, "alpha", 5);
    assert_eq!(refresh(&dir, "split"), 4);
    write_series(&dir, "beta", 6);
    write_series(&dir, "gamma", 7);
    assert_eq!(refresh(&dir, "split"), 8);
    assert_eq!(refresh(&dir, "whole"), 12);
    let segments = |name: &str| {
        tantivy::Index::open_in_dir(dir.path().join(name))
            .unwrap()
            .searchable_segment_ids()
            .unwrap()
            .len()
    };
    // Segments hold different stills in the two (per-segment document
    // frequencies would change the scores).
    assert!(segments("split") >= 2, "{} segments", segments("split"));
    let (split, whole) = (
        Catalog::open(&dir.path().join("split")).unwrap(),
        Catalog::open(&dir.path().join("whole")).unwrap(),
    );

    let img = still(6, 18, 480, 270);
    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(img));
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let words = LocalFeatures::of_reference(&mut fx, &grey).words();
    assert!(words.len() > 200, "{} words", words.len());
    let none: Vec<u32> = Vec::new();

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
    refresh(&dir, "idx");
    write_series(&dir, "beta", 6);
    write_series(&dir, "gamma", 7);
    refresh(&dir, "idx");
    let c = Catalog::open(&dir.path().join("idx")).unwrap();
    let img = still(6, 18, 480, 270);
    let grey = pillow::to_luma8(&DynamicImage::ImageRgb8(img));
    let mut fx = FeatureExtractor::new(reference::reference_params());
    let words = LocalFeatures::of_reference(&mut fx, &grey).words();
    let none: Vec<u32> = Vec::new();

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
