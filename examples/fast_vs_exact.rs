//! How far fast-mode hashes are from `--exact` ones on 1080p JPEGs: each
//! still under a folder is upscaled to 1920x1080 (Lanczos-3), encoded as
//! JPEG quality 90 in memory (nothing is written), then hashed after a full
//! decode and after a reduced-scale decode for each `min_side` asked for.
//!
//! `cargo run --release --example fast_vs_exact -- ../shared/devbench/refs 128 256`
//!
//! Prints, per `min_side`: the share of identical phash / dhash / ahash and
//! their largest distance, PDQ's median, 95th and 99th percentile and
//! largest distance, and the largest PDQ quality difference. Set `PLAIN=1`
//! to hash the reduced image as indexing does (PDQ not filtered as at full
//! size).

use std::path::PathBuf;

use frametrace::decode::{DecodeMode, decode_bytes};
use frametrace::discover::find_images;
use frametrace::fingerprint::{Algorithms, Fingerprint, Fingerprinter};
use frametrace::synth::jpeg_bytes;
use image::imageops::FilterType;
use rayon::prelude::*;

/// What `frametrace hash` prints; with `PLAIN=1` set, PDQ runs on the
/// reduced image as it is (what indexing does).
fn hashes(fp: &mut Fingerprinter, bytes: &[u8], mode: DecodeMode) -> Fingerprint {
    let d = decode_bytes(bytes, mode).expect("decode");
    if std::env::var_os("PLAIN").is_some() {
        fp.fingerprint(&d.image, d.width, d.height, Algorithms::ALL)
    } else {
        fp.fingerprint_reduced(&d.image, d.width, d.height, Algorithms::ALL)
    }
}

/// The value at fraction `q` of the sorted `values` (nearest rank).
fn percentile(values: &[u32], q: f64) -> u32 {
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().expect("usage: fast_vs_exact DIR MIN_SIDE..."));
    let sides: Vec<u32> = args.map(|a| a.parse().expect("min_side")).collect();
    let (files, problems) = find_images(&[root]);
    assert!(problems.is_empty(), "{problems:?}");
    // Per still: the exact fingerprint, then one per min_side.
    let rows: Vec<(Fingerprint, Vec<Fingerprint>)> = files
        .par_iter()
        .map_init(Fingerprinter::new, |fp, path| {
            let still = image::open(path).expect("open still").to_rgb8();
            let big = image::imageops::resize(&still, 1920, 1080, FilterType::Lanczos3);
            let bytes = jpeg_bytes(&big, 90);
            let exact = hashes(fp, &bytes, DecodeMode::Exact);
            let fast = sides
                .iter()
                .map(|&min_side| hashes(fp, &bytes, DecodeMode::Fast { min_side }))
                .collect();
            (exact, fast)
        })
        .collect();
    println!("{} stills upscaled to 1920x1080, JPEG q90", rows.len());
    for (i, min_side) in sides.iter().enumerate() {
        let pairs = rows.iter().map(|(e, f)| (e, &f[i]));
        let bits64 = |pick: fn(&Fingerprint) -> Option<u64>| -> (f64, u32) {
            let d: Vec<u32> = pairs
                .clone()
                .map(|(e, f)| (pick(e).unwrap_or(0) ^ pick(f).unwrap_or(0)).count_ones())
                .collect();
            let same = d.iter().filter(|&&v| v == 0).count();
            let max = d.iter().copied().max().unwrap_or(0);
            (100.0 * same as f64 / d.len().max(1) as f64, max)
        };
        let (ps, pm) = bits64(|f| f.phash);
        let (ds, dm) = bits64(|f| f.dhash);
        let (as_, am) = bits64(|f| f.ahash);
        let mut pdq: Vec<u32> = pairs
            .clone()
            .map(|(e, f)| match (e.pdq, f.pdq) {
                (Some(a), Some(b)) => a.hamming(&b),
                _ => 256,
            })
            .collect();
        pdq.sort_unstable();
        let quality = pairs
            .map(|(e, f)| {
                e.pdq_quality
                    .unwrap_or(0)
                    .abs_diff(f.pdq_quality.unwrap_or(0))
            })
            .max()
            .unwrap_or(0);
        println!(
            "min_side {min_side}: phash identical {ps:.1}% (max {pm}), \
             dhash {ds:.1}% (max {dm}), ahash {as_:.1}% (max {am}); PDQ median {} p95 {} p99 {} \
             max {}; quality within {quality}",
            percentile(&pdq, 0.5),
            percentile(&pdq, 0.95),
            percentile(&pdq, 0.99),
            pdq.last().copied().unwrap_or(0),
        );
    }
}
