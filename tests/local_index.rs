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
